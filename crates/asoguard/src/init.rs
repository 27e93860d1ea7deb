//! `asoguard init`: write a commented starter `.asoguard.yaml` proposed from what applies the
//! repository (Flux Kustomizations, ArgoCD Applications) and its layout (the proposal itself
//! is `asoguard_core::init`).

use std::path::PathBuf;

use asoguard_core::config::{CONFIG_FILE, Role, absolute};
use asoguard_core::init::starter_config;
use clap::Args;

use crate::{EXIT_ERROR, EXIT_OK};

/// Arguments of `asoguard init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository root to write `.asoguard.yaml` in (default: the working directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Overwrite an existing `.asoguard.yaml`.
    #[arg(long)]
    pub force: bool,
}

/// Run `asoguard init`, returning the exit code.
pub fn run(args: InitArgs) -> u8 {
    let root = absolute(&args.root.unwrap_or_else(|| PathBuf::from(".")));
    if !root.is_dir() {
        eprintln!(
            "error: {}: not a directory (hint: --root names the repository root)",
            root.display()
        );
        return EXIT_ERROR;
    }
    let path = root.join(CONFIG_FILE);
    if !args.force && std::fs::symlink_metadata(&path).is_ok() {
        eprintln!(
            "error: {}: already exists; nothing written (hint: --force overwrites it)",
            path.display()
        );
        return EXIT_ERROR;
    }
    let starter = starter_config(&root);
    if let Err(e) = std::fs::write(&path, &starter.text) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return EXIT_ERROR;
    }
    let shown = crate::printers::display_path(&path);
    let mut out = String::new();
    if starter.clusters.is_empty() {
        out.push_str(&format!(
            "Wrote {shown}: no clusters found (no Flux Kustomization or ArgoCD Application, and no clusters/*/, envs/*/, environments/*/ or overlays/*/ directory); every key is there, commented out.\n"
        ));
    } else {
        out.push_str(&format!(
            "Wrote {shown} with {}:\n",
            crate::printers::plural(starter.clusters.len(), "cluster")
        ));
        for cluster in &starter.clusters {
            let role = match cluster.role {
                Role::Active => "active",
                Role::Passive => "passive",
            };
            out.push_str(&format!(
                "  {:<20} {:<8} {} ({}, {} with skip)\n",
                cluster.name,
                role,
                cluster.paths.join(", "),
                crate::printers::plural(cluster.aso_resources, "ASO resource"),
                cluster.skipped
            ));
        }
        for dir in &starter.shared {
            let clusters = match dir.clusters.as_slice() {
                [init @ .., last] if !init.is_empty() => {
                    format!("{} and {last}", init.join(", "))
                }
                all => all.join(""),
            };
            let all = if dir.clusters.len() == 2 {
                "both"
            } else {
                "all"
            };
            out.push_str(&format!(
                "  {} is in no cluster's paths: {clusters} {all} render it\n",
                dir.dir
            ));
        }
    }
    out.push_str("Review it, then run `asoguard check`.\n");
    // The file is written: a closed stdout does not make the run fail.
    crate::write_stdout(&out);
    EXIT_OK
}
