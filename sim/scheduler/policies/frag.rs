//! GPU fragmentation (`pkg/utils/frag.go` of the FGD simulator): the typical-pod distribution
//! and a node's fragmentation against it, in the seven categories.
//!
//! A node's fragmentation `F(n)` is the expected free milli-GPU that a random typical pod cannot
//! use: for every typical pod type `t` (frequency `p_t`), the node's free GPU milli counts as
//! fragment unless `t` fits (category q3), in which case only the GPUs too small for `t` count.
//! CPU-only typical pods make all free GPU milli count.

use crate::model::gpu::GpuRequest;
use serde::{Deserialize, Serialize};

/// One typical pod type and its frequency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TypicalPod {
    /// CPU request, millicores.
    pub cpu_millis: i64,
    /// GPU request.
    pub gpu: GpuRequest,
    /// Frequency among the typical types (they sum to 1).
    pub freq: f64,
}

/// The typical-pod distribution (`GetTypicalPods`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TypicalPods {
    /// The types, most popular first.
    pub pods: Vec<TypicalPod>,
}

/// The share of all pods the typical types must cover (`podPopularityThreshold` 95 %).
pub const POPULARITY_THRESHOLD_PCT: u64 = 95;

impl TypicalPods {
    /// Counts pods per (CPU, milli-GPU, GPU count, GPU models), sorts by count (ties: larger key
    /// first), and keeps the most popular types until they cover 95 % of the pods; their
    /// frequencies are renormalised to sum to 1.
    pub fn from_pods<'a>(pods: impl IntoIterator<Item = (i64, &'a GpuRequest)>) -> Self {
        let mut counts: std::collections::BTreeMap<(i64, GpuRequest), u64> = Default::default();
        for (cpu, gpu) in pods {
            *counts.entry((cpu, gpu.clone())).or_insert(0) += 1;
        }
        Self::from_counts(&counts)
    }

    /// [`TypicalPods::from_pods`] from the number of pods of each (CPU millicores, GPU request).
    pub fn from_counts(counts: &std::collections::BTreeMap<(i64, GpuRequest), u64>) -> Self {
        let total: u64 = counts.values().sum();
        let mut v: Vec<_> = counts.iter().map(|(k, c)| (k.clone(), *c)).collect();
        // count desc, then key desc (the BTreeMap gives key asc; a stable sort keeps it reversed).
        v.reverse();
        v.sort_by_key(|e| std::cmp::Reverse(e.1));
        let mut kept = Vec::new();
        let mut covered = 0u64;
        for (key, c) in v {
            if covered * 100 >= total * POPULARITY_THRESHOLD_PCT {
                break;
            }
            covered += c;
            kept.push((key, c));
        }
        let pods = kept
            .into_iter()
            .map(|((cpu, gpu), c)| TypicalPod { cpu_millis: cpu, gpu, freq: c as f64 / covered as f64 })
            .collect();
        TypicalPods { pods }
    }
}

/// The seven fragmentation categories of one node, in milli-GPU.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FragCategories {
    /// Q1: the typical pod lacks both GPU and CPU.
    pub q1_lack_both: f64,
    /// Q2: lacks GPU (plus, for satisfied types, the GPUs too small for them).
    pub q2_lack_gpu: f64,
    /// Q3: satisfied (not fragment).
    pub q3_satisfied: f64,
    /// Q4: lacks CPU.
    pub q4_lack_cpu: f64,
    /// XL: CPU-only typical pod that fits (its idle GPUs are fragment).
    pub xl_satisfied: f64,
    /// XR: CPU-only typical pod that does not fit.
    pub xr_lack_cpu: f64,
    /// The GPU model is not accessible to the typical pod.
    pub no_access: f64,
}

impl FragCategories {
    /// Everything except Q3 (`FragAmountSumExceptQ3`).
    pub fn sum_except_q3(&self) -> f64 {
        self.q1_lack_both + self.q2_lack_gpu + self.q4_lack_cpu + self.xl_satisfied + self.xr_lack_cpu + self.no_access
    }
}

/// The seven categories of a node with `cpu_left_millis` CPU, GPUs with free milli `gpu_free`
/// and model `model`, against `typical`.
pub fn node_frag_categories(
    cpu_left_millis: i64,
    gpu_free: &[i64],
    model: &str,
    typical: &TypicalPods,
) -> FragCategories {
    let gl: i64 = gpu_free.iter().sum();
    let glf = gl as f64;
    let mut c = FragCategories::default();
    for t in &typical.pods {
        let p = t.freq;
        let cpu_ok = cpu_left_millis >= t.cpu_millis;
        if t.gpu.milli_per_gpu == 0 {
            if cpu_ok {
                c.xl_satisfied += p * glf;
            } else {
                c.xr_lack_cpu += p * glf;
            }
            continue;
        }
        if !t.gpu.accepts_model(model) {
            c.no_access += p * glf;
            continue;
        }
        let mut fit = 0u32;
        let mut small = 0i64;
        for f in gpu_free {
            if *f >= t.gpu.milli_per_gpu {
                fit += 1;
            } else {
                small += f;
            }
        }
        match (fit >= t.gpu.count, cpu_ok) {
            (true, true) => {
                c.q3_satisfied += p * (gl - small) as f64;
                c.q2_lack_gpu += p * small as f64;
            }
            (true, false) => c.q4_lack_cpu += p * glf,
            (false, true) => c.q2_lack_gpu += p * glf,
            (false, false) => c.q1_lack_both += p * glf,
        }
    }
    c
}

/// A node's fragmentation `F(n)` in milli-GPU (all categories but Q3).
pub fn node_frag(cpu_left_millis: i64, gpu_free: &[i64], model: &str, typical: &TypicalPods) -> f64 {
    let gl: i64 = gpu_free.iter().sum();
    if gl == 0 {
        return 0.0;
    }
    let glf = gl as f64;
    let mut f = 0.0;
    for t in &typical.pods {
        let p = t.freq;
        if t.gpu.milli_per_gpu == 0 || !t.gpu.accepts_model(model) {
            f += p * glf;
            continue;
        }
        let mut fit = 0u32;
        let mut small = 0i64;
        for g in gpu_free {
            if *g >= t.gpu.milli_per_gpu {
                fit += 1;
            } else {
                small += g;
            }
        }
        if fit >= t.gpu.count && cpu_left_millis >= t.cpu_millis {
            f += p * small as f64;
        } else {
            f += p * glf;
        }
    }
    f
}

/// A memo of [`node_frag`] by node state (CPU left, model, sorted free milli of up to 8 GPUs),
/// since many nodes are in the same state. Nodes with more than 8 GPUs are not memoised.
#[derive(Clone, Debug, Default)]
pub struct FragCache {
    memo: indexmap::IndexMap<u128, f64>,
}

impl FragCache {
    /// An empty memo.
    pub fn new() -> Self {
        Self::default()
    }

    /// `F(n)` of a node, memoised. `model_id` must identify `model` (up to 63).
    pub fn frag(
        &mut self,
        cpu_left_millis: i64,
        gpu_free: &[i64],
        model: &str,
        model_id: u8,
        typical: &TypicalPods,
    ) -> f64 {
        let Some(key) = key(cpu_left_millis, gpu_free, model_id) else {
            return node_frag(cpu_left_millis, gpu_free, model, typical);
        };
        if let Some(v) = self.memo.get(&key) {
            return *v;
        }
        let v = node_frag(cpu_left_millis, gpu_free, model, typical);
        self.memo.insert(key, v);
        v
    }
}

fn key(cpu_left_millis: i64, gpu_free: &[i64], model_id: u8) -> Option<u128> {
    if gpu_free.len() > 8 || !(0..(1 << 30)).contains(&cpu_left_millis) || model_id >= 64 {
        return None;
    }
    let mut g = [0u16; 8];
    for (i, f) in gpu_free.iter().enumerate() {
        g[i] = u16::try_from(*f).ok().filter(|v| *v <= 1023)?;
    }
    let n = gpu_free.len();
    g[..n].sort_unstable();
    let mut k: u128 = cpu_left_millis as u128;
    k = (k << 6) | u128::from(model_id);
    k = (k << 4) | n as u128;
    for v in &g[..n] {
        k = (k << 10) | u128::from(*v);
    }
    for _ in n..8 {
        k <<= 10;
    }
    Some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typical(types: &[(i64, i64, u32, f64)]) -> TypicalPods {
        TypicalPods {
            pods: types
                .iter()
                .map(|(cpu, milli, n, f)| TypicalPod { cpu_millis: *cpu, gpu: GpuRequest::new(*milli, *n), freq: *f })
                .collect(),
        }
    }

    #[test]
    fn the_typical_pods_cover_95_percent_most_popular_first() {
        let a = GpuRequest::new(500, 1);
        let b = GpuRequest::new(1000, 1);
        let none = GpuRequest::none();
        // 10 pods: 6 × a, 3 × b, 1 × cpu-only → 90 % after two types, 100 % after three.
        let mut pods: Vec<(i64, &GpuRequest)> = vec![(1000, &a); 6];
        pods.extend(vec![(2000, &b); 3]);
        pods.push((4000, &none));
        let t = TypicalPods::from_pods(pods);
        assert_eq!(t.pods.len(), 3);
        assert_eq!((t.pods[0].cpu_millis, t.pods[0].freq), (1000, 0.6));
        assert_eq!((t.pods[2].cpu_millis, t.pods[2].freq), (4000, 0.1));
        // 20 pods where the first 19 cover exactly 95 %: the rest is left out and renormalised.
        let mut pods: Vec<(i64, &GpuRequest)> = vec![(1000, &a); 19];
        pods.push((4000, &none));
        let t = TypicalPods::from_pods(pods);
        assert_eq!(t.pods.len(), 1);
        assert_eq!(t.pods[0].freq, 1.0);
    }

    #[test]
    fn equally_popular_types_put_the_larger_request_first() {
        let a = GpuRequest::new(500, 1);
        let t = TypicalPods::from_pods(vec![(1000, &a), (3000, &a)]);
        assert_eq!(t.pods[0].cpu_millis, 3000);
    }

    #[test]
    fn node_fragmentation_against_a_known_mix() {
        // Mix: 50 % half-GPU pods (1 core), 25 % one whole GPU (8 cores), 25 % CPU-only.
        let mix = typical(&[(1000, 500, 1, 0.5), (8000, 1000, 1, 0.25), (2000, 0, 0, 0.25)]);
        let cases: &[(&str, i64, &[i64], f64)] = &[
            // An empty 2-GPU node: only the CPU-only share of its 2000 free milli is fragment.
            ("an empty node counts only the cpu-only share", 64000, &[1000, 1000], 500.0),
            // One GPU at 300 free: too small for both GPU types (q2: 0.5·300 + 0.25·300) + xl 0.25·1300.
            ("a small leftover is fragment for the types it cannot hold", 64000, &[1000, 300], 550.0),
            // No CPU left for the whole-GPU type: q4 counts all 2000 for it.
            ("lack of cpu makes the whole node fragment for that type", 4000, &[1000, 1000], 1000.0),
            ("a node without free gpu has no fragmentation", 64000, &[0, 0], 0.0),
            ("a cpu node has no fragmentation", 64000, &[], 0.0),
        ];
        for (name, cpu, free, want) in cases {
            let f = node_frag(*cpu, free, "T4", &mix);
            assert!((f - want).abs() < 1e-9, "{name}: {f} != {want}");
            let c = node_frag_categories(*cpu, free, "T4", &mix);
            assert!((c.sum_except_q3() - want).abs() < 1e-9, "{name}: categories");
            let total: i64 = free.iter().sum();
            assert!(
                (c.sum_except_q3() + c.q3_satisfied - total as f64).abs() < 1e-9,
                "{name}: all categories sum to free"
            );
        }
    }

    #[test]
    fn a_model_restricted_type_counts_other_models_as_no_access() {
        let mut mix = typical(&[(1000, 500, 1, 1.0)]);
        mix.pods[0].gpu = GpuRequest::new(500, 1).with_models("V100M16");
        let c = node_frag_categories(64000, &[1000], "T4", &mix);
        assert_eq!(c.no_access, 1000.0);
        assert_eq!(node_frag(64000, &[1000], "T4", &mix), 1000.0);
        assert_eq!(node_frag(64000, &[1000], "V100M16", &mix), 0.0);
    }

    #[test]
    fn the_memo_gives_the_same_value_for_permuted_gpus() {
        let mix = typical(&[(1000, 500, 1, 0.5), (2000, 0, 0, 0.5)]);
        let mut m = FragCache::new();
        let a = m.frag(32000, &[300, 1000], "T4", 1, &mix);
        let b = m.frag(32000, &[1000, 300], "T4", 1, &mix);
        assert_eq!(a, b);
        assert_eq!(a, node_frag(32000, &[300, 1000], "T4", &mix));
        assert_eq!(m.memo.len(), 1);
    }
}
