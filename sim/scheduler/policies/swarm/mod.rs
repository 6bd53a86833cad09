//! Docker Swarm's placement as whole policies: `swarm-spread` (SwarmKit's scheduler),
//! `swarm-binpack` and `swarm-random` (classic standalone Swarm's other strategies).
//!
//! SwarmKit's filter pipeline maps onto the simulator as follows (a node is feasible only when
//! all pass):
//!
//! | SwarmKit filter | here |
//! | --- | --- |
//! | `ReadyFilter` | node Ready and not cordoned (plus the profile's NodeUnschedulable) |
//! | `ResourceFilter` (reservations) | the profile's NodeResourcesFit on the pod's requests |
//! | `PluginFilter` | skipped (no volume / network plugins) |
//! | `ConstraintFilter` | annotation `swarm.kubesim.io/constraints` ([`constraints`]) |
//! | `PlatformFilter` | annotation `swarm.kubesim.io/platforms` (`linux/amd64,...`) |
//! | `HostPortFilter` | the profile's NodePorts |
//! | `MaxReplicasFilter` | annotation `swarm.kubesim.io/max-replicas` |
//!
//! The profile's other filters (taints, node affinity, ...) also apply, since every decision
//! must pass them. Placement preferences come from `swarm.kubesim.io/preferences`
//! (`spread=node.labels.zone`). A pod's **service** is the value of its label
//! `swarm.kubesim.io/service` if set, else its controller (a ReplicaSet of a Deployment counts as
//! the Deployment, so the tasks of every revision are counted together), else the pod alone.
//! Tasks counted on a node are its assigned pods that are not terminating.

pub mod constraints;
pub mod strategy;

use crate::cluster::{ClusterState, NodeId, PodId};
use crate::model::pod::Pod;
use crate::scheduler::policy::{Decision, Policy, PolicyContext};
use constraints::{Constraint, Platform, Preference};
use rand::RngExt;
use std::collections::BTreeMap;
use strategy::NodeInfo;

/// Pod annotation: comma-separated placement constraints (`node.labels.zone==a,node.role!=manager`).
pub const ANNOTATION_CONSTRAINTS: &str = "swarm.kubesim.io/constraints";
/// Pod annotation: comma-separated placement preferences (`spread=node.labels.zone`).
pub const ANNOTATION_PREFERENCES: &str = "swarm.kubesim.io/preferences";
/// Pod annotation: at most this many tasks of the service per node (`0`: no limit).
pub const ANNOTATION_MAX_REPLICAS: &str = "swarm.kubesim.io/max-replicas";
/// Pod annotation: the platforms the image supports (`linux/amd64,linux/arm64`).
pub const ANNOTATION_PLATFORMS: &str = "swarm.kubesim.io/platforms";
/// Pod label naming the pod's Swarm service explicitly.
pub const LABEL_SERVICE: &str = "swarm.kubesim.io/service";

/// The scheduler names of the Swarm policies.
pub const NAMES: [&str; 3] = ["swarm-spread", "swarm-binpack", "swarm-random"];

/// A Swarm placement strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// SwarmKit's spread (the only strategy of swarm mode).
    Spread,
    /// Classic Swarm's binpack.
    Binpack,
    /// Classic Swarm's random.
    Random,
}

impl Strategy {
    /// The strategy behind a scheduler name (`swarm-spread`, ...).
    pub fn from_name(name: &str) -> Option<Strategy> {
        match name {
            "swarm-spread" => Some(Strategy::Spread),
            "swarm-binpack" => Some(Strategy::Binpack),
            "swarm-random" => Some(Strategy::Random),
            _ => None,
        }
    }

    /// The scheduler name.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Spread => NAMES[0],
            Strategy::Binpack => NAMES[1],
            Strategy::Random => NAMES[2],
        }
    }
}

/// A task's placement spec, read from its pod's annotations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// Constraints.
    pub constraints: Vec<Constraint>,
    /// Preferences (tree levels).
    pub preferences: Vec<Preference>,
    /// `max_replicas` per node (0: unlimited).
    pub max_replicas: u64,
    /// Supported platforms (empty: any).
    pub platforms: Vec<Platform>,
}

impl Placement {
    /// Reads the Swarm annotations; the error names the annotation.
    pub fn from_annotations(ann: &BTreeMap<String, String>) -> Result<Placement, String> {
        let named = |key: &str, e: String| format!("annotation {key}: {e}");
        let mut p = Placement::default();
        if let Some(v) = ann.get(ANNOTATION_CONSTRAINTS) {
            p.constraints = constraints::parse_constraints(v).map_err(|e| named(ANNOTATION_CONSTRAINTS, e))?;
        }
        if let Some(v) = ann.get(ANNOTATION_PREFERENCES) {
            p.preferences = constraints::parse_preferences(v).map_err(|e| named(ANNOTATION_PREFERENCES, e))?;
        }
        if let Some(v) = ann.get(ANNOTATION_MAX_REPLICAS) {
            p.max_replicas = v
                .trim()
                .parse::<u64>()
                .map_err(|_| named(ANNOTATION_MAX_REPLICAS, format!("expected a non-negative integer, got {v:?}")))?;
        }
        if let Some(v) = ann.get(ANNOTATION_PLATFORMS) {
            p.platforms = constraints::parse_platforms(v).map_err(|e| named(ANNOTATION_PLATFORMS, e))?;
        }
        Ok(p)
    }
}

/// Checks the Swarm annotations of a pod manifest (called by the manifest loader so that a bad
/// annotation is an input error, not a run-time one).
pub fn validate_annotations(ann: &BTreeMap<String, String>) -> Result<(), String> {
    Placement::from_annotations(ann).map(|_| ())
}

/// The workload a pod belongs to: `label`'s value if the pod has it, else its controller (a
/// Deployment's ReplicaSet counts as the Deployment), else the pod itself.
pub fn workload_key(pod: &Pod, label: &str) -> String {
    if let Some(v) = pod.labels.get(label) {
        return format!("{}/label/{v}", pod.namespace);
    }
    match &pod.owner {
        Some(o) => {
            let hash = pod.labels.get(crate::controllers::LABEL_POD_TEMPLATE_HASH);
            let deployment =
                hash.filter(|_| o.kind == "ReplicaSet").and_then(|h| o.name.strip_suffix(&format!("-{h}")));
            match deployment {
                Some(d) => format!("{}/Deployment/{d}", pod.namespace),
                None => format!("{}/{}/{}", pod.namespace, o.kind, o.name),
            }
        }
        None => format!("{}/Pod/{}", pod.namespace, pod.name),
    }
}

/// A pod's Swarm service.
pub fn service_key(pod: &Pod) -> String {
    workload_key(pod, LABEL_SERVICE)
}

/// The pods counted as a workload's active tasks on a node: assigned and not terminating.
pub fn active_pods(cluster: &ClusterState, node: NodeId) -> impl Iterator<Item = &Pod> {
    cluster
        .node(node)
        .pods
        .iter()
        .map(|p| cluster.pod(*p))
        .filter(|p| p.is_assigned() && !p.terminating)
        .map(|p| &p.pod)
}

/// A Swarm strategy as a [`Policy`].
#[derive(Clone, Debug)]
pub struct SwarmPolicy {
    strategy: Strategy,
}

impl SwarmPolicy {
    /// The policy for `strategy`.
    pub fn new(strategy: Strategy) -> Self {
        SwarmPolicy { strategy }
    }
}

/// Tasks placed earlier in the same batch: (node, service) → count, and node → (cpu, memory, count).
#[derive(Default)]
struct Batch {
    service: BTreeMap<(NodeId, String), u64>,
    node: BTreeMap<NodeId, (i64, i64, u64)>,
}

impl Policy for SwarmPolicy {
    fn name(&self) -> String {
        self.strategy.name().into()
    }

    fn place(&mut self, ctx: &mut PolicyContext<'_>, pods: &[PodId]) -> Result<Vec<Decision>, String> {
        let mut batch = Batch::default();
        let mut out = Vec::with_capacity(pods.len());
        for &id in pods {
            let pod = ctx.pod(id);
            let placement = match Placement::from_annotations(&pod.annotations) {
                Ok(p) => p,
                Err(reason) => {
                    out.push(Decision::Unschedulable { pod: id, reason });
                    continue;
                }
            };
            let service = service_key(pod);
            let mut infos = Vec::new();
            let (mut filtered, mut constrained) = (0usize, 0usize);
            for v in ctx.filter(id) {
                let ns = ctx.cluster.node(v.node);
                let (mut service_tasks, mut total_tasks) = (0u64, 0u64);
                for p in active_pods(ctx.cluster, v.node) {
                    total_tasks += 1;
                    if service_key(p) == service {
                        service_tasks += 1;
                    }
                }
                service_tasks += batch.service.get(&(v.node, service.clone())).copied().unwrap_or(0);
                let (extra_cpu, extra_mem, extra_tasks) = batch.node.get(&v.node).copied().unwrap_or_default();
                total_tasks += extra_tasks;
                let ready = ns.ready && !ns.removed && !ns.node.unschedulable;
                let swarm_ok = constraints::node_matches(&placement.constraints, &ns.node)
                    && constraints::platform_matches(&placement.platforms, &ns.node)
                    && (placement.max_replicas == 0 || service_tasks < placement.max_replicas);
                let alloc = &ns.node.allocatable;
                let fits_batch = extra_tasks == 0
                    || (ns.requested.cpu_millis + extra_cpu + pod.requests.cpu_millis <= alloc.cpu_millis
                        && ns.requested.memory_bytes + extra_mem + pod.requests.memory_bytes <= alloc.memory_bytes
                        && ns.pod_count() + (extra_tasks as i64) < alloc.pods);
                let filters_ok = v.status.is_success() && ready && fits_batch;
                if !filters_ok {
                    filtered += 1;
                } else if !swarm_ok {
                    constrained += 1;
                }
                infos.push(NodeInfo {
                    id: v.node,
                    branch: placement.preferences.iter().map(|p| p.value(&ns.node).to_string()).collect(),
                    service_tasks,
                    total_tasks,
                    feasible: filters_ok && swarm_ok,
                    cpu_total_millis: alloc.cpu_millis,
                    cpu_used_millis: ns.requested.cpu_millis + extra_cpu,
                    memory_total_bytes: alloc.memory_bytes,
                    memory_used_bytes: ns.requested.memory_bytes + extra_mem,
                });
            }
            let chosen = match self.strategy {
                Strategy::Spread => strategy::spread(&infos),
                Strategy::Binpack => strategy::binpack(&infos, pod.requests.cpu_millis, pod.requests.memory_bytes),
                Strategy::Random => {
                    let rng = &mut *ctx.rng;
                    strategy::random(&infos, &mut |k| rng.random_range(0..k))
                }
            };
            match chosen {
                Some(node) => {
                    *batch.service.entry((node, service)).or_default() += 1;
                    let e = batch.node.entry(node).or_default();
                    e.0 += pod.requests.cpu_millis;
                    e.1 += pod.requests.memory_bytes;
                    e.2 += 1;
                    out.push(Decision::Bind { pod: id, node });
                }
                None => out.push(Decision::Unschedulable {
                    pod: id,
                    reason: format!(
                        "no suitable node ({filtered} of {} nodes fail the filters, {constrained} the Swarm \
                         constraints, platforms or max-replicas)",
                        infos.len()
                    ),
                }),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A hand-built cluster and a loop that places pods one by one with a policy.

    use crate::cluster::{ClusterState, NodeId, PodId};
    use crate::engine::time::SimTime;
    use crate::model::node::{LABEL_HOSTNAME, Node};
    use crate::model::pod::Pod;
    use crate::model::resources::Resources;
    use crate::scheduler::Profile;
    use crate::scheduler::policy::{Decision, Policy, PolicyContext};

    /// A node of a test cluster: name, CPU millis, labels.
    pub type TestNode<'a> = (&'a str, i64, &'a [(&'a str, &'a str)]);

    /// A cluster of Ready nodes `(name, cpu millis, labels)` with 8 GiB and 110 pods each.
    pub fn cluster(nodes: &[TestNode<'_>]) -> ClusterState {
        let mut c = ClusterState::new();
        for (name, cpu, labels) in nodes {
            let mut l: crate::model::selector::Labels =
                labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            l.insert(LABEL_HOSTNAME.into(), name.to_string());
            c.add_node(Node {
                name: name.to_string(),
                labels: l,
                taints: vec![],
                allocatable: Resources { cpu_millis: *cpu, memory_bytes: 8 << 30, pods: 110, ..Default::default() },
                images: vec![],
                unschedulable: false,
            })
            .unwrap();
        }
        c
    }

    /// A pod requesting `cpu_millis` with the given labels and annotations.
    pub fn pod(name: &str, cpu_millis: i64, labels: &[(&str, &str)], ann: &[(&str, &str)]) -> Pod {
        let mut p = crate::scheduler::testing::make_pod(name, &[("cpu", cpu_millis)]);
        p.labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        p.annotations = ann.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        p
    }

    /// Adds `pods` one by one, asks `policy` for each and binds it; returns each pod's node
    /// name (`None`: unschedulable).
    pub fn place_all(c: &mut ClusterState, policy: &mut dyn Policy, pods: Vec<Pod>) -> Vec<Option<String>> {
        let profiles = vec![Profile::default_profile()];
        let mut rng = crate::engine::rng::stream(1, "policy");
        let mut out = Vec::new();
        for p in pods {
            let id: PodId = c.add_pod(p, SimTime::ZERO).unwrap();
            let d = {
                let mut ctx = PolicyContext::new(c, &mut rng, SimTime::ZERO, &profiles);
                policy.place(&mut ctx, &[id]).unwrap()
            };
            match d.as_slice() {
                [Decision::Bind { node, .. }] => {
                    let node: NodeId = *node;
                    c.bind(id, node, SimTime::ZERO).unwrap();
                    out.push(Some(c.node(node).node.name.clone()));
                }
                _ => out.push(None),
            }
        }
        out
    }

    /// How many of `placed` went to each of `names`.
    pub fn counts(placed: &[Option<String>], names: &[&str]) -> Vec<usize> {
        names.iter().map(|n| placed.iter().filter(|p| p.as_deref() == Some(*n)).count()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{cluster, counts, place_all, pod};
    use super::*;
    use crate::model::pod::OwnerRef;

    fn web(i: usize, ann: &[(&str, &str)]) -> Pod {
        pod(&format!("web-{i}"), 100, &[(LABEL_SERVICE, "web")], ann)
    }

    #[test]
    fn spread_puts_six_tasks_on_three_nodes_two_each() {
        let mut c = cluster(&[("n1", 4000, &[]), ("n2", 4000, &[]), ("n3", 4000, &[])]);
        let placed = place_all(&mut c, &mut SwarmPolicy::new(Strategy::Spread), (0..6).map(|i| web(i, &[])).collect());
        assert_eq!(counts(&placed, &["n1", "n2", "n3"]), vec![2, 2, 2]);
    }

    #[test]
    fn spread_balances_the_service_even_where_other_services_run() {
        let mut c = cluster(&[("n1", 4000, &[]), ("n2", 4000, &[])]);
        let others: Vec<Pod> = (0..3).map(|i| pod(&format!("db-{i}"), 100, &[(LABEL_SERVICE, "db")], &[])).collect();
        let db = place_all(&mut c, &mut SwarmPolicy::new(Strategy::Binpack), others);
        assert_eq!(counts(&db, &["n1", "n2"]), vec![3, 0]);
        // The first web task goes to n2 (fewer tasks in total), the second to n1 (fewer web tasks).
        let placed = place_all(&mut c, &mut SwarmPolicy::new(Strategy::Spread), (0..4).map(|i| web(i, &[])).collect());
        assert_eq!(placed.iter().flatten().map(String::as_str).collect::<Vec<_>>(), ["n2", "n1", "n2", "n1"]);
    }

    #[test]
    fn spread_respects_a_zone_preference() {
        let mut c = cluster(&[
            ("a1", 4000, &[("zone", "a")]),
            ("a2", 4000, &[("zone", "a")]),
            ("a3", 4000, &[("zone", "a")]),
            ("b1", 4000, &[("zone", "b")]),
        ]);
        let ann = [(ANNOTATION_PREFERENCES, "spread=node.labels.zone")];
        let placed = place_all(&mut c, &mut SwarmPolicy::new(Strategy::Spread), (0..6).map(|i| web(i, &ann)).collect());
        assert_eq!(counts(&placed, &["a1", "a2", "a3", "b1"]), vec![1, 1, 1, 3]);
        // Without the preference the four nodes share the tasks evenly.
        let mut c = cluster(&[("a1", 4000, &[("zone", "a")]), ("a2", 4000, &[("zone", "a")]), ("b1", 4000, &[])]);
        let placed = place_all(&mut c, &mut SwarmPolicy::new(Strategy::Spread), (0..6).map(|i| web(i, &[])).collect());
        assert_eq!(counts(&placed, &["a1", "a2", "b1"]), vec![2, 2, 2]);
    }

    #[test]
    fn binpack_fills_one_node_first() {
        let mut c = cluster(&[("n1", 2000, &[]), ("n2", 2000, &[]), ("n3", 2000, &[])]);
        let pods = (0..5).map(|i| pod(&format!("p{i}"), 1000, &[], &[])).collect();
        let placed = place_all(&mut c, &mut SwarmPolicy::new(Strategy::Binpack), pods);
        assert_eq!(placed.iter().flatten().map(String::as_str).collect::<Vec<_>>(), ["n1", "n1", "n2", "n2", "n3"]);
    }

    #[test]
    fn constraints_and_max_replicas_restrict_the_nodes() {
        type Case = (&'static str, &'static [(&'static str, &'static str)], usize, Vec<usize>);
        let cases: Vec<Case> = vec![
            (
                "a zone constraint keeps tasks in zone a",
                &[(ANNOTATION_CONSTRAINTS, "node.labels.zone==a")],
                4,
                vec![2, 2, 0],
            ),
            (
                "a != constraint keeps tasks off managers",
                &[(ANNOTATION_CONSTRAINTS, "node.role!=manager")],
                4,
                vec![2, 0, 2],
            ),
            ("max-replicas 1 leaves the fourth task pending", &[(ANNOTATION_MAX_REPLICAS, "1")], 4, vec![1, 1, 1]),
            (
                "a platform no node has leaves the task pending",
                &[(ANNOTATION_PLATFORMS, "linux/arm64")],
                1,
                vec![0, 0, 0],
            ),
        ];
        for (name, ann, n, want) in cases {
            let mut c = cluster(&[
                ("n1", 4000, &[("zone", "a"), ("kubernetes.io/os", "linux"), ("kubernetes.io/arch", "amd64")]),
                ("n2", 4000, &[("zone", "a"), (constraints::LABEL_ROLE, "manager")]),
                ("n3", 4000, &[("zone", "b"), ("kubernetes.io/os", "linux"), ("kubernetes.io/arch", "amd64")]),
            ]);
            for s in Strategy::from_name("swarm-spread").into_iter().chain([Strategy::Binpack, Strategy::Random]) {
                let mut c2 = c.clone();
                let placed = place_all(&mut c2, &mut SwarmPolicy::new(s), (0..n).map(|i| web(i, ann)).collect());
                for (i, node) in placed.iter().enumerate() {
                    if let Some(node) = node {
                        let k = ["n1", "n2", "n3"].iter().position(|x| x == node).unwrap();
                        assert!(want[k] > 0, "{name}: {s:?} put task {i} on {node}");
                    }
                }
                assert_eq!(placed.iter().flatten().count(), want.iter().sum::<usize>(), "{name}: {s:?}");
            }
            let placed =
                place_all(&mut c, &mut SwarmPolicy::new(Strategy::Spread), (0..n).map(|i| web(i, ann)).collect());
            assert_eq!(counts(&placed, &["n1", "n2", "n3"]), want, "{name}");
        }
    }

    #[test]
    fn random_is_reproducible_and_uses_several_nodes() {
        let run = || {
            let mut c = cluster(&[("n1", 4000, &[]), ("n2", 4000, &[]), ("n3", 4000, &[])]);
            place_all(&mut c, &mut SwarmPolicy::new(Strategy::Random), (0..12).map(|i| web(i, &[])).collect())
        };
        let a = run();
        assert_eq!(a, run());
        assert!(counts(&a, &["n1", "n2", "n3"]).iter().filter(|c| **c > 0).count() >= 2);
    }

    #[test]
    fn a_deployments_replica_sets_are_one_service() {
        let mut a = pod("a", 0, &[(crate::controllers::LABEL_POD_TEMPLATE_HASH, "abc")], &[]);
        a.owner = Some(OwnerRef { kind: "ReplicaSet".into(), name: "web-abc".into(), uid: 1 });
        let mut b = a.clone();
        b.labels.insert(crate::controllers::LABEL_POD_TEMPLATE_HASH.into(), "def".into());
        b.owner = Some(OwnerRef { kind: "ReplicaSet".into(), name: "web-def".into(), uid: 2 });
        assert_eq!(service_key(&a), "default/Deployment/web");
        assert_eq!(service_key(&a), service_key(&b));
        let mut j = a.clone();
        j.labels.clear();
        j.owner = Some(OwnerRef { kind: "Job".into(), name: "batch".into(), uid: 3 });
        assert_eq!(service_key(&j), "default/Job/batch");
        assert_eq!(service_key(&pod("solo", 0, &[], &[])), "default/Pod/solo");
    }

    #[test]
    fn invalid_annotations_are_errors_naming_the_annotation() {
        let cases: &[(&str, &str)] = &[
            (ANNOTATION_CONSTRAINTS, "node.labels.zone=a"),
            (ANNOTATION_PREFERENCES, "pack=node.labels.zone"),
            (ANNOTATION_MAX_REPLICAS, "-1"),
            (ANNOTATION_PLATFORMS, "a/b/c"),
        ];
        for (key, value) in cases {
            let ann = BTreeMap::from([(key.to_string(), value.to_string())]);
            let e = validate_annotations(&ann).unwrap_err();
            assert!(e.starts_with(&format!("annotation {key}: ")), "{e}");
        }
    }
}
