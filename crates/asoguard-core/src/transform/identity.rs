//! Which Azure resource an ASO object stands for, and its spec in a form that compares equal
//! when two manifests ask for the same thing.

use serde_json::Value;

use crate::index::substitute::{Substitution, is_unresolved};
use crate::index::{Index, Instance};
use crate::manifest::Manifest;
use crate::yaml::json;

/// The identity of the Azure resource an ASO object manages: its group and kind, its
/// namespace, its Azure name (`spec.azureName`, else `metadata.name`) and its owner.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    /// API group, e.g. `resources.azure.com`.
    pub group: String,
    /// Kind, e.g. `ResourceGroup`.
    pub kind: String,
    /// `metadata.namespace` (after any rewrite), empty when the manifest leaves it unset.
    pub namespace: String,
    /// `spec.azureName`, else `metadata.name`.
    pub name: String,
    /// `spec.owner` as `name:<name>` or `armId:<id>`, empty when there is none.
    pub owner: String,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} ", self.group, self.kind)?;
        if !self.namespace.is_empty() {
            write!(f, "{}/", self.namespace)?;
        }
        write!(f, "{}", self.name)?;
        if !self.owner.is_empty() {
            write!(f, " (owner {})", self.owner)?;
        }
        Ok(())
    }
}

/// A value holds a Flux substitution placeholder (`${VAR}`), known only when Flux renders it.
fn substituted(value: &str) -> bool {
    value.contains("${")
}

/// The identity of `manifest`, its namespace replaced by `namespace` when given. `Err` says
/// why it cannot be determined: no kind, no name (or `generateName`), a name or owner that is
/// not a plain string or holds a `${...}` substitution, an owner with neither `name` nor
/// `armId`.
pub fn identity(manifest: &Manifest, namespace: Option<&str>) -> Result<Identity, String> {
    identity_as_applied(manifest, namespace, None)
}

/// The identity of `manifest` as a Flux Kustomization applies it: `substitution` (its
/// `postBuild` variables) replaced in the name, `spec.azureName`, owner and namespace before
/// they are read, so `${cluster_name}-rg` is `prod-rg` where the value is known. A `${...}`
/// still left (its value comes from outside the repository, or it is undefined) is an unknown
/// identity, as in [`identity`].
pub fn identity_as_applied(
    manifest: &Manifest,
    namespace: Option<&str>,
    substitution: Option<&Substitution>,
) -> Result<Identity, String> {
    let apply = |text: &str| -> String {
        substitution.map_or_else(|| text.to_string(), |s| s.apply(text).into_owned())
    };
    let unknown = |what: &str, raw: &str| -> String {
        match substitution {
            None => format!(
                "its {what} `{raw}` holds a `${{...}}` substitution, known only when Flux renders it"
            ),
            Some(_) => {
                let partly = apply(raw);
                format!(
                    "its {what} `{raw}` holds a `${{...}}` substitution whose value is not in the repository (it comes from a Secret or a ConfigMap asoguard does not find, or is undefined){}",
                    if partly == raw {
                        String::new()
                    } else {
                        format!(": it is known only as `{partly}`")
                    }
                )
            }
        }
    };
    let kind = manifest.kind.ok_or("it has no `kind`")?;
    let metadata = manifest.root.get("metadata");
    let name = match manifest.name {
        Some(node) => node
            .as_str()
            .filter(|n| !n.is_empty())
            .ok_or("`metadata.name` is not a plain string")?,
        None if metadata.and_then(|m| m.get("generateName")).is_some() => {
            return Err(
                "it uses `metadata.generateName`, so its name is known only once created".into(),
            );
        }
        None => return Err("it has no `metadata.name`".into()),
    };
    let spec = manifest.root.get("spec");
    let azure_name = match spec.and_then(|s| s.get("azureName")) {
        Some(node) if !node.is_null() => Some(
            node.as_str()
                .filter(|n| !n.is_empty())
                .ok_or("`spec.azureName` is not a plain string")?,
        ),
        _ => None,
    };
    let raw_name = azure_name.unwrap_or(name);
    let name = apply(raw_name);
    if substituted(&name) {
        return Err(unknown("name", raw_name));
    }
    let owner = match spec.and_then(|s| s.get("owner")) {
        None => String::new(),
        Some(node) if node.is_null() => String::new(),
        Some(node) => {
            let field = |key: &str| {
                node.get(key)
                    .and_then(|v| v.as_str())
                    .filter(|v| !v.is_empty())
            };
            let raw_owner = match (field("armId"), field("name")) {
                (Some(arm), _) => format!("armId:{arm}"),
                (None, Some(name)) => format!("name:{name}"),
                (None, None) => {
                    return Err("`spec.owner` has neither a `name` nor an `armId`".into());
                }
            };
            let owner = apply(&raw_owner);
            if substituted(&owner) {
                return Err(unknown("owner", &raw_owner));
            }
            owner
        }
    };
    let raw_namespace = namespace.or(manifest.namespace).unwrap_or("");
    let namespace = apply(raw_namespace);
    if substituted(&namespace) {
        return Err(unknown("namespace", raw_namespace));
    }
    Ok(Identity {
        group: manifest.group().to_string(),
        kind: kind.to_string(),
        namespace,
        name,
        owner,
    })
}

/// The identity of the Azure resource an instance of the index stands for, as its context
/// applies it: Flux `postBuild` variables substituted in its name, `spec.azureName`, owner and
/// namespace, and the namespace a kustomization or Flux Kustomization gives it. `None` when a
/// part is unknown (a `${...}` left unresolved, no name): an unknown identity is never equal to
/// another. The owner is its `spec.owner.name` (`armId` owners are not in the index).
pub fn of_instance(index: &Index, instance: &Instance) -> Option<Identity> {
    let object = index.object(instance);
    let name = match index.azure_name(instance) {
        Some(name) => name.into_owned(),
        None => instance.name.as_deref()?.to_string(),
    };
    let owner = index
        .owner(instance)
        .map_or_else(String::new, |o| format!("name:{o}"));
    let namespace = instance.namespace.as_deref().unwrap_or("").to_string();
    if name.is_empty() || [&name, &owner, &namespace].iter().any(|t| is_unresolved(t)) {
        return None;
    }
    Some(Identity {
        group: object.group.to_string(),
        kind: object.kind.to_string(),
        namespace,
        name,
        owner,
    })
}

/// The object's `spec` as JSON, normalised for comparison: keys with null values dropped (an
/// omitted value and an absent key apply the same), key order ignored. `Err` when the spec
/// uses aliases or duplicate keys.
pub fn normalized_spec(manifest: &Manifest) -> Result<Value, String> {
    match manifest.root.get("spec") {
        None => Ok(Value::Null),
        Some(spec) => json::to_json(spec)
            .map(normalize)
            .map_err(|e| format!("its spec cannot be compared: {}", e.message)),
    }
}

fn normalize(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, normalize(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        other => other,
    }
}

/// The key of any Kubernetes object in a file: group, kind, namespace, name. Used to tell
/// whether a rewritten file still holds every object the old one held.
pub fn object_key(manifest: &Manifest) -> Option<(String, String, String, String)> {
    Some((
        manifest.group().to_string(),
        manifest.kind?.to_string(),
        manifest.namespace.unwrap_or("").to_string(),
        manifest.name_str()?.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    fn of(text: &str, ns: Option<&str>) -> Result<Identity, String> {
        let arena = crate::yaml::Arena::new();
        let stream = parse(&arena, text);
        let m = Manifest::from_root(stream.documents[0].root.as_ref().unwrap()).unwrap();
        identity(&m, ns)
    }

    #[test]
    fn identity_prefers_azure_name_and_includes_owner() {
        let id = of(
            "apiVersion: storage.azure.com/v1api20230101\nkind: StorageAccount\nmetadata: {name: st, namespace: a}\nspec: {azureName: stprod, owner: {name: rg}}\n",
            Some("b"),
        )
        .unwrap();
        assert_eq!(
            id.to_string(),
            "storage.azure.com/StorageAccount b/stprod (owner name:rg)"
        );
    }

    #[test]
    fn identity_cannot_be_determined() {
        for (text, why) in [
            (
                "apiVersion: resources.azure.com/v1\nkind: ResourceGroup\nmetadata: {generateName: rg-}\n",
                "generateName",
            ),
            (
                "apiVersion: resources.azure.com/v1\nkind: ResourceGroup\nmetadata: {name: \"rg-${ENV}\"}\n",
                "substitution",
            ),
            (
                "apiVersion: resources.azure.com/v1\nkind: ResourceGroup\nmetadata: {name: [a]}\n",
                "plain string",
            ),
            (
                "apiVersion: storage.azure.com/v1\nkind: StorageAccount\nmetadata: {name: a}\nspec: {owner: {}}\n",
                "neither",
            ),
        ] {
            let error = of(text, None).unwrap_err();
            assert!(error.contains(why), "{error}");
        }
    }

    #[test]
    fn identity_as_flux_applies_it() {
        let text = "apiVersion: resources.azure.com/v1\nkind: ResourceGroup\nmetadata: {name: \"${cluster_name}-rg\", namespace: \"${ns:=shop}\"}\nspec: {owner: {armId: \"/subscriptions/${sub}\"}}\n";
        let arena = crate::yaml::Arena::new();
        let stream = parse(&arena, text);
        let m = Manifest::from_root(stream.documents[0].root.as_ref().unwrap()).unwrap();
        let vars = |pairs: &[(&str, &str)]| {
            Substitution::new(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                true,
            )
        };
        let known = vars(&[("cluster_name", "prod"), ("sub", "0000")]);
        assert_eq!(
            identity_as_applied(&m, None, Some(&known))
                .unwrap()
                .to_string(),
            "resources.azure.com/ResourceGroup shop/prod-rg (owner armId:/subscriptions/0000)"
        );
        let partial = vars(&[("cluster_name", "prod")]);
        let error = identity_as_applied(&m, None, Some(&partial)).unwrap_err();
        assert!(
            error.contains("owner `armId:/subscriptions/${sub}`")
                && error.contains("not in the repository"),
            "{error}"
        );
        assert!(
            identity(&m, None)
                .unwrap_err()
                .contains("known only when Flux")
        );
    }

    #[test]
    fn specs_compare_without_nulls_and_order() {
        let spec = |text: &str| {
            let arena = crate::yaml::Arena::new();
            let stream = parse(&arena, text);
            normalized_spec(
                &Manifest::from_root(stream.documents[0].root.as_ref().unwrap()).unwrap(),
            )
            .unwrap()
        };
        assert_eq!(
            spec("spec: {a: 1, b: {c: x, d: ~}}\n"),
            spec("spec:\n  b:\n    c: x\n  a: 1\n")
        );
        assert_ne!(spec("spec: {a: 1}\n"), spec("spec: {a: '1'}\n"));
    }
}
