//! The fixture corpus: every finding and every fix of every rule, proven byte for byte.
//!
//! Layout, under `fixtures/rules/<CODE>/` (any depth):
//!
//! - `<case>.yaml`: the input. Written byte for byte: CRLF, a BOM, no final newline, bytes that
//!   are not UTF-8 are all meant.
//! - `<case>.expected`: the findings on the input, one per line, in report order:
//!   `LINE:COL-ENDLINE:ENDCOL CODE SEVERITY`, lines and columns 1-based, columns counted in
//!   Unicode code points, the end exclusive. An empty file means no findings.
//! - `<case>.fixed.yaml`: the text after applying safe fixes to a fixpoint. Omitted when the
//!   fixes must change nothing (the harness then expects the input back, byte for byte).
//! - `<case>.unsafe.yaml`: the text with unsafe fixes applied too. Omitted when it is the same
//!   as the safe result (the harness then expects the safe result).
//! - `<case>.bug`: marks a case that fails because of a known library bug, and says what the
//!   bug is. Such cases are left out of `every_rule_passes_its_fixture_cases` and run by
//!   `known_library_bugs`, which fails while any of them still fails, and also when one passes
//!   (then delete its `.bug` file).
//!
//! A `.yaml` file is a case exactly when its `.expected` exists; in a directory holding cases,
//! every `.yaml` file must be a case (inputs that only support cases, like the directories an
//! ArgoCD Application points at, live in directories of their own).
//!
//! The repository root of a case is the nearest directory, from the case's own up to
//! `fixtures/rules/<CODE>`, that holds `.asoguard.yaml` (found with `config::discover`); when
//! there is none it is `fixtures/rules/<CODE>` with the default config. Every case is linted
//! together with the other cases of its directory; a root with `.asoguard.yaml` is indexed
//! whole, as the CLI indexes a repository, so cross-file facts (Namespace policies, what an
//! Application applies) come from all of it. The report of the case file is the one compared.
//!
//! For every case the harness checks:
//! 1. the findings on the input equal `.expected`;
//! 2. safe fixes (`FixMode::Preview`) give `.fixed.yaml` (or the input unchanged);
//! 3. the fixed text parses (unless the input did not), fixing it again changes nothing, and
//!    checking it again finds nothing with a safe fix, and the same findings the fix run left;
//! 4. the same with unsafe fixes, against `.unsafe.yaml` (or the safe result).
//!
//! What the findings say (message, help, fix title and applicability, related places, notes)
//! is pinned apart from where they are: one insta snapshot per rule,
//! `tests/it/snapshots/it__fixtures__<CODE>.snap`, compared by
//! `every_rule_says_what_its_snapshot_says`. After changing a text on purpose, run
//! `INSTA_UPDATE=always cargo test -p asoguard-core --test it fixtures::` and review
//! `git diff` of the snapshots (without it, a mismatch writes `.snap.new` files beside them;
//! under `CI=true` nothing is written).
//!
//! `ASOGUARD_BLESS=1 cargo test -p asoguard-core --test it fixtures::` rewrites every `.expected`
//! file from the actual findings (never `.fixed.yaml` or `.unsafe.yaml`, which are written by
//! hand). Expectations are written by hand from the rules' documented behaviour; bless is a
//! cross-check and a way to renumber after editing an input, not a way to write them: review
//! `git diff fixtures/` after blessing.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use asoguard_core::config::{self, Config, Settings};
use asoguard_core::discover::{self, Target};
use asoguard_core::engine::{FileReport, Input, RunReport};
use asoguard_core::fix::Applicability;
use asoguard_core::{FixMode, Rule, RunOptions, check_inputs, check_paths, relevance, yaml};

const INPUT_EXT: &str = ".yaml";
const EXPECTED_EXT: &str = ".expected";
const FIXED_EXT: &str = ".fixed.yaml";
const UNSAFE_EXT: &str = ".unsafe.yaml";
const BUG_EXT: &str = ".bug";

fn rules_dir() -> PathBuf {
    config::normalize(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rules"))
}

fn bless() -> bool {
    std::env::var("ASOGUARD_BLESS").is_ok_and(|v| v == "1")
}

/// One case: `<dir>/<name>.yaml` and the files beside it.
struct Case {
    /// `fixtures/rules/<CODE>`.
    code_dir: PathBuf,
    /// The case's directory.
    dir: PathBuf,
    /// The case name, without extension.
    name: String,
}

impl Case {
    fn file(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{}{ext}", self.name))
    }

    fn input(&self) -> PathBuf {
        self.file(INPUT_EXT)
    }

    /// The case's path relative to `fixtures/rules`, for messages.
    fn label(&self) -> String {
        let input = self.input();
        input
            .strip_prefix(rules_dir())
            .unwrap_or(&input)
            .display()
            .to_string()
    }

    fn known_bug(&self) -> Option<String> {
        fs::read_to_string(self.file(BUG_EXT)).ok()
    }
}

fn is_output(name: &str) -> bool {
    name.ends_with(FIXED_EXT) || name.ends_with(UNSAFE_EXT)
}

/// Linted inputs of a directory: its `.yaml` files that are not expected outputs, sorted.
fn inputs_of(dir: &Path) -> Vec<PathBuf> {
    let mut inputs: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.starts_with('.') && name.ends_with(INPUT_EXT) && !is_output(&name)
        })
        .collect();
    inputs.sort();
    inputs
}

/// Rules one revision cannot show, so no fixture file can: `plan` reports them, and
/// `tests/it/plan.rs` (of the CLI) tests them on git repositories built in the test.
const BETWEEN_REVISIONS: [Rule; 1] = [Rule::DestructiveChange];

/// Every rule of the registry that `check` reports, each of which needs fixtures.
fn rules_with_fixtures() -> impl Iterator<Item = Rule> {
    Rule::ALL
        .into_iter()
        .filter(|r| !BETWEEN_REVISIONS.contains(r))
}

/// Every case under `fixtures/rules/<code>`, checking that the corpus is well formed.
fn cases(code: &str) -> Vec<Case> {
    let code_dir = rules_dir().join(code);
    assert!(
        code_dir.is_dir(),
        "rule {code} has no fixture directory: every rule of `Rule::ALL` needs \
         fixtures/rules/{code}/ with at least one case (missing: {})",
        code_dir.display()
    );
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    let mut stack = vec![code_dir.clone()];
    while let Some(dir) = stack.pop() {
        let mut names: Vec<String> = Vec::new();
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        let has = |n: &str| names.iter().any(|x| x == n);
        let case_names: Vec<String> = names
            .iter()
            .filter_map(|n| n.strip_suffix(EXPECTED_EXT).map(str::to_string))
            .collect();
        for name in &names {
            let stem = [FIXED_EXT, UNSAFE_EXT, BUG_EXT, EXPECTED_EXT]
                .into_iter()
                .find_map(|ext| name.strip_suffix(ext));
            match stem {
                Some(stem) if !has(&format!("{stem}{INPUT_EXT}")) => problems.push(format!(
                    "{}: `{name}` has no input `{stem}{INPUT_EXT}`",
                    dir.display()
                )),
                Some(stem) if !has(&format!("{stem}{EXPECTED_EXT}")) => problems.push(format!(
                    "{}: `{name}` has no `{stem}{EXPECTED_EXT}`",
                    dir.display()
                )),
                Some(_) => {}
                None if name.starts_with('.') => {}
                None => {
                    let stem = name.strip_suffix(INPUT_EXT);
                    if !case_names.is_empty()
                        && stem.is_none_or(|s| !has(&format!("{s}{EXPECTED_EXT}")))
                    {
                        problems.push(format!(
                            "{}: `{name}` sits among cases but is not one (add its `.expected`, or move it to a directory without cases)",
                            dir.display()
                        ));
                    }
                }
            }
        }
        cases.extend(case_names.into_iter().map(|name| Case {
            code_dir: code_dir.clone(),
            dir: dir.clone(),
            name,
        }));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(!cases.is_empty(), "no cases under {}", code_dir.display());
    cases.sort_by_key(Case::input);
    cases
}

/// The settings of a case: `.asoguard.yaml` from the nearest directory up to the rule's own,
/// with that directory as the root (and the CRDs its `crds:` names); else the rule's directory
/// as root, with no config.
fn settings_for(case: &Case) -> Settings {
    let found = config::discover(&case.input());
    let mut settings = match found.config {
        Some(path) if found.root.starts_with(&case.code_dir) => {
            let text = fs::read_to_string(&path).unwrap();
            let parsed = config::parse_config(&text, &path)
                .unwrap_or_else(|e| panic!("{}: bad fixture config: {e:?}", path.display()));
            let mut settings = Settings::resolve(parsed, found.root, Some(path))
                .unwrap_or_else(|e| panic!("bad fixture config: {e:?}"));
            // A directory with `.asoguard.yaml` is a repository: index all of it, as the CLI
            // does, so an Application's source directory is known without being linted.
            settings.repository = found.repository;
            settings
        }
        _ => Settings::resolve(Config::default(), case.code_dir.clone(), None).unwrap(),
    };
    settings
        .load_crds(None)
        .unwrap_or_else(|e| panic!("bad fixture CRDs: {e}"));
    settings
}

fn options(fix: FixMode, unsafe_fixes: bool) -> RunOptions {
    RunOptions {
        fix,
        unsafe_fixes,
        ..RunOptions::default()
    }
}

fn report_of<'r>(report: &'r RunReport, path: &Path) -> Option<&'r FileReport> {
    report.files.iter().find(|f| f.path == path)
}

/// Findings of a file report as `.expected` lines.
fn render_findings(file: Option<&FileReport>) -> Vec<String> {
    let Some(file) = file else {
        return Vec::new();
    };
    file.diagnostics
        .iter()
        .map(|d| {
            // Every fix is as safe as its rule's registry entry says (docs and tables show it).
            if let Some(fix) = &d.fix {
                let safety = d.rule.meta().safety;
                assert!(
                    safety.allows(fix.applicability),
                    "{}: a {} fix of {}, whose registry entry says its fixes are {}",
                    file.path.display(),
                    fix.applicability.as_str(),
                    d.rule.code(),
                    safety.as_str()
                );
            }
            let start = file.source.line_col(d.span.start);
            let end = file.source.line_col(d.span.end);
            format!(
                "{}:{}-{}:{} {} {}",
                start.line,
                start.column,
                end.line,
                end.column,
                d.rule.code(),
                d.severity.as_str()
            )
        })
        .collect()
}

/// Lint the case's directory with the case's text replaced by `text`.
fn check_with_text(
    case: &Case,
    settings: &Settings,
    text: &str,
    run: RunOptions,
) -> (RunReport, Option<FileReport>) {
    let input = case.input();
    // Targets as `check_paths` makes them for files named explicitly.
    let inputs = inputs_of(&case.dir)
        .into_iter()
        .map(|path| {
            let target = Target::new(path.clone(), config::absolute(&path));
            let text = if *target.fs_path == *input {
                Ok(text.to_string())
            } else {
                discover::read_text(&target.fs_path, settings.max_file_size)
            };
            Input { target, text }
        })
        .collect();
    let report = check_inputs(inputs, settings, run);
    let file = report_of(&report, &input).cloned();
    (report, file)
}

/// Run one case; `Err` holds every way it failed.
/// The findings of `file` (reported or suppressed) whose document holds none of their rule's
/// relevance markers, one line each; `None` when there is none. A kustomization file is
/// relevant by its name, and a rule without markers (E001) reports on any parsed file.
fn findings_without_their_markers(input: &Path, text: &str, file: &FileReport) -> Option<String> {
    if relevance::is_kustomization_name(input) {
        return None;
    }
    let mut missing = String::new();
    for d in file.diagnostics.iter().chain(&file.suppressed) {
        let markers = d.rule.meta().markers;
        if markers.is_empty() {
            continue;
        }
        let start = text[..d.span.start].rfind("\n---").map_or(0, |at| at + 1);
        let end = text[d.span.start..]
            .find("\n---")
            .map_or(text.len(), |at| d.span.start + at);
        let document = &text[start..end];
        if !markers.iter().any(|m| document.contains(m.text)) {
            let _ = writeln!(
                missing,
                "{} at byte {}: its document holds none of {:?}",
                d.rule.code(),
                d.span.start,
                markers.iter().map(|m| m.text).collect::<Vec<_>>()
            );
        }
    }
    (!missing.is_empty()).then_some(missing)
}

fn run_case(case: &Case, may_bless: bool) -> Result<(), String> {
    let mut failures = String::new();
    let mut fail = |what: &str, detail: String| {
        let _ = writeln!(failures, "  -- {what}\n{}", indent(&detail));
    };
    let settings = settings_for(case);
    let paths = inputs_of(&case.dir);
    let input = case.input();
    let bytes = fs::read(&input).unwrap();
    // What the engine loads: `None` for a file it refuses (not UTF-8, NUL bytes, too large).
    let text = discover::read_text(&input, settings.max_file_size).ok();
    let input_parses = text
        .as_deref()
        .is_some_and(|t| yaml::parse(&yaml::Arena::new(), t).error.is_none());

    // 1. Findings.
    let report = check_paths(&paths, &settings, options(FixMode::Off, false));
    if !report.problems.is_empty() {
        fail("path problems", format!("{:?}", report.problems));
    }
    let actual = render_findings(report_of(&report, &input));
    let expected_path = case.file(EXPECTED_EXT);
    let expected_text = fs::read_to_string(&expected_path).unwrap();
    let expected: Vec<String> = expected_text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    if actual != expected {
        if may_bless && bless() {
            let mut out = actual.join("\n");
            if !out.is_empty() {
                out.push('\n');
            }
            fs::write(&expected_path, out).unwrap();
            eprintln!("blessed {}", expected_path.display());
        } else {
            fail(
                "findings differ from .expected (- expected, + actual)",
                line_diff(&lines_text(&expected), &lines_text(&actual)),
            );
        }
    }

    // 1b. Each finding lies in a document holding one of its rule's relevance markers: the
    // markers a rule names in the registry are what the prefilter keeps for it.
    if let (Some(file), Some(text)) = (report_of(&report, &input), text.as_deref()) {
        if let Some(missing) = findings_without_their_markers(&input, text, file) {
            fail(
                "findings in documents without their rule's markers",
                missing,
            );
        }
    }

    let Some(text) = text else {
        // A file that cannot be loaded: a finding, never a fix.
        let fixed = check_paths(&paths, &settings, options(FixMode::Preview, true));
        if report_of(&fixed, &input).is_some_and(|f| f.fixed > 0) {
            fail("an unloadable file was fixed", String::new());
        }
        for ext in [FIXED_EXT, UNSAFE_EXT] {
            if case.file(ext).exists() {
                fail(
                    &format!("{ext} given for an unloadable input"),
                    String::new(),
                );
            }
        }
        return finish(failures);
    };

    // 2-4. Safe fixes, then unsafe fixes.
    let safe_expected = fs::read(case.file(FIXED_EXT)).ok();
    if safe_expected.as_deref() == Some(bytes.as_slice()) {
        fail(".fixed.yaml equals the input: omit it", String::new());
    }
    let safe_expected = safe_expected.unwrap_or_else(|| bytes.clone());
    let unsafe_expected = fs::read(case.file(UNSAFE_EXT)).ok();
    if unsafe_expected.as_deref() == Some(safe_expected.as_slice()) {
        fail(
            ".unsafe.yaml equals the safe result: omit it",
            String::new(),
        );
    }
    let unsafe_expected = unsafe_expected.unwrap_or_else(|| safe_expected.clone());
    let mut safe_actual = None;
    for (unsafe_fixes, expected, what) in [
        (false, safe_expected, "safe fixes"),
        (true, unsafe_expected, "unsafe fixes"),
    ] {
        let report = check_paths(&paths, &settings, options(FixMode::Preview, unsafe_fixes));
        let file = report_of(&report, &input);
        for note in file.iter().flat_map(|f| &f.notes) {
            if note.kind == asoguard_core::note::NoteKind::Fix {
                fail(
                    &format!("{what}: the fix loop failed"),
                    note.message.clone(),
                );
            }
        }
        let changed = file.is_some_and(|f| f.fixed > 0);
        let fixed_text = match file {
            Some(f) if changed => f.source.text.clone(),
            Some(f) if f.source.text != text => {
                fail(
                    &format!("{what}: nothing was fixed but the reported text is not the input"),
                    line_diff(&text, &f.source.text),
                );
                text.clone()
            }
            _ => text.clone(),
        };
        // Without `.unsafe.yaml`, an unsafe result equal to the safe one was compared already.
        let compared = unsafe_fixes
            && !case.file(UNSAFE_EXT).exists()
            && safe_actual.as_ref() == Some(&fixed_text);
        if !unsafe_fixes {
            safe_actual = Some(fixed_text.clone());
        }
        if !compared && fixed_text.as_bytes() != expected.as_slice() {
            fail(
                &format!(
                    "{what}: text differs from {} (- expected, + actual)",
                    if unsafe_fixes && case.file(UNSAFE_EXT).exists() {
                        UNSAFE_EXT
                    } else if case.file(FIXED_EXT).exists() {
                        FIXED_EXT
                    } else {
                        "the unchanged input"
                    }
                ),
                line_diff(&String::from_utf8_lossy(&expected), &fixed_text),
            );
        }
        if !changed {
            continue;
        }
        if input_parses {
            if let Some(error) = yaml::parse(&yaml::Arena::new(), &fixed_text).error {
                fail(
                    &format!("{what}: the fixed text does not parse"),
                    format!("{error:?}"),
                );
            }
        }
        let run = options(FixMode::Preview, unsafe_fixes);
        let (_, again) = check_with_text(case, &settings, &fixed_text, run);
        if let Some(again) = again.as_ref().filter(|f| f.fixed > 0) {
            fail(
                &format!("{what}: not idempotent, fixing the fixed text changes it again"),
                line_diff(&fixed_text, &again.source.text),
            );
        }
        let (_, recheck) =
            check_with_text(case, &settings, &fixed_text, options(FixMode::Off, false));
        let fixable: Vec<String> = recheck
            .iter()
            .flat_map(|f| f.diagnostics.iter())
            .filter(|d| {
                d.fix
                    .as_ref()
                    .is_some_and(|fix| fix.applicability == Applicability::Safe || unsafe_fixes)
            })
            .map(|d| format!("{} {}", d.rule.code(), d.message))
            .collect();
        if !fixable.is_empty() {
            fail(
                &format!("{what}: the fixed text still has findings with an applicable fix"),
                fixable.join("\n"),
            );
        }
        let left = render_findings(file);
        let rechecked = render_findings(recheck.as_ref());
        if left != rechecked {
            fail(
                &format!(
                    "{what}: findings left by the fix run differ from a fresh check of the fixed text (- left, + fresh)"
                ),
                line_diff(&lines_text(&left), &lines_text(&rechecked)),
            );
        }
    }
    finish(failures)
}

fn finish(failures: String) -> Result<(), String> {
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("     {l}\n")).collect()
}

fn lines_text(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Show a line the way its bytes are: `\r`, tabs, a BOM and trailing blanks made visible, a
/// missing final newline said.
fn visible(line: &str) -> String {
    let (body, newline) = match line.strip_suffix('\n') {
        Some(body) => (body, true),
        None => (line, false),
    };
    // Trailing blanks are shown as `·`, so a stray one is seen.
    let kept = body.trim_end_matches([' ', '\t']);
    let trailing = body.len() - kept.len();
    let mut out = String::new();
    for c in kept.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{feff}' => out.push_str("<BOM>"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push_str(&"·".repeat(trailing));
    if !newline {
        out.push_str("  <no newline at end>");
    }
    out
}

/// A small line diff (longest common subsequence), lines shown with `visible`, unchanged
/// lines kept only near a change.
fn line_diff(expected: &str, actual: &str) -> String {
    const CONTEXT: usize = 3;
    let a: Vec<&str> = expected.split_inclusive('\n').collect();
    let b: Vec<&str> = actual.split_inclusive('\n').collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut rows: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            rows.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            rows.push(('-', a[i]));
            i += 1;
        } else {
            rows.push(('+', b[j]));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..rows.len()).filter(|&k| rows[k].0 != ' ').collect();
    let near = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= CONTEXT);
    let mut out = String::new();
    let mut skipped = false;
    for (k, (sign, line)) in rows.iter().enumerate() {
        if near(k) {
            if skipped {
                out.push_str("  ...\n");
                skipped = false;
            }
            let _ = writeln!(out, "{sign} {}", visible(line));
        } else {
            skipped = true;
        }
    }
    if changed.is_empty() {
        out.push_str("  (no line differs)\n");
    } else if skipped {
        out.push_str("  ...\n");
    }
    const MAX_LINES: usize = 60;
    let total = out.lines().count();
    if total > MAX_LINES {
        let mut cut: String = out
            .lines()
            .take(MAX_LINES)
            .map(|l| format!("{l}\n"))
            .collect();
        let _ = writeln!(cut, "  ({} more lines of diff)", total - MAX_LINES);
        out = cut;
    }
    out
}

/// Every case of every rule of the registry but those marked as known bugs: one test over
/// `Rule::ALL`, so a new rule needs a fixture directory and no new test function. Failures are
/// listed by rule and case.
#[test]
fn every_rule_passes_its_fixture_cases() {
    let mut failed = Vec::new();
    let mut ran = 0;
    for rule in rules_with_fixtures() {
        for case in cases(rule.code()) {
            if case.known_bug().is_some() {
                continue;
            }
            ran += 1;
            if let Err(message) = run_case(&case, true) {
                failed.push(format!("FAIL {}\n{message}", case.label()));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {ran} fixture cases failed:\n\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// What users read of every rule's findings on its fixture cases, one snapshot per rule
/// (`snapshots/it__fixtures__<CODE>.snap`): `.expected` pins where findings are, the snapshot
/// pins what they say. Failures are listed by rule after every rule was compared, so one run
/// writes every `.snap.new` to review (`INSTA_UPDATE=always` writes the `.snap` files instead).
#[test]
fn every_rule_says_what_its_snapshot_says() {
    let mut failed = Vec::new();
    for rule in rules_with_fixtures() {
        let code = rule.code();
        let text = messages_of(code);
        let compared = std::panic::catch_unwind(|| insta::assert_snapshot!(code, text));
        if compared.is_err() {
            failed.push(code);
        }
    }
    assert!(
        failed.is_empty(),
        "the messages of {failed:?} differ from their snapshots (see the diffs above)"
    );
}

/// The snapshot text of a rule: for each of its cases with findings or notes, the case's path
/// under `fixtures/rules/<CODE>`, then each finding as the plain check reports it (its start,
/// code, severity, message, help, fix title and applicability, related places), the findings
/// inline suppressions silenced, and the file's notes. Case and related paths are shown
/// relative to `fixtures/rules/<CODE>`, paths in texts relative to the repository root, so the
/// snapshot is the same on every machine.
fn messages_of(code: &str) -> String {
    // Paths in messages are shown relative to the repository root.
    let repository = format!(
        "{}/",
        rules_dir().parent().unwrap().parent().unwrap().display()
    );
    let mut out = String::new();
    for case in cases(code) {
        let settings = settings_for(&case);
        let report = check_paths(
            &inputs_of(&case.dir),
            &settings,
            options(FixMode::Off, false),
        );
        let Some(file) = report_of(&report, &case.input()) else {
            continue;
        };
        if file.diagnostics.is_empty() && file.suppressed.is_empty() && file.notes.is_empty() {
            continue;
        }
        let relative = |path: &Path| {
            let shown = path.strip_prefix(&case.code_dir).unwrap_or(path);
            shown.display().to_string()
        };
        let stable = |text: &str| text.replace(&repository, "");
        let _ = writeln!(out, "{}", relative(&case.input()));
        for (d, suppressed) in file
            .diagnostics
            .iter()
            .map(|d| (d, false))
            .chain(file.suppressed.iter().map(|d| (d, true)))
        {
            let at = file.source.line_col(d.span.start);
            let _ = writeln!(
                out,
                "  {}:{} {} {}{}",
                at.line,
                at.column,
                d.rule.code(),
                d.severity.as_str(),
                if suppressed { " (suppressed)" } else { "" }
            );
            let mut field = |name: &str, value: &str| {
                let value = stable(value).replace('\n', "\n      ");
                let _ = writeln!(out, "    {name}: {value}");
            };
            field("message", &d.message);
            if let Some(help) = &d.help {
                field("help", help);
            }
            if let Some(fix) = &d.fix {
                field(&format!("fix ({})", fix.applicability.as_str()), &fix.title);
            }
            for related in &d.related {
                field(
                    &format!(
                        "related {}:{}:{}",
                        relative(&related.path),
                        related.line,
                        related.column
                    ),
                    &related.message,
                );
            }
            if let Some(suppression) = &d.suppression {
                field(
                    "suppressed by",
                    &format!(
                        "{:?}{}",
                        suppression.kind,
                        suppression
                            .justification
                            .as_deref()
                            .map(|j| format!(" -- {j}"))
                            .unwrap_or_default()
                    ),
                );
            }
        }
        for note in &file.notes {
            let _ = writeln!(
                out,
                "  note ({}): {}",
                note.kind.as_str(),
                stable(&note.message)
            );
        }
    }
    if out.is_empty() {
        out.push_str("(no case has findings or notes)\n");
    }
    out
}

/// Every rule of the registry has a fixture directory, and every directory under
/// `fixtures/rules` is a rule's.
#[test]
fn every_rule_has_fixtures() {
    let mut registry: Vec<&str> = rules_with_fixtures().map(|r| r.code()).collect();
    registry.sort_unstable();
    let mut on_disk: Vec<String> = fs::read_dir(rules_dir())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort_unstable();
    let missing: Vec<&str> = registry
        .iter()
        .copied()
        .filter(|code| !on_disk.iter().any(|d| d == code))
        .collect();
    let stray: Vec<&str> = on_disk
        .iter()
        .map(String::as_str)
        .filter(|d| !registry.contains(d))
        .collect();
    assert!(
        missing.is_empty() && stray.is_empty(),
        "fixtures/rules/* differs from the rule registry: rules without a fixture directory \
         {missing:?}, directories of no rule {stray:?}"
    );
}

/// Cases marked with a `.bug` file: they fail because of a library bug. This test fails while
/// any of them fails (printing the bug and the failure), and when one passes, so that its
/// marker is deleted once the bug is fixed.
#[test]
fn known_library_bugs() {
    let mut messages = Vec::new();
    for rule in rules_with_fixtures() {
        for case in cases(rule.code()) {
            let Some(bug) = case.known_bug() else {
                continue;
            };
            // Never bless a known bug's findings into its `.expected`.
            match run_case(&case, false) {
                Ok(()) => messages.push(format!(
                    "PASSES NOW {}: delete {} (it described: {})",
                    case.label(),
                    case.file(BUG_EXT).display(),
                    bug.trim()
                )),
                Err(failure) => messages.push(format!(
                    "KNOWN LIBRARY BUG {}\n{}\n{failure}",
                    case.label(),
                    indent(bug.trim())
                )),
            }
        }
    }
    assert!(messages.is_empty(), "{}", messages.join("\n"));
}

#[test]
fn line_diff_shows_bytes() {
    let diff = line_diff("a\r\nb\n", "a\nb");
    assert_eq!(diff, "- a\\r\n- b\n+ a\n+ b  <no newline at end>\n");
    let long: String = (1..=20).map(|n| format!("{n}\n")).collect();
    let diff = line_diff(&long, &long.replace("10\n", "ten\n"));
    assert_eq!(
        diff,
        "  ...\n  7\n  8\n  9\n- 10\n+ ten\n  11\n  12\n  13\n  ...\n"
    );
}
