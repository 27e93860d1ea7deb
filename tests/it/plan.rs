//! `asoguard plan`: two revisions of a small git repository, built in a sandbox, and what ASO
//! does in Azure when the change is merged: the class of each resource's change, whether the
//! plan is destructive (exit 1), and the errors that stop it (exit 2).

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{Sandbox, json};

// ---------------------------------------------------------------------------------------------
// Git

/// Run `git ARGS` in `dir` with a fixed identity and no signing; its stdout. It must succeed.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=asoguard tests",
            "-c",
            "user.email=tests@asoguard.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {}:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Commit everything in `dir` (additions, edits and removals).
fn commit(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", message]);
}

/// A sandbox that is a real git repository, with `config` as its `.asoguard.yaml` (none when
/// empty). Nothing is committed yet.
fn repo(config: &str) -> Sandbox {
    let sb = Sandbox::new();
    fs::remove_dir(sb.path().join(".git")).expect("remove the placeholder .git");
    git(sb.path(), &["init", "-q"]);
    if !config.is_empty() {
        sb.write(".asoguard.yaml", config);
    }
    sb
}

/// Remove a file of the sandbox.
fn remove(sb: &Sandbox, relative: &str) {
    fs::remove_file(sb.path().join(relative)).expect("remove");
}

// ---------------------------------------------------------------------------------------------
// Manifests

/// Two active clusters, `a` and `b`, each applying what is under `clusters/<name>/`.
const TWO_CLUSTERS: &str = "\
clusters:
  a: {role: active, paths: [\"clusters/a/**\"]}
  b: {role: active, paths: [\"clusters/b/**\"]}
";

/// One active cluster, `a`.
const ONE_CLUSTER: &str = "\
clusters:
  a: {role: active, paths: [\"clusters/a/**\"]}
";

const SKIP: &str = "serviceoperator.azure.com/reconcile-policy: skip";
const DETACH: &str = "serviceoperator.azure.com/reconcile-policy: detach-on-delete";
const NO_PRUNE: &str = "kustomize.toolkit.fluxcd.io/prune: disabled";

/// An ASO kind: its `apiVersion` and `kind`.
type Kind = (&'static str, &'static str);

/// A critical kind.
const RG: Kind = ("resources.azure.com/v1api20200601", "ResourceGroup");
/// A critical kind, owned by a resource group.
const VAULT: Kind = ("keyvault.azure.com/v1api20230701", "Vault");
/// A critical kind, owned by a resource group.
const SERVER: Kind = ("dbforpostgresql.azure.com/v1api20221201", "FlexibleServer");
/// Not a critical kind, owned by a resource group.
const IP: Kind = ("network.azure.com/v1api20240301", "PublicIPAddress");

/// One object in namespace `namespace`, with `annotations` (`key: value` lines) and `spec`
/// (lines, indented here).
fn object(kind: Kind, namespace: &str, name: &str, annotations: &[&str], spec: &str) -> String {
    let mut out = format!(
        "apiVersion: {}\nkind: {}\nmetadata:\n  name: {name}\n  namespace: {namespace}\n",
        kind.0, kind.1
    );
    if !annotations.is_empty() {
        out.push_str("  annotations:\n");
        for annotation in annotations {
            out.push_str(&format!("    {annotation}\n"));
        }
    }
    out.push_str("spec:\n");
    for line in spec.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// A resource group `name` in namespace `app`.
fn rg(name: &str, annotations: &[&str]) -> String {
    object(RG, "app", name, annotations, "location: westeurope")
}

/// An object of `kind` in namespace `app`, owned by resource group `owner`.
fn child(kind: Kind, name: &str, owner: &str, annotations: &[&str]) -> String {
    object(
        kind,
        "app",
        name,
        annotations,
        &format!("location: westeurope\nowner:\n  name: {owner}"),
    )
}

/// Several documents in one file.
fn docs(documents: &[String]) -> String {
    documents.join("---\n")
}

/// A Flux Kustomization `name` applying `path`.
fn flux(name: &str, path: &str, prune: bool) -> String {
    format!(
        "\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 10m
  path: {path}
  prune: {prune}
  sourceRef:
    kind: GitRepository
    name: flux-system
"
    )
}

/// An ArgoCD Application `name` applying `path`, with automated prune or not, with the
/// resources finalizer or not.
fn argo(name: &str, path: &str, prune: bool, finalizer: bool) -> String {
    let finalizers = if finalizer {
        "  finalizers:\n    - resources-finalizer.argocd.argoproj.io\n"
    } else {
        ""
    };
    format!(
        "\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
{finalizers}spec:
  project: default
  source:
    repoURL: https://git.example.com/platform.git
    targetRevision: main
    path: {path}
  destination:
    server: https://kubernetes.default.svc
    namespace: app
  syncPolicy:
    automated: {{prune: {prune}}}
"
    )
}

// ---------------------------------------------------------------------------------------------
// Running the plan

/// `asoguard plan --format json ARGS` in the sandbox: its exit code (0 or 1, checked against
/// the report's `destructive`) and the report.
fn plan(sb: &Sandbox, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["plan", "--format", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = sb.run(&all);
    assert!(
        code == 0 || code == 1,
        "exit {code}; stderr:\n{stderr}\nstdout:\n{stdout}"
    );
    let report = json(&stdout);
    assert_eq!(report["version"], 1, "{stdout}");
    let destructive = report["destructive"].as_bool().expect("destructive");
    assert_eq!(code == 1, destructive, "exit {code}:\n{stdout}");
    let changes = report["changes"].as_array().expect("changes");
    assert_eq!(
        destructive,
        changes.iter().any(|c| c["destructive"] == true),
        "{stdout}"
    );
    for change in changes {
        let class = change["class"].as_str().expect("class");
        assert_eq!(
            change["destructive"],
            matches!(class, "delete" | "replace" | "immutable"),
            "{change}"
        );
        assert_eq!(
            change["warning"],
            matches!(class, "takeover" | "unprotect"),
            "{change}"
        );
    }
    for (class, count) in report["summary"].as_object().expect("summary") {
        let n = changes.iter().filter(|c| c["class"] == *class).count();
        assert_eq!(count, n, "summary of {class}:\n{stdout}");
    }
    (code, report)
}

/// The plan of the working tree against `HEAD`, which must exit `exit` and plan exactly
/// `expected` (`cluster:kind/name` and class); the report.
fn plan_head(sb: &Sandbox, exit: i32, expected: &[(&str, &str)]) -> Value {
    let (code, report) = plan(sb, &["--base", "HEAD"]);
    assert_eq!(code, exit, "{report:#}");
    assert_eq!(classes(&report), expect(expected), "{report:#}");
    report
}

/// The plan from the last commit to the one before: `--base HEAD~1 --head HEAD`.
fn plan_last_commit(sb: &Sandbox) -> (i32, Value) {
    plan(sb, &["--base", "HEAD~1", "--head", "HEAD"])
}

/// The change of `cluster`'s resource `name`, which must be of `class` and give a cause that
/// holds `cause`.
fn change_with<'r>(
    report: &'r Value,
    cluster: &str,
    name: &str,
    class: &str,
    cause: &str,
) -> &'r Value {
    let found = change(report, cluster, name);
    assert_eq!(found["class"], class, "{report:#}");
    assert!(
        found["cause"].as_str().unwrap().contains(cause),
        "{found:#}"
    );
    found
}

/// Every change as `cluster:kind/name` and its class, sorted.
fn classes(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                format!(
                    "{}:{}/{}",
                    c["cluster"].as_str().unwrap_or("-"),
                    c["kind"].as_str().unwrap_or("?"),
                    c["name"].as_str().unwrap_or("?")
                ),
                c["class"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// `classes` as expected: pairs of `cluster:kind/name` and class.
fn expect(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .map(|(r, c)| (r.to_string(), c.to_string()))
        .collect();
    out.sort();
    out
}

/// The change of the resource named `name` (of any kind) in `cluster` (`-` for none).
fn change<'r>(report: &'r Value, cluster: &str, name: &str) -> &'r Value {
    report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["cluster"].as_str().unwrap_or("-") == cluster && c["name"] == name)
        .unwrap_or_else(|| panic!("no change of {cluster}:{name}:\n{report:#}"))
}

/// A change's location as `path:line (revision)`.
fn location(change: &Value) -> String {
    let at = &change["location"];
    format!(
        "{}:{} ({})",
        at["path"].as_str().unwrap_or("?"),
        at["line"],
        at["revision"].as_str().unwrap_or("?")
    )
}

// ---------------------------------------------------------------------------------------------
// Shared repositories

/// A resource group and a vault it owns, both with `annotations` (none: `manage`).
fn app_in(annotations: &[&str]) -> String {
    docs(&[
        rg("app-rg", annotations),
        child(VAULT, "app-kv", "app-rg", annotations),
    ])
}

/// The move's starting point, committed: cluster A manages the resource group and its vault.
fn move_start() -> Sandbox {
    let sb = repo(TWO_CLUSTERS);
    sb.write("clusters/a/app.yaml", app_in(&[]));
    commit(sb.path(), "cluster a manages app");
    sb
}

/// Cluster A's Flux Kustomization `infra` applying `infra/` (pruning or not), with a resource
/// group `rg` (its `annotations`) and, in its own file, a vault and a public IP it owns (theirs).
/// Committed.
fn flux_tree(prune: bool, rg_annotations: &[&str], children: [&[&str]; 2]) -> Sandbox {
    let sb = repo(ONE_CLUSTER);
    sb.write("clusters/a/infra.yaml", flux("infra", "./infra", prune));
    sb.write("infra/rg.yaml", rg("rg", rg_annotations));
    sb.write(
        "infra/children.yaml",
        docs(&[
            child(VAULT, "kv", "rg", children[0]),
            child(IP, "ip", "rg", children[1]),
        ]),
    );
    commit(sb.path(), "flux applies infra");
    sb
}

/// Cluster A's ArgoCD Application `infra` (in `clusters/a/infra.yaml`) applying `infra/`: a
/// `manage` resource group and a `detach-on-delete` one. Committed.
fn argo_tree(prune: bool, finalizer: bool) -> Sandbox {
    let sb = repo(ONE_CLUSTER);
    sb.write(
        "clusters/a/infra.yaml",
        argo("infra", "infra", prune, finalizer),
    );
    sb.write("infra/managed.yaml", rg("managed-rg", &[]));
    sb.write("infra/kept.yaml", rg("kept-rg", &[DETACH]));
    commit(sb.path(), "argo applies infra");
    sb
}

/// Remove the ArgoCD Application of `argo_tree` and the directory it applies.
fn remove_application(sb: &Sandbox) {
    remove(sb, "clusters/a/infra.yaml");
    fs::remove_dir_all(sb.path().join("infra")).expect("remove infra/");
}

// ---------------------------------------------------------------------------------------------
// 1-2. The FAQ's move between clusters

#[test]
fn faq_move_in_three_commits_is_never_destructive() {
    let sb = move_start();

    // 1. Cluster A stops writing.
    sb.write("clusters/a/app.yaml", app_in(&[SKIP]));
    commit(sb.path(), "a: skip");
    let (code, report) = plan_last_commit(&sb);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        classes(&report),
        expect(&[
            ("a:ResourceGroup/app-rg", "update"),
            ("a:Vault/app-kv", "update"),
        ])
    );
    let update = change(&report, "a", "app-rg");
    assert_eq!(update["policy"]["base"], "manage");
    assert_eq!(update["policy"]["head"], "skip");
    assert_eq!(update["fields"][0], "reconcile-policy");

    // 2. Cluster B takes it, while A still reads it. Between commits, the working tree
    // counts for nothing.
    sb.write("clusters/b/app.yaml", app_in(&[]));
    let (_, unchanged) = plan_last_commit(&sb);
    assert_eq!(classes(&unchanged), classes(&report));
    commit(sb.path(), "b: manage");
    let (code, report) = plan_last_commit(&sb);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        classes(&report),
        expect(&[
            ("b:ResourceGroup/app-rg", "create"),
            ("b:Vault/app-kv", "create"),
        ])
    );
    let notes = change(&report, "b", "app-rg")["notes"].to_string();
    assert!(
        notes.contains("read (skip)") && notes.contains("cluster `a`"),
        "the create says A reads the same resource: {notes}"
    );

    // 3. Cluster A lets go: planned from the working tree, then from the commit.
    remove(&sb, "clusters/a/app.yaml");
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["head"], "the working tree");
    let detached = expect(&[
        ("a:ResourceGroup/app-rg", "detach"),
        ("a:Vault/app-kv", "detach"),
    ]);
    assert_eq!(classes(&report), detached);
    commit(sb.path(), "a: gone");
    let (code, report) = plan_last_commit(&sb);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(classes(&report), detached);
    assert_eq!(report["destructive"], false);
}

#[test]
fn faq_move_in_one_change_is_a_replace() {
    let sb = move_start();
    remove(&sb, "clusters/a/app.yaml");
    sb.write("clusters/b/app.yaml", app_in(&[]));
    let report = plan_head(
        &sb,
        1,
        &[
            ("b:ResourceGroup/app-rg", "replace"),
            ("b:Vault/app-kv", "replace"),
        ],
    );
    let replace = change(&report, "b", "app-rg");
    assert_eq!(replace["destructive"], true);
    assert_eq!(location(replace), "clusters/b/app.yaml:4 (head)");
    assert_eq!(replace["previous"]["path"], "clusters/a/app.yaml");
    assert_eq!(replace["previous"]["line"], 4);
    assert_eq!(replace["policy"]["base"], "manage");
    let vault = change(&report, "b", "app-kv");
    assert_eq!(vault["previous"]["path"], "clusters/a/app.yaml");

    // The report of either cluster's directory shows it: it was in one, it is in the other.
    for dir in ["clusters/a", "clusters/b"] {
        let (code, only) = plan(&sb, &["--base", "HEAD", dir]);
        assert_eq!(code, 1, "{dir}");
        assert_eq!(classes(&only), classes(&report), "{dir}");
    }
}

#[test]
fn a_detached_move_in_one_change_is_a_detach_and_an_adopting_create() {
    let sb = repo(TWO_CLUSTERS);
    sb.write("clusters/a/app.yaml", app_in(&[DETACH]));
    commit(sb.path(), "cluster a manages app, detach-on-delete");
    remove(&sb, "clusters/a/app.yaml");
    sb.write("clusters/b/app.yaml", app_in(&[DETACH]));
    let report = plan_head(
        &sb,
        0,
        &[
            ("a:ResourceGroup/app-rg", "detach"),
            ("a:Vault/app-kv", "detach"),
            ("b:ResourceGroup/app-rg", "create"),
            ("b:Vault/app-kv", "create"),
        ],
    );
    let notes = change(&report, "b", "app-rg")["notes"].to_string();
    assert!(
        notes.contains("has the Azure identity of ResourceGroup `app/app-rg` in cluster `a`")
            && notes.contains("detached: this one adopts it"),
        "{notes}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3-4. Renames and namespace moves

#[test]
fn renaming_a_managed_object_keeping_its_azure_name_is_a_replace() {
    let sb = repo(ONE_CLUSTER);
    let named = |name: &str| {
        object(
            RG,
            "app",
            name,
            &[],
            "azureName: app-rg\nlocation: westeurope",
        )
    };
    sb.write("clusters/a/rg.yaml", named("old-name"));
    commit(sb.path(), "old");
    sb.write("clusters/a/rg.yaml", named("new-name"));
    let report = plan_head(&sb, 1, &[("a:ResourceGroup/new-name", "replace")]);
    let replace = change(&report, "a", "new-name");
    assert_eq!(
        replace["azureId"],
        "/resources.azure.com/ResourceGroup/app-rg"
    );
    assert!(
        replace["cause"].as_str().unwrap().contains("renamed"),
        "{replace:#}"
    );
    assert_eq!(replace["previous"]["path"], "clusters/a/rg.yaml");
}

#[test]
fn renaming_a_managed_object_without_azure_name_is_a_delete_and_a_create() {
    let sb = repo(ONE_CLUSTER);
    sb.write("clusters/a/rg.yaml", rg("old-rg", &[]));
    commit(sb.path(), "old");
    sb.write("clusters/a/rg.yaml", rg("new-rg", &[]));
    plan_head(
        &sb,
        1,
        &[
            ("a:ResourceGroup/new-rg", "create"),
            ("a:ResourceGroup/old-rg", "delete"),
        ],
    );
}

#[test]
fn moving_a_managed_resource_group_to_another_namespace_is_a_replace() {
    let sb = repo(ONE_CLUSTER);
    sb.write("clusters/a/rg.yaml", rg("rg", &[]));
    commit(sb.path(), "in app");
    sb.write(
        "clusters/a/rg.yaml",
        object(RG, "other", "rg", &[], "location: westeurope"),
    );
    let report = plan_head(&sb, 1, &[("a:ResourceGroup/rg", "replace")]);
    let replace = change(&report, "a", "rg");
    assert_eq!(replace["namespace"], "other");
    assert!(
        replace["cause"].as_str().unwrap().contains("namespace"),
        "{replace:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// 5-7. Removals: pruned, detached, orphaned

#[test]
fn removing_a_managed_owner_under_pruning_flux_deletes_it_and_its_children() {
    let sb = flux_tree(true, &[], [&[], &[DETACH]]);
    remove(&sb, "infra/rg.yaml");
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 1, "{report:#}");
    // The owner goes in Azure, and everything in it with it, whatever the children's policy.
    assert_eq!(
        classes(&report),
        expect(&[
            ("a:ResourceGroup/rg", "delete"),
            ("a:PublicIPAddress/ip", "delete"),
            ("a:Vault/kv", "delete"),
        ])
    );
    let owner = change(&report, "a", "rg");
    assert_eq!(location(owner), "clusters/a/infra.yaml:1 (head)");
    let vault = change(&report, "a", "kv");
    assert!(
        vault["cause"].as_str().unwrap().contains("owner"),
        "{vault:#}"
    );
    // Placed where its owner's removal is caused; where it is written is a note.
    assert_eq!(location(vault), "clusters/a/infra.yaml:1 (head)");
    assert!(
        vault["notes"]
            .to_string()
            .contains("written at infra/children.yaml:4"),
        "{vault:#}"
    );
}

#[test]
fn removing_a_detached_owner_deletes_its_managed_children_through_kubernetes() {
    let sb = flux_tree(true, &[DETACH], [&[], &[DETACH]]);
    remove(&sb, "infra/rg.yaml");
    let report = plan_head(
        &sb,
        1,
        &[
            ("a:ResourceGroup/rg", "detach"),
            ("a:PublicIPAddress/ip", "detach"),
            ("a:Vault/kv", "delete"),
        ],
    );
    let vault = change(&report, "a", "kv");
    assert!(
        vault["cause"].as_str().unwrap().contains("ownerReferences"),
        "{vault:#}"
    );
}

#[test]
fn removing_under_flux_without_prune_orphans() {
    let sb = flux_tree(false, &[], [&[], &[]]);
    remove(&sb, "infra/rg.yaml");
    let report = plan_head(&sb, 0, &[("a:ResourceGroup/rg", "orphan")]);
    assert!(
        change(&report, "a", "rg")["cause"]
            .as_str()
            .unwrap()
            .contains("does not prune"),
        "{report:#}"
    );
}

#[test]
fn turning_prune_on_while_removing_an_object_deletes_it() {
    // Flux records its inventory whether it prunes or not, and garbage-collects what left it
    // when the Kustomization it reconciles (the head's) has `prune: true`.
    let sb = flux_tree(false, &[], [&[], &[]]);
    sb.write("clusters/a/infra.yaml", flux("infra", "./infra", true));
    remove(&sb, "infra/rg.yaml");
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(
        classes(&report),
        expect(&[
            ("a:PublicIPAddress/ip", "delete"),
            ("a:ResourceGroup/rg", "delete"),
            ("a:Vault/kv", "delete"),
        ])
    );
    assert_eq!(code, 1);
}

#[test]
fn removing_an_object_exempt_from_flux_prune_orphans() {
    let sb = flux_tree(true, &[NO_PRUNE], [&[], &[]]);
    remove(&sb, "infra/rg.yaml");
    let report = plan_head(&sb, 0, &[("a:ResourceGroup/rg", "orphan")]);
    assert!(
        change(&report, "a", "rg")["cause"]
            .as_str()
            .unwrap()
            .contains("exempt"),
        "{report:#}"
    );
}

#[test]
fn deleting_an_argo_application_with_the_resources_finalizer_deletes_what_it_applied() {
    let sb = argo_tree(true, true);
    remove_application(&sb);
    let report = plan_head(
        &sb,
        1,
        &[
            ("a:ResourceGroup/kept-rg", "detach"),
            ("a:ResourceGroup/managed-rg", "delete"),
        ],
    );
    assert!(
        change(&report, "a", "managed-rg")["cause"]
            .as_str()
            .unwrap()
            .contains("finalizer"),
        "{report:#}"
    );
}

#[test]
fn deleting_an_argo_application_but_keeping_its_files_deletes_what_it_applied() {
    // The files stay in the repository, but nothing applies them any more: they are not a
    // plain file "applied as it is" in no cluster (which would read as a move there).
    for (finalizer, managed, kept, exit) in [
        (true, "delete", "detach", 1),
        (false, "orphan", "orphan", 0),
    ] {
        let sb = argo_tree(true, finalizer);
        remove(&sb, "clusters/a/infra.yaml");
        let (code, report) = plan(&sb, &["--base", "HEAD"]);
        assert_eq!(code, exit, "{report:#}");
        assert_eq!(
            classes(&report),
            expect(&[
                ("a:ResourceGroup/kept-rg", kept),
                ("a:ResourceGroup/managed-rg", managed),
            ]),
            "finalizer {finalizer}"
        );
    }
}

#[test]
fn files_git_ignores_are_not_part_of_the_change() {
    let sb = repo(ONE_CLUSTER);
    sb.write("clusters/a/rg.yaml", rg("rg", &[]));
    sb.write(".gitignore", "scratch/\n");
    commit(sb.path(), "one resource group");
    // Ignored: never committed, so never applied.
    sb.write("clusters/a/scratch/extra.yaml", rg("extra-rg", &[]));
    plan_head(&sb, 0, &[]);
    // Untracked but not ignored: what `git add -A` would commit.
    sb.write("clusters/a/new.yaml", rg("new-rg", &[]));
    let (_, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(
        classes(&report),
        expect(&[("a:ResourceGroup/new-rg", "create")])
    );
}

#[test]
fn deleting_an_argo_application_without_the_finalizer_orphans() {
    let sb = argo_tree(true, false);
    remove_application(&sb);
    plan_head(
        &sb,
        0,
        &[
            ("a:ResourceGroup/kept-rg", "orphan"),
            ("a:ResourceGroup/managed-rg", "orphan"),
        ],
    );
}

#[test]
fn removing_a_file_under_argo_without_automated_prune_orphans() {
    let sb = argo_tree(false, true);
    remove(&sb, "infra/managed.yaml");
    let report = plan_head(&sb, 0, &[("a:ResourceGroup/managed-rg", "orphan")]);
    assert!(
        change(&report, "a", "managed-rg")["cause"]
            .as_str()
            .unwrap()
            .contains("no automated prune"),
        "{report:#}"
    );
}

#[test]
fn removing_a_file_under_argo_automated_prune_deletes_it_unless_prune_is_false() {
    let sb = argo_tree(true, true);
    sb.write(
        "infra/exempt.yaml",
        rg(
            "exempt-rg",
            &["argocd.argoproj.io/sync-options: Prune=false"],
        ),
    );
    commit(sb.path(), "an exempt resource group");
    remove(&sb, "infra/managed.yaml");
    remove(&sb, "infra/exempt.yaml");
    let report = plan_head(
        &sb,
        1,
        &[
            ("a:ResourceGroup/exempt-rg", "orphan"),
            ("a:ResourceGroup/managed-rg", "delete"),
        ],
    );
    assert_eq!(
        location(change(&report, "a", "managed-rg")),
        "clusters/a/infra.yaml:1 (head)"
    );
}

// ---------------------------------------------------------------------------------------------
// 8-9. Changes of a live object

#[test]
fn changing_azure_name_or_owner_is_immutable() {
    let sb = repo(ONE_CLUSTER);
    sb.write(
        "clusters/a/rgs.yaml",
        docs(&[rg("rg-one", &[DETACH]), rg("rg-two", &[DETACH])]),
    );
    sb.write(
        "clusters/a/rg.yaml",
        object(
            RG,
            "app",
            "rg",
            &[],
            "azureName: first\nlocation: westeurope",
        ),
    );
    sb.write("clusters/a/ip.yaml", child(IP, "ip", "rg-one", &[]));
    commit(sb.path(), "start");

    sb.write(
        "clusters/a/rg.yaml",
        object(
            RG,
            "app",
            "rg",
            &[],
            "azureName: second\nlocation: westeurope",
        ),
    );
    sb.write("clusters/a/ip.yaml", child(IP, "ip", "rg-two", &[]));
    let report = plan_head(
        &sb,
        1,
        &[
            ("a:ResourceGroup/rg", "immutable"),
            ("a:PublicIPAddress/ip", "immutable"),
        ],
    );
    let renamed = change(&report, "a", "rg");
    assert!(
        renamed["cause"]
            .as_str()
            .unwrap()
            .contains("spec.azureName"),
        "{renamed:#}"
    );
    // At the changed field: `spec.azureName` is line 7, after metadata's four lines.
    assert_eq!(location(renamed), "clusters/a/rg.yaml:7 (head)");
    let reowned = change(&report, "a", "ip");
    assert!(
        reowned["cause"].as_str().unwrap().contains("spec.owner"),
        "{reowned:#}"
    );
    let at = location(reowned);
    let line: usize = at
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches(" (head)")
        .parse()
        .unwrap();
    let file = at.split(':').next().unwrap();
    assert_eq!(
        sb.read_string(file).lines().nth(line - 1).map(str::trim),
        Some("name: rg-two"),
        "{at}"
    );
}

#[test]
fn skip_to_manage_is_a_takeover_with_a_warning() {
    let sb = repo(ONE_CLUSTER);
    sb.write("clusters/a/rg.yaml", rg("rg", &[SKIP]));
    commit(sb.path(), "read only");
    sb.write("clusters/a/rg.yaml", rg("rg", &[]));
    let report = plan_head(&sb, 0, &[("a:ResourceGroup/rg", "takeover")]);
    let takeover = change(&report, "a", "rg");
    assert_eq!(takeover["warning"], true);
    assert_eq!(takeover["destructive"], false);
    assert_eq!(takeover["policy"]["base"], "skip");
    assert_eq!(takeover["policy"]["head"], "manage");
}

#[test]
fn removing_detach_on_delete_from_a_critical_kind_unprotects_it() {
    let sb = repo(ONE_CLUSTER);
    sb.write("clusters/a/rg.yaml", rg("rg", &[DETACH]));
    sb.write("clusters/a/db.yaml", child(SERVER, "db", "rg", &[DETACH]));
    sb.write("clusters/a/ip.yaml", child(IP, "ip", "rg", &[DETACH]));
    commit(sb.path(), "protected");
    sb.write("clusters/a/rg.yaml", rg("rg", &[]));
    sb.write("clusters/a/db.yaml", child(SERVER, "db", "rg", &[]));
    sb.write("clusters/a/ip.yaml", child(IP, "ip", "rg", &[]));
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 0, "{report:#}");
    // A public IP is no critical kind: only a policy update.
    assert_eq!(
        classes(&report),
        expect(&[
            ("a:FlexibleServer/db", "unprotect"),
            ("a:ResourceGroup/rg", "unprotect"),
            ("a:PublicIPAddress/ip", "update"),
        ])
    );
    assert_eq!(change(&report, "a", "db")["warning"], true);
}

#[test]
fn a_spec_change_is_an_update_naming_its_fields() {
    let sb = repo(ONE_CLUSTER);
    sb.write("clusters/a/rg.yaml", rg("rg", &[]));
    commit(sb.path(), "westeurope");
    sb.write(
        "clusters/a/rg.yaml",
        object(RG, "app", "rg", &[], "location: northeurope"),
    );
    let report = plan_head(&sb, 0, &[("a:ResourceGroup/rg", "update")]);
    let update = change(&report, "a", "rg");
    assert_eq!(update["fields"], serde_json::json!(["spec.location"]));
    assert!(
        update["cause"].as_str().unwrap().contains("spec.location"),
        "{update:#}"
    );

    // The same text, nothing to do.
    sb.write("clusters/a/rg.yaml", rg("rg", &[]));
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 0);
    assert_eq!(classes(&report), expect(&[]));
}

// ---------------------------------------------------------------------------------------------
// 10-11. Creations and failover

#[test]
fn a_new_object_is_a_create_noting_another_cluster_with_the_same_resource() {
    let sb = repo(TWO_CLUSTERS);
    sb.write("clusters/b/shared.yaml", rg("shared-rg", &[]));
    commit(sb.path(), "b manages shared-rg");
    sb.write("clusters/a/own.yaml", rg("own-rg", &[]));
    sb.write("clusters/a/shared.yaml", rg("shared-rg", &[]));
    let report = plan_head(
        &sb,
        0,
        &[
            ("a:ResourceGroup/own-rg", "create"),
            ("a:ResourceGroup/shared-rg", "create"),
        ],
    );
    let own = change(&report, "a", "own-rg");
    assert_eq!(own["notes"], serde_json::json!([]));
    assert_eq!(own["policy"]["base"], Value::Null);
    assert_eq!(own["policy"]["head"], "manage");
    assert_eq!(location(own), "clusters/a/own.yaml:4 (head)");
    let shared = change(&report, "a", "shared-rg");
    let notes = shared["notes"].to_string();
    assert!(
        notes.contains("cluster `b`") && notes.contains("clusters/b/shared.yaml"),
        "the create names the other cluster's object: {notes}"
    );
}

#[test]
fn a_failover_is_takeover_and_update_only() {
    let config = |a: &str, b: &str| {
        format!(
            "clusters:\n  a: {{role: {a}, paths: [\"clusters/a/**\"]}}\n  b: {{role: {b}, paths: [\"clusters/b/**\"]}}\n"
        )
    };
    let sb = repo(&config("active", "passive"));
    sb.write("clusters/a/app.yaml", app_in(&[]));
    sb.write("clusters/b/app.yaml", app_in(&[SKIP]));
    commit(sb.path(), "a active, b passive");

    sb.write(".asoguard.yaml", config("passive", "active"));
    sb.write("clusters/a/app.yaml", app_in(&[SKIP]));
    sb.write("clusters/b/app.yaml", app_in(&[]));
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["destructive"], false);
    assert_eq!(
        classes(&report),
        expect(&[
            ("a:ResourceGroup/app-rg", "update"),
            ("a:Vault/app-kv", "update"),
            ("b:ResourceGroup/app-rg", "takeover"),
            ("b:Vault/app-kv", "takeover"),
        ])
    );

    // Committed, the same plan between commits.
    commit(sb.path(), "failover to b");
    let (code, again) = plan_last_commit(&sb);
    assert_eq!(code, 0);
    assert_eq!(classes(&again), classes(&report));
}

// ---------------------------------------------------------------------------------------------
// 12. Exit codes and errors

/// A committed repository whose working tree deletes a managed resource group.
fn destructive_change() -> Sandbox {
    let sb = repo(ONE_CLUSTER);
    sb.write("clusters/a/rg.yaml", rg("rg", &[]));
    sb.write("clusters/a/kept.yaml", rg("kept-rg", &[]));
    commit(sb.path(), "start");
    remove(&sb, "clusters/a/rg.yaml");
    sb
}

#[test]
fn exit_zero_reports_a_destructive_plan_and_exits_0() {
    let sb = destructive_change();
    let (code, stdout, stderr) = sb.run(&["plan", "--base", "HEAD", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(json(&stdout)["destructive"], true);
    let (code, stdout, stderr) =
        sb.run(&["plan", "--base", "HEAD", "--format", "json", "--exit-zero"]);
    assert_eq!(code, 0, "{stderr}");
    let report = json(&stdout);
    assert_eq!(report["destructive"], true);
    assert_eq!(
        classes(&report),
        expect(&[("a:ResourceGroup/rg", "delete")])
    );
    // The text report too: exit 1, and the class in capitals.
    let (code, stdout, _) = sb.run(&["plan", "--base", "HEAD"]);
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("Plan: 0 to create, 0 to update, 1 to DELETE"),
        "{stdout}"
    );
    assert!(stdout.contains("DELETE"), "{stdout}");
    assert!(stdout.contains("cluster `a`:"), "{stdout}");
    assert!(
        stdout.contains("at clusters/a/rg.yaml:4 (in the base)"),
        "{stdout}"
    );
}

#[test]
fn the_first_commit_plans_against_an_empty_base() {
    // A pre-commit hook runs `plan --base HEAD` before the repository has any commit.
    let sb = repo(ONE_CLUSTER);
    sb.write("clusters/a/rg.yaml", rg("rg", &[]));
    git(sb.path(), &["add", "-A"]);
    plan_head(&sb, 0, &[("a:ResourceGroup/rg", "create")]);
}

#[test]
fn a_base_that_is_not_there_exits_2_saying_how_to_fetch_it() {
    let sb = destructive_change();
    let (code, stdout, stderr) = sb.run(&["plan", "--base", "nosuchbranch"]);
    assert_eq!(code, 2, "stdout:\n{stdout}");
    assert!(stderr.contains("git fetch"), "{stderr}");
    assert!(stderr.contains("nosuchbranch"), "{stderr}");
    let (code, _, stderr) = sb.run(&["plan", "--base", "HEAD", "--head", "nosuchbranch"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("git fetch"), "{stderr}");
}

#[test]
fn a_shallow_clone_without_the_base_exits_2_saying_it_is_shallow() {
    let origin = destructive_change();
    commit(origin.path(), "second");
    let clone = tempfile::tempdir().expect("temp dir");
    let url = format!("file://{}", origin.path().display());
    git(
        clone.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let shallow = clone.path().join("shallow");
    let mut cmd = origin.cmd();
    cmd.current_dir(&shallow)
        .args(["plan", "--base", "HEAD~1", "--head", "HEAD"]);
    let (code, stdout, stderr) = crate::support::run(&mut cmd);
    assert_eq!(code, 2, "stdout:\n{stdout}");
    assert!(stderr.contains("shallow"), "{stderr}");
    assert!(stderr.contains("git fetch"), "{stderr}");
}

#[test]
fn a_plan_outside_a_git_repository_exits_2() {
    // The sandbox's `.git` is an empty directory: no repository, and git looks no higher.
    let sb = Sandbox::new();
    sb.write(".asoguard.yaml", ONE_CLUSTER);
    sb.write("clusters/a/rg.yaml", rg("rg", &[]));
    let ceiling = sb.path().parent().expect("a parent").to_path_buf();
    let mut cmd = sb.cmd();
    cmd.env("GIT_CEILING_DIRECTORIES", &ceiling)
        .args(["plan", "--base", "HEAD"]);
    let (code, stdout, stderr) = crate::support::run(&mut cmd);
    assert_eq!(code, 2, "stdout:\n{stdout}");
    assert!(stderr.contains("not in a git repository"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_path_through_a_symlink_plans_as_the_real_path() {
    let sb = destructive_change();
    let links = tempfile::tempdir().expect("temp dir");
    let link = links.path().join("repo");
    std::os::unix::fs::symlink(sb.path(), &link).expect("symlink");
    let clusters = link.join("clusters");
    let (code, report) = plan(&sb, &["--base", "HEAD", clusters.to_str().expect("UTF-8")]);
    assert_eq!(
        classes(&report),
        expect(&[("a:ResourceGroup/rg", "delete")])
    );
    assert_eq!(code, 1);
}

// ---------------------------------------------------------------------------------------------
// 13. Report formats

/// The move in one change: two replaces in `clusters/b/app.yaml`, a create elsewhere.
fn move_with_a_create() -> Sandbox {
    let sb = move_start();
    remove(&sb, "clusters/a/app.yaml");
    sb.write("clusters/b/app.yaml", app_in(&[]));
    sb.write("clusters/b/new.yaml", rg("new-rg", &[]));
    sb
}

#[test]
fn sarif_has_one_aso200_result_per_destructive_change_in_the_head_file() {
    let sb = move_with_a_create();
    let (code, stdout, stderr) = sb.run(&["plan", "--base", "HEAD", "--format", "sarif"]);
    assert_eq!(code, 1, "{stderr}");
    let log = json(&stdout);
    if let Some(schema) = crate::sarif::sarif_schema() {
        crate::sarif::assert_valid(&crate::sarif::validator(&schema), &log, "a plan");
    }
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "{log:#}");
    let mut lines = Vec::new();
    for result in results {
        assert_eq!(result["ruleId"], "ASO200", "{result:#}");
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(
            location["artifactLocation"]["uri"], "clusters/b/app.yaml",
            "{result:#}"
        );
        lines.push(location["region"]["startLine"].as_u64().expect("a line"));
        let message = result["message"]["text"].as_str().expect("a message");
        assert!(message.starts_with("REPLACE "), "{message}");
    }
    lines.sort();
    // The resource group's name, then the vault's (after the `---` of line 8).
    assert_eq!(lines, [4, 12], "{log:#}");
}

#[test]
fn github_format_prints_an_error_per_destructive_change() {
    let sb = move_with_a_create();
    let (code, stdout, stderr) = sb.run(&["plan", "--base", "HEAD", "--format", "github"]);
    assert_eq!(code, 1, "{stderr}");
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 2, "{stdout}");
    for error in errors {
        assert!(error.contains("clusters/b/app.yaml,line="), "{error}");
        assert!(
            error.contains("title=ASO200 [destructive-change]"),
            "{error}"
        );
        assert!(error.contains("::REPLACE "), "{error}");
    }
    assert!(
        !stdout.contains("new-rg"),
        "a create is no annotation: {stdout}"
    );
}

#[test]
fn github_format_names_files_as_check_does() {
    let sb = move_with_a_create();
    let (_, stdout, _) = sb.run(&["plan", "--base", "HEAD", "--format", "github"]);
    for error in stdout.lines().filter(|l| l.starts_with("::error ")) {
        assert!(
            error.starts_with("::error file=clusters/b/app.yaml,"),
            "{error}"
        );
    }
    let (_, stdout, _) = sb.run(&["plan", "--base", "HEAD", "--format", "azure"]);
    assert!(
        stdout.contains("sourcepath=clusters/b/app.yaml;"),
        "{stdout}"
    );
}

#[test]
fn markdown_lists_destructive_changes_before_the_others() {
    let sb = move_with_a_create();
    let (code, stdout, stderr) = sb.run(&["plan", "--base", "HEAD", "--format", "markdown"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.starts_with("## asoguard plan"), "{stdout}");
    let details = stdout.find("<details>").expect("a <details> block");
    let replace = stdout.find("| replace |").expect("a replace row");
    let create = stdout.find("| create |").expect("a create row");
    assert!(replace < details && details < create, "{stdout}");
    assert!(stdout.contains("2 changes destructive"), "{stdout}");

    // Nothing destructive: said so, exit 0.
    let sb = repo(ONE_CLUSTER);
    commit(sb.path(), "empty");
    sb.write("clusters/a/rg.yaml", rg("rg", &[]));
    let (code, stdout, _) = sb.run(&["plan", "--base", "HEAD", "--format", "markdown"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("No destructive change"), "{stdout}");
}

#[test]
fn two_formats_with_outputs_write_both_files() {
    let sb = move_with_a_create();
    let (code, stdout, stderr) = sb.run(&[
        "plan",
        "--base",
        "HEAD",
        "--format",
        "json",
        "-o",
        "plan.json",
        "--format",
        "markdown",
        "-o",
        "plan.md",
    ]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let report = json(&sb.read_string("plan.json"));
    assert_eq!(report["summary"]["replace"], 2);
    assert_eq!(report["summary"]["create"], 1);
    assert!(sb.read_string("plan.md").starts_with("## asoguard plan"));
}

// ---------------------------------------------------------------------------------------------
// 14-15. Paths and overlays

#[test]
fn paths_restrict_the_report() {
    let sb = repo(TWO_CLUSTERS);
    sb.write("clusters/a/rg.yaml", rg("a-rg", &[]));
    sb.write("clusters/b/rg.yaml", rg("b-rg", &[]));
    commit(sb.path(), "start");
    sb.write("clusters/a/new.yaml", rg("new-rg", &[]));
    remove(&sb, "clusters/b/rg.yaml");

    let (code, everything) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 1);
    assert_eq!(
        classes(&everything),
        expect(&[
            ("a:ResourceGroup/new-rg", "create"),
            ("b:ResourceGroup/b-rg", "delete"),
        ])
    );
    // Destructive changes come first, whatever their cluster.
    assert_eq!(everything["changes"][0]["class"], "delete");
    let (code, a) = plan(&sb, &["--base", "HEAD", "clusters/a"]);
    assert_eq!(code, 0, "the delete is in clusters/b: {a:#}");
    assert_eq!(classes(&a), expect(&[("a:ResourceGroup/new-rg", "create")]));
    let (code, b) = plan(&sb, &["--base", "HEAD", "clusters/b/rg.yaml"]);
    assert_eq!(code, 1, "{b:#}");
    assert_eq!(classes(&b), expect(&[("b:ResourceGroup/b-rg", "delete")]));
    assert_eq!(b["summary"]["create"], 0);
}

#[test]
fn dropping_an_object_from_an_overlay_is_a_delete_at_the_overlay() {
    let sb = repo(ONE_CLUSTER);
    sb.write("clusters/a/app.yaml", flux("app", "./overlays/prod", true));
    sb.write("base/kustomization.yaml", "resources:\n  - rg.yaml\n");
    sb.write("base/rg.yaml", rg("rg", &[DETACH]));
    sb.write(
        "overlays/prod/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\n  - ip.yaml\n",
    );
    sb.write("overlays/prod/ip.yaml", child(IP, "ip", "rg", &[]));
    commit(sb.path(), "overlay with a public IP");

    sb.write(
        "overlays/prod/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\n",
    );
    let report = plan_head(&sb, 1, &[("a:PublicIPAddress/ip", "delete")]);
    let delete = change(&report, "a", "ip");
    assert_eq!(
        location(delete),
        "overlays/prod/kustomization.yaml:3 (head)"
    );
    assert!(
        delete["cause"].as_str().unwrap().contains("prunes"),
        "{delete:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// Shapes real repositories have

#[test]
fn flux_kustomizations_of_the_same_name_in_two_clusters_are_told_apart() {
    // Every cluster bootstrapped by Flux has its own `flux-system` and often an `apps`.
    let sb = repo(TWO_CLUSTERS);
    sb.write(
        "clusters/a/apps.yaml",
        flux("apps", "./clusters/a/apps", true),
    );
    sb.write(
        "clusters/b/apps.yaml",
        flux("apps", "./clusters/b/apps", false),
    );
    sb.write("clusters/a/apps/rg.yaml", rg("rg-a", &[]));
    sb.write("clusters/b/apps/rg.yaml", rg("rg-b", &[]));
    commit(sb.path(), "two clusters");
    remove(&sb, "clusters/a/apps/rg.yaml");
    remove(&sb, "clusters/b/apps/rg.yaml");
    plan_head(
        &sb,
        1,
        &[
            ("a:ResourceGroup/rg-a", "delete"),
            ("b:ResourceGroup/rg-b", "orphan"),
        ],
    );
}

#[test]
fn an_object_named_as_its_owner_is_not_its_own_owner() {
    let sb = flux_tree(true, &[DETACH], [&[], &[]]);
    sb.write("infra/server.yaml", child(SERVER, "rg", "rg", &[]));
    commit(sb.path(), "a server named as its resource group");
    remove(&sb, "infra/rg.yaml");
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 1, "{report:#}");
    // Kubernetes deletes the server with its owner; its own `manage` deletes it in Azure.
    let server = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "FlexibleServer")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(server["class"], "delete", "{server:#}");
}

#[test]
fn moving_a_file_out_of_its_appliers_path_removes_it() {
    let sb = flux_tree(true, &[], [&[DETACH], &[DETACH]]);
    // Still under the cluster's paths, and still in the repository, but Flux no longer renders it.
    git(sb.path(), &["mv", "infra/rg.yaml", "archive-rg.yaml"]);
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(change(&report, "a", "rg")["class"], "delete", "{report:#}");
}

#[test]
fn paths_keep_a_removal_written_under_them() {
    let sb = flux_tree(true, &[], [&[DETACH], &[DETACH]]);
    remove(&sb, "infra/rg.yaml");
    let (code, report) = plan(&sb, &["--base", "HEAD", "infra"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(change(&report, "a", "rg")["class"], "delete", "{report:#}");
}

/// A Flux Kustomization applying `infra/`: Namespace `app` (with `annotations`) and a resource
/// group in it. Committed.
fn namespace_tree(annotations: &str) -> Sandbox {
    let sb = repo(ONE_CLUSTER);
    sb.write("clusters/a/infra.yaml", flux("infra", "./infra", true));
    sb.write(
        "infra/namespace.yaml",
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n{annotations}"),
    );
    sb.write("infra/rg.yaml", rg("rg", &[]));
    commit(sb.path(), "a namespace and a resource group");
    sb
}

#[test]
fn deleting_a_namespace_deletes_what_is_in_it() {
    let sb = namespace_tree("");
    remove(&sb, "infra/namespace.yaml");
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 1, "{report:#}");
    change_with(&report, "a", "rg", "delete", "Namespace `app`");
}

#[test]
fn a_namespace_policy_removed_with_the_object_protects_nothing() {
    let sb = namespace_tree(&format!("  annotations:\n    {DETACH}\n"));
    // The same change drops the Namespace's protection and the object: Flux applies the
    // Namespace first, and ASO reads its policy when it handles the deletion.
    sb.write(
        "infra/namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n",
    );
    remove(&sb, "infra/rg.yaml");
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(change(&report, "a", "rg")["class"], "delete", "{report:#}");
}

#[test]
fn garbage_collection_exemptions_are_honoured() {
    // Flux: `reconcile: disabled` and `ssa: Ignore` exempt an object from pruning.
    for annotation in [
        "kustomize.toolkit.fluxcd.io/reconcile: disabled",
        "kustomize.toolkit.fluxcd.io/ssa: Ignore",
    ] {
        let sb = flux_tree(true, &[annotation], [&[DETACH], &[DETACH]]);
        remove(&sb, "infra/rg.yaml");
        let (code, report) = plan(&sb, &["--base", "HEAD"]);
        assert_eq!(code, 0, "{annotation}: {report:#}");
        assert_eq!(change(&report, "a", "rg")["class"], "orphan", "{report:#}");
    }
    // Flux: a Kustomization deleted with `deletionPolicy: Orphan` leaves what it applied.
    let sb = flux_tree(true, &[], [&[DETACH], &[DETACH]]);
    sb.write(
        "clusters/a/infra.yaml",
        flux("infra", "./infra", true).replace(
            "  prune: true\n",
            "  prune: true\n  deletionPolicy: Orphan\n",
        ),
    );
    commit(sb.path(), "orphan on deletion");
    remove(&sb, "clusters/a/infra.yaml");
    fs::remove_dir_all(sb.path().join("infra")).unwrap();
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(change(&report, "a", "rg")["class"], "orphan", "{report:#}");
    // ArgoCD: `Delete=false` keeps an object when its Application is deleted.
    let sb = argo_tree(true, true);
    sb.write(
        "infra/managed.yaml",
        rg(
            "managed-rg",
            &["argocd.argoproj.io/sync-options: Delete=false"],
        ),
    );
    commit(sb.path(), "kept on deletion");
    remove_application(&sb);
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        change(&report, "a", "managed-rg")["class"],
        "orphan",
        "{report:#}"
    );
}

#[test]
fn an_application_removed_from_git_stays_when_what_applies_it_does_not_prune() {
    // App of apps: the root applies `apps/`, without automated prune; the child applies
    // `infra/` with the resources finalizer.
    const EVERYWHERE: &str = "clusters:\n  a: {role: active, paths: [\"**\"]}\n";
    let sb = repo(EVERYWHERE);
    sb.write("clusters/a/root.yaml", argo("root", "apps", false, false));
    sb.write("apps/infra.yaml", argo("infra", "infra", true, true));
    sb.write("infra/rg.yaml", rg("rg", &[]));
    commit(sb.path(), "app of apps");
    remove(&sb, "apps/infra.yaml");
    plan_head(&sb, 0, &[]);
    // With a pruning root, the child Application is deleted, and its finalizer deletes the
    // resource group.
    let sb = repo(EVERYWHERE);
    sb.write("clusters/a/root.yaml", argo("root", "apps", true, false));
    sb.write("apps/infra.yaml", argo("infra", "infra", true, true));
    sb.write("infra/rg.yaml", rg("rg", &[]));
    commit(sb.path(), "app of apps, pruning");
    remove(&sb, "apps/infra.yaml");
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(change(&report, "a", "rg")["class"], "delete", "{report:#}");
}

#[test]
fn a_head_that_does_not_parse_stops_the_plan() {
    let sb = flux_tree(true, &[], [&[DETACH], &[DETACH]]);
    sb.write("infra/rg.yaml", "apiVersion: v1\nkind: [unclosed\n");
    let (code, _, stderr) = sb.run(&["plan", "--base", "HEAD"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("infra/rg.yaml:") && stderr.contains("does not parse"),
        "{stderr}"
    );
}

#[test]
fn a_changed_helm_template_is_said_not_to_be_planned() {
    let sb = flux_tree(true, &[], [&[DETACH], &[DETACH]]);
    sb.write(
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    sb.write(
        "charts/web/templates/rg.yaml",
        "kind: ResourceGroup\nmetadata:\n  name: {{ .Values.name }}\n",
    );
    let (code, stdout, stderr) = sb.run(&["plan", "--base", "HEAD", "--format", "markdown"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Helm or Go template"), "{stderr}");
    assert!(stdout.contains("**Not planned:**"), "{stdout}");
}

#[test]
fn a_new_read_only_object_is_not_called_a_second_writer() {
    let sb = repo(TWO_CLUSTERS);
    sb.write("clusters/a/rg.yaml", rg("rg", &[]));
    commit(sb.path(), "a manages it");
    sb.write("clusters/b/rg.yaml", rg("rg", &[SKIP]));
    let (_, report) = plan(&sb, &["--base", "HEAD"]);
    let notes = change(&report, "b", "rg")["notes"].to_string();
    assert!(notes.contains("is managed by"), "{notes}");
    assert!(!notes.contains("active-active"), "{notes}");
}

#[test]
fn an_application_set_applies_each_clusters_directory_in_that_cluster() {
    let sb = repo(
        "clusters:\n  a: {role: active, paths: [\"infra/a/**\"]}\n  b: {role: active, paths: [\"infra/b/**\"]}\n",
    );
    sb.write(
        "argocd/appset.yaml",
        "\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: infra
  namespace: argocd
spec:
  generators:
    - list:
        elements:
          - {cluster: a, path: infra/a}
          - {cluster: b, path: infra/b}
  template:
    metadata:
      name: 'infra-{{cluster}}'
    spec:
      project: default
      source:
        repoURL: https://git.example.com/platform.git
        path: '{{path}}'
      destination:
        name: '{{cluster}}'
        namespace: app
      syncPolicy:
        automated: {prune: true}
",
    );
    sb.write("infra/a/rg.yaml", rg("rg", &[]));
    sb.write("infra/b/rg.yaml", rg("rg", &[]));
    commit(sb.path(), "one resource group per cluster");
    remove(&sb, "infra/b/rg.yaml");
    plan_head(&sb, 1, &[("b:ResourceGroup/rg", "delete")]);
}

#[test]
fn flux_paths_written_from_the_top_of_the_repository_resolve_with_the_config_below_it() {
    // `.asoguard.yaml` in `gitops/`, Flux paths written from the git repository's top, as Flux
    // reads them.
    let sb = repo("");
    sb.write(
        "gitops/.asoguard.yaml",
        "clusters:\n  a: {role: active, paths: [\"clusters/a/**\"]}\n",
    );
    sb.write(
        "gitops/clusters/a/infra.yaml",
        flux("infra", "./gitops/clusters/a/infra", true),
    );
    sb.write("gitops/clusters/a/infra/rg.yaml", rg("rg", &[]));
    commit(sb.path(), "a config below the top");
    remove(&sb, "gitops/clusters/a/infra/rg.yaml");
    let (code, report) = plan(&sb, &["--base", "HEAD", "gitops"]);
    assert_eq!(code, 1, "{report:#}");
    change_with(&report, "a", "rg", "delete", "Flux Kustomization `infra`");
}

#[test]
fn an_owner_is_looked_for_in_the_childs_api_group_first() {
    // A resource group and a server share a name; the database is the server's.
    let sb = flux_tree(true, &[], [&[DETACH], &[DETACH]]);
    sb.write(
        "infra/sql.yaml",
        docs(&[
            child(
                ("sql.azure.com/v1api20211101", "Server"),
                "rg",
                "rg",
                &[DETACH],
            ),
            child(
                ("sql.azure.com/v1api20211101", "ServersDatabase"),
                "db",
                "rg",
                &[],
            ),
        ]),
    );
    commit(sb.path(), "a server named as its resource group");
    sb.write(
        "infra/sql.yaml",
        child(
            ("sql.azure.com/v1api20211101", "ServersDatabase"),
            "db",
            "rg",
            &[],
        ),
    );
    let (code, report) = plan(&sb, &["--base", "HEAD"]);
    assert_eq!(code, 1, "{report:#}");
    // The server is detached; Kubernetes deletes its database, whose `manage` deletes it.
    change_with(&report, "a", "db", "delete", "Server `app/rg`");
}

#[test]
fn a_name_from_a_variable_the_repository_does_not_resolve_is_never_a_rename() {
    let sb = repo(ONE_CLUSTER);
    let with = |vars: &str| {
        flux("infra", "./infra", true)
            .replace("  sourceRef:", &format!("  postBuild:\n{vars}  sourceRef:"))
    };
    sb.write(
        "clusters/a/infra.yaml",
        with("    substitute:\n      rgname: prod-rg\n"),
    );
    sb.write(
        "infra/rg.yaml",
        object(
            RG,
            "app",
            "${rgname}",
            &[],
            "azureName: fixed-rg\nlocation: westeurope",
        ),
    );
    commit(sb.path(), "a name from a variable");
    // The value moves to a ConfigMap that only the cluster holds.
    sb.write(
        "clusters/a/infra.yaml",
        with("    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-vars\n"),
    );
    plan_head(&sb, 0, &[("a:ResourceGroup/${rgname}", "update")]);
}

#[test]
fn an_empty_azure_name_is_the_objects_name() {
    let sb = repo(ONE_CLUSTER);
    sb.write(
        "clusters/a/rg.yaml",
        object(
            RG,
            "app",
            "rg",
            &[],
            "azureName: \"\"\nlocation: westeurope",
        ),
    );
    commit(sb.path(), "an empty azureName");
    sb.write("clusters/a/rg.yaml", rg("rg", &[]));
    plan_head(&sb, 0, &[("a:ResourceGroup/rg", "update")]);
}

#[test]
fn an_owner_arm_id_changed_is_immutable() {
    let arm = |rg: &str| {
        format!(
            "location: westeurope\nowner:\n  armId: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{rg}"
        )
    };
    let sb = repo(ONE_CLUSTER);
    sb.write(
        "clusters/a/ip.yaml",
        object(IP, "app", "ip", &[], &arm("one")),
    );
    commit(sb.path(), "owned by ARM id");
    sb.write(
        "clusters/a/ip.yaml",
        object(IP, "app", "ip", &[], &arm("two")),
    );
    plan_head(&sb, 1, &[("a:PublicIPAddress/ip", "immutable")]);
}
