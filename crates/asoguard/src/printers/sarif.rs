//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and Azure DevOps, with rules and
//! their documentation, precise regions, repository-relative URIs, fingerprints, fixes, and
//! the run's notes as tool execution notifications.
//!
//! URIs are relative to the root of the git work tree that holds the run's root (code
//! scanning resolves them against the repository's root, wherever `.asoguard.yaml` sits), or
//! to the run's root outside git. No URL is made up: a rule's documentation travels in its
//! `help`, as `asoguard rule` prints it.

use std::path::{Path, PathBuf};

use asoguard_core::Diagnostic;
use asoguard_core::engine::{FileReport, RunReport};
use asoguard_core::note::{Note, NoteKind};
use asoguard_core::registry::Rule;
use asoguard_core::span::{SourceFile, Span};
use serde::Serialize;

use super::Context;

const ROOT_ID: &str = "SRCROOT";

// The log's shape as typed records, serialized straight to text in SARIF's field order: a
// report of many findings costs little more than its own text (no `serde_json::Value` tree).

#[derive(Serialize)]
struct Log<'r> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [RunOut<'r>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunOut<'r> {
    tool: Tool,
    original_uri_base_ids: OriginalUriBaseIds,
    column_kind: &'static str,
    invocations: [Invocation<'r>; 1],
    results: Vec<ResultOut<'r>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<RuleDescriptor>,
    /// One descriptor per kind of note, which notifications point at.
    notifications: Vec<NotificationDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationDescriptor {
    id: &'static str,
    short_description: Text<'static>,
    default_configuration: DefaultConfiguration,
}

#[derive(Serialize)]
struct OriginalUriBaseIds {
    #[serde(rename = "SRCROOT")]
    root: Uri,
}

#[derive(Serialize)]
struct Uri {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'r> {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification<'r>>,
}

/// A note: what the run did not check, in which file.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification<'r> {
    #[serde(skip_serializing_if = "Option::is_none")]
    locations: Option<[NoteLocation; 1]>,
    message: Text<'r>,
    level: &'static str,
    descriptor: DescriptorReference,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NoteLocation {
    physical_location: ArtifactOnly,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactOnly {
    artifact_location: ArtifactLocation,
}

#[derive(Serialize)]
struct DescriptorReference {
    id: &'static str,
    index: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: Text<'static>,
    full_description: Text<'static>,
    help: Help,
    default_configuration: DefaultConfiguration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text<'r> {
    text: std::borrow::Cow<'r, str>,
}

impl<'r> Text<'r> {
    fn new(text: impl Into<std::borrow::Cow<'r, str>>) -> Self {
        Text { text: text.into() }
    }
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct DefaultConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: [&'static str; 2],
    fixable: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultOut<'r> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text<'r>,
    locations: [Location; 1],
    partial_fingerprints: Fingerprints,
    #[serde(skip_serializing_if = "Option::is_none")]
    fixes: Option<[FixOut<'r>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<[SuppressionOut<'r>; 1]>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<RelatedLocation<'r>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "asoguardFinding/v1")]
    finding: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FixOut<'r> {
    description: Text<'r>,
    artifact_changes: [ArtifactChange<'r>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange<'r> {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement<'r>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement<'r> {
    deleted_region: Region,
    inserted_content: Text<'r>,
}

#[derive(Serialize)]
struct SuppressionOut<'r> {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'r str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelatedLocation<'r> {
    id: usize,
    message: Text<'r>,
    physical_location: PhysicalLocation,
}

/// The report as a SARIF 2.1.0 log with one run.
pub fn render(report: &RunReport, context: &Context) -> String {
    let base = uri_base(&context.settings.root);
    let rules = Rule::ALL.iter().map(|r| rule_descriptor(*r)).collect();
    let mut results: Vec<ResultOut> = super::json::sorted_findings(report)
        .into_iter()
        .map(|(file, d)| result(file, d, &base))
        .collect();
    // Suppressed findings are reported too, marked, so code scanning shows them as dismissed.
    results.extend(
        super::json::sorted_suppressed(report)
            .into_iter()
            .map(|(file, d)| result(file, d, &base)),
    );
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [RunOut {
            tool: Tool {
                driver: Driver {
                    name: "asoguard",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                    notifications: NoteKind::ALL
                        .iter()
                        .map(|kind| NotificationDescriptor {
                            id: kind.as_str(),
                            short_description: Text::new(kind.description()),
                            default_configuration: DefaultConfiguration { level: "note" },
                        })
                        .collect(),
                },
            },
            original_uri_base_ids: OriginalUriBaseIds {
                root: Uri {
                    uri: file_uri(&base, true),
                },
            },
            column_kind: "unicodeCodePoints",
            invocations: [Invocation {
                execution_successful: true,
                tool_execution_notifications: report
                    .all_notes()
                    .map(|(path, note)| notification(path, note, &base))
                    .collect(),
            }],
            results,
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

/// The directory URIs are relative to: the root of the git work tree holding `root` (the
/// nearest ancestor with `.git`, a directory or, in a linked worktree or submodule, a file),
/// since code scanning resolves locations against the repository's root; else `root`.
fn uri_base(root: &Path) -> PathBuf {
    root.ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(root)
        .to_path_buf()
}

/// A note as a notification: level `note`, its file's location, and its kind's descriptor.
fn notification<'r>(path: Option<&Path>, note: &'r Note, base: &Path) -> Notification<'r> {
    Notification {
        locations: path.map(|path| {
            [NoteLocation {
                physical_location: ArtifactOnly {
                    artifact_location: path_location(path, base),
                },
            }]
        }),
        message: Text::new(note.message.as_str()),
        level: "note",
        descriptor: DescriptorReference {
            id: note.kind.as_str(),
            index: NoteKind::ALL
                .iter()
                .position(|k| *k == note.kind)
                .unwrap_or(0),
        },
    }
}

fn rule_descriptor(rule: Rule) -> RuleDescriptor {
    let meta = rule.meta();
    let header = asoguard_core::rules::header_line(meta);
    RuleDescriptor {
        id: meta.code,
        name: meta.name,
        short_description: Text::new(rule.summary()),
        full_description: Text::new(first_paragraph(rule.doc())),
        // The rule's documentation as `asoguard rule` and docs/rules.md give it; code scanning
        // shows the markdown beside each alert.
        help: Help {
            text: format!(
                "{}\n\n{}\n\n{}",
                header.replace("**", ""),
                rule.summary(),
                rule.doc()
            ),
            markdown: format!("{header}\n\n{}\n\n{}", rule.summary(), rule.doc()),
        },
        default_configuration: DefaultConfiguration {
            level: level(meta.severity),
        },
        properties: RuleProperties {
            tags: ["aso", "gitops"],
            fixable: meta.fixable.as_str(),
        },
    }
}

fn first_paragraph(doc: &str) -> String {
    doc.lines()
        .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn level(severity: asoguard_core::Severity) -> &'static str {
    match severity {
        asoguard_core::Severity::Error => "error",
        asoguard_core::Severity::Warning => "warning",
    }
}

fn result<'r>(file: &'r FileReport, d: &'r Diagnostic, base: &Path) -> ResultOut<'r> {
    let location = path_location(&file.path, base);
    let fingerprint = fingerprint(file, d, &location);
    let rule_index = Rule::ALL.iter().position(|r| *r == d.rule).unwrap_or(0);
    ResultOut {
        rule_id: d.rule.code(),
        rule_index,
        level: level(d.severity),
        message: Text::new(d.message.as_str()),
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: location,
                region: region(&file.source, d.span),
            },
        }],
        partial_fingerprints: Fingerprints {
            finding: fingerprint,
        },
        fixes: d.fix.as_ref().map(|fix| {
            [FixOut {
                description: Text::new(format!("{} ({})", fix.title, fix.applicability.as_str())),
                artifact_changes: [ArtifactChange {
                    artifact_location: path_location(&file.path, base),
                    replacements: fix
                        .edits
                        .iter()
                        .map(|e| Replacement {
                            deleted_region: region(&file.source, e.span),
                            inserted_content: Text::new(e.content.as_str()),
                        })
                        .collect(),
                }],
            }]
        }),
        suppressions: d.suppression.as_ref().map(|suppression| {
            [SuppressionOut {
                kind: "inSource",
                justification: suppression.justification.as_deref(),
            }]
        }),
        related_locations: d
            .related
            .iter()
            .enumerate()
            .map(|(i, r)| RelatedLocation {
                id: i,
                message: Text::new(r.message.as_str()),
                physical_location: PhysicalLocation {
                    artifact_location: path_location(&r.path, base),
                    region: Region {
                        start_line: r.line,
                        start_column: r.column,
                        end_line: None,
                        end_column: None,
                    },
                },
            })
            .collect(),
    }
}

/// A path's URI relative to `base` (with `uriBaseId`), or an absolute `file://` URI when it
/// lies outside.
fn path_location(path: &Path, base: &Path) -> ArtifactLocation {
    let absolute = asoguard_core::config::absolute(path);
    match absolute.strip_prefix(base) {
        Ok(relative) => ArtifactLocation {
            uri: uri_path(relative),
            uri_base_id: Some(ROOT_ID),
        },
        Err(_) => ArtifactLocation {
            uri: file_uri(&absolute, false),
            uri_base_id: None,
        },
    }
}

/// A region with 1-based lines and code-point columns, end column exclusive.
fn region(source: &SourceFile, span: Span) -> Region {
    let start = source.line_col(span.start);
    let end = source.line_col(span.end);
    Region {
        start_line: start.line,
        start_column: start.column,
        end_line: Some(end.line),
        end_column: Some(end.column),
    }
}

/// A stable identity for a finding across runs: rule, file, object and the flagged text, not
/// its line, so moving a resource within the file keeps its alert.
fn fingerprint(file: &FileReport, d: &Diagnostic, location: &ArtifactLocation) -> String {
    let object = d.object.as_ref().map_or(String::new(), |o| {
        format!(
            "{}/{}/{}/{}",
            o.api_version.as_deref().unwrap_or(""),
            o.kind.as_deref().unwrap_or(""),
            o.namespace.as_deref().unwrap_or(""),
            o.name.as_deref().unwrap_or("")
        )
    });
    let key = format!(
        "{}\0{}\0{}\0{}",
        d.rule.code(),
        location.uri,
        object,
        file.source.slice(d.span)
    );
    format!("{:016x}", fnv1a(key.as_bytes()))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A relative path as a URI reference: `/` separators, reserved bytes percent-encoded.
fn uri_path(path: &Path) -> String {
    let text = path
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/");
    percent_encode(&text)
}

fn file_uri(path: &Path, directory: bool) -> String {
    let mut uri = format!("file:///{}", uri_path(path));
    if directory && !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
