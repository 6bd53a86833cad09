//! BestFit (`best_fit_score.go`): the node with the least CPU and GPU left after placement,
//! `int((1 − [0.5·(cpuL−cpu)/128000 + 0.5·(GL − milli·num)/8000]) · 100)`, then min–max
//! normalised over the feasible nodes.

use super::{NodeView, PodView, go_int};
use crate::model::gpu::{MAX_SPEC_CPU_MILLIS, MAX_SPEC_GPU_MILLIS};

/// The score plugin name.
pub const NAME: &str = "BestFitScore";

/// The raw score (before normalisation).
pub fn score(node: &NodeView, pod: &PodView) -> i64 {
    let cpu = (node.cpu_left_millis - pod.cpu_millis) as f64 / MAX_SPEC_CPU_MILLIS as f64;
    let gpu = (node.gpu_left() - pod.gpu.total_milli()) as f64 / MAX_SPEC_GPU_MILLIS as f64;
    go_int((1.0 - (0.5 * cpu + 0.5 * gpu)) * 100.0)
}

/// The plugin's NormalizeScore: `(s − min)·100 / (max − min)`; all equal → 0.
pub fn normalize(scores: &mut [i64]) {
    let (Some(min), Some(max)) = (scores.iter().min().copied(), scores.iter().max().copied()) else {
        return;
    };
    for s in scores.iter_mut() {
        *s = if max == min { 0 } else { (*s - min) * 100 / (max - min) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuRequest;

    #[test]
    fn best_fit_prefers_the_fullest_node() {
        type Case = (&'static str, i64, &'static [i64], i64, GpuRequest, i64);
        let cases: &[Case] = &[
            ("an empty 8-gpu 128-core node after a 1-gpu pod", 128_000, &[1000; 8], 0, GpuRequest::new(1000, 1), 6),
            ("a node left with nothing scores 100", 4000, &[500], 4000, GpuRequest::new(500, 1), 100),
            ("half the cpu and gpu left scores 50", 64_000, &[1000; 4], 0, GpuRequest::none(), 50),
        ];
        for (name, cpu, free, pc, g, want) in cases {
            let n = NodeView { cpu_left_millis: *cpu, gpu_free: free, model: "", tags: &[] };
            assert_eq!(score(&n, &PodView { cpu_millis: *pc, gpu: g }), *want, "{name}");
        }
    }

    #[test]
    fn normalisation_maps_min_to_0_and_max_to_100() {
        let mut s = [10, 20, 15];
        normalize(&mut s);
        assert_eq!(s, [0, 100, 50]);
        let mut s = [7, 7];
        normalize(&mut s);
        assert_eq!(s, [0, 0]);
    }
}
