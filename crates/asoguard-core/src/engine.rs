//! One run: load files in parallel, index what GitOps applies across the repository, check
//! every object, apply fixes in rounds until nothing changes, and write fixed files atomically.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::Settings;
use crate::diagnostic::Diagnostic;
use crate::discover::{self, LoadError, PathProblem, Target};
use crate::fix::{Applicability, Edit, Fix, apply_fixes};
use crate::index::{FileId, FixPlan, Index, IndexedFile, facts::FileFacts};
use crate::manifest::{Manifest, RECONCILE_POLICY};
use crate::relevance::{self, FileClass, Relevance};
use crate::rules::{self, FileContext, Rule};
use crate::schema::Coverage;
use crate::span::{LineIndex, SourceFile, Span};
use crate::suppress;
use crate::yaml::{self, Stream, edit};

/// The most fix rounds before giving up (ruff uses the same bound). Each round re-indexes the
/// repository, since a fix in one file (a kustomization) changes what others mean.
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

/// How a run treats fixes, and how it reads documents.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Report, preview or write fixes.
    pub fix: FixMode,
    /// Also apply unsafe fixes.
    pub unsafe_fixes: bool,
    /// Apply excludes to files named explicitly too.
    pub force_exclude: bool,
    /// Never build a tree for a document that no rule can care about (see
    /// [`crate::relevance`]). On by default; the findings are the same either way, which the
    /// property tests prove by turning it off (as does `ASOGUARD_NO_PREFILTER=1`).
    pub prefilter: bool,
    /// Report YAML syntax errors (E001) in every file. By default a file whose text holds
    /// nothing any rule could check (see [`crate::relevance`]) is not parsed, so its syntax
    /// errors are not asoguard's findings.
    pub strict_syntax: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            fix: FixMode::Off,
            unsafe_fixes: false,
            force_exclude: false,
            prefilter: std::env::var_os("ASOGUARD_NO_PREFILTER").is_none(),
            strict_syntax: false,
        }
    }
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
    /// Something the user should know that is not a finding (a skipped template, what a
    /// kustomization references that cannot be resolved, a fix that did not converge).
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
    let mut report = check_targets(targets, settings, options);
    report.problems = problems;
    report
}

/// Lint files already found (by [`discover::discover`]); a file that cannot be read when its
/// turn comes (it vanished, it is unreadable) is an E001 naming it.
pub fn check_targets(targets: Vec<Target>, settings: &Settings, options: RunOptions) -> RunReport {
    let inputs: Vec<Input> = targets
        .into_par_iter()
        .map(|target| {
            let text = discover::read_text(&target.fs_path, settings.max_file_size);
            Input { target, text }
        })
        .collect();
    check_inputs(inputs, settings, options)
}

/// Lint already loaded inputs (files, or stdin under a given name). When the settings' root is
/// a repository, the rest of it is indexed too, so cross-file facts (a Namespace's policy, the
/// kustomization or Application that applies a file) are known when only some files are named.
pub fn check_inputs(inputs: Vec<Input>, settings: &Settings, options: RunOptions) -> RunReport {
    let named: HashSet<&PathBuf> = inputs.iter().map(|i| &i.target.fs_path).collect();
    let others: Vec<PathBuf> = if settings.repository {
        discover::yaml_files_under(&settings.root, settings)
            .into_iter()
            .filter(|p| !named.contains(p))
            .filter(|p| !settings.crds.as_deref().is_some_and(|s| s.is_source(p)))
            .collect()
    } else {
        Vec::new()
    };
    // Files only indexed never change: summarise them once.
    let cwd = std::env::current_dir().unwrap_or_default();
    let others: Vec<IndexedFile> = others
        .into_par_iter()
        .filter_map(|fs_path| {
            let text = discover::read_text(&fs_path, settings.max_file_size).ok()?;
            let display = fs_path
                .strip_prefix(&cwd)
                .map_or_else(|_| fs_path.clone(), PathBuf::from);
            Some(indexed(display, fs_path, &text, options))
        })
        .collect();
    Run {
        settings,
        options,
        others,
    }
    .run(inputs)
}

/// What of a text is parsed: with the prefilter, only its relevant documents are built into
/// trees; without it, everything.
fn parse_relevance(options: RunOptions, relevance: Relevance) -> Relevance {
    if options.prefilter {
        relevance
    } else {
        Relevance::all()
    }
}

/// Summarise one file for the index. A file no rule can care about gives no fact (and, with
/// the prefilter, is never parsed); in the others, irrelevant documents are not built.
fn indexed(display: PathBuf, fs_path: PathBuf, text: &str, options: RunOptions) -> IndexedFile {
    let relevance = Relevance::of(&fs_path, text);
    let facts = if relevance.class == FileClass::Irrelevant {
        FileFacts::default()
    } else {
        FileFacts::of(
            &yaml::parse_with(text, &parse_relevance(options, relevance)),
            &fs_path,
        )
    };
    IndexedFile {
        display,
        fs_path,
        facts,
        lines: LineIndex::new(text),
    }
}

struct Run<'x> {
    settings: &'x Settings,
    options: RunOptions,
    others: Vec<IndexedFile>,
}

/// One target file through the rounds.
struct Working {
    target: Target,
    /// The text as loaded, or why it could not be.
    original: Result<String, LoadError>,
    /// The text after fixes, once a fix changed it (the loaded text is not copied before).
    fixed_text: Option<String>,
    fixed: usize,
    applied: Vec<(Rule, String)>,
    note: Option<String>,
    /// No more fixes: a fix broke it.
    frozen: bool,
}

impl Working {
    /// The current text.
    fn text(&self) -> &str {
        match (&self.fixed_text, &self.original) {
            (Some(fixed), _) => fixed,
            (None, Ok(original)) => original,
            (None, Err(_)) => "",
        }
    }
}

impl Run<'_> {
    fn run(&self, inputs: Vec<Input>) -> RunReport {
        let files_checked = inputs.len();
        let mut work: Vec<Working> = inputs
            .into_iter()
            .map(|input| Working {
                fixed_text: None,
                original: input.text,
                target: input.target,
                fixed: 0,
                applied: Vec::new(),
                note: None,
                frozen: false,
            })
            .collect();
        let mut outcomes;
        let mut round = 0;
        loop {
            let index = self.index(&work);
            outcomes = work
                .par_iter()
                .map(|w| match &w.original {
                    Err(error) => Outcome::unreadable(self.settings, &w.target, error),
                    Ok(_) => {
                        let file = index.file_id(&w.target.fs_path);
                        self.check(
                            &SourceFile::new(w.target.display.clone(), w.text().to_string()),
                            file,
                            &index,
                            &w.target.fs_path,
                            false,
                        )
                    }
                })
                .collect::<Vec<_>>();
            if self.options.fix == FixMode::Off {
                break;
            }
            let changed: Vec<bool> = work
                .par_iter_mut()
                .zip(outcomes.par_iter())
                .map(|(w, outcome)| self.fix_round(w, outcome))
                .collect();
            if !changed.contains(&true) {
                break;
            }
            round += 1;
            if round == MAX_FIX_ROUNDS {
                for (w, c) in work.iter_mut().zip(&changed) {
                    if *c {
                        w.note = Some(format!(
                            "fixes did not converge after {MAX_FIX_ROUNDS} rounds; the last result is kept (please report this)"
                        ));
                    }
                }
                let index = self.index(&work);
                outcomes = work
                    .par_iter()
                    .map(|w| match &w.original {
                        Err(error) => Outcome::unreadable(self.settings, &w.target, error),
                        Ok(_) => self.check(
                            &SourceFile::new(w.target.display.clone(), w.text().to_string()),
                            index.file_id(&w.target.fs_path),
                            &index,
                            &w.target.fs_path,
                            false,
                        ),
                    })
                    .collect();
                break;
            }
        }
        let reports: Vec<FileReport> = work
            .into_par_iter()
            .zip(outcomes.into_par_iter())
            .map(|(w, outcome)| self.finish(w, outcome))
            .collect();
        let documents = reports.iter().map(|f| f.documents).sum();
        let schema = self
            .settings
            .crds
            .as_ref()
            .map(|_| reports.iter().map(|f| f.schema).sum());
        let mut files: Vec<FileReport> = reports
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

    /// Index the targets' current texts and the other files of the repository.
    fn index(&self, work: &[Working]) -> Index {
        let mut files: Vec<IndexedFile> = work
            .par_iter()
            .filter(|w| w.original.is_ok())
            .map(|w| {
                indexed(
                    w.target.display.clone(),
                    w.target.fs_path.clone(),
                    w.text(),
                    self.options,
                )
            })
            .collect();
        files.extend(self.others.iter().cloned());
        files.sort_by(|a, b| a.fs_path.cmp(&b.fs_path));
        Index::build(files, self.settings)
    }

    /// Apply one round of fixes to a file; whether its text changed.
    fn fix_round(&self, w: &mut Working, outcome: &Outcome) -> bool {
        if w.frozen || !outcome.parsed {
            return false;
        }
        let (rules, fixes): (Vec<Rule>, Vec<&Fix>) = outcome
            .diagnostics
            .iter()
            .filter_map(|d| d.fix.as_ref().map(|f| (d.rule, f)))
            .filter(|(_, f)| self.options.applies(f.applicability))
            .unzip();
        let (new_text, taken) = apply_fixes(w.text(), &fixes);
        if taken.is_empty() || new_text == w.text() {
            return false;
        }
        if yaml::parse(&new_text).error.is_some() {
            w.frozen = true;
            w.note = Some("a fix produced invalid YAML and was discarded; the file keeps its last valid text (please report this bug)".into());
            return false;
        }
        w.fixed += taken.len();
        w.applied
            .extend(taken.iter().map(|&i| (rules[i], fixes[i].title.clone())));
        w.fixed_text = Some(new_text);
        true
    }

    /// Write a fixed file (when asked) and build its report.
    fn finish(&self, w: Working, outcome: Outcome) -> FileReport {
        let text = w.text().to_string();
        let Working {
            target,
            original,
            mut fixed,
            mut applied,
            note,
            ..
        } = w;
        let note = match (note, outcome.note.clone()) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        };
        let Ok(original) = original else {
            return FileReport {
                path: target.display.clone(),
                source: SourceFile::new(target.display, String::new()),
                original: None,
                diagnostics: outcome.diagnostics,
                suppressed: Vec::new(),
                fixed: 0,
                applied: Vec::new(),
                documents: 0,
                note,
                write_error: None,
                schema: Coverage::default(),
            };
        };
        let mut source = SourceFile::new(target.display.clone(), text);
        let mut outcome = outcome;
        let mut write_error = None;
        let changed = fixed > 0 && source.text != original;
        if changed && self.options.fix == FixMode::Write {
            if let Err(e) = discover::write_atomic(&target.fs_path, &source.text) {
                // The file on disk is untouched: report it as it is.
                write_error = Some(format!("cannot write the fixed file: {e}"));
                source = SourceFile::new(target.display.clone(), original.clone());
                outcome = Outcome {
                    note: outcome.note.clone(),
                    ..self.recheck(&source, &target)
                };
                fixed = 0;
                applied.clear();
            }
        }
        FileReport {
            path: target.display,
            original: (fixed > 0 && source.text != original).then_some(original),
            source,
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

    /// Check a file on its own (after a failed write), with the other files as last indexed.
    fn recheck(&self, source: &SourceFile, target: &Target) -> Outcome {
        let mut files = self.others.clone();
        files.push(indexed(
            target.display.clone(),
            target.fs_path.clone(),
            &source.text,
            self.options,
        ));
        let index = Index::build(files, self.settings);
        self.check(
            source,
            index.file_id(&target.fs_path),
            &index,
            &target.fs_path,
            false,
        )
    }

    fn check(
        &self,
        source: &SourceFile,
        file: Option<FileId>,
        index: &Index,
        fs_path: &Path,
        classified: bool,
    ) -> Outcome {
        // A file whose text holds nothing any rule could check gives no finding, note or fact
        // (its syntax errors are a YAML linter's business, unless `--strict-syntax`). With the
        // prefilter it is never parsed; without, it is checked anyway, which proves the point.
        let relevance = Relevance::of(fs_path, &source.text);
        let irrelevant =
            !classified && relevance.class == FileClass::Irrelevant && !self.options.strict_syntax;
        let empty = || Outcome {
            diagnostics: Vec::new(),
            suppressed: Vec::new(),
            documents: relevance::count_documents(&source.text),
            parsed: true,
            note: None,
            schema: Coverage::default(),
        };
        if irrelevant && self.options.prefilter {
            return empty();
        }
        if irrelevant {
            let full = self.check(source, file, index, fs_path, true);
            debug_assert!(
                full.diagnostics.iter().all(|d| d.rule == Rule::ParseError),
                "an irrelevant file had findings: {:?}",
                full.diagnostics
            );
            return empty();
        }
        let relevance = parse_relevance(self.options, relevance);
        let stream = yaml::parse_with(&source.text, &relevance);
        let mut diagnostics = Vec::new();
        let mut notes: Vec<String> = file.map(|f| index.notes(f).to_vec()).unwrap_or_default();
        let mut schema = Coverage::default();
        if is_sops(&stream) {
            notes.push("SOPS-encrypted file: skipped".into());
        } else if stream.error.is_some() && source.text.contains("{{") {
            notes.push(
                "looks like a Helm or Go template (`{{ ... }}`) and is not plain YAML: skipped"
                    .into(),
            );
        } else {
            let cx = FileContext {
                source,
                settings: self.settings,
                index,
                file,
            };
            for (doc, document) in stream.documents.iter().enumerate() {
                if let Some(manifest) = document.root.as_ref().and_then(Manifest::from_root) {
                    rules::check_manifest(&cx, doc, &manifest, &mut diagnostics);
                    if let Some(store) = self.settings.crds.as_deref() {
                        schema += Coverage::of(store, &manifest);
                    }
                }
            }
            if let Some(file) = file {
                diagnostics.extend(
                    index
                        .judgements(file)
                        .iter()
                        .map(|j| realize(j, &source.text, &stream)),
                );
            }
            if let Some(error) = &stream.error {
                let end = source.text[error.offset..]
                    .chars()
                    .next()
                    .map_or(error.offset, |c| error.offset + c.len_utf8());
                diagnostics.push(Diagnostic::new(
                    Rule::ParseError,
                    Span::new(error.offset, end),
                    format!("invalid YAML: {}", error.message),
                ));
            }
        }
        let skipped = notes.iter().any(|n| n.ends_with("skipped"));
        // A rule turned off, globally or for this path, leaves its suppressions "used".
        let enabled = |rule: Rule| {
            self.settings.severity(rule).is_some() && !self.settings.ignored_in(fs_path, rule)
        };
        let (live, suppressed) = suppress::apply(
            source,
            &stream,
            leveled(self.settings, fs_path, diagnostics),
            enabled,
        );
        let mut diagnostics = leveled(self.settings, fs_path, live);
        diagnostics.sort_by_key(|d| (d.span.start, d.rule));
        Outcome {
            diagnostics,
            suppressed,
            documents: stream.documents.len(),
            parsed: stream.error.is_none() && !skipped,
            note: (!notes.is_empty()).then(|| notes.join("; ")),
            schema,
        }
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

impl Outcome {
    fn unreadable(settings: &Settings, target: &Target, error: &LoadError) -> Self {
        Outcome {
            diagnostics: leveled(
                settings,
                &target.fs_path,
                vec![Diagnostic::new(
                    Rule::ParseError,
                    Span::empty(0),
                    error.to_string(),
                )],
            ),
            suppressed: Vec::new(),
            documents: 0,
            parsed: false,
            note: None,
            schema: Coverage::default(),
        }
    }
}

/// A cross-file judgement as a finding of this file, its fix plan turned into edits on this
/// file's tree.
fn realize(judgement: &crate::index::Judgement, text: &str, stream: &Stream) -> Diagnostic {
    let edits = judgement
        .fix
        .as_ref()
        .and_then(|(_, _, plan)| plan_edits(plan, text, stream));
    let fix = judgement
        .fix
        .as_ref()
        .zip(edits)
        .map(|((title, applicability, _), edits)| Fix {
            title: title.clone(),
            edits,
            applicability: *applicability,
        });
    let mut diagnostic =
        Diagnostic::new(judgement.rule, judgement.span, judgement.message.clone()).with_fix(fix);
    diagnostic.help = judgement.help.clone();
    diagnostic.object = judgement.object.clone();
    diagnostic.related = judgement.related.clone();
    if let Some(severity) = judgement.severity {
        diagnostic = diagnostic.with_severity(severity);
    }
    diagnostic
}

fn plan_edits(plan: &FixPlan, text: &str, stream: &Stream) -> Option<Vec<Edit>> {
    let root = |doc: usize| stream.documents.get(doc)?.root.as_ref();
    match plan {
        FixPlan::SetPolicy { doc, policy } => {
            edit::set_annotation(text, root(*doc)?, RECONCILE_POLICY, policy.as_str())
                .map(|e| vec![e])
        }
        FixPlan::RemovePolicy { doc } => {
            edit::remove_annotation(text, root(*doc)?, RECONCILE_POLICY)
        }
        FixPlan::ReplaceValue { span, value } => Some(vec![edit::replace_scalar(
            text,
            stream.node_at(*span)?,
            value,
        )]),
        FixPlan::SetEntryAt {
            doc,
            path,
            key,
            value,
        } => edit::set_entry_at(text, root(*doc)?, path, key, value).map(|e| vec![e]),
        FixPlan::RemoveEntryAt { doc, path, key } => {
            edit::remove_entry_at(text, root(*doc)?, path, key)
        }
        FixPlan::RemoveItem { span } => {
            let place = stream.item_at(*span)?;
            match (place.sequence.items()?.len(), place.holder) {
                (1, Some((mapping, entry))) => {
                    edit::remove_entry(text, mapping, entry).map(|e| vec![e])
                }
                _ => edit::remove_item(text, place.sequence, place.index).map(|e| vec![e]),
            }
        }
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
