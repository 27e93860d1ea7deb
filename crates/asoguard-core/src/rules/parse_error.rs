//! E001 `parse-error`: a file that cannot be read as YAML. Reported by the engine as it loads
//! and parses files; no per-object check.

use super::Checks;

pub(super) const SUMMARY: &str = "A file cannot be checked: invalid YAML, not UTF-8, binary, too large or unreadable";

pub(super) const DOC: &str = r#"## What it does
Reports a file that asoguard cannot check, at the position of the problem: a YAML syntax
error (an unterminated quote, a bad indent, a tab where YAML forbids one), a file that is not
UTF-8 or holds NUL bytes, a file over `--max-file-size`, or a file that cannot be read.
Documents before a syntax error are still checked; the run goes on with the other files.

Syntax errors are reported in files that could hold something asoguard checks: text naming an
ASO group (`.azure.com`, `azure.microsoft.com`), ArgoCD (`argoproj.io`), Flux (`fluxcd.io`),
Kustomize (`Kustomization`, `kustomize.config.k8s.io`, a `kustomization.yaml`), a `Namespace`,
`asoguard` or `sops`. Other files are never parsed (that is most of what makes asoguard fast on
large trees); `--strict-syntax` parses and reports them too. Files that cannot be read as
text (binary, not UTF-8, too large, unreadable) are always reported.

## Why is this bad
A manifest that does not parse is not applied by ArgoCD or Flux either (or, worse, is
applied up to the error by tools that stream documents), and none of asoguard's other rules
can vouch for it. A file that cannot be read hides whatever hazards it holds.

## Example
```yaml
metadata:
  name: "prod-rg
```

Use instead:
```yaml
metadata:
  name: "prod-rg"
```

## Fix
None. `--fix` never writes a file it could not parse.

## Source
YAML 1.2.2 specification; asoguard's own loader.
"#;

/// ParseError's checks, for the rule registry.
pub(super) struct ParseError;

impl Checks for ParseError {}
