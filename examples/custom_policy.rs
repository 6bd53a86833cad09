//! A whole policy in Rust: bin packing with gang placement, the same algorithm as
//! `examples/policy.py` (which runs out of process).
//!
//! Each pod goes to the feasible node that is fullest after placing it (per-mille CPU plus
//! per-mille memory allocated, integer arithmetic), ties to the lowest node name. Pods sharing a
//! `kubesim.io/pod-group` label value are placed together, all or none.
//!
//! ```sh
//! cargo run --example custom_policy
//! ```

use kubesim::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

/// The label whose value names a pod's gang.
pub const GROUP_LABEL: &str = "kubesim.io/pod-group";

/// Bin packing, gang-aware.
pub struct BinPack;

#[derive(Clone, Copy, Default)]
struct Extra {
    cpu_millis: i64,
    memory_bytes: i64,
    pods: i64,
}

fn fits(n: &NodeState, e: Extra, p: &Pod) -> bool {
    let (a, r) = (&n.node.allocatable, &n.requested);
    r.cpu_millis + e.cpu_millis + p.requests.cpu_millis <= a.cpu_millis
        && r.memory_bytes + e.memory_bytes + p.requests.memory_bytes <= a.memory_bytes
        && n.pods.len() as i64 + e.pods < a.pods
}

fn score(n: &NodeState, e: Extra, p: &Pod) -> i64 {
    let (a, r) = (&n.node.allocatable, &n.requested);
    let mut s = 0;
    if a.cpu_millis > 0 {
        s += (r.cpu_millis + e.cpu_millis + p.requests.cpu_millis) * 1000 / a.cpu_millis;
    }
    if a.memory_bytes > 0 {
        s += ((r.memory_bytes + e.memory_bytes + p.requests.memory_bytes) as i128 * 1000 / a.memory_bytes as i128)
            as i64;
    }
    s
}

impl Policy for BinPack {
    fn name(&self) -> String {
        "bin-pack".into()
    }

    fn group(&self, pod: &Pod) -> Option<String> {
        pod.labels.get(GROUP_LABEL).map(|g| format!("{}/{g}", pod.namespace))
    }

    fn place(&mut self, ctx: &mut PolicyContext<'_>, pods: &[PodId]) -> Result<Vec<Decision>, String> {
        let mut extra: BTreeMap<NodeId, Extra> = BTreeMap::new();
        let mut out = Vec::with_capacity(pods.len());
        for &id in pods {
            let pod = ctx.pod(id);
            let mut best: Option<(i64, &str, NodeId)> = None;
            for node in ctx.feasible_nodes(id) {
                let n = ctx.cluster.node(node);
                let e = extra.get(&node).copied().unwrap_or_default();
                if !fits(n, e, pod) {
                    continue;
                }
                let s = score(n, e, pod);
                let name = n.node.name.as_str();
                if best.is_none_or(|(bs, bn, _)| s > bs || (s == bs && name < bn)) {
                    best = Some((s, name, node));
                }
            }
            let Some((_, _, node)) = best else {
                let reason = format!("no feasible node with room for {}", pod.key());
                return Ok(pods.iter().map(|&pod| Decision::Unschedulable { pod, reason: reason.clone() }).collect());
            };
            let e = extra.entry(node).or_default();
            e.cpu_millis += pod.requests.cpu_millis;
            e.memory_bytes += pod.requests.memory_bytes;
            e.pods += 1;
            out.push(Decision::Bind { pod: id, node });
        }
        Ok(out)
    }
}

/// Six 8-CPU nodes; twelve 1-CPU pods, and two gangs of four 2-CPU pods (`train-a` fits,
/// `train-b` asks 4 × 16 CPUs and can never be placed).
pub fn scenario() -> Result<Scenario, InputError> {
    let mut b = ScenarioBuilder::new("custom-policy")
        .seed(3)
        .duration("10m")
        .node_pool("node", 6, "8", "32Gi")
        .pods("web", 12, "1", "1Gi");
    for (gang, cpu) in [("train-a", "2"), ("train-b", "16")] {
        for i in 0..4 {
            b = b.pod(json!({
                "metadata": {"name": format!("{gang}-{i}"), "labels": {GROUP_LABEL: gang}},
                "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}]},
            }));
        }
    }
    b.build()
}

fn main() {
    let sc = match scenario() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    for (label, result) in
        [("default profile", Runner::new(sc.clone()).run()), ("bin-pack policy", Runner::new(sc).policy(BinPack).run())]
    {
        match result {
            Ok(r) => {
                let used: std::collections::BTreeSet<String> = r.placements().into_values().collect();
                println!(
                    "{label:<16} {} pods scheduled on {} nodes, {} unschedulable at the end",
                    r.summary.counts.pods_scheduled,
                    used.len(),
                    r.summary.counts.unschedulable_at_end
                );
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
}
