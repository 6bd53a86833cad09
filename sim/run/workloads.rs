//! The run loop's side of the controllers: the `ControllerSync` work queue, applying the actions
//! controllers return, notifying owners of pod changes, graceful pod deletion, and the workload
//! timeline actions (apply, delete, scale, rollout).
//!
//! This is the only code that mutates the [`WorkloadStore`]; controllers themselves are pure
//! (see [`crate::controllers`]).

use super::{Event, RunError, Simulation, json_str};
use crate::cluster::{PodId, PodPhase};
use crate::controllers::{Action, Kind, ObjectKey, SyncContext, Workload, pod_event_delay};
use crate::engine::time::SimTime;
use crate::input::scenario::RolloutPatch;

impl<'s> Simulation<'s> {
    /// Stores the scenario's initial workload objects and queues their first sync.
    pub(super) fn start_workloads(&mut self) -> Result<(), RunError> {
        for w in &self.scenario.workloads {
            self.create_workload(w.clone())?;
        }
        Ok(())
    }

    /// Queues a sync of object `uid` at `at`.
    pub(super) fn enqueue_sync(&mut self, uid: u64, at: SimTime) {
        if self.ctrl_queue.enqueue(uid, at) {
            self.push(at, Event::ControllerSync { uid });
        }
    }

    /// Creates an object through admission (object-count quotas); false when it was refused.
    fn create_workload(&mut self, w: Workload) -> Result<bool, RunError> {
        if !self.admit_workload(&w)? {
            return Ok(false);
        }
        let key = w.key();
        let owner = w.meta().owner.clone();
        let now = self.queue.now();
        match self.workloads.insert(w, now) {
            Ok(uid) => {
                self.log("workload_created", &format!(",\"object\":{},\"uid\":{uid}", json_str(&key.to_string())))?;
                self.enqueue_sync(uid, now);
                if let Some(o) = owner {
                    self.enqueue_sync(o.uid, now);
                }
                self.workloads_changed.touch_all();
                Ok(true)
            }
            Err(_) => self
                .log(
                    "action_skipped",
                    &format!(",\"action\":\"create\",\"object\":{},\"reason\":\"exists\"", json_str(&key.to_string())),
                )
                .map(|()| true),
        }
    }

    /// Handles `Event::ControllerSync`.
    pub(super) fn on_controller_sync(&mut self, uid: u64) -> Result<(), RunError> {
        let now = self.queue.now();
        if !self.ctrl_queue.take(uid, now) {
            return Ok(());
        }
        let Some(w) = self.workloads.by_uid(uid) else { return Ok(()) };
        let actions = {
            let ctx = SyncContext { now, cluster: &self.cluster, store: &self.workloads };
            w.sync(&ctx)
        };
        self.apply_actions(uid, actions)
    }

    fn apply_actions(&mut self, uid: u64, actions: Vec<Action>) -> Result<(), RunError> {
        let now = self.queue.now();
        let Some(w) = self.workloads.by_uid(uid) else { return Ok(()) };
        let me = json_str(&w.key().to_string());
        let kind = w.kind();
        // Upstream `slowStartBatch`: creations go in batches of 1, 2, 4, ...; after a batch with
        // a refused create, the rest are not attempted and the sync is retried rate-limited.
        let creates = actions.iter().filter(|a| matches!(a, Action::CreatePod { .. })).count();
        let batch_ends: Vec<usize> = crate::controllers::replicaset::slow_start_batches(creates)
            .into_iter()
            .scan(0, |end, b| {
                *end += b;
                Some(*end)
            })
            .collect();
        let (mut create_index, mut stop_at, mut refused, mut refused_objects) = (0usize, usize::MAX, 0usize, 0usize);
        for a in actions {
            match a {
                Action::CreatePod { mut pod, generate_name } => {
                    let i = create_index;
                    create_index += 1;
                    if i >= stop_at {
                        continue;
                    }
                    let mut shown = None;
                    if generate_name {
                        let prefix = std::mem::take(&mut pod.name);
                        loop {
                            let name = format!("{prefix}{}", self.workloads.draw_name(uid));
                            if self.cluster.pod_id(&pod.namespace, &name).is_none() {
                                pod.name = name;
                                break;
                            }
                        }
                        shown = Some(prefix);
                    }
                    if !self.create_pod_as(*pod, Some(kind), shown.as_deref())? {
                        refused += 1;
                        stop_at = stop_at.min(batch_ends.iter().copied().find(|e| *e > i).unwrap_or(creates));
                    }
                }
                Action::DeletePod { pod, reason } => {
                    self.api_controller_write(kind);
                    self.delete_pod_gracefully(pod, reason)?
                }
                Action::Create(w) => {
                    self.api_controller_write(kind);
                    if !self.create_workload(*w)? {
                        refused_objects += 1;
                    }
                }
                Action::Update(w) => {
                    let owner = w.meta().owner.clone();
                    let target = w.meta().uid;
                    if self.workloads.update(*w) {
                        self.workloads_changed.touch(target);
                        if let Some(o) = owner {
                            self.workloads_changed.touch(o.uid);
                            self.enqueue_sync(o.uid, now);
                        }
                        if target != uid {
                            self.enqueue_sync(target, now);
                        }
                    }
                }
                Action::Delete(key) => {
                    self.api_controller_write(kind);
                    self.delete_workload(&key)?
                }
                Action::Record { reason, message } => self.log(
                    "controller_event",
                    &format!(",\"object\":{me},\"reason\":\"{reason}\",\"message\":{}", json_str(&message)),
                )?,
                Action::RequeueAfter(d) => self.enqueue_sync(uid, now + d),
                Action::CreateClaims { namespace, claims } => self.create_claims(&namespace, &claims)?,
            }
        }
        if refused > 0 || refused_objects > 0 {
            let skipped = creates - stop_at.min(creates);
            self.log(
                "controller_event",
                &format!(
                    ",\"object\":{me},\"reason\":\"FailedCreate\",\"message\":{}",
                    json_str(&format!(
                        "{refused} pod creation(s) refused at admission, {skipped} not attempted, {refused_objects} \
                         object creation(s) refused"
                    ))
                ),
            )?;
            let delay = self.admission.retry.when(uid, kind, now);
            self.enqueue_sync(uid, now + delay);
        } else if !self.scenario.admission.is_empty() {
            self.admission.retry.forget(uid);
        }
        Ok(())
    }

    /// Deletes an object and, cascading (background propagation), what it owns.
    pub(super) fn delete_workload(&mut self, key: &ObjectKey) -> Result<(), RunError> {
        let Some((w, pods, objects)) = self.workloads.remove(key) else {
            return self.log(
                "action_skipped",
                &format!(",\"action\":\"delete\",\"object\":{},\"reason\":\"not found\"", json_str(&key.to_string())),
            );
        };
        self.ctrl_queue.forget(w.meta().uid);
        self.workloads_changed.touch_all();
        self.log("workload_deleted", &format!(",\"object\":{}", json_str(&key.to_string())))?;
        if let Some(o) = &w.meta().owner {
            self.enqueue_sync(o.uid, self.queue.now());
        }
        for o in objects {
            self.delete_workload(&o)?;
        }
        for p in pods {
            if self.cluster.pod(p).phase.is_terminal() {
                // A Job's finished pods go with it.
                self.release_if_unread(p);
            } else {
                self.delete_pod_gracefully(p, "GarbageCollected")?;
            }
        }
        Ok(())
    }

    /// Drops an ended pod from the cluster store once nothing reads it: its `pods.csv` row is
    /// written, no workload's ownership index holds it (a Job counts its finished pods until
    /// the Job is deleted; the other kinds forget a pod when it ends), and no ResourceQuota
    /// charges it (a Succeeded or Failed pod stays a stored object of its namespace until it is
    /// deleted). Nothing is dropped with [`super::RunOptions::keep_ended_pods`].
    pub(super) fn release_if_unread(&mut self, id: PodId) {
        if self.keep_ended_pods || self.admission_holds(id) {
            return;
        }
        let owner = self.cluster.pod(id).pod.owner.as_ref().map(|o| o.uid);
        if owner.is_some_and(|uid| self.workloads.holds_pod(uid, id)) {
            return;
        }
        self.cluster.release_pod(id);
    }

    /// Deletes a pod as the API server does: an unbound pod goes at once; a bound one is marked
    /// terminating (no longer Ready, still holding its resources) and goes after its
    /// `terminationGracePeriodSeconds`.
    pub(super) fn delete_pod_gracefully(&mut self, id: PodId, reason: &str) -> Result<(), RunError> {
        // The kubelet-aware graceful deletion of `run/faults.rs` (a pod on an unreachable node
        // stays Terminating until its kubelet is back).
        self.begin_termination(id, reason)
    }

    /// Handles `Event::PodDeleted`: the grace period of a deleted pod is over.
    /// The epoch is not compared: a terminating pod may still start meanwhile (which bumps it).
    pub(super) fn on_pod_deleted(&mut self, id: PodId, _epoch: u32) -> Result<(), RunError> {
        let p = self.cluster.pod(id);
        if !p.terminating || p.phase.is_terminal() {
            return Ok(());
        }
        self.end_pod(id, PodPhase::Deleted, "pod_deleted", "")
    }

    /// Handles `Event::PodReady`.
    pub(super) fn on_pod_ready(&mut self, id: PodId, epoch: u32) -> Result<(), RunError> {
        let p = self.cluster.pod(id);
        if p.epoch != epoch || p.phase != PodPhase::Running || p.terminating {
            return Ok(());
        }
        self.cluster.mark_ready(id, self.queue.now());
        let key = json_str(&self.cluster.pod(id).pod.key());
        self.log("pod_ready", &format!(",\"pod\":{key}"))?;
        self.pod_changed(id);
        Ok(())
    }

    /// A pod changed (created, bound, running, ready, finished, deleting): its owner is queued
    /// after the kind's informer delay, and the ownership index follows.
    pub(super) fn pod_changed(&mut self, id: PodId) {
        self.services_pod_changed(id);
        self.admission_observe(id);
        let p = self.cluster.pod(id);
        let Some(uid) = p.pod.owner.as_ref().map(|o| o.uid).filter(|u| *u != 0) else { return };
        let Some(w) = self.workloads.by_uid(uid) else { return };
        let kind = w.kind();
        // The pod's owner, and the owner's owner (a Deployment is judged by its ReplicaSets' pods).
        self.workloads_changed.touch(uid);
        if let Some(o) = &w.meta().owner {
            self.workloads_changed.touch(o.uid);
        }
        if p.phase.is_terminal() && kind != Kind::Job {
            self.workloads.forget_pod(uid, id);
        } else {
            self.workloads.add_owned_pod(uid, id);
        }
        let at = self.queue.now() + pod_event_delay(kind) + self.controller_watch_delay();
        self.enqueue_sync(uid, at);
    }

    /// A node changed (added, Ready or not, taints): DaemonSets are queued.
    pub(super) fn nodes_changed(&mut self) {
        // The next convergence check recounts every workload (a DaemonSet's desired count
        // follows the nodes); a node change alone does not trigger one.
        self.workloads_changed.all = true;
        let now = self.queue.now();
        let uids: Vec<u64> =
            self.workloads.objects().filter(|w| w.kind() == Kind::DaemonSet).map(|w| w.meta().uid).collect();
        for uid in uids {
            self.enqueue_sync(uid, now);
        }
    }

    /// Applies a manifest object from the timeline: creates it, or updates its spec.
    pub(super) fn apply_workload(&mut self, w: Workload) -> Result<(), RunError> {
        let key = w.key();
        match self.workloads.get(&key).cloned() {
            None => self.create_workload(w).map(|_| ()),
            Some(mut cur) => {
                cur.apply_spec(&w);
                self.update_from_timeline(cur, "apply")
            }
        }
    }

    fn update_from_timeline(&mut self, w: Workload, action: &str) -> Result<(), RunError> {
        let uid = w.meta().uid;
        let key = w.key();
        self.workloads.update(w);
        self.workloads_changed.touch_all();
        self.log("workload_updated", &format!(",\"object\":{},\"action\":\"{action}\"", json_str(&key.to_string())))?;
        self.enqueue_sync(uid, self.queue.now());
        Ok(())
    }

    /// `scale` from the timeline.
    pub(super) fn scale_workload(&mut self, key: &ObjectKey, replicas: i32) -> Result<(), RunError> {
        let mut w = self.workloads.get(key).cloned();
        match w.as_mut().map(|w| w.set_replicas(replicas)) {
            Some(true) => self.update_from_timeline(w.expect("checked"), "scale"),
            _ => self.log(
                "action_skipped",
                &format!(
                    ",\"action\":\"scale\",\"object\":{},\"reason\":\"not found or not scalable\"",
                    json_str(&key.to_string())
                ),
            ),
        }
    }

    /// `rollout` from the timeline: changes the pod template (an image, or a restart annotation
    /// as `kubectl rollout restart` does).
    pub(super) fn rollout_workload(&mut self, key: &ObjectKey, patch: &RolloutPatch) -> Result<(), RunError> {
        let now = self.queue.now();
        let Some(mut w) = self.workloads.get(key).cloned() else {
            return self.log(
                "action_skipped",
                &format!(",\"action\":\"rollout\",\"object\":{},\"reason\":\"not found\"", json_str(&key.to_string())),
            );
        };
        if let Some(t) = w.template_mut() {
            patch.apply(t, now);
        }
        self.update_from_timeline(w, "rollout")
    }
}
