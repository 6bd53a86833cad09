//! The scenario file (`apiVersion: kubesim/v1`, `kind: Scenario`): its YAML schema, `--set`
//! overrides, and its compilation into a [`Scenario`] ready to run.
//!
//! Unknown fields in the scenario's own structure are errors; Kubernetes manifests embedded in it
//! (pod templates, inline nodes) accept and list fields the simulator does not model. Paths are
//! relative to the scenario file.

use crate::engine::time::{SimDuration, SimTime};
use crate::input::error::InputError;
use crate::input::go_duration::GoDuration;
use crate::input::manifest::{
    ManifestSet, NodeManifest, PodManifest, node_from_manifest, node_manifest_not_ready, pod_from_manifest,
};
use crate::input::yaml::{Document, parse_document, read_file, split_documents};
use crate::limits;
use crate::model::dist::DurationDist;
use crate::model::node::{LABEL_HOSTNAME, LABEL_REGION, LABEL_ZONE, Node};
use crate::model::pod::Pod;
use crate::model::resources::{PODS, ResourceList};
use crate::model::selector::Labels;
use crate::model::taint::Taint;
use crate::scheduler::registry::Registry;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The only supported `apiVersion`.
pub const API_VERSION: &str = "kubesim/v1";
/// The label every pool node carries with its pool's name.
pub const LABEL_POOL: &str = "kubesim.io/pool";

/// `metadata` of a scenario.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioMeta {
    /// Name (defaults to the file stem).
    #[serde(default)]
    pub name: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// A pool of identical nodes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodePoolSpec {
    /// Pool name; nodes are named `<name>-<i>`.
    pub name: String,
    /// Number of nodes.
    pub count: u64,
    /// Zones assigned round-robin (none: no zone label).
    #[serde(default)]
    pub zones: Vec<String>,
    /// Region label, if any.
    #[serde(default)]
    pub region: Option<String>,
    /// Allocatable resources of each node (`pods` defaults to 110).
    pub allocatable: ResourceList,
    /// Extra labels.
    #[serde(default)]
    pub labels: Labels,
    /// Taints.
    #[serde(default)]
    pub taints: Vec<Taint>,
}

/// `cluster`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterSpec {
    /// Node pools.
    #[serde(default)]
    pub node_pools: Vec<NodePoolSpec>,
    /// Inline Node manifests.
    #[serde(default)]
    pub nodes: Vec<NodeManifest>,
    /// Manifest files (Nodes, Pods, PriorityClasses), relative to the scenario.
    #[serde(default)]
    pub manifests: Vec<String>,
    /// Cluster-autoscaler node groups (see [`crate::input::autoscaler`]).
    #[serde(default)]
    pub node_groups: Vec<crate::input::autoscaler::NodeGroupSpec>,
    /// Cluster-autoscaler settings.
    #[serde(default)]
    pub autoscaler: Option<crate::input::autoscaler::AutoscalerSpec>,
}

/// `scheduler`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchedulerSpec {
    /// A built-in scheduler name (see `kubesim schedulers`).
    #[serde(default = "default_scheduler_name")]
    pub name: String,
    /// A KubeSchedulerConfiguration file (relative to the scenario); replaces `name`.
    #[serde(default)]
    pub config: Option<String>,
    /// An inline KubeSchedulerConfiguration; replaces `name`.
    #[serde(default)]
    pub config_inline: Option<crate::scheduler::config::KubeSchedulerConfiguration>,
    /// `percentageOfNodesToScore` (0 or absent: adaptive).
    #[serde(default)]
    pub percentage_of_nodes_to_score: Option<u32>,
    /// activeQ order: `priority` (default, kube-scheduler's PrioritySort), `sjf` or `drf`.
    #[serde(default)]
    pub queue: crate::scheduler::queue::QueueOrder,
    /// A whole policy instead of the framework: `exec:COMMAND` (an out-of-process policy, run in
    /// the scenario's folder), or a built-in scheduler name (the same as `name`).
    #[serde(default)]
    pub policy: Option<Spanned<String>>,
    /// Longest wait for one answer of an `exec:` policy (default 10s).
    #[serde(default)]
    pub policy_timeout: Option<Spanned<GoDuration>>,
}

fn default_scheduler_name() -> String {
    "default".into()
}

impl Default for SchedulerSpec {
    fn default() -> Self {
        SchedulerSpec {
            name: default_scheduler_name(),
            config: None,
            config_inline: None,
            percentage_of_nodes_to_score: None,
            queue: Default::default(),
            policy: None,
            policy_timeout: None,
        }
    }
}

/// An arrival generator: pods from a template arriving over time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArrivalSpec {
    /// Generator name; pods are named `<name>-<n>`.
    pub name: String,
    /// Time between arrivals (`exponential` gives Poisson arrivals; a constant a fixed interval).
    pub inter_arrival: DurationDist,
    /// Stop after this many pods.
    #[serde(default)]
    pub count: Option<u64>,
    /// First arrival no earlier than this (default 0s).
    #[serde(default)]
    pub start: Option<GoDuration>,
    /// No arrival after this.
    #[serde(default)]
    pub stop: Option<GoDuration>,
    /// The pod template (a Pod manifest; `kind` may be omitted).
    pub template: PodManifest,
    /// Run duration of each pod (absent: runs until the end).
    #[serde(default)]
    pub run_duration: Option<DurationDist>,
    /// Start-up latency of each pod (absent: the kubelet default).
    #[serde(default)]
    pub startup_latency: Option<DurationDist>,
}

/// `workloads`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadsSpec {
    /// Manifest files applied at time zero.
    #[serde(default)]
    pub manifests: Vec<String>,
    /// Inline Pod manifests applied at time zero.
    #[serde(default)]
    pub pods: Vec<PodManifest>,
    /// Arrival generators.
    #[serde(default)]
    pub arrivals: Vec<ArrivalSpec>,
    /// Load curves (total CPU demand per workload), read by the HPA.
    #[serde(default)]
    pub load: Vec<crate::input::load::LoadSpec>,
    /// DAG workflows declared inline (see [`crate::workflow::spec`]).
    #[serde(default)]
    pub workflows: Vec<crate::workflow::spec::WorkflowYaml>,
    /// Trace sources (see [`crate::trace::compile`]).
    #[serde(default)]
    pub traces: Vec<crate::trace::compile::TraceSource>,
}

/// One timeline entry: `at` and exactly one action.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TimelineEntry {
    /// When.
    pub at: Spanned<GoDuration>,
    /// Create a pod.
    #[serde(default)]
    pub add_pod: Option<PodManifest>,
    /// Apply a manifest file (Pods).
    #[serde(default)]
    pub apply: Option<String>,
    /// Delete a pod: `namespace/name` or `name` (namespace `default`).
    #[serde(default)]
    pub delete_pod: Option<Spanned<String>>,
    /// Fail a node: its pods are killed and it leaves service.
    #[serde(default)]
    pub fail_node: Option<Spanned<String>>,
    /// Bring a failed node back.
    #[serde(default)]
    pub recover_node: Option<Spanned<String>>,
    /// Crash a pod's containers: `namespace/name` or `name`.
    #[serde(default)]
    pub crash_pod: Option<Spanned<String>>,
    /// Mark a node unschedulable.
    #[serde(default)]
    pub cordon: Option<Spanned<String>>,
    /// Mark a node schedulable again.
    #[serde(default)]
    pub uncordon: Option<Spanned<String>>,
    /// Cordon a node and evict its pods (PDB-aware, retried every 5 s, as `kubectl drain`).
    #[serde(default)]
    pub drain: Option<Spanned<String>>,
    /// Fail every node of a zone.
    #[serde(default)]
    pub fail_zone: Option<Spanned<String>>,
    /// Recover every node of a zone.
    #[serde(default)]
    pub recover_zone: Option<Spanned<String>>,
    /// Cut nodes off from the control plane: `{nodes: [...]}` or `{zone: z}`.
    #[serde(default)]
    pub partition: Option<crate::input::faults::NodeSetSpec>,
    /// Reconnect partitioned nodes: `{nodes: [...]}` or `{zone: z}`.
    #[serde(default)]
    pub heal: Option<crate::input::faults::NodeSetSpec>,
    /// Delete a workload object (cascading to what it owns).
    #[serde(default)]
    pub delete: Option<ObjectRefSpec>,
    /// Set a workload's replicas.
    #[serde(default)]
    pub scale: Option<ScaleSpec>,
    /// Change a workload's pod template (a new image, or a restart).
    #[serde(default)]
    pub rollout: Option<RolloutSpec>,
    /// Replace a workload's load curve.
    #[serde(default)]
    pub set_load: Option<crate::input::load::LoadSpec>,
}

/// A reference to a workload object in a timeline action.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectRefSpec {
    /// Kind (`Deployment`, `deploy`, `sts`, ...).
    pub kind: Spanned<String>,
    /// Name.
    pub name: String,
    /// Namespace (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
}

/// `scale`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaleSpec {
    /// Kind (Deployment, ReplicaSet, StatefulSet; Job scales `parallelism`).
    pub kind: Spanned<String>,
    /// Name.
    pub name: String,
    /// Namespace (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// New replica count.
    pub replicas: i32,
}

/// `rollout`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RolloutSpec {
    /// Kind.
    pub kind: Spanned<String>,
    /// Name.
    pub name: String,
    /// Namespace (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// New image (of `container`, else of every container).
    #[serde(default)]
    pub image: Option<String>,
    /// Container whose image changes.
    #[serde(default)]
    pub container: Option<String>,
}

/// A compiled `rollout`: what changes in the pod template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutPatch {
    /// New image.
    pub image: Option<String>,
    /// Only this container (else all).
    pub container: Option<String>,
}

impl RolloutPatch {
    /// Applies the patch to a template: sets the image, or without one adds the
    /// `kubectl.kubernetes.io/restartedAt` annotation as `kubectl rollout restart` does.
    pub fn apply(&self, template: &mut Pod, now: SimTime) {
        match &self.image {
            Some(img) => {
                for c in &mut template.containers {
                    if self.container.as_ref().is_none_or(|n| *n == c.name) {
                        c.image = img.clone();
                    }
                }
            }
            None => {
                template.annotations.insert("kubectl.kubernetes.io/restartedAt".into(), format!("{}us", now.0));
            }
        }
    }
}

/// `kubelet`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeletSpec {
    /// Default start-up latency (bind to Running) for pods that set none.
    #[serde(default = "default_startup")]
    pub startup_latency: DurationDist,
    /// Probability that a container run crashes, for pods without the
    /// `kubesim.io/failure-probability` annotation (default 0).
    #[serde(default)]
    pub failure_probability: f64,
    /// Default readiness delay (Running to Ready) for pods that set none (absent: Ready at once).
    #[serde(default)]
    pub readiness_delay: Option<DurationDist>,
}

fn default_startup() -> DurationDist {
    DurationDist::Constant(GoDuration(1_000_000))
}

impl Default for KubeletSpec {
    fn default() -> Self {
        KubeletSpec { startup_latency: default_startup(), failure_probability: 0.0, readiness_delay: None }
    }
}

/// `metrics`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsSpec {
    /// Period of `timeseries.csv` samples.
    #[serde(default = "default_sample_period")]
    pub sample_period: Spanned<GoDuration>,
}

fn default_sample_period() -> Spanned<GoDuration> {
    Spanned::new(GoDuration(10_000_000), serde_saphyr::Location::UNKNOWN, serde_saphyr::Location::UNKNOWN)
}

impl Default for MetricsSpec {
    fn default() -> Self {
        MetricsSpec { sample_period: default_sample_period() }
    }
}

/// Random node failures: every node fails after a time drawn from `timeToFailure` and comes back
/// after a time drawn from `timeToRecover`, again and again.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeFailureSpec {
    /// Time from (re)start to the next failure (MTBF).
    pub time_to_failure: DurationDist,
    /// Time from failure to recovery (MTTR).
    pub time_to_recover: DurationDist,
    /// Only nodes of these pools (empty: all nodes).
    #[serde(default)]
    pub pools: Vec<String>,
}

/// `faults`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultsSpec {
    /// Random node crashes and recoveries.
    #[serde(default)]
    pub node_failures: Option<NodeFailureSpec>,
    /// Random pod crashes.
    #[serde(default)]
    pub pod_crashes: Option<crate::input::faults::PodCrashSpec>,
    /// Node events from a trace.
    #[serde(default)]
    pub node_timeline: Option<crate::input::faults::NodeTimelineSpec>,
}

/// The scenario file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioFile {
    /// Must be `kubesim/v1`.
    pub api_version: Spanned<String>,
    /// Must be `Scenario`.
    pub kind: Spanned<String>,
    /// Name and description.
    #[serde(default)]
    pub metadata: ScenarioMeta,
    /// Master seed of every random stream.
    #[serde(default)]
    pub seed: u64,
    /// Simulated duration of the run.
    pub duration: Spanned<GoDuration>,
    /// Stop early once nothing is left to happen (no pending pods, arrivals or actions).
    #[serde(default)]
    pub stop_when_idle: bool,
    /// Nodes.
    #[serde(default)]
    pub cluster: ClusterSpec,
    /// Scheduler choice.
    #[serde(default)]
    pub scheduler: SchedulerSpec,
    /// Workloads.
    #[serde(default)]
    pub workloads: WorkloadsSpec,
    /// Timed actions.
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
    /// Kubelet model settings.
    #[serde(default)]
    pub kubelet: KubeletSpec,
    /// Metric settings.
    #[serde(default)]
    pub metrics: MetricsSpec,
    /// Fault models.
    #[serde(default)]
    pub faults: FaultsSpec,
    /// Endpoint propagation delay and request loads of the Services (see [`crate::services`]).
    #[serde(default)]
    pub services: crate::input::services::ServicesSpec,
    /// The control-plane latency model (absent: instantaneous; see [`crate::apiserver`]).
    #[serde(default)]
    pub control_plane: Option<crate::apiserver::spec::ControlPlaneSpec>,
}

/// A compiled arrival generator.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// Name (also the RNG stream name).
    pub name: String,
    /// Inter-arrival distribution.
    pub inter_arrival: DurationDist,
    /// Maximum pods.
    pub count: Option<u64>,
    /// First arrival time lower bound.
    pub start: SimTime,
    /// No arrivals after.
    pub stop: SimTime,
    /// The pod template (name replaced per pod).
    pub template: Pod,
}

/// A compiled timeline action.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create a pod.
    AddPod(Box<Pod>),
    /// Delete a live pod.
    DeletePod {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// Fail a node.
    FailNode(String),
    /// Recover a node.
    RecoverNode(String),
    /// A node joins the cluster (trace node timelines).
    AddNode(Box<Node>),
    /// A fault action (pod crash, cordon, drain, zone outage, partition).
    Fault(crate::input::faults::FaultAction),
    /// Create or update a workload object.
    ApplyWorkload(Box<crate::controllers::Workload>),
    /// Delete a workload object, cascading.
    DeleteWorkload(crate::controllers::ObjectKey),
    /// Set a workload's replicas.
    Scale {
        /// The object.
        key: crate::controllers::ObjectKey,
        /// New replicas.
        replicas: i32,
    },
    /// Change a workload's pod template.
    Rollout {
        /// The object.
        key: crate::controllers::ObjectKey,
        /// The change.
        patch: RolloutPatch,
    },
    /// Replace a workload's load curve.
    SetLoad {
        /// The workload.
        key: crate::controllers::ObjectKey,
        /// The new curve.
        curve: crate::input::load::LoadCurve,
    },
}

impl Action {
    /// The action's name in outputs (`addPod`, `scale`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Action::AddPod(_) => "addPod",
            Action::DeletePod { .. } => "deletePod",
            Action::FailNode(_) => "failNode",
            Action::RecoverNode(_) => "recoverNode",
            Action::AddNode(_) => "addNode",
            Action::ApplyWorkload(_) => "apply",
            Action::DeleteWorkload(_) => "delete",
            Action::Scale { .. } => "scale",
            Action::Rollout { .. } => "rollout",
            Action::SetLoad { .. } => "setLoad",
            Action::Fault(f) => f.name(),
        }
    }
}

/// The random node-failure model, compiled.
#[derive(Debug, Clone)]
pub struct NodeFailureModel {
    /// Time to failure.
    pub time_to_failure: DurationDist,
    /// Time to recovery.
    pub time_to_recover: DurationDist,
    /// Names of the nodes subject to failures.
    pub nodes: Vec<String>,
}

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// The file it came from (as given).
    pub source: String,
    /// Master seed.
    pub seed: u64,
    /// Run length.
    pub duration: SimDuration,
    /// Stop when nothing is left to happen.
    pub stop_when_idle: bool,
    /// Nodes and whether each starts Ready.
    pub nodes: Vec<(Node, bool)>,
    /// Pods created at time zero.
    pub initial_pods: Vec<Pod>,
    /// Workload objects created at time zero.
    pub workloads: Vec<crate::controllers::Workload>,
    /// Declared namespaces and their labels.
    pub namespaces: std::collections::BTreeMap<String, Labels>,
    /// Arrival generators.
    pub arrivals: Vec<Arrival>,
    /// Timed actions, in time order (stable for equal times).
    pub timeline: Vec<(SimTime, Action)>,
    /// Scheduler label for reports: the built-in name, or `config:<file>`.
    pub scheduler: String,
    /// The KubeSchedulerConfiguration, when the scenario gives one (else the built-in `scheduler`).
    pub scheduler_config: Option<crate::scheduler::config::KubeSchedulerConfiguration>,
    /// percentageOfNodesToScore.
    pub percentage_of_nodes_to_score: Option<u32>,
    /// The scheduling queue's order.
    pub queue_order: crate::scheduler::queue::QueueOrder,
    /// An out-of-process policy (`scheduler.policy: exec:...` or `--policy exec:...`) placing the
    /// pods instead of the framework; the profiles above still give its filter verdicts.
    pub policy: Option<crate::scheduler::exec_policy::ExecSpec>,
    /// The plugins the scheduler configuration was validated with (built-ins plus the user
    /// plugins given to [`load_with`]); the run builds its profiles from the same registry.
    pub registry: Registry,
    /// Default start-up latency.
    pub kubelet_startup_latency: DurationDist,
    /// Default readiness delay.
    pub kubelet_readiness_delay: Option<DurationDist>,
    /// Sample period.
    pub sample_period: SimDuration,
    /// Random node failures.
    pub node_failures: Option<NodeFailureModel>,
    /// DAG workflow jobs (declared and from traces).
    pub workflows: crate::workflow::WorkflowSet,
    /// Random pod crashes: time between two crashes.
    pub pod_crash_interval: Option<DurationDist>,
    /// Default probability that a container run crashes.
    pub kubelet_failure_probability: f64,
    /// PodDisruptionBudgets applied at time zero.
    pub pdbs: Vec<crate::controllers::disruption::Pdb>,
    /// HorizontalPodAutoscalers applied at time zero.
    pub hpas: Vec<crate::controllers::hpa::Hpa>,
    /// Load curves at time zero, by workload.
    pub loads: Vec<(crate::controllers::ObjectKey, crate::input::load::LoadCurve)>,
    /// `Kind: field` of every manifest field present but not modelled.
    pub ignored_fields: BTreeSet<String>,
    /// The scenario text as run (after `--set`).
    pub text: String,
    /// The cluster autoscaler and its node groups (`None`: no node group).
    pub autoscaler: Option<crate::input::autoscaler::Autoscaler>,
    /// Services and the endpoints model's settings.
    pub services: crate::services::ServiceSet,
    /// StorageClasses, PersistentVolumes and PersistentVolumeClaims at the start.
    pub storage: crate::model::volume::VolumeStore,
    /// ResourceQuotas and LimitRanges enforced at pod admission.
    pub admission: crate::admission::AdmissionObjects,
    /// The control-plane model (`None`: instantaneous).
    pub control_plane: Option<crate::apiserver::ControlPlane>,
}

/// Splits `a.b[0].c` / `a.b.0.c` into segments.
fn path_segments(path: &str) -> Vec<String> {
    path.replace('[', ".").replace(']', "").split('.').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Applies one `path=value` override to a parsed document (`value` is read as YAML).
pub fn apply_override(doc: &mut serde_json::Value, assignment: &str) -> Result<(), String> {
    let Some((path, raw)) = assignment.split_once('=') else {
        return Err(format!("--set {assignment:?}: expected path=value, e.g. seed=7 or cluster.nodePools[0].count=20"));
    };
    let segs = path_segments(path.trim());
    if segs.is_empty() {
        return Err(format!("--set {assignment:?}: the path is empty"));
    }
    let value: serde_json::Value = if raw.trim().is_empty() {
        serde_json::Value::String(String::new())
    } else {
        serde_saphyr::from_str(raw)
            .map_err(|e| format!("--set {assignment:?}: the value is not valid YAML: {}", e.without_snippet()))?
    };
    let mut cur = doc;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        cur = match cur {
            serde_json::Value::Array(items) => {
                let idx: usize =
                    seg.parse().map_err(|_| format!("--set {path}: `{seg}` is not an index into a list"))?;
                let len = items.len();
                items
                    .get_mut(idx)
                    .ok_or_else(|| format!("--set {path}: index {idx} is out of range (the list has {len} items)"))?
            }
            serde_json::Value::Object(map) => map.entry(seg.clone()).or_insert(if last {
                serde_json::Value::Null
            } else {
                serde_json::Value::Object(Default::default())
            }),
            serde_json::Value::Null => {
                *cur = serde_json::Value::Object(Default::default());
                match cur {
                    serde_json::Value::Object(map) => map.entry(seg.clone()).or_insert(serde_json::Value::Null),
                    _ => unreachable!("just assigned an object"),
                }
            }
            _ => return Err(format!("--set {path}: `{seg}` cannot be set inside a scalar value")),
        };
    }
    *cur = value;
    Ok(())
}

/// Reads a scenario file, applies `--set` overrides, and compiles it.
pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, InputError> {
    load_with(path, overrides, &Registry::new())
}

/// [`load`] with user plugins: a scheduler configuration may name the plugins of `registry`.
pub fn load_with(path: &Path, overrides: &[String], registry: &Registry) -> Result<Scenario, InputError> {
    let shown = path.display().to_string();
    let text = read_file(path, &shown)?;
    load_str_with(&text, &shown, path.parent().unwrap_or(Path::new(".")), overrides, registry)
}

/// Compiles scenario text; `base_dir` resolves relative paths.
pub fn load_str(text: &str, shown: &str, base_dir: &Path, overrides: &[String]) -> Result<Scenario, InputError> {
    load_str_with(text, shown, base_dir, overrides, &Registry::new())
}

/// [`load_str`] with user plugins.
pub fn load_str_with(
    text: &str,
    shown: &str,
    base_dir: &Path,
    overrides: &[String],
    registry: &Registry,
) -> Result<Scenario, InputError> {
    let docs = split_documents(text);
    if docs.len() != 1 {
        return Err(InputError::file(
            shown,
            format!("a scenario file holds exactly one YAML document, found {}", docs.len()),
        ));
    }
    let (text, shown_eff) = if overrides.is_empty() {
        (docs[0].text.to_string(), shown.to_string())
    } else {
        let mut value: serde_json::Value = parse_document::<serde_json::Value>(&docs[0], shown)?.value;
        for o in overrides {
            apply_override(&mut value, o).map_err(|m| InputError::file(shown, m))?;
        }
        let regenerated =
            serde_saphyr::to_string(&value).map_err(|e| InputError::file(shown, format!("cannot apply --set: {e}")))?;
        (regenerated, format!("{shown} (after --set)"))
    };
    let doc = Document { line_offset: 0, text: std::borrow::Cow::Borrowed(&text) };
    let parsed = parse_document::<ScenarioFile>(&doc, &shown_eff)?;
    compile(parsed.value, parsed.ignored, &text, &shown_eff, shown, base_dir, registry)
}

fn err_at<T>(file: &str, s: &Spanned<T>, field: &str, msg: impl Into<String>) -> InputError {
    InputError::at(file, s.referenced.line(), s.referenced.column(), field, msg)
}

fn resolve(base_dir: &Path, rel: &str) -> PathBuf {
    let p = Path::new(rel);
    if p.is_absolute() { p.to_path_buf() } else { base_dir.join(p) }
}

fn pool_nodes(pool: &NodePoolSpec, file: &str, idx: usize) -> Result<Vec<Node>, InputError> {
    let field = format!("cluster.nodePools[{idx}]");
    if let Err(m) = limits::NODES.check(pool.count) {
        return Err(InputError::file(file, m).with_field(format!("{field}.count")));
    }
    if pool.name.is_empty() {
        return Err(InputError::file(file, "a node pool needs a name").with_field(format!("{field}.name")));
    }
    let mut alloc = pool.allocatable.clone();
    alloc.0.entry(PODS.to_string()).or_insert(crate::input::manifest::DEFAULT_MAX_PODS);
    let allocatable = alloc.to_resources();
    let mut out = Vec::with_capacity(pool.count as usize);
    for i in 0..pool.count {
        let name = format!("{}-{i}", pool.name);
        let mut labels = pool.labels.clone();
        labels.insert(LABEL_HOSTNAME.into(), name.clone());
        labels.insert(LABEL_POOL.into(), pool.name.clone());
        if !pool.zones.is_empty() {
            labels.insert(LABEL_ZONE.into(), pool.zones[(i as usize) % pool.zones.len()].clone());
        }
        if let Some(r) = &pool.region {
            labels.insert(LABEL_REGION.into(), r.clone());
        }
        out.push(Node {
            name,
            labels,
            taints: pool.taints.clone(),
            allocatable: allocatable.clone(),
            images: vec![],
            unschedulable: false,
        });
    }
    Ok(out)
}

fn check_probability(p: f64, shown: &str) -> Result<f64, InputError> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(InputError::file(shown, format!("expected a probability in [0, 1], got {p}"))
            .with_field("kubelet.failureProbability"))
    }
}

fn object_key(
    shown: &str,
    kind: &Spanned<String>,
    name: &str,
    namespace: &Option<String>,
    field: &str,
) -> Result<crate::controllers::ObjectKey, InputError> {
    let k = crate::controllers::Kind::parse(&kind.value).ok_or_else(|| {
        err_at(
            shown,
            kind,
            &format!("{field}.kind"),
            format!(
                "{:?} is not a workload kind (Deployment, ReplicaSet, Job, CronJob, DaemonSet, StatefulSet)",
                kind.value
            ),
        )
    })?;
    Ok(crate::controllers::ObjectKey {
        kind: k,
        namespace: namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into()),
        name: name.to_string(),
    })
}

fn split_pod_ref(s: &str) -> (String, String) {
    match s.split_once('/') {
        Some((ns, n)) => (ns.to_string(), n.to_string()),
        None => ("default".to_string(), s.to_string()),
    }
}

fn compile(
    f: ScenarioFile,
    ignored: BTreeSet<String>,
    text: &str,
    shown: &str,
    original: &str,
    base_dir: &Path,
    registry: &Registry,
) -> Result<Scenario, InputError> {
    if f.api_version.value != API_VERSION {
        return Err(err_at(
            shown,
            &f.api_version,
            "apiVersion",
            format!("expected {API_VERSION:?}, got {:?}", f.api_version.value),
        ));
    }
    if f.kind.value != "Scenario" {
        return Err(err_at(shown, &f.kind, "kind", format!("expected \"Scenario\", got {:?}", f.kind.value)));
    }
    let duration = SimDuration(f.duration.value.0);
    if duration.0 == 0 {
        return Err(err_at(
            shown,
            &f.duration,
            "duration",
            format!("the run must last more than 0s, got {}", f.duration.value),
        ));
    }
    if let Err(m) = limits::RUN_DURATION_MICROS.check(duration.0) {
        return Err(err_at(shown, &f.duration, "duration", format!("{} is too long: {m}", f.duration.value)));
    }
    let end = SimTime(duration.0);
    let sample_period = SimDuration(f.metrics.sample_period.value.0);
    if sample_period.0 < limits::MIN_SAMPLE_PERIOD_MICROS {
        return Err(err_at(
            shown,
            &f.metrics.sample_period,
            "metrics.samplePeriod",
            "the sample period must be at least 1ms",
        ));
    }
    // Manifests by path, then inline.
    let mut set = ManifestSet::default();
    for (i, rel) in f.cluster.manifests.iter().chain(&f.workloads.manifests).enumerate() {
        let path = resolve(base_dir, rel);
        let shown_path = path.display().to_string();
        let text = read_file(&path, &shown_path).map_err(|e| {
            if e.line.is_none() {
                InputError {
                    field: Some(format!("manifests[{i}]")),
                    file: original.to_string(),
                    message: format!("{rel}: {}", e.message),
                    ..e
                }
            } else {
                e
            }
        })?;
        set.add_text(&text, &shown_path)?;
    }
    let mut ignored_fields: BTreeSet<String> = set.ignored.clone();
    for p in &ignored {
        ignored_fields.insert(format!("(scenario) {p}"));
    }
    let pool_total = f.cluster.node_pools.iter().fold(0u64, |a, p| a.saturating_add(p.count));
    limits::NODES.check(pool_total).map_err(|m| InputError::file(shown, m).with_field("cluster.nodePools"))?;
    let mut nodes: Vec<(Node, bool)> = Vec::new();
    for (i, pool) in f.cluster.node_pools.iter().enumerate() {
        nodes.extend(pool_nodes(pool, shown, i)?.into_iter().map(|n| (n, true)));
    }
    let autoscaler = crate::input::autoscaler::compile(&f.cluster.node_groups, f.cluster.autoscaler.as_ref(), shown)?;
    for g in autoscaler.iter().flat_map(|a| &a.groups) {
        nodes.extend((0..g.min).map(|i| (g.node(i), true)));
    }
    for (i, m) in f.cluster.nodes.iter().enumerate() {
        let n =
            node_from_manifest(m).map_err(|e| InputError::file(shown, e).with_field(format!("cluster.nodes[{i}]")))?;
        nodes.push((n, !node_manifest_not_ready(m)));
    }
    for n in &set.nodes {
        nodes.push((n.clone(), true));
    }
    let mut trace_timeline = Vec::new();
    let mut workflow_jobs = Vec::new();
    crate::trace::compile::compile_into(
        &f.workloads.traces,
        &crate::trace::compile::CompileContext { base_dir, shown, end, seed: f.seed },
        &mut nodes,
        &mut trace_timeline,
        &mut workflow_jobs,
    )?;
    if let Err(m) = limits::NODES.check(nodes.len() as u64) {
        return Err(InputError::file(shown, m).with_field("cluster"));
    }
    let mut names = BTreeSet::new();
    for (n, _) in &nodes {
        if !names.insert(n.name.clone()) {
            return Err(InputError::file(shown, format!("two nodes are named {:?}", n.name)).with_field("cluster"));
        }
    }
    let mut workloads = Vec::new();
    for p in &set.workloads {
        workloads.push(crate::input::workloads::convert(p, &set)?);
    }
    let mut initial_pods = Vec::new();
    for (m, origin) in &set.pods {
        initial_pods.push(pod_from_manifest(m, &set).map_err(|e| InputError::file(origin.clone(), e))?);
    }
    for (i, m) in f.workloads.pods.iter().enumerate() {
        initial_pods.push(
            pod_from_manifest(m, &set)
                .map_err(|e| InputError::file(shown, e).with_field(format!("workloads.pods[{i}]")))?,
        );
    }
    let mut arrivals = Vec::new();
    let mut gen_names = BTreeSet::new();
    for (i, a) in f.workloads.arrivals.iter().enumerate() {
        let field = format!("workloads.arrivals[{i}]");
        if a.name.is_empty() || !gen_names.insert(a.name.clone()) {
            return Err(InputError::file(shown, "each arrival generator needs a unique, non-empty name")
                .with_field(format!("{field}.name")));
        }
        if let Some(Err(m)) = a.count.map(|c| limits::PODS_PER_GENERATOR.check(c)) {
            return Err(InputError::file(shown, m).with_field(format!("{field}.count")));
        }
        if a.inter_arrival.mean_micros() < 1.0 {
            return Err(InputError::file(shown, "the mean inter-arrival time must be at least 1us")
                .with_field(format!("{field}.interArrival")));
        }
        let mut tm = a.template.clone();
        if tm.metadata.name.is_empty() {
            tm.metadata.name = a.name.clone();
        }
        let mut template = pod_from_manifest(&tm, &set)
            .map_err(|e| InputError::file(shown, e).with_field(format!("{field}.template")))?;
        if a.run_duration.is_some() {
            template.run.run_duration = a.run_duration.clone();
        }
        if a.startup_latency.is_some() {
            template.run.startup_latency = a.startup_latency.clone();
        }
        let start = SimTime(a.start.as_ref().map(|d| d.0).unwrap_or(0));
        let stop = a.stop.as_ref().map(|d| SimTime(d.0)).unwrap_or(end);
        arrivals.push(Arrival {
            name: a.name.clone(),
            inter_arrival: a.inter_arrival.clone(),
            count: a.count,
            start,
            stop,
            template,
        });
    }
    let mut timeline = Vec::new();
    for (i, e) in f.timeline.iter().enumerate() {
        let field = format!("timeline[{i}]");
        let at = SimTime(e.at.value.0);
        if at > end {
            return Err(err_at(
                shown,
                &e.at,
                &format!("{field}.at"),
                format!("{} is after the end of the run ({})", e.at.value, f.duration.value),
            ));
        }
        let set_count = [
            e.add_pod.is_some(),
            e.apply.is_some(),
            e.delete_pod.is_some(),
            e.fail_node.is_some(),
            e.recover_node.is_some(),
            e.crash_pod.is_some(),
            e.cordon.is_some(),
            e.uncordon.is_some(),
            e.drain.is_some(),
            e.fail_zone.is_some(),
            e.recover_zone.is_some(),
            e.partition.is_some(),
            e.heal.is_some(),
            e.delete.is_some(),
            e.scale.is_some(),
            e.rollout.is_some(),
            e.set_load.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if set_count != 1 {
            return Err(err_at(
                shown,
                &e.at,
                &field,
                "each timeline entry needs exactly one action: addPod, apply, deletePod, failNode, recoverNode, \
                 delete, scale, rollout, setLoad, crashPod, cordon, uncordon, drain, failZone, recoverZone, partition or heal",
            ));
        }
        let node_ref = |s: &Spanned<String>, what: &str| -> Result<String, InputError> {
            if names.contains(&s.value) {
                Ok(s.value.clone())
            } else {
                Err(err_at(shown, s, &format!("{field}.{what}"), format!("no node is named {:?}", s.value)))
            }
        };
        if let Some(m) = &e.add_pod {
            let pod = pod_from_manifest(m, &set).map_err(|m| err_at(shown, &e.at, &format!("{field}.addPod"), m))?;
            timeline.push((at, Action::AddPod(Box::new(pod))));
        } else if let Some(rel) = &e.apply {
            let path = resolve(base_dir, rel);
            let shown_path = path.display().to_string();
            let text = read_file(&path, &shown_path)
                .map_err(|x| err_at(shown, &e.at, &format!("{field}.apply"), format!("{rel}: {}", x.message)))?;
            let mut extra = ManifestSet { priority_classes: set.priority_classes.clone(), ..Default::default() };
            extra.add_text(&text, &shown_path)?;
            if !extra.admission.is_empty() {
                return Err(err_at(
                    shown,
                    &e.at,
                    &format!("{field}.apply"),
                    "applying ResourceQuota or LimitRange manifests on the timeline is not supported yet; list them \
                     under workloads.manifests",
                ));
            }
            if !extra.hpas.is_empty() {
                return Err(err_at(
                    shown,
                    &e.at,
                    &format!("{field}.apply"),
                    "applying HorizontalPodAutoscaler manifests on the timeline is not supported yet; list them \
                     under workloads.manifests",
                ));
            }
            if !extra.services.is_empty() {
                return Err(err_at(
                    shown,
                    &e.at,
                    &format!("{field}.apply"),
                    "applying Service manifests on the timeline is not supported yet; list them under \
                     workloads.manifests",
                ));
            }
            if !extra.nodes.is_empty() {
                return Err(err_at(
                    shown,
                    &e.at,
                    &format!("{field}.apply"),
                    "applying Node manifests on the timeline is not supported yet; list them under cluster",
                ));
            }
            ignored_fields.extend(extra.ignored.iter().cloned());
            for (m, origin) in &extra.pods {
                let pod = pod_from_manifest(m, &extra).map_err(|x| InputError::file(origin.clone(), x))?;
                timeline.push((at, Action::AddPod(Box::new(pod))));
            }
            for p in &extra.workloads {
                let w = crate::input::workloads::convert(p, &extra)?;
                timeline.push((at, Action::ApplyWorkload(Box::new(w))));
            }
        } else if let Some(p) = &e.delete_pod {
            let (namespace, name) = split_pod_ref(&p.value);
            timeline.push((at, Action::DeletePod { namespace, name }));
        } else if let Some(n) = &e.fail_node {
            timeline.push((at, Action::FailNode(node_ref(n, "failNode")?)));
        } else if let Some(n) = &e.recover_node {
            timeline.push((at, Action::RecoverNode(node_ref(n, "recoverNode")?)));
        } else if let Some(r) = &e.delete {
            let key = object_key(shown, &r.kind, &r.name, &r.namespace, &format!("{field}.delete"))?;
            timeline.push((at, Action::DeleteWorkload(key)));
        } else if let Some(r) = &e.scale {
            let key = object_key(shown, &r.kind, &r.name, &r.namespace, &format!("{field}.scale"))?;
            if r.replicas < 0 {
                return Err(err_at(
                    shown,
                    &r.kind,
                    &format!("{field}.scale.replicas"),
                    "replicas must not be negative",
                ));
            }
            timeline.push((at, Action::Scale { key, replicas: r.replicas }));
        } else if let Some(r) = &e.rollout {
            let key = object_key(shown, &r.kind, &r.name, &r.namespace, &format!("{field}.rollout"))?;
            let patch = RolloutPatch { image: r.image.clone(), container: r.container.clone() };
            timeline.push((at, Action::Rollout { key, patch }));
        } else if let Some(l) = &e.set_load {
            let (key, curve) = crate::input::load::compile(l, base_dir, shown, &format!("{field}.setLoad"))?;
            timeline.push((at, Action::SetLoad { key, curve }));
        } else {
            use crate::input::faults::{FaultAction as F, resolve_node_set, zone_nodes};
            let zone = |z: &Spanned<String>, what: &str| {
                zone_nodes(&z.value, &nodes).map_err(|m| err_at(shown, z, &format!("{field}.{what}"), m))
            };
            let set = |s: &crate::input::faults::NodeSetSpec, what: &str| {
                resolve_node_set(s, &nodes).map_err(|m| err_at(shown, &e.at, &format!("{field}.{what}"), m))
            };
            let action = if let Some(p) = &e.crash_pod {
                let (namespace, name) = split_pod_ref(&p.value);
                F::CrashPod { namespace, name }
            } else if let Some(n) = &e.cordon {
                F::Cordon(node_ref(n, "cordon")?)
            } else if let Some(n) = &e.uncordon {
                F::Uncordon(node_ref(n, "uncordon")?)
            } else if let Some(n) = &e.drain {
                F::Drain(node_ref(n, "drain")?)
            } else if let Some(z) = &e.fail_zone {
                F::FailZone(z.value.clone(), zone(z, "failZone")?)
            } else if let Some(z) = &e.recover_zone {
                F::RecoverZone(z.value.clone(), zone(z, "recoverZone")?)
            } else if let Some(s) = &e.partition {
                F::Partition(set(s, "partition")?)
            } else if let Some(s) = &e.heal {
                F::Heal(set(s, "heal")?)
            } else {
                unreachable!("exactly one action is set")
            };
            timeline.push((at, Action::Fault(action)));
        }
    }
    timeline.extend(trace_timeline);
    if let Some(nt) = &f.faults.node_timeline {
        timeline.extend(crate::input::faults::node_timeline_actions(nt, &nodes, base_dir, shown, end)?);
    }
    timeline.sort_by_key(|(t, _)| *t);
    let declared = crate::workflow::spec::compile(&f.workloads.workflows, &set)
        .map_err(|(field, msg)| InputError::file(shown, msg).with_field(field))?;
    workflow_jobs.extend(declared);
    let workflows = crate::workflow::WorkflowSet::build(workflow_jobs)
        .map_err(|msg| InputError::file(shown, msg).with_field("workloads"))?;
    let node_failures = match &f.faults.node_failures {
        None => None,
        Some(nf) => {
            for (i, p) in nf.pools.iter().enumerate() {
                if !f.cluster.node_pools.iter().any(|x| &x.name == p) {
                    return Err(InputError::file(shown, format!("no node pool is named {p:?}"))
                        .with_field(format!("faults.nodeFailures.pools[{i}]")));
                }
            }
            let chosen = nodes
                .iter()
                .filter(|(n, _)| nf.pools.is_empty() || n.labels.get(LABEL_POOL).is_some_and(|p| nf.pools.contains(p)))
                .map(|(n, _)| n.name.clone())
                .collect();
            Some(NodeFailureModel {
                time_to_failure: nf.time_to_failure.clone(),
                time_to_recover: nf.time_to_recover.clone(),
                nodes: chosen,
            })
        }
    };
    let mut scheduler_name = f.scheduler.name.clone();
    let mut policy = None;
    if let Some(p) = &f.scheduler.policy {
        match crate::scheduler::exec_policy::ExecSpec::parse(&p.value) {
            Some(Ok(mut spec)) => {
                spec.working_dir = Some(base_dir.to_path_buf());
                spec.base_scheduler = scheduler_name.clone();
                if let Some(t) = &f.scheduler.policy_timeout {
                    if t.value.0 == 0 {
                        return Err(err_at(shown, t, "scheduler.policyTimeout", "the timeout must be more than 0s"));
                    }
                    spec.timeout = std::time::Duration::from_micros(t.value.0);
                }
                policy = Some(spec);
            }
            Some(Err(m)) => return Err(err_at(shown, p, "scheduler.policy", m)),
            None => scheduler_name = p.value.clone(),
        }
    }
    let mut scheduler_label = scheduler_name.clone();
    let scheduler_config = match (&f.scheduler.config, &f.scheduler.config_inline) {
        (Some(_), Some(_)) => {
            return Err(InputError::file(shown, "give either scheduler.config or scheduler.configInline, not both")
                .with_field("scheduler"));
        }
        (Some(rel), None) => {
            let path = resolve(base_dir, rel);
            let cfg = crate::explain::load_config(&path)?;
            scheduler_label = format!("config:{rel}");
            Some(cfg)
        }
        (None, Some(c)) => {
            scheduler_label = "config:inline".into();
            Some(c.clone())
        }
        (None, None) => None,
    };
    if let Some(cfg) = &scheduler_config {
        crate::scheduler::profiles::profiles_from_config_in(cfg, registry).map_err(|e| {
            InputError::file(shown, format!("invalid KubeSchedulerConfiguration: {e}")).with_field("scheduler")
        })?;
    } else if !crate::run::schedulers::is_known(&scheduler_name) {
        let field = if f.scheduler.policy.is_some() { "scheduler.policy" } else { "scheduler.name" };
        return Err(InputError::file(
            shown,
            format!(
                "unknown scheduler {scheduler_name:?} (known: {}, or exec:COMMAND for an out-of-process policy)",
                crate::run::schedulers::NAMES.join(", ")
            ),
        )
        .with_field(field));
    }
    if let Some(spec) = &policy {
        scheduler_label = format!("{}{}", crate::scheduler::exec_policy::EXEC_PREFIX, spec.command);
    }
    if let Some(p) = f.scheduler.percentage_of_nodes_to_score
        && p > 100
    {
        return Err(InputError::file(shown, format!("percentageOfNodesToScore must be within 0..100, got {p}"))
            .with_field("scheduler.percentageOfNodesToScore"));
    }
    let name = f.metadata.name.clone().unwrap_or_else(|| {
        Path::new(original).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scenario".into())
    });
    let scenario = Scenario {
        name,
        source: original.to_string(),
        seed: f.seed,
        duration,
        stop_when_idle: f.stop_when_idle,
        nodes,
        initial_pods,
        workloads,
        namespaces: set.namespaces.clone(),
        arrivals,
        timeline,
        scheduler: scheduler_label,
        scheduler_config,
        percentage_of_nodes_to_score: f.scheduler.percentage_of_nodes_to_score,
        queue_order: f.scheduler.queue,
        policy,
        registry: registry.clone(),
        kubelet_startup_latency: f.kubelet.startup_latency.clone(),
        kubelet_readiness_delay: f.kubelet.readiness_delay.clone(),
        sample_period,
        node_failures,
        workflows,
        pod_crash_interval: f.faults.pod_crashes.as_ref().map(|p| p.interval.clone()),
        kubelet_failure_probability: check_probability(f.kubelet.failure_probability, shown)?,
        pdbs: set.pdbs.clone(),
        hpas: set.hpas.clone(),
        loads: f
            .workloads
            .load
            .iter()
            .enumerate()
            .map(|(i, l)| crate::input::load::compile(l, base_dir, shown, &format!("workloads.load[{i}]")))
            .collect::<Result<_, _>>()?,
        ignored_fields,
        text: text.to_string(),
        autoscaler,
        services: crate::input::services::compile(&f.services, set.services.clone(), shown)?,
        storage: set.storage.store().map_err(|e| InputError::file(shown, e))?,
        admission: set.admission.clone(),
        control_plane: f.control_plane.as_ref().map(|c| crate::apiserver::spec::compile(c, shown)).transpose()?,
    };
    limits::check_scenario(&scenario, shown)?;
    Ok(scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = "apiVersion: kubesim/v1\nkind: Scenario\nseed: 3\nduration: 1h\ncluster:\n  nodePools:\n  - name: pool\n    count: 3\n    zones: [a, b]\n    allocatable: {cpu: 4, memory: 8Gi}\n";

    fn load_mini(text: &str, sets: &[&str]) -> Result<Scenario, InputError> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        load_str(text, "mini.yaml", Path::new("."), &sets)
    }

    #[test]
    fn pools_expand_to_nodes_with_zones_round_robin() {
        let s = load_mini(MINI, &[]).unwrap();
        let zones: Vec<&str> = s.nodes.iter().map(|(n, _)| n.zone()).collect();
        assert_eq!(zones, vec!["a", "b", "a"]);
        assert_eq!(s.nodes[0].0.allocatable.pods, 110);
        assert_eq!(s.seed, 3);
        assert_eq!(s.duration, SimDuration::from_secs(3600));
    }

    #[test]
    fn set_overrides_any_field() {
        let s = load_mini(MINI, &["seed=9", "cluster.nodePools[0].count=5", "duration=30m"]).unwrap();
        assert_eq!((s.seed, s.nodes.len(), s.duration), (9, 5, SimDuration::from_secs(1800)));
    }

    #[test]
    fn unknown_fields_are_errors_with_their_line() {
        let e = load_mini(&format!("{MINI}colour: blue\n"), &[]).unwrap_err();
        assert_eq!(e.line, Some(11));
        assert!(e.message.contains("unknown field `colour`"), "{e}");
    }

    #[test]
    fn a_timeline_naming_an_unknown_node_is_an_error_at_its_line() {
        let e = load_mini(&format!("{MINI}timeline:\n- at: 5m\n  failNode: nope\n"), &[]).unwrap_err();
        assert_eq!(e.line, Some(13), "{e}");
        assert!(e.message.contains("no node is named \"nope\""), "{e}");
    }

    #[test]
    fn scheduler_policy_takes_an_exec_command_or_a_built_in_name() {
        let s =
            load_mini(&format!("{MINI}scheduler: {{policy: 'exec:python3 p.py', policyTimeout: 2s}}\n"), &[]).unwrap();
        let spec = s.policy.unwrap();
        assert_eq!((spec.command.as_str(), spec.timeout), ("python3 p.py", std::time::Duration::from_secs(2)));
        assert_eq!((s.scheduler.as_str(), spec.base_scheduler.as_str()), ("exec:python3 p.py", "default"));
        let s = load_mini(MINI, &["scheduler.policy=most-allocated"]).unwrap();
        assert_eq!((s.scheduler.as_str(), s.policy.is_none()), ("most-allocated", true));
        let e = load_mini(MINI, &["scheduler.policy=fastest"]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("scheduler.policy"));
        let e = load_mini(&format!("{MINI}scheduler:\n  policy: \"exec:python3 'x\"\n"), &[]).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(12), Some("scheduler.policy")), "{e}");
        assert!(e.message.contains("unbalanced quotes"), "{e}");
        let e = load_mini(&format!("{MINI}scheduler: {{policy: 'exec:x', policyTimeout: 0s}}\n"), &[]).unwrap_err();
        assert!(e.message.contains("more than 0s"), "{e}");
    }

    #[test]
    fn a_timeline_entry_after_the_end_is_an_error() {
        let e = load_mini(&format!("{MINI}timeline:\n- at: 2h\n  failNode: pool-0\n"), &[]).unwrap_err();
        assert!(e.message.contains("after the end of the run"), "{e}");
    }
}
