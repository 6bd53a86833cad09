//! Metrics gathered during a run and the output files built from them: `summary.json`,
//! `pods.csv`, `nodes.csv`, the `timeseries.csv` rows, and `run.json`.
//!
//! Allocation ratios are time-weighted over Ready nodes: the integral of requested resources
//! divided by the integral of allocatable resources, both in exact integer arithmetic.

use crate::cluster::{ClusterState, NodeId, PodId, PodPhase};
use crate::engine::time::SimTime;
use crate::input::scenario::Scenario;
use crate::model::resources::Resources;
use crate::run::RunStats;
use crate::run::output::{ratio6, write_atomic};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The extended resource counted as GPUs (whole devices).
pub const GPU_RESOURCE: &str = "nvidia.com/gpu";

/// Columns of `timeseries.csv`.
pub const TIMESERIES_HEADER: &str = "time_us,nodes_ready,nodes_not_ready,pods_pending,pods_running,pods_succeeded,pods_failed,cpu_alloc_ratio,memory_alloc_ratio,gpu_alloc_ratio,cpu_usage_ratio\n";

/// Columns of `pods.csv`.
pub const PODS_HEADER: [&str; 18] = [
    "pod",
    "namespace",
    "owner_kind",
    "owner",
    "priority",
    "cpu_millis",
    "memory_bytes",
    "gpu_millis",
    "created_us",
    "scheduled_us",
    "started_us",
    "finished_us",
    "node",
    "final_phase",
    "scheduling_attempts",
    "preemptions",
    "evictions",
    "restarts",
];

/// Columns of `nodes.csv`.
pub const NODES_HEADER: [&str; 12] = [
    "node",
    "zone",
    "cpu_millis",
    "memory_bytes",
    "pods",
    "gpus",
    "cpu_alloc_ratio",
    "memory_alloc_ratio",
    "bindings",
    "failures",
    "ready_us",
    "not_ready_us",
];

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Triple {
    cpu: i64,
    mem: i64,
    gpu: i64,
}

impl Triple {
    fn of(r: &Resources) -> Self {
        Triple { cpu: r.cpu_millis, mem: r.memory_bytes, gpu: r.get(GPU_RESOURCE) }
    }
    fn add(&mut self, o: Triple, sign: i64) {
        self.cpu += sign * o.cpu;
        self.mem += sign * o.mem;
        self.gpu += sign * o.gpu;
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Integral {
    cpu: u128,
    mem: u128,
    gpu: u128,
}

impl Integral {
    fn add(&mut self, t: Triple, dt: u64) {
        self.cpu += t.cpu.max(0) as u128 * dt as u128;
        self.mem += t.mem.max(0) as u128 * dt as u128;
        self.gpu += t.gpu.max(0) as u128 * dt as u128;
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct NodeMetrics {
    last: SimTime,
    requested: Integral,
    ready_us: u64,
    not_ready_us: u64,
    bindings: u64,
}

/// Running metrics of a run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Metrics {
    last: SimTime,
    requested: Triple,
    capacity: Triple,
    requested_integral: Integral,
    capacity_integral: Integral,
    nodes_ready: u64,
    nodes: Vec<NodeMetrics>,
    created: u64,
    bindings: u64,
    ended: [u64; 5],
}

fn ratio(num: u128, den: u128) -> f64 {
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl Metrics {
    fn advance(&mut self, now: SimTime) {
        let dt = now.saturating_since(self.last).as_micros();
        if dt > 0 {
            self.requested_integral.add(self.requested, dt);
            self.capacity_integral.add(self.capacity, dt);
            self.last = now;
        }
    }

    fn contribution(cluster: &ClusterState, id: NodeId) -> (Triple, Triple, u64) {
        let n = cluster.node(id);
        if n.ready {
            (Triple::of(&n.requested), Triple::of(&n.node.allocatable), 1)
        } else {
            (Triple::default(), Triple::default(), 0)
        }
    }

    /// A node joined at `now`.
    pub fn node_added(&mut self, cluster: &ClusterState, id: NodeId, now: SimTime) {
        self.advance(now);
        if self.nodes.len() <= id.0 as usize {
            self.nodes.resize(id.0 as usize + 1, NodeMetrics::default());
        }
        self.nodes[id.0 as usize].last = now;
        self.node_after(cluster, id);
    }

    /// Call before anything about node `id` changes (its pods, readiness).
    pub fn node_before(&mut self, cluster: &ClusterState, id: NodeId, now: SimTime) {
        self.advance(now);
        let (req, cap, ready) = Self::contribution(cluster, id);
        self.requested.add(req, -1);
        self.capacity.add(cap, -1);
        self.nodes_ready -= ready;
        let nm = &mut self.nodes[id.0 as usize];
        let dt = now.saturating_since(nm.last).as_micros();
        nm.requested.add(req, dt);
        if ready == 1 {
            nm.ready_us += dt;
        } else {
            nm.not_ready_us += dt;
        }
        nm.last = now;
    }

    /// Call after node `id` changed.
    pub fn node_after(&mut self, cluster: &ClusterState, id: NodeId) {
        let (req, cap, ready) = Self::contribution(cluster, id);
        self.requested.add(req, 1);
        self.capacity.add(cap, 1);
        self.nodes_ready += ready;
    }

    /// A pod was created.
    pub fn pod_created(&mut self) {
        self.created += 1;
    }

    /// A pod was bound.
    pub fn pod_bound(&mut self, cluster: &ClusterState, pod: PodId) {
        self.bindings += 1;
        if let Some(n) = cluster.pod(pod).node {
            self.nodes[n.0 as usize].bindings += 1;
        }
    }

    /// A pod reached a terminal phase.
    pub fn pod_ended(&mut self, phase: PodPhase) {
        self.ended[phase as usize] += 1;
    }

    /// One `timeseries.csv` row at `now`.
    /// `cpu_usage_millis` is the modelled CPU usage (load curves), reported against allocatable.
    pub fn sample_row(&mut self, cluster: &ClusterState, now: SimTime, cpu_usage_millis: i64) -> String {
        self.advance(now);
        let total = cluster.live_node_count() as u64;
        let r = |a: i64, b: i64| if b <= 0 { 0.0 } else { a as f64 / b as f64 };
        format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            now.0,
            self.nodes_ready,
            total - self.nodes_ready,
            cluster.phase_count(PodPhase::Pending),
            cluster.phase_count(PodPhase::Running),
            cluster.phase_count(PodPhase::Succeeded),
            cluster.phase_count(PodPhase::Failed),
            ratio6(r(self.requested.cpu, self.capacity.cpu)),
            ratio6(r(self.requested.mem, self.capacity.mem)),
            ratio6(r(self.requested.gpu, self.capacity.gpu)),
            ratio6(r(cpu_usage_millis, self.capacity.cpu)),
        )
    }

    /// Closes every integral at `end`.
    pub fn finish(&mut self, cluster: &ClusterState, end: SimTime) {
        for i in 0..self.nodes.len() {
            self.node_before(cluster, NodeId(i as u32), end);
            self.node_after(cluster, NodeId(i as u32));
        }
        self.advance(end);
    }
}

/// Distribution statistics of a set of durations, in microseconds.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Stats {
    /// Number of samples.
    pub count: u64,
    /// Mean (rounded to whole microseconds).
    pub mean: u64,
    /// Median (nearest rank).
    pub p50: u64,
    /// 90th percentile (nearest rank).
    pub p90: u64,
    /// 99th percentile (nearest rank).
    pub p99: u64,
    /// Maximum.
    pub max: u64,
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], pct: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (pct as usize * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

impl Stats {
    /// Statistics of `values` (any order).
    pub fn of(mut values: Vec<u64>) -> Stats {
        if values.is_empty() {
            return Stats::default();
        }
        values.sort_unstable();
        let sum: u128 = values.iter().map(|v| *v as u128).sum();
        let n = values.len() as u128;
        Stats {
            count: n as u64,
            mean: ((sum + n / 2) / n) as u64,
            p50: percentile(&values, 50),
            p90: percentile(&values, 90),
            p99: percentile(&values, 99),
            max: *values.last().unwrap_or(&0),
        }
    }
}

/// Pod counts of `summary.json`.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Counts {
    /// Pods created.
    pub pods_created: u64,
    /// Pods bound to a node at least once.
    pub pods_scheduled: u64,
    /// Pods still pending and unbound at the end.
    pub unschedulable_at_end: u64,
    /// Pods running at the end.
    pub running_at_end: u64,
    /// Pods that succeeded.
    pub succeeded: u64,
    /// Pods that failed (killed by a node failure, rejected by the kubelet).
    pub failed: u64,
    /// Pods deleted by the timeline.
    pub deleted: u64,
    /// Pods preempted.
    pub preempted: u64,
    /// Pods evicted.
    pub evicted: u64,
    /// Container restarts.
    pub restarted: u64,
    /// Node failures.
    pub node_failures: u64,
}

/// Time-weighted allocation ratios over Ready nodes.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Allocation {
    /// CPU.
    pub cpu: f64,
    /// Memory.
    pub memory: f64,
    /// GPUs (`nvidia.com/gpu`); 0 without GPUs.
    pub gpu: f64,
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// Scheduler name.
    pub scheduler: String,
    /// Simulated time covered.
    pub simulated_duration_us: u64,
    /// Counts.
    pub counts: Counts,
    /// Creation to binding, over pods bound at least once.
    pub pending_time_us: Stats,
    /// Creation to Running, over pods that started.
    pub startup_latency_us: Stats,
    /// 99th percentile of start-up latency (the Kubernetes SLO is ≤ 5 s).
    pub startup_latency_p99_us: u64,
    /// First creation to last completion of a pod that succeeded (null when none did).
    pub makespan_us: Option<u64>,
    /// Time-weighted allocation.
    pub allocation: Allocation,
    /// Manifest fields present in the inputs but not modelled.
    pub ignored_manifest_fields: Vec<String>,
    /// DAG workflow figures (absent without workflows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflows: Option<crate::workflow::WorkflowSummary>,
    /// SHA-256 of `events.jsonl`.
    pub trace_digest: String,
    /// Workload availability, convergence and Job completions (absent without workloads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workloads: Option<crate::run::workload_metrics::WorkloadsSummary>,
    /// Cluster-autoscaler node counts (absent without node groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_autoscaler: Option<crate::run::autoscaler::AutoscalerSummary>,
    /// Per-Service endpoints, availability and load, by `namespace/name` (absent without Services).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<std::collections::BTreeMap<String, crate::services::metrics::ServiceSummary>>,
    /// Claims and volumes at the end (only when the scenario has storage objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes: Option<crate::model::volume::VolumeSummary>,
    /// GPU devices at the end of the run, on Ready nodes (absent without GPUs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_at_end: Option<GpuAtEnd>,
    /// Pods refused at admission (absent without ResourceQuota or LimitRange).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission: Option<crate::run::admission::AdmissionSummary>,
    /// Control-plane writes and throttling (absent without a `controlPlane` block).
    #[serde(rename = "controlPlane", skip_serializing_if = "Option::is_none")]
    pub control_plane: Option<crate::apiserver::ControlPlaneSummary>,
}

/// GPU devices at the end of a run, on Ready nodes (per-device milli-GPU, SPEC §4). With an
/// arrival-mode trace replay this is the FGD paper's measure once the whole (inflated) demand has
/// arrived: `unallocated_pct` is the share of GPU capacity left unallocated.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct GpuAtEnd {
    /// GPU devices.
    pub devices: u64,
    /// Their capacity, milli-GPU (1,000 per device).
    pub capacity_milli: i64,
    /// Milli-GPU allocated to pods.
    pub allocated_milli: i64,
    /// `100 × (capacity − allocated) / capacity`, rounded to 6 decimals.
    pub unallocated_pct: f64,
}

/// The [`GpuAtEnd`] figures of `cluster`, `None` without GPU devices on Ready nodes.
pub fn gpu_at_end(cluster: &ClusterState) -> Option<GpuAtEnd> {
    let mut g = GpuAtEnd::default();
    for n in cluster.nodes().iter().filter(|n| n.ready) {
        g.devices += n.gpu_free_milli.len() as u64;
        g.capacity_milli += n.gpu_free_milli.len() as i64 * crate::model::gpu::MILLI;
        g.allocated_milli += n.gpu_free_milli.iter().map(|f| crate::model::gpu::MILLI - f).sum::<i64>();
    }
    if g.devices == 0 {
        return None;
    }
    g.unallocated_pct = round6(100.0 * (g.capacity_milli - g.allocated_milli) as f64 / g.capacity_milli as f64);
    Some(g)
}

/// Builds the summary at the end of a run.
pub fn build(sc: &Scenario, cluster: &ClusterState, m: &Metrics, end: SimTime, trace_digest: String) -> Summary {
    // Every pod: those released during the run were folded in as they went, add the rest.
    let mut all = cluster.released().clone();
    for p in cluster.pods() {
        all.add(p);
    }
    let startup_stats = Stats::of(all.startup_us);
    Summary {
        scenario: sc.name.clone(),
        seed: sc.seed,
        scheduler: sc.scheduler.clone(),
        simulated_duration_us: end.0,
        counts: Counts {
            pods_created: m.created,
            pods_scheduled: all.scheduled,
            unschedulable_at_end: cluster.pods().filter(|p| p.phase == PodPhase::Pending && p.node.is_none()).count()
                as u64,
            running_at_end: cluster.phase_count(PodPhase::Running),
            succeeded: m.ended[PodPhase::Succeeded as usize],
            failed: m.ended[PodPhase::Failed as usize],
            deleted: m.ended[PodPhase::Deleted as usize],
            preempted: all.preemptions,
            evicted: all.evictions,
            restarted: all.restarts,
            node_failures: cluster.nodes().iter().map(|n| n.failures as u64).sum(),
        },
        pending_time_us: Stats::of(all.pending_us),
        startup_latency_p99_us: startup_stats.p99,
        startup_latency_us: startup_stats,
        makespan_us: match (all.first_created, all.last_succeeded) {
            (Some(f), Some(l)) => Some(l.saturating_since(f).0),
            _ => None,
        },
        allocation: Allocation {
            cpu: round6(ratio(m.requested_integral.cpu, m.capacity_integral.cpu)),
            memory: round6(ratio(m.requested_integral.mem, m.capacity_integral.mem)),
            gpu: round6(ratio(m.requested_integral.gpu, m.capacity_integral.gpu)),
        },
        ignored_manifest_fields: sc.ignored_fields.iter().cloned().collect(),
        workflows: None,
        trace_digest: format!("sha256:{trace_digest}"),
        workloads: None,
        cluster_autoscaler: None,
        services: None,
        volumes: None,
        gpu_at_end: gpu_at_end(cluster),
        admission: None,
        control_plane: None,
    }
}

fn opt(t: Option<SimTime>) -> String {
    t.map(|t| t.0.to_string()).unwrap_or_default()
}

/// `pods.csv` as bytes, every pod still in the store in creation order (a run streams the rows
/// of every pod, in the order pods ended and then the live ones: see [`pod_row`]).
pub fn pods_csv(cluster: &ClusterState) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(PODS_HEADER)?;
    for (i, _) in cluster.pod_entries() {
        write_pod_row(&mut w, cluster, i)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The header line of `pods.csv`.
pub fn pods_csv_header() -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(PODS_HEADER);
    w.into_inner().unwrap_or_default()
}

/// One `pods.csv` line (with its newline) for pod `id`.
pub fn pod_row(cluster: &ClusterState, id: PodId) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(160));
    write_pod_row(&mut w, cluster, id)?;
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

fn write_pod_row<W: std::io::Write>(
    w: &mut csv::Writer<W>,
    cluster: &ClusterState,
    id: PodId,
) -> Result<(), csv::Error> {
    let p = cluster.pod(id);
    let (ok, on) = match &p.pod.owner {
        Some(o) => (o.kind.as_str(), o.name.as_str()),
        None => ("", ""),
    };
    let node = p.node.map(|n| cluster.node(n).node.name.clone()).unwrap_or_default();
    w.write_record([
        p.pod.name.as_str(),
        p.pod.namespace.as_str(),
        ok,
        on,
        &p.pod.priority.to_string(),
        &p.pod.requests.cpu_millis.to_string(),
        &p.pod.requests.memory_bytes.to_string(),
        &crate::model::gpu::GpuRequest::from_pod(&p.pod).total_milli().to_string(),
        &p.created.0.to_string(),
        &opt(p.scheduled),
        &opt(p.started),
        &opt(p.finished),
        &node,
        p.phase.as_str(),
        &p.scheduling_attempts.to_string(),
        &p.preemptions.to_string(),
        &p.evictions.to_string(),
        &p.restarts.to_string(),
    ])
}

/// `nodes.csv` as bytes.
pub fn nodes_csv(cluster: &ClusterState, m: &Metrics) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(NODES_HEADER)?;
    for (i, n) in cluster.nodes().iter().enumerate() {
        let nm = m.nodes.get(i).cloned().unwrap_or_default();
        let a = &n.node.allocatable;
        let time = (nm.ready_us as u128).max(1);
        let cpu = ratio(nm.requested.cpu, a.cpu_millis.max(0) as u128 * time);
        let mem = ratio(nm.requested.mem, a.memory_bytes.max(0) as u128 * time);
        w.write_record([
            n.node.name.as_str(),
            n.node.zone(),
            &a.cpu_millis.to_string(),
            &a.memory_bytes.to_string(),
            &a.pods.to_string(),
            &a.get(GPU_RESOURCE).to_string(),
            &ratio6(cpu),
            &ratio6(mem),
            &nm.bindings.to_string(),
            &n.failures.to_string(),
            &nm.ready_us.to_string(),
            &nm.not_ready_us.to_string(),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Writes `summary.json`, `nodes.csv` and `run.json` atomically (`pods.csv` is streamed).
pub fn write_all(
    dir: &Path,
    _sc: &Scenario,
    cluster: &ClusterState,
    m: &Metrics,
    summary: &Summary,
    stats: &RunStats,
) -> std::io::Result<()> {
    write_atomic(dir, "nodes.csv", &nodes_csv(cluster, m).map_err(io)?)?;
    let mut s = serde_json::to_vec_pretty(summary).map_err(io)?;
    s.push(b'\n');
    write_atomic(dir, "summary.json", &s)?;
    let mut r = serde_json::to_vec_pretty(stats).map_err(io)?;
    r.push(b'\n');
    write_atomic(dir, "run.json", &r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let s = Stats::of((1..=100).collect());
        assert_eq!((s.p50, s.p90, s.p99, s.max, s.mean), (50, 90, 99, 100, 51));
        assert_eq!(Stats::of(vec![7]).p99, 7);
        assert_eq!(Stats::of(vec![]).count, 0);
    }
}
