//! The hooks of `.pre-commit-hooks.yaml`, run for real by pre-commit in a throw-away git
//! repository: a commit with a hazard is refused by `asoguard`, `asoguard-fix` repairs the
//! file, and the next commit goes through; a commit that deletes an Azure resource is refused
//! by `asoguard-plan`.
//!
//! **This test exercises the committed `HEAD` of this checkout, not the work tree.** pre-commit
//! clones the repository named in `repo:` at `rev:`; the test names this checkout and
//! `git rev-parse HEAD`, so the hooks file and the code it installs are those last committed.
//! Commit before relying on a green run.
//!
//! How it runs:
//! - `language: rust` makes pre-commit run `cargo install --bins --root <env> --path .` in its
//!   clone: a release build of asoguard, which takes a few minutes. The test points
//!   `CARGO_TARGET_DIR` at a directory under this checkout's `target/` so that repeated local
//!   runs reuse the compiled dependencies (on a fresh clone, as in CI, it is a full build).
//! - `PRE_COMMIT_HOME` (pre-commit's clones and environments) and the git repository live in a
//!   temporary directory, and git's global and system configs are not read, so nothing leaks
//!   into or out of the user's set-up.
//! - `asoguard-fix` is configured with `stages: [manual]`: a plain `git commit` runs only the
//!   check, which is what a team wants by default (a commit that silently rewrites manifests
//!   would be committed without review), and the fix is run on demand with
//!   `pre-commit run asoguard-fix --hook-stage manual --files ...`, as a user would.
//! - The manifest is one file on its own: pre-commit passes only the changed files, so the
//!   hazard must be visible from the file itself (a ResourceGroup without a reconcile-policy,
//!   ASO003).
//!
//! The test is `#[ignore]`d, so `cargo test --workspace` neither builds a release binary nor
//! needs pre-commit; `.ci/run` runs it with `cargo test --workspace --locked -- --ignored`
//! (it installs pre-commit first). Run on its own, it fails, naming what to install, when the
//! `pre-commit` program (or git) is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

/// A ResourceGroup (a critical kind) with no reconcile-policy: one ASO003 finding.
const RG_UNPROTECTED: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: prod-rg
  namespace: prod
spec:
  location: westeurope
";

/// `RG_UNPROTECTED` as `asoguard-fix` must leave it, written by hand.
const RG_FIXED: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: prod-rg
  namespace: prod
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
spec:
  location: westeurope
";

const MANIFEST: &str = "clusters/prod/rg.yaml";

/// A public IP with ASO's default policy, `manage`: removing it deletes it in Azure.
const IP_MANAGED: &str = "\
apiVersion: network.azure.com/v1api20240301
kind: PublicIPAddress
metadata:
  name: prod-ip
  namespace: prod
spec:
  location: westeurope
  owner:
    name: prod-rg
";

const IP_MANIFEST: &str = "clusters/prod/ip.yaml";

/// The checkout this test belongs to (the repository root).
fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .canonicalize()
        .expect("the repository root exists")
}

/// Whether `program --version` runs and succeeds.
fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A command isolated from the user's git and pre-commit set-up.
struct Env {
    /// `PRE_COMMIT_HOME`.
    home: PathBuf,
    /// An empty file standing in for the global git config.
    git_config: PathBuf,
    /// Where `cargo install` builds.
    cargo_target: PathBuf,
}

impl Env {
    fn command(&self, program: &str, cwd: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(cwd)
            .stdin(Stdio::null())
            .env("PRE_COMMIT_HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", &self.git_config)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("CARGO_TARGET_DIR", &self.cargo_target)
            .env("PRE_COMMIT_COLOR", "never")
            .env("NO_COLOR", "1");
        // When this test itself runs from a git hook, git's own variables would point every
        // git command at the outer repository.
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_PREFIX",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }
}

/// Run a command, returning its output; panics only if it cannot start.
fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(output: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Run a command that must succeed.
fn ok(cmd: &mut Command) -> Output {
    let output = run(cmd);
    assert!(
        output.status.success(),
        "{cmd:?} failed:\n{}",
        text(&output)
    );
    output
}

#[test]
#[ignore = "builds a release binary through pre-commit, which must be installed; .ci/run runs it with --ignored"]
fn hooks_refuse_a_hazard_then_fix_it() {
    for program in ["pre-commit", "git"] {
        assert!(
            available(program),
            "`{program} --version` does not run: this test needs pre-commit and git on PATH \
             (install pre-commit with `python3 -m pip install pre-commit`; .ci/run does)"
        );
    }

    let checkout = checkout();
    let temp = tempfile::tempdir().expect("a temp dir");
    let env = Env {
        home: temp.path().join("pre-commit-home"),
        git_config: temp.path().join("gitconfig"),
        cargo_target: Path::new(env!("CARGO_TARGET_TMPDIR")).join("precommit-cargo-target"),
    };
    std::fs::write(&env.git_config, "").expect("write the stand-in git config");

    // The revision pre-commit will clone: this checkout's committed HEAD.
    let rev = ok(env.command("git", &checkout).args(["rev-parse", "HEAD"])).stdout;
    let rev = String::from_utf8_lossy(&rev).trim().to_string();
    let has_hooks =
        run(env
            .command("git", &checkout)
            .args(["cat-file", "-e", "HEAD:.pre-commit-hooks.yaml"]));
    assert!(
        has_hooks.status.success(),
        "HEAD ({rev}) has no .pre-commit-hooks.yaml: this test runs the committed HEAD, commit first"
    );

    // A fresh repository with the hooks installed.
    let repo = temp.path().join("repo");
    std::fs::create_dir(&repo).expect("mkdir repo");
    ok(env.command("git", &repo).args(["init", "--quiet"]));
    for (key, value) in [
        ("user.name", "asoguard test"),
        ("user.email", "test@example.invalid"),
        ("commit.gpgsign", "false"),
    ] {
        ok(env.command("git", &repo).args(["config", key, value]));
    }
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: asoguard\n      - id: asoguard-fix\n        stages: [manual]\n      - id: asoguard-plan\n",
        checkout.display()
    );
    std::fs::write(repo.join(".pre-commit-config.yaml"), config).expect("write config");
    let started = Instant::now();
    ok(env
        .command("pre-commit", &repo)
        .args(["install", "--install-hooks"]));
    eprintln!(
        "pre-commit installed the hooks (cargo install of {rev}) in {:.0?}",
        started.elapsed()
    );

    // A commit with a hazard is refused by the check hook.
    let manifest = repo.join(MANIFEST);
    std::fs::create_dir_all(manifest.parent().expect("a parent")).expect("mkdir");
    std::fs::write(&manifest, RG_UNPROTECTED).expect("write manifest");
    ok(env
        .command("git", &repo)
        .args(["add", ".pre-commit-config.yaml", MANIFEST]));
    let refused =
        run(env
            .command("git", &repo)
            .args(["commit", "--quiet", "-m", "Add prod resource group"]));
    let shown = text(&refused);
    assert!(
        !refused.status.success(),
        "the commit went through:\n{shown}"
    );
    assert!(shown.contains("asoguard"), "the hook ran:\n{shown}");
    assert!(shown.contains("Failed"), "the hook failed:\n{shown}");
    assert!(
        shown.contains("ASO003"),
        "the hook named the finding:\n{shown}"
    );
    assert!(
        shown.contains(MANIFEST),
        "the hook named the file:\n{shown}"
    );
    assert!(
        !run(env
            .command("git", &repo)
            .args(["rev-parse", "--verify", "--quiet", "HEAD"]))
        .status
        .success(),
        "no commit was made"
    );
    assert_eq!(
        std::fs::read_to_string(&manifest).expect("read manifest"),
        RG_UNPROTECTED,
        "the check hook changed nothing"
    );

    // The fix hook, run on demand, repairs the file; pre-commit reports "files were modified"
    // as a failure, as it does for every fixer.
    let fixed = run(env.command("pre-commit", &repo).args([
        "run",
        "asoguard-fix",
        "--hook-stage",
        "manual",
        "--files",
        MANIFEST,
    ]));
    let shown = text(&fixed);
    assert_eq!(
        fixed.status.code(),
        Some(1),
        "a fixer that modified files fails:\n{shown}"
    );
    assert!(
        shown.contains("files were modified by this hook"),
        "{shown}"
    );
    assert_eq!(
        std::fs::read_to_string(&manifest).expect("read manifest"),
        RG_FIXED,
        "the fixed file, byte for byte"
    );

    // Now the commit goes through, with the fixed bytes.
    ok(env.command("git", &repo).args(["add", MANIFEST]));
    let committed =
        run(env
            .command("git", &repo)
            .args(["commit", "--quiet", "-m", "Add prod resource group"]));
    assert!(
        committed.status.success(),
        "the commit was refused:\n{}",
        text(&committed)
    );
    assert!(text(&committed).contains("Passed"), "{}", text(&committed));
    let blob = ok(env
        .command("git", &repo)
        .args(["show", &format!("HEAD:{MANIFEST}")]))
    .stdout;
    assert_eq!(String::from_utf8_lossy(&blob), RG_FIXED);

    // `asoguard-plan` refuses a commit that deletes an Azure resource: a public IP (not a
    // critical kind, so nothing asks it to be protected) is committed, then removed.
    let ip = repo.join(IP_MANIFEST);
    std::fs::write(&ip, IP_MANAGED).expect("write the public IP");
    ok(env.command("git", &repo).args(["add", IP_MANIFEST]));
    let added = run(env
        .command("git", &repo)
        .args(["commit", "--quiet", "-m", "Add a public IP"]));
    assert!(added.status.success(), "{}", text(&added));
    ok(env
        .command("git", &repo)
        .args(["rm", "--quiet", IP_MANIFEST]));
    let removed =
        run(env
            .command("git", &repo)
            .args(["commit", "--quiet", "-m", "Remove the public IP"]));
    let shown = text(&removed);
    assert!(
        !removed.status.success(),
        "the removal went through:\n{shown}"
    );
    assert!(
        shown.contains("asoguard plan"),
        "the plan hook ran:\n{shown}"
    );
    assert!(
        shown.contains("DELETE") && shown.contains("PublicIPAddress"),
        "the plan named the deletion:\n{shown}"
    );
    eprintln!("pre-commit test done in {:.0?}", started.elapsed());
}
