//! `asoguard config`: the effective configuration a run would use (text or JSON), or, with
//! `--schema`, the JSON Schema of `.asoguard.yaml`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use asoguard_core::effective::{Effective, RootFrom, effective};
use clap::{Args, ValueEnum};

use crate::printers::{display_path, plural};
use crate::{EXIT_ERROR, write_stdout};

/// Arguments of `asoguard config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Show the configuration a run over this path uses, found as `check` finds it.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Use this config file (default: `.asoguard.yaml` found by walking up from the path).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format of the effective configuration.
    #[arg(long, value_enum, default_value_t = ConfigFormat::Text)]
    pub format: ConfigFormat,
    /// Print the JSON Schema (draft 2020-12) of `.asoguard.yaml` instead.
    #[arg(long, conflicts_with_all = ["config", "format"])]
    pub schema: bool,
}

/// `asoguard config --format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ConfigFormat {
    /// For people.
    Text,
    /// For tools: every default applied, every critical kind listed.
    Json,
}

/// Run `asoguard config`, returning the exit code.
pub fn run(args: ConfigArgs) -> u8 {
    if args.schema {
        let schema = asoguard_core::config::config_schema();
        return write_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&schema).unwrap_or_default()
        ));
    }
    if !args.path.exists() {
        eprintln!("error: {}: no such file or directory", args.path.display());
        return EXIT_ERROR;
    }
    let shown = match effective(args.config.as_deref(), &args.path) {
        Ok(shown) => shown,
        Err(errors) => {
            for error in errors.0 {
                eprintln!("error: {error}");
            }
            return EXIT_ERROR;
        }
    };
    match args.format {
        ConfigFormat::Json => write_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&shown).unwrap_or_default()
        )),
        ConfigFormat::Text => write_stdout(&text(&shown)),
    }
}

/// A path for people; the working directory itself is `.`.
fn shown_path(path: &str) -> String {
    let shown = display_path(Path::new(path));
    if shown.is_empty() { ".".into() } else { shown }
}

/// The effective configuration for people, one setting a line.
fn text(e: &Effective) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Config file:    {}",
        e.config_file.as_deref().map_or_else(
            || "none found (every setting is its default; `asoguard init` writes one)".into(),
            shown_path
        )
    );
    let why = match e.root_from {
        RootFrom::ConfigFile => "the config file's directory",
        RootFrom::Git => "the repository holding `.git`",
        RootFrom::Path => "no `.asoguard.yaml` or `.git` above the path: the path itself",
    };
    let _ = writeln!(out, "Root:           {} ({why})", shown_path(&e.root));

    out.push('\n');
    if e.clusters.is_empty() {
        out.push_str("Clusters:       none: every path is active\n");
    } else {
        let _ = writeln!(
            out,
            "Clusters ({}; the first whose paths match wins, a path in none is active):",
            e.clusters.len()
        );
        let width = e.clusters.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for cluster in &e.clusters {
            let _ = writeln!(
                out,
                "  {:<width$}  {:<7}  {}",
                cluster.name,
                cluster.role,
                cluster.paths.join(", ")
            );
        }
    }

    out.push('\n');
    let running = e.rules.iter().filter(|r| r.severity.is_some()).count();
    let _ = writeln!(out, "Rules ({running} of {} run):", e.rules.len());
    for rule in &e.rules {
        let mut notes = Vec::new();
        match rule.severity {
            None if rule.configured => notes.push("turned off by the config".to_string()),
            None if rule.opt_in => {
                notes.push("opt-in: add it to `select`, or give it a severity under `rules`".into())
            }
            None => {}
            Some(severity) => {
                let differs = severity != rule.default_severity;
                if rule.opt_in {
                    notes.push("opt-in, turned on by the config".into());
                    if differs {
                        notes.push(format!("its default severity is {}", rule.default_severity));
                    }
                } else if differs {
                    notes.push(format!(
                        "set by the config; its default is {}",
                        rule.default_severity
                    ));
                }
            }
        }
        let note = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        };
        let _ = writeln!(
            out,
            "  {:<7} {:<26} {}{note}",
            rule.code,
            rule.name,
            rule.severity.unwrap_or("off")
        );
    }
    if !e.per_file_ignores.is_empty() {
        out.push_str("Per-file ignores:\n");
        for (glob, codes) in &e.per_file_ignores {
            let _ = writeln!(out, "  {glob}: {}", codes.join(", "));
        }
    }

    out.push('\n');
    let _ = writeln!(
        out,
        "Fail level:     {} (a finding at this level or above exits 1)",
        e.fail_level
    );
    let _ = writeln!(out, "Output format:  {}", e.output_format);
    const MIB: u64 = 1024 * 1024;
    let _ = writeln!(
        out,
        "Max file size:  {}{}",
        plural(
            usize::try_from(e.max_file_size).unwrap_or(usize::MAX),
            "byte"
        ),
        if e.max_file_size >= MIB && e.max_file_size % MIB == 0 {
            format!(" ({} MiB)", e.max_file_size / MIB)
        } else {
            String::new()
        }
    );
    let base: Vec<&String> = e
        .exclude
        .globs
        .iter()
        .take(e.exclude.globs.len() - e.exclude.extended.len())
        .collect();
    let mut exclude = if base.is_empty() {
        "nothing".to_string()
    } else {
        base.iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    exclude.push_str(if e.exclude.defaults {
        " (the defaults)"
    } else {
        " (`exclude`, which replaces the defaults `.*` and `node_modules`)"
    });
    if !e.exclude.extended.is_empty() {
        let _ = write!(
            exclude,
            "; {} (`extend-exclude`)",
            e.exclude.extended.join(", ")
        );
    }
    let _ = writeln!(out, "Exclude:        {exclude}");

    let critical = &e.critical_kinds;
    let changed = !critical.added.is_empty() || !critical.removed.is_empty();
    let _ = writeln!(
        out,
        "Critical kinds: {} ({}; `--format json` lists them)",
        critical.kinds.len(),
        if changed {
            format!("the {} defaults, changed", critical.defaults)
        } else {
            "the defaults".to_string()
        }
    );
    for (label, kinds, idle, idle_why) in [
        (
            "added",
            &critical.added,
            &critical.added_already_default,
            "already a default",
        ),
        (
            "removed",
            &critical.removed,
            &critical.removed_not_default,
            "not a default",
        ),
    ] {
        if kinds.is_empty() {
            continue;
        }
        let listed: Vec<String> = kinds
            .iter()
            .map(|kind| {
                if idle.contains(kind) {
                    format!("{kind} ({idle_why}: no effect)")
                } else {
                    kind.clone()
                }
            })
            .collect();
        let _ = writeln!(out, "  {label}: {}", listed.join(", "));
    }
    if e.crds.is_empty() {
        out.push_str("CRDs:           none (ASO012 and ASO013 check nothing without them)\n");
    } else {
        let shown: Vec<String> = e.crds.iter().map(|p| shown_path(p)).collect();
        let _ = writeln!(out, "CRDs:           {}", shown.join(", "));
    }
    out
}
