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

    /// What notes of this kind are about, in a sentence (a SARIF notification descriptor's
    /// description).
    pub fn description(self) -> &'static str {
        match self {
            NoteKind::Sops => "A SOPS-encrypted file: skipped, since its values cannot be read.",
            NoteKind::Template => {
                "A Helm or Go template: not checked and never changed, since what gets applied is its rendered output."
            }
            NoteKind::Remote => {
                "A remote kustomize resource: not fetched, so what it adds is not checked."
            }
            NoteKind::Unrendered => {
                "Something a kustomization adds that cannot be rendered offline (a generator, a Helm chart, a transformer): not checked."
            }
            NoteKind::Missing => {
                "A reference to a path that does not exist, or to a directory without a kustomization."
            }
            NoteKind::NotApplied => {
                "A file that nothing applies (beside a kustomization that does not list it)."
            }
            NoteKind::BuildFails => {
                "A kustomization its applier would refuse to build: nothing of it is applied."
            }
            NoteKind::Cycle => "A kustomization that includes itself.",
            NoteKind::Config => "A configured cluster that matches nothing that is applied.",
            NoteKind::Fix => {
                "Fixes that did not converge or produced invalid YAML (a bug to report)."
            }
        }
    }

    /// `count` notes of this kind in one phrase, with the right number:
    /// `1 SOPS-encrypted file was skipped`, `37 SOPS-encrypted files were skipped`. Every
    /// report that summarises notes (stderr, CI annotations, JUnit) says it this way.
    pub fn summary(self, count: usize) -> String {
        let (one, many) = match self {
            NoteKind::Sops => (
                "SOPS-encrypted file was skipped",
                "SOPS-encrypted files were skipped",
            ),
            NoteKind::Template => (
                "Helm or Go template was skipped",
                "Helm or Go templates were skipped",
            ),
            NoteKind::Remote => (
                "remote kustomize resource was not fetched",
                "remote kustomize resources were not fetched",
            ),
            NoteKind::Unrendered => (
                "kustomization entry cannot be rendered offline and was not checked",
                "kustomization entries cannot be rendered offline and were not checked",
            ),
            NoteKind::Missing => (
                "kustomization reference leads nowhere",
                "kustomization references lead nowhere",
            ),
            NoteKind::NotApplied => ("file is applied by nothing", "files are applied by nothing"),
            NoteKind::BuildFails => (
                "kustomization would fail to build, so nothing of it is applied",
                "kustomizations would fail to build, so nothing of them is applied",
            ),
            NoteKind::Cycle => (
                "kustomization includes itself",
                "kustomizations include themselves",
            ),
            NoteKind::Config => (
                "configured cluster matches nothing that is applied",
                "configured clusters match nothing that is applied",
            ),
            NoteKind::Fix => (
                "file was not fixed as expected (please report this)",
                "files were not fixed as expected (please report this)",
            ),
        };
        format!("{count} {}", if count == 1 { one } else { many })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_with_its_own_id() {
        let ids: std::collections::BTreeSet<&str> =
            NoteKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(ids.len(), NoteKind::ALL.len());
    }

    #[test]
    fn summaries_agree_in_number() {
        assert_eq!(
            NoteKind::Sops.summary(1),
            "1 SOPS-encrypted file was skipped"
        );
        assert_eq!(
            NoteKind::Sops.summary(37),
            "37 SOPS-encrypted files were skipped"
        );
        assert_eq!(
            NoteKind::Cycle.summary(2),
            "2 kustomizations include themselves"
        );
        for kind in NoteKind::ALL {
            let (one, many) = (kind.summary(1), kind.summary(2));
            assert!(
                one.starts_with("1 ") && many.starts_with("2 "),
                "{one} / {many}"
            );
            assert_ne!(one[2..], many[2..], "{kind:?} says one and many alike");
            assert!(kind.description().ends_with('.'), "{kind:?}");
        }
    }
}
