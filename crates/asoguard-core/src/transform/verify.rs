//! The repository as a plan would leave it, checked in memory: a transform must not cause an
//! ASO001, ASO005 or ASO006 finding that `check` does not report today.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::config::{self, Settings, absolute};
use crate::diagnostic::Diagnostic;
use crate::discover::{self, Target, is_yaml_name};
use crate::engine::{self, Input, RunOptions};
use crate::registry::Rule;

use super::{Conflict, Plan};

/// The rules whose new findings no transform may cause: `skip` in an active cluster, a passive
/// cluster without `skip`, two active clusters reconciling one Azure resource. Codes that the
/// rule registry does not know are ignored.
pub const GUARDED: [&str; 3] = ["ASO001", "ASO005", "ASO006"];

/// A finding, as compared before and after: the file (absolute), the rule's code, and the
/// object (kind and name) it is about.
pub type FindingKey = (PathBuf, String, String);

/// `settings` running only the guarded rules.
pub(crate) fn guarded(settings: &Settings) -> Settings {
    let mut settings = settings.clone();
    let rules: Vec<Rule> = GUARDED
        .iter()
        .filter_map(|code| Rule::from_code_or_name(code))
        .collect();
    settings.select(&rules);
    settings
}

/// The settings a config text gives, for the repository `settings` describe: `config_path` is
/// where the text will be (its directory is the root).
pub(crate) fn with_config(
    settings: &Settings,
    config_path: &Path,
    text: &str,
) -> Result<Settings, String> {
    let parsed = config::parse_config(text, config_path).map_err(|e| e.to_string())?;
    let root = config_path
        .parent()
        .map_or_else(|| settings.root.clone(), Path::to_path_buf);
    let mut resolved = Settings::resolve(parsed, root, Some(config_path.to_path_buf()))
        .map_err(|e| e.to_string())?;
    resolved.repository = true;
    resolved.max_file_size = settings.max_file_size;
    Ok(resolved)
}

/// Every YAML file of the repository under `settings.root`, with the texts of `overrides`
/// (absolute path to text) in place of the files' own, and the new files among them added.
pub(crate) fn inputs(settings: &Settings, overrides: &BTreeMap<PathBuf, String>) -> Vec<Input> {
    let (targets, _) = discover::discover(std::slice::from_ref(&settings.root), settings, false);
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut inputs: Vec<Input> = targets
        .into_iter()
        .map(|target| {
            let fs_path = target.fs_path.to_path_buf();
            seen.insert(fs_path.clone());
            let text = match overrides.get(&fs_path) {
                Some(text) => Ok(text.clone()),
                None => discover::read_text(&fs_path, settings.max_file_size),
            };
            Input {
                target: Target::new(display(&fs_path), fs_path),
                text,
            }
        })
        .collect();
    for (fs_path, text) in overrides {
        if !seen.contains(fs_path)
            && is_yaml_name(fs_path)
            && fs_path.starts_with(&settings.root)
            && !settings.is_excluded(fs_path)
        {
            inputs.push(Input {
                target: Target::new(display(fs_path), fs_path.clone()),
                text: Ok(text.clone()),
            });
        }
    }
    inputs
}

/// The guarded findings of a repository (inputs from [`inputs`]), by key.
pub(crate) fn findings(
    inputs: Vec<Input>,
    settings: &Settings,
) -> BTreeMap<FindingKey, Diagnostic> {
    let report = engine::check_inputs(inputs, &guarded(settings), RunOptions::default());
    report
        .diagnostics()
        .map(|(file, d)| (key(&file.path, d), d.clone()))
        .collect()
}

/// The key of a finding in the file at `path` (absolute).
pub(crate) fn key(path: &Path, d: &Diagnostic) -> FindingKey {
    let object = d.object.as_ref().map_or_else(String::new, |o| {
        format!(
            "{}/{}",
            o.kind.as_deref().unwrap_or(""),
            o.name.as_deref().unwrap_or("")
        )
    });
    (absolute(path), d.rule.code().to_string(), object)
}

/// The texts a plan writes, by absolute path.
pub(crate) fn planned_texts(plan: &Plan) -> BTreeMap<PathBuf, String> {
    plan.changes
        .iter()
        .map(|c| (absolute(&c.path), c.after.clone()))
        .collect()
}

/// Check the repository as `plan` would leave it against the repository as it is, and add a
/// conflict for every guarded finding the plan would cause. `settings` are today's; the plan's
/// own `.asoguard.yaml` (a change to `config_path`) gives tomorrow's.
pub(crate) fn verify(plan: &mut Plan, settings: &Settings, config_path: Option<&Path>) {
    if plan.changes.is_empty() || !plan.conflicts.is_empty() {
        return;
    }
    let texts = planned_texts(plan);
    let after_settings = match config_path.and_then(|p| Some((p, texts.get(&absolute(p))?))) {
        Some((path, text)) => match with_config(settings, path, text) {
            Ok(settings) => settings,
            Err(message) => {
                plan.conflicts.push(Conflict {
                    path: path.to_path_buf(),
                    message: format!("the config this plan writes would not load: {message}"),
                });
                return;
            }
        },
        None => settings.clone(),
    };
    if plan.changes.is_empty() || !plan.conflicts.is_empty() {
        return;
    }
    // Compare over the same tree: a config created higher up widens the repository.
    let mut before_settings = settings.clone();
    before_settings.root = after_settings.root.clone();
    let before = findings(inputs(&before_settings, &BTreeMap::new()), &before_settings);
    let after = findings(inputs(&after_settings, &texts), &after_settings);
    for ((path, code, _), d) in after.iter().filter(|(k, _)| !before.contains_key(*k)) {
        plan.conflicts.push(Conflict {
            path: display(path),
            message: format!(
                "after this transform, `asoguard check` would report {code}: {}",
                d.message
            ),
        });
    }
}

/// A path for messages: relative to the working directory when it lies under it.
pub(crate) fn display(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}
