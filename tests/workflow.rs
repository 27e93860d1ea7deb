//! End-to-end tests of the features that fit asoguard into its workflows: inline suppressions
//! (comments, `ignore-file`, the `asoguard.io/ignore` annotation, ASO100 and ASO101), the CI
//! report formats (`concise`, `github`, `azure`, `junit`) with their exact bytes and escaping,
//! several reports in one run, the exit-code options, `--quiet`, `--statistics`,
//! `--show-fixes`, located config errors, `asoguard config --schema` and `asoguard init`.
//!
//! Every test runs the real binary in a temporary directory holding a `.git` directory, so
//! config discovery stops there. Expected outputs are written by hand.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A protected ResourceGroup.
const RG_FIXED: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: rg
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
";

/// A temporary repository to run asoguard in.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        fs::create_dir(dir.path().join(".git")).expect("mkdir .git");
        Sandbox { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, relative: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&path, content).expect("write");
        path
    }

    fn read(&self, relative: &str) -> String {
        fs::read_to_string(self.path().join(relative)).expect("read")
    }

    /// `asoguard` with this sandbox as working directory and no colour.
    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("asoguard").expect("the asoguard binary");
        cmd.current_dir(self.path()).env("NO_COLOR", "1");
        cmd
    }

    /// Run `asoguard ARGS` here: (exit code, stdout, stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        run(self.cmd().args(args))
    }
}

/// Run and return (exit code, stdout, stderr), asserting it did not panic or die by signal.
fn run(cmd: &mut Command) -> (i32, String, String) {
    let output = cmd.output().expect("asoguard runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "asoguard panicked:\n{stderr}");
    let code = output
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal; stderr:\n{stderr}"));
    (code, stdout, stderr)
}

// =============================================================================================
// asoguard init
// =============================================================================================

const RG_SKIP: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: rg
  annotations:
    serviceoperator.azure.com/reconcile-policy: skip
";

/// A repository with an active and a standby cluster.
fn two_cluster_repo() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("clusters/prod/rg.yaml", RG_FIXED);
    sb.write("clusters/dr-west/rg.yaml", RG_SKIP);
    sb.write("apps/readme.yaml", "not: a manifest\n");
    sb
}

#[test]
fn init_proposes_clusters_and_the_written_config_passes_check() {
    let sb = two_cluster_repo();
    // Without a config the standby's `skip` is in an active cluster.
    let (code, stdout, _) = sb.run(&["check", "--format", "concise", "."]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("ASO001"), "{stdout}");

    let (code, stdout, stderr) = sb.run(&["init"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "Wrote .asoguard.yaml with 2 clusters:\n  dr-west              passive  clusters/dr-west/** (1 ASO resource, 1 with skip)\n  prod                 active   clusters/prod/** (1 ASO resource, 0 with skip)\nReview it, then run `asoguard check`.\n"
    );
    let text = sb.read(".asoguard.yaml");
    assert!(
        text.contains("clusters:\n  # clusters/dr-west: 1 ASO resource, all with reconcile-policy `skip`: a standby.\n  dr-west:\n    paths: [\"clusters/dr-west/**\"]\n    role: passive\n"),
        "{text}"
    );
    assert!(
        text.contains("\n# fail-level: warning\n"),
        "other keys commented out: {text}"
    );

    // The config validates, and the standby is now passive: the check is clean.
    let (code, stdout, stderr) = sb.run(&["check", "."]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let sb = two_cluster_repo();
    sb.write(".asoguard.yaml", "# mine\n");
    let (code, stdout, stderr) = sb.run(&["init"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(".asoguard.yaml: already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(sb.read(".asoguard.yaml"), "# mine\n", "left alone");
    let (code, _, _) = sb.run(&["init", "--force"]);
    assert_eq!(code, 0);
    assert!(sb.read(".asoguard.yaml").contains("role: passive"));
}

#[test]
fn init_root_names_the_repository() {
    let sb = Sandbox::new();
    sb.write("repo/envs/staging/rg.yaml", RG_FIXED);
    let (code, stdout, _) = sb.run(&["init", "--root", "repo"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("Wrote repo/.asoguard.yaml with 1 cluster:"),
        "{stdout}"
    );
    assert!(
        sb.read("repo/.asoguard.yaml")
            .contains("\"envs/staging/**\"")
    );
    assert!(!sb.path().join(".asoguard.yaml").exists());
    let (code, _, _) = sb.run(&["check", "--config", "repo/.asoguard.yaml", "repo"]);
    assert_eq!(code, 0);

    let (code, _, stderr) = sb.run(&["init", "--root", "no-such-dir"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a directory"), "{stderr}");
}

#[test]
fn init_without_a_layout_writes_a_valid_template() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_FIXED);
    let (code, stdout, _) = sb.run(&["init"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("no cluster directories found"), "{stdout}");
    assert!(sb.read(".asoguard.yaml").contains("\n# clusters:\n"));
    let (code, stdout, stderr) = sb.run(&["check", "."]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
}
