//! End-to-end behaviour of CRD validation on the command line: `check --crds`, `crds:` in the
//! config, the summary's count of resources not schema-checked, `crds import` and its round
//! trip, and CRD sources that cannot be used (exit 2, naming the file).
//!
//! The CRDs are the real ASO v2.20 ResourceGroup and Vault CRDs of the fixture corpus
//! (`fixtures/rules/ASO012/crds`), so these tests need nothing outside the repository. Every
//! test runs the real binary in a temporary directory holding `.git`, so config discovery stops
//! there.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::support::{Sandbox, repo_root};

fn fixture_crds() -> PathBuf {
    repo_root().join("fixtures/rules/ASO012/crds")
}

/// A ResourceGroup with a misspelled `location` (line 6, column 3) and a Vault of a version
/// its CRD does not serve (line 1, column 32), plus a StorageAccount, whose kind has no CRD.
const RG_TYPO: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: rg
spec:
  locaton: westeurope
";
const VAULT_OLD: &str = "\
apiVersion: keyvault.azure.com/v1beta20210401
kind: Vault
metadata:
  name: kv
";
const STORAGE: &str = "\
apiVersion: storage.azure.com/v1api20230101
kind: StorageAccount
metadata:
  name: sa
spec:
  locaton: westeurope
";

/// A repository with the three manifests under `manifests/`.
fn repository() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("manifests/rg.yaml", RG_TYPO);
    sb.write("manifests/vault.yaml", VAULT_OLD);
    sb.write("manifests/storage.yaml", STORAGE);
    sb
}

/// `check manifests --format json` with `extra` arguments in `sb`; the parsed report.
fn check_json(sb: &Sandbox, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["check", "manifests", "--format", "json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = sb.run(&args);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n{stderr}"));
    (code, report)
}

/// (code, path, line, column) of each finding.
fn findings(report: &Value) -> Vec<(String, String, u64, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| matches!(f["code"].as_str(), Some("ASO012" | "ASO013")))
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["start"]["line"].as_u64().unwrap(),
                f["start"]["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn expected() -> Vec<(String, String, u64, u64)> {
    vec![
        ("ASO012".into(), "manifests/rg.yaml".into(), 6, 3),
        ("ASO013".into(), "manifests/vault.yaml".into(), 1, 32),
    ]
}

#[test]
fn crds_flag_validates_and_counts_what_it_could_not() {
    let sb = repository();
    let crds = fixture_crds();
    let (code, report) = check_json(&sb, &["--crds", crds.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(findings(&report), expected());
    assert_eq!(report["summary"]["schemaChecked"], 2);
    assert_eq!(
        report["summary"]["unchecked"], 1,
        "the StorageAccount has no CRD"
    );

    let (_, stdout, _) = sb.run(&["check", "manifests", "--crds", crds.to_str().unwrap()]);
    assert!(
        stdout.contains("`spec.locaton` is not a field of ResourceGroup (v1api20200601); did you mean `location`?"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Schema-checked 2 resources against CRDs; 1 ASO resource not schema-checked (no CRD given for its kind)."),
        "{stdout}"
    );
}

/// Without CRDs, no schema is checked and nothing is counted; versions are judged by the
/// catalog, which names its release.
#[test]
fn without_crds_the_catalog_judges_versions() {
    let sb = repository();
    let (_, report) = check_json(&sb, &[]);
    assert_eq!(
        findings(&report),
        [("ASO013".into(), "manifests/vault.yaml".into(), 1, 32)]
    );
    let message = report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["code"] == "ASO013"))
        .and_then(|f| f["message"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("is not served by ASO v2.20 (asoguard's catalog)"),
        "{message}"
    );
    let summary = report["summary"].as_object().unwrap();
    assert!(!summary.contains_key("unchecked"), "the v1 shape is kept");
    assert!(!summary.contains_key("schemaChecked"));
    let (_, stdout, _) = sb.run(&["check", "manifests"]);
    assert!(!stdout.contains("Schema-checked"), "{stdout}");
}

#[test]
fn config_crds_are_relative_to_the_root_and_the_flag_replaces_them() {
    let sb = repository();
    let in_repo = sb.path().join("crds-in-repo");
    fs::create_dir(&in_repo).unwrap();
    for file in fs::read_dir(fixture_crds()).unwrap() {
        let file = file.unwrap();
        fs::copy(file.path(), in_repo.join(file.file_name())).unwrap();
    }
    sb.write(".asoguard.yaml", "crds: [crds-in-repo]\n");
    // Run from a subdirectory: the config's paths still resolve against the root.
    let output = sb
        .cmd()
        .current_dir(sb.path().join("manifests"))
        .args(["check", ".", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let found: Vec<(String, u64, u64)> = findings(&report)
        .into_iter()
        .map(|(c, _, l, col)| (c, l, col))
        .collect();
    assert_eq!(found, [("ASO012".into(), 6, 3), ("ASO013".into(), 1, 32)]);

    // The CRD files are inputs, not manifests: a check of the whole repository skips them.
    let (_, stdout, _) = sb.run(&["check", ".", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["summary"]["files"], 3, "{stdout}");

    // `--crds` replaces the config's list: given only a CRD of another kind, nothing here is
    // schema-checked, and the Vault's version is judged by the catalog.
    let widget = fs::read_to_string(repo_root().join("fixtures/crds/widget.yaml")).unwrap();
    sb.write("other/widget.yaml", &widget);
    let (_, report) = check_json(&sb, &["--crds", "other"]);
    assert_eq!(
        findings(&report),
        [("ASO013".into(), "manifests/vault.yaml".into(), 1, 32)]
    );
    assert_eq!(report["summary"]["schemaChecked"], 0);
    assert_eq!(report["summary"]["unchecked"], 3);
}

#[test]
fn import_round_trip_gives_the_same_findings() {
    let sb = repository();
    // A bundle like ASO's release asset: every CRD in one file.
    let mut bundle = String::new();
    for file in [
        "resourcegroups.resources.azure.com.yaml",
        "vaults.keyvault.azure.com.yaml",
    ] {
        bundle.push_str("---\n");
        bundle.push_str(&fs::read_to_string(fixture_crds().join(file)).unwrap());
    }
    sb.write(
        "azureserviceoperator_customresourcedefinitions_v2.20.0.yaml",
        &bundle,
    );
    let (code, _, stderr) = sb.run(&[
        "crds",
        "import",
        "azureserviceoperator_customresourcedefinitions_v2.20.0.yaml",
        "--out",
        "crds",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("Imported 2 CRDs (6 schemas) into crds."),
        "{stderr}"
    );
    for file in [
        "crds/asoguard-crds.json",
        "crds/resources.azure.com/ResourceGroup.yaml",
        "crds/resources.azure.com/ResourceGroup.v1api20200601.schema.json",
        "crds/keyvault.azure.com/Vault.v1api20230701.schema.json",
    ] {
        assert!(sb.path().join(file).is_file(), "{file}");
    }
    let (_, from_bundle) = check_json(
        &sb,
        &[
            "--crds",
            "azureserviceoperator_customresourcedefinitions_v2.20.0.yaml",
        ],
    );
    let (_, from_import) = check_json(&sb, &["--crds", "crds"]);
    assert_eq!(findings(&from_bundle), expected());
    assert_eq!(findings(&from_import), expected());
    assert_eq!(
        from_import["findings"], from_bundle["findings"],
        "same messages too"
    );

    // Importing again over the import replaces it.
    let (code, _, stderr) = sb.run(&[
        "crds",
        "import",
        "azureserviceoperator_customresourcedefinitions_v2.20.0.yaml",
        "-o",
        "crds",
    ]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn unusable_crd_sources_exit_2_naming_the_file() {
    let sb = repository();
    sb.write(
        "not-a-crd.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    sb.write(
        "broken.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: [\n",
    );
    for (arg, says) in [
        (
            "not-a-crd.yaml",
            "not-a-crd.yaml: holds no CustomResourceDefinition (found a ConfigMap)",
        ),
        ("broken.yaml", "broken.yaml:2: invalid YAML"),
        ("missing-dir", "missing-dir: no such file or directory"),
    ] {
        let (code, stdout, stderr) = sb.run(&["check", "manifests", "--crds", arg]);
        assert_eq!(code, 2, "{arg}: {stdout}{stderr}");
        assert!(stderr.contains(says), "{arg}: {stderr}");
    }
    let (code, _, stderr) = sb.run(&["crds", "import", "broken.yaml", "--out", "out"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("broken.yaml:2: invalid YAML"), "{stderr}");
    assert!(!sb.path().join("out").exists(), "nothing written on error");
    let (code, _, stderr) = sb.run(&["crds", "import", "--out", "out"]);
    assert_eq!(code, 2, "a bundle is required: {stderr}");
}

#[test]
fn rule_docs_and_selection_know_the_new_rules() {
    let sb = repository();
    let (code, stdout, _) = sb.run(&["rule", "unserved-version"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("# ASO013 `unserved-version`"),
        "{stdout}"
    );
    let crds = fixture_crds();
    let (_, report) = check_json(
        &sb,
        &["--crds", crds.to_str().unwrap(), "--ignore", "ASO012"],
    );
    assert_eq!(
        findings(&report),
        [("ASO013".into(), "manifests/vault.yaml".into(), 1, 32)]
    );
}
