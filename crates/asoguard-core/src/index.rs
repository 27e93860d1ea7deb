//! Facts that cross files, kept as small summaries: Namespace policies, which files hold ASO
//! resources, and how many ASO resources each namespace leaves to its Namespace's policy.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::manifest::{DeclaredPolicy, Manifest, RECONCILE_POLICY};
use crate::span::Span;
use crate::yaml::Stream;

/// What a Namespace object says about reconcile policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceFact {
    /// Its reconcile-policy annotation.
    pub declared: DeclaredPolicy,
    /// The file that holds it (as reported).
    pub path: PathBuf,
    /// The annotation entry, or the Namespace's name when it has none.
    pub span: Span,
}

/// The summary of one file that other files' checks may need.
#[derive(Clone, Debug, Default)]
pub struct FileFacts {
    /// Namespace objects: name and fact.
    pub namespaces: Vec<(String, NamespaceFact)>,
    /// Namespaces of ASO resources that declare no policy of their own (one per resource).
    pub unset_aso_namespaces: Vec<String>,
    /// Whether the file holds at least one ASO resource.
    pub has_aso: bool,
}

impl FileFacts {
    /// Summarise a parsed file.
    pub fn of(stream: &Stream, path: &Path) -> Self {
        let mut facts = FileFacts::default();
        for doc in &stream.documents {
            let Some(manifest) = doc.root.as_ref().and_then(Manifest::from_root) else {
                continue;
            };
            if manifest.is("", "Namespace") {
                if let Some(name) = manifest.name_str() {
                    let entry = manifest.annotation(RECONCILE_POLICY);
                    let span = entry
                        .map(|e| e.key.span.cover(e.value.span))
                        .or(manifest.name.map(|n| n.span))
                        .unwrap_or_default();
                    facts.namespaces.push((
                        name.to_string(),
                        NamespaceFact {
                            declared: manifest.declared_policy(),
                            path: path.to_path_buf(),
                            span,
                        },
                    ));
                }
            } else if manifest.is_aso() {
                facts.has_aso = true;
                if manifest.declared_policy() == DeclaredPolicy::Unset {
                    if let Some(ns) = manifest.namespace {
                        facts.unset_aso_namespaces.push(ns.to_string());
                    }
                }
            }
        }
        facts
    }
}

type NamespaceKey = (Option<String>, String);

/// Cross-file facts of a run. Namespaces are looked up within the cluster of the file asking
/// (a Namespace of another cluster does not apply).
///
/// Every query reads the facts through [`Index::facts`], which records that the index was
/// consulted: the engine checks most index sources once, against an empty index, and keeps
/// that result only when no query was made (see `engine::run`). A new query must read through
/// `facts()` as well, or its file's result could be kept from the empty index.
#[derive(Debug, Default)]
pub struct Index {
    data: Facts,
    consulted: std::sync::atomic::AtomicBool,
}

/// The facts behind an [`Index`].
#[derive(Clone, Debug, Default)]
struct Facts {
    namespaces: HashMap<NamespaceKey, NamespaceFact>,
    unset_aso: HashMap<NamespaceKey, usize>,
    /// Sorted, so the files under a directory are found by one range lookup, not a scan per
    /// ArgoCD Application (which was quadratic on large trees).
    aso_files: BTreeSet<PathBuf>,
}

impl Clone for Index {
    fn clone(&self) -> Self {
        Index {
            data: self.data.clone(),
            consulted: std::sync::atomic::AtomicBool::new(self.was_consulted()),
        }
    }
}

impl Index {
    /// The facts, for a query: records that the index was consulted.
    fn facts(&self) -> &Facts {
        self.consulted
            .store(true, std::sync::atomic::Ordering::Relaxed);
        &self.data
    }

    /// Whether any query has read this index.
    pub fn was_consulted(&self) -> bool {
        self.consulted.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Add one file's facts; `fs_path` is its absolute path, `cluster` its cluster.
    pub fn add(&mut self, fs_path: &Path, cluster: Option<&str>, facts: FileFacts) {
        let cluster = cluster.map(str::to_string);
        let data = &mut self.data;
        for (name, fact) in facts.namespaces {
            // The first Namespace of a name wins, as files are added in path order.
            data.namespaces
                .entry((cluster.clone(), name))
                .or_insert(fact);
        }
        for ns in facts.unset_aso_namespaces {
            *data.unset_aso.entry((cluster.clone(), ns)).or_default() += 1;
        }
        if facts.has_aso {
            data.aso_files.insert(fs_path.to_path_buf());
        }
    }

    /// The Namespace object `name` in `cluster`, if the linted tree holds one.
    pub fn namespace(&self, cluster: Option<&str>, name: &str) -> Option<&NamespaceFact> {
        self.facts()
            .namespaces
            .get(&(cluster.map(str::to_string), name.to_string()))
    }

    /// How many ASO resources in namespace `name` of `cluster` leave their policy to it.
    pub fn unset_aso_in(&self, cluster: Option<&str>, name: &str) -> usize {
        self.facts()
            .unset_aso
            .get(&(cluster.map(str::to_string), name.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Whether directory `dir` (absolute) holds an ASO resource: among the linted files, else
    /// on disk (YAML files under it, symlinks not followed, within the settings' size limit).
    pub fn dir_holds_aso(&self, dir: &Path, settings: &Settings) -> bool {
        // Paths order by components, so the files under `dir` follow it directly.
        if self
            .facts()
            .aso_files
            .range::<Path, _>((std::ops::Bound::Included(dir), std::ops::Bound::Unbounded))
            .next()
            .is_some_and(|f| f.starts_with(dir))
        {
            return true;
        }
        crate::discover::yaml_files_under(dir, settings)
            .into_iter()
            .any(|path| {
                let Ok(text) = crate::discover::read_text(&path, settings.max_file_size) else {
                    return false;
                };
                let relevance = crate::relevance::Relevance::of(&path, &text);
                relevance.class != crate::relevance::FileClass::Irrelevant
                    && text.contains(".azure.com/")
                    && FileFacts::of(&crate::yaml::parse_with(&text, &relevance), &path).has_aso
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_aso_files_under_a_directory_by_components() {
        let mut index = Index::default();
        let aso = FileFacts {
            has_aso: true,
            ..FileFacts::default()
        };
        for path in ["/r/a-b/x.yaml", "/r/a/deep/y.yaml", "/r/c.yaml"] {
            index.add(Path::new(path), None, aso.clone());
        }
        let settings = Settings::default();
        let holds = |dir: &str| index.dir_holds_aso(Path::new(dir), &settings);
        assert!(holds("/r/a"));
        assert!(holds("/r/a/deep"));
        assert!(holds("/r/a-b"));
        assert!(holds("/r"));
        // Not linted and not on disk.
        assert!(!holds("/r/a/dee"));
        assert!(!holds("/r/b"));
    }
}
