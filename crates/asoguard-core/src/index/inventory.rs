//! The inventory: every object as each cluster applies it, with its effective reconcile-policy
//! and where that value comes from. It is what `asoguard inventory` prints to explain a
//! finding, and the value a comparison of two revisions reads.

use std::path::PathBuf;

use super::facts::Extra;
use super::{Context, ContextKind, Index, Instance};
use crate::config::{Role, Settings};
use crate::manifest::Policy;

/// What applies an entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ApplierKind {
    /// A Flux Kustomization.
    Flux,
    /// An ArgoCD Application or ApplicationSet.
    Argo,
    /// A kustomization nothing else includes (built with `kustomize build`).
    Kustomization,
    /// A plain file nothing renders, applied as it is.
    File,
}

impl ApplierKind {
    /// `flux`, `argocd`, `kustomization` or `file`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ApplierKind::Flux => "flux",
            ApplierKind::Argo => "argocd",
            ApplierKind::Kustomization => "kustomization",
            ApplierKind::File => "file",
        }
    }
}

/// A place in a file of the repository.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The file, relative to the repository root.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
}

/// Where an effective reconcile-policy comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicySource {
    /// What sets it: `own`, `patch`, `json-patch`, `inline-patch`, `common-annotations`,
    /// `flux-common-metadata`, `argocd-managed-namespace`, `namespace`, or `default` (ASO's
    /// `manage`, nothing sets it).
    pub kind: &'static str,
    /// The value as written (an invalid one counts as `manage`), when something sets it.
    pub value: Option<String>,
    /// Where it is written, when something sets it.
    pub at: Option<Location>,
}

/// An annotation's value as applied, and where it is written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Written {
    /// The value.
    pub value: String,
    /// What sets it, named as in [`PolicySource::kind`] (never `default` or `namespace`).
    pub kind: &'static str,
    /// Where it is written.
    pub at: Location,
}

/// One object as one applier applies it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The configured cluster it lands in, if any.
    pub cluster: Option<String>,
    /// That cluster's role (active when it is in none).
    pub role: Role,
    /// What applies it.
    pub applier: ApplierKind,
    /// The applier's file (the kustomization, the Flux or ArgoCD object, the plain file).
    pub applier_path: PathBuf,
    /// The Flux Kustomization's or ArgoCD Application's name.
    pub applier_name: Option<String>,
    /// `apiVersion` as written.
    pub api_version: Option<String>,
    /// `kind`.
    pub kind: String,
    /// The namespace it lands in.
    pub namespace: Option<String>,
    /// Its name as applied (Kustomize's prefix and suffix, Flux's substitutions).
    pub name: Option<String>,
    /// `spec.azureName` as applied.
    pub azure_name: Option<String>,
    /// `spec.owner.name` as applied.
    pub owner: Option<String>,
    /// An ASO resource.
    pub aso: bool,
    /// Of a critical kind.
    pub critical: bool,
    /// Its effective reconcile-policy.
    pub policy: Policy,
    /// Where that comes from.
    pub policy_source: PolicySource,
    /// Its ArgoCD `argocd.argoproj.io/sync-options` as applied (after patches,
    /// `commonAnnotations`, Flux `commonMetadata`), when it has one.
    pub sync_options: Option<Written>,
    /// Where the object is written.
    pub written_at: Location,
    /// Its document's index in that file.
    pub doc: usize,
    /// Its applier prunes (Flux `spec.prune: true`, ArgoCD `syncPolicy.automated.prune: true`):
    /// removing it from Git deletes it.
    pub prune: bool,
    /// The object is exempt from pruning: Flux's `prune: disabled`, `reconcile: disabled` or
    /// `ssa: Ignore`, Helm's `resource-policy: keep`, or ArgoCD sync-options `Prune=false` (or
    /// `Prune=confirm`, which waits for a person).
    pub prune_exempt: bool,
    /// Deleting its applier deletes it too: an ArgoCD Application (or ApplicationSet) with the
    /// resources finalizer, a Flux Kustomization that prunes (or `deletionPolicy: Delete`),
    /// unless the object is exempt (as from pruning, or ArgoCD's `Delete=false`) or the
    /// Kustomization has `deletionPolicy: Orphan`.
    pub applier_cascades: bool,
}

/// Every object the repository applies, by cluster, applier and object.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// The entries, sorted by cluster, applier, kind, namespace and name.
    pub entries: Vec<Entry>,
}

impl Inventory {
    /// The inventory of a rendered index.
    pub fn of(index: &Index, settings: &Settings) -> Self {
        let mut entries: Vec<Entry> = index
            .instances
            .iter()
            .map(|instance| entry(index, settings, instance))
            .collect();
        entries.sort();
        Inventory { entries }
    }
}

fn entry(index: &Index, settings: &Settings, instance: &Instance) -> Entry {
    let object = index.object(instance);
    let context: &Context = &index.contexts[instance.context];
    let applier_object = index.applier(context);
    let (policy, origin) = index.effective(instance);
    let location = |file: usize, offset: usize| Location {
        path: PathBuf::from(index.describe(file)),
        line: index.files[file].line_col(offset).0,
    };
    let policy_source = match origin {
        None => PolicySource {
            kind: "default",
            value: None,
            at: None,
        },
        Some(origin) => PolicySource {
            kind: origin.kind.as_str(),
            value: instance
                .policy
                .as_ref()
                .map(|(v, _)| v.to_string())
                .or_else(|| Some(policy.as_str().to_string())),
            at: Some(location(origin.file, origin.entry.start)),
        },
    };
    let sync_options: Option<Written> =
        index.sync_options(instance).map(|(value, origin)| Written {
            value: value.to_string(),
            kind: origin.kind.as_str(),
            at: location(origin.file, origin.entry.start),
        });
    // `confirm` waits for a person: ArgoCD deletes nothing on its own.
    let argo_exempt = |options: [&str; 2]| {
        sync_options
            .as_ref()
            .is_some_and(|s| options.iter().any(|o| has_option(&s.value, o)))
    };
    let prune_exempt = object.gc_exempt || argo_exempt(["Prune=false", "Prune=confirm"]);
    let delete_exempt = object.gc_exempt || argo_exempt(["Delete=false", "Delete=confirm"]);
    Entry {
        cluster: context.cluster.map(|c| settings.clusters[c].name.clone()),
        role: context.role,
        applier: match context.kind {
            ContextKind::Flux => ApplierKind::Flux,
            ContextKind::Argo => ApplierKind::Argo,
            ContextKind::Kustomization => ApplierKind::Kustomization,
            ContextKind::Standalone => ApplierKind::File,
        },
        applier_path: PathBuf::from(index.describe(match context.kind {
            ContextKind::Standalone => instance.file,
            _ => context.file,
        })),
        applier_name: applier_object.and_then(|o| o.name.as_deref().map(str::to_string)),
        api_version: object.api_version(),
        kind: object.kind.to_string(),
        namespace: instance.namespace.as_deref().map(str::to_string),
        name: instance.name.as_deref().map(str::to_string),
        azure_name: index.azure_name(instance).map(|n| n.into_owned()),
        owner: index.owner(instance).map(|o| o.into_owned()),
        aso: instance.aso,
        critical: instance.critical,
        policy,
        policy_source,
        sync_options,
        written_at: location(instance.file, object.name_span.start),
        doc: object.doc,
        prune: context.prune,
        prune_exempt,
        applier_cascades: !delete_exempt
            && match applier_object.map(|o| &o.extra) {
                Some(Extra::Argo(app)) => app.resources_finalizer,
                Some(Extra::Flux(flux)) => match flux.deletion_policy.as_deref() {
                    Some("Orphan") => false,
                    Some("Delete" | "WaitForTermination") => true,
                    _ => flux.prune.is_some(),
                },
                _ => false,
            },
    }
}

/// Whether an ArgoCD sync-options value (comma-separated) holds `option`.
fn has_option(value: &str, option: &str) -> bool {
    value.split(',').any(|o| o.trim() == option)
}
