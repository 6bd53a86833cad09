//! NodeName: a pod that names a node in `spec.nodeName` fits only that node (upstream `nodename`).

use crate::cluster::{ClusterState, NodeState};
use crate::model::pod::Pod;
use crate::scheduler::framework::{CycleState, FilterPlugin, Plugin, Status};

/// The plugin name.
pub const NAME: &str = "NodeName";
/// Upstream's reason text.
pub const REASON: &str = "node(s) didn't match the requested node name";

/// The NodeName plugin.
#[derive(Clone, Debug, Default)]
pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl FilterPlugin for NodeName {
    fn filter(&self, _: &CycleState, _: &ClusterState, pod: &Pod, node: &NodeState) -> Status {
        match &pod.node_name {
            Some(n) if !n.is_empty() && *n != node.node.name => Status::unresolvable(REASON),
            _ => Status::success(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::testing::{make_node, make_pod};

    #[test]
    fn a_pod_naming_another_node_does_not_fit() {
        let mut pod = make_pod("p", &[]);
        pod.node_name = Some("other".into());
        let st = NodeName.filter(&CycleState::new(), &ClusterState::new(), &pod, &make_node("n", 1, 1, 1));
        assert_eq!(st.reasons, vec![REASON.to_string()]);
    }

    #[test]
    fn a_pod_naming_this_node_or_none_fits() {
        let node = make_node("n", 1, 1, 1);
        let mut pod = make_pod("p", &[]);
        assert!(NodeName.filter(&CycleState::new(), &ClusterState::new(), &pod, &node).is_success());
        pod.node_name = Some("n".into());
        assert!(NodeName.filter(&CycleState::new(), &ClusterState::new(), &pod, &node).is_success());
    }
}
