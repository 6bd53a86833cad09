//! Test fixtures: builders for nodes and pods, in the style of upstream's `MakeNode()` /
//! `MakePod()`.

use crate::cluster::NodeState;
use crate::model::node::Node;
use crate::model::pod::{Container, Pod};
use crate::model::resources::{ResourceList, Resources};
use std::collections::BTreeMap;

/// A Ready, empty node with the given allocatable CPU (millicores), memory (bytes) and pods.
pub fn make_node(name: &str, cpu_millis: i64, memory_bytes: i64, pods: i64) -> NodeState {
    NodeState {
        node: Node {
            name: name.into(),
            labels: BTreeMap::from([("kubernetes.io/hostname".to_string(), name.to_string())]),
            taints: vec![],
            allocatable: Resources { cpu_millis, memory_bytes, pods, ..Default::default() },
            images: vec![],
            unschedulable: false,
        },
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
        gpu_free_milli: vec![],
    }
}

/// A pod with one container requesting `requests` (name → canonical value); a resource not
/// listed is left unset (so the non-zero defaults apply to it in scoring).
pub fn make_pod(name: &str, requests: &[(&str, i64)]) -> Pod {
    let mut pod = Pod {
        name: name.into(),
        namespace: "default".into(),
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        owner: None,
        priority: 0,
        priority_class_name: None,
        preemption_policy: Default::default(),
        scheduler_name: crate::model::pod::DEFAULT_SCHEDULER_NAME.into(),
        containers: vec![Container {
            name: "c".into(),
            image: String::new(),
            requests: ResourceList(requests.iter().map(|(k, v)| (k.to_string(), *v)).collect()),
            limits: ResourceList::default(),
            host_ports: vec![],
            sidecar: false,
        }],
        init_containers: vec![],
        overhead: Resources::default(),
        node_selector: BTreeMap::new(),
        tolerations: vec![],
        affinity: Default::default(),
        topology_spread_constraints: vec![],
        node_name: None,
        restart_policy: Default::default(),
        termination_grace_period_seconds: 30,
        run: Default::default(),
        requests: Resources::default(),
        non_zero_cpu_millis: 0,
        non_zero_memory_bytes: 0,
        host_ports: vec![],
        volumes: vec![],
    };
    pod.finalize();
    pod
}
