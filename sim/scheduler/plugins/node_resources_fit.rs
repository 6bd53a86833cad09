//! NodeResourcesFit: the resource filter and the LeastAllocated / MostAllocated /
//! RequestedToCapacityRatio scoring strategies, with kube-scheduler v1.33's integer arithmetic
//! (`pkg/scheduler/framework/plugins/noderesources/{fit,least_allocated,most_allocated,
//! requested_to_capacity_ratio,resource_allocation}.go`).
//!
//! The filter uses the pods' real requests. Scoring uses, for CPU and memory, the node's
//! non-zero requested sum plus the pod's request with 100m / 200Mi for every container that sets
//! none; an extended resource the pod does not request is left out of the score.

use crate::cluster::{ClusterState, NodeState};
use crate::model::pod::Pod;
use crate::model::resources::{CPU, EPHEMERAL_STORAGE, MEMORY};
use crate::scheduler::framework::{CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, ScorePlugin, Status};

/// The plugin name.
pub const NAME: &str = "NodeResourcesFit";

/// Upstream's `MaxCustomPriorityScore`: shape scores are 0..=10 and scaled by 10.
pub const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;

/// A resource and its weight in the score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceSpec {
    /// Resource name (`cpu`, `memory`, an extended resource).
    pub name: String,
    /// Weight (1..=100; 0 is defaulted to 1).
    pub weight: i64,
}

/// One point of the RequestedToCapacityRatio shape: utilisation 0..=100 → score 0..=10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShapePoint {
    /// Utilisation in percent.
    pub utilization: i64,
    /// Score at that utilisation, 0..=10.
    pub score: i64,
}

/// The scoring strategy of `NodeResourcesFitArgs.scoringStrategy`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScoringStrategy {
    /// Favour nodes with the most free resources (the default).
    LeastAllocated,
    /// Favour nodes with the least free resources (bin packing).
    MostAllocated,
    /// A piecewise-linear function of utilisation.
    RequestedToCapacityRatio(Vec<ShapePoint>),
}

/// `NodeResourcesFitArgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FitArgs {
    /// Scoring strategy.
    pub strategy: ScoringStrategy,
    /// Scored resources and their weights.
    pub resources: Vec<ResourceSpec>,
}

impl Default for FitArgs {
    fn default() -> Self {
        FitArgs {
            strategy: ScoringStrategy::LeastAllocated,
            resources: vec![
                ResourceSpec { name: CPU.into(), weight: 1 },
                ResourceSpec { name: MEMORY.into(), weight: 1 },
            ],
        }
    }
}

/// The NodeResourcesFit plugin.
#[derive(Clone, Debug)]
pub struct NodeResourcesFit {
    /// Its arguments.
    pub args: FitArgs,
    scored: Vec<Scored>,
}

impl Default for NodeResourcesFit {
    fn default() -> Self {
        NodeResourcesFit::new(FitArgs::default())
    }
}

impl NodeResourcesFit {
    /// The plugin with `args`.
    pub fn new(args: FitArgs) -> Self {
        let scored = args.resources.iter().map(|r| Scored::of(&r.name)).collect();
        NodeResourcesFit { args, scored }
    }
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        NAME
    }
}

/// One resource the pod lacks on a node, as `fitsRequest` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsufficientResource {
    /// The reason text (`Insufficient cpu`, `Too many pods`).
    pub reason: String,
    /// True when even an empty node could not hold the request (preemption cannot help).
    pub unresolvable: bool,
}

/// upstream `fitsRequest`: every resource the pod lacks on `node`.
pub fn fits_request(pod: &Pod, node: &NodeState) -> Vec<InsufficientResource> {
    let mut out = Vec::new();
    let alloc = &node.node.allocatable;
    if node.pod_count() + 1 > alloc.pods {
        out.push(InsufficientResource { reason: "Too many pods".into(), unresolvable: false });
    }
    let req = &pod.requests;
    if req.cpu_millis == 0
        && req.memory_bytes == 0
        && req.ephemeral_storage_bytes == 0
        && req.scalar.values().all(|v| *v == 0)
    {
        return out;
    }
    let used = &node.requested;
    let mut check = |name: &str, want: i64, allocatable: i64, requested: i64| {
        if want > 0 && want > allocatable - requested {
            out.push(InsufficientResource { reason: format!("Insufficient {name}"), unresolvable: want > allocatable });
        }
    };
    check(CPU, req.cpu_millis, alloc.cpu_millis, used.cpu_millis);
    check(MEMORY, req.memory_bytes, alloc.memory_bytes, used.memory_bytes);
    check(EPHEMERAL_STORAGE, req.ephemeral_storage_bytes, alloc.ephemeral_storage_bytes, used.ephemeral_storage_bytes);
    for (name, want) in &req.scalar {
        check(name, *want, alloc.get(name), used.get(name));
    }
    out
}

impl FilterPlugin for NodeResourcesFit {
    fn filter(&self, _state: &CycleState, _cluster: &ClusterState, pod: &Pod, node: &NodeState) -> Status {
        let insufficient = fits_request(pod, node);
        if insufficient.is_empty() {
            return Status::success();
        }
        let unresolvable = insufficient.iter().any(|i| i.unresolvable);
        let reasons = insufficient.into_iter().map(|i| i.reason).collect();
        let mut st = Status::unschedulable(reasons);
        if unresolvable {
            st.code = crate::scheduler::framework::Code::UnschedulableAndUnresolvable;
        }
        st
    }
}

/// A scored resource, resolved once so the per-node loop compares no strings.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scored {
    Cpu,
    Memory,
    Ephemeral,
    Scalar(String),
}

impl Scored {
    fn of(name: &str) -> Scored {
        match name {
            CPU => Scored::Cpu,
            MEMORY => Scored::Memory,
            EPHEMERAL_STORAGE => Scored::Ephemeral,
            other => Scored::Scalar(other.to_string()),
        }
    }
}

/// upstream `calculateResourceAllocatableRequest` with `useRequested = false`:
/// `(allocatable, requested incl. the pod)` with the non-zero defaults for CPU and memory; an
/// extended resource the pod does not request gives (0, 0) and is skipped.
fn alloc_req(node: &NodeState, r: &Scored, pod: &Pod) -> (i64, i64) {
    let alloc = &node.node.allocatable;
    match r {
        Scored::Cpu => (alloc.cpu_millis, node.non_zero_cpu_millis + pod.non_zero_cpu_millis),
        Scored::Memory => (alloc.memory_bytes, node.non_zero_memory_bytes + pod.non_zero_memory_bytes),
        Scored::Ephemeral => (
            alloc.ephemeral_storage_bytes,
            node.requested.ephemeral_storage_bytes + pod.requests.ephemeral_storage_bytes,
        ),
        Scored::Scalar(name) => {
            let want = pod.requests.get(name);
            if want == 0 {
                return (0, 0);
            }
            match alloc.scalar.get(name) {
                Some(a) => (*a, node.requested.get(name) + want),
                None => (0, 0),
            }
        }
    }
}

/// `leastRequestedScore`.
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    ((capacity - requested) * MAX_NODE_SCORE) / capacity
}

/// `mostRequestedScore` (requested clamped to capacity).
pub fn most_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    (requested.min(capacity) * MAX_NODE_SCORE) / capacity
}

/// `BuildBrokenLinearFunction` evaluated at `p`.
pub fn broken_linear(shape: &[ShapePoint], p: i64) -> i64 {
    for (i, pt) in shape.iter().enumerate() {
        if p <= pt.utilization {
            if i == 0 {
                return shape[0].score;
            }
            let prev = shape[i - 1];
            return prev.score + (pt.score - prev.score) * (p - prev.utilization) / (pt.utilization - prev.utilization);
        }
    }
    shape.last().map(|s| s.score).unwrap_or(0)
}

impl NodeResourcesFit {
    /// The node's score for the pod (0..=100), exactly as upstream computes it.
    pub fn score_node(&self, pod: &Pod, node: &NodeState) -> i64 {
        let mut node_score = 0i64;
        let mut weight_sum = 0i64;
        let mut rtcr_score = 0i64;
        let mut rtcr_weights = 0i64;
        for (spec, scored) in self.args.resources.iter().zip(&self.scored) {
            let (alloc, req) = alloc_req(node, scored, pod);
            if alloc == 0 {
                continue;
            }
            match &self.args.strategy {
                ScoringStrategy::LeastAllocated => {
                    node_score += least_requested_score(req, alloc) * spec.weight;
                    weight_sum += spec.weight;
                }
                ScoringStrategy::MostAllocated => {
                    node_score += most_requested_score(req, alloc) * spec.weight;
                    weight_sum += spec.weight;
                }
                ScoringStrategy::RequestedToCapacityRatio(shape) => {
                    let scaled: Vec<ShapePoint> = shape
                        .iter()
                        .map(|p| ShapePoint {
                            utilization: p.utilization,
                            score: p.score * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE),
                        })
                        .collect();
                    let s = if req > alloc {
                        broken_linear(&scaled, 100)
                    } else {
                        broken_linear(&scaled, req * 100 / alloc)
                    };
                    if s > 0 {
                        rtcr_score += s * spec.weight;
                        rtcr_weights += spec.weight;
                    }
                }
            }
        }
        match self.args.strategy {
            ScoringStrategy::RequestedToCapacityRatio(_) => {
                if rtcr_weights == 0 {
                    0
                } else {
                    (rtcr_score as f64 / rtcr_weights as f64).round() as i64
                }
            }
            _ => {
                if weight_sum == 0 {
                    0
                } else {
                    node_score / weight_sum
                }
            }
        }
    }
}

impl ScorePlugin for NodeResourcesFit {
    fn score(&self, _state: &CycleState, _cluster: &ClusterState, pod: &Pod, node: &NodeState) -> Result<i64, Status> {
        Ok(self.score_node(pod, node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::testing::{make_node, make_pod};

    fn fit(strategy: ScoringStrategy) -> NodeResourcesFit {
        NodeResourcesFit::new(FitArgs { strategy, ..FitArgs::default() })
    }

    #[test]
    fn least_allocated_scores_follow_upstream_integer_arithmetic() {
        // Upstream table: node 4000m / 10000 bytes, pod 3000m / 5000 → cpu (1000*100)/4000 = 25,
        // memory (5000*100)/10000 = 50, (25 + 50) / 2 = 37.
        let node = make_node("n", 4000, 10000, 110);
        let pod = make_pod("p", &[(CPU, 3000), (MEMORY, 5000)]);
        assert_eq!(fit(ScoringStrategy::LeastAllocated).score_node(&pod, &node), 37);
    }

    #[test]
    fn most_allocated_scores_follow_upstream_integer_arithmetic() {
        // cpu 3000*100/4000 = 75, memory 5000*100/10000 = 50 → 62.
        let node = make_node("n", 4000, 10000, 110);
        let pod = make_pod("p", &[(CPU, 3000), (MEMORY, 5000)]);
        assert_eq!(fit(ScoringStrategy::MostAllocated).score_node(&pod, &node), 62);
    }

    #[test]
    fn scoring_uses_the_non_zero_defaults_for_a_pod_without_requests() {
        // 100m of 1000m → 90; 200Mi of 1000Mi → 80; (90 + 80) / 2 = 85.
        let node = make_node("n", 1000, 1000 * 1024 * 1024, 110);
        let pod = make_pod("p", &[]);
        assert_eq!(fit(ScoringStrategy::LeastAllocated).score_node(&pod, &node), 85);
    }

    #[test]
    fn a_request_above_capacity_scores_zero_for_that_resource() {
        let node = make_node("n", 1000, 10000, 110);
        let pod = make_pod("p", &[(CPU, 2000), (MEMORY, 0)]);
        // cpu 0, memory (10000 - 0) * 100 / 10000 = 100 → 50.
        assert_eq!(fit(ScoringStrategy::LeastAllocated).score_node(&pod, &node), 50);
    }

    #[test]
    fn resource_weights_change_the_average() {
        let node = make_node("n", 4000, 10000, 110);
        let pod = make_pod("p", &[(CPU, 3000), (MEMORY, 5000)]);
        let mut args = FitArgs::default();
        args.resources[1].weight = 3;
        let f = NodeResourcesFit::new(args);
        // (25*1 + 50*3) / 4 = 43.
        assert_eq!(f.score_node(&pod, &node), 43);
    }

    #[test]
    fn requested_to_capacity_ratio_interpolates_the_shape_and_rounds() {
        let shape = vec![ShapePoint { utilization: 0, score: 0 }, ShapePoint { utilization: 100, score: 10 }];
        let node = make_node("n", 4000, 10000, 110);
        let pod = make_pod("p", &[(CPU, 3000), (MEMORY, 5000)]);
        // cpu 75% → 75, memory 50% → 50, round(125/2) = 63.
        assert_eq!(fit(ScoringStrategy::RequestedToCapacityRatio(shape)).score_node(&pod, &node), 63);
    }

    #[test]
    fn the_filter_reports_each_insufficient_resource() {
        let node = make_node("n", 1000, 1000, 110);
        let pod = make_pod("p", &[(CPU, 2000), (MEMORY, 500)]);
        let st = fit(ScoringStrategy::LeastAllocated).filter(&CycleState::new(), &ClusterState::new(), &pod, &node);
        assert_eq!(st.reasons, vec!["Insufficient cpu".to_string()]);
        assert_eq!(st.code, crate::scheduler::framework::Code::UnschedulableAndUnresolvable);
    }

    #[test]
    fn the_filter_reports_too_many_pods_as_resolvable() {
        let mut node = make_node("n", 1000, 1000, 0);
        node.node.allocatable.pods = 0;
        let pod = make_pod("p", &[]);
        let st = fit(ScoringStrategy::LeastAllocated).filter(&CycleState::new(), &ClusterState::new(), &pod, &node);
        assert_eq!(st.reasons, vec!["Too many pods".to_string()]);
        assert_eq!(st.code, crate::scheduler::framework::Code::Unschedulable);
    }

    #[test]
    fn a_pod_requesting_nothing_fits_a_full_node() {
        let mut node = make_node("n", 1000, 1000, 110);
        node.requested.cpu_millis = 1000;
        let pod = make_pod("p", &[(CPU, 0)]);
        assert!(
            fit(ScoringStrategy::LeastAllocated)
                .filter(&CycleState::new(), &ClusterState::new(), &pod, &node)
                .is_success()
        );
    }
}
