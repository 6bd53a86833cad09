//! `kubesim replay`: arrival-only trace replay with a research policy, the FGD paper's experiment
//! as one command.
//!
//! One run (one pod list, one policy, one seed) writes `placement.csv` (SPEC §8),
//! `summary.json`, `alloc.svg` and `frag.svg` and `run.json` (wall-clock time, kept apart because
//! it is not deterministic). Several (`--pods` repeated, `--policies`, `--seeds`) run the cross
//! product in parallel and write per-run summaries under `<trace>/<policy>/seed-<n>/`, and
//! `results.csv`, `table.csv`, `table.md` (unallocated GPU % at 100 % arrived GPU demand, mean ±
//! standard deviation over seeds), `curves.csv` and one allocation-curve chart per trace.
//!
//! Trace formats plug in through [`load_input`]: a match on the format name calling the loader in
//! `sim/trace/<format>.rs`; a loader that produces a [`crate::trace::Trace`] can use
//! [`input_from_trace`].

pub mod charts;
pub mod engine;

use crate::input::error::InputError;
use crate::model::gpu::{GpuRequest, node_gpu_count, node_gpu_model};
use crate::run::output::write_atomic;
use crate::scheduler::policies::Policy;
use engine::{Replay, ReplayConfig, ReplayNode, ReplayPod};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The most clones inflation makes per original pod (guards against GPU-less traces).
pub const MAX_CLONES_PER_POD: usize = 100;
/// The most runs one `kubesim replay` accepts (policies × seeds × traces).
pub const MAX_RUNS: usize = 100_000;

/// Command-line arguments of `kubesim replay`.
#[derive(clap::Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  kubesim replay --format openb --pods openb_pod_list_default.csv --nodes openb_node_list_gpu_node.csv --policy fgd --inflate 1.3 --seed 42 --out out/fgd42\n  kubesim replay --pods default.csv --pods cpu050.csv --nodes gpu_node.csv --policies random,dot-product,gpu-clustering,gpu-packing,best-fit,fgd --seeds 42..51 --inflate 1.3 --out reports/fgd\n\nPolicies: random, first-fit, best-fit, worst-fit, dot-product, gpu-packing, gpu-clustering, fgd.\nOne run writes placement.csv, summary.json, alloc.svg, frag.svg, run.json; several write results.csv, table.csv, table.md, curves.csv, alloc_curve_<trace>.svg."
)]
pub struct ReplayArgs {
    /// Trace format (openb).
    #[arg(long, default_value = "openb")]
    pub format: String,
    /// Pod list (repeat for several traces).
    #[arg(long, required = true)]
    pub pods: Vec<PathBuf>,
    /// Node list.
    #[arg(long)]
    pub nodes: PathBuf,
    /// Placement policy.
    #[arg(long, default_value = "fgd", conflicts_with = "policies")]
    pub policy: String,
    /// Several policies, comma-separated.
    #[arg(long)]
    pub policies: Option<String>,
    /// Seed.
    #[arg(long, default_value_t = 42, conflicts_with = "seeds")]
    pub seed: u64,
    /// Several seeds: `A..B` (inclusive) or a comma-separated list.
    #[arg(long)]
    pub seeds: Option<String>,
    /// Inflate (or deflate) the GPU demand to this multiple of GPU capacity (e.g. 1.3).
    #[arg(long)]
    pub inflate: Option<f64>,
    /// Keep the trace's pod order (default: sorted by name and shuffled with the seed).
    #[arg(long)]
    pub no_shuffle: bool,
    /// Write placement.csv for every run of a multi-run replay too.
    #[arg(long)]
    pub placements: bool,
    /// Parallel runs (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Output folder.
    #[arg(long, default_value = "out/replay")]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A loaded trace, ready for replay.
#[derive(Clone, Debug)]
pub struct ReplayInput {
    /// Short name (file stem without `openb_pod_list_`).
    pub name: String,
    /// Pods in file order.
    pub pods: Vec<ReplayPod>,
    /// Nodes.
    pub nodes: Vec<ReplayNode>,
}

/// Loads a pod list and a node list of `format`.
pub fn load_input(format: &str, pods: &Path, nodes: &Path) -> Result<ReplayInput, InputError> {
    let shown = |p: &Path| p.display().to_string();
    let name = trace_name(pods);
    match format {
        "openb" => {
            let p = crate::trace::openb::read_pods(pods, &shown(pods))?;
            let n = crate::trace::openb::read_nodes(nodes, &shown(nodes))?;
            Ok(ReplayInput {
                name,
                pods: p
                    .into_iter()
                    .map(|r| ReplayPod {
                        name: r.name,
                        cpu_millis: r.cpu_millis,
                        memory_bytes: r.memory_mib.saturating_mul(1 << 20),
                        gpu: r.gpu,
                    })
                    .collect(),
                nodes: n
                    .into_iter()
                    .map(|r| ReplayNode {
                        name: r.name,
                        cpu_millis: r.cpu_millis,
                        memory_bytes: r.memory_mib.saturating_mul(1 << 20),
                        max_pods: crate::trace::openb::NODE_MAX_PODS,
                        gpus: r.gpus,
                        model: if r.gpus > 0 { r.model } else { String::new() },
                    })
                    .collect(),
            })
        }
        other => {
            Err(InputError::file(shown(pods), format!("unknown trace format `{other}` for replay (known: openb)")))
        }
    }
}

/// A replay input from any loader's [`crate::trace::Trace`] (pods in the trace's order; GPU
/// requests read as the GPU model reads them).
pub fn input_from_trace(name: &str, trace: &crate::trace::Trace) -> ReplayInput {
    ReplayInput {
        name: name.to_string(),
        pods: trace
            .pods
            .iter()
            .map(|t| ReplayPod {
                name: t.pod.name.clone(),
                cpu_millis: t.pod.requests.cpu_millis,
                memory_bytes: t.pod.requests.memory_bytes,
                gpu: GpuRequest::from_pod(&t.pod),
            })
            .collect(),
        nodes: trace
            .nodes
            .iter()
            .map(|n| ReplayNode {
                name: n.name.clone(),
                cpu_millis: n.allocatable.cpu_millis,
                memory_bytes: n.allocatable.memory_bytes,
                max_pods: n.allocatable.pods,
                gpus: node_gpu_count(n) as u32,
                model: node_gpu_model(n).to_string(),
            })
            .collect(),
    }
}

fn trace_name(p: &Path) -> String {
    let stem = p.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    stem.strip_prefix("openb_pod_list_").unwrap_or(&stem).to_string()
}

/// Parses `A..B` (inclusive) or `a,b,c`.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    if let Some((a, b)) = s.split_once("..") {
        let a: u64 = a.trim().parse().map_err(|_| format!("bad seed range `{s}`"))?;
        let b: u64 = b.trim().trim_start_matches('=').parse().map_err(|_| format!("bad seed range `{s}`"))?;
        if b < a || (b - a) as usize >= MAX_RUNS {
            return Err(format!("bad seed range `{s}` (empty or more than replay::MAX_RUNS seeds)"));
        }
        return Ok((a..=b).collect());
    }
    s.split(',').map(|x| x.trim().parse::<u64>().map_err(|_| format!("bad seed `{x}`"))).collect()
}

/// The placement CSV (SPEC §8).
pub fn placement_csv(r: &Replay) -> String {
    let cap = r.capacity_gpu_millis.max(1) as f64;
    let mut s = String::from(
        "index,pod,arrived_gpu_millis,allocated_gpu_millis,frag_gpu_millis,node,gpu_indices,arrived_gpu_pct,alloc_gpu_pct,frag_ratio_pct\n",
    );
    for (i, p) in r.placements.iter().enumerate() {
        let node = p.node.map(|n| r.nodes[n as usize].name.as_str()).unwrap_or("");
        let gpus: Vec<String> = p.gpu_indices.iter().map(u32::to_string).collect();
        let _ = writeln!(
            s,
            "{i},{},{},{},{},{node},{},{:.2},{:.2},{:.2}",
            p.pod,
            p.arrived_gpu_millis,
            p.allocated_gpu_millis,
            p.frag_gpu_millis.round() as i64,
            gpus.join("|"),
            p.arrived_gpu_millis as f64 / cap * 100.0,
            p.allocated_gpu_millis as f64 / cap * 100.0,
            r.frag_ratio_pct(p)
        );
    }
    s
}

/// The deterministic summary of one replay.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ReplaySummary {
    /// Trace name.
    pub trace: String,
    /// Policy name.
    pub policy: String,
    /// Seed.
    pub seed: u64,
    /// Inflation target (multiple of GPU capacity), if any.
    pub inflate: Option<f64>,
    /// Nodes.
    pub nodes: usize,
    /// GPU capacity, milli-GPU.
    pub capacity_gpu_millis: i64,
    /// Pods in the original trace.
    pub trace_pods: usize,
    /// Typical pod types used by FGD and the fragmentation measure.
    pub typical_pod_types: usize,
    /// Pods attempted (after inflation).
    pub pods_attempted: usize,
    /// Pods placed.
    pub pods_scheduled: usize,
    /// Pods that fit nowhere.
    pub pods_failed: usize,
    /// Arrived GPU demand at the end, % of capacity.
    pub arrived_gpu_pct: f64,
    /// Allocated GPU at the end, % of capacity.
    pub alloc_gpu_pct: f64,
    /// Fragmentation ratio at the end, % of idle GPU.
    pub frag_ratio_pct: f64,
    /// Unallocated GPU % at 100 % arrived demand (the paper's Fig. 9a / 11–14 metric).
    pub unallocated_gpu_pct_at_100: Option<f64>,
    /// Fragmentation ratio at 100 % arrived demand.
    pub frag_ratio_pct_at_100: Option<f64>,
}

/// Summarises a replay.
pub fn summarize(trace: &str, trace_pods: usize, cfg: &ReplayConfig, r: &Replay) -> ReplaySummary {
    let cap = r.capacity_gpu_millis.max(1) as f64;
    let last = r.placements.last();
    ReplaySummary {
        trace: trace.to_string(),
        policy: cfg.policy.name().to_string(),
        seed: cfg.seed,
        inflate: cfg.inflate,
        nodes: r.nodes.len(),
        capacity_gpu_millis: r.capacity_gpu_millis,
        trace_pods,
        typical_pod_types: r.typical.pods.len(),
        pods_attempted: r.placements.len(),
        pods_scheduled: r.placements.iter().filter(|p| p.node.is_some()).count(),
        pods_failed: r.placements.iter().filter(|p| p.node.is_none()).count(),
        arrived_gpu_pct: engine::py_round(last.map(|p| p.arrived_gpu_millis as f64 / cap * 100.0).unwrap_or(0.0), 2),
        alloc_gpu_pct: engine::py_round(last.map(|p| p.allocated_gpu_millis as f64 / cap * 100.0).unwrap_or(0.0), 2),
        frag_ratio_pct: engine::py_round(last.map(|p| r.frag_ratio_pct(p)).unwrap_or(0.0), 2),
        unallocated_gpu_pct_at_100: r.alloc_pct_at(100).map(|a| engine::py_round(100.0 - a, 2)),
        frag_ratio_pct_at_100: r.frag_ratio_pct_at(100),
    }
}

fn io(dir: &Path, e: std::io::Error) -> String {
    format!("cannot write in {}: {e}", dir.display())
}

/// Writes the files of one run into `dir`.
pub fn write_run(dir: &Path, s: &ReplaySummary, r: &Replay, placements: bool, charts: bool) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    if placements {
        write_atomic(dir, "placement.csv", placement_csv(r).as_bytes()).map_err(|e| io(dir, e))?;
    }
    let mut json = serde_json::to_string_pretty(s).map_err(|e| e.to_string())?;
    json.push('\n');
    write_atomic(dir, "summary.json", json.as_bytes()).map_err(|e| io(dir, e))?;
    if charts {
        let cap = r.capacity_gpu_millis.max(1) as f64;
        let pts = |f: &dyn Fn(&engine::Placement) -> f64| -> Vec<(f64, f64)> {
            r.placements.iter().map(|p| (p.arrived_gpu_millis as f64 / cap * 100.0, f(p))).collect()
        };
        let alloc = pts(&|p| p.allocated_gpu_millis as f64 / cap * 100.0);
        let frag = pts(&|p| r.frag_ratio_pct(p));
        let title = format!("{} — {} (seed {})", s.trace, s.policy, s.seed);
        let svg = charts::line_chart(
            &title,
            "arrived GPU demand (% of capacity)",
            "GPU allocated (%)",
            &[(s.policy.clone(), alloc)],
        );
        write_atomic(dir, "alloc.svg", svg.as_bytes()).map_err(|e| io(dir, e))?;
        let svg = charts::line_chart(
            &title,
            "arrived GPU demand (% of capacity)",
            "fragmentation (% of idle GPU)",
            &[(s.policy.clone(), frag)],
        );
        write_atomic(dir, "frag.svg", svg.as_bytes()).map_err(|e| io(dir, e))?;
    }
    Ok(())
}

struct Job {
    input: usize,
    cfg: ReplayConfig,
}

struct Outcome {
    summary: ReplaySummary,
    curve: Vec<(i64, f64)>,
    wall_ms: f64,
}

/// Runs `kubesim replay`; returns the exit status.
pub fn main(a: ReplayArgs) -> i32 {
    match run_cli(&a) {
        Ok(()) => 0,
        Err(CliError::Input(e)) => {
            eprintln!("error: {e}");
            crate::cli::EXIT_INPUT
        }
        Err(CliError::Usage(e)) => {
            eprintln!("error: {e}");
            crate::cli::EXIT_INPUT
        }
        Err(CliError::Run(e)) => {
            eprintln!("error: {e}");
            crate::cli::EXIT_FAILURE
        }
    }
}

enum CliError {
    Input(InputError),
    Usage(String),
    Run(String),
}

fn run_cli(a: &ReplayArgs) -> Result<(), CliError> {
    let policies: Vec<Policy> = match &a.policies {
        Some(list) => list
            .split(',')
            .map(|p| Policy::parse(p.trim()).ok_or_else(|| CliError::Usage(format!("unknown policy `{p}`"))))
            .collect::<Result<_, _>>()?,
        None => {
            vec![Policy::parse(&a.policy).ok_or_else(|| CliError::Usage(format!("unknown policy `{}`", a.policy)))?]
        }
    };
    let seeds = match &a.seeds {
        Some(s) => parse_seeds(s).map_err(CliError::Usage)?,
        None => vec![a.seed],
    };
    if let Some(f) = a.inflate
        && !(f.is_finite() && f > 0.0 && f <= 100.0)
    {
        return Err(CliError::Usage(format!("--inflate must be in (0, 100], got {f}")));
    }
    let inputs: Vec<ReplayInput> =
        a.pods.iter().map(|p| load_input(&a.format, p, &a.nodes)).collect::<Result<_, _>>().map_err(CliError::Input)?;
    let mut jobs = Vec::new();
    for (i, _) in inputs.iter().enumerate() {
        for p in &policies {
            for s in &seeds {
                jobs.push(Job {
                    input: i,
                    cfg: ReplayConfig { policy: *p, seed: *s, inflate: a.inflate, shuffle: !a.no_shuffle },
                });
            }
        }
    }
    if jobs.len() > MAX_RUNS {
        return Err(CliError::Usage(format!("{} runs is more than replay::MAX_RUNS ({MAX_RUNS})", jobs.len())));
    }
    let single = jobs.len() == 1;
    let threads = a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<Outcome, String>>>> =
        jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|sc| {
        for _ in 0..threads.min(jobs.len()) {
            sc.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(job) = jobs.get(k) else { break };
                    let input = &inputs[job.input];
                    let t0 = std::time::Instant::now();
                    let r = engine::run(&input.pods, &input.nodes, &job.cfg);
                    let wall_ms = t0.elapsed().as_secs_f64() * 1000.0;
                    let summary = summarize(&input.name, input.pods.len(), &job.cfg, &r);
                    let dir = if single {
                        a.out.clone()
                    } else {
                        a.out.join(&input.name).join(job.cfg.policy.name()).join(format!("seed-{}", job.cfg.seed))
                    };
                    let out = write_run(&dir, &summary, &r, single || a.placements, single).map(|()| Outcome {
                        curve: r.alloc_curve(),
                        summary,
                        wall_ms,
                    });
                    if !a.quiet && !single {
                        eprintln!("{} {} seed {}: {:.0} ms", input.name, job.cfg.policy.name(), job.cfg.seed, wall_ms);
                    }
                    if let Ok(mut slot) = results[k].lock() {
                        *slot = Some(out);
                    }
                }
            });
        }
    });
    let mut outcomes = Vec::with_capacity(jobs.len());
    for r in results {
        match r.into_inner().ok().flatten() {
            Some(Ok(o)) => outcomes.push(o),
            Some(Err(e)) => return Err(CliError::Run(e)),
            None => return Err(CliError::Run("a replay thread failed".into())),
        }
    }
    if single {
        let o = &outcomes[0];
        let run = serde_json::json!({"wall_ms": o.wall_ms, "pods_attempted": o.summary.pods_attempted});
        write_atomic(&a.out, "run.json", format!("{run:#}\n").as_bytes()).map_err(|e| CliError::Run(io(&a.out, e)))?;
        if !a.quiet {
            let s = &o.summary;
            println!(
                "{} {} seed {}: {} pods, {} placed, {} failed; GPU allocated {:.2} % at {:.2} % arrived; unallocated at 100 %: {}; {:.0} ms; outputs in {}",
                s.trace,
                s.policy,
                s.seed,
                s.pods_attempted,
                s.pods_scheduled,
                s.pods_failed,
                s.alloc_gpu_pct,
                s.arrived_gpu_pct,
                s.unallocated_gpu_pct_at_100.map(|v| format!("{v:.2} %")).unwrap_or_else(|| "-".into()),
                o.wall_ms,
                a.out.display()
            );
        }
        return Ok(());
    }
    let names: Vec<String> = inputs.iter().map(|i| i.name.clone()).collect();
    write_aggregate(&a.out, &names, &policies, &outcomes).map_err(CliError::Run)?;
    if !a.quiet {
        print!("{}", table_md(&names, &policies, &outcomes));
        println!("outputs in {}", a.out.display());
    }
    Ok(())
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let sd = if v.len() > 1 {
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
    } else {
        0.0
    };
    (m, sd)
}

fn cell<'a>(outcomes: &'a [Outcome], trace: &str, p: Policy) -> impl Iterator<Item = &'a Outcome> {
    let trace = trace.to_string();
    outcomes.iter().filter(move |o| o.summary.trace == trace && o.summary.policy == p.name())
}

fn table_md(traces: &[String], policies: &[Policy], outcomes: &[Outcome]) -> String {
    let mut s = String::from("| trace |");
    for p in policies {
        let _ = write!(s, " {} |", p.name());
    }
    s.push_str("\n|---|");
    for _ in policies {
        s.push_str("---:|");
    }
    s.push('\n');
    for t in traces {
        let _ = write!(s, "| {t} |");
        for p in policies {
            let v: Vec<f64> = cell(outcomes, t, *p).filter_map(|o| o.summary.unallocated_gpu_pct_at_100).collect();
            let (m, sd) = mean_sd(&v);
            let _ = write!(s, " {m:.2} ± {sd:.2} |");
        }
        s.push('\n');
    }
    s
}

fn write_aggregate(out: &Path, traces: &[String], policies: &[Policy], outcomes: &[Outcome]) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let mut results = String::from(
        "trace,policy,seed,pods_attempted,pods_failed,unallocated_gpu_pct_at_100,frag_ratio_pct_at_100,alloc_gpu_pct_end\n",
    );
    let opt = |v: Option<f64>| v.map(|x| format!("{x:.2}")).unwrap_or_default();
    for o in outcomes {
        let s = &o.summary;
        let _ = writeln!(
            results,
            "{},{},{},{},{},{},{},{:.2}",
            s.trace,
            s.policy,
            s.seed,
            s.pods_attempted,
            s.pods_failed,
            opt(s.unallocated_gpu_pct_at_100),
            opt(s.frag_ratio_pct_at_100),
            s.alloc_gpu_pct
        );
    }
    write_atomic(out, "results.csv", results.as_bytes()).map_err(|e| io(out, e))?;
    let mut table = String::from("trace,policy,runs,unallocated_gpu_pct_mean,unallocated_gpu_pct_sd\n");
    let mut curves =
        String::from("trace,policy,arrived_gpu_pct,alloc_gpu_pct_median,alloc_gpu_pct_p25,alloc_gpu_pct_p75\n");
    let mut timing = serde_json::Map::new();
    for t in traces {
        let mut series = Vec::new();
        for p in policies {
            let runs: Vec<&Outcome> = cell(outcomes, t, *p).collect();
            let v: Vec<f64> = runs.iter().filter_map(|o| o.summary.unallocated_gpu_pct_at_100).collect();
            let (m, sd) = mean_sd(&v);
            let _ = writeln!(table, "{t},{},{},{m:.2},{sd:.2}", p.name(), v.len());
            let w: Vec<f64> = runs.iter().map(|o| o.wall_ms).collect();
            timing.insert(
                format!("{t}/{}", p.name()),
                serde_json::json!({"mean_wall_ms": mean_sd(&w).0, "runs": w.len()}),
            );
            let max_x = runs.iter().filter_map(|o| o.curve.last().map(|c| c.0)).max().unwrap_or(0);
            let mut pts = Vec::new();
            for x in 0..=max_x {
                let mut ys: Vec<f64> =
                    runs.iter().filter_map(|o| o.curve.iter().find(|c| c.0 == x).map(|c| c.1)).collect();
                if ys.is_empty() {
                    continue;
                }
                ys.sort_by(f64::total_cmp);
                let q = |f: f64| ys[((ys.len() - 1) as f64 * f).round() as usize];
                let _ = writeln!(curves, "{t},{},{x},{:.2},{:.2},{:.2}", p.name(), q(0.5), q(0.25), q(0.75));
                pts.push((x as f64, q(0.5)));
            }
            series.push((p.name().to_string(), pts));
        }
        let svg = charts::line_chart(
            &format!("GPU allocation, {t} (median over seeds)"),
            "arrived GPU demand (% of capacity)",
            "GPU allocated (%)",
            &series,
        );
        write_atomic(out, &format!("alloc_curve_{t}.svg"), svg.as_bytes()).map_err(|e| io(out, e))?;
    }
    write_atomic(out, "table.csv", table.as_bytes()).map_err(|e| io(out, e))?;
    let md = format!(
        "Unallocated GPU (%) at 100 % arrived GPU demand, mean ± standard deviation over seeds.\n\n{}",
        table_md(traces, policies, outcomes)
    );
    write_atomic(out, "table.md", md.as_bytes()).map_err(|e| io(out, e))?;
    write_atomic(out, "curves.csv", curves.as_bytes()).map_err(|e| io(out, e))?;
    write_atomic(out, "run.json", format!("{:#}\n", serde_json::Value::Object(timing)).as_bytes())
        .map_err(|e| io(out, e))?;
    Ok(())
}
