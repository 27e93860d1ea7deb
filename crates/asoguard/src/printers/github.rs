//! `--format github`: GitHub Actions workflow commands, escaped as the actions toolkit does.

use asoguard_core::Severity;
use asoguard_core::engine::RunReport;

/// One `::error` or `::warning` command per finding.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    for (file, d) in super::json::sorted_findings(report) {
        let start = file.source.line_col(d.span.start);
        let end = file.source.line_col(d.span.end);
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut properties = vec![
            ("file", file.path.to_string_lossy().into_owned()),
            ("line", start.line.to_string()),
            ("endLine", end.line.to_string()),
        ];
        // Columns only make sense to GitHub when the finding is on one line.
        if start.line == end.line {
            properties.push(("col", start.column.to_string()));
            properties.push(("endColumn", end.column.to_string()));
        }
        properties.push(("title", format!("{} [{}]", d.rule.code(), d.rule.name())));
        let properties = properties
            .into_iter()
            .map(|(k, v)| format!("{k}={}", escape_property(&v)))
            .collect::<Vec<_>>()
            .join(",");
        out.push_str(&format!(
            "::{level} {properties}::{}\n",
            escape_data(&d.message)
        ));
    }
    out
}

/// `escapeData` of @actions/core: `%`, CR and LF.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `escapeProperty` of @actions/core: as `escapeData`, plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_actions_toolkit() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
