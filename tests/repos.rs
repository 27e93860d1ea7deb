//! Fixture repositories under `fixtures/repos/`: whole GitOps layouts (Kustomize overlays, Flux,
//! ArgoCD App-of-Apps, namespace per environment), each with the findings expected before and
//! after `--fix`.
//!
//! Each repository has `expected.txt` (findings on the repository as committed) and
//! `fixed.txt` (findings left after `asoguard check --fix` on a copy), one finding per line:
//! `path:line:column CODE severity`, the path relative to the repository. Both are written by
//! hand; `ASOGUARD_BLESS=1 cargo test --test repos` rewrites them from the actual output, for
//! review. A second `--fix` must change nothing.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repos_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/repos")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
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
    assert!(repos.len() >= 4, "the four layouts of the issue are there");
    for repo in repos {
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join("repo");
        copy_dir(&repo, &copy);
        // Expected files are not manifests: keep them out of the copy that is linted.
        for name in ["expected.txt", "fixed.txt"] {
            let _ = fs::remove_file(copy.join(name));
        }
        if let Err(e) = compare(&repo, "expected.txt", &findings(&copy, &[])) {
            failures.push(e);
        }
        let before = snapshot(&copy);
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
            own.to_string(),
            other.to_string(),
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
        &["check", ".", "--fix", "--unsafe-fixes"][..],
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
