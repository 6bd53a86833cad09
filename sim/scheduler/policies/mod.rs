//! The research placement policies of the FGD paper's simulator (Random, FirstFit, BestFit,
//! WorstFit, DotProduct, GpuPacking, GpuClustering, FGD), as pure score functions over a
//! [`NodeView`] and a [`PodView`], one file per policy. The fragmentation measure and the
//! typical-pod distribution FGD needs are in [`frag`]; the kube-scheduler plugins that wrap these
//! functions (the GPU filter, the score plugins, GPU device choice) are in [`plugins`]; the fast
//! arrival-only replay (`kubesim replay`) calls the functions directly.
//!
//! Scores follow `../shared/reference/fgd-policies.md` §3 exactly (floating point where upstream
//! uses it, then Go's truncation to an integer).

pub mod best_fit;
pub mod dot_product;
pub mod fgd;
pub mod first_fit;
pub mod frag;
pub mod gpu_clustering;
pub mod gpu_packing;
pub mod marathon;
pub mod max_per_node;
pub mod plugins;
pub mod random;
pub mod swarm;
pub mod worst_fit;

use crate::model::gpu::{GpuRequest, GpuSelection};

/// What a policy sees of a node.
#[derive(Clone, Copy, Debug)]
pub struct NodeView<'a> {
    /// Unrequested CPU (allocatable − requested), millicores.
    pub cpu_left_millis: i64,
    /// Free milli-GPU of each device (1000 = fully free).
    pub gpu_free: &'a [i64],
    /// GPU model (empty for a CPU node).
    pub model: &'a str,
    /// GpuClustering's affinity tags of the pods on the node: `(tag, count)` with count > 0, tag 0
    /// for GPU-share pods and `n` for pods with `n` whole GPUs.
    pub tags: &'a [(u32, u32)],
}

impl NodeView<'_> {
    /// Total free milli-GPU.
    pub fn gpu_left(&self) -> i64 {
        self.gpu_free.iter().sum()
    }
}

/// What a policy sees of a pod.
#[derive(Clone, Copy, Debug)]
pub struct PodView<'a> {
    /// CPU request, millicores.
    pub cpu_millis: i64,
    /// GPU request.
    pub gpu: &'a GpuRequest,
}

/// GpuClustering's tag of a pod (`None` for a CPU pod).
pub fn affinity_tag(gpu: &GpuRequest) -> Option<u32> {
    if !gpu.is_gpu() {
        None
    } else if gpu.is_share() {
        Some(0)
    } else {
        Some(gpu.count)
    }
}

/// A named research policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Policy {
    /// One random feasible node.
    Random,
    /// The first feasible node in node order.
    FirstFit,
    /// Least CPU and GPU left after placement.
    BestFit,
    /// Most CPU and GPU left after placement.
    WorstFit,
    /// Smallest dot product of the pod's demand and the node's free vector ("Tetris").
    DotProduct,
    /// Prefer already-shared GPUs, then partly used nodes.
    GpuPacking,
    /// Prefer nodes running pods of the same GPU shape.
    GpuClustering,
    /// Fragmentation gradient descent.
    Fgd,
}

impl Policy {
    /// Every policy, in a fixed order.
    pub const ALL: [Policy; 8] = [
        Policy::Random,
        Policy::FirstFit,
        Policy::BestFit,
        Policy::WorstFit,
        Policy::DotProduct,
        Policy::GpuPacking,
        Policy::GpuClustering,
        Policy::Fgd,
    ];
    /// The six policies of the paper's experiment.
    pub const PAPER: [Policy; 6] =
        [Policy::Random, Policy::DotProduct, Policy::GpuClustering, Policy::GpuPacking, Policy::BestFit, Policy::Fgd];

    /// The lower-case name used on the command line and in scenarios (`fgd`, `best-fit`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Policy::Random => "random",
            Policy::FirstFit => "first-fit",
            Policy::BestFit => "best-fit",
            Policy::WorstFit => "worst-fit",
            Policy::DotProduct => "dot-product",
            Policy::GpuPacking => "gpu-packing",
            Policy::GpuClustering => "gpu-clustering",
            Policy::Fgd => "fgd",
        }
    }

    /// The score plugin name, as a KubeSchedulerConfiguration writes it.
    pub fn plugin_name(self) -> &'static str {
        match self {
            Policy::Random => random::NAME,
            Policy::FirstFit => first_fit::NAME,
            Policy::BestFit => best_fit::NAME,
            Policy::WorstFit => worst_fit::NAME,
            Policy::DotProduct => dot_product::NAME,
            Policy::GpuPacking => gpu_packing::NAME,
            Policy::GpuClustering => gpu_clustering::NAME,
            Policy::Fgd => fgd::NAME,
        }
    }

    /// Parses a policy name, case-insensitively, with or without dashes (`fgd`, `BestFit`,
    /// `best-fit`, `dotprod`).
    pub fn parse(s: &str) -> Option<Policy> {
        let k: String = s.chars().filter(|c| *c != '-' && *c != '_').collect::<String>().to_ascii_lowercase();
        let k = k.strip_suffix("score").unwrap_or(&k);
        Some(match k {
            "random" => Policy::Random,
            "firstfit" => Policy::FirstFit,
            "bestfit" => Policy::BestFit,
            "worstfit" => Policy::WorstFit,
            "dotproduct" | "dotprod" => Policy::DotProduct,
            "gpupacking" => Policy::GpuPacking,
            "gpuclustering" => Policy::GpuClustering,
            "fgd" => Policy::Fgd,
            _ => return None,
        })
    }

    /// The GPU selection the paper's runs use with this policy (`None`: the policy's own choice,
    /// FGD's argmax).
    pub fn gpu_selection(self) -> Option<GpuSelection> {
        match self {
            Policy::Random => Some(GpuSelection::Random),
            Policy::WorstFit => Some(GpuSelection::Worst),
            Policy::Fgd => None,
            _ => Some(GpuSelection::Best),
        }
    }
}

/// Go's `int64(x)` of a float: truncation toward zero.
pub fn go_int(x: f64) -> i64 {
    x as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_parses_back_from_its_name_and_plugin_name() {
        for p in Policy::ALL {
            assert_eq!(Policy::parse(p.name()), Some(p));
            assert_eq!(Policy::parse(p.plugin_name()), Some(p));
        }
        assert_eq!(Policy::parse("nope"), None);
    }

    #[test]
    fn pods_are_tagged_by_gpu_shape() {
        assert_eq!(affinity_tag(&GpuRequest::none()), None);
        assert_eq!(affinity_tag(&GpuRequest::new(500, 1)), Some(0));
        assert_eq!(affinity_tag(&GpuRequest::new(1000, 1)), Some(1));
        assert_eq!(affinity_tag(&GpuRequest::new(1000, 8)), Some(8));
    }
}
