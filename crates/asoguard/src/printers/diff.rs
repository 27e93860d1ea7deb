//! `--diff`: unified diffs of what `--fix` would change.

use asoguard_core::engine::RunReport;
use similar::TextDiff;

/// A unified diff per changed file, in path order.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    for file in &report.files {
        let Some(original) = &file.original else {
            continue;
        };
        let path = file.path.display().to_string();
        let diff = TextDiff::from_lines(original.as_str(), file.source.text.as_str());
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{path}"), &format!("b/{path}"))
                .to_string(),
        );
    }
    out
}
