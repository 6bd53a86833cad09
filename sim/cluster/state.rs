//! The cluster state store: nodes and pods, with per-node aggregates kept incrementally.
//!
//! **Invariant:** a node's `requested`, non-zero requests, pod count and used ports always equal
//! the sum over the pods currently assigned to it (bound and not yet terminated). They are
//! updated on bind and release, never recomputed by scanning every pod; the invariant checker
//! ([`crate::cluster::invariants`]) recounts them in tests.

use crate::engine::time::SimTime;
use crate::model::node::Node;
use crate::model::pod::{HostPort, Pod};
use crate::model::resources::Resources;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Index of a node in the store (stable for the whole run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u32);

/// Index of a pod in the store (stable for the whole run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PodId(pub u32);

/// The lifecycle phase of a pod in the simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PodPhase {
    /// Created; waiting to be scheduled (no node) or starting on its node (node set).
    Pending,
    /// Running on its node.
    Running,
    /// Completed successfully.
    Succeeded,
    /// Failed or killed (its node failed, say).
    Failed,
    /// Deleted before it finished.
    Deleted,
}

impl PodPhase {
    /// The name written to outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
            PodPhase::Deleted => "Deleted",
        }
    }

    /// True once the pod will never run again.
    pub fn is_terminal(self) -> bool {
        matches!(self, PodPhase::Succeeded | PodPhase::Failed | PodPhase::Deleted)
    }
}

/// A node and its aggregates.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeState {
    /// The node's spec.
    pub node: Node,
    /// Ready condition: false while the node is failed.
    pub ready: bool,
    /// Sum of the assigned pods' effective requests.
    pub requested: Resources,
    /// Sum of the assigned pods' CPU requests with the non-zero defaults (scoring).
    pub non_zero_cpu_millis: i64,
    /// Sum of the assigned pods' memory requests with the non-zero defaults (scoring).
    pub non_zero_memory_bytes: i64,
    /// Host ports in use, with the number of pods using each.
    pub used_ports: BTreeMap<HostPort, u32>,
    /// Assigned pods, in binding order.
    pub pods: Vec<PodId>,
    /// Assigned pods that have pod affinity or anti-affinity terms (upstream
    /// `NodeInfo.PodsWithAffinity`), in binding order.
    pub pods_with_affinity: Vec<PodId>,
    /// Assigned pods with required anti-affinity terms (upstream
    /// `NodeInfo.PodsWithRequiredAntiAffinity`), in binding order.
    pub pods_with_required_anti_affinity: Vec<PodId>,
    /// How many times the node has failed.
    pub failures: u32,
    /// Removed from the cluster (by the cluster autoscaler): not Ready, unschedulable, in no
    /// zone list nor the node order, and holds no pod.
    pub removed: bool,
    /// Free milli-GPU of each GPU device (1000 = fully free; empty for a node without GPUs).
    pub gpu_free_milli: Vec<i64>,
}

impl NodeState {
    /// Number of pods assigned to the node.
    pub fn pod_count(&self) -> i64 {
        self.pods.len() as i64
    }
}

/// A pod and what happened to it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PodState {
    /// The pod's spec.
    pub pod: Pod,
    /// Current phase.
    pub phase: PodPhase,
    /// The node it is (or was last) bound to.
    pub node: Option<NodeId>,
    /// Creation time.
    pub created: SimTime,
    /// Time of the (last) binding.
    pub scheduled: Option<SimTime>,
    /// Time it became Running.
    pub started: Option<SimTime>,
    /// Time it reached a terminal phase.
    pub finished: Option<SimTime>,
    /// Since when it is Ready (`None`: not Ready). Cleared when it stops running.
    pub ready_since: Option<SimTime>,
    /// Scheduling cycles run for it.
    pub scheduling_attempts: u32,
    /// Times it was preempted.
    pub preemptions: u32,
    /// Times it was evicted.
    pub evictions: u32,
    /// Container restarts.
    pub restarts: u32,
    /// Bumped on every change of phase or node, so that stale timer events can be recognised.
    pub epoch: u32,
    /// Being deleted after preemption (it still holds its resources until it is gone).
    pub terminating: bool,
    /// Temporarily taken off its node by a preemption dry run (never set between events).
    pub detached: bool,
    /// The GPU devices it holds (or held) on its node, chosen at binding.
    pub gpu_indices: Vec<u32>,
}

impl PodState {
    /// A pod just created at `created`: Pending, unbound, nothing counted yet.
    pub fn pending(pod: Pod, created: SimTime) -> Self {
        PodState {
            pod,
            phase: PodPhase::Pending,
            node: None,
            created,
            scheduled: None,
            started: None,
            finished: None,
            ready_since: None,
            scheduling_attempts: 0,
            preemptions: 0,
            evictions: 0,
            restarts: 0,
            epoch: 0,
            terminating: false,
            detached: false,
            gpu_indices: Vec::new(),
        }
    }

    /// True while the pod holds resources on a node (bound and not terminated).
    pub fn is_assigned(&self) -> bool {
        self.node.is_some() && !self.phase.is_terminal() && !self.detached
    }
}

/// What the run summary needs of every pod, folded in one pod at a time: the pods released
/// from the store (see [`ClusterState::release_pod`]) are added when they go, the others at the
/// end of the run. Percentiles are exact, so the two latency samples stay (16 bytes a pod).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodFigures {
    /// Creation to (last) binding, of every pod ever bound.
    pub pending_us: Vec<u64>,
    /// Creation to Running, of every pod that ever ran.
    pub startup_us: Vec<u64>,
    /// Earliest creation time.
    pub first_created: Option<SimTime>,
    /// Latest time a pod Succeeded.
    pub last_succeeded: Option<SimTime>,
    /// Pods ever bound.
    pub scheduled: u64,
    /// Preemptions, evictions and container restarts, summed.
    pub preemptions: u64,
    /// See `preemptions`.
    pub evictions: u64,
    /// See `preemptions`.
    pub restarts: u64,
}

impl PodFigures {
    /// Folds one pod in.
    pub fn add(&mut self, p: &PodState) {
        if let Some(s) = p.scheduled {
            self.pending_us.push(s.saturating_since(p.created).0);
            self.scheduled += 1;
        }
        if let Some(s) = p.started {
            self.startup_us.push(s.saturating_since(p.created).0);
        }
        self.first_created = Some(self.first_created.map_or(p.created, |f| f.min(p.created)));
        if p.phase == PodPhase::Succeeded
            && let Some(f) = p.finished
        {
            self.last_succeeded = Some(self.last_succeeded.map_or(f, |l| l.max(f)));
        }
        self.preemptions += p.preemptions as u64;
        self.evictions += p.evictions as u64;
        self.restarts += p.restarts as u64;
    }
}

/// What [`ClusterState::pod`] shows for a released pod: gone (Deleted), on no node, with an
/// epoch no timer carries, so that a stale event about it is ignored like any other.
static RELEASED: std::sync::LazyLock<PodState> = std::sync::LazyLock::new(|| PodState {
    phase: PodPhase::Deleted,
    epoch: u32::MAX,
    ..PodState::pending(Pod::default(), SimTime(0))
});

/// All nodes and pods of a run.
///
/// Pods are kept by id (creation order). A pod that has ended and that nothing reads any more
/// can be released ([`ClusterState::release_pod`]): its slot keeps only an empty pointer, its
/// figures go into [`PodFigures`], and memory follows the live pods rather than the history.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ClusterState {
    nodes: Vec<NodeState>,
    node_by_name: BTreeMap<String, NodeId>,
    pods: Vec<Option<Box<PodState>>>,
    released: PodFigures,
    released_count: u64,
    /// (CPU millicores, GPU request) → pods ever created with it (FGD's typical pods).
    pod_shapes: BTreeMap<(i64, crate::model::gpu::GpuRequest), u64>,
    pod_by_key: BTreeMap<(String, String), PodId>,
    node_order: Vec<NodeId>,
    /// Zone key → its nodes in insertion order, zones in order of first appearance.
    zones: Vec<(String, Vec<NodeId>)>,
    phase_counts: [u64; 5],
    namespaces: BTreeMap<String, crate::model::selector::Labels>,
    image_nodes: BTreeMap<String, u32>,
    nodes_with_affinity_pods: BTreeSet<NodeId>,
    nodes_with_required_anti_affinity_pods: BTreeSet<NodeId>,
    pdbs: Vec<(crate::controllers::disruption::Pdb, crate::controllers::disruption::PdbStatus)>,
    volumes: crate::model::volume::VolumeStore,
}

/// An image name as ImageLocality compares it: `:latest` is appended when the name has no tag
/// (no `:` after the last `/`) and no digest.
pub fn normalized_image_name(name: &str) -> String {
    let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    if name.contains('@') || name[last_slash..].contains(':') { name.to_string() } else { format!("{name}:latest") }
}

/// Why a state change was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// A node of that name exists already.
    #[error("a node named {0:?} already exists")]
    DuplicateNode(String),
    /// A live pod with that namespace/name exists already.
    #[error("a pod named {0:?} already exists")]
    DuplicatePod(String),
    /// The pod is not pending and unbound.
    #[error("pod {0:?} cannot be bound: it is not pending")]
    NotPending(String),
}

impl ClusterState {
    /// An empty cluster.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node, Ready and empty.
    pub fn add_node(&mut self, node: Node) -> Result<NodeId, StateError> {
        if self.node_by_name.contains_key(&node.name) {
            return Err(StateError::DuplicateNode(node.name));
        }
        let id = NodeId(self.nodes.len() as u32);
        self.node_by_name.insert(node.name.clone(), id);
        let mut images = std::collections::BTreeSet::new();
        for img in &node.images {
            for n in &img.names {
                images.insert(normalized_image_name(n));
            }
        }
        for i in images {
            *self.image_nodes.entry(i).or_insert(0) += 1;
        }
        let gpus = crate::model::gpu::node_gpu_count(&node);
        let mut node = node;
        crate::model::gpu::offer_all_gpu_forms(&mut node);
        self.nodes.push(NodeState {
            gpu_free_milli: vec![crate::model::gpu::MILLI; gpus],
            node,
            ready: true,
            requested: Resources::default(),
            non_zero_cpu_millis: 0,
            non_zero_memory_bytes: 0,
            used_ports: BTreeMap::new(),
            pods: Vec::new(),
            pods_with_affinity: Vec::new(),
            pods_with_required_anti_affinity: Vec::new(),
            failures: 0,
            removed: false,
        });
        self.rebuild_node_order();
        Ok(id)
    }

    /// Removes an empty node: it stays in the store (ids are stable) but is marked removed,
    /// not Ready and unschedulable, and leaves the node order so the scheduler never sees it.
    /// Returns false (and does nothing) if pods are still assigned to it.
    pub fn remove_node(&mut self, id: NodeId) -> bool {
        let n = &mut self.nodes[id.0 as usize];
        if !n.pods.is_empty() || n.removed {
            return false;
        }
        n.removed = true;
        n.ready = false;
        n.node.unschedulable = true;
        for (_, v) in &mut self.zones {
            v.retain(|x| *x != id);
        }
        self.zones.retain(|(_, v)| !v.is_empty());
        self.node_order.retain(|x| *x != id);
        true
    }

    /// Nodes not removed.
    pub fn live_node_count(&self) -> usize {
        self.nodes.iter().filter(|n| !n.removed).count()
    }

    /// Node order as kube-scheduler's node tree lists it: zones in order of first appearance,
    /// nodes of a zone in insertion order, interleaved round-robin across zones. The zone lists
    /// are kept incrementally; the interleaving is rebuilt in O(nodes) without string work.
    fn rebuild_node_order(&mut self) {
        if let Some(last) = self.nodes.len().checked_sub(1) {
            let key = self.nodes[last].node.zone_key();
            let id = NodeId(last as u32);
            match self.zones.iter_mut().find(|(z, _)| *z == key) {
                Some((_, v)) => v.push(id),
                None => self.zones.push((key, vec![id])),
            }
        }
        self.node_order.clear();
        let longest = self.zones.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
        for i in 0..longest {
            for (_, v) in &self.zones {
                if let Some(id) = v.get(i) {
                    self.node_order.push(*id);
                }
            }
        }
    }

    /// Nodes in node-tree order.
    pub fn node_order(&self) -> &[NodeId] {
        &self.node_order
    }

    /// All nodes, by id.
    pub fn nodes(&self) -> &[NodeState] {
        &self.nodes
    }

    /// One node.
    pub fn node(&self, id: NodeId) -> &NodeState {
        &self.nodes[id.0 as usize]
    }

    /// One node, mutably (for condition and taint changes; aggregates change only via bind/release).
    pub fn node_mut(&mut self, id: NodeId) -> &mut NodeState {
        &mut self.nodes[id.0 as usize]
    }

    /// Looks a node up by name.
    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.node_by_name.get(name).copied()
    }

    /// The pods kept in the store (every pod not released), in creation order.
    pub fn pods(&self) -> impl DoubleEndedIterator<Item = &PodState> + Clone {
        self.pods.iter().filter_map(|p| p.as_deref())
    }

    /// The pods kept in the store with their ids, in creation order.
    pub fn pod_entries(&self) -> impl DoubleEndedIterator<Item = (PodId, &PodState)> + Clone {
        self.pods.iter().enumerate().filter_map(|(i, p)| p.as_deref().map(|p| (PodId(i as u32), p)))
    }

    /// Number of pod ids issued (pods ever created, released ones included).
    pub fn pod_ids_issued(&self) -> usize {
        self.pods.len()
    }

    /// One pod; a released pod shows as gone (Deleted, no node, not matching any timer's epoch).
    pub fn pod(&self, id: PodId) -> &PodState {
        self.get_pod(id).unwrap_or(&RELEASED)
    }

    /// One pod, `None` once released.
    pub fn get_pod(&self, id: PodId) -> Option<&PodState> {
        self.pods.get(id.0 as usize).and_then(|p| p.as_deref())
    }

    fn pod_mut(&mut self, id: PodId) -> Option<&mut PodState> {
        self.pods.get_mut(id.0 as usize).and_then(|p| p.as_deref_mut())
    }

    /// Drops an ended pod from the store, folding its figures into [`ClusterState::released`].
    /// Returns false (and does nothing) for a live or already released pod. After this,
    /// [`ClusterState::pod`] shows the pod as gone and iteration skips it.
    pub fn release_pod(&mut self, id: PodId) -> bool {
        let Some(slot) = self.pods.get_mut(id.0 as usize) else { return false };
        if !slot.as_ref().is_some_and(|p| p.phase.is_terminal()) {
            return false;
        }
        if let Some(p) = slot.take() {
            self.released.add(&p);
            self.released_count += 1;
        }
        true
    }

    /// The figures of the released pods.
    pub fn released(&self) -> &PodFigures {
        &self.released
    }

    /// How many pods were ever created with each (CPU millicores, GPU request), released ones
    /// included (the population FGD's typical pods are drawn from).
    pub fn pod_shapes(&self) -> &BTreeMap<(i64, crate::model::gpu::GpuRequest), u64> {
        &self.pod_shapes
    }

    /// Number of pods released so far.
    pub fn released_count(&self) -> u64 {
        self.released_count
    }

    /// Looks up the live (not terminal) pod `namespace/name`.
    pub fn pod_id(&self, namespace: &str, name: &str) -> Option<PodId> {
        self.pod_by_key.get(&(namespace.to_string(), name.to_string())).copied()
    }

    /// Records a Namespace and its labels (for `namespaceSelector`).
    pub fn set_namespace(&mut self, name: &str, labels: crate::model::selector::Labels) {
        self.namespaces.insert(name.to_string(), labels);
    }

    /// The labels of namespace `name` (`None` for a namespace no manifest declared; such a
    /// namespace has no labels but `kubernetes.io/metadata.name`).
    pub fn namespace_labels(&self, name: &str) -> Option<&crate::model::selector::Labels> {
        self.namespaces.get(name)
    }

    /// Every declared namespace with its labels, in name order.
    pub fn namespaces(&self) -> &BTreeMap<String, crate::model::selector::Labels> {
        &self.namespaces
    }

    /// StorageClasses, PersistentVolumes and PersistentVolumeClaims.
    pub fn volumes(&self) -> &crate::model::volume::VolumeStore {
        &self.volumes
    }

    /// The storage objects, mutably (the PV controller and volume binding at scheduling).
    pub fn volumes_mut(&mut self) -> &mut crate::model::volume::VolumeStore {
        &mut self.volumes
    }

    /// Nodes with a non-empty `pods_with_affinity` (upstream snapshot's
    /// `HavePodsWithAffinityList`), so that InterPodAffinity need not visit every node.
    pub fn nodes_with_affinity_pods(&self) -> &BTreeSet<NodeId> {
        &self.nodes_with_affinity_pods
    }

    /// Nodes with a non-empty `pods_with_required_anti_affinity` (upstream snapshot's
    /// `HavePodsWithRequiredAntiAffinityList`).
    pub fn nodes_with_required_anti_affinity_pods(&self) -> &BTreeSet<NodeId> {
        &self.nodes_with_required_anti_affinity_pods
    }

    /// Number of nodes that hold the image (by normalized name).
    pub fn nodes_with_image(&self, normalized_name: &str) -> u32 {
        self.image_nodes.get(normalized_name).copied().unwrap_or(0)
    }

    /// Number of pods currently in `phase`.
    pub fn phase_count(&self, phase: PodPhase) -> u64 {
        self.phase_counts[phase as usize]
    }

    /// Creates a pending, unbound pod.
    pub fn add_pod(&mut self, pod: Pod, now: SimTime) -> Result<PodId, StateError> {
        let key = (pod.namespace.clone(), pod.name.clone());
        if self.pod_by_key.contains_key(&key) {
            return Err(StateError::DuplicatePod(pod.key()));
        }
        let id = PodId(self.pods.len() as u32);
        self.pod_by_key.insert(key, id);
        let shape = (pod.requests.cpu_millis, crate::model::gpu::GpuRequest::from_pod(&pod));
        *self.pod_shapes.entry(shape).or_insert(0) += 1;
        self.phase_counts[PodPhase::Pending as usize] += 1;
        self.pods.push(Some(Box::new(PodState::pending(pod, now))));
        Ok(id)
    }

    /// Counts one more scheduling cycle for a pod.
    pub fn note_attempt(&mut self, id: PodId) {
        if let Some(p) = self.pod_mut(id) {
            p.scheduling_attempts += 1;
        }
    }

    /// Binds a pending pod to a node and adds it to the node's aggregates.
    pub fn bind(&mut self, pod_id: PodId, node_id: NodeId, now: SimTime) -> Result<(), StateError> {
        let Some(p) = self.pods.get_mut(pod_id.0 as usize).and_then(|p| p.as_deref_mut()) else {
            return Err(StateError::NotPending(format!("#{}", pod_id.0)));
        };
        if p.phase != PodPhase::Pending || p.node.is_some() {
            return Err(StateError::NotPending(p.pod.key()));
        }
        p.node = Some(node_id);
        p.scheduled = Some(now);
        p.epoch += 1;
        self.add_to_node(pod_id, node_id);
        Ok(())
    }

    /// Chooses the GPU devices `pod` will hold once bound to `node` (a GPU policy's own choice,
    /// made before [`ClusterState::bind`]); devices that do not fit are ignored at binding.
    pub fn set_gpu_indices(&mut self, pod: PodId, indices: Vec<u32>) {
        if let Some(p) = self.pod_mut(pod) {
            p.gpu_indices = indices;
        }
    }

    /// Takes the pod's GPU devices on the node: the chosen ones if they fit, otherwise the
    /// `best` selection; none when the request does not fit the node's devices at all.
    fn take_gpus(&mut self, pod_id: PodId, node_id: NodeId) {
        use crate::model::gpu::{GpuRequest, GpuSelection, select_gpus};
        let Some(p) = self.pods[pod_id.0 as usize].as_deref_mut() else { return };
        let req = GpuRequest::from_pod(&p.pod);
        let n = &mut self.nodes[node_id.0 as usize];
        if !req.is_gpu() {
            p.gpu_indices.clear();
            return;
        }
        let chosen = std::mem::take(&mut p.gpu_indices);
        let valid = chosen.len() == req.count as usize && {
            let mut seen = chosen.clone();
            seen.sort_unstable();
            seen.dedup();
            seen.len() == chosen.len()
                && chosen.iter().all(|i| n.gpu_free_milli.get(*i as usize).is_some_and(|f| *f >= req.milli_per_gpu))
        };
        let idx = if valid {
            chosen
        } else {
            select_gpus(&req, &n.gpu_free_milli, GpuSelection::Best, &mut |_| 0).unwrap_or_default()
        };
        for i in &idx {
            n.gpu_free_milli[*i as usize] -= req.milli_per_gpu;
        }
        p.gpu_indices = idx;
    }

    fn add_to_node(&mut self, pod_id: PodId, node_id: NodeId) {
        self.take_gpus(pod_id, node_id);
        let Some(p) = self.pods[pod_id.0 as usize].as_deref() else { return };
        let n = &mut self.nodes[node_id.0 as usize];
        n.requested.add(&p.pod.requests);
        n.non_zero_cpu_millis += p.pod.non_zero_cpu_millis;
        n.non_zero_memory_bytes += p.pod.non_zero_memory_bytes;
        for hp in &p.pod.host_ports {
            *n.used_ports.entry(hp.clone()).or_insert(0) += 1;
        }
        n.pods.push(pod_id);
        if p.pod.affinity.has_pod_affinity_terms() {
            n.pods_with_affinity.push(pod_id);
            self.nodes_with_affinity_pods.insert(node_id);
        }
        if p.pod.affinity.has_required_anti_affinity() {
            n.pods_with_required_anti_affinity.push(pod_id);
            self.nodes_with_required_anti_affinity_pods.insert(node_id);
        }
    }

    fn remove_from_node(&mut self, id: PodId, node_id: NodeId) {
        let Some(p) = self.pods[id.0 as usize].as_deref() else { return };
        let n = &mut self.nodes[node_id.0 as usize];
        if !p.gpu_indices.is_empty() {
            let milli = crate::model::gpu::GpuRequest::from_pod(&p.pod).milli_per_gpu;
            for i in &p.gpu_indices {
                n.gpu_free_milli[*i as usize] += milli;
            }
        }
        n.requested.sub(&p.pod.requests);
        n.non_zero_cpu_millis -= p.pod.non_zero_cpu_millis;
        n.non_zero_memory_bytes -= p.pod.non_zero_memory_bytes;
        for hp in &p.pod.host_ports {
            if let Some(c) = n.used_ports.get_mut(hp) {
                *c -= 1;
                if *c == 0 {
                    n.used_ports.remove(hp);
                }
            }
        }
        n.pods.retain(|x| *x != id);
        n.pods_with_affinity.retain(|x| *x != id);
        n.pods_with_required_anti_affinity.retain(|x| *x != id);
        if n.pods_with_affinity.is_empty() {
            self.nodes_with_affinity_pods.remove(&node_id);
        }
        if n.pods_with_required_anti_affinity.is_empty() {
            self.nodes_with_required_anti_affinity_pods.remove(&node_id);
        }
    }

    /// Takes an assigned pod off its node for a what-if (preemption dry run); its phase is kept.
    /// Must be undone with [`ClusterState::attach`] before the event ends.
    pub fn detach(&mut self, id: PodId) {
        let p = self.pod(id);
        if let Some(n) = p.node
            && p.is_assigned()
        {
            self.remove_from_node(id, n);
            if let Some(p) = self.pod_mut(id) {
                p.detached = true;
            }
        }
    }

    /// Puts a detached pod back on its node.
    pub fn attach(&mut self, id: PodId) {
        if let Some(p) = self.pod_mut(id)
            && p.detached
            && let Some(n) = p.node
        {
            p.detached = false;
            self.add_to_node(id, n);
        }
    }

    /// Marks a pod as being deleted (after preemption).
    pub fn mark_terminating(&mut self, id: PodId) {
        if let Some(p) = self.pod_mut(id) {
            p.terminating = true;
        }
    }

    /// Counts one preemption of a pod.
    pub fn note_preempted(&mut self, id: PodId) {
        if let Some(p) = self.pod_mut(id) {
            p.preemptions += 1;
        }
    }

    /// Marks a bound, pending pod as Running.
    pub fn mark_running(&mut self, id: PodId, now: SimTime) {
        let Some(p) = self.pods.get_mut(id.0 as usize).and_then(|p| p.as_deref_mut()) else { return };
        debug_assert!(p.phase == PodPhase::Pending && p.node.is_some());
        self.phase_counts[p.phase as usize] -= 1;
        self.phase_counts[PodPhase::Running as usize] += 1;
        p.phase = PodPhase::Running;
        p.started = Some(now);
        p.epoch += 1;
    }

    /// Invalidates a pod's pending timers (container crash, node loss); returns the new epoch.
    pub fn bump_epoch(&mut self, id: PodId) -> u32 {
        let Some(p) = self.pod_mut(id) else { return u32::MAX };
        p.epoch += 1;
        p.epoch
    }

    /// Clears a pod's Ready condition (container crashed, node lost).
    pub fn set_not_ready(&mut self, id: PodId) {
        if let Some(p) = self.pod_mut(id) {
            p.ready_since = None;
        }
    }

    /// Counts one container restart.
    pub fn note_restart(&mut self, id: PodId) {
        if let Some(p) = self.pod_mut(id) {
            p.restarts += 1;
        }
    }

    /// Counts one eviction.
    pub fn note_evicted(&mut self, id: PodId) {
        if let Some(p) = self.pod_mut(id) {
            p.evictions += 1;
        }
    }

    /// Adds a PodDisruptionBudget (status computed later).
    pub fn add_pdb(&mut self, pdb: crate::controllers::disruption::Pdb) {
        self.pdbs.push((pdb, Default::default()));
    }

    /// PodDisruptionBudgets with their last computed status, in creation order.
    pub fn pdbs(&self) -> &[(crate::controllers::disruption::Pdb, crate::controllers::disruption::PdbStatus)] {
        &self.pdbs
    }

    /// Stores the status of budget `i`.
    pub fn set_pdb_status(&mut self, i: usize, status: crate::controllers::disruption::PdbStatus) {
        self.pdbs[i].1 = status;
    }

    /// Marks a running pod Ready (its readiness delay is over); the epoch is unchanged so that the
    /// pod's completion timer stays valid.
    pub fn mark_ready(&mut self, id: PodId, now: SimTime) {
        let Some(p) = self.pod_mut(id) else { return };
        if p.phase == PodPhase::Running && !p.terminating && p.ready_since.is_none() {
            p.ready_since = Some(now);
        }
    }

    /// Marks a pod as being deleted (graceful deletion): a terminating pod is not Ready.
    pub fn mark_deleting(&mut self, id: PodId) {
        let Some(p) = self.pod_mut(id) else { return };
        p.terminating = true;
        p.ready_since = None;
    }

    /// Drops what nothing reads once a pod has ended (per-container requests and limits,
    /// scheduling constraints), so that memory follows the live pods rather than every pod ever
    /// created. Identity, labels, annotations, owner, container names and images, the effective
    /// requests and the timing fields stay (controllers, summaries, `pods.csv` and library users
    /// read them). No-op for a live pod.
    pub fn slim_ended_pod(&mut self, id: PodId) {
        let Some(p) = self.pod_mut(id) else { return };
        if !p.phase.is_terminal() {
            return;
        }
        let pod = &mut p.pod;
        for c in pod.containers.iter_mut().chain(pod.init_containers.iter_mut()) {
            c.requests = Default::default();
            c.limits = Default::default();
            c.host_ports = Vec::new();
        }
        pod.node_selector = Default::default();
        pod.tolerations = Vec::new();
        pod.affinity = Default::default();
        pod.topology_spread_constraints = Vec::new();
        pod.host_ports = Vec::new();
    }

    /// Moves a pod to a terminal phase, releasing its node's resources if it held any.
    pub fn terminate(&mut self, id: PodId, phase: PodPhase, now: SimTime) {
        debug_assert!(phase.is_terminal());
        let Some(p) = self.pods.get_mut(id.0 as usize).and_then(|p| p.as_deref_mut()) else { return };
        if p.phase.is_terminal() {
            return;
        }
        let was_assigned = p.is_assigned();
        self.phase_counts[p.phase as usize] -= 1;
        self.phase_counts[phase as usize] += 1;
        p.phase = phase;
        p.finished = Some(now);
        p.ready_since = None;
        p.epoch += 1;
        self.pod_by_key.remove(&(p.pod.namespace.clone(), p.pod.name.clone()));
        if was_assigned && let Some(node_id) = p.node {
            self.remove_from_node(id, node_id);
        }
    }
}
