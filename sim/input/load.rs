//! Load curves (`workloads.load` and the `setLoad` timeline action): the total CPU demand of a
//! workload over simulated time, as a constant, steps, a diurnal sine, or a CSV time series. The
//! kubelet model (`sim/run/hpa.rs`) splits the demand evenly over the target's Ready pods.
//!
//! Curve times are absolute simulated times (also for a curve set by `setLoad`).

use crate::controllers::{Kind, ObjectKey};
use crate::engine::time::{SimDuration, SimTime};
use crate::input::error::InputError;
use crate::input::go_duration::{GoDuration, parse_duration_micros};
use crate::model::quantity::{Quantity, parse_cpu_millis};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::Path;

/// One `workloads.load` entry (also the body of `setLoad`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoadSpec {
    /// `Kind/name` of the workload, e.g. `Deployment/web`.
    pub target: Spanned<String>,
    /// Namespace of the target (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// The curve.
    pub curve: CurveSpec,
}

/// A curve as written: exactly one of the fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CurveSpec {
    /// A constant demand, e.g. `2000m`.
    #[serde(default)]
    pub constant: Option<Quantity>,
    /// Steps: from `at` on, the demand is `cpu` (0 before the first step).
    #[serde(default)]
    pub steps: Option<Vec<StepSpec>>,
    /// `mean + amplitude · sin(2π (t + phase) / period)`, never below 0.
    #[serde(default)]
    pub diurnal: Option<DiurnalSpec>,
    /// A CSV file of `time,cpu` rows (time a Go duration or seconds), held as steps.
    #[serde(default)]
    pub csv: Option<String>,
}

/// One step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StepSpec {
    /// From when.
    pub at: GoDuration,
    /// Total CPU demand.
    pub cpu: Quantity,
}

/// A diurnal curve.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DiurnalSpec {
    /// Mean demand.
    pub mean: Quantity,
    /// Amplitude of the sine.
    pub amplitude: Quantity,
    /// Period (e.g. `24h`).
    pub period: GoDuration,
    /// Phase shift (default 0).
    #[serde(default)]
    pub phase: Option<GoDuration>,
}

/// A compiled curve: total CPU demand in millicores as a function of time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum LoadCurve {
    /// Always this demand.
    Constant(i64),
    /// `(from, demand)` in time order; 0 before the first.
    Steps(Vec<(SimTime, i64)>),
    /// `mean + amplitude · sin(2π (t + phase) / period)`, clamped at 0, rounded to the millicore.
    Diurnal {
        /// Mean, millicores.
        mean_millis: i64,
        /// Amplitude, millicores.
        amplitude_millis: i64,
        /// Period.
        period: SimDuration,
        /// Phase shift.
        phase: SimDuration,
    },
}

impl LoadCurve {
    /// The demand at `t`, in millicores.
    pub fn cpu_millis_at(&self, t: SimTime) -> i64 {
        match self {
            LoadCurve::Constant(v) => *v,
            LoadCurve::Steps(steps) => {
                let i = steps.partition_point(|(at, _)| *at <= t);
                if i == 0 { 0 } else { steps[i - 1].1 }
            }
            LoadCurve::Diurnal { mean_millis, amplitude_millis, period, phase } => {
                // Reduce the angle in integers so that long runs keep full precision.
                let pos = (t.0 + phase.0) % period.0.max(1);
                let angle = 2.0 * std::f64::consts::PI * (pos as f64 / period.0.max(1) as f64);
                let v = *mean_millis as f64 + *amplitude_millis as f64 * libm::sin(angle);
                v.round().max(0.0) as i64
            }
        }
    }
}

fn err_at<T>(file: &str, s: &Spanned<T>, field: &str, msg: impl Into<String>) -> InputError {
    InputError::at(file, s.referenced.line(), s.referenced.column(), field, msg)
}

fn millis(q: &Quantity) -> Result<i64, String> {
    if q.is_negative() {
        return Err(format!("a CPU demand must not be negative, got {q}"));
    }
    q.milli_value().map_err(|e| e.to_string())
}

/// Compiles a load entry of scenario `file` (CSV paths relative to `base_dir`); `field` names the
/// entry in errors.
pub fn compile(
    spec: &LoadSpec,
    base_dir: &Path,
    file: &str,
    field: &str,
) -> Result<(ObjectKey, LoadCurve), InputError> {
    let t = &spec.target;
    let (kind, name) = t.value.split_once('/').ok_or_else(|| {
        err_at(
            file,
            t,
            &format!("{field}.target"),
            format!("expected Kind/name (e.g. Deployment/web), got {:?}", t.value),
        )
    })?;
    let kind = match Kind::parse(kind) {
        Some(k @ (Kind::Deployment | Kind::StatefulSet | Kind::ReplicaSet)) => k,
        _ => {
            return Err(err_at(
                file,
                t,
                &format!("{field}.target"),
                format!("{kind:?} is not a Deployment, StatefulSet or ReplicaSet"),
            ));
        }
    };
    if name.is_empty() || name.contains('/') {
        return Err(err_at(file, t, &format!("{field}.target"), format!("invalid name {name:?}")));
    }
    let key = ObjectKey {
        kind,
        namespace: spec.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into()),
        name: name.to_string(),
    };
    let c = &spec.curve;
    let cf = format!("{field}.curve");
    let count =
        [c.constant.is_some(), c.steps.is_some(), c.diurnal.is_some(), c.csv.is_some()].iter().filter(|b| **b).count();
    if count != 1 {
        return Err(err_at(file, t, &cf, "a curve needs exactly one of constant, steps, diurnal or csv"));
    }
    let curve = if let Some(q) = &c.constant {
        LoadCurve::Constant(millis(q).map_err(|m| err_at(file, t, &format!("{cf}.constant"), m))?)
    } else if let Some(steps) = &c.steps {
        if steps.is_empty() {
            return Err(err_at(file, t, &format!("{cf}.steps"), "needs at least one step"));
        }
        let mut out: Vec<(SimTime, i64)> = Vec::new();
        for (i, s) in steps.iter().enumerate() {
            let sf = format!("{cf}.steps[{i}]");
            let v = millis(&s.cpu).map_err(|m| err_at(file, t, &format!("{sf}.cpu"), m))?;
            if out.last().is_some_and(|(at, _)| at.0 > s.at.0) {
                return Err(err_at(file, t, &format!("{sf}.at"), "steps must be in time order"));
            }
            out.push((SimTime(s.at.0), v));
        }
        LoadCurve::Steps(out)
    } else if let Some(d) = &c.diurnal {
        let df = format!("{cf}.diurnal");
        if d.period.0 == 0 {
            return Err(err_at(file, t, &format!("{df}.period"), "the period must be more than 0s"));
        }
        LoadCurve::Diurnal {
            mean_millis: millis(&d.mean).map_err(|m| err_at(file, t, &format!("{df}.mean"), m))?,
            amplitude_millis: millis(&d.amplitude).map_err(|m| err_at(file, t, &format!("{df}.amplitude"), m))?,
            period: SimDuration(d.period.0),
            phase: SimDuration(d.phase.map(|p| p.0).unwrap_or(0)),
        }
    } else if let Some(rel) = &c.csv {
        let p = Path::new(rel);
        let path = if p.is_absolute() { p.to_path_buf() } else { base_dir.join(p) };
        let shown = path.display().to_string();
        let text = crate::input::yaml::read_file(&path, &shown)
            .map_err(|e| err_at(file, t, &format!("{cf}.csv"), format!("{rel}: {}", e.message)))?;
        LoadCurve::Steps(parse_csv(&text, &shown)?)
    } else {
        unreachable!("exactly one curve kind is set")
    };
    Ok((key, curve))
}

/// Parses a load CSV: rows `time,cpu` (time a Go duration such as `90s` or a number of seconds;
/// cpu a quantity), an optional `time,cpu` header, `#` comments; times must not decrease.
pub fn parse_csv(text: &str, file: &str) -> Result<Vec<(SimTime, i64)>, InputError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut out: Vec<(SimTime, i64)> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            InputError::at(file, line, 1, "", format!("malformed CSV: {e}"))
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if i == 0 && rec.get(0).is_some_and(|f| f.eq_ignore_ascii_case("time")) {
            continue;
        }
        if rec.len() != 2 {
            return Err(InputError::at(file, line, 1, "", format!("expected 2 fields (time,cpu), got {}", rec.len())));
        }
        let (ts, cs) = (&rec[0], &rec[1]);
        let time_us = match ts.parse::<f64>() {
            Ok(secs)
                if secs.is_finite() && secs >= 0.0 && secs * 1e6 <= crate::limits::MAX_RUN_DURATION_MICROS as f64 =>
            {
                (secs * 1e6).round() as u64
            }
            Ok(_) => {
                return Err(InputError::at(file, line, 1, "time", format!("time {ts:?} is out of range")));
            }
            Err(_) => parse_duration_micros(ts)
                .map_err(|e| InputError::at(file, line, 1, "time", format!("invalid time {ts:?}: {e}")))?,
        };
        let cpu = parse_cpu_millis(cs)
            .map_err(|e| InputError::at(file, line, 2, "cpu", format!("invalid cpu {cs:?}: {e}")))?;
        if out.last().is_some_and(|(t, _)| t.0 > time_us) {
            return Err(InputError::at(file, line, 1, "time", "times must not decrease"));
        }
        out.push((SimTime(time_us), cpu));
    }
    if out.is_empty() {
        return Err(InputError::file(file, "the load CSV has no rows"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(sec: u64) -> SimTime {
        SimTime(sec * 1_000_000)
    }

    fn spec(yaml: &str) -> LoadSpec {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn steps_hold_their_value_from_their_time_and_are_zero_before_the_first() {
        let (key, c) = compile(
            &spec("target: Deployment/web\ncurve: {steps: [{at: 10s, cpu: 1000m}, {at: 5m, cpu: 6}]}\n"),
            Path::new("."),
            "s.yaml",
            "workloads.load[0]",
        )
        .unwrap();
        assert_eq!(key.to_string(), "Deployment/default/web");
        let cases = [(0, 0), (9, 0), (10, 1000), (299, 1000), (300, 6000), (10_000, 6000)];
        for (t, want) in cases {
            assert_eq!(c.cpu_millis_at(s(t)), want, "at {t}s");
        }
    }

    #[test]
    fn a_diurnal_curve_peaks_a_quarter_period_in_and_never_goes_below_zero() {
        let (_, c) = compile(
            &spec("target: deploy/web\nnamespace: prod\ncurve: {diurnal: {mean: 2, amplitude: 3, period: 24h}}\n"),
            Path::new("."),
            "s.yaml",
            "load",
        )
        .unwrap();
        assert_eq!(c.cpu_millis_at(s(0)), 2000);
        assert_eq!(c.cpu_millis_at(s(6 * 3600)), 5000);
        assert_eq!(c.cpu_millis_at(s(18 * 3600)), 0, "2 - 3 is clamped at 0");
        assert_eq!(c.cpu_millis_at(s(24 * 3600)), 2000, "periodic");
        let (_, shifted) = compile(
            &spec("target: deploy/web\ncurve: {diurnal: {mean: 2, amplitude: 1, period: 24h, phase: 6h}}\n"),
            Path::new("."),
            "s.yaml",
            "load",
        )
        .unwrap();
        assert_eq!(shifted.cpu_millis_at(s(0)), 3000);
    }

    #[test]
    fn a_csv_with_a_header_comments_and_durations_or_seconds_parses() {
        let rows = parse_csv("time,cpu\n# warm-up\n0,500m\n90s,2\n300, 1500m\n", "l.csv").unwrap();
        assert_eq!(rows, vec![(s(0), 500), (s(90), 2000), (s(300), 1500)]);
    }

    #[test]
    fn malformed_csv_rows_are_errors_naming_the_file_and_line() {
        let cases = [
            ("a missing field", "0,1\n10\n", 2, ""),
            ("a bad time", "0,1\nsoon,2\n", 2, "time"),
            ("a bad quantity", "time,cpu\n0,1\n5s,lots\n", 3, "cpu"),
            ("a negative cpu", "0,-1\n", 1, "cpu"),
            ("times going back", "10,1\n5,2\n", 2, "time"),
        ];
        for (name, text, line, field) in cases {
            let e = parse_csv(text, "l.csv").expect_err(name);
            assert_eq!(e.file, "l.csv", "{name}");
            assert_eq!(e.line, Some(line), "{name}: {e}");
            assert_eq!(e.field.clone().unwrap_or_default(), field, "{name}: {e}");
        }
        assert!(parse_csv("# nothing\n", "l.csv").is_err(), "an empty series");
    }

    #[test]
    fn a_curve_needs_exactly_one_kind_and_a_kind_slash_name_target() {
        let two = spec("target: Deployment/web\ncurve: {constant: 1, csv: x.csv}\n");
        let e = compile(&two, Path::new("."), "s.yaml", "workloads.load[0]").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("workloads.load[0].curve"));
        assert_eq!(e.line, Some(1));
        let bad = spec("target: web\ncurve: {constant: 1}\n");
        let e = compile(&bad, Path::new("."), "s.yaml", "workloads.load[0]").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("workloads.load[0].target"));
        let job = spec("target: Job/x\ncurve: {constant: 1}\n");
        assert!(compile(&job, Path::new("."), "s.yaml", "f").is_err());
    }
}
