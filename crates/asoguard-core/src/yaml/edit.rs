//! Minimal byte-range edits on YAML text: set, add or remove a mapping entry or sequence item,
//! and edit one item of a comma-separated value, keeping every other byte as it was.
//!
//! New lines take the file's line ending and their siblings' indentation; quoted scalars keep
//! their quotes; block and flow style are kept.

use super::{Entry, Node, NodeKind, Style};
use crate::fix::Edit;
use crate::span::{LineEnding, Span};

/// The offset where the line holding `offset` starts.
pub fn line_start(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1)
}

/// The offset just past the line break of the line holding `offset`; an offset already at the
/// start of a line (after a block scalar's final break) is returned as is.
pub fn next_line_start(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    if offset > 0 && text.as_bytes()[offset - 1] == b'\n' {
        return offset;
    }
    text[offset..]
        .find('\n')
        .map_or(text.len(), |i| offset + i + 1)
}

/// The column (in bytes, which are spaces or `- ` here) of `offset` within its line.
fn column(text: &str, offset: usize) -> usize {
    offset - line_start(text, offset)
}

/// Whether only blanks stand between the start of the line and `offset`.
fn starts_line(text: &str, offset: usize) -> bool {
    text[line_start(text, offset)..offset]
        .bytes()
        .all(|b| b == b' ' || b == b'\t')
}

/// Render `value` as a YAML scalar: plain when that reads back as the same string, else
/// double-quoted with escapes.
pub fn scalar_text(value: &str) -> String {
    let plain_ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=,".contains(c))
        && !matches!(
            value,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        )
        && !value.starts_with(['-', ','])
        // A leading `.` reads as a float only in `.inf`, `.nan` and numbers like `.5`.
        && !value
            .strip_prefix('.')
            .is_some_and(|rest| rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("nan"))
        && value.parse::<f64>().is_err();
    if plain_ok {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Replace a scalar's value, keeping its quotes: the text between the quotes changes, or the
/// whole token for a plain or block scalar (a block scalar becomes a plain one). An omitted
/// value (`key:` with nothing after it) gets ` value` after its colon.
pub fn replace_scalar(text: &str, scalar: &Node, value: &str) -> Edit {
    let span = scalar.span;
    match scalar.style() {
        Some(Style::DoubleQuoted) if span.len() >= 2 && !needs_double_escape(value) => {
            Edit::replace(Span::new(span.start + 1, span.end - 1), value)
        }
        Some(Style::SingleQuoted) if span.len() >= 2 && !value.contains('\'') => {
            Edit::replace(Span::new(span.start + 1, span.end - 1), value)
        }
        Some(Style::Block) if !value.contains('\n') => match strip_chomped_content(text, span) {
            // `|-` / `>-` yield the text without its line break: keep the style, change the text.
            Some(content) => Edit::replace(content, value),
            // `|` and `>` keep a final line break, which ASO would read as part of the value.
            None => Edit::replace(span, scalar_text(value)),
        },
        Some(Style::Plain) if span.is_empty() => {
            // The parser puts an omitted value at its key's colon.
            let colon = text[span.start..]
                .find(':')
                .map_or(span.start, |i| span.start + i + 1);
            Edit::insert(colon, format!(" {}", scalar_text(value)))
        }
        _ => Edit::replace(span, scalar_text(value)),
    }
}

/// The content of a strip-chomped (`|-`, `>-`) block scalar: from its first non-blank byte
/// after the header line to its end.
fn strip_chomped_content(text: &str, span: Span) -> Option<Span> {
    let token = text.get(span.start..span.end)?;
    let header_len = token.find('\n')?;
    if !token[..header_len].contains('-') {
        return None;
    }
    let body = &token[header_len..];
    let first = body.find(|c: char| !c.is_whitespace())?;
    Some(Span::new(span.start + header_len + first, span.end))
}

fn needs_double_escape(value: &str) -> bool {
    value
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_control())
}

/// Remove entry `index` of `mapping`. Block style: the entry's whole lines, its trailing
/// comment included; comment lines before and after stay. Flow style: the entry and one
/// neighbouring comma.
pub fn remove_entry(text: &str, mapping: &Node, index: usize) -> Option<Edit> {
    let entries = mapping.entries()?;
    let entry = entries.get(index)?;
    let (start, end) = (
        entry.key.span.start,
        entry.value.span.end.max(entry.key.span.end),
    );
    if mapping.is_flow() {
        return Some(remove_flow_element(
            entries.iter().map(entry_span).collect(),
            index,
        ));
    }
    if starts_line(text, start) {
        return Some(Edit::delete(Span::new(
            line_start(text, start),
            next_line_start(text, end),
        )));
    }
    // The key shares its line with a `- ` indicator: pull the next entry up into its place.
    match entries.get(index + 1) {
        Some(next) => Some(Edit::delete(Span::new(start, next.key.span.start))),
        None if entries.len() == 1 => Some(Edit::replace(Span::new(start, end), "{}")),
        None => Some(Edit::delete(Span::new(
            line_start(text, start).max(entries[index - 1].value.span.end),
            end,
        ))),
    }
}

/// Remove item `index` of `sequence`: the item's whole line in block style, the item and one
/// neighbouring comma in flow style.
pub fn remove_item(text: &str, sequence: &Node, index: usize) -> Option<Edit> {
    let items = sequence.items()?;
    let item = items.get(index)?;
    if sequence.is_flow() {
        return Some(remove_flow_element(
            items.iter().map(|i| i.span).collect(),
            index,
        ));
    }
    let start = line_start(text, item.span.start);
    if text[start..item.span.start].trim() != "-" {
        return None;
    }
    Some(Edit::delete(Span::new(
        start,
        next_line_start(text, item.span.end),
    )))
}

fn entry_span(entry: &Entry) -> Span {
    entry.key.span.cover(entry.value.span)
}

/// Delete element `index` of a flow collection whose elements span `spans`.
fn remove_flow_element(spans: Vec<Span>, index: usize) -> Edit {
    let this = spans[index];
    if index > 0 {
        Edit::delete(Span::new(spans[index - 1].end, this.end))
    } else if let Some(next) = spans.get(1) {
        Edit::delete(Span::new(this.start, next.start))
    } else {
        Edit::delete(this)
    }
}

/// Append `key: value` as the last entry of `mapping`, with its siblings' indentation (block)
/// or as `, key: value` before the closing brace (flow). `None` for an empty block mapping.
pub fn append_entry(text: &str, mapping: &Node, key: &str, value: &str) -> Option<Edit> {
    append_entry_raw(text, mapping, key, &scalar_text(value))
}

/// Append `key: raw` as the last entry of `mapping`, where `raw` is YAML already rendered on
/// one line (a scalar from [`scalar_text`], or a flow collection such as `{a: b}`). Placement
/// as in [`append_entry`].
pub fn append_entry_raw(text: &str, mapping: &Node, key: &str, raw: &str) -> Option<Edit> {
    let entries = mapping.entries()?;
    let pair = format!("{}: {raw}", scalar_text(key));
    if mapping.is_flow() {
        return Some(match entries.last() {
            Some(last) => Edit::insert(entry_span(last).end, format!(", {pair}")),
            None => Edit::insert(mapping.span.start + 1, pair),
        });
    }
    let last = entries.last()?;
    let indent = " ".repeat(column(text, entries[0].key.span.start));
    Some(insert_line_after(
        text,
        last.value.span.end.max(last.key.span.end),
        &format!("{indent}{pair}"),
    ))
}

/// Insert `line` as a new line after the line holding `offset`, with the file's line ending.
fn insert_line_after(text: &str, offset: usize, line: &str) -> Edit {
    let eol = LineEnding::detect(text).as_str();
    let at = next_line_start(text, offset);
    if at == text.len() && !text.ends_with('\n') {
        Edit::insert(at, format!("{eol}{line}"))
    } else {
        Edit::insert(at, format!("{line}{eol}"))
    }
}

/// Set annotation `key` to `value` on the object whose root mapping is `root`: replace the
/// value in place when the key exists, else append it to `metadata.annotations`, creating
/// `annotations` as the last key of `metadata` when it is missing. `None` when the object has
/// no `metadata` mapping to edit.
pub fn set_annotation(text: &str, root: &Node, key: &str, value: &str) -> Option<Edit> {
    let metadata = root.get("metadata")?;
    set_in_child_mapping(
        text,
        metadata,
        indent_step(text, root, metadata),
        "annotations",
        key,
        value,
    )
}

/// Set `key` to the scalar `value` in the mapping under `child_key` of `parent`: an existing
/// value is replaced keeping its quotes ([`replace_scalar`]); otherwise as
/// [`set_in_child_mapping_raw`].
pub fn set_in_child_mapping(
    text: &str,
    parent: &Node,
    step: usize,
    child_key: &str,
    key: &str,
    value: &str,
) -> Option<Edit> {
    match parent.get(child_key).and_then(|child| child.get(key)) {
        Some(existing) => Some(replace_scalar(text, existing, value)),
        None => set_in_child_mapping_raw(text, parent, step, child_key, key, &scalar_text(value)),
    }
}

/// Set `key` to the rendered YAML `raw` in the mapping under `child_key` of `parent` (as
/// [`set_annotation`] does for `metadata.annotations`): replace the value when the key exists,
/// append it otherwise, and create `child_key` as the last key of `parent` when it is missing,
/// its entry `step` columns deeper. Used for `commonAnnotations` and `.asoguard.yaml`'s
/// `clusters`. `None` when `parent` is not a mapping or `child_key` holds something else.
pub fn set_in_child_mapping_raw(
    text: &str,
    parent: &Node,
    step: usize,
    child_key: &str,
    key: &str,
    raw: &str,
) -> Option<Edit> {
    parent.entries()?;
    let Some(child) = parent.entry(child_key) else {
        return add_child_mapping(text, parent, step, child_key, key, raw);
    };
    let node = &child.value;
    if let Some(existing) = node.get(key) {
        return Some(Edit::replace(existing.span, raw));
    }
    match &node.kind {
        NodeKind::Mapping { entries, .. } if !entries.is_empty() || node.is_flow() => {
            append_entry_raw(text, node, key, raw)
        }
        _ if node.is_null() && node.span.is_empty() => {
            // `child:` with nothing after it: give it its first entry on the next line.
            let indent = column(text, child.key.span.start) + step;
            Some(insert_line_after(
                text,
                child.key.span.end,
                &format!("{}{}: {raw}", " ".repeat(indent), scalar_text(key)),
            ))
        }
        _ if node.is_null() => Some(Edit::replace(
            node.span,
            format!("{{{}: {raw}}}", scalar_text(key)),
        )),
        _ => None,
    }
}

fn add_child_mapping(
    text: &str,
    parent: &Node,
    step: usize,
    child_key: &str,
    key: &str,
    raw: &str,
) -> Option<Edit> {
    let pair = format!("{}: {raw}", scalar_text(key));
    let entries = parent.entries()?;
    if parent.is_flow() {
        return Some(match entries.last() {
            Some(last) => Edit::insert(entry_span(last).end, format!(", {child_key}: {{{pair}}}")),
            None => Edit::insert(parent.span.start + 1, format!("{child_key}: {{{pair}}}")),
        });
    }
    let last = entries.last()?;
    let indent = column(text, entries[0].key.span.start);
    let eol = LineEnding::detect(text).as_str();
    let lines = format!(
        "{}{child_key}:{eol}{}{pair}",
        " ".repeat(indent),
        " ".repeat(indent + step)
    );
    Some(insert_line_after(
        text,
        last.value.span.end.max(last.key.span.end),
        &lines,
    ))
}

/// The file's indentation step read off the first block mapping nested in `mapping` whose
/// entries start on their own line (its entries' column minus its key's column); 2 when there
/// is none. For a document root, this is how the file indents everything.
pub fn indent_step_in(text: &str, mapping: &Node) -> usize {
    mapping
        .entries()
        .unwrap_or_default()
        .iter()
        .filter(|entry| !entry.value.is_flow())
        .find_map(|entry| {
            let first = entry.value.entries()?.first()?.key.span.start;
            let (key_col, child_col) = (column(text, entry.key.span.start), column(text, first));
            (child_col > key_col && starts_line(text, first)).then(|| child_col - key_col)
        })
        .unwrap_or(2)
}

/// The file's own indentation step, read off `metadata` (its children's column minus its key's
/// column); 2 when that cannot be read.
fn indent_step(text: &str, root: &Node, metadata: &Node) -> usize {
    let key_column = root
        .entry("metadata")
        .map(|e| column(text, e.key.span.start));
    let child_column = metadata
        .entries()
        .and_then(|e| e.first())
        .filter(|_| !metadata.is_flow())
        .map(|e| column(text, e.key.span.start));
    match (key_column, child_column) {
        (Some(k), Some(c)) if c > k => c - k,
        _ => 2,
    }
}

/// Remove annotation `key` from the object whose root mapping is `root`; when it was the only
/// annotation, remove `metadata.annotations` as well. `None` when the annotation is absent.
pub fn remove_annotation(text: &str, root: &Node, key: &str) -> Option<Vec<Edit>> {
    remove_from_child_mapping(text, root.get("metadata")?, "annotations", key)
}

/// Remove `key` from the mapping under `child_key` of `parent` (as [`remove_annotation`] does
/// for `metadata.annotations`); when it was the only entry, remove `child_key` as well, leaving
/// comment lines in place. `None` when the key is absent.
pub fn remove_from_child_mapping(
    text: &str,
    parent: &Node,
    child_key: &str,
    key: &str,
) -> Option<Vec<Edit>> {
    let (child_index, child) = parent
        .entries()?
        .iter()
        .enumerate()
        .find(|(_, e)| e.key.as_str() == Some(child_key))?;
    let map = &child.value;
    let entries = map.entries()?;
    let index = entries.iter().position(|e| e.key.as_str() == Some(key))?;
    if entries.len() > 1 {
        return Some(vec![remove_entry(text, map, index)?]);
    }
    if map.is_flow() || parent.is_flow() || !starts_line(text, child.key.span.start) {
        return Some(vec![remove_entry(text, parent, child_index)?]);
    }
    // Block `child:` whose only entry goes: remove the key's line and the entry's lines,
    // leaving any comment lines between them in place.
    let key_line = Span::new(
        line_start(text, child.key.span.start),
        next_line_start(text, child.key.span.end),
    );
    let entry = remove_entry(text, map, index)?;
    if entry.span.touches(&key_line) {
        return Some(vec![remove_entry(text, parent, child_index)?]);
    }
    Some(vec![Edit::delete(key_line), entry])
}

/// Remove from a comma-separated scalar every item that `drop` selects (items compared
/// trimmed). Returns the edit and whether anything is left; `None` when nothing matches.
/// The raw text is edited in place when it reads back as the value (no escapes, no folded
/// lines); otherwise the value is rewritten.
pub fn remove_comma_items(
    text: &str,
    scalar: &Node,
    drop: impl Fn(&str) -> bool,
) -> Option<(Edit, bool)> {
    let value = scalar.as_str()?;
    let raw_span = match scalar.style()? {
        Style::SingleQuoted | Style::DoubleQuoted => {
            Span::new(scalar.span.start + 1, scalar.span.end.saturating_sub(1))
        }
        _ => scalar.span,
    };
    let raw = text.get(raw_span.start..raw_span.end)?;
    let in_place = raw == value;
    let items: Vec<&str> = value.split(',').collect();
    if !items.iter().any(|item| drop(item.trim())) {
        return None;
    }
    let kept: Vec<&str> = items.into_iter().filter(|i| !drop(i.trim())).collect();
    let remaining = kept.join(",").trim().to_string();
    let any_left = kept.iter().any(|i| !i.trim().is_empty());
    let edit = if in_place {
        Edit::replace(raw_span, remaining)
    } else {
        replace_scalar(text, scalar, &remaining)
    };
    Some((edit, any_left))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::apply_edits;
    use crate::yaml::parse;

    const KEY: &str = "serviceoperator.azure.com/reconcile-policy";

    fn with_root(text: &str, f: impl Fn(&Node) -> Vec<Edit>) -> String {
        let stream = parse(text);
        let root = stream.documents[0].root.as_ref().unwrap();
        let edits = f(root);
        let out = apply_edits(text, &edits).unwrap();
        assert!(parse(&out).error.is_none(), "edited text parses:\n{out}");
        out
    }

    #[test]
    fn sets_existing_value_keeping_quotes() {
        let text = "metadata:\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: \"skip\" # x\n";
        let out = with_root(text, |r| {
            vec![set_annotation(text, r, KEY, "detach-on-delete").unwrap()]
        });
        assert_eq!(
            out,
            "metadata:\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: \"detach-on-delete\" # x\n"
        );
    }

    #[test]
    fn appends_to_block_and_flow_annotations() {
        let text = "metadata:\n  name: a\n  annotations:\n    a: b # c\nspec: {}\n";
        let out = with_root(text, |r| {
            vec![set_annotation(text, r, KEY, "skip").unwrap()]
        });
        assert_eq!(
            out,
            "metadata:\n  name: a\n  annotations:\n    a: b # c\n    serviceoperator.azure.com/reconcile-policy: skip\nspec: {}\n"
        );
        let text = "metadata:\n  annotations: {a: b}\n";
        let out = with_root(text, |r| {
            vec![set_annotation(text, r, KEY, "skip").unwrap()]
        });
        assert_eq!(
            out,
            "metadata:\n  annotations: {a: b, serviceoperator.azure.com/reconcile-policy: skip}\n"
        );
    }

    #[test]
    fn creates_annotations_with_file_indent_and_crlf() {
        let text = "metadata:\r\n    name: a\r\nspec:\r\n    x: 1\r\n";
        let out = with_root(text, |r| {
            vec![set_annotation(text, r, KEY, "skip").unwrap()]
        });
        assert_eq!(
            out,
            "metadata:\r\n    name: a\r\n    annotations:\r\n        serviceoperator.azure.com/reconcile-policy: skip\r\nspec:\r\n    x: 1\r\n"
        );
        let text = "metadata:\n  name: a";
        let out = with_root(text, |r| {
            vec![set_annotation(text, r, KEY, "skip").unwrap()]
        });
        assert_eq!(
            out,
            "metadata:\n  name: a\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: skip"
        );
    }

    #[test]
    fn removes_only_annotation_and_its_key() {
        let text = "metadata:\n  name: a\n  annotations:\n    # why\n    serviceoperator.azure.com/reconcile-policy: skip # c\n  labels: {}\n";
        let out = with_root(text, |r| remove_annotation(text, r, KEY).unwrap());
        assert_eq!(out, "metadata:\n  name: a\n    # why\n  labels: {}\n");
        let text = "metadata: {name: a, annotations: {serviceoperator.azure.com/reconcile-policy: skip}}\n";
        let out = with_root(text, |r| remove_annotation(text, r, KEY).unwrap());
        assert_eq!(out, "metadata: {name: a}\n");
    }

    #[test]
    fn removes_one_of_several_annotations() {
        let text = "metadata:\n  annotations:\n    a: b\n    serviceoperator.azure.com/reconcile-policy: skip\n    c: d\n";
        let out = with_root(text, |r| remove_annotation(text, r, KEY).unwrap());
        assert_eq!(out, "metadata:\n  annotations:\n    a: b\n    c: d\n");
        let text =
            "metadata:\n  annotations: {serviceoperator.azure.com/reconcile-policy: skip, a: b}\n";
        let out = with_root(text, |r| remove_annotation(text, r, KEY).unwrap());
        assert_eq!(out, "metadata:\n  annotations: {a: b}\n");
    }

    #[test]
    fn removes_sequence_items() {
        let text = "o:\n- A=1\n- Replace=true # x\n- B=2\nf: [A=1, Replace=true]\n";
        let stream = parse(text);
        let root = stream.documents[0].root.as_ref().unwrap();
        let e1 = remove_item(text, root.get("o").unwrap(), 1).unwrap();
        let e2 = remove_item(text, root.get("f").unwrap(), 1).unwrap();
        let out = apply_edits(text, &[e1, e2]).unwrap();
        assert_eq!(out, "o:\n- A=1\n- B=2\nf: [A=1]\n");
    }

    #[test]
    fn removes_comma_items() {
        for (value, expected, left) in [
            ("\"Replace=true,Prune=false\"", "\"Prune=false\"", true),
            ("Prune=false, Replace=true", "Prune=false", true),
            ("'A=1 , Replace=true , B=2'", "'A=1 , B=2'", true),
            ("Replace=true", "", false),
        ] {
            let text = format!("k: {value}\n");
            let stream = parse(&text);
            let node = stream.documents[0].root.as_ref().unwrap().get("k").unwrap();
            let (edit, any_left) =
                remove_comma_items(&text, node, |i| i == "Replace=true").unwrap();
            assert_eq!(
                apply_edits(&text, &[edit]).unwrap(),
                format!("k: {expected}\n")
            );
            assert_eq!(any_left, left);
        }
    }

    #[test]
    fn sets_and_removes_in_a_root_child_mapping() {
        // commonAnnotations created as the last root key, indented by the file's own step.
        let text = "resources:\n- a.yaml\nlabels:\n    x: y\r\n";
        let out = with_root(text, |r| {
            let step = indent_step_in(text, r);
            vec![set_in_child_mapping(text, r, step, "commonAnnotations", KEY, "skip").unwrap()]
        });
        assert_eq!(
            out,
            "resources:\n- a.yaml\nlabels:\n    x: y\r\ncommonAnnotations:\n    serviceoperator.azure.com/reconcile-policy: skip\n"
        );
        let out2 = with_root(&out, |r| {
            remove_from_child_mapping(&out, r, "commonAnnotations", KEY).unwrap()
        });
        assert_eq!(out2, text, "removing the only entry removes the key too");
        // An existing value is replaced keeping its quotes.
        let text = "commonAnnotations:\n  serviceoperator.azure.com/reconcile-policy: 'manage'\n";
        let out = with_root(text, |r| {
            vec![set_in_child_mapping(text, r, 2, "commonAnnotations", KEY, "skip").unwrap()]
        });
        assert_eq!(
            out,
            "commonAnnotations:\n  serviceoperator.azure.com/reconcile-policy: 'skip'\n"
        );
    }

    #[test]
    fn appends_raw_flow_values() {
        let text = "clusters:\n  a: {paths: [x], role: passive}\n";
        let out = with_root(text, |r| {
            let clusters = r.get("clusters").unwrap();
            vec![
                append_entry_raw(text, clusters, "b", "{paths: [\"y/**\"], role: active}").unwrap(),
            ]
        });
        assert_eq!(
            out,
            "clusters:\n  a: {paths: [x], role: passive}\n  b: {paths: [\"y/**\"], role: active}\n"
        );
        let text = "clusters: {}\n";
        let out = with_root(text, |r| {
            vec![set_in_child_mapping_raw(text, r, 2, "clusters", "b", "{paths: []}").unwrap()]
        });
        assert_eq!(out, "clusters: {b: {paths: []}}\n");
        let text = "rules: {}\n";
        let out = with_root(text, |r| {
            vec![set_in_child_mapping_raw(text, r, 2, "clusters", "b", "{paths: []}").unwrap()]
        });
        assert_eq!(out, "rules: {}\nclusters:\n  b: {paths: []}\n");
    }

    #[test]
    fn reads_the_indent_step() {
        let stream = parse("a: 1\nb:\n   c: 1\n");
        assert_eq!(
            indent_step_in(
                "a: 1\nb:\n   c: 1\n",
                stream.documents[0].root.as_ref().unwrap()
            ),
            3
        );
        let stream = parse("a: {b: 1}\n");
        assert_eq!(
            indent_step_in("a: {b: 1}\n", stream.documents[0].root.as_ref().unwrap()),
            2
        );
    }

    #[test]
    fn scalar_text_quotes_when_needed() {
        assert_eq!(scalar_text("detach-on-delete"), "detach-on-delete");
        assert_eq!(scalar_text("true"), "\"true\"");
        assert_eq!(scalar_text("a: b"), "\"a: b\"");
        assert_eq!(scalar_text(""), "\"\"");
        assert_eq!(scalar_text("../../base"), "../../base");
        for special in [".inf", ".NaN", ".5", "-x", ".Inf"] {
            assert!(scalar_text(special).starts_with('"'), "{special}");
        }
    }
}
