//! Cluster autoscaler decisions (`kubernetes/autoscaler` cluster-autoscaler), as pure functions:
//! node utilisation (`simulator/utilization`: max of CPU and memory request ratios; GPU nodes by
//! GPU only), the scale-down candidate rule (under 0.5 for 10 minutes), and the expanders that
//! choose a node group for a scale-up (random, least-waste, most-pods).
//!
//! **Not done yet (documented):** the run-loop integration (node groups in the scenario with a
//! node template and a provision delay, the 10 s scan, simulating pending pods on the template
//! with the scheduler's filters, draining and removing unneeded nodes).

use crate::engine::time::{SimDuration, SimTime};
use crate::model::resources::Resources;

/// `--scale-down-utilization-threshold`.
pub const SCALE_DOWN_UTILIZATION: f64 = 0.5;
/// `--scale-down-unneeded-time`.
pub const SCALE_DOWN_UNNEEDED: SimDuration = SimDuration::from_secs(600);
/// `--scan-interval`.
pub const SCAN_INTERVAL: SimDuration = SimDuration::from_secs(10);

/// Utilisation of a node: GPU ratio on GPU nodes, else the larger of the CPU and memory ratios.
pub fn utilization(requested: &Resources, allocatable: &Resources, gpu_requested: i64, gpu_allocatable: i64) -> f64 {
    if gpu_allocatable > 0 {
        return gpu_requested as f64 / gpu_allocatable as f64;
    }
    let r = |a: i64, b: i64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    r(requested.cpu_millis, allocatable.cpu_millis).max(r(requested.memory_bytes, allocatable.memory_bytes))
}

/// Tracks since when each node has been unneeded; a node may go once unneeded for 10 minutes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unneeded {
    since: std::collections::BTreeMap<u32, SimTime>,
}

impl Unneeded {
    /// Records a scan at `now`: `node` is unneeded (under the threshold and its pods fit
    /// elsewhere) or not. Returns true when it may be removed.
    pub fn observe(&mut self, node: u32, unneeded: bool, now: SimTime) -> bool {
        if !unneeded {
            self.since.remove(&node);
            return false;
        }
        let since = *self.since.entry(node).or_insert(now);
        now.saturating_since(since) >= SCALE_DOWN_UNNEEDED
    }
}

/// One node group that could take the pending pods, as the scale-up simulation found it.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleUpOption {
    /// Node group name.
    pub group: String,
    /// Nodes to add.
    pub node_count: i64,
    /// Pending pods the new nodes would hold.
    pub pods: i64,
    /// Requested CPU of those pods (millicores) and the CPU the new nodes add.
    pub cpu_requested: i64,
    /// CPU added.
    pub cpu_added: i64,
    /// Requested memory and memory added (bytes).
    pub memory_requested: i64,
    /// Memory added.
    pub memory_added: i64,
}

/// An expander.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expander {
    /// Uniformly at random (the default).
    Random,
    /// The least unused CPU and memory after the scale-up (`leastwaste`).
    LeastWaste,
    /// The most pods scheduled (`mostpods`).
    MostPods,
}

/// Picks an option index; `draw(n)` gives a uniform index below `n` (the random expander, and
/// ties). Least-waste scores `(cpuWaste + memWaste) / 2` with each waste `(added − requested) /
/// added`, lowest wins; most-pods the highest pod count.
pub fn choose(expander: Expander, options: &[ScaleUpOption], draw: &mut dyn FnMut(u64) -> u64) -> Option<usize> {
    if options.is_empty() {
        return None;
    }
    let best: Vec<usize> = match expander {
        Expander::Random => (0..options.len()).collect(),
        Expander::MostPods => {
            let m = options.iter().map(|o| o.pods).max().unwrap_or(0);
            (0..options.len()).filter(|i| options[*i].pods == m).collect()
        }
        Expander::LeastWaste => {
            let waste = |o: &ScaleUpOption| {
                let w = |req: i64, add: i64| if add > 0 { (add - req) as f64 / add as f64 } else { 0.0 };
                (w(o.cpu_requested, o.cpu_added) + w(o.memory_requested, o.memory_added)) / 2.0
            };
            let m = options.iter().map(waste).fold(f64::INFINITY, f64::min);
            (0..options.len()).filter(|i| waste(&options[*i]) == m).collect()
        }
    };
    Some(best[draw(best.len() as u64) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(group: &str, pods: i64, cpu_req: i64, cpu_add: i64) -> ScaleUpOption {
        ScaleUpOption {
            group: group.into(),
            node_count: 1,
            pods,
            cpu_requested: cpu_req,
            cpu_added: cpu_add,
            memory_requested: cpu_req,
            memory_added: cpu_add,
        }
    }

    #[test]
    fn expanders_choose_as_documented() {
        let options = [opt("big", 6, 6000, 16000), opt("small", 3, 3000, 4000), opt("mid", 6, 6000, 8000)];
        let mut first = |_: u64| 0;
        assert_eq!(
            choose(Expander::LeastWaste, &options, &mut first),
            Some(1),
            "small and mid waste 25 %, big 62 %: the first of the tie"
        );
        assert_eq!(choose(Expander::MostPods, &options, &mut first), Some(0), "ties among the most pods: the draw");
        let mut last = |n: u64| n - 1;
        assert_eq!(choose(Expander::MostPods, &options, &mut last), Some(2));
        assert_eq!(choose(Expander::Random, &options, &mut last), Some(2));
        assert_eq!(choose(Expander::Random, &[], &mut last), None);
    }

    #[test]
    fn utilization_is_the_larger_ratio_or_the_gpu_ratio() {
        let alloc = Resources { cpu_millis: 4000, memory_bytes: 8 << 30, ..Default::default() };
        let req = Resources { cpu_millis: 1000, memory_bytes: 6 << 30, ..Default::default() };
        assert_eq!(utilization(&req, &alloc, 0, 0), 0.75);
        assert_eq!(utilization(&req, &alloc, 1, 4), 0.25);
    }

    #[test]
    fn a_node_goes_after_ten_minutes_unneeded_and_the_clock_restarts_when_it_is_needed() {
        let mut u = Unneeded::default();
        let t = |s: u64| SimTime(s * 1_000_000);
        assert!(!u.observe(1, true, t(0)));
        assert!(!u.observe(1, true, t(590)));
        assert!(!u.observe(1, false, t(595)));
        assert!(!u.observe(1, true, t(600)));
        assert!(u.observe(1, true, t(1200)));
    }
}
