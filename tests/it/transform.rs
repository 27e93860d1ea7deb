//! The transform fixtures: every case of `policy set`, `migrate` and `failover`, run through
//! the real binary and compared byte for byte with its expected tree.
//!
//! Layout, under `fixtures/transform/<command>/<case>/`:
//!
//! - `cmd`: the arguments, on one line, split at spaces (no quoting).
//! - `before/`: the repository the command runs in (its working directory). The harness adds
//!   an empty `.git` so config discovery stops there.
//! - `after/`: the expected repository afterwards, every file byte for byte (hidden files such
//!   as `.asoguard.yaml` included, `.git` excluded). Omitted when nothing may change.
//! - `exit`: the expected exit code, when it is not 0.
//! - `expect`: lines that must each appear in the command's output (stdout and stderr).
//!
//! For every case the harness checks the exit code, the expected lines and the tree. When the
//! command succeeds it also checks that:
//! 1. `asoguard check` finds no ASO001, ASO005 or ASO006 afterwards that it did not find
//!    before (compared as sets of file, code and object);
//! 2. running the command again changes nothing (every transform is idempotent).
//!
//! `ASOGUARD_BLESS=1 cargo test --test it transform::` rewrites `after/` from the actual result.
//! Review `git diff fixtures/transform` after blessing: the expected trees are the proof.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

use crate::support::read_tree;

/// Rules whose new findings a transform must never cause: skip in an active cluster, a passive
/// cluster without skip, and two active clusters reconciling one Azure resource.
pub const WATCHED: [&str; 3] = ["ASO001", "ASO005", "ASO006"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/transform")
}

fn bless() -> bool {
    std::env::var("ASOGUARD_BLESS").is_ok_and(|v| v == "1")
}

/// Every case directory (one holding `cmd`), sorted.
fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![fixtures()];
    while let Some(dir) = stack.pop() {
        if dir.join("cmd").is_file() {
            out.push(dir);
            continue;
        }
        for entry in fs::read_dir(&dir).expect("read fixtures") {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_dir() {
                stack.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

/// Copy a tree into `to` (created), and add `.git`.
pub fn sandbox(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (relative, bytes) in read_tree(from) {
        let path = dir.path().join(relative);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, bytes).expect("write");
    }
    fs::create_dir_all(dir.path().join(".git")).expect("mkdir .git");
    dir
}

/// Run asoguard in `dir` with `args`: (exit code, stdout + stderr).
pub fn asoguard(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::cargo_bin("asoguard")
        .expect("the binary")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("asoguard runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!text.contains("panicked"), "asoguard panicked:\n{text}");
    let code = output
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal:\n{text}"));
    (code, text)
}

/// The findings of the watched rules on a repository: (file, code, kind and name).
pub fn watched_findings(root: &Path) -> BTreeSet<(PathBuf, String, String)> {
    findings(root, &WATCHED)
}

/// The findings of rules `codes` on a repository: (file, code, kind and name).
pub fn findings(root: &Path, codes: &[&str]) -> BTreeSet<(PathBuf, String, String)> {
    let settings = asoguard_core::config::load(None, root).expect("the fixture config loads");
    let report = asoguard_core::check_paths(
        &[root.to_path_buf()],
        &settings,
        asoguard_core::RunOptions::default(),
    );
    report
        .diagnostics()
        .filter(|(_, d)| codes.contains(&d.rule.code()))
        .map(|(file, d)| {
            let object = d.object.as_ref().map_or_else(String::new, |o| {
                format!(
                    "{}/{}",
                    o.kind.as_deref().unwrap_or(""),
                    o.name.as_deref().unwrap_or("")
                )
            });
            (
                file.path
                    .strip_prefix(root)
                    .unwrap_or(&file.path)
                    .to_path_buf(),
                d.rule.code().to_string(),
                object,
            )
        })
        .collect()
}

fn describe_tree_diff(
    expected: &BTreeMap<PathBuf, Vec<u8>>,
    actual: &BTreeMap<PathBuf, Vec<u8>>,
) -> String {
    let mut out = String::new();
    let paths: BTreeSet<&PathBuf> = expected.keys().chain(actual.keys()).collect();
    for path in paths {
        match (expected.get(path), actual.get(path)) {
            (Some(_), None) => out.push_str(&format!("  missing: {}\n", path.display())),
            (None, Some(_)) => out.push_str(&format!("  unexpected: {}\n", path.display())),
            (Some(e), Some(a)) if e != a => {
                out.push_str(&format!("  differs: {}\n", path.display()));
                let (e, a) = (String::from_utf8_lossy(e), String::from_utf8_lossy(a));
                for change in similar::TextDiff::from_lines(e.as_ref(), a.as_ref())
                    .unified_diff()
                    .header("expected", "actual")
                    .to_string()
                    .lines()
                {
                    out.push_str(&format!("    {change}\n"));
                }
            }
            _ => {}
        }
    }
    out
}

fn run_case(case: &Path) -> Result<(), String> {
    let cmd = fs::read_to_string(case.join("cmd")).expect("cmd");
    let args: Vec<&str> = cmd.split_whitespace().collect();
    let expected_exit: i32 = fs::read_to_string(case.join("exit"))
        .map(|t| t.trim().parse().expect("exit holds a number"))
        .unwrap_or(0);
    let before = case.join("before");
    let after_dir = case.join("after");
    let expected_tree = if after_dir.is_dir() {
        read_tree(&after_dir)
    } else {
        read_tree(&before)
    };
    let sb = sandbox(&before);
    let (code, output) = asoguard(sb.path(), &args);
    let mut failures = Vec::new();
    if code != expected_exit {
        failures.push(format!(
            "exit code {code}, expected {expected_exit}; output:\n{output}"
        ));
    }
    if let Ok(expect) = fs::read_to_string(case.join("expect")) {
        for line in expect.lines().filter(|l| !l.trim().is_empty()) {
            if !output.contains(line) {
                failures.push(format!("output lacks `{line}`; output:\n{output}"));
            }
        }
    }
    let actual_tree = read_tree(sb.path());
    if actual_tree != expected_tree {
        if bless() {
            let _ = fs::remove_dir_all(&after_dir);
            if actual_tree != read_tree(&before) {
                for (relative, bytes) in &actual_tree {
                    let path = after_dir.join(relative);
                    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                    fs::write(path, bytes).expect("write");
                }
            }
            eprintln!("blessed {}", after_dir.display());
        } else {
            failures.push(format!(
                "the tree differs from after/:\n{}",
                describe_tree_diff(&expected_tree, &actual_tree)
            ));
        }
    }
    if code == 0 && failures.is_empty() {
        let original = sandbox(&before);
        let old = watched_findings(original.path());
        let new = watched_findings(sb.path());
        let added: Vec<_> = new.difference(&old).collect();
        if !added.is_empty() {
            failures.push(format!("new findings of {WATCHED:?}: {added:?}"));
        }
        let (again, output) = asoguard(sb.path(), &args);
        if again != 0 || !output.contains("Nothing to change.") {
            failures.push(format!(
                "running it again was not a no-op (exit {again}):\n{output}"
            ));
        }
        if read_tree(sb.path()) != actual_tree {
            failures.push("running it again changed the tree".into());
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

#[test]
fn transform_fixtures() {
    let cases = cases();
    assert!(
        cases.len() >= 10,
        "too few transform cases: {}",
        cases.len()
    );
    let mut failed = Vec::new();
    for case in &cases {
        if let Err(why) = run_case(case) {
            let name = case.strip_prefix(fixtures()).unwrap_or(case);
            failed.push(format!("== {}\n{why}", name.display()));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// Every command has cases, and every case has CRLF, multi-document and commented files
/// somewhere in its command's fixtures.
#[test]
fn fixtures_cover_crlf_multi_document_and_comments() {
    for command in ["policy", "migrate", "failover"] {
        let dir = fixtures().join(command);
        let tree = read_tree(&dir);
        let inputs: Vec<String> = tree
            .iter()
            .filter(|(p, _)| p.components().any(|c| c.as_os_str() == "before"))
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
            .collect();
        assert!(
            inputs.iter().any(|t| t.contains("\r\n")),
            "{command}: no CRLF input"
        );
        assert!(
            inputs
                .iter()
                .any(|t| t.matches("\n---").count() >= 1 && t.contains("kind:")),
            "{command}: no multi-document input"
        );
        assert!(
            inputs.iter().any(|t| t.contains("# ")),
            "{command}: no comments"
        );
    }
}

/// The text with every reconcile-policy annotation (own or `commonAnnotations`) removed, by
/// the same edit module the transforms use, so texts that differ only there compare equal.
fn without_policy(text: &str) -> String {
    use asoguard_core::manifest::RECONCILE_POLICY;
    use asoguard_core::yaml::{self, edit};
    let mut text = text.to_string();
    for _ in 0..1000 {
        let arena = yaml::Arena::new();
        let stream = yaml::parse(&arena, &text);
        let edits = stream.documents.iter().find_map(|d| {
            let root = d.root.as_ref()?;
            edit::remove_annotation(&text, root, RECONCILE_POLICY).or_else(|| {
                edit::remove_entry_at(&text, root, &["commonAnnotations"], RECONCILE_POLICY)
            })
        });
        match edits.and_then(|e| asoguard_core::fix::apply_edits(&text, &e)) {
            Some(next) => text = next,
            None => return text,
        }
    }
    panic!("annotations kept coming back");
}

/// migrate A to B, then fail over back to A: A's manifests are as they started, but for the
/// reconcile-policy annotations.
#[test]
fn migrate_then_failover_back_round_trips() {
    for (case, from, to, promote, demote) in [
        (
            "migrate/cluster-to-cluster",
            "clusters/east",
            "clusters/west",
            "east",
            "west",
        ),
        (
            "migrate/overlay-base",
            "clusters/east",
            "regions/west/cluster",
            "east",
            "cluster",
        ),
    ] {
        let before = fixtures().join(case).join("before");
        let sb = sandbox(&before);
        let start = read_tree(&sb.path().join(from));
        let (code, output) = asoguard(sb.path(), &["migrate", "--from", from, "--to", to]);
        assert_eq!(code, 0, "{case}: migrate:\n{output}");
        let (code, output) = asoguard(
            sb.path(),
            &["failover", "--promote", promote, "--demote", demote],
        );
        assert_eq!(code, 0, "{case}: failover:\n{output}");
        let end = read_tree(&sb.path().join(from));
        assert_eq!(
            start.keys().collect::<Vec<_>>(),
            end.keys().collect::<Vec<_>>(),
            "{case}: the same files"
        );
        for (path, bytes) in &start {
            let (a, b) = (
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&end[path]),
            );
            assert_eq!(
                without_policy(&a),
                without_policy(&b),
                "{case}: {} differs beyond its policy annotations",
                path.display()
            );
        }
        // And the source is active again, with nothing for check to report.
        assert!(watched_findings(sb.path()).is_empty(), "{case}");
    }
}

const RG: &str =
    "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: rg\n";

/// A sandbox holding `n` resource groups under `clusters/prod`.
fn many(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::create_dir_all(dir.path().join(".git")).expect("mkdir");
    fs::create_dir_all(dir.path().join("clusters/prod")).expect("mkdir");
    for i in 0..n {
        fs::write(
            dir.path().join(format!("clusters/prod/rg-{i:03}.yaml")),
            RG.replace("name: rg", &format!("name: rg-{i:03}")),
        )
        .expect("write");
    }
    dir
}

#[test]
fn over_100_files_need_yes_when_not_on_a_terminal() {
    let sb = many(101);
    let start = read_tree(sb.path());
    let args = ["policy", "set", "detach-on-delete", "clusters"];
    // assert_cmd gives the child an empty, non-terminal standard input.
    let (code, output) = asoguard(sb.path(), &args);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("refusing to write 101 files without --yes"),
        "{output}"
    );
    assert_eq!(read_tree(sb.path()), start, "nothing was written");
    let (code, output) = asoguard(sb.path(), &[&args[..], &["--yes"]].concat());
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("Wrote 101 files (0 new)."), "{output}");
    // 100 files or fewer need no --yes.
    let sb = many(100);
    let (code, output) = asoguard(sb.path(), &args);
    assert_eq!(code, 0, "{output}");
}

#[test]
fn a_failed_write_changes_no_file() {
    let sb = many(3);
    let locked = sb.path().join("clusters/prod/rg-002.yaml");
    let mut perms = fs::metadata(&locked).expect("meta").permissions();
    perms.set_readonly(true);
    fs::set_permissions(&locked, perms).expect("chmod");
    let start = read_tree(sb.path());
    let (code, output) = asoguard(
        sb.path(),
        &["policy", "set", "detach-on-delete", "clusters"],
    );
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("error: clusters/prod/rg-002.yaml: cannot write the file"),
        "the error names the file:\n{output}"
    );
    assert!(output.contains("nothing was written"), "{output}");
    assert_eq!(
        read_tree(sb.path()),
        start,
        "the files written first were restored"
    );
}

#[test]
fn a_failed_write_of_a_new_file_changes_nothing() {
    // The destination's `sub` is a file, so the copy's directory cannot be made.
    let sb = many(2);
    fs::create_dir_all(sb.path().join("clusters/west")).expect("mkdir");
    fs::create_dir_all(sb.path().join("clusters/prod/sub")).expect("mkdir");
    fs::write(sb.path().join("clusters/prod/sub/rg.yaml"), RG).expect("write");
    fs::write(sb.path().join("clusters/west/sub"), "not a directory\n").expect("write");
    let start = read_tree(sb.path());
    let (code, output) = asoguard(
        sb.path(),
        &[
            "migrate",
            "--from",
            "clusters/prod",
            "--to",
            "clusters/west",
        ],
    );
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("clusters/west/sub/rg.yaml"), "{output}");
    assert_eq!(read_tree(sb.path()), start);
    assert!(!sb.path().join(".asoguard.yaml").exists());
}

#[test]
fn diff_and_plan_write_nothing_and_exit_1() {
    let sb = many(2);
    let start = read_tree(sb.path());
    for args in [
        &["policy", "set", "skip", "clusters", "--force", "--diff"][..],
        &[
            "migrate",
            "--from",
            "clusters/prod",
            "--to",
            "clusters/west",
            "--plan",
        ][..],
    ] {
        let (code, output) = asoguard(sb.path(), args);
        assert_eq!(code, 1, "{output}");
        assert!(
            output.contains("--- a/clusters/prod/rg-000.yaml"),
            "{output}"
        );
        assert_eq!(read_tree(sb.path()), start, "{args:?} wrote something");
    }
    let (code, output) = asoguard(
        sb.path(),
        &[
            "migrate",
            "--from",
            "clusters/prod",
            "--to",
            "clusters/west",
            "--plan",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        output.contains("--- /dev/null\n+++ b/clusters/west/rg-000.yaml"),
        "{output}"
    );
    assert!(
        output.contains("1. In clusters/prod, every ASO resource carries `skip`"),
        "{output}"
    );
    assert!(
        output.contains("4. Once every resource is Ready"),
        "{output}"
    );
}

/// A migration's copies carry none of the live state ASO011 reports, though the source did.
#[test]
fn migrated_copies_carry_no_live_state() {
    let before = fixtures().join("migrate/cluster-to-cluster/before");
    let sb = sandbox(&before);
    let source_state = findings(sb.path(), &["ASO011"]);
    assert!(
        source_state
            .iter()
            .any(|(path, _, _)| path.starts_with("clusters/east")),
        "the fixture's source carries live state: {source_state:?}"
    );
    let (code, output) = asoguard(
        sb.path(),
        &[
            "migrate",
            "--from",
            "clusters/east",
            "--to",
            "clusters/west",
        ],
    );
    assert_eq!(code, 0, "{output}");
    let copies: Vec<_> = findings(sb.path(), &["ASO011"])
        .into_iter()
        .filter(|(path, _, _)| path.starts_with("clusters/west"))
        .collect();
    assert!(copies.is_empty(), "{copies:?}");
}

/// Transforms over the whole-repository fixtures (`fixtures/repos/`: Kustomize overlays, Flux,
/// ArgoCD App-of-Apps, namespace per environment, active-active). Each either succeeds, with
/// no new ASO001/ASO005/ASO006 and a second run that changes nothing, or is refused with the
/// tree untouched.
#[test]
fn transforms_on_the_fixture_repositories() {
    let repos = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/repos");
    let commands: &[(&str, &[&str])] = &[
        (
            "active-active",
            &["policy", "set", "detach-on-delete", ".", "--critical-only"],
        ),
        (
            "active-active",
            &["failover", "--promote", "east", "--demote", "west"],
        ),
        (
            "active-active",
            &[
                "migrate",
                "--from",
                "clusters/east",
                "--to",
                "clusters/north",
            ],
        ),
        (
            "argocd-app-of-apps",
            &["policy", "set", "detach-on-delete", ".", "--critical-only"],
        ),
        (
            "argocd-app-of-apps",
            &[
                "migrate",
                "--from",
                "infra/azure",
                "--to",
                "infra/azure-west",
            ],
        ),
        (
            "flux",
            &["policy", "set", "detach-on-delete", ".", "--critical-only"],
        ),
        (
            "flux",
            &[
                "migrate",
                "--from",
                "infrastructure/azure",
                "--to",
                "infrastructure/west",
            ],
        ),
        (
            "flux",
            &[
                "migrate",
                "--from",
                "clusters/prod",
                "--to",
                "clusters/west",
            ],
        ),
        (
            "kustomize-overlays",
            &["policy", "set", "detach-on-delete", ".", "--critical-only"],
        ),
        (
            "kustomize-overlays",
            &["policy", "set", "unset", "overlays"],
        ),
        (
            "kustomize-overlays",
            &["failover", "--promote", "dr", "--demote", "prod"],
        ),
        (
            "kustomize-overlays",
            &["failover", "--promote", "staging", "--demote", "prod"],
        ),
        (
            "kustomize-overlays",
            &[
                "migrate",
                "--from",
                "overlays/staging",
                "--to",
                "overlays/qa",
            ],
        ),
        (
            "kustomize-overlays",
            &[
                "migrate",
                "--from",
                "overlays/prod",
                "--to",
                "regions/west/prod",
            ],
        ),
        (
            "kustomize-overlays",
            &["migrate", "--from", "base", "--to", "base-west"],
        ),
        (
            "namespace-per-env",
            &["policy", "set", "detach-on-delete", ".", "--critical-only"],
        ),
        (
            "namespace-per-env",
            &[
                "migrate",
                "--from",
                "dev",
                "--to",
                "test",
                "--namespace",
                "test",
            ],
        ),
    ];
    let mut succeeded = 0;
    let mut failures = Vec::new();
    for (repo, args) in commands {
        let dir = repos.join(repo);
        if !dir.is_dir() {
            failures.push(format!("{repo}: no such fixture repository"));
            continue;
        }
        let sb = sandbox(&dir);
        // The repositories' own expectation files are not part of the repository.
        for name in ["expected.txt", "fixed.txt"] {
            let _ = fs::remove_file(sb.path().join(name));
        }
        let start = read_tree(sb.path());
        let old = watched_findings(sb.path());
        let args = [*args, &["--yes"]].concat();
        let (code, output) = asoguard(sb.path(), &args);
        let label = format!("{repo}: asoguard {}", args.join(" "));
        match code {
            0 => {
                succeeded += 1;
                let new = watched_findings(sb.path());
                let added: Vec<_> = new.difference(&old).collect();
                if !added.is_empty() {
                    failures.push(format!("{label}: new findings {added:?}"));
                }
                let after = read_tree(sb.path());
                let (again, output) = asoguard(sb.path(), &args);
                if again != 0 || read_tree(sb.path()) != after {
                    failures.push(format!(
                        "{label}: the second run was not a no-op:\n{output}"
                    ));
                }
            }
            2 if read_tree(sb.path()) == start => {}
            _ => failures.push(format!(
                "{label}: exit {code} (or a refusal that changed the tree):\n{output}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        succeeded >= 10,
        "only {succeeded} of the transforms succeeded"
    );
}
