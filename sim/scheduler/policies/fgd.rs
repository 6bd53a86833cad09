//! FGD, fragmentation gradient descent (`fgd_score.go`): place the pod where it increases the
//! node's fragmentation least. Score = `int(sigmoid((F(n) − F(n')) / 1000) · 100)` where `n'` is
//! the node after placement; for a GPU-share pod every fitting GPU is tried and the best one
//! (lowest index on ties) is also the GPU FGD chooses.

use super::{NodeView, PodView};
use crate::model::gpu::sub_order_gpus;

/// The score plugin name.
pub const NAME: &str = "FGDScore";

/// `1 / (1 + e^-x)`, with `libm` so that every platform gives the same bits.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

/// FGD's score of `pod` on `node` and, for a GPU-share pod, the GPU it chooses. `frag(cpu_left,
/// gpu_free)` computes `F` of a node state (the same node, so same model); `frag_now` is `F(n)`.
/// The node must be feasible.
pub fn score(
    node: &NodeView,
    pod: &PodView,
    frag_now: f64,
    frag: &mut dyn FnMut(i64, &[i64]) -> f64,
) -> (i64, Vec<u32>) {
    if pod.cpu_millis == 0 && !pod.gpu.is_gpu() {
        return (100, Vec::new());
    }
    let to_score = |after: f64| super::go_int(sigmoid((frag_now - after) / 1000.0) * 100.0);
    let cpu_after = node.cpu_left_millis - pod.cpu_millis;
    let mut free: Vec<i64> = node.gpu_free.to_vec();
    if pod.gpu.is_share() {
        let milli = pod.gpu.milli_per_gpu;
        let mut best: Option<(i64, u32)> = None;
        let mut tried: Vec<(i64, i64)> = Vec::new(); // (free before, score): equal free gives equal F(n')
        for i in 0..free.len() {
            let before = node.gpu_free[i];
            if before < milli {
                continue;
            }
            let s = if let Some((_, s)) = tried.iter().find(|(b, _)| *b == before) {
                *s
            } else {
                free[i] = before - milli;
                let s = to_score(frag(cpu_after, &free));
                free[i] = before;
                tried.push((before, s));
                s
            };
            if best.is_none_or(|(bs, _)| s > bs) {
                best = Some((s, i as u32));
            }
        }
        return match best {
            Some((s, i)) => (s, vec![i]),
            None => (0, Vec::new()),
        };
    }
    let mut gpus = Vec::new();
    if pod.gpu.is_gpu() {
        let Some(g) = sub_order_gpus(pod.gpu, &free) else {
            return (0, Vec::new());
        };
        for i in &g {
            free[*i as usize] -= pod.gpu.milli_per_gpu;
        }
        gpus = g;
        gpus.sort_unstable();
    }
    (to_score(frag(cpu_after, &free)), gpus)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::GpuRequest;
    use crate::scheduler::policies::frag::{TypicalPod, TypicalPods, node_frag};

    fn mix() -> TypicalPods {
        // 50 % half-GPU pods, 50 % whole-GPU pods, all 1 core.
        TypicalPods {
            pods: vec![
                TypicalPod { cpu_millis: 1000, gpu: GpuRequest::new(500, 1), freq: 0.5 },
                TypicalPod { cpu_millis: 1000, gpu: GpuRequest::new(1000, 1), freq: 0.5 },
            ],
        }
    }

    fn fgd(cpu: i64, free: &[i64], pod_cpu: i64, gpu: GpuRequest) -> (i64, Vec<u32>) {
        let t = mix();
        let n = NodeView { cpu_left_millis: cpu, gpu_free: free, model: "T4", tags: &[] };
        let p = PodView { cpu_millis: pod_cpu, gpu: &gpu };
        let now = node_frag(cpu, free, "T4", &t);
        score(&n, &p, now, &mut |c, f| node_frag(c, f, "T4", &t))
    }

    #[test]
    fn fgd_scores_follow_the_fragmentation_change() {
        type Case = (&'static str, i64, &'static [i64], i64, GpuRequest, (i64, Vec<u32>));
        let cases: &[Case] = &[
            // A half pod on a half-used GPU fills it: F drops from 250 (0.5 of the 500 left) to 0.
            (
                "filling a half-used gpu lowers fragmentation",
                8000,
                &[500, 1000],
                1000,
                GpuRequest::new(500, 1),
                (56, vec![0]),
            ),
            // On an empty node it cuts a whole GPU in half: F rises 0 → 250.
            (
                "cutting a fresh gpu raises fragmentation",
                8000,
                &[1000, 1000],
                1000,
                GpuRequest::new(500, 1),
                (43, vec![0]),
            ),
            // A whole-GPU pod on an empty node: F stays 0 → sigmoid(0) = 0.5.
            (
                "a whole gpu on an empty node changes nothing",
                8000,
                &[1000, 1000],
                1000,
                GpuRequest::new(1000, 1),
                (50, vec![0]),
            ),
            // Taking the last core makes the remaining GPU unusable: F 0 → 1000.
            ("using the last cpu strands the gpu", 1500, &[1000, 1000], 1000, GpuRequest::new(1000, 1), (26, vec![0])),
            ("an empty pod scores 100", 8000, &[1000], 0, GpuRequest::none(), (100, vec![])),
        ];
        for (name, cpu, free, pc, g, want) in cases {
            assert_eq!(&fgd(*cpu, free, *pc, g.clone()), want, "{name}");
        }
    }

    #[test]
    fn fgd_chooses_the_gpu_that_fragments_least() {
        // GPU 1 has 500 left: the half pod goes there, not on the fresh GPU 0.
        assert_eq!(fgd(8000, &[1000, 500, 1000], 1000, GpuRequest::new(500, 1)).1, vec![1]);
    }

    #[test]
    fn sigmoid_is_the_logistic_function() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!((sigmoid(1.0) - 0.731_058_578_630_004_9).abs() < 1e-15);
    }
}
