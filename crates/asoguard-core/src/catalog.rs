//! ASO's API groups and kinds, critical kinds and kinds Azure cannot delete, embedded from
//! ASO v2's published data.

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

/// Whether `group` is one of ASO v2's API groups (matched against the list, not the suffix:
/// other Azure tools use `.azure.com` too).
pub fn is_aso_group(group: &str) -> bool {
    static GROUPS: OnceLock<rustc_hash::FxHashSet<&'static str>> = OnceLock::new();
    GROUPS
        .get_or_init(|| tsv_rows(GROUP_KINDS).map(|r| r[0]).collect())
        .contains(group)
}

/// Every ASO v2 API group, sorted.
pub fn aso_groups() -> BTreeSet<&'static str> {
    tsv_rows(GROUP_KINDS).map(|r| r[0]).collect()
}

/// The served versions of an ASO kind, when the kind is known.
pub fn served_versions(group: &str, kind: &str) -> Option<Vec<&'static str>> {
    tsv_rows(GROUP_KINDS)
        .find(|r| r[0] == group && r.get(1) == Some(&kind))
        .and_then(|r| r.get(3).map(|v| v.split(',').collect()))
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
