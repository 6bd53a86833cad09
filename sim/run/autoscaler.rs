//! The run loop's side of the cluster autoscaler (`kubernetes/autoscaler`): every scan
//! interval, pending pods that failed scheduling are simulated on each node group's template
//! with the real scheduler's PreFilter/Filter, a first-fit bin-packing estimate gives the nodes
//! needed, an expander picks the group and the nodes join Ready after its provision delay.
//! Nodes of a group above its minimum that stay under the utilisation threshold for the
//! unneeded time, and whose pods all fit elsewhere, are cordoned, drained through the eviction
//! API (PDBs respected) and removed.
//!
//! **Invariants:** the cluster is never mutated by a simulation (hypothetical nodes are
//! [`NodeState`] values outside the store); a group never exceeds `max` counting nodes being
//! provisioned, nor goes below `min` counting nodes being removed; draws come only from the
//! `cluster-autoscaler` stream.

use super::{Event, RunError, Simulation, json_str};
use crate::cluster::{ClusterState, NodeId, NodeState, PodId, PodPhase};
use crate::controllers::cluster_autoscaler::{ScaleUpOption, Unneeded, choose, utilization};
use crate::engine::rng::SimRng;
use crate::engine::time::SimTime;
use crate::input::scenario::LABEL_POOL;
use crate::model::pod::Pod;
use crate::model::resources::Resources;
use crate::scheduler::{PreFilterOutcome, Profile};
use std::collections::{BTreeMap, BTreeSet};

/// The GPU resource (GPU nodes are judged by GPU utilisation only).
const GPU: &str = "nvidia.com/gpu";

/// At most this many nodes are removed in one scan (upstream deletes empty nodes in bulk, up to
/// 10; here non-empty nodes are bounded the same way).
pub const MAX_REMOVALS_PER_SCAN: usize = 10;

/// Events of the cluster autoscaler (one variant of [`Event`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CaEvent {
    /// A scan.
    Scan,
    /// A node of group `group` has been provisioned: it joins Ready.
    Provisioned {
        /// Index of the node group.
        group: u32,
    },
}

impl CaEvent {
    /// Whether the event is work (keeps a `stopWhenIdle` run going).
    pub fn is_work(&self) -> bool {
        matches!(self, CaEvent::Provisioned { .. })
    }
}

/// `summary.json` `cluster_autoscaler`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct AutoscalerSummary {
    /// Nodes added by scale-ups (joined the cluster).
    pub nodes_added: u64,
    /// Nodes removed by scale-downs.
    pub nodes_removed: u64,
}

/// State of the autoscaler in a run.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CaState {
    rng: SimRng,
    /// Nodes being provisioned, per group.
    upcoming: Vec<u64>,
    /// Next node index per group (node names are never reused).
    next_index: Vec<u64>,
    last_scale_up: Option<SimTime>,
    unneeded: Unneeded,
    /// Nodes being drained for removal.
    removing: BTreeSet<NodeId>,
    /// Counts for the summary.
    pub summary: AutoscalerSummary,
}

impl CaState {
    /// Fresh state for a run with `seed` and `groups` node groups of the given minimum sizes.
    pub fn new(seed: u64, mins: &[u64]) -> Self {
        CaState {
            rng: crate::engine::rng::stream(seed, "cluster-autoscaler"),
            upcoming: vec![0; mins.len()],
            next_index: mins.to_vec(),
            last_scale_up: None,
            unneeded: Unneeded::default(),
            removing: BTreeSet::new(),
            summary: AutoscalerSummary::default(),
        }
    }
}

/// A node that is not in the cluster: `node` Ready and empty.
pub fn hypothetical_node(node: crate::model::node::Node) -> NodeState {
    // As `ClusterState::add_node` prepares a node.
    let gpus = crate::model::gpu::node_gpu_count(&node);
    let mut node = node;
    crate::model::gpu::offer_all_gpu_forms(&mut node);
    NodeState {
        gpu_free_milli: vec![crate::model::gpu::MILLI; gpus],
        node,
        ready: true,
        requested: Resources::default(),
        non_zero_cpu_millis: 0,
        non_zero_memory_bytes: 0,
        used_ports: BTreeMap::new(),
        pods: vec![],
        pods_with_affinity: vec![],
        pods_with_required_anti_affinity: vec![],
        failures: 0,
        removed: false,
    }
}

/// Adds pod `id` to a hypothetical copy of a node (its aggregates as a binding would; the
/// per-device GPU shares are not tracked).
pub fn place(v: &mut NodeState, id: PodId, pod: &Pod) {
    v.requested.add(&pod.requests);
    v.non_zero_cpu_millis += pod.non_zero_cpu_millis;
    v.non_zero_memory_bytes += pod.non_zero_memory_bytes;
    for hp in &pod.host_ports {
        *v.used_ports.entry(hp.clone()).or_insert(0) += 1;
    }
    v.pods.push(id);
    if pod.affinity.has_pod_affinity_terms() {
        v.pods_with_affinity.push(id);
    }
    if pod.affinity.has_required_anti_affinity() {
        v.pods_with_required_anti_affinity.push(id);
    }
}

/// Whether `pod` passes the profile's PreFilter and Filter plugins on `node`, which need not be
/// in `cluster` (the cluster is not changed).
pub fn fits(profile: &Profile, cluster: &ClusterState, pod: &Pod, node: &NodeState) -> bool {
    match profile.pre_filter(cluster, pod) {
        PreFilterOutcome::Ready(prep) => profile.filter_node(&prep, cluster, pod, node).is_success(),
        _ => false,
    }
}

/// The binpacking estimate (upstream `BinpackingNodeEstimator`, first-fit): places each pod
/// on the first template copy it fits, opening a new copy when it fits none but fits an empty
/// template, up to `max_nodes` copies. Returns the copies and the pods placed.
pub fn estimate<'p>(
    profile_of: &dyn Fn(&Pod) -> Option<&'p Profile>,
    cluster: &ClusterState,
    template: &NodeState,
    pods: &[PodId],
    max_nodes: u64,
) -> (Vec<NodeState>, Vec<PodId>) {
    let mut bins: Vec<NodeState> = Vec::new();
    let mut placed = Vec::new();
    for &id in pods {
        let pod = &cluster.pod(id).pod;
        let Some(profile) = profile_of(pod) else { continue };
        let Some(i) = bins.iter().position(|b| fits(profile, cluster, pod, b)).or_else(|| {
            ((bins.len() as u64) < max_nodes && fits(profile, cluster, pod, template)).then(|| {
                bins.push(template.clone());
                bins.len() - 1
            })
        }) else {
            continue;
        };
        place(&mut bins[i], id, pod);
        placed.push(id);
    }
    (bins, placed)
}

fn group_of(n: &NodeState) -> Option<&str> {
    n.node.labels.get(LABEL_POOL).map(|s| s.as_str())
}

impl Simulation<'_> {
    /// Arms the first scan (when the scenario has node groups).
    pub(super) fn start_autoscaler(&mut self) {
        if let Some(a) = &self.scenario.autoscaler {
            let at = SimTime::ZERO + a.scan_interval;
            self.push(at, Event::Autoscaler(CaEvent::Scan));
        }
    }

    /// Handles a [`CaEvent`].
    pub(super) fn on_autoscaler_event(&mut self, e: CaEvent) -> Result<(), RunError> {
        let Some(a) = self.scenario.autoscaler.as_ref() else { return Ok(()) };
        match e {
            CaEvent::Scan => {
                self.scale_up()?;
                self.scale_down()?;
                let next = self.queue.now() + a.scan_interval;
                if next <= self.end {
                    self.push(next, Event::Autoscaler(CaEvent::Scan));
                }
                Ok(())
            }
            CaEvent::Provisioned { group } => {
                let g = &a.groups[group as usize];
                let ca = self.ca.as_mut().expect("autoscaler state exists with node groups");
                ca.upcoming[group as usize] -= 1;
                let i = ca.next_index[group as usize];
                ca.next_index[group as usize] += 1;
                ca.summary.nodes_added += 1;
                let node = g.node(i);
                let name = json_str(&node.name);
                let id = self.cluster.add_node(node).map_err(|e| RunError::Scheduler(e.to_string()))?;
                self.metrics.node_added(&self.cluster, id, self.queue.now());
                self.sync_lifecycle_nodes();
                self.log("node_added", &format!(",\"node\":{name},\"group\":{}", json_str(&g.name)))?;
                self.nodes_changed();
                self.node_update_moves_pods();
                Ok(())
            }
        }
    }

    fn live_group_nodes(&self, group: &str) -> Vec<NodeId> {
        (0..self.cluster.nodes().len() as u32)
            .map(NodeId)
            .filter(|id| {
                let n = self.cluster.node(*id);
                !n.removed && group_of(n) == Some(group)
            })
            .collect()
    }

    /// Pending, unbound pods that failed scheduling and are not waiting for preemption victims.
    fn unschedulable_pods(&self) -> Vec<PodId> {
        (0..self.cluster.pod_ids_issued() as u32)
            .map(PodId)
            .filter(|id| {
                let p = self.cluster.pod(*id);
                p.phase == PodPhase::Pending
                    && p.node.is_none()
                    && p.pod.node_name.is_none()
                    && p.scheduling_attempts > 0
                    && !self.nominated.contains_key(id)
                    && self.scheduler.queue.contains(*id)
            })
            .collect()
    }

    fn scale_up(&mut self) -> Result<(), RunError> {
        let Some(a) = self.scenario.autoscaler.as_ref() else { return Ok(()) };
        let mut pending = self.unschedulable_pods();
        if pending.is_empty() {
            return Ok(());
        }
        let sched = &self.scheduler;
        let profile_of = |p: &Pod| sched.profile_for(&p.scheduler_name);
        let ca = self.ca.as_ref().expect("autoscaler state");
        // Upstream `filterOutSchedulable`: pods that fit on existing nodes (a node joined or
        // room was freed since they failed) do not trigger a scale-up.
        let mut existing: Vec<NodeState> = self
            .cluster
            .node_order()
            .iter()
            .filter(|o| !ca.removing.contains(o))
            .map(|o| self.cluster.node(*o).clone())
            .filter(|o| o.ready && !o.node.unschedulable)
            .collect();
        pending.retain(|&id| {
            let pod = &self.cluster.pod(id).pod;
            let Some(profile) = profile_of(pod) else { return false };
            match existing.iter().position(|o| fits(profile, &self.cluster, pod, o)) {
                Some(i) => {
                    place(&mut existing[i], id, pod);
                    false
                }
                None => true,
            }
        });
        // Pods that fit on nodes already being provisioned do not trigger another scale-up.
        for (gi, g) in a.groups.iter().enumerate() {
            let n = ca.upcoming[gi];
            if n > 0 && !pending.is_empty() {
                let t = hypothetical_node(g.node(ca.next_index[gi]));
                let (_, placed) = estimate(&profile_of, &self.cluster, &t, &pending, n);
                pending.retain(|p| !placed.contains(p));
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        let mut options = Vec::new();
        for (gi, g) in a.groups.iter().enumerate() {
            let size = self.live_group_nodes(&g.name).len() as u64 + ca.upcoming[gi];
            if size >= g.max {
                continue;
            }
            let t = hypothetical_node(g.node(ca.next_index[gi]));
            let (bins, placed) = estimate(&profile_of, &self.cluster, &t, &pending, g.max - size);
            if bins.is_empty() {
                continue;
            }
            let mut req = Resources::default();
            for p in &placed {
                req.add(&self.cluster.pod(*p).pod.requests);
            }
            let n = bins.len() as i64;
            options.push((
                gi,
                ScaleUpOption {
                    group: g.name.clone(),
                    node_count: n,
                    pods: placed.len() as i64,
                    cpu_requested: req.cpu_millis,
                    cpu_added: t.node.allocatable.cpu_millis * n,
                    memory_requested: req.memory_bytes,
                    memory_added: t.node.allocatable.memory_bytes * n,
                },
            ));
        }
        let opts: Vec<ScaleUpOption> = options.iter().map(|(_, o)| o.clone()).collect();
        let ca = self.ca.as_mut().expect("autoscaler state");
        let rng = &mut ca.rng;
        let Some(pick) = choose(a.expander, &opts, &mut |n| crate::model::dist::below(rng, n)) else {
            return Ok(());
        };
        let (gi, o) = &options[pick];
        let g = &a.groups[*gi];
        ca.upcoming[*gi] += o.node_count as u64;
        let now = self.queue.now();
        ca.last_scale_up = Some(now);
        for _ in 0..o.node_count {
            self.push(now + g.provision_delay, Event::Autoscaler(CaEvent::Provisioned { group: *gi as u32 }));
        }
        self.log(
            "ca_scale_up",
            &format!(",\"group\":{},\"nodes\":{},\"pods\":{}", json_str(&g.name), o.node_count, o.pods),
        )
    }

    fn scale_down(&mut self) -> Result<(), RunError> {
        let Some(a) = self.scenario.autoscaler.as_ref() else { return Ok(()) };
        let now = self.queue.now();
        self.finish_removals()?;
        let ca = self.ca.as_ref().expect("autoscaler state");
        let in_cooldown = ca.last_scale_up.is_some_and(|t| now.saturating_since(t) < a.scale_down_delay_after_add);
        let removing = ca.removing.clone();
        let mut verdicts: Vec<(NodeId, bool, usize)> = Vec::new();
        for (gi, g) in a.groups.iter().enumerate() {
            let nodes = self.live_group_nodes(&g.name);
            let active = nodes.iter().filter(|n| !removing.contains(n)).count() as u64;
            for id in nodes.into_iter().filter(|n| !removing.contains(n)) {
                let unneeded = active > g.min && self.node_unneeded(id, a.scale_down_utilization_threshold, &removing);
                verdicts.push((id, unneeded, gi));
            }
        }
        let ca = self.ca.as_mut().expect("autoscaler state");
        let mut ready_to_go = Vec::new();
        let removing = ca.removing.clone();
        for (id, unneeded, gi) in verdicts {
            if ca.unneeded.observe_for(id.0, unneeded, now, a.scale_down_unneeded_time) {
                ready_to_go.push((id, gi));
            }
        }
        if in_cooldown {
            return Ok(());
        }
        let mut removed_per_group: BTreeMap<usize, u64> = BTreeMap::new();
        let mut chosen = Vec::new();
        for (id, gi) in ready_to_go {
            let g = &a.groups[gi];
            let active = self.live_group_nodes(&g.name).iter().filter(|n| !removing.contains(n)).count() as u64;
            let already = removed_per_group.get(&gi).copied().unwrap_or(0);
            if active - already <= g.min || chosen.len() >= MAX_REMOVALS_PER_SCAN {
                continue;
            }
            *removed_per_group.entry(gi).or_insert(0) += 1;
            chosen.push((id, gi));
        }
        for (id, gi) in chosen {
            let ca = self.ca.as_mut().expect("autoscaler state");
            ca.removing.insert(id);
            ca.unneeded.observe_for(id.0, false, now, a.scale_down_unneeded_time);
            let name = json_str(&self.cluster.node(id).node.name);
            let pods = self.movable_pods(id).len();
            self.log(
                "ca_scale_down",
                &format!(",\"group\":{},\"node\":{name},\"pods\":{pods}", json_str(&a.groups[gi].name)),
            )?;
            self.set_cordon(id, true)?;
            self.faults.draining.insert(id);
            self.drain_pass(id)?;
        }
        self.finish_removals()
    }

    /// Pods of `id` that must move for it to go: assigned, not terminating, not DaemonSet pods.
    fn movable_pods(&self, id: NodeId) -> Vec<PodId> {
        self.cluster
            .node(id)
            .pods
            .iter()
            .copied()
            .filter(|p| {
                let s = self.cluster.pod(*p);
                !s.terminating && s.pod.owner.as_ref().is_none_or(|o| o.kind != "DaemonSet")
            })
            .collect()
    }

    /// Under the threshold and every movable pod fits on some other schedulable node (simulated
    /// one after another on copies, so two pods do not claim the same room).
    fn node_unneeded(&self, id: NodeId, threshold: f64, removing: &BTreeSet<NodeId>) -> bool {
        let n = self.cluster.node(id);
        if !n.ready || n.node.unschedulable {
            return false;
        }
        let gpu = |r: &Resources| r.get(GPU);
        if utilization(&n.requested, &n.node.allocatable, gpu(&n.requested), gpu(&n.node.allocatable)) >= threshold {
            return false;
        }
        let mut others: Vec<NodeState> = self
            .cluster
            .node_order()
            .iter()
            .filter(|o| **o != id && !removing.contains(o))
            .map(|o| self.cluster.node(*o).clone())
            .filter(|o| o.ready && !o.node.unschedulable)
            .collect();
        for p in self.movable_pods(id) {
            let pod = &self.cluster.pod(p).pod;
            let Some(profile) = self.scheduler.profile_for(&pod.scheduler_name) else { return false };
            match others.iter().position(|o| fits(profile, &self.cluster, pod, o)) {
                Some(i) => place(&mut others[i], p, pod),
                None => return false,
            }
        }
        true
    }

    /// Removes the nodes being drained whose movable pods are gone; their DaemonSet pods are
    /// deleted with them (as the pod garbage collector does for a deleted node).
    fn finish_removals(&mut self) -> Result<(), RunError> {
        let Some(ca) = self.ca.as_ref() else { return Ok(()) };
        let done: Vec<NodeId> = ca
            .removing
            .iter()
            .copied()
            .filter(|id| {
                self.cluster.node(*id).pods.iter().all(|p| {
                    let s = self.cluster.pod(*p);
                    s.pod.owner.as_ref().is_some_and(|o| o.kind == "DaemonSet")
                })
            })
            .collect();
        for id in done {
            for p in self.cluster.node(id).pods.clone() {
                self.end_pod(p, PodPhase::Deleted, "pod_deleted", ",\"reason\":\"NodeRemoved\"")?;
            }
            let now = self.queue.now();
            self.metrics.node_before(&self.cluster, id, now);
            self.cluster.remove_node(id);
            self.metrics.node_after(&self.cluster, id);
            self.faults.draining.remove(&id);
            let ca = self.ca.as_mut().expect("autoscaler state");
            ca.removing.remove(&id);
            ca.summary.nodes_removed += 1;
            let name = json_str(&self.cluster.node(id).node.name);
            self.log("node_removed", &format!(",\"node\":{name}"))?;
            self.nodes_changed();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::testing::{make_node, make_pod};

    const GI: i64 = 1 << 30;

    fn cluster_with(pods: &[(&str, i64)]) -> (ClusterState, Vec<PodId>) {
        let mut c = ClusterState::new();
        let ids = pods
            .iter()
            .map(|(n, cpu)| {
                c.add_pod(make_pod(n, &[("cpu", *cpu), ("memory", GI)]), SimTime::ZERO).expect("unique pod names")
            })
            .collect();
        (c, ids)
    }

    #[test]
    fn the_estimate_is_first_fit_onto_template_copies() {
        // Template: 4 CPU. Pods 3, 2, 1, 2, 1 CPU: first fit gives [3,1] [2,2] [1] → 3 nodes.
        let (c, ids) = cluster_with(&[("a", 3000), ("b", 2000), ("c", 1000), ("d", 2000), ("e", 1000)]);
        let profile = Profile::default_profile();
        let t = make_node("tmpl", 4000, 16 * GI, 110);
        let (bins, placed) = estimate(&|_| Some(&profile), &c, &t, &ids, 10);
        assert_eq!(bins.len(), 3);
        assert_eq!(placed, ids);
        let cpu: Vec<i64> = bins.iter().map(|b| b.requested.cpu_millis).collect();
        assert_eq!(cpu, vec![4000, 4000, 1000]);
    }

    #[test]
    fn the_estimate_stops_at_the_node_limit_and_skips_pods_that_fit_no_template() {
        let (c, ids) = cluster_with(&[("big", 8000), ("a", 3000), ("b", 3000), ("c", 3000)]);
        let profile = Profile::default_profile();
        let t = make_node("tmpl", 4000, 16 * GI, 110);
        let (bins, placed) = estimate(&|_| Some(&profile), &c, &t, &ids, 2);
        assert_eq!(bins.len(), 2, "capped at the room left in the group");
        assert_eq!(placed, vec![ids[1], ids[2]], "the 8-CPU pod fits no template; the last pod finds no room");
    }

    #[test]
    fn a_hypothetical_node_is_not_added_to_the_cluster() {
        let (c, ids) = cluster_with(&[("a", 1000)]);
        let profile = Profile::default_profile();
        let mut t = hypothetical_node(make_node("tmpl", 4000, 16 * GI, 110).node);
        assert!(fits(&profile, &c, &c.pod(ids[0]).pod, &t));
        place(&mut t, ids[0], &c.pod(ids[0]).pod);
        assert_eq!(t.requested.cpu_millis, 1000);
        assert!(c.nodes().is_empty());
        assert_eq!(c.pod(ids[0]).node, None);
    }
}
