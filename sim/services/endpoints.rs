//! The endpoints controller: a Service's endpoints are the pods its selector matches in its
//! namespace that are Running, Ready and not terminating. The controller's view (`target`)
//! follows every pod change at once; the data plane's view (`published`, what kube-proxy
//! programs and what the metrics count) receives each change after the propagation delay, in the
//! order the changes happened, so `published(t) = target(t − delay)`.
//!
//! Upstream, the EndpointSlice controller batches updates over
//! `--endpointslice-updates-batch-period` (default 0) and kube-proxy applies them on its next
//! sync (rate-limited by `--iptables-min-sync-period`, default 1 s); kubesim folds both into one
//! constant delay (`services.endpointDelay`, default 0).

use crate::cluster::{PodId, PodState};
use crate::services::{Service, is_ready_endpoint};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A membership change of one pod in one Service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Index of the Service in [`crate::services::ServiceSet::services`].
    pub service: u32,
    /// The pod.
    pub pod: PodId,
    /// True: the pod becomes a ready endpoint; false: it stops being one.
    pub ready: bool,
}

/// The controller's and the data plane's endpoint sets of every Service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    target: Vec<BTreeSet<PodId>>,
    published: Vec<BTreeSet<PodId>>,
}

impl Endpoints {
    /// Empty sets for `services` Services.
    pub fn new(services: usize) -> Self {
        Endpoints { target: vec![BTreeSet::new(); services], published: vec![BTreeSet::new(); services] }
    }

    /// Re-evaluates pod `id` after a change; returns the membership changes (in Service order)
    /// to publish now or after the delay.
    pub fn observe(&mut self, services: &[Service], id: PodId, p: &PodState) -> Vec<Change> {
        let ready = is_ready_endpoint(p);
        let mut out = Vec::new();
        for (i, s) in services.iter().enumerate() {
            let member = ready && s.selects(&p.pod.namespace, &p.pod.labels);
            let set = &mut self.target[i];
            let changed = if member { set.insert(id) } else { set.remove(&id) };
            if changed {
                out.push(Change { service: i as u32, pod: id, ready: member });
            }
        }
        out
    }

    /// Applies a change to the data plane; false when it was already so.
    pub fn publish(&mut self, c: Change) -> bool {
        let set = &mut self.published[c.service as usize];
        if c.ready { set.insert(c.pod) } else { set.remove(&c.pod) }
    }

    /// The ready endpoints the data plane sees for Service `i`, in pod order.
    pub fn published(&self, i: usize) -> &BTreeSet<PodId> {
        &self.published[i]
    }

    /// The ready endpoints the controller has computed for Service `i` (not yet all published).
    pub fn target(&self, i: usize) -> &BTreeSet<PodId> {
        &self.target[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::PodPhase;
    use crate::engine::time::SimTime;

    fn service(app: &str) -> Service {
        Service {
            namespace: "default".into(),
            name: app.into(),
            selector: Some([("app".to_string(), app.to_string())].into_iter().collect()),
            ports: vec![],
            load: None,
        }
    }

    fn pod(app: &str, phase: PodPhase, ready: bool, terminating: bool) -> PodState {
        let mut p = crate::scheduler::testing::make_pod("p", &[]);
        p.labels.insert("app".into(), app.into());
        let mut cluster = crate::cluster::ClusterState::new();
        let id = cluster.add_pod(p, SimTime::ZERO).expect("pod");
        let mut st = cluster.pod(id).clone();
        st.phase = phase;
        st.ready_since = ready.then_some(SimTime(1));
        st.terminating = terminating;
        st
    }

    #[test]
    fn membership_follows_readiness_and_termination() {
        let svcs = vec![service("web"), service("db")];
        let mut e = Endpoints::new(2);
        let id = PodId(0);
        let cases = [
            ("a pending pod is no endpoint", pod("web", PodPhase::Pending, false, false), vec![]),
            ("a running pod not yet ready is no endpoint", pod("web", PodPhase::Running, false, false), vec![]),
            (
                "a ready pod joins the service selecting it",
                pod("web", PodPhase::Running, true, false),
                vec![Change { service: 0, pod: id, ready: true }],
            ),
            ("the same state twice changes nothing", pod("web", PodPhase::Running, true, false), vec![]),
            (
                "a terminating pod leaves",
                pod("web", PodPhase::Running, false, true),
                vec![Change { service: 0, pod: id, ready: false }],
            ),
        ];
        for (name, p, want) in cases {
            assert_eq!(e.observe(&svcs, id, &p), want, "{name}");
        }
        assert!(e.target(1).is_empty(), "the db Service never selected the web pod");
    }

    #[test]
    fn publishing_applies_changes_in_order_and_reports_no_ops() {
        let mut e = Endpoints::new(1);
        let add = Change { service: 0, pod: PodId(3), ready: true };
        assert!(e.publish(add));
        assert!(!e.publish(add));
        assert_eq!(e.published(0).iter().copied().collect::<Vec<_>>(), vec![PodId(3)]);
        assert!(e.publish(Change { ready: false, ..add }));
        assert!(e.published(0).is_empty());
    }
}
