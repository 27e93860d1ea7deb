//! Findings: what a rule reports, where, how bad it is, and how to fix it.

use std::path::PathBuf;

use crate::fix::Fix;
use crate::manifest::Manifest;
use crate::registry::Rule;
pub use crate::registry::Severity;
use crate::span::Span;

/// The object a finding is about, as JSON and SARIF name it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectRef {
    /// `apiVersion`.
    pub api_version: Option<String>,
    /// `kind`.
    pub kind: Option<String>,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: Option<String>,
}

impl ObjectRef {
    /// The identity of `manifest`.
    pub fn of(manifest: &Manifest) -> Self {
        ObjectRef {
            api_version: manifest.api_version.map(str::to_string),
            kind: manifest.kind.map(str::to_string),
            namespace: manifest.namespace.map(str::to_string),
            name: manifest.name_str().map(str::to_string),
        }
    }
}

/// How a finding was suppressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuppressionKind {
    /// A `# asoguard: ignore[...]` comment.
    Comment,
    /// The object's `asoguard.io/ignore` annotation.
    Annotation,
}

/// A suppression that silenced a finding, with the reason given for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// Comment or annotation.
    pub kind: SuppressionKind,
    /// The text after `--`, if any.
    pub justification: Option<String>,
}

/// A place in another file (or this one) that explains a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// The file, as reported.
    pub path: PathBuf,
    /// The bytes in that file.
    pub span: Span,
    /// 1-based line of `span.start`, resolved when the finding is made.
    pub line: usize,
    /// 1-based code-point column of `span.start`.
    pub column: usize,
    /// What this place is.
    pub message: String,
}

/// One finding of one rule in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule that found it.
    pub rule: Rule,
    /// Severity after configuration.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where, in the file's text.
    pub span: Span,
    /// What to do about it.
    pub help: Option<String>,
    /// An automatic fix, if one exists.
    pub fix: Option<Fix>,
    /// The object it is about.
    pub object: Option<ObjectRef>,
    /// Other places that explain it.
    pub related: Vec<Related>,
    /// Set when an inline suppression silenced it.
    pub suppression: Option<Suppression>,
}

impl Diagnostic {
    /// A finding of `rule` at `span`, at the rule's default severity.
    pub fn new(rule: Rule, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            rule,
            severity: rule.meta().severity,
            message: message.into(),
            span,
            help: None,
            fix: None,
            object: None,
            related: Vec::new(),
            suppression: None,
        }
    }

    /// With a help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// With a fix (`None` leaves it without one).
    pub fn with_fix(mut self, fix: Option<Fix>) -> Self {
        self.fix = fix;
        self
    }

    /// About `manifest`.
    pub fn with_object(mut self, manifest: &Manifest) -> Self {
        self.object = Some(ObjectRef::of(manifest));
        self
    }

    /// At a severity other than the rule's default.
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}
