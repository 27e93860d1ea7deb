//! The README's examples run on the bundled demo (`fixtures/demo`) and do what the README says.
//!
//! The commands are read from README.md itself: every line of a ```sh block that runs
//! `asoguard ...` (or `cargo run --release -- ...`) without a placeholder (a capitalised word
//! such as `PATHS` or `FILE`, or `[...]`) is an example meant for the demo. Each one is run on
//! a fresh copy of the demo (in `fixtures/demo`, or, for `cargo run` lines, from a directory
//! that holds the copy at `fixtures/demo`), standard input fed from `< FILE` when the line has
//! one, and its effect is checked by the expectation of the same command below.
//!
//! A README example without an expectation fails the test, and so does an expectation whose
//! command the README no longer shows: the README and this file cannot drift apart. A block
//! preceded by `<!-- readme-test: illustrative -->` is an example the demo cannot run (it needs
//! files the demo does not ship), and says so in its text.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::support::{Sandbox, copy_dir, read_tree, repo_root, run};

fn readme() -> String {
    fs::read_to_string(repo_root().join("README.md")).expect("README.md")
}

/// One runnable example from the README.
#[derive(Debug)]
struct Example {
    /// The command as the expectations name it: its words joined by single spaces, with
    /// ` < FILE` when it reads standard input.
    key: String,
    /// The arguments after `asoguard`.
    args: Vec<String>,
    /// The demo file fed to standard input.
    stdin: Option<String>,
    /// A `cargo run --release --` line: run from the directory holding `fixtures/demo`.
    from_repository: bool,
}

/// Whether a word of a command is a placeholder rather than something to type.
fn is_placeholder(word: &str) -> bool {
    word.contains(['[', ']', '|'])
        || word.ends_with("...")
        || (word.len() > 1
            && word.chars().all(|c| c.is_ascii_uppercase() || c == '.')
            && !word.chars().any(|c| c.is_ascii_digit()))
}

/// Every runnable example of the README, in order, each once.
fn examples(readme: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut in_block = false;
    let mut illustrative = false;
    let mut previous = "";
    for line in readme.lines() {
        if !in_block {
            if line.starts_with("```sh") {
                in_block = true;
                illustrative = previous.trim() == "<!-- readme-test: illustrative -->";
            }
            if !line.trim().is_empty() {
                previous = line;
            }
            continue;
        }
        if line.starts_with("```") {
            in_block = false;
            previous = line;
            continue;
        }
        if illustrative {
            continue;
        }
        let command = line.split(" #").next().unwrap_or("").trim();
        let (command, stdin) = match command.split_once(" < ") {
            Some((command, file)) => (command.trim(), Some(file.trim().to_string())),
            None => (command, None),
        };
        let (rest, from_repository) = if let Some(rest) = command.strip_prefix("asoguard ") {
            (rest, false)
        } else if let Some(rest) = command.strip_prefix("cargo run --release -- ") {
            (rest, true)
        } else {
            continue;
        };
        let args: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
        if args.iter().any(|a| is_placeholder(a)) {
            continue;
        }
        let mut key = if from_repository {
            format!("cargo run --release -- {}", args.join(" "))
        } else {
            format!("asoguard {}", args.join(" "))
        };
        if let Some(file) = &stdin {
            key.push_str(&format!(" < {file}"));
        }
        if out.iter().all(|e| e.key != key) {
            out.push(Example {
                key,
                args,
                stdin,
                from_repository,
            });
        }
    }
    out
}

/// What an example did.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    /// The demo copy it ran on.
    demo: PathBuf,
    /// The demo's files before the command.
    before: BTreeMap<PathBuf, Vec<u8>>,
}

impl Outcome {
    /// The demo's files now.
    fn tree(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        read_tree(&self.demo)
    }

    fn text(&self, relative: &str) -> String {
        fs::read_to_string(self.demo.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }

    /// The findings `asoguard check` reports in the demo now: (path, code), sorted.
    fn findings(&self) -> Vec<(String, String)> {
        let sb_cmd = || {
            let mut cmd = assert_cmd::Command::cargo_bin("asoguard").expect("the binary");
            cmd.current_dir(&self.demo);
            cmd
        };
        let (_, stdout, stderr) = run(sb_cmd().args(["check", "--format", "json"]));
        let report: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n{stderr}"));
        let demo = self.demo.to_str().expect("UTF-8 path");
        let mut found: Vec<(String, String)> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                let path = f["path"].as_str().expect("path");
                let path = path
                    .strip_prefix(demo)
                    .unwrap_or(path)
                    .trim_start_matches('/');
                (
                    path.to_string(),
                    f["code"].as_str().expect("code").to_string(),
                )
            })
            .collect();
        found.sort();
        found
    }

    fn codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self.findings().into_iter().map(|(_, c)| c).collect();
        codes.sort();
        codes
    }

    fn assert_unchanged(&self) {
        assert!(self.tree() == self.before, "the demo changed");
    }

    fn assert_stdout(&self, needle: &str) {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
    }

    fn assert_stderr(&self, needle: &str) {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
    }
}

/// The hazards the README's "Why" section names, by code.
fn hazards(readme: &str) -> Vec<String> {
    let why = readme
        .split("## Why")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a Why section");
    let mut codes: Vec<String> = why
        .match_indices("(ASO")
        .map(|(at, _)| why[at + 1..at + 7].to_string())
        .collect();
    codes.sort();
    codes
}

/// The demo as shipped: one finding of each hazard.
const SHIPPED: [(&str, &str); 4] = [
    ("apps/prod.yaml", "ASO002"),
    ("clusters/prod/postgres.yaml", "ASO003"),
    ("clusters/prod/storage.yaml", "ASO001"),
    ("clusters/prod/vault.yaml", "ASO004"),
];

fn shipped() -> Vec<(String, String)> {
    SHIPPED
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect()
}

/// The policy of the document of `kind` in `text`, when it has one.
fn policy_of(text: &str, kind: &str) -> Option<String> {
    let document = text
        .split("\n---\n")
        .find(|d| d.contains(&format!("\nkind: {kind}\n")))?;
    document
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("serviceoperator.azure.com/reconcile-policy:")
        })
        .map(|v| {
            v.split(" #")
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"')
                .to_string()
        })
}

/// The summary line the README's set-up section quotes.
fn quoted_summary(readme: &str) -> String {
    let setup = readme.split("## Set-up").nth(1).expect("a set-up section");
    let block = setup
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the summary the set-up quotes");
    block.trim().to_string()
}

type Check = fn(&Outcome);

/// What each README example must do to the demo as shipped.
fn expectations() -> Vec<(&'static str, Check)> {
    vec![
        ("cargo run --release -- check fixtures/demo", |o| {
            assert_eq!(o.code, 1, "{}", o.stderr);
            // One finding of each hazard the README names, and its summary line.
            let readme = readme();
            let reported: Vec<String> = SHIPPED.iter().map(|(_, c)| c.to_string()).collect();
            let mut reported_sorted = reported.clone();
            reported_sorted.sort();
            assert_eq!(hazards(&readme), reported_sorted);
            for (path, code) in SHIPPED {
                assert_eq!(
                    o.stdout.matches(&format!("{code} [")).count(),
                    1,
                    "{code} once:\n{}",
                    o.stdout
                );
                o.assert_stdout(&format!("fixtures/demo/{path}:"));
            }
            o.assert_stdout(&quoted_summary(&readme));
            o.assert_unchanged();
        }),
        ("asoguard check", |o| {
            assert_eq!(o.code, 1);
            assert_eq!(o.findings(), shipped());
            o.assert_stdout(&quoted_summary(&readme()));
            o.assert_unchanged();
        }),
        ("asoguard check --diff", |o| {
            assert_eq!(o.code, 1);
            for file in [
                "apps/prod.yaml",
                "clusters/prod/postgres.yaml",
                "clusters/prod/vault.yaml",
            ] {
                o.assert_stdout(&format!("--- a/{file}\n+++ b/{file}\n"));
            }
            assert!(!o.stdout.contains("storage.yaml"), "{}", o.stdout);
            o.assert_stderr("3 fixes would be applied in 3 files");
            o.assert_unchanged();
        }),
        ("asoguard check --fix", |o| {
            assert_eq!(o.code, 1, "the `skip` is left");
            o.assert_stdout("Fixed 3 findings.");
            assert_eq!(
                o.findings(),
                [(
                    "clusters/prod/storage.yaml".to_string(),
                    "ASO001".to_string()
                )]
            );
            assert_eq!(
                policy_of(&o.text("clusters/prod/storage.yaml"), "StorageAccount").as_deref(),
                Some("skip")
            );
        }),
        ("asoguard check --fix --unsafe-fixes", |o| {
            assert_eq!(o.code, 0, "{}", o.stdout);
            assert_eq!(o.findings(), []);
            assert_eq!(
                policy_of(&o.text("clusters/prod/storage.yaml"), "StorageAccount").as_deref(),
                Some("detach-on-delete")
            );
            // The passive DR copy keeps its deliberate `skip`.
            let dr = PathBuf::from("clusters/dr/resource-group.yaml");
            assert_eq!(o.tree()[&dr], o.before[&dr]);
        }),
        ("asoguard check --select ASO0 --ignore ASO004", |o| {
            assert_eq!(o.code, 1);
            for code in ["ASO001", "ASO002", "ASO003"] {
                o.assert_stdout(&format!("{code} ["));
            }
            assert!(!o.stdout.contains("ASO004"), "{}", o.stdout);
            o.assert_stdout("3 findings");
        }),
        ("asoguard check --fail-level error", |o| {
            // Every finding of the demo is an error: the run fails.
            assert_eq!(o.code, 1);
            o.assert_stdout("4 findings");
        }),
        ("asoguard check --statistics", |o| {
            assert_eq!(o.code, 1);
            assert_eq!(
                o.stdout,
                "     1  ASO001  [ ] skip-in-active\n     1  ASO002  [*] argocd-replace\n     1  ASO003  [*] missing-detach-on-delete\n     1  ASO004  [*] invalid-reconcile-policy\n[*] fixable with `--fix`\n[ ] none fixable with `--fix`\n4 findings (3 fixable with --fix, 1 more with --fix --unsafe-fixes) in 7 files.\n"
            );
        }),
        ("asoguard check --verbose", |o| {
            // The demo holds nothing unchecked: no note, summarised or not.
            assert_eq!(o.code, 1);
            assert_eq!(o.findings(), shipped());
            assert!(!o.stderr.contains("note:"), "{}", o.stderr);
        }),
        ("asoguard check --fix --show-fixes", |o| {
            assert_eq!(o.code, 1);
            for (file, code) in [
                ("apps/prod.yaml", "ASO002"),
                ("clusters/prod/postgres.yaml", "ASO003"),
                ("clusters/prod/vault.yaml", "ASO004"),
            ] {
                o.assert_stdout(&format!("Fixed in {file}:\n     1 × {code} ["));
            }
        }),
        ("asoguard check --strict-syntax", |o| {
            assert_eq!(o.code, 1);
            assert_eq!(o.findings(), shipped());
            o.assert_stdout("4 findings");
        }),
        ("asoguard check --format concise", |o| {
            assert_eq!(o.code, 1);
            let lines: Vec<&str> = o.stdout.lines().collect();
            assert_eq!(lines.len(), 5, "4 findings and the summary:\n{}", o.stdout);
            for (path, code) in SHIPPED {
                assert!(
                    lines
                        .iter()
                        .any(|l| l.starts_with(&format!("{path}:")) && l.contains(code)),
                    "{path} {code}:\n{}",
                    o.stdout
                );
            }
        }),
        (
            "asoguard check --stdin-filename clusters/prod/vault.yaml < clusters/prod/vault.yaml",
            |o| {
                assert_eq!(o.code, 1);
                o.assert_stdout("ASO004 [invalid-reconcile-policy]");
                o.assert_stdout("clusters/prod/vault.yaml:7:49");
                o.assert_stdout("1 finding (1 fixable with --fix) in 1 file.");
                o.assert_unchanged();
            },
        ),
        ("asoguard config", |o| {
            assert_eq!(o.code, 0, "{}", o.stderr);
            o.assert_stdout("Config file:    .asoguard.yaml\n");
            o.assert_stdout("  dr    passive  clusters/dr/**\n");
            o.assert_stdout("  prod  active   clusters/prod/**\n");
        }),
        ("asoguard config --schema", |o| {
            assert_eq!(o.code, 0);
            let schema: Value = serde_json::from_str(&o.stdout).expect("JSON");
            assert_eq!(
                schema["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
        }),
        ("asoguard init --force", |o| {
            assert_eq!(o.code, 0, "{}", o.stderr);
            o.assert_stdout("Wrote .asoguard.yaml with 2 clusters:\n");
            let config = o.text(".asoguard.yaml");
            assert!(
                config.contains("  dr:\n    paths: [\"clusters/dr/**\"]\n    role: passive\n"),
                "{config}"
            );
            assert!(
                config.contains(
                    "  prod:\n    paths: [\"apps/prod.yaml\", \"clusters/prod/**\"]\n    role: active\n"
                ),
                "{config}"
            );
            // The proposal means what the shipped config meant: the same findings.
            assert_eq!(o.findings(), shipped());
        }),
        ("asoguard rules", |o| {
            assert_eq!(o.code, 0);
            for code in ["E001", "ASO001", "ASO004", "ASO014", "ASO101"] {
                o.assert_stdout(&format!("{code} "));
            }
        }),
        ("asoguard rule ASO001", |o| {
            assert_eq!(o.code, 0);
            o.assert_stdout("# ASO001 `skip-in-active`");
        }),
        (
            "asoguard policy set detach-on-delete clusters/prod --critical-only",
            |o| {
                assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
                o.assert_stdout("Wrote 2 files (0 new).");
                o.assert_stdout("1 ASO resource keeps `skip`, left as it is");
                assert_eq!(
                    policy_of(&o.text("clusters/prod/storage.yaml"), "StorageAccount").as_deref(),
                    Some("skip")
                );
                for (file, kind) in [
                    ("clusters/prod/postgres.yaml", "FlexibleServer"),
                    ("clusters/prod/postgres.yaml", "FlexibleServersDatabase"),
                    ("clusters/prod/vault.yaml", "Vault"),
                    ("clusters/prod/resource-group.yaml", "ResourceGroup"),
                ] {
                    assert_eq!(
                        policy_of(&o.text(file), kind).as_deref(),
                        Some("detach-on-delete"),
                        "{kind} in {file}"
                    );
                }
                // The ArgoCD hazard and the skip left for a person to judge.
                assert_eq!(
                    o.findings(),
                    [
                        ("apps/prod.yaml".to_string(), "ASO002".to_string()),
                        (
                            "clusters/prod/storage.yaml".to_string(),
                            "ASO001".to_string()
                        )
                    ]
                );
            },
        ),
        (
            "asoguard migrate --from clusters/prod --to clusters/west --plan",
            |o| {
                // --plan, like check --diff, exits 1 when there is something to do.
                assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
                o.assert_stdout("migrate clusters/prod -> clusters/west");
                o.assert_stdout("clusters/west holds copies of 5 ASO resources");
                o.assert_stdout("+++ b/clusters/west/postgres.yaml");
                o.assert_unchanged();
            },
        ),
        ("asoguard failover --promote dr --demote prod", |o| {
            assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
            o.assert_stdout("4 changes give its resources `skip`");
            o.assert_stdout("1 change takes `skip` off its resources");
            let config = o.text(".asoguard.yaml");
            assert!(
                config.contains("  prod:\n    paths: [\"clusters/prod/**\"]\n    role: passive\n"),
                "{config}"
            );
            assert!(
                config.contains("  dr:\n    paths: [\"clusters/dr/**\"]\n    role: active\n"),
                "{config}"
            );
            assert_eq!(
                policy_of(&o.text("clusters/dr/resource-group.yaml"), "ResourceGroup").as_deref(),
                Some("detach-on-delete")
            );
            for (file, kind) in [
                ("clusters/prod/postgres.yaml", "FlexibleServer"),
                ("clusters/prod/postgres.yaml", "FlexibleServersDatabase"),
                ("clusters/prod/resource-group.yaml", "ResourceGroup"),
                ("clusters/prod/storage.yaml", "StorageAccount"),
                // A misspelled policy is read as `manage`: demoted too, as the README says.
                ("clusters/prod/vault.yaml", "Vault"),
            ] {
                assert_eq!(
                    policy_of(&o.text(file), kind).as_deref(),
                    Some("skip"),
                    "{kind} in {file}"
                );
            }
            // No `skip` in an active cluster, nothing managed in a passive one, no two owners.
            let codes = o.codes();
            for guarded in ["ASO001", "ASO005", "ASO006"] {
                assert!(!codes.iter().any(|c| c == guarded), "{codes:?}");
            }
        }),
        (
            "asoguard check --format sarif --output asoguard.sarif --format github .",
            |o| {
                assert_eq!(o.code, 1);
                let sarif: Value =
                    serde_json::from_str(&o.text("asoguard.sarif")).expect("SARIF is JSON");
                assert_eq!(sarif["version"], "2.1.0");
                assert_eq!(
                    sarif["runs"][0]["results"].as_array().map(Vec::len),
                    Some(4)
                );
                assert_eq!(o.stdout.matches("::error ").count(), 4, "{}", o.stdout);
            },
        ),
    ]
}

#[test]
fn readme_examples_run_on_the_demo_and_do_what_it_says() {
    let readme = readme();
    let examples = examples(&readme);
    let expectations = expectations();
    let expected: Vec<&str> = expectations.iter().map(|(k, _)| *k).collect();
    let untested: Vec<&str> = examples
        .iter()
        .map(|e| e.key.as_str())
        .filter(|k| !expected.contains(k))
        .collect();
    assert!(
        untested.is_empty(),
        "README examples without an expectation in tests/it/readme.rs (add one, or mark the block \
         illustrative if the demo cannot run it): {untested:#?}"
    );
    let stale: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|k| examples.iter().all(|e| e.key != *k))
        .collect();
    assert!(
        stale.is_empty(),
        "expectations whose command the README no longer shows: {stale:#?}"
    );

    let demo = repo_root().join("fixtures/demo");
    for example in &examples {
        let sb = Sandbox::new();
        let copy = sb.path().join("fixtures/demo");
        copy_dir(&demo, &copy);
        let before = read_tree(&copy);
        let mut cmd = sb.cmd();
        cmd.args(&example.args);
        if !example.from_repository {
            cmd.current_dir(&copy);
        }
        if let Some(file) = &example.stdin {
            cmd.write_stdin(fs::read(copy.join(file)).expect("the stdin file"));
        }
        let (code, stdout, stderr) = run(&mut cmd);
        let outcome = Outcome {
            code,
            stdout,
            stderr,
            demo: copy,
            before,
        };
        let check = expectations
            .iter()
            .find(|(k, _)| *k == example.key)
            .map(|(_, check)| *check)
            .expect("checked above");
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&outcome)));
        if let Err(e) = result {
            eprintln!(
                "README example `{}` failed on the demo:\nexit {}\nstdout:\n{}\nstderr:\n{}",
                example.key, outcome.code, outcome.stdout, outcome.stderr
            );
            std::panic::resume_unwind(e);
        }
    }
}

#[test]
fn the_example_parser_skips_placeholders_and_illustrations() {
    let text = "```sh\nasoguard check [PATHS...]   # synopsis\nasoguard check --format FORMAT\nasoguard rule ASO001  # runs\ncargo run --release -- check fixtures/demo\ncargo test --workspace\nasoguard check --stdin-filename a.yaml < a.yaml  # stdin\n```\n\n<!-- readme-test: illustrative -->\n```sh\nasoguard check --crds bundle.yaml .\n```\n";
    let keys: Vec<String> = examples(text).into_iter().map(|e| e.key).collect();
    assert_eq!(
        keys,
        [
            "asoguard rule ASO001",
            "cargo run --release -- check fixtures/demo",
            "asoguard check --stdin-filename a.yaml < a.yaml",
        ]
    );
    assert!(is_placeholder("PATHS..."));
    assert!(is_placeholder("DIR"));
    assert!(!is_placeholder("ASO0"));
    assert!(!is_placeholder("ASO004"));
    assert!(!is_placeholder("clusters/prod"));
}
