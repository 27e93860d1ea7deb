//! `asoguard inventory` shows each resource's ArgoCD sync-options as applied, and where the
//! value is written: the resource, a patch, a kustomization's `commonAnnotations`.

use serde_json::Value;

use crate::support::Sandbox;

const RESOURCES: &str = "\
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: rg
  namespace: app
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
    argocd.argoproj.io/sync-options: Prune=false
---
apiVersion: resources.azure.com/v1api20200601
kind: ResourceGroup
metadata:
  name: plain
  namespace: app
  annotations:
    serviceoperator.azure.com/reconcile-policy: detach-on-delete
";

#[test]
fn inventory_shows_sync_options_and_where_they_are_written() {
    let sb = Sandbox::new();
    sb.write(
        "base/kustomization.yaml",
        "resources:\n  - resources.yaml\n",
    );
    sb.write("base/resources.yaml", RESOURCES);
    sb.write(
        "prod/kustomization.yaml",
        "resources:\n  - ../base\ncommonAnnotations:\n  argocd.argoproj.io/sync-options: Replace=true\n",
    );
    let (code, stdout, stderr) = sb.run(&["inventory", "--format", "json"]);
    assert_eq!(code, 0, "stderr:\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    let resources = report["resources"].as_array().expect("resources");
    let rg = resources
        .iter()
        .find(|r| r["name"] == "rg")
        .expect("rg is applied");
    assert_eq!(
        rg["syncOptions"],
        serde_json::json!({
            "value": "Replace=true",
            "source": {
                "kind": "common-annotations",
                "at": {"path": "prod/kustomization.yaml", "line": 4},
            },
        })
    );

    // Without the overlay, the resource's own value; none on the other.
    sb.write("prod/kustomization.yaml", "resources:\n  - ../base\n");
    let (_, stdout, _) = sb.run(&["inventory", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    let resources = report["resources"].as_array().expect("resources");
    let by_name = |name: &str| {
        resources
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {stdout}"))
    };
    assert_eq!(by_name("rg")["syncOptions"]["value"], "Prune=false");
    assert_eq!(by_name("rg")["syncOptions"]["source"]["kind"], "own");
    assert_eq!(by_name("plain")["syncOptions"], Value::Null);

    let (code, text, _) = sb.run(&["inventory"]);
    assert_eq!(code, 0);
    assert!(
        text.contains("ResourceGroup app/rg  detach-on-delete (own at base/resources.yaml:7)  sync-options `Prune=false` (own at base/resources.yaml:8)  base/resources.yaml:4"),
        "{text}"
    );
    assert!(
        text.contains("ResourceGroup app/plain  detach-on-delete (own at base/resources.yaml:16)  base/resources.yaml:13"),
        "{text}"
    );
}
