//! Validation against the CRDs a user runs: a [`CrdStore`] of CustomResourceDefinitions,
//! loaded from files, directories, ASO's release bundle or a directory made by
//! `asoguard crds import`, whose served versions' schemas are converted and compiled lazily,
//! once each, and shared across threads.
//!
//! Loading keeps the text and, per CRD, its group, kind, versions (served or not) and where each
//! version's `openAPIV3Schema` lies in the text: nothing is converted until a manifest of that
//! group, version and kind is checked, so a bundle of hundreds of CRDs costs one parse, and
//! only the kinds a repository uses are ever compiled.

pub mod convert;
pub mod import;
mod load;
pub mod validate;

/// CRD texts the schema tests share, kept in `fixtures/crds/` (the CLI's tests read them there
/// too).
#[cfg(test)]
pub(crate) mod test_crds {
    /// `widgets.example.com`: an unserved `v1beta1`, and a served `v1` whose `spec.size` is an
    /// integer.
    pub const WIDGET: &str = include_str!("../../../../fixtures/crds/widget.yaml");
}

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::manifest::Manifest;
use crate::span::Span;
use crate::yaml::{self, json};

pub use load::CrdError;

/// The file that marks a directory written by `asoguard crds import`.
pub const INDEX_FILE: &str = "asoguard-crds.json";

/// The format of [`INDEX_FILE`] and its schema files. Bumped whenever the conversion changes,
/// so an old import is refused rather than silently checked with old rules.
pub const INDEX_FORMAT: &str = "asoguard-crds/1";

/// Every CRD loaded for a run, by group and kind.
pub struct CrdStore {
    crds: Vec<Crd>,
    /// Group, then kind, to the CRD's index: looked up with `&str`s, without allocating.
    by_group_kind: HashMap<String, HashMap<String, usize>>,
    notes: Vec<String>,
    /// The files and directories loaded, made absolute.
    sources: Vec<PathBuf>,
}

impl std::fmt::Debug for CrdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrdStore")
            .field("crds", &self.crds.len())
            .finish_non_exhaustive()
    }
}

/// One CustomResourceDefinition: its group, kind and versions.
pub struct Crd {
    /// `metadata.name`, like `flexibleservers.dbforpostgresql.azure.com`.
    pub name: String,
    /// `spec.group`.
    pub group: String,
    /// `spec.names.kind`.
    pub kind: String,
    /// The file it was loaded from.
    pub origin: PathBuf,
    /// Its versions, in the CRD's order.
    pub versions: Vec<CrdVersion>,
    /// The CRD's YAML document, when it was loaded from YAML.
    pub(crate) document: Option<TextRef>,
}

/// One version of a CRD.
pub struct CrdVersion {
    /// The version's name, like `v1api20221201`.
    pub name: String,
    /// Whether the API server serves it: a manifest may only use served versions.
    pub served: bool,
    /// Whether it is the version stored in etcd.
    pub storage: bool,
    pub(crate) source: SchemaSource,
    compiled: OnceLock<Result<Arc<CompiledSchema>, String>>,
}

/// A byte range of a shared text.
#[derive(Clone)]
pub(crate) struct TextRef {
    pub(crate) text: Arc<str>,
    pub(crate) span: Span,
}

impl TextRef {
    pub(crate) fn as_str(&self) -> &str {
        self.text.get(self.span.start..self.span.end).unwrap_or("")
    }
}

/// Where a version's schema comes from.
pub(crate) enum SchemaSource {
    /// The version declares none.
    Missing,
    /// `openAPIV3Schema` as YAML text: a block mapping with its lines' indentation, or a flow
    /// mapping.
    Yaml(TextRef),
    /// `openAPIV3Schema` already read (when its text cannot be cut out on its own).
    Raw(Arc<Value>),
    /// A JSON Schema converted by `asoguard crds import`.
    Converted(PathBuf),
}

/// A served version's schema, converted to JSON Schema and compiled.
pub struct CompiledSchema {
    /// The CRD's group.
    pub group: String,
    /// The CRD's kind.
    pub kind: String,
    /// The version.
    pub version: String,
    /// The converted JSON Schema (draft 2020-12).
    pub schema: Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CompiledSchema({}/{} {})",
            self.group, self.version, self.kind
        )
    }
}

impl CompiledSchema {
    /// `Kind (version)`, as messages name the schema.
    pub fn label(&self) -> String {
        format!("{} ({})", self.kind, self.version)
    }

    /// The compiled validator.
    pub fn validator(&self) -> &jsonschema::Validator {
        &self.validator
    }
}

/// Compile a converted schema with the options every CRD schema uses: draft 2020-12, the
/// `regex` engine (RE2 syntax, like the API server's Go patterns, in linear time), and the
/// formats of [`convert::CHECKED_FORMATS`] checked as the API server checks them.
pub fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    let mut options = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_pattern_options(jsonschema::PatternOptions::regex())
        .should_validate_formats(true);
    for format in convert::CHECKED_FORMATS {
        options = options.with_format(format, move |value: &str| {
            convert::check_format(format, value)
        });
    }
    options.build(schema).map_err(|e| e.to_string())
}

impl CrdStore {
    /// Load CRDs from files and directories. A directory holding [`INDEX_FILE`] is read as an
    /// import; any other directory is walked for `.yaml`/`.yml` files (hidden entries
    /// skipped). A file named here must hold at least one CRD; a walked file that holds none is
    /// skipped with a note. When two sources define the same group and kind, the later wins.
    pub fn load(paths: &[PathBuf]) -> Result<CrdStore, CrdError> {
        load::load(paths)
    }

    /// CRDs from YAML text, as if read from `path` (for tests and embedding).
    pub fn from_yaml(path: &Path, text: &str) -> Result<CrdStore, CrdError> {
        load::from_texts(vec![(path.to_path_buf(), text.to_string(), true)])
    }

    fn new(crds: Vec<Crd>, mut notes: Vec<String>, sources: Vec<PathBuf>) -> CrdStore {
        let mut by_group_kind: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (i, crd) in crds.iter().enumerate() {
            let kinds = by_group_kind.entry(crd.group.clone()).or_default();
            if let Some(previous) = kinds.insert(crd.kind.clone(), i) {
                notes.push(format!(
                    "{}: the CRD {} replaces the one from {}",
                    crd.origin.display(),
                    crd.name,
                    crds[previous].origin.display()
                ));
            }
        }
        CrdStore {
            crds,
            by_group_kind,
            notes,
            sources,
        }
    }

    /// The CRD of `group` and `kind`, if one was loaded.
    pub fn get(&self, group: &str, kind: &str) -> Option<&Crd> {
        let i = *self.by_group_kind.get(group)?.get(kind)?;
        self.crds.get(i)
    }

    /// The CRD a manifest's apiVersion group and kind name.
    pub fn for_manifest(&self, manifest: &Manifest) -> Option<&Crd> {
        self.get(manifest.group(), manifest.kind?)
    }

    /// Every CRD in use (one per group and kind), sorted by group and kind.
    pub fn crds(&self) -> Vec<&Crd> {
        let mut all: Vec<&Crd> = self
            .by_group_kind
            .values()
            .flat_map(HashMap::values)
            .map(|&i| &self.crds[i])
            .collect();
        all.sort_by(|a, b| (&a.group, &a.kind).cmp(&(&b.group, &b.kind)));
        all
    }

    /// How many kinds have a CRD.
    pub fn len(&self) -> usize {
        self.by_group_kind.values().map(HashMap::len).sum()
    }

    /// Whether no CRD was loaded.
    pub fn is_empty(&self) -> bool {
        self.by_group_kind.is_empty()
    }

    /// Whether `path` (absolute) is one of the CRD files or lies in one of the CRD directories
    /// loaded: such files are inputs of validation, not manifests to lint.
    pub fn is_source(&self, path: &Path) -> bool {
        self.sources.iter().any(|s| path.starts_with(s))
    }

    /// Things worth telling the user that are not errors (skipped files, replaced CRDs).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

impl Crd {
    /// The version named `name`, served or not.
    pub fn version(&self, name: &str) -> Option<&CrdVersion> {
        self.versions.iter().find(|v| v.name == name)
    }

    /// The names of the served versions, in the CRD's order.
    pub fn served_versions(&self) -> Vec<&str> {
        self.versions
            .iter()
            .filter(|v| v.served)
            .map(|v| v.name.as_str())
            .collect()
    }

    /// The compiled schema of a served version: converted and compiled on first use, then
    /// shared. `None` when the version is unknown or not served.
    pub fn schema(&self, version: &str) -> Option<Result<Arc<CompiledSchema>, String>> {
        let v = self.version(version).filter(|v| v.served)?;
        Some(
            v.compiled
                .get_or_init(|| {
                    let schema = v.converted().map_err(|e| self.problem(&v.name, &e))?;
                    let validator = compile(&schema).map_err(|e| self.problem(&v.name, &e))?;
                    Ok(Arc::new(CompiledSchema {
                        group: self.group.clone(),
                        kind: self.kind.clone(),
                        version: v.name.clone(),
                        schema,
                        validator,
                    }))
                })
                .clone(),
        )
    }

    fn problem(&self, version: &str, error: &str) -> String {
        format!(
            "the schema of {} {version} in {} cannot be used: {error}",
            self.kind,
            self.origin.display()
        )
    }
}

impl CrdVersion {
    /// The version's schema converted to JSON Schema, read afresh (not cached).
    pub fn converted(&self) -> Result<Value, String> {
        match &self.source {
            SchemaSource::Missing => Err("the version declares no openAPIV3Schema".into()),
            SchemaSource::Raw(raw) => Ok(convert::convert(raw)),
            SchemaSource::Yaml(text) => {
                let arena = yaml::Arena::new();
                let stream = yaml::parse(&arena, text.as_str());
                if let Some(error) = stream.error {
                    return Err(format!("invalid YAML: {}", error.message));
                }
                let root = stream
                    .documents
                    .first()
                    .and_then(|d| d.root.as_ref())
                    .ok_or("the openAPIV3Schema is empty")?;
                let raw = json::to_json(root).map_err(|e| e.message)?;
                Ok(convert::convert(&raw))
            }
            SchemaSource::Converted(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                serde_json::from_str(&text)
                    .map_err(|e| format!("{} is not JSON: {e}", path.display()))
            }
        }
    }
}

/// How many resources of a run were checked against a CRD, and how many could not be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Resources whose group and kind have a CRD.
    pub checked: usize,
    /// ASO resources whose group and kind have none.
    pub unchecked: usize,
}

impl Coverage {
    /// How one object counts: checked when its kind has a CRD, unchecked when it is an ASO
    /// resource without one, neither otherwise (core objects, Kustomizations, ...).
    pub fn of(store: &CrdStore, manifest: &Manifest) -> Coverage {
        if manifest.kind.is_none() || manifest.api.is_none() {
            return Coverage::default();
        }
        if store.for_manifest(manifest).is_some() {
            Coverage {
                checked: 1,
                unchecked: 0,
            }
        } else if manifest.is_aso() {
            Coverage {
                checked: 0,
                unchecked: 1,
            }
        } else {
            Coverage::default()
        }
    }
}

impl std::ops::AddAssign for Coverage {
    fn add_assign(&mut self, other: Coverage) {
        self.checked += other.checked;
        self.unchecked += other.unchecked;
    }
}

impl std::iter::Sum for Coverage {
    fn sum<I: Iterator<Item = Coverage>>(iter: I) -> Coverage {
        let mut total = Coverage::default();
        for c in iter {
            total += c;
        }
        total
    }
}
