//! GpuPacking (`gpu_packing_score.go`): prefer GPUs already shared, then partly used nodes, then
//! the smallest fully free nodes. CPU pods score 0 everywhere.

use super::{NodeView, PodView};
use crate::model::gpu::{MILLI, sub_order_gpus};

/// The score plugin name.
pub const NAME: &str = "GpuPackingScore";

/// The score.
pub fn score(node: &NodeView, pod: &PodView) -> i64 {
    if pod.gpu.milli_per_gpu <= 0 {
        return 0;
    }
    let fully_free = node.gpu_free.iter().filter(|f| **f == MILLI).count() as i64;
    if fully_free == node.gpu_free.len() as i64 {
        return (33 - fully_free).max(fully_free);
    }
    let Some(chosen) = sub_order_gpus(pod.gpu, node.gpu_free) else {
        return 0;
    };
    let free_chosen = chosen.iter().filter(|i| node.gpu_free[**i as usize] == MILLI).count() as i64;
    if free_chosen > 0 {
        return (50 - free_chosen).max(33);
    }
    let sum: i64 = chosen.iter().map(|i| node.gpu_free[*i as usize] * 100 / MILLI).sum();
    (100 - sum / 10).max(50)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuRequest;

    #[test]
    fn gpu_packing_scores_as_upstream_tests() {
        let share = GpuRequest::new(500, 1);
        let cases: &[(&str, &[i64], GpuRequest, i64)] = &[
            ("a cpu pod scores 0", &[1000, 1000], GpuRequest::none(), 0),
            ("an empty 8-gpu node scores 25", &[1000; 8], share.clone(), 25),
            ("an empty 2-gpu node scores 31", &[1000; 2], share.clone(), 31),
            ("an empty 1-gpu node scores 32", &[1000], share.clone(), 32),
            ("a partly used node with a fresh gpu chosen scores 49", &[1000, 200], share.clone(), 49),
            ("two fresh gpus chosen score 48", &[1000, 1000, 0], GpuRequest::new(1000, 2), 48),
            ("a shared gpu with 600 free scores 94", &[1000, 600], share.clone(), 94),
            ("a barely used shared gpu scores 91", &[999, 1000], share, 91),
        ];
        for (name, free, g, want) in cases {
            let n = NodeView { cpu_left_millis: 64_000, gpu_free: free, model: "", tags: &[] };
            assert_eq!(score(&n, &PodView { cpu_millis: 1000, gpu: g }), *want, "{name}");
        }
    }
}
