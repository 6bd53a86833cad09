//! NodeUnschedulable: rejects cordoned nodes (`spec.unschedulable`) unless the pod tolerates the
//! `node.kubernetes.io/unschedulable:NoSchedule` taint (upstream `nodeunschedulable`).

use crate::cluster::{ClusterState, NodeState};
use crate::model::node::TAINT_UNSCHEDULABLE;
use crate::model::pod::Pod;
use crate::model::taint::{Taint, TaintEffect, tolerations_tolerate_taint};
use crate::scheduler::framework::{CycleState, FilterPlugin, Plugin, Status};

/// The plugin name.
pub const NAME: &str = "NodeUnschedulable";
/// Upstream's reason text.
pub const REASON: &str = "node(s) were unschedulable";

/// The NodeUnschedulable plugin.
#[derive(Clone, Debug, Default)]
pub struct NodeUnschedulable;

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl FilterPlugin for NodeUnschedulable {
    fn filter(&self, _: &CycleState, _: &ClusterState, pod: &Pod, node: &NodeState) -> Status {
        if !node.node.unschedulable {
            return Status::success();
        }
        let taint = Taint {
            key: TAINT_UNSCHEDULABLE.into(),
            value: String::new(),
            effect: TaintEffect::NoSchedule,
            time_added: None,
        };
        if tolerations_tolerate_taint(&pod.tolerations, &taint) {
            return Status::success();
        }
        Status::unresolvable(REASON)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::taint::{Toleration, TolerationOperator};
    use crate::scheduler::testing::{make_node, make_pod};

    #[test]
    fn a_cordoned_node_rejects_a_pod_without_the_toleration() {
        let mut node = make_node("n", 1000, 1000, 10);
        node.node.unschedulable = true;
        let st = NodeUnschedulable.filter(&CycleState::new(), &ClusterState::new(), &make_pod("p", &[]), &node);
        assert_eq!(st.reasons, vec![REASON.to_string()]);
    }

    #[test]
    fn a_cordoned_node_accepts_a_pod_tolerating_unschedulable() {
        let mut node = make_node("n", 1000, 1000, 10);
        node.node.unschedulable = true;
        let mut pod = make_pod("p", &[]);
        pod.tolerations.push(Toleration {
            key: TAINT_UNSCHEDULABLE.into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: Some(TaintEffect::NoSchedule),
            toleration_seconds: None,
        });
        assert!(NodeUnschedulable.filter(&CycleState::new(), &ClusterState::new(), &pod, &node).is_success());
    }

    #[test]
    fn a_schedulable_node_accepts_any_pod() {
        let node = make_node("n", 1000, 1000, 10);
        assert!(
            NodeUnschedulable.filter(&CycleState::new(), &ClusterState::new(), &make_pod("p", &[]), &node).is_success()
        );
    }
}
