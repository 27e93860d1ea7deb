//! ASO001 `skip-in-active`: `skip` left on manifests an active cluster applies.

use std::borrow::Cow;

use rustc_hash::{FxHashMap, FxHashSet};

use super::{Checks, FileContext, Likely, Seen};
use crate::config::{Role, Settings};
use crate::fix::Applicability;
use crate::index::{FileId, FixPlan, Index, Instance, Judgement, Origin, OriginKind};
use crate::manifest::{Manifest, Policy, RECONCILE_POLICY};
use crate::registry::Rule;
use crate::span::Span;

pub(super) const SUMMARY: &str = "An ASO resource in an active cluster has reconcile-policy `skip`, so ASO never creates, updates or deletes it";

pub(super) const DOC: &str = r#"## What it does
Finds ASO resources whose effective `serviceoperator.azure.com/reconcile-policy` is `skip`
where an active cluster applies them, and that are not read-only references. The finding is
reported where the `skip` is written: the resource's own annotation, a Kustomize
`commonAnnotations` or patch, a Flux Kustomization's `spec.commonMetadata`, an ArgoCD
`managedNamespaceMetadata`, or the Namespace object the resource inherits it from. Every path
is active unless `.asoguard.yaml` puts it in a `passive` cluster; a resource rendered by a
kustomization, Flux Kustomization or ArgoCD Application belongs to the cluster of that file
(or, when that file is in no configured cluster, to the cluster of the directory it renders).

## Why is this bad
With `skip`, ASO only reads the Azure resource: it never creates it, never applies changes
to it, and never deletes it. `skip` belongs on the *source* side of a migration and on the
*passive* side of an active-passive pair. Left behind on the cluster that is meant to own the
resource (after a migration or a failover), every change in Git is silently ignored and the
resource drifts. ASO's FAQ: annotate the old cluster's copies with `skip`, apply to the new
cluster **without** `skip`; on failover, remove `skip` from the passive cluster.

## A `skip` that is a reference
ASO's adoption ADR names a second purpose of `skip`: declaring a resource that another tool
(Terraform, the portal, `az`) made and manages, so that ASO-managed resources can name it as
their owner, or so that its values can be exported to workloads. Such a `skip` is intended in
an active cluster. asoguard tells the two apart from what the repository renders:

- a `skip` resource that owns at least one ASO resource without `skip` (its `spec.owner.name`,
  in the same cluster and namespace) is a reference;
- a `skip` resource that exports values through `spec.operatorSpec` (`configMaps` or
  `secrets`) is a reference;
- any other `skip` in an active cluster is reported: it reads as a migration or failover left
  half done. A `skip` a resource inherits from its Namespace (or an ArgoCD managed namespace)
  is never a reference: a Namespace-wide `skip` is the FAQ's switch for moving a whole
  namespace, and a reference is declared on the resource, or by the kustomization or patch
  that renders it.

A reference whose children are not in the repository yet (or that is referenced by ARM ID)
cannot be recognised; say so where it is written, with the reason kept:

```yaml
metadata:
  name: shared-identity
  annotations:
    # asoguard: ignore[skip-in-active] -- owned by Terraform (infra/identity.tf), read-only
    serviceoperator.azure.com/reconcile-policy: skip
```

## Example
```yaml
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: prod-rg
  annotations:
    serviceoperator.azure.com/reconcile-policy: skip
spec:
  location: westeurope
```

Use instead, when this cluster should own the resource:
```yaml
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: prod-rg
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
spec:
  location: westeurope
```

## Fix
Where the `skip` is written. On the resource (or a patch file): for a critical kind the value
becomes `detach-on-delete` (management on, deletion protection kept); for any other kind the
annotation is removed (ASO's default, `manage`). On a Namespace or ArgoCD managed namespace:
`detach-on-delete`. In `commonAnnotations` or `spec.commonMetadata`: the entry is removed, so
each resource's own policy applies again. Inline patches are not fixed. If the `skip` is
deliberate, mark the path passive in `.asoguard.yaml`
(`clusters: {dr: {paths: ["clusters/dr/**"], role: passive}}`), or suppress the finding with
its reason.

## Fix safety
Unsafe. Removing `skip` makes ASO start writing to the Azure resource, and with `manage`,
delete it when the object goes. If the `skip` was left behind by a migration or failover that
is what you want; if another tool (Terraform, the portal) owns the resource, or another cluster
is still active for it, the fix would start the very fight between two owners that `skip`
prevents. Only a person knows which case it is, so `--fix` never removes a `skip` on its own.

## Source
ASO `guide/annotations.md` (reconcile-policy), ASO FAQ "How can I migrate resources between
clusters?" and the active-passive guidance; `v2/internal/reconcilers/reconcile_policy.go`;
ASO's adoption ADR, `design/adr-2023-02-adoption-policy` (`skip` for references).
"#;

/// SkipInActive's checks, for the rule registry.
pub(super) struct SkipInActive;

impl Checks for SkipInActive {
    fn likely(&self, cx: &FileContext, doc: usize, manifest: &Manifest) -> Option<Likely> {
        likely(cx, doc, manifest)
    }

    fn judge(&self, index: &Index, settings: &Settings, out: &mut Vec<(FileId, Judgement)>) {
        judge(index, settings, out);
    }
}

/// The judgement this rule most likely files on a document once the index is built: on an ASO
/// resource with its own `skip`, which outside a passive cluster is always reported. For a kind
/// that is not critical the fix is `RemovePolicy`, which needs the document's tree: a `skip` is
/// rare, so the first pass prepares it while it holds the tree. A critical one's value is
/// replaced from the facts.
pub(super) fn likely(cx: &FileContext, doc: usize, manifest: &Manifest) -> Option<Likely> {
    manifest.kind?;
    let own = manifest.annotation(RECONCILE_POLICY)?.value.as_str()?;
    if Policy::parse(own) != Some(Policy::Skip) || !manifest.is_aso() {
        return None;
    }
    Some(if cx.is_critical(manifest) {
        Likely::Judged
    } else {
        Likely::Fix(FixPlan::RemovePolicy { doc })
    })
}

/// The ASO resources some ASO resource without `skip` names as its owner, by cluster,
/// namespace and name: a `skip` parent of a managed child is a read-only reference.
fn managed_owners(index: &Index) -> FxHashSet<(Option<usize>, Option<&str>, Cow<'_, str>)> {
    index
        .instances
        .iter()
        .filter(|child| child.aso)
        .filter_map(|child| {
            let owner = index.owner(child)?;
            (index.effective(child).0 != Policy::Skip).then(|| {
                let cluster = index.contexts[child.context].cluster;
                (cluster, child.namespace.as_deref(), owner)
            })
        })
        .collect()
}

/// Whether a `skip` instance is a read-only reference: it exports values through
/// `spec.operatorSpec`, or a managed ASO resource of its cluster and namespace names it as
/// its owner.
fn is_reference(
    index: &Index,
    owners: &FxHashSet<(Option<usize>, Option<&str>, Cow<'_, str>)>,
    instance: &Instance,
) -> bool {
    let object = index.object(instance);
    if object.exports {
        return true;
    }
    let cluster = index.contexts[instance.context].cluster;
    let namespace = instance.namespace.as_deref();
    [instance.name.as_deref(), object.name.as_deref()]
        .into_iter()
        .flatten()
        .any(|name| owners.contains(&(cluster, namespace, Cow::Borrowed(name))))
}

pub(super) fn judge(index: &Index, settings: &Settings, out: &mut Vec<(FileId, Judgement)>) {
    let owners = managed_owners(index);
    // Instances whose effective `skip` comes from one place, counted per place; references
    // are not counted, and a place whose every instance is one is not reported.
    let mut by_origin: FxHashMap<(FileId, Span), (&Instance, Origin, usize)> = FxHashMap::default();
    for instance in &index.instances {
        if !instance.aso || index.contexts[instance.context].role != Role::Active {
            continue;
        }
        let (policy, Some(origin)) = index.effective(instance) else {
            continue;
        };
        // A reference is declared on the resource (or by what renders it); a Namespace-wide
        // `skip` is the FAQ's migration and failover switch, never a reference.
        let namespace_wide = matches!(
            origin.kind,
            OriginKind::Namespace | OriginKind::ArgoNamespace
        );
        if policy != Policy::Skip || !namespace_wide && is_reference(index, &owners, instance) {
            continue;
        }
        by_origin
            .entry((origin.file, origin.entry))
            .or_insert((instance, origin, 0))
            .2 += 1;
    }
    let mut found: Vec<_> = by_origin.into_values().collect();
    found.sort_by_key(|(_, origin, _)| (origin.file, origin.entry));
    for (instance, origin, count) in found {
        let seen = Seen::of(index, instance);
        let place = seen.place(index, settings);
        let critical = instance.critical;
        let detach = |title: &str| {
            Some((
                title.to_string(),
                Applicability::Unsafe,
                FixPlan::ReplaceValue {
                    span: origin.value,
                    value: Policy::DetachOnDelete.as_str().into(),
                },
            ))
        };
        let remove_at = |path: Vec<&'static str>| {
            Some((
                "Remove the `skip` reconcile-policy".to_string(),
                Applicability::Unsafe,
                FixPlan::RemoveEntryAt {
                    doc: origin.doc,
                    path,
                    key: RECONCILE_POLICY.into(),
                },
            ))
        };
        let others = if count > 1 {
            format!(
                " and {} more {}",
                count - 1,
                crate::wording::noun_for(count - 1, "ASO resource")
            )
        } else {
            String::new()
        };
        let (message, fix) = match origin.kind {
            OriginKind::Own | OriginKind::PatchFile => (
                format!(
                    "{} has reconcile-policy `skip` in {place}{}: ASO never creates, updates or deletes it",
                    seen.label(),
                    if origin.kind == OriginKind::PatchFile {
                        ", set by this patch"
                    } else {
                        ""
                    }
                ),
                if critical {
                    detach("Replace `skip` with `detach-on-delete`")
                } else {
                    Some((
                        "Remove the `skip` reconcile-policy".to_string(),
                        Applicability::Unsafe,
                        FixPlan::RemovePolicy { doc: origin.doc },
                    ))
                },
            ),
            OriginKind::Namespace | OriginKind::ArgoNamespace => (
                format!(
                    "this namespace-level reconcile-policy `skip` applies in {place}: ASO resources of the namespace inherit it ({}{others}) and are never created, updated or deleted",
                    seen.label()
                ),
                detach("Replace `skip` with `detach-on-delete` on the namespace"),
            ),
            OriginKind::Common => (
                format!(
                    "commonAnnotations sets reconcile-policy `skip` on {}{others} in {place}: ASO never creates, updates or deletes {}",
                    seen.label(),
                    crate::wording::agree(count, "it", "them")
                ),
                remove_at(vec!["commonAnnotations"]),
            ),
            OriginKind::Flux => (
                format!(
                    "spec.commonMetadata sets reconcile-policy `skip` on {}{others} in {place}: ASO never creates, updates or deletes {}",
                    seen.label(),
                    crate::wording::agree(count, "it", "them")
                ),
                remove_at(vec!["spec", "commonMetadata", "annotations"]),
            ),
            OriginKind::JsonPatch => (
                format!(
                    "this patch sets reconcile-policy `skip` on {}{others} in {place}: ASO never creates, updates or deletes {}",
                    seen.label(),
                    crate::wording::agree(count, "it", "them")
                ),
                detach("Replace `skip` with `detach-on-delete`"),
            ),
            OriginKind::InlinePatch => (
                format!(
                    "this inline patch sets reconcile-policy `skip` on {}{others} in {place}: ASO never creates, updates or deletes {}",
                    seen.label(),
                    crate::wording::agree(count, "it", "them")
                ),
                None,
            ),
        };
        out.push((
            origin.file,
            Judgement {
                rule: Rule::SkipInActive,
                span: origin.entry,
                message,
                help: Some("remove `skip` where this cluster should own the resource, or mark the path passive in .asoguard.yaml".into()),
                severity: None,
                fix,
                object: Some(seen.object_ref()),
                related: Vec::new(),
            },
        ));
    }
}
