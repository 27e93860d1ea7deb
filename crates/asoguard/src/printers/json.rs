//! `--format json`: every finding with its position, object and fix, and a summary.
//!
//! The report is serialized straight from borrowed, typed records (no intermediate JSON value
//! tree), so a report of many findings costs little more than its own text.

use asoguard_core::Diagnostic;
use asoguard_core::diagnostic::SuppressionKind;
use asoguard_core::engine::{FileReport, RunReport};
use asoguard_core::span::SourceFile;
use serde::Serialize;

use super::{Context, Counts};

/// The whole document (version 1 of the shape).
#[derive(Serialize)]
struct Document<'r> {
    version: u32,
    tool: Tool,
    findings: Vec<Finding<'r>>,
    summary: Summary,
    /// Only when there are some, so a run without suppressions keeps the exact v1 shape.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressed: Vec<Finding<'r>>,
    /// What was not checked, and why; only when there is some, as `suppressed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<NoteOut<'r>>,
}

/// One note: its kind's stable id, the file it is about (`null` for the run) and what it
/// says.
#[derive(Serialize)]
struct NoteOut<'r> {
    kind: &'static str,
    path: Option<std::borrow::Cow<'r, str>>,
    message: &'r str,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    files: usize,
    documents: usize,
    findings: usize,
    fixable: usize,
    /// Only with CRDs given, so a run without them keeps the exact v1 shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_checked: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unchecked: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<usize>,
}

/// One finding.
#[derive(Serialize)]
struct Finding<'r> {
    code: &'static str,
    rule: &'static str,
    severity: &'static str,
    message: &'r str,
    path: std::borrow::Cow<'r, str>,
    start: Position,
    end: Position,
    object: Option<Object<'r>>,
    fix: Option<FixOut<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression: Option<SuppressionOut<'r>>,
}

#[derive(Serialize)]
struct Position {
    line: usize,
    column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<'r> {
    api_version: Option<&'r str>,
    kind: Option<&'r str>,
    namespace: Option<&'r str>,
    name: Option<&'r str>,
}

#[derive(Serialize)]
struct FixOut<'r> {
    applicability: &'static str,
    title: &'r str,
    edits: Vec<EditOut<'r>>,
}

#[derive(Serialize)]
struct EditOut<'r> {
    start: Position,
    end: Position,
    content: &'r str,
}

#[derive(Serialize)]
struct SuppressionOut<'r> {
    kind: &'static str,
    justification: Option<&'r str>,
}

/// The report as one JSON document (version 1 of the shape).
pub fn render(report: &RunReport, context: &Context) -> String {
    let findings: Vec<Finding> = sorted_findings(report)
        .into_iter()
        .map(|(file, d)| finding(file, d))
        .collect();
    let suppressed: Vec<Finding> = sorted_suppressed(report)
        .into_iter()
        .map(|(file, d)| Finding {
            suppression: d.suppression.as_ref().map(|s| SuppressionOut {
                kind: match s.kind {
                    SuppressionKind::Comment => "comment",
                    SuppressionKind::Annotation => "annotation",
                },
                justification: s.justification.as_deref(),
            }),
            ..finding(file, d)
        })
        .collect();
    let counts = Counts::of(report);
    let fixable = counts.safe_fixable
        + if context.options.unsafe_fixes {
            counts.unsafe_fixable
        } else {
            0
        };
    let document = Document {
        version: 1,
        tool: Tool {
            name: "asoguard",
            version: env!("CARGO_PKG_VERSION"),
        },
        summary: Summary {
            files: report.files_checked,
            documents: report.documents,
            findings: counts.findings,
            fixable,
            schema_checked: report.schema.map(|s| s.checked),
            unchecked: report.schema.map(|s| s.unchecked),
            suppressed: (!suppressed.is_empty()).then_some(suppressed.len()),
        },
        findings,
        suppressed,
        notes: report
            .all_notes()
            .map(|(path, note)| NoteOut {
                kind: note.kind.as_str(),
                path: path.map(|p| p.to_string_lossy()),
                message: &note.message,
            })
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&document).unwrap_or_default();
    out.push('\n');
    out
}

/// One finding as JSON.
fn finding<'r>(file: &'r FileReport, d: &'r Diagnostic) -> Finding<'r> {
    let source = &file.source;
    Finding {
        code: d.rule.code(),
        rule: d.rule.name(),
        severity: d.severity.as_str(),
        message: &d.message,
        path: file.path.to_string_lossy(),
        start: position(source, d.span.start),
        end: position(source, d.span.end),
        object: d.object.as_ref().map(|o| Object {
            api_version: o.api_version.as_deref(),
            kind: o.kind.as_deref(),
            namespace: o.namespace.as_deref(),
            name: o.name.as_deref(),
        }),
        fix: d.fix.as_ref().map(|f| FixOut {
            applicability: f.applicability.as_str(),
            title: &f.title,
            edits: f
                .edits
                .iter()
                .map(|e| EditOut {
                    start: position(source, e.span.start),
                    end: position(source, e.span.end),
                    content: &e.content,
                })
                .collect(),
        }),
        suppression: None,
    }
}

/// Findings sorted by path, line, column, code.
pub fn sorted_findings(report: &RunReport) -> Vec<(&FileReport, &Diagnostic)> {
    sorted(report.diagnostics().collect())
}

/// Suppressed findings, sorted the same way.
pub fn sorted_suppressed(report: &RunReport) -> Vec<(&FileReport, &Diagnostic)> {
    sorted(
        report
            .files
            .iter()
            .flat_map(|f| f.suppressed.iter().map(move |d| (f, d)))
            .collect(),
    )
}

fn sorted<'r>(
    mut all: Vec<(&'r FileReport, &'r Diagnostic)>,
) -> Vec<(&'r FileReport, &'r Diagnostic)> {
    all.sort_by(|(fa, a), (fb, b)| {
        // Most neighbours share their file: its path is not compared with itself.
        let by_path = if std::ptr::eq(*fa, *fb) {
            std::cmp::Ordering::Equal
        } else {
            fa.path.cmp(&fb.path)
        };
        by_path.then_with(|| (a.span.start, a.rule.code()).cmp(&(b.span.start, b.rule.code())))
    });
    all
}

fn position(source: &SourceFile, offset: usize) -> Position {
    let lc = source.line_col(offset);
    Position {
        line: lc.line,
        column: lc.column,
    }
}
