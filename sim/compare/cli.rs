//! The `compare`, `merge` and `report` commands' flags and their handlers (kept here so that
//! `sim/cli.rs` only dispatches).

use crate::cli::{EXIT_FAILURE, EXIT_INPUT};
use crate::compare::{CompareError, CompareOptions, build_plan, compare, merge, shard};
use std::path::PathBuf;

/// `kubesim compare` flags.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  kubesim compare scenarios/quickstart.yaml --schedulers default,most-allocated --seeds 1..20
  kubesim compare scenarios/quickstart.yaml --schedulers default --seeds 1..5 --set 'cluster.nodePools[0].count=4,8,16'
  kubesim compare a.yaml b.yaml --schedulers default,most-allocated --seeds 1..100 --shard 3/10 --out sweep
  kubesim merge sweep

Runs the cross product scenarios x --set values x schedulers x seeds, each into OUT/runs/<scenario>/<scheduler>/<set>/seed-<n>/,
then writes OUT/runs.csv, OUT/comparison.csv, OUT/charts/ and OUT/report.html. Finished runs (summary.json present) are not redone.
--set PATH=V1,V2 sweeps over the values (YAML); commas inside [..], {..} or quotes stay, and \\, is a literal comma.
Shards: --shard I/N (1-based), or SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX + --shard-count N;
a shard writes its runs and plan.json only; `kubesim merge` then writes the aggregates.")]
pub struct CompareArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Schedulers, comma-separated (see `kubesim schedulers`); the first is the baseline.
    /// Default: each scenario's own scheduler.
    #[arg(long)]
    pub schedulers: Option<String>,
    /// Seeds: `1..20` (inclusive), `1,5,9`, or a mix.
    #[arg(long, default_value = "1..5")]
    pub seeds: String,
    /// Override or sweep a scenario field: PATH=VALUE[,VALUE...].
    #[arg(long = "set", value_name = "PATH=VALUES")]
    pub set: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Run only slice I of N (1-based), e.g. 2/8.
    #[arg(long)]
    pub shard: Option<String>,
    /// Number of shards of a Kubernetes Indexed Job (with JOB_COMPLETION_INDEX).
    #[arg(long)]
    pub shard_count: Option<u64>,
    /// Output folder.
    #[arg(long, default_value = "out/compare")]
    pub out: PathBuf,
    /// Also write PNG charts.
    #[arg(long)]
    pub png: bool,
    /// Print nothing but errors (and no progress bar).
    #[arg(long, short)]
    pub quiet: bool,
}

/// `kubesim merge` flags.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  kubesim merge out/sweep                      # shards that shared one folder
  kubesim merge shard-1 shard-2 shard-3 --out out/sweep")]
pub struct MergeArgs {
    /// Folders written by the shards of one plan.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Output folder (default: the first folder).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write PNG charts.
    #[arg(long)]
    pub png: bool,
}

/// `kubesim report` flags.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  kubesim report out/quickstart               # a `kubesim run` folder: charts/ and report.html
  kubesim report out/compare --png            # a `kubesim compare` folder: the aggregates")]
pub struct ReportArgs {
    /// An output folder of `kubesim run` or `kubesim compare`.
    pub dir: PathBuf,
    /// The scenario file, shown in a run's report.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Also write PNG charts.
    #[arg(long)]
    pub png: bool,
}

fn fail(e: CompareError) -> i32 {
    eprintln!("error: {e}");
    if e.is_input() { EXIT_INPUT } else { EXIT_FAILURE }
}

/// Runs `kubesim compare`.
pub fn compare_main(a: CompareArgs) -> i32 {
    let plan = match build_plan(&a.scenarios, a.schedulers.as_deref(), &a.seeds, &a.set) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let shard = match shard::resolve(a.shard.as_deref(), a.shard_count, |k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(e) => return fail(CompareError::Usage(e)),
    };
    let opts = CompareOptions { out: a.out.clone(), jobs: a.jobs.unwrap_or(0), shard, progress: !a.quiet, png: a.png };
    let started = std::time::Instant::now();
    match compare(&plan, &opts) {
        Ok(o) => {
            if !a.quiet {
                let total = plan.runs().len();
                let which = if shard.is_all() { String::new() } else { format!("shard {shard}: ") };
                println!(
                    "{which}{} runs done now, {} already finished, of {total} in the plan ({:.1} s)",
                    o.executed.len(),
                    o.skipped.len(),
                    started.elapsed().as_secs_f64()
                );
                if o.aggregated {
                    println!("runs.csv, comparison.csv, charts/ and report.html in {}", a.out.display());
                } else {
                    println!("when every shard is done: kubesim merge {}", a.out.display());
                }
            }
            0
        }
        Err(e) => fail(e),
    }
}

/// Runs `kubesim merge`.
pub fn merge_main(a: MergeArgs) -> i32 {
    let out = a.out.clone().unwrap_or_else(|| a.dirs[0].clone());
    match merge::merge(&a.dirs, &out, a.png) {
        Ok(n) => {
            println!(
                "merged ({n} runs copied); runs.csv, comparison.csv, charts/ and report.html in {}",
                out.display()
            );
            0
        }
        Err(e) => fail(e),
    }
}

/// Runs `kubesim report`.
pub fn report_main(a: ReportArgs) -> i32 {
    if a.dir.join("plan.json").exists() {
        return match merge::rebuild(&a.dir, a.png) {
            Ok(()) => 0,
            Err(e) => fail(e),
        };
    }
    let opts = crate::report::ReportOptions { png: a.png, scenario_file: a.scenario };
    match crate::report::write_run_report(&a.dir, &opts) {
        Ok(()) => {
            println!("{}", a.dir.join("report.html").display());
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILURE
        }
    }
}
