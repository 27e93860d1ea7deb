//! ASO013 `unserved-version`: a resource whose apiVersion names a version its CRD does not
//! serve. Runs only when CRDs are given (`--crds`, or `crds:` in config).

use super::{FileContext, FixSafety, Fixability, RuleMeta};
use crate::diagnostic::{Diagnostic, Severity};
use crate::manifest::Manifest;
use crate::rules::Rule;
use crate::schema::CrdStore;
use crate::span::Span;

pub(super) const META: RuleMeta = RuleMeta {
    code: "ASO013",
    name: "unserved-version",
    severity: Severity::Error,
    fixable: Fixability::Never,
    safety: FixSafety::None,
    default_enabled: true,
    summary: "The apiVersion names a version the CRD does not serve (an old `v1beta...`, a typo)",
    doc: r#"## What it does
Finds resources whose kind has a CRD (given with `--crds PATH`, or `crds:` in
`.asoguard.yaml`) but whose `apiVersion` names a version that CRD does not serve: a version
it no longer serves (`served: false`), or one it does not define at all. The finding is at
the version in `apiVersion`; the help lists the versions the CRD serves.

## Why is this bad
The API server refuses an object of a version its CRD does not serve ("no matches for kind
... in version ..."), so ArgoCD or Flux fail to apply it and nothing reaches Azure. It happens
after an upgrade: ASO releases drop old API versions from their CRDs (the v2.20 CRDs serve
no `v1beta` version of any kind), and manifests written for the old operator stop applying.
Checking against the CRDs you run (or are about to run) finds them before the upgrade does.

## Example
```yaml
apiVersion: resources.azure.com/v1beta20200601
kind: ResourceGroup
metadata:
  name: orders-rg
spec:
  location: westeurope
```

Use instead:
```yaml
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: orders-rg
spec:
  location: westeurope
```

## Fix
None: fields can differ between versions, so moving to a served version needs a person (and
ASO012 then checks the resource against that version's schema).

## Source
Kubernetes documentation, "Versions in CustomResourceDefinitions" (`served`, `storage`);
the CRDs ASO installs (its release bundle `azureserviceoperator_customresourcedefinitions_v2.*.yaml`).
"#,
};

pub(super) fn check(
    cx: &FileContext,
    store: &CrdStore,
    manifest: &Manifest,
    out: &mut Vec<Diagnostic>,
) {
    let (Some(crd), Some(api)) = (store.for_manifest(manifest), manifest.api) else {
        return;
    };
    let defined = crd.version(api.version);
    if defined.is_some_and(|v| v.served) {
        return;
    }
    let served = crd.served_versions();
    let problem = if defined.is_some() {
        "is no longer served"
    } else {
        "is not served"
    };
    let suggestion = closest(api.version, &served)
        .map(|v| format!("; did you mean `{v}`?"))
        .unwrap_or_default();
    let help = if served.is_empty() {
        format!("the CRD in {} serves no version", crd.origin.display())
    } else {
        format!(
            "the CRD in {} serves {}",
            crd.origin.display(),
            quoted(&served)
        )
    };
    out.push(
        Diagnostic::new(
            Rule::UnservedVersion,
            version_span(cx, manifest, api.version),
            format!(
                "version `{}` of {} {problem} by its CRD{suggestion}",
                api.version, crd.kind
            ),
        )
        .with_help(help)
        .with_object(manifest),
    );
}

/// The version inside the apiVersion value (its whole value when it cannot be found).
fn version_span(cx: &FileContext, manifest: &Manifest, version: &str) -> Span {
    let Some(node) = manifest.root.get("apiVersion") else {
        return Span::empty(manifest.root.span.start);
    };
    let written = cx.source.slice(node.span);
    match written.rfind(version) {
        Some(i) if !version.is_empty() => {
            Span::new(node.span.start + i, node.span.start + i + version.len())
        }
        _ => node.span,
    }
}

/// The one served version within two edits of `version`, if exactly one is closest.
fn closest<'v>(version: &str, served: &[&'v str]) -> Option<&'v str> {
    let mut near: Vec<(&str, usize)> = served
        .iter()
        .map(|v| (*v, strsim::levenshtein(version, v)))
        .filter(|(_, d)| *d <= 2)
        .collect();
    near.sort_by_key(|(_, d)| *d);
    match near.as_slice() {
        [(v, _)] => Some(v),
        [(v, a), (_, b), ..] if a < b => Some(v),
        _ => None,
    }
}

fn quoted(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_a_clear_typo() {
        let served = ["v1api20200601", "v1api20200601storage"];
        assert_eq!(closest("v1api2020061", &served), Some("v1api20200601"));
        assert_eq!(closest("v1beta20200601", &served), None);
        assert_eq!(closest("v1", &served), None);
    }
}
