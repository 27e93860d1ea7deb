//! ASO003 `missing-detach-on-delete`: a critical ASO resource that deleting in Kubernetes
//! would delete in Azure.

use super::{FileContext, Fixability, PolicySource, RuleMeta};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::Fix;
use crate::manifest::{DeclaredPolicy, Manifest, Policy, RECONCILE_POLICY};
use crate::rules::{Rule, object_span};
use crate::yaml::edit;

pub(super) const META: RuleMeta = RuleMeta {
    code: "ASO003",
    name: "missing-detach-on-delete",
    severity: Severity::Error,
    fixable: Fixability::Always,
    summary: "A critical ASO resource (resource group, database, vault, storage, cluster...) is not protected by `detach-on-delete`",
    doc: r#"## What it does
Finds ASO resources of a critical kind whose effective reconcile policy is `manage`: no
annotation (ASO's default), an explicit `manage`, or `manage` inherited from their Namespace.
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
Safe. Sets the annotation to `detach-on-delete`: an explicit `manage` is replaced in place;
otherwise the annotation is added as the last entry of `metadata.annotations`, creating
`annotations` when it is missing. Values that are not valid policies are left to ASO004.

## Source
ASO `guide/annotations.md` (reconcile-policy: `detach-on-delete` leaves the Azure resource on
delete); ASO best practices ("deletion protection"); ASO FAQ on moving resources.
"#,
};

pub(super) fn check(cx: &FileContext, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    if !cx.is_critical(manifest) || matches!(manifest.declared_policy(), DeclaredPolicy::Invalid(_))
    {
        return;
    }
    let effective = cx.effective_policy(manifest);
    if effective.policy != Policy::Manage {
        return;
    }
    let kind = manifest.kind.unwrap_or("resource");
    let name = manifest.name_str().unwrap_or("?");
    let why = match &effective.source {
        PolicySource::Own => "its reconcile-policy is `manage`".to_string(),
        PolicySource::Namespace(ns) => {
            format!("it inherits reconcile-policy `manage` from Namespace `{ns}`")
        }
        PolicySource::Default => {
            "it has no reconcile-policy, so ASO's default `manage` applies".to_string()
        }
    };
    let fix = edit::set_annotation(
        &cx.source.text,
        manifest.root,
        RECONCILE_POLICY,
        Policy::DetachOnDelete.as_str(),
    )
    .map(|e| Fix::safe("Set reconcile-policy to `detach-on-delete`", vec![e]));
    out.push(
        Diagnostic::new(
            Rule::MissingDetachOnDelete,
            object_span(manifest),
            format!("{kind} `{name}` is a critical kind and {why}: deleting the object in Kubernetes deletes the Azure resource and its data"),
        )
        .with_help("add `serviceoperator.azure.com/reconcile-policy: detach-on-delete`")
        .with_fix(fix)
        .with_object(manifest),
    );
}
