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
        // git's a/ and b/ prefixes only make sense on relative paths.
        let (old, new) = if file.path.is_absolute() {
            (path.clone(), path.clone())
        } else {
            (format!("a/{path}"), format!("b/{path}"))
        };
        let diff = TextDiff::from_lines(original.as_str(), file.source.text.as_str());
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&old, &new)
                .to_string(),
        );
    }
    out
}
