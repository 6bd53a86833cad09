//! PodDisruptionBudget (policy/v1): the disruption controller's status arithmetic
//! (`pkg/controller/disruption/disruption.go`), the eviction API's decision
//! (`pkg/registry/core/pod/storage/eviction.go`) and the preemption helper
//! `filterPodsWithPDBViolation` (`pkg/scheduler/framework/preemption`).
//!
//! Status (`getExpectedPodCount` + `countHealthyPods` + `updatePdbStatus`):
//! - `maxUnavailable` (int or percent): `expectedPods` = Σ scale of the pods' controllers,
//!   `desiredHealthy = max(0, expected − scaled(maxUnavailable, expected, roundUp))`;
//! - `minAvailable` int: `desiredHealthy = minAvailable`, `expectedPods` = number of pods;
//! - `minAvailable` percent: `expectedPods` = Σ scale, `desiredHealthy = scaled(minAvailable,
//!   expected, roundUp)`;
//! - `currentHealthy` = matching pods that are Ready and not being deleted;
//! - `disruptionsAllowed = currentHealthy − desiredHealthy`, 0 when negative or when
//!   `expectedPods ≤ 0`.
//!
//! **Simplifications (documented):** the status is computed on demand from the current cluster
//! state (upstream's controller lags by its sync, which `DisruptedPods` papers over; here an
//! evicted pod is Terminating at once and so no longer healthy); a controller whose scale cannot be
//! found makes the budget fail safe (no disruption allowed), as upstream's sync error does;
//! `unhealthyPodEvictionPolicy` is the default `IfHealthyBudget`.

use crate::cluster::{ClusterState, PodId, PodPhase, PodState};
use crate::model::pod::OwnerRef;
use crate::model::selector::LabelSelector;
use serde::{Deserialize, Serialize};

/// An `IntOrString` of a budget: an absolute count or a percentage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntOrPercent {
    /// An absolute number of pods.
    Int(i64),
    /// A percentage (`"25%"`).
    Percent(i64),
}

impl IntOrPercent {
    /// Parses `3` or `"25%"` (a string without `%` is an error, as upstream).
    pub fn parse(v: &serde_json::Value) -> Result<Self, String> {
        match v {
            serde_json::Value::Number(n) => n
                .as_i64()
                .filter(|x| *x >= 0)
                .map(IntOrPercent::Int)
                .ok_or_else(|| format!("expected a non-negative integer, got {n}")),
            serde_json::Value::String(s) => s
                .strip_suffix('%')
                .and_then(|p| p.parse::<i64>().ok())
                .filter(|x| *x >= 0)
                .map(IntOrPercent::Percent)
                .ok_or_else(|| format!("expected an integer or a percentage like \"25%\", got {s:?}")),
            other => Err(format!("expected an integer or a percentage, got {other}")),
        }
    }

    /// `intstr.GetScaledValueFromIntOrPercent(v, total, roundUp)`.
    pub fn scaled(self, total: i64, round_up: bool) -> i64 {
        match self {
            IntOrPercent::Int(i) => i,
            IntOrPercent::Percent(p) => {
                let num = p * total;
                if round_up { (num + 99).div_euclid(100) } else { num.div_euclid(100) }
            }
        }
    }
}

/// A PodDisruptionBudget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pdb {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `spec.selector` (`None` matches nothing; `{}` matches every pod of the namespace).
    pub selector: Option<LabelSelector>,
    /// `spec.minAvailable`.
    pub min_available: Option<IntOrPercent>,
    /// `spec.maxUnavailable`.
    pub max_unavailable: Option<IntOrPercent>,
}

impl Pdb {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Whether the budget covers `pod` (same namespace, selector matches).
    pub fn covers(&self, p: &crate::model::pod::Pod) -> bool {
        p.namespace == self.namespace && self.selector.as_ref().is_some_and(|s| s.matches(&p.labels))
    }
}

/// `status` of a budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PdbStatus {
    /// `expectedPods`.
    pub expected_pods: i64,
    /// `currentHealthy`.
    pub current_healthy: i64,
    /// `desiredHealthy`.
    pub desired_healthy: i64,
    /// `disruptionsAllowed`.
    pub disruptions_allowed: i64,
}

/// `spec` of a PodDisruptionBudget manifest.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PdbSpecManifest {
    /// `minAvailable` (integer or percent string).
    #[serde(default)]
    pub min_available: Option<serde_json::Value>,
    /// `maxUnavailable` (integer or percent string).
    #[serde(default)]
    pub max_unavailable: Option<serde_json::Value>,
    /// `selector`.
    #[serde(default)]
    pub selector: Option<LabelSelector>,
    /// `unhealthyPodEvictionPolicy` (`IfHealthyBudget`, the default, or `AlwaysAllow`).
    #[serde(default)]
    pub unhealthy_pod_eviction_policy: Option<String>,
}

/// A PodDisruptionBudget manifest (policy/v1).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PdbManifest {
    /// `apiVersion`.
    #[serde(default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: crate::input::manifest::ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: PdbSpecManifest,
}

/// Converts and validates a manifest (as the API server: not both `minAvailable` and
/// `maxUnavailable`; a valid selector).
pub fn pdb_from_manifest(m: &PdbManifest) -> Result<Pdb, String> {
    if m.metadata.name.is_empty() {
        return Err("metadata.name is required".into());
    }
    let parse = |v: &Option<serde_json::Value>, f: &str| -> Result<Option<IntOrPercent>, String> {
        v.as_ref().map(|x| IntOrPercent::parse(x).map_err(|e| format!("spec.{f}: {e}"))).transpose()
    };
    let min_available = parse(&m.spec.min_available, "minAvailable")?;
    let max_unavailable = parse(&m.spec.max_unavailable, "maxUnavailable")?;
    if min_available.is_some() && max_unavailable.is_some() {
        return Err("spec: minAvailable and maxUnavailable cannot both be set".into());
    }
    if let Some(s) = &m.spec.selector {
        s.validate().map_err(|e| format!("spec.selector: {e}"))?;
    }
    match m.spec.unhealthy_pod_eviction_policy.as_deref() {
        None | Some("IfHealthyBudget") => {}
        Some(other) => {
            return Err(format!(
                "spec.unhealthyPodEvictionPolicy {other:?} is not supported (only IfHealthyBudget, the default)"
            ));
        }
    }
    Ok(Pdb {
        name: m.metadata.name.clone(),
        namespace: m.metadata.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into()),
        selector: m.spec.selector.clone(),
        min_available,
        max_unavailable,
    })
}

/// Whether a pod counts as healthy for budgets: Ready and not being deleted.
pub fn is_healthy(p: &PodState) -> bool {
    p.phase == PodPhase::Running && !p.terminating && p.ready_since.is_some()
}

/// The status of `pdb` given its (live) pods and a lookup of each controller's desired scale.
/// Returns the fail-safe status (nothing allowed) when a needed scale is unknown.
pub fn compute_status<'a>(
    pdb: &Pdb,
    pods: impl Iterator<Item = &'a PodState> + Clone,
    scale: &dyn Fn(&OwnerRef) -> Option<i64>,
) -> PdbStatus {
    let expected_scale = || -> Option<i64> {
        let mut owners: Vec<&OwnerRef> = pods.clone().filter_map(|p| p.pod.owner.as_ref()).collect();
        owners.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
        owners.dedup();
        owners.into_iter().map(scale).sum()
    };
    let (expected, desired) = match (pdb.max_unavailable, pdb.min_available) {
        (Some(mu), _) => {
            let Some(e) = expected_scale() else { return PdbStatus::default() };
            (e, (e - mu.scaled(e, true)).max(0))
        }
        (None, Some(IntOrPercent::Int(m))) => (pods.clone().count() as i64, m),
        (None, Some(ma @ IntOrPercent::Percent(_))) => {
            let Some(e) = expected_scale() else { return PdbStatus::default() };
            (e, ma.scaled(e, true))
        }
        (None, None) => (0, 0),
    };
    let healthy = pods.filter(|p| is_healthy(p)).count() as i64;
    let mut allowed = healthy - desired;
    if expected <= 0 || allowed <= 0 {
        allowed = 0;
    }
    PdbStatus {
        expected_pods: expected,
        current_healthy: healthy,
        desired_healthy: desired,
        disruptions_allowed: allowed,
    }
}

/// Default scale lookup: a controller's desired scale is the number of its live pods (used until
/// workload controllers provide the real `spec.replicas`).
pub fn live_pod_scale(cluster: &ClusterState, owner: &OwnerRef) -> Option<i64> {
    Some(cluster.pods().filter(|p| !p.phase.is_terminal() && p.pod.owner.as_ref() == Some(owner)).count() as i64)
}

/// The desired scale of the controller `uid` as upstream's `getExpectedScale` finds it: a
/// ReplicaSet owned by a Deployment counts the Deployment's replicas; Deployments, ReplicaSets and
/// StatefulSets their `spec.replicas`; other kinds (Job, DaemonSet) have no scale (`None`).
pub fn workload_scale(store: &crate::controllers::WorkloadStore, uid: u64) -> Option<i64> {
    use crate::controllers::Workload as W;
    match store.by_uid(uid)? {
        W::ReplicaSet(rs) => match &rs.meta.owner {
            Some(o) if o.kind == crate::controllers::Kind::Deployment => workload_scale(store, o.uid),
            _ => Some(i64::from(rs.spec.replicas)),
        },
        W::Deployment(d) => Some(i64::from(d.spec.replicas)),
        W::StatefulSet(s) => Some(i64::from(s.spec.replicas)),
        _ => None,
    }
}

/// Live pods covered by `pdb`.
pub fn covered_pods<'a>(cluster: &'a ClusterState, pdb: &'a Pdb) -> impl Iterator<Item = &'a PodState> + Clone {
    cluster.pods().filter(move |p| !p.phase.is_terminal() && pdb.covers(&p.pod))
}

/// Recomputes every budget's status in `cluster` with `scale`.
pub fn refresh(cluster: &mut ClusterState, scale: &dyn Fn(&ClusterState, &OwnerRef) -> Option<i64>) {
    let statuses: Vec<PdbStatus> = cluster
        .pdbs()
        .iter()
        .map(|(pdb, _)| compute_status(pdb, covered_pods(cluster, pdb), &|o| scale(cluster, o)))
        .collect();
    for (i, s) in statuses.into_iter().enumerate() {
        cluster.set_pdb_status(i, s);
    }
}

/// Why the eviction API refused an eviction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvictionRefusal {
    /// 429: the budget allows no disruption now (retry later).
    TooManyRequests(String),
    /// 500: more than one budget covers the pod.
    MultipleBudgets(String),
}

impl std::fmt::Display for EvictionRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvictionRefusal::TooManyRequests(p) => {
                write!(f, "Cannot evict pod as it would violate the pod's disruption budget {p}")
            }
            EvictionRefusal::MultipleBudgets(p) => {
                write!(
                    f,
                    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support ({p})"
                )
            }
        }
    }
}

/// The eviction API's decision for `pod` (statuses in `cluster` must be fresh): `Ok` means
/// delete it. Pods that are terminal, Pending or already being deleted ignore budgets; an
/// unready pod may go when its budget is healthy (`IfHealthyBudget`).
pub fn eviction_allowed(cluster: &ClusterState, pod: PodId) -> Result<(), EvictionRefusal> {
    let p = cluster.pod(pod);
    if p.phase.is_terminal() || p.phase == PodPhase::Pending || p.terminating {
        return Ok(());
    }
    let matching: Vec<&(Pdb, PdbStatus)> = cluster.pdbs().iter().filter(|(b, _)| b.covers(&p.pod)).collect();
    match matching.as_slice() {
        [] => Ok(()),
        [(b, s)] => {
            if p.ready_since.is_none() && s.current_healthy >= s.desired_healthy && s.desired_healthy > 0 {
                return Ok(());
            }
            if s.disruptions_allowed <= 0 {
                return Err(EvictionRefusal::TooManyRequests(b.key()));
            }
            Ok(())
        }
        many => Err(EvictionRefusal::MultipleBudgets(many.iter().map(|(b, _)| b.key()).collect::<Vec<_>>().join(", "))),
    }
}

/// `filterPodsWithPDBViolation`: splits `pods` (in order) into those whose eviction would take a
/// covering budget below zero allowed disruptions (decrementing as it goes) and the others.
/// As upstream, a budget with an empty selector covers nothing here.
pub fn filter_pods_with_pdb_violation(cluster: &ClusterState, pods: &[PodId]) -> (Vec<PodId>, Vec<PodId>) {
    let mut allowed: Vec<i64> = cluster.pdbs().iter().map(|(_, s)| s.disruptions_allowed).collect();
    let (mut violating, mut non_violating) = (Vec::new(), Vec::new());
    for id in pods {
        let p = &cluster.pod(*id).pod;
        let mut violates = false;
        for (i, (b, _)) in cluster.pdbs().iter().enumerate() {
            if b.namespace != p.namespace || b.selector.as_ref().is_none_or(|s| s.is_empty()) || !b.covers(p) {
                continue;
            }
            allowed[i] -= 1;
            if allowed[i] < 0 {
                violates = true;
            }
        }
        if violates { violating.push(*id) } else { non_violating.push(*id) }
    }
    (violating, non_violating)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::SimTime;
    use crate::model::selector::Labels;
    use crate::scheduler::testing::make_pod;

    fn pod_state(name: &str, owner: Option<&str>, ready: bool, terminating: bool) -> PodState {
        let mut pod = make_pod(name, &[]);
        pod.labels = Labels::from([("app".to_string(), "web".to_string())]);
        pod.owner = owner.map(|o| OwnerRef { kind: "ReplicaSet".into(), name: o.into(), uid: 0 });
        let mut c = ClusterState::new();
        let id = c.add_pod(pod, SimTime::ZERO).unwrap();
        let mut s = c.pod(id).clone();
        s.phase = PodPhase::Running;
        s.ready_since = ready.then_some(SimTime::ZERO);
        s.terminating = terminating;
        s
    }

    fn pdb(min: Option<IntOrPercent>, max: Option<IntOrPercent>) -> Pdb {
        Pdb {
            name: "b".into(),
            namespace: "default".into(),
            selector: Some(LabelSelector {
                match_labels: Labels::from([("app".to_string(), "web".to_string())]),
                ..Default::default()
            }),
            min_available: min,
            max_unavailable: max,
        }
    }

    #[test]
    fn percentages_scale_rounding_up_as_upstream() {
        let cases = [
            (IntOrPercent::Percent(25), 10, true, 3),
            (IntOrPercent::Percent(25), 10, false, 2),
            (IntOrPercent::Percent(50), 5, true, 3),
            (IntOrPercent::Percent(0), 7, true, 0),
            (IntOrPercent::Int(4), 10, true, 4),
        ];
        for (v, total, up, want) in cases {
            assert_eq!(v.scaled(total, up), want, "{v:?} of {total}");
        }
    }

    #[test]
    fn intorpercent_parses_integers_and_percent_strings() {
        assert_eq!(IntOrPercent::parse(&serde_json::json!(2)), Ok(IntOrPercent::Int(2)));
        assert_eq!(IntOrPercent::parse(&serde_json::json!("30%")), Ok(IntOrPercent::Percent(30)));
        assert!(IntOrPercent::parse(&serde_json::json!("30")).is_err());
        assert!(IntOrPercent::parse(&serde_json::json!(-1)).is_err());
    }

    #[test]
    fn budget_status_table() {
        // 4 pods of one ReplicaSet with scale 5: 3 ready, 1 not ready.
        let pods: Vec<PodState> = vec![
            pod_state("a", Some("rs"), true, false),
            pod_state("b", Some("rs"), true, false),
            pod_state("c", Some("rs"), true, false),
            pod_state("d", Some("rs"), false, false),
        ];
        let scale = |_: &OwnerRef| Some(5);
        let cases = [
            // minAvailable 2: expected = #pods, desired 2, healthy 3 → 1 allowed.
            (Some(IntOrPercent::Int(2)), None, (4, 3, 2, 1)),
            // minAvailable 50% of 5 → ceil 2.5 = 3 → 0 allowed.
            (Some(IntOrPercent::Percent(50)), None, (5, 3, 3, 0)),
            // maxUnavailable 1 → desired 4 → negative → 0.
            (None, Some(IntOrPercent::Int(1)), (5, 3, 4, 0)),
            // maxUnavailable 50% → ceil 2.5 = 3 → desired 2 → 1 allowed.
            (None, Some(IntOrPercent::Percent(50)), (5, 3, 2, 1)),
            // maxUnavailable 100% → desired 0 → 3 allowed.
            (None, Some(IntOrPercent::Percent(100)), (5, 3, 0, 3)),
        ];
        for (min, max, (e, h, d, a)) in cases {
            let s = compute_status(&pdb(min, max), pods.iter(), &scale);
            assert_eq!(
                (s.expected_pods, s.current_healthy, s.desired_healthy, s.disruptions_allowed),
                (e, h, d, a),
                "min {min:?} max {max:?}"
            );
        }
    }

    #[test]
    fn terminating_pods_are_not_healthy_and_unknown_scales_fail_safe() {
        let pods = [pod_state("a", Some("rs"), true, true), pod_state("b", Some("rs"), true, false)];
        let s = compute_status(&pdb(Some(IntOrPercent::Int(0)), None), pods.iter(), &|_| Some(2));
        assert_eq!((s.current_healthy, s.disruptions_allowed), (1, 1));
        let s = compute_status(&pdb(None, Some(IntOrPercent::Int(1))), pods.iter(), &|_| None);
        assert_eq!(s.disruptions_allowed, 0, "no scale: nothing is allowed");
    }
}
