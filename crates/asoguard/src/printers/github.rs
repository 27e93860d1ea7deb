//! `--format github`: GitHub Actions workflow commands, escaped as the actions toolkit does.

use asoguard_core::Severity;
use asoguard_core::engine::RunReport;

use super::Context;
use super::notes::{by_kind, some_paths};

/// How many paths a kind's notice names before it counts the rest.
const PATHS_SHOWN: usize = 5;

/// One `::error` or `::warning` command per finding, then the notes as `::notice` commands:
/// one per kind (naming its first files), or one per note with its file when `--verbose`,
/// none when `--quiet`. GitHub shows at most ten notices of a step, so a notice per file
/// would mostly be dropped.
pub fn render(report: &RunReport, context: &Context) -> String {
    let mut out = findings(report);
    if context.quiet {
        return out;
    }
    for (kind, notes) in by_kind(report) {
        let title = format!("asoguard note [{}]", kind.as_str());
        if context.verbose {
            for (path, note) in notes {
                let mut properties = Vec::new();
                if let Some(path) = path {
                    properties.push(format!("file={}", escape_property(&path.to_string_lossy())));
                }
                properties.push(format!("title={}", escape_property(&title)));
                out.push_str(&format!(
                    "::notice {}::{}\n",
                    properties.join(","),
                    escape_data(&note.message)
                ));
            }
        } else {
            let paths = some_paths(&notes, PATHS_SHOWN);
            let mut message = kind.summary(notes.len());
            if !paths.is_empty() {
                message.push_str(&format!(": {paths}"));
            }
            out.push_str(&format!(
                "::notice title={}::{}\n",
                escape_property(&title),
                escape_data(&message)
            ));
        }
    }
    out
}

/// One `::error` or `::warning` command per finding.
fn findings(report: &RunReport) -> String {
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
    use crate::printers::test_report;
    use asoguard_core::note::NoteKind;

    #[test]
    fn escapes_like_the_actions_toolkit() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    fn render_with(verbose: bool, quiet: bool) -> String {
        let report = test_report(&[
            ("a.yaml", NoteKind::Sops),
            ("b,c.yaml", NoteKind::Sops),
            ("k/kustomization.yaml", NoteKind::Remote),
        ]);
        let settings = asoguard_core::Settings::default();
        let options = asoguard_core::RunOptions::default();
        let context = Context {
            settings: &settings,
            options: &options,
            colour: false,
            quiet,
            verbose,
            statistics: false,
            show_fixes: false,
        };
        render(&report, &context)
    }

    #[test]
    fn notes_are_one_notice_per_kind() {
        assert_eq!(
            render_with(false, false),
            "::notice title=asoguard note [config]::1 configured cluster matches nothing that is applied\n\
             ::notice title=asoguard note [remote]::1 remote kustomize resource was not fetched: k/kustomization.yaml\n\
             ::notice title=asoguard note [sops]::2 SOPS-encrypted files were skipped: a.yaml, b,c.yaml\n"
        );
    }

    #[test]
    fn verbose_notes_are_one_notice_per_file_and_quiet_none() {
        assert_eq!(
            render_with(true, false),
            "::notice title=asoguard note [config]::cluster `dr` matches nothing\n\
             ::notice file=k/kustomization.yaml,title=asoguard note [remote]::remote note\n\
             ::notice file=a.yaml,title=asoguard note [sops]::sops note\n\
             ::notice file=b%2Cc.yaml,title=asoguard note [sops]::sops note\n"
        );
        assert_eq!(render_with(true, true), "");
    }
}
