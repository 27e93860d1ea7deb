//! Shared machinery of the transforms: loading every input before anything is planned, and
//! rewriting a file's documents one minimal edit at a time until nothing is left to do.

use std::path::Path;

use crate::config::Settings;
use crate::discover::{self, Target};
use crate::fix::{Edit, apply_edits};
use crate::manifest::{Manifest, RECONCILE_POLICY};
use crate::sops;
use crate::template::Template;
use crate::yaml::{self, Node, edit};

use super::TransformError;

/// The most rounds of edits on one file; each round makes one edit per document.
const MAX_ROUNDS: usize = 100;

/// How a loaded file may be treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Plain YAML: parsed, and edited when needed.
    Yaml,
    /// SOPS-encrypted: any edit would break its MAC, so it is never edited.
    Sops,
    /// A Helm or Go template (see [`crate::template`]): never edited.
    Template,
}

/// One input file, read and checked.
#[derive(Clone, Debug)]
pub(crate) struct Loaded {
    /// Where it is.
    pub target: Target,
    /// Its text, exactly as on disk.
    pub text: String,
    /// Whether it can be edited.
    pub status: Status,
}

/// Read and parse every target. A file that cannot be read as text, or that is not valid
/// YAML (templates aside, which `check` skips too), stops everything, naming the file.
pub(crate) fn load(
    targets: Vec<Target>,
    settings: &Settings,
) -> Result<Vec<Loaded>, TransformError> {
    let mut loaded = Vec::with_capacity(targets.len());
    for target in targets {
        let text = discover::read_text(&target.fs_path, settings.max_file_size)
            .map_err(|e| TransformError::at(&target.display, e.to_string()))?;
        let arena = yaml::Arena::new();
        let stream = yaml::parse(&arena, &text);
        let status = if Template::of(&target.fs_path, &text, &stream).is_some() {
            Status::Template
        } else if let Some(error) = &stream.error {
            let at = crate::span::LineIndex::new(&text).line_col(&text, error.offset);
            return Err(TransformError::at(
                &target.display,
                format!(
                    "invalid YAML at line {}, column {}: {}; nothing was written",
                    at.line, at.column, error.message
                ),
            ));
        } else if sops::is_encrypted(&stream) {
            Status::Sops
        } else {
            Status::Yaml
        };
        loaded.push(Loaded {
            target,
            text,
            status,
        });
    }
    Ok(loaded)
}

/// Whether a file, or any YAML file under a directory, holds an ASO resource.
pub(crate) fn holds_aso(path: &Path, settings: &Settings) -> bool {
    let files = if path.is_dir() {
        discover::yaml_files_under(path, settings)
    } else {
        vec![path.to_path_buf()]
    };
    files.iter().any(|file| {
        discover::read_text(file, settings.max_file_size)
            .ok()
            .filter(|text| text.contains(".azure.com/"))
            .is_some_and(|text| {
                yaml::parse(&yaml::Arena::new(), &text)
                    .documents
                    .iter()
                    .filter_map(|d| d.root.as_ref().and_then(Manifest::from_root))
                    .collect::<Vec<_>>()
                    .iter()
                    .any(Manifest::is_aso)
            })
    })
}

/// What one document needs next.
pub(crate) enum Step {
    /// Apply these edits (one change), and say what they did.
    Edit(Vec<Edit>, Option<String>),
    /// Nothing more to do on this document.
    Done,
    /// The document cannot be edited as needed; the message says why.
    Stuck(String),
}

/// A step's note, with the index of its document.
type Note = (usize, String);

/// Rewrite `text` by asking `next` (document index, current text, document root) for one step
/// per document per round, applying the edits of a round together, re-parsing, and repeating
/// until every document is done. Returns the new text and the notes of every step taken (in
/// document order, each document's in the order taken), or
/// why it could not be done. Documents are never added or removed, so an index names the same
/// document in every round.
pub(crate) fn rewrite(
    text: &str,
    mut next: impl FnMut(usize, &str, &Node) -> Step,
) -> Result<(String, Vec<String>), String> {
    let mut current = text.to_string();
    let mut notes = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let arena = yaml::Arena::new();
        let stream = yaml::parse(&arena, &current);
        if stream.error.is_some() {
            return Err(
                "an edit produced invalid YAML; nothing was written (please report this bug)"
                    .into(),
            );
        }
        let mut batch: Vec<(Vec<Edit>, Option<Note>)> = Vec::new();
        for (index, document) in stream.documents.iter().enumerate() {
            let Some(root) = &document.root else {
                continue;
            };
            match next(index, &current, root) {
                Step::Edit(edits, note) => batch.push((edits, note.map(|n| (index, n)))),
                Step::Done => {}
                Step::Stuck(message) => return Err(message),
            }
        }
        if batch.is_empty() {
            notes.sort_by_key(|(index, _)| *index);
            return Ok((current, notes.into_iter().map(|(_, note)| note).collect()));
        }
        let all: Vec<Edit> = batch.iter().flat_map(|(e, _)| e.iter().cloned()).collect();
        let (new, taken) = match apply_edits(&current, &all) {
            Some(new) => (new, batch.len()),
            // Edits of two documents touch: take the first document's alone this round.
            None => (
                apply_edits(&current, &batch[0].0)
                    .ok_or("edits overlap (please report this bug)")?,
                1,
            ),
        };
        if new == current {
            return Err("an edit changed nothing (please report this bug)".into());
        }
        notes.extend(batch.into_iter().take(taken).filter_map(|(_, note)| note));
        current = new;
    }
    Err(format!(
        "edits did not settle after {MAX_ROUNDS} rounds (please report this bug)"
    ))
}

/// The raw value of an object's own reconcile-policy annotation: `None` when absent or null.
pub(crate) fn policy_raw<'d>(manifest: &Manifest<'d, '_>) -> Option<&'d str> {
    manifest
        .annotation(RECONCILE_POLICY)
        .filter(|e| !e.value.is_null())
        .and_then(|e| e.value.as_str())
}

/// How a policy reads in messages.
pub(crate) fn describe(raw: Option<&str>) -> String {
    match raw {
        None => "unset".into(),
        Some("") => "empty".into(),
        Some(value) => value.to_string(),
    }
}

/// The step that makes the object's own reconcile-policy `want` (`None`: no annotation).
pub(crate) fn policy_step(text: &str, root: &Node, want: Option<&str>) -> Step {
    policy_step_as(text, root, want, None)
}

/// [`policy_step`], the object named `label` in what the step says (its name as applied)
/// rather than by the name it is written with.
pub(crate) fn policy_step_as(
    text: &str,
    root: &Node,
    want: Option<&str>,
    label: Option<&str>,
) -> Step {
    let Some(manifest) = Manifest::from_root(root) else {
        return Step::Done;
    };
    let label = label.map_or_else(|| super::label(&manifest), str::to_string);
    let entry = manifest.annotation(RECONCILE_POLICY);
    let current = policy_raw(&manifest);
    match want {
        Some(value) if current == Some(value) => Step::Done,
        Some(value) => match edit::set_annotation(text, root, RECONCILE_POLICY, value) {
            Some(e) => Step::Edit(
                vec![e],
                Some(format!(
                    "{label}: reconcile-policy {value} (was {})",
                    describe(current)
                )),
            ),
            None => Step::Stuck(format!(
                "{label}: cannot set its reconcile-policy: `metadata` or `metadata.annotations` is not a mapping"
            )),
        },
        None if entry.is_none() => Step::Done,
        None => match edit::remove_annotation(text, root, RECONCILE_POLICY) {
            Some(edits) => Step::Edit(
                edits,
                Some(format!(
                    "{label}: reconcile-policy removed (was {})",
                    describe(current)
                )),
            ),
            None => Step::Stuck(format!(
                "{label}: cannot remove its reconcile-policy annotation"
            )),
        },
    }
}

/// The reconcile-policy a kustomization sets through `commonAnnotations`, with its raw value.
pub(crate) fn common_policy<'d>(root: &'d Node) -> Option<&'d str> {
    root.get("commonAnnotations")?
        .get(RECONCILE_POLICY)
        .filter(|v| !v.is_null())?
        .as_str()
}

/// The step that makes a kustomization's `commonAnnotations` reconcile-policy `want`
/// (`None`: no such annotation; `commonAnnotations` goes too when it was the only one).
pub(crate) fn common_policy_step(text: &str, root: &Node, want: Option<&str>, path: &Path) -> Step {
    let current = common_policy(root);
    let has_entry = root
        .get("commonAnnotations")
        .and_then(|c| c.get(RECONCILE_POLICY))
        .is_some();
    let what = format!("kustomization {}: commonAnnotations", path.display());
    match want {
        Some(value) if current == Some(value) => Step::Done,
        Some(value) => {
            match edit::set_entry_at(text, root, &["commonAnnotations"], RECONCILE_POLICY, value) {
                Some(e) => Step::Edit(
                    vec![e],
                    Some(format!(
                        "{what} reconcile-policy {value} (was {})",
                        describe(current)
                    )),
                ),
                None => Step::Stuck(format!(
                    "{what} is not a mapping: cannot set reconcile-policy"
                )),
            }
        }
        None if !has_entry => Step::Done,
        None => match edit::remove_entry_at(text, root, &["commonAnnotations"], RECONCILE_POLICY) {
            Some(edits) => Step::Edit(
                edits,
                Some(format!(
                    "{what} reconcile-policy removed (was {})",
                    describe(current)
                )),
            ),
            None => Step::Stuck(format!("{what}: cannot remove reconcile-policy")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_every_document_until_done() {
        let text = "a: 1\n---\na: 2\n---\nb: 3\n";
        let (out, notes) = rewrite(text, |_, text, root| match root.get("a") {
            Some(a) if a.as_str() != Some("x") => Step::Edit(
                vec![edit::replace_scalar(text, a, "x")],
                Some("a is x".into()),
            ),
            _ => Step::Done,
        })
        .unwrap();
        assert_eq!(out, "a: x\n---\na: x\n---\nb: 3\n");
        assert_eq!(notes.len(), 2);
    }

    #[test]
    fn reports_stuck_and_unsettled_edits() {
        let error = rewrite("a: 1\n", |_, _, _| Step::Stuck("no".into())).unwrap_err();
        assert_eq!(error, "no");
        let error = rewrite("a: 1\n", |_, _, _| {
            Step::Edit(vec![Edit::insert(0, "# x\n")], None)
        })
        .unwrap_err();
        assert!(error.contains("did not settle"), "{error}");
    }
}
