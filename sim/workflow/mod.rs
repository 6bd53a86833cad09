//! DAG workflows: jobs (groups of pods) that start only when every job they depend on has
//! completed, built on petgraph.
//!
//! A [`WorkflowSet`] is the compiled, validated graph (no cycle: a cycle is an error naming
//! it); [`Workflows`] is its run-time state, driven by the run loop: a job whose dependencies
//! are all complete is *released* (its pods are created) at its arrival time or when its last
//! dependency completes, whichever is later; a job is *complete* when all its pods have
//! succeeded. A job with a failed or deleted pod never completes, so its dependents never start
//! (there is no retry yet). The critical path of a workflow is the longest chain of job
//! durations through the graph: a lower bound of its completion time on an infinite cluster.
//!
//! Jobs come from a scenario's `workloads.workflows` ([`spec`]) or from traces whose pods name
//! dependencies (Alibaba v2018 `batch_task` task names, the generic CSV `depends_on` column).
//!
//! Determinism: jobs are kept in the order they are given (sorted by the callers), petgraph's
//! `DiGraph` is filled in that order, and all maps are `BTreeMap`s.

pub mod spec;

use crate::engine::time::SimTime;
use crate::model::pod::Pod;
use crate::run::summary::Stats;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Pod label naming the workflow a pod belongs to.
pub const LABEL_WORKFLOW: &str = "kubesim.io/workflow";

/// A job as given to [`WorkflowSet::build`].
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    /// The workflow it belongs to (for per-workflow figures).
    pub workflow: String,
    /// Its name, unique in the run.
    pub name: String,
    /// Earliest time its pods may be created.
    pub arrival: SimTime,
    /// Its pods (names unique in the run).
    pub pods: Vec<Pod>,
    /// Names of the jobs that must complete first.
    pub depends_on: Vec<String>,
    /// Its duration for the critical path: the longest constant run duration of its pods, in
    /// microseconds (pods without one count 0).
    pub duration_us: u64,
}

/// One compiled job.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// The job as given, with dependencies resolved.
    pub spec: JobSpec,
    /// Indices of the jobs it depends on.
    pub deps: Vec<usize>,
    /// Indices of the jobs that depend on it.
    pub dependents: Vec<usize>,
    /// Longest chain of durations ending with this job, in microseconds.
    pub path_us: u64,
}

/// The compiled workflows of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkflowSet {
    /// Jobs in the order given.
    pub jobs: Vec<Job>,
    /// Critical path per workflow (name order), in microseconds.
    pub critical_paths: BTreeMap<String, u64>,
}

/// The duration of a pod for the critical path: its constant run duration (else its mean).
pub fn pod_duration_us(pod: &Pod) -> u64 {
    pod.run.run_duration.as_ref().map(|d| d.mean_micros().round().max(0.0) as u64).unwrap_or(0)
}

/// Finds one cycle of `g` that goes through `start`, as node indices (`start` first).
fn cycle_through(g: &DiGraph<usize, ()>, start: NodeIndex, within: &BTreeSet<NodeIndex>) -> Vec<NodeIndex> {
    let mut parent: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = g.neighbors(n).collect();
        next.sort();
        for m in next {
            if m == start {
                let mut path = vec![n];
                let mut cur = n;
                while cur != start {
                    cur = parent[&cur];
                    path.push(cur);
                }
                path.reverse();
                return path;
            }
            if within.contains(&m) && !parent.contains_key(&m) && m != start {
                parent.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    vec![start]
}

impl WorkflowSet {
    /// Resolves names, checks there is no cycle (the error names one: `a → b → a`) and computes
    /// the critical paths.
    pub fn build(specs: Vec<JobSpec>) -> Result<WorkflowSet, String> {
        if specs.len() as u64 > crate::limits::MAX_WORKFLOW_JOBS {
            return Err(format!(
                "{} workflow jobs exceed the limit of {} (kubesim::limits::MAX_WORKFLOW_JOBS)",
                specs.len(),
                crate::limits::MAX_WORKFLOW_JOBS
            ));
        }
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, s) in specs.iter().enumerate() {
            if index.insert(s.name.as_str(), i).is_some() {
                return Err(format!("two workflow jobs are named {:?}", s.name));
            }
        }
        let mut g: DiGraph<usize, ()> = DiGraph::with_capacity(specs.len(), 0);
        let nodes: Vec<NodeIndex> = (0..specs.len()).map(|i| g.add_node(i)).collect();
        let mut deps = vec![Vec::new(); specs.len()];
        let mut dependents = vec![Vec::new(); specs.len()];
        for (i, s) in specs.iter().enumerate() {
            for d in &s.depends_on {
                let Some(&j) = index.get(d.as_str()) else {
                    return Err(format!("job {:?} depends on {d:?}, which is not a job of this run", s.name));
                };
                if !deps[i].contains(&j) {
                    deps[i].push(j);
                    dependents[j].push(i);
                    g.add_edge(nodes[j], nodes[i], ());
                }
            }
        }
        let order = match petgraph::algo::toposort(&g, None) {
            Ok(o) => o,
            Err(cycle) => {
                let sccs = petgraph::algo::tarjan_scc(&g);
                let start = cycle.node_id();
                let within: BTreeSet<NodeIndex> =
                    sccs.into_iter().find(|c| c.contains(&start)).unwrap_or_default().into_iter().collect();
                let mut path = cycle_through(&g, start, &within);
                // Start the message at the job given first, whatever node toposort tripped on.
                let first = (0..path.len()).min_by_key(|i| g[path[*i]]).unwrap_or(0);
                path.rotate_left(first);
                let mut names: Vec<&str> = path.iter().map(|n| specs[g[*n]].name.as_str()).collect();
                names.push(specs[g[path[0]]].name.as_str());
                return Err(format!("workflow jobs form a cycle: {}", names.join(" → ")));
            }
        };
        let mut path_us = vec![0u64; specs.len()];
        for n in order {
            let i = g[n];
            let before = deps[i].iter().map(|d| path_us[*d]).max().unwrap_or(0);
            path_us[i] = before.saturating_add(specs[i].duration_us);
        }
        let mut critical_paths: BTreeMap<String, u64> = BTreeMap::new();
        for (i, s) in specs.iter().enumerate() {
            let e = critical_paths.entry(s.workflow.clone()).or_insert(0);
            *e = (*e).max(path_us[i]);
        }
        let jobs = specs
            .into_iter()
            .enumerate()
            .map(|(i, spec)| Job {
                spec,
                deps: std::mem::take(&mut deps[i]),
                dependents: std::mem::take(&mut dependents[i]),
                path_us: path_us[i],
            })
            .collect();
        Ok(WorkflowSet { jobs, critical_paths })
    }

    /// True when there is no job.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }
}

/// Run-time state of the workflows of a run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Workflows {
    waiting_on: Vec<u32>,
    pods_left: Vec<u32>,
    released_us: Vec<Option<u64>>,
    completed_us: Vec<Option<u64>>,
    failed: Vec<bool>,
    pod_job: BTreeMap<(String, String), u32>,
}

impl Workflows {
    /// The state before the run: nothing released.
    pub fn new(set: &WorkflowSet) -> Self {
        let n = set.jobs.len();
        let mut pod_job = BTreeMap::new();
        for (i, j) in set.jobs.iter().enumerate() {
            for p in &j.spec.pods {
                pod_job.insert((p.namespace.clone(), p.name.clone()), i as u32);
            }
        }
        Workflows {
            waiting_on: set.jobs.iter().map(|j| j.deps.len() as u32).collect(),
            pods_left: set.jobs.iter().map(|j| j.spec.pods.len() as u32).collect(),
            released_us: vec![None; n],
            completed_us: vec![None; n],
            failed: vec![false; n],
            pod_job,
        }
    }

    /// Jobs without dependencies (to release at their arrival).
    pub fn initially_ready(&self) -> Vec<usize> {
        (0..self.waiting_on.len()).filter(|i| self.waiting_on[*i] == 0).collect()
    }

    /// The workflow job of a pod, if it belongs to one.
    pub fn job_of(&self, namespace: &str, name: &str) -> Option<usize> {
        self.pod_job.get(&(namespace.to_string(), name.to_string())).map(|j| *j as usize)
    }

    fn complete(&mut self, set: &WorkflowSet, job: usize, now: SimTime, ready: &mut Vec<usize>) {
        self.completed_us[job] = Some(now.0);
        for &d in &set.jobs[job].dependents {
            self.waiting_on[d] -= 1;
            if self.waiting_on[d] == 0 {
                ready.push(d);
            }
        }
    }

    /// Job `job` is released at `now` (its pods are being created). Returns the jobs that became
    /// ready because it completed at once (a job without pods).
    pub fn on_released(&mut self, set: &WorkflowSet, job: usize, now: SimTime) -> Vec<usize> {
        let mut ready = Vec::new();
        if self.released_us[job].is_some() {
            return ready;
        }
        self.released_us[job] = Some(now.0);
        if self.pods_left[job] == 0 {
            self.complete(set, job, now, &mut ready);
        }
        ready
    }

    /// A pod succeeded: returns the jobs that became ready (their last dependency completed),
    /// and whether the pod's job completed.
    pub fn on_pod_succeeded(
        &mut self,
        set: &WorkflowSet,
        namespace: &str,
        name: &str,
        now: SimTime,
    ) -> (Vec<usize>, Option<usize>) {
        let mut ready = Vec::new();
        let Some(job) = self.job_of(namespace, name) else { return (ready, None) };
        if self.failed[job] || self.pods_left[job] == 0 {
            return (ready, None);
        }
        self.pods_left[job] -= 1;
        if self.pods_left[job] == 0 {
            self.complete(set, job, now, &mut ready);
            return (ready, Some(job));
        }
        (ready, None)
    }

    /// A pod failed or was deleted: its job will never complete. Returns the job when it just
    /// failed.
    pub fn on_pod_failed(&mut self, namespace: &str, name: &str) -> Option<usize> {
        let job = self.job_of(namespace, name)?;
        if self.failed[job] || self.completed_us[job].is_some() {
            return None;
        }
        self.failed[job] = true;
        Some(job)
    }

    /// When the job was released and completed, in microseconds.
    pub fn times(&self, job: usize) -> (Option<u64>, Option<u64>) {
        (self.released_us[job], self.completed_us[job])
    }

    /// The `workflows` section of `summary.json`.
    pub fn summary(&self, set: &WorkflowSet) -> WorkflowSummary {
        let mut jct = Vec::new();
        // workflow → (earliest arrival, latest completion, all complete)
        let mut per: BTreeMap<&str, (u64, u64, bool)> = BTreeMap::new();
        for (i, j) in set.jobs.iter().enumerate() {
            if let (Some(r), Some(c)) = (self.released_us[i], self.completed_us[i]) {
                jct.push(c - r);
            }
            let e = per.entry(j.spec.workflow.as_str()).or_insert((u64::MAX, 0, true));
            e.0 = e.0.min(j.spec.arrival.0);
            match self.completed_us[i] {
                Some(c) => e.1 = e.1.max(c),
                None => e.2 = false,
            }
        }
        let wct: Vec<u64> = per.values().filter(|(_, _, done)| *done).map(|(a, c, _)| c.saturating_sub(*a)).collect();
        WorkflowSummary {
            workflows: per.len() as u64,
            workflows_completed: wct.len() as u64,
            jobs: set.jobs.len() as u64,
            jobs_completed: self.completed_us.iter().filter(|c| c.is_some()).count() as u64,
            jobs_failed: self.failed.iter().filter(|f| **f).count() as u64,
            jobs_never_released: self.released_us.iter().filter(|r| r.is_none()).count() as u64,
            critical_path_us: Stats::of(set.critical_paths.values().copied().collect()),
            job_completion_time_us: Stats::of(jct),
            workflow_completion_time_us: Stats::of(wct),
        }
    }
}

/// Workflow figures of `summary.json`.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct WorkflowSummary {
    /// Workflows.
    pub workflows: u64,
    /// Workflows whose every job completed.
    pub workflows_completed: u64,
    /// Jobs.
    pub jobs: u64,
    /// Jobs whose every pod succeeded.
    pub jobs_completed: u64,
    /// Jobs with a failed or deleted pod (never complete).
    pub jobs_failed: u64,
    /// Jobs never released (a dependency did not complete in time).
    pub jobs_never_released: u64,
    /// Critical path of each workflow: the longest chain of job durations (a lower bound of its
    /// completion time).
    pub critical_path_us: Stats,
    /// Job completion time: from the job's release (its pods' creation) to its last pod's
    /// success, over completed jobs.
    pub job_completion_time_us: Stats,
    /// Workflow completion time: from the workflow's earliest job arrival to its last job's
    /// completion, over completed workflows.
    pub workflow_completion_time_us: Stats,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, deps: &[&str], duration_s: u64) -> JobSpec {
        JobSpec {
            workflow: "w".into(),
            name: name.into(),
            arrival: SimTime::ZERO,
            pods: vec![],
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            duration_us: duration_s * 1_000_000,
        }
    }

    #[test]
    fn the_critical_path_is_the_longest_chain_of_durations() {
        // a(10) → b(5) → d(1); a → c(20) → d; e(3) alone.
        let set = WorkflowSet::build(vec![
            job("d", &["b", "c"], 1),
            job("a", &[], 10),
            job("b", &["a"], 5),
            job("c", &["a"], 20),
            job("e", &[], 3),
        ])
        .unwrap();
        assert_eq!(set.critical_paths["w"], 31_000_000);
        let paths: Vec<u64> = set.jobs.iter().map(|j| j.path_us / 1_000_000).collect();
        assert_eq!(paths, [31, 10, 15, 30, 3]);
    }

    #[test]
    fn a_cycle_is_an_error_naming_it() {
        let e =
            WorkflowSet::build(vec![job("a", &["c"], 1), job("b", &["a"], 1), job("c", &["b"], 1), job("x", &[], 1)])
                .unwrap_err();
        assert_eq!(e, "workflow jobs form a cycle: a → b → c → a");
        let e = WorkflowSet::build(vec![job("self", &["self"], 1)]).unwrap_err();
        assert_eq!(e, "workflow jobs form a cycle: self → self");
    }

    #[test]
    fn an_unknown_dependency_is_an_error() {
        let e = WorkflowSet::build(vec![job("a", &["ghost"], 1)]).unwrap_err();
        assert!(e.contains("\"a\" depends on \"ghost\""), "{e}");
    }

    fn pod(name: &str) -> Pod {
        crate::scheduler::testing::make_pod(name, &[])
    }

    #[test]
    fn jobs_are_released_only_when_their_last_dependency_completes() {
        let mut a = job("a", &[], 1);
        a.pods = vec![pod("a-0"), pod("a-1")];
        let mut b = job("b", &[], 1);
        b.pods = vec![pod("b-0")];
        let mut c = job("c", &["a", "b"], 1);
        c.pods = vec![pod("c-0")];
        let set = WorkflowSet::build(vec![a, b, c]).unwrap();
        let mut w = Workflows::new(&set);
        assert_eq!(w.initially_ready(), [0, 1]);
        assert!(w.on_released(&set, 0, SimTime(1)).is_empty());
        assert!(w.on_released(&set, 1, SimTime(1)).is_empty());
        assert_eq!(w.on_pod_succeeded(&set, "default", "a-0", SimTime(5)), (vec![], None));
        assert_eq!(w.on_pod_succeeded(&set, "default", "b-0", SimTime(6)), (vec![], Some(1)));
        assert_eq!(w.on_pod_succeeded(&set, "default", "a-1", SimTime(7)), (vec![2], Some(0)));
        assert_eq!(w.on_pod_succeeded(&set, "default", "unrelated", SimTime(7)), (vec![], None));
        w.on_released(&set, 2, SimTime(7));
        w.on_pod_succeeded(&set, "default", "c-0", SimTime(9));
        let s = w.summary(&set);
        assert_eq!((s.jobs, s.jobs_completed, s.workflows_completed), (3, 3, 1));
        assert_eq!(s.workflow_completion_time_us.max, 9);
        assert_eq!(s.job_completion_time_us.max, 6);
    }

    #[test]
    fn a_failed_pod_blocks_its_job_and_its_dependents() {
        let mut a = job("a", &[], 1);
        a.pods = vec![pod("a-0"), pod("a-1")];
        let b = job("b", &["a"], 1);
        let set = WorkflowSet::build(vec![a, b]).unwrap();
        let mut w = Workflows::new(&set);
        w.on_released(&set, 0, SimTime(0));
        assert_eq!(w.on_pod_failed("default", "a-0"), Some(0));
        assert_eq!(w.on_pod_succeeded(&set, "default", "a-1", SimTime(3)), (vec![], None));
        let s = w.summary(&set);
        assert_eq!((s.jobs_completed, s.jobs_failed, s.jobs_never_released), (0, 1, 1));
    }

    #[test]
    fn a_job_without_pods_completes_when_released() {
        let set = WorkflowSet::build(vec![job("gate", &[], 0), job("after", &["gate"], 1)]).unwrap();
        let mut w = Workflows::new(&set);
        assert_eq!(w.on_released(&set, 0, SimTime(4)), [1]);
    }
}
