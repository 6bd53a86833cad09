//! Per-run charts and `report.html`, built from the files of an output folder (`summary.json`,
//! `timeseries.csv`, `pods.csv`, `nodes.csv`, and `workloads.csv` when controllers wrote it),
//! so that `kubesim report DIR` rebuilds the report of any run.
//!
//! Charts (`charts/<name>.svg`, and `.png` with `--png`): `allocation` (allocated / allocatable
//! of each resource over time), `pods` (pending and running pods over time), `pending_cdf`
//! (CDF of pending time), `node_heatmap` (CPU allocation per node over time), `workloads`
//! (desired vs ready replicas per workload, when `workloads.csv` exists), `services` and
//! `service_requests` (when `services.csv` exists, see [`services`]).

pub mod charts;
pub mod data;
pub mod html;
pub mod services;

use crate::run::output::write_atomic;
use charts::{Chart, Kind, Series, cdf_points, thin, time_unit};
use data::{RunData, Table};
use std::collections::BTreeMap;
use std::path::Path;

/// Report options.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// Also write PNG files next to the SVG files.
    pub png: bool,
    /// The scenario file, shown in the report when given.
    pub scenario_file: Option<std::path::PathBuf>,
}

/// Most points drawn per line.
const MAX_POINTS: usize = 1500;
/// Most heatmap rows (larger clusters group consecutive nodes).
const MAX_HEATMAP_ROWS: usize = 100;
/// Heatmap columns.
const HEATMAP_COLUMNS: usize = 60;
/// Most workloads drawn in the desired-vs-ready chart.
const MAX_WORKLOADS: usize = 8;
/// Most rows of the nodes table in the page.
const MAX_NODE_ROWS: usize = 100;

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

fn duration_us(d: &RunData) -> f64 {
    let from_summary = d.summary.get("simulated_duration_us").and_then(|v| v.as_f64()).unwrap_or(0.0);
    let from_ts = d
        .timeseries
        .as_ref()
        .and_then(|t| {
            t.numbers("time_us").into_iter().flatten().fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))))
        })
        .unwrap_or(0.0);
    from_summary.max(from_ts)
}

fn time_series(t: &Table, cols: &[(&str, &str)], scale: f64, unit_div: f64) -> Vec<Series> {
    let time: Vec<Option<f64>> = t.numbers("time_us");
    cols.iter()
        .enumerate()
        .filter(|(_, (c, _))| t.col(c).is_some())
        .map(|(i, (c, name))| {
            let pts: Vec<(f64, f64)> =
                time.iter().zip(t.numbers(c)).filter_map(|(x, y)| Some(((*x)? / unit_div, y? * scale))).collect();
            Series { name: name.to_string(), points: thin(&pts, MAX_POINTS), color: i, dashed: false }
        })
        .collect()
}

/// The charts of one run, in a fixed order.
pub fn run_charts(d: &RunData) -> Vec<Chart> {
    let span = duration_us(d);
    let (div, unit) = time_unit(span);
    let x_label = format!("simulated time ({unit})");
    let mut out = Vec::new();
    if let Some(t) = &d.timeseries {
        let mut cols = vec![("cpu_alloc_ratio", "CPU"), ("memory_alloc_ratio", "memory")];
        if t.numbers("gpu_alloc_ratio").iter().flatten().any(|v| *v > 0.0) {
            cols.push(("gpu_alloc_ratio", "GPU"));
        }
        out.push(Chart {
            name: "allocation".into(),
            title: "Allocation of each resource over time (Ready nodes)".into(),
            x_label: x_label.clone(),
            y_label: "requested / allocatable (%)".into(),
            kind: Kind::Lines { series: time_series(t, &cols, 100.0, div), y_range: Some((0.0, 105.0)) },
        });
        out.push(Chart {
            name: "pods".into(),
            title: "Pending and running pods over time".into(),
            x_label: x_label.clone(),
            y_label: "pods".into(),
            kind: Kind::Lines {
                series: time_series(t, &[("pods_pending", "pending"), ("pods_running", "running")], 1.0, div),
                y_range: None,
            },
        });
    }
    if d.pods.is_some() {
        let pending = d.pending_seconds();
        out.push(Chart {
            name: "pending_cdf".into(),
            title: format!("CDF of pending time (creation to binding, {} bound pods)", pending.len()),
            x_label: "pending time (s)".into(),
            y_label: "bound pods (%)".into(),
            kind: Kind::Lines {
                series: vec![Series {
                    name: "pending time".into(),
                    points: cdf_points(&pending, 500),
                    color: 0,
                    dashed: false,
                }],
                y_range: Some((0.0, 100.0)),
            },
        });
    }
    if let (Some(p), Some(n)) = (&d.pods, &d.nodes) {
        out.push(node_heatmap(p, n, span, div, &x_label));
    }
    if let Some(w) = &d.workloads {
        out.push(workloads_chart(w, div, &x_label));
    }
    if let Some(s) = &d.services {
        out.extend(services::charts(s, div, &x_label));
    }
    out
}

/// CPU allocation per node over time, rebuilt from `pods.csv` (each bound pod holds its CPU
/// request on its node from binding to its end, or to the end of the run).
fn node_heatmap(pods: &Table, nodes: &Table, span_us: f64, div: f64, x_label: &str) -> Chart {
    let names = nodes.strings("node");
    let cap = nodes.numbers("cpu_millis");
    let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let span = span_us.max(1.0);
    let width = span / HEATMAP_COLUMNS as f64;
    let mut acc = vec![vec![0.0f64; HEATMAP_COLUMNS]; names.len()];
    let (pn, cpu, sched, fin) =
        (pods.strings("node"), pods.numbers("cpu_millis"), pods.numbers("scheduled_us"), pods.numbers("finished_us"));
    for i in 0..pods.rows.len() {
        let (Some(&ni), Some(c), Some(s)) = (index.get(pn[i]), cpu[i], sched[i]) else { continue };
        let e = fin[i].unwrap_or(span).min(span);
        if e <= s {
            continue;
        }
        let first = ((s / width).floor() as usize).min(HEATMAP_COLUMNS - 1);
        let last = ((e / width).ceil() as usize).min(HEATMAP_COLUMNS);
        for (b, cell) in acc[ni].iter_mut().enumerate().take(last).skip(first) {
            let (b0, b1) = (b as f64 * width, (b + 1) as f64 * width);
            let overlap = e.min(b1) - s.max(b0);
            if overlap > 0.0 {
                *cell += c * overlap;
            }
        }
    }
    let group = names.len().div_ceil(MAX_HEATMAP_ROWS).max(1);
    let mut rows = Vec::new();
    let mut cells = Vec::new();
    for start in (0..names.len()).step_by(group) {
        let end = (start + group).min(names.len());
        let total_cap: f64 = (start..end).map(|i| cap[i].unwrap_or(0.0)).sum();
        rows.push(if end - start == 1 {
            names[start].to_string()
        } else {
            format!("{}..{}", names[start], names[end - 1])
        });
        cells.push(
            (0..HEATMAP_COLUMNS)
                .map(|b| {
                    let held: f64 = (start..end).map(|i| acc[i][b]).sum();
                    if total_cap > 0.0 { held / (total_cap * width) } else { f64::NAN }
                })
                .collect(),
        );
    }
    Chart {
        name: "node_heatmap".into(),
        title: if group > 1 {
            format!("CPU requested / allocatable per node over time (groups of {group} nodes)")
        } else {
            "CPU requested / allocatable per node over time".into()
        },
        x_label: x_label.to_string(),
        y_label: "node".into(),
        kind: Kind::Heatmap { rows, cells, column_width: width / div, value_label: "CPU allocated (%)".into() },
    }
}

/// Desired (dashed) and ready (solid) replicas per workload from `workloads.csv`
/// (`time_us,kind,namespace,name,desired,ready,available`).
fn workloads_chart(w: &Table, div: f64, x_label: &str) -> Chart {
    let (kind, ns, name) = (w.strings("kind"), w.strings("namespace"), w.strings("name"));
    let (t, desired, ready) = (w.numbers("time_us"), w.numbers("desired"), w.numbers("ready"));
    type Points = Vec<(f64, f64)>;
    let mut by: BTreeMap<String, (Points, Points)> = BTreeMap::new();
    for i in 0..w.rows.len() {
        let key = format!("{}/{}/{}", kind[i], ns[i], name[i]);
        let Some(x) = t[i] else { continue };
        let e = by.entry(key).or_default();
        if let Some(d) = desired[i] {
            e.0.push((x / div, d));
        }
        if let Some(r) = ready[i] {
            e.1.push((x / div, r));
        }
    }
    let total = by.len();
    let mut series = Vec::new();
    for (i, (key, (d, r))) in by.into_iter().take(MAX_WORKLOADS).enumerate() {
        series.push(Series { name: format!("{key} desired"), points: thin(&d, MAX_POINTS), color: i, dashed: true });
        series.push(Series { name: format!("{key} ready"), points: thin(&r, MAX_POINTS), color: i, dashed: false });
    }
    Chart {
        name: "workloads".into(),
        title: if total > MAX_WORKLOADS {
            format!("Desired (dashed) vs ready (solid) replicas, first {MAX_WORKLOADS} of {total} workloads")
        } else {
            "Desired (dashed) vs ready (solid) replicas per workload".into()
        },
        x_label: x_label.to_string(),
        y_label: "replicas".into(),
        kind: Kind::Lines { series, y_range: None },
    }
}

/// Renders `charts` into `dir/charts/` (SVG, and PNG when asked); returns the SVG texts.
pub fn write_charts(dir: &Path, charts: &[Chart], png: bool) -> std::io::Result<Vec<String>> {
    let cdir = dir.join("charts");
    std::fs::create_dir_all(&cdir)?;
    let mut svgs = Vec::with_capacity(charts.len());
    for c in charts {
        let svg = c.svg().map_err(|e| io(format!("chart {}: {e}", c.name)))?;
        write_atomic(&cdir, &format!("{}.svg", c.name), svg.as_bytes())?;
        if png {
            let tmp = cdir.join(format!(".{}.tmp.png", c.name));
            c.png(&tmp).map_err(|e| io(format!("chart {}: {e}", c.name)))?;
            std::fs::rename(&tmp, cdir.join(format!("{}.png", c.name)))?;
        }
        svgs.push(svg);
    }
    Ok(svgs)
}

fn fmt_us(v: Option<&serde_json::Value>) -> String {
    match v.and_then(|v| v.as_f64()) {
        Some(us) => crate::engine::time::SimDuration(us.max(0.0) as u64).to_string(),
        None => "—".into(),
    }
}

/// Writes `charts/*` and `report.html` for the run whose outputs are in `dir`.
pub fn write_run_report(dir: &Path, opts: &ReportOptions) -> std::io::Result<()> {
    let d = RunData::read(dir)?;
    if d.timeseries.is_none() && d.pods.is_none() && d.nodes.is_none() {
        return Err(io(format!(
            "{}: no timeseries.csv, pods.csv or nodes.csv to draw from (is this a `kubesim run` output folder?)",
            dir.display()
        )));
    }
    let charts = run_charts(&d);
    let svgs = write_charts(dir, &charts, opts.png)?;
    let s = &d.summary;
    let text = |k: &str| s.get(k).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
    let name = text("scenario").unwrap_or_else(|| "run".into());
    let mut page = html::Page::new(&format!("kubesim report: {name}"));
    page.h2("Scenario");
    page.p(&format!(
        "Scenario {name}, seed {}, scheduler {}, {} simulated.",
        text("seed").unwrap_or_default(),
        text("scheduler").unwrap_or_default(),
        fmt_us(s.get("simulated_duration_us"))
    ));
    if let Some(f) = &opts.scenario_file
        && let Ok(t) = std::fs::read_to_string(f)
    {
        page.details_pre(&format!("Scenario file {}", f.display()), &t);
    }
    page.h2("Summary");
    let get = |path: &[&str]| path.iter().try_fold(s, |v, k| v.get(*k));
    let head: Vec<(String, String)> = vec![
        ("pods created".into(), get(&["counts", "pods_created"]).map(|v| v.to_string()).unwrap_or_default()),
        ("pods scheduled".into(), get(&["counts", "pods_scheduled"]).map(|v| v.to_string()).unwrap_or_default()),
        (
            "unschedulable at the end".into(),
            get(&["counts", "unschedulable_at_end"]).map(|v| v.to_string()).unwrap_or_default(),
        ),
        ("pending time mean".into(), fmt_us(get(&["pending_time_us", "mean"]))),
        ("pending time p99".into(), fmt_us(get(&["pending_time_us", "p99"]))),
        ("start-up latency p99".into(), fmt_us(get(&["startup_latency_p99_us"]))),
        ("makespan".into(), fmt_us(get(&["makespan_us"]))),
    ];
    page.table(
        &["headline".into(), "value".into()],
        &head.into_iter().map(|(a, b)| vec![a, b]).collect::<Vec<_>>(),
        None,
        1,
    );
    let mut flat = Vec::new();
    html::flatten("", s, &mut flat);
    page.table(
        &["field (summary.json)".into(), "value".into()],
        &flat.into_iter().map(|(a, b)| vec![a, b]).collect::<Vec<_>>(),
        None,
        1,
    );
    page.h2("Charts");
    for (c, svg) in charts.iter().zip(&svgs) {
        page.chart(c, svg);
    }
    if let Some(n) = &d.nodes {
        page.h2("Nodes");
        if n.rows.len() > MAX_NODE_ROWS {
            page.note(&format!("First {MAX_NODE_ROWS} of {} nodes; all are in nodes.csv.", n.rows.len()));
        }
        let rows: Vec<Vec<String>> =
            n.rows.iter().take(MAX_NODE_ROWS).map(|r| r.iter().map(str::to_string).collect()).collect();
        page.table(&n.header, &rows, None, 2);
    }
    write_atomic(dir, "report.html", page.finish().as_bytes())
}
