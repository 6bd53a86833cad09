//! Services and their endpoints: the `Service` (v1) model, which pods are endpoints, what a
//! Service's "desired" endpoint count is, and the per-Service availability and load accounting.
//!
//! - [`endpoints`]: the endpoints controller (membership follows readiness; changes reach the
//!   data plane after the propagation delay).
//! - [`load`]: an optional request load per Service spread over its endpoints.
//! - [`metrics`]: per-Service integrals (time with zero endpoints, capacity lost, requests) for
//!   `services.csv` and `summary.json`.
//!
//! The run loop's side (events, hooks into pod and node changes) is `crate::run::services`; the
//! manifest and scenario parsing is [`crate::input::services`].
//!
//! **Architecture Invariant:** nothing here mutates the cluster or the workloads: Services only
//! observe pods, so adding a Service never changes where or when pods run.

pub mod endpoints;
pub mod load;
pub mod metrics;

use crate::cluster::PodState;
use crate::controllers::{Workload, WorkloadStore};
use crate::engine::time::SimDuration;
use crate::model::selector::Labels;
use serde::{Deserialize, Serialize};

/// One entry of a Service's `spec.ports` (recorded, not used for routing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePort {
    /// `name` (may be empty for a single port).
    pub name: String,
    /// `protocol` (default `TCP`).
    pub protocol: String,
    /// `port`.
    pub port: i32,
    /// `targetPort`: a number or a named container port (default: `port`).
    pub target_port: String,
}

/// How a Service's request load is spread over its endpoints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoadPolicy {
    /// Each endpoint gets an equal share (the remainder rotates), whether it answers or not.
    #[default]
    RoundRobin,
    /// Requests go to the least-loaded endpoint: unreachable endpoints hold their requests and so
    /// receive new ones only once every reachable endpoint is full.
    LeastRequests,
}

impl LoadPolicy {
    /// The name used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            LoadPolicy::RoundRobin => "round-robin",
            LoadPolicy::LeastRequests => "least-requests",
        }
    }

    /// Parses `round-robin` / `least-requests`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "round-robin" => Some(LoadPolicy::RoundRobin),
            "least-requests" => Some(LoadPolicy::LeastRequests),
            _ => None,
        }
    }
}

/// A request load offered to one Service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLoad {
    /// Requests per second offered to the Service.
    pub rps: u64,
    /// How requests are spread.
    pub policy: LoadPolicy,
    /// Requests per second one endpoint can serve; beyond that its requests are dropped.
    pub capacity_per_endpoint_rps: u64,
}

/// A Service (v1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// `metadata.namespace` (default `default`).
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.selector` (`None`: no selector, so no managed endpoints).
    pub selector: Option<Labels>,
    /// `spec.ports`.
    pub ports: Vec<ServicePort>,
    /// The request load, if the scenario gives one.
    pub load: Option<ServiceLoad>,
}

impl Service {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// True when the Service selects pods with these labels in `namespace` (a Service without a
    /// selector, or with an empty one, selects nothing: upstream's endpoints controllers skip it).
    pub fn selects(&self, namespace: &str, labels: &Labels) -> bool {
        match &self.selector {
            Some(sel) if !sel.is_empty() && namespace == self.namespace => {
                sel.iter().all(|(k, v)| labels.get(k) == Some(v))
            }
            _ => false,
        }
    }

    /// The desired endpoint count: the sum of the desired replicas of the service workloads
    /// (Deployment, StatefulSet, DaemonSet, and ReplicaSet without an owner) in the Service's
    /// namespace whose pod template the selector matches. Deployments count `spec.replicas`
    /// (surge pods are not desired), DaemonSets their `desiredNumberScheduled` status.
    pub fn desired(&self, store: &WorkloadStore) -> i64 {
        store
            .objects()
            .filter(|w| w.is_service() && w.meta().namespace == self.namespace)
            .filter_map(|w| {
                let (template, desired) = match w {
                    Workload::Deployment(d) => (&d.spec.template, d.spec.replicas as i64),
                    Workload::ReplicaSet(r) => (&r.spec.template, r.spec.replicas as i64),
                    Workload::StatefulSet(s) => (&s.spec.template, s.spec.replicas as i64),
                    Workload::DaemonSet(d) => (&d.spec.template, d.status.desired as i64),
                    Workload::Job(_) | Workload::CronJob(_) => return None,
                };
                self.selects(&self.namespace, &template.labels).then_some(desired.max(0))
            })
            .sum()
    }
}

/// True when a pod counts as a ready endpoint: Running, Ready, and not terminating (upstream
/// lists terminating pods in EndpointSlices with `ready: false, serving, terminating`, which
/// kube-proxy uses only when no endpoint is ready; kubesim counts only ready ones).
pub fn is_ready_endpoint(p: &PodState) -> bool {
    p.phase == crate::cluster::PodPhase::Running && p.ready_since.is_some() && !p.terminating
}

/// The Services of a scenario and the settings of the endpoints model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSet {
    /// Services in key order.
    pub services: Vec<Service>,
    /// Delay between a pod's readiness change and the data plane seeing it.
    pub endpoint_delay: SimDuration,
}

impl ServiceSet {
    /// True when there is no Service.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(selector: Option<&[(&str, &str)]>) -> Service {
        Service {
            namespace: "default".into(),
            name: "web".into(),
            selector: selector.map(|s| s.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            ports: vec![],
            load: None,
        }
    }

    fn labels(l: &[(&str, &str)]) -> Labels {
        l.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_selector_matches_pods_of_its_namespace_carrying_every_pair() {
        let s = svc(Some(&[("app", "web")]));
        let cases = [
            ("default", labels(&[("app", "web"), ("tier", "fe")]), true),
            ("default", labels(&[("app", "db")]), false),
            ("default", labels(&[]), false),
            ("other", labels(&[("app", "web")]), false),
        ];
        for (ns, l, want) in cases {
            assert_eq!(s.selects(ns, &l), want, "{ns} {l:?}");
        }
    }

    #[test]
    fn a_service_without_selector_or_with_an_empty_one_selects_nothing() {
        for s in [svc(None), svc(Some(&[]))] {
            assert!(!s.selects("default", &labels(&[("app", "web")])));
        }
    }

    #[test]
    fn load_policies_parse_by_their_scenario_names() {
        for p in [LoadPolicy::RoundRobin, LoadPolicy::LeastRequests] {
            assert_eq!(LoadPolicy::parse(p.as_str()), Some(p));
        }
        assert_eq!(LoadPolicy::parse("random"), None);
    }
}
