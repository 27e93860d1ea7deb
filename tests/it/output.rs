//! What users read on the command line, pinned as insta snapshots
//! (`tests/it/snapshots/it__output__*.snap`): the text report of the bundled demo, the rules
//! table, one rule's documentation and the demo's inventory. Every other test checks pieces of
//! these texts; a snapshot shows a change to any of their bytes.
//!
//! Each command runs the real binary where a user would, so the paths shown are relative
//! (`fixtures/demo/...` from the repository root, `clusters/...` from inside the demo). After
//! changing a text on purpose, run `INSTA_UPDATE=always cargo test --test it output::` and
//! review `git diff` of the snapshots.

use assert_cmd::Command;

use crate::support::{repo_root, run};

/// Run `asoguard ARGS` in `dir` (relative to the repository root), expecting exit `code` and
/// nothing on stderr; its stdout.
fn stdout_of(dir: &str, args: &[&str], code: i32) -> String {
    let mut cmd = Command::cargo_bin("asoguard").expect("the asoguard binary");
    cmd.current_dir(repo_root().join(dir)).args(args);
    let (actual, stdout, stderr) = run(&mut cmd);
    assert_eq!(actual, code, "asoguard {args:?}:\n{stdout}\n{stderr}");
    assert_eq!(stderr, "", "asoguard {args:?} wrote to stderr");
    stdout
}

#[test]
fn check_demo_text() {
    insta::assert_snapshot!(stdout_of(".", &["check", "fixtures/demo"], 1));
}

#[test]
fn rules_table() {
    insta::assert_snapshot!(stdout_of(".", &["rules"], 0));
}

#[test]
fn rule_documentation() {
    insta::assert_snapshot!(stdout_of(".", &["rule", "ASO001"], 0));
}

#[test]
fn inventory_of_the_demo() {
    insta::assert_snapshot!(stdout_of("fixtures/demo", &["inventory"], 0));
}
