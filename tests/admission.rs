//! Admission end to end: ResourceQuota and LimitRange objects in a namespace, pods created by
//! users and by controllers, refusals as events and counters, and controllers retrying until
//! room frees up.

use kubesim::cluster::PodPhase;
use kubesim::input::scenario::{self, Scenario};
use kubesim::run::{Observation, RunOptions, Simulation};
use std::path::Path;

/// Loads a scenario whose `workloads.manifests` is `manifests.yaml`, written next to it.
fn load(scenario_text: &str, manifests: &str) -> (Scenario, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("manifests.yaml"), manifests).expect("write manifests");
    let sc = scenario::load_str(scenario_text, "test.yaml", dir.path(), &[]).unwrap_or_else(|e| panic!("{e}"));
    (sc, dir)
}

fn scenario_text(duration: &str, timeline: &str) -> String {
    format!(
        "apiVersion: kubesim/v1\nkind: Scenario\nseed: 1\nduration: {duration}\ncluster:\n  nodePools:\n  - {{name: pool, count: 2, allocatable: {{cpu: '8', memory: 32Gi}}}}\nworkloads:\n  manifests: [manifests.yaml]\ntimeline:\n{timeline}"
    )
}

fn events(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .expect("events.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n---\n";

const JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: batch, namespace: team}\nspec:\n  parallelism: 5\n  completions: 6\n  template:\n    metadata:\n      annotations: {kubesim.io/run-duration: 30s}\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: img\n        resources: {requests: {cpu: 100m, memory: 64Mi}}\n";

fn live_in_team(o: &Observation<'_>) -> usize {
    o.cluster.pods().filter(|p| p.pod.namespace == "team" && !p.phase.is_terminal()).count()
}

#[test]
fn a_quota_rejects_the_pod_that_would_exceed_it_and_admits_it_once_room_frees_up() {
    let manifests = format!(
        "{NAMESPACE}apiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: q, namespace: team}}\nspec:\n  hard: {{pods: '2'}}\n---\n{JOB}"
    );
    let timeline = "  - {at: 10s, addPod: {metadata: {name: late, namespace: team}, spec: {containers: [{name: c, image: i}]}}}\n  - {at: 5m, addPod: {metadata: {name: later, namespace: team}, spec: {containers: [{name: c, image: i}]}}}\n";
    let (sc, _dir) = load(&scenario_text("10m", timeline), &manifests);
    let out = tempfile::tempdir().expect("out");
    let opts = RunOptions { out_dir: Some(out.path().into()), check_invariants: true, ..Default::default() };
    let mut most = 0;
    let result = Simulation::new(&sc, &opts)
        .expect("starts")
        .run_observed(&opts, &mut |o| most = most.max(live_in_team(o)))
        .expect("runs");
    assert_eq!(most, 2, "never more live pods in the namespace than the quota allows");
    let batch: Vec<_> = result.cluster.pods().filter(|p| p.pod.name.starts_with("batch-")).collect();
    assert_eq!(batch.len(), 6, "exactly the completions were created");
    assert!(batch.iter().all(|p| p.phase == PodPhase::Succeeded), "every Job pod completed");
    assert!(result.cluster.pods().all(|p| p.pod.name != "late"), "the direct pod refused while full is never created");
    assert!(result.cluster.pods().any(|p| p.pod.name == "later"), "a pod arriving once room is free is admitted");
    let adm = result.summary.admission.expect("admission summary");
    assert!(adm.rejected >= 2, "{adm:?}");
    assert_eq!(adm.by_quota.get("team/q"), Some(&adm.rejected));
    assert_eq!(adm.by_reason.get("exceeded quota"), Some(&adm.rejected));
    let ev = events(out.path());
    let late = ev.iter().find(|e| e["kind"] == "admission_rejected" && e["pod"] == "team/late").expect("late refused");
    assert_eq!(
        late["message"],
        "pods \"late\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"
    );
    let job_refusal = ev.iter().find(|e| e["kind"] == "admission_rejected" && e["owner"] == "Job/batch").expect("job");
    assert_eq!(job_refusal["pod"], "team/batch-", "admission names a controller's pod by its generateName prefix");
}

#[test]
fn limit_range_defaults_are_applied_and_bounds_rejected_with_upstream_messages() {
    let manifests = format!(
        "{NAMESPACE}apiVersion: v1\nkind: LimitRange\nmetadata: {{name: lr, namespace: team}}\nspec:\n  limits:\n  - type: Container\n    default: {{cpu: 400m, memory: 256Mi}}\n    defaultRequest: {{cpu: 150m}}\n    min: {{cpu: 100m}}\n    max: {{cpu: '1'}}\n"
    );
    let timeline = "  - {at: 1s, addPod: {metadata: {name: plain, namespace: team}, spec: {containers: [{name: c, image: i}]}}}\n  - {at: 2s, addPod: {metadata: {name: tiny, namespace: team}, spec: {containers: [{name: c, image: i, resources: {requests: {cpu: 50m}}}]}}}\n  - {at: 3s, addPod: {metadata: {name: huge, namespace: team}, spec: {containers: [{name: c, image: i, resources: {limits: {cpu: '2'}}}]}}}\n  - {at: 4s, addPod: {metadata: {name: elsewhere}, spec: {containers: [{name: c, image: i}]}}}\n";
    let (sc, _dir) = load(&scenario_text("1m", timeline), &manifests);
    let out = tempfile::tempdir().expect("out");
    let r =
        kubesim::run::run(&sc, &RunOptions { out_dir: Some(out.path().into()), ..Default::default() }).expect("runs");
    let plain = r.cluster.pods().find(|p| p.pod.name == "plain").expect("plain admitted");
    assert_eq!(plain.pod.requests.cpu_millis, 150, "defaultRequest");
    assert_eq!(plain.pod.requests.memory_bytes, 256 << 20, "defaultRequest defaults to default");
    assert_eq!(plain.pod.containers[0].limits.get("cpu"), Some(400), "default limit");
    let other = r.cluster.pods().find(|p| p.pod.name == "elsewhere").expect("other namespace");
    assert_eq!(other.pod.requests.cpu_millis, 0, "LimitRanges apply only in their namespace");
    let ev = events(out.path());
    let msg = |name: &str| {
        ev.iter()
            .find(|e| e["kind"] == "admission_rejected" && e["pod"] == format!("team/{name}"))
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(
        msg("tiny").as_deref(),
        Some("pods \"tiny\" is forbidden: minimum cpu usage per Container is 100m, but request is 50m")
    );
    assert_eq!(
        msg("huge").as_deref(),
        Some("pods \"huge\" is forbidden: maximum cpu usage per Container is 1, but limit is 2")
    );
    let adm = r.summary.admission.expect("summary");
    assert_eq!((adm.rejected, adm.by_plugin.get("LimitRanger")), (2, Some(&2)));
}

#[test]
fn an_object_count_quota_counts_finished_pods_until_they_are_deleted() {
    let manifests = format!(
        "{NAMESPACE}apiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: objects, namespace: team}}\nspec:\n  hard: {{count/pods: '3'}}\n---\n{}",
        JOB.replace("parallelism: 5", "parallelism: 1")
    );
    let (sc, _dir) = load(&scenario_text("10m", "  []\n"), &manifests);
    let r = kubesim::run::run(&sc, &RunOptions::default()).expect("runs");
    let batch: Vec<_> = r.cluster.pods().filter(|p| p.pod.name.starts_with("batch-")).collect();
    assert_eq!(batch.len(), 3, "finished Job pods stay stored and keep counting");
    assert!(batch.iter().all(|p| p.phase == PodPhase::Succeeded));
    let adm = r.summary.admission.expect("summary");
    assert!(adm.rejected > 0 && adm.by_quota.get("team/objects") == Some(&adm.rejected), "{adm:?}");
}

#[test]
fn a_pod_without_requests_is_rejected_under_a_cpu_quota() {
    let manifests = format!(
        "{NAMESPACE}apiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: cpu, namespace: team}}\nspec:\n  hard: {{requests.cpu: '4'}}\n"
    );
    let timeline = "  - {at: 1s, addPod: {metadata: {name: bare, namespace: team}, spec: {containers: [{name: app, image: i}, {name: side, image: j, resources: {requests: {cpu: 10m}}}]}}}\n  - {at: 2s, addPod: {metadata: {name: stated, namespace: team}, spec: {containers: [{name: app, image: i, resources: {requests: {cpu: 1}}}]}}}\n";
    let (sc, _dir) = load(&scenario_text("1m", timeline), &manifests);
    let out = tempfile::tempdir().expect("out");
    let r =
        kubesim::run::run(&sc, &RunOptions { out_dir: Some(out.path().into()), ..Default::default() }).expect("runs");
    assert!(r.cluster.pods().all(|p| p.pod.name != "bare"));
    assert!(r.cluster.pods().any(|p| p.pod.name == "stated"));
    let ev = events(out.path());
    let bare = ev.iter().find(|e| e["pod"] == "team/bare" && e["kind"] == "admission_rejected").expect("refused");
    assert_eq!(bare["message"], "pods \"bare\" is forbidden: failed quota: cpu: must specify requests.cpu for: app");
    assert_eq!(bare["reason"], "failed quota");
}

#[test]
fn a_deployment_over_quota_retries_with_backoff_and_fills_up_when_quota_frees() {
    // A batch Job holds the quota; the Deployment's ReplicaSet gets the room as the Job's pods
    // finish, through its rate-limited retries (5 ms doubling).
    let manifests = format!(
        "{NAMESPACE}apiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: q, namespace: team}}\nspec:\n  hard: {{pods: '5'}}\n---\n{}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: team}}\nspec:\n  replicas: 3\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: web, image: nginx}}]\n",
        JOB.replace("completions: 6", "completions: 5")
    );
    let (sc, _dir) = load(&scenario_text("1h", "  []\n"), &manifests);
    let opts = RunOptions { check_invariants: true, ..Default::default() };
    let mut most = 0;
    let r = Simulation::new(&sc, &opts)
        .expect("starts")
        .run_observed(&opts, &mut |o| most = most.max(live_in_team(o)))
        .expect("runs");
    assert_eq!(most, 5);
    let web = r.cluster.pods().filter(|p| p.pod.name.starts_with("web-") && !p.phase.is_terminal()).count();
    assert_eq!(web, 3, "the Deployment reaches its replicas once the Job is done");
}

#[test]
fn an_object_count_quota_on_jobs_refuses_the_job_beyond_it() {
    let manifests = format!(
        "{NAMESPACE}apiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: jobs, namespace: team}}\nspec:\n  hard: {{count/jobs.batch: '1'}}\n---\n{JOB}---\n{}",
        JOB.replace("name: batch,", "name: second,")
    );
    let (sc, _dir) = load(&scenario_text("10m", "  []\n"), &manifests);
    let out = tempfile::tempdir().expect("out");
    let r =
        kubesim::run::run(&sc, &RunOptions { out_dir: Some(out.path().into()), ..Default::default() }).expect("runs");
    assert!(r.cluster.pods().all(|p| !p.pod.name.starts_with("second-")), "the refused Job never runs");
    assert_eq!(r.cluster.pods().filter(|p| p.pod.name.starts_with("batch-")).count(), 6);
    let ev = events(out.path());
    let refused =
        ev.iter().find(|e| e["kind"] == "admission_rejected" && e["object"] == "Job/team/second").expect("refused");
    assert_eq!(
        refused["message"],
        "jobs.batch \"second\" is forbidden: exceeded quota: jobs, requested: count/jobs.batch=1, used: count/jobs.batch=1, limited: count/jobs.batch=1"
    );
}
