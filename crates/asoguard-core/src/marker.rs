//! Relevance markers: the texts one of which a document must hold for a rule to care about it.
//!
//! Each rule names the markers it needs in the registry ([`crate::registry`]); the prefilter
//! ([`crate::relevance`]) searches for the union of them all, so a document no rule could care
//! about is never parsed. No marker overlaps another (a test checks it), so a search for all at
//! once finds each wherever it occurs, and none holds a line break, so each lies in one
//! document.

/// A set of markers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Markers(u16);

/// One marker: its text, whether a document holding it may be an index source (an object
/// whose facts other files' checks read), and why asoguard looks for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker {
    /// The text searched for.
    pub text: &'static str,
    /// Whether a document holding it may be a Namespace, Kustomization, ArgoCD or Flux object,
    /// whose facts are gathered before any file is checked.
    pub index_source: bool,
    /// Why it is searched for.
    pub why: &'static str,
}

/// Every marker, in the order of [`Markers`]' bits.
const ALL: [Marker; 10] = [
    Marker {
        text: ".azure.com",
        index_source: false,
        why: "every ASO v2 group and the reconcile-policy annotation end in `.azure.com`",
    },
    Marker {
        text: "azure.microsoft.com",
        index_source: false,
        why: "ASO v1's group",
    },
    Marker {
        text: "asoguard",
        index_source: false,
        why: "suppression comments and the `asoguard.io/ignore` annotation",
    },
    Marker {
        text: "sops",
        index_source: false,
        why: "SOPS-encrypted files are noted and skipped",
    },
    Marker {
        text: "Namespace",
        index_source: true,
        why: "a Namespace's reconcile-policy applies to what it holds",
    },
    Marker {
        text: "Kustomization",
        index_source: true,
        why: "kustomizations and Flux Kustomizations decide what is applied",
    },
    Marker {
        text: "kustomize.config.k8s.io",
        index_source: true,
        why: "Kustomize's Components and kustomizations by group",
    },
    Marker {
        text: "fluxcd.io",
        index_source: true,
        why: "Flux objects apply directories",
    },
    Marker {
        text: "argoproj.io",
        index_source: true,
        why: "ArgoCD Applications apply directories",
    },
    // Without its final `s`, so it never overlaps `sops`.
    Marker {
        text: "/metadata/annotation",
        index_source: false,
        why: "a JSON6902 patch that replaces or removes a whole annotations map changes an \
              object's reconcile-policy and sync-options without naming either",
    },
];

impl Markers {
    /// No marker.
    pub const NONE: Markers = Markers(0);
    /// ASO v2 groups and the reconcile-policy annotation.
    pub const ASO: Markers = Markers(1 << 0);
    /// ASO v1's group.
    pub const ASO_V1: Markers = Markers(1 << 1);
    /// Suppression comments and annotations.
    pub const SUPPRESSION: Markers = Markers(1 << 2);
    /// SOPS-encrypted files.
    pub const SOPS: Markers = Markers(1 << 3);
    /// Namespaces.
    pub const NAMESPACE: Markers = Markers(1 << 4);
    /// Kustomizations and Flux Kustomizations by kind.
    pub const KUSTOMIZATION: Markers = Markers(1 << 5);
    /// Kustomize's API group.
    pub const KUSTOMIZE_GROUP: Markers = Markers(1 << 6);
    /// Flux's API groups.
    pub const FLUX: Markers = Markers(1 << 7);
    /// ArgoCD's API group.
    pub const ARGOCD: Markers = Markers(1 << 8);
    /// JSON6902 operations on a whole annotations map.
    pub const ANNOTATIONS_PATCH: Markers = Markers(1 << 9);
    /// Everything the index reads to render what each cluster applies: a rule that judges
    /// rendered objects needs these.
    pub const RENDERING: Markers = Markers::NAMESPACE
        .union(Markers::KUSTOMIZATION)
        .union(Markers::KUSTOMIZE_GROUP)
        .union(Markers::FLUX)
        .union(Markers::ARGOCD)
        .union(Markers::ANNOTATIONS_PATCH);

    /// Both sets.
    pub const fn union(self, other: Markers) -> Markers {
        Markers(self.0 | other.0)
    }

    /// Whether this set holds every marker of `other`.
    pub const fn contains(self, other: Markers) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The markers of this set.
    pub fn iter(self) -> impl Iterator<Item = &'static Marker> {
        ALL.iter()
            .enumerate()
            .filter(move |(bit, _)| self.0 & (1 << bit) != 0)
            .map(|(_, marker)| marker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_marker_overlaps_another_or_holds_a_line_break() {
        for a in ALL {
            assert!(!a.text.contains('\n'), "{}", a.text);
            for b in ALL.iter().filter(|b| b.text != a.text) {
                let overlaps =
                    (1..a.text.len()).any(|n| b.text.starts_with(&a.text[a.text.len() - n..]));
                assert!(
                    !a.text.contains(b.text) && !overlaps,
                    "{} overlaps {}",
                    a.text,
                    b.text
                );
            }
        }
    }

    #[test]
    fn every_bit_names_one_marker() {
        let every = Markers((1 << ALL.len()) - 1);
        assert_eq!(every.iter().count(), ALL.len());
        assert!(Markers::RENDERING.contains(Markers::NAMESPACE));
        assert!(!Markers::RENDERING.contains(Markers::ASO));
        assert_eq!(
            Markers::SOPS.iter().map(|m| m.text).collect::<Vec<_>>(),
            ["sops"]
        );
    }
}
