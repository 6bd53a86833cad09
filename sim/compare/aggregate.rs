//! The aggregate files of a comparison, computed only from the runs' `summary.json` and
//! `pods.csv` files in plan order: `runs.csv`, `comparison.csv`, `charts/` and `report.html`.
//!
//! Headline metrics ([`METRICS`], in this order, units in the names): pending time mean and
//! p99, start-up latency p99, makespan (µs); pods scheduled, unschedulable at the end,
//! preempted, evicted (counts); time-weighted CPU, memory and GPU allocation (ratios). A metric
//! missing from a run (makespan when no pod succeeded) is left out of that group's statistics.

use crate::compare::stats::Summary;
use crate::compare::{CompareError, Plan, PlannedRun};
use crate::report::charts::{Bar, Chart, Kind, Series, cdf_points};
use crate::report::data::{Table, pending_seconds};
use crate::report::html::Page;
use crate::run::output::write_atomic;
use std::path::Path;

/// A headline metric: its column name, where it sits in `summary.json`, and which way is better.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// Column name (with unit).
    pub name: &'static str,
    /// Path in `summary.json`.
    pub path: &'static [&'static str],
    /// True when lower values are better.
    pub lower_is_better: bool,
    /// Chart axis label.
    pub label: &'static str,
    /// Factor from the column's unit to the chart's.
    pub chart_scale: f64,
}

/// The headline metrics, in column order.
pub const METRICS: &[Metric] = &[
    Metric {
        name: "pending_time_mean_us",
        path: &["pending_time_us", "mean"],
        lower_is_better: true,
        label: "mean pending time (s)",
        chart_scale: 1e-6,
    },
    Metric {
        name: "pending_time_p99_us",
        path: &["pending_time_us", "p99"],
        lower_is_better: true,
        label: "p99 pending time (s)",
        chart_scale: 1e-6,
    },
    Metric {
        name: "startup_latency_p99_us",
        path: &["startup_latency_p99_us"],
        lower_is_better: true,
        label: "p99 start-up latency (s)",
        chart_scale: 1e-6,
    },
    Metric {
        name: "makespan_us",
        path: &["makespan_us"],
        lower_is_better: true,
        label: "makespan (s)",
        chart_scale: 1e-6,
    },
    Metric {
        name: "pods_scheduled",
        path: &["counts", "pods_scheduled"],
        lower_is_better: false,
        label: "pods scheduled",
        chart_scale: 1.0,
    },
    Metric {
        name: "unschedulable_at_end",
        path: &["counts", "unschedulable_at_end"],
        lower_is_better: true,
        label: "pods unschedulable at the end",
        chart_scale: 1.0,
    },
    Metric {
        name: "preempted",
        path: &["counts", "preempted"],
        lower_is_better: true,
        label: "pods preempted",
        chart_scale: 1.0,
    },
    Metric {
        name: "evicted",
        path: &["counts", "evicted"],
        lower_is_better: true,
        label: "pods evicted",
        chart_scale: 1.0,
    },
    Metric {
        name: "cpu_alloc_ratio",
        path: &["allocation", "cpu"],
        lower_is_better: false,
        label: "time-weighted CPU allocation (%)",
        chart_scale: 100.0,
    },
    Metric {
        name: "memory_alloc_ratio",
        path: &["allocation", "memory"],
        lower_is_better: false,
        label: "time-weighted memory allocation (%)",
        chart_scale: 100.0,
    },
    Metric {
        name: "gpu_alloc_ratio",
        path: &["allocation", "gpu"],
        lower_is_better: false,
        label: "time-weighted GPU allocation (%)",
        chart_scale: 100.0,
    },
    Metric {
        name: "gpu_unallocated_pct_at_end",
        path: &["gpu_at_end", "unallocated_pct"],
        lower_is_better: true,
        label: "GPU capacity unallocated at the end (%)",
        chart_scale: 1.0,
    },
];

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// One run's values, read back from its folder.
struct RunRow {
    run: PlannedRun,
    dir: String,
    values: Vec<Option<f64>>,
    cells: Vec<String>,
    scheduler_reported: String,
    digest: String,
}

fn read_runs(out: &Path, plan: &Plan) -> Result<Vec<RunRow>, CompareError> {
    let combos = plan.combos();
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for r in plan.runs() {
        let rel = plan.run_dir(&r, &combos);
        let p = out.join(&rel).join("summary.json");
        let Ok(bytes) = std::fs::read(&p) else {
            missing.push(rel.display().to_string());
            continue;
        };
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| io(format!("{}: not valid JSON: {e}", p.display())))?;
        let mut values = Vec::new();
        let mut cells = Vec::new();
        for m in METRICS {
            let x = m.path.iter().try_fold(&v, |v, k| v.get(*k)).filter(|x| !x.is_null());
            values.push(x.and_then(|x| x.as_f64()));
            cells.push(x.map(|x| x.to_string()).unwrap_or_default());
        }
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        rows.push(RunRow {
            run: r,
            dir: rel.display().to_string(),
            values,
            cells,
            scheduler_reported: s("scheduler"),
            digest: s("trace_digest"),
        });
    }
    if !missing.is_empty() {
        let n = missing.len();
        missing.truncate(10);
        return Err(CompareError::Io(io(format!(
            "{n} runs of the plan have no summary.json in {} (first: {}); run the missing shards or `kubesim compare` again",
            out.display(),
            missing.join(", ")
        ))));
    }
    Ok(rows)
}

fn f(x: f64) -> String {
    if x.is_finite() { format!("{x:.6}") } else { String::new() }
}

fn of(x: Option<f64>) -> String {
    x.map(f).unwrap_or_default()
}

/// Statistics of one (scenario, set combination, scheduler) group for one metric.
struct GroupStat {
    scenario: usize,
    combo: usize,
    scheduler: usize,
    metric: usize,
    stat: Summary,
    diff: Option<Summary>,
}

fn group_stats(plan: &Plan, rows: &[RunRow]) -> Vec<GroupStat> {
    let n_combos = plan.combos().len();
    let mut out = Vec::new();
    let pick = |s: usize, c: usize, k: usize| -> Vec<&RunRow> {
        rows.iter().filter(|r| r.run.scenario == s && r.run.combo == c && r.run.scheduler == k).collect()
    };
    for s in 0..plan.scenarios.len() {
        for c in 0..n_combos {
            let base = pick(s, c, 0);
            for k in 0..plan.schedulers.len() {
                let group = pick(s, c, k);
                for (m, _) in METRICS.iter().enumerate() {
                    let xs: Vec<f64> = group.iter().filter_map(|r| r.values[m]).collect();
                    let diff = (k > 0).then(|| {
                        let d: Vec<f64> = group
                            .iter()
                            .filter_map(|r| {
                                let b = base.iter().find(|b| b.run.seed == r.run.seed)?;
                                Some(r.values[m]? - b.values[m]?)
                            })
                            .collect();
                        Summary::of(&d)
                    });
                    out.push(GroupStat {
                        scenario: s,
                        combo: c,
                        scheduler: k,
                        metric: m,
                        stat: Summary::of(&xs),
                        diff,
                    });
                }
            }
        }
    }
    out
}

/// Writes `runs.csv`, `comparison.csv`, `charts/` and `report.html` into `out`.
pub fn write(out: &Path, plan: &Plan, png: bool) -> Result<(), CompareError> {
    let rows = read_runs(out, plan)?;
    let combos = plan.combos();
    let labels: Vec<String> = combos.iter().map(|c| Plan::combo_label(c)).collect();
    // runs.csv
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["index", "scenario", "set", "scheduler", "seed"].map(String::from).to_vec();
    header.extend(METRICS.iter().map(|m| m.name.to_string()));
    header.extend(["scheduler_reported", "trace_digest", "dir"].map(String::from));
    w.write_record(&header).map_err(io)?;
    for r in &rows {
        let mut rec = vec![
            r.run.index.to_string(),
            plan.scenarios[r.run.scenario].name.clone(),
            labels[r.run.combo].clone(),
            plan.schedulers[r.run.scheduler].clone(),
            r.run.seed.to_string(),
        ];
        rec.extend(r.cells.iter().cloned());
        rec.extend([r.scheduler_reported.clone(), r.digest.clone(), r.dir.clone()]);
        w.write_record(&rec).map_err(io)?;
    }
    write_atomic(out, "runs.csv", &w.into_inner().map_err(io)?)?;
    // comparison.csv
    let stats = group_stats(plan, &rows);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "scenario",
        "set",
        "scheduler",
        "metric",
        "n",
        "mean",
        "sd",
        "ci95_low",
        "ci95_high",
        "baseline",
        "diff_n",
        "diff_mean",
        "diff_ci95_low",
        "diff_ci95_high",
    ])
    .map_err(io)?;
    for g in &stats {
        let d = g.diff.as_ref();
        w.write_record([
            plan.scenarios[g.scenario].name.clone(),
            labels[g.combo].clone(),
            plan.schedulers[g.scheduler].clone(),
            METRICS[g.metric].name.to_string(),
            g.stat.n.to_string(),
            f(g.stat.mean),
            of(g.stat.sd),
            of(g.stat.ci95_low()),
            of(g.stat.ci95_high()),
            plan.schedulers[0].clone(),
            d.map(|d| d.n.to_string()).unwrap_or_default(),
            d.map(|d| f(d.mean)).unwrap_or_default(),
            of(d.and_then(|d| d.ci95_low())),
            of(d.and_then(|d| d.ci95_high())),
        ])
        .map_err(io)?;
    }
    write_atomic(out, "comparison.csv", &w.into_inner().map_err(io)?)?;
    // charts and report
    let charts = charts(out, plan, &stats, &rows, &labels)?;
    let svgs = crate::report::write_charts(out, &charts, png)?;
    let page = report(plan, &stats, &labels, &charts, &svgs);
    write_atomic(out, "report.html", page.as_bytes())?;
    Ok(())
}

/// A bar's label: the scheduler, and with several set combinations the set values with only
/// the last segment of each path (`default, count=3`).
fn group_label(plan: &Plan, labels: &[String], combo: usize, scheduler: usize) -> String {
    if labels.len() > 1 {
        let short: Vec<&str> =
            labels[combo].split(';').map(|o| o.rsplit_once('.').map_or(o, |(_, last)| last)).collect();
        format!("{}, {}", plan.schedulers[scheduler], short.join(", "))
    } else {
        plan.schedulers[scheduler].clone()
    }
}

fn charts(
    out: &Path,
    plan: &Plan,
    stats: &[GroupStat],
    rows: &[RunRow],
    labels: &[String],
) -> Result<Vec<Chart>, CompareError> {
    let multi = plan.scenarios.len() > 1;
    let mut charts = Vec::new();
    for (s, sc) in plan.scenarios.iter().enumerate() {
        let prefix = if multi { format!("{}_", crate::compare::dir_name(&sc.name)) } else { String::new() };
        for (m, metric) in METRICS.iter().enumerate() {
            let bars: Vec<Bar> = stats
                .iter()
                .filter(|g| g.scenario == s && g.metric == m && g.stat.n > 0)
                .map(|g| Bar {
                    label: group_label(plan, labels, g.combo, g.scheduler),
                    value: g.stat.mean * metric.chart_scale,
                    interval: g
                        .stat
                        .ci95_low()
                        .zip(g.stat.ci95_high())
                        .map(|(l, h)| (l * metric.chart_scale, h * metric.chart_scale)),
                    color: g.scheduler,
                })
                .collect();
            if bars.is_empty() {
                continue;
            }
            charts.push(Chart {
                name: format!("{prefix}bars_{}", metric.name),
                title: format!("{}: {} (mean, 95% CI over {} seeds)", sc.name, metric.label, plan.seeds.len()),
                x_label: if labels.len() > 1 { "scheduler, set values".into() } else { "scheduler".into() },
                y_label: metric.label.into(),
                kind: Kind::Bars { bars },
            });
        }
        for (c, label) in labels.iter().enumerate() {
            let mut series = Vec::new();
            for (k, name) in plan.schedulers.iter().enumerate() {
                let mut pooled = Vec::new();
                for r in rows.iter().filter(|r| r.run.scenario == s && r.run.combo == c && r.run.scheduler == k) {
                    let path = out.join(&r.dir).join("pods.csv");
                    let t = Table::read_columns(&path, Some(&["created_us", "scheduled_us"]))?;
                    pooled.extend(pending_seconds(t.as_ref()));
                }
                pooled.sort_by(f64::total_cmp);
                series.push(Series { name: name.clone(), points: cdf_points(&pooled, 500), color: k, dashed: false });
            }
            let suffix = if labels.len() > 1 { format!("_{}", crate::compare::dir_name(label)) } else { String::new() };
            charts.push(Chart {
                name: format!("{prefix}pending_cdf{suffix}"),
                title: if labels.len() > 1 {
                    format!("{}: CDF of pending time by scheduler, {label} (all seeds pooled)", sc.name)
                } else {
                    format!("{}: CDF of pending time by scheduler (all seeds pooled)", sc.name)
                },
                x_label: "pending time (s)".into(),
                y_label: "bound pods (%)".into(),
                kind: Kind::Lines { series, y_range: Some((0.0, 100.0)) },
            });
        }
    }
    Ok(charts)
}

fn report(plan: &Plan, stats: &[GroupStat], labels: &[String], charts: &[Chart], svgs: &[String]) -> String {
    let mut page = Page::new("kubesim comparison");
    page.h2("Plan");
    page.p(&format!(
        "Scenarios: {}. Schedulers: {} (the first is the baseline of paired differences). Seeds: {}. Set combinations: {}. {} runs.",
        plan.scenarios.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
        plan.schedulers.join(", "),
        plan.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
        labels.join(" | "),
        plan.runs().len()
    ));
    page.h2("Comparison");
    page.note("Each cell: mean ± half-width of the 95% confidence interval (Student's t). The best mean per metric within each scenario and set combination is highlighted.");
    let mut header: Vec<String> = vec!["scenario".into(), "set".into(), "scheduler".into()];
    header.extend(METRICS.iter().map(|m| m.name.to_string()));
    let mut rows = Vec::new();
    let mut best = Vec::new();
    let mut diff_rows = Vec::new();
    for (s, scenario) in plan.scenarios.iter().enumerate() {
        for (c, label) in labels.iter().enumerate() {
            let block: Vec<&GroupStat> = stats.iter().filter(|g| g.scenario == s && g.combo == c).collect();
            let best_mean: Vec<Option<f64>> = METRICS
                .iter()
                .enumerate()
                .map(|(m, metric)| {
                    let means = block.iter().filter(|g| g.metric == m && g.stat.n > 0).map(|g| g.stat.mean);
                    if metric.lower_is_better { means.reduce(f64::min) } else { means.reduce(f64::max) }
                })
                .collect();
            for k in 0..plan.schedulers.len() {
                let mut row = vec![scenario.name.clone(), label.clone(), plan.schedulers[k].clone()];
                let mut brow = vec![false; 3];
                let mut drow = row.clone();
                for (m, best_m) in best_mean.iter().enumerate() {
                    let Some(g) = block.iter().find(|g| g.scheduler == k && g.metric == m) else { continue };
                    row.push(cell(&g.stat));
                    brow.push(g.stat.n > 0 && plan.schedulers.len() > 1 && Some(g.stat.mean) == *best_m);
                    drow.push(g.diff.as_ref().map(cell).unwrap_or_else(|| "baseline".into()));
                }
                rows.push(row);
                best.push(brow);
                if k > 0 {
                    diff_rows.push(drow);
                }
            }
        }
    }
    page.table(&header, &rows, Some(&best), 3);
    if !diff_rows.is_empty() {
        page.h2(&format!("Paired difference against {}", plan.schedulers[0]));
        page.note("Per seed (and set combination): value minus the baseline's value; mean ± 95% CI half-width.");
        page.table(&header, &diff_rows, None, 3);
    }
    page.h2("Charts");
    for (c, svg) in charts.iter().zip(svgs) {
        page.chart(c, svg);
    }
    page.finish()
}

fn cell(s: &Summary) -> String {
    if s.n == 0 {
        return "—".into();
    }
    let v = |x: f64| {
        if x.abs() >= 1000.0 {
            format!("{x:.0}")
        } else if x.abs() >= 1.0 {
            format!("{x:.3}")
        } else {
            format!("{x:.4}")
        }
    };
    match s.ci95_half {
        Some(h) => format!("{} ± {} (n={})", v(s.mean), v(h), s.n),
        None => format!("{} (n={})", v(s.mean), s.n),
    }
}
