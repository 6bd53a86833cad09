//! VolumeRestrictions (upstream `volumerestrictions`, v1.33), the ReadWriteOncePod part: a pod
//! using a ReadWriteOncePod claim that another assigned pod already uses fits nowhere until that
//! pod is gone (Filter: Unschedulable, so preemption may remove the user, as upstream since
//! v1.27). PreFilter counts the conflicting claims over every node and skips pods with none.
//! The in-tree inline-volume conflicts (GCE PD, AWS EBS, ISCSI, RBD) are not modelled.

use crate::cluster::{ClusterState, NodeState};
use crate::model::pod::Pod;
use crate::model::volume::{AccessMode, pod_claims};
use crate::scheduler::framework::{CycleState, FilterPlugin, Plugin, PreFilterNodes, PreFilterPlugin, Status};
use crate::scheduler::plugins::volume_binding::claim_not_found;

/// The plugin name.
pub const NAME: &str = "VolumeRestrictions";
/// Upstream's `ErrReasonReadWriteOncePodConflict`.
pub const REASON_RWOP: &str =
    "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";

/// The VolumeRestrictions plugin.
#[derive(Clone, Debug, Default)]
pub struct VolumeRestrictions;

/// Number of the pod's ReadWriteOncePod claims already in use.
struct Conflicts(usize);

impl Plugin for VolumeRestrictions {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl PreFilterPlugin for VolumeRestrictions {
    fn pre_filter(&self, state: &mut CycleState, cluster: &ClusterState, pod: &Pod) -> (Status, PreFilterNodes) {
        let names = pod_claims(pod);
        if names.is_empty() {
            return (Status::skip(), None);
        }
        let store = cluster.volumes();
        let mut rwop: Vec<String> = Vec::new();
        for n in names {
            let Some(c) = store.claim(&pod.namespace, &n) else {
                return (Status::unresolvable(claim_not_found(&n)), None);
            };
            if c.access_modes.contains(&AccessMode::ReadWriteOncePod) && !rwop.contains(&n) {
                rwop.push(n);
            }
        }
        if rwop.is_empty() {
            return (Status::skip(), None);
        }
        // `IsPVCUsedByPods`: assigned pods (bound, not finished, not taken off by a dry run).
        let mut used = vec![false; rwop.len()];
        for node in cluster.nodes() {
            for p in &node.pods {
                let other = cluster.pod(*p);
                if !other.is_assigned() || other.pod.namespace != pod.namespace || other.pod.volumes.is_empty() {
                    continue;
                }
                for c in pod_claims(&other.pod) {
                    if let Some(i) = rwop.iter().position(|x| *x == c) {
                        used[i] = true;
                    }
                }
            }
        }
        let n = used.iter().filter(|u| **u).count();
        if n == 0 {
            return (Status::skip(), None);
        }
        state.write(NAME, Conflicts(n));
        (Status::success(), None)
    }
}

impl FilterPlugin for VolumeRestrictions {
    fn filter(&self, state: &CycleState, _cluster: &ClusterState, _pod: &Pod, _node: &NodeState) -> Status {
        match state.read::<Conflicts>(NAME) {
            Some(Conflicts(n)) if *n > 0 => Status::unschedulable(vec![REASON_RWOP.to_string()]),
            _ => Status::success(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::volume_testing::{VolumeFixture, pod_with_claims};

    fn verdict(f: &VolumeFixture, claims: &[&str]) -> Status {
        let pod = pod_with_claims("new", claims);
        let mut state = CycleState::new();
        let (st, _) = VolumeRestrictions.pre_filter(&mut state, &f.cluster, &pod);
        if st.code != Code::Success {
            return st;
        }
        VolumeRestrictions.filter(&state, &f.cluster, &pod, f.cluster.node(f.cluster.node_id("a1").unwrap()))
    }

    #[test]
    fn a_read_write_once_pod_claim_in_use_blocks_a_second_pod() {
        let cases: Vec<(&str, Option<&str>, Vec<&str>, Code)> = vec![
            ("no user yet", None, vec!["rwop"], Code::Skip),
            ("used by a pod on another node", Some("rwop"), vec!["rwop"], Code::Unschedulable),
            ("a read-write-once claim is not restricted", Some("bound-a"), vec!["bound-a"], Code::Skip),
            ("missing claim", None, vec!["ghost"], Code::UnschedulableAndUnresolvable),
        ];
        for (name, existing, claims, code) in cases {
            let mut f = VolumeFixture::standard();
            if let Some(c) = existing {
                let id = f.cluster.add_pod(pod_with_claims("old", &[c]), crate::engine::time::SimTime::ZERO).unwrap();
                let b1 = f.cluster.node_id("b1").unwrap();
                f.cluster.bind(id, b1, crate::engine::time::SimTime::ZERO).unwrap();
            }
            let st = verdict(&f, &claims);
            assert_eq!(st.code, code, "{name}: {st:?}");
            if code == Code::Unschedulable {
                assert_eq!(st.reasons, vec![REASON_RWOP]);
            }
        }
    }

    #[test]
    fn the_conflict_clears_when_the_user_is_taken_off_its_node() {
        let mut f = VolumeFixture::standard();
        let id = f.cluster.add_pod(pod_with_claims("old", &["rwop"]), crate::engine::time::SimTime::ZERO).unwrap();
        f.cluster.bind(id, f.cluster.node_id("b1").unwrap(), crate::engine::time::SimTime::ZERO).unwrap();
        assert_eq!(verdict(&f, &["rwop"]).code, Code::Unschedulable);
        f.cluster.detach(id);
        assert_eq!(verdict(&f, &["rwop"]).code, Code::Skip, "a preemption dry run without the user");
        f.cluster.attach(id);
    }
}
