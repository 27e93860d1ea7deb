//! One printer per output format; printers read the run report, never YAML.

pub mod azure;
pub mod concise;
pub mod diff;
pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use std::path::Path;

use asoguard_core::Settings;
use asoguard_core::engine::{RunOptions, RunReport};
use asoguard_core::fix::Applicability;

/// What every printer needs besides the report.
#[derive(Clone, Copy)]
pub struct Context<'x> {
    /// The run's settings (root for SARIF URIs).
    pub settings: &'x Settings,
    /// The run's fix options.
    pub options: &'x RunOptions,
    /// Colour the text output (a terminal, and `NO_COLOR` unset).
    pub colour: bool,
    /// Findings only: no summary.
    pub quiet: bool,
    /// Counts per rule instead of each finding.
    pub statistics: bool,
    /// List the fixes applied.
    pub show_fixes: bool,
}

/// A path for people: relative to the working directory when it lies under it.
pub fn display_path(path: &Path) -> String {
    if path.is_absolute() {
        if let Ok(cwd) = std::env::current_dir() {
            if let Ok(relative) = path.strip_prefix(&cwd) {
                return relative.display().to_string();
            }
        }
    }
    path.display().to_string()
}

/// Counts for summaries.
pub struct Counts {
    /// Findings left.
    pub findings: usize,
    /// Of those, fixable by `--fix` (safe fixes).
    pub safe_fixable: usize,
    /// Of those, fixable only with `--unsafe-fixes`.
    pub unsafe_fixable: usize,
}

impl Counts {
    /// Count the findings of a report.
    pub fn of(report: &RunReport) -> Self {
        let mut counts = Counts {
            findings: 0,
            safe_fixable: 0,
            unsafe_fixable: 0,
        };
        for (_, d) in report.diagnostics() {
            counts.findings += 1;
            match d.fix.as_ref().map(|f| f.applicability) {
                Some(Applicability::Safe) => counts.safe_fixable += 1,
                Some(Applicability::Unsafe) => counts.unsafe_fixable += 1,
                None => {}
            }
        }
        counts
    }
}

/// `n thing` or `n things` (`n fixes` for words ending in a sibilant): the core's
/// [`asoguard_core::wording::plural`], so every count reads the same.
pub fn plural(n: usize, word: &str) -> String {
    asoguard_core::wording::plural(n, word)
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "fix"), "1 fix");
        assert_eq!(plural(2, "fix"), "2 fixes");
        assert_eq!(plural(0, "file"), "0 files");
        assert_eq!(plural(3, "ASO resource"), "3 ASO resources");
    }
}
