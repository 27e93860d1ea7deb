//! End-to-end behaviour of the `asoguard` command line: exit codes, report formats, fixes,
//! diffs, standard input, bad input, rule docs and the demo tree.
//!
//! Every test runs the real binary in a temporary directory that holds a `.git` directory, so
//! config discovery stops there and never picks up a `.asoguard.yaml` from outside the test.

use std::fs;

use predicates::prelude::*;
use serde_json::Value;

use crate::support::{RG_FIXED, RG_UNPROTECTED, Sandbox, copy_dir, json, repo_root, run};

/// A clean manifest: the critical ResourceGroup is protected.
const RG_CLEAN: &str = RG_FIXED;

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Exit codes
// ---------------------------------------------------------------------------------------------

#[test]
fn exit_0_on_a_clean_tree() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_CLEAN);
    let (code, stdout, _) = run(sb.cmd().args(["check", "."]));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("All checks passed"), "{stdout}");
}

#[test]
fn exit_1_with_findings() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, stdout, _) = run(sb.cmd().args(["check", "rg.yaml"]));
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("ASO003"), "{stdout}");
    assert!(stdout.contains("rg.yaml"), "{stdout}");
}

#[test]
fn exit_2_on_usage_errors() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);

    let (code, stdout, stderr) = run(sb.cmd().args(["check", "--no-such-flag", "rg.yaml"]));
    assert_eq!(code, 2, "unknown flag");
    assert!(stderr.contains("--no-such-flag"), "{stderr}");
    assert!(stdout.is_empty(), "nothing is checked: {stdout}");

    let (code, stdout, stderr) = run(sb.cmd().args(["check", "--format", "xml", "rg.yaml"]));
    assert_eq!(code, 2, "unknown --format value");
    assert!(stderr.contains("xml"), "{stderr}");
    assert!(stdout.is_empty(), "nothing is checked: {stdout}");

    let (code, _, _) = run(sb.cmd().args(["frobnicate"]));
    assert_eq!(code, 2, "unknown subcommand");

    let (code, _, _) = run(&mut sb.cmd());
    assert_eq!(code, 2, "no subcommand");

    // --help and --version are not errors.
    let (code, stdout, _) = run(sb.cmd().arg("--help"));
    assert_eq!(code, 0);
    assert!(stdout.contains("check"), "{stdout}");
    let (code, stdout, _) = run(sb.cmd().arg("--version"));
    assert_eq!(code, 0);
    assert!(stdout.contains(env!("CARGO_PKG_VERSION")), "{stdout}");
}

#[test]
fn exit_2_on_a_bad_config_naming_file_and_line() {
    let sb = Sandbox::new();
    sb.write(".asoguard.yaml", "clusters: {}\nbogus-key: 1\n");
    // A finding is present, but a broken config stops the run before any check.
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, stdout, stderr) = run(sb.cmd().args(["check", "."]));
    assert_eq!(code, 2, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains(".asoguard.yaml:2:"),
        "names the file and line 2: {stderr}"
    );
    assert!(stderr.contains("bogus-key"), "names the key: {stderr}");
    assert!(!stdout.contains("ASO003"), "no check ran: {stdout}");
}

#[test]
fn exit_2_on_a_missing_path_naming_it() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_CLEAN);
    let (code, _, stderr) = run(sb.cmd().args(["check", "no-such-dir/nope.yaml"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no-such-dir/nope.yaml"), "{stderr}");
    assert!(stderr.contains("no such file"), "{stderr}");

    // Alongside a clean file, the missing path still makes the run fail.
    let (code, _, stderr) = run(sb.cmd().args(["check", "rg.yaml", "nope.yaml"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nope.yaml"), "{stderr}");
}

/// A ResourceGroup whose name has no closing quote.
const BROKEN_RG: &str = "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: \"prod-rg\n";

#[test]
fn broken_yaml_is_a_finding_not_an_error() {
    let sb = Sandbox::new();
    sb.write("bad.yaml", BROKEN_RG);
    let (code, stdout, stderr) = run(sb.cmd().args(["check", "bad.yaml", "--format", "json"]));
    assert_eq!(code, 1, "stderr:\n{stderr}");
    let report = json(&stdout);
    assert_eq!(codes(&report), ["E001"]);
    assert_eq!(report["findings"][0]["path"], "bad.yaml");
    assert_eq!(report["findings"][0]["rule"], "parse-error");
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/// Two documents: a ResourceGroup without protection (ASO003 at `rg-one`), then a
/// StorageAccount with `skip` (ASO001) and `Replace=true` (ASO002).
const TWO_DOCS: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: rg-one
---
apiVersion: storage.azure.com/v1api20230101
kind: StorageAccount
metadata:
  name: store
  namespace: prod
  annotations:
    serviceoperator.azure.com/reconcile-policy: skip
    argocd.argoproj.io/sync-options: Replace=true
";

/// `TWO_DOCS` after `--fix`, by hand: the ResourceGroup gains the annotation, `skip` on the
/// (critical) StorageAccount becomes `detach-on-delete`, and the sync-options annotation,
/// left empty, goes.
const TWO_DOCS_FIXED: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: rg-one
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
---
apiVersion: storage.azure.com/v1api20230101
kind: StorageAccount
metadata:
  name: store
  namespace: prod
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
";

/// A Vault with the invalid value `detach`: ASO004 with no fix (no single close value).
const VAULT_DETACH: &str = "\
apiVersion: keyvault.azure.com/v1api20230701
kind: Vault
metadata:
  name: kv
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach
";

#[test]
fn json_report_shape_positions_order_and_summary() {
    let sb = Sandbox::new();
    sb.write("a.yaml", TWO_DOCS);
    sb.write("b.yaml", VAULT_DETACH);
    // Paths given in reverse order: the report is sorted all the same.
    let (code, stdout, stderr) = run(sb
        .cmd()
        .args(["check", "--format", "json", "b.yaml", "a.yaml"]));
    assert_eq!(code, 1, "stderr:\n{stderr}");
    let report = json(&stdout);

    assert_eq!(keys(&report), ["version", "tool", "findings", "summary"]);
    assert_eq!(report["version"], 1);
    assert_eq!(keys(&report["tool"]), ["name", "version"]);
    assert_eq!(report["tool"]["name"], "asoguard");
    assert_eq!(report["tool"]["version"], env!("CARGO_PKG_VERSION"));

    let findings = report["findings"].as_array().expect("array");
    for f in findings {
        assert_eq!(
            keys(f),
            [
                "code", "rule", "severity", "message", "path", "start", "end", "object", "fix"
            ],
            "{f}"
        );
        assert_eq!(keys(&f["start"]), ["line", "column"]);
        assert_eq!(keys(&f["end"]), ["line", "column"]);
        assert_eq!(f["severity"], "error");
        assert!(!f["message"].as_str().expect("message").is_empty());
    }

    // Hand-computed 1-based positions (columns in code points).
    //   line 4:  `  name: rg-one`                      -> `rg-one` at 9..15
    //   line 12: `    serviceoperator...-policy: skip` -> key..value at 5..53
    //   line 13: `    argocd.argoproj.io/sync-options: Replace=true` -> value at 38..50
    //   b.yaml line 6: `    serviceoperator...-policy: detach` -> value at 49..55
    let got: Vec<(String, String, [u64; 4])> = findings
        .iter()
        .map(|f| {
            let n = |v: &Value| v.as_u64().expect("number");
            (
                f["path"].as_str().expect("path").to_string(),
                f["code"].as_str().expect("code").to_string(),
                [
                    n(&f["start"]["line"]),
                    n(&f["start"]["column"]),
                    n(&f["end"]["line"]),
                    n(&f["end"]["column"]),
                ],
            )
        })
        .collect();
    let want: Vec<(String, String, [u64; 4])> = [
        ("a.yaml", "ASO003", [4, 9, 4, 15]),
        ("a.yaml", "ASO001", [12, 5, 12, 53]),
        ("a.yaml", "ASO002", [13, 38, 13, 50]),
        ("b.yaml", "ASO004", [6, 49, 6, 55]),
    ]
    .into_iter()
    .map(|(p, c, pos)| (p.to_string(), c.to_string(), pos))
    .collect();
    assert_eq!(got, want);

    // Sorted by path, line, column, code.
    let sort_keys: Vec<_> = got
        .iter()
        .map(|(p, c, pos)| (p.clone(), pos[0], pos[1], c.clone()))
        .collect();
    let mut sorted = sort_keys.clone();
    sorted.sort();
    assert_eq!(sort_keys, sorted);

    // The rule name and object of a finding.
    let aso001 = &findings[1];
    assert_eq!(aso001["rule"], "skip-in-active");
    assert_eq!(
        aso001["object"],
        serde_json::json!({
            "apiVersion": "storage.azure.com/v1api20230101",
            "kind": "StorageAccount",
            "namespace": "prod",
            "name": "store",
        })
    );
    assert_eq!(findings[0]["object"]["namespace"], Value::Null);

    // A fix: the ASO003 edit inserts the annotation at the start of line 5 (the `---`).
    let fix = &findings[0]["fix"];
    assert_eq!(keys(fix), ["applicability", "title", "edits"]);
    assert_eq!(fix["applicability"], "safe");
    assert_eq!(
        fix["edits"],
        serde_json::json!([{
            "start": {"line": 5, "column": 1},
            "end": {"line": 5, "column": 1},
            "content": "  annotations:\n    serviceoperator.azure.com/reconcile-policy: detach-on-delete\n",
        }])
    );
    // ASO001 on a critical kind replaces the value `skip` (12:49..12:53).
    assert_eq!(
        findings[1]["fix"]["edits"][0],
        serde_json::json!({
            "start": {"line": 12, "column": 49},
            "end": {"line": 12, "column": 53},
            "content": "detach-on-delete",
        })
    );
    // `detach` has no fix.
    assert_eq!(findings[3]["code"], "ASO004");
    assert_eq!(findings[3]["fix"], Value::Null);

    assert_eq!(
        keys(&report["summary"]),
        ["files", "documents", "findings", "fixable"]
    );
    assert_eq!(
        report["summary"],
        serde_json::json!({"files": 2, "documents": 3, "findings": 4, "fixable": 2})
    );
}

#[test]
fn json_columns_count_code_points() {
    let sb = Sandbox::new();
    // A non-critical ASO kind, so only ASO004 fires. Five two-byte characters precede the
    // value on its line: its code-point column is 76, its byte column would be 81.
    sb.write(
        "u.yaml",
        "apiVersion: network.azure.com/v1api20201101\nkind: NetworkSecurityGroup\nmetadata:\n  name: nsg\n  annotations: {ünï/cödé: \"ä\", serviceoperator.azure.com/reconcile-policy: detach}\n",
    );
    let (code, stdout, _) = run(sb.cmd().args(["check", "--format", "json", "u.yaml"]));
    assert_eq!(code, 1);
    let report = json(&stdout);
    assert_eq!(codes(&report), ["ASO004"]);
    let f = &report["findings"][0];
    assert_eq!(f["start"], serde_json::json!({"line": 5, "column": 76}));
    assert_eq!(f["end"], serde_json::json!({"line": 5, "column": 82}));
}

#[test]
fn json_on_a_clean_tree() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_CLEAN);
    let (code, stdout, _) = run(sb.cmd().args(["check", "--format", "json", "rg.yaml"]));
    assert_eq!(code, 0);
    let report = json(&stdout);
    assert_eq!(report["findings"], serde_json::json!([]));
    assert_eq!(
        report["summary"],
        serde_json::json!({"files": 1, "documents": 1, "findings": 0, "fixable": 0})
    );
}

// ---------------------------------------------------------------------------------------------
// SARIF and --output
// ---------------------------------------------------------------------------------------------

#[test]
fn sarif_parses_as_2_1_0() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, stdout, _) = run(sb.cmd().args(["check", "--format", "sarif", "rg.yaml"]));
    assert_eq!(code, 1);
    let log = json(&stdout);
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"][0]["results"][0]["ruleId"], "ASO003");
}

#[test]
fn output_writes_the_report_to_a_file_and_nothing_to_stdout() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, expected, _) = run(sb.cmd().args(["check", "--format", "json", "rg.yaml"]));
    assert_eq!(code, 1);

    let (code, stdout, stderr) = run(sb.cmd().args([
        "check",
        "--format",
        "json",
        "--output",
        "report.json",
        "rg.yaml",
    ]));
    assert_eq!(
        code, 1,
        "findings still set the exit code; stderr:\n{stderr}"
    );
    assert_eq!(stdout, "", "nothing on stdout");
    let written = String::from_utf8(sb.read("report.json")).expect("UTF-8");
    assert_eq!(written, expected);
    assert_eq!(codes(&json(&written)), ["ASO003"]);

    // -o, text format.
    let (code, stdout, _) = run(sb.cmd().args(["check", "-o", "report.txt", "rg.yaml"]));
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    let written = String::from_utf8(sb.read("report.txt")).expect("UTF-8");
    assert!(written.contains("ASO003"), "{written}");

    // `-o -` is standard output, as `-` is standard input: no file named `-`.
    let (code, stdout, _) = run(sb
        .cmd()
        .args(["check", "--format", "json", "-o", "-", "rg.yaml"]));
    assert_eq!(code, 1);
    assert_eq!(stdout, expected);
    assert!(
        !sb.path().join("-").exists(),
        "a file named `-` was written"
    );
}

// ---------------------------------------------------------------------------------------------
// --fix, --diff, --unsafe-fixes
// ---------------------------------------------------------------------------------------------

#[test]
fn fix_rewrites_in_place_then_changes_nothing() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    sb.write("a.yaml", TWO_DOCS);
    sb.write("clean.yaml", RG_CLEAN);

    let (code, stdout, stderr) = run(sb.cmd().args(["check", "--fix", "--unsafe-fixes", "."]));
    assert_eq!(
        code, 0,
        "all fixed: exit 0\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("Fixed 4 findings"), "{stdout}");
    assert_eq!(String::from_utf8(sb.read("rg.yaml")).unwrap(), RG_FIXED);
    assert_eq!(
        String::from_utf8(sb.read("a.yaml")).unwrap(),
        TWO_DOCS_FIXED
    );
    assert_eq!(String::from_utf8(sb.read("clean.yaml")).unwrap(), RG_CLEAN);
    let leftovers: Vec<_> = fs::read_dir(sb.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    let (code, stdout, _) = run(sb.cmd().args(["check", "--fix", "."]));
    assert_eq!(code, 0);
    assert!(!stdout.contains("Fixed"), "{stdout}");
    assert_eq!(String::from_utf8(sb.read("rg.yaml")).unwrap(), RG_FIXED);
    assert_eq!(
        String::from_utf8(sb.read("a.yaml")).unwrap(),
        TWO_DOCS_FIXED
    );
}

#[test]
fn fix_exits_1_when_findings_are_left() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    sb.write("b.yaml", VAULT_DETACH);
    let (code, stdout, _) = run(sb.cmd().args(["check", "--fix", "rg.yaml", "b.yaml"]));
    assert_eq!(code, 1, "ASO004 `detach` has no fix: {stdout}");
    assert_eq!(String::from_utf8(sb.read("rg.yaml")).unwrap(), RG_FIXED);
    assert_eq!(String::from_utf8(sb.read("b.yaml")).unwrap(), VAULT_DETACH);
}

#[test]
fn fix_keeps_crlf_line_endings() {
    let sb = Sandbox::new();
    sb.write("crlf.yaml", RG_UNPROTECTED.replace('\n', "\r\n"));
    let (code, _, _) = run(sb.cmd().args(["check", "--fix", "crlf.yaml"]));
    assert_eq!(code, 0);
    assert_eq!(
        String::from_utf8(sb.read("crlf.yaml")).unwrap(),
        RG_FIXED.replace('\n', "\r\n")
    );
}

#[test]
fn diff_prints_a_unified_diff_and_writes_nothing() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, stdout, stderr) = run(sb.cmd().args(["check", "--diff", "rg.yaml"]));
    assert_eq!(code, 1, "a diff to apply: exit 1; stderr:\n{stderr}");
    assert_eq!(
        stdout,
        "\
--- a/rg.yaml
+++ b/rg.yaml
@@ -2,3 +2,5 @@
 kind: ResourceGroup
 metadata:
   name: rg
+  annotations:
+    serviceoperator.azure.com/reconcile-policy: detach-on-delete
"
    );
    assert_eq!(
        sb.read("rg.yaml"),
        RG_UNPROTECTED.as_bytes(),
        "nothing written"
    );
    assert!(
        stderr.contains("1 fix would be applied in 1 file"),
        "{stderr}"
    );
}

#[test]
fn diff_on_a_clean_tree_is_empty_and_exits_0() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_CLEAN);
    let (code, stdout, _) = run(sb.cmd().args(["check", "--diff", "."]));
    assert_eq!(code, 0);
    assert_eq!(stdout, "");
    assert_eq!(sb.read("rg.yaml"), RG_CLEAN.as_bytes());
}

#[test]
fn diff_and_fix_conflict() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, _, _) = run(sb.cmd().args(["check", "--diff", "--fix", "rg.yaml"]));
    assert_eq!(code, 2);
    assert_eq!(sb.read("rg.yaml"), RG_UNPROTECTED.as_bytes());
}

/// A non-critical ASO kind (so ASO003 does not follow) with the typo `manged`: ASO004 with
/// an unsafe fix to `manage`.
const NSG_MANGED: &str = "\
apiVersion: network.azure.com/v1api20201101
kind: NetworkSecurityGroup
metadata:
  name: nsg
  annotations:
    serviceoperator.azure.com/reconcile-policy: manged
";

#[test]
fn unsafe_fixes_only_with_unsafe_fixes() {
    let sb = Sandbox::new();
    sb.write("nsg.yaml", NSG_MANGED);

    let (code, stdout, _) = run(sb.cmd().args(["check", "--fix", "nsg.yaml"]));
    assert_eq!(code, 1, "the finding is left: {stdout}");
    assert_eq!(
        sb.read("nsg.yaml"),
        NSG_MANGED.as_bytes(),
        "plain --fix leaves it"
    );
    assert!(stdout.contains("--unsafe-fixes"), "says how: {stdout}");

    let (code, stdout, _) = run(sb
        .cmd()
        .args(["check", "--diff", "--unsafe-fixes", "nsg.yaml"]));
    assert_eq!(code, 1);
    assert!(
        stdout.contains("+    serviceoperator.azure.com/reconcile-policy: manage\n"),
        "{stdout}"
    );
    assert_eq!(
        sb.read("nsg.yaml"),
        NSG_MANGED.as_bytes(),
        "--diff writes nothing"
    );

    let (code, stdout, _) = run(sb
        .cmd()
        .args(["check", "--fix", "--unsafe-fixes", "nsg.yaml"]));
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        String::from_utf8(sb.read("nsg.yaml")).unwrap(),
        NSG_MANGED.replace("manged", "manage")
    );
}

// ---------------------------------------------------------------------------------------------
// Standard input
// ---------------------------------------------------------------------------------------------

#[test]
fn stdin_reports_under_the_stdin_filename() {
    let sb = Sandbox::new();
    let (code, stdout, _) = run(sb
        .cmd()
        .args([
            "check",
            "-",
            "--stdin-filename",
            "x.yaml",
            "--format",
            "json",
        ])
        .write_stdin(RG_UNPROTECTED));
    assert_eq!(code, 1);
    let report = json(&stdout);
    assert_eq!(codes(&report), ["ASO003"]);
    assert_eq!(report["findings"][0]["path"], "x.yaml");
    assert_eq!(report["findings"][0]["start"]["line"], 4);

    let (code, stdout, _) = run(sb
        .cmd()
        .args(["check", "-", "--stdin-filename", "x.yaml"])
        .write_stdin(RG_UNPROTECTED));
    assert_eq!(code, 1);
    assert!(stdout.contains("x.yaml:4:9"), "{stdout}");
    assert!(
        fs::read_dir(sb.path()).unwrap().count() == 1,
        "nothing written beside .git"
    );
}

#[test]
fn stdin_fix_writes_the_fixed_text_to_stdout() {
    let sb = Sandbox::new();
    let (code, stdout, stderr) = run(sb
        .cmd()
        .args(["check", "-", "--fix"])
        .write_stdin(RG_UNPROTECTED));
    assert_eq!(code, 0, "stderr:\n{stderr}");
    assert_eq!(stdout, RG_FIXED);
    assert!(stderr.contains("Fixed 1 finding"), "{stderr}");

    // A clean input is echoed unchanged.
    let (code, stdout, _) = run(sb.cmd().args(["check", "-", "--fix"]).write_stdin(RG_CLEAN));
    assert_eq!(code, 0);
    assert_eq!(stdout, RG_CLEAN);

    // An unfixable finding: the text is echoed, the finding goes to stderr, exit 1.
    let (code, stdout, stderr) = run(sb
        .cmd()
        .args(["check", "-", "--fix", "--stdin-filename", "v.yaml"])
        .write_stdin(VAULT_DETACH));
    assert_eq!(code, 1);
    assert_eq!(stdout, VAULT_DETACH);
    assert!(stderr.contains("ASO004"), "{stderr}");
    assert!(stderr.contains("v.yaml"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

/// Check one file in text format: exit 1 with one E001 naming it.
fn assert_e001_naming(sb: &Sandbox, file: &str, what: &str) {
    let (code, stdout, stderr) = run(sb.cmd().args(["check", file]));
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("E001"), "{stdout}");
    assert!(stdout.contains(file), "names {file}: {stdout}");
    assert!(stdout.contains(what), "says {what:?}: {stdout}");

    let (code, stdout, _) = run(sb.cmd().args(["check", "--format", "json", file]));
    assert_eq!(code, 1);
    let report = json(&stdout);
    assert_eq!(codes(&report), ["E001"]);
    assert_eq!(report["findings"][0]["path"], file);
}

#[test]
fn invalid_yaml_is_reported_with_its_file() {
    let sb = Sandbox::new();
    sb.write("bad.yaml", BROKEN_RG);
    assert_e001_naming(&sb, "bad.yaml", "invalid YAML");
}

#[test]
fn syntax_errors_only_where_asoguard_looks_unless_strict() {
    // A broken Deployment cannot hold anything asoguard checks: it is not parsed, so its
    // syntax is yamllint's business. `--strict-syntax` parses every file.
    let sb = Sandbox::new();
    sb.write(
        "deploy.yaml",
        "kind: Deployment\nmetadata:\n  name: \"web\n",
    );
    let (code, stdout, _) = run(sb.cmd().args(["check", "deploy.yaml"]));
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("All checks passed (1 file, 1 document)"),
        "{stdout}"
    );
    let (code, stdout, _) = run(sb.cmd().args(["check", "--strict-syntax", "deploy.yaml"]));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("E001") && stdout.contains("deploy.yaml"),
        "{stdout}"
    );
}

#[test]
fn binary_file_is_reported_with_its_file() {
    let sb = Sandbox::new();
    sb.write("bin.yaml", b"kind: X\n\0\0\x01\x02binary\n");
    assert_e001_naming(&sb, "bin.yaml", "binary");
}

#[test]
fn non_utf8_file_is_reported_with_its_file() {
    let sb = Sandbox::new();
    sb.write("latin1.yaml", b"metadata:\n  name: caf\xe9\n");
    assert_e001_naming(&sb, "latin1.yaml", "UTF-8");
}

#[test]
fn empty_file_is_no_finding() {
    let sb = Sandbox::new();
    sb.write("empty.yaml", "");
    let (code, stdout, _) = run(sb.cmd().args(["check", "--format", "json", "empty.yaml"]));
    assert_eq!(code, 0, "{stdout}");
    let report = json(&stdout);
    assert_eq!(report["findings"], serde_json::json!([]));
    assert_eq!(report["summary"]["files"], 1);
    assert_eq!(report["summary"]["documents"], 0);
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_reported_with_its_file() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let path = sb.write("secret.yaml", RG_CLEAN);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&path).is_ok() {
        // Running as root: mode 000 does not stop reads.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        eprintln!("skipped: a mode-000 file is still readable here (running as root?)");
        return;
    }
    let (code, stdout, stderr) = run(sb.cmd().args(["check", "secret.yaml"]));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("E001"), "{stdout}");
    assert!(stdout.contains("secret.yaml"), "{stdout}");
    assert!(stdout.contains("permission denied"), "{stdout}");
}

#[test]
fn directory_without_manifests_says_so() {
    let sb = Sandbox::new();
    sb.write("docs/README.md", "# not a manifest\n");
    sb.write("docs/values.json", "{}\n");
    let (code, _, stderr) = run(sb.cmd().args(["check", "docs"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("docs"), "{stderr}");
    assert!(stderr.contains("no .yaml or .yml files"), "{stderr}");
}

#[test]
fn fix_never_writes_a_file_it_could_not_parse() {
    let sb = Sandbox::new();
    // The first document alone would be fixed (ASO003); the second one is broken.
    let broken = format!("{RG_UNPROTECTED}---\nmetadata:\n  name: \"broken\n");
    sb.write("broken.yaml", &broken);
    let binary: &[u8] = b"kind: ResourceGroup\n\0\n";
    sb.write("binary.yaml", binary);

    let (code, stdout, stderr) = run(sb.cmd().args(["check", "--fix", "--format", "json", "."]));
    assert_eq!(code, 1, "stderr:\n{stderr}");
    assert_eq!(sb.read("broken.yaml"), broken.as_bytes(), "unchanged");
    assert_eq!(sb.read("binary.yaml"), binary, "unchanged");
    let report = json(&stdout);
    let mut got = codes(&report);
    got.sort();
    // Documents before the syntax error are still checked.
    assert_eq!(got, ["ASO003", "E001", "E001"]);

    let (code, stdout, _) = run(sb.cmd().args(["check", "--diff", "broken.yaml"]));
    assert_eq!(code, 0, "no diff for an unparsable file: {stdout}");
    assert_eq!(stdout, "");
}

// ---------------------------------------------------------------------------------------------
// Rules and their docs
// ---------------------------------------------------------------------------------------------

const ALL_CODES: [&str; 5] = ["E001", "ASO001", "ASO002", "ASO003", "ASO004"];

#[test]
fn rules_lists_every_code() {
    let sb = Sandbox::new();
    let (code, stdout, _) = run(sb.cmd().arg("rules"));
    assert_eq!(code, 0);
    for c in ALL_CODES {
        assert!(
            stdout.lines().any(|l| l.starts_with(c)),
            "{c} missing:\n{stdout}"
        );
    }
    for name in [
        "parse-error",
        "skip-in-active",
        "argocd-replace",
        "missing-detach-on-delete",
        "invalid-reconcile-policy",
    ] {
        assert!(stdout.contains(name), "{name} missing:\n{stdout}");
    }
}

#[test]
fn rules_json_parses() {
    let sb = Sandbox::new();
    let (code, stdout, _) = run(sb.cmd().args(["rules", "--format", "json"]));
    assert_eq!(code, 0);
    let rules = json(&stdout);
    let rules = rules.as_array().expect("an array");
    let got: Vec<&str> = rules
        .iter()
        .map(|r| r["code"].as_str().expect("code"))
        .collect();
    // The first five are the rules this suite knows; later rules may follow.
    assert!(got.len() >= ALL_CODES.len(), "{got:?}");
    assert_eq!(got[..ALL_CODES.len()], ALL_CODES);
    let mut unique = got.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), got.len(), "codes are unique: {got:?}");
    for rule in rules {
        for key in ["name", "severity", "fixable", "summary"] {
            assert!(
                rule[key].as_str().is_some_and(|s| !s.is_empty()),
                "{key} in {rule}"
            );
        }
    }
    assert_eq!(rules[0]["fixable"], "never");
    assert_eq!(rules[4]["fixable"], "sometimes");
}

#[test]
fn rule_prints_its_doc_by_code_or_name() {
    let sb = Sandbox::new();
    let (code, by_code, _) = run(sb.cmd().args(["rule", "ASO001"]));
    assert_eq!(code, 0);
    assert!(
        by_code.starts_with("# ASO001 `skip-in-active`"),
        "{by_code}"
    );
    assert!(by_code.contains("## Why is this bad"), "{by_code}");
    assert!(by_code.contains("## Fix"), "{by_code}");

    let (code, by_name, _) = run(sb.cmd().args(["rule", "skip-in-active"]));
    assert_eq!(code, 0);
    assert_eq!(by_name, by_code);

    for c in ALL_CODES {
        let (code, doc, _) = run(sb.cmd().args(["rule", c]));
        assert_eq!(code, 0, "{c}");
        assert!(doc.starts_with(&format!("# {c} ")), "{doc}");
        assert!(doc.contains("## Why is this bad"), "{c}:\n{doc}");
    }
}

#[test]
fn unknown_rule_exits_2() {
    let sb = Sandbox::new();
    let (code, stdout, stderr) = run(sb.cmd().args(["rule", "nope"]));
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains("nope"), "{stderr}");

    // A near miss gets a suggestion.
    let (code, _, stderr) = run(sb.cmd().args(["rule", "skip-in-actve"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("skip-in-active"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// The demo tree
// ---------------------------------------------------------------------------------------------

#[test]
fn demo_reports_one_finding_per_hazard() {
    let demo = repo_root().join("fixtures/demo");
    let sb = Sandbox::new();
    let (code, stdout, stderr) = run(sb.cmd().args(["check", "--format", "json"]).arg(&demo));
    assert_eq!(code, 1, "stderr:\n{stderr}");
    let report = json(&stdout);
    let mut got: Vec<(String, String)> = report["findings"]
        .as_array()
        .expect("array")
        .iter()
        .map(|f| {
            let path = f["path"].as_str().expect("path");
            let suffix = path
                .strip_prefix(demo.to_str().expect("UTF-8 path"))
                .unwrap_or_else(|| panic!("{path} is under {}", demo.display()))
                .trim_start_matches('/');
            (suffix.to_string(), f["code"].as_str().unwrap().to_string())
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = [
        ("apps/prod.yaml", "ASO002"),
        ("clusters/prod/postgres.yaml", "ASO003"),
        ("clusters/prod/storage.yaml", "ASO001"),
        ("clusters/prod/vault.yaml", "ASO004"),
    ]
    .into_iter()
    .map(|(p, c)| (p.to_string(), c.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn demo_copy_is_clean_after_fix() {
    let sb = Sandbox::new();
    let copy = sb.path().join("demo");
    copy_dir(&repo_root().join("fixtures/demo"), &copy);
    assert!(
        copy.join(".asoguard.yaml").is_file(),
        "the config is copied"
    );
    let dr_before = fs::read(copy.join("clusters/dr/resource-group.yaml")).unwrap();

    // Safe fixes leave only the `skip`: removing it would make ASO start writing, which only
    // a person can decide.
    let (code, stdout, stderr) = run(sb.cmd().args(["check", "--fix", "demo"]));
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("Fixed 3 findings"), "{stdout}");
    let (_, stdout, _) = run(sb.cmd().args(["check", "--format", "json", "demo"]));
    assert_eq!(codes(&json(&stdout)), ["ASO001"]);

    let (code, stdout, stderr) = run(sb.cmd().args(["check", "--fix", "--unsafe-fixes", "demo"]));
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let (code, stdout, _) = run(sb.cmd().args(["check", "demo"]));
    assert_eq!(code, 0, "{stdout}");
    // The passive DR copy keeps its deliberate `skip`.
    assert_eq!(
        fs::read(copy.join("clusters/dr/resource-group.yaml")).unwrap(),
        dr_before
    );
}

// ---------------------------------------------------------------------------------------------
// Colour
// ---------------------------------------------------------------------------------------------

#[test]
fn text_output_has_no_ansi_escapes_off_a_terminal() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    sb.write("bad.yaml", "kind: Namespace\na: [\n");
    for no_color in [true, false] {
        let mut cmd = sb.cmd();
        cmd.args(["check", "."]);
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let (code, stdout, stderr) = run(&mut cmd);
        assert_eq!(code, 1);
        assert!(
            stdout.contains("ASO003") && stdout.contains("E001"),
            "{stdout}"
        );
        assert!(!stdout.contains("\x1b["), "ANSI in stdout:\n{stdout:?}");
        assert!(!stderr.contains("\x1b["), "ANSI in stderr:\n{stderr:?}");

        // With --fix on stdin the report goes to stderr.
        let mut cmd = sb.cmd();
        cmd.args(["check", "-", "--fix"]).write_stdin(VAULT_DETACH);
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let (_, _, stderr) = run(&mut cmd);
        assert!(stderr.contains("ASO004"), "{stderr}");
        assert!(!stderr.contains("\x1b["), "ANSI in stderr:\n{stderr:?}");
    }
}

#[test]
fn clean_run_prints_the_summary_and_nothing_on_stderr() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_CLEAN);
    sb.cmd()
        .args(["check", "rg.yaml"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "All checks passed (1 file, 1 document).",
        ))
        .stderr(predicate::str::is_empty());
}

#[test]
fn stdin_filename_places_the_input_in_its_cluster() {
    let sb = Sandbox::new();
    sb.write(
        ".asoguard.yaml",
        "clusters:\n  dr:\n    paths: [\"clusters/dr/**\"]\n    role: passive\n",
    );
    let skip = RG_CLEAN.replace("detach-on-delete", "skip");
    // In the passive cluster, `skip` is intended.
    let (code, stdout, _) = run(sb
        .cmd()
        .args(["check", "-", "--stdin-filename", "clusters/dr/rg.yaml"])
        .write_stdin(skip.clone()));
    assert_eq!(code, 0, "{stdout}");
    // Anywhere else it is ASO001.
    let (code, stdout, _) = run(sb
        .cmd()
        .args(["check", "-", "--stdin-filename", "clusters/prod/rg.yaml"])
        .write_stdin(skip));
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("ASO001"), "{stdout}");
    assert!(stdout.contains("clusters/prod/rg.yaml"), "{stdout}");
}

#[test]
fn output_to_an_unwritable_place_exits_2() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_CLEAN);
    let (code, stdout, stderr) =
        run(sb
            .cmd()
            .args(["check", "--output", "no-such-dir/report.txt", "rg.yaml"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no-such-dir/report.txt"), "{stderr}");
    assert_eq!(stdout, "");
}

#[test]
fn unusable_paths_are_not_reported_as_all_checks_passed() {
    // A path that cannot be used (missing, or a directory without manifests) exits 2 with
    // the error on stderr; the summary must not claim that all checks passed.
    let sb = Sandbox::new();
    sb.write("docs/README.md", "# not a manifest\n");
    for path in ["nope.yaml", "docs"] {
        let (code, stdout, _) = run(sb.cmd().args(["check", path]));
        assert_eq!(code, 2);
        assert!(
            !stdout.contains("All checks passed"),
            "`asoguard check {path}` checked nothing but says:\n{stdout}"
        );
    }
}

#[test]
fn stdin_fix_never_drops_input_it_could_not_read() {
    // `check - --fix` prints the fixed text; input it cannot read as text (not UTF-8, NUL
    // bytes) or cannot parse comes back byte for byte, so a pipe never loses it.
    let sb = Sandbox::new();
    let invalid_yaml: &[u8] = b"kind: Namespace\na: [\n";
    let (code, stdout, _) = run(sb
        .cmd()
        .args(["check", "-", "--fix"])
        .write_stdin(invalid_yaml));
    assert_eq!(code, 1);
    assert_eq!(stdout.as_bytes(), invalid_yaml, "invalid YAML is echoed");

    let latin1: &[u8] = b"metadata:\n  name: caf\xe9\n";
    let output = sb
        .cmd()
        .args(["check", "-", "--fix"])
        .write_stdin(latin1)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(output.stdout, latin1, "non-UTF-8 input is echoed");
}

// ---------------------------------------------------------------------------------------------
// asoguard inventory
// ---------------------------------------------------------------------------------------------

/// The inventory says what each cluster applies, through which applier, with which policy and
/// where that comes from: the demo's prod resources come through the ArgoCD Application, in
/// cluster `prod` though the Application's file is in no cluster.
#[test]
fn inventory_lists_what_each_cluster_applies() {
    let demo = repo_root().join("fixtures/demo");
    let sb = Sandbox::new();
    let (code, stdout, stderr) =
        run(sb
            .cmd()
            .current_dir(&demo)
            .args(["inventory", "--format", "json"]));
    assert_eq!(code, 0, "stderr:\n{stderr}");
    let report = json(&stdout);
    assert_eq!(report["version"], 1);
    let resources = report["resources"].as_array().expect("resources");
    let find = |name: &str, cluster: &str| {
        resources
            .iter()
            .find(|r| r["name"] == name && r["cluster"] == cluster)
            .unwrap_or_else(|| panic!("{name} in {cluster}: {stdout}"))
    };
    let db = find("orders-db", "prod");
    assert_eq!(db["applier"]["kind"], "argocd");
    assert_eq!(db["applier"]["path"], "apps/prod.yaml");
    assert_eq!(db["applier"]["name"], "prod-azure");
    assert_eq!(db["policy"], "manage");
    assert_eq!(db["policySource"]["kind"], "default");
    let vault = find("prod-kv", "prod");
    assert_eq!(vault["policy"], "manage");
    assert_eq!(vault["policySource"]["value"], "Detach-On-Delete");
    assert_eq!(
        vault["policySource"]["at"],
        serde_json::json!({"path": "clusters/prod/vault.yaml", "line": 7})
    );
    let dr = find("prod-rg", "dr");
    assert_eq!(dr["role"], "passive");
    assert_eq!(dr["policy"], "skip");
    assert_eq!(dr["applier"]["kind"], "file");
    // Only ASO resources, unless --all.
    assert!(resources.iter().all(|r| r["aso"] == true));
    let (_, all, _) =
        run(sb
            .cmd()
            .current_dir(&demo)
            .args(["inventory", "--all", "--format", "json"]));
    assert!(
        json(&all)["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .any(|r| r["kind"] == "Application"),
        "{all}"
    );

    let (code, text, _) = run(sb.cmd().current_dir(&demo).arg("inventory"));
    assert_eq!(code, 0);
    assert!(
        text.contains("cluster `prod` (active), applied by argocd `prod-azure` in apps/prod.yaml"),
        "{text}"
    );
    assert!(
        text.contains("Vault prod/prod-kv  manage (own at clusters/prod/vault.yaml:7: `Detach-On-Delete`, which ASO reads as `manage`)"),
        "{text}"
    );
}
