//! End-to-end tests of the features that fit asoguard into its workflows: inline suppressions
//! (comments, `ignore-file`, the `asoguard.io/ignore` annotation, ASO100 and ASO101), the CI
//! report formats (`concise`, `github`, `azure`, `junit`) with their exact bytes and escaping,
//! several reports in one run, the exit-code options, `--quiet`, `--statistics`,
//! `--show-fixes`, located config errors, `asoguard config --schema` and `asoguard init`.
//!
//! Every test runs the real binary in a temporary directory holding a `.git` directory, so
//! config discovery stops there. Expected outputs are written by hand.

use serde_json::{Value, json};

use crate::support::{RG_FIXED, RG_UNPROTECTED, Sandbox};

/// ASO003's message for `RG_UNPROTECTED`.
const ASO003_MESSAGE: &str = "ResourceGroup `rg` is a critical kind and it has no reconcile-policy, so ASO's default `manage` applies: deleting the object in Kubernetes deletes the Azure resource and its data";

/// A protected ResourceGroup with a suppression that suppresses nothing: one ASO100 warning.
const RG_UNUSED_SUPPRESSION: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: rg  # asoguard: ignore[ASO001] -- was on the standby
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
";

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn codes(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|f| f["code"].as_str().expect("code").to_string())
                .collect()
        })
        .unwrap_or_default()
}

// =============================================================================================
// Suppressions
// =============================================================================================

#[test]
fn a_comment_on_the_findings_line_suppresses_it() {
    let sb = Sandbox::new();
    sb.write(
        "rg.yaml",
        RG_UNPROTECTED.replace("name: rg\n", "name: rg  # asoguard: ignore[ASO003]\n"),
    );
    let (code, stdout, _) = sb.run(&["check", "--format", "json", "rg.yaml"]);
    assert_eq!(code, 0, "{stdout}");
    let report = json_of(&stdout);
    assert_eq!(codes(&report, "findings"), Vec::<String>::new());
    assert_eq!(codes(&report, "suppressed"), ["ASO003"]);
    assert_eq!(
        report["suppressed"][0]["suppression"],
        json!({"kind": "comment", "justification": null})
    );
    assert_eq!(report["summary"]["suppressed"], 1);
}

#[test]
fn a_comment_above_the_object_suppresses_it_with_its_reason_in_json_and_sarif() {
    let sb = Sandbox::new();
    let reason = "the standby copy; the primary keeps the data";
    sb.write(
        "rg.yaml",
        format!("# asoguard: ignore[missing-detach-on-delete] -- {reason}\n{RG_UNPROTECTED}"),
    );
    let (code, stdout, _) = sb.run(&["check", "--format", "json", "rg.yaml"]);
    assert_eq!(code, 0, "{stdout}");
    let report = json_of(&stdout);
    assert_eq!(codes(&report, "findings"), Vec::<String>::new());
    assert_eq!(codes(&report, "suppressed"), ["ASO003"]);
    assert_eq!(
        report["suppressed"][0]["suppression"],
        json!({"kind": "comment", "justification": reason})
    );

    let (code, stdout, _) = sb.run(&["check", "--format", "sarif", "rg.yaml"]);
    assert_eq!(code, 0, "{stdout}");
    let log = json_of(&stdout);
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(
        results.len(),
        1,
        "the suppressed result is reported, marked"
    );
    assert_eq!(results[0]["ruleId"], "ASO003");
    assert_eq!(
        results[0]["suppressions"],
        json!([{"kind": "inSource", "justification": reason}])
    );
}

#[test]
fn a_comment_not_directly_above_the_object_does_not_suppress() {
    let sb = Sandbox::new();
    sb.write(
        "rg.yaml",
        format!("# asoguard: ignore[ASO003]\n\n{RG_UNPROTECTED}"),
    );
    let (code, stdout, _) = sb.run(&["check", "--format", "json", "rg.yaml"]);
    assert_eq!(code, 1, "{stdout}");
    let report = json_of(&stdout);
    assert_eq!(codes(&report, "findings"), ["ASO100", "ASO003"]);
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("applies to nothing"),
        "{stdout}"
    );
}

#[test]
fn ignore_file_suppresses_every_object_of_the_file() {
    let sb = Sandbox::new();
    sb.write(
        "rgs.yaml",
        format!(
            "{RG_UNPROTECTED}---\n{}# asoguard: ignore-file[ASO003] -- legacy tree, protected by policy\n",
            RG_UNPROTECTED.replace("name: rg", "name: rg2")
        ),
    );
    let (code, stdout, _) = sb.run(&["check", "--format", "json", "rgs.yaml"]);
    assert_eq!(code, 0, "{stdout}");
    let report = json_of(&stdout);
    assert_eq!(codes(&report, "suppressed"), ["ASO003", "ASO003"]);
    for item in report["suppressed"].as_array().unwrap() {
        assert_eq!(
            item["suppression"]["justification"],
            "legacy tree, protected by policy"
        );
    }
}

#[test]
fn the_ignore_annotation_suppresses_its_object_only() {
    let sb = Sandbox::new();
    let annotated = RG_UNPROTECTED.replace(
        "name: rg\n",
        "name: rg\n  annotations:\n    asoguard.io/ignore: \"ASO003 -- owned by the platform team\"\n",
    );
    sb.write(
        "rgs.yaml",
        format!(
            "{annotated}---\n{}",
            RG_UNPROTECTED.replace("name: rg", "name: other")
        ),
    );
    let (code, stdout, _) = sb.run(&["check", "--format", "json", "rgs.yaml"]);
    assert_eq!(code, 1, "the second object is not covered: {stdout}");
    let report = json_of(&stdout);
    assert_eq!(codes(&report, "findings"), ["ASO003"]);
    assert_eq!(report["findings"][0]["object"]["name"], "other");
    assert_eq!(codes(&report, "suppressed"), ["ASO003"]);
    assert_eq!(
        report["suppressed"][0]["suppression"],
        json!({"kind": "annotation", "justification": "owned by the platform team"})
    );
}

#[test]
fn an_unused_suppression_is_aso100_and_fix_removes_it_byte_for_byte() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNUSED_SUPPRESSION);
    let (code, stdout, _) = sb.run(&["check", "--format", "json", "rg.yaml"]);
    assert_eq!(code, 1, "a warning fails the run by default: {stdout}");
    let report = json_of(&stdout);
    assert_eq!(codes(&report, "findings"), ["ASO100"]);
    let finding = &report["findings"][0];
    assert_eq!(finding["severity"], "warning");
    assert_eq!(finding["rule"], "unused-suppression");
    assert_eq!(finding["start"], json!({"line": 4, "column": 13}));
    assert_eq!(finding["end"], json!({"line": 4, "column": 61}));
    assert_eq!(finding["fix"]["applicability"], "safe");

    let (code, _, _) = sb.run(&["check", "--fix", "rg.yaml"]);
    assert_eq!(code, 0);
    assert_eq!(sb.read_string("rg.yaml"), RG_FIXED);
}

#[test]
fn an_unknown_rule_in_a_suppression_is_aso101_with_a_hint() {
    let sb = Sandbox::new();
    sb.write(
        "rg.yaml",
        RG_UNPROTECTED.replace("name: rg\n", "name: rg  # asoguard: ignore[ASO03]\n"),
    );
    let (code, stdout, _) = sb.run(&["check", "--format", "json", "rg.yaml"]);
    assert_eq!(code, 1, "{stdout}");
    let report = json_of(&stdout);
    // The misspelt name suppresses nothing: ASO003 is still reported.
    assert_eq!(codes(&report, "findings"), ["ASO003", "ASO101"]);
    assert_eq!(report["findings"][1]["severity"], "error");
    assert!(
        report["findings"][1]["message"]
            .as_str()
            .unwrap()
            .contains("unknown rule `ASO03`"),
        "{stdout}"
    );
    let (_, stdout, _) = sb.run(&["check", "rg.yaml"]);
    assert!(stdout.contains("did you mean `ASO003`"), "{stdout}");
}

#[test]
fn fixes_never_touch_suppressed_findings() {
    let sb = Sandbox::new();
    // Two objects with the same hazard: only the second is suppressed. And an invalid policy
    // (safe fix for case) suppressed on its line.
    let suppressed = RG_UNPROTECTED.replace("name: rg", "name: kept");
    let invalid = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: odd
  annotations:
    serviceoperator.azure.com/reconcile-policy: Skip # asoguard: ignore[ASO004] -- the operator is patched
";
    let input = format!(
        "{RG_UNPROTECTED}---\n# asoguard: ignore[ASO003] -- reviewed\n{suppressed}---\n{invalid}"
    );
    sb.write("rgs.yaml", &input);
    let (code, stdout, _) = sb.run(&[
        "check",
        "--fix",
        "--unsafe-fixes",
        "--format",
        "json",
        "rgs.yaml",
    ]);
    assert_eq!(code, 0, "{stdout}");
    let report = json_of(&stdout);
    assert_eq!(codes(&report, "suppressed"), ["ASO003", "ASO004"]);
    assert_eq!(
        sb.read_string("rgs.yaml"),
        format!(
            "{RG_FIXED}---\n# asoguard: ignore[ASO003] -- reviewed\n{suppressed}---\n{invalid}"
        ),
        "only the unsuppressed finding was fixed"
    );
}

// =============================================================================================
// Report formats, exact bytes
// =============================================================================================

#[test]
fn concise_is_one_line_per_finding_then_the_summary() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, stdout, _) = sb.run(&["check", "--format", "concise", "rg.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        format!(
            "rg.yaml:4:9: ASO003 [missing-detach-on-delete] {ASO003_MESSAGE}\n1 finding (1 fixable with --fix) in 1 file.\n"
        )
    );
    let (_, stdout, _) = sb.run(&["check", "--format", "concise", "--quiet", "rg.yaml"]);
    assert_eq!(
        stdout,
        format!("rg.yaml:4:9: ASO003 [missing-detach-on-delete] {ASO003_MESSAGE}\n")
    );
}

/// A policy value holding `%`, CR and LF (a double-quoted YAML escape), so the message does.
const RG_ODD_POLICY: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: rg
  annotations:
    serviceoperator.azure.com/reconcile-policy: \"50%\\r\\nskip\"
";

/// An invalid policy written over two lines: a finding that spans lines.
const RG_TWO_LINE_POLICY: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: rg
  annotations:
    serviceoperator.azure.com/reconcile-policy: \"Skip
      now\"
";

const VALID_VALUES: &str =
    "ASO treats it as `manage`; valid values are `manage`, `skip` and `detach-on-delete`";

#[test]
fn github_annotations_escape_data_and_properties_and_drop_columns_across_lines() {
    let sb = Sandbox::new();
    sb.write("a:b,c.yaml", RG_ODD_POLICY);
    sb.write("multi.yaml", RG_TWO_LINE_POLICY);
    sb.write("unused.yaml", RG_UNUSED_SUPPRESSION);
    let (code, stdout, _) = sb.run(&[
        "check",
        "--format",
        "github",
        "a:b,c.yaml",
        "multi.yaml",
        "unused.yaml",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        format!(
            "::error file=a%3Ab%2Cc.yaml,line=6,endLine=6,col=49,endColumn=62,title=ASO004 [invalid-reconcile-policy]::reconcile-policy `50%25%0D%0Askip` is not a valid value: {VALID_VALUES}\n\
             ::error file=multi.yaml,line=6,endLine=7,title=ASO004 [invalid-reconcile-policy]::reconcile-policy `Skip now` is not a valid value: {VALID_VALUES}\n\
             ::warning file=unused.yaml,line=4,endLine=4,col=13,endColumn=61,title=ASO100 [unused-suppression]::suppression comment for ASO001 suppresses nothing\n"
        )
    );
}

#[test]
fn azure_logging_commands_escape_as_task_lib_does() {
    let sb = Sandbox::new();
    sb.write("a;b]c.yaml", RG_ODD_POLICY);
    sb.write("unused.yaml", RG_UNUSED_SUPPRESSION);
    let (code, stdout, _) = sb.run(&["check", "--format", "azure", "a;b]c.yaml", "unused.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        format!(
            "##vso[task.logissue type=error;sourcepath=a%3Bb%5Dc.yaml;linenumber=6;columnnumber=49;code=ASO004;]ASO004 [invalid-reconcile-policy] reconcile-policy `50%AZP25%0D%0Askip` is not a valid value: {VALID_VALUES}\n\
             ##vso[task.logissue type=warning;sourcepath=unused.yaml;linenumber=4;columnnumber=13;code=ASO100;]ASO100 [unused-suppression] suppression comment for ASO001 suppresses nothing\n"
        )
    );
}

#[test]
fn junit_exact_output_for_one_finding() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, stdout, _) = sb.run(&["check", "--format", "junit", "rg.yaml"]);
    assert_eq!(code, 1);
    let message = ASO003_MESSAGE.replace('\'', "&apos;");
    assert_eq!(
        stdout,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <testsuites name=\"asoguard\" tests=\"1\" failures=\"1\">\n\
             \x20 <testsuite name=\"rg.yaml\" tests=\"1\" failures=\"1\">\n\
             \x20   <testcase name=\"ASO003 [missing-detach-on-delete] at 4:9\" classname=\"rg.yaml\" file=\"rg.yaml\" line=\"4\">\n\
             \x20     <failure message=\"{message}\" type=\"error\">rg.yaml:4:9: {message}</failure>\n\
             \x20   </testcase>\n\
             \x20 </testsuite>\n\
             </testsuites>\n"
        )
    );
}

#[test]
fn junit_is_well_formed_xml_with_one_testcase_per_finding_grouped_by_file() {
    let sb = Sandbox::new();
    // Markup characters, a CR/LF and a control character in messages and paths.
    sb.write(
        "a&b.yaml",
        RG_ODD_POLICY.replace("50%\\r\\nskip", "<x & \\\"y\\\" 'z'>\\u0001\\r\\n"),
    );
    sb.write(
        "two.yaml",
        format!(
            "{RG_UNPROTECTED}---\n{}",
            RG_UNPROTECTED.replace("name: rg", "name: rg2")
        ),
    );
    let (code, stdout, _) = sb.run(&["check", "--format", "junit", "a&b.yaml", "two.yaml"]);
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&stdout)
        .unwrap_or_else(|e| panic!("not well-formed XML ({e}):\n{stdout}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("3"));
    assert_eq!(root.attribute("failures"), Some("3"));
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    let summary: Vec<(Option<&str>, usize)> = suites
        .iter()
        .map(|s| {
            (
                s.attribute("name"),
                s.children().filter(|c| c.has_tag_name("testcase")).count(),
            )
        })
        .collect();
    assert_eq!(summary, [(Some("a&b.yaml"), 1), (Some("two.yaml"), 2)]);
    for suite in &suites {
        assert_eq!(
            suite.attribute("tests"),
            Some(
                suite
                    .children()
                    .filter(|c| c.is_element())
                    .count()
                    .to_string()
                    .as_str()
            )
        );
        for case in suite.children().filter(|c| c.is_element()) {
            assert_eq!(case.attribute("file"), suite.attribute("name"));
            let failure = case
                .children()
                .find(|c| c.has_tag_name("failure"))
                .expect("a failure per testcase");
            assert_eq!(failure.attribute("type"), Some("error"));
        }
    }
    let odd = suites[0]
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .and_then(|f| f.attribute("message"))
        .expect("a message");
    assert!(
        odd.contains("`<x & \"y\" 'z'>\r\n`"),
        "markup, quotes and CR/LF survive the round trip: {odd:?}"
    );

    // A clean run is one passing test case, so CI never reads an empty report.
    sb.write("clean.yaml", RG_FIXED);
    let (code, stdout, _) = sb.run(&["check", "--format", "junit", "clean.yaml"]);
    assert_eq!(code, 0);
    let doc = roxmltree::Document::parse(&stdout).expect("well-formed");
    assert_eq!(doc.root_element().attribute("failures"), Some("0"));
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        1
    );
}

#[test]
fn several_reports_in_one_run() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, stdout, _) = sb.run(&[
        "check", "--format", "sarif", "--output", "a.sarif", "--format", "text", "rg.yaml",
    ]);
    assert_eq!(code, 1);
    let log = json_of(&sb.read_string("a.sarif"));
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"][0]["results"][0]["ruleId"], "ASO003");
    assert!(
        stdout.contains("ASO003") && stdout.contains("1 finding"),
        "the text report goes to stdout: {stdout}"
    );
    assert!(!stdout.contains("\"version\""), "no SARIF on stdout");

    // Two files, nothing on stdout.
    let (code, stdout, _) = sb.run(&[
        "check", "--format", "json", "--output", "r.json", "--format", "concise", "--output",
        "r.txt", "rg.yaml",
    ]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert_eq!(
        codes(&json_of(&sb.read_string("r.json")), "findings"),
        ["ASO003"]
    );
    assert!(sb.read_string("r.txt").starts_with("rg.yaml:4:9: ASO003"));
}

// =============================================================================================
// Exit codes, --quiet, --statistics, --show-fixes
// =============================================================================================

#[test]
fn exit_zero_reports_but_never_fails_on_findings() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, stdout, _) = sb.run(&["check", "--exit-zero", "rg.yaml"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("ASO003"), "{stdout}");
    // Errors still exit 2.
    let (code, _, _) = sb.run(&["check", "--exit-zero", "missing.yaml"]);
    assert_eq!(code, 2);
}

#[test]
fn exit_non_zero_on_fix_fails_when_fixes_were_applied() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, _, _) = sb.run(&["check", "--fix", "--exit-non-zero-on-fix", "rg.yaml"]);
    assert_eq!(code, 1, "fixed, nothing left, but a fix was applied");
    assert_eq!(sb.read_string("rg.yaml"), RG_FIXED);
    let (code, _, _) = sb.run(&["check", "--fix", "--exit-non-zero-on-fix", "rg.yaml"]);
    assert_eq!(code, 0, "nothing to fix the second time");
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, _, _) = sb.run(&["check", "--fix", "rg.yaml"]);
    assert_eq!(code, 0, "without the flag, a clean result exits 0");
}

#[test]
fn fail_level_error_lets_warnings_through() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNUSED_SUPPRESSION);
    let (code, stdout, _) = sb.run(&["check", "rg.yaml"]);
    assert_eq!(code, 1, "warnings fail by default: {stdout}");
    let (code, stdout, _) = sb.run(&["check", "--fail-level", "error", "rg.yaml"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("ASO100"), "still reported: {stdout}");
    // From the config, and the command line wins over it.
    sb.write(".asoguard.yaml", "fail-level: error\n");
    let (code, _, _) = sb.run(&["check", "rg.yaml"]);
    assert_eq!(code, 0);
    let (code, _, _) = sb.run(&["check", "--fail-level", "warning", "rg.yaml"]);
    assert_eq!(code, 1);
    // An error still fails with --fail-level error.
    sb.write("bad.yaml", RG_UNPROTECTED);
    let (code, _, _) = sb.run(&["check", "--fail-level", "error", "bad.yaml"]);
    assert_eq!(code, 1);
}

#[test]
fn quiet_prints_findings_without_the_summary() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, stdout, _) = sb.run(&["check", "--quiet", "rg.yaml"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("ASO003"), "{stdout}");
    assert!(!stdout.contains("1 finding"), "no summary: {stdout}");
    sb.write("rg.yaml", RG_FIXED);
    let (code, stdout, stderr) = sb.run(&["check", "-q", "rg.yaml"]);
    assert_eq!(code, 0);
    assert_eq!(stdout, "", "a clean quiet run prints nothing");
    assert_eq!(stderr, "");
}

#[test]
fn statistics_counts_findings_per_rule() {
    let sb = Sandbox::new();
    sb.write("a.yaml", RG_UNPROTECTED);
    sb.write("b.yaml", RG_UNPROTECTED);
    sb.write("c.yaml", RG_UNUSED_SUPPRESSION);
    let (code, stdout, _) = sb.run(&["check", "--statistics", "."]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        "     2  ASO003  [*] missing-detach-on-delete\n     1  ASO100  [*] unused-suppression\n[*] fixable with `--fix`\n3 findings (3 fixable with --fix) in 3 files.\n"
    );
}

#[test]
fn show_fixes_lists_the_fixes_applied() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (_, stdout, _) = sb.run(&["check", "--format", "json", "rg.yaml"]);
    let title = json_of(&stdout)["findings"][0]["fix"]["title"]
        .as_str()
        .expect("a fix title")
        .to_string();
    let (code, stdout, _) = sb.run(&["check", "--fix", "--show-fixes", "rg.yaml"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains(&format!(
            "Fixed in rg.yaml:\n     1 × ASO003 [missing-detach-on-delete] {title}\n"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("Fixed 1 finding."), "{stdout}");
}

#[test]
fn diff_summary_counts_fixes_in_plain_english() {
    let sb = Sandbox::new();
    // Two fixes: the unused suppression goes, and the missing policy is added.
    sb.write(
        "rg.yaml",
        RG_UNPROTECTED.replace("name: rg\n", "name: rg  # asoguard: ignore[ASO001]\n"),
    );
    let (code, stdout, stderr) = sb.run(&["check", "--diff", "rg.yaml"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(stderr, "2 fixes would be applied in 1 file\n");
    assert!(
        stdout.starts_with("--- a/rg.yaml\n+++ b/rg.yaml\n"),
        "{stdout}"
    );
}

// =============================================================================================
// Configuration errors and the schema
// =============================================================================================

/// Write `config`, run `asoguard check .` and return stderr, asserting exit 2 and no check.
fn config_error(config: &str) -> String {
    let sb = Sandbox::new();
    sb.write(".asoguard.yaml", config);
    sb.write("rg.yaml", RG_UNPROTECTED);
    let (code, stdout, stderr) = sb.run(&["check", "."]);
    assert_eq!(code, 2, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stdout.contains("ASO003"), "no check ran: {stdout}");
    assert_eq!(stderr.lines().count(), 1, "one line per problem: {stderr}");
    stderr
}

#[test]
fn an_unknown_config_key_is_located_with_a_hint() {
    let stderr =
        config_error("clusters:\n  dr:\n    paths: [\"clusters/dr/**\"]\n    rol: passive\n");
    assert!(
        stderr.contains(".asoguard.yaml:4:5: unknown key `rol` (hint: did you mean `role`?)"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_rule_in_config_is_located_with_a_hint() {
    let stderr = config_error("rules:\n  skip-in-actve: {severity: off}\n");
    assert!(
        stderr.contains(".asoguard.yaml:2:3: unknown rule `skip-in-actve` (hint: did you mean `ASO001` (skip-in-active)?)"),
        "{stderr}"
    );
    let stderr = config_error("ignore: [ASO003, skip-in-actve]\n");
    assert!(
        stderr.contains(".asoguard.yaml:1:18: unknown rule or prefix `skip-in-actve` (hint: did you mean `ASO001` (skip-in-active)?)"),
        "{stderr}"
    );
}

#[test]
fn a_bad_glob_in_config_is_located_with_a_hint() {
    let stderr = config_error("exclude: [\"vendor/[x\"]\n");
    assert!(
        stderr.contains(".asoguard.yaml:1:11: bad glob `vendor/[x`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("(hint: globs are relative to the repository root"),
        "{stderr}"
    );
    let stderr = config_error("per-file-ignores:\n  \"legacy/[x\": [ASO003]\n");
    assert!(
        stderr.contains(".asoguard.yaml:2:3: bad glob `legacy/[x`"),
        "at the glob, which is the key: {stderr}"
    );
    assert!(stderr.contains("(hint: "), "{stderr}");
    let stderr = config_error("clusters:\n  dr: {paths: [\"clusters/{dr\"], role: passive}\n");
    assert!(stderr.contains(".asoguard.yaml:2:16: bad glob"), "{stderr}");
    assert!(stderr.contains("(hint: "), "{stderr}");
}

#[test]
fn config_schema_is_draft_2020_12_and_validates_configs() {
    let sb = Sandbox::new();
    let (code, stdout, _) = sb.run(&["config", "--schema"]);
    assert_eq!(code, 0);
    let schema = json_of(&stdout);
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let validator = jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("the schema compiles: {e}"));
    // The README's example, and every other key, as JSON.
    let sample = json!({
        "select": ["ALL"],
        "ignore": ["ASO004"],
        "rules": {"ASO003": {"severity": "warning"}, "skip-in-active": {"severity": "off"}},
        "per-file-ignores": {"legacy/**": ["ASO003"]},
        "fail-level": "error",
        "output-format": "sarif",
        "exclude": ["vendor/**"],
        "extend-exclude": ["tmp"],
        "max-file-size": 1_000_000,
        "clusters": {"dr-west": {"paths": ["clusters/dr-west/**"], "role": "passive"}},
        "critical-kinds": {
            "add": ["cache.azure.com/RedisEnterprise"],
            "remove": ["network.azure.com/VirtualNetwork"]
        }
    });
    let errors: Vec<String> = validator
        .iter_errors(&sample)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    for bad in [
        json!({"bogus": 1}),
        json!({"fail-level": "fatal"}),
        json!({"clusters": {"dr": {"paths": ["x"], "role": "standby"}}}),
        json!({"clusters": {"dr": {"role": "passive"}}}),
        json!({"max-file-size": -1}),
    ] {
        assert!(!validator.is_valid(&bad), "accepted {bad}");
    }
}

// =============================================================================================
// asoguard init
// =============================================================================================

const RG_SKIP: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: rg
  annotations:
    serviceoperator.azure.com/reconcile-policy: skip
";

/// A repository with an active and a standby cluster.
fn two_cluster_repo() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("clusters/prod/rg.yaml", RG_FIXED);
    sb.write("clusters/dr-west/rg.yaml", RG_SKIP);
    sb.write("apps/readme.yaml", "not: a manifest\n");
    sb
}

#[test]
fn init_proposes_clusters_and_the_written_config_passes_check() {
    let sb = two_cluster_repo();
    // Without a config the standby's `skip` is in an active cluster.
    let (code, stdout, _) = sb.run(&["check", "--format", "concise", "."]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("ASO001"), "{stdout}");

    let (code, stdout, stderr) = sb.run(&["init"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "Wrote .asoguard.yaml with 2 clusters:\n  dr-west              passive  clusters/dr-west/** (1 ASO resource, 1 with skip)\n  prod                 active   clusters/prod/** (1 ASO resource, 0 with skip)\nReview it, then run `asoguard check`.\n"
    );
    let text = sb.read_string(".asoguard.yaml");
    assert!(
        text.contains("clusters:\n  # clusters/dr-west: 1 ASO resource, with reconcile-policy `skip`: a standby.\n  dr-west:\n    paths: [\"clusters/dr-west/**\"]\n    role: passive\n"),
        "{text}"
    );
    assert!(
        text.contains("\n# fail-level: warning\n"),
        "other keys commented out: {text}"
    );

    // The config validates, and the standby is now passive: the check is clean.
    let (code, stdout, stderr) = sb.run(&["check", "."]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let sb = two_cluster_repo();
    sb.write(".asoguard.yaml", "# mine\n");
    let (code, stdout, stderr) = sb.run(&["init"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(".asoguard.yaml: already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(sb.read_string(".asoguard.yaml"), "# mine\n", "left alone");
    let (code, _, _) = sb.run(&["init", "--force"]);
    assert_eq!(code, 0);
    assert!(sb.read_string(".asoguard.yaml").contains("role: passive"));
}

#[test]
fn init_root_names_the_repository() {
    let sb = Sandbox::new();
    sb.write("repo/envs/staging/rg.yaml", RG_FIXED);
    let (code, stdout, _) = sb.run(&["init", "--root", "repo"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("Wrote repo/.asoguard.yaml with 1 cluster:"),
        "{stdout}"
    );
    assert!(
        sb.read_string("repo/.asoguard.yaml")
            .contains("\"envs/staging/**\"")
    );
    assert!(!sb.path().join(".asoguard.yaml").exists());
    let (code, _, _) = sb.run(&["check", "--config", "repo/.asoguard.yaml", "repo"]);
    assert_eq!(code, 0);

    let (code, _, stderr) = sb.run(&["init", "--root", "no-such-dir"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a directory"), "{stderr}");
}

#[test]
fn init_without_a_layout_writes_a_valid_template() {
    let sb = Sandbox::new();
    sb.write("rg.yaml", RG_FIXED);
    let (code, stdout, _) = sb.run(&["init"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("no clusters found"), "{stdout}");
    assert!(sb.read_string(".asoguard.yaml").contains("\n# clusters:\n"));
    let (code, stdout, stderr) = sb.run(&["check", "."]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
}

// =============================================================================================
// Regressions from bugs found outside the CLI
// =============================================================================================

// `per-file-ignores` turns ASO003 off under `legacy/**`, so a suppression of ASO003 there
// suppresses nothing but is not "unused" either: a rule off for a path counts as off.
#[test]
fn a_suppression_of_a_rule_ignored_for_its_path_is_not_unused() {
    let sb = Sandbox::new();
    let suppressed = RG_UNPROTECTED.replace(
        "name: rg\n",
        "name: rg  # asoguard: ignore[ASO003] -- legacy\n",
    );
    sb.write("legacy/rg.yaml", &suppressed);
    // Turned off on the command line: not unused (this passes).
    let (code, stdout, _) = sb.run(&["check", "--ignore", "ASO003", "legacy/rg.yaml"]);
    assert_eq!(code, 0, "{stdout}");
    // Turned off for the path in the config: the same.
    sb.write(
        ".asoguard.yaml",
        "per-file-ignores:\n  \"legacy/**\": [ASO003]\n",
    );
    let (code, stdout, _) = sb.run(&["check", "--format", "concise", "legacy/rg.yaml"]);
    assert_eq!(
        code, 0,
        "ASO003 is off here, so its suppression is not unused:\n{stdout}"
    );
    let (_, _, _) = sb.run(&["check", "--fix", "legacy/rg.yaml"]);
    assert_eq!(
        sb.read_string("legacy/rg.yaml"),
        suppressed,
        "--fix keeps the suppression"
    );
}
