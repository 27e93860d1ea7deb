//! Notes (what a run did not check) as line-oriented output: one line per kind by default,
//! one per note with `--verbose`, none with `--quiet`. The JSON and SARIF reports carry every
//! note whatever the flags (see `json.rs`, `sarif.rs`).

use std::path::Path;

use asoguard_core::engine::RunReport;
use asoguard_core::note::{Note, NoteKind};

use super::display_path;

/// One kind's notes, with the file each is about (`None`: the run).
pub type Group<'r> = (NoteKind, Vec<(Option<&'r Path>, &'r Note)>);

/// The run's notes grouped by kind, in [`NoteKind::ALL`]'s order, kinds without notes left
/// out; within a kind, in the report's order (run notes first, then files by path).
pub fn by_kind(report: &RunReport) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = NoteKind::ALL.iter().map(|k| (*k, Vec::new())).collect();
    for (path, note) in report.all_notes() {
        if let Some((_, list)) = groups.iter_mut().find(|(k, _)| *k == note.kind) {
            list.push((path, note));
        }
    }
    groups.retain(|(_, list)| !list.is_empty());
    groups
}

/// A note on one line: `path: message`, or the message alone for a note about the run.
pub fn one_line(path: Option<&Path>, note: &Note) -> String {
    match path {
        Some(path) => format!("{}: {}", display_path(path), note.message),
        None => note.message.clone(),
    }
}

/// The `note:` lines for standard error: nothing when `quiet`, every note with its file when
/// `verbose`, else one summary line per kind; configuration that does nothing and failed fixes
/// are always listed, as warnings.
pub fn stderr_lines(report: &RunReport, verbose: bool, quiet: bool) -> String {
    let mut out = String::new();
    if quiet {
        return out;
    }
    for (kind, notes) in by_kind(report) {
        // Configuration that does nothing, and fixes that failed, are each worth a line of
        // their own: there are few, and each asks the user to act.
        if matches!(kind, NoteKind::Config | NoteKind::Fix) {
            for (path, note) in notes {
                out.push_str(&format!("warning: {}\n", one_line(path, note)));
            }
            continue;
        }
        if verbose {
            for (path, note) in notes {
                out.push_str(&format!("note: {}\n", one_line(path, note)));
            }
        } else {
            let them = if notes.len() == 1 { "it" } else { "them" };
            out.push_str(&format!(
                "note: {} (--verbose lists {them})\n",
                kind.summary(notes.len())
            ));
        }
    }
    out
}

/// Up to `shown` paths of a kind's notes, then how many more: `a.yaml, b.yaml and 3 more`.
pub fn some_paths(notes: &[(Option<&Path>, &Note)], shown: usize) -> String {
    let mut paths: Vec<String> = Vec::new();
    for (path, _) in notes {
        if let Some(path) = path {
            let path = display_path(path);
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
    }
    let more = paths.len().saturating_sub(shown);
    paths.truncate(shown);
    let mut out = paths.join(", ");
    if more > 0 {
        out.push_str(&format!(" and {more} more"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::test_report as report;

    #[test]
    fn one_line_per_kind_unless_verbose_none_when_quiet() {
        let report = report(&[
            ("a.yaml", NoteKind::Sops),
            ("b.yaml", NoteKind::Sops),
            ("b.yaml", NoteKind::Remote),
            ("c.yaml", NoteKind::Sops),
        ]);
        assert_eq!(
            stderr_lines(&report, false, false),
            "warning: cluster `dr` matches nothing\n\
             note: 1 remote kustomize resource was not fetched (--verbose lists it)\n\
             note: 3 SOPS-encrypted files were skipped (--verbose lists them)\n"
        );
        assert_eq!(
            stderr_lines(&report, true, false),
            "warning: cluster `dr` matches nothing\n\
             note: b.yaml: remote note\n\
             note: a.yaml: sops note\n\
             note: b.yaml: sops note\n\
             note: c.yaml: sops note\n"
        );
        assert_eq!(stderr_lines(&report, true, true), "");
        assert_eq!(stderr_lines(&RunReport::default(), false, false), "");
    }

    #[test]
    fn some_paths_counts_the_rest() {
        let report = report(&[
            ("a.yaml", NoteKind::Sops),
            ("b.yaml", NoteKind::Sops),
            ("c.yaml", NoteKind::Sops),
        ]);
        let groups = by_kind(&report);
        let (_, sops) = groups
            .iter()
            .find(|(k, _)| *k == NoteKind::Sops)
            .expect("sops notes");
        assert_eq!(some_paths(sops, 2), "a.yaml, b.yaml and 1 more");
        assert_eq!(some_paths(sops, 5), "a.yaml, b.yaml, c.yaml");
    }
}
