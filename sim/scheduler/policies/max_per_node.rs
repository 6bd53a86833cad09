//! `MaxPerNode`: a cap on the pods of one group per node, the way the Alibaba DLRM serving trace
//! states it (`max_instance_per_node`). Not an upstream plugin: kube-scheduler has no such cap
//! (required pod anti-affinity expresses a cap of 1 only), so kubesim adds this filter.
//!
//! A pod asks for the cap with the annotation `kubesim.io/max-per-node: "N"`. Its group is the
//! value of its `kubesim.io/group` label, else its owner (kind and name), in its namespace; a
//! pod with neither is a group of its own. A node passes when fewer than `N` pods of the group
//! are assigned to it. The DLRM loader sets both (group = `app_name`). Research profiles include
//! the filter; a KubeSchedulerConfiguration enables it by name (`MaxPerNode`) like any plugin.

use crate::cluster::{ClusterState, NodeState};
use crate::model::pod::Pod;
use crate::scheduler::framework::{CycleState, FilterPlugin, Plugin, Status};

/// The plugin name.
pub const NAME: &str = "MaxPerNode";
/// The annotation giving the cap.
pub const ANNOTATION_MAX_PER_NODE: &str = "kubesim.io/max-per-node";
/// The label naming the pod's group.
pub const LABEL_GROUP: &str = "kubesim.io/group";
/// The reason of a rejected node.
pub const REASON: &str = "node(s) already run the maximum number of pods of this group";

/// The MaxPerNode filter.
#[derive(Clone, Copy, Debug, Default)]
pub struct MaxPerNode;

impl Plugin for MaxPerNode {
    fn name(&self) -> &'static str {
        NAME
    }
}

/// The group key of `pod`: its `kubesim.io/group` label, else its owner; `None` alone.
fn group(pod: &Pod) -> Option<(&str, &str)> {
    if let Some(g) = pod.labels.get(LABEL_GROUP) {
        return Some(("label", g.as_str()));
    }
    pod.owner.as_ref().map(|o| (o.kind.as_str(), o.name.as_str()))
}

/// The cap a pod asks for: `Ok(None)` without the annotation, `Err` when it is not a count.
pub fn cap(pod: &Pod) -> Result<Option<u32>, String> {
    match pod.annotations.get(ANNOTATION_MAX_PER_NODE) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .map(Some)
            .map_err(|_| format!("{ANNOTATION_MAX_PER_NODE} must be a count of pods, got {v:?}")),
    }
}

impl FilterPlugin for MaxPerNode {
    fn filter(&self, _: &CycleState, cluster: &ClusterState, pod: &Pod, node: &NodeState) -> Status {
        let max = match cap(pod) {
            Ok(None) => return Status::success(),
            Ok(Some(m)) => m as usize,
            Err(e) => return Status::unresolvable(e),
        };
        let mine = group(pod);
        let same = match mine {
            None => 0,
            Some(g) => node
                .pods
                .iter()
                .map(|id| &cluster.pod(*id).pod)
                .filter(|p| p.namespace == pod.namespace && group(p) == Some(g))
                .count(),
        };
        if same < max { Status::success() } else { Status::unschedulable(vec![REASON.into()]) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::SimTime;
    use crate::model::pod::OwnerRef;
    use crate::scheduler::testing::{make_node, make_pod};

    fn capped(name: &str, group: &str, max: &str) -> Pod {
        let mut p = make_pod(name, &[("cpu", 100)]);
        p.labels.insert(LABEL_GROUP.into(), group.into());
        p.annotations.insert(ANNOTATION_MAX_PER_NODE.into(), max.into());
        p
    }

    /// A cluster with one node running `running`, and that node's state.
    fn node_with(running: Vec<Pod>) -> (ClusterState, NodeState) {
        let mut c = ClusterState::new();
        let n = c.add_node(make_node("n", 64_000, 1 << 40, 110).node).unwrap();
        for p in running {
            let id = c.add_pod(p, SimTime::ZERO).unwrap();
            c.bind(id, n, SimTime::ZERO).unwrap();
        }
        let node = c.node(n).clone();
        (c, node)
    }

    #[test]
    fn the_cap_admits_pods_of_a_group_until_it_is_reached() {
        let cases: &[(usize, &str, bool)] =
            &[(0, "2", true), (1, "2", true), (2, "2", false), (3, "2", false), (0, "0", false)];
        for &(running, max, fits) in cases {
            let (c, node) = node_with((0..running).map(|i| capped(&format!("r{i}"), "app-a", max)).collect());
            let st = MaxPerNode.filter(&CycleState::new(), &c, &capped("new", "app-a", max), &node);
            assert_eq!(st.is_success(), fits, "{running} running, cap {max}");
            if !fits {
                assert_eq!(st.reasons, vec![REASON.to_string()]);
            }
        }
    }

    #[test]
    fn pods_of_other_groups_and_namespaces_do_not_count() {
        let mut other_ns = capped("o", "app-a", "1");
        other_ns.namespace = "elsewhere".into();
        let (c, node) = node_with(vec![capped("b", "app-b", "1"), other_ns]);
        assert!(MaxPerNode.filter(&CycleState::new(), &c, &capped("new", "app-a", "1"), &node).is_success());
    }

    #[test]
    fn without_a_group_label_the_owner_is_the_group() {
        let owned = |name: &str| {
            let mut p = make_pod(name, &[("cpu", 100)]);
            p.owner = Some(OwnerRef { kind: "ReplicaSet".into(), name: "rs".into(), uid: 0 });
            p.annotations.insert(ANNOTATION_MAX_PER_NODE.into(), "1".into());
            p
        };
        let (c, node) = node_with(vec![owned("a")]);
        assert!(!MaxPerNode.filter(&CycleState::new(), &c, &owned("b"), &node).is_success());
    }

    #[test]
    fn a_pod_without_the_annotation_is_not_capped_and_a_bad_cap_is_unresolvable() {
        let (c, node) = node_with(vec![capped("a", "g", "1")]);
        let mut free = capped("free", "g", "1");
        free.annotations.clear();
        assert!(MaxPerNode.filter(&CycleState::new(), &c, &free, &node).is_success());
        let st = MaxPerNode.filter(&CycleState::new(), &c, &capped("bad", "g", "many"), &node);
        assert!(!st.is_success() && st.reasons[0].contains("must be a count"), "{:?}", st.reasons);
    }
}
