//! `failover`: the ASO FAQ's disaster-recovery step. The two clusters swap roles in
//! `.asoguard.yaml`, and the manifests follow: the promoted cluster's resources lose `skip`
//! (critical kinds get `detach-on-delete`), the demoted cluster's get it, all in one
//! transaction.
//!
//! The manifests are changed the way `asoguard check --fix` would fix the roles' new ASO001
//! (`skip` in an active cluster) and ASO005 (a passive cluster without `skip`) findings, so a
//! policy is changed where it is written: a resource's own annotation, an overlay's patch or
//! `commonAnnotations`, a Namespace. Only files of the two clusters are changed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::config::{Role, Settings};
use crate::discover::{self, Target};
use crate::engine::{self, RunOptions};
use crate::fix::{Applicability, Fix, apply_fixes};
use crate::manifest::Manifest;
use crate::rules::Rule;
use crate::yaml;

use super::config_edit::{self, role_str};
use super::identity::{Identity, identity};
use super::rewrite::{self, Status};
use super::verify;
use super::{FileChange, Plan, TransformError, count, label};

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
    let mut promoted_ids: HashMap<Identity, PathBuf> = HashMap::new();
    for file in &loaded {
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
        let promoted = settings
            .cluster_of(&file.target.fs_path)
            .is_some_and(|c| c.name == options.promote);
        if promoted {
            let arena = yaml::Arena::new();
            let stream = yaml::parse(&arena, &file.text);
            for document in &stream.documents {
                let manifest = document.root.as_ref().and_then(Manifest::from_root);
                if let Some(id) = manifest
                    .filter(Manifest::is_aso)
                    .and_then(|m| identity(&m, None).ok())
                {
                    promoted_ids.insert(id, path.to_path_buf());
                }
            }
        }
    }

    // Another active cluster that holds the same resources would keep reconciling them: name it,
    // so the hint says what to demote.
    for (target, cluster) in others {
        let Ok(text) = discover::read_text(&target.fs_path, settings.max_file_size) else {
            continue;
        };
        let arena = yaml::Arena::new();
        let stream = yaml::parse(&arena, &text);
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

    // The manifests follow the new roles: apply check's own fixes for what the flip causes.
    let (promoted, demoted) = if plan.conflicts.is_empty() {
        let new_settings = verify::with_config(settings, &config_path, &config_after)
            .map_err(|e| TransformError::at(&config_path, e))?;
        follow_roles(&mut plan, settings, &new_settings, &loaded)
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

    if let Some(demote) = &options.demote {
        plan.checklist.push(format!(
            "Sync cluster `{demote}` first: {} {} its resources `skip`, so its ASO stops writing to Azure before `{}` takes over (if that cluster is down, it picks up `skip` when it returns).",
            count(demoted, "change"),
            crate::wording::agree(demoted, "gives", "give"),
            options.promote
        ));
    } else {
        plan.checklist.push(
            "No --demote: make sure the formerly active cluster's ASO is stopped, or it and the promoted cluster reconcile the same resources.".into(),
        );
    }
    plan.checklist.push(format!(
        "Then sync cluster `{}`: {} {} `skip` off its resources (critical kinds keep `detach-on-delete`), and its ASO reconciles them.",
        options.promote,
        count(promoted, "change"),
        crate::wording::agree(promoted, "takes", "take"),
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

/// Apply, to the files of the two clusters, the fixes `check` proposes under the new roles for
/// findings the old roles did not have (safe ones, and ASO001's, which promoting asks for), round after round until none is left.
/// Returns how many ASO001 fixes (promotions) and ASO005 fixes (demotions) were applied. A
/// fix that belongs in a file outside the two clusters is a conflict.
fn follow_roles(
    plan: &mut Plan,
    settings: &Settings,
    new_settings: &Settings,
    loaded: &[rewrite::Loaded],
) -> (usize, usize) {
    let originals: BTreeMap<PathBuf, &rewrite::Loaded> = loaded
        .iter()
        .filter(|f| f.status == Status::Yaml)
        .map(|f| (f.target.fs_path.to_path_buf(), f))
        .collect();
    let before = verify::findings(verify::inputs(settings, &BTreeMap::new()), settings);
    let guarded = verify::guarded(new_settings);
    let mut texts: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut actions: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    let (mut promoted, mut demoted) = (0, 0);
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
            if !originals.contains_key(&key.0) {
                outside.insert(key.0.clone(), d.message.clone());
                continue;
            }
            let what = d.object.as_ref().map_or_else(String::new, |o| {
                format!(
                    "{} `{}`: ",
                    o.kind.as_deref().unwrap_or("object"),
                    o.name.as_deref().unwrap_or("?")
                )
            });
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
