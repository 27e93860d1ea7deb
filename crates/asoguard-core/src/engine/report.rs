//! The run's report: fixed files written (when asked), and a report for each file with
//! something to say; the others are only counted.

use rayon::prelude::*;

use super::load::Text;
use super::rounds::Fixes;
use super::second_pass::Outcome;
use super::{FileReport, FixMode, Run, RunReport, Working};
use crate::discover::{self, Target};
use crate::index::Index;
use crate::note::Note;
use crate::rules;
use crate::schema::Coverage;
use crate::span::SourceFile;

impl Run<'_> {
    /// Every target's report, from its last outcome; `settled_documents`: the settled files'.
    pub(super) fn report(
        &self,
        work: Vec<Working>,
        outcomes: Vec<Outcome>,
        files_checked: usize,
        settled_documents: usize,
    ) -> RunReport {
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
                let report = (!silent).then(|| self.file_report(w, outcome));
                (documents, schema, report)
            })
            .collect();
        let documents = settled_documents + finished.iter().map(|(d, _, _)| d).sum::<usize>();
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

    /// Write a fixed file (when asked) and build its report.
    pub(super) fn file_report(&self, w: Working, outcome: Outcome) -> FileReport {
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
                    ..self.check_alone(&source, &target)
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
    pub(super) fn check_alone(&self, source: &SourceFile, target: &Target) -> Outcome {
        let mut w = Working::new((target.clone(), Some(Ok(source.text.clone()))));
        let (entry, stage) = self.first_pass(&mut w);
        let mut files = self.others.clone();
        files.extend(entry);
        let mut index = Index::build(files, self.settings);
        rules::judge(&mut index, self.settings);
        self.second_pass(&mut w, stage, &index)
    }
}
