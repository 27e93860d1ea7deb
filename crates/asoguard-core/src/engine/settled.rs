//! Settled files: a file whose text holds nothing any rule could check (see
//! [`crate::relevance`]) gives no finding, note or fact, and is never parsed (with the
//! prefilter; `--strict-syntax` parses it for E001).
//!
//! Invariant: a file is settled by its first pass, and from then on its index entry never
//! changes and nothing is reported in it, so the run keeps only its entry and its document
//! count: no text (unless a fix changed it, to be written), no working state, no outcome.
//! Without fixes there is one round, so one index: settled entries join the round's entries at
//! once and go to its index uncopied; with fixes they are kept aside and copied into each
//! round's index.

use std::path::{Path, PathBuf};

use super::first_pass::Stage;
use super::{Run, Working};
use crate::discover::Target;
use crate::index::{IndexedFile, facts::FileFacts};
use crate::registry::Rule;
use crate::relevance::{FileClass, Relevance};
use crate::span::{LineIndex, SourceFile};

/// What the first pass leaves: the targets still to check and their index entries, and the
/// settled files (nothing in them to check) with their documents.
#[derive(Default)]
pub(super) struct FirstPasses {
    pub(super) work: Vec<Working>,
    pub(super) entries: Vec<IndexedFile>,
    pub(super) settled: Vec<IndexedFile>,
    pub(super) settled_documents: usize,
}

impl FirstPasses {
    /// This pass, then `later`'s (rayon's reduce keeps the targets' order).
    pub(super) fn append(mut self, mut later: FirstPasses) -> FirstPasses {
        self.work.append(&mut later.work);
        self.entries.append(&mut later.entries);
        self.settled.append(&mut later.settled);
        self.settled_documents += later.settled_documents;
        self
    }

    /// Add a target after its first pass: a settled one leaves only its entry and documents.
    pub(super) fn add(
        mut self,
        mut w: Working,
        passed: (Option<IndexedFile>, Stage),
        one_round: bool,
    ) -> FirstPasses {
        match passed {
            (entry, Stage::Settled { documents }) => {
                // Without fixes there is one round, so one index: the entry joins the others
                // at once (no second list to merge and grow).
                if one_round {
                    self.entries.extend(entry);
                } else {
                    self.settled.extend(entry);
                }
                self.settled_documents += documents;
            }
            (entry, stage) => {
                w.stage = stage;
                self.entries.extend(entry);
                self.work.push(w);
            }
        }
        self
    }

    /// The settled entries, with `others` (the files only indexed): those for the first
    /// round's index, and those kept for the fix rounds. With one round, all go to the first
    /// index uncopied and none is kept.
    pub(super) fn take_settled(
        &mut self,
        others: &[IndexedFile],
        one_round: bool,
    ) -> (Vec<IndexedFile>, Vec<IndexedFile>) {
        let mut settled = std::mem::take(&mut self.settled);
        settled.extend(others.iter().cloned());
        if one_round {
            (settled, Vec::new())
        } else {
            (settled.clone(), settled)
        }
    }
}

/// The index entry of a settled file: no facts, no lines.
pub(super) fn settled_entry(target: &Target) -> IndexedFile {
    IndexedFile::new(target, FileFacts::default(), LineIndex::empty)
}

impl Run<'_> {
    /// Whether a text holds nothing any rule could check: it gives no finding, note or fact
    /// (its syntax errors are a YAML linter's business, unless `--strict-syntax`). With the
    /// prefilter it is never parsed; without, it is checked anyway, which proves the point.
    pub(super) fn is_settled(&self, relevance: &Relevance, text: &str, fs_path: &Path) -> bool {
        if relevance.class != FileClass::Irrelevant || self.options.strict_syntax {
            return false;
        }
        if !self.options.prefilter {
            let source = SourceFile::new(PathBuf::new(), text.to_string());
            let (_, full) = self.parse_and_check(&source, fs_path, &Relevance::all());
            debug_assert!(
                full.needs.is_empty()
                    && full.diagnostics.iter().all(|d| d.rule == Rule::ParseError),
                "an irrelevant file had findings: {:?}",
                full.diagnostics
            );
        }
        true
    }
}
