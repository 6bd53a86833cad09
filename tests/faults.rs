//! End-to-end fault behaviour: node crash and partition through the node lifecycle controller
//! (grace period, unreachable taints, eviction after tolerationSeconds), stale pods after a
//! partition heals, PDB-aware drain, container crashes with CrashLoopBackOff.

use kubesim::input::scenario;
use kubesim::run::{RunOptions, run};
use std::path::Path;

const HEAD: &str = "apiVersion: kubesim/v1
kind: Scenario
seed: 1
duration: 30m
cluster:
  nodePools:
  - name: n
    count: 3
    zones: [a]
    allocatable: {cpu: 8, memory: 16Gi}
";

fn pod(name: &str, node: &str, extra: &str) -> String {
    format!(
        "  - metadata: {{name: {name}, labels: {{app: web}}}}
    spec:
      nodeName: {node}
{extra}      containers:
      - {{name: c, image: i, resources: {{requests: {{cpu: 100m}}}}}}
"
    )
}

/// Runs a scenario with the invariant checker on; returns the events as (time in s, kind, pod or node).
fn events_of(text: &str) -> (Vec<(f64, String, String)>, kubesim::run::RunResult) {
    let sc = scenario::load_str(text, "test.yaml", Path::new("."), &[]).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        out_dir: Some(dir.path().into()),
        check_invariants: true,
        keep_ended_pods: true,
        ..Default::default()
    };
    let r = run(&sc, &opts).unwrap();
    let ev = std::fs::read_to_string(dir.path().join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let who = v["pod"].as_str().or(v["node"].as_str()).unwrap_or("").to_string();
            (v["time_us"].as_u64().unwrap() as f64 / 1e6, v["kind"].as_str().unwrap().to_string(), who)
        })
        .collect();
    (ev, r)
}

fn times(ev: &[(f64, String, String)], kind: &str, who: &str) -> Vec<f64> {
    ev.iter().filter(|(_, k, w)| k == kind && w == who).map(|(t, _, _)| *t).collect()
}

#[test]
fn a_crashed_nodes_pods_are_evicted_after_the_grace_period_plus_their_toleration_seconds() {
    let tol = |secs: &str| {
        format!(
            "      tolerations:\n      - {{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute{secs}}}\n"
        )
    };
    let text = format!(
        "{HEAD}workloads:\n  pods:\n{}{}{}timeline:\n- at: 100s\n  failNode: n-0\n- at: 10m\n  recoverNode: n-0\n",
        pod("default-tol", "n-0", ""),
        pod("short-tol", "n-0", &tol(", tolerationSeconds: 30")),
        pod("forever", "n-0", &tol("")),
    );
    let (ev, r) = events_of(&text);
    // Silent from 100 s; more than 50 s later, at the next 5 s monitor pass: 155 s.
    assert_eq!(times(&ev, "node_not_ready", "n-0"), vec![155.0]);
    assert_eq!(times(&ev, "node_tainted", "n-0"), vec![155.0]);
    assert_eq!(times(&ev, "pod_evicted", "default/short-tol"), vec![185.0]);
    assert_eq!(times(&ev, "pod_evicted", "default/default-tol"), vec![455.0], "DefaultTolerationSeconds: 300 s");
    assert!(times(&ev, "pod_evicted", "default/forever").is_empty());
    // The evicted pods stay Terminating on the dead node until it comes back.
    assert_eq!(times(&ev, "pod_deleted", "default/default-tol"), vec![600.0]);
    // Back at 600 s: Ready at the monitor pass of the same instant (passes run every 5 s), and
    // the surviving pod restarts its containers after its start-up latency.
    assert_eq!(times(&ev, "node_ready", "n-0"), vec![600.0]);
    assert_eq!(times(&ev, "pod_restarted", "default/forever"), vec![601.0]);
    let forever = r.cluster.pods().find(|p| p.pod.name == "forever").unwrap();
    assert_eq!((forever.restarts, forever.ready_since.is_some()), (1, true));
    assert_eq!(r.summary.counts.evicted, 2);
}

#[test]
fn a_partitioned_node_keeps_running_its_pods_which_are_cleaned_up_when_it_heals() {
    let text = format!(
        "{HEAD}workloads:\n  pods:\n{}timeline:\n- at: 100s\n  partition: {{nodes: [n-1]}}\n- at: 700s\n  heal: {{zone: a}}\n",
        pod("p", "n-1", ""),
    );
    let (ev, r) = events_of(&text);
    assert_eq!(times(&ev, "pod_evicted", "default/p"), vec![455.0]);
    assert_eq!(times(&ev, "pod_stale", "default/p"), vec![700.0], "it ran on while unreachable");
    assert_eq!(times(&ev, "pod_deleted", "default/p"), vec![730.0], "then terminates with its 30 s grace period");
    assert!(times(&ev, "pod_restarted", "default/p").is_empty());
    let p = r.cluster.pods().find(|p| p.pod.name == "p").unwrap();
    assert_eq!(p.phase.as_str(), "Deleted");
}

#[test]
fn when_every_zone_is_down_nothing_is_evicted() {
    let text = format!(
        "{HEAD}workloads:\n  pods:\n{}timeline:\n- at: 100s\n  failZone: a\n- at: 20m\n  recoverZone: a\n",
        pod("p", "n-2", ""),
    );
    let (ev, _) = events_of(&text);
    assert_eq!(times(&ev, "node_not_ready", "n-2"), vec![155.0]);
    assert!(times(&ev, "pod_evicted", "default/p").is_empty(), "the controller assumes it is cut off");
    assert_eq!(times(&ev, "pod_restarted", "default/p"), vec![1201.0]);
}

#[test]
fn drain_respects_the_disruption_budget_and_retries_every_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pdb.yaml"),
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  minAvailable: 1\n  selector: {matchLabels: {app: web}}\n",
    )
    .unwrap();
    let text = format!(
        "{HEAD}workloads:\n  manifests: [pdb.yaml]\n  pods:\n{}{}timeline:\n- at: 10s\n  drain: n-0\n- at: 60s\n  addPod:\n    metadata: {{name: web-2, labels: {{app: web}}}}\n    spec:\n      nodeName: n-1\n      containers:\n      - {{name: c, image: i}}\n",
        pod("web-0", "n-0", ""),
        pod("web-1", "n-0", ""),
    );
    std::fs::write(dir.path().join("s.yaml"), &text).unwrap();
    let sc = scenario::load(&dir.path().join("s.yaml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap();
    run(&sc, &RunOptions { out_dir: Some(out.path().into()), check_invariants: true, ..Default::default() }).unwrap();
    let ev: Vec<serde_json::Value> = std::fs::read_to_string(out.path().join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let at = |kind: &str, pod: &str| -> Vec<u64> {
        ev.iter()
            .filter(|e| e["kind"] == kind && (e["pod"] == pod || e["node"] == pod))
            .map(|e| e["time_us"].as_u64().unwrap() / 1_000_000)
            .collect()
    };
    assert_eq!(at("pod_evicted", "default/web-0"), vec![10]);
    // web-1 is refused while web-0 terminates and until web-2 is Ready (started at 61 s).
    let refused = at("eviction_refused", "default/web-1");
    assert_eq!(refused, vec![10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]);
    assert_eq!(at("pod_evicted", "default/web-1"), vec![65]);
    assert_eq!(at("node_drained", "n-0"), vec![65]);
    assert_eq!(at("node_cordoned", "n-0"), vec![10]);
}

#[test]
fn crashing_containers_back_off_from_10s_doubling_to_5_minutes() {
    let ann = "      restartPolicy: Always\n";
    let mut p = pod("crashy", "n-0", ann);
    p = p.replace(
        "labels: {app: web}}",
        "labels: {app: web}, annotations: {kubesim.io/failure-probability: \"1\", kubesim.io/run-duration: 1m}}",
    );
    let text = format!("{HEAD}workloads:\n  pods:\n{p}").replace("duration: 30m", "duration: 40m");
    let sc = scenario::load_str(&text, "t.yaml", Path::new("."), &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap();
    let r = run(&sc, &RunOptions { out_dir: Some(out.path().into()), check_invariants: true, ..Default::default() })
        .unwrap();
    let backoffs: Vec<u64> = std::fs::read_to_string(out.path().join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["kind"] == "container_crashed")
        .map(|e| e["backoff_us"].as_u64().unwrap() / 1_000_000)
        .collect();
    assert_eq!(backoffs[..7], [10, 20, 40, 80, 160, 300, 300]);
    let crashy = r.cluster.pods().find(|p| p.pod.name == "crashy").unwrap();
    assert_eq!(crashy.restarts as usize, backoffs.len() - 1 + usize::from(crashy.ready_since.is_some()));
    let csv = std::fs::read_to_string(out.path().join("pods.csv")).unwrap();
    assert!(csv.lines().any(|l| l.starts_with("crashy,") && l.ends_with(&format!(",{}", crashy.restarts))), "{csv}");
}

#[test]
fn a_crashed_pod_with_restart_policy_never_fails() {
    let text = format!(
        "{HEAD}workloads:\n  pods:\n{}timeline:\n- at: 1m\n  crashPod: default/once\n",
        pod("once", "n-0", "      restartPolicy: Never\n")
    );
    let (ev, r) = events_of(&text);
    assert_eq!(times(&ev, "pod_failed", "default/once"), vec![60.0]);
    assert_eq!(r.summary.counts.restarted, 0);
}
