//! Fixture repositories under `fixtures/repos/`: whole GitOps layouts (Kustomize overlays, Flux,
//! ArgoCD App-of-Apps, namespace per environment), each with the findings expected before and
//! after `--fix`.
//!
//! Each repository has `expected.txt` (findings on the repository as committed) and
//! `fixed.txt` (findings left after `asoguard check --fix` on a copy), one finding per line:
//! `path:line:column CODE severity`, the path relative to the repository; and `notes.txt`, its
//! notes as `kind path` (`kind -` for a note about the run): what is not applied or not
//! checked. `--fix` must end green: no finding left with a safe fix, none created. Both are written by
//! hand; `ASOGUARD_BLESS=1 cargo test --test it repos::` rewrites them from the actual output, for
//! review. A second `--fix` must change nothing.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use crate::support::copy_dir;

fn repos_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/repos")
}

/// Every file of a tree, relative path to bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = walk(dir)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().to_path_buf(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// `asoguard check --format json` on `dir`.
fn report(dir: &Path, extra: &[&str]) -> Value {
    let output = Command::cargo_bin("asoguard")
        .unwrap()
        .current_dir(dir)
        .args(["check", ".", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The notes of a JSON report as `kind path` lines (`kind -` for a note about the run), sorted:
/// what the repository holds that is not applied or not checked.
fn notes(report: &Value) -> Vec<String> {
    let mut lines: Vec<String> = report["notes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|n| {
            format!(
                "{} {}",
                n["kind"].as_str().unwrap(),
                n["path"].as_str().unwrap_or("-")
            )
        })
        .collect();
    lines.sort();
    lines
}

/// `--fix` ended green: no finding left has a safe fix, and none is new (a finding is known by
/// its rule, file and object, as lines move under fixes).
fn green(before: &Value, after: &Value) -> Result<(), String> {
    let key = |f: &Value| {
        (
            f["code"].as_str().unwrap_or_default().to_string(),
            f["path"].as_str().unwrap_or_default().to_string(),
            f["object"]["kind"].as_str().map(str::to_string),
            f["object"]["name"].as_str().map(str::to_string),
        )
    };
    let known: Vec<_> = before["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect();
    for f in after["findings"].as_array().unwrap() {
        if f["fix"]["applicability"] == "safe" {
            return Err(format!("a safe fix is left after --fix: {f}"));
        }
        if !known.contains(&key(f)) {
            return Err(format!("--fix created a finding: {f}"));
        }
    }
    Ok(())
}

/// `asoguard check` on `dir` (with `extra` arguments), findings as `path:line:col CODE severity`.
fn findings(dir: &Path, extra: &[&str]) -> Vec<String> {
    let output = Command::cargo_bin("asoguard")
        .unwrap()
        .current_dir(dir)
        .args(["check", ".", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "exit {code:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut lines: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{} {} {}",
                f["path"].as_str().unwrap(),
                f["start"]["line"],
                f["start"]["column"],
                f["code"].as_str().unwrap(),
                f["severity"].as_str().unwrap()
            )
        })
        .collect();
    lines.sort();
    lines
}

fn compare(repo: &Path, file: &str, actual: &[String]) -> Result<(), String> {
    let path = repo.join(file);
    if std::env::var_os("ASOGUARD_BLESS").is_some() {
        let mut text = actual.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        fs::write(&path, text).unwrap();
        return Ok(());
    }
    let expected: Vec<String> = fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    if expected != actual {
        return Err(format!(
            "{}: findings differ\n  expected:\n    {}\n  actual:\n    {}",
            path.display(),
            expected.join("\n    "),
            actual.join("\n    ")
        ));
    }
    Ok(())
}

#[test]
fn fixture_repositories() {
    let mut failures = Vec::new();
    let mut repos: Vec<PathBuf> = fs::read_dir(repos_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    assert!(
        repos.len() >= 4,
        "the four layouts (Flux, ArgoCD app of apps, Kustomize overlays, namespace per env) are there"
    );
    for repo in repos {
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join("repo");
        copy_dir(&repo, &copy);
        // Expected files are not manifests: keep them out of the copy that is linted.
        for name in ["expected.txt", "fixed.txt", "notes.txt"] {
            let _ = fs::remove_file(copy.join(name));
        }
        if let Err(e) = compare(&repo, "expected.txt", &findings(&copy, &[])) {
            failures.push(e);
        }
        if let Err(e) = compare(&repo, "notes.txt", &notes(&report(&copy, &[]))) {
            failures.push(e);
        }
        let before = snapshot(&copy);
        let before_fix_report = report(&copy, &[]);
        let _ = findings(&copy, &["--fix"]);
        let after_fix = snapshot(&copy);
        // ASO006 has no fix: a repository whose findings all stay changes no file.
        let unfixable = fs::read_to_string(repo.join("fixed.txt")).ok()
            == fs::read_to_string(repo.join("expected.txt")).ok();
        assert_eq!(
            before == after_fix,
            unfixable,
            "{}: --fix should change files exactly when it can fix something",
            repo.display()
        );
        if let Err(e) = compare(&repo, "fixed.txt", &findings(&copy, &[])) {
            failures.push(e);
        }
        if let Err(e) = green(&before_fix_report, &report(&copy, &[])) {
            failures.push(format!("{}: {e}", repo.display()));
        }
        let _ = findings(&copy, &["--fix"]);
        assert_eq!(
            after_fix,
            snapshot(&copy),
            "{}: a second --fix changed files",
            repo.display()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// ASO006 reports each place, pointing at the other (SARIF `relatedLocations`).
#[test]
fn active_active_points_at_the_other_cluster() {
    let repo = repos_dir().join("active-active");
    let output = Command::cargo_bin("asoguard")
        .unwrap()
        .current_dir(&repo)
        .args(["check", ".", "--format", "sarif"])
        .output()
        .unwrap();
    let log: Value = serde_json::from_slice(&output.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    // URIs are relative to the git work tree holding the fixture (this repository), if any.
    let prefix = repo
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .and_then(|git| repo.strip_prefix(git).ok())
        .map(|p| format!("{}/", p.display()))
        .unwrap_or_default();
    let in_fixture = |uri: &str| {
        uri.strip_prefix(prefix.as_str())
            .unwrap_or_else(|| panic!("{uri} lies in the fixture"))
            .to_string()
    };
    let mut pairs = Vec::new();
    for result in results.iter().filter(|r| r["ruleId"] == "ASO006") {
        let own = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        let related = &result["relatedLocations"][0]["physicalLocation"];
        assert_eq!(related["artifactLocation"]["uriBaseId"], "SRCROOT");
        let other = related["artifactLocation"]["uri"].as_str().unwrap();
        assert_ne!(own, other);
        pairs.push((
            in_fixture(own),
            in_fixture(other),
            related["region"]["startLine"].as_u64().unwrap(),
        ));
    }
    pairs.sort();
    assert_eq!(
        pairs,
        [
            (
                "clusters/east/shared.yaml".to_string(),
                "clusters/west/shared.yaml".to_string(),
                4
            ),
            (
                "clusters/east/shared.yaml".to_string(),
                "clusters/west/shared.yaml".to_string(),
                13
            ),
            (
                "clusters/west/shared.yaml".to_string(),
                "clusters/east/shared.yaml".to_string(),
                4
            ),
            (
                "clusters/west/shared.yaml".to_string(),
                "clusters/east/shared.yaml".to_string(),
                13
            ),
        ]
    );
}

/// `asoguard init` in `dir` (its own `.asoguard.yaml` removed first): the written config.
fn init(dir: &Path) -> String {
    let _ = fs::remove_file(dir.join(".asoguard.yaml"));
    let output = Command::cargo_bin("asoguard")
        .unwrap()
        .current_dir(dir)
        .arg("init")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    fs::read_to_string(dir.join(".asoguard.yaml")).unwrap()
}

/// The config text with cluster `name`'s role set to `role`.
fn with_role(config: &str, name: &str, role: &str) -> String {
    let start = config
        .find(&format!("\n  {name}:\n"))
        .unwrap_or_else(|| panic!("no cluster `{name}` in:\n{config}"));
    let at = start + config[start..].find("    role: ").unwrap() + "    role: ".len();
    let end = at + config[at..].find('\n').unwrap();
    format!("{}{role}{}", &config[..at], &config[end..])
}

/// What `init` proposes makes `check` judge each repository as its hand-written config does:
/// the proposed paths place what every Flux Kustomization, ArgoCD Application and overlay
/// renders in the cluster it targets, and passive clusters are those whose resources all carry
/// `skip`. Where a hand-written config makes a cluster passive that has no `skip` yet (the
/// fixtures that show ASO005), setting that role on the proposal gives the same findings:
/// the role of a proposed cluster decides how what it renders is judged.
#[test]
fn init_proposals_judge_as_the_hand_written_configs() {
    let mut repos: Vec<PathBuf> = fs::read_dir(repos_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    repos.push(repos_dir().join("../demo"));
    // Roles the proposal cannot read from the manifests: passive clusters without `skip`, an
    // active one with `skip` everywhere (both findings the fixtures are about).
    let intended: &[(&str, &[(&str, &str)])] = &[
        ("flux-applier-outside-clusters", &[("ppe", "passive")]),
        (
            "kustomize-overlays",
            &[("dr", "passive"), ("staging", "active")],
        ),
        ("passive-overlay-shared-base", &[("dr", "passive")]),
    ];
    let mut failures = Vec::new();
    for repo in repos {
        let name = repo.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join("repo");
        copy_dir(&repo, &copy);
        fs::create_dir_all(copy.join(".git")).unwrap();
        for file in ["expected.txt", "fixed.txt"] {
            let _ = fs::remove_file(copy.join(file));
        }
        let by_hand = findings(&copy, &[]);
        let mut proposed = init(&copy);
        let roles = intended
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[][..], |(_, r)| r);
        if !roles.is_empty() {
            assert_ne!(
                findings(&copy, &[]),
                by_hand,
                "{name}: the roles to set should change the findings"
            );
        }
        for (cluster, role) in roles {
            proposed = with_role(&proposed, cluster, role);
        }
        fs::write(copy.join(".asoguard.yaml"), &proposed).unwrap();
        let from_init = findings(&copy, &[]);
        if from_init != by_hand {
            failures.push(format!(
                "{name}: findings differ\n  by hand:\n    {}\n  from init:\n    {}\n  config:\n{proposed}",
                by_hand.join("\n    "),
                from_init.join("\n    ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// What `init` prints for the demo and a Flux repository: clusters named as users name them,
/// paths that cover what their appliers render, resources counted as applied.
#[test]
fn init_output_names_clusters_from_their_appliers() {
    for (fixture, expected) in [
        (
            "../demo",
            "  prod                 active   apps/prod.yaml, clusters/prod/** (5 ASO resources, 1 with skip)\n  dr                   passive  clusters/dr/** (1 ASO resource, 1 with skip)\n",
        ),
        (
            "flux-postbuild-substitute",
            "  dev                  active   clusters/dev/** (7 ASO resources, 0 with skip)\n  dr                   passive  clusters/dr/** (7 ASO resources, 7 with skip)\n  prod                 active   clusters/prod/** (7 ASO resources, 0 with skip)\n  staging              active   clusters/staging/** (7 ASO resources, 0 with skip)\n  apps/base is in no cluster's paths: dev, dr, prod and staging all render it\n",
        ),
        (
            "flux",
            "  prod                 active   clusters/prod/**, infrastructure/azure/**, infrastructure/legacy/** (3 ASO resources, 0 with skip)\n",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join("repo");
        copy_dir(&repos_dir().join(fixture), &copy);
        fs::create_dir_all(copy.join(".git")).unwrap();
        let _ = fs::remove_file(copy.join(".asoguard.yaml"));
        let output = Command::cargo_bin("asoguard")
            .unwrap()
            .current_dir(&copy)
            .arg("init")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains(expected), "{fixture}:\n{stdout}");
    }
}

/// Objects of kinds ASO never had are no ASO resources: neither `--fix` (unsafe fixes included:
/// ASO010 protects the children of a protected parent) nor `policy set` annotates them, while
/// the real resources beside them are annotated.
#[test]
fn unknown_kinds_are_left_as_written() {
    let repo = repos_dir().join("unknown-kinds");
    let azure = Path::new("apps/orders/azure");
    // The documents of unknown kinds, in file order, as written.
    let unknown_documents = |root: &Path| -> Vec<String> {
        ["blob-containers.yaml", "file-shares.yaml", "network.yaml"]
            .iter()
            .flat_map(|file| {
                let text = fs::read_to_string(root.join(azure).join(file)).unwrap();
                text.split("\n---\n")
                    .filter(|d| {
                        [
                            "kind: BlobContainer\n",
                            "kind: FileShare\n",
                            "kind: Subnet\n",
                        ]
                        .iter()
                        .any(|k| d.contains(k))
                    })
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let written = unknown_documents(&repo);
    assert_eq!(
        written.len(),
        7,
        "the repository holds 7 documents of unknown kinds"
    );
    for command in [
        // Every rule, the opt-in ASO010 too (it protects a protected parent's children).
        &["check", ".", "--fix", "--unsafe-fixes", "--select", "ALL"][..],
        &["policy", "set", "detach-on-delete", "."][..],
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join("repo");
        copy_dir(&repo, &copy);
        fs::create_dir(copy.join(".git")).unwrap();
        let output = Command::cargo_bin("asoguard")
            .unwrap()
            .current_dir(&copy)
            .args(command)
            .output()
            .unwrap();
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{command:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        for file in ["blob-containers.yaml", "file-shares.yaml"] {
            assert_eq!(
                fs::read(copy.join(azure).join(file)).unwrap(),
                fs::read(repo.join(azure).join(file)).unwrap(),
                "{command:?} changed {file}"
            );
        }
        assert_eq!(unknown_documents(&copy), written, "{command:?}");
        // The real resources beside them were annotated.
        for file in ["storage.yaml", "network.yaml"] {
            let text = fs::read_to_string(copy.join(azure).join(file)).unwrap();
            assert!(
                text.contains("serviceoperator.azure.com/reconcile-policy: detach-on-delete"),
                "{command:?} left {file} as it was:\n{text}"
            );
        }
    }
}
