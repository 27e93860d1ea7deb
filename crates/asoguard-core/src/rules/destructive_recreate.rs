//! ASO007 `destructive-recreate`: ArgoCD `Force=true` or Flux force over ASO resources that a
//! delete would delete in Azure.

use super::{Checks, DocumentNeeds, FileContext, Seen, argocd_replace};
use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Fix};
use crate::index::facts::{Extra, FLUX_FORCE};
use crate::index::{FileId, FixPlan, Index, Instance, Judgement};
use crate::manifest::{ARGOCD_SYNC_OPTIONS, Manifest, Policy};
use crate::registry::Rule;
use crate::yaml::{Entry, edit};
use crate::config::Settings;

const FORCE: &str = "Force=true";

pub(super) const SUMMARY: &str = "ArgoCD `Force=true` or Flux force recreates ASO resources: an Azure DELETE, then a PUT";

pub(super) const DOC: &str = r#"## What it does
Finds options that make GitOps delete and re-create objects, where they reach ASO resources
whose effective policy is `manage` (neither `skip` nor `detach-on-delete`):
- ArgoCD `Force=true` in an ASO resource's `argocd.argoproj.io/sync-options` annotation
  (its own, or one a kustomization's `commonAnnotations`, a patch or a Flux Kustomization's
  `spec.commonMetadata` gives it as rendered, reported where it is written), or in the
  `syncOptions` of an Application or ApplicationSet that applies ASO resources;
- Flux `spec.force: true` on a Kustomization that applies ASO resources, or the annotation
  `kustomize.toolkit.fluxcd.io/force: enabled` on an ASO resource.

## Why is this bad
Recreating an ASO resource is a Kubernetes delete followed by a create. With `manage`, the
delete sends an Azure DELETE: the database, vault or cluster is destroyed, and the create
that follows makes an empty one. Flux forces a recreate whenever an immutable field changes;
ArgoCD's `Force=true` (with `Replace=true`) does it on sync.

## Example
```yaml
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: azure
spec:
  path: ./clusters/prod/azure
  prune: true
  force: true
```

Use instead:
```yaml
spec:
  path: ./clusters/prod/azure
  prune: true
```

## Fix
Unsafe (needs `--unsafe-fixes`): removes the option where it is written (the `Force=true`
item of the annotation, and the annotation entry when nothing else is left). Removing it changes how the deployment
behaves for every object it applies, so asoguard never does it on its own; protecting the ASO
resources with `detach-on-delete` also silences the finding.

## Fix safety
Unsafe. The fix itself removes a destructive option, but that option governs every object the
Application or Flux Kustomization applies, not only the ASO resources: whether the others
need it is a decision for a person.

## Source
ArgoCD sync options (`Force=true`); Flux kustomize-controller (`spec.force`, the
`kustomize.toolkit.fluxcd.io/force` annotation); ASO `guide/annotations.md` (reconcile-policy).
"#;

/// DestructiveRecreate's checks, for the rule registry.
pub(super) struct DestructiveRecreate;

impl Checks for DestructiveRecreate {
    fn check_document(
        &self,
        _: &FileContext,
        _: usize,
        manifest: &Manifest,
        _: &mut Vec<Diagnostic>,
    ) -> DocumentNeeds {
        DocumentNeeds::index_if(applies(manifest))
    }

    fn check_indexed_document(
        &self,
        cx: &FileContext,
        doc: usize,
        manifest: &Manifest,
        needs: DocumentNeeds,
        out: &mut Vec<Diagnostic>,
    ) {
        if needs.index {
            check(cx, doc, manifest, out);
        }
    }

    fn judge(&self, index: &Index, _: &Settings, out: &mut Vec<(FileId, Judgement)>) {
        judge(index, out);
    }
}

/// Whether any context applies this document with policy `manage`.
fn managed(cx: &FileContext, doc: usize) -> bool {
    let policies = cx.effective_policies(doc);
    policies.is_empty() || policies.contains(&Policy::Manage)
}

/// Whether the object carries a force option this rule judges (with the index, since only
/// objects applied with `manage` are at risk).
pub(super) fn applies(manifest: &Manifest) -> bool {
    manifest.is_aso() && (argocd_force(manifest).is_some() || flux_force(manifest).is_some())
}

/// The ArgoCD sync-options annotation, when it holds `Force=true`.
fn argocd_force<'d, 'a>(manifest: &Manifest<'d, 'a>) -> Option<&'d Entry<'a>> {
    manifest.annotation(ARGOCD_SYNC_OPTIONS).filter(|entry| {
        entry
            .value
            .as_str()
            .is_some_and(|v| v.split(',').any(|i| i.trim() == FORCE))
    })
}

/// The Flux force annotation, when it is `enabled`.
fn flux_force<'d, 'a>(manifest: &Manifest<'d, 'a>) -> Option<&'d Entry<'a>> {
    manifest.annotation(FLUX_FORCE).filter(|entry| {
        entry
            .value
            .as_str()
            .is_some_and(|v| v.eq_ignore_ascii_case("enabled"))
    })
}

pub(super) fn check(cx: &FileContext, doc: usize, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    if !manifest.is_aso() || !managed(cx, doc) {
        return;
    }
    let text = &cx.source.text;
    let label = format!(
        "{} `{}`",
        manifest.kind.unwrap_or("resource"),
        manifest.name_str().unwrap_or("?")
    );
    if let Some(entry) = argocd_force(manifest) {
        let edits = edit::remove_annotation_item(text, manifest.root, ARGOCD_SYNC_OPTIONS, FORCE);
        out.push(
            Diagnostic::new(
                Rule::DestructiveRecreate,
                entry.value.span,
                format!("{label} has ArgoCD sync option `Force=true` and reconcile-policy `manage`: a forced recreate deletes the Azure resource"),
            )
            .with_help("remove `Force=true`, or protect the resource with `detach-on-delete`")
            .with_fix(edits.map(|e| Fix::unsafe_("Remove `Force=true`", e)))
            .with_object(manifest),
        );
    }
    if let Some(entry) = flux_force(manifest) {
        out.push(
            Diagnostic::new(
                Rule::DestructiveRecreate,
                entry.key.span.cover(entry.value.span),
                format!("{label} has `{FLUX_FORCE}: enabled` and reconcile-policy `manage`: Flux recreates it on an immutable change, deleting the Azure resource"),
            )
            .with_help("remove the annotation, or protect the resource with `detach-on-delete`")
            .with_fix(edit::remove_annotation(text, manifest.root, FLUX_FORCE).map(|e| Fix::unsafe_("Remove the force annotation", e)))
            .with_object(manifest),
        );
    }
}

/// `Force=true` that lands on ASO resources applied with `manage`, from a kustomization's
/// `commonAnnotations`, a patch or a Flux Kustomization's `commonMetadata`: reported and fixed
/// where it is written.
fn judge_landings(index: &Index, out: &mut Vec<(FileId, Judgement)>) {
    let managed = |i: &Instance| index.effective(i).0 == Policy::Manage;
    for landing in argocd_replace::landings(index, FORCE, managed) {
        let seen = Seen::of(index, landing.instance);
        let others = match landing.count {
            1 => String::new(),
            n => format!(" and {} more ASO resource(s)", n - 1),
        };
        let origin = landing.origin;
        let fix = argocd_replace::remove_option_plan(origin, landing.value, FORCE).map(|plan| {
            (
                "Remove `Force=true`".to_string(),
                Applicability::Unsafe,
                plan,
            )
        });
        out.push((
            origin.file,
            Judgement {
                rule: Rule::DestructiveRecreate,
                span: origin.value,
                message: format!(
                    "{} ArgoCD sync option `Force=true` on {}{others}, applied with reconcile-policy `manage`: a forced recreate deletes the Azure resource",
                    argocd_replace::setter(origin.kind),
                    seen.label()
                ),
                help: Some(
                    "remove `Force=true`, or protect the resources with `detach-on-delete`".into(),
                ),
                severity: None,
                fix,
                object: Some(seen.object_ref()),
                related: Vec::new(),
            },
        ));
    }
}

pub(super) fn judge(index: &Index, out: &mut Vec<(FileId, Judgement)>) {
    judge_landings(index, out);
    // The ASO instances each context applies with `manage`, gathered once.
    let mut managed: Vec<Vec<&Instance>> = vec![Vec::new(); index.contexts.len()];
    // Only an Application or a Flux Kustomization (a context with a document) forces.
    for instance in &index.instances {
        let applied_by_app = index.contexts[instance.context].doc.is_some();
        if applied_by_app && instance.aso && index.effective(instance).0 == Policy::Manage {
            managed[instance.context].push(instance);
        }
    }
    for (context_id, context) in index.contexts.iter().enumerate() {
        let Some(doc) = context.doc else { continue };
        let Some(first) = managed[context_id].first() else {
            continue;
        };
        let Some(app) = index.object_at(context.file, doc) else {
            continue;
        };
        let seen = Seen::of(index, first);
        let count = managed[context_id].len();
        let (span, what, plan) = match &app.extra {
            Extra::Flux(flux) => match flux.force {
                Some(span) => (
                    span,
                    "Flux `spec.force: true`",
                    FixPlan::RemoveEntryAt {
                        doc,
                        path: vec!["spec"],
                        key: "force".into(),
                    },
                ),
                None => continue,
            },
            Extra::Argo(argo) => match argo.sync_options.iter().find(|(o, _)| o == FORCE) {
                Some((_, span)) => (
                    *span,
                    "ArgoCD sync option `Force=true`",
                    FixPlan::RemoveItem { span: *span },
                ),
                None => continue,
            },
            Extra::None => continue,
        };
        out.push((
            context.file,
            Judgement {
                rule: Rule::DestructiveRecreate,
                span,
                message: format!(
                    "{what} recreates what this applies, including {} ({} with reconcile-policy `manage`): a recreate deletes {}",
                    seen.label(),
                    crate::wording::plural(count, "ASO resource"),
                    crate::wording::agree(count, "the Azure resource", "the Azure resources")
                ),
                help: Some("remove the option, or protect the ASO resources with `detach-on-delete`".into()),
                severity: None,
                fix: Some(("Remove the force option".into(), Applicability::Unsafe, plan)),
                object: Some(seen.object_ref()),
                related: Vec::new(),
            },
        ));
    }
}
