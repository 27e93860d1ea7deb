//! Finding the files to lint, and loading them as text without ever panicking on bad input.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Settings;
pub use crate::files::{
    LoadError, is_yaml_name, read_into, read_text, text_from_bytes, text_of, write_atomic,
};
use crate::files::{absolute, io_message};

/// One file to lint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    /// The path as the user gave it, joined with the walked relative path: used in reports.
    pub display: Arc<Path>,
    /// The absolute, lexically normalised path: used for config globs and the index.
    pub fs_path: Arc<Path>,
}

impl Target {
    /// A target shown as `display`, at `fs_path`. The paths are shared (a run holds a target's
    /// paths in its working state and in the index, for every file), and stored once when they
    /// are the same path.
    pub fn new(display: impl Into<PathBuf>, fs_path: impl Into<PathBuf>) -> Self {
        let (display, fs_path) = (display.into(), fs_path.into());
        let fs_path: Arc<Path> = Arc::from(fs_path);
        let display = if display == *fs_path {
            fs_path.clone()
        } else {
            Arc::from(display)
        };
        Target { display, fs_path }
    }
}

/// A path argument that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathProblem {
    /// The path as given.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// The files named by `paths`: a directory is walked for `.yaml`/`.yml` files, excluded paths
/// pruned and symlinks not followed; a file is taken whatever its name, and excluded only with
/// `force_exclude` (pre-commit passes excluded files by name). Sorted and without duplicates.
pub fn discover(
    paths: &[PathBuf],
    settings: &Settings,
    force_exclude: bool,
) -> (Vec<Target>, Vec<PathProblem>) {
    let mut targets = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let fs_path = absolute(path);
        match fs::metadata(path) {
            Err(e) => problems.push(PathProblem {
                path: path.clone(),
                message: io_message(&e),
            }),
            Ok(meta) if meta.is_dir() => {
                use rayon::prelude::*;
                let before = targets.len();
                let found = walk(path, &fs_path, settings);
                targets.par_extend(found.into_par_iter().map(|(entry, fs_entry)| {
                    // `.` joined with `a.yaml` reads `./a.yaml`: show `a.yaml`, as people write it.
                    let display = match entry.strip_prefix(".") {
                        Ok(stripped) if !stripped.as_os_str().is_empty() => stripped.to_path_buf(),
                        _ => entry,
                    };
                    Target::new(display, fs_entry)
                }));
                if targets.len() == before {
                    problems.push(PathProblem {
                        path: path.clone(),
                        message: "no .yaml or .yml files found under this directory".into(),
                    });
                }
            }
            Ok(_) if force_exclude && settings.is_excluded(&fs_path) => {}
            Ok(_) => targets.push(Target::new(path.clone(), fs_path)),
        }
    }
    // One directory's walk comes out sorted and without duplicates (see `walk`); several
    // arguments are merged.
    if paths.len() > 1 {
        targets.sort();
        targets.dedup_by(|a, b| a.fs_path == b.fs_path);
    }
    debug_assert!(targets.is_sorted());
    (targets, problems)
}

/// YAML files under `dir` (absolute), as absolute paths, excluded paths pruned.
pub fn yaml_files_under(dir: &Path, settings: &Settings) -> Vec<PathBuf> {
    walk(dir, dir, settings)
        .into_iter()
        .map(|(_, fs_path)| fs_path)
        .collect()
}

/// Walk `dir` (as given; `fs_dir` is its absolute form, for exclude globs) for YAML files,
/// each as walked and in absolute form, pruning excluded entries below it. Symlinks below `dir` are not followed. Each directory's
/// entries are sorted by name, so the depth-first result comes out in `Path` order (component
/// by component) with no sort of the whole list; subdirectories are walked in parallel.
fn walk(dir: &Path, fs_dir: &Path, settings: &Settings) -> Vec<(PathBuf, PathBuf)> {
    walk_parallel(dir, fs_dir, settings, 0)
}

/// Below this depth subdirectories are walked in parallel (recursion); deeper, iteratively.
const PARALLEL_WALK_DEPTH: usize = 32;

fn walk_parallel(
    dir: &Path,
    fs_dir: &Path,
    settings: &Settings,
    depth: usize,
) -> Vec<(PathBuf, PathBuf)> {
    use rayon::prelude::*;
    if depth >= PARALLEL_WALK_DEPTH {
        return walk_serial(dir, fs_dir, settings);
    }
    let Ok(read) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut entries: Vec<(std::ffi::OsString, fs::FileType)> = read
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name(), e.file_type().ok()?)))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let found: Vec<Vec<(PathBuf, PathBuf)>> = entries
        .into_par_iter()
        .map(|(name, kind)| {
            let path = dir.join(&name);
            let fs_path = fs_dir.join(&name);
            if settings.matches_exclude(&fs_path) {
                Vec::new()
            } else if kind.is_dir() {
                walk_parallel(&path, &fs_path, settings, depth + 1)
            } else if kind.is_file() && is_yaml_name(&path) {
                vec![(path, fs_path)]
            } else {
                Vec::new()
            }
        })
        .collect();
    found.concat()
}

/// [`walk`] on one thread, without recursion (for very deep trees).
fn walk_serial(dir: &Path, fs_dir: &Path, settings: &Settings) -> Vec<(PathBuf, PathBuf)> {
    let absolute = |path: &Path| fs_dir.join(path.strip_prefix(dir).unwrap_or(path));
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !settings.matches_exclude(&absolute(e.path())))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && is_yaml_name(e.path()))
        .map(|e| {
            let fs_path = absolute(e.path());
            (e.into_path(), fs_path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_binary_non_utf8_and_large() {
        assert_eq!(text_from_bytes(b"a\0b".to_vec()), Err(LoadError::Binary(1)));
        assert_eq!(
            text_from_bytes(b"ab\xff".to_vec()),
            Err(LoadError::NotUtf8(2))
        );
        assert_eq!(
            text_from_bytes("\u{feff}a: 1\r\n".as_bytes().to_vec()).unwrap(),
            "\u{feff}a: 1\r\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.yaml");
        fs::write(&path, "a: 1\n".repeat(10)).unwrap();
        assert!(matches!(
            read_text(&path, 10),
            Err(LoadError::TooLarge(50, 10))
        ));
        assert!(matches!(
            read_text(&dir.path().join("nope.yaml"), 10),
            Err(LoadError::Io(_))
        ));
    }

    #[test]
    fn walks_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "a-b/x.yaml",
            "a/z.yaml",
            "a/b/y.yaml",
            "a.yaml",
            "B.yml",
            "a/b.yaml",
        ] {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "a: 1\n").unwrap();
        }
        let files = yaml_files_under(dir.path(), &Settings::default());
        let mut sorted = files.clone();
        sorted.sort();
        assert_eq!(files.len(), 6);
        assert_eq!(files, sorted);
        let settings = Settings::default();
        assert_eq!(
            walk_serial(dir.path(), dir.path(), &settings),
            walk(dir.path(), dir.path(), &settings)
        );
        // Deeper than the parallel walk goes: the serial walk takes over, same order.
        let mut deep = dir.path().join("deep");
        for i in 0..(PARALLEL_WALK_DEPTH + 3) {
            deep.push(format!("d{i}"));
        }
        fs::create_dir_all(&deep).unwrap();
        fs::write(deep.join("x.yaml"), "a: 1\n").unwrap();
        let files = yaml_files_under(dir.path(), &Settings::default());
        assert_eq!(files.len(), 7);
        assert_eq!(
            walk(dir.path(), dir.path(), &settings),
            walk_serial(dir.path(), dir.path(), &settings)
        );
    }

    #[test]
    fn writes_atomically_keeping_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        fs::write(&path, "old").unwrap();
        write_atomic(&path, "new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left behind"
        );
    }
}
