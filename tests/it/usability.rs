//! What a new user meets first: config errors in the config's own words, excludes
//! that add to the defaults, `asoguard config` without a flag, counts that agree with their
//! nouns, the `--statistics` legend and `--stdin-filename` without `-`.
//!
//! Every test runs the real binary in a temporary directory holding `.git`, so config discovery
//! stops there.

use serde_json::Value;

use crate::support::{RG_FIXED, RG_UNPROTECTED, Sandbox, json, run};

// ---------------------------------------------------------------------------------------------
// Config errors
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bad_choice_in_the_config_names_the_choices_and_the_nearest() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_FIXED);
    // The README shows this error.
    sb.write(
        ".asoguard.yaml",
        "clusters:\n  dr:\n    paths: [\"clusters/dr/**\"]\n    role: Passive\n",
    );
    let (code, stdout, stderr) = sb.run(&["check", "."]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains(
            ".asoguard.yaml:4:11: `clusters.dr.role`: `Passive` is not a role: use `active` or `passive` (hint: did you mean `passive`?)"
        ),
        "{stderr}"
    );
    sb.write(".asoguard.yaml", "rules:\n  ASO003:\n    severity: warn\n");
    let (code, _, stderr) = sb.run(&["check", "."]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            ":3:15: `rules.ASO003.severity`: `warn` is not a severity: use `error`, `warning` or `off` (hint: did you mean `warning`?)"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("anyOf") && !stderr.contains("oneOf"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// exclude and extend-exclude
// ---------------------------------------------------------------------------------------------

/// The files a run reported findings in, sorted.
fn reported_files(sb: &Sandbox) -> Vec<String> {
    let (_, stdout, stderr) = sb.run(&["check", "--format", "concise", "--quiet", "."]);
    assert!(!stderr.contains("error"), "{stderr}");
    let mut files: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.split(':').next())
        .map(str::to_string)
        .collect();
    files.sort();
    files.dedup();
    files
}

#[test]
fn extend_exclude_adds_to_the_defaults_where_exclude_replaces_them() {
    let sb = Sandbox::new();
    for path in [
        "clusters/prod/rg.yaml",
        "vendor/chart/rg.yaml",
        ".github/rg.yaml",
        "web/node_modules/pkg/rg.yaml",
    ] {
        sb.write(path, RG_UNPROTECTED);
    }
    // No config: the defaults leave out hidden paths and node_modules.
    assert_eq!(
        reported_files(&sb),
        ["clusters/prod/rg.yaml", "vendor/chart/rg.yaml"]
    );
    // extend-exclude adds vendor to them.
    sb.write(".asoguard.yaml", "extend-exclude: [\"vendor/**\"]\n");
    assert_eq!(reported_files(&sb), ["clusters/prod/rg.yaml"]);
    // exclude replaces them: hidden paths and node_modules are linted again.
    sb.write(".asoguard.yaml", "exclude: [\"vendor/**\"]\n");
    assert_eq!(
        reported_files(&sb),
        [
            ".github/rg.yaml",
            "clusters/prod/rg.yaml",
            "web/node_modules/pkg/rg.yaml"
        ]
    );
    // A file named on the command line is excluded only with --force-exclude (pre-commit).
    sb.write(".asoguard.yaml", "extend-exclude: [\"vendor/**\"]\n");
    let (code, _, _) = sb.run(&["check", "vendor/chart/rg.yaml"]);
    assert_eq!(code, 1);
    let (code, stdout, stderr) = sb.run(&["check", "--force-exclude", "vendor/chart/rg.yaml"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("ASO003"), "{stdout}");
}

// ---------------------------------------------------------------------------------------------
// asoguard config
// ---------------------------------------------------------------------------------------------

const CONFIG: &str = "\
clusters:
  prod: {paths: [\"clusters/prod/**\"], role: active}
  dr: {paths: [\"clusters/dr/**\"], role: passive}
rules:
  ASO003: {severity: warning}
  unprotected-children: {severity: error}
extend-exclude: [\"vendor/**\"]
critical-kinds:
  add: [network.azure.com/PublicIPAddress]
  remove: [network.azure.com/VirtualNetwork]
crds: [crds/]
";

#[test]
fn config_without_a_flag_prints_the_effective_configuration() {
    let sb = Sandbox::new();
    sb.write(".asoguard.yaml", CONFIG);
    sb.write("clusters/prod/rg.yaml", RG_FIXED);
    let (code, stdout, stderr) = sb.run(&["config"]);
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "Config file:    .asoguard.yaml\n",
        "Root:           . (the config file's directory)\n",
        "  dr    passive  clusters/dr/**\n",
        "  prod  active   clusters/prod/**\n",
        "Rules (19 of 19 run):\n",
        "  ASO001  skip-in-active             error\n",
        "  ASO003  missing-detach-on-delete   warning (set by the config; its default is error)\n",
        "  ASO010  unprotected-children       error (opt-in, turned on by the config; its default severity is warning)\n",
        "Exclude:        .*, node_modules (the defaults); vendor/** (`extend-exclude`)\n",
        "  added: network.azure.com/PublicIPAddress\n",
        "  removed: network.azure.com/VirtualNetwork\n",
        "CRDs:           crds\n",
        "Fail level:     warning",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }

    // From a subdirectory, or naming a path, the same config is found, as `check` finds it.
    let (code, from_below, _) = run(sb
        .cmd()
        .arg("config")
        .current_dir(sb.path().join("clusters")));
    assert_eq!(code, 0);
    let file = sb.path().join(".asoguard.yaml");
    assert!(
        from_below.contains(&format!("Config file:    {}\n", file.display())),
        "{from_below}"
    );
    let (_, named, _) = sb.run(&["config", "clusters/prod/rg.yaml"]);
    assert_eq!(named, stdout);
}

#[test]
fn config_without_a_config_file_shows_the_defaults_and_the_opt_in_rules() {
    let sb = Sandbox::new();
    let (code, stdout, _) = sb.run(&["config"]);
    assert_eq!(code, 0);
    for line in [
        "Config file:    none found",
        "Root:           . (the repository holding `.git`)\n",
        "Clusters:       none: every path is active\n",
        "Rules (18 of 19 run):\n",
        "  ASO010  unprotected-children       off (opt-in: add it to `select`, or give it a severity under `rules`)\n",
        "Exclude:        .*, node_modules (the defaults)\n",
        "Critical kinds: ",
        "(the defaults; `--format json` lists them)\n",
        "Max file size:  16777216 bytes (16 MiB)\n",
        "CRDs:           none",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}

#[test]
fn config_format_json_and_schema() {
    let sb = Sandbox::new();
    sb.write(".asoguard.yaml", CONFIG);
    let (code, stdout, _) = sb.run(&["config", "--format", "json"]);
    assert_eq!(code, 0);
    let shown = json(&stdout);
    let root = sb.path().to_str().expect("UTF-8");
    assert_eq!(shown["root"], root);
    assert_eq!(shown["config_file"], format!("{root}/.asoguard.yaml"));
    assert_eq!(shown["clusters"][0]["name"], "dr");
    assert_eq!(shown["clusters"][0]["role"], "passive");
    assert_eq!(shown["clusters"][0]["paths"][0], "clusters/dr/**");
    let aso010 = shown["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["code"] == "ASO010")
        .expect("ASO010 is listed");
    assert_eq!(aso010["severity"], "error");
    assert_eq!(aso010["opt_in"], true);
    assert_eq!(
        shown["exclude"]["globs"],
        serde_json::json!([".*", "node_modules", "vendor/**"])
    );
    let kinds = shown["critical_kinds"]["kinds"].as_array().expect("kinds");
    assert!(kinds.contains(&Value::from("network.azure.com/PublicIPAddress")));
    assert!(!kinds.contains(&Value::from("network.azure.com/VirtualNetwork")));
    assert!(kinds.contains(&Value::from("resources.azure.com/ResourceGroup")));
    assert_eq!(shown["crds"][0], format!("{root}/crds"));

    // --schema still prints the schema.
    let (code, stdout, _) = sb.run(&["config", "--schema"]);
    assert_eq!(code, 0);
    assert_eq!(
        json(&stdout)["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[test]
fn config_reports_a_bad_config_and_a_missing_path() {
    let sb = Sandbox::new();
    sb.write(".asoguard.yaml", "fail-level: fatal\n");
    let (code, stdout, stderr) = sb.run(&["config"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains("`fatal` is not a fail level"), "{stderr}");
    let (code, _, stderr) = sb.run(&["config", "--config", "other.yaml"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = sb.run(&["config", "no/such/dir"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no/such/dir"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Counts agree with their nouns and verbs
// ---------------------------------------------------------------------------------------------

const ROUTE_TABLE: &str =
    "apiVersion: network.azure.com/v1api20201101\nkind: RouteTable\nmetadata:\n  name: NAME\n";

/// `n` route tables (non-critical ASO resources without a policy: ASO's `manage`).
fn route_tables(n: usize) -> String {
    (1..=n)
        .map(|i| ROUTE_TABLE.replace("NAME", &format!("rt{i}")))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The concise report of `asoguard check .`.
fn concise(sb: &Sandbox) -> String {
    let (_, stdout, stderr) = sb.run(&["check", "--format", "concise", "."]);
    assert!(!stderr.contains("error"), "{stderr}");
    stdout
}

#[test]
fn grouped_findings_count_their_resources_in_singular_and_plural() {
    let sb = Sandbox::new();
    let kustomization = |annotation: &str| {
        format!(
            "resources:\n  - rt.yaml\ncommonAnnotations:\n  serviceoperator.azure.com/reconcile-policy: {annotation}\n"
        )
    };
    sb.write("one/rt.yaml", route_tables(1));
    sb.write("one/kustomization.yaml", kustomization("skip"));
    sb.write("two/rt.yaml", route_tables(2));
    sb.write("two/kustomization.yaml", kustomization("skip"));
    sb.write("three/rt.yaml", route_tables(3));
    sb.write("three/kustomization.yaml", kustomization("skip"));
    let report = concise(&sb);
    for expected in [
        "on RouteTable `rt1` in an active cluster (as applied by one/kustomization.yaml): ASO never creates, updates or deletes it\n",
        "on RouteTable `rt1` and 1 more ASO resource in an active cluster (as applied by two/kustomization.yaml): ASO never creates, updates or deletes them\n",
        "on RouteTable `rt1` and 2 more ASO resources in an active cluster (as applied by three/kustomization.yaml): ASO never creates, updates or deletes them\n",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in:\n{report}"
        );
    }

    // The same layouts, passive, with `manage`: ASO005 counts the same way.
    sb.write(
        ".asoguard.yaml",
        "clusters:\n  one: {paths: [\"one/**\"], role: passive}\n  two: {paths: [\"two/**\"], role: passive}\n  three: {paths: [\"three/**\"], role: passive}\n",
    );
    for dir in ["one", "two", "three"] {
        sb.write(
            &format!("{dir}/kustomization.yaml"),
            kustomization("manage"),
        );
    }
    let report = concise(&sb);
    for expected in [
        "RouteTable `rt1` has reconcile-policy `manage` in passive cluster `one` (as applied by one/kustomization.yaml): ASO there would reconcile the same Azure resource as the active cluster\n",
        "RouteTable `rt1` and 1 more ASO resource have reconcile-policy `manage` in passive cluster `two` (as applied by two/kustomization.yaml): ASO there would reconcile the same Azure resources as the active cluster\n",
        "RouteTable `rt1` and 2 more ASO resources have reconcile-policy `manage` in passive cluster `three`",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in:\n{report}"
        );
    }
    assert!(!report.contains("(s)"), "{report}");
}

#[test]
fn a_forced_recreate_counts_what_it_would_delete() {
    let sb = Sandbox::new();
    sb.write(
        "flux.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  path: ./apps\n  force: true\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: repo\n",
    );
    sb.write("apps/rt.yaml", route_tables(1));
    let report = concise(&sb);
    assert!(
        report.contains("(1 ASO resource with reconcile-policy `manage`): a recreate deletes the Azure resource\n"),
        "{report}"
    );
    sb.write("apps/rt.yaml", route_tables(2));
    let report = concise(&sb);
    assert!(
        report.contains("(2 ASO resources with reconcile-policy `manage`): a recreate deletes the Azure resources\n"),
        "{report}"
    );
}

#[test]
fn summaries_read_right_for_one_and_for_many() {
    let sb = Sandbox::new();
    sb.write("a/rg.yaml", RG_UNPROTECTED);
    let (_, stdout, _) = sb.run(&["check", "."]);
    assert!(
        stdout.contains("1 finding (1 fixable with --fix) in 1 file.\n"),
        "{stdout}"
    );
    let (_, _, stderr) = sb.run(&["check", "--diff", "."]);
    assert!(
        stderr.contains("1 fix would be applied in 1 file"),
        "{stderr}"
    );
    sb.write("b/rg.yaml", RG_UNPROTECTED);
    let (_, stdout, _) = sb.run(&["check", "."]);
    assert!(
        stdout.contains("2 findings (2 fixable with --fix) in 2 files.\n"),
        "{stdout}"
    );
    let (_, _, stderr) = sb.run(&["check", "--diff", "."]);
    assert!(
        stderr.contains("2 fixes would be applied in 2 files"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// --statistics explains its markers
// ---------------------------------------------------------------------------------------------

#[test]
fn statistics_explains_every_marker_it_prints() {
    let sb = Sandbox::new();
    // ASO003: fixable by --fix. ASO001 on a non-critical kind: only an unsafe fix. E001: none.
    sb.write("a/rg.yaml", RG_UNPROTECTED);
    sb.write(
        "b/rt.yaml",
        format!(
            "{}  annotations:\n    serviceoperator.azure.com/reconcile-policy: skip\n",
            route_tables(1)
        ),
    );
    sb.write("c/broken.yaml", "kind: Namespace\na: [\n");
    let (code, stdout, _) = sb.run(&["check", "--statistics", "."]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        "     1  E001    [ ] parse-error\n     1  ASO001  [ ] skip-in-active\n     1  ASO003  [*] missing-detach-on-delete\n[*] fixable with `--fix`\n[ ] none fixable with `--fix`\n3 findings (1 fixable with --fix, 1 more with --fix --unsafe-fixes) in 3 files.\n"
    );
    // With --unsafe-fixes the markers count the unsafe fixes too.
    let (_, stdout, _) = sb.run(&["check", "--statistics", "--unsafe-fixes", "."]);
    assert!(
        stdout.contains("     1  ASO001  [*] skip-in-active\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[*] fixable with `--fix --unsafe-fixes`\n[ ] none fixable with `--fix --unsafe-fixes`\n"),
        "{stdout}"
    );
    // A rule some of whose findings are fixable is `[-]`, and the legend says so: ASO004 fixes
    // a mistyped `detach-on-delete`, and cannot guess what `xyzzy` meant.
    let sb = Sandbox::new();
    for (name, value) in [("a", "Detach-On-Delete"), ("b", "xyzzy")] {
        sb.write(
            &format!("{name}.yaml"),
            format!(
                "{}  annotations:\n    serviceoperator.azure.com/reconcile-policy: {value}\n",
                route_tables(1).replace("rt1", name)
            ),
        );
    }
    let (_, stdout, _) = sb.run(&["check", "--statistics", "."]);
    assert_eq!(
        stdout,
        "     2  ASO004  [-] invalid-reconcile-policy\n[-] some fixable with `--fix`\n2 findings (1 fixable with --fix) in 2 files.\n"
    );
}

// ---------------------------------------------------------------------------------------------
// --stdin-filename without `-`
// ---------------------------------------------------------------------------------------------

#[test]
fn stdin_filename_without_paths_reads_standard_input() {
    let sb = Sandbox::new();
    // A file on disk that must not be what gets checked.
    sb.write("clusters/prod/other.yaml", RG_FIXED);
    let (code, stdout, stderr) = run(sb
        .cmd()
        .args(["check", "--stdin-filename", "clusters/prod/rg.yaml"])
        .write_stdin(RG_UNPROTECTED));
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("ASO003"), "{stdout}");
    assert!(stdout.contains("clusters/prod/rg.yaml:4:9"), "{stdout}");
    assert!(stdout.contains("in 1 file."), "{stdout}");

    // --fix writes the fixed text to standard output, as with `-`.
    let (code, stdout, _) = run(sb
        .cmd()
        .args([
            "check",
            "--fix",
            "--stdin-filename",
            "clusters/prod/rg.yaml",
        ])
        .write_stdin(RG_UNPROTECTED));
    assert_eq!(code, 0);
    assert_eq!(stdout, RG_FIXED);
}

#[test]
fn stdin_filename_with_paths_but_no_dash_is_a_usage_error() {
    let sb = Sandbox::new();
    sb.write("clusters/prod/rg.yaml", RG_UNPROTECTED);
    for paths in [&["."][..], &["clusters"], &["clusters/prod/rg.yaml", "."]] {
        let mut cmd = sb.cmd();
        cmd.arg("check")
            .args(paths)
            .args(["--stdin-filename", "clusters/prod/rg.yaml"])
            .write_stdin(RG_FIXED);
        let (code, stdout, stderr) = run(&mut cmd);
        assert_eq!(code, 2, "{paths:?}: {stdout}");
        assert!(
            stderr.contains("--stdin-filename clusters/prod/rg.yaml names standard input, but paths were given without `-`"),
            "{stderr}"
        );
        assert!(!stdout.contains("ASO003"), "nothing is checked: {stdout}");
    }
    // `-` among other paths is refused too.
    let (code, _, stderr) = run(sb
        .cmd()
        .args(["check", "-", "clusters"])
        .write_stdin(RG_FIXED));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`-` (standard input) cannot be checked with other paths"),
        "{stderr}"
    );
    // `-` with --stdin-filename is the documented form.
    let (code, stdout, _) = run(sb
        .cmd()
        .args(["check", "-", "--stdin-filename", "clusters/prod/rg.yaml"])
        .write_stdin(RG_FIXED));
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn migrate_counts_its_copies_in_singular_and_plural() {
    let sb = Sandbox::new();
    sb.write(
        ".asoguard.yaml",
        "clusters:\n  one: {paths: [\"clusters/one/**\"]}\n  two: {paths: [\"clusters/two/**\"]}\n",
    );
    sb.write("clusters/one/rg.yaml", RG_FIXED);
    sb.write(
        "clusters/two/rg.yaml",
        format!(
            "{RG_FIXED}---\n{}",
            RG_FIXED.replace("name: rg", "name: rg2")
        ),
    );
    let (_, stdout, stderr) = sb.run(&[
        "migrate",
        "--from",
        "clusters/one",
        "--to",
        "clusters/a",
        "--plan",
    ]);
    assert!(
        stdout.contains("clusters/a holds a copy of 1 ASO resource (written by this command)"),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains("(1 resource set by this command)"),
        "{stdout}"
    );
    let (_, stdout, stderr) = sb.run(&[
        "migrate",
        "--from",
        "clusters/two",
        "--to",
        "clusters/b",
        "--plan",
    ]);
    assert!(
        stdout.contains("clusters/b holds copies of 2 ASO resources (written by this command)"),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains("(2 resources set by this command)"),
        "{stdout}"
    );
}
