//! ASO008 `finalizer-override`: a manifest that sets `metadata.finalizers` on an ASO resource.

use super::{Checks, DocumentNeeds, FileContext};
use crate::diagnostic::Diagnostic;
use crate::fix::Fix;
use crate::manifest::Manifest;
use crate::registry::Rule;
use crate::yaml::edit;

pub(super) const SUMMARY: &str = "A manifest sets `metadata.finalizers` on an ASO resource, dropping ASO's own finalizer when applied";

pub(super) const DOC: &str = r#"## What it does
Finds ASO resources whose manifest sets `metadata.finalizers`, even to an empty list.

## Why is this bad
ASO adds the finalizer `serviceoperator.azure.com/finalizer` to every resource it manages and
relies on it to run its delete logic (and honour `detach-on-delete`) before Kubernetes removes
the object. A manifest that sets `finalizers` replaces the list when applied with replace
semantics, or fights ASO over it with server-side apply; without the finalizer, a delete
removes the object before ASO acts, and the Azure resource is orphaned or left half-deleted.
Manifests exported with `kubectl get -o yaml` carry the finalizer list by accident.

## Example
```yaml
metadata:
  name: prod-rg
  finalizers:
    - serviceoperator.azure.com/finalizer
```

Use instead:
```yaml
metadata:
  name: prod-rg
```

## Fix
Unsafe (needs `--unsafe-fixes`): removes `metadata.finalizers`. A finalizer of another
controller may be intended, so asoguard does not remove it on its own.

## Fix safety
Unsafe. Removing another controller's finalizer changes how deletion of the object proceeds
for that controller; it may be intended.

## Source
ASO `v2/internal/reconcilers` (the `serviceoperator.azure.com/finalizer` finalizer);
Kubernetes finalizers documentation.
"#;

/// FinalizerOverride's checks, for the rule registry.
pub(super) struct FinalizerOverride;

impl Checks for FinalizerOverride {
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
    let Some(metadata) = manifest.root.get("metadata") else {
        return;
    };
    let Some(entries) = metadata.entries() else {
        return;
    };
    let Some(index) = entries
        .iter()
        .position(|e| e.key.as_str() == Some("finalizers"))
    else {
        return;
    };
    let entry = &entries[index];
    let fix = edit::remove_entry(&cx.source.text, metadata, index)
        .map(|e| Fix::unsafe_("Remove metadata.finalizers", vec![e]));
    out.push(
        Diagnostic::new(
            Rule::FinalizerOverride,
            entry.key.span,
            format!(
                "{} `{}` sets metadata.finalizers: applying it can drop ASO's `serviceoperator.azure.com/finalizer`",
                manifest.kind.unwrap_or("resource"),
                manifest.name_str().unwrap_or("?")
            ),
        )
        .with_help("let ASO manage the finalizers: remove `finalizers` from the manifest")
        .with_fix(fix)
        .with_object(manifest),
    );
}
