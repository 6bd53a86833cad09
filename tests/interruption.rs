//! Clean interruption and checkpoint / resume:
//! - SIGINT or SIGTERM in the middle of `kubesim run` stops it with status 128 + signal and
//!   leaves no output file (no partial file, no temporary);
//! - with `--checkpoint-every`, the stop leaves the checkpoint and the temporaries it needs, and
//!   still no visible output file;
//! - a run interrupted and resumed from its checkpoint (`kubesim resume`) writes outputs
//!   byte-identical to an uninterrupted run's, `run.json` aside, in every `--events` mode.

use kubesim::engine::time::{SimDuration, SimTime};
use kubesim::input::scenario;
use kubesim::run::checkpoint::{self, CheckpointPlan};
use kubesim::run::events::EventsMode;
use kubesim::run::{RunError, RunOptions, Simulation};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_kubesim");

/// A scenario that runs for minutes in a debug build (millions of arrivals).
const LONG: &str = "apiVersion: kubesim/v1\nkind: Scenario\nseed: 1\nduration: 100h\ncluster:\n  nodePools:\n  - name: p\n    count: 50\n    zones: [a, b]\n    allocatable: {cpu: 16, memory: 64Gi}\nworkloads:\n  arrivals:\n  - name: jobs\n    interArrival: {exponential: {mean: 20ms}}\n    runDuration: {exponential: {mean: 30s}}\n    template: {spec: {containers: [{name: c, resources: {requests: {cpu: 100m, memory: 128Mi}}}]}}\n";

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Starts `kubesim run` on the long scenario, waits until it is simulating, sends `signal`,
/// and returns the exit status and the output folder's files.
fn interrupt_run(signal: &str, extra: &[&str]) -> (Option<i32>, Vec<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("long.yaml");
    std::fs::write(&sc, LONG).unwrap();
    let out = dir.path().join("out");
    let mut child = Command::new(EXE)
        .arg("run")
        .arg(&sc)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The temporaries exist once the run is set up (the handlers are installed before).
    let started = Instant::now();
    while !out.join(".events.jsonl.tmp").exists() {
        assert!(started.elapsed() < Duration::from_secs(120), "the run never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(120);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not stop after {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    assert!(stderr.contains("interrupted by signal"), "{stderr}");
    (code, files(&out), dir)
}

#[test]
fn sigint_in_the_middle_of_a_run_leaves_no_output_file() {
    let (code, files, _dir) = interrupt_run("INT", &[]);
    assert_eq!(code, Some(130));
    assert!(files.is_empty(), "left behind: {files:?}");
}

#[test]
fn sigterm_with_checkpoints_leaves_only_the_checkpoint_and_its_temporaries() {
    let (code, files, _dir) = interrupt_run("TERM", &["--checkpoint-every", "1m"]);
    assert_eq!(code, Some(143));
    assert_eq!(files, vec![".events.jsonl.tmp", ".timeseries.csv.tmp", ".workloads.csv.tmp", "checkpoint.bin"]);
}

/// Every output file of `dir` except `run.json`, by name.
fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files(dir)
        .into_iter()
        .filter(|f| f != "run.json")
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

/// Runs `file` in-process, interrupted at `at` with a checkpoint into `out` (as a signal would).
fn interrupted_run(file: &Path, overrides: &[String], out: &Path, at: SimTime, events: EventsMode) -> PathBuf {
    let sc = scenario::load(file, overrides).unwrap();
    let flag = Arc::new(AtomicUsize::new(0));
    let opts = RunOptions {
        out_dir: Some(out.to_path_buf()),
        events,
        interrupt: Some(Arc::clone(&flag)),
        checkpoint: Some(CheckpointPlan {
            every: SimDuration::from_secs(600),
            scenario_path: std::fs::canonicalize(file).unwrap(),
            overrides: overrides.to_vec(),
        }),
        ..RunOptions::default()
    };
    let mut sim = Simulation::new(&sc, &opts).unwrap();
    assert!(!sim.advance(&opts, Some(at)).unwrap(), "the run ended before the interruption");
    flag.store(2, Ordering::Relaxed);
    match sim.run(&opts) {
        Err(RunError::Interrupted { checkpoint: Some(p), .. }) => p,
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("the run was not interrupted"),
    }
}

#[test]
fn a_resumed_run_writes_the_same_outputs_as_an_uninterrupted_one() {
    // Every bundled scenario (controllers, faults, HPA, autoscaler, workflows, traces, GPUs), plus
    // the other two event modes on two of them.
    let mut cases: Vec<(String, EventsMode)> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| (p.display().to_string(), EventsMode::Full))
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(cases.len() >= 15, "the bundled scenarios are missing");
    cases.push(("scenarios/poisson-arrivals.yaml".into(), EventsMode::Summary));
    cases.push(("scenarios/node-failures.yaml".into(), EventsMode::None));
    for (file, events) in cases {
        let file = Path::new(&file);
        let sc = scenario::load(file, &[]).unwrap();
        let whole = tempfile::tempdir().unwrap();
        let opts = RunOptions { out_dir: Some(whole.path().into()), events, ..RunOptions::default() };
        let end_us = kubesim::run::run(&sc, &opts).unwrap().summary.simulated_duration_us;
        for fraction in [3, 2] {
            let parts = tempfile::tempdir().unwrap();
            // Inside the run, also for runs that stop when idle.
            let at = SimTime(end_us / fraction);
            let ckpt = interrupted_run(file, &[], parts.path(), at, events);
            let visible: Vec<String> = files(parts.path()).into_iter().filter(|f| !f.starts_with('.')).collect();
            assert_eq!(visible, vec!["checkpoint.bin"], "{}", file.display());
            // Resume through the command line, as a user would.
            let out = Command::new(EXE).arg("resume").arg(&ckpt).arg("-q").output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(outputs(parts.path()), outputs(whole.path()), "{} at 1/{fraction}", file.display());
        }
    }
}

#[test]
fn a_crash_after_a_checkpoint_resumes_from_the_checkpoint_not_the_longer_temporaries() {
    // The temporaries of a killed run are longer than the checkpoint says; resume truncates them.
    let file = Path::new("scenarios/node-failures.yaml");
    let sc = scenario::load(file, &[]).unwrap();
    let whole = tempfile::tempdir().unwrap();
    kubesim::run::run(&sc, &RunOptions { out_dir: Some(whole.path().into()), ..RunOptions::default() }).unwrap();
    let parts = tempfile::tempdir().unwrap();
    let ckpt = interrupted_run(file, &[], parts.path(), SimTime(sc.duration.0 / 2), EventsMode::Full);
    for tmp in [".events.jsonl.tmp", ".timeseries.csv.tmp"] {
        let mut f = std::fs::OpenOptions::new().append(true).open(parts.path().join(tmp)).unwrap();
        std::io::Write::write_all(&mut f, b"written after the checkpoint\n").unwrap();
    }
    let restored = checkpoint::read(&ckpt).unwrap();
    let opts = RunOptions { out_dir: Some(parts.path().into()), ..RunOptions::default() };
    checkpoint::attach(restored, &sc, &opts, None).unwrap().run(&opts).unwrap();
    assert_eq!(outputs(parts.path()), outputs(whole.path()));
}

#[test]
fn a_checkpoint_that_is_not_one_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("checkpoint.bin");
    std::fs::write(&p, b"not a checkpoint").unwrap();
    let out = Command::new(EXE).arg("resume").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a readable checkpoint"));
}
