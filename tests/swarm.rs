//! Swarm and Marathon placement end to end: `scenarios/swarm-vs-kubernetes.yaml` under the
//! default profile and each Swarm / Marathon policy gives different placements, each honouring
//! its own orchestrator's placement rules, and `kubesim compare` accepts the policy names.

use kubesim::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SCENARIO: &str = "scenarios/swarm-vs-kubernetes.yaml";
const SCHEDULERS: [&str; 5] = ["default", "swarm-spread", "swarm-binpack", "swarm-random", "marathon"];

/// Per service (`web`, `api`, `cache`) and node: the pods alive at the end (assigned, not
/// terminating), and the pods still pending.
struct Placement {
    by_node: BTreeMap<String, BTreeMap<String, usize>>,
    pending: usize,
}

impl Placement {
    fn nodes_used(&self) -> usize {
        self.by_node.len()
    }

    fn service_on(&self, service: &str) -> BTreeMap<String, usize> {
        self.by_node.iter().filter_map(|(n, s)| s.get(service).map(|c| (n.clone(), *c))).collect()
    }
}

fn run(scheduler: &str, seed: u64) -> Placement {
    let sets = [format!("scheduler.name={scheduler}"), format!("seed={seed}")];
    let r = Runner::load(Path::new(SCENARIO), &sets).unwrap().run().unwrap_or_else(|e| panic!("{scheduler}: {e}"));
    assert_eq!(r.summary.scheduler, scheduler);
    let mut by_node: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut pending = 0;
    for p in r.cluster.pods() {
        let service = p.pod.labels.get("app").cloned().unwrap_or_default();
        if p.is_assigned() && !p.terminating {
            let node = r.cluster.node(p.node.unwrap()).node.name.clone();
            *by_node.entry(node).or_default().entry(service).or_default() += 1;
        } else if p.node.is_none() && !p.phase.is_terminal() {
            pending += 1;
        }
    }
    Placement { by_node, pending }
}

fn zone_of(node: &str) -> &'static str {
    // manager-0 and worker-0..4 over zones a, b, c (the node pools' round robin).
    match node {
        "manager-0" | "worker-0" | "worker-3" => "zone-a",
        "worker-1" | "worker-4" => "zone-b",
        "worker-2" => "zone-c",
        other => panic!("unknown node {other}"),
    }
}

#[test]
fn binpack_uses_fewer_nodes_than_spread_and_the_default_profile() {
    for seed in 1..=3 {
        let spread = run("swarm-spread", seed);
        let binpack = run("swarm-binpack", seed);
        let default = run("default", seed);
        assert!(
            binpack.nodes_used() < spread.nodes_used(),
            "seed {seed}: binpack {} nodes, spread {}",
            binpack.nodes_used(),
            spread.nodes_used()
        );
        assert!(binpack.nodes_used() < default.nodes_used(), "seed {seed}");
        for p in [&spread, &binpack, &default] {
            assert_eq!(p.pending, 0, "seed {seed}");
        }
    }
}

#[test]
fn every_policy_places_pods_differently_from_the_default_profile() {
    let default = run("default", 1).by_node;
    for s in &SCHEDULERS[1..] {
        assert_ne!(run(s, 1).by_node, default, "{s}");
    }
}

#[test]
fn swarm_spread_balances_web_over_the_zones_by_its_preference() {
    let p = run("swarm-spread", 1);
    let mut zones: BTreeMap<&str, usize> = BTreeMap::new();
    for (node, c) in p.service_on("web") {
        *zones.entry(zone_of(&node)).or_default() += c;
    }
    assert_eq!(zones, BTreeMap::from([("zone-a", 4), ("zone-b", 4), ("zone-c", 4)]));
}

#[test]
fn swarm_policies_keep_api_off_the_manager_and_one_cache_per_node() {
    for s in ["swarm-spread", "swarm-binpack", "swarm-random"] {
        let p = run(s, 2);
        assert!(!p.service_on("api").contains_key("manager-0"), "{s}");
        assert_eq!(p.service_on("api").values().sum::<usize>(), 6, "{s}");
        let cache = p.service_on("cache");
        assert_eq!((cache.len(), cache.values().max().copied()), (3, Some(1)), "{s}");
    }
}

#[test]
fn marathon_honours_unique_max_per_and_unlike_and_leaves_web_tasks_group_by_cannot_place() {
    let p = run("marathon", 1);
    let cache = p.service_on("cache");
    assert_eq!((cache.len(), cache.values().max().copied()), (3, Some(1)));
    assert!(p.service_on("web").values().all(|c| *c <= 2));
    assert!(!p.service_on("api").contains_key("manager-0"));
    // GROUP_BY over three zones with at most 2 per host: zone-c (one node) holds 2, so the other
    // zones stop at 3 and 4 of the 12 web replicas stay pending, as in Marathon.
    let mut zones: BTreeMap<&str, usize> = BTreeMap::new();
    for (node, c) in p.service_on("web") {
        *zones.entry(zone_of(&node)).or_default() += c;
    }
    assert_eq!(zones, BTreeMap::from([("zone-a", 3), ("zone-b", 3), ("zone-c", 2)]));
    assert_eq!(p.pending, 4);
}

#[test]
fn policy_runs_are_reproducible() {
    for s in SCHEDULERS {
        assert_eq!(run(s, 3).by_node, run(s, 3).by_node, "{s}");
    }
}

#[test]
fn compare_accepts_the_policy_names() {
    let out = tempfile::tempdir().unwrap();
    let plan = kubesim::compare::build_plan(
        &[PathBuf::from(SCENARIO)],
        Some("default,swarm-spread,swarm-binpack,marathon"),
        "1..2",
        &[],
    )
    .unwrap();
    let opts = kubesim::compare::CompareOptions {
        out: out.path().to_path_buf(),
        jobs: 2,
        shard: kubesim::compare::shard::Shard::ALL,
        progress: false,
        png: false,
    };
    kubesim::compare::compare(&plan, &opts).unwrap();
    let runs = std::fs::read_to_string(out.path().join("runs.csv")).unwrap();
    let schedulers: BTreeSet<&str> = runs.lines().skip(1).filter_map(|l| l.split(',').nth(3)).collect();
    assert_eq!(schedulers, BTreeSet::from(["default", "marathon", "swarm-binpack", "swarm-spread"]));
}

#[test]
fn a_bad_placement_annotation_is_an_input_error_naming_it() {
    for (key, value) in [
        ("swarm.kubesim.io/constraints", "node.labels.zone=a"),
        ("swarm.kubesim.io/preferences", "binpack=node.labels.zone"),
        ("swarm.kubesim.io/max-replicas", "two"),
        ("marathon.kubesim.io/constraints", r#"[["zone","NEAR","a"]]"#),
        ("marathon.kubesim.io/constraints", r#"[["zone","LIKE","("]]"#),
    ] {
        let e = ScenarioBuilder::new("bad")
            .node_pool("n", 1, "1", "1Gi")
            .pod(serde_json::json!({
                "metadata": {"name": "p", "annotations": {key: value}},
                "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}]},
            }))
            .build()
            .unwrap_err();
        assert!(e.to_string().contains(&format!("annotation {key}: ")), "{key}={value}: {e}");
    }
}

/// A scenario of four 4-CPU nodes (label `site`: a, a, b, b) running one SwarmService (`service`, a YAML
/// document), with the new image `nginx:2` rolled out at 1m.
fn service_scenario(dir: &Path, service: &str, kind: &str) -> PathBuf {
    std::fs::write(dir.join("service.yaml"), service).unwrap();
    let text = format!(
        "apiVersion: kubesim/v1
kind: Scenario
metadata: {{name: swarm-rollout}}
seed: 1
duration: 6m
cluster:
  nodePools:
    - {{name: a, count: 2, labels: {{site: a}}, allocatable: {{cpu: '4', memory: 16Gi}}}}
    - {{name: b, count: 2, labels: {{site: b}}, allocatable: {{cpu: '4', memory: 16Gi}}}}
workloads:
  manifests: [service.yaml]
kubelet:
  startupLatency: 1s
timeline:
  - {{at: 1m, rollout: {{kind: {kind}, name: web, image: 'nginx:2'}}}}
"
    );
    let path = dir.join("scenario.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn service(mode: &str, update: &str, placement: &str) -> String {
    format!(
        "apiVersion: kubesim.io/v1
kind: SwarmService
metadata: {{name: web}}
spec:
  {mode}
  placement: {placement}
  updateConfig: {update}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      terminationGracePeriodSeconds: 5
      containers: [{{name: web, image: 'nginx:1', resources: {{requests: {{cpu: 500m, memory: 256Mi}}}}}}]
"
    )
}

/// The new-image pods' creation times (µs), grouped into batches of equal time, and the old
/// pods' deletion (finish) times.
fn rollout(scheduler: &str, path: &Path) -> (Vec<(u64, usize)>, Vec<u64>, kubesim::run::RunResult) {
    let r = Runner::load(path, &[format!("scheduler.name={scheduler}")]).unwrap().keep_ended_pods(true).run().unwrap();
    let mut batches: BTreeMap<u64, usize> = BTreeMap::new();
    let mut old_finished = vec![];
    for p in r.cluster.pods() {
        if p.pod.containers[0].image == "nginx:2" {
            *batches.entry(p.created.as_micros()).or_default() += 1;
        } else if let Some(f) = p.finished {
            old_finished.push(f.as_micros());
        }
    }
    old_finished.sort();
    (batches.into_iter().collect(), old_finished, r)
}

#[test]
fn a_swarm_service_rolling_update_respects_parallelism_and_delay() {
    let dir = tempfile::tempdir().unwrap();
    let path = service_scenario(
        dir.path(),
        &service("replicas: 6", "{parallelism: 2, delay: 20s, order: stop-first}", "{}"),
        "Deployment",
    );
    for scheduler in ["swarm-spread", "default"] {
        let (batches, old_finished, r) = rollout(scheduler, &path);
        assert_eq!(batches.iter().map(|b| b.1).collect::<Vec<_>>(), vec![2, 2, 2], "{scheduler}: {batches:?}");
        for w in batches.windows(2) {
            assert!(w[1].0 - w[0].0 >= 20_000_000, "{scheduler}: batches {batches:?} closer than the 20s delay");
        }
        // stop-first: the first old tasks stop as the first new ones are created.
        assert!(old_finished[0] >= batches[0].0, "{scheduler}");
        let running_new = r.cluster.pods().filter(|p| p.is_assigned() && p.pod.containers[0].image == "nginx:2");
        assert_eq!(running_new.count(), 6, "{scheduler}");
    }
}

#[test]
fn start_first_creates_each_new_task_before_stopping_an_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = service_scenario(
        dir.path(),
        &service("replicas: 3", "{parallelism: 1, order: start-first}", "{}"),
        "Deployment",
    );
    let (batches, old_finished, _) = rollout("swarm-spread", &path);
    assert_eq!(batches.iter().map(|b| b.1).collect::<Vec<_>>(), vec![1, 1, 1], "{batches:?}");
    for (i, (created, _)) in batches.iter().enumerate() {
        assert!(old_finished[i] > *created, "old task {i} stopped before new task {i} was created");
    }
}

#[test]
fn a_global_swarm_service_runs_one_task_per_node_matching_its_constraints() {
    let dir = tempfile::tempdir().unwrap();
    for (placement, want_nodes) in [("{}", 4), ("{constraints: [node.labels.site==a]}", 2)] {
        let path = service_scenario(
            dir.path(),
            &service("mode: global", "{parallelism: 1, delay: 5s}", placement),
            "DaemonSet",
        );
        for scheduler in ["swarm-spread", "default"] {
            let (batches, _, r) = rollout(scheduler, &path);
            let nodes: BTreeSet<String> = r
                .cluster
                .pods()
                .filter(|p| p.is_assigned())
                .map(|p| r.cluster.node(p.node.unwrap()).node.name.clone())
                .collect();
            assert_eq!(nodes.len(), want_nodes, "{placement} {scheduler}");
            assert_eq!(batches.iter().map(|b| b.1).sum::<usize>(), want_nodes, "{placement} {scheduler}");
            assert!(batches.iter().all(|b| b.1 == 1), "{placement} {scheduler}: {batches:?}");
        }
    }
}

/// The deterministic output files of a run folder (`run.json` aside).
fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f != "run.json" && !f.starts_with('.'))
        .collect();
    names.sort();
    names.into_iter().map(|f| (f.clone(), std::fs::read(dir.join(&f)).unwrap())).collect()
}

#[test]
fn a_policy_run_resumed_from_a_checkpoint_writes_the_same_outputs() {
    use kubesim::engine::time::{SimDuration, SimTime};
    use kubesim::run::checkpoint::CheckpointPlan;
    use kubesim::run::{RunError, RunOptions, Simulation};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let file = Path::new(SCENARIO);
    for scheduler in ["swarm-spread", "swarm-random", "marathon"] {
        let overrides = vec![format!("scheduler.name={scheduler}")];
        let sc = kubesim::input::scenario::load(file, &overrides).unwrap();
        let whole = tempfile::tempdir().unwrap();
        kubesim::run::run(&sc, &RunOptions { out_dir: Some(whole.path().into()), ..RunOptions::default() }).unwrap();
        let parts = tempfile::tempdir().unwrap();
        let flag = Arc::new(AtomicUsize::new(0));
        let opts = RunOptions {
            out_dir: Some(parts.path().into()),
            interrupt: Some(Arc::clone(&flag)),
            checkpoint: Some(CheckpointPlan {
                every: SimDuration::from_secs(600),
                scenario_path: std::fs::canonicalize(file).unwrap(),
                overrides: overrides.clone(),
            }),
            ..RunOptions::default()
        };
        let mut sim = Simulation::new(&sc, &opts).unwrap();
        // Between the scale-up (5m) and the rollout (8m).
        assert!(!sim.advance(&opts, Some(SimTime::ZERO + SimDuration::from_secs(400))).unwrap());
        flag.store(2, Ordering::Relaxed);
        let ckpt = match sim.run(&opts) {
            Err(RunError::Interrupted { checkpoint: Some(p), .. }) => p,
            Err(e) => panic!("{scheduler}: {e}"),
            Ok(_) => panic!("{scheduler}: the run was not interrupted"),
        };
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
            .arg("resume")
            .arg(&ckpt)
            .arg("-q")
            .output()
            .unwrap();
        assert!(out.status.success(), "{scheduler}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(outputs(parts.path()), outputs(whole.path()), "{scheduler}");
    }
}
