//! The cross-file model: what GitOps applies. Files are summarised (`facts`), then rendered
//! (`render`) into *instances*: each ASO resource as a kustomization, Flux Kustomization, ArgoCD
//! Application or a plain file applies it, with its effective annotations and where each comes
//! from. Cross-file rules judge instances and report where the cause is.

pub mod facts;
pub mod inventory;
mod render;
pub mod substitute;

use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use compact_str::CompactString;

pub use facts::{FileFacts, ObjectFact, PolicyFact};

use crate::config::{Role, Settings};
use crate::diagnostic::{ObjectRef, Related, Severity};
use crate::discover::Target;
use crate::files::{Disk, Tree};
use crate::fix::Applicability;
use crate::manifest::{DeclaredPolicy, Policy};
use crate::note::Note;
use crate::registry::Rule;
use crate::span::{LineIndex, Span};

/// A file's position in the index.
pub type FileId = usize;

/// One indexed file.
#[derive(Clone, Debug)]
pub struct IndexedFile {
    /// The path as reported.
    pub display: Arc<Path>,
    /// The absolute path.
    pub fs_path: Arc<Path>,
    /// Its summary (see [`FileFacts::shared`]).
    pub facts: Arc<FileFacts>,
    /// Its line starts: related locations in it are resolved without keeping its text.
    pub lines: LineIndex,
}

impl IndexedFile {
    /// The entry of `target` with its `facts`. Its line index (`lines`, called only when
    /// needed) is kept only when it has facts: related locations point at nothing else.
    pub fn new(target: &Target, facts: FileFacts, lines: impl FnOnce() -> LineIndex) -> Self {
        let lines = if facts.is_empty() {
            LineIndex::empty()
        } else {
            lines()
        };
        IndexedFile {
            display: target.display.clone(),
            fs_path: target.fs_path.clone(),
            facts: facts.shared(),
            lines,
        }
    }

    /// 1-based line and byte column of `offset`, for related locations.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.lines.line_of(offset);
        (
            line + 1,
            offset.saturating_sub(self.lines.line_start(line)) + 1,
        )
    }
}

/// Where an effective annotation comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OriginKind {
    /// The object's own annotation.
    Own,
    /// A strategic merge patch file.
    PatchFile,
    /// A JSON6902 patch operation (file).
    JsonPatch,
    /// An inline patch in a kustomization (reported, not fixed).
    InlinePatch,
    /// A kustomization's `commonAnnotations`.
    Common,
    /// A Flux Kustomization's `spec.commonMetadata.annotations`.
    Flux,
    /// An ArgoCD Application's `managedNamespaceMetadata` annotations.
    ArgoNamespace,
    /// A Namespace object's annotation.
    Namespace,
}

impl OriginKind {
    /// How reports name it: `own`, `patch`, `json-patch`, `inline-patch`,
    /// `common-annotations`, `flux-common-metadata`, `argocd-managed-namespace`, `namespace`.
    pub fn as_str(self) -> &'static str {
        match self {
            OriginKind::Own => "own",
            OriginKind::PatchFile => "patch",
            OriginKind::JsonPatch => "json-patch",
            OriginKind::InlinePatch => "inline-patch",
            OriginKind::Common => "common-annotations",
            OriginKind::Flux => "flux-common-metadata",
            OriginKind::ArgoNamespace => "argocd-managed-namespace",
            OriginKind::Namespace => "namespace",
        }
    }
}

/// The place an annotation value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// What kind of place.
    pub kind: OriginKind,
    /// The file.
    pub file: FileId,
    /// The document in that file.
    pub doc: usize,
    /// The `key: value` entry (or the patch).
    pub entry: Span,
    /// The value.
    pub value: Span,
}

/// How a context applies its resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContextKind {
    /// A top-level kustomization (no other kustomization or app references it).
    Kustomization,
    /// A Flux Kustomization.
    Flux,
    /// An ArgoCD Application (or one app of an ApplicationSet).
    Argo,
    /// A file that nothing renders, applied as it is.
    Standalone,
}

/// One way the repository is applied to a cluster.
#[derive(Clone, Debug)]
pub struct Context {
    /// Its kind.
    pub kind: ContextKind,
    /// The file that defines it (the kustomization, Flux or Argo object, or the plain file).
    pub file: FileId,
    /// The defining document, for Flux and Argo objects.
    pub doc: Option<usize>,
    /// The cluster (index into `Settings::clusters`).
    pub cluster: Option<usize>,
    /// Its role.
    pub role: Role,
    /// Its applier deletes from the cluster what is removed from Git: Flux `spec.prune: true`,
    /// ArgoCD `syncPolicy.automated.prune: true`.
    pub prune: bool,
    /// What a Flux Kustomization's `postBuild` substitutes in what it applies.
    pub substitution: Option<Arc<substitute::Substitution>>,
}

impl Context {
    /// A context of `kind` defined by document `doc` of `file`, active and in no cluster until
    /// rendering places it, pruning nothing, substituting nothing.
    pub fn new(kind: ContextKind, file: FileId, doc: Option<usize>) -> Self {
        Context {
            kind,
            file,
            doc,
            cluster: None,
            role: Role::Active,
            prune: false,
            substitution: None,
        }
    }
}

/// An object as one context applies it.
#[derive(Clone, Debug)]
pub struct Instance {
    /// The source file.
    pub file: FileId,
    /// Index into that file's `facts.objects`.
    pub object: usize,
    /// Index into `Index::contexts`.
    pub context: usize,
    /// The namespace it lands in.
    pub namespace: Option<CompactString>,
    /// Its name after Kustomize's `namePrefix`/`nameSuffix` (the Azure name when `spec.azureName`
    /// is not set).
    pub name: Option<CompactString>,
    /// The reconcile-policy after every transform (`None`: unset), and where it comes from.
    pub policy: Option<(CompactString, Origin)>,
    /// The object is an ASO resource. Kept here, as `critical`, so the cross-file rules can
    /// pass over the instances they do not judge without reaching each object's facts.
    pub aso: bool,
    /// The object is of a critical kind (ASO resources only).
    pub critical: bool,
}

/// What `kustomize build` makes of one kustomization, as asoguard renders it
/// ([`Index::kustomize_build`]).
#[derive(Clone, Debug)]
pub struct KustomizeBuild {
    /// The objects the build emits, in build order, local-config objects left out. Only objects
    /// the index keeps facts of: those in documents the prefilter ([`crate::relevance`]) finds
    /// relevant (ASO resources, Namespaces, Kustomize, Flux and ArgoCD objects, anything that
    /// names one of them).
    pub objects: Vec<Built>,
    /// Why kustomize refuses to build it, with its load restrictions on (the `build-fails`
    /// note): then it emits nothing.
    pub refused: Option<Note>,
}

/// An object as a kustomize build emits it.
#[derive(Clone, Debug)]
pub struct Built {
    /// The source file.
    pub file: FileId,
    /// Index into that file's `facts.objects`.
    pub object: usize,
    /// The namespace it lands in.
    pub namespace: Option<CompactString>,
    /// Its name.
    pub name: Option<CompactString>,
    /// Its reconcile-policy annotation (`None`: unset, null or empty) and where it is written.
    pub policy: Option<(CompactString, Origin)>,
    /// Its `argocd.argoproj.io/sync-options` annotation and where it is written.
    pub sync_options: Option<(CompactString, Origin)>,
}

/// What an Application's sources reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// A source path applies ASO resources.
    Aso(String),
    /// No source applies ASO resources, and this one could not be resolved.
    Unresolved(String),
    /// Every source resolved, none applies ASO resources.
    NoAso,
}

/// A fix, described without the file's tree; the checker turns it into edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FixPlan {
    /// Set the object's reconcile-policy annotation.
    SetPolicy {
        /// The document.
        doc: usize,
        /// The value.
        policy: Policy,
    },
    /// Remove the object's reconcile-policy annotation.
    RemovePolicy {
        /// The document.
        doc: usize,
    },
    /// Replace the scalar at this span.
    ReplaceValue {
        /// The scalar's span.
        span: Span,
        /// The new value.
        value: String,
    },
    /// Set `key: value` in the mapping at `path` of a document.
    SetEntryAt {
        /// The document.
        doc: usize,
        /// Keys from the root to the mapping.
        path: Vec<&'static str>,
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Remove the sequence item at this span (and the sequence's key when it was the only
    /// item).
    RemoveItem {
        /// The item's span.
        span: Span,
    },
    /// Remove `key` from the mapping at `path` of a document.
    RemoveEntryAt {
        /// The document.
        doc: usize,
        /// Keys from the root to the mapping.
        path: Vec<&'static str>,
        /// The key.
        key: String,
    },
}

/// A cross-file finding, to be reported in one file.
#[derive(Clone, Debug)]
pub struct Judgement {
    /// The rule.
    pub rule: Rule,
    /// Where, in the file it is filed under.
    pub span: Span,
    /// The message.
    pub message: String,
    /// Help.
    pub help: Option<String>,
    /// A lower severity than the rule's default, when the rule says so.
    pub severity: Option<Severity>,
    /// The fix: title, applicability and plan.
    pub fix: Option<(String, Applicability, FixPlan)>,
    /// The object it is about.
    pub object: Option<ObjectRef>,
    /// Other places that explain it.
    pub related: Vec<Related>,
}

/// Which kind of kustomization entry points outside the repository root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutsideEntry {
    /// A `resources` or `components` entry.
    Resource,
    /// A patch's `path`.
    Patch,
}

/// A kustomization entry that points outside the repository root: asoguard never reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutsideRoot {
    /// The kustomization.
    pub file: FileId,
    /// The entry's text, in the kustomization.
    pub span: Span,
    /// The entry as written.
    pub text: String,
    /// What kind of entry it is.
    pub entry: OutsideEntry,
}

/// Cross-file facts of a run, and the judgements of cross-file rules.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// Every indexed file.
    pub files: Vec<IndexedFile>,
    /// File ids by a hash of their path (keeping no second copy of every path).
    by_path: FxHashMap<u64, FileId>,
    namespaces: FxHashMap<(Option<usize>, CompactString), (FileId, usize)>,
    /// Every context.
    pub contexts: Vec<Context>,
    /// Every instance.
    pub instances: Vec<Instance>,
    /// Every instance as (file, document, instance), sorted: an object's instances are a range.
    by_source: Vec<(FileId, usize, usize)>,
    /// The ArgoCD sync-options of the instances that have one, after every transform, and
    /// where the value is written, by (context, file, object): few have one, so instances do
    /// not carry room for it ([`Index::sync_options`]).
    sync_options: FxHashMap<(usize, FileId, usize), (CompactString, Origin)>,
    app_reach: FxHashMap<(FileId, usize), Reach>,
    judgements: FxHashMap<FileId, Vec<Judgement>>,
    /// Kustomization entries that point outside the root, in the order rendering met them.
    pub outside_root: Vec<OutsideRoot>,
    notes: FxHashMap<FileId, Vec<Note>>,
    run_notes: Vec<Note>,
    root: PathBuf,
    /// The revision the files come from, when it is not the working tree.
    tree: Option<Arc<dyn Tree>>,
}

impl Index {
    /// Index `files` (display path, absolute path, facts, line starts) and render what each
    /// context applies. It judges nothing: the engine has the cross-file rules judge it.
    pub fn build(files: Vec<IndexedFile>, settings: &Settings) -> Self {
        Index::build_in(files, settings, None)
    }

    /// [`Index::build`] for files of `tree` (the working tree when `None`): what rendering reads
    /// or asks of paths beyond the summarised files, it asks of that revision.
    pub fn build_in(
        mut files: Vec<IndexedFile>,
        settings: &Settings,
        tree: Option<Arc<dyn Tree>>,
    ) -> Self {
        use rayon::prelude::*;
        // Sorted by path, so ids are the same however the files were given.
        files.par_sort_by(|a, b| a.fs_path.cmp(&b.fs_path));
        let keys: Vec<u64> = files.par_iter().map(|f| path_key(&f.fs_path)).collect();
        let mut by_path: FxHashMap<u64, FileId> =
            FxHashMap::with_capacity_and_hasher(files.len(), Default::default());
        for (id, key) in keys.into_iter().enumerate() {
            // Two paths with one key (never seen in practice) leave the second to the search
            // in `file_id`.
            by_path.entry(key).or_insert(id);
        }
        let mut index = Index::default();
        index.by_path = by_path;
        index.files = files;
        index.root = settings.root.clone();
        index.tree = tree;
        for (id, file) in index.files.iter().enumerate() {
            for (i, object) in file.facts.objects.iter().enumerate() {
                if object.group.is_empty() && object.kind == "Namespace" {
                    if let Some(name) = &object.name {
                        let cluster = cluster_index(settings, &file.fs_path);
                        index
                            .namespaces
                            .entry((cluster, name.clone()))
                            .or_insert((id, i));
                    }
                }
            }
        }
        render::render(&mut index, settings);
        let mut by_source: Vec<(FileId, usize, usize)> = index
            .instances
            .par_iter()
            .enumerate()
            .map(|(i, instance)| (instance.file, index.object(instance).doc, i))
            .collect();
        by_source.par_sort_unstable();
        index.by_source = by_source;
        index
    }

    /// The revision the index's files come from.
    pub fn tree(&self) -> &dyn Tree {
        self.tree.as_deref().unwrap_or(&Disk)
    }

    /// A file as messages name it: relative to the repository root, so a message reads the same
    /// however asoguard was invoked.
    pub fn describe(&self, file: FileId) -> String {
        let f = &self.files[file];
        f.fs_path
            .strip_prefix(&self.root)
            .unwrap_or(&f.display)
            .display()
            .to_string()
    }

    /// What applies a context, as messages name it: "Flux Kustomization `apps` in
    /// clusters/prod/apps.yaml", "ArgoCD Application `web` in apps/web.yaml", or a top-level
    /// kustomization's file.
    pub fn describe_context(&self, context: &Context) -> String {
        let object = self.applier(context);
        match object {
            Some(o) => self.describe_applier(context.file, o),
            None => self.describe(context.file),
        }
    }

    /// A Flux Kustomization or ArgoCD Application (or ApplicationSet) of `file`, as messages
    /// name it.
    pub fn describe_applier(&self, file: FileId, object: &ObjectFact) -> String {
        let path = self.describe(file);
        let name = object.name.as_deref().unwrap_or("?");
        match &object.extra {
            facts::Extra::Flux(_) => format!("Flux Kustomization `{name}` in {path}"),
            facts::Extra::Argo(_) => format!("ArgoCD {} `{name}` in {path}", object.kind),
            facts::Extra::None => path,
        }
    }

    /// The id of the file at `fs_path`.
    pub fn file_id(&self, fs_path: &Path) -> Option<FileId> {
        match self.by_path.get(&path_key(fs_path)) {
            Some(&id) if *self.files[id].fs_path == *fs_path => Some(id),
            // Not indexed, or its key is another path's: the files are sorted by path.
            _ => self
                .files
                .binary_search_by(|f| (*f.fs_path).cmp(fs_path))
                .ok(),
        }
    }

    /// The object of document `doc` of `file`, if that document is one.
    pub fn object_at(&self, file: FileId, doc: usize) -> Option<&ObjectFact> {
        self.files[file].facts.objects.iter().find(|o| o.doc == doc)
    }

    /// The Flux Kustomization or ArgoCD Application that defines a context, if one does.
    pub fn applier(&self, context: &Context) -> Option<&ObjectFact> {
        self.object_at(context.file, context.doc?)
    }

    /// The object an instance is of.
    pub fn object(&self, instance: &Instance) -> &ObjectFact {
        &self.files[instance.file].facts.objects[instance.object]
    }

    /// A text of an instance's object as its context applies it: with the Flux Kustomization's
    /// `postBuild` variables substituted (unknown ones stay `${...}`).
    fn substituted<'t>(&self, instance: &Instance, text: &'t str) -> std::borrow::Cow<'t, str> {
        match &self.contexts[instance.context].substitution {
            Some(s) if !self.object(instance).substitute_disabled => s.apply(text),
            _ => std::borrow::Cow::Borrowed(text),
        }
    }

    /// The instance's `spec.azureName` as applied (Flux variables substituted).
    pub fn azure_name(&self, instance: &Instance) -> Option<std::borrow::Cow<'_, str>> {
        let name = self.object(instance).azure_name.as_deref()?;
        Some(self.substituted(instance, name))
    }

    /// The instance's `spec.owner.name` as applied (Flux variables substituted).
    pub fn owner(&self, instance: &Instance) -> Option<std::borrow::Cow<'_, str>> {
        let owner = self.object(instance).owner.as_deref()?;
        Some(self.substituted(instance, owner))
    }

    /// The ArgoCD sync-options of an instance as applied (after every transform), and where the
    /// value is written. Unlike the reconcile-policy, nothing inherits it: ArgoCD reads only the
    /// object's own annotation. (Kept by context and object: should one context render an
    /// object twice, both instances have the value of the last.)
    pub fn sync_options(&self, instance: &Instance) -> Option<(&str, Origin)> {
        if self.sync_options.is_empty() {
            return None;
        }
        self.sync_options
            .get(&(instance.context, instance.file, instance.object))
            .map(|(v, o)| (v.as_str(), *o))
    }

    /// Build the kustomization in `file` as `kustomize build` (or `kubectl kustomize`) would,
    /// with its load restrictions: what it emits, or why it refuses to build it. `None` when
    /// the file is not a kustomization. For comparing asoguard's rendering with kustomize's;
    /// a run renders every context itself.
    pub fn kustomize_build(&mut self, settings: &Settings, file: FileId) -> Option<KustomizeBuild> {
        self.files.get(file)?.facts.kustomization.as_ref()?;
        Some(render::kustomize_build(self, settings, file))
    }

    /// The instances of the object in document `doc` of `file`.
    pub fn instances_of(&self, file: FileId, doc: usize) -> impl Iterator<Item = &Instance> {
        let start = self
            .by_source
            .partition_point(|&(f, d, _)| (f, d) < (file, doc));
        self.by_source[start..]
            .iter()
            .take_while(move |&&(f, d, _)| (f, d) == (file, doc))
            .map(|&(_, _, i)| &self.instances[i])
    }

    /// What an Application's sources reach.
    pub fn app_reach(&self, file: FileId, doc: usize) -> Option<&Reach> {
        self.app_reach.get(&(file, doc))
    }

    /// Cross-file findings filed under `file`.
    pub fn judgements(&self, file: FileId) -> &[Judgement] {
        self.judgements.get(&file).map_or(&[], Vec::as_slice)
    }

    /// The style of the reconcile-policy value at `span` in `file`, when its facts hold one
    /// there (an object's own, a kustomization's `commonAnnotations`, a Flux Kustomization's or
    /// an Application's namespace metadata): a fix can then replace it without a tree.
    pub fn policy_value_style(&self, file: FileId, span: Span) -> Option<crate::yaml::Style> {
        let facts = &self.files.get(file)?.facts;
        let objects = facts.objects.iter().flat_map(|o| {
            let extra = match &o.extra {
                facts::Extra::Flux(flux) => flux.common_policy.as_ref(),
                facts::Extra::Argo(app) => app.managed_namespace_policy.as_ref(),
                facts::Extra::None => None,
            };
            [o.policy.as_ref(), extra]
        });
        let common = facts
            .kustomization
            .as_ref()
            .and_then(|k| k.common_policy.as_ref());
        objects
            .chain([common])
            .flatten()
            .find(|p| p.value_span == span)
            .and_then(|p| p.style)
    }

    /// The reconcile-policy the object of document `doc` of `file` declares itself, as its facts
    /// recorded it: setting its policy replaces that value.
    pub fn own_policy(&self, file: FileId, doc: usize) -> Option<&facts::PolicyFact> {
        let facts = &self.files.get(file)?.facts;
        facts.objects.iter().find(|o| o.doc == doc)?.policy.as_ref()
    }

    /// Notes about `file` (what could not be resolved).
    pub fn notes(&self, file: FileId) -> &[Note] {
        self.notes.get(&file).map_or(&[], Vec::as_slice)
    }

    /// Notes about the run as a whole (the configuration), not about one file.
    pub fn run_notes(&self) -> &[Note] {
        &self.run_notes
    }

    /// File a judgement, once per rule and place.
    pub fn file_judgement(&mut self, file: FileId, judgement: Judgement) {
        let list = self.judgements.entry(file).or_default();
        if !list
            .iter()
            .any(|j| j.rule == judgement.rule && j.span == judgement.span)
        {
            list.push(judgement);
        }
    }

    fn note(&mut self, file: FileId, note: Note) {
        let list = self.notes.entry(file).or_default();
        if !list.contains(&note) {
            list.push(note);
        }
    }

    /// The effective policy of an instance: its own (after transforms), else its Namespace's
    /// (an ArgoCD managed namespace, or a Namespace object of its cluster), else `manage`. An
    /// invalid value counts as `manage`, as ASO treats it.
    pub fn effective(&self, instance: &Instance) -> (Policy, Option<Origin>) {
        if let Some((value, origin)) = &instance.policy {
            return (
                Policy::parse(value).unwrap_or(Policy::Manage),
                Some(*origin),
            );
        }
        let context = &self.contexts[instance.context];
        let Some(namespace) = &instance.namespace else {
            return (Policy::Manage, None);
        };
        if let (ContextKind::Argo, Some(doc)) = (&context.kind, context.doc) {
            let argo = self.object_at(context.file, doc);
            if let Some(facts::Extra::Argo(app)) = argo.map(|o| &o.extra) {
                let creates = app
                    .sync_options
                    .iter()
                    .any(|(o, _)| o == "CreateNamespace=true");
                if let (true, Some(dest), Some(fact)) = (
                    creates,
                    &app.destination_namespace,
                    &app.managed_namespace_policy,
                ) {
                    if dest == namespace {
                        if let Some(value) = &fact.value {
                            let origin = Origin {
                                kind: OriginKind::ArgoNamespace,
                                file: context.file,
                                doc,
                                entry: fact.entry,
                                value: fact.value_span,
                            };
                            return (Policy::parse(value).unwrap_or(Policy::Manage), Some(origin));
                        }
                    }
                }
            }
        }
        if let Some(&(file, object)) = self.namespaces.get(&(context.cluster, namespace.clone())) {
            let ns = &self.files[file].facts.objects[object];
            if let Some(fact) = ns.policy.as_ref().filter(|p| p.value.is_some()) {
                let value = fact.value.as_deref().unwrap_or_default();
                let origin = Origin {
                    kind: OriginKind::Namespace,
                    file,
                    doc: ns.doc,
                    entry: fact.entry,
                    value: fact.value_span,
                };
                let policy = match DeclaredPolicy::from_value(Some(value)) {
                    DeclaredPolicy::Valid(p) => p,
                    _ => Policy::Manage,
                };
                return (policy, Some(origin));
            }
        }
        (Policy::Manage, None)
    }

    /// A related location pointing at `span` in `file`.
    pub fn related(&self, file: FileId, span: Span, message: String) -> Related {
        let (line, column) = self.files[file].line_col(span.start);
        Related {
            path: self.files[file].display.to_path_buf(),
            span,
            line,
            column,
            message,
        }
    }
}

impl Drop for Index {
    /// A repository's index is tens of thousands of small allocations made by the pool's
    /// threads. Dropped on the calling thread alone (every free a remote one), it took 10 ms
    /// of serial time on a 100,000-document tree; the pool drops the files and instances in
    /// 3 to 5 ms.
    fn drop(&mut self) {
        use rayon::prelude::*;
        let files = std::mem::take(&mut self.files);
        let instances = std::mem::take(&mut self.instances);
        rayon::join(
            || files.into_par_iter().for_each(drop),
            || instances.into_par_iter().for_each(drop),
        );
    }
}

/// The key of a path in [`Index::file_id`]'s table.
fn path_key(path: &Path) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(path.as_os_str())
}

/// The cluster (index into `Settings::clusters`) of a file.
pub fn cluster_index(settings: &Settings, path: &Path) -> Option<usize> {
    let cluster = settings.cluster_of(path)?;
    settings
        .clusters
        .iter()
        .position(|c| c.name == cluster.name)
}
