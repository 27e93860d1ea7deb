//! `asoguard check`: resolve config, run the engine, print, and choose the exit code.

use std::io::Read;
use std::path::{Path, PathBuf};

use asoguard_core::config::{self, Settings, absolute, parse_config};
use asoguard_core::discover::{Target, text_from_bytes};
use asoguard_core::engine::{self, FixMode, Input, RunOptions, RunReport};
use clap::{Args, ValueEnum};

use crate::printers::{self, Context};
use crate::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, emit, write_stdout};

/// Arguments of `asoguard check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check (directories are walked for *.yaml and *.yml); `-` reads
    /// standard input.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Apply safe fixes in place.
    #[arg(long)]
    pub fix: bool,
    /// Also apply unsafe fixes (with --fix or --diff).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print a unified diff of what --fix would change, write nothing; exit 1 if it would
    /// change anything.
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Use this config file (default: `.asoguard.yaml` found by walking up from the first path).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The file name to report standard input under (for config, clusters and reports).
    #[arg(long)]
    pub stdin_filename: Option<PathBuf>,
    /// Files larger than this many bytes are reported as E001, not read.
    #[arg(long, default_value_t = config::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable, with source snippets.
    Text,
    /// Machine-readable JSON.
    Json,
    /// SARIF 2.1.0 for GitHub code scanning and Azure DevOps.
    Sarif,
}

/// Run `asoguard check`, returning the exit code.
pub fn run(args: CheckArgs) -> u8 {
    let stdin = args.paths.len() == 1 && args.paths[0] == Path::new("-");
    let anchor = if stdin {
        args.stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
    } else {
        args.paths[0].clone()
    };
    let mut settings = match load_settings(args.config.as_deref(), &anchor) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_ERROR;
        }
    };
    settings.max_file_size = args.max_file_size;
    let options = RunOptions {
        fix: match (args.fix, args.diff || stdin && args.fix) {
            (_, true) => FixMode::Preview,
            (true, false) => FixMode::Write,
            (false, false) => FixMode::Off,
        },
        unsafe_fixes: args.unsafe_fixes,
    };
    let mut stdin_text = None;
    let report = if stdin {
        let mut bytes = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
            eprintln!("error: cannot read standard input: {e}");
            return EXIT_ERROR;
        }
        let display = args
            .stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from("-"));
        let input = Input {
            target: Target {
                fs_path: absolute(&display),
                display,
            },
            text: text_from_bytes(bytes),
        };
        stdin_text = input.text.clone().ok();
        engine::check_inputs(vec![input], &settings, options)
    } else {
        engine::check_paths(&args.paths, &settings, options)
    };
    let mut code = EXIT_OK;
    for problem in &report.problems {
        eprintln!("error: {}: {}", problem.path.display(), problem.message);
        code = EXIT_ERROR;
    }
    for file in &report.files {
        if let Some(note) = &file.note {
            eprintln!("note: {}: {note}", file.path.display());
        }
        if let Some(error) = &file.write_error {
            eprintln!("error: {}: {error}", file.path.display());
            code = EXIT_ERROR;
        }
    }
    if stdin && args.fix {
        // With --fix on stdin the fixed text is the output; the findings left go to stderr.
        // A clean input is not in the report: echo it unchanged.
        let text = report
            .files
            .first()
            .map(|f| f.source.text.clone())
            .filter(|t| !t.is_empty())
            .or(stdin_text)
            .unwrap_or_default();
        code = code.max(write_stdout(&text));
        let context = Context::new(&settings, &options);
        eprint!("{}", printers::text::render(&report, &context));
        return code.max(findings_code(&report));
    }
    if args.diff {
        let diff = printers::diff::render(&report);
        code = code.max(emit(&diff, args.output.as_ref()));
        let changed = report.files.iter().filter(|f| f.original.is_some()).count();
        eprintln!(
            "{} fix(es) would be applied in {changed} file(s)",
            report.fixed()
        );
        return code.max(if changed > 0 { EXIT_FINDINGS } else { EXIT_OK });
    }
    let context = Context::new(&settings, &options);
    let rendered = match args.format {
        Format::Text => printers::text::render(&report, &context),
        Format::Json => printers::json::render(&report, &context),
        Format::Sarif => printers::sarif::render(&report, &context),
    };
    code = code.max(emit(&rendered, args.output.as_ref()));
    code.max(findings_code(&report))
}

fn findings_code(report: &RunReport) -> u8 {
    if report.diagnostics().next().is_some() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// Settings from `--config`, else from the config found by walking up from `anchor`.
fn load_settings(explicit: Option<&Path>, anchor: &Path) -> Result<Settings, String> {
    let (root, config_path) = match explicit {
        Some(path) => {
            let path = absolute(path);
            let root = path
                .parent()
                .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
            (root, Some(path))
        }
        None => {
            let found = config::discover(anchor);
            (found.root, found.config)
        }
    };
    let parsed = match &config_path {
        None => config::Config::default(),
        Some(path) => {
            let text = std::fs::read(path)
                .map_err(|e| format!("{}: cannot read the config file: {e}", path.display()))
                .and_then(|bytes| {
                    text_from_bytes(bytes).map_err(|e| format!("{}: {e}", path.display()))
                })?;
            parse_config(&text, path).map_err(|e| e.to_string())?
        }
    };
    Settings::resolve(parsed, root, config_path).map_err(|e| e.to_string())
}
