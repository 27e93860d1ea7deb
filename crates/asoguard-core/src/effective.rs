//! The effective configuration, as `asoguard config` shows it: which `.asoguard.yaml` a run
//! over a path uses, the root it resolves against, and what every setting comes to once the
//! defaults are applied (clusters, rules with their severities, excludes, critical kinds, CRDs).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::catalog;
use crate::config::{self, Config, ConfigErrors, DEFAULT_EXCLUDE, Settings};
use crate::registry::Rule;

/// Why the root is where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootFrom {
    /// The directory of the config file.
    ConfigFile,
    /// The nearest directory holding `.git` (no `.asoguard.yaml` up to it).
    Git,
    /// Neither was found: the path itself (its directory for a file).
    Path,
}

/// One configured cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EffectiveCluster {
    /// Its name in the config.
    pub name: String,
    /// `active` or `passive`.
    pub role: &'static str,
    /// Its path globs, as written (relative to the root).
    pub paths: Vec<String>,
}

/// One rule and the severity a run gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EffectiveRule {
    /// Its code (`ASO001`).
    pub code: &'static str,
    /// Its name (`skip-in-active`).
    pub name: &'static str,
    /// `error` or `warning`; `None` when the rule does not run.
    pub severity: Option<&'static str>,
    /// Its severity when it runs and nothing is configured.
    pub default_severity: &'static str,
    /// Whether it runs only when asked for (`select`, or a severity in `rules`).
    pub opt_in: bool,
    /// Whether the config changes it from its default (on or off, or its severity).
    pub configured: bool,
}

/// The critical kinds: the defaults and the config's changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EffectiveCriticalKinds {
    /// Every critical kind, `group/Kind`, sorted.
    pub kinds: Vec<String>,
    /// How many of them are defaults.
    pub defaults: usize,
    /// Kinds `critical-kinds.add` makes critical.
    pub added: Vec<String>,
    /// Kinds `critical-kinds.remove` takes off the defaults.
    pub removed: Vec<String>,
    /// Kinds in `critical-kinds.add` that are defaults already (so the entry does nothing).
    pub added_already_default: Vec<String>,
    /// Kinds in `critical-kinds.remove` that are not defaults (so the entry does nothing).
    pub removed_not_default: Vec<String>,
}

/// The excludes: the globs that keep paths from being linted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EffectiveExclude {
    /// Every glob, in order: `exclude` (or the defaults), then `extend-exclude`.
    pub globs: Vec<String>,
    /// Whether the defaults are in force (no `exclude` replaced them).
    pub defaults: bool,
    /// The globs `extend-exclude` adds.
    pub extended: Vec<String>,
}

/// What a run would use, every default applied.
#[derive(Clone, Debug, Serialize)]
pub struct Effective {
    /// The config file, when one was found or given.
    pub config_file: Option<String>,
    /// The repository root: every path and glob of the config is relative to it.
    pub root: String,
    /// Why the root is there.
    pub root_from: RootFrom,
    /// Configured clusters, in the order they are matched (the first match wins).
    pub clusters: Vec<EffectiveCluster>,
    /// Every rule.
    pub rules: Vec<EffectiveRule>,
    /// Rules ignored in the paths matching each glob, by code.
    pub per_file_ignores: BTreeMap<String, Vec<&'static str>>,
    /// `error` or `warning`.
    pub fail_level: &'static str,
    /// The report format without `--format`.
    pub output_format: &'static str,
    /// Files larger than this many bytes are reported (E001), not read.
    pub max_file_size: u64,
    /// The excludes.
    pub exclude: EffectiveExclude,
    /// The critical kinds.
    pub critical_kinds: EffectiveCriticalKinds,
    /// CRD sources (`crds:`), resolved against the root.
    pub crds: Vec<String>,
}

/// The configuration a run over `anchor` would use (`explicit`: `--config FILE`).
pub fn effective(explicit: Option<&Path>, anchor: &Path) -> Result<Effective, ConfigErrors> {
    let (config, settings) = config::load_with_config(explicit, anchor)?;
    Ok(describe(&config, &settings))
}

/// The effective configuration of `settings`, resolved from `config`.
pub fn describe(config: &Config, settings: &Settings) -> Effective {
    let root_from = if settings.config_path.is_some() {
        RootFrom::ConfigFile
    } else if settings.repository {
        RootFrom::Git
    } else {
        RootFrom::Path
    };
    let clusters = settings
        .clusters
        .iter()
        .map(|cluster| EffectiveCluster {
            name: cluster.name.clone(),
            role: cluster.role.as_str(),
            paths: config
                .clusters
                .get(&cluster.name)
                .map(|c| c.paths.clone())
                .unwrap_or_default(),
        })
        .collect();
    let default_settings = Settings::default();
    let rules = Rule::ALL
        .into_iter()
        .map(|rule| {
            let meta = rule.meta();
            let severity = settings.severity(rule);
            EffectiveRule {
                code: meta.code,
                name: meta.name,
                severity: severity.map(|s| s.as_str()),
                default_severity: meta.severity.as_str(),
                opt_in: !meta.default_enabled,
                configured: severity != default_settings.severity(rule),
            }
        })
        .collect();
    let per_file_ignores = config
        .per_file_ignores
        .iter()
        .map(|(glob, selectors)| {
            let mut codes: Vec<&'static str> = selectors
                .iter()
                .filter_map(|s| config::parse_selector(s).ok())
                .flatten()
                .map(Rule::code)
                .collect();
            codes.dedup();
            (glob.clone(), codes)
        })
        .collect();
    let mut globs: Vec<String> = match &config.exclude {
        Some(list) => list.clone(),
        None => DEFAULT_EXCLUDE.iter().map(|s| s.to_string()).collect(),
    };
    globs.extend(config.extend_exclude.iter().cloned());
    let defaults: Vec<String> = catalog::default_critical_kinds()
        .into_iter()
        .map(|(gk, _)| gk.to_string())
        .collect();
    let normal = |text: &String| {
        catalog::GroupKind::parse(text).map_or_else(|| text.clone(), |gk| gk.to_string())
    };
    let added: Vec<String> = config.critical_kinds.add.iter().map(normal).collect();
    let removed: Vec<String> = config.critical_kinds.remove.iter().map(normal).collect();
    let added_already_default = added
        .iter()
        .filter(|kind| defaults.contains(kind))
        .cloned()
        .collect();
    let removed_not_default = removed
        .iter()
        .filter(|kind| !defaults.contains(kind) && !added.contains(kind))
        .cloned()
        .collect();
    Effective {
        config_file: settings
            .config_path
            .as_ref()
            .map(|p| p.display().to_string()),
        root: settings.root.display().to_string(),
        root_from,
        clusters,
        rules,
        per_file_ignores,
        fail_level: settings.fail_level.as_str(),
        output_format: settings.output_format.map_or("text", |f| f.as_str()),
        max_file_size: settings.max_file_size,
        exclude: EffectiveExclude {
            globs,
            defaults: config.exclude.is_none(),
            extended: config.extend_exclude.clone(),
        },
        critical_kinds: EffectiveCriticalKinds {
            kinds: settings
                .critical_kinds()
                .iter()
                .map(ToString::to_string)
                .collect(),
            defaults: defaults.len(),
            added,
            removed,
            added_already_default,
            removed_not_default,
        },
        crds: settings
            .crd_paths
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_config;
    use std::path::PathBuf;

    fn of(yaml: &str) -> Effective {
        let path = Path::new("/repo/.asoguard.yaml");
        let config = parse_config(yaml, path).unwrap();
        let settings =
            Settings::resolve(config.clone(), PathBuf::from("/repo"), Some(path.into())).unwrap();
        describe(&config, &settings)
    }

    fn rule<'e>(effective: &'e Effective, code: &str) -> &'e EffectiveRule {
        effective.rules.iter().find(|r| r.code == code).unwrap()
    }

    #[test]
    fn defaults() {
        let e = of("");
        assert_eq!(e.root_from, RootFrom::ConfigFile);
        assert!(e.clusters.is_empty());
        assert_eq!(e.rules.len(), Rule::ALL.len());
        let opt_in = rule(&e, "ASO010");
        assert_eq!((opt_in.severity, opt_in.opt_in), (None, true));
        assert!(!opt_in.configured);
        assert_eq!(rule(&e, "ASO001").severity, Some("error"));
        assert_eq!(e.exclude.globs, [".*", "node_modules"]);
        assert!(e.exclude.defaults);
        assert_eq!(e.critical_kinds.kinds.len(), e.critical_kinds.defaults);
        assert_eq!((e.fail_level, e.output_format), ("warning", "text"));
    }

    #[test]
    fn shows_what_the_config_changes() {
        let e = of(
            "clusters:\n  prod: {paths: [\"clusters/prod/**\"]}\n  dr: {paths: [\"clusters/dr/**\"], role: passive}\nrules:\n  ASO003: {severity: warning}\n  unprotected-children: {severity: error}\nignore: [ASO004]\nper-file-ignores: {\"legacy/**\": [missing-detach-on-delete, ASO001]}\nextend-exclude: [\"vendor/**\"]\ncritical-kinds:\n  add: [cache.azure.com/RedisEnterprise, network.azure.com/PublicIPAddress]\n  remove: [example.azure.com/Widget, resources.azure.com/ResourceGroup]\ncrds: [crds/]\nfail-level: error\n",
        );
        assert_eq!(
            e.clusters,
            [
                EffectiveCluster {
                    name: "dr".into(),
                    role: "passive",
                    paths: vec!["clusters/dr/**".into()]
                },
                EffectiveCluster {
                    name: "prod".into(),
                    role: "active",
                    paths: vec!["clusters/prod/**".into()]
                },
            ]
        );
        let aso003 = rule(&e, "ASO003");
        assert_eq!(
            (aso003.severity, aso003.configured),
            (Some("warning"), true)
        );
        let aso010 = rule(&e, "ASO010");
        assert_eq!((aso010.severity, aso010.configured), (Some("error"), true));
        let aso004 = rule(&e, "ASO004");
        assert_eq!((aso004.severity, aso004.configured), (None, true));
        assert!(!rule(&e, "ASO001").configured);
        assert_eq!(e.per_file_ignores["legacy/**"], ["ASO003", "ASO001"]);
        assert_eq!(e.exclude.globs, [".*", "node_modules", "vendor/**"]);
        assert_eq!(e.exclude.extended, ["vendor/**"]);
        let critical = &e.critical_kinds;
        assert!(
            critical
                .kinds
                .contains(&"network.azure.com/PublicIPAddress".to_string())
        );
        assert!(
            !critical
                .kinds
                .contains(&"resources.azure.com/ResourceGroup".to_string())
        );
        assert_eq!(critical.kinds.len(), critical.defaults);
        assert_eq!(
            critical.added_already_default,
            ["cache.azure.com/RedisEnterprise"]
        );
        assert_eq!(critical.removed_not_default, ["example.azure.com/Widget"]);
        assert_eq!(e.crds, ["/repo/crds"]);
        assert_eq!(e.fail_level, "error");
    }
}
