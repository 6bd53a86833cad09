//! Per-decision overhead of the out-of-process policy protocol: the same bin-packing policy
//! (`examples/custom_policy.rs` in Rust, `examples/policy.py` through `exec:`), placing 1,000
//! pods on 100 nodes, one decision each. The framework's default profile is measured alongside
//! for scale. Each iteration is a whole run (the Python process starts once per run, so its
//! start-up is included, amortised over the 1,000 decisions). Throughput is pods per second.
//!
//! Needs `python3`; without it only the in-process benchmarks run.

#[allow(dead_code)]
#[path = "../examples/custom_policy.rs"]
mod custom_policy;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kubesim::prelude::*;

const PODS: u64 = 1000;

fn scenario() -> Scenario {
    ScenarioBuilder::new("exec-bench")
        .seed(1)
        .duration("1h")
        .node_pool_spec(serde_json::json!({"name": "node", "count": 100, "zones": ["a", "b", "c"], "allocatable": {"cpu": "32", "memory": "128Gi"}}))
        .pods("p", PODS, "500m", "1Gi")
        .build()
        .expect("the benchmark scenario is valid")
}

fn bench(c: &mut Criterion) {
    let sc = scenario();
    let mut g = c.benchmark_group("exec_policy");
    g.sample_size(10);
    g.throughput(Throughput::Elements(PODS));
    g.bench_function("framework_default_profile", |b| {
        b.iter(|| Runner::new(sc.clone()).run().expect("runs"));
    });
    g.bench_function("bin_pack_in_process_rust", |b| {
        b.iter(|| Runner::new(sc.clone()).policy(custom_policy::BinPack).run().expect("runs"));
    });
    let python = std::process::Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    if python {
        g.bench_function("bin_pack_exec_python", |b| {
            b.iter(|| Runner::new(sc.clone()).scheduler("exec:python3 examples/policy.py").run().expect("runs"));
        });
    } else {
        eprintln!("skipping bin_pack_exec_python: python3 is not installed");
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
