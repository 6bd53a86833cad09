//! Property tests of convergence, built on `kubesim::convergence`: generated clusters (3–6
//! nodes over 2–3 zones), ReplicaSets (some under a PodDisruptionBudget) and fault schedules
//! (node crashes and recoveries, network partitions and heals, drains then uncordons). After the
//! last fault, with enough capacity, every workload reaches its desired ready count within the
//! bound, no node is ever over-allocated and every pod is in exactly one place (the invariant
//! checker after every event), no workload runs more pods than it wants, and time never goes back.
//!
//! 32 cases by default; `KUBESIM_PROPTEST_CASES=500` for a heavier run. A failing case prints
//! its seed and the folder holding a scenario that replays it (`kubesim run <folder>/scenario.yaml`).

use kubesim::convergence::{Options, check};
use kubesim::engine::time::SimDuration;
use proptest::prelude::*;
use std::fmt::Write as _;

#[derive(Clone, Debug)]
enum Fault {
    Crash { node: usize, at_s: u64, for_s: u64 },
    Partition { node: usize, at_s: u64, for_s: u64 },
    Drain { node: usize, at_s: u64, for_s: u64 },
}

#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    nodes: usize,
    zones: usize,
    sets: Vec<(u32, u32, bool)>,
    faults: Vec<Fault>,
}

fn fault() -> impl Strategy<Value = Fault> {
    (0usize..3, 0usize..64, 60u64..900, 30u64..900).prop_map(|(k, node, at_s, for_s)| match k {
        0 => Fault::Crash { node, at_s, for_s },
        1 => Fault::Partition { node, at_s, for_s },
        _ => Fault::Drain { node, at_s, for_s },
    })
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        3usize..=6,
        2usize..=3,
        prop::collection::vec((1u32..=4, 100u32..=500, any::<bool>()), 1..=3),
        prop::collection::vec(fault(), 0..=3),
    )
        .prop_map(|(seed, nodes, zones, sets, faults)| Case { seed, nodes, zones, sets, faults })
}

/// The scenario and manifest texts of a case. Faults hit distinct nodes, at most `nodes − 2` of
/// them, so that capacity always suffices (each node has 4 CPUs, the workloads at most 6).
fn render(c: &Case) -> (String, String) {
    let mut manifests = String::new();
    for (i, (replicas, cpu, pdb)) in c.sets.iter().enumerate() {
        let _ = write!(
            manifests,
            "---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: rs-{i}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: a{i}}}}}\n  template:\n    metadata: {{labels: {{app: a{i}}}}}\n    spec:\n      containers:\n      - {{name: c, image: img, resources: {{requests: {{cpu: {cpu}m, memory: 256Mi}}}}}}\n"
        );
        if *pdb {
            let _ = write!(
                manifests,
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: pdb-{i}}}\nspec:\n  maxUnavailable: 1\n  selector: {{matchLabels: {{app: a{i}}}}}\n"
            );
        }
    }
    let zones: Vec<String> = (0..c.zones).map(|z| format!("z{z}")).collect();
    let mut timeline = String::new();
    let mut used = std::collections::BTreeSet::new();
    let mut last = 0;
    for f in &c.faults {
        let (node, at, dur) = match f {
            Fault::Crash { node, at_s, for_s }
            | Fault::Partition { node, at_s, for_s }
            | Fault::Drain { node, at_s, for_s } => (node % c.nodes, *at_s, *for_s),
        };
        if used.len() + 2 >= c.nodes || !used.insert(node) {
            continue;
        }
        let (start, end) = match f {
            Fault::Crash { .. } => (format!("failNode: n-{node}"), format!("recoverNode: n-{node}")),
            Fault::Partition { .. } => {
                (format!("partition: {{nodes: [n-{node}]}}"), format!("heal: {{nodes: [n-{node}]}}"))
            }
            Fault::Drain { .. } => (format!("drain: n-{node}"), format!("uncordon: n-{node}")),
        };
        let _ = write!(timeline, "- at: {at}s\n  {start}\n- at: {}s\n  {end}\n", at + dur);
        last = last.max(at + dur);
    }
    let scenario = format!(
        "apiVersion: kubesim/v1\nkind: Scenario\nseed: {}\nduration: {}s\ncluster:\n  nodePools:\n  - name: n\n    count: {}\n    zones: [{}]\n    allocatable: {{cpu: 4, memory: 16Gi}}\nworkloads:\n  manifests: [workloads.yaml]\n{}",
        c.seed,
        last + 1800,
        c.nodes,
        zones.join(", "),
        if timeline.is_empty() { String::new() } else { format!("timeline:\n{timeline}") }
    );
    (scenario, manifests)
}

fn cases() -> u32 {
    std::env::var("KUBESIM_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(32)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn after_the_last_fault_every_workload_converges(c in case()) {
        let dir = tempfile::tempdir().unwrap();
        let (scenario, manifests) = render(&c);
        std::fs::write(dir.path().join("scenario.yaml"), &scenario).unwrap();
        std::fs::write(dir.path().join("workloads.yaml"), &manifests).unwrap();
        let sc = kubesim::input::scenario::load(&dir.path().join("scenario.yaml"), &[]).unwrap_or_else(|e| panic!("{e}\n{scenario}"));
        let opts = Options { bound: SimDuration::from_secs(15 * 60), check_invariants: true };
        if let Err(f) = check(&sc, &opts) {
            let keep = std::env::temp_dir().join(format!("kubesim-convergence-seed-{}", c.seed));
            let _ = std::fs::create_dir_all(&keep);
            let _ = std::fs::write(keep.join("scenario.yaml"), &scenario);
            let _ = std::fs::write(keep.join("workloads.yaml"), &manifests);
            prop_assert!(false, "seed {}: {f}\nreplay: kubesim run {}", c.seed, keep.join("scenario.yaml").display());
        }
    }
}

#[test]
fn a_node_lost_for_good_is_survived_by_its_replicaset() {
    let c = Case { seed: 7, nodes: 4, zones: 2, sets: vec![(3, 500, true)], faults: vec![] };
    let (scenario, manifests) = render(&c);
    let scenario = format!("{scenario}timeline:\n- at: 60s\n  failNode: n-0\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scenario.yaml"), &scenario).unwrap();
    std::fs::write(dir.path().join("workloads.yaml"), &manifests).unwrap();
    let sc = kubesim::input::scenario::load(&dir.path().join("scenario.yaml"), &[]).unwrap();
    let r = check(&sc, &Options::default()).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(r.last_disruption.0, 60_000_000);
}

#[test]
fn a_bound_too_short_for_the_eviction_timeout_is_reported_with_the_unsettled_workload() {
    // A node crash at 60 s is only acted upon after 50 s + 300 s: a 2-minute bound cannot hold
    // if the ReplicaSet had a pod there (three replicas on four nodes spread by the scheduler).
    let c = Case { seed: 7, nodes: 3, zones: 1, sets: vec![(3, 500, false)], faults: vec![] };
    let (scenario, manifests) = render(&c);
    let scenario = format!("{scenario}timeline:\n- at: 60s\n  failNode: n-0\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scenario.yaml"), &scenario).unwrap();
    std::fs::write(dir.path().join("workloads.yaml"), &manifests).unwrap();
    let sc = kubesim::input::scenario::load(&dir.path().join("scenario.yaml"), &[]).unwrap();
    let err = check(&sc, &Options { bound: SimDuration::from_secs(120), check_invariants: true }).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("not converged") && msg.contains("ReplicaSet/default/rs-0"), "{msg}");
}
