//! Storage manifests: StorageClass (`storage.k8s.io/v1`), PersistentVolume and
//! PersistentVolumeClaim (`v1`), a pod's `spec.volumes`, and claim templates (StatefulSet
//! `volumeClaimTemplates`, ephemeral volumes), with API-server validation and defaults.
//!
//! Objects are collected in file order and turned into a [`VolumeStore`] once every file is read
//! ([`StorageManifests::store`]), so that a claim written before the default StorageClass still
//! gets it (DefaultStorageClass admission).

use crate::input::error::InputError;
use crate::input::manifest::{ManifestSet, ObjectMeta};
use crate::input::yaml::{Document, parse_document};
use crate::model::resources::ResourceList;
use crate::model::selector::NodeSelector;
use crate::model::volume::{
    ANNOTATION_DEFAULT_CLASS, AccessMode, BindingMode, ClaimTemplate, PersistentVolume, PodVolume, ReclaimPolicy,
    StorageClass, VolumeSource, VolumeStore,
};
use serde::Deserialize;

/// The storage kinds this loader understands.
pub const STORAGE_KINDS: &[&str] = &["StorageClass", "PersistentVolume", "PersistentVolumeClaim"];

/// The storage objects read from manifests, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StorageManifests {
    /// StorageClasses.
    pub classes: Vec<StorageClass>,
    /// PersistentVolumes.
    pub volumes: Vec<PersistentVolume>,
    /// Claims as `(namespace, template)` (the template's name is the claim's name).
    pub claims: Vec<(String, ClaimTemplate)>,
}

impl StorageManifests {
    /// The store at the start of a run: classes, volumes, then claims (defaulted to the default
    /// class). Duplicate names are errors.
    pub fn store(&self) -> Result<VolumeStore, String> {
        let mut s = VolumeStore::default();
        for c in &self.classes {
            if s.classes.insert(c.name.clone(), c.clone()).is_some() {
                return Err(format!("StorageClass {:?} is defined twice", c.name));
            }
        }
        for v in &self.volumes {
            if s.volumes.insert(v.name.clone(), v.clone()).is_some() {
                return Err(format!("PersistentVolume {:?} is defined twice", v.name));
            }
        }
        for (ns, t) in &self.claims {
            if !s.create_claim(ns, &t.name, t) {
                return Err(format!("PersistentVolumeClaim \"{ns}/{}\" is defined twice", t.name));
            }
        }
        Ok(s)
    }
}

/// `spec.volumes[].persistentVolumeClaim`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClaimSourceManifest {
    /// `claimName`.
    #[serde(default)]
    pub claim_name: String,
    /// `readOnly`.
    #[serde(default)]
    pub read_only: Option<bool>,
}

/// `csi` of a pod volume or a PersistentVolume.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CsiManifest {
    /// `driver`.
    #[serde(default)]
    pub driver: String,
}

/// `spec.volumes[].ephemeral`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EphemeralManifest {
    /// `volumeClaimTemplate`.
    #[serde(default)]
    pub volume_claim_template: Option<ClaimTemplateManifest>,
}

/// One entry of a pod's `spec.volumes` (other sources — emptyDir, configMap, ... — are accepted
/// and listed among the ignored fields).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VolumeManifest {
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `persistentVolumeClaim`.
    #[serde(default)]
    pub persistent_volume_claim: Option<ClaimSourceManifest>,
    /// `ephemeral`.
    #[serde(default)]
    pub ephemeral: Option<EphemeralManifest>,
    /// `csi`.
    #[serde(default)]
    pub csi: Option<CsiManifest>,
}

/// `resources` of a claim.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClaimResourcesManifest {
    /// `requests`.
    #[serde(default)]
    pub requests: ResourceList,
    /// `limits`.
    #[serde(default)]
    pub limits: ResourceList,
}

/// `spec` of a PersistentVolumeClaim.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClaimSpecManifest {
    /// `storageClassName` (unset: the default class; `""`: none).
    #[serde(default)]
    pub storage_class_name: Option<String>,
    /// `accessModes`.
    #[serde(default)]
    pub access_modes: Vec<String>,
    /// `resources`.
    #[serde(default)]
    pub resources: ClaimResourcesManifest,
    /// `volumeName`.
    #[serde(default)]
    pub volume_name: Option<String>,
    /// `volumeMode` (Filesystem or Block; accepted, not modelled).
    #[serde(default)]
    pub volume_mode: Option<String>,
}

/// A claim template (`volumeClaimTemplates[]`, `ephemeral.volumeClaimTemplate`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClaimTemplateManifest {
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: ClaimSpecManifest,
}

/// A PersistentVolumeClaim manifest.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClaimManifest {
    /// `apiVersion`.
    #[serde(default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: ClaimSpecManifest,
}

/// `spec.nodeAffinity` of a PersistentVolume.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VolumeNodeAffinityManifest {
    /// `required`.
    #[serde(default)]
    pub required: Option<NodeSelector>,
}

/// `spec.claimRef` of a PersistentVolume.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRefManifest {
    /// `namespace` (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// `name`.
    #[serde(default)]
    pub name: String,
}

/// `spec` of a PersistentVolume.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSpecManifest {
    /// `capacity`.
    #[serde(default)]
    pub capacity: ResourceList,
    /// `accessModes`.
    #[serde(default)]
    pub access_modes: Vec<String>,
    /// `storageClassName`.
    #[serde(default)]
    pub storage_class_name: Option<String>,
    /// `nodeAffinity`.
    #[serde(default)]
    pub node_affinity: Option<VolumeNodeAffinityManifest>,
    /// `claimRef`.
    #[serde(default)]
    pub claim_ref: Option<ClaimRefManifest>,
    /// `persistentVolumeReclaimPolicy` (default Retain).
    #[serde(default)]
    pub persistent_volume_reclaim_policy: Option<String>,
    /// `csi`.
    #[serde(default)]
    pub csi: Option<CsiManifest>,
    /// `volumeMode` (accepted, not modelled).
    #[serde(default)]
    pub volume_mode: Option<String>,
}

/// A PersistentVolume manifest.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VolumeManifestPv {
    /// `apiVersion`.
    #[serde(default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: VolumeSpecManifest,
}

/// One requirement of a topology term.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TopologyRequirementManifest {
    /// `key`.
    #[serde(default)]
    pub key: String,
    /// `values`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// One term of `allowedTopologies`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TopologyTermManifest {
    /// `matchLabelExpressions`.
    #[serde(default)]
    pub match_label_expressions: Vec<TopologyRequirementManifest>,
}

/// A StorageClass manifest.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StorageClassManifest {
    /// `apiVersion`.
    #[serde(default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `provisioner`.
    #[serde(default)]
    pub provisioner: String,
    /// `volumeBindingMode` (default Immediate).
    #[serde(default)]
    pub volume_binding_mode: Option<String>,
    /// `allowedTopologies`.
    #[serde(default)]
    pub allowed_topologies: Vec<TopologyTermManifest>,
    /// `reclaimPolicy` (default Delete).
    #[serde(default)]
    pub reclaim_policy: Option<String>,
    /// `parameters` (accepted, not modelled).
    #[serde(default)]
    pub parameters: std::collections::BTreeMap<String, String>,
    /// `allowVolumeExpansion` (accepted, not modelled).
    #[serde(default)]
    pub allow_volume_expansion: Option<bool>,
}

fn access_modes(v: &[String], field: &str) -> Result<Vec<AccessMode>, (String, String)> {
    let mut out = Vec::new();
    for (i, s) in v.iter().enumerate() {
        let m = AccessMode::parse(s).map_err(|e| (format!("{field}[{i}]"), e))?;
        if !out.contains(&m) {
            out.push(m);
        }
    }
    if out.is_empty() {
        return Err((field.to_string(), "at least 1 access mode is required".into()));
    }
    if out.contains(&AccessMode::ReadWriteOncePod) && out.len() > 1 {
        return Err((field.to_string(), "may not use ReadWriteOncePod with other access modes".into()));
    }
    Ok(out)
}

fn reclaim_policy(s: Option<&str>, default: ReclaimPolicy, field: &str) -> Result<ReclaimPolicy, String> {
    Ok(match s {
        None => default,
        Some("Retain") => ReclaimPolicy::Retain,
        Some("Delete") => ReclaimPolicy::Delete,
        Some("Recycle") => ReclaimPolicy::Recycle,
        Some(o) => return Err(format!("{field}: {o:?} is not one of Retain, Delete, Recycle")),
    })
}

/// Converts a claim spec into a template named `name`. `spec_path`: the path of the spec, for
/// errors, which are `(field path, message)`.
pub fn claim_template(
    name: &str,
    spec: &ClaimSpecManifest,
    spec_path: &str,
) -> Result<ClaimTemplate, (String, String)> {
    let at = |f: &str| if spec_path.is_empty() { f.to_string() } else { format!("{spec_path}.{f}") };
    if name.is_empty() {
        let meta = match spec_path.strip_suffix("spec") {
            Some(parent) => format!("{parent}metadata.name"),
            None => at("metadata.name"),
        };
        return Err((meta, "a name is required".into()));
    }
    let request_bytes = spec
        .resources
        .requests
        .get("storage")
        .or_else(|| spec.resources.limits.get("storage"))
        .ok_or_else(|| (at("resources.requests.storage"), "a storage request is required".to_string()))?;
    if request_bytes <= 0 {
        return Err((at("resources.requests.storage"), "must be greater than zero".into()));
    }
    Ok(ClaimTemplate {
        name: name.to_string(),
        storage_class: spec.storage_class_name.clone(),
        request_bytes,
        access_modes: access_modes(&spec.access_modes, &at("accessModes"))?,
        volume_name: spec.volume_name.clone().filter(|v| !v.is_empty()),
    })
}

/// Converts a pod's `spec.volumes`.
pub fn pod_volumes(v: &[VolumeManifest]) -> Result<Vec<PodVolume>, String> {
    let mut out: Vec<PodVolume> = Vec::new();
    for (i, m) in v.iter().enumerate() {
        let field = format!("spec.volumes[{i}]");
        if m.name.is_empty() {
            return Err(format!("{field}.name: a volume needs a name"));
        }
        if out.iter().any(|x| x.name == m.name) {
            return Err(format!("{field}.name: volume {:?} is listed twice", m.name));
        }
        let source = match (&m.persistent_volume_claim, &m.ephemeral, &m.csi) {
            (Some(c), None, None) => {
                if c.claim_name.is_empty() {
                    return Err(format!("{field}.persistentVolumeClaim.claimName: a claim name is required"));
                }
                VolumeSource::Claim(c.claim_name.clone())
            }
            (None, Some(e), None) => {
                let t = e
                    .volume_claim_template
                    .as_ref()
                    .ok_or_else(|| format!("{field}.ephemeral.volumeClaimTemplate: required"))?;
                let path = format!("{field}.ephemeral.volumeClaimTemplate.spec");
                VolumeSource::Ephemeral(claim_template(&m.name, &t.spec, &path).map_err(|(f, e)| format!("{f}: {e}"))?)
            }
            (None, None, Some(c)) => VolumeSource::Csi(c.driver.clone()),
            (None, None, None) => VolumeSource::Other,
            _ => return Err(format!("{field}: may not specify more than 1 volume type")),
        };
        out.push(PodVolume { name: m.name.clone(), source });
    }
    Ok(out)
}

fn err(file: &str, line: u64, col: u64, field: &str, kind: &str, name: &str, m: impl std::fmt::Display) -> InputError {
    InputError::at(file, line, col, field, format!("{kind} {name:?}: {m}"))
}

/// Parses one storage document (`kind` one of [`STORAGE_KINDS`]) into `set`.
pub fn add_document(
    set: &mut ManifestSet,
    doc: &Document<'_>,
    file: &str,
    kind: &str,
    (line, col): (u64, u64),
) -> Result<(), InputError> {
    match kind {
        "StorageClass" => {
            let p = parse_document::<StorageClassManifest>(doc, file)?;
            set.ignored.extend(p.ignored.iter().map(|f| format!("StorageClass: {f}")));
            let m = p.value;
            let name = m.metadata.name.clone();
            let e = |field: &str, msg: String| err(file, line, col, field, "StorageClass", &name, msg);
            if name.is_empty() {
                return Err(e("metadata.name", "a name is required".into()));
            }
            if m.provisioner.is_empty() {
                return Err(e("provisioner", "a provisioner is required".into()));
            }
            let binding_mode = match m.volume_binding_mode.as_deref() {
                None | Some("Immediate") => BindingMode::Immediate,
                Some("WaitForFirstConsumer") => BindingMode::WaitForFirstConsumer,
                Some(o) => {
                    return Err(e("volumeBindingMode", format!("{o:?} is not one of Immediate, WaitForFirstConsumer")));
                }
            };
            let reclaim = reclaim_policy(m.reclaim_policy.as_deref(), ReclaimPolicy::Delete, "reclaimPolicy")
                .map_err(|x| e("reclaimPolicy", x))?;
            let allowed_topologies = m
                .allowed_topologies
                .iter()
                .map(|t| t.match_label_expressions.iter().map(|r| (r.key.clone(), r.values.clone())).collect())
                .collect();
            let is_default = m.metadata.annotations.get(ANNOTATION_DEFAULT_CLASS).is_some_and(|v| v == "true");
            set.storage.classes.push(StorageClass {
                name,
                provisioner: m.provisioner,
                binding_mode,
                allowed_topologies,
                is_default,
                reclaim_policy: reclaim,
            });
        }
        "PersistentVolume" => {
            let p = parse_document::<VolumeManifestPv>(doc, file)?;
            set.ignored.extend(p.ignored.iter().map(|f| format!("PersistentVolume: {f}")));
            let m = p.value;
            let name = m.metadata.name.clone();
            let e = |field: &str, msg: String| err(file, line, col, field, "PersistentVolume", &name, msg);
            if name.is_empty() {
                return Err(e("metadata.name", "a name is required".into()));
            }
            let capacity_bytes = m
                .spec
                .capacity
                .get("storage")
                .ok_or_else(|| e("spec.capacity.storage", "a storage capacity is required".into()))?;
            let modes = access_modes(&m.spec.access_modes, "spec.accessModes").map_err(|(f, x)| e(&f, x))?;
            let node_affinity = m.spec.node_affinity.as_ref().and_then(|a| a.required.clone());
            if let Some(s) = &node_affinity {
                s.validate().map_err(|x| e("spec.nodeAffinity.required", x.to_string()))?;
            }
            let reclaim = reclaim_policy(
                m.spec.persistent_volume_reclaim_policy.as_deref(),
                ReclaimPolicy::Retain,
                "spec.persistentVolumeReclaimPolicy",
            )
            .map_err(|x| e("spec.persistentVolumeReclaimPolicy", x))?;
            set.storage.volumes.push(PersistentVolume {
                name: name.clone(),
                labels: m.metadata.labels.clone(),
                capacity_bytes,
                access_modes: modes,
                storage_class: m.spec.storage_class_name.clone().unwrap_or_default(),
                node_affinity,
                claim_ref: m.spec.claim_ref.as_ref().map(|c| {
                    (c.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into()), c.name.clone())
                }),
                reclaim_policy: reclaim,
                csi_driver: m.spec.csi.as_ref().map(|c| c.driver.clone()).filter(|d| !d.is_empty()),
                provisioned: false,
            });
        }
        _ => {
            let mut p = parse_document::<ClaimManifest>(doc, file)?;
            set.generate_name(&mut p.value.metadata);
            set.ignored.extend(p.ignored.iter().map(|f| format!("PersistentVolumeClaim: {f}")));
            let m = p.value;
            let name = m.metadata.name.clone();
            let ns = m.metadata.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into());
            let t = claim_template(&name, &m.spec, "spec")
                .map_err(|(f, x)| err(file, line, col, &f, "PersistentVolumeClaim", &name, x))?;
            set.storage.claims.push((ns, t));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<ManifestSet, InputError> {
        let mut set = ManifestSet::default();
        set.add_text(text, "m.yaml")?;
        Ok(set)
    }

    const ALL: &str = "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: zonal
  annotations: {storageclass.kubernetes.io/is-default-class: \"true\"}
provisioner: pd.csi.storage.gke.io
volumeBindingMode: WaitForFirstConsumer
allowedTopologies:
- matchLabelExpressions:
  - {key: topology.kubernetes.io/zone, values: [zone-a, zone-b]}
parameters: {type: pd-ssd}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-1, labels: {topology.kubernetes.io/zone: zone-a}}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: zonal
  csi: {driver: pd.csi.storage.gke.io, volumeHandle: h1}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [zone-a]}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: db}
spec:
  accessModes: [ReadWriteOncePod]
  resources: {requests: {storage: 5Gi}}
";

    #[test]
    fn the_three_storage_kinds_load_with_defaults_and_ignored_fields_listed() {
        let set = load(ALL).unwrap();
        let s = set.storage.store().unwrap();
        let c = &s.classes["zonal"];
        assert!(c.is_default && c.binding_mode == BindingMode::WaitForFirstConsumer);
        assert_eq!(c.reclaim_policy, ReclaimPolicy::Delete);
        assert_eq!(c.allowed_zones(), vec!["zone-a", "zone-b"]);
        let v = &s.volumes["pv-1"];
        assert_eq!(v.capacity_bytes, 10 << 30);
        assert_eq!(v.csi_driver.as_deref(), Some("pd.csi.storage.gke.io"));
        assert_eq!(v.reclaim_policy, ReclaimPolicy::Retain);
        let claim = s.claim("db", "data").unwrap();
        assert_eq!(claim.storage_class, "zonal", "the default class is assigned at creation");
        assert_eq!(claim.access_modes, vec![AccessMode::ReadWriteOncePod]);
        assert!(set.ignored.iter().any(|f| f.starts_with("PersistentVolume: spec.csi") && f.ends_with("volumeHandle")));
    }

    #[test]
    fn malformed_storage_objects_name_the_field() {
        let cases = [
            ("kind: StorageClass\nmetadata: {name: x}\n", "provisioner"),
            (
                "kind: StorageClass\nmetadata: {name: x}\nprovisioner: p\nvolumeBindingMode: Later\n",
                "volumeBindingMode",
            ),
            (
                "kind: PersistentVolume\nmetadata: {name: x}\nspec: {accessModes: [ReadWriteOnce]}\n",
                "spec.capacity.storage",
            ),
            (
                "kind: PersistentVolume\nmetadata: {name: x}\nspec: {capacity: {storage: 1Gi}, accessModes: [Sometimes]}\n",
                "spec.accessModes[0]",
            ),
            (
                "kind: PersistentVolumeClaim\nmetadata: {name: x}\nspec: {accessModes: [ReadWriteOnce]}\n",
                "spec.resources.requests.storage",
            ),
            (
                "kind: PersistentVolumeClaim\nmetadata: {name: x}\nspec: {resources: {requests: {storage: 1}}}\n",
                "spec.accessModes",
            ),
        ];
        for (text, field) in cases {
            let e = load(text).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{text}: {e}");
            assert_eq!(e.line, Some(1), "{text}");
        }
    }

    #[test]
    fn pod_volumes_tell_claims_ephemeral_and_csi_apart() {
        let vols = vec![
            VolumeManifest {
                name: "a".into(),
                persistent_volume_claim: Some(ClaimSourceManifest { claim_name: "data".into(), read_only: None }),
                ..Default::default()
            },
            VolumeManifest { name: "tmp".into(), ..Default::default() },
            VolumeManifest { name: "c".into(), csi: Some(CsiManifest { driver: "d".into() }), ..Default::default() },
        ];
        let v = pod_volumes(&vols).unwrap();
        assert_eq!(v[0].source, VolumeSource::Claim("data".into()));
        assert_eq!(v[1].source, VolumeSource::Other);
        assert_eq!(v[2].source, VolumeSource::Csi("d".into()));
        let dup = vec![vols[1].clone(), vols[1].clone()];
        assert!(pod_volumes(&dup).unwrap_err().contains("listed twice"));
    }
}
