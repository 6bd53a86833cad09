//! The Microsoft Philly trace as flattened by the Pollux artifact (`philly.csv`):
//! `timestamp,duration,num_gpus,gpu_time,cluster` (header required).
//!
//! `timestamp` is the submission time (`YYYY-MM-DD HH:MM:SS`, the trace's local time; only
//! differences matter), `duration` the run time in seconds, `num_gpus` whole GPUs
//! (→ `nvidia.com/gpu`), `cluster` the virtual cluster (→ pod label [`LABEL_CLUSTER`]).
//! `gpu_time` is checked to be a number but not used. Pods are named `philly-<n>`, `n` being the
//! job's 0-based row in the file; they request no CPU or memory (the trace has none).

use crate::input::error::InputError;
use crate::model::selector::Labels;
use crate::trace::Trace;
use crate::trace::rows::{LoadOptions, Row, Rows, finish, full, gpu_requests, make_pod, secs_to_us, trace_pod};
use std::collections::BTreeMap;
use std::path::Path;

/// Pod label holding the job's virtual cluster.
pub const LABEL_CLUSTER: &str = "philly.msr/cluster";

const COLUMNS: [&str; 5] = ["timestamp", "duration", "num_gpus", "gpu_time", "cluster"];

/// Days from 1970-01-01 to the civil date `y-m-d` (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DD HH:MM:SS` into seconds since 1970-01-01 00:00:00.
fn parse_timestamp(row: &Row<'_>, name: &str) -> Result<i64, InputError> {
    let s = row.required_str(name)?;
    let bad = || row.error(name, format!("expected a time like 2017-10-09 07:01:55, got {s:?}"));
    let (date, time) = s.split_once(' ').ok_or_else(bad)?;
    let d: Vec<&str> = date.split('-').collect();
    let t: Vec<&str> = time.split(':').collect();
    if d.len() != 3 || t.len() != 3 {
        return Err(bad());
    }
    let num = |x: &str| -> Result<i64, InputError> {
        if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) || x.len() > 4 {
            return Err(bad());
        }
        x.parse::<i64>().map_err(|_| bad())
    };
    let (y, mo, da, h, mi, se) = (num(d[0])?, num(d[1])?, num(d[2])?, num(t[0])?, num(t[1])?, num(t[2])?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h > 23 || mi > 59 || se > 60 {
        return Err(bad());
    }
    Ok(days_from_civil(y, mo, da) * 86_400 + h * 3600 + mi * 60 + se)
}

/// Loads the Philly trace.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Trace, InputError> {
    let mut rows = Rows::open(path, &COLUMNS, true, false)?;
    opts.validate(rows.file())?;
    let file = rows.file().to_string();
    let mut trace = Trace::default();
    let mut n: u64 = 0;
    let mut origin: Option<i64> = None;
    let mut raw = Vec::new();
    while let Some(row) = rows.next_row()? {
        if full(raw.len() as u64, opts, &file, row.line)? {
            break;
        }
        let submitted = parse_timestamp(&row, "timestamp")?;
        let duration = secs_to_us(row.f64("duration")?);
        let gpus = row.u64("num_gpus")?;
        if gpus > 1 << 20 {
            return Err(row.error("num_gpus", format!("{gpus} GPUs is more than any node has")));
        }
        row.opt_f64("gpu_time")?;
        let mut labels = Labels::new();
        labels.insert(LABEL_CLUSTER.into(), row.str("cluster")?.to_string());
        let mut req = BTreeMap::new();
        gpu_requests(&mut req, gpus as i64, 0);
        let pod = make_pod(format!("philly-{n}"), &opts.namespace, labels, req, 0, Some(duration));
        n += 1;
        origin = Some(origin.map_or(submitted, |o| o.min(submitted)));
        raw.push((pod, submitted, row.line));
    }
    let origin = origin.unwrap_or(0);
    for (pod, submitted, line) in raw {
        trace.pods.push(trace_pod(pod, (submitted - origin) as u64 * 1_000_000, None, line));
    }
    Ok(finish(trace, opts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::RESOURCE_NVIDIA_GPU;
    use crate::trace::generic::tests::write_tmp;

    #[test]
    fn civil_dates_count_days_like_the_calendar() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2017, 10, 9) - days_from_civil(2017, 9, 30), 9);
    }

    #[test]
    fn jobs_become_gpu_pods_ordered_by_submission_across_midnight() {
        let text = "timestamp,duration,num_gpus,gpu_time,cluster\n\
                    2017-10-09 00:00:10,66.0,1,66.0,11cb48\n\
                    2017-10-08 23:59:50,2951.0,8,23608.0,6214e9\n\n";
        let (_d, p) = write_tmp("philly.csv", text);
        let t = load(&p, &LoadOptions::default()).unwrap();
        assert_eq!(t.pods.len(), 2);
        assert_eq!((t.pods[0].pod.name.as_str(), t.pods[0].created_us), ("philly-1", 0));
        assert_eq!((t.pods[1].pod.name.as_str(), t.pods[1].created_us), ("philly-0", 20_000_000));
        assert_eq!(t.pods[0].pod.requests.get(RESOURCE_NVIDIA_GPU), 8);
        assert_eq!(t.pods[0].pod.run.run_duration.as_ref().map(|d| d.mean_micros()), Some(2951e6));
        assert_eq!(t.pods[1].pod.labels.get(LABEL_CLUSTER).map(String::as_str), Some("11cb48"));
    }

    #[test]
    fn malformed_rows_name_the_file_line_and_column() {
        let cases = [
            ("2017-10-09 07:01:55,66.0,1,66.0,c\n2017-13-09 07:01:55,66.0,1,66.0,c\n", 3, "timestamp"),
            ("2017-10-09 07:01:55,sixty,1,66.0,c\n", 2, "duration"),
            ("2017-10-09 07:01:55,-1,1,66.0,c\n", 2, "duration"),
            ("2017-10-09 07:01:55,66.0,-1,66.0,c\n", 2, "num_gpus"),
            ("2017-10-09 07:01:55,66.0,1\n", 2, "gpu_time"),
        ];
        for (rows, line, field) in cases {
            let (_d, p) = write_tmp("philly.csv", &format!("timestamp,duration,num_gpus,gpu_time,cluster\n{rows}"));
            let e = load(&p, &LoadOptions::default()).unwrap_err();
            assert!(e.file.ends_with("philly.csv"));
            assert_eq!((e.line, e.field.as_deref()), (Some(line), Some(field)), "{e}");
        }
    }
}
