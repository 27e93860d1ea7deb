//! Kustomize files as the transforms see them: which files are kustomizations, and the local
//! paths they reference (resources, components, patches, generator inputs).

use std::path::{Component, Path, PathBuf};

use crate::config::normalize;
use crate::yaml::Node;

/// The file names Kustomize reads as a kustomization.
pub(crate) const FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Whether `path` is a kustomization file (by name, as Kustomize finds them).
pub(crate) fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| FILE_NAMES.contains(&n))
}

/// What a referenced path is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefKind {
    /// `resources`, `bases`, `components`: rendered objects.
    Resource,
    /// A patch file.
    Patch,
    /// A generator input or a CRD file: copied as is.
    Other,
}

/// One local path a kustomization references.
#[derive(Clone, Debug)]
pub(crate) struct Ref<'d, 'a> {
    /// The scalar that holds it.
    pub node: &'d Node<'a>,
    /// Text before the path in the scalar (`key=` of a generator's `files` entry).
    pub prefix: String,
    /// The path as written.
    pub path: String,
    /// What it is for.
    pub kind: RefKind,
}

impl Ref<'_, '_> {
    /// The scalar's full value with `path` in place of the written one.
    pub fn with_path(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }
}

/// Whether a reference points outside the repository (a URL or a remote Git base).
pub(crate) fn is_remote(path: &str) -> bool {
    path.contains("://")
        || path.starts_with("git@")
        || path.starts_with("github.com/")
        || path.starts_with("gitlab.com/")
        || path.starts_with("bitbucket.org/")
}

/// Every local path reference of a kustomization's root, in document order of the keys
/// Kustomize reads: `resources`, `bases`, `components`, `crds`, `patches[].path`,
/// `patchesStrategicMerge`, `patchesJson6902[].path`, and the `files`, `envs` and `env` of
/// `configMapGenerator` and `secretGenerator`. Remote references and inline patches are left
/// out.
pub(crate) fn refs<'d, 'a>(root: &'d Node<'a>) -> Vec<Ref<'d, 'a>> {
    let mut out = Vec::new();
    let mut push = |node: &'d Node<'a>, kind: RefKind, split_key: bool| {
        let Some(value) = node.as_str() else {
            return;
        };
        if value.is_empty() || value.contains('\n') || is_remote(value) {
            return;
        }
        let (prefix, path) = match value.split_once('=') {
            Some((key, path)) if split_key => (format!("{key}="), path.to_string()),
            _ => (String::new(), value.to_string()),
        };
        out.push(Ref {
            node,
            prefix,
            path,
            kind,
        });
    };
    for entry in root.entries().unwrap_or_default() {
        let Some(key) = entry.key.as_str() else {
            continue;
        };
        let items = entry.value.items().unwrap_or_default();
        match key {
            "resources" | "bases" | "components" => {
                items.iter().for_each(|i| push(i, RefKind::Resource, false))
            }
            "crds" => items.iter().for_each(|i| push(i, RefKind::Other, false)),
            "patchesStrategicMerge" => items.iter().for_each(|i| push(i, RefKind::Patch, false)),
            "patches" | "patchesJson6902" => {
                for item in items {
                    if let Some(path) = item.get("path") {
                        push(path, RefKind::Patch, false);
                    }
                }
            }
            "configMapGenerator" | "secretGenerator" => {
                for item in items {
                    for list in ["files", "envs"] {
                        for file in item.get(list).and_then(|f| f.items()).unwrap_or_default() {
                            push(file, RefKind::Other, list == "files");
                        }
                    }
                    if let Some(env) = item.get("env") {
                        push(env, RefKind::Other, false);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Inline patches of a kustomization (`patches[].patch`, `patchesJson6902[].patch`, and
/// `patchesStrategicMerge` entries that are YAML rather than paths).
pub(crate) fn inline_patches<'d>(root: &'d Node) -> Vec<&'d str> {
    let mut out = Vec::new();
    for key in ["patches", "patchesJson6902"] {
        for item in root.get(key).and_then(|p| p.items()).unwrap_or_default() {
            if let Some(patch) = item.get("patch").and_then(|p| p.as_str()) {
                out.push(patch);
            }
        }
    }
    for item in root
        .get("patchesStrategicMerge")
        .and_then(|p| p.items())
        .unwrap_or_default()
    {
        if let Some(patch) = item.as_str().filter(|p| p.contains('\n')) {
            out.push(patch);
        }
    }
    out
}

/// The path from directory `from` to `to`, both absolute and normalised, written with `/`.
pub(crate) fn relative_path(from: &Path, to: &Path) -> String {
    let from: Vec<Component> = from.components().collect();
    let to_parts: Vec<Component> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to_parts[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Resolve a reference written in the kustomization in directory `dir`.
pub(crate) fn resolve(dir: &Path, path: &str) -> PathBuf {
    normalize(&dir.join(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    #[test]
    fn lists_local_references() {
        let text = "resources:\n- rg.yaml\n- ../../base\n- https://github.com/x/y//z\npatches:\n- path: p.yaml\n- patch: |-\n    a: b\nconfigMapGenerator:\n- name: c\n  files: [k=app.properties, other.txt]\n  envs: [.env]\n";
        let arena = crate::yaml::Arena::new();
        let stream = parse(&arena, text);
        let root = stream.documents[0].root.as_ref().unwrap();
        let found: Vec<(String, String, RefKind)> = refs(root)
            .into_iter()
            .map(|r| (r.prefix, r.path, r.kind))
            .collect();
        assert_eq!(
            found,
            vec![
                ("".into(), "rg.yaml".into(), RefKind::Resource),
                ("".into(), "../../base".into(), RefKind::Resource),
                ("".into(), "p.yaml".into(), RefKind::Patch),
                ("k=".into(), "app.properties".into(), RefKind::Other),
                ("".into(), "other.txt".into(), RefKind::Other),
                ("".into(), ".env".into(), RefKind::Other),
            ]
        );
        assert_eq!(inline_patches(root), vec!["a: b"]);
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path(Path::new("/r/clusters/b/x"), Path::new("/r/base")),
            "../../../base"
        );
        assert_eq!(relative_path(Path::new("/r/a"), Path::new("/r/a")), ".");
        assert_eq!(relative_path(Path::new("/r"), Path::new("/r/a/b")), "a/b");
        assert_eq!(
            resolve(Path::new("/r/clusters/a"), "../../base"),
            PathBuf::from("/r/base")
        );
    }
}
