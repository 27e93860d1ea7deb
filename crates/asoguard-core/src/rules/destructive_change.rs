//! ASO200 `destructive-change`: a change between two revisions that loses an Azure resource or
//! breaks the sync. `asoguard plan` reports it, by comparing the revisions; `check`, which sees
//! one revision, never does.

use super::Checks;

pub(super) const SUMMARY: &str =
    "A change between two revisions deletes or replaces an Azure resource, or cannot sync (reported by `asoguard plan`)";

pub(super) const DOC: &str = r#"## What it does
Reported by `asoguard plan --base REF`, never by `check`: it renders both revisions, matches
ASO resources by Kubernetes and Azure identity, and reports each change that, once merged and
applied, makes ASO delete an Azure resource or fail to sync:

- **delete**: the object leaves what a pruning applier applies (Flux `prune: true`, ArgoCD
  automated prune, a deleted Application with the resources finalizer, a deleted pruning Flux
  Kustomization) while its policy in the base is `manage`; its children go with it;
- **replace**: its name, namespace or cluster changes while its Azure identity stays, from
  `manage`: ASO deletes the Azure resource, then creates a new, empty one;
- **immutable**: `spec.azureName` or `spec.owner` changes on a live object: ASO's webhook
  rejects the update and the sync fails.

The finding is placed at the line of the head that causes it (the renamed name, the
kustomization that dropped the file); for a deleted file, at what applied it.

## Why is this bad
Once deleted, the object is gone from the cluster and ASO acts on the policy it had there, the
base's: `manage` sends an Azure DELETE. A rename or a move is a delete and a create, so a
production database is deleted and created again, empty, though its Azure name never changed.

## Example
One pull request that moves a resource group from cluster `a` to cluster `b` by deleting the
file under `clusters/a` and adding it under `clusters/b`, with Flux pruning `clusters/a`.

Use instead, as ASO's FAQ does, three changes, each merged and applied before the next: set
`serviceoperator.azure.com/reconcile-policy: skip` (or `detach-on-delete`) on the object in
`a`; add it to `b`; remove it from `a`. `asoguard migrate` writes these steps.

## Fix
None: the fix is to split the change (see `asoguard plan`'s message and `docs/plan.md`).

## Source
ASO documentation, "Reconcile policy" and FAQ ("How can I migrate ASO resources between
clusters?"); Flux Kustomization `prune`; ArgoCD automated sync `prune` and the
`resources-finalizer.argocd.argoproj.io` finalizer.
"#;

/// DestructiveChange's checks, for the rule registry: none, since one revision alone never
/// shows a change (`asoguard plan` reports it).
pub(super) struct DestructiveChange;

impl Checks for DestructiveChange {}
