//! Whether a file is a template (Helm or Go `{{ }}`): the one predicate that `check` and the
//! transforms share.
//!
//! A template is not what gets applied: its rendered output is. So a template gives no
//! finding and no fact to the index, is never changed by `--fix`, `--diff` or a transform, and
//! gives one note of kind [`NoteKind::Template`]. A file is a template when any of these holds:
//!
//! 1. it lies under the `templates/` directory of a Helm chart (a `Chart.yaml` beside that
//!    `templates/`), at any depth;
//! 2. a document that is not an ArgoCD ApplicationSet holds `{{` in a key or a value (a scalar
//!    as written, quotes included, or a flow collection written `{{ ... }}`, which is how
//!    `name: {{ .Release.Name }}` parses). ApplicationSets hold `{{path}}` for their own
//!    generators and are linted like any manifest;
//! 3. it is not valid YAML and holds `{{` outside a comment.
//!
//! A `{{` in a comment never makes a file a template. The test is cheap on every other file:
//! the path test reads the file system only below a directory named `templates`, and the text
//! test starts with one search for `{{`.

use std::path::Path;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::note::{Note, NoteKind};
use crate::span::{LineIndex, Span};
use crate::yaml::{self, Node, NodeKind, Stream};

/// Why a file is a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Template {
    /// It lies under the `templates/` directory of a Helm chart.
    Chart,
    /// A document that is not an ApplicationSet holds `{{` at this byte offset.
    Syntax {
        /// Where the first `{{` in a key or value starts.
        offset: usize,
    },
    /// It is not valid YAML and holds `{{` outside a comment.
    Invalid,
}

impl Template {
    /// Whether the file at `fs_path` with `text` is a template, and why. `stream` is a parse of
    /// `text`; documents it did not build (the prefilter's) are parsed again when they hold
    /// `{{`, so the answer never depends on the prefilter.
    pub fn of(fs_path: &Path, text: &str, stream: &Stream) -> Option<Template> {
        if in_chart_templates(fs_path) {
            return Some(Template::Chart);
        }
        // Built once: `memmem::find` builds its searcher on every call, and this one is made for
        // every file parsed.
        static BRACES: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"{{"));
        BRACES.find(text.as_bytes())?;
        if stream.error.is_some() {
            return outside_comments(text).then_some(Template::Invalid);
        }
        let unbuilt = stream
            .documents
            .iter()
            .any(|d| d.root.is_none() && text[d.span.start..d.span.end].contains("{{"));
        if unbuilt {
            let arena = yaml::Arena::new();
            return in_documents(text, &yaml::parse(&arena, text));
        }
        in_documents(text, stream)
    }

    /// The note a run gives about the template.
    pub fn note(&self, text: &str) -> Note {
        let what = match self {
            Template::Chart => {
                "a Helm chart's template (under `templates/` beside `Chart.yaml`)".to_string()
            }
            Template::Syntax { offset } => format!(
                "a Helm or Go template (`{{{{ ... }}}}` at line {})",
                LineIndex::new(text).line_col(text, *offset).line
            ),
            Template::Invalid => {
                "a Helm or Go template (`{{ ... }}`, not valid YAML until rendered)".to_string()
            }
        };
        Note::new(
            NoteKind::Template,
            format!("{what}: not checked until rendered, and never changed"),
        )
    }
}

/// Whether `path` lies under a directory named `templates` that has a `Chart.yaml` beside it.
fn in_chart_templates(path: &Path) -> bool {
    // Asked of every file parsed: walking its ancestors costs a component parse per step
    // (quadratic in the depth), while a path without the name `templates` anywhere has no
    // such ancestor at all.
    static TEMPLATES: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"templates"));
    if TEMPLATES
        .find(path.as_os_str().as_encoded_bytes())
        .is_none()
    {
        return false;
    }
    path.ancestors()
        .skip(1)
        .filter(|dir| dir.file_name().is_some_and(|name| name == "templates"))
        .any(|dir| {
            dir.parent()
                .is_some_and(|chart| chart.join("Chart.yaml").is_file())
        })
}

/// The first `{{` in a key or value of a document that is not an ApplicationSet.
fn in_documents(text: &str, stream: &Stream) -> Option<Template> {
    stream
        .documents
        .iter()
        .filter_map(|d| d.root.as_ref())
        .filter(|root| !is_application_set(root))
        .find_map(|root| in_node(text, root))
        .map(|offset| Template::Syntax { offset })
}

fn is_application_set(root: &Node) -> bool {
    root.get_str("kind") == Some("ApplicationSet")
        && root
            .get_str("apiVersion")
            .is_some_and(|v| v.starts_with("argoproj.io/"))
}

/// The offset of the first `{{` in `node`'s keys and values, as written. A scalar holds one
/// anywhere in its token; a collection only at its start (`{{ .x }}` is a flow mapping whose
/// first key is a flow mapping): the rest of its text is its children's, or punctuation.
fn in_node(text: &str, node: &Node) -> Option<usize> {
    let written = |span: Span| text.get(span.start..span.end).unwrap_or_default();
    match node.kind {
        NodeKind::Scalar { .. } => memchr::memmem::find(written(node.span).as_bytes(), b"{{")
            .map(|at| node.span.start + at),
        NodeKind::Mapping { entries, .. } => {
            if written(node.span).starts_with("{{") {
                return Some(node.span.start);
            }
            entries
                .iter()
                .find_map(|e| in_node(text, &e.key).or_else(|| in_node(text, &e.value)))
        }
        NodeKind::Sequence { items, .. } => {
            if written(node.span).starts_with("{{") {
                return Some(node.span.start);
            }
            items.iter().find_map(|item| in_node(text, item))
        }
        NodeKind::Alias => None,
    }
}

/// Whether `text` (which does not parse) holds `{{` outside a comment: on each line, before a
/// `#` that starts the line or follows a blank. A `#` inside a quoted value that follows a
/// blank is taken for a comment too: such a file is reported as invalid YAML rather than
/// skipped, never the other way round.
fn outside_comments(text: &str) -> bool {
    text.lines().any(|line| {
        let bytes = line.as_bytes();
        let code_end = (0..bytes.len())
            .find(|&i| bytes[i] == b'#' && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t')))
            .unwrap_or(bytes.len());
        line[..code_end].contains("{{")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Option<Template> {
        let arena = yaml::Arena::new();
        Template::of(Path::new("/repo/x.yaml"), text, &yaml::parse(&arena, text))
    }

    const GROUP: &str = "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\n";

    #[test]
    fn template_syntax_in_a_key_or_value_makes_a_template() {
        for (body, at) in [
            // Parses: a flow mapping whose first key is a flow mapping.
            (
                "metadata:\n  name: {{ .Release.Name }}\n",
                "{{ .Release.Name }}",
            ),
            (
                "metadata:\n  name: \"{{ .Release.Name }}-rg\"\n",
                "{{ .Release.Name }}-rg",
            ),
            (
                "metadata:\n  name: 'rg-{{.Values.env}}'\n",
                "{{.Values.env}}",
            ),
            (
                "metadata:\n  labels:\n    '{{ .Values.key }}': x\n",
                "{{ .Values.key }}",
            ),
            (
                "spec:\n  tags: [a, \"{{ .Values.tag }}\"]\n",
                "{{ .Values.tag }}",
            ),
            (
                "spec:\n  description: |\n    {{ .Values.text }}\n",
                "{{ .Values.text }}",
            ),
        ] {
            let text = format!("{GROUP}{body}");
            assert_eq!(
                of(&text),
                Some(Template::Syntax {
                    offset: text.find(at).expect("in the text")
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn a_comment_or_an_application_set_is_no_template() {
        for text in [
            format!("{GROUP}# rendered from {{{{ .Values.name }}}}\nmetadata:\n  name: rg # {{{{ x }}}}\n"),
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: apps\nspec:\n  template:\n    metadata:\n      name: '{{path.basename}}'\n".to_string(),
            format!("{GROUP}metadata:\n  name: rg\n  labels: {{a: b}}\n"),
            format!("{GROUP}metadata:\n  name: rg\nspec:\n  x: {{ {{a: b}}: c }}\n"),
        ] {
            assert_eq!(of(&text), None, "{text}");
        }
        // An ApplicationSet beside a templated document does not shield it.
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: '{{path}}'\n---\nkind: ConfigMap\ndata:\n  a: '{{ .x }}'\n";
        assert!(matches!(of(text), Some(Template::Syntax { .. })));
    }

    #[test]
    fn invalid_yaml_is_a_template_only_with_syntax_outside_comments() {
        let invalid = format!("{GROUP}metadata:\n  name: {{{{ .Release.Name }}}}-rg\n");
        assert_eq!(of(&invalid), Some(Template::Invalid));
        let directive = format!("{{{{- if .Values.enabled }}}}\n{GROUP}{{{{- end }}}}\n");
        assert_eq!(of(&directive), Some(Template::Invalid));
        let commented = format!("# {{{{ .Values.x }}}}\n{GROUP}metadata:\n  name: [rg\n");
        assert_eq!(of(&commented), None);
    }

    #[test]
    fn files_under_a_charts_templates_are_templates() {
        let dir = tempfile::tempdir().expect("temp dir");
        let chart = dir.path().join("charts/web");
        std::fs::create_dir_all(chart.join("templates/azure")).expect("dirs");
        std::fs::create_dir_all(dir.path().join("plain/templates")).expect("dirs");
        std::fs::write(chart.join("Chart.yaml"), "name: web\n").expect("write");
        let plain = format!("{GROUP}metadata:\n  name: rg\n");
        for (path, template) in [
            (chart.join("templates/rg.yaml"), true),
            (chart.join("templates/azure/rg.yaml"), true),
            (chart.join("values.yaml"), false),
            (chart.join("crds/rg.yaml"), false),
            (dir.path().join("plain/templates/rg.yaml"), false),
        ] {
            let arena = yaml::Arena::new();
            let found = Template::of(&path, &plain, &yaml::parse(&arena, &plain));
            assert_eq!(found.is_some(), template, "{}", path.display());
        }
    }

    /// Documents the prefilter did not build are looked at all the same.
    #[test]
    fn the_answer_does_not_depend_on_the_prefilter() {
        let text = format!(
            "{GROUP}metadata:\n  name: rg\n---\nkind: ConfigMap\ndata:\n  a: '{{{{ .x }}}}'\n"
        );
        let relevance = crate::relevance::Relevance::of(Path::new("/repo/x.yaml"), &text);
        let arena = yaml::Arena::new();
        let partial = yaml::parse_with(&arena, &text, &relevance);
        assert!(
            partial.documents[1].root.is_none(),
            "the prefilter left it out"
        );
        assert_eq!(
            Template::of(Path::new("/repo/x.yaml"), &text, &partial),
            of(&text)
        );
        assert!(of(&text).is_some());
    }

    #[test]
    fn the_note_says_where() {
        let text = format!("{GROUP}metadata:\n  name: '{{{{ .Release.Name }}}}'\n");
        let note = of(&text).expect("a template").note(&text);
        assert_eq!(note.kind, NoteKind::Template);
        assert!(note.message.contains("line 4"), "{}", note.message);
    }
}
