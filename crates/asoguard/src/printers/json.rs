//! `--format json`: every finding with its position, object and fix, and a summary.

use asoguard_core::Diagnostic;
use asoguard_core::diagnostic::SuppressionKind;
use asoguard_core::engine::{FileReport, RunReport};
use asoguard_core::span::SourceFile;
use serde_json::{Value, json};

use super::{Context, Counts};

/// The report as one JSON document (version 1 of the shape).
pub fn render(report: &RunReport, context: &Context) -> String {
    let findings: Vec<Value> = sorted_findings(report)
        .into_iter()
        .map(|(file, d)| finding(file, d))
        .collect();
    let suppressed: Vec<Value> = sorted_suppressed(report)
        .into_iter()
        .map(|(file, d)| {
            let mut value = finding(file, d);
            if let (Some(s), Some(object)) = (&d.suppression, value.as_object_mut()) {
                object.insert(
                    "suppression".into(),
                    json!({
                        "kind": match s.kind {
                            SuppressionKind::Comment => "comment",
                            SuppressionKind::Annotation => "annotation",
                        },
                        "justification": s.justification,
                    }),
                );
            }
            value
        })
        .collect();
    let counts = Counts::of(report);
    let fixable = counts.safe_fixable
        + if context.options.unsafe_fixes {
            counts.unsafe_fixable
        } else {
            0
        };
    let mut document = json!({
        "version": 1,
        "tool": {"name": "asoguard", "version": env!("CARGO_PKG_VERSION")},
        "findings": findings,
        "summary": {
            "files": report.files_checked,
            "documents": report.documents,
            "findings": counts.findings,
            "fixable": fixable,
        },
    });
    // Only with CRDs given, so a run without them keeps the exact v1 shape.
    if let Some(schema) = report.schema {
        document["summary"]["schemaChecked"] = json!(schema.checked);
        document["summary"]["unchecked"] = json!(schema.unchecked);
    }
    // Only when there are some, so a run without suppressions keeps the exact v1 shape.
    if !suppressed.is_empty() {
        document["summary"]["suppressed"] = json!(suppressed.len());
        document["suppressed"] = Value::Array(suppressed);
    }
    let mut out = serde_json::to_string_pretty(&document).unwrap_or_default();
    out.push('\n');
    out
}

/// One finding as JSON.
fn finding(file: &FileReport, d: &Diagnostic) -> Value {
    let source = &file.source;
    json!({
        "code": d.rule.code(),
        "rule": d.rule.name(),
        "severity": d.severity.as_str(),
        "message": d.message,
        "path": file.path.to_string_lossy(),
        "start": position(source, d.span.start),
        "end": position(source, d.span.end),
        "object": d.object.as_ref().map(|o| json!({
            "apiVersion": o.api_version,
            "kind": o.kind,
            "namespace": o.namespace,
            "name": o.name,
        })),
        "fix": d.fix.as_ref().map(|f| json!({
            "applicability": f.applicability.as_str(),
            "title": f.title,
            "edits": f.edits.iter().map(|e| json!({
                "start": position(source, e.span.start),
                "end": position(source, e.span.end),
                "content": e.content,
            })).collect::<Vec<_>>(),
        })),
    })
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
        (&fa.path, a.span.start, a.rule.code()).cmp(&(&fb.path, b.span.start, b.rule.code()))
    });
    all
}

fn position(source: &SourceFile, offset: usize) -> Value {
    let lc = source.line_col(offset);
    json!({"line": lc.line, "column": lc.column})
}
