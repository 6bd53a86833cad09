//! Checkpoint and resume (`--checkpoint-every DURATION`, `kubesim resume CHECKPOINT`).
//!
//! A checkpoint is `OUT/checkpoint.bin`, written atomically between two events: a [`Header`]
//! (the scenario path, the `--set` overrides, the seed, a SHA-256 of the scenario text as run)
//! and the whole [`Simulation`] state, in CBOR (`ciborium`; a binary format because state maps
//! have non-string keys). The RNG streams, the event queue, the cluster, the scheduling queue,
//! the metrics, the generators and the lengths of the streamed files are all in it, because
//! `Simulation` derives `Serialize` / `Deserialize` and skips only what is rebuilt on resume:
//! the scenario (loaded again from the header), the scheduler profiles (trait objects, rebuilt
//! from the scenario) and the open files.
//!
//! On resume, `events.jsonl`, `timeseries.csv` and `pods.csv` continue from their temporaries
//! (`OUT/.events.jsonl.tmp`, `OUT/.timeseries.csv.tmp`, ...), truncated to the lengths the checkpoint
//! recorded; the `trace_digest` state is part of the checkpoint, so the digest covers the whole
//! stream. The resumed run's outputs are byte-identical to an uninterrupted run's (`run.json`
//! aside). A run that completes removes its checkpoint.

use super::{RunError, RunOptions, Simulation};
use crate::engine::time::{SimDuration, SimTime};
use crate::input::scenario::Scenario;
use crate::run::output::{StreamFile, hex, write_atomic};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The checkpoint's file name in the output folder.
pub const FILE_NAME: &str = "checkpoint.bin";
/// Format version (a checkpoint of another version is refused).
pub const FORMAT: u32 = 1;

/// What a checkpointing run needs to know to write checkpoints that can be resumed.
#[derive(Clone, Debug)]
pub struct CheckpointPlan {
    /// Simulated time between checkpoints.
    pub every: SimDuration,
    /// The scenario file (made absolute when possible).
    pub scenario_path: PathBuf,
    /// The `--set` overrides (the seed included as `seed=N`).
    pub overrides: Vec<String>,
}

/// The first part of a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT`].
    pub format: u32,
    /// The kubesim version that wrote it.
    pub kubesim_version: String,
    /// The scenario file.
    pub scenario_path: PathBuf,
    /// The `--set` overrides.
    pub overrides: Vec<String>,
    /// The master seed.
    pub seed: u64,
    /// SHA-256 of the scenario text as run (after `--set`): a changed scenario is refused.
    pub scenario_sha256: String,
    /// Simulated time between checkpoints, in microseconds.
    pub every_us: u64,
    /// Simulated time of the checkpoint, in microseconds.
    pub time_us: u64,
}

#[derive(Serialize)]
struct CheckpointRef<'a, 's> {
    header: &'a Header,
    sim: &'a Simulation<'s>,
}

#[derive(Deserialize)]
struct CheckpointOwned {
    header: Header,
    sim: Simulation<'static>,
}

/// A checkpoint read back: its header and the simulation state, to be [`attach`]ed to the
/// scenario the header names.
pub struct Restored {
    /// The header.
    pub header: Header,
    sim: Simulation<'static>,
}

/// The scenario a deserialised simulation points to until [`attach`] gives it the real one.
pub(super) fn placeholder_scenario<'a>() -> &'a Scenario {
    static EMPTY: std::sync::OnceLock<Option<Scenario>> = std::sync::OnceLock::new();
    let text = "apiVersion: kubesim/v1\nkind: Scenario\nduration: 1s\n";
    match EMPTY.get_or_init(|| crate::input::scenario::load_str(text, "(checkpoint)", Path::new("."), &[]).ok()) {
        Some(s) => s,
        None => unreachable!("the placeholder scenario is valid"),
    }
}

fn scenario_sha256(sc: &Scenario) -> String {
    hex(&Sha256::digest(sc.text.as_bytes()))
}

fn err(e: impl std::fmt::Display) -> RunError {
    RunError::Checkpoint(e.to_string())
}

/// Removes `dir/checkpoint.bin` if present.
pub fn remove(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(dir.join(FILE_NAME)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

impl<'s> Simulation<'s> {
    /// The checkpoint of this simulation as bytes (call between events).
    pub fn checkpoint_bytes(&self, plan: &CheckpointPlan) -> Result<Vec<u8>, RunError> {
        let header = Header {
            format: FORMAT,
            kubesim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_path: plan.scenario_path.clone(),
            overrides: plan.overrides.clone(),
            seed: self.scenario.seed,
            scenario_sha256: scenario_sha256(self.scenario),
            every_us: plan.every.as_micros(),
            time_us: self.queue.now().0,
        };
        let mut out = Vec::new();
        ciborium::into_writer(&CheckpointRef { header: &header, sim: self }, &mut out).map_err(err)?;
        Ok(out)
    }

    /// Writes `OUT/checkpoint.bin` atomically (streamed files flushed first); returns its path,
    /// or `None` without a checkpoint plan or an output folder.
    pub(super) fn write_checkpoint(&mut self, opts: &RunOptions) -> Result<Option<PathBuf>, RunError> {
        let (Some(plan), Some(dir)) = (&opts.checkpoint, &opts.out_dir) else { return Ok(None) };
        self.events_log.flush()?;
        self.timeseries.flush()?;
        self.pods_csv.flush()?;
        if let Some(m) = &mut self.workload_metrics {
            m.flush()?;
        }
        if let Some(s) = &mut self.services {
            s.flush()?;
        }
        let bytes = self.checkpoint_bytes(plan)?;
        write_atomic(dir, FILE_NAME, &bytes)?;
        Ok(Some(dir.join(FILE_NAME)))
    }
}

/// Reads a checkpoint from bytes.
pub fn from_bytes(bytes: &[u8]) -> Result<Restored, RunError> {
    let c: CheckpointOwned =
        ciborium::from_reader(bytes).map_err(|e| err(format!("not a readable checkpoint: {e}")))?;
    if c.header.format != FORMAT {
        return Err(err(format!("checkpoint format {} is not {FORMAT}", c.header.format)));
    }
    Ok(Restored { header: c.header, sim: c.sim })
}

/// Reads a checkpoint file.
pub fn read(path: &Path) -> Result<Restored, RunError> {
    let bytes = std::fs::read(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
    from_bytes(&bytes)
}

/// Ties a restored simulation to its scenario (which must be the one it was started from) and
/// to the output folder of `opts`, whose streamed temporaries are truncated to the checkpoint.
/// `custom` gives the scheduler profiles of a run started with custom profiles.
pub fn attach<'s>(
    restored: Restored,
    scenario: &'s Scenario,
    opts: &RunOptions,
    custom: Option<Vec<crate::scheduler::Profile>>,
) -> Result<Simulation<'s>, RunError> {
    if restored.header.scenario_sha256 != scenario_sha256(scenario) {
        return Err(err(format!(
            "{} (with the checkpoint's --set overrides) is not the scenario the checkpoint was taken from",
            restored.header.scenario_path.display()
        )));
    }
    let mut sim: Simulation<'s> = restored.sim;
    sim.scenario = scenario;
    sim.scheduler.profiles = Simulation::scheduler_profiles(scenario, None, custom)?.0;
    sim.policy = super::placer::start_policy(scenario, None, &sim.scheduler.profiles)?;
    sim.check_invariants = opts.check_invariants;
    sim.keep_ended_pods = opts.keep_ended_pods;
    let written = sim.timeseries.len();
    sim.timeseries = match &opts.out_dir {
        Some(dir) => StreamFile::reopen(dir, "timeseries.csv", false, written)?,
        None => StreamFile::discard_from(written),
    };
    let written = sim.pods_csv.len();
    sim.pods_csv = match &opts.out_dir {
        Some(dir) => StreamFile::reopen(dir, "pods.csv", false, written)?,
        None => StreamFile::discard_from(written),
    };
    sim.events_log.reattach(opts.out_dir.as_deref())?;
    if let Some(m) = &mut sim.workload_metrics {
        m.reattach(opts.out_dir.as_deref())?;
    }
    if let Some(s) = &mut sim.services {
        s.reattach(opts.out_dir.as_deref())?;
    }
    sim.next_checkpoint = opts.checkpoint.as_ref().map(|c| {
        let every = c.every.as_micros().max(1);
        SimTime((sim.queue.now().0 / every + 1) * every)
    });
    Ok(sim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> CheckpointPlan {
        CheckpointPlan { every: SimDuration::from_secs(600), scenario_path: "x.yaml".into(), overrides: vec![] }
    }

    /// Where two checkpoints differ, as decoded CBOR text around the first difference.
    fn first_difference(a: &[u8], b: &[u8]) -> String {
        let show = |x: &[u8]| format!("{:?}", ciborium::from_reader::<ciborium::Value, _>(x).unwrap());
        let (a, b) = (show(a), show(b));
        let i = a.bytes().zip(b.bytes()).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
        let from = i.saturating_sub(300);
        let around = |s: &str| s.get(from..(i + 100).min(s.len())).unwrap_or("").to_string();
        format!("before: ...{}\nafter:  ...{}", around(&a), around(&b))
    }

    #[test]
    fn a_checkpoint_round_trip_changes_nothing() {
        let files = [
            "scenarios/node-failures.yaml",
            "scenarios/preemption.yaml",
            "scenarios/poisson-arrivals.yaml",
            "scenarios/rolling-update.yaml",
            "scenarios/statefulset-node-loss.yaml",
            "scenarios/cronjob-batch.yaml",
            "scenarios/network-partition.yaml",
            "scenarios/zone-outage-pdb.yaml",
        ];
        for file in files {
            let sc = crate::input::scenario::load(Path::new(file), &[]).unwrap();
            let opts = RunOptions::default();
            let mut sim = Simulation::new(&sc, &opts).unwrap();
            let half = SimTime(sc.duration.0 / 2);
            sim.advance(&opts, Some(half)).unwrap();
            let bytes = sim.checkpoint_bytes(&plan()).unwrap();
            let restored = attach(from_bytes(&bytes).unwrap(), &sc, &opts, None).unwrap();
            let again = restored.checkpoint_bytes(&plan()).unwrap();
            if again != bytes {
                panic!("{file}: the state changed in a round trip: {}", first_difference(&bytes, &again));
            }
            let a = sim.run(&opts).unwrap();
            let b = restored.run(&opts).unwrap();
            assert_eq!(a.summary, b.summary, "{file}");
            assert_eq!(
                crate::run::summary::pods_csv(&a.cluster).unwrap(),
                crate::run::summary::pods_csv(&b.cluster).unwrap(),
                "{file}"
            );
        }
    }

    #[test]
    fn a_checkpoint_of_another_scenario_is_refused() {
        let sc = crate::input::scenario::load(Path::new("scenarios/quickstart.yaml"), &[]).unwrap();
        let other = crate::input::scenario::load(Path::new("scenarios/quickstart.yaml"), &["seed=99".into()]).unwrap();
        let opts = RunOptions::default();
        let sim = Simulation::new(&sc, &opts).unwrap();
        let bytes = sim.checkpoint_bytes(&plan()).unwrap();
        let e = attach(from_bytes(&bytes).unwrap(), &other, &opts, None).err().unwrap();
        assert!(e.to_string().contains("not the scenario the checkpoint was taken from"), "{e}");
        assert!(from_bytes(b"garbage").is_err());
    }
}
