//! `asoguard policy set`, `asoguard migrate` and `asoguard failover`: plan a transform, print
//! the plan (and its diff), ask when it is large, and apply it as one transaction.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use asoguard_core::Settings;
use asoguard_core::catalog::GroupKind;
use asoguard_core::config;
use asoguard_core::transform::failover::{self, FailoverOptions};
use asoguard_core::transform::migrate::{self, MigrateOptions};
use asoguard_core::transform::policy::{self, PolicyOptions, PolicyValue};
use asoguard_core::transform::{self, Plan, TransformError};
use clap::{Args, Subcommand, ValueEnum};
use similar::TextDiff;

use crate::printers::{display_path, plural};
use crate::{EXIT_ERROR, EXIT_FINDINGS, write_stdout};

/// Above this many files, writing needs `--yes` when standard input is not a terminal, and a
/// confirmation when it is.
pub const CONFIRM_OVER: usize = 100;

/// `asoguard policy ...`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Set, replace or remove the reconcile-policy annotation on the ASO resources under PATHS.
    Set(PolicySetArgs),
}

/// Options every transform takes.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Print the plan and a unified diff of every change, and write nothing; exit 1 if anything
    /// would change.
    #[arg(long, visible_alias = "plan")]
    pub diff: bool,
    /// Write without asking. Required to write more than 100 files when standard input is not a
    /// terminal.
    #[arg(long, short)]
    pub yes: bool,
    /// Use this config file (default: `.asoguard.yaml` found by walking up from the first path,
    /// the source of a migration, or the working directory for a failover).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// The values `policy set` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    /// ASO creates, updates and deletes the Azure resource (its default).
    Manage,
    /// ASO only reads the Azure resource.
    Skip,
    /// ASO creates and updates, but never deletes, the Azure resource.
    DetachOnDelete,
    /// Remove the annotation (the Namespace's policy, or `manage`, applies).
    Unset,
}

/// Arguments of `asoguard policy set`.
#[derive(Debug, Args)]
pub struct PolicySetArgs {
    /// The reconcile-policy to set.
    #[arg(value_enum)]
    pub value: PolicyArg,
    /// Files or directories (walked for *.yaml and *.yml).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Only resources of this kind (`group/Kind`, like `resources.azure.com/ResourceGroup`);
    /// repeat for several.
    #[arg(long = "kind", value_name = "GROUP/KIND")]
    pub kinds: Vec<String>,
    /// Only critical kinds (resource groups, databases, vaults, storage, clusters...; see
    /// `critical-kinds` in the config).
    #[arg(long)]
    pub critical_only: bool,
    /// Only resources that set no reconcile-policy of their own.
    #[arg(long)]
    pub only_unset: bool,
    /// Also change resources that carry `skip` (their own, or their Namespace's). Without it,
    /// `manage`, `detach-on-delete` and `unset` leave every `skip` as it is: it often marks a
    /// resource another tool owns that ASO only reads. Even one resource matched by `--kind`
    /// is a bulk change.
    #[arg(long)]
    pub include_skip: bool,
    /// Allow changes that `asoguard check` will report (ASO001, ASO005, ASO006), such as `skip`
    /// in an active cluster or removing it in a passive one.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Arguments of `asoguard migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The source directory: the manifests of the cluster or namespace the resources leave.
    #[arg(long, value_name = "SRC")]
    pub from: PathBuf,
    /// The destination directory (created as needed; not inside the source).
    #[arg(long, value_name = "DST")]
    pub to: PathBuf,
    /// Rewrite the copies' `metadata.namespace` (and Kustomize `namespace:`) to this namespace.
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Arguments of `asoguard failover`.
#[derive(Debug, Args)]
pub struct FailoverArgs {
    /// The passive cluster (a name under `clusters:` in .asoguard.yaml) that takes over.
    #[arg(long, value_name = "PASSIVE")]
    pub promote: String,
    /// The active cluster that stands down; its resources get `skip`.
    #[arg(long, value_name = "ACTIVE")]
    pub demote: Option<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Run `asoguard policy ...`.
pub fn run_policy(command: PolicyCommand) -> u8 {
    let PolicyCommand::Set(args) = command;
    let Some(settings) = settings(args.common.config.as_deref(), &args.paths[0]) else {
        return EXIT_ERROR;
    };
    let mut kinds = Vec::new();
    for text in &args.kinds {
        match GroupKind::parse(text) {
            Some(kind) => kinds.push(kind),
            None => {
                eprintln!(
                    "error: --kind `{text}` is not `group/Kind` (like `resources.azure.com/ResourceGroup`)"
                );
                return EXIT_ERROR;
            }
        }
    }
    let value = match args.value {
        PolicyArg::Manage => "manage",
        PolicyArg::Skip => "skip",
        PolicyArg::DetachOnDelete => "detach-on-delete",
        PolicyArg::Unset => "unset",
    };
    let Some(value) = PolicyValue::parse(value) else {
        return EXIT_ERROR;
    };
    let options = PolicyOptions {
        value,
        paths: args.paths,
        kinds,
        critical_only: args.critical_only,
        only_unset: args.only_unset,
        include_skip: args.include_skip,
        force: args.force,
    };
    finish(
        policy::plan(&options, &settings),
        &args.common,
        &format!("policy set {}", value.as_str()),
    )
}

/// Run `asoguard migrate`.
pub fn run_migrate(args: MigrateArgs) -> u8 {
    let Some(settings) = settings(args.common.config.as_deref(), &args.from) else {
        return EXIT_ERROR;
    };
    let title = format!(
        "migrate {} -> {}{}",
        args.from.display(),
        args.to.display(),
        args.namespace
            .as_deref()
            .map_or_else(String::new, |ns| format!(" (namespace {ns})"))
    );
    let options = MigrateOptions {
        from: args.from,
        to: args.to,
        namespace: args.namespace,
    };
    finish(migrate::plan(&options, &settings), &args.common, &title)
}

/// Run `asoguard failover`.
pub fn run_failover(args: FailoverArgs) -> u8 {
    let Some(settings) = settings(args.common.config.as_deref(), Path::new(".")) else {
        return EXIT_ERROR;
    };
    let title = match &args.demote {
        Some(demote) => format!("failover: promote {}, demote {demote}", args.promote),
        None => format!("failover: promote {}", args.promote),
    };
    let options = FailoverOptions {
        promote: args.promote,
        demote: args.demote,
    };
    finish(failover::plan(&options, &settings), &args.common, &title)
}

fn settings(explicit: Option<&Path>, anchor: &Path) -> Option<Settings> {
    match config::load(explicit, anchor) {
        Ok(settings) => Some(settings),
        Err(errors) => {
            for error in errors.0 {
                eprintln!("error: {error}");
            }
            None
        }
    }
}

/// Print a plan, then refuse it (conflicts), show it (`--diff`), or confirm and apply it.
fn finish(plan: Result<Plan, TransformError>, common: &CommonArgs, title: &str) -> u8 {
    let plan = match plan {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("error: {}", describe_error(&error));
            return EXIT_ERROR;
        }
    };
    let mut out = render_plan(&plan, title);
    if common.diff {
        out.push_str(&render_diff(&plan));
    }
    let mut code = write_stdout(&out);
    for conflict in &plan.conflicts {
        eprintln!(
            "error: {}: {}",
            display_path(&conflict.path),
            conflict.message
        );
    }
    if !plan.conflicts.is_empty() {
        eprintln!(
            "refused: {}; nothing was written",
            plural(plan.conflicts.len(), "conflict")
        );
        return EXIT_ERROR;
    }
    if plan.changes.is_empty() {
        return code;
    }
    if common.diff {
        return code.max(EXIT_FINDINGS);
    }
    let count = plan.changes.len();
    if count > CONFIRM_OVER && !common.yes {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: refusing to write {} without --yes (standard input is not a terminal); nothing was written",
                plural(count, "file")
            );
            return EXIT_ERROR;
        }
        if !confirm(count) {
            eprintln!("aborted: nothing was written");
            return EXIT_ERROR;
        }
    }
    match transform::apply(&plan) {
        Ok(written) => {
            code = code.max(write_stdout(&format!(
                "Wrote {} ({} new).\n",
                plural(written, "file"),
                plan.created()
            )));
            code
        }
        Err(error) => {
            eprintln!("error: {}: {}", display_path(&error.path), error.message);
            if error.restore_failures.is_empty() {
                eprintln!("nothing was written: every file is as it was");
            }
            for (path, why) in &error.restore_failures {
                eprintln!(
                    "error: {}: could not be restored to its original content: {why}",
                    display_path(path)
                );
            }
            EXIT_ERROR
        }
    }
}

fn describe_error(error: &TransformError) -> String {
    match &error.path {
        Some(path) => format!("{}: {}", display_path(path), error.message),
        None => error.message.clone(),
    }
}

/// Ask on the terminal; anything but `y` or `yes` is no.
fn confirm(count: usize) -> bool {
    eprint!("Write {}? [y/N] ", plural(count, "file"));
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// The plan for people: the checklist, each file with what changes in it, notes, a total.
pub fn render_plan(plan: &Plan, title: &str) -> String {
    let mut out = format!("{title}\n");
    if !plan.checklist.is_empty() {
        out.push_str("\nPlan:\n");
        for item in &plan.checklist {
            out.push_str(&format!("  {item}\n"));
        }
    }
    if !plan.changes.is_empty() {
        out.push_str("\nChanges:\n");
    }
    for change in &plan.changes {
        let how = match (&change.before, &change.source) {
            (None, Some(source)) => format!(" (new: a copy of {})", display_path(source)),
            (None, None) => " (new)".to_string(),
            (Some(_), Some(source)) => {
                format!(" (replaced by a copy of {})", display_path(source))
            }
            (Some(_), None) => String::new(),
        };
        out.push_str(&format!("  {}{how}\n", display_path(&change.path)));
        for action in &change.actions {
            out.push_str(&format!("    {action}\n"));
        }
    }
    if !plan.notes.is_empty() {
        out.push_str("\nNotes:\n");
        for note in &plan.notes {
            out.push_str(&format!("  {note}\n"));
        }
    }
    out.push('\n');
    if plan.changes.is_empty() {
        out.push_str("Nothing to change.\n");
    } else {
        out.push_str(&format!(
            "{} to change ({} new), {}.\n",
            plural(plan.changes.len(), "file"),
            plan.created(),
            plural(plan.actions(), "edit")
        ));
    }
    out
}

/// A unified diff per changed file, new files against `/dev/null`.
pub fn render_diff(plan: &Plan) -> String {
    let mut out = String::new();
    for change in &plan.changes {
        let path = display_path(&change.path);
        let relative = !Path::new(&path).is_absolute();
        let new = if relative {
            format!("b/{path}")
        } else {
            path.clone()
        };
        let old = match (&change.before, relative) {
            (None, _) => "/dev/null".to_string(),
            (Some(_), true) => format!("a/{path}"),
            (Some(_), false) => path.clone(),
        };
        let before = change.before.as_deref().unwrap_or("");
        let diff = TextDiff::from_lines(before, change.after.as_str());
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&old, &new)
                .to_string(),
        );
    }
    if !out.is_empty() {
        out.insert(0, '\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use asoguard_core::transform::FileChange;

    #[test]
    fn renders_new_files_against_dev_null() {
        let plan = Plan {
            changes: vec![FileChange {
                path: PathBuf::from("b/rg.yaml"),
                before: None,
                after: "a: 1\n".into(),
                actions: vec![
                    "ResourceGroup `rg`: reconcile-policy detach-on-delete (was skip)".into(),
                ],
                source: Some(PathBuf::from("a/rg.yaml")),
            }],
            ..Plan::default()
        };
        let diff = render_diff(&plan);
        assert!(diff.contains("--- /dev/null\n+++ b/b/rg.yaml\n"), "{diff}");
        let text = render_plan(&plan, "t");
        assert!(
            text.contains("  b/rg.yaml (new: a copy of a/rg.yaml)\n    ResourceGroup"),
            "{text}"
        );
        assert!(text.contains("1 file to change (1 new), 1 edit."), "{text}");
    }
}
