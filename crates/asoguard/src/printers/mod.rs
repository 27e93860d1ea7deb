//! One printer per output format; printers read the run report, never YAML.

pub mod diff;
pub mod json;
pub mod sarif;
pub mod text;

use asoguard_core::Settings;
use asoguard_core::engine::{RunOptions, RunReport};
use asoguard_core::fix::Applicability;

/// What every printer needs besides the report.
pub struct Context<'x> {
    /// The run's settings (root for SARIF URIs).
    pub settings: &'x Settings,
    /// The run's fix options.
    pub options: &'x RunOptions,
}

impl<'x> Context<'x> {
    /// A context over the run's settings and options.
    pub fn new(settings: &'x Settings, options: &'x RunOptions) -> Self {
        Context { settings, options }
    }
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

/// `n thing` or `n things`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
