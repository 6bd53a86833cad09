//! The node lifecycle controller (`pkg/controller/nodelifecycle`) and the rate-limited
//! NoExecute tainting it drives, as pure state: the run loop tells it when a node's kubelet goes
//! silent (crash, partition) or comes back, calls [`NodeLifecycle::monitor`] every
//! `--node-monitor-period` and [`NodeLifecycle::tainting_pass`] when a zone queue may proceed,
//! and applies the returned [`LifecycleAction`]s (conditions, taints, and through them the
//! taint-based evictions of the run loop).
//!
//! Semantics (v1.33 defaults, `reference/kubernetes-semantics.md` §6.3):
//! - a node whose kubelet has not posted status for more than `--node-monitor-grace-period`
//!   (50 s from v1.32) gets Ready=Unknown at the next monitor pass (every 5 s), and the
//!   `node.kubernetes.io/unreachable:NoSchedule` taint at once (TaintNodesByCondition);
//! - the `unreachable:NoExecute` taint goes through a per-zone queue drained by a token bucket
//!   (burst 1) whose rate follows the zone state: Normal → `--node-eviction-rate` 0.1/s;
//!   PartialDisruption (more than 2 NotReady nodes and at least 55 % of the zone) →
//!   `--secondary-node-eviction-rate` 0.01/s if the zone has more than
//!   `--large-cluster-size-threshold` 50 nodes, else 0 (stopped); FullDisruption (no Ready node)
//!   → 0.1/s (upstream's `HealthyQPSFunc`: a zone that is entirely down is evicted normally so
//!   that its pods move to other zones);
//! - when every zone is in FullDisruption the controller assumes it is itself cut off: it removes
//!   the NoExecute taints from every node and stops tainting until a zone recovers;
//! - a node that posts status again becomes Ready at the next pass and loses both taints.
//!
//! **Simplifications (documented):** a healthy kubelet's status is always fresh (no 10 s lease
//! period); the Ready=False / `not-ready` path (kubelet up but unhealthy) is not modelled, only
//! silent kubelets; `--node-startup-grace-period` does not apply (nodes start Ready).

use crate::cluster::{ClusterState, NodeId};
use crate::engine::time::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Controller settings (kube-controller-manager flags).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeLifecycleConfig {
    /// `--node-monitor-period` (5 s).
    pub monitor_period: SimDuration,
    /// `--node-monitor-grace-period` (50 s from v1.32; 40 s before).
    pub grace_period: SimDuration,
    /// `--node-eviction-rate` in nodes per second (0.1).
    pub eviction_rate: f64,
    /// `--secondary-node-eviction-rate` (0.01).
    pub secondary_eviction_rate: f64,
    /// `--large-cluster-size-threshold` (50).
    pub large_cluster_threshold: u32,
    /// `--unhealthy-zone-threshold` (0.55).
    pub unhealthy_zone_threshold: f64,
}

impl Default for NodeLifecycleConfig {
    fn default() -> Self {
        NodeLifecycleConfig {
            monitor_period: SimDuration::from_secs(5),
            grace_period: SimDuration::from_secs(50),
            eviction_rate: 0.1,
            secondary_eviction_rate: 0.01,
            large_cluster_threshold: 50,
            unhealthy_zone_threshold: 0.55,
        }
    }
}

/// What the node's kubelet is really doing (the simulator's truth, not the API's view).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KubeletStatus {
    /// Running and reachable.
    Up,
    /// The node is down: nothing runs on it.
    Crashed,
    /// The node runs its pods but cannot reach the API server.
    Partitioned,
}

/// A zone's disruption state (`ComputeZoneState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ZoneState {
    /// Evictions at the normal rate.
    Normal,
    /// Many nodes down: reduced (or no) evictions.
    PartialDisruption,
    /// No Ready node.
    FullDisruption,
}

impl ZoneState {
    /// The name upstream logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneState::Normal => "Normal",
            ZoneState::PartialDisruption => "PartialDisruption",
            ZoneState::FullDisruption => "FullDisruption",
        }
    }
}

/// `ComputeZoneState` from the numbers of Ready and not-Ready nodes of a zone.
pub fn compute_zone_state(ready: u32, not_ready: u32, unhealthy_threshold: f64) -> ZoneState {
    if ready == 0 && not_ready > 0 {
        ZoneState::FullDisruption
    } else if not_ready > 2 && f64::from(not_ready) / f64::from(not_ready + ready) >= unhealthy_threshold {
        ZoneState::PartialDisruption
    } else {
        ZoneState::Normal
    }
}

/// The NoExecute tainting rate of a zone in `state` with `zone_size` nodes (`setLimiterInZone`).
pub fn zone_eviction_rate(state: ZoneState, zone_size: usize, cfg: &NodeLifecycleConfig) -> f64 {
    match state {
        ZoneState::Normal | ZoneState::FullDisruption => cfg.eviction_rate,
        ZoneState::PartialDisruption if zone_size > cfg.large_cluster_threshold as usize => cfg.secondary_eviction_rate,
        ZoneState::PartialDisruption => 0.0,
    }
}

/// A token bucket with burst 1 (`flowcontrol.NewTokenBucketRateLimiter(qps, 1)`), or a limiter
/// that rejects everything when the rate is 0. A new bucket starts full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenBucket {
    /// Time between tokens; `None` rejects everything.
    pub interval: Option<SimDuration>,
    /// When the next token is available.
    pub next_free: SimTime,
}

impl TokenBucket {
    /// A full bucket of `qps` tokens per second at `now`.
    pub fn new(qps: f64, now: SimTime) -> Self {
        let interval = (qps > 0.0).then(|| SimDuration((1_000_000.0 / qps).round() as u64));
        TokenBucket { interval, next_free: now }
    }

    /// Takes a token if one is available at `now`.
    pub fn try_accept(&mut self, now: SimTime) -> bool {
        match self.interval {
            Some(i) if now >= self.next_free => {
                self.next_free = now + i;
                true
            }
            _ => false,
        }
    }
}

/// The Ready condition as the API shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadyCondition {
    /// `Ready=True`.
    True,
    /// `Ready=Unknown` (the node stopped posting status).
    Unknown,
}

/// The controller's view of one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHealth {
    /// The kubelet's real state.
    pub kubelet: KubeletStatus,
    /// Last status the controller received.
    pub last_heartbeat: SimTime,
    /// The Ready condition.
    pub condition: ReadyCondition,
    /// The NoExecute `unreachable` taint is on the node.
    pub tainted: bool,
    /// Waiting in its zone's tainting queue.
    pub queued: bool,
    /// Index of its zone.
    pub zone: usize,
}

/// One zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    /// The zone key (`region:\0:zone`, empty for nodes without zone labels).
    pub key: String,
    /// Its nodes.
    pub nodes: Vec<NodeId>,
    /// Its state at the last pass.
    pub state: ZoneState,
    /// Its tainting rate limiter.
    pub limiter: TokenBucket,
    /// Nodes waiting to be tainted, in order.
    pub queue: VecDeque<NodeId>,
}

/// What the run loop must apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LifecycleAction {
    /// The node's Ready condition changed (`true`: Ready): update the node, its NoSchedule taint
    /// and (when not Ready) mark its pods not ready.
    Condition {
        /// The node.
        node: NodeId,
        /// Ready or not.
        ready: bool,
    },
    /// Add the `unreachable:NoExecute` taint (taint-based eviction follows).
    Taint(NodeId),
    /// Remove the NoExecute taint.
    Untaint(NodeId),
    /// A zone changed state (for the event log).
    ZoneState {
        /// The zone key.
        zone: String,
        /// The new state.
        state: ZoneState,
    },
}

/// The node lifecycle controller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeLifecycle {
    /// Settings.
    pub cfg: NodeLifecycleConfig,
    /// Per node, by id.
    pub nodes: Vec<NodeHealth>,
    /// Zones in order of first appearance.
    pub zones: Vec<Zone>,
    /// Every zone is fully disrupted: tainting stopped.
    pub all_fully_disrupted: bool,
}

impl NodeLifecycle {
    /// A controller for the nodes of `cluster`, all Ready.
    pub fn new(cfg: NodeLifecycleConfig, cluster: &ClusterState) -> Self {
        let mut nl = NodeLifecycle { cfg, nodes: Vec::new(), zones: Vec::new(), all_fully_disrupted: false };
        for i in 0..cluster.nodes().len() {
            nl.add_node(cluster, NodeId(i as u32));
        }
        nl
    }

    /// Registers a node added to the cluster (Ready).
    pub fn add_node(&mut self, cluster: &ClusterState, id: NodeId) {
        let key = cluster.node(id).node.zone_key();
        let zone = match self.zones.iter().position(|z| z.key == key) {
            Some(z) => z,
            None => {
                self.zones.push(Zone {
                    key,
                    nodes: Vec::new(),
                    state: ZoneState::Normal,
                    limiter: TokenBucket::new(self.cfg.eviction_rate, SimTime::ZERO),
                    queue: VecDeque::new(),
                });
                self.zones.len() - 1
            }
        };
        self.zones[zone].nodes.push(id);
        while self.nodes.len() <= id.0 as usize {
            self.nodes.push(NodeHealth {
                kubelet: KubeletStatus::Up,
                last_heartbeat: SimTime::ZERO,
                condition: ReadyCondition::True,
                tainted: false,
                queued: false,
                zone,
            });
        }
    }

    /// The kubelet of `id` goes silent (crash or partition) at `now`.
    pub fn kubelet_lost(&mut self, id: NodeId, status: KubeletStatus, now: SimTime) {
        let n = &mut self.nodes[id.0 as usize];
        if n.kubelet == KubeletStatus::Up {
            n.last_heartbeat = now;
        }
        n.kubelet = status;
    }

    /// The kubelet of `id` is back at `now`.
    pub fn kubelet_back(&mut self, id: NodeId, now: SimTime) {
        let n = &mut self.nodes[id.0 as usize];
        n.kubelet = KubeletStatus::Up;
        n.last_heartbeat = now;
    }

    /// The kubelet's real state.
    pub fn kubelet(&self, id: NodeId) -> KubeletStatus {
        self.nodes.get(id.0 as usize).map(|n| n.kubelet).unwrap_or(KubeletStatus::Up)
    }

    /// True while something may still change without outside input (a silent node, a node not
    /// Ready or tainted): the monitor must keep running.
    pub fn is_watching(&self) -> bool {
        self.nodes.iter().any(|n| n.kubelet != KubeletStatus::Up || n.condition != ReadyCondition::True || n.tainted)
    }

    /// True while a transition is still due (a silent node not yet tainted, or a queued one), so
    /// that a run that stops when idle does not stop before it.
    pub fn has_pending_transitions(&self) -> bool {
        self.nodes.iter().any(|n| {
            (n.kubelet != KubeletStatus::Up && !n.tainted && !self.all_fully_disrupted)
                || (n.kubelet == KubeletStatus::Up && n.condition != ReadyCondition::True)
        })
    }

    /// One `monitorNodeHealth` pass at `now`.
    pub fn monitor(&mut self, now: SimTime) -> Vec<LifecycleAction> {
        let mut out = Vec::new();
        let grace = self.cfg.grace_period;
        for (i, n) in self.nodes.iter_mut().enumerate() {
            let id = NodeId(i as u32);
            if n.kubelet == KubeletStatus::Up {
                n.last_heartbeat = now;
                if n.condition != ReadyCondition::True {
                    n.condition = ReadyCondition::True;
                    out.push(LifecycleAction::Condition { node: id, ready: true });
                }
                if n.queued {
                    n.queued = false;
                    self.zones[n.zone].queue.retain(|x| *x != id);
                }
                if n.tainted {
                    n.tainted = false;
                    out.push(LifecycleAction::Untaint(id));
                }
            } else if n.condition == ReadyCondition::True && now.saturating_since(n.last_heartbeat) > grace {
                n.condition = ReadyCondition::Unknown;
                out.push(LifecycleAction::Condition { node: id, ready: false });
            }
            if n.condition == ReadyCondition::Unknown && !n.tainted && !n.queued && !self.all_fully_disrupted {
                n.queued = true;
                self.zones[n.zone].queue.push_back(id);
            }
        }
        self.handle_disruption(now, &mut out);
        out
    }

    /// `handleDisruption`: zone states, limiter swaps, and the all-zones-down mode.
    fn handle_disruption(&mut self, now: SimTime, out: &mut Vec<LifecycleAction>) {
        let mut states = Vec::with_capacity(self.zones.len());
        for z in &self.zones {
            let ready = z.nodes.iter().filter(|n| self.nodes[n.0 as usize].condition == ReadyCondition::True).count();
            let not_ready = z.nodes.len() - ready;
            states.push(compute_zone_state(ready as u32, not_ready as u32, self.cfg.unhealthy_zone_threshold));
        }
        let all_full = !states.is_empty() && states.iter().all(|s| *s == ZoneState::FullDisruption);
        if all_full && !self.all_fully_disrupted {
            // The controller assumes it is cut off: no NoExecute taint anywhere, no tainting.
            for (i, n) in self.nodes.iter_mut().enumerate() {
                n.queued = false;
                if n.tainted {
                    n.tainted = false;
                    out.push(LifecycleAction::Untaint(NodeId(i as u32)));
                }
            }
            for z in &mut self.zones {
                z.queue.clear();
                z.limiter = TokenBucket::new(0.0, now);
            }
        }
        let leaving = !all_full && self.all_fully_disrupted;
        self.all_fully_disrupted = all_full;
        for (z, state) in self.zones.iter_mut().zip(states) {
            if z.state != state || leaving {
                if z.state != state {
                    out.push(LifecycleAction::ZoneState { zone: z.key.clone(), state });
                }
                z.state = state;
                if !all_full {
                    z.limiter = TokenBucket::new(zone_eviction_rate(state, z.nodes.len(), &self.cfg), now);
                }
            }
        }
    }

    /// One `doNoExecuteTaintingPass` at `now`: dequeue what each zone's limiter allows.
    pub fn tainting_pass(&mut self, now: SimTime) -> Vec<LifecycleAction> {
        let mut out = Vec::new();
        if self.all_fully_disrupted {
            return out;
        }
        for z in &mut self.zones {
            while !z.queue.is_empty() && z.limiter.try_accept(now) {
                let Some(id) = z.queue.pop_front() else { break };
                let n = &mut self.nodes[id.0 as usize];
                n.queued = false;
                if n.condition == ReadyCondition::Unknown && !n.tainted {
                    n.tainted = true;
                    out.push(LifecycleAction::Taint(id));
                }
            }
        }
        out
    }

    /// When the next tainting pass could dequeue something (`None`: nothing queued or stopped).
    pub fn next_tainting_time(&self) -> Option<SimTime> {
        if self.all_fully_disrupted {
            return None;
        }
        self.zones
            .iter()
            .filter(|z| !z.queue.is_empty() && z.limiter.interval.is_some())
            .map(|z| z.limiter.next_free)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::node::{LABEL_ZONE, Node};
    use crate::model::selector::Labels;

    fn cluster(zones: &[(&str, usize)]) -> ClusterState {
        let mut c = ClusterState::new();
        for (z, n) in zones {
            for i in 0..*n {
                c.add_node(Node {
                    name: format!("{z}-{i}"),
                    labels: Labels::from([(LABEL_ZONE.to_string(), z.to_string())]),
                    taints: vec![],
                    allocatable: Default::default(),
                    images: vec![],
                    unschedulable: false,
                })
                .unwrap();
            }
        }
        c
    }

    fn secs(s: u64) -> SimTime {
        SimTime(s * 1_000_000)
    }

    /// Runs monitor passes every 5 s and tainting passes whenever due, up to `until`; returns
    /// (time, action) pairs.
    fn drive(nl: &mut NodeLifecycle, from: u64, until: u64) -> Vec<(u64, LifecycleAction)> {
        let mut out = Vec::new();
        let mut t = secs(from);
        while t <= secs(until) {
            for a in nl.monitor(t) {
                out.push((t.0 / 1_000_000, a));
            }
            for a in nl.tainting_pass(t) {
                out.push((t.0 / 1_000_000, a));
            }
            t += SimDuration::from_secs(1);
        }
        out
    }

    #[test]
    fn zone_states_follow_compute_zone_state() {
        let cases = [
            (3, 0, ZoneState::Normal),
            (0, 1, ZoneState::FullDisruption),
            (0, 0, ZoneState::Normal),
            (2, 2, ZoneState::Normal),
            (2, 3, ZoneState::PartialDisruption),
            (3, 3, ZoneState::Normal),
            (9, 11, ZoneState::PartialDisruption),
            (10, 10, ZoneState::Normal),
        ];
        for (ready, not_ready, want) in cases {
            assert_eq!(compute_zone_state(ready, not_ready, 0.55), want, "{ready} ready, {not_ready} not ready");
        }
    }

    #[test]
    fn eviction_rates_per_zone_state() {
        let cfg = NodeLifecycleConfig::default();
        assert_eq!(zone_eviction_rate(ZoneState::Normal, 10, &cfg), 0.1);
        assert_eq!(zone_eviction_rate(ZoneState::PartialDisruption, 50, &cfg), 0.0);
        assert_eq!(zone_eviction_rate(ZoneState::PartialDisruption, 51, &cfg), 0.01);
        assert_eq!(zone_eviction_rate(ZoneState::FullDisruption, 5, &cfg), 0.1);
    }

    #[test]
    fn a_token_bucket_with_burst_one_admits_one_token_per_interval() {
        let mut b = TokenBucket::new(0.1, secs(0));
        let admitted: Vec<u64> = (0..35).filter(|s| b.try_accept(secs(*s))).collect();
        assert_eq!(admitted, vec![0, 10, 20, 30]);
        let mut stopped = TokenBucket::new(0.0, secs(0));
        assert!(!stopped.try_accept(secs(100)));
    }

    #[test]
    fn a_silent_node_becomes_unknown_after_the_grace_period_and_is_tainted() {
        let c = cluster(&[("a", 3)]);
        let mut nl = NodeLifecycle::new(NodeLifecycleConfig::default(), &c);
        nl.kubelet_lost(NodeId(1), KubeletStatus::Crashed, secs(2));
        let got = drive(&mut nl, 0, 60);
        // Grace 50 s after 2 s: strictly more than 50 s → at the 1 s granularity, t = 53.
        assert_eq!(
            got,
            vec![
                (53, LifecycleAction::Condition { node: NodeId(1), ready: false }),
                (53, LifecycleAction::Taint(NodeId(1)))
            ]
        );
        nl.kubelet_back(NodeId(1), secs(70));
        let got = drive(&mut nl, 70, 70);
        assert_eq!(
            got,
            vec![
                (70, LifecycleAction::Condition { node: NodeId(1), ready: true }),
                (70, LifecycleAction::Untaint(NodeId(1)))
            ]
        );
        assert!(!nl.is_watching());
    }

    #[test]
    fn tainting_is_rate_limited_to_one_node_per_ten_seconds_in_a_normal_zone() {
        let c = cluster(&[("a", 10)]);
        let mut nl = NodeLifecycle::new(NodeLifecycleConfig::default(), &c);
        for i in 0..2 {
            nl.kubelet_lost(NodeId(i), KubeletStatus::Crashed, secs(0));
        }
        let taints: Vec<u64> = drive(&mut nl, 0, 100)
            .into_iter()
            .filter(|(_, a)| matches!(a, LifecycleAction::Taint(_)))
            .map(|(t, _)| t)
            .collect();
        assert_eq!(taints, vec![51, 61]);
    }

    #[test]
    fn a_partially_disrupted_small_zone_stops_tainting_while_a_fully_disrupted_zone_is_evicted() {
        // Zone a: 3 of 5 down → PartialDisruption, small → rate 0. Zone b: 2 of 2 down → Full → 0.1.
        let c = cluster(&[("a", 5), ("b", 2)]);
        let mut nl = NodeLifecycle::new(NodeLifecycleConfig::default(), &c);
        for i in [0, 1, 2, 5, 6] {
            nl.kubelet_lost(NodeId(i), KubeletStatus::Crashed, secs(0));
        }
        let got = drive(&mut nl, 0, 120);
        let tainted: Vec<NodeId> =
            got.iter().filter_map(|(_, a)| if let LifecycleAction::Taint(n) = a { Some(*n) } else { None }).collect();
        assert_eq!(tainted, vec![NodeId(5), NodeId(6)]);
        assert_eq!(nl.zones[0].state, ZoneState::PartialDisruption);
        assert_eq!(nl.zones[1].state, ZoneState::FullDisruption);
    }

    #[test]
    fn when_every_zone_is_fully_disrupted_no_node_is_tainted() {
        let c = cluster(&[("a", 2), ("b", 1)]);
        let mut nl = NodeLifecycle::new(NodeLifecycleConfig::default(), &c);
        for i in 0..3 {
            nl.kubelet_lost(NodeId(i), KubeletStatus::Partitioned, secs(0));
        }
        let got = drive(&mut nl, 0, 200);
        assert!(!got.iter().any(|(_, a)| matches!(a, LifecycleAction::Taint(_))), "{got:?}");
        assert!(nl.all_fully_disrupted);
        // One node back: zone b Normal, zone a still Full → tainting resumes in zone a.
        nl.kubelet_back(NodeId(2), secs(201));
        let got = drive(&mut nl, 201, 240);
        let tainted: Vec<NodeId> =
            got.iter().filter_map(|(_, a)| if let LifecycleAction::Taint(n) = a { Some(*n) } else { None }).collect();
        assert_eq!(tainted, vec![NodeId(0), NodeId(1)]);
    }
}
