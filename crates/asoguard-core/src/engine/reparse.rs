//! Single documents parsed again. The first pass's trees are dropped when it ends: holding
//! every file's trees until the index is built would cost several times the corpus in memory.
//!
//! Invariant: once the index is built, a document is parsed again only when a check or a fix
//! needs its tree, on its own ([`yaml::parse_document`]: its own lines, spans shifted, proved
//! equal to the full parse by a property test), at most once per file's second pass; should a
//! document not parse alone as it did in the file, the whole file is parsed once instead.

use crate::span::Span;
use crate::yaml::{self, Stream};

/// The trees of single documents of one file, parsed again on demand once the index is built
/// (the first parse's trees are gone). Should a document not parse alone as it did in the file,
/// the whole file is parsed once instead.
pub(super) struct DocumentTrees<'t> {
    pub(super) arena: &'t yaml::Arena,
    pub(super) text: &'t str,
    pub(super) spans: &'t [Span],
    pub(super) alone: Vec<(usize, Stream<'t>)>,
    pub(super) whole: Option<Stream<'t>>,
}

impl<'t> DocumentTrees<'t> {
    pub(super) fn new(arena: &'t yaml::Arena, text: &'t str, spans: &'t [Span]) -> Self {
        DocumentTrees {
            arena,
            text,
            spans,
            alone: Vec::new(),
            whole: None,
        }
    }

    /// The stream holding document `doc`'s tree, and the document's index in it.
    pub(super) fn document(&mut self, doc: usize) -> Option<(&Stream<'t>, usize)> {
        if self.whole.is_none() && !self.alone.iter().any(|(d, _)| *d == doc) {
            match yaml::parse_document(self.arena, self.text, self.spans, doc) {
                Some(stream) => self.alone.push((doc, stream)),
                None => self.whole = Some(yaml::parse(self.arena, self.text)),
            }
        }
        match self.alone.iter().find(|(d, _)| *d == doc) {
            Some((_, stream)) => Some((stream, 0)),
            None => self.whole.as_ref().map(|stream| (stream, doc)),
        }
    }

    /// Document `doc`'s root node.
    pub(super) fn root(&mut self, doc: usize) -> Option<&yaml::Node<'t>> {
        let (stream, at) = self.document(doc)?;
        stream.documents.get(at)?.root.as_ref()
    }

    /// The stream holding the document that covers `span`.
    pub(super) fn covering(&mut self, span: Span) -> Option<&Stream<'t>> {
        let doc = self
            .spans
            .iter()
            .position(|d| d.start <= span.start && span.end <= d.end)?;
        self.document(doc).map(|(stream, _)| stream)
    }
}
