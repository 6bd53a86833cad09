//! NodeVolumeLimits (upstream `nodevolumelimits` CSILimits, v1.33): the CSI volumes attached to
//! a node, per driver, may not exceed the driver's attach limit. Counted volumes: claims bound to
//! a CSI volume (unique by volume name) and unbound claims of a class whose provisioner is the
//! driver (unique by claim); a volume already used on the node is not counted twice. The limit
//! comes from the node's allocatable `attachable-volumes-csi-<driver>` (upstream reads
//! `CSINode.spec.drivers[].allocatable.count`); a driver without a limit is unlimited. Inline
//! `csi` volumes are not attachable and not counted, as upstream.

use crate::cluster::{ClusterState, NodeState};
use crate::model::pod::Pod;
use crate::model::volume::{ATTACH_LIMIT_PREFIX, VolumeSource, VolumeStore, claim_name};
use crate::scheduler::framework::{CycleState, FilterPlugin, Plugin, PreFilterNodes, PreFilterPlugin, Status};
use std::collections::BTreeMap;

/// The plugin name.
pub const NAME: &str = "NodeVolumeLimits";
/// Upstream's `ErrReasonMaxVolumeCountExceeded`.
pub const REASON: &str = "node(s) exceed max volume count";

/// The NodeVolumeLimits plugin.
#[derive(Clone, Debug, Default)]
pub struct NodeVolumeLimits;

impl Plugin for NodeVolumeLimits {
    fn name(&self) -> &'static str {
        NAME
    }
}

/// The attachable CSI volumes of `pod`: unique volume id → driver.
pub fn attachable_volumes(store: &VolumeStore, pod: &Pod, out: &mut BTreeMap<String, String>) {
    for v in &pod.volumes {
        let Some(name) = claim_name(&pod.name, v) else { continue };
        let Some(c) = store.claim(&pod.namespace, &name) else { continue };
        match store.bound_volume(c) {
            Some(pv) => {
                if let Some(d) = &pv.csi_driver {
                    out.insert(format!("{d}/{}", pv.name), d.clone());
                }
            }
            None => {
                if let Some(class) = store.classes.get(&c.storage_class)
                    && class.can_provision()
                {
                    out.insert(format!("{}/{}/{}", class.provisioner, c.namespace, c.name), class.provisioner.clone());
                }
            }
        }
    }
}

impl PreFilterPlugin for NodeVolumeLimits {
    fn pre_filter(&self, _: &mut CycleState, _: &ClusterState, pod: &Pod) -> (Status, PreFilterNodes) {
        let any = pod.volumes.iter().any(|v| matches!(v.source, VolumeSource::Claim(_) | VolumeSource::Ephemeral(_)));
        (if any { Status::success() } else { Status::skip() }, None)
    }
}

impl FilterPlugin for NodeVolumeLimits {
    fn filter(&self, _: &CycleState, cluster: &ClusterState, pod: &Pod, node: &NodeState) -> Status {
        let limits = &node.node.allocatable.scalar;
        if !limits.keys().any(|k| k.starts_with(ATTACH_LIMIT_PREFIX)) {
            return Status::success();
        }
        let store = cluster.volumes();
        let mut new = BTreeMap::new();
        attachable_volumes(store, pod, &mut new);
        if new.is_empty() {
            return Status::success();
        }
        let mut attached = BTreeMap::new();
        for p in &node.pods {
            let st = cluster.pod(*p);
            if st.is_assigned() {
                attachable_volumes(store, &st.pod, &mut attached);
            }
        }
        let mut attached_count: BTreeMap<&str, i64> = BTreeMap::new();
        for (id, driver) in &attached {
            new.remove(id);
            *attached_count.entry(driver.as_str()).or_insert(0) += 1;
        }
        let mut new_count: BTreeMap<&str, i64> = BTreeMap::new();
        for driver in new.values() {
            *new_count.entry(driver.as_str()).or_insert(0) += 1;
        }
        for (driver, n) in new_count {
            if let Some(limit) = limits.get(&format!("{ATTACH_LIMIT_PREFIX}{driver}"))
                && attached_count.get(driver).copied().unwrap_or(0) + n > *limit
            {
                return Status::unschedulable(vec![REASON.to_string()]);
            }
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::SimTime;
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::volume_testing::{VolumeFixture, pod_with_claims};

    #[test]
    fn attach_limits_count_unique_csi_volumes_per_driver() {
        // a1 allows 1 volume of csi.example; `rwop` (bound, CSI) is already used on a1 by `old`.
        let cases: Vec<(&str, Option<i64>, Vec<&str>, Code)> = vec![
            ("no limit on the node", None, vec!["wffc-1"], Code::Success),
            ("a new volume over the limit", Some(1), vec!["wffc-1"], Code::Unschedulable),
            ("the same volume again is not new", Some(1), vec!["rwop"], Code::Success),
            ("within a higher limit", Some(2), vec!["wffc-1"], Code::Success),
            ("two new volumes over the higher limit", Some(2), vec!["wffc-1", "bound-a"], Code::Unschedulable),
            ("a class without a provisioner is not counted", Some(1), vec!["local-1"], Code::Success),
        ];
        for (name, limit, claims, code) in cases {
            let mut f = VolumeFixture::standard();
            let a1 = f.cluster.node_id("a1").unwrap();
            if let Some(l) = limit {
                f.cluster.node_mut(a1).node.allocatable.scalar.insert(format!("{ATTACH_LIMIT_PREFIX}csi.example"), l);
            }
            let old = f.cluster.add_pod(pod_with_claims("old", &["rwop"]), SimTime::ZERO).unwrap();
            f.cluster.bind(old, a1, SimTime::ZERO).unwrap();
            let pod = pod_with_claims("new", &claims);
            let (pre, _) = NodeVolumeLimits.pre_filter(&mut CycleState::new(), &f.cluster, &pod);
            assert_eq!(pre.code, Code::Success, "{name}");
            let st = NodeVolumeLimits.filter(&CycleState::new(), &f.cluster, &pod, f.cluster.node(a1));
            assert_eq!(st.code, code, "{name}");
            if code != Code::Success {
                assert_eq!(st.reasons, vec![REASON]);
            }
        }
    }

    #[test]
    fn a_pod_without_claims_is_skipped() {
        let f = VolumeFixture::standard();
        let (st, _) = NodeVolumeLimits.pre_filter(&mut CycleState::new(), &f.cluster, &pod_with_claims("p", &[]));
        assert_eq!(st.code, Code::Skip);
    }
}
