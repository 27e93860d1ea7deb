//! `asoguard init`: a commented starter `.asoguard.yaml` proposed from a repository's layout.
//!
//! The repository is rendered as `check` renders it (the index), and clusters are proposed
//! from what applies it:
//!
//! - **Appliers.** Every Flux Kustomization and ArgoCD Application targets a cluster, named the
//!   way a user names it: an Application's remote destination (`destination.name`, else the
//!   server's host); else the `clusters/<name>/` (or `envs/`, `environments/`, `overlays/`)
//!   directory its file sits in, as in Flux's bootstrap layout; else such a directory it
//!   renders; else `in-cluster` for an Application, the Kustomization's name for Flux. An
//!   applier that another applier applies (App of Apps, Flux's `flux-system`) targets its
//!   parent's cluster unless it names a remote one. One cluster is proposed per target, its
//!   `paths` covering what its appliers render and the appliers' own files, so that `check`
//!   places each rendered resource in it. A directory that appliers of several clusters render
//!   (a shared base) is in no cluster's paths: each applier's cluster judges what it renders.
//! - **Directories.** Subdirectories of `clusters/`, `envs/`, `environments/` and `overlays/`
//!   at the root that no applier renders become clusters with `paths: ["<dir>/**"]` (a
//!   Kustomize overlay there is applied by whatever builds it).
//!
//! Each cluster's ASO resources are counted as `check` will count them: the instances the
//! index renders for it under the proposed config (an overlay that renders a base counts the
//! base's resources). A cluster whose ASO resources all end up with `skip` (their own, a
//! patch's, `commonAnnotations`, Flux `commonMetadata`, or their Namespace's) is proposed as
//! `passive`: a standby, as in ASO's active-passive pattern. Every other key of the config is
//! listed, commented out, with what it does.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::config::{Config, Role, Settings, normalize, parse_config};
use crate::discover;
use crate::index::facts::Extra;
use crate::index::{ContextKind, FileFacts, FileId, Index, IndexedFile};
use crate::manifest::Policy;
use crate::span::LineIndex;
use crate::wording::{agree, plural};
use crate::yaml;

/// Directories, at the repository root, whose subdirectories are proposed as clusters.
pub const LAYOUT_DIRS: [&str; 4] = ["clusters", "envs", "environments", "overlays"];

/// A cluster proposed from the appliers that target it, or from a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposedCluster {
    /// The cluster's name in the config (made unique).
    pub name: String,
    /// Its `paths`: globs relative to the root, with `/` separators (`clusters/prod/**`, or a
    /// file such as `apps/prod.yaml`).
    pub paths: Vec<String>,
    /// The directory it was proposed from (`clusters/dr`), for a cluster no applier targets.
    pub dir: Option<String>,
    /// The Flux Kustomizations and ArgoCD Applications that apply it, as messages name them
    /// (``ArgoCD Application `web` in apps/web.yaml``); empty for a cluster proposed from a
    /// directory.
    pub appliers: Vec<String>,
    /// `passive` when every ASO resource it applies has the effective policy `skip`.
    pub role: Role,
    /// ASO resources it applies, as `check` renders them under the proposed config.
    pub aso_resources: usize,
    /// Of those, how many have the effective policy `skip`.
    pub skipped: usize,
    /// YAML files under its paths that could not be read or parsed.
    pub unreadable: usize,
}

/// A directory that appliers of several proposed clusters render, left out of every cluster's
/// paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedDir {
    /// The directory, relative to the root (`apps/base`).
    pub dir: String,
    /// The clusters that render it.
    pub clusters: Vec<String>,
}

/// What `asoguard init` proposes for a repository.
#[derive(Clone, Debug)]
pub struct Starter {
    /// The clusters found, in the order written.
    pub clusters: Vec<ProposedCluster>,
    /// Directories rendered by several clusters, in no cluster's paths.
    pub shared: Vec<SharedDir>,
    /// The text of `.asoguard.yaml`.
    pub text: String,
}

/// Propose a starter config for the repository at `root`: read its layout and manifests
/// (never writing anything) and return the commented text with the clusters found.
pub fn starter_config(root: &Path) -> Starter {
    let settings = Settings::resolve(Config::default(), root.to_path_buf(), None)
        .unwrap_or_else(|_| Settings::default());
    let (files, unreadable) = read_repository(&settings);
    let index = Index::build(files.clone(), &settings);
    let mut proposal = Proposal::new(&settings.root, &index);
    proposal.add_applier_clusters();
    proposal.add_layout_clusters();
    let (mut clusters, shared) = proposal.finish();
    count(&mut clusters, &settings, files, &unreadable);
    let text = render(&clusters, &shared);
    Starter {
        clusters,
        shared,
        text,
    }
}

/// Every YAML file under the root as the index takes it, and the files that could not be read
/// or parsed (a file that does not parse adds what its parse gave).
fn read_repository(settings: &Settings) -> (Vec<IndexedFile>, Vec<PathBuf>) {
    let (targets, _) = discover::discover(std::slice::from_ref(&settings.root), settings, false);
    let mut files = Vec::with_capacity(targets.len());
    let mut unreadable = Vec::new();
    for target in targets {
        let Ok(text) = discover::read_text(&target.fs_path, settings.max_file_size) else {
            unreadable.push(target.fs_path.to_path_buf());
            continue;
        };
        let arena = yaml::Arena::new();
        let stream = yaml::parse(&arena, &text);
        if stream.error.is_some() {
            unreadable.push(target.fs_path.to_path_buf());
        }
        let facts = FileFacts::of(&stream, &target.fs_path);
        files.push(IndexedFile::new(&target, facts, || LineIndex::new(&text)));
    }
    (files, unreadable)
}

/// The name of the `<layout>/<name>/` directory the file at `path` lies in (at any depth
/// below it), with that directory: `clusters/prod/apps.yaml` is in `prod`'s. `None` for a
/// file directly in a layout directory, elsewhere, or under a hidden or unwritable name.
fn layout_dir(root: &Path, path: &Path) -> Option<(String, PathBuf)> {
    layout_of(root, path.parent()?)
}

/// The name of the `<layout>/<name>/` directory that `dir` is, or lies in, with that
/// directory.
fn layout_of(root: &Path, dir: &Path) -> Option<(String, PathBuf)> {
    let relative = dir.strip_prefix(root).ok()?;
    let mut parts = relative.components();
    let parent = parts.next()?.as_os_str().to_str()?;
    let name = parts.next()?.as_os_str().to_str()?;
    let usable = LAYOUT_DIRS.contains(&parent)
        && !name.starts_with('.')
        && !name.chars().any(char::is_control);
    usable.then(|| (name.to_string(), root.join(parent).join(name)))
}

/// A proposed cluster while it is being made.
#[derive(Default)]
struct Draft {
    /// Applier contexts (index into `Index::contexts`) that target it.
    contexts: Vec<usize>,
    /// Directories claimed whole: what its appliers' source paths name, and the layout
    /// directory their files sit in.
    dirs: BTreeSet<PathBuf>,
    /// A directory it was proposed from (no appliers).
    layout: Option<String>,
    /// Globs added as they are (a layout directory joined to an applier cluster).
    extra_paths: Vec<String>,
}

/// Clusters being proposed over one index.
struct Proposal<'i> {
    root: &'i Path,
    index: &'i Index,
    /// By target name, in name order.
    drafts: BTreeMap<String, Draft>,
    /// Layout clusters, in layout order, after the applier ones.
    layout: Vec<(String, Draft)>,
    /// Which drafts (by name) claim each file: appliers' files and what they render.
    claims: HashMap<FileId, BTreeSet<String>>,
    /// The files each context renders (one entry per instance).
    rendered: HashMap<usize, Vec<FileId>>,
}

impl<'i> Proposal<'i> {
    fn new(root: &'i Path, index: &'i Index) -> Self {
        let mut rendered: HashMap<usize, Vec<FileId>> = HashMap::new();
        for instance in &index.instances {
            rendered
                .entry(instance.context)
                .or_default()
                .push(instance.file);
        }
        Proposal {
            root,
            index,
            drafts: BTreeMap::new(),
            layout: Vec::new(),
            claims: HashMap::new(),
            rendered,
        }
    }

    /// The applier contexts (Flux Kustomizations and ArgoCD Applications; ApplicationSets,
    /// which target clusters from templates, are left out).
    fn appliers(&self) -> HashSet<usize> {
        self.index
            .contexts
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c.kind, ContextKind::Flux | ContextKind::Argo))
            .filter_map(|(i, c)| {
                let doc = c.doc?;
                let object = self.object(c.file, doc)?;
                let app_set = matches!(&object.extra, Extra::Argo(app) if app.app_set);
                (!app_set).then_some(i)
            })
            .collect()
    }

    fn object(&self, file: FileId, doc: usize) -> Option<&'i crate::index::ObjectFact> {
        self.index.object_at(file, doc)
    }

    /// One draft per applier target, with the files and directories it claims.
    fn add_applier_clusters(&mut self) {
        let appliers = self.appliers();
        let mut targets: HashMap<usize, Option<(String, Option<PathBuf>)>> = HashMap::new();
        let mut order: Vec<usize> = appliers.iter().copied().collect();
        order.sort_unstable();
        for &context in &order {
            let target = self.target(context, &appliers, &mut targets, &mut Vec::new());
            let Some((name, layout)) = target else {
                continue;
            };
            // Only a root applier's own layout directory is claimed: a nested one is rendered,
            // and claimed as such.
            let root_applier = self.parent(context, &appliers).is_none();
            let draft = self.drafts.entry(name).or_default();
            draft.contexts.push(context);
            if let Some(dir) = layout.filter(|_| root_applier) {
                draft.dirs.insert(dir);
            }
        }
        let names: Vec<String> = self.drafts.keys().cloned().collect();
        for name in names {
            let contexts = self.drafts[&name].contexts.clone();
            for context in contexts {
                let file = self.index.contexts[context].file;
                self.claims.entry(file).or_default().insert(name.clone());
                for &rendered in self.rendered.get(&context).into_iter().flatten() {
                    self.claims
                        .entry(rendered)
                        .or_default()
                        .insert(name.clone());
                }
                let dirs = self.source_dirs(context);
                if let Some(draft) = self.drafts.get_mut(&name) {
                    draft.dirs.extend(dirs);
                }
            }
        }
    }

    /// The applier that applies this one, if any (the first, by context order).
    fn parent(&self, context: usize, appliers: &HashSet<usize>) -> Option<usize> {
        let c = &self.index.contexts[context];
        let doc = c.doc?;
        self.index
            .instances_of(c.file, doc)
            .map(|i| i.context)
            .filter(|&p| p != context && appliers.contains(&p))
            .min()
    }

    /// The cluster an applier targets: its name, and the layout directory its file sits in
    /// when that gave the name. `None` when it cannot be told (a Flux Kustomization whose name
    /// holds a variable, nothing else naming it).
    fn target(
        &self,
        context: usize,
        appliers: &HashSet<usize>,
        memo: &mut HashMap<usize, Option<(String, Option<PathBuf>)>>,
        visiting: &mut Vec<usize>,
    ) -> Option<(String, Option<PathBuf>)> {
        if let Some(known) = memo.get(&context) {
            return known.clone();
        }
        if visiting.contains(&context) {
            return None;
        }
        visiting.push(context);
        let c = &self.index.contexts[context];
        let file = &self.index.files[c.file].fs_path;
        let object = c.doc.and_then(|doc| self.object(c.file, doc));
        let remote = c.doc.and_then(|doc| remote_target(file, doc, object));
        // An applier applied by another targets its parent's cluster (unless a cycle of
        // appliers leaves the parent's unknown: then it is named as a root one).
        let inherited = self
            .parent(context, appliers)
            .and_then(|parent| self.target(parent, appliers, memo, visiting));
        let target = if let Some(name) = remote {
            Some((name, None))
        } else if let Some((name, _)) = inherited {
            Some((name, None))
        } else if let Some((name, dir)) = layout_dir(self.root, file) {
            Some((name, Some(dir)))
        } else {
            // A layout directory it renders: its source path, else the files it renders.
            let rendered = self
                .source_dirs(context)
                .iter()
                .filter_map(|d| layout_of(self.root, d))
                .min()
                .or_else(|| {
                    self.rendered
                        .get(&context)
                        .into_iter()
                        .flatten()
                        .filter_map(|&f| layout_dir(self.root, &self.index.files[f].fs_path))
                        .min()
                });
            match (rendered, &c.kind) {
                (Some((name, _)), _) => Some((name, None)),
                (None, ContextKind::Argo) => Some(("in-cluster".to_string(), None)),
                (None, _) => object
                    .and_then(|o| o.name.as_deref())
                    .filter(|n| !n.contains("${"))
                    .map(|n| (n.to_string(), None)),
            }
        };
        visiting.pop();
        memo.insert(context, target.clone());
        target
    }

    /// The directories an applier's source paths name, inside the root.
    fn source_dirs(&self, context: usize) -> Vec<PathBuf> {
        let c = &self.index.contexts[context];
        let Some(object) = c.doc.and_then(|doc| self.object(c.file, doc)) else {
            return Vec::new();
        };
        let paths: Vec<&str> = match &object.extra {
            Extra::Flux(flux) => flux.path.as_deref().into_iter().collect(),
            Extra::Argo(app) => app
                .sources
                .iter()
                .filter_map(|s| s.path.as_deref())
                .collect(),
            Extra::None => Vec::new(),
        };
        paths
            .into_iter()
            .filter(|p| !p.contains("{{") && !p.contains("${"))
            .map(|p| normalize(&self.root.join(p.trim_start_matches('/'))))
            .filter(|d| d.starts_with(self.root) && d != self.root && d.is_dir())
            .collect()
    }

    /// Whether something under `dir` is claimed by an applier cluster, or a claimed directory
    /// overlaps it.
    fn claimed_under(&self, dir: &Path) -> bool {
        let files = self
            .claims
            .keys()
            .any(|&f| self.index.files[f].fs_path.starts_with(dir));
        files
            || self
                .drafts
                .values()
                .flat_map(|d| &d.dirs)
                .any(|d| d.starts_with(dir) || dir.starts_with(d))
    }

    /// A cluster per layout subdirectory no applier renders; one whose name an applier cluster
    /// has joins it.
    fn add_layout_clusters(&mut self) {
        for parent in LAYOUT_DIRS {
            for (name, dir) in subdirectories(&self.root.join(parent)) {
                if self.claimed_under(&dir) {
                    continue;
                }
                let glob = glob_under(&format!("{parent}/{name}"));
                if let Some(draft) = self.drafts.get_mut(&name) {
                    draft.extra_paths.push(glob);
                    continue;
                }
                let layout = Some(format!("{parent}/{name}"));
                self.layout.push((
                    name,
                    Draft {
                        layout,
                        extra_paths: vec![glob],
                        ..Draft::default()
                    },
                ));
            }
        }
    }

    /// A path relative to the root, with `/` separators.
    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }

    /// Whether `dir` holds only files that `name` claims or nobody does, and no directory that
    /// another cluster claims overlaps it.
    fn exclusive(&self, dir: &Path, name: &str) -> bool {
        let files = &self.index.files;
        let first = files.partition_point(|f| *f.fs_path < *dir);
        let only_ours = (first..files.len())
            .take_while(|&id| files[id].fs_path.starts_with(dir))
            .all(|id| {
                self.claims
                    .get(&id)
                    .is_none_or(|owners| owners.iter().all(|o| o == name))
            });
        only_ours
            && self
                .drafts
                .iter()
                .filter(|(other, _)| other.as_str() != name)
                .flat_map(|(_, d)| &d.dirs)
                .all(|d| !d.starts_with(dir) && !dir.starts_with(d))
    }

    /// The `paths` of an applier cluster: every claimed directory, and every directory that
    /// holds what it renders, as `<dir>/**` where nothing in it belongs to another cluster;
    /// else the files in it only this cluster claims; and its appliers' files.
    fn paths_of(&self, name: &str, draft: &Draft) -> Vec<String> {
        let mine = |file: &FileId| {
            self.claims
                .get(file)
                .is_some_and(|owners| owners.len() == 1 && owners.contains(name))
        };
        let mut dirs: BTreeSet<PathBuf> = draft.dirs.clone();
        let mut files: BTreeSet<FileId> = BTreeSet::new();
        for (&file, owners) in &self.claims {
            if !owners.contains(name) {
                continue;
            }
            let applier = draft
                .contexts
                .iter()
                .any(|&c| self.index.contexts[c].file == file);
            if applier {
                files.insert(file);
            } else if let Some(parent) = self.index.files[file].fs_path.parent() {
                dirs.insert(parent.to_path_buf());
            }
        }
        let mut by_dir: HashMap<&Path, Vec<FileId>> = HashMap::new();
        for &file in self.claims.keys().filter(|f| mine(f)) {
            if let Some(parent) = self.index.files[file].fs_path.parent() {
                by_dir.entry(parent).or_default().push(file);
            }
        }
        let mut globs: Vec<PathBuf> = Vec::new();
        for dir in dirs {
            if dir == self.root || !dir.starts_with(self.root) {
                continue;
            }
            if self.exclusive(&dir, name) {
                globs.push(dir);
            } else {
                // A shared directory: only the files in it that are this cluster's alone.
                files.extend(by_dir.get(dir.as_path()).into_iter().flatten().copied());
            }
        }
        let kept: Vec<&PathBuf> = globs
            .iter()
            .filter(|d| {
                !globs
                    .iter()
                    .any(|other| other != *d && d.starts_with(other))
            })
            .collect();
        let mut out: Vec<String> = kept.iter().map(|d| glob_under(&self.relative(d))).collect();
        out.extend(
            files
                .iter()
                .filter(|f| mine(f))
                .map(|&f| &self.index.files[f].fs_path)
                .filter(|path| !kept.iter().any(|d| path.starts_with(d)))
                .map(|path| glob_escape(&self.relative(path))),
        );
        out.extend(draft.extra_paths.iter().cloned());
        out.sort();
        out.dedup();
        out
    }

    /// The directories several clusters render, for a comment.
    fn shared(&self) -> Vec<SharedDir> {
        let mut by_dir: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (&file, owners) in &self.claims {
            if owners.len() < 2 {
                continue;
            }
            if let Some(parent) = self.index.files[file].fs_path.parent() {
                by_dir
                    .entry(self.relative(parent))
                    .or_default()
                    .extend(owners.iter().cloned());
            }
        }
        by_dir
            .into_iter()
            .map(|(dir, clusters)| SharedDir {
                dir,
                clusters: clusters.into_iter().collect(),
            })
            .collect()
    }

    /// The clusters, names made unique (applier clusters first, by name; then layout ones),
    /// and the shared directories.
    fn finish(self) -> (Vec<ProposedCluster>, Vec<SharedDir>) {
        let mut clusters = Vec::new();
        let mut taken: HashSet<String> = HashSet::new();
        for (name, draft) in &self.drafts {
            let paths = self.paths_of(name, draft);
            if paths.is_empty() {
                continue;
            }
            let mut appliers: Vec<String> = draft
                .contexts
                .iter()
                .map(|&c| self.index.describe_context(&self.index.contexts[c]))
                .collect();
            appliers.dedup();
            taken.insert(name.clone());
            clusters.push(ProposedCluster {
                name: name.clone(),
                paths,
                dir: None,
                appliers,
                role: Role::Active,
                aso_resources: 0,
                skipped: 0,
                unreadable: 0,
            });
        }
        for (name, draft) in &self.layout {
            let parent = draft
                .layout
                .as_deref()
                .and_then(|l| l.split('/').next())
                .unwrap_or("dir");
            let base = if taken.contains(name) {
                format!("{parent}-{name}")
            } else {
                name.clone()
            };
            let mut unique = base.clone();
            let mut n = 2;
            while taken.contains(&unique) {
                unique = format!("{base}-{n}");
                n += 1;
            }
            taken.insert(unique.clone());
            clusters.push(ProposedCluster {
                name: unique,
                paths: draft.extra_paths.clone(),
                dir: draft.layout.clone(),
                appliers: Vec::new(),
                role: Role::Active,
                aso_resources: 0,
                skipped: 0,
                unreadable: 0,
            });
        }
        let shared = self.shared();
        (clusters, shared)
    }
}

/// The cluster an ArgoCD Application deploys to when it is not the one ArgoCD runs in: its
/// `destination.name`, else its server's host (first label). `None` for the local cluster
/// (`https://kubernetes.default.svc`, `in-cluster`) and for Flux Kustomizations.
fn remote_target(
    file: &Path,
    doc: usize,
    object: Option<&crate::index::ObjectFact>,
) -> Option<String> {
    if !matches!(object.map(|o| &o.extra), Some(Extra::Argo(_))) {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let arena = yaml::Arena::new();
    let stream = yaml::parse(&arena, &text);
    let destination = stream
        .documents
        .get(doc)?
        .root
        .as_ref()?
        .get("spec")?
        .get("destination")?;
    let usable = |s: &str| !s.is_empty() && !s.contains("{{") && !s.contains("${");
    if let Some(name) = destination.get_str("name").filter(|n| usable(n)) {
        return (name != "in-cluster").then(|| name.to_string());
    }
    let server = destination.get_str("server").filter(|s| usable(s))?;
    let server = server.trim_end_matches('/');
    if server == "https://kubernetes.default.svc" {
        return None;
    }
    let host = server
        .split("://")
        .last()
        .unwrap_or(server)
        .split(['/', ':'])
        .next()
        .unwrap_or(server);
    let label = if host.parse::<std::net::IpAddr>().is_ok() {
        host
    } else {
        host.split('.').next().unwrap_or(host)
    };
    (!label.is_empty()).then(|| label.to_string())
}

/// Count what each proposed cluster applies, as `check` will under the proposed config, and
/// mark passive those whose ASO resources all end up `skip`.
fn count(
    clusters: &mut [ProposedCluster],
    settings: &Settings,
    files: Vec<IndexedFile>,
    unreadable: &[PathBuf],
) {
    if clusters.is_empty() {
        return;
    }
    let path = settings.root.join(crate::config::CONFIG_FILE);
    let text = render_clusters(clusters);
    let proposed = parse_config(&text, &path)
        .ok()
        .and_then(|config| Settings::resolve(config, settings.root.clone(), Some(path)).ok());
    let Some(proposed) = proposed else {
        return;
    };
    let index = Index::build(files, &proposed);
    let position: HashMap<&str, usize> = proposed
        .clusters
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    let mut counts = vec![(0usize, 0usize); proposed.clusters.len()];
    for instance in index.instances.iter().filter(|i| i.aso) {
        if let Some(c) = index.contexts[instance.context].cluster {
            counts[c].0 += 1;
            if index.effective(instance).0 == Policy::Skip {
                counts[c].1 += 1;
            }
        }
    }
    for cluster in clusters.iter_mut() {
        let Some(&i) = position.get(cluster.name.as_str()) else {
            continue;
        };
        (cluster.aso_resources, cluster.skipped) = counts[i];
        cluster.unreadable = unreadable
            .iter()
            .filter(|f| {
                proposed
                    .cluster_of(f)
                    .is_some_and(|c| c.name == cluster.name)
            })
            .count();
        cluster.role = if cluster.aso_resources > 0 && cluster.skipped == cluster.aso_resources {
            Role::Passive
        } else {
            Role::Active
        };
    }
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

/// A path as a glob matching only itself: glob metacharacters escaped.
fn glob_escape(path: &str) -> String {
    let mut glob = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            glob.push('\\');
        }
        glob.push(c);
    }
    glob
}

/// A directory as a glob matching everything under it, glob metacharacters escaped.
fn glob_under(dir: &str) -> String {
    format!("{}/**", glob_escape(dir))
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
        (0, _) if cluster.appliers.is_empty() => {
            "no ASO resources found; active until you say otherwise".to_string()
        }
        (0, _) => "applies no ASO resources; active until you say otherwise".to_string(),
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

/// What a cluster's comment starts with: the directory it was proposed from, or the appliers
/// that target it.
fn origin(cluster: &ProposedCluster) -> String {
    match cluster.appliers.as_slice() {
        [] => cluster.dir.clone().unwrap_or_else(|| cluster.name.clone()),
        [one] => format!("{} (applied by {one})", cluster.name),
        [first, rest @ ..] => format!(
            "{} (applied by {first} and {} more)",
            cluster.name,
            rest.len()
        ),
    }
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
# No clusters were found: no Flux Kustomization or ArgoCD Application, and no cluster
# directories (clusters/*/, envs/*/, environments/*/, overlays/*/). Name yours like this:
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

/// The `clusters:` section for the proposed clusters, each with a comment saying why.
fn render_clusters(clusters: &[ProposedCluster]) -> String {
    let mut out = String::from("clusters:\n");
    for cluster in clusters {
        out.push_str(&wrap_comment(
            "  # ",
            &format!("{}: {}.", origin(cluster), reason(cluster)),
        ));
        let _ = writeln!(out, "  {}:", scalar(&cluster.name));
        let paths: Vec<String> = cluster
            .paths
            .iter()
            .map(|p| serde_json::Value::String(p.clone()).to_string())
            .collect();
        let _ = writeln!(out, "    paths: [{}]", paths.join(", "));
        let _ = writeln!(out, "    role: {}", role_name(cluster.role));
    }
    out
}

/// The commented config text for the proposed clusters.
fn render(clusters: &[ProposedCluster], shared: &[SharedDir]) -> String {
    let mut out = String::from(HEADER);
    if clusters.is_empty() {
        out.push_str(NO_LAYOUT);
    } else {
        out.push_str(&render_clusters(clusters));
        for dir in shared {
            out.push_str(&wrap_comment(
                "  # ",
                &format!(
                    "{} is in no cluster's paths: {} {} render it, and `check` judges each rendering by the cluster of what applies it.",
                    dir.dir,
                    and_list(&dir.clusters),
                    if dir.clusters.len() == 2 { "both" } else { "all" }
                ),
            ));
        }
    }
    out.push_str(OTHER_KEYS);
    out
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
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
                    c.dir.as_deref().unwrap_or(""),
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
        assert!(starter.text.contains("# No clusters were found"));
        assert!(settings(dir.path(), &starter.text).clusters.is_empty());
        // A root that does not exist proposes nothing, and never panics.
        assert!(
            starter_config(&dir.path().join("missing"))
                .clusters
                .is_empty()
        );
    }

    const FLUX: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  path: PATH\n  sourceRef: {kind: GitRepository, name: flux-system}\n";
    const APP: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: NAME\n  namespace: argocd\nspec:\n  source: {repoURL: https://example.com/r.git, path: PATH}\n  destination: DEST\n";

    fn summary(starter: &Starter) -> Vec<(&str, Vec<&str>, Role, usize, usize)> {
        starter
            .clusters
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.paths.iter().map(String::as_str).collect(),
                    c.role,
                    c.aso_resources,
                    c.skipped,
                )
            })
            .collect()
    }

    #[test]
    fn flux_clusters_come_from_where_their_kustomizations_live() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "base/rg.yaml", RG);
        write(root, "base/kustomization.yaml", "resources: [rg.yaml]\n");
        write(
            root,
            "clusters/prod/apps.yaml",
            &FLUX.replace("PATH", "./base"),
        );
        let dr = FLUX.replace("PATH", "./base")
            + "  commonMetadata:\n    annotations:\n      serviceoperator.azure.com/reconcile-policy: skip\n";
        write(root, "clusters/dr/apps.yaml", &dr);
        // A directory only prod's Flux renders belongs to prod.
        write(
            root,
            "clusters/prod/infra.yaml",
            &FLUX
                .replace("PATH", "./infra/prod")
                .replace("name: apps", "name: infra"),
        );
        write(
            root,
            "infra/prod/rg.yaml",
            &RG.replace("name: rg", "name: infra"),
        );
        let starter = starter_config(root);
        assert_eq!(
            summary(&starter),
            [
                ("dr", vec!["clusters/dr/**"], Role::Passive, 1, 1),
                (
                    "prod",
                    vec!["clusters/prod/**", "infra/prod/**"],
                    Role::Active,
                    2,
                    0
                ),
            ]
        );
        assert_eq!(
            starter.shared,
            [SharedDir {
                dir: "base".into(),
                clusters: vec!["dr".into(), "prod".into()]
            }]
        );
        assert!(
            starter
                .text
                .contains("  # base is in no cluster's paths: dr and prod both render it"),
            "{}",
            starter.text
        );
        // What was proposed places each rendering in its cluster.
        let s = settings(root, &starter.text);
        assert_eq!(
            s.cluster_of(&root.join("infra/prod/rg.yaml")).unwrap().name,
            "prod"
        );
        assert!(s.cluster_of(&root.join("base/rg.yaml")).is_none());
    }

    #[test]
    fn applications_name_their_cluster_by_destination_or_what_they_render() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let app = |name: &str, path: &str, dest: &str| {
            APP.replace("NAME", name)
                .replace("PATH", path)
                .replace("DEST", dest)
        };
        // In-cluster, outside the layout, rendering clusters/prod: `prod`.
        write(
            root,
            "apps/prod.yaml",
            &app(
                "prod-azure",
                "clusters/prod",
                "{server: https://kubernetes.default.svc}",
            ),
        );
        write(root, "clusters/prod/rg.yaml", RG);
        // A remote destination names its cluster.
        write(
            root,
            "apps/west.yaml",
            &app(
                "west-azure",
                "regions/west",
                "{server: \"https://west-aks.hcp.westeurope.azmk8s.io:443\"}",
            ),
        );
        write(root, "regions/west/rg.yaml", RG_SKIP);
        write(
            root,
            "apps/east.yaml",
            &app(
                "east-azure",
                "regions/east",
                "{name: east, namespace: shop}",
            ),
        );
        write(root, "regions/east/rg.yaml", RG);
        // In-cluster with nothing to name it by.
        write(
            root,
            "apps/tools.yaml",
            &app("tools", "tools", "{name: in-cluster}"),
        );
        write(root, "tools/rg.yaml", RG);
        let starter = starter_config(root);
        assert_eq!(
            summary(&starter),
            [
                (
                    "east",
                    vec!["apps/east.yaml", "regions/east/**"],
                    Role::Active,
                    1,
                    0
                ),
                (
                    "in-cluster",
                    vec!["apps/tools.yaml", "tools/**"],
                    Role::Active,
                    1,
                    0
                ),
                (
                    "prod",
                    vec!["apps/prod.yaml", "clusters/prod/**"],
                    Role::Active,
                    1,
                    0
                ),
                (
                    "west-aks",
                    vec!["apps/west.yaml", "regions/west/**"],
                    Role::Passive,
                    1,
                    1
                ),
            ]
        );
        assert_eq!(
            starter.clusters[2].appliers,
            ["ArgoCD Application `prod-azure` in apps/prod.yaml"]
        );
    }

    #[test]
    fn flux_bootstrap_applies_itself_and_names_its_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let sync = FLUX
            .replace("PATH", "./clusters/prod")
            .replace("name: apps", "name: flux-system");
        write(root, "clusters/prod/flux-system/gotk-sync.yaml", &sync);
        write(
            root,
            "clusters/prod/infrastructure.yaml",
            &FLUX.replace("PATH", "./infrastructure/prod"),
        );
        write(root, "infrastructure/prod/rg.yaml", RG);
        let starter = starter_config(root);
        assert_eq!(
            summary(&starter),
            [(
                "prod",
                vec!["clusters/prod/**", "infrastructure/prod/**"],
                Role::Active,
                1,
                0
            )]
        );
    }

    #[test]
    fn app_of_apps_children_target_their_parents_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let local = "{server: https://kubernetes.default.svc}";
        write(
            root,
            "clusters/prod/root.yaml",
            &APP.replace("NAME", "root")
                .replace("PATH", "children")
                .replace("DEST", local),
        );
        write(
            root,
            "children/infra.yaml",
            &APP.replace("NAME", "infra")
                .replace("PATH", "infra")
                .replace("DEST", local),
        );
        write(root, "infra/rg.yaml", RG);
        let starter = starter_config(root);
        assert_eq!(
            summary(&starter),
            [(
                "prod",
                vec!["children/**", "clusters/prod/**", "infra/**"],
                Role::Active,
                1,
                0
            )]
        );
    }

    #[test]
    fn the_template_adds_excludes_rather_than_replacing_the_defaults() {
        let text = render(&[], &[]);
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
        let text = render(&[], &[]);
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
