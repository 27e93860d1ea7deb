//! `asoguard check --format sarif`: the log validates against the OASIS SARIF 2.1.0 schema
//! (draft-04) and carries what GitHub code scanning needs: a described driver, rule metadata
//! and documentation (no made-up URL), results that point at their rule, precise regions,
//! URIs relative to the git repository's root, fingerprints, fixes, and the run's notes as
//! tool execution notifications.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{json, repo_root, run_in};

fn shared_dir() -> PathBuf {
    repo_root().join("../shared")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The SARIF schema, or `None` (with a printed reason) when it is missing outside CI.
pub(crate) fn sarif_schema() -> Option<Value> {
    let path = shared_dir().join("schemas/sarif-schema-2.1.0.json");
    match fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("the SARIF schema is JSON")),
        Err(e) if in_ci() => panic!(
            "CI=true and the SARIF schema {} is missing: {e}",
            path.display()
        ),
        Err(e) => {
            eprintln!(
                "skipped: the SARIF schema {} is missing ({e}); set CI=true to make this fail",
                path.display()
            );
            None
        }
    }
}

pub(crate) fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("the SARIF schema compiles as draft-04")
}

pub(crate) fn assert_valid(validator: &jsonschema::Validator, log: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(log)
        .take(20)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF for {what} does not validate:\n{}",
        errors.join("\n")
    );
}

fn sarif(cwd: &Path, path: &str) -> Value {
    json(&run_in(cwd, &["check", "--format", "sarif", path]).1)
}

fn nonempty_str<'v>(value: &'v Value, what: &str) -> &'v str {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value}"));
    assert!(!s.trim().is_empty(), "{what} is empty");
    s
}

fn region_numbers(region: &Value) -> [u64; 4] {
    ["startLine", "startColumn", "endLine", "endColumn"].map(|k| {
        region[k]
            .as_u64()
            .unwrap_or_else(|| panic!("region lacks {k}: {region}"))
    })
}

/// A file URI as the path it names (only `%XX` escapes decoded).
fn file_uri_path(uri: &str) -> PathBuf {
    let rest = uri
        .strip_prefix("file://")
        .unwrap_or_else(|| panic!("not a file URI: {uri}"));
    PathBuf::from(percent_decode(rest))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if let (b'%', Some(b)) = (bytes[i], hex) {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8 path")
}

/// Everything GitHub code scanning relies on, checked on one log. `fixable` gives, for each
/// result in order, whether the JSON report of the same run has a fix for it; the last
/// `suppressed` results are the suppressed findings, which carry `suppressions`.
fn assert_code_scanning_ready(log: &Value, fixable: &[bool], suppressed: usize) {
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];

    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "asoguard");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    // No placeholder URL: asoguard does not know where its documentation is published, so
    // each rule's documentation travels in the log itself.
    assert!(driver.get("informationUri").is_none(), "{driver}");

    let rules = driver["rules"].as_array().expect("driver.rules");
    let mut ids = HashSet::new();
    for rule in rules {
        let id = nonempty_str(&rule["id"], "rule id");
        assert!(ids.insert(id.to_string()), "duplicate rule id {id}");
        nonempty_str(&rule["name"], "rule name");
        nonempty_str(&rule["shortDescription"]["text"], "shortDescription");
        nonempty_str(&rule["fullDescription"]["text"], "fullDescription");
        let help = nonempty_str(&rule["help"]["text"], "help");
        let markdown = nonempty_str(&rule["help"]["markdown"], "help markdown");
        for text in [help, markdown] {
            assert!(
                text.contains("## What it does"),
                "{id}'s help is its doc: {text}"
            );
        }
        // The header line `asoguard rule` prints, emphasis in markdown only.
        assert!(
            markdown.starts_with("Default severity: **"),
            "{id}: {markdown}"
        );
        assert!(
            help.starts_with("Default severity: ") && !help.starts_with("Default severity: **"),
            "{id}: {help}"
        );
        assert!(
            ["error", "warning", "note"].contains(
                &rule["defaultConfiguration"]["level"]
                    .as_str()
                    .unwrap_or_default()
            ),
            "defaultConfiguration.level of {id}"
        );
        assert!(rule.get("helpUri").is_none(), "no made-up helpUri: {rule}");
    }
    for code in ["E001", "ASO001", "ASO002", "ASO003", "ASO004"] {
        assert!(ids.contains(code), "rule {code} missing");
    }

    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let bases = run["originalUriBaseIds"]
        .as_object()
        .expect("originalUriBaseIds");

    let results = run["results"].as_array().expect("results");
    assert_eq!(
        results.len(),
        fixable.len(),
        "one result per finding, suppressed ones included"
    );
    let live = results.len() - suppressed;
    for (i, (result, &has_fix)) in results.iter().zip(fixable).enumerate() {
        match result["suppressions"].as_array() {
            Some(suppressions) => {
                assert!(i >= live, "a live finding marked suppressed: {result}");
                assert_eq!(suppressions.len(), 1, "{result}");
                assert_eq!(suppressions[0]["kind"], "inSource", "{result}");
            }
            None => assert!(i < live, "a suppressed finding not marked: {result}"),
        }
        let rule_id = nonempty_str(&result["ruleId"], "ruleId");
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert!(index < rules.len(), "ruleIndex {index} out of range");
        assert_eq!(rules[index]["id"], rule_id, "ruleIndex points at {rule_id}");
        assert!(
            ["error", "warning", "note"].contains(&result["level"].as_str().unwrap_or_default()),
            "{result}"
        );
        nonempty_str(&result["message"]["text"], "message.text");

        let location = &result["locations"][0]["physicalLocation"];
        let [sl, sc, el, ec] = region_numbers(&location["region"]);
        assert!(sl >= 1 && sc >= 1, "1-based: {result}");
        assert!((el, ec) >= (sl, sc), "end before start: {result}");

        let artifact = &location["artifactLocation"];
        let uri = nonempty_str(&artifact["uri"], "uri");
        assert!(!uri.starts_with('/'), "relative uri: {uri}");
        assert!(!uri.contains("file:"), "relative uri: {uri}");
        assert!(!uri.contains('\\'), "forward slashes: {uri}");
        let base_id = nonempty_str(&artifact["uriBaseId"], "uriBaseId");
        let base = nonempty_str(&bases[base_id]["uri"], "originalUriBaseIds uri");
        assert!(base.starts_with("file:///"), "{base}");
        assert!(base.ends_with('/'), "{base}");
        let file = file_uri_path(base).join(percent_decode(uri));
        assert!(file.is_file(), "{uri} resolves to {}", file.display());

        let fingerprints = result["partialFingerprints"]
            .as_object()
            .expect("partialFingerprints");
        assert!(!fingerprints.is_empty());
        for (key, value) in fingerprints {
            nonempty_str(value, key);
        }

        if has_fix {
            let fixes = result["fixes"]
                .as_array()
                .unwrap_or_else(|| panic!("a fixable finding lacks fixes: {result}"));
            assert!(!fixes.is_empty());
            for fix in fixes {
                nonempty_str(&fix["description"]["text"], "fix description");
                for change in fix["artifactChanges"].as_array().expect("artifactChanges") {
                    assert_eq!(change["artifactLocation"], *artifact);
                    let replacements = change["replacements"].as_array().expect("replacements");
                    assert!(!replacements.is_empty());
                    for r in replacements {
                        region_numbers(&r["deletedRegion"]);
                    }
                }
            }
        } else {
            assert!(result.get("fixes").is_none(), "no fix, no fixes: {result}");
        }
    }
}

/// For each finding of the JSON report of the same run, in order, whether it has a fix, then
/// the same for its suppressed findings (SARIF lists them after the others); and how many of
/// those are suppressed.
fn fixable_from_json(cwd: &Path, path: &str) -> (Vec<bool>, usize) {
    let report = json(&run_in(cwd, &["check", "--format", "json", path]).1);
    let suppressed = report["suppressed"].as_array().cloned().unwrap_or_default();
    let fixable = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .chain(&suppressed)
        .map(|f| !f["fix"].is_null())
        .collect();
    (fixable, suppressed.len())
}

#[test]
fn demo_sarif_validates_and_suits_code_scanning() {
    let Some(schema) = sarif_schema() else {
        return;
    };
    let validator = validator(&schema);
    let root = repo_root();
    let log = sarif(&root, "fixtures/demo");
    assert_valid(&validator, &log, "fixtures/demo");
    let (fixable, suppressed) = fixable_from_json(&root, "fixtures/demo");
    assert_eq!(fixable.len(), 4, "the demo has four findings");
    assert_code_scanning_ready(&log, &fixable, suppressed);

    // URIs are relative to the root of the git work tree that holds the demo (this
    // repository), else to the demo's root, the directory of its .asoguard.yaml.
    let demo = root.join("fixtures/demo");
    let prefix = demo
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .and_then(|git| demo.strip_prefix(git).ok())
        .map(|p| format!("{}/", p.display()))
        .unwrap_or_default();
    let run = &log["runs"][0];
    let uris: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    for file in ["clusters/prod/vault.yaml", "apps/prod.yaml"] {
        let uri = format!("{prefix}{file}");
        assert!(uris.contains(&uri.as_str()), "{uri} not in {uris:?}");
    }
}

/// The validator is not vacuous: a log that breaks the schema is rejected.
#[test]
fn validator_rejects_broken_logs() {
    let Some(schema) = sarif_schema() else {
        return;
    };
    let validator = validator(&schema);
    let log = sarif(&repo_root(), "fixtures/demo");
    assert!(validator.is_valid(&log));
    let mut bad_level = log.clone();
    bad_level["runs"][0]["results"][0]["level"] = json!("fatal");
    assert!(!validator.is_valid(&bad_level), "an unknown level");
    let mut bad_region = log.clone();
    bad_region["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        json!(0);
    assert!(!validator.is_valid(&bad_region), "a 0 line");
    let mut extra = log.clone();
    extra["runs"][0]["tool"]["driver"]["colour"] = json!("blue");
    assert!(!validator.is_valid(&extra), "an unknown property");
    let mut bad_version = log;
    bad_version["version"] = json!("2.0.0");
    assert!(!validator.is_valid(&bad_version), "another version");
}

#[test]
fn rules_fixtures_sarif_validates_and_suits_code_scanning() {
    let Some(schema) = sarif_schema() else {
        return;
    };
    let root = repo_root();
    if !root.join("fixtures/rules").is_dir() {
        eprintln!("skipped: fixtures/rules does not exist");
        return;
    }
    let log = sarif(&root, "fixtures/rules");
    assert_valid(&validator(&schema), &log, "fixtures/rules");
    let (fixable, suppressed) = fixable_from_json(&root, "fixtures/rules");
    assert!(
        suppressed > 0,
        "the ASO100/ASO101 fixtures hold suppressed findings"
    );
    assert_code_scanning_ready(&log, &fixable, suppressed);
}

#[test]
fn clean_run_sarif_validates() {
    let Some(schema) = sarif_schema() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    fs::write(
        dir.path().join("rg.yaml"),
        "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: rg\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: detach-on-delete\n",
    )
    .unwrap();
    let (code, out) = run_in(dir.path(), &["check", "--format", "sarif", "."]);
    assert_eq!(code, 0);
    let log = json(&out);
    assert_valid(&validator(&schema), &log, "a clean tree");
    assert_eq!(log["runs"][0]["results"], json!([]));
    assert_code_scanning_ready(&log, &[], 0);
}

/// A tree with bad input (invalid YAML, binary, non-UTF-8) still gives a valid log.
#[test]
fn parse_errors_sarif_validates() {
    let Some(schema) = sarif_schema() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    // Syntax errors are findings in files that could hold what asoguard checks.
    fs::write(dir.path().join("bad.yaml"), "kind: Namespace\na: [\n").unwrap();
    fs::write(dir.path().join("bin.yaml"), b"a: 1\n\0\n").unwrap();
    fs::write(dir.path().join("latin1.yaml"), b"a: caf\xe9\n").unwrap();
    fs::write(
        dir.path().join("with space #1.yaml"),
        "kind: Namespace\na: [\n",
    )
    .unwrap();
    let log = sarif(dir.path(), ".");
    assert_valid(&validator(&schema), &log, "bad input");
    let (fixable, suppressed) = fixable_from_json(dir.path(), ".");
    assert_eq!(fixable, [false; 4]);
    assert_code_scanning_ready(&log, &fixable, suppressed);
    let uris: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(
        uris.contains(&"with%20space%20%231.yaml"),
        "reserved characters are percent-encoded: {uris:?}"
    );
}

/// A manifest under `clusters/prod/` whose regions are computed by hand.
const MANIFEST: &str = "\
apiVersion: storage.azure.com/v1api20230101
kind: StorageAccount
metadata:
  name: store
  namespace: prod
  annotations:
    serviceoperator.azure.com/reconcile-policy: skip
    argocd.argoproj.io/sync-options: Prune=false,Replace=true
---
apiVersion: network.azure.com/v1api20201101
kind: NetworkSecurityGroup
metadata:
  name: nsg
  annotations: {ünï/cödé: \"ä\", serviceoperator.azure.com/reconcile-policy: detach}
";

fn manifest_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    fs::create_dir_all(dir.path().join("clusters/prod")).unwrap();
    fs::write(dir.path().join("clusters/prod/store.yaml"), MANIFEST).unwrap();
    dir
}

#[test]
fn regions_match_hand_computed_positions() {
    let dir = manifest_repo();
    let log = sarif(dir.path(), ".");
    let run = &log["runs"][0];
    let got: Vec<(String, String, [u64; 4])> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                loc["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                region_numbers(&loc["region"]),
            )
        })
        .collect();
    let uri = "clusters/prod/store.yaml".to_string();
    // Line 7: `    serviceoperator.azure.com/reconcile-policy: skip` -> 4 + 42 + 2 + 4 = 52
    //   characters from column 5, end column 53 (exclusive).
    // Line 8: `    argocd.argoproj.io/sync-options: ` is 37 characters; the value
    //   `Prune=false,Replace=true` (24) spans columns 38..62.
    // Line 14: the value `detach` follows 75 code points (80 bytes): columns 76..82.
    assert_eq!(
        got,
        [
            ("ASO001".to_string(), uri.clone(), [7, 5, 7, 53]),
            ("ASO002".to_string(), uri.clone(), [8, 38, 8, 62]),
            ("ASO004".to_string(), uri.clone(), [14, 76, 14, 82]),
        ]
    );
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let base = run["originalUriBaseIds"]["SRCROOT"]["uri"]
        .as_str()
        .unwrap();
    assert_eq!(
        file_uri_path(base),
        dir.path().canonicalize().unwrap().join(""),
        "the root is the directory holding .git"
    );

    // The ASO001 fix on a critical kind replaces `skip` (columns 49..53) in the same file.
    let fix = &run["results"][0]["fixes"][0]["artifactChanges"][0];
    assert_eq!(fix["artifactLocation"]["uri"], "clusters/prod/store.yaml");
    assert_eq!(
        fix["replacements"],
        json!([{
            "deletedRegion": {"startLine": 7, "startColumn": 49, "endLine": 7, "endColumn": 53},
            "insertedContent": {"text": "detach-on-delete"},
        }])
    );
    // `detach` has no fix.
    assert!(run["results"][2].get("fixes").is_none());
}

#[test]
fn uris_are_relative_to_the_root_wherever_asoguard_runs() {
    let dir = manifest_repo();
    let root = dir.path().canonicalize().unwrap();
    let uri_of = |log: &Value| {
        log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"].clone()
    };
    let want = json!({"uri": "clusters/prod/store.yaml", "uriBaseId": "SRCROOT"});
    // From the root, from a subdirectory, and from outside with an absolute path.
    assert_eq!(uri_of(&sarif(&root, ".")), want);
    assert_eq!(uri_of(&sarif(&root.join("clusters"), "prod")), want);
    let elsewhere = tempfile::tempdir().unwrap();
    let absolute = root.join("clusters/prod/store.yaml");
    assert_eq!(
        uri_of(&sarif(elsewhere.path(), absolute.to_str().unwrap())),
        want
    );
}

#[test]
fn fingerprints_are_stable_across_working_directories() {
    // The fingerprint hashes the repository-relative URI, not the path as typed, so the same
    // finding keeps its alert whether asoguard runs from the root or a subdirectory.
    let dir = manifest_repo();
    let root = dir.path().canonicalize().unwrap();
    let fingerprints = |log: &Value| -> BTreeMap<String, Value> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap().to_string(),
                    r["partialFingerprints"].clone(),
                )
            })
            .collect()
    };
    let from_root = fingerprints(&sarif(&root, "."));
    assert_eq!(from_root.len(), 3);
    // The same run twice gives the same fingerprints.
    assert_eq!(fingerprints(&sarif(&root, ".")), from_root);
    let from_subdir = fingerprints(&sarif(&root.join("clusters"), "prod"));
    assert_eq!(from_subdir, from_root);
}

/// A git repository whose `.asoguard.yaml` sits in `gitops/`: code scanning resolves URIs
/// against the repository's root, so they start with `gitops/`, as `--format github` paths do
/// when run from the root. `git` is `.git`'s kind: a directory, or a file (a linked worktree).
fn repo_with_config_below(git_file: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if git_file {
        fs::write(
            dir.path().join(".git"),
            "gitdir: /elsewhere/.git/worktrees/x\n",
        )
        .unwrap();
    } else {
        fs::create_dir(dir.path().join(".git")).unwrap();
    }
    fs::create_dir_all(dir.path().join("gitops/apps")).unwrap();
    fs::write(
        dir.path().join("gitops/.asoguard.yaml"),
        "clusters:\n  prod:\n    paths: [apps/**]\n",
    )
    .unwrap();
    fs::write(dir.path().join("gitops/apps/prod.yaml"), MANIFEST).unwrap();
    dir
}

#[test]
fn uris_are_relative_to_the_git_root_when_the_config_sits_below_it() {
    for git_file in [false, true] {
        let dir = repo_with_config_below(git_file);
        let root = dir.path().canonicalize().unwrap();
        let want = json!({"uri": "gitops/apps/prod.yaml", "uriBaseId": "SRCROOT"});
        for (cwd, path) in [(root.clone(), "gitops"), (root.join("gitops"), ".")] {
            let log = sarif(&cwd, path);
            let run = &log["runs"][0];
            let results = run["results"].as_array().unwrap();
            assert!(!results.is_empty());
            for result in results {
                assert_eq!(
                    result["locations"][0]["physicalLocation"]["artifactLocation"],
                    want,
                    "from {}",
                    cwd.display()
                );
            }
            let base = run["originalUriBaseIds"]["SRCROOT"]["uri"]
                .as_str()
                .unwrap();
            assert_eq!(
                file_uri_path(base),
                root.join(""),
                "the base is the git root"
            );
            if let Some(schema) = sarif_schema() {
                assert_valid(&validator(&schema), &log, "a config below the git root");
            }
        }
        // The same path as the GitHub annotations of a run from the root.
        let (_, github) = run_in(&root, &["check", "--format", "github", "gitops"]);
        assert!(github.contains("file=gitops/apps/prod.yaml,"), "{github}");
    }
}

#[test]
fn outside_git_uris_are_relative_to_the_config_root() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("gitops/apps")).unwrap();
    fs::write(dir.path().join("gitops/.asoguard.yaml"), "{}\n").unwrap();
    fs::write(dir.path().join("gitops/apps/prod.yaml"), MANIFEST).unwrap();
    let root = dir.path().canonicalize().unwrap();
    // Unless some ancestor of the temporary directory is itself a git work tree.
    if root.ancestors().any(|d| d.join(".git").exists()) {
        eprintln!("skipped: the temporary directory lies inside a git work tree");
        return;
    }
    let log = sarif(&root, "gitops");
    let run = &log["runs"][0];
    assert_eq!(
        run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "apps/prod.yaml"
    );
    let base = run["originalUriBaseIds"]["SRCROOT"]["uri"]
        .as_str()
        .unwrap();
    assert_eq!(file_uri_path(base), root.join("gitops/"));
}

/// What was not checked (a SOPS-encrypted file, a template, a remote base) is a
/// notification of level `note`, located at its file, pointing at its kind's descriptor; the
/// log still validates.
#[test]
fn notes_are_tool_execution_notifications() {
    let dir = manifest_repo();
    let root = dir.path().canonicalize().unwrap();
    fs::write(
        root.join("clusters/prod/secret.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: ENC[AES256_GCM,data:x]\nsops:\n  mac: ENC[AES256_GCM,data:y]\n",
    )
    .unwrap();
    fs::write(
        root.join("clusters/prod/templated.yaml"),
        "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: {{ .Release.Name }}-rg\n",
    )
    .unwrap();
    fs::write(
        root.join("clusters/prod/kustomization.yaml"),
        "resources:\n  - store.yaml\n  - secret.yaml\n  - templated.yaml\n  - https://github.com/example/base//aso?ref=v1\n",
    )
    .unwrap();
    let log = sarif(&root, ".");
    if let Some(schema) = sarif_schema() {
        assert_valid(&validator(&schema), &log, "a run with notes");
    }
    let run = &log["runs"][0];
    let descriptors = run["tool"]["driver"]["notifications"]
        .as_array()
        .expect("driver.notifications");
    let notifications = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("toolExecutionNotifications");
    let mut seen: Vec<(String, String)> = Vec::new();
    for n in notifications {
        assert_eq!(n["level"], "note", "{n}");
        nonempty_str(&n["message"]["text"], "notification message");
        let id = nonempty_str(&n["descriptor"]["id"], "descriptor id");
        let index = n["descriptor"]["index"].as_u64().expect("index") as usize;
        assert_eq!(descriptors[index]["id"], id, "the index points at {id}");
        let artifact = &n["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uriBaseId"], "SRCROOT");
        let uri = nonempty_str(&artifact["uri"], "uri");
        assert!(root.join(uri).is_file(), "{uri}");
        seen.push((id.to_string(), uri.to_string()));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            ("remote", "clusters/prod/kustomization.yaml"),
            ("sops", "clusters/prod/secret.yaml"),
            ("template", "clusters/prod/templated.yaml"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // The results are those of the plain manifest alone: the template gives none.
    assert!(run["results"].as_array().unwrap().iter().all(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "clusters/prod/store.yaml"
    ));
}
