//! What every trace loader shares: [`LoadOptions`], a CSV row reader whose errors name the file,
//! the line and the column, number parsing that rejects negatives and non-numbers, the pod
//! builder, and the final ordering and time shift of a [`Trace`].
//!
//! Files are streamed (never read whole), so a multi-gigabyte trace costs only the rows kept.

use crate::input::error::InputError;
use crate::input::go_duration::GoDuration;
use crate::input::manifest::add_default_tolerations;
use crate::model::dist::DurationDist;
use crate::model::pod::{Container, DEFAULT_SCHEDULER_NAME, Pod, RestartPolicy, RunModel};
use crate::model::resources::ResourceList;
use crate::model::selector::Labels;
use crate::trace::{RESOURCE_GPU_COUNT, RESOURCE_GPU_MILLI, RESOURCE_NVIDIA_GPU, Trace, TracePod};
use std::collections::BTreeMap;
use std::path::Path;

/// One GiB in bytes.
pub const GIB: i64 = 1024 * 1024 * 1024;

/// Options common to every loader.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadOptions {
    /// Keep at most this many pods (the first ones in file order); `None`: all, up to
    /// [`crate::limits::MAX_TRACE_PODS`].
    pub limit: Option<u64>,
    /// Multiplies every time and duration of the trace (0.5 plays it twice as fast). Must be
    /// finite and > 0.
    pub time_scale: f64,
    /// Namespace of the pods.
    pub namespace: String,
    /// CPU of the machine that normalised resources refer to (Google 2011: the largest machine),
    /// in millicores.
    pub machine_cpu_millis: i64,
    /// Memory that a normalised memory size of 1.0 (Google 2011) or 100 (Alibaba v2018) stands
    /// for, in bytes.
    pub machine_memory_bytes: i64,
}

/// Default machine size for normalised traces: 64 cores.
pub const DEFAULT_MACHINE_CPU_MILLIS: i64 = 64_000;
/// Default machine size for normalised traces: 256 GiB.
pub const DEFAULT_MACHINE_MEMORY_BYTES: i64 = 256 * GIB;

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            limit: None,
            time_scale: 1.0,
            namespace: "default".into(),
            machine_cpu_millis: DEFAULT_MACHINE_CPU_MILLIS,
            machine_memory_bytes: DEFAULT_MACHINE_MEMORY_BYTES,
        }
    }
}

impl LoadOptions {
    /// Checks the options themselves.
    pub fn validate(&self, file: &str) -> Result<(), InputError> {
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(InputError::file(
                file,
                format!("timeScale must be a finite number > 0, got {}", self.time_scale),
            )
            .with_field("timeScale"));
        }
        if self.machine_cpu_millis <= 0 || self.machine_memory_bytes <= 0 {
            return Err(InputError::file(file, "the machine size (cpu, memory) must be > 0").with_field("machine"));
        }
        Ok(())
    }

    /// Scales a time or duration in microseconds by `time_scale` (rounded to the microsecond).
    pub fn scale_us(&self, us: u64) -> u64 {
        if self.time_scale == 1.0 {
            us
        } else {
            let v = (us as f64 * self.time_scale).round();
            if v >= crate::limits::MAX_RUN_DURATION_MICROS as f64 * 10.0 {
                crate::limits::MAX_RUN_DURATION_MICROS * 10
            } else {
                v as u64
            }
        }
    }
}

/// A streaming CSV reader that knows its file name and, when the file has one, its header.
pub struct Rows {
    file: String,
    reader: csv::Reader<std::io::BufReader<std::fs::File>>,
    /// Column names (from the header, or the format's fixed list).
    pub columns: Vec<String>,
    pending: Option<csv::StringRecord>,
}

impl Rows {
    /// Opens `path`. With `header: true` the first row names the columns and must contain every
    /// name of `required`; otherwise `required` gives the columns by position. With
    /// `optional_header`, a first row whose first cell equals `required[0]` is taken as a header.
    pub fn open(path: &Path, required: &[&str], header: bool, optional_header: bool) -> Result<Rows, InputError> {
        let file = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|e| InputError::file(&file, format!("cannot read the file: {e}")))?;
        let meta_len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if meta_len > crate::limits::MAX_TRACE_BYTES {
            return Err(InputError::file(
                &file,
                format!(
                    "the file has {meta_len} bytes, more than the limit of {} (kubesim::limits::MAX_TRACE_BYTES)",
                    crate::limits::MAX_TRACE_BYTES
                ),
            ));
        }
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(std::io::BufReader::new(f));
        let mut rows = Rows { file, reader, columns: required.iter().map(|s| s.to_string()).collect(), pending: None };
        if header || optional_header {
            let first = rows.next_record()?;
            match first {
                Some(rec) if header || rec.get(0) == required.first().copied() => {
                    let names: Vec<String> = rec.iter().map(|s| s.trim_start_matches('\u{feff}').to_string()).collect();
                    for r in required {
                        if !names.iter().any(|n| n == r) {
                            return Err(InputError::at(
                                &rows.file,
                                1,
                                1,
                                *r,
                                format!("the header has no column `{r}` (expected columns: {})", required.join(",")),
                            ));
                        }
                    }
                    rows.columns = names;
                }
                Some(rec) => rows.pending = Some(rec),
                None if header => {
                    return Err(InputError::file(
                        &rows.file,
                        format!("the file is empty; expected a header: {}", required.join(",")),
                    ));
                }
                None => {}
            }
        }
        Ok(rows)
    }

    /// The file name as shown in messages.
    pub fn file(&self) -> &str {
        &self.file
    }

    fn next_record(&mut self) -> Result<Option<csv::StringRecord>, InputError> {
        loop {
            let mut rec = csv::StringRecord::new();
            match self.reader.read_record(&mut rec) {
                Ok(false) => return Ok(None),
                Ok(true) => {
                    // Blank lines are skipped (several real traces end with one).
                    if rec.len() == 1 && rec.get(0).is_some_and(str::is_empty) {
                        continue;
                    }
                    return Ok(Some(rec));
                }
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    return Err(InputError {
                        file: self.file.clone(),
                        line: (line > 0).then_some(line),
                        column: None,
                        field: None,
                        message: format!("not valid CSV: {e}"),
                    });
                }
            }
        }
    }

    /// The next data row, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, InputError> {
        let rec = match self.pending.take() {
            Some(r) => Some(r),
            None => self.next_record()?,
        };
        Ok(rec.map(|rec| {
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            Row { file: &self.file, columns: &self.columns, line, rec }
        }))
    }
}

/// One CSV row, with what it takes to report an error at one of its cells.
pub struct Row<'a> {
    file: &'a str,
    columns: &'a [String],
    /// 1-based line of the row.
    pub line: u64,
    rec: csv::StringRecord,
}

impl Row<'_> {
    /// True when the file has a column `name` (for optional columns).
    pub fn has(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }

    /// The text of optional column `name`: `None` when the file has no such column or the cell
    /// is empty.
    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, InputError> {
        if !self.has(name) {
            return Ok(None);
        }
        let s = self.str(name)?;
        Ok((!s.is_empty()).then_some(s))
    }

    fn index(&self, name: &str) -> usize {
        self.columns.iter().position(|c| c == name).unwrap_or(usize::MAX)
    }

    fn column_of(&self, idx: usize) -> u64 {
        self.rec.range(idx).map(|r| r.start as u64 + 1).unwrap_or(1)
    }

    /// An error at the cell of column `name`.
    pub fn error(&self, name: &str, message: impl Into<String>) -> InputError {
        let idx = self.index(name);
        InputError::at(self.file, self.line, self.column_of(idx), name, message.into())
    }

    /// The raw text of column `name` (trimmed); an error when the row is too short.
    pub fn str(&self, name: &str) -> Result<&str, InputError> {
        let idx = self.index(name);
        match self.rec.get(idx) {
            Some(s) => Ok(s),
            None => Err(InputError::at(
                self.file,
                self.line,
                self.rec.as_slice().len() as u64 + 1,
                name,
                format!(
                    "missing column `{name}`: the row has {} columns, expected {}",
                    self.rec.len(),
                    self.columns.len()
                ),
            )),
        }
    }

    /// A non-empty text cell.
    pub fn required_str(&self, name: &str) -> Result<&str, InputError> {
        let s = self.str(name)?;
        if s.is_empty() {
            return Err(self.error(name, format!("`{name}` must not be empty")));
        }
        Ok(s)
    }

    /// A non-negative finite number; `None` when the cell is empty (or `NaN`, which pandas
    /// writes for a missing value).
    pub fn opt_f64(&self, name: &str) -> Result<Option<f64>, InputError> {
        let s = self.str(name)?;
        if s.is_empty() || s == "NaN" || s == "nan" {
            return Ok(None);
        }
        let v: f64 = s.parse().map_err(|_| self.error(name, format!("expected a number, got {s:?}")))?;
        if !v.is_finite() {
            return Err(self.error(name, format!("expected a finite number, got {s:?}")));
        }
        if v < 0.0 {
            return Err(self.error(name, format!("must not be negative, got {s}")));
        }
        Ok(Some(v))
    }

    /// A non-negative finite number, required.
    pub fn f64(&self, name: &str) -> Result<f64, InputError> {
        self.opt_f64(name)?.ok_or_else(|| self.error(name, format!("`{name}` must not be empty")))
    }

    /// A non-negative integer; `None` when empty.
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, InputError> {
        let s = self.str(name)?;
        if s.is_empty() {
            return Ok(None);
        }
        if s.starts_with('-') {
            return Err(self.error(name, format!("must not be negative, got {s}")));
        }
        s.parse::<u64>().map(Some).map_err(|_| self.error(name, format!("expected a whole number, got {s:?}")))
    }

    /// A non-negative integer, required.
    pub fn u64(&self, name: &str) -> Result<u64, InputError> {
        self.opt_u64(name)?.ok_or_else(|| self.error(name, format!("`{name}` must not be empty")))
    }

    /// A (possibly negative) integer, required.
    pub fn i64(&self, name: &str) -> Result<i64, InputError> {
        let s = self.required_str(name)?;
        s.parse::<i64>().map_err(|_| self.error(name, format!("expected a whole number, got {s:?}")))
    }
}

/// Seconds (a non-negative float) to whole microseconds, rounded.
pub fn secs_to_us(s: f64) -> u64 {
    let v = (s * 1e6).round();
    if v >= u64::MAX as f64 { u64::MAX } else { v as u64 }
}

/// A fraction of `whole` (for normalised traces), rounded to the unit.
pub fn fraction_of(whole: i64, fraction: f64) -> i64 {
    let v = (whole as f64 * fraction).round();
    if v >= crate::model::resources::MAX_RESOURCE_VALUE as f64 {
        crate::model::resources::MAX_RESOURCE_VALUE
    } else {
        v.max(0.0) as i64
    }
}

/// GPU demand as container requests: `whole` devices as `nvidia.com/gpu`, or a share `milli`
/// (below 1000) of one device as `alibabacloud.com/gpu-milli` + `gpu-count: 1`.
pub fn gpu_requests(requests: &mut BTreeMap<String, i64>, whole: i64, milli: i64) {
    if milli > 0 && milli < 1000 {
        requests.insert(RESOURCE_GPU_MILLI.into(), milli);
        requests.insert(RESOURCE_GPU_COUNT.into(), whole.max(1));
    } else if whole > 0 {
        requests.insert(RESOURCE_NVIDIA_GPU.into(), whole);
    }
}

/// Builds a trace pod with one container requesting `requests`, the API server's default
/// tolerations, and a constant run duration when `run_us` is given.
pub fn make_pod(
    name: String,
    namespace: &str,
    labels: Labels,
    requests: BTreeMap<String, i64>,
    priority: i32,
    run_us: Option<u64>,
) -> Pod {
    let mut tolerations = Vec::new();
    add_default_tolerations(&mut tolerations);
    let mut pod = Pod {
        name,
        namespace: namespace.to_string(),
        labels,
        annotations: Default::default(),
        owner: None,
        priority,
        priority_class_name: None,
        preemption_policy: Default::default(),
        scheduler_name: DEFAULT_SCHEDULER_NAME.into(),
        containers: vec![Container {
            name: "main".into(),
            image: String::new(),
            requests: ResourceList(requests),
            limits: ResourceList::default(),
            host_ports: vec![],
            sidecar: false,
        }],
        init_containers: vec![],
        overhead: Default::default(),
        node_selector: Default::default(),
        tolerations,
        affinity: Default::default(),
        topology_spread_constraints: vec![],
        node_name: None,
        restart_policy: if run_us.is_some() { RestartPolicy::Never } else { RestartPolicy::Always },
        termination_grace_period_seconds: 30,
        run: RunModel {
            startup_latency: None,
            readiness_delay: None,
            failure_probability: None,
            run_duration: run_us.map(|us| DurationDist::Constant(GoDuration(us))),
        },
        requests: Default::default(),
        non_zero_cpu_millis: 0,
        non_zero_memory_bytes: 0,
        host_ports: vec![],
        volumes: vec![],
    };
    pod.finalize();
    pod
}

/// Finishes a trace: shifts every time so that the earliest creation is zero, applies the time
/// scale, and sorts pods by `(created, name)` and node events by `(time, node)`.
pub fn finish(mut trace: Trace, opts: &LoadOptions) -> Trace {
    let origin =
        trace.pods.iter().map(|p| p.created_us).chain(trace.node_events.iter().map(|e| e.time_us)).min().unwrap_or(0);
    for p in &mut trace.pods {
        p.created_us = opts.scale_us(p.created_us - origin);
        p.deleted_us = p.deleted_us.map(|d| opts.scale_us(d.saturating_sub(origin)));
        if let Some(DurationDist::Constant(d)) = &mut p.pod.run.run_duration {
            d.0 = opts.scale_us(d.0);
        }
    }
    for e in &mut trace.node_events {
        e.time_us = opts.scale_us(e.time_us - origin);
    }
    sort_trace(&mut trace);
    trace
}

/// Sorts pods by `(created, namespace, name)` and node events by `(time, node)` (stable, so
/// events of one node keep their order).
pub fn sort_trace(trace: &mut Trace) {
    // Sort a permutation rather than the (large) pods themselves, then move each pod once.
    let pods = &trace.pods;
    let mut order: Vec<usize> = (0..pods.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&pods[a], &pods[b]);
        (a.created_us, &a.pod.namespace, &a.pod.name).cmp(&(b.created_us, &b.pod.namespace, &b.pod.name))
    });
    let mut slots: Vec<Option<TracePod>> = std::mem::take(&mut trace.pods).into_iter().map(Some).collect();
    trace.pods = order.into_iter().filter_map(|i| slots[i].take()).collect();
    trace.node_events.sort_by(|a, b| (a.time_us, &a.node).cmp(&(b.time_us, &b.node)));
}

/// A trace pod with no dependencies.
pub fn trace_pod(pod: Pod, created_us: u64, deleted_us: Option<u64>, line: u64) -> TracePod {
    TracePod { pod, created_us, deleted_us, depends_on: vec![], max_per_node: None, line }
}

/// Whether a loader that already kept `kept` pods should stop: `Ok(true)` once the `limit`
/// option is reached; an error naming the limit when the trace exceeds
/// [`crate::limits::MAX_TRACE_PODS`] without a `limit`.
pub fn full(kept: u64, opts: &LoadOptions, file: &str, line: u64) -> Result<bool, InputError> {
    match opts.limit {
        Some(l) if kept >= l.min(crate::limits::MAX_TRACE_PODS) => Ok(true),
        _ if kept >= crate::limits::MAX_TRACE_PODS => Err(InputError::at(
            file,
            line,
            1,
            "",
            format!(
                "the trace has more than {} pods (kubesim::limits::MAX_TRACE_PODS); set `limit` to read the first ones",
                crate::limits::MAX_TRACE_PODS
            ),
        )),
        _ => Ok(false),
    }
}
