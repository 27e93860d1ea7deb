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
use crate::note::{Note, NoteKind};
use crate::relevance::{self, FileClass, Relevance};
use crate::rules::{self, DocumentNeeds, FileContext, Likely, Rule};
use crate::schema::Coverage;
use crate::sops;
use crate::span::{LineIndex, SourceFile, Span};
use crate::suppress;
use crate::template::Template;
use crate::yaml::{self, Stream, edit};

/// The largest read buffer, or tree arena, a thread keeps between files (bigger ones are let go
/// after use).
const BUFFER_KEPT: usize = 1 << 20;

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
    /// What the user should know that is not a finding (a skipped template, what a
    /// kustomization references that cannot be resolved, a fix that did not converge).
    pub notes: Vec<Note>,
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
    /// Notes about the run as a whole, not about one file (such as a configured cluster that
    /// matches nothing); notes about a file are in its [`FileReport::notes`].
    pub notes: Vec<Note>,
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

    /// Every note, with the file it is about (`None` for a note about the run): the run's
    /// first, then each file's in path order.
    pub fn all_notes(&self) -> impl Iterator<Item = (Option<&Path>, &Note)> {
        self.notes.iter().map(|n| (None, n)).chain(
            self.files
                .iter()
                .flat_map(|f| f.notes.iter().map(move |n| (Some(f.path.as_path()), n))),
        )
    }

    /// How many notes of each kind the run gave, in [`NoteKind::ALL`]'s order, kinds without
    /// notes left out.
    pub fn note_counts(&self) -> Vec<(NoteKind, usize)> {
        let mut counts = [0; NoteKind::ALL.len()];
        for (_, note) in self.all_notes() {
            if let Some(at) = NoteKind::ALL.iter().position(|k| *k == note.kind) {
                counts[at] += 1;
            }
        }
        NoteKind::ALL
            .into_iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .collect()
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

/// Lint files already found (by [`discover::discover`]). Each is read when the first pass
/// reaches it, and the text of one no rule can care about is let go at once, so a run holds
/// only the texts it checks; a file that cannot be read then (it vanished, it is unreadable)
/// is an E001 naming it.
pub fn check_targets(targets: Vec<Target>, settings: &Settings, options: RunOptions) -> RunReport {
    let pending = targets.into_iter().map(|target| (target, None)).collect();
    check_work(pending, settings, options)
}

/// Lint already loaded inputs (files, or stdin under a given name). When the settings' root is
/// a repository, the rest of it is indexed too, so cross-file facts (a Namespace's policy, the
/// kustomization or Application that applies a file) are known when only some files are named.
pub fn check_inputs(inputs: Vec<Input>, settings: &Settings, options: RunOptions) -> RunReport {
    let pending = inputs
        .into_iter()
        .map(|input| (input.target, Some(input.text)))
        .collect();
    check_work(pending, settings, options)
}

/// Render what the repository applies, judging nothing: `paths`, and when the settings' root is
/// a repository, every other YAML file under it. The index [`crate::index::inventory`] and the
/// transforms read. Files that cannot be read are left out (a `check` reports them).
pub fn index_paths(paths: &[PathBuf], settings: &Settings) -> (Index, Vec<PathProblem>) {
    let (mut targets, problems) = discover::discover(paths, settings, false);
    if settings.repository {
        let named: HashSet<PathBuf> = targets.iter().map(|t| t.fs_path.to_path_buf()).collect();
        let cwd = std::env::current_dir().unwrap_or_default();
        targets.extend(
            discover::yaml_files_under(&settings.root, settings)
                .into_iter()
                .filter(|p| !named.contains(p))
                .map(|fs_path| {
                    let display = fs_path
                        .strip_prefix(&cwd)
                        .map_or_else(|_| fs_path.clone(), PathBuf::from);
                    Target::new(display, fs_path)
                }),
        );
    }
    if let Some(store) = settings.crds.as_deref() {
        targets.retain(|t| !store.is_source(&t.fs_path));
    }
    let files: Vec<IndexedFile> = targets
        .into_par_iter()
        .filter_map(|target| {
            let text = discover::read_text(&target.fs_path, settings.max_file_size).ok()?;
            Some(indexed(target, &text, RunOptions::default()))
        })
        .collect();
    (Index::build(files, settings), problems)
}

/// A target, and its text when it was loaded before the run (otherwise the first pass reads
/// it).
type Pending = (Target, Option<Result<String, LoadError>>);

fn check_work(pending: Vec<Pending>, settings: &Settings, options: RunOptions) -> RunReport {
    let others: Vec<PathBuf> = if settings.repository {
        // Scoped here: a set of every target is not to be held through the run.
        let named: HashSet<&Path> = pending.iter().map(|(target, _)| &*target.fs_path).collect();
        discover::yaml_files_under(&settings.root, settings)
            .into_iter()
            .filter(|p| !named.contains(p.as_path()))
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
            Some(indexed(Target::new(display, fs_path), &text, options))
        })
        .collect();
    Run {
        settings,
        options,
        others,
        notes: std::sync::Mutex::default(),
    }
    .run(pending)
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

/// Summarise a file that is only indexed (never checked). A file no rule can care about gives
/// no fact (and, with the prefilter, is never parsed); in the others, irrelevant documents are
/// not built.
fn indexed(target: Target, text: &str, options: RunOptions) -> IndexedFile {
    let relevance = Relevance::of(&target.fs_path, text);
    let facts = if relevance.class == FileClass::Irrelevant {
        FileFacts::default()
    } else {
        let arena = yaml::Arena::new();
        let stream = yaml::parse_with(&arena, text, &parse_relevance(options, relevance));
        // A template is not what gets applied: it tells the index nothing.
        if Template::of(&target.fs_path, text, &stream).is_some() {
            FileFacts::default()
        } else {
            FileFacts::of(&stream, &target.fs_path)
        }
    };
    IndexedFile::new(&target, facts, || LineIndex::new(text))
}

struct Run<'x> {
    settings: &'x Settings,
    options: RunOptions,
    others: Vec<IndexedFile>,
    /// The run-level notes of the last index built.
    notes: std::sync::Mutex<Vec<Note>>,
}

/// One target file through the rounds.
struct Working {
    target: Target,
    text: Text,
    /// Its text was read by the run from a regular file, so it can be read again.
    rereadable: bool,
    /// What this round's pass found, until the index is built.
    scanned: Scanned,
    /// What fixes did to it. Boxed: a run holds one working state per checked file, and most
    /// are never fixed.
    fixes: Option<Box<Fixes>>,
}

/// What fixes did to a target.
#[derive(Default)]
struct Fixes {
    /// The text as loaded, once a fix changed it.
    original: Option<String>,
    fixed: usize,
    applied: Vec<(Rule, String)>,
    note: Option<Note>,
    /// No more fixes: a fix broke it.
    frozen: bool,
}

/// What a run holds of a target's text.
enum Text {
    /// Not read yet: the first pass reads it.
    Unread,
    /// It could not be loaded.
    Failed(LoadError),
    /// Nothing in it can matter to a rule: its text is not kept (it never changes, and nothing
    /// is reported in it), only how many documents it holds.
    Quiet { documents: usize },
    /// The current text, fixes applied, with its lines (boxed, to keep every working state
    /// small).
    Loaded(Box<SourceFile>),
    /// Checked in a run without fixes, and let go: read again only if its report needs the
    /// text, and then only if it is still the text that was checked.
    OnDisk {
        /// Its length and hash when it was checked.
        len: usize,
        hash: u64,
    },
}

/// The hash that tells whether a file read again is the one checked (with its length): a
/// change between two reads of one run is no adversary's, and every silent file is hashed.
fn text_hash(text: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(text)
}

impl Working {
    fn unread(target: Target) -> Self {
        Working {
            target,
            text: Text::Unread,
            rereadable: false,
            scanned: Scanned::Unreadable,
            fixes: None,
        }
    }

    /// What fixes did to it, recorded from now on.
    fn fixes(&mut self) -> &mut Fixes {
        self.fixes.get_or_insert_default()
    }

    /// Whether a fix changed its text.
    fn is_fixed(&self) -> bool {
        self.fixes.as_ref().is_some_and(|f| f.original.is_some())
    }

    fn new((target, text): Pending) -> Self {
        let text = match text {
            None => Text::Unread,
            Some(Ok(text)) => Text::Loaded(Box::new(SourceFile::new(
                target.display.to_path_buf(),
                text,
            ))),
            Some(Err(error)) => Text::Failed(error),
        };
        Working {
            text,
            ..Working::unread(target)
        }
    }
}

/// What one parse of a file tells before the index is built: the findings of the rules that
/// need only the file, and what finishing its check needs. A document is parsed again, on its
/// own, only when a check or a fix needs its tree once the index is built; most files are
/// parsed once.
struct Scan {
    /// Findings of the per-document rules, and E001.
    diagnostics: Vec<Diagnostic>,
    /// Documents with checks left for the index (see [`rules::check_document`]).
    needs: Vec<(usize, DocumentNeeds)>,
    directives: suppress::Directives,
    /// Every document's span, to parse one again on its own.
    doc_spans: Vec<Span>,
    /// Fix plans a cross-file rule is likely to file here, realized while the tree was at
    /// hand (see [`rules::likely`]).
    prepared: Vec<(FixPlan, Vec<Edit>)>,
    /// A cross-file rule is likely to file a judgement here: the text is kept, not read again.
    likely_judged: bool,
    /// SOPS-encrypted or a template: no rule ran and no fix applies.
    skipped: Option<Note>,
    /// Parsed without a syntax error.
    valid: bool,
    schema: Coverage,
}

/// What the first pass leaves: the targets still to check and their index entries, and the
/// settled files (nothing in them to check) with their documents.
#[derive(Default)]
struct FirstPass {
    work: Vec<Working>,
    entries: Vec<IndexedFile>,
    settled: Vec<IndexedFile>,
    quiet_documents: usize,
}

impl FirstPass {
    /// This pass, then `later`'s (rayon's reduce keeps the targets' order).
    fn append(mut self, mut later: FirstPass) -> FirstPass {
        self.work.append(&mut later.work);
        self.entries.append(&mut later.entries);
        self.settled.append(&mut later.settled);
        self.quiet_documents += later.quiet_documents;
        self
    }
}

impl Scan {
    /// Whether nothing of the file is likely to need its text again: no finding, no check
    /// left for the index, no suppression, nothing skipped, and no fix prepared for a
    /// judgement that is likely to land on it (which would read the file again).
    fn is_silent(&self) -> bool {
        self.diagnostics.is_empty()
            && self.needs.is_empty()
            && self.directives.is_empty()
            && self.skipped.is_none()
            && !self.likely_judged
    }
}

/// A target after the pass that parses it.
enum Scanned {
    /// It could not be loaded.
    Unreadable,
    /// Nothing in it can matter to a rule: never checked further.
    Quiet { documents: usize },
    /// Parsed and checked by the rules that need only it.
    Checked(Box<Scan>),
}

impl Run<'_> {
    fn run(&self, pending: Vec<Pending>) -> RunReport {
        let files_checked = pending.len();
        let one_round = self.options.fix == FixMode::Off;
        // The first pass reads and parses every target. A file no rule can care about is
        // settled there: its index entry never changes and nothing is reported in it, so only
        // its entry and document count are kept, never a working state or an outcome.
        let first = pending
            .into_par_iter()
            .fold(FirstPass::default, |mut pass, pending| {
                let mut w = Working::new(pending);
                match self.scan_working(&mut w) {
                    (entry, Scanned::Quiet { documents }) => {
                        // Without fixes there is one round, so one index: the entry joins
                        // the others at once (no second list to merge and grow).
                        if one_round {
                            pass.entries.extend(entry);
                        } else {
                            pass.settled.extend(entry);
                        }
                        pass.quiet_documents += documents;
                    }
                    (entry, scanned) => {
                        w.scanned = scanned;
                        pass.entries.extend(entry);
                        pass.work.push(w);
                    }
                }
                pass
            })
            .reduce(FirstPass::default, FirstPass::append);
        let FirstPass {
            mut work,
            entries,
            mut settled,
            quiet_documents,
        } = first;
        settled.extend(self.others.iter().cloned());
        // Without fixes there is one round: the settled entries go to its index uncopied.
        let first_settled = if one_round {
            std::mem::take(&mut settled)
        } else {
            settled.clone()
        };
        let mut outcomes = self.finish_round(&mut work, entries, first_settled);
        if self.options.fix != FixMode::Off {
            outcomes = self.fix_rounds(&mut work, &settled, outcomes);
        }
        // Only files with something to say get a report (and keep their text); the others
        // are counted.
        let finished: Vec<(usize, Coverage, Option<FileReport>)> = work
            .into_par_iter()
            .zip(outcomes.into_par_iter())
            .map(|(w, outcome)| {
                let (documents, schema) = (outcome.documents, outcome.schema);
                let silent = outcome.diagnostics.is_empty()
                    && outcome.suppressed.is_empty()
                    && outcome.notes.is_empty()
                    && w.fixes.is_none();
                let report = (!silent).then(|| self.finish(w, outcome));
                (documents, schema, report)
            })
            .collect();
        let documents = quiet_documents + finished.iter().map(|(d, _, _)| d).sum::<usize>();
        let schema = self
            .settings
            .crds
            .as_ref()
            .map(|_| finished.iter().map(|(_, s, _)| *s).sum());
        let mut files: Vec<FileReport> = finished
            .into_iter()
            .filter_map(|(_, _, report)| report)
            .filter(|f| {
                !f.diagnostics.is_empty()
                    || !f.suppressed.is_empty()
                    || f.fixed > 0
                    || !f.notes.is_empty()
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
            notes: self
                .notes
                .lock()
                .map(|mut n| std::mem::take(&mut *n))
                .unwrap_or_default(),
        }
    }

    /// Apply fixes in rounds, checking again after each, until nothing changes; the last
    /// round's outcomes.
    fn fix_rounds(
        &self,
        work: &mut [Working],
        settled: &[IndexedFile],
        mut outcomes: Vec<Outcome>,
    ) -> Vec<Outcome> {
        let mut changed = Vec::new();
        for _ in 0..MAX_FIX_ROUNDS {
            changed = work
                .par_iter_mut()
                .zip(outcomes.par_iter())
                .map(|(w, outcome)| self.fix_round(w, outcome))
                .collect();
            if !changed.contains(&true) {
                return outcomes;
            }
            outcomes = self.check_round(work, settled);
        }
        for (w, _) in work.iter_mut().zip(&changed).filter(|(_, c)| **c) {
            w.fixes().note = Some(Note::new(
                NoteKind::Fix,
                format!(
                    "fixes did not converge after {MAX_FIX_ROUNDS} rounds; the last result is kept (please report this)"
                ),
            ));
        }
        outcomes
    }

    /// Check every target's current text: parse each once (its facts and the findings that
    /// need only it), index them with the settled files, then finish each with what the index
    /// says.
    fn check_round(&self, work: &mut [Working], settled: &[IndexedFile]) -> Vec<Outcome> {
        let entries: Vec<IndexedFile> = work
            .par_iter_mut()
            .filter_map(|w| {
                let (entry, scanned) = self.scan_working(w);
                w.scanned = scanned;
                entry
            })
            .collect();
        self.finish_round(work, entries, settled.to_vec())
    }

    /// Index the targets' entries with the settled files, and finish every target's check.
    fn finish_round(
        &self,
        work: &mut [Working],
        mut entries: Vec<IndexedFile>,
        settled: Vec<IndexedFile>,
    ) -> Vec<Outcome> {
        entries.extend(settled);
        let mut index = Index::build(entries, self.settings);
        rules::judge(&mut index, self.settings);
        if let Ok(mut notes) = self.notes.lock() {
            *notes = index.run_notes().to_vec();
        }
        work.par_iter_mut()
            .map(|w| {
                let scanned = std::mem::replace(&mut w.scanned, Scanned::Unreadable);
                self.outcome(w, scanned, &index)
            })
            .collect()
    }

    /// The pass that parses one target (reading it the first time): its entry in the index,
    /// and what its check needs next.
    fn scan_working(&self, w: &mut Working) -> (Option<IndexedFile>, Scanned) {
        let quiet = |documents| {
            (
                Some(IndexedFile::new(
                    &w.target,
                    FileFacts::default(),
                    LineIndex::empty,
                )),
                Scanned::Quiet { documents },
            )
        };
        let fs_path = &w.target.fs_path;
        let (source, relevance) = match std::mem::replace(&mut w.text, Text::Unread) {
            Text::Unread => {
                // Each thread reads into one buffer, and only a text that is checked is copied
                // out of it: most files are read, found to hold nothing to check, and dropped.
                thread_local! {
                    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
                }
                let read = BUFFER.with_borrow_mut(|buffer| {
                    let regular =
                        discover::read_into(fs_path, self.settings.max_file_size, buffer)?;
                    let text = discover::text_of(buffer)?;
                    let relevance = Relevance::of(fs_path, text);
                    let kept = if self.is_quiet(&relevance, text, fs_path) {
                        Err(relevance::count_documents(text))
                    } else {
                        Ok(text.to_string())
                    };
                    // A large file's buffer is not kept for the rest of the run.
                    if buffer.capacity() > BUFFER_KEPT {
                        *buffer = Vec::new();
                    }
                    Ok((regular, kept, relevance))
                });
                match read {
                    Err(error) => {
                        w.text = Text::Failed(error);
                        return (None, Scanned::Unreadable);
                    }
                    Ok((regular, Err(documents), _)) => {
                        w.rereadable = regular;
                        w.text = Text::Quiet { documents };
                        return quiet(documents);
                    }
                    Ok((regular, Ok(text), relevance)) => {
                        w.rereadable = regular;
                        let source = SourceFile::new(w.target.display.to_path_buf(), text);
                        (Box::new(source), relevance)
                    }
                }
            }
            Text::Loaded(source) => {
                let relevance = Relevance::of(fs_path, &source.text);
                if self.is_quiet(&relevance, &source.text, fs_path) {
                    let documents = relevance::count_documents(&source.text);
                    // A fixed text is kept: it is to be written.
                    w.text = if w.is_fixed() {
                        Text::Loaded(source)
                    } else {
                        Text::Quiet { documents }
                    };
                    return quiet(documents);
                }
                (source, relevance)
            }
            other @ (Text::Failed(_) | Text::Quiet { .. } | Text::OnDisk { .. }) => {
                w.text = other;
                return match &w.text {
                    Text::Quiet { documents } => quiet(*documents),
                    _ => (None, Scanned::Unreadable),
                };
            }
        };
        let (facts, scan) = self.scan(&source, fs_path, relevance);
        let indexed = IndexedFile::new(&w.target, facts, || source.lines.clone());
        // Without fixes, a file read from disk with nothing to report so far is not held until
        // the index is built: most have nothing to report at all, and the few that a cross-file
        // judgement lands on are read again.
        w.text = if self.options.fix == FixMode::Off && w.rereadable && scan.is_silent() {
            Text::OnDisk {
                len: source.text.len(),
                hash: text_hash(&source.text),
            }
        } else {
            Text::Loaded(source)
        };
        (Some(indexed), Scanned::Checked(Box::new(scan)))
    }

    /// Whether a text holds nothing any rule could check: it gives no finding, note or fact
    /// (its syntax errors are a YAML linter's business, unless `--strict-syntax`). With the
    /// prefilter it is never parsed; without, it is checked anyway, which proves the point.
    fn is_quiet(&self, relevance: &Relevance, text: &str, fs_path: &Path) -> bool {
        if relevance.class != FileClass::Irrelevant || self.options.strict_syntax {
            return false;
        }
        if !self.options.prefilter {
            let source = SourceFile::new(PathBuf::new(), text.to_string());
            let (_, full) = self.scan_parsed(&source, fs_path, &Relevance::all());
            debug_assert!(
                full.needs.is_empty()
                    && full.diagnostics.iter().all(|d| d.rule == Rule::ParseError),
                "an irrelevant file had findings: {:?}",
                full.diagnostics
            );
        }
        true
    }

    /// Parse a text once: its facts for the index, and the findings of the rules that need only
    /// it. A file that holds nothing any rule could check (read under `--strict-syntax`) has no
    /// facts, parsed or not.
    fn scan(&self, source: &SourceFile, fs_path: &Path, relevance: Relevance) -> (FileFacts, Scan) {
        let irrelevant = relevance.class == FileClass::Irrelevant;
        let (facts, scan) =
            self.scan_parsed(source, fs_path, &parse_relevance(self.options, relevance));
        (
            if irrelevant {
                FileFacts::default()
            } else {
                facts
            },
            scan,
        )
    }

    fn scan_parsed(
        &self,
        source: &SourceFile,
        fs_path: &Path,
        relevance: &Relevance,
    ) -> (FileFacts, Scan) {
        // Each thread parses into one arena, reset for every file: the trees' memory is reused
        // rather than allocated and freed, file after file.
        thread_local! {
            static ARENA: std::cell::RefCell<yaml::Arena> = std::cell::RefCell::new(yaml::Arena::new());
        }
        ARENA.with(|cell| match cell.try_borrow_mut() {
            Ok(mut arena) => {
                arena.reset();
                let scanned = self.scan_in(&arena, source, fs_path, relevance);
                // A large file's trees are not kept for the rest of the run.
                if arena.allocated_bytes() > BUFFER_KEPT {
                    *arena = yaml::Arena::new();
                }
                scanned
            }
            // Never taken (a scan does not start another on its thread); a fresh arena is
            // always right.
            Err(_) => self.scan_in(&yaml::Arena::new(), source, fs_path, relevance),
        })
    }

    /// [`Run::scan_parsed`], the trees in `arena`.
    fn scan_in(
        &self,
        arena: &yaml::Arena,
        source: &SourceFile,
        fs_path: &Path,
        relevance: &Relevance,
    ) -> (FileFacts, Scan) {
        let stream = yaml::parse_with(arena, &source.text, relevance);
        let template = Template::of(fs_path, &source.text, &stream);
        // A template is not what gets applied: it tells the index nothing.
        let facts = if template.is_some() {
            FileFacts::default()
        } else {
            FileFacts::of(&stream, fs_path)
        };
        let skipped = if let Some(template) = &template {
            Some(template.note(&source.text))
        } else if sops::is_encrypted(&stream) {
            Some(Note::new(NoteKind::Sops, "SOPS-encrypted file: skipped"))
        } else {
            None
        };
        let mut scan = Scan {
            diagnostics: Vec::new(),
            needs: Vec::new(),
            // Every directive names asoguard, which the prefilter looked for already. In a
            // skipped file no rule runs, so its directives are not judged either.
            directives: if relevance.names_asoguard && skipped.is_none() {
                suppress::Directives::of(source, &stream)
            } else {
                suppress::Directives::default()
            },
            doc_spans: stream.documents.iter().map(|d| d.span).collect(),
            prepared: Vec::new(),
            likely_judged: false,
            valid: stream.error.is_none(),
            skipped,
            schema: Coverage::default(),
        };
        if scan.skipped.is_none() {
            let cx = FileContext {
                source,
                settings: self.settings,
                index: None,
                file: None,
            };
            for (doc, document) in stream.documents.iter().enumerate() {
                if let Some(manifest) = document.root.as_ref().and_then(Manifest::from_root) {
                    let needs = rules::check_document(&cx, doc, &manifest, &mut scan.diagnostics);
                    if needs != DocumentNeeds::default() {
                        scan.needs.push((doc, needs));
                    }
                    match rules::likely(&cx, doc, &manifest) {
                        Some(Likely::Fix(plan)) => {
                            scan.likely_judged = true;
                            if let Some(edits) = plan_edits_on(&plan, &source.text, manifest.root) {
                                scan.prepared.push((plan, edits));
                            }
                        }
                        Some(Likely::Judged) => scan.likely_judged = true,
                        None => {}
                    }
                    if let Some(store) = self.settings.crds.as_deref() {
                        scan.schema += Coverage::of(store, &manifest);
                    }
                }
            }
            if let Some(error) = &stream.error {
                let end = source.text[error.offset..]
                    .chars()
                    .next()
                    .map_or(error.offset, |c| error.offset + c.len_utf8());
                scan.diagnostics.push(Diagnostic::new(
                    Rule::ParseError,
                    Span::new(error.offset, end),
                    format!("invalid YAML: {}", error.message),
                ));
            }
        }
        (facts, scan)
    }

    /// Finish a file's check once the index is built: the per-document checks that need it,
    /// the cross-file judgements filed on it (their fixes turned into edits on the documents'
    /// trees, parsed again one document at a time), then suppressions and severities.
    fn complete(
        &self,
        source: &SourceFile,
        scan: Scan,
        file: Option<FileId>,
        index: &Index,
        fs_path: &Path,
    ) -> Outcome {
        let Scan {
            mut diagnostics,
            needs,
            directives,
            doc_spans,
            prepared,
            skipped,
            valid,
            schema,
            likely_judged: _,
        } = scan;
        let mut notes: Vec<Note> = file.map(|f| index.notes(f).to_vec()).unwrap_or_default();
        let was_skipped = skipped.is_some();
        if let Some(skipped) = skipped {
            notes.push(skipped);
        } else {
            let cx = FileContext {
                source,
                settings: self.settings,
                index: Some(index),
                file,
            };
            let arena = yaml::Arena::new();
            let mut trees = DocumentTrees::new(&arena, &source.text, &doc_spans);
            for (doc, needs) in needs {
                if !needs.indexed_pass(&cx, doc) {
                    continue;
                }
                if let Some(manifest) = trees.root(doc).and_then(Manifest::from_root) {
                    rules::check_indexed_document(&cx, doc, &manifest, needs, &mut diagnostics);
                }
            }
            if let Some(file) = file {
                let known = Known {
                    index,
                    file,
                    prepared: &prepared,
                };
                for judgement in index.judgements(file) {
                    diagnostics.push(realize(judgement, &mut trees, &known));
                }
            }
        }
        let parsed = valid && !was_skipped;
        // A rule turned off, globally or for this path, leaves its suppressions "used".
        let enabled = |rule: Rule| {
            self.settings.severity(rule).is_some() && !self.settings.ignored_in(fs_path, rule)
        };
        let (live, suppressed) = suppress::apply(
            source,
            directives,
            leveled(self.settings, fs_path, diagnostics),
            enabled,
        );
        let mut diagnostics = leveled(self.settings, fs_path, live);
        diagnostics.sort_by_key(|d| (d.span.start, d.rule));
        Outcome {
            diagnostics,
            suppressed,
            documents: doc_spans.len(),
            parsed,
            notes,
            schema,
        }
    }

    /// Apply one round of fixes to a file; whether its text changed.
    fn fix_round(&self, w: &mut Working, outcome: &Outcome) -> bool {
        if w.fixes.as_ref().is_some_and(|f| f.frozen) || !outcome.parsed {
            return false;
        }
        let Text::Loaded(source) = &w.text else {
            return false;
        };
        let (rules, fixes): (Vec<Rule>, Vec<&Fix>) = outcome
            .diagnostics
            .iter()
            .filter_map(|d| d.fix.as_ref().map(|f| (d.rule, f)))
            .filter(|(_, f)| self.options.applies(f.applicability))
            .unzip();
        let (new_text, taken) = apply_fixes(&source.text, &fixes);
        if taken.is_empty() || new_text == source.text {
            return false;
        }
        if yaml::parse(&yaml::Arena::new(), &new_text).error.is_some() {
            let fixes = w.fixes();
            fixes.frozen = true;
            fixes.note = Some(Note::new(
                NoteKind::Fix,
                "a fix produced invalid YAML and was discarded; the file keeps its last valid text (please report this bug)",
            ));
            return false;
        }
        let applied = taken.iter().map(|&i| (rules[i], fixes[i].title.clone()));
        let done = w.fixes.get_or_insert_default();
        done.fixed += taken.len();
        done.applied.extend(applied);
        let fixed = SourceFile::new(w.target.display.to_path_buf(), new_text);
        if let Text::Loaded(before) = std::mem::replace(&mut w.text, Text::Loaded(Box::new(fixed)))
        {
            done.original.get_or_insert(before.text);
        }
        true
    }

    /// Write a fixed file (when asked) and build its report.
    fn finish(&self, w: Working, outcome: Outcome) -> FileReport {
        let Working {
            target,
            text,
            fixes,
            ..
        } = w;
        let Fixes {
            original,
            mut fixed,
            mut applied,
            note,
            ..
        } = fixes.map(|f| *f).unwrap_or_default();
        let notes: Vec<Note> = note.into_iter().chain(outcome.notes.clone()).collect();
        // A file that could not be read, or holds nothing to check, has no text to report.
        let Text::Loaded(source) = text else {
            return FileReport {
                path: target.display.to_path_buf(),
                source: SourceFile::new(target.display.to_path_buf(), String::new()),
                original: None,
                diagnostics: outcome.diagnostics,
                suppressed: outcome.suppressed,
                fixed: 0,
                applied: Vec::new(),
                documents: outcome.documents,
                notes,
                write_error: None,
                schema: outcome.schema,
            };
        };
        let mut source = *source;
        let mut outcome = outcome;
        let mut write_error = None;
        let original = original.filter(|o| fixed > 0 && *o != source.text);
        if let (Some(before), FixMode::Write) = (&original, self.options.fix) {
            if let Err(e) = discover::write_atomic(&target.fs_path, &source.text) {
                // The file on disk is untouched: report it as it is.
                write_error = Some(format!("cannot write the fixed file: {e}"));
                source = SourceFile::new(target.display.to_path_buf(), before.clone());
                outcome = Outcome {
                    notes: outcome.notes.clone(),
                    ..self.recheck(&source, &target)
                };
                fixed = 0;
                applied.clear();
            }
        }
        FileReport {
            path: target.display.to_path_buf(),
            original: original.filter(|_| fixed > 0),
            source,
            diagnostics: outcome.diagnostics,
            suppressed: outcome.suppressed,
            fixed,
            applied,
            documents: outcome.documents,
            notes,
            write_error,
            schema: outcome.schema,
        }
    }

    /// Check a file on its own (after a failed write), with the other files as last indexed.
    fn recheck(&self, source: &SourceFile, target: &Target) -> Outcome {
        let mut w = Working::new((target.clone(), Some(Ok(source.text.clone()))));
        let (entry, scanned) = self.scan_working(&mut w);
        let mut files = self.others.clone();
        files.extend(entry);
        let mut index = Index::build(files, self.settings);
        rules::judge(&mut index, self.settings);
        self.outcome(&mut w, scanned, &index)
    }

    /// A target's outcome once the index is built.
    fn outcome(&self, w: &mut Working, scanned: Scanned, index: &Index) -> Outcome {
        let scan = match scanned {
            Scanned::Checked(scan) => scan,
            Scanned::Quiet { documents } => return Outcome::quiet(documents),
            Scanned::Unreadable => {
                return match &w.text {
                    Text::Failed(error) => Outcome::unreadable(self.settings, &w.target, error),
                    _ => Outcome::quiet(0),
                };
            }
        };
        let file = index.file_id(&w.target.fs_path);
        if let Text::OnDisk { len, hash } = w.text {
            let has_more =
                file.is_some_and(|f| !index.judgements(f).is_empty() || !index.notes(f).is_empty());
            if !has_more && scan.is_silent() {
                return Outcome {
                    documents: scan.doc_spans.len(),
                    schema: scan.schema,
                    ..Outcome::quiet(0)
                };
            }
            w.text = match discover::read_text(&w.target.fs_path, self.settings.max_file_size) {
                Ok(text) if text.len() == len && text_hash(&text) == hash => Text::Loaded(
                    Box::new(SourceFile::new(w.target.display.to_path_buf(), text)),
                ),
                Ok(_) => Text::Failed(LoadError::Changed),
                Err(error) => Text::Failed(error),
            };
        }
        match &w.text {
            Text::Loaded(source) => self.complete(source, *scan, file, index, &w.target.fs_path),
            Text::Failed(error) => Outcome::unreadable(self.settings, &w.target, error),
            _ => Outcome::quiet(0),
        }
    }
}

/// The trees of single documents of one file, parsed again on demand once the index is built
/// (the first parse's trees are gone). Should a document not parse alone as it did in the file,
/// the whole file is parsed once instead.
struct DocumentTrees<'t> {
    arena: &'t yaml::Arena,
    text: &'t str,
    spans: &'t [Span],
    alone: Vec<(usize, Stream<'t>)>,
    whole: Option<Stream<'t>>,
}

impl<'t> DocumentTrees<'t> {
    fn new(arena: &'t yaml::Arena, text: &'t str, spans: &'t [Span]) -> Self {
        DocumentTrees {
            arena,
            text,
            spans,
            alone: Vec::new(),
            whole: None,
        }
    }

    /// The stream holding document `doc`'s tree, and the document's index in it.
    fn document(&mut self, doc: usize) -> Option<(&Stream<'t>, usize)> {
        if self.whole.is_none() && !self.alone.iter().any(|(d, _)| *d == doc) {
            match yaml::parse_document(self.arena, self.text, self.spans, doc) {
                Some(stream) => self.alone.push((doc, stream)),
                None => self.whole = Some(yaml::parse(self.arena, self.text)),
            }
        }
        match self.alone.iter().find(|(d, _)| *d == doc) {
            Some((_, stream)) => Some((stream, 0)),
            None => self.whole.as_ref().map(|stream| (stream, doc)),
        }
    }

    /// Document `doc`'s root node.
    fn root(&mut self, doc: usize) -> Option<&yaml::Node<'t>> {
        let (stream, at) = self.document(doc)?;
        stream.documents.get(at)?.root.as_ref()
    }

    /// The stream holding the document that covers `span`.
    fn covering(&mut self, span: Span) -> Option<&Stream<'t>> {
        let doc = self
            .spans
            .iter()
            .position(|d| d.start <= span.start && span.end <= d.end)?;
        self.document(doc).map(|(stream, _)| stream)
    }
}

/// The result of checking one text.
#[derive(Clone)]
struct Outcome {
    diagnostics: Vec<Diagnostic>,
    suppressed: Vec<Diagnostic>,
    documents: usize,
    parsed: bool,
    notes: Vec<Note>,
    schema: Coverage,
}

impl Outcome {
    /// A file no rule can care about.
    fn quiet(documents: usize) -> Self {
        Outcome {
            diagnostics: Vec::new(),
            suppressed: Vec::new(),
            documents,
            parsed: true,
            notes: Vec::new(),
            schema: Coverage::default(),
        }
    }

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
            notes: Vec::new(),
            schema: Coverage::default(),
        }
    }
}

/// A cross-file judgement as a finding of file `file`, its fix plan turned into edits on the
/// tree of the document it names (or, for a policy value the file's facts describe, on its
/// span alone).
fn realize(
    judgement: &crate::index::Judgement,
    trees: &mut DocumentTrees,
    known: &Known,
) -> Diagnostic {
    let edits = judgement
        .fix
        .as_ref()
        .and_then(|(_, _, plan)| plan_edits(plan, trees, known));
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

/// What a file's fixes can be realized from without its tree: its facts in the index, and the
/// plans its first pass prepared.
struct Known<'k> {
    index: &'k Index,
    file: FileId,
    prepared: &'k [(FixPlan, Vec<Edit>)],
}

/// A fix plan's edits: prepared by the first pass, from the facts, or on the tree of the
/// document it names, parsed again.
fn plan_edits(plan: &FixPlan, trees: &mut DocumentTrees, known: &Known) -> Option<Vec<Edit>> {
    if let Some((_, edits)) = known.prepared.iter().find(|(p, _)| p == plan) {
        return Some(edits.clone());
    }
    let text = trees.text;
    match plan {
        FixPlan::SetPolicy { doc, policy } => {
            // An object that declares a policy has its value replaced, as on the tree; the
            // facts recorded where it is and how it is quoted.
            if let Some(own) = known.index.own_policy(known.file, *doc) {
                if own.style.is_some() {
                    return Some(vec![edit::replace_scalar_at(
                        text,
                        own.value_span,
                        own.style,
                        policy.as_str(),
                    )]);
                }
            }
            plan_edits_on(plan, text, trees.root(*doc)?)
        }
        FixPlan::RemovePolicy { doc }
        | FixPlan::SetEntryAt { doc, .. }
        | FixPlan::RemoveEntryAt { doc, .. } => plan_edits_on(plan, text, trees.root(*doc)?),
        FixPlan::ReplaceValue { span, value } => {
            // Most replaced values are reconcile-policies the facts recorded, style and all:
            // the same edit as on the tree, without parsing the document again.
            if let Some(style) = known.index.policy_value_style(known.file, *span) {
                return Some(vec![edit::replace_scalar_at(
                    text,
                    *span,
                    Some(style),
                    value,
                )]);
            }
            Some(vec![edit::replace_scalar(
                text,
                trees.covering(*span)?.node_at(*span)?,
                value,
            )])
        }
        FixPlan::RemoveItem { span } => {
            let place = trees.covering(*span)?.item_at(*span)?;
            match (place.sequence.items()?.len(), place.holder) {
                (1, Some((mapping, entry))) => {
                    edit::remove_entry(text, mapping, entry).map(|e| vec![e])
                }
                _ => edit::remove_item(text, place.sequence, place.index).map(|e| vec![e]),
            }
        }
    }
}

/// The edits of a plan that names a document, on that document's root (`None` for the plans
/// that name a span instead).
fn plan_edits_on(plan: &FixPlan, text: &str, root: &yaml::Node) -> Option<Vec<Edit>> {
    match plan {
        FixPlan::SetPolicy { policy, .. } => {
            edit::set_annotation(text, root, RECONCILE_POLICY, policy.as_str()).map(|e| vec![e])
        }
        FixPlan::RemovePolicy { .. } => edit::remove_annotation(text, root, RECONCILE_POLICY),
        FixPlan::SetEntryAt {
            path, key, value, ..
        } => edit::set_entry_at(text, root, path, key, value).map(|e| vec![e]),
        FixPlan::RemoveEntryAt { path, key, .. } => edit::remove_entry_at(text, root, path, key),
        FixPlan::ReplaceValue { .. } | FixPlan::RemoveItem { .. } => None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const GROUP: &str = "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: rg\nspec:\n  location: westeurope\n";

    fn settings_at(root: &Path) -> Settings {
        Settings::resolve(Config::default(), root.to_path_buf(), None).expect("settings")
    }

    fn run_with(settings: &Settings) -> Run<'_> {
        Run {
            settings,
            options: RunOptions::default(),
            others: Vec::new(),
            notes: std::sync::Mutex::default(),
        }
    }

    /// `text` (an object with `metadata` right before `spec`) with its own reconcile-policy.
    fn with_policy(text: &str, value: &str) -> String {
        text.replace(
            "spec:",
            &format!(
                "  annotations:\n    serviceoperator.azure.com/reconcile-policy: {value}\nspec:"
            ),
        )
    }

    /// A file with nothing to report after its parse, and no judgement likely, is let go, and
    /// read again only when a judgement lands on it; if it changed in between, its report is an
    /// E001 saying so, never findings at positions that no longer hold.
    #[test]
    fn a_file_changed_before_its_report_is_an_e001() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A child whose parent, in another file, is protected: ASO010's judgement, which the
        // first pass cannot foresee.
        let child = "apiVersion: network.azure.com/v1api20201101\nkind: PublicIPAddress\nmetadata:\n  name: ip\nspec:\n  owner:\n    name: rg\n";
        let path = dir.path().join("ip.yaml");
        std::fs::write(&path, child).expect("write");
        let parent_path = dir.path().join("rg.yaml");
        let parent = with_policy(GROUP, "detach-on-delete");
        let mut settings = settings_at(dir.path());
        settings.select(&[Rule::UnprotectedChildren, Rule::ParseError]);
        let run = run_with(&settings);
        let target = Target::new(path.clone(), path.clone());
        let check = |text: &str| {
            let mut w = Working::new((target.clone(), None));
            let (entry, scanned) = run.scan_working(&mut w);
            w.scanned = scanned;
            assert!(matches!(w.text, Text::OnDisk { .. }), "the text is let go");
            std::fs::write(&path, text).expect("rewrite");
            let mut work = [w];
            let parent = indexed(
                Target::new(parent_path.clone(), parent_path.clone()),
                &parent,
                RunOptions::default(),
            );
            let outcome = run
                .finish_round(&mut work, entry.into_iter().collect(), vec![parent])
                .remove(0);
            std::fs::write(&path, child).expect("restore");
            outcome
        };
        // Unchanged: read again, and the judgement (ASO010) is reported at its place.
        let same = check(child);
        assert_eq!(same.diagnostics.len(), 1);
        assert_eq!(same.diagnostics[0].rule, Rule::UnprotectedChildren);
        // Changed (even to the same length): one E001 naming the problem.
        let changed = check(&child.replace("ip\n", "xy\n"));
        assert_eq!(changed.diagnostics.len(), 1);
        assert_eq!(changed.diagnostics[0].rule, Rule::ParseError);
        assert!(
            changed.diagnostics[0]
                .message
                .contains("changed while asoguard was checking it"),
            "{}",
            changed.diagnostics[0].message
        );
    }

    /// A file a cross-file judgement is likely to land on keeps its text, so its report does
    /// not read it again: a critical object without a policy (ASO003) or with `manage`, and one
    /// with its own `skip` (ASO001), critical or not. Another is let go.
    #[test]
    fn a_file_a_judgement_is_likely_on_keeps_its_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = settings_at(dir.path());
        let run = run_with(&settings);
        let ip = "apiVersion: network.azure.com/v1api20201101\nkind: PublicIPAddress\nmetadata:\n  name: ip\nspec:\n  location: westeurope\n";
        for (text, kept) in [
            (GROUP.to_string(), true),
            (with_policy(GROUP, "manage"), true),
            (with_policy(GROUP, "skip"), true),
            (with_policy(ip, "skip"), true),
            (with_policy(GROUP, "detach-on-delete"), false),
            (ip.to_string(), false),
        ] {
            let path = dir.path().join("object.yaml");
            std::fs::write(&path, &text).expect("write");
            let mut w = Working::new((Target::new(path.clone(), path), None));
            run.scan_working(&mut w);
            assert_eq!(matches!(w.text, Text::Loaded(_)), kept, "{text}");
        }
    }

    /// The fixes the first pass prepares (ASO003's `detach-on-delete` on a critical object
    /// without its own policy, ASO001's removal of a `skip` from one that is not critical) are
    /// those the document's tree gives once the index is built, whatever the object's layout.
    #[test]
    fn a_prepared_fix_is_the_fix_on_the_tree() {
        let settings = settings_at(Path::new("/repo"));
        let run = run_with(&settings);
        let group = "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\n";
        let set = FixPlan::SetPolicy {
            doc: 0,
            policy: crate::manifest::Policy::DetachOnDelete,
        };
        let ip = "apiVersion: network.azure.com/v1api20201101\nkind: PublicIPAddress\n";
        let remove = FixPlan::RemovePolicy { doc: 0 };
        let skip = "serviceoperator.azure.com/reconcile-policy: skip";
        for (head, metadata, expected) in [
            (group, "metadata:\n  name: rg\n".to_string(), &set),
            (
                group,
                "metadata:\n  name: rg\n  annotations:\n    team: a # owner\n".into(),
                &set,
            ),
            (
                group,
                "metadata:\r\n    name: rg\r\n    labels: {a: b}\r\n".into(),
                &set,
            ),
            (
                group,
                "metadata: {name: rg, annotations: {team: a}}\n".into(),
                &set,
            ),
            (
                group,
                "metadata:\n  name: rg\n  annotations: {}\n".into(),
                &set,
            ),
            (
                ip,
                format!("metadata:\n  name: vn\n  annotations:\n    {skip}\n"),
                &remove,
            ),
            (
                ip,
                format!("metadata:\n  name: vn\n  annotations:\n    team: a\n    {skip} # dr\n"),
                &remove,
            ),
            (
                ip,
                format!("metadata:\r\n  annotations:\r\n    # why\r\n    {skip}\r\n  name: vn\r\n"),
                &remove,
            ),
            (
                ip,
                format!("metadata: {{name: vn, annotations: {{{skip}, team: a}}}}\n"),
                &remove,
            ),
        ] {
            let text = format!(
                "---\n{head}{metadata}spec:\n  location: westeurope\n---\nkind: ConfigMap\n"
            );
            let source = SourceFile::new(PathBuf::from("rg.yaml"), text.clone());
            let (_, scan) = run.scan_parsed(&source, Path::new("/repo/rg.yaml"), &Relevance::all());
            let [(plan, prepared)] = scan.prepared.as_slice() else {
                panic!("one prepared fix for {metadata:?}: {:?}", scan.prepared);
            };
            assert_eq!(plan, expected, "{metadata:?}");
            let index = Index::default();
            let known = Known {
                index: &index,
                file: 0,
                prepared: &[],
            };
            let arena = yaml::Arena::new();
            let mut trees = DocumentTrees::new(&arena, &text, &scan.doc_spans);
            let on_tree = plan_edits(plan, &mut trees, &known).expect("edits");
            assert_eq!(*prepared, on_tree, "{metadata:?}");
        }
    }

    /// A policy value the facts recorded is replaced from its span and style alone: the same
    /// edit as on the document's tree, in every quoting style and when it is null, whether
    /// the plan replaces the value or sets the object's policy.
    #[test]
    fn a_recorded_policy_value_is_replaced_as_on_the_tree() {
        let settings = settings_at(Path::new("/repo"));
        for value in [
            "skip",
            "'skip'",
            "\"skip\"",
            "|-\n      skip",
            ">\n      skip",
            "\"ski\\u0070\"",
            "manage",
            "~",
            "",
        ] {
            let text = format!(
                "{}  annotations:\n    serviceoperator.azure.com/reconcile-policy: {value}\nspec:\n  location: westeurope\n",
                GROUP.split("spec:").next().expect("head")
            );
            let fs_path = Path::new("/repo/rg.yaml");
            let arena = yaml::Arena::new();
            let stream = yaml::parse(&arena, &text);
            let facts = FileFacts::of(&stream, fs_path);
            let fact = facts.objects[0].policy.clone().expect("a policy fact");
            let index = Index::build(
                vec![IndexedFile {
                    display: Path::new("rg.yaml").into(),
                    fs_path: fs_path.into(),
                    facts: facts.shared(),
                    lines: LineIndex::new(&text),
                }],
                &settings,
            );
            let file = index.file_id(fs_path).expect("indexed");
            assert!(index.policy_value_style(file, fact.value_span).is_some());
            let plan = FixPlan::ReplaceValue {
                span: fact.value_span,
                value: "detach-on-delete".into(),
            };
            let spans: Vec<Span> = stream.documents.iter().map(|d| d.span).collect();
            let mut trees = DocumentTrees::new(&arena, &text, &spans);
            let known = Known {
                index: &index,
                file,
                prepared: &[],
            };
            let from_facts = plan_edits(&plan, &mut trees, &known);
            let node = stream.documents[0]
                .root
                .as_ref()
                .and_then(|r| r.get_path(&["metadata", "annotations", RECONCILE_POLICY]))
                .expect("the value");
            let on_tree = edit::replace_scalar(&text, node, "detach-on-delete");
            assert_eq!(from_facts, Some(vec![on_tree]), "{value}");
            // Setting the object's policy replaces its recorded value the same way.
            let set = FixPlan::SetPolicy {
                doc: 0,
                policy: crate::manifest::Policy::DetachOnDelete,
            };
            let root = stream.documents[0].root.as_ref().expect("root");
            assert_eq!(
                plan_edits(&set, &mut trees, &known),
                plan_edits_on(&set, &text, root),
                "{value}"
            );
        }
    }
}
