//! ASO009 `aso-v1-api`: a resource of ASO v1's deprecated API group.

use crate::catalog::ASO_V1_GROUP;
use crate::diagnostic::Diagnostic;
use crate::manifest::Manifest;
use crate::registry::Rule;
use super::{Checks, DocumentNeeds, FileContext};

pub(super) const SUMMARY: &str = "A resource of ASO v1's API group `azure.microsoft.com`, deprecated and no longer maintained";

pub(super) const DOC: &str = r#"## What it does
Finds objects whose apiVersion is in ASO v1's group `azure.microsoft.com`.

## Why is this bad
ASO v1 is deprecated and halted: it gets no fixes, and its resources are not ASO v2's.
asoguard's other rules do not apply to them (v1 has no `reconcile-policy` annotation), so the
hazards they guard against go unchecked. ASO's documentation describes the migration to v2.

## Example
```yaml
apiVersion: azure.microsoft.com/v1alpha1
kind: ResourceGroup
metadata:
  name: legacy-rg
```

Use instead:
```yaml
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: legacy-rg
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
```

## Fix
None: the v2 resource has a different schema; migrate it by hand following ASO's guide.

## Source
ASO documentation, "ASO v1" (deprecated) and the v1 to v2 migration guide.
"#;

/// AsoV1Api's checks, for the rule registry.
pub(super) struct AsoV1Api;

impl Checks for AsoV1Api {
    fn check_document(
        &self,
        _: &FileContext,
        _: usize,
        manifest: &Manifest,
        out: &mut Vec<Diagnostic>,
    ) -> DocumentNeeds {
        check(manifest, out);
        DocumentNeeds::default()
    }
}

pub(super) fn check(manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    if manifest.group() != ASO_V1_GROUP {
        return;
    }
    let span = manifest
        .root
        .get("apiVersion")
        .map_or(manifest.root.span, |a| a.span);
    out.push(
        Diagnostic::new(
            Rule::AsoV1Api,
            span,
            format!(
                "{} `{}` uses ASO v1's deprecated API group `{ASO_V1_GROUP}`",
                manifest.kind.unwrap_or("resource"),
                manifest.name_str().unwrap_or("?")
            ),
        )
        .with_help("migrate to the ASO v2 resource of the same kind")
        .with_object(manifest),
    );
}
