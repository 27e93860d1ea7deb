//! ASO014 `reference-outside-root`: a kustomization reference asoguard refuses to follow.
//! Reported by the index while it renders kustomizations.

use super::{FixSafety, Fixability, RuleMeta};
use crate::diagnostic::Severity;

pub(super) const META: RuleMeta = RuleMeta {
    code: "ASO014",
    name: "reference-outside-root",
    severity: Severity::Error,
    fixable: Fixability::Never,
    safety: FixSafety::None,
    default_enabled: true,
    summary: "A kustomization's resource, component or patch points outside the repository root",
    doc: r#"## What it does
Finds `resources`, `components` and patch paths of a kustomization that resolve outside the
repository root (with `..` or an absolute path). asoguard never reads files outside the root,
so the resources they would add are not checked.

## Why is this bad
What such a kustomization applies depends on files the repository does not hold: the result
changes with the machine it is built on, and asoguard (like a reviewer of the repository)
cannot vouch for it. A hazard in those files reaches the cluster unchecked.

## Example
```yaml
resources:
  - ../../../shared-infra/azure
```

Use instead: bring the base into the repository, reference it as a remote base pinned to a
revision, or lint from a root that contains it (`--config` in the parent directory).

## Fix
None.

## Source
Kustomize `resources` semantics; asoguard's root rule (README, "Configuration").
"#,
};
