//! One run: load files in parallel, gather cross-file facts, check every object, apply fixes to
//! a fixpoint, and write fixed files atomically.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::config::{Role, Settings};
use crate::diagnostic::Diagnostic;
use crate::discover::{self, LoadError, PathProblem, Target};
use crate::fix::{Applicability, apply_fixes};
use crate::index::{FileFacts, Index};
use crate::manifest::Manifest;
use crate::rules::{self, FileContext, Rule};
use crate::schema::Coverage;
use crate::span::{SourceFile, Span};
use crate::suppress;
use crate::yaml::{self, Stream};

/// The most fix rounds on one file before giving up (ruff uses the same bound).
pub const MAX_FIX_ROUNDS: usize = 100;

/// What to do with fixes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FixMode {
    /// Report only.
    #[default]
    Off,
    /// Compute the fixed text but write nothing (for `--diff`, and stdin).
    Preview,
    /// Write fixed files in place.
    Write,
}

/// How a run treats fixes.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Report, preview or write fixes.
    pub fix: FixMode,
    /// Also apply unsafe fixes.
    pub unsafe_fixes: bool,
    /// Apply excludes to files named explicitly too.
    pub force_exclude: bool,
}

impl RunOptions {
    fn applies(&self, applicability: Applicability) -> bool {
        self.fix != FixMode::Off && (applicability == Applicability::Safe || self.unsafe_fixes)
    }
}

/// The text of one file to check, with where it comes from.
#[derive(Clone, Debug)]
pub struct Input {
    /// Where the file is.
    pub target: Target,
    /// Its text, or why it could not be loaded.
    pub text: Result<String, LoadError>,
}

/// The outcome for one file.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The path as reported.
    pub path: PathBuf,
    /// The file's text after fixes (the original text when nothing changed).
    pub source: SourceFile,
    /// The text before fixes, when fixes changed it.
    pub original: Option<String>,
    /// Findings left after fixes.
    pub diagnostics: Vec<Diagnostic>,
    /// Findings silenced by inline suppressions (each carries its `suppression`).
    pub suppressed: Vec<Diagnostic>,
    /// How many fixes were applied.
    pub fixed: usize,
    /// The rule and title of every fix applied, in the order applied.
    pub applied: Vec<(Rule, String)>,
    /// How many YAML documents the file holds.
    pub documents: usize,
    /// Something the user should know that is not a finding (a skipped template, a fix that
    /// did not converge).
    pub note: Option<String>,
    /// An I/O failure writing the fixed file; the file on disk is unchanged.
    pub write_error: Option<String>,
    /// How many of its resources were checked against a CRD, and how many could not be.
    pub schema: Coverage,
}

/// The outcome of a run.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// Files with findings, fixes or notes, sorted by path. Clean files are only counted.
    pub files: Vec<FileReport>,
    /// Path arguments that could not be used.
    pub problems: Vec<PathProblem>,
    /// How many files were checked.
    pub files_checked: usize,
    /// How many documents those files hold.
    pub documents: usize,
    /// Resources checked against a CRD and ASO resources that could not be (no CRD for their
    /// kind); `None` when the run was given no CRDs.
    pub schema: Option<Coverage>,
}

impl RunReport {
    /// Every remaining finding, with its file.
    pub fn diagnostics(&self) -> impl Iterator<Item = (&FileReport, &Diagnostic)> {
        self.files
            .iter()
            .flat_map(|f| f.diagnostics.iter().map(move |d| (f, d)))
    }

    /// How many fixes were applied.
    pub fn fixed(&self) -> usize {
        self.files.iter().map(|f| f.fixed).sum()
    }
}

/// Lint `paths` (files or directories) with `settings`.
pub fn check_paths(paths: &[PathBuf], settings: &Settings, options: RunOptions) -> RunReport {
    let (mut targets, problems) = discover::discover(paths, settings, options.force_exclude);
    // CRD files given with `--crds` or `crds:` are inputs of validation, not manifests.
    if let Some(store) = settings.crds.as_deref() {
        targets.retain(|t| !store.is_source(&t.fs_path));
    }
    let inputs: Vec<Input> = targets
        .into_par_iter()
        .map(|target| {
            let text = discover::read_text(&target.fs_path, settings.max_file_size);
            Input { target, text }
        })
        .collect();
    let mut report = check_inputs(inputs, settings, options);
    report.problems = problems;
    report
}

/// Lint already loaded inputs (files, or stdin under a given name).
pub fn check_inputs(inputs: Vec<Input>, settings: &Settings, options: RunOptions) -> RunReport {
    let facts: Vec<Option<FileFacts>> = inputs
        .par_iter()
        .map(|input| {
            let text = input.text.as_ref().ok()?;
            Some(FileFacts::of(&yaml::parse(text), &input.target.display))
        })
        .collect();
    let mut index = Index::default();
    for (input, facts) in inputs.iter().zip(facts) {
        if let Some(facts) = facts {
            let cluster = settings
                .cluster_of(&input.target.fs_path)
                .map(|c| c.name.as_str());
            index.add(&input.target.fs_path, cluster, facts);
        }
    }
    let files_checked = inputs.len();
    let outcomes: Vec<FileReport> = inputs
        .into_par_iter()
        .map(|input| process(input, settings, &index, options))
        .collect();
    let documents = outcomes.iter().map(|f| f.documents).sum();
    let schema = settings
        .crds
        .as_ref()
        .map(|_| outcomes.iter().map(|f| f.schema).sum());
    let mut files: Vec<FileReport> = outcomes
        .into_iter()
        .filter(|f| {
            !f.diagnostics.is_empty()
                || !f.suppressed.is_empty()
                || f.fixed > 0
                || f.note.is_some()
                || f.write_error.is_some()
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    RunReport {
        files,
        problems: Vec::new(),
        files_checked,
        documents,
        schema,
    }
}

/// Check one file, fix it to a fixpoint when asked, and write it when asked.
fn process(input: Input, settings: &Settings, index: &Index, options: RunOptions) -> FileReport {
    let Input { target, text } = input;
    let text = match text {
        Ok(text) => text,
        Err(error) => {
            let diagnostics = leveled(
                settings,
                &target.fs_path,
                vec![Diagnostic::new(
                    Rule::ParseError,
                    Span::empty(0),
                    error.to_string(),
                )],
            );
            return FileReport {
                path: target.display.clone(),
                source: SourceFile::new(target.display, String::new()),
                original: None,
                diagnostics,
                suppressed: Vec::new(),
                fixed: 0,
                applied: Vec::new(),
                documents: 0,
                note: None,
                write_error: None,
                schema: Coverage::default(),
            };
        }
    };
    let cluster = settings.cluster_of(&target.fs_path);
    let checker = Checker {
        settings,
        index,
        cluster: cluster.map(|c| c.name.as_str()),
        role: cluster.map_or(Role::Active, |c| c.role),
        fs_path: &target.fs_path,
    };
    let mut source = SourceFile::new(target.display.clone(), text);
    let mut outcome = checker.check(&source);
    let first = (options.fix != FixMode::Off).then(|| (source.text.clone(), outcome.clone()));
    let mut fixed = 0;
    let mut applied = Vec::new();
    let mut note = outcome.note.clone();
    if options.fix != FixMode::Off && outcome.parsed {
        for round in 0.. {
            let (rules, fixes): (Vec<Rule>, Vec<&crate::fix::Fix>) = outcome
                .diagnostics
                .iter()
                .filter_map(|d| d.fix.as_ref().map(|f| (d.rule, f)))
                .filter(|(_, f)| options.applies(f.applicability))
                .unzip();
            let (new_text, taken) = apply_fixes(&source.text, &fixes);
            if taken.is_empty() || new_text == source.text {
                break;
            }
            if round == MAX_FIX_ROUNDS {
                note = Some(format!(
                    "fixes did not converge after {MAX_FIX_ROUNDS} rounds; the last result is kept (please report this)"
                ));
                break;
            }
            let candidate = SourceFile::new(target.display.clone(), new_text);
            let next = checker.check(&candidate);
            if !next.parsed {
                note = Some(
                    "a fix produced invalid YAML and was discarded; the file keeps its last valid text (please report this bug)".into(),
                );
                break;
            }
            fixed += taken.len();
            applied.extend(taken.iter().map(|&i| (rules[i], fixes[i].title.clone())));
            source = candidate;
            outcome = next;
        }
    }
    let mut original = None;
    let mut write_error = None;
    if let Some((first_text, first_outcome)) = first.filter(|_| fixed > 0) {
        let written = match options.fix {
            FixMode::Write => discover::write_atomic(&target.fs_path, &source.text),
            _ => Ok(()),
        };
        if let Err(e) = written {
            // The file on disk is untouched: report it as it is.
            write_error = Some(format!("cannot write the fixed file: {e}"));
            source = SourceFile::new(target.display.clone(), first_text);
            outcome = first_outcome;
            fixed = 0;
            applied.clear();
        } else {
            original = Some(first_text);
        }
    }
    FileReport {
        path: target.display,
        source,
        original,
        diagnostics: outcome.diagnostics,
        suppressed: outcome.suppressed,
        fixed,
        applied,
        documents: outcome.documents,
        note,
        write_error,
        schema: outcome.schema,
    }
}

/// The result of checking one text.
#[derive(Clone)]
struct Outcome {
    diagnostics: Vec<Diagnostic>,
    suppressed: Vec<Diagnostic>,
    documents: usize,
    parsed: bool,
    note: Option<String>,
    schema: Coverage,
}

/// Checks texts of one file against the run's settings and index.
struct Checker<'x> {
    settings: &'x Settings,
    index: &'x Index,
    cluster: Option<&'x str>,
    role: Role,
    fs_path: &'x std::path::Path,
}

impl Checker<'_> {
    fn check(&self, source: &SourceFile) -> Outcome {
        let stream = yaml::parse(&source.text);
        let mut diagnostics = Vec::new();
        let mut note = None;
        let mut schema = Coverage::default();
        if is_sops(&stream) {
            note = Some("SOPS-encrypted file: skipped".into());
        } else if stream.error.is_some() && source.text.contains("{{") {
            note = Some(
                "looks like a Helm or Go template (`{{ ... }}`) and is not plain YAML: skipped"
                    .into(),
            );
        } else {
            schema = self.check_stream(source, &stream, &mut diagnostics);
        }
        let enabled = |rule: Rule| self.settings.severity(rule).is_some();
        let (live, suppressed) = suppress::apply(
            source,
            &stream,
            leveled(self.settings, self.fs_path, diagnostics),
            enabled,
        );
        let mut diagnostics = leveled(self.settings, self.fs_path, live);
        diagnostics.sort_by_key(|a| (a.span.start, a.rule));
        Outcome {
            diagnostics,
            suppressed,
            documents: stream.documents.len(),
            parsed: stream.error.is_none() && note.is_none(),
            note,
            schema,
        }
    }

    fn check_stream(
        &self,
        source: &SourceFile,
        stream: &Stream,
        out: &mut Vec<Diagnostic>,
    ) -> Coverage {
        let cx = FileContext {
            source,
            settings: self.settings,
            index: self.index,
            cluster: self.cluster,
            role: self.role,
        };
        let mut schema = Coverage::default();
        for document in &stream.documents {
            if let Some(manifest) = document.root.as_ref().and_then(Manifest::from_root) {
                rules::check_manifest(&cx, &manifest, out);
                if let Some(store) = self.settings.crds.as_deref() {
                    schema += Coverage::of(store, &manifest);
                }
            }
        }
        if let Some(error) = &stream.error {
            let end = source.text[error.offset..]
                .chars()
                .next()
                .map_or(error.offset, |c| error.offset + c.len_utf8());
            out.push(Diagnostic::new(
                Rule::ParseError,
                Span::new(error.offset, end),
                format!("invalid YAML: {}", error.message),
            ));
        }
        schema
    }
}

/// Whether a file is SOPS-encrypted (a top-level `sops` mapping with a `mac`).
fn is_sops(stream: &Stream) -> bool {
    stream.documents.iter().any(|d| {
        d.root
            .as_ref()
            .and_then(|r| r.get("sops"))
            .is_some_and(|s| s.get("mac").is_some())
    })
}

/// Apply configured severities and drop findings of rules turned off, or ignored for this file
/// by `per-file-ignores`. A finding a rule itself lowered (a warning from an error rule) never
/// rises above the configured level.
fn leveled(
    settings: &Settings,
    path: &std::path::Path,
    diagnostics: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    diagnostics
        .into_iter()
        .filter_map(|mut d| {
            if settings.ignored_in(path, d.rule) {
                return None;
            }
            let configured = settings.severity(d.rule)?;
            d.severity = if d.severity < d.rule.meta().severity {
                d.severity.min(configured)
            } else {
                configured
            };
            Some(d)
        })
        .collect()
}
