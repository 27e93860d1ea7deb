//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and Azure DevOps, with rules,
//! precise regions, repository-relative URIs, fingerprints and fixes.

use std::path::Path;

use asoguard_core::Diagnostic;
use asoguard_core::engine::{FileReport, RunReport};
use asoguard_core::rules::Rule;
use asoguard_core::span::{SourceFile, Span};
use serde_json::{Value, json};

use super::Context;

/// Where the rules reference lives; each rule's `helpUri` is an anchor in it.
pub const RULES_DOC_URL: &str = "https://github.com/asoguard/asoguard/blob/main/docs/rules.md";
const INFORMATION_URI: &str = "https://github.com/asoguard/asoguard";
const ROOT_ID: &str = "SRCROOT";

/// The report as a SARIF 2.1.0 log with one run.
pub fn render(report: &RunReport, context: &Context) -> String {
    let rules: Vec<Value> = Rule::ALL.iter().map(|r| rule_descriptor(*r)).collect();
    let mut results: Vec<Value> = super::json::sorted_findings(report)
        .into_iter()
        .map(|(file, d)| result(file, d, context))
        .collect();
    // Suppressed findings are reported too, marked, so code scanning shows them as dismissed.
    results.extend(
        super::json::sorted_suppressed(report)
            .into_iter()
            .map(|(file, d)| result(file, d, context)),
    );
    let root = file_uri(&context.settings.root, true);
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "asoguard",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "originalUriBaseIds": {ROOT_ID: {"uri": root}},
            "columnKind": "unicodeCodePoints",
            "invocations": [{"executionSuccessful": true}],
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

fn rule_descriptor(rule: Rule) -> Value {
    let meta = rule.meta();
    json!({
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": first_paragraph(meta.doc)},
        "help": {"text": meta.doc, "markdown": meta.doc},
        "helpUri": format!("{RULES_DOC_URL}#{}", asoguard_core::rules::doc_anchor(rule)),
        "defaultConfiguration": {"level": level(meta.severity)},
        "properties": {"tags": ["aso", "gitops"], "fixable": meta.fixable.as_str()},
    })
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

fn result(file: &FileReport, d: &Diagnostic, context: &Context) -> Value {
    let location = artifact_location(file, context);
    let fingerprint = fingerprint(file, d, &location);
    let rule_index = Rule::ALL.iter().position(|r| *r == d.rule).unwrap_or(0);
    let mut result = json!({
        "ruleId": d.rule.code(),
        "ruleIndex": rule_index,
        "level": level(d.severity),
        "message": {"text": d.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": location,
            "region": region(&file.source, d.span),
        }}],
        "partialFingerprints": {"asoguardFinding/v1": fingerprint},
    });
    if let Some(fix) = &d.fix {
        result["fixes"] = json!([{
            "description": {"text": format!("{} ({})", fix.title, fix.applicability.as_str())},
            "artifactChanges": [{
                "artifactLocation": artifact_location(file, context),
                "replacements": fix.edits.iter().map(|e| json!({
                    "deletedRegion": region(&file.source, e.span),
                    "insertedContent": {"text": e.content},
                })).collect::<Vec<_>>(),
            }],
        }]);
    }
    if let Some(suppression) = &d.suppression {
        let mut entry = json!({"kind": "inSource"});
        if let Some(justification) = &suppression.justification {
            entry["justification"] = json!(justification);
        }
        result["suppressions"] = json!([entry]);
    }
    if !d.related.is_empty() {
        result["relatedLocations"] = Value::Array(
            d.related
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    json!({
                        "id": i,
                        "message": {"text": r.message},
                        "physicalLocation": {
                            "artifactLocation": path_location(&r.path, context),
                            "region": {"startLine": r.line, "startColumn": r.column},
                        },
                    })
                })
                .collect(),
        );
    }
    result
}

/// The file's URI relative to the repository root (with `uriBaseId`), or an absolute
/// `file://` URI when it lies outside the root.
fn artifact_location(file: &FileReport, context: &Context) -> Value {
    path_location(&file.path, context)
}

fn path_location(path: &Path, context: &Context) -> Value {
    let absolute = asoguard_core::config::absolute(path);
    match absolute.strip_prefix(&context.settings.root) {
        Ok(relative) => json!({"uri": uri_path(relative), "uriBaseId": ROOT_ID}),
        Err(_) => json!({"uri": file_uri(&absolute, false)}),
    }
}

/// A region with 1-based lines and code-point columns, end column exclusive.
fn region(source: &SourceFile, span: Span) -> Value {
    let start = source.line_col(span.start);
    let end = source.line_col(span.end);
    json!({
        "startLine": start.line,
        "startColumn": start.column,
        "endLine": end.line,
        "endColumn": end.column,
    })
}

/// A stable identity for a finding across runs: rule, file, object and the flagged text, not
/// its line, so moving a resource within the file keeps its alert.
fn fingerprint(file: &FileReport, d: &Diagnostic, location: &Value) -> String {
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
        location["uri"].as_str().unwrap_or(""),
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
