//! `--format junit`: JUnit XML, one test suite per file and one failing test case per finding;
//! what the run did not check is a last suite, `asoguard: not checked`, with one skipped test
//! case per kind of note, its message the kind's summary and its text every note with its file.

use std::collections::BTreeMap;

use asoguard_core::Diagnostic;
use asoguard_core::engine::{FileReport, RunReport};

use super::notes::{by_kind, one_line};

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
    let notes = by_kind(report);
    let skipped = if notes.is_empty() {
        String::new()
    } else {
        format!(" skipped=\"{}\"", notes.len())
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"asoguard\" tests=\"{}\" failures=\"{total}\"{skipped}>\n",
        total.max(1) + notes.len()
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
    if !notes.is_empty() {
        out.push_str(&format!(
            "  <testsuite name=\"asoguard: not checked\" tests=\"{n}\" failures=\"0\" skipped=\"{n}\">\n",
            n = notes.len()
        ));
        for (kind, list) in &notes {
            let summary = xml(&kind.summary(list.len()));
            let every: Vec<String> = list
                .iter()
                .map(|(path, note)| xml(&one_line(*path, note)))
                .collect();
            out.push_str(&format!(
                "    <testcase name=\"{summary}\" classname=\"asoguard.notes.{}\">\n",
                kind.as_str()
            ));
            out.push_str(&format!(
                "      <skipped message=\"{summary}\">{}</skipped>\n",
                every.join("&#10;")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::test_report;
    use asoguard_core::note::NoteKind;

    #[test]
    fn notes_are_one_skipped_case_per_kind() {
        let report = test_report(&[("a.yaml", NoteKind::Sops), ("b<1>.yaml", NoteKind::Sops)]);
        assert_eq!(
            render(&report),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <testsuites name=\"asoguard\" tests=\"3\" failures=\"0\" skipped=\"2\">\n\
             \x20 <testsuite name=\"asoguard\" tests=\"1\" failures=\"0\">\n\
             \x20   <testcase name=\"No findings\" classname=\"asoguard\"/>\n\
             \x20 </testsuite>\n\
             \x20 <testsuite name=\"asoguard: not checked\" tests=\"2\" failures=\"0\" skipped=\"2\">\n\
             \x20   <testcase name=\"1 configured cluster matches nothing that is applied\" classname=\"asoguard.notes.config\">\n\
             \x20     <skipped message=\"1 configured cluster matches nothing that is applied\">cluster `dr` matches nothing</skipped>\n\
             \x20   </testcase>\n\
             \x20   <testcase name=\"2 SOPS-encrypted files were skipped\" classname=\"asoguard.notes.sops\">\n\
             \x20     <skipped message=\"2 SOPS-encrypted files were skipped\">a.yaml: sops note&#10;b&lt;1&gt;.yaml: sops note</skipped>\n\
             \x20   </testcase>\n\
             \x20 </testsuite>\n\
             </testsuites>\n"
        );
    }
}
