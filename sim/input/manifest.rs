//! Kubernetes manifests: the YAML shapes of Node, Pod and PriorityClass, and their conversion
//! into the simulator's model.
//!
//! Real manifests load as they are: fields the simulator does not model (probes, volume mounts,
//! `status` of a Pod, ...) are accepted, collected, and reported once per run. Defaults are
//! applied as the API server would: requests default to limits, the namespace to `default`,
//! priority from the PriorityClass, and the DefaultTolerationSeconds admission plugin's
//! `not-ready` / `unreachable` NoExecute tolerations (300 s).

use crate::input::error::InputError;
use crate::input::go_duration::GoDuration;
use crate::input::go_duration::parse_duration_micros;
use crate::input::yaml::{Document, parse_document, split_documents};
use crate::model::affinity::{Affinity, TopologySpreadConstraint};
use crate::model::dist::DurationDist;
use crate::model::node::{LABEL_HOSTNAME, Node, NodeImage, TAINT_NOT_READY, TAINT_UNREACHABLE};
use crate::model::pod::{Container, HostPort, OwnerRef, Pod, PreemptionPolicy, RestartPolicy, RunModel};
use crate::model::resources::{PODS, ResourceList};
use crate::model::selector::Labels;
use crate::model::taint::{Taint, TaintEffect, Toleration, TolerationOperator, tolerations_tolerate_taint};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Annotation giving a pod's run duration in the simulation (a Go duration).
pub const ANNOTATION_RUN_DURATION: &str = "kubesim.io/run-duration";
/// Annotation giving a pod's start-up latency in the simulation (a Go duration).
pub const ANNOTATION_STARTUP_LATENCY: &str = "kubesim.io/startup-latency";
/// Pod annotation: probability in `[0, 1]` that a container run crashes (kubelet model).
pub const ANNOTATION_FAILURE_PROBABILITY: &str = "kubesim.io/failure-probability";
/// Annotation giving a pod's readiness delay (Running to Ready) in the simulation (a Go duration).
pub const ANNOTATION_READINESS_DELAY: &str = "kubesim.io/readiness-delay";
/// Seconds of the tolerations DefaultTolerationSeconds adds.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;
/// Pods a node may hold when its manifest lists no `pods` capacity (the kubelet default).
pub const DEFAULT_MAX_PODS: i64 = 110;
/// Priority of the built-in `system-cluster-critical` class.
pub const SYSTEM_CLUSTER_CRITICAL: i32 = 2_000_000_000;
/// Priority of the built-in `system-node-critical` class.
pub const SYSTEM_NODE_CRITICAL: i32 = 2_000_001_000;
/// The largest priority a user-defined PriorityClass may have.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;

/// `apiVersion` and `kind`, read first to dispatch a document.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeMeta {
    /// `apiVersion`.
    #[serde(default)]
    pub api_version: String,
    /// `kind`, with its position.
    #[serde(default)]
    pub kind: Option<serde_saphyr::Spanned<String>>,
}

/// `metav1.OwnerReference` (the fields the simulator reads).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// Kind of the owner.
    pub kind: String,
    /// Name of the owner.
    pub name: String,
    /// True for the managing controller.
    #[serde(default)]
    pub controller: Option<bool>,
}

/// `metav1.ObjectMeta` (the fields the simulator reads).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `generateName`: with no `name`, the object is named this prefix plus a counter.
    #[serde(default)]
    pub generate_name: String,
    /// `namespace`.
    #[serde(default)]
    pub namespace: Option<String>,
    /// `labels`.
    #[serde(default)]
    pub labels: Labels,
    /// `annotations`.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// `ownerReferences`.
    #[serde(default)]
    pub owner_references: Vec<OwnerReference>,
}

/// `resources` of a container.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRequirements {
    /// `requests`.
    #[serde(default)]
    pub requests: ResourceList,
    /// `limits`.
    #[serde(default)]
    pub limits: ResourceList,
}

/// A container port.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPortManifest {
    /// `containerPort`.
    #[serde(default)]
    pub container_port: i32,
    /// `hostPort` (0: none).
    #[serde(default)]
    pub host_port: i32,
    /// `protocol` (TCP).
    #[serde(default)]
    pub protocol: Option<String>,
    /// `hostIP`.
    #[serde(default, rename = "hostIP")]
    pub host_ip: Option<String>,
}

/// A container.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerManifest {
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `image`.
    #[serde(default)]
    pub image: String,
    /// `resources`.
    #[serde(default)]
    pub resources: ResourceRequirements,
    /// `ports`.
    #[serde(default)]
    pub ports: Vec<ContainerPortManifest>,
    /// `restartPolicy` (init containers: `Always` makes a sidecar).
    #[serde(default)]
    pub restart_policy: Option<String>,
}

/// `spec` of a Pod.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodSpecManifest {
    /// `containers`.
    #[serde(default)]
    pub containers: Vec<ContainerManifest>,
    /// `initContainers`.
    #[serde(default)]
    pub init_containers: Vec<ContainerManifest>,
    /// `overhead`.
    #[serde(default)]
    pub overhead: ResourceList,
    /// `nodeSelector`.
    #[serde(default)]
    pub node_selector: Labels,
    /// `tolerations`.
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
    /// `affinity`.
    #[serde(default)]
    pub affinity: Option<Affinity>,
    /// `topologySpreadConstraints`.
    #[serde(default)]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    /// `nodeName`.
    #[serde(default)]
    pub node_name: Option<String>,
    /// `schedulerName`.
    #[serde(default)]
    pub scheduler_name: Option<String>,
    /// `priority`.
    #[serde(default)]
    pub priority: Option<i32>,
    /// `priorityClassName`.
    #[serde(default)]
    pub priority_class_name: Option<String>,
    /// `preemptionPolicy`.
    #[serde(default)]
    pub preemption_policy: Option<String>,
    /// `restartPolicy`.
    #[serde(default)]
    pub restart_policy: Option<String>,
    /// `terminationGracePeriodSeconds`.
    #[serde(default)]
    pub termination_grace_period_seconds: Option<i64>,
    /// `volumes`.
    #[serde(default)]
    pub volumes: Vec<crate::input::volumes::VolumeManifest>,
}

/// A Pod manifest.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodManifest {
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
    pub spec: PodSpecManifest,
}

/// `spec` of a Node.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeSpecManifest {
    /// `unschedulable`.
    #[serde(default)]
    pub unschedulable: bool,
    /// `taints`.
    #[serde(default)]
    pub taints: Vec<Taint>,
}

/// A node image in `status.images`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerImageManifest {
    /// `names`.
    #[serde(default)]
    pub names: Vec<String>,
    /// `sizeBytes`.
    #[serde(default)]
    pub size_bytes: i64,
}

/// A node condition.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct NodeConditionManifest {
    /// `type`.
    #[serde(rename = "type", default)]
    pub type_: String,
    /// `status`: True, False or Unknown.
    #[serde(default)]
    pub status: String,
}

/// `status` of a Node.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatusManifest {
    /// `capacity`.
    #[serde(default)]
    pub capacity: ResourceList,
    /// `allocatable`.
    #[serde(default)]
    pub allocatable: ResourceList,
    /// `images`.
    #[serde(default)]
    pub images: Vec<ContainerImageManifest>,
    /// `conditions`.
    #[serde(default)]
    pub conditions: Vec<NodeConditionManifest>,
}

/// A Node manifest.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeManifest {
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
    pub spec: NodeSpecManifest,
    /// `status`.
    #[serde(default)]
    pub status: NodeStatusManifest,
}

/// A PriorityClass manifest.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PriorityClassManifest {
    /// `apiVersion`.
    #[serde(default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `description`.
    #[serde(default)]
    pub description: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `value`.
    pub value: i32,
    /// `globalDefault`.
    #[serde(default)]
    pub global_default: bool,
    /// `preemptionPolicy`.
    #[serde(default)]
    pub preemption_policy: Option<String>,
}

/// Everything a set of manifest files held.
#[derive(Debug, Clone, Default)]
pub struct ManifestSet {
    /// Nodes, in file order.
    pub nodes: Vec<Node>,
    /// Pods, in file order (with the file and line they came from, for later errors).
    pub pods: Vec<(PodManifest, String)>,
    /// PriorityClasses by name.
    pub priority_classes: BTreeMap<String, PriorityClassManifest>,
    /// Namespaces with their labels (`kubernetes.io/metadata.name` added as the API server does).
    pub namespaces: BTreeMap<String, Labels>,
    /// Objects named from `generateName` so far (the suffix counter, deterministic).
    pub generated_names: u64,
    /// `Kind: field.path` of every field present but not modelled.
    pub ignored: BTreeSet<String>,
    /// PodDisruptionBudgets, in file order.
    pub pdbs: Vec<crate::controllers::disruption::Pdb>,
    /// Workload objects (Deployment, ReplicaSet, Job, CronJob, DaemonSet, StatefulSet), parsed
    /// and converted later by [`crate::input::workloads::convert`].
    pub workloads: Vec<crate::input::workloads::PendingWorkload>,
    /// HorizontalPodAutoscalers, in file order.
    pub hpas: Vec<crate::controllers::hpa::Hpa>,
    /// Services (v1), in file order.
    pub services: Vec<crate::services::Service>,
    /// StorageClasses, PersistentVolumes and PersistentVolumeClaims, in file order.
    pub storage: crate::input::volumes::StorageManifests,
    /// ResourceQuotas and LimitRanges (see [`crate::admission`]).
    pub admission: crate::admission::AdmissionObjects,
}

/// The kinds this loader understands.
pub const SUPPORTED_KINDS: &[&str] = &[
    "Node",
    "Pod",
    "PriorityClass",
    "Namespace",
    "Deployment",
    "ReplicaSet",
    "Job",
    "CronJob",
    "DaemonSet",
    "StatefulSet",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "Service",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ResourceQuota",
    "LimitRange",
    "SwarmService",
];

/// A Namespace manifest.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceManifest {
    /// `apiVersion`.
    #[serde(default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
}

fn where_(file: &str, doc: &Document<'_>) -> String {
    format!("{file}:{}", doc.line_offset + 1)
}

impl ManifestSet {
    /// Parses every document of `text` (from `file`) into this set.
    pub fn add_text(&mut self, text: &str, file: &str) -> Result<(), InputError> {
        for doc in split_documents(text) {
            let head: TypeMeta = parse_document::<TypeMeta>(&doc, file)?.value;
            let (kind, kind_line, kind_col) = match &head.kind {
                Some(k) => (k.value.as_str(), k.referenced.line() + doc.line_offset, k.referenced.column()),
                None => ("", doc.line_offset + 1, 1),
            };
            match kind {
                "Node" => {
                    let mut p = parse_document::<NodeManifest>(&doc, file)?;
                    self.generate_name(&mut p.value.metadata);
                    self.note_ignored("Node", &p.ignored);
                    let node = node_from_manifest(&p.value).map_err(|m| {
                        InputError::at(
                            file,
                            doc.line_offset + 1,
                            1,
                            "",
                            format!("Node {:?}: {m}", p.value.metadata.name),
                        )
                    })?;
                    self.nodes.push(node);
                }
                "Pod" => {
                    let mut p = parse_document::<PodManifest>(&doc, file)?;
                    self.generate_name(&mut p.value.metadata);
                    self.note_ignored("Pod", &p.ignored);
                    self.pods.push((p.value, where_(file, &doc)));
                }
                "PriorityClass" => {
                    let p = parse_document::<PriorityClassManifest>(&doc, file)?;
                    self.note_ignored("PriorityClass", &p.ignored);
                    let name = p.value.metadata.name.clone();
                    if name.is_empty() {
                        return Err(InputError::at(
                            file,
                            doc.line_offset + 1,
                            1,
                            "metadata.name",
                            "a PriorityClass needs a name",
                        ));
                    }
                    self.priority_classes.insert(name, p.value);
                }
                "Namespace" => {
                    let p = parse_document::<NamespaceManifest>(&doc, file)?;
                    self.note_ignored("Namespace", &p.ignored);
                    let name = p.value.metadata.name.clone();
                    if name.is_empty() {
                        return Err(InputError::at(
                            file,
                            kind_line,
                            kind_col,
                            "metadata.name",
                            "a Namespace needs a name",
                        ));
                    }
                    let mut labels = p.value.metadata.labels.clone();
                    labels.insert("kubernetes.io/metadata.name".into(), name.clone());
                    self.namespaces.insert(name, labels);
                }
                "PodDisruptionBudget" => {
                    let mut p = parse_document::<crate::controllers::disruption::PdbManifest>(&doc, file)?;
                    self.generate_name(&mut p.value.metadata);
                    self.note_ignored("PodDisruptionBudget", &p.ignored);
                    let pdb = crate::controllers::disruption::pdb_from_manifest(&p.value).map_err(|m| {
                        InputError::at(file, kind_line, kind_col, "", format!("PodDisruptionBudget: {m}"))
                    })?;
                    self.pdbs.push(pdb);
                }
                "HorizontalPodAutoscaler" => crate::input::hpa::add_document(self, &doc, file)?,
                "Service" => crate::input::services::add_document(self, &doc, file)?,
                k if crate::input::volumes::STORAGE_KINDS.contains(&k) => {
                    crate::input::volumes::add_document(self, &doc, file, k, (kind_line, kind_col))?;
                }
                "ResourceQuota" | "LimitRange" => crate::admission::add_document(self, &doc, file, kind)?,
                crate::input::swarm_service::KIND => crate::input::swarm_service::add_document(self, &doc, file)?,
                k if crate::input::workloads::WORKLOAD_KINDS.contains(&k) => {
                    crate::input::workloads::add_document(self, &doc, file)?;
                }
                "" => {
                    return Err(InputError::at(file, kind_line, kind_col, "kind", "the document has no `kind`"));
                }
                other => {
                    return Err(InputError::at(
                        file,
                        kind_line,
                        kind_col,
                        "kind",
                        format!("kind {other:?} is not supported here (supported: {})", SUPPORTED_KINDS.join(", ")),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Names an object from its `generateName` (prefix + a five-digit counter), as the API server
    /// would with a random suffix.
    pub fn generate_name(&mut self, meta: &mut ObjectMeta) {
        if meta.name.is_empty() && !meta.generate_name.is_empty() {
            self.generated_names += 1;
            meta.name = format!("{}{:05}", meta.generate_name, self.generated_names);
        }
    }

    fn note_ignored(&mut self, kind: &str, fields: &BTreeSet<String>) {
        for f in fields {
            self.ignored.insert(format!("{kind}: {f}"));
        }
    }

    /// Resolves the priority of a pod from its class, as the Priority admission plugin does.
    pub fn resolve_priority(&self, spec: &PodSpecManifest) -> Result<(i32, Option<PreemptionPolicy>), String> {
        if let Some(p) = spec.priority {
            return Ok((p, None));
        }
        match spec.priority_class_name.as_deref() {
            Some("system-cluster-critical") => Ok((SYSTEM_CLUSTER_CRITICAL, None)),
            Some("system-node-critical") => Ok((SYSTEM_NODE_CRITICAL, None)),
            Some(name) if !name.is_empty() => match self.priority_classes.get(name) {
                Some(pc) => Ok((pc.value, parse_preemption_policy(pc.preemption_policy.as_deref())?)),
                None => Err(format!("priorityClassName {name:?} names no PriorityClass")),
            },
            _ => {
                // globalDefault: the smallest value among classes that set it.
                let default = self.priority_classes.values().filter(|pc| pc.global_default).map(|pc| pc.value).min();
                Ok((default.unwrap_or(0), None))
            }
        }
    }
}

fn parse_preemption_policy(s: Option<&str>) -> Result<Option<PreemptionPolicy>, String> {
    match s {
        None => Ok(None),
        Some("PreemptLowerPriority") => Ok(Some(PreemptionPolicy::PreemptLowerPriority)),
        Some("Never") => Ok(Some(PreemptionPolicy::Never)),
        Some(other) => Err(format!("preemptionPolicy {other:?} is not one of PreemptLowerPriority, Never")),
    }
}

/// Converts a Node manifest: allocatable falls back to capacity per resource, `pods` to 110,
/// and the hostname label is added when missing (the kubelet sets it).
pub fn node_from_manifest(m: &NodeManifest) -> Result<Node, String> {
    if m.metadata.name.is_empty() {
        return Err("metadata.name is required".into());
    }
    let mut alloc = m.status.capacity.clone();
    for (k, v) in &m.status.allocatable.0 {
        alloc.0.insert(k.clone(), *v);
    }
    if alloc.get(PODS).is_none() {
        alloc.0.insert(PODS.to_string(), DEFAULT_MAX_PODS);
    }
    let mut labels = m.metadata.labels.clone();
    labels.entry(LABEL_HOSTNAME.to_string()).or_insert_with(|| m.metadata.name.clone());
    Ok(Node {
        name: m.metadata.name.clone(),
        labels,
        taints: m.spec.taints.clone(),
        allocatable: alloc.to_resources(),
        images: m
            .status
            .images
            .iter()
            .map(|i| NodeImage { names: i.names.clone(), size_bytes: i.size_bytes })
            .collect(),
        unschedulable: m.spec.unschedulable,
    })
}

/// True when the manifest's Ready condition says False or Unknown.
pub fn node_manifest_not_ready(m: &NodeManifest) -> bool {
    m.status.conditions.iter().any(|c| c.type_ == "Ready" && c.status != "True")
}

fn convert_container(c: &ContainerManifest, init: bool, idx: usize) -> Result<Container, String> {
    let mut requests = c.resources.requests.clone();
    for (k, v) in &c.resources.limits.0 {
        requests.0.entry(k.clone()).or_insert(*v);
    }
    let mut host_ports = Vec::new();
    for p in &c.ports {
        if p.host_port < 0 || p.host_port > 65535 {
            return Err(format!("container {idx}: hostPort {} is outside 0..65535", p.host_port));
        }
        if p.host_port > 0 {
            host_ports.push(HostPort {
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                host_ip: p.host_ip.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "0.0.0.0".into()),
                port: p.host_port,
            });
        }
    }
    let sidecar = match c.restart_policy.as_deref() {
        None => false,
        Some("Always") if init => true,
        Some(other) => {
            return Err(format!(
                "container {idx}: restartPolicy {other:?} is only allowed as Always on an init container"
            ));
        }
    };
    Ok(Container {
        name: c.name.clone(),
        image: c.image.clone(),
        requests,
        limits: c.resources.limits.clone(),
        host_ports,
        sidecar,
    })
}

fn run_model_from_annotations(ann: &BTreeMap<String, String>) -> Result<RunModel, String> {
    let get = |key: &str| -> Result<Option<DurationDist>, String> {
        match ann.get(key) {
            None => Ok(None),
            Some(v) => parse_duration_micros(v)
                .map(|us| Some(DurationDist::Constant(GoDuration(us))))
                .map_err(|e| format!("annotation {key}: {e}")),
        }
    };
    let failure_probability = match ann.get(ANNOTATION_FAILURE_PROBABILITY) {
        None => None,
        Some(v) => match v.trim().parse::<f64>() {
            Ok(p) if (0.0..=1.0).contains(&p) => Some(p),
            _ => {
                return Err(format!(
                    "annotation {ANNOTATION_FAILURE_PROBABILITY}: expected a number in [0, 1], got {v:?}"
                ));
            }
        },
    };
    Ok(RunModel {
        startup_latency: get(ANNOTATION_STARTUP_LATENCY)?,
        run_duration: get(ANNOTATION_RUN_DURATION)?,
        failure_probability,
        readiness_delay: get(ANNOTATION_READINESS_DELAY)?,
    })
}

/// Adds the tolerations of the DefaultTolerationSeconds admission plugin when the pod has none
/// tolerating the `not-ready` / `unreachable` NoExecute taints.
pub fn add_default_tolerations(tolerations: &mut Vec<Toleration>) {
    for key in [TAINT_NOT_READY, TAINT_UNREACHABLE] {
        let taint = Taint { key: key.into(), value: String::new(), effect: TaintEffect::NoExecute, time_added: None };
        if !tolerations_tolerate_taint(tolerations, &taint) {
            tolerations.push(Toleration {
                key: key.into(),
                operator: TolerationOperator::Exists,
                value: String::new(),
                effect: Some(TaintEffect::NoExecute),
                toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
            });
        }
    }
}

/// Converts a Pod manifest into the model, with API-server defaults and admission applied.
pub fn pod_from_manifest(m: &PodManifest, set: &ManifestSet) -> Result<Pod, String> {
    if m.metadata.name.is_empty() {
        return Err("metadata.name is required".into());
    }
    if m.spec.containers.is_empty() {
        return Err("spec.containers: a pod needs at least one container".into());
    }
    let containers = m
        .spec
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| convert_container(c, false, i))
        .collect::<Result<Vec<_>, _>>()?;
    let init_containers = m
        .spec
        .init_containers
        .iter()
        .enumerate()
        .map(|(i, c)| convert_container(c, true, i))
        .collect::<Result<Vec<_>, _>>()?;
    let (priority, class_policy) = set.resolve_priority(&m.spec)?;
    let preemption_policy =
        parse_preemption_policy(m.spec.preemption_policy.as_deref())?.or(class_policy).unwrap_or_default();
    let restart_policy = match m.spec.restart_policy.as_deref() {
        None | Some("Always") => RestartPolicy::Always,
        Some("OnFailure") => RestartPolicy::OnFailure,
        Some("Never") => RestartPolicy::Never,
        Some(other) => return Err(format!("spec.restartPolicy {other:?} is not one of Always, OnFailure, Never")),
    };
    for t in &m.spec.tolerations {
        t.validate().map_err(|e| format!("spec.tolerations: {e}"))?;
    }
    let mut tolerations = m.spec.tolerations.clone();
    add_default_tolerations(&mut tolerations);
    let affinity = m.spec.affinity.clone().unwrap_or_default();
    affinity.validate().map_err(|e| format!("spec.affinity: {e}"))?;
    for (i, c) in m.spec.topology_spread_constraints.iter().enumerate() {
        c.validate().map_err(|e| format!("spec.topologySpreadConstraints[{i}]: {e}"))?;
    }
    let owner = m
        .metadata
        .owner_references
        .iter()
        .find(|o| o.controller == Some(true))
        .or_else(|| m.metadata.owner_references.first())
        .map(|o| OwnerRef { kind: o.kind.clone(), name: o.name.clone(), uid: 0 });
    let mut pod = Pod {
        name: m.metadata.name.clone(),
        namespace: m.metadata.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into()),
        labels: m.metadata.labels.clone(),
        annotations: m.metadata.annotations.clone(),
        owner,
        priority,
        priority_class_name: m.spec.priority_class_name.clone(),
        preemption_policy,
        scheduler_name: m
            .spec
            .scheduler_name
            .clone()
            .unwrap_or_else(|| crate::model::pod::DEFAULT_SCHEDULER_NAME.into()),
        containers,
        init_containers,
        overhead: m.spec.overhead.to_resources(),
        node_selector: m.spec.node_selector.clone(),
        tolerations,
        affinity,
        topology_spread_constraints: m.spec.topology_spread_constraints.clone(),
        node_name: m.spec.node_name.clone().filter(|n| !n.is_empty()),
        restart_policy,
        termination_grace_period_seconds: match m.spec.termination_grace_period_seconds {
            Some(s) if s < 0 => {
                return Err(format!("spec.terminationGracePeriodSeconds must not be negative, got {s}"));
            }
            Some(s) => s,
            None => 30,
        },
        run: {
            crate::scheduler::policies::swarm::validate_annotations(&m.metadata.annotations)?;
            crate::scheduler::policies::marathon::validate_annotations(&m.metadata.annotations)?;
            run_model_from_annotations(&m.metadata.annotations)?
        },
        requests: Default::default(),
        non_zero_cpu_millis: 0,
        non_zero_memory_bytes: 0,
        host_ports: vec![],
        volumes: crate::input::volumes::pod_volumes(&m.spec.volumes)?,
    };
    pod.finalize();
    Ok(pod)
}

/// Loads manifest files into one set.
pub fn load_files(paths: &[(std::path::PathBuf, String)]) -> Result<ManifestSet, InputError> {
    let mut set = ManifestSet::default();
    for (path, shown) in paths {
        let text = crate::input::yaml::read_file(path, shown)?;
        set.add_text(&text, shown)?;
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels: {topology.kubernetes.io/zone: a}
  resourceVersion: "123"
spec:
  taints: [{key: gpu, value: "true", effect: NoSchedule}]
status:
  capacity: {cpu: "4", memory: 16Gi, pods: "110"}
  allocatable: {cpu: 3900m}
  images: [{names: [nginx], sizeBytes: 1000}]
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1}
spec:
  containers:
  - name: c
    image: nginx
    resources: {limits: {cpu: 500m, memory: 1Gi}}
    livenessProbe: {httpGet: {path: /}}
"#;

    #[test]
    fn a_real_node_and_pod_load_with_defaults_and_ignored_fields_listed() {
        let mut set = ManifestSet::default();
        set.add_text(NODE, "m.yaml").unwrap();
        let node = &set.nodes[0];
        assert_eq!(node.allocatable.cpu_millis, 3900, "allocatable overrides capacity");
        assert_eq!(node.allocatable.memory_bytes, 16 << 30, "capacity fills what allocatable lacks");
        assert_eq!(node.labels.get(LABEL_HOSTNAME).map(String::as_str), Some("node-1"));
        let pod = pod_from_manifest(&set.pods[0].0, &set).unwrap();
        assert_eq!(pod.requests.cpu_millis, 500, "requests default to limits");
        assert_eq!(pod.namespace, "default");
        assert_eq!(pod.tolerations.len(), 2, "default not-ready/unreachable tolerations");
        assert!(set.ignored.contains("Pod: spec.containers[].livenessProbe"), "{:?}", set.ignored);
        assert!(set.ignored.contains("Node: metadata.resourceVersion"), "{:?}", set.ignored);
    }

    #[test]
    fn priority_comes_from_the_class_or_the_global_default() {
        let mut set = ManifestSet::default();
        set.add_text(
            "kind: PriorityClass\nmetadata: {name: high}\nvalue: 1000\n---\nkind: PriorityClass\nmetadata: {name: low}\nvalue: 5\nglobalDefault: true\n",
            "pc.yaml",
        )
        .unwrap();
        let spec = PodSpecManifest { priority_class_name: Some("high".into()), ..Default::default() };
        assert_eq!(set.resolve_priority(&spec).unwrap().0, 1000);
        assert_eq!(set.resolve_priority(&PodSpecManifest::default()).unwrap().0, 5);
        let bad = PodSpecManifest { priority_class_name: Some("nope".into()), ..Default::default() };
        assert!(set.resolve_priority(&bad).unwrap_err().contains("names no PriorityClass"));
    }

    #[test]
    fn unsupported_kinds_and_bad_quantities_name_the_line() {
        let mut set = ManifestSet::default();
        let e = set.add_text("kind: Node\nmetadata: {name: a}\n---\nkind: Frobnicator\n", "x.yaml").unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("\"Frobnicator\" is not supported"), "{e}");
        let e =
            set.add_text("kind: Node\nmetadata: {name: a}\nstatus:\n  capacity: {cpu: 2gi}\n", "y.yaml").unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.to_string().contains("status.capacity"), "{e}");
    }
}
