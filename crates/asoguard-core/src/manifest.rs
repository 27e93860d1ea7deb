//! A Kubernetes object seen through one YAML document: apiVersion, kind, name, namespace and
//! annotations, each with its span, and the reconcile policy it declares.

use crate::catalog;
use crate::span::Span;
use crate::yaml::{Entry, Node};

/// The annotation that decides what ASO does with an object's Azure resource.
pub const RECONCILE_POLICY: &str = "serviceoperator.azure.com/reconcile-policy";
/// `metadata` fields the API server sets on a live object: a manifest exported with
/// `kubectl get -o yaml` carries them, and no manifest should.
pub const LIVE_METADATA: [&str; 6] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
];
/// Annotations ASO sets on the objects it manages, never written in a manifest.
pub const OPERATOR_ANNOTATIONS: [&str; 5] = [
    "serviceoperator.azure.com/resource-id",
    "serviceoperator.azure.com/poller-resume-token",
    "serviceoperator.azure.com/poller-resume-id",
    "serviceoperator.azure.com/latest-reconciled-generation",
    "serviceoperator.azure.com/operator-namespace",
];
/// The finalizer ASO adds to every resource it manages.
pub const ASO_FINALIZER: &str = "serviceoperator.azure.com/finalizer";
/// ArgoCD's per-resource sync options annotation (comma-separated).
pub const ARGOCD_SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";

/// A valid value of the reconcile-policy annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Policy {
    /// GET, PUT and DELETE: deleting the object deletes the Azure resource (the default).
    Manage,
    /// GET only: ASO never creates, updates or deletes the Azure resource.
    Skip,
    /// GET and PUT, never DELETE: deleting the object leaves the Azure resource.
    DetachOnDelete,
}

impl Policy {
    /// Every valid policy.
    pub const ALL: [Policy; 3] = [Policy::Manage, Policy::Skip, Policy::DetachOnDelete];

    /// The annotation value, exactly as ASO expects it.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Manage => "manage",
            Policy::Skip => "skip",
            Policy::DetachOnDelete => "detach-on-delete",
        }
    }

    /// Parse an exact (case-sensitive) annotation value.
    pub fn parse(value: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.as_str() == value)
    }

    /// Whether deleting the object leaves the Azure resource in place.
    pub fn protects_from_delete(self) -> bool {
        self != Policy::Manage
    }
}

/// What an object's own reconcile-policy annotation says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeclaredPolicy {
    /// No annotation, or an empty value.
    Unset,
    /// A valid value.
    Valid(Policy),
    /// Any other value, which ASO logs and treats as `manage`.
    Invalid(String),
}

impl DeclaredPolicy {
    /// Read a raw annotation value.
    pub fn from_value(value: Option<&str>) -> Self {
        match value {
            None | Some("") => DeclaredPolicy::Unset,
            Some(v) => Policy::parse(v).map_or_else(
                || DeclaredPolicy::Invalid(v.to_string()),
                DeclaredPolicy::Valid,
            ),
        }
    }
}

/// An apiVersion split into group and version (`v1` has the empty core group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiVersion<'d> {
    /// The API group, empty for the core group.
    pub group: &'d str,
    /// The version.
    pub version: &'d str,
}

impl<'d> ApiVersion<'d> {
    /// Split `group/version` (or a bare core `version`).
    pub fn parse(text: &'d str) -> Self {
        match text.split_once('/') {
            Some((group, version)) => ApiVersion { group, version },
            None => ApiVersion {
                group: "",
                version: text,
            },
        }
    }
}

/// One Kubernetes object: a view over a document's root mapping.
#[derive(Clone, Copy, Debug)]
pub struct Manifest<'d, 'a> {
    /// The document's root mapping.
    pub root: &'d Node<'a>,
    /// The raw apiVersion.
    pub api_version: Option<&'d str>,
    /// Group and version of `api_version`.
    pub api: Option<ApiVersion<'d>>,
    /// The kind.
    pub kind: Option<&'d str>,
    /// `metadata.name` as a node, for its span.
    pub name: Option<&'d Node<'a>>,
    /// `metadata.namespace`.
    pub namespace: Option<&'d str>,
    /// The ASO kind of its group and kind, when the catalog knows it: read once here, since
    /// every rule asks whether an object is an ASO resource.
    pub aso_kind: Option<&'static catalog::AsoKind>,
}

impl<'d, 'a> Manifest<'d, 'a> {
    /// The object in a document, if its root is a mapping.
    pub fn from_root(root: &'d Node<'a>) -> Option<Self> {
        root.entries()?;
        let api_version = root.get_str("apiVersion");
        let metadata = root.get("metadata");
        let api = api_version.map(ApiVersion::parse);
        let kind = root.get_str("kind");
        Some(Manifest {
            root,
            api_version,
            api,
            kind,
            name: metadata.and_then(|m| m.get("name")),
            namespace: metadata.and_then(|m| m.get_str("namespace")),
            aso_kind: api
                .zip(kind)
                .and_then(|(api, kind)| catalog::kind(api.group, kind)),
        })
    }

    /// The API group, empty for core objects and when apiVersion is missing.
    pub fn group(&self) -> &'d str {
        self.api.map_or("", |a| a.group)
    }

    /// Whether the object is an ASO v2 resource: its group is one of ASO's and the catalog
    /// knows its kind there. An object of a kind ASO never had (`storage.azure.com`
    /// `BlobContainer`) is not one: the API server rejects it, ASO015 reports it, and no other
    /// rule, fix or transform treats it as an ASO resource.
    pub fn is_aso(&self) -> bool {
        self.aso_kind.is_some()
    }

    /// Whether the apiVersion's group is one of ASO's groups, whatever the kind.
    pub fn in_aso_group(&self) -> bool {
        catalog::is_aso_group(self.group())
    }

    /// Whether the object is of `group` and `kind`.
    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.group() == group && self.kind == Some(kind)
    }

    /// The span to report an object-level finding at: its name, else its kind, else the
    /// document.
    pub fn object_span(&self) -> Span {
        self.name
            .map(|n| n.span)
            .or_else(|| self.root.get("kind").map(|k| k.span))
            .unwrap_or(Span::empty(self.root.span.start))
    }

    /// The object's name, if it is a scalar.
    pub fn name_str(&self) -> Option<&'d str> {
        self.name.and_then(|n| n.as_str())
    }

    /// `metadata.annotations`, if it is a mapping.
    pub fn annotations(&self) -> Option<&'d Node<'a>> {
        self.root
            .get_path(&["metadata", "annotations"])
            .filter(|a| a.entries().is_some())
    }

    /// The entry of annotation `key`.
    pub fn annotation(&self, key: &str) -> Option<&'d Entry<'a>> {
        self.annotations()?.entry(key)
    }

    /// The reconcile policy the object declares itself. An omitted or null value is unset.
    pub fn declared_policy(&self) -> DeclaredPolicy {
        DeclaredPolicy::from_value(
            self.annotation(RECONCILE_POLICY)
                .filter(|e| !e.value.is_null())
                .and_then(|e| e.value.as_str()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    #[test]
    fn reads_identity_and_policy() {
        let text = "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: rg\n  namespace: ns\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: Skip\n";
        let arena = crate::yaml::Arena::new();
        let stream = parse(&arena, text);
        let m = Manifest::from_root(stream.documents[0].root.as_ref().unwrap()).unwrap();
        assert!(m.is_aso());
        assert!(m.is("resources.azure.com", "ResourceGroup"));
        assert_eq!(m.aso_kind.map(|k| k.kind), Some("ResourceGroup"));
        assert_eq!(m.name_str(), Some("rg"));
        assert_eq!(m.namespace, Some("ns"));
        assert_eq!(m.declared_policy(), DeclaredPolicy::Invalid("Skip".into()));
    }

    /// Only kinds the catalog knows are ASO resources: a kind ASO never had in an ASO group, a
    /// kind spelled in another case, a group outside ASO's list are not.
    #[test]
    fn aso_resources_are_known_kinds_of_aso_groups() {
        let arena = crate::yaml::Arena::new();
        let is_aso = |api: &str, kind: &str| {
            let text = format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: x\n");
            let stream = parse(&arena, &text);
            let m = Manifest::from_root(stream.documents[0].root.as_ref().unwrap()).unwrap();
            (m.is_aso(), m.in_aso_group())
        };
        assert_eq!(
            is_aso(
                "storage.azure.com/v1api20230101",
                "StorageAccountsBlobServicesContainer"
            ),
            (true, true)
        );
        // Whatever the version: ASO013 judges versions.
        assert_eq!(
            is_aso("storage.azure.com/v1beta20190101", "StorageAccount"),
            (true, true)
        );
        assert_eq!(
            is_aso("storage.azure.com/v1api20230101", "BlobContainer"),
            (false, true)
        );
        assert_eq!(
            is_aso("resources.azure.com/v1api20200601", "resourcegroup"),
            (false, true)
        );
        assert_eq!(
            is_aso("example.azure.com/v1", "ResourceGroup"),
            (false, false)
        );
        assert_eq!(
            is_aso("azure.microsoft.com/v1alpha1", "ResourceGroup"),
            (false, false)
        );
        assert_eq!(is_aso("v1", "ResourceGroup"), (false, false));
    }

    #[test]
    fn policy_values_are_exact() {
        assert_eq!(DeclaredPolicy::from_value(Some("")), DeclaredPolicy::Unset);
        assert_eq!(
            DeclaredPolicy::from_value(Some("detach-on-delete")),
            DeclaredPolicy::Valid(Policy::DetachOnDelete)
        );
        assert!(matches!(
            DeclaredPolicy::from_value(Some("detach_on_delete")),
            DeclaredPolicy::Invalid(_)
        ));
        assert_eq!(
            ApiVersion::parse("v1"),
            ApiVersion {
                group: "",
                version: "v1"
            }
        );
    }
}
