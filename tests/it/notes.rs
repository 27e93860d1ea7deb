//! What a run does not check, end to end: templates are one behaviour (no finding, no fact,
//! never changed by `--fix`, `--diff` or a transform, one note), and notes are summarised per
//! kind on standard error (`--verbose` lists them, `--quiet` drops them) while the JSON report
//! carries every one.

use crate::support::{self, RG_UNPROTECTED, Sandbox, json};

/// The `note:` lines of a run's standard error.
fn note_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("note:")).collect()
}

/// A critical ResourceGroup without a policy, its name from a Helm value: ASO003 if it were
/// linted. `{{ .Release.Name }}` parses as YAML (a flow mapping).
const TEMPLATE_PARSES: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: {{ .Release.Name }}
spec:
  location: westeurope
";

/// Every way a file is a template, each an unprotected ResourceGroup once rendered.
fn templates() -> Vec<(&'static str, String)> {
    vec![
        ("parses.yaml", TEMPLATE_PARSES.to_string()),
        (
            "invalid.yaml",
            TEMPLATE_PARSES.replace("{{ .Release.Name }}", "{{ .Release.Name }}-rg"),
        ),
        (
            "quoted.yaml",
            TEMPLATE_PARSES.replace("{{ .Release.Name }}", "\"{{ .Release.Name }}-rg\""),
        ),
        (
            "directive.yaml",
            format!("{{{{- if .Values.enabled }}}}\n{RG_UNPROTECTED}{{{{- end }}}}\n"),
        ),
        // No template syntax at all, but a chart's template: what is applied is its output.
        ("chart/templates/rg.yaml", RG_UNPROTECTED.to_string()),
    ]
}

fn sandbox_with_templates() -> Sandbox {
    let sb = Sandbox::new();
    sb.write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    for (path, text) in templates() {
        sb.write(path, text);
    }
    sb
}

#[test]
fn a_template_gives_no_finding_and_one_note() {
    let sb = sandbox_with_templates();
    let (code, stdout, stderr) = sb.run(&["check", "."]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("All checks passed"), "{stdout}");
    assert_eq!(
        note_lines(&stderr),
        ["note: 5 Helm or Go templates were skipped (--verbose lists them)"]
    );

    let (_, stdout, _) = sb.run(&["check", "--format", "json", "."]);
    let report = json(&stdout);
    assert_eq!(report["findings"], serde_json::json!([]));
    let mut noted: Vec<(&str, &str)> = report["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| (n["kind"].as_str().unwrap(), n["path"].as_str().unwrap()))
        .collect();
    noted.sort();
    let mut want: Vec<(&str, &str)> = templates()
        .iter()
        .map(|(path, _)| ("template", *path))
        .collect();
    want.sort();
    assert_eq!(noted, want);
}

#[test]
fn fix_and_diff_never_edit_a_template() {
    let sb = sandbox_with_templates();
    let (code, stdout, _) = sb.run(&["check", "--diff", "--unsafe-fixes", "."]);
    assert_eq!(code, 0, "nothing would change: {stdout}");
    assert_eq!(stdout, "");
    let (code, _, stderr) = sb.run(&["check", "--fix", "--unsafe-fixes", "."]);
    assert_eq!(code, 0, "{stderr}");
    for (path, text) in templates() {
        assert_eq!(sb.read_string(path), text, "{path} is byte-identical");
    }
    // Standard input under a template's name is echoed unchanged.
    let mut cmd = sb.cmd();
    cmd.args(["check", "--fix", "-", "--stdin-filename", "parses.yaml"])
        .write_stdin(TEMPLATE_PARSES);
    let (code, stdout, _) = support::run(&mut cmd);
    assert_eq!((code, stdout.as_str()), (0, TEMPLATE_PARSES));
}

#[test]
fn policy_set_leaves_a_template_byte_identical() {
    let sb = sandbox_with_templates();
    sb.write("plain/rg.yaml", RG_UNPROTECTED);
    let (code, stdout, stderr) = sb.run(&["policy", "set", "detach-on-delete", "."]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for (path, text) in templates() {
        assert_eq!(sb.read_string(path), text, "{path} is byte-identical");
    }
    assert!(
        sb.read_string("plain/rg.yaml")
            .contains("serviceoperator.azure.com/reconcile-policy: detach-on-delete"),
        "the plain manifest is changed"
    );
    assert!(
        format!("{stdout}{stderr}").contains("parses.yaml: a Helm or Go template; not changed"),
        "the plan says why: {stdout}\n{stderr}"
    );
}

/// An ApplicationSet holds `{{path}}` for its own generator: it is linted like any manifest
/// (here ASO002 on its `Replace=true`), and renders the directories it names.
#[test]
fn an_application_set_is_linted() {
    let sb = Sandbox::new();
    sb.write(
        "apps/appset.yaml",
        "\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: infra
spec:
  generators:
    - git:
        repoURL: https://example.com/gitops.git
        directories:
          - path: infra/*
  template:
    metadata:
      name: '{{path.basename}}'
    spec:
      source:
        repoURL: https://example.com/gitops.git
        path: '{{path}}'
      destination:
        namespace: '{{path.basename}}'
      syncPolicy:
        syncOptions:
          - Replace=true
",
    );
    sb.write("infra/db/rg.yaml", support::RG_FIXED);
    let (code, stdout, stderr) = sb.run(&["check", "--format", "json", "."]);
    assert_eq!(code, 1, "{stderr}");
    let report = json(&stdout);
    let found: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    assert_eq!(found, [("ASO002", "apps/appset.yaml")]);
    assert!(report.get("notes").is_none(), "no note: {report}");
}

/// `{{` in a comment does not make a file a template: it is linted, and a syntax error in it
/// is an E001.
#[test]
fn template_syntax_in_a_comment_is_no_template() {
    let sb = Sandbox::new();
    sb.write(
        "rg.yaml",
        format!("# rendered from {{{{ .Values.name }}}} by hand\n{RG_UNPROTECTED}"),
    );
    sb.write(
        "broken.yaml",
        format!("# {{{{ .Values.name }}}}\n{RG_UNPROTECTED}  labels: [a\n"),
    );
    let (code, stdout, stderr) = sb.run(&["check", "--format", "json", "."]);
    assert_eq!(code, 1, "{stderr}");
    let report = json(&stdout);
    let found: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    assert_eq!(found, [("E001", "broken.yaml"), ("ASO003", "rg.yaml")]);
    assert!(note_lines(&stderr).is_empty(), "{stderr}");
}

/// A template tells the index nothing: a templated Namespace's `detach-on-delete` does not
/// protect the ResourceGroup in that namespace (ASO003), where a plain Namespace does.
#[test]
fn a_template_gives_no_facts_to_the_index() {
    let namespace = "\
apiVersion: v1
kind: Namespace
metadata:
  name: prod
  labels:
    team: TEAM
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
";
    let group = RG_UNPROTECTED.replace("  name: rg\n", "  name: rg\n  namespace: prod\n");
    for (team, findings) in [("web", 0), ("'{{ .Values.team }}'", 1)] {
        let sb = Sandbox::new();
        sb.write("ns.yaml", namespace.replace("TEAM", team));
        sb.write("rg.yaml", &group);
        let (code, stdout, _) = sb.run(&["check", "--format", "json", "."]);
        let report = json(&stdout);
        let codes: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes.len(), findings, "team {team}: {codes:?}");
        assert!(codes.iter().all(|c| *c == "ASO003"), "{codes:?}");
        assert_eq!(code, i32::from(findings > 0));
    }
}

/// SOPS files and remote bases, as a Flux monorepo has dozens of: one summary line per kind by
/// default, every note with `--verbose`, none with `--quiet`; the JSON report has them all.
#[test]
fn notes_are_summarised_per_kind_on_stderr() {
    let sb = Sandbox::new();
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: ENC[AES256_GCM,data:x]\nsops:\n  mac: ENC[AES256_GCM,data:y]\n  version: 3.8.1\n";
    for i in 1..=3 {
        sb.write(&format!("secrets/s{i}.yaml"), secret);
    }
    sb.write(
        "infra/kustomization.yaml",
        "resources:\n  - https://github.com/example/base//aso?ref=v1\n",
    );

    let (code, _, stderr) = sb.run(&["check", "."]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        note_lines(&stderr),
        [
            "note: 1 remote kustomize resource was not fetched (--verbose lists it)",
            "note: 3 SOPS-encrypted files were skipped (--verbose lists them)",
        ]
    );

    for verbose in ["--verbose", "-v"] {
        let (_, _, stderr) = sb.run(&["check", verbose, "."]);
        assert_eq!(
            note_lines(&stderr),
            [
                "note: infra/kustomization.yaml: remote resource `https://github.com/example/base//aso?ref=v1` cannot be fetched offline; what it adds is not checked",
                "note: secrets/s1.yaml: SOPS-encrypted file: skipped",
                "note: secrets/s2.yaml: SOPS-encrypted file: skipped",
                "note: secrets/s3.yaml: SOPS-encrypted file: skipped",
            ]
        );
    }

    let (_, stdout, stderr) = sb.run(&["check", "--quiet", "--format", "json", "."]);
    assert!(note_lines(&stderr).is_empty(), "{stderr}");
    let report = json(&stdout);
    let notes = report["notes"].as_array().expect("notes, quiet or not");
    assert_eq!(notes.len(), 4);
    for note in notes {
        let keys: Vec<&str> = note
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["kind", "path", "message"]);
    }
    assert_eq!(notes[0]["kind"], "remote");
    assert_eq!(notes[0]["path"], "infra/kustomization.yaml");
    assert_eq!(notes[1]["kind"], "sops");
    assert_eq!(notes[1]["path"], "secrets/s1.yaml");
    assert_eq!(report["version"], 1);

    // `--quiet` and `--verbose` contradict each other.
    let (code, _, _) = sb.run(&["check", "--quiet", "--verbose", "."]);
    assert_eq!(code, 2);
}
