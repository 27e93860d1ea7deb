//! ASO013 `unserved-version`: a resource whose apiVersion names a version that its kind does not
//! serve: by its CRD when one is given (`--crds`, `crds:`), else by asoguard's catalog of ASO's
//! kinds.

use super::{Checks, DocumentNeeds, FileContext};
use crate::catalog::CATALOG_RELEASE;
use crate::diagnostic::{Diagnostic, Severity};
use crate::manifest::Manifest;
use crate::registry::Rule;
use crate::span::Span;
use crate::wording::code_list;

pub(super) const SUMMARY: &str = "The apiVersion names a version its kind does not serve (an old `v1beta...`, a typo)";

pub(super) const DOC: &str = r#"## What it does
Finds ASO resources whose `apiVersion` names a version their kind does not serve: a version
ASO no longer serves (`served: false`, or dropped from the CRD), or one it never had. The
finding is at the version in `apiVersion`, with the served version it most likely meant (a
typo, or the same Azure API version under ASO's current prefix: `v1beta20200601` is now
`v1api20200601`); the help lists the versions served.

What is served is decided by:
- the kind's CRD, when one is given (`--crds PATH`, or `crds:` in `.asoguard.yaml`): the
  release you run, or are about to run, decides, whatever the catalog says;
- else asoguard's catalog of ASO's kinds and served versions, taken from ASO v2.20 (ASO's
  `main` branch between v2.20.0 and v2.21.0: every kind and version of v2.20.0, some of
  v2.21.0). A version dated after every version the catalog knows for the kind most likely
  comes from a newer ASO release: it is reported as a warning, not an error, until you give
  the CRDs of your release with `--crds`.

ASO's `...storage` versions (`v1api20200601storage`) are served: every version an ASO CRD
defines is, and one of them is where the API server stores the objects. They are not reported.
A kind ASO does not have at all is ASO015's, not this rule's.

## Why is this bad
The API server refuses an object of a version its CRD does not serve ("no matches for kind
... in version ..."), so ArgoCD or Flux fail to apply it and nothing reaches Azure. It happens
after an upgrade: ASO releases drop old API versions from their CRDs (the v2.20 CRDs serve no
`v1beta` version of any kind; v2.18 removed `containerservice` `v1api20231001`), and manifests
written for the old operator stop applying. Checking against the CRDs you run (or are about to
run) finds them before the upgrade does.

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
the CRDs ASO installs (its release bundle `azureserviceoperator_customresourcedefinitions_v2.*.yaml`);
ASO's release notes (versions removed by each release).
"#;

/// UnservedVersion's checks, for the rule registry.
pub(super) struct UnservedVersion;

impl Checks for UnservedVersion {
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
    let Some(api) = manifest.api else {
        return;
    };
    // A Flux substitution is known only when applied. (Asked only of a version that is not
    // served: this check runs on every object.)
    let substituted = || api.version.contains("${");
    // The CRD of the release you run decides; else asoguard's catalog, for the kinds it knows
    // (ASO015 reports the others).
    if let Some(crd) = cx
        .settings
        .crds
        .as_deref()
        .and_then(|store| store.for_manifest(manifest))
    {
        let defined = crd.version(api.version);
        if defined.is_some_and(|v| v.served) || substituted() {
            return;
        }
        let served = crd.served_versions();
        let problem = if defined.is_some() {
            "is no longer served"
        } else {
            "is not served"
        };
        let help = if served.is_empty() {
            format!("the CRD in {} serves no version", crd.origin.display())
        } else {
            format!(
                "the CRD in {} serves {}",
                crd.origin.display(),
                code_list(&served)
            )
        };
        out.push(
            Diagnostic::new(
                Rule::UnservedVersion,
                version_span(cx, manifest, api.version),
                format!(
                    "{}{}",
                    what(api.version, &crd.kind, &format!("{problem} by its CRD")),
                    suggestion(api.version, &served)
                ),
            )
            .with_help(help)
            .with_object(manifest),
        );
        return;
    }
    let Some(kind) = manifest.aso_kind else {
        return;
    };
    if kind.serves(api.version) || substituted() {
        return;
    }
    let served = kind.versions();
    let api_versions: Vec<&str> = served.iter().copied().filter(|v| !is_storage(v)).collect();
    let storage = match (api_versions.len() < served.len(), api_versions.len()) {
        (false, _) => "",
        (true, 1) => " (and its `...storage` version)",
        (true, _) => " (and their `...storage` versions)",
    };
    // A version dated after every one the catalog knows for the kind most likely comes from a
    // newer ASO release than the catalog's: a warning until `--crds` says which release runs.
    let newer = api_date(api.version).is_some_and(|date| {
        served
            .iter()
            .filter_map(|v| api_date(v))
            .all(|known| date.get(..8) > known.get(..8))
    });
    let problem = if newer {
        format!(
            "is newer than ASO {CATALOG_RELEASE} (asoguard's catalog): if the ASO you run serves it, give its CRDs with `--crds`"
        )
    } else {
        format!("is not served by ASO {CATALOG_RELEASE} (asoguard's catalog)")
    };
    let mut diagnostic = Diagnostic::new(
        Rule::UnservedVersion,
        version_span(cx, manifest, api.version),
        format!(
            "{}{}",
            what(api.version, kind.kind, &problem),
            suggestion(api.version, served)
        ),
    );
    if newer {
        diagnostic = diagnostic.with_severity(Severity::Warning);
    }
    out.push(
        diagnostic
            .with_help(format!(
                "ASO {CATALOG_RELEASE} serves {} as {}{storage}; `--crds` checks against the \
             release you run",
                kind.kind,
                code_list(&api_versions),
            ))
            .with_object(manifest),
    );
}

/// What is wrong with `version` of `kind`: `` version `v1beta20200601` of ResourceGroup {problem} ``,
/// or, for an apiVersion that ends in `/`, that it names no version.
fn what(version: &str, kind: &str, problem: &str) -> String {
    if version.is_empty() {
        format!("the apiVersion of {kind} names no version")
    } else {
        format!("version `{version}` of {kind} {problem}")
    }
}

/// Whether `version` is one of ASO's storage versions (`v1api20200601storage`): served, as every
/// version of ASO's CRDs is, but the hub ASO stores objects in rather than an API of its own.
fn is_storage(version: &str) -> bool {
    version.ends_with("storage")
}

/// `; did you mean `v`?` for the served version `version` most likely meant (the same Azure API
/// version under another prefix, else a typo), else nothing.
fn suggestion(version: &str, served: &[&str]) -> String {
    // ASO's versions are short; comparing a far longer one (edit distance is quadratic) would
    // cost a hostile file dearly, and find nothing.
    if version.len() > 64 {
        return String::new();
    }
    // A storage version is suggested only for a storage version.
    let served: Vec<&str> = served
        .iter()
        .copied()
        .filter(|v| is_storage(v) == is_storage(version))
        .collect();
    same_api_date(version, &served)
        .or_else(|| closest(version, &served))
        .map(|v| format!("; did you mean `{v}`?"))
        .unwrap_or_default()
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

/// The served version of the same Azure API version (`20200601`, `20230501preview`) as
/// `version`, the one closest in spelling: `v1beta20200601` (an API version ASO no longer
/// serves) means `v1api20200601`.
fn same_api_date<'v>(version: &str, served: &[&'v str]) -> Option<&'v str> {
    let date = api_date(version)?;
    served
        .iter()
        .filter(|v| api_date(v) == Some(date))
        .min_by_key(|v| strsim::levenshtein(version, v))
        .copied()
}

/// What follows ASO's prefix (`v`, `v1api`, `v1beta`, `v1alpha1api`) in a version: its first run
/// of eight digits and the rest (`20200601`, `20230501preview`).
fn api_date(version: &str) -> Option<&str> {
    let bytes = version.as_bytes();
    (0..bytes.len())
        .find(|&i| bytes.len() - i >= 8 && bytes[i..i + 8].iter().all(u8::is_ascii_digit))
        .map(|i| &version[i..])
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

    #[test]
    fn suggests_the_same_azure_api_version() {
        let served = [
            "v1api20230101",
            "v1api20230101storage",
            "v20230101",
            "v20230101storage",
            "v20250601",
            "v20250601storage",
        ];
        let hint = |v: &str| suggestion(v, &served);
        assert_eq!(hint("v1beta20230101"), "; did you mean `v1api20230101`?");
        assert_eq!(
            hint("v1alpha1api20230101"),
            "; did you mean `v1api20230101`?"
        );
        assert_eq!(hint("v2025061"), "; did you mean `v20250601`?");
        // The same Azure API version comes before a one-digit typo of another.
        assert_eq!(hint("v1api20250601"), "; did you mean `v20250601`?");
        assert_eq!(hint("v1api20230102"), "; did you mean `v1api20230101`?");
        assert_eq!(
            hint("v1beta20230101storage"),
            "; did you mean `v1api20230101storage`?"
        );
        assert_eq!(hint("v1beta20210401"), "");
        assert_eq!(hint("v1"), "");
        assert_eq!(hint(""), "");
        assert_eq!(hint(&"v1api20230101".repeat(8)), "");
        assert_eq!(api_date("v20230501preview"), Some("20230501preview"));
        assert_eq!(api_date("v1api2023"), None);
    }
}
