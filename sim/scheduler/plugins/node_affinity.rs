//! NodeAffinity (the `spec.nodeSelector` part): a pod fits only nodes whose labels carry every
//! pair of its node selector. Required and preferred affinity terms are added with the full
//! kube-scheduler plugin set.

use crate::cluster::{ClusterState, NodeState};
use crate::model::pod::Pod;
use crate::model::selector::node_selector_map_matches;
use crate::scheduler::framework::{CycleState, FilterPlugin, Plugin, Status};

/// The plugin name.
pub const NAME: &str = "NodeAffinity";
/// Upstream's reason text.
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

/// The NodeAffinity plugin.
#[derive(Clone, Debug, Default)]
pub struct NodeAffinity;

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl FilterPlugin for NodeAffinity {
    fn filter(&self, _: &CycleState, _: &ClusterState, pod: &Pod, node: &NodeState) -> Status {
        if node_selector_map_matches(&pod.node_selector, &node.node.labels) {
            Status::success()
        } else {
            Status::unresolvable(REASON)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::testing::{make_node, make_pod};

    #[test]
    fn a_node_without_the_selected_label_does_not_fit() {
        let mut pod = make_pod("p", &[]);
        pod.node_selector.insert("disk".into(), "ssd".into());
        let mut node = make_node("n", 1, 1, 1);
        let cs = ClusterState::new();
        assert_eq!(NodeAffinity.filter(&CycleState::new(), &cs, &pod, &node).reasons, vec![REASON.to_string()]);
        node.node.labels.insert("disk".into(), "ssd".into());
        assert!(NodeAffinity.filter(&CycleState::new(), &cs, &pod, &node).is_success());
    }
}
