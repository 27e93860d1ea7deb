//! Which fields of an object's `spec` differ between two revisions, as written in each file,
//! and on which line a field is written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::files::Tree;
use crate::yaml;

/// The most fields an update lists; more are counted.
const MOST_FIELDS: usize = 8;
/// How deep a changed field is named (`spec.sku.name`); below, its parent is.
const DEPTH: usize = 3;

/// The `spec` of every document of a file, read once per file and revision.
#[derive(Default)]
pub(super) struct Specs {
    files: HashMap<PathBuf, Vec<Option<Value>>>,
}

impl Specs {
    /// The `spec` of document `doc` of `path` (absolute) in `tree`.
    fn get(&mut self, tree: &dyn Tree, path: &Path, doc: usize) -> Option<&Value> {
        let specs = self.files.entry(path.to_path_buf()).or_insert_with(|| {
            let Some(text) = tree.read(path) else {
                return Vec::new();
            };
            let arena = yaml::Arena::new();
            let stream = yaml::parse(&arena, &text);
            stream
                .documents
                .iter()
                .map(|d| {
                    d.root
                        .as_ref()
                        .and_then(|r| r.get("spec"))
                        .and_then(|s| yaml::json::to_json(s).ok())
                })
                .collect()
        });
        specs.get(doc)?.as_ref()
    }
}

/// The fields that differ between the base's and the head's spec of one object, named
/// `spec.a.b`; at most [`MOST_FIELDS`], then how many more.
pub(super) fn changed_fields(
    (base_specs, base_tree, base_path, base_doc): (&mut Specs, &dyn Tree, &Path, usize),
    (head_specs, head_tree, head_path, head_doc): (&mut Specs, &dyn Tree, &Path, usize),
) -> Vec<String> {
    let base = base_specs.get(base_tree, base_path, base_doc).cloned();
    let head = head_specs.get(head_tree, head_path, head_doc);
    let mut fields = Vec::new();
    diff("spec", base.as_ref(), head, 1, &mut fields);
    if fields.len() > MOST_FIELDS {
        let more = fields.len() - MOST_FIELDS;
        fields.truncate(MOST_FIELDS);
        fields.push(format!("{more} more"));
    }
    fields
}

fn diff(
    path: &str,
    base: Option<&Value>,
    head: Option<&Value>,
    depth: usize,
    out: &mut Vec<String>,
) {
    if base == head {
        return;
    }
    match (base, head) {
        (Some(Value::Object(b)), Some(Value::Object(h))) if depth < DEPTH => {
            let mut keys: Vec<&String> = b.keys().chain(h.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                diff(
                    &format!("{path}.{key}"),
                    b.get(key),
                    h.get(key),
                    depth + 1,
                    out,
                );
            }
        }
        _ => out.push(path.to_string()),
    }
}

/// The 1-based line where `path` (keys from the document's root, such as `spec.azureName`)
/// is written in document `doc` of `file` (absolute) in `tree`; `None` when it is not.
pub(super) fn line_of(tree: &dyn Tree, file: &Path, doc: usize, path: &[&str]) -> Option<usize> {
    let text = tree.read(file)?;
    let arena = yaml::Arena::new();
    let stream = yaml::parse(&arena, &text);
    let root = stream.documents.get(doc)?.root.as_ref()?;
    let (last, parents) = path.split_last()?;
    let entry = root.get_path(parents)?.entry(last)?;
    Some(text[..entry.key.span.start].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_changed_fields_to_a_depth() {
        let base = json!({"location": "westeurope", "sku": {"name": "B1", "tier": "Basic"}, "tags": {"a": {"b": 1}}});
        let head = json!({"location": "northeurope", "sku": {"name": "B2", "tier": "Basic"}, "tags": {"a": {"b": 2}}, "new": 1});
        let mut out = Vec::new();
        diff("spec", Some(&base), Some(&head), 1, &mut out);
        assert_eq!(
            out,
            ["spec.location", "spec.new", "spec.sku.name", "spec.tags.a"]
        );
        let mut none = Vec::new();
        diff("spec", Some(&base), Some(&base), 1, &mut none);
        assert!(none.is_empty());
    }
}
