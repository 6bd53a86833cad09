//! VolumeZone (upstream `volumezone`, v1.33): a pod whose claims are bound to volumes carrying
//! zone / region labels fits only nodes whose labels hold one of the volume's values (a label
//! value may list several zones separated by `__`). Unbound WaitForFirstConsumer claims are
//! skipped (VolumeBinding handles them); a node with none of the topology labels fits. A beta
//! label on the volume is matched against the node's GA label when the node lacks the beta one.

use crate::cluster::{ClusterState, NodeState};
use crate::model::node::{LABEL_REGION, LABEL_REGION_BETA, LABEL_ZONE, LABEL_ZONE_BETA};
use crate::model::pod::Pod;
use crate::model::volume::{TOPOLOGY_LABELS, pod_claims, volume_topology};
use crate::scheduler::framework::{CycleState, FilterPlugin, Plugin, PreFilterNodes, PreFilterPlugin, Status};
use crate::scheduler::plugins::volume_binding::claim_not_found;

/// The plugin name.
pub const NAME: &str = "VolumeZone";
/// Upstream's `ErrReasonConflict`.
pub const REASON: &str = "node(s) had no available volume zone";

/// The VolumeZone plugin.
#[derive(Clone, Debug, Default)]
pub struct VolumeZone;

/// The topology requirements of the pod's bound volumes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct PvTopologies(Vec<(&'static str, Vec<String>)>);

impl Plugin for VolumeZone {
    fn name(&self) -> &'static str {
        NAME
    }
}

fn to_ga(key: &str) -> &str {
    match key {
        LABEL_ZONE_BETA => LABEL_ZONE,
        LABEL_REGION_BETA => LABEL_REGION,
        k => k,
    }
}

impl PreFilterPlugin for VolumeZone {
    fn pre_filter(&self, state: &mut CycleState, cluster: &ClusterState, pod: &Pod) -> (Status, PreFilterNodes) {
        let names = pod_claims(pod);
        if names.is_empty() {
            return (Status::skip(), None);
        }
        let store = cluster.volumes();
        let mut topologies = Vec::new();
        for n in names {
            let Some(c) = store.claim(&pod.namespace, &n) else {
                return (Status::unresolvable(claim_not_found(&n)), None);
            };
            if !c.bound {
                if c.storage_class.is_empty() {
                    return (Status::unresolvable("PersistentVolumeClaim had no pv name and storageClass name"), None);
                }
                let Some(class) = store.classes.get(&c.storage_class) else {
                    return (
                        Status::unresolvable(format!("storageclass.storage.k8s.io \"{}\" not found", c.storage_class)),
                        None,
                    );
                };
                if class.binding_mode == crate::model::volume::BindingMode::WaitForFirstConsumer {
                    continue;
                }
                return (Status::unresolvable("PersistentVolume had no name"), None);
            }
            let Some(v) = store.bound_volume(c) else {
                let name = c.volume_name.clone().unwrap_or_default();
                return (Status::unresolvable(format!("persistentvolume \"{name}\" not found")), None);
            };
            topologies.extend(volume_topology(v));
        }
        if topologies.is_empty() {
            return (Status::skip(), None);
        }
        state.write(NAME, PvTopologies(topologies));
        (Status::success(), None)
    }
}

impl FilterPlugin for VolumeZone {
    fn filter(&self, state: &CycleState, _cluster: &ClusterState, _pod: &Pod, node: &NodeState) -> Status {
        let Some(PvTopologies(tops)) = state.read::<PvTopologies>(NAME) else { return Status::success() };
        let labels = &node.node.labels;
        if !TOPOLOGY_LABELS.iter().any(|k| labels.contains_key(*k)) {
            return Status::success();
        }
        for (key, values) in tops {
            let v = labels.get(*key).or_else(|| labels.get(to_ga(key)));
            if !v.is_some_and(|v| values.iter().any(|x| x == v)) {
                return Status::unresolvable(REASON);
            }
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::selector::Labels;
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::volume_testing::{VolumeFixture, pod_with_claims, volume};
    use crate::scheduler::testing::make_node;

    fn node_with(labels: &[(&str, &str)]) -> NodeState {
        let mut n = make_node("n", 1000, 1 << 30, 10);
        n.node.labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Labels>();
        n
    }

    #[test]
    fn bound_volumes_pin_the_pod_to_their_zone() {
        let mut f = VolumeFixture::standard();
        // A multi-zone volume (zone-b__zone-c) with the beta label, bound to `multi`.
        let mut multi = volume("pv-multi", 5, "wffc", &[crate::model::volume::AccessMode::ReadWriteOnce]);
        multi.labels.insert(LABEL_ZONE_BETA.into(), "zone-b__zone-c".into());
        let s = f.cluster.volumes_mut();
        s.volumes.insert(multi.name.clone(), multi);
        let t = crate::model::volume::ClaimTemplate {
            name: "multi".into(),
            storage_class: Some("wffc".into()),
            request_bytes: 1,
            access_modes: vec![crate::model::volume::AccessMode::ReadWriteOnce],
            volume_name: None,
        };
        s.create_claim("default", "multi", &t);
        s.bind(&("default".into(), "multi".into()), "pv-multi");
        type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Code);
        let cases: Vec<Case> = vec![
            ("same zone fits", "bound-a", vec![(LABEL_ZONE, "zone-a")], Code::Success),
            ("another zone does not", "bound-a", vec![(LABEL_ZONE, "zone-b")], Code::UnschedulableAndUnresolvable),
            ("a node without topology labels fits", "bound-a", vec![("x", "y")], Code::Success),
            (
                "a region-only node lacks the zone",
                "bound-a",
                vec![(LABEL_REGION, "r")],
                Code::UnschedulableAndUnresolvable,
            ),
            ("beta volume label vs GA node label, listed zone", "multi", vec![(LABEL_ZONE, "zone-c")], Code::Success),
            (
                "beta volume label vs GA node label, other zone",
                "multi",
                vec![(LABEL_ZONE, "zone-a")],
                Code::UnschedulableAndUnresolvable,
            ),
        ];
        for (name, claim, labels, code) in cases {
            let pod = pod_with_claims("p", &[claim]);
            let mut state = CycleState::new();
            let (st, _) = VolumeZone.pre_filter(&mut state, &f.cluster, &pod);
            assert_eq!(st.code, Code::Success, "{name}");
            let got = VolumeZone.filter(&state, &f.cluster, &pod, &node_with(&labels));
            assert_eq!(got.code, code, "{name}");
            if code != Code::Success {
                assert_eq!(got.reasons, vec![REASON]);
            }
        }
    }

    #[test]
    fn pre_filter_skips_or_rejects_as_upstream() {
        let f = VolumeFixture::standard();
        let cases: Vec<(&str, Vec<&str>, Code, &str)> = vec![
            ("no claims", vec![], Code::Skip, ""),
            ("an unbound wffc claim only", vec!["wffc-1"], Code::Skip, ""),
            ("a bound volume without zone labels", vec!["rwop"], Code::Skip, ""),
            (
                "missing claim",
                vec!["ghost"],
                Code::UnschedulableAndUnresolvable,
                "persistentvolumeclaim \"ghost\" not found",
            ),
            (
                "unbound immediate claim",
                vec!["imm-pending"],
                Code::UnschedulableAndUnresolvable,
                "PersistentVolume had no name",
            ),
        ];
        for (name, claims, code, reason) in cases {
            let pod = pod_with_claims("p", &claims);
            let (st, _) = VolumeZone.pre_filter(&mut CycleState::new(), &f.cluster, &pod);
            assert_eq!(st.code, code, "{name}");
            assert_eq!(st.reasons.first().map(String::as_str).unwrap_or(""), reason, "{name}");
        }
    }
}
