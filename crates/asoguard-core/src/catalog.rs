//! ASO's API groups, kinds and served versions, critical kinds and kinds Azure cannot delete,
//! embedded from ASO v2's published data (the release [`CATALOG_RELEASE`]).

use std::collections::BTreeSet;
use std::sync::OnceLock;

const GROUP_KINDS: &str = include_str!("../data/aso-group-kinds.tsv");
const CRITICAL_KINDS: &str = include_str!("../data/critical-kinds.tsv");
const NO_AZURE_DELETE_KINDS: &str = include_str!("../data/aso-no-azure-delete-kinds.txt");

/// The API group of ASO v1, deprecated and halted.
pub const ASO_V1_GROUP: &str = "azure.microsoft.com";

/// A `group/Kind` pair, as users write them in config (`cache.azure.com/RedisEnterprise`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKind {
    /// API group, e.g. `resources.azure.com`.
    pub group: String,
    /// Kind, e.g. `ResourceGroup`.
    pub kind: String,
}

impl GroupKind {
    /// A pair from its parts.
    pub fn new(group: &str, kind: &str) -> Self {
        GroupKind {
            group: group.to_string(),
            kind: kind.to_string(),
        }
    }

    /// Parse `group/Kind`; `None` unless both parts are non-empty.
    pub fn parse(text: &str) -> Option<Self> {
        let (group, kind) = text.trim().rsplit_once('/')?;
        (!group.is_empty() && !kind.is_empty() && !kind.contains(' '))
            .then(|| Self::new(group, kind))
    }
}

impl std::fmt::Display for GroupKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.group, self.kind)
    }
}

fn tsv_rows(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
}

/// The ASO release the embedded catalog (`data/aso-group-kinds.tsv`) describes, as messages
/// name it.
///
/// Precisely, the catalog is a build of ASO's `main` branch after the v2.20.0 tag (2026-06-24),
/// the one labelled `v2.20.0-rev.118` in the real CRDs it agrees with (`shared/crds`: the
/// served versions of those five kinds are the catalog's). It has every kind and served version
/// of v2.20.0 (`cognitiveservices` `Project`, `apimanagement` `ProductGroup`, the `v...`
/// versions of `compute`, `app`, `eventgrid` and `datafactory`), and some of what v2.21.0
/// (2026-08-31) released (the `databasewatcher` group, `v...` versions of `authorization`,
/// `cache`, `cdn`, `sql` ...), but not all of it (no `entra.azure.com` `Application`, no
/// `containerregistry` `RegistryCacheRule`, no Event Grid `v20250215`), and it still serves the
/// RedisEnterprise versions v2.21.0 removed. The CRDs of the release a cluster runs (`--crds`)
/// always decide over it.
pub const CATALOG_RELEASE: &str = "v2.20";

/// A kind of ASO v2, as the catalog lists it.
#[derive(Debug)]
pub struct AsoKind {
    /// API group, e.g. `resources.azure.com`.
    pub group: &'static str,
    /// Kind, e.g. `ResourceGroup`.
    pub kind: &'static str,
    /// Every version its CRD serves, `...storage` versions included (ASO's CRDs serve every
    /// version they define; one of them is the storage version).
    versions: Box<[&'static str]>,
}

impl AsoKind {
    /// Every version the catalog's release serves, `...storage` versions included.
    pub fn versions(&self) -> &[&'static str] {
        &self.versions
    }

    /// Whether the catalog's release serves `version` of this kind.
    pub fn serves(&self, version: &str) -> bool {
        self.versions.contains(&version)
    }
}

/// One ASO group: its kinds in catalog order (sorted by name), and an index by name.
#[derive(Debug, Default)]
struct Group {
    kinds: Vec<AsoKind>,
    by_name: rustc_hash::FxHashMap<&'static str, usize>,
}

/// The catalog, built once: group → kind → served versions. Every object of every run asks it
/// whether it is an ASO resource, so a lookup is two hash probes and no allocation.
#[derive(Debug, Default)]
struct Catalog {
    groups: rustc_hash::FxHashMap<&'static str, Group>,
    /// Group names, sorted, for iteration in a stable order.
    sorted: Vec<&'static str>,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut catalog = Catalog::default();
        for row in tsv_rows(GROUP_KINDS) {
            let (Some(&group), Some(&kind)) = (row.first(), row.get(1)) else {
                continue;
            };
            let versions = row
                .get(3)
                .map(|v| v.split(',').filter(|v| !v.is_empty()).collect())
                .unwrap_or_default();
            let entry = catalog.groups.entry(group).or_default();
            if entry.by_name.contains_key(kind) {
                continue;
            }
            entry.by_name.insert(kind, entry.kinds.len());
            entry.kinds.push(AsoKind {
                group,
                kind,
                versions,
            });
        }
        catalog.sorted = catalog.groups.keys().copied().collect();
        catalog.sorted.sort_unstable();
        catalog
    })
}

fn lookup(group: &str, kind: &str) -> Option<&'static AsoKind> {
    let group = catalog().groups.get(group)?;
    group.kinds.get(*group.by_name.get(kind)?)
}

/// Whether `group` is one of ASO v2's API groups (matched against the list, not the suffix:
/// other Azure tools use `.azure.com` too).
pub fn is_aso_group(group: &str) -> bool {
    catalog().groups.contains_key(group)
}

/// The ASO kind `group`/`kind`, when the catalog knows it (names are case-sensitive, as the
/// API server matches them).
pub fn kind(group: &str, kind: &str) -> Option<&'static AsoKind> {
    lookup(group, kind)
}

/// Whether `group`/`kind` is a kind of ASO v2: its group is one of ASO's and the catalog lists
/// the kind in it. An object of any other kind is not an ASO resource, even in an ASO group
/// (ASO015 reports those).
pub fn is_aso_kind(group: &str, kind: &str) -> bool {
    lookup(group, kind).is_some()
}

/// The kinds of an ASO group, sorted by name (none for any other group).
pub fn kinds_in(group: &str) -> impl Iterator<Item = &'static AsoKind> {
    catalog()
        .groups
        .get(group)
        .map(|g| g.kinds.as_slice())
        .unwrap_or_default()
        .iter()
}

/// Every ASO kind, sorted by group, then kind.
pub fn all_kinds() -> impl Iterator<Item = &'static AsoKind> {
    let catalog = catalog();
    catalog
        .sorted
        .iter()
        .filter_map(|g| catalog.groups.get(g))
        .flat_map(|g| g.kinds.iter())
}

/// Every ASO v2 API group, sorted.
pub fn aso_groups() -> BTreeSet<&'static str> {
    catalog().sorted.iter().copied().collect()
}

/// The served versions of an ASO kind (`...storage` versions included), when the kind is known.
pub fn served_versions(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    lookup(group, kind).map(|k| &*k.versions)
}

/// The default critical kinds, with the reason each one matters.
pub fn default_critical_kinds() -> Vec<(GroupKind, &'static str)> {
    tsv_rows(CRITICAL_KINDS)
        .filter(|r| r.len() >= 2)
        .map(|r| (GroupKind::new(r[0], r[1]), r.get(2).copied().unwrap_or("")))
        .collect()
}

/// Kinds that Azure cannot delete: deleting them in Kubernetes stays stuck until
/// `detach-on-delete` is set.
pub fn no_azure_delete_kinds() -> Vec<GroupKind> {
    tsv_rows(NO_AZURE_DELETE_KINDS)
        .filter(|r| r.len() >= 2)
        .map(|r| GroupKind::new(r[0], r[1]))
        .collect()
}

/// Kinds whose Azure resource grants access: to a role, a database, a network, a key. When the
/// manifest goes, the grant should go too, so asoguard never proposes `detach-on-delete` for
/// them: a grant left behind in Azure is a security hazard.
const ACCESS_GRANTING_KINDS: [(&str, &str); 27] = [
    ("authorization.azure.com", "RoleAssignment"),
    ("managedidentity.azure.com", "FederatedIdentityCredential"),
    ("documentdb.azure.com", "SqlRoleAssignment"),
    ("documentdb.azure.com", "MongodbUserDefinition"),
    ("documentdb.azure.com", "FirewallRule"),
    ("containerservice.azure.com", "TrustedAccessRoleBinding"),
    ("cache.azure.com", "RedisAccessPolicyAssignment"),
    (
        "cache.azure.com",
        "RedisEnterpriseDatabaseAccessPolicyAssignment",
    ),
    ("cache.azure.com", "RedisFirewallRule"),
    ("dbformysql.azure.com", "FlexibleServersAdministrator"),
    ("dbformysql.azure.com", "FlexibleServersFirewallRule"),
    ("dbformysql.azure.com", "User"),
    ("dbforpostgresql.azure.com", "FlexibleServersAdministrator"),
    ("dbforpostgresql.azure.com", "FlexibleServersFirewallRule"),
    ("dbforpostgresql.azure.com", "User"),
    ("sql.azure.com", "ServersAdministrator"),
    ("sql.azure.com", "ServersFirewallRule"),
    ("sql.azure.com", "ServersIPV6FirewallRule"),
    ("sql.azure.com", "ServersVirtualNetworkRule"),
    ("sql.azure.com", "User"),
    ("eventhub.azure.com", "NamespacesAuthorizationRule"),
    ("eventhub.azure.com", "NamespacesEventhubsAuthorizationRule"),
    ("servicebus.azure.com", "NamespacesAuthorizationRule"),
    ("servicebus.azure.com", "TopicAuthorizationRule"),
    ("notificationhubs.azure.com", "NamespacesAuthorizationRule"),
    (
        "notificationhubs.azure.com",
        "NotificationHubsAuthorizationRule",
    ),
    ("network.azure.com", "NetworkSecurityGroupsSecurityRule"),
];

/// Whether `group/kind` grants access (a role assignment, a federated credential, a database
/// user or administrator, a firewall rule, a shared access rule): see
/// [`ACCESS_GRANTING_KINDS`].
pub fn grants_access(group: &str, kind: &str) -> bool {
    ACCESS_GRANTING_KINDS
        .iter()
        .any(|&(g, k)| g == group && k == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeds_47_groups_and_critical_kinds() {
        assert_eq!(aso_groups().len(), 47);
        assert!(is_aso_group("resources.azure.com"));
        assert!(!is_aso_group("example.azure.com"));
        assert!(!is_aso_group(ASO_V1_GROUP));
        let critical = default_critical_kinds();
        assert!(
            critical
                .iter()
                .any(|(gk, _)| gk == &GroupKind::new("resources.azure.com", "ResourceGroup"))
        );
        assert_eq!(no_azure_delete_kinds().len(), 22);
    }

    /// Every access-granting kind is a kind ASO has.
    #[test]
    fn access_granting_kinds_are_aso_kinds() {
        for (group, kind) in ACCESS_GRANTING_KINDS {
            assert!(
                served_versions(group, kind).is_some(),
                "{group}/{kind} is not in the catalog"
            );
        }
        assert!(grants_access("authorization.azure.com", "RoleAssignment"));
        assert!(!grants_access("resources.azure.com", "ResourceGroup"));
    }

    /// Every row of the TSV is one kind, found by group and kind, case-sensitively, with its
    /// served versions, `...storage` ones included.
    #[test]
    fn looks_kinds_and_versions_up() {
        let rows = tsv_rows(GROUP_KINDS).count();
        assert_eq!(all_kinds().count(), rows);
        assert_eq!(rows, 291);
        for known in all_kinds() {
            assert!(std::ptr::eq(
                kind(known.group, known.kind).expect("found"),
                known
            ));
            assert!(
                !known.versions().is_empty(),
                "{}/{}",
                known.group,
                known.kind
            );
        }
        let rg = kind("resources.azure.com", "ResourceGroup").expect("ResourceGroup");
        assert_eq!(rg.versions(), ["v1api20200601", "v1api20200601storage"]);
        assert!(rg.serves("v1api20200601storage"));
        assert!(!rg.serves("v1beta20200601"));
        assert!(!rg.serves(""));
        assert!(is_aso_kind(
            "storage.azure.com",
            "StorageAccountsBlobServicesContainer"
        ));
        assert!(!is_aso_kind("storage.azure.com", "BlobContainer"));
        assert!(!is_aso_kind("resources.azure.com", "resourcegroup"));
        assert!(!is_aso_kind("example.azure.com", "ResourceGroup"));
        assert_eq!(
            served_versions("network.azure.com", "VirtualNetworksSubnet").map(<[_]>::len),
            Some(6)
        );
        assert_eq!(served_versions("network.azure.com", "Subnet"), None);
        // Kinds of a group in name order; groups in name order.
        let names: Vec<&str> = kinds_in("storage.azure.com").map(|k| k.kind).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert_eq!(names.first(), Some(&"StorageAccount"));
        assert_eq!(kinds_in("example.azure.com").count(), 0);
        let groups: Vec<&str> = all_kinds().map(|k| k.group).collect();
        assert!(groups.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn parses_group_kind() {
        assert_eq!(
            GroupKind::parse("cache.azure.com/Redis"),
            Some(GroupKind::new("cache.azure.com", "Redis"))
        );
        assert_eq!(GroupKind::parse("Redis"), None);
        assert_eq!(GroupKind::parse("/Redis"), None);
    }
}
