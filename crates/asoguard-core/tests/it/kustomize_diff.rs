//! A differential test against real kustomize: for every kustomization directory under
//! `fixtures/` (rule, repository, transform and demo fixtures, and the renderer's own cases in
//! `fixtures/kustomize/`), asoguard's rendering of that directory ([`Index::kustomize_build`])
//! is compared with `kubectl kustomize <dir>`:
//!
//! - which objects are emitted, by API group, kind, namespace and name;
//! - each one's `serviceoperator.azure.com/reconcile-policy` and `argocd.argoproj.io/sync-options`
//!   annotations (an empty value counts as unset, as ASO and asoguard read it);
//! - whether the build is refused: where kubectl fails (load restrictions, a missing
//!   `replacements` field), asoguard must report the same refusal, a `build-fails` note.
//!
//! **What is compared.** asoguard keeps facts only of the documents its prefilter
//! (`relevance.rs`) finds relevant, so objects such as ConfigMaps or Deployments are not in its
//! rendering. The comparison is made on the objects whose documents are relevant *whatever
//! their content*, because their apiVersion or kind holds a marker: ASO resources (every ASO
//! group ends in `.azure.com`; ASO v1's `azure.microsoft.com`), Kustomize, Flux and ArgoCD
//! objects, and Namespaces. Every ASO resource kustomize emits is therefore compared; the
//! others are counted and printed, never compared. (An irrelevant document can still change a
//! compared object: a JSON6902 patch file that replaces a whole annotations map names no
//! marker of its own. The prefilter keeps such files through the `/metadata/annotation`
//! marker, and `fixtures/kustomize/json6902` holds one.)
//!
//! kubectl is an oracle here, never a run-time dependency. When it is missing the test is
//! skipped with a printed reason, unless `CI=true`: then it fails, because CI (`.ci/run`)
//! installs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use asoguard_core::config::{self, Config, Settings};
use asoguard_core::index::Index;
use asoguard_core::manifest::{ARGOCD_SYNC_OPTIONS, Manifest, RECONCILE_POLICY};
use asoguard_core::yaml;
use asoguard_core::{catalog, engine, relevance};

/// Differences between asoguard and kustomize that are known limits of asoguard, documented in
/// `docs/architecture.md` ("Rendering without kustomize: known limits"): (kustomization
/// directory relative to `fixtures/`, the reason). Each must still differ, so the list never
/// outlives the limit.
const KNOWN: &[(&str, &str)] = &[];

/// How long one `kubectl kustomize` may take (none reaches the network: no fixture has a
/// remote base).
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(120);

fn fixtures_dir() -> PathBuf {
    config::normalize(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures"))
}

/// Whether kubectl runs; when it does not, whether the test may be skipped (it may not under
/// `CI=true`).
fn kubectl_available() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "`kubectl` is not installed, and CI=true: .ci/run must install it"
        );
        eprintln!(
            "skipped: `kubectl` is not installed, so asoguard's rendering is not compared with \
             kustomize's (install it: apt-get install kubectl)"
        );
    }
    ok
}

/// Every directory under `dir` holding a kustomization file, sorted.
fn kustomization_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() && !name.starts_with('.') {
            kustomization_dirs(&path, out);
        } else if matches!(
            name.as_ref(),
            "kustomization.yaml" | "kustomization.yml" | "Kustomization"
        ) {
            out.push(dir.to_path_buf());
        }
    }
}

/// One emitted object, as compared.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Object {
    group: String,
    kind: String,
    namespace: Option<String>,
    name: Option<String>,
    policy: Option<String>,
    sync_options: Option<String>,
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        write!(
            f,
            "{group} {} {}/{} policy={:?} sync-options={:?}",
            self.kind,
            self.namespace.as_deref().unwrap_or("-"),
            self.name.as_deref().unwrap_or("?"),
            self.policy,
            self.sync_options
        )
    }
}

/// Whether objects of this group and kind are compared: their documents are always relevant
/// to the prefilter, so asoguard keeps facts of every one of them.
fn compared(group: &str, kind: &str) -> bool {
    relevance::always_relevant(group, kind)
}

/// Every ASO group, ArgoCD, Flux and Kustomize object and Namespace is compared: nothing the
/// rules judge is left out of the comparison by the prefilter.
#[test]
fn every_object_the_rules_judge_is_compared() {
    for group in catalog::aso_groups() {
        assert!(compared(group, "Anything"), "{group}");
    }
    for (group, kind) in [
        ("azure.microsoft.com", "ResourceGroup"),
        ("kustomize.toolkit.fluxcd.io", "Kustomization"),
        ("argoproj.io", "Application"),
        ("argoproj.io", "ApplicationSet"),
        ("", "Namespace"),
    ] {
        assert!(compared(group, kind), "{group} {kind}");
    }
    assert!(!compared("", "ConfigMap"));
    assert!(!compared("apps", "Deployment"));
}

/// What one side makes of a directory: the compared objects, sorted, or the refusal.
#[derive(Debug)]
enum Outcome {
    Built(Vec<Object>),
    Refused(String),
}

/// `kubectl kustomize <dir>`, and the kinds it emitted that are not compared.
fn kubectl(dir: &Path, skipped: &mut BTreeMap<String, usize>) -> Outcome {
    let mut child = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    let started = Instant::now();
    // Output is small: the pipes never fill before it exits.
    while child.try_wait().expect("wait for kubectl").is_none() {
        if started.elapsed() > KUBECTL_TIMEOUT {
            let _ = child.kill();
            panic!("`kubectl kustomize {}` did not finish", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("kubectl's output");
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr
            .lines()
            .filter(|l| !l.starts_with("# Warning"))
            .collect::<Vec<_>>()
            .join(" ");
        return Outcome::Refused(reason);
    }
    let text = String::from_utf8(output.stdout).expect("kubectl writes UTF-8");
    let arena = yaml::Arena::new();
    let stream = yaml::parse(&arena, &text);
    assert!(
        stream.error.is_none(),
        "kubectl's output for {} parses",
        dir.display()
    );
    let mut objects = Vec::new();
    for root in stream.documents.iter().filter_map(|d| d.root.as_ref()) {
        let Some(manifest) = Manifest::from_root(root) else {
            continue;
        };
        let kind = manifest.kind.unwrap_or_default();
        if !compared(manifest.group(), kind) {
            *skipped.entry(kind.to_string()).or_default() += 1;
            continue;
        }
        let annotation = |key: &str| {
            manifest
                .annotations()
                .and_then(|a| a.get_str(key))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        objects.push(Object {
            group: manifest.group().to_string(),
            kind: kind.to_string(),
            namespace: manifest.namespace.map(str::to_string),
            name: manifest.name_str().map(str::to_string),
            policy: annotation(RECONCILE_POLICY),
            sync_options: annotation(ARGOCD_SYNC_OPTIONS),
        });
    }
    objects.sort();
    Outcome::Built(objects)
}

/// asoguard's rendering of the kustomization in `dir`.
fn asoguard(index: &mut Index, settings: &Settings, dir: &Path) -> Outcome {
    let file = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .find_map(|name| index.file_id(&dir.join(name)))
        .unwrap_or_else(|| panic!("{} is indexed", dir.display()));
    let build = index
        .kustomize_build(settings, file)
        .unwrap_or_else(|| panic!("{} is a kustomization", dir.display()));
    if let Some(note) = build.refused {
        return Outcome::Refused(note.message);
    }
    let mut objects: Vec<Object> = build
        .objects
        .iter()
        .map(|b| {
            let fact = &index.files[b.file].facts.objects[b.object];
            Object {
                group: fact.group.to_string(),
                kind: fact.kind.to_string(),
                namespace: b.namespace.as_deref().map(str::to_string),
                name: b.name.as_deref().map(str::to_string),
                policy: b.policy.as_ref().map(|(v, _)| v.to_string()),
                sync_options: b.sync_options.as_ref().map(|(v, _)| v.to_string()),
            }
        })
        .filter(|o| compared(&o.group, &o.kind))
        .collect();
    objects.sort();
    Outcome::Built(objects)
}

/// What asoguard's refusal must say for kubectl's reason, when kubectl's reason is one asoguard
/// knows: a refusal for another reason is a difference too.
fn expected_cause(kubectl_reason: &str) -> Option<&'static str> {
    [
        ("security; file", "load restrictions"),
        ("unable to find field", "`replacements` target"),
        (
            "no resource matches strategic merge patch",
            "strategic merge patch",
        ),
    ]
    .into_iter()
    .find(|(theirs, _)| kubectl_reason.contains(theirs))
    .map(|(_, ours)| ours)
}

/// The differences between kustomize's outcome and asoguard's, as lines (none when they agree).
fn differences(kustomize: &Outcome, ours: &Outcome) -> Vec<String> {
    match (kustomize, ours) {
        (Outcome::Refused(theirs), Outcome::Refused(ours)) => match expected_cause(theirs) {
            Some(cause) if !ours.contains(cause) => vec![format!(
                "both refuse, for different reasons: kustomize {theirs:?}, asoguard {ours:?}"
            )],
            _ => Vec::new(),
        },
        (Outcome::Refused(why), Outcome::Built(_)) => {
            vec![format!(
                "kustomize refuses to build it, asoguard builds it: {why}"
            )]
        }
        (Outcome::Built(_), Outcome::Refused(why)) => {
            vec![format!(
                "kustomize builds it, asoguard reports a refusal: {why}"
            )]
        }
        (Outcome::Built(theirs), Outcome::Built(ours)) => {
            let mut lines = Vec::new();
            for o in theirs.iter().filter(|o| !ours.contains(o)) {
                lines.push(format!("only kustomize: {o}"));
            }
            for o in ours.iter().filter(|o| !theirs.contains(o)) {
                lines.push(format!("only asoguard:  {o}"));
            }
            if lines.is_empty() && theirs != ours {
                lines.push(format!(
                    "the same objects, not as many times: kustomize {theirs:?}, asoguard {ours:?}"
                ));
            }
            lines
        }
    }
}

#[test]
fn asoguard_renders_every_fixture_kustomization_as_kustomize_does() {
    if !kubectl_available() {
        return;
    }
    let fixtures = fixtures_dir();
    let mut dirs = Vec::new();
    kustomization_dirs(&fixtures, &mut dirs);
    assert!(
        dirs.len() >= 30,
        "the fixtures hold kustomizations: found {}",
        dirs.len()
    );
    // One index of every fixture, rooted at `fixtures/`: kustomize knows no repository root,
    // so none is drawn closer (paths between fixture trees resolve as kustomize resolves them).
    let settings = Settings::resolve(Config::default(), fixtures.clone(), None).expect("settings");
    let (mut index, _) = engine::index_paths(std::slice::from_ref(&fixtures), &settings);

    let mut skipped = BTreeMap::new();
    let mut compared_objects = 0;
    let mut refusals = 0;
    let mut unexpected = Vec::new();
    let mut known_seen = Vec::new();
    for dir in &dirs {
        let label = dir
            .strip_prefix(&fixtures)
            .unwrap_or(dir)
            .display()
            .to_string();
        let theirs = kubectl(dir, &mut skipped);
        let ours = asoguard(&mut index, &settings, dir);
        match &theirs {
            Outcome::Built(objects) => compared_objects += objects.len(),
            Outcome::Refused(_) => refusals += 1,
        }
        let found = differences(&theirs, &ours);
        let known = KNOWN.iter().find(|(d, _)| *d == label);
        match (found.is_empty(), known) {
            (true, None) => {}
            (true, Some((_, why))) => unexpected.push(format!(
                "{label}: listed in KNOWN ({why}) but asoguard now renders it as kustomize \
                 does: remove it from the list and from docs/architecture.md"
            )),
            (false, Some(_)) => known_seen.push(label),
            (false, None) => unexpected.push(format!("{label}:\n    {}", found.join("\n    "))),
        }
    }
    eprintln!(
        "compared {} kustomization directories with kubectl kustomize: {compared_objects} \
         objects, {refusals} refusals; known differences in {}: {known_seen:?}",
        dirs.len(),
        known_seen.len()
    );
    eprintln!("emitted by kustomize, not compared (no marker the prefilter keeps): {skipped:?}");
    assert!(
        unexpected.is_empty(),
        "asoguard and kustomize disagree:\n{}",
        unexpected.join("\n")
    );
}
