//! The run loop's side of the control-plane model (see [`crate::apiserver`]): write delays of
//! pod creations and bindings, watch delays to the scheduler, the controllers and the kubelets,
//! and `Event::Api`. With the model off every function here returns zero or does what the run
//! loop did before, so outputs are unchanged.

use super::{Event, RunError, Simulation};
use crate::apiserver::{ApiEvent, ClientClass};
use crate::cluster::{PodId, PodPhase};
use crate::controllers::Kind;
use crate::engine::time::SimDuration;

/// The client name of a controller of `kind` (`replicaset-controller`, ...).
pub fn controller_client(kind: Kind) -> String {
    format!("{}-controller", kind.as_str().to_ascii_lowercase())
}

impl<'s> Simulation<'s> {
    /// A pod creation by a controller of `kind` (`None`: a user) is written now: its queueing
    /// delay plus the write latency (zero with the model off).
    pub(super) fn api_create_write(&mut self, kind: Option<Kind>) -> SimDuration {
        let Some(cfg) = self.api.config.as_ref() else { return SimDuration::ZERO };
        let latency = cfg.write_latency;
        let now = self.queue.now();
        let queued = match kind {
            Some(k) => self.api.write(&controller_client(k), ClientClass::Controller, now),
            None => self.api.write("users", ClientClass::User, now),
        };
        queued + latency
    }

    /// A controller's other write (a pod deletion, an object created or deleted): it takes a
    /// token of the controller's bucket and is counted; its effect is not delayed.
    pub(super) fn api_controller_write(&mut self, kind: Kind) {
        if self.api.enabled() {
            let now = self.queue.now();
            self.api.write(&controller_client(kind), ClientClass::Controller, now);
        }
    }

    /// A new unbound pod enters the scheduling queue: once its creation has been written and
    /// watched by the scheduler, or at once when that takes no time (as without the model).
    pub(super) fn queue_created_pod(&mut self, id: PodId, priority: i32, write_delay: SimDuration) {
        let now = self.queue.now();
        if let Some(cfg) = &self.api.config
            && write_delay + cfg.watch_scheduler > SimDuration::ZERO
        {
            let at = now + write_delay + cfg.watch_scheduler;
            let epoch = self.cluster.pod(id).epoch;
            self.api.set_in_flight(id, true);
            self.push(at, Event::Api(ApiEvent::SchedulerSees { pod: id, epoch }));
            return;
        }
        let run_us = self.cluster.pod(id).pod.run.run_duration.as_ref().map(|d| d.mean_micros() as u64);
        self.scheduler.queue.add_job(id, priority, now, run_us);
        self.ensure_cycle();
    }

    /// Handles `Event::Api`.
    pub(super) fn on_api_event(&mut self, e: ApiEvent) -> Result<(), RunError> {
        match e {
            ApiEvent::SchedulerSees { pod, epoch } => {
                self.api.set_in_flight(pod, false);
                let p = self.cluster.pod(pod);
                if p.epoch != epoch || p.phase != PodPhase::Pending || p.node.is_some() {
                    return Ok(());
                }
                let now = self.queue.now();
                let priority = p.pod.priority;
                let run_us = p.pod.run.run_duration.as_ref().map(|d| d.mean_micros() as u64);
                self.scheduler.queue.add_job(pod, priority, now, run_us);
                self.ensure_cycle();
                Ok(())
            }
        }
    }

    /// How much later than the binding the kubelet sees a bound pod: the scheduler's binding
    /// write (queueing + latency) and the kubelet's watch delay; for a pod created with
    /// `spec.nodeName`, its creation's write latency and the watch delay. Zero with the model off.
    pub(super) fn kubelet_visibility_delay(&mut self, id: PodId) -> SimDuration {
        let Some(cfg) = self.api.config.as_ref() else { return SimDuration::ZERO };
        let (latency, watch) = (cfg.write_latency, cfg.watch_kubelet);
        if self.cluster.pod(id).pod.node_name.is_some() {
            return latency + watch;
        }
        let now = self.queue.now();
        self.api.write("scheduler", ClientClass::Scheduler, now) + latency + watch
    }

    /// The controllers' watch delay (zero with the model off).
    pub(super) fn controller_watch_delay(&self) -> SimDuration {
        self.api.config.as_ref().map_or(SimDuration::ZERO, |c| c.watch_controllers)
    }
}
