//! ASO002 `argocd-replace`: ArgoCD's `Replace=true` sync option on ASO resources, or on an
//! Application or ApplicationSet that deploys them.

use super::{FileContext, FixSafety, Fixability, RuleMeta};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::Fix;
use crate::index::Reach;
use crate::manifest::{ARGOCD_SYNC_OPTIONS, Manifest};
use crate::rules::Rule;
use crate::yaml::{Node, edit};

const REPLACE: &str = "Replace=true";
const ARGO_GROUP: &str = "argoproj.io";

pub(super) const META: RuleMeta = RuleMeta {
    code: "ASO002",
    name: "argocd-replace",
    severity: Severity::Error,
    fixable: Fixability::Always,
    safety: FixSafety::Safe,
    default_enabled: true,
    summary: "ArgoCD's `Replace=true` sync option would strip the finalizer and annotations ASO relies on",
    doc: r#"## What it does
Finds ArgoCD's `Replace=true` sync option where it reaches ASO resources:
- in the `argocd.argoproj.io/sync-options` annotation of an ASO resource (a comma-separated
  list; items are trimmed and matched exactly, as ArgoCD does);
- in `spec.syncPolicy.syncOptions` of an `Application`, or
  `spec.template.spec.syncPolicy.syncOptions` of an `ApplicationSet`, whose source path
  (`spec.source.path`, `spec.sources[].path`), relative to the repository root, is a directory
  applies ASO resources: a directory of manifests (recursively with `directory.recurse`), a
  kustomization (followed through its bases and components), for each source of `sources[]`
  and, for an ApplicationSet, each path its list and git-directory generators produce. When no
  source can be resolved in the repository (another repository, a Helm chart, a path that does
  not exist), the finding is a warning that says so.

## Why is this bad
`Replace=true` makes ArgoCD use `kubectl replace` (or `create`) instead of apply. Replace
drops every field the manifest does not carry, including the finalizer
`serviceoperator.azure.com/finalizer` and the annotations ASO sets (`resource-id`,
`poller-resume-token`, ...). ASO loses track of in-flight operations and of the Azure
resource's identity, and without its finalizer a Kubernetes delete no longer waits for ASO.
Paired with `Force=true`, replace deletes and re-creates the object: an Azure DELETE and a
new PUT, and the data is gone. ASO's FAQ: with ArgoCD, avoid `Replace=true`.

## Example
```yaml
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: infra
spec:
  source:
    path: clusters/prod/azure
  syncPolicy:
    syncOptions:
      - CreateNamespace=true
      - Replace=true
```

Use instead:
```yaml
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: infra
spec:
  source:
    path: clusters/prod/azure
  syncPolicy:
    syncOptions:
      - CreateNamespace=true
```

## Fix
Safe. Removes the `Replace=true` item: from the annotation (and the annotation itself when
nothing is left), or from the `syncOptions` list, block or flow style alike (and the
`syncOptions` key when the list is left empty).

## Fix safety
Safe. Removing `Replace=true` only stops ArgoCD from replacing the object wholesale (and
stripping ASO's finalizer and annotations); it makes ASO write or delete nothing new in Azure.

## Source
ASO FAQ ("avoid the ArgoCD sync option Replace=true"); gitops-engine
`pkg/sync/resource/annotations.go` (sync-options parsing); ArgoCD sync options docs.
"#,
};

/// The check of an ASO object's own annotation; whether the document is an ArgoCD
/// Application or ApplicationSet syncing with `Replace=true`, judged by [`check_app`] once the
/// index tells what it applies.
pub(super) fn check(cx: &FileContext, manifest: &Manifest, out: &mut Vec<Diagnostic>) -> bool {
    if manifest.is_aso() {
        check_annotation(cx, manifest, out);
    }
    app_spec(manifest).and_then(replace_option).is_some()
}

/// The spec that holds an Application's sync policy (an ApplicationSet's template's).
fn app_spec<'d, 'a>(manifest: &Manifest<'d, 'a>) -> Option<&'d Node<'a>> {
    if manifest.group() != ARGO_GROUP {
        return None;
    }
    match manifest.kind {
        Some("Application") => manifest.root.get("spec"),
        Some("ApplicationSet") => manifest.root.get_path(&["spec", "template", "spec"]),
        _ => None,
    }
}

/// The `Replace=true` item of a spec's `syncPolicy.syncOptions`: the sync policy, the options
/// and the item's index.
fn replace_option<'n, 'a>(spec: &'n Node<'a>) -> Option<(&'n Node<'a>, &'n Node<'a>, usize)> {
    let sync_policy = spec.get("syncPolicy")?;
    let options = sync_policy.get("syncOptions")?;
    let index = options
        .items()?
        .iter()
        .position(|i| i.as_str() == Some(REPLACE))?;
    Some((sync_policy, options, index))
}

/// An ArgoCD Application's or ApplicationSet's `Replace=true`, judged by what it applies.
pub(super) fn check_app(
    cx: &FileContext,
    doc: usize,
    manifest: &Manifest,
    out: &mut Vec<Diagnostic>,
) {
    let Some((sync_policy, options, index)) = app_spec(manifest).and_then(replace_option) else {
        return;
    };
    let reach = cx
        .index
        .zip(cx.file)
        .and_then(|(index, f)| index.app_reach(f, doc))
        .cloned()
        .unwrap_or(Reach::Unresolved("(not indexed)".into()));
    let items = options.items().unwrap_or_default();
    let item = &items[index];
    let kind = manifest.kind.unwrap_or("Application");
    let name = manifest.name_str().unwrap_or("?");
    let (severity, message) = match reach {
        Reach::NoAso => return,
        Reach::Aso(path) => (
            Severity::Error,
            format!(
                "{kind} `{name}` syncs `{path}`, which holds ASO resources, with `Replace=true`: replace strips the finalizer and annotations ASO adds"
            ),
        ),
        Reach::Unresolved(path) => (
            Severity::Warning,
            format!(
                "{kind} `{name}` syncs with `Replace=true` and its source `{path}` cannot be resolved in this repository: if it deploys ASO resources, replace strips the finalizer and annotations ASO adds"
            ),
        ),
    };
    let text = &cx.source.text;
    let edit = if items.len() == 1 {
        sync_policy
            .entries()
            .and_then(|entries| {
                entries
                    .iter()
                    .position(|e| e.key.as_str() == Some("syncOptions"))
            })
            .and_then(|i| edit::remove_entry(text, sync_policy, i))
    } else {
        edit::remove_item(text, options, index)
    };
    let mut diagnostic = Diagnostic::new(Rule::ArgocdReplace, item.span, message)
        .with_help(
            "remove `Replace=true` from syncOptions; ArgoCD's default apply keeps ASO's fields",
        )
        .with_fix(edit.map(|e| Fix::safe("Remove `Replace=true`", vec![e])))
        .with_object(manifest);
    if severity == Severity::Warning {
        diagnostic = diagnostic.with_severity(Severity::Warning);
    }
    out.push(diagnostic);
}

fn check_annotation(cx: &FileContext, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    let Some(entry) = manifest.annotation(ARGOCD_SYNC_OPTIONS) else {
        return;
    };
    if !entry
        .value
        .as_str()
        .is_some_and(|v| v.split(',').any(|i| i.trim() == REPLACE))
    {
        return;
    }
    let edits =
        edit::remove_annotation_item(&cx.source.text, manifest.root, ARGOCD_SYNC_OPTIONS, REPLACE);
    out.push(
        Diagnostic::new(
            Rule::ArgocdReplace,
            entry.value.span,
            format!(
                "{} `{}` has ArgoCD sync option `Replace=true`, which strips the finalizer and annotations ASO adds",
                manifest.kind.unwrap_or("resource"),
                manifest.name_str().unwrap_or("?")
            ),
        )
        .with_help("remove `Replace=true`; ArgoCD's default apply keeps ASO's fields")
        .with_fix(edits.map(|e| Fix::safe("Remove `Replace=true`", e)))
        .with_object(manifest),
    );
}
