//! Fix plans turned into edits. A cross-file judgement is made on the index's facts and names
//! what to change ([`FixPlan`]); its file's second pass turns it into edits, the cheapest way
//! that gives the same edits: prepared by the first pass (for the judgements
//! [`crate::rules::likely`] foresees, while the tree was at hand), from the facts (a recorded
//! reconcile-policy value is replaced from its span and quoting style), or else on the tree of
//! the one document it names, parsed again (see [`super::reparse`]). The tests prove each way
//! equal to the edits on the tree.
//!
//! This is the engine's, not [`crate::fix`]'s: it reads the index (the facts), and
//! [`crate::yaml::edit`] makes the edits, which itself builds on `fix`'s [`Edit`]; in `fix`
//! it would make `fix` and `yaml` depend on each other, and `fix` on `index`.

use super::reparse::DocumentTrees;
use crate::diagnostic::Diagnostic;
use crate::fix::{Edit, Fix};
use crate::index::{FileId, FixPlan, Index};
use crate::manifest::RECONCILE_POLICY;
use crate::yaml::{self, edit};

/// A cross-file judgement as a finding of file `file`, its fix plan turned into edits on the
/// tree of the document it names (or, for a policy value the file's facts describe, on its
/// span alone).
pub(super) fn realize(
    judgement: &crate::index::Judgement,
    trees: &mut DocumentTrees,
    known: &Known,
) -> Diagnostic {
    let edits = judgement
        .fix
        .as_ref()
        .and_then(|(_, _, plan)| plan_edits(plan, trees, known));
    let fix = judgement
        .fix
        .as_ref()
        .zip(edits)
        .map(|((title, applicability, _), edits)| Fix {
            title: title.clone(),
            edits,
            applicability: *applicability,
        });
    let mut diagnostic =
        Diagnostic::new(judgement.rule, judgement.span, judgement.message.clone()).with_fix(fix);
    diagnostic.help = judgement.help.clone();
    diagnostic.object = judgement.object.clone();
    diagnostic.related = judgement.related.clone();
    if let Some(severity) = judgement.severity {
        diagnostic = diagnostic.with_severity(severity);
    }
    diagnostic
}

/// What a file's fixes can be realized from without its tree: its facts in the index, and the
/// plans its first pass prepared.
pub(super) struct Known<'k> {
    pub(super) index: &'k Index,
    pub(super) file: FileId,
    pub(super) prepared: &'k [(FixPlan, Vec<Edit>)],
}

/// A fix plan's edits: prepared by the first pass, from the facts, or on the tree of the
/// document it names, parsed again.
pub(super) fn plan_edits(
    plan: &FixPlan,
    trees: &mut DocumentTrees,
    known: &Known,
) -> Option<Vec<Edit>> {
    if let Some((_, edits)) = known.prepared.iter().find(|(p, _)| p == plan) {
        return Some(edits.clone());
    }
    let text = trees.text;
    match plan {
        FixPlan::SetPolicy { doc, policy } => {
            // An object that declares a policy has its value replaced, as on the tree; the
            // facts recorded where it is and how it is quoted.
            if let Some(own) = known.index.own_policy(known.file, *doc) {
                if own.style.is_some() {
                    return Some(vec![edit::replace_scalar_at(
                        text,
                        own.value_span,
                        own.style,
                        policy.as_str(),
                    )]);
                }
            }
            plan_edits_on(plan, text, trees.root(*doc)?)
        }
        FixPlan::RemovePolicy { doc }
        | FixPlan::SetEntryAt { doc, .. }
        | FixPlan::RemoveEntryAt { doc, .. } => plan_edits_on(plan, text, trees.root(*doc)?),
        FixPlan::ReplaceValue { span, value } => {
            // Most replaced values are reconcile-policies the facts recorded, style and all:
            // the same edit as on the tree, without parsing the document again.
            if let Some(style) = known.index.policy_value_style(known.file, *span) {
                return Some(vec![edit::replace_scalar_at(
                    text,
                    *span,
                    Some(style),
                    value,
                )]);
            }
            Some(vec![edit::replace_scalar(
                text,
                trees.covering(*span)?.node_at(*span)?,
                value,
            )])
        }
        FixPlan::RemoveItem { span } => {
            let place = trees.covering(*span)?.item_at(*span)?;
            match (place.sequence.items()?.len(), place.holder) {
                (1, Some((mapping, entry))) => {
                    edit::remove_entry(text, mapping, entry).map(|e| vec![e])
                }
                _ => edit::remove_item(text, place.sequence, place.index).map(|e| vec![e]),
            }
        }
    }
}

/// The edits of a plan that names a document, on that document's root (`None` for the plans
/// that name a span instead).
pub(super) fn plan_edits_on(plan: &FixPlan, text: &str, root: &yaml::Node) -> Option<Vec<Edit>> {
    match plan {
        FixPlan::SetPolicy { policy, .. } => {
            edit::set_annotation(text, root, RECONCILE_POLICY, policy.as_str()).map(|e| vec![e])
        }
        FixPlan::RemovePolicy { .. } => edit::remove_annotation(text, root, RECONCILE_POLICY),
        FixPlan::SetEntryAt {
            path, key, value, ..
        } => edit::set_entry_at(text, root, path, key, value).map(|e| vec![e]),
        FixPlan::RemoveEntryAt { path, key, .. } => edit::remove_entry_at(text, root, path, key),
        FixPlan::ReplaceValue { .. } | FixPlan::RemoveItem { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::engine::testing::{GROUP, run_with, settings_at};
    use crate::index::{IndexedFile, facts::FileFacts};
    use crate::relevance::Relevance;
    use crate::span::{LineIndex, SourceFile, Span};

    /// The fixes the first pass prepares (ASO003's `detach-on-delete` on a critical object
    /// without its own policy, ASO001's removal of a `skip` from one that is not critical) are
    /// those the document's tree gives once the index is built, whatever the object's layout.
    #[test]
    fn a_prepared_fix_is_the_fix_on_the_tree() {
        let settings = settings_at(Path::new("/repo"));
        let run = run_with(&settings);
        let group = "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\n";
        let set = FixPlan::SetPolicy {
            doc: 0,
            policy: crate::manifest::Policy::DetachOnDelete,
        };
        let ip = "apiVersion: network.azure.com/v1api20201101\nkind: PublicIPAddress\n";
        let remove = FixPlan::RemovePolicy { doc: 0 };
        let skip = "serviceoperator.azure.com/reconcile-policy: skip";
        for (head, metadata, expected) in [
            (group, "metadata:\n  name: rg\n".to_string(), &set),
            (
                group,
                "metadata:\n  name: rg\n  annotations:\n    team: a # owner\n".into(),
                &set,
            ),
            (
                group,
                "metadata:\r\n    name: rg\r\n    labels: {a: b}\r\n".into(),
                &set,
            ),
            (
                group,
                "metadata: {name: rg, annotations: {team: a}}\n".into(),
                &set,
            ),
            (
                group,
                "metadata:\n  name: rg\n  annotations: {}\n".into(),
                &set,
            ),
            (
                ip,
                format!("metadata:\n  name: vn\n  annotations:\n    {skip}\n"),
                &remove,
            ),
            (
                ip,
                format!("metadata:\n  name: vn\n  annotations:\n    team: a\n    {skip} # dr\n"),
                &remove,
            ),
            (
                ip,
                format!("metadata:\r\n  annotations:\r\n    # why\r\n    {skip}\r\n  name: vn\r\n"),
                &remove,
            ),
            (
                ip,
                format!("metadata: {{name: vn, annotations: {{{skip}, team: a}}}}\n"),
                &remove,
            ),
        ] {
            let text = format!(
                "---\n{head}{metadata}spec:\n  location: westeurope\n---\nkind: ConfigMap\n"
            );
            let source = SourceFile::new(PathBuf::from("rg.yaml"), text.clone());
            let (_, first) =
                run.parse_and_check(&source, Path::new("/repo/rg.yaml"), &Relevance::all());
            let [(plan, prepared)] = first.prepared.as_slice() else {
                panic!("one prepared fix for {metadata:?}: {:?}", first.prepared);
            };
            assert_eq!(plan, expected, "{metadata:?}");
            let index = Index::default();
            let known = Known {
                index: &index,
                file: 0,
                prepared: &[],
            };
            let arena = yaml::Arena::new();
            let mut trees = DocumentTrees::new(&arena, &text, &first.doc_spans);
            let on_tree = plan_edits(plan, &mut trees, &known).expect("edits");
            assert_eq!(*prepared, on_tree, "{metadata:?}");
        }
    }

    /// A policy value the facts recorded is replaced from its span and style alone: the same
    /// edit as on the document's tree, in every quoting style and when it is null, whether
    /// the plan replaces the value or sets the object's policy.
    #[test]
    fn a_recorded_policy_value_is_replaced_as_on_the_tree() {
        let settings = settings_at(Path::new("/repo"));
        for value in [
            "skip",
            "'skip'",
            "\"skip\"",
            "|-\n      skip",
            ">\n      skip",
            "\"ski\\u0070\"",
            "manage",
            "~",
            "",
        ] {
            let text = format!(
                "{}  annotations:\n    serviceoperator.azure.com/reconcile-policy: {value}\nspec:\n  location: westeurope\n",
                GROUP.split("spec:").next().expect("head")
            );
            let fs_path = Path::new("/repo/rg.yaml");
            let arena = yaml::Arena::new();
            let stream = yaml::parse(&arena, &text);
            let facts = FileFacts::of(&stream, fs_path);
            let fact = facts.objects[0].policy.clone().expect("a policy fact");
            let index = Index::build(
                vec![IndexedFile {
                    display: Path::new("rg.yaml").into(),
                    fs_path: fs_path.into(),
                    facts: facts.shared(),
                    lines: LineIndex::new(&text),
                }],
                &settings,
            );
            let file = index.file_id(fs_path).expect("indexed");
            assert!(index.policy_value_style(file, fact.value_span).is_some());
            let plan = FixPlan::ReplaceValue {
                span: fact.value_span,
                value: "detach-on-delete".into(),
            };
            let spans: Vec<Span> = stream.documents.iter().map(|d| d.span).collect();
            let mut trees = DocumentTrees::new(&arena, &text, &spans);
            let known = Known {
                index: &index,
                file,
                prepared: &[],
            };
            let from_facts = plan_edits(&plan, &mut trees, &known);
            let node = stream.documents[0]
                .root
                .as_ref()
                .and_then(|r| r.get_path(&["metadata", "annotations", RECONCILE_POLICY]))
                .expect("the value");
            let on_tree = edit::replace_scalar(&text, node, "detach-on-delete");
            assert_eq!(from_facts, Some(vec![on_tree]), "{value}");
            // Setting the object's policy replaces its recorded value the same way.
            let set = FixPlan::SetPolicy {
                doc: 0,
                policy: crate::manifest::Policy::DetachOnDelete,
            };
            let root = stream.documents[0].root.as_ref().expect("root");
            assert_eq!(
                plan_edits(&set, &mut trees, &known),
                plan_edits_on(&set, &text, root),
                "{value}"
            );
        }
    }
}
