//! Byte spans, and the line index that turns them into 1-based lines and code-point columns.

use std::path::PathBuf;

/// A half-open byte range `start..end` into one file's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// First byte of the range.
    pub start: usize,
    /// One past the last byte of the range.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`; an inverted pair is normalised to an empty span at `start`.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// An empty span at `at`, used for insertions.
    pub fn empty(at: usize) -> Self {
        Span { start: at, end: at }
    }

    /// The number of bytes covered.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no byte.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The smallest span covering both.
    pub fn cover(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Whether two spans overlap or touch (an insertion at the edge of an edit counts).
    pub fn touches(&self, other: &Span) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// A 1-based line and 1-based column counted in Unicode code points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in Unicode code points.
    pub column: usize,
}

/// Start offsets of every line, so a position is found by binary search, never by a scan.
/// Shared, not copied, when cloned: a file's checker and the cross-file index use the same one.
#[derive(Clone, Debug, Default)]
pub struct LineIndex {
    /// A vector behind the `Arc` (not a slice): moving a vector in costs no copy.
    line_starts: std::sync::Arc<Vec<usize>>,
}

impl LineIndex {
    /// Index the lines of `text`. Lines end at `\n`; a `\r` before it stays part of the line.
    pub fn new(text: &str) -> Self {
        if text.is_empty() {
            return LineIndex::empty();
        }
        // Counted first, so the index takes exactly its size (a run holds one per file).
        let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
        let mut line_starts = Vec::with_capacity(lines + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex {
            line_starts: std::sync::Arc::new(line_starts),
        }
    }

    /// The index of an empty text, one for the whole process: a run gives it to every file
    /// whose text it does not keep (most files), so they cost no allocation.
    pub fn empty() -> Self {
        static EMPTY: std::sync::LazyLock<LineIndex> = std::sync::LazyLock::new(|| LineIndex {
            line_starts: std::sync::Arc::new(vec![0]),
        });
        EMPTY.clone()
    }

    /// The 0-based line that holds byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// The byte offset where 0-based `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).copied().unwrap_or(usize::MAX)
    }

    /// The number of lines (a final line without `\n` counts).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The 1-based line and code-point column of byte `offset` in `text`. A byte-order mark is
    /// not a column: editors and SARIF viewers do not show it.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let mut start = self.line_start(line);
        if line == 0 && text.starts_with('\u{feff}') {
            start = offset.min(3);
        }
        let column = text[start..offset].chars().count() + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }
}

/// The greatest char boundary at or before `offset`.
pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Which line ending a file uses, so inserted lines match their neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnding {
    /// `\n`
    Lf,
    /// `\r\n`
    CrLf,
}

impl LineEnding {
    /// The ending of the first line of `text` (LF when there is none).
    pub fn detect(text: &str) -> Self {
        match text.find('\n') {
            Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => LineEnding::CrLf,
            _ => LineEnding::Lf,
        }
    }

    /// The bytes of this ending.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// One loaded file: its path as the user should see it, its text, and its line index.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as given by the user, joined with the walked relative path.
    pub path: PathBuf,
    /// The whole text, BOM included, exactly as on disk.
    pub text: String,
    /// Line starts of `text`.
    pub lines: LineIndex,
}

impl SourceFile {
    /// A source file over `text`.
    pub fn new(path: PathBuf, text: String) -> Self {
        let lines = LineIndex::new(&text);
        SourceFile { path, text, lines }
    }

    /// The 1-based line and column of byte `offset`.
    pub fn line_col(&self, offset: usize) -> LineCol {
        self.lines.line_col(&self.text, offset)
    }

    /// The text covered by `span` (empty if it is out of range or not on char boundaries).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_code_points_and_is_one_based() {
        let text = "a: 1\nnäme: x\r\nz";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), LineCol { line: 1, column: 1 });
        let x = text.find('x').unwrap();
        assert_eq!(idx.line_col(text, x), LineCol { line: 2, column: 7 });
        let z = text.find('z').unwrap();
        assert_eq!(idx.line_col(text, z), LineCol { line: 3, column: 1 });
        assert_eq!(
            idx.line_col(text, text.len()),
            LineCol { line: 3, column: 2 }
        );
    }

    #[test]
    fn bom_is_not_a_column() {
        let text = "\u{feff}a: 1\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 3), LineCol { line: 1, column: 1 });
        assert_eq!(idx.line_col(text, 6), LineCol { line: 1, column: 4 });
        assert_eq!(idx.line_col(text, 0), LineCol { line: 1, column: 1 });
    }

    #[test]
    fn detects_crlf() {
        assert_eq!(LineEnding::detect("a\r\nb"), LineEnding::CrLf);
        assert_eq!(LineEnding::detect("a\nb\r\n"), LineEnding::Lf);
        assert_eq!(LineEnding::detect("a"), LineEnding::Lf);
    }
}
