//! Workload metrics: `workloads.csv` (one row per workload at each sample), per-workload
//! availability, convergence time after each disruption, and Job completion times, for
//! `summary.json`'s `workloads` section.
//!
//! - **Availability** of a workload is the fraction of its observed time during which its
//!   available pods were at least its desired count; the state seen at a sample holds until the
//!   next sample (so the figure has the sample period's resolution).
//! - **Convergence**: a disruption is a timeline action, a node failure or a fault event. It is
//!   converged at the first event after which every service workload (Deployment, StatefulSet,
//!   DaemonSet, ReplicaSet without owner) is settled (its ready pods reach the desired count with
//!   its rollout complete); all disruptions open at that moment converge together.

use crate::cluster::ClusterState;
use crate::controllers::{ObjectKey, SyncContext, Workload, WorkloadStore};
use crate::engine::time::SimTime;
use crate::run::output::StreamFile;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What changed, since the last convergence check, of what the service workloads' settled state
/// is computed from (their objects, their pods, the nodes).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct WorkloadChanges {
    /// Something changed.
    pub any: bool,
    /// Something changed that may concern every workload (nodes, a creation or deletion, a
    /// timeline action, a disruption).
    pub all: bool,
    /// The workloads changed (an object, or a pod it owns directly or through a child).
    pub uids: BTreeSet<u64>,
}

impl WorkloadChanges {
    /// Workload `uid` changed.
    pub fn touch(&mut self, uid: u64) {
        self.any = true;
        self.uids.insert(uid);
    }

    /// Something changed that may concern any workload.
    pub fn touch_all(&mut self) {
        self.any = true;
        self.all = true;
    }

    /// True when workload `uid` may have changed.
    pub fn concerns(&self, uid: u64) -> bool {
        self.all || self.uids.contains(&uid)
    }
}

/// Columns of `workloads.csv`.
pub const WORKLOADS_HEADER: &str = "time_us,kind,namespace,name,desired,ready,available\n";

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
struct Avail {
    last_sample: SimTime,
    last_ok: bool,
    observed_us: u64,
    available_us: u64,
}

/// One disruption and when the workloads converged after it.
#[derive(Clone, Debug, Serialize, PartialEq, serde::Deserialize)]
pub struct Disruption {
    /// When it happened.
    pub time_us: u64,
    /// What it was (`timeline:scale`, `node_failure:pool-3`, ...).
    pub cause: String,
    /// Time from the disruption to convergence (null: not converged by the end of the run).
    pub convergence_us: Option<u64>,
}

/// Availability of one workload.
#[derive(Clone, Debug, Serialize, PartialEq, serde::Deserialize)]
pub struct WorkloadAvailability {
    /// `Kind/namespace/name`.
    pub workload: String,
    /// Fraction of observed time with available ≥ desired (6 decimals).
    pub availability: f64,
}

/// One Job's completion.
#[derive(Clone, Debug, Serialize, PartialEq, serde::Deserialize)]
pub struct JobCompletion {
    /// `namespace/name`.
    pub job: String,
    /// Creation time.
    pub created_us: u64,
    /// Completion (or failure) time; null while running.
    pub finished_us: Option<u64>,
    /// `finished − created`.
    pub duration_us: Option<u64>,
    /// `Complete` / `Failed` / `Running`.
    pub outcome: String,
}

/// The `workloads` section of `summary.json`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, serde::Deserialize)]
pub struct WorkloadsSummary {
    /// Per-workload availability (service workloads).
    pub availability: Vec<WorkloadAvailability>,
    /// Each disruption with its convergence time.
    pub disruptions: Vec<Disruption>,
    /// Largest convergence time (null when there was none).
    pub max_convergence_us: Option<u64>,
    /// Jobs.
    pub jobs: Vec<JobCompletion>,
    /// First Job creation to last Job completion (null without finished Jobs).
    pub jobs_makespan_us: Option<u64>,
}

/// Running workload metrics (checkpointed; `csv` keeps only its length, see
/// [`WorkloadMetrics::reattach`]).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct WorkloadMetrics {
    csv: StreamFile,
    avail: BTreeMap<ObjectKey, Avail>,
    disruptions: Vec<Disruption>,
    first_open: usize,
    jobs: BTreeMap<ObjectKey, JobCompletion>,
    /// The service workload the last convergence check found unsettled.
    blocking: Option<u64>,
}

impl WorkloadMetrics {
    /// Reopens `workloads.csv`'s temporary in `dir` at the checkpointed length (resume).
    pub fn reattach(&mut self, dir: Option<&std::path::Path>) -> std::io::Result<()> {
        let len = self.csv.len();
        self.csv = match dir {
            Some(d) => StreamFile::reopen(d, "workloads.csv", false, len)?,
            None => StreamFile::discard_from(len),
        };
        Ok(())
    }

    /// Flushes `workloads.csv` (before a checkpoint).
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.csv.flush()
    }

    /// Leaves `workloads.csv`'s temporary in place (an interrupted, checkpointed run).
    pub fn keep(self) -> std::io::Result<()> {
        self.csv.keep()
    }

    /// Metrics writing `workloads.csv` to `csv`.
    pub fn new(mut csv: StreamFile) -> std::io::Result<Self> {
        csv.write(WORKLOADS_HEADER.as_bytes())?;
        Ok(WorkloadMetrics {
            csv,
            avail: BTreeMap::new(),
            disruptions: Vec::new(),
            first_open: 0,
            jobs: BTreeMap::new(),
            blocking: None,
        })
    }

    /// True while a disruption has not converged.
    pub fn has_open_disruption(&self) -> bool {
        self.first_open < self.disruptions.len()
    }

    /// Records a disruption at `now`.
    pub fn disruption(&mut self, now: SimTime, cause: String) {
        self.disruptions.push(Disruption { time_us: now.0, cause, convergence_us: None });
        self.blocking = None;
    }

    /// Closes open disruptions when every service workload is settled.
    ///
    /// A workload's settled state depends on its object, its pods and the nodes only (not on
    /// time), so the workload found unsettled last time is still unsettled while `changes` does
    /// not concern it, and nothing needs recounting; otherwise it is recounted first. This keeps
    /// a large unsettled workload (a DaemonSet on 10,000 nodes while one is down) from being
    /// recounted after every event.
    pub fn check_convergence(
        &mut self,
        store: &WorkloadStore,
        cluster: &ClusterState,
        now: SimTime,
        changes: &WorkloadChanges,
    ) {
        if !self.has_open_disruption() {
            self.blocking = None;
            return;
        }
        if self.blocking.is_some_and(|b| !changes.concerns(b)) {
            return;
        }
        let ctx = SyncContext { now, cluster, store };
        let unsettled = |w: &Workload| w.is_service() && !w.counts(&ctx).settled;
        if let Some(b) = self.blocking.and_then(|b| store.by_uid(b))
            && unsettled(b)
        {
            return;
        }
        match store.objects().find(|w| unsettled(w)) {
            Some(w) => self.blocking = Some(w.meta().uid),
            None => {
                for d in &mut self.disruptions[self.first_open..] {
                    d.convergence_us = Some(now.0 - d.time_us);
                }
                self.first_open = self.disruptions.len();
                self.blocking = None;
            }
        }
    }

    /// Writes one `workloads.csv` row per workload and updates availability.
    pub fn sample(&mut self, store: &WorkloadStore, cluster: &ClusterState, now: SimTime) -> std::io::Result<()> {
        let ctx = SyncContext { now, cluster, store };
        let mut out = String::new();
        for w in store.objects() {
            let c = w.counts(&ctx);
            let m = w.meta();
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                now.0,
                w.kind(),
                m.namespace,
                m.name,
                c.desired,
                c.ready,
                c.available
            ));
            if w.is_service() {
                let a = self.avail.entry(w.key()).or_insert_with(|| Avail { last_sample: now, ..Default::default() });
                let dt = now.saturating_since(a.last_sample).0;
                a.observed_us += dt;
                if a.last_ok {
                    a.available_us += dt;
                }
                a.last_sample = now;
                a.last_ok = c.available >= c.desired;
            }
            if let Workload::Job(j) = w {
                self.note_job(j, now);
            }
        }
        self.csv.write(out.as_bytes())
    }

    fn note_job(&mut self, j: &crate::controllers::job::Job, _now: SimTime) {
        let (finished, outcome) = match (&j.status.completion_time, &j.status.failed_time) {
            (Some(t), _) => (Some(t.0), "Complete"),
            (None, Some(t)) => (Some(t.0), "Failed"),
            _ => (None, "Running"),
        };
        let created = j.meta.created.0;
        self.jobs.insert(
            ObjectKey {
                kind: crate::controllers::Kind::Job,
                namespace: j.meta.namespace.clone(),
                name: j.meta.name.clone(),
            },
            JobCompletion {
                job: format!("{}/{}", j.meta.namespace, j.meta.name),
                created_us: created,
                finished_us: finished,
                duration_us: finished.map(|f| f.saturating_sub(created)),
                outcome: outcome.into(),
            },
        );
    }

    /// Closes the run: last availability interval, job records of objects still stored.
    pub fn finish(
        mut self,
        store: &WorkloadStore,
        cluster: &ClusterState,
        end: SimTime,
    ) -> std::io::Result<WorkloadsSummary> {
        self.check_convergence(store, cluster, end, &WorkloadChanges { any: true, all: true, ..Default::default() });
        for w in store.objects() {
            if let Workload::Job(j) = w {
                self.note_job(j, end);
            }
        }
        for a in self.avail.values_mut() {
            let dt = end.saturating_since(a.last_sample).0;
            a.observed_us += dt;
            if a.last_ok {
                a.available_us += dt;
            }
        }
        self.csv.finish()?;
        let availability = self
            .avail
            .iter()
            .map(|(k, a)| WorkloadAvailability {
                workload: k.to_string(),
                availability: if a.observed_us == 0 {
                    1.0
                } else {
                    ((a.available_us as f64 / a.observed_us as f64) * 1e6).round() / 1e6
                },
            })
            .collect();
        let jobs: Vec<JobCompletion> = self.jobs.into_values().collect();
        let first = jobs.iter().map(|j| j.created_us).min();
        let last = jobs.iter().filter_map(|j| j.finished_us).max();
        Ok(WorkloadsSummary {
            availability,
            max_convergence_us: self.disruptions.iter().filter_map(|d| d.convergence_us).max(),
            disruptions: self.disruptions,
            jobs_makespan_us: match (first, last) {
                (Some(f), Some(l)) => Some(l.saturating_sub(f)),
                _ => None,
            },
            jobs,
        })
    }
}
