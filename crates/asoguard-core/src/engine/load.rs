//! Reading a target's text, and holding it only while something may need it.
//!
//! A target is read when the first pass reaches it (into the thread's buffer, see
//! [`super::per_thread`]), and only a text that is checked is copied out of it. Without fixes
//! there is one round, and a text that was read from a regular file and whose first pass
//! found nothing that may need it again ([`super::first_pass::FirstPass::may_need_text`]) is
//! let go: the run keeps its length and hash ([`Text::OnDisk`]).
//!
//! Invariant: a text let go is read again only when its second pass needs it (a judgement or
//! a note landed on its file), and is used only if it is the text that was checked (same
//! length, same hash); otherwise the file's report is one E001 saying it changed, never
//! findings at positions that no longer hold. With fixes, every checked text is held, since a
//! fix changes it.

use super::first_pass::FirstPass;
use super::{FixMode, Run, Working, per_thread};
use crate::discover::{self, LoadError};
use crate::index::{FileId, Index};
use crate::relevance::{self, Relevance};
use crate::span::SourceFile;

/// What a run holds of a target's text.
pub(super) enum Text {
    /// Not read yet: the first pass reads it.
    Unread,
    /// It could not be loaded.
    Failed(LoadError),
    /// Nothing in it can matter to a rule: its text is not kept (it never changes, and nothing
    /// is reported in it), only how many documents it holds.
    Settled { documents: usize },
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
/// change between two reads of one run is no adversary's, and every text let go is hashed.
pub(super) fn text_hash(text: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(text)
}

/// A target's text as the first pass is to parse it.
pub(super) enum Load {
    /// It could not be loaded.
    Unreadable,
    /// Nothing in it can matter to a rule (see [`super::settled`]).
    Settled { documents: usize },
    /// The text to parse, with what of it is relevant.
    Text(Box<SourceFile>, Relevance),
}

impl Run<'_> {
    /// A target's text for its first pass, read the first time; the run keeps what it needs of
    /// it in the meantime.
    pub(super) fn load(&self, w: &mut Working) -> Load {
        let fs_path = &w.target.fs_path;
        match std::mem::replace(&mut w.text, Text::Unread) {
            Text::Unread => {
                // Only a text that is checked is copied out of the buffer: most files are
                // read, found to hold nothing to check, and dropped.
                let read = per_thread::with_read_buffer(|buffer| {
                    let regular =
                        discover::read_into(fs_path, self.settings.max_file_size, buffer)?;
                    let text = discover::text_of(buffer)?;
                    let relevance = Relevance::of(fs_path, text);
                    let kept = if self.is_settled(&relevance, text, fs_path) {
                        Err(relevance::count_documents(text))
                    } else {
                        Ok(text.to_string())
                    };
                    Ok((regular, kept, relevance))
                });
                match read {
                    Err(error) => {
                        w.text = Text::Failed(error);
                        Load::Unreadable
                    }
                    Ok((regular, Err(documents), _)) => {
                        w.rereadable = regular;
                        w.text = Text::Settled { documents };
                        Load::Settled { documents }
                    }
                    Ok((regular, Ok(text), relevance)) => {
                        w.rereadable = regular;
                        let source = SourceFile::new(w.target.display.to_path_buf(), text);
                        Load::Text(Box::new(source), relevance)
                    }
                }
            }
            Text::Loaded(source) => {
                let relevance = Relevance::of(fs_path, &source.text);
                if self.is_settled(&relevance, &source.text, fs_path) {
                    let documents = relevance::count_documents(&source.text);
                    // A fixed text is kept: it is to be written.
                    w.text = if w.is_fixed() {
                        Text::Loaded(source)
                    } else {
                        Text::Settled { documents }
                    };
                    return Load::Settled { documents };
                }
                Load::Text(source, relevance)
            }
            other @ (Text::Failed(_) | Text::Settled { .. } | Text::OnDisk { .. }) => {
                w.text = other;
                match &w.text {
                    Text::Settled { documents } => Load::Settled {
                        documents: *documents,
                    },
                    _ => Load::Unreadable,
                }
            }
        }
    }

    /// Keep a text its first pass has parsed, or let it go: without fixes, a file read from
    /// disk with nothing to report so far is not held until the index is built (most have
    /// nothing to report at all, and the few that a cross-file judgement lands on are read
    /// again).
    pub(super) fn keep_or_let_go(
        &self,
        w: &mut Working,
        source: Box<SourceFile>,
        first: &FirstPass,
    ) {
        w.text = if self.options.fix == FixMode::Off && w.rereadable && !first.may_need_text() {
            Text::OnDisk {
                len: source.text.len(),
                hash: text_hash(&source.text),
            }
        } else {
            Text::Loaded(source)
        };
    }

    /// Whether a target's second pass needs its text. A text let go is read again then (or
    /// becomes the load error, [`LoadError::Changed`] if the file changed since its first
    /// pass); `false` when nothing landed on a file with nothing to report, whose text is not
    /// read again.
    pub(super) fn read_again_if_needed(
        &self,
        w: &mut Working,
        first: &FirstPass,
        file: Option<FileId>,
        index: &Index,
    ) -> bool {
        if let Text::OnDisk { len, hash } = w.text {
            let has_more =
                file.is_some_and(|f| !index.judgements(f).is_empty() || !index.notes(f).is_empty());
            if !has_more && !first.may_need_text() {
                return false;
            }
            w.text = match discover::read_text(&w.target.fs_path, self.settings.max_file_size) {
                Ok(text) if text.len() == len && text_hash(&text) == hash => Text::Loaded(
                    Box::new(SourceFile::new(w.target.display.to_path_buf(), text)),
                ),
                Ok(_) => Text::Failed(LoadError::Changed),
                Err(error) => Text::Failed(error),
            };
        }
        true
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::discover::Target;
    use crate::engine::RunOptions;
    use crate::engine::summarise::summarise;
    use crate::engine::testing::{GROUP, run_with, settings_at, with_policy};
    use crate::registry::Rule;

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
            let (entry, stage) = run.first_pass(&mut w);
            w.stage = stage;
            assert!(matches!(w.text, Text::OnDisk { .. }), "the text is let go");
            std::fs::write(&path, text).expect("rewrite");
            let mut work = [w];
            let parent = summarise(
                Target::new(parent_path.clone(), parent_path.clone()),
                &parent,
                RunOptions::default(),
            );
            let outcome = run
                .index_and_second_pass(&mut work, entry.into_iter().collect(), vec![parent])
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
            run.first_pass(&mut w);
            assert_eq!(matches!(w.text, Text::Loaded(_)), kept, "{text}");
        }
    }
}
