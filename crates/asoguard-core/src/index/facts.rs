//! Per-file summaries for the cross-file index: objects with their identity and reconcile
//! policy, kustomizations, Flux Kustomizations, ArgoCD Applications, JSON6902 patches.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use compact_str::CompactString;

use crate::manifest::{ARGOCD_SYNC_OPTIONS, Manifest, RECONCILE_POLICY};
use crate::span::Span;
use crate::yaml::{self, Node, Stream, Style};

/// Flux's per-resource force annotation.
pub const FLUX_FORCE: &str = "kustomize.toolkit.fluxcd.io/force";
/// Flux's per-resource annotation that turns postBuild substitution off.
const FLUX_SUBSTITUTE: &str = "kustomize.toolkit.fluxcd.io/substitute";
/// Annotations (and the value, compared case-insensitively) that exempt an object from Flux's
/// garbage collection.
const FLUX_GC_EXEMPT: [(&str, &str); 3] = [
    ("kustomize.toolkit.fluxcd.io/prune", "disabled"),
    ("kustomize.toolkit.fluxcd.io/reconcile", "disabled"),
    ("kustomize.toolkit.fluxcd.io/ssa", "ignore"),
];
/// Helm's annotation (`keep`) that ArgoCD honours too: never delete the object.
const HELM_RESOURCE_POLICY: &str = "helm.sh/resource-policy";
/// ArgoCD's cascading-deletion finalizer (also with `/foreground` or `/background`).
const ARGOCD_RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";
const KUSTOMIZE_GROUP: &str = "kustomize.config.k8s.io";
const FLUX_GROUP: &str = "kustomize.toolkit.fluxcd.io";
const ARGO_GROUP: &str = "argoproj.io";

/// Kustomize's annotation for objects a build uses but never emits.
pub const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";

/// Whether an annotations mapping marks its object local-config: kustomize drops an object
/// whose annotation holds any value but `false`.
fn marks_local_config(annotations: Option<&Node>) -> bool {
    annotations
        .and_then(|a| a.get(LOCAL_CONFIG))
        .is_some_and(|v| v.as_str() != Some("false"))
}

/// File names kustomize reads in a directory.
pub const KUSTOMIZATION_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// An annotation the index follows through rendering, from every place that can set it:
/// the object itself, patches, `commonAnnotations`, Flux `commonMetadata`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tracked {
    /// ASO's `serviceoperator.azure.com/reconcile-policy`.
    Policy,
    /// ArgoCD's `argocd.argoproj.io/sync-options`.
    SyncOptions,
}

impl Tracked {
    /// Both, in a fixed order.
    pub const ALL: [Tracked; 2] = [Tracked::Policy, Tracked::SyncOptions];

    /// The annotation's key.
    pub fn key(self) -> &'static str {
        match self {
            Tracked::Policy => RECONCILE_POLICY,
            Tracked::SyncOptions => ARGOCD_SYNC_OPTIONS,
        }
    }

    /// The JSON pointer of the annotation (`/` in the key escaped as `~1`).
    fn pointer(self) -> &'static str {
        match self {
            Tracked::Policy => "/metadata/annotations/serviceoperator.azure.com~1reconcile-policy",
            Tracked::SyncOptions => "/metadata/annotations/argocd.argoproj.io~1sync-options",
        }
    }
}

/// An annotation as written (a reconcile-policy, or another [`Tracked`] one): its value
/// (`None` for null, which a patch uses to remove it) and where its entry and value are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyFact {
    /// The value; `None` when null or empty.
    pub value: Option<CompactString>,
    /// The whole `key: value` entry.
    pub entry: Span,
    /// The value.
    pub value_span: Span,
    /// The value's quoting style (`None`: not a scalar), so a fix can replace it without the
    /// file's tree.
    pub style: Option<Style>,
}

impl PolicyFact {
    /// The reconcile-policy entry of an annotations mapping, if present.
    pub fn of(annotations: Option<&Node>) -> Option<Self> {
        Self::of_key(annotations, RECONCILE_POLICY)
    }

    /// The entry `key` of an annotations mapping, if present.
    pub fn of_key(annotations: Option<&Node>, key: &str) -> Option<Self> {
        let entry = annotations?.entry(key)?;
        Some(PolicyFact {
            value: entry
                .value
                .as_str()
                .filter(|v| !v.is_empty() && !entry.value.is_null())
                .map(CompactString::from),
            entry: entry.key.span.cover(entry.value.span),
            value_span: entry.value.span,
            style: entry.value.style(),
        })
    }
}

impl PolicyFact {
    /// What a strategic merge patch that writes this entry does to the annotation: sets its
    /// value, or removes it when the value is null. Except under `patchesStrategicMerge`
    /// (`legacy`): kustomize (v5) turns a null annotation value there into the text it is
    /// written as, so the annotation is set to `null` or `~` (the spelling `Null` or `NULL`
    /// is read as `null`: to ASO and ArgoCD both are the same unknown value). An empty value
    /// is unset either way.
    pub fn patch_effect(&self, legacy: bool) -> PatchEffect {
        match &self.value {
            Some(v) => PatchEffect::Set(v.clone()),
            None if !legacy || self.value_span.is_empty() => PatchEffect::Remove,
            None if self.value_span.len() == 1 => PatchEffect::Set(CompactString::const_new("~")),
            None => PatchEffect::Set(CompactString::const_new("null")),
        }
    }
}

/// One Kubernetes object of a file. Its strings are compact (inline up to 24 bytes, as most
/// names, kinds and groups are): a run holds one per object of the repository.
#[derive(Clone, Debug)]
pub struct ObjectFact {
    /// Index of its document in the file.
    pub doc: usize,
    /// The document's root span.
    pub span: Span,
    /// `apiVersion` as written, after its group (`/v1api20200601`; all of a core `v1`): short
    /// enough to be stored inline, where the whole of an ASO `apiVersion` would not be.
    pub api_version_rest: Option<CompactString>,
    /// API group (empty for core).
    pub group: CompactString,
    /// Kind.
    pub kind: CompactString,
    /// `metadata.name`.
    pub name: Option<CompactString>,
    /// Span of the name (or of the object when it has none).
    pub name_span: Span,
    /// `metadata.namespace`.
    pub namespace: Option<CompactString>,
    /// Its own reconcile-policy annotation (its sync-options: [`FileFacts::sync_options`]).
    pub policy: Option<PolicyFact>,
    /// An ASO v2 resource.
    pub aso: bool,
    /// `spec.azureName`.
    pub azure_name: Option<CompactString>,
    /// `spec.owner.name`.
    pub owner: Option<CompactString>,
    /// It exports values for workloads through `spec.operatorSpec` (`configMaps` or
    /// `secrets`): a `skip` resource that does is a read-only reference.
    pub exports: bool,
    /// Annotated `config.kubernetes.io/local-config` (not `false`): a kustomize build drops it.
    pub local_config: bool,
    /// Annotated `kustomize.toolkit.fluxcd.io/substitute: disabled`: Flux substitutes nothing
    /// in it.
    pub substitute_disabled: bool,
    /// Exempt from garbage collection: Flux's `prune: disabled`, `reconcile: disabled` or
    /// `ssa: Ignore` annotations, or Helm's `helm.sh/resource-policy: keep`, which ArgoCD
    /// honours. Neither Flux nor ArgoCD deletes it.
    pub gc_exempt: bool,
    /// What else the index needs of it.
    pub extra: Extra,
}

/// Kind-specific facts, boxed: most objects have none, and every object carries this.
#[derive(Clone, Debug, Default)]
pub enum Extra {
    /// Nothing more.
    #[default]
    None,
    /// A Flux Kustomization.
    Flux(Box<FluxFact>),
    /// An ArgoCD Application or ApplicationSet.
    Argo(Box<ArgoFact>),
}

/// A Flux `kustomize.toolkit.fluxcd.io` Kustomization.
#[derive(Clone, Debug, Default)]
pub struct FluxFact {
    /// `spec.path`.
    pub path: Option<String>,
    /// `spec.prune: true`, at the value.
    pub prune: Option<Span>,
    /// `spec.force: true`, at the entry.
    pub force: Option<Span>,
    /// `spec.commonMetadata.annotations` reconcile-policy.
    pub common_policy: Option<PolicyFact>,
    /// `spec.commonMetadata.annotations` ArgoCD sync-options.
    pub common_sync_options: Option<PolicyFact>,
    /// `spec.targetNamespace`.
    pub target_namespace: Option<String>,
    /// `spec.deletionPolicy` (`MirrorPrune` when unset: deleting the Kustomization deletes what
    /// it applied when it prunes; `Delete` always; `Orphan` never).
    pub deletion_policy: Option<String>,
    /// `spec.postBuild`: what it substitutes; `None` when there is none (nothing is).
    pub post_build: Option<PostBuild>,
}

/// A Flux Kustomization's `spec.postBuild`.
#[derive(Clone, Debug, Default)]
pub struct PostBuild {
    /// `substitute`: variables and values, in order.
    pub substitute: Vec<(String, String)>,
    /// `substituteFrom`: ConfigMaps and Secrets to read variables from, in order.
    pub substitute_from: Vec<ValuesFrom>,
}

/// One `substituteFrom` entry.
#[derive(Clone, Debug, Default)]
pub struct ValuesFrom {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    /// Its name, in the Flux Kustomization's namespace.
    pub name: String,
    /// `optional: true`: a missing one is not an error.
    pub optional: bool,
}

/// One source of an ArgoCD Application.
#[derive(Clone, Debug)]
pub struct SourceFact {
    /// `path`, when set.
    pub path: Option<String>,
    /// A Helm chart source.
    pub chart: bool,
    /// `directory.recurse: true`.
    pub recurse: bool,
}

/// An ArgoCD Application or ApplicationSet (its template).
#[derive(Clone, Debug, Default)]
pub struct ArgoFact {
    /// An ApplicationSet rather than an Application.
    pub app_set: bool,
    /// `spec.source` and `spec.sources[]` (of the template for an ApplicationSet).
    pub sources: Vec<SourceFact>,
    /// `syncPolicy.syncOptions` items and their spans.
    pub sync_options: Vec<(String, Span)>,
    /// `destination.namespace`.
    pub destination_namespace: Option<String>,
    /// `syncPolicy.managedNamespaceMetadata.annotations` reconcile-policy.
    pub managed_namespace_policy: Option<PolicyFact>,
    /// `syncPolicy.automated.prune: true`: an object removed from Git is deleted from the
    /// cluster (ArgoCD's default leaves it, OutOfSync).
    pub automated_prune: bool,
    /// The Application carries the `resources-finalizer.argocd.argoproj.io` finalizer (any of
    /// its variants): deleting the Application deletes everything it applied. For an
    /// ApplicationSet, its template's, unless `syncPolicy.preserveResourcesOnDeletion`.
    pub resources_finalizer: bool,
    /// Paths listed by an ApplicationSet's list and git-directory generators.
    pub generator_paths: Vec<String>,
}

/// A reference from a kustomization (a resource, component or patch path) and where it is.
#[derive(Clone, Debug)]
pub struct Reference {
    /// The text as written.
    pub text: String,
    /// Its span.
    pub span: Span,
}

/// Which objects a patch applies to.
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// API group (`None`: any).
    pub group: Option<CompactString>,
    /// API version (`None`: any).
    pub version: Option<CompactString>,
    /// Kind (`None`: any).
    pub kind: Option<CompactString>,
    /// Name (`None`: any).
    pub name: Option<CompactString>,
    /// Namespace (`None`: any).
    pub namespace: Option<CompactString>,
    /// A label or annotation selector, which asoguard cannot evaluate: assumed to match.
    pub selector: bool,
    /// The patch's own identity, not a `target` selector (a strategic merge patch without
    /// one): kustomize applies it to the one object that has, or had, exactly this name and
    /// namespace (none meaning `default`), rather than to every object a selector matches.
    pub identity: bool,
}

/// What a patch does to each [`Tracked`] annotation (`None`: leaves it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// On the reconcile-policy.
    pub policy: Option<PatchEffect>,
    /// On the ArgoCD sync-options.
    pub sync_options: Option<PatchEffect>,
}

impl Effects {
    /// The effect on `annotation`.
    pub fn get(&self, annotation: Tracked) -> Option<&PatchEffect> {
        match annotation {
            Tracked::Policy => self.policy.as_ref(),
            Tracked::SyncOptions => self.sync_options.as_ref(),
        }
    }

    fn set(&mut self, annotation: Tracked, effect: PatchEffect) {
        match annotation {
            Tracked::Policy => self.policy = Some(effect),
            Tracked::SyncOptions => self.sync_options = Some(effect),
        }
    }
}

/// What a patch does to a [`Tracked`] annotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatchEffect {
    /// Sets it to this value.
    Set(CompactString),
    /// Removes it.
    Remove,
}

/// A patch of a kustomization.
#[derive(Clone, Debug)]
pub enum Patch {
    /// A patch file (strategic merge or JSON6902), relative to the kustomization.
    File {
        /// The path as written.
        reference: Reference,
        /// The selector, for `patches` and `patchesJson6902`.
        target: Option<Target>,
        /// Listed under `patchesStrategicMerge` (see [`PolicyFact::patch_effect`]).
        legacy: bool,
    },
    /// An inline patch and what it does to the tracked annotations (decided when the
    /// kustomization is read).
    Inline {
        /// The `patch:` value's span.
        span: Span,
        /// The selector (from `target`, or from the patch's own identity).
        target: Target,
        /// Its effects on the tracked annotations.
        effects: Effects,
    },
}

/// A `kustomization.yaml`.
#[derive(Clone, Debug, Default)]
pub struct KustomizationFact {
    /// `resources` and the older `bases`.
    pub resources: Vec<Reference>,
    /// `components`.
    pub components: Vec<Reference>,
    /// `patchesStrategicMerge`, `patches` and `patchesJson6902`, in the order kustomize
    /// applies them: those before [`KustomizationFact::late_patches`] before `namespace`,
    /// `namePrefix`/`nameSuffix` and `commonAnnotations`, the `patchesJson6902` after them.
    pub patches: Vec<Patch>,
    /// Where `patchesJson6902` starts in `patches`.
    pub late_patches: usize,
    /// `commonAnnotations` reconcile-policy.
    pub common_policy: Option<PolicyFact>,
    /// `commonAnnotations` ArgoCD sync-options (boxed: few kustomizations set them).
    pub common_sync_options: Option<Box<PolicyFact>>,
    /// `commonAnnotations` marks every object local-config: the build emits none of them.
    pub common_local_config: bool,
    /// `replacements` given inline (a replacement file is not read).
    pub replacements: Vec<Replacement>,
    /// `namespace`.
    pub namespace: Option<String>,
    /// `namePrefix`.
    pub name_prefix: Option<String>,
    /// `nameSuffix`.
    pub name_suffix: Option<String>,
    /// What cannot be resolved offline (remote bases, generators, Helm charts).
    pub unresolvable: Vec<String>,
    /// Where to report findings about the kustomization as a whole: its first key.
    pub anchor: Span,
}

/// Which objects a replacement's source or target selects.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    /// Group, version, kind, name and namespace (`None`: any).
    pub group: Option<CompactString>,
    /// Version.
    pub version: Option<CompactString>,
    /// Kind.
    pub kind: Option<CompactString>,
    /// Name.
    pub name: Option<CompactString>,
    /// Namespace.
    pub namespace: Option<CompactString>,
}

/// One target of a replacement.
#[derive(Clone, Debug, Default)]
pub struct ReplacementTarget {
    /// `select`.
    pub select: Selector,
    /// `reject`.
    pub reject: Vec<Selector>,
    /// `fieldPaths`.
    pub field_paths: Vec<String>,
    /// `options.create: true`: a missing field is created, not an error.
    pub create: bool,
}

/// A kustomization's `replacements` entry given inline: kustomize fails the whole build when
/// its source selects nothing, or a field a target names is missing.
#[derive(Clone, Debug, Default)]
pub struct Replacement {
    /// The entry, for notes.
    pub span: Span,
    /// `source` (`None` when the entry has none).
    pub source: Option<(Selector, String)>,
    /// `targets`.
    pub targets: Vec<ReplacementTarget>,
}

/// One operation of a JSON6902 patch that touches a [`Tracked`] annotation.
#[derive(Clone, Debug)]
pub struct JsonPatchOp {
    /// The annotation.
    pub annotation: Tracked,
    /// Its effect.
    pub effect: PatchEffect,
    /// The op's value (or the op itself for `remove`).
    pub span: Span,
}

/// The summary of one file.
#[derive(Clone, Debug, Default)]
pub struct FileFacts {
    /// Objects, in document order.
    pub objects: Vec<ObjectFact>,
    /// The kustomization, when the file is one.
    pub kustomization: Option<Box<KustomizationFact>>,
    /// What few files have, boxed: the facts of every other file do without it.
    pub rare: Option<Box<RareFacts>>,
    /// Whether the file holds at least one ASO resource.
    pub has_aso: bool,
}

/// Facts few files have (see [`FileFacts::rare`]).
#[derive(Clone, Debug, Default)]
pub struct RareFacts {
    /// JSON6902 operations on the tracked annotations, when the file is a JSON6902 patch.
    pub json_patch: Vec<JsonPatchOp>,
    /// The objects' own `argocd.argoproj.io/sync-options` annotations: (index into
    /// [`FileFacts::objects`], the annotation), in object order.
    pub sync_options: Vec<(usize, PolicyFact)>,
}

/// Whether `path` names a kustomization file.
pub fn is_kustomization_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| KUSTOMIZATION_NAMES.contains(&n))
}

impl ObjectFact {
    /// `apiVersion` as written.
    pub fn api_version(&self) -> Option<String> {
        let rest = self.api_version_rest.as_deref()?;
        Some(format!("{}{rest}", self.group))
    }
}

impl FileFacts {
    /// Summarise a parsed file at `path`.
    pub fn of(stream: &Stream, path: &Path) -> Self {
        // At most an object per document: sized once, so a file's objects are never moved.
        let mut facts = FileFacts {
            objects: Vec::with_capacity(stream.documents.len()),
            ..FileFacts::default()
        };
        let kustomization_file = is_kustomization_file(path);
        for (doc, document) in stream.documents.iter().enumerate() {
            let Some(root) = document.root.as_ref() else {
                continue;
            };
            if let Some(items) = root.items() {
                let ops = json_patch_ops(items);
                if !ops.is_empty() {
                    facts.rare_mut().json_patch.extend(ops);
                }
                continue;
            }
            let Some(manifest) = Manifest::from_root(root) else {
                continue;
            };
            let is_kustomize_kind = matches!(manifest.kind, Some("Kustomization" | "Component"))
                && (manifest.group() == KUSTOMIZE_GROUP || manifest.api_version.is_none());
            if kustomization_file && doc == 0 && (is_kustomize_kind || manifest.kind.is_none()) {
                facts.kustomization = Some(Box::new(kustomization(root)));
                continue;
            }
            if let Some(object) = object(doc, root, &manifest) {
                if let Some(fact) = PolicyFact::of_key(manifest.annotations(), ARGOCD_SYNC_OPTIONS)
                {
                    let index = facts.objects.len();
                    facts.rare_mut().sync_options.push((index, fact));
                }
                facts.has_aso |= object.aso;
                facts.objects.push(object);
            }
        }
        // Documents that are not objects leave slack: across a repository's files it would be
        // much of the index's memory.
        facts.objects.shrink_to_fit();
        facts
    }

    /// Whether the file gave no fact at all (most files of a repository).
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
            && self.kustomization.is_none()
            && self.rare.is_none()
            && !self.has_aso
    }

    fn rare_mut(&mut self) -> &mut RareFacts {
        self.rare.get_or_insert_with(Box::default)
    }

    /// JSON6902 operations on the tracked annotations, when the file is a JSON6902 patch.
    pub fn json_patch(&self) -> &[JsonPatchOp] {
        self.rare.as_ref().map_or(&[], |r| &r.json_patch)
    }

    /// The own `argocd.argoproj.io/sync-options` annotation of object `object` (an index into
    /// `objects`), if it has one.
    pub fn sync_options(&self, object: usize) -> Option<&PolicyFact> {
        let list = &self.rare.as_ref()?.sync_options;
        let at = list.binary_search_by_key(&object, |(i, _)| *i).ok()?;
        Some(&list[at].1)
    }

    /// These facts as an index entry holds them: behind a shared pointer, so an entry stays
    /// small and copies of it (one per fix round) copy no facts; every file that gives none
    /// shares one empty set.
    pub fn shared(self) -> Arc<FileFacts> {
        if self.is_empty() {
            FileFacts::none()
        } else {
            Arc::new(self)
        }
    }

    /// The shared empty facts.
    pub fn none() -> Arc<FileFacts> {
        static NONE: LazyLock<Arc<FileFacts>> = LazyLock::new(|| Arc::new(FileFacts::default()));
        NONE.clone()
    }
}

fn object(doc: usize, root: &Node, manifest: &Manifest) -> Option<ObjectFact> {
    let kind = CompactString::from(manifest.kind?);
    let group = CompactString::from(manifest.group());
    let extra = if group == FLUX_GROUP && kind == "Kustomization" {
        Extra::Flux(Box::new(flux(root)))
    } else if group == ARGO_GROUP && (kind == "Application" || kind == "ApplicationSet") {
        Extra::Argo(Box::new(argo(root, kind == "ApplicationSet")))
    } else {
        Extra::None
    };
    let spec = root.get("spec");
    Some(ObjectFact {
        doc,
        span: root.span,
        aso: manifest.is_aso(),
        api_version_rest: manifest
            .api_version
            .map(|v| CompactString::from(&v[manifest.group().len()..])),
        name: manifest.name_str().map(CompactString::from),
        name_span: manifest.object_span(),
        namespace: manifest.namespace.map(CompactString::from),
        policy: PolicyFact::of(manifest.annotations()),
        // An empty azureName is no name: ASO's defaulter puts the object's name there.
        azure_name: spec
            .and_then(|s| s.get_str("azureName"))
            .filter(|n| !n.is_empty())
            .map(CompactString::from),
        owner: spec
            .and_then(|s| s.get_path(&["owner", "name"]))
            .and_then(Node::as_str)
            .map(CompactString::from),
        local_config: marks_local_config(manifest.annotations()),
        substitute_disabled: manifest
            .annotations()
            .and_then(|a| a.get_str(FLUX_SUBSTITUTE))
            .is_some_and(|v| v.eq_ignore_ascii_case("disabled")),
        gc_exempt: manifest.annotations().is_some_and(|a| {
            FLUX_GC_EXEMPT.iter().any(|(key, value)| {
                a.get_str(key)
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
            }) || a.get_str(HELM_RESOURCE_POLICY) == Some("keep")
        }),
        exports: spec.and_then(|s| s.get("operatorSpec")).is_some_and(|o| {
            ["configMaps", "secrets"].iter().any(|k| {
                o.get(k)
                    .and_then(Node::entries)
                    .is_some_and(|e| !e.is_empty())
            })
        }),
        group,
        kind,
        extra,
    })
}

fn is_true(node: Option<&Node>) -> bool {
    node.and_then(Node::as_str).is_some_and(|v| v == "true")
}

fn flux(root: &Node) -> FluxFact {
    let spec = root.get("spec");
    let entry_span = |key: &str| {
        spec.and_then(|s| s.entry(key))
            .filter(|e| is_true(Some(&e.value)))
            .map(|e| e.key.span.cover(e.value.span))
    };
    FluxFact {
        path: spec.and_then(|s| s.get_str("path")).map(str::to_string),
        prune: entry_span("prune"),
        force: entry_span("force"),
        common_policy: PolicyFact::of(
            spec.and_then(|s| s.get_path(&["commonMetadata", "annotations"])),
        ),
        common_sync_options: PolicyFact::of_key(
            spec.and_then(|s| s.get_path(&["commonMetadata", "annotations"])),
            ARGOCD_SYNC_OPTIONS,
        ),
        target_namespace: spec
            .and_then(|s| s.get_str("targetNamespace"))
            .map(str::to_string),
        deletion_policy: spec
            .and_then(|s| s.get_str("deletionPolicy"))
            .map(str::to_string),
        post_build: spec.and_then(|s| s.get("postBuild")).map(post_build),
    }
}

fn post_build(node: &Node) -> PostBuild {
    let substitute = node
        .get("substitute")
        .and_then(Node::entries)
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e.key.as_str()?.to_string(), e.value.as_str()?.to_string())))
        .collect();
    let substitute_from = node
        .get("substituteFrom")
        .and_then(Node::items)
        .into_iter()
        .flatten()
        .filter_map(|item| {
            Some(ValuesFrom {
                kind: item.get_str("kind")?.to_string(),
                name: item.get_str("name")?.to_string(),
                optional: is_true(item.get("optional")),
            })
        })
        .collect();
    PostBuild {
        substitute,
        substitute_from,
    }
}

fn argo(root: &Node, app_set: bool) -> ArgoFact {
    let spec = if app_set {
        root.get_path(&["spec", "template", "spec"])
    } else {
        root.get("spec")
    };
    let mut fact = ArgoFact {
        app_set,
        ..ArgoFact::default()
    };
    let Some(spec) = spec else {
        return fact;
    };
    let mut sources: Vec<&Node> = spec.get("source").into_iter().collect();
    sources.extend(
        spec.get("sources")
            .and_then(Node::items)
            .into_iter()
            .flatten(),
    );
    fact.sources = sources
        .into_iter()
        .map(|s| SourceFact {
            path: s.get_str("path").map(str::to_string),
            chart: s.get("chart").is_some(),
            recurse: is_true(s.get_path(&["directory", "recurse"])),
        })
        .collect();
    if let Some(options) = spec
        .get_path(&["syncPolicy", "syncOptions"])
        .and_then(Node::items)
    {
        fact.sync_options = options
            .iter()
            .filter_map(|o| Some((o.as_str()?.to_string(), o.span)))
            .collect();
    }
    fact.destination_namespace = spec
        .get_path(&["destination", "namespace"])
        .and_then(Node::as_str)
        .map(str::to_string);
    fact.managed_namespace_policy =
        PolicyFact::of(spec.get_path(&["syncPolicy", "managedNamespaceMetadata", "annotations"]));
    fact.automated_prune = is_true(spec.get_path(&["syncPolicy", "automated", "prune"]));
    // An ApplicationSet deletes the Applications it generated; each carries the template's
    // finalizers.
    let metadata = if app_set {
        root.get_path(&["spec", "template", "metadata"])
    } else {
        root.get("metadata")
    };
    let preserved =
        app_set && is_true(root.get_path(&["spec", "syncPolicy", "preserveResourcesOnDeletion"]));
    fact.resources_finalizer = !preserved
        && metadata
            .and_then(|m| m.get("finalizers"))
            .and_then(Node::items)
            .into_iter()
            .flatten()
            .filter_map(Node::as_str)
            .any(|f| f.starts_with(ARGOCD_RESOURCES_FINALIZER));
    if app_set {
        for generator in root
            .get_path(&["spec", "generators"])
            .and_then(Node::items)
            .into_iter()
            .flatten()
        {
            for element in generator
                .get_path(&["list", "elements"])
                .and_then(Node::items)
                .into_iter()
                .flatten()
            {
                if let Some(path) = element.get_str("path") {
                    fact.generator_paths.push(path.to_string());
                }
            }
            for dir in generator
                .get_path(&["git", "directories"])
                .and_then(Node::items)
                .into_iter()
                .flatten()
            {
                let excluded = is_true(dir.get("exclude"));
                if let (Some(path), false) = (dir.get_str("path"), excluded) {
                    fact.generator_paths.push(path.to_string());
                }
            }
        }
    }
    fact
}

fn references(root: &Node, key: &str) -> Vec<Reference> {
    root.get(key)
        .and_then(Node::items)
        .into_iter()
        .flatten()
        .filter_map(|item| {
            Some(Reference {
                text: item.as_str()?.to_string(),
                span: item.span,
            })
        })
        .collect()
}

fn target(node: Option<&Node>) -> Option<Target> {
    let node = node?;
    let text = |k: &str| node.get_str(k).map(CompactString::from);
    Some(Target {
        group: text("group"),
        version: text("version"),
        kind: text("kind"),
        name: text("name"),
        namespace: text("namespace"),
        selector: node.get("labelSelector").is_some() || node.get("annotationSelector").is_some(),
        identity: false,
    })
}

fn kustomization(root: &Node) -> KustomizationFact {
    let mut fact = KustomizationFact {
        resources: references(root, "resources"),
        components: references(root, "components"),
        common_policy: PolicyFact::of(root.get("commonAnnotations")),
        common_sync_options: PolicyFact::of_key(root.get("commonAnnotations"), ARGOCD_SYNC_OPTIONS)
            .map(Box::new),
        namespace: root.get_str("namespace").map(str::to_string),
        name_prefix: root.get_str("namePrefix").map(str::to_string),
        name_suffix: root.get_str("nameSuffix").map(str::to_string),
        anchor: root
            .entries()
            .and_then(|e| e.first())
            .map_or(root.span, |e| e.key.span),
        ..KustomizationFact::default()
    };
    fact.resources.extend(references(root, "bases"));
    fact.common_local_config = marks_local_config(root.get("commonAnnotations"));
    fact.replacements = root
        .get("replacements")
        .and_then(Node::items)
        .into_iter()
        .flatten()
        .filter(|item| item.get("path").is_none())
        .map(replacement)
        .collect();
    for key in [
        "helmCharts",
        "helmChartInflationGenerator",
        "generators",
        "transformers",
    ] {
        if root.get(key).is_some() {
            fact.unresolvable
                .push(format!("`{key}` cannot be rendered offline"));
        }
    }
    for item in root
        .get("patchesStrategicMerge")
        .and_then(Node::items)
        .into_iter()
        .flatten()
    {
        match item.as_str() {
            // An inline strategic merge patch is a YAML document in a string.
            Some(text) if text.contains('\n') => {
                fact.patches.extend(inline_patch(item, None, true));
            }
            Some(text) => fact.patches.push(Patch::File {
                reference: Reference {
                    text: text.to_string(),
                    span: item.span,
                },
                target: None,
                legacy: true,
            }),
            None => {}
        }
    }
    for item in root
        .get("patches")
        .and_then(Node::items)
        .into_iter()
        .flatten()
    {
        let target = target(item.get("target"));
        if let Some(path) = item.get("path") {
            if let Some(text) = path.as_str() {
                fact.patches.push(Patch::File {
                    reference: Reference {
                        text: text.to_string(),
                        span: path.span,
                    },
                    target,
                    legacy: false,
                });
            }
        } else if let Some(inline) = item.get("patch") {
            fact.patches.extend(inline_patch(inline, target, false));
        }
    }
    fact.late_patches = fact.patches.len();
    for item in root
        .get("patchesJson6902")
        .and_then(Node::items)
        .into_iter()
        .flatten()
    {
        let target = target(item.get("target"));
        if let Some(path) = item.get("path").and_then(|p| Some((p.as_str()?, p.span))) {
            fact.patches.push(Patch::File {
                reference: Reference {
                    text: path.0.to_string(),
                    span: path.1,
                },
                target,
                legacy: false,
            });
        } else if let Some(inline) = item.get("patch") {
            fact.patches.extend(inline_patch(inline, target, false));
        }
    }
    fact
}

fn selector(node: Option<&Node>) -> Selector {
    let text = |k: &str| node.and_then(|n| n.get_str(k)).map(CompactString::from);
    Selector {
        group: text("group"),
        version: text("version"),
        kind: text("kind"),
        name: text("name"),
        namespace: text("namespace"),
    }
}

fn replacement(item: &Node) -> Replacement {
    let source = item.get("source").map(|s| {
        let path = s.get_str("fieldPath").unwrap_or("metadata.name");
        (selector(Some(s)), path.to_string())
    });
    let targets = item
        .get("targets")
        .and_then(Node::items)
        .into_iter()
        .flatten()
        .map(|t| ReplacementTarget {
            select: selector(t.get("select")),
            reject: t
                .get("reject")
                .and_then(Node::items)
                .into_iter()
                .flatten()
                .map(|r| selector(Some(r)))
                .collect(),
            field_paths: t
                .get("fieldPaths")
                .and_then(Node::items)
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect(),
            create: is_true(t.get_path(&["options", "create"])),
        })
        .collect();
    Replacement {
        span: item.span,
        source,
        targets,
    }
}

/// Read an inline patch (a YAML string): a strategic merge patch document, or a JSON6902
/// operation list. `legacy`: listed under `patchesStrategicMerge`.
fn inline_patch(node: &Node, target: Option<Target>, legacy: bool) -> Option<Patch> {
    let text = node.as_str()?;
    let arena = yaml::Arena::new();
    let stream = yaml::parse(&arena, text);
    let root = stream.documents.first()?.root.as_ref()?;
    if let Some(items) = root.items() {
        let mut effects = Effects::default();
        // The last operation on an annotation decides it.
        for op in json_patch_ops(items) {
            effects.set(op.annotation, op.effect);
        }
        return Some(Patch::Inline {
            span: node.span,
            target: target.unwrap_or_default(),
            effects,
        });
    }
    let manifest = Manifest::from_root(root)?;
    let target = target.unwrap_or_else(|| Target {
        group: Some(CompactString::from(manifest.group())),
        version: manifest
            .api_version
            .and_then(|v| v.rsplit_once('/').map_or(Some(v), |(_, v)| Some(v)))
            .map(CompactString::from),
        kind: manifest.kind.map(CompactString::from),
        name: manifest.name_str().map(CompactString::from),
        namespace: manifest.namespace.map(CompactString::from),
        selector: false,
        identity: true,
    });
    let mut effects = Effects::default();
    for annotation in Tracked::ALL {
        if let Some(fact) = PolicyFact::of_key(manifest.annotations(), annotation.key()) {
            effects.set(annotation, fact.patch_effect(legacy));
        }
    }
    Some(Patch::Inline {
        span: node.span,
        target,
        effects,
    })
}

/// The operations of a JSON6902 list that touch a tracked annotation, in order.
fn json_patch_ops(items: &[Node]) -> Vec<JsonPatchOp> {
    let mut ops = Vec::new();
    for item in items {
        let (Some(op), Some(path)) = (item.get_str("op"), item.get_str("path")) else {
            continue;
        };
        let value = item.get("value");
        for annotation in Tracked::ALL {
            let key = annotation.key();
            let effect = match op {
                "remove" if path == annotation.pointer() || path == "/metadata/annotations" => {
                    Some(PatchEffect::Remove)
                }
                "add" | "replace" if path == annotation.pointer() => value
                    .and_then(Node::as_str)
                    .map(|v| PatchEffect::Set(CompactString::from(v))),
                "add" | "replace" if path == "/metadata/annotations" => {
                    Some(match value.and_then(|v| v.get_str(key)) {
                        Some(v) => PatchEffect::Set(CompactString::from(v)),
                        None => PatchEffect::Remove,
                    })
                }
                _ => None,
            };
            if let Some(effect) = effect {
                let span = match (op, value) {
                    ("remove", _) | (_, None) => item.span,
                    (_, Some(v)) => v.get(key).map_or(v.span, |p| p.span),
                };
                ops.push(JsonPatchOp {
                    annotation,
                    effect,
                    span,
                });
            }
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Arena, parse};

    /// An object's `apiVersion` is kept after its group, and given back as written.
    #[test]
    fn api_version_is_given_back_as_written() {
        for api_version in [
            "resources.azure.com/v1api20200601",
            "v1",
            "a/b/c",
            "/v1",
            "x/",
        ] {
            let text = format!("apiVersion: {api_version}\nkind: K\nmetadata:\n  name: n\n");
            let arena = Arena::new();
            let facts = FileFacts::of(&parse(&arena, &text), Path::new("/r/o.yaml"));
            assert_eq!(facts.objects[0].api_version().as_deref(), Some(api_version));
        }
        let arena = Arena::new();
        let facts = FileFacts::of(
            &parse(&arena, "kind: K\nmetadata:\n  name: n\n"),
            Path::new("/r/o.yaml"),
        );
        assert_eq!(facts.objects[0].api_version(), None);
    }
}
