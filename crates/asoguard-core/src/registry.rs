//! The rule registry: every rule once, one line each, with its code, name, severity, fix and
//! the relevance markers it needs. Everything else derives from this table: the [`Rule`] enum,
//! [`Rule::ALL`], [`Rule::meta`], and (in [`crate::rules`]) each rule's module, docs and checks.
//!
//! Adding a rule is one file under `rules/` plus one line in [`for_each_rule`]; see
//! `CONTRIBUTING.md`.

use crate::fix::Applicability;
use crate::marker::Markers;

/// Every rule, one line each, in code order: `Variant(module) [code, name, default severity,
/// fixability, fix safety, default or opt_in, [markers]]`. The markers are the texts (see
/// [`Markers`]) one of which a document must hold for the rule to report on it; the prefilter
/// searches for the union of every rule's.
///
/// A macro that calls back `$then!` with the table, so the registry here and the rule modules
/// in [`crate::rules`] are generated from the same lines.
macro_rules! for_each_rule {
    ($then:ident) => {
        $then! {
            ParseError(parse_error) ["E001", "parse-error", Error, Never, None, default, []];
            SkipInActive(skip_in_active) ["ASO001", "skip-in-active", Error, Always, Unsafe, default, [ASO, RENDERING]];
            ArgocdReplace(argocd_replace) ["ASO002", "argocd-replace", Error, Always, Safe, default, [ARGOCD, ASO, RENDERING]];
            MissingDetachOnDelete(missing_detach_on_delete) ["ASO003", "missing-detach-on-delete", Error, Sometimes, Mixed, default, [ASO, RENDERING]];
            InvalidReconcilePolicy(invalid_reconcile_policy) ["ASO004", "invalid-reconcile-policy", Error, Sometimes, Mixed, default, [ASO, RENDERING]];
            PassiveNotSkipped(passive_not_skipped) ["ASO005", "passive-not-skipped", Error, Sometimes, Safe, default, [ASO, RENDERING]];
            ActiveActive(active_active) ["ASO006", "active-active", Error, Never, None, default, [ASO, RENDERING]];
            DestructiveRecreate(destructive_recreate) ["ASO007", "destructive-recreate", Error, Always, Unsafe, default, [ASO, RENDERING]];
            FinalizerOverride(finalizer_override) ["ASO008", "finalizer-override", Warning, Always, Unsafe, default, [ASO]];
            AsoV1Api(aso_v1_api) ["ASO009", "aso-v1-api", Warning, Never, None, default, [ASO_V1]];
            UnprotectedChildren(unprotected_children) ["ASO010", "unprotected-children", Warning, Always, Unsafe, opt_in, [ASO, RENDERING]];
            LiveStateInManifest(live_state_in_manifest) ["ASO011", "live-state-in-manifest", Warning, Always, Safe, default, [ASO]];
            SchemaViolation(schema_violation) ["ASO012", "schema-violation", Error, Never, None, default, [ASO, RENDERING]];
            UnservedVersion(unserved_version) ["ASO013", "unserved-version", Error, Never, None, default, [ASO]];
            ReferenceOutsideRoot(reference_outside_root) ["ASO014", "reference-outside-root", Error, Never, None, default, [RENDERING]];
            UnknownKind(unknown_kind) ["ASO015", "unknown-kind", Error, Never, None, default, [ASO]];
            UnusedSuppression(unused_suppression) ["ASO100", "unused-suppression", Warning, Always, Safe, default, [SUPPRESSION]];
            InvalidSuppression(invalid_suppression) ["ASO101", "invalid-suppression", Error, Never, None, default, [SUPPRESSION]];
            DestructiveChange(destructive_change) ["ASO200", "destructive-change", Error, Never, None, default, []];
        }
    };
}
pub(crate) use for_each_rule;

/// Generates [`Rule`], [`Rule::ALL`] and [`Rule::meta`] from [`for_each_rule`]'s table.
macro_rules! declare_registry {
    ($($variant:ident($module:ident) [
        $code:literal, $name:literal, $severity:ident, $fixable:ident, $safety:ident,
        $enabled:ident, [$($marker:ident),*]
    ];)*) => {
        /// Every rule asoguard has.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $(
                #[doc = concat!($code, " `", $name, "`.")]
                $variant,
            )*
        }

        impl Rule {
            /// Every rule, in code order.
            pub const ALL: [Rule; [$($code),*].len()] = [$(Rule::$variant),*];

            /// The rule's registry entry.
            pub fn meta(self) -> &'static RuleMeta {
                match self {
                    $(
                        Rule::$variant => {
                            const META: RuleMeta = RuleMeta {
                                code: $code,
                                name: $name,
                                severity: Severity::$severity,
                                fixable: Fixability::$fixable,
                                safety: FixSafety::$safety,
                                default_enabled: declare_registry!(@enabled $enabled),
                                markers: Markers::NONE$(.union(Markers::$marker))*,
                            };
                            &META
                        }
                    )*
                }
            }
        }
    };
    (@enabled default) => { true };
    (@enabled opt_in) => { false };
}

for_each_rule!(declare_registry);

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth a look; fails the run only with `--fail-level warning`.
    Warning,
    /// A hazard: fails the run.
    Error,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Whether a rule can fix what it finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fixability {
    /// Never: a person must decide.
    Never,
    /// For some findings.
    Sometimes,
    /// For every finding.
    Always,
}

impl Fixability {
    /// `never`, `sometimes` or `always`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fixability::Never => "never",
            Fixability::Sometimes => "sometimes",
            Fixability::Always => "always",
        }
    }
}

/// Whether a rule's fixes may be applied by `--fix` on their own.
///
/// A fix is **safe** only when it can never make ASO start writing to, or deleting, anything
/// in Azure that it did not before. Safe fixes may only remove DELETEs (add
/// `detach-on-delete`), remove destructive sync options, or correct a value whose intent is
/// unambiguous. Every other fix is **unsafe**: applied only with `--unsafe-fixes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixSafety {
    /// The rule has no fix.
    None,
    /// Every fix it offers is safe.
    Safe,
    /// Every fix it offers is unsafe.
    Unsafe,
    /// Some of its fixes are safe and some unsafe; the doc's "Fix safety" section says which.
    Mixed,
}

impl FixSafety {
    /// `none`, `safe`, `unsafe` or `mixed`.
    pub fn as_str(self) -> &'static str {
        match self {
            FixSafety::None => "none",
            FixSafety::Safe => "safe",
            FixSafety::Unsafe => "unsafe",
            FixSafety::Mixed => "mixed",
        }
    }

    /// Whether a fix of this applicability agrees with the rule's declared safety.
    pub fn allows(self, applicability: Applicability) -> bool {
        match self {
            FixSafety::None => false,
            FixSafety::Safe => applicability == Applicability::Safe,
            FixSafety::Unsafe => applicability == Applicability::Unsafe,
            FixSafety::Mixed => true,
        }
    }
}

/// What the registry knows of a rule. Its summary and documentation live with its code, in
/// [`crate::rules`] ([`Rule::summary`], [`Rule::doc`]).
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable code, e.g. `ASO001`.
    pub code: &'static str,
    /// Kebab-case name, e.g. `skip-in-active`.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Whether it can fix what it finds.
    pub fixable: Fixability,
    /// Whether its fixes are safe (applied by `--fix`) or unsafe (`--unsafe-fixes`).
    pub safety: FixSafety,
    /// Whether it runs without being asked for. An opt-in rule runs only when selected
    /// (`--select`, `select:`) or given a severity in `rules:`, as ruff's rules outside its
    /// default set.
    pub default_enabled: bool,
    /// The relevance markers one of which a document must hold for the rule to report on it.
    pub markers: Markers,
}

impl RuleMeta {
    /// How its fix reads in tables: `never`, `safe`, `unsafe`, `safe or unsafe`, each followed
    /// by ` (sometimes)` when only some findings have one.
    pub fn fix_label(&self) -> String {
        let safety = match self.safety {
            FixSafety::None => return "never".to_string(),
            FixSafety::Safe => "safe",
            FixSafety::Unsafe => "unsafe",
            FixSafety::Mixed => "safe or unsafe",
        };
        match self.fixable {
            Fixability::Sometimes => format!("{safety} (sometimes)"),
            _ => safety.to_string(),
        }
    }
}

impl Rule {
    /// The code, e.g. `ASO001`.
    pub fn code(self) -> &'static str {
        self.meta().code
    }

    /// The name, e.g. `skip-in-active`.
    pub fn name(self) -> &'static str {
        self.meta().name
    }

    /// The rule a code or name designates (codes case-insensitively).
    pub fn from_code_or_name(text: &str) -> Option<Rule> {
        let text = text.trim();
        Rule::ALL
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(text) || r.name() == text)
    }

    /// The rule whose code or name is closest to a mistyped `text`, if one is close.
    pub fn suggest(text: &str) -> Option<Rule> {
        // A code with its zeros left out (`ASO9`, `e1`) means that code.
        let upper = text.trim().to_ascii_uppercase();
        let digits = upper.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        let prefix = &upper[..upper.len() - digits.len()];
        if let Ok(n) = digits.parse::<u32>() {
            let padded = format!("{prefix}{n:03}");
            if let Some(rule) = Rule::ALL.into_iter().find(|r| r.code() == padded) {
                return Some(rule);
            }
        }
        Rule::ALL
            .into_iter()
            .map(|r| {
                let by_name = strsim::jaro_winkler(text, r.name());
                let by_code = strsim::jaro_winkler(&text.to_ascii_uppercase(), r.code());
                (r, by_name.max(by_code))
            })
            .filter(|(_, score)| *score > 0.8)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(r, _)| r)
    }
}
