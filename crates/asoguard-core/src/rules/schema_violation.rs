//! ASO012 `schema-violation`: a resource its CRD's schema rejects, reported at the exact key or
//! value. Runs only when CRDs are given (`--crds`, or `crds:` in config).

use super::{Checks, DocumentNeeds, FileContext};
use crate::diagnostic::Diagnostic;
use crate::manifest::Manifest;
use crate::registry::Rule;
use crate::schema::{CrdStore, validate};

pub(super) const SUMMARY: &str = "A resource does not match its CRD's schema: an unknown key, a wrong type, a value out of range, a missing required field";

pub(super) const DOC: &str = r#"## What it does
Validates every resource whose kind has a CRD (given with `--crds PATH`, or `crds:` in
`.asoguard.yaml`) against the schema of the version its `apiVersion` names, and reports each
problem at the key or value at fault:

- a key the schema does not declare, with the closest declared name ("did you mean") or the
  level where that field belongs;
- a value of the wrong type (`"128"` where an integer is wanted, `14` where a string is);
- a value outside an `enum`, not matching a `pattern` or a format, or out of bounds;
- a required field that is missing (reported at its parent's key) or empty.

What is not checked, and why: `status` (the API server ignores it on writes), the contents of
`metadata` (the API server validates it itself), CEL rules (`x-kubernetes-validations`), and
Flux `${VAR}` placeholders, which are replaced before apply (a placeholder where a number,
boolean or enum value is wanted is not an error). Keys set to null are dropped first, as the
API server prunes them. A Kustomize patch file is part of an object: its keys and values are
checked, but not the required fields it leaves out (nor its `$patch` directives). Resources of
kinds with no CRD given are counted in the summary as not schema-checked.

## Why is this bad
The API server rejects such an object when ArgoCD or Flux applies it: the change never reaches
ASO or Azure, and the error appears only in the cluster, minutes after the merge. Worse, an
object that declares its fields silently loses keys it does not know (the API server prunes
them unless strict field validation is on): a misspelled `azureNme` is dropped and ASO
creates the Azure resource under the Kubernetes name; a misplaced setting is never applied.
The manifest does not mean what it says.

## Example
```yaml
apiVersion: dbforpostgresql.azure.com/v1api20221201
kind: FlexibleServer
metadata:
  name: orders-db
spec:
  azureNme: orders-db-prod        # not a field: pruned
  owner:
    name: orders-rg
  storage:
    storageSizeGB: "128"          # a string where an integer is wanted
```

Use instead:
```yaml
apiVersion: dbforpostgresql.azure.com/v1api20221201
kind: FlexibleServer
metadata:
  name: orders-db
spec:
  azureName: orders-db-prod
  owner:
    name: orders-rg
  storage:
    storageSizeGB: 128
```

## Fix
None: the right field or value needs a person. The message names the closest field or value,
and the help lists the fields or values the schema allows.

## Source
Kubernetes documentation, "Extend the Kubernetes API with CustomResourceDefinitions":
structural schemas, validation, pruning of unknown fields, `nullable`,
`x-kubernetes-int-or-string`, `x-kubernetes-preserve-unknown-fields`,
`x-kubernetes-embedded-resource`; "Server-side field validation". Flux kustomize-controller,
`spec.postBuild.substitute` (`${VAR}` substitution). The schemas themselves come from the
CRDs ASO installs (its release bundle `azureserviceoperator_customresourcedefinitions_v2.*.yaml`).
"#;

/// SchemaViolation's checks, for the rule registry.
pub(super) struct SchemaViolation;

impl Checks for SchemaViolation {
    fn check_document(
        &self,
        cx: &FileContext,
        doc: usize,
        manifest: &Manifest,
        out: &mut Vec<Diagnostic>,
    ) -> DocumentNeeds {
        let Some(store) = cx.settings.crds.as_deref() else {
            return DocumentNeeds::default();
        };
        DocumentNeeds {
            index: false,
            schema_as_whole: check(cx, store, doc, manifest, out),
        }
    }

    /// A document checked as a whole object that turned out to be a patch: its findings as a
    /// whole object are replaced.
    fn check_indexed_document(
        &self,
        cx: &FileContext,
        doc: usize,
        manifest: &Manifest,
        needs: DocumentNeeds,
        out: &mut Vec<Diagnostic>,
    ) {
        let Some(store) = cx.settings.crds.as_deref() else {
            return;
        };
        if needs.schema_as_whole && !cx.is_applied(doc) {
            let object = manifest.root.span;
            out.retain(|d| {
                d.rule != Rule::SchemaViolation
                    || d.span.start < object.start
                    || d.span.start > object.end
            });
            check(cx, store, doc, manifest, out);
        }
    }
}

/// Validate the object; whether it was validated as a whole object (not as a patch), so that
/// its findings change should it turn out to be a patch.
pub(super) fn check(
    cx: &FileContext,
    store: &CrdStore,
    doc: usize,
    manifest: &Manifest,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let (Some(crd), Some(api)) = (store.for_manifest(manifest), manifest.api) else {
        return false;
    };
    // An unserved version has no schema to check against: ASO013 reports it.
    let Some(compiled) = crd.schema(api.version) else {
        return false;
    };
    let schema = match compiled {
        Ok(schema) => schema,
        Err(problem) => {
            out.push(
                Diagnostic::new(
                    Rule::SchemaViolation,
                    manifest.object_span(),
                    format!("this {} was not schema-checked: {problem}", crd.kind),
                )
                .with_object(manifest),
            );
            return false;
        }
    };
    // A Kustomize patch is part of an object: the index applies it to its target and never
    // renders it alone. Its keys and values are checked, but not what it leaves out.
    let partial = !cx.is_applied(doc);
    for finding in validate::validate(&schema, manifest.root, &cx.source.text, partial) {
        let mut diagnostic = Diagnostic::new(
            Rule::SchemaViolation,
            finding.span.unwrap_or_else(|| manifest.object_span()),
            finding.message,
        )
        .with_object(manifest);
        diagnostic.help = finding.help;
        out.push(diagnostic);
    }
    !partial
}
