//! `asoguard inventory`: what every cluster applies, object by object, with each one's effective
//! reconcile-policy and where that comes from, so a finding can be understood.

use std::path::PathBuf;

use asoguard_core::config::{self, Role};
use asoguard_core::engine;
use asoguard_core::index::inventory::{Entry, Inventory};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::{EXIT_ERROR, write_stdout};

/// Arguments of `asoguard inventory`.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Files or directories (default: the current directory); the whole repository is rendered
    /// when the root holds `.asoguard.yaml` or `.git`.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InventoryFormat::Text)]
    format: InventoryFormat,
    /// List every object asoguard renders (Namespaces, Flux and ArgoCD objects...), not only ASO
    /// resources.
    #[arg(long)]
    all: bool,
    /// Use this config file (default: `.asoguard.yaml` found by walking up from the first path).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// `asoguard inventory`'s output formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum InventoryFormat {
    /// Grouped by cluster and applier, one object a line.
    Text,
    /// `{"version": 1, "resources": [...]}`.
    Json,
}

/// Run `asoguard inventory`.
pub fn run(args: InventoryArgs) -> u8 {
    let settings = match config::load(args.config.as_deref(), &args.paths[0]) {
        Ok(settings) => settings,
        Err(errors) => {
            for error in errors.0 {
                eprintln!("error: {error}");
            }
            return EXIT_ERROR;
        }
    };
    let (index, problems) = engine::index_paths(&args.paths, &settings);
    for problem in &problems {
        eprintln!("error: {}: {}", problem.path.display(), problem.message);
    }
    if !problems.is_empty() {
        return EXIT_ERROR;
    }
    let inventory = Inventory::of(&index, &settings);
    let entries: Vec<&Entry> = inventory
        .entries
        .iter()
        .filter(|e| args.all || e.aso)
        .collect();
    let out = match args.format {
        InventoryFormat::Text => text(&entries),
        InventoryFormat::Json => {
            let resources: Vec<Value> = entries.iter().map(|e| entry_json(e)).collect();
            let report = json!({"version": 1, "resources": resources});
            format!(
                "{}\n",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            )
        }
    };
    write_stdout(&out)
}

fn role(role: Role) -> &'static str {
    match role {
        Role::Active => "active",
        Role::Passive => "passive",
    }
}

fn applier(e: &Entry) -> String {
    let path = e.applier_path.display();
    match &e.applier_name {
        Some(name) => format!("{} `{name}` in {path}", e.applier.as_str()),
        None => format!("{} {path}", e.applier.as_str()),
    }
}

fn text(entries: &[&Entry]) -> String {
    let mut out = String::new();
    let mut heading: Option<(Option<&str>, String)> = None;
    for e in entries {
        let this = (e.cluster.as_deref(), applier(e));
        if heading.as_ref() != Some(&this) {
            let cluster = match e.cluster.as_deref() {
                Some(name) => format!("cluster `{name}` ({})", role(e.role)),
                None => format!("no configured cluster ({})", role(e.role)),
            };
            let prune = if e.prune { ", prunes" } else { "" };
            out.push_str(&format!("{cluster}, applied by {}{prune}\n", this.1));
            heading = Some(this);
        }
        let namespace = e
            .namespace
            .as_deref()
            .map_or_else(String::new, |ns| format!("{ns}/"));
        let written = match e.policy_source.value.as_deref() {
            Some(value) if value != e.policy.as_str() => {
                format!(": `{value}`, which ASO reads as `{}`", e.policy.as_str())
            }
            _ => String::new(),
        };
        let source = match &e.policy_source.at {
            Some(at) => format!(
                "{} at {}:{}{written}",
                e.policy_source.kind,
                at.path.display(),
                at.line
            ),
            None => "ASO's default".to_string(),
        };
        let sync_options = e.sync_options.as_ref().map_or_else(String::new, |s| {
            format!(
                "  sync-options `{}` ({} at {}:{})",
                s.value,
                s.kind,
                s.at.path.display(),
                s.at.line
            )
        });
        out.push_str(&format!(
            "  {} {namespace}{}  {} ({source}){sync_options}  {}:{}\n",
            e.kind,
            e.name.as_deref().unwrap_or("?"),
            e.policy.as_str(),
            e.written_at.path.display(),
            e.written_at.line
        ));
    }
    if entries.is_empty() {
        out.push_str("Nothing applied.\n");
    }
    out
}

fn entry_json(e: &Entry) -> Value {
    let at = |l: &asoguard_core::index::inventory::Location| json!({"path": l.path.to_string_lossy(), "line": l.line});
    json!({
        "cluster": e.cluster,
        "role": role(e.role),
        "applier": {
            "kind": e.applier.as_str(),
            "path": e.applier_path.to_string_lossy(),
            "name": e.applier_name,
        },
        "apiVersion": e.api_version,
        "kind": e.kind,
        "namespace": e.namespace,
        "name": e.name,
        "azureName": e.azure_name,
        "owner": e.owner,
        "aso": e.aso,
        "critical": e.critical,
        "policy": e.policy.as_str(),
        "policySource": {
            "kind": e.policy_source.kind,
            "value": e.policy_source.value,
            "at": e.policy_source.at.as_ref().map(at),
        },
        "syncOptions": e.sync_options.as_ref().map(|s| json!({
            "value": s.value,
            "source": {"kind": s.kind, "at": at(&s.at)},
        })),
        "at": at(&e.written_at),
        "prune": e.prune,
    })
}
