//! NodeResourcesBalancedAllocation: favours nodes whose resource fractions stay close to each
//! other once the pod is placed, as kube-scheduler v1.33's
//! `pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go` scores them.
//!
//! * PreScore: the pod's real requests (`useRequested = true`: no 100m / 200Mi defaults) of the
//!   configured resources; Skip when all are 0 (a best-effort pod, kubernetes#129138).
//! * Score: per resource, `fraction = float64(node Requested + pod) / float64(allocatable)`,
//!   capped at 1; resources with allocatable 0 are left out, and so is an extended resource the
//!   pod does not request (`calculateResourceAllocatableRequest`). With two fractions
//!   `std = |f0 - f1| / 2`, with more the population standard deviation, with fewer 0;
//!   `score = int64((1 - std) * 100)`. No NormalizeScore.
//!
//! This is the v1.33 formula, not the "change in balance" variant of kubernetes#135573. The
//! resource weights are accepted only as 1 (upstream's validation), since the formula has no
//! place for them.

use crate::cluster::{ClusterState, NodeId, NodeState};
use crate::model::pod::Pod;
use crate::model::resources::{CPU, EPHEMERAL_STORAGE, MEMORY};
use crate::scheduler::framework::{CycleState, MAX_NODE_SCORE, Plugin, ScorePlugin, Status};

/// The plugin name.
pub const NAME: &str = "NodeResourcesBalancedAllocation";

/// A resource in `NodeResourcesBalancedAllocationArgs.resources`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceSpec {
    /// Resource name (`cpu`, `memory`, `ephemeral-storage`, an extended resource).
    pub name: String,
    /// Weight; 0 (or unset) is defaulted to 1, and anything else but 1 is invalid.
    #[serde(default)]
    pub weight: i64,
}

/// `NodeResourcesBalancedAllocationArgs`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeResourcesBalancedAllocationArgs {
    /// The resources whose balance is scored (default cpu and memory, weight 1; an empty list
    /// is defaulted the same way).
    pub resources: Vec<ResourceSpec>,
}

impl Default for NodeResourcesBalancedAllocationArgs {
    fn default() -> Self {
        NodeResourcesBalancedAllocationArgs {
            resources: vec![
                ResourceSpec { name: CPU.into(), weight: 1 },
                ResourceSpec { name: MEMORY.into(), weight: 1 },
            ],
        }
    }
}

/// The NodeResourcesBalancedAllocation plugin.
#[derive(Clone, Debug)]
pub struct NodeResourcesBalancedAllocation {
    /// The scored resources (defaulted and validated).
    resources: Vec<ResourceSpec>,
    /// How each of them is looked up on a node.
    kinds: Vec<Kind>,
}

impl Default for NodeResourcesBalancedAllocation {
    fn default() -> Self {
        NodeResourcesBalancedAllocation::with_resources(NodeResourcesBalancedAllocationArgs::default().resources)
    }
}

impl NodeResourcesBalancedAllocation {
    /// Builds the plugin: applies upstream's defaulting (`SetDefaults_NodeResourcesBalanced
    /// AllocationArgs`: an empty list becomes cpu + memory, a weight of 0 becomes 1), then
    /// validates as `ValidateNodeResourcesBalancedAllocationArgs` (no duplicate names, every
    /// weight 1), with upstream's field-error texts.
    pub fn new(args: NodeResourcesBalancedAllocationArgs) -> Result<Self, String> {
        let mut resources = args.resources;
        if resources.is_empty() {
            resources = NodeResourcesBalancedAllocationArgs::default().resources;
        }
        for r in &mut resources {
            if r.weight == 0 {
                r.weight = 1;
            }
        }
        let mut errs = Vec::new();
        for (i, r) in resources.iter().enumerate() {
            if resources[..i].iter().any(|s| s.name == r.name) {
                errs.push(format!("resources[{i}].name: Duplicate value: {:?}", r.name));
            }
            if r.weight != 1 {
                errs.push(format!("resources[{i}].weight: Invalid value: {}: must be 1", r.weight));
            }
        }
        match errs.len() {
            0 => Ok(NodeResourcesBalancedAllocation::with_resources(resources)),
            1 => Err(errs.remove(0)),
            _ => Err(format!("[{}]", errs.join(", "))),
        }
    }

    fn with_resources(resources: Vec<ResourceSpec>) -> Self {
        let kinds = resources.iter().map(|r| Kind::of(&r.name)).collect();
        NodeResourcesBalancedAllocation { resources, kinds }
    }

    /// `calculatePodResourceRequestList` with `useRequested = true`: the pod's real request of
    /// each configured resource.
    pub fn pod_requests(&self, pod: &Pod) -> Vec<i64> {
        self.resources.iter().zip(&self.kinds).map(|(r, k)| pod_request(pod, *k, &r.name)).collect()
    }

    /// The node's score for the pod (`resourceAllocationScorer.score` with
    /// `balancedResourceScorer`); 0 for a best-effort pod, as upstream's Score does when
    /// PreScore did not run (after a successful PreScore the pod is never best effort).
    ///
    /// The pod's requests are read straight from its fields rather than from the CycleState,
    /// which is cheaper per node and gives the same numbers.
    pub fn score_node(&self, pod: &Pod, node: &NodeState) -> i64 {
        const INLINE: usize = 8;
        let mut inline = [0.0f64; INLINE];
        let mut spilled: Vec<f64> = Vec::new();
        let mut n = 0usize;
        let mut best_effort = true;
        for (r, kind) in self.resources.iter().zip(&self.kinds) {
            let pod_request = pod_request(pod, *kind, &r.name);
            best_effort &= pod_request == 0;
            let (alloc, req) = allocatable_and_requested_of(node, *kind, &r.name, pod_request);
            if alloc == 0 {
                continue;
            }
            let mut fraction = req as f64 / alloc as f64;
            if fraction > 1.0 {
                fraction = 1.0;
            }
            if n < INLINE {
                inline[n] = fraction;
            } else {
                if spilled.is_empty() {
                    spilled.extend_from_slice(&inline);
                }
                spilled.push(fraction);
            }
            n += 1;
        }
        if best_effort {
            return 0;
        }
        balanced_resource_score(if n <= INLINE { &inline[..n] } else { &spilled })
    }
}

/// The pod's real request (no non-zero defaults) of one configured resource.
fn pod_request(pod: &Pod, kind: Kind, name: &str) -> i64 {
    let r = &pod.requests;
    match kind {
        Kind::Cpu => r.cpu_millis,
        Kind::Memory => r.memory_bytes,
        Kind::EphemeralStorage => r.ephemeral_storage_bytes,
        Kind::Scalar => r.scalar.get(name).copied().unwrap_or(0),
        Kind::Untracked => r.get(name),
    }
}

/// How a configured resource is looked up on a node (resolved once, not per node).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Cpu,
    Memory,
    EphemeralStorage,
    /// `schedutil.IsScalarResourceName`: looked up in the scalar resources.
    Scalar,
    /// Any other name (`pods`, an unprefixed unknown name): upstream's NodeInfo does not track
    /// it as a scalar resource, so it is always skipped.
    Untracked,
}

impl Kind {
    fn of(name: &str) -> Kind {
        match name {
            CPU => Kind::Cpu,
            MEMORY => Kind::Memory,
            EPHEMERAL_STORAGE => Kind::EphemeralStorage,
            n if is_scalar_resource_name(n) => Kind::Scalar,
            _ => Kind::Untracked,
        }
    }
}

/// `schedutil.IsScalarResourceName`: extended (domain-prefixed), `kubernetes.io/`-prefixed,
/// `hugepages-*` and `attachable-volumes-*` resources. (Upstream also requires an extended
/// name to be a valid qualified name; that check is not repeated here.)
fn is_scalar_resource_name(name: &str) -> bool {
    name.contains('/') || name.starts_with("hugepages-") || name.starts_with("attachable-volumes-")
}

/// `calculateResourceAllocatableRequest` with `useRequested = true`: (allocatable, node
/// Requested + pod). An extended resource the pod does not request, and any resource the node
/// does not track, give (0, 0) and are skipped.
pub fn allocatable_and_requested(node: &NodeState, resource: &str, pod_request: i64) -> (i64, i64) {
    allocatable_and_requested_of(node, Kind::of(resource), resource, pod_request)
}

fn allocatable_and_requested_of(node: &NodeState, kind: Kind, resource: &str, pod_request: i64) -> (i64, i64) {
    let alloc = &node.node.allocatable;
    let used = &node.requested;
    match kind {
        Kind::Cpu => (alloc.cpu_millis, used.cpu_millis + pod_request),
        Kind::Memory => (alloc.memory_bytes, used.memory_bytes + pod_request),
        Kind::EphemeralStorage => (alloc.ephemeral_storage_bytes, used.ephemeral_storage_bytes + pod_request),
        Kind::Scalar if pod_request == 0 => (0, 0),
        Kind::Scalar => match alloc.scalar.get(resource) {
            Some(a) => (*a, used.get(resource) + pod_request),
            None => (0, 0),
        },
        Kind::Untracked => (0, 0),
    }
}

/// `balancedResourceScorer` over the fractions (already capped at 1, allocatable-0 resources
/// left out), with upstream's float operations in upstream's order.
pub fn balanced_resource_score(fractions: &[f64]) -> i64 {
    let std = match fractions {
        [f0, f1] => ((f0 - f1) / 2.0).abs(),
        _ if fractions.len() > 2 => {
            let mut total = 0.0f64;
            for f in fractions {
                total += f;
            }
            let n = fractions.len() as f64;
            let mean = total / n;
            let mut sum = 0.0f64;
            for f in fractions {
                sum += (f - mean) * (f - mean);
            }
            (sum / n).sqrt()
        }
        _ => 0.0,
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

impl Plugin for NodeResourcesBalancedAllocation {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl ScorePlugin for NodeResourcesBalancedAllocation {
    fn pre_score(&self, _: &mut CycleState, _: &ClusterState, pod: &Pod, _: &[NodeId]) -> Status {
        if self.pod_requests(pod).iter().all(|r| *r == 0) {
            // Best-effort pod: leave it out of this plugin's scoring (kubernetes#129138).
            return Status::skip();
        }
        Status::success()
    }

    fn score(&self, _: &CycleState, _: &ClusterState, pod: &Pod, node: &NodeState) -> Result<i64, Status> {
        Ok(self.score_node(pod, node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::SimTime;
    use crate::scheduler::framework::Code;
    use crate::scheduler::testing::{make_node, make_pod};

    const GPU: &str = "nvidia.com/gpu";

    /// A cluster of nodes `(cpu millis, memory, gpus)` each holding the given bound pods.
    fn cluster(nodes: &[(i64, i64, i64, Vec<Pod>)]) -> ClusterState {
        let mut cs = ClusterState::new();
        for (i, (cpu, mem, gpu, pods)) in nodes.iter().enumerate() {
            let mut n = make_node(&format!("node{}", i + 1), *cpu, *mem, 110).node;
            n.allocatable.set(GPU, *gpu);
            let id = cs.add_node(n).unwrap();
            for (j, p) in pods.iter().enumerate() {
                let mut p = p.clone();
                p.name = format!("existing-{i}-{j}");
                let pid = cs.add_pod(p, SimTime::ZERO).unwrap();
                cs.bind(pid, id, SimTime::ZERO).unwrap();
            }
        }
        cs
    }

    /// Upstream's `cpuOnly` (1000m + 2000m, memory 0) and `cpuAndMemory` (1000m/2000 +
    /// 2000m/3000) specs, as one container each.
    fn cpu_only() -> Pod {
        make_pod("cpu-only", &[(CPU, 3000), (MEMORY, 0)])
    }
    fn cpu_and_memory() -> Pod {
        make_pod("cpu-and-memory", &[(CPU, 3000), (MEMORY, 5000)])
    }

    /// PreScore then Score on every node; `None` when PreScore skipped.
    fn scores(pl: &NodeResourcesBalancedAllocation, cs: &ClusterState, pod: &Pod) -> Option<Vec<i64>> {
        let mut state = CycleState::new();
        let st = pl.pre_score(&mut state, cs, pod, &[]);
        if st.code == Code::Skip {
            return None;
        }
        assert!(st.is_success());
        Some(cs.nodes().iter().map(|n| pl.score(&state, cs, pod, n).unwrap()).collect())
    }

    #[test]
    fn scores_follow_upstreams_v1_33_table() {
        // Upstream TestNodeResourcesBalancedAllocation (useRequested, std formula).
        let pl = NodeResourcesBalancedAllocation::default();
        struct Case {
            name: &'static str,
            pod: Pod,
            nodes: Vec<(i64, i64, i64, Vec<Pod>)>,
            want: Vec<i64>,
        }
        let cases = vec![
            // node1: cpu 3000/4000 = 0.75, mem 5000/10000 = 0.5, std 0.125 → 87;
            // node2: 3000/6000 = 0.5, 0.5 → 100.
            Case {
                name: "nothing scheduled, resources requested, differently sized nodes",
                pod: cpu_and_memory(),
                nodes: vec![(4000, 10000, 0, vec![]), (6000, 10000, 0, vec![])],
                want: vec![87, 100],
            },
            // node1: cpu 6000/10000 = 0.6, mem 0/20000 = 0, std 0.3 → 70;
            // node2: 0.6, 5000/20000 = 0.25, std 0.175 → 82.
            Case {
                name: "resources requested, pods scheduled with resources",
                pod: cpu_only(),
                nodes: vec![(10000, 20000, 0, vec![cpu_only()]), (10000, 20000, 0, vec![cpu_and_memory()])],
                want: vec![70, 82],
            },
            // node1: 0.6, 5000/20000 = 0.25 → 82; node2: 0.6, 10000/50000 = 0.2, std 0.2 → 80.
            Case {
                name: "resources requested, pods scheduled with resources, differently sized nodes",
                pod: cpu_and_memory(),
                nodes: vec![(10000, 20000, 0, vec![cpu_only()]), (10000, 50000, 0, vec![cpu_and_memory()])],
                want: vec![82, 80],
            },
            // node1: cpu 6000/6000 = 1, mem 0 → std 0.5 → 50; node2: 1, 0.5 → 75.
            Case {
                name: "requested resources at node capacity",
                pod: cpu_only(),
                nodes: vec![(6000, 10000, 0, vec![cpu_only()]), (6000, 10000, 0, vec![cpu_and_memory()])],
                want: vec![50, 75],
            },
            // Every resource has allocatable 0 → no fractions → std 0 → 100.
            Case {
                name: "zero node resources, pods scheduled with resources",
                pod: cpu_only(),
                nodes: vec![(0, 0, 0, vec![]), (0, 0, 0, vec![])],
                want: vec![100, 100],
            },
            // cpu 6000/4000 is capped at 1 (not 1.5): mem 5000/10000 = 0.5 → std 0.25 → 75.
            Case {
                name: "a fraction above 1 is capped at 1",
                pod: cpu_and_memory(),
                nodes: vec![(4000, 10000, 0, vec![cpu_only()])],
                want: vec![75],
            },
            // Only memory is requested: cpu 0/4000 = 0, mem 5000/10000 = 0.5 → 75. Real
            // requests, not the 100m non-zero default.
            Case {
                name: "an unset request counts as 0, not as the non-zero default",
                pod: make_pod("p", &[(MEMORY, 5000)]),
                nodes: vec![(4000, 10000, 0, vec![])],
                want: vec![75],
            },
        ];
        for c in cases {
            let cs = cluster(&c.nodes);
            assert_eq!(scores(&pl, &cs, &c.pod), Some(c.want), "{}", c.name);
        }
    }

    #[test]
    fn best_effort_pods_are_skipped_in_prescore() {
        // Upstream "nothing scheduled, nothing requested, skip in PreScore" and "no resources
        // requested, pods scheduled with resources".
        let pl = NodeResourcesBalancedAllocation::default();
        let cs = cluster(&[(4000, 10000, 0, vec![]), (10000, 20000, 0, vec![cpu_and_memory()])]);
        assert_eq!(scores(&pl, &cs, &make_pod("p", &[])), None);
        assert_eq!(scores(&pl, &cs, &make_pod("p", &[(CPU, 0), (MEMORY, 0)])), None);
        // Requests only of a resource that is not configured: still best effort here.
        assert_eq!(scores(&pl, &cs, &make_pod("p", &[(GPU, 1)])), None);
        // Without PreScore, Score gives 0.
        let p = make_pod("p", &[]);
        assert_eq!(pl.score(&CycleState::new(), &cs, &p, &cs.nodes()[0]), Ok(0));
    }

    fn with_gpu() -> NodeResourcesBalancedAllocation {
        NodeResourcesBalancedAllocation::new(NodeResourcesBalancedAllocationArgs {
            resources: vec![
                ResourceSpec { name: CPU.into(), weight: 1 },
                ResourceSpec { name: MEMORY.into(), weight: 1 },
                ResourceSpec { name: GPU.into(), weight: 1 },
            ],
        })
        .unwrap()
    }

    #[test]
    fn three_resources_use_the_population_standard_deviation() {
        // Upstream "include scalar resource on a node for balanced resource allocation".
        // node1: cpu 3000/3500, mem 5000/40000, gpu (3+1)/8: std ≈ 0.2989 → 70;
        // node2: cpu 3000/3500, mem 5000/40000, gpu 1/8: std ≈ 0.3451 → 65.
        let gpu3 = make_pod("gpu", &[(GPU, 3)]);
        let cs = cluster(&[(3500, 40000, 8, vec![cpu_and_memory(), gpu3]), (3500, 40000, 8, vec![cpu_and_memory()])]);
        let pod = make_pod("p", &[(MEMORY, 0), (GPU, 1)]);
        assert_eq!(scores(&with_gpu(), &cs, &pod), Some(vec![70, 65]));
        // The same numbers by the formula.
        let f = [3000.0 / 3500.0, 5000.0 / 40000.0, 0.5];
        let mean = (f[0] + f[1] + f[2]) / 3.0;
        let std = (f.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 3.0).sqrt();
        assert_eq!(((1.0 - std) * 100.0) as i64, 70);
    }

    #[test]
    fn an_extended_resource_the_pod_does_not_request_is_skipped() {
        // Upstream "node without the scalar resource results to a higher score": the GPU is
        // left out on both nodes; cpu 1000/4000 = 0.25, mem 2500/10000 = 0.25 → 100.
        let cs = cluster(&[(4000, 10000, 0, vec![]), (4000, 10000, 8, vec![])]);
        let pod = make_pod("p", &[(CPU, 1000), (MEMORY, 2500)]);
        assert_eq!(scores(&with_gpu(), &cs, &pod), Some(vec![100, 100]));
        // Requested on a node without it: allocatable 0, skipped, two fractions remain.
        let pod = make_pod("p", &[(CPU, 1000), (MEMORY, 5000), (GPU, 2)]);
        // node1: 0.25, 0.5 → 87; node2: 0.25, 0.5, 0.25 → std ≈ 0.1179 → 88.
        assert_eq!(scores(&with_gpu(), &cs, &pod), Some(vec![87, 88]));
    }

    #[test]
    fn a_resource_upstream_does_not_track_as_scalar_is_skipped() {
        // `pods` is not a scalar resource: calculateResourceAllocatableRequest gives (0, 0).
        let pl = NodeResourcesBalancedAllocation::new(NodeResourcesBalancedAllocationArgs {
            resources: vec![
                ResourceSpec { name: CPU.into(), weight: 1 },
                ResourceSpec { name: MEMORY.into(), weight: 1 },
                ResourceSpec { name: "pods".into(), weight: 1 },
            ],
        })
        .unwrap();
        let cs = cluster(&[(4000, 10000, 0, vec![])]);
        // cpu 0.75, mem 0.5 → 87, as with two resources.
        assert_eq!(scores(&pl, &cs, &cpu_and_memory()), Some(vec![87]));
    }

    #[test]
    fn the_standard_deviation_formula_depends_on_the_number_of_fractions() {
        assert_eq!(balanced_resource_score(&[]), 100);
        assert_eq!(balanced_resource_score(&[0.3]), 100);
        // |0.75 - 0.5| / 2 = 0.125 → 87 (truncated, not rounded).
        assert_eq!(balanced_resource_score(&[0.75, 0.5]), 87);
        assert_eq!(balanced_resource_score(&[0.5, 0.75]), 87);
        // Population std of 0, 0.5, 1 = sqrt(1/6) ≈ 0.408 → 59.
        assert_eq!(balanced_resource_score(&[0.0, 0.5, 1.0]), 59);
        // Nine fractions: half 0, half 1 (+ one 0.5) — exercises more fractions than fit inline.
        let f = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.5];
        let mean = f.iter().sum::<f64>() / 9.0;
        let std = (f.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 9.0).sqrt();
        assert_eq!(balanced_resource_score(&f), ((1.0 - std) * 100.0) as i64);
    }

    #[test]
    fn more_resources_than_fit_inline_score_the_same_as_the_formula() {
        let names: Vec<String> = (0..7).map(|i| format!("example.com/r{i}")).collect();
        let mut resources =
            vec![ResourceSpec { name: CPU.into(), weight: 1 }, ResourceSpec { name: MEMORY.into(), weight: 1 }];
        resources.extend(names.iter().map(|n| ResourceSpec { name: n.clone(), weight: 1 }));
        let pl = NodeResourcesBalancedAllocation::new(NodeResourcesBalancedAllocationArgs { resources }).unwrap();
        let mut node = make_node("n", 4000, 10000, 110).node;
        for n in &names {
            node.allocatable.set(n, 10);
        }
        let mut cs = ClusterState::new();
        cs.add_node(node).unwrap();
        let mut requests: Vec<(&str, i64)> = vec![(CPU, 3000), (MEMORY, 5000)];
        requests.extend(names.iter().enumerate().map(|(i, n)| (n.as_str(), i as i64 + 1)));
        let pod = make_pod("p", &requests);
        let mut f = vec![0.75, 0.5];
        f.extend((0..7).map(|i| (i as f64 + 1.0) / 10.0));
        assert_eq!(scores(&pl, &cs, &pod), Some(vec![balanced_resource_score(&f)]));
    }

    #[test]
    fn a_single_fraction_has_no_deviation() {
        let pl = NodeResourcesBalancedAllocation::new(NodeResourcesBalancedAllocationArgs {
            resources: vec![ResourceSpec { name: CPU.into(), weight: 0 }],
        })
        .unwrap();
        let cs = cluster(&[(4000, 10000, 0, vec![])]);
        assert_eq!(scores(&pl, &cs, &make_pod("p", &[(CPU, 3000)])), Some(vec![100]));
    }

    #[test]
    fn plugin_config_args_reach_the_plugin() {
        let args = serde_json::json!({"resources": [{"name": "cpu"}, {"name": "memory", "weight": 3}]});
        let e = crate::scheduler::registry::build_configured(NAME, &args).err().unwrap();
        assert_eq!(e, "pluginConfig NodeResourcesBalancedAllocation: resources[1].weight: Invalid value: 3: must be 1");
        let args = serde_json::json!({"resources": [{"name": "cpu"}, {"name": "memory"}, {"name": GPU}]});
        let entry = crate::scheduler::registry::build_configured(NAME, &args).unwrap().unwrap();
        let gpu3 = make_pod("gpu", &[(GPU, 3)]);
        let cs = cluster(&[(3500, 40000, 8, vec![cpu_and_memory(), gpu3])]);
        let pod = make_pod("p", &[(MEMORY, 0), (GPU, 1)]);
        let score = entry.score.unwrap();
        let mut state = CycleState::new();
        assert!(score.pre_score(&mut state, &cs, &pod, &[]).is_success());
        assert_eq!(score.score(&state, &cs, &pod, &cs.nodes()[0]), Ok(70));
    }

    #[test]
    fn args_are_defaulted_and_validated_as_upstream() {
        let a: NodeResourcesBalancedAllocationArgs = serde_saphyr::from_str("{}").unwrap();
        assert_eq!(a, NodeResourcesBalancedAllocationArgs::default());
        let a: NodeResourcesBalancedAllocationArgs = serde_saphyr::from_str("resources: []").unwrap();
        assert_eq!(
            NodeResourcesBalancedAllocation::new(a).unwrap().resources,
            NodeResourcesBalancedAllocation::default().resources
        );
        let a: NodeResourcesBalancedAllocationArgs =
            serde_saphyr::from_str("resources: [{name: cpu}, {name: memory, weight: 1}]").unwrap();
        assert!(NodeResourcesBalancedAllocation::new(a).is_ok());
        let a: NodeResourcesBalancedAllocationArgs =
            serde_saphyr::from_str("resources: [{name: cpu, weight: 2}, {name: memory}]").unwrap();
        assert_eq!(
            NodeResourcesBalancedAllocation::new(a).unwrap_err(),
            "resources[0].weight: Invalid value: 2: must be 1"
        );
        let a: NodeResourcesBalancedAllocationArgs =
            serde_saphyr::from_str("resources: [{name: cpu}, {name: cpu}]").unwrap();
        assert_eq!(NodeResourcesBalancedAllocation::new(a).unwrap_err(), "resources[1].name: Duplicate value: \"cpu\"");
        assert!(serde_saphyr::from_str::<NodeResourcesBalancedAllocationArgs>("resource: []").is_err());
    }
}
