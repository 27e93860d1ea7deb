//! The bridge from our span tree to JSON: values for schema validation and serde, and JSON
//! pointers mapped back to the spans of the keys and values they name.

use serde_json::{Map, Number, Value};

use super::{Node, NodeKind, Style};
use crate::span::Span;

/// Why a YAML node has no JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// Where.
    pub span: Span,
    /// What.
    pub message: String,
}

/// The JSON value of a node, resolving plain scalars by YAML 1.2's core schema (null, booleans,
/// integers, floats; anything else is a string). Duplicate keys, aliases and non-scalar keys
/// are errors, located.
pub fn to_json(node: &Node) -> Result<Value, JsonError> {
    match &node.kind {
        NodeKind::Scalar { value, style } => Ok(match style {
            Style::Plain => plain_scalar(value),
            _ => Value::String(value.to_string()),
        }),
        NodeKind::Sequence { items, .. } => items
            .iter()
            .map(to_json)
            .collect::<Result<_, _>>()
            .map(Value::Array),
        NodeKind::Mapping { entries, .. } => {
            let mut map = Map::new();
            for entry in *entries {
                let Some(key) = entry.key.as_str() else {
                    return Err(JsonError {
                        span: entry.key.span,
                        message: "only string keys are supported here".into(),
                    });
                };
                if map.contains_key(key) {
                    return Err(JsonError {
                        span: entry.key.span,
                        message: format!("duplicate key `{key}`"),
                    });
                }
                map.insert(key.to_string(), to_json(&entry.value)?);
            }
            Ok(Value::Object(map))
        }
        NodeKind::Alias => Err(JsonError {
            span: node.span,
            message: "aliases (`*name`) are not supported here".into(),
        }),
    }
}

/// Resolve a plain scalar by the YAML 1.2 core schema.
pub fn plain_scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_int(text) {
        return Value::Number(n);
    }
    let float_like = text
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && text.bytes().any(|b| b.is_ascii_digit());
    if float_like {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text.to_string())
}

fn parse_int(text: &str) -> Option<Number> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(oct) = digits.strip_prefix("0o") {
        (8, oct)
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if negative {
        i64::from_str_radix(&format!("-{digits}"), radix)
            .ok()
            .map(Number::from)
    } else {
        u64::from_str_radix(digits, radix).ok().map(Number::from)
    }
}

/// What a JSON pointer names in the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Located {
    /// The mapping key that names the value, when the last step is a key.
    pub key: Option<Span>,
    /// The value.
    pub value: Span,
}

/// Follow a JSON pointer (`/a/b/0`, `~1` for `/`, `~0` for `~`) through the tree.
pub fn locate(root: &Node, pointer: &str) -> Option<Located> {
    let mut node = root;
    let mut key = None;
    for raw in pointer.split('/').skip(1) {
        let step = raw.replace("~1", "/").replace("~0", "~");
        match &node.kind {
            NodeKind::Mapping { entries, .. } => {
                let entry = entries
                    .iter()
                    .find(|e| e.key.as_str() == Some(step.as_str()))?;
                key = Some(entry.key.span);
                node = &entry.value;
            }
            NodeKind::Sequence { items, .. } => {
                node = items.get(step.parse::<usize>().ok()?)?;
                key = None;
            }
            _ => return None,
        }
    }
    Some(Located {
        key,
        value: node.span,
    })
}

/// The span best shown for a pointer: the value, or the key when the value is empty.
pub fn span_for(root: &Node, pointer: &str) -> Option<Span> {
    let located = locate(root, pointer)?;
    Some(match located.key {
        Some(key) if located.value.is_empty() => key,
        _ => located.value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    #[test]
    fn converts_with_core_schema() {
        let text = "a: 1\nb: '1'\nc: [true, ~, 1.5, -3, 0x1f, x]\nd:\n";
        let arena = crate::yaml::Arena::new();
        let stream = parse(&arena, text);
        let value = to_json(stream.documents[0].root.as_ref().unwrap()).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"a": 1, "b": "1", "c": [true, null, 1.5, -3, 31, "x"], "d": null})
        );
    }

    #[test]
    fn rejects_duplicate_keys_with_location() {
        let text = "a: 1\na: 2\n";
        let arena = crate::yaml::Arena::new();
        let stream = parse(&arena, text);
        let error = to_json(stream.documents[0].root.as_ref().unwrap()).unwrap_err();
        assert_eq!(error.span, Span::new(5, 6));
    }

    #[test]
    fn locates_pointers() {
        let text = "a:\n  b/c:\n    - x\n    - y\n";
        let arena = crate::yaml::Arena::new();
        let stream = parse(&arena, text);
        let root = stream.documents[0].root.as_ref().unwrap();
        let y = locate(root, "/a/b~1c/1").unwrap();
        assert_eq!(&text[y.value.start..y.value.end], "y");
        let bc = locate(root, "/a/b~1c").unwrap();
        assert_eq!(&text[bc.key.unwrap().start..bc.key.unwrap().end], "b/c");
        assert!(locate(root, "/a/zz").is_none());
    }
}
