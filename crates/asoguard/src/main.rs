//! The `asoguard` command line: arguments, commands, printers and exit codes.

mod allocator;
mod check;
mod config_cmd;
mod crds;
mod init;
mod inventory;
mod plan_cmd;
mod printers;
mod transform_cmd;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use asoguard_core::registry::Rule;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// Lint, fix and transform GitOps repositories that manage Azure through Azure Service
/// Operator v2 (ASO), deployed by ArgoCD or Flux.
#[derive(Debug, Parser)]
#[command(name = "asoguard", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifests for ASO hazards, and fix them in place with --fix.
    Check(check::CheckArgs),
    /// List every rule: code, name, default severity, fixability and summary.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Print the full documentation of one rule (by code or name).
    Rule {
        /// A rule code (`ASO001`) or name (`skip-in-active`).
        rule: String,
    },
    /// Work with CRDs: `import` precompiles a release bundle for `check --crds`.
    Crds {
        #[command(subcommand)]
        command: crds::CrdsCommand,
    },
    /// Set, replace or remove the reconcile-policy annotation in bulk.
    Policy {
        #[command(subcommand)]
        command: transform_cmd::PolicyCommand,
    },
    /// Move ASO resources to another cluster or namespace: the ASO FAQ's four steps as one plan.
    Migrate(transform_cmd::MigrateArgs),
    /// Promote a passive cluster and demote an active one (the ASO FAQ's DR step).
    Failover(transform_cmd::FailoverArgs),
    /// Show the effective configuration (which `.asoguard.yaml`, the root, clusters, rules,
    /// excludes...); `--schema` prints the JSON Schema of `.asoguard.yaml`.
    Config(config_cmd::ConfigArgs),
    /// Write a commented starter `.asoguard.yaml`, proposing clusters from the directory layout.
    Init(init::InitArgs),
    /// List what every cluster applies: each ASO resource, its applier, its effective
    /// reconcile-policy and where that comes from.
    Inventory(inventory::InventoryArgs),
    /// What merging a change does in Azure: compare two revisions (the base read from git)
    /// and classify every ASO resource's change; exit 1 when one is destructive.
    Plan(plan_cmd::PlanArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ListFormat {
    Text,
    Json,
    /// The rules reference, as in docs/rules.md.
    Markdown,
}

/// Exit code: no finding at error or warning level left.
pub const EXIT_OK: u8 = 0;
/// Exit code: findings left.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage, config or I/O error.
pub const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    allocator::configure();
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Check(args) => match matches.subcommand_matches("check") {
            Some(check_matches) => check::run(args, check_matches),
            None => EXIT_ERROR,
        },
        Command::Policy { command } => transform_cmd::run_policy(command),
        Command::Migrate(args) => transform_cmd::run_migrate(args),
        Command::Failover(args) => transform_cmd::run_failover(args),
        Command::Config(args) => config_cmd::run(args),
        Command::Crds { command } => crds::run(command),
        Command::Rules { format } => print_rules(format),
        Command::Rule { rule } => print_rule(&rule),
        Command::Init(args) => init::run(args),
        Command::Inventory(args) => inventory::run(args),
        Command::Plan(args) => match matches.subcommand_matches("plan") {
            Some(plan_matches) => plan_cmd::run(args, plan_matches),
            None => EXIT_ERROR,
        },
    };
    ExitCode::from(code)
}

fn print_rules(format: ListFormat) -> u8 {
    let mut out = String::new();
    match format {
        ListFormat::Text => {
            for rule in Rule::ALL {
                let meta = rule.meta();
                out.push_str(&format!(
                    "{:<7} {:<26} {:<18} {:<30} {}\n",
                    meta.code,
                    meta.name,
                    asoguard_core::rules::severity_label(meta),
                    format!("fix:{}", meta.fix_label()),
                    rule.summary()
                ));
            }
        }
        ListFormat::Json => {
            let rules: Vec<_> = Rule::ALL
                .iter()
                .map(|r| {
                    let meta = r.meta();
                    serde_json::json!({
                        "code": meta.code,
                        "name": meta.name,
                        "severity": meta.severity.as_str(),
                        "fixable": meta.fixable.as_str(),
                        "fix_safety": meta.safety.as_str(),
                        "default": meta.default_enabled,
                        "summary": r.summary(),
                    })
                })
                .collect();
            out = serde_json::to_string_pretty(&rules).unwrap_or_default();
            out.push('\n');
        }
        ListFormat::Markdown => out = asoguard_core::rules::reference_markdown(),
    }
    write_stdout(&out)
}

fn print_rule(name: &str) -> u8 {
    let Some(rule) = Rule::from_code_or_name(name) else {
        let hint = Rule::suggest(name)
            .map(|r| format!(" (did you mean `{}` / `{}`?)", r.code(), r.name()))
            .unwrap_or_else(|| " (`asoguard rules` lists them)".into());
        eprintln!("error: unknown rule `{name}`{hint}");
        return EXIT_ERROR;
    };
    let meta = rule.meta();
    write_stdout(&format!(
        "# {} `{}`\n\n{}\n\n{}\n\n{}",
        meta.code,
        meta.name,
        asoguard_core::rules::header_line(meta).replace("**", ""),
        rule.summary(),
        rule.doc()
    ))
}

/// Write to stdout; a closed pipe is not an error worth a panic.
pub fn write_stdout(text: &str) -> u8 {
    write_stdout_bytes(text.as_bytes())
}

/// Write raw bytes to stdout.
pub fn write_stdout_bytes(bytes: &[u8]) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            EXIT_ERROR
        }
    }
}

/// Whether an `--output` path means standard output (`-`, as for input).
pub fn is_stdout(output: Option<&PathBuf>) -> bool {
    output.is_none_or(|path| path.as_os_str() == "-")
}

/// Where a report goes: a file, or stdout (no `--output`, or `-`).
pub fn emit(text: &str, output: Option<&PathBuf>) -> u8 {
    match output {
        Some(path) if !is_stdout(output) => match std::fs::write(path, text) {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                EXIT_ERROR
            }
        },
        _ => write_stdout(text),
    }
}
