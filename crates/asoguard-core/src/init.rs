//! `asoguard init`: a commented starter `.asoguard.yaml` proposed from a repository's layout.
//!
//! Clusters are proposed from the directories a GitOps repository usually holds one per
//! cluster or environment: every subdirectory of `clusters/`, `envs/`, `environments/` and
//! `overlays/` at the root becomes a cluster with `paths: ["<dir>/**"]`. A cluster whose ASO
//! resources all carry `serviceoperator.azure.com/reconcile-policy: skip` (on the resource, or
//! on its Namespace object in the same directory) is proposed as `passive`: a standby, as in
//! ASO's active-passive pattern. Every other key of the config is listed, commented out, with
//! what it does.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::config::{Config, Role, Settings};
use crate::discover;
use crate::manifest::{DeclaredPolicy, Manifest, Policy};
use crate::wording::{agree, plural};
use crate::yaml;

/// Directories, at the repository root, whose subdirectories are proposed as clusters.
pub const LAYOUT_DIRS: [&str; 4] = ["clusters", "envs", "environments", "overlays"];

/// A cluster proposed from a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposedCluster {
    /// The cluster's name in the config (the directory's name, made unique).
    pub name: String,
    /// The directory, relative to the root, with `/` separators (`clusters/prod`).
    pub dir: String,
    /// `passive` when every ASO resource found carries `skip`.
    pub role: Role,
    /// ASO resources found under the directory.
    pub aso_resources: usize,
    /// Of those, how many carry `skip` (their own annotation or their Namespace's).
    pub skipped: usize,
    /// YAML files under the directory that could not be read or parsed.
    pub unreadable: usize,
}

/// What `asoguard init` proposes for a repository.
#[derive(Clone, Debug)]
pub struct Starter {
    /// The clusters found, in the order written.
    pub clusters: Vec<ProposedCluster>,
    /// The text of `.asoguard.yaml`.
    pub text: String,
}

/// Propose a starter config for the repository at `root`: read its layout and manifests
/// (never writing anything) and return the commented text with the clusters found.
pub fn starter_config(root: &Path) -> Starter {
    let settings = Settings::resolve(Config::default(), root.to_path_buf(), None)
        .unwrap_or_else(|_| Settings::default());
    let clusters = propose_clusters(root, &settings);
    let text = render(&clusters);
    Starter { clusters, text }
}

/// One cluster per subdirectory of each layout directory, names made unique.
fn propose_clusters(root: &Path, settings: &Settings) -> Vec<ProposedCluster> {
    let mut clusters = Vec::new();
    let mut names = HashSet::new();
    for parent in LAYOUT_DIRS {
        for (name, dir) in subdirectories(&root.join(parent)) {
            let unique = if names.contains(&name) {
                format!("{parent}-{name}")
            } else {
                name.clone()
            };
            let mut unique_name = unique.clone();
            let mut n = 2;
            while names.contains(&unique_name) {
                unique_name = format!("{unique}-{n}");
                n += 1;
            }
            names.insert(unique_name.clone());
            let survey = survey(&dir, settings);
            let role = if survey.aso_resources > 0 && survey.skipped == survey.aso_resources {
                Role::Passive
            } else {
                Role::Active
            };
            clusters.push(ProposedCluster {
                name: unique_name,
                dir: format!("{parent}/{name}"),
                role,
                aso_resources: survey.aso_resources,
                skipped: survey.skipped,
                unreadable: survey.unreadable,
            });
        }
    }
    clusters
}

/// The subdirectories of `dir` whose names can be written in a config: sorted, hidden ones and
/// names that are not UTF-8 or hold control characters left out. Symlinks are not followed.
fn subdirectories(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let usable = !name.starts_with('.') && !name.chars().any(char::is_control);
            usable.then(|| (name, e.path()))
        })
        .collect();
    found.sort();
    found
}

#[derive(Default)]
struct Survey {
    aso_resources: usize,
    skipped: usize,
    unreadable: usize,
}

/// Count the ASO resources under `dir` and those that carry `skip`.
fn survey(dir: &Path, settings: &Settings) -> Survey {
    let mut survey = Survey::default();
    // (namespace, own policy) of every ASO resource, and the Namespaces declaring `skip`.
    let mut resources: Vec<(Option<String>, DeclaredPolicy)> = Vec::new();
    let mut skip_namespaces: BTreeSet<String> = BTreeSet::new();
    for path in discover::yaml_files_under(dir, settings) {
        let Ok(text) = discover::read_text(&path, settings.max_file_size) else {
            survey.unreadable += 1;
            continue;
        };
        let arena = yaml::Arena::new();
        let stream = yaml::parse(&arena, &text);
        if stream.error.is_some() {
            survey.unreadable += 1;
        }
        for document in &stream.documents {
            let Some(manifest) = document.root.as_ref().and_then(Manifest::from_root) else {
                continue;
            };
            if manifest.is_aso() {
                resources.push((
                    manifest.namespace.map(str::to_string),
                    manifest.declared_policy(),
                ));
            } else if manifest.is("", "Namespace")
                && manifest.declared_policy() == DeclaredPolicy::Valid(Policy::Skip)
            {
                if let Some(name) = manifest.name_str() {
                    skip_namespaces.insert(name.to_string());
                }
            }
        }
    }
    survey.aso_resources = resources.len();
    survey.skipped = resources
        .iter()
        .filter(|(namespace, policy)| match policy {
            DeclaredPolicy::Valid(policy) => *policy == Policy::Skip,
            DeclaredPolicy::Unset => namespace
                .as_ref()
                .is_some_and(|n| skip_namespaces.contains(n)),
            DeclaredPolicy::Invalid(_) => false,
        })
        .count();
    survey
}

/// A string as a YAML scalar: plain when that reads back as the same string, else
/// double-quoted (JSON's escaping is valid YAML).
fn scalar(text: &str) -> String {
    let plain = text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null"
        );
    if plain {
        text.to_string()
    } else {
        serde_json::Value::String(text.to_string()).to_string()
    }
}

/// A directory as a glob matching everything under it, glob metacharacters escaped.
fn glob_under(dir: &str) -> String {
    let mut glob = String::with_capacity(dir.len() + 3);
    for c in dir.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            glob.push('\\');
        }
        glob.push(c);
    }
    glob.push_str("/**");
    glob
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Active => "active",
        Role::Passive => "passive",
    }
}

/// Why a cluster got its role, as a comment.
fn reason(cluster: &ProposedCluster) -> String {
    let mut why = match (cluster.aso_resources, cluster.skipped) {
        (0, _) => "no ASO resources found; active until you say otherwise".to_string(),
        (n, s) if s == n => format!(
            "{}, {}with reconcile-policy `skip`: a standby",
            plural(n, "ASO resource"),
            agree(n, "", "all ")
        ),
        (n, 0) => format!(
            "{}, {} `skip`",
            plural(n, "ASO resource"),
            agree(n, "without", "none with")
        ),
        (n, s) => format!(
            "{}, {s} with `skip`: if this cluster is a standby, make it passive and add `skip` \
             to the rest; if not, asoguard reports each `skip` (ASO001)",
            plural(n, "ASO resource")
        ),
    };
    if cluster.unreadable > 0 {
        let _ = write!(
            why,
            "; {} could not be read or parsed",
            plural(cluster.unreadable, "YAML file")
        );
    }
    why
}

const HEADER: &str = "\
# asoguard configuration, written by `asoguard init`. Review it, then commit it.
#
# This file's directory is the repository root: every path and glob below is relative to it.
# `asoguard config --schema` prints the JSON Schema of this file (for editor completion), and
# `asoguard rules` lists the rules named below.

# Clusters: the paths each cluster applies, and its role. In an `active` cluster ASO
# reconciles, so `serviceoperator.azure.com/reconcile-policy: skip` left on a resource means
# Git changes are silently ignored (ASO001). A `passive` cluster is a standby (ASO's
# active-passive pattern): its resources carry `skip` until failover. A path in no cluster is
# treated as active.
";

const NO_LAYOUT: &str = "\
# No cluster directories were found (clusters/*/, envs/*/, environments/*/, overlays/*/).
# Name yours like this:
# clusters:
#   prod:
#     paths: [\"clusters/prod/**\"]
#     role: active
#   dr-west:
#     paths: [\"clusters/dr-west/**\"]
#     role: passive
";

const OTHER_KEYS: &str = "
# Rules to run: codes (ASO001), names (skip-in-active), code prefixes (ASO0) or ALL.
# Default: every rule.
# select: [ALL]

# Rules never to run: codes, names or code prefixes.
# ignore: [ASO004]

# Per-rule settings, by code or name: severity error, warning or off.
# rules:
#   ASO003: {severity: warning}

# Rules to ignore in the paths matching a glob.
# per-file-ignores:
#   \"legacy/**\": [ASO003]

# The lowest severity that fails a run (exit 1): error, or warning (the default).
# fail-level: warning

# The report format when --format is not given: text (the default), concise, json, sarif,
# github, azure or junit.
# output-format: text

# Paths never linted, added to the defaults (hidden paths and node_modules). Globs are
# relative to the repository root; a glob without `/` matches a file or directory name at any
# depth.
# extend-exclude: [\"vendor/**\"]

# `exclude` replaces the defaults instead: hidden paths and node_modules are then linted
# unless listed again. Prefer `extend-exclude`.
# exclude: [\".*\", node_modules, \"vendor/**\"]

# Files larger than this many bytes are reported (E001), not read. Default: 16 MiB.
# max-file-size: 16777216

# Kinds whose deletion destroys data and so need `detach-on-delete` (ASO003), as
# `group/Kind`: added to, or removed from, the defaults (resource groups, databases, vaults,
# storage, clusters, ...).
# critical-kinds:
#   add: [\"network.azure.com/PublicIPAddress\"]
#   remove: [\"network.azure.com/VirtualNetwork\"]

# CRDs to validate resources against (ASO012, ASO013): CRD files, ASO's release bundle, or a
# directory written by `asoguard crds import`, relative to the repository root. --crds
# replaces this list.
# crds: [\"crds/\"]
";

/// `text` as comment lines starting with `prefix`, wrapped at word boundaries to keep lines
/// within 96 columns where words allow.
fn wrap_comment(prefix: &str, text: &str) -> String {
    const WIDTH: usize = 96;
    let mut out = String::new();
    let mut line = String::from(prefix);
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if line.len() > prefix.len() && line.len() + 1 + word.len() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = String::from(prefix);
        }
        if line.len() > prefix.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The commented config text for the proposed clusters.
fn render(clusters: &[ProposedCluster]) -> String {
    let mut out = String::from(HEADER);
    if clusters.is_empty() {
        out.push_str(NO_LAYOUT);
    } else {
        out.push_str("clusters:\n");
        for cluster in clusters {
            out.push_str(&wrap_comment(
                "  # ",
                &format!("{}: {}.", cluster.dir, reason(cluster)),
            ));
            let _ = writeln!(out, "  {}:", scalar(&cluster.name));
            let _ = writeln!(
                out,
                "    paths: [{}]",
                serde_json::Value::String(glob_under(&cluster.dir))
            );
            let _ = writeln!(out, "    role: {}", role_name(cluster.role));
        }
    }
    out.push_str(OTHER_KEYS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_config;

    const RG: &str = "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: rg\n";
    const RG_SKIP: &str = "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: rg\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: skip\n";

    fn write(root: &Path, relative: &str, text: &str) {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// The text parses as a valid config, and resolves against `root`.
    fn settings(root: &Path, text: &str) -> Settings {
        let path = root.join(crate::config::CONFIG_FILE);
        let config = parse_config(text, &path).unwrap_or_else(|e| panic!("{e}\n{text}"));
        Settings::resolve(config, root.to_path_buf(), Some(path)).unwrap()
    }

    #[test]
    fn proposes_active_and_passive_clusters_from_the_layout() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "clusters/prod/rg.yaml", RG);
        write(root, "clusters/dr/rg.yaml", RG_SKIP);
        write(
            root,
            "clusters/dr/more/rg2.yaml",
            &format!("{RG_SKIP}---\n{RG_SKIP}"),
        );
        write(root, "clusters/.hidden/rg.yaml", RG);
        write(root, "envs/staging/readme.yaml", "just: data\n");
        write(root, "apps/rg.yaml", RG);
        let starter = starter_config(root);
        let summary: Vec<(&str, &str, Role, usize, usize)> = starter
            .clusters
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.dir.as_str(),
                    c.role,
                    c.aso_resources,
                    c.skipped,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("dr", "clusters/dr", Role::Passive, 3, 3),
                ("prod", "clusters/prod", Role::Active, 1, 0),
                ("staging", "envs/staging", Role::Active, 0, 0),
            ]
        );
        let s = settings(root, &starter.text);
        let role = |p: &str| {
            s.cluster_of(&root.join(p))
                .map(|c| (c.name.clone(), c.role))
        };
        assert_eq!(
            role("clusters/dr/more/rg2.yaml"),
            Some(("dr".into(), Role::Passive))
        );
        assert_eq!(
            role("clusters/prod/rg.yaml"),
            Some(("prod".into(), Role::Active))
        );
        assert_eq!(role("apps/rg.yaml"), None);
        assert!(
            starter
                .text
                .contains("  # clusters/dr: 3 ASO resources, all with reconcile-policy `skip`: a standby.\n  dr:\n    paths: [\"clusters/dr/**\"]\n    role: passive\n"),
            "{}",
            starter.text
        );
    }

    #[test]
    fn mixed_skip_stays_active_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "envs/prod/a.yaml",
            &format!("{RG}---\n{RG_SKIP}"),
        );
        let starter = starter_config(dir.path());
        assert_eq!(starter.clusters[0].role, Role::Active);
        assert!(starter.text.contains("2 ASO resources, 1 with `skip`"));
    }

    #[test]
    fn a_namespace_with_skip_makes_its_resources_skipped() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "environments/dr/ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: data\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: skip\n",
        );
        write(
            dir.path(),
            "environments/dr/rg.yaml",
            "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: rg\n  namespace: data\n",
        );
        write(
            dir.path(),
            "environments/west/rg.yaml",
            "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: rg\n  namespace: data\n",
        );
        let starter = starter_config(dir.path());
        let roles: Vec<Role> = starter.clusters.iter().map(|c| c.role).collect();
        assert_eq!(roles, [Role::Passive, Role::Active]);
    }

    #[test]
    fn names_are_unique_and_odd_names_are_quoted_and_escaped() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "clusters/prod/rg.yaml", RG);
        write(dir.path(), "overlays/prod/rg.yaml", RG_SKIP);
        write(dir.path(), "overlays/yes/rg.yaml", RG);
        write(dir.path(), "overlays/a b: [x]*#/rg.yaml", RG_SKIP);
        let starter = starter_config(dir.path());
        let names: Vec<&str> = starter.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["prod", "a b: [x]*#", "overlays-prod", "yes"]);
        let s = settings(dir.path(), &starter.text);
        let cluster = s
            .cluster_of(&dir.path().join("overlays/a b: [x]*#/rg.yaml"))
            .unwrap();
        assert_eq!(
            (cluster.name.as_str(), cluster.role),
            ("a b: [x]*#", Role::Passive)
        );
        assert!(
            s.cluster_of(&dir.path().join("overlays/a b: [x]x#/rg.yaml"))
                .is_none(),
            "glob metacharacters in a name are literal"
        );
        assert_eq!(
            s.cluster_of(&dir.path().join("overlays/yes/rg.yaml"))
                .map(|c| c.name.as_str()),
            Some("yes"),
            "`yes` is a string key, not a boolean"
        );
    }

    #[test]
    fn without_a_layout_the_text_is_a_valid_commented_template() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "rg.yaml", RG);
        let starter = starter_config(dir.path());
        assert!(starter.clusters.is_empty());
        assert!(starter.text.contains("# No cluster directories were found"));
        assert!(settings(dir.path(), &starter.text).clusters.is_empty());
        // A root that does not exist proposes nothing, and never panics.
        assert!(
            starter_config(&dir.path().join("missing"))
                .clusters
                .is_empty()
        );
    }

    #[test]
    fn the_template_adds_excludes_rather_than_replacing_the_defaults() {
        let text = render(&[]);
        let extend = text.find("\n# extend-exclude:").unwrap();
        let replace = text.find("\n# exclude:").unwrap();
        assert!(
            extend < replace,
            "extend-exclude is the example offered first"
        );
        // Uncommented, the example keeps hidden paths and node_modules excluded.
        let line = text[extend + 1..]
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# "))
            .unwrap();
        let root = Path::new("/repo");
        let s = settings(root, line);
        assert!(s.is_excluded(&root.join("vendor/a.yaml")));
        assert!(s.is_excluded(&root.join(".github/workflows/ci.yaml")));
        assert!(s.is_excluded(&root.join("web/node_modules/a.yaml")));
        assert!(!s.is_excluded(&root.join("clusters/a.yaml")));
        // The `exclude` example lists the defaults again, so uncommenting it keeps them too.
        let line = text[replace + 1..]
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# "))
            .unwrap();
        let s = settings(root, line);
        assert!(s.is_excluded(&root.join(".github/workflows/ci.yaml")));
        assert!(s.is_excluded(&root.join("vendor/a.yaml")));
    }

    #[test]
    fn every_config_key_is_listed() {
        let text = render(&[]);
        let schema = crate::config::config_schema();
        for key in schema["properties"].as_object().unwrap().keys() {
            assert!(
                text.contains(&format!("\n# {key}:")) || text.contains(&format!("\n{key}:")),
                "`{key}` is not listed in the starter config"
            );
        }
        // Each commented example is itself valid config once uncommented: a line that starts
        // with a config key, and the indented lines under it.
        let keys: Vec<String> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| format!("{k}:"))
            .collect();
        let uncommented: String = format!("{NO_LAYOUT}{OTHER_KEYS}")
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| l.starts_with("  ") || keys.iter().any(|k| l.starts_with(k.as_str())))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(
            uncommented.contains("critical-kinds:\n  add:"),
            "{uncommented}"
        );
        let root = Path::new("/repo");
        parse_config(&uncommented, &root.join(".asoguard.yaml"))
            .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    }
}
