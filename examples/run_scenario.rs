//! Using kubesim as a library: load a bundled scenario, override a field, run it without
//! writing files, and read the summary and the per-pod records.
//!
//! ```sh
//! cargo run --release --example run_scenario
//! ```

use kubesim::cluster::PodPhase;
use kubesim::input::scenario;
use kubesim::run::{RunOptions, run};
use std::path::Path;

fn main() {
    let overrides = vec!["scheduler.name=most-allocated".to_string()];
    let sc = match scenario::load(Path::new("scenarios/quickstart.yaml"), &overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let result = match run(&sc, &RunOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let s = &result.summary;
    println!(
        "{} with {}: {} pods created, {} scheduled, pending p99 {} us, cpu allocation {:.3}",
        s.scenario,
        s.scheduler,
        s.counts.pods_created,
        s.counts.pods_scheduled,
        s.pending_time_us.p99,
        s.allocation.cpu
    );
    let busiest =
        result.cluster.nodes().iter().max_by_key(|n| n.pods.len()).map(|n| (n.node.name.clone(), n.pods.len()));
    if let Some((name, pods)) = busiest {
        println!("busiest node at the end: {name} with {pods} pods");
    }
    let running = result.cluster.pods().filter(|p| p.phase == PodPhase::Running).count();
    println!("{} pods succeeded, {running} running at the end; trace digest {}", s.counts.succeeded, s.trace_digest);
}
