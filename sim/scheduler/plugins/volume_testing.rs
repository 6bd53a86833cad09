//! Fixtures for the volume plugins' tests: a two-zone cluster with classes, volumes and claims.

use crate::cluster::ClusterState;
use crate::model::node::LABEL_ZONE;
use crate::model::pod::Pod;
use crate::model::selector::{LabelSelectorRequirement, Labels, NodeSelector, NodeSelectorTerm, SelectorOperator};
use crate::model::volume::{
    AccessMode, BindingMode, ClaimTemplate, PersistentVolume, PodVolume, ReclaimPolicy, StorageClass, VolumeSource,
};
use crate::scheduler::testing::{make_node, make_pod};

/// A cluster with nodes `a1` (zone-a) and `b1` (zone-b) and a storage set-up.
pub struct VolumeFixture {
    /// The cluster.
    pub cluster: ClusterState,
}

/// A pod using the named claims (volumes `v0`, `v1`, ...).
pub fn pod_with_claims(name: &str, claims: &[&str]) -> Pod {
    let mut p = make_pod(name, &[("cpu", 100)]);
    p.volumes = claims
        .iter()
        .enumerate()
        .map(|(i, c)| PodVolume { name: format!("v{i}"), source: VolumeSource::Claim(c.to_string()) })
        .collect();
    p
}

/// A node selector `key In [value]`.
pub fn selector(key: &str, value: &str) -> NodeSelector {
    NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_expressions: vec![LabelSelectorRequirement {
                key: key.into(),
                operator: SelectorOperator::In,
                values: vec![value.into()],
            }],
            match_fields: vec![],
        }],
    }
}

/// A volume of `gib` GiB in class `class`.
pub fn volume(name: &str, gib: i64, class: &str, modes: &[AccessMode]) -> PersistentVolume {
    PersistentVolume {
        name: name.into(),
        labels: Labels::new(),
        capacity_bytes: gib << 30,
        access_modes: modes.to_vec(),
        storage_class: class.into(),
        node_affinity: None,
        claim_ref: None,
        reclaim_policy: ReclaimPolicy::Retain,
        csi_driver: None,
        provisioned: false,
    }
}

fn class(name: &str, provisioner: &str, mode: BindingMode, zones: &[&str]) -> StorageClass {
    StorageClass {
        name: name.into(),
        provisioner: provisioner.into(),
        binding_mode: mode,
        allowed_topologies: if zones.is_empty() {
            vec![]
        } else {
            vec![vec![(LABEL_ZONE.to_string(), zones.iter().map(|z| z.to_string()).collect())]]
        },
        is_default: false,
        reclaim_policy: ReclaimPolicy::Delete,
    }
}

impl VolumeFixture {
    /// Classes `wffc` (provisions anywhere), `only-b` (provisions in zone-b), `local` (no
    /// provisioner, WaitForFirstConsumer), `imm` (Immediate, no provisioner); volume `pv-a`
    /// (zone-a, bound to `bound-a`), `local-a` (zone-a, class local, free); claims `bound-a`,
    /// `wffc-1`, `only-b-1`, `local-1`, `local-2`, `imm-pending`, `rwop` (ReadWriteOncePod, bound
    /// to `pv-rwop`).
    pub fn standard() -> Self {
        let mut cluster = ClusterState::new();
        for (n, z) in [("a1", "zone-a"), ("b1", "zone-b")] {
            let mut node = make_node(n, 4000, 1 << 34, 110).node;
            node.labels.insert(LABEL_ZONE.into(), z.into());
            node.labels.insert(crate::model::node::LABEL_HOSTNAME.into(), n.into());
            cluster.add_node(node).unwrap();
        }
        let s = cluster.volumes_mut();
        for c in [
            class("wffc", "csi.example", BindingMode::WaitForFirstConsumer, &[]),
            class("only-b", "csi.example", BindingMode::WaitForFirstConsumer, &["zone-b"]),
            class("local", crate::model::volume::NO_PROVISIONER, BindingMode::WaitForFirstConsumer, &[]),
            class("imm", crate::model::volume::NO_PROVISIONER, BindingMode::Immediate, &[]),
        ] {
            s.classes.insert(c.name.clone(), c);
        }
        let rwo = [AccessMode::ReadWriteOnce];
        let mut pv_a = volume("pv-a", 10, "wffc", &rwo);
        pv_a.node_affinity = Some(selector(LABEL_ZONE, "zone-a"));
        pv_a.labels.insert(LABEL_ZONE.into(), "zone-a".into());
        pv_a.csi_driver = Some("csi.example".into());
        let mut local_a = volume("local-a", 10, "local", &rwo);
        local_a.node_affinity = Some(selector(LABEL_ZONE, "zone-a"));
        let mut pv_rwop = volume("pv-rwop", 10, "", &[AccessMode::ReadWriteOncePod]);
        pv_rwop.csi_driver = Some("csi.example".into());
        for v in [pv_a, local_a, pv_rwop] {
            s.volumes.insert(v.name.clone(), v);
        }
        let t = |name: &str, class: &str, modes: &[AccessMode]| ClaimTemplate {
            name: name.into(),
            storage_class: Some(class.into()),
            request_bytes: 1 << 30,
            access_modes: modes.to_vec(),
            volume_name: None,
        };
        for (name, class, modes) in [
            ("bound-a", "wffc", &rwo[..]),
            ("wffc-1", "wffc", &rwo[..]),
            ("only-b-1", "only-b", &rwo[..]),
            ("local-1", "local", &rwo[..]),
            ("local-2", "local", &rwo[..]),
            ("imm-pending", "imm", &rwo[..]),
            ("rwop", "", &[AccessMode::ReadWriteOncePod][..]),
        ] {
            s.create_claim("default", name, &t(name, class, modes));
        }
        s.bind(&("default".into(), "bound-a".into()), "pv-a");
        s.bind(&("default".into(), "rwop".into()), "pv-rwop");
        VolumeFixture { cluster }
    }
}
