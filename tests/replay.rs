//! End-to-end `kubesim replay` on the openb fixtures: the output files, their determinism, and
//! exit status 2 on a malformed trace.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces/openb").join(name)
}

fn replay(out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .arg("replay")
        .arg("--pods")
        .arg(fixture("pods.csv"))
        .arg("--nodes")
        .arg(fixture("nodes.csv"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_replay_writes_placements_summary_and_charts_identically_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for d in [&a, &b] {
        let o = replay(d, &["--policy", "fgd", "--inflate", "1.3", "--seed", "42", "-q"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for f in ["placement.csv", "summary.json", "alloc.svg", "frag.svg"] {
        let x = std::fs::read(a.join(f)).unwrap();
        assert_eq!(x, std::fs::read(b.join(f)).unwrap(), "{f} differs between two runs");
    }
    let csv = std::fs::read_to_string(a.join("placement.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "index,pod,arrived_gpu_millis,allocated_gpu_millis,frag_gpu_millis,node,gpu_indices,arrived_gpu_pct,alloc_gpu_pct,frag_ratio_pct"
    );
    // 10 GPUs; the six pods ask 1000 + 460 + 0 + 8000 + 500 + 1000 = 10960 milli > 1.3 × 10000
    // is false, so clones are added up to 13000.
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 6, "inflated to 130 %");
    let last: Vec<&str> = rows.last().unwrap().split(',').collect();
    assert!(last[2].parse::<i64>().unwrap() <= 13_000);
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["policy"], "fgd");
    assert_eq!(s["capacity_gpu_millis"], 10_000);
    assert_eq!(s["trace_pods"], 6);
}

#[test]
fn a_multi_run_replay_writes_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let o = replay(dir.path(), &["--policies", "random,best-fit,fgd", "--seeds", "1..3", "--inflate", "1.3", "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = std::fs::read_to_string(dir.path().join("table.csv")).unwrap();
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(table.contains("pods,fgd,3,"), "{table}");
    let results = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
    assert_eq!(results.lines().count(), 10);
    assert!(dir.path().join("alloc_curve_pods.svg").exists());
    assert!(dir.path().join("pods/fgd/seed-2/summary.json").exists());
}

#[test]
fn a_malformed_trace_exits_with_status_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["replay", "--pods"])
        .arg(fixture("bad_negative.csv"))
        .arg("--nodes")
        .arg(fixture("nodes.csv"))
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad_negative.csv:4:3"), "{err}");
    let o = replay(dir.path(), &["--policy", "nope"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_scenario_replays_an_openb_trace_with_a_research_scheduler() {
    let dir = tempfile::tempdir().unwrap();
    for (scenario, policy) in [
        (Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/gpu-fgd-trace.yaml"), "fgd"),
        (fixture("scenario_arrival.yaml"), "gpu-packing"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_kubesim"))
            .arg("run")
            .arg(&scenario)
            .arg("--out")
            .arg(dir.path())
            .arg("--check-invariants")
            .arg("-q")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}: {}", scenario.display(), String::from_utf8_lossy(&o.stderr));
        let s: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
        assert_eq!(s["scheduler"], policy);
        let pods = std::fs::read_to_string(dir.path().join("pods.csv")).unwrap();
        assert!(pods.lines().count() > 6, "{pods}");
    }
}

#[test]
fn the_queue_order_is_selectable_from_a_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.yaml");
    for (order, ok) in [("sjf", true), ("drf", true), ("priority", true), ("lifo", false)] {
        let o = Command::new(env!("CARGO_BIN_EXE_kubesim"))
            .arg("run")
            .arg(&scenario)
            .arg("--out")
            .arg(dir.path())
            .arg("--set")
            .arg(format!("scheduler.queue={order}"))
            .arg("-q")
            .output()
            .unwrap();
        assert_eq!(o.status.success(), ok, "{order}: {}", String::from_utf8_lossy(&o.stderr));
        if !ok {
            assert_eq!(o.status.code(), Some(2));
        }
    }
}

#[test]
fn compare_runs_policies_by_seeds_on_a_trace_replay_and_seeds_change_the_inflation() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .arg("compare")
        .arg(fixture("scenario_arrival.yaml"))
        .args(["--schedulers", "fgd,best-fit,random", "--seeds", "1..3", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut r = csv::Reader::from_path(dir.path().join("runs.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap_or_else(|| panic!("no column {n}"));
    let (sched, seed, unalloc, digest) =
        (col("scheduler"), col("seed"), col("gpu_unallocated_pct_at_end"), col("trace_digest"));
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 9, "3 policies × 3 seeds");
    for row in &rows {
        let u: f64 = row[unalloc].parse().unwrap_or_else(|_| panic!("{row:?}"));
        assert!((0.0..=100.0).contains(&u), "{row:?}");
    }
    // The inflation shuffle follows the seed: one policy's runs differ between seeds.
    let fgd: std::collections::BTreeSet<&str> =
        rows.iter().filter(|r| &r[sched] == "fgd").map(|r| r.get(digest).unwrap()).collect();
    assert_eq!(fgd.len(), 3, "three seeds, three different replays");
    assert!(rows.iter().any(|r| &r[seed] == "3"));
    let cmp = std::fs::read_to_string(dir.path().join("comparison.csv")).unwrap();
    assert!(cmp.contains("gpu_unallocated_pct_at_end"), "{cmp}");
}
