//! The second pass: the index built from every file's entry and judged by the cross-file
//! rules, then each target's check finished with what it says: the per-document checks that
//! need the index, the judgements filed on the file (their fix plans turned into edits, see
//! [`super::edits`]), then suppressions and the configured severities.

use std::path::Path;

use rayon::prelude::*;

use super::edits::{Known, realize};
use super::first_pass::{FirstPass, Stage};
use super::load::Text;
use super::reparse::DocumentTrees;
use super::{Run, Working};
use crate::config::Settings;
use crate::diagnostic::Diagnostic;
use crate::discover::{LoadError, Target};
use crate::index::{FileId, Index, IndexedFile};
use crate::manifest::Manifest;
use crate::note::Note;
use crate::registry::Rule;
use crate::rules::{self, FileContext};
use crate::schema::Coverage;
use crate::span::{SourceFile, Span};
use crate::suppress;
use crate::yaml;

impl Run<'_> {
    /// Build the index from the targets' entries and the settled files, have the cross-file
    /// rules judge it, and run every target's second pass.
    pub(super) fn index_and_second_pass(
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
                let stage = std::mem::replace(&mut w.stage, Stage::Unreadable);
                self.second_pass(w, stage, &index)
            })
            .collect()
    }

    /// A loaded text's second pass: the per-document checks that need the index,
    /// the cross-file judgements filed on it (their fixes turned into edits on the documents'
    /// trees, parsed again one document at a time), then suppressions and severities.
    pub(super) fn second_pass_text(
        &self,
        source: &SourceFile,
        first: FirstPass,
        file: Option<FileId>,
        index: &Index,
        fs_path: &Path,
    ) -> Outcome {
        let FirstPass {
            mut diagnostics,
            needs,
            directives,
            doc_spans,
            prepared,
            skipped,
            valid,
            schema,
            likely_judged: _,
        } = first;
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
}

impl Run<'_> {
    /// A target's second pass, once the index is built (reading again a text let go, see
    /// [`super::load`]).
    pub(super) fn second_pass(&self, w: &mut Working, stage: Stage, index: &Index) -> Outcome {
        let first = match stage {
            Stage::Parsed(first) => first,
            Stage::Settled { documents } => return Outcome::clean(documents),
            Stage::Unreadable => {
                return match &w.text {
                    Text::Failed(error) => Outcome::unreadable(self.settings, &w.target, error),
                    _ => Outcome::clean(0),
                };
            }
        };
        let file = index.file_id(&w.target.fs_path);
        if !self.read_again_if_needed(w, &first, file, index) {
            return Outcome {
                documents: first.doc_spans.len(),
                schema: first.schema,
                ..Outcome::clean(0)
            };
        }
        match &w.text {
            Text::Loaded(source) => {
                self.second_pass_text(source, *first, file, index, &w.target.fs_path)
            }
            Text::Failed(error) => Outcome::unreadable(self.settings, &w.target, error),
            _ => Outcome::clean(0),
        }
    }
}

/// The result of checking one text.
#[derive(Clone)]
pub(super) struct Outcome {
    pub(super) diagnostics: Vec<Diagnostic>,
    pub(super) suppressed: Vec<Diagnostic>,
    pub(super) documents: usize,
    pub(super) parsed: bool,
    pub(super) notes: Vec<Note>,
    pub(super) schema: Coverage,
}

impl Outcome {
    /// Nothing to report: a settled file, or one whose text was not needed again.
    pub(super) fn clean(documents: usize) -> Self {
        Outcome {
            diagnostics: Vec::new(),
            suppressed: Vec::new(),
            documents,
            parsed: true,
            notes: Vec::new(),
            schema: Coverage::default(),
        }
    }

    pub(super) fn unreadable(settings: &Settings, target: &Target, error: &LoadError) -> Self {
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

/// Apply configured severities and drop findings of rules turned off, or ignored for this file
/// by `per-file-ignores`. A finding a rule itself lowered (a warning from an error rule) never
/// rises above the configured level.
pub(super) fn leveled(
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
