//! Finding the files to lint, and loading them as text without ever panicking on bad input.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{Settings, absolute};

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

/// Whether a file name looks like a manifest (`.yaml` or `.yml`).
pub fn is_yaml_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
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

/// Why a file could not be loaded as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// Reading failed.
    Io(String),
    /// Larger than the limit (bytes, limit).
    TooLarge(u64, u64),
    /// Not valid UTF-8; the offset of the first bad byte.
    NotUtf8(usize),
    /// Holds a NUL byte at this offset: a binary file.
    Binary(usize),
    /// Read again to report it, it is no longer the text that was checked.
    Changed,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io(message) => write!(f, "cannot read the file: {message}"),
            LoadError::TooLarge(size, limit) => write!(
                f,
                "the file is {size} bytes, over the {limit}-byte limit (raise it with --max-file-size)"
            ),
            LoadError::NotUtf8(offset) => {
                write!(
                    f,
                    "the file is not valid UTF-8 (first bad byte at offset {offset})"
                )
            }
            LoadError::Changed => write!(
                f,
                "the file changed while asoguard was checking it; run asoguard again"
            ),
            LoadError::Binary(offset) => {
                write!(
                    f,
                    "the file looks binary: it holds a NUL byte at offset {offset}"
                )
            }
        }
    }
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Read `path` as UTF-8 text, refusing files over `max_size` bytes, binary files and invalid
/// UTF-8. The BOM and line endings are kept as they are.
pub fn read_text(path: &Path, max_size: u64) -> Result<String, LoadError> {
    let mut buffer = Vec::new();
    read_into(path, max_size, &mut buffer)?;
    text_from_bytes(buffer)
}

/// Read `path` into `buffer` (cleared first), refusing files over `max_size` bytes; whether it
/// is a regular file (one that can be read again; a pipe cannot). A caller that reads many
/// files reuses one buffer, and keeps a copy only of the texts it needs: no allocation per file
/// read and dropped. Check the bytes with [`text_of`].
pub fn read_into(path: &Path, max_size: u64, buffer: &mut Vec<u8>) -> Result<bool, LoadError> {
    buffer.clear();
    let file = fs::File::open(path).map_err(|e| LoadError::Io(io_message(&e)))?;
    let metadata = file.metadata().ok();
    let regular = metadata.as_ref().is_some_and(fs::Metadata::is_file);
    let size = metadata.map_or(0, |m| m.len());
    if size > max_size {
        return Err(LoadError::TooLarge(size, max_size));
    }
    buffer.reserve(size as usize);
    // A regular file is read up to the size it had when opened: one read, where reading on to
    // see the end would cost a second system call per file (what is appended meanwhile is
    // not read). Anything else (a pipe, a size the system does not know) is read to its end,
    // at most one byte over the limit.
    let limit = if regular && size > 0 {
        size
    } else {
        max_size + 1
    };
    file.take(limit)
        .read_to_end(buffer)
        .map_err(|e| LoadError::Io(io_message(&e)))?;
    if buffer.len() as u64 > max_size {
        return Err(LoadError::TooLarge(buffer.len() as u64, max_size));
    }
    Ok(regular)
}

/// The bytes as text, refusing binary content and invalid UTF-8.
pub fn text_of(bytes: &[u8]) -> Result<&str, LoadError> {
    if let Some(offset) = memchr::memchr(0, bytes) {
        return Err(LoadError::Binary(offset));
    }
    std::str::from_utf8(bytes).map_err(|e| LoadError::NotUtf8(e.valid_up_to()))
}

/// Turn bytes into text, refusing binary content and invalid UTF-8.
pub fn text_from_bytes(bytes: Vec<u8>) -> Result<String, LoadError> {
    if let Some(offset) = memchr::memchr(0, &bytes) {
        return Err(LoadError::Binary(offset));
    }
    String::from_utf8(bytes).map_err(|e| LoadError::NotUtf8(e.utf8_error().valid_up_to()))
}

/// Write `text` to `path` atomically: a temporary file in the same directory, flushed to disk,
/// given the original's permissions, then renamed over the original.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let permissions = fs::metadata(path)?.permissions();
    if permissions.readonly() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file is read-only",
        ));
    }
    let mut temp = tempfile::Builder::new()
        .prefix(".asoguard-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(text.as_bytes())?;
    temp.as_file().sync_all()?;
    fs::set_permissions(temp.path(), permissions)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
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
