//! `asoguard check`: resolve config, run the engine, print each requested report, and choose
//! the exit code.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use asoguard_core::config::{self, FailLevel, OutputFormat, absolute, parse_selector};
use asoguard_core::discover::{Target, text_from_bytes};
use asoguard_core::engine::{self, FixMode, Input, RunOptions, RunReport};
use clap::{ArgMatches, Args, ValueEnum};

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
    /// Output format; repeat with --output to write several reports in one run
    /// (`--format sarif --output a.sarif --format text`). Default: text, or `output-format`
    /// from the config.
    #[arg(long, value_parser = format_parser())]
    pub format: Vec<OutputFormat>,
    /// Write the report of the preceding --format to this file instead of standard output
    /// (`-`: standard output).
    #[arg(long, short)]
    pub output: Vec<PathBuf>,
    /// Use this config file (default: `.asoguard.yaml` found by walking up from the first path).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The file name to report standard input under (for config, clusters and reports).
    /// Without PATHS, it means: read standard input.
    #[arg(long)]
    pub stdin_filename: Option<PathBuf>,
    /// Files larger than this many bytes are reported as E001, not read (default 16 MiB, or
    /// `max-file-size` from the config).
    #[arg(long)]
    pub max_file_size: Option<u64>,
    /// Run only these rules: codes, names or code prefixes (replaces the config's `select`).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not run these rules: codes, names or code prefixes (added to the config's `ignore`).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// The lowest severity that fails the run (default: warning, or `fail-level` from config).
    #[arg(long, value_enum)]
    pub fail_level: Option<Level>,
    /// Exit 0 even when findings are left (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Exit 1 when fixes were applied, even if no finding is left.
    #[arg(long)]
    pub exit_non_zero_on_fix: bool,
    /// Print findings only: no summary, no notes (the JSON, SARIF and JUnit reports still
    /// carry the notes).
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// List every note (what was not checked: SOPS-encrypted files, templates, remote
    /// resources...) with its file, instead of one summary line per kind.
    #[arg(long, short)]
    pub verbose: bool,
    /// Print the number of findings per rule instead of each finding (text format).
    #[arg(long)]
    pub statistics: bool,
    /// List the fixes applied, per file and rule (text format).
    #[arg(long)]
    pub show_fixes: bool,
    /// Apply excludes to files named on the command line too (pre-commit passes them by name).
    #[arg(long)]
    pub force_exclude: bool,
    /// CRD files or directories to validate resources against (ASO012, ASO013): CRD YAML,
    /// ASO's release bundle, or a directory written by `asoguard crds import`. Repeatable;
    /// replaces `crds:` from the config.
    #[arg(long, value_name = "PATH")]
    pub crds: Vec<PathBuf>,
    /// Report YAML syntax errors (E001) in every file. By default a file that cannot hold
    /// anything asoguard checks (no ASO, ArgoCD, Flux, Kustomize or Namespace text) is not
    /// parsed at all; this parses it too (slower on large trees).
    #[arg(long)]
    pub strict_syntax: bool,
}

/// `--format` values: the names of the config's output formats.
fn format_parser() -> impl clap::builder::TypedValueParser<Value = OutputFormat> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(OutputFormat::ALL.map(OutputFormat::as_str))
        .map(|name: String| OutputFormat::parse(&name).unwrap_or(OutputFormat::Text))
}

/// `--fail-level` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Level {
    /// Only errors fail the run.
    Error,
    /// Warnings and errors fail the run.
    Warning,
}

/// Pair each `--output` with the `--format` before it on the command line. An `--output`
/// before any `--format` belongs to the first format; a format without one goes to stdout.
pub fn pair_outputs<F: Copy>(
    matches: &ArgMatches,
    (formats, outputs): (&[F], &[PathBuf]),
    default: F,
) -> Vec<(F, Option<PathBuf>)> {
    let format_at: Vec<usize> = matches
        .indices_of("format")
        .map(Iterator::collect)
        .unwrap_or_default();
    let output_at: Vec<usize> = matches
        .indices_of("output")
        .map(Iterator::collect)
        .unwrap_or_default();
    let mut pairs: Vec<(F, Option<PathBuf>)> = if formats.is_empty() {
        vec![(default, None)]
    } else {
        formats.iter().map(|f| (*f, None)).collect()
    };
    for (output, at) in outputs.iter().zip(output_at) {
        let owner = format_at.iter().rposition(|f| *f < at).unwrap_or(0);
        if pairs[owner].1.is_none() {
            pairs[owner].1 = Some(output.clone());
        } else {
            // A second --output for the same format: write the same report there too.
            pairs.insert(owner + 1, (pairs[owner].0, Some(output.clone())));
        }
    }
    pairs
}

/// Run `asoguard check`, returning the exit code.
pub fn run(args: CheckArgs, matches: &ArgMatches) -> u8 {
    let stdin = match reads_stdin(&args, matches) {
        Ok(stdin) => stdin,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_ERROR;
        }
    };
    let anchor = if stdin {
        args.stdin_filename
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
    } else {
        args.paths[0].clone()
    };
    let mut settings = match config::load(args.config.as_deref(), &anchor) {
        Ok(settings) => settings,
        Err(errors) => {
            for error in errors.0 {
                eprintln!("error: {error}");
            }
            return EXIT_ERROR;
        }
    };
    if let Some(size) = args.max_file_size {
        settings.max_file_size = size;
    }
    for (list, select) in [(&args.select, true), (&args.ignore, false)] {
        if list.is_empty() {
            continue;
        }
        let mut rules = Vec::new();
        for text in list {
            match parse_selector(text) {
                Ok(found) => rules.extend(found),
                Err(hint) => {
                    eprintln!("error: unknown rule or prefix `{text}` (hint: {hint})");
                    return EXIT_ERROR;
                }
            }
        }
        if select {
            settings.select(&rules);
        } else {
            settings.ignore(&rules);
        }
    }
    if let Err(code) = crate::crds::attach(&mut settings, &args.crds, args.quiet) {
        return code;
    }
    let fail_level = match args.fail_level {
        Some(Level::Error) => FailLevel::Error,
        Some(Level::Warning) => FailLevel::Warning,
        None => settings.fail_level,
    };
    let fix = if args.diff || (stdin && args.fix) {
        FixMode::Preview
    } else if args.fix {
        FixMode::Write
    } else {
        FixMode::Off
    };
    let options = RunOptions {
        fix,
        unsafe_fixes: args.unsafe_fixes,
        force_exclude: args.force_exclude,
        strict_syntax: args.strict_syntax,
        ..RunOptions::default()
    };

    let mut stdin_bytes = None;
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
            target: Target::new(display.clone(), absolute(&display)),
            text: text_from_bytes(bytes.clone()),
        };
        stdin_bytes = Some(bytes);
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
        if let Some(error) = &file.write_error {
            eprintln!("error: {}: {error}", file.path.display());
            code = EXIT_ERROR;
        }
    }
    eprint!(
        "{}",
        printers::notes::stderr_lines(&report, args.verbose, args.quiet)
    );
    let context = Context {
        settings: &settings,
        options: &options,
        colour: false,
        quiet: args.quiet,
        verbose: args.verbose,
        statistics: args.statistics,
        show_fixes: args.show_fixes,
    };

    if stdin && args.fix {
        // The fixed text is the output; findings left go to stderr. Input that could not be
        // read as text is echoed back byte for byte, so a pipe never loses it.
        let fixed = report.files.first().filter(|f| !f.source.text.is_empty());
        let written = match (fixed, stdin_bytes) {
            (Some(file), _) => write_stdout(&file.source.text),
            (None, Some(bytes)) => crate::write_stdout_bytes(&bytes),
            (None, None) => EXIT_OK,
        };
        code = code.max(written);
        eprint!("{}", printers::text::render(&report, &context));
        return code.max(findings_code(&report, fail_level, &args));
    }
    if args.diff {
        let diff = printers::diff::render(&report);
        code = code.max(emit(&diff, args.output.first()));
        let changed = report.files.iter().filter(|f| f.original.is_some()).count();
        if !args.quiet {
            eprintln!(
                "{} would be applied in {}",
                printers::plural(report.fixed(), "fix"),
                printers::plural(changed, "file")
            );
        }
        return code.max(if changed > 0 { EXIT_FINDINGS } else { EXIT_OK });
    }
    let default = settings.output_format.unwrap_or(OutputFormat::Text);
    for (format, output) in pair_outputs(matches, (&args.format, &args.output), default) {
        let context = Context {
            colour: crate::is_stdout(output.as_ref())
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none(),
            ..context
        };
        let rendered = match format {
            OutputFormat::Text => printers::text::render(&report, &context),
            OutputFormat::Concise => printers::concise::render(&report, &context),
            OutputFormat::Json => printers::json::render(&report, &context),
            OutputFormat::Sarif => printers::sarif::render(&report, &context),
            OutputFormat::Github => printers::github::render(&report, &context),
            OutputFormat::Azure => printers::azure::render(&report),
            OutputFormat::Junit => printers::junit::render(&report),
        };
        code = code.max(emit(&rendered, output.as_ref()));
    }
    let code = code.max(findings_code(&report, fail_level, &args));
    // The process exits next: freeing every file's text and findings one by one would only
    // add serial time at the end of a large run.
    std::mem::forget(report);
    code
}

/// 1 when a finding at or above the fail level is left (or fixes were applied and
/// `--exit-non-zero-on-fix`), unless `--exit-zero`.
fn findings_code(report: &RunReport, fail_level: FailLevel, args: &CheckArgs) -> u8 {
    if args.exit_zero {
        return EXIT_OK;
    }
    let failing = report
        .diagnostics()
        .any(|(_, d)| fail_level.fails(d.severity));
    if failing || (args.exit_non_zero_on_fix && report.fixed() > 0) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// Whether the run reads standard input: PATHS is `-`, or `--stdin-filename` is given without
/// PATHS. `--stdin-filename` with PATHS but no `-` is a mistake (the name would go unused), as
/// is `-` among other paths: both are usage errors.
fn reads_stdin(args: &CheckArgs, matches: &ArgMatches) -> Result<bool, String> {
    let dash = args.paths.iter().any(|p| p == Path::new("-"));
    if dash && args.paths.len() > 1 {
        return Err(
            "`-` (standard input) cannot be checked with other paths: check it alone".into(),
        );
    }
    let paths_given = matches.value_source("paths") == Some(clap::parser::ValueSource::CommandLine);
    match &args.stdin_filename {
        Some(name) if paths_given && !dash => Err(format!(
            "--stdin-filename {} names standard input, but paths were given without `-`: \
             pass `-` to check standard input, or drop --stdin-filename to check the paths",
            name.display()
        )),
        Some(_) => Ok(true),
        None => Ok(dash),
    }
}
