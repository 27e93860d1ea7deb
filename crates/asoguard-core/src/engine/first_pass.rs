//! The first pass: every target read and parsed once, before the index is built. A file gives
//! its facts for the index, the findings of the rules that need only it (and E001), its
//! suppressions, which of its documents have checks left for the index, and the fixes of the
//! judgements a cross-file rule is likely to file on it, realized while its tree is at hand.
//! The tree is dropped when the pass ends (see [`super::reparse`]).

use std::path::Path;

use super::edits::plan_edits_on;
use super::load::Load;
use super::per_thread;
use super::settled::settled_entry;
use super::summarise::facts_for_index;
use super::{Run, RunOptions, Working};
use crate::diagnostic::Diagnostic;
use crate::fix::Edit;
use crate::index::{FixPlan, IndexedFile, facts::FileFacts};
use crate::manifest::Manifest;
use crate::note::{Note, NoteKind};
use crate::registry::Rule;
use crate::relevance::{FileClass, Relevance};
use crate::rules::{self, DocumentNeeds, FileContext, Likely};
use crate::schema::Coverage;
use crate::sops;
use crate::span::{SourceFile, Span};
use crate::suppress;
use crate::yaml;

/// What of a text is parsed: with the prefilter, only its relevant documents are built into
/// trees; without it, everything.
pub(super) fn parse_relevance(options: RunOptions, relevance: Relevance) -> Relevance {
    if options.prefilter {
        relevance
    } else {
        Relevance::all()
    }
}

/// What one parse of a file tells before the index is built: the findings of the rules that
/// need only the file, and what finishing its check needs. A document is parsed again, on its
/// own, only when a check or a fix needs its tree once the index is built; most files are
/// parsed once.
pub(super) struct FirstPass {
    /// Findings of the per-document rules, and E001.
    pub(super) diagnostics: Vec<Diagnostic>,
    /// Documents with checks left for the index (see [`rules::check_document`]).
    pub(super) needs: Vec<(usize, DocumentNeeds)>,
    pub(super) directives: suppress::Directives,
    /// Every document's span, to parse one again on its own.
    pub(super) doc_spans: Vec<Span>,
    /// Fix plans a cross-file rule is likely to file here, realized while the tree was at
    /// hand (see [`rules::likely`]).
    pub(super) prepared: Vec<(FixPlan, Vec<Edit>)>,
    /// A cross-file rule is likely to file a judgement here: the text is kept, not read again.
    pub(super) likely_judged: bool,
    /// SOPS-encrypted or a template: no rule ran and no fix applies.
    pub(super) skipped: Option<Note>,
    /// Parsed without a syntax error.
    pub(super) valid: bool,
    pub(super) schema: Coverage,
}

impl FirstPass {
    /// Whether the rest of the file's check may need its text: a finding, a check left for
    /// the index, a suppression, a skip note, or a judgement likely to land on it (with a fix
    /// prepared, or one that would read the file again).
    pub(super) fn may_need_text(&self) -> bool {
        !self.diagnostics.is_empty()
            || !self.needs.is_empty()
            || !self.directives.is_empty()
            || self.skipped.is_some()
            || self.likely_judged
    }
}

/// Where a target stands after its first pass, until its second.
pub(super) enum Stage {
    /// It could not be loaded.
    Unreadable,
    /// Nothing in it can matter to a rule (see [`super::settled`]): never checked further.
    Settled { documents: usize },
    /// Parsed and checked by the rules that need only it.
    Parsed(Box<FirstPass>),
}

impl Run<'_> {
    /// One target's first pass (reading it the first time): its entry in the index, and where
    /// it stands for its second pass.
    pub(super) fn first_pass(&self, w: &mut Working) -> (Option<IndexedFile>, Stage) {
        let (source, relevance) = match self.load(w) {
            Load::Unreadable => return (None, Stage::Unreadable),
            Load::Settled { documents } => {
                return (Some(settled_entry(&w.target)), Stage::Settled { documents });
            }
            Load::Text(source, relevance) => (source, relevance),
        };
        let (facts, first) = self.first_pass_text(&source, &w.target.fs_path, relevance);
        let indexed = IndexedFile::new(&w.target, facts, || source.lines.clone());
        self.keep_or_let_go(w, source, &first);
        (Some(indexed), Stage::Parsed(Box::new(first)))
    }

    /// Parse a text once: its facts for the index, and the findings of the rules that need only
    /// it. A file that holds nothing any rule could check (read under `--strict-syntax`) has no
    /// facts, parsed or not.
    pub(super) fn first_pass_text(
        &self,
        source: &SourceFile,
        fs_path: &Path,
        relevance: Relevance,
    ) -> (FileFacts, FirstPass) {
        let irrelevant = relevance.class == FileClass::Irrelevant;
        let (facts, first) =
            self.parse_and_check(source, fs_path, &parse_relevance(self.options, relevance));
        (
            if irrelevant {
                FileFacts::default()
            } else {
                facts
            },
            first,
        )
    }

    /// [`Run::parse_and_check_in`], in this thread's arena (see [`super::per_thread`]).
    pub(super) fn parse_and_check(
        &self,
        source: &SourceFile,
        fs_path: &Path,
        relevance: &Relevance,
    ) -> (FileFacts, FirstPass) {
        per_thread::with_arena(|arena| self.parse_and_check_in(arena, source, fs_path, relevance))
    }

    /// [`Run::parse_and_check`], the trees in `arena`.
    pub(super) fn parse_and_check_in(
        &self,
        arena: &yaml::Arena,
        source: &SourceFile,
        fs_path: &Path,
        relevance: &Relevance,
    ) -> (FileFacts, FirstPass) {
        let stream = yaml::parse_with(arena, &source.text, relevance);
        let (facts, template) = facts_for_index(&stream, &source.text, fs_path);
        let skipped = if let Some(template) = &template {
            Some(template.note(&source.text))
        } else if sops::is_encrypted(&stream) {
            Some(Note::new(NoteKind::Sops, "SOPS-encrypted file: skipped"))
        } else {
            None
        };
        let mut first = FirstPass {
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
        if first.skipped.is_none() {
            let cx = FileContext {
                source,
                settings: self.settings,
                index: None,
                file: None,
            };
            for (doc, document) in stream.documents.iter().enumerate() {
                if let Some(manifest) = document.root.as_ref().and_then(Manifest::from_root) {
                    let needs = rules::check_document(&cx, doc, &manifest, &mut first.diagnostics);
                    if needs != DocumentNeeds::default() {
                        first.needs.push((doc, needs));
                    }
                    match rules::likely(&cx, doc, &manifest) {
                        Some(Likely::Fix(plan)) => {
                            first.likely_judged = true;
                            if let Some(edits) = plan_edits_on(&plan, &source.text, manifest.root) {
                                first.prepared.push((plan, edits));
                            }
                        }
                        Some(Likely::Judged) => first.likely_judged = true,
                        None => {}
                    }
                    if let Some(store) = self.settings.crds.as_deref() {
                        first.schema += Coverage::of(store, &manifest);
                    }
                }
            }
            if let Some(error) = &stream.error {
                let end = source.text[error.offset..]
                    .chars()
                    .next()
                    .map_or(error.offset, |c| error.offset + c.len_utf8());
                first.diagnostics.push(Diagnostic::new(
                    Rule::ParseError,
                    Span::new(error.offset, end),
                    format!("invalid YAML: {}", error.message),
                ));
            }
        }
        (facts, first)
    }
}
