//! `.asoguard.yaml`: finding it, validating it against its JSON Schema with every error located
//! and explained, and resolving it into the `Settings` a run uses.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::catalog::{self, GroupKind};
pub use crate::files::{absolute, normalize};
use crate::registry::{Rule, Severity};
use crate::schema::{CrdError, CrdStore};
use crate::span::LineIndex;
use crate::yaml::{self, json};

/// The config file's name.
pub const CONFIG_FILE: &str = ".asoguard.yaml";

/// The default `--max-file-size`: 16 MiB, far above any real manifest.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// Paths never walked unless `exclude` is set: hidden directories and files, `node_modules`.
pub const DEFAULT_EXCLUDE: [&str; 2] = [".*", "node_modules"];

/// asoguard's configuration, as written in `.asoguard.yaml`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "asoguard configuration")]
pub struct Config {
    /// Rules to run: codes (`ASO001`), names (`skip-in-active`), code prefixes (`ASO0`) or
    /// `ALL`. Default: every rule.
    #[serde(default)]
    pub select: Option<Vec<String>>,
    /// Rules never to run: codes, names or code prefixes.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Per-rule settings, keyed by code or name.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleConfig>,
    /// Rules to ignore in the paths matching each glob (relative to the repository root).
    #[serde(default)]
    pub per_file_ignores: BTreeMap<String, Vec<String>>,
    /// The lowest severity that fails the run (exit 1). Default: `warning`.
    #[serde(default)]
    pub fail_level: Option<FailLevel>,
    /// The report format when `--format` is not given. Default: `text`.
    #[serde(default)]
    pub output_format: Option<OutputFormat>,
    /// Globs of paths never walked, replacing the defaults (hidden paths and `node_modules`,
    /// which are then linted unless listed again). To add paths, use `extend-exclude`. A glob
    /// without `/` matches a file or directory name at any depth.
    #[serde(default)]
    pub exclude: Option<Vec<String>>,
    /// More globs of paths never walked, added to `exclude` (or to the defaults, hidden paths
    /// and `node_modules`, when `exclude` is not set), as ruff's `extend-exclude`.
    #[serde(default)]
    pub extend_exclude: Vec<String>,
    /// Files larger than this many bytes are reported (E001), not read. Default: 16 MiB.
    #[serde(default)]
    pub max_file_size: Option<u64>,
    /// Named sets of path globs (relative to the repository root), each active or passive.
    #[serde(default)]
    pub clusters: BTreeMap<String, ClusterConfig>,
    /// Changes to the default critical kinds.
    #[serde(default)]
    pub critical_kinds: CriticalKindsConfig,
    /// CRD files or directories (relative to the repository root) to validate resources
    /// against (ASO012, ASO013): CRD YAML, ASO's release bundle, or a directory written by
    /// `asoguard crds import`. The CLI's `--crds` replaces this list.
    #[serde(default)]
    pub crds: Vec<String>,
}

/// One cluster: the paths whose manifests it applies, and its role.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Path globs relative to the repository root, like `clusters/dr-west/**`.
    pub paths: Vec<String>,
    /// Whether ASO in this cluster reconciles (`active`, the default) or stands by (`passive`).
    #[serde(default)]
    pub role: Role,
}

/// A cluster's role.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// ASO here reconciles the resources: `skip` is a hazard.
    #[default]
    Active,
    /// A standby (the FAQ's active-passive DR): every ASO resource carries `skip`.
    Passive,
}

impl Role {
    /// `active` or `passive`, as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Active => "active",
            Role::Passive => "passive",
        }
    }
}

/// `critical-kinds: {add: [...], remove: [...]}`, each `group/Kind`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CriticalKindsConfig {
    /// Kinds to treat as critical on top of the defaults, like
    /// `network.azure.com/PublicIPAddress`.
    #[serde(default)]
    pub add: Vec<String>,
    /// Default kinds to stop treating as critical.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Settings of one rule.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// `error`, `warning` or `off`.
    pub severity: Option<RuleLevel>,
}

/// A rule's configured level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    /// Report as an error.
    Error,
    /// Report as a warning.
    Warning,
    /// Do not run the rule.
    Off,
}

/// The lowest severity that fails a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FailLevel {
    /// Only errors fail the run.
    Error,
    /// Warnings and errors fail the run.
    #[default]
    Warning,
}

impl FailLevel {
    /// `error` or `warning`, as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            FailLevel::Error => "error",
            FailLevel::Warning => "warning",
        }
    }

    /// Whether a finding of `severity` fails the run.
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailLevel::Error => severity == Severity::Error,
            FailLevel::Warning => true,
        }
    }
}

/// Report formats (the CLI renders them; the config may choose the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Findings with source snippets.
    Text,
    /// One line per finding.
    Concise,
    /// JSON.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
    /// Azure Pipelines logging commands.
    Azure,
    /// JUnit XML.
    Junit,
}

impl OutputFormat {
    /// Every format, in the order the help lists them.
    pub const ALL: [OutputFormat; 7] = [
        OutputFormat::Text,
        OutputFormat::Concise,
        OutputFormat::Json,
        OutputFormat::Sarif,
        OutputFormat::Github,
        OutputFormat::Azure,
        OutputFormat::Junit,
    ];

    /// The format's name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Text => "text",
            OutputFormat::Concise => "concise",
            OutputFormat::Json => "json",
            OutputFormat::Sarif => "sarif",
            OutputFormat::Github => "github",
            OutputFormat::Azure => "azure",
            OutputFormat::Junit => "junit",
        }
    }

    /// The format of a name.
    pub fn parse(name: &str) -> Option<Self> {
        OutputFormat::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// The JSON Schema (draft 2020-12) of `.asoguard.yaml`, for editors and for validation.
pub fn config_schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Config)).unwrap_or(Value::Null);
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "$id".into(),
            Value::String(
                "https://github.com/asoguard/asoguard/blob/main/docs/asoguard.schema.json".into(),
            ),
        );
    }
    schema
}

fn schema_validator() -> Option<&'static jsonschema::Validator> {
    static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::draft202012::new(&config_schema()).ok())
        .as_ref()
}

/// One configuration problem, located in the config file when it can be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to put it right.
    pub hint: Option<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// Every problem found in one config file (never empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "{}", lines.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

/// Parse and validate config text; `path` names the file in errors. Every problem is reported
/// at its line with a hint: syntax, schema (unknown keys, wrong types, bad values) and meaning
/// (unknown rules, bad globs, malformed kinds).
pub fn parse_config(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
    let lines = LineIndex::new(text);
    let error_at = |offset: Option<usize>, message: String, hint: Option<String>| {
        let at = offset.map(|o| lines.line_col(text, o));
        ConfigError {
            path: path.to_path_buf(),
            line: at.map(|a| a.line),
            column: at.map(|a| a.column),
            message,
            hint,
        }
    };
    let arena = yaml::Arena::new();
    let stream = yaml::parse(&arena, text);
    if let Some(e) = &stream.error {
        return Err(ConfigErrors(vec![error_at(
            Some(e.offset),
            format!("invalid YAML: {}", e.message),
            None,
        )]));
    }
    if stream.documents.len() > 1 {
        let second = stream.documents[1].span.start;
        return Err(ConfigErrors(vec![error_at(
            Some(second),
            "the config holds more than one YAML document".into(),
            None,
        )]));
    }
    let Some(root) = stream.documents.first().and_then(|d| d.root.as_ref()) else {
        return Ok(Config::default());
    };
    if root.is_null() {
        return Ok(Config::default());
    }
    let value = json::to_json(root)
        .map_err(|e| ConfigErrors(vec![error_at(Some(e.span.start), e.message, None)]))?;
    let mut errors = Vec::new();
    if let Some(validator) = schema_validator() {
        for e in validator.iter_errors(&value) {
            let pointer = e.instance_path().as_str().to_string();
            let (offset, message, hint) = match e.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    let key = unexpected.first().cloned().unwrap_or_default();
                    let at = json::locate(root, &format!("{pointer}/{}", escape_pointer(&key)))
                        .and_then(|l| l.key)
                        .map(|s| s.start);
                    let allowed = allowed_keys(&pointer);
                    let hint = crate::suggest::closest(&key, allowed.iter().map(String::as_str))
                        .map(|k| format!("did you mean `{k}`?"))
                        .or_else(|| {
                            (!allowed.is_empty())
                                .then(|| format!("allowed keys here: {}", allowed.join(", ")))
                        });
                    (at, format!("unknown key `{key}`"), hint)
                }
                kind => {
                    let at = json::span_for(root, &pointer).map(|s| s.start);
                    let place = if pointer.is_empty() {
                        "the config".to_string()
                    } else {
                        format!("`{}`", pointer.trim_start_matches('/').replace('/', "."))
                    };
                    let (message, hint) = explain(kind, e.instance(), &pointer)
                        .unwrap_or_else(|| (e.to_string(), None));
                    (at, format!("{place}: {message}"), hint)
                }
            };
            errors.push(error_at(offset, message, hint));
        }
    }
    if errors.is_empty() {
        errors.extend(
            check_meaning(&value, root)
                .into_iter()
                .map(|(pointer, message, hint)| {
                    // A problem with a mapping key (an unknown rule under `rules`, a bad glob in
                    // `per-file-ignores`) is reported at the key, not at its value.
                    let located = json::locate(root, &pointer);
                    let at = match (pointer_names_key(&pointer), located) {
                        (true, Some(found)) => found.key.or(Some(found.value)),
                        _ => json::span_for(root, &pointer),
                    };
                    error_at(at.map(|s| s.start), message, hint)
                }),
        );
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    serde_json::from_value(value)
        .map_err(|e| ConfigErrors(vec![error_at(Some(root.span.start), e.to_string(), None)]))
}

/// A schema error in the config's own words: a value outside a choice (`role: Passive`)
/// lists the allowed values and the nearest one; a value of the wrong type says what is
/// expected, in YAML's words, and how to write it. `None` for other errors (the validator's
/// own message is clear enough).
fn explain(
    kind: &jsonschema::error::ValidationErrorKind,
    value: &Value,
    pointer: &str,
) -> Option<(String, Option<String>)> {
    use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};
    match kind {
        Kind::AnyOf { .. }
        | Kind::OneOfNotValid { .. }
        | Kind::Enum { .. }
        | Kind::Constant { .. } => {
            let mut allowed = Vec::new();
            allowed_values(kind, &mut allowed);
            if allowed.is_empty() {
                return None;
            }
            let noun = pointer
                .rsplit('/')
                .next()
                .filter(|step| step.parse::<usize>().is_err() && !step.is_empty())
                .map_or_else(
                    || "an allowed value".to_string(),
                    |step| a_or_an(&step.replace('-', " ")),
                );
            let listed: Vec<String> = allowed.iter().map(|v| format!("`{v}`")).collect();
            let message = format!(
                "{} is not {noun}: use {}",
                describe(value),
                or_list(&listed)
            );
            let hint = value
                .as_str()
                .and_then(|text| crate::suggest::closest(text, allowed.iter().map(String::as_str)))
                .map(|near| format!("did you mean `{near}`?"));
            Some((message, hint))
        }
        Kind::Type { kind } => {
            let types: Vec<jsonschema::JsonType> = match kind {
                TypeKind::Single(t) => vec![*t],
                TypeKind::Multiple(set) => set.iter().collect(),
            };
            let wanted: Vec<&str> = types
                .iter()
                .filter(|t| **t != jsonschema::JsonType::Null)
                .map(|t| type_name(*t))
                .collect();
            if wanted.is_empty() {
                return None;
            }
            let message = format!("must be {}, not {}", or_list(&wanted), describe(value));
            let wants = |t| types.contains(&t);
            let hint = match value {
                Value::String(text) if wants(jsonschema::JsonType::Array) => Some(format!(
                    "write a list, even of one item: `[{}]`",
                    Value::String(text.clone())
                )),
                Value::String(text)
                    if wants(jsonschema::JsonType::Object)
                        && matches!(
                            pointer.split('/').skip(1).collect::<Vec<_>>().as_slice(),
                            ["rules", _]
                        ) =>
                {
                    Some(format!(
                        "a rule's settings are a mapping: `{{severity: {text}}}`"
                    ))
                }
                _ => None,
            };
            Some((message, hint))
        }
        _ => None,
    }
}

/// Collect the values a `const`/`enum` choice allows, through `anyOf`/`oneOf` branches (the
/// `null` branch of an optional key names no value).
fn allowed_values(kind: &jsonschema::error::ValidationErrorKind, allowed: &mut Vec<String>) {
    use jsonschema::error::ValidationErrorKind as Kind;
    let mut push = |value: &Value| {
        let text = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        if !allowed.contains(&text) {
            allowed.push(text);
        }
    };
    match kind {
        Kind::Constant { expected_value } => push(expected_value),
        Kind::Enum { options } => options.as_array().into_iter().flatten().for_each(push),
        Kind::AnyOf { context } | Kind::OneOfNotValid { context } => {
            for error in context.iter().flatten() {
                allowed_values(error.kind(), allowed);
            }
        }
        _ => {}
    }
}

/// A JSON type in YAML's words.
fn type_name(t: jsonschema::JsonType) -> &'static str {
    use jsonschema::JsonType;
    match t {
        JsonType::Array => "a list",
        JsonType::Object => "a mapping",
        JsonType::String => "a string",
        JsonType::Integer => "a whole number",
        JsonType::Number => "a number",
        JsonType::Boolean => "`true` or `false`",
        JsonType::Null => "empty",
    }
}

/// A config value as a person wrote it: `` `Passive` ``, `` `1` ``, a list, a mapping.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "an empty value".into(),
        Value::String(text) => format!("`{text}`"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
        other => format!("`{other}`"),
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [rest @ .., last] => format!(
            "{} or {}",
            rest.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

/// `a role`, `an output format`.
fn a_or_an(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

/// Whether the last step of `pointer` is a key chosen by the user (a rule name under `rules`,
/// a glob under `per-file-ignores`) rather than a fixed config key or a list index.
fn pointer_names_key(pointer: &str) -> bool {
    let steps: Vec<&str> = pointer.split('/').skip(1).collect();
    matches!(steps.as_slice(), ["rules" | "per-file-ignores", _])
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The keys the schema allows in the object at `pointer` (by walking the schema's properties).
fn allowed_keys(pointer: &str) -> Vec<String> {
    let schema = config_schema();
    let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
    let resolve = |node: &Value| -> Value {
        let target = node
            .get("$ref")
            .or_else(|| {
                node.get("anyOf")
                    .and_then(|a| a.as_array())
                    .and_then(|a| a.iter().find_map(|x| x.get("$ref")))
            })
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| defs.get(name));
        target.cloned().unwrap_or_else(|| node.clone())
    };
    let mut node = schema.clone();
    for step in pointer.split('/').skip(1) {
        node = resolve(&node);
        let next = node
            .get("properties")
            .and_then(|p| p.get(step))
            .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))
            .cloned();
        match next {
            Some(next) => node = next,
            None => return Vec::new(),
        }
    }
    resolve(&node)
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Problems the schema cannot see: unknown rules, bad globs, malformed kinds. Each is
/// (JSON pointer, message, hint).
fn check_meaning(value: &Value, _root: &yaml::Node) -> Vec<(String, String, Option<String>)> {
    let mut problems = Vec::new();
    let strings = |pointer: &str| -> Vec<(String, String)> {
        value
            .pointer(pointer)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| Some((format!("{pointer}/{i}"), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let selector = |pointer: String, text: &str, problems: &mut Vec<_>| {
        if let Err(hint) = parse_selector(text) {
            problems.push((
                pointer,
                format!("unknown rule or prefix `{text}`"),
                Some(hint),
            ));
        }
    };
    for list in ["/select", "/ignore"] {
        for (pointer, text) in strings(list) {
            selector(pointer, &text, &mut problems);
        }
    }
    if let Some(rules) = value.get("rules").and_then(Value::as_object) {
        for key in rules.keys() {
            if Rule::from_code_or_name(key).is_none() {
                problems.push((
                    format!("/rules/{}", escape_pointer(key)),
                    format!("unknown rule `{key}`"),
                    Some(rule_hint(key)),
                ));
            }
        }
    }
    if let Some(map) = value.get("per-file-ignores").and_then(Value::as_object) {
        for (glob, _) in map {
            let pointer = format!("/per-file-ignores/{}", escape_pointer(glob));
            if let Err(e) = compile_glob(glob) {
                problems.push((
                    pointer.clone(),
                    e,
                    Some(
                        "per-file-ignores keys are globs relative to the repository root, like `legacy/**`"
                            .into(),
                    ),
                ));
            }
            for (item, text) in strings(&pointer) {
                selector(item, &text, &mut problems);
            }
        }
    }
    let mut globs: Vec<(String, String)> = strings("/exclude");
    globs.extend(strings("/extend-exclude"));
    if let Some(clusters) = value.get("clusters").and_then(Value::as_object) {
        for name in clusters.keys() {
            globs.extend(strings(&format!(
                "/clusters/{}/paths",
                escape_pointer(name)
            )));
        }
    }
    for (pointer, glob) in globs {
        if let Err(e) = compile_glob(&glob) {
            problems.push((
                pointer,
                e,
                Some(
                    "globs are relative to the repository root, like `clusters/dr-west/**`".into(),
                ),
            ));
        }
    }
    for list in ["/critical-kinds/add", "/critical-kinds/remove"] {
        for (pointer, text) in strings(list) {
            if GroupKind::parse(&text).is_none() {
                problems.push((
                    pointer,
                    format!("`{text}` is not `group/Kind`"),
                    Some("write it as `cache.azure.com/RedisEnterprise`".into()),
                ));
            }
        }
    }
    problems
}

fn rule_hint(text: &str) -> String {
    Rule::suggest(text).map_or_else(
        || "`asoguard rules` lists every rule".to_string(),
        |r| format!("did you mean `{}` ({})?", r.code(), r.name()),
    )
}

/// The rules a selector designates: a code, a name, a code prefix, or `ALL`.
pub fn parse_selector(text: &str) -> Result<Vec<Rule>, String> {
    let text = text.trim();
    if text == "ALL" {
        return Ok(Rule::ALL.to_vec());
    }
    if let Some(rule) = Rule::from_code_or_name(text) {
        return Ok(vec![rule]);
    }
    let matched: Vec<Rule> = Rule::ALL
        .into_iter()
        .filter(|r| !text.is_empty() && r.code().starts_with(&text.to_ascii_uppercase()))
        .collect();
    if matched.is_empty() {
        Err(rule_hint(text))
    } else {
        Ok(matched)
    }
}

/// A cluster with its globs compiled.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// The name given in config.
    pub name: String,
    /// Its role.
    pub role: Role,
    globs: GlobSet,
}

/// The configuration a run uses: the config file resolved against the repository root.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The repository root: paths in config and ArgoCD paths are relative to it.
    pub root: PathBuf,
    /// The config file this came from, if any.
    pub config_path: Option<PathBuf>,
    /// Configured clusters.
    pub clusters: Vec<Cluster>,
    /// Files larger than this many bytes are reported, not read.
    pub max_file_size: u64,
    /// The lowest severity that fails the run.
    pub fail_level: FailLevel,
    /// The report format chosen in config, if any.
    pub output_format: Option<OutputFormat>,
    /// CRD files or directories from config `crds:`, resolved against the root.
    pub crd_paths: Vec<PathBuf>,
    /// The CRDs ASO012 and ASO013 check against; `None` when none were given
    /// (see `Settings::load_crds`).
    pub crds: Option<std::sync::Arc<CrdStore>>,
    /// Whether `root` is a real repository root (a config file or `.git` was found there):
    /// then cross-file facts come from the whole repository, not only the files linted.
    pub repository: bool,
    /// The top of the git repository holding the root (the nearest ancestor with `.git`), else
    /// the root: Flux and ArgoCD paths are written from there.
    pub source_root: PathBuf,
    /// Critical kinds: the groups of each kind (a kind is looked up for every object, and few
    /// kinds share a name across groups).
    critical: rustc_hash::FxHashMap<String, Vec<String>>,
    levels: rustc_hash::FxHashMap<Rule, RuleLevel>,
    enabled: rustc_hash::FxHashSet<Rule>,
    /// What [`Settings::severity`] answers, by `Rule as usize`, from `levels` and `enabled`:
    /// it is asked of every rule for every document, where two hash lookups cost more than
    /// some of the checks they guard.
    severities: [Option<Severity>; Rule::ALL.len()],
    per_file_ignores: Vec<(GlobSet, Vec<Rule>)>,
    exclude: GlobSet,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::resolve(Config::default(), PathBuf::from("."), None)
            .unwrap_or_else(|_| unreachable!("the empty config is valid"))
    }
}

impl Settings {
    /// Resolve a validated config against `root`; `config_path` names the file in errors.
    pub fn resolve(
        config: Config,
        root: PathBuf,
        config_path: Option<PathBuf>,
    ) -> Result<Self, ConfigErrors> {
        let error_path = config_path
            .clone()
            .unwrap_or_else(|| PathBuf::from(CONFIG_FILE));
        let error = |message: String| {
            ConfigErrors(vec![ConfigError {
                path: error_path.clone(),
                line: None,
                column: None,
                message,
                hint: None,
            }])
        };
        let mut clusters = Vec::new();
        for (name, cluster) in &config.clusters {
            clusters.push(Cluster {
                name: name.clone(),
                role: cluster.role,
                globs: glob_set(&cluster.paths)
                    .map_err(|e| error(format!("cluster `{name}`: {e}")))?,
            });
        }
        let mut critical: HashSet<GroupKind> = catalog::default_critical_kinds()
            .into_iter()
            .map(|(gk, _)| gk)
            .collect();
        for text in &config.critical_kinds.add {
            critical.insert(
                GroupKind::parse(text).ok_or_else(|| {
                    error(format!("critical-kinds: `{text}` is not `group/Kind`"))
                })?,
            );
        }
        for text in &config.critical_kinds.remove {
            critical.remove(
                &GroupKind::parse(text).ok_or_else(|| {
                    error(format!("critical-kinds: `{text}` is not `group/Kind`"))
                })?,
            );
        }
        let selectors =
            |list: &[String]| -> Result<Vec<Rule>, ConfigErrors> {
                let mut rules = Vec::new();
                for text in list {
                    rules.extend(parse_selector(text).map_err(|hint| {
                        error(format!("unknown rule or prefix `{text}` ({hint})"))
                    })?);
                }
                Ok(rules)
            };
        // Without `select`, the default set: every rule but the opt-in ones.
        let mut enabled: rustc_hash::FxHashSet<Rule> = match &config.select {
            Some(select) => selectors(select)?.into_iter().collect(),
            None => Rule::ALL
                .into_iter()
                .filter(|r| r.meta().default_enabled)
                .collect(),
        };
        let mut levels = rustc_hash::FxHashMap::default();
        for (key, rule_config) in &config.rules {
            let rule = Rule::from_code_or_name(key).ok_or_else(|| {
                error(format!("rules: unknown rule `{key}` ({})", rule_hint(key)))
            })?;
            if let Some(level) = rule_config.severity {
                levels.insert(rule, level);
                // Giving an opt-in rule a severity asks for it.
                if level != RuleLevel::Off {
                    enabled.insert(rule);
                }
            }
        }
        for rule in selectors(&config.ignore)? {
            enabled.remove(&rule);
        }
        let mut per_file_ignores = Vec::new();
        for (glob, rules) in &config.per_file_ignores {
            per_file_ignores.push((
                glob_set(std::slice::from_ref(glob)).map_err(error)?,
                selectors(rules)?,
            ));
        }
        let mut exclude: Vec<String> = match &config.exclude {
            Some(list) => list.clone(),
            None => DEFAULT_EXCLUDE.iter().map(|s| s.to_string()).collect(),
        };
        exclude.extend(config.extend_exclude.iter().cloned());
        let crd_paths = config
            .crds
            .iter()
            .map(|p| normalize(&root.join(p)))
            .collect();
        let source_root = root
            .ancestors()
            .find(|dir| dir.join(".git").exists())
            .map_or_else(|| root.clone(), Path::to_path_buf);
        Ok(Settings {
            source_root,
            root,
            config_path,
            clusters,
            max_file_size: config.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE),
            fail_level: config.fail_level.unwrap_or_default(),
            output_format: config.output_format,
            crd_paths,
            crds: None,
            repository: false,
            critical: critical.into_iter().fold(
                rustc_hash::FxHashMap::default(),
                |mut by_kind, gk| {
                    by_kind
                        .entry(gk.kind)
                        .or_insert_with(Vec::new)
                        .push(gk.group);
                    by_kind
                },
            ),
            severities: severities(&levels, &enabled),
            levels,
            enabled,
            per_file_ignores,
            exclude: glob_set(&exclude).map_err(error)?,
        })
    }

    /// Select exactly these rules (the CLI's `--select`), replacing the config's `select`.
    pub fn select(&mut self, rules: &[Rule]) {
        self.enabled = rules.iter().copied().collect();
        self.severities = severities(&self.levels, &self.enabled);
    }

    /// Stop running these rules (the CLI's `--ignore`).
    pub fn ignore(&mut self, rules: &[Rule]) {
        for rule in rules {
            self.enabled.remove(rule);
        }
        self.severities = severities(&self.levels, &self.enabled);
    }

    /// Every critical kind, sorted: the defaults with the config's changes.
    pub fn critical_kinds(&self) -> Vec<GroupKind> {
        let mut kinds: Vec<GroupKind> = self
            .critical
            .iter()
            .flat_map(|(kind, groups)| groups.iter().map(|group| GroupKind::new(group, kind)))
            .collect();
        kinds.sort_by(|a, b| (&a.group, &a.kind).cmp(&(&b.group, &b.kind)));
        kinds
    }

    /// Whether `group/kind` is a critical kind.
    pub fn is_critical(&self, group: &str, kind: &str) -> bool {
        self.critical
            .get(kind)
            .is_some_and(|groups| groups.iter().any(|g| g == group))
    }

    /// The severity `rule` reports at, `None` when it does not run.
    pub fn severity(&self, rule: Rule) -> Option<Severity> {
        self.severities[rule as usize]
    }

    /// Whether `per-file-ignores` silences `rule` in the file at `path` (absolute).
    pub fn ignored_in(&self, path: &Path, rule: Rule) -> bool {
        if self.per_file_ignores.is_empty() {
            return false;
        }
        let Some(relative) = self.relative(path) else {
            return false;
        };
        self.per_file_ignores
            .iter()
            .any(|(globs, rules)| rules.contains(&rule) && globs.is_match(relative))
    }

    /// The path of `path` relative to the root, when it is inside it.
    pub fn relative<'p>(&self, path: &'p Path) -> Option<&'p Path> {
        path.strip_prefix(&self.root).ok()
    }

    /// The cluster whose globs match `path` (absolute), the first one wins.
    pub fn cluster_of(&self, path: &Path) -> Option<&Cluster> {
        if self.clusters.is_empty() {
            return None;
        }
        let relative = self.relative(path)?;
        self.clusters.iter().find(|c| c.globs.is_match(relative))
    }

    /// Whether `path` (absolute) is excluded: it, or a directory above it up to the root,
    /// matches an exclude glob. Paths outside the root are matched as given.
    pub fn is_excluded(&self, path: &Path) -> bool {
        let relative = self.relative(path).unwrap_or(path);
        relative
            .ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .any(|p| self.exclude.is_match(p))
    }

    /// Whether `path` (absolute) itself matches an exclude glob, its parents not considered:
    /// the walker prunes excluded directories, so their contents are never asked about.
    pub fn matches_exclude(&self, path: &Path) -> bool {
        let relative = self.relative(path).unwrap_or(path);
        !relative.as_os_str().is_empty() && self.exclude.is_match(relative)
    }
}

/// Each rule's severity (by `Rule as usize`), `None` for a rule that does not run.
fn severities(
    levels: &rustc_hash::FxHashMap<Rule, RuleLevel>,
    enabled: &rustc_hash::FxHashSet<Rule>,
) -> [Option<Severity>; Rule::ALL.len()] {
    let mut severities = [None; Rule::ALL.len()];
    for rule in Rule::ALL.into_iter().filter(|rule| enabled.contains(rule)) {
        severities[rule as usize] = match levels.get(&rule) {
            None => Some(rule.meta().severity),
            Some(RuleLevel::Error) => Some(Severity::Error),
            Some(RuleLevel::Warning) => Some(Severity::Warning),
            Some(RuleLevel::Off) => None,
        };
    }
    severities
}

/// Compile one glob as config globs are compiled (`*` stays within a directory).
fn compile_glob(pattern: &str) -> Result<(), String> {
    glob_set(&[pattern.to_string()]).map(|_| ())
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    let mut add = |pattern: &str| -> Result<(), String> {
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("bad glob `{pattern}`: {}", e.kind()))?;
        builder.add(glob);
        Ok(())
    };
    for pattern in patterns {
        let pattern = pattern.trim_end_matches('/');
        add(pattern)?;
        if !pattern.contains('/') {
            // A bare name matches at any depth, as in .gitignore.
            add(&format!("**/{pattern}"))?;
        }
        if let Some(dir) = pattern.strip_suffix("/**") {
            add(dir)?;
        } else if !pattern.contains('*') {
            // A directory matches everything under it.
            add(&format!("{pattern}/**"))?;
        }
    }
    builder.build().map_err(|e| e.to_string())
}

/// Where a run's root and config come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovered {
    /// The repository root.
    pub root: PathBuf,
    /// The config file, if one was found.
    pub config: Option<PathBuf>,
    /// Whether the root is a real repository root (config or `.git` found), not a fallback.
    pub repository: bool,
}

/// Find the root and config for a run over `first_path`: the nearest ancestor holding
/// `.asoguard.yaml`, searching up to and including the nearest ancestor with `.git`; else that
/// `.git` ancestor; else the linted path itself (its directory for a file).
pub fn discover(first_path: &Path) -> Discovered {
    let absolute = absolute(first_path);
    let start = if absolute.is_dir() {
        absolute.clone()
    } else {
        absolute
            .parent()
            .map_or_else(|| absolute.clone(), Path::to_path_buf)
    };
    for dir in start.ancestors() {
        let candidate = dir.join(CONFIG_FILE);
        if candidate.is_file() {
            return Discovered {
                root: dir.to_path_buf(),
                config: Some(candidate),
                repository: true,
            };
        }
        if dir.join(".git").exists() {
            return Discovered {
                root: dir.to_path_buf(),
                config: None,
                repository: true,
            };
        }
    }
    Discovered {
        root: start,
        config: None,
        repository: false,
    }
}

/// Load settings: `explicit` config file if given, else the one discovered from `anchor`.
pub fn load(explicit: Option<&Path>, anchor: &Path) -> Result<Settings, ConfigErrors> {
    load_with_config(explicit, anchor).map(|(_, settings)| settings)
}

/// [`load`], returning the config as written beside the settings resolved from it (what
/// `asoguard config` shows needs both: the globs as written, and what they resolve to).
pub fn load_with_config(
    explicit: Option<&Path>,
    anchor: &Path,
) -> Result<(Config, Settings), ConfigErrors> {
    let (root, config_path, repository) = match explicit {
        Some(path) => {
            let path = absolute(path);
            let root = path
                .parent()
                .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
            (root, Some(path), true)
        }
        None => {
            let found = discover(anchor);
            (found.root, found.config, found.repository)
        }
    };
    let config = match &config_path {
        None => Config::default(),
        Some(path) => {
            let unreadable = |message: String| {
                ConfigErrors(vec![ConfigError {
                    path: path.clone(),
                    line: None,
                    column: None,
                    message,
                    hint: None,
                }])
            };
            let bytes = std::fs::read(path)
                .map_err(|e| unreadable(format!("cannot read the config file: {e}")))?;
            let text =
                crate::files::text_from_bytes(bytes).map_err(|e| unreadable(e.to_string()))?;
            parse_config(&text, path)?
        }
    };
    let mut settings = Settings::resolve(config.clone(), root, config_path)?;
    settings.repository = repository;
    Ok((config, settings))
}

impl Settings {
    /// Load the CRDs that ASO012 and ASO013 check against: `paths` when given (the CLI's
    /// `--crds`, which replaces the config's list), else the config's `crds:`. With neither,
    /// the rules stay idle and `crds` stays `None`.
    pub fn load_crds(&mut self, paths: Option<&[PathBuf]>) -> Result<(), CrdError> {
        let paths = match paths {
            Some(paths) if !paths.is_empty() => paths.to_vec(),
            _ => self.crd_paths.clone(),
        };
        self.crds = if paths.is_empty() {
            None
        } else {
            Some(std::sync::Arc::new(CrdStore::load(&paths)?))
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(yaml: &str) -> Result<Settings, ConfigErrors> {
        let path = Path::new("/repo/.asoguard.yaml");
        Settings::resolve(
            parse_config(yaml, path)?,
            PathBuf::from("/repo"),
            Some(path.into()),
        )
    }

    fn first(e: ConfigErrors) -> ConfigError {
        e.0.into_iter().next().unwrap()
    }

    #[test]
    fn parses_the_documented_example() {
        let s = settings(
            "clusters:\n  dr-west: {paths: [\"clusters/dr-west/**\"], role: passive}\ncritical-kinds:\n  add: [\"network.azure.com/PublicIPAddress\"]\n  remove: [\"network.azure.com/VirtualNetwork\"]\nrules:\n  ASO003: {severity: warning}\n",
        )
        .unwrap();
        // The example changes the defaults both ways.
        let defaults = Settings::default();
        assert!(!defaults.is_critical("network.azure.com", "PublicIPAddress"));
        assert!(defaults.is_critical("network.azure.com", "VirtualNetwork"));
        let cluster = s
            .cluster_of(Path::new("/repo/clusters/dr-west/db/pg.yaml"))
            .unwrap();
        assert_eq!(
            (cluster.name.as_str(), cluster.role),
            ("dr-west", Role::Passive)
        );
        assert!(
            s.cluster_of(Path::new("/repo/clusters/east/pg.yaml"))
                .is_none()
        );
        assert!(!s.is_critical("network.azure.com", "VirtualNetwork"));
        assert!(s.is_critical("network.azure.com", "PublicIPAddress"));
        assert_eq!(
            s.severity(Rule::MissingDetachOnDelete),
            Some(Severity::Warning)
        );
    }

    #[test]
    fn rejects_unknown_keys_rules_and_globs_with_location_and_hint() {
        let e = first(settings("clusters:\n  a:\n    paths: [x]\n    rol: passive\n").unwrap_err());
        assert_eq!((e.line, e.column), (Some(4), Some(5)), "{e}");
        assert!(e.message.contains("unknown key `rol`"), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `role`?"));
        let e = first(settings("rules:\n  skip-in-actve: {severity: off}\n").unwrap_err());
        assert_eq!((e.line, e.column), (Some(2), Some(3)), "at the key: {e}");
        assert!(e.hint.unwrap().contains("skip-in-active"));
        let e = first(settings("exclude: [\"a/[b\"]\n").unwrap_err());
        assert!(e.message.contains("bad glob"), "{e}");
        let e = first(settings("per-file-ignores:\n  \"legacy/[x\": [ASO003]\n").unwrap_err());
        assert_eq!((e.line, e.column), (Some(2), Some(3)), "at the key: {e}");
        assert!(e.message.contains("bad glob") && e.hint.is_some(), "{e}");
        let e = first(settings("critical-kinds: {add: [Redis]}\n").unwrap_err());
        assert!(e.message.contains("group/Kind"));
        let e = first(settings("fail-level: fatal\n").unwrap_err());
        assert_eq!(e.line, Some(1));
        let e = first(settings("select: [ASO9]\n").unwrap_err());
        assert!(e.message.contains("ASO9"), "{e}");
        let e = first(settings("rules: {}\nrules: {}\n").unwrap_err());
        assert!(e.message.contains("duplicate key"), "{e}");
    }

    #[test]
    fn a_value_outside_a_choice_lists_the_choices_and_the_nearest() {
        for (yaml, at, message, hint) in [
            (
                "clusters:\n  a:\n    paths: [x]\n    role: Passive\n",
                (4, 11),
                "`clusters.a.role`: `Passive` is not a role: use `active` or `passive`",
                Some("did you mean `passive`?"),
            ),
            (
                "rules:\n  ASO003: {severity: warn}\n",
                (2, 22),
                "`rules.ASO003.severity`: `warn` is not a severity: use `error`, `warning` or `off`",
                Some("did you mean `warning`?"),
            ),
            (
                "fail-level: Error\n",
                (1, 13),
                "`fail-level`: `Error` is not a fail level: use `error` or `warning`",
                Some("did you mean `error`?"),
            ),
            (
                "fail-level: fatal\n",
                (1, 13),
                "`fail-level`: `fatal` is not a fail level: use `error` or `warning`",
                None,
            ),
            (
                "output-format: SARIF\n",
                (1, 16),
                "`output-format`: `SARIF` is not an output format: use `text`, `concise`, `json`, `sarif`, `github`, `azure` or `junit`",
                Some("did you mean `sarif`?"),
            ),
            (
                "clusters: {a: {paths: [x], role: 1}}\n",
                (1, 34),
                "`clusters.a.role`: `1` is not a role: use `active` or `passive`",
                None,
            ),
            (
                "clusters: {a: {paths: [x], role: [passive]}}\n",
                (1, 34),
                "`clusters.a.role`: a list is not a role: use `active` or `passive`",
                None,
            ),
        ] {
            let e = first(settings(yaml).unwrap_err());
            assert_eq!((e.line, e.column), (Some(at.0), Some(at.1)), "{e}");
            assert_eq!(e.message, message, "{yaml}");
            assert_eq!(e.hint.as_deref(), hint, "{yaml}");
            assert!(!e.to_string().contains("schemas listed"), "{e}");
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_says_what_is_expected() {
        for (yaml, message, hint) in [
            (
                "clusters:\n  a: {paths: \"clusters/a/**\"}\n",
                "`clusters.a.paths`: must be a list, not `clusters/a/**`",
                Some("write a list, even of one item: `[\"clusters/a/**\"]`"),
            ),
            (
                "exclude: vendor\n",
                "`exclude`: must be a list, not `vendor`",
                Some("write a list, even of one item: `[\"vendor\"]`"),
            ),
            (
                "rules:\n  ASO003: warning\n",
                "`rules.ASO003`: must be a mapping, not `warning`",
                Some("a rule's settings are a mapping: `{severity: warning}`"),
            ),
            (
                "max-file-size: 1MiB\n",
                "`max-file-size`: must be a whole number, not `1MiB`",
                None,
            ),
            (
                "clusters: [prod]\n",
                "`clusters`: must be a mapping, not a list",
                None,
            ),
            (
                "critical-kinds: {add: [{group: cache.azure.com}]}\n",
                "`critical-kinds.add.0`: must be a string, not a mapping",
                None,
            ),
        ] {
            let e = first(settings(yaml).unwrap_err());
            assert_eq!(e.message, message, "{yaml}");
            assert_eq!(e.hint.as_deref(), hint, "{yaml}");
            assert!(e.line.is_some(), "{e}");
        }
    }

    #[test]
    fn reports_every_schema_error() {
        let e = settings("fail-level: fatal\noutput-format: xml\n").unwrap_err();
        assert_eq!(e.0.len(), 2, "{e}");
    }

    #[test]
    fn selects_ignores_and_per_file_ignores() {
        let s = settings("select: [ASO0]\nignore: [invalid-reconcile-policy]\nper-file-ignores: {\"legacy/**\": [ASO003]}\n").unwrap();
        assert!(s.severity(Rule::SkipInActive).is_some());
        assert!(s.severity(Rule::InvalidReconcilePolicy).is_none());
        assert!(s.severity(Rule::ParseError).is_none());
        assert!(s.ignored_in(
            Path::new("/repo/legacy/a/rg.yaml"),
            Rule::MissingDetachOnDelete
        ));
        assert!(!s.ignored_in(Path::new("/repo/prod/rg.yaml"), Rule::MissingDetachOnDelete));
    }

    #[test]
    fn excludes_hidden_and_named_paths_by_default() {
        let s = settings("").unwrap();
        assert!(s.is_excluded(Path::new("/repo/.github/workflows/ci.yaml")));
        assert!(s.is_excluded(Path::new("/repo/web/node_modules/x.yaml")));
        assert!(!s.is_excluded(Path::new("/repo/clusters/a.yaml")));
        let s = settings("exclude: []\nextend-exclude: [legacy]\n").unwrap();
        assert!(!s.is_excluded(Path::new("/repo/.github/x.yaml")));
        assert!(s.is_excluded(Path::new("/repo/a/legacy/x.yaml")));
    }

    #[test]
    fn extend_exclude_adds_to_the_defaults_and_exclude_replaces_them() {
        let s = settings("extend-exclude: [\"vendor/**\", generated]\n").unwrap();
        for excluded in [
            "/repo/vendor/x.yaml",
            "/repo/vendor/deep/x.yaml",
            "/repo/a/generated/x.yaml",
            "/repo/.github/workflows/ci.yaml",
            "/repo/web/node_modules/x.yaml",
        ] {
            assert!(s.is_excluded(Path::new(excluded)), "{excluded}");
        }
        assert!(!s.is_excluded(Path::new("/repo/clusters/vendor.yaml")));
        assert!(
            !s.is_excluded(Path::new("/repo/a/vendor/x.yaml")),
            "anchored at the root"
        );
        // `exclude` replaces the defaults: hidden paths and node_modules are linted again.
        let s = settings("exclude: [\"vendor/**\"]\n").unwrap();
        assert!(s.is_excluded(Path::new("/repo/vendor/x.yaml")));
        assert!(!s.is_excluded(Path::new("/repo/.github/workflows/ci.yaml")));
        assert!(!s.is_excluded(Path::new("/repo/web/node_modules/x.yaml")));
        // Both: `extend-exclude` adds to the list `exclude` gives.
        let s = settings("exclude: [node_modules]\nextend-exclude: [\"vendor/**\"]\n").unwrap();
        assert!(s.is_excluded(Path::new("/repo/vendor/x.yaml")));
        assert!(s.is_excluded(Path::new("/repo/node_modules/x.yaml")));
        assert!(!s.is_excluded(Path::new("/repo/.github/x.yaml")));
    }

    #[test]
    fn empty_config_is_default() {
        assert!(settings("").unwrap().clusters.is_empty());
        assert!(settings("# only a comment\n").is_ok());
    }

    #[test]
    fn schema_is_draft_2020_12() {
        let schema = config_schema();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert!(schema["properties"]["clusters"].is_object());
    }

    #[test]
    fn normalizes_lexically() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
