//! The rules: each rule's checks and documentation, in a module of its own, dispatched from the
//! registry's table ([`crate::registry::for_each_rule`]).

use crate::config::{Role, Settings};
use crate::diagnostic::{Diagnostic, ObjectRef};
use crate::index::{Context, ContextKind, FileId, FixPlan, Index, Instance, Judgement, ObjectFact};
use crate::manifest::{Manifest, Policy};
use crate::registry::{Rule, RuleMeta, for_each_rule};
use crate::span::SourceFile;

/// What a rule checks: each rule implements the hooks it needs, and the engine calls every
/// enabled rule's hooks in registry order. Rules the engine files itself (E001, the
/// suppression rules) implement none.
pub(crate) trait Checks: Sync {
    /// The first pass over a document, before the index is built (`cx.index` is `None`):
    /// report what needs only the document, and say what it needs of the indexed pass.
    fn check_document(
        &self,
        _cx: &FileContext,
        _doc: usize,
        _manifest: &Manifest,
        _out: &mut Vec<Diagnostic>,
    ) -> DocumentNeeds {
        DocumentNeeds::default()
    }

    /// The judgement this rule is likely to file on the document once the index is built.
    fn likely(&self, _cx: &FileContext, _doc: usize, _manifest: &Manifest) -> Option<Likely> {
        None
    }

    /// The indexed pass over a document that needs it (see [`DocumentNeeds::indexed_pass`]),
    /// with what every rule's first pass asked for.
    fn check_indexed_document(
        &self,
        _cx: &FileContext,
        _doc: usize,
        _manifest: &Manifest,
        _needs: DocumentNeeds,
        _out: &mut Vec<Diagnostic>,
    ) {
    }

    /// Judge the rendered index across files, adding judgements to `out`.
    fn judge(&self, _index: &Index, _settings: &Settings, _out: &mut Vec<(FileId, Judgement)>) {}
}

/// Generates each rule's module, its documentation accessors and its checks from the
/// registry's table.
macro_rules! declare_rules {
    ($($variant:ident($module:ident) [$($meta:tt)*];)*) => {
        $(mod $module;)*

        impl Rule {
            /// One line: what it finds.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Rule::$variant => $module::SUMMARY,)*
                }
            }

            /// Markdown: What it does / Why is this bad / Example / Fix / Fix safety / Source.
            pub fn doc(self) -> &'static str {
                match self {
                    $(Rule::$variant => $module::DOC,)*
                }
            }

            /// The rule's checks.
            fn checks(self) -> &'static dyn Checks {
                match self {
                    $(Rule::$variant => &$module::$variant,)*
                }
            }
        }
    };
}

for_each_rule!(declare_rules);

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
            rule.summary().replace('|', "\\|")
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
        for line in rule.doc().trim_end().lines() {
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

/// The rules a run has enabled, in registry order.
fn enabled(settings: &Settings) -> impl Iterator<Item = Rule> + '_ {
    Rule::ALL
        .into_iter()
        .filter(|rule| settings.severity(*rule).is_some())
}

/// Run every enabled cross-file rule over the rendered index, filing judgements. The rules
/// read the index independently, so they run in parallel; their judgements are filed in
/// registry order, the same whatever the thread count.
pub fn judge(index: &mut Index, settings: &Settings) {
    use rayon::prelude::*;
    let shared: &Index = index;
    let rules: Vec<Rule> = enabled(settings).collect();
    let judged: Vec<Vec<(FileId, Judgement)>> = rules
        .par_iter()
        .map(|rule| {
            let mut out = Vec::new();
            rule.checks().judge(shared, settings, &mut out);
            out
        })
        .collect();
    for (file, judgement) in judged.into_iter().flatten() {
        index.file_judgement(file, judgement);
    }
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
    let mut needs = DocumentNeeds::default();
    for rule in enabled(cx.settings) {
        needs = needs.and(rule.checks().check_document(cx, doc, manifest, out));
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
    enabled(cx.settings).find_map(|rule| rule.checks().likely(cx, doc, manifest))
}

impl DocumentNeeds {
    /// Needs the indexed pass when `index` holds.
    pub(crate) fn index_if(index: bool) -> Self {
        DocumentNeeds {
            index,
            schema_as_whole: false,
        }
    }

    /// What either needs.
    fn and(self, other: DocumentNeeds) -> Self {
        DocumentNeeds {
            index: self.index || other.index,
            schema_as_whole: self.schema_as_whole || other.schema_as_whole,
        }
    }

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
    for rule in enabled(cx.settings) {
        rule.checks()
            .check_indexed_document(cx, doc, manifest, needs, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{FixSafety, Fixability};

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
                    rule.doc().contains(heading),
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
                rule.doc().contains("## Fix safety\n"),
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
