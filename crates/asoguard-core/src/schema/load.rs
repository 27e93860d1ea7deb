//! Reading CRDs: files and directories of YAML (split into documents and parsed in parallel,
//! keeping only each version's place in the text), and directories made by
//! `asoguard crds import` (read from their index, never parsed as YAML).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use super::{Crd, CrdStore, CrdVersion, INDEX_FILE, INDEX_FORMAT, SchemaSource, TextRef};
use crate::files::{absolute, is_yaml_name, text_from_bytes};
use crate::span::{LineIndex, Span};
use crate::yaml::{self, Node, json};

/// A CRD source that cannot be used: which file, where in it, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrdError {
    /// The file (or directory) at fault.
    pub path: PathBuf,
    /// 1-based line, when the problem has a place.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl CrdError {
    pub(crate) fn new(path: &Path, message: impl Into<String>) -> Self {
        CrdError {
            path: path.to_path_buf(),
            line: None,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for CrdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for CrdError {}

pub(super) fn load(paths: &[PathBuf]) -> Result<CrdStore, CrdError> {
    // Sources in the order given, so that "the later wins" holds across YAML and imports.
    let mut units: Vec<Unit> = Vec::new();
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for path in paths {
        if path.is_dir() {
            if path.join(INDEX_FILE).is_file() {
                units.push(Unit::Imported(read_import(path)?));
                continue;
            }
            let before = units.len();
            walk(path, &mut files, &mut units)?;
            if units.len() == before {
                return Err(CrdError::new(
                    path,
                    "holds no .yaml or .yml file (and no asoguard-crds.json)",
                ));
            }
        } else if path.is_file() {
            units.push(Unit::Yaml(files.len()));
            files.push((path.clone(), true));
        } else {
            return Err(CrdError::new(path, "no such file or directory"));
        }
    }
    let mut texts = Vec::with_capacity(files.len());
    for (path, explicit) in files {
        let bytes =
            std::fs::read(&path).map_err(|e| CrdError::new(&path, format!("cannot read: {e}")))?;
        let text = text_from_bytes(bytes).map_err(|e| CrdError::new(&path, e.to_string()))?;
        texts.push((path, text, explicit));
    }
    let (mut per_file, notes) = read_texts(texts)?;
    let mut crds = Vec::new();
    for unit in units {
        match unit {
            Unit::Yaml(i) => crds.append(&mut per_file[i]),
            Unit::Imported(imported) => crds.extend(imported),
        }
    }
    let sources = paths.iter().map(|p| absolute(p)).collect();
    Ok(CrdStore::new(crds, notes, sources))
}

pub(super) fn from_texts(texts: Vec<(PathBuf, String, bool)>) -> Result<CrdStore, CrdError> {
    let (groups, notes) = read_texts(texts)?;
    Ok(CrdStore::new(
        groups.into_iter().flatten().collect(),
        notes,
        Vec::new(),
    ))
}

/// A source in the order given: the n-th YAML file, or an import's CRDs.
enum Unit {
    Yaml(usize),
    Imported(Vec<Crd>),
}

/// Walk `dir` for YAML files in a stable order; a subdirectory holding an import is read as one.
fn walk(
    dir: &Path,
    files: &mut Vec<(PathBuf, bool)>,
    units: &mut Vec<Unit>,
) -> Result<(), CrdError> {
    let mut walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walker.next() {
        let entry = entry.map_err(|e| CrdError::new(dir, format!("cannot walk: {e}")))?;
        let path = entry.path();
        let hidden = entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.');
        if entry.file_type().is_dir() {
            if hidden {
                walker.skip_current_dir();
            } else if entry.depth() > 0 && path.join(INDEX_FILE).is_file() {
                units.push(Unit::Imported(read_import(path)?));
                walker.skip_current_dir();
            }
            continue;
        }
        if !hidden && entry.file_type().is_file() && is_yaml_name(path) {
            units.push(Unit::Yaml(files.len()));
            files.push((path.to_path_buf(), false));
        }
    }
    Ok(())
}

/// One document of one file: its place, and the file it belongs to.
struct Part {
    file: usize,
    span: Span,
}

/// What a document turned out to be.
enum Found {
    Crd(Crd),
    /// Some other object, by kind (or `None` when it has none).
    Other(Option<String>),
}

/// Read CRDs from texts: every document of every file parsed in parallel. Returns the CRDs of
/// each file, in file order, and notes on skipped files.
fn read_texts(
    texts: Vec<(PathBuf, String, bool)>,
) -> Result<(Vec<Vec<Crd>>, Vec<String>), CrdError> {
    let texts: Vec<(PathBuf, Arc<str>, bool)> = texts
        .into_iter()
        .map(|(path, text, explicit)| (path, Arc::from(text), explicit))
        .collect();
    let parts: Vec<Part> = texts
        .iter()
        .enumerate()
        .flat_map(|(file, (_, text, _))| {
            split_documents(text)
                .into_iter()
                .map(move |span| Part { file, span })
        })
        .collect();
    let results: Vec<Result<Vec<Found>, CrdError>> = parts
        .par_iter()
        .map(|part| {
            let (path, text, _) = &texts[part.file];
            read_part(path, text, part.span)
        })
        .collect();
    let mut per_file: Vec<Result<Vec<Found>, CrdError>> =
        texts.iter().map(|_| Ok(Vec::new())).collect();
    for (part, result) in parts.iter().zip(results) {
        match (&mut per_file[part.file], result) {
            (Ok(found), Ok(more)) => found.extend(more),
            (slot @ Ok(_), Err(error)) => *slot = Err(error),
            (Err(_), _) => {}
        }
    }
    let mut checked = Vec::with_capacity(per_file.len());
    for (file, result) in per_file.into_iter().enumerate() {
        // The split may have cut where YAML would not (a directive after `...`): then the
        // whole file decides, and reports its first error if it has one.
        let found = match result {
            Ok(found) => found,
            Err(_) => {
                let (path, text, _) = &texts[file];
                read_part(path, text, Span::new(0, text.len()))?
            }
        };
        checked.push(found);
    }
    let mut groups = Vec::new();
    let mut notes = Vec::new();
    for ((path, _, explicit), found) in texts.iter().zip(checked) {
        let mut crds = Vec::new();
        let mut others = Vec::new();
        for item in found {
            match item {
                Found::Crd(crd) => crds.push(crd),
                Found::Other(kind) => others.push(kind),
            }
        }
        if crds.is_empty() && (*explicit || !others.is_empty()) {
            let what = match others.first() {
                Some(Some(kind)) => format!("holds no CustomResourceDefinition (found a {kind})"),
                _ => "holds no CustomResourceDefinition".to_string(),
            };
            if *explicit {
                return Err(CrdError::new(path, what));
            }
            notes.push(format!("{}: {what}: ignored", path.display()));
        }
        groups.push(crds);
    }
    Ok((groups, notes))
}

/// The byte ranges of a stream's documents, cut at lines that start with `---`. YAML forbids
/// such a line inside a document's content, so each range parses on its own.
fn split_documents(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut start = 0;
    let mut line_start = 0;
    let bytes = text.as_bytes();
    while line_start < bytes.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(bytes.len(), |i| line_start + i + 1);
        let line = &text[line_start..line_end];
        let is_marker = line.starts_with("---")
            && matches!(
                line.as_bytes().get(3),
                None | Some(b' ' | b'\t' | b'\r' | b'\n')
            );
        if is_marker && line_start > start {
            spans.push(Span::new(start, line_start));
            start = line_start;
        }
        line_start = line_end;
    }
    if start < text.len() {
        spans.push(Span::new(start, text.len()));
    }
    spans
}

/// Parse one range of a file and read the CRDs in it.
fn read_part(path: &Path, text: &Arc<str>, span: Span) -> Result<Vec<Found>, CrdError> {
    let slice = &text[span.start..span.end];
    let at = |offset: usize, message: String| CrdError {
        path: path.to_path_buf(),
        line: Some(
            LineIndex::new(text)
                .line_col(text, span.start + offset)
                .line,
        ),
        message,
    };
    let arena = yaml::Arena::new();
    let stream = yaml::parse(&arena, slice);
    if let Some(error) = &stream.error {
        return Err(at(error.offset, format!("invalid YAML: {}", error.message)));
    }
    let mut found = Vec::new();
    for document in &stream.documents {
        let Some(root) = document.root.as_ref().filter(|r| !r.is_null()) else {
            continue;
        };
        let reader = Reader {
            path,
            text,
            base: span.start,
            document: Span::new(
                span.start + document.span.start,
                span.start + document.span.end,
            ),
        };
        found.push(
            reader
                .crd(root)
                .map_err(|(offset, message)| at(offset, message))?,
        );
    }
    Ok(found)
}

/// Reads one CRD document; errors are (offset in the parsed slice, message).
struct Reader<'r> {
    path: &'r Path,
    text: &'r Arc<str>,
    /// Where the parsed slice starts in the file.
    base: usize,
    /// The document, in file offsets.
    document: Span,
}

impl Reader<'_> {
    fn crd(&self, root: &Node) -> Result<Found, (usize, String)> {
        let kind = root.get_str("kind");
        let api_version = root.get_str("apiVersion").unwrap_or("");
        if kind != Some("CustomResourceDefinition")
            || !api_version.starts_with("apiextensions.k8s.io/")
        {
            return Ok(Found::Other(kind.map(str::to_string)));
        }
        let name = root
            .get_path(&["metadata", "name"])
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string();
        let missing = |node: &Node, what: &str| {
            (
                node.span.start,
                format!("the CustomResourceDefinition `{name}` has no {what}"),
            )
        };
        let spec = root.get("spec").ok_or_else(|| missing(root, "`spec`"))?;
        let group = spec
            .get_str("group")
            .filter(|g| !g.is_empty())
            .ok_or_else(|| missing(spec, "`spec.group`"))?;
        let kind = spec
            .get("names")
            .and_then(|n| n.get_str("kind"))
            .filter(|k| !k.is_empty())
            .ok_or_else(|| missing(spec, "`spec.names.kind`"))?;
        // apiextensions.k8s.io/v1beta1 may give one schema for every version.
        let shared_schema = spec.get_path(&["validation", "openAPIV3Schema"]);
        let mut versions = Vec::new();
        match spec.get("versions").and_then(Node::items) {
            Some(items) => {
                for item in items {
                    let version = item
                        .get_str("name")
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| missing(item, "name for one of its versions"))?;
                    let served = self.flag(item, "served")?.unwrap_or(true);
                    let storage = self.flag(item, "storage")?.unwrap_or(false);
                    let schema = item
                        .get_path(&["schema", "openAPIV3Schema"])
                        .or(shared_schema);
                    versions.push(self.version(version, served, storage, schema)?);
                }
            }
            None => {
                let version = spec
                    .get_str("version")
                    .ok_or_else(|| missing(spec, "`spec.versions`"))?;
                versions.push(self.version(version, true, true, shared_schema)?);
            }
        }
        Ok(Found::Crd(Crd {
            name,
            group: group.to_string(),
            kind: kind.to_string(),
            origin: self.path.to_path_buf(),
            versions,
            document: Some(TextRef {
                text: Arc::clone(self.text),
                span: self.document,
            }),
        }))
    }

    fn flag(&self, item: &Node, key: &str) -> Result<Option<bool>, (usize, String)> {
        let Some(node) = item.get(key) else {
            return Ok(None);
        };
        match node.as_str().map(json::plain_scalar) {
            Some(Value::Bool(b)) if node.style() == Some(yaml::Style::Plain) => Ok(Some(b)),
            _ => Err((node.span.start, format!("`{key}` must be true or false"))),
        }
    }

    fn version(
        &self,
        name: &str,
        served: bool,
        storage: bool,
        schema: Option<&Node>,
    ) -> Result<CrdVersion, (usize, String)> {
        let source = match schema {
            None => SchemaSource::Missing,
            Some(node) => self.schema_source(node)?,
        };
        Ok(CrdVersion {
            name: name.to_string(),
            served,
            storage,
            source,
            compiled: OnceLock::new(),
        })
    }

    /// Where a schema's text lies, so it can be parsed alone later: a flow mapping as written,
    /// a block mapping from the start of its first line (its indentation included, so every
    /// line keeps its place relative to the first). When the first line holds anything else,
    /// the schema is read now instead.
    fn schema_source(&self, node: &Node) -> Result<SchemaSource, (usize, String)> {
        if node.entries().is_none() {
            return Err((
                node.span.start,
                "`openAPIV3Schema` must be a mapping".into(),
            ));
        }
        let start = self.base + node.span.start;
        let end = self.base + node.span.end;
        if node.is_flow() {
            return Ok(SchemaSource::Yaml(TextRef {
                text: Arc::clone(self.text),
                span: Span::new(start, end),
            }));
        }
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        if self.text[line_start..start].bytes().all(|b| b == b' ') {
            return Ok(SchemaSource::Yaml(TextRef {
                text: Arc::clone(self.text),
                span: Span::new(line_start, end),
            }));
        }
        json::to_json(node)
            .map(|raw| SchemaSource::Raw(Arc::new(raw)))
            .map_err(|e| (e.span.start, e.message))
    }
}

/// The index of an import directory.
#[derive(Deserialize, serde::Serialize)]
pub(super) struct Index {
    pub(super) format: String,
    pub(super) generator: String,
    pub(super) crds: Vec<IndexCrd>,
}

/// One CRD of an import.
#[derive(Deserialize, serde::Serialize)]
pub(super) struct IndexCrd {
    pub(super) name: String,
    pub(super) group: String,
    pub(super) kind: String,
    /// The CRD's YAML, relative to the import directory.
    pub(super) file: String,
    pub(super) versions: Vec<IndexVersion>,
}

/// One version of a CRD of an import.
#[derive(Deserialize, serde::Serialize)]
pub(super) struct IndexVersion {
    pub(super) name: String,
    pub(super) served: bool,
    pub(super) storage: bool,
    /// The converted schema, relative to the import directory (served versions only).
    pub(super) schema: Option<String>,
}

/// Read an import directory through its index: nothing is parsed but the index itself.
fn read_import(dir: &Path) -> Result<Vec<Crd>, CrdError> {
    let index_path = dir.join(INDEX_FILE);
    let text = std::fs::read_to_string(&index_path)
        .map_err(|e| CrdError::new(&index_path, format!("cannot read: {e}")))?;
    let index: Index = serde_json::from_str(&text).map_err(|e| CrdError {
        path: index_path.clone(),
        line: Some(e.line()),
        message: format!("not an asoguard CRD index: {e}"),
    })?;
    if index.format != INDEX_FORMAT {
        return Err(CrdError::new(
            &index_path,
            format!(
                "was written by {} in format `{}`; this asoguard reads `{INDEX_FORMAT}`: run `asoguard crds import` again",
                index.generator, index.format
            ),
        ));
    }
    let inside = |relative: &str| -> Result<PathBuf, CrdError> {
        let path = Path::new(relative);
        let safe = !relative.is_empty()
            && path
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !safe {
            return Err(CrdError::new(
                &index_path,
                format!("`{relative}` is not a path inside the import directory"),
            ));
        }
        let full = dir.join(path);
        if !full.is_file() {
            return Err(CrdError::new(
                &index_path,
                format!("lists `{relative}`, which is missing: run `asoguard crds import` again"),
            ));
        }
        Ok(full)
    };
    let mut crds = Vec::new();
    for entry in index.crds {
        let origin = inside(&entry.file)?;
        let mut versions = Vec::new();
        for v in entry.versions {
            let source = match &v.schema {
                Some(relative) => SchemaSource::Converted(inside(relative)?),
                None => SchemaSource::Missing,
            };
            versions.push(CrdVersion {
                name: v.name,
                served: v.served,
                storage: v.storage,
                source,
                compiled: OnceLock::new(),
            });
        }
        crds.push(Crd {
            name: entry.name,
            group: entry.group,
            kind: entry.kind,
            origin,
            versions,
            document: None,
        });
    }
    Ok(crds)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::schema::test_crds::WIDGET;

    #[test]
    fn splits_documents_at_marker_lines_only() {
        let text = "a: 1\n---\nb: |\n  --- not a marker\n--- # c\nc: 3\n";
        let spans = split_documents(text);
        let parts: Vec<&str> = spans.iter().map(|s| &text[s.start..s.end]).collect();
        assert_eq!(
            parts,
            [
                "a: 1\n",
                "---\nb: |\n  --- not a marker\n",
                "--- # c\nc: 3\n"
            ]
        );
        assert!(split_documents("").is_empty());
    }

    #[test]
    fn reads_versions_and_compiles_lazily() {
        let store =
            CrdStore::from_yaml(Path::new("w.yaml"), &format!("---\n{WIDGET}---\n")).unwrap();
        let crd = store.get("example.com", "Widget").unwrap();
        assert_eq!(crd.served_versions(), ["v1"]);
        assert!(crd.schema("v1beta1").is_none(), "not served");
        let schema = crd.schema("v1").unwrap().unwrap();
        assert!(
            schema
                .validator()
                .is_valid(&serde_json::json!({"spec": {"size": 3}}))
        );
        assert!(
            !schema
                .validator()
                .is_valid(&serde_json::json!({"spec": {"sise": 3}}))
        );
        // Compiled once, then shared.
        assert!(Arc::ptr_eq(&schema, &crd.schema("v1").unwrap().unwrap()));
    }

    #[test]
    fn flow_and_v1beta1_schemas() {
        let text = "apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata: {name: gadgets.example.com}\nspec:\n  group: example.com\n  version: v1\n  names: {kind: Gadget}\n  validation: {openAPIV3Schema: {type: object, properties: {spec: {type: string}}}}\n";
        let store = CrdStore::from_yaml(Path::new("g.yaml"), text).unwrap();
        let schema = store
            .get("example.com", "Gadget")
            .unwrap()
            .schema("v1")
            .unwrap()
            .unwrap();
        assert!(
            schema
                .validator()
                .is_valid(&serde_json::json!({"spec": "x"}))
        );
        assert!(!schema.validator().is_valid(&serde_json::json!({"spec": 1})));
    }

    #[test]
    fn bad_input_is_an_error_naming_file_and_line() {
        let e = CrdStore::from_yaml(Path::new("bad.yaml"), "a: 1\n---\nb: [\n").unwrap_err();
        assert_eq!(e.path, Path::new("bad.yaml"));
        assert_eq!(e.line, Some(3), "{e}");
        let e = CrdStore::from_yaml(Path::new("cm.yaml"), "apiVersion: v1\nkind: ConfigMap\n")
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("no CustomResourceDefinition (found a ConfigMap)"),
            "{e}"
        );
        let e = CrdStore::from_yaml(
            Path::new("x.yaml"),
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: x}\nspec:\n  names: {kind: X}\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.contains("spec.group"), "{e}");
        let e = CrdStore::from_yaml(
            Path::new("y.yaml"),
            &WIDGET.replace("served: true", "served: yes"),
        )
        .unwrap_err();
        assert!(e.message.contains("`served` must be true or false"), "{e}");
        assert!(CrdStore::from_yaml(Path::new("e.yaml"), "").is_err());
    }

    proptest::proptest! {
        /// Whatever the text, loading reports an error or a store; it never panics.
        #[test]
        fn any_text_loads_or_fails_cleanly(text in "\\PC{0,300}") {
            let _ = CrdStore::from_yaml(Path::new("any.yaml"), &text);
        }

        /// A CRD with bytes inserted anywhere loads or fails, and every served version then
        /// compiles or reports why.
        #[test]
        fn damaged_crds_never_panic(at in 0usize..WIDGET.len(), insert in "[ :\\-\\[\\]{}#'\"a-z0-9\n]{0,12}") {
            let mut text = WIDGET.to_string();
            text.insert_str(crate::span::floor_char_boundary(&text, at), &insert);
            if let Ok(store) = CrdStore::from_yaml(Path::new("damaged.yaml"), &text) {
                for crd in store.crds() {
                    for version in crd.served_versions() {
                        let _ = crd.schema(version);
                    }
                }
            }
        }
    }

    #[test]
    fn later_sources_replace_earlier_ones() {
        let second = WIDGET.replace("size: {type: integer}", "size: {type: string}");
        let store = from_texts(vec![
            ("a.yaml".into(), WIDGET.to_string(), true),
            ("b.yaml".into(), second, true),
        ])
        .unwrap();
        let crd = store.get("example.com", "Widget").unwrap();
        assert_eq!(crd.origin, Path::new("b.yaml"));
        assert_eq!(store.len(), 1);
        assert_eq!(store.notes().len(), 1);
    }
}
