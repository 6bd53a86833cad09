//! WorstFit (not in the FGD simulator; the mirror of BestFit): the node with the most CPU and
//! GPU left after placement, `int([0.5·(cpuL−cpu)/128000 + 0.5·(GL − milli·num)/8000] · 100)`,
//! min–max normalised like BestFit. GPU selection `worst`.

use super::{NodeView, PodView, go_int};
use crate::model::gpu::{MAX_SPEC_CPU_MILLIS, MAX_SPEC_GPU_MILLIS};

/// The score plugin name.
pub const NAME: &str = "WorstFitScore";

/// The raw score (before normalisation).
pub fn score(node: &NodeView, pod: &PodView) -> i64 {
    let cpu = (node.cpu_left_millis - pod.cpu_millis) as f64 / MAX_SPEC_CPU_MILLIS as f64;
    let gpu = (node.gpu_left() - pod.gpu.total_milli()) as f64 / MAX_SPEC_GPU_MILLIS as f64;
    go_int((0.5 * cpu + 0.5 * gpu) * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuRequest;

    #[test]
    fn worst_fit_prefers_the_emptiest_node() {
        type Case = (&'static str, i64, &'static [i64], i64, GpuRequest, i64);
        let cases: &[Case] = &[
            ("an empty 8-gpu 128-core node after a 1-gpu pod", 128_000, &[1000; 8], 0, GpuRequest::new(1000, 1), 93),
            ("a node left with nothing scores 0", 4000, &[500], 4000, GpuRequest::new(500, 1), 0),
        ];
        for (name, cpu, free, pc, g, want) in cases {
            let n = NodeView { cpu_left_millis: *cpu, gpu_free: free, model: "", tags: &[] };
            assert_eq!(score(&n, &PodView { cpu_millis: *pc, gpu: g }), *want, "{name}");
        }
    }
}
