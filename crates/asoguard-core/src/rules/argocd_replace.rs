//! ASO002 `argocd-replace`: ArgoCD's `Replace=true` sync option on ASO resources, or on an
//! Application or ApplicationSet that deploys them.

use rustc_hash::FxHashMap;

use super::{Checks, DocumentNeeds, FileContext, Seen};
use crate::config::Settings;
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Applicability, Fix};
use crate::index::{FileId, FixPlan, Index, Instance, Judgement, Origin, OriginKind, Reach};
use crate::manifest::{ARGOCD_SYNC_OPTIONS, Manifest};
use crate::registry::Rule;
use crate::span::Span;
use crate::yaml::{Node, edit};

const REPLACE: &str = "Replace=true";
const ARGO_GROUP: &str = "argoproj.io";

pub(super) const SUMMARY: &str = "ArgoCD's `Replace=true` sync option would strip the finalizer and annotations ASO relies on";

pub(super) const DOC: &str = r#"## What it does
Finds ArgoCD's `Replace=true` sync option where it reaches ASO resources:
- in the `argocd.argoproj.io/sync-options` annotation of an ASO resource (a comma-separated
  list; items are trimmed and matched exactly, as ArgoCD does), whether the resource writes
  it itself or it is written elsewhere and lands on the resource as rendered: a
  kustomization's `commonAnnotations`, a patch (strategic merge, JSON6902, inline), a Flux
  Kustomization's `spec.commonMetadata` (reported there, once per place, naming one of the
  resources it reaches);
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
Safe. Removes the `Replace=true` item where it is written: from the annotation (and the
annotation itself when nothing is left: the resource's, or the `commonAnnotations`,
`commonMetadata` or patch entry), or from the `syncOptions` list, block or flow style alike
(and the `syncOptions` key when the list is left empty). A JSON6902 operation is edited when
other options are left in its value, and otherwise reported for a person to remove; an
inline patch is reported, not fixed.

## Fix safety
Safe. Removing `Replace=true` only stops ArgoCD from replacing the object wholesale (and
stripping ASO's finalizer and annotations); it makes ASO write or delete nothing new in Azure.

## Source
ASO FAQ ("avoid the ArgoCD sync option Replace=true"); gitops-engine
`pkg/sync/resource/annotations.go` (sync-options parsing); ArgoCD sync options docs.
"#;

/// ArgocdReplace's checks, for the rule registry.
pub(super) struct ArgocdReplace;

impl Checks for ArgocdReplace {
    fn check_document(
        &self,
        cx: &FileContext,
        _: usize,
        manifest: &Manifest,
        out: &mut Vec<Diagnostic>,
    ) -> DocumentNeeds {
        DocumentNeeds::index_if(check(cx, manifest, out))
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
            check_app(cx, doc, manifest, out);
        }
    }

    fn judge(&self, index: &Index, settings: &Settings, out: &mut Vec<(FileId, Judgement)>) {
        judge(index, settings, out);
    }
}

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

/// A sync option that lands on ASO resources as rendered, written somewhere other than the
/// resource's own annotation (which the per-document check reports), once per place.
pub(super) struct Landing<'i> {
    /// One instance it lands on (the first).
    pub instance: &'i Instance,
    /// Where the annotation's value is written.
    pub origin: Origin,
    /// The annotation's value there.
    pub value: &'i str,
    /// How many instances it lands on.
    pub count: usize,
}

/// Whether a comma-separated sync-options value holds `option` (items trimmed, matched
/// exactly, as ArgoCD reads them).
pub(super) fn has_option(value: &str, option: &str) -> bool {
    value.split(',').any(|i| i.trim() == option)
}

/// Where sync option `option` is written that lands on ASO instances `keep` selects, other
/// than an ASO document's own annotation (a resource's, or a strategic merge patch's that is
/// an ASO document itself): the per-document checks report those, with their own fix.
pub(super) fn landings<'i>(
    index: &'i Index,
    option: &str,
    keep: impl Fn(&Instance) -> bool,
) -> Vec<Landing<'i>> {
    let mut by_place: FxHashMap<(FileId, Span), Landing<'i>> = FxHashMap::default();
    for instance in index.instances.iter().filter(|i| i.aso) {
        let Some((value, origin)) = index.sync_options(instance) else {
            continue;
        };
        if !has_option(value, option) || !keep(instance) {
            continue;
        }
        let own_document = match origin.kind {
            OriginKind::Own => true,
            OriginKind::PatchFile => index.files[origin.file]
                .facts
                .objects
                .iter()
                .find(|o| o.doc == origin.doc)
                .is_some_and(|o| o.aso),
            _ => false,
        };
        if own_document {
            continue;
        }
        by_place
            .entry((origin.file, origin.entry))
            .or_insert(Landing {
                instance,
                origin,
                value,
                count: 0,
            })
            .count += 1;
    }
    let mut found: Vec<Landing> = by_place.into_values().collect();
    found.sort_by_key(|l| (l.origin.file, l.origin.entry));
    found
}

/// What sets a landing sync option, for messages: "commonAnnotations sets".
pub(super) fn setter(kind: OriginKind) -> &'static str {
    match kind {
        OriginKind::Common => "commonAnnotations sets",
        OriginKind::Flux => "spec.commonMetadata sets",
        OriginKind::InlinePatch => "this inline patch sets",
        _ => "this patch sets",
    }
}

/// The plan that removes `option` from a sync-options value written at `origin` (value
/// `value`): the other options stay, or the annotation entry goes when none is left. `None`
/// where asoguard does not edit (an inline patch; a JSON6902 operation that would be left
/// without a value).
pub(super) fn remove_option_plan(origin: Origin, value: &str, option: &str) -> Option<FixPlan> {
    let kept: Vec<&str> = value.split(',').filter(|i| i.trim() != option).collect();
    if kept.iter().any(|i| !i.trim().is_empty()) {
        if origin.kind == OriginKind::InlinePatch {
            return None;
        }
        return Some(FixPlan::ReplaceValue {
            span: origin.value,
            value: kept.join(",").trim().to_string(),
        });
    }
    let path = match origin.kind {
        OriginKind::Common => vec!["commonAnnotations"],
        OriginKind::Flux => vec!["spec", "commonMetadata", "annotations"],
        OriginKind::PatchFile | OriginKind::Own => vec!["metadata", "annotations"],
        _ => return None,
    };
    Some(FixPlan::RemoveEntryAt {
        doc: origin.doc,
        path,
        key: ARGOCD_SYNC_OPTIONS.into(),
    })
}

/// `Replace=true` that lands on ASO resources from a kustomization's `commonAnnotations`, a
/// patch or a Flux Kustomization's `commonMetadata`: reported and fixed where it is written.
pub(super) fn judge(index: &Index, settings: &Settings, out: &mut Vec<(FileId, Judgement)>) {
    for landing in landings(index, REPLACE, |_| true) {
        let seen = Seen::of(index, landing.instance);
        let others = match landing.count {
            1 => String::new(),
            n => format!(" and {} more ASO resource(s)", n - 1),
        };
        let origin = landing.origin;
        let fix = remove_option_plan(origin, landing.value, REPLACE).map(|plan| {
            (
                "Remove `Replace=true`".to_string(),
                Applicability::Safe,
                plan,
            )
        });
        out.push((
            origin.file,
            Judgement {
                rule: Rule::ArgocdReplace,
                span: origin.value,
                message: format!(
                    "{} ArgoCD sync option `Replace=true` on {}{others} in {}: replace strips the finalizer and annotations ASO adds",
                    setter(origin.kind),
                    seen.label(),
                    seen.place(index, settings)
                ),
                help: Some(
                    "remove `Replace=true`; ArgoCD's default apply keeps ASO's fields".into(),
                ),
                severity: None,
                fix,
                object: Some(seen.object_ref()),
                related: Vec::new(),
            },
        ));
    }
}
