//! The relevance prefilter: which documents of a file any rule could care about, decided on the
//! raw text before anything is parsed.
//!
//! A file is cut into *segments* at its document-start lines (`---` at the start of a line,
//! followed by a blank or the line's end). YAML forbids such a line inside any scalar or flow
//! collection, so in valid YAML every document lies within one segment; a parser that finds
//! otherwise stops with a syntax error first. A segment is relevant when its text holds one of
//! one of the markers ([`crate::marker`]) that the rules name in the registry, or `sops` (the
//! engine notes encrypted files): ASO groups, ArgoCD, Flux, Kustomize, `Namespace`,
//! suppressions, JSON6902 operations on annotations. A double-quoted escape could
//! spell a marker (`Name\x73pace`), so a segment holding a backslash is also searched with its
//! escapes decoded. The test can only err towards "relevant".
//!
//! - A file with no relevant segment is never parsed: it cannot hold anything asoguard checks
//!   (so a syntax error in it is yamllint's business, not an E001), and only its documents are
//!   counted, line by line.
//! - In a file with a relevant segment, every byte is parsed (so positions and syntax errors
//!   are exactly those of a plain parse), but documents in irrelevant segments are never built
//!   into trees.
//! - Files are further sorted into *index sources* (those that may hold Namespaces,
//!   Kustomizations, ArgoCD or Flux objects, whose facts other files' checks read) and plain
//!   relevant files (ASO resources), which the engine checks in the same parse that gathers
//!   their facts.

use std::path::Path;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::marker::{Marker, Markers};
use crate::registry::Rule;

/// What the prefilter searches for, built once from the registry.
struct Prefilter {
    /// Every marker a rule needs, and SOPS.
    markers: Vec<&'static Marker>,
    /// All of them, searched for at once. No marker overlaps another (a test in
    /// [`crate::marker`] checks it), so the non-overlapping leftmost matches find each marker
    /// wherever it occurs.
    search: AhoCorasick,
    /// The position of the suppression marker in `markers`: a suppression comment can name the
    /// object that starts on the next segment's `---` line, so it makes that segment relevant
    /// too.
    suppression: Option<usize>,
}

fn prefilter() -> &'static Prefilter {
    static PREFILTER: OnceLock<Prefilter> = OnceLock::new();
    PREFILTER.get_or_init(|| {
        let needed = Rule::ALL
            .iter()
            .fold(Markers::SOPS, |set, rule| set.union(rule.meta().markers));
        let markers: Vec<&'static Marker> = needed.iter().collect();
        let suppression = Markers::SUPPRESSION.iter().next();
        Prefilter {
            search: AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .build(markers.iter().map(|m| m.text))
                .expect("the markers are plain strings"),
            suppression: markers.iter().position(|m| Some(*m) == suppression),
            markers,
        }
    })
}

/// Whether every object of this API group and kind lies in a relevant document, whatever else
/// it holds: its `apiVersion` or `kind` holds a marker (every ASO group ends in `.azure.com`;
/// Flux, ArgoCD and Kustomize groups, `Namespace`). The index keeps facts of every such object,
/// so asoguard can say that one does *not* exist; of any other kind, only of those that happen
/// to name a marker.
pub fn always_relevant(group: &str, kind: &str) -> bool {
    prefilter()
        .markers
        .iter()
        .any(|marker| group.contains(marker.text) || kind.contains(marker.text))
}

/// Call `mark(pattern, offset)` for every marker occurrence in `text`.
fn search(text: &str, mut mark: impl FnMut(usize, usize)) {
    for found in prefilter().search.find_iter(text) {
        mark(found.pattern().as_usize(), found.start());
    }
}

/// How a file matters to a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileClass {
    /// No document any rule could care about: never parsed.
    Irrelevant,
    /// Holds relevant documents, none of which can be an index source (Namespace, Kustomize,
    /// ArgoCD, Flux): checked in the same parse that gathers its facts.
    Relevant,
    /// May hold index sources: its facts are gathered first, and it is checked once every
    /// file's facts are known.
    IndexSource,
}

/// The segments of one text and which of them are relevant.
#[derive(Clone, Debug)]
pub struct Relevance {
    /// Start offsets of segments after the first (each at a `---` line); the first starts at 0.
    boundaries: Vec<usize>,
    /// Per segment: relevant or not. `None` when every segment is relevant.
    relevant: Option<Vec<bool>>,
    /// The file's class.
    pub class: FileClass,
    /// Whether the text may name asoguard (escapes decoded): only then can it hold a
    /// suppression comment or annotation.
    pub names_asoguard: bool,
}

impl Relevance {
    /// Everything relevant: the prefilter off.
    pub fn all() -> Self {
        Relevance {
            boundaries: Vec::new(),
            relevant: None,
            class: FileClass::IndexSource,
            names_asoguard: true,
        }
    }

    /// Classify `text`, the content of the file at `path`.
    pub fn of(path: &Path, text: &str) -> Self {
        if is_kustomization_name(path) {
            return Relevance::all();
        }
        let boundaries = segment_starts(text);
        let mut relevant = vec![false; boundaries.len() + 1];
        let mut asoguard = vec![false; boundaries.len() + 1];
        let mut source = false;
        let prefilter = prefilter();
        let mut mark = |segment: usize, pattern: usize| {
            relevant[segment] = true;
            source |= prefilter.markers[pattern].index_source;
            asoguard[segment] |= Some(pattern) == prefilter.suppression;
        };
        // One pass over the text; no marker holds a line break, so each lies in one segment.
        search(text, |pattern, at| {
            mark(boundaries.partition_point(|&b| b <= at), pattern)
        });
        if memchr::memchr(b'\\', text.as_bytes()).is_some() {
            let mut start = 0;
            for (segment, end) in boundaries.iter().copied().chain([text.len()]).enumerate() {
                let piece = &text[start..end];
                if memchr::memchr(b'\\', piece.as_bytes()).is_some() {
                    search(&decode_escapes(piece), |pattern, _| mark(segment, pattern));
                }
                start = end;
            }
        }
        for i in 1..relevant.len() {
            relevant[i] |= asoguard[i - 1];
        }
        let class = if source {
            FileClass::IndexSource
        } else if relevant.iter().any(|r| *r) {
            FileClass::Relevant
        } else {
            FileClass::Irrelevant
        };
        let relevant = (!relevant.iter().all(|r| *r)).then_some(relevant);
        Relevance {
            boundaries,
            relevant,
            class,
            names_asoguard: asoguard.iter().any(|a| *a),
        }
    }

    /// Whether the document that starts at byte `start` lies in a relevant segment.
    pub fn is_relevant_at(&self, start: usize) -> bool {
        match &self.relevant {
            None => true,
            Some(relevant) => relevant[self.boundaries.partition_point(|&b| b <= start)],
        }
    }

    /// The end of the last relevant segment of a text of `len` bytes: documents after it can
    /// give no fact, and parsing them could only end in an error that stops nothing before.
    pub fn relevant_end(&self, len: usize) -> usize {
        let Some(relevant) = &self.relevant else {
            return len;
        };
        match relevant.iter().rposition(|r| *r) {
            Some(last) => self.boundaries.get(last).copied().unwrap_or(len).min(len),
            None => 0,
        }
    }

    /// The end of the segment holding byte `start` (the text's length for the last one).
    pub fn segment_end(&self, start: usize) -> usize {
        let i = self.boundaries.partition_point(|&b| b <= start);
        self.boundaries.get(i).copied().unwrap_or(usize::MAX)
    }
}

/// `text` with YAML's double-quoted escapes decoded (`\\x2e`, `\\u002E`, `\\U0000002e`, `\\/`,
/// and an escaped line break with the next line's indentation removed), wherever they appear:
/// outside double quotes the original text is searched anyway, so decoding too much only ever
/// finds more.
fn decode_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::iter::Peekable<std::str::Chars>, n: usize| {
            let digits: String = chars.clone().take(n).collect();
            let code = (digits.len() == n)
                .then(|| u32::from_str_radix(&digits, 16).ok())
                .flatten()
                .and_then(char::from_u32)?;
            for _ in 0..n {
                chars.next();
            }
            Some(code)
        };
        match chars.peek().copied() {
            Some('x') | Some('u') | Some('U') => {
                let n = match chars.next() {
                    Some('x') => 2,
                    Some('u') => 4,
                    _ => 8,
                };
                match hex(&mut chars, n) {
                    Some(decoded) => out.push(decoded),
                    None => out.push('\\'),
                }
            }
            Some('\r') | Some('\n') => {
                if chars.next() == Some('\r') && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                while matches!(chars.peek(), Some(' ' | '\t')) {
                    chars.next();
                }
            }
            Some(e @ ('/' | '"' | '\\' | ' ' | '\t')) => {
                chars.next();
                out.push(e);
            }
            Some('0' | 'a' | 'b' | 't' | 'n' | 'v' | 'f' | 'r' | 'e' | 'N' | '_' | 'L' | 'P') => {
                chars.next();
                out.push(' ');
            }
            _ => out.push('\\'),
        }
    }
    out
}

/// Whether the file is a kustomization by name (Kustomize reads it whatever its content, and
/// its `apiVersion` and `kind` are optional).
pub fn is_kustomization_name(path: &Path) -> bool {
    matches!(
        path.file_name().and_then(|n| n.to_str()),
        Some("kustomization.yaml" | "kustomization.yml" | "Kustomization")
    )
}

/// Whether a line (without its line break) is a document marker `---` or `...`: the three
/// characters at the start of the line, then a blank or nothing.
fn is_marker(line: &[u8], marker: u8) -> bool {
    line.len() >= 3
        && line[..3].iter().all(|b| *b == marker)
        && matches!(line.get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
}

/// Offsets of every `---` line but one at offset 0 (a BOM before it counts as offset 0).
fn segment_starts(text: &str) -> Vec<usize> {
    static DASHES: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\n---"));
    let bytes = text.as_bytes();
    let mut starts = Vec::new();
    for at in DASHES.find_iter(bytes) {
        if is_marker(&bytes[at + 1..], b'-') {
            starts.push(at + 1);
        }
    }
    starts
}

/// How many documents a YAML parser finds in `text`, counted line by line without parsing
/// (exact for valid YAML; used for files the prefilter never parses).
pub fn count_documents(text: &str) -> usize {
    let bytes = text.strip_prefix('\u{feff}').unwrap_or(text).as_bytes();
    let mut documents = 0;
    let mut open = false;
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', bytes).chain([bytes.len()]);
    for end in ends {
        let line = &bytes[start..end];
        start = end + 1;
        if open {
            // Inside a document only its end matters: a marker at the start of a line.
            match line.first() {
                Some(b'-') if is_marker(line, b'-') => documents += 1,
                Some(b'.') if is_marker(line, b'.') => open = false,
                _ => {}
            }
        } else if is_marker(line, b'-') {
            documents += 1;
            open = true;
        } else if is_marker(line, b'.') {
        } else {
            let content = line.trim_ascii_start();
            let blank = content.is_empty() || content.starts_with(b"#");
            let directive = line.first() == Some(&b'%');
            if !blank && !directive {
                documents += 1;
                open = true;
            }
        }
        if start > bytes.len() {
            break;
        }
    }
    documents
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass search finds every marker only if no marker overlaps another: none holds
    /// another, and no marker's end is another's start.
    /// The prefilter tells whether a text may name asoguard (so hold a suppression), an
    /// escaped spelling included; a kustomization file, never searched, may.
    #[test]
    fn tells_whether_a_text_names_asoguard() {
        let of = |text: &str| Relevance::of(Path::new("/r/f.yaml"), text).names_asoguard;
        let head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
        assert!(of(&format!("# asoguard: ignore-file\n{head}")));
        assert!(of(&format!(
            "{head}  annotations:\n    asoguard.io/ignore: ASO003\n"
        )));
        assert!(of(&format!(
            "{head}  annotations:\n    \"asogu\\x61rd.io/ignore\": ASO003\n"
        )));
        assert!(!of(&format!("# a comment\n{head}")));
        assert!(
            Relevance::of(Path::new("/r/kustomization.yaml"), "resources: []\n").names_asoguard
        );
    }

    #[test]
    fn counts_documents_as_the_parser_does() {
        for text in [
            "",
            "# c\n",
            "\n\n",
            "a: 1\n",
            "---\n",
            "---\na: 1\n",
            "a: 1\n---\n",
            "a: 1\n---\n# c\n",
            "a: 1\n...\n",
            "a: 1\n...\n# c\n",
            "a: 1\n...\nb: 2\n",
            "--- a\n--- b\n",
            "---\n---\n",
            "# x\n---\na: 1\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: |\n  x\n---\n  y\n",
            "--- |\nfoo\n---\nbar\n",
            "a: 1\n--- # c\nb: 2\n",
            "a: 1\n...\n...\n",
            "---\n...\n",
            "a: 1\n---\t\nb: 1\n",
            "a: |\n  x\n  ---\n",
            "a: 1\r\n---\r\nb: 2\r\n",
            "\u{feff}a: 1\n---\nb: 2\n",
            "\u{feff}---\na: 1\n",
            "a: b\n... # c\n---\nc: d\n",
            "a: 1\n--- \n",
            "a: 1\n---x: 2\n",
        ] {
            let arena = crate::yaml::Arena::new();
            let parsed = crate::yaml::parse(&arena, text);
            if parsed.error.is_none() {
                assert_eq!(
                    count_documents(text),
                    parsed.documents.len(),
                    "documents of {text:?}"
                );
            }
        }
    }

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(decode_escapes(r"Name\x73pace"), "Namespace");
        assert_eq!(decode_escapes(r"a\u002Eazure\U0000002ecom"), "a.azure.com");
        assert_eq!(decode_escapes("x.azure\\\n    .com"), "x.azure.com");
        assert_eq!(decode_escapes(r"a\/b\\c\q"), r"a/b\c\q");
        let p = Path::new("a.yaml");
        assert_eq!(
            Relevance::of(p, "kind: ConfigMap\ndata: {a: \"^x\\\\.y$\"}\n").class,
            FileClass::Irrelevant
        );
        assert_eq!(
            Relevance::of(p, "apiVersion: \"resources.azure\\x2ecom/v1\"\n").class,
            FileClass::Relevant
        );
    }

    #[test]
    fn classifies_files_and_segments() {
        let p = Path::new("a.yaml");
        assert_eq!(
            Relevance::of(p, "kind: Deployment\n").class,
            FileClass::Irrelevant
        );
        let aso = "kind: ConfigMap\n---\napiVersion: resources.azure.com/v1\n";
        let r = Relevance::of(p, aso);
        assert_eq!(r.class, FileClass::Relevant);
        assert!(!r.is_relevant_at(0));
        assert!(r.is_relevant_at(aso.find("---").unwrap()));
        assert_eq!(
            Relevance::of(p, "kind: Namespace\n").class,
            FileClass::IndexSource
        );
        assert_eq!(
            Relevance::of(p, "kind: \"Name\\x73pace\"\n").class,
            FileClass::IndexSource
        );
        assert_eq!(
            Relevance::of(Path::new("x/kustomization.yaml"), "resources: []\n").class,
            FileClass::IndexSource
        );
        // A suppression comment above a `--- key: value` line reaches the next segment.
        let text = "a: 1\n# asoguard: ignore\n--- {kind: X}\n---\nb: 2\n";
        let r = Relevance::of(p, text);
        assert!(r.is_relevant_at(text.find("--- {").unwrap()));
        assert!(!r.is_relevant_at(text.rfind("---").unwrap()));
    }
}
