//! Files and paths: reading a file as text (with the reasons one cannot be), writing one
//! atomically, and lexical path arithmetic. Everything that touches the disk shares these.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Whether a file name looks like a manifest (`.yaml` or `.yml`).
pub fn is_yaml_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// A revision of the repository's files, as the index reads the few it did not summarise (a
/// Flux `substituteFrom` ConfigMap, a replacement's source) and asks which paths exist: the
/// working tree on disk ([`Disk`]), or a revision held in git, which `plan` reads without
/// checking it out. Paths are absolute, as the index holds them.
pub trait Tree: Send + Sync + std::fmt::Debug {
    /// The text of the file at `path`, if the revision has one that is text.
    fn read(&self, path: &Path) -> Option<String>;
    /// Whether `path` is a directory of the revision.
    fn is_dir(&self, path: &Path) -> bool;
    /// Whether `path` is a file or directory of the revision.
    fn exists(&self, path: &Path) -> bool;
}

/// The working tree: the files on disk.
#[derive(Clone, Copy, Debug, Default)]
pub struct Disk;

impl Tree for Disk {
    fn read(&self, path: &Path) -> Option<String> {
        fs::read_to_string(path).ok()
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
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

pub(crate) fn io_message(e: &std::io::Error) -> String {
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
