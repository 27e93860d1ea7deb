//! `migrate`: the ASO FAQ's four steps to move resources from one cluster (or namespace) to
//! another, as one plan. The source's ASO resources get `skip`; the destination receives
//! copies with `skip` removed, exported live state stripped, the namespace rewritten when
//! asked, and `detach-on-delete` on critical kinds; `.asoguard.yaml` marks the source passive.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::{CONFIG_FILE, Role, Settings, absolute, normalize};
use crate::discover::{self, Target};
use crate::manifest::{ASO_FINALIZER, LIVE_METADATA, Manifest, OPERATOR_ANNOTATIONS, Policy};
use crate::yaml::{self, Node, edit, json};

use super::config_edit::{self, role_str};
use super::identity::{Identity, identity, identity_as_applied, normalized_spec, object_key};
use super::kustomize::{self, RefKind};
use super::rewrite::{self, Loaded, Status, Step};
use super::{FileChange, Plan, TransformError, count, label, verify};
use crate::index::Index;
use crate::index::substitute::Substitution;
use std::sync::Arc;

/// What a copy sheds besides [`LIVE_METADATA`] (which ASO011 reports too): fields of a live
/// object that tie it to the old cluster (owner and deletion state).
pub const MOVED_METADATA: [&str; 3] = [
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
];

/// What a copy sheds besides [`OPERATOR_ANNOTATIONS`]: the annotation `kubectl apply` sets.
pub const KUBECTL_LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Where resources move from and to.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// The source directory (the old cluster's or namespace's manifests).
    pub from: PathBuf,
    /// The destination directory; created as needed, and must not overlap the source.
    pub to: PathBuf,
    /// Rewrite `metadata.namespace` (and Kustomize `namespace:`) to this in the copies.
    pub namespace: Option<String>,
}

type ObjectKey = (String, String, String, String);

/// Plan a migration. Errors (nothing planned) when an argument is wrong, the destination lies
/// inside the source or the other way round, or any file of either cannot be read or parsed.
/// Everything else that must stop the migration is a conflict in the plan.
///
/// The ASO FAQ's procedure, step by step ([`Migration`]): the source's ASO resources get
/// `skip` (step 1), the destination receives their copies (step 3), `.asoguard.yaml` records
/// the source as passive so that removing it from its cluster (step 4) is what `check`
/// expects, and the whole is verified against `check`'s guarded rules. Step 2, installing ASO
/// in the destination cluster, is the user's: the plan's checklist says so.
pub fn plan(options: &MigrateOptions, settings: &Settings) -> Result<Plan, TransformError> {
    let (from, to) = check_arguments(options)?;
    let mut plan = Plan::default();
    let sides = Sides::load(options, settings, (from, to), &mut plan)?;
    let mut migration = Migration::new(&sides, plan);
    migration.survey_destination();
    migration.plan_documents();
    migration.skip_source();
    migration.copy_to_destination();
    let config_path = migration.mark_source_passive()?;
    migration.verify(&config_path);
    Ok(migration.into_plan(config_path))
}

/// The source and destination directories, absolute, once the arguments are checked: a valid
/// namespace, a source directory, a destination that is a directory if it exists, and neither
/// inside the other.
fn check_arguments(options: &MigrateOptions) -> Result<(PathBuf, PathBuf), TransformError> {
    let ns = options.namespace.as_deref();
    if let Some(ns) = ns {
        if !is_dns_label(ns) {
            return Err(TransformError::new(format!(
                "--namespace `{ns}` is not a valid namespace name (lower-case letters, digits and `-`, at most 63)"
            )));
        }
    }
    match std::fs::metadata(&options.from) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(TransformError::at(
                &options.from,
                "the source must be a directory",
            ));
        }
        Err(e) => return Err(TransformError::at(&options.from, e.to_string())),
    }
    if options.to.exists() && !options.to.is_dir() {
        return Err(TransformError::at(
            &options.to,
            "the destination exists and is not a directory",
        ));
    }
    let (from, to) = (absolute(&options.from), absolute(&options.to));
    let (real_from, real_to) = (real_path(&from), real_path(&to));
    if real_to.starts_with(&real_from) {
        return Err(TransformError::at(
            &options.to,
            format!(
                "the destination is inside the source {}; choose a directory outside it",
                options.from.display()
            ),
        ));
    }
    if real_from.starts_with(&real_to) {
        return Err(TransformError::at(
            &options.from,
            format!(
                "the source is inside the destination {}; choose a destination outside it",
                options.to.display()
            ),
        ));
    }
    Ok((from, to))
}

/// What a migration reads, fixed once loaded: its arguments, the repository's index, and both
/// sides' files.
struct Sides<'a> {
    options: &'a MigrateOptions,
    settings: &'a Settings,
    /// The namespace the copies move to (`--namespace`).
    ns: Option<&'a str>,
    /// The source directory, absolute.
    from: PathBuf,
    /// The destination directory, absolute.
    to: PathBuf,
    /// The repository as `check` renders it: who deploys the source, and names as applied.
    index: Index,
    src_files: Vec<Loaded>,
    dst_files: Vec<Loaded>,
    /// The files each side's kustomizations reference as patches.
    src_patches: HashSet<PathBuf>,
    dst_patches: HashSet<PathBuf>,
    /// The source's files (absolute paths).
    src_targets: HashSet<PathBuf>,
}

impl<'a> Sides<'a> {
    /// Index the repository and load both sides; what `files_under` finds to say goes to
    /// `plan`.
    fn load(
        options: &'a MigrateOptions,
        settings: &'a Settings,
        (from, to): (PathBuf, PathBuf),
        plan: &mut Plan,
    ) -> Result<Self, TransformError> {
        let index = super::repository_index(settings);
        let src_files =
            rewrite::load(files_under(&options.from, &from, settings, plan)?, settings)?;
        if src_files.is_empty() {
            return Err(TransformError::at(
                &options.from,
                "no manifests (.yaml or .yml files) under the source",
            ));
        }
        let dst_files = if to.exists() {
            rewrite::load(files_under(&options.to, &to, settings, plan)?, settings)?
        } else {
            Vec::new()
        };
        let src_patches = patch_files(&src_files);
        let dst_patches = patch_files(&dst_files);
        let src_targets = src_files
            .iter()
            .map(|f| f.target.fs_path.to_path_buf())
            .collect();
        Ok(Sides {
            options,
            settings,
            ns: options.namespace.as_deref(),
            from,
            to,
            index,
            src_files,
            dst_files,
            src_patches,
            dst_patches,
            src_targets,
        })
    }
}

/// A file's path relative to `base`, the directory of its side.
fn rel(file: &Loaded, base: &Path) -> PathBuf {
    file.target
        .fs_path
        .strip_prefix(base)
        .map_or_else(|_| file.target.fs_path.to_path_buf(), Path::to_path_buf)
}

/// A migration being planned: the plan so far, and what each step leaves the next.
struct Migration<'s> {
    sides: &'s Sides<'s>,
    plan: Plan,
    /// The Azure resources of both sides, by identity.
    ids: Identities,
    /// The destination's own policies other than `skip`, by file (relative) and object.
    dst_policies: HashMap<(PathBuf, ObjectKey), String>,
    /// The `commonAnnotations` policies other than `skip` of the destination's kustomizations,
    /// by file (relative).
    dst_common: HashMap<PathBuf, String>,
    /// What each document of each source file needs in step 1.
    src_docs: Vec<Vec<SrcDoc>>,
    /// What the copy of each document of each source file needs in step 3.
    dst_docs: Vec<Vec<DstDoc>>,
    /// The names of the source's Namespace objects, when the copies move to one namespace.
    namespace_objects: BTreeSet<String>,
    /// ASO resources step 1 gives `skip`.
    skipped: usize,
    /// ASO resources step 3 copies.
    copied: usize,
    /// Files inside the source that its kustomizations reference and that are not among its
    /// manifests, copied as they are: by path relative to the source, their path and text
    /// (`None` when it cannot be read, a conflict).
    verbatim: BTreeMap<PathBuf, (PathBuf, Option<String>)>,
    /// Notes on kustomizations of the source that render ASO resources from outside it.
    outside_aso: Vec<String>,
}

impl<'s> Migration<'s> {
    fn new(sides: &'s Sides<'s>, plan: Plan) -> Self {
        Migration {
            sides,
            plan,
            ids: Identities::default(),
            dst_policies: HashMap::new(),
            dst_common: HashMap::new(),
            src_docs: Vec::new(),
            dst_docs: Vec::new(),
            namespace_objects: BTreeSet::new(),
            skipped: 0,
            copied: 0,
            verbatim: BTreeMap::new(),
            outside_aso: Vec::new(),
        }
    }

    /// What the destination holds already: Azure resources by identity, policies by object.
    fn survey_destination(&mut self) {
        let sides = self.sides;
        for file in sides.dst_files.iter().filter(|f| f.status == Status::Yaml) {
            let file_rel = rel(file, &sides.to);
            let arena = yaml::Arena::new();
            let stream = yaml::parse(&arena, &file.text);
            let documents = manifests_or_none(&stream).into_iter().enumerate();
            for (doc, manifest) in documents.filter_map(|(doc, m)| Some((doc, m?))) {
                if let Some(value) =
                    rewrite::policy_raw(&manifest).filter(|v| *v != "skip" && !v.is_empty())
                {
                    if let Some(key) = object_key(&manifest) {
                        self.dst_policies
                            .insert((file_rel.clone(), key), value.to_string());
                    }
                }
                if kustomize::is_kustomization(&file_rel) {
                    if let Some(value) =
                        rewrite::common_policy(manifest.root).filter(|v| *v != "skip")
                    {
                        self.dst_common.insert(file_rel.clone(), value.to_string());
                    }
                }
                if !manifest.is_aso() || sides.dst_patches.contains(&*file.target.fs_path) {
                    continue;
                }
                let applied = applied(&sides.index, &file.target.fs_path, doc);
                if let (Ok(id), Ok(spec)) = (
                    applied_identity(&manifest, None, &applied),
                    normalized_spec(&manifest),
                ) {
                    self.ids.dst.insert(
                        id,
                        DstResource {
                            rel: file_rel.clone(),
                            display: file.target.display.to_path_buf(),
                            spec,
                        },
                    );
                }
            }
        }
    }

    /// What every source document needs, in step 1 and in its copy; the source's Azure
    /// resources checked against each other and the destination's.
    fn plan_documents(&mut self) {
        let sides = self.sides;
        for file in &sides.src_files {
            let (src_plan, dst_plan) = self.plan_file(file);
            self.src_docs.push(src_plan);
            self.dst_docs.push(dst_plan);
        }
        if self.namespace_objects.len() > 1 {
            self.plan.conflict(
                &sides.options.from,
                format!(
                    "the source holds Namespaces {}: --namespace would merge them into one; migrate each namespace on its own",
                    self.namespace_objects
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }

    /// What each document of one source file needs, in step 1 and in its copy.
    fn plan_file(&mut self, file: &Loaded) -> (Vec<SrcDoc>, Vec<DstDoc>) {
        let sides = self.sides;
        let path = &file.target.display;
        let file_rel = rel(file, &sides.from);
        let is_patch = sides.src_patches.contains(&*file.target.fs_path);
        let mut src_plan = Vec::new();
        let mut dst_plan = Vec::new();
        if file.status == Status::Template && file.text.contains(".azure.com/") {
            self.plan.conflict(
                path,
                "a Helm or Go template that mentions ASO groups: asoguard cannot mark its resources `skip`; render it, or exclude it and migrate it by hand",
            );
        }
        let arena = yaml::Arena::new();
        let stream = yaml::parse(&arena, &file.text);
        for (doc, manifest) in manifests_or_none(&stream).into_iter().enumerate() {
            let Some(manifest) = manifest else {
                src_plan.push(SrcDoc::default());
                dst_plan.push(DstDoc::default());
                continue;
            };
            let (src_doc, dst_doc) = self.plan_document(file, &file_rel, is_patch, doc, &manifest);
            src_plan.push(src_doc);
            dst_plan.push(dst_doc);
        }
        (src_plan, dst_plan)
    }

    /// What document `doc` of a source file (an object) needs in step 1 and in its copy.
    fn plan_document(
        &mut self,
        file: &Loaded,
        file_rel: &Path,
        is_patch: bool,
        doc: usize,
        manifest: &Manifest,
    ) -> (SrcDoc, DstDoc) {
        let sides = self.sides;
        let (settings, ns) = (sides.settings, sides.ns);
        let path = &file.target.display;
        let applied = applied(&sides.index, &file.target.fs_path, doc);
        let shown = applied_label(manifest, &applied);
        let raw = rewrite::policy_raw(manifest);
        let critical = manifest.is_aso()
            && manifest
                .kind
                .is_some_and(|k| settings.is_critical(manifest.group(), k));
        let mut src_doc = SrcDoc {
            label: shown.clone(),
            ..SrcDoc::default()
        };
        let mut dst_doc = DstDoc {
            label: shown.clone(),
            is_object: manifest.kind.is_some() && manifest.api_version.is_some(),
            ..DstDoc::default()
        };
        let what = shown.unwrap_or_else(|| label(manifest));
        let rewritten_ns = manifest.namespace.map(|n| ns.unwrap_or(n));
        let key = object_key(manifest).map(|(g, k, n, name)| {
            (
                g,
                k,
                if n.is_empty() {
                    n
                } else {
                    ns.map_or(n, str::to_string)
                },
                name,
            )
        });
        let existing = key
            .as_ref()
            .and_then(|key| {
                self.dst_policies
                    .get(&(file_rel.to_path_buf(), key.clone()))
            })
            .cloned();
        if manifest.is_aso() {
            if file.status == Status::Sops {
                self.plan.conflict(
                    path,
                    format!(
                        "{what} is in a SOPS-encrypted file: an edit would break its MAC, so it cannot get `skip`; decrypt it or migrate it by hand"
                    ),
                );
            }
            if raw != Some("skip") {
                src_doc.policy = Some(Some("skip"));
                self.skipped += 1;
            }
            self.copied += 1;
            // Critical kinds end protected: anything but `detach-on-delete` (unset,
            // `manage`, `skip`, or a value ASO reads as `manage`) becomes it.
            let dod = Policy::DetachOnDelete.as_str();
            let derived = match raw {
                Some(value) if value == dod => None,
                _ if critical => Some(Some(dod.to_string())),
                Some("skip") => Some(None),
                _ => None,
            };
            dst_doc.policy = existing.map(Some).or(derived);
            if !is_patch {
                self.ids.check(
                    &mut self.plan,
                    (manifest, &what, &applied),
                    rewritten_ns,
                    (path, file_rel),
                    &sides.options.to.join(file_rel),
                );
            }
        } else if manifest.is("", "Namespace") {
            if raw == Some("skip") {
                dst_doc.policy = Some(existing.or(Some(Policy::DetachOnDelete.as_str().into())));
            }
            if let (Some(ns), Some(name)) = (ns, manifest.name_str()) {
                if !is_patch {
                    self.namespace_objects.insert(name.to_string());
                }
                if name != ns {
                    dst_doc.rename_namespace = Some(ns.to_string());
                }
            }
        }
        if let (Some(ns), Some(current)) = (ns, manifest.namespace) {
            if current != ns {
                dst_doc.namespace = Some(ns.to_string());
            }
        }
        dst_doc.deploy_paths = self.deployer_paths(manifest, path);
        if kustomize::is_kustomization(path) {
            self.plan_kustomization(manifest, path, file_rel, &mut src_doc, &mut dst_doc);
            for patch in kustomize::inline_patches(manifest.root) {
                if patch.contains(crate::manifest::RECONCILE_POLICY) {
                    self.plan.notes.push(format!(
                        "{}: an inline patch sets the reconcile-policy; review it in both copies",
                        path.display()
                    ));
                }
            }
        } else if manifest.kind.is_none() && file.text.contains(crate::manifest::RECONCILE_POLICY) {
            self.plan.notes.push(format!(
                "{}: mentions the reconcile-policy but is not an object (a JSON patch?); review it in both copies",
                path.display()
            ));
        }
        (src_doc, dst_doc)
    }

    /// Plan an ArgoCD Application or Flux Kustomization of the source. Its paths inside the
    /// source are re-pointed at the destination in the copy (the copy is synced by the
    /// destination cluster, as `check` assumes of a manifest under a cluster's paths).
    /// Conflicts: a deployer whose destination is another cluster (a person must retarget the
    /// copy), and one that deploys ASO resources from outside the source (both clusters would
    /// reconcile them).
    fn deployer_paths(&mut self, manifest: &Manifest, path: &Path) -> Vec<Option<String>> {
        let sides = self.sides;
        let (settings, from, to) = (sides.settings, &sides.from, &sides.to);
        let mut rewrites = Vec::new();
        let what = label(manifest);
        for node in deploy_path_nodes(manifest) {
            let Some(written) = node.as_str() else {
                rewrites.push(None);
                continue;
            };
            let target = normalize(&settings.root.join(written));
            if target.starts_with(from) {
                if let Some(remote) = remote_destination(manifest) {
                    self.plan.conflict(
                        path,
                        format!(
                            "{what} deploys {written} to {remote}: its copy would deploy the destination's manifests there too; move it out of the source, or retarget it by hand"
                        ),
                    );
                }
                let moved = to.join(target.strip_prefix(from).unwrap_or(Path::new("")));
                let mut new = kustomize::relative_path(&settings.root, &normalize(&moved));
                if written.starts_with("./") {
                    new = format!("./{new}");
                }
                rewrites.push(Some(new));
            } else {
                rewrites.push(None);
                if rewrite::holds_aso(&target, settings) {
                    self.plan.conflict(
                        path,
                        format!(
                            "{what} deploys {written}, outside the source, which holds ASO resources: its copy would have both clusters reconcile them; migrate {written} itself, or move {what} out of the source"
                        ),
                    );
                } else {
                    self.plan.notes.push(format!(
                        "{}: {what} deploys {written}, outside the source: its copy deploys it too",
                        path.display()
                    ));
                }
            }
        }
        rewrites
    }

    /// Plan a kustomization document: its `namespace:`, its `commonAnnotations` policy on both
    /// sides, references that leave the source (rewritten in the copy; when they render ASO
    /// resources, the source's `commonAnnotations` gets `skip` so step 1 covers them), and
    /// files it references inside the source that are not YAML (copied as they are).
    fn plan_kustomization(
        &mut self,
        manifest: &Manifest,
        display: &Path,
        file_rel: &Path,
        src_doc: &mut SrcDoc,
        dst_doc: &mut DstDoc,
    ) {
        let sides = self.sides;
        let (settings, ns, from, to) = (sides.settings, sides.ns, &sides.from, &sides.to);
        let dst_existing_common = self.dst_common.get(file_rel).cloned();
        let root = manifest.root;
        let kdir_rel = file_rel.parent().unwrap_or(Path::new(""));
        let (src_dir, dst_dir) = (
            normalize(&from.join(kdir_rel)),
            normalize(&to.join(kdir_rel)),
        );
        let src_path = display;
        if let (Some(ns), Some(current)) = (ns, root.get_str("namespace")) {
            if current != ns {
                dst_doc.kustomize_namespace = Some(ns.to_string());
            }
        }
        let mut renders_outside_aso = false;
        for reference in kustomize::refs(root) {
            let target = kustomize::resolve(&src_dir, &reference.path);
            if target.starts_with(from) {
                dst_doc.refs.push(None);
                let is_file = target.is_file();
                if is_file && !sides.src_targets.contains(&target) {
                    let file_rel = target.strip_prefix(from).unwrap_or(&target).to_path_buf();
                    let text = match discover::read_text(&target, settings.max_file_size) {
                        Ok(text) => Some(text),
                        Err(e) => {
                            self.plan.conflict(&target, format!("cannot copy it: {e}"));
                            None
                        }
                    };
                    self.verbatim.insert(file_rel, (target.clone(), text));
                } else if !target.exists() {
                    self.plan.notes.push(format!(
                        "{}: references {}, which does not exist",
                        src_path.display(),
                        reference.path
                    ));
                }
                continue;
            }
            let from_copy = kustomize::resolve(&dst_dir, &reference.path);
            dst_doc.refs.push(
                (from_copy != target)
                    .then(|| reference.with_path(&kustomize::relative_path(&dst_dir, &target))),
            );
            if reference.kind == RefKind::Resource && rewrite::holds_aso(&target, settings) {
                renders_outside_aso = true;
                self.outside_aso.push(format!(
                    "{}: renders ASO resources from {}, outside the source: step 1 marks them `skip` through this kustomization's commonAnnotations, and the copy renders them without it",
                    src_path.display(),
                    reference.path
                ));
            }
        }
        let common = rewrite::common_policy(root);
        if (common.is_some() || renders_outside_aso) && common != Some("skip") {
            src_doc.common = Some(Some("skip"));
        }
        if common.is_some() || renders_outside_aso {
            // The copy: the source's value, unless it is `skip`; then what the destination had.
            dst_doc.common = Some(match common {
                Some(value) if value != "skip" => Some(value.to_string()),
                _ => dst_existing_common,
            });
        }
    }

    /// Step 1: the source gets `skip`, in place. A step 1 that changes nothing while the
    /// source is applied without `skip` would leave its ASO writing to Azure: refused, saying
    /// where the policy comes from.
    fn skip_source(&mut self) {
        let sides = self.sides;
        for (file, docs) in sides.src_files.iter().zip(&self.src_docs) {
            if file.status != Status::Yaml {
                continue;
            }
            let path = &file.target.display;
            match rewrite::rewrite(&file.text, |index, text, root| {
                let doc = docs.get(index).cloned().unwrap_or_default();
                if let Some(want) = doc.policy {
                    if let step @ (Step::Edit(..) | Step::Stuck(_)) =
                        rewrite::policy_step_as(text, root, want, doc.label.as_deref())
                    {
                        return step;
                    }
                }
                match doc.common {
                    Some(want) => rewrite::common_policy_step(text, root, want, path),
                    None => Step::Done,
                }
            }) {
                Ok((after, actions)) => self.plan.push_change(FileChange {
                    path: path.to_path_buf(),
                    before: Some(file.text.clone()),
                    after,
                    actions,
                    source: None,
                }),
                Err(message) => self.plan.conflict(path, message),
            }
        }
        if self.plan.changes.is_empty() {
            source_unchanged(
                &mut self.plan,
                &sides.index,
                &sides.from,
                &sides.options.from,
            );
        }
    }

    /// Step 3: the copies, and the files the source's kustomizations reference copied as they
    /// are.
    fn copy_to_destination(&mut self) {
        let sides = self.sides;
        let (ns, from, to) = (sides.ns, &sides.from, &sides.to);
        let dst_by_rel: HashMap<PathBuf, &Loaded> =
            sides.dst_files.iter().map(|f| (rel(f, to), f)).collect();
        for (file, docs) in sides.src_files.iter().zip(&self.dst_docs) {
            let file_rel = rel(file, from);
            let dst_path = sides.options.to.join(&file_rel);
            let existing = dst_by_rel.get(&file_rel).map(|f| f.text.as_str());
            if file.status != Status::Yaml {
                if ns.is_some() && file.status == Status::Sops {
                    self.plan.checklist.push(format!(
                        "{} is SOPS-encrypted and copied as is: its namespace is not rewritten; re-encrypt it for the new namespace",
                        dst_path.display()
                    ));
                }
                copy_as_is(
                    &mut self.plan,
                    &dst_path,
                    &file.text,
                    existing,
                    &file.target.display,
                );
                continue;
            }
            match copy_text(file, docs, &dst_path) {
                Ok((after, actions)) => match existing {
                    None => self.plan.push_change(FileChange {
                        path: dst_path,
                        before: None,
                        after,
                        actions,
                        source: Some(file.target.display.to_path_buf()),
                    }),
                    Some(existing) if same_documents(existing, &after) => {}
                    Some(existing) => {
                        if let Some(dropped) = dropped_object(existing, &after) {
                            self.plan.conflict(
                                &dst_path,
                                format!(
                                    "the destination file holds {dropped}, which the copy of {} would drop (and the destination cluster would delete); move it to another file first",
                                    file.target.display.display()
                                ),
                            );
                        }
                        self.plan.push_change(FileChange {
                            path: dst_path,
                            before: Some(existing.to_string()),
                            after,
                            actions,
                            source: Some(file.target.display.to_path_buf()),
                        });
                    }
                },
                Err(message) => self.plan.conflict(&dst_path, message),
            }
        }
        for (file_rel, (src_path, text)) in &self.verbatim {
            let dst_path = sides.options.to.join(file_rel);
            let Some(text) = text else {
                continue;
            };
            let existing = match std::fs::read(to.join(file_rel)) {
                Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
                Err(_) => None,
            };
            copy_as_is(
                &mut self.plan,
                &dst_path,
                text,
                existing.as_deref(),
                src_path,
            );
        }
        for message in std::mem::take(&mut self.outside_aso) {
            self.plan.notes.push(message);
        }
    }

    /// `.asoguard.yaml` marks the source passive and the destination active (see
    /// [`mark_clusters`]), so that `check` expects the source's `skip` and, in step 4, its
    /// removal from the source cluster's sync. Returns the config's path.
    fn mark_source_passive(&mut self) -> Result<PathBuf, TransformError> {
        let sides = self.sides;
        let (from, to) = (&sides.from, &sides.to);
        let dst_paths: Vec<PathBuf> = sides
            .src_files
            .iter()
            .map(|f| to.join(rel(f, from)))
            .chain(self.verbatim.keys().map(|r| to.join(r)))
            .collect();
        let src_paths: Vec<PathBuf> = sides
            .src_files
            .iter()
            .map(|f| f.target.fs_path.to_path_buf())
            .collect();
        let deployers = outside_deployers(&sides.index, from);
        mark_clusters(
            &mut self.plan,
            sides.settings,
            (from, to),
            (&src_paths, &dst_paths),
            &deployers,
        )
    }

    /// Check the plan against `check`'s guarded rules (see [`verify::verify`]), with the
    /// config it writes at `config_path`.
    fn verify(&mut self, config_path: &Path) {
        verify::verify(&mut self.plan, self.sides.settings, Some(config_path));
    }

    /// The plan, its scope, and the FAQ's four steps as its checklist (what this plan did in
    /// each, and what is left to the user), before the checklist items gathered on the way.
    fn into_plan(mut self, config_path: PathBuf) -> Plan {
        let sides = self.sides;
        let (options, ns) = (sides.options, sides.ns);
        let (skipped, copied) = (self.skipped, self.copied);
        let plan = &mut self.plan;
        plan.scope = vec![sides.from.clone(), sides.to.clone(), config_path];
        let later = std::mem::take(&mut plan.checklist);
        plan.checklist = vec![
            format!(
                "1. In {}, every ASO resource carries `skip` ({} set by this command). Commit and sync it, and confirm the source cluster's objects carry `serviceoperator.azure.com/reconcile-policy: skip` before going on: from then on its ASO no longer writes to Azure.",
                options.from.display(),
                count(skipped, "resource")
            ),
            format!(
                "2. Install ASO in the destination cluster (the same version and CRDs as the source), with its credentials{}.",
                ns.map_or_else(
                    || " (the `aso-credential` Secret, or the Secrets named by `serviceoperator.azure.com/credential-from`) in each namespace".to_string(),
                    |ns| format!(" (the `aso-credential` Secret, or the Secrets named by `serviceoperator.azure.com/credential-from`) in namespace `{ns}`")
                )
            ),
            format!(
                "3. {} holds {} {} (written by this command): `skip` removed, live state stripped, `detach-on-delete` on critical kinds{}. Point the destination cluster's ArgoCD Application or Flux Kustomization at it, and sync.",
                options.to.display(),
                crate::wording::agree(copied, "a copy of", "copies of"),
                count(copied, "ASO resource"),
                ns.map_or_else(String::new, |ns| format!(", namespace `{ns}`"))
            ),
            format!(
                "4. Once every resource is Ready in the destination cluster, delete the source's copies (remove {} from the source cluster's sync): safe, because step 1 set `skip`, so the source's ASO leaves the Azure resources in place.",
                options.from.display()
            ),
        ];
        plan.checklist.extend(later);
        self.plan.finish()
    }
}

/// What a source document needs in step 1.
#[derive(Clone, Debug, Default)]
struct SrcDoc {
    /// The object as messages name it, by its name as applied (Flux variables substituted).
    label: Option<String>,
    /// Its own policy: `Some(Some("skip"))`.
    policy: Option<Option<&'static str>>,
    /// A kustomization's `commonAnnotations` policy.
    common: Option<Option<&'static str>>,
}

/// What a copied document needs.
#[derive(Clone, Debug, Default)]
struct DstDoc {
    /// The object as messages name it, by its name as applied (Flux variables substituted).
    label: Option<String>,
    /// Whether it is a Kubernetes object (apiVersion and kind), whose live state is stripped.
    is_object: bool,
    /// Its own policy (`Some(None)`: removed).
    policy: Option<Option<String>>,
    /// Its new `metadata.namespace`.
    namespace: Option<String>,
    /// A Namespace object's new name.
    rename_namespace: Option<String>,
    /// A kustomization's new `namespace:`.
    kustomize_namespace: Option<String>,
    /// A kustomization's `commonAnnotations` policy.
    common: Option<Option<String>>,
    /// A kustomization's references, in `kustomize::refs` order: the new value of each one
    /// that leaves the source and must be rewritten to reach the same place.
    refs: Vec<Option<String>>,
    /// An ArgoCD Application's or Flux Kustomization's source paths, in `deploy_path_nodes`
    /// order: the new value of each one inside the source.
    deploy_paths: Vec<Option<String>>,
}

/// An Azure resource the destination holds already.
struct DstResource {
    /// Its file, relative to the destination.
    rel: PathBuf,
    /// Its file, as shown.
    display: PathBuf,
    /// Its normalised spec.
    spec: Value,
}

/// A conflict when ASO resources the source holds or deploys (instances of the index whose
/// object or context file is under it) are applied with a policy other than `skip`, while
/// step 1 changes no file of the source: it would set nothing, and the source cluster's ASO
/// would keep writing to Azure.
fn source_unchanged(plan: &mut Plan, index: &Index, from: &Path, shown: &Path) {
    let live: Vec<&crate::index::Instance> = index
        .instances
        .iter()
        .filter(|i| {
            i.aso
                && (index.files[i.file].fs_path.starts_with(from)
                    || index.files[index.contexts[i.context].file]
                        .fs_path
                        .starts_with(from))
                && index.effective(i).0 != Policy::Skip
        })
        .collect();
    if live.is_empty() {
        return;
    }
    let mut named: Vec<String> = live
        .iter()
        .take(3)
        .map(|i| {
            format!(
                "{} in {}, {}",
                super::applied_label(index, i),
                index.describe(i.file),
                policy_source(index, i)
            )
        })
        .collect();
    if live.len() > 3 {
        named.push(format!("{} more", live.len() - 3));
    }
    let one = live.len() == 1;
    plan.conflict(
        shown,
        format!(
            "step 1 would change no file of the source, yet it holds or deploys {} that {} applied without `skip` ({}): its ASO would keep writing to Azure while the destination takes over; set `skip` where the policy is decided, then run the migration again",
            count(live.len(), "ASO resource"),
            if one { "is" } else { "are" },
            named.join("; ")
        ),
    );
}

/// Where an instance's effective reconcile-policy comes from, for messages.
fn policy_source(index: &Index, instance: &crate::index::Instance) -> String {
    use crate::index::OriginKind;
    let (policy, origin) = index.effective(instance);
    let Some(origin) = origin else {
        return "with no policy (ASO's default `manage`)".into();
    };
    let value = instance
        .policy
        .as_ref()
        .filter(|(_, o)| *o == origin)
        .map_or_else(|| policy.as_str().to_string(), |(v, _)| v.to_string());
    let file = index.describe(origin.file);
    let place = match origin.kind {
        OriginKind::Own => "by its own annotation".to_string(),
        OriginKind::PatchFile => format!("by a patch in {file}"),
        OriginKind::JsonPatch => format!("by a JSON patch in {file}"),
        OriginKind::InlinePatch => format!("by an inline patch in {file}"),
        OriginKind::Common => format!("by commonAnnotations in {file}"),
        OriginKind::Flux => format!("by spec.commonMetadata in {file}"),
        OriginKind::ArgoNamespace => format!("by the managed namespace's metadata in {file}"),
        OriginKind::Namespace => format!("by its Namespace in {file}"),
    };
    format!("`{value}` set {place}")
}

/// How one context applies an object: the Flux `postBuild` variables it substitutes (`None`:
/// none), and the context as messages name it.
type Applied = (Option<Arc<Substitution>>, String);

/// The different ways the contexts of the index apply the object of document `doc` of the
/// file at `fs_path`, one per distinct substitution; empty when nothing applies it, or when the
/// object turns substitution off.
fn applied(index: &Index, fs_path: &Path, doc: usize) -> Vec<Applied> {
    let Some(id) = index.file_id(fs_path) else {
        return Vec::new();
    };
    let disabled = index
        .object_at(id, doc)
        .is_some_and(|o| o.substitute_disabled);
    let mut out: Vec<Applied> = Vec::new();
    for instance in index.instances_of(id, doc) {
        let context = &index.contexts[instance.context];
        let substitution = context.substitution.clone().filter(|_| !disabled);
        if !out.iter().any(|(s, _)| *s == substitution) {
            out.push((substitution, index.describe_context(context)));
        }
    }
    out
}

/// The label of an object by its name as its one way of being applied gives it (Flux
/// variables substituted); `None` when that is the name as written, or when it is applied in
/// several ways.
fn applied_label(manifest: &Manifest, applied: &[Applied]) -> Option<String> {
    let [(Some(substitution), _)] = applied else {
        return None;
    };
    let name = manifest.name_str()?;
    let applied_name = substitution.apply(name);
    (applied_name != name)
        .then(|| format!("{} `{applied_name}`", manifest.kind.unwrap_or("object")))
}

/// The Azure identity of a source or destination object as the contexts that apply it give
/// it: with their Flux variables substituted. `Err` when it is unknown (see
/// [`identity_as_applied`]; a name nothing applies is read as written), or when the contexts
/// that apply it make it different Azure resources.
fn applied_identity(
    manifest: &Manifest,
    namespace: Option<&str>,
    applied: &[Applied],
) -> Result<Identity, String> {
    if applied.is_empty() {
        return identity(manifest, namespace);
    }
    let mut found: Vec<(Identity, &str)> = Vec::new();
    for (substitution, who) in applied {
        let id = identity_as_applied(manifest, namespace, substitution.as_deref())
            .map_err(|why| format!("{why}, as applied by {who}"))?;
        if !found.iter().any(|(other, _)| *other == id) {
            found.push((id, who));
        }
    }
    match found.as_slice() {
        [(id, _)] => Ok(id.clone()),
        _ => Err(format!(
            "it is applied as different Azure resources ({}); migrate what each applier renders on its own",
            found
                .iter()
                .map(|(id, who)| format!("{id} by {who}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The Azure resources of both sides, by identity.
#[derive(Default)]
struct Identities {
    /// The source's, with the file and normalised spec of the first one seen.
    src: HashMap<Identity, (PathBuf, Value)>,
    /// The destination's.
    dst: HashMap<Identity, DstResource>,
}

impl Identities {
    /// Record a source resource's identity; conflicts when it cannot be determined, appears
    /// twice with different specs, or the destination holds it elsewhere or with another spec.
    fn check(
        &mut self,
        plan: &mut Plan,
        (manifest, what, applied): (&Manifest, &str, &[Applied]),
        namespace: Option<&str>,
        (path, file_rel): (&Path, &Path),
        copy: &Path,
    ) {
        let (src_ids, dst_ids) = (&mut self.src, &self.dst);
        let id = match applied_identity(manifest, namespace, applied) {
            Ok(id) => id,
            Err(why) => {
                plan.conflict(
                    path,
                    format!("{what}: cannot tell which Azure resource it is: {why}"),
                );
                return;
            }
        };
        let spec = match normalized_spec(manifest) {
            Ok(spec) => spec,
            Err(why) => {
                plan.conflict(path, format!("{what}: {why}"));
                return;
            }
        };
        if let Some((other, other_spec)) = src_ids.get(&id) {
            if *other_spec != spec {
                plan.conflict(
                path,
                format!(
                    "{what} ({id}) is also in {} with a different spec: the destination would hold two goals for one Azure resource",
                    other.display()
                ),
            );
            }
        } else {
            src_ids.insert(id.clone(), (path.to_path_buf(), spec.clone()));
        }
        if let Some(held) = dst_ids.get(&id) {
            let held_at = &held.display;
            if held.rel != file_rel {
                plan.conflict(
                held_at,
                format!(
                    "the destination already holds {what} ({id}) here, and the copy of {} would add it again as {}",
                    path.display(),
                    copy.display()
                ),
            );
            } else if held.spec != spec {
                plan.conflict(
                held_at,
                format!(
                    "the destination already holds {what} ({id}) with a different spec than {}: reconcile the two by hand first",
                    path.display()
                ),
            );
            }
        }
    }
}

/// The copy of one source file: every document rewritten as its `DstDoc` says.
fn copy_text(
    file: &Loaded,
    docs: &[DstDoc],
    dst_path: &Path,
) -> Result<(String, Vec<String>), String> {
    rewrite::rewrite(&file.text, |index, text, root| {
        let Some(doc) = docs.get(index) else {
            return Step::Done;
        };
        let label = doc.label.as_deref();
        if doc.is_object {
            if let Some(step) = strip_step(text, root, label) {
                return step;
            }
        }
        let metadata = root.get("metadata");
        if let (Some(want), Some(node)) =
            (&doc.namespace, metadata.and_then(|m| m.get("namespace")))
        {
            if node.as_str() != Some(want.as_str()) {
                return replace(text, node, want, (root, label), "metadata.namespace");
            }
        }
        if let (Some(want), Some(node)) =
            (&doc.rename_namespace, metadata.and_then(|m| m.get("name")))
        {
            if node.as_str() != Some(want.as_str()) {
                return replace(text, node, want, (root, label), "metadata.name");
            }
        }
        if let Some(want) = &doc.policy {
            if let step @ (Step::Edit(..) | Step::Stuck(_)) =
                rewrite::policy_step_as(text, root, want.as_deref(), label)
            {
                return step;
            }
        }
        if let (Some(want), Some(node)) = (&doc.kustomize_namespace, root.get("namespace")) {
            if node.as_str() != Some(want.as_str()) {
                return replace(text, node, want, (root, label), "namespace");
            }
        }
        if let Some(want) = &doc.common {
            if let step @ (Step::Edit(..) | Step::Stuck(_)) =
                rewrite::common_policy_step(text, root, want.as_deref(), dst_path)
            {
                return step;
            }
        }
        for (reference, want) in kustomize::refs(root).iter().zip(&doc.refs) {
            if let Some(want) = want {
                if reference.node.as_str() != Some(want.as_str()) {
                    return Step::Edit(
                        vec![edit::replace_scalar(text, reference.node, want)],
                        Some(format!(
                            "reference {} rewritten to {want}",
                            reference.node.as_str().unwrap_or("")
                        )),
                    );
                }
            }
        }
        let deployer = Manifest::from_root(root);
        let nodes = deployer.as_ref().map(deploy_path_nodes).unwrap_or_default();
        for (node, want) in nodes.into_iter().zip(&doc.deploy_paths) {
            if let Some(want) = want {
                if node.as_str() != Some(want.as_str()) {
                    return replace(text, node, want, (root, label), "deploys");
                }
            }
        }
        Step::Done
    })
}

fn replace(
    text: &str,
    node: &Node,
    value: &str,
    (root, label): (&Node, Option<&str>),
    what: &str,
) -> Step {
    let label = doc_label(root, label);
    Step::Edit(
        vec![edit::replace_scalar(text, node, value)],
        Some(format!(
            "{label}: {what} {value} (was {})",
            node.as_str().unwrap_or("?")
        )),
    )
}

/// The next piece of exported live state to strip from an object: `status`, the metadata the
/// API server sets, operator-set annotations, ASO's finalizer.
fn strip_step(text: &str, root: &Node, label: Option<&str>) -> Option<Step> {
    let label = doc_label(root, label);
    let stuck = |what: &str| Step::Stuck(format!("{label}: cannot remove {what}"));
    let entries = root.entries()?;
    if let Some(index) = entries
        .iter()
        .position(|e| e.key.as_str() == Some("status"))
    {
        return Some(match edit::remove_entry(text, root, index) {
            Some(e) => Step::Edit(
                vec![e],
                Some(format!("{label}: live state removed: status")),
            ),
            None => stuck("status"),
        });
    }
    let metadata = root.get("metadata").filter(|m| m.entries().is_some())?;
    for (index, entry) in metadata.entries().unwrap_or_default().iter().enumerate() {
        let Some(key) = entry
            .key
            .as_str()
            .filter(|k| LIVE_METADATA.contains(k) || MOVED_METADATA.contains(k))
        else {
            continue;
        };
        return Some(match edit::remove_entry(text, metadata, index) {
            Some(e) => Step::Edit(
                vec![e],
                Some(format!("{label}: live state removed: metadata.{key}")),
            ),
            None => stuck(key),
        });
    }
    for key in OPERATOR_ANNOTATIONS
        .into_iter()
        .chain([KUBECTL_LAST_APPLIED])
    {
        if metadata
            .get("annotations")
            .and_then(|a| a.get(key))
            .is_some()
        {
            return Some(match edit::remove_annotation(text, root, key) {
                Some(edits) => Step::Edit(
                    edits,
                    Some(format!("{label}: operator-set annotation removed: {key}")),
                ),
                None => stuck(key),
            });
        }
    }
    let finalizers_index = metadata
        .entries()
        .unwrap_or_default()
        .iter()
        .position(|e| e.key.as_str() == Some("finalizers"))?;
    let finalizers = &metadata.entries().unwrap_or_default()[finalizers_index].value;
    let items = finalizers.items()?;
    let index = items
        .iter()
        .position(|i| i.as_str() == Some(ASO_FINALIZER))?;
    let edit = if items.len() == 1 {
        edit::remove_entry(text, metadata, finalizers_index)
    } else {
        edit::remove_item(text, finalizers, index)
    };
    Some(match edit {
        Some(e) => Step::Edit(
            vec![e],
            Some(format!(
                "{label}: live state removed: finalizer {ASO_FINALIZER}"
            )),
        ),
        None => stuck("ASO's finalizer"),
    })
}

/// A document as messages name it: `label` when given (an object's name as applied), else the
/// object's kind and written name.
fn doc_label(root: &Node, label: Option<&str>) -> String {
    match label {
        Some(label) => label.to_string(),
        None => {
            Manifest::from_root(root).map_or_else(|| "document".to_string(), |m| super::label(&m))
        }
    }
}

/// Copy a file byte for byte (SOPS-encrypted files, templates, generator inputs): a new file,
/// nothing when the destination has the same bytes, a conflict when it differs.
fn copy_as_is(plan: &mut Plan, dst_path: &Path, text: &str, existing: Option<&str>, src: &Path) {
    match existing {
        None => plan.push_change(FileChange {
            path: dst_path.to_path_buf(),
            before: None,
            after: text.to_string(),
            actions: Vec::new(),
            source: Some(src.to_path_buf()),
        }),
        Some(existing) if existing == text => {}
        Some(_) => plan.conflict(
            dst_path,
            format!(
                "exists with other content than {}, which is copied as is (never merged); remove or reconcile it first",
                src.display()
            ),
        ),
    }
}

/// Whether two texts hold the same documents (as JSON), so a copy need not be rewritten.
fn same_documents(a: &str, b: &str) -> bool {
    let values = |text: &str| -> Option<Vec<Value>> {
        let arena = yaml::Arena::new();
        let stream = yaml::parse(&arena, text);
        if stream.error.is_some() {
            return None;
        }
        stream
            .documents
            .iter()
            .map(|d| d.root.as_ref().map_or(Ok(Value::Null), json::to_json).ok())
            .collect()
    };
    matches!((values(a), values(b)), (Some(x), Some(y)) if x == y)
}

/// An object the existing file holds that the new text does not, named for a message.
fn dropped_object(existing: &str, new: &str) -> Option<String> {
    let keys = |text: &str| -> Vec<ObjectKey> {
        let arena = yaml::Arena::new();
        let stream = yaml::parse(&arena, text);
        manifests(&stream).iter().filter_map(object_key).collect()
    };
    let kept: HashSet<ObjectKey> = keys(new).into_iter().collect();
    keys(existing)
        .into_iter()
        .find(|k| !kept.contains(k))
        .map(|(_, kind, _, name)| format!("{kind} `{name}`"))
}

/// The scalars naming what an ArgoCD Application (`spec.source.path`, `spec.sources[].path`)
/// or a Flux Kustomization (`spec.path`) deploys, in document order; empty for other objects.
fn deploy_path_nodes<'d, 'a>(manifest: &Manifest<'d, 'a>) -> Vec<&'d Node<'a>> {
    let Some(spec) = manifest.root.get("spec") else {
        return Vec::new();
    };
    if manifest.is("argoproj.io", "Application") {
        std::iter::once(spec.get("source"))
            .flatten()
            .chain(
                spec.get("sources")
                    .and_then(Node::items)
                    .unwrap_or_default(),
            )
            .filter_map(|source| source.get("path"))
            .collect()
    } else if manifest.is("kustomize.toolkit.fluxcd.io", "Kustomization") {
        spec.get("path").into_iter().collect()
    } else {
        Vec::new()
    }
}

/// Where an Application or Flux Kustomization deploys, when it is not the cluster that runs
/// it: an ArgoCD destination other than `https://kubernetes.default.svc` / `in-cluster`, or a
/// Flux `spec.kubeConfig`.
fn remote_destination(manifest: &Manifest) -> Option<String> {
    let spec = manifest.root.get("spec")?;
    if manifest.is("argoproj.io", "Application") {
        let destination = spec.get("destination");
        let server = destination.and_then(|d| d.get_str("server"));
        let name = destination.and_then(|d| d.get_str("name"));
        return match (server.map(|s| s.trim_end_matches('/')), name) {
            (Some("https://kubernetes.default.svc"), _) | (None, Some("in-cluster")) => None,
            (Some(server), _) => Some(format!("server {server}")),
            (None, Some(name)) => Some(format!("cluster {name}")),
            (None, None) => Some("no destination".into()),
        };
    }
    spec.get("kubeConfig")
        .map(|_| "spec.kubeConfig".to_string())
}

/// Every object of a stream.
fn manifests<'d, 'a>(stream: &'d yaml::Stream<'a>) -> Vec<Manifest<'d, 'a>> {
    manifests_or_none(stream).into_iter().flatten().collect()
}

/// Every document of a stream as an object, `None` where it is not a mapping.
fn manifests_or_none<'d, 'a>(stream: &'d yaml::Stream<'a>) -> Vec<Option<Manifest<'d, 'a>>> {
    stream
        .documents
        .iter()
        .map(|d| d.root.as_ref().and_then(Manifest::from_root))
        .collect()
}

/// Files referenced as patches by the kustomizations among `files` (absolute paths): they hold
/// partial objects, not resources of their own.
fn patch_files(files: &[Loaded]) -> HashSet<PathBuf> {
    let mut out = HashSet::new();
    for file in files
        .iter()
        .filter(|f| kustomize::is_kustomization(&f.target.fs_path))
    {
        let dir = file.target.fs_path.parent().unwrap_or(Path::new("/"));
        let arena = yaml::Arena::new();
        let stream = yaml::parse(&arena, &file.text);
        for manifest in manifests(&stream) {
            for reference in kustomize::refs(manifest.root) {
                if reference.kind == RefKind::Patch {
                    out.insert(kustomize::resolve(dir, &reference.path));
                }
            }
        }
    }
    out
}

/// The files of a migration side: YAML files (as `check` finds them) and kustomizations named
/// `Kustomization`. Symbolic links are not followed, and excluded files not read: each one is
/// noted, and one that holds ASO resources is a conflict (its resources would get neither
/// `skip` nor a copy).
fn files_under(
    given: &Path,
    absolute_dir: &Path,
    settings: &Settings,
    plan: &mut Plan,
) -> Result<Vec<Target>, TransformError> {
    let (mut targets, problems) = discover::discover(&[given.to_path_buf()], settings, false);
    if let Some(problem) = problems
        .iter()
        .find(|p| !p.message.starts_with("no .yaml or .yml files"))
    {
        return Err(TransformError::at(&problem.path, &problem.message));
    }
    let found: HashSet<PathBuf> = targets.iter().map(|t| t.fs_path.to_path_buf()).collect();
    for entry in walkdir::WalkDir::new(given)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git")
        .filter_map(Result::ok)
    {
        let relative = entry.path().strip_prefix(given).unwrap_or(entry.path());
        let fs_path = absolute_dir.join(relative);
        let is_yaml = discover::is_yaml_name(entry.path());
        if entry.file_type().is_symlink() {
            let manifest =
                is_yaml && entry.path().is_file() && rewrite::holds_aso(entry.path(), settings);
            let message = format!(
                "{}: a symbolic link, not followed: neither changed nor copied",
                entry.path().display()
            );
            if manifest {
                plan.conflict(
                    entry.path(),
                    format!(
                        "{message}, yet it holds ASO resources; replace the link with the file"
                    ),
                );
            } else {
                plan.notes.push(message);
            }
        } else if !entry.file_type().is_file() {
            continue;
        } else if entry.file_name() == "Kustomization" && !settings.is_excluded(&fs_path) {
            targets.push(Target::new(given.join(relative), fs_path));
        } else if is_yaml && !found.contains(&fs_path) && rewrite::holds_aso(entry.path(), settings)
        {
            plan.conflict(
                entry.path(),
                "excluded from asoguard by the config's exclude globs, yet it holds ASO resources: they would get neither `skip` nor a copy; stop excluding it, or move it out of the source",
            );
        }
    }
    targets.sort();
    targets.dedup_by(|a, b| a.fs_path == b.fs_path);
    Ok(targets)
}

/// Make the source passive and the destination active in `.asoguard.yaml` (creating the file
/// when there is none), so `check` does not report the source's `skip` (ASO001) or the
/// destination's lack of it. Returns the config's path.
fn mark_clusters(
    plan: &mut Plan,
    settings: &Settings,
    (from, to): (&Path, &Path),
    (src_paths, dst_paths): (&[PathBuf], &[PathBuf]),
    deployers: &BTreeMap<PathBuf, Option<String>>,
) -> Result<PathBuf, TransformError> {
    let (config_path, before) = match &settings.config_path {
        Some(path) => (
            path.clone(),
            Some(
                discover::read_text(path, settings.max_file_size)
                    .map_err(|e| TransformError::at(path, e.to_string()))?,
            ),
        ),
        None => {
            let root = &settings.root;
            let base = if from.starts_with(root)
                && to.starts_with(root)
                && !root.starts_with(from)
                && !root.starts_with(to)
            {
                root.clone()
            } else {
                common_ancestor(from, to)
            };
            (base.join(CONFIG_FILE), None)
        }
    };
    let config_dir = config_path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let mut text = before.clone().unwrap_or_default();
    let raw = config_edit::clusters(&text);
    let mut taken: HashSet<String> = raw.iter().map(|c| c.name.clone()).collect();
    let mut actions = Vec::new();
    for (side, dir, paths, role) in [
        ("source", from, src_paths, Role::Passive),
        ("destination", to, dst_paths, Role::Active),
    ] {
        let Ok(dir_rel) = dir.strip_prefix(&config_dir) else {
            let message = format!(
                "the {side} {} is outside the repository root {}: its cluster role cannot be recorded in {}",
                dir.display(),
                config_dir.display(),
                config_path.display()
            );
            match role {
                // An unlisted path is active anyway.
                Role::Active => plan.notes.push(message),
                Role::Passive => plan.conflict(&config_path, message),
            }
            continue;
        };
        let dir_rel = dir_rel.to_string_lossy().replace('\\', "/");
        let mut clusters: Vec<Option<(String, Role)>> = Vec::new();
        if before.is_some() {
            for path in paths {
                let cluster = settings.cluster_of(path).map(|c| (c.name.clone(), c.role));
                if !clusters.contains(&cluster) {
                    clusters.push(cluster);
                }
            }
        }
        if clusters.iter().all(Option::is_none) {
            let base = Path::new(&dir_rel)
                .file_name()
                .map_or_else(|| side.to_string(), |n| n.to_string_lossy().into_owned());
            let name = unique_name(&base, &taken);
            taken.insert(name.clone());
            let glob = format!("{dir_rel}/**");
            match config_edit::add_cluster(&text, &name, &glob, role) {
                Ok(new) => {
                    text = new;
                    actions.push(format!(
                        "cluster `{name}` added for the {side}: paths [{glob}], role {}",
                        role_str(role)
                    ));
                }
                Err(message) => plan.conflict(&config_path, message),
            }
            continue;
        }
        if clusters
            .iter()
            .all(|c| c.as_ref().is_some_and(|(_, r)| *r == role))
        {
            continue;
        }
        let exact = match clusters.as_slice() {
            [Some((name, _))] => raw.iter().find(|c| &c.name == name).filter(|c| {
                !c.paths.is_empty()
                    && c.paths.iter().all(|p| {
                        let p = p.trim_end_matches('/');
                        p == dir_rel || p.strip_suffix("/**") == Some(dir_rel.as_str())
                    })
            }),
            _ => None,
        };
        match exact {
            Some(cluster) => match config_edit::set_role(&text, &cluster.name, role) {
                Ok(Some(new)) => {
                    text = new;
                    actions.push(format!(
                        "cluster `{}` ({side}): role {} (was {})",
                        cluster.name,
                        role_str(role),
                        role_str(cluster.role)
                    ));
                }
                Ok(None) => {}
                Err(message) => plan.conflict(&config_path, message),
            },
            None => {
                let names: Vec<String> = clusters
                    .iter()
                    .map(|c| {
                        c.as_ref().map_or_else(
                            || "(none)".into(),
                            |(n, r)| format!("`{n}` ({})", role_str(*r)),
                        )
                    })
                    .collect();
                let consequence = match role {
                    Role::Passive => "its `skip` would be reported as ASO001",
                    Role::Active => "its resources without `skip` would stand in a passive cluster",
                };
                plan.conflict(
                    &config_path,
                    format!(
                        "the {side} {} lies in {} {} that {} more than it: {consequence}; give it a cluster of its own (role: {}) in .asoguard.yaml first",
                        dir.display(),
                        crate::wording::agree(names.len(), "cluster", "clusters"),
                        names.join(", "),
                        crate::wording::agree(names.len(), "covers", "cover"),
                        role_str(role)
                    ),
                );
            }
        }
    }
    // Contexts outside the source that deploy it (an ArgoCD Application, a Flux Kustomization,
    // a kustomization elsewhere) decide the cluster of what they render: they go passive too.
    for (deployer, also) in deployers {
        let shown = verify::display(deployer);
        if let Some(also) = also {
            plan.conflict(
                &shown,
                format!(
                    "deploys the source and also {also}: marking it passive would leave that without reconciliation; give the source a deployment of its own first"
                ),
            );
            continue;
        }
        let cluster = settings
            .cluster_of(deployer)
            .filter(|_| before.is_some())
            .map(|c| (c.name.clone(), c.role));
        let Ok(file_rel) = deployer.strip_prefix(&config_dir) else {
            plan.conflict(
                &shown,
                "deploys the source but lies outside the repository root",
            );
            continue;
        };
        let file_rel = file_rel.to_string_lossy().replace('\\', "/");
        match cluster {
            Some((_, Role::Passive)) => {}
            None => {
                let base = Path::new(&file_rel).file_stem().map_or_else(
                    || "deployer".to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                let name = unique_name(&format!("{base}-source"), &taken);
                taken.insert(name.clone());
                match config_edit::add_cluster(&text, &name, &file_rel, Role::Passive) {
                    Ok(new) => {
                        text = new;
                        actions.push(format!(
                            "cluster `{name}` added for {file_rel}, which deploys the source: role passive"
                        ));
                    }
                    Err(message) => plan.conflict(&config_path, message),
                }
            }
            Some((name, Role::Active)) => {
                let exact = raw
                    .iter()
                    .find(|c| c.name == name)
                    .is_some_and(|c| c.paths.iter().all(|p| p == &file_rel) && !c.paths.is_empty());
                match exact.then(|| config_edit::set_role(&text, &name, Role::Passive)) {
                    Some(Ok(Some(new))) => {
                        text = new;
                        actions.push(format!(
                            "cluster `{name}` ({file_rel}, which deploys the source): role passive (was active)"
                        ));
                    }
                    Some(Ok(None)) => {}
                    Some(Err(message)) => plan.conflict(&config_path, message),
                    None => plan.conflict(
                        &shown,
                        format!(
                            "deploys the source from active cluster `{name}`, which covers more than this file: its `skip` would be reported as ASO001; give {file_rel} a cluster of its own (role: passive) first"
                        ),
                    ),
                }
            }
        }
    }
    if before.as_deref() != Some(text.as_str()) && !actions.is_empty() {
        plan.push_change(FileChange {
            path: config_path.clone(),
            before,
            after: text,
            actions,
            source: None,
        });
    }
    Ok(config_path)
}

/// The files of contexts outside the source (ArgoCD Applications, Flux Kustomizations,
/// kustomizations) that deploy ASO resources of the source, as `check` renders the repository;
/// with each, an ASO resource from outside the source that it deploys too, if any.
fn outside_deployers(index: &Index, from: &Path) -> BTreeMap<PathBuf, Option<String>> {
    let mut out: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    let located = |instance: &crate::index::Instance| {
        let context = &index.files[index.contexts[instance.context].file].fs_path;
        let object = &index.files[instance.file].fs_path;
        (context.to_path_buf(), object.to_path_buf())
    };
    for instance in index.instances.iter().filter(|i| index.object(i).aso) {
        let (context, object) = located(instance);
        if !context.starts_with(from) && object.starts_with(from) {
            out.entry(context).or_insert(None);
        }
    }
    for instance in index.instances.iter().filter(|i| index.object(i).aso) {
        let (context, object) = located(instance);
        if let Some(also @ None) = out.get_mut(&context) {
            if !object.starts_with(from) {
                let fact = index.object(instance);
                *also = Some(format!(
                    "{} `{}` ({})",
                    fact.kind,
                    fact.name.as_deref().unwrap_or("?"),
                    verify::display(&object).display()
                ));
            }
        }
    }
    out
}

fn unique_name(base: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|n| !taken.contains(n))
        .unwrap_or_else(|| base.to_string())
}

fn common_ancestor(a: &Path, b: &Path) -> PathBuf {
    a.ancestors()
        .find(|p| b.starts_with(p))
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

/// The path with symbolic links resolved, for the part that exists; the rest kept lexically.
fn real_path(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    for name in rest.into_iter().rev() {
        out.push(name);
    }
    out
}

/// Whether `name` is a DNS-1123 label, as Kubernetes namespaces must be.
fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::fs;

    fn strip(text: &str) -> String {
        rewrite::rewrite(text, |_, text, root| {
            strip_step(text, root, None).unwrap_or(Step::Done)
        })
        .unwrap()
        .0
    }

    #[test]
    fn strips_live_state_keeping_other_finalizers_and_flow_style() {
        let text = "apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  uid: u # live\n  finalizers:\n  - example.com/keep\n  - serviceoperator.azure.com/finalizer\nstatus: {ready: true}\n";
        assert_eq!(
            strip(text),
            "apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  finalizers:\n  - example.com/keep\n"
        );
        let text = "kind: X\nmetadata: {name: a, resourceVersion: '1', annotations: {serviceoperator.azure.com/resource-id: /x, team: a}}\n";
        assert_eq!(
            strip(text),
            "kind: X\nmetadata: {name: a, annotations: {team: a}}\n"
        );
    }

    #[test]
    fn refuses_bad_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(root.join("a/x.yaml"), "a: 1\n").unwrap();
        let settings = Settings::resolve(Config::default(), root.clone(), None).unwrap();
        let options = |to: &str, ns: Option<&str>| MigrateOptions {
            from: root.join("a"),
            to: root.join(to),
            namespace: ns.map(str::to_string),
        };
        let error = plan(&options("b", Some("Not_A_Name")), &settings).unwrap_err();
        assert!(error.message.contains("not a valid namespace"), "{error}");
        let error = plan(&options("a/b", None), &settings).unwrap_err();
        assert!(error.message.contains("inside the source"), "{error}");
        let error = plan(&options(".", None), &settings).unwrap_err();
        assert!(
            error.message.contains("source is inside the destination"),
            "{error}"
        );
        let error = plan(&options("a", None), &settings).unwrap_err();
        assert!(error.message.contains("inside the source"), "{error}");
        assert!(plan(&options("b", Some("b-1")), &settings).is_ok());
        assert!(!is_dns_label("-a") && !is_dns_label(&"a".repeat(64)) && is_dns_label("a-1"));
    }
}
