//! `ResourceQuota` (core/v1) and the ResourceQuota admission plugin for pods
//! (`plugin/pkg/admission/resourcequota` with `pkg/quota/v1/evaluator/core/pods.go`).
//!
//! - **Tracked resources** (the pod evaluator's `MatchingResources`): `pods`, `count/pods`,
//!   `cpu` / `memory` / `ephemeral-storage` (= requests), `requests.*` and `limits.*` of those,
//!   `requests.hugepages-*`, and `requests.<extended>` (`requests.nvidia.com/gpu`). Other keys
//!   (`services`, `count/deployments.apps`, ...) load and are not enforced.
//! - **Usage** (`PodUsageFunc`): `count/pods` counts every stored pod (finished ones too, until
//!   deleted); everything else counts only pods that `QuotaV1Pod` keeps: not Succeeded or
//!   Failed, and not terminating for longer than twice their grace period (deletionTimestamp is
//!   the deletion time plus the grace period, and the pod stops counting a grace period after
//!   that).
//! - **Constraints**: a quota on cpu or memory (requests, limits or the bare name) requires every
//!   container to state it: `failed quota: q: must specify limits.cpu for: app`.
//! - **Denial**: `exceeded quota: q, requested: requests.cpu=500m, used: requests.cpu=1500m,
//!   limited: requests.cpu=2`, listing only the exceeded resources, keys sorted.
//! - **Object counts of workloads** (the generic object-count evaluator): `count/deployments.apps`,
//!   `count/replicasets.apps`, `count/statefulsets.apps`, `count/daemonsets.apps`,
//!   `count/jobs.batch`, `count/cronjobs.batch` count the stored objects of the namespace
//!   ([`ResourceQuota::check_object`]); scoped quotas do not count objects.
//! - **Scopes**: `scopes` and `scopeSelector` with `BestEffort`, `NotBestEffort`, `Terminating`
//!   (pods with `activeDeadlineSeconds`, which the simulator does not model: matches no pod),
//!   `NotTerminating`, and `PriorityClass` (`In`, `NotIn`, `Exists`, `DoesNotExist`).

use super::limit_range::{Amounts, pod_totals};
use super::{format_amount, namespace_of};
use crate::input::error::InputError;
use crate::input::manifest::{ManifestSet, ObjectMeta};
use crate::input::yaml::{Document, parse_document};
use crate::model::pod::Pod;
use crate::model::quantity::Quantity;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// The object-count name of pods.
pub const COUNT_PODS: &str = "count/pods";

/// A quota scope.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Scope {
    /// Pods with `activeDeadlineSeconds` (none in the simulator).
    Terminating,
    /// Pods without `activeDeadlineSeconds`.
    NotTerminating,
    /// Pods of QoS class BestEffort.
    BestEffort,
    /// Pods not BestEffort.
    NotBestEffort,
    /// `scopeSelector` on the PriorityClass: operator and values.
    PriorityClass {
        /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
        operator: String,
        /// Class names.
        values: Vec<String>,
    },
}

/// A ResourceQuota.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResourceQuota {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` (`default` when unset).
    pub namespace: String,
    /// `spec.hard`, canonical units (CPU keys in millicores).
    pub hard: Amounts,
    /// `spec.scopes` and `spec.scopeSelector` (all must match).
    pub scopes: Vec<Scope>,
}

/// A ResourceQuota manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceQuotaManifest {
    /// `apiVersion`.
    #[serde(default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: ResourceQuotaSpecManifest,
}

/// `spec` of a ResourceQuota manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceQuotaSpecManifest {
    /// `hard`.
    #[serde(default)]
    pub hard: BTreeMap<String, Quantity>,
    /// `scopes`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `scopeSelector`.
    #[serde(default)]
    pub scope_selector: Option<ScopeSelectorManifest>,
}

/// `spec.scopeSelector`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeSelectorManifest {
    /// `matchExpressions`.
    #[serde(default)]
    pub match_expressions: Vec<ScopeRequirementManifest>,
}

/// One `scopeSelector.matchExpressions` item.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeRequirementManifest {
    /// `scopeName`.
    #[serde(default)]
    pub scope_name: String,
    /// `operator`.
    #[serde(default)]
    pub operator: String,
    /// `values`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// Parses a ResourceQuota document.
pub fn parse(set: &mut ManifestSet, doc: &Document<'_>, file: &str) -> Result<ResourceQuota, InputError> {
    let mut p = parse_document::<ResourceQuotaManifest>(doc, file)?;
    for f in &p.ignored {
        set.ignored.insert(format!("ResourceQuota: {f}"));
    }
    set.generate_name(&mut p.value.metadata);
    convert(&p.value).map_err(|(field, msg)| {
        InputError::at(file, doc.line_offset + 1, 1, field, format!("ResourceQuota {:?}: {msg}", p.value.metadata.name))
    })
}

fn simple_scope(name: &str) -> Option<Scope> {
    Some(match name {
        "Terminating" => Scope::Terminating,
        "NotTerminating" => Scope::NotTerminating,
        "BestEffort" => Scope::BestEffort,
        "NotBestEffort" => Scope::NotBestEffort,
        _ => return None,
    })
}

/// Converts a manifest with validation; `Err((field, message))`.
pub fn convert(m: &ResourceQuotaManifest) -> Result<ResourceQuota, (String, String)> {
    if m.metadata.name.is_empty() {
        return Err(("metadata.name".into(), "a ResourceQuota needs a name".into()));
    }
    let mut hard = Amounts::new();
    for (k, q) in &m.spec.hard {
        let v = super::canonical(k, q).map_err(|e| (format!("spec.hard[{k}]"), e))?;
        hard.insert(k.clone(), v);
    }
    let mut scopes = Vec::new();
    for (i, s) in m.spec.scopes.iter().enumerate() {
        scopes.push(simple_scope(s).ok_or_else(|| {
            (
                format!("spec.scopes[{i}]"),
                format!(
                    "unsupported scope {s:?} (supported: Terminating, NotTerminating, BestEffort, NotBestEffort; \
                     PriorityClass in scopeSelector)"
                ),
            )
        })?);
    }
    for (i, r) in m.spec.scope_selector.iter().flat_map(|s| &s.match_expressions).enumerate() {
        let f = format!("spec.scopeSelector.matchExpressions[{i}]");
        if r.scope_name == "PriorityClass" {
            match r.operator.as_str() {
                "In" | "NotIn" if r.values.is_empty() => {
                    return Err((format!("{f}.values"), "must be at least one value for In and NotIn".into()));
                }
                "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
                other => return Err((format!("{f}.operator"), format!("unsupported operator {other:?}"))),
            }
            scopes.push(Scope::PriorityClass { operator: r.operator.clone(), values: r.values.clone() });
        } else {
            let s = simple_scope(&r.scope_name)
                .ok_or_else(|| (format!("{f}.scopeName"), format!("unsupported scope {:?}", r.scope_name)))?;
            match r.operator.as_str() {
                "Exists" => scopes.push(s),
                other => {
                    return Err((
                        format!("{f}.operator"),
                        format!(
                            "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort or ResourceQuotaScopeNotBestEffort, got {other:?}"
                        ),
                    ));
                }
            }
        }
    }
    Ok(ResourceQuota { name: m.metadata.name.clone(), namespace: namespace_of(&m.metadata), hard, scopes })
}

/// What a pod contributes to quota usage, with what its scopes need.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Charge {
    /// The compute usage (`pods`, `requests.cpu`, ...; not `count/pods`).
    pub usage: Amounts,
    /// QoS class BestEffort.
    pub best_effort: bool,
    /// `spec.priorityClassName`.
    pub priority_class: Option<String>,
}

impl Charge {
    /// The charge of `pod` (`PodUsageFunc` for a live pod).
    pub fn of(pod: &Pod) -> Charge {
        Charge {
            usage: pod_usage(pod),
            best_effort: is_best_effort(pod),
            priority_class: pod.priority_class_name.clone(),
        }
    }
}

/// One pod as quota usage sees it.
#[derive(Clone, Copy, Debug)]
pub struct UsageEntry<'a> {
    /// Its charge.
    pub charge: &'a Charge,
    /// Still stored (not deleted): counts for `count/pods`.
    pub stored: bool,
    /// Counted for compute resources (`QuotaV1Pod`).
    pub counted: bool,
}

/// The pods of a namespace, for quota usage.
#[derive(Clone, Debug, Default)]
pub struct NamespaceUsage<'a> {
    /// One entry per pod.
    pub entries: Vec<UsageEntry<'a>>,
}

fn is_best_effort(pod: &Pod) -> bool {
    pod.containers
        .iter()
        .chain(&pod.init_containers)
        .all(|c| ["cpu", "memory"].iter().all(|r| c.requests.get(r).is_none() && c.limits.get(r).is_none()))
}

/// Extended resources (`IsExtendedResourceName`): a domain-qualified name outside
/// `kubernetes.io/`, not itself a quota prefix.
fn is_extended(name: &str) -> bool {
    name.contains('/') && !name.contains("kubernetes.io/") && !name.starts_with("requests.")
}

const POD_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    COUNT_PODS,
];

/// True for the quota keys the pod evaluator tracks.
pub fn tracks(key: &str) -> bool {
    POD_RESOURCES.contains(&key)
        || key.starts_with("requests.hugepages-")
        || key.strip_prefix("requests.").is_some_and(is_extended)
}

/// `podComputeUsageHelper`: the usage names and amounts of requests and limits.
fn compute_usage(requests: &Amounts, limits: &Amounts) -> Amounts {
    let mut out = Amounts::new();
    out.insert("pods".into(), 1);
    for r in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(v) = requests.get(r) {
            out.insert(r.into(), *v);
            out.insert(format!("requests.{r}"), *v);
        }
        if let Some(v) = limits.get(r) {
            out.insert(format!("limits.{r}"), *v);
        }
    }
    for (k, v) in requests {
        if k.starts_with("hugepages-") {
            out.insert(k.clone(), *v);
            out.insert(format!("requests.{k}"), *v);
        }
        if is_extended(k) {
            out.insert(format!("requests.{k}"), *v);
        }
    }
    out
}

/// The compute usage of a live pod: its effective requests (the scheduler's, with sidecars and
/// overhead) for the resources its containers name, and its summed limits.
pub fn pod_usage(pod: &Pod) -> Amounts {
    let (mut req, lim) = pod_totals(pod);
    for (k, v) in req.iter_mut() {
        *v = pod.requests.get(k).max(*v);
    }
    compute_usage(&req, &lim)
}

const VALIDATION_SET: &[&str] = &["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"];

impl ResourceQuota {
    /// True when every scope of the quota matches the pod.
    pub fn matches(&self, c: &Charge) -> bool {
        self.scopes.iter().all(|s| match s {
            Scope::Terminating => false,
            Scope::NotTerminating => true,
            Scope::BestEffort => c.best_effort,
            Scope::NotBestEffort => !c.best_effort,
            Scope::PriorityClass { operator, values } => {
                let pc = c.priority_class.as_deref().filter(|s| !s.is_empty());
                match operator.as_str() {
                    "In" => pc.is_some_and(|p| values.iter().any(|v| v == p)),
                    "NotIn" => pc.is_none_or(|p| values.iter().all(|v| v != p)),
                    "Exists" => pc.is_some(),
                    _ => pc.is_none(),
                }
            }
        })
    }

    /// `status.used` for the tracked hard keys (0 where nothing is charged).
    pub fn used(&self, usage: &NamespaceUsage<'_>) -> Amounts {
        let mut used: Amounts = self.hard.keys().filter(|k| tracks(k)).map(|k| (k.clone(), 0)).collect();
        for e in usage.entries.iter().filter(|e| self.matches(e.charge)) {
            if e.stored
                && let Some(v) = used.get_mut(COUNT_PODS)
            {
                *v += 1;
            }
            if e.counted {
                for (k, x) in &e.charge.usage {
                    if let Some(v) = used.get_mut(k) {
                        *v += x;
                    }
                }
            }
        }
        used
    }

    /// Admission of a new pod: `Err((reason, message))` with upstream's text.
    pub fn check(&self, pod: &Pod, usage: &NamespaceUsage<'_>) -> Result<(), (&'static str, String)> {
        let charge = Charge::of(pod);
        if !self.matches(&charge) {
            return Ok(());
        }
        let required: BTreeSet<&str> =
            self.hard.keys().map(String::as_str).filter(|k| tracks(k) && VALIDATION_SET.contains(k)).collect();
        if !required.is_empty() {
            let mut missing: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
            for c in pod.containers.iter().chain(&pod.init_containers) {
                let have = compute_usage(&c.requests.0, &c.limits.0);
                for r in &required {
                    if !have.contains_key(*r) {
                        missing.entry(r).or_default().insert(c.name.as_str());
                    }
                }
            }
            if !missing.is_empty() {
                let parts: Vec<String> = missing
                    .iter()
                    .map(|(r, names)| format!("{r} for: {}", names.iter().copied().collect::<Vec<_>>().join(",")))
                    .collect();
                return Err((
                    "failed quota",
                    format!("failed quota: {}: must specify {}", self.name, parts.join("; ")),
                ));
            }
        }
        let mut delta = charge.usage.clone();
        delta.insert(COUNT_PODS.into(), 1);
        delta.retain(|k, _| self.hard.contains_key(k) && tracks(k));
        if delta.is_empty() {
            return Ok(());
        }
        let used = self.used(usage);
        let exceeded: Vec<&String> = delta
            .iter()
            .filter(|(k, d)| used.get(*k).copied().unwrap_or(0) + **d > self.hard[*k])
            .map(|(k, _)| k)
            .collect();
        if exceeded.is_empty() {
            return Ok(());
        }
        let show = |f: &dyn Fn(&str) -> i64| -> String {
            exceeded.iter().map(|k| format!("{k}={}", format_amount(k, f(k)))).collect::<Vec<_>>().join(",")
        };
        Err((
            "exceeded quota",
            format!(
                "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                self.name,
                show(&|k| delta[k]),
                show(&|k| used.get(k).copied().unwrap_or(0)),
                show(&|k| self.hard[k]),
            ),
        ))
    }
}

/// The resource (`plural.group`) of a workload kind, as quota keys and messages name it.
pub fn workload_resource(kind: crate::controllers::Kind) -> &'static str {
    use crate::controllers::Kind;
    match kind {
        Kind::Deployment => "deployments.apps",
        Kind::ReplicaSet => "replicasets.apps",
        Kind::StatefulSet => "statefulsets.apps",
        Kind::DaemonSet => "daemonsets.apps",
        Kind::Job => "jobs.batch",
        Kind::CronJob => "cronjobs.batch",
    }
}

impl ResourceQuota {
    /// Admission of one more object counted by `count/<resource>`, `used` being how many the
    /// namespace stores: `Err(message)` when the count would exceed the quota.
    pub fn check_object(&self, resource: &str, used: i64) -> Result<(), String> {
        let key = format!("count/{resource}");
        match self.hard.get(&key) {
            Some(hard) if self.scopes.is_empty() && used + 1 > *hard => Err(format!(
                "exceeded quota: {}, requested: {key}=1, used: {key}={}, limited: {key}={}",
                self.name,
                format_amount(&key, used),
                format_amount(&key, *hard)
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::yaml::split_documents;
    use crate::model::pod::Container;
    use crate::model::resources::ResourceList;

    fn quota(spec: &str) -> Result<ResourceQuota, String> {
        let text =
            format!("apiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: q, namespace: team}}\nspec:\n{spec}");
        let mut set = ManifestSet::default();
        let doc = split_documents(&text).into_iter().next().expect("a document");
        parse(&mut set, &doc, "q.yaml").map_err(|e| e.to_string())
    }

    fn pod(req: &[(&str, i64)], lim: &[(&str, i64)]) -> Pod {
        let m = |v: &[(&str, i64)]| ResourceList(v.iter().map(|(k, x)| (k.to_string(), *x)).collect());
        let mut p = crate::scheduler::testing::make_pod("p", &[]);
        p.namespace = "team".into();
        p.containers = vec![Container {
            name: "app".into(),
            image: String::new(),
            requests: m(req),
            limits: m(lim),
            host_ports: vec![],
            sidecar: false,
        }];
        p.finalize();
        p
    }

    fn usage(charges: &[(Charge, bool, bool)]) -> NamespaceUsage<'_> {
        NamespaceUsage {
            entries: charges
                .iter()
                .map(|(c, stored, counted)| UsageEntry { charge: c, stored: *stored, counted: *counted })
                .collect(),
        }
    }

    #[test]
    fn a_pod_that_would_exceed_the_quota_is_denied_with_upstream_text() {
        let q = quota("  hard: {requests.cpu: '2', pods: '4'}\n").expect("valid");
        let running = Charge::of(&pod(&[("cpu", 750)], &[]));
        let live = [(running.clone(), true, true), (running.clone(), true, true)];
        assert_eq!(q.check(&pod(&[("cpu", 500)], &[]), &usage(&live)), Ok(()), "1500m + 500m fits in 2");
        let live3 = [(running.clone(), true, true), (running.clone(), true, true), (running.clone(), true, true)];
        assert_eq!(
            q.check(&pod(&[("cpu", 500)], &[]), &usage(&live3)),
            Err((
                "exceeded quota",
                "exceeded quota: q, requested: requests.cpu=500m, used: requests.cpu=2250m, limited: requests.cpu=2"
                    .into()
            ))
        );
    }

    #[test]
    fn finished_pods_free_compute_but_still_count_as_objects() {
        let q = quota("  hard: {pods: '1', count/pods: '2'}\n").expect("valid");
        let done = Charge::of(&pod(&[("cpu", 100)], &[]));
        assert_eq!(q.check(&pod(&[], &[]), &usage(&[(done.clone(), true, false)])), Ok(()));
        assert_eq!(
            q.check(&pod(&[], &[]), &usage(&[(done.clone(), true, false), (done.clone(), true, false)])),
            Err((
                "exceeded quota",
                "exceeded quota: q, requested: count/pods=1, used: count/pods=2, limited: count/pods=2".into()
            ))
        );
        assert_eq!(
            q.check(&pod(&[], &[]), &usage(&[(done.clone(), true, true)])),
            Err(("exceeded quota", "exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1".into()))
        );
        assert_eq!(q.check(&pod(&[], &[]), &usage(&[(done, false, false)])), Ok(()), "deleted pods count for nothing");
    }

    #[test]
    fn a_cpu_quota_requires_every_container_to_state_cpu() {
        let q = quota("  hard: {requests.cpu: '2', limits.cpu: '4', requests.nvidia.com/gpu: 1}\n").expect("valid");
        assert_eq!(
            q.check(&pod(&[], &[]), &usage(&[])),
            Err(("failed quota", "failed quota: q: must specify limits.cpu for: app; requests.cpu for: app".into()))
        );
        assert_eq!(
            q.check(&pod(&[("cpu", 100)], &[]), &usage(&[])),
            Err(("failed quota", "failed quota: q: must specify limits.cpu for: app".into()))
        );
        assert_eq!(q.check(&pod(&[("cpu", 100)], &[("cpu", 100)]), &usage(&[])), Ok(()));
    }

    #[test]
    fn extended_resources_are_quoted_as_requests() {
        let q = quota("  hard: {requests.nvidia.com/gpu: '2'}\n").expect("valid");
        let one = Charge::of(&pod(&[("nvidia.com/gpu", 1)], &[("nvidia.com/gpu", 1)]));
        assert_eq!(one.usage.get("requests.nvidia.com/gpu"), Some(&1));
        assert_eq!(
            q.check(&pod(&[("nvidia.com/gpu", 2)], &[("nvidia.com/gpu", 2)]), &usage(&[(one, true, true)])),
            Err((
                "exceeded quota",
                "exceeded quota: q, requested: requests.nvidia.com/gpu=2, used: requests.nvidia.com/gpu=1, limited: requests.nvidia.com/gpu=2"
                    .into()
            ))
        );
        assert_eq!(q.check(&pod(&[("cpu", 1)], &[]), &usage(&[])), Ok(()), "a pod without GPUs is not charged");
    }

    #[test]
    fn scopes_select_the_pods_a_quota_applies_to() {
        let be = quota("  hard: {pods: '0'}\n  scopes: [BestEffort]\n").expect("valid");
        assert!(be.check(&pod(&[], &[]), &usage(&[])).is_err(), "a best-effort pod is charged");
        assert_eq!(be.check(&pod(&[("cpu", 1)], &[]), &usage(&[])), Ok(()), "a burstable pod is not");
        let pc = quota(
            "  hard: {pods: '0'}\n  scopeSelector:\n    matchExpressions:\n    - {scopeName: PriorityClass, operator: In, values: [high]}\n",
        )
        .expect("valid");
        let mut high = pod(&[], &[]);
        high.priority_class_name = Some("high".into());
        assert!(pc.check(&high, &usage(&[])).is_err());
        assert_eq!(pc.check(&pod(&[], &[]), &usage(&[])), Ok(()));
        let term = quota("  hard: {pods: '0'}\n  scopes: [Terminating]\n").expect("valid");
        assert_eq!(term.check(&pod(&[], &[]), &usage(&[])), Ok(()), "no pod has activeDeadlineSeconds");
    }

    #[test]
    fn malformed_quotas_are_input_errors_naming_the_field() {
        let cases: &[(&str, &str)] = &[
            ("  hard: {pods: '-1'}\n", "spec.hard[pods]"),
            ("  scopes: [Sometimes]\n", "unsupported scope \"Sometimes\""),
            (
                "  scopeSelector:\n    matchExpressions:\n    - {scopeName: PriorityClass, operator: In}\n",
                "must be at least one value",
            ),
            (
                "  scopeSelector:\n    matchExpressions:\n    - {scopeName: BestEffort, operator: In, values: [x]}\n",
                "must be 'Exists'",
            ),
        ];
        for (spec, want) in cases {
            let err = quota(spec).expect_err(spec);
            assert!(err.contains(want), "{err} should contain {want}");
        }
    }

    #[test]
    fn workload_object_counts_are_capped_by_count_keys() {
        let q = quota("  hard: {count/jobs.batch: '2'}\n").expect("valid");
        let jobs = workload_resource(crate::controllers::Kind::Job);
        assert_eq!(q.check_object(jobs, 1), Ok(()));
        assert_eq!(
            q.check_object(jobs, 2),
            Err("exceeded quota: q, requested: count/jobs.batch=1, used: count/jobs.batch=2, limited: count/jobs.batch=2".into())
        );
        assert_eq!(q.check_object(workload_resource(crate::controllers::Kind::Deployment), 9), Ok(()));
    }

    #[test]
    fn untracked_keys_do_not_constrain_pods() {
        let q = quota("  hard: {services: '0', count/deployments.apps: '0'}\n").expect("valid");
        assert_eq!(q.check(&pod(&[], &[]), &usage(&[])), Ok(()));
        assert!(tracks("requests.hugepages-2Mi") && tracks("count/pods") && !tracks("services"));
    }
}
