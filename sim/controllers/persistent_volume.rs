//! The PersistentVolume controller (`pkg/controller/volume/persistentvolume`) with the external
//! provisioner folded in, as pure decisions over the [`VolumeStore`]:
//!
//! - an unbound claim of an Immediate class (or of no class, or of a class that does not exist)
//!   is bound to the smallest matching available volume ([`VolumeStore::find_matching_volume`]);
//!   a claim naming a volume (`spec.volumeName`) or named by one (`claimRef`) is bound to it;
//! - when nothing matches and the class can provision, a volume is provisioned in a zone chosen
//!   deterministically: round-robin over the class's `allowedTopologies` zones, else over the
//!   cluster's zones (upstream's external-provisioner picks among the allowed topologies);
//! - a WaitForFirstConsumer claim is left alone until the scheduler has chosen a node for its
//!   first pod ([`decide_for_node`]): then it gets the smallest matching volume whose node affinity
//!   admits the node, or a volume provisioned in the node's zone (the
//!   `volume.kubernetes.io/selected-node` flow).
//!
//! Simplification: binding and provisioning take no simulated time (upstream they take the
//! controller's sync plus the provisioner's round trip, seconds).

use crate::model::selector::Labels;
use crate::model::volume::{ClaimKey, VolumeEvent, VolumeStore};
use std::collections::BTreeSet;

/// What to do with one unbound claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimDecision {
    /// Bind it to this existing volume.
    Bind(String),
    /// Provision a volume in this zone (`None`: no zone known), or on this host.
    Provision {
        /// The zone.
        zone: Option<String>,
        /// The node, when the volume is provisioned for a node without a zone.
        host: Option<String>,
    },
}

/// The PV controller's decision for claim `key` (`zones`: the cluster's zones in order of first
/// appearance); `None`: nothing to do now (bound, waiting for a consumer, or no way to satisfy
/// it: the claim stays Pending).
pub fn decide(store: &VolumeStore, key: &ClaimKey, zones: &[String]) -> Option<ClaimDecision> {
    let c = store.claims.get(key)?;
    if c.bound {
        return None;
    }
    if let Some(v) = &c.volume_name {
        // Pre-bound by the user: bind if the volume is free (or already points at the claim)
        // and satisfies it (`checkVolumeSatisfyClaim`).
        let pv = store.volumes.get(v)?;
        let free = pv.claim_ref.as_ref().is_none_or(|r| r == key);
        let fits =
            pv.capacity_bytes >= c.request_bytes && pv.offers(&c.access_modes) && pv.storage_class == c.storage_class;
        return (free && fits).then(|| ClaimDecision::Bind(v.clone()));
    }
    let delay = store.is_delay_binding(c);
    if let Some(v) = store.find_matching_volume(c, None, delay, &BTreeSet::new()) {
        return Some(ClaimDecision::Bind(v.name.clone()));
    }
    if delay {
        return None;
    }
    let class = store.classes.get(&c.storage_class)?;
    if !class.can_provision() {
        return None;
    }
    let allowed = class.allowed_zones();
    let pool: &[String] = if allowed.is_empty() { zones } else { &allowed };
    let zone = (!pool.is_empty()).then(|| pool[(store.zone_cursor % pool.len() as u64) as usize].clone());
    Some(ClaimDecision::Provision { zone, host: None })
}

/// Volume binding for node `node_name` (labels `node_labels`, zone `zone`) of a pod's unbound
/// WaitForFirstConsumer claims `claims`, as the scheduler's `FindPodVolumes` plans it: a claim
/// whose `selected-node` names another node rules the node out; the others, smallest request
/// first, take the smallest matching volume not already chosen, and the rest must be
/// provisionable on the node (a class with a provisioner whose `allowedTopologies` admit the
/// node). `None`: the node does not fit ("didn't find available persistent volumes to bind").
pub fn plan_for_node(
    store: &VolumeStore,
    claims: &[ClaimKey],
    node_name: &str,
    node_labels: &Labels,
    zone: &str,
) -> Option<Vec<(ClaimKey, ClaimDecision)>> {
    let mut todo: Vec<&crate::model::volume::PersistentVolumeClaim> = Vec::with_capacity(claims.len());
    for k in claims {
        let c = store.claims.get(k)?;
        if c.selected_node.as_deref().is_some_and(|n| n != node_name) {
            return None;
        }
        if !c.bound {
            todo.push(c);
        }
    }
    // Upstream sorts by increasing request (`byPVCSize`); ties keep the pod's volume order here.
    todo.sort_by_key(|c| c.request_bytes);
    let mut chosen = BTreeSet::new();
    let mut plan = Vec::with_capacity(todo.len());
    let mut provision = Vec::new();
    for c in todo {
        match store.find_matching_volume(c, Some((node_name, node_labels)), true, &chosen) {
            Some(v) => {
                chosen.insert(v.name.clone());
                plan.push((c.key(), ClaimDecision::Bind(v.name.clone())));
            }
            None => provision.push(c),
        }
    }
    for c in provision {
        let class = store.classes.get(&c.storage_class)?;
        if !class.can_provision() || !class.topology_allows(node_labels) {
            return None;
        }
        let d = if zone.is_empty() {
            ClaimDecision::Provision { zone: None, host: Some(node_name.to_string()) }
        } else {
            ClaimDecision::Provision { zone: Some(zone.to_string()), host: None }
        };
        plan.push((c.key(), d));
    }
    Some(plan)
}

/// Carries out a decision; returns what happened.
pub fn apply(store: &mut VolumeStore, key: &ClaimKey, d: ClaimDecision) -> Option<VolumeEvent> {
    match d {
        ClaimDecision::Bind(v) => {
            store.bind(key, &v);
            Some(VolumeEvent::Bound { claim: key.clone(), volume: v })
        }
        ClaimDecision::Provision { zone, host } => {
            if host.is_none() {
                store.zone_cursor += 1;
            }
            let v = store.provision(key, zone.as_deref(), host.as_deref())?;
            Some(VolumeEvent::Provisioned { claim: key.clone(), volume: v, zone: zone.unwrap_or_default() })
        }
    }
}

/// Syncs every claim in key order (the controller's start-up pass); returns what happened.
pub fn sync_all(store: &mut VolumeStore, zones: &[String]) -> Vec<VolumeEvent> {
    let keys: Vec<ClaimKey> = store.claims.keys().cloned().collect();
    let mut out = Vec::new();
    for k in keys {
        if let Some(d) = decide(store, &k, zones)
            && let Some(e) = apply(store, &k, d)
        {
            out.push(e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::node::LABEL_ZONE;
    use crate::model::volume::{AccessMode, BindingMode, ClaimTemplate, PersistentVolume, ReclaimPolicy, StorageClass};

    fn class(name: &str, mode: BindingMode, provisioner: &str, zones: &[&str]) -> StorageClass {
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

    fn pv(name: &str, gib: i64, class: &str) -> PersistentVolume {
        PersistentVolume {
            name: name.into(),
            labels: Labels::new(),
            capacity_bytes: gib << 30,
            access_modes: vec![AccessMode::ReadWriteOnce],
            storage_class: class.into(),
            node_affinity: None,
            claim_ref: None,
            reclaim_policy: ReclaimPolicy::Retain,
            csi_driver: None,
            provisioned: false,
        }
    }

    fn store(classes: Vec<StorageClass>, pvs: Vec<PersistentVolume>, claims: &[(&str, i64, &str)]) -> VolumeStore {
        let mut s = VolumeStore::default();
        for c in classes {
            s.classes.insert(c.name.clone(), c);
        }
        for v in pvs {
            s.volumes.insert(v.name.clone(), v);
        }
        for (name, gib, class) in claims {
            s.create_claim(
                "default",
                name,
                &ClaimTemplate {
                    name: name.to_string(),
                    storage_class: Some(class.to_string()),
                    request_bytes: gib << 30,
                    access_modes: vec![AccessMode::ReadWriteOnce],
                    volume_name: None,
                },
            );
        }
        s
    }

    fn key(n: &str) -> ClaimKey {
        ("default".into(), n.into())
    }

    #[test]
    fn immediate_binding_chooses_the_smallest_volume_that_fits() {
        let mut s = store(
            vec![class("fast", BindingMode::Immediate, "csi.example", &[])],
            vec![pv("pv-50", 50, "fast"), pv("pv-10", 10, "fast"), pv("pv-20", 20, "fast"), pv("pv-5", 5, "fast")],
            &[("data", 8, "fast")],
        );
        let ev = sync_all(&mut s, &[]);
        assert_eq!(ev, vec![VolumeEvent::Bound { claim: key("data"), volume: "pv-10".into() }]);
        assert_eq!(s.volumes["pv-10"].claim_ref, Some(key("data")));
        assert!(s.claims[&key("data")].bound);
    }

    #[test]
    fn two_claims_never_share_a_volume() {
        let mut s = store(
            vec![class("fast", BindingMode::Immediate, "kubernetes.io/no-provisioner", &[])],
            vec![pv("pv-10", 10, "fast")],
            &[("a", 8, "fast"), ("b", 8, "fast")],
        );
        let ev = sync_all(&mut s, &[]);
        assert_eq!(ev.len(), 1, "the second claim stays Pending: {ev:?}");
        assert!(s.claims[&key("a")].bound && !s.claims[&key("b")].bound);
    }

    #[test]
    fn immediate_provisioning_goes_round_robin_over_the_allowed_zones_or_the_cluster_zones() {
        let cases: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
            ("cluster zones", vec![], vec!["z1", "z2", "z1"]),
            ("allowed topologies", vec!["z2", "z3"], vec!["z2", "z3", "z2"]),
        ];
        for (name, allowed, want) in cases {
            let mut s = store(
                vec![class("std", BindingMode::Immediate, "csi.example", &allowed)],
                vec![],
                &[("a", 1, "std"), ("b", 1, "std"), ("c", 1, "std")],
            );
            let ev = sync_all(&mut s, &["z1".to_string(), "z2".to_string()]);
            let zones: Vec<String> = ev
                .iter()
                .map(|e| match e {
                    VolumeEvent::Provisioned { zone, .. } => zone.clone(),
                    other => panic!("{other:?}"),
                })
                .collect();
            assert_eq!(zones, want, "{name}");
            assert_eq!(s.provisioned, 3);
        }
    }

    #[test]
    fn wait_for_first_consumer_claims_wait_for_the_scheduler() {
        let mut s = store(
            vec![class("zonal", BindingMode::WaitForFirstConsumer, "csi.example", &[])],
            vec![pv("pv-10", 10, "zonal")],
            &[("data", 8, "zonal")],
        );
        assert!(sync_all(&mut s, &["z1".to_string()]).is_empty());
        let labels = Labels::from([(LABEL_ZONE.to_string(), "z1".to_string())]);
        let d = plan_for_node(&s, &[key("data")], "n1", &labels, "z1");
        assert_eq!(d, Some(vec![(key("data"), ClaimDecision::Bind("pv-10".into()))]));
    }

    #[test]
    fn the_smallest_claim_picks_first_and_the_rest_is_provisioned_in_the_nodes_zone() {
        let s = store(
            vec![class("zonal", BindingMode::WaitForFirstConsumer, "csi.example", &[])],
            vec![pv("pv-10", 10, "zonal")],
            &[("big", 9, "zonal"), ("small", 2, "zonal")],
        );
        let labels = Labels::from([(LABEL_ZONE.to_string(), "z1".to_string())]);
        let d = plan_for_node(&s, &[key("big"), key("small")], "n1", &labels, "z1").unwrap();
        assert_eq!(
            d,
            vec![
                (key("small"), ClaimDecision::Bind("pv-10".into())),
                (key("big"), ClaimDecision::Provision { zone: Some("z1".into()), host: None })
            ]
        );
    }

    #[test]
    fn a_node_outside_the_allowed_topologies_or_without_a_provisioner_does_not_fit() {
        let labels = Labels::from([(LABEL_ZONE.to_string(), "z1".to_string())]);
        let cases = [
            ("allowed elsewhere", class("c", BindingMode::WaitForFirstConsumer, "csi.example", &["z2"]), false),
            ("allowed here", class("c", BindingMode::WaitForFirstConsumer, "csi.example", &["z1"]), true),
            (
                "no provisioner",
                class("c", BindingMode::WaitForFirstConsumer, "kubernetes.io/no-provisioner", &[]),
                false,
            ),
        ];
        for (name, c, fits) in cases {
            let s = store(vec![c], vec![], &[("d", 1, "c")]);
            assert_eq!(plan_for_node(&s, &[key("d")], "n1", &labels, "z1").is_some(), fits, "{name}");
        }
    }

    #[test]
    fn a_claim_without_a_provisioner_or_a_class_stays_pending() {
        let mut s = store(vec![], vec![], &[("a", 1, "missing"), ("b", 1, "")]);
        assert!(sync_all(&mut s, &["z1".to_string()]).is_empty());
        assert_eq!(s.summary().pvcs_pending, 2);
    }

    #[test]
    fn a_pre_bound_claim_binds_only_its_volume() {
        let mut s = store(vec![], vec![pv("small", 1, ""), pv("named", 100, "")], &[]);
        s.create_claim(
            "default",
            "c",
            &ClaimTemplate {
                name: "c".into(),
                storage_class: Some(String::new()),
                request_bytes: 1 << 30,
                access_modes: vec![AccessMode::ReadWriteOnce],
                volume_name: Some("named".into()),
            },
        );
        sync_all(&mut s, &[]);
        assert_eq!(s.claims[&key("c")].volume_name.as_deref(), Some("named"));
        assert!(s.volumes["small"].claim_ref.is_none());
    }
}
