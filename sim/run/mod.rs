//! One simulation run: the closed [`Event`] type, the handlers that tie the cluster, the
//! scheduler and the kubelet model together, and the outputs of SPEC §8.
//!
//! **Architecture invariants:** every random draw comes from a stream named after its component
//! and derived from the scenario seed; nothing here reads the wall clock except [`RunStats`]
//! (which goes to `run.json`, kept apart from the deterministic outputs); events are handled in
//! `(time, seq)` order, and handlers only schedule events at or after the current time.

pub mod admission;
mod apiserver;
pub mod autoscaler;
pub mod checkpoint;
pub mod control;
pub mod events;
pub mod faults;
pub mod hpa;
pub mod output;
pub mod placer;
pub mod schedulers;
pub mod services;
pub mod summary;
mod volumes;
pub mod workload_metrics;
mod workloads;

use crate::cluster::invariants;
use crate::cluster::{ClusterState, NodeId, PodId, PodPhase};
use crate::engine::queue::EventQueue;
use crate::engine::rng::{SimRng, stream};
use crate::engine::time::SimTime;
use crate::input::scenario::{Action, Scenario};
use crate::kubelet::Kubelet;
use crate::model::pod::Pod;
use crate::scheduler::framework::Code;
use crate::scheduler::queue::UNSCHEDULABLE_FLUSH_PERIOD;
use crate::scheduler::{CycleOutcome, Scheduler};
use output::StreamFile;
use std::path::{Path, PathBuf};
use summary::Metrics;

/// Every event of the simulation (a closed set, matched exhaustively).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Event {
    /// Arrival generator `gen` creates its next pod.
    Arrival {
        /// Index of the generator.
        generator: u32,
    },
    /// Timeline action `index` fires.
    Timeline {
        /// Index in the compiled timeline.
        index: u32,
    },
    /// The scheduler runs one cycle if activeQ holds a pod.
    SchedulerCycle,
    /// Pods whose backoff has expired move to activeQ.
    BackoffFlush,
    /// The 30 s flush of pods unschedulable for more than 5 minutes.
    UnschedulableFlush,
    /// A bound pod's containers are up.
    PodStarted {
        /// The pod.
        pod: PodId,
        /// Its epoch when the event was scheduled (stale events are ignored).
        epoch: u32,
    },
    /// A running pod's work is done.
    PodCompleted {
        /// The pod.
        pod: PodId,
        /// Its epoch when the event was scheduled.
        epoch: u32,
    },
    /// The fault model fails a node.
    NodeFailure {
        /// The node.
        node: NodeId,
    },
    /// The fault model recovers a node.
    NodeRecovery {
        /// The node.
        node: NodeId,
    },
    /// A preempted pod's grace period is over: it is gone.
    PodTerminated {
        /// The pod.
        pod: PodId,
        /// Its epoch when the event was scheduled.
        epoch: u32,
    },
    /// A workflow job's dependencies have completed and its arrival time has come: its pods are
    /// created.
    WorkflowJobReady {
        /// Index of the job in the scenario's workflow set.
        job: u32,
    },
    /// A `timeseries.csv` sample.
    Sample,
    /// Faults, the node lifecycle controller, the kubelet's restarts, drain.
    Fault(faults::FaultEvent),
    /// The cluster autoscaler scans, or a node it asked for joins.
    Autoscaler(autoscaler::CaEvent),
    /// A workload controller syncs object `uid` (see [`crate::controllers`]).
    ControllerSync {
        /// The object's uid.
        uid: u64,
    },
    /// A running pod's readiness delay is over: it becomes Ready.
    PodReady {
        /// The pod.
        pod: PodId,
        /// Its epoch when the event was scheduled.
        epoch: u32,
    },
    /// A gracefully deleted pod's grace period is over: it is gone.
    PodDeleted {
        /// The pod.
        pod: PodId,
        /// Its epoch when the event was scheduled.
        epoch: u32,
    },
    /// The HorizontalPodAutoscalers' 15 s sync (see [`hpa`]).
    HpaSync,
    /// The endpoints model (see [`services`]).
    Service(services::SvcEvent),
    /// The control-plane model (see [`crate::apiserver`]).
    Api(crate::apiserver::ApiEvent),
}

impl Event {
    /// True for events that are "work" (not periodic bookkeeping), used by `stopWhenIdle`.
    fn is_work(&self) -> bool {
        match self {
            Event::Fault(f) => f.is_work(),
            Event::Autoscaler(a) => a.is_work(),
            _ => !matches!(self, Event::Sample | Event::UnschedulableFlush | Event::BackoffFlush | Event::HpaSync),
        }
    }
}

/// Options of one run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Output folder (`None`: compute everything, write nothing).
    pub out_dir: Option<PathBuf>,
    /// Check every cluster invariant after every event (slow; for tests and debugging).
    pub check_invariants: bool,
    /// What is written of the event log (`--events`); the digest covers every event regardless.
    pub events: events::EventsMode,
    /// Stop cleanly between two events once this holds a non-zero signal number (see
    /// [`control::install_signal_handlers`]).
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
    /// Write checkpoints (`--checkpoint-every`) into the output folder.
    pub checkpoint: Option<checkpoint::CheckpointPlan>,
    /// Keep every ended pod in [`RunResult::cluster`] (for tests and library users who inspect
    /// finished pods). By default an ended pod that nothing reads any more is released once its
    /// `pods.csv` row is written, so memory follows the live pods; the outputs are the same
    /// either way.
    pub keep_ended_pods: bool,
}

/// Wall-clock figures of a run (for `run.json` only; never in the deterministic outputs).
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunStats {
    /// Wall-clock time of the run, in milliseconds.
    pub wall_clock_ms: f64,
    /// Events handled.
    pub events_processed: u64,
    /// Events per wall-clock second.
    pub events_per_second: f64,
    /// Peak resident memory of the process, in bytes (Linux; 0 elsewhere).
    pub peak_memory_bytes: u64,
    /// kubesim version.
    pub kubesim_version: &'static str,
}

/// What an observer of [`Simulation::run_observed`] sees after each event.
pub struct Observation<'a> {
    /// Time of the event.
    pub now: SimTime,
    /// The event just handled.
    pub event: &'a Event,
    /// The cluster after it.
    pub cluster: &'a ClusterState,
    /// The workload objects after it.
    pub workloads: &'a crate::controllers::WorkloadStore,
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// An output file could not be written.
    #[error("cannot write the outputs: {0}")]
    Io(#[from] std::io::Error),
    /// The invariant checker found a violation.
    #[error("at {time} after event {event}: {violation}")]
    Invariant {
        /// When.
        time: SimTime,
        /// The event that caused it.
        event: String,
        /// What broke.
        violation: invariants::Violation,
    },
    /// The scheduler reported an internal error.
    #[error("scheduler error: {0}")]
    Scheduler(String),
    /// A signal stopped the run between two events; no output was renamed into place (with
    /// checkpoints, the checkpoint and the temporaries it refers to are kept).
    #[error("interrupted by signal {signal} at {time}{}", match checkpoint {
        Some(p) => format!("; resume with: kubesim resume {}", p.display()),
        None => "; no output written".to_string(),
    })]
    Interrupted {
        /// The signal number.
        signal: usize,
        /// Simulated time of the stop.
        time: SimTime,
        /// The checkpoint written at the stop, if checkpointing.
        checkpoint: Option<PathBuf>,
    },
    /// A checkpoint could not be written or read.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// Too many events.
    #[error("the run exceeded {0} events (kubesim::limits::MAX_EVENTS)")]
    Runaway(u64),
}

/// The result of a run.
#[derive(Debug)]
pub struct RunResult {
    /// `summary.json` as a value.
    pub summary: summary::Summary,
    /// The final cluster state (per-node aggregates; the records of the live pods, and of the
    /// ended ones only with [`RunOptions::keep_ended_pods`] or while a Job still counts them).
    pub cluster: ClusterState,
    /// The final workload objects.
    pub workloads: crate::controllers::WorkloadStore,
    /// Wall-clock statistics.
    pub stats: RunStats,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Generator {
    rng: SimRng,
    created: u64,
}

/// A simulation in progress.
///
/// Its whole dynamic state serialises (a checkpoint); the fields marked `serde(skip)` are
/// rebuilt from the scenario and the options on resume. **A field added here is checkpointed
/// automatically; its type must derive `Serialize` and `Deserialize`.**
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Simulation<'s> {
    #[serde(skip, default = "checkpoint::placeholder_scenario")]
    scenario: &'s Scenario,
    queue: EventQueue<Event>,
    cluster: ClusterState,
    scheduler: Scheduler,
    kubelet: Kubelet,
    fault_rng: SimRng,
    generators: Vec<Generator>,
    cycle_scheduled: bool,
    backoff_flush_at: Option<SimTime>,
    unschedulable_flush_armed: bool,
    pending_work: u64,
    events_log: events::EventLog,
    timeseries: StreamFile,
    /// `pods.csv`: a pod's row is written when it ends (its record is then slimmed), the live
    /// pods' rows at the end of the run.
    pods_csv: StreamFile,
    metrics: Metrics,
    end: SimTime,
    #[serde(skip)]
    check_invariants: bool,
    /// [`RunOptions::keep_ended_pods`].
    #[serde(skip)]
    keep_ended_pods: bool,
    next_checkpoint: Option<SimTime>,
    events_processed: u64,
    nominated: std::collections::BTreeMap<PodId, NodeId>,
    nominated_on: std::collections::BTreeMap<NodeId, Vec<PodId>>,
    workflows: crate::workflow::Workflows,
    faults: faults::FaultState,
    workloads: crate::controllers::WorkloadStore,
    ctrl_queue: crate::controllers::WorkQueue,
    /// What changed for the convergence check (see [`workload_metrics::WorkloadChanges`]).
    workloads_changed: workload_metrics::WorkloadChanges,
    workload_metrics: Option<workload_metrics::WorkloadMetrics>,
    hpa: hpa::HpaRuntime,
    ca: Option<autoscaler::CaState>,
    /// Endpoints and accounts of the Services (`None`: the scenario has none).
    services: Option<services::ServicesRuntime>,
    /// A whole policy replacing the framework's cycle (rebuilt from the scenario on resume).
    #[serde(skip)]
    policy: Option<Box<dyn crate::scheduler::policy::Policy>>,
    /// The policy's RNG stream (`policy`).
    policy_rng: SimRng,
    /// Admission bookkeeping (quota usage, rejections, controller retries).
    admission: admission::AdmissionState,
    /// The control-plane model.
    api: crate::apiserver::ApiServer,
}

fn push_event(queue: &mut EventQueue<Event>, pending_work: &mut u64, at: SimTime, e: Event) {
    if e.is_work() {
        *pending_work += 1;
    }
    // Handlers only ever schedule at or after `now`, so this cannot fail.
    if queue.push(at.max(queue.now()), e).is_err() {
        unreachable!("events are never scheduled in the past");
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

impl<'s> Simulation<'s> {
    /// Prepares a run of `scenario` (no event handled yet).
    pub fn new(scenario: &'s Scenario, opts: &RunOptions) -> Result<Self, RunError> {
        Self::with_profiles(scenario, opts, None)
    }

    /// Prepares a run with the given scheduler profiles instead of the scenario's (for library
    /// users with their own plugins).
    pub fn with_profiles(
        scenario: &'s Scenario,
        opts: &RunOptions,
        custom: Option<Vec<crate::scheduler::Profile>>,
    ) -> Result<Self, RunError> {
        Self::with_setup(scenario, opts, placer::SchedulerSetup { profiles: custom, ..Default::default() })
    }

    /// Prepares a run with user plugins, custom profiles or a whole policy (see
    /// [`placer::SchedulerSetup`]).
    pub fn with_setup(
        scenario: &'s Scenario,
        opts: &RunOptions,
        setup: placer::SchedulerSetup,
    ) -> Result<Self, RunError> {
        let placer::SchedulerSetup { registry, profiles: custom, policy } = setup;
        let (profiles, backoff) = Self::scheduler_profiles(scenario, registry.as_ref(), custom)?;
        let policy = placer::start_policy(scenario, policy, &profiles)?;
        Self::prepare(scenario, opts, profiles, backoff, policy)
    }

    /// The scheduler profiles and backoff bounds of `scenario` (or the custom profiles), with
    /// plugins looked up in `registry` (default: the scenario's).
    fn scheduler_profiles(
        scenario: &Scenario,
        registry: Option<&crate::scheduler::registry::Registry>,
        custom: Option<Vec<crate::scheduler::Profile>>,
    ) -> Result<(Vec<crate::scheduler::Profile>, (i64, i64)), RunError> {
        Ok(match &scenario.scheduler_config {
            _ if custom.is_some() => (custom.unwrap_or_default(), (1, 10)),
            Some(cfg) => (
                crate::scheduler::profiles::profiles_from_config_in(cfg, registry.unwrap_or(&scenario.registry))
                    .map_err(RunError::Scheduler)?,
                cfg.backoff_seconds(),
            ),
            None => (
                {
                    let name = scenario.policy.as_ref().map_or(&scenario.scheduler, |p| &p.base_scheduler);
                    vec![
                        schedulers::profile(name, scenario.percentage_of_nodes_to_score)
                            .ok_or_else(|| RunError::Scheduler(format!("unknown scheduler {name:?}")))?,
                    ]
                },
                (1, 10),
            ),
        })
    }

    fn prepare(
        scenario: &'s Scenario,
        opts: &RunOptions,
        profiles: Vec<crate::scheduler::Profile>,
        backoff: (i64, i64),
        policy: Option<Box<dyn crate::scheduler::policy::Policy>>,
    ) -> Result<Self, RunError> {
        let (timeseries, workloads_csv, pods_csv) = match &opts.out_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                (
                    StreamFile::create(dir, "timeseries.csv", false)?,
                    StreamFile::create(dir, "workloads.csv", false)?,
                    StreamFile::create(dir, "pods.csv", false)?,
                )
            }
            None => (StreamFile::discard(false), StreamFile::discard(false), StreamFile::discard(false)),
        };
        let services = match (&opts.out_dir, scenario.services.is_empty()) {
            (_, true) => None,
            (Some(dir), false) => Some(StreamFile::create(dir, "services.csv", false)?),
            (None, false) => Some(StreamFile::discard(false)),
        }
        .map(|csv| services::ServicesRuntime::new(scenario.services.services.len(), csv))
        .transpose()?;
        let events_log = events::EventLog::create(opts.out_dir.as_deref(), opts.events)?;
        let seed = scenario.seed;
        let mut sim = Simulation {
            scenario,
            queue: EventQueue::new(),
            cluster: ClusterState::new(),
            scheduler: Scheduler::with_profiles(profiles, stream(seed, "scheduler")).with_backoff(
                crate::engine::time::SimDuration::from_secs(backoff.0 as u64),
                crate::engine::time::SimDuration::from_secs(backoff.1 as u64),
            ),
            kubelet: Kubelet::new(stream(seed, "kubelet"), scenario.kubelet_startup_latency.clone())
                .with_failure_probability(scenario.kubelet_failure_probability)
                .with_readiness_delay(scenario.kubelet_readiness_delay.clone()),
            fault_rng: stream(seed, "faults/nodes"),
            generators: scenario
                .arrivals
                .iter()
                .map(|a| Generator { rng: stream(seed, &format!("arrivals/{}", a.name)), created: 0 })
                .collect(),
            cycle_scheduled: false,
            backoff_flush_at: None,
            unschedulable_flush_armed: false,
            pending_work: 0,
            events_log,
            timeseries,
            pods_csv,
            metrics: Metrics::default(),
            end: SimTime(scenario.duration.0),
            check_invariants: opts.check_invariants,
            keep_ended_pods: opts.keep_ended_pods,
            next_checkpoint: opts.checkpoint.as_ref().map(|c| SimTime::ZERO + c.every),
            events_processed: 0,
            nominated: Default::default(),
            nominated_on: Default::default(),
            workflows: crate::workflow::Workflows::new(&scenario.workflows),
            faults: faults::FaultState::new(seed),
            workloads: Default::default(),
            ctrl_queue: Default::default(),
            workloads_changed: Default::default(),
            workload_metrics: Some(workload_metrics::WorkloadMetrics::new(workloads_csv)?),
            hpa: hpa::HpaRuntime::new(&scenario.hpas, &scenario.loads),
            ca: scenario
                .autoscaler
                .as_ref()
                .map(|a| autoscaler::CaState::new(seed, &a.groups.iter().map(|g| g.min).collect::<Vec<_>>())),
            policy,
            policy_rng: stream(seed, "policy"),
            services,
            admission: Default::default(),
            api: crate::apiserver::ApiServer::new(scenario.control_plane.as_ref()),
        };
        sim.scheduler.queue.set_order(scenario.queue_order);
        sim.timeseries.write(summary::TIMESERIES_HEADER.as_bytes())?;
        sim.pods_csv.write(&summary::pods_csv_header())?;
        sim.start()?;
        Ok(sim)
    }

    fn push(&mut self, at: SimTime, e: Event) {
        push_event(&mut self.queue, &mut self.pending_work, at, e);
    }

    fn log(&mut self, kind: &str, fields: &str) -> Result<(), RunError> {
        let line = format!("{{\"time_us\":{},\"kind\":\"{kind}\"{fields}}}\n", self.queue.now().0);
        self.events_log.write(kind, line.as_bytes())?;
        Ok(())
    }

    fn start(&mut self) -> Result<(), RunError> {
        let sc = self.scenario;
        for (name, labels) in &sc.namespaces {
            self.cluster.set_namespace(name, labels.clone());
        }
        let mut not_ready = Vec::new();
        for (node, ready) in &sc.nodes {
            let id = match self.cluster.add_node(node.clone()) {
                Ok(id) => id,
                Err(e) => return Err(RunError::Scheduler(e.to_string())),
            };
            self.metrics.node_added(&self.cluster, id, SimTime::ZERO);
            if !ready {
                not_ready.push(id);
            }
        }
        self.start_faults();
        self.start_volumes()?;
        for id in not_ready {
            self.start_not_ready(id)?;
        }
        for pod in &sc.initial_pods {
            self.create_pod(pod.clone())?;
        }
        self.start_workloads()?;
        self.start_hpa();
        for (i, a) in sc.arrivals.iter().enumerate() {
            let gap = a.inter_arrival.sample(&mut self.generators[i].rng);
            let at = a.start + gap;
            if at <= a.stop && a.count != Some(0) {
                self.push(at, Event::Arrival { generator: i as u32 });
            }
        }
        for (i, (at, _)) in sc.timeline.iter().enumerate() {
            self.push(*at, Event::Timeline { index: i as u32 });
        }
        if let Some(f) = &sc.node_failures {
            for name in &f.nodes {
                if let Some(id) = self.cluster.node_id(name) {
                    let ttf = f.time_to_failure.sample(&mut self.fault_rng);
                    self.push(SimTime::ZERO + ttf, Event::NodeFailure { node: id });
                }
            }
        }
        self.start_autoscaler();
        for job in self.workflows.initially_ready() {
            let at = sc.workflows.jobs[job].spec.arrival;
            self.push(at, Event::WorkflowJobReady { job: job as u32 });
        }
        self.push(SimTime::ZERO, Event::Sample);
        Ok(())
    }

    /// Creates the pods of a released workflow job (see [`crate::workflow`]).
    fn on_workflow_job_ready(&mut self, job: usize) -> Result<(), RunError> {
        let now = self.queue.now();
        let set = &self.scenario.workflows;
        let ready = self.workflows.on_released(set, job, now);
        let name = json_str(&set.jobs[job].spec.name);
        self.log("workflow_job_released", &format!(",\"job\":{name}"))?;
        for pod in &set.jobs[job].spec.pods {
            self.create_pod(pod.clone())?;
        }
        self.release_workflow_jobs(ready);
        Ok(())
    }

    fn release_workflow_jobs(&mut self, ready: Vec<usize>) {
        let now = self.queue.now();
        for j in ready {
            let at = self.scenario.workflows.jobs[j].spec.arrival.max(now);
            self.push(at, Event::WorkflowJobReady { job: j as u32 });
        }
    }

    /// Workflow bookkeeping when a pod ends.
    fn workflow_pod_ended(&mut self, id: PodId, phase: PodPhase) -> Result<(), RunError> {
        let set = &self.scenario.workflows;
        if set.is_empty() {
            return Ok(());
        }
        let now = self.queue.now();
        let p = &self.cluster.pod(id).pod;
        if phase == PodPhase::Succeeded {
            let (ready, done) = self.workflows.on_pod_succeeded(set, &p.namespace, &p.name, now);
            if let Some(j) = done {
                self.log("workflow_job_completed", &format!(",\"job\":{}", json_str(&set.jobs[j].spec.name)))?;
            }
            self.release_workflow_jobs(ready);
        } else if let Some(j) = self.workflows.on_pod_failed(&p.namespace, &p.name) {
            self.log("workflow_job_failed", &format!(",\"job\":{}", json_str(&set.jobs[j].spec.name)))?;
        }
        Ok(())
    }

    /// Runs to the end (or until idle with `stopWhenIdle`) and writes the outputs.
    pub fn run(self, opts: &RunOptions) -> Result<RunResult, RunError> {
        self.run_observed(opts, &mut |_: &Observation<'_>| {})
    }

    /// Runs to the end like [`Simulation::run`], calling `observer` after every event (for tests
    /// that check a property at every step).
    pub fn run_observed(
        mut self,
        opts: &RunOptions,
        observer: &mut dyn FnMut(&Observation<'_>),
    ) -> Result<RunResult, RunError> {
        let started = std::time::Instant::now();
        if let Err(e) = self.advance_observed(opts, None, observer) {
            if matches!(e, RunError::Interrupted { checkpoint: Some(_), .. }) {
                self.keep_temporaries()?;
            }
            return Err(e);
        }
        let end_time = if self.scenario.stop_when_idle { self.queue.now().min(self.end) } else { self.end };
        self.finish(end_time, opts, started)
    }

    /// Handles events in order until the run is over (`Ok(true)`) or the next event is after
    /// `until` (`Ok(false)`). Writes the checkpoints `opts` asks for and stops at a signal.
    pub fn advance(&mut self, opts: &RunOptions, until: Option<SimTime>) -> Result<bool, RunError> {
        self.advance_observed(opts, until, &mut |_: &Observation<'_>| {})
    }

    fn advance_observed(
        &mut self,
        opts: &RunOptions,
        until: Option<SimTime>,
        observer: &mut dyn FnMut(&Observation<'_>),
    ) -> Result<bool, RunError> {
        while let Some(next) = self.queue.peek_time() {
            if next > self.end {
                break;
            }
            if self.scenario.stop_when_idle && self.pending_work == 0 && !self.scheduler.queue.has_active() {
                let (_, backoff, _) = self.scheduler.queue.lengths();
                if backoff == 0 {
                    break;
                }
            }
            if until.is_some_and(|u| next > u) {
                return Ok(false);
            }
            if let (Some(plan), Some(at)) = (&opts.checkpoint, self.next_checkpoint)
                && next >= at
            {
                let every = plan.every.as_micros().max(1);
                self.next_checkpoint = Some(SimTime((next.0 / every + 1) * every));
                self.write_checkpoint(opts)?;
            }
            if let Some(signal) = opts.interrupt.as_ref().map(|f| f.load(std::sync::atomic::Ordering::Relaxed))
                && signal != 0
            {
                let checkpoint = if opts.checkpoint.is_some() { self.write_checkpoint(opts)? } else { None };
                return Err(RunError::Interrupted { signal, time: self.queue.now(), checkpoint });
            }
            let Some(ev) = self.queue.pop() else { break };
            if ev.event.is_work() {
                self.pending_work -= 1;
            }
            self.events_processed += 1;
            if self.events_processed > crate::limits::MAX_EVENTS {
                return Err(RunError::Runaway(crate::limits::MAX_EVENTS));
            }
            let desc = if self.check_invariants { format!("{:?}", ev.event) } else { String::new() };
            let ev_copy = ev.event.clone();
            self.handle(ev.event)?;
            if self.check_invariants {
                self.check(&desc)?;
            }
            if self.workloads_changed.any {
                let changes = std::mem::take(&mut self.workloads_changed);
                if let Some(m) = &mut self.workload_metrics {
                    m.check_convergence(&self.workloads, &self.cluster, self.queue.now(), &changes);
                }
            }
            observer(&Observation {
                now: self.queue.now(),
                event: &ev_copy,
                cluster: &self.cluster,
                workloads: &self.workloads,
            });
        }
        Ok(true)
    }

    /// Flushes the streamed files and leaves their temporaries in place (for a resume).
    fn keep_temporaries(&mut self) -> Result<(), RunError> {
        std::mem::take(&mut self.events_log).keep()?;
        std::mem::take(&mut self.timeseries).keep()?;
        std::mem::take(&mut self.pods_csv).keep()?;
        if let Some(m) = self.workload_metrics.take() {
            m.keep()?;
        }
        if let Some(s) = self.services.take() {
            s.keep()?;
        }
        Ok(())
    }

    fn check(&self, event: &str) -> Result<(), RunError> {
        invariants::check(&self.cluster).map_err(|violation| RunError::Invariant {
            time: self.queue.now(),
            event: event.to_string(),
            violation,
        })?;
        for (id, p) in self.cluster.pod_entries() {
            // By index, not by name: a StatefulSet reuses the names of its finished pods.
            let live_unbound = p.phase == PodPhase::Pending && p.node.is_none();
            let queued = self.scheduler.queue.contains(id);
            let served = self.scheduler.profile_for(&p.pod.scheduler_name).is_some();
            if live_unbound != queued && p.pod.node_name.is_none() && served && !self.api.in_flight(id) {
                return Err(RunError::Invariant {
                    time: self.queue.now(),
                    event: event.to_string(),
                    violation: invariants::Violation(format!(
                        "pod {} is {} but {} in the scheduling queue",
                        p.pod.key(),
                        if live_unbound { "pending and unbound" } else { "bound or finished" },
                        if queued { "is" } else { "is not" }
                    )),
                });
            }
        }
        Ok(())
    }

    fn handle(&mut self, e: Event) -> Result<(), RunError> {
        match e {
            Event::Arrival { generator } => self.on_arrival(generator as usize),
            Event::Timeline { index } => self.on_timeline(index as usize),
            Event::SchedulerCycle => self.on_cycle(),
            Event::BackoffFlush => {
                self.backoff_flush_at = None;
                let now = self.queue.now();
                if self.scheduler.queue.flush_backoff_completed(now) > 0 {
                    self.ensure_cycle();
                }
                self.arm_flushes();
                Ok(())
            }
            Event::UnschedulableFlush => {
                self.unschedulable_flush_armed = false;
                let now = self.queue.now();
                if self.scheduler.queue.flush_unschedulable_leftover(now) > 0 {
                    self.ensure_cycle();
                }
                self.arm_flushes();
                Ok(())
            }
            Event::PodStarted { pod, epoch } => {
                if self.cluster.pod(pod).epoch != epoch {
                    return Ok(());
                }
                let now = self.queue.now();
                self.cluster.mark_running(pod, now);
                let key = json_str(&self.cluster.pod(pod).pod.key());
                self.log("pod_started", &format!(",\"pod\":{key}"))?;
                self.after_start(pod);
                self.pod_changed(pod);
                Ok(())
            }
            Event::PodCompleted { pod, epoch } => {
                if self.cluster.pod(pod).epoch != epoch {
                    return Ok(());
                }
                self.end_pod(pod, PodPhase::Succeeded, "pod_succeeded", "")
            }
            Event::PodTerminated { pod, epoch } => {
                if self.cluster.pod(pod).epoch != epoch || self.cluster.pod(pod).phase.is_terminal() {
                    return Ok(());
                }
                let (phase, kind, extra) = self.termination_outcome(pod);
                self.end_pod(pod, phase, kind, &extra)
            }
            Event::NodeFailure { node } => {
                if self.faults.lifecycle.kubelet(node) == crate::controllers::node_lifecycle::KubeletStatus::Up {
                    self.node_down(node, crate::controllers::node_lifecycle::KubeletStatus::Crashed)?;
                }
                if let Some(f) = &self.scenario.node_failures {
                    let ttr = f.time_to_recover.sample(&mut self.fault_rng);
                    let at = self.queue.now() + ttr;
                    self.push(at, Event::NodeRecovery { node });
                }
                Ok(())
            }
            Event::NodeRecovery { node } => {
                if self.faults.lifecycle.kubelet(node) == crate::controllers::node_lifecycle::KubeletStatus::Crashed {
                    self.node_up(node)?;
                }
                if let Some(f) = &self.scenario.node_failures {
                    let ttf = f.time_to_failure.sample(&mut self.fault_rng);
                    let at = self.queue.now() + ttf;
                    self.push(at, Event::NodeFailure { node });
                }
                Ok(())
            }
            Event::WorkflowJobReady { job } => self.on_workflow_job_ready(job as usize),
            Event::ControllerSync { uid } => self.on_controller_sync(uid),
            Event::PodReady { pod, epoch } => self.on_pod_ready(pod, epoch),
            Event::PodDeleted { pod, epoch } => self.on_pod_deleted(pod, epoch),
            Event::HpaSync => self.on_hpa_sync(),
            Event::Service(e) => self.on_service_event(e),
            Event::Api(a) => self.on_api_event(a),
            Event::Sample => {
                let now = self.queue.now();
                let usage = self.hpa.total_usage_millis(&self.cluster, &self.workloads, now);
                let row = self.metrics.sample_row(&self.cluster, now, usage);
                self.timeseries.write(row.as_bytes())?;
                if let Some(m) = &mut self.workload_metrics {
                    m.sample(&self.workloads, &self.cluster, now)?;
                }
                self.services_sample()?;
                let next = now + self.scenario.sample_period;
                if next <= self.end {
                    self.push(next, Event::Sample);
                }
                Ok(())
            }
            Event::Fault(f) => self.on_fault_event(f),
            Event::Autoscaler(a) => self.on_autoscaler_event(a),
        }
    }

    fn on_arrival(&mut self, g: usize) -> Result<(), RunError> {
        let a = &self.scenario.arrivals[g];
        let generator = &mut self.generators[g];
        let n = generator.created;
        generator.created += 1;
        let mut pod = a.template.clone();
        pod.name = format!("{}-{n}", a.name);
        let gap = a.inter_arrival.sample(&mut generator.rng);
        let more = a.count.is_none_or(|c| generator.created < c);
        let next = self.queue.now() + gap;
        if more && next <= a.stop {
            self.push(next, Event::Arrival { generator: g as u32 });
        }
        self.create_pod(pod)
    }

    fn on_timeline(&mut self, i: usize) -> Result<(), RunError> {
        let action = self.scenario.timeline[i].1.clone();
        let now = self.queue.now();
        // A failNode is recorded as a node failure by set_node_down.
        if let Some(m) = &mut self.workload_metrics
            && !matches!(action, Action::FailNode(_) | Action::SetLoad { .. })
        {
            m.disruption(now, format!("timeline:{}", action.name()));
            self.workloads_changed.touch_all();
        }
        match action {
            Action::ApplyWorkload(w) => self.apply_workload(*w),
            Action::DeleteWorkload(key) => self.delete_workload(&key),
            Action::Scale { key, replicas } => self.scale_workload(&key, replicas),
            Action::Rollout { key, patch } => self.rollout_workload(&key, &patch),
            Action::SetLoad { key, curve } => self.set_load(key, curve),
            Action::AddPod(p) => self.create_pod(*p),
            Action::DeletePod { namespace, name } => match self.cluster.pod_id(&namespace, &name) {
                Some(id) => self.begin_termination(id, "Deleted"),
                None => self.log(
                    "action_skipped",
                    &format!(
                        ",\"action\":\"deletePod\",\"pod\":{},\"reason\":\"no such live pod\"",
                        json_str(&format!("{namespace}/{name}"))
                    ),
                ),
            },
            Action::FailNode(name) => match self.cluster.node_id(&name) {
                Some(id) => self.node_down(id, crate::controllers::node_lifecycle::KubeletStatus::Crashed),
                None => self.log("action_skipped", &format!(",\"action\":\"failNode\",\"node\":{}", json_str(&name))),
            },
            Action::AddNode(node) => {
                let name = json_str(&node.name);
                match self.cluster.add_node(*node) {
                    Ok(id) => {
                        let now = self.queue.now();
                        self.metrics.node_added(&self.cluster, id, now);
                        self.log("node_added", &format!(",\"node\":{name}"))?;
                        // NodeAdd: unschedulable pods may fit now.
                        if self.scheduler.queue.move_all_to_active_or_backoff(now) > 0 {
                            self.arm_flushes();
                            self.ensure_cycle();
                        }
                        Ok(())
                    }
                    Err(e) => self.log(
                        "action_skipped",
                        &format!(",\"action\":\"addNode\",\"node\":{name},\"reason\":{}", json_str(&e.to_string())),
                    ),
                }
            }
            Action::RecoverNode(name) => match self.cluster.node_id(&name) {
                Some(id) => self.node_up(id),
                None => {
                    self.log("action_skipped", &format!(",\"action\":\"recoverNode\",\"node\":{}", json_str(&name)))
                }
            },
            Action::Fault(f) => self.on_fault_action(f),
        }
    }

    fn create_pod(&mut self, pod: Pod) -> Result<(), RunError> {
        self.create_pod_as(pod, None, None).map(|_| ())
    }

    /// Creates a pod on behalf of a controller of `kind` (`None`: a user), through admission;
    /// `shown_name` is the name admission messages use (a `generateName` prefix). Returns
    /// whether the pod was admitted.
    fn create_pod_as(
        &mut self,
        mut pod: Pod,
        kind: Option<crate::controllers::Kind>,
        shown_name: Option<&str>,
    ) -> Result<bool, RunError> {
        let shown = shown_name.unwrap_or(&pod.name).to_string();
        if !self.admit_pod(&mut pod, &shown)? {
            return Ok(false);
        }
        let write_delay = self.api_create_write(kind);
        self.create_pod_claims(&pod)?;
        let now = self.queue.now();
        let priority = pod.priority;
        let key = pod.key();
        let node_name = pod.node_name.clone();
        let id = match self.cluster.add_pod(pod, now) {
            Ok(id) => id,
            Err(e) => {
                self.log(
                    "action_skipped",
                    &format!(
                        ",\"action\":\"createPod\",\"pod\":{},\"reason\":{}",
                        json_str(&key),
                        json_str(&e.to_string())
                    ),
                )?;
                return Ok(false);
            }
        };
        self.pod_admitted(id);
        self.metrics.pod_created();
        self.log("pod_created", &format!(",\"pod\":{},\"priority\":{priority}", json_str(&key)))?;
        self.pod_changed(id);
        let outcome = match node_name {
            // A pod naming its node bypasses the scheduler; the kubelet admits it if it fits.
            Some(n) => match self.cluster.node_id(&n) {
                Some(node) if self.cluster.node(node).ready => {
                    let misfit = crate::scheduler::plugins::node_resources_fit::fits_request(
                        &self.cluster.pod(id).pod,
                        self.cluster.node(node),
                    );
                    if misfit.is_empty() {
                        self.bind(id, node)
                    } else {
                        let reason = misfit.into_iter().map(|m| m.reason).collect::<Vec<_>>().join(", ");
                        self.end_pod(
                            id,
                            PodPhase::Failed,
                            "pod_failed",
                            &format!(",\"reason\":{}", json_str(&format!("kubelet admission: {reason}"))),
                        )
                    }
                }
                _ => self.end_pod(
                    id,
                    PodPhase::Failed,
                    "pod_failed",
                    &format!(",\"reason\":{}", json_str(&format!("node {n:?} is not available"))),
                ),
            },
            None => {
                if self.scheduler.profile_for(&self.cluster.pod(id).pod.scheduler_name).is_none() {
                    // Upstream leaves pods of an unknown schedulerName alone: they stay Pending.
                    let name = json_str(&self.cluster.pod(id).pod.scheduler_name);
                    return self
                        .log(
                            "pod_ignored",
                            &format!(
                                ",\"pod\":{},\"reason\":\"no profile for schedulerName\",\"scheduler_name\":{name}",
                                json_str(&key)
                            ),
                        )
                        .map(|()| true);
                }
                self.queue_created_pod(id, priority, write_delay);
                Ok(())
            }
        };
        outcome.map(|()| true)
    }

    fn ensure_cycle(&mut self) {
        if !self.cycle_scheduled && self.scheduler.queue.has_active() {
            self.cycle_scheduled = true;
            let now = self.queue.now();
            self.push(now, Event::SchedulerCycle);
        }
    }

    fn arm_flushes(&mut self) {
        if let Some(t) = self.scheduler.queue.next_backoff_expiry()
            && self.backoff_flush_at.is_none_or(|at| t < at)
        {
            self.backoff_flush_at = Some(t);
            self.push(t, Event::BackoffFlush);
        }
        let (_, _, unsched) = self.scheduler.queue.lengths();
        if unsched > 0 && !self.unschedulable_flush_armed {
            self.unschedulable_flush_armed = true;
            let period = UNSCHEDULABLE_FLUSH_PERIOD.as_micros();
            let next = SimTime((self.queue.now().0 / period + 1) * period);
            self.push(next, Event::UnschedulableFlush);
        }
    }

    fn on_cycle(&mut self) -> Result<(), RunError> {
        if self.policy.is_some() {
            return self.on_policy_cycle();
        }
        self.cycle_scheduled = false;
        let popped = if self.scheduler.queue.order() == crate::scheduler::queue::QueueOrder::Drf {
            let shares = crate::scheduler::queue::namespace_dominant_shares(&self.cluster);
            let cluster = &self.cluster;
            let share = |p: PodId| shares.get(&cluster.pod(p).pod.namespace).copied().unwrap_or(0.0);
            self.scheduler.queue.pop_min_share(&share)
        } else {
            self.scheduler.queue.pop()
        };
        let Some(id) = popped else { return Ok(()) };
        self.cluster.note_attempt(id);
        let now = self.queue.now();
        let nominated = self.nominated.get(&id).copied();
        let outcome = {
            let cluster = &self.cluster;
            let nominated_on = &self.nominated_on;
            let me = cluster.pod(id);
            let view = |node: NodeId| -> Option<crate::cluster::NodeState> {
                let others: Vec<PodId> = nominated_on
                    .get(&node)?
                    .iter()
                    .copied()
                    .filter(|p| *p != id && cluster.pod(*p).pod.priority >= me.pod.priority)
                    .collect();
                if others.is_empty() {
                    return None;
                }
                // Upstream adds higher-or-equal priority nominated pods to the node before filtering.
                let mut v = cluster.node(node).clone();
                for p in others {
                    let pod = &cluster.pod(p).pod;
                    v.requested.add(&pod.requests);
                    v.non_zero_cpu_millis += pod.non_zero_cpu_millis;
                    v.non_zero_memory_bytes += pod.non_zero_memory_bytes;
                    for hp in &pod.host_ports {
                        *v.used_ports.entry(hp.clone()).or_insert(0) += 1;
                    }
                    v.pods.push(p);
                }
                Some(v)
            };
            self.scheduler.schedule_one_with(cluster, &me.pod, nominated, &view)
        };
        match outcome {
            CycleOutcome::Selected { node, examined, feasible, total_score } => {
                if let Some(reason) = self.reserve_permit_bind(id, node) {
                    // A Reserve, Permit or Bind plugin refused: back to the queue, as upstream.
                    self.scheduler.queue.add_unschedulable(id, now);
                    let fields = format!(
                        ",\"pod\":{},\"message\":{}",
                        json_str(&self.cluster.pod(id).pod.key()),
                        json_str(&reason)
                    );
                    self.log("pod_unschedulable", &fields)?;
                    self.arm_flushes();
                    self.ensure_cycle();
                    return Ok(());
                }
                self.scheduler.queue.forget(id);
                let score = total_score.map(|s| s.to_string()).unwrap_or_else(|| "null".into());
                let fields = format!(
                    ",\"pod\":{},\"node\":{},\"examined\":{examined},\"feasible\":{feasible},\"score\":{score}",
                    json_str(&self.cluster.pod(id).pod.key()),
                    json_str(&self.cluster.node(node).node.name)
                );
                self.log("pod_scheduled", &fields)?;
                self.bind(id, node)?;
            }
            CycleOutcome::Unschedulable(d) => {
                self.scheduler.queue.add_unschedulable(id, now);
                let fields = format!(
                    ",\"pod\":{},\"message\":{}",
                    json_str(&self.cluster.pod(id).pod.key()),
                    json_str(&d.message())
                );
                self.log("pod_unschedulable", &fields)?;
                self.post_filter(id, &d)?;
            }
            CycleOutcome::Error(e) => return Err(RunError::Scheduler(e)),
        }
        self.arm_flushes();
        self.ensure_cycle();
        Ok(())
    }

    /// Runs the profile's Reserve, Permit and Bind plugins for `id` on `node`; returns why it was
    /// refused (after unreserving), or `None` to go on and bind.
    fn reserve_permit_bind(&mut self, id: PodId, node: NodeId) -> Option<String> {
        let pod = &self.cluster.pod(id).pod;
        let profile = self.scheduler.profile_for(&pod.scheduler_name)?;
        if profile.reserves.is_empty() && profile.permits.is_empty() && profile.binders.is_empty() {
            return None;
        }
        let cluster = &self.cluster;
        let unreserve = |upto: usize| {
            for r in profile.reserves[..upto].iter().rev() {
                r.unreserve(cluster, pod, node);
            }
        };
        for (i, r) in profile.reserves.iter().enumerate() {
            let st = r.reserve(cluster, pod, node);
            if !st.is_success() {
                unreserve(i + 1);
                return Some(format!("{}: Reserve: {}", r.name(), st.reasons.join("; ")));
            }
        }
        for p in &profile.permits {
            let st = p.permit(cluster, pod, node);
            if !st.is_success() {
                unreserve(profile.reserves.len());
                return Some(format!("{}: Permit: {}", p.name(), st.reasons.join("; ")));
            }
        }
        for b in &profile.binders {
            let st = b.bind(cluster, pod, node);
            match st.code {
                Code::Skip => continue,
                Code::Success => return None,
                _ => {
                    unreserve(profile.reserves.len());
                    return Some(format!("{}: Bind: {}", b.name(), st.reasons.join("; ")));
                }
            }
        }
        None
    }

    /// PostFilter: DefaultPreemption. Victims start terminating (they keep their resources for
    /// their grace period); the preemptor is nominated to the node and retried when they are gone.
    fn post_filter(&mut self, id: PodId, d: &crate::scheduler::Diagnosis) -> Result<(), RunError> {
        let prio = self.cluster.pod(id).pod.priority;
        // PodEligibleToPreemptOthers: wait while victims of an earlier preemption terminate.
        if let Some(n) = self.nominated.get(&id)
            && self.cluster.node(*n).pods.iter().any(|p| {
                let s = self.cluster.pod(*p);
                s.terminating && s.pod.priority < prio
            })
        {
            return Ok(());
        }
        self.refresh_pdbs();
        let Some(c) = self.scheduler.preempt(&mut self.cluster, id, d) else { return Ok(()) };
        let now = self.queue.now();
        let key = json_str(&self.cluster.pod(id).pod.key());
        let node_name = json_str(&self.cluster.node(c.node).node.name);
        for v in &c.victims {
            if self.cluster.pod(*v).terminating {
                continue;
            }
            self.cluster.mark_terminating(*v);
            self.services_pod_changed(*v);
            self.cluster.note_preempted(*v);
            let grace = crate::engine::time::SimDuration::from_secs(
                self.cluster.pod(*v).pod.termination_grace_period_seconds.max(0) as u64,
            );
            let epoch = self.cluster.pod(*v).epoch;
            self.push(now + grace, Event::PodTerminated { pod: *v, epoch });
            let victim = json_str(&self.cluster.pod(*v).pod.key());
            self.log("pod_preempted", &format!(",\"pod\":{victim},\"preemptor\":{key},\"node\":{node_name}"))?;
        }
        // Lower-priority pods nominated to that node lose their nomination.
        let lower: Vec<PodId> = self
            .nominated_on
            .get(&c.node)
            .map(|v| v.iter().copied().filter(|p| *p != id && self.cluster.pod(*p).pod.priority < prio).collect())
            .unwrap_or_default();
        for p in lower {
            self.clear_nomination(p);
        }
        self.clear_nomination(id);
        self.nominated.insert(id, c.node);
        self.nominated_on.entry(c.node).or_default().push(id);
        self.log("pod_nominated", &format!(",\"pod\":{key},\"node\":{node_name},\"victims\":{}", c.victims.len()))
    }

    fn clear_nomination(&mut self, id: PodId) {
        if let Some(n) = self.nominated.remove(&id)
            && let Some(v) = self.nominated_on.get_mut(&n)
        {
            v.retain(|p| *p != id);
            if v.is_empty() {
                self.nominated_on.remove(&n);
            }
        }
    }

    fn bind(&mut self, id: PodId, node: NodeId) -> Result<(), RunError> {
        self.clear_nomination(id);
        let now = self.queue.now();
        self.metrics.node_before(&self.cluster, node, now);
        let profile = self.scheduler.profile_for(&self.cluster.pod(id).pod.scheduler_name);
        crate::scheduler::policies::plugins::assign_gpus(&mut self.cluster, profile, id, node);
        self.bind_pod_volumes(id, node)?;
        if let Err(e) = self.cluster.bind(id, node, now) {
            return Err(RunError::Scheduler(e.to_string()));
        }
        self.metrics.node_after(&self.cluster, node);
        self.metrics.pod_bound(&self.cluster, id);
        self.pod_changed(id);
        self.after_bind(id, node);
        Ok(())
    }

    /// Ends a live pod (succeeded, failed, deleted); frees its node and tells the queue.
    fn end_pod(&mut self, id: PodId, phase: PodPhase, kind: &str, extra: &str) -> Result<(), RunError> {
        let now = self.queue.now();
        let was_assigned = self.cluster.pod(id).is_assigned();
        let node = self.cluster.pod(id).node;
        let node = node.filter(|_| was_assigned);
        if let Some(n) = node {
            self.metrics.node_before(&self.cluster, n, now);
        }
        self.scheduler.queue.forget(id);
        self.clear_nomination(id);
        self.forget_pod(id);
        self.cluster.terminate(id, phase, now);
        if let Some(n) = node {
            self.metrics.node_after(&self.cluster, n);
        }
        self.metrics.pod_ended(phase);
        let key = json_str(&self.cluster.pod(id).pod.key());
        self.log(kind, &format!(",\"pod\":{key}{extra}"))?;
        self.workflow_pod_ended(id, phase)?;
        self.pod_changed(id);
        // Its pods.csv row is final: stream it, and keep only what controllers still read.
        let row = summary::pod_row(&self.cluster, id).map_err(|e| RunError::Io(std::io::Error::other(e)))?;
        self.pods_csv.write(&row)?;
        self.cluster.slim_ended_pod(id);
        self.release_if_unread(id);
        if was_assigned {
            // AssignedPodDelete: resources were freed, so unschedulable pods may fit now.
            if self.scheduler.queue.move_all_to_active_or_backoff(now) > 0 {
                self.arm_flushes();
                self.ensure_cycle();
            }
        }
        Ok(())
    }

    fn finish(
        mut self,
        end_time: SimTime,
        opts: &RunOptions,
        started: std::time::Instant,
    ) -> Result<RunResult, RunError> {
        self.metrics.finish(&self.cluster, end_time);
        let trace_digest = std::mem::take(&mut self.events_log).finish()?;
        std::mem::take(&mut self.timeseries).finish()?;
        for (id, p) in self.cluster.pod_entries() {
            if !p.phase.is_terminal() {
                let row = summary::pod_row(&self.cluster, id).map_err(|e| RunError::Io(std::io::Error::other(e)))?;
                self.pods_csv.write(&row)?;
            }
        }
        std::mem::take(&mut self.pods_csv).finish()?;
        let mut summary = summary::build(self.scenario, &self.cluster, &self.metrics, end_time, trace_digest);
        if !self.scenario.workflows.is_empty() {
            summary.workflows = Some(self.workflows.summary(&self.scenario.workflows));
        }
        if let Some(m) = self.workload_metrics.take() {
            let w = m.finish(&self.workloads, &self.cluster, end_time)?;
            if self.workloads.next_uid() > 0 {
                summary.workloads = Some(w);
            }
        }
        summary.cluster_autoscaler = self.ca.as_ref().map(|c| c.summary.clone());
        summary.services = self.services_finish(end_time.0)?;
        summary.volumes = (!self.cluster.volumes().is_empty()).then(|| self.cluster.volumes().summary());
        summary.admission = self.admission_summary();
        summary.control_plane = self.api.summary();
        let wall = started.elapsed().as_secs_f64();
        let stats = RunStats {
            wall_clock_ms: wall * 1000.0,
            events_processed: self.events_processed,
            events_per_second: if wall > 0.0 { self.events_processed as f64 / wall } else { 0.0 },
            peak_memory_bytes: peak_memory_bytes(),
            kubesim_version: env!("CARGO_PKG_VERSION"),
        };
        if let Some(dir) = &opts.out_dir {
            summary::write_all(dir, self.scenario, &self.cluster, &self.metrics, &summary, &stats)?;
            // The run is complete: nothing is left to resume.
            checkpoint::remove(dir)?;
        }
        Ok(RunResult { summary, cluster: self.cluster, workloads: self.workloads, stats })
    }
}

/// Peak resident set size of this process (`VmHWM`), in bytes; 0 where unknown.
pub fn peak_memory_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Runs `scenario` with `opts`.
pub fn run(scenario: &Scenario, opts: &RunOptions) -> Result<RunResult, RunError> {
    Simulation::new(scenario, opts)?.run(opts)
}

/// Runs `scenario` with custom scheduler profiles (one per `schedulerName`).
pub fn run_with_profiles(
    scenario: &Scenario,
    opts: &RunOptions,
    profiles: Vec<crate::scheduler::Profile>,
) -> Result<RunResult, RunError> {
    Simulation::with_profiles(scenario, opts, Some(profiles))?.run(opts)
}

/// Runs `scenario` writing outputs to `out_dir`.
pub fn run_to_dir(scenario: &Scenario, out_dir: &Path) -> Result<RunResult, RunError> {
    run(scenario, &RunOptions { out_dir: Some(out_dir.to_path_buf()), ..RunOptions::default() })
}
