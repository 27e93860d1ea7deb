//! One revision's ASO resources as a plan compares them: keyed by Kubernetes identity, with
//! their Azure identities resolved through owner chains, and the appliers the revision has.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::index::inventory::{ApplierKind, Entry, Inventory};
use crate::index::{ContextKind, Index};
use crate::manifest::Policy;

/// A resource's Kubernetes identity: cluster, API group, kind, namespace, name.
pub(super) type Key = (
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// The deepest owner chain followed (a cycle of owners is a mistake, not a chain).
const MOST_OWNERS: usize = 16;

/// One revision's ASO resources, by Kubernetes identity, with their Azure identities and
/// owners resolved, and the appliers it has.
pub(super) struct View<'x> {
    /// The rendered revision.
    pub(super) index: &'x Index,
    /// Its ASO resources, as each applier applies them.
    pub(super) entries: Vec<Entry>,
    /// The entries of each Kubernetes identity (one per applier that applies it).
    pub(super) by_key: BTreeMap<Key, Vec<usize>>,
    /// Each entry's owner, when the revision holds it (same cluster and namespace).
    pub(super) owner_of: Vec<Option<usize>>,
    /// Each entry's Azure identity, when it resolves.
    pub(super) azure: Vec<Option<String>>,
    /// Every Flux Kustomization and ArgoCD Application, and whether it prunes.
    appliers: HashMap<String, bool>,
    /// The Flux Kustomization and ArgoCD Application objects as what applies them applies
    /// them, by file and name: whether deleting one from Git deletes it from the cluster is
    /// its own applier's to decide.
    pub(super) applier_objects: HashMap<(PathBuf, String), Entry>,
    /// The Namespaces, by cluster and name.
    pub(super) namespaces: HashMap<(Option<String>, String), Entry>,
    /// Where every ASO object of the revision is written (file and document), `keep` or not.
    pub(super) written: HashSet<(PathBuf, usize)>,
}

impl<'x> View<'x> {
    /// The ASO resources of `index` that `keep` keeps.
    pub(super) fn new(
        index: &'x Index,
        settings: &Settings,
        keep: impl Fn(&Entry) -> bool,
    ) -> Self {
        let mut entries: Vec<Entry> = Vec::new();
        let mut applier_objects = HashMap::new();
        let mut namespaces = HashMap::new();
        let mut written = HashSet::new();
        for e in Inventory::of(index, settings).entries {
            if e.aso {
                written.insert((e.written_at.path.clone(), e.doc));
                if keep(&e) {
                    entries.push(e);
                }
            } else if let Some(name) = e.name.clone() {
                let group = group(&e);
                if e.kind == "Namespace" && group.is_empty() {
                    namespaces.insert((e.cluster.clone(), name), e);
                } else if is_applier_kind(group, &e.kind) {
                    applier_objects.insert((e.written_at.path.clone(), name), e);
                }
            }
        }
        let mut by_key: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
        // (cluster, namespace, name): where an owner reference looks.
        type Named<'e> = (Option<&'e str>, Option<&'e str>, &'e str);
        let mut by_name: HashMap<Named, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            by_key.entry(key(e)).or_default().push(i);
            if let Some(name) = e.name.as_deref() {
                by_name
                    .entry((e.cluster.as_deref(), e.namespace.as_deref(), name))
                    .or_default()
                    .push(i);
            }
        }
        // The owner is named, not typed (its kind is the child's CRD's to say): of the objects
        // with its name, never the object itself, and first one of the child's own API group
        // (a database's server), then a resource group, then any.
        let owner_of: Vec<Option<usize>> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let owner = e.owner.as_deref()?;
                let mine = key(e);
                by_name
                    .get(&(e.cluster.as_deref(), e.namespace.as_deref(), owner))?
                    .iter()
                    .copied()
                    .filter(|&o| o != i && key(&entries[o]) != mine)
                    .min_by_key(|&o| {
                        let candidate = &entries[o];
                        if group(candidate) == group(e) {
                            0
                        } else if candidate.kind == "ResourceGroup" {
                            1
                        } else {
                            2
                        }
                    })
            })
            .collect();
        let mut view = View {
            index,
            entries,
            by_key,
            owner_of,
            azure: Vec::new(),
            appliers: HashMap::new(),
            applier_objects,
            namespaces,
            written,
        };
        view.azure = (0..view.entries.len())
            .map(|i| view.azure_id(i, 0))
            .collect();
        for context in &index.contexts {
            if matches!(context.kind, ContextKind::Flux | ContextKind::Argo) {
                if let Some(object) = index.applier(context) {
                    let kind = match context.kind {
                        ContextKind::Flux => ApplierKind::Flux,
                        _ => ApplierKind::Argo,
                    };
                    let path = PathBuf::from(index.describe(context.file));
                    let cluster = context.cluster.map(|c| settings.clusters[c].name.as_str());
                    view.appliers.insert(
                        applier_id(&kind, cluster, object.name.as_deref(), &path),
                        context.prune,
                    );
                }
            }
        }
        view
    }

    /// The Azure identity: the owner's, then the group, kind and Azure name (Azure names are
    /// case-insensitive). Unknown while a Flux variable is unresolved; an owner the repository
    /// does not hold is named by its reference.
    pub(super) fn azure_id(&self, i: usize, depth: usize) -> Option<String> {
        let e = &self.entries[i];
        let name = e.azure_name.as_deref().or(e.name.as_deref())?;
        if name.contains("${") {
            return None;
        }
        let parent = match (&e.owner, self.owner_of[i]) {
            (None, _) => String::new(),
            (Some(owner), _) if owner.contains("${") => return None,
            (Some(_), Some(p)) if depth < MOST_OWNERS && p != i => self.azure_id(p, depth + 1)?,
            (Some(owner), _) => format!("{}/{owner}", e.namespace.as_deref().unwrap_or("")),
        };
        Some(format!(
            "{parent}/{}/{}/{}",
            group(e),
            e.kind,
            name.to_ascii_lowercase()
        ))
    }

    /// The entries of a key, and their policy: the most dangerous of them (`manage` if any
    /// applier applies it with `manage`).
    pub(super) fn policy(&self, at: &[usize]) -> Policy {
        let policies: Vec<Policy> = at.iter().map(|&i| self.entries[i].policy).collect();
        [Policy::Manage, Policy::DetachOnDelete, Policy::Skip]
            .into_iter()
            .find(|p| policies.contains(p))
            .unwrap_or(Policy::Manage)
    }

    /// Whether this revision has `e`'s applier, and if so whether it prunes.
    pub(super) fn applier_prunes(&self, e: &Entry) -> Option<bool> {
        self.appliers
            .get(&applier_id(
                &e.applier,
                e.cluster.as_deref(),
                e.applier_name.as_deref(),
                &e.applier_path,
            ))
            .copied()
    }
}

pub(super) fn key(e: &Entry) -> Key {
    (
        e.cluster.clone(),
        group(e).to_string(),
        e.kind.clone(),
        e.namespace.clone(),
        e.name.clone(),
    )
}

pub(super) fn group(e: &Entry) -> &str {
    e.api_version
        .as_deref()
        .and_then(|v| v.rsplit_once('/'))
        .map_or("", |(g, _)| g)
}

/// An applier as both revisions name it: a Flux Kustomization or ArgoCD Application by its
/// cluster and name (its file may move; every cluster bootstrapped by Flux has its own
/// `flux-system`), anything else by its file.
pub(super) fn applier_id(
    kind: &ApplierKind,
    cluster: Option<&str>,
    name: Option<&str>,
    path: &Path,
) -> String {
    match (kind, name) {
        (ApplierKind::Flux | ApplierKind::Argo, Some(name)) => {
            format!("{}:{}:{name}", kind.as_str(), cluster.unwrap_or(""))
        }
        _ => format!("{}@{}", kind.as_str(), path.display()),
    }
}

/// A Flux Kustomization, or an ArgoCD Application or ApplicationSet.
fn is_applier_kind(group: &str, kind: &str) -> bool {
    (group == "kustomize.toolkit.fluxcd.io" && kind == "Kustomization")
        || (group == "argoproj.io" && (kind == "Application" || kind == "ApplicationSet"))
}

/// An applier as messages name it.
pub(super) fn describe_applier(e: &Entry) -> String {
    let name = e.applier_name.as_deref().unwrap_or("?");
    let path = e.applier_path.display();
    match e.applier {
        ApplierKind::Flux => format!("Flux Kustomization `{name}` ({path})"),
        ApplierKind::Argo => format!("ArgoCD Application `{name}` ({path})"),
        ApplierKind::Kustomization => format!("the kustomization {path}"),
        ApplierKind::File => format!("{path}"),
    }
}

pub(super) fn name_of(e: &Entry) -> String {
    match &e.namespace {
        Some(ns) => format!("`{ns}/{}`", e.name.as_deref().unwrap_or("?")),
        None => format!("`{}`", e.name.as_deref().unwrap_or("?")),
    }
}

pub(super) fn cluster_of(e: &Entry) -> String {
    match &e.cluster {
        Some(c) => format!("cluster `{c}`"),
        None => "no configured cluster".to_string(),
    }
}
