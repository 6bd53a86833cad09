//! Workload controllers (kube-controller-manager v1.33) as simulated control loops.
//!
//! # Design
//! - **Store.** [`WorkloadStore`] holds every workload object (ReplicaSet, Deployment, Job,
//!   CronJob, DaemonSet, StatefulSet) in a `BTreeMap` keyed by [`ObjectKey`] `(kind, namespace,
//!   name)`. Each object gets a run-unique `uid` (never reused: a deleted and re-created object has
//!   a new one). Pods point at their controller through [`crate::model::pod::OwnerRef`] with that
//!   uid; the store indexes owned pods and owned objects by owner uid.
//! - **Pure controllers.** A controller is a function `sync(&SyncContext, &Object) -> Vec<Action>`
//!   (one file per kind). It reads a consistent snapshot (the [`ClusterState`], the store, `now`)
//!   and returns what to do: create a pod from its template, delete a pod (gracefully), create /
//!   update / delete an owned object, record an event, or sync again after a delay. It never
//!   mutates anything, so each controller is unit-tested without the event loop.
//! - **Work queue.** [`WorkQueue`] holds at most one pending sync per uid, at the earliest time
//!   asked for (client-go workqueue semantics: a key queued twice syncs once). The run loop
//!   (`sim/run/workloads.rs`) turns it into `Event::ControllerSync { uid }` events, applies the
//!   actions (the only place that mutates the store), and notifies controllers: a change of an
//!   owned pod (created, bound, running, ready, finished, deleted) enqueues its owner after the
//!   kind's informer delay ([`pod_event_delay`]: none, except Job's 1 s batch period); a change of
//!   an owned object enqueues its owner (Deployment ← ReplicaSet, CronJob ← Job); a node change
//!   enqueues every DaemonSet. Requeues model upstream's `AddAfter` (minReadySeconds, progress
//!   deadline, Job backoff, CronJob's next schedule time).
//! - **Status.** Controllers write their object's status through [`Action::Update`]; metrics read
//!   desired / ready / available counts through [`Workload::counts`].
//!
//! **Simplifications (documented):** the informer cache is always up to date, so expectations are
//! always satisfied; delete calls always succeed, and a create fails only at admission
//! (ResourceQuota, LimitRange: the run loop then cuts the slow-start batches short and retries
//! the sync rate-limited, see `sim/run/workloads.rs`); orphan pods matching a selector are not adopted; timestamps compared by the
//! ReplicaSet ranking are truncated to whole seconds, as the API serialises them.

pub mod cluster_autoscaler;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod hpa;
pub mod job;
pub mod node_lifecycle;
pub mod persistent_volume;
pub mod replicaset;
pub mod statefulset;

use crate::cluster::{ClusterState, PodId, PodPhase, PodState};
use crate::engine::time::{SimDuration, SimTime};
use crate::model::pod::{OwnerRef, Pod};
use crate::model::selector::Labels;
use std::collections::{BTreeMap, BTreeSet};

/// The most pods one sync creates or deletes (upstream `burstReplicas` /
/// `MaxPodCreateDeletePerSync`).
pub const BURST_REPLICAS: usize = 500;
/// Label linking a Deployment's ReplicaSets and pods to a template (`pod-template-hash`).
pub const LABEL_POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// Annotation holding a Deployment revision on its ReplicaSets.
pub const ANNOTATION_REVISION: &str = "deployment.kubernetes.io/revision";

/// A workload kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// apps/v1 ReplicaSet.
    ReplicaSet,
    /// apps/v1 Deployment.
    Deployment,
    /// batch/v1 Job.
    Job,
    /// batch/v1 CronJob.
    CronJob,
    /// apps/v1 DaemonSet.
    DaemonSet,
    /// apps/v1 StatefulSet.
    StatefulSet,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 6] =
        [Kind::ReplicaSet, Kind::Deployment, Kind::Job, Kind::CronJob, Kind::DaemonSet, Kind::StatefulSet];

    /// The Kubernetes kind name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Deployment => "Deployment",
            Kind::Job => "Job",
            Kind::CronJob => "CronJob",
            Kind::DaemonSet => "DaemonSet",
            Kind::StatefulSet => "StatefulSet",
        }
    }

    /// Parses a kind name (case-insensitive; plural and short names accepted as kubectl does).
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s.to_ascii_lowercase().as_str() {
            "replicaset" | "replicasets" | "rs" => Kind::ReplicaSet,
            "deployment" | "deployments" | "deploy" => Kind::Deployment,
            "job" | "jobs" => Kind::Job,
            "cronjob" | "cronjobs" | "cj" => Kind::CronJob,
            "daemonset" | "daemonsets" | "ds" => Kind::DaemonSet,
            "statefulset" | "statefulsets" | "sts" => Kind::StatefulSet,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identity of a workload object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct ObjectKey {
    /// Kind.
    pub kind: Kind,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// The controlling owner of an object.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    /// Kind of the owner.
    pub kind: Kind,
    /// Name of the owner (same namespace).
    pub name: String,
    /// The owner's uid.
    pub uid: u64,
}

/// Object metadata of a workload.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// Run-unique id given by the store (0 until stored).
    pub uid: u64,
    /// `metadata.labels`.
    pub labels: Labels,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// Creation time (set by the store).
    pub created: SimTime,
    /// The controlling owner, if another workload created this one.
    pub owner: Option<Owner>,
}

/// A workload object of any kind.
// Objects are few and live in a map; boxing the larger kinds would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Workload {
    /// A ReplicaSet.
    ReplicaSet(replicaset::ReplicaSet),
    /// A Deployment.
    Deployment(deployment::Deployment),
    /// A Job.
    Job(job::Job),
    /// A CronJob.
    CronJob(cronjob::CronJob),
    /// A DaemonSet.
    DaemonSet(daemonset::DaemonSet),
    /// A StatefulSet.
    StatefulSet(statefulset::StatefulSet),
}

/// Desired, ready and available replica counts of a workload (for metrics and convergence).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Desired replicas (Job: completions still wanted in parallel; CronJob: 0).
    pub desired: i64,
    /// Ready pods.
    pub ready: i64,
    /// Available pods (Ready for `minReadySeconds`).
    pub available: i64,
    /// At the desired state: enough ready pods and any rollout complete.
    pub settled: bool,
}

impl Workload {
    /// The object's metadata.
    pub fn meta(&self) -> &Meta {
        match self {
            Workload::ReplicaSet(o) => &o.meta,
            Workload::Deployment(o) => &o.meta,
            Workload::Job(o) => &o.meta,
            Workload::CronJob(o) => &o.meta,
            Workload::DaemonSet(o) => &o.meta,
            Workload::StatefulSet(o) => &o.meta,
        }
    }

    /// The object's metadata, mutably.
    pub fn meta_mut(&mut self) -> &mut Meta {
        match self {
            Workload::ReplicaSet(o) => &mut o.meta,
            Workload::Deployment(o) => &mut o.meta,
            Workload::Job(o) => &mut o.meta,
            Workload::CronJob(o) => &mut o.meta,
            Workload::DaemonSet(o) => &mut o.meta,
            Workload::StatefulSet(o) => &mut o.meta,
        }
    }

    /// The object's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Workload::ReplicaSet(_) => Kind::ReplicaSet,
            Workload::Deployment(_) => Kind::Deployment,
            Workload::Job(_) => Kind::Job,
            Workload::CronJob(_) => Kind::CronJob,
            Workload::DaemonSet(_) => Kind::DaemonSet,
            Workload::StatefulSet(_) => Kind::StatefulSet,
        }
    }

    /// The object's key.
    pub fn key(&self) -> ObjectKey {
        let m = self.meta();
        ObjectKey { kind: self.kind(), namespace: m.namespace.clone(), name: m.name.clone() }
    }

    /// Runs the object's controller once.
    pub fn sync(&self, ctx: &SyncContext<'_>) -> Vec<Action> {
        match self {
            Workload::ReplicaSet(o) => replicaset::sync(ctx, o),
            Workload::Deployment(o) => deployment::sync(ctx, o),
            Workload::Job(o) => job::sync(ctx, o),
            Workload::CronJob(o) => cronjob::sync(ctx, o),
            Workload::DaemonSet(o) => daemonset::sync(ctx, o),
            Workload::StatefulSet(o) => statefulset::sync(ctx, o),
        }
    }

    /// Desired / ready / available counts, read from the pods (not from the status, which may lag).
    pub fn counts(&self, ctx: &SyncContext<'_>) -> Counts {
        match self {
            Workload::ReplicaSet(o) => replicaset::counts(ctx, o),
            Workload::Deployment(o) => deployment::counts(ctx, o),
            Workload::Job(o) => job::counts(ctx, o),
            Workload::CronJob(_) => Counts::default(),
            Workload::DaemonSet(o) => daemonset::counts(ctx, o),
            Workload::StatefulSet(o) => statefulset::counts(ctx, o),
        }
    }

    /// True for kinds that keep pods running and so must be back at their desired ready count for
    /// the cluster to have converged (not Jobs and CronJobs, and not ReplicaSets owned by a
    /// Deployment, which is judged as a whole).
    pub fn is_service(&self) -> bool {
        match self {
            Workload::ReplicaSet(o) => o.meta.owner.is_none(),
            Workload::Deployment(_) | Workload::DaemonSet(_) | Workload::StatefulSet(_) => true,
            Workload::Job(_) | Workload::CronJob(_) => false,
        }
    }

    /// Replaces the spec with `other`'s (same kind) keeping metadata identity and status; returns
    /// false when the kinds differ. This is `kubectl apply` of a changed manifest.
    pub fn apply_spec(&mut self, other: &Workload) -> bool {
        let meta = self.meta().clone();
        let ok = match (&mut *self, other) {
            (Workload::ReplicaSet(a), Workload::ReplicaSet(b)) => {
                a.spec = b.spec.clone();
                true
            }
            (Workload::Deployment(a), Workload::Deployment(b)) => {
                a.spec = b.spec.clone();
                true
            }
            (Workload::Job(a), Workload::Job(b)) => {
                a.spec = b.spec.clone();
                true
            }
            (Workload::CronJob(a), Workload::CronJob(b)) => {
                a.spec = b.spec.clone();
                true
            }
            (Workload::DaemonSet(a), Workload::DaemonSet(b)) => {
                a.spec = b.spec.clone();
                true
            }
            (Workload::StatefulSet(a), Workload::StatefulSet(b)) => {
                a.spec = b.spec.clone();
                true
            }
            _ => false,
        };
        let labels = other.meta().labels.clone();
        let m = self.meta_mut();
        *m = Meta { labels, ..meta };
        ok
    }

    /// Sets the desired replica count (`scale`); false for kinds without replicas.
    pub fn set_replicas(&mut self, replicas: i32) -> bool {
        match self {
            Workload::ReplicaSet(o) => o.spec.replicas = replicas,
            Workload::Deployment(o) => o.spec.replicas = replicas,
            Workload::StatefulSet(o) => o.spec.replicas = replicas,
            Workload::Job(o) => o.spec.parallelism = replicas,
            Workload::CronJob(_) | Workload::DaemonSet(_) => return false,
        }
        true
    }

    /// The pod template, mutably (for `rollout`), when the kind has one.
    pub fn template_mut(&mut self) -> Option<&mut Pod> {
        match self {
            Workload::ReplicaSet(o) => Some(&mut o.spec.template),
            Workload::Deployment(o) => Some(&mut o.spec.template),
            Workload::Job(o) => Some(&mut o.spec.template),
            Workload::CronJob(o) => Some(&mut o.spec.job_template.template),
            Workload::DaemonSet(o) => Some(&mut o.spec.template),
            Workload::StatefulSet(o) => Some(&mut o.spec.template),
        }
    }
}

/// What a controller asks the run loop to do.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Action {
    /// Create a pod. Its `owner` is set by the controller. With `generate_name`, `pod.name` is a
    /// prefix and the run loop appends five deterministic characters (`generateName`).
    CreatePod {
        /// The pod.
        pod: Box<Pod>,
        /// Treat `pod.name` as a `generateName` prefix.
        generate_name: bool,
    },
    /// Delete a pod gracefully (it terminates for its `terminationGracePeriodSeconds`; unbound
    /// pods go at once).
    DeletePod {
        /// The pod.
        pod: PodId,
        /// Why (written to `events.jsonl`).
        reason: &'static str,
    },
    /// Create an owned object (its `meta.owner` set, `uid` left 0).
    Create(Box<Workload>),
    /// Replace an existing object (same key) with this version (spec and status).
    Update(Box<Workload>),
    /// Delete an object and, cascading, everything it owns.
    Delete(ObjectKey),
    /// Record a Kubernetes event (written to `events.jsonl` as `controller_event`).
    Record {
        /// Short reason, e.g. `SuccessfulCreate`.
        reason: &'static str,
        /// Human-readable message.
        message: String,
    },
    /// Sync this object again after a delay (upstream `AddAfter`).
    RequeueAfter(SimDuration),
    /// Create the claims that do not exist yet (StatefulSet `volumeClaimTemplates`; each
    /// template's `name` is the claim's name). Existing claims are kept as they are.
    CreateClaims {
        /// Their namespace.
        namespace: String,
        /// The claims.
        claims: Vec<crate::model::volume::ClaimTemplate>,
    },
}

/// The read-only view a controller syncs against.
pub struct SyncContext<'a> {
    /// Now.
    pub now: SimTime,
    /// Nodes and pods.
    pub cluster: &'a ClusterState,
    /// Workload objects.
    pub store: &'a WorkloadStore,
}

impl<'a> SyncContext<'a> {
    /// Every pod owned by `uid` (live and finished), in creation order.
    pub fn owned_pods(&self, uid: u64) -> Vec<PodId> {
        self.store.owned_pods.get(&uid).map(|s| s.iter().copied().collect()).unwrap_or_default()
    }

    /// Pods owned by `uid` that are active (upstream `FilterActivePods`: not finished and not
    /// being deleted), in creation order.
    pub fn active_pods(&self, uid: u64) -> Vec<PodId> {
        self.owned_pods(uid).into_iter().filter(|p| is_active(self.cluster.pod(*p))).collect()
    }

    /// Objects owned by `uid`, in key order.
    pub fn owned_objects(&self, uid: u64) -> Vec<&'a Workload> {
        self.store
            .owned_objects
            .get(&uid)
            .map(|s| s.iter().filter_map(|k| self.store.get(k)).collect())
            .unwrap_or_default()
    }

    /// A pod's state.
    pub fn pod(&self, id: PodId) -> &'a PodState {
        self.cluster.pod(id)
    }
}

/// Active: not finished and not being deleted (upstream `IsPodActive`).
pub fn is_active(p: &PodState) -> bool {
    !p.phase.is_terminal() && !p.terminating
}

/// Ready (upstream `IsPodReady`).
pub fn is_ready(p: &PodState) -> bool {
    p.ready_since.is_some() && !p.phase.is_terminal()
}

/// Available: Ready for at least `min_ready_seconds` (upstream `IsPodAvailable`).
pub fn is_available(p: &PodState, min_ready_seconds: i32, now: SimTime) -> bool {
    match p.ready_since {
        Some(t) if !p.phase.is_terminal() => {
            min_ready_seconds <= 0 || now.saturating_since(t) >= SimDuration::from_secs(min_ready_seconds as u64)
        }
        _ => false,
    }
}

/// For pods Ready but not yet available: the earliest time one becomes available.
pub fn next_available_at(pods: &[&PodState], min_ready_seconds: i32, now: SimTime) -> Option<SimTime> {
    if min_ready_seconds <= 0 {
        return None;
    }
    pods.iter()
        .filter(|p| is_ready(p) && !is_available(p, min_ready_seconds, now))
        .filter_map(|p| p.ready_since.map(|t| t + SimDuration::from_secs(min_ready_seconds as u64)))
        .min()
}

/// An owner reference to `meta` of kind `kind`, for pods.
pub fn pod_owner(kind: Kind, meta: &Meta) -> OwnerRef {
    OwnerRef { kind: kind.as_str().to_string(), name: meta.name.clone(), uid: meta.uid }
}

/// A new pod from `template` owned by `owner`, named `name` (or with the prefix `name` when the
/// action asks for `generate_name`), with extra labels.
pub fn pod_from_template(template: &Pod, owner: OwnerRef, namespace: &str, name: String, extra: &Labels) -> Pod {
    let mut pod = template.clone();
    pod.name = name;
    pod.namespace = namespace.to_string();
    pod.owner = Some(owner);
    for (k, v) in extra {
        pod.labels.insert(k.clone(), v.clone());
    }
    pod
}

/// 32-bit FNV-1a of `bytes`.
pub fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= *b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The alphabet of `k8s.io/apimachinery/pkg/util/rand.SafeEncodeString` (no vowels, no
/// look-alikes).
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `rand.SafeEncodeString`: maps each byte of `s` into the safe alphabet.
pub fn safe_encode(s: &str) -> String {
    s.bytes().map(|b| SAFE_ALPHABET[b as usize % SAFE_ALPHABET.len()] as char).collect()
}

/// A pod-template hash as upstream formats it (`SafeEncodeString(fmt.Sprint(fnv32a(...)))`).
/// The hash input is the template's debug form (deterministic, but not upstream's bytes, so the
/// values differ from a real cluster's).
pub fn template_hash(template: &Pod) -> String {
    safe_encode(&fnv32a(format!("{template:?}").as_bytes()).to_string())
}

/// Five deterministic `generateName` characters for the `n`-th name drawn by object `uid`.
pub fn name_suffix(uid: u64, n: u64) -> String {
    let mut h = fnv32a(&uid.to_le_bytes()) as u64;
    h = (h << 32) | fnv32a(&[uid.to_le_bytes(), n.to_le_bytes()].concat()) as u64;
    (0..5)
        .map(|i| {
            SAFE_ALPHABET[((h >> (i * 6)) as usize ^ (n as usize).wrapping_mul(31 + i)) % SAFE_ALPHABET.len()] as char
        })
        .collect()
}

/// Upstream `GetScaledValueFromIntOrPercent`: an absolute value or a percentage of `total`,
/// rounded up or down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntOrPercent {
    /// An absolute count.
    Int(i32),
    /// A percentage (`"25%"`).
    Percent(i32),
}

impl IntOrPercent {
    /// Parses `"25%"` or `3`.
    pub fn parse(s: &str) -> Result<IntOrPercent, String> {
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%') {
            p.parse::<i32>().map(IntOrPercent::Percent).map_err(|_| format!("invalid percentage {s:?}"))
        } else {
            t.parse::<i32>().map(IntOrPercent::Int).map_err(|_| format!("{s:?} is neither an integer nor a percentage"))
        }
    }

    /// The scaled value for `total`, rounding a percentage up or down.
    pub fn scaled(&self, total: i32, round_up: bool) -> i32 {
        match self {
            IntOrPercent::Int(v) => *v,
            IntOrPercent::Percent(p) => {
                let num = *p as i64 * total as i64;
                (if round_up { (num + 99).div_euclid(100) } else { num.div_euclid(100) }) as i32
            }
        }
    }

    /// True when negative (invalid).
    pub fn is_negative(&self) -> bool {
        matches!(self, IntOrPercent::Int(v) | IntOrPercent::Percent(v) if *v < 0)
    }
}

/// Written as Kubernetes writes it (`3` or `"25%"`), so that it reads back (checkpoints).
impl serde::Serialize for IntOrPercent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrPercent::Int(v) => s.serialize_i64(*v as i64),
            IntOrPercent::Percent(p) => s.collect_str(&format_args!("{p}%")),
        }
    }
}

impl<'de> serde::Deserialize<'de> for IntOrPercent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            I(i64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::I(v) => i32::try_from(v).map(IntOrPercent::Int).map_err(serde::de::Error::custom),
            Raw::S(s) => IntOrPercent::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

/// Workload objects and the ownership indexes.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct WorkloadStore {
    objects: BTreeMap<ObjectKey, Workload>,
    by_uid: BTreeMap<u64, ObjectKey>,
    owned_pods: BTreeMap<u64, BTreeSet<PodId>>,
    owned_objects: BTreeMap<u64, BTreeSet<ObjectKey>>,
    next_uid: u64,
    names_drawn: BTreeMap<u64, u64>,
}

impl WorkloadStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every object, in key order.
    pub fn objects(&self) -> impl Iterator<Item = &Workload> {
        self.objects.values()
    }

    /// One object.
    pub fn get(&self, key: &ObjectKey) -> Option<&Workload> {
        self.objects.get(key)
    }

    /// One object by uid.
    pub fn by_uid(&self, uid: u64) -> Option<&Workload> {
        self.by_uid.get(&uid).and_then(|k| self.objects.get(k))
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Uids given so far (0: no object was ever stored).
    pub fn next_uid(&self) -> u64 {
        self.next_uid
    }

    /// True when there is no object.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Stores a new object, giving it a uid and its creation time; `Err` with the existing
    /// object's uid when the key is taken.
    pub fn insert(&mut self, mut w: Workload, now: SimTime) -> Result<u64, u64> {
        let key = w.key();
        if let Some(existing) = self.objects.get(&key) {
            return Err(existing.meta().uid);
        }
        self.next_uid += 1;
        let uid = self.next_uid;
        let m = w.meta_mut();
        m.uid = uid;
        m.created = now;
        if let Some(o) = &m.owner {
            self.owned_objects.entry(o.uid).or_default().insert(key.clone());
        }
        self.by_uid.insert(uid, key.clone());
        self.objects.insert(key, w);
        Ok(uid)
    }

    /// Replaces an object's content (same key and uid); false when it no longer exists.
    pub fn update(&mut self, w: Workload) -> bool {
        let key = w.key();
        match self.objects.get_mut(&key) {
            Some(cur) if cur.meta().uid == w.meta().uid => {
                *cur = w;
                true
            }
            _ => false,
        }
    }

    /// Removes an object; returns it with the pods and objects it owned (not yet removed).
    pub fn remove(&mut self, key: &ObjectKey) -> Option<(Workload, Vec<PodId>, Vec<ObjectKey>)> {
        let w = self.objects.remove(key)?;
        let uid = w.meta().uid;
        self.by_uid.remove(&uid);
        if let Some(o) = &w.meta().owner
            && let Some(s) = self.owned_objects.get_mut(&o.uid)
        {
            s.remove(key);
        }
        let pods = self.owned_pods.remove(&uid).map(|s| s.into_iter().collect()).unwrap_or_default();
        let objs = self.owned_objects.remove(&uid).map(|s| s.into_iter().collect()).unwrap_or_default();
        self.names_drawn.remove(&uid);
        Some((w, pods, objs))
    }

    /// Records that `pod` is owned by `uid`.
    pub fn add_owned_pod(&mut self, uid: u64, pod: PodId) {
        if self.by_uid.contains_key(&uid) {
            self.owned_pods.entry(uid).or_default().insert(pod);
        }
    }

    /// True while `pod` is in the ownership index of object `uid`.
    pub fn holds_pod(&self, uid: u64, pod: PodId) -> bool {
        self.owned_pods.get(&uid).is_some_and(|s| s.contains(&pod))
    }

    /// Forgets a finished pod of `uid` (kinds that never look at finished pods call this to keep
    /// their index small).
    pub fn forget_pod(&mut self, uid: u64, pod: PodId) {
        if let Some(s) = self.owned_pods.get_mut(&uid) {
            s.remove(&pod);
        }
    }

    /// The next `generateName` suffix for object `uid`.
    pub fn draw_name(&mut self, uid: u64) -> String {
        let n = self.names_drawn.entry(uid).or_insert(0);
        *n += 1;
        name_suffix(uid, *n)
    }
}

/// Delay between a pod change and its owner's sync: Job batches pod updates for 1 s
/// (`syncJobBatchPeriod`); the other controllers enqueue at once.
pub fn pod_event_delay(kind: Kind) -> SimDuration {
    match kind {
        Kind::Job => SimDuration::from_secs(1),
        _ => SimDuration::ZERO,
    }
}

/// The controllers' work queue: at most one pending sync per uid, at the earliest time asked.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct WorkQueue {
    due: BTreeMap<u64, SimTime>,
}

impl WorkQueue {
    /// Asks for a sync of `uid` at `at`; true when the caller must schedule an event for it (no
    /// earlier or equal sync is pending).
    pub fn enqueue(&mut self, uid: u64, at: SimTime) -> bool {
        match self.due.get(&uid) {
            Some(t) if *t <= at => false,
            _ => {
                self.due.insert(uid, at);
                true
            }
        }
    }

    /// Called when a sync event for `uid` fires at `now`: true when it is the live one (else it
    /// was superseded by an earlier sync and is ignored).
    pub fn take(&mut self, uid: u64, now: SimTime) -> bool {
        if self.due.get(&uid) == Some(&now) {
            self.due.remove(&uid);
            true
        } else {
            false
        }
    }

    /// Drops any pending sync of `uid`.
    pub fn forget(&mut self, uid: u64) {
        self.due.remove(&uid);
    }
}

/// Phase ordinal of the ReplicaSet ranking: Pending 0 < Unknown 1 < Running 2.
pub fn phase_ordinal(p: PodPhase) -> u8 {
    match p {
        PodPhase::Pending => 0,
        PodPhase::Running => 2,
        _ => 1,
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for controller tests: a cluster with nodes and owned pods in chosen states.
    use super::*;
    use crate::cluster::NodeId;
    use crate::scheduler::testing::{make_node, make_pod};

    /// A cluster with `nodes` nodes and a store.
    pub struct Fixture {
        pub cluster: ClusterState,
        pub store: WorkloadStore,
        pub now: SimTime,
    }

    impl Fixture {
        pub fn new(nodes: usize) -> Self {
            let mut cluster = ClusterState::new();
            for i in 0..nodes {
                cluster.add_node(make_node(&format!("n{i}"), 64_000, 1 << 40, 110).node).unwrap();
            }
            Fixture { cluster, store: WorkloadStore::new(), now: SimTime::ZERO }
        }

        pub fn ctx(&self) -> SyncContext<'_> {
            SyncContext { now: self.now, cluster: &self.cluster, store: &self.store }
        }

        pub fn add(&mut self, w: Workload) -> u64 {
            self.store.insert(w, self.now).unwrap()
        }

        /// Adds a pod owned by `uid`: on `node` (if any), running if `running`, ready since
        /// `ready_at` if given.
        pub fn pod(&mut self, uid: u64, name: &str, node: Option<u32>, running: bool, ready_at: Option<u64>) -> PodId {
            let kind = self.store.by_uid(uid).map(|w| w.kind()).unwrap_or(Kind::ReplicaSet);
            let owner_name = self.store.by_uid(uid).map(|w| w.meta().name.clone()).unwrap_or_default();
            let mut p = make_pod(name, &[("cpu", 100)]);
            p.owner = Some(OwnerRef { kind: kind.as_str().into(), name: owner_name, uid });
            let id = self.cluster.add_pod(p, self.now).unwrap();
            if let Some(n) = node {
                self.cluster.bind(id, NodeId(n), self.now).unwrap();
                if running {
                    self.cluster.mark_running(id, self.now);
                    if let Some(t) = ready_at {
                        self.cluster.mark_ready(id, SimTime(t * 1_000_000));
                    }
                }
            }
            self.store.add_owned_pod(uid, id);
            id
        }
    }

    /// The pods a list of actions creates.
    pub fn created(actions: &[Action]) -> Vec<&Pod> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::CreatePod { pod, .. } => Some(&**pod),
                _ => None,
            })
            .collect()
    }

    /// The pods a list of actions deletes.
    pub fn deleted(actions: &[Action]) -> Vec<PodId> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::DeletePod { pod, .. } => Some(*pod),
                _ => None,
            })
            .collect()
    }

    /// The last object update in a list of actions.
    pub fn updated(actions: &[Action]) -> Option<&Workload> {
        actions.iter().rev().find_map(|a| match a {
            Action::Update(w) => Some(&**w),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_up_or_down_and_absolute_values_stay() {
        let p = IntOrPercent::parse("25%").unwrap();
        assert_eq!(p.scaled(10, true), 3);
        assert_eq!(p.scaled(10, false), 2);
        assert_eq!(IntOrPercent::parse("100%").unwrap().scaled(7, false), 7);
        assert_eq!(IntOrPercent::parse("1%").unwrap().scaled(1, true), 1);
        assert_eq!(IntOrPercent::parse("1%").unwrap().scaled(1, false), 0);
        assert_eq!(IntOrPercent::parse("0%").unwrap().scaled(100, true), 0);
        assert_eq!(IntOrPercent::parse("3").unwrap().scaled(100, true), 3);
        assert!(IntOrPercent::parse("x%").is_err());
    }

    #[test]
    fn the_work_queue_keeps_one_sync_per_key_at_the_earliest_time() {
        let mut q = WorkQueue::default();
        assert!(q.enqueue(1, SimTime(10)));
        assert!(!q.enqueue(1, SimTime(20)), "a later sync is covered by the pending one");
        assert!(q.enqueue(1, SimTime(5)), "an earlier sync supersedes");
        assert!(!q.take(1, SimTime(10)), "the superseded event is stale");
        assert!(q.take(1, SimTime(5)));
        assert!(q.enqueue(1, SimTime(20)), "after the sync a new one may be queued");
    }

    #[test]
    fn generated_names_are_five_safe_characters_and_differ() {
        let a = name_suffix(1, 1);
        let b = name_suffix(1, 2);
        assert_eq!(a.len(), 5);
        assert!(a.bytes().all(|c| SAFE_ALPHABET.contains(&c)));
        assert_ne!(a, b);
        assert_eq!(a, name_suffix(1, 1), "deterministic");
    }

    #[test]
    fn kinds_parse_as_kubectl_names() {
        assert_eq!(Kind::parse("deploy"), Some(Kind::Deployment));
        assert_eq!(Kind::parse("StatefulSet"), Some(Kind::StatefulSet));
        assert_eq!(Kind::parse("pod"), None);
    }
}
