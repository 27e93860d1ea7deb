//! Building the tree from granit-parser's events.
//!
//! A module of its own because rustc splits a crate into codegen units by module: granit's
//! generic code, compiled into this crate, is inlined into the builder's loop or not depending
//! on which units are merged, and that decides 3 % of a run's instructions (docs/performance.md).
//! Here, changes to the tree's types and accessors, to the edits or to the rest of the crate
//! leave the loop's layout as it is; a change in the loop itself (a `format!` in its error
//! branch did) may not.

use std::borrow::Cow;

use granit_parser::{ErrorKind, Event, Options, Parser, ScalarStyle, StructureStyle};

use super::{Arena, Comment, Document, Entry, Node, NodeKind, Stream, Style, SyntaxError, edit};
use crate::relevance::Relevance;
use crate::span::Span;

/// Parse `text` into documents, keeping spans and comments, the trees in `arena`. Never
/// panics; a syntax error ends parsing and is returned with the documents completed before it.
pub fn parse<'a>(arena: &'a Arena, text: &'a str) -> Stream<'a> {
    parse_with(arena, text, &Relevance::all())
}

/// [`parse`], building trees only for the documents `relevance` marks relevant: the others are
/// parsed (so syntax errors and every offset are exactly those of [`parse`]) but kept as
/// documents without a root. Should a skipped document reach past its segment (which valid
/// YAML never does), the text is parsed again with every document built. Comments are kept
/// only when the text names asoguard (`relevance.names_asoguard`): they matter only as
/// suppression directives, and the parser reads a text faster without capturing them.
pub fn parse_with<'a>(arena: &'a Arena, text: &'a str, relevance: &Relevance) -> Stream<'a> {
    let comments = relevance.names_asoguard;
    let mut stream = match parse_events(arena, text, 0..text.len(), relevance, comments) {
        Ok(stream) => stream,
        Err(Overflow) => parse_events(arena, text, 0..text.len(), &Relevance::all(), comments)
            .unwrap_or_default(),
    };
    // An error found only at the end of the text (an unterminated quote followed by a line
    // break) is better placed where it starts: the parser finds that spot when the trailing
    // blanks are gone, and every offset before them is the same.
    if let Some(error) = &stream.error {
        let trimmed = text.trim_end();
        if error.offset >= trimmed.len() && trimmed.len() < text.len() {
            if let Some(earlier) = parse_events(
                arena,
                trimmed,
                0..trimmed.len(),
                &Relevance::all(),
                comments,
            )
            .ok()
            .and_then(|s| s.error)
            .filter(|e| e.offset < error.offset)
            {
                stream.error = Some(earlier);
            }
        }
    }
    stream
}

/// Parse again only document `doc` of a text whose documents, from an earlier full parse,
/// span `documents`: the document's own lines are parsed, so a later step that needs one
/// document's tree (to turn a cross-file judgement into edits) does not parse the whole file.
/// Nodes and spans are those of the full parse; `None` when the document cannot be parsed on
/// its own the same way (it relies on a directive before it), and the caller parses it all.
pub fn parse_document<'a>(
    arena: &'a Arena,
    text: &'a str,
    documents: &[Span],
    doc: usize,
) -> Option<Stream<'a>> {
    let span = *documents.get(doc)?;
    // From the start of the document's first line, so every indentation is as written; to the
    // next document's first line, so trailing lines of a kept block scalar stay.
    let start = edit::line_start(text, span.start);
    let end = documents
        .get(doc + 1)
        .map_or(text.len(), |next| edit::line_start(text, next.start))
        .max(span.end);
    let stream = parse_events(arena, text, start..end, &Relevance::all(), true).ok()?;
    let same =
        stream.error.is_none() && stream.documents.len() == 1 && stream.documents[0].span == span;
    same.then_some(stream)
}

/// A skipped document reached past its segment.
struct Overflow;

/// How many comments in a row the parser may hold while it decides where they belong (after a
/// key whose value starts on a later line, say). granit's default, 96, would call a valid file
/// with a commented-out block of a hundred lines invalid; this bounds what a hostile file can
/// make the parser hold at about 5 MB (measured: some 280 bytes per comment).
pub const MAX_BUFFERED_COMMENTS: usize = 1 << 14;

/// The message for a file past [`MAX_BUFFERED_COMMENTS`] (a test checks the number).
const TOO_MANY_COMMENTS: &str = "more than 16384 comments in a row where the parser must hold them (a limit against hostile input)";

/// Parse `text[range]`, every span an offset in `text`; `comments`: whether to capture them.
fn parse_events<'a>(
    arena: &'a Arena,
    text: &'a str,
    range: std::ops::Range<usize>,
    relevance: &Relevance,
    comments: bool,
) -> Result<Stream<'a>, Overflow> {
    let base = range.start;
    let mut builder = Builder {
        arena,
        text,
        stream: Stream::default(),
        open: Vec::new(),
        entries: Vec::new(),
        items: Vec::new(),
        doc_start: 0,
        root: None,
        last_end: base,
        skip_until: None,
    };
    let Some(input) = text.get(range) else {
        return Ok(builder.stream);
    };
    let mut options = Options::default();
    options.set_emit_comments(comments);
    options.max_buffered_comment_events = MAX_BUFFERED_COMMENTS;
    for event in Parser::new_from_str_with_options(input, options) {
        match event {
            Ok((event, span)) => {
                let Some(range) = span.byte_range() else {
                    continue;
                };
                let span = Span::new(base + range.start, base + range.end);
                let end = span.end;
                if let Event::DocumentStart(..) = event {
                    builder.skip_until = (!relevance.is_relevant_at(span.start))
                        .then(|| relevance.segment_end(span.start));
                }
                if let Some(limit) = builder.skip_until {
                    if end > limit {
                        return Err(Overflow);
                    }
                    builder.skip(event, span);
                } else {
                    builder.push(event, span);
                }
                builder.last_end = builder.last_end.max(end);
            }
            Err(error) => {
                let offset = error
                    .marker()
                    .byte_offset()
                    .map_or(text.len(), |offset| base + offset);
                let message = if matches!(error.kind(), ErrorKind::TooManyComments) {
                    TOO_MANY_COMMENTS.to_string()
                } else {
                    error.info()
                };
                builder.stream.error = Some(SyntaxError {
                    offset: offset.min(text.len()),
                    message,
                });
                break;
            }
        }
    }
    Ok(builder.stream)
}

/// An open collection while its children are being read. Its children so far are the tail of
/// the builder's shared `entries` or `items`, from `first` on, so an open collection allocates
/// nothing; a closed one copies them into the arena at their exact length.
enum Open<'a> {
    Mapping {
        start: Span,
        flow: bool,
        first: usize,
        pending_key: Option<Node<'a>>,
    },
    Sequence {
        start: Span,
        flow: bool,
        first: usize,
    },
}

struct Builder<'a> {
    arena: &'a Arena,
    text: &'a str,
    stream: Stream<'a>,
    open: Vec<Open<'a>>,
    /// The entries of every open mapping, innermost last.
    entries: Vec<Entry<'a>>,
    /// The items of every open sequence, innermost last.
    items: Vec<Node<'a>>,
    doc_start: usize,
    root: Option<Node<'a>>,
    /// The end of the previous event: a block scalar's indicator lies between it and the
    /// scalar's content.
    last_end: usize,
    /// While the current document is skipped (irrelevant): the end of its segment.
    skip_until: Option<usize>,
}

impl<'a> Builder<'a> {
    /// A string of the text as it is, or a decoded one moved into the arena.
    fn keep(&self, value: Cow<'a, str>) -> &'a str {
        match value {
            Cow::Borrowed(value) => value,
            Cow::Owned(value) => self.arena.alloc_str(&value),
        }
    }

    /// An event of a skipped document: only the document itself and comments are kept.
    fn skip(&mut self, event: Event<'a>, span: Span) {
        match event {
            Event::DocumentStart(..) => self.doc_start = span.start,
            Event::DocumentEnd => {
                self.stream.documents.push(Document {
                    span: Span::new(self.doc_start, span.end.max(self.last_end)),
                    root: None,
                });
                self.skip_until = None;
            }
            Event::Comment(text, _) => {
                let text = self.keep(text);
                self.stream.comments.push(Comment { span, text });
            }
            _ => {}
        }
    }

    fn push(&mut self, event: Event<'a>, span: Span) {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Anchor(..) => {}
            Event::DocumentStart(..) => {
                self.doc_start = span.start;
                self.root = None;
            }
            Event::DocumentEnd => {
                let root = self.root.take();
                let end = root.as_ref().map_or(span.end, |r| r.span.end.max(span.end));
                self.stream.documents.push(Document {
                    span: Span::new(self.doc_start, end),
                    root,
                });
            }
            Event::Comment(text, _) => {
                let text = self.keep(text);
                self.stream.comments.push(Comment { span, text });
            }
            Event::Alias(_) | Event::UnresolvedAlias(_) => self.node(Node {
                span,
                kind: NodeKind::Alias,
            }),
            Event::Scalar(value, style, _, _) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    _ => Style::Block,
                };
                let span = if style == Style::Block {
                    self.block_scalar_span(span)
                } else {
                    span
                };
                let value = self.keep(value);
                self.node(Node {
                    span,
                    kind: NodeKind::Scalar { value, style },
                })
            }
            Event::MappingStart(style, _, _) => self.open.push(Open::Mapping {
                start: span,
                flow: style == StructureStyle::Flow,
                first: self.entries.len(),
                pending_key: None,
            }),
            Event::SequenceStart(style, _, _) => self.open.push(Open::Sequence {
                start: span,
                flow: style == StructureStyle::Flow,
                first: self.items.len(),
            }),
            Event::MappingEnd | Event::SequenceEnd => {
                let Some(open) = self.open.pop() else {
                    return;
                };
                let node = match open {
                    Open::Mapping {
                        start, flow, first, ..
                    } => {
                        let entries = self.arena.alloc_slice_copy(&self.entries[first..]);
                        self.entries.truncate(first);
                        let last = entries.last().map(|e| e.value.span.end);
                        Node {
                            span: collection_span(start, span, flow, last),
                            kind: NodeKind::Mapping { entries, flow },
                        }
                    }
                    Open::Sequence { start, flow, first } => {
                        let items = self.arena.alloc_slice_copy(&self.items[first..]);
                        self.items.truncate(first);
                        let last = items.last().map(|i| i.span.end);
                        Node {
                            span: collection_span(start, span, flow, last),
                            kind: NodeKind::Sequence { items, flow },
                        }
                    }
                };
                self.node(node);
            }
            // `Event` is non-exhaustive: events a later parser adds carry no node of ours.
            _ => {}
        }
    }

    /// The parser reports a block scalar (`|`, `>`) from its first content byte to the next
    /// line's indentation. Ours runs from the indicator to the end of the last content line,
    /// so the scalar's line is its key's line and edits never reach into the next entry.
    fn block_scalar_span(&self, content: Span) -> Span {
        let text = self.text;
        let search = text
            .get(self.last_end.min(content.start)..content.start)
            .unwrap_or("");
        let Some(found) = search.find(['|', '>']) else {
            return content;
        };
        let start = self.last_end.min(content.start) + found;
        let header_end = start
            + 1
            + text[start + 1..]
                .bytes()
                .take_while(|b| b.is_ascii_digit() || *b == b'-' || *b == b'+')
                .count();
        let body = text.get(content.start..content.end).unwrap_or("");
        let kept = body.trim_end_matches([' ', '\t', '\r', '\n']).len();
        let end = if kept == 0 {
            header_end
        } else {
            content.start + kept
        };
        Span::new(start, end.max(header_end))
    }

    fn node(&mut self, node: Node<'a>) {
        match self.open.last_mut() {
            None => self.root = Some(node),
            Some(Open::Sequence { .. }) => self.items.push(node),
            Some(Open::Mapping { pending_key, .. }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => self.entries.push(Entry { key, value: node }),
            },
        }
    }
}

fn collection_span(start: Span, end: Span, flow: bool, last_child_end: Option<usize>) -> Span {
    if flow {
        Span::new(start.start, end.end)
    } else {
        Span::new(start.start, last_child_end.unwrap_or(start.end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_block_and_flow_with_spans() {
        let text = "metadata:\n  name: x # c\n  annotations: {a: \"b\"}\nitems:\n- 1\n- [2, 3]\n";
        let arena = Arena::new();
        let stream = parse(&arena, text);
        assert!(stream.error.is_none());
        let root = stream.documents[0].root.as_ref().unwrap();
        let meta = root.get("metadata").unwrap();
        assert!(!meta.is_flow());
        assert_eq!(
            &text[meta.span.start..meta.span.end],
            "name: x # c\n  annotations: {a: \"b\"}"
        );
        let ann = meta.get("annotations").unwrap();
        assert!(ann.is_flow());
        assert_eq!(&text[ann.span.start..ann.span.end], "{a: \"b\"}");
        let b = ann.get("a").unwrap();
        assert_eq!(b.as_str(), Some("b"));
        assert_eq!(b.style(), Some(Style::DoubleQuoted));
        assert_eq!(&text[b.span.start..b.span.end], "\"b\"");
        assert_eq!(root.get("items").unwrap().items().unwrap().len(), 2);
        assert_eq!(stream.comments.len(), 1);
        assert_eq!(stream.comments[0].text, " c");
    }

    #[test]
    fn multi_document_and_errors() {
        let arena = Arena::new();
        let stream = parse(&arena, "a: 1\n---\nb: 2\n---\nc: [\n");
        assert_eq!(stream.documents.len(), 2);
        let error = stream.error.unwrap();
        assert!(error.offset > 0);
    }

    #[test]
    fn alias_is_not_expanded() {
        let arena = Arena::new();
        let stream = parse(&arena, "a: &x [1, 2]\nb: *x\n");
        let root = stream.documents[0].root.as_ref().unwrap();
        assert!(matches!(root.get("b").unwrap().kind, NodeKind::Alias));
    }

    #[test]
    fn block_scalar_spans_from_indicator_to_text_end() {
        let text = "m:\n  a: |-\n    skip\n  b: x\n  c: >\n\n  d: 1\n";
        let arena = Arena::new();
        let stream = parse(&arena, text);
        let m = stream.documents[0].root.as_ref().unwrap().get("m").unwrap();
        let a = m.get("a").unwrap();
        assert_eq!(&text[a.span.start..a.span.end], "|-\n    skip");
        assert_eq!(a.as_str(), Some("skip"));
        let c = m.get("c").unwrap();
        assert_eq!(&text[c.span.start..c.span.end], ">");
    }

    #[test]
    fn a_document_parses_alone_with_the_same_spans() {
        let text =
            "\u{feff}# head\na: 1\n---\n  b: |+\n    keep\n\n\n--- [1,\n  2]\n...\nd: {e: f}\n";
        let arena = Arena::new();
        let full = parse(&arena, text);
        let spans: Vec<Span> = full.documents.iter().map(|d| d.span).collect();
        assert_eq!(spans.len(), 4);
        for (doc, document) in full.documents.iter().enumerate() {
            let alone = parse_document(&arena, text, &spans, doc).expect("parses alone");
            assert_eq!(format!("{:?}", alone.documents[0]), format!("{document:?}"));
        }
        // A tag handle declared before the document is not known to it alone.
        let text = "%TAG !e! tag:example.com,2000:\n--- !e!x\na: 1\n";
        let arena = Arena::new();
        let full = parse(&arena, text);
        assert!(full.error.is_none());
        let spans: Vec<Span> = full.documents.iter().map(|d| d.span).collect();
        if let Some(alone) = parse_document(&arena, text, &spans, 0) {
            assert_eq!(
                format!("{:?}", alone.documents[0]),
                format!("{:?}", full.documents[0])
            );
        }
    }

    /// Trees and errors as `parse_events` gives them, with or without comments captured.
    fn parsed_both_ways(text: &str) -> [String; 2] {
        let arena = Arena::new();
        [true, false].map(|comments| {
            let stream = parse_events(&arena, text, 0..text.len(), &Relevance::all(), comments)
                .unwrap_or_default();
            format!("{:?} {:?}", stream.documents, stream.error)
        })
    }

    #[test]
    fn comments_captured_or_not_give_the_same_trees() {
        let texts = [
            "# head\na: 1 # one\n# between\nb:\n  # before the value\n  c: 2\n# tail\n",
            "k: | # a note after the indicator\n  text\nj: >- # note\n  folded\n",
            "k: # note, then a block scalar\n  |\n  text\n",
            "a: 1\n# end of the first\n---\n# start of the second\nb: [1, # in flow\n  2]\n",
            "- a # item\n# between items\n- {b: c} # flow\n...\n# after the end\n",
            "a: 'quoted # not a comment' # comment\nb: \"x#y\"\nc: d#e\n",
            "a: [1,\n# broken\n",
            "\u{feff}# bom\r\na: 1 # crlf\r\n",
        ];
        for text in texts {
            let [with, without] = parsed_both_ways(text);
            assert_eq!(with, without, "{text:?}");
        }
        // Every fixture of the repository and every ASO sample, too.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut checked = 0;
        let trees = [
            root.join("fixtures"),
            root.join("../shared/corpus/aso-samples"),
        ];
        for entry in trees.iter().flat_map(walkdir::WalkDir::new) {
            let entry = entry.unwrap();
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            if entry
                .path()
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml")
            {
                let [with, without] = parsed_both_ways(&text);
                assert_eq!(with, without, "{}", entry.path().display());
                checked += 1;
            }
        }
        assert!(checked > 1000, "only {checked} files found");
    }

    #[test]
    fn a_long_commented_out_block_is_valid() {
        // granit's default holds at most 96 comments while it looks for the next key.
        let mut text = String::from("spec:\n");
        for i in 0..500 {
            text.push_str(&format!("  # old: {i}\n"));
        }
        text.push_str("  location: westeurope\n");
        let arena = Arena::new();
        let stream = parse(&arena, &text);
        assert_eq!(stream.error, None);
        assert_eq!(stream.comments.len(), 500);
        let spec = stream.documents[0].root.unwrap().get("spec").unwrap();
        assert_eq!(spec.get_str("location"), Some("westeurope"));
        let [with, without] = parsed_both_ways(&text);
        assert_eq!(with, without);
        // The message past the limit (a literal: formatting it in the event loop changed how the
        // compiler laid the loop out) names the limit.
        assert!(TOO_MANY_COMMENTS.contains(&format!("more than {MAX_BUFFERED_COMMENTS} ")));
    }

    #[test]
    fn omitted_value_is_null() {
        let arena = Arena::new();
        let stream = parse(&arena, "a:\nb: 1\n");
        let root = stream.documents[0].root.as_ref().unwrap();
        assert!(root.get("a").unwrap().is_null());
        assert!(!root.get("b").unwrap().is_null());
    }
}
