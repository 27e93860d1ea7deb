//! The rule registry: every rule once, with its code, name, severity, fixability and docs.

mod active_active;
mod argocd_replace;
mod aso_v1_api;
mod destructive_recreate;
mod finalizer_override;
mod invalid_reconcile_policy;
mod invalid_suppression;
mod live_state_in_manifest;
mod missing_detach_on_delete;
mod parse_error;
mod passive_not_skipped;
mod reference_outside_root;
mod schema_violation;
mod skip_in_active;
mod unknown_kind;
mod unprotected_children;
mod unserved_version;
mod unused_suppression;

use crate::config::{Role, Settings};
use crate::diagnostic::{Diagnostic, ObjectRef, Severity};
use crate::index::{Context, ContextKind, FileId, FixPlan, Index, Instance, Judgement, ObjectFact};
use crate::manifest::{Manifest, Policy};
use crate::span::{SourceFile, Span};

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
    pub fn allows(self, applicability: crate::fix::Applicability) -> bool {
        use crate::fix::Applicability;
        match self {
            FixSafety::None => false,
            FixSafety::Safe => applicability == Applicability::Safe,
            FixSafety::Unsafe => applicability == Applicability::Unsafe,
            FixSafety::Mixed => true,
        }
    }
}

/// What the registry knows of a rule.
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
    /// One line: what it finds.
    pub summary: &'static str,
    /// Markdown: What it does / Why is this bad / Example / Fix / Fix safety / Source.
    pub doc: &'static str,
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

/// Every rule asoguard has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// E001 `parse-error`.
    ParseError,
    /// ASO001 `skip-in-active`.
    SkipInActive,
    /// ASO002 `argocd-replace`.
    ArgocdReplace,
    /// ASO003 `missing-detach-on-delete`.
    MissingDetachOnDelete,
    /// ASO004 `invalid-reconcile-policy`.
    InvalidReconcilePolicy,
    /// ASO005 `passive-not-skipped`.
    PassiveNotSkipped,
    /// ASO006 `active-active`.
    ActiveActive,
    /// ASO007 `destructive-recreate`.
    DestructiveRecreate,
    /// ASO008 `finalizer-override`.
    FinalizerOverride,
    /// ASO009 `aso-v1-api`.
    AsoV1Api,
    /// ASO010 `unprotected-children`.
    UnprotectedChildren,
    /// ASO011 `live-state-in-manifest`.
    LiveStateInManifest,
    /// ASO012 `schema-violation`.
    SchemaViolation,
    /// ASO013 `unserved-version`.
    UnservedVersion,
    /// ASO014 `reference-outside-root`.
    ReferenceOutsideRoot,
    /// ASO015 `unknown-kind`.
    UnknownKind,
    /// ASO100 `unused-suppression`.
    UnusedSuppression,
    /// ASO101 `invalid-suppression`.
    InvalidSuppression,
}

impl Rule {
    /// Every rule, in code order.
    pub const ALL: [Rule; 18] = [
        Rule::ParseError,
        Rule::SkipInActive,
        Rule::ArgocdReplace,
        Rule::MissingDetachOnDelete,
        Rule::InvalidReconcilePolicy,
        Rule::PassiveNotSkipped,
        Rule::ActiveActive,
        Rule::DestructiveRecreate,
        Rule::FinalizerOverride,
        Rule::AsoV1Api,
        Rule::UnprotectedChildren,
        Rule::LiveStateInManifest,
        Rule::SchemaViolation,
        Rule::UnservedVersion,
        Rule::ReferenceOutsideRoot,
        Rule::UnknownKind,
        Rule::UnusedSuppression,
        Rule::InvalidSuppression,
    ];

    /// The rule's registry entry.
    pub fn meta(self) -> &'static RuleMeta {
        match self {
            Rule::ParseError => &parse_error::META,
            Rule::SkipInActive => &skip_in_active::META,
            Rule::ArgocdReplace => &argocd_replace::META,
            Rule::MissingDetachOnDelete => &missing_detach_on_delete::META,
            Rule::InvalidReconcilePolicy => &invalid_reconcile_policy::META,
            Rule::PassiveNotSkipped => &passive_not_skipped::META,
            Rule::ActiveActive => &active_active::META,
            Rule::DestructiveRecreate => &destructive_recreate::META,
            Rule::FinalizerOverride => &finalizer_override::META,
            Rule::AsoV1Api => &aso_v1_api::META,
            Rule::UnprotectedChildren => &unprotected_children::META,
            Rule::LiveStateInManifest => &live_state_in_manifest::META,
            Rule::SchemaViolation => &schema_violation::META,
            Rule::UnservedVersion => &unserved_version::META,
            Rule::ReferenceOutsideRoot => &reference_outside_root::META,
            Rule::UnknownKind => &unknown_kind::META,
            Rule::UnusedSuppression => &unused_suppression::META,
            Rule::InvalidSuppression => &invalid_suppression::META,
        }
    }

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

/// The anchor of a rule's section in `docs/rules.md`, as GitHub slugs its heading.
pub fn doc_anchor(rule: Rule) -> String {
    format!("{}-{}", rule.code().to_ascii_lowercase(), rule.name())
}

/// `docs/rules.md`: the table of every rule, then each rule's full documentation.
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Rules\n\n<!-- Generated from the rule registry by `asoguard rules --format markdown`. \
         Do not edit: a test fails when this file is stale. -->\n\n\
         | Code | Name | Severity | Fix | Summary |\n|---|---|---|---|---|\n",
    );
    for rule in Rule::ALL {
        let meta = rule.meta();
        out.push_str(&format!(
            "| [{}](#{}) | `{}` | {} | {} | {} |\n",
            meta.code,
            doc_anchor(rule),
            meta.name,
            severity_label(meta),
            meta.fix_label(),
            meta.summary.replace('|', "\\|")
        ));
    }
    for rule in Rule::ALL {
        let meta = rule.meta();
        out.push_str(&format!(
            "\n## {} `{}`\n\n{}\n\n",
            meta.code,
            meta.name,
            header_line(meta)
        ));
        for line in meta.doc.trim_end().lines() {
            // The rule's own sections sit one level below its heading.
            if line.starts_with("## ") {
                out.push('#');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A rule's severity as tables show it: `error`, or `warning (opt-in)` for a rule outside the
/// default set.
pub fn severity_label(meta: &RuleMeta) -> String {
    if meta.default_enabled {
        meta.severity.as_str().to_string()
    } else {
        format!("{} (opt-in)", meta.severity.as_str())
    }
}

/// The line under a rule's heading: default severity, fix and whether it runs by default.
pub fn header_line(meta: &RuleMeta) -> String {
    let opt_in = if meta.default_enabled {
        ""
    } else {
        " Opt-in: runs only when selected (`--select`, `select:`) or given a severity in `rules:`."
    };
    format!(
        "Default severity: **{}**. Fix: **{}**.{opt_in}",
        meta.severity.as_str(),
        meta.fix_label()
    )
}

/// The README's rule table (between its `rules-table` markers), generated like `docs/rules.md`.
pub fn readme_table() -> String {
    let mut out = String::from("| code | name | severity | fix |\n|---|---|---|---|\n");
    for rule in Rule::ALL {
        let meta = rule.meta();
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            meta.code,
            meta.name,
            severity_label(meta),
            meta.fix_label()
        ));
    }
    out
}

/// What a rule sees of the file it checks and the run around it.
pub struct FileContext<'x> {
    /// The file.
    pub source: &'x SourceFile,
    /// The run's settings.
    pub settings: &'x Settings,
    /// What GitOps applies across files: `None` in the pass that parses the file, before the
    /// index is built (see [`check_document`]).
    pub index: Option<&'x Index>,
    /// This file's id in the index, when it is indexed.
    pub file: Option<FileId>,
}

impl FileContext<'_> {
    /// The effective policies of the object in document `doc` of this file, one per context
    /// that applies it (none when nothing indexes it).
    pub fn effective_policies(&self, doc: usize) -> Vec<Policy> {
        let (Some(index), Some(file)) = (self.index, self.file) else {
            return Vec::new();
        };
        index
            .instances_of(file, doc)
            .map(|i| index.effective(i).0)
            .collect()
    }

    /// Whether document `doc` is applied as an object of its own: false for a Kustomize patch,
    /// which the index applies to its target. Without an index, every document is.
    pub fn is_applied(&self, doc: usize) -> bool {
        match (self.index, self.file) {
            (Some(index), Some(file)) => index.instances_of(file, doc).next().is_some(),
            _ => true,
        }
    }

    /// Whether every context that applies document `doc` is passive (true when none does).
    pub fn applied_only_passive(&self, doc: usize) -> bool {
        let (Some(index), Some(file)) = (self.index, self.file) else {
            return false;
        };
        index
            .instances_of(file, doc)
            .all(|i| index.contexts[i.context].role == Role::Passive)
    }

    /// Whether `manifest` is an ASO resource of a critical kind.
    pub fn is_critical(&self, manifest: &Manifest) -> bool {
        manifest.is_aso()
            && manifest
                .kind
                .is_some_and(|kind| self.settings.is_critical(manifest.group(), kind))
    }
}

/// What a cross-file rule needs to describe an instance: its object, context and name.
pub(crate) struct Seen<'i> {
    pub object: &'i ObjectFact,
    pub context: &'i Context,
    /// The name as applied.
    name: Option<&'i str>,
}

impl<'i> Seen<'i> {
    pub(crate) fn of(index: &'i Index, instance: &'i Instance) -> Self {
        Seen {
            object: index.object(instance),
            context: &index.contexts[instance.context],
            name: instance
                .name
                .as_deref()
                .or(index.object(instance).name.as_deref()),
        }
    }

    /// `Kind `name``, the name as applied (after Kustomize's prefix and suffix and Flux's
    /// substitutions).
    pub(crate) fn label(&self) -> String {
        format!("{} `{}`", self.object.kind, self.name.unwrap_or("?"))
    }

    /// `active cluster `x`` / `an active cluster`, and the rendering, for messages.
    pub(crate) fn place(&self, index: &Index, settings: &Settings) -> String {
        let role = match self.context.role {
            Role::Active => "active",
            Role::Passive => "passive",
        };
        let cluster = match self.context.cluster {
            Some(c) => format!("{role} cluster `{}`", settings.clusters[c].name),
            None => format!("an {role} cluster"),
        };
        match self.context.kind {
            ContextKind::Standalone => cluster,
            _ => format!(
                "{cluster} (as applied by {})",
                index.describe_context(self.context)
            ),
        }
    }

    /// The object reference for reports.
    pub(crate) fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.object.api_version(),
            kind: Some(self.object.kind.to_string()),
            namespace: self.object.namespace.as_deref().map(str::to_string),
            name: self.object.name.as_deref().map(str::to_string),
        }
    }
}

/// A cross-file rule's judge: reads the rendered index, adds its judgements to the list.
type Judge = fn(&Index, &Settings, &mut Vec<(FileId, Judgement)>);

/// Every cross-file rule, in the order their judgements are filed.
const JUDGES: [(Rule, Judge); 7] = [
    (Rule::SkipInActive, skip_in_active::judge),
    (Rule::ArgocdReplace, argocd_replace::judge),
    (Rule::MissingDetachOnDelete, |index, _, out| {
        missing_detach_on_delete::judge(index, out)
    }),
    (Rule::PassiveNotSkipped, passive_not_skipped::judge),
    (Rule::ActiveActive, active_active::judge),
    (Rule::DestructiveRecreate, |index, _, out| {
        destructive_recreate::judge(index, out)
    }),
    (Rule::UnprotectedChildren, |index, _, out| {
        unprotected_children::judge(index, out)
    }),
];

/// Run every enabled cross-file rule over the rendered index, filing judgements. The rules
/// read the index independently, so they run in parallel; their judgements are filed in
/// [`JUDGES`] order, the same whatever the thread count.
pub fn judge(index: &mut Index, settings: &Settings) {
    use rayon::prelude::*;
    let shared: &Index = index;
    let judged: Vec<Vec<(FileId, Judgement)>> = JUDGES
        .par_iter()
        .filter(|(rule, _)| settings.severity(*rule).is_some())
        .map(|(_, judge)| {
            let mut out = Vec::new();
            judge(shared, settings, &mut out);
            out
        })
        .collect();
    for (file, judgement) in judged.into_iter().flatten() {
        index.file_judgement(file, judgement);
    }
}

/// The span to report an object-level finding at: its name, else its kind, else the document.
pub fn object_span(manifest: &Manifest) -> Span {
    manifest
        .name
        .map(|n| n.span)
        .or_else(|| manifest.root.get("kind").map(|k| k.span))
        .unwrap_or(Span::empty(manifest.root.span.start))
}

/// What the first pass over a document asks of the second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DocumentNeeds {
    /// Some of its checks need the index: run [`check_indexed_document`] on it.
    pub index: bool,
    /// It was checked against its CRD as a whole object; should the index show it is only a
    /// patch, its ASO012 findings are replaced by [`check_indexed_document`]'s.
    pub schema_as_whole: bool,
}

/// Run the per-object rules that need only the document itself, in the pass that parses the
/// file (the index is not built yet: `cx.index` is `None`). Returns what the document needs
/// once the index is built; most documents need nothing, so their file is parsed once.
pub fn check_document(
    cx: &FileContext,
    doc: usize,
    manifest: &Manifest,
    out: &mut Vec<Diagnostic>,
) -> DocumentNeeds {
    let enabled = |rule: Rule| cx.settings.severity(rule).is_some();
    let mut needs = DocumentNeeds::default();
    if enabled(Rule::ArgocdReplace) {
        needs.index |= argocd_replace::check(cx, manifest, out);
    }
    if enabled(Rule::InvalidReconcilePolicy) {
        needs.index |= invalid_reconcile_policy::check(cx, doc, manifest, false, out);
    }
    if enabled(Rule::DestructiveRecreate) {
        needs.index |= destructive_recreate::applies(manifest);
    }
    if enabled(Rule::FinalizerOverride) {
        finalizer_override::check(cx, manifest, out);
    }
    if enabled(Rule::AsoV1Api) {
        aso_v1_api::check(manifest, out);
    }
    if enabled(Rule::LiveStateInManifest) {
        live_state_in_manifest::check(cx, manifest, out);
    }
    if enabled(Rule::UnknownKind) {
        unknown_kind::check(cx, manifest, out);
    }
    if enabled(Rule::UnservedVersion) {
        unserved_version::check(cx, manifest, out);
    }
    if let Some(store) = cx.settings.crds.as_deref() {
        if enabled(Rule::SchemaViolation) {
            needs.schema_as_whole = schema_violation::check(cx, store, doc, manifest, out);
        }
    }
    needs
}

/// A judgement a cross-file rule is likely to file on a document, as the first pass sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Likely {
    /// Its fix needs the document's tree: the first pass realizes this plan while it holds the
    /// tree, so the judgement needs no second parse of the document.
    Fix(FixPlan),
    /// Its fix is made from the facts. The file's text is still kept, not read again.
    Judged,
}

/// The judgement a cross-file rule is likely to file on this document once the index is
/// built. Only a likely one: preparing costs every run. The rules' likely judgements never meet
/// on one document: ASO003's is on an object whose own policy is `manage` or none, ASO001's on
/// one whose own is `skip`.
pub fn likely(cx: &FileContext, doc: usize, manifest: &Manifest) -> Option<Likely> {
    let enabled = |rule: Rule| cx.settings.severity(rule).is_some();
    let missing = enabled(Rule::MissingDetachOnDelete)
        .then(|| missing_detach_on_delete::likely(cx, doc, manifest))
        .flatten();
    missing.or_else(|| {
        enabled(Rule::SkipInActive)
            .then(|| skip_in_active::likely(cx, doc, manifest))
            .flatten()
    })
}

impl DocumentNeeds {
    /// Whether the document needs [`check_indexed_document`], now that the index (in `cx`)
    /// says what is applied.
    pub fn indexed_pass(&self, cx: &FileContext, doc: usize) -> bool {
        self.index || self.schema_as_whole && !cx.is_applied(doc)
    }
}

/// Run the per-object rules that need the index (`cx.index` is set) on a document whose
/// [`DocumentNeeds::indexed_pass`] holds: ArgoCD Applications' `Replace=true` (how bad depends
/// on what the Application applies), forced recreates (only of objects applied with `manage`),
/// and the schema of a document that turned out to be a patch. `out` holds the file's findings
/// so far: those this pass replaces (the patch's ASO012 findings as a whole object) are
/// removed.
pub fn check_indexed_document(
    cx: &FileContext,
    doc: usize,
    manifest: &Manifest,
    needs: DocumentNeeds,
    out: &mut Vec<Diagnostic>,
) {
    let enabled = |rule: Rule| cx.settings.severity(rule).is_some();
    if needs.index && enabled(Rule::ArgocdReplace) {
        argocd_replace::check_app(cx, doc, manifest, out);
    }
    if needs.index && enabled(Rule::InvalidReconcilePolicy) {
        invalid_reconcile_policy::check(cx, doc, manifest, true, out);
    }
    if needs.index && enabled(Rule::DestructiveRecreate) {
        destructive_recreate::check(cx, doc, manifest, out);
    }
    if let Some(store) = cx.settings.crds.as_deref() {
        if needs.schema_as_whole && !cx.is_applied(doc) {
            let object = manifest.root.span;
            out.retain(|d| {
                d.rule != Rule::SchemaViolation
                    || d.span.start < object.start
                    || d.span.start > object.end
            });
            schema_violation::check(cx, store, doc, manifest, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_resolve() {
        let mut seen = std::collections::HashSet::new();
        for rule in Rule::ALL {
            assert!(seen.insert(rule.code()));
            assert!(seen.insert(rule.name()));
            assert_eq!(Rule::from_code_or_name(rule.code()), Some(rule));
            assert_eq!(Rule::from_code_or_name(rule.name()), Some(rule));
            for heading in [
                "## What it does",
                "## Why is this bad",
                "## Example",
                "## Fix\n",
                "## Source",
            ] {
                assert!(
                    rule.meta().doc.contains(heading),
                    "{} lacks {heading}",
                    rule.code()
                );
            }
            let meta = rule.meta();
            assert_eq!(
                meta.fixable == Fixability::Never,
                meta.safety == FixSafety::None,
                "{}: a rule has a fix safety exactly when it has a fix",
                rule.code()
            );
            assert_eq!(
                meta.doc.contains("## Fix safety\n"),
                meta.safety != FixSafety::None,
                "{}: a rule with a fix says how safe it is, in a `Fix safety` section",
                rule.code()
            );
        }
        assert_eq!(Rule::from_code_or_name("aso001"), Some(Rule::SkipInActive));
        assert_eq!(Rule::suggest("skip-in-actve"), Some(Rule::SkipInActive));
        assert_eq!(Rule::suggest("zzzz"), None);
        assert_eq!(Rule::suggest("ASO9"), Some(Rule::AsoV1Api));
        assert_eq!(Rule::suggest("e1"), Some(Rule::ParseError));
    }

    /// The README's rule table is generated from this registry too.
    #[test]
    fn readme_rule_table_is_fresh() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
        let readme = std::fs::read_to_string(path).unwrap_or_default();
        let start = readme.find("<!-- rules-table -->\n").map(|i| i + 21);
        let end = readme.find("<!-- /rules-table -->");
        let table = start.zip(end).map(|(s, e)| &readme[s..e]);
        if let (Some(s), Some(e), true) = (start, end, std::env::var_os("ASOGUARD_BLESS").is_some())
        {
            let fresh = format!("{}{}{}", &readme[..s], readme_table(), &readme[e..]);
            std::fs::write(path, fresh).expect("write README.md");
            return;
        }
        assert!(
            table == Some(readme_table().as_str()),
            "README.md's rule table is stale: run `ASOGUARD_BLESS=1 cargo test -p asoguard-core \
             --lib readme`, or put this between its rules-table markers:\n{}",
            readme_table()
        );
    }

    /// `docs/rules.md` is generated from this registry. Regenerate it with
    /// `cargo run -p asoguard -- rules --format markdown > docs/rules.md`.
    #[test]
    fn docs_rules_md_is_fresh() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == reference_markdown(),
            "docs/rules.md is stale: run `cargo run -p asoguard -- rules --format markdown > docs/rules.md`"
        );
    }
}
