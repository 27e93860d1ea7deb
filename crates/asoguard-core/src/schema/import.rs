//! `asoguard crds import`: split CRDs (ASO's release bundle, tens of MB in one file) into one
//! YAML file per kind and one converted JSON Schema per served version, with an index, so a
//! check reads the index and only the schemas its manifests use, and never converts again.
//!
//! Layout of the output directory:
//! ```text
//! asoguard-crds.json                                   the index (written last)
//! <group>/<Kind>.yaml                                  the CRD as it was in the source
//! <group>/<Kind>.<version>.schema.json                 each served version, converted
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::load::{Index, IndexCrd, IndexVersion};
use super::{Crd, CrdError, CrdStore, INDEX_FILE, INDEX_FORMAT, SchemaSource, compile};

/// What an import wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportSummary {
    /// How many CRDs (kinds).
    pub crds: usize,
    /// How many converted schemas (served versions).
    pub schemas: usize,
    /// The output directory.
    pub out: PathBuf,
}

/// Load CRDs from `sources` (YAML files or directories) and write them to `out` as an import.
/// `out` must be new, empty, or an earlier import (whose files this one replaces). Every
/// served version is converted and compiled once here, so a CRD that cannot be used fails the
/// import rather than a later check.
pub fn import(sources: &[PathBuf], out: &Path) -> Result<ImportSummary, CrdError> {
    let store = CrdStore::load(sources)?;
    if store.is_empty() {
        return Err(CrdError::new(
            sources.first().map_or(out, PathBuf::as_path),
            "holds no CustomResourceDefinition",
        ));
    }
    let previous = prepare(out)?;
    let written: Vec<Result<IndexCrd, CrdError>> = store
        .crds()
        .par_iter()
        .map(|crd| write_crd(crd, out))
        .collect();
    let crds: Vec<IndexCrd> = written.into_iter().collect::<Result<_, _>>()?;
    let schemas = crds
        .iter()
        .flat_map(|c| &c.versions)
        .filter(|v| v.schema.is_some())
        .count();
    let kept: BTreeSet<&str> = crds
        .iter()
        .flat_map(|c| {
            std::iter::once(c.file.as_str())
                .chain(c.versions.iter().filter_map(|v| v.schema.as_deref()))
        })
        .collect();
    for stale in previous.iter().filter(|f| !kept.contains(f.as_str())) {
        // Files of kinds the new source no longer has; the index no longer lists them.
        let _ = std::fs::remove_file(out.join(stale));
    }
    let index = Index {
        format: INDEX_FORMAT.to_string(),
        generator: format!("asoguard {}", env!("CARGO_PKG_VERSION")),
        crds,
    };
    let text =
        serde_json::to_string_pretty(&index).map_err(|e| CrdError::new(out, e.to_string()))?;
    write(&out.join(INDEX_FILE), &(text + "\n"))?;
    Ok(ImportSummary {
        crds: index.crds.len(),
        schemas,
        out: out.to_path_buf(),
    })
}

/// Make `out` ready; return the files an earlier import there listed.
fn prepare(out: &Path) -> Result<Vec<String>, CrdError> {
    if out.exists() && !out.is_dir() {
        return Err(CrdError::new(out, "exists and is not a directory"));
    }
    let index = out.join(INDEX_FILE);
    if index.is_file() {
        let previous = std::fs::read_to_string(&index)
            .ok()
            .and_then(|t| serde_json::from_str::<Index>(&t).ok())
            .map(|i| {
                i.crds
                    .into_iter()
                    .flat_map(|c| {
                        std::iter::once(c.file)
                            .chain(c.versions.into_iter().filter_map(|v| v.schema))
                    })
                    .collect()
            })
            .unwrap_or_default();
        return Ok(previous);
    }
    let empty = std::fs::read_dir(out).map_or(true, |mut entries| entries.next().is_none());
    if !empty {
        return Err(CrdError::new(
            out,
            "is not empty and holds no asoguard-crds.json: import into a new or empty directory",
        ));
    }
    std::fs::create_dir_all(out)
        .map_err(|e| CrdError::new(out, format!("cannot create the directory: {e}")))?;
    Ok(Vec::new())
}

/// Whether a name can be a path component as it is.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn write_crd(crd: &Crd, out: &Path) -> Result<IndexCrd, CrdError> {
    let unsafe_name = [crd.group.as_str(), crd.kind.as_str()]
        .into_iter()
        .chain(crd.versions.iter().map(|v| v.name.as_str()))
        .find(|n| !safe_name(n));
    if let Some(name) = unsafe_name {
        return Err(CrdError::new(
            &crd.origin,
            format!(
                "the CRD {} has a name that cannot be a file name: `{name}`",
                crd.name
            ),
        ));
    }
    let Some(document) = &crd.document else {
        return Err(CrdError::new(
            &crd.origin,
            "is already an import: give the CRD YAML files or bundle to import",
        ));
    };
    let dir = out.join(&crd.group);
    std::fs::create_dir_all(&dir)
        .map_err(|e| CrdError::new(&dir, format!("cannot create the directory: {e}")))?;
    let file = format!("{}/{}.yaml", crd.group, crd.kind);
    let mut text = document.as_str().to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    write(&out.join(&file), &text)?;
    let mut versions = Vec::new();
    for v in &crd.versions {
        let schema = if v.served && !matches!(v.source, SchemaSource::Missing) {
            let problem = |e: String| {
                CrdError::new(
                    &crd.origin,
                    format!("the schema of {} {} cannot be used: {e}", crd.kind, v.name),
                )
            };
            let converted = v.converted().map_err(problem)?;
            compile(&converted).map_err(problem)?;
            let relative = format!("{}/{}.{}.schema.json", crd.group, crd.kind, v.name);
            let json = serde_json::to_string(&converted)
                .map_err(|e| CrdError::new(&crd.origin, e.to_string()))?;
            write(&out.join(&relative), &(json + "\n"))?;
            Some(relative)
        } else {
            None
        };
        versions.push(IndexVersion {
            name: v.name.clone(),
            served: v.served,
            storage: v.storage,
            schema,
        });
    }
    Ok(IndexCrd {
        name: crd.name.clone(),
        group: crd.group.clone(),
        kind: crd.kind.clone(),
        file,
        versions,
    })
}

fn write(path: &Path, text: &str) -> Result<(), CrdError> {
    std::fs::write(path, text).map_err(|e| CrdError::new(path, format!("cannot write: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::schema::test_crds::WIDGET;

    const GADGET: &str = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  names: {kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, properties: {spec: {type: string}}}
";

    /// A bundle of two CRDs, as ASO releases them in one file.
    fn bundle() -> String {
        format!("{WIDGET}---\n{GADGET}")
    }

    #[test]
    fn round_trip_through_an_import() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.yaml");
        std::fs::write(&path, bundle()).unwrap();
        let out = dir.path().join("crds");
        let summary = import(std::slice::from_ref(&path), &out).unwrap();
        assert_eq!((summary.crds, summary.schemas), (2, 2));
        assert!(out.join("example.com/Widget.yaml").is_file());
        assert!(out.join("example.com/Widget.v1.schema.json").is_file());
        assert!(!out.join("example.com/Widget.v1beta1.schema.json").exists());

        let store = CrdStore::load(std::slice::from_ref(&out)).unwrap();
        let widget = store.get("example.com", "Widget").unwrap();
        assert!(matches!(
            widget.versions[1].source,
            SchemaSource::Converted(_)
        ));
        assert_eq!(widget.served_versions(), ["v1"]);
        assert_eq!(widget.versions.len(), 2);
        let schema = widget.schema("v1").unwrap().unwrap();
        assert!(
            schema
                .validator()
                .is_valid(&serde_json::json!({"spec": {"size": 1}}))
        );
        assert!(
            !schema
                .validator()
                .is_valid(&serde_json::json!({"spec": {"sise": 1}}))
        );

        // The per-kind YAML files are CRDs too: the directory still loads without its index.
        std::fs::remove_file(out.join(INDEX_FILE)).unwrap();
        let store = CrdStore::load(std::slice::from_ref(&out)).unwrap();
        assert_eq!(store.len(), 2);
        assert!(store.get("example.com", "Gadget").is_some());
    }

    #[test]
    fn refuses_a_foreign_directory_and_replaces_an_import() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.yaml");
        std::fs::write(&path, bundle()).unwrap();
        let foreign = dir.path().join("foreign");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("keep.txt"), "x").unwrap();
        let e = import(std::slice::from_ref(&path), &foreign).unwrap_err();
        assert!(e.message.contains("not empty"), "{e}");

        let out = dir.path().join("out");
        import(std::slice::from_ref(&path), &out).unwrap();
        std::fs::write(&path, WIDGET).unwrap();
        let summary = import(std::slice::from_ref(&path), &out).unwrap();
        assert_eq!(summary.crds, 1);
        assert!(
            !out.join("example.com/Gadget.yaml").exists(),
            "stale files go"
        );
    }

    #[test]
    fn a_stale_or_foreign_index_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(INDEX_FILE),
            r#"{"format": "asoguard-crds/0", "generator": "asoguard 0.0.1", "crds": []}"#,
        )
        .unwrap();
        let e = CrdStore::load(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(
            e.message.contains("run `asoguard crds import` again"),
            "{e}"
        );
        std::fs::write(
            dir.path().join(INDEX_FILE),
            format!(
                r#"{{"format": "{INDEX_FORMAT}", "generator": "x", "crds": [{{"name": "a", "group": "g", "kind": "K", "file": "../etc/passwd", "versions": []}}]}}"#
            ),
        )
        .unwrap();
        let e = CrdStore::load(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(e.message.contains("not a path inside"), "{e}");
    }
}
