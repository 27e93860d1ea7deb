//! File transforms (bulk policy changes, migrations, failover) planned as whole-file changes
//! and applied as one transaction.
//!
//! Each command builds a [`Plan`] without touching the disk: it reads and parses every input
//! first (any file that cannot be read or parsed stops the plan, naming the file), computes
//! each file's new text with the minimal edits of [`crate::yaml::edit`], and lists what a
//! person must check or do. [`apply`] then writes every change or none: it re-checks that no
//! file changed since the plan was made, writes each file atomically, and on a failed write
//! restores the files already written from their original bytes.
//!
//! - [`policy`]: set, replace or remove the reconcile-policy annotation in bulk.
//! - [`migrate`]: the ASO FAQ's four steps to move resources between clusters or namespaces.
//! - [`failover`]: promote a passive cluster, demote an active one, flip their roles.
//!
//! ```no_run
//! use asoguard_core::transform::{self, policy};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = asoguard_core::config::load(None, "clusters/prod".as_ref())?;
//! let options = policy::PolicyOptions {
//!     value: policy::PolicyValue::Set(asoguard_core::manifest::Policy::DetachOnDelete),
//!     paths: vec!["clusters/prod".into()],
//!     kinds: vec![],
//!     critical_only: true,
//!     only_unset: false,
//!     include_skip: false,
//!     force: false,
//! };
//! let plan = policy::plan(&options, &settings)?;
//! for change in &plan.changes {
//!     println!("{}: {:?}", change.path.display(), change.actions);
//! }
//! if plan.conflicts.is_empty() {
//!     transform::apply(&plan)?; // every file, or none
//! }
//! # Ok(())
//! # }
//! ```

pub mod failover;
pub mod migrate;
pub mod policy;

mod config_edit;
pub mod identity;
mod kustomize;
mod rewrite;
pub mod verify;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::absolute;
use crate::discover;

/// One file a plan writes: its text before (`None` for a new file) and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    /// The path to write, as the user gave it (relative to the working directory or absolute).
    pub path: PathBuf,
    /// The file's text when the plan was made; `None` when the plan creates the file.
    pub before: Option<String>,
    /// The text to write.
    pub after: String,
    /// What changes, one line per object or key (`ResourceGroup \`rg\`: reconcile-policy skip
    /// (was unset)`).
    pub actions: Vec<String>,
    /// The file this one is a copy of (a migration's destination files), as the user sees it.
    pub source: Option<PathBuf>,
}

/// Something that stops a plan from being applied: the file and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The file the conflict is about.
    pub path: PathBuf,
    /// What is wrong and how to resolve it.
    pub message: String,
}

/// What a transform would do: file changes, the manual steps around them, and conflicts.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Files to write, sorted by path.
    pub changes: Vec<FileChange>,
    /// Steps for a person, in order (the written steps say so, the manual ones say what to do).
    pub checklist: Vec<String>,
    /// Reasons the plan must not be applied; [`apply`] refuses a plan that has any.
    pub conflicts: Vec<Conflict>,
    /// Things worth knowing that do not stop the plan (files skipped, references followed).
    pub notes: Vec<String>,
    /// Absolute paths (files or directories) the plan may write under; [`apply`] refuses any
    /// change outside them.
    pub scope: Vec<PathBuf>,
}

impl Plan {
    /// How many files the plan creates.
    pub fn created(&self) -> usize {
        self.changes.iter().filter(|c| c.before.is_none()).count()
    }

    /// How many object-level actions the plan's changes hold.
    pub fn actions(&self) -> usize {
        self.changes.iter().map(|c| c.actions.len()).sum()
    }

    fn push_change(&mut self, change: FileChange) {
        if change.before.as_deref() != Some(change.after.as_str()) {
            self.changes.push(change);
        }
    }

    fn conflict(&mut self, path: &Path, message: impl Into<String>) {
        self.conflicts.push(Conflict {
            path: path.to_path_buf(),
            message: message.into(),
        });
    }

    fn finish(mut self) -> Self {
        self.changes.sort_by(|a, b| a.path.cmp(&b.path));
        self.conflicts
            .sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
        self.conflicts.dedup();
        self
    }
}

/// Why a plan could not be made: a file that cannot be read or parsed, a bad argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransformError {
    /// The file at fault, when there is one.
    pub path: Option<PathBuf>,
    /// What is wrong.
    pub message: String,
}

impl TransformError {
    fn new(message: impl Into<String>) -> Self {
        TransformError {
            path: None,
            message: message.into(),
        }
    }

    fn at(path: &Path, message: impl Into<String>) -> Self {
        TransformError {
            path: Some(path.to_path_buf()),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for TransformError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}: {}", path.display(), self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for TransformError {}

/// Why [`apply`] wrote nothing (or restored what it had written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyError {
    /// The file that could not be written or checked.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
    /// Files written before the failure that could not be restored, with the reason: empty
    /// when the tree is as it was before `apply`.
    pub restore_failures: Vec<(PathBuf, String)>,
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)?;
        if self.restore_failures.is_empty() {
            write!(f, " (no file was changed)")?;
        }
        for (path, why) in &self.restore_failures {
            write!(f, "\n{}: could not be restored: {why}", path.display())?;
        }
        Ok(())
    }
}

impl std::error::Error for ApplyError {}

/// Write every change of `plan`, or none. Refuses a plan with conflicts, a change outside the
/// plan's scope or through a symbolic link, and a file that changed (or appeared) since the
/// plan was made. Each file is written atomically; when one write fails, the files already
/// written are restored from their original bytes and new files (and the directories made
/// for them) are removed. Returns how many files were written.
pub fn apply(plan: &Plan) -> Result<usize, ApplyError> {
    if let Some(conflict) = plan.conflicts.first() {
        return Err(ApplyError {
            path: conflict.path.clone(),
            message: format!(
                "the plan has {}; the first: {}",
                count(plan.conflicts.len(), "conflict"),
                conflict.message
            ),
            restore_failures: Vec::new(),
        });
    }
    // Check all first.
    for change in &plan.changes {
        precheck(plan, change).map_err(|message| ApplyError {
            path: change.path.clone(),
            message,
            restore_failures: Vec::new(),
        })?;
    }
    // Then write all, undoing on the first failure.
    let mut done: Vec<Written> = Vec::new();
    for change in &plan.changes {
        match write_change(change) {
            Ok(written) => done.push(written),
            Err(e) => {
                let restore_failures = undo(done);
                return Err(ApplyError {
                    path: change.path.clone(),
                    message: format!("cannot write the file: {e}"),
                    restore_failures,
                });
            }
        }
    }
    Ok(done.len())
}

/// What one write did, so it can be undone.
struct Written<'p> {
    change: &'p FileChange,
    /// Directories created for a new file, outermost first.
    created_dirs: Vec<PathBuf>,
}

fn precheck(plan: &Plan, change: &FileChange) -> Result<(), String> {
    let fs_path = absolute(&change.path);
    let Some(root) = plan.scope.iter().find(|s| fs_path.starts_with(s)) else {
        return Err("outside the paths given to the transform; not written".into());
    };
    // No symbolic link between the scope's root and the file: a write must not leave it.
    let mut at = fs_path.clone();
    loop {
        if let Ok(meta) = fs::symlink_metadata(&at) {
            if meta.file_type().is_symlink() {
                return Err(format!(
                    "{} is a symbolic link; transforms never write through one",
                    at.display()
                ));
            }
        }
        if &at == root || !at.pop() {
            break;
        }
    }
    match (&change.before, fs::read(&change.path)) {
        (None, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        (None, _) => Err("the file appeared since the plan was made; run it again".into()),
        (Some(before), Ok(bytes)) if bytes == before.as_bytes() => Ok(()),
        (Some(_), Ok(_)) => Err("the file changed since the plan was made; run it again".into()),
        (Some(_), Err(e)) => Err(format!("cannot read the file: {e}")),
    }
}

fn write_change(change: &FileChange) -> std::io::Result<Written<'_>> {
    if change.before.is_some() {
        discover::write_atomic(&change.path, &change.after)?;
        return Ok(Written {
            change,
            created_dirs: Vec::new(),
        });
    }
    let mut created_dirs = Vec::new();
    if let Some(parent) = change.path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let missing: Vec<&Path> = parent
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .collect();
        for dir in missing.into_iter().rev() {
            if let Err(e) = fs::create_dir(dir) {
                undo_dirs(&created_dirs);
                return Err(e);
            }
            created_dirs.push(dir.to_path_buf());
        }
    }
    if let Err(e) = create_new(&change.path, &change.after) {
        undo_dirs(&created_dirs);
        return Err(e);
    }
    Ok(Written {
        change,
        created_dirs,
    })
}

/// Create `path` with `text`: written to a temporary file beside it (created with the process's
/// default permissions, as any new file), flushed, then renamed into place.
fn create_new(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "new".to_string(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".asoguard-{}-{name}.tmp", std::process::id()));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        if path.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the file appeared while writing",
            ));
        }
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn undo_dirs(dirs: &[PathBuf]) {
    for dir in dirs.iter().rev() {
        let _ = fs::remove_dir(dir);
    }
}

/// Undo writes in reverse order; returns what could not be undone.
fn undo(done: Vec<Written>) -> Vec<(PathBuf, String)> {
    let mut failures = Vec::new();
    for written in done.into_iter().rev() {
        let change = written.change;
        let result = match &change.before {
            Some(before) => discover::write_atomic(&change.path, before),
            None => fs::remove_file(&change.path),
        };
        if let Err(e) = result {
            failures.push((change.path.clone(), e.to_string()));
        }
        undo_dirs(&written.created_dirs);
    }
    failures
}

/// The repository under `settings.root` as `check` renders it: every YAML file `check` would
/// find there, summarised and rendered into contexts and instances (templates and unreadable
/// files add nothing).
pub(crate) fn repository_index(settings: &crate::config::Settings) -> crate::index::Index {
    crate::engine::index_paths(std::slice::from_ref(&settings.root), settings).0
}

/// `n thing` or `n things` ([`crate::wording::plural`]).
fn count(n: usize, thing: &str) -> String {
    crate::wording::plural(n, thing)
}

/// The label of an object in messages: ``Kind `name` ``.
fn label(manifest: &crate::manifest::Manifest) -> String {
    format!(
        "{} `{}`",
        manifest.kind.unwrap_or("object"),
        manifest.name_str().unwrap_or("?")
    )
}

/// The label of an instance in messages: ``Kind `name` ``, the name as its context applies it
/// (after Kustomize's prefix and suffix, with Flux variables substituted).
fn applied_label(index: &crate::index::Index, instance: &crate::index::Instance) -> String {
    let object = index.object(instance);
    format!(
        "{} `{}`",
        object.kind,
        instance
            .name
            .as_deref()
            .or(object.name.as_deref())
            .unwrap_or("?")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &Path, before: Option<&str>, after: &str) -> FileChange {
        FileChange {
            path: path.to_path_buf(),
            before: before.map(str::to_string),
            after: after.to_string(),
            actions: vec![],
            source: None,
        }
    }

    #[test]
    fn writes_all_or_restores() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let a = root.join("a.yaml");
        let b = root.join("b.yaml");
        fs::write(&a, "a: 1\n").unwrap();
        fs::write(&b, "b: 1\n").unwrap();
        let new = root.join("new/dir/c.yaml");
        let mut plan = Plan {
            scope: vec![root.clone()],
            ..Plan::default()
        };
        plan.changes = vec![
            change(&a, Some("a: 1\n"), "a: 2\n"),
            change(&new, None, "c: 1\n"),
            change(&b, Some("b: 1\n"), "b: 2\n"),
        ];
        // A read-only file fails its write: everything written before it is undone.
        let mut perms = fs::metadata(&b).unwrap().permissions();
        perms.set_readonly(true);
        fs::set_permissions(&b, perms.clone()).unwrap();
        let error = apply(&plan).unwrap_err();
        assert_eq!(error.path, b);
        assert!(error.restore_failures.is_empty(), "{error}");
        assert_eq!(fs::read_to_string(&a).unwrap(), "a: 1\n");
        assert!(
            !root.join("new").exists(),
            "created directories are removed"
        );
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        fs::set_permissions(&b, perms).unwrap();
        assert_eq!(apply(&plan).unwrap(), 3);
        assert_eq!(fs::read_to_string(&new).unwrap(), "c: 1\n");
        assert_eq!(fs::read_to_string(&b).unwrap(), "b: 2\n");
        // The same plan again: the files changed since it was made.
        let error = apply(&plan).unwrap_err();
        assert!(error.message.contains("changed since"), "{error}");
    }

    #[test]
    fn creates_directories_for_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        // A path relative to the working directory, as users give them.
        let cwd = std::env::current_dir().unwrap();
        let rel = PathBuf::from(super::kustomize::relative_path(
            &cwd,
            &root.join("x/y/new.yaml"),
        ));
        let plan = Plan {
            scope: vec![root.clone()],
            changes: vec![change(&rel, None, "n: 1\n")],
            ..Plan::default()
        };
        assert_eq!(apply(&plan).unwrap(), 1);
        assert_eq!(
            fs::read_to_string(root.join("x/y/new.yaml")).unwrap(),
            "n: 1\n"
        );
    }

    #[test]
    fn refuses_outside_scope_and_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let mut plan = Plan {
            scope: vec![root.join("in")],
            ..Plan::default()
        };
        plan.changes = vec![change(&root.join("out.yaml"), None, "x: 1\n")];
        let error = apply(&plan).unwrap_err();
        assert!(error.message.contains("outside"), "{error}");
        assert!(!root.join("out.yaml").exists());
        plan.changes.clear();
        plan.conflict(&root.join("in/a.yaml"), "no");
        assert!(apply(&plan).is_err());
    }
}
