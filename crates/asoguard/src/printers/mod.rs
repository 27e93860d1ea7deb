//! One printer per output format; printers read the run report, never YAML.

pub mod azure;
pub mod concise;
pub mod diff;
pub mod github;
pub mod json;
pub mod junit;
pub mod notes;
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
    /// Findings only: no summary, no notes in line-oriented output.
    pub quiet: bool,
    /// Every note on a line of its own, rather than one line per kind.
    pub verbose: bool,
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

/// A report for printers' tests: one file per distinct path, with a note of each kind given
/// (message `<kind> note`), and one note about the run (kind `config`).
#[cfg(test)]
pub fn test_report(notes: &[(&str, asoguard_core::note::NoteKind)]) -> RunReport {
    use asoguard_core::engine::FileReport;
    use asoguard_core::note::{Note, NoteKind};
    use asoguard_core::schema::Coverage;
    use asoguard_core::span::SourceFile;

    let mut files: Vec<FileReport> = Vec::new();
    for (path, kind) in notes {
        let note = Note::new(*kind, format!("{} note", kind.as_str()));
        match files.iter_mut().find(|f| f.path == Path::new(path)) {
            Some(file) => file.notes.push(note),
            None => files.push(FileReport {
                path: path.into(),
                source: SourceFile::new(path.into(), String::new()),
                original: None,
                diagnostics: Vec::new(),
                suppressed: Vec::new(),
                fixed: 0,
                applied: Vec::new(),
                documents: 1,
                notes: vec![note],
                write_error: None,
                schema: Coverage::default(),
            }),
        }
    }
    RunReport {
        files,
        notes: vec![Note::new(NoteKind::Config, "cluster `dr` matches nothing")],
        ..RunReport::default()
    }
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
