//! ASO005 `passive-not-skipped`: an ASO resource in a passive cluster that ASO would reconcile.

use rustc_hash::{FxHashMap, FxHashSet};

use super::{Checks, Seen};
use crate::config::{Role, Settings};
use crate::fix::Applicability;
use crate::index::{ContextKind, FileId, FixPlan, Index, Judgement, OriginKind};
use crate::manifest::{Policy, RECONCILE_POLICY};
use crate::registry::Rule;

pub(super) const SUMMARY: &str = "An ASO resource in a passive cluster is not `skip`, so two operators reconcile the same Azure resource";

pub(super) const DOC: &str = r#"## What it does
Finds ASO resources that a passive cluster (a cluster with `role: passive` in `.asoguard.yaml`)
applies with an effective reconcile policy other than `skip`. The effective policy is judged as
GitOps renders it: the resource's own annotation, Kustomize patches and `commonAnnotations`,
Flux `spec.commonMetadata`, and its Namespace.

## Why is this bad
In the ASO FAQ's active-passive layout the passive cluster holds the same resources as the
active one, with `skip`, so that only the active cluster's ASO writes to Azure. A passive copy
without `skip` is a second operator reconciling the same Azure resource: two clusters PUT
their own goal state in turn (the FAQ's active-active hazard), and a delete in the passive
cluster deletes the live resource.

## Example
```yaml
# clusters/dr/kustomization.yaml, in a passive cluster
resources:
  - ../../base
```

Use instead:
```yaml
resources:
  - ../../base
commonAnnotations:
  serviceoperator.azure.com/reconcile-policy: skip
```

## Fix
Safe, where the policy is decided: a `manage` or `detach-on-delete` in a patch,
`commonAnnotations` or `spec.commonMetadata` becomes `skip`; a resource that only passive
clusters apply gets `skip` itself; a base shared with an active cluster is left alone and the
passive kustomization (or Flux Kustomization) gets `skip` in its `commonAnnotations` (or
`spec.commonMetadata.annotations`). Resources an ArgoCD Application applies straight from a
shared directory are reported without a fix.

## Fix safety
Safe. `skip` makes ASO in the passive cluster stop writing to and deleting the resource; it
never starts anything.

## Source
ASO FAQ, "active-passive" and "How can I migrate resources between clusters?"; ASO
`guide/annotations.md` (`skip`: GET only).
"#;

/// PassiveNotSkipped's checks, for the rule registry.
pub(super) struct PassiveNotSkipped;

impl Checks for PassiveNotSkipped {
    fn judge(&self, index: &Index, settings: &Settings, out: &mut Vec<(FileId, Judgement)>) {
        judge(index, settings, out);
    }
}

pub(super) fn judge(index: &Index, settings: &Settings, out: &mut Vec<(FileId, Judgement)>) {
    let mut found: Vec<(FileId, Judgement)> = Vec::new();
    judge_each(index, settings, &mut found);
    // One finding per place; a kustomization-level one says how many resources it covers.
    let mut counts: FxHashMap<(FileId, crate::span::Span), usize> = FxHashMap::default();
    for (file, j) in &found {
        *counts.entry((*file, j.span)).or_default() += 1;
    }
    for (file, mut judgement) in found {
        match counts.remove(&(file, judgement.span)) {
            Some(1) => out.push((file, judgement)),
            Some(n) => {
                judgement.message = judgement
                    .message
                    .replacen(
                        " has reconcile-policy",
                        &format!(
                            " and {} more {} have reconcile-policy",
                            n - 1,
                            crate::wording::noun_for(n - 1, "ASO resource")
                        ),
                        1,
                    )
                    .replacen(
                        "the same Azure resource as",
                        "the same Azure resources as",
                        1,
                    );
                out.push((file, judgement));
            }
            None => {}
        }
    }
}

fn judge_each(index: &Index, settings: &Settings, out: &mut Vec<(FileId, Judgement)>) {
    // Only the paths of a cluster configured passive are passive.
    if !settings.clusters.iter().any(|c| c.role == Role::Passive) {
        return;
    }
    // Objects some non-passive context applies: their own file is not the place for `skip`.
    let mut shared: FxHashMap<(FileId, usize), bool> = FxHashMap::default();
    // Places that decide the policy of some object a non-passive context applies: a `skip`
    // written there would reach the active cluster too.
    let mut active_origins: FxHashSet<(FileId, crate::span::Span)> = FxHashSet::default();
    for instance in &index.instances {
        let passive = index.contexts[instance.context].role == Role::Passive;
        *shared.entry((instance.file, instance.object)).or_default() |= !passive;
        if !passive {
            if let (_, Some(origin)) = index.effective(instance) {
                active_origins.insert((origin.file, origin.entry));
            }
        }
    }
    for instance in &index.instances {
        let seen = Seen::of(index, instance);
        if !seen.object.aso || seen.context.role != Role::Passive {
            continue;
        }
        let (policy, origin) = index.effective(instance);
        if policy == Policy::Skip {
            continue;
        }
        // An invalid own value is ASO004's to report (its fix decides what was meant).
        if let (Some(o), Some((value, _))) = (origin, &instance.policy) {
            if o.kind == OriginKind::Own && Policy::parse(value).is_none() {
                continue;
            }
        }
        let place = seen.place(index, settings);
        let skip_value = |span| {
            Some((
                "Set reconcile-policy to `skip`".to_string(),
                Applicability::Safe,
                FixPlan::ReplaceValue {
                    span,
                    value: Policy::Skip.as_str().into(),
                },
            ))
        };
        let message = format!(
            "{} has reconcile-policy `{}` in {place}: ASO there would reconcile the same Azure resource as the active cluster",
            seen.label(),
            policy.as_str()
        );
        let shared_from_active = shared
            .get(&(instance.file, instance.object))
            .copied()
            .unwrap_or(false);
        let (file, span, fix) = match origin.map(|o| (o.kind, o)) {
            Some((
                OriginKind::Common
                | OriginKind::Flux
                | OriginKind::PatchFile
                | OriginKind::JsonPatch,
                o,
            )) if !active_origins.contains(&(o.file, o.entry)) => {
                (o.file, o.entry, skip_value(o.value))
            }
            Some((OriginKind::InlinePatch, o)) => (o.file, o.entry, None),
            _ if !shared_from_active => {
                let span = match origin {
                    Some(o) if o.kind == OriginKind::Own => o.entry,
                    _ => seen.object.name_span,
                };
                let fix = Some((
                    "Set reconcile-policy to `skip`".to_string(),
                    Applicability::Safe,
                    FixPlan::SetPolicy {
                        doc: seen.object.doc,
                        policy: Policy::Skip,
                    },
                ));
                (instance.file, span, fix)
            }
            _ => match seen.context.kind {
                ContextKind::Kustomization => {
                    let anchor = index.files[seen.context.file]
                        .facts
                        .kustomization
                        .as_ref()
                        .map_or_else(Default::default, |k| k.anchor);
                    let fix = Some((
                        "Add `skip` to this kustomization's commonAnnotations".to_string(),
                        Applicability::Safe,
                        FixPlan::SetEntryAt {
                            doc: 0,
                            path: vec!["commonAnnotations"],
                            key: RECONCILE_POLICY.into(),
                            value: Policy::Skip.as_str().into(),
                        },
                    ));
                    (seen.context.file, anchor, fix)
                }
                ContextKind::Flux => {
                    let doc = seen.context.doc.unwrap_or(0);
                    let span = index
                        .object_at(seen.context.file, doc)
                        .map_or_else(Default::default, |o| o.name_span);
                    let fix = Some((
                        "Add `skip` to this Flux Kustomization's spec.commonMetadata".to_string(),
                        Applicability::Safe,
                        FixPlan::SetEntryAt {
                            doc,
                            path: vec!["spec", "commonMetadata", "annotations"],
                            key: RECONCILE_POLICY.into(),
                            value: Policy::Skip.as_str().into(),
                        },
                    ));
                    (seen.context.file, span, fix)
                }
                _ => (instance.file, seen.object.name_span, None),
            },
        };
        out.push((
            file,
            Judgement {
                rule: Rule::PassiveNotSkipped,
                span,
                message,
                help: Some(
                    "passive copies carry `skip` until failover; see `asoguard rule ASO005`".into(),
                ),
                severity: None,
                fix,
                object: Some(seen.object_ref()),
                related: Vec::new(),
            },
        ));
    }
}
