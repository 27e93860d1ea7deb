//! Reading revisions from git without checking them out, through the `git` CLI: resolve a
//! ref, list a commit's files, say which files differ, and read blobs in one batch.
//!
//! The CLI rather than a library: every CI image and developer machine that has a clone has
//! `git`, and it reads every repository layout git itself writes (shallow and partial clones,
//! worktrees, alternates, packed refs, `safe.directory`) exactly as the user's other tools do.
//! `docs/architecture.md` ("Plan") gives the reasons in full.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use crate::files::Tree;

/// Why a revision could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitError(pub String);

impl std::fmt::Display for GitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GitError {}

/// A git repository, by its top-level directory.
#[derive(Clone, Debug)]
pub struct Repo {
    /// The top-level directory of the work tree (absolute).
    pub top: PathBuf,
}

/// One file of a commit: its path relative to the top level, and its blob id.
#[derive(Clone, Debug)]
pub struct TreeFile {
    /// Relative to the repository's top level, with `/` separators.
    pub path: PathBuf,
    /// The blob's object id.
    pub blob: String,
}

impl Repo {
    /// The repository that holds `dir`.
    pub fn of(dir: &Path) -> Result<Repo, GitError> {
        let out = run(dir, &["rev-parse", "--show-toplevel"]).map_err(|e| {
            GitError(format!(
                "{} is not in a git repository, or git cannot be run: {e}",
                dir.display()
            ))
        })?;
        let top = PathBuf::from(String::from_utf8_lossy(&out).trim_end_matches(['\n', '\r']));
        // As the root is compared with it: symbolic links resolved.
        let top = std::fs::canonicalize(&top).unwrap_or(top);
        Ok(Repo {
            top: crate::files::normalize(&top),
        })
    }

    /// The commit `rev` names. A ref that is not there gets an error saying how to fetch it
    /// (a CI clone often has only the head, or is shallow).
    pub fn commit(&self, rev: &str) -> Result<String, GitError> {
        if rev.is_empty() || rev.starts_with('-') {
            return Err(GitError(format!("`{rev}` is not a revision")));
        }
        let spec = format!("{rev}^{{commit}}");
        match run(&self.top, &["rev-parse", "--verify", "--quiet", &spec]) {
            Ok(out) => Ok(String::from_utf8_lossy(&out).trim().to_string()),
            // The first commit of a repository: `HEAD` names nothing yet, and the change adds
            // everything. Its base is the empty tree.
            Err(_) if rev == "HEAD" && self.is_unborn() => {
                let out = run_with_input(
                    &self.top,
                    &["hash-object", "-t", "tree", "--stdin"],
                    Some(b""),
                )?;
                Ok(String::from_utf8_lossy(&out).trim().to_string())
            }
            Err(_) if !rev.is_empty() && run(&self.top, &["cat-file", "-e", rev]).is_ok() => {
                Err(GitError(format!(
                    "`{rev}` names a git object that is not a commit: give a branch, tag or \
                     commit"
                )))
            }
            Err(_) => {
                let shallow = run(&self.top, &["rev-parse", "--is-shallow-repository"])
                    .is_ok_and(|o| o.starts_with(b"true"));
                let branch = rev.strip_prefix("origin/").unwrap_or(rev);
                let mut message = format!(
                    "the revision `{rev}` is not in this clone; fetch it first, for example \
                     `git fetch origin {branch}`"
                );
                if shallow {
                    message.push_str(
                        " (this is a shallow clone: fetch the base with `git fetch --depth=1 \
                         origin <base-branch-or-sha>`, or check out with fetch-depth: 0)",
                    );
                }
                Err(GitError(message))
            }
        }
    }

    /// Whether the repository has no commit at all (`HEAD` is a branch yet to be born).
    fn is_unborn(&self) -> bool {
        run(&self.top, &["rev-parse", "--verify", "--quiet", "HEAD"]).is_err()
            && run(&self.top, &["rev-list", "-n", "1", "--all"]).is_ok_and(|o| o.is_empty())
    }

    /// The regular files of `commit` (no symlinks, no submodules), under `dir` (absolute,
    /// inside the work tree).
    pub fn files(&self, commit: &str, dir: &Path) -> Result<Vec<TreeFile>, GitError> {
        let mut args = vec!["ls-tree", "-r", "-z", "--full-tree", commit];
        let pathspec = self.pathspec(dir);
        if let Some(pathspec) = &pathspec {
            args.extend(["--", pathspec.as_str()]);
        }
        let out = run(&self.top, &args)?;
        let mut files = Vec::new();
        for record in out.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            // `<mode> SP <type> SP <object> TAB <path>`
            let Some(tab) = record.iter().position(|b| *b == b'\t') else {
                continue;
            };
            let head = String::from_utf8_lossy(&record[..tab]);
            let mut fields = head.split(' ');
            let (Some(mode), Some(kind), Some(blob)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            if kind != "blob" || !(mode == "100644" || mode == "100755") {
                continue;
            }
            let Ok(path) = std::str::from_utf8(&record[tab + 1..]) else {
                continue;
            };
            files.push(TreeFile {
                path: PathBuf::from(path),
                blob: blob.to_string(),
            });
        }
        Ok(files)
    }

    /// The files of the work tree git would commit (relative to the top level): tracked, and
    /// untracked but not ignored, under `dir` (absolute). A tracked file deleted from the work
    /// tree is listed, and fails to read.
    pub fn work_tree_files(&self, dir: &Path) -> Result<Vec<PathBuf>, GitError> {
        let mut files = self.ls_files(dir, &["--cached", "--others", "--exclude-standard"])?;
        // A file staged and changed is listed once per stage.
        files.dedup();
        Ok(files)
    }

    /// The work tree's files git does not track and does not ignore, under `dir` (absolute):
    /// new files a commit would add, which `git diff` does not name.
    pub fn untracked(&self, dir: &Path) -> Result<Vec<PathBuf>, GitError> {
        self.ls_files(dir, &["--others", "--exclude-standard"])
    }

    /// `git ls-files -z WHICH -- DIR`.
    fn ls_files(&self, dir: &Path, which: &[&str]) -> Result<Vec<PathBuf>, GitError> {
        let pathspec = self.pathspec(dir).unwrap_or_else(|| ".".to_string());
        let mut args = vec!["ls-files", "-z"];
        args.extend_from_slice(which);
        args.extend(["--", pathspec.as_str()]);
        Ok(paths(&run(&self.top, &args)?))
    }

    /// `dir` (absolute) as a pathspec from the top level; `None` for the top level itself.
    fn pathspec(&self, dir: &Path) -> Option<String> {
        let relative = dir.strip_prefix(&self.top).unwrap_or(Path::new(""));
        (!relative.as_os_str().is_empty()).then(|| relative.to_string_lossy().replace('\\', "/"))
    }

    /// The files (relative to the top level) that differ between `base` and `head`, or the
    /// work tree when `head` is `None`. Renames are a delete and an add, as the plan sees them.
    pub fn changed(&self, base: &str, head: Option<&str>) -> Result<Vec<PathBuf>, GitError> {
        let mut args = vec![
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            "--no-ext-diff",
            base,
        ];
        if let Some(head) = head {
            args.push(head);
        }
        args.push("--");
        Ok(paths(&run(&self.top, &args)?))
    }

    /// The contents of `blobs`, in order, read with one `git cat-file --batch`. A blob larger
    /// than `max_size` is not read (`None`).
    pub fn read_blobs(
        &self,
        blobs: &[&str],
        max_size: u64,
    ) -> Result<Vec<Option<Vec<u8>>>, GitError> {
        if blobs.is_empty() {
            return Ok(Vec::new());
        }
        let mut child = Command::new("git")
            .arg("-C")
            .arg(&self.top)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| GitError(format!("cannot run git: {e}")))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let request: String = blobs.iter().map(|b| format!("{b}\n")).collect();
        // Written from a thread: git answers while it reads, and both pipes have a bound.
        let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
        let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut found = Vec::with_capacity(blobs.len());
        for blob in blobs {
            let bytes = read_one(&mut reader, max_size)
                .map_err(|e| GitError(format!("reading blob {blob}: {e}")))?;
            found.push(bytes);
        }
        let _ = writer.join();
        let _ = child.wait();
        Ok(found)
    }
}

/// A commit's files as the index asks of them: which paths exist, and (rarely) a file's text.
#[derive(Debug)]
pub struct GitTree {
    repo: Repo,
    /// Blob ids by absolute path.
    blobs: HashMap<PathBuf, String>,
    /// Every directory that holds a file, absolute.
    dirs: std::collections::HashSet<PathBuf>,
    max_size: u64,
    /// One `git cat-file --batch` kept open for every read, started on the first.
    batch: std::sync::Mutex<Option<Batch>>,
}

/// A running `git cat-file --batch`: one blob id in, its header and content out.
#[derive(Debug)]
struct Batch {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Batch {
    fn start(repo: &Repo) -> Option<Batch> {
        let mut child = Command::new("git")
            .arg("-C")
            .arg(&repo.top)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let stdin = child.stdin.take()?;
        let stdout = BufReader::new(child.stdout.take()?);
        Some(Batch {
            child,
            stdin,
            stdout,
        })
    }

    /// The blob's bytes; `None` when it is missing or larger than `max_size`.
    fn read(&mut self, blob: &str, max_size: u64) -> std::io::Result<Option<Vec<u8>>> {
        self.stdin.write_all(format!("{blob}\n").as_bytes())?;
        self.stdin.flush()?;
        read_one(&mut self.stdout, max_size)
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer of `git cat-file --batch`: `<oid> <type> <size>` then the bytes and a newline,
/// or `<oid> missing`.
fn read_one(reader: &mut impl BufRead, max_size: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut header = String::new();
    reader.read_line(&mut header)?;
    let Some(size) = header
        .split_whitespace()
        .nth(2)
        .and_then(|s| s.parse::<usize>().ok())
    else {
        return Ok(None);
    };
    let mut bytes = vec![0; size];
    reader.read_exact(&mut bytes)?;
    let mut newline = [0u8; 1];
    reader.read_exact(&mut newline)?;
    Ok((size as u64 <= max_size).then_some(bytes))
}

impl GitTree {
    /// The tree of `files` (absolute paths and their blobs).
    pub fn new(repo: Repo, files: &[(PathBuf, String)], max_size: u64) -> Arc<GitTree> {
        let mut dirs = std::collections::HashSet::new();
        for (path, _) in files {
            for dir in path.ancestors().skip(1) {
                if !dirs.insert(dir.to_path_buf()) {
                    break;
                }
            }
        }
        Arc::new(GitTree {
            repo,
            blobs: files.iter().cloned().collect(),
            dirs,
            max_size,
            batch: std::sync::Mutex::new(None),
        })
    }
}

impl Tree for GitTree {
    fn read(&self, path: &Path) -> Option<String> {
        let blob = self.blobs.get(path)?;
        let mut batch = self.batch.lock().ok()?;
        if batch.is_none() {
            *batch = Batch::start(&self.repo);
        }
        let bytes = match batch.as_mut()?.read(blob, self.max_size) {
            Ok(bytes) => bytes?,
            Err(_) => {
                // A broken pipe: start again on the next read.
                *batch = None;
                return None;
            }
        };
        crate::files::text_from_bytes(bytes).ok()
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.dirs.contains(path)
    }

    fn exists(&self, path: &Path) -> bool {
        self.blobs.contains_key(path) || self.dirs.contains(path)
    }
}

/// NUL-separated paths, as `-z` prints them (a path that is not UTF-8 is left out: no manifest
/// asoguard reads has one).
fn paths(out: &[u8]) -> Vec<PathBuf> {
    out.split(|b| *b == 0)
        .filter(|r| !r.is_empty())
        .filter_map(|r| std::str::from_utf8(r).ok())
        .map(PathBuf::from)
        .collect()
}

/// Run git in `dir`; its stdout, or its stderr's first line as the error.
fn run(dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    run_with_input(dir, args, None)
}

/// [`run`], with `input` on git's standard input when given.
fn run_with_input(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, GitError> {
    let failed = |e: std::io::Error| GitError(format!("git {}: {e}", args.join(" ")));
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| GitError(format!("cannot run git: {e}")))?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(input).map_err(failed)?;
    }
    let out = child.wait_with_output().map_err(failed)?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().next().unwrap_or("git failed").trim();
        Err(GitError(format!("git {}: {first}", args.join(" "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cat_file_batch_answers_in_order() {
        let answers = b"aaa blob 5\nhello\nbbb missing\nccc blob 3\nabc\nddd blob 0\n\n";
        let mut reader = BufReader::new(&answers[..]);
        assert_eq!(read_one(&mut reader, 10).unwrap(), Some(b"hello".to_vec()));
        assert_eq!(read_one(&mut reader, 10).unwrap(), None, "a missing object");
        // Read past, but not kept: over the limit.
        assert_eq!(read_one(&mut reader, 2).unwrap(), None);
        assert_eq!(read_one(&mut reader, 10).unwrap(), Some(Vec::new()));
        assert!(read_one(&mut reader, 10).unwrap().is_none(), "the end");
    }

    #[test]
    fn a_truncated_answer_is_an_error_not_a_short_blob() {
        let mut reader = BufReader::new(&b"aaa blob 10\nshort"[..]);
        assert!(read_one(&mut reader, 100).is_err());
    }
}
