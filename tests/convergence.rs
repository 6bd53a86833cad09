//! Property tests of convergence, built on `kubesim::convergence`: generated clusters (3–6
//! nodes over 2–3 zones), workloads of every controller kind (ReplicaSets, Deployments — some
//! rolled out to a new image in the middle of the faults —, StatefulSets, DaemonSets and Jobs,
//! some under a PodDisruptionBudget) and fault schedules (node crashes and recoveries, network
//! partitions and heals, drains then uncordons). After the
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

/// The controller kinds a case draws its workloads from.
#[derive(Clone, Copy, Debug)]
enum Kind {
    ReplicaSet,
    /// A Deployment, rolled out to a new image at the given second when `Some`.
    Deployment(Option<u64>),
    StatefulSet,
    /// One pod per node: its replica count is ignored.
    DaemonSet,
    /// A Job of `replicas` completions, 2 in parallel, each pod running the given seconds.
    Job(u64),
}

#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    nodes: usize,
    zones: usize,
    /// (kind, replicas, milli-CPU per pod, under a PDB)
    sets: Vec<(Kind, u32, u32, bool)>,
    faults: Vec<Fault>,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::ReplicaSet),
        prop::option::of(30u64..900).prop_map(Kind::Deployment),
        Just(Kind::StatefulSet),
        Just(Kind::DaemonSet),
        (20u64..200).prop_map(Kind::Job),
    ]
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
        prop::collection::vec((kind(), 1u32..=4, 100u32..=500, any::<bool>()), 1..=3),
        prop::collection::vec(fault(), 0..=3),
    )
        .prop_map(|(seed, nodes, zones, sets, faults)| Case { seed, nodes, zones, sets, faults })
}

/// The scenario and manifest texts of a case. Faults hit distinct nodes, at most `nodes − 2` of
/// them, so that capacity always suffices (each node has 4 CPUs, the workloads at most 6).
fn render(c: &Case) -> (String, String) {
    let mut manifests = String::new();
    let mut rollouts = Vec::new();
    for (i, (kind, replicas, cpu, pdb)) in c.sets.iter().enumerate() {
        let pod = format!(
            "    metadata: {{labels: {{app: a{i}}}}}\n    spec:\n      containers:\n      - {{name: c, image: img, resources: {{requests: {{cpu: {cpu}m, memory: 256Mi}}}}}}\n"
        );
        let selector = format!("  selector: {{matchLabels: {{app: a{i}}}}}\n");
        let _ = match kind {
            Kind::ReplicaSet => write!(
                manifests,
                "---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: w-{i}}}\nspec:\n  replicas: {replicas}\n{selector}  template:\n{pod}"
            ),
            Kind::Deployment(rollout) => {
                if let Some(at) = rollout {
                    rollouts.push((
                        *at,
                        format!("- {{at: {at}s, rollout: {{kind: Deployment, name: w-{i}, image: \"img:2\"}}}}\n"),
                    ));
                }
                write!(
                    manifests,
                    "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w-{i}}}\nspec:\n  replicas: {replicas}\n{selector}  template:\n{pod}"
                )
            }
            Kind::StatefulSet => write!(
                manifests,
                "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: w-{i}}}\nspec:\n  serviceName: w-{i}\n  replicas: {replicas}\n{selector}  template:\n{pod}"
            ),
            Kind::DaemonSet => write!(
                manifests,
                "---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: w-{i}}}\nspec:\n{selector}  template:\n{pod}"
            ),
            Kind::Job(run_s) => write!(
                manifests,
                "---\napiVersion: batch/v1\nkind: Job\nmetadata: {{name: w-{i}}}\nspec:\n  completions: {replicas}\n  parallelism: 2\n  backoffLimit: 1000\n  template:\n    metadata: {{labels: {{app: a{i}}}, annotations: {{kubesim.io/run-duration: {run_s}s}}}}\n    spec:\n      restartPolicy: OnFailure\n      containers:\n      - {{name: c, image: img, resources: {{requests: {{cpu: {cpu}m, memory: 256Mi}}}}}}\n"
            ),
        };
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
    for (at, r) in &rollouts {
        timeline.push_str(r);
        last = last.max(*at);
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
    let c = Case { seed: 7, nodes: 4, zones: 2, sets: vec![(Kind::ReplicaSet, 3, 500, true)], faults: vec![] };
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
    let c = Case { seed: 7, nodes: 3, zones: 1, sets: vec![(Kind::ReplicaSet, 3, 500, false)], faults: vec![] };
    let (scenario, manifests) = render(&c);
    let scenario = format!("{scenario}timeline:\n- at: 60s\n  failNode: n-0\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scenario.yaml"), &scenario).unwrap();
    std::fs::write(dir.path().join("workloads.yaml"), &manifests).unwrap();
    let sc = kubesim::input::scenario::load(&dir.path().join("scenario.yaml"), &[]).unwrap();
    let err = check(&sc, &Options { bound: SimDuration::from_secs(120), check_invariants: true }).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("not converged") && msg.contains("ReplicaSet/default/w-0"), "{msg}");
}
