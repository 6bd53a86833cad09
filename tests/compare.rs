//! `kubesim compare`: results do not depend on the worker count, shards merged give the files of
//! a single run, an interrupted comparison redoes only the missing runs, and the statistics in
//! `comparison.csv` are those of `runs.csv`.

use kubesim::compare::shard::Shard;
use kubesim::compare::{CompareOptions, Plan, build_plan, compare, merge::merge};
use std::path::{Path, PathBuf};

const SETS: &[&str] = &["duration=8m", "cluster.nodePools[0].count=6,8"];

fn plan() -> Plan {
    let sets: Vec<String> = SETS.iter().map(|s| s.to_string()).collect();
    build_plan(&[PathBuf::from("scenarios/quickstart.yaml")], Some("default,most-allocated"), "1..2", &sets).unwrap()
}

fn opts(out: &Path, jobs: usize, shard: Shard) -> CompareOptions {
    CompareOptions { out: out.to_path_buf(), jobs, shard, progress: false, png: false }
}

/// The aggregate files of a comparison folder (runs themselves are checked through
/// `runs.csv`, which holds each run's trace digest).
fn aggregates(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = vec![];
    for f in ["runs.csv", "comparison.csv", "plan.json", "report.html"] {
        v.push((f.to_string(), std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))));
    }
    let mut charts: Vec<_> = std::fs::read_dir(dir.join("charts"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (format!("charts/{}", p.file_name().unwrap().to_string_lossy()), std::fs::read(&p).unwrap())
        })
        .collect();
    charts.sort();
    assert!(charts.len() >= 10, "bar charts and CDFs: {}", charts.len());
    v.extend(charts);
    v
}

fn assert_same(a: &[(String, Vec<u8>)], b: &[(String, Vec<u8>)]) {
    assert_eq!(a.iter().map(|x| &x.0).collect::<Vec<_>>(), b.iter().map(|x| &x.0).collect::<Vec<_>>());
    for ((n, x), (_, y)) in a.iter().zip(b) {
        assert!(x == y, "{n} differs");
    }
}

#[test]
fn one_worker_and_four_workers_give_identical_files_and_shards_merge_into_the_same() {
    let p = plan();
    assert_eq!(p.runs().len(), 8);
    let root = tempfile::tempdir().unwrap();
    let one = root.path().join("one");
    let four = root.path().join("four");
    let o1 = compare(&p, &opts(&one, 1, Shard::ALL)).unwrap();
    assert_eq!((o1.executed.len(), o1.skipped.len(), o1.aggregated), (8, 0, true));
    compare(&p, &opts(&four, 4, Shard::ALL)).unwrap();
    let base = aggregates(&one);
    assert_same(&base, &aggregates(&four));
    let runs = String::from_utf8(std::fs::read(one.join("runs.csv")).unwrap()).unwrap();
    assert_eq!(runs.lines().count(), 9, "a header and one row per run");
    assert!(
        runs.lines().nth(1).unwrap().starts_with("0,quickstart,duration=8m;cluster.nodePools[0].count=6,default,1,")
    );

    // Three shards in three folders, then merge.
    let mut dirs = vec![];
    for i in 1..=3 {
        let d = root.path().join(format!("shard-{i}"));
        let o = compare(&p, &opts(&d, 2, Shard::new(i, 3).unwrap())).unwrap();
        assert!(!o.aggregated && !d.join("runs.csv").exists());
        assert_eq!(o.executed, (0..8).filter(|k| k % 3 == i as usize - 1).collect::<Vec<_>>());
        dirs.push(d);
    }
    let merged = root.path().join("merged");
    assert!(merge(&dirs[..2], &merged, false).is_err(), "a missing shard is an error");
    merge(&dirs, &merged, false).unwrap();
    assert_same(&base, &aggregates(&merged));
}

#[test]
fn a_rerun_after_deleting_one_run_recomputes_only_that_run() {
    let p = plan();
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("c");
    compare(&p, &opts(&out, 2, Shard::ALL)).unwrap();
    let before = aggregates(&out);
    let combos = p.combos();
    let victim = &p.runs()[5];
    std::fs::remove_dir_all(out.join(p.run_dir(victim, &combos))).unwrap();
    let o = compare(&p, &opts(&out, 2, Shard::ALL)).unwrap();
    assert_eq!(o.executed, vec![5]);
    assert_eq!(o.skipped, vec![0, 1, 2, 3, 4, 6, 7]);
    assert_same(&before, &aggregates(&out));
    // Nothing left to do: nothing runs.
    assert!(compare(&p, &opts(&out, 2, Shard::ALL)).unwrap().executed.is_empty());
}

#[test]
fn comparison_intervals_are_student_t_intervals_of_the_runs() {
    let p = build_plan(&[PathBuf::from("scenarios/quickstart.yaml")], Some("default"), "1..3", &["duration=5m".into()])
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    compare(&p, &opts(root.path(), 2, Shard::ALL)).unwrap();
    let runs = csv::Reader::from_path(root.path().join("runs.csv")).unwrap();
    let mut runs = runs;
    let h = runs.headers().unwrap().clone();
    let c = h.iter().position(|x| x == "cpu_alloc_ratio").unwrap();
    let xs: Vec<f64> = runs.records().map(|r| r.unwrap()[c].parse().unwrap()).collect();
    assert_eq!(xs.len(), 3);
    let mean = xs.iter().sum::<f64>() / 3.0;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let half = 4.302653 * sd / 3f64.sqrt(); // t(0.975, 2) from the table
    let mut cmp = csv::Reader::from_path(root.path().join("comparison.csv")).unwrap();
    let h = cmp.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let row = cmp.records().map(|r| r.unwrap()).find(|r| &r[col("metric")] == "cpu_alloc_ratio").unwrap();
    let get = |n: &str| row[col(n)].parse::<f64>().unwrap();
    assert_eq!(&row[col("n")], "3");
    assert!((get("mean") - mean).abs() < 1e-6);
    assert!((get("sd") - sd).abs() < 1e-6);
    assert!((get("ci95_low") - (mean - half)).abs() < 1e-5);
    assert!((get("ci95_high") - (mean + half)).abs() < 1e-5);
    assert_eq!(&row[col("diff_n")], "", "the baseline has no paired difference");
}

#[test]
fn the_cli_shards_from_an_indexed_job_and_merges() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("s");
    let args = |extra: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"));
        let seeds = if extra.contains(&"--seeds") { &[][..] } else { &["--seeds", "1,2"][..] };
        c.args(["compare", "scenarios/quickstart.yaml", "--schedulers", "default,most-allocated"])
            .args(seeds)
            .args(["--set", "duration=3m", "-q", "--out"])
            .arg(&out)
            .args(extra)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("SLURM_ARRAY_TASK_COUNT");
        c
    };
    for i in 0..2 {
        let st = args(&["--shard-count", "2"]).env("JOB_COMPLETION_INDEX", i.to_string()).status().unwrap();
        assert!(st.success());
    }
    assert!(!out.join("runs.csv").exists());
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .arg("merge")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 5);
    // Bad flags are input errors (exit status 2).
    let st = args(&["--seeds", "5..1"]).env_remove("JOB_COMPLETION_INDEX").status().unwrap();
    assert_eq!(st.code(), Some(2));
    let st = args(&["--shard", "4/3"]).env_remove("JOB_COMPLETION_INDEX").status().unwrap();
    assert_eq!(st.code(), Some(2));
}
