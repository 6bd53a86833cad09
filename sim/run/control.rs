//! Run control from the command line: the `--events` and `--checkpoint-every` flags of
//! `kubesim run`, the `kubesim resume` command, and clean interruption by SIGINT / SIGTERM.
//!
//! A signal only sets an atomic flag ([`install_signal_handlers`]); the run loop checks it
//! between two events and stops: the streamed temporaries are removed and nothing is renamed
//! into place, so the output folder holds complete outputs or none. With `--checkpoint-every`,
//! a checkpoint is written at the stop instead, and the temporaries it refers to are kept.
//! The process exits with status 128 + the signal number (130 for SIGINT, 143 for SIGTERM).

use super::checkpoint::{self, CheckpointPlan};
use super::events::EventsMode;
use super::{RunError, RunOptions};
use crate::engine::time::SimDuration;
use crate::input::go_duration::GoDuration;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// The reliability flags of `kubesim run`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RunFlags {
    /// What to write of the event log: full (every event), summary (rare kinds only, plus
    /// event_counts.json) or none. trace_digest always covers every event.
    #[arg(long, value_enum, default_value_t = EventsMode::Full)]
    pub events: EventsMode,
    /// Write OUT/checkpoint.bin every DURATION of simulated time (e.g. 1h); resume with
    /// `kubesim resume OUT/checkpoint.bin`.
    #[arg(long, value_name = "DURATION")]
    pub checkpoint_every: Option<GoDuration>,
}

/// Arguments of `kubesim resume`.
#[derive(clap::Args, Debug, Clone)]
pub struct ResumeArgs {
    /// The checkpoint (OUT/checkpoint.bin); outputs go to the folder that holds it.
    pub checkpoint: PathBuf,
    /// Check every cluster invariant after every event (slow).
    #[arg(long)]
    pub check_invariants: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Installs SIGINT and SIGTERM handlers that store the signal number in the returned flag.
pub fn install_signal_handlers() -> std::io::Result<Arc<AtomicUsize>> {
    let flag = Arc::new(AtomicUsize::new(0));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_usize(sig, Arc::clone(&flag), sig as usize)?;
    }
    Ok(flag)
}

/// The exit status of a run stopped by `signal` (128 + its number).
pub fn exit_status(signal: usize) -> i32 {
    128 + signal as i32
}

/// Adds the flags to run options (`scenario` and `overrides` go into checkpoints).
pub fn apply(flags: &RunFlags, opts: &mut RunOptions, scenario: &Path, overrides: &[String]) -> Result<(), String> {
    opts.events = flags.events;
    if let Some(every) = flags.checkpoint_every {
        if every.0 == 0 {
            return Err("--checkpoint-every must be more than 0s".into());
        }
        let scenario_path = std::fs::canonicalize(scenario).unwrap_or_else(|_| scenario.to_path_buf());
        opts.checkpoint =
            Some(CheckpointPlan { every: SimDuration(every.0), scenario_path, overrides: overrides.to_vec() });
    }
    opts.interrupt = install_signal_handlers().ok();
    Ok(())
}

/// `kubesim resume`: returns the exit status.
pub fn resume_command(args: &ResumeArgs) -> i32 {
    let restored = match checkpoint::read(&args.checkpoint) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::cli::EXIT_INPUT;
        }
    };
    let h = restored.header.clone();
    let sc = match crate::input::scenario::load(&h.scenario_path, &h.overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::cli::EXIT_INPUT;
        }
    };
    let out_dir = args.checkpoint.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let opts = RunOptions {
        out_dir: Some(out_dir.clone()),
        check_invariants: args.check_invariants,
        interrupt: install_signal_handlers().ok(),
        checkpoint: Some(CheckpointPlan {
            every: SimDuration(h.every_us),
            scenario_path: h.scenario_path.clone(),
            overrides: h.overrides.clone(),
        }),
        ..RunOptions::default()
    };
    let result = checkpoint::attach(restored, &sc, &opts, None).and_then(|sim| sim.run(&opts));
    match result {
        Ok(r) => {
            if !args.quiet {
                println!(
                    "{}: resumed at {}, {} pods created, {} scheduled; outputs in {}",
                    sc.name,
                    SimDuration(h.time_us),
                    r.summary.counts.pods_created,
                    r.summary.counts.pods_scheduled,
                    out_dir.display()
                );
            }
            0
        }
        Err(e) => report_error(&e),
    }
}

/// Prints a run error; returns the exit status.
pub fn report_error(e: &RunError) -> i32 {
    eprintln!("error: {e}");
    match e {
        RunError::Interrupted { signal, .. } => exit_status(*signal),
        _ => crate::cli::EXIT_FAILURE,
    }
}
