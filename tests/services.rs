//! End-to-end tests of Services: endpoint membership follows readiness after the propagation
//! delay, a zone outage empties a Service pinned to the failed zone but not a spread one, and a
//! rolling update with `maxUnavailable: 0` never takes a ready endpoint away.

use kubesim::input::scenario;
use kubesim::run::{RunOptions, RunResult, run};
use kubesim::services::metrics::ServiceSummary;
use std::path::Path;

/// Writes `manifests` next to a scenario built from `body`, runs it and returns the result and
/// the output folder.
fn run_with(manifests: &str, body: &str) -> (RunResult, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("m.yaml"), manifests).expect("write");
    let text = format!("apiVersion: kubesim/v1\nkind: Scenario\nseed: 1\n{body}");
    let sc = scenario::load_str(&text, "test.yaml", dir.path(), &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("out");
    let r = run(&sc, &RunOptions { out_dir: Some(out), ..Default::default() }).unwrap_or_else(|e| panic!("{e}"));
    (r, dir)
}

fn service<'a>(r: &'a RunResult, key: &str) -> &'a ServiceSummary {
    r.summary.services.as_ref().and_then(|s| s.get(key)).unwrap_or_else(|| panic!("no service {key}"))
}

/// `(time_us, kind, pod)` of the events of `kinds`.
fn events(dir: &tempfile::TempDir, kinds: &[&str]) -> Vec<(u64, String, String)> {
    let text = std::fs::read_to_string(dir.path().join("out/events.jsonl")).expect("events");
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .filter(|v| kinds.contains(&v["kind"].as_str().unwrap_or("")))
        .map(|v| {
            (
                v["time_us"].as_u64().unwrap(),
                v["kind"].as_str().unwrap().to_string(),
                v["pod"].as_str().unwrap_or("").into(),
            )
        })
        .collect()
}

/// `services.csv` rows as `(time_us, service, ready_endpoints, desired)`.
fn csv_rows(dir: &tempfile::TempDir) -> Vec<(u64, String, i64, i64)> {
    let text = std::fs::read_to_string(dir.path().join("out/services.csv")).expect("services.csv");
    let mut lines = text.lines();
    assert!(lines.next().expect("header").starts_with("time_us,service,ready_endpoints,"));
    lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].parse().unwrap(), c[1].to_string(), c[2].parse().unwrap(), c[4].parse().unwrap())
        })
        .collect()
}

const ONE_POD: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {kubesim.io/readiness-delay: 5s, kubesim.io/startup-latency: 1s}
    spec:
      containers: [{name: c, image: web, resources: {requests: {cpu: 100m}}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"#;

fn one_pod_body(delay: &str) -> String {
    format!(
        "duration: 5m\ncluster:\n  nodePools: [{{name: n, count: 1, allocatable: {{cpu: '4', memory: 8Gi}}}}]\n\
         workloads: {{manifests: [m.yaml]}}\nservices: {{endpointDelay: {delay}}}\n\
         timeline: [{{at: 1m, failNode: n-0}}]\nmetrics: {{samplePeriod: 1s}}\n"
    )
}

#[test]
fn endpoint_membership_follows_readiness_after_the_propagation_delay() {
    for (delay, delay_us) in [("0s", 0u64), ("2s", 2_000_000)] {
        let (r, dir) = run_with(ONE_POD, &one_pod_body(delay));
        let ev = events(&dir, &["pod_ready", "node_not_ready", "endpoint_added", "endpoint_removed"]);
        let at = |kind: &str| ev.iter().find(|e| e.1 == kind).unwrap_or_else(|| panic!("no {kind}: {ev:?}")).0;
        // The pod becomes Ready, then an endpoint `delay` later.
        assert_eq!(at("endpoint_added"), at("pod_ready") + delay_us, "delay {delay}");
        // Its node fails at 1 min; the node lifecycle controller marks it NotReady after the grace
        // period, which takes the pod's readiness and, `delay` later, the endpoint.
        assert!(at("node_not_ready") > 60_000_000);
        assert_eq!(at("endpoint_removed"), at("node_not_ready") + delay_us, "delay {delay}");
        let s = service(&r, "default/web");
        assert_eq!(s.min_ready_endpoints, Some(0));
        assert_eq!(s.time_zero_endpoints_us, 300_000_000 - at("endpoint_removed"), "no endpoint after the removal");
        // The samples see the endpoint exactly while it is published (a sample at the very time
        // of a change may come before or after it, by event order).
        for (t, _, ready, desired) in csv_rows(&dir) {
            if t == at("endpoint_added") || t == at("endpoint_removed") {
                continue;
            }
            let published = t > at("endpoint_added") && t < at("endpoint_removed");
            assert_eq!((ready, desired), (i64::from(published), 1), "at {t} with delay {delay}");
        }
    }
}

#[test]
fn a_service_without_selector_has_no_endpoints_and_one_selecting_nothing_neither() {
    let manifests = format!(
        "{ONE_POD}---\napiVersion: v1\nkind: Service\nmetadata: {{name: external}}\nspec: {{ports: [{{port: 443}}]}}\n\
         ---\napiVersion: v1\nkind: Service\nmetadata: {{name: other, namespace: shop}}\nspec: {{selector: {{app: web}}}}\n"
    );
    let (r, _dir) = run_with(&manifests, &one_pod_body("0s"));
    for key in ["default/external", "shop/other"] {
        let s = service(&r, key);
        assert_eq!((s.desired, s.ready_endpoints, s.window_start_us), (0, 0, None), "{key}");
        assert_eq!(s.time_zero_endpoints_us, 300_000_000, "{key}");
        assert_eq!(s.availability, 0.0, "{key}");
    }
    assert_eq!(service(&r, "default/web").desired, 1);
}

#[test]
fn the_zone_outage_scenario_empties_the_pinned_service_but_not_the_spread_one() {
    let sc = scenario::load(Path::new("scenarios/service-zone-outage.yaml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let r = run(&sc, &RunOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let pinned = service(&r, "default/reports");
    let spread = service(&r, "default/frontend");
    // reports loses its endpoints once zone-c's nodes are NotReady (5 min + grace period + delay)
    // and gets them back after zone-c recovers at 20 min.
    assert_eq!(pinned.min_ready_endpoints, Some(0));
    assert!(pinned.time_zero_endpoints_us > 10 * 60 * 1_000_000, "{pinned:?}");
    assert!(pinned.time_zero_endpoints_us < 15 * 60 * 1_000_000, "{pinned:?}");
    assert!(pinned.availability < 0.6, "{pinned:?}");
    let pl = pinned.load.as_ref().expect("load");
    assert!(pl.requests_dropped * 2 > pl.requests_offered, "{pl:?}");
    // frontend keeps its two healthy zones' endpoints.
    assert_eq!(spread.time_zero_endpoints_us, 0, "{spread:?}");
    assert_eq!(spread.availability, 1.0);
    assert_eq!(spread.min_ready_endpoints, Some(4));
    assert!(spread.capacity_lost_endpoint_s > 0.0);
    assert_eq!((spread.desired, spread.ready_endpoints), (6, 6));
}

const ROLLING: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: SURGE, maxUnavailable: UNAVAILABLE}}
  template:
    metadata:
      labels: {app: web}
      annotations: {kubesim.io/readiness-delay: 3s}
    spec:
      containers: [{name: c, image: web:1, resources: {requests: {cpu: 100m}}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
"#;

fn rolling(surge: u32, unavailable: u32, delay: &str) -> (RunResult, tempfile::TempDir) {
    let manifests = ROLLING.replace("SURGE", &surge.to_string()).replace("UNAVAILABLE", &unavailable.to_string());
    let body = format!(
        "duration: 4m\ncluster:\n  nodePools: [{{name: n, count: 3, allocatable: {{cpu: '4', memory: 8Gi}}}}]\n\
         workloads: {{manifests: [m.yaml]}}\nservices: {{endpointDelay: {delay}}}\n\
         kubelet: {{startupLatency: {{uniform: {{min: 1s, max: 4s}}}}}}\n\
         timeline: [{{at: 1m, rollout: {{kind: Deployment, name: web, image: 'web:2'}}}}]\n\
         metrics: {{samplePeriod: 500ms}}\n"
    );
    run_with(&manifests, &body)
}

#[test]
fn a_rolling_update_with_max_unavailable_zero_never_drops_a_ready_endpoint_below_the_replicas() {
    for delay in ["0s", "1s", "3s"] {
        let (r, dir) = rolling(1, 0, delay);
        let removed = events(&dir, &["endpoint_removed"]);
        assert_eq!(removed.len(), 4, "every old pod left the Service (delay {delay})");
        let rows = csv_rows(&dir);
        let first_full = rows.iter().position(|r| r.2 >= 4).expect("the Service came up");
        for (t, _, ready, desired) in &rows[first_full..] {
            assert_eq!(*desired, 4);
            assert!(*ready >= 4, "{ready} ready endpoints at {t} (delay {delay})");
            assert!(*ready <= 5, "maxSurge 1 at {t}");
        }
        // The exact integral agrees with the samples: never fewer than 4, between samples too.
        let s = service(&r, "default/web");
        assert_eq!((s.min_ready_endpoints, s.capacity_lost_endpoint_s), (Some(4), 0.0), "delay {delay}");
    }
}

#[test]
fn a_rolling_update_with_max_unavailable_one_does_drop_an_endpoint() {
    // The control case: the check above can fail.
    let (r, _dir) = rolling(0, 1, "1s");
    let s = service(&r, "default/web");
    assert_eq!(s.min_ready_endpoints, Some(3));
    assert!(s.capacity_lost_endpoint_s > 0.0);
    assert_eq!(s.time_zero_endpoints_us, 0);
}

#[test]
fn round_robin_loses_an_unreachable_endpoints_share_and_least_requests_does_not() {
    let manifests = ROLLING.replace("SURGE", "1").replace("UNAVAILABLE", "0");
    let served = |policy: &str| {
        let body = format!(
            "duration: 2m\ncluster:\n  nodePools: [{{name: n, count: 4, allocatable: {{cpu: '4', memory: 8Gi}}}}]\n\
             workloads: {{manifests: [m.yaml]}}\n\
             services: {{load: [{{service: web, rps: 100, policy: {policy}, capacityPerEndpointRps: 50}}]}}\n\
             timeline: [{{at: 30s, failNode: n-0}}]\n"
        );
        let (r, _dir) = run_with(&manifests, &body);
        service(&r, "default/web").load.clone().expect("load")
    };
    let rr = served("round-robin");
    let lr = served("least-requests");
    assert_eq!(rr.requests_offered, lr.requests_offered);
    // Between the crash and NotReady, n-0's endpoint stays listed: round-robin drops its quarter.
    assert!(rr.requests_dropped > 0, "{rr:?}");
    assert_eq!(lr.requests_dropped, 0, "{lr:?}");
    assert_eq!(rr.requests_served + rr.requests_dropped, rr.requests_offered);
}
