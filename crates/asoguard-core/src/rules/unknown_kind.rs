//! ASO015 `unknown-kind`: an object of one of ASO's API groups whose kind ASO does not have
//! (`storage.azure.com` `BlobContainer`), with the kind it most likely meant.

use super::{Checks, DocumentNeeds, FileContext};
use crate::catalog::{self, CATALOG_RELEASE};
use crate::diagnostic::Diagnostic;
use crate::manifest::Manifest;
use crate::registry::Rule;
use crate::span::Span;
use crate::wording::code_list;

pub(super) const SUMMARY: &str = "A kind ASO does not have in that API group (`storage.azure.com` `BlobContainer`): the API server rejects it";

pub(super) const DOC: &str = r#"## What it does
Finds objects whose `apiVersion` names one of ASO's API groups but whose `kind` ASO does not
have in that group, according to asoguard's catalog of ASO's kinds (taken from ASO v2.20) or,
when one is given (`--crds`, `crds:`), the CRD of that kind. The finding is at the kind, with
the kind it most likely meant:

- the same name in another case (`resourcegroup`: `ResourceGroup`);
- a kind of the same group whose words hold the given words in order, singular or plural,
  ending with the same word first (`BlobContainer`: `StorageAccountsBlobServicesContainer`;
  `Subnet`: `VirtualNetworksSubnet`; `FlexibleServerDatabase`: `FlexibleServersDatabase`;
  `Queue`: `StorageAccountsQueueServicesQueue`), the shortest first; else one whose words are
  among the given ones (`KeyVault`: `Vault`);
- the same kind in another ASO group (`ResourceGroup` is in `resources.azure.com`);
- a close spelling in the same group (`StorageAcount`: `StorageAccount`).

Objects of such kinds are not ASO resources for asoguard: no other rule judges them, and no
fix or transform (`--fix`, `asoguard policy set`) annotates them.

## Why is this bad
The API server knows only the kinds whose CRDs are installed, so it rejects the object ("no
matches for kind ..."): ArgoCD or Flux fail to apply it, and Flux, which dry-runs a
Kustomization's objects together before applying any, applies nothing of that Kustomization.
Nothing reaches Azure. Such kinds are written by hand from Azure's own
resource names (a blob container, a file share, a subnet) or by tools and assistants that
guess; ASO names a child resource after its parents instead
(`StorageAccountsBlobServicesContainer`, `VirtualNetworksSubnet`).

## Example
```yaml
apiVersion: storage.azure.com/v1api20230101
kind: BlobContainer
metadata:
  name: invoices
spec:
  owner:
    name: orders-sa-blob
```

Use instead:
```yaml
apiVersion: storage.azure.com/v1api20230101
kind: StorageAccountsBlobServicesContainer
metadata:
  name: invoices
spec:
  owner:
    name: orders-sa-blob
```

## Fix
None: the right kind usually has other fields, and often another parent (a container's owner
is the storage account's blob service, `StorageAccountsBlobService`, not the account), so a
person rewrites it. A kind that your ASO release has and the catalog does not (a release newer
than the catalog's) is known once you give its CRD (`--crds`).

## Source
ASO's supported resources and CRDs (`v2/api/<group>/<version>`, the release bundle
`azureserviceoperator_customresourcedefinitions_v2.*.yaml`); Kubernetes documentation, "Custom
Resources" (an object of a kind no CRD defines is rejected); Flux kustomize-controller's
server-side apply (a failed dry-run applies nothing of the Kustomization).
"#;

/// UnknownKind's checks, for the rule registry.
pub(super) struct UnknownKind;

impl Checks for UnknownKind {
    fn check_document(
        &self,
        cx: &FileContext,
        _: usize,
        manifest: &Manifest,
        out: &mut Vec<Diagnostic>,
    ) -> DocumentNeeds {
        check(cx, manifest, out);
        DocumentNeeds::default()
    }
}

pub(super) fn check(cx: &FileContext, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    if manifest.aso_kind.is_some() || !manifest.in_aso_group() {
        return;
    }
    let (group, Some(kind)) = (manifest.group(), manifest.kind) else {
        return;
    };
    // A Flux substitution is known only when applied; a CRD given for the kind decides.
    if kind.contains("${")
        || cx
            .settings
            .crds
            .as_deref()
            .is_some_and(|store| store.get(group, kind).is_some())
    {
        return;
    }
    let span = manifest
        .root
        .get("kind")
        .map_or(Span::empty(manifest.root.span.start), |k| k.span);
    let hint = match suggest(group, kind) {
        Some(Suggestion::Same(kinds)) => format!("; did you mean {}?", either(&kinds)),
        Some(Suggestion::OtherGroup { kind, groups }) => {
            format!("; `{kind}` is in {}", both(&groups))
        }
        None => String::new(),
    };
    out.push(
        Diagnostic::new(
            Rule::UnknownKind,
            span,
            format!(
                "`{group}` has no kind `{kind}` in ASO ({CATALOG_RELEASE} catalog): the API \
                 server rejects it{hint}"
            ),
        )
        .with_help(
            "asoguard's other rules skip it, as it is no ASO resource; if the ASO release you \
             run has this kind, give its CRD with `--crds`",
        )
        .with_object(manifest),
    );
}

/// What a mistaken kind most likely meant.
#[derive(Debug, PartialEq, Eq)]
enum Suggestion {
    /// Kinds of the same group (several only when they are equally likely).
    Same(Vec<&'static str>),
    /// The other ASO groups that have this very kind (spelled `kind` there).
    OtherGroup {
        /// The kind, as ASO spells it.
        kind: &'static str,
        /// The groups that have it.
        groups: Vec<&'static str>,
    },
}

/// ASO's longest kind has 48 characters: a kind far longer than that is no typo of one, and
/// comparing it with every kind (Jaro-Winkler is quadratic) would cost a hostile file dearly.
const MAX_SUGGESTED_LEN: usize = 128;

/// The kind `kind` most likely meant in ASO group `group`, when there is a confident guess.
fn suggest(group: &str, kind: &str) -> Option<Suggestion> {
    if kind.len() > MAX_SUGGESTED_LEN {
        return None;
    }
    let candidates = || catalog::kinds_in(group).map(|k| k.kind);
    // The same name in another case.
    if let Some(same) = candidates().find(|c| c.eq_ignore_ascii_case(kind)) {
        return Some(Suggestion::Same(vec![same]));
    }
    if let Some(kinds) = by_words(kind, candidates()) {
        return Some(Suggestion::Same(kinds));
    }
    // The same kind in another ASO group.
    let elsewhere: Vec<&'static catalog::AsoKind> = catalog::all_kinds()
        .filter(|k| k.group != group && k.kind.eq_ignore_ascii_case(kind))
        .collect();
    if let Some(first) = elsewhere.first() {
        return Some(Suggestion::OtherGroup {
            kind: first.kind,
            groups: elsewhere.iter().map(|k| k.group).collect(),
        });
    }
    // A close spelling.
    let lower = kind.to_ascii_lowercase();
    candidates()
        .map(|c| (c, strsim::jaro_winkler(&lower, &c.to_ascii_lowercase())))
        .filter(|(_, score)| *score >= 0.9)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| Suggestion::Same(vec![c]))
}

/// The kinds `kind` most likely meant, by their words. ASO names a child resource after its
/// parents and ends the name with the child's own noun (`StorageAccountsBlobServicesContainer`),
/// so, in this order of confidence:
/// 1. kinds whose words hold the given words in order and end with the same word (`Queue`:
///    `StorageAccountsQueueServicesQueue`, not `StorageAccountsQueueService`);
/// 2. kinds whose words hold the given words in order (`Role`: `RoleAssignment`,
///    `RoleDefinition`);
/// 3. kinds whose words are all among the given words, in order, ending with the same word
///    (`KeyVault`: `Vault`).
///
/// Singular and plural words are alike. The first way that finds a kind decides: it gives the
/// kinds of the fewest words it finds (the most words, in the third way), shortest first, when
/// they are at most three; more is a guess, not a suggestion.
fn by_words(
    kind: &str,
    candidates: impl Iterator<Item = &'static str>,
) -> Option<Vec<&'static str>> {
    let given = words(kind);
    let last = given.last()?;
    let split: Vec<(Vec<String>, &'static str)> = candidates.map(|c| (words(c), c)).collect();
    let ends_alike = |theirs: &[String]| theirs.last().is_some_and(|w| same_word(w, last));
    let holding = |also: &dyn Fn(&[String]) -> bool| {
        split
            .iter()
            .filter(|(theirs, _)| holds_in_order(theirs, &given) && also(theirs))
            .map(|(theirs, c)| (theirs.len(), c.len(), *c))
            .collect::<Vec<_>>()
    };
    let mut found = holding(&ends_alike);
    if found.is_empty() {
        found = holding(&|_| true);
    }
    if found.is_empty() {
        found = split
            .iter()
            .filter(|(theirs, _)| holds_in_order(&given, theirs) && ends_alike(theirs))
            .map(|(theirs, c)| (usize::MAX - theirs.len(), usize::MAX - c.len(), *c))
            .collect();
    }
    // The first way that finds kinds decides: those of the fewest words (the most, in the
    // third way), shortest first.
    found.sort_unstable();
    let fewest = found.first()?.0;
    let best: Vec<&'static str> = found
        .into_iter()
        .take_while(|(n, _, _)| *n == fewest)
        .map(|(_, _, c)| c)
        .collect();
    (best.len() <= 3).then_some(best)
}

/// The words of a CamelCase name, lower case: `ServersIPV6FirewallRule` is `servers`, `ipv6`,
/// `firewall`, `rule`. Digits stay with the word before them.
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let starts = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if starts && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whether `theirs` holds every word of `given`, in order (singular or plural alike).
fn holds_in_order(theirs: &[String], given: &[String]) -> bool {
    let mut theirs = theirs.iter();
    given
        .iter()
        .all(|word| theirs.any(|their| same_word(their, word)))
}

/// Whether two lower-case words are the same but for a plural ending (`servers`, `server`;
/// `policies`, `policy`; `addresses`, `address`).
fn same_word(a: &str, b: &str) -> bool {
    fn forms(word: &str) -> [Option<String>; 4] {
        [
            Some(word.to_string()),
            word.strip_suffix('s').map(str::to_string),
            word.strip_suffix("es").map(str::to_string),
            word.strip_suffix("ies").map(|stem| format!("{stem}y")),
        ]
    }
    let (a, b) = (forms(a), forms(b));
    a.iter()
        .flatten()
        .any(|x| b.iter().flatten().any(|y| x == y))
}

/// `` `A` ``, `` one of `A`, `B` ``.
fn either(items: &[&str]) -> String {
    match items {
        [one] => format!("`{one}`"),
        _ => format!("one of {}", code_list(items)),
    }
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
fn both(items: &[&str]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("{} and `{last}`", code_list(rest))
        }
        _ => code_list(items),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(kinds: &[&'static str]) -> Option<Suggestion> {
        Some(Suggestion::Same(kinds.to_vec()))
    }

    #[test]
    fn splits_camel_case_into_words() {
        assert_eq!(words("BlobContainer"), ["blob", "container"]);
        assert_eq!(
            words("ServersIPV6FirewallRule"),
            ["servers", "ipv6", "firewall", "rule"]
        );
        assert_eq!(
            words("DnsZonesAAAARecord"),
            ["dns", "zones", "aaaa", "record"]
        );
        assert_eq!(words("resourcegroup"), ["resourcegroup"]);
        assert_eq!(words("Blob-Container"), ["blob", "container"]);
        assert!(words("").is_empty());
    }

    #[test]
    fn words_match_singular_and_plural() {
        assert!(same_word("servers", "server"));
        assert!(same_word("policy", "policies"));
        assert!(same_word("addresses", "address"));
        assert!(same_word("databases", "database"));
        assert!(!same_word("blob", "blobs2"));
        assert!(!same_word("share", "shard"));
    }

    /// The kinds met in a real repository, and the other paths of a suggestion.
    #[test]
    fn suggests_what_the_kind_meant() {
        let long = "StorageAccount".repeat(10);
        let cases: [(&str, &str, Option<Suggestion>); 15] = [
            (
                "storage.azure.com",
                "BlobContainer",
                same(&["StorageAccountsBlobServicesContainer"]),
            ),
            (
                "storage.azure.com",
                "FileShare",
                same(&["StorageAccountsFileServicesShare"]),
            ),
            (
                "network.azure.com",
                "Subnet",
                same(&["VirtualNetworksSubnet"]),
            ),
            (
                "resources.azure.com",
                "resourcegroup",
                same(&["ResourceGroup"]),
            ),
            (
                "dbforpostgresql.azure.com",
                "FlexibleServerDatabase",
                same(&["FlexibleServersDatabase"]),
            ),
            (
                "storage.azure.com",
                "ResourceGroup",
                Some(Suggestion::OtherGroup {
                    kind: "ResourceGroup",
                    groups: vec!["resources.azure.com"],
                }),
            ),
            (
                "keyvault.azure.com",
                "FlexibleServer",
                Some(Suggestion::OtherGroup {
                    kind: "FlexibleServer",
                    groups: vec!["dbformysql.azure.com", "dbforpostgresql.azure.com"],
                }),
            ),
            (
                "storage.azure.com",
                "StorageAcount",
                same(&["StorageAccount"]),
            ),
            ("storage.azure.com", "Bucket", None),
            // The kind's own noun ends its name: a queue, not the queue service.
            (
                "storage.azure.com",
                "Queue",
                same(&["StorageAccountsQueueServicesQueue"]),
            ),
            (
                "authorization.azure.com",
                "Role",
                same(&["RoleAssignment", "RoleDefinition"]),
            ),
            (
                "documentdb.azure.com",
                "Database",
                same(&["SqlDatabase", "MongodbDatabase"]),
            ),
            ("keyvault.azure.com", "KeyVault", same(&["Vault"])),
            // Far longer than any kind: not compared.
            ("storage.azure.com", &long, None),
            // Too many equally likely kinds: no guess.
            ("network.azure.com", "Record", None),
        ];
        for (group, kind, expected) in cases {
            assert_eq!(suggest(group, kind), expected, "{group} {kind}");
        }
    }

    /// Every kind of the catalog written in lower case is found again, whatever its group.
    #[test]
    fn every_kind_in_the_wrong_case_is_found() {
        for known in catalog::all_kinds() {
            let lower = known.kind.to_ascii_lowercase();
            if lower != known.kind {
                assert_eq!(
                    suggest(known.group, &lower),
                    same(&[known.kind]),
                    "{}/{lower}",
                    known.group
                );
            }
        }
    }
}
