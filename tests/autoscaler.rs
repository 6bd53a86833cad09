//! End-to-end cluster autoscaler: nodes are added for unschedulable pods (never above `max`),
//! the group goes back to `min` after the unneeded time, and a pod that fits no template
//! triggers no scale-up.

use kubesim::input::scenario;
use kubesim::run::{RunOptions, run};
use std::path::Path;

fn scenario_text(max: u64, pods: u64, cpu: &str) -> String {
    format!(
        "apiVersion: kubesim/v1
kind: Scenario
seed: 2
duration: 40m
cluster:
  nodeGroups:
  - name: g
    min: 1
    max: {max}
    provisionDelay: 1m
    template:
      allocatable: {{cpu: 4, memory: 16Gi}}
  autoscaler: {{expander: most-pods}}
workloads:
  arrivals:
  - name: burst
    interArrival: 1s
    count: {pods}
    runDuration: 3m
    template:
      spec:
        restartPolicy: Never
        containers:
        - {{name: c, image: i, resources: {{requests: {{cpu: \"{cpu}\", memory: 1Gi}}}}}}
"
    )
}

/// Runs with the invariant checker; returns the events (time in s, kind, line) and the result.
fn events_of(text: &str) -> (Vec<(f64, String, String)>, kubesim::run::RunResult) {
    let sc = scenario::load_str(text, "test.yaml", Path::new("."), &[]).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let r = run(&sc, &RunOptions { out_dir: Some(dir.path().into()), check_invariants: true, ..Default::default() })
        .unwrap();
    let ev = std::fs::read_to_string(dir.path().join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["time_us"].as_u64().unwrap() as f64 / 1e6, v["kind"].as_str().unwrap().to_string(), l.to_string())
        })
        .collect();
    (ev, r)
}

fn live_nodes(r: &kubesim::run::RunResult) -> usize {
    r.cluster.nodes().iter().filter(|n| !n.removed).count()
}

#[test]
fn nodes_are_added_for_unschedulable_pods_after_the_provision_delay_and_every_pod_runs() {
    let (ev, r) = events_of(&scenario_text(10, 8, "2"));
    let up: Vec<&(f64, String, String)> = ev.iter().filter(|e| e.1 == "ca_scale_up").collect();
    assert!(!up.is_empty());
    let first_add = ev.iter().find(|e| e.1 == "node_added").expect("a node joined");
    assert_eq!(first_add.0, up[0].0 + 60.0, "a node joins one provisionDelay after the decision");
    let ca = r.summary.cluster_autoscaler.clone().expect("the summary has the autoscaler counts");
    assert_eq!(ca.nodes_added, 3, "8 pods of 2 CPU on 4-CPU nodes: 4 nodes, one exists");
    assert_eq!(r.summary.counts.succeeded, 8);
}

#[test]
fn a_group_never_grows_above_max() {
    let (ev, r) = events_of(&scenario_text(3, 20, "2"));
    let ca = r.summary.cluster_autoscaler.clone().unwrap();
    assert_eq!(ca.nodes_added, 2, "max 3 with one node at the start");
    let mut live = 1i64;
    for e in &ev {
        match e.1.as_str() {
            "node_added" => live += 1,
            "node_removed" => live -= 1,
            _ => {}
        }
        assert!(live <= 3, "at {} s the group has {live} nodes", e.0);
    }
    assert_eq!(r.summary.counts.succeeded, 20, "the pods run in waves on the 3 nodes");
}

#[test]
fn the_group_scales_back_to_min_after_the_unneeded_time() {
    let (ev, r) = events_of(&scenario_text(10, 8, "2"));
    let first_done = ev.iter().filter(|e| e.1 == "pod_succeeded").map(|e| e.0).fold(f64::INFINITY, f64::min);
    let last_up = ev.iter().filter(|e| e.1 == "ca_scale_up").map(|e| e.0).fold(0.0, f64::max);
    let downs: Vec<f64> = ev.iter().filter(|e| e.1 == "ca_scale_down").map(|e| e.0).collect();
    assert!(!downs.is_empty());
    // Every node is busy until the first pod finishes: none is unneeded for 10 minutes before
    // then (the scans are 10 s apart), and none goes within 10 minutes of a scale-up.
    assert!(downs.iter().all(|t| *t >= first_done + 600.0 - 10.0), "removed only after 10 minutes unneeded");
    assert!(downs.iter().all(|t| *t >= last_up + 600.0), "not within scaleDownDelayAfterAdd");
    assert_eq!(live_nodes(&r), 1, "back to min");
    let ca = r.summary.cluster_autoscaler.unwrap();
    assert_eq!(ca.nodes_removed, ca.nodes_added);
}

#[test]
fn a_pod_that_fits_no_template_triggers_no_scale_up() {
    let (ev, r) = events_of(&scenario_text(10, 2, "6"));
    assert!(ev.iter().all(|e| e.1 != "ca_scale_up"));
    assert_eq!(r.summary.cluster_autoscaler.unwrap().nodes_added, 0);
    assert_eq!(r.summary.counts.unschedulable_at_end, 2);
}

#[test]
fn the_shipped_scenario_scales_up_and_back_down() {
    let sc = scenario::load(Path::new("scenarios/autoscaler.yaml"), &[]).unwrap();
    let r = run(&sc, &RunOptions { out_dir: None, check_invariants: true, ..Default::default() }).unwrap();
    let ca = r.summary.cluster_autoscaler.clone().unwrap();
    assert!(ca.nodes_added >= 5);
    assert_eq!(ca.nodes_removed, ca.nodes_added);
    assert_eq!(live_nodes(&r), 1);
    assert_eq!(r.summary.counts.succeeded, 12);
}

#[test]
fn an_hpa_burst_grows_the_node_group_and_both_shrink_back_afterwards() {
    let sc = scenario::load(Path::new("scenarios/hpa-autoscaler-burst.yaml"), &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = run(&sc, &RunOptions { out_dir: Some(dir.path().into()), check_invariants: true, ..Default::default() })
        .unwrap();
    let ca = r.summary.cluster_autoscaler.clone().expect("an autoscaler summary");
    // 20 replicas of 500m need 10 CPUs: the 2 starting 2-CPU nodes need 3 more.
    assert_eq!(ca.nodes_added, 3, "{ca:?}");
    assert_eq!(ca.nodes_removed, ca.nodes_added, "back to the group's minimum: {ca:?}");
    let events = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    let peak = events
        .lines()
        .filter(|l| l.contains("\"kind\":\"hpa_scaled\""))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["to"].as_i64())
        .max();
    assert_eq!(peak, Some(20), "the HPA reached maxReplicas");
    assert_eq!(r.summary.counts.running_at_end, 2, "the HPA scaled back to minReplicas");
    assert_eq!(r.summary.counts.unschedulable_at_end, 0);
    // Ready nodes over time: 2, up to 5 during the burst, 2 at the end.
    let ts = std::fs::read_to_string(dir.path().join("timeseries.csv")).unwrap();
    let ready: Vec<u64> = ts.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
    assert_eq!(ready.first(), Some(&2));
    assert_eq!(ready.iter().max(), Some(&5));
    assert_eq!(ready.last(), Some(&2));
}
