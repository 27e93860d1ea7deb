//! ASO014 `reference-outside-root`: a kustomization reference asoguard refuses to follow.
//! The index records each such entry while it renders kustomizations; this rule reports them.

use super::Checks;
use crate::config::Settings;
use crate::index::{FileId, Index, Judgement, OutsideEntry};
use crate::registry::Rule;

pub(super) const SUMMARY: &str = "A kustomization's resource, component or patch points outside the repository root";

pub(super) const DOC: &str = r#"## What it does
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
"#;

/// ReferenceOutsideRoot's checks, for the rule registry.
pub(super) struct ReferenceOutsideRoot;

impl Checks for ReferenceOutsideRoot {
    fn judge(&self, index: &Index, _: &Settings, out: &mut Vec<(FileId, Judgement)>) {
        for outside in &index.outside_root {
            let (message, help) = match outside.entry {
                OutsideEntry::Resource => (
                    format!(
                        "`{}` points outside the repository root: asoguard does not read it, so \
                         what it adds is not checked",
                        outside.text
                    ),
                    Some(
                        "keep bases inside the repository, or lint from a root that contains them"
                            .to_string(),
                    ),
                ),
                OutsideEntry::Patch => (
                    format!(
                        "patch `{}` points outside the repository root: asoguard does not read it",
                        outside.text
                    ),
                    None,
                ),
            };
            out.push((
                outside.file,
                Judgement {
                    rule: Rule::ReferenceOutsideRoot,
                    span: outside.span,
                    message,
                    help,
                    severity: None,
                    fix: None,
                    object: None,
                    related: Vec::new(),
                },
            ));
        }
    }
}
