//! ASO003 `missing-detach-on-delete`: a critical ASO resource that deleting in Kubernetes
//! would delete in Azure.

use super::{Checks, FileContext, Seen};
use crate::config::Role;
use crate::fix::Applicability;
use crate::index::{FileId, FixPlan, Index, Judgement, Origin, OriginKind};
use crate::manifest::{Manifest, Policy, RECONCILE_POLICY};
use crate::registry::Rule;
use crate::rules::Likely;
use crate::config::Settings;

pub(super) const SUMMARY: &str = "A critical ASO resource (resource group, database, vault, storage, cluster...) is not protected by `detach-on-delete`";

pub(super) const DOC: &str = r#"## What it does
Finds ASO resources of a critical kind whose effective reconcile policy is `manage` where an
active cluster applies them: no annotation (ASO's default), an explicit `manage`, `manage`
inherited from their Namespace, or `manage` set by a Kustomize patch, `commonAnnotations` or a
Flux `spec.commonMetadata`. A resource is judged as GitOps renders it: a base without the
annotation is fine when the overlay that applies it adds `detach-on-delete`, and a patch file is
judged merged into its base. When a Flux Kustomization with `prune: true` applies it, the
message says so.
Critical kinds are those whose deletion destroys data or many resources: resource groups,
subscriptions, storage accounts and containers, key vaults, database servers and databases,
Cosmos accounts, caches, AKS and ARO clusters, registries, disks and VMs, backup vaults,
messaging namespaces, networks and DNS zones, identities, log and telemetry workspaces.
Extend or trim the list with `critical-kinds: {add: [...], remove: [...]}` in `.asoguard.yaml`.

## Why is this bad
With `manage`, deleting the Kubernetes object sends a DELETE to Azure. In a GitOps repo that
happens more easily than anyone intends: a file removed or renamed with pruning on, a deleted
Namespace, a deleted ArgoCD Application or Flux Kustomization. For a resource group the Azure
DELETE cascades to everything inside it, ASO-managed or not. `detach-on-delete` keeps ASO
creating and updating the resource, but a Kubernetes delete leaves it in Azure.

Samples, demos and test environments often rely on deleting the namespace to clean up Azure:
there, protection is a choice, not a defect. Say so once in `.asoguard.yaml`, for the paths
it holds for, rather than annotating every resource:

```yaml
per-file-ignores:
  "samples/**": [ASO003]
```

## Example
```yaml
apiVersion: dbforpostgresql.azure.com/v1api20221201
kind: FlexibleServer
metadata:
  name: orders-db
  namespace: prod
spec:
  location: westeurope
```

Use instead:
```yaml
apiVersion: dbforpostgresql.azure.com/v1api20221201
kind: FlexibleServer
metadata:
  name: orders-db
  namespace: prod
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
spec:
  location: westeurope
```

## Fix
Safe. Sets the annotation to `detach-on-delete` where the `manage` comes from: on the resource
(an explicit `manage` is replaced in place; otherwise the annotation is added as the last entry
of `metadata.annotations`, creating `annotations` when it is missing), or in the patch,
`commonAnnotations` or `spec.commonMetadata` that sets `manage`. Values that are not valid
policies are left to ASO004; inline patches are not fixed.

## Fix safety
Safe: `detach-on-delete` only takes Azure DELETEs away, and ASO keeps writing as it did under
`manage`. One case is unsafe: when the same object is also applied where it inherits `skip`
from its Namespace (a passive cluster, say), an annotation on the object would override that
`skip` there and make ASO start writing; the fix is then offered as unsafe, and the better fix
is in the active overlay.

## Source
ASO `guide/annotations.md` (reconcile-policy: `detach-on-delete` leaves the Azure resource on
delete); ASO best practices ("deletion protection"); ASO FAQ on moving resources.
"#;

/// MissingDetachOnDelete's checks, for the rule registry.
pub(super) struct MissingDetachOnDelete;

impl Checks for MissingDetachOnDelete {
    fn likely(&self, cx: &FileContext, doc: usize, manifest: &Manifest) -> Option<Likely> {
        likely(cx, doc, manifest)
    }

    fn judge(&self, index: &Index, _: &Settings, out: &mut Vec<(FileId, Judgement)>) {
        judge(index, out);
    }
}

/// The judgement this rule most likely files on a document once the index is built: on a
/// critical ASO resource whose own reconcile-policy is `manage` or none, unless an overlay,
/// Namespace or app protects it. On a repository not yet protected that is most of its critical
/// objects. Without a policy of its own, the fix (`SetPolicy(detach-on-delete)`) needs the
/// document's tree: the first pass prepares it while it holds the tree. An own `manage` is
/// replaced from the facts.
pub(super) fn likely(cx: &FileContext, doc: usize, manifest: &Manifest) -> Option<Likely> {
    if !cx.is_critical(manifest) {
        return None;
    }
    match manifest.annotation(RECONCILE_POLICY) {
        None => Some(Likely::Fix(FixPlan::SetPolicy {
            doc,
            policy: Policy::DetachOnDelete,
        })),
        Some(own) => {
            let value = own.value.as_str().filter(|_| !own.value.is_null());
            matches!(value.map(Policy::parse), None | Some(Some(Policy::Manage)))
                .then_some(Likely::Judged)
        }
    }
}

pub(super) fn judge(index: &Index, out: &mut Vec<(FileId, Judgement)>) {
    for instance in &index.instances {
        if !instance.critical || index.contexts[instance.context].role == Role::Passive {
            continue;
        }
        let seen = Seen::of(index, instance);
        let object = seen.object;
        let (policy, origin) = index.effective(instance);
        if policy != Policy::Manage {
            continue;
        }
        // An invalid own value is ASO004's to report.
        if let (Some(o), Some((value, _))) = (origin, &instance.policy) {
            if Policy::parse(value).is_none() && matches!(o.kind, OriginKind::Own) {
                continue;
            }
        }
        let pruned = match seen.context.kind {
            _ if !seen.context.prune => "",
            crate::index::ContextKind::Argo => ", and ArgoCD prunes this path (automated prune)",
            _ => ", and Flux prunes this path",
        };
        let place = match seen.context.kind {
            crate::index::ContextKind::Standalone => String::new(),
            _ => format!(" (as applied by {})", index.describe_context(seen.context)),
        };
        let set_on_object = || {
            // An own annotation overrides a Namespace's: where the same object inherits `skip`
            // from its Namespace (a passive cluster), it would make ASO start writing there.
            let overrides_skip = index.instances_of(instance.file, object.doc).any(|other| {
                matches!(
                    index.effective(other),
                    (
                        Policy::Skip,
                        Some(Origin {
                            kind: OriginKind::Namespace | OriginKind::ArgoNamespace,
                            ..
                        })
                    )
                )
            });
            Some(if overrides_skip {
                (
                    "Set reconcile-policy to `detach-on-delete` (it would override a Namespace's `skip` where this object is also applied)".to_string(),
                    Applicability::Unsafe,
                    FixPlan::SetPolicy {
                        doc: object.doc,
                        policy: Policy::DetachOnDelete,
                    },
                )
            } else {
                (
                    "Set reconcile-policy to `detach-on-delete`".to_string(),
                    Applicability::Safe,
                    FixPlan::SetPolicy {
                        doc: object.doc,
                        policy: Policy::DetachOnDelete,
                    },
                )
            })
        };
        let (file, span, why, fix) = match origin {
            None => (
                instance.file,
                object.name_span,
                "it has no reconcile-policy, so ASO's default `manage` applies".to_string(),
                set_on_object(),
            ),
            Some(o) => match o.kind {
                OriginKind::Own => (
                    instance.file,
                    object.name_span,
                    "its reconcile-policy is `manage`".to_string(),
                    set_on_object(),
                ),
                OriginKind::Namespace | OriginKind::ArgoNamespace => (
                    instance.file,
                    object.name_span,
                    format!(
                        "it inherits reconcile-policy `manage` from Namespace `{}`",
                        instance.namespace.as_deref().unwrap_or("?")
                    ),
                    set_on_object(),
                ),
                OriginKind::InlinePatch => (
                    o.file,
                    o.entry,
                    "an inline patch sets its reconcile-policy to `manage`".to_string(),
                    None,
                ),
                _ => (
                    o.file,
                    o.entry,
                    "this sets its reconcile-policy to `manage`".to_string(),
                    Some((
                        "Set reconcile-policy to `detach-on-delete`".to_string(),
                        Applicability::Safe,
                        FixPlan::ReplaceValue {
                            span: o.value,
                            value: Policy::DetachOnDelete.as_str().into(),
                        },
                    )),
                ),
            },
        };
        out.push((
            file,
            Judgement {
                rule: Rule::MissingDetachOnDelete,
                span,
                message: format!(
                    "{} is a critical kind and {why}{place}: deleting the object in Kubernetes deletes the Azure resource and its data{pruned}",
                    seen.label()
                ),
                help: Some("add `serviceoperator.azure.com/reconcile-policy: detach-on-delete`".into()),
                severity: None,
                fix,
                object: Some(seen.object_ref()),
                related: Vec::new(),
            },
        ));
    }
}
