//! End-to-end tests of the workload controllers through the event loop: a rolling update keeps
//! within maxSurge / maxUnavailable at every event, replaced pods come back after node failures,
//! and the bundled controller scenarios converge.

use kubesim::cluster::ClusterState;
use kubesim::controllers::{Kind, ObjectKey, SyncContext, Workload, WorkloadStore, is_active, is_available};
use kubesim::input::scenario;
use kubesim::run::{Observation, RunOptions, Simulation};
use std::path::Path;

fn load(text: &str) -> scenario::Scenario {
    scenario::load_str(text, "test.yaml", Path::new("scenarios"), &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// Active and available pods of every ReplicaSet owned by Deployment `name`.
fn deployment_pods(
    cluster: &ClusterState,
    store: &WorkloadStore,
    name: &str,
    now: kubesim::engine::time::SimTime,
) -> (i64, i64) {
    let key = ObjectKey { kind: Kind::Deployment, namespace: "default".into(), name: name.into() };
    let Some(d) = store.get(&key) else { return (0, 0) };
    let ctx = SyncContext { now, cluster, store };
    let (mut active, mut available) = (0, 0);
    for w in ctx.owned_objects(d.meta().uid) {
        if let Workload::ReplicaSet(rs) = w {
            for p in ctx.active_pods(rs.meta.uid) {
                let st = cluster.pod(p);
                if is_active(st) {
                    active += 1;
                }
                if is_available(st, rs.spec.min_ready_seconds, now) {
                    available += 1;
                }
            }
        }
    }
    (active, available)
}

const ROLLOUT: &str = r#"
apiVersion: kubesim/v1
kind: Scenario
seed: 3
duration: 10m
cluster:
  nodePools:
    - {name: pool, count: 6, allocatable: {cpu: "4", memory: 16Gi}}
workloads:
  manifests: [manifests/web-deployment.yaml]
kubelet:
  startupLatency: {uniform: {min: 1s, max: 6s}}
timeline:
  - {at: 1m, rollout: {kind: Deployment, name: web, image: "nginx:1.28"}}
  - {at: 4m, rollout: {kind: Deployment, name: web, image: "nginx:1.29"}}
"#;

#[test]
fn a_rolling_update_never_exceeds_max_surge_nor_drops_below_max_unavailable_at_any_event() {
    let sc = load(ROLLOUT);
    let opts = RunOptions { out_dir: None, check_invariants: true, ..Default::default() };
    let mut checked = 0u64;
    let mut worst = (0i64, i64::MAX);
    let rollout_start = kubesim::engine::time::SimTime(60_000_000);
    let result = Simulation::new(&sc, &opts)
        .unwrap()
        .run_observed(&opts, &mut |o: &Observation<'_>| {
            if o.now < rollout_start {
                return;
            }
            let (active, available) = deployment_pods(o.cluster, o.workloads, "web", o.now);
            worst = (worst.0.max(active), worst.1.min(available));
            assert!(active <= 10 + 3, "at {} after {:?}: {active} pods > replicas + maxSurge", o.now, o.event);
            assert!(
                available >= 10 - 2,
                "at {} after {:?}: {available} available < replicas - maxUnavailable",
                o.now,
                o.event
            );
            checked += 1;
        })
        .unwrap();
    assert!(checked > 100, "the property was checked at {checked} events only");
    assert_eq!(worst.0, 13, "the rollout uses its full surge");
    let images: Vec<String> =
        result.cluster.pods().filter(|p| !p.phase.is_terminal()).map(|p| p.pod.containers[0].image.clone()).collect();
    assert_eq!(images.len(), 10);
    assert!(images.iter().all(|i| i == "nginx:1.29"), "{images:?}");
    let rs_count = result.workloads.objects().filter(|w| w.kind() == Kind::ReplicaSet).count();
    assert_eq!(rs_count, 3, "three revisions kept (history limit 10)");
}

#[test]
fn the_rolling_update_scenario_converges_after_each_disruption() {
    let sc = scenario::load(Path::new("scenarios/rolling-update.yaml"), &[]).unwrap();
    let r =
        kubesim::run::run(&sc, &RunOptions { out_dir: None, check_invariants: true, ..Default::default() }).unwrap();
    let w = r.summary.workloads.expect("workload summary");
    assert!(w.disruptions.len() >= 4);
    assert!(w.disruptions.iter().all(|d| d.convergence_us.is_some()), "{:?}", w.disruptions);
    let live = r.cluster.pods().filter(|p| !p.phase.is_terminal()).count();
    assert_eq!(live, 14, "scaled to 14 at the end");
}

#[test]
fn a_statefulset_pod_lost_with_its_node_comes_back_under_the_same_name() {
    let sc = scenario::load(Path::new("scenarios/statefulset-node-loss.yaml"), &[]).unwrap();
    let opts = RunOptions { check_invariants: true, keep_ended_pods: true, ..Default::default() };
    let r = kubesim::run::run(&sc, &opts).unwrap();
    let db1: Vec<_> = r.cluster.pods().filter(|p| p.pod.name == "db-1").collect();
    assert!(db1.len() >= 2, "db-1 was recreated");
    assert_eq!(db1[0].phase, kubesim::cluster::PodPhase::Deleted, "the first db-1 was evicted from its lost node");
    assert_eq!(db1[0].evictions, 1);
    assert!(db1[1].created.0 >= 720_000_000, "recreated only once the node confirmed the deletion at 12 min");
    let live: Vec<String> = r.cluster.pods().filter(|p| !p.phase.is_terminal()).map(|p| p.pod.name.clone()).collect();
    let mut sorted = live.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["db-0", "db-1", "db-2", "db-3"]);
    assert!(
        r.cluster.pods().filter(|p| !p.phase.is_terminal()).all(|p| p.pod.containers[0].image == "postgres:17"),
        "the rollout reached every ordinal"
    );
}

#[test]
fn the_cronjob_scenario_completes_its_jobs_and_reports_their_times() {
    let sc = scenario::load(Path::new("scenarios/cronjob-batch.yaml"), &[]).unwrap();
    let r =
        kubesim::run::run(&sc, &RunOptions { out_dir: None, check_invariants: true, ..Default::default() }).unwrap();
    let w = r.summary.workloads.expect("workload summary");
    let done: Vec<&str> = w.jobs.iter().filter(|j| j.outcome == "Complete").map(|j| j.job.as_str()).collect();
    assert!(done.contains(&"default/shards"), "{done:?}");
    assert!(done.iter().filter(|j| j.starts_with("default/report-")).count() >= 3, "{done:?}");
    assert!(w.jobs_makespan_us.is_some());
    // Forbid: Jobs of the CronJob never overlap.
    let mut spans: Vec<(u64, u64)> = w
        .jobs
        .iter()
        .filter(|j| j.job.starts_with("default/report-"))
        .map(|j| (j.created_us, j.finished_us.unwrap_or(u64::MAX)))
        .collect();
    spans.sort();
    assert!(spans.windows(2).all(|p| p[0].1 <= p[1].0), "{spans:?}");
    let kept = r.workloads.objects().filter(|o| o.kind() == Kind::Job && o.meta().owner.is_some()).count();
    assert!(kept <= 3, "history: 2 successful + the running one, got {kept}");
}
