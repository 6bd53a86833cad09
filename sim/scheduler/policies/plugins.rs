//! The research policies as kube-scheduler framework plugins, the way the FGD simulator runs
//! them: the `OpenGpuShare` filter (per-device GPU fit and GPU-model access), one score plugin
//! per policy (`FGDScore`, `BestFitScore`, ...), and [`assign_gpus`], the device choice made when
//! the pod is bound (the Reserve step of Open-Gpu-Share: `best`, `worst`, `random` or FGD's own
//! argmax, by the profile's GPU policy).
//!
//! Simplifications: FGD's typical pods are computed from every pod the cluster has seen so far
//! (the reference uses the whole trace up front); Random draws from a stream seeded by the pod's
//! key and scheduling attempt (plugins see no run seed).

use super::frag::{TypicalPods, node_frag};
use super::{
    NodeView, PodView, Policy, affinity_tag, best_fit, dot_product, fgd, gpu_clustering, gpu_packing, worst_fit,
};
use crate::cluster::{ClusterState, NodeId, NodeState, PodId};
use crate::model::gpu::{GpuRequest, GpuSelection, gpus_fit, node_gpu_model, select_gpus};
use crate::model::pod::Pod;
use crate::scheduler::framework::{CycleState, FilterPlugin, Plugin, ScorePlugin, Status};
use crate::scheduler::registry::PluginEntry;
use rand::RngExt;
use std::sync::Arc;

/// The GPU filter plugin name.
pub const GPU_SHARE: &str = "OpenGpuShare";

/// Every plugin name this module registers.
pub const NAMES: &[&str] = &[
    GPU_SHARE,
    super::max_per_node::NAME,
    super::random::NAME,
    super::first_fit::NAME,
    best_fit::NAME,
    worst_fit::NAME,
    dot_product::NAME,
    gpu_packing::NAME,
    gpu_clustering::NAME,
    fgd::NAME,
];

/// Builds a plugin of this module by name.
pub fn build(name: &str) -> Option<PluginEntry> {
    if name == GPU_SHARE {
        return Some(PluginEntry { pre_filter: None, filter: Some(Arc::new(OpenGpuShare)), score: None });
    }
    if name == super::max_per_node::NAME {
        return Some(PluginEntry {
            pre_filter: None,
            filter: Some(Arc::new(super::max_per_node::MaxPerNode)),
            score: None,
        });
    }
    let p = Policy::ALL.into_iter().find(|p| p.plugin_name() == name)?;
    Some(PluginEntry { pre_filter: None, filter: None, score: Some(Arc::new(PolicyScore(p))) })
}

/// The GPU filter: the pod's GPU request must fit the node's free devices and accept its model.
pub struct OpenGpuShare;

impl Plugin for OpenGpuShare {
    fn name(&self) -> &'static str {
        GPU_SHARE
    }
}

impl FilterPlugin for OpenGpuShare {
    fn filter(&self, _state: &CycleState, _cluster: &ClusterState, pod: &Pod, node: &NodeState) -> Status {
        let req = GpuRequest::from_pod(pod);
        if !req.is_gpu() {
            return Status::success();
        }
        let model = node_gpu_model(&node.node);
        if node.gpu_free_milli.is_empty() {
            return Status::unresolvable("node has no GPU");
        }
        if !req.accepts_model(model) {
            return Status::unresolvable("GPU model not accepted by the pod");
        }
        if gpus_fit(&req, &node.gpu_free_milli, model) {
            Status::success()
        } else {
            Status::unschedulable(vec!["Insufficient GPU".into()])
        }
    }
}

/// A research policy as a score plugin.
pub struct PolicyScore(pub Policy);

impl Plugin for PolicyScore {
    fn name(&self) -> &'static str {
        self.0.plugin_name()
    }
}

const STATE_KEY: &str = "GpuPolicy";

struct PreScore {
    gpu: GpuRequest,
    typical: Option<TypicalPods>,
    chosen: Option<NodeId>,
}

/// The typical pods of every pod the cluster has seen (counted as pods are created).
pub fn typical_pods(cluster: &ClusterState) -> TypicalPods {
    TypicalPods::from_counts(cluster.pod_shapes())
}

fn pod_stream(pod: &Pod, cluster: &ClusterState) -> crate::engine::rng::SimRng {
    let attempts = cluster.pod_id(&pod.namespace, &pod.name).map(|id| cluster.pod(id).scheduling_attempts).unwrap_or(0);
    crate::engine::rng::stream(u64::from(attempts), &format!("RandomScore/{}", pod.key()))
}

fn node_tags(cluster: &ClusterState, node: &NodeState) -> Vec<(u32, u32)> {
    let mut tags: Vec<(u32, u32)> = Vec::new();
    for p in &node.pods {
        if let Some(t) = affinity_tag(&GpuRequest::from_pod(&cluster.pod(*p).pod)) {
            match tags.iter_mut().find(|(x, _)| *x == t) {
                Some((_, c)) => *c += 1,
                None => tags.push((t, 1)),
            }
        }
    }
    tags
}

fn cpu_left(node: &NodeState) -> i64 {
    node.node.allocatable.cpu_millis - node.requested.cpu_millis
}

impl ScorePlugin for PolicyScore {
    fn pre_score(&self, state: &mut CycleState, cluster: &ClusterState, pod: &Pod, nodes: &[NodeId]) -> Status {
        let gpu = GpuRequest::from_pod(pod);
        let typical = (self.0 == Policy::Fgd).then(|| typical_pods(cluster));
        let chosen = match self.0 {
            Policy::FirstFit => nodes.first().copied(),
            Policy::Random if !nodes.is_empty() => Some(nodes[pod_stream(pod, cluster).random_range(0..nodes.len())]),
            _ => None,
        };
        state.write(STATE_KEY, PreScore { gpu, typical, chosen });
        Status::success()
    }

    fn score(&self, state: &CycleState, cluster: &ClusterState, pod: &Pod, node: &NodeState) -> Result<i64, Status> {
        let Some(pre) = state.read::<PreScore>(STATE_KEY) else {
            return Err(Status::error("PreScore did not run"));
        };
        let tags = if self.0 == Policy::GpuClustering { node_tags(cluster, node) } else { Vec::new() };
        let model = node_gpu_model(&node.node);
        let nv = NodeView { cpu_left_millis: cpu_left(node), gpu_free: &node.gpu_free_milli, model, tags: &tags };
        let pv = PodView { cpu_millis: pod.requests.cpu_millis, gpu: &pre.gpu };
        Ok(match self.0 {
            Policy::Random | Policy::FirstFit => {
                let me = cluster.node_id(&node.node.name);
                if me.is_some() && me == pre.chosen { 100 } else { 0 }
            }
            Policy::BestFit => best_fit::score(&nv, &pv),
            Policy::WorstFit => worst_fit::score(&nv, &pv),
            Policy::DotProduct => dot_product::score(&nv, &pv),
            Policy::GpuPacking => gpu_packing::score(&nv, &pv),
            Policy::GpuClustering => gpu_clustering::score(&nv, &pv),
            Policy::Fgd => {
                let t = pre.typical.as_ref().ok_or_else(|| Status::error("no typical pods"))?;
                let now = node_frag(nv.cpu_left_millis, nv.gpu_free, model, t);
                fgd::score(&nv, &pv, now, &mut |c, f| node_frag(c, f, model, t)).0
            }
        })
    }

    fn normalize_scores(&self, _state: &CycleState, _pod: &Pod, scores: &mut [i64]) -> Status {
        if matches!(self.0, Policy::BestFit | Policy::WorstFit) {
            best_fit::normalize(scores);
        }
        Status::success()
    }
}

/// The GPU policy of a profile: its research score plugin with the highest weight (first on
/// ties), if any.
pub fn profile_policy(profile: &crate::scheduler::Profile) -> Option<Policy> {
    let mut best: Option<(i64, Policy)> = None;
    for (s, w) in &profile.scores {
        if let Some(p) = Policy::ALL.into_iter().find(|p| p.plugin_name() == s.name())
            && best.is_none_or(|(bw, _)| *w > bw)
        {
            best = Some((*w, p));
        }
    }
    best.map(|(_, p)| p)
}

/// Chooses the GPU devices of `pod` on `node` before binding, by the profile's GPU policy:
/// `best` without one, `random` for Random, `worst` for WorstFit, FGD's own argmax for FGD.
pub fn assign_gpus(cluster: &mut ClusterState, profile: Option<&crate::scheduler::Profile>, pod: PodId, node: NodeId) {
    let p = &cluster.pod(pod).pod;
    let req = GpuRequest::from_pod(p);
    if !req.is_gpu() {
        return;
    }
    let policy = profile.and_then(profile_policy);
    let n = cluster.node(node);
    let free = &n.gpu_free_milli;
    let idx = match policy.and_then(|p| p.gpu_selection().map(|s| (p, s))) {
        None if policy == Some(Policy::Fgd) => {
            let t = typical_pods(cluster);
            let model = node_gpu_model(&n.node);
            let nv = NodeView { cpu_left_millis: cpu_left(n), gpu_free: free, model, tags: &[] };
            let pv = PodView { cpu_millis: p.requests.cpu_millis, gpu: &req };
            let now = node_frag(nv.cpu_left_millis, free, model, &t);
            Some(fgd::score(&nv, &pv, now, &mut |c, f| node_frag(c, f, model, &t)).1)
        }
        Some((_, sel @ GpuSelection::Random)) => {
            let mut rng = pod_stream(p, cluster);
            select_gpus(&req, free, sel, &mut |k| rng.random_range(0..k))
        }
        Some((_, sel)) => select_gpus(&req, free, sel, &mut |_| 0),
        None => select_gpus(&req, free, GpuSelection::Best, &mut |_| 0),
    };
    if let Some(idx) = idx {
        cluster.set_gpu_indices(pod, idx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::SimTime;
    use crate::model::node::Node;
    use crate::model::resources::Resources;
    use crate::scheduler::testing::make_pod;
    use crate::trace::{LABEL_GPU_MODEL, RESOURCE_GPU_MILLI, RESOURCE_NVIDIA_GPU};

    fn gpu_node(name: &str, gpus: i64, model: &str) -> Node {
        let mut allocatable = Resources { cpu_millis: 32000, memory_bytes: 1 << 36, pods: 110, ..Default::default() };
        allocatable.set(RESOURCE_NVIDIA_GPU, gpus);
        Node {
            name: name.into(),
            labels: [(LABEL_GPU_MODEL.to_string(), model.to_string())].into(),
            taints: vec![],
            allocatable,
            images: vec![],
            unschedulable: false,
        }
    }

    #[test]
    fn the_gpu_filter_checks_devices_and_models() {
        let mut c = ClusterState::new();
        let n = c.add_node(gpu_node("n", 2, "T4")).unwrap();
        let cs = CycleState::new();
        let share = make_pod("share", &[("cpu", 1000), (RESOURCE_GPU_MILLI, 600)]);
        let three = make_pod("three", &[("cpu", 1000), (RESOURCE_NVIDIA_GPU, 3)]);
        let mut v100 = make_pod("v100", &[("cpu", 1000), (RESOURCE_GPU_MILLI, 100)]);
        v100.labels.insert(crate::trace::ANNOTATION_GPU_CARD_MODEL.into(), "V100M16".into());
        let cpu = make_pod("cpu", &[("cpu", 1000)]);
        let f = |p: &Pod| OpenGpuShare.filter(&cs, &c, p, c.node(n)).code;
        use crate::scheduler::framework::Code;
        assert_eq!(f(&share), Code::Success);
        assert_eq!(f(&three), Code::Unschedulable);
        assert_eq!(f(&v100), Code::UnschedulableAndUnresolvable);
        assert_eq!(f(&cpu), Code::Success);
    }

    #[test]
    fn binding_takes_the_chosen_devices_and_termination_gives_them_back() {
        let mut c = ClusterState::new();
        let n = c.add_node(gpu_node("n", 2, "T4")).unwrap();
        let a = c.add_pod(make_pod("a", &[("cpu", 1000), (RESOURCE_GPU_MILLI, 600)]), SimTime(0)).unwrap();
        let b = c.add_pod(make_pod("b", &[("cpu", 1000), (RESOURCE_GPU_MILLI, 300)]), SimTime(0)).unwrap();
        c.bind(a, n, SimTime(0)).unwrap();
        assert_eq!(c.node(n).gpu_free_milli, vec![400, 1000]);
        // best: the fullest GPU that fits
        assign_gpus(&mut c, None, b, n);
        c.bind(b, n, SimTime(0)).unwrap();
        assert_eq!(c.node(n).gpu_free_milli, vec![100, 1000]);
        crate::cluster::invariants::check(&c).unwrap();
        c.terminate(a, crate::cluster::PodPhase::Succeeded, SimTime(1));
        assert_eq!(c.node(n).gpu_free_milli, vec![700, 1000]);
        crate::cluster::invariants::check(&c).unwrap();
    }

    #[test]
    fn every_policy_plugin_is_registered_by_name() {
        for name in NAMES {
            assert!(crate::scheduler::registry::build(name).is_some(), "{name}");
        }
    }
}
