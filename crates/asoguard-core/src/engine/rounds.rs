//! Fix rounds: each applies, per file, the applicable fixes that do not overlap, then checks
//! every target again (both passes, a new index: a fix in one file changes what others mean),
//! until nothing changes or [`MAX_FIX_ROUNDS`] is reached.

use rayon::prelude::*;

use super::load::Text;
use super::second_pass::Outcome;
use super::{MAX_FIX_ROUNDS, Run, Working};
use crate::fix::{Fix, apply_fixes};
use crate::index::IndexedFile;
use crate::note::{Note, NoteKind};
use crate::registry::Rule;
use crate::span::SourceFile;
use crate::yaml;

/// What fixes did to a target.
#[derive(Default)]
pub(super) struct Fixes {
    /// The text as loaded, once a fix changed it.
    pub(super) original: Option<String>,
    pub(super) fixed: usize,
    pub(super) applied: Vec<(Rule, String)>,
    pub(super) note: Option<Note>,
    /// No more fixes: a fix broke it.
    pub(super) frozen: bool,
}

impl Working {
    /// What fixes did to it, recorded from now on.
    pub(super) fn fixes(&mut self) -> &mut Fixes {
        self.fixes.get_or_insert_default()
    }

    /// Whether a fix changed its text.
    pub(super) fn is_fixed(&self) -> bool {
        self.fixes.as_ref().is_some_and(|f| f.original.is_some())
    }
}

impl Run<'_> {
    /// Apply fixes in rounds, checking again after each, until nothing changes; the last
    /// round's outcomes.
    pub(super) fn fix_rounds(
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
                .map(|(w, outcome)| self.fix_target(w, outcome))
                .collect();
            if !changed.contains(&true) {
                return outcomes;
            }
            outcomes = self.check_again(work, settled);
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

    /// Check every target's current text again: parse each once (its facts and the findings
    /// that need only it), index them with the settled files, then finish each with what the
    /// index says.
    pub(super) fn check_again(
        &self,
        work: &mut [Working],
        settled: &[IndexedFile],
    ) -> Vec<Outcome> {
        let entries: Vec<IndexedFile> = work
            .par_iter_mut()
            .filter_map(|w| {
                let (entry, stage) = self.first_pass(w);
                w.stage = stage;
                entry
            })
            .collect();
        self.index_and_second_pass(work, entries, settled.to_vec())
    }

    /// Apply one round of fixes to a target; whether its text changed.
    pub(super) fn fix_target(&self, w: &mut Working, outcome: &Outcome) -> bool {
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
}
