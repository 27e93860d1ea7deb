//! What becomes of an object the head no longer applies: whether the cluster deletes it (its
//! applier prunes, or is itself deleted with everything it applied) or keeps it.
//!
//! Whether an applier prunes is the head's setting: the controller reconciling the head
//! decides what it deletes. Whether the object is exempt is the base's: the annotation is on
//! the object in the cluster. Whether a deleted applier cascades is the base's: it is deleted
//! as it was. And whether an applier removed from Git is deleted from the cluster at all is
//! its own applier's to decide, as for any object.

use super::view::{View, describe_applier};
use crate::index::inventory::{ApplierKind, Entry};

/// How many appliers of appliers are followed (an ArgoCD root Application often applies its
/// own file: a loop, not a chain).
const MOST_APPLIERS: usize = 8;

/// What becomes of an object no applier applies any more.
pub(super) enum Gone {
    /// The cluster deletes it, for this reason.
    Deleted(String),
    /// It stays in the cluster, for this reason.
    Orphaned(String),
    /// It is still applied: its applier is removed from Git but not from the cluster, and
    /// goes on applying the object's file, which is still there.
    StillApplied,
}

/// What becomes of `e`, a base entry the head no longer applies.
pub(super) fn gone(base: &View, head: &View, e: &Entry) -> Gone {
    gone_at(base, head, e, 0)
}

fn gone_at(base: &View, head: &View, e: &Entry, depth: usize) -> Gone {
    let applier = describe_applier(e);
    let (prunes, stays) = match head.applier_prunes(e) {
        Some(prunes) => (prunes, None),
        None if e.applier == ApplierKind::File => {
            return Gone::Deleted(format!(
                "{} no longer holds it, and nothing in the repository says what applied that \
                 file (kubectl, a bootstrap) nor whether it prunes, so it is planned as pruned",
                e.applier_path.display()
            ));
        }
        None if e.applier == ApplierKind::Kustomization => {
            return Gone::Deleted(format!(
                "{applier} no longer applies it, and nothing in the repository says whether what \
                 builds it prunes, so it is planned as pruned"
            ));
        }
        None => match applier_deleted_at(base, head, e, depth) {
            Some(Ok(why)) if e.applier_cascades => {
                return Gone::Deleted(format!(
                    "{applier} is deleted ({why}), and deleting it deletes everything it applied \
                     ({})",
                    cascade(e)
                ));
            }
            Some(Ok(why)) => {
                return Gone::Orphaned(format!(
                    "{applier} is deleted ({why}), but not what it applied ({}): the object stays \
                     in the cluster",
                    no_cascade(e)
                ));
            }
            // Removed from Git but not from the cluster: it goes on reconciling as it was,
            // and prunes as it did.
            Some(Err(_)) if head.written.contains(&(e.written_at.path.clone(), e.doc)) => {
                return Gone::StillApplied;
            }
            Some(Err(why)) => (
                e.prune,
                Some(format!("removed from Git, it stays in the cluster: {why}")),
            ),
            None => (e.prune, None),
        },
    };
    let still = stays.map_or_else(String::new, |why| format!(" ({why})"));
    if e.prune_exempt {
        Gone::Orphaned(format!(
            "{applier}{still} no longer applies it, but the object is exempt from pruning: it \
             stays in the cluster"
        ))
    } else if prunes {
        Gone::Deleted(format!("{applier}{still} no longer applies it, and prunes"))
    } else if e.applier == ApplierKind::Flux {
        Gone::Orphaned(format!(
            "{applier}{still} no longer applies it, but does not prune: the object stays in the \
             cluster"
        ))
    } else {
        Gone::Orphaned(format!(
            "{applier}{still} no longer applies it, but has no automated prune: the object stays \
             in the cluster, OutOfSync"
        ))
    }
}

/// What deleting `e`'s applier does to what it applied.
fn cascade(e: &Entry) -> &'static str {
    match e.applier {
        ApplierKind::Flux => "it prunes, or its deletionPolicy says so",
        _ => "it has the resources finalizer",
    }
}

/// Why deleting `e`'s applier leaves what it applied.
fn no_cascade(e: &Entry) -> &'static str {
    match (e.applier.clone(), e.prune_exempt) {
        (_, true) => "the object is exempt",
        (ApplierKind::Flux, _) => "it does not prune, or its deletionPolicy is Orphan",
        _ => "no resources finalizer, or the object has Delete=false",
    }
}

/// Whether the head deletes `e`'s applier from the cluster: `None` when the head still has it,
/// `Some(Ok(why))` when it is deleted, `Some(Err(why))` when it is removed from Git but stays.
pub(super) fn applier_deleted(
    base: &View,
    head: &View,
    e: &Entry,
) -> Option<Result<String, String>> {
    if head.applier_prunes(e).is_some() {
        return None;
    }
    applier_deleted_at(base, head, e, 0)
}

fn applier_deleted_at(
    base: &View,
    head: &View,
    e: &Entry,
    depth: usize,
) -> Option<Result<String, String>> {
    let name = e.applier_name.clone()?;
    let key = (e.applier_path.clone(), name);
    if head.applier_objects.contains_key(&key) {
        // Still in Git, but applying elsewhere (another cluster, another path).
        return Some(Err("it is still in the repository".to_string()));
    }
    Some(match base.applier_objects.get(&key) {
        None => Ok("removed from the repository".to_string()),
        Some(_) if depth >= MOST_APPLIERS => Ok("removed from the repository".to_string()),
        Some(object) => match gone_at(base, head, object, depth + 1) {
            Gone::Deleted(why) => Ok(why),
            Gone::Orphaned(why) => Err(why),
            Gone::StillApplied => Err("what applies it still applies its file".to_string()),
        },
    })
}
