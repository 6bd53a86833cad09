//! `workloads.traces` in a scenario: trace sources compiled into the run's nodes, timeline and
//! workflow jobs.
//!
//! ```yaml
//! workloads:
//!   traces:
//!   - format: generic          # dlrm | alibaba2018 | google2011 | philly | generic
//!     path: traces/small.csv   # relative to the scenario (alibaba2018: batch_task, optional)
//!     machines: machine_meta.csv  # alibaba2018 only: the node timeline
//!     limit: 1000              # keep the first 1000 pods
//!     timeScale: 0.5           # play twice as fast
//!     start: 1m                # the trace's time 0 is at 1m into the run
//!     namespace: batch
//!     machine: {cpu: "64", memory: 256Gi}  # what normalised sizes mean (google2011, alibaba2018)
//! ```
//!
//! Each pod arrives (a timeline `addPod`) at its trace time; a pod with a deletion time is
//! deleted then (`deletePod`). Pods that belong to a workflow job (they name dependencies, or
//! others depend on them) are held back and created when their job is released (see
//! [`crate::workflow`]). Trace nodes join the cluster: present from the start, or added at their
//! first event (`Add`); `Fail` / `Remove` fail them and `Recover` / a later `Add` recover them.
//! Pods and events after the end of the run are dropped. A DLRM `max_instance_per_node` cap
//! becomes the `kubesim.io/max-per-node` annotation the `MaxPerNode` filter enforces.

use crate::engine::time::SimTime;
use crate::input::error::InputError;
use crate::input::go_duration::GoDuration;
use crate::input::scenario::Action;
use crate::model::node::Node;
use crate::model::resources::{CPU, MEMORY, ResourceList};
use crate::trace::generic::OWNER_KIND_WORKFLOW_JOB;
use crate::trace::rows::LoadOptions;
use crate::trace::{NodeEventKind, Trace, TracePod};
use crate::workflow::{JobSpec, LABEL_WORKFLOW, pod_duration_us};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Trace formats a scenario can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceFormat {
    /// Alibaba 2025 DLRM serving trace ([`crate::trace::dlrm`]).
    Dlrm,
    /// Alibaba v2018 `batch_task` and / or `machine_meta` ([`crate::trace::alibaba2018`]).
    Alibaba2018,
    /// Google 2011 `task_events` ([`crate::trace::google2011`]).
    Google2011,
    /// Microsoft Philly ([`crate::trace::philly`]).
    Philly,
    /// The documented generic CSV ([`crate::trace::generic`]).
    Generic,
    /// Alibaba GPU v2023 openb pod list (`path`) and node list (`nodes`) ([`crate::trace::openb`]).
    Openb,
}

/// One `workloads.traces` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TraceSource {
    /// The format.
    pub format: TraceFormat,
    /// The trace file (relative to the scenario).
    #[serde(default)]
    pub path: Option<String>,
    /// Alibaba v2018 `machine_meta` (relative to the scenario).
    #[serde(default)]
    pub machines: Option<String>,
    /// Keep only the first pods.
    #[serde(default)]
    pub limit: Option<u64>,
    /// Multiply every time and duration (default 1).
    #[serde(default)]
    pub time_scale: Option<f64>,
    /// Run time of the trace's time 0 (default 0s).
    #[serde(default)]
    pub start: Option<GoDuration>,
    /// Namespace of the pods (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// openb: the node list (relative to the scenario).
    #[serde(default)]
    pub nodes: Option<String>,
    /// openb: `timed` (default; creation and deletion times) or `arrival` (pods in order, never
    /// deleted).
    #[serde(default)]
    pub mode: Option<crate::trace::openb::Mode>,
    /// openb arrival mode: inflate the GPU demand to this multiple of the node list's GPU
    /// capacity (seeded shuffle and cloning, as the FGD pipeline does).
    #[serde(default)]
    pub inflate: Option<f64>,
    /// What a normalised size of 1 (Google 2011) or 100 (Alibaba v2018) stands for:
    /// `{cpu: "64", memory: 256Gi}` (the default).
    #[serde(default)]
    pub machine: Option<ResourceList>,
}

fn resolve(base_dir: &Path, rel: &str) -> std::path::PathBuf {
    let p = Path::new(rel);
    if p.is_absolute() { p.to_path_buf() } else { base_dir.join(p) }
}

/// Loads one source.
/// `seed` drives the loaders that draw randomly (openb's inflation shuffle): the scenario's seed.
pub fn load_source(
    src: &TraceSource,
    base_dir: &Path,
    shown: &str,
    field: &str,
    seed: u64,
) -> Result<Trace, InputError> {
    let mut opts = LoadOptions { limit: src.limit, ..Default::default() };
    if let Some(s) = src.time_scale {
        opts.time_scale = s;
    }
    if let Some(ns) = &src.namespace {
        opts.namespace = ns.clone();
    }
    if let Some(m) = &src.machine {
        for k in m.0.keys() {
            if k != CPU && k != MEMORY {
                return Err(InputError::file(shown, format!("machine: expected cpu and memory, got {k:?}"))
                    .with_field(format!("{field}.machine")));
            }
        }
        if let Some(c) = m.get(CPU) {
            opts.machine_cpu_millis = c;
        }
        if let Some(b) = m.get(MEMORY) {
            opts.machine_memory_bytes = b;
        }
    }
    opts.validate(shown)
        .map_err(|e| InputError { field: Some(format!("{field}.{}", e.field.unwrap_or_default())), ..e })?;
    let path = src.path.as_ref().map(|p| resolve(base_dir, p));
    let machines = src.machines.as_ref().map(|p| resolve(base_dir, p));
    if machines.is_some() && src.format != TraceFormat::Alibaba2018 {
        return Err(InputError::file(shown, "`machines` is only for format alibaba2018 (machine_meta)")
            .with_field(format!("{field}.machines")));
    }
    let need_path = || {
        path.as_deref()
            .ok_or_else(|| InputError::file(shown, "a trace source needs a `path`").with_field(format!("{field}.path")))
    };
    match src.format {
        TraceFormat::Dlrm => crate::trace::dlrm::load(need_path()?, &opts),
        TraceFormat::Google2011 => crate::trace::google2011::load(need_path()?, &opts),
        TraceFormat::Philly => crate::trace::philly::load(need_path()?, &opts),
        TraceFormat::Generic => crate::trace::generic::load(need_path()?, &opts),
        TraceFormat::Openb => {
            let nodes = src.nodes.as_ref().map(|n| resolve(base_dir, n));
            crate::trace::openb::load_source(
                need_path()?,
                nodes.as_deref(),
                src.mode.unwrap_or(crate::trace::openb::Mode::Timed),
                src.inflate,
                seed,
            )
            .map_err(|e| if e.field.is_none() { e.with_field(field.to_string()) } else { e })
        }
        TraceFormat::Alibaba2018 => {
            if path.is_none() && machines.is_none() {
                return Err(InputError::file(
                    shown,
                    "alibaba2018 needs `path` (batch_task), `machines` (machine_meta) or both",
                )
                .with_field(format!("{field}.path")));
            }
            crate::trace::alibaba2018::load_both(path.as_deref(), machines.as_deref(), &opts)
        }
    }
}

/// The workflow job a trace pod belongs to: its `WorkflowJob` owner, else the pod itself.
fn job_key(p: &TracePod) -> &str {
    match &p.pod.owner {
        Some(o) if o.kind == OWNER_KIND_WORKFLOW_JOB => &o.name,
        _ => &p.pod.name,
    }
}

/// Where a scenario's trace sources are compiled: the scenario's folder and name as shown in
/// messages, the end of the run, and the run's seed.
#[derive(Clone, Copy, Debug)]
pub struct CompileContext<'a> {
    /// The folder relative trace paths start from.
    pub base_dir: &'a Path,
    /// The scenario file as error messages name it.
    pub shown: &'a str,
    /// The end of the run (later pods and events are dropped).
    pub end: SimTime,
    /// The run's seed (openb's inflation shuffle).
    pub seed: u64,
}

/// Compiles the scenario's trace sources: appends their nodes (with whether each is present from
/// the start), timeline actions and workflow jobs. The caller sorts the timeline.
pub fn compile_into(
    sources: &[TraceSource],
    cx: &CompileContext<'_>,
    nodes: &mut Vec<(Node, bool)>,
    timeline: &mut Vec<(SimTime, Action)>,
    jobs: &mut Vec<JobSpec>,
) -> Result<(), InputError> {
    for (i, src) in sources.iter().enumerate() {
        let field = format!("workloads.traces[{i}]");
        let trace = load_source(src, cx.base_dir, cx.shown, &field, cx.seed)?;
        let file = src.path.as_ref().map(|p| resolve(cx.base_dir, p).display().to_string()).unwrap_or_default();
        let offset = src.start.as_ref().map(|d| d.0).unwrap_or(0);
        add_trace(trace, offset, cx.end, &file, nodes, timeline, jobs)?;
    }
    Ok(())
}

/// Adds one loaded trace, its time 0 at `offset_us`.
pub fn add_trace(
    trace: Trace,
    offset_us: u64,
    end: SimTime,
    file: &str,
    nodes: &mut Vec<(Node, bool)>,
    timeline: &mut Vec<(SimTime, Action)>,
    jobs: &mut Vec<JobSpec>,
) -> Result<(), InputError> {
    let at = |t: u64| SimTime(t.saturating_add(offset_us));
    // Nodes and their timeline.
    let mut first: BTreeMap<&str, NodeEventKind> = BTreeMap::new();
    for e in &trace.node_events {
        first.entry(e.node.as_str()).or_insert(e.kind);
    }
    let by_name: BTreeMap<&str, &Node> = trace.nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    for n in &trace.nodes {
        if first.get(n.name.as_str()) != Some(&NodeEventKind::Add) {
            nodes.push((n.clone(), true));
        }
    }
    let mut added = BTreeSet::new();
    for e in &trace.node_events {
        let t = at(e.time_us);
        if t > end {
            continue;
        }
        let action = match e.kind {
            NodeEventKind::Add
                if !added.contains(e.node.as_str()) && first.get(e.node.as_str()) == Some(&NodeEventKind::Add) =>
            {
                added.insert(e.node.as_str());
                match by_name.get(e.node.as_str()) {
                    Some(n) => Action::AddNode(Box::new((*n).clone())),
                    None => continue,
                }
            }
            NodeEventKind::Add | NodeEventKind::Recover => Action::RecoverNode(e.node.clone()),
            NodeEventKind::Fail | NodeEventKind::Remove => Action::FailNode(e.node.clone()),
        };
        timeline.push((t, action));
    }
    // Workflow jobs: groups that name dependencies or are named by one.
    let mut groups: BTreeSet<String> =
        trace.pods.iter().filter(|p| !p.depends_on.is_empty()).map(|p| job_key(p).to_string()).collect();
    groups.extend(trace.pods.iter().flat_map(|p| p.depends_on.iter().cloned()));
    let keys: BTreeSet<&str> = trace.pods.iter().map(job_key).collect();
    for p in &trace.pods {
        for d in &p.depends_on {
            if !keys.contains(d.as_str()) {
                return Err(InputError::at(
                    file,
                    p.line,
                    1,
                    "depends_on",
                    format!("pod {:?} depends on {d:?}, which is neither a job nor a pod of this trace", p.pod.name),
                ));
            }
        }
    }
    drop(keys);
    let mut job_index: BTreeMap<String, usize> = BTreeMap::new();
    for p in trace.pods {
        let key = job_key(&p).to_string();
        if !groups.contains(&key) {
            let t = at(p.created_us);
            if t > end {
                continue;
            }
            // The deletion goes after the creation (the sort is stable for equal times).
            let delete = p
                .deleted_us
                .filter(|d| at(*d) <= end)
                .map(|d| (at(d), Action::DeletePod { namespace: p.pod.namespace.clone(), name: p.pod.name.clone() }));
            timeline.push((t, Action::AddPod(Box::new(p.pod))));
            timeline.extend(delete);
            continue;
        }
        let idx = *job_index.entry(key.clone()).or_insert_with(|| {
            jobs.push(JobSpec {
                workflow: p.pod.labels.get(LABEL_WORKFLOW).cloned().unwrap_or_else(|| key.clone()),
                name: key.clone(),
                arrival: at(p.created_us),
                pods: vec![],
                depends_on: vec![],
                duration_us: 0,
            });
            jobs.len() - 1
        });
        let j = &mut jobs[idx];
        j.arrival = j.arrival.min(at(p.created_us));
        j.duration_us = j.duration_us.max(pod_duration_us(&p.pod));
        for d in &p.depends_on {
            if !j.depends_on.contains(d) {
                j.depends_on.push(d.clone());
            }
        }
        j.pods.push(p.pod);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::rows::{make_pod, trace_pod};

    fn tp(name: &str, created_s: u64, deleted_s: Option<u64>, deps: &[&str]) -> TracePod {
        let pod = make_pod(name.into(), "default", Default::default(), Default::default(), 0, Some(10_000_000));
        let mut p = trace_pod(pod, created_s * 1_000_000, deleted_s.map(|d| d * 1_000_000), 2);
        p.depends_on = deps.iter().map(|d| d.to_string()).collect();
        p
    }

    type Timeline = Vec<(SimTime, Action)>;

    fn compile(trace: Trace, offset_us: u64) -> Result<(Timeline, Vec<JobSpec>), InputError> {
        let (mut nodes, mut timeline, mut jobs) = (vec![], vec![], vec![]);
        add_trace(trace, offset_us, SimTime(100_000_000), "t.csv", &mut nodes, &mut timeline, &mut jobs)?;
        Ok((timeline, jobs))
    }

    #[test]
    fn independent_pods_arrive_on_the_timeline_and_dependency_chains_become_workflow_jobs() {
        let trace = Trace {
            pods: vec![tp("a", 0, None, &[]), tp("b", 5, None, &["a"]), tp("solo", 7, Some(9), &[])],
            ..Default::default()
        };
        let (timeline, jobs) = compile(trace, 1_000_000).unwrap();
        let names: Vec<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["a", "b"], "a is depended on, b depends");
        assert_eq!(jobs[1].depends_on, ["a"]);
        assert_eq!((jobs[1].arrival, jobs[1].duration_us), (SimTime(6_000_000), 10_000_000));
        assert!(matches!(&timeline[0], (SimTime(8_000_000), Action::AddPod(p)) if p.name == "solo"));
        assert!(matches!(&timeline[1], (SimTime(10_000_000), Action::DeletePod { name, .. }) if name == "solo"));
    }

    #[test]
    fn a_pod_deleted_when_it_is_created_is_created_first() {
        let trace = Trace { pods: vec![tp("x", 3, Some(3), &[])], ..Default::default() };
        let (timeline, _) = compile(trace, 0).unwrap();
        assert!(matches!(timeline[0].1, Action::AddPod(_)));
        assert!(matches!(timeline[1].1, Action::DeletePod { .. }));
    }

    #[test]
    fn pods_after_the_end_of_the_run_are_dropped() {
        let trace = Trace { pods: vec![tp("late", 200, None, &[])], ..Default::default() };
        assert!(compile(trace, 0).unwrap().0.is_empty());
    }

    #[test]
    fn a_dependency_on_an_unknown_name_is_an_error_at_the_pod_line() {
        let trace = Trace { pods: vec![tp("b", 5, None, &["ghost"])], ..Default::default() };
        let e = compile(trace, 0).unwrap_err();
        assert_eq!((e.file.as_str(), e.line, e.field.as_deref()), ("t.csv", Some(2), Some("depends_on")));
        assert!(e.message.contains("\"ghost\""), "{e}");
    }

    #[test]
    fn nodes_first_seen_later_are_added_on_the_timeline() {
        let n = |name: &str| Node {
            name: name.into(),
            labels: Default::default(),
            taints: vec![],
            allocatable: Default::default(),
            images: vec![],
            unschedulable: false,
        };
        let ev = |t: u64, node: &str, kind| crate::trace::NodeEvent { time_us: t, node: node.into(), kind };
        let trace = Trace {
            nodes: vec![n("early"), n("late")],
            node_events: vec![
                ev(1, "early", NodeEventKind::Fail),
                ev(2, "late", NodeEventKind::Add),
                ev(3, "early", NodeEventKind::Recover),
                ev(4, "late", NodeEventKind::Remove),
            ],
            ..Default::default()
        };
        let (mut nodes, mut timeline, mut jobs) = (vec![], vec![], vec![]);
        add_trace(trace, 0, SimTime(10), "m.csv", &mut nodes, &mut timeline, &mut jobs).unwrap();
        assert_eq!(nodes.iter().map(|(n, up)| (n.name.as_str(), *up)).collect::<Vec<_>>(), [("early", true)]);
        let kinds: Vec<String> = timeline
            .iter()
            .map(|(t, a)| match a {
                Action::AddNode(n) => format!("{} add {}", t.0, n.name),
                Action::FailNode(n) => format!("{} fail {n}", t.0),
                Action::RecoverNode(n) => format!("{} recover {n}", t.0),
                _ => "other".into(),
            })
            .collect();
        assert_eq!(kinds, ["1 fail early", "2 add late", "3 recover early", "4 fail late"]);
    }
}
