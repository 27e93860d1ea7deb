//! `.asoguard.yaml`: finding it, parsing it into typed settings, and rejecting it with a
//! located, explained error when it is wrong.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::catalog::{self, GroupKind};
use crate::diagnostic::Severity;
use crate::rules::Rule;

/// The config file's name.
pub const CONFIG_FILE: &str = ".asoguard.yaml";

/// The config file as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Named sets of path globs (relative to the repository root), each active or passive.
    #[serde(default)]
    pub clusters: BTreeMap<String, ClusterConfig>,
    /// Changes to the default critical kinds.
    #[serde(default)]
    pub critical_kinds: CriticalKindsConfig,
    /// Per-rule settings, keyed by code or name.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleConfig>,
    /// Globs of paths never linted, relative to the repository root.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// One cluster: the paths whose manifests it applies, and its role.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Path globs relative to the repository root.
    pub paths: Vec<String>,
    /// Whether ASO in this cluster is meant to reconcile (active) or stand by (passive).
    #[serde(default)]
    pub role: Role,
}

/// A cluster's role.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// ASO here reconciles the resources: `skip` is a hazard.
    #[default]
    Active,
    /// A standby (the FAQ's active-passive DR): every ASO resource carries `skip`.
    Passive,
}

/// `critical-kinds: {add: [...], remove: [...]}`, each `group/Kind`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriticalKindsConfig {
    /// Kinds to treat as critical on top of the defaults.
    #[serde(default)]
    pub add: Vec<String>,
    /// Default kinds to stop treating as critical.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Settings of one rule.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// `error`, `warning` or `off`.
    pub severity: Option<RuleLevel>,
}

/// A rule's configured level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    /// Report as an error.
    Error,
    /// Report as a warning.
    Warning,
    /// Do not run the rule.
    Off,
}

/// A configuration problem, located in the config file when it can be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to put it right.
    pub hint: Option<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A cluster with its globs compiled.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// The name given in config.
    pub name: String,
    /// Its role.
    pub role: Role,
    globs: GlobSet,
}

/// The configuration a run uses: the config file resolved against the repository root.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The repository root: paths in config and ArgoCD paths are relative to it.
    pub root: PathBuf,
    /// The config file this came from, if any.
    pub config_path: Option<PathBuf>,
    /// Configured clusters.
    pub clusters: Vec<Cluster>,
    critical: HashSet<GroupKind>,
    levels: HashMap<Rule, RuleLevel>,
    exclude: GlobSet,
    /// Files larger than this many bytes are reported, not read.
    pub max_file_size: u64,
}

/// The default `--max-file-size`: 16 MiB, far above any real manifest.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

impl Default for Settings {
    fn default() -> Self {
        Settings::resolve(Config::default(), PathBuf::from("."), None)
            .unwrap_or_else(|_| unreachable!("the empty config is valid"))
    }
}

impl Settings {
    /// Resolve a parsed config against `root`; `config_path` names the file in errors.
    pub fn resolve(
        config: Config,
        root: PathBuf,
        config_path: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let error = |message: String, hint: Option<String>| ConfigError {
            path: config_path
                .clone()
                .unwrap_or_else(|| PathBuf::from(CONFIG_FILE)),
            line: None,
            column: None,
            message,
            hint,
        };
        let mut clusters = Vec::new();
        for (name, cluster) in &config.clusters {
            let globs = glob_set(&cluster.paths).map_err(|e| {
                error(
                    format!("cluster `{name}`: {e}"),
                    Some(
                        "globs are relative to the repository root, like `clusters/dr-west/**`"
                            .into(),
                    ),
                )
            })?;
            clusters.push(Cluster {
                name: name.clone(),
                role: cluster.role,
                globs,
            });
        }
        let mut critical: HashSet<GroupKind> = catalog::default_critical_kinds()
            .into_iter()
            .map(|(gk, _)| gk)
            .collect();
        for (list, add) in [
            (&config.critical_kinds.add, true),
            (&config.critical_kinds.remove, false),
        ] {
            for text in list {
                let gk = GroupKind::parse(text).ok_or_else(|| {
                    error(
                        format!("critical-kinds: `{text}` is not `group/Kind`"),
                        Some("write it as `cache.azure.com/RedisEnterprise`".into()),
                    )
                })?;
                if add {
                    critical.insert(gk);
                } else {
                    critical.remove(&gk);
                }
            }
        }
        let mut levels = HashMap::new();
        for (key, rule_config) in &config.rules {
            let rule = Rule::from_code_or_name(key).ok_or_else(|| {
                error(
                    format!("rules: unknown rule `{key}`"),
                    Some(Rule::suggest(key).map_or_else(
                        || "`asoguard rules` lists every rule".to_string(),
                        |r| format!("did you mean `{}` ({})?", r.code(), r.name()),
                    )),
                )
            })?;
            if let Some(level) = rule_config.severity {
                levels.insert(rule, level);
            }
        }
        let exclude =
            glob_set(&config.exclude).map_err(|e| error(format!("exclude: {e}"), None))?;
        Ok(Settings {
            root,
            config_path,
            clusters,
            critical,
            levels,
            exclude,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        })
    }

    /// Whether `group/kind` is a critical kind.
    pub fn is_critical(&self, group: &str, kind: &str) -> bool {
        self.critical.contains(&GroupKind::new(group, kind))
    }

    /// The severity `rule` reports at, `None` when it is off.
    pub fn severity(&self, rule: Rule) -> Option<Severity> {
        match self.levels.get(&rule) {
            None => Some(rule.meta().severity),
            Some(RuleLevel::Error) => Some(Severity::Error),
            Some(RuleLevel::Warning) => Some(Severity::Warning),
            Some(RuleLevel::Off) => None,
        }
    }

    /// The path of `path` relative to the root, when it is inside it.
    pub fn relative<'p>(&self, path: &'p Path) -> Option<&'p Path> {
        path.strip_prefix(&self.root).ok()
    }

    /// The cluster whose globs match `path` (an absolute or root-joined path), first one wins.
    pub fn cluster_of(&self, path: &Path) -> Option<&Cluster> {
        let relative = self.relative(path)?;
        self.clusters.iter().find(|c| c.globs.is_match(relative))
    }

    /// Whether `path` is excluded by config.
    pub fn is_excluded(&self, path: &Path) -> bool {
        self.relative(path)
            .is_some_and(|rel| self.exclude.is_match(rel))
    }
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("bad glob `{pattern}`: {}", e.kind()))?;
        builder.add(glob);
        // `dir/**` should also match `dir` itself, and a bare directory everything under it.
        if let Some(dir) = pattern.strip_suffix("/**") {
            builder.add(Glob::new(dir).map_err(|e| e.to_string())?);
        } else if !pattern.contains('*') {
            builder.add(
                Glob::new(&format!("{}/**", pattern.trim_end_matches('/')))
                    .map_err(|e| e.to_string())?,
            );
        }
    }
    builder.build().map_err(|e| e.to_string())
}

/// Parse config text; `path` names the file in errors.
pub fn parse_config(text: &str, path: &Path) -> Result<Config, ConfigError> {
    serde_saphyr::from_str::<Option<Config>>(text)
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            let location = e.location();
            let message = e.to_string();
            let message = message.lines().next().unwrap_or("invalid config").to_string();
            let message = message
                .strip_prefix("error: ")
                .unwrap_or(&message)
                .to_string();
            // Drop serde-saphyr's own "line L column C: " prefix: we print the location ourselves.
            let message = match message.split_once(": ") {
                Some((head, rest)) if head.starts_with("line ") => rest.to_string(),
                _ => message,
            };
            let hint = if message.contains("unknown field") {
                Some("the keys are clusters, critical-kinds, rules and exclude; see docs/configuration in the README".to_string())
            } else {
                None
            };
            ConfigError {
                path: path.to_path_buf(),
                line: location.map(|l| l.line() as usize),
                column: location.map(|l| l.column() as usize),
                message,
                hint,
            }
        })
}

/// Where a run's root and config come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovered {
    /// The repository root.
    pub root: PathBuf,
    /// The config file, if one was found.
    pub config: Option<PathBuf>,
}

/// Find the root and config for a run over `first_path`: the nearest ancestor holding
/// `.asoguard.yaml`, searching up to and including the nearest ancestor with `.git`; else that
/// `.git` ancestor; else the linted path itself (its directory for a file).
pub fn discover(first_path: &Path) -> Discovered {
    let absolute = absolute(first_path);
    let start = if absolute.is_dir() {
        absolute.clone()
    } else {
        absolute
            .parent()
            .map_or_else(|| absolute.clone(), Path::to_path_buf)
    };
    for dir in start.ancestors() {
        let candidate = dir.join(CONFIG_FILE);
        if candidate.is_file() {
            return Discovered {
                root: dir.to_path_buf(),
                config: Some(candidate),
            };
        }
        if dir.join(".git").exists() {
            return Discovered {
                root: dir.to_path_buf(),
                config: None,
            };
        }
    }
    Discovered {
        root: start,
        config: None,
    }
}

/// `path` made absolute against the working directory and normalised lexically (`.` and `..`
/// resolved without touching the file system, so symlinks are not followed).
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    normalize(&joined)
}

/// Resolve `.` and `..` components lexically.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(yaml: &str) -> Result<Settings, ConfigError> {
        let path = Path::new("/repo/.asoguard.yaml");
        Settings::resolve(
            parse_config(yaml, path)?,
            PathBuf::from("/repo"),
            Some(path.into()),
        )
    }

    #[test]
    fn parses_the_documented_example() {
        let s = settings(
            "clusters:\n  dr-west: {paths: [\"clusters/dr-west/**\"], role: passive}\ncritical-kinds:\n  add: [\"cache.azure.com/RedisEnterprise\"]\n  remove: [\"network.azure.com/VirtualNetwork\"]\nrules:\n  ASO003: {severity: warning}\n",
        )
        .unwrap();
        let cluster = s
            .cluster_of(Path::new("/repo/clusters/dr-west/db/pg.yaml"))
            .unwrap();
        assert_eq!(
            (cluster.name.as_str(), cluster.role),
            ("dr-west", Role::Passive)
        );
        assert!(
            s.cluster_of(Path::new("/repo/clusters/east/pg.yaml"))
                .is_none()
        );
        assert!(!s.is_critical("network.azure.com", "VirtualNetwork"));
        assert!(s.is_critical("resources.azure.com", "ResourceGroup"));
        assert_eq!(
            s.severity(Rule::MissingDetachOnDelete),
            Some(Severity::Warning)
        );
    }

    #[test]
    fn rejects_unknown_keys_rules_and_globs_with_location() {
        let e = settings("clusters:\n  a:\n    paths: [x]\n    rol: passive\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(4), Some(5)));
        assert!(e.message.contains("unknown field `rol`"), "{e}");
        let e = settings("rules:\n  skip-in-actve: {severity: off}\n").unwrap_err();
        assert!(e.hint.unwrap().contains("skip-in-active"));
        let e = settings("exclude: [\"a/[b\"]\n").unwrap_err();
        assert!(e.message.contains("bad glob"), "{e}");
        let e = settings("critical-kinds: {add: [Redis]}\n").unwrap_err();
        assert!(e.message.contains("group/Kind"));
    }

    #[test]
    fn empty_config_is_default() {
        assert!(settings("").unwrap().clusters.is_empty());
        assert!(settings("# only a comment\n").is_ok());
    }

    #[test]
    fn normalizes_lexically() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
