//! GpuClustering (`gpu_clustering_score.go`): keep pods of one GPU shape together. Base
//! `25·(8000 − GL)/8000`, plus 75 when the node runs only pods of the pod's shape, 50 when it runs
//! them among others, 25 when it runs no GPU pod, 0 when only other shapes. CPU pods score 0.

use super::{NodeView, PodView, affinity_tag};
use crate::model::gpu::MAX_SPEC_GPU_MILLIS;

/// The score plugin name.
pub const NAME: &str = "GpuClusteringScore";

/// The score.
pub fn score(node: &NodeView, pod: &PodView) -> i64 {
    let Some(tag) = affinity_tag(pod.gpu) else {
        return 0;
    };
    let base = 25 * (MAX_SPEC_GPU_MILLIS - node.gpu_left()) / MAX_SPEC_GPU_MILLIS;
    let has = node.tags.iter().any(|(t, c)| *t == tag && *c > 0);
    let others = node.tags.iter().any(|(t, c)| *t != tag && *c > 0);
    base + match (has, others) {
        (true, false) => 75,
        (true, true) => 50,
        (false, false) => 25,
        (false, true) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuRequest;

    #[test]
    fn gpu_clustering_prefers_nodes_of_the_same_shape() {
        let share = GpuRequest::new(500, 1);
        type Case = (&'static str, &'static [i64], &'static [(u32, u32)], GpuRequest, i64);
        let cases: &[Case] = &[
            ("a cpu pod scores 0", &[1000], &[], GpuRequest::none(), 0),
            ("an empty 8-gpu node: base 0 + 25", &[1000; 8], &[], share.clone(), 25),
            ("an empty 2-gpu node: base 18 + 25", &[1000; 2], &[], share.clone(), 43),
            ("only share pods: + 75", &[500, 1000], &[(0, 1)], share.clone(), 95),
            ("share pods among whole-gpu pods: + 50", &[500, 0], &[(0, 1), (1, 1)], share.clone(), 73),
            ("only other shapes: + 0", &[0, 1000], &[(1, 1)], share, 21),
        ];
        for (name, free, tags, g, want) in cases {
            let n = NodeView { cpu_left_millis: 64_000, gpu_free: free, model: "", tags };
            assert_eq!(score(&n, &PodView { cpu_millis: 1000, gpu: g }), *want, "{name}");
        }
    }
}
