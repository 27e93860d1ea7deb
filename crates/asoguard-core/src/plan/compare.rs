//! Matching the ASO resources of two rendered revisions and classifying each difference by
//! what ASO does in Azure (the rules are listed in `docs/plan.md`, "Classes"), one function
//! per question (is it still applied, is it pruned, is it the same Azure resource, what do its
//! children do).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::removal::{Gone, applier_deleted, gone};
use super::spec::{Specs, changed_fields, line_of};
use super::view::{Key, View, cluster_of, describe_applier, key, name_of};
use super::{Change, Class, Side};
use crate::config::Settings;
use crate::index::Index;
use crate::index::inventory::{ApplierKind, Entry, Location};
use crate::manifest::Policy;

/// The changes from `base` to `head`.
/// `changed` holds the files (absolute) whose text differs between the two.
pub(super) fn compare(
    settings: &Settings,
    (base_index, head_index): (&Index, &Index),
    changed: &HashSet<PathBuf>,
) -> Vec<Change> {
    let base = View::new(base_index, settings, |_| true);
    // An object a Flux Kustomization or ArgoCD Application applied, that in the head only a
    // plain file or a kustomization of its own holds, is no longer applied by anything: its
    // applier was deleted, or no longer reaches it (asoguard renders a file nothing applies as
    // applied as it is, which is what `check` should judge, not what a cluster will do).
    // Found by its file (the applier is gone, the file stays) or by its identity (the file
    // moved out of the applier's path).
    let gitops = |e: &Entry| matches!(e.applier, ApplierKind::Flux | ApplierKind::Argo);
    let by_gitops: HashSet<(&Path, usize)> = base
        .entries
        .iter()
        .filter(|e| gitops(e))
        .map(|e| (e.written_at.path.as_path(), e.doc))
        .collect();
    // In any cluster: a file moved out of every applier's path is applied by nothing, though
    // asoguard renders it as a plain file, where its path puts it.
    let anywhere = |e: &Entry| {
        let mut k = key(e);
        k.0 = None;
        k
    };
    let gitops_keys: HashSet<Key> = base
        .entries
        .iter()
        .filter(|e| gitops(e))
        .map(anywhere)
        .collect();
    let head = View::new(head_index, settings, |e| {
        gitops(e)
            || !(by_gitops.contains(&(e.written_at.path.as_path(), e.doc))
                || gitops_keys.contains(&anywhere(e)))
    });
    let mut cx = Compare {
        settings,
        base: &base,
        head: &head,
        specs: (Specs::default(), Specs::default()),
        changes: BTreeMap::new(),
        changed,
        successors: Vec::new(),
        replaced: HashMap::new(),
    };
    cx.both();
    cx.removed_and_added();
    cx.namespaces_deleted();
    cx.cascade();
    cx.note_successors();
    let mut changes: Vec<Change> = cx.changes.into_values().collect();
    changes.sort_by(|a, b| {
        let order = |c: &Change| {
            (
                !c.class.is_destructive(),
                c.cluster.clone(),
                c.kind.clone(),
                c.namespace.clone(),
                c.name.clone(),
            )
        };
        order(a).cmp(&order(b))
    });
    changes
}

struct Compare<'a, 'x> {
    settings: &'a Settings,
    base: &'a View<'x>,
    head: &'a View<'x>,
    specs: (Specs, Specs),
    /// One change per resource, the worst kept.
    changes: BTreeMap<Key, Change>,
    /// The files whose text differs between the revisions.
    changed: &'a HashSet<PathBuf>,
    /// New objects (first) with the Azure identity of one that is gone (second), when that one
    /// is not deleted by the move itself (then it is a replace).
    successors: Vec<(Key, Key)>,
    /// The old object of each replace (its key), and the new one that replaces it.
    replaced: HashMap<Key, Key>,
}

impl Compare<'_, '_> {
    /// Record `change` for `key`, unless a worse one is there; a worse one keeps the other's
    /// cause as a note.
    fn record(&mut self, key: Key, mut change: Change) {
        match self.changes.get_mut(&key) {
            Some(existing) if existing.class.rank() >= change.class.rank() => {
                add_note(existing, change.cause);
            }
            Some(existing) => {
                let cause = std::mem::take(&mut existing.cause);
                for note in std::mem::take(&mut existing.notes) {
                    add_note(&mut change, note);
                }
                add_note(&mut change, cause);
                *existing = change;
            }
            None => {
                self.changes.insert(key, change);
            }
        }
    }

    /// A change of `e` (a head entry, or a base one when it is gone).
    fn change(
        &self,
        class: Class,
        e: &Entry,
        azure_id: Option<String>,
        policies: (Option<Policy>, Option<Policy>),
        cause: String,
        (at, side): (Location, Side),
    ) -> Change {
        Change {
            class,
            cluster: e.cluster.clone(),
            api_version: e.api_version.clone(),
            kind: e.kind.clone(),
            namespace: e.namespace.clone(),
            name: e.name.clone(),
            azure_id,
            base_policy: policies.0,
            head_policy: policies.1,
            cause,
            fields: Vec::new(),
            notes: Vec::new(),
            at,
            side,
            previous: None,
            written: e.written_at.clone(),
            applier: e.applier_path.clone(),
        }
    }

    /// Resources in both revisions: policy, identity and spec changes, and a re-creation when
    /// the applier that applied it is deleted with what it applied while another applies it.
    fn both(&mut self) {
        for (key, b_at) in &self.base.by_key {
            let Some(h_at) = self.head.by_key.get(key) else {
                continue;
            };
            let (b, h) = (&self.base.entries[b_at[0]], &self.head.entries[h_at[0]]);
            let (bp, hp) = (self.base.policy(b_at), self.head.policy(h_at));
            let azure_id = self.head.azure[h_at[0]].clone();
            let policies = (Some(bp), Some(hp));
            let mut found: Vec<(Class, String, Location)> = Vec::new();
            let policy_at = h
                .policy_source
                .at
                .clone()
                .unwrap_or_else(|| h.written_at.clone());
            let b_name = b.azure_name.as_deref().or(b.name.as_deref());
            let h_name = h.azure_name.as_deref().or(h.name.as_deref());
            if b_name != h_name && (is_unresolved(b_name) || is_unresolved(h_name)) {
                found.push((
                    Class::Update,
                    format!(
                        "spec.azureName is `{}` in the base and `{}` in the head, a Flux variable \
                         the repository does not resolve: if they are the same, nothing \
                         changes; if not, the sync fails (azureName cannot change on a live \
                         object)",
                        b_name.unwrap_or("?"),
                        h_name.unwrap_or("?")
                    ),
                    self.field_at(h, &["spec", "azureName"]),
                ));
            } else if b_name != h_name {
                found.push((
                    Class::Immutable,
                    format!(
                        "spec.azureName changes from `{}` to `{}`: ASO's webhook rejects it on a \
                         live object, and the sync fails until the object is deleted and \
                         created again",
                        b_name.unwrap_or("?"),
                        h_name.unwrap_or("?")
                    ),
                    self.field_at(h, &["spec", "azureName"]),
                ));
            }
            let owner_unknown =
                is_unresolved(b.owner.as_deref()) || is_unresolved(h.owner.as_deref());
            if b.owner != h.owner && !owner_unknown {
                found.push((
                    Class::Immutable,
                    format!(
                        "spec.owner changes from `{}` to `{}`: ASO's webhook rejects it on a live \
                         object, and the sync fails until the object is deleted and created again",
                        b.owner.as_deref().unwrap_or("none"),
                        h.owner.as_deref().unwrap_or("none")
                    ),
                    self.field_at(h, &["spec", "owner", "name"]),
                ));
            }
            if bp == Policy::Skip && hp != Policy::Skip {
                found.push((
                    Class::Takeover,
                    format!(
                        "reconcile-policy `skip` becomes `{}`: ASO starts writing to the Azure \
                         resource (make sure no other cluster or tool manages it)",
                        hp.as_str()
                    ),
                    policy_at.clone(),
                ));
            } else if bp == Policy::DetachOnDelete && hp == Policy::Manage && h.critical {
                found.push((
                    Class::Unprotect,
                    format!(
                        "`detach-on-delete` is removed from a critical kind: deleting the object \
                         deletes the Azure resource again ({} applies)",
                        hp.as_str()
                    ),
                    policy_at.clone(),
                ));
            } else if bp != hp {
                let what = match hp {
                    Policy::Skip => "ASO stops writing to the Azure resource",
                    Policy::DetachOnDelete => "deleting the object will leave the Azure resource",
                    Policy::Manage => "deleting the object deletes the Azure resource again",
                };
                found.push((
                    Class::Update,
                    format!(
                        "reconcile-policy `{}` becomes `{}`: {what}",
                        bp.as_str(),
                        hp.as_str()
                    ),
                    policy_at.clone(),
                ));
            }
            if let Some(recreated) = self.recreated(b_at, bp, h) {
                found.push((Class::Replace, recreated, h.written_at.clone()));
            }
            let fields = self.changed_spec(b, h);
            // An owner given by its ARM id is compared as written.
            if fields
                .iter()
                .any(|f| f == "spec.owner.armId" || f == "spec.owner")
                && b.owner == h.owner
            {
                found.push((
                    Class::Immutable,
                    "spec.owner changes: ASO's webhook rejects it on a live object, and the sync \
                     fails until the object is deleted and created again"
                        .to_string(),
                    self.field_at(h, &["spec", "owner"]),
                ));
            }
            if !fields.is_empty() {
                found.push((
                    Class::Update,
                    format!("spec changes: {}", fields.join(", ")),
                    h.written_at.clone(),
                ));
            }
            let Some(worst) = found.iter().map(|f| f.0).max_by_key(|c| c.rank()) else {
                continue;
            };
            let (_, cause, at) = found
                .iter()
                .find(|f| f.0 == worst)
                .cloned()
                .expect("the worst is found");
            let mut change = self.change(
                worst,
                h,
                azure_id,
                policies,
                cause.clone(),
                (at, Side::Head),
            );
            change.fields = fields;
            if bp != hp {
                change.fields.insert(0, "reconcile-policy".to_string());
            }
            change.notes = found
                .into_iter()
                .map(|f| f.1)
                .filter(|c| *c != cause)
                .collect();
            self.record(key.clone(), change);
        }
    }

    /// Why an object both revisions apply is deleted and created again: the applier that
    /// applied it in the base is deleted with everything it applied, and another applies it
    /// in the head. `None` when that does not happen, or its policy keeps the Azure resource.
    fn recreated(&self, b_at: &[usize], bp: Policy, h: &Entry) -> Option<String> {
        if bp != Policy::Manage {
            return None;
        }
        let b = b_at.iter().map(|&i| &self.base.entries[i]).find(|b| {
            b.applier_cascades && matches!(applier_deleted(self.base, self.head, b), Some(Ok(_)))
        })?;
        Some(format!(
            "{} is deleted with everything it applied, and {} applies the object again: Azure \
             DELETE, then a new, empty resource",
            describe_applier(b),
            describe_applier(h)
        ))
    }

    /// Where field `path` of the head's object `h` is written; the object's name when it is
    /// not (a field removed).
    fn field_at(&self, h: &Entry, path: &[&str]) -> Location {
        let file = self.settings.root.join(&h.written_at.path);
        match line_of(self.head.index.tree(), &file, h.doc, path) {
            Some(line) => Location {
                path: h.written_at.path.clone(),
                line,
            },
            None => h.written_at.clone(),
        }
    }

    /// The spec fields that differ, read only when the object's file changed.
    fn changed_spec(&mut self, b: &Entry, h: &Entry) -> Vec<String> {
        let root = &self.settings.root;
        let (b_path, h_path) = (root.join(&b.written_at.path), root.join(&h.written_at.path));
        let (b_tree, h_tree) = (self.base.index.tree(), self.head.index.tree());
        // The same file, unchanged: the same spec.
        if b_path == h_path && b.doc == h.doc && !self.changed.contains(&b_path) {
            return Vec::new();
        }
        changed_fields(
            (&mut self.specs.0, b_tree, &b_path, b.doc),
            (&mut self.specs.1, h_tree, &h_path, h.doc),
        )
    }

    /// Resources only one revision has: a move or rename (the same Azure identity on both
    /// sides), a removal, a creation.
    fn removed_and_added(&mut self) {
        let added: Vec<&Key> = self
            .head
            .by_key
            .keys()
            .filter(|k| !self.base.by_key.contains_key(*k))
            .collect();
        let mut added_by_azure: HashMap<&str, Vec<&Key>> = HashMap::new();
        for k in &added {
            let i = self.head.by_key[*k][0];
            if let Some(id) = self.head.azure[i].as_deref() {
                added_by_azure.entry(id).or_default().push(k);
            }
        }
        let mut paired: HashSet<&Key> = HashSet::new();
        for (key, b_at) in &self.base.by_key {
            if self.head.by_key.contains_key(key) {
                continue;
            }
            let b = &self.base.entries[b_at[0]];
            let bp = self.policy_when_deleted(b_at);
            let fates: Vec<Gone> = b_at
                .iter()
                .map(|&i| gone(self.base, self.head, &self.base.entries[i]))
                .collect();
            if fates.iter().all(|f| matches!(f, Gone::StillApplied)) {
                continue;
            }
            let deleted = fates.iter().find_map(|f| match f {
                Gone::Deleted(why) => Some(why.clone()),
                _ => None,
            });
            let azure_id = self.base.azure[b_at[0]].clone();
            let successor = azure_id
                .as_deref()
                .and_then(|id| added_by_azure.get(id))
                .and_then(|ks| ks.iter().find(|k| !paired.contains(**k)).copied());
            let removal_at = self.removal_at(b);
            let (class, cause) = match (&deleted, bp) {
                (Some(why), Policy::Manage) => (
                    Class::Delete,
                    format!("{why}: its policy is `manage`, so ASO deletes the Azure resource"),
                ),
                (Some(why), policy) => (
                    Class::Detach,
                    format!(
                        "{why}: its policy is `{}`, so the Azure resource stays, unmanaged",
                        policy.as_str()
                    ),
                ),
                (None, _) => (
                    Class::Orphan,
                    fates
                        .iter()
                        .find_map(|f| match f {
                            Gone::Orphaned(why) => Some(why.clone()),
                            _ => None,
                        })
                        .unwrap_or_default(),
                ),
            };
            // A name that is a Flux variable the repository does not resolve is unknown: it
            // may be the same object, so it is not called a rename.
            if let Some(next) = successor
                .filter(|next| is_unresolved(next.4.as_deref()) || is_unresolved(key.4.as_deref()))
            {
                paired.insert(next);
                let h = &self.head.entries[self.head.by_key[next][0]];
                let mut change = self.change(
                    Class::Update,
                    h,
                    azure_id,
                    (Some(bp), Some(self.head.policy(&self.head.by_key[next]))),
                    format!(
                        "its name is `{}` in the base and `{}` in the head, with the same Azure \
                         resource, and a Flux variable the repository does not resolve: if they \
                         are the same object, nothing changes; if not, this is a rename, which \
                         deletes the Azure resource and creates a new, empty one",
                        key.4.as_deref().unwrap_or("?"),
                        next.4.as_deref().unwrap_or("?")
                    ),
                    (h.written_at.clone(), Side::Head),
                );
                change.previous = Some(b.written_at.clone());
                self.record(next.clone(), change);
                continue;
            }
            if let (Class::Delete, Some(next)) = (class, successor) {
                paired.insert(next);
                self.replaced.insert(key.clone(), next.clone());
                let h = &self.head.entries[self.head.by_key[next][0]];
                let what = moved(b, h);
                let mut change = self.change(
                    Class::Replace,
                    h,
                    azure_id,
                    (Some(bp), Some(self.head.policy(&self.head.by_key[next]))),
                    format!(
                        "{what}, with the same Azure resource: the old object is deleted with \
                         policy `manage` ({}), so ASO deletes the Azure resource, then creates a \
                         new, empty one",
                        deleted.unwrap_or_default()
                    ),
                    (h.written_at.clone(), Side::Head),
                );
                change.previous = Some(b.written_at.clone());
                self.record(next.clone(), change);
                continue;
            }
            if let Some(next) = successor {
                self.successors.push((next.clone(), key.clone()));
            }
            let change = self.change(class, b, azure_id, (Some(bp), None), cause, removal_at);
            self.record(key.clone(), change);
        }
        for key in added {
            if paired.contains(key) {
                continue;
            }
            let h_at = &self.head.by_key[key];
            let h = &self.head.entries[h_at[0]];
            let hp = self.head.policy(h_at);
            let azure_id = self.head.azure[h_at[0]].clone();
            let mut notes = Vec::new();
            if let Some(id) = azure_id.as_deref() {
                notes.extend(self.same_azure_resource(key, id, hp));
            }
            let cause = format!(
                "new object with policy `{}`: ASO {} the Azure resource",
                hp.as_str(),
                match hp {
                    Policy::Skip => "reads (never writes)",
                    _ => "creates or adopts",
                }
            );
            let mut change = self.change(
                Class::Create,
                h,
                azure_id,
                (None, Some(hp)),
                cause,
                (h.written_at.clone(), Side::Head),
            );
            change.notes = notes;
            self.record(key.clone(), change);
        }
    }

    /// Say on each new object what became of the one whose Azure resource it takes over, once
    /// cascades have settled what that is.
    fn note_successors(&mut self) {
        for (new, old) in std::mem::take(&mut self.successors) {
            let Some(gone) = self.changes.get(&old) else {
                continue;
            };
            let fate = match gone.class {
                Class::Orphan => "still in its cluster: two objects would manage one resource",
                Class::Detach => "detached: this one adopts it",
                _ => "deleted in Azure: this one creates it again, empty",
            };
            let note = format!(
                "it has the Azure identity of {} {} in {}, which is {fate}",
                gone.kind,
                match &gone.namespace {
                    Some(ns) => format!("`{ns}/{}`", gone.name.as_deref().unwrap_or("?")),
                    None => format!("`{}`", gone.name.as_deref().unwrap_or("?")),
                },
                match &gone.cluster {
                    Some(c) => format!("cluster `{c}`"),
                    None => "no configured cluster".to_string(),
                },
            );
            if let Some(change) = self.changes.get_mut(&new) {
                change.notes.insert(0, note);
            }
        }
    }

    /// The policy ASO reads when it handles the deletion of an object the head removes: the
    /// base's (the object in the cluster is the base's), but the head's Namespace's when it
    /// inherits its Namespace's (the Namespace is applied before what left is pruned). The most
    /// dangerous of its appliers'.
    fn policy_when_deleted(&self, b_at: &[usize]) -> Policy {
        let policies: Vec<Policy> = b_at
            .iter()
            .map(|&i| {
                let e = &self.base.entries[i];
                let namespace = (e.cluster.clone(), e.namespace.clone().unwrap_or_default());
                match self.head.namespaces.get(&namespace) {
                    Some(ns) if e.policy_source.kind == "namespace" => ns.policy,
                    _ => e.policy,
                }
            })
            .collect();
        [Policy::Manage, Policy::DetachOnDelete, Policy::Skip]
            .into_iter()
            .find(|p| policies.contains(p))
            .unwrap_or(Policy::Manage)
    }

    /// A Namespace the head deletes from the cluster takes everything in it: each object by
    /// the policy ASO reads then.
    fn namespaces_deleted(&mut self) {
        for (at, ns) in &self.base.namespaces {
            if self.head.namespaces.contains_key(at) {
                continue;
            }
            let Gone::Deleted(why) = gone(self.base, self.head, ns) else {
                continue;
            };
            let (cluster, name) = at;
            let removal_at = self.removal_at(ns);
            for (key, b_at) in &self.base.by_key {
                let e = &self.base.entries[b_at[0]];
                if e.cluster != *cluster
                    || e.namespace.as_deref() != Some(name.as_str())
                    // Moved with its Namespace: its replace says it once.
                    || self.replaced.contains_key(key)
                {
                    continue;
                }
                // As in the cluster: the Namespace is terminating, with the base's annotation.
                let policy = self.base.policy(b_at);
                let (class, what) = match policy {
                    Policy::Manage => (
                        Class::Delete,
                        "its policy `manage` has ASO delete the Azure resource".to_string(),
                    ),
                    other => (
                        Class::Detach,
                        format!("its policy `{}` leaves the Azure resource", other.as_str()),
                    ),
                };
                let head = self.head.by_key.get(key).map(|h| &self.head.entries[h[0]]);
                let mut change = self.change(
                    class,
                    head.unwrap_or(e),
                    self.base.azure[b_at[0]].clone(),
                    (Some(policy), head.map(|h| h.policy)),
                    format!(
                        "its Namespace `{name}` is deleted ({why}): Kubernetes deletes everything \
                         in it, and {what}"
                    ),
                    removal_at.clone(),
                );
                if head.is_some() {
                    change.notes.push(
                        "the object is applied again once the Namespace is: a new, empty resource"
                            .to_string(),
                    );
                }
                self.record(key.clone(), change);
            }
        }
    }

    /// Other resources of the head with Azure identity `id`: an adoption, or two clusters
    /// managing one resource.
    fn same_azure_resource(&self, key: &Key, id: &str, writes: Policy) -> Vec<String> {
        self.head
            .by_key
            .iter()
            .filter(|(k, at)| *k != key && self.head.azure[at[0]].as_deref() == Some(id))
            .map(|(_, at)| {
                let o = &self.head.entries[at[0]];
                format!(
                    "the same Azure resource is {} by {} {} in {} ({}:{}){}",
                    match o.policy {
                        Policy::Skip => "read (skip)",
                        _ => "managed",
                    },
                    o.kind,
                    name_of(o),
                    cluster_of(o),
                    o.written_at.path.display(),
                    o.written_at.line,
                    // Two writers only when neither reads alone.
                    if o.policy == Policy::Skip || writes == Policy::Skip {
                        ""
                    } else {
                        ": two objects writing one resource (active-active)"
                    }
                )
            })
            .collect()
    }

    /// Deleting an owner deletes its children: in Azure with the owner when the owner is
    /// deleted, through Kubernetes' ownerReferences (each by its own policy) when it is only
    /// detached.
    fn cascade(&mut self) {
        // (owner, whether it is deleted in Azure, the change that removes it, as messages
        // name it, and where that change is caused).
        let mut queue: Vec<(Key, bool, String, (Location, Side))> = Vec::new();
        for (k, c) in &self.changes {
            let destroyed = c.class != Class::Detach;
            let removed = match c.class {
                Class::Delete | Class::Detach => Some(k.clone()),
                // A replace is keyed by the new object, or by the one object both revisions
                // have when it is deleted and applied again: the old object is the owner that
                // goes.
                Class::Replace if self.base.by_key.contains_key(k) => Some(k.clone()),
                Class::Replace => self
                    .replaced
                    .iter()
                    .find(|(_, new)| *new == k)
                    .map(|(old, _)| old.clone()),
                _ => None,
            };
            if let Some(owner) = removed.filter(|o| self.base.by_key.contains_key(o)) {
                let e = &self.base.entries[self.base.by_key[&owner][0]];
                let name = format!("{} {}", e.kind, name_of(e));
                queue.push((owner, destroyed, name, (c.at.clone(), c.side)));
            }
        }
        let mut children_of: HashMap<usize, Vec<usize>> = HashMap::new();
        for (c, owner) in self.base.owner_of.iter().enumerate() {
            if let Some(owner) = owner {
                children_of.entry(*owner).or_default().push(c);
            }
        }
        let mut seen: HashSet<Key> = HashSet::new();
        while let Some((owner, destroyed, owner_name, cause_at)) = queue.pop() {
            if !seen.insert(owner.clone()) {
                continue;
            }
            let children: Vec<usize> = self.base.by_key[&owner]
                .iter()
                .flat_map(|o| children_of.get(o).into_iter().flatten().copied())
                .collect();
            for c in children {
                let child = &self.base.entries[c];
                let child_key = key(child);
                let child_name = format!("{} {}", child.kind, name_of(child));
                let head_entry = self
                    .head
                    .by_key
                    .get(&child_key)
                    .map(|at| &self.head.entries[at[0]]);
                // A child moved with its owner is reported once, as its replacement.
                if head_entry.is_none() && self.replaced.contains_key(&child_key) {
                    queue.push((child_key, true, child_name, cause_at.clone()));
                    continue;
                }
                let policy = self.base.policy(&self.base.by_key[&child_key]);
                let (class, cause) = if destroyed {
                    (
                        Class::Delete,
                        format!(
                            "its owner {owner_name} is deleted in Azure, and the resource with it"
                        ),
                    )
                } else if policy == Policy::Manage {
                    (
                        Class::Delete,
                        format!(
                            "its owner {owner_name} is deleted from the cluster: Kubernetes \
                             deletes this object with it (ownerReferences), and its policy \
                             `manage` has ASO delete the Azure resource"
                        ),
                    )
                } else {
                    (
                        Class::Detach,
                        format!(
                            "its owner {owner_name} is deleted from the cluster: Kubernetes \
                             deletes this object with it, and its policy `{}` leaves the Azure \
                             resource",
                            policy.as_str()
                        ),
                    )
                };
                // Placed where its owner's change is caused; where it is written is a note.
                let written = head_entry.map_or(&child.written_at, |h| &h.written_at);
                let mut change = self.change(
                    class,
                    head_entry.unwrap_or(child),
                    self.base.azure[c].clone(),
                    (Some(policy), head_entry.map(|h| h.policy)),
                    cause,
                    cause_at.clone(),
                );
                change.notes.push(format!(
                    "written at {}:{}{}",
                    written.path.display(),
                    written.line,
                    if head_entry.is_some() {
                        ""
                    } else {
                        " (in the base)"
                    }
                ));
                self.record(child_key.clone(), change);
                queue.push((
                    child_key,
                    class == Class::Delete,
                    child_name,
                    cause_at.clone(),
                ));
            }
        }
    }

    /// Where a removal is caused: the head's kustomization nearest the object's file (the
    /// one that dropped it), else the object's file if the head still has it, else its applier
    /// if the head still has that, else the object in the base.
    fn removal_at(&self, b: &Entry) -> (Location, Side) {
        let root = &self.settings.root;
        let tree = self.head.index.tree();
        let file = root.join(&b.written_at.path);
        for dir in file.ancestors().skip(1) {
            if !dir.starts_with(root) {
                break;
            }
            for name in ["kustomization.yaml", "kustomization.yml", "Kustomization"] {
                let path = dir.join(name);
                if tree.exists(&path) && tree.read(&path).is_some() {
                    let line = tree
                        .read(&path)
                        .and_then(|t| {
                            t.lines()
                                .position(|l| l.starts_with("resources:"))
                                .map(|l| l + 1)
                        })
                        .unwrap_or(1);
                    let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                    return (
                        Location {
                            path: relative,
                            line,
                        },
                        Side::Head,
                    );
                }
            }
        }
        // The file is still there, and nothing applies it any more.
        if tree.exists(&file) {
            return (b.written_at.clone(), Side::Head);
        }
        let applier = root.join(&b.applier_path);
        if applier != file && tree.exists(&applier) {
            return (
                Location {
                    path: b.applier_path.clone(),
                    line: 1,
                },
                Side::Head,
            );
        }
        (b.written_at.clone(), Side::Base)
    }
}

/// Add `note` to a change, unless it says what the change or another note says already (one
/// resource reached twice: applied by two appliers, or a child of an owner written twice).
fn add_note(change: &mut Change, note: String) {
    if note != change.cause && !change.notes.contains(&note) {
        change.notes.push(note);
    }
}

/// Whether a value holds a Flux variable the repository does not resolve.
fn is_unresolved(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.contains("${"))
}

/// What moved between two Kubernetes identities of one resource.
fn moved(b: &Entry, h: &Entry) -> String {
    let mut what = Vec::new();
    if b.cluster != h.cluster {
        what.push(format!("moved from {} to {}", cluster_of(b), cluster_of(h)));
    }
    if b.namespace != h.namespace {
        what.push(format!(
            "moved from namespace `{}` to `{}`",
            b.namespace.as_deref().unwrap_or(""),
            h.namespace.as_deref().unwrap_or("")
        ));
    }
    if b.name != h.name {
        what.push(format!(
            "renamed from `{}` to `{}`",
            b.name.as_deref().unwrap_or("?"),
            h.name.as_deref().unwrap_or("?")
        ));
    }
    if what.is_empty() {
        what.push("applied as another object".to_string());
    }
    what.join(", ")
}
