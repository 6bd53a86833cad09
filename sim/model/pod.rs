//! The pod as the simulator sees it: spec fields that matter for scheduling, the effective
//! request computed the way Kubernetes computes it, and the run model (start-up latency, run
//! duration) that the kubelet model plays out.

use crate::model::affinity::{Affinity, TopologySpreadConstraint};
use crate::model::dist::DurationDist;
use crate::model::resources::{CPU, MEMORY, ResourceList, Resources};
use crate::model::selector::Labels;
use crate::model::taint::Toleration;
use serde::{Deserialize, Serialize};

/// kube-scheduler's default CPU request for a container that sets none (scoring only).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// kube-scheduler's default memory request for a container that sets none (scoring only).
pub const DEFAULT_MEMORY_REQUEST_BYTES: i64 = 200 * 1024 * 1024;
/// The scheduler name of the default profile.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// A container port, of which only host ports matter to the scheduler.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HostPort {
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// The host IP (`0.0.0.0` when unset).
    pub host_ip: String,
    /// The host port (> 0).
    pub port: i32,
}

/// One container (or init container).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// Requests as written (missing keys stay missing; requests default to limits).
    pub requests: ResourceList,
    /// Limits as written.
    pub limits: ResourceList,
    /// Host ports the container binds.
    pub host_ports: Vec<HostPort>,
    /// A restartable init container (`restartPolicy: Always`), i.e. a sidecar.
    pub sidecar: bool,
}

/// The controller that owns a pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerRef {
    /// Kind, e.g. `ReplicaSet`.
    pub kind: String,
    /// Name of the owner.
    pub name: String,
    /// The owner's uid in the simulation's workload store (0: not a simulated controller, e.g. an
    /// owner reference read from a Pod manifest).
    pub uid: u64,
}

/// `spec.preemptionPolicy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PreemptionPolicy {
    /// May preempt lower-priority pods (the default).
    #[default]
    PreemptLowerPriority,
    /// Never preempts.
    Never,
}

/// `spec.restartPolicy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestartPolicy {
    /// Always restart (the Kubernetes default).
    #[default]
    Always,
    /// Restart on failure.
    OnFailure,
    /// Never restart.
    Never,
}

/// How a pod behaves once bound: the kubelet model plays this out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunModel {
    /// Time from binding to Running (image pull and start). `None`: the kubelet default.
    pub startup_latency: Option<DurationDist>,
    /// Time from Running to completion. `None`: the pod runs until deleted (a service).
    pub run_duration: Option<DurationDist>,
    /// Probability that a container run crashes (`kubesim.io/failure-probability`; `None`: the
    /// scenario's `kubelet.failureProbability`).
    pub failure_probability: Option<f64>,
    /// Time from Running to Ready (annotation `kubesim.io/readiness-delay`). `None`: the kubelet
    /// default (`kubelet.readinessDelay`).
    pub readiness_delay: Option<DurationDist>,
}

/// A pod's scheduling-relevant spec and derived requests.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pod {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` (`default` when unset).
    pub namespace: String,
    /// `metadata.labels`.
    pub labels: Labels,
    /// `metadata.annotations`.
    pub annotations: std::collections::BTreeMap<String, String>,
    /// `metadata.ownerReferences[0]`, the controller.
    pub owner: Option<OwnerRef>,
    /// Resolved priority (from `spec.priority`, else the PriorityClass, else 0).
    pub priority: i32,
    /// `spec.priorityClassName`.
    pub priority_class_name: Option<String>,
    /// `spec.preemptionPolicy`.
    pub preemption_policy: PreemptionPolicy,
    /// `spec.schedulerName`.
    pub scheduler_name: String,
    /// `spec.containers`.
    pub containers: Vec<Container>,
    /// `spec.initContainers`.
    pub init_containers: Vec<Container>,
    /// `spec.overhead`.
    pub overhead: Resources,
    /// `spec.nodeSelector`.
    pub node_selector: Labels,
    /// `spec.tolerations`.
    pub tolerations: Vec<Toleration>,
    /// `spec.affinity`.
    pub affinity: Affinity,
    /// `spec.topologySpreadConstraints`.
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    /// `spec.nodeName`: bound at creation when set.
    pub node_name: Option<String>,
    /// `spec.restartPolicy`.
    pub restart_policy: RestartPolicy,
    /// `spec.terminationGracePeriodSeconds` (default 30).
    pub termination_grace_period_seconds: i64,
    /// The simulated behaviour once bound.
    pub run: RunModel,
    /// Effective request (what the Fit filter and the node's `Requested` use).
    pub requests: Resources,
    /// CPU request with 100m for each container that sets none (scoring only).
    pub non_zero_cpu_millis: i64,
    /// Memory request with 200Mi for each container that sets none (scoring only).
    pub non_zero_memory_bytes: i64,
    /// All host ports of all containers.
    pub host_ports: Vec<HostPort>,
    /// `spec.volumes` (claims, ephemeral claims and CSI volumes matter to scheduling).
    pub volumes: Vec<crate::model::volume::PodVolume>,
}

impl Pod {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Recomputes the derived fields (`requests`, the non-zero requests, host ports) from the
    /// containers. Call after changing containers or overhead.
    pub fn finalize(&mut self) {
        self.requests = pod_requests(&self.containers, &self.init_containers, &self.overhead, false);
        let nz = pod_requests(&self.containers, &self.init_containers, &self.overhead, true);
        self.non_zero_cpu_millis = nz.cpu_millis;
        self.non_zero_memory_bytes = nz.memory_bytes;
        self.host_ports =
            self.init_containers.iter().chain(&self.containers).flat_map(|c| c.host_ports.iter().cloned()).collect();
    }

    /// True when the pod requests nothing at all (a best-effort pod for scoring purposes).
    pub fn is_best_effort(&self) -> bool {
        self.requests.is_zero()
    }
}

fn container_requests(c: &Container, non_missing_defaults: bool) -> Resources {
    let mut r = c.requests.to_resources();
    if non_missing_defaults {
        if c.requests.get(CPU).is_none() {
            r.cpu_millis = DEFAULT_MILLI_CPU_REQUEST;
        }
        if c.requests.get(MEMORY).is_none() {
            r.memory_bytes = DEFAULT_MEMORY_REQUEST_BYTES;
        }
    }
    r
}

/// The pod's effective request, as `k8s.io/component-helpers/resource.PodRequests` computes it:
/// the sum of the regular containers and of the restartable (sidecar) init containers, or the
/// largest request of any init container together with the sidecars started before it, whichever
/// is larger per resource; plus the pod overhead. With `non_missing_defaults`, every container
/// that leaves the CPU or memory request unset counts 100m / 200Mi (`NonMissingContainerRequests`,
/// used only for scoring); a request explicitly set to 0 stays 0.
pub fn pod_requests(
    containers: &[Container],
    init_containers: &[Container],
    overhead: &Resources,
    non_missing_defaults: bool,
) -> Resources {
    let mut reqs = Resources::default();
    for c in containers {
        reqs.add(&container_requests(c, non_missing_defaults));
    }
    let mut restartable = Resources::default();
    let mut init_max = Resources::default();
    for c in init_containers {
        let own = container_requests(c, non_missing_defaults);
        let effective = if c.sidecar {
            reqs.add(&own);
            restartable.add(&own);
            restartable.clone()
        } else {
            let mut tmp = own;
            tmp.add(&restartable);
            tmp
        };
        init_max.max_with(&effective);
    }
    reqs.max_with(&init_max);
    reqs.add(overhead);
    reqs
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;

    pub fn container(name: &str, reqs: &[(&str, i64)], sidecar: bool) -> Container {
        Container {
            name: name.into(),
            image: String::new(),
            requests: ResourceList(reqs.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>()),
            limits: ResourceList::default(),
            host_ports: vec![],
            sidecar,
        }
    }

    #[test]
    fn effective_request_is_the_larger_of_containers_and_init_containers() {
        let cs = [container("a", &[("cpu", 100), ("memory", 50)], false), container("b", &[("cpu", 200)], false)];
        let inits = [container("i", &[("cpu", 500), ("memory", 10)], false)];
        let r = pod_requests(&cs, &inits, &Resources::default(), false);
        assert_eq!(r.cpu_millis, 500);
        assert_eq!(r.memory_bytes, 50);
    }

    #[test]
    fn sidecars_add_to_the_regular_containers_and_to_later_init_containers() {
        let cs = [container("a", &[("cpu", 100)], false)];
        let inits = [container("side", &[("cpu", 50)], true), container("i", &[("cpu", 120)], false)];
        let r = pod_requests(&cs, &inits, &Resources::default(), false);
        // regular: 100 + sidecar 50 = 150; init phase: 120 + 50 = 170.
        assert_eq!(r.cpu_millis, 170);
    }

    #[test]
    fn overhead_is_added_on_top() {
        let cs = [container("a", &[("cpu", 100)], false)];
        let overhead = Resources { cpu_millis: 10, ..Default::default() };
        assert_eq!(pod_requests(&cs, &[], &overhead, false).cpu_millis, 110);
    }

    #[test]
    fn missing_requests_default_only_in_the_non_zero_form_and_explicit_zero_stays_zero() {
        let cs = [container("a", &[], false), container("b", &[("cpu", 0), ("memory", 0)], false)];
        let real = pod_requests(&cs, &[], &Resources::default(), false);
        assert_eq!((real.cpu_millis, real.memory_bytes), (0, 0));
        let nz = pod_requests(&cs, &[], &Resources::default(), true);
        assert_eq!(nz.cpu_millis, DEFAULT_MILLI_CPU_REQUEST);
        assert_eq!(nz.memory_bytes, DEFAULT_MEMORY_REQUEST_BYTES);
    }

    #[test]
    fn a_pod_with_no_containers_requests_nothing_even_for_scoring() {
        let nz = pod_requests(&[], &[], &Resources::default(), true);
        assert!(nz.is_zero());
    }
}
