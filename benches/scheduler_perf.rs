//! Scheduling throughput on workloads shaped like upstream's scheduler_perf
//! (`test/integration/scheduler_perf/misc/performance-config.yaml`), with the default profile, on
//! one core. The node and pod templates are written here, equal to upstream's
//! `templates/node-default.yaml`, `pod-default.yaml`, `pod-with-topology-spreading.yaml`,
//! `pod-with-node-affinity.yaml`, `pod-with-pod-anti-affinity.yaml`, `pod-low-priority.yaml` and
//! `pod-high-priority.yaml`, so the benchmark runs without `../shared/data`.
//!
//! Each measured iteration schedules and binds every measured pod (one full cycle each) on a
//! cluster prepared (nodes and initial pods) outside the timing. Throughput is pods per second.
//! Upstream's minimum thresholds (pods/s, real apiserver): SchedulingBasic 270,
//! TopologySpreading 85, PreemptionBasic 18, SchedulingWithNodeAffinity 220 (approx.),
//! SchedulingPodAntiAffinity 70 (approx.).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use kubesim::cluster::{ClusterState, PodId};
use kubesim::engine::rng::stream;
use kubesim::engine::time::SimTime;
use kubesim::input::manifest::{ManifestSet, PodManifest, pod_from_manifest};
use kubesim::model::node::Node;
use kubesim::model::pod::Pod;
use kubesim::model::resources::Resources;
use kubesim::scheduler::{CycleOutcome, Profile, Scheduler};
use std::collections::BTreeMap;
use std::hint::black_box;

const POD_DEFAULT: &str = "metadata: {name: p}\nspec:\n  containers:\n  - name: pause\n    image: registry.k8s.io/pause:3.10.1\n    ports: [{containerPort: 80}]\n    resources: {limits: {cpu: 100m, memory: 500Mi}, requests: {cpu: 100m, memory: 500Mi}}\n";
const POD_SPREAD: &str = "metadata: {name: p, labels: {color: blue}}\nspec:\n  topologySpreadConstraints:\n  - {maxSkew: 5, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {color: blue}}}\n  containers:\n  - name: pause\n    image: registry.k8s.io/pause:3.10\n    resources: {limits: {cpu: 100m, memory: 500Mi}, requests: {cpu: 100m, memory: 500Mi}}\n";
const POD_NODE_AFFINITY: &str = "metadata: {name: p}\nspec:\n  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n        - matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [zone1, zone2]}]\n  containers:\n  - name: pause\n    image: registry.k8s.io/pause:3.10.1\n    resources: {limits: {cpu: 100m, memory: 500Mi}, requests: {cpu: 100m, memory: 500Mi}}\n";
const POD_ANTI_AFFINITY: &str = "metadata: {name: p, labels: {color: green}}\nspec:\n  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - labelSelector: {matchLabels: {color: green}}\n        topologyKey: kubernetes.io/hostname\n        namespaces: [sched-1, sched-0]\n  containers:\n  - name: pause\n    image: registry.k8s.io/pause:3.10.2\n    resources: {limits: {cpu: 100m, memory: 500Mi}, requests: {cpu: 100m, memory: 500Mi}}\n";
const POD_LOW: &str = "metadata: {name: p}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: pause\n    image: registry.k8s.io/pause:3.10\n    resources: {limits: {cpu: 900m, memory: 500Mi}, requests: {cpu: 900m, memory: 500Mi}}\n";
const POD_HIGH: &str = "metadata: {name: p}\nspec:\n  priority: 10\n  containers:\n  - name: pause\n    image: registry.k8s.io/pause:3.10\n    resources: {limits: {cpu: 3000m, memory: 500Mi}, requests: {cpu: 3000m, memory: 500Mi}}\n";

fn pod(template: &str, name: &str, namespace: &str) -> Pod {
    let m: PodManifest = serde_saphyr::from_str(template).expect("template parses");
    let mut p = pod_from_manifest(&m, &ManifestSet::default()).expect("template converts");
    p.name = name.to_string();
    p.namespace = namespace.to_string();
    p
}

/// `node-default.yaml`: 4 cpu, 32Gi, 110 pods; `zones` labels the nodes round-robin.
fn cluster(nodes: usize, zones: &[&str]) -> ClusterState {
    let mut c = ClusterState::new();
    let alloc = Resources { cpu_millis: 4000, memory_bytes: 32 << 30, pods: 110, ..Default::default() };
    for i in 0..nodes {
        let name = format!("scheduler-perf-{i:05}");
        let mut labels = BTreeMap::from([("kubernetes.io/hostname".to_string(), name.clone())]);
        if !zones.is_empty() {
            labels.insert("topology.kubernetes.io/zone".into(), zones[i % zones.len()].into());
        }
        c.add_node(Node {
            name,
            labels,
            taints: vec![],
            allocatable: alloc.clone(),
            images: vec![],
            unschedulable: false,
        })
        .expect("unique names");
    }
    c
}

/// Creates and schedules `count` pods; returns how many were bound.
fn schedule_all(
    s: &mut Scheduler,
    c: &mut ClusterState,
    template: &str,
    prefix: &str,
    ns: &str,
    count: usize,
) -> usize {
    let mut bound = 0;
    for i in 0..count {
        let id = c.add_pod(pod(template, &format!("{prefix}-{i}"), ns), SimTime::ZERO).expect("unique");
        bound += place(s, c, id) as usize;
    }
    bound
}

fn place(s: &mut Scheduler, c: &mut ClusterState, id: PodId) -> bool {
    match s.schedule_one(c, &c.pod(id).pod) {
        CycleOutcome::Selected { node, .. } => {
            c.bind(id, node, SimTime::ZERO).expect("pending");
            true
        }
        _ => false,
    }
}

/// Prepared clusters with their measured pods already created (pending).
struct Prepared {
    scheduler: Scheduler,
    cluster: ClusterState,
    measured: Vec<PodId>,
}

fn prepare(nodes: usize, zones: &[&str], init: (&str, &str, usize), measured: (&str, &str, usize)) -> Prepared {
    let mut c = cluster(nodes, zones);
    let mut s = Scheduler::new(Profile::default_profile(), stream(1, "scheduler"));
    let bound = schedule_all(&mut s, &mut c, init.0, "init", init.1, init.2);
    assert_eq!(bound, init.2, "every initial pod fits");
    let ids = (0..measured.2)
        .map(|i| c.add_pod(pod(measured.0, &format!("measured-{i}"), measured.1), SimTime::ZERO).expect("unique"))
        .collect();
    Prepared { scheduler: s, cluster: c, measured: ids }
}

fn bench_workload(c: &mut Criterion, name: &str, make: &dyn Fn() -> Prepared, preempt: bool) {
    let template = make();
    let n = template.measured.len();
    let mut g = c.benchmark_group("scheduler_perf");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(20));
    g.bench_function(name, |b| {
        b.iter_batched(
            || Prepared {
                scheduler: Scheduler::new(Profile::default_profile(), stream(1, "scheduler")),
                cluster: template.cluster.clone(),
                measured: template.measured.clone(),
            },
            |mut p| {
                let mut bound = 0usize;
                for id in &p.measured {
                    if place(&mut p.scheduler, &mut p.cluster, *id) {
                        bound += 1;
                    } else if preempt {
                        bound += preempt_and_place(&mut p.scheduler, &mut p.cluster, *id) as usize;
                    }
                }
                black_box(bound)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// PostFilter then an immediate retry, victims deleted at once (`terminationGracePeriodSeconds: 0`).
fn preempt_and_place(s: &mut Scheduler, c: &mut ClusterState, id: PodId) -> bool {
    let CycleOutcome::Unschedulable(d) = s.schedule_one(c, &c.pod(id).pod) else { return false };
    let Some(cand) = s.preempt(c, id, &d) else { return false };
    for v in cand.victims {
        c.terminate(v, kubesim::cluster::PodPhase::Failed, SimTime::ZERO);
    }
    place(s, c, id)
}

fn scheduler_perf(c: &mut Criterion) {
    bench_workload(
        c,
        "SchedulingBasic/5000Nodes_10000Pods",
        &|| prepare(5000, &[], (POD_DEFAULT, "default", 1000), (POD_DEFAULT, "default", 10000)),
        false,
    );
    bench_workload(
        c,
        "TopologySpreading/5000Nodes_5000Pods",
        &|| {
            prepare(
                5000,
                &["moon-1", "moon-2", "moon-3"],
                (POD_DEFAULT, "default", 5000),
                (POD_SPREAD, "default", 5000),
            )
        },
        false,
    );
    bench_workload(
        c,
        "SchedulingWithNodeAffinity/5000Nodes_10000Pods",
        &|| prepare(5000, &["zone1"], (POD_NODE_AFFINITY, "default", 5000), (POD_NODE_AFFINITY, "default", 10000)),
        false,
    );
    bench_workload(
        c,
        "SchedulingPodAntiAffinity/5000Nodes_1000Pods",
        &|| prepare(5000, &[], (POD_ANTI_AFFINITY, "sched-0", 1000), (POD_ANTI_AFFINITY, "sched-1", 1000)),
        false,
    );
    bench_workload(
        c,
        "PreemptionBasic/500Nodes",
        &|| prepare(500, &[], (POD_LOW, "default", 2000), (POD_HIGH, "default", 500)),
        true,
    );
}

criterion_group!(benches, scheduler_perf);
criterion_main!(benches);
