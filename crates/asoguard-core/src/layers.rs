//! The modules' layers, lowest first, and a test that every `crate::` path in a module's code
//! points at a module below it: no module depends on one above it, so there is no cycle
//! between modules other than a parent and its children. `docs/architecture.md` draws them.

/// Every top-level module, lowest first. A module may use only modules listed before it.
const LAYERS: &[&str] = &[
    // Foundations: no knowledge of ASO's rules.
    "span",
    "suggest",
    "wording",
    "note",
    "catalog",
    "files",
    "marker",
    "fix",
    // The rule registry and the relevance prefilter built from it.
    "registry",
    "relevance",
    // Parsing and reading objects.
    "yaml",
    "manifest",
    "template",
    "sops",
    // Findings, schemas, configuration, suppressions.
    "diagnostic",
    "schema",
    "config",
    "suppress",
    // The files of a run, and what the configuration means.
    "discover",
    "effective",
    // What GitOps applies: renders only, judges nothing.
    "index",
    // The rules judge documents and the index; init proposes a configuration from the index.
    "rules",
    "init",
    // Runs the steps in order.
    "engine",
    // Bulk edits on top of a run.
    "transform",
    // What a change between two revisions does in Azure: renders both with the engine.
    "plan",
];

mod tests {
    use std::path::Path;

    use super::LAYERS;

    /// The top-level modules `text` names as `crate::module`, outside comments.
    fn uses(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                if let Some(group) = rest.strip_prefix('{') {
                    // `use crate::{a, b::c}` (one line; rustfmt splits longer ones below).
                    let inner = group.split('}').next().unwrap_or("");
                    found.extend(inner.split(',').filter_map(first_segment));
                } else if let Some(name) = first_segment(rest) {
                    found.push(name);
                }
            }
        }
        // `use crate::{` spread over lines: each following line up to `};` names a module.
        let mut in_group = false;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with("//") {
                continue;
            }
            if trimmed.ends_with("crate::{") {
                in_group = true;
            } else if in_group {
                if trimmed.starts_with('}') {
                    in_group = false;
                } else if !trimmed.starts_with(|c: char| c.is_whitespace()) {
                    found.extend(trimmed.split(',').filter_map(first_segment));
                }
            }
        }
        found
    }

    fn first_segment(path: &str) -> Option<String> {
        let name: String = path
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .then_some(name)
    }

    fn rank(module: &str) -> Option<usize> {
        LAYERS.iter().position(|m| *m == module)
    }

    fn check_dir(dir: &Path, src: &Path, failures: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                check_dir(&path, src, failures);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap_or(&path);
            let top = relative
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .map(|s| s.trim_end_matches(".rs").to_string())
                .unwrap_or_default();
            if top == "lib" || top == "layers" {
                continue;
            }
            let Some(own) = rank(&top) else {
                failures.push(format!(
                    "{}: module `{top}` is in no layer of src/layers.rs",
                    relative.display()
                ));
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            // Tests may use anything.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for used in uses(code) {
                if used == top {
                    continue;
                }
                match rank(&used) {
                    Some(r) if r < own => {}
                    Some(_) => failures.push(format!(
                        "{}: `{top}` uses `crate::{used}`, which is not below it",
                        relative.display()
                    )),
                    None => {}
                }
            }
        }
    }

    #[test]
    fn every_module_uses_only_layers_below_it() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut failures = Vec::new();
        check_dir(&src, &src, &mut failures);
        failures.sort();
        assert!(
            failures.is_empty(),
            "layering broken (see src/layers.rs and docs/architecture.md):\n{}",
            failures.join("\n")
        );
    }

    #[test]
    fn the_check_sees_every_form_of_use() {
        let text = "use crate::a::B;\nuse crate::{b, c::D};\nuse crate::{\n    d::E,\n    e,\n};\nfn f() { crate::f::g(); } // crate::h\n/// [`crate::i`]\n";
        let mut found = uses(text);
        found.sort();
        assert_eq!(found, ["a", "b", "c", "d", "e", "f"]);
    }
}
