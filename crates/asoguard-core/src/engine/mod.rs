//! One run: load files in parallel, index what GitOps applies across the repository, check
//! every object, apply fixes in rounds until nothing changes, and write fixed files atomically.
//!
//! The steps of a run, in order, each in a file of its own ([`Run::run`] calls them):
//!
//! - `first_pass`: read and parse every target once: its facts for the index, the findings of
//!   the rules that need only the file, the judgements likely to land on it;
//! - `second_pass`: build the index, have the cross-file rules judge it, and finish every
//!   file's check with what the index says;
//! - `rounds`: with fixes, apply them and run both passes again until nothing changes;
//! - `report`: write fixed files and build the reports.
//!
//! `summarise` gives the index the files only indexed, never checked; `edits` turns the
//! cross-file rules' fix plans into edits. How a run holds as little as it can is decided in
//! one file per tactic, each stating its invariant:
//!
//! - `load`: a target's text is read when the first pass reaches it, and without fixes one
//!   with nothing to report is let go and read again only if its report needs it;
//! - `settled`: a file no rule can care about keeps only its index entry and document count;
//! - `per_thread`: each thread reuses one read buffer and one tree arena from file to file;
//! - `reparse`: the first pass's trees are dropped; a document is parsed again, alone, only
//!   when the second pass needs its tree.

mod edits;
mod first_pass;
mod load;
mod per_thread;
mod reparse;
mod report;
mod rounds;
mod second_pass;
mod settled;
mod summarise;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::Settings;
use crate::diagnostic::Diagnostic;
use crate::discover::{self, LoadError, PathProblem, Target};
use crate::fix::Applicability;
use crate::index::{Index, IndexedFile};
use crate::note::{Note, NoteKind};
use crate::registry::Rule;
use crate::schema::Coverage;
use crate::span::SourceFile;

use first_pass::Stage;
use load::Text;
use rounds::Fixes;
use settled::FirstPasses;
use summarise::{others_under_root, summarise_all};

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
        let named: HashSet<&Path> = targets.iter().map(|t| &*t.fs_path).collect();
        let others = others_under_root(settings, &named);
        targets.extend(others);
    }
    if let Some(store) = settings.crds.as_deref() {
        targets.retain(|t| !store.is_source(&t.fs_path));
    }
    let files = summarise_all(targets, settings, RunOptions::default());
    (Index::build(files, settings), problems)
}

/// Render exactly `targets` (files of the working tree), judging nothing: what `plan` reads of
/// the working tree, the files git would commit. Files that cannot be read are left out.
pub fn index_files(targets: Vec<Target>, settings: &Settings) -> Index {
    Index::build(
        summarise_all(targets, settings, RunOptions::default()),
        settings,
    )
}

/// Render a revision other than the working tree, judging nothing: `texts` are its files read
/// from it (each target's `fs_path` is where the file lies in the working tree, so config globs
/// and kustomization paths mean the same), `known` are files whose facts another revision's
/// index holds already (the same text in both), and `tree` answers what rendering asks of other
/// paths.
pub fn index_revision(
    texts: Vec<(Target, String)>,
    known: Vec<IndexedFile>,
    settings: &Settings,
    tree: std::sync::Arc<dyn crate::files::Tree>,
) -> Index {
    let mut files: Vec<IndexedFile> = texts
        .into_par_iter()
        .map(|(target, text)| summarise::summarise(target, &text, RunOptions::default()))
        .collect();
    files.extend(known);
    Index::build_in(files, settings, Some(tree))
}

/// A target, and its text when it was loaded before the run (otherwise the first pass reads
/// it).
type Pending = (Target, Option<Result<String, LoadError>>);

fn check_work(pending: Vec<Pending>, settings: &Settings, options: RunOptions) -> RunReport {
    let others = if settings.repository {
        // Scoped here: a set of every target is not to be held through the run.
        let named: HashSet<&Path> = pending.iter().map(|(target, _)| &*target.fs_path).collect();
        others_under_root(settings, &named)
    } else {
        Vec::new()
    };
    // Files only indexed never change: summarise them once.
    let others = summarise_all(others, settings, options);
    Run {
        settings,
        options,
        others,
        notes: std::sync::Mutex::default(),
    }
    .run(pending)
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
    /// Where it stands after this round's first pass, until its second.
    stage: Stage,
    /// What fixes did to it. Boxed: a run holds one working state per checked file, and most
    /// are never fixed.
    fixes: Option<Box<Fixes>>,
}

impl Working {
    fn unread(target: Target) -> Self {
        Working {
            target,
            text: Text::Unread,
            rereadable: false,
            stage: Stage::Unreadable,
            fixes: None,
        }
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

impl Run<'_> {
    fn run(&self, pending: Vec<Pending>) -> RunReport {
        let files_checked = pending.len();
        let one_round = self.options.fix == FixMode::Off;
        // The first pass reads and parses every target; a file no rule can care about is
        // settled there.
        let mut passes = pending
            .into_par_iter()
            .fold(FirstPasses::default, |pass, pending| {
                let mut w = Working::new(pending);
                let stage = self.first_pass(&mut w);
                pass.add(w, stage, one_round)
            })
            .reduce(FirstPasses::default, FirstPasses::append);
        let (first_settled, settled) = passes.take_settled(&self.others, one_round);
        let FirstPasses {
            mut work,
            entries,
            settled_documents,
            ..
        } = passes;
        let mut outcomes = self.index_and_second_pass(&mut work, entries, first_settled);
        if self.options.fix != FixMode::Off {
            outcomes = self.fix_rounds(&mut work, &settled, outcomes);
        }
        self.report(work, outcomes, files_checked, settled_documents)
    }
}

#[cfg(test)]
mod testing {
    use std::path::Path;

    use super::{Run, RunOptions};
    use crate::config::{Config, Settings};

    pub(super) const GROUP: &str = "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: rg\nspec:\n  location: westeurope\n";

    pub(super) fn settings_at(root: &Path) -> Settings {
        Settings::resolve(Config::default(), root.to_path_buf(), None).expect("settings")
    }

    pub(super) fn run_with(settings: &Settings) -> Run<'_> {
        Run {
            settings,
            options: RunOptions::default(),
            others: Vec::new(),
            notes: std::sync::Mutex::default(),
        }
    }

    /// `text` (an object with `metadata` right before `spec`) with its own reconcile-policy.
    pub(super) fn with_policy(text: &str, value: &str) -> String {
        text.replace(
            "spec:",
            &format!(
                "  annotations:\n    serviceoperator.azure.com/reconcile-policy: {value}\nspec:"
            ),
        )
    }
}
