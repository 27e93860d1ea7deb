//! Hostile and broken input, end to end through the `asoguard` binary (and the library where
//! a race must be staged): alias bombs, deep nesting, huge files, symlink loops and escapes,
//! files that vanish, read-only files, concurrent `--fix` runs, failed writes, bytes that are
//! not text, and an unterminated quote. None may panic; each must name the file it is about.
//! `docs/reliability.md` tabulates what each case does.

use std::fs;
use std::path::{Path, PathBuf};

// An ASO resource that `--fix` changes (ASO003 adds detach-on-delete).
use crate::support::{RG_FIXED, RG_UNPROTECTED as RG, Sandbox, run};

/// `check --format concise FILE`: exit 1 and one E001 line naming the file and saying `what`.
fn assert_e001(sb: &Sandbox, file: &str, what: &str, extra: &[&str]) {
    let (code, stdout, stderr) = run(sb
        .cmd()
        .args(["check", "--format", "concise"])
        .args(extra)
        .arg(file));
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains("E001"))
        .unwrap_or_else(|| panic!("no E001:\n{stdout}"));
    assert!(line.starts_with(file), "names {file}: {line}");
    assert!(line.contains(what), "says {what:?}: {line}");
}

#[test]
fn alias_bomb_is_never_expanded() {
    // Billion laughs: ten levels of ten aliases each would be 10^9 nodes if expanded.
    let sb = Sandbox::new();
    let mut text = String::from(RG);
    text.push_str("spec:\n  lol0: &l0 [\"lol\"]\n");
    for i in 1..10 {
        let refs = vec![format!("*l{}", i - 1); 10].join(", ");
        text.push_str(&format!("  lol{i}: &l{i} [{refs}]\n"));
    }
    sb.write("bomb.yaml", &text);
    let (code, stdout, _) = run(sb.cmd().args(["check", "--format", "concise", "bomb.yaml"]));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("bomb.yaml") && stdout.contains("ASO003"),
        "{stdout}"
    );
    // And --fix edits it like any other file.
    let (_, _, stderr) = run(sb.cmd().args(["check", "--fix", "bomb.yaml"]));
    let fixed = fs::read_to_string(sb.path().join("bomb.yaml")).unwrap();
    assert!(
        fixed.contains("detach-on-delete") && fixed.contains("*l8"),
        "{stderr}"
    );
}

#[test]
fn deep_nesting_is_a_clear_e001() {
    let sb = Sandbox::new();
    let depth = 100_000;
    // Flow style, then block style: the parser's nesting limit stops both.
    sb.write(
        "flow.yaml",
        format!("{RG}spec: {}{}\n", "[".repeat(depth), "]".repeat(depth)),
    );
    sb.write(
        "block.yaml",
        format!("{RG}spec:\n  {}x\n", "- ".repeat(depth)),
    );
    sb.write(
        "mapping.yaml",
        format!("{RG}spec: {}x{}\n", "{a: ".repeat(depth), "}".repeat(depth)),
    );
    for file in ["flow.yaml", "block.yaml", "mapping.yaml"] {
        assert_e001(&sb, file, "invalid YAML", &[]);
    }
    // Without anything asoguard checks it is not parsed; --strict-syntax parses it.
    sb.write("deep.yaml", format!("data: {}\n", "[".repeat(depth)));
    let (code, stdout, _) = run(sb.cmd().args(["check", "deep.yaml"]));
    assert_eq!(code, 0, "{stdout}");
    assert_e001(&sb, "deep.yaml", "invalid YAML", &["--strict-syntax"]);
}

#[test]
fn nesting_under_the_limit_is_checked_normally() {
    // 200 levels (under the parser's 255): built, checked and dropped without overflowing.
    let sb = Sandbox::new();
    sb.write(
        "deep.yaml",
        format!("{RG}spec: {}x{}\n", "[".repeat(200), "]".repeat(200)),
    );
    let (code, stdout, _) = run(sb.cmd().args(["check", "--format", "concise", "deep.yaml"]));
    assert_eq!(code, 1);
    assert!(
        stdout.contains("ASO003") && !stdout.contains("E001"),
        "{stdout}"
    );
}

#[test]
fn a_200_mb_file_is_refused_by_size_without_reading_it() {
    let sb = Sandbox::new();
    let path = sb.path().join("huge.yaml");
    let file = fs::File::create(&path).unwrap();
    file.set_len(200 << 20).unwrap(); // sparse: instant, and no disk used
    drop(file);
    assert_e001(&sb, "huge.yaml", "over the 16777216-byte limit", &[]);
    // The limit is configurable, and the rest of the tree is still checked.
    sb.write("rg.yaml", RG);
    assert_e001(
        &sb,
        "rg.yaml",
        "over the 10-byte limit",
        &["--max-file-size", "10"],
    );
    let (code, stdout, _) = run(sb.cmd().args(["check", "--format", "concise", "."]));
    assert_eq!(code, 1);
    assert!(
        stdout.contains("huge.yaml") && stdout.contains("rg.yaml"),
        "{stdout}"
    );
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_skipped_when_walking_and_named_when_given() {
    use std::os::unix::fs::symlink;
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG);
    symlink(sb.path().join("b.yaml"), sb.path().join("a.yaml")).unwrap();
    symlink(sb.path().join("a.yaml"), sb.path().join("b.yaml")).unwrap();
    fs::create_dir(sb.path().join("d")).unwrap();
    symlink(sb.path(), sb.path().join("d/up")).unwrap(); // a directory loop
    let (code, stdout, stderr) = run(sb.cmd().args(["check", "--format", "concise", "."]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("rg.yaml") && !stdout.contains("a.yaml"),
        "{stdout}"
    );
    // Named explicitly, the loop is an error that names it.
    let (code, _, stderr) = run(sb.cmd().args(["check", "a.yaml"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("a.yaml"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn symlink_out_of_the_root_is_not_followed() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.yaml"), RG).unwrap();
    let sb = Sandbox::new();
    sb.write("ok.yaml", RG_FIXED);
    symlink(
        outside.path().join("secret.yaml"),
        sb.path().join("link.yaml"),
    )
    .unwrap();
    symlink(outside.path(), sb.path().join("linkdir")).unwrap();
    let (code, stdout, _) = run(sb.cmd().args(["check", "--fix", "."]));
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        fs::read_to_string(outside.path().join("secret.yaml")).unwrap(),
        RG,
        "the file outside the root is untouched"
    );
}

#[test]
fn a_file_that_vanishes_is_an_e001_naming_it() {
    use asoguard_core::engine::{RunOptions, check_targets};
    let sb = Sandbox::new();
    sb.write("keep.yaml", RG);
    sb.write("gone.yaml", RG);
    let settings = asoguard_core::config::load(None, sb.path()).unwrap();
    let (targets, problems) =
        asoguard_core::discover::discover(&[sb.path().to_path_buf()], &settings, false);
    assert!(problems.is_empty());
    // Found, then gone before it is read.
    fs::remove_file(sb.path().join("gone.yaml")).unwrap();
    let report = check_targets(targets, &settings, RunOptions::default());
    let gone = report
        .files
        .iter()
        .find(|f| f.path.ends_with("gone.yaml"))
        .expect("a report for the vanished file");
    assert_eq!(gone.diagnostics.len(), 1);
    assert_eq!(gone.diagnostics[0].rule.code(), "E001");
    assert!(
        gone.diagnostics[0].message.contains("no such file"),
        "{}",
        gone.diagnostics[0].message
    );
    assert!(report.files.iter().any(|f| f.path.ends_with("keep.yaml")));
}

#[cfg(unix)]
#[test]
fn read_only_file_under_fix_is_reported_and_others_are_fixed() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let locked = sb.write("locked.yaml", RG);
    sb.write("open.yaml", RG);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o444)).unwrap();
    let (code, _, stderr) = run(sb.cmd().args(["check", "--fix", "."]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("locked.yaml") && stderr.contains("read-only"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&locked).unwrap(), RG);
    assert_eq!(
        fs::read_to_string(sb.path().join("open.yaml")).unwrap(),
        RG_FIXED
    );
}

#[test]
fn concurrent_fix_runs_never_corrupt_a_file() {
    let sb = Sandbox::new();
    for i in 0..200 {
        sb.write(&format!("d{}/f{i}.yaml", i % 7), RG);
    }
    let bin = assert_cmd::cargo::cargo_bin("asoguard");
    let spawn = || {
        std::process::Command::new(&bin)
            .args(["check", "--fix", "--quiet", "."])
            .current_dir(sb.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let runs: Vec<_> = (0..3).map(|_| spawn()).collect();
    for child in runs {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.code().is_some(), "killed: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    for i in 0..200 {
        let text = fs::read_to_string(sb.path().join(format!("d{}/f{i}.yaml", i % 7))).unwrap();
        assert_eq!(text, RG_FIXED, "f{i}.yaml is whole and fixed once");
    }
    let leftovers: Vec<_> = walk(sb.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".asoguard-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[cfg(unix)]
#[test]
fn a_failed_write_leaves_the_original_intact() {
    // The shell caps the size of files it may write (ulimit -f, in 1024-byte blocks) and
    // ignores SIGXFSZ, so writing the fixed text fails with EFBIG half way.
    if std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_err()
    {
        return;
    }
    let sb = Sandbox::new();
    let big = format!("{RG}spec:\n  tags:\n{}", "    k: v\n".repeat(400));
    let path = sb.write("big.yaml", &big);
    sb.write("small.yaml", RG);
    let bin = assert_cmd::cargo::cargo_bin("asoguard");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f 2; exec '{}' check --fix .",
            bin.display()
        ))
        .current_dir(sb.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("big.yaml") && stderr.contains("cannot write"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), big, "original intact");
    assert_eq!(
        fs::read_to_string(sb.path().join("small.yaml")).unwrap(),
        RG_FIXED
    );
    assert!(
        !walk(sb.path())
            .iter()
            .any(|p| p.to_string_lossy().contains(".asoguard-")),
        "no temp file left"
    );
}

#[test]
fn invalid_utf8_and_nul_bytes_are_e001_naming_the_file() {
    let sb = Sandbox::new();
    sb.write("latin1.yaml", b"metadata:\n  name: caf\xe9\n");
    sb.write("nul.yaml", b"kind: X\n\0\0binary\n");
    assert_e001(&sb, "latin1.yaml", "not valid UTF-8", &[]);
    assert_e001(&sb, "nul.yaml", "NUL byte", &[]);
}

#[test]
fn a_long_commented_out_block_is_read_and_a_flood_is_bounded() {
    let sb = Sandbox::new();
    let block = |lines: usize, word: &str| -> String {
        (0..lines).map(|i| format!("  # {word} {i}\n")).collect()
    };
    // Comments between a key and its value are held by the parser until the value comes:
    // a block of thousands is valid YAML and checked as such, naming asoguard or not.
    for (file, word) in [("plain.yaml", "old"), ("named.yaml", "asoguard")] {
        let text = format!("{RG}spec:\n{}  location: westeurope\n", block(5_000, word));
        sb.write(file, &text);
        let (code, stdout, _) = run(sb.cmd().args(["check", "--format", "concise", file]));
        assert_eq!(code, 1, "{stdout}");
        assert!(stdout.contains(&format!("{file}:4:9: ASO003")), "{stdout}");
        assert!(!stdout.contains("E001"), "{stdout}");
    }
    // Past the limit, in a file whose comments are read (it names asoguard), one E001.
    let text = format!(
        "{RG}spec:\n{}  location: westeurope\n",
        block(20_000, "asoguard")
    );
    sb.write("flood.yaml", &text);
    assert_e001(&sb, "flood.yaml", "more than 16384 comments in a row", &[]);
}

/// A kind or version of hundreds of kilobytes is reported without being compared with every
/// kind and version ASO has (both comparisons are quadratic).
#[test]
fn a_huge_kind_or_version_is_reported_without_a_suggestion() {
    let sb = Sandbox::new();
    let huge = "Blob".repeat(50_000);
    sb.write(
        "huge.yaml",
        format!(
            "apiVersion: storage.azure.com/v1api20230101\nkind: {huge}\nmetadata:\n  name: a\n---\n\
             apiVersion: storage.azure.com/v{}\nkind: StorageAccount\nmetadata:\n  name: b\n",
            "2".repeat(200_000)
        ),
    );
    let (code, stdout, _) = run(sb.cmd().args(["check", "--format", "concise", "huge.yaml"]));
    assert_eq!(code, 1);
    // The findings hold the kind and the version: compare only where they are.
    let found: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" ASO015 ") || l.contains(" ASO013 "))
        .filter_map(|l| l.split_once(" [").map(|(at, _)| at))
        .collect();
    assert_eq!(found, ["huge.yaml:2:7: ASO015", "huge.yaml:6:31: ASO013"]);
    assert!(!stdout.contains("did you mean"));
}

#[test]
fn unterminated_quote_at_end_of_file_is_located() {
    let sb = Sandbox::new();
    for (file, text) in [
        ("eof.yaml", format!("{RG}  namespace: \"prod")),
        ("eol.yaml", format!("{RG}  namespace: 'prod\n")),
    ] {
        sb.write(file, &text);
        let (code, stdout, _) = run(sb.cmd().args(["check", "--format", "concise", file]));
        assert_eq!(code, 1);
        // At the opening quote: line 5, column 14.
        assert!(
            stdout.contains(&format!("{file}:5:14: E001")),
            "{file}: {stdout}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_pipe_named_on_the_command_line_is_read_once() {
    // `asoguard check <(kustomize build)`: a pipe can be read only once, so its text is kept
    // between passes even when the budget for kept texts (0 here) is spent.
    if std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_err()
    {
        return;
    }
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG);
    let bin = assert_cmd::cargo::cargo_bin("asoguard");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "exec '{}' check --format concise <(cat rg.yaml)",
            bin.display()
        ))
        .env("ASOGUARD_KEEP_BYTES", "0")
        .current_dir(sb.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("ASO003"), "{stdout}");
}
