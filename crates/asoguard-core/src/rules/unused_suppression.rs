//! ASO100 `unused-suppression`: a suppression that suppresses nothing. Reported by
//! `suppress::apply` once every rule has run.

use super::Checks;

pub(super) const SUMMARY: &str = "A suppression comment or `asoguard.io/ignore` annotation that suppresses nothing";

pub(super) const DOC: &str = r#"## What it does
Finds suppressions that silence no finding: a `# asoguard: ignore[...]` comment, an
`ignore-file` comment or an `asoguard.io/ignore` annotation whose rules no longer fire where
it applies, or a suppression comment placed where it applies to nothing (an own-line comment
that is not directly above an object's first line). Rules turned off in the configuration do
not count as unused.

## Why is this bad
A stale suppression is a hole waiting for the next hazard: once the original reason is gone,
it silently hides the next `skip` or missing `detach-on-delete` someone adds to that object.
Suppressions are meant to record a deliberate decision, so they should go when the decision
no longer applies.

## Example
```yaml
metadata:
  name: prod-rg
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete  # asoguard: ignore[ASO001]
```

Use instead:
```yaml
metadata:
  name: prod-rg
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
```

## Fix
Safe. Removes the suppression: an own-line comment with its line, a trailing comment with
the spaces before it, the annotation (and `annotations` when it was the only one); when only
some of the listed rules are unused, only those names are removed from the list.

## Fix safety
Safe. A suppression is a comment or an annotation that only asoguard reads; removing an unused
one changes nothing in Kubernetes or Azure.

## Source
asoguard's suppression syntax (README, "Suppressions"); ruff's `RUF100` and kube-linter's
`ignore-check.kube-linter.io` annotations inspired it.
"#;

/// UnusedSuppression's checks, for the rule registry.
pub(super) struct UnusedSuppression;

impl Checks for UnusedSuppression {}
