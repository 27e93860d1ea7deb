//! A deterministic generator of realistic GitOps trees, shared by the `gen-corpus` example and
//! the benchmarks: Deployments, Services, ConfigMaps, Secrets, Ingresses, Namespaces,
//! Kustomizations, ArgoCD Applications, Flux Kustomizations and ASO resources of many groups,
//! in multi-document files with comments, quoting styles and the odd CRLF file.
//!
//! In the mixed corpus about one document in five is relevant to asoguard's rules (ASO, ArgoCD,
//! Flux, Kustomize, Namespace); `all_aso` makes every document an ASO resource. Output depends
//! only on the seed and the size asked for: no clock, no network.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::PathBuf;

const GROUP_KINDS: &str = include_str!("../../data/aso-group-kinds.tsv");
const CRITICAL_KINDS: &str = include_str!("../../data/critical-kinds.tsv");

/// A small, seeded PRNG (SplitMix64): deterministic across platforms and runs.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One element of a slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// Stop once this many bytes are written.
    pub bytes: usize,
    /// Every document an ASO resource.
    pub all_aso: bool,
    /// The seed.
    pub seed: u64,
}

/// One generated file: its path relative to the tree's root, and its text.
pub struct File {
    /// Relative path.
    pub path: PathBuf,
    /// Text.
    pub text: String,
    /// Documents in it.
    pub documents: usize,
    /// Documents relevant to asoguard's rules.
    pub relevant: usize,
}

struct Catalog {
    kinds: Vec<(&'static str, &'static str, &'static str)>,
    critical: Vec<(&'static str, &'static str)>,
}

impl Catalog {
    fn load() -> Self {
        let rows = |text: &'static str| {
            text.lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .map(|l| l.split('\t').collect::<Vec<_>>())
                .collect::<Vec<_>>()
        };
        let kinds = rows(GROUP_KINDS)
            .into_iter()
            .map(|r| {
                let version = r
                    .get(3)
                    .and_then(|v| v.split(',').find(|v| !v.ends_with("storage")))
                    .unwrap_or("v1");
                (r[0], r[1], version)
            })
            .collect();
        let critical = rows(CRITICAL_KINDS)
            .into_iter()
            .filter(|r| r.len() >= 2)
            .map(|r| (r[0], r[1]))
            .collect();
        Catalog { kinds, critical }
    }

    fn version_of(&self, group: &str, kind: &str) -> &'static str {
        self.kinds
            .iter()
            .find(|(g, k, _)| *g == group && *k == kind)
            .map_or("v1api20200601", |(_, _, v)| v)
    }
}

const APPS: &[&str] = &[
    "orders",
    "payments",
    "catalog",
    "search",
    "frontend",
    "gateway",
    "billing",
    "ledger",
    "inventory",
    "shipping",
    "auth",
    "profile",
    "reports",
    "notifier",
    "scheduler",
    "ingest",
];
const CLUSTERS: &[&str] = &["prod-westeurope", "prod-northeurope", "staging", "dev"];
const LOCATIONS: &[&str] = &["westeurope", "northeurope", "eastus2", "uksouth"];
/// Reconcile policies as a well-kept repository has them: mostly `detach-on-delete`, now and
/// then a hazard (`skip` in an active cluster, a mistyped value, an explicit `manage`).
const POLICIES: &[&str] = &[
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "detach-on-delete",
    "skip",
    "manage",
    "Skip",
    "Detach-On-Delete",
];

/// Generate files until `options.bytes` are written.
pub fn generate(options: &Options) -> Vec<File> {
    let catalog = Catalog::load();
    let mut rng = Rng::new(options.seed);
    let mut files = Vec::new();
    let mut total = 0;
    let mut n = 0usize;
    while total < options.bytes {
        let cluster = CLUSTERS[n % CLUSTERS.len()];
        let app = APPS[(n / CLUSTERS.len()) % APPS.len()];
        let batch = n / (CLUSTERS.len() * APPS.len());
        let mut g = Gen {
            rng: &mut rng,
            catalog: &catalog,
            cluster,
            app,
            batch,
        };
        let produced = if options.all_aso {
            g.aso_only_files()
        } else {
            g.mixed_files()
        };
        for file in produced {
            total += file.text.len();
            files.push(file);
        }
        n += 1;
    }
    files
}

struct Gen<'r> {
    rng: &'r mut Rng,
    catalog: &'r Catalog,
    cluster: &'static str,
    app: &'static str,
    batch: usize,
}

/// A file under construction: documents joined by `---`.
struct Doc {
    out: String,
    documents: usize,
    relevant: usize,
}

impl Doc {
    fn new() -> Self {
        Doc {
            out: String::new(),
            documents: 0,
            relevant: 0,
        }
    }

    fn push(&mut self, text: &str, relevant: bool) {
        if self.documents > 0 {
            self.out.push_str("---\n");
        }
        self.out.push_str(text);
        self.documents += 1;
        self.relevant += usize::from(relevant);
    }

    fn finish(self, path: String, crlf: bool) -> File {
        let text = if crlf {
            self.out.replace('\n', "\r\n")
        } else {
            self.out
        };
        File {
            path: PathBuf::from(path),
            text,
            documents: self.documents,
            relevant: self.relevant,
        }
    }
}

impl Gen<'_> {
    fn ns(&self) -> String {
        format!(
            "{}-{}",
            self.app,
            self.cluster.split('-').next().unwrap_or("x")
        )
    }

    fn dir(&self) -> String {
        format!(
            "clusters/{}/apps/{}/b{:04}",
            self.cluster, self.app, self.batch
        )
    }

    /// One batch of the mixed tree: about one relevant document in five.
    fn mixed_files(&mut self) -> Vec<File> {
        let dir = self.dir();
        let mut files = Vec::new();
        // The workload: Deployment, Service, ConfigMap, HPA in one file; more in others.
        let mut workload = Doc::new();
        workload.push(&self.deployment(), false);
        workload.push(&self.service(), false);
        workload.push(&self.configmap(), false);
        if self.rng.chance(50) {
            workload.push(&self.hpa(), false);
        }
        files.push(workload.finish(format!("{dir}/workload.yaml"), self.rng.chance(5)));
        let mut extra = Doc::new();
        extra.push(&self.ingress(), false);
        extra.push(&self.service_account(), false);
        extra.push(&self.secret(), false);
        extra.push(&self.configmap(), false);
        extra.push(&self.network_policy(), false);
        files.push(extra.finish(format!("{dir}/extra.yaml"), false));
        let mut more = Doc::new();
        more.push(&self.pdb(), false);
        more.push(&self.deployment(), false);
        more.push(&self.service(), false);
        more.push(&self.role(), false);
        files.push(more.finish(format!("{dir}/sidecars.yml"), false));
        // Relevant: ASO resources for the app, a Namespace, a Kustomization, and now and
        // then an ArgoCD Application or a Flux Kustomization.
        let mut infra = Doc::new();
        infra.push(&self.aso_resource(), true);
        files.push(infra.finish(format!("{dir}/azure.yaml"), self.rng.chance(5)));
        let mut monitoring = Doc::new();
        monitoring.push(&self.prometheus_rule(), false);
        monitoring.push(&self.configmap(), false);
        monitoring.push(&self.service(), false);
        files.push(monitoring.finish(format!("{dir}/monitoring.yaml"), false));
        let mut ns = Doc::new();
        ns.push(&self.namespace(), true);
        files.push(ns.finish(format!("{dir}/namespace.yaml"), false));
        let mut k = Doc::new();
        k.push(&self.kustomization(), true);
        files.push(k.finish(format!("{dir}/kustomization.yaml"), false));
        let mut deploy = Doc::new();
        if self.rng.chance(50) {
            deploy.push(&self.argo_application(), true);
        } else {
            deploy.push(&self.flux_kustomization(), true);
        }
        deploy.push(&self.configmap(), false);
        files.push(deploy.finish(format!("{dir}/deploy.yaml"), false));
        files
    }

    /// One batch of the all-ASO tree.
    fn aso_only_files(&mut self) -> Vec<File> {
        let dir = self.dir();
        let mut files = Vec::new();
        for i in 0..4 {
            let mut doc = Doc::new();
            for _ in 0..1 + self.rng.below(5) {
                doc.push(&self.aso_resource(), true);
            }
            files.push(doc.finish(format!("{dir}/azure-{i}.yaml"), self.rng.chance(5)));
        }
        files
    }

    fn header_comment(&mut self, out: &mut String) {
        if self.rng.chance(30) {
            let _ = writeln!(
                out,
                "# Managed by platform team; owner: team-{}. Do not edit by hand.",
                self.app
            );
        }
    }

    fn labels(&mut self, out: &mut String, indent: &str) {
        let _ = writeln!(out, "{indent}labels:");
        let _ = writeln!(out, "{indent}  app.kubernetes.io/name: {}", self.app);
        let _ = writeln!(out, "{indent}  app.kubernetes.io/part-of: shop");
        let _ = writeln!(out, "{indent}  app.kubernetes.io/managed-by: kustomize");
        if self.rng.chance(40) {
            let _ = writeln!(out, "{indent}  environment: \"{}\"", self.cluster);
        }
    }

    fn deployment(&mut self) -> String {
        let mut out = String::new();
        self.header_comment(&mut out);
        let replicas = 1 + self.rng.below(6);
        let port = 8000 + self.rng.below(100);
        let _ = write!(
            out,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n  namespace: {ns}\n",
            app = self.app,
            ns = self.ns()
        );
        self.labels(&mut out, "  ");
        let _ = write!(
            out,
            r#"spec:
  replicas: {replicas} # tuned for peak load
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: '{port}'
    spec:
      serviceAccountName: {app}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
      containers:
        - name: {app}
          image: "registry.example.com/shop/{app}:1.{minor}.{patch}"
          imagePullPolicy: IfNotPresent
          args: ["--port={port}", "--log-level=info", "--metrics"]
          ports:
            - name: http
              containerPort: {port}
              protocol: TCP
          env:
            - name: LOG_FORMAT
              value: json
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: {app}-db
                  key: url
            - name: GREETING
              value: 'Hello, "world"'
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits:
              cpu: "1"
              memory: 512Mi
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 5
            periodSeconds: 10
          livenessProbe:
            httpGet: {{path: /livez, port: http}}
            failureThreshold: 3
          volumeMounts:
            - name: config
              mountPath: /etc/{app}
              readOnly: true
      volumes:
        - name: config
          configMap:
            name: {app}-config
"#,
            app = self.app,
            minor = self.rng.below(40),
            patch = self.rng.below(10),
        );
        out
    }

    fn service(&mut self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\n  namespace: {ns}\n",
            app = self.app,
            ns = self.ns()
        );
        self.labels(&mut out, "  ");
        let _ = write!(
            out,
            "spec:\n  type: ClusterIP\n  selector:\n    app.kubernetes.io/name: {app}\n  ports:\n    - name: http\n      port: 80\n      targetPort: http\n",
            app = self.app
        );
        out
    }

    fn configmap(&mut self) -> String {
        let mut out = String::new();
        self.header_comment(&mut out);
        let _ = write!(
            out,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config\n  namespace: {ns}\ndata:\n  LOG_LEVEL: info\n  FEATURE_FLAGS: \"checkout,recommendations\"\n  HOST_PATTERN: \"^[a-z]+\\\\.shop\\\\.example\\\\.com$\"\n",
            app = self.app,
            ns = self.ns()
        );
        // A block scalar holding a document marker look-alike and a nested YAML file.
        let _ = write!(
            out,
            "  app.yaml: |\n    server:\n      port: 8080\n      # comment inside a block scalar\n    ---\n    cache:\n      ttl: {}s\n  motd: >-\n    Welcome to {}.\n    Folded text continues here.\n",
            30 + self.rng.below(600),
            self.app
        );
        out
    }

    fn hpa(&mut self) -> String {
        format!(
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {app}\n  minReplicas: 2\n  maxReplicas: {max}\n  metrics:\n    - type: Resource\n      resource:\n        name: cpu\n        target: {{type: Utilization, averageUtilization: 70}}\n",
            app = self.app,
            ns = self.ns(),
            max = 4 + self.rng.below(20)
        )
    }

    fn ingress(&mut self) -> String {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {app}\n  namespace: {ns}\n  annotations:\n    cert-manager.io/cluster-issuer: letsencrypt\n    nginx.ingress.kubernetes.io/proxy-body-size: \"8m\"\nspec:\n  ingressClassName: nginx\n  tls:\n    - hosts: [\"{app}.shop.example.com\"]\n      secretName: {app}-tls\n  rules:\n    - host: {app}.shop.example.com\n      http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend:\n              service:\n                name: {app}\n                port: {{name: http}}\n",
            app = self.app,
            ns = self.ns()
        )
    }

    fn service_account(&mut self) -> String {
        format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {app}\n  namespace: {ns}\n  annotations:\n    azure.workload.identity/client-id: \"{id:08x}-0000-4000-8000-000000000000\"\n",
            app = self.app,
            ns = self.ns(),
            id = self.rng.next_u64() as u32
        )
    }

    fn secret(&mut self) -> String {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {app}-db\n  namespace: {ns}\ntype: Opaque\nstringData:\n  url: \"postgres://{app}@db:5432/{app}?sslmode=require\"\n  token: '{tok:016x}'\n",
            app = self.app,
            ns = self.ns(),
            tok = self.rng.next_u64()
        )
    }

    fn network_policy(&mut self) -> String {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {app}-default-deny\n  namespace: {ns}\nspec:\n  podSelector: {{}}\n  policyTypes: [Ingress, Egress]\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels: {{kubernetes.io/metadata.name: ingress-nginx}}\n",
            app = self.app,
            ns = self.ns()
        )
    }

    fn prometheus_rule(&mut self) -> String {
        format!(
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  groups:\n    - name: {app}.rules\n      rules:\n        - alert: {app}HighErrorRate\n          expr: 'sum(rate(http_requests_total{{job=\"{app}\",code=~\"5..\"}}[5m])) > {t}'\n          for: 10m\n          labels: {{severity: page}}\n          annotations:\n            summary: \"{app} is failing\"\n",
            app = self.app,
            ns = self.ns(),
            t = 1 + self.rng.below(20)
        )
    }

    fn pdb(&mut self) -> String {
        format!(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {app}\n",
            app = self.app,
            ns = self.ns()
        )
    }

    fn role(&mut self) -> String {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {app}-reader\n  namespace: {ns}\nrules:\n  - apiGroups: [\"\"]\n    resources: [\"configmaps\", \"secrets\"]\n    verbs: [\"get\", \"list\", \"watch\"]\n",
            app = self.app,
            ns = self.ns()
        )
    }

    fn aso_resource(&mut self) -> String {
        // Critical kinds one time in three, any other ASO kind otherwise.
        let (group, kind) = if self.rng.chance(33) {
            *self.rng.pick(&self.catalog.critical)
        } else {
            let (g, k, _) = *self.rng.pick(&self.catalog.kinds);
            (g, k)
        };
        let version = self.catalog.version_of(group, kind);
        let mut out = String::new();
        self.header_comment(&mut out);
        let name = format!(
            "{}-{}-{}",
            self.app,
            kind.to_ascii_lowercase(),
            self.rng.below(1000)
        );
        let quote = self.rng.chance(20);
        let _ = write!(
            out,
            "apiVersion: {group}/{version}\nkind: {kind}\nmetadata:\n  name: {q}{name}{q}\n  namespace: {ns}\n",
            q = if quote { "\"" } else { "" },
            ns = self.ns()
        );
        match self.rng.below(20) {
            0..=16 => {
                let policy = *self.rng.pick(POLICIES);
                if self.rng.chance(15) {
                    let _ = writeln!(
                        out,
                        "  annotations: {{serviceoperator.azure.com/reconcile-policy: {policy}}}"
                    );
                } else {
                    let _ = write!(
                        out,
                        "  annotations:\n    serviceoperator.azure.com/reconcile-policy: {policy} # see runbook\n"
                    );
                }
            }
            17 => {
                let _ = write!(
                    out,
                    "  annotations:\n    serviceoperator.azure.com/credential-from: aso-credential\n"
                );
            }
            _ => {}
        }
        let _ = write!(
            out,
            "spec:\n  location: {loc}\n  owner:\n    name: {app}-rg\n  azureName: \"{app}{n:04}\"\n  tags:\n    team: {app}\n    cost-center: \"{cc}\"\n",
            loc = self.rng.pick(LOCATIONS),
            app = self.app,
            n = self.rng.below(10000),
            cc = 1000 + self.rng.below(9000)
        );
        if self.rng.chance(50) {
            let _ = write!(
                out,
                "  operatorSpec:\n    secrets:\n      primaryKey: {{name: {app}-keys, key: primary}}\n",
                app = self.app
            );
        }
        out
    }

    fn namespace(&mut self) -> String {
        let mut out = format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}-b{}\n",
            self.ns(),
            self.batch
        );
        if self.rng.chance(30) {
            let _ = write!(
                out,
                "  annotations:\n    serviceoperator.azure.com/reconcile-policy: detach-on-delete\n"
            );
        }
        self.labels(&mut out, "  ");
        out
    }

    fn kustomization(&mut self) -> String {
        let mut out = String::from(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - namespace.yaml\n  - workload.yaml\n  - extra.yaml\n  - sidecars.yml\n  - azure.yaml\n",
        );
        if self.rng.chance(30) {
            out.push_str(
                "commonAnnotations:\n  serviceoperator.azure.com/reconcile-policy: detach-on-delete\n",
            );
        }
        let _ = write!(
            out,
            "commonLabels:\n  app.kubernetes.io/part-of: shop\nimages:\n  - name: registry.example.com/shop/{app}\n    newTag: \"1.{}.0\"\n",
            self.rng.below(40),
            app = self.app
        );
        out
    }

    fn argo_application(&mut self) -> String {
        let mut out = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {app}-{cluster}-b{batch}\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://git.example.com/platform/gitops.git\n    targetRevision: main\n    path: {dir}\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: {ns}\n  syncPolicy:\n    automated: {{prune: true, selfHeal: true}}\n    syncOptions:\n      - CreateNamespace=true\n",
            app = self.app,
            cluster = self.cluster,
            batch = self.batch,
            dir = self.dir(),
            ns = self.ns()
        );
        if self.rng.chance(10) {
            out.push_str("      - Replace=true\n");
        }
        out
    }

    fn flux_kustomization(&mut self) -> String {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {app}-b{batch}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./{dir}\n  prune: {prune}\n  sourceRef:\n    kind: GitRepository\n    name: gitops\n  postBuild:\n    substitute:\n      cluster_name: \"${{CLUSTER_NAME}}\"\n",
            app = self.app,
            batch = self.batch,
            dir = self.dir(),
            prune = self.rng.chance(70)
        )
    }
}
