//! Rendering without a `kustomize` binary: Kustomize builds, Flux Kustomization paths, ArgoCD
//! sources and plain files, into contexts and instances whose annotations keep their origin.

use rustc_hash::{FxHashMap, FxHashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use compact_str::CompactString;

use super::facts::{Extra, ObjectFact, Patch, PatchEffect, PolicyFact, PostBuild, Target, Tracked};
use super::substitute::Substitution;
use super::{
    Context, ContextKind, FileId, Index, Instance, Origin, OriginKind, OutsideEntry, OutsideRoot,
    Reach, cluster_index,
};
use crate::config::{Role, Settings, normalize};
use crate::note::{Note, NoteKind};

/// An object as a build renders it, before it is placed in a context.
#[derive(Clone, Debug)]
pub(super) struct Rendered {
    pub(super) file: FileId,
    pub(super) object: usize,
    pub(super) namespace: Option<CompactString>,
    pub(super) name: Option<CompactString>,
    /// The names and namespaces it had between the ones its file gives it and the current
    /// ones (empty unless two transforms renamed it): a strategic merge patch finds its
    /// target by any of them, as kustomize does.
    history: Vec<(Option<CompactString>, Option<CompactString>)>,
    pub(super) policy: Option<(CompactString, Origin)>,
    /// Boxed: few objects have one.
    pub(super) sync_options: Option<Box<(CompactString, Origin)>>,
    /// Marked `config.kubernetes.io/local-config`: a kustomize build does not emit it.
    pub(super) local: bool,
}

impl Rendered {
    /// Set (or, with `None`, remove) a tracked annotation.
    fn set(&mut self, annotation: Tracked, value: Option<(CompactString, Origin)>) {
        match annotation {
            Tracked::Policy => self.policy = value,
            Tracked::SyncOptions => self.sync_options = value.map(Box::new),
        }
    }

    /// A tracked annotation's value, if set.
    fn value_mut(&mut self, annotation: Tracked) -> Option<&mut CompactString> {
        match annotation {
            Tracked::Policy => self.policy.as_mut().map(|(v, _)| v),
            Tracked::SyncOptions => self.sync_options.as_mut().map(|b| &mut b.0),
        }
    }

    /// Rename it (name and namespace), remembering the name and namespace it had when they are
    /// neither its file's nor already remembered.
    fn rename(
        &mut self,
        fact: &ObjectFact,
        name: Option<CompactString>,
        namespace: Option<CompactString>,
    ) {
        if name == self.name && namespace == self.namespace {
            return;
        }
        let current = (self.name.take(), self.namespace.take());
        if (current.0 != fact.name || current.1 != fact.namespace)
            && !self.history.contains(&current)
        {
            self.history.push(current);
        }
        self.name = name;
        self.namespace = namespace;
    }
}

/// The value and origin of a tracked annotation as written in a place.
fn written(fact: &PolicyFact, origin: Origin) -> Option<(CompactString, Origin)> {
    fact.value.clone().map(|v| (v, origin))
}

/// Why a kustomization cannot be built, and where the cause is written.
#[derive(Clone, Debug)]
struct Failure {
    /// The kustomization whose entry causes it.
    file: FileId,
    /// What is wrong, for the note.
    why: String,
}

/// What keeps a kustomization from building, by who builds it.
#[derive(Clone, Debug, Default)]
struct Failures {
    /// A file outside its directory: kustomize's load restrictions (kustomize, kubectl,
    /// ArgoCD) refuse it; Flux builds without them.
    restricted: Option<Failure>,
    /// A `replacements` target without the field it names: every builder fails.
    everywhere: Option<Failure>,
}

/// Who builds a kustomization, as notes name it.
#[derive(Clone, Debug)]
struct Applier {
    /// It builds with kustomize's load restrictions (everyone but Flux).
    restricted: bool,
    /// It builds a directory without a kustomization with kustomize too (Flux generates one),
    /// so local-config objects there are dropped as well.
    kustomizes_plain: bool,
    /// How notes name it.
    name: String,
}

/// Where a kustomization's `resources` or `components` entry leads, resolved before rendering.
#[derive(Clone, Copy, Debug)]
struct Resolved {
    /// The kustomization of the directory the entry's path names, whatever else it is (a
    /// kustomization another one names is rendered through it, not on its own).
    kustomization: Option<FileId>,
    /// What a build does with it.
    leads: Leads,
}

/// What a build does with a kustomization's entry.
#[derive(Clone, Copy, Debug)]
enum Leads {
    /// A remote base, which cannot be fetched offline.
    Remote,
    /// A path outside the repository root.
    Outside,
    /// A directory with a kustomization: built.
    Kustomization(FileId),
    /// An indexed file: its objects.
    File(FileId),
    /// Nothing indexed there: whether the path exists, and is a directory.
    Missing { exists: bool, is_dir: bool },
}

struct Renderer<'x> {
    index: &'x mut Index,
    settings: &'x Settings,
    /// Kustomization file of each directory that has one.
    /// Keyed by the directory's normalized path as bytes: hashing a `Path` walks its
    /// components, which dominated rendering on large trees.
    kustomization_of: FxHashMap<OsString, FileId>,
    /// Each kustomization's `resources` then `components`, resolved. Joining, normalising and
    /// looking up tens of thousands of paths was most of rendering, and needs nothing a build
    /// changes: it is done first, on every thread.
    references: FxHashMap<FileId, Vec<Resolved>>,
    /// Builds already done, by kustomization file.
    built: FxHashMap<FileId, Vec<Rendered>>,
    /// Files used as patches: judged merged into their targets, never on their own.
    patch_files: FxHashSet<FileId>,
    /// Directories holding indexed files, for ApplicationSet generator globs.
    directories: std::cell::OnceCell<Vec<PathBuf>>,
    /// What keeps each built kustomization from building, its own and its bases'.
    failures: FxHashMap<FileId, Failures>,
    /// Kustomizations whose build asoguard could not render whole (a remote base, a generator,
    /// a missing or unreadable entry, a cycle), its own or a base's: what it emits is not
    /// known to be all there is.
    incomplete: FxHashSet<FileId>,
    /// Every object some build or directory reached, applied or not: what is left is applied
    /// as a plain file, or by nothing.
    reached: FxHashSet<(FileId, usize)>,
    /// ConfigMaps read for Flux substitutions, by name and namespace (`None`: not found).
    config_maps: ConfigMaps,
}

/// ConfigMaps' data by name and namespace, as [`Renderer::config_map_data`] found it.
type ConfigMaps = FxHashMap<(String, Option<String>), Option<Vec<(String, String)>>>;

/// Render every context of the index.
pub(super) fn render(index: &mut Index, settings: &Settings) {
    Renderer::new(index, settings).run();
}

/// Build kustomization `k` of a rendered index as `kustomize build` (and `kubectl kustomize`)
/// would, load restrictions on: the objects it emits, or why it refuses to.
pub(super) fn kustomize_build(
    index: &mut Index,
    settings: &Settings,
    k: FileId,
) -> super::KustomizeBuild {
    let mut renderer = Renderer::new(index, settings);
    let applier = Applier {
        restricted: true,
        kustomizes_plain: true,
        name: "`kustomize build`".into(),
    };
    let (objects, refused) = match renderer.build_checked(k, &applier) {
        Ok(rendered) => (rendered, None),
        Err(note) => (Vec::new(), Some(note)),
    };
    let objects = objects
        .into_iter()
        .filter(|r| !r.local)
        .map(|r| super::Built {
            file: r.file,
            object: r.object,
            namespace: r.namespace,
            name: r.name,
            policy: r.policy,
            sync_options: r.sync_options.map(|b| *b),
        })
        .collect();
    super::KustomizeBuild { objects, refused }
}

impl<'x> Renderer<'x> {
    fn new(index: &'x mut Index, settings: &'x Settings) -> Self {
        let kustomization_of = index
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.facts.kustomization.is_some())
            .filter_map(|(i, f)| Some((f.fs_path.parent()?.as_os_str().to_owned(), i)))
            .collect();
        let references = resolve_references(index, &kustomization_of, &settings.root);
        Renderer {
            index,
            settings,
            kustomization_of,
            references,
            built: FxHashMap::default(),
            patch_files: FxHashSet::default(),
            directories: std::cell::OnceCell::new(),
            failures: FxHashMap::default(),
            incomplete: FxHashSet::default(),
            reached: FxHashSet::default(),
            config_maps: FxHashMap::default(),
        }
    }
}

/// Resolve every kustomization's `resources` and `components` (in that order), in parallel.
fn resolve_references(
    index: &Index,
    kustomization_of: &FxHashMap<OsString, FileId>,
    root: &Path,
) -> FxHashMap<FileId, Vec<Resolved>> {
    use rayon::prelude::*;
    index
        .files
        .par_iter()
        .enumerate()
        .filter_map(|(id, file)| {
            let k = file.facts.kustomization.as_ref()?;
            let dir = file.fs_path.parent().unwrap_or(Path::new(""));
            let resolved = k
                .resources
                .iter()
                .chain(&k.components)
                .map(|r| resolve(index, kustomization_of, root, dir, &r.text))
                .collect();
            Some((id, resolved))
        })
        .collect()
}

/// Where entry `text` of the kustomization in `dir` leads.
fn resolve(
    index: &Index,
    kustomization_of: &FxHashMap<OsString, FileId>,
    root: &Path,
    dir: &Path,
    text: &str,
) -> Resolved {
    let path = normalize(&dir.join(text));
    let kustomization = kustomization_of.get(path.as_os_str()).copied();
    let leads = if text.contains("://")
        || text.starts_with("github.com/")
        || text.starts_with("git@")
        || text.contains("?ref=")
    {
        Leads::Remote
    } else if !under(&path, root) {
        Leads::Outside
    } else if let Some(sub) = kustomization {
        Leads::Kustomization(sub)
    } else if let Some(file) = index.file_id(&path) {
        Leads::File(file)
    } else {
        Leads::Missing {
            exists: index.tree().exists(&path),
            is_dir: index.tree().is_dir(&path),
        }
    };
    Resolved {
        kustomization,
        leads,
    }
}

/// Whether `path` is `dir` or lies below it: [`Path::starts_with`], answered by bytes when the
/// path is spelled as `dir` followed by a separator (or nothing), which is how the renderer's
/// paths, joined and normalized under one root, nearly always are. `Path::starts_with` parses
/// both paths component by component, and the renderer asks this of every file it reaches,
/// often of every ancestor: else that parse is most of the renderer's time.
fn under(path: &Path, dir: &Path) -> bool {
    let (p, d) = (
        path.as_os_str().as_encoded_bytes(),
        dir.as_os_str().as_encoded_bytes(),
    );
    let spelled_under = p.starts_with(d)
        && p.get(d.len())
            .is_none_or(|&b| std::path::is_separator(char::from(b)));
    spelled_under || path.starts_with(dir)
}

impl Renderer<'_> {
    fn run(&mut self) {
        let mut referenced: FxHashSet<FileId> = FxHashSet::default();
        // Kustomizations referenced by others are rendered through them.
        for (&id, resolved) in &self.references {
            for target in resolved.iter().filter_map(|r| r.kustomization) {
                if target != id {
                    referenced.insert(target);
                }
            }
        }
        // Flux Kustomizations and ArgoCD Applications.
        let apps: Vec<(FileId, usize)> = self
            .index
            .files
            .iter()
            .enumerate()
            .flat_map(|(id, f)| {
                f.facts
                    .objects
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| matches!(o.extra, Extra::Flux(_) | Extra::Argo(_)))
                    .map(move |(i, _)| (id, i))
            })
            .collect();
        for (file, object) in apps {
            self.render_app(file, object);
            for dir in self.app_dirs(file, object) {
                if let Some(&k) = self.kustomization_of.get(dir.as_os_str()) {
                    referenced.insert(k);
                }
            }
        }
        // Top-level kustomizations.
        let kustomizations: Vec<FileId> = self.kustomization_of.values().copied().collect();
        let mut tops: Vec<FileId> = kustomizations
            .into_iter()
            .filter(|k| !referenced.contains(k))
            .collect();
        tops.sort_unstable();
        for k in tops {
            let applier = Applier {
                restricted: true,
                kustomizes_plain: true,
                name: "`kustomize build`".into(),
            };
            let rendered = self.built_for(k, &applier);
            self.place(
                Context::new(ContextKind::Kustomization, k, None),
                rendered,
                &[],
            );
        }
        // What nothing reaches is applied as it is, all plain files of one cluster together
        // (one context per cluster, so owner references between plain files resolve); unless
        // it sits beside (or below) a kustomization that does not list it, which applies
        // exactly what it renders: then nothing applies it.
        let mut plain: std::collections::BTreeMap<Option<usize>, (FileId, Vec<Rendered>)> =
            std::collections::BTreeMap::new();
        for id in 0..self.index.files.len() {
            if self.patch_files.contains(&id) || self.index.files[id].facts.kustomization.is_some()
            {
                continue;
            }
            let unreached: Vec<usize> = (0..self.index.files[id].facts.objects.len())
                .filter(|o| !self.reached.contains(&(id, *o)))
                .collect();
            if unreached.is_empty() {
                continue;
            }
            if let Some(k) = self.enclosing_kustomization(id) {
                let note = format!(
                    "not applied: `{}` does not list it, and no kustomization, Flux Kustomization or ArgoCD Application reaches it",
                    self.index.describe(k)
                );
                self.index.note(id, Note::new(NoteKind::NotApplied, note));
                continue;
            }
            // Applied as it is: no kustomize build drops local-config objects here.
            let objects: Vec<Rendered> = unreached
                .into_iter()
                .map(|o| Rendered {
                    local: false,
                    ..self.fresh(id, o)
                })
                .collect();
            let cluster = cluster_index(self.settings, &self.index.files[id].fs_path);
            plain
                .entry(cluster)
                .or_insert((id, Vec::new()))
                .1
                .extend(objects);
        }
        for (first_file, objects) in plain.into_values() {
            let context = Context::new(ContextKind::Standalone, first_file, None);
            self.place(context, objects, &[]);
        }
        self.note_idle_clusters();
    }

    /// A configured cluster that nothing applied lands in is configuration that silently does
    /// nothing (a role given to a path no applier renders): say so, naming it.
    fn note_idle_clusters(&mut self) {
        let mut used = vec![false; self.settings.clusters.len()];
        for instance in self.index.instances.iter().filter(|i| i.aso) {
            if let Some(c) = self.index.contexts[instance.context].cluster {
                used[c] = true;
            }
        }
        for (cluster, _) in self.settings.clusters.iter().zip(used).filter(|(_, u)| !u) {
            self.index.run_notes.push(Note::new(
                NoteKind::Config,
                format!(
                    "cluster `{}` in the configuration matches no ASO resource that is applied: no kustomization, Flux Kustomization, ArgoCD Application or plain file under its paths applies one, so its role changes nothing",
                    cluster.name
                ),
            ));
        }
    }

    /// The kustomization of the file's directory, or of the nearest directory above it inside
    /// the root: a file there is applied only if that kustomization (or another applier)
    /// renders it.
    fn enclosing_kustomization(&self, file: FileId) -> Option<FileId> {
        let root = self.root();
        self.index.files[file]
            .fs_path
            .ancestors()
            .skip(1)
            .take_while(|dir| under(dir, root))
            .find_map(|dir| self.kustomization_of.get(dir.as_os_str()).copied())
    }

    /// An object as its file has it (and now reached).
    fn fresh(&mut self, file: FileId, object: usize) -> Rendered {
        self.reached.insert((file, object));
        let fact = &self.index.files[file].facts.objects[object];
        let own = |p: &PolicyFact| {
            let origin = Origin {
                kind: OriginKind::Own,
                file,
                doc: fact.doc,
                entry: p.entry,
                value: p.value_span,
            };
            written(p, origin)
        };
        Rendered {
            file,
            object,
            namespace: fact.namespace.clone(),
            name: fact.name.clone(),
            history: Vec::new(),
            policy: fact.policy.as_ref().and_then(own),
            sync_options: self.index.files[file]
                .facts
                .sync_options(object)
                .and_then(own)
                .map(Box::new),
            local: fact.local_config,
        }
    }

    /// Add a context and its instances. The context belongs to the cluster of its file; an
    /// applier (a Flux Kustomization, an ArgoCD Application) in no configured cluster belongs
    /// to the cluster of the first directory it renders that is in one: a role given to the
    /// rendered directory wins over the default role of an applier that sits nowhere.
    /// `context` comes without its cluster and role, which are decided here.
    fn place(&mut self, mut context: Context, rendered: Vec<Rendered>, rendered_dirs: &[PathBuf]) {
        let file = &self.index.files[context.file].fs_path;
        context.cluster = cluster_index(self.settings, file).or_else(|| {
            rendered_dirs
                .iter()
                .find_map(|dir| cluster_index(self.settings, dir))
        });
        self.push_context(context, rendered);
    }

    /// [`Self::place`] for an applier that applies `dir` in that directory's cluster (else its
    /// own file's).
    fn place_in(&mut self, mut context: Context, rendered: Vec<Rendered>, dir: &Path) {
        let file = &self.index.files[context.file].fs_path;
        context.cluster =
            cluster_index(self.settings, dir).or_else(|| cluster_index(self.settings, file));
        self.push_context(context, rendered);
    }

    /// Add a context whose cluster is decided, and its instances.
    fn push_context(&mut self, mut context: Context, rendered: Vec<Rendered>) {
        context.role = context
            .cluster
            .map_or(Role::Active, |c| self.settings.clusters[c].role);
        let context_id = self.index.contexts.len();
        self.index.contexts.push(context);
        let context = context_id;
        self.index.instances.reserve(rendered.len());
        for r in rendered.into_iter().filter(|r| !r.local) {
            let object = &self.index.files[r.file].facts.objects[r.object];
            let aso = object.aso;
            let critical = aso && self.settings.is_critical(&object.group, &object.kind);
            if let Some(sync_options) = r.sync_options {
                self.index
                    .sync_options
                    .insert((context, r.file, r.object), *sync_options);
            }
            self.index.instances.push(Instance {
                file: r.file,
                object: r.object,
                context,
                namespace: r.namespace,
                name: r.name,
                policy: r.policy,
                aso,
                critical,
            });
        }
    }

    fn root(&self) -> &Path {
        &self.settings.root
    }

    /// The directory a path of an app names, when it is inside the root.
    fn resolve_dir(&self, path: &str) -> Option<PathBuf> {
        if path.contains("{{") || path.contains("${") {
            return None;
        }
        let relative = path.trim_start_matches('/');
        let from_root = normalize(&self.root().join(relative));
        // Flux and ArgoCD read a path from the top of the git repository. With the
        // configuration in a subdirectory of it, a path written from the top resolves there,
        // when it does not from the root.
        let top = &self.settings.source_root;
        if top != self.root() && !self.is_dir(&from_root) {
            let from_top = normalize(&top.join(relative));
            if under(&from_top, self.root()) && self.is_dir(&from_top) {
                return Some(from_top);
            }
        }
        under(&from_root, self.root()).then_some(from_root)
    }

    /// Whether `dir` is a directory of the revision rendered: one holding a kustomization is,
    /// with no need to ask the disk.
    fn is_dir(&self, dir: &Path) -> bool {
        self.kustomization_of.contains_key(dir.as_os_str()) || self.index.tree().is_dir(dir)
    }

    /// The directories (relative to the root, sorted) that hold indexed files, found once.
    fn directories(&self) -> &[PathBuf] {
        self.directories.get_or_init(|| {
            let mut dirs: Vec<PathBuf> = self
                .index
                .files
                .iter()
                .filter_map(|f| f.fs_path.strip_prefix(self.root()).ok())
                .flat_map(|rel| rel.ancestors().skip(1))
                .filter(|d| !d.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .collect();
            dirs.sort_by(|a, b| a.to_string_lossy().cmp(&b.to_string_lossy()));
            dirs.dedup();
            dirs
        })
    }

    /// Expand git-directory generator globs (`clusters/*`) against the repository's directories
    /// that hold indexed files; plain paths are kept.
    fn expand_globs(&self, paths: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for path in paths {
            if !path.contains(['*', '?', '[']) {
                out.push(path.clone());
                continue;
            }
            let Ok(glob) = globset::GlobBuilder::new(path.trim_start_matches("./"))
                .literal_separator(true)
                .build()
            else {
                continue;
            };
            let matcher = glob.compile_matcher();
            out.extend(
                self.directories()
                    .iter()
                    .filter(|d| matcher.is_match(d))
                    .map(|d| d.to_string_lossy().into_owned()),
            );
        }
        out
    }

    /// The directories an app's sources name (resolved, inside the root).
    fn app_dirs(&self, file: FileId, object: usize) -> Vec<PathBuf> {
        match &self.index.files[file].facts.objects[object].extra {
            Extra::Flux(flux) => flux
                .path
                .iter()
                .filter_map(|p| self.resolve_dir(p))
                .collect(),
            Extra::Argo(app) => app_paths(app, &self.expand_globs(&app.generator_paths))
                .iter()
                .filter_map(|p| self.resolve_dir(p))
                .collect(),
            Extra::None => Vec::new(),
        }
    }

    /// Render a Flux Kustomization or an ArgoCD app into its contexts.
    fn render_app(&mut self, file: FileId, object: usize) {
        // The file's facts are shared: holding them costs a count, not a copy.
        let facts = self.index.files[file].facts.clone();
        let fact = &facts.objects[object];
        match &fact.extra {
            Extra::Flux(flux) => {
                let Some(dir) = flux.path.as_deref().and_then(|p| self.resolve_dir(p)) else {
                    return;
                };
                let applier = Applier {
                    restricted: false,
                    kustomizes_plain: true,
                    name: self.index.describe_applier(file, fact),
                };
                let mut rendered = self.render_dir(&dir, true, &applier);
                let substitution = flux
                    .post_build
                    .as_ref()
                    .map(|post| std::sync::Arc::new(self.substitution(post, fact)));
                let common = [
                    (Tracked::Policy, flux.common_policy.as_ref()),
                    (Tracked::SyncOptions, flux.common_sync_options.as_ref()),
                ];
                for r in &mut rendered {
                    if let Some(ns) = &flux.target_namespace {
                        r.namespace = Some(CompactString::from(ns.as_str()));
                    }
                    for (annotation, common) in common {
                        if let Some(common) = common.filter(|c| c.value.is_some()) {
                            let origin = Origin {
                                kind: OriginKind::Flux,
                                file,
                                doc: fact.doc,
                                entry: common.entry,
                                value: common.value_span,
                            };
                            r.set(annotation, written(common, origin));
                        }
                    }
                    if let Some(substitution) = &substitution {
                        let object = &self.index.files[r.file].facts.objects[r.object];
                        if !object.substitute_disabled {
                            let apply = |text: &mut CompactString| {
                                if let std::borrow::Cow::Owned(new) = substitution.apply(text) {
                                    *text = CompactString::from(new);
                                }
                            };
                            if let Some(name) = r.name.as_mut() {
                                apply(name);
                            }
                            if let Some(namespace) = r.namespace.as_mut() {
                                apply(namespace);
                            }
                            for annotation in Tracked::ALL {
                                if let Some(value) = r.value_mut(annotation) {
                                    apply(value);
                                }
                            }
                        }
                    }
                }
                let context = Context {
                    prune: flux.prune.is_some(),
                    substitution,
                    ..Context::new(ContextKind::Flux, file, Some(fact.doc))
                };
                self.place(context, rendered, &[dir]);
            }
            Extra::Argo(app) => {
                let mut all = Vec::new();
                let mut dirs = Vec::new();
                let applier = Applier {
                    restricted: true,
                    kustomizes_plain: false,
                    name: self.index.describe_applier(file, fact),
                };
                let mut unresolved = None;
                let mut reached_aso = None;
                if app.sources.is_empty() {
                    unresolved = Some("(no source)".to_string());
                }
                for source in &app.sources {
                    let paths = match &source.path {
                        Some(p) if app.app_set && p.contains("{{") => {
                            substitute(p, &self.expand_globs(&app.generator_paths))
                        }
                        Some(p) => vec![p.clone()],
                        None => Vec::new(),
                    };
                    if paths.is_empty() {
                        let described = match (&source.path, source.chart) {
                            (Some(p), _) => p.clone(),
                            (None, true) => "(Helm chart)".into(),
                            (None, false) => "(no path)".into(),
                        };
                        unresolved = unresolved.or(Some(described));
                        continue;
                    }
                    for path in paths {
                        match self.resolve_dir(&path).filter(|d| self.is_dir(d)) {
                            None => unresolved = unresolved.or(Some(path.clone())),
                            Some(dir) => {
                                let mut rendered = self.render_dir(&dir, source.recurse, &applier);
                                for r in &mut rendered {
                                    if r.namespace.is_none() {
                                        r.namespace = app
                                            .destination_namespace
                                            .as_deref()
                                            .map(CompactString::from);
                                    }
                                }
                                if reached_aso.is_none()
                                    && rendered.iter().any(|r| {
                                        self.index.files[r.file].facts.objects[r.object].aso
                                    })
                                {
                                    reached_aso = Some(path.clone());
                                }
                                all.push((dir.clone(), rendered));
                                dirs.push(dir);
                            }
                        }
                    }
                }
                let reach = match (reached_aso, unresolved) {
                    (Some(p), _) => Reach::Aso(p),
                    (None, Some(p)) => Reach::Unresolved(p),
                    (None, None) => Reach::NoAso,
                };
                self.index.app_reach.insert((file, fact.doc), reach);
                let context = Context {
                    prune: app.automated_prune,
                    ..Context::new(ContextKind::Argo, file, Some(fact.doc))
                };
                if app.app_set && dirs.len() > 1 {
                    // Each generated Application is an applier of its own, in the cluster of
                    // the directory it applies (one ApplicationSet often serves every cluster).
                    for (dir, rendered) in all {
                        self.place_in(context.clone(), rendered, &dir);
                    }
                } else {
                    let all = all.into_iter().flat_map(|(_, r)| r).collect();
                    self.place(context, all, &dirs);
                }
            }
            Extra::None => {}
        }
    }

    /// Render a directory: its kustomization if it has one, else its YAML files (and, with
    /// `recurse`, those below it, where a directory with a kustomization is built as one unit,
    /// as Flux's generated kustomization and ArgoCD's directory source do).
    fn render_dir(&mut self, dir: &Path, recurse: bool, applier: &Applier) -> Vec<Rendered> {
        if let Some(&k) = self.kustomization_of.get(dir.as_os_str()) {
            return self.built_for(k, applier);
        }
        let mut units: Vec<FileId> = Vec::new();
        let mut out = Vec::new();
        // Files are sorted by path component by component, so those under `dir` are one run.
        let files = &self.index.files;
        let first = files.partition_point(|f| *f.fs_path < *dir);
        let files: Vec<FileId> = (first..files.len())
            .take_while(|&id| under(&files[id].fs_path, dir))
            .filter(|&id| recurse || files[id].fs_path.parent() == Some(dir))
            .collect();
        for id in files {
            let path = self.index.files[id].fs_path.clone();
            // The nearest directory between `dir` and the file that has a kustomization.
            let unit = path
                .ancestors()
                .skip(1)
                .take_while(|a| under(a, dir) && *a != dir)
                .filter_map(|a| self.kustomization_of.get(a.as_os_str()).copied())
                .last();
            match unit {
                Some(k) if !units.contains(&k) => units.push(k),
                Some(_) => {}
                None if self.index.files[id].facts.kustomization.is_none() => {
                    for o in 0..self.index.files[id].facts.objects.len() {
                        let mut r = self.fresh(id, o);
                        r.local &= applier.kustomizes_plain;
                        out.push(r);
                    }
                }
                None => {}
            }
        }
        for k in units {
            out.extend(self.built_for(k, applier));
        }
        out
    }

    /// The variables a Flux Kustomization's `postBuild` substitutes: its `substituteFrom`
    /// ConfigMaps found in the repository, in order, then `substitute` over them. A Secret, or a
    /// ConfigMap the repository does not hold, leaves the substitution incomplete.
    fn substitution(&mut self, post: &PostBuild, flux: &ObjectFact) -> Substitution {
        let mut vars: FxHashMap<String, String> = FxHashMap::default();
        let mut complete = true;
        for from in &post.substitute_from {
            let data = (from.kind == "ConfigMap")
                .then(|| self.config_map_data(&from.name, flux.namespace.as_deref()))
                .flatten();
            match data {
                Some(data) => vars.extend(data),
                None => complete = false,
            }
        }
        vars.extend(post.substitute.iter().cloned());
        Substitution::new(vars, complete)
    }

    /// The `data` of the ConfigMap `name` (in `namespace`, when known) that the repository
    /// holds, read once. ConfigMaps hold nothing any rule checks, so the first pass keeps no
    /// facts of them: the files that may hold it are read here.
    fn config_map_data(
        &mut self,
        name: &str,
        namespace: Option<&str>,
    ) -> Option<Vec<(String, String)>> {
        let key = (name.to_string(), namespace.map(str::to_string));
        if let Some(found) = self.config_maps.get(&key) {
            return found.clone();
        }
        let mut found = None;
        for file in &self.index.files {
            let Some(text) = self.index.tree().read(&file.fs_path) else {
                continue;
            };
            if !(text.contains("ConfigMap") && text.contains(name)) {
                continue;
            }
            let arena = crate::yaml::Arena::new();
            let stream = crate::yaml::parse(&arena, &text);
            for root in stream.documents.iter().filter_map(|d| d.root.as_ref()) {
                let Some(manifest) = crate::manifest::Manifest::from_root(root) else {
                    continue;
                };
                let same_namespace =
                    namespace.is_none_or(|ns| manifest.namespace.is_none_or(|m| m == ns));
                if manifest.is("", "ConfigMap")
                    && manifest.name_str() == Some(name)
                    && same_namespace
                {
                    found = Some(
                        root.get("data")
                            .and_then(crate::yaml::Node::entries)
                            .into_iter()
                            .flatten()
                            .filter_map(|e| {
                                Some((e.key.as_str()?.to_string(), e.value.as_str()?.to_string()))
                            })
                            .collect(),
                    );
                    break;
                }
            }
            if found.is_some() {
                break;
            }
        }
        self.config_maps.insert(key, found.clone());
        found
    }

    /// What `applier` applies of kustomization `k`: its build, or nothing (with a note where
    /// the cause is written) when that applier would refuse to build it.
    fn built_for(&mut self, k: FileId, applier: &Applier) -> Vec<Rendered> {
        self.build_checked(k, applier).unwrap_or_default()
    }

    /// What `applier` makes of kustomization `k`: its build, or the note (filed where the cause
    /// is written) that says why it refuses to build it.
    fn build_checked(&mut self, k: FileId, applier: &Applier) -> Result<Vec<Rendered>, Note> {
        let rendered = self.build(k, &mut Vec::new());
        let failures = self.failures.get(&k).cloned().unwrap_or_default();
        let failure = failures
            .everywhere
            .or(failures.restricted.filter(|_| applier.restricted));
        let Some(failure) = failure else {
            return Ok(rendered);
        };
        let built = if failure.file == k {
            "this kustomization".to_string()
        } else {
            format!("`{}`, which includes this one", self.index.describe(k))
        };
        let restricted = if applier.restricted {
            " (Flux builds without load restrictions; ArgoCD does with `--load-restrictor LoadRestrictionsNone` in its `kustomize.buildOptions`)"
        } else {
            ""
        };
        let note = Note::new(
            NoteKind::BuildFails,
            format!(
                "{} cannot build {built}: {}, so it applies nothing of it{restricted}",
                applier.name, failure.why
            ),
        );
        self.index.note(failure.file, note.clone());
        Err(note)
    }

    /// Build a kustomization: its resources (recursively), components, patches, `namespace`,
    /// `namePrefix`/`nameSuffix`, `commonAnnotations` and JSON6902 patches, in kustomize's
    /// order.
    fn build(&mut self, k: FileId, stack: &mut Vec<FileId>) -> Vec<Rendered> {
        if let Some(done) = self.built.get(&k) {
            return done.clone();
        }
        let out = self.build_onto(k, Vec::new(), stack);
        self.built.insert(k, out.clone());
        out
    }

    /// Build kustomization `k` onto `out`: what its parent accumulated when `k` is one of the
    /// parent's components (a component's transforms apply to all of it, as kustomize's do),
    /// nothing otherwise.
    fn build_onto(
        &mut self,
        k: FileId,
        mut out: Vec<Rendered>,
        stack: &mut Vec<FileId>,
    ) -> Vec<Rendered> {
        if stack.contains(&k) {
            self.index.note(
                k,
                Note::new(
                    NoteKind::Cycle,
                    "kustomization cycle: this kustomization includes itself",
                ),
            );
            self.incomplete.insert(k);
            return out;
        }
        stack.push(k);
        let facts = self.index.files[k].facts.clone();
        let Some(fact) = facts.kustomization.as_deref() else {
            stack.pop();
            return out;
        };
        for reason in &fact.unresolvable {
            self.index.note(
                k,
                Note::new(
                    NoteKind::Unrendered,
                    format!("{reason}; the resources it would add are not checked"),
                ),
            );
        }
        let dir = self.index.files[k]
            .fs_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let resolved = self.references.get(&k).cloned().unwrap_or_default();
        let mut failures = Failures::default();
        let mut complete = fact.unresolvable.is_empty();
        // Objects of files this kustomization lists itself, not of its bases: the replacement
        // targets whose fields can be known.
        let mut direct: FxHashSet<(FileId, usize)> = FxHashSet::default();
        let entries = fact
            .resources
            .iter()
            .map(|r| (r, false))
            .chain(fact.components.iter().map(|r| (r, true)));
        for ((r, component), resolved) in entries.zip(resolved) {
            let outside = |path: &Path| {
                (!under(path, &dir)).then(|| Failure {
                file: k,
                why: format!(
                    "`{}` is a file outside its directory, which kustomize's load restrictions refuse",
                    r.text
                ),
            })
            };
            match resolved.leads {
                Leads::File(file) => {
                    let path = self.index.files[file].fs_path.clone();
                    failures.restricted = failures.restricted.or_else(|| outside(&path));
                }
                Leads::Missing {
                    exists: true,
                    is_dir: false,
                } => {
                    let path = normalize(&dir.join(&r.text));
                    failures.restricted = failures.restricted.or_else(|| outside(&path));
                }
                _ => {}
            }
            match resolved.leads {
                // A component transforms everything accumulated so far.
                Leads::Kustomization(sub) if component => {
                    out = self.build_onto(sub, std::mem::take(&mut out), stack);
                }
                _ => {
                    let added = self.resource(k, r, resolved, stack);
                    if let Leads::File(file) = resolved.leads {
                        direct.extend(
                            added
                                .iter()
                                .filter(|a| a.file == file)
                                .map(|a| (a.file, a.object)),
                        );
                    }
                    out.extend(added);
                }
            }
            match resolved.leads {
                Leads::Kustomization(sub) => {
                    if let Some(sub_failures) = self.failures.get(&sub) {
                        failures.restricted =
                            failures.restricted.or(sub_failures.restricted.clone());
                        failures.everywhere =
                            failures.everywhere.or(sub_failures.everywhere.clone());
                    }
                    complete &= !self.incomplete.contains(&sub);
                }
                Leads::File(_) => {}
                Leads::Remote | Leads::Outside | Leads::Missing { .. } => complete = false,
            }
        }
        let (early, late) = fact
            .patches
            .split_at(fact.late_patches.min(fact.patches.len()));
        for patch in &fact.patches {
            if let Patch::File { reference, .. } = patch {
                let path = normalize(&dir.join(&reference.text));
                if under(&path, self.root()) && !under(&path, &dir) {
                    failures.restricted = failures.restricted.or_else(|| {
                        Some(Failure {
                            file: k,
                            why: format!(
                                "patch `{}` is a file outside its directory, which kustomize's load restrictions refuse",
                                reference.text
                            ),
                        })
                    });
                }
            }
        }
        for patch in early {
            let unmatched = self.apply_patch(k, &dir, patch, &mut out);
            if complete {
                failures.everywhere = failures.everywhere.or(unmatched);
            }
        }
        if fact.patches.is_empty() {
            failures.everywhere = failures
                .everywhere
                .or_else(|| self.missing_replacement_field(k, fact, &out, &direct));
        }
        if fact.common_local_config {
            for r in &mut out {
                r.local = true;
            }
        }
        if let Some(ns) = &fact.namespace {
            let ns = CompactString::from(ns.as_str());
            for r in &mut out {
                let object = &self.index.files[r.file].facts.objects[r.object];
                // Kustomize names every Namespace object after the kustomization's namespace.
                if is_namespace(object) {
                    r.rename(object, Some(ns.clone()), None);
                } else {
                    r.rename(object, r.name.clone(), Some(ns.clone()));
                }
            }
        }
        if fact.name_prefix.is_some() || fact.name_suffix.is_some() {
            for r in &mut out {
                let object = &self.index.files[r.file].facts.objects[r.object];
                // Kustomize never prefixes a Namespace's name.
                if is_namespace(object) {
                    continue;
                }
                if let Some(name) = &r.name {
                    let name = compact_str::format_compact!(
                        "{}{name}{}",
                        fact.name_prefix.as_deref().unwrap_or(""),
                        fact.name_suffix.as_deref().unwrap_or("")
                    );
                    r.rename(object, Some(name), r.namespace.clone());
                }
            }
        }
        for (annotation, common) in [
            (Tracked::Policy, fact.common_policy.as_ref()),
            (Tracked::SyncOptions, fact.common_sync_options.as_deref()),
        ] {
            if let Some(common) = common.filter(|c| c.value.is_some()) {
                let origin = Origin {
                    kind: OriginKind::Common,
                    file: k,
                    doc: 0,
                    entry: common.entry,
                    value: common.value_span,
                };
                for r in &mut out {
                    r.set(annotation, written(common, origin));
                }
            }
        }
        for patch in late {
            let unmatched = self.apply_patch(k, &dir, patch, &mut out);
            if complete {
                failures.everywhere = failures.everywhere.or(unmatched);
            }
        }
        stack.pop();
        if !complete {
            self.incomplete.insert(k);
        }
        if failures.restricted.is_some() || failures.everywhere.is_some() {
            self.failures.insert(k, failures);
        }
        out
    }

    /// The first inline `replacements` target field kustomization `k` names that is missing from
    /// an object it selects: kustomize then fails the whole build. Only what can be known is
    /// judged: targets of files `k` lists itself (`direct`), patched by nothing, and field paths
    /// of keys, `[key=value]` selectors and indexes; `options.create` never fails.
    fn missing_replacement_field(
        &self,
        k: FileId,
        fact: &super::facts::KustomizationFact,
        out: &[Rendered],
        direct: &FxHashSet<(FileId, usize)>,
    ) -> Option<Failure> {
        for replacement in &fact.replacements {
            for target in replacement.targets.iter().filter(|t| !t.create) {
                for r in out.iter().filter(|r| direct.contains(&(r.file, r.object))) {
                    let object = &self.index.files[r.file].facts.objects[r.object];
                    if !selects(&target.select, object, r)
                        || target.reject.iter().any(|s| selects(s, object, r))
                    {
                        continue;
                    }
                    let text = self.index.tree().read(&self.index.files[r.file].fs_path)?;
                    let arena = crate::yaml::Arena::new();
                    let stream = crate::yaml::parse(&arena, &text);
                    let Some(root) = stream
                        .documents
                        .get(object.doc)
                        .and_then(|d| d.root.as_ref())
                    else {
                        continue;
                    };
                    for path in &target.field_paths {
                        if field_missing(root, path) == Some(true) {
                            return Some(Failure {
                                file: k,
                                why: format!(
                                    "a `replacements` target, {} `{}`, has no field `{path}` (and `options.create` is not set)",
                                    object.kind,
                                    r.name.as_deref().unwrap_or("?")
                                ),
                            });
                        }
                    }
                }
            }
        }
        None
    }

    /// The objects one `resources` (or `components`) entry adds.
    /// What a kustomization's entry adds to its build (resolved by [`resolve_references`]).
    fn resource(
        &mut self,
        k: FileId,
        reference: &super::facts::Reference,
        resolved: Resolved,
        stack: &mut Vec<FileId>,
    ) -> Vec<Rendered> {
        let text = reference.text.as_str();
        match resolved.leads {
            Leads::Remote => {
                self.index.note(k, Note::new(NoteKind::Remote, format!("remote resource `{text}` cannot be fetched offline; what it adds is not checked")));
                Vec::new()
            }
            Leads::Outside => {
                self.index.outside_root.push(OutsideRoot {
                    file: k,
                    span: reference.span,
                    text: text.to_string(),
                    entry: OutsideEntry::Resource,
                });
                Vec::new()
            }
            Leads::Kustomization(sub) => self.build(sub, stack),
            Leads::File(file) => (0..self.index.files[file].facts.objects.len())
                .map(|o| self.fresh(file, o))
                .collect(),
            Leads::Missing { exists, is_dir } => {
                if !exists {
                    self.index.note(
                        k,
                        Note::new(NoteKind::Missing, format!("`{text}` does not exist")),
                    );
                } else if is_dir {
                    self.index.note(
                        k,
                        Note::new(
                            NoteKind::Missing,
                            format!("`{text}` is a directory without a kustomization"),
                        ),
                    );
                }
                Vec::new()
            }
        }
    }

    /// Apply a patch of kustomization `k` to `out`. Returns the failure of a strategic merge
    /// patch that names, by its own identity, an object the build does not emit: kustomize
    /// fails then. Only said of kinds the index knows every object of
    /// ([`crate::relevance::always_relevant`]); the caller keeps it only when the build was
    /// rendered whole.
    fn apply_patch(
        &mut self,
        k: FileId,
        dir: &Path,
        patch: &Patch,
        out: &mut [Rendered],
    ) -> Option<Failure> {
        match patch {
            Patch::Inline {
                span,
                target,
                effects,
            } => {
                let origin = Origin {
                    kind: OriginKind::InlinePatch,
                    file: k,
                    doc: 0,
                    entry: *span,
                    value: *span,
                };
                for annotation in Tracked::ALL {
                    if let Some(effect) = effects.get(annotation) {
                        self.patch_matching(target, annotation, effect, origin, out);
                    }
                }
                self.unmatched(k, target, out, "an inline strategic merge patch")
            }
            Patch::File {
                reference,
                target,
                legacy,
            } => {
                let path = normalize(&dir.join(&reference.text));
                let Some(file) = self
                    .index
                    .file_id(&path)
                    .filter(|_| under(&path, self.root()))
                else {
                    if !under(&path, self.root()) {
                        self.index.outside_root.push(OutsideRoot {
                            file: k,
                            span: reference.span,
                            text: reference.text.clone(),
                            entry: OutsideEntry::Patch,
                        });
                    }
                    return None;
                };
                self.patch_files.insert(file);
                let facts = self.index.files[file].facts.clone();
                if let Some(target) = target {
                    for op in facts.json_patch() {
                        let origin = Origin {
                            kind: OriginKind::JsonPatch,
                            file,
                            doc: 0,
                            entry: op.span,
                            value: op.span,
                        };
                        self.patch_matching(target, op.annotation, &op.effect, origin, out);
                    }
                }
                for (i, object) in facts.objects.iter().enumerate() {
                    let own_target = identity(object);
                    let target = target.as_ref().unwrap_or(&own_target);
                    let facts = [
                        (Tracked::Policy, object.policy.as_ref()),
                        (Tracked::SyncOptions, facts.sync_options(i)),
                    ];
                    for (annotation, fact) in facts {
                        let Some(fact) = fact else { continue };
                        let effect = fact.patch_effect(*legacy);
                        let origin = Origin {
                            kind: OriginKind::PatchFile,
                            file,
                            doc: object.doc,
                            entry: fact.entry,
                            value: fact.value_span,
                        };
                        self.patch_matching(target, annotation, &effect, origin, out);
                    }
                }
                let what = format!("strategic merge patch `{}`", reference.text);
                if target.is_some() {
                    return None;
                }
                facts
                    .objects
                    .iter()
                    .find_map(|object| self.unmatched(k, &identity(object), out, &what))
            }
        }
    }

    /// The failure of a strategic merge patch whose own identity (`target`) names no object
    /// of `out`, when it names a kind the index knows every object of.
    fn unmatched(
        &self,
        k: FileId,
        target: &Target,
        out: &[Rendered],
        what: &str,
    ) -> Option<Failure> {
        let (Some(group), Some(kind)) = (&target.group, &target.kind) else {
            return None;
        };
        if !target.identity || !crate::relevance::always_relevant(group, kind) {
            return None;
        }
        let matched = out.iter().any(|r| {
            let object = &self.index.files[r.file].facts.objects[r.object];
            targets(target, object, r)
        });
        let namespace = target
            .namespace
            .as_deref()
            .map_or_else(String::new, |ns| format!(" in namespace `{ns}`"));
        (!matched).then(|| Failure {
            file: k,
            why: format!(
                "{what} is for {kind} `{}`{namespace}, which the build does not hold, and kustomize fails on a strategic merge patch without its target",
                target.name.as_deref().unwrap_or("?")
            ),
        })
    }

    /// Apply a patch's effect on one annotation to the objects its target matches.
    fn patch_matching(
        &self,
        target: &Target,
        annotation: Tracked,
        effect: &PatchEffect,
        origin: Origin,
        out: &mut [Rendered],
    ) {
        for r in out.iter_mut() {
            let object = &self.index.files[r.file].facts.objects[r.object];
            if targets(target, object, r) {
                r.set(
                    annotation,
                    match effect {
                        PatchEffect::Set(v) => Some((v.clone(), origin)),
                        PatchEffect::Remove => None,
                    },
                );
            }
        }
    }
}

/// The target of a strategic merge patch document without a `target`: its own identity.
fn identity(object: &ObjectFact) -> Target {
    Target {
        group: Some(object.group.clone()),
        version: object
            .api_version_rest
            .as_deref()
            .map(|v| CompactString::from(v.trim_start_matches('/'))),
        kind: Some(object.kind.clone()),
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        selector: false,
        identity: true,
    }
}

/// Whether an object is a core Namespace.
fn is_namespace(object: &ObjectFact) -> bool {
    object.group.is_empty() && object.kind == "Namespace"
}

/// A namespace as kustomize compares it: none is `default`.
fn effective_namespace(namespace: Option<&str>) -> &str {
    namespace.unwrap_or("default")
}

/// Whether a patch's target matches a rendered object, as kustomize decides it. Group, version
/// and kind must match where the target names them. A `target` selector matches names (as
/// patterns) and namespaces against the object's original or current ones; a strategic merge
/// patch's own identity names exactly one of the names and namespaces the object had.
fn targets(target: &Target, object: &ObjectFact, r: &Rendered) -> bool {
    let version = object
        .api_version_rest
        .as_deref()
        .map(|v| v.trim_start_matches('/'));
    let gvk = target.kind.as_deref().is_none_or(|k| k == object.kind)
        && target.group.as_deref().is_none_or(|g| g == object.group)
        && target.version.as_deref().is_none_or(|v| version == Some(v));
    if !gvk {
        return false;
    }
    if target.identity {
        let wanted = (
            target.name.as_deref(),
            effective_namespace(target.namespace.as_deref()),
        );
        let is = |name: Option<&CompactString>, namespace: Option<&CompactString>| {
            (
                name.map(CompactString::as_str),
                effective_namespace(namespace.map(CompactString::as_str)),
            ) == wanted
        };
        return is(object.name.as_ref(), object.namespace.as_ref())
            || r.history.iter().any(|(n, ns)| is(n.as_ref(), ns.as_ref()))
            || is(r.name.as_ref(), r.namespace.as_ref());
    }
    let names = [object.name.as_deref(), r.name.as_deref()];
    let namespaces = [object.namespace.as_deref(), r.namespace.as_deref()];
    target
        .name
        .as_deref()
        .is_none_or(|n| names.iter().any(|name| name_matches(n, *name)))
        && target.namespace.as_deref().is_none_or(|ns| {
            namespaces
                .iter()
                .any(|namespace| effective_namespace(*namespace) == ns)
        })
}

/// Whether a replacement selector selects a rendered object.
fn selects(
    selector: &super::facts::Selector,
    object: &super::facts::ObjectFact,
    r: &Rendered,
) -> bool {
    let version = object
        .api_version_rest
        .as_deref()
        .map(|v| v.trim_start_matches('/'));
    let is = |want: &Option<CompactString>, have: Option<&str>| {
        want.as_deref().is_none_or(|w| have == Some(w))
    };
    is(&selector.group, Some(&object.group))
        && is(&selector.version, version)
        && is(&selector.kind, Some(&object.kind))
        && (is(&selector.name, r.name.as_deref()) || is(&selector.name, object.name.as_deref()))
        && is(&selector.namespace, r.namespace.as_deref())
}

/// Whether a kustomize field path (`spec.tags.env`, `spec.list.[name=a].value`,
/// `metadata.annotations.[a.b/c]`, `spec.items.0`) names nothing in `root`: `Some(true)` when
/// it is missing, `Some(false)` when it is there, `None` when the path says what asoguard
/// does not evaluate (wildcards, templates, aliases).
fn field_missing(root: &crate::yaml::Node, path: &str) -> Option<bool> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                current.push(c);
            }
            ']' => {
                depth = depth.checked_sub(1)?;
                current.push(c);
            }
            '.' if depth == 0 => segments.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    segments.push(current);
    let mut node = root;
    for segment in &segments {
        if segment.is_empty() || segment.contains('*') || segment.contains("{{") {
            return None;
        }
        if let Some(inner) = segment.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            match inner.split_once('=') {
                Some((key, value)) => {
                    let items = node.items()?;
                    let found = items.iter().find(|item| {
                        if key.is_empty() {
                            item.as_str() == Some(value)
                        } else {
                            item.get_str(key) == Some(value)
                        }
                    });
                    match found {
                        Some(item) => node = item,
                        None => return Some(true),
                    }
                }
                None => match node.entries() {
                    Some(_) => match node.get(inner) {
                        Some(next) => node = next,
                        None => return Some(true),
                    },
                    None => return None,
                },
            }
            continue;
        }
        if let Some(items) = node.items() {
            let index: usize = segment.parse().ok()?;
            match items.get(index) {
                Some(item) => node = item,
                None => return Some(true),
            }
            continue;
        }
        if node.is_null() {
            return Some(true);
        }
        node.entries()?;
        match node.get(segment) {
            Some(next) => node = next,
            None => return Some(true),
        }
    }
    Some(false)
}

/// Kustomize patch targets name objects by regular expression; exact names and `.*`
/// wildcards are understood, anything else is compared literally.
fn name_matches(pattern: &str, name: Option<&str>) -> bool {
    let Some(name) = name else { return false };
    if !pattern.contains(".*") {
        return pattern == name;
    }
    let parts: Vec<&str> = pattern
        .trim_start_matches('^')
        .trim_end_matches('$')
        .split(".*")
        .collect();
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        match rest.find(part) {
            Some(at) if i > 0 || at == 0 => rest = &rest[at + part.len()..],
            _ => return false,
        }
    }
    parts
        .last()
        .is_none_or(|p| p.is_empty() || name.ends_with(p))
}

/// An app's source paths, with an ApplicationSet's generator paths substituted.
fn app_paths(app: &super::facts::ArgoFact, generator_paths: &[String]) -> Vec<String> {
    app.sources
        .iter()
        .filter_map(|s| s.path.clone())
        .flat_map(|p| {
            if app.app_set && p.contains("{{") {
                substitute(&p, generator_paths)
            } else {
                vec![p]
            }
        })
        .collect()
}

/// Substitute `{{path}}`, `{{.path}}`, `{{ .path.path }}` and `{{path.basename}}` in an
/// ApplicationSet template path for each generator path (git-directory globs expand later).
fn substitute(template: &str, generator_paths: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for path in generator_paths {
        let basename = path.rsplit('/').next().unwrap_or(path);
        let mut text = template.to_string();
        for (key, value) in [
            ("path.basename", basename),
            ("path.path", path.as_str()),
            ("path", path.as_str()),
        ] {
            for form in [
                format!("{{{{{key}}}}}"),
                format!("{{{{.{key}}}}}"),
                format!("{{{{ .{key} }}}}"),
                format!("{{{{ {key} }}}}"),
            ] {
                text = text.replace(&form, value);
            }
        }
        if !text.contains("{{") && !text.contains('*') {
            out.push(text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::index::{FileFacts, IndexedFile};
    use crate::span::LineIndex;

    /// `under` answers as `Path::starts_with`, whether its byte test settles it or not.
    #[test]
    fn under_is_path_starts_with() {
        let paths = [
            "",
            ".",
            "/",
            "//",
            "/a",
            "/a/",
            "/a//",
            "/a/b",
            "/a/b/",
            "/a//b",
            "/a/./b",
            "/a/.",
            "/a/../b",
            "/a/..",
            "/ab",
            "/ab/c",
            "a",
            "a/",
            "a/b",
            "./a",
            "./a/b",
            "../a",
            "/a/b c/d",
            "/a/é/b",
            "/é",
            "/a/b.yaml",
            "/a/bb",
        ];
        for p in paths {
            for d in paths {
                let (p, d) = (Path::new(p), Path::new(d));
                assert_eq!(under(p, d), p.starts_with(d), "{p:?} under {d:?}");
            }
        }
    }

    /// Every way a kustomization's entry can lead, resolved before the builds: a base with a
    /// kustomization (built through it, never on its own), a file, a remote base, a path
    /// outside the root, a path that does not exist, a directory without a kustomization.
    #[test]
    fn resolves_every_kind_of_kustomization_entry() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("repo");
        let group = |name: &str| {
            format!(
                "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: {name}\n"
            )
        };
        let files = [
            (
                "app/kustomization.yaml",
                "resources:\n- ../base\n- rg.yaml\n- https://github.com/org/repo//deploy?ref=v1\n- ../../outside\n- missing.yaml\n- plain\n".to_string(),
            ),
            ("app/rg.yaml", group("app-rg")),
            ("app/plain/other.yaml", "a: 1\n".to_string()),
            ("base/kustomization.yaml", "resources:\n- rg.yaml\n".to_string()),
            ("base/rg.yaml", group("base-rg")),
        ];
        let mut indexed = Vec::new();
        for (path, text) in &files {
            let fs_path = root.join(path);
            std::fs::create_dir_all(fs_path.parent().expect("parent")).expect("dirs");
            std::fs::write(&fs_path, text).expect("write");
            indexed.push(IndexedFile {
                display: Path::new(path).into(),
                fs_path: fs_path.as_path().into(),
                facts: FileFacts::of(
                    &crate::yaml::parse(&crate::yaml::Arena::new(), text),
                    &fs_path,
                )
                .shared(),
                lines: LineIndex::new(text),
            });
        }
        let settings = Settings::resolve(Config::default(), root.clone(), None).expect("settings");
        let index = Index::build(indexed, &settings);
        let app = index
            .file_id(&root.join("app/kustomization.yaml"))
            .expect("indexed");
        // The app is the only top-level kustomization, and holds both groups.
        let contexts: Vec<&Context> = index
            .contexts
            .iter()
            .filter(|c| c.kind == ContextKind::Kustomization)
            .collect();
        assert_eq!(contexts.len(), 1);
        assert_eq!(contexts[0].file, app);
        let mut names: Vec<&str> = index
            .instances
            .iter()
            .filter_map(|i| i.name.as_deref())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["app-rg", "base-rg"]);
        let notes: Vec<&str> = index
            .notes(app)
            .iter()
            .map(|n| n.message.as_str())
            .collect();
        let notes = notes.join("\n");
        for expected in [
            "remote resource `https://github.com/org/repo//deploy?ref=v1` cannot be fetched offline",
            "`missing.yaml` does not exist",
            "`plain` is a directory without a kustomization",
        ] {
            assert!(notes.contains(expected), "{expected:?} not in {notes:?}");
        }
        let outside: Vec<&OutsideRoot> = index
            .outside_root
            .iter()
            .filter(|o| o.file == app)
            .collect();
        assert_eq!(outside.len(), 1);
        assert_eq!(outside[0].text, "../../outside");
    }

    /// Kustomize field paths: keys, `[key=value]` and `[=value]` selectors, bracketed keys with
    /// dots, indexes; what is not understood is unknown, never "missing".
    #[test]
    fn field_paths_are_followed_as_kustomize_does() {
        let text = "spec:\n  tags: {team: a}\n  list:\n    - name: x\n      value: 1\n  plain: [p, q]\n  empty:\nmetadata:\n  annotations:\n    a.b/c: d\n";
        let arena = crate::yaml::Arena::new();
        let stream = crate::yaml::parse(&arena, text);
        let root = stream.documents[0].root.as_ref().expect("root");
        for (path, missing) in [
            ("spec.tags.team", Some(false)),
            ("spec.tags.env", Some(true)),
            ("spec.list.[name=x].value", Some(false)),
            ("spec.list.[name=y].value", Some(true)),
            ("spec.list.[name=x].other", Some(true)),
            ("spec.plain.[=q]", Some(false)),
            ("spec.plain.1", Some(false)),
            ("spec.plain.5", Some(true)),
            ("spec.empty.key", Some(true)),
            ("metadata.annotations.[a.b/c]", Some(false)),
            ("metadata.annotations.[x.y/z]", Some(true)),
            ("spec.list.*.value", None),
            ("spec.tags.team.deeper", None),
        ] {
            assert_eq!(field_missing(root, path), missing, "{path}");
        }
    }

    #[test]
    fn matches_names_and_wildcards() {
        assert!(name_matches("db", Some("db")));
        assert!(!name_matches("db", Some("db2")));
        assert!(name_matches("db-.*", Some("db-prod")));
        assert!(name_matches(".*-prod", Some("db-prod")));
        assert!(!name_matches(".*-prod", Some("db-dev")));
    }

    #[test]
    fn substitutes_generator_paths_skipping_globs() {
        assert!(substitute("{{path}}", &["clusters/*".to_string()]).is_empty());
    }

    #[test]
    fn substitutes_generator_paths() {
        let paths = vec!["clusters/a".to_string(), "clusters/b".to_string()];
        assert_eq!(
            substitute("{{path}}/azure", &paths),
            ["clusters/a/azure", "clusters/b/azure"]
        );
        assert_eq!(
            substitute("apps/{{.path.basename}}", &paths),
            ["apps/a", "apps/b"]
        );
    }
}
