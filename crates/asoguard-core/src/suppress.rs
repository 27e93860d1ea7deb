//! Inline suppressions: `# asoguard: ignore[...]` comments and the `asoguard.io/ignore`
//! annotation; findings they cover are kept aside, and suppressions that cover nothing are
//! findings themselves (ASO100), as are those naming unknown rules (ASO101).

use crate::diagnostic::{Diagnostic, Suppression, SuppressionKind};
use crate::fix::{Edit, Fix};
use crate::manifest::Manifest;
use crate::registry::Rule;
use crate::span::{SourceFile, Span};
use crate::yaml::{Comment, Stream, edit};

/// The annotation that suppresses findings on its object (kube-linter's way).
pub const IGNORE_ANNOTATION: &str = "asoguard.io/ignore";

/// Where a suppression applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// Findings that start on this 0-based line.
    Line(usize),
    /// Findings within this object's document.
    Object(Span),
    /// Every finding in the file.
    File,
    /// Nowhere: an own-line comment that is not directly above an object's first line.
    Nowhere,
}

/// One rule named in a suppression.
#[derive(Clone, Debug)]
struct Named {
    text: String,
    rule: Option<Rule>,
    used: bool,
}

/// One suppression found in a file.
#[derive(Clone, Debug)]
struct Directive {
    kind: SuppressionKind,
    scope: Scope,
    /// The comment, or the annotation's value.
    span: Span,
    /// `None` suppresses every rule.
    rules: Option<Vec<Named>>,
    /// The text after `--`.
    reason: Option<String>,
    used: bool,
    /// For comment edits: the bytes between `[` and `]`. For annotations: the object's root
    /// span and whether the whole annotation can go.
    list_span: Option<Span>,
    object_root: Option<Span>,
}

/// Rules that suppressions never silence, so a suppression cannot hide its own problems.
fn suppressible(rule: Rule) -> bool {
    !matches!(rule, Rule::UnusedSuppression | Rule::InvalidSuppression)
}

/// The suppressions of one file, gathered from its parse and applied once all its findings
/// are known (some come from the index, after the tree is gone).
#[derive(Clone, Debug, Default)]
pub struct Directives(Vec<Directive>);

impl Directives {
    /// Whether the file has no suppression.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The suppression comments and annotations of a parsed file.
    pub fn of(source: &SourceFile, stream: &Stream) -> Self {
        let mut directives = comment_directives(source, stream);
        directives.extend(annotation_directives(stream));
        Directives(directives)
    }
}

/// Split `diagnostics` into those left and those suppressed, and add ASO100/ASO101 findings.
/// `enabled` tells whether a rule runs: a suppression of a rule turned off is not "unused".
pub fn apply(
    source: &SourceFile,
    directives: Directives,
    diagnostics: Vec<Diagnostic>,
    enabled: impl Fn(Rule) -> bool,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let Directives(mut directives) = directives;
    if directives.is_empty() {
        return (diagnostics, Vec::new());
    }
    let mut live = Vec::new();
    let mut suppressed = Vec::new();
    for mut d in diagnostics {
        let line = source.lines.line_of(d.span.start);
        let hit = suppressible(d.rule)
            .then(|| {
                directives.iter_mut().find_map(|directive| {
                    let in_scope = match directive.scope {
                        Scope::Line(l) => l == line,
                        Scope::Object(span) => {
                            span.start <= d.span.start && d.span.start <= span.end
                        }
                        Scope::File => true,
                        Scope::Nowhere => false,
                    };
                    if !in_scope {
                        return None;
                    }
                    let named = match &mut directive.rules {
                        None => true,
                        Some(rules) => match rules.iter_mut().find(|n| n.rule == Some(d.rule)) {
                            Some(n) => {
                                n.used = true;
                                true
                            }
                            None => false,
                        },
                    };
                    named.then(|| {
                        directive.used = true;
                        Suppression {
                            kind: directive.kind,
                            justification: directive.reason.clone(),
                        }
                    })
                })
            })
            .flatten();
        match hit {
            Some(suppression) => {
                d.suppression = Some(suppression);
                suppressed.push(d);
            }
            None => live.push(d),
        }
    }
    for directive in &directives {
        report_directive(source, directive, &enabled, &mut live);
    }
    (live, suppressed)
}

fn report_directive(
    source: &SourceFile,
    directive: &Directive,
    enabled: &impl Fn(Rule) -> bool,
    out: &mut Vec<Diagnostic>,
) {
    let what = match directive.kind {
        SuppressionKind::Comment => "suppression comment",
        SuppressionKind::Annotation => "`asoguard.io/ignore` annotation",
    };
    if let Some(rules) = &directive.rules {
        for named in rules.iter().filter(|n| n.rule.is_none()) {
            let hint = Rule::suggest(&named.text).map_or_else(
                || "`asoguard rules` lists every rule".to_string(),
                |r| format!("did you mean `{}` ({})?", r.code(), r.name()),
            );
            out.push(
                Diagnostic::new(
                    Rule::InvalidSuppression,
                    directive.span,
                    format!("{what} names unknown rule `{}`", named.text),
                )
                .with_help(hint),
            );
        }
    }
    let unused: Vec<&Named> = match &directive.rules {
        None if !directive.used => Vec::new(),
        None => return,
        Some(rules) => rules
            .iter()
            .filter(|n| n.rule.is_some_and(|r| !n.used && enabled(r)))
            .collect(),
    };
    // `ignore[]` names no rule: it can never suppress anything.
    let empty_list = directive.rules.as_ref().is_some_and(Vec::is_empty);
    let all_unused = match &directive.rules {
        None => true,
        Some(_) if empty_list => true,
        Some(rules) => {
            rules.iter().filter(|n| n.rule.is_some()).all(|n| !n.used) && !unused.is_empty()
        }
    };
    if directive.rules.is_some() && unused.is_empty() && !empty_list {
        return;
    }
    let names = unused
        .iter()
        .map(|n| n.text.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let message = match (&directive.rules, directive.scope) {
        (_, Scope::Nowhere) => format!(
            "{what} applies to nothing: put it at the end of the finding's line, directly above the object's first line, or use `ignore-file`"
        ),
        (None, _) => format!("{what} suppresses nothing"),
        (Some(_), _) if empty_list => format!(
            "{what} names no rule, so it suppresses nothing: list the rules, or drop `[]` to ignore every rule"
        ),
        (Some(_), _) => format!("{what} for {names} suppresses nothing"),
    };
    let fix = if all_unused || directive.scope == Scope::Nowhere {
        remove_directive(source, directive)
    } else {
        remove_names(source, directive, &unused)
    };
    out.push(
        Diagnostic::new(Rule::UnusedSuppression, directive.span, message)
            .with_fix(fix.map(|edits| Fix::safe("Remove the unused suppression", edits))),
    );
}

/// Edits that remove a whole suppression.
fn remove_directive(source: &SourceFile, directive: &Directive) -> Option<Vec<Edit>> {
    let text = &source.text;
    match directive.kind {
        SuppressionKind::Comment => {
            let start = edit::line_start(text, directive.span.start);
            if text[start..directive.span.start].trim().is_empty() {
                Some(vec![Edit::delete(Span::new(
                    start,
                    edit::next_line_start(text, directive.span.end),
                ))])
            } else {
                let before = text[..directive.span.start]
                    .trim_end_matches([' ', '\t'])
                    .len();
                Some(vec![Edit::delete(Span::new(before, directive.span.end))])
            }
        }
        SuppressionKind::Annotation => {
            let root_span = directive.object_root?;
            let arena = crate::yaml::Arena::new();
            let stream = crate::yaml::parse(&arena, text);
            let root = stream
                .documents
                .iter()
                .filter_map(|d| d.root.as_ref())
                .find(|r| r.span == root_span)?;
            edit::remove_annotation(text, root, IGNORE_ANNOTATION)
        }
    }
}

/// Edits that drop the unused names from a suppression's list, keeping the rest as written.
fn remove_names(
    source: &SourceFile,
    directive: &Directive,
    unused: &[&Named],
) -> Option<Vec<Edit>> {
    let list = directive.list_span?;
    let raw = source.slice(list);
    let kept: Vec<&str> = raw
        .split(',')
        .filter(|item| !unused.iter().any(|n| n.text == item.trim()))
        .collect();
    let joined = kept.join(",");
    Some(vec![Edit::replace(list, joined.trim().to_string())])
}

/// Parse `asoguard: ignore[...] -- reason` / `asoguard: ignore-file[...]` from comment text
/// (after `#`). Returns (file-wide, names and the byte range of the list within `text`, reason).
#[allow(clippy::type_complexity)]
fn parse_comment(
    text: &str,
) -> Option<(bool, Option<(Vec<String>, (usize, usize))>, Option<String>)> {
    let trimmed_start = text.len() - text.trim_start().len();
    let rest = text[trimmed_start..].strip_prefix("asoguard:")?;
    let offset = text.len() - rest.len();
    let rest_trim = rest.trim_start();
    let offset = offset + (rest.len() - rest_trim.len());
    let (file_wide, after) = if let Some(r) = rest_trim.strip_prefix("ignore-file") {
        (true, r)
    } else if let Some(r) = rest_trim.strip_prefix("ignore") {
        (false, r)
    } else {
        return None;
    };
    let offset = offset + (rest_trim.len() - after.len());
    let (list, tail) = if let Some(inner) = after.strip_prefix('[') {
        let close = inner.find(']')?;
        let names = inner[..close]
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        (
            Some((names, (offset + 1, offset + 1 + close))),
            &inner[close + 1..],
        )
    } else {
        (None, after)
    };
    let tail = tail.trim();
    let reason = if let Some(reason) = tail.strip_prefix("--") {
        Some(reason.trim().to_string()).filter(|r| !r.is_empty())
    } else if tail.is_empty() {
        None
    } else {
        return None;
    };
    Some((file_wide, list, reason))
}

fn named(names: Vec<String>) -> Vec<Named> {
    names
        .into_iter()
        .map(|text| Named {
            rule: Rule::from_code_or_name(&text),
            text,
            used: false,
        })
        .collect()
}

fn comment_directives(source: &SourceFile, stream: &Stream) -> Vec<Directive> {
    let text = &source.text;
    let object_starts: Vec<(usize, Span)> = stream
        .documents
        .iter()
        .filter_map(|d| {
            d.root
                .as_ref()
                .map(|r| (source.lines.line_of(r.span.start), d.span.cover(r.span)))
        })
        .collect();
    stream
        .comments
        .iter()
        .filter_map(|comment: &Comment| {
            let (file_wide, list, reason) = parse_comment(comment.text)?;
            let line = source.lines.line_of(comment.span.start);
            let own_line = text[edit::line_start(text, comment.span.start)..comment.span.start]
                .trim()
                .is_empty();
            let scope = if file_wide {
                Scope::File
            } else if !own_line {
                Scope::Line(line)
            } else {
                object_below(source, &object_starts, line).map_or(Scope::Nowhere, Scope::Object)
            };
            // `#` is one byte before the comment's text.
            let list_span = list.as_ref().map(|(_, (s, e))| {
                Span::new(comment.span.start + 1 + s, comment.span.start + 1 + e)
            });
            Some(Directive {
                kind: SuppressionKind::Comment,
                scope,
                span: comment.span,
                rules: list.map(|(names, _)| named(names)),
                reason,
                used: false,
                list_span,
                object_root: None,
            })
        })
        .collect()
}

/// The object whose first line follows the own-line comment on `line`, across only other
/// own-line comments.
fn object_below(source: &SourceFile, object_starts: &[(usize, Span)], line: usize) -> Option<Span> {
    let (first_line, span) = object_starts.iter().find(|(l, _)| *l > line)?;
    let all_comments = (line + 1..*first_line).all(|l| {
        let start = source.lines.line_start(l);
        let end = source.lines.line_start(l + 1).min(source.text.len());
        source
            .text
            .get(start..end)
            .is_some_and(|t| t.trim_start().starts_with('#'))
    });
    all_comments.then_some(*span)
}

fn annotation_directives(stream: &Stream) -> Vec<Directive> {
    stream
        .documents
        .iter()
        .filter_map(|doc| {
            let root = doc.root.as_ref()?;
            let manifest = Manifest::from_root(root)?;
            let entry = manifest.annotation(IGNORE_ANNOTATION)?;
            let value = entry.value.as_str()?;
            let (list, reason) = match value.split_once("--") {
                Some((list, reason)) => (
                    list,
                    Some(reason.trim().to_string()).filter(|r| !r.is_empty()),
                ),
                None => (value, None),
            };
            let names: Vec<String> = list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            Some(Directive {
                kind: SuppressionKind::Annotation,
                scope: Scope::Object(doc.span.cover(root.span)),
                span: entry.value.span,
                rules: (!names.is_empty()).then(|| named(names)),
                reason,
                used: false,
                list_span: None,
                object_root: Some(root.span),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comment_forms() {
        let (file, list, reason) =
            parse_comment(" asoguard: ignore[ASO001, skip-in-active] -- migrating").unwrap();
        assert!(!file);
        let (names, (s, e)) = list.unwrap();
        assert_eq!(names, ["ASO001", "skip-in-active"]);
        assert_eq!(
            &" asoguard: ignore[ASO001, skip-in-active] -- migrating"[s..e],
            "ASO001, skip-in-active"
        );
        assert_eq!(reason.as_deref(), Some("migrating"));
        let (file, list, reason) = parse_comment(" asoguard: ignore-file[ASO003]").unwrap();
        assert!(file && list.is_some() && reason.is_none());
        let (file, list, _) = parse_comment("asoguard: ignore").unwrap();
        assert!(!file && list.is_none());
        assert!(parse_comment(" just a comment").is_none());
        assert!(parse_comment(" asoguard: ignored things").is_none());
    }

    /// Directives are found in comments and annotations, including an annotation key spelled
    /// with escapes; a text that never names asoguard has none.
    #[test]
    fn finds_directives_however_written() {
        let count = |text: &str| {
            let arena = crate::yaml::Arena::new();
            let stream = crate::yaml::parse(&arena, text);
            let source = SourceFile::new(std::path::PathBuf::from("f.yaml"), text.to_string());
            Directives::of(&source, &stream).0.len()
        };
        let head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
        assert_eq!(count(&format!("# asoguard: ignore-file\n{head}")), 1);
        assert_eq!(
            count(&format!(
                "{head}  annotations:\n    asoguard.io/ignore: ASO003\n"
            )),
            1
        );
        assert_eq!(
            count(&format!(
                "{head}  annotations:\n    \"asogu\\x61rd.io/ignore\": ASO003\n"
            )),
            1
        );
        assert_eq!(count(&format!("# a comment\n{head}")), 0);
    }
}
