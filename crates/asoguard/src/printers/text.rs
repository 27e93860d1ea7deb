//! `--format text`: miette diagnostics with source snippets, help and fix, then a summary.
//!
//! Snippets are cut from a window of lines found through the file's line index, so a file with
//! thousands of findings is never rescanned from its start per finding.

use std::collections::BTreeMap;
use std::fmt;

use asoguard_core::Severity;
use asoguard_core::engine::{FileReport, RunReport};
use asoguard_core::registry::Rule;
use asoguard_core::span::{LineIndex, SourceFile};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use super::{Context, Counts, display_path, plural};

/// Render every finding (or, with `--statistics`, counts per rule), then the fixes applied
/// (with `--show-fixes`) and the summary line (unless `--quiet`).
pub fn render(report: &RunReport, context: &Context) -> String {
    let mut out = if context.statistics {
        statistics(report, context)
    } else {
        findings(report, context)
    };
    if context.show_fixes {
        out.push_str(&fixes_applied(report));
    }
    if !context.quiet {
        out.push_str(&summary(report, context));
    }
    out
}

fn findings(report: &RunReport, context: &Context) -> String {
    let theme = if context.colour {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_wrap_lines(false)
        .with_context_lines(1);
    let mut out = String::new();
    for (file, d) in super::json::sorted_findings(report) {
        let shown = Shown { file, d };
        if handler.render_report(&mut out, &shown).is_err() {
            out.push_str(&format!(
                "{}: {} {}\n",
                display_path(&file.path),
                d.rule.code(),
                d.message
            ));
        }
        out.push('\n');
    }
    out
}

/// The `--statistics` markers: every, some or none of a rule's findings fixable by the run's
/// `--fix` (with `--unsafe-fixes` when given), as ruff marks fixable rules; the legend under
/// the table explains the markers it uses.
const MARKERS: [(&str, &str); 3] = [
    ("[*]", "fixable with"),
    ("[-]", "some fixable with"),
    ("[ ]", "none fixable with"),
];

/// `--statistics`: one line per rule with findings: count, code, fixability marker, name;
/// then a legend line for each marker used.
fn statistics(report: &RunReport, context: &Context) -> String {
    let unsafe_fixes = context.options.unsafe_fixes;
    let mut counts: BTreeMap<Rule, (usize, usize)> = BTreeMap::new();
    for (_, d) in report.diagnostics() {
        let entry = counts.entry(d.rule).or_default();
        entry.0 += 1;
        let applies = d.fix.as_ref().is_some_and(|fix| {
            unsafe_fixes || fix.applicability == asoguard_core::fix::Applicability::Safe
        });
        if applies {
            entry.1 += 1;
        }
    }
    let mut out = String::new();
    let mut used = [false; MARKERS.len()];
    for (rule, (count, fixable)) in counts {
        let which = if fixable == count {
            0
        } else if fixable > 0 {
            1
        } else {
            2
        };
        used[which] = true;
        out.push_str(&format!(
            "{count:>6}  {:<7} {} {}\n",
            rule.code(),
            MARKERS[which].0,
            rule.name()
        ));
    }
    let fix = if unsafe_fixes {
        "`--fix --unsafe-fixes`"
    } else {
        "`--fix`"
    };
    for ((marker, meaning), _) in MARKERS.iter().zip(used).filter(|(_, used)| *used) {
        out.push_str(&format!("{marker} {meaning} {fix}\n"));
    }
    out
}

/// `--show-fixes`: the fixes applied, per file and rule.
fn fixes_applied(report: &RunReport) -> String {
    let mut out = String::new();
    for file in report.files.iter().filter(|f| !f.applied.is_empty()) {
        out.push_str(&format!("Fixed in {}:\n", display_path(&file.path)));
        let mut per_rule: BTreeMap<Rule, (usize, &str)> = BTreeMap::new();
        for (rule, title) in &file.applied {
            per_rule.entry(*rule).or_insert((0, title)).0 += 1;
        }
        for (rule, (count, title)) in per_rule {
            out.push_str(&format!(
                "  {count:>4} × {} [{}] {title}\n",
                rule.code(),
                rule.name()
            ));
        }
    }
    out
}

/// The closing line: what was fixed, what is left, what could not be checked.
pub fn summary(report: &RunReport, context: &Context) -> String {
    let counts = Counts::of(report);
    let mut out = schema_summary(report);
    let fixed = report.fixed();
    if fixed > 0 {
        out.push_str(&format!("Fixed {}.\n", plural(fixed, "finding")));
    }
    let unchecked = report.problems.len();
    if counts.findings == 0 && unchecked > 0 {
        out.push_str(&format!(
            "No findings in {}, but {} could not be checked (see the errors above).\n",
            plural(report.files_checked, "file"),
            plural(unchecked, "path")
        ));
        return out;
    }
    let unchecked = report.problems.len();
    if counts.findings == 0 && unchecked > 0 {
        out.push_str(&format!(
            "No findings in {}, but {} could not be checked (see the errors above).\n",
            plural(report.files_checked, "file"),
            plural(unchecked, "path")
        ));
        return out;
    }
    if counts.findings == 0 {
        out.push_str(&format!(
            "All checks passed ({}, {}).\n",
            plural(report.files_checked, "file"),
            plural(report.documents, "document")
        ));
        return out;
    }
    let mut fixable = format!("{} fixable with --fix", counts.safe_fixable);
    if counts.unsafe_fixable > 0 && !context.options.unsafe_fixes {
        fixable.push_str(&format!(
            ", {} more with --fix --unsafe-fixes",
            counts.unsafe_fixable
        ));
    }
    out.push_str(&format!(
        "{} ({fixable}) in {}.\n",
        plural(counts.findings, "finding"),
        plural(report.files_checked, "file")
    ));
    out
}

/// With CRDs given: how many resources were checked against them, and how many were not.
fn schema_summary(report: &RunReport) -> String {
    let Some(schema) = report.schema else {
        return String::new();
    };
    let mut line = format!(
        "Schema-checked {} against CRDs",
        plural(schema.checked, "resource")
    );
    if schema.unchecked > 0 {
        line.push_str(&format!(
            "; {} not schema-checked (no CRD given for {} kind)",
            plural(schema.unchecked, "ASO resource"),
            asoguard_core::wording::agree(schema.unchecked, "its", "their")
        ));
    }
    line.push_str(".\n");
    line
}

/// One finding as miette sees it.
struct Shown<'r> {
    file: &'r FileReport,
    d: &'r asoguard_core::Diagnostic,
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.file.source.text.is_empty() {
            write!(f, "{}: ", display_path(&self.file.path))?;
        }
        write!(f, "{}", self.d.message)
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!(
            "{} [{}]",
            self.d.rule.code(),
            self.d.rule.name()
        )))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let mut help = self.d.help.clone().unwrap_or_default();
        if let Some(fix) = &self.d.fix {
            if !help.is_empty() {
                help.push('\n');
            }
            help.push_str(&format!(
                "fix ({}): {}",
                fix.applicability.as_str(),
                fix.title
            ));
        }
        (!help.is_empty()).then(|| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        (!self.file.source.text.is_empty()).then_some(self as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.file.source.text.is_empty() {
            return None;
        }
        let span = self.d.span;
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(
                None,
                SourceSpan::new(span.start.into(), span.len()),
            ),
        )))
    }
}

impl SourceCode for Shown<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        read_window(
            &self.file.source,
            &display_path(&self.file.path),
            span,
            before,
            after,
        )
    }
}

/// The lines around `span`, found through the line index.
fn read_window<'a>(
    source: &'a SourceFile,
    name: &str,
    span: &SourceSpan,
    before: usize,
    after: usize,
) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
    let text = source.text.as_str();
    let lines: &LineIndex = &source.lines;
    let start = span.offset().min(text.len());
    let end = (span.offset() + span.len()).min(text.len());
    let first_line = lines.line_of(start).saturating_sub(before);
    let last_line = lines.line_of(end) + after;
    let window_start = lines.line_start(first_line);
    let window_end = lines.line_start(last_line + 1).min(text.len());
    let window = text
        .get(window_start..window_end)
        .ok_or(MietteError::OutOfBounds)?;
    let shifted = SourceSpan::new((start - window_start).into(), end - start);
    let inner = window.read_span(&shifted, before, after)?;
    let data: &'a [u8] = inner.data();
    let inner_span = *inner.span();
    Ok(Box::new(MietteSpanContents::new_named(
        name.to_string(),
        data,
        SourceSpan::new(
            (window_start + inner_span.offset()).into(),
            inner_span.len(),
        ),
        first_line + inner.line(),
        inner.column(),
        inner.line_count(),
    )))
}
