//! Minimal edits of `.asoguard.yaml`'s `clusters`: read them as written, flip a role, add a
//! cluster, keeping every other byte of the file.

use crate::config::Role;
use crate::fix::apply_edits;
use crate::span::LineEnding;
use crate::yaml::{self, edit};

/// One cluster as written in the config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawCluster {
    /// Its name.
    pub name: String,
    /// Its path globs, as written.
    pub paths: Vec<String>,
    /// Its role (active when unset).
    pub role: Role,
}

/// The name of a role, as the config spells it.
pub(crate) fn role_str(role: Role) -> &'static str {
    match role {
        Role::Active => "active",
        Role::Passive => "passive",
    }
}

/// The clusters of a config text, in file order (empty when it has none or does not parse).
pub(crate) fn clusters(text: &str) -> Vec<RawCluster> {
    let arena = yaml::Arena::new();
    let stream = yaml::parse(&arena, text);
    let Some(map) = stream
        .documents
        .first()
        .and_then(|d| d.root.as_ref())
        .and_then(|r| r.get("clusters"))
    else {
        return Vec::new();
    };
    map.entries()
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| {
            let name = entry.key.as_str()?.to_string();
            let paths = entry
                .value
                .get("paths")
                .and_then(|p| p.items())
                .unwrap_or_default()
                .iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect();
            let role = match entry.value.get_str("role") {
                Some("passive") => Role::Passive,
                _ => Role::Active,
            };
            Some(RawCluster { name, paths, role })
        })
        .collect()
}

/// Set cluster `name`'s role: its `role` value replaced, or `role: <role>` appended when it has
/// none (an absent role is active). `Ok(None)` when the role is already `role`.
pub(crate) fn set_role(text: &str, name: &str, role: Role) -> Result<Option<String>, String> {
    let arena = yaml::Arena::new();
    let stream = yaml::parse(&arena, text);
    let cluster = stream
        .documents
        .first()
        .and_then(|d| d.root.as_ref())
        .and_then(|r| r.get("clusters"))
        .and_then(|c| c.get(name))
        .ok_or_else(|| format!("cluster `{name}` is not in the config"))?;
    let want = role_str(role);
    let edit = match cluster.get("role") {
        Some(value) if value.as_str() == Some(want) => return Ok(None),
        Some(value) => edit::replace_scalar(text, value, want),
        None if role == Role::Active => return Ok(None),
        None => edit::append_entry(text, cluster, "role", want)
            .ok_or_else(|| format!("cluster `{name}` is not a mapping: cannot set its role"))?,
    };
    apply_edits(text, &[edit])
        .map(Some)
        .ok_or_else(|| "the config edit failed (please report this bug)".into())
}

/// Add cluster `name` with one path glob and a role, as a one-line flow mapping under
/// `clusters` (created when missing). The text may be empty (a new config file).
pub(crate) fn add_cluster(
    text: &str,
    name: &str,
    glob: &str,
    role: Role,
) -> Result<String, String> {
    let raw = format!(
        "{{paths: [{}], role: {}}}",
        edit::scalar_text(glob),
        role_str(role)
    );
    let arena = yaml::Arena::new();
    let stream = yaml::parse(&arena, text);
    if stream.error.is_some() {
        return Err("the config is not valid YAML".into());
    }
    let root = stream.documents.first().and_then(|d| d.root.as_ref());
    let Some(root) = root.filter(|r| !r.is_null()) else {
        let eol = LineEnding::detect(text).as_str();
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(eol);
        }
        out.push_str(&format!(
            "clusters:{eol}  {}: {raw}{eol}",
            edit::scalar_text(name)
        ));
        return Ok(out);
    };
    let edit = edit::set_entry_raw_at(text, root, &["clusters"], name, &raw)
        .ok_or("the config's root or `clusters` is not a mapping: cannot add a cluster")?;
    apply_edits(text, &[edit])
        .ok_or_else(|| "the config edit failed (please report this bug)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flips_roles_minimally() {
        let text = "# c\nclusters:\n  prod:\n    paths: [\"clusters/prod/**\"] # p\n  dr: {paths: [\"clusters/dr/**\"], role: passive}\n";
        let out = set_role(text, "dr", Role::Active).unwrap().unwrap();
        assert_eq!(out, text.replace("role: passive", "role: active"));
        let out = set_role(&out, "prod", Role::Passive).unwrap().unwrap();
        assert_eq!(
            out,
            "# c\nclusters:\n  prod:\n    paths: [\"clusters/prod/**\"] # p\n    role: passive\n  dr: {paths: [\"clusters/dr/**\"], role: active}\n"
        );
        assert_eq!(set_role(&out, "prod", Role::Passive).unwrap(), None);
        assert!(set_role(&out, "nope", Role::Passive).is_err());
        let found = clusters(&out);
        assert_eq!(found[0].role, Role::Passive);
        assert_eq!(found[1].paths, vec!["clusters/dr/**".to_string()]);
    }

    #[test]
    fn adds_clusters() {
        assert_eq!(
            add_cluster("", "a", "clusters/a/**", Role::Passive).unwrap(),
            "clusters:\n  a: {paths: [\"clusters/a/**\"], role: passive}\n"
        );
        assert_eq!(
            add_cluster("# only\r\n", "a", "a/**", Role::Active).unwrap(),
            "# only\r\nclusters:\r\n  a: {paths: [\"a/**\"], role: active}\r\n"
        );
        assert_eq!(
            add_cluster(
                "clusters:\n    x: {paths: [x]}\n",
                "b",
                "b/**",
                Role::Active
            )
            .unwrap(),
            "clusters:\n    x: {paths: [x]}\n    b: {paths: [\"b/**\"], role: active}\n"
        );
        assert_eq!(
            add_cluster("exclude: [v]\n", "b", "b/**", Role::Passive).unwrap(),
            "exclude: [v]\nclusters:\n  b: {paths: [\"b/**\"], role: passive}\n"
        );
    }
}
