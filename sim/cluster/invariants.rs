//! The whole-cluster invariant checker, run after every event in tests and with
//! `--check-invariants`.
//!
//! It recounts every node's aggregates from the pods assigned to it and compares them with the
//! incrementally kept ones, checks that no Ready node is over-allocated, and that every pod is in
//! exactly one place (on exactly one node's list when assigned, on none otherwise).

use crate::cluster::state::{ClusterState, NodeId, PodId, PodPhase};
use crate::model::pod::HostPort;
use crate::model::resources::Resources;
use crate::scheduler::plugins::node_ports::conflicts;
use std::collections::BTreeMap;

/// The first invariant found broken, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invariant violated: {0}")]
pub struct Violation(pub String);

/// A node's aggregates recounted from its pods: requested, non-zero CPU, non-zero memory, host
/// ports, pod ids.
type Recount = (Resources, i64, i64, BTreeMap<HostPort, u32>, Vec<u32>);

/// Recounts every node's per-device GPU use from its assigned pods' chosen devices: free milli
/// must equal 1000 minus the use, and never be negative.
fn check_gpus(cluster: &ClusterState) -> Result<(), Violation> {
    let mut used: Vec<Vec<i64>> = cluster.nodes().iter().map(|n| vec![0; n.gpu_free_milli.len()]).collect();
    for p in cluster.pods().filter(|p| p.is_assigned() && !p.gpu_indices.is_empty()) {
        let Some(NodeId(n)) = p.node else { continue };
        let milli = crate::model::gpu::GpuRequest::from_pod(&p.pod).milli_per_gpu;
        for i in &p.gpu_indices {
            let Some(u) = used.get_mut(n as usize).and_then(|d| d.get_mut(*i as usize)) else {
                return Err(Violation(format!("pod {} holds GPU {i} that its node does not have", p.pod.key())));
            };
            *u += milli;
        }
    }
    for (node, u) in cluster.nodes().iter().zip(used) {
        for (i, (free, used)) in node.gpu_free_milli.iter().zip(u).enumerate() {
            if *free != crate::model::gpu::MILLI - used || *free < 0 {
                return Err(Violation(format!(
                    "node {}: GPU {i} has {free} milli free but its pods use {used}",
                    node.node.name
                )));
            }
        }
    }
    Ok(())
}

/// Storage: a bound claim's volume exists and points back at it (so no volume serves two claims),
/// and an assigned pod (placed by the scheduler) sits on a node its bound volumes admit.
fn check_volumes(cluster: &ClusterState) -> Result<(), Violation> {
    let store = cluster.volumes();
    if store.is_empty() {
        return Ok(());
    }
    for c in store.claims.values().filter(|c| c.bound) {
        let ok = store.bound_volume(c).is_some_and(|v| v.claim_ref.as_ref() == Some(&c.key()));
        if !ok {
            return Err(Violation(format!(
                "claim {}/{} is bound to {:?}, which does not point back at it",
                c.namespace, c.name, c.volume_name
            )));
        }
    }
    for p in cluster.pods().filter(|p| p.is_assigned() && !p.pod.volumes.is_empty() && p.pod.node_name.is_none()) {
        let Some(n) = p.node else { continue };
        let node = &cluster.node(n).node;
        for name in crate::model::volume::pod_claims(&p.pod) {
            let Some(c) = store.claim(&p.pod.namespace, &name) else { continue };
            let Some(v) = store.bound_volume(c) else {
                return Err(Violation(format!("pod {} runs with claim {name} unbound", p.pod.key())));
            };
            if !v.node_affinity_matches(&node.name, &node.labels) {
                return Err(Violation(format!(
                    "pod {} runs on {} outside the node affinity of its volume {}",
                    p.pod.key(),
                    node.name,
                    v.name
                )));
            }
        }
    }
    Ok(())
}

/// Checks every invariant of the cluster state.
pub fn check(cluster: &ClusterState) -> Result<(), Violation> {
    let mut expected: Vec<Recount> = vec![Default::default(); cluster.nodes().len()];
    for (i, p) in cluster.pod_entries() {
        if p.detached {
            return Err(Violation(format!("pod {} was left detached by a preemption dry run", p.pod.key())));
        }
        if p.phase == PodPhase::Running && p.node.is_none() {
            return Err(Violation(format!("pod {} is Running without a node", p.pod.key())));
        }
        if p.is_assigned() {
            let Some(NodeId(n)) = p.node else { continue };
            let Some(e) = expected.get_mut(n as usize) else {
                return Err(Violation(format!("pod {} is bound to unknown node #{n}", p.pod.key())));
            };
            e.0.add(&p.pod.requests);
            e.1 += p.pod.non_zero_cpu_millis;
            e.2 += p.pod.non_zero_memory_bytes;
            for hp in &p.pod.host_ports {
                *e.3.entry(hp.clone()).or_insert(0) += 1;
            }
            e.4.push(i.0);
        }
        if p.phase.is_terminal() && p.finished.is_none() {
            return Err(Violation(format!("pod {} is {} with no finish time", p.pod.key(), p.phase.as_str())));
        }
    }
    check_gpus(cluster)?;
    check_volumes(cluster)?;
    for (n, (node, e)) in cluster.nodes().iter().zip(expected).enumerate() {
        let name = &node.node.name;
        if node.requested != e.0 {
            return Err(Violation(format!(
                "node {name}: requested {:?} but its pods request {:?}",
                node.requested, e.0
            )));
        }
        if node.non_zero_cpu_millis != e.1 || node.non_zero_memory_bytes != e.2 {
            return Err(Violation(format!("node {name}: non-zero requests differ from a recount")));
        }
        if node.used_ports != e.3 {
            return Err(Violation(format!("node {name}: used host ports differ from a recount")));
        }
        let with_aff: Vec<u32> =
            e.4.iter().copied().filter(|i| cluster.pod(PodId(*i)).pod.affinity.has_pod_affinity_terms()).collect();
        let mut got_aff: Vec<u32> = node.pods_with_affinity.iter().map(|p| p.0).collect();
        got_aff.sort_unstable();
        if with_aff != got_aff {
            return Err(Violation(format!("node {name}: pods_with_affinity differs from a recount")));
        }
        let with_anti: Vec<u32> =
            e.4.iter().copied().filter(|i| cluster.pod(PodId(*i)).pod.affinity.has_required_anti_affinity()).collect();
        let mut got_anti: Vec<u32> = node.pods_with_required_anti_affinity.iter().map(|p| p.0).collect();
        got_anti.sort_unstable();
        if with_anti != got_anti {
            return Err(Violation(format!("node {name}: pods_with_required_anti_affinity differs from a recount")));
        }
        let id = NodeId(n as u32);
        if cluster.nodes_with_affinity_pods().contains(&id) == with_aff.is_empty()
            || cluster.nodes_with_required_anti_affinity_pods().contains(&id) == with_anti.is_empty()
        {
            return Err(Violation(format!("node {name}: the affinity node indexes differ from a recount")));
        }
        let ports: Vec<(&HostPort, &u32)> = node.used_ports.iter().collect();
        for (i, (a, count)) in ports.iter().enumerate() {
            let clash = **count > 1 || ports[i + 1..].iter().any(|(b, _)| conflicts(a, b));
            if clash {
                return Err(Violation(format!("node {name}: two pods bind host port {}/{}", a.protocol, a.port)));
            }
        }
        let mut listed: Vec<u32> = node.pods.iter().map(|p| p.0).collect();
        listed.sort_unstable();
        if listed != e.4 {
            return Err(Violation(format!(
                "node {name}: lists pods {listed:?} but pods {:?} are assigned to it (node #{n})",
                e.4
            )));
        }
        if node.removed && (!node.pods.is_empty() || node.ready || cluster.node_order().contains(&id)) {
            return Err(Violation(format!("node {name} is removed but holds pods, is Ready or is still listed")));
        }
        let a = &node.node.allocatable;
        let r = &node.requested;
        let over = |what: &str, req: i64, alloc: i64| {
            Violation(format!("node {name} is over-allocated: {what} requested {req} > allocatable {alloc}"))
        };
        if r.cpu_millis > a.cpu_millis && r.cpu_millis > 0 {
            return Err(over("cpu_millis", r.cpu_millis, a.cpu_millis));
        }
        if r.memory_bytes > a.memory_bytes && r.memory_bytes > 0 {
            return Err(over("memory_bytes", r.memory_bytes, a.memory_bytes));
        }
        if r.ephemeral_storage_bytes > a.ephemeral_storage_bytes && r.ephemeral_storage_bytes > 0 {
            return Err(over("ephemeral_storage_bytes", r.ephemeral_storage_bytes, a.ephemeral_storage_bytes));
        }
        for (k, v) in &r.scalar {
            if *v > a.get(k) {
                return Err(over(k, *v, a.get(k)));
            }
        }
        if node.pod_count() > a.pods {
            return Err(over("pods", node.pod_count(), a.pods));
        }
    }
    Ok(())
}
