//! What a run does not check, end to end: notes are summarised per kind on standard error
//! (`--verbose` lists them, `--quiet` drops them) while the JSON report carries every one.

use serde_json::Value;

mod support;
use support::Sandbox;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The `note:` lines of a run's standard error.
fn note_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("note:")).collect()
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
