//! VolumeBinding (upstream `volumebinding`, v1.33): PreFilter sorts the pod's claims into bound,
//! unbound WaitForFirstConsumer and unbound immediate ones; Filter checks, per node, that every
//! bound volume's node affinity admits the node and that the WaitForFirstConsumer claims can be
//! bound there (a matching available volume, else dynamic provisioning allowed on the node).
//! Reserve / PreBind (binding the claims, provisioning, the selected-node annotation) are carried
//! out by the run loop when the pod is bound (`run::volumes`), at once. No Score: it needs the
//! `StorageCapacityScoring` feature gate, off by default in v1.33.

use crate::cluster::{ClusterState, NodeState};
use crate::controllers::persistent_volume::plan_for_node;
use crate::model::pod::Pod;
use crate::model::volume::{ClaimKey, pod_claims};
use crate::scheduler::framework::{CycleState, FilterPlugin, Plugin, PreFilterNodes, PreFilterPlugin, Status};

/// The plugin name.
pub const NAME: &str = "VolumeBinding";
/// PreFilter: an unbound claim whose class binds immediately (`ErrReasonBindConflict` sibling).
pub const REASON_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";
/// Filter: a bound volume's node affinity excludes the node (`ErrReasonNodeConflict`).
pub const REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// Filter: no volume to bind and no provisioning possible (`ErrReasonBindConflict`).
pub const REASON_BIND_CONFLICT: &str = "node(s) didn't find available persistent volumes to bind";

/// The message of a missing claim, as the API's NotFound error reads.
pub fn claim_not_found(name: &str) -> String {
    format!("persistentvolumeclaim \"{name}\" not found")
}

/// The VolumeBinding plugin.
#[derive(Clone, Debug, Default)]
pub struct VolumeBinding;

/// What PreFilter found (upstream `PodVolumeClaims`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodVolumeClaims {
    /// Claims bound to a volume.
    pub bound: Vec<ClaimKey>,
    /// Unbound claims of a WaitForFirstConsumer class.
    pub delay_binding: Vec<ClaimKey>,
}

impl Plugin for VolumeBinding {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl PreFilterPlugin for VolumeBinding {
    fn pre_filter(&self, state: &mut CycleState, cluster: &ClusterState, pod: &Pod) -> (Status, PreFilterNodes) {
        let names = pod_claims(pod);
        if names.is_empty() {
            return (Status::skip(), None);
        }
        let store = cluster.volumes();
        let mut claims = PodVolumeClaims::default();
        let mut immediate = 0;
        for n in names {
            let Some(c) = store.claim(&pod.namespace, &n) else {
                return (Status::unresolvable(claim_not_found(&n)), None);
            };
            if c.bound {
                claims.bound.push(c.key());
            } else if store.is_delay_binding(c) {
                claims.delay_binding.push(c.key());
            } else {
                immediate += 1;
            }
        }
        if immediate > 0 {
            return (Status::unresolvable(REASON_UNBOUND_IMMEDIATE), None);
        }
        state.write(NAME, claims);
        (Status::success(), None)
    }
}

impl FilterPlugin for VolumeBinding {
    fn filter(&self, state: &CycleState, cluster: &ClusterState, _pod: &Pod, node: &NodeState) -> Status {
        let Some(claims) = state.read::<PodVolumeClaims>(NAME) else { return Status::success() };
        let store = cluster.volumes();
        let n = &node.node;
        let mut reasons = Vec::new();
        let affinity_ok = claims.bound.iter().all(|k| {
            store
                .claims
                .get(k)
                .and_then(|c| store.bound_volume(c))
                .is_some_and(|v| v.node_affinity_matches(&n.name, &n.labels))
        });
        if !affinity_ok {
            reasons.push(REASON_NODE_CONFLICT.to_string());
        }
        if !claims.delay_binding.is_empty()
            && plan_for_node(store, &claims.delay_binding, &n.name, &n.labels, n.zone()).is_none()
        {
            reasons.push(REASON_BIND_CONFLICT.to_string());
        }
        if reasons.is_empty() {
            Status::success()
        } else {
            Status { code: crate::scheduler::framework::Code::UnschedulableAndUnresolvable, reasons }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::node::LABEL_ZONE;
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::volume_testing::{VolumeFixture, pod_with_claims};

    fn run(f: &VolumeFixture, claims: &[&str], node: &str) -> Status {
        let pod = pod_with_claims("p", claims);
        let mut state = CycleState::new();
        let (st, _) = VolumeBinding.pre_filter(&mut state, &f.cluster, &pod);
        if st.code != Code::Success {
            return st;
        }
        let id = f.cluster.node_id(node).unwrap();
        VolumeBinding.filter(&state, &f.cluster, &pod, f.cluster.node(id))
    }

    #[test]
    fn volume_binding_follows_upstream_verdicts() {
        // Nodes: a1 in zone-a, b1 in zone-b. Class `wffc` provisions (any zone), `only-b`
        // provisions in zone-b only, `local` cannot provision, `imm` is Immediate.
        type Case<'a> = (&'a str, Vec<&'a str>, &'a str, Code, Vec<&'a str>);
        let cases: Vec<Case> = vec![
            ("a pod without claims is skipped", vec![], "a1", Code::Skip, vec![]),
            (
                "a missing claim is unresolvable",
                vec!["nope"],
                "a1",
                Code::UnschedulableAndUnresolvable,
                vec!["persistentvolumeclaim \"nope\" not found"],
            ),
            (
                "an unbound immediate claim is unresolvable",
                vec!["imm-pending"],
                "a1",
                Code::UnschedulableAndUnresolvable,
                vec![REASON_UNBOUND_IMMEDIATE],
            ),
            ("a bound zone-a volume fits zone-a", vec!["bound-a"], "a1", Code::Success, vec![]),
            (
                "a bound zone-a volume conflicts with zone-b",
                vec!["bound-a"],
                "b1",
                Code::UnschedulableAndUnresolvable,
                vec![REASON_NODE_CONFLICT],
            ),
            ("a provisionable wffc claim fits anywhere", vec!["wffc-1"], "b1", Code::Success, vec![]),
            (
                "allowed topologies exclude zone-a",
                vec!["only-b-1"],
                "a1",
                Code::UnschedulableAndUnresolvable,
                vec![REASON_BIND_CONFLICT],
            ),
            ("allowed topologies admit zone-b", vec!["only-b-1"], "b1", Code::Success, vec![]),
            ("a local volume in zone-a serves zone-a", vec!["local-1"], "a1", Code::Success, vec![]),
            (
                "no local volume in zone-b and no provisioner",
                vec!["local-1"],
                "b1",
                Code::UnschedulableAndUnresolvable,
                vec![REASON_BIND_CONFLICT],
            ),
            (
                "both reasons at once",
                vec!["bound-a", "local-1"],
                "b1",
                Code::UnschedulableAndUnresolvable,
                vec![REASON_NODE_CONFLICT, REASON_BIND_CONFLICT],
            ),
        ];
        for (name, claims, node, code, reasons) in cases {
            let f = VolumeFixture::standard();
            let st = run(&f, &claims, node);
            assert_eq!(st.code, code, "{name}: {st:?}");
            assert_eq!(st.reasons, reasons, "{name}");
        }
    }

    #[test]
    fn two_claims_cannot_share_the_one_local_volume() {
        let f = VolumeFixture::standard();
        assert_eq!(run(&f, &["local-1"], "a1").code, Code::Success);
        let st = run(&f, &["local-1", "local-2"], "a1");
        assert_eq!(st.reasons, vec![REASON_BIND_CONFLICT]);
        let _ = LABEL_ZONE;
    }
}
