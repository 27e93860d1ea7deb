//! asoguard over ASO's own samples (`shared/corpus/aso-samples`): every manifest parses, the
//! report is deterministic, and `--fix` only ever adds or changes reconcile-policy annotations,
//! leaves no ASO001-ASO004 finding behind, and is idempotent.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{copy_dir, repo_root, run_in};

const RECONCILE_POLICY: &str = "serviceoperator.azure.com/reconcile-policy";
const ASO_RULES: [&str; 4] = ["ASO001", "ASO002", "ASO003", "ASO004"];

/// The corpus, or `None` (with a printed reason) when it is missing outside CI.
fn corpus() -> Option<PathBuf> {
    let path = repo_root().join("../shared/corpus/aso-samples");
    if path.is_dir() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and the corpus {} is missing", path.display());
    }
    eprintln!(
        "skipped: the corpus {} is missing; set CI=true to make this fail",
        path.display()
    );
    None
}

fn json_report(cwd: &Path, path: &str) -> Value {
    let (_, out) = run_in(cwd, &["check", "--format", "json", path]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e})"))
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings")
}

/// Every file under `dir` (hidden ones too), relative path -> bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).expect("read_dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            if entry.file_type().expect("file type").is_dir() {
                walk(base, &path, out);
            } else {
                let relative = path.strip_prefix(base).expect("under base").to_path_buf();
                out.insert(relative, fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// How many `.yaml`/`.yml` files a directory walk should find (hidden directories skipped).
fn count_manifests(dir: &Path) -> usize {
    let mut count = 0;
    for entry in fs::read_dir(dir).expect("read_dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().expect("file type").is_dir() {
            if !name.starts_with('.') {
                count += count_manifests(&entry.path());
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            count += 1;
        }
    }
    count
}

#[test]
fn corpus_parses_and_reports_deterministically() {
    let Some(corpus) = corpus() else {
        return;
    };
    let cwd = corpus.parent().expect("parent");
    let first = run_in(cwd, &["check", "--format", "json", "aso-samples"]);
    let second = run_in(cwd, &["check", "--format", "json", "aso-samples"]);
    assert_eq!(first.0, second.0, "same exit code");
    assert!(first.1 == second.1, "two runs give byte-identical JSON");

    let report: Value = serde_json::from_str(&first.1).expect("JSON");
    let e001: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["code"] == "E001")
        .collect();
    assert!(e001.is_empty(), "E001 in the corpus: {e001:#?}");

    let expected_files = count_manifests(&corpus);
    assert!(expected_files > 1000, "the corpus holds ~1074 manifests");
    assert_eq!(
        report["summary"]["files"], expected_files,
        "every .yaml/.yml file is checked, nothing else (README.md, *.yaml.disabled)"
    );
    assert!(
        report["summary"]["documents"].as_u64().unwrap() >= expected_files as u64,
        "{}",
        report["summary"]
    );

    // SARIF is deterministic too.
    let a = run_in(cwd, &["check", "--format", "sarif", "aso-samples"]).1;
    let b = run_in(cwd, &["check", "--format", "sarif", "aso-samples"]).1;
    assert!(a == b, "two runs give byte-identical SARIF");
}

fn is_annotation_line(line: &str) -> bool {
    let line = line.trim();
    let key = line.trim_start_matches(['"', '\'']);
    line == "annotations:" || key.starts_with(RECONCILE_POLICY)
}

/// Lines of `before` missing from `after` and lines of `after` missing from `before`, as
/// multisets.
fn line_changes(before: &str, after: &str) -> (Vec<String>, Vec<String>) {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for line in before.lines() {
        *counts.entry(line).or_default() -= 1;
    }
    for line in after.lines() {
        *counts.entry(line).or_default() += 1;
    }
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for (line, n) in counts {
        for _ in 0..n.unsigned_abs() {
            if n < 0 {
                removed.push(line.to_string());
            } else {
                added.push(line.to_string());
            }
        }
    }
    (removed, added)
}

#[test]
fn fix_touches_only_reconcile_policy_annotations_and_is_idempotent() {
    let Some(corpus) = corpus() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("aso-samples");
    copy_dir(&corpus, &copy);
    let before = snapshot(&copy);

    // The files that have a fixable ASO001-ASO004 finding before the fix.
    let pre = json_report(dir.path(), "aso-samples");
    let expected_changed: BTreeSet<PathBuf> = findings(&pre)
        .iter()
        .filter(|f| ASO_RULES.contains(&f["code"].as_str().unwrap()) && !f["fix"].is_null())
        .map(|f| {
            Path::new(f["path"].as_str().unwrap())
                .strip_prefix("aso-samples")
                .expect("under aso-samples")
                .to_path_buf()
        })
        .collect();
    assert!(
        !expected_changed.is_empty(),
        "the corpus has fixable findings (ASO003 on critical kinds)"
    );

    let (code, out) = run_in(dir.path(), &["check", "--fix", "aso-samples"]);
    let after = snapshot(&copy);
    let post = json_report(dir.path(), "aso-samples");
    let left: Vec<&Value> = findings(&post)
        .iter()
        .filter(|f| ASO_RULES.contains(&f["code"].as_str().unwrap()))
        .collect();
    assert!(left.is_empty(), "findings left after --fix: {left:#?}");
    assert_green(&pre, &post);
    if findings(&post).is_empty() {
        assert_eq!(code, 0, "{out}");
    }

    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "--fix creates and deletes no file"
    );
    let changed: BTreeSet<PathBuf> = before
        .iter()
        .filter(|(path, bytes)| after[*path] != **bytes)
        .map(|(path, _)| path.clone())
        .collect();
    assert_eq!(
        changed, expected_changed,
        "exactly the files with fixes change"
    );

    for path in &changed {
        let old = String::from_utf8(before[path].clone()).expect("UTF-8");
        let new = String::from_utf8(after[path].clone()).expect("UTF-8");
        let (removed, added) = line_changes(&old, &new);
        assert!(!added.is_empty(), "{}: a fix adds a line", path.display());
        for line in removed.iter().chain(&added) {
            assert!(
                is_annotation_line(line),
                "{}: --fix changed a line that is not a reconcile-policy annotation: {line:?}\nremoved: {removed:?}\nadded: {added:?}",
                path.display()
            );
        }
        assert!(
            added
                .iter()
                .filter(|l| l.contains(RECONCILE_POLICY))
                .all(|l| l.trim_end().ends_with(": detach-on-delete")),
            "{}: added policies are detach-on-delete: {added:?}",
            path.display()
        );
        // The result is still one manifest per original document.
        assert_eq!(
            old.matches("\n---").count(),
            new.matches("\n---").count(),
            "{}",
            path.display()
        );
    }

    let (code, out) = run_in(dir.path(), &["check", "--fix", "aso-samples"]);
    assert!(
        !out.contains("Fixed"),
        "a second --fix fixes nothing:\n{out}"
    );
    if findings(&post).is_empty() {
        assert_eq!(code, 0);
    }
    let again = snapshot(&copy);
    assert!(again == after, "a second --fix changes no byte");
}

/// `--fix` ended green: no finding left has a safe fix, and none is new (a finding is known by
/// its rule, file and object, as lines move under fixes).
fn assert_green(before: &Value, after: &Value) {
    let key = |f: &Value| {
        (
            f["code"].as_str().unwrap_or_default().to_string(),
            f["path"].as_str().unwrap_or_default().to_string(),
            f["object"]["kind"].as_str().map(str::to_string),
            f["object"]["name"].as_str().map(str::to_string),
        )
    };
    let known: BTreeSet<_> = findings(before).iter().map(key).collect();
    for f in findings(after) {
        assert!(
            f["fix"]["applicability"] != "safe",
            "a safe fix is left after --fix: {f:#}"
        );
        assert!(known.contains(&key(f)), "--fix created a finding: {f:#}");
    }
}

#[test]
fn line_changes_counts_multisets() {
    let (removed, added) = line_changes("a\nb\nb\nc\n", "a\nb\nx\nc\nc\n");
    assert_eq!(removed, ["b"]);
    assert_eq!(added, ["c", "x"]);
    assert!(is_annotation_line("  annotations:"));
    assert!(is_annotation_line(
        "    serviceoperator.azure.com/reconcile-policy: detach-on-delete"
    ));
    assert!(is_annotation_line(
        "    \"serviceoperator.azure.com/reconcile-policy\": skip"
    ));
    assert!(!is_annotation_line("  name: rg"));
    assert!(!is_annotation_line("  annotations: {}x"));
}
