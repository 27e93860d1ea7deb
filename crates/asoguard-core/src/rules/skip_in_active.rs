//! ASO001 `skip-in-active`: `skip` left on manifests an active cluster applies.

use super::{FileContext, Fixability, RuleMeta};
use crate::config::Role;
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::Fix;
use crate::manifest::{DeclaredPolicy, Manifest, Policy, RECONCILE_POLICY};
use crate::rules::Rule;
use crate::yaml::edit;

pub(super) const META: RuleMeta = RuleMeta {
    code: "ASO001",
    name: "skip-in-active",
    severity: Severity::Error,
    fixable: Fixability::Always,
    summary: "An ASO resource in an active cluster has reconcile-policy `skip`, so ASO never creates, updates or deletes it",
    doc: r#"## What it does
Finds ASO resources whose `serviceoperator.azure.com/reconcile-policy` is `skip` in the
manifests of an active cluster, and Namespace objects in an active cluster whose `skip`
annotation is inherited by ASO resources that set no policy of their own. Every path is
active unless `.asoguard.yaml` puts it in a `passive` cluster.

## Why is this bad
With `skip`, ASO only reads the Azure resource: it never creates it, never applies changes
to it, and never deletes it. `skip` belongs on the *source* side of a migration and on the
*passive* side of an active-passive pair. Left behind on the cluster that is meant to own the
resource (after a migration or a failover), every change in Git is silently ignored and the
resource drifts. ASO's FAQ: annotate the old cluster's copies with `skip`, apply to the new
cluster **without** `skip`; on failover, remove `skip` from the passive cluster.

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

Use instead:
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
Safe. For a critical kind (and for a Namespace), the value becomes `detach-on-delete`:
management is turned on and deletion protection is kept. For any other kind the annotation
is removed (ASO's default, `manage`). If the skip is deliberate, mark the path passive in
`.asoguard.yaml` (`clusters: {dr: {paths: ["clusters/dr/**"], role: passive}}`).

## Source
ASO `guide/annotations.md` (reconcile-policy), ASO FAQ "How can I migrate resources between
clusters?" and the active-passive guidance; `v2/internal/reconcilers/reconcile_policy.go`.
"#,
};

pub(super) fn check(cx: &FileContext, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    if cx.role != Role::Active || manifest.declared_policy() != DeclaredPolicy::Valid(Policy::Skip)
    {
        return;
    }
    let Some(entry) = manifest.annotation(RECONCILE_POLICY) else {
        return;
    };
    let text = &cx.source.text;
    let span = entry.key.span.cover(entry.value.span);
    let where_ = cx.cluster.map_or_else(
        || "an active cluster".to_string(),
        |c| format!("active cluster `{c}`"),
    );
    let keep_protection = |title: &str| {
        Some(Fix::safe(
            title,
            vec![edit::replace_scalar(
                text,
                &entry.value,
                Policy::DetachOnDelete.as_str(),
            )],
        ))
    };
    if manifest.is_aso() {
        let kind = manifest.kind.unwrap_or("resource");
        let fix = if cx.is_critical(manifest) {
            keep_protection("Replace `skip` with `detach-on-delete`")
        } else {
            edit::remove_annotation(text, manifest.root, RECONCILE_POLICY)
                .map(|edits| Fix::safe("Remove the `skip` reconcile-policy", edits))
        };
        out.push(
            Diagnostic::new(
                Rule::SkipInActive,
                span,
                format!(
                    "{kind} `{}` has reconcile-policy `skip` in {where_}: ASO never creates, updates or deletes it",
                    manifest.name_str().unwrap_or("?")
                ),
            )
            .with_help("remove `skip` where this cluster should own the resource, or mark the path passive in .asoguard.yaml")
            .with_fix(fix)
            .with_object(manifest),
        );
    } else if manifest.is("", "Namespace") {
        let name = manifest.name_str().unwrap_or("?");
        let count = cx.index.unset_aso_in(cx.cluster, name);
        if count == 0 {
            return;
        }
        out.push(
            Diagnostic::new(
                Rule::SkipInActive,
                span,
                format!(
                    "Namespace `{name}` sets reconcile-policy `skip` in {where_}: {count} ASO resource(s) in it inherit it and are never created, updated or deleted"
                ),
            )
            .with_help("remove `skip` from the Namespace where this cluster should own its resources, or mark the path passive in .asoguard.yaml")
            .with_fix(keep_protection("Replace `skip` with `detach-on-delete` on the Namespace"))
            .with_object(manifest),
        );
    }
}
