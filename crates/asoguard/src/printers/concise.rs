//! `--format concise`: one line per finding, `path:line:col: CODE [name] message`.

use asoguard_core::engine::RunReport;

use super::{Context, display_path};

/// One line per finding, then the summary unless quiet.
pub fn render(report: &RunReport, context: &Context) -> String {
    let mut out = String::new();
    for (file, d) in super::json::sorted_findings(report) {
        let at = file.source.line_col(d.span.start);
        out.push_str(&format!(
            "{}:{}:{}: {} [{}] {}\n",
            display_path(&file.path),
            at.line,
            at.column,
            d.rule.code(),
            d.rule.name(),
            d.message
        ));
    }
    if !context.quiet {
        out.push_str(&super::text::summary(report, context));
    }
    out
}
