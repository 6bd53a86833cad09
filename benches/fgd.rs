//! One FGD-paper experiment per policy: the openb default trace on the 1,213 GPU nodes,
//! inflated to 130 % of GPU capacity, seed 42 (≈10.9 k placements). The SPEC target is under
//! 2 s for FGD. Skipped, with a printed reason, when the trace is not in `../shared/data`.

use criterion::{Criterion, criterion_group, criterion_main};
use kubesim::replay::engine::{ReplayConfig, run};
use kubesim::replay::load_input;
use kubesim::scheduler::policies::Policy;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn data_dir() -> Option<std::path::PathBuf> {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/alibaba-gpu-v2023/csv");
    [local, Path::new("/work/shared/data/alibaba-gpu-v2023/csv").to_path_buf()].into_iter().find(|d| d.exists())
}

fn bench(c: &mut Criterion) {
    let Some(dir) = data_dir() else {
        println!("fgd benchmark skipped: the openb trace is not in ../shared/data/alibaba-gpu-v2023");
        return;
    };
    let input =
        match load_input("openb", &dir.join("openb_pod_list_default.csv"), &dir.join("openb_node_list_gpu_node.csv")) {
            Ok(i) => i,
            Err(e) => {
                println!("fgd benchmark skipped: {e}");
                return;
            }
        };
    let mut g = c.benchmark_group("fgd_experiment_default_x1.3");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for p in Policy::PAPER {
        let cfg = ReplayConfig { policy: p, seed: 42, inflate: Some(1.3), shuffle: true };
        g.bench_function(p.name(), |b| b.iter(|| black_box(run(&input.pods, &input.nodes, &cfg).placements.len())));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
