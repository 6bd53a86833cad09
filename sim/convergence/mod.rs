//! The convergence harness: run a scenario and check that, after its last disruption, the cluster
//! reaches its desired state within a bound, with the cluster invariants holding after every
//! event. Usable from a researcher's own tests:
//!
//! ```no_run
//! use kubesim::convergence::{Options, check};
//! use kubesim::engine::time::SimDuration;
//! let sc = kubesim::input::scenario::load(std::path::Path::new("scenarios/zone-outage-pdb.yaml"), &[]).unwrap();
//! let report = check(&sc, &Options { bound: SimDuration::from_secs(900), ..Options::default() })
//!     .unwrap_or_else(|f| panic!("{f}"));
//! println!("converged {} s after the last disruption", report.convergence.as_micros() / 1_000_000);
//! ```
//!
//! Desired state: every service workload (Deployment, StatefulSet, DaemonSet, ReplicaSet not owned
//! by a Deployment) is settled at its desired ready count and every Job has completed (as
//! [`crate::controllers::Workload::counts`] reports), and no service workload has more active
//! pods than it wants. The first violation is reported with the time and the event that caused
//! it; a failing scenario's text can be written out with [`write_replay`] to replay it exactly.
//!
//! The last disruption is the time of the scenario's last timeline action; random node failures
//! (`faults.nodeFailures`) never stop, so a scenario with them is refused.

use crate::cluster::PodPhase;
use crate::controllers::{Kind, SyncContext, Workload, WorkloadStore};
use crate::engine::time::{SimDuration, SimTime};
use crate::input::scenario::Scenario;
use crate::run::{Observation, RunError, RunOptions, Simulation};
use std::path::{Path, PathBuf};

/// Harness settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// The cluster must be at its desired state this long after the last disruption.
    pub bound: SimDuration,
    /// Run the whole-cluster invariant checker after every event (default true).
    pub check_invariants: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { bound: SimDuration::from_secs(15 * 60), check_invariants: true }
    }
}

/// A successful check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Time of the last disruption.
    pub last_disruption: SimTime,
    /// When the desired state was reached (for good) after it.
    pub converged_at: SimTime,
    /// `converged_at − last_disruption`.
    pub convergence: SimDuration,
    /// Events handled.
    pub events: u64,
}

/// The first thing that went wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// A cluster invariant broke.
    #[error("at {time_us} us, after event {event}: {message}")]
    Invariant {
        /// When.
        time_us: u64,
        /// The event just handled.
        event: String,
        /// What broke.
        message: String,
    },
    /// An event was handled at an earlier time than the one before it.
    #[error("time went back from {previous_us} us to {time_us} us at event {event}")]
    TimeWentBack {
        /// Time of the previous event.
        previous_us: u64,
        /// Time of this one.
        time_us: u64,
        /// The event.
        event: String,
    },
    /// A service workload had more active pods than desired (a pod counted twice) once settled.
    #[error("at {time_us} us, after event {event}: {workload} has {active} active pods for {desired} desired")]
    TooManyPods {
        /// When.
        time_us: u64,
        /// The event just handled.
        event: String,
        /// The workload.
        workload: String,
        /// Active pods.
        active: i64,
        /// Desired replicas.
        desired: i64,
    },
    /// The desired state was not reached within the bound.
    #[error(
        "not converged {bound_us} us after the last disruption at {last_disruption_us} us; at the deadline: {unsettled}"
    )]
    NotConverged {
        /// Time of the last disruption.
        last_disruption_us: u64,
        /// The bound.
        bound_us: u64,
        /// Unsettled workloads with their desired / ready counts, and the last event before the
        /// deadline.
        unsettled: String,
    },
    /// The scenario cannot be checked (random faults) or the run failed.
    #[error("{0}")]
    Setup(String),
}

/// Whether `w` is at its desired state.
fn settled(w: &Workload, ctx: &SyncContext<'_>) -> bool {
    (!w.is_service() && w.kind() != Kind::Job) || w.counts(ctx).settled
}

fn unsettled(store: &WorkloadStore, ctx: &SyncContext<'_>) -> Vec<String> {
    store
        .objects()
        .filter(|w| !settled(w, ctx))
        .map(|w| {
            let c = w.counts(ctx);
            format!("{} (desired {}, ready {})", w.key(), c.desired, c.ready)
        })
        .collect()
}

/// The time of the scenario's last disruption (its last timeline action, or zero).
pub fn last_disruption(scenario: &Scenario) -> SimTime {
    scenario.timeline.iter().map(|(t, _)| *t).max().unwrap_or(SimTime::ZERO)
}

/// Runs `scenario` and checks convergence after its last disruption.
pub fn check(scenario: &Scenario, opts: &Options) -> Result<Report, Failure> {
    if scenario.node_failures.is_some() || scenario.pod_crash_interval.is_some() {
        return Err(Failure::Setup(
            "random faults (faults.nodeFailures / faults.podCrashes) have no last disruption; use timeline faults"
                .into(),
        ));
    }
    let last = last_disruption(scenario);
    let deadline = last + opts.bound;
    if deadline > SimTime(scenario.duration.0) {
        return Err(Failure::Setup(format!(
            "the run ends at {} us, before the deadline {} us (last disruption + bound)",
            scenario.duration.0, deadline.0
        )));
    }
    let run_opts = RunOptions { out_dir: None, check_invariants: opts.check_invariants, ..Default::default() };
    let sim = Simulation::new(scenario, &run_opts).map_err(|e| Failure::Setup(e.to_string()))?;
    let mut prev = SimTime::ZERO;
    let mut first: Option<Failure> = None;
    let mut settled_since: Option<SimTime> = None;
    let mut at_deadline: Option<String> = None;
    let mut last_event = String::new();
    let mut events = 0u64;
    let mut observer = |o: &Observation<'_>| {
        events += 1;
        if first.is_some() {
            return;
        }
        let desc = format!("{:?}", o.event);
        if o.now < prev {
            first = Some(Failure::TimeWentBack { previous_us: prev.0, time_us: o.now.0, event: desc });
            return;
        }
        prev = o.now;
        if o.now > deadline && at_deadline.is_none() {
            let ctx = SyncContext { now: deadline, cluster: o.cluster, store: o.workloads };
            let u = unsettled(o.workloads, &ctx);
            at_deadline = Some(if settled_since.is_some() {
                String::new()
            } else {
                format!("{}; last event before it: {last_event}", u.join(", "))
            });
        }
        let ctx = SyncContext { now: o.now, cluster: o.cluster, store: o.workloads };
        let all = o.workloads.objects().all(|w| settled(w, &ctx));
        if all {
            // Once settled, no service workload may run more active pods than it wants.
            for w in o.workloads.objects().filter(|w| w.is_service()) {
                let c = w.counts(&ctx);
                let uid = w.meta().uid;
                let active = ctx
                    .owned_pods(uid)
                    .into_iter()
                    .filter(|p| {
                        let s = o.cluster.pod(*p);
                        !s.terminating && !s.phase.is_terminal() && s.phase != PodPhase::Pending
                    })
                    .count() as i64;
                if w.kind() != Kind::DaemonSet && w.kind() != Kind::Deployment && active > c.desired {
                    first = Some(Failure::TooManyPods {
                        time_us: o.now.0,
                        event: desc.clone(),
                        workload: w.key().to_string(),
                        active,
                        desired: c.desired,
                    });
                    return;
                }
            }
        }
        if o.now >= last {
            match (all, settled_since) {
                (true, None) => settled_since = Some(o.now),
                (false, Some(_)) if o.now <= deadline => settled_since = None,
                _ => {}
            }
        }
        last_event = format!("{desc} at {} us", o.now.0);
    };
    let result = sim.run_observed(&run_opts, &mut observer);
    if let Some(f) = first {
        return Err(f);
    }
    match result {
        Err(RunError::Invariant { time, event, violation }) => {
            return Err(Failure::Invariant { time_us: time.0, event, message: violation.to_string() });
        }
        Err(e) => return Err(Failure::Setup(e.to_string())),
        Ok(_) => {}
    }
    match settled_since {
        Some(t) if t <= deadline && at_deadline.as_deref().is_none_or(str::is_empty) => {
            Ok(Report { last_disruption: last, converged_at: t, convergence: t.saturating_since(last), events })
        }
        _ => Err(Failure::NotConverged {
            last_disruption_us: last.0,
            bound_us: opts.bound.as_micros(),
            unsettled: at_deadline.unwrap_or_else(|| "the run ended before the deadline".into()),
        }),
    }
}

/// Writes the scenario text of a failing case to `dir/<name>.yaml` (to replay it with
/// `kubesim run`); returns the path.
pub fn write_replay(scenario: &Scenario, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, &scenario.text)?;
    Ok(path)
}
