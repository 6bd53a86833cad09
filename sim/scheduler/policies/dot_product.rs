//! DotProduct, "Tetris" (`dot_product_score.go` with dimExt `merge`, norm `max`): node vector
//! `[cpuL/128000, GL/8000]`, pod vector `[cpu/128000, milli·num/8000]`, score
//! `int(100 · (1 − dot/2))` (0 when the CPU does not fit): the smaller the alignment, the higher.

use super::{NodeView, PodView, go_int};
use crate::model::gpu::{MAX_SPEC_CPU_MILLIS, MAX_SPEC_GPU_MILLIS};

/// The score plugin name.
pub const NAME: &str = "DotProductScore";

/// The score.
pub fn score(node: &NodeView, pod: &PodView) -> i64 {
    if node.cpu_left_millis < pod.cpu_millis {
        return 0;
    }
    let c = MAX_SPEC_CPU_MILLIS as f64;
    let g = MAX_SPEC_GPU_MILLIS as f64;
    let dot = (node.cpu_left_millis as f64 / c) * (pod.cpu_millis as f64 / c)
        + (node.gpu_left() as f64 / g) * (pod.gpu.total_milli() as f64 / g);
    go_int(100.0 * (1.0 - dot / 2.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuRequest;

    #[test]
    fn dot_product_prefers_the_least_aligned_node() {
        type Case = (&'static str, i64, &'static [i64], i64, GpuRequest, i64);
        let cases: &[Case] = &[
            // dot = 1·0.5 + 1·0.5 = 1 → 50.
            ("a full-size node and a half-size pod", 128_000, &[1000; 8], 64_000, GpuRequest::new(1000, 4), 50),
            // dot = 0.5·0.5 + 0.125·0.5 = 0.3125 → 84.
            ("a half-free node scores higher", 64_000, &[1000], 64_000, GpuRequest::new(1000, 4), 84),
            ("a node without the cpu scores 0", 1000, &[1000], 2000, GpuRequest::none(), 0),
        ];
        for (name, cpu, free, pc, g, want) in cases {
            let n = NodeView { cpu_left_millis: *cpu, gpu_free: free, model: "", tags: &[] };
            assert_eq!(score(&n, &PodView { cpu_millis: *pc, gpu: g }), *want, "{name}");
        }
    }
}
