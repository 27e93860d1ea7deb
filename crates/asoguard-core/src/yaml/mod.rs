//! A small span-carrying YAML tree built from granit-parser events, and the edits made on it.
//!
//! Every key, value, item and comment keeps its byte range in the original text, so findings
//! point at exact positions and fixes can change only the bytes they must. Aliases are kept as
//! leaves and never expanded, so an alias bomb costs nothing; nesting is bounded by the parser.
//!
//! A tree lives in an [`Arena`]: its entry and item lists, and the few scalars whose value
//! differs from their text (escapes, folded lines), are bump-allocated there, so building a
//! tree is a pointer bump per collection and freeing it is one reset of the arena. Nodes are
//! `Copy`.

pub mod edit;
pub mod json;
mod parse;

pub use parse::{MAX_BUFFERED_COMMENTS, parse, parse_document, parse_with};

/// Where parsed trees live: a bump allocator, freed (or [reset](bumpalo::Bump::reset) for the
/// next file) all at once.
pub type Arena = bumpalo::Bump;

use crate::span::Span;

/// The quoting style of a scalar as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `value`
    Plain,
    /// `'value'`
    SingleQuoted,
    /// `"value"`
    DoubleQuoted,
    /// `|` or `>` block scalar.
    Block,
}

/// One YAML node with its byte span.
#[derive(Clone, Copy, Debug)]
pub struct Node<'a> {
    /// Bytes of the node: a scalar's token (quotes included), a flow collection's brackets,
    /// a block collection's first key or item through its last value.
    pub span: Span,
    /// What the node is.
    pub kind: NodeKind<'a>,
}

/// The shape of a node.
#[derive(Clone, Copy, Debug)]
pub enum NodeKind<'a> {
    /// A scalar, its value after escape processing.
    Scalar {
        /// Decoded value: a slice of the text when it is written as is, else in the arena.
        value: &'a str,
        /// Quoting style as written.
        style: Style,
    },
    /// A mapping, entries in source order.
    Mapping {
        /// Key/value pairs.
        entries: &'a [Entry<'a>],
        /// `{...}` rather than indented block style.
        flow: bool,
    },
    /// A sequence, items in source order.
    Sequence {
        /// The items.
        items: &'a [Node<'a>],
        /// `[...]` rather than `- ` block style.
        flow: bool,
    },
    /// An alias (`*name`), never expanded.
    Alias,
}

/// One key/value pair of a mapping.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    /// The key node (almost always a scalar).
    pub key: Node<'a>,
    /// The value node (an empty plain scalar when the value is omitted).
    pub value: Node<'a>,
}

/// A `# ...` comment.
#[derive(Clone, Copy, Debug)]
pub struct Comment<'a> {
    /// From `#` to the end of the line, line break excluded.
    pub span: Span,
    /// The text after `#`.
    pub text: &'a str,
}

/// One document of a YAML stream.
#[derive(Clone, Copy, Debug)]
pub struct Document<'a> {
    /// From the document's start (its `---` when explicit) to its end.
    pub span: Span,
    /// The root node; `None` for an empty document.
    pub root: Option<Node<'a>>,
}

/// A syntax error: where it is and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset of the error.
    pub offset: usize,
    /// The parser's message.
    pub message: String,
}

/// The documents and comments of one file, and the syntax error that ended parsing, if any.
#[derive(Clone, Debug, Default)]
pub struct Stream<'a> {
    /// Complete documents, in order. On a syntax error, those finished before it.
    pub documents: Vec<Document<'a>>,
    /// Every comment of the stream, in order (none from [`parse_with`] in a text that does not
    /// name asoguard: comments matter only as its suppression directives).
    pub comments: Vec<Comment<'a>>,
    /// The error that stopped parsing.
    pub error: Option<SyntaxError>,
}

impl<'a> Node<'a> {
    /// The scalar value, if this is a scalar.
    pub fn as_str(&self) -> Option<&'a str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(*value),
            _ => None,
        }
    }

    /// The scalar style, if this is a scalar.
    pub fn style(&self) -> Option<Style> {
        match &self.kind {
            NodeKind::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }

    /// Whether this is a null value: an omitted value, `~` or `null` unquoted.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, style: Style::Plain }
            if value.is_empty() || matches!(*value, "~" | "null" | "Null" | "NULL"))
    }

    /// Mapping entries, if this is a mapping.
    pub fn entries(&self) -> Option<&'a [Entry<'a>]> {
        match &self.kind {
            NodeKind::Mapping { entries, .. } => Some(*entries),
            _ => None,
        }
    }

    /// Sequence items, if this is a sequence.
    pub fn items(&self) -> Option<&'a [Node<'a>]> {
        match &self.kind {
            NodeKind::Sequence { items, .. } => Some(*items),
            _ => None,
        }
    }

    /// Whether this collection is written in flow style.
    pub fn is_flow(&self) -> bool {
        matches!(
            &self.kind,
            NodeKind::Mapping { flow: true, .. } | NodeKind::Sequence { flow: true, .. }
        )
    }

    /// The entry whose key is the scalar `key`, if this is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&'a Entry<'a>> {
        self.entries()?
            .iter()
            .find(|entry| entry.key.as_str() == Some(key))
    }

    /// The value under scalar `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&'a Node<'a>> {
        self.entry(key).map(|entry| &entry.value)
    }

    /// The value at a path of mapping keys.
    pub fn get_path<'n>(&'n self, path: &[&str]) -> Option<&'n Node<'a>> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The string under `key`, if it is a scalar.
    pub fn get_str(&self, key: &str) -> Option<&'a str> {
        self.get(key)?.as_str()
    }
}

impl<'a> Stream<'a> {
    /// The node whose span is exactly `span`, in any document.
    pub fn node_at(&self, span: Span) -> Option<&Node<'a>> {
        self.documents
            .iter()
            .filter_map(|d| d.root.as_ref())
            .find_map(|r| find_node(r, span))
    }

    /// The sequence holding an item whose span is `span`, the item's index, and the mapping
    /// entry (mapping, entry index) that holds the sequence, if any.
    pub fn item_at(&self, span: Span) -> Option<ItemPlace<'_, 'a>> {
        self.documents
            .iter()
            .filter_map(|d| d.root.as_ref())
            .find_map(|r| find_item(r, span, None))
    }
}

/// Where a sequence item is: its sequence, its index, and the entry holding the sequence.
pub struct ItemPlace<'n, 'a> {
    /// The sequence.
    pub sequence: &'n Node<'a>,
    /// The item's index in it.
    pub index: usize,
    /// The mapping and entry index whose value is the sequence.
    pub holder: Option<(&'n Node<'a>, usize)>,
}

fn find_node<'n, 'a>(node: &'n Node<'a>, span: Span) -> Option<&'n Node<'a>> {
    if node.span == span
        && !matches!(
            node.kind,
            NodeKind::Mapping { .. } | NodeKind::Sequence { .. }
        )
    {
        return Some(node);
    }
    match &node.kind {
        NodeKind::Mapping { entries, .. } => entries
            .iter()
            .find_map(|e| find_node(&e.key, span).or_else(|| find_node(&e.value, span))),
        NodeKind::Sequence { items, .. } => items.iter().find_map(|i| find_node(i, span)),
        _ => (node.span == span).then_some(node),
    }
}

fn find_item<'n, 'a>(
    node: &'n Node<'a>,
    span: Span,
    holder: Option<(&'n Node<'a>, usize)>,
) -> Option<ItemPlace<'n, 'a>> {
    match &node.kind {
        NodeKind::Sequence { items, .. } => {
            if let Some(index) = items.iter().position(|i| i.span == span) {
                return Some(ItemPlace {
                    sequence: node,
                    index,
                    holder,
                });
            }
            items.iter().find_map(|i| find_item(i, span, None))
        }
        NodeKind::Mapping { entries, .. } => entries
            .iter()
            .enumerate()
            .find_map(|(i, e)| find_item(&e.value, span, Some((node, i)))),
        _ => None,
    }
}
