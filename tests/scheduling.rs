//! End-to-end scheduling behaviour: preemption picks the right victims on the right node,
//! `kubesim explain` reports what kube-scheduler would do, and a KubeSchedulerConfiguration
//! with two profiles routes pods by `schedulerName`.

use kubesim::input::scenario;
use kubesim::run::{RunOptions, run};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn events(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run_scenario(path: &str) -> (tempfile::TempDir, kubesim::run::RunResult) {
    let sc = scenario::load(Path::new(path), &[]).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let r = run(&sc, &RunOptions { out_dir: Some(dir.path().into()), check_invariants: true, ..Default::default() })
        .unwrap();
    (dir, r)
}

#[test]
fn preemption_evicts_the_least_important_pods_of_the_chosen_node_only() {
    let (dir, r) = run_scenario("scenarios/preemption.yaml");
    let ev = events(dir.path());
    let kind = |e: &serde_json::Value| e["kind"].as_str().unwrap().to_string();
    let s = |e: &serde_json::Value, k: &str| e[k].as_str().unwrap_or("").to_string();
    // Where each pod runs and when it started, from the event trace.
    let mut node_of: BTreeMap<String, String> = BTreeMap::new();
    let mut started: BTreeMap<String, u64> = BTreeMap::new();
    let mut victims_by_preemptor: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut nominated: BTreeMap<String, String> = BTreeMap::new();
    for e in &ev {
        match kind(e).as_str() {
            "pod_scheduled" => {
                node_of.insert(s(e, "pod"), s(e, "node"));
            }
            "pod_started" => {
                started.insert(s(e, "pod"), e["time_us"].as_u64().unwrap());
            }
            "pod_preempted" => {
                let victim = s(e, "pod");
                // A victim is a lower-priority batch pod on the node where the preemptor lands.
                assert!(victim.starts_with("default/batch-"), "{victim}");
                assert_eq!(node_of.get(&victim), Some(&s(e, "node")));
                victims_by_preemptor.entry(s(e, "preemptor")).or_default().push((victim, s(e, "node")));
            }
            "pod_nominated" => {
                nominated.insert(s(e, "pod"), s(e, "node"));
            }
            _ => {}
        }
    }
    assert!(!victims_by_preemptor.is_empty(), "the scenario must preempt");
    for (preemptor, victims) in &victims_by_preemptor {
        assert!(preemptor.starts_with("default/online-"), "only online pods preempt, not {preemptor}");
        // 4-cpu nodes full of 1-cpu batch pods; a 2-cpu preemptor needs exactly two victims.
        assert_eq!(victims.len(), 2, "{preemptor}: {victims:?}");
        let node = &victims[0].1;
        assert_eq!(nominated.get(preemptor), Some(node));
        assert_eq!(node_of.get(preemptor), Some(node), "{preemptor} lands on the node it preempted on");
        // Equal priorities: the victims are the most recently started batch pods on that node.
        let chosen: BTreeSet<&String> = victims.iter().map(|(v, _)| v).collect();
        let latest_unchosen = node_of
            .iter()
            .filter(|(p, n)| *n == node && p.starts_with("default/batch-") && !chosen.contains(p))
            .filter_map(|(p, _)| started.get(p))
            .max();
        let earliest_chosen = chosen.iter().filter_map(|p| started.get(*p)).min();
        if let (Some(u), Some(c)) = (latest_unchosen, earliest_chosen) {
            assert!(u <= c, "{preemptor}: a later-started pod was spared");
        }
    }
    assert!(!ev.iter().any(|e| kind(e) == "pod_preempted" && s(e, "preemptor").contains("polite")));
    assert!(r.summary.counts.preempted >= 2);
}

#[test]
fn explain_reports_every_node_with_reasons_and_scores() {
    let exe = env!("CARGO_BIN_EXE_kubesim");
    let out = Command::new(exe)
        .args(["explain", "-f", "tests/corpus/explain/cluster.yaml", "--pod", "default/web-1", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pod"], "default/web-1");
    assert_eq!(v["profile"], "default-scheduler");
    assert_eq!(v["selected"], "node-2");
    let nodes = v["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["node-1", "node-2", "node-3"], "all nodes, in name order");
    assert_eq!(nodes[0]["feasible"], false);
    assert_eq!(nodes[0]["reasons"][0], "Insufficient cpu");
    assert!(nodes[0]["total"].is_null());
    assert_eq!(nodes[2]["reasons"][0], "node(s) had untolerated taint {dedicated: infra}");
    // node-2: 8 cpu / 16Gi with 2 cpu / 4Gi used; the pod asks 3 cpu / 2Gi:
    // cpu (8000-5000)*100/8000 = 37, memory (16-6)*100/16 = 62 → (37+62)/2 = 49.
    assert_eq!(nodes[1]["scores"]["NodeResourcesFit"], 49);
    assert_eq!(nodes[1]["scores"]["TaintToleration"], 100);
    let total: i64 = nodes[1]["total"].as_i64().unwrap();
    let weighted: i64 = nodes[1]["scores"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, s)| s.as_i64().unwrap() * kubesim::scheduler::registry::default_weight(k))
        .sum();
    assert_eq!(total, weighted);
}

#[test]
fn explain_errors_are_input_errors() {
    let exe = env!("CARGO_BIN_EXE_kubesim");
    let out = Command::new(exe)
        .args(["explain", "-f", "tests/corpus/explain/cluster.yaml", "--pod", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pod default/nope"));
}

#[test]
fn two_profiles_route_pods_by_scheduler_name() {
    let (dir, r) = run_scenario("scenarios/scheduler-config.yaml");
    let pods = std::fs::read_to_string(dir.path().join("pods.csv")).unwrap();
    let mut web = BTreeSet::new();
    let mut batch = BTreeSet::new();
    let mut orphan_phase = String::new();
    for line in pods.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        match f[0] {
            p if p.starts_with("web-") => {
                web.insert(f[12].to_string());
            }
            p if p.starts_with("batch-") => {
                batch.insert(f[12].to_string());
            }
            "orphan" => orphan_phase = f[13].to_string(),
            _ => {}
        }
    }
    assert!(web.len() >= 6, "LeastAllocated spreads web pods: {web:?}");
    assert!(batch.len() <= 3, "MostAllocated packs batch pods: {batch:?}");
    assert_eq!(orphan_phase, "Pending", "a pod naming no profile is left alone");
    assert_eq!(r.summary.scheduler, "config:config/two-profiles.yaml");
}

#[test]
fn topology_spread_and_anti_affinity_hold_end_to_end() {
    let (dir, r) = run_scenario("scenarios/spread-and-affinity.yaml");
    let zone_of: BTreeMap<String, String> = std::fs::read_to_string(dir.path().join("nodes.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[1].to_string())
        })
        .collect();
    // Replay the trace: after every binding, web pods per zone never differ by more than 1
    // (maxSkew 1 over the three zones), and no two db pods ever share a node.
    let mut web: BTreeMap<String, i64> = zone_of.values().map(|z| (z.clone(), 0)).collect();
    let mut db_nodes = BTreeSet::new();
    let mut db_per_zone: BTreeMap<String, i64> = BTreeMap::new();
    let mut cache_zones = Vec::new();
    let mut unschedulable_db = BTreeSet::new();
    for e in events(dir.path()) {
        let pod = e["pod"].as_str().unwrap_or("").to_string();
        match e["kind"].as_str().unwrap() {
            "pod_scheduled" => {
                let node = e["node"].as_str().unwrap().to_string();
                let zone = zone_of[&node].clone();
                if pod.starts_with("default/web-") {
                    *web.get_mut(&zone).unwrap() += 1;
                    let (min, max) = (web.values().min().unwrap(), web.values().max().unwrap());
                    assert!(max - min <= 1, "skew {web:?} after {pod}");
                } else if pod.starts_with("default/db-") {
                    assert!(db_nodes.insert(node.clone()), "two db pods on {node}");
                    *db_per_zone.entry(zone).or_insert(0) += 1;
                } else if pod.starts_with("default/cache-") {
                    cache_zones.push((zone, db_per_zone.clone()));
                }
            }
            "pod_unschedulable" if pod.starts_with("default/db-") => {
                assert!(e["message"].as_str().unwrap().contains("node(s) didn't match pod anti-affinity rules"));
                unschedulable_db.insert(pod);
            }
            _ => {}
        }
    }
    assert_eq!(db_nodes.len(), 7, "one db pod per node");
    assert_eq!(unschedulable_db.len(), 1, "the eighth db pod has nowhere to go");
    assert_eq!(r.summary.counts.unschedulable_at_end, 1);
    // Preferred zone affinity: each cache pod lands in a zone with the most db pods at the time.
    for (zone, dbs) in cache_zones {
        let most = dbs.values().max().copied().unwrap_or(0);
        assert_eq!(dbs.get(&zone).copied().unwrap_or(0), most, "cache in {zone} with db counts {dbs:?}");
    }
}

/// A Permit plugin that rejects pods whose name ends in "-0", and a Reserve plugin that counts.
struct RejectZero;
impl kubesim::scheduler::framework::Plugin for RejectZero {
    fn name(&self) -> &'static str {
        "RejectZero"
    }
}
impl kubesim::scheduler::framework::PermitPlugin for RejectZero {
    fn permit(
        &self,
        _: &kubesim::cluster::ClusterState,
        pod: &kubesim::model::pod::Pod,
        _: kubesim::cluster::NodeId,
    ) -> kubesim::scheduler::framework::Status {
        if pod.name.ends_with("-0") {
            kubesim::scheduler::framework::Status::unschedulable(vec!["rejected by RejectZero".into()])
        } else {
            kubesim::scheduler::framework::Status::success()
        }
    }
}

#[test]
fn a_permit_plugin_that_rejects_keeps_the_pod_pending() {
    let sc = scenario::load(Path::new("scenarios/quickstart.yaml"), &[]).unwrap();
    let mut profile = kubesim::scheduler::Profile::default_profile();
    profile.permits.push(std::sync::Arc::new(RejectZero));
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions { out_dir: Some(dir.path().into()), check_invariants: true, ..Default::default() };
    let r = kubesim::run::run_with_profiles(&sc, &opts, vec![profile]).unwrap();
    let ev = events(dir.path());
    assert!(ev.iter().any(|e| e["kind"] == "pod_unschedulable"
        && e["pod"] == "default/web-0"
        && e["message"].as_str().unwrap().contains("RejectZero: Permit: rejected by RejectZero")));
    assert!(!ev.iter().any(|e| e["kind"] == "pod_scheduled" && e["pod"] == "default/web-0"));
    assert!(r.summary.counts.unschedulable_at_end >= 2, "web-0 and batch-0 stay pending");
}
