//! Determinism and invariants over every scenario in `scenarios/`: two runs give byte-identical
//! outputs (all but `run.json`), different seeds give different traces, and the cluster
//! invariant checker holds after every event.

use kubesim::cluster::PodPhase;
use kubesim::input::scenario;
use kubesim::run::{RunOptions, run};
use std::path::{Path, PathBuf};

fn scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .expect("scenarios/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    assert!(v.len() >= 3, "expected at least three bundled scenarios");
    v
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap())
        })
        .filter(|(n, _)| n != "run.json")
        .collect();
    v.sort();
    v
}

#[test]
fn every_scenario_run_twice_gives_byte_identical_outputs() {
    for path in scenarios() {
        let sc = scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        run(&sc, &RunOptions { out_dir: Some(a.path().into()), check_invariants: false, ..Default::default() })
            .unwrap();
        run(&sc, &RunOptions { out_dir: Some(b.path().into()), check_invariants: false, ..Default::default() })
            .unwrap();
        let (fa, fb) = (files(a.path()), files(b.path()));
        let names: Vec<&str> = fa.iter().map(|(n, _)| n.as_str()).collect();
        let mut expected =
            vec!["events.jsonl", "nodes.csv", "pods.csv", "summary.json", "timeseries.csv", "workloads.csv"];
        if !sc.services.is_empty() {
            expected.insert(3, "services.csv");
        }
        assert_eq!(names, expected, "{}", path.display());
        for ((n, x), (_, y)) in fa.iter().zip(&fb) {
            assert!(x == y, "{}: {n} differs between two runs", path.display());
        }
        assert!(a.path().join("run.json").exists());
        let leftovers: Vec<_> = std::fs::read_dir(a.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left behind");
    }
}

/// Ended pods are released from the store as they end (memory follows the live pods); keeping
/// them all must not change a byte of the outputs, and the released store holds no finished pod
/// but those a Job still counts or a ResourceQuota still charges.
#[test]
fn releasing_ended_pods_changes_no_output() {
    let mut released_somewhere = false;
    for path in scenarios() {
        let sc = scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let released = run(&sc, &RunOptions { out_dir: Some(a.path().into()), ..Default::default() }).unwrap();
        let kept =
            run(&sc, &RunOptions { out_dir: Some(b.path().into()), keep_ended_pods: true, ..Default::default() })
                .unwrap();
        for ((n, x), (_, y)) in files(a.path()).iter().zip(&files(b.path())) {
            assert!(x == y, "{}: {n} differs between releasing and keeping ended pods", path.display());
        }
        let c = &released.summary.counts;
        let ended = c.succeeded + c.failed + c.deleted;
        assert_eq!(kept.cluster.released_count(), 0);
        assert_eq!(kept.cluster.pods().count() as u64, c.pods_created, "{}", path.display());
        let held = released
            .cluster
            .pods()
            .filter(|p| p.phase.is_terminal())
            .inspect(|p| {
                let uid = p.pod.owner.as_ref().map(|o| o.uid);
                let job = uid.and_then(|u| released.workloads.by_uid(u)).map(|w| w.kind());
                let quota = p.phase != PodPhase::Deleted && sc.admission.has_quota(&p.pod.namespace);
                assert!(
                    job == Some(kubesim::controllers::Kind::Job) || quota,
                    "{}: finished pod {} kept without a Job counting it or a quota charging it",
                    path.display(),
                    p.pod.key()
                );
            })
            .count() as u64;
        assert_eq!(released.cluster.released_count() + held, ended, "{}", path.display());
        released_somewhere |= released.cluster.released_count() > 0;
    }
    assert!(released_somewhere, "some bundled scenario ends pods");
}

#[test]
fn two_seeds_give_different_trace_digests() {
    for path in scenarios() {
        let a = scenario::load(&path, &["seed=1".to_string()]).unwrap();
        let b = scenario::load(&path, &["seed=2".to_string()]).unwrap();
        let ra = run(&a, &RunOptions::default()).unwrap();
        let rb = run(&b, &RunOptions::default()).unwrap();
        assert_ne!(ra.summary.trace_digest, rb.summary.trace_digest, "{}", path.display());
    }
}

#[test]
fn the_invariant_checker_holds_after_every_event_of_every_scenario() {
    for path in scenarios() {
        let sc = scenario::load(&path, &[]).unwrap();
        let r = run(&sc, &RunOptions { out_dir: None, check_invariants: true, ..Default::default() });
        assert!(r.is_ok(), "{}: {}", path.display(), r.err().map(|e| e.to_string()).unwrap_or_default());
        let r = r.unwrap();
        assert!(r.summary.counts.pods_created > 0, "{}: no pods", path.display());
    }
}

#[test]
fn the_trace_digest_is_the_sha256_of_events_jsonl() {
    use sha2::{Digest, Sha256};
    let sc = scenario::load(Path::new("scenarios/quickstart.yaml"), &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = run(&sc, &RunOptions { out_dir: Some(dir.path().into()), check_invariants: false, ..Default::default() })
        .unwrap();
    let bytes = std::fs::read(dir.path().join("events.jsonl")).unwrap();
    let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(r.summary.trace_digest, format!("sha256:{digest}"));
}

/// The scale scenario (kept out of `scenarios/*.yaml`: a release-build benchmark) stays valid.
#[test]
fn the_scale_scenario_loads() {
    let sc = scenario::load(Path::new("scenarios/scale/scale-10k.yaml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.name, "scale-10k");
    let small = scenario::load(
        Path::new("scenarios/scale/scale-10k.yaml"),
        &["cluster.nodePools[0].count=50".to_string(), "workloads.arrivals[0].count=100".to_string()],
    );
    assert!(small.is_ok(), "{:?}", small.err().map(|e| e.to_string()));
}
