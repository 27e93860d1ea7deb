//! `asoguard plan`: what merging a change does in Azure, printed as a terraform-like text, a
//! markdown summary for a pull request, versioned JSON, or one ASO200 finding per destructive
//! change for SARIF, GitHub and Azure DevOps.

use std::path::{Path, PathBuf};

use asoguard_core::config;
use asoguard_core::diagnostic::{Diagnostic, Related};
use asoguard_core::engine::{FileReport, RunOptions, RunReport};
use asoguard_core::plan::{self, Change, Class, Plan, Revision, Side};
use asoguard_core::registry::Rule;
use asoguard_core::{SourceFile, Span};
use clap::{ArgMatches, Args, ValueEnum};
use serde_json::{Value, json};

use crate::check::pair_outputs;
use crate::printers::{self, Context};
use crate::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, emit};

/// Arguments of `asoguard plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The revision the change starts from: a branch, tag or commit git resolves
    /// (`origin/main`, `HEAD`). It is read from git, never checked out.
    #[arg(long, value_name = "REF")]
    base: String,
    /// The revision to plan (default: the working tree, the files git would commit).
    #[arg(long, value_name = "REF")]
    head: Option<String>,
    /// Only report resources written under these paths (default: the whole repository, which
    /// is always what is rendered).
    paths: Vec<PathBuf>,
    /// Output format; repeat it (each with its own `--output`) to write several reports from
    /// one plan.
    #[arg(long, value_enum)]
    format: Vec<PlanFormat>,
    /// Write the report of the `--format` before it to this file (`-`: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Vec<PathBuf>,
    /// Exit 0 even when a destructive change is planned (for report-only jobs).
    #[arg(long)]
    exit_zero: bool,
    /// Use this config file (default: `.asoguard.yaml` found by walking up from the first path,
    /// or the current directory).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// `asoguard plan`'s output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// A summary line, then every change grouped by cluster, with its cause and place.
    Text,
    /// For a pull-request comment or `$GITHUB_STEP_SUMMARY`: destructive changes first, the
    /// rest collapsed.
    Markdown,
    /// `{"version": 1, ...}` (docs/plan.md documents it).
    Json,
    /// SARIF 2.1.0: one ASO200 result per destructive change.
    Sarif,
    /// GitHub Actions annotations, one per destructive change.
    Github,
    /// Azure DevOps logging commands, one per destructive change.
    Azure,
}

/// Run `asoguard plan`.
pub fn run(args: PlanArgs, matches: &ArgMatches) -> u8 {
    let anchor = args.paths.first().cloned().unwrap_or_else(|| ".".into());
    let settings = match config::load(args.config.as_deref(), &anchor) {
        Ok(settings) => settings,
        Err(errors) => {
            for error in errors.0 {
                eprintln!("error: {error}");
            }
            return EXIT_ERROR;
        }
    };
    let head = args
        .head
        .as_ref()
        .map_or(Revision::WorkingTree, |h| Revision::Git(h.clone()));
    let mut plan = match plan::plan(&settings, &args.base, &head) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_ERROR;
        }
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let restrict: Vec<PathBuf> = args
        .paths
        .iter()
        .map(|p| asoguard_core::files::normalize(&cwd.join(p)))
        .map(|p| {
            p.strip_prefix(&settings.root)
                .map_or(p.clone(), Path::to_path_buf)
        })
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    plan.restrict(&restrict);
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    let mut code = EXIT_OK;
    for (format, output) in pair_outputs(matches, (&args.format, &args.output), PlanFormat::Text) {
        let rendered = match format {
            PlanFormat::Text => text(&plan),
            PlanFormat::Markdown => markdown(&plan),
            PlanFormat::Json => json(&plan),
            PlanFormat::Sarif | PlanFormat::Github | PlanFormat::Azure => {
                let report = findings(&plan);
                let options = RunOptions::default();
                let context = Context {
                    settings: &settings,
                    options: &options,
                    colour: false,
                    quiet: true,
                    verbose: false,
                    statistics: false,
                    show_fixes: false,
                };
                match format {
                    PlanFormat::Sarif => printers::sarif::render(&report, &context),
                    PlanFormat::Github => printers::github::render(&report, &context),
                    _ => printers::azure::render(&report),
                }
            }
        };
        code = code.max(emit(&rendered, output.as_ref()));
    }
    if code == EXIT_OK && plan.is_destructive() && !args.exit_zero {
        code = EXIT_FINDINGS;
    }
    code
}

/// "Plan: 1 to create, 0 to update, 1 to DELETE, 0 to replace, 0 immutable; ...".
fn summary(plan: &Plan) -> String {
    let n = |class| plan.count(class);
    format!(
        "Plan: {} to create, {} to update, {} to DELETE, {} to replace, {} immutable; \
         {} takeover, {} unprotected; {} to detach, {} orphaned.",
        n(Class::Create),
        n(Class::Update),
        n(Class::Delete),
        n(Class::Replace),
        n(Class::Immutable),
        n(Class::Takeover),
        n(Class::Unprotect),
        n(Class::Detach),
        n(Class::Orphan),
    )
}

fn symbol(class: Class) -> &'static str {
    match class {
        Class::Create => "+",
        Class::Update => "~",
        Class::Delete => "-",
        Class::Replace => "-/+",
        Class::Immutable => "!",
        Class::Takeover | Class::Unprotect => "!",
        Class::Detach => "x",
        Class::Orphan => "?",
    }
}

fn resource(change: &Change) -> String {
    let namespace = change
        .namespace
        .as_deref()
        .map_or_else(String::new, |ns| format!("{ns}/"));
    format!(
        "{} {namespace}{}",
        change.kind,
        change.name.as_deref().unwrap_or("?")
    )
}

fn cluster(change: &Change) -> String {
    match &change.cluster {
        Some(c) => format!("cluster `{c}`"),
        None => "no configured cluster".to_string(),
    }
}

fn policies(change: &Change) -> String {
    match (change.base_policy, change.head_policy) {
        (Some(b), Some(h)) if b != h => format!("{} → {}", b.as_str(), h.as_str()),
        (Some(p), _) | (None, Some(p)) => p.as_str().to_string(),
        (None, None) => String::new(),
    }
}

fn place(change: &Change) -> String {
    let gone = match change.side {
        Side::Base => " (in the base)",
        Side::Head => "",
    };
    format!("{}:{}{gone}", change.at.path.display(), change.at.line)
}

fn text(plan: &Plan) -> String {
    let mut out = format!("{}\n(from {} to {})\n", summary(plan), plan.base, plan.head);
    if plan.changes.is_empty() {
        out.push_str("\nNo ASO resource changes.\n");
        return out;
    }
    let mut clusters: Vec<String> = plan.changes.iter().map(cluster).collect();
    clusters.sort();
    clusters.dedup();
    for name in clusters {
        out.push_str(&format!("\n{name}:\n"));
        for change in plan.changes.iter().filter(|c| cluster(c) == name) {
            let class = if change.class.is_destructive() {
                change.class.as_str().to_uppercase()
            } else {
                change.class.as_str().to_string()
            };
            out.push_str(&format!(
                "  {:<3} {class:<9} {}  [{}]\n      {}\n",
                symbol(change.class),
                resource(change),
                policies(change),
                change.cause
            ));
            for note in &change.notes {
                out.push_str(&format!("      also: {note}\n"));
            }
            if let Some(previous) = &change.previous {
                out.push_str(&format!(
                    "      was at {}:{}\n",
                    previous.path.display(),
                    previous.line
                ));
            }
            out.push_str(&format!("      at {}\n", place(change)));
        }
    }
    out
}

/// A markdown table cell: no pipe or newline breaks the table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn markdown_rows(changes: &[&Change]) -> String {
    let mut out = String::from("| | change | cluster | resource | policy | why | where |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for change in changes {
        out.push_str(&format!(
            "| {} | {} | {} | `{}` | {} | {} | `{}` |\n",
            cell(symbol(change.class)),
            change.class.as_str(),
            cell(&cluster(change)),
            cell(&resource(change)),
            cell(&policies(change)),
            cell(&change.cause),
            cell(&place(change)),
        ));
    }
    out
}

fn markdown(plan: &Plan) -> String {
    let mut out = format!(
        "## asoguard plan\n\n**{}**\n\nFrom `{}` to `{}`.\n\n",
        summary(plan),
        plan.base,
        plan.head
    );
    let destructive: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.class.is_destructive())
        .collect();
    if destructive.is_empty() {
        out.push_str("No destructive change: nothing is deleted or replaced in Azure.\n\n");
    } else {
        out.push_str(&format!(
            "### :x: {} destructive\n\nMerging this change deletes or replaces Azure resources, \
             or breaks the sync. Split it as ASO's FAQ does: set `detach-on-delete` (or `skip`) \
             first and let it apply, then remove or move the object.\n\n",
            printers::plural(destructive.len(), "change")
        ));
        out.push_str(&markdown_rows(&destructive));
        out.push('\n');
    }
    for note in &plan.notes {
        out.push_str(&format!("> **Not planned:** {}\n\n", cell(note)));
    }
    let others: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| !c.class.is_destructive())
        .collect();
    if !others.is_empty() {
        out.push_str(&format!(
            "<details><summary>{}</summary>\n\n{}\n</details>\n",
            printers::plural(others.len(), "other change"),
            markdown_rows(&others)
        ));
    }
    out
}

fn json(plan: &Plan) -> String {
    let changes: Vec<Value> = plan
        .changes
        .iter()
        .map(|c| {
            json!({
                "class": c.class.as_str(),
                "destructive": c.class.is_destructive(),
                "warning": c.class.is_warning(),
                "cluster": c.cluster,
                "apiVersion": c.api_version,
                "kind": c.kind,
                "namespace": c.namespace,
                "name": c.name,
                "azureId": c.azure_id,
                "policy": {
                    "base": c.base_policy.map(|p| p.as_str()),
                    "head": c.head_policy.map(|p| p.as_str()),
                },
                "cause": c.cause,
                "fields": c.fields,
                "notes": c.notes,
                "location": {
                    "path": c.at.path.to_string_lossy().replace('\\', "/"),
                    "line": c.at.line,
                    "revision": match c.side { Side::Base => "base", Side::Head => "head" },
                },
                "written": {
                    "path": c.written.path.to_string_lossy().replace('\\', "/"),
                    "line": c.written.line,
                },
                "previous": c.previous.as_ref().map(|p| json!({
                    "path": p.path.to_string_lossy().replace('\\', "/"),
                    "line": p.line,
                })),
            })
        })
        .collect();
    let summary: serde_json::Map<String, Value> = Class::ALL
        .iter()
        .map(|class| (class.as_str().to_string(), json!(plan.count(*class))))
        .collect();
    let report = json!({
        "version": 1,
        "base": plan.base,
        "head": plan.head,
        "destructive": plan.is_destructive(),
        "summary": summary,
        "changes": changes,
        "notes": plan.notes,
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    )
}

/// One ASO200 finding per destructive change, in the file and at the line that causes it, as
/// the check printers take them.
fn findings(plan: &Plan) -> RunReport {
    let mut files: Vec<FileReport> = Vec::new();
    for change in plan.changes.iter().filter(|c| c.class.is_destructive()) {
        // Named as `check` names files: relative to the working directory.
        let path = PathBuf::from(printers::display_path(&plan.root.join(&change.at.path)));
        let text = plan.text(change.side, &change.at.path).unwrap_or_default();
        let span = line_span(&text, change.at.line);
        let mut diagnostic = Diagnostic::new(
            Rule::DestructiveChange,
            span,
            format!(
                "{} {} in {}: {}",
                change.class.as_str().to_uppercase(),
                resource(change),
                cluster(change),
                change.cause
            ),
        );
        diagnostic.help = Some(
            "split the change: set `detach-on-delete` (or `skip`) first and let it apply, then \
             remove, rename or move the object (ASO's FAQ; `asoguard migrate` writes the steps)"
                .to_string(),
        );
        diagnostic.object = Some(asoguard_core::diagnostic::ObjectRef {
            api_version: change.api_version.clone(),
            kind: Some(change.kind.clone()),
            namespace: change.namespace.clone(),
            name: change.name.clone(),
        });
        if let Some(previous) = &change.previous {
            diagnostic.related.push(Related {
                path: PathBuf::from(printers::display_path(&plan.root.join(&previous.path))),
                span: Span::new(0, 0),
                line: previous.line,
                column: 1,
                message: "where the object was in the base".to_string(),
            });
        }
        match files.iter_mut().find(|f| f.path == path) {
            Some(file) => file.diagnostics.push(diagnostic),
            None => files.push(FileReport {
                source: SourceFile::new(path.clone(), text),
                path,
                original: None,
                diagnostics: vec![diagnostic],
                suppressed: Vec::new(),
                fixed: 0,
                applied: Vec::new(),
                documents: 0,
                notes: Vec::new(),
                write_error: None,
                schema: Default::default(),
            }),
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    RunReport {
        files_checked: files.len(),
        files,
        ..RunReport::default()
    }
}

/// The span of line `line` (1-based) of `text`, from its first non-blank byte to its end.
fn line_span(text: &str, line: usize) -> Span {
    let mut start = 0;
    for (n, l) in text.split_inclusive('\n').enumerate() {
        if n + 1 == line {
            let content = l.trim_end_matches(['\n', '\r']);
            let indent = content.len() - content.trim_start().len();
            return Span::new(start + indent, start + content.len());
        }
        start += l.len();
    }
    Span::new(0, 0)
}
