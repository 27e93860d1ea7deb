//! Kubernetes `openAPIV3Schema` (a CRD version's structural schema) to JSON Schema draft
//! 2020-12, keeping what the API server checks and dropping what it does not.
//!
//! What changes on the way:
//! - `nullable: true` adds `"null"` to `type`;
//! - `x-kubernetes-int-or-string: true` becomes `type: [integer, string]`;
//! - an object that declares `properties` rejects other keys (`additionalProperties: false`),
//!   unless it has `x-kubernetes-preserve-unknown-fields: true`: the API server would prune
//!   unknown keys, so the manifest would not mean what it says;
//! - `x-kubernetes-embedded-resource: true` requires `apiVersion` and `kind`, and allows
//!   `metadata`, as the API server does for embedded objects; the root always allows
//!   `apiVersion`, `kind` and `metadata`, and `metadata` never rejects unknown keys (the API
//!   server validates it itself; a CRD may only restrict `name` and `generateName`);
//! - OpenAPI's boolean `exclusiveMinimum`/`exclusiveMaximum` become draft 2020-12 numbers;
//! - `x-kubernetes-list-type: set` becomes `uniqueItems: true`;
//! - `format` is kept only for the formats in [`CHECKED_FORMATS`], which the validator checks
//!   as the API server does; other formats (`int32`, `int64`, `uri`...) are dropped;
//! - descriptions, defaults, examples and CEL rules (`x-kubernetes-validations`) are dropped:
//!   they do not constrain a manifest, or cannot be checked here.
//!
//! Value validations under `allOf`, `anyOf`, `oneOf` and `not` never get
//! `additionalProperties: false`: in a structural schema they may only restate properties
//! declared outside them, and JSON Schema would judge each branch's properties alone.

use serde_json::{Map, Value, json};

/// The draft the converted schemas declare.
pub const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Formats kept by the conversion, each checked by [`check_format`] as the API server checks it.
pub const CHECKED_FORMATS: [&str; 9] = [
    "date-time",
    "date",
    "uuid",
    "uuid3",
    "uuid4",
    "uuid5",
    "ipv4",
    "ipv6",
    "cidr",
];

/// Convert a CRD version's `openAPIV3Schema` (as JSON) into a JSON Schema (draft 2020-12).
/// Never fails: keywords it does not know are dropped, malformed values are skipped.
pub fn convert(openapi: &Value) -> Value {
    let mut schema = node(openapi, Place::Root);
    if let Value::Object(map) = &mut schema {
        map.insert("$schema".into(), Value::String(DRAFT.into()));
    }
    schema
}

/// Where a schema sits, which decides what it may get added.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The resource itself.
    Root,
    /// A property, item or map value: pruning applies, unknown keys are rejected.
    Structural,
    /// Under `allOf`/`anyOf`/`oneOf`/`not`: a value validation, never given new keys.
    Validation,
}

fn node(source: &Value, place: Place) -> Value {
    let Some(source) = source.as_object() else {
        // `true`/`false` schemas and anything malformed: keep booleans, accept the rest.
        return match source {
            Value::Bool(b) => Value::Bool(*b),
            _ => json!({}),
        };
    };
    let flag = |key: &str| source.get(key).and_then(Value::as_bool) == Some(true);
    let nullable = flag("nullable");
    let preserve_unknown = flag("x-kubernetes-preserve-unknown-fields");
    let embedded = flag("x-kubernetes-embedded-resource");
    let int_or_string = flag("x-kubernetes-int-or-string");
    let nested = if place == Place::Validation {
        Place::Validation
    } else {
        Place::Structural
    };

    let mut out = Map::new();
    let mut types: Vec<Value> = match source.get("type") {
        Some(Value::String(t)) if !t.is_empty() => vec![Value::String(t.clone())],
        _ if int_or_string => vec!["integer".into(), "string".into()],
        _ => Vec::new(),
    };
    if nullable && !types.is_empty() {
        types.push("null".into());
    }
    match types.len() {
        0 => {}
        1 => {
            out.insert("type".into(), types.remove(0));
        }
        _ => {
            out.insert("type".into(), Value::Array(types));
        }
    }

    for (key, value) in source {
        match key.as_str() {
            "enum" | "pattern" | "maxLength" | "minLength" | "maxItems" | "minItems"
            | "uniqueItems" | "multipleOf" | "maxProperties" | "minProperties" | "required" => {
                out.insert(key.clone(), value.clone());
            }
            "minimum" | "maximum" => {
                let exclusive = if key == "minimum" {
                    "exclusiveMinimum"
                } else {
                    "exclusiveMaximum"
                };
                if source.get(exclusive).and_then(Value::as_bool) == Some(true) {
                    out.insert(exclusive.into(), value.clone());
                } else {
                    out.insert(key.clone(), value.clone());
                }
            }
            "exclusiveMinimum" | "exclusiveMaximum" if value.is_number() => {
                out.insert(key.clone(), value.clone());
            }
            "format" => {
                if let Some(format) = value.as_str().filter(|f| CHECKED_FORMATS.contains(f)) {
                    out.insert(key.clone(), Value::String(format.into()));
                }
            }
            "properties" | "patternProperties" => {
                if let Some(properties) = value.as_object() {
                    let converted = properties
                        .iter()
                        .map(|(name, schema)| (name.clone(), node(schema, nested)))
                        .collect();
                    out.insert(key.clone(), Value::Object(converted));
                }
            }
            "additionalProperties" => {
                let converted = match value {
                    Value::Bool(b) => Value::Bool(*b),
                    schema => node(schema, nested),
                };
                out.insert(key.clone(), converted);
            }
            "items" => match value {
                Value::Array(tuple) => {
                    out.insert(
                        "prefixItems".into(),
                        Value::Array(tuple.iter().map(|s| node(s, nested)).collect()),
                    );
                }
                schema => {
                    out.insert(key.clone(), node(schema, nested));
                }
            },
            "allOf" | "anyOf" | "oneOf" => {
                if let Some(branches) = value.as_array() {
                    out.insert(
                        key.clone(),
                        Value::Array(
                            branches
                                .iter()
                                .map(|s| node(s, Place::Validation))
                                .collect(),
                        ),
                    );
                }
            }
            "not" => {
                out.insert(key.clone(), node(value, Place::Validation));
            }
            "x-kubernetes-list-type" if value.as_str() == Some("set") => {
                out.insert("uniqueItems".into(), Value::Bool(true));
            }
            // Annotations, defaults, CEL rules, references (not allowed in CRDs), and the
            // extensions handled above.
            _ => {}
        }
    }

    if place == Place::Root || embedded {
        let properties = out
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(properties) = properties {
            for (name, schema) in [
                ("apiVersion", json!({"type": "string"})),
                ("kind", json!({"type": "string"})),
                ("metadata", json!({"type": "object"})),
            ] {
                properties.entry(name).or_insert(schema);
            }
            // The API server validates metadata itself: a CRD may restrict `name`, but labels,
            // annotations and the rest stay allowed.
            if let Some(Value::Object(metadata)) = properties.get_mut("metadata") {
                metadata.remove("additionalProperties");
            }
        }
    }
    if embedded {
        let required = out
            .entry("required")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(required) = required {
            for name in ["apiVersion", "kind"] {
                if !required.iter().any(|r| r == name) {
                    required.push(Value::String(name.into()));
                }
            }
        }
    }
    let declares_properties = out
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    if place != Place::Validation
        && declares_properties
        && !preserve_unknown
        && !out.contains_key("additionalProperties")
    {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

/// Whether `value` satisfies `format` as the Kubernetes API server checks it (its `strfmt`
/// registry). Formats not in [`CHECKED_FORMATS`] always pass.
pub fn check_format(format: &str, value: &str) -> bool {
    match format {
        "date-time" => is_date_time(value),
        "date" => is_date(value),
        "uuid" | "uuid3" | "uuid4" | "uuid5" => is_uuid(value),
        "ipv4" => value.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => value.parse::<std::net::Ipv6Addr>().is_ok(),
        "cidr" => value.split_once('/').is_some_and(|(ip, bits)| {
            let bits = bits.parse::<u8>().ok();
            match (ip.parse::<std::net::IpAddr>(), bits) {
                (Ok(std::net::IpAddr::V4(_)), Some(b)) => b <= 32,
                (Ok(std::net::IpAddr::V6(_)), Some(b)) => b <= 128,
                _ => false,
            }
        }),
        _ => true,
    }
}

fn digits(text: &str, n: usize) -> bool {
    text.len() == n && text.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY-MM-DD` with a plausible month and day.
fn is_date(text: &str) -> bool {
    let mut parts = text.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    digits(y, 4)
        && digits(m, 2)
        && digits(d, 2)
        && (1..=12).contains(&m.parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&d.parse::<u8>().unwrap_or(0))
}

/// RFC 3339 date-time, as leniently as the API server's parser: `T` or a space between date
/// and time, optional fraction, zone `Z` or `±hh:mm`, or none.
fn is_date_time(text: &str) -> bool {
    let Some((date, rest)) = text.split_at_checked(10) else {
        return false;
    };
    if !is_date(date) {
        return false;
    }
    let Some(time) = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix('t'))
        .or_else(|| rest.strip_prefix(' '))
    else {
        return false;
    };
    let Some((hms, mut zone)) = time.split_at_checked(8) else {
        return false;
    };
    let hms: Vec<&str> = hms.split(':').collect();
    let in_range = |s: &str, max: u8| digits(s, 2) && s.parse::<u8>().is_ok_and(|v| v <= max);
    if hms.len() != 3 || !in_range(hms[0], 23) || !in_range(hms[1], 59) || !in_range(hms[2], 60) {
        return false;
    }
    if let Some(fraction) = zone.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        zone = &fraction[n..];
    }
    match zone {
        "" | "Z" | "z" => true,
        _ => {
            let Some(offset) = zone.strip_prefix(['+', '-']) else {
                return false;
            };
            let Some((h, m)) = offset.split_once(':') else {
                return false;
            };
            in_range(h, 23) && in_range(m, 59)
        }
    }
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validator(openapi: Value) -> jsonschema::Validator {
        crate::schema::compile(&convert(&openapi)).expect("compiles")
    }

    #[test]
    fn declared_properties_reject_unknown_keys() {
        let v = validator(json!({
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {"azureName": {"type": "string"}}}}
        }));
        assert!(v.is_valid(&json!({"spec": {"azureName": "x"}})));
        assert!(!v.is_valid(&json!({"spec": {"azureNme": "x"}})));
        // The root always allows the object's identity.
        assert!(v.is_valid(&json!({"apiVersion": "a/v1", "kind": "K", "metadata": {"name": "n"}})));
        assert!(!v.is_valid(&json!({"sepc": {}})));
    }

    #[test]
    fn metadata_stays_open_when_the_crd_restricts_its_name() {
        let v = validator(json!({
            "type": "object",
            "properties": {"metadata": {
                "type": "object",
                "properties": {"name": {"type": "string", "maxLength": 5}}
            }}
        }));
        assert!(v.is_valid(&json!({"metadata": {"name": "abc", "labels": {"a": "b"}}})));
        assert!(!v.is_valid(&json!({"metadata": {"name": "abcdef"}})));
    }

    #[test]
    fn objects_without_properties_and_maps_stay_open() {
        let v = validator(json!({
            "type": "object",
            "properties": {
                "open": {"type": "object"},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        }));
        assert!(v.is_valid(&json!({"open": {"anything": [1]}, "tags": {"a": "b"}})));
        assert!(!v.is_valid(&json!({"tags": {"a": 1}})));
    }

    #[test]
    fn preserve_unknown_fields_keeps_unknown_keys() {
        let v = validator(json!({
            "type": "object",
            "properties": {"raw": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "properties": {"known": {"type": "integer"}}
            }}
        }));
        assert!(v.is_valid(&json!({"raw": {"known": 1, "other": {"x": true}}})));
        assert!(!v.is_valid(&json!({"raw": {"known": "one"}})));
    }

    #[test]
    fn nullable_allows_null_and_only_then() {
        let v = validator(json!({
            "type": "object",
            "properties": {
                "a": {"type": "string", "nullable": true},
                "b": {"type": "string"}
            }
        }));
        assert!(v.is_valid(&json!({"a": null})));
        assert!(!v.is_valid(&json!({"b": null})));
        assert!(!v.is_valid(&json!({"a": 1})));
    }

    #[test]
    fn int_or_string_takes_either() {
        let v = validator(json!({
            "type": "object",
            "properties": {"port": {
                "x-kubernetes-int-or-string": true,
                "anyOf": [{"type": "integer"}, {"type": "string"}]
            }}
        }));
        assert!(v.is_valid(&json!({"port": 80})));
        assert!(v.is_valid(&json!({"port": "http"})));
        assert!(!v.is_valid(&json!({"port": true})));
        assert!(!v.is_valid(&json!({"port": 1.5})));
        let converted = convert(&json!({"x-kubernetes-int-or-string": true}));
        assert_eq!(converted["type"], json!(["integer", "string"]));
    }

    #[test]
    fn embedded_resource_needs_api_version_and_kind() {
        let v = validator(json!({
            "type": "object",
            "properties": {"template": {
                "type": "object",
                "x-kubernetes-embedded-resource": true,
                "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
            }}
        }));
        assert!(v.is_valid(&json!({"template": {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "spec": {"a": 1}
        }})));
        assert!(!v.is_valid(&json!({"template": {"spec": {}}})));
        assert!(!v.is_valid(&json!({"template": {"apiVersion": "v1", "kind": "K", "extra": 1}})));
    }

    #[test]
    fn value_validations_get_no_additional_properties() {
        let converted = convert(&json!({
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
            "allOf": [{"properties": {"a": {"minLength": 2}}}]
        }));
        assert_eq!(converted["additionalProperties"], json!(false));
        for branch in converted["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .chain(converted["allOf"].as_array().unwrap())
        {
            assert!(branch.get("additionalProperties").is_none(), "{branch}");
        }
        let v = crate::schema::compile(&converted).unwrap();
        assert!(v.is_valid(&json!({"a": "xy"})));
        assert!(!v.is_valid(&json!({"a": "x"})));
        assert!(!v.is_valid(&json!({"a": "xy", "b": "z"})));
    }

    #[test]
    fn openapi_exclusive_bounds_and_formats() {
        let converted = convert(&json!({
            "type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 10, "format": "int64"
        }));
        assert_eq!(converted["exclusiveMinimum"], json!(0));
        assert!(converted.get("minimum").is_none());
        assert_eq!(converted["maximum"], json!(10));
        assert!(converted.get("format").is_none(), "int64 is not checked");
        let v = crate::schema::compile(&converted).unwrap();
        assert!(!v.is_valid(&json!(0)));
        assert!(v.is_valid(&json!(10)));

        let v = validator(json!({"type": "string", "format": "date-time"}));
        assert!(v.is_valid(&json!("2024-01-31T10:00:00Z")));
        assert!(v.is_valid(&json!("2024-01-31 10:00:00.5+02:00")));
        assert!(!v.is_valid(&json!("yesterday")));
        let v = validator(json!({"type": "string", "format": "uuid"}));
        assert!(v.is_valid(&json!("00000000-0000-0000-0000-00000000ABCD")));
        assert!(!v.is_valid(&json!("not-a-uuid")));
    }

    #[test]
    fn formats_are_checked_like_the_api_server() {
        assert!(check_format("cidr", "10.0.0.0/16"));
        assert!(check_format("cidr", "fd00::/8"));
        assert!(!check_format("cidr", "10.0.0.0/33"));
        assert!(!check_format("ipv4", "10.0.0"));
        assert!(check_format("date", "2024-02-29"));
        assert!(!check_format("date", "2024-13-01"));
        assert!(!check_format("date-time", "2024-01-01T25:00:00Z"));
        assert!(check_format("hostname", "anything: not checked"));
    }

    #[test]
    fn descriptions_defaults_and_cel_are_dropped() {
        let converted = convert(&json!({
            "description": "d", "default": {}, "x-kubernetes-validations": [{"rule": "self.a > 0"}],
            "type": "object", "properties": {"a": {"type": "integer", "description": "x", "example": 1}}
        }));
        assert_eq!(
            converted,
            json!({
                "$schema": DRAFT,
                "type": "object",
                "properties": {
                    "a": {"type": "integer"},
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object"}
                },
                "additionalProperties": false
            })
        );
    }

    /// Any JSON value, nested a few levels, with keys drawn from schema keywords so that
    /// the conversion's branches are reached.
    fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (-1e6f64..1e6).prop_map(|n| json!(n)),
            "[a-z(){}\\[\\]^$.*+?|0-9-]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            let key = prop_oneof![
                Just("type".to_string()),
                Just("properties".to_string()),
                Just("items".to_string()),
                Just("additionalProperties".to_string()),
                Just("nullable".to_string()),
                Just("x-kubernetes-int-or-string".to_string()),
                Just("x-kubernetes-preserve-unknown-fields".to_string()),
                Just("x-kubernetes-embedded-resource".to_string()),
                Just("anyOf".to_string()),
                Just("enum".to_string()),
                Just("pattern".to_string()),
                Just("format".to_string()),
                Just("minimum".to_string()),
                Just("exclusiveMinimum".to_string()),
                Just("required".to_string()),
                "[a-z]{1,4}",
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((key, inner), 0..5)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Whatever the schema and the instance, conversion, compilation and validation end
        /// in a schema, an error or a verdict, never a panic.
        #[test]
        fn any_schema_and_instance_never_panic(schema in any_value(), instance in any_value()) {
            let converted = convert(&schema);
            if let Ok(validator) = crate::schema::compile(&converted) {
                let _ = validator.iter_errors(&instance).count();
            }
        }
    }

    #[test]
    fn list_type_set_is_unique() {
        let v = validator(
            json!({"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}),
        );
        assert!(v.is_valid(&json!(["a", "b"])));
        assert!(!v.is_valid(&json!(["a", "a"])));
    }
}
