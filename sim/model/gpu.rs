//! The GPU model: a node's GPUs tracked per device in milli-GPU (GPU sharing, 1000 = one whole
//! free GPU) with a GPU model name, and a pod's GPU request (a share of one GPU, or several whole
//! GPUs, optionally restricted to a set of GPU models).
//!
//! How a pod asks for GPUs (read by [`GpuRequest::from_pod`]):
//! - `nvidia.com/gpu: N` (container request): N whole GPUs;
//! - `alibabacloud.com/gpu-milli: M` (container request), with optionally
//!   `alibabacloud.com/gpu-count: C` (default 1): C GPUs with M milli-GPU each (M ≥ 1000 is a whole
//!   GPU each);
//! - the label or annotation `alibabacloud.com/gpu-card-model: "A|B"`: only nodes whose GPU model
//!   is A or B.
//!
//! How a node offers GPUs ([`node_gpu_count`], [`node_gpu_model`]): the largest of its allocatable
//! `nvidia.com/gpu`, `alibabacloud.com/gpu-count` and `alibabacloud.com/gpu-milli / 1000`, and the
//! node label `alibabacloud.com/gpu-card-model` for the model.
//!
//! GPU selection inside a node ([`select_gpus`]) follows the Open-Gpu-Share plugin of the FGD
//! paper's simulator (`best`, `worst`, `random`; the policies may choose themselves).

use crate::model::node::Node;
use crate::model::pod::Pod;
use crate::trace::{
    ANNOTATION_GPU_CARD_MODEL, LABEL_GPU_MODEL, RESOURCE_GPU_COUNT, RESOURCE_GPU_MILLI, RESOURCE_NVIDIA_GPU,
};
use serde::{Deserialize, Serialize};

/// Milli-GPU in one GPU.
pub const MILLI: i64 = 1000;
/// The CPU normaliser of the research policies (`MaxSpecCpu`, 128 cores).
pub const MAX_SPEC_CPU_MILLIS: i64 = 128_000;
/// The GPU normaliser of the research policies (`MaxSpecGpu`, 8 GPUs).
pub const MAX_SPEC_GPU_MILLIS: i64 = 8_000;

/// What a pod asks of GPUs.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GpuRequest {
    /// Milli-GPU on each requested GPU (`1..=1000`; 0 when the pod asks for no GPU).
    pub milli_per_gpu: i64,
    /// Number of GPUs (0: no GPU).
    pub count: u32,
    /// Accepted GPU models (empty: any).
    pub models: Vec<String>,
}

impl GpuRequest {
    /// No GPU.
    pub fn none() -> Self {
        GpuRequest::default()
    }

    /// A request of `count` GPUs with `milli_per_gpu` each, any model.
    pub fn new(milli_per_gpu: i64, count: u32) -> Self {
        if milli_per_gpu <= 0 || count == 0 {
            return GpuRequest::none();
        }
        GpuRequest { milli_per_gpu: milli_per_gpu.min(MILLI), count, models: Vec::new() }
    }

    /// Restricts the request to the `|`-separated list of models (empty string: any).
    pub fn with_models(mut self, models: &str) -> Self {
        self.models = parse_models(models);
        self
    }

    /// The request a pod makes (see the module documentation for the forms read).
    pub fn from_pod(pod: &Pod) -> Self {
        let whole = pod.requests.get(RESOURCE_NVIDIA_GPU);
        let milli = pod.requests.get(RESOURCE_GPU_MILLI);
        let mut req = if whole > 0 {
            GpuRequest::new(MILLI, u32::try_from(whole).unwrap_or(u32::MAX))
        } else if milli > 0 {
            let count = pod.requests.get(RESOURCE_GPU_COUNT).max(1);
            GpuRequest::new(milli, u32::try_from(count).unwrap_or(u32::MAX))
        } else {
            GpuRequest::none()
        };
        if req.count > 0
            && let Some(m) =
                pod.labels.get(ANNOTATION_GPU_CARD_MODEL).or_else(|| pod.annotations.get(ANNOTATION_GPU_CARD_MODEL))
        {
            req.models = parse_models(m);
        }
        req
    }

    /// True when the pod asks for a GPU.
    pub fn is_gpu(&self) -> bool {
        self.count > 0
    }

    /// True for a share of one GPU (one GPU, less than all of it).
    pub fn is_share(&self) -> bool {
        self.count == 1 && self.milli_per_gpu < MILLI
    }

    /// Total milli-GPU asked for (`milli_per_gpu × count`).
    pub fn total_milli(&self) -> i64 {
        self.milli_per_gpu * i64::from(self.count)
    }

    /// True when the pod may use a GPU of model `node_model` (the upstream
    /// `IsNodeAccessibleToPodByType`: no restriction → any GPU node; a node without a model
    /// (a CPU node) → no; otherwise the list must contain the model).
    pub fn accepts_model(&self, node_model: &str) -> bool {
        if self.models.is_empty() {
            return true;
        }
        !node_model.is_empty() && self.models.iter().any(|m| m == node_model)
    }
}

fn parse_models(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.split('|').map(str::trim).filter(|m| !m.is_empty()).map(String::from).collect();
    v.sort();
    v.dedup();
    v
}

/// The number of GPUs a node offers (see the module documentation).
pub fn node_gpu_count(node: &Node) -> usize {
    let a = &node.allocatable;
    let n = a.get(RESOURCE_NVIDIA_GPU).max(a.get(RESOURCE_GPU_COUNT)).max(a.get(RESOURCE_GPU_MILLI) / MILLI).max(0);
    usize::try_from(n).unwrap_or(0)
}

/// Makes a GPU node advertise its GPUs in both resource forms, `nvidia.com/gpu: N` and
/// `alibabacloud.com/gpu-milli: N × 1000`, so that NodeResourcesFit accepts whole-GPU and
/// GPU-share pods alike (the GPU filter then checks the devices).
pub fn offer_all_gpu_forms(node: &mut Node) {
    let n = node_gpu_count(node) as i64;
    if n > 0 {
        node.allocatable.set(RESOURCE_NVIDIA_GPU, n);
        node.allocatable.set(RESOURCE_GPU_MILLI, n * MILLI);
    }
}

/// The node's GPU model (empty when unlabelled).
pub fn node_gpu_model(node: &Node) -> &str {
    node.labels.get(LABEL_GPU_MODEL).map(String::as_str).unwrap_or("")
}

/// How to pick the GPUs of a node for a pod once the node is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum GpuSelection {
    /// Share pod: the GPU with the least free milli that fits (lowest index on ties); whole GPUs:
    /// the lowest-index fully free GPUs.
    #[default]
    Best,
    /// Share pod: the GPU with the most free milli (lowest index on ties); whole GPUs as `Best`.
    Worst,
    /// Share pod: a uniformly random fitting GPU; whole GPUs as `Best`.
    Random,
}

impl GpuSelection {
    /// Parses `best`, `worst` or `random`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "best" => Some(GpuSelection::Best),
            "worst" => Some(GpuSelection::Worst),
            "random" => Some(GpuSelection::Random),
            _ => None,
        }
    }
}

/// True when `req` fits on GPUs with free milli `free` of model `model` (the Open-Gpu-Share
/// filter: one GPU with enough free milli for a share pod; `count` GPUs with enough free milli
/// otherwise). A pod without GPU request always fits.
pub fn gpus_fit(req: &GpuRequest, free: &[i64], model: &str) -> bool {
    if !req.is_gpu() {
        return true;
    }
    if free.is_empty() || !req.accepts_model(model) {
        return false;
    }
    free.iter().filter(|f| **f >= req.milli_per_gpu).count() >= req.count as usize
}

/// Picks the GPU indices for `req` on GPUs with free milli `free` (`None` when it does not fit;
/// empty for a pod without GPU). `draw(n)` returns a uniform integer in `0..n` (only used by
/// [`GpuSelection::Random`]).
pub fn select_gpus(
    req: &GpuRequest,
    free: &[i64],
    method: GpuSelection,
    draw: &mut dyn FnMut(usize) -> usize,
) -> Option<Vec<u32>> {
    if !req.is_gpu() {
        return Some(Vec::new());
    }
    if req.is_share() {
        let fitting = free.iter().enumerate().filter(|(_, f)| **f >= req.milli_per_gpu);
        let pick = match method {
            GpuSelection::Best => fitting.min_by_key(|(i, f)| (**f, *i)).map(|(i, _)| i),
            GpuSelection::Worst => fitting.min_by_key(|(i, f)| (-**f, *i)).map(|(i, _)| i),
            GpuSelection::Random => {
                let all: Vec<usize> = fitting.map(|(i, _)| i).collect();
                if all.is_empty() { None } else { Some(all[draw(all.len())]) }
            }
        }?;
        return Some(vec![pick as u32]);
    }
    whole_gpus(req, free)
}

/// The lowest-index GPUs with at least `milli_per_gpu` free, `count` of them (upstream
/// `AllocateExclusiveGpuId` for whole GPUs).
pub fn whole_gpus(req: &GpuRequest, free: &[i64]) -> Option<Vec<u32>> {
    let v: Vec<u32> = free
        .iter()
        .enumerate()
        .filter(|(_, f)| **f >= req.milli_per_gpu)
        .take(req.count as usize)
        .map(|(i, _)| i as u32)
        .collect();
    (v.len() == req.count as usize).then_some(v)
}

/// The GPUs `NodeResource.Sub` takes for a non-share pod in the policies' what-if: in ascending
/// free-milli order (stable), the first `count` with enough free milli.
pub fn sub_order_gpus(req: &GpuRequest, free: &[i64]) -> Option<Vec<u32>> {
    let mut idx: Vec<usize> = (0..free.len()).collect();
    idx.sort_by_key(|i| free[*i]);
    let v: Vec<u32> =
        idx.into_iter().filter(|i| free[*i] >= req.milli_per_gpu).take(req.count as usize).map(|i| i as u32).collect();
    (v.len() == req.count as usize).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(reqs: &[(&str, i64)], model: Option<&str>) -> Pod {
        let mut p = crate::scheduler::testing::make_pod("p", reqs);
        if let Some(m) = model {
            p.labels.insert(ANNOTATION_GPU_CARD_MODEL.into(), m.into());
        }
        p
    }

    #[test]
    fn a_pod_reads_its_gpu_request_from_each_form() {
        type Case = (&'static [(&'static str, i64)], Option<&'static str>, GpuRequest);
        let cases: &[Case] = &[
            (&[("cpu", 1000)], None, GpuRequest::none()),
            (&[(RESOURCE_NVIDIA_GPU, 2)], None, GpuRequest::new(1000, 2)),
            (&[(RESOURCE_GPU_MILLI, 460)], None, GpuRequest::new(460, 1)),
            (&[(RESOURCE_GPU_MILLI, 1500)], None, GpuRequest::new(1000, 1)),
            (&[(RESOURCE_GPU_MILLI, 1000), (RESOURCE_GPU_COUNT, 4)], None, GpuRequest::new(1000, 4)),
            (&[(RESOURCE_GPU_MILLI, 500)], Some("T4|P100"), GpuRequest::new(500, 1).with_models("P100|T4")),
        ];
        for (reqs, model, want) in cases {
            assert_eq!(&GpuRequest::from_pod(&pod(reqs, *model)), want, "{reqs:?}");
        }
    }

    #[test]
    fn model_restrictions_follow_the_upstream_access_rule() {
        let any = GpuRequest::new(500, 1);
        let t4 = GpuRequest::new(500, 1).with_models("T4|A10");
        assert!(any.accepts_model("V100M16"));
        assert!(any.accepts_model(""));
        assert!(t4.accepts_model("A10"));
        assert!(!t4.accepts_model("V100M16"));
        assert!(!t4.accepts_model(""));
    }

    #[test]
    fn the_gpu_filter_needs_one_gpu_for_a_share_and_count_free_gpus_for_whole_gpus() {
        let cases: &[(GpuRequest, &[i64], bool)] = &[
            (GpuRequest::none(), &[], true),
            (GpuRequest::new(500, 1), &[], false),
            (GpuRequest::new(500, 1), &[400, 500], true),
            (GpuRequest::new(500, 1), &[400, 499], false),
            (GpuRequest::new(1000, 2), &[1000, 999, 1000], true),
            (GpuRequest::new(1000, 2), &[1000, 999, 0], false),
        ];
        for (req, free, want) in cases {
            assert_eq!(gpus_fit(req, free, "T4"), *want, "{req:?} on {free:?}");
        }
    }

    #[test]
    fn gpu_selection_picks_best_worst_and_lowest_free_whole_gpus() {
        let mut never = |_n: usize| -> usize { panic!("no draw expected") };
        let free = [1000, 300, 600, 300];
        let share = GpuRequest::new(250, 1);
        assert_eq!(select_gpus(&share, &free, GpuSelection::Best, &mut never), Some(vec![1]));
        assert_eq!(select_gpus(&share, &free, GpuSelection::Worst, &mut never), Some(vec![0]));
        let mut last = |n: usize| n - 1;
        assert_eq!(select_gpus(&share, &free, GpuSelection::Random, &mut last), Some(vec![3]));
        let two = GpuRequest::new(1000, 2);
        assert_eq!(select_gpus(&two, &[0, 1000, 500, 1000, 1000], GpuSelection::Best, &mut never), Some(vec![1, 3]));
        assert_eq!(select_gpus(&two, &[0, 1000], GpuSelection::Best, &mut never), None);
        assert_eq!(select_gpus(&GpuRequest::none(), &[], GpuSelection::Best, &mut never), Some(vec![]));
    }

    #[test]
    fn the_policies_what_if_takes_gpus_in_ascending_free_order() {
        assert_eq!(sub_order_gpus(&GpuRequest::new(300, 2), &[1000, 300, 600, 200]), Some(vec![1, 2]));
    }
}
