//! Minimal byte-range edits on YAML text: set, add or remove a mapping entry or sequence item,
//! and edit one item of a comma-separated value, keeping every other byte as it was.
//!
//! New lines take the file's line ending and their siblings' indentation; quoted scalars keep
//! their quotes; block and flow style are kept.

use super::{Entry, Node, Style};
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

/// The column (in bytes, which are spaces or `- ` here) of `offset` within its line, a BOM not
/// counted.
fn column(text: &str, offset: usize) -> usize {
    offset - content_line_start(text, offset)
}

/// Where the content of the line holding `offset` starts: its start, or just past the
/// byte-order mark on the first line (a BOM is no part of any line's indentation, and an edit
/// must never remove it).
fn content_line_start(text: &str, offset: usize) -> usize {
    match line_start(text, offset) {
        0 if text.starts_with('\u{feff}') && offset >= '\u{feff}'.len_utf8() => {
            '\u{feff}'.len_utf8()
        }
        start => start,
    }
}

/// Whether only blanks stand between the start of the line (past a BOM) and `offset`.
fn starts_line(text: &str, offset: usize) -> bool {
    text[content_line_start(text, offset)..offset]
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
    replace_scalar_at(text, scalar.span, scalar.style(), value)
}

/// [`replace_scalar`] for a scalar known by its span and style (`None`: not a scalar), without
/// its tree: a fact recorded both when the file was parsed.
pub fn replace_scalar_at(text: &str, span: Span, style: Option<Style>, value: &str) -> Edit {
    match style {
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
            content_line_start(text, start),
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
    let start = content_line_start(text, item.span.start);
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

/// Append `key: raw` as [`append_entry`] does, where `raw` is YAML already rendered on one line
/// (a scalar from [`scalar_text`], or a flow collection such as `{paths: [a], role: active}`).
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
    set_entry_at(text, root, &["metadata", "annotations"], key, value)
}

/// Remove annotation `key` from the object whose root mapping is `root`; when it was the only
/// annotation, remove `metadata.annotations` as well, with the comment lines inside it
/// ([`remove_entry_at`]). `None` when the annotation is absent.
pub fn remove_annotation(text: &str, root: &Node, key: &str) -> Option<Vec<Edit>> {
    remove_entry_at(text, root, &["metadata", "annotations"], key)
}

/// Set `key: value` in the mapping at `path` under `root` (`["commonAnnotations"]`,
/// `["spec", "commonMetadata", "annotations"]`): replace the value in place when the key
/// exists, else append the entry with its siblings' indentation, creating the missing mappings
/// of `path` as the last keys of the deepest one that exists. `None` when the path runs through
/// something that is not a mapping.
pub fn set_entry_at(
    text: &str,
    root: &Node,
    path: &[&str],
    key: &str,
    value: &str,
) -> Option<Edit> {
    set_rendered_at(text, root, path, key, &scalar_text(value), |existing| {
        replace_scalar(text, existing, value)
    })
}

/// [`set_entry_at`] with a value already rendered as one line of YAML (a flow collection such
/// as `{paths: ["a/**"], role: active}`); an existing value is replaced whole.
pub fn set_entry_raw_at(
    text: &str,
    root: &Node,
    path: &[&str],
    key: &str,
    raw: &str,
) -> Option<Edit> {
    set_rendered_at(text, root, path, key, raw, |existing| {
        Edit::replace(existing.span, raw)
    })
}

/// The walk of [`set_entry_at`]: `raw` is the rendered value of a new entry, `replace` edits an
/// existing one.
fn set_rendered_at(
    text: &str,
    root: &Node,
    path: &[&str],
    key: &str,
    raw: &str,
    replace: impl FnOnce(&Node) -> Edit,
) -> Option<Edit> {
    root.entries()?;
    // Walk down while the mappings exist; remember the key that led to each.
    let mut container = root;
    let mut container_key: Option<&Entry> = None;
    let mut depth = 0;
    while depth < path.len() {
        match container.entry(path[depth]) {
            Some(entry) if entry.value.entries().is_some() => {
                container_key = Some(entry);
                container = &entry.value;
                depth += 1;
            }
            Some(entry) if entry.value.is_null() => {
                return fill_null(text, root, entry, &path[depth + 1..], key, raw);
            }
            Some(_) => return None,
            None => break,
        }
    }
    if depth == path.len() {
        if let Some(existing) = container.get(key) {
            return Some(replace(existing));
        }
        if container.is_flow() || !container.entries()?.is_empty() {
            return append_entry_raw(text, container, key, raw);
        }
        // An empty block mapping cannot be: an empty mapping is `{}`, which is flow.
        return None;
    }
    add_nested(
        text,
        root,
        container,
        container_key,
        &path[depth..],
        key,
        raw,
    )
}

/// `missing: {..: {key: raw}}` as text: flow style, or block lines at `indent` by `step`.
fn nested_text(
    missing: &[&str],
    key: &str,
    raw: &str,
    flow: Option<()>,
    indent: usize,
    step: usize,
    eol: &str,
) -> String {
    let pair = format!("{}: {raw}", scalar_text(key));
    if flow.is_some() {
        return missing
            .iter()
            .rev()
            .fold(pair, |inner, k| format!("{}: {{{inner}}}", scalar_text(k)));
    }
    let mut lines = Vec::new();
    for (i, k) in missing.iter().enumerate() {
        lines.push(format!(
            "{}{}:",
            " ".repeat(indent + i * step),
            scalar_text(k)
        ));
    }
    lines.push(format!(
        "{}{pair}",
        " ".repeat(indent + missing.len() * step)
    ));
    lines.join(eol)
}

/// Add the `missing` mappings (and the entry) as the last key of `container`.
fn add_nested(
    text: &str,
    root: &Node,
    container: &Node,
    container_key: Option<&Entry>,
    missing: &[&str],
    key: &str,
    raw: &str,
) -> Option<Edit> {
    let eol = LineEnding::detect(text).as_str();
    let entries = container.entries()?;
    if container.is_flow() {
        let item = nested_text(missing, key, raw, Some(()), 0, 0, eol);
        return Some(match entries.last() {
            Some(last) => Edit::insert(entry_span(last).end, format!(", {item}")),
            None => Edit::insert(container.span.start + 1, item),
        });
    }
    let last = entries.last()?;
    let indent = column(text, entries[0].key.span.start);
    let step = match container_key {
        Some(k) if indent > column(text, k.key.span.start) => {
            indent - column(text, k.key.span.start)
        }
        _ => file_indent_step(text, root),
    };
    let lines = nested_text(missing, key, raw, None, indent, step, eol);
    Some(insert_line_after(
        text,
        last.value.span.end.max(last.key.span.end),
        &lines,
    ))
}

/// Give a null value (`annotations:` or `annotations: ~`) its first entry, nesting `missing`.
fn fill_null(
    text: &str,
    root: &Node,
    entry: &Entry,
    missing: &[&str],
    key: &str,
    raw: &str,
) -> Option<Edit> {
    if entry.value.span.is_empty() {
        let indent = column(text, entry.key.span.start) + file_indent_step(text, root);
        let eol = LineEnding::detect(text).as_str();
        let lines = nested_text(
            missing,
            key,
            raw,
            None,
            indent,
            file_indent_step(text, root),
            eol,
        );
        return Some(insert_line_after(text, entry.key.span.end, &lines));
    }
    let eol = LineEnding::detect(text).as_str();
    Some(Edit::replace(
        entry.value.span,
        format!(
            "{{{}}}",
            nested_text(missing, key, raw, Some(()), 0, 0, eol)
        ),
    ))
}

/// The file's own indentation step: the first block mapping nested under a top-level key,
/// its entries' column minus that key's column; 2 when there is none.
fn file_indent_step(text: &str, root: &Node) -> usize {
    root.entries()
        .into_iter()
        .flatten()
        .find_map(|entry| {
            let child = entry
                .value
                .entries()?
                .first()
                .filter(|_| !entry.value.is_flow())?;
            let (k, c) = (
                column(text, entry.key.span.start),
                column(text, child.key.span.start),
            );
            (c > k).then(|| c - k)
        })
        .unwrap_or(2)
}

/// Remove `key` from the mapping at `path` under `root`; when it was the only entry, remove
/// the mapping's own key as well, together with everything inside the mapping: comment and
/// blank lines between the key and the entry, and the comment lines right after the entry that
/// are indented deeper than the key. Comment lines above the key stay. `None` when the key is
/// absent.
pub fn remove_entry_at(text: &str, root: &Node, path: &[&str], key: &str) -> Option<Vec<Edit>> {
    let (last, parents) = path.split_last()?;
    let container = if parents.is_empty() {
        root
    } else {
        root.get_path(parents)?
    };
    let (map_index, map_entry) = container
        .entries()?
        .iter()
        .enumerate()
        .find(|(_, e)| e.key.as_str() == Some(*last))?;
    let map = &map_entry.value;
    let entries = map.entries()?;
    let index = entries.iter().position(|e| e.key.as_str() == Some(key))?;
    if entries.len() > 1 {
        return Some(vec![remove_entry(text, map, index)?]);
    }
    if map.is_flow() || container.is_flow() || !starts_line(text, map_entry.key.span.start) {
        return Some(vec![remove_entry(text, container, map_index)?]);
    }
    // A block mapping whose only entry goes: the mapping goes whole, from its key's line to
    // the end of the entry's lines, with the comment lines that still sit inside it.
    let key_start = content_line_start(text, map_entry.key.span.start);
    let key_line_end = next_line_start(text, map_entry.key.span.end);
    let entry = remove_entry(text, map, index)?;
    if entry.span.start < key_line_end || !entry.content.is_empty() {
        return Some(vec![remove_entry(text, container, map_index)?]);
    }
    let key_column = column(text, map_entry.key.span.start);
    let mut end = entry.span.end;
    while end < text.len() {
        let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
        let line = &text[end..line_end];
        let content = line.trim_start_matches([' ', '\t']);
        if !content.starts_with('#') || line.len() - content.len() <= key_column {
            break;
        }
        end = line_end;
    }
    Some(vec![Edit::delete(Span::new(key_start, end))])
}

/// Remove `item` from the comma-separated annotation `key` of the object at `root` (ArgoCD's
/// `sync-options`), and the annotation itself when nothing is left. `None` when the item is
/// absent.
pub fn remove_annotation_item(text: &str, root: &Node, key: &str, item: &str) -> Option<Vec<Edit>> {
    let value = &root
        .get_path(&["metadata", "annotations"])?
        .entry(key)?
        .value;
    let (edit, any_left) = remove_comma_items(text, value, |i| i == item)?;
    if any_left {
        Some(vec![edit])
    } else {
        remove_annotation(text, root, key)
    }
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
    use crate::yaml::{Arena, parse};

    const KEY: &str = "serviceoperator.azure.com/reconcile-policy";

    /// An edit of the table, made on a document's root.
    enum Op {
        /// `set_annotation(KEY, value)`.
        SetAnnotation(&'static str),
        /// `remove_annotation(KEY)`.
        RemoveAnnotation,
        /// `remove_entry_at(path, KEY)`.
        RemoveEntryAt(&'static [&'static str]),
        /// `set_entry_at(path, KEY, value)`.
        SetEntryAt(&'static [&'static str], &'static str),
        /// `set_entry_raw_at(path, key, raw)`.
        SetEntryRawAt(&'static [&'static str], &'static str, &'static str),
        /// `remove_item(sequence, index)` for each (path to a sequence, index), applied
        /// together.
        RemoveItems(&'static [(&'static [&'static str], usize)]),
    }
    use Op::*;

    /// One case: the input, the edit, and the text after it, byte for byte.
    struct Case {
        name: &'static str,
        input: &'static str,
        op: Op,
        expected: &'static str,
    }

    const fn case(name: &'static str, input: &'static str, op: Op, expected: &'static str) -> Case {
        Case {
            name,
            input,
            op,
            expected,
        }
    }

    /// Every edit case. Comments inside a removed mapping go with it; comments outside it stay.
    const CASES: &[Case] = &[
        case(
            "set: an existing value keeps its quotes and comment",
            "metadata:\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: \"skip\" # x\n",
            SetAnnotation("detach-on-delete"),
            "metadata:\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: \"detach-on-delete\" # x\n",
        ),
        case(
            "set: appended to block annotations",
            "metadata:\n  name: a\n  annotations:\n    a: b # c\nspec: {}\n",
            SetAnnotation("skip"),
            "metadata:\n  name: a\n  annotations:\n    a: b # c\n    serviceoperator.azure.com/reconcile-policy: skip\nspec: {}\n",
        ),
        case(
            "set: appended to flow annotations",
            "metadata:\n  annotations: {a: b}\n",
            SetAnnotation("skip"),
            "metadata:\n  annotations: {a: b, serviceoperator.azure.com/reconcile-policy: skip}\n",
        ),
        case(
            "set: annotations created with the file's indent and CRLF",
            "metadata:\r\n    name: a\r\nspec:\r\n    x: 1\r\n",
            SetAnnotation("skip"),
            "metadata:\r\n    name: a\r\n    annotations:\r\n        serviceoperator.azure.com/reconcile-policy: skip\r\nspec:\r\n    x: 1\r\n",
        ),
        case(
            "set: annotations created at the end of a file without a final newline",
            "metadata:\n  name: a",
            SetAnnotation("skip"),
            "metadata:\n  name: a\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: skip",
        ),
        case(
            "set: a BOM is not indentation",
            "\u{feff}metadata:\n  name: a\n",
            SetAnnotation("skip"),
            "\u{feff}metadata:\n  name: a\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: skip\n",
        ),
        case(
            "remove the only annotation: the comment under the key goes, the one above it stays",
            "metadata:\n  name: a\n  # above\n  annotations:\n    # why\n    serviceoperator.azure.com/reconcile-policy: skip # c\n  labels: {}\n",
            RemoveAnnotation,
            "metadata:\n  name: a\n  # above\n  labels: {}\n",
        ),
        case(
            "remove the only annotation: flow metadata",
            "metadata: {name: a, annotations: {serviceoperator.azure.com/reconcile-policy: skip}}\n",
            RemoveAnnotation,
            "metadata: {name: a}\n",
        ),
        case(
            "remove the only annotation: block, comment under the key",
            "metadata:\n  name: a\n  annotations:\n    # keep deletion protection\n    serviceoperator.azure.com/reconcile-policy: detach-on-delete\nspec: {}\n",
            RemoveAnnotation,
            "metadata:\n  name: a\nspec: {}\n",
        ),
        case(
            "remove the only annotation: comment above the key, comment on the key line, blank line inside",
            "metadata:\n  name: a\n  # protection below\n  annotations: # set by hand\n\n    # why\n    serviceoperator.azure.com/reconcile-policy: skip\n  labels: {a: b}\n",
            RemoveAnnotation,
            "metadata:\n  name: a\n  # protection below\n  labels: {a: b}\n",
        ),
        case(
            "remove the only annotation: trailing comments: on the entry, on the lines after it inside the mapping, not after it",
            "metadata:\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: skip # old\n    # (end of annotations)\n  # about labels\n  labels: {}\n# about spec\nspec: {}\n",
            RemoveAnnotation,
            "metadata:\n  # about labels\n  labels: {}\n# about spec\nspec: {}\n",
        ),
        case(
            "remove the only annotation: a trailing comment line at the end of the file",
            "metadata:\n  name: a\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: skip\n    # last words",
            RemoveAnnotation,
            "metadata:\n  name: a\n",
        ),
        case(
            "remove the only annotation: indent 4",
            "metadata:\n    name: a\n    annotations:\n        # keep\n        serviceoperator.azure.com/reconcile-policy: skip\n        # after\n    # outside\nspec:\n    x: 1\n",
            RemoveAnnotation,
            "metadata:\n    name: a\n    # outside\nspec:\n    x: 1\n",
        ),
        case(
            "remove the only annotation: CRLF",
            "metadata:\r\n  name: a\r\n  annotations:\r\n    # keep\r\n    serviceoperator.azure.com/reconcile-policy: skip\r\n    # after\r\nspec: {}\r\n",
            RemoveAnnotation,
            "metadata:\r\n  name: a\r\nspec: {}\r\n",
        ),
        case(
            "remove the only annotation: BOM, the mapping's key on the first line",
            "\u{feff}metadata:\n  annotations:\n    # keep\n    serviceoperator.azure.com/reconcile-policy: skip\n  name: a\n",
            RemoveAnnotation,
            "\u{feff}metadata:\n  name: a\n",
        ),
        case(
            "remove the only annotation: flow annotations in block metadata",
            "metadata:\n  # above\n  annotations: {serviceoperator.azure.com/reconcile-policy: skip} # old\n  name: a\n",
            RemoveAnnotation,
            "metadata:\n  # above\n  name: a\n",
        ),
        case(
            "remove the only annotation: flow annotations over several lines, a comment inside",
            "metadata:\n  annotations: {\n    # keep\n    serviceoperator.azure.com/reconcile-policy: skip\n  }\n  name: a\n",
            RemoveAnnotation,
            "metadata:\n  name: a\n",
        ),
        case(
            "remove one of several block annotations",
            "metadata:\n  annotations:\n    a: b\n    serviceoperator.azure.com/reconcile-policy: skip\n    c: d\n",
            RemoveAnnotation,
            "metadata:\n  annotations:\n    a: b\n    c: d\n",
        ),
        case(
            "remove one of several flow annotations",
            "metadata:\n  annotations: {serviceoperator.azure.com/reconcile-policy: skip, a: b}\n",
            RemoveAnnotation,
            "metadata:\n  annotations: {a: b}\n",
        ),
        case(
            "remove the only entry at the top: the BOM and what follows stay",
            "\u{feff}commonAnnotations:\n  # why\n  serviceoperator.azure.com/reconcile-policy: skip\n# resources follow\nresources:\n  - ../base\n",
            RemoveEntryAt(&["commonAnnotations"]),
            "\u{feff}# resources follow\nresources:\n  - ../base\n",
        ),
        case(
            "remove the only entry at the top: last in a CRLF file",
            "resources:\r\n    - ../base\r\ncommonAnnotations:\r\n    # why\r\n    serviceoperator.azure.com/reconcile-policy: skip\r\n",
            RemoveEntryAt(&["commonAnnotations"]),
            "resources:\r\n    - ../base\r\n",
        ),
        case(
            "set nested: a top-level mapping created",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\n",
            SetEntryAt(&["commonAnnotations"], "skip"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\ncommonAnnotations:\n  serviceoperator.azure.com/reconcile-policy: skip\n",
        ),
        case(
            "set nested: block mappings created with the file's indent",
            "kind: Kustomization\nspec:\n    path: ./a\n    prune: true\n",
            SetEntryAt(&["spec", "commonMetadata", "annotations"], "skip"),
            "kind: Kustomization\nspec:\n    path: ./a\n    prune: true\n    commonMetadata:\n        annotations:\n            serviceoperator.azure.com/reconcile-policy: skip\n",
        ),
        case(
            "set nested: flow mappings created in a flow mapping",
            "spec: {path: ./a}\n",
            SetEntryAt(&["spec", "commonMetadata", "annotations"], "skip"),
            "spec: {path: ./a, commonMetadata: {annotations: {serviceoperator.azure.com/reconcile-policy: skip}}}\n",
        ),
        case(
            "set nested: a null value filled",
            "commonAnnotations:\nresources: []\n",
            SetEntryAt(&["commonAnnotations"], "skip"),
            "commonAnnotations:\n  serviceoperator.azure.com/reconcile-policy: skip\nresources: []\n",
        ),
        case(
            "set raw: appended to a block mapping",
            "clusters:\n  a: {paths: [x], role: passive}\n",
            SetEntryRawAt(&["clusters"], "b", "{paths: [\"y/**\"], role: active}"),
            "clusters:\n  a: {paths: [x], role: passive}\n  b: {paths: [\"y/**\"], role: active}\n",
        ),
        case(
            "set raw: into an empty flow mapping",
            "clusters: {}\n",
            SetEntryRawAt(&["clusters"], "b", "{paths: []}"),
            "clusters: {b: {paths: []}}\n",
        ),
        case(
            "set raw: a missing mapping created at the end",
            "rules: {}\nexclude:\n    - v\n",
            SetEntryRawAt(&["clusters"], "b", "{paths: []}"),
            "rules: {}\nexclude:\n    - v\nclusters:\n  b: {paths: []}\n",
        ),
        case(
            "set raw: an existing value replaced",
            "clusters:\n  a: {paths: [x]}\n",
            SetEntryRawAt(&["clusters"], "a", "{paths: [z]}"),
            "clusters:\n  a: {paths: [z]}\n",
        ),
        case(
            "remove items: block and flow sequences",
            "o:\n- A=1\n- Replace=true # x\n- B=2\nf: [A=1, Replace=true]\n",
            RemoveItems(&[(&["o"], 1), (&["f"], 1)]),
            "o:\n- A=1\n- B=2\nf: [A=1]\n",
        ),
        case(
            "remove items: a BOM is not indentation",
            "\u{feff}- a\n- b\n",
            RemoveItems(&[(&[], 0)]),
            "\u{feff}- b\n",
        ),
    ];

    /// The edits of `op` on `text`'s first document.
    fn edits(text: &str, root: &Node, op: &Op) -> Option<Vec<Edit>> {
        let at = |path: &[&str]| path.iter().try_fold(root, |node, key| node.get(key));
        match *op {
            SetAnnotation(value) => set_annotation(text, root, KEY, value).map(|e| vec![e]),
            RemoveAnnotation => remove_annotation(text, root, KEY),
            RemoveEntryAt(path) => remove_entry_at(text, root, path, KEY),
            SetEntryAt(path, value) => set_entry_at(text, root, path, KEY, value).map(|e| vec![e]),
            SetEntryRawAt(path, key, raw) => {
                set_entry_raw_at(text, root, path, key, raw).map(|e| vec![e])
            }
            RemoveItems(items) => items
                .iter()
                .map(|&(path, index)| remove_item(text, at(path)?, index))
                .collect(),
        }
    }

    /// Every case of `CASES`: the edit applies, gives the expected text byte for byte, and the
    /// result parses. Every failing case is reported by name.
    #[test]
    fn edit_cases() {
        let mut failed = Vec::new();
        for case in CASES {
            let arena = Arena::new();
            let stream = parse(&arena, case.input);
            let root = stream.documents[0].root.as_ref().unwrap();
            let Some(edits) = edits(case.input, root, &case.op) else {
                failed.push(format!("{}: the edit was refused", case.name));
                continue;
            };
            let Some(out) = apply_edits(case.input, &edits) else {
                failed.push(format!(
                    "{}: the edits overlap or fall outside the text",
                    case.name
                ));
                continue;
            };
            if out != case.expected {
                failed.push(format!(
                    "{}:\n  expected {:?}\n  actual   {:?}",
                    case.name, case.expected, out
                ));
            } else if parse(&Arena::new(), &out).error.is_some() {
                failed.push(format!(
                    "{}: the edited text does not parse:\n{out}",
                    case.name
                ));
            }
        }
        assert!(
            failed.is_empty(),
            "{} of {} edit cases failed:\n{}",
            failed.len(),
            CASES.len(),
            failed.join("\n")
        );
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
            let arena = crate::yaml::Arena::new();
            let stream = parse(&arena, &text);
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
