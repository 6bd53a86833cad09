//! End to end: the HorizontalPodAutoscaler of `scenarios/hpa-burst.yaml` scales its Deployment up
//! within a few syncs of the burst, never beyond maxReplicas, and back down only after the 300 s
//! scale-down stabilisation window; `setLoad` changes a curve; outputs are reproducible.

use kubesim::input::scenario;
use kubesim::run::{RunOptions, Simulation};
use std::path::Path;

/// `(time_s, from, to)` of every `hpa_scaled` event, and the timeseries text.
fn run(text: &str) -> (Vec<(f64, i64, i64)>, String, String) {
    let sc = scenario::load_str(text, "hpa-burst.yaml", Path::new("scenarios"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions { out_dir: Some(dir.path().to_path_buf()), check_invariants: false, ..Default::default() };
    Simulation::new(&sc, &opts).unwrap().run(&opts).unwrap();
    let events = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    let mut scaled = Vec::new();
    for line in events.lines().filter(|l| l.contains("\"kind\":\"hpa_scaled\"")) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        scaled.push((
            v["time_us"].as_u64().unwrap() as f64 / 1e6,
            v["from"].as_i64().unwrap(),
            v["to"].as_i64().unwrap(),
        ));
    }
    let ts = std::fs::read_to_string(dir.path().join("timeseries.csv")).unwrap();
    (scaled, ts, events)
}

fn burst() -> String {
    std::fs::read_to_string("scenarios/hpa-burst.yaml").unwrap()
}

#[test]
fn the_burst_scales_up_within_a_few_syncs_and_never_beyond_max_replicas() {
    let (scaled, _, _) = run(&burst());
    assert!(!scaled.is_empty(), "the HPA scaled");
    let first_up = scaled.iter().find(|(_, f, t)| t > f).expect("a scale-up");
    assert!((120.0..=120.0 + 3.0 * 15.0).contains(&first_up.0), "first scale-up at {}s", first_up.0);
    assert!(scaled.iter().all(|(_, _, t)| *t <= 20), "maxReplicas 20: {scaled:?}");
    assert!(scaled.iter().all(|(_, _, t)| *t >= 2), "minReplicas 2: {scaled:?}");
    let peak = scaled.iter().map(|(_, _, t)| *t).max().unwrap();
    assert!(peak >= 12, "4 CPUs at 50 % of 500m need about 16 pods, got {peak}");
    assert!(scaled.iter().filter(|(t, _, _)| *t < 120.0).count() == 0, "no scaling before the burst: {scaled:?}");
}

#[test]
fn replicas_fall_only_after_300s_of_lower_recommendations() {
    let (scaled, _, _) = run(&burst());
    let downs: Vec<_> = scaled.iter().filter(|(_, f, t)| t < f).collect();
    assert!(!downs.is_empty(), "a scale-down: {scaled:?}");
    // The load drops at 6m; the last high recommendation is from the sync at 6m at the latest
    // (345 s or 360 s), so nothing may fall before 345 + 300 s.
    assert!(downs.iter().all(|(t, _, _)| *t >= 645.0), "scale-down inside the window: {downs:?}");
    assert!(downs[0].0 <= 690.0, "the scale-down comes right after the window: {downs:?}");
    assert_eq!(scaled.last().unwrap().2, 2, "back to minReplicas: {scaled:?}");
}

#[test]
fn set_load_changes_the_curve_and_the_timeseries_reports_usage() {
    let text = burst().replace(
        "metrics:\n  samplePeriod: 15s\n",
        "metrics:\n  samplePeriod: 15s\ntimeline:\n  - {at: 1m, setLoad: {target: Deployment/web, curve: {constant: \"3\"}}}\n",
    );
    let (scaled, ts, events) = run(&text);
    assert!(events.contains("\"kind\":\"load_set\""));
    let first_up = scaled.iter().find(|(_, f, t)| t > f).expect("a scale-up");
    assert!((60.0..=105.0).contains(&first_up.0), "setLoad at 1m triggers the scale-up: {scaled:?}");
    let header: Vec<&str> = ts.lines().next().unwrap().split(',').collect();
    assert_eq!(header.last(), Some(&"cpu_usage_ratio"));
    let col = header.len() - 1;
    let usage: Vec<f64> = ts.lines().skip(1).map(|l| l.split(',').nth(col).unwrap().parse().unwrap()).collect();
    // 3 CPUs of 16 allocatable once pods are Ready.
    assert!(usage.iter().any(|u| (*u - 3.0 / 16.0).abs() < 1e-6), "{usage:?}");
}

#[test]
fn the_hpa_burst_scenario_is_reproducible() {
    let (_, ts1, ev1) = run(&burst());
    let (_, ts2, ev2) = run(&burst());
    assert_eq!(ev1, ev2);
    assert_eq!(ts1, ts2);
}
