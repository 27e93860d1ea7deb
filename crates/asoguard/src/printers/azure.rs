//! `--format azure`: Azure Pipelines `##vso[task.logissue]` logging commands, escaped as
//! azure-pipelines-task-lib does.

use asoguard_core::Severity;
use asoguard_core::engine::RunReport;

/// One `task.logissue` command per finding.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    for (file, d) in super::json::sorted_findings(report) {
        let start = file.source.line_col(d.span.start);
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "##vso[task.logissue type={kind};sourcepath={};linenumber={};columnnumber={};code={};]{}\n",
            escape_property(&file.path.to_string_lossy()),
            start.line,
            start.column,
            escape_property(d.rule.code()),
            escape_data(&format!("{} [{}] {}", d.rule.code(), d.rule.name(), d.message))
        ));
    }
    out
}

/// task-lib's `escapedata`: `%` first (as `%AZP25`), then CR and LF.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%AZP25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// task-lib's `escape` for property values: as `escape_data`, plus `]` and `;`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(']', "%5D").replace(';', "%3B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_task_lib() {
        assert_eq!(escape_data("100%\nx"), "100%AZP25%0Ax");
        assert_eq!(escape_property("a;b]c"), "a%3Bb%5Dc");
    }
}
