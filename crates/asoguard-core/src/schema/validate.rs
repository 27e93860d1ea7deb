//! One object against its compiled CRD schema: the instance prepared as the API server would
//! see it, each validation error mapped to the exact key or value through the span tree, and
//! a short message (with "did you mean" for unknown keys and values).

use std::collections::HashSet;

use jsonschema::error::{TypeKind, ValidationError, ValidationErrorKind};
use serde_json::Value;

use super::CompiledSchema;
use crate::span::Span;
use crate::yaml::{Node, NodeKind, Style, json};

/// One schema violation, ready to become a diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaFinding {
    /// Where: a key or value. `None` for the object as a whole (a required top-level field).
    pub span: Option<Span>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

/// Whether a key is a strategic merge patch directive (`$patch`, `$retainKeys`,
/// `$setElementOrder/...`, `$deleteFromPrimitiveList/...`).
fn is_patch_directive(key: &str) -> bool {
    key == "$patch"
        || key == "$retainKeys"
        || key.starts_with("$setElementOrder/")
        || key.starts_with("$deleteFromPrimitiveList/")
}

/// Whether a string holds a Flux `${VAR}` substitution placeholder, replaced before apply.
pub fn is_placeholder(text: &str) -> bool {
    text.find("${").is_some_and(|i| text[i..].contains('}'))
}

/// Validate the object whose document root is `root` (in `text`) against `schema`. A
/// `partial` object (a Kustomize strategic merge patch) is judged on what it says, not on what
/// it leaves out: no finding for missing or emptied (deleted) required fields, and its
/// `$patch`-style directives are not unknown keys.
///
/// Before validation, `status` is removed (the API server ignores it on writes, through the
/// status subresource) and so are keys whose value is null (the API server prunes nulls of
/// fields that are not `nullable`). Errors on `${VAR}` placeholders are dropped: Flux
/// substitutes them before apply. When a value has the wrong type, other errors about that
/// same value are dropped: the type is the cause.
pub fn validate(
    schema: &CompiledSchema,
    root: &Node,
    text: &str,
    partial: bool,
) -> Vec<SchemaFinding> {
    let mut instance = match json::to_json(root) {
        Ok(value) => value,
        Err(e) => {
            return vec![SchemaFinding {
                span: Some(e.span),
                message: format!(
                    "this {} cannot be checked against its CRD schema: {}",
                    schema.label(),
                    e.message
                ),
                help: None,
            }];
        }
    };
    if let Some(object) = instance.as_object_mut() {
        object.remove("status");
    }
    let mut nulls = HashSet::new();
    if has_null(&instance) {
        strip_nulls(&mut instance, &mut Vec::new(), &mut nulls);
    }
    // Most objects are valid: answer those without building errors.
    if schema.validator().is_valid(&instance) {
        return Vec::new();
    }
    let cx = Cx {
        schema,
        root,
        text,
        instance: &instance,
        nulls: &nulls,
        partial,
    };
    let mut mapped: Vec<Mapped> = Vec::new();
    for error in schema.validator().iter_errors(&instance) {
        cx.map(&error, &mut mapped);
    }
    let mistyped: HashSet<&str> = mapped
        .iter()
        .filter(|m| m.role == Role::Type)
        .map(|m| m.pointer.as_str())
        .collect();
    // A misspelled or misplaced required field is one mistake: the unknown key whose hint
    // points into the missing field says it all.
    let suggested: HashSet<&str> = mapped
        .iter()
        .filter_map(|m| m.suggests.as_deref())
        .collect();
    let mut findings: Vec<SchemaFinding> = Vec::new();
    for m in &mapped {
        let keep = match m.role {
            Role::Type => true,
            Role::Required => !suggested.iter().any(|s| {
                s.strip_prefix(m.pointer.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            }),
            Role::Other => !mistyped.contains(m.pointer.as_str()),
        };
        if keep && !findings.contains(&m.finding) {
            findings.push(m.finding.clone());
        }
    }
    findings.sort_by_key(|f| f.span.map_or(0, |s| s.start));
    findings
}

/// A finding with the instance location it is about.
struct Mapped {
    pointer: String,
    role: Role,
    /// For an unknown key: the pointer of the declared field it most likely means.
    suggests: Option<String>,
    finding: SchemaFinding,
}

/// What kind of finding, for deciding which ones say the same thing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A value of the wrong type: other findings on that value follow from it.
    Type,
    /// A missing required field.
    Required,
    /// Anything else.
    Other,
}

/// Whether a null appears anywhere (most objects have none, and are left as they are).
fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.values().any(has_null),
        Value::Array(items) => items.iter().any(has_null),
        _ => false,
    }
}

/// Remove null-valued keys everywhere, recording their pointers.
fn strip_nulls(value: &mut Value, path: &mut Vec<String>, nulls: &mut HashSet<String>) {
    match value {
        Value::Object(map) => {
            map.retain(|key, v| {
                if v.is_null() {
                    path.push(key.clone());
                    nulls.insert(pointer(path));
                    path.pop();
                }
                !v.is_null()
            });
            for (key, v) in map.iter_mut() {
                path.push(key.clone());
                strip_nulls(v, path, nulls);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                path.push(i.to_string());
                strip_nulls(v, path, nulls);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A JSON pointer from unescaped segments.
fn pointer<S: AsRef<str>>(segments: &[S]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", s.as_ref().replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// The unescaped segments of a JSON pointer.
fn segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

struct Cx<'x, 'a> {
    schema: &'x CompiledSchema,
    root: &'x Node<'a>,
    text: &'x str,
    instance: &'x Value,
    nulls: &'x HashSet<String>,
    partial: bool,
}

impl Cx<'_, '_> {
    fn map(&self, error: &ValidationError, out: &mut Vec<Mapped>) {
        let at = error.instance_path().as_str().to_string();
        let schema_at = error.schema_path().as_str();
        let label = self.schema.label();
        let value = error.instance();
        if let Value::String(s) = value.as_ref() {
            if is_placeholder(s) {
                return;
            }
        }
        let path = self.dotted(&at);
        let mut push = |pointer: String, role: Role, finding: SchemaFinding| {
            out.push(Mapped {
                pointer,
                role,
                suggests: None,
                finding,
            })
        };
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let parent_schema = schema_at
                    .strip_suffix("/additionalProperties")
                    .unwrap_or(schema_at);
                let declared = self.properties(parent_schema);
                for key in unexpected
                    .iter()
                    .filter(|k| !(is_placeholder(k) || self.partial && is_patch_directive(k)))
                {
                    let key_at = format!("{at}{}", pointer(&[key]));
                    let (hint, suggests) = match suggest(key, declared.iter().map(String::as_str)) {
                        Some(s) => (
                            Some(format!("; did you mean `{s}`?")),
                            Some(format!("{at}{}", pointer(&[s]))),
                        ),
                        None => match self.elsewhere(parent_schema, &at, key) {
                            Some((hint, place)) => (Some(hint), place),
                            None => (None, None),
                        },
                    };
                    let place = if path.is_empty() {
                        String::new()
                    } else {
                        format!(" of `{path}`")
                    };
                    let help = match hint {
                        Some(_) => "the API server drops fields its schema does not declare".into(),
                        None => format!(
                            "the API server drops fields its schema does not declare; fields{place}: {}",
                            list(&declared, 25)
                        ),
                    };
                    out.push(Mapped {
                        pointer: key_at.clone(),
                        role: Role::Other,
                        suggests,
                        finding: SchemaFinding {
                            span: self.key_span(&key_at),
                            message: format!(
                                "`{}` is not a field of {label}{}",
                                self.dotted(&key_at),
                                hint.unwrap_or_default()
                            ),
                            help: Some(help),
                        },
                    });
                }
            }
            ValidationErrorKind::Required { property } => {
                let Some(name) = property.as_str().filter(|_| !self.partial) else {
                    return;
                };
                let child = format!("{at}{}", pointer(&[name]));
                let shown = self.dotted(&child);
                if self.nulls.contains(&child) {
                    let parent_schema = schema_at.strip_suffix("/required").unwrap_or(schema_at);
                    if self.nullable(parent_schema, name) {
                        return;
                    }
                    push(
                        child.clone(),
                        Role::Other,
                        SchemaFinding {
                            span: self.key_span(&child),
                            message: format!("`{shown}` is empty: {label} requires a value"),
                            help: None,
                        },
                    );
                    return;
                }
                let parent = if at.is_empty() {
                    "the top level".to_string()
                } else {
                    format!("`{path}`")
                };
                push(
                    child,
                    Role::Required,
                    SchemaFinding {
                        span: self.parent_span(&at),
                        message: format!("`{shown}` is missing: {label} requires it"),
                        help: Some(format!("add `{name}` under {parent}")),
                    },
                );
            }
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(t) => article(&t.to_string()),
                    TypeKind::Multiple(set) => set
                        .iter()
                        .map(|t| article(&t.to_string()))
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                let found = describe(value);
                push(
                    at.clone(),
                    Role::Type,
                    SchemaFinding {
                        span: self.value_span(&at),
                        message: format!("`{path}` must be {expected}, not {found}"),
                        help: self.type_help(&at, value, &expected),
                    },
                );
            }
            ValidationErrorKind::Enum { options } => {
                let allowed: Vec<String> = options
                    .as_array()
                    .map(|o| o.iter().map(show).collect())
                    .unwrap_or_default();
                let hint = value
                    .as_str()
                    .and_then(|v| suggest(v, allowed.iter().map(String::as_str)))
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                push(
                    at.clone(),
                    Role::Other,
                    SchemaFinding {
                        span: self.value_span(&at),
                        message: format!(
                            "`{path}` is `{}`, which {label} does not allow{hint}",
                            show(value)
                        ),
                        help: Some(format!("allowed values: {}", list(&allowed, 30))),
                    },
                );
            }
            kind => {
                let detail = match kind {
                    ValidationErrorKind::Pattern { pattern } => format!(
                        "is `{}`, which does not match the pattern `{pattern}`",
                        show(value)
                    ),
                    ValidationErrorKind::Format { format } => {
                        format!("is `{}`, not a valid {format}", show(value))
                    }
                    ValidationErrorKind::MaxLength { limit } => {
                        format!("is longer than {}", plural(*limit, "character"))
                    }
                    ValidationErrorKind::MinLength { limit } => {
                        format!("is shorter than {}", plural(*limit, "character"))
                    }
                    ValidationErrorKind::Maximum { limit } => {
                        format!("is {}, above the maximum of {limit}", show(value))
                    }
                    ValidationErrorKind::Minimum { limit } => {
                        format!("is {}, below the minimum of {limit}", show(value))
                    }
                    ValidationErrorKind::ExclusiveMaximum { limit } => {
                        format!("is {}; it must be less than {limit}", show(value))
                    }
                    ValidationErrorKind::ExclusiveMinimum { limit } => {
                        format!("is {}; it must be greater than {limit}", show(value))
                    }
                    ValidationErrorKind::MaxItems { limit } => {
                        format!("has more than {}", plural(*limit, "item"))
                    }
                    ValidationErrorKind::MinItems { limit } => {
                        format!("has fewer than {}", plural(*limit, "item"))
                    }
                    ValidationErrorKind::UniqueItems => "has duplicate items".to_string(),
                    ValidationErrorKind::AnyOf { .. }
                    | ValidationErrorKind::OneOfNotValid { .. } => {
                        "matches none of the shapes its schema allows".to_string()
                    }
                    _ => format!("is invalid: {error}"),
                };
                let subject = if path.is_empty() {
                    format!("this {label}")
                } else {
                    format!("`{path}`")
                };
                push(
                    at.clone(),
                    Role::Other,
                    SchemaFinding {
                        span: self.value_span(&at),
                        message: format!("{subject} {detail}"),
                        help: None,
                    },
                );
            }
        }
    }

    /// A pointer as people read it: `spec.agentPoolProfiles[0].name`.
    fn dotted(&self, at: &str) -> String {
        let mut out = String::new();
        let mut value = Some(self.instance);
        for segment in segments(at) {
            match value {
                Some(Value::Array(items)) => {
                    out.push_str(&format!("[{segment}]"));
                    value = segment.parse::<usize>().ok().and_then(|i| items.get(i));
                }
                other => {
                    let plain = !segment.is_empty()
                        && segment
                            .chars()
                            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '$');
                    if !plain {
                        out.push_str(&format!("[{}]", Value::String(segment.clone())));
                    } else {
                        if !out.is_empty() {
                            out.push('.');
                        }
                        out.push_str(&segment);
                    }
                    value = other.and_then(|v| v.get(&segment));
                }
            }
        }
        out
    }

    /// The key and value nodes a pointer names.
    fn find(&self, at: &str) -> Option<(Option<&Node<'_>>, &Node<'_>)> {
        let mut node = self.root;
        let mut key = None;
        for segment in segments(at) {
            match &node.kind {
                NodeKind::Mapping { entries, .. } => {
                    let entry = entries
                        .iter()
                        .find(|e| e.key.as_str() == Some(segment.as_str()))?;
                    key = Some(&entry.key);
                    node = &entry.value;
                }
                NodeKind::Sequence { items, .. } => {
                    node = items.get(segment.parse::<usize>().ok()?)?;
                    key = None;
                }
                _ => return None,
            }
        }
        Some((key, node))
    }

    fn key_span(&self, at: &str) -> Option<Span> {
        let (key, value) = self.find(at)?;
        Some(key.map_or(value.span, |k| k.span))
    }

    /// A value's span; for a block collection, which spans lines, its key (or its first line).
    fn value_span(&self, at: &str) -> Option<Span> {
        let (key, node) = self.find(at)?;
        let covered = self.text.get(node.span.start..node.span.end).unwrap_or("");
        let collection = matches!(
            node.kind,
            NodeKind::Mapping { .. } | NodeKind::Sequence { .. }
        );
        if node.span.is_empty() || (collection && !node.is_flow() && covered.contains('\n')) {
            return Some(match key {
                Some(key) => key.span,
                None => self.first_line(node),
            });
        }
        Some(node.span)
    }

    /// Where a missing field's parent is: its key, or the first line of an item; `None` for
    /// the object itself.
    fn parent_span(&self, at: &str) -> Option<Span> {
        if at.is_empty() {
            return None;
        }
        let (key, node) = self.find(at)?;
        Some(key.map_or_else(|| self.first_line(node), |k| k.span))
    }

    fn first_line(&self, node: &Node) -> Span {
        let start = node.span.start;
        let end = self
            .text
            .get(start..node.span.end)
            .and_then(|t| t.find(['\n', '\r']))
            .map_or(node.span.end, |i| start + i);
        Span::new(start, end)
    }

    /// The property names the schema at `schema_at` declares.
    fn properties(&self, schema_at: &str) -> Vec<String> {
        self.schema
            .schema
            .pointer(schema_at)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn nullable(&self, schema_at: &str, name: &str) -> bool {
        let Some(property) = self
            .schema
            .schema
            .pointer(schema_at)
            .and_then(|s| s.get("properties"))
            .and_then(|p| p.get(name))
        else {
            return false;
        };
        match property.get("type") {
            Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
            Some(_) => false,
            // No type: anything goes, null too.
            None => true,
        }
    }

    /// Where an unknown key would be valid: one level down (`did you mean spec.x.key?`), or
    /// in an object above. Returns the hint, and the pointer of that place when it is one
    /// object (not every item of a list).
    fn elsewhere(
        &self,
        parent_schema: &str,
        parent_at: &str,
        key: &str,
    ) -> Option<(String, Option<String>)> {
        let parent = self.schema.schema.pointer(parent_schema)?;
        if let Some(children) = parent.get("properties").and_then(Value::as_object) {
            for (name, child) in children {
                let items = child.get("items");
                let has = items
                    .unwrap_or(child)
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| p.contains_key(key));
                if !has {
                    continue;
                }
                let mut at = segments(parent_at);
                at.push(name.clone());
                let (shown, place) = if items.is_some() {
                    (format!("{}[].{key}", self.dotted(&pointer(&at))), None)
                } else {
                    at.push(key.to_string());
                    (self.dotted(&pointer(&at)), Some(pointer(&at)))
                };
                return Some((format!("; did you mean `{shown}`?"), place));
            }
        }
        // The objects above: walk the schema path, level by level, beside the instance path.
        let mut levels: Vec<(String, usize)> = vec![(String::new(), 0)];
        let schema_segments = segments(parent_schema);
        let mut i = 0;
        let mut depth = 0;
        while i < schema_segments.len() {
            let step = schema_segments[i].as_str();
            let consumed = match step {
                "properties" | "patternProperties" | "allOf" | "anyOf" | "oneOf" => 2,
                _ => 1,
            };
            i = (i + consumed).min(schema_segments.len());
            if matches!(
                step,
                "properties" | "patternProperties" | "items" | "additionalProperties"
            ) {
                depth += 1;
                levels.push((pointer(&schema_segments[..i]), depth));
            }
        }
        let instance_segments = segments(parent_at);
        for (schema_at, depth) in levels.iter().rev().skip(1) {
            if !self.properties(schema_at).iter().any(|p| p == key) {
                continue;
            }
            let Some(above) = instance_segments.get(..*depth) else {
                continue;
            };
            let mut at = above.to_vec();
            at.push(key.to_string());
            let place = self.dotted(&pointer(above));
            let hint = if place.is_empty() {
                format!("; `{key}` belongs at the top level")
            } else {
                format!("; `{key}` is a field of `{place}`")
            };
            return Some((hint, Some(pointer(&at))));
        }
        None
    }

    fn type_help(&self, at: &str, value: &Value, expected: &str) -> Option<String> {
        let (_, node) = self.find(at)?;
        let style = node.style()?;
        match value {
            Value::String(s) => {
                let as_plain = json::plain_scalar(s);
                let quoted = matches!(style, Style::SingleQuoted | Style::DoubleQuoted);
                let fits = match as_plain {
                    Value::Number(_) => expected.contains("integer") || expected.contains("number"),
                    Value::Bool(_) => expected.contains("boolean"),
                    _ => false,
                };
                if quoted && fits {
                    return Some(format!(
                        "remove the quotes: `{}` is a string in YAML",
                        self.text.get(node.span.start..node.span.end).unwrap_or(s)
                    ));
                }
                let yaml11 = ["yes", "no", "on", "off", "y", "n"];
                if style == Style::Plain
                    && expected.contains("boolean")
                    && yaml11.contains(&s.to_ascii_lowercase().as_str())
                {
                    return Some(format!(
                        "`{s}` is a string in YAML 1.2 and a boolean only to YAML 1.1 parsers: write `true` or `false`"
                    ));
                }
                None
            }
            Value::Number(_) | Value::Bool(_) if expected.contains("string") => {
                let raw = self.text.get(node.span.start..node.span.end)?;
                Some(format!("quote it: `\"{raw}\"`"))
            }
            _ => None,
        }
    }
}

/// `a string`, `an integer`...
fn article(kind: &str) -> String {
    let an = kind.starts_with(['a', 'e', 'i', 'o', 'u']);
    if kind == "null" {
        "null".to_string()
    } else if an {
        format!("an {kind}")
    } else {
        format!("a {kind}")
    }
}

/// What a value is, for "not a ...".
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// A value as shown in a message: strings as they are, the rest as JSON, long ones cut.
fn show(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `a, b, c` in backquotes, at most `max` of them.
fn list(items: &[String], max: usize) -> String {
    let mut shown: Vec<String> = items.iter().take(max).map(|i| format!("`{i}`")).collect();
    if items.len() > max {
        shown.push(format!("and {} more", items.len() - max));
    }
    if shown.is_empty() {
        "none".into()
    } else {
        shown.join(", ")
    }
}

use crate::suggest::closest as suggest;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::CrdStore;
    use crate::yaml::parse;
    use std::path::Path;

    const CRD: &str = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [owner]
            properties:
              azureName: {type: string, maxLength: 5}
              owner:
                type: object
                required: [name]
                properties:
                  name: {type: string}
              size: {type: integer, minimum: 1}
              enabled: {type: boolean}
              tier: {type: string, enum: [Basic, Standard, Premium]}
              version: {type: string}
              network:
                type: object
                properties:
                  subnet: {type: string, pattern: '^10\\.'}
              pools:
                type: array
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    count: {type: integer}
          status:
            type: object
            properties:
              ready: {type: boolean}
";

    /// Validate `spec` (YAML, indented by 2) and return (line:column, message) of each finding.
    fn check(spec: &str) -> Vec<(String, String)> {
        check_as(spec, false)
    }

    fn check_as(spec: &str, partial: bool) -> Vec<(String, String)> {
        let store = CrdStore::from_yaml(Path::new("crd.yaml"), CRD).unwrap();
        let schema = store
            .get("example.com", "Widget")
            .unwrap()
            .schema("v1")
            .unwrap()
            .unwrap();
        let text = format!(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n{spec}"
        );
        let arena = crate::yaml::Arena::new();
        let stream = parse(&arena, &text);
        let root = stream.documents[0].root.as_ref().unwrap();
        let lines = crate::span::LineIndex::new(&text);
        validate(&schema, root, &text, partial)
            .into_iter()
            .map(|f| {
                let at = f.span.map_or("object".to_string(), |s| {
                    let lc = lines.line_col(&text, s.start);
                    format!("{}:{}", lc.line, lc.column)
                });
                (at, f.message)
            })
            .collect()
    }

    #[test]
    fn clean_object_has_no_finding() {
        let found = check(
            "  owner: {name: rg}\n  size: 2\n  tier: Basic\n  pools:\n  - name: a\n    count: 1\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn unknown_key_at_the_key_with_did_you_mean() {
        let found = check("  owner: {name: rg}\n  azureNme: x\n");
        assert_eq!(
            found,
            [(
                "7:3".to_string(),
                "`spec.azureNme` is not a field of Widget (v1); did you mean `azureName`?"
                    .to_string()
            )]
        );
    }

    #[test]
    fn a_misspelled_required_field_is_one_finding() {
        let found = check("  ownr: {name: rg}\n");
        assert_eq!(
            found,
            [(
                "6:3".to_string(),
                "`spec.ownr` is not a field of Widget (v1); did you mean `owner`?".to_string()
            )]
        );
    }

    #[test]
    fn a_required_field_at_the_wrong_depth_is_one_finding() {
        let found = check("  name: rg\n");
        assert_eq!(
            found,
            [(
                "6:3".to_string(),
                "`spec.name` is not a field of Widget (v1); did you mean `spec.owner.name`?"
                    .to_string()
            )],
            "the missing `spec.owner` is the same mistake"
        );
    }

    #[test]
    fn a_patch_is_judged_on_what_it_says_not_on_what_it_leaves_out() {
        let patch = "  size: 0\n  owner:\n  pools:\n  - count: 1\n  tags:\n    $patch: replace\n";
        let found = check_as(patch, true);
        let messages: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`spec.size` is 0, below the minimum of 1",
                "`spec.tags` is not a field of Widget (v1)",
            ],
            "no missing `name` in the item, no emptied `owner`; `$patch` is a directive"
        );
        let whole = check_as(patch, false);
        assert_eq!(whole.len(), 4, "{whole:?}");
    }

    #[test]
    fn unknown_key_at_the_wrong_depth() {
        let found = check("  owner: {name: rg}\n  network:\n    size: 1\n");
        assert_eq!(found[0].0, "8:5");
        assert!(
            found[0].1.ends_with("; `size` is a field of `spec`"),
            "{found:?}"
        );
        let found = check("  owner: {name: rg}\n  subnet: 10.1.0.0\n");
        assert!(
            found[0].1.ends_with("did you mean `spec.network.subnet`?"),
            "{found:?}"
        );
    }

    #[test]
    fn missing_required_at_the_parent_key() {
        let found = check("  size: 1\n");
        assert_eq!(
            found,
            [(
                "5:1".to_string(),
                "`spec.owner` is missing: Widget (v1) requires it".to_string()
            )]
        );
        let found = check("  owner: {name: rg}\n  pools:\n  - count: 1\n");
        assert_eq!(
            found,
            [(
                "8:5".to_string(),
                "`spec.pools[0].name` is missing: Widget (v1) requires it".to_string()
            )]
        );
    }

    #[test]
    fn empty_required_value_is_reported_at_its_key() {
        let found = check("  owner:\n");
        assert_eq!(
            found,
            [(
                "6:3".to_string(),
                "`spec.owner` is empty: Widget (v1) requires a value".to_string()
            )]
        );
    }

    #[test]
    fn wrong_types_at_the_value() {
        let found = check("  owner: {name: rg}\n  size: \"3\"\n  version: 14\n  enabled: yes\n");
        assert_eq!(
            found,
            [
                (
                    "7:9".to_string(),
                    "`spec.size` must be an integer, not a string".to_string()
                ),
                (
                    "8:12".to_string(),
                    "`spec.version` must be a string, not an integer".to_string()
                ),
                (
                    "9:12".to_string(),
                    "`spec.enabled` must be a boolean, not a string".to_string()
                ),
            ]
        );
    }

    #[test]
    fn enum_pattern_bounds() {
        let found = check(
            "  owner: {name: rg}\n  tier: premium\n  network: {subnet: 192.168.0.0}\n  size: 0\n  azureName: toolong\n",
        );
        let messages: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`spec.tier` is `premium`, which Widget (v1) does not allow; did you mean `Premium`?",
                "`spec.network.subnet` is `192.168.0.0`, which does not match the pattern `^10\\.`",
                "`spec.size` is 0, below the minimum of 1",
                "`spec.azureName` is longer than 5 characters",
            ]
        );
    }

    #[test]
    fn placeholders_are_not_errors() {
        let found = check(
            "  owner: {name: '${RG}'}\n  size: ${SIZE}\n  enabled: ${ENABLED:=true}\n  tier: ${TIER}\n  azureName: ${NAME_THAT_IS_LONG}\n",
        );
        assert!(found.is_empty(), "{found:?}");
        assert!(is_placeholder("rg-${ENV}"));
        assert!(!is_placeholder("$5"));
    }

    #[test]
    fn status_is_not_validated() {
        let text = "  owner: {name: rg}\nstatus:\n  ready: maybe\n  unknown: 1\n";
        assert!(check(text).is_empty());
    }
}
