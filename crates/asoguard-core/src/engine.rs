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
use crate::relevance::{self, FileClass, Relevance};
use crate::rules::{self, FileContext, Rule};
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
    /// Something the user should know that is not a finding (a skipped template, a fix that
    /// did not converge).
    pub note: Option<String>,
    /// An I/O failure writing the fixed file; the file on disk is unchanged.
    pub write_error: Option<String>,
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
}

impl FileReport {
    /// Whether the report holds anything to show: findings, suppressed findings, fixes, a note
    /// or a write error. Other files are only counted.
    pub fn has_news(&self) -> bool {
        !self.diagnostics.is_empty()
            || !self.suppressed.is_empty()
            || self.fixed > 0
            || self.note.is_some()
            || self.write_error.is_some()
    }
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

/// Lint `paths` (files or directories) with `settings`. Files are read when each pass needs
/// them rather than held for the whole run, so memory stays flat on large trees.
pub fn check_paths(paths: &[PathBuf], settings: &Settings, options: RunOptions) -> RunReport {
    let (targets, problems) = discover::discover(paths, settings, options.force_exclude);
    let mut report = check_targets(targets, settings, options);
    report.problems = problems;
    report
}

/// Lint files already found (by [`discover::discover`]), reading each from disk when a pass
/// needs it: a file that cannot be read then (it vanished, it is unreadable) is an E001.
pub fn check_targets(targets: Vec<Target>, settings: &Settings, options: RunOptions) -> RunReport {
    run(
        targets.into_iter().map(Source::Disk).collect(),
        settings,
        options,
    )
}

/// Lint already loaded inputs (files, or stdin under a given name).
pub fn check_inputs(inputs: Vec<Input>, settings: &Settings, options: RunOptions) -> RunReport {
    run(
        inputs.into_iter().map(Source::Loaded).collect(),
        settings,
        options,
    )
}

// ---- The passes of a run (the relevance prefilter and one parse per plain file) ----------
//
// 1. Every file is read and classified on its raw text (`relevance`). Irrelevant files are
//    only counted. Index sources (files that may hold Namespaces, Kustomizations, ArgoCD or
//    Flux objects) are parsed for their facts and checked against an empty probe index; the
//    result is final unless a check queried the index.
// 2. Plain relevant files (ASO resources only) are parsed once: their facts are gathered and
//    they are checked (and fixed) in the same pass. Their checks only read facts of index
//    sources, which are complete after pass 1.
// 3. Index sources whose checks queried the index are checked against the full index.
// With the prefilter off, every file is an index source: facts of all, then checks of all.

/// Where a file's text comes from: read from disk when needed, or already loaded.
enum Source {
    Disk(Target),
    Loaded(Input),
}

impl Source {
    fn target(&self) -> &Target {
        match self {
            Source::Disk(target) => target,
            Source::Loaded(input) => &input.target,
        }
    }

    fn text(&self, settings: &Settings) -> Result<std::borrow::Cow<'_, str>, LoadError> {
        match self {
            Source::Disk(target) => {
                discover::read_text(&target.fs_path, settings.max_file_size).map(Into::into)
            }
            Source::Loaded(input) => input.text.clone().map(Into::into),
        }
    }
}

/// What pass 1 learnt of a file.
struct Scan {
    class: FileClass,
    facts: Option<FileFacts>,
    documents: usize,
    /// The text, kept for the later pass while the run's budget allows (else read again).
    text: Option<String>,
    /// The file's outcome, when pass 1 could check it for good.
    done: Option<Processed>,
}

/// How many bytes of relevant text pass 1 may keep for the later passes: re-reading costs
/// system calls, holding costs memory; past this, regular files are read again (pipes, such
/// as `<(kustomize build)`, can be read only once and are always kept).
/// `ASOGUARD_KEEP_BYTES` overrides it (tests use 0).
fn keep_budget() -> usize {
    std::env::var("ASOGUARD_KEEP_BYTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32 << 20)
}

fn run(sources: Vec<Source>, settings: &Settings, options: RunOptions) -> RunReport {
    let kept = std::sync::atomic::AtomicUsize::new(0);
    let budget = keep_budget();
    let keep = |target: &Target, text: std::borrow::Cow<'_, str>| match text {
        std::borrow::Cow::Owned(text)
            if kept.fetch_add(text.len(), std::sync::atomic::Ordering::Relaxed) + text.len()
                <= budget
                || !std::fs::metadata(&target.fs_path).is_ok_and(|m| m.is_file()) =>
        {
            Some(text)
        }
        _ => None,
    };
    let scans: Vec<Scan> = sources
        .par_iter()
        .map(|source| {
            let target = source.target();
            let Ok(text) = source.text(settings) else {
                // Reported when the file is checked (it is read again then).
                return Scan {
                    class: FileClass::IndexSource,
                    facts: None,
                    documents: 0,
                    text: None,
                    done: None,
                };
            };
            let relevance = relevance_of(options, &target.fs_path, &text);
            match relevance.class {
                // Parsed (never built) in pass 2 for its syntax errors.
                FileClass::Irrelevant if options.strict_syntax => Scan {
                    class: FileClass::Relevant,
                    facts: None,
                    documents: 0,
                    text: keep(target, text),
                    done: None,
                },
                FileClass::Irrelevant => Scan {
                    class: FileClass::Irrelevant,
                    facts: None,
                    documents: relevance::count_documents(&text),
                    text: None,
                    done: None,
                },
                FileClass::Relevant => Scan {
                    class: FileClass::Relevant,
                    facts: None,
                    documents: 0,
                    text: keep(target, text),
                    done: None,
                },
                FileClass::IndexSource if options.prefilter => {
                    // Checked now against an empty index: kept when no query was made (most
                    // Namespaces, Kustomizations, Flux objects), else checked again in pass 3.
                    let probe = Index::default();
                    match process_text(
                        target.clone(),
                        text.into_owned(),
                        settings,
                        &probe,
                        options,
                        true,
                        true,
                    ) {
                        Speculation::Final(processed) => Scan {
                            // Nothing is left to do with it.
                            class: FileClass::Irrelevant,
                            facts: processed.facts.clone().map(|(_, facts)| facts),
                            documents: 0,
                            text: None,
                            done: Some(*processed),
                        },
                        Speculation::Consulted(facts, text) => Scan {
                            class: FileClass::IndexSource,
                            facts,
                            documents: 0,
                            text: keep(target, text.into()),
                            done: None,
                        },
                    }
                }
                FileClass::IndexSource => {
                    // Documents after the last relevant segment give no fact: not parsed here.
                    let head = &text[..relevance.relevant_end(text.len())];
                    let facts = FileFacts::of(&yaml::parse_with(head, &relevance), &target.display);
                    Scan {
                        class: FileClass::IndexSource,
                        facts: Some(facts),
                        documents: 0,
                        text: keep(target, text),
                        done: None,
                    }
                }
            }
        })
        .collect();
    let mut index = Index::default();
    let mut pending = Vec::with_capacity(scans.len());
    let mut documents = 0;
    let mut files = Vec::new();
    for (source, scan) in sources.iter().zip(scans) {
        if let Some(facts) = scan.facts {
            add_facts(&mut index, settings, source.target(), facts);
        }
        documents += scan.documents;
        if let Some(done) = scan.done {
            documents += done.documents;
            files.extend(done.report);
        }
        pending.push((scan.class, scan.text));
    }
    let files_checked = sources.len();
    let (plain, sources_of_facts): (Vec<_>, Vec<_>) = sources
        .into_iter()
        .zip(pending)
        .filter(|(_, (class, _))| *class != FileClass::Irrelevant)
        .map(|(source, (class, text))| (source, class, text))
        .partition(|(_, class, _)| *class == FileClass::Relevant);
    let checked: Vec<Processed> = plain
        .into_par_iter()
        .map(|(source, _, text)| process(source, text, settings, &index, options, true))
        .collect();
    for processed in checked {
        documents += processed.documents;
        files.extend(processed.report);
        if let Some((target, facts)) = processed.facts {
            add_facts(&mut index, settings, &target, facts);
        }
    }
    let checked: Vec<Processed> = sources_of_facts
        .into_par_iter()
        .map(|(source, _, text)| process(source, text, settings, &index, options, false))
        .collect();
    for processed in checked {
        documents += processed.documents;
        files.extend(processed.report);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    RunReport {
        files,
        problems: Vec::new(),
        files_checked,
        documents,
    }
}

/// The relevance of a text under the run's options: with the prefilter off, everything.
fn relevance_of(options: RunOptions, fs_path: &std::path::Path, text: &str) -> Relevance {
    if options.prefilter {
        Relevance::of(fs_path, text)
    } else {
        Relevance::all()
    }
}

fn add_facts(index: &mut Index, settings: &Settings, target: &Target, facts: FileFacts) {
    let cluster = settings
        .cluster_of(&target.fs_path)
        .map(|c| c.name.as_str());
    index.add(&target.fs_path, cluster, facts);
}

/// What checking one file gives the run.
#[derive(Clone)]
struct Processed {
    /// Its report, when it has anything to report (clean files are only counted, and their
    /// text is dropped at once).
    report: Option<FileReport>,
    /// Its documents.
    documents: usize,
    /// Its facts, when asked for, gathered from the parse that checked it.
    facts: Option<(Target, FileFacts)>,
}

/// Check one file (its `kept` text, else read again), fix it to a fixpoint when asked, and
/// write it when asked; with `gather`, also summarise the file (its original text) for the
/// index.
fn process(
    source: Source,
    kept: Option<String>,
    settings: &Settings,
    index: &Index,
    options: RunOptions,
    gather: bool,
) -> Processed {
    let text = match kept {
        Some(text) => Ok(text),
        None => source.text(settings).map(std::borrow::Cow::into_owned),
    };
    let target = match source {
        Source::Disk(target) => target,
        Source::Loaded(input) => input.target,
    };
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
            let report = FileReport {
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
            };
            return Processed {
                report: Some(report).filter(FileReport::has_news),
                documents: 0,
                facts: None,
            };
        }
    };
    match process_text(target, text, settings, index, options, gather, false) {
        Speculation::Final(processed) => *processed,
        Speculation::Consulted(..) => unreachable!("process_text defers only with a probe index"),
    }
}

/// The outcome of checking a text against an index that may be incomplete.
enum Speculation {
    /// The result, final: no query was made, or the index was complete.
    Final(Box<Processed>),
    /// The checks consulted a probe index: nothing was written. The facts gathered, and the
    /// original text back.
    Consulted(Option<FileFacts>, String),
}

/// [`process`] on a loaded text. With `probe`, `index` is an empty index standing in for the
/// run's: a check that consults it ends before any write, with [`Speculation::Consulted`].
fn process_text(
    target: Target,
    text: String,
    settings: &Settings,
    index: &Index,
    options: RunOptions,
    gather: bool,
    probe: bool,
) -> Speculation {
    let cluster = settings.cluster_of(&target.fs_path);
    let checker = Checker {
        settings,
        index,
        cluster: cluster.map(|c| c.name.as_str()),
        role: cluster.map_or(Role::Active, |c| c.role),
        fs_path: &target.fs_path,
        display: &target.display,
        prefilter: options.prefilter,
        strict_syntax: options.strict_syntax,
    };
    let mut source = SourceFile::new(target.display.clone(), text);
    let mut facts = None;
    let mut outcome = checker.check(&source, gather.then_some(&mut facts));
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
            let next = checker.check(&candidate, None);
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
    if probe && index.was_consulted() {
        let original = first.map_or(source.text, |(text, _)| text);
        return Speculation::Consulted(facts, original);
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
    let documents = outcome.documents;
    let report = FileReport {
        path: target.display.clone(),
        source,
        original,
        diagnostics: outcome.diagnostics,
        suppressed: outcome.suppressed,
        fixed,
        applied,
        documents,
        note,
        write_error,
    };
    Speculation::Final(Box::new(Processed {
        report: Some(report).filter(FileReport::has_news),
        documents,
        facts: facts.map(|facts| (target, facts)),
    }))
}

/// The result of checking one text.
#[derive(Clone)]
struct Outcome {
    diagnostics: Vec<Diagnostic>,
    suppressed: Vec<Diagnostic>,
    documents: usize,
    parsed: bool,
    note: Option<String>,
}

/// Checks texts of one file against the run's settings and index.
struct Checker<'x> {
    settings: &'x Settings,
    index: &'x Index,
    cluster: Option<&'x str>,
    role: Role,
    fs_path: &'x std::path::Path,
    display: &'x std::path::Path,
    prefilter: bool,
    strict_syntax: bool,
}

impl Checker<'_> {
    /// Check one text; with `facts`, also summarise it for the index from the same parse.
    fn check(&self, source: &SourceFile, facts: Option<&mut Option<FileFacts>>) -> Outcome {
        let relevance = Relevance::of(self.fs_path, &source.text);
        if relevance.class == FileClass::Irrelevant && !self.strict_syntax {
            // Nothing in it can matter to a rule: never a finding, a note or a fact, and with
            // the prefilter off the same is proved by checking it anyway and finding nothing.
            if !self.prefilter {
                let stream = yaml::parse(&source.text);
                let mut diagnostics = Vec::new();
                self.check_stream(source, &stream, &mut diagnostics);
                diagnostics.retain(|d| d.rule != Rule::ParseError);
                debug_assert!(diagnostics.is_empty(), "an irrelevant file had findings");
            }
            if let Some(facts) = facts {
                *facts = Some(FileFacts::default());
            }
            return Outcome {
                diagnostics: Vec::new(),
                suppressed: Vec::new(),
                documents: relevance::count_documents(&source.text),
                parsed: true,
                note: None,
            };
        }
        let relevance = if self.prefilter {
            relevance
        } else {
            Relevance::all()
        };
        let stream = yaml::parse_with(&source.text, &relevance);
        if let Some(facts) = facts {
            *facts = Some(FileFacts::of(&stream, self.display));
        }
        let mut diagnostics = Vec::new();
        let mut note = None;
        if is_sops(&stream) {
            note = Some("SOPS-encrypted file: skipped".into());
        } else if stream.error.is_some() && source.text.contains("{{") {
            note = Some(
                "looks like a Helm or Go template (`{{ ... }}`) and is not plain YAML: skipped"
                    .into(),
            );
        } else {
            self.check_stream(source, &stream, &mut diagnostics);
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
        }
    }

    fn check_stream(&self, source: &SourceFile, stream: &Stream, out: &mut Vec<Diagnostic>) {
        let cx = FileContext {
            source,
            settings: self.settings,
            index: self.index,
            cluster: self.cluster,
            role: self.role,
        };
        for document in &stream.documents {
            if let Some(manifest) = document.root.as_ref().and_then(Manifest::from_root) {
                rules::check_manifest(&cx, &manifest, out);
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
