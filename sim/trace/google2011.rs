//! Google cluster trace 2011 (`clusterdata-2011-2`) `task_events`: 13 columns, no header
//! (`time,missing info,job ID,task index,machine ID,event type,user,scheduling class,priority,
//! CPU request,memory request,disk space request,different machines restriction`). The path may
//! be one uncompressed CSV file or a folder, whose `*.csv` files are read in name order.
//!
//! Each task (`job ID`, `task index`) becomes one pod named `task-<job>-<index>`: created at its
//! first SUBMIT (0) event (or its first SCHEDULE (1) event if the trace starts after the
//! submission), running for the time between its first SCHEDULE and the first EVICT (2), FAIL
//! (3), FINISH (4), KILL (5) or LOST (6) after it; without such an end it runs until the end of the
//! run. Times are in microseconds; the trace's "after the end" marker (2^63 - 1) means no end.
//! Priority (0..11) is the pod priority. Requests come from the SUBMIT row (else the first row
//! giving them) and are normalised to the largest machine: they are scaled by the machine size of
//! the [`LoadOptions`] (`machine_cpu_millis`, `machine_memory_bytes`; by default 64 cores and
//! 256 GiB).
//!
//! **Simplified:** only the first submission of a task is replayed (resubmissions after an
//! eviction or failure are not), every end counts as a completion, UPDATE events are ignored,
//! and `different machines restriction` is not modelled.

use crate::input::error::InputError;
use crate::model::resources::{CPU, MEMORY};
use crate::model::selector::Labels;
use crate::trace::Trace;
use crate::trace::rows::{LoadOptions, Rows, finish, fraction_of, full, make_pod, trace_pod};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Pod label holding the Google job ID.
pub const LABEL_JOB: &str = "google.com/job-id";

const COLUMNS: [&str; 13] = [
    "time",
    "missing_info",
    "job_id",
    "task_index",
    "machine_id",
    "event_type",
    "user",
    "scheduling_class",
    "priority",
    "cpu_request",
    "memory_request",
    "disk_space_request",
    "different_machines_restriction",
];

/// The trace's marker for "after the end of the trace".
const AFTER_END: u64 = i64::MAX as u64;

#[derive(Default)]
struct Task {
    created: Option<u64>,
    scheduled: Option<u64>,
    ended: Option<u64>,
    priority: i32,
    resources: Option<(f64, f64)>,
    line: u64,
}

fn files(path: &Path) -> Result<Vec<PathBuf>, InputError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let shown = path.display().to_string();
    let mut v: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| InputError::file(&shown, format!("cannot read the folder: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    v.sort();
    if v.is_empty() {
        return Err(InputError::file(&shown, "the folder holds no .csv file (compressed parts must be unpacked)"));
    }
    Ok(v)
}

/// Loads Google 2011 task events.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Trace, InputError> {
    opts.validate(&path.display().to_string())?;
    let mut tasks: BTreeMap<(u64, u64), Task> = BTreeMap::new();
    for f in files(path)? {
        let mut rows = Rows::open(&f, &COLUMNS, false, false)?;
        let file = rows.file().to_string();
        while let Some(row) = rows.next_row()? {
            // Every column must be present, even the optional ones (empty is fine).
            row.str(COLUMNS[12])?;
            let time = row.u64("time")?;
            let job = row.u64("job_id")?;
            let index = row.u64("task_index")?;
            let kind = row.u64("event_type")?;
            if kind > 8 {
                return Err(row.error("event_type", format!("expected an event type 0..8, got {kind}")));
            }
            let priority = row.u64("priority")?;
            if priority > 1000 {
                return Err(row.error("priority", format!("expected a priority 0..11, got {priority}")));
            }
            let cpu = row.opt_f64("cpu_request")?;
            let mem = row.opt_f64("memory_request")?;
            row.opt_f64("disk_space_request")?;
            if !tasks.contains_key(&(job, index)) {
                if full(tasks.len() as u64, opts, &file, row.line)? {
                    continue;
                }
                tasks.insert((job, index), Task { line: row.line, priority: priority as i32, ..Default::default() });
            }
            let Some(t) = tasks.get_mut(&(job, index)) else { continue };
            if t.resources.is_none() && (cpu.is_some() || mem.is_some()) {
                t.resources = Some((cpu.unwrap_or(0.0), mem.unwrap_or(0.0)));
            }
            match kind {
                0 if t.created.is_none() => {
                    t.created = Some(time);
                    t.priority = priority as i32;
                    t.line = row.line;
                    if cpu.is_some() || mem.is_some() {
                        t.resources = Some((cpu.unwrap_or(0.0), mem.unwrap_or(0.0)));
                    }
                }
                1 if t.scheduled.is_none() => t.scheduled = Some(time),
                2..=6 if t.scheduled.is_some() && t.ended.is_none() && time != AFTER_END => t.ended = Some(time),
                _ => {}
            }
        }
    }
    let mut trace = Trace::default();
    for ((job, index), t) in tasks {
        let Some(created) = t.created.or(t.scheduled) else { continue };
        let run = match (t.scheduled, t.ended) {
            (Some(s), Some(e)) => Some(e.saturating_sub(s)),
            _ => None,
        };
        let (cpu, mem) = t.resources.unwrap_or((0.0, 0.0));
        let mut req = BTreeMap::new();
        req.insert(CPU.to_string(), fraction_of(opts.machine_cpu_millis, cpu));
        req.insert(MEMORY.to_string(), fraction_of(opts.machine_memory_bytes, mem));
        let mut labels = Labels::new();
        labels.insert(LABEL_JOB.into(), job.to_string());
        let pod = make_pod(format!("task-{job}-{index}"), &opts.namespace, labels, req, t.priority, run);
        trace.pods.push(trace_pod(pod, created, None, t.line));
    }
    Ok(finish(trace, opts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::generic::tests::write_tmp;

    #[test]
    fn tasks_run_from_schedule_to_their_first_end_and_scale_by_the_machine_size() {
        let text = "600000000,,7,0,,0,u,1,9,0.5,0.25,0.01,0\n\
                    600000000,,7,1,,0,u,1,2,0.125,,,\n\
                    601000000,,7,0,42,1,u,1,9,,,,\n\
                    661000000,,7,0,42,4,u,1,9,,,,\n\
                    605000000,,7,1,43,1,u,1,2,,,,\n";
        let (_d, p) = write_tmp("task_events.csv", text);
        let opts = LoadOptions { machine_cpu_millis: 8000, machine_memory_bytes: 1 << 30, ..Default::default() };
        let t = load(&p, &opts).unwrap();
        assert_eq!(t.pods.len(), 2);
        let a = &t.pods[0];
        assert_eq!((a.pod.name.as_str(), a.created_us, a.pod.priority), ("task-7-0", 0, 9));
        assert_eq!((a.pod.requests.cpu_millis, a.pod.requests.memory_bytes), (4000, 1 << 28));
        assert_eq!(a.pod.run.run_duration.as_ref().map(|d| d.mean_micros()), Some(60e6));
        let b = &t.pods[1];
        assert_eq!((b.pod.name.as_str(), b.pod.requests.cpu_millis), ("task-7-1", 1000));
        assert!(b.pod.run.run_duration.is_none(), "no end event: runs until the end");
    }

    #[test]
    fn malformed_rows_name_the_file_line_and_column() {
        let cases = [
            ("x,,7,0,,0,u,1,9,0.5,0.25,0.01,0\n", "time"),
            ("600,,7,0,,0,u,1,9,0.5,0.25,0.01\n", "different_machines_restriction"),
            ("600,,7,0,,0,u,1,9,-0.5,0.25,0.01,0\n", "cpu_request"),
            ("600,,7,0,,12,u,1,9,0.5,0.25,0.01,0\n", "event_type"),
            ("600,,-7,0,,0,u,1,9,0.5,0.25,0.01,0\n", "job_id"),
        ];
        for (row, field) in cases {
            let (_d, p) = write_tmp("task_events.csv", &format!("600,,7,1,,0,u,1,9,0.5,0.25,0.01,0\n{row}"));
            let e = load(&p, &LoadOptions::default()).unwrap_err();
            assert!(e.file.ends_with("task_events.csv"));
            assert_eq!((e.line, e.field.as_deref()), (Some(2), Some(field)), "{e}");
        }
    }
}
