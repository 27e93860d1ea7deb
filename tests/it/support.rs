//! Helpers shared by the end-to-end tests: a temporary repository to run asoguard in.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// A ResourceGroup (a critical kind) with no reconcile-policy: one ASO003 finding, at the name
/// (4:9-4:11).
pub const RG_UNPROTECTED: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: rg
";

/// `RG_UNPROTECTED` as `--fix` must leave it, written by hand.
pub const RG_FIXED: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: rg
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
";

/// A temporary repository (it holds `.git`, so config discovery stops there).
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    /// An empty repository.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        fs::create_dir(dir.path().join(".git")).expect("mkdir .git");
        Sandbox { dir }
    }

    /// Its root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write a file (creating its directories); its path.
    pub fn write(&self, relative: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&path, content).expect("write");
        path
    }

    /// A file's bytes.
    pub fn read(&self, relative: &str) -> Vec<u8> {
        fs::read(self.path().join(relative)).expect("read")
    }

    /// A file's text.
    pub fn read_string(&self, relative: &str) -> String {
        fs::read_to_string(self.path().join(relative)).expect("read")
    }

    /// `asoguard` with this sandbox as working directory.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("asoguard").expect("the asoguard binary");
        cmd.current_dir(self.path());
        cmd
    }

    /// Run `asoguard ARGS` here: (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        run(self.cmd().args(args))
    }
}

/// Run and return (exit code, stdout, stderr), asserting it neither panicked nor died by signal.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let output = cmd.output().expect("asoguard runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let code = output
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal; stderr:\n{stderr}"));
    assert!(
        !stderr.contains("panicked") && code != 101,
        "asoguard panicked:\n{stderr}"
    );
    (code, stdout, stderr)
}

/// Run `asoguard ARGS` in `cwd`, which must exit 0 (clean) or 1 (findings): (exit code,
/// stdout).
pub fn run_in(cwd: &Path, args: &[&str]) -> (i32, String) {
    let mut cmd = Command::cargo_bin("asoguard").expect("the asoguard binary");
    let (code, stdout, stderr) = run(cmd.current_dir(cwd).args(args));
    assert!(code == 0 || code == 1, "exit {code}; stderr:\n{stderr}");
    (code, stdout)
}

/// The repository root (the CLI package's own directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .canonicalize()
        .expect("the repository root exists")
}

/// `text` parsed as JSON, or a panic showing it.
pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// Copy the tree `from` to `to` (created), making every copied file writable (a source such as
/// the shared corpus may be read-only, and tests fix the copies).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
            let mut permissions = fs::metadata(&target).expect("metadata").permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            fs::set_permissions(&target, permissions).expect("chmod");
        }
    }
}

/// Every file under `dir` but `.git`, by relative path, with its bytes.
pub fn read_tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(entries) = fs::read_dir(&at) else {
            continue;
        };
        for entry in entries {
            let entry = entry.expect("entry");
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            if entry.file_type().expect("type").is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("under dir").to_path_buf();
                out.insert(relative, fs::read(&path).expect("read"));
            }
        }
    }
    out
}
