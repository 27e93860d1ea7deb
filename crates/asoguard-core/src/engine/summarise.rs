//! Files only indexed, never checked: the rest of the repository when only some files are
//! named, and every file [`super::index_paths`] renders for `inventory` and the transforms.
//! Each is summarised once, with the facts its first pass would give ([`facts_for_index`] is
//! the one place both decide them), and nothing else is kept of it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::RunOptions;
use super::first_pass::parse_relevance;
use crate::config::Settings;
use crate::discover::{self, Target};
use crate::index::{IndexedFile, facts::FileFacts};
use crate::relevance::{FileClass, Relevance};
use crate::span::LineIndex;
use crate::template::Template;
use crate::yaml::{self, Stream};

/// Every YAML file under the settings' root but those `named` and the CRD files given with
/// `--crds` or `crds:`, shown relative to the working directory.
pub(super) fn others_under_root(settings: &Settings, named: &HashSet<&Path>) -> Vec<Target> {
    let cwd = std::env::current_dir().unwrap_or_default();
    discover::yaml_files_under(&settings.root, settings)
        .into_iter()
        .filter(|p| !named.contains(p.as_path()))
        .filter(|p| !settings.crds.as_deref().is_some_and(|s| s.is_source(p)))
        .map(|fs_path| {
            let display = fs_path
                .strip_prefix(&cwd)
                .map_or_else(|_| fs_path.clone(), PathBuf::from);
            Target::new(display, fs_path)
        })
        .collect()
}

/// Read and summarise `targets` (in parallel, in their order). Files that cannot be read are
/// left out: a `check` that names them reports them.
pub(super) fn summarise_all(
    targets: Vec<Target>,
    settings: &Settings,
    options: RunOptions,
) -> Vec<IndexedFile> {
    targets
        .into_par_iter()
        .filter_map(|target| {
            let text = discover::read_text(&target.fs_path, settings.max_file_size).ok()?;
            Some(summarise(target, &text, options))
        })
        .collect()
}

/// Summarise a file that is only indexed (never checked). A file no rule can care about gives
/// no fact (and, with the prefilter, is never parsed); in the others, irrelevant documents are
/// not built.
pub(super) fn summarise(target: Target, text: &str, options: RunOptions) -> IndexedFile {
    let relevance = Relevance::of(&target.fs_path, text);
    let facts = if relevance.class == FileClass::Irrelevant {
        FileFacts::default()
    } else {
        let arena = yaml::Arena::new();
        let stream = yaml::parse_with(&arena, text, &parse_relevance(options, relevance));
        facts_for_index(&stream, text, &target.fs_path).0
    };
    IndexedFile::new(&target, facts, || LineIndex::new(text))
}

/// A parsed file's facts for the index, and the template it is, if it is one: a template is
/// not what gets applied, so it tells the index nothing.
pub(super) fn facts_for_index(
    stream: &Stream,
    text: &str,
    fs_path: &Path,
) -> (FileFacts, Option<Template>) {
    let template = Template::of(fs_path, text, stream);
    let facts = if template.is_some() {
        FileFacts::default()
    } else {
        FileFacts::of(stream, fs_path)
    };
    (facts, template)
}
