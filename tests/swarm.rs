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
