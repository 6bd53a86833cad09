//! The run loop's side of Services: the endpoint propagation event, the hooks that re-evaluate
//! endpoints when a pod or a node changes, `services.csv` (one row per Service at each sample)
//! and `summary.json`'s `services` object. The model itself is [`crate::services`].
//!
//! An endpoint the data plane lists *answers* requests while its pod is Running with its
//! containers up on a node that has not crashed: between a node crash and the node lifecycle
//! controller marking its pods NotReady (the grace period), the endpoints stay listed but their
//! share of the load is lost, as upstream. A network partition cuts a node off the control plane
//! only, so its endpoints keep answering.

use super::faults::FaultState;
use super::output::StreamFile;
use super::{Event, RunError, Simulation, json_str};
use crate::cluster::{ClusterState, PodId, PodPhase};
use crate::controllers::node_lifecycle::KubeletStatus;
use crate::services::endpoints::{Change, Endpoints};
use crate::services::metrics::{Account, SERVICES_HEADER, ServiceSummary};
use std::collections::{BTreeMap, BTreeSet};

/// Events of the endpoints model.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SvcEvent {
    /// A membership change reaches the data plane (after `services.endpointDelay`).
    Publish(Change),
}

/// Endpoints, accounts and `services.csv` of a run with Services (checkpointed with the run;
/// the file is reattached on resume).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ServicesRuntime {
    endpoints: Endpoints,
    accounts: Vec<Account>,
    /// Per Service, the published endpoints that did not answer at the last refresh.
    unreachable: Vec<BTreeSet<PodId>>,
    csv: StreamFile,
}

impl ServicesRuntime {
    /// State for `n` Services writing `services.csv` to `csv`.
    pub fn new(n: usize, mut csv: StreamFile) -> std::io::Result<Self> {
        csv.write(SERVICES_HEADER.as_bytes())?;
        Ok(ServicesRuntime {
            endpoints: Endpoints::new(n),
            accounts: vec![Account::default(); n],
            unreachable: vec![BTreeSet::new(); n],
            csv,
        })
    }

    /// The endpoints of every Service.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Reopens `services.csv` in `dir` at the checkpoint's length (resume).
    pub fn reattach(&mut self, dir: Option<&std::path::Path>) -> std::io::Result<()> {
        let len = self.csv.len();
        self.csv = match dir {
            Some(d) => StreamFile::reopen(d, "services.csv", false, len)?,
            None => StreamFile::discard_from(len),
        };
        Ok(())
    }

    /// Flushes `services.csv` (before a checkpoint).
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.csv.flush()
    }

    /// Leaves `services.csv`'s temporary in place (an interrupted, checkpointed run).
    pub fn keep(self) -> std::io::Result<()> {
        self.csv.keep()
    }
}

/// True when the pod answers requests: Running, containers up, on a node that has not crashed.
fn answers(cluster: &ClusterState, faults: &FaultState, id: PodId) -> bool {
    let p = cluster.pod(id);
    p.phase == PodPhase::Running
        && !faults.containers_down.contains(&id)
        && p.node.is_some_and(|n| faults.lifecycle.kubelet(n) != KubeletStatus::Crashed)
}

impl<'s> Simulation<'s> {
    /// Integrates Service `i`'s account up to now and sets its state from the published
    /// endpoints, their reachability and the desired count.
    fn refresh_service(&mut self, i: usize) {
        let now = self.queue.now().0;
        let sc = self.scenario;
        let Some(rt) = &mut self.services else { return };
        let svc = &sc.services.services[i];
        rt.accounts[i].advance(now, svc.load.as_ref());
        let mut reachable = Vec::with_capacity(rt.endpoints.published(i).len());
        rt.unreachable[i].clear();
        for id in rt.endpoints.published(i) {
            let up = answers(&self.cluster, &self.faults, *id);
            if !up {
                rt.unreachable[i].insert(*id);
            }
            reachable.push(up);
        }
        rt.accounts[i].set(now, reachable, svc.desired(&self.workloads));
    }

    /// A pod changed: the endpoints of the Services selecting it are re-evaluated, and each
    /// change is published by an event after `services.endpointDelay` (with no delay, an event at
    /// the same time, handled right after the current one).
    pub(super) fn services_pod_changed(&mut self, id: PodId) {
        let sc = self.scenario;
        let Some(rt) = &mut self.services else { return };
        let p = self.cluster.pod(id);
        let selecting: Vec<usize> = (sc.services.services.iter().enumerate())
            .filter(|(_, s)| s.selects(&p.pod.namespace, &p.pod.labels))
            .map(|(i, _)| i)
            .collect();
        if selecting.is_empty() {
            return;
        }
        let changes = rt.endpoints.observe(&sc.services.services, id, p);
        let at = self.queue.now() + sc.services.endpoint_delay;
        for c in changes {
            self.push(at, Event::Service(SvcEvent::Publish(c)));
        }
        // A published endpoint may stop (or start) answering, and a scale changes the desired
        // count, without a membership change: refresh only then (a refresh is linear in the
        // endpoints).
        let up = answers(&self.cluster, &self.faults, id);
        for i in selecting {
            let Some(rt) = &self.services else { return };
            let flipped = rt.endpoints.published(i).contains(&id) && rt.unreachable[i].contains(&id) == up;
            if flipped || rt.accounts[i].desired() != sc.services.services[i].desired(&self.workloads) {
                self.refresh_service(i);
            }
        }
    }

    /// Handles [`Event::Service`].
    pub(super) fn on_service_event(&mut self, e: SvcEvent) -> Result<(), RunError> {
        match e {
            SvcEvent::Publish(c) => self.publish_endpoint(c),
        }
    }

    fn publish_endpoint(&mut self, c: Change) -> Result<(), RunError> {
        let Some(rt) = &mut self.services else { return Ok(()) };
        let i = c.service as usize;
        // Integrate the old state up to now before the data plane changes.
        rt.accounts[i].advance(self.queue.now().0, self.scenario.services.services[i].load.as_ref());
        if !rt.endpoints.publish(c) {
            return Ok(());
        }
        self.refresh_service(i);
        let svc = json_str(&self.scenario.services.services[i].key());
        let pod = json_str(&self.cluster.pod(c.pod).pod.key());
        let kind = if c.ready { "endpoint_added" } else { "endpoint_removed" };
        self.log(kind, &format!(",\"service\":{svc},\"pod\":{pod}"))
    }

    /// A node crashed or came back: every Service's reachability is re-read.
    pub(super) fn services_nodes_changed(&mut self) {
        for i in 0..self.scenario.services.services.len() {
            self.refresh_service(i);
        }
    }

    /// Writes one `services.csv` row per Service.
    pub(super) fn services_sample(&mut self) -> Result<(), RunError> {
        self.services_nodes_changed();
        let now = self.queue.now().0;
        let sc = self.scenario;
        let Some(rt) = &mut self.services else { return Ok(()) };
        let mut out = String::new();
        for (a, s) in rt.accounts.iter_mut().zip(&sc.services.services) {
            out.push_str(&a.row(now, s));
        }
        rt.csv.write(out.as_bytes())?;
        Ok(())
    }

    /// Closes the accounts at the end of the run and `services.csv`; the `summary.json` object.
    pub(super) fn services_finish(
        &mut self,
        end_us: u64,
    ) -> Result<Option<BTreeMap<String, ServiceSummary>>, RunError> {
        let sc = self.scenario;
        let Some(mut rt) = self.services.take() else { return Ok(None) };
        let mut out = BTreeMap::new();
        for (a, s) in rt.accounts.iter_mut().zip(&sc.services.services) {
            a.advance(end_us, s.load.as_ref());
            out.insert(s.key(), a.summary(s));
        }
        std::mem::replace(&mut rt.csv, StreamFile::discard(false)).finish()?;
        Ok(Some(out))
    }
}
