//! Notes: what a run did not check, or could not render, and why. Not findings: they never fail
//! a run, but reports carry them so that CI users see what was left out.

/// What a note is about. Reports group notes by kind: a repository holds dozens of encrypted
/// files or remote bases, and one line per kind says so without burying the findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoteKind {
    /// A SOPS-encrypted file, skipped.
    Sops,
    /// A Helm or Go template (`{{ }}`), skipped: it is not a manifest until rendered.
    Template,
    /// A remote kustomize resource, which cannot be fetched offline.
    Remote,
    /// Something a kustomization adds that cannot be rendered offline (generators, Helm
    /// charts, transformers).
    Unrendered,
    /// A reference to a path that does not exist, or to a directory without a kustomization.
    Missing,
    /// A file that nothing applies (beside a kustomization that does not list it).
    NotApplied,
    /// A kustomization its applier would refuse to build, so nothing of it is applied.
    BuildFails,
    /// A kustomization that includes itself.
    Cycle,
    /// A configured cluster that matches nothing that is applied.
    Config,
    /// Fixes that did not converge or produced invalid YAML (a bug to report).
    Fix,
}

impl NoteKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [NoteKind; 10] = [
        NoteKind::Config,
        NoteKind::Fix,
        NoteKind::BuildFails,
        NoteKind::NotApplied,
        NoteKind::Missing,
        NoteKind::Cycle,
        NoteKind::Remote,
        NoteKind::Unrendered,
        NoteKind::Sops,
        NoteKind::Template,
    ];

    /// A stable identifier for machine-readable reports, e.g. `sops`, `not-applied`.
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Sops => "sops",
            NoteKind::Template => "template",
            NoteKind::Remote => "remote",
            NoteKind::Unrendered => "unrendered",
            NoteKind::Missing => "missing",
            NoteKind::NotApplied => "not-applied",
            NoteKind::BuildFails => "build-fails",
            NoteKind::Cycle => "cycle",
            NoteKind::Config => "config",
            NoteKind::Fix => "fix",
        }
    }
}

/// One note, about one file (or about the configuration).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Note {
    /// What it is about.
    pub kind: NoteKind,
    /// What happened, in a sentence naming what (the file is named by whoever holds the note).
    pub message: String,
}

impl Note {
    /// A note of `kind`.
    pub fn new(kind: NoteKind, message: impl Into<String>) -> Self {
        Note {
            kind,
            message: message.into(),
        }
    }
}
