//! Storage: StorageClass, PersistentVolume, PersistentVolumeClaim, a pod's volumes, and the
//! [`VolumeStore`] that holds them for a run (inside [`crate::cluster::ClusterState`], so that
//! the volume scheduler plugins can read it).
//!
//! Matching follows `pkg/controller/volume/persistentvolume/util.FindMatchingVolume` (v1.33):
//! among the available volumes of the claim's class whose access modes include the claim's and
//! whose capacity covers its request (and, on the scheduler's path, whose node affinity admits the
//! node), the smallest wins; a volume pre-bound to the claim (`claimRef`) wins outright.

use crate::model::node::{LABEL_HOSTNAME, LABEL_REGION, LABEL_REGION_BETA, LABEL_ZONE, LABEL_ZONE_BETA};
use crate::model::selector::{LabelSelectorRequirement, Labels, NodeSelector, NodeSelectorTerm, SelectorOperator};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The annotation a StorageClass carries to be the default class.
pub const ANNOTATION_DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
/// The annotation the scheduler puts on a WaitForFirstConsumer claim to ask for provisioning.
pub const ANNOTATION_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// A provisioner name meaning "no dynamic provisioning" (local volumes).
pub const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";
/// The node allocatable prefix giving a CSI driver's attach limit on the node
/// (`attachable-volumes-csi-<driver>`; upstream reads `CSINode.spec.drivers[].allocatable.count`).
pub const ATTACH_LIMIT_PREFIX: &str = "attachable-volumes-csi-";
/// The labels VolumeZone compares between a bound volume and a node.
pub const TOPOLOGY_LABELS: &[&str] = &[LABEL_ZONE_BETA, LABEL_REGION_BETA, LABEL_ZONE, LABEL_REGION];

/// A volume access mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AccessMode {
    /// Mounted read-write by one node.
    ReadWriteOnce,
    /// Mounted read-only by many nodes.
    ReadOnlyMany,
    /// Mounted read-write by many nodes.
    ReadWriteMany,
    /// Mounted read-write by one pod.
    ReadWriteOncePod,
}

impl AccessMode {
    /// Parses the API spelling.
    pub fn parse(s: &str) -> Result<AccessMode, String> {
        Ok(match s {
            "ReadWriteOnce" => AccessMode::ReadWriteOnce,
            "ReadOnlyMany" => AccessMode::ReadOnlyMany,
            "ReadWriteMany" => AccessMode::ReadWriteMany,
            "ReadWriteOncePod" => AccessMode::ReadWriteOncePod,
            o => {
                return Err(format!(
                    "access mode {o:?} is not one of ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod"
                ));
            }
        })
    }
}

/// `volumeBindingMode` of a StorageClass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BindingMode {
    /// The PV controller binds (or provisions) as soon as the claim exists.
    #[default]
    Immediate,
    /// Binding waits for the first pod using the claim to be scheduled.
    WaitForFirstConsumer,
}

/// `persistentVolumeReclaimPolicy` (recorded; volumes are never released in kubesim since claims
/// are never deleted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReclaimPolicy {
    /// Keep the volume.
    #[default]
    Retain,
    /// Delete the volume with its claim (the default for provisioned volumes).
    Delete,
    /// Scrub and reuse (deprecated).
    Recycle,
}

/// A StorageClass.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StorageClass {
    /// `metadata.name`.
    pub name: String,
    /// `provisioner` (empty or [`NO_PROVISIONER`]: no dynamic provisioning).
    pub provisioner: String,
    /// `volumeBindingMode`.
    pub binding_mode: BindingMode,
    /// `allowedTopologies`: terms ORed, each a list of `(key, values)` requirements ANDed.
    /// Empty: anywhere.
    pub allowed_topologies: Vec<Vec<(String, Vec<String>)>>,
    /// The `is-default-class` annotation is `"true"`.
    pub is_default: bool,
    /// `reclaimPolicy` for the volumes it provisions (default Delete).
    pub reclaim_policy: ReclaimPolicy,
}

impl StorageClass {
    /// True when the class can provision volumes dynamically.
    pub fn can_provision(&self) -> bool {
        !self.provisioner.is_empty() && self.provisioner != NO_PROVISIONER
    }

    /// Upstream `MatchTopologySelectorTerms`: no terms match everything; otherwise some term's
    /// requirements must all hold for `labels`.
    pub fn topology_allows(&self, labels: &Labels) -> bool {
        self.allowed_topologies.is_empty()
            || self
                .allowed_topologies
                .iter()
                .any(|term| term.iter().all(|(k, vals)| labels.get(k).is_some_and(|v| vals.iter().any(|x| x == v))))
    }

    /// The zones the allowed topologies name (for provisioning an Immediate claim), in the order
    /// written, without duplicates.
    pub fn allowed_zones(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for term in &self.allowed_topologies {
            for (k, vals) in term {
                if k == LABEL_ZONE || k == LABEL_ZONE_BETA {
                    for v in vals {
                        if !out.contains(v) {
                            out.push(v.clone());
                        }
                    }
                }
            }
        }
        out
    }
}

/// `namespace/name` of a claim.
pub type ClaimKey = (String, String);

/// A PersistentVolume.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersistentVolume {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels` (zone / region labels are what VolumeZone reads).
    pub labels: Labels,
    /// `spec.capacity.storage`, in bytes.
    pub capacity_bytes: i64,
    /// `spec.accessModes`.
    pub access_modes: Vec<AccessMode>,
    /// `spec.storageClassName` (empty: no class).
    pub storage_class: String,
    /// `spec.nodeAffinity.required`.
    pub node_affinity: Option<NodeSelector>,
    /// `spec.claimRef`: bound (or pre-bound) to this claim.
    pub claim_ref: Option<ClaimKey>,
    /// `spec.persistentVolumeReclaimPolicy`.
    pub reclaim_policy: ReclaimPolicy,
    /// `spec.csi.driver`, if the volume is a CSI volume.
    pub csi_driver: Option<String>,
    /// Created by dynamic provisioning during the run.
    pub provisioned: bool,
}

impl PersistentVolume {
    /// Upstream `CheckNodeAffinity`: a volume without node affinity fits every node.
    pub fn node_affinity_matches(&self, node_name: &str, node_labels: &Labels) -> bool {
        self.node_affinity.as_ref().is_none_or(|s| s.matches(node_name, node_labels))
    }

    /// Upstream `CheckAccessModes`: every mode the claim asks for is offered.
    pub fn offers(&self, modes: &[AccessMode]) -> bool {
        modes.iter().all(|m| self.access_modes.contains(m))
    }
}

/// `spec` of a claim as written in a template (StatefulSet `volumeClaimTemplates`, ephemeral
/// volumes): the class stays unresolved until the claim is created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimTemplate {
    /// `metadata.name` of the template (the volume name in a StatefulSet).
    pub name: String,
    /// `spec.storageClassName` (`None`: the default class at creation; `Some("")`: no class).
    pub storage_class: Option<String>,
    /// `spec.resources.requests.storage`, in bytes.
    pub request_bytes: i64,
    /// `spec.accessModes`.
    pub access_modes: Vec<AccessMode>,
    /// `spec.volumeName` (pre-binding to a volume).
    pub volume_name: Option<String>,
}

/// A PersistentVolumeClaim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersistentVolumeClaim {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.storageClassName` after the DefaultStorageClass admission plugin (empty: no class).
    pub storage_class: String,
    /// `spec.resources.requests.storage`, in bytes.
    pub request_bytes: i64,
    /// `spec.accessModes`.
    pub access_modes: Vec<AccessMode>,
    /// `spec.volumeName`: the bound (or pre-bound) volume.
    pub volume_name: Option<String>,
    /// The `volume.kubernetes.io/selected-node` annotation.
    pub selected_node: Option<String>,
    /// `status.phase == Bound`.
    pub bound: bool,
}

impl PersistentVolumeClaim {
    /// `namespace/name`.
    pub fn key(&self) -> ClaimKey {
        (self.namespace.clone(), self.name.clone())
    }
}

/// Where a pod's volume comes from (only the sources that matter to scheduling are told apart).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum VolumeSource {
    /// `persistentVolumeClaim.claimName`.
    Claim(String),
    /// `ephemeral.volumeClaimTemplate`: a claim `<pod>-<volume>` created with the pod.
    Ephemeral(ClaimTemplate),
    /// `csi` inline volume with its driver (counted by NodeVolumeLimits).
    Csi(String),
    /// Any other source (emptyDir, configMap, secret, hostPath, ...): no scheduling constraint.
    Other,
}

/// One entry of `spec.volumes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PodVolume {
    /// `name`.
    pub name: String,
    /// The source.
    pub source: VolumeSource,
}

/// The claim name of volume `v` of pod `pod_name`, if it uses a claim.
pub fn claim_name(pod_name: &str, v: &PodVolume) -> Option<String> {
    match &v.source {
        VolumeSource::Claim(c) => Some(c.clone()),
        VolumeSource::Ephemeral(_) => Some(format!("{pod_name}-{}", v.name)),
        _ => None,
    }
}

/// The names of the claims a pod uses, in volume order.
pub fn pod_claims(pod: &crate::model::pod::Pod) -> Vec<String> {
    pod.volumes.iter().filter_map(|v| claim_name(&pod.name, v)).collect()
}

/// What the volume machinery did (written to `events.jsonl`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VolumeEvent {
    /// A claim was bound to a volume.
    Bound {
        /// The claim.
        claim: ClaimKey,
        /// The volume.
        volume: String,
    },
    /// A volume was provisioned for a claim.
    Provisioned {
        /// The claim.
        claim: ClaimKey,
        /// The new volume.
        volume: String,
        /// The zone it lives in (empty: none).
        zone: String,
    },
}

/// The storage objects of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeStore {
    /// StorageClasses by name.
    pub classes: BTreeMap<String, StorageClass>,
    /// PersistentVolumes by name.
    pub volumes: BTreeMap<String, PersistentVolume>,
    /// PersistentVolumeClaims by `(namespace, name)`.
    pub claims: BTreeMap<ClaimKey, PersistentVolumeClaim>,
    /// Volumes provisioned so far.
    pub provisioned: u64,
    /// Round-robin cursor over zones for provisioning Immediate claims.
    pub zone_cursor: u64,
}

impl VolumeStore {
    /// True when there is no storage object at all (the usual case: plugins skip at once).
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty() && self.volumes.is_empty() && self.claims.is_empty()
    }

    /// The default StorageClass, if one is marked (upstream takes the newest when several are; here
    /// the first by name).
    pub fn default_class(&self) -> Option<&StorageClass> {
        self.classes.values().find(|c| c.is_default)
    }

    /// The claim `namespace/name`.
    pub fn claim(&self, namespace: &str, name: &str) -> Option<&PersistentVolumeClaim> {
        self.claims.get(&(namespace.to_string(), name.to_string()))
    }

    /// Creates a claim from a template as the API server would (DefaultStorageClass admission);
    /// returns false (and changes nothing) when it exists already.
    pub fn create_claim(&mut self, namespace: &str, name: &str, t: &ClaimTemplate) -> bool {
        let key = (namespace.to_string(), name.to_string());
        if self.claims.contains_key(&key) {
            return false;
        }
        let storage_class = match &t.storage_class {
            Some(c) => c.clone(),
            None => self.default_class().map(|c| c.name.clone()).unwrap_or_default(),
        };
        self.claims.insert(
            key,
            PersistentVolumeClaim {
                namespace: namespace.to_string(),
                name: name.to_string(),
                storage_class,
                request_bytes: t.request_bytes,
                access_modes: t.access_modes.clone(),
                volume_name: t.volume_name.clone(),
                selected_node: None,
                bound: false,
            },
        );
        true
    }

    /// Upstream `IsDelayBindingMode`: the claim's class exists and is WaitForFirstConsumer.
    pub fn is_delay_binding(&self, c: &PersistentVolumeClaim) -> bool {
        !c.storage_class.is_empty()
            && self.classes.get(&c.storage_class).is_some_and(|k| k.binding_mode == BindingMode::WaitForFirstConsumer)
    }

    /// The volume a bound claim uses.
    pub fn bound_volume(&self, c: &PersistentVolumeClaim) -> Option<&PersistentVolume> {
        if !c.bound {
            return None;
        }
        self.volumes.get(c.volume_name.as_deref()?)
    }

    /// Upstream `FindMatchingVolume`. `node`: the scheduler's path (node affinity and access
    /// modes are checked against it); `None`: the PV controller's path, which leaves
    /// WaitForFirstConsumer claims (`delay_binding`) to the scheduler unless a volume is pre-bound
    /// to the claim. `excluded`: volumes already chosen for other claims of the same pod.
    pub fn find_matching_volume(
        &self,
        claim: &PersistentVolumeClaim,
        node: Option<(&str, &Labels)>,
        delay_binding: bool,
        excluded: &BTreeSet<String>,
    ) -> Option<&PersistentVolume> {
        let key = claim.key();
        let mut smallest: Option<&PersistentVolume> = None;
        for v in self.volumes.values() {
            if excluded.contains(&v.name) || v.capacity_bytes < claim.request_bytes {
                continue;
            }
            let affinity_ok = node.is_none_or(|(n, l)| v.node_affinity_matches(n, l));
            if v.claim_ref.as_ref() == Some(&key) {
                return if affinity_ok { Some(v) } else { None };
            }
            if node.is_none() && delay_binding {
                continue;
            }
            if v.claim_ref.is_some() || v.storage_class != claim.storage_class || !affinity_ok {
                continue;
            }
            // The PV controller indexes volumes by access modes, so both paths require them.
            if !v.offers(&claim.access_modes) {
                continue;
            }
            if smallest.is_none_or(|s| s.capacity_bytes > v.capacity_bytes) {
                smallest = Some(v);
            }
        }
        smallest
    }

    /// Binds `claim` to `volume` (both sides, as the PV controller's `bind` does).
    pub fn bind(&mut self, claim: &ClaimKey, volume: &str) {
        if let Some(v) = self.volumes.get_mut(volume) {
            v.claim_ref = Some(claim.clone());
        }
        if let Some(c) = self.claims.get_mut(claim) {
            c.volume_name = Some(volume.to_string());
            c.bound = true;
        }
    }

    /// Provisions a volume for `claim` in `zone` (node affinity on the zone label), or on the
    /// node `host` when the node has no zone; binds it and returns its name.
    pub fn provision(&mut self, claim: &ClaimKey, zone: Option<&str>, host: Option<&str>) -> Option<String> {
        let c = self.claims.get(claim)?.clone();
        let class = self.classes.get(&c.storage_class)?.clone();
        let name = format!("pvc-{}-{}", c.namespace, c.name);
        let requirement = |key: &str, value: &str| NodeSelector {
            node_selector_terms: vec![NodeSelectorTerm {
                match_expressions: vec![LabelSelectorRequirement {
                    key: key.to_string(),
                    operator: SelectorOperator::In,
                    values: vec![value.to_string()],
                }],
                match_fields: vec![],
            }],
        };
        let mut labels = Labels::new();
        let node_affinity = match (zone, host) {
            (Some(z), _) if !z.is_empty() => {
                labels.insert(LABEL_ZONE.to_string(), z.to_string());
                Some(requirement(LABEL_ZONE, z))
            }
            (_, Some(h)) => Some(requirement(LABEL_HOSTNAME, h)),
            _ => None,
        };
        self.volumes.insert(
            name.clone(),
            PersistentVolume {
                name: name.clone(),
                labels,
                capacity_bytes: c.request_bytes,
                access_modes: c.access_modes.clone(),
                storage_class: c.storage_class.clone(),
                node_affinity,
                claim_ref: None,
                reclaim_policy: class.reclaim_policy,
                csi_driver: Some(class.provisioner.clone()),
                provisioned: true,
            },
        );
        self.provisioned += 1;
        self.bind(claim, &name);
        Some(name)
    }

    /// The `volumes` object of `summary.json`.
    pub fn summary(&self) -> VolumeSummary {
        let bound = self.claims.values().filter(|c| c.bound).count() as u64;
        VolumeSummary {
            storage_classes: self.classes.len() as u64,
            pvcs: self.claims.len() as u64,
            pvcs_bound: bound,
            pvcs_pending: self.claims.len() as u64 - bound,
            pvs: self.volumes.len() as u64,
            pvs_bound: self.volumes.values().filter(|v| v.claim_ref.is_some()).count() as u64,
            pvs_provisioned: self.provisioned,
        }
    }
}

/// Volume counts at the end of a run (`summary.json` → `volumes`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSummary {
    /// StorageClasses.
    pub storage_classes: u64,
    /// Claims.
    pub pvcs: u64,
    /// Claims bound.
    pub pvcs_bound: u64,
    /// Claims still Pending.
    pub pvcs_pending: u64,
    /// Volumes (static and provisioned).
    pub pvs: u64,
    /// Volumes bound to a claim.
    pub pvs_bound: u64,
    /// Volumes created by dynamic provisioning.
    pub pvs_provisioned: u64,
}

/// A volume's topology labels (zone / region, values split on `__` as upstream's
/// `LabelZonesToSet`), as VolumeZone reads them.
pub fn volume_topology(v: &PersistentVolume) -> Vec<(&'static str, Vec<String>)> {
    TOPOLOGY_LABELS
        .iter()
        .filter_map(|k| v.labels.get(*k).map(|val| (*k, val.split("__").map(|s| s.trim().to_string()).collect())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(name: &str, gib: i64, class: &str, modes: &[AccessMode]) -> PersistentVolume {
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

    fn store_with(pvs: Vec<PersistentVolume>, request_gib: i64, class: &str) -> VolumeStore {
        let mut s = VolumeStore::default();
        for v in pvs {
            s.volumes.insert(v.name.clone(), v);
        }
        let t = ClaimTemplate {
            name: "c".into(),
            storage_class: Some(class.into()),
            request_bytes: request_gib << 30,
            access_modes: vec![AccessMode::ReadWriteOnce],
            volume_name: None,
        };
        s.create_claim("default", "c", &t);
        s
    }

    #[test]
    fn the_smallest_fitting_volume_of_the_class_is_chosen() {
        use AccessMode::*;
        let cases: Vec<(&str, Vec<PersistentVolume>, Option<&str>)> = vec![
            (
                "smallest of three that fit",
                vec![
                    pv("a", 20, "s", &[ReadWriteOnce]),
                    pv("b", 10, "s", &[ReadWriteOnce]),
                    pv("c", 50, "s", &[ReadWriteOnce]),
                ],
                Some("b"),
            ),
            (
                "too small is skipped",
                vec![pv("a", 5, "s", &[ReadWriteOnce]), pv("b", 10, "s", &[ReadWriteOnce])],
                Some("b"),
            ),
            ("another class is skipped", vec![pv("a", 10, "other", &[ReadWriteOnce])], None),
            ("missing access mode is skipped", vec![pv("a", 10, "s", &[ReadOnlyMany])], None),
            ("a superset of modes fits", vec![pv("a", 10, "s", &[ReadWriteOnce, ReadOnlyMany])], Some("a")),
        ];
        for (name, pvs, want) in cases {
            let s = store_with(pvs, 8, "s");
            let c = s.claim("default", "c").unwrap();
            let got = s.find_matching_volume(c, None, false, &BTreeSet::new()).map(|v| v.name.as_str());
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_volume_pre_bound_to_the_claim_wins_over_a_smaller_one() {
        let mut big = pv("big", 100, "s", &[AccessMode::ReadWriteOnce]);
        big.claim_ref = Some(("default".into(), "c".into()));
        let s = store_with(vec![big, pv("small", 10, "s", &[AccessMode::ReadWriteOnce])], 8, "s");
        let c = s.claim("default", "c").unwrap();
        assert_eq!(s.find_matching_volume(c, None, false, &BTreeSet::new()).unwrap().name, "big");
    }

    #[test]
    fn the_controller_path_leaves_delay_binding_claims_alone_but_the_scheduler_path_checks_the_node() {
        let mut zonal = pv("z", 10, "s", &[AccessMode::ReadWriteOnce]);
        zonal.node_affinity = Some(NodeSelector {
            node_selector_terms: vec![NodeSelectorTerm {
                match_expressions: vec![LabelSelectorRequirement {
                    key: LABEL_ZONE.into(),
                    operator: SelectorOperator::In,
                    values: vec!["a".into()],
                }],
                match_fields: vec![],
            }],
        });
        let s = store_with(vec![zonal], 8, "s");
        let c = s.claim("default", "c").unwrap();
        assert!(s.find_matching_volume(c, None, true, &BTreeSet::new()).is_none());
        let in_a = Labels::from([(LABEL_ZONE.to_string(), "a".to_string())]);
        let in_b = Labels::from([(LABEL_ZONE.to_string(), "b".to_string())]);
        assert!(s.find_matching_volume(c, Some(("n", &in_a)), true, &BTreeSet::new()).is_some());
        assert!(s.find_matching_volume(c, Some(("n", &in_b)), true, &BTreeSet::new()).is_none());
    }

    #[test]
    fn a_claim_without_a_class_gets_the_default_class_and_an_explicit_empty_class_stays_empty() {
        let mut s = VolumeStore::default();
        s.classes.insert(
            "std".into(),
            StorageClass {
                name: "std".into(),
                provisioner: "csi.example".into(),
                binding_mode: BindingMode::Immediate,
                allowed_topologies: vec![],
                is_default: true,
                reclaim_policy: ReclaimPolicy::Delete,
            },
        );
        let t = |c: Option<&str>| ClaimTemplate {
            name: "x".into(),
            storage_class: c.map(String::from),
            request_bytes: 1,
            access_modes: vec![],
            volume_name: None,
        };
        s.create_claim("ns", "a", &t(None));
        s.create_claim("ns", "b", &t(Some("")));
        assert_eq!(s.claim("ns", "a").unwrap().storage_class, "std");
        assert_eq!(s.claim("ns", "b").unwrap().storage_class, "");
        assert!(!s.create_claim("ns", "a", &t(Some("other"))), "an existing claim is kept");
    }

    #[test]
    fn provisioning_creates_a_bound_zonal_volume_of_the_requested_size() {
        let mut s = store_with(vec![], 8, "s");
        s.classes.insert(
            "s".into(),
            StorageClass {
                name: "s".into(),
                provisioner: "csi.example".into(),
                binding_mode: BindingMode::WaitForFirstConsumer,
                allowed_topologies: vec![],
                is_default: false,
                reclaim_policy: ReclaimPolicy::Delete,
            },
        );
        let key = ("default".to_string(), "c".to_string());
        let name = s.provision(&key, Some("zone-b"), Some("n1")).unwrap();
        let v = &s.volumes[&name];
        assert_eq!(v.capacity_bytes, 8 << 30);
        assert_eq!(v.labels.get(LABEL_ZONE).map(String::as_str), Some("zone-b"));
        assert!(v.node_affinity_matches("x", &Labels::from([(LABEL_ZONE.to_string(), "zone-b".to_string())])));
        assert!(!v.node_affinity_matches("x", &Labels::from([(LABEL_ZONE.to_string(), "zone-a".to_string())])));
        assert!(s.claim("default", "c").unwrap().bound);
        assert_eq!(s.summary().pvs_provisioned, 1);
    }

    proptest::proptest! {
        /// Whatever the volumes, the controller's choice is an eligible volume and no eligible
        /// volume is smaller.
        #[test]
        fn the_choice_is_always_a_smallest_eligible_volume(
            vols in proptest::collection::vec((1i64..64, 0usize..2, proptest::bool::ANY, proptest::bool::ANY), 0..12),
            request in 1i64..64,
        ) {
            let classes = ["s", "t"];
            let pvs: Vec<PersistentVolume> = vols
                .iter()
                .enumerate()
                .map(|(i, (gib, class, rwx, taken))| {
                    let modes = if *rwx { vec![AccessMode::ReadWriteMany] } else { vec![AccessMode::ReadWriteOnce] };
                    let mut v = pv(&format!("v{i:02}"), *gib, classes[*class], &modes);
                    if *taken {
                        v.claim_ref = Some(("other".into(), "x".into()));
                    }
                    v
                })
                .collect();
            let s = store_with(pvs, request, "s");
            let c = s.claim("default", "c").unwrap();
            let eligible = |v: &PersistentVolume| {
                v.claim_ref.is_none() && v.storage_class == "s" && v.offers(&c.access_modes) && v.capacity_bytes >= c.request_bytes
            };
            let smallest = s.volumes.values().filter(|v| eligible(v)).map(|v| v.capacity_bytes).min();
            let got = s.find_matching_volume(c, None, false, &BTreeSet::new());
            proptest::prop_assert_eq!(got.map(|v| v.capacity_bytes), smallest);
            if let Some(v) = got {
                proptest::prop_assert!(eligible(v));
            }
        }
    }
}
