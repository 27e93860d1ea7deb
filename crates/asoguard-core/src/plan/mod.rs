//! `plan`: what merging a change does in Azure. Both revisions are rendered with the same
//! engine (Kustomize, Flux, ArgoCD, clusters, effective policy, substitution), their ASO
//! resources matched by Kubernetes and by Azure identity, and each difference classified by
//! what ASO will do: create, update, DELETE, detach, orphan, replace, immutable, takeover,
//! unprotect.
//!
//! The base is read from git without checking it out ([`git`]); only the files that differ
//! from the head are read and parsed again, the others share the head's facts.
//!
//! ```no_run
//! use asoguard_core::config;
//! use asoguard_core::plan::{self, Revision};
//!
//! let settings = config::load(None, std::path::Path::new(".")).expect("config");
//! let plan = plan::plan(&settings, "origin/main", &Revision::WorkingTree).expect("plan");
//! for change in plan.changes.iter().filter(|c| c.class.is_destructive()) {
//!     println!("{} {} {}", change.class.as_str(), change.kind, change.cause);
//! }
//! ```

mod compare;
pub mod git;
mod removal;
mod spec;
mod view;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Settings;
use crate::discover::Target;
use crate::engine;
use crate::files::{self, Tree};
use crate::index::inventory::Location;
use crate::index::{Index, IndexedFile};
use crate::manifest::Policy;

pub use git::GitError;

/// One side of the comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revision {
    /// The files on disk, committed or not (what a pre-commit hook is about to commit).
    WorkingTree,
    /// A commit, branch, tag or any revision git resolves.
    Git(String),
}

impl Revision {
    /// How a report names it.
    pub fn label(&self) -> &str {
        match self {
            Revision::WorkingTree => "the working tree",
            Revision::Git(rev) => rev,
        }
    }
}

/// What ASO will do to one resource once the change is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// A new object: ASO creates (or adopts) the Azure resource.
    Create,
    /// The spec or the policy changed: ASO updates the Azure resource.
    Update,
    /// Removed from what a pruning applier applies, with `manage`: Azure DELETE.
    Delete,
    /// Removed, with `detach-on-delete` or `skip`: the Azure resource stays, unmanaged.
    Detach,
    /// Removed, but the applier does not prune: the object stays in the cluster.
    Orphan,
    /// The Kubernetes identity changes while the Azure identity stays, from `manage`: Azure
    /// DELETE, then a new, empty resource.
    Replace,
    /// `spec.azureName` or `spec.owner` changed on a live object: the webhook rejects it.
    Immutable,
    /// `skip` becomes `manage` or `detach-on-delete`: ASO starts writing.
    Takeover,
    /// `detach-on-delete` removed from a critical kind: deletion is armed again.
    Unprotect,
}

impl Class {
    /// Every class, in the order a summary lists them.
    pub const ALL: [Class; 9] = [
        Class::Create,
        Class::Update,
        Class::Delete,
        Class::Replace,
        Class::Immutable,
        Class::Takeover,
        Class::Unprotect,
        Class::Detach,
        Class::Orphan,
    ];

    /// The name reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Create => "create",
            Class::Update => "update",
            Class::Delete => "delete",
            Class::Detach => "detach",
            Class::Orphan => "orphan",
            Class::Replace => "replace",
            Class::Immutable => "immutable",
            Class::Takeover => "takeover",
            Class::Unprotect => "unprotect",
        }
    }

    /// Whether it loses an Azure resource or breaks the sync: a plan with one fails.
    pub fn is_destructive(self) -> bool {
        matches!(self, Class::Delete | Class::Replace | Class::Immutable)
    }

    /// Whether it deserves a warning (ASO starts writing, or deletion is armed again).
    pub fn is_warning(self) -> bool {
        matches!(self, Class::Takeover | Class::Unprotect)
    }

    /// How much a class matters, to keep the worst when one resource has several.
    fn rank(self) -> u8 {
        match self {
            Class::Create => 1,
            Class::Update => 2,
            Class::Orphan => 3,
            Class::Detach => 4,
            Class::Unprotect => 5,
            Class::Takeover => 6,
            Class::Immutable => 7,
            Class::Replace => 8,
            Class::Delete => 9,
        }
    }
}

/// Which revision a [`Change::at`] lies in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The base (the file or line is gone from the head).
    Base,
    /// The head.
    Head,
}

/// One resource's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// What ASO will do.
    pub class: Class,
    /// The configured cluster (of the head, or of the base when it is gone).
    pub cluster: Option<String>,
    /// `apiVersion`.
    pub api_version: Option<String>,
    /// `kind`.
    pub kind: String,
    /// The namespace it is applied in.
    pub namespace: Option<String>,
    /// Its name as applied.
    pub name: Option<String>,
    /// Its Azure identity (owner chain and Azure name), when it could be resolved.
    pub azure_id: Option<String>,
    /// Its effective policy in the base, if it was there.
    pub base_policy: Option<Policy>,
    /// Its effective policy in the head, if it is there.
    pub head_policy: Option<Policy>,
    /// Why, in a sentence: what causes it and what ASO does.
    pub cause: String,
    /// For an update, the fields that changed (`spec.location`, `reconcile-policy`...).
    pub fields: Vec<String>,
    /// What else to know (an adoption, another object with the same Azure identity).
    pub notes: Vec<String>,
    /// The line that causes it: in the head, or in the base for a file that is gone.
    pub at: Location,
    /// Which revision `at` lies in.
    pub side: Side,
    /// Where the object was in the base, when it moved.
    pub previous: Option<Location>,
    /// Where the object is written: in the head, or in the base when the head no longer has
    /// it.
    pub written: Location,
    /// The file of what applies it (a kustomization, a Flux Kustomization, an ArgoCD
    /// Application, the object's own file), relative to the root: in the head, or in the base.
    pub applier: PathBuf,
}

/// What a change does in Azure.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The base, as given.
    pub base: String,
    /// The head, as given.
    pub head: String,
    /// Every change, worst first, then by cluster, kind, namespace and name.
    pub changes: Vec<Change>,
    /// What could not be read (files of the base that are not text, or too large).
    pub notes: Vec<String>,
    /// The repository root locations are relative to.
    pub root: PathBuf,
    /// Where the revisions are read from.
    revisions: Option<Revisions>,
}

/// The repository and the two commits a plan compares (the head `None` for the working
/// tree), and the root as git names it (symbolic links resolved).
#[derive(Clone, Debug)]
struct Revisions {
    repo: git::Repo,
    real_root: PathBuf,
    base: String,
    head: Option<String>,
}

impl Revisions {
    /// A path git gives (relative to the top level) as the settings name it: under the root as
    /// given, which may be reached through a symbolic link. `None` outside the root.
    fn under_root(&self, root: &Path, path: &Path) -> Option<PathBuf> {
        let real = files::normalize(&self.repo.top.join(path));
        Some(root.join(real.strip_prefix(&self.real_root).ok()?))
    }
}

impl Plan {
    /// The text of `path` (relative to the root) in one revision: to show or place a change.
    pub fn text(&self, side: Side, path: &Path) -> Option<String> {
        let revisions = self.revisions.as_ref()?;
        let commit = match (side, &revisions.head) {
            (Side::Base, _) => &revisions.base,
            (Side::Head, Some(head)) => head,
            (Side::Head, None) => return std::fs::read_to_string(self.root.join(path)).ok(),
        };
        let real = revisions.real_root.join(path);
        let relative = real.strip_prefix(&revisions.repo.top).ok()?;
        let listed = revisions.repo.files(commit, &real).ok()?;
        let blob = listed.iter().find(|f| f.path == relative)?;
        let bytes = revisions
            .repo
            .read_blobs(&[&blob.blob], u64::MAX)
            .ok()?
            .pop()??;
        files::text_from_bytes(bytes).ok()
    }

    /// How many changes are of `class`.
    pub fn count(&self, class: Class) -> usize {
        self.changes.iter().filter(|c| c.class == class).count()
    }

    /// Whether any change is destructive.
    pub fn is_destructive(&self) -> bool {
        self.changes.iter().any(|c| c.class.is_destructive())
    }

    /// Keep only the changes whose resource is written under one of `paths` (relative to the
    /// repository root), in either revision, or is applied from there (an overlay, a Flux
    /// Kustomization), or whose change is placed there.
    pub fn restrict(&mut self, paths: &[PathBuf]) {
        if paths.is_empty() {
            return;
        }
        let under = |l: &Location| paths.iter().any(|p| l.path.starts_with(p));
        self.changes.retain(|c| {
            under(&c.written)
                || under(&c.at)
                || c.previous.as_ref().is_some_and(under)
                || paths.iter().any(|p| c.applier.starts_with(p))
        });
    }
}

/// Why a plan could not be made.
pub type PlanError = GitError;

/// Plan the change from `base` to `head` for the repository of `settings`.
pub fn plan(settings: &Settings, base: &str, head: &Revision) -> Result<Plan, PlanError> {
    let repo = git::Repo::of(&settings.root)?;
    let base_commit = repo.commit(base)?;
    let head_commit = match head {
        Revision::WorkingTree => None,
        Revision::Git(rev) => Some(repo.commit(rev)?),
    };
    let revisions = Revisions {
        real_root: std::fs::canonicalize(&settings.root)
            .map_or_else(|_| settings.root.clone(), |p| files::normalize(&p)),
        repo,
        base: base_commit,
        head: head_commit,
    };
    let mut changed_in_git = revisions
        .repo
        .changed(&revisions.base, revisions.head.as_deref())?;
    if revisions.head.is_none() {
        changed_in_git.extend(revisions.repo.untracked(&revisions.real_root)?);
    }
    let changed: HashSet<PathBuf> = changed_in_git
        .into_iter()
        .filter_map(|p| revisions.under_root(&settings.root, &p))
        .collect();
    let mut notes = head_problems(settings, &revisions, &changed)?;
    let head_index = match &revisions.head {
        None => {
            // What git would commit: ignored files (build output, local overrides) are not
            // part of the change.
            let targets: Vec<Target> = revisions
                .repo
                .work_tree_files(&revisions.real_root)?
                .into_iter()
                .filter_map(|p| revisions.under_root(&settings.root, &p))
                .filter(|p| is_walked(settings, p) && is_regular_file(p))
                .map(|p| Target::new(p.clone(), p))
                .collect();
            engine::index_files(targets, settings)
        }
        Some(commit) => read_revision(&revisions, commit, settings, None, &mut notes)?,
    };
    let base_index = read_revision(
        &revisions,
        &revisions.base,
        settings,
        Some((&head_index, &changed)),
        &mut notes,
    )?;
    let changes = compare::compare(settings, (&base_index, &head_index), &changed);
    Ok(Plan {
        base: base.to_string(),
        head: head.label().to_string(),
        changes,
        notes,
        root: settings.root.clone(),
        revisions: Some(revisions),
    })
}

/// What the head's changed files say before anything is rendered: a syntax error stops the
/// plan (Flux and ArgoCD would fail to build what applies the file and apply, and prune,
/// nothing: no plan of its objects would be true); a Helm or Go template is a note, since
/// charts are not rendered and what they change is not planned.
fn head_problems(
    settings: &Settings,
    revisions: &Revisions,
    changed: &HashSet<PathBuf>,
) -> Result<Vec<String>, PlanError> {
    let mut paths: Vec<&PathBuf> = changed.iter().filter(|p| is_walked(settings, p)).collect();
    paths.sort();
    let texts: Vec<Option<String>> = match &revisions.head {
        None => paths
            .iter()
            .map(|p| {
                std::fs::read(p)
                    .ok()
                    .and_then(|b| files::text_from_bytes(b).ok())
            })
            .collect(),
        Some(commit) => {
            let names: Vec<String> = paths
                .iter()
                .map(|p| {
                    let real = revisions
                        .real_root
                        .join(p.strip_prefix(&settings.root).unwrap_or(p));
                    let relative = real.strip_prefix(&revisions.repo.top).unwrap_or(&real);
                    format!("{commit}:{}", relative.to_string_lossy().replace('\\', "/"))
                })
                .collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            revisions
                .repo
                .read_blobs(&names, settings.max_file_size)?
                .into_iter()
                .map(|b| b.and_then(|b| files::text_from_bytes(b).ok()))
                .collect()
        }
    };
    let mut errors = Vec::new();
    let mut templates = 0;
    for (path, text) in paths.iter().zip(texts) {
        let Some(text) = text else { continue };
        let arena = crate::yaml::Arena::new();
        let stream = crate::yaml::parse(&arena, &text);
        if crate::template::Template::of(path, &text, &stream).is_some() {
            templates += 1;
        } else if let Some(error) = &stream.error {
            let line = text[..error.offset.min(text.len())].matches('\n').count() + 1;
            errors.push(format!(
                "{}:{line}: {}",
                shown(settings, path),
                error.message
            ));
        }
    }
    if !errors.is_empty() {
        return Err(GitError(format!(
            "the head does not parse, so what applies these files would fail to build and apply \
             (or prune) nothing; fix them first (`asoguard check` reports them): {}",
            errors.join("; ")
        )));
    }
    Ok(match templates {
        0 => Vec::new(),
        1 => vec![
            "1 changed file is a Helm or Go template: charts are not rendered, so what it \
             changes in Azure is not planned"
                .to_string(),
        ],
        n => vec![format!(
            "{n} changed files are Helm or Go templates: charts are not rendered, so what they \
             change in Azure is not planned"
        )],
    })
}

/// Render `commit`: its YAML files under the root (as a walk of the working tree would find
/// them), each at the absolute path it has in the working tree. A file that is not in
/// `changed` and that `known` holds is not read again: its facts are shared.
fn read_revision(
    revisions: &Revisions,
    commit: &str,
    settings: &Settings,
    known: Option<(&Index, &HashSet<PathBuf>)>,
    notes: &mut Vec<String>,
) -> Result<Index, PlanError> {
    let repo = &revisions.repo;
    let listed: Vec<(PathBuf, String)> = repo
        .files(commit, &revisions.real_root)?
        .into_iter()
        .filter_map(|f| Some((revisions.under_root(&settings.root, &f.path)?, f.blob)))
        .collect();
    let tree = git::GitTree::new(repo.clone(), &listed, settings.max_file_size);
    let mut reused: Vec<IndexedFile> = Vec::new();
    let mut to_read: Vec<(PathBuf, String)> = Vec::new();
    for (path, blob) in listed {
        if !is_walked(settings, &path) {
            continue;
        }
        let same = known.and_then(|(index, changed)| {
            (!changed.contains(&path))
                .then(|| index.file_id(&path))
                .flatten()
                .map(|id| index.files[id].clone())
        });
        match same {
            Some(file) => reused.push(file),
            None => to_read.push((path, blob)),
        }
    }
    let blobs: Vec<&str> = to_read.iter().map(|(_, b)| b.as_str()).collect();
    let contents = repo.read_blobs(&blobs, settings.max_file_size)?;
    let mut texts = Vec::with_capacity(to_read.len());
    for ((path, _), bytes) in to_read.iter().zip(contents) {
        let shown = shown(settings, path);
        match bytes.map(files::text_from_bytes) {
            Some(Ok(text)) => texts.push((Target::new(path.clone(), path.clone()), text)),
            Some(Err(error)) => notes.push(format!("{shown} at {commit:.12}: {error}")),
            None => notes.push(format!(
                "{shown} at {commit:.12}: not read (missing, or over the {}-byte limit)",
                settings.max_file_size
            )),
        }
    }
    let tree: Arc<dyn Tree> = tree;
    Ok(engine::index_revision(texts, reused, settings, tree))
}

/// Whether a walk of the working tree would give `path` (absolute): a YAML file, not excluded,
/// not a CRD source.
fn is_walked(settings: &Settings, path: &Path) -> bool {
    files::is_yaml_name(path)
        && path.starts_with(&settings.root)
        && !settings.is_excluded(path)
        && !settings.crds.as_deref().is_some_and(|s| s.is_source(path))
}

/// A regular file, not a symbolic link (a walk of the working tree does not follow them).
fn is_regular_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

/// A path as reports show it: relative to the repository root.
fn shown(settings: &Settings, path: &Path) -> String {
    path.strip_prefix(&settings.root)
        .unwrap_or(path)
        .display()
        .to_string()
}
