//! Fixes as byte-range edits, and applying a set of them without overlap.

use crate::span::Span;

/// Replace the bytes of `span` with `content` (an empty span inserts, empty content deletes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The bytes replaced.
    pub span: Span,
    /// What replaces them.
    pub content: String,
}

impl Edit {
    /// Replace `span` with `content`.
    pub fn replace(span: Span, content: impl Into<String>) -> Self {
        Edit {
            span,
            content: content.into(),
        }
    }

    /// Delete `span`.
    pub fn delete(span: Span) -> Self {
        Edit::replace(span, "")
    }

    /// Insert `content` at `at`.
    pub fn insert(at: usize, content: impl Into<String>) -> Self {
        Edit::replace(Span::empty(at), content)
    }
}

/// Whether `--fix` applies a fix on its own, or only with `--unsafe-fixes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Applicability {
    /// Keeps the intent of the manifest: applied by `--fix`.
    Safe,
    /// May change what the user meant: applied only with `--unsafe-fixes`.
    Unsafe,
}

impl Applicability {
    /// `safe` or `unsafe`.
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

/// A titled set of edits that resolves one finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, in a few words.
    pub title: String,
    /// Non-overlapping edits on the file's text.
    pub edits: Vec<Edit>,
    /// Whether `--fix` applies it on its own.
    pub applicability: Applicability,
}

impl Fix {
    /// A safe fix.
    pub fn safe(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Fix {
            title: title.into(),
            edits,
            applicability: Applicability::Safe,
        }
    }

    /// An unsafe fix.
    pub fn unsafe_(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Fix {
            title: title.into(),
            edits,
            applicability: Applicability::Unsafe,
        }
    }

    /// The smallest span covering all edits.
    pub fn span(&self) -> Span {
        self.edits
            .iter()
            .map(|e| e.span)
            .reduce(Span::cover)
            .unwrap_or_default()
    }
}

/// Apply edits to `text`. `None` if two edits overlap or one falls outside the text or inside
/// a character.
pub fn apply_edits(text: &str, edits: &[Edit]) -> Option<String> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut cursor = 0;
    for edit in sorted {
        if edit.span.start < cursor
            || edit.span.end > text.len()
            || !text.is_char_boundary(edit.span.start)
            || !text.is_char_boundary(edit.span.end)
        {
            return None;
        }
        out.push_str(&text[cursor..edit.span.start]);
        out.push_str(&edit.content);
        cursor = edit.span.end;
    }
    out.push_str(&text[cursor..]);
    Some(out)
}

/// Apply as many of `fixes` as can go together: in order of position, skipping any fix whose
/// edits overlap or touch those of a fix already taken (the next round picks it up). Returns
/// the new text and the indices (into `fixes`) of the fixes applied.
pub fn apply_fixes(text: &str, fixes: &[&Fix]) -> (String, Vec<usize>) {
    let mut order: Vec<usize> = (0..fixes.len()).collect();
    order.sort_by_key(|&i| (fixes[i].span().start, fixes[i].span().end));
    let mut taken: Vec<&Edit> = Vec::new();
    let mut applied = Vec::new();
    for i in order {
        let fix = fixes[i];
        let clashes = fix
            .edits
            .iter()
            .any(|e| taken.iter().any(|t| t.span.touches(&e.span)));
        if clashes || fix.edits.is_empty() {
            continue;
        }
        taken.extend(fix.edits.iter());
        applied.push(i);
    }
    let edits: Vec<Edit> = taken.into_iter().cloned().collect();
    match apply_edits(text, &edits) {
        Some(out) => (out, applied),
        None => (text.to_string(), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_order_and_rejects_overlap() {
        let text = "abcdef";
        let edits = [Edit::delete(Span::new(4, 5)), Edit::insert(0, "X")];
        assert_eq!(apply_edits(text, &edits).unwrap(), "Xabcdf");
        let overlap = [Edit::delete(Span::new(0, 3)), Edit::delete(Span::new(2, 4))];
        assert_eq!(apply_edits(text, &overlap), None);
        assert_eq!(apply_edits(text, &[Edit::delete(Span::new(5, 9))]), None);
    }

    #[test]
    fn skips_touching_fixes() {
        let a = Fix::safe("a", vec![Edit::replace(Span::new(0, 2), "X")]);
        let b = Fix::safe("b", vec![Edit::replace(Span::new(2, 3), "Y")]);
        let c = Fix::safe("c", vec![Edit::replace(Span::new(4, 5), "Z")]);
        let (out, applied) = apply_fixes("abcdef", &[&a, &b, &c]);
        assert_eq!((out.as_str(), applied), ("XcdZf", vec![0, 2]));
    }
}
