//! Helpers shared by the end-to-end tests: a temporary repository to run asoguard in.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

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
