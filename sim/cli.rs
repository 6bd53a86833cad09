//! The command line: `kubesim run`, `validate`, `explain`, `compare`, `merge`, `report` and
//! `schedulers`.
//!
//! Exit status: 0 on success, 2 for any problem with the inputs (with a message naming file,
//! line, column and field), 1 for anything else (an output folder that cannot be written).

use crate::input::scenario;
use crate::run::{RunOptions, run};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit status for bad input.
pub const EXIT_INPUT: i32 = 2;
/// Exit status for other failures.
pub const EXIT_FAILURE: i32 = 1;

#[derive(Parser, Debug)]
#[command(
    name = "kubesim",
    version,
    about = "A deterministic discrete-event simulator of a Kubernetes cluster for scheduling research",
    after_help = "Examples:\n  kubesim run scenarios/quickstart.yaml\n  kubesim run scenarios/node-failures.yaml --seed 7 --out out/nf\n  kubesim validate scenarios/poisson-arrivals.yaml\n  kubesim schedulers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one simulation and write its output folder.
    #[command(
        after_help = "Examples:\n  kubesim run scenarios/quickstart.yaml\n  kubesim run scenarios/quickstart.yaml --seed 7 --out out/q7\n  kubesim run scenarios/quickstart.yaml --set cluster.nodePools[0].count=20 --set scheduler.name=most-allocated\n  kubesim run scenarios/quickstart.yaml --policy 'exec:python3 examples/policy.py' --policy-timeout 5s\n\nOutputs (in --out, default out/<scenario>): summary.json, pods.csv, nodes.csv, timeseries.csv, events.jsonl, run.json, charts/*.svg, report.html"
    )]
    Run {
        /// The scenario file.
        scenario: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: out/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override any scenario field: path=value (YAML value), e.g. cluster.nodePools[0].count=20.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Check every cluster invariant after every event (slow).
        #[arg(long)]
        check_invariants: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Placement policy: a built-in scheduler name (see `kubesim schedulers`), or
        /// exec:COMMAND for an out-of-process policy speaking docs/policy-protocol.md (run in the
        /// current directory).
        #[arg(long, value_name = "NAME|exec:COMMAND")]
        policy: Option<String>,
        /// Longest wait for one answer of an exec: policy, e.g. 10s, 500ms (default 10s).
        #[arg(long, value_name = "DURATION")]
        policy_timeout: Option<String>,
        #[command(flatten)]
        flags: crate::run::control::RunFlags,
        /// Also write the charts as PNG (charts/*.png).
        #[arg(long)]
        png: bool,
    },
    /// Continue a run from its checkpoint (written by `run --checkpoint-every`).
    #[command(
        after_help = "Example:\n  kubesim run big.yaml --out out/big --checkpoint-every 1h\n  kubesim resume out/big/checkpoint.bin"
    )]
    Resume(crate::run::control::ResumeArgs),
    /// Run the cross product of scenarios, --set values, schedulers and seeds, and compare them.
    Compare(crate::compare::cli::CompareArgs),
    /// Join the folders of `compare --shard` slices into the files of a single comparison.
    Merge(crate::compare::cli::MergeArgs),
    /// Rebuild the charts and report.html of a `run` or `compare` output folder.
    Report(crate::compare::cli::ReportArgs),
    /// Check a scenario and everything it references, without running it.
    #[command(
        after_help = "Examples:\n  kubesim validate scenarios/quickstart.yaml\n  kubesim validate my.yaml --set duration=2h"
    )]
    Validate {
        /// The scenario file.
        scenario: PathBuf,
        /// Overrides, as for `run`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Run one scheduling cycle for a pending pod and show each node's verdict and scores.
    #[command(
        after_help = "Examples:\n  kubesim explain -f nodes.yaml -f pods.yaml --pod default/web-1\n  kubesim explain -f cluster.yaml --config sched.yaml --pod web-1 --json\n\nThe manifests are ordinary Kubernetes YAML: Nodes (status.allocatable / capacity, status.images), Pods already bound (spec.nodeName), the pending pod, PriorityClasses and Namespaces."
    )]
    Explain {
        /// Manifest files (repeat -f for several).
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<PathBuf>,
        /// A KubeSchedulerConfiguration (default: the default profile).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The pending pod: [NAMESPACE/]NAME.
        #[arg(long)]
        pod: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Seed of the tie-break among equal best nodes.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// List the built-in schedulers and plugins.
    #[command(after_help = "Example:\n  kubesim schedulers")]
    Schedulers,
    /// Replay a trace arrival-only with a research placement policy (the FGD experiment).
    Replay(crate::replay::ReplayArgs),
}

/// Runs the command line; returns the exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_INPUT } else { 0 };
        }
    };
    match cli.command {
        Command::Resume(args) => crate::run::control::resume_command(&args),
        Command::Compare(a) => crate::compare::cli::compare_main(a),
        Command::Merge(a) => crate::compare::cli::merge_main(a),
        Command::Report(a) => crate::compare::cli::report_main(a),
        Command::Run {
            scenario: path,
            seed,
            out,
            mut set,
            check_invariants,
            quiet,
            flags,
            png,
            policy,
            policy_timeout,
        } => {
            if let Some(s) = seed {
                set.push(format!("seed={s}"));
            }
            let mut sc = match scenario::load(&path, &set) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_INPUT;
                }
            };
            if policy.is_some() && flags.checkpoint_every.is_some() {
                eprintln!(
                    "error: --checkpoint-every cannot be combined with --policy (a resumed run reloads the scenario \
                     alone); put the policy in the scenario's scheduler.policy instead"
                );
                return EXIT_INPUT;
            }
            if let Err(e) =
                crate::run::placer::apply_policy_flags(&mut sc, policy.as_deref(), policy_timeout.as_deref())
            {
                eprintln!("error: {e}");
                return EXIT_INPUT;
            }
            let out_dir = out.unwrap_or_else(|| PathBuf::from("out").join(&sc.name));
            let mut opts = RunOptions { out_dir: Some(out_dir.clone()), check_invariants, ..RunOptions::default() };
            if let Err(e) = crate::run::control::apply(&flags, &mut opts, &path, &set) {
                eprintln!("error: {e}");
                return EXIT_INPUT;
            }
            match run(&sc, &opts) {
                Ok(r) => {
                    let ropts = crate::report::ReportOptions { png, scenario_file: Some(path.clone()) };
                    if let Err(e) = crate::report::write_run_report(&out_dir, &ropts) {
                        eprintln!("error: cannot write the report: {e}");
                        return EXIT_FAILURE;
                    }
                    if !quiet {
                        if !sc.ignored_fields.is_empty() {
                            eprintln!("note: these manifest fields are not modelled and were ignored:");
                            for f in &sc.ignored_fields {
                                eprintln!("  {f}");
                            }
                        }
                        let c = &r.summary.counts;
                        println!(
                            "{}: seed {}, {} simulated, {} pods created, {} scheduled, {} unschedulable at the end; pending p99 {} us; outputs in {}",
                            sc.name,
                            sc.seed,
                            crate::engine::time::SimDuration(r.summary.simulated_duration_us),
                            c.pods_created,
                            c.pods_scheduled,
                            c.unschedulable_at_end,
                            r.summary.pending_time_us.p99,
                            out_dir.display()
                        );
                    }
                    0
                }
                Err(e) => crate::run::control::report_error(&e),
            }
        }
        Command::Validate { scenario: path, set } => match scenario::load(&path, &set) {
            Ok(sc) => {
                println!(
                    "{}: ok ({} nodes, {} initial pods, {} arrival generators, {} timeline actions, scheduler {})",
                    path.display(),
                    sc.nodes.len(),
                    sc.initial_pods.len(),
                    sc.arrivals.len(),
                    sc.timeline.len(),
                    sc.scheduler
                );
                for f in &sc.ignored_fields {
                    println!("  ignored (not modelled): {f}");
                }
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_INPUT
            }
        },
        Command::Explain { files, config, pod, json, seed } => {
            match crate::explain::explain(&files, config.as_deref(), &pod, seed) {
                Ok(e) => {
                    if json {
                        match serde_json::to_string_pretty(&e) {
                            Ok(s) => println!("{s}"),
                            Err(err) => {
                                eprintln!("error: {err}");
                                return EXIT_FAILURE;
                            }
                        }
                    } else {
                        print!("{}", crate::explain::render_table(&e));
                    }
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    EXIT_INPUT
                }
            }
        }
        Command::Replay(a) => crate::replay::main(a),
        Command::Schedulers => {
            println!("Schedulers (scenario `scheduler.name`, or `kubesim run --policy NAME`):");
            for (n, d) in crate::run::schedulers::DESCRIPTIONS {
                println!("  {n:<16} {d}");
            }
            println!("Plugins of the default profile:");
            for p in crate::scheduler::registry::BUILT_IN {
                println!("  {p}");
            }
            println!("Out-of-process policies: --policy exec:COMMAND (JSON lines, see docs/policy-protocol.md)");
            0
        }
    }
}
