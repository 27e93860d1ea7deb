//! Property tests over generated GitOps trees: random annotation layouts, flow and block
//! styles, comments, quoting, CRLF, BOM, multi-document files, suppressions and broken
//! documents. They prove that
//!
//! - the relevance prefilter changes nothing: findings, suppressions, notes and fixes are the
//!   same with it on and off;
//! - findings never depend on the thread count or on the order files are given in;
//! - every fix converges and is idempotent, the fixed text parses, and the parsed trees before
//!   and after differ only in the keys the fixes meant to change.
//!
//! The case count is bounded so `cargo test --workspace` stays fast: 64 cases per property by
//! default, `PROPTEST_CASES=N` for more.

use std::fs;
use std::path::Path;

use asoguard_core::config::{self, Settings};
use asoguard_core::discover::Target;
use asoguard_core::engine::{FixMode, Input, RunOptions, RunReport, check_inputs, check_paths};
use asoguard_core::yaml::{self, json::to_json};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::Value;

use crate::cases;

// ---- Generators -------------------------------------------------------------------------

const ASO_KINDS: &[(&str, &str)] = &[
    ("resources.azure.com/v1api20200601", "ResourceGroup"),
    ("storage.azure.com/v1api20230101", "StorageAccount"),
    ("keyvault.azure.com/v1api20230701", "Vault"),
    ("authorization.azure.com/v1api20220401", "RoleAssignment"),
    ("network.azure.com/v1api20201101", "NetworkSecurityGroup"),
    ("example.azure.com/v1", "Widget"),
];

const POLICIES: &[&str] = &[
    "manage",
    "skip",
    "detach-on-delete",
    "Skip",
    "detach_on_delete",
    " skip ",
    "manged",
    "detach",
    "",
];

fn quoted(value: &str, style: u8) -> String {
    match style % 3 {
        0 if !value.is_empty() && value.trim() == value => value.to_string(),
        1 => format!("'{value}'"),
        _ => format!("\"{value}\""),
    }
}

/// Annotations (key, value) in block or flow style, with comments, or none at all.
#[derive(Clone, Debug)]
struct Annotations {
    entries: Vec<(String, String)>,
    flow: bool,
    comment: bool,
    quote: u8,
}

fn annotations() -> impl Strategy<Value = Option<Annotations>> {
    let entry = prop_oneof![
        prop::sample::select(POLICIES).prop_map(|p| (
            "serviceoperator.azure.com/reconcile-policy".to_string(),
            p.to_string()
        )),
        prop::sample::select(vec![
            "Replace=true",
            "Prune=false,Replace=true",
            " Replace=true , Force=true",
            "Prune=false",
        ])
        .prop_map(|v| ("argocd.argoproj.io/sync-options".to_string(), v.to_string())),
        prop::sample::select(vec!["ASO003", "ASO001 -- dr copy", "bogus-rule", ""])
            .prop_map(|v| ("asoguard.io/ignore".to_string(), v.to_string())),
        Just(("team".to_string(), "platform".to_string())),
    ];
    prop::option::of(
        (
            prop::collection::vec(entry, 0..3),
            any::<bool>(),
            any::<bool>(),
            any::<u8>(),
        )
            .prop_map(|(mut entries, flow, comment, quote)| {
                // Duplicate keys are not valid YAML mappings (a test of their own elsewhere).
                let mut seen = std::collections::HashSet::new();
                entries.retain(|(k, _)| seen.insert(k.clone()));
                Annotations {
                    entries,
                    flow,
                    comment,
                    quote,
                }
            }),
    )
}

fn metadata(name: &str, namespace: Option<&str>, ann: &Option<Annotations>) -> String {
    let mut out = format!("metadata:\n  name: {name}\n");
    if let Some(ns) = namespace {
        out.push_str(&format!("  namespace: {ns}\n"));
    }
    if let Some(a) = ann {
        if a.flow {
            let items: Vec<String> = a
                .entries
                .iter()
                .map(|(k, v)| format!("{k}: {}", quoted(v, a.quote.wrapping_add(1))))
                .collect();
            out.push_str(&format!("  annotations: {{{}}}\n", items.join(", ")));
        } else if a.entries.is_empty() {
            out.push_str("  annotations:\n");
        } else {
            out.push_str("  annotations:\n");
            for (i, (k, v)) in a.entries.iter().enumerate() {
                if a.comment && i == 0 {
                    out.push_str("    # why: see the runbook\n");
                }
                let key = if a.quote % 5 == 4 {
                    format!("\"{k}\"")
                } else {
                    k.clone()
                };
                let trailing = if a.comment { " # reviewed" } else { "" };
                out.push_str(&format!(
                    "    {key}: {}{trailing}\n",
                    quoted(v, a.quote.wrapping_add(i as u8))
                ));
            }
        }
    }
    out
}

/// One document of a GitOps tree.
fn document() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec!["rg", "store", "kv", "app", "prod"]);
    let namespaces = prop::option::of(prop::sample::select(vec!["prod", "dev"]));
    prop_oneof![
        // ASO resources, most often.
        4 => (prop::sample::select(ASO_KINDS), names.clone(), namespaces.clone(), annotations(), any::<bool>())
            .prop_map(|((api, kind), name, ns, ann, meta_first)| {
                let head = format!("apiVersion: {api}\nkind: {kind}\n");
                let meta = metadata(name, ns, &ann);
                let spec = "spec:\n  location: westeurope # region\n  owner: {name: rg}\n";
                if meta_first {
                    format!("{meta}{head}{spec}")
                } else {
                    format!("{head}{meta}{spec}")
                }
            }),
        1 => (prop::sample::select(vec!["prod", "dev"]), annotations())
            .prop_map(|(name, ann)| format!("apiVersion: v1\nkind: Namespace\n{}", metadata(name, None, &ann))),
        1 => (any::<bool>(), any::<bool>(), prop::sample::select(vec!["aso", "apps", "nowhere"]))
            .prop_map(|(flow, replace, path)| {
                let options = if flow {
                    format!("    syncOptions: [CreateNamespace=true{}]\n", if replace { ", Replace=true" } else { "" })
                } else {
                    format!("    syncOptions:\n      - CreateNamespace=true\n{}", if replace { "      - Replace=true\n" } else { "" })
                };
                format!("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: infra\nspec:\n  source:\n    path: {path}\n  syncPolicy:\n{options}")
            }),
        1 => Just("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n".to_string()),
        2 => (names.clone(), namespaces.clone(), annotations())
            .prop_map(|(name, ns, ann)| format!("apiVersion: v1\nkind: ConfigMap\n{}data:\n  app.yaml: |\n    a: 1\n    # not a comment\n  motd: \"hi\\tthere\"\n", metadata(name, ns, &ann))),
        1 => Just("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  template: {spec: {containers: [{name: web, image: \"nginx:1\"}]}}\n".to_string()),
        // Comments, suppressions and broken documents.
        1 => Just("# asoguard: ignore[ASO003] -- legacy\napiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: legacy\n".to_string()),
        1 => Just("# just a comment\n".to_string()),
        1 => prop::sample::select(vec!["a: [unclosed\n", "kind: ConfigMap\ndata: {a: \"open\n", "\tkey: tab\n"])
            .prop_map(str::to_string),
    ]
}

/// One file: documents joined by `---` (sometimes with a comment or a leading marker), LF or
/// CRLF, with or without a BOM.
fn file_text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(document(), 1..4),
        any::<bool>(),
        any::<bool>(),
        0u8..4,
    )
        .prop_map(|(docs, crlf, bom, marker)| {
            let separator = match marker {
                0 => "---\n",
                1 => "--- # next\n",
                2 => "\n---\n",
                _ => "---\n# between\n",
            };
            let mut text = docs.join(separator);
            if marker == 3 {
                text.insert_str(0, "---\n");
            }
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            if bom {
                text.insert(0, '\u{feff}');
            }
            text
        })
}

/// A tree: a few files under `aso/`, `apps/` and a passive `dr/` cluster.
fn tree() -> impl Strategy<Value = Vec<(String, String)>> {
    let path = prop::sample::select(vec![
        "aso/a.yaml",
        "aso/b.yaml",
        "apps/app.yaml",
        "apps/kustomization.yaml",
        "dr/rg.yaml",
        "ns.yaml",
    ]);
    prop::collection::btree_map(path, file_text(), 1..5)
        .prop_map(|m| m.into_iter().map(|(p, t)| (p.to_string(), t)).collect())
}

// ---- Running -----------------------------------------------------------------------------

fn settings(root: &Path) -> Settings {
    let text = "clusters:\n  dr: {paths: [\"dr/**\"], role: passive}\n";
    let config = config::parse_config(text, &root.join(".asoguard.yaml")).expect("config");
    Settings::resolve(config, root.to_path_buf(), None).expect("settings")
}

fn write_tree(files: &[(String, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::create_dir(dir.path().join(".git")).expect(".git");
    for (path, text) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).expect("mkdir");
        fs::write(path, text).expect("write");
    }
    dir
}

fn options(prefilter: bool, fix: FixMode, unsafe_fixes: bool) -> RunOptions {
    RunOptions {
        fix,
        unsafe_fixes,
        prefilter,
        ..RunOptions::default()
    }
}

/// Everything a user sees of a report, in a comparable form.
fn summary(report: &RunReport) -> Vec<String> {
    let mut out = vec![format!(
        "files {} documents {}",
        report.files_checked, report.documents
    )];
    for file in &report.files {
        out.push(format!(
            "{} fixed={} notes={:?} write_error={:?}",
            file.path.display(),
            file.fixed,
            file.notes,
            file.write_error
        ));
        for d in file.diagnostics.iter().chain(&file.suppressed) {
            out.push(format!(
                "  {} {:?} {}..{} {} fix={:?} suppressed={:?}",
                d.rule.code(),
                d.severity,
                d.span.start,
                d.span.end,
                d.message,
                d.fix,
                d.suppression
            ));
        }
        if file.original.is_some() {
            out.push(format!("  text {:?}", file.source.text));
        }
    }
    out
}

fn run_tree(dir: &Path, options: RunOptions) -> RunReport {
    check_paths(&[dir.to_path_buf()], &settings(dir), options)
}

/// Documents of a text as JSON, with the keys fixes may change taken out.
fn normalized_documents(text: &str) -> Vec<Value> {
    let arena = yaml::Arena::new();
    let stream = yaml::parse(&arena, text);
    stream
        .documents
        .iter()
        .map(|d| {
            d.root
                .as_ref()
                .and_then(|r| to_json(r).ok())
                .map(normalize)
                .unwrap_or(Value::Null)
        })
        .collect()
}

fn normalize(mut value: Value) -> Value {
    if let Some(annotations) = value
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        for key in [
            "serviceoperator.azure.com/reconcile-policy",
            "argocd.argoproj.io/sync-options",
            "asoguard.io/ignore",
        ] {
            annotations.remove(key);
        }
    }
    if let Some(metadata) = value
        .pointer_mut("/metadata")
        .and_then(Value::as_object_mut)
    {
        let empty = metadata
            .get("annotations")
            .is_some_and(|a| a.is_null() || a.as_object().is_some_and(|o| o.is_empty()));
        if empty {
            metadata.remove("annotations");
        }
    }
    for at in ["/spec/syncPolicy", "/spec/template/spec/syncPolicy"] {
        if let Some(policy) = value.pointer_mut(at).and_then(Value::as_object_mut) {
            if let Some(list) = policy.get_mut("syncOptions").and_then(Value::as_array_mut) {
                list.retain(|o| o != "Replace=true");
            }
            let empty = policy
                .get("syncOptions")
                .is_some_and(|o| o.as_array().is_some_and(|a| a.is_empty()));
            if empty {
                policy.remove("syncOptions");
            }
        }
    }
    value
}

// ---- Properties --------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// The prefilter is exact: with it on and off, reports and fixes are the same.
    #[test]
    fn prefilter_changes_nothing(files in tree(), unsafe_fixes in any::<bool>()) {
        let dir = write_tree(&files);
        for fix in [FixMode::Off, FixMode::Preview] {
            let on = summary(&run_tree(dir.path(), options(true, fix, unsafe_fixes)));
            let off = summary(&run_tree(dir.path(), options(false, fix, unsafe_fixes)));
            prop_assert_eq!(on, off);
        }
    }

    /// Findings never depend on the thread count or the order files are given in.
    #[test]
    fn findings_do_not_depend_on_threads_or_order(files in tree()) {
        let dir = write_tree(&files);
        let settings = settings(dir.path());
        let inputs = |reverse: bool| {
            let mut inputs: Vec<Input> = files
                .iter()
                .map(|(path, text)| Input {
                    target: Target::new(path, dir.path().join(path)),
                    text: Ok(text.clone()),
                })
                .collect();
            if reverse {
                inputs.reverse();
            }
            inputs
        };
        let run = |threads: usize, reverse: bool| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| summary(&check_inputs(inputs(reverse), &settings, options(true, FixMode::Off, false))))
        };
        let one = run(1, false);
        prop_assert_eq!(&one, &run(2, false));
        prop_assert_eq!(&one, &run(2, true));
        prop_assert_eq!(&one, &run(1, true));
        // On disk, as the CLI runs it, the same.
        let walked = run_tree(dir.path(), options(true, FixMode::Off, false));
        let findings = |s: &[String]| s.iter().filter(|l| l.starts_with("  ")).cloned().collect::<Vec<_>>();
        prop_assert_eq!(findings(&one), findings(&summary(&walked)));
    }

    /// Fixes converge, are idempotent, keep the text parsing, and change only the keys they
    /// are meant to change.
    #[test]
    fn fixes_converge_and_change_only_their_keys(text in file_text(), unsafe_fixes in any::<bool>()) {
        let dir = write_tree(&[("aso/x.yaml".to_string(), text.clone())]);
        let report = run_tree(dir.path(), options(true, FixMode::Preview, unsafe_fixes));
        let Some(file) = report.files.iter().find(|f| f.original.is_some()) else {
            return Ok(());
        };
        prop_assert!(file.notes.is_empty(), "notes: {:?}", file.notes);
        let fixed = file.source.text.clone();
        let arena = yaml::Arena::new();
        let before = yaml::parse(&arena, &text);
        let arena = yaml::Arena::new();
        let after = yaml::parse(&arena, &fixed);
        prop_assert!(before.error.is_none(), "a file that does not parse was fixed");
        prop_assert!(after.error.is_none(), "the fixed text does not parse: {:?}\n{}", after.error, fixed);
        prop_assert_eq!(before.documents.len(), after.documents.len());
        prop_assert_eq!(normalized_documents(&text), normalized_documents(&fixed));
        // The BOM and line endings are kept.
        prop_assert_eq!(text.starts_with('\u{feff}'), fixed.starts_with('\u{feff}'));
        if text.contains("\r\n") {
            prop_assert!(!fixed.replace("\r\n", "").contains('\n'), "LF in a CRLF file:\n{:?}", fixed);
        }
        // Fixing the fixed text changes nothing.
        fs::write(dir.path().join("aso/x.yaml"), &fixed).unwrap();
        let again = run_tree(dir.path(), options(true, FixMode::Preview, unsafe_fixes));
        prop_assert!(again.files.iter().all(|f| f.original.is_none() && f.fixed == 0),
            "a second --fix changed the text again");
    }
}

// ---- The fuzz target's body on stable Rust -----------------------------------------------

#[path = "../support/fuzz_body.rs"]
mod fuzz_body;

/// YAML-ish bytes: the generated files, cut and spliced, with stray bytes mixed in.
fn yamlish_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        (
            file_text(),
            any::<usize>(),
            prop::collection::vec(any::<u8>(), 0..8)
        )
            .prop_map(|(text, at, junk)| {
                let mut bytes = text.into_bytes();
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, junk);
                bytes
            }),
        (file_text(), any::<usize>()).prop_map(|(text, cut)| {
            let bytes = text.into_bytes();
            bytes[..cut % (bytes.len() + 1)].to_vec()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// What `cargo fuzz run check` asserts, on bytes proptest makes: no panic, the prefilter
    /// exact, fixes parse and are idempotent.
    #[test]
    fn arbitrary_bytes_never_break_the_engine(bytes in yamlish_bytes()) {
        fuzz_body::check_bytes(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Files the prefilter never parses are counted line by line: the same count as the
    /// parser's, whenever the text is valid YAML.
    #[test]
    fn documents_are_counted_as_the_parser_does(text in file_text()) {
        let arena = yaml::Arena::new();
        let parsed = yaml::parse(&arena, &text);
        if parsed.error.is_none() {
            prop_assert_eq!(
                asoguard_core::relevance::count_documents(&text),
                parsed.documents.len()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// A document parsed again on its own (to realize a cross-file fix) is the document of the
    /// full parse, node for node and span for span; when it cannot be, the caller is told.
    #[test]
    fn a_document_parsed_alone_is_the_same(text in file_text()) {
        let arena = yaml::Arena::new();
        let full = yaml::parse(&arena, &text);
        let spans: Vec<_> = full.documents.iter().map(|d| d.span).collect();
        for (doc, document) in full.documents.iter().enumerate() {
            if let Some(alone) = yaml::parse_document(&arena, &text, &spans, doc) {
                prop_assert_eq!(
                    format!("{:?}", alone.documents[0]),
                    format!("{:?}", document)
                );
            }
        }
    }
}
