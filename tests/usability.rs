//! What a new user meets first (issue 14): config errors in the config's own words, excludes
//! that add to the defaults, `asoguard config` without a flag, counts that agree with their
//! nouns, the `--statistics` legend and `--stdin-filename` without `-`.
//!
//! Every test runs the real binary in a temporary directory holding `.git`, so config discovery
//! stops there.

mod support;
use support::{RG_FIXED, RG_UNPROTECTED, Sandbox};

// ---------------------------------------------------------------------------------------------
// Config errors
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bad_choice_in_the_config_names_the_choices_and_the_nearest() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_FIXED);
    // The README shows this error.
    sb.write(
        ".asoguard.yaml",
        "clusters:\n  dr:\n    paths: [\"clusters/dr/**\"]\n    role: Passive\n",
    );
    let (code, stdout, stderr) = sb.run(&["check", "."]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains(
            ".asoguard.yaml:4:11: `clusters.dr.role`: `Passive` is not a role: use `active` or `passive` (hint: did you mean `passive`?)"
        ),
        "{stderr}"
    );
    sb.write(".asoguard.yaml", "rules:\n  ASO003:\n    severity: warn\n");
    let (code, _, stderr) = sb.run(&["check", "."]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            ":3:15: `rules.ASO003.severity`: `warn` is not a severity: use `error`, `warning` or `off` (hint: did you mean `warning`?)"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("anyOf") && !stderr.contains("oneOf"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// exclude and extend-exclude
// ---------------------------------------------------------------------------------------------

/// The files a run reported findings in, sorted.
fn reported_files(sb: &Sandbox) -> Vec<String> {
    let (_, stdout, stderr) = sb.run(&["check", "--format", "concise", "--quiet", "."]);
    assert!(!stderr.contains("error"), "{stderr}");
    let mut files: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.split(':').next())
        .map(str::to_string)
        .collect();
    files.sort();
    files.dedup();
    files
}

#[test]
fn extend_exclude_adds_to_the_defaults_where_exclude_replaces_them() {
    let sb = Sandbox::new();
    for path in [
        "clusters/prod/rg.yaml",
        "vendor/chart/rg.yaml",
        ".github/rg.yaml",
        "web/node_modules/pkg/rg.yaml",
    ] {
        sb.write(path, RG_UNPROTECTED);
    }
    // No config: the defaults leave out hidden paths and node_modules.
    assert_eq!(
        reported_files(&sb),
        ["clusters/prod/rg.yaml", "vendor/chart/rg.yaml"]
    );
    // extend-exclude adds vendor to them.
    sb.write(".asoguard.yaml", "extend-exclude: [\"vendor/**\"]\n");
    assert_eq!(reported_files(&sb), ["clusters/prod/rg.yaml"]);
    // exclude replaces them: hidden paths and node_modules are linted again.
    sb.write(".asoguard.yaml", "exclude: [\"vendor/**\"]\n");
    assert_eq!(
        reported_files(&sb),
        [
            ".github/rg.yaml",
            "clusters/prod/rg.yaml",
            "web/node_modules/pkg/rg.yaml"
        ]
    );
    // A file named on the command line is excluded only with --force-exclude (pre-commit).
    sb.write(".asoguard.yaml", "extend-exclude: [\"vendor/**\"]\n");
    let (code, _, _) = sb.run(&["check", "vendor/chart/rg.yaml"]);
    assert_eq!(code, 1);
    let (code, stdout, stderr) = sb.run(&["check", "--force-exclude", "vendor/chart/rg.yaml"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("ASO003"), "{stdout}");
}
