//! `kubesim compare`: the cross product of scenarios × `--set` values × schedulers × seeds,
//! run in parallel (rayon, `--jobs N`), each run into its own folder, then aggregated into
//! `runs.csv`, `comparison.csv`, charts and `report.html`.
//!
//! - **Plan order** (canonical, whatever the worker count or shard): scenario, then set
//!   combination (the cross product of the `--set` flags in the order given, values in the order
//!   given), then scheduler, then seed.
//! - **Layout**: run `k` writes `OUT/runs/<scenario>/<scheduler>/<set label>/seed-<n>/`; it is
//!   finished when its `summary.json` exists (written atomically, after every other
//!   deterministic file), and a finished run is never redone (resume after interruption).
//! - **Shards** ([`shard`]): a shard runs the plan's runs `k` with `k % N == I − 1` and writes
//!   `plan.json`; [`merge`] joins shard folders into exactly the files one process would write.
//! - **Results are collected by plan index**, never by completion order, and every aggregate
//!   is computed from the `summary.json` files, so resumed, sharded and single runs agree to
//!   the byte.

pub mod aggregate;
pub mod cli;
pub mod merge;
pub mod shard;
pub mod stats;

use crate::input::error::InputError;
use crate::input::scenario;
use crate::limits;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shard::Shard;
use std::path::{Path, PathBuf};

/// The scheduler label meaning "the scenario's own scheduler" (no override).
pub const AS_IN_SCENARIO: &str = "scenario";

/// Why a comparison failed.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A scenario or an override is invalid.
    #[error("{0}")]
    Input(#[from] InputError),
    /// A bad flag value.
    #[error("{0}")]
    Usage(String),
    /// Reading or writing the output folder failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A run failed.
    #[error("run {run}: {message}")]
    Run {
        /// The run's folder, relative to the output folder.
        run: String,
        /// What went wrong.
        message: String,
    },
}

impl CompareError {
    /// True for errors in the inputs (exit status 2).
    pub fn is_input(&self) -> bool {
        matches!(self, CompareError::Input(_) | CompareError::Usage(_))
    }
}

/// One scenario of a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanScenario {
    /// Path as given on the command line.
    pub path: String,
    /// Scenario name (its folder under `runs/`).
    pub name: String,
    /// SHA-256 of the scenario file, so that a changed file is not mixed with old results.
    pub sha256: String,
}

/// One `--set` flag: a path and the values it sweeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetAxis {
    /// Field path, e.g. `cluster.nodePools[0].count`.
    pub path: String,
    /// Values (YAML text), in the order given.
    pub values: Vec<String>,
}

/// Everything that decides the runs of a comparison (`plan.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Scenarios, in order.
    pub scenarios: Vec<PlanScenario>,
    /// `--set` axes, in order.
    pub sets: Vec<SetAxis>,
    /// Scheduler names (the first is the baseline of paired differences).
    pub schedulers: Vec<String>,
    /// Seeds, in order.
    pub seeds: Vec<u64>,
}

/// One run of a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRun {
    /// Position in the plan.
    pub index: usize,
    /// Index into `plan.scenarios`.
    pub scenario: usize,
    /// Index of the set combination.
    pub combo: usize,
    /// Index into `plan.schedulers`.
    pub scheduler: usize,
    /// Seed.
    pub seed: u64,
}

impl Plan {
    /// The set combinations, each as `path=value` overrides in axis order.
    pub fn combos(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = vec![vec![]];
        for axis in &self.sets {
            let mut next = Vec::with_capacity(out.len() * axis.values.len());
            for prefix in &out {
                for v in &axis.values {
                    let mut c = prefix.clone();
                    c.push(format!("{}={}", axis.path, v));
                    next.push(c);
                }
            }
            out = next;
        }
        out
    }

    /// Human label of a combination (`base` without `--set`).
    pub fn combo_label(combo: &[String]) -> String {
        if combo.is_empty() { "base".to_string() } else { combo.join(";") }
    }

    /// Every run, in canonical order.
    pub fn runs(&self) -> Vec<PlannedRun> {
        let n_combos = self.combos().len();
        let mut out = Vec::new();
        for s in 0..self.scenarios.len() {
            for c in 0..n_combos {
                for k in 0..self.schedulers.len() {
                    for &seed in &self.seeds {
                        out.push(PlannedRun { index: out.len(), scenario: s, combo: c, scheduler: k, seed });
                    }
                }
            }
        }
        out
    }

    /// The folder of a run, relative to the output folder.
    pub fn run_dir(&self, r: &PlannedRun, combos: &[Vec<String>]) -> PathBuf {
        PathBuf::from("runs")
            .join(dir_name(&self.scenarios[r.scenario].name))
            .join(dir_name(&self.schedulers[r.scheduler]))
            .join(dir_name(&Self::combo_label(&combos[r.combo])))
            .join(format!("seed-{}", r.seed))
    }

    /// The `--set` overrides of a run (combination, scheduler, seed).
    pub fn overrides(&self, r: &PlannedRun, combos: &[Vec<String>]) -> Vec<String> {
        let mut o = combos[r.combo].clone();
        let s = &self.schedulers[r.scheduler];
        if s != AS_IN_SCENARIO {
            o.push(format!("scheduler.name={s}"));
        }
        o.push(format!("seed={}", r.seed));
        o
    }
}

/// A file-system-safe folder name for a label: kept as is when safe and short, else cleaned
/// and suffixed with a hash of the label so that different labels never share a folder.
pub fn dir_name(label: &str) -> String {
    let clean: String =
        label.chars().map(|c| if c.is_ascii_alphanumeric() || "._=-".contains(c) { c } else { '_' }).collect();
    if clean == label && !label.is_empty() && label.len() <= 80 && !label.starts_with('.') {
        return clean;
    }
    let h = crate::run::output::hex(&Sha256::digest(label.as_bytes()));
    let short: String = clean.trim_start_matches('.').chars().take(60).collect();
    format!("{short}-{}", &h[..8])
}

/// Parses seeds: `1..20` (inclusive), `1..=20`, `3`, or a comma list of those.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let num = |x: &str| x.trim().parse::<u64>().map_err(|_| format!("--seeds {s:?}: {x:?} is not a whole number"));
        if let Some((a, b)) = part.split_once("..") {
            let (a, b) = (num(a)?, num(b.trim_start_matches('='))?);
            if b < a {
                return Err(format!("--seeds {s:?}: empty range {part}"));
            }
            if b - a >= limits::MAX_COMPARE_RUNS {
                return Err(format!(
                    "--seeds {s:?}: more than {} seeds (kubesim::limits::MAX_COMPARE_RUNS)",
                    limits::MAX_COMPARE_RUNS
                ));
            }
            out.extend(a..=b);
        } else {
            out.push(num(part)?);
        }
    }
    if out.is_empty() {
        return Err(format!("--seeds {s:?}: no seed"));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(d) = out.iter().find(|x| !seen.insert(**x)) {
        return Err(format!("--seeds {s:?}: seed {d} appears twice"));
    }
    Ok(out)
}

/// Splits a `--set PATH=V1,V2,...` flag into its path and values. Commas inside `[...]`,
/// `{...}` or quotes do not separate values, and `\,` is a literal comma.
pub fn parse_set(flag: &str) -> Result<SetAxis, String> {
    let (path, rest) = flag.split_once('=').ok_or_else(|| format!("--set {flag:?}: expected PATH=VALUE[,VALUE...]"))?;
    let mut values = Vec::new();
    let (mut cur, mut depth, mut quote) = (String::new(), 0i32, None::<char>);
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                cur.push(',');
                chars.next();
            }
            '"' | '\'' if quote.is_none() => {
                quote = Some(c);
                cur.push(c);
            }
            c if Some(c) == quote => {
                quote = None;
                cur.push(c);
            }
            '[' | '{' if quote.is_none() => {
                depth += 1;
                cur.push(c);
            }
            ']' | '}' if quote.is_none() => {
                depth -= 1;
                cur.push(c);
            }
            ',' if quote.is_none() && depth == 0 => values.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    values.push(cur);
    Ok(SetAxis { path: path.trim().to_string(), values })
}

/// Options of `kubesim compare`.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// Output folder.
    pub out: PathBuf,
    /// Worker threads (0: one per core).
    pub jobs: usize,
    /// The slice to run.
    pub shard: Shard,
    /// Show a progress bar (only honoured when stderr is a terminal).
    pub progress: bool,
    /// Also write PNG charts.
    pub png: bool,
}

/// What a comparison did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompareOutcome {
    /// Plan indices of the runs executed now.
    pub executed: Vec<usize>,
    /// Plan indices of this shard's runs found finished and skipped.
    pub skipped: Vec<usize>,
    /// True when `runs.csv`, `comparison.csv`, charts and `report.html` were written.
    pub aggregated: bool,
}

/// Builds the plan: loads every scenario (for its name and digest) and parses the flags.
pub fn build_plan(
    scenarios: &[PathBuf],
    schedulers: Option<&str>,
    seeds: &str,
    sets: &[String],
) -> Result<Plan, CompareError> {
    if scenarios.is_empty() {
        return Err(CompareError::Usage("give at least one scenario".into()));
    }
    let mut ps: Vec<PlanScenario> = Vec::new();
    for p in scenarios {
        let shown = p.display().to_string();
        let text = std::fs::read(p).map_err(|e| InputError::file(&shown, format!("cannot read: {e}")))?;
        let sc = scenario::load(p, &[])?;
        if ps.iter().any(|o| o.name == sc.name) {
            return Err(CompareError::Usage(format!(
                "two scenarios are named {:?}; give them different metadata.name",
                sc.name
            )));
        }
        ps.push(PlanScenario {
            path: shown,
            name: sc.name.clone(),
            sha256: crate::run::output::hex(&Sha256::digest(&text)),
        });
    }
    let schedulers: Vec<String> = match schedulers {
        None => vec![AS_IN_SCENARIO.to_string()],
        Some(s) => s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect(),
    };
    if schedulers.is_empty() {
        return Err(CompareError::Usage("--schedulers: no scheduler".into()));
    }
    for (i, s) in schedulers.iter().enumerate() {
        if schedulers[..i].contains(s) {
            return Err(CompareError::Usage(format!("--schedulers: {s:?} appears twice")));
        }
    }
    let seeds = parse_seeds(seeds).map_err(CompareError::Usage)?;
    let sets = sets.iter().map(|s| parse_set(s)).collect::<Result<Vec<_>, _>>().map_err(CompareError::Usage)?;
    let plan = Plan { scenarios: ps, sets, schedulers, seeds };
    let total = (plan.scenarios.len() as u64)
        .saturating_mul(plan.combos().len() as u64)
        .saturating_mul(plan.schedulers.len() as u64)
        .saturating_mul(plan.seeds.len() as u64);
    if total > limits::MAX_COMPARE_RUNS {
        return Err(CompareError::Usage(format!(
            "the plan has {total} runs, more than {} (kubesim::limits::MAX_COMPARE_RUNS)",
            limits::MAX_COMPARE_RUNS
        )));
    }
    Ok(plan)
}

/// Loads every (scenario, set combination, scheduler) once, so that a bad value fails before
/// any run starts.
pub fn validate(plan: &Plan) -> Result<(), CompareError> {
    let combos = plan.combos();
    for r in plan.runs().iter().filter(|r| r.seed == plan.seeds[0]) {
        scenario::load(Path::new(&plan.scenarios[r.scenario].path), &plan.overrides(r, &combos))?;
    }
    Ok(())
}

/// Writes `plan.json`, refusing a folder that holds results of a different scenario file
/// under the same name.
pub fn write_plan(out: &Path, plan: &Plan) -> Result<(), CompareError> {
    std::fs::create_dir_all(out)?;
    let p = out.join("plan.json");
    if let Ok(old) = std::fs::read(&p)
        && let Ok(old) = serde_json::from_slice::<Plan>(&old)
    {
        for s in &plan.scenarios {
            if let Some(o) = old.scenarios.iter().find(|o| o.name == s.name && o.sha256 != s.sha256) {
                return Err(CompareError::Usage(format!(
                    "{} holds results of another version of scenario {:?} ({}); use another --out or delete it",
                    out.display(),
                    s.name,
                    o.path
                )));
            }
        }
    }
    let mut bytes = serde_json::to_vec_pretty(plan).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    // Shards sharing one folder write the same bytes at the same time: a temporary name per
    // process keeps their renames from colliding.
    let tmp = out.join(format!(".plan.json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, &bytes)?;
    std::fs::rename(&tmp, &p)?;
    Ok(())
}

fn progress_bar(n: usize, wanted: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !wanted || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(n as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {elapsed} elapsed, about {eta} left  {msg}")
    {
        pb.set_style(style);
    }
    pb
}

/// Runs this shard's unfinished runs of `plan` into `opts.out`, then, for the whole plan,
/// writes the aggregate files.
pub fn compare(plan: &Plan, opts: &CompareOptions) -> Result<CompareOutcome, CompareError> {
    validate(plan)?;
    write_plan(&opts.out, plan)?;
    let combos = plan.combos();
    let mine: Vec<PlannedRun> = plan.runs().into_iter().filter(|r| opts.shard.contains(r.index)).collect();
    let (done, todo): (Vec<&PlannedRun>, Vec<&PlannedRun>) =
        mine.iter().partition(|r| opts.out.join(plan.run_dir(r, &combos)).join("summary.json").exists());
    let pb = progress_bar(todo.len(), opts.progress);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .map_err(|e| CompareError::Usage(format!("--jobs: {e}")))?;
    let results: Vec<Result<(), CompareError>> = pool.install(|| {
        todo.par_iter()
            .map(|r| {
                let res = run_one(plan, r, &combos, &opts.out);
                pb.inc(1);
                res
            })
            .collect()
    });
    pb.finish_and_clear();
    for r in results {
        r?;
    }
    let mut outcome = CompareOutcome {
        executed: todo.iter().map(|r| r.index).collect(),
        skipped: done.iter().map(|r| r.index).collect(),
        aggregated: false,
    };
    if opts.shard.is_all() {
        aggregate::write(&opts.out, plan, opts.png)?;
        outcome.aggregated = true;
    }
    Ok(outcome)
}

fn run_one(plan: &Plan, r: &PlannedRun, combos: &[Vec<String>], out: &Path) -> Result<(), CompareError> {
    let rel = plan.run_dir(r, combos);
    let dir = out.join(&rel);
    std::fs::create_dir_all(&dir)?;
    let sc = scenario::load(Path::new(&plan.scenarios[r.scenario].path), &plan.overrides(r, combos))?;
    crate::run::run_to_dir(&sc, &dir)
        .map_err(|e| CompareError::Run { run: rel.display().to_string(), message: e.to_string() })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse_ranges_and_lists() {
        assert_eq!(parse_seeds("1..3"), Ok(vec![1, 2, 3]));
        assert_eq!(parse_seeds("1..=2,7"), Ok(vec![1, 2, 7]));
        assert_eq!(parse_seeds("5"), Ok(vec![5]));
        assert!(parse_seeds("3..1").is_err());
        assert!(parse_seeds("1,1").is_err());
        assert!(parse_seeds("x").is_err());
    }

    #[test]
    fn set_values_split_on_top_level_commas_only() {
        let a = parse_set("cluster.nodePools[0].count=10,20,40").unwrap();
        assert_eq!(
            (a.path.as_str(), a.values),
            ("cluster.nodePools[0].count", vec!["10".into(), "20".into(), "40".into()])
        );
        assert_eq!(parse_set("z=[a,b],{x: 1, y: 2}").unwrap().values, vec!["[a,b]", "{x: 1, y: 2}"]);
        assert_eq!(parse_set(r"d=a\,b,'c,d'").unwrap().values, vec!["a,b", "'c,d'"]);
        assert!(parse_set("novalue").is_err());
    }

    #[test]
    fn the_plan_orders_runs_by_scenario_set_scheduler_then_seed() {
        let plan = Plan {
            scenarios: vec![PlanScenario { path: "a.yaml".into(), name: "a".into(), sha256: String::new() }],
            sets: vec![SetAxis { path: "x".into(), values: vec!["1".into(), "2".into()] }],
            schedulers: vec!["default".into(), "most-allocated".into()],
            seeds: vec![1, 2],
        };
        let runs = plan.runs();
        assert_eq!(runs.len(), 8);
        assert_eq!((runs[1].combo, runs[1].scheduler, runs[1].seed), (0, 0, 2));
        assert_eq!((runs[2].combo, runs[2].scheduler, runs[2].seed), (0, 1, 1));
        assert_eq!((runs[4].combo, runs[4].scheduler, runs[4].seed), (1, 0, 1));
        let combos = plan.combos();
        assert_eq!(plan.run_dir(&runs[4], &combos), PathBuf::from("runs/a/default/x=2/seed-1"));
        assert_eq!(plan.overrides(&runs[3], &combos), vec!["x=1", "scheduler.name=most-allocated", "seed=2"]);
    }

    #[test]
    fn unsafe_labels_get_a_cleaned_name_and_a_hash() {
        assert_eq!(dir_name("default"), "default");
        let a = dir_name("cluster.nodePools[0].count=10");
        assert!(
            a.starts_with("cluster.nodePools_0_.count=10-") && a.len() == "cluster.nodePools_0_.count=10-".len() + 8
        );
        assert_ne!(dir_name("a/b"), dir_name("a_b"));
        assert_ne!(dir_name(".."), "..");
    }
}
