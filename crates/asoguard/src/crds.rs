//! CRDs on the command line: `check --crds PATH...` loads them into the settings, and
//! `asoguard crds import` turns a release bundle into a directory that `--crds` reads directly.

use std::path::PathBuf;

use asoguard_core::Settings;
use asoguard_core::schema::import;
use clap::Subcommand;

use crate::{EXIT_ERROR, EXIT_OK};

/// `asoguard crds ...`
#[derive(Debug, Subcommand)]
pub enum CrdsCommand {
    /// Split CRDs (ASO's release bundle, CRD files or directories) into one YAML file per kind
    /// and one converted JSON Schema per served version, with an index that `check --crds DIR`
    /// reads without converting anything again.
    Import {
        /// CRD YAML files or directories, such as ASO's
        /// `azureserviceoperator_customresourcedefinitions_v2.*.yaml`.
        #[arg(required = true, value_name = "BUNDLE")]
        sources: Vec<PathBuf>,
        /// The directory to write: new, empty, or an earlier import (whose files are replaced).
        #[arg(long, short, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Run `asoguard crds ...`, returning the exit code.
pub fn run(command: CrdsCommand) -> u8 {
    match command {
        CrdsCommand::Import { sources, out } => match import::import(&sources, &out) {
            Ok(summary) => {
                eprintln!(
                    "Imported {} ({}) into {}.",
                    crate::printers::plural(summary.crds, "CRD"),
                    crate::printers::plural(summary.schemas, "schema"),
                    summary.out.display()
                );
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_ERROR
            }
        },
    }
}

/// Load the CRDs of a check: `--crds` paths when given, else the config's `crds:`. Notes go to
/// stderr (unless quiet); a CRD source that cannot be used is an error (exit 2).
pub fn attach(settings: &mut Settings, paths: &[PathBuf], quiet: bool) -> Result<(), u8> {
    if let Err(e) = settings.load_crds(Some(paths)) {
        eprintln!("error: {e}");
        return Err(EXIT_ERROR);
    }
    if let Some(store) = settings.crds.as_deref().filter(|_| !quiet) {
        for note in store.notes() {
            eprintln!("note: {note}");
        }
    }
    Ok(())
}
