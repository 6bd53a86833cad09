//! The control-plane model end to end: absent or all-zero it changes nothing; with latency a
//! pod is scheduled no earlier than its write and watch delays and started no earlier than its
//! binding's; a client's QPS limit paces a burst of creates at exactly its rate.

use kubesim::input::scenario::{self, Scenario};
use kubesim::run::{RunOptions, run};
use std::path::Path;

fn load_with(path: &str, extra: &str) -> Scenario {
    let text = std::fs::read_to_string(path).expect("scenario");
    scenario::load_str(&format!("{text}\n{extra}"), path, Path::new("scenarios"), &[]).unwrap_or_else(|e| panic!("{e}"))
}

const ZERO_BLOCK: &str = "controlPlane:\n  writeLatency: 0s\n  watchDelay: {scheduler: 0s, controllers: 0s, kubelet: 0s}\n  qps: {scheduler: 0, controllers: 0, users: 0}\n";

#[test]
fn an_absent_or_all_zero_control_plane_leaves_every_output_unchanged() {
    for path in ["scenarios/quickstart.yaml", "scenarios/rolling-update.yaml", "scenarios/cronjob-batch.yaml"] {
        let (a, b) = (tempfile::tempdir().expect("a"), tempfile::tempdir().expect("b"));
        let ra = run(&load_with(path, ""), &RunOptions { out_dir: Some(a.path().into()), ..Default::default() })
            .expect("runs");
        let rb =
            run(&load_with(path, ZERO_BLOCK), &RunOptions { out_dir: Some(b.path().into()), ..Default::default() })
                .expect("runs");
        assert_eq!(ra.summary.trace_digest, rb.summary.trace_digest, "{path}");
        for f in ["events.jsonl", "pods.csv", "timeseries.csv", "workloads.csv", "summary.json", "nodes.csv"] {
            let (x, y) = (std::fs::read(a.path().join(f)).expect(f), std::fs::read(b.path().join(f)).expect(f));
            assert!(x == y, "{path}: {f} differs with an all-zero controlPlane block");
        }
        assert!(rb.summary.control_plane.is_none());
    }
}

#[test]
fn unthrottled_default_limits_do_not_change_the_trace() {
    // The upstream default QPS limits are on, but this small scenario never exhausts a bucket:
    // the trace is the instantaneous one, and summary.json gains the controlPlane block.
    let plain = run(&load_with("scenarios/rolling-update.yaml", ""), &RunOptions::default()).expect("runs");
    let limited =
        run(&load_with("scenarios/rolling-update.yaml", "controlPlane: {}\n"), &RunOptions::default()).expect("runs");
    let cp = limited.summary.control_plane.expect("block");
    assert_eq!(cp.throttled, 0);
    assert!(cp.writes > 0);
    assert_eq!(plain.summary.trace_digest, limited.summary.trace_digest);
}

#[test]
fn with_latency_a_pod_is_scheduled_no_earlier_than_creation_plus_write_latency_and_watch_delay() {
    let block =
        "controlPlane:\n  writeLatency: 30ms\n  watchDelay: {scheduler: 20ms, controllers: 15ms, kubelet: 40ms}\n";
    for path in ["scenarios/rolling-update.yaml", "scenarios/cronjob-batch.yaml", "scenarios/quickstart.yaml"] {
        let sc = load_with(path, block);
        let r = run(&sc, &RunOptions { check_invariants: true, ..Default::default() }).expect("runs");
        let mut checked = 0;
        for p in r.cluster.pods() {
            if p.pod.node_name.is_some() {
                continue;
            }
            if let Some(s) = p.scheduled {
                assert!(
                    s.0 >= p.created.0 + 50_000,
                    "{path}: {} scheduled {} after creation",
                    p.pod.key(),
                    s.0 - p.created.0
                );
                checked += 1;
            }
            if let (Some(s), Some(st)) = (p.scheduled, p.started) {
                assert!(
                    st.0 >= s.0 + 70_000,
                    "{path}: {} started before the kubelet could see its binding",
                    p.pod.key()
                );
            }
        }
        assert!(checked > 0, "{path}");
        let cp = r.summary.control_plane.expect("block");
        assert_eq!(cp.write_latency_us, 30_000);
        assert!(cp.clients.contains_key("scheduler"));
    }
}

#[test]
fn a_qps_limit_throttles_a_burst_of_500_creates_to_the_expected_rate() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("rs.yaml"),
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: burst}\nspec:\n  replicas: 500\n  selector: {matchLabels: {app: b}}\n  template:\n    metadata: {labels: {app: b}}\n    spec:\n      containers: [{name: c, image: i, resources: {requests: {cpu: 10m}}}]\n",
    )
    .expect("write");
    let text = "apiVersion: kubesim/v1\nkind: Scenario\nseed: 2\nduration: 2m\ncluster:\n  nodePools:\n  - {name: pool, count: 10, allocatable: {cpu: '64', memory: 256Gi, pods: '110'}}\nworkloads:\n  manifests: [rs.yaml]\ncontrolPlane:\n  qps: {controllers: 20}\n  burst: {controllers: 30}\n";
    let sc = scenario::load_str(text, "burst.yaml", dir.path(), &[]).unwrap_or_else(|e| panic!("{e}"));
    let r = run(&sc, &RunOptions::default()).expect("runs");
    let mut seen: Vec<u64> = r.cluster.pods().filter_map(|p| p.scheduled.map(|s| s.0)).collect();
    seen.sort_unstable();
    assert_eq!(seen.len(), 500);
    // 30 creates pass at once, then one every 50 ms (20 QPS): the k-th is visible at (k-29)*50ms.
    for (k, t) in seen.iter().enumerate() {
        let expected = (k.saturating_sub(29) as u64) * 50_000;
        assert_eq!(*t, expected, "create {k}");
    }
    let cp = r.summary.control_plane.expect("block");
    let rs = &cp.clients["replicaset-controller"];
    assert_eq!((rs.writes, rs.throttled, rs.max_queueing_delay_us), (500, 470, 23_500_000));
    assert_eq!(cp.clients["scheduler"].throttled, 0, "binds at 20/s stay under the scheduler's 50 QPS");
}
