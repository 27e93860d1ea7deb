//! `policy set`: set, replace or remove the reconcile-policy annotation on the ASO resources
//! under some paths, in bulk, optionally only on some kinds, critical kinds, or unset ones.

use std::path::PathBuf;

use crate::catalog::{self, GroupKind};
use crate::config::{Role, Settings, absolute};
use crate::discover;
use crate::index::OriginKind;
use crate::manifest::{DeclaredPolicy, Manifest, Policy};
use crate::yaml;

use super::rewrite::{self, Status, Step};
use super::{FileChange, Plan, TransformError, kustomize, label};

/// The value `policy set` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyValue {
    /// Set the annotation to this policy.
    Set(Policy),
    /// Remove the annotation (ASO's default, `manage`, or the Namespace's policy applies).
    Unset,
}

impl PolicyValue {
    /// Parse `manage`, `skip`, `detach-on-delete` or `unset`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "unset" => Some(PolicyValue::Unset),
            other => Policy::parse(other).map(PolicyValue::Set),
        }
    }

    /// The value as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyValue::Set(policy) => policy.as_str(),
            PolicyValue::Unset => "unset",
        }
    }

    /// The annotation value to write, `None` to remove it.
    fn annotation(self) -> Option<&'static str> {
        match self {
            PolicyValue::Set(policy) => Some(policy.as_str()),
            PolicyValue::Unset => None,
        }
    }
}

/// What `policy set` changes, and where.
#[derive(Clone, Debug)]
pub struct PolicyOptions {
    /// The value to write.
    pub value: PolicyValue,
    /// Files or directories (walked for `.yaml`/`.yml`, as `check` does).
    pub paths: Vec<PathBuf>,
    /// Only these kinds (any of them); empty for every ASO kind.
    pub kinds: Vec<GroupKind>,
    /// Only critical kinds (the defaults, changed by `critical-kinds` in the config).
    pub critical_only: bool,
    /// Only resources that declare no policy of their own.
    pub only_unset: bool,
    /// Also change resources that carry `skip` (their own, or their Namespace's). Without it a
    /// bulk change to `manage`, `detach-on-delete` or `unset` leaves every `skip` as it is: a
    /// `skip` often marks a resource another tool owns (Terraform, the portal) that ASO only
    /// reads, so that ASO-managed children can name it as their owner, and taking it away makes
    /// ASO write to that resource. A `--kind` that matches one resource, or a path that names
    /// one file, is still bulk: the selection names no resource, so what it matches depends on
    /// the tree of the day.
    pub include_skip: bool,
    /// Allow changes that `check` will report: `skip` in an active cluster (ASO001), `skip`
    /// taken out of a passive one (ASO005), or any other new ASO001/ASO005/ASO006 finding.
    /// Without it such changes are refused (or, for a passive cluster's `skip`, left out even
    /// with `include_skip`).
    pub force: bool,
}

/// Plan `policy set`: every ASO resource under the paths that the filters select gets the
/// value (or loses the annotation for `unset`), except that a `skip` is kept unless
/// [`PolicyOptions::include_skip`] (a note counts and names what was kept, and why). Files that
/// are SOPS-encrypted or Helm templates are never edited (a note says so); any other file that
/// cannot be read or parsed stops the plan.
pub fn plan(options: &PolicyOptions, settings: &Settings) -> Result<Plan, TransformError> {
    let (targets, problems) = discover::discover(&options.paths, settings, false);
    if let Some(problem) = problems.first() {
        return Err(TransformError::at(&problem.path, &problem.message));
    }
    let mut plan = Plan {
        scope: options.paths.iter().map(|p| absolute(p)).collect(),
        ..Plan::default()
    };
    for kind in &options.kinds {
        if !catalog::is_aso_kind(&kind.group, &kind.kind) {
            plan.notes.push(format!(
                "--kind {kind}: not one of ASO's kinds, so it matches nothing"
            ));
        }
    }
    let want = options.value.annotation();
    let skip = Some(Policy::Skip.as_str());
    // Only a change away from `skip` needs to know where a resource inherits it from.
    let index = (want != skip && !options.include_skip).then(|| super::repository_index(settings));
    let mut kept_passive = 0;
    let mut kept_skip: Vec<String> = Vec::new();
    for file in rewrite::load(targets, settings)? {
        let path = &file.target.display;
        if file.status != Status::Yaml {
            if file.text.contains(".azure.com/") {
                plan.notes.push(format!(
                    "{}: {}; not changed",
                    path.display(),
                    match file.status {
                        Status::Sops => "SOPS-encrypted (an edit would break its MAC)",
                        _ => "a Helm or Go template",
                    }
                ));
            }
            continue;
        }
        let cluster = settings.cluster_of(&file.target.fs_path);
        let role = cluster.map_or(Role::Active, |c| c.role);
        let place = match cluster {
            Some(c) => format!(
                "{} cluster `{}`",
                super::config_edit::role_str(role),
                c.name
            ),
            None => "an active cluster (no cluster in .asoguard.yaml covers it)".into(),
        };
        let arena = yaml::Arena::new();
        let stream = yaml::parse(&arena, &file.text);
        let file_id = index
            .as_ref()
            .and_then(|index| Some((index, index.file_id(&file.target.fs_path)?)));
        let mut decisions: Vec<bool> = Vec::new();
        for (doc, document) in stream.documents.iter().enumerate() {
            let manifest = document.root.as_ref().and_then(Manifest::from_root);
            let Some(manifest) = manifest else {
                decisions.push(false);
                continue;
            };
            if kustomize::is_kustomization(path) {
                if let Some(common) = rewrite::common_policy(manifest.root) {
                    if Some(common) != want {
                        plan.notes.push(format!(
                            "{}: commonAnnotations sets reconcile-policy `{common}` on every resource it renders, overriding the resources' own annotation",
                            path.display()
                        ));
                    }
                }
            }
            let selected = manifest.is_aso()
                && manifest.kind.is_some_and(|kind| {
                    (options.kinds.is_empty()
                        || options
                            .kinds
                            .contains(&GroupKind::new(manifest.group(), kind)))
                        && (!options.critical_only || settings.is_critical(manifest.group(), kind))
                })
                && (!options.only_unset || manifest.declared_policy() == DeclaredPolicy::Unset);
            let current = rewrite::policy_raw(&manifest);
            let has_entry = manifest
                .annotation(crate::manifest::RECONCILE_POLICY)
                .is_some();
            let changes = selected
                && match want {
                    Some(value) => current != Some(value),
                    None => has_entry,
                };
            let mut changes = changes;
            // A `skip` the change would take away: the resource's own, or its Namespace's when
            // it sets none (an own value overrides the Namespace's).
            let inherited_skip = current.is_none()
                && file_id.is_some_and(|(index, id)| {
                    index.instances_of(id, doc).any(|instance| {
                        matches!(
                            index.effective(instance),
                            (Policy::Skip, Some(origin))
                                if matches!(origin.kind, OriginKind::Namespace | OriginKind::ArgoNamespace)
                        )
                    })
                });
            if changes && want != skip && (current == skip || inherited_skip) {
                if role == Role::Passive && !options.force {
                    // A standby keeps its `skip`: leave it, so a bulk change over the whole
                    // repository protects the active clusters without waking the passive one.
                    changes = false;
                    kept_passive += 1;
                } else if !options.include_skip {
                    changes = false;
                    kept_skip.push(format!(
                        "{}: {}{}",
                        path.display(),
                        label(&manifest),
                        if inherited_skip {
                            " (`skip` from its Namespace)"
                        } else {
                            ""
                        }
                    ));
                }
            }
            if changes && !options.force && want == skip && role == Role::Active {
                plan.conflict(
                    path,
                    format!(
                        "{} is in {place}: `skip` there stops ASO from managing it (ASO001); move it with `asoguard migrate` or `asoguard failover`, mark the cluster passive, or pass --force",
                        label(&manifest)
                    ),
                );
            }
            decisions.push(changes);
        }
        match rewrite::rewrite(&file.text, |index, text, root| {
            if decisions.get(index).copied().unwrap_or(false) {
                rewrite::policy_step(text, root, want)
            } else {
                Step::Done
            }
        }) {
            Ok((after, actions)) => plan.push_change(FileChange {
                path: path.to_path_buf(),
                before: Some(file.text.clone()),
                after,
                actions,
                source: None,
            }),
            Err(message) => plan.conflict(path, message),
        }
    }
    if !options.force {
        super::verify::verify(&mut plan, settings, None);
    }
    if !kept_skip.is_empty() {
        let n = kept_skip.len();
        plan.notes.push(format!(
            "{} {} `skip`, left as {}: a bulk change never takes `skip` away, since it often marks a resource another tool owns (Terraform, the portal) that ASO only reads so that managed children can name it as owner, and removing it makes ASO write to that resource; pass --include-skip to change {} too:",
            super::count(n, "ASO resource"),
            if n == 1 { "keeps" } else { "keep" },
            if n == 1 { "it is" } else { "they are" },
            if n == 1 { "it" } else { "them" },
        ));
        plan.notes
            .extend(kept_skip.into_iter().map(|k| format!("  {k}")));
    }
    if kept_passive > 0 {
        plan.notes.push(format!(
            "{} in passive clusters left with `skip` (removing it there is ASO005); promote a cluster with `asoguard failover`, or pass {}",
            super::count(kept_passive, "ASO resource"),
            if options.include_skip {
                "--force"
            } else {
                "--include-skip --force"
            }
        ));
    }
    Ok(plan.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, parse_config};
    use std::fs;

    const RG: &str = "apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: rg # the group\nspec:\n  location: westeurope\n";
    const ST: &str = "---\napiVersion: storage.azure.com/v1api20230101\nkind: StorageAccount\nmetadata:\n  name: st\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: manage\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n";

    fn tree() -> (tempfile::TempDir, Settings) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        fs::write(root.join("rg.yaml"), RG).unwrap();
        fs::write(root.join("st.yaml"), ST).unwrap();
        let settings = Settings::resolve(Config::default(), root, None).unwrap();
        (dir, settings)
    }

    fn options(value: &str, root: &std::path::Path) -> PolicyOptions {
        PolicyOptions {
            value: PolicyValue::parse(value).unwrap(),
            paths: vec![root.to_path_buf()],
            kinds: vec![],
            critical_only: false,
            only_unset: false,
            include_skip: false,
            force: false,
        }
    }

    #[test]
    fn sets_on_aso_resources_only_with_filters() {
        let (_dir, settings) = tree();
        let mut opts = options("detach-on-delete", &settings.root);
        let plan = plan(&opts, &settings).unwrap();
        assert_eq!(plan.changes.len(), 2);
        assert_eq!(
            plan.changes[0].after,
            RG.replace(
                "  name: rg # the group\n",
                "  name: rg # the group\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: detach-on-delete\n"
            )
        );
        assert_eq!(
            plan.changes[1].after,
            ST.replace(": manage", ": detach-on-delete")
        );
        assert_eq!(
            plan.changes[1].actions,
            vec!["StorageAccount `st`: reconcile-policy detach-on-delete (was manage)"]
        );
        opts.only_unset = true;
        assert_eq!(super::plan(&opts, &settings).unwrap().changes.len(), 1);
        opts.only_unset = false;
        opts.kinds = vec![GroupKind::new("storage.azure.com", "StorageAccount")];
        let plan = super::plan(&opts, &settings).unwrap();
        assert_eq!(plan.changes.len(), 1);
        assert!(plan.changes[0].path.ends_with("st.yaml"));
    }

    #[test]
    fn unset_removes_and_skip_in_active_is_refused() {
        let (_dir, settings) = tree();
        let plan = plan(&options("unset", &settings.root), &settings).unwrap();
        assert_eq!(plan.changes.len(), 1);
        assert!(!plan.changes[0].after.contains("annotations"));
        let refused = super::plan(&options("skip", &settings.root), &settings).unwrap();
        assert_eq!(refused.conflicts.len(), 2, "{:?}", refused.conflicts);
        let mut forced = options("skip", &settings.root);
        forced.force = true;
        assert!(
            super::plan(&forced, &settings)
                .unwrap()
                .conflicts
                .is_empty()
        );
    }

    #[test]
    fn a_file_that_does_not_parse_stops_the_plan() {
        let (_dir, settings) = tree();
        fs::write(settings.root.join("bad.yaml"), "a: [\n").unwrap();
        let error = plan(&options("skip", &settings.root), &settings).unwrap_err();
        assert!(error.path.unwrap().ends_with("bad.yaml"));
        assert!(error.message.contains("invalid YAML"), "{}", error.message);
    }

    #[test]
    fn passive_skip_is_kept_with_a_note_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        fs::create_dir(root.join("dr")).unwrap();
        fs::write(
            root.join("dr/rg.yaml"),
            RG.replace(
                "spec:",
                "  annotations: {serviceoperator.azure.com/reconcile-policy: skip}\nspec:",
            ),
        )
        .unwrap();
        let config = parse_config(
            "clusters: {dr: {paths: [\"dr/**\"], role: passive}}\n",
            &root.join(".asoguard.yaml"),
        )
        .unwrap();
        let settings = Settings::resolve(config, root.clone(), None).unwrap();
        let mut opts = options("detach-on-delete", &root);
        let kept = plan(&opts, &settings).unwrap();
        assert!(kept.conflicts.is_empty() && kept.changes.is_empty());
        assert!(
            kept.notes[0].contains("1 ASO resource in passive clusters left with `skip`"),
            "{:?}",
            kept.notes
        );
        // --force alone still keeps it: taking `skip` away is asked for with --include-skip.
        opts.force = true;
        let forced = plan(&opts, &settings).unwrap();
        assert!(forced.changes.is_empty(), "{:?}", forced.changes);
        assert!(forced.notes[0].contains("1 ASO resource keeps `skip`"));
        opts.include_skip = true;
        assert_eq!(plan(&opts, &settings).unwrap().changes.len(), 1);
        opts.force = false;
        let kept = plan(&opts, &settings).unwrap();
        assert!(kept.changes.is_empty());
        assert!(
            kept.notes[0].ends_with("or pass --force"),
            "{:?}",
            kept.notes
        );
    }

    #[test]
    fn bulk_changes_keep_skip_in_active_clusters_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let skip = "  annotations: {serviceoperator.azure.com/reconcile-policy: skip}\nspec:";
        // A reference `skip` (Terraform's identity), one by kind, one from its Namespace.
        fs::write(root.join("rg.yaml"), RG.replace("spec:", skip)).unwrap();
        fs::write(root.join("st.yaml"), ST).unwrap();
        fs::write(
            root.join("ns.yaml"),
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ref\n  annotations:\n    serviceoperator.azure.com/reconcile-policy: skip\n---\napiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: inherited\n  namespace: ref\n",
        )
        .unwrap();
        fs::create_dir(root.join(".git")).unwrap();
        let mut settings = Settings::resolve(Config::default(), root.clone(), None).unwrap();
        settings.repository = true;
        let mut opts = options("manage", &root);
        let kept = plan(&opts, &settings).unwrap();
        assert_eq!(kept.changes.len(), 0, "{:?}", kept.changes);
        assert_eq!(
            kept.notes[0].split(':').next(),
            Some("2 ASO resources keep `skip`, left as they are"),
            "{:?}",
            kept.notes
        );
        assert_eq!(
            kept.notes[1..],
            [
                format!(
                    "  {}: ResourceGroup `inherited` (`skip` from its Namespace)",
                    root.join("ns.yaml").display()
                ),
                format!("  {}: ResourceGroup `rg`", root.join("rg.yaml").display())
            ]
        );
        // A --kind that matches the one resource is still bulk.
        opts.kinds = vec![GroupKind::new("resources.azure.com", "ResourceGroup")];
        let kept = plan(&opts, &settings).unwrap();
        assert!(kept.changes.is_empty() && kept.notes[0].starts_with("2 ASO resources keep"));
        opts.include_skip = true;
        let plan = plan(&opts, &settings).unwrap();
        assert_eq!(plan.changes.len(), 2, "{:?}", plan.notes);
        assert!(plan.notes.is_empty(), "{:?}", plan.notes);
    }
}
