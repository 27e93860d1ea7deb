//! `--format junit`: JUnit XML, one test suite per file and one failing test case per finding.

use std::collections::BTreeMap;

use asoguard_core::Diagnostic;
use asoguard_core::engine::{FileReport, RunReport};

/// The JUnit XML document.
pub fn render(report: &RunReport) -> String {
    let mut by_file: BTreeMap<String, Vec<(&FileReport, &Diagnostic)>> = BTreeMap::new();
    for (file, d) in super::json::sorted_findings(report) {
        by_file
            .entry(file.path.to_string_lossy().into_owned())
            .or_default()
            .push((file, d));
    }
    let total: usize = by_file.values().map(Vec::len).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"asoguard\" tests=\"{}\" failures=\"{total}\">\n",
        total.max(1)
    ));
    if by_file.is_empty() {
        out.push_str("  <testsuite name=\"asoguard\" tests=\"1\" failures=\"0\">\n");
        out.push_str("    <testcase name=\"No findings\" classname=\"asoguard\"/>\n");
        out.push_str("  </testsuite>\n");
    }
    for (path, findings) in &by_file {
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{n}\">\n",
            xml(path),
            n = findings.len()
        ));
        for (file, d) in findings {
            let at = file.source.line_col(d.span.start);
            out.push_str(&format!(
                "    <testcase name=\"{} [{}] at {}:{}\" classname=\"{}\" file=\"{}\" line=\"{}\">\n",
                d.rule.code(),
                d.rule.name(),
                at.line,
                at.column,
                xml(path),
                xml(path),
                at.line
            ));
            out.push_str(&format!(
                "      <failure message=\"{}\" type=\"{}\">{}:{}:{}: {}</failure>\n",
                xml(&d.message),
                d.severity.as_str(),
                xml(path),
                at.line,
                at.column,
                xml(&d.message)
            ));
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escape text for an XML attribute or element, dropping characters XML 1.0 cannot hold.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push_str(&format!("&#{};", c as u32)),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}
