//! What a new user meets first (issue 14): config errors in the config's own words, excludes
//! that add to the defaults, `asoguard config` without a flag, counts that agree with their
//! nouns, the `--statistics` legend and `--stdin-filename` without `-`.
//!
//! Every test runs the real binary in a temporary directory holding `.git`, so config discovery
//! stops there.

mod support;
use support::{RG_FIXED, Sandbox};

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
