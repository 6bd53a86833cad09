//! The run loop's side of faults and of the controllers that react to them: node crash,
//! recovery, network partition and heal; the node lifecycle controller's passes and the
//! taint-based evictions they cause; graceful termination; container crashes with
//! CrashLoopBackOff; cordon, drain through the (PDB-aware) eviction API; random pod crashes.
//!
//! **Invariants:** a pod on a node whose kubelet is down or partitioned never starts, restarts or
//! finishes terminating until the kubelet is back; a deleted or evicted pod keeps its resources
//! (it is `terminating`) until its grace period has run on a reachable kubelet; pods are lost
//! only by deletion or eviction, never by a node going away.

use super::{Event, RunError, Simulation, json_str};
use crate::cluster::{NodeId, PodId, PodPhase};
use crate::controllers::disruption;
use crate::controllers::node_lifecycle::{KubeletStatus, LifecycleAction, NodeLifecycle, NodeLifecycleConfig};
use crate::engine::rng::SimRng;
use crate::engine::time::{SimDuration, SimTime};
use crate::input::faults::FaultAction;
use crate::kubelet::RunOutcome;
use crate::model::node::TAINT_UNREACHABLE;
use crate::model::pod::RestartPolicy;
use crate::model::taint::{Taint, TaintEffect, Toleration};
use std::collections::{BTreeMap, BTreeSet};

/// `kubectl drain` retries a refused eviction after this long.
pub const DRAIN_RETRY: SimDuration = SimDuration::from_secs(5);

/// Events of the fault machinery (one variant of [`Event`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FaultEvent {
    /// A node lifecycle monitor pass; `busy` while a transition is still due (counts as work).
    NodeMonitor {
        /// A transition is still due.
        busy: bool,
    },
    /// A NoExecute tainting pass (some zone queue may proceed).
    TaintingPass,
    /// The taint manager deletes a pod whose toleration time ran out.
    TaintEviction {
        /// The pod.
        pod: PodId,
        /// Its node.
        node: NodeId,
        /// The node's taint generation when scheduled (stale if the taints changed since).
        generation: u32,
    },
    /// A container run crashes.
    ContainerCrashed {
        /// The pod.
        pod: PodId,
        /// Its epoch when scheduled.
        epoch: u32,
    },
    /// A crashed container restarts after its back-off.
    ContainerRestart {
        /// The pod.
        pod: PodId,
        /// Its epoch when scheduled.
        epoch: u32,
    },
    /// `kubectl drain` tries again to evict what is left on a node.
    DrainRetry {
        /// The node.
        node: NodeId,
    },
    /// The random pod-crash model strikes.
    PodCrash,
}

impl FaultEvent {
    /// Whether the event is work (keeps a `stopWhenIdle` run going).
    pub fn is_work(&self) -> bool {
        match self {
            FaultEvent::NodeMonitor { busy } => *busy,
            FaultEvent::PodCrash => false,
            _ => true,
        }
    }
}

/// State of the fault machinery in a run.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FaultState {
    /// The node lifecycle controller.
    pub lifecycle: NodeLifecycle,
    monitor_armed: bool,
    tainting_at: Option<SimTime>,
    taint_generation: Vec<u32>,
    /// Why each terminating pod is being deleted (log reason).
    termination_reason: BTreeMap<PodId, String>,
    /// Pods bound to a node whose kubelet was away: they start when it is back.
    deferred_start: BTreeSet<PodId>,
    /// Pods whose container is down (crash back-off or lost node).
    pub(super) containers_down: BTreeSet<PodId>,
    pub(super) draining: BTreeSet<NodeId>,
    pod_crash_rng: SimRng,
    /// Evicted pods that were still running on a partitioned node when it healed (duplicates).
    pub stale_pods_cleaned: u64,
}

impl FaultState {
    /// Fresh state for a run with `seed`.
    pub fn new(seed: u64) -> Self {
        FaultState {
            lifecycle: NodeLifecycle::new(NodeLifecycleConfig::default(), &crate::cluster::ClusterState::new()),
            monitor_armed: false,
            tainting_at: None,
            taint_generation: Vec::new(),
            termination_reason: BTreeMap::new(),
            deferred_start: BTreeSet::new(),
            containers_down: BTreeSet::new(),
            draining: BTreeSet::new(),
            pod_crash_rng: crate::engine::rng::stream(seed, "faults/pods"),
            stale_pods_cleaned: 0,
        }
    }
}

/// What the taint manager does with a pod on a node with NoExecute taints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TaintVerdict {
    /// Some taint is not tolerated: delete the pod now.
    EvictNow,
    /// Every taint is tolerated without a time limit.
    Tolerate,
    /// Delete the pod after this long (the smallest `tolerationSeconds`).
    EvictAfter(SimDuration),
}

/// The first toleration per NoExecute taint (`GetMatchingTolerations`), then
/// `getMinTolerationTime` (a non-positive `tolerationSeconds` means at once).
pub fn toleration_time(taints: &[Taint], tolerations: &[Toleration]) -> TaintVerdict {
    let mut used = Vec::new();
    for t in taints.iter().filter(|t| t.effect == TaintEffect::NoExecute) {
        match tolerations.iter().find(|x| x.tolerates(t)) {
            Some(x) => used.push(x),
            None => return TaintVerdict::EvictNow,
        }
    }
    let mut min: Option<i64> = None;
    for x in used {
        if let Some(s) = x.toleration_seconds {
            if s <= 0 {
                return TaintVerdict::EvictAfter(SimDuration(0));
            }
            min = Some(min.map_or(s, |m: i64| m.min(s)));
        }
    }
    match min {
        Some(s) => TaintVerdict::EvictAfter(SimDuration::from_secs(s as u64)),
        None => TaintVerdict::Tolerate,
    }
}

impl Simulation<'_> {
    pub(super) fn sync_lifecycle_nodes(&mut self) {
        while self.faults.lifecycle.nodes.len() < self.cluster.nodes().len() {
            let id = NodeId(self.faults.lifecycle.nodes.len() as u32);
            self.faults.lifecycle.add_node(&self.cluster, id);
        }
        if self.faults.taint_generation.len() < self.cluster.nodes().len() {
            self.faults.taint_generation.resize(self.cluster.nodes().len(), 0);
        }
    }

    fn kubelet_status(&self, node: NodeId) -> KubeletStatus {
        self.faults.lifecycle.kubelet(node)
    }

    fn arm_monitor(&mut self) {
        if self.faults.monitor_armed || !self.faults.lifecycle.is_watching() {
            return;
        }
        self.faults.monitor_armed = true;
        let period = self.faults.lifecycle.cfg.monitor_period.as_micros().max(1);
        let next = SimTime((self.queue.now().0 / period + 1) * period);
        let busy = self.faults.lifecycle.has_pending_transitions();
        self.push(next, Event::Fault(FaultEvent::NodeMonitor { busy }));
    }

    fn arm_tainting(&mut self) {
        if let Some(t) = self.faults.lifecycle.next_tainting_time() {
            let t = t.max(self.queue.now());
            if self.faults.tainting_at.is_none_or(|a| t < a) {
                self.faults.tainting_at = Some(t);
                self.push(t, Event::Fault(FaultEvent::TaintingPass));
            }
        }
    }

    /// Handles a [`FaultEvent`].
    pub(super) fn on_fault_event(&mut self, e: FaultEvent) -> Result<(), RunError> {
        let now = self.queue.now();
        match e {
            FaultEvent::NodeMonitor { .. } => {
                self.faults.monitor_armed = false;
                let actions = self.faults.lifecycle.monitor(now);
                self.apply_lifecycle(actions)?;
                let actions = self.faults.lifecycle.tainting_pass(now);
                self.apply_lifecycle(actions)?;
                self.arm_tainting();
                self.arm_monitor();
                Ok(())
            }
            FaultEvent::TaintingPass => {
                if self.faults.tainting_at == Some(now) {
                    self.faults.tainting_at = None;
                }
                let actions = self.faults.lifecycle.tainting_pass(now);
                self.apply_lifecycle(actions)?;
                self.arm_tainting();
                Ok(())
            }
            FaultEvent::TaintEviction { pod, node, generation } => {
                let p = self.cluster.pod(pod);
                if self.faults.taint_generation[node.0 as usize] != generation
                    || p.node != Some(node)
                    || !p.is_assigned()
                    || p.terminating
                {
                    return Ok(());
                }
                self.evict(pod, "TaintManagerEviction")
            }
            FaultEvent::ContainerCrashed { pod, epoch } => {
                if self.cluster.pod(pod).epoch != epoch {
                    return Ok(());
                }
                self.crash_container(pod, "Error")
            }
            FaultEvent::ContainerRestart { pod, epoch } => {
                let p = self.cluster.pod(pod);
                if p.epoch != epoch || p.phase != PodPhase::Running || p.terminating {
                    return Ok(());
                }
                self.cluster.note_restart(pod);
                self.faults.containers_down.remove(&pod);
                let key = json_str(&self.cluster.pod(pod).pod.key());
                let n = self.cluster.pod(pod).restarts;
                self.log("pod_restarted", &format!(",\"pod\":{key},\"restarts\":{n}"))?;
                self.after_start(pod);
                self.pod_changed(pod);
                Ok(())
            }
            FaultEvent::DrainRetry { node } => self.drain_pass(node),
            FaultEvent::PodCrash => {
                let running: Vec<PodId> = self
                    .cluster
                    .pod_entries()
                    .filter(|(i, p)| {
                        p.phase == PodPhase::Running
                            && !p.terminating
                            && !self.faults.containers_down.contains(i)
                            && p.node.is_some_and(|n| self.kubelet_status(n) == KubeletStatus::Up)
                    })
                    .map(|(i, _)| i)
                    .collect();
                if !running.is_empty() {
                    let i = crate::model::dist::below(&mut self.faults.pod_crash_rng, running.len() as u64) as usize;
                    self.crash_container(running[i], "RandomCrash")?;
                }
                if let Some(d) = &self.scenario.pod_crash_interval {
                    let next = now + d.sample(&mut self.faults.pod_crash_rng);
                    if next <= self.end {
                        self.push(next, Event::Fault(FaultEvent::PodCrash));
                    }
                }
                Ok(())
            }
        }
    }

    /// Sets up the fault machinery at time zero (after the nodes exist).
    pub(super) fn start_faults(&mut self) {
        self.sync_lifecycle_nodes();
        for pdb in &self.scenario.pdbs {
            self.cluster.add_pdb(pdb.clone());
        }
        if let Some(d) = &self.scenario.pod_crash_interval {
            let at = SimTime::ZERO + d.sample(&mut self.faults.pod_crash_rng);
            if at <= self.end {
                self.push(at, Event::Fault(FaultEvent::PodCrash));
            }
        }
    }

    /// A node listed as not Ready at time zero: its kubelet is down and its condition is already
    /// Unknown (the NoExecute taint follows through the rate-limited queue).
    pub(super) fn start_not_ready(&mut self, id: NodeId) -> Result<(), RunError> {
        self.node_down(id, KubeletStatus::Crashed)?;
        self.faults.lifecycle.nodes[id.0 as usize].condition =
            crate::controllers::node_lifecycle::ReadyCondition::Unknown;
        self.apply_lifecycle(vec![LifecycleAction::Condition { node: id, ready: false }])?;
        self.arm_monitor();
        Ok(())
    }

    /// Handles a fault action of the timeline.
    pub(super) fn on_fault_action(&mut self, a: FaultAction) -> Result<(), RunError> {
        match a {
            FaultAction::CrashPod { namespace, name } => match self.cluster.pod_id(&namespace, &name) {
                Some(id) if self.cluster.pod(id).phase == PodPhase::Running => self.crash_container(id, "CrashPod"),
                _ => self.skip("crashPod", &format!("{namespace}/{name}"), "no running pod of that name"),
            },
            FaultAction::Cordon(n) => self.with_node(&n, "cordon", |s, id| s.set_cordon(id, true)),
            FaultAction::Uncordon(n) => self.with_node(&n, "uncordon", |s, id| s.set_cordon(id, false)),
            FaultAction::Drain(n) => self.with_node(&n, "drain", |s, id| {
                s.set_cordon(id, true)?;
                s.faults.draining.insert(id);
                s.log("node_drain_started", &format!(",\"node\":{}", json_str(&n)))?;
                s.drain_pass(id)
            }),
            FaultAction::FailZone(z, nodes) => {
                self.log("zone_failed", &format!(",\"zone\":{}", json_str(&z)))?;
                for n in nodes {
                    self.with_node(&n, "failZone", |s, id| s.node_down(id, KubeletStatus::Crashed))?;
                }
                Ok(())
            }
            FaultAction::RecoverZone(z, nodes) => {
                self.log("zone_recovered", &format!(",\"zone\":{}", json_str(&z)))?;
                for n in nodes {
                    self.with_node(&n, "recoverZone", |s, id| s.node_up(id))?;
                }
                Ok(())
            }
            FaultAction::Partition(nodes) => {
                for n in nodes {
                    self.with_node(&n, "partition", |s, id| s.node_down(id, KubeletStatus::Partitioned))?;
                }
                Ok(())
            }
            FaultAction::Heal(nodes) => {
                for n in nodes {
                    self.with_node(&n, "heal", |s, id| {
                        if s.kubelet_status(id) == KubeletStatus::Partitioned {
                            s.node_up(id)
                        } else {
                            s.skip("heal", s.cluster.node(id).node.name.clone().as_str(), "not partitioned")
                        }
                    })?;
                }
                Ok(())
            }
        }
    }

    fn with_node(
        &mut self,
        name: &str,
        action: &str,
        f: impl FnOnce(&mut Self, NodeId) -> Result<(), RunError>,
    ) -> Result<(), RunError> {
        match self.cluster.node_id(name) {
            Some(id) => f(self, id),
            None => self.skip(action, name, "no such node"),
        }
    }

    fn skip(&mut self, action: &str, target: &str, reason: &str) -> Result<(), RunError> {
        self.log(
            "action_skipped",
            &format!(",\"action\":\"{action}\",\"target\":{},\"reason\":{}", json_str(target), json_str(reason)),
        )
    }

    pub(super) fn set_cordon(&mut self, id: NodeId, on: bool) -> Result<(), RunError> {
        if self.cluster.node(id).node.unschedulable == on {
            return Ok(());
        }
        self.cluster.node_mut(id).node.unschedulable = on;
        let name = json_str(&self.cluster.node(id).node.name);
        self.log(if on { "node_cordoned" } else { "node_uncordoned" }, &format!(",\"node\":{name}"))?;
        self.nodes_changed();
        if !on {
            self.faults.draining.remove(&id);
            self.node_update_moves_pods();
        }
        Ok(())
    }

    pub(super) fn node_update_moves_pods(&mut self) {
        let now = self.queue.now();
        if self.scheduler.queue.move_all_to_active_or_backoff(now) > 0 {
            self.arm_flushes();
            self.ensure_cycle();
        }
    }

    /// One `kubectl drain` pass: evict every pod left on the node but DaemonSet pods
    /// (`--ignore-daemonsets`, `--force`); retry in 5 s while some eviction is refused.
    pub(super) fn drain_pass(&mut self, id: NodeId) -> Result<(), RunError> {
        if !self.faults.draining.contains(&id) {
            return Ok(());
        }
        let pods: Vec<PodId> = self.cluster.node(id).pods.clone();
        let mut refused = 0;
        for p in pods {
            let st = self.cluster.pod(p);
            if st.terminating || st.pod.owner.as_ref().is_some_and(|o| o.kind == "DaemonSet") {
                continue;
            }
            if !self.evict_via_api(p)? {
                refused += 1;
            }
        }
        if refused > 0 {
            let at = self.queue.now() + DRAIN_RETRY;
            self.push(at, Event::Fault(FaultEvent::DrainRetry { node: id }));
        } else {
            self.faults.draining.remove(&id);
            let name = json_str(&self.cluster.node(id).node.name);
            self.log("node_drained", &format!(",\"node\":{name}"))?;
        }
        Ok(())
    }

    /// Refreshes every PodDisruptionBudget's status from the cluster.
    pub(super) fn refresh_pdbs(&mut self) {
        if !self.cluster.pdbs().is_empty() {
            let store = &self.workloads;
            let scale = |cluster: &crate::cluster::ClusterState, o: &crate::model::pod::OwnerRef| {
                if o.uid == 0 {
                    disruption::live_pod_scale(cluster, o)
                } else {
                    disruption::workload_scale(store, o.uid)
                }
            };
            disruption::refresh(&mut self.cluster, &scale);
        }
    }

    /// The eviction API: evicts `pod` if its budgets allow; returns whether it did.
    pub(super) fn evict_via_api(&mut self, pod: PodId) -> Result<bool, RunError> {
        self.refresh_pdbs();
        match disruption::eviction_allowed(&self.cluster, pod) {
            Ok(()) => {
                self.evict(pod, "Evicted")?;
                Ok(true)
            }
            Err(refusal) => {
                let key = json_str(&self.cluster.pod(pod).pod.key());
                self.log(
                    "eviction_refused",
                    &format!(",\"pod\":{key},\"message\":{}", json_str(&refusal.to_string())),
                )?;
                Ok(false)
            }
        }
    }

    fn evict(&mut self, pod: PodId, reason: &'static str) -> Result<(), RunError> {
        self.cluster.note_evicted(pod);
        let key = json_str(&self.cluster.pod(pod).pod.key());
        self.log("pod_evicted", &format!(",\"pod\":{key},\"reason\":\"{reason}\""))?;
        self.begin_termination(pod, reason)
    }

    /// Graceful deletion: the pod is Terminating and keeps its resources until its grace period
    /// has run on a reachable kubelet (an unbound pod goes at once).
    pub(super) fn begin_termination(&mut self, pod: PodId, reason: &str) -> Result<(), RunError> {
        let p = self.cluster.pod(pod);
        if p.phase.is_terminal() || p.terminating {
            return Ok(());
        }
        let Some(node) = p.node.filter(|_| p.is_assigned()) else {
            return self.end_pod(pod, PodPhase::Deleted, "pod_deleted", &format!(",\"reason\":{}", json_str(reason)));
        };
        self.cluster.mark_deleting(pod);
        self.faults.termination_reason.insert(pod, reason.to_string());
        let key = json_str(&self.cluster.pod(pod).pod.key());
        self.log("pod_terminating", &format!(",\"pod\":{key},\"reason\":{}", json_str(reason)))?;
        if self.kubelet_status(node) == KubeletStatus::Up {
            self.schedule_termination(pod);
        }
        self.pod_changed(pod);
        Ok(())
    }

    fn schedule_termination(&mut self, pod: PodId) {
        let p = self.cluster.pod(pod);
        let grace = SimDuration::from_secs(p.pod.termination_grace_period_seconds.max(0) as u64);
        let epoch = p.epoch;
        let at = self.queue.now() + grace;
        self.push(at, Event::PodTerminated { pod, epoch });
    }

    /// The phase, log kind and reason with which a terminating pod ends.
    pub(super) fn termination_outcome(&mut self, pod: PodId) -> (PodPhase, &'static str, String) {
        match self.faults.termination_reason.remove(&pod) {
            Some(r) => (PodPhase::Deleted, "pod_deleted", format!(",\"reason\":{}", json_str(&r))),
            None => (PodPhase::Failed, "pod_failed", ",\"reason\":\"Preempted\"".into()),
        }
    }

    /// After a binding: the kubelet starts the pod (or later, if it is away); a pod landing on a
    /// NoExecute-tainted node gets its taint-eviction timer.
    pub(super) fn after_bind(&mut self, id: PodId, node: NodeId) {
        self.sync_lifecycle_nodes();
        if self.kubelet_status(node) == KubeletStatus::Up {
            let latency = self.kubelet.startup_latency(&self.cluster.pod(id).pod);
            let epoch = self.cluster.pod(id).epoch;
            let at = self.queue.now() + self.kubelet_visibility_delay(id) + latency;
            self.push(at, Event::PodStarted { pod: id, epoch });
        } else {
            self.faults.deferred_start.insert(id);
        }
        if self.cluster.node(node).node.taints.iter().any(|t| t.effect == TaintEffect::NoExecute) {
            let _ = self.process_pod_on_tainted_node(id, node);
        }
    }

    /// After a container (re)start: schedules its readiness and its completion or crash.
    pub(super) fn after_start(&mut self, pod: PodId) {
        let now = self.queue.now();
        let outcome = self.kubelet.start_run(pod, &self.cluster.pod(pod).pod, now);
        let epoch = self.cluster.pod(pod).epoch;
        let ready_after = self.kubelet.readiness_delay(&self.cluster.pod(pod).pod);
        self.push(now + ready_after, Event::PodReady { pod, epoch });
        match outcome {
            RunOutcome::Forever => {}
            RunOutcome::Completes(d) => self.push(now + d, Event::PodCompleted { pod, epoch }),
            RunOutcome::Crashes(d) => self.push(now + d, Event::Fault(FaultEvent::ContainerCrashed { pod, epoch })),
        }
    }

    /// A pod reached a terminal phase: forget its fault bookkeeping.
    pub(super) fn forget_pod(&mut self, pod: PodId) {
        self.kubelet.forget(pod);
        self.faults.termination_reason.remove(&pod);
        self.faults.deferred_start.remove(&pod);
        self.faults.containers_down.remove(&pod);
    }

    fn crash_container(&mut self, pod: PodId, reason: &str) -> Result<(), RunError> {
        let p = self.cluster.pod(pod);
        if p.phase != PodPhase::Running || self.faults.containers_down.contains(&pod) {
            return Ok(());
        }
        if p.terminating {
            let (phase, kind, extra) = self.termination_outcome(pod);
            return self.end_pod(pod, phase, kind, &extra);
        }
        let now = self.queue.now();
        if p.pod.restart_policy == RestartPolicy::Never {
            return self.end_pod(pod, PodPhase::Failed, "pod_failed", &format!(",\"reason\":\"{reason}\""));
        }
        let backoff = self.kubelet.on_crash(pod, now);
        let epoch = self.cluster.bump_epoch(pod);
        self.cluster.set_not_ready(pod);
        self.faults.containers_down.insert(pod);
        self.pod_changed(pod);
        let key = json_str(&self.cluster.pod(pod).pod.key());
        self.log(
            "container_crashed",
            &format!(",\"pod\":{key},\"reason\":\"{reason}\",\"backoff_us\":{}", backoff.as_micros()),
        )?;
        self.push(now + backoff, Event::Fault(FaultEvent::ContainerRestart { pod, epoch }));
        Ok(())
    }

    /// A node's kubelet goes away: `Crashed` stops its pods (their API objects stay), `Partitioned`
    /// keeps them running out of the control plane's reach.
    pub(super) fn node_down(&mut self, id: NodeId, how: KubeletStatus) -> Result<(), RunError> {
        self.sync_lifecycle_nodes();
        let current = self.kubelet_status(id);
        let name = self.cluster.node(id).node.name.clone();
        if current == how || current == KubeletStatus::Crashed {
            let what = if how == KubeletStatus::Crashed { "failNode" } else { "partition" };
            return self.skip(what, &name, "already down");
        }
        let now = self.queue.now();
        self.faults.lifecycle.kubelet_lost(id, how, now);
        if how == KubeletStatus::Crashed {
            self.metrics.node_before(&self.cluster, id, now);
            self.cluster.node_mut(id).failures += 1;
            self.metrics.node_after(&self.cluster, id);
            self.log("node_failed", &format!(",\"node\":{}", json_str(&name)))?;
            if let Some(m) = &mut self.workload_metrics
                && now > SimTime::ZERO
            {
                m.disruption(now, format!("node_failure:{name}"));
                self.workloads_changed.touch_all();
            }
            for p in self.cluster.node(id).pods.clone() {
                // Nothing runs on a crashed node: every timer of its pods is void.
                self.cluster.bump_epoch(p);
                if self.cluster.pod(p).phase == PodPhase::Running {
                    self.faults.containers_down.insert(p);
                }
            }
        } else {
            self.log("node_partitioned", &format!(",\"node\":{}", json_str(&name)))?;
            if let Some(m) = &mut self.workload_metrics {
                m.disruption(now, format!("partition:{name}"));
                self.workloads_changed.touch_all();
            }
        }
        self.arm_monitor();
        self.services_nodes_changed();
        Ok(())
    }

    /// A node's kubelet is back (recovery after a crash, or the partition heals).
    pub(super) fn node_up(&mut self, id: NodeId) -> Result<(), RunError> {
        self.sync_lifecycle_nodes();
        let was = self.kubelet_status(id);
        let name = self.cluster.node(id).node.name.clone();
        if was == KubeletStatus::Up {
            return self.skip("recoverNode", &name, "not failed");
        }
        let now = self.queue.now();
        self.faults.lifecycle.kubelet_back(id, now);
        let kind = if was == KubeletStatus::Crashed { "node_recovered" } else { "node_healed" };
        self.log(kind, &format!(",\"node\":{}", json_str(&name)))?;
        for p in self.cluster.node(id).pods.clone() {
            let st = self.cluster.pod(p);
            if st.terminating {
                if was == KubeletStatus::Crashed {
                    let (phase, kind, extra) = self.termination_outcome(p);
                    self.end_pod(p, phase, kind, &extra)?;
                } else {
                    // A stale pod: evicted or deleted while unreachable, it ran on; the kubelet
                    // now learns of the deletion and terminates it gracefully.
                    if st.phase == PodPhase::Running {
                        self.faults.stale_pods_cleaned += 1;
                        let key = json_str(&st.pod.key());
                        self.log("pod_stale", &format!(",\"pod\":{key},\"node\":{}", json_str(&name)))?;
                    }
                    self.schedule_termination(p);
                }
                continue;
            }
            let deferred = self.faults.deferred_start.remove(&p);
            match st.phase {
                PodPhase::Pending if deferred || was == KubeletStatus::Crashed => {
                    let epoch = self.cluster.bump_epoch(p);
                    let latency = self.kubelet.startup_latency(&self.cluster.pod(p).pod);
                    self.push(now + latency, Event::PodStarted { pod: p, epoch });
                }
                PodPhase::Running if was == KubeletStatus::Crashed => {
                    if st.pod.restart_policy == RestartPolicy::Never {
                        self.end_pod(p, PodPhase::Failed, "pod_failed", ",\"reason\":\"NodeReboot\"")?;
                    } else {
                        let epoch = self.cluster.bump_epoch(p);
                        let latency = self.kubelet.startup_latency(&self.cluster.pod(p).pod);
                        self.push(now + latency, Event::Fault(FaultEvent::ContainerRestart { pod: p, epoch }));
                    }
                }
                _ => {}
            }
        }
        self.arm_monitor();
        self.services_nodes_changed();
        Ok(())
    }

    fn apply_lifecycle(&mut self, actions: Vec<LifecycleAction>) -> Result<(), RunError> {
        let now = self.queue.now();
        for a in actions {
            match a {
                LifecycleAction::Condition { node, ready } => {
                    self.metrics.node_before(&self.cluster, node, now);
                    let n = self.cluster.node_mut(node);
                    n.ready = ready;
                    n.node.taints.retain(|t| !(t.key == TAINT_UNREACHABLE && t.effect == TaintEffect::NoSchedule));
                    if !ready {
                        n.node.taints.push(Taint {
                            key: TAINT_UNREACHABLE.into(),
                            value: String::new(),
                            effect: TaintEffect::NoSchedule,
                            time_added: None,
                        });
                    }
                    self.metrics.node_after(&self.cluster, node);
                    let name = json_str(&self.cluster.node(node).node.name);
                    for p in self.cluster.node(node).pods.clone() {
                        let st = self.cluster.pod(p);
                        let up = ready
                            && st.phase == PodPhase::Running
                            && !st.terminating
                            && !self.faults.containers_down.contains(&p);
                        if up {
                            self.cluster.mark_ready(p, now);
                        } else {
                            self.cluster.set_not_ready(p);
                        }
                        self.pod_changed(p);
                    }
                    self.log(if ready { "node_ready" } else { "node_not_ready" }, &format!(",\"node\":{name}"))?;
                    self.nodes_changed();
                    if ready {
                        self.node_update_moves_pods();
                    }
                }
                LifecycleAction::Taint(node) => {
                    self.cluster.node_mut(node).node.taints.push(Taint {
                        key: TAINT_UNREACHABLE.into(),
                        value: String::new(),
                        effect: TaintEffect::NoExecute,
                        time_added: None,
                    });
                    self.faults.taint_generation[node.0 as usize] += 1;
                    let name = json_str(&self.cluster.node(node).node.name);
                    self.log("node_tainted", &format!(",\"node\":{name},\"taint\":\"{TAINT_UNREACHABLE}:NoExecute\""))?;
                    for p in self.cluster.node(node).pods.clone() {
                        self.process_pod_on_tainted_node(p, node)?;
                    }
                    self.nodes_changed();
                }
                LifecycleAction::Untaint(node) => {
                    self.cluster
                        .node_mut(node)
                        .node
                        .taints
                        .retain(|t| !(t.key == TAINT_UNREACHABLE && t.effect == TaintEffect::NoExecute));
                    self.faults.taint_generation[node.0 as usize] += 1;
                    let name = json_str(&self.cluster.node(node).node.name);
                    self.log(
                        "node_untainted",
                        &format!(",\"node\":{name},\"taint\":\"{TAINT_UNREACHABLE}:NoExecute\""),
                    )?;
                    self.node_update_moves_pods();
                    self.nodes_changed();
                }
                LifecycleAction::ZoneState { zone, state } => {
                    let zone = zone.replace(":\u{0}:", "/");
                    self.log("zone_state", &format!(",\"zone\":{},\"state\":\"{}\"", json_str(&zone), state.as_str()))?;
                }
            }
        }
        Ok(())
    }

    /// The taint manager's decision for a pod on a NoExecute-tainted node.
    fn process_pod_on_tainted_node(&mut self, pod: PodId, node: NodeId) -> Result<(), RunError> {
        let st = self.cluster.pod(pod);
        if !st.is_assigned() || st.terminating {
            return Ok(());
        }
        match toleration_time(&self.cluster.node(node).node.taints, &st.pod.tolerations) {
            TaintVerdict::EvictNow => self.evict(pod, "TaintManagerEviction"),
            TaintVerdict::Tolerate => Ok(()),
            TaintVerdict::EvictAfter(d) => {
                let generation = self.faults.taint_generation[node.0 as usize];
                let at = self.queue.now() + d;
                self.push(at, Event::Fault(FaultEvent::TaintEviction { pod, node, generation }));
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::taint::TolerationOperator;

    fn taint(key: &str) -> Taint {
        Taint { key: key.into(), value: String::new(), effect: TaintEffect::NoExecute, time_added: None }
    }

    fn tol(key: &str, secs: Option<i64>) -> Toleration {
        Toleration {
            key: key.into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: Some(TaintEffect::NoExecute),
            toleration_seconds: secs,
        }
    }

    #[test]
    fn toleration_time_follows_the_taint_manager() {
        let un = taint(TAINT_UNREACHABLE);
        type Case = (Vec<Taint>, Vec<Toleration>, Option<Option<u64>>);
        let cases: Vec<Case> = vec![
            (vec![un.clone()], vec![], None),
            (vec![un.clone()], vec![tol(TAINT_UNREACHABLE, Some(300))], Some(Some(300))),
            (vec![un.clone()], vec![tol(TAINT_UNREACHABLE, None)], Some(None)),
            (vec![un.clone()], vec![tol(TAINT_UNREACHABLE, Some(0))], Some(Some(0))),
            (vec![un.clone()], vec![tol(TAINT_UNREACHABLE, Some(-5))], Some(Some(0))),
            (vec![un.clone(), taint("x")], vec![tol(TAINT_UNREACHABLE, Some(300)), tol("x", Some(60))], Some(Some(60))),
            (vec![un.clone(), taint("x")], vec![tol(TAINT_UNREACHABLE, Some(300))], None),
            // The first matching toleration per taint is the one used.
            (vec![un.clone()], vec![tol("", None), tol(TAINT_UNREACHABLE, Some(10))], Some(None)),
        ];
        for (taints, tols, want) in cases {
            // None: evict now; Some(None): never; Some(Some(s)): after s seconds.
            let got = match toleration_time(&taints, &tols) {
                TaintVerdict::EvictNow => None,
                TaintVerdict::Tolerate => Some(None),
                TaintVerdict::EvictAfter(d) => Some(Some(d.as_micros() / 1_000_000)),
            };
            assert_eq!(got, want, "{taints:?} {tols:?}");
        }
    }
}
