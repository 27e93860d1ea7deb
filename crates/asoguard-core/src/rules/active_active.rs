//! ASO006 `active-active`: the same Azure resource managed from two active clusters.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use compact_str::CompactString;

use super::{Checks, Seen};
use crate::config::{Role, Settings};
use crate::index::substitute::is_unresolved;
use crate::index::{FileId, Index, Instance, Judgement};
use crate::manifest::Policy;
use crate::registry::Rule;

pub(super) const SUMMARY: &str = "The same Azure resource is managed (not `skip`) in two active clusters";

pub(super) const DOC: &str = r#"## What it does
Finds one Azure resource managed by ASO in two different active clusters (clusters are named
in `.asoguard.yaml`). Two ASO resources are the same Azure resource when they have the same
API group, kind, Azure name (`spec.azureName`, else `metadata.name` after Kustomize's
`namePrefix`/`nameSuffix`) and owner chain (the Azure names up their `spec.owner` references).
Each place is reported, pointing at the others.

## Why is this bad
Two operators then reconcile one Azure resource, each towards its own manifest: every
difference (a SKU, a tag, a network rule) is written back and forth, and each cluster's
delete deletes it for both. ASO's FAQ calls active-active possible but not recommended, and
its migration guidance exists to avoid exactly this overlap.

## Example
```yaml
# clusters/east/rg.yaml and clusters/west/rg.yaml, both active
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: shared-rg
spec:
  location: westeurope
```

Use instead: keep one copy active and make the other cluster passive (`role: passive` in
`.asoguard.yaml`, and `skip` on its copy).

## Fix
None: which cluster should own the resource is a decision. Mark one cluster passive and give
its copy `skip` (`asoguard failover` does both).

## Source
ASO FAQ, "Can I run ASO in active-active mode?" and the migration guidance.
"#;

/// ActiveActive's checks, for the rule registry.
pub(super) struct ActiveActive;

impl Checks for ActiveActive {
    fn judge(&self, index: &Index, settings: &Settings, out: &mut Vec<(FileId, Judgement)>) {
        judge(index, settings, out);
    }
}

/// ASO instances by context, namespace and Kubernetes name (as written, and as applied), to
/// follow owner references.
type ByName<'i> = FxHashMap<(usize, Option<&'i str>, &'i str), &'i Instance>;

/// The Azure identity of an instance: group, kind, Azure name, and the owner chain's names, as
/// applied (Flux variables substituted); `None` when a name in it is unknown (a `${...}` left
/// unresolved), which is never the same resource as another.
fn identity(
    index: &Index,
    by_name: &ByName,
    instance: &Instance,
) -> Option<(
    CompactString,
    CompactString,
    CompactString,
    Vec<CompactString>,
)> {
    let object = index.object(instance);
    let name = index
        .azure_name(instance)
        .map(|n| CompactString::from(n.as_ref()))
        .or_else(|| instance.name.clone())
        .unwrap_or_default();
    let mut chain: Vec<CompactString> = Vec::new();
    let mut owner = index
        .owner(instance)
        .map(|o| CompactString::from(o.as_ref()));
    while let Some(o) = owner.take() {
        if chain.len() >= 8 || chain.contains(&o) {
            break;
        }
        // Follow the owner within the same context and namespace, by its Kubernetes name.
        match by_name.get(&(instance.context, instance.namespace.as_deref(), o.as_str())) {
            Some(parent) => {
                chain.push(
                    index
                        .azure_name(parent)
                        .map(|n| CompactString::from(n.as_ref()))
                        .or_else(|| parent.name.clone())
                        .unwrap_or_else(|| o.clone()),
                );
                owner = index.owner(parent).map(|o| CompactString::from(o.as_ref()));
            }
            None => chain.push(o),
        }
    }
    let unknown = is_unresolved(&name) || chain.iter().any(|c| is_unresolved(c));
    (!unknown).then(|| (object.group.clone(), object.kind.clone(), name, chain))
}

pub(super) fn judge(index: &Index, settings: &Settings, out: &mut Vec<(FileId, Judgement)>) {
    // Only the paths of a cluster configured active are in one: with fewer than two, no
    // resource can be managed in two.
    let active = settings.clusters.iter().filter(|c| c.role == Role::Active);
    if active.count() < 2 {
        return;
    }
    let mut by_name: ByName = FxHashMap::default();
    for instance in index.instances.iter().filter(|i| i.aso) {
        let object = index.object(instance);
        for name in [object.name.as_deref(), instance.name.as_deref()]
            .into_iter()
            .flatten()
        {
            by_name
                .entry((instance.context, instance.namespace.as_deref(), name))
                .or_insert(instance);
        }
    }
    let mut by_identity: BTreeMap<_, Vec<(usize, &Instance)>> = BTreeMap::new();
    for instance in &index.instances {
        let context = &index.contexts[instance.context];
        let (Some(cluster), Role::Active) = (context.cluster, context.role) else {
            continue;
        };
        if !index.object(instance).aso || index.effective(instance).0 == Policy::Skip {
            continue;
        }
        let Some(identity) = identity(index, &by_name, instance) else {
            continue;
        };
        by_identity
            .entry(identity)
            .or_default()
            .push((cluster, instance));
    }
    for places in by_identity.values() {
        let mut clusters: Vec<usize> = places.iter().map(|(c, _)| *c).collect();
        clusters.sort_unstable();
        clusters.dedup();
        if clusters.len() < 2 {
            continue;
        }
        let names: Vec<String> = clusters
            .iter()
            .map(|c| format!("`{}`", settings.clusters[*c].name))
            .collect();
        for (cluster, instance) in places {
            let seen = Seen::of(index, instance);
            let related = places
                .iter()
                .filter(|(c, _)| c != cluster)
                .map(|(c, other)| {
                    let o = index.object(other);
                    let (file, span) =
                        if (other.file, other.object) == (instance.file, instance.object) {
                            // A shared base: point at what applies it in the other cluster.
                            let ctx = &index.contexts[other.context];
                            (ctx.file, Default::default())
                        } else {
                            (other.file, o.name_span)
                        };
                    index.related(
                        file,
                        span,
                        format!(
                            "also managed in active cluster `{}`",
                            settings.clusters[*c].name
                        ),
                    )
                })
                .collect();
            out.push((
                instance.file,
                Judgement {
                    rule: Rule::ActiveActive,
                    span: seen.object.name_span,
                    message: format!(
                        "{} is managed in active clusters {}: two operators reconcile the same Azure resource",
                        seen.label(),
                        names.join(" and ")
                    ),
                    help: Some("keep one cluster active; give the other copies `skip` and mark their cluster passive".into()),
                    severity: None,
                    fix: None,
                    object: Some(seen.object_ref()),
                    related,
                },
            ));
        }
    }
}
