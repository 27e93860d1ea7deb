//! `failover`: the ASO FAQ's disaster-recovery step. The two clusters swap roles in
//! `.asoguard.yaml`, and the manifests follow: the promoted cluster's resources lose `skip`
//! (critical kinds get `detach-on-delete`), the demoted cluster's get it, all in one
//! transaction.
//!
//! The manifests are changed the way `asoguard check --fix` would fix the roles' new ASO001
//! (`skip` in an active cluster) and ASO005 (a passive cluster without `skip`) findings, so a
//! policy is changed where it is written: a resource's own annotation, an overlay's patch or
//! `commonAnnotations`, a Namespace. Only files of the two clusters are changed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::config::{Role, Settings};
use crate::discover::{self, Target};
use crate::engine::{self, RunOptions};
use crate::fix::{Applicability, Fix, apply_fixes};
use crate::index::{FileId, Index, Instance, OriginKind, facts::Extra};
use crate::manifest::Policy;
use crate::registry::Rule;
use crate::yaml;

use super::config_edit::{self, role_str};
use super::identity::{self, Identity};
use super::rewrite::{self, Status, Step};
use super::verify;
use super::{FileChange, Plan, TransformError, applied_label, count};

/// The most rounds of fixes; each round re-checks the repository.
const MAX_ROUNDS: usize = 20;

/// Which clusters (names from `.asoguard.yaml`'s `clusters`) trade places.
#[derive(Clone, Debug)]
pub struct FailoverOptions {
    /// The passive cluster that takes over: it becomes active.
    pub promote: String,
    /// The active cluster that stands down: it becomes passive. Without it, another active
    /// cluster holding the same resources is a conflict (two operators would reconcile them).
    pub demote: Option<String>,
}

/// Plan a failover. Errors when the config is missing, a cluster is unknown, the two are the
/// same, or a file of either cluster cannot be read or parsed.
pub fn plan(options: &FailoverOptions, settings: &Settings) -> Result<Plan, TransformError> {
    let Some(config_path) = settings.config_path.clone() else {
        return Err(TransformError::new(
            "failover needs clusters in .asoguard.yaml, and none was found (pass --config FILE)",
        ));
    };
    let names: Vec<&str> = settings.clusters.iter().map(|c| c.name.as_str()).collect();
    let check_name = |name: &str| -> Result<Role, TransformError> {
        match settings.clusters.iter().find(|c| c.name == name) {
            Some(cluster) => Ok(cluster.role),
            None => {
                let hint = names
                    .iter()
                    .min_by_key(|n| strsim::levenshtein(name, n))
                    .filter(|n| strsim::levenshtein(name, n) <= (name.len() / 3).max(1))
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_else(|| format!(" (clusters: {})", names.join(", ")));
                Err(TransformError::at(
                    &config_path,
                    format!("no cluster `{name}`{hint}"),
                ))
            }
        }
    };
    let promote_role = check_name(&options.promote)?;
    let demote_role = options.demote.as_deref().map(check_name).transpose()?;
    if options.demote.as_deref() == Some(options.promote.as_str()) {
        return Err(TransformError::new(format!(
            "cannot promote and demote the same cluster `{}`",
            options.promote
        )));
    }
    let config_text = discover::read_text(&config_path, settings.max_file_size)
        .map_err(|e| TransformError::at(&config_path, e.to_string()))?;

    // Walk the root as a path relative to the working directory when it lies under it, so
    // files read in messages as users type them.
    let walk_root = std::env::current_dir()
        .ok()
        .and_then(|cwd| settings.root.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .map_or_else(
            || settings.root.clone(),
            |r| {
                if r.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    r
                }
            },
        );
    let (targets, _) = discover::discover(std::slice::from_ref(&walk_root), settings, false);
    let mut sides: Vec<Target> = Vec::new();
    let mut others: Vec<(Target, String)> = Vec::new();
    for target in targets {
        let Some(cluster) = settings.cluster_of(&target.fs_path) else {
            continue;
        };
        if cluster.name == options.promote || Some(&cluster.name) == options.demote.as_ref() {
            sides.push(target);
        } else if cluster.role == Role::Active {
            others.push((target, cluster.name.clone()));
        }
    }
    let mut plan = Plan {
        scope: sides.iter().map(|t| t.fs_path.to_path_buf()).collect(),
        ..Plan::default()
    };
    plan.scope.push(config_path.clone());
    unread_manifests(&mut plan, settings, &walk_root, &sides, options);
    let loaded = rewrite::load(sides, settings)?;
    for file in &loaded {
        if file.status != Status::Yaml && file.text.contains(".azure.com/") {
            plan.conflict(
                &file.target.display,
                "SOPS-encrypted or templated file with ASO resources: its reconcile-policy cannot be edited; change it by hand, or exclude the file",
            );
        }
    }
    // The repository as `check` renders it today: what each cluster applies, with names as
    // applied (Flux variables substituted).
    let index = super::repository_index(settings);
    let position = |name: &str| settings.clusters.iter().position(|c| c.name == name);
    let sides = Sides {
        promote: position(&options.promote),
        demote: options.demote.as_deref().and_then(position),
    };
    let elsewhere = applied_elsewhere(&mut plan, settings, &index, sides);
    another_active_cluster(&mut plan, settings, &index, sides, options, &elsewhere);

    // Flip the roles in the config.
    let mut config_after = config_text.clone();
    let mut config_actions = Vec::new();
    let flips = [
        Some((&options.promote, promote_role, Role::Active)),
        options
            .demote
            .as_ref()
            .zip(demote_role)
            .map(|(name, role)| (name, role, Role::Passive)),
    ];
    for (name, was, role) in flips.into_iter().flatten() {
        match config_edit::set_role(&config_after, name, role) {
            Ok(Some(text)) => {
                config_after = text;
                config_actions.push(format!(
                    "cluster `{name}`: role {} (was {})",
                    role_str(role),
                    role_str(was)
                ));
            }
            Ok(None) => plan
                .notes
                .push(format!("cluster `{name}` is {} already", role_str(role))),
            Err(message) => plan.conflict(&config_path, message),
        }
    }

    // The manifests follow the new roles: apply check's own fixes for what the flip causes.
    let (promoted, demoted) = if plan.conflicts.is_empty() {
        let new_settings = verify::with_config(settings, &config_path, &config_after)
            .map_err(|e| TransformError::at(&config_path, e))?;
        let mut seeds = invalid_values(&mut plan, settings, &index, sides, &loaded);
        shared_policies(&index, sides, &loaded, &mut seeds);
        let counts = follow_roles(
            &mut plan,
            (settings, &new_settings),
            (&index, sides),
            &loaded,
            seeds,
        );
        changed_nothing(&mut plan, settings, &index, sides, counts.1);
        counts
    } else {
        (0, 0)
    };
    plan.push_change(FileChange {
        path: config_path.clone(),
        before: Some(config_text),
        after: config_after,
        actions: config_actions,
        source: None,
    });
    verify::verify(&mut plan, settings, Some(&config_path));

    if !plan.conflicts.is_empty() {
        return Ok(plan.finish());
    }
    if let Some(demote) = &options.demote {
        plan.checklist.push(format!(
            "Sync cluster `{demote}` first: {} its resources `skip`, so its ASO stops writing to Azure before `{}` takes over (if that cluster is down, it picks up `skip` when it returns).",
            verb(demoted, "give"),
            options.promote
        ));
    } else {
        plan.checklist.push(
            "No --demote: make sure the formerly active cluster's ASO is stopped, or it and the promoted cluster reconcile the same resources.".into(),
        );
    }
    plan.checklist.push(format!(
        "Then sync cluster `{}`: {} `skip` off its resources (critical kinds keep `detach-on-delete`), and its ASO reconciles them.",
        options.promote,
        verb(promoted, "take"),
    ));
    plan.checklist.push(format!(
        "Check that the promoted resources turn Ready (`kubectl get <kind> -A` in cluster `{}`).",
        options.promote
    ));
    Ok(plan.finish())
}

/// Conflicts for manifests of the two clusters that asoguard does not read (excluded by the
/// config, or symbolic links) but that hold ASO resources: the failover would miss them, and a
/// missed resource of the demoted cluster keeps being reconciled there.
fn unread_manifests(
    plan: &mut Plan,
    settings: &Settings,
    walk_root: &Path,
    read: &[Target],
    options: &FailoverOptions,
) {
    let read: std::collections::HashSet<&Path> = read.iter().map(|t| &*t.fs_path).collect();
    for entry in walkdir::WalkDir::new(walk_root)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git")
        .filter_map(Result::ok)
    {
        let fs_path = crate::config::absolute(entry.path());
        let in_scope = settings
            .cluster_of(&fs_path)
            .is_some_and(|c| c.name == options.promote || Some(&c.name) == options.demote.as_ref());
        if !in_scope
            || read.contains(fs_path.as_path())
            || !discover::is_yaml_name(entry.path())
            || entry.file_type().is_dir()
            || !rewrite::holds_aso(entry.path(), settings)
        {
            continue;
        }
        let why = if entry.file_type().is_symlink() {
            "a symbolic link (never followed)"
        } else {
            "excluded by the config's exclude globs"
        };
        plan.conflict(
            entry.path(),
            format!("{why}, yet it holds ASO resources of a cluster this failover changes; stop excluding it, or replace the link with the file"),
        );
    }
}

/// The two clusters of a failover, as indexes into `Settings::clusters`.
#[derive(Clone, Copy, Debug)]
struct Sides {
    promote: Option<usize>,
    demote: Option<usize>,
}

/// `1 change gives`, `2 changes give`: a count of changes and a verb that agrees with it.
fn verb(n: usize, verb: &str) -> String {
    let singular = format!("{verb}s");
    format!(
        "{} {}",
        crate::wording::plural(n, "change"),
        crate::wording::agree(n, &singular, verb)
    )
}

/// A few labels of instances, for a message: the first three with their files, and how many
/// more.
fn some_labels(index: &Index, instances: &[&Instance]) -> String {
    let mut out: Vec<String> = instances
        .iter()
        .take(3)
        .map(|i| format!("{} in {}", applied_label(index, i), index.describe(i.file)))
        .collect();
    if instances.len() > 3 {
        out.push(format!("{} more", instances.len() - 3));
    }
    out.join(", ")
}

/// Conflicts for ASO resources that the promoted cluster applies and another active cluster
/// (neither of the two) reconciles too: promoting would have two operators reconcile them.
/// Compared as applied (Flux variables substituted, namespaces as rendered).
fn another_active_cluster(
    plan: &mut Plan,
    settings: &Settings,
    index: &Index,
    sides: Sides,
    options: &FailoverOptions,
    elsewhere: &HashSet<(FileId, usize)>,
) {
    let Some(promote) = sides.promote else {
        return;
    };
    let mut promoted: HashMap<Identity, FileId> = HashMap::new();
    for instance in index.instances.iter().filter(|i| i.aso) {
        if index.contexts[instance.context].cluster == Some(promote) {
            if let Some(id) = identity::of_instance(index, instance) {
                promoted.entry(id).or_insert(instance.file);
            }
        }
    }
    for instance in index.instances.iter().filter(|i| i.aso) {
        let context = &index.contexts[instance.context];
        let Some(cluster) = context.cluster else {
            continue;
        };
        if Some(cluster) == sides.promote
            || Some(cluster) == sides.demote
            || context.role != Role::Active
            || index.effective(instance).0 == Policy::Skip
            || elsewhere.contains(&(instance.file, instance.object))
        {
            continue;
        }
        let Some(id) = identity::of_instance(index, instance) else {
            continue;
        };
        if let Some(&at) = promoted.get(&id) {
            let name = &settings.clusters[cluster].name;
            plan.conflict(
                &verify::display(&index.files[instance.file].fs_path),
                format!(
                    "{} ({id}) is also in {} and reconciled by active cluster `{name}`: promoting `{}` alone would have two ASO instances reconcile it; pass --demote {name}",
                    applied_label(index, instance),
                    index.describe(at),
                    options.promote
                ),
            );
        }
    }
}

/// Edits made before `check`'s fixes: new texts and their actions by absolute path, and how
/// many resources they demote.
#[derive(Default)]
struct Seeds {
    texts: BTreeMap<PathBuf, String>,
    actions: BTreeMap<PathBuf, Vec<String>>,
    demoted: usize,
}

/// The demoted cluster's resources whose own reconcile-policy is not a value ASO knows
/// (`Detach-On-Delete`, `Skip`, empty): ASO reconciles them as `manage`, and ASO005 leaves them
/// to ASO004, so `check`'s fixes would not demote them. They get `skip` too: the value already
/// means nothing to ASO, and `skip` is what the failover is for (it never deletes either, so a
/// meant `detach-on-delete` loses nothing while the cluster stands by). Refusing would stop an
/// emergency failover on a typo. One in a file outside the two clusters, or applied by another
/// cluster too (its value would change there as well), is a conflict naming it.
fn invalid_values(
    plan: &mut Plan,
    settings: &Settings,
    index: &Index,
    sides: Sides,
    loaded: &[rewrite::Loaded],
) -> Seeds {
    let mut seeds = Seeds::default();
    let Some(demote) = sides.demote else {
        return seeds;
    };
    let demote_name = &settings.clusters[demote].name;
    let originals: HashMap<&Path, &rewrite::Loaded> = loaded
        .iter()
        .filter(|f| f.status == Status::Yaml)
        .map(|f| (&*f.target.fs_path, f))
        .collect();
    let mut wanted: BTreeMap<PathBuf, BTreeMap<usize, (String, String)>> = BTreeMap::new();
    for instance in index.instances.iter().filter(|i| i.aso) {
        if index.contexts[instance.context].cluster != Some(demote) {
            continue;
        }
        let Some((value, origin)) = &instance.policy else {
            continue;
        };
        if origin.kind != OriginKind::Own || Policy::parse(value).is_some() {
            continue;
        }
        let label = applied_label(index, instance);
        let fs_path = &index.files[origin.file].fs_path;
        let shown = verify::display(fs_path);
        let was = rewrite::describe(Some(value));
        let other = index
            .instances_of(origin.file, origin.doc)
            .map(|i| index.contexts[i.context].cluster)
            .find(|c| *c != Some(demote));
        if let Some(other) = other {
            let other = other.map_or_else(
                || "an applier in no cluster".to_string(),
                |c| format!("cluster `{}`", settings.clusters[c].name),
            );
            plan.conflict(
                &shown,
                format!(
                    "{label} has reconcile-policy `{was}`, which ASO reconciles as `manage`, and {other} applies it too: giving it `skip` to demote `{demote_name}` would change it there as well; fix the value first (ASO004), or give each cluster its own copy"
                ),
            );
            continue;
        }
        if !originals.contains_key(&**fs_path) {
            plan.conflict(
                &shown,
                format!(
                    "{label} has reconcile-policy `{was}`, which ASO reconciles as `manage`, in a file outside both clusters: the failover cannot give it `skip`, so `{demote_name}` would keep writing to it; fix the value first (ASO004), or give the cluster its own copy"
                ),
            );
            continue;
        }
        wanted
            .entry(fs_path.to_path_buf())
            .or_default()
            .insert(origin.doc, (label, was));
    }
    for (path, docs) in wanted {
        let file = originals[path.as_path()];
        let skip = Some(Policy::Skip.as_str());
        match rewrite::rewrite(&file.text, |doc, text, root| match docs.get(&doc) {
            Some((label, was)) => match rewrite::policy_step(text, root, skip) {
                Step::Edit(edits, _) => Step::Edit(
                    edits,
                    Some(format!(
                        "{label}: reconcile-policy skip (was `{was}`, not a value ASO knows: it reconciled as `manage`)"
                    )),
                ),
                other => other,
            },
            None => Step::Done,
        }) {
            Ok((after, actions)) => {
                seeds.demoted += actions.len();
                seeds.texts.insert(path.clone(), after);
                seeds.actions.insert(path, actions);
            }
            Err(message) => plan.conflict(&file.target.display, message),
        }
    }
    seeds
}

/// Conflicts for ASO resources under the demoted cluster's paths that are not `skip` and that
/// an applier in another active cluster (or in none) applies: `check` judges what an applier
/// renders by the applier's cluster, so demoting changes nothing for them and they would stay
/// reconciled. Returns them, as (file, object), so that no other conflict blames them.
fn applied_elsewhere(
    plan: &mut Plan,
    settings: &Settings,
    index: &Index,
    sides: Sides,
) -> HashSet<(FileId, usize)> {
    let mut out = HashSet::new();
    let Some(demote) = sides.demote else {
        return out;
    };
    let name = &settings.clusters[demote].name;
    let mut by_context: BTreeMap<usize, Vec<&Instance>> = BTreeMap::new();
    for instance in index.instances.iter().filter(|i| i.aso) {
        let context = &index.contexts[instance.context];
        if context.cluster == Some(demote)
            || context.cluster == sides.promote
            || context.role != Role::Active
            || index.effective(instance).0 == Policy::Skip
        {
            continue;
        }
        let under_demoted = settings
            .cluster_of(&index.files[instance.file].fs_path)
            .is_some_and(|c| &c.name == name);
        if under_demoted {
            by_context
                .entry(instance.context)
                .or_default()
                .push(instance);
            out.insert((instance.file, instance.object));
        }
    }
    for (context, instances) in by_context {
        let context = &index.contexts[context];
        let (cluster, fix) = match context.cluster {
            None => (
                "no cluster (so it counts as active)".to_string(),
                format!(
                    "add {} to the paths of cluster `{name}` in .asoguard.yaml",
                    index.describe(context.file)
                ),
            ),
            Some(c) => {
                let other = &settings.clusters[c].name;
                (
                    format!("active cluster `{other}`"),
                    format!(
                        "in .asoguard.yaml, put {} in the paths of cluster `{name}` and out of those of `{other}`, or demote `{other}`",
                        index.describe(context.file)
                    ),
                )
            }
        };
        let one = instances.len() == 1;
        plan.conflict(
            &verify::display(&index.files[context.file].fs_path),
            format!(
                "{} under cluster `{name}`'s paths ({}) {} applied by {}, which is in {cluster}: `check` judges what an applier renders by the applier's cluster, so demoting `{name}` changes nothing for {} and {} would stay reconciled; {fix}",
                count(instances.len(), "ASO resource"),
                some_labels(index, &instances),
                if one { "is" } else { "are" },
                index.describe_context(context),
                if one { "it" } else { "them" },
                if one { "it" } else { "they" },
            ),
        );
    }
    out
}

/// The demoted cluster's resources whose policy is decided in a file outside the two clusters
/// (a base's `commonAnnotations` or patch, shared with other clusters): `check`'s fix for them
/// belongs in that file, which the failover must not change. When they are rendered by a Flux
/// Kustomization or an overlay kustomization of the demoted cluster, `skip` goes there instead
/// (`spec.commonMetadata.annotations`, `commonAnnotations`), which overrides what the base
/// sets for this cluster alone; failing back takes it off again.
fn shared_policies(index: &Index, sides: Sides, loaded: &[rewrite::Loaded], seeds: &mut Seeds) {
    let Some(demote) = sides.demote else {
        return;
    };
    let inside: HashMap<&Path, &rewrite::Loaded> = loaded
        .iter()
        .filter(|f| f.status == Status::Yaml)
        .map(|f| (&*f.target.fs_path, f))
        .collect();
    // By the file and document of the context, the resources it would cover.
    let mut wanted: BTreeMap<(PathBuf, usize), (bool, usize)> = BTreeMap::new();
    for instance in index.instances.iter().filter(|i| i.aso) {
        let context = &index.contexts[instance.context];
        if context.cluster != Some(demote) {
            continue;
        }
        let (policy, origin) = index.effective(instance);
        let Some(origin) = origin.filter(|_| policy != Policy::Skip) else {
            continue;
        };
        let decided_outside = matches!(
            origin.kind,
            OriginKind::Common | OriginKind::Flux | OriginKind::PatchFile | OriginKind::JsonPatch
        ) && !inside.contains_key(&*index.files[origin.file].fs_path);
        let context_file = &index.files[context.file].fs_path;
        if !decided_outside || !inside.contains_key(&**context_file) {
            continue;
        }
        let flux = match context.kind {
            crate::index::ContextKind::Flux => true,
            crate::index::ContextKind::Kustomization => false,
            _ => continue,
        };
        let doc = context.doc.unwrap_or(0);
        wanted
            .entry((context_file.to_path_buf(), doc))
            .or_insert((flux, 0))
            .1 += 1;
    }
    let mut by_file: BTreeMap<PathBuf, Vec<(usize, bool, usize)>> = BTreeMap::new();
    for ((path, doc), (flux, n)) in wanted {
        by_file.entry(path).or_default().push((doc, flux, n));
    }
    for (path, docs) in by_file {
        let Some(file) = inside.get(path.as_path()) else {
            continue;
        };
        let current = seeds
            .texts
            .get(&path)
            .cloned()
            .unwrap_or_else(|| file.text.clone());
        let skip = Policy::Skip.as_str();
        let result = rewrite::rewrite(&current, |doc, text, root| {
            let Some(&(_, flux, n)) = docs.iter().find(|(d, _, _)| *d == doc) else {
                return Step::Done;
            };
            let (path, what): (&[&str], String) = if flux {
                let name = root
                    .get("metadata")
                    .and_then(|m| m.get_str("name"))
                    .unwrap_or("?");
                (
                    &["spec", "commonMetadata", "annotations"],
                    format!("Flux Kustomization `{name}`: spec.commonMetadata"),
                )
            } else {
                (
                    &["commonAnnotations"],
                    "kustomization: commonAnnotations".to_string(),
                )
            };
            let existing = path
                .iter()
                .try_fold(root, |at, key| at.get(key))
                .and_then(|m| m.get_str(crate::manifest::RECONCILE_POLICY));
            if existing == Some(skip) {
                return Step::Done;
            }
            match yaml::edit::set_entry_at(
                text,
                root,
                path,
                crate::manifest::RECONCILE_POLICY,
                skip,
            ) {
                Some(edit) => Step::Edit(
                    vec![edit],
                    Some(format!(
                        "{what} reconcile-policy skip, over the policy a base shared with other clusters sets ({})",
                        count(n, "ASO resource")
                    )),
                ),
                None => Step::Stuck(format!(
                    "{what} is not a mapping: cannot set reconcile-policy"
                )),
            }
        });
        // An edit that cannot be made leaves the fix to `check`, whose conflict names the file.
        if let Ok((after, actions)) = result {
            seeds.demoted += actions.len();
            seeds.texts.insert(path.clone(), after);
            seeds.actions.entry(path).or_default().extend(actions);
        }
    }
}

/// Refuse a demotion that changes no manifest while the demoted cluster applies ASO resources
/// that are not `skip` (instances of the index whose context is in the cluster): the roles
/// would flip in the config and its ASO would go on writing to Azure.
fn changed_nothing(
    plan: &mut Plan,
    settings: &Settings,
    index: &Index,
    sides: Sides,
    demoted: usize,
) {
    let Some(demote) = sides.demote.filter(|_| demoted == 0) else {
        return;
    };
    let name = &settings.clusters[demote].name;
    let live: Vec<&Instance> = index
        .instances
        .iter()
        .filter(|i| {
            i.aso
                && index.contexts[i.context].cluster == Some(demote)
                && index.effective(i).0 != Policy::Skip
        })
        .collect();
    if live.is_empty() {
        return;
    }
    let one = live.len() == 1;
    let path = settings
        .config_path
        .clone()
        .unwrap_or_else(|| settings.root.clone());
    plan.conflict(
        &verify::display(&path),
        format!(
            "demoting `{name}` would change no manifest, yet it applies {} that {} not `skip` ({}): its ASO would keep writing to Azure after the failover; run `asoguard check` with `{name}` marked passive to see where {} policy is set",
            count(live.len(), "ASO resource"),
            if one { "is" } else { "are" },
            some_labels(index, &live),
            if one { "its" } else { "their" },
        ),
    );
}

/// What fixes in document `doc` of the file at `fs_path` are about, for the plan's actions:
/// an ASO resource by its name as applied (in cluster `prefer` when it is applied by more
/// than one), a Flux Kustomization or ArgoCD Application by its name; `None` for a document
/// that is not an object (a kustomization).
fn doc_label(index: &Index, fs_path: &Path, doc: usize, prefer: Option<usize>) -> Option<String> {
    let id = index.file_id(fs_path)?;
    let object = index.object_at(id, doc)?;
    let name = object.name.as_deref().unwrap_or("?");
    if object.aso {
        let preferred = index
            .instances_of(id, doc)
            .find(|i| index.contexts[i.context].cluster == prefer);
        return Some(
            match preferred.or_else(|| index.instances_of(id, doc).next()) {
                Some(instance) => applied_label(index, instance),
                None => format!("{} `{name}`", object.kind),
            },
        );
    }
    Some(match &object.extra {
        Extra::Flux(_) => format!("Flux Kustomization `{name}`"),
        Extra::Argo(_) => format!("ArgoCD {} `{name}`", object.kind),
        Extra::None => format!("{} `{name}`", object.kind),
    })
}

/// The index of the document of `text` that holds byte `offset`.
fn doc_at(text: &str, offset: usize) -> usize {
    let arena = yaml::Arena::new();
    let stream = yaml::parse(&arena, text);
    stream
        .documents
        .iter()
        .rposition(|d| d.span.start <= offset)
        .unwrap_or(0)
}

/// Apply, to the files of the two clusters, the fixes `check` proposes under the new roles for
/// findings the old roles did not have (safe ones, and ASO001's, which promoting asks for),
/// round after round until none is left, starting from the texts `seeds` gives. Returns how
/// many promotions (ASO001 fixes) and demotions (ASO005 fixes and `seeds`) were made. A fix
/// that belongs in a file outside the two clusters is a conflict.
fn follow_roles(
    plan: &mut Plan,
    (settings, new_settings): (&Settings, &Settings),
    (index, sides): (&Index, Sides),
    loaded: &[rewrite::Loaded],
    seeds: Seeds,
) -> (usize, usize) {
    let originals: BTreeMap<PathBuf, &rewrite::Loaded> = loaded
        .iter()
        .filter(|f| f.status == Status::Yaml)
        .map(|f| (f.target.fs_path.to_path_buf(), f))
        .collect();
    let before = verify::findings(verify::inputs(settings, &BTreeMap::new()), settings);
    let guarded = verify::guarded(new_settings);
    let mut texts: BTreeMap<PathBuf, String> = seeds.texts;
    let mut actions: BTreeMap<PathBuf, Vec<String>> = seeds.actions;
    let (mut promoted, mut demoted) = (0, seeds.demoted);
    let mut outside: BTreeMap<PathBuf, String> = BTreeMap::new();
    for _ in 0..MAX_ROUNDS {
        let report = engine::check_inputs(
            verify::inputs(new_settings, &texts),
            &guarded,
            RunOptions::default(),
        );
        let mut fixes: BTreeMap<PathBuf, Vec<(Rule, String, Fix)>> = BTreeMap::new();
        for (file, d) in report.diagnostics() {
            let key = verify::key(&file.path, d);
            // Taking `skip` off (ASO001's fix) starts ASO's writes, which is why `check` never
            // does it on its own; promoting a cluster asks for exactly that.
            let Some(fix) = d
                .fix
                .clone()
                .filter(|f| f.applicability == Applicability::Safe || d.rule == Rule::SkipInActive)
            else {
                continue;
            };
            if before.contains_key(&key) {
                continue;
            }
            let Some(original) = originals.get(&key.0) else {
                outside.insert(key.0.clone(), d.message.clone());
                continue;
            };
            let current = texts.get(&key.0).unwrap_or(&original.text);
            let prefer = match d.rule {
                Rule::SkipInActive => sides.promote,
                _ => sides.demote,
            };
            let what = match doc_label(index, &key.0, doc_at(current, d.span.start), prefer) {
                Some(label) => format!("{label}: "),
                None => String::new(),
            };
            fixes.entry(key.0).or_default().push((d.rule, what, fix));
        }
        if fixes.is_empty() {
            break;
        }
        for (path, list) in fixes {
            let current = texts
                .get(&path)
                .cloned()
                .unwrap_or_else(|| originals[&path].text.clone());
            let refs: Vec<&Fix> = list.iter().map(|(_, _, f)| f).collect();
            let (next, applied) = apply_fixes(&current, &refs);
            for i in applied {
                let (rule, what, fix) = &list[i];
                match rule.code() {
                    "ASO001" => promoted += 1,
                    _ => demoted += 1,
                }
                actions
                    .entry(path.clone())
                    .or_default()
                    .push(format!("{what}{}", fix.title));
            }
            texts.insert(path, next);
        }
    }
    for (path, message) in outside {
        plan.conflict(
            &verify::display(&path),
            format!(
                "{message}; the fix belongs in this file, which is outside both clusters (and may be shared with others): change it by hand, or give the clusters their own copy"
            ),
        );
    }
    for (path, after) in texts {
        let file = originals[&path];
        plan.push_change(FileChange {
            path: file.target.display.to_path_buf(),
            before: Some(file.text.clone()),
            after,
            actions: actions.remove(&path).unwrap_or_default(),
            source: None,
        });
    }
    (promoted, demoted)
}
