//! ASO004 `invalid-reconcile-policy`: a reconcile-policy value ASO does not know, which it
//! silently treats as `manage`.

use super::{Checks, DocumentNeeds, FileContext};
use crate::diagnostic::Diagnostic;
use crate::fix::Fix;
use crate::manifest::{DeclaredPolicy, Manifest, Policy, RECONCILE_POLICY};
use crate::registry::Rule;
use crate::yaml::edit;

pub(super) const SUMMARY: &str = "A reconcile-policy value other than exactly `manage`, `skip` or `detach-on-delete`, which ASO treats as `manage`";

pub(super) const DOC: &str = r#"## What it does
Finds `serviceoperator.azure.com/reconcile-policy` values on ASO resources and Namespace
objects that are not exactly `manage`, `skip` or `detach-on-delete`: `Skip`,
`detach_on_delete`, `Detach-On-Delete`, `detach`, ` skip `, `manged`...

## Why is this bad
ASO compares the value case-sensitively. Any other value is logged in the operator's output
and treated as `manage`. The manifest reads as protected (`Detach-On-Delete`) or as read-only
(`Skip`), but ASO will PUT changes and, when the object is deleted, DELETE the Azure resource.
Nothing in Git or `kubectl` shows the difference.

## Example
```yaml
metadata:
  name: prod-vault
  annotations:
    serviceoperator.azure.com/reconcile-policy: Detach-On-Delete
```

Use instead:
```yaml
metadata:
  name: prod-vault
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
```

## Fix
Safe when the value differs from a valid one only in case, `_` for `-`, or surrounding
spaces. Unsafe (needs `--unsafe-fixes`) when a single valid value is within a small edit
distance (`manged` → `manage`): a typo is likely, but the intent cannot be proven. Otherwise
no fix: choose the value yourself. Quotes around the value are kept.

## Fix safety
Safe when the value differs from a valid one only in case, `_` for `-`, or surrounding
spaces: the intent is unambiguous, and the corrected value never makes ASO start writing or
deleting (ASO reads the invalid value as `manage`, so `skip` and `detach-on-delete` only take
writes and deletes away). One exception: a value that means `skip` (`Skip`) on an object an
active cluster applies. Correcting it stops ASO managing a resource it manages today, which
ASO001 would then report; whether that is wanted is a person's call, so that fix is unsafe
(in a passive cluster it is safe). Unsafe for a typo (`manged`): the intent is likely, not
proven.

## Source
ASO `v2/pkg/common/annotations/reconcile_policy.go` (ParseReconcilePolicy: exact, lower-case
values; anything else is an error the reconciler logs and falls back to `manage`).
"#;

/// InvalidReconcilePolicy's checks, for the rule registry.
pub(super) struct InvalidReconcilePolicy;

impl Checks for InvalidReconcilePolicy {
    fn check_document(
        &self,
        cx: &FileContext,
        doc: usize,
        manifest: &Manifest,
        out: &mut Vec<Diagnostic>,
    ) -> DocumentNeeds {
        DocumentNeeds::index_if(check(cx, doc, manifest, false, out))
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
            check(cx, doc, manifest, true, out);
        }
    }
}

/// Check the document's policy value. A value that means `skip` (`Skip`) is judged once the
/// index says where the document is applied (`cx.index` is set): returns whether the check
/// needs it. With `indexed`, only that judgement is made (the others were made before).
pub(super) fn check(
    cx: &FileContext,
    doc: usize,
    manifest: &Manifest,
    indexed: bool,
    out: &mut Vec<Diagnostic>,
) -> bool {
    if !manifest.is_aso() && !manifest.is("", "Namespace") {
        return false;
    }
    let DeclaredPolicy::Invalid(value) = manifest.declared_policy() else {
        return false;
    };
    let Some(entry) = manifest.annotation(RECONCILE_POLICY) else {
        return false;
    };
    let mut suggestion = suggest(&value);
    if let Some((Policy::Skip, true)) = suggestion {
        // `skip` only takes ASO's writes away, but in an active cluster it is ASO001's
        // question whether that is wanted: safe only where every place applying the object is
        // passive (or nothing applies it), so that the fix raises no new finding.
        if cx.index.is_none() {
            return true;
        }
        suggestion = Some((Policy::Skip, cx.applied_only_passive(doc)));
    } else if indexed {
        return false;
    }
    let fix = suggestion.map(|(policy, safe)| {
        let edits = vec![edit::replace_scalar(
            &cx.source.text,
            &entry.value,
            policy.as_str(),
        )];
        let title = format!("Replace `{value}` with `{}`", policy.as_str());
        if safe {
            Fix::safe(title, edits)
        } else {
            Fix::unsafe_(title, edits)
        }
    });
    let did_you_mean = suggestion.map_or_else(
        || "; valid values are `manage`, `skip` and `detach-on-delete`".to_string(),
        |(p, _)| format!("; did you mean `{}`?", p.as_str()),
    );
    out.push(
        Diagnostic::new(
            Rule::InvalidReconcilePolicy,
            entry.value.span,
            format!(
                "reconcile-policy `{value}` is not a valid value: ASO treats it as `manage`{did_you_mean}"
            ),
        )
        .with_help("ASO's values are case-sensitive: `manage`, `skip`, `detach-on-delete`")
        .with_fix(fix)
        .with_object(manifest),
    );
    false
}

/// The policy a mistyped value most likely means, and whether that is certain (safe).
fn suggest(value: &str) -> Option<(Policy, bool)> {
    let normalized = value.trim().to_ascii_lowercase().replace('_', "-");
    if let Some(policy) = Policy::parse(&normalized) {
        return Some((policy, true));
    }
    let mut close = Policy::ALL
        .into_iter()
        .map(|p| (p, strsim::levenshtein(&normalized, p.as_str())))
        .filter(|(_, d)| *d <= 2)
        .collect::<Vec<_>>();
    close.sort_by_key(|(_, d)| *d);
    match close.as_slice() {
        [(p, _)] => Some((*p, false)),
        [(p, d1), (_, d2), ..] if d1 < d2 => Some((*p, false)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_safe_and_unsafe() {
        assert_eq!(suggest("Skip"), Some((Policy::Skip, true)));
        assert_eq!(
            suggest(" detach_on_delete "),
            Some((Policy::DetachOnDelete, true))
        );
        assert_eq!(
            suggest("Detach-On-Delete"),
            Some((Policy::DetachOnDelete, true))
        );
        assert_eq!(suggest("manged"), Some((Policy::Manage, false)));
        assert_eq!(
            suggest("detach-on-delet"),
            Some((Policy::DetachOnDelete, false))
        );
        assert_eq!(suggest("detach"), None);
        assert_eq!(suggest("keep"), None);
    }
}
