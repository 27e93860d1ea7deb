//! ASO011 `live-state-in-manifest`: cluster state exported with `kubectl get -o yaml` left in
//! an ASO manifest.

use super::{Checks, DocumentNeeds, FileContext};
use crate::diagnostic::Diagnostic;
use crate::fix::{Edit, Fix};
use crate::manifest::{LIVE_METADATA, Manifest, OPERATOR_ANNOTATIONS};
use crate::registry::Rule;
use crate::span::Span;
use crate::yaml::{Node, edit};

pub(super) const SUMMARY: &str = "An ASO manifest carries live cluster state (status, uid, resourceVersion, operator-set annotations)";

pub(super) const DOC: &str = r#"## What it does
Finds ASO resources whose manifest carries what a cluster adds: `status`, `metadata.uid`,
`resourceVersion`, `generation`, `creationTimestamp`, `managedFields`, `selfLink`, and the
annotations ASO sets itself (`serviceoperator.azure.com/resource-id`, `poller-resume-token`,
`poller-resume-id`, `latest-reconciled-generation`, `operator-namespace`).

## Why is this bad
Such a manifest was exported from a cluster (`kubectl get -o yaml`). Applied elsewhere, a stale
`resourceVersion` makes updates fail, a `uid` belongs to another object, and ASO's own
annotations (an in-flight poller token, another operator's namespace) mislead the operator
that picks the resource up. Stripping them is the first step of every cluster-to-cluster move.

## Example
```yaml
metadata:
  name: prod-rg
  resourceVersion: "123456"
  uid: 0b8e2f0e-4c1e-4c55-9a53-6f2f5d3b1c11
  annotations:
    serviceoperator.azure.com/resource-id: /subscriptions/.../resourceGroups/prod-rg
status:
  provisioningState: Succeeded
```

Use instead:
```yaml
metadata:
  name: prod-rg
```

## Fix
Safe: removes every such field and annotation (and `annotations` when nothing is left).

## Fix safety
Safe. The removed fields and annotations are set by the API server and by ASO itself; the
manifest never meant them, and without them ASO writes and deletes nothing it did not before.

## Source
ASO `v2/pkg/common/annotations` (operator-set annotations); ASO FAQ on moving resources between
clusters; Kubernetes object metadata (fields the API server sets).
"#;

/// LiveStateInManifest's checks, for the rule registry.
pub(super) struct LiveStateInManifest;

impl Checks for LiveStateInManifest {
    fn check_document(
        &self,
        cx: &FileContext,
        _: usize,
        manifest: &Manifest,
        out: &mut Vec<Diagnostic>,
    ) -> DocumentNeeds {
        check(cx, manifest, out);
        DocumentNeeds::default()
    }
}

pub(super) fn check(cx: &FileContext, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    if !manifest.is_aso() {
        return;
    }
    let text = &cx.source.text;
    let root = manifest.root;
    let mut found: Vec<(String, Edit, Span)> = Vec::new();
    // The label is only written for a key that is there: almost every manifest has none.
    let mut take = |map: &Node, key: &str, label: &dyn Fn() -> String| {
        if let Some(i) = map
            .entries()
            .and_then(|e| e.iter().position(|e| e.key.as_str() == Some(key)))
        {
            if let Some(edit) = edit::remove_entry(text, map, i) {
                found.push((
                    label(),
                    edit,
                    map.entries().map_or(map.span, |e| e[i].key.span),
                ));
            }
        }
    };
    take(root, "status", &|| "status".into());
    if let Some(metadata) = root.get("metadata") {
        for key in LIVE_METADATA {
            take(metadata, key, &|| format!("metadata.{key}"));
        }
    }
    let annotations = manifest.annotations();
    let operator: Vec<&str> = OPERATOR_ANNOTATIONS
        .into_iter()
        .filter(|k| annotations.is_some_and(|a| a.get(k).is_some()))
        .collect();
    if let Some(annotations) = annotations {
        let all = annotations
            .entries()
            .is_some_and(|e| e.len() == operator.len());
        if all && !operator.is_empty() {
            // Every annotation goes: remove `annotations` itself.
            if let Some(metadata) = root.get("metadata") {
                let label = operator
                    .iter()
                    .map(|k| format!("annotation {k}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                take(metadata, "annotations", &|| label.clone());
            }
        } else {
            for key in &operator {
                take(annotations, key, &|| format!("annotation {key}"));
            }
        }
    }
    if found.is_empty() {
        return;
    }
    found.sort_by_key(|(_, _, span)| span.start);
    let labels: Vec<&str> = found.iter().map(|(l, _, _)| l.as_str()).collect();
    let span = found[0].2;
    // Edits of neighbouring flow entries share a comma: when they touch, remove one per round.
    let mut edits: Vec<Edit> = found.iter().map(|(_, e, _)| e.clone()).collect();
    edits.sort_by_key(|e| e.span.start);
    if edits.windows(2).any(|w| w[0].span.touches(&w[1].span)) {
        edits.truncate(1);
    }
    out.push(
        Diagnostic::new(
            Rule::LiveStateInManifest,
            span,
            format!(
                "{} `{}` carries live cluster state: {}",
                manifest.kind.unwrap_or("resource"),
                manifest.name_str().unwrap_or("?"),
                labels.join(", ")
            ),
        )
        .with_help(
            "strip what the cluster and the operator set before committing an exported manifest",
        )
        .with_fix(Some(Fix::safe("Remove the live state", edits)))
        .with_object(manifest),
    );
}
