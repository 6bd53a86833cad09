//! NodePorts: a pod that binds host ports fits only nodes where none of them is taken
//! (upstream `nodeports`). Two host ports conflict when protocol and port are equal and either
//! host IP is `0.0.0.0` or both IPs are the same.

use crate::cluster::{ClusterState, NodeState};
use crate::model::pod::{HostPort, Pod};
use crate::scheduler::framework::{CycleState, FilterPlugin, Plugin, Status};

/// The plugin name.
pub const NAME: &str = "NodePorts";
/// Upstream's reason text.
pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

/// The NodePorts plugin.
#[derive(Clone, Debug, Default)]
pub struct NodePorts;

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        NAME
    }
}

/// True when `want` conflicts with a port already in use.
pub fn conflicts(want: &HostPort, used: &HostPort) -> bool {
    want.protocol == used.protocol
        && want.port == used.port
        && (want.host_ip == used.host_ip || want.host_ip == "0.0.0.0" || used.host_ip == "0.0.0.0")
}

impl FilterPlugin for NodePorts {
    fn filter(&self, _: &CycleState, _: &ClusterState, pod: &Pod, node: &NodeState) -> Status {
        if pod.host_ports.is_empty() || node.used_ports.is_empty() {
            return Status::success();
        }
        let clash = pod.host_ports.iter().any(|w| node.used_ports.keys().any(|u| conflicts(w, u)));
        if clash { Status::unschedulable(vec![REASON.to_string()]) } else { Status::success() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::framework::Code;
    use crate::scheduler::testing::{make_node, make_pod};

    fn port(protocol: &str, ip: &str, port: i32) -> HostPort {
        HostPort { protocol: protocol.into(), host_ip: ip.into(), port }
    }

    #[test]
    fn host_port_conflicts_follow_upstream_rules() {
        let cases = [
            (
                "same port, protocol and wildcard ip conflict",
                port("TCP", "0.0.0.0", 80),
                port("TCP", "0.0.0.0", 80),
                true,
            ),
            ("a different protocol does not conflict", port("UDP", "0.0.0.0", 80), port("TCP", "0.0.0.0", 80), false),
            ("a different port does not conflict", port("TCP", "0.0.0.0", 81), port("TCP", "0.0.0.0", 80), false),
            (
                "two specific different ips do not conflict",
                port("TCP", "10.0.0.1", 80),
                port("TCP", "10.0.0.2", 80),
                false,
            ),
            (
                "a wildcard wanted ip conflicts with a specific used ip",
                port("TCP", "0.0.0.0", 80),
                port("TCP", "10.0.0.2", 80),
                true,
            ),
            (
                "a specific wanted ip conflicts with a wildcard used ip",
                port("TCP", "10.0.0.1", 80),
                port("TCP", "0.0.0.0", 80),
                true,
            ),
        ];
        for (name, want, used, expect) in cases {
            assert_eq!(conflicts(&want, &used), expect, "{name}");
        }
    }

    #[test]
    fn a_node_using_the_port_is_unschedulable_and_resolvable() {
        let mut node = make_node("n", 1000, 1000, 10);
        node.used_ports.insert(port("TCP", "0.0.0.0", 80), 1);
        let mut pod = make_pod("p", &[]);
        pod.host_ports.push(port("TCP", "0.0.0.0", 80));
        let st = NodePorts.filter(&CycleState::new(), &ClusterState::new(), &pod, &node);
        assert_eq!(st.code, Code::Unschedulable);
        assert_eq!(st.reasons, vec![REASON.to_string()]);
    }
}
