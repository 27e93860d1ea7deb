//! `failover`: the ASO FAQ's disaster-recovery step. The passive cluster's copies lose `skip`
//! (critical kinds get `detach-on-delete`), the demoted cluster's resources get `skip`, and the
//! two clusters swap roles in `.asoguard.yaml`, all in one transaction.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::{Role, Settings};
use crate::discover::{self, Target};
use crate::manifest::{Manifest, Policy};
use crate::yaml;

use super::config_edit::{self, role_str};
use super::identity::{Identity, identity};
use super::rewrite::{self, Loaded, Status, Step};
use super::{FileChange, Plan, TransformError, count, kustomize, label};

/// Which clusters (names from `.asoguard.yaml`'s `clusters`) trade places.
#[derive(Clone, Debug)]
pub struct FailoverOptions {
    /// The passive cluster that takes over: it becomes active.
    pub promote: String,
    /// The active cluster that stands down: it becomes passive. Without it, another active
    /// cluster holding the same resources is a conflict (two operators would reconcile them).
    pub demote: Option<String>,
}

/// What one side of the failover does to an object.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Promote,
    Demote,
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
    let mut sides_of: Vec<Side> = Vec::new();
    let mut others: Vec<(Target, String)> = Vec::new();
    for target in targets {
        let Some(cluster) = settings.cluster_of(&target.fs_path) else {
            continue;
        };
        if cluster.name == options.promote {
            sides.push(target);
            sides_of.push(Side::Promote);
        } else if Some(&cluster.name) == options.demote.as_ref() {
            sides.push(target);
            sides_of.push(Side::Demote);
        } else if cluster.role == Role::Active {
            others.push((target, cluster.name.clone()));
        }
    }
    let mut plan = Plan {
        scope: sides.iter().map(|t| t.fs_path.clone()).collect(),
        ..Plan::default()
    };
    plan.scope.push(config_path.clone());
    unread_manifests(&mut plan, settings, &walk_root, &sides, options);
    let loaded = rewrite::load(sides, settings)?;

    let mut promoted = 0;
    let mut protected = 0;
    let mut demoted = 0;
    let mut promoted_ids: HashMap<Identity, PathBuf> = HashMap::new();
    for (file, side) in loaded.iter().zip(sides_of) {
        let path = &file.target.display;
        if file.status != Status::Yaml {
            if file.text.contains(".azure.com/") {
                plan.conflict(
                    path,
                    "SOPS-encrypted or templated file with ASO resources: its reconcile-policy cannot be edited; change it by hand, or exclude the file",
                );
            }
            continue;
        }
        let stream = yaml::parse(&file.text);
        let is_kustomization = kustomize::is_kustomization(path);
        let mut wants: Vec<Option<Want>> = Vec::new();
        for document in &stream.documents {
            let Some(manifest) = document.root.as_ref().and_then(Manifest::from_root) else {
                wants.push(None);
                continue;
            };
            let raw = rewrite::policy_raw(&manifest);
            let skip = Some(Policy::Skip.as_str());
            let dod = Policy::DetachOnDelete.as_str();
            let critical = manifest
                .kind
                .is_some_and(|k| manifest.is_aso() && settings.is_critical(manifest.group(), k));
            let mut want = None;
            if manifest.is_aso() {
                if side == Side::Promote {
                    if let Ok(id) = identity(&manifest, None) {
                        promoted_ids.insert(id, path.clone());
                    }
                }
                match side {
                    Side::Promote if raw == skip => {
                        promoted += 1;
                        protected += usize::from(critical);
                        want = Some(Want::Own(critical.then_some(dod)));
                    }
                    Side::Demote if raw != skip => {
                        demoted += 1;
                        want = Some(Want::Own(skip));
                    }
                    _ => {}
                }
            } else if manifest.is("", "Namespace") && side == Side::Promote && raw == skip {
                // Resources that set no policy inherit the Namespace's: keep them protected.
                want = Some(Want::Own(Some(dod)));
            }
            if is_kustomization {
                let common = rewrite::common_policy(manifest.root);
                match side {
                    Side::Promote if common == skip => want = Some(Want::Common(None)),
                    Side::Demote if common.is_some() && common != skip => {
                        want = Some(Want::Common(skip))
                    }
                    _ => {}
                }
            }
            wants.push(want);
        }
        apply_wants(&mut plan, file, &wants);
    }

    // Without a demotion, an active cluster that holds the same resources keeps reconciling them.
    for (target, cluster) in others {
        let Ok(text) = discover::read_text(&target.fs_path, settings.max_file_size) else {
            continue;
        };
        let stream = yaml::parse(&text);
        for document in &stream.documents {
            let Some(manifest) = document.root.as_ref().and_then(Manifest::from_root) else {
                continue;
            };
            if !manifest.is_aso() || rewrite::policy_raw(&manifest) == Some("skip") {
                continue;
            }
            let Ok(id) = identity(&manifest, None) else {
                continue;
            };
            if let Some(promoted_at) = promoted_ids.get(&id) {
                plan.conflict(
                    &target.display,
                    format!(
                        "{} ({id}) is also in {} and reconciled by active cluster `{cluster}`: promoting `{}` alone would have two ASO instances reconcile it; pass --demote {cluster}",
                        label(&manifest),
                        promoted_at.display(),
                        options.promote
                    ),
                );
            }
        }
    }

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
    plan.push_change(FileChange {
        path: config_path,
        before: Some(config_text),
        after: config_after,
        actions: config_actions,
        source: None,
    });

    if let Some(demote) = &options.demote {
        plan.checklist.push(format!(
            "Sync cluster `{demote}` first: {} there get `skip`, so its ASO stops writing to Azure before `{}` takes over (if that cluster is down, it picks up `skip` when it returns).",
            count(demoted, "ASO resource"),
            options.promote
        ));
    } else {
        plan.checklist.push(
            "No --demote: make sure the formerly active cluster's ASO is stopped, or it and the promoted cluster reconcile the same resources.".into(),
        );
    }
    plan.checklist.push(format!(
        "Then sync cluster `{}`: ASO there now reconciles {} that had `skip` ({protected} of a critical kind, kept from deletion by `detach-on-delete`).",
        options.promote,
        count(promoted, "resource"),
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
    let read: std::collections::HashSet<&Path> = read.iter().map(|t| t.fs_path.as_path()).collect();
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

/// What a document needs: its own policy, or its kustomization's `commonAnnotations` policy
/// (`None` inside: removed).
#[derive(Clone, Copy)]
enum Want {
    Own(Option<&'static str>),
    Common(Option<&'static str>),
}

/// Rewrite `file` so every document gets what `wants` says, and add the change (or conflict).
fn apply_wants(plan: &mut Plan, file: &Loaded, wants: &[Option<Want>]) {
    let path = &file.target.display;
    match rewrite::rewrite(&file.text, |index, text, root| {
        match wants.get(index).copied().flatten() {
            Some(Want::Own(want)) => rewrite::policy_step(text, root, want),
            Some(Want::Common(want)) => rewrite::common_policy_step(text, root, want, path),
            None => Step::Done,
        }
    }) {
        Ok((after, actions)) => plan.push_change(FileChange {
            path: path.clone(),
            before: Some(file.text.clone()),
            after,
            actions,
            source: None,
        }),
        Err(message) => plan.conflict(path, message),
    }
}
