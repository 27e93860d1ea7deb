//! `--fix` ends green, and its safe fixes are truly safe, on generated GitOps repositories: a
//! shared base rendered by an active and a passive overlay through Flux Kustomizations, with
//! Namespaces, `commonAnnotations`, owners, grants, references and files no kustomization
//! lists. For each repository:
//!
//! - after `check --fix` with the default configuration, a second `check` reports no finding
//!   that has a safe fix, and no finding that was not there before the fix;
//! - no resource the repository applies went from `skip` to anything else (ASO would start
//!   writing to it), or from `skip` or `detach-on-delete` to `manage` (ASO would start deleting
//!   it), in any cluster.
//!
//! 64 cases by default, `PROPTEST_CASES=N` for more.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use asoguard_core::config::{self, Settings};
use asoguard_core::engine::{self, FixMode, RunOptions, RunReport, check_paths};
use asoguard_core::fix::Applicability;
use asoguard_core::index::inventory::Inventory;
use asoguard_core::manifest::Policy;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

use crate::cases;

/// ASO kinds: critical ones, others, a grant, one Azure cannot delete.
const KINDS: &[(&str, &str)] = &[
    ("resources.azure.com/v1api20200601", "ResourceGroup"),
    ("dbforpostgresql.azure.com/v1api20221201", "FlexibleServer"),
    ("keyvault.azure.com/v1api20230701", "Vault"),
    ("network.azure.com/v1api20201101", "PublicIPAddress"),
    (
        "managedidentity.azure.com/v1api20230131",
        "UserAssignedIdentity",
    ),
    (
        "managedidentity.azure.com/v1api20230131",
        "FederatedIdentityCredential",
    ),
    ("authorization.azure.com/v1api20220401", "RoleAssignment"),
    (
        "dbforpostgresql.azure.com/v1api20221201",
        "FlexibleServersConfiguration",
    ),
];

/// Own policy values, valid, mistyped, or none.
const POLICIES: &[Option<&str>] = &[
    None,
    None,
    Some("manage"),
    Some("skip"),
    Some("detach-on-delete"),
    Some("Skip"),
    Some("Detach-On-Delete"),
    Some("manged"),
];

const NAMES: &[&str] = &["rg", "db", "kv", "ip", "id", "fic", "grant", "conf"];

/// One ASO resource of the base.
#[derive(Clone, Debug)]
struct Resource {
    kind: usize,
    name: usize,
    owner: Option<usize>,
    policy: Option<&'static str>,
    local_config: bool,
    exports: bool,
}

fn resource() -> impl Strategy<Value = Resource> {
    (
        0..KINDS.len(),
        0..NAMES.len(),
        prop::option::of(0..NAMES.len()),
        prop::sample::select(POLICIES),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(kind, name, owner, policy, local_config, exports)| Resource {
                kind,
                name,
                owner: owner.filter(|o| *o != name),
                policy,
                local_config,
                exports,
            },
        )
}

impl Resource {
    fn text(&self) -> String {
        let (api, kind) = KINDS[self.kind];
        let mut text = format!(
            "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {}\n",
            NAMES[self.name]
        );
        if self.policy.is_some() || self.local_config {
            text.push_str("  annotations:\n");
            if let Some(policy) = self.policy {
                text.push_str(&format!(
                    "    serviceoperator.azure.com/reconcile-policy: \"{policy}\"\n"
                ));
            }
            if self.local_config {
                text.push_str("    config.kubernetes.io/local-config: \"true\"\n");
            }
        }
        text.push_str("spec:\n  location: westeurope\n");
        if let Some(owner) = self.owner {
            text.push_str(&format!("  owner:\n    name: {}\n", NAMES[owner]));
        }
        if self.exports {
            text.push_str(
                "  operatorSpec:\n    configMaps:\n      clientId: {name: ids, key: clientId}\n",
            );
        }
        text
    }
}

/// A generated repository.
#[derive(Clone, Debug)]
struct Repo {
    /// Files of the base, each one or two resources, and whether its kustomization lists it.
    base: Vec<(Vec<Resource>, bool)>,
    /// The base kustomization's `commonAnnotations` policy.
    base_common: Option<&'static str>,
    /// Each overlay's (prod, dr) `commonAnnotations` policy.
    overlay_common: [Option<&'static str>; 2],
    /// Each overlay's namespace.
    namespaces: [&'static str; 2],
    /// The Namespace objects' policies (prod, dr), when there is one.
    namespace_policy: [Option<Option<&'static str>>; 2],
    /// Each Flux Kustomization's `commonMetadata` policy.
    flux_common: [Option<&'static str>; 2],
}

fn common() -> impl Strategy<Value = Option<&'static str>> {
    prop::sample::select(vec![
        None,
        None,
        Some("skip"),
        Some("detach-on-delete"),
        Some("manage"),
    ])
}

fn repo() -> impl Strategy<Value = Repo> {
    (
        prop::collection::vec(
            (
                prop::collection::vec(resource(), 1..3),
                prop::bool::weighted(0.85),
            ),
            1..5,
        ),
        common(),
        [common(), common()],
        [
            prop::sample::select(vec!["shop", "prod"]),
            prop::sample::select(vec!["shop", "dr"]),
        ],
        [prop::option::of(common()), prop::option::of(common())],
        [common(), common()],
    )
        .prop_map(
            |(base, base_common, overlay_common, namespaces, namespace_policy, flux_common)| Repo {
                base,
                base_common,
                overlay_common,
                namespaces,
                namespace_policy,
                flux_common,
            },
        )
}

fn common_annotations(policy: Option<&str>) -> String {
    policy.map_or_else(String::new, |p| {
        format!("commonAnnotations:\n  serviceoperator.azure.com/reconcile-policy: {p}\n")
    })
}

fn write_repo(repo: &Repo) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    };
    fs::create_dir(root.join(".git")).expect(".git");
    write(
        ".asoguard.yaml",
        "clusters:\n  prod: {paths: [\"overlays/prod/**\"]}\n  dr: {paths: [\"overlays/dr/**\"], role: passive}\n",
    );
    let mut listed = String::new();
    for (i, (resources, is_listed)) in repo.base.iter().enumerate() {
        let texts: Vec<String> = resources.iter().map(Resource::text).collect();
        write(&format!("base/r{i}.yaml"), &texts.join("---\n"));
        if *is_listed {
            listed.push_str(&format!("  - r{i}.yaml\n"));
        } else {
            listed.push_str(&format!("  # - r{i}.yaml\n"));
        }
    }
    write(
        "base/kustomization.yaml",
        &format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n{}resources:\n{listed}",
            common_annotations(repo.base_common)
        ),
    );
    for (i, cluster) in ["prod", "dr"].into_iter().enumerate() {
        let namespace = repo.namespaces[i];
        write(
            &format!("overlays/{cluster}/kustomization.yaml"),
            &format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {namespace}\n{}resources:\n  - ../../base\n  - namespace.yaml\n",
                common_annotations(repo.overlay_common[i])
            ),
        );
        let mut ns = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n");
        if let Some(Some(policy)) = repo.namespace_policy[i] {
            ns.push_str(&format!(
                "  annotations:\n    serviceoperator.azure.com/reconcile-policy: {policy}\n"
            ));
        }
        write(&format!("overlays/{cluster}/namespace.yaml"), &ns);
        let common = repo.flux_common[i].map_or_else(String::new, |p| {
            format!(
                "  commonMetadata:\n    annotations:\n      serviceoperator.azure.com/reconcile-policy: {p}\n"
            )
        });
        write(
            &format!("flux/{cluster}.yaml"),
            &format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {cluster}\n  namespace: flux-system\nspec:\n  path: ./overlays/{cluster}\n  prune: true\n{common}"
            ),
        );
    }
    dir
}

fn settings(root: &Path) -> Settings {
    config::load(None, root).expect("settings")
}

/// A finding, as the same finding is recognised after fixes moved its lines: rule, file and
/// object.
type Key = (String, String, Option<String>, Option<String>);

fn keys(report: &RunReport) -> BTreeSet<Key> {
    report
        .diagnostics()
        .map(|(file, d)| {
            (
                d.rule.code().to_string(),
                file.path.display().to_string(),
                d.object.as_ref().and_then(|o| o.kind.clone()),
                d.object.as_ref().and_then(|o| o.name.clone()),
            )
        })
        .collect()
}

/// An applied resource: cluster, applier, kind, file and name.
type Applied = (Option<String>, String, String, String, Option<String>);

/// Every applied resource's effective policy.
fn policies(root: &Path) -> BTreeMap<Applied, Policy> {
    let settings = settings(root);
    let (index, _) = engine::index_paths(&[root.to_path_buf()], &settings);
    Inventory::of(&index, &settings)
        .entries
        .into_iter()
        .filter(|e| e.aso)
        .map(|e| {
            (
                (
                    e.cluster,
                    e.applier_path.display().to_string(),
                    e.kind,
                    e.written_at.path.display().to_string(),
                    e.name,
                ),
                e.policy,
            )
        })
        .collect()
}

fn run(root: &Path, fix: FixMode) -> RunReport {
    let options = RunOptions {
        fix,
        ..RunOptions::default()
    };
    check_paths(&[root.to_path_buf()], &settings(root), options)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn fix_ends_green_and_never_starts_writes_or_deletes(repo in repo()) {
        let dir = write_repo(&repo);
        let root = dir.path();
        let before = run(root, FixMode::Off);
        let policies_before = policies(root);
        let fixed = run(root, FixMode::Write);
        prop_assert!(
            fixed.files.iter().all(|f| f.notes.iter().all(|n| n.kind != asoguard_core::note::NoteKind::Fix)),
            "the fix loop failed"
        );
        let after = run(root, FixMode::Off);
        for (file, d) in after.diagnostics() {
            prop_assert!(
                d.fix.as_ref().is_none_or(|f| f.applicability != Applicability::Safe),
                "{}: {} still has a safe fix after --fix: {}",
                file.path.display(),
                d.rule.code(),
                d.message
            );
        }
        let added: BTreeSet<Key> = keys(&after).difference(&keys(&before)).cloned().collect();
        prop_assert!(added.is_empty(), "--fix created findings: {:?}", added);
        for (key, after_policy) in policies(root) {
            let Some(before_policy) = policies_before.get(&key) else { continue };
            let starts_writes = *before_policy == Policy::Skip && after_policy != Policy::Skip;
            let starts_deletes = *before_policy != Policy::Manage && after_policy == Policy::Manage;
            prop_assert!(
                !starts_writes && !starts_deletes,
                "a safe fix changed {:?} from {} to {}",
                key,
                before_policy.as_str(),
                after_policy.as_str()
            );
        }
    }
}
