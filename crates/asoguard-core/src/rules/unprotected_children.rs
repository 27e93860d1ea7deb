//! ASO010 `unprotected-children`: `manage` children under a protected ASO parent.

use std::borrow::Cow;

use rustc_hash::{FxHashMap, FxHashSet};

use super::{Checks, Seen};
use crate::catalog;
use crate::fix::Applicability;
use crate::index::{FileId, FixPlan, Index, Instance, Judgement};
use crate::manifest::Policy;
use crate::registry::Rule;
use crate::config::Settings;

pub(super) const SUMMARY: &str = "A parent with `detach-on-delete` has ASO children that `manage` their Azure resources";

pub(super) const DOC: &str = r#"## What it does
Finds ASO resources whose effective policy is `manage` while their owner (`spec.owner.name`, an
ASO resource of the same namespace in the same rendering) is protected with
`detach-on-delete`. Critical kinds are left to ASO003; kinds Azure cannot delete, and kinds
that grant access (role assignments, federated identity credentials, database users and
administrators, firewall and shared access rules) are never reported: when their parent goes,
their grant should go too. Children of a `skip` parent are not reported either: a `skip` parent
is a read-only reference (or a passive copy), and its children going with it is by design.

This rule is **opt-in**: it runs only when selected (`--select ASO010`) or given a severity in
`.asoguard.yaml` (`rules: {ASO010: {severity: warning}}`). Protecting a parent is what ASO003
asks for, and every child of a freshly protected parent would then be reported: a rule that
fires because another rule's fix was applied keeps a repository red after `--fix`.

## Why is this bad
ASO sets Kubernetes ownerReferences from `spec.owner`. Deleting the parent object (or its
namespace, or the Application that applies it) makes Kubernetes delete every child object, and
each child with `manage` sends its own Azure DELETE. `detach-on-delete` on a ResourceGroup keeps
the group, but not the databases, caches or subnets inside it that ASO manages.

## Example
```yaml
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: prod-rg
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
---
apiVersion: network.azure.com/v1api20201101
kind: NetworkSecurityGroup
metadata:
  name: prod-nsg
spec:
  owner:
    name: prod-rg
```

Use instead: give the child `serviceoperator.azure.com/reconcile-policy: detach-on-delete` too.

## Fix
Sets `detach-on-delete` on the child.

## Fix safety
Unsafe. `detach-on-delete` on the child means that deleting the child's manifest on its own
no longer deletes its Azure resource, which may not be what was meant.

## Source
ASO `guide/annotations.md` (reconcile-policy) and its owner/ownerReferences handling
(`spec.owner`); ASO's adoption ADR (`design/adr-2023-02-adoption-policy`) on `skip` parents.
"#;

/// UnprotectedChildren's checks, for the rule registry.
pub(super) struct UnprotectedChildren;

impl Checks for UnprotectedChildren {
    fn judge(&self, index: &Index, _: &Settings, out: &mut Vec<(FileId, Judgement)>) {
        judge(index, out);
    }
}

pub(super) fn judge(index: &Index, out: &mut Vec<(FileId, Judgement)>) {
    let undeletable = catalog::no_azure_delete_kinds();
    // The children this rule can report: ASO resources with an owner, of a kind neither
    // critical (ASO003's) nor left in Azure when deleted, effectively `manage`.
    let children: Vec<(&Instance, Cow<str>)> = index
        .instances
        .iter()
        .filter(|child| child.aso && !child.critical && index.effective(child).0 == Policy::Manage)
        .filter_map(|child| {
            let object = index.object(child);
            let owner = index.owner(child)?;
            let deletable = !undeletable
                .iter()
                .any(|gk| gk.kind == object.kind && gk.group == object.group);
            // A grant should go with its parent: never propose keeping it in Azure.
            let grant = catalog::grants_access(&object.group, &object.kind);
            (deletable && !grant).then_some((child, owner))
        })
        .collect();
    if children.is_empty() {
        return;
    }
    // Their possible parents: the ASO resources some child names as its owner.
    let owners: FxHashSet<(usize, Option<&str>, &str)> = children
        .iter()
        .map(|(child, owner)| (child.context, child.namespace.as_deref(), owner.as_ref()))
        .collect();
    let mut by_name: FxHashMap<(usize, Option<&str>, &str), Vec<&Instance>> =
        FxHashMap::with_capacity_and_hasher(owners.len(), Default::default());
    // A parent is found by its name as written or as applied (Flux variables substituted).
    for instance in index.instances.iter().filter(|i| i.aso) {
        let written = index.object(instance).name.as_deref();
        let applied = instance.name.as_deref().filter(|n| Some(*n) != written);
        for name in [written, applied].into_iter().flatten() {
            let key = (instance.context, instance.namespace.as_deref(), name);
            if owners.contains(&key) {
                by_name.entry(key).or_default().push(instance);
            }
        }
    }
    for (child, owner) in &children {
        let child: &Instance = child;
        let object = index.object(child);
        let Some(candidates) =
            by_name.get(&(child.context, child.namespace.as_deref(), owner.as_ref()))
        else {
            continue;
        };
        // The owner kind is fixed by the child's CRD; prefer the kind the child's name extends
        // (`FlexibleServer` for `FlexibleServersDatabase`), then a ResourceGroup.
        let parent = candidates
            .iter()
            .filter(|p| !std::ptr::eq(**p, child))
            .max_by_key(|p| {
                let kind = &index.object(p).kind;
                (object.kind.starts_with(kind.as_str()) as u8) * 2 + (kind == "ResourceGroup") as u8
            });
        let Some(parent) = parent else { continue };
        // Only a `detach-on-delete` parent is protected: a `skip` parent is a reference (or a
        // passive copy), and its children going with it is by design.
        let (parent_policy, _) = index.effective(parent);
        if parent_policy != Policy::DetachOnDelete {
            continue;
        }
        let seen = Seen::of(index, child);
        let parent_seen = Seen::of(index, parent);
        out.push((
            child.file,
            Judgement {
                rule: Rule::UnprotectedChildren,
                span: object.name_span,
                message: format!(
                    "{} is owned by {}, which has reconcile-policy `{}`, but it has `manage`: deleting the parent object deletes this child, and its Azure resource with it",
                    seen.label(),
                    parent_seen.label(),
                    parent_policy.as_str()
                ),
                help: Some("set `detach-on-delete` on the children of protected resources".into()),
                severity: None,
                fix: Some((
                    "Set reconcile-policy to `detach-on-delete`".into(),
                    Applicability::Unsafe,
                    FixPlan::SetPolicy { doc: object.doc, policy: Policy::DetachOnDelete },
                )),
                object: Some(seen.object_ref()),
                related: vec![index.related(parent.file, parent_seen.object.name_span, "the protected parent".into())],
            },
        ));
    }
}
