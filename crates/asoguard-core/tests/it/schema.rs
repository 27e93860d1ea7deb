//! Schema validation against the real CRDs in `shared/crds` (ASO v2.20: ResourceGroup,
//! StorageAccount, Vault, PostgreSQL FlexibleServer, ManagedCluster) and ASO's own samples in
//! `shared/corpus/aso-samples`:
//!
//! - every sample of those five kinds is schema-checked, and none gives ASO012 or ASO013 (no
//!   false positives on ASO's own examples);
//! - copies of samples with one mistake each (a misspelled key, a number as a string, a
//!   missing required field, an unserved version) give exactly that finding, at the line and
//!   column worked out by hand below;
//! - Flux `${VAR}` placeholders in place of enums, patterns and booleans give none.
//!
//! `shared/` lies beside the repository. When it is missing the tests print why and pass,
//! unless `CI=true`, where they fail.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use asoguard_core::config::{Config, Settings, normalize};
use asoguard_core::discover::Target;
use asoguard_core::engine::{Input, RunReport};
use asoguard_core::manifest::Manifest;
use asoguard_core::schema::CrdStore;
use asoguard_core::{RunOptions, Severity, check_inputs, check_paths, yaml};

/// `../shared/<relative>` from the repository root, or `None` (with the reason printed).
fn shared(relative: &str) -> Option<PathBuf> {
    let path = normalize(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared")
            .join(relative),
    );
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and {} is missing", path.display());
    }
    eprintln!(
        "skipped: {} is missing; set CI=true to make this fail",
        path.display()
    );
    None
}

fn settings(crds: &Path) -> Settings {
    let mut settings = Settings::resolve(Config::default(), PathBuf::from("/"), None).unwrap();
    settings.crds = Some(Arc::new(
        CrdStore::load(&[crds.to_path_buf()]).expect("the shared CRDs load"),
    ));
    settings
}

/// (code, line, column, message) of every finding of the schema rules.
fn schema_findings(report: &RunReport) -> Vec<(String, usize, usize, String)> {
    report
        .diagnostics()
        .filter(|(_, d)| matches!(d.rule.code(), "ASO012" | "ASO013"))
        .map(|(file, d)| {
            let at = file.source.line_col(d.span.start);
            (
                d.rule.code().to_string(),
                at.line,
                at.column,
                d.message.clone(),
            )
        })
        .collect()
}

const FIVE_KINDS: [(&str, &str); 5] = [
    ("resources.azure.com", "ResourceGroup"),
    ("storage.azure.com", "StorageAccount"),
    ("keyvault.azure.com", "Vault"),
    ("dbforpostgresql.azure.com", "FlexibleServer"),
    ("containerservice.azure.com", "ManagedCluster"),
];

/// How many objects of the five kinds the samples hold, counted without the engine.
fn count_five_kinds(dir: &Path) -> usize {
    let mut count = 0;
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.unwrap();
        if !asoguard_core::discover::is_yaml_name(entry.path()) || !entry.file_type().is_file() {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let arena = yaml::Arena::new();
        let stream = yaml::parse(&arena, &text);
        for document in &stream.documents {
            if let Some(m) = document.root.as_ref().and_then(Manifest::from_root) {
                if FIVE_KINDS.iter().any(|(g, k)| m.is(g, k)) {
                    count += 1;
                }
            }
        }
    }
    count
}

#[test]
fn aso_samples_of_the_five_kinds_have_no_schema_finding() {
    let (Some(crds), Some(samples)) = (shared("crds"), shared("corpus/aso-samples")) else {
        return;
    };
    let report = check_paths(
        std::slice::from_ref(&samples),
        &settings(&crds),
        RunOptions::default(),
    );
    // Objects of the five kinds are judged by their CRDs; the others' versions by the catalog
    // (`aso_samples_against_the_catalog`).
    let found: Vec<_> = report
        .diagnostics()
        .filter(|(_, d)| matches!(d.rule.code(), "ASO012" | "ASO013"))
        .filter(|(_, d)| {
            let object = d.object.as_ref();
            let api = object.and_then(|o| o.api_version.as_deref()).unwrap_or("");
            let kind = object.and_then(|o| o.kind.as_deref()).unwrap_or("");
            FIVE_KINDS
                .iter()
                .any(|(g, k)| api.starts_with(&format!("{g}/")) && kind == *k)
        })
        .map(|(file, d)| (file.path.clone(), d.message.clone()))
        .collect();
    assert!(
        found.is_empty(),
        "false positives on ASO's samples: {found:#?}"
    );
    let coverage = report.schema.expect("CRDs were given");
    let expected = count_five_kinds(&samples);
    assert!(
        expected >= 50,
        "the samples hold {expected} objects of the five kinds"
    );
    assert_eq!(
        coverage.checked, expected,
        "every object of the five kinds is checked"
    );
    assert!(coverage.unchecked > 900, "{coverage:?}");
}

/// Check one sample, with `from` replaced by `to` (each must occur once), as if it were the
/// only file of the run.
fn mutate(sample: &str, edits: &[(&str, &str)]) -> Option<Vec<(String, usize, usize, String)>> {
    let crds = shared("crds")?;
    let path = shared(&format!("corpus/aso-samples/{sample}"))?;
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` occurs once in {sample}"
        );
        text = text.replacen(from, to, 1);
    }
    let input = Input {
        target: Target::new(sample, path.clone()),
        text: Ok(text),
    };
    let report = check_inputs(vec![input], &settings(&crds), RunOptions::default());
    Some(schema_findings(&report))
}

const FLEXIBLE_SERVER: &str = "dbforpostgresql/v1api20221201/v1api20221201_flexibleserver.yaml";
const STORAGE_ACCOUNT: &str = "storage/v1api20230101/v1api20230101_storageaccount.yaml";
const RESOURCE_GROUP: &str = "resources/v1api/v1api20200601_resourcegroup.yaml";
const VAULT: &str = "keyvault/v1api20230701/v1api20230701_vault.yaml";

#[test]
fn a_misspelled_key_is_found_at_the_key() {
    // Line 14 is `  administratorLogin: myAdmin`; the key starts in column 3.
    let Some(found) = mutate(
        FLEXIBLE_SERVER,
        &[("administratorLogin:", "administratorLogn:")],
    ) else {
        return;
    };
    assert_eq!(
        found,
        [(
            "ASO012".into(),
            14,
            3,
            "`spec.administratorLogn` is not a field of FlexibleServer (v1api20221201); did you mean `administratorLogin`?".into()
        )]
    );
}

#[test]
fn a_number_as_a_string_is_found_at_the_value() {
    // Line 19 is `    storageSizeGB: "128"`: 4 spaces, `storageSizeGB: ` (15), then the value.
    let Some(found) = mutate(
        FLEXIBLE_SERVER,
        &[("storageSizeGB: 128", "storageSizeGB: \"128\"")],
    ) else {
        return;
    };
    assert_eq!(
        found,
        [(
            "ASO012".into(),
            19,
            20,
            "`spec.storage.storageSizeGB` must be an integer, not a string".into()
        )]
    );
}

#[test]
fn a_missing_required_field_is_found_at_its_parent_key() {
    // Without `owner` (lines 10-11), StorageAccount's required `spec.owner` is missing; the
    // finding is at `spec:`, line 6, column 1.
    let Some(found) = mutate(
        STORAGE_ACCOUNT,
        &[("  owner:\n    name: aso-sample-rg\n", "")],
    ) else {
        return;
    };
    assert_eq!(
        found,
        [(
            "ASO012".into(),
            6,
            1,
            "`spec.owner` is missing: StorageAccount (v1api20230101) requires it".into()
        )]
    );
}

#[test]
fn an_unserved_version_is_found_at_the_version() {
    // `apiVersion: resources.azure.com/` is 32 characters: the version starts in column 33.
    let Some(found) = mutate(RESOURCE_GROUP, &[("/v1api20200601", "/v1beta20200601")]) else {
        return;
    };
    assert_eq!(
        found,
        [(
            "ASO013".into(),
            1,
            33,
            "version `v1beta20200601` of ResourceGroup is not served by its CRD; did you mean \
             `v1api20200601`?"
                .into()
        )]
    );
}

#[test]
fn placeholders_stand_in_for_enums_patterns_and_numbers() {
    let Some(found) = mutate(
        VAULT,
        &[
            ("createMode: createOrRecover", "createMode: ${CREATE_MODE}"),
            ("family: A", "family: ${SKU_FAMILY:=A}"),
            (
                "tenantId: \"00000000-0000-0000-0000-000000000000\"",
                "tenantId: ${TENANT_ID}",
            ),
        ],
    ) else {
        return;
    };
    assert!(found.is_empty(), "{found:#?}");
    // The same values without placeholders are errors: the test above proves something.
    let Some(found) = mutate(
        VAULT,
        &[
            ("createMode: createOrRecover", "createMode: CREATE_MODE"),
            ("family: A", "family: SKU_FAMILY"),
        ],
    ) else {
        return;
    };
    assert_eq!(found.len(), 2, "{found:#?}");
}

/// Without CRDs, asoguard's catalog judges kinds and versions: ASO's own samples use no kind it
/// lacks (ASO015), and the only versions it does not serve (ASO013) are Event Grid's
/// `v20250215`, which came with ASO v2.21, after the catalog's release: warnings, since a
/// version newer than the catalog may well be served by the ASO a team runs.
#[test]
fn aso_samples_against_the_catalog() {
    let Some(samples) = shared("corpus/aso-samples") else {
        return;
    };
    let settings = Settings::resolve(Config::default(), samples.clone(), None).unwrap();
    let report = check_paths(
        std::slice::from_ref(&samples),
        &settings,
        RunOptions::default(),
    );
    let mut found: Vec<(String, Severity, String)> = report
        .diagnostics()
        .filter(|(_, d)| matches!(d.rule.code(), "ASO013" | "ASO015"))
        .map(|(file, d)| {
            let path = file.path.strip_prefix(&samples).unwrap_or(&file.path);
            (path.display().to_string(), d.severity, d.message.clone())
        })
        .collect();
    found.sort();
    // Newer than every version the catalog knows: a warning that says how to check it.
    let expected: Vec<(String, Severity, String)> = [
        "domain",
        "domainstopic",
        "eventsubscription",
        "topic",
    ]
    .into_iter()
    .zip(["Domain", "DomainsTopic", "EventSubscription", "Topic"])
    .map(|(file, kind)| {
        (
            format!("eventgrid/v20250215/v20250215_{file}.yaml"),
            Severity::Warning,
            format!(
                "version `v20250215` of {kind} is newer than ASO v2.20 (asoguard's catalog): \
                     if the ASO you run serves it, give its CRDs with `--crds`"
            ),
        )
    })
    .collect();
    assert_eq!(found, expected);
}

/// The catalog serves what the v2.20 CRDs of the five kinds serve, `...storage` versions
/// included (every version of an ASO CRD is served).
#[test]
fn the_catalog_serves_what_the_crds_serve() {
    let Some(crds) = shared("crds") else {
        return;
    };
    let store = CrdStore::load(&[crds]).expect("the shared CRDs load");
    assert_eq!(store.crds().len(), FIVE_KINDS.len());
    for crd in store.crds() {
        let mut from_crd = crd.served_versions();
        from_crd.sort_unstable();
        let mut from_catalog = asoguard_core::catalog::served_versions(&crd.group, &crd.kind)
            .expect("the catalog knows the kind")
            .to_vec();
        from_catalog.sort_unstable();
        assert_eq!(from_catalog, from_crd, "{}/{}", crd.group, crd.kind);
        assert!(from_crd.iter().any(|v| v.ends_with("storage")));
    }
}

#[test]
fn compiling_the_five_crds_loads_every_served_version() {
    let Some(crds) = shared("crds") else {
        return;
    };
    let store = CrdStore::load(&[crds]).unwrap();
    assert_eq!(store.len(), 5);
    let mut compiled = 0;
    for crd in store.crds() {
        for version in crd.served_versions() {
            crd.schema(version)
                .expect("served")
                .unwrap_or_else(|e| panic!("{} {version}: {e}", crd.kind));
            compiled += 1;
        }
    }
    assert_eq!(compiled, 38, "the five CRDs serve 38 versions");
}
