//! The CronJob controller (`pkg/controller/cronjob/cronjob_controllerv2.go`) and the cron schedule
//! syntax it accepts (`robfig/cron/v3` `ParseStandard`: five fields `minute hour day-of-month
//! month day-of-week` with `*`, `?`, ranges, steps, lists and names, or `@yearly`, `@annually`,
//! `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`).
//!
//! Each sync finds the most recent missed schedule time after the last one (or the creation
//! time, or `now − startingDeadlineSeconds`), starts a Job for it unless the deadline has passed or
//! `concurrencyPolicy` says otherwise (Forbid skips while a Job is active; Replace deletes the
//! active ones first), trims finished Jobs to the history limits (3 successful, 1 failed), and
//! requeues itself 100 ms after the next schedule time, as upstream.
//!
//! **Calendar:** simulated time 0 is 1970-01-01 00:00:00 UTC (a Thursday); only UTC is supported.

use super::job::{Job, JobSpec};
use super::{Action, Kind, Meta, Owner, SyncContext, Workload};
use crate::engine::time::{SimDuration, SimTime};
use crate::model::selector::Labels;

/// Annotation holding a Job's scheduled time (`batch.kubernetes.io/cronjob-scheduled-timestamp`).
pub const ANNOTATION_SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// Upstream gives up looking back after this many missed schedules (and records an event).
pub const MAX_MISSED_SCHEDULES: u32 = 100;
/// Upstream requeues this long after the next schedule time.
pub const NEXT_SCHEDULE_DELTA: SimDuration = SimDuration::from_millis(100);

/// `spec.concurrencyPolicy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ConcurrencyPolicy {
    /// Jobs may overlap.
    #[default]
    Allow,
    /// Skip a run while a Job is active.
    Forbid,
    /// Delete the active Jobs and start the new one.
    Replace,
}

/// A parsed cron schedule: bit sets of allowed values per field.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Schedule {
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    dom_star: bool,
    dow_star: bool,
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn parse_value(s: &str, names: &[&str], offset: u32) -> Result<u32, String> {
    let l = s.to_ascii_lowercase();
    if let Some(i) = names.iter().position(|n| *n == l) {
        return Ok(i as u32 + offset);
    }
    s.parse::<u32>().map_err(|_| format!("failed to parse int from {s}"))
}

/// One field: returns (bits, star).
fn parse_field(field: &str, min: u32, max: u32, names: &[&str], name_offset: u32) -> Result<(u64, bool), String> {
    let mut bits = 0u64;
    let mut star = false;
    for expr in field.split(',') {
        let (range, step) = match expr.split_once('/') {
            Some((r, s)) => (r, Some(s.parse::<u32>().map_err(|_| format!("failed to parse int from {s}"))?)),
            None => (expr, None),
        };
        let (mut lo, mut hi, mut this_star) = if range == "*" || range == "?" {
            (min, max, true)
        } else if let Some((a, b)) = range.split_once('-') {
            (parse_value(a, names, name_offset)?, parse_value(b, names, name_offset)?, false)
        } else {
            let v = parse_value(range, names, name_offset)?;
            (v, v, false)
        };
        if let Some(st) = step {
            if st == 0 {
                return Err(format!("step of range should be a positive number: {expr}"));
            }
            if !range.contains('-') && range != "*" && range != "?" {
                hi = max; // "N/step" means "N-max/step".
            }
            if st > 1 {
                this_star = false;
            }
        }
        if lo < min {
            return Err(format!("beginning of range ({lo}) below minimum ({min}): {expr}"));
        }
        if hi > max {
            return Err(format!("end of range ({hi}) above maximum ({max}): {expr}"));
        }
        if lo > hi {
            return Err(format!("beginning of range ({lo}) beyond end of range ({hi}): {expr}"));
        }
        let st = step.unwrap_or(1);
        while lo <= hi {
            bits |= 1 << lo;
            lo += st;
        }
        star |= this_star;
    }
    Ok((bits, star))
}

impl Schedule {
    /// Parses a standard 5-field cron expression or a descriptor.
    pub fn parse(spec: &str) -> Result<Schedule, String> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err("empty spec string".into());
        }
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            return Err("time zones in the schedule are not allowed; use spec.timeZone".into());
        }
        let expanded = match spec {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            s if s.starts_with('@') => return Err(format!("unrecognized descriptor: {s}")),
            s => s,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!("expected exactly 5 fields, found {}: {spec}", fields.len()));
        }
        let (minute, _) = parse_field(fields[0], 0, 59, &[], 0)?;
        let (hour, _) = parse_field(fields[1], 0, 23, &[], 0)?;
        let (dom, dom_star) = parse_field(fields[2], 1, 31, &[], 0)?;
        let (month, _) = parse_field(fields[3], 1, 12, &MONTHS, 1)?;
        let (dow, dow_star) = parse_field(fields[4], 0, 6, &DAYS, 0)?;
        Ok(Schedule { minute, hour, dom, month, dow, dom_star, dow_star })
    }

    fn day_matches(&self, d: u32, dow: u32) -> bool {
        let a = self.dom & (1 << d) != 0;
        let b = self.dow & (1 << dow) != 0;
        if self.dom_star || self.dow_star { a && b } else { a || b }
    }

    /// The first schedule time strictly after `t` (`None` if none within 5 years).
    pub fn next(&self, t: SimTime) -> Option<SimTime> {
        // Start at the next whole minute.
        let mut m = t.as_secs() / 60 + 1;
        let limit = m + 5 * 366 * 24 * 60;
        while m < limit {
            let days = (m / (24 * 60)) as i64;
            let (_, month, day) = civil_from_days(days);
            let dow = ((days + 4).rem_euclid(7)) as u32;
            let minute_of_day = m % (24 * 60);
            if self.month & (1 << month) == 0 {
                // First day of the next month.
                let (y, mo, _) = civil_from_days(days);
                let (ny, nm) = if mo == 12 { (y + 1, 1) } else { (y, mo + 1) };
                m = days_from_civil(ny, nm, 1) as u64 * 24 * 60;
                continue;
            }
            if !self.day_matches(day, dow) {
                m = (days as u64 + 1) * 24 * 60;
                continue;
            }
            let hour = (minute_of_day / 60) as u32;
            if self.hour & (1 << hour) == 0 {
                m = m - (m % 60) + 60;
                continue;
            }
            if self.minute & (1 << (minute_of_day % 60)) == 0 {
                m += 1;
                continue;
            }
            return Some(SimTime(m * 60 * 1_000_000));
        }
        None
    }
}

/// (year, month 1..=12, day 1..=31) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (y + (m <= 2) as i64, m, d)
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = ((m + 9) % 12) as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `spec` of a CronJob.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CronJobSpec {
    /// The parsed `schedule`.
    pub schedule: Schedule,
    /// `schedule` as written.
    pub schedule_text: String,
    /// `concurrencyPolicy`.
    pub concurrency_policy: ConcurrencyPolicy,
    /// `startingDeadlineSeconds`.
    pub starting_deadline_seconds: Option<i64>,
    /// `successfulJobsHistoryLimit` (default 3).
    pub successful_jobs_history_limit: i32,
    /// `failedJobsHistoryLimit` (default 1).
    pub failed_jobs_history_limit: i32,
    /// `suspend`.
    pub suspend: bool,
    /// `jobTemplate.metadata.labels`.
    pub job_labels: Labels,
    /// `jobTemplate.spec`.
    pub job_template: JobSpec,
}

/// `status` of a CronJob.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CronJobStatus {
    /// `lastScheduleTime`.
    pub last_schedule_time: Option<SimTime>,
    /// `lastSuccessfulTime`.
    pub last_successful_time: Option<SimTime>,
}

/// A CronJob.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CronJob {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: CronJobSpec,
    /// Status.
    pub status: CronJobStatus,
}

/// Upstream `mostRecentScheduleTime`: the latest schedule time in `(earliest, now]` and how many
/// there were (capped just above [`MAX_MISSED_SCHEDULES`]).
pub fn most_recent_schedule_time(s: &Schedule, earliest: SimTime, now: SimTime) -> (Option<SimTime>, u32) {
    let mut last = None;
    let mut missed = 0u32;
    let mut t = earliest;
    while let Some(n) = s.next(t) {
        if n > now {
            break;
        }
        last = Some(n);
        missed = missed.saturating_add(1);
        t = n;
    }
    (last, missed)
}

/// One sync of a CronJob.
pub fn sync(ctx: &SyncContext<'_>, cj: &CronJob) -> Vec<Action> {
    let now = ctx.now;
    let mut out = Vec::new();
    let jobs: Vec<&Job> = ctx
        .owned_objects(cj.meta.uid)
        .into_iter()
        .filter_map(|w| match w {
            Workload::Job(j) => Some(j),
            _ => None,
        })
        .collect();
    let mut status = cj.status.clone();
    // History limits: delete the oldest finished Jobs beyond the limits.
    let mut succeeded: Vec<&Job> = jobs.iter().copied().filter(|j| j.status.completion_time.is_some()).collect();
    let mut failed: Vec<&Job> = jobs.iter().copied().filter(|j| j.status.failed_time.is_some()).collect();
    for j in &succeeded {
        if status.last_successful_time.is_none_or(|t| j.status.completion_time.is_some_and(|c| c > t)) {
            status.last_successful_time = j.status.completion_time;
        }
    }
    for (list, limit) in
        [(&mut succeeded, cj.spec.successful_jobs_history_limit), (&mut failed, cj.spec.failed_jobs_history_limit)]
    {
        list.sort_by_key(|j| (j.status.start_time.unwrap_or(j.meta.created), j.meta.name.clone()));
        let extra = list.len().saturating_sub(limit.max(0) as usize);
        for j in &list[..extra] {
            out.push(Action::Delete(key_of(j)));
        }
    }
    let active: Vec<&Job> = jobs.iter().copied().filter(|j| !j.is_finished()).collect();
    if !cj.spec.suspend {
        let mut earliest = status.last_schedule_time.unwrap_or(cj.meta.created);
        if let Some(d) = cj.spec.starting_deadline_seconds {
            let floor = SimTime(now.0.saturating_sub(SimDuration::from_secs(d.max(0) as u64).0));
            earliest = earliest.max(floor);
        }
        let (scheduled, missed) = most_recent_schedule_time(&cj.spec.schedule, earliest, now);
        if missed > MAX_MISSED_SCHEDULES {
            out.push(Action::Record {
                reason: "TooManyMissedTimes",
                message: format!(
                    "too many missed start times: {missed}; set or decrease .spec.startingDeadlineSeconds"
                ),
            });
        }
        if let Some(t) = scheduled {
            let too_late =
                cj.spec.starting_deadline_seconds.is_some_and(|d| t + SimDuration::from_secs(d.max(0) as u64) < now);
            let exists = jobs.iter().any(|j| j.meta.name == job_name(cj, t));
            if too_late {
                out.push(Action::Record { reason: "MissSchedule", message: format!("missed scheduled time {}", t.0) });
            } else if exists {
                // Already started (the status update of lastScheduleTime may have been skipped).
            } else if cj.spec.concurrency_policy == ConcurrencyPolicy::Forbid && !active.is_empty() {
                out.push(Action::Record {
                    reason: "JobAlreadyActive",
                    message: "not starting a job because the previous one is still running".into(),
                });
            } else {
                if cj.spec.concurrency_policy == ConcurrencyPolicy::Replace {
                    for j in &active {
                        out.push(Action::Delete(key_of(j)));
                    }
                }
                out.push(Action::Create(Box::new(Workload::Job(new_job(cj, t)))));
                out.push(Action::Record {
                    reason: "SuccessfulCreate",
                    message: format!("created job {}", job_name(cj, t)),
                });
                status.last_schedule_time = Some(t);
            }
        }
        if let Some(next) = cj.spec.schedule.next(now) {
            out.push(Action::RequeueAfter(next.saturating_since(now) + NEXT_SCHEDULE_DELTA));
        }
    }
    if status != cj.status {
        let mut new = cj.clone();
        new.status = status;
        out.push(Action::Update(Box::new(Workload::CronJob(new))));
    }
    out
}

fn key_of(j: &Job) -> super::ObjectKey {
    super::ObjectKey { kind: Kind::Job, namespace: j.meta.namespace.clone(), name: j.meta.name.clone() }
}

/// Upstream `getJobName`: the CronJob's name and the scheduled time in minutes since the epoch.
pub fn job_name(cj: &CronJob, t: SimTime) -> String {
    format!("{}-{}", cj.meta.name, t.as_secs() / 60)
}

fn new_job(cj: &CronJob, t: SimTime) -> Job {
    let mut annotations = std::collections::BTreeMap::new();
    annotations.insert(ANNOTATION_SCHEDULED_TIMESTAMP.to_string(), format!("{}", t.as_secs()));
    let meta = Meta {
        name: job_name(cj, t),
        namespace: cj.meta.namespace.clone(),
        labels: cj.spec.job_labels.clone(),
        annotations,
        owner: Some(Owner { kind: Kind::CronJob, name: cj.meta.name.clone(), uid: cj.meta.uid }),
        ..Default::default()
    };
    Job::new(meta, cj.spec.job_template.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, mo: u32, d: u32, h: u64, mi: u64) -> SimTime {
        SimTime(((days_from_civil(y, mo, d) as u64 * 24 + h) * 60 + mi) * 60 * 1_000_000)
    }

    #[test]
    fn the_calendar_round_trips_and_knows_weekdays_and_leap_years() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28), 2, "2000 is a leap year");
        assert_eq!(days_from_civil(1900 + 200, 3, 1) - days_from_civil(2100, 2, 28), 1, "2100 is not");
        for d in [0, 59, 365, 11_000, 20_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn cron_expressions_parse_like_robfig_standard_and_bad_ones_are_errors() {
        for ok in ["*/5 * * * *", "0 9-17 * * MON-FRI", "30 2 1,15 * *", "@hourly", "0 0 ? JAN,jul sun", "5/15 * * * *"]
        {
            assert!(Schedule::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "* * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 7",
            "*/0 * * * *",
            "@every 5m",
            "5-1 * * * *",
            "TZ=UTC * * * * *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn next_fire_times_follow_the_fields() {
        let t0 = at(2024, 1, 1, 10, 7); // Monday
        let s = Schedule::parse("*/15 * * * *").unwrap();
        assert_eq!(s.next(t0), Some(at(2024, 1, 1, 10, 15)));
        assert_eq!(s.next(at(2024, 1, 1, 10, 15)), Some(at(2024, 1, 1, 10, 30)), "strictly after");
        let h = Schedule::parse("@hourly").unwrap();
        assert_eq!(h.next(at(2024, 12, 31, 23, 30)), Some(at(2025, 1, 1, 0, 0)));
        let w = Schedule::parse("0 9 * * MON-FRI").unwrap();
        assert_eq!(w.next(at(2024, 1, 5, 10, 0)), Some(at(2024, 1, 8, 9, 0)), "Friday 10:00 → Monday 9:00");
        let leap = Schedule::parse("0 0 29 2 *").unwrap();
        assert_eq!(leap.next(at(2024, 3, 1, 0, 0)), Some(at(2028, 2, 29, 0, 0)));
    }

    #[test]
    fn restricted_day_of_month_and_day_of_week_match_either() {
        // The 13th or any Friday.
        let s = Schedule::parse("0 0 13 * FRI").unwrap();
        // 2024-09-06 is a Friday, before the 13th.
        assert_eq!(s.next(at(2024, 9, 1, 0, 0)), Some(at(2024, 9, 6, 0, 0)));
        // With a star day-of-week, only the 13th.
        let s = Schedule::parse("0 0 13 * *").unwrap();
        assert_eq!(s.next(at(2024, 9, 1, 0, 0)), Some(at(2024, 9, 13, 0, 0)));
        // A stepped star is not a star: "*/2" days AND Mondays → either.
        let s = Schedule::parse("0 0 */10 * MON").unwrap();
        assert_eq!(s.next(at(2024, 9, 1, 0, 0)), Some(at(2024, 9, 2, 0, 0)), "Monday the 2nd");
    }

    #[test]
    fn the_most_recent_missed_time_is_found() {
        let s = Schedule::parse("*/10 * * * *").unwrap();
        let (t, n) = most_recent_schedule_time(&s, SimTime::ZERO, SimTime(35 * 60 * 1_000_000));
        assert_eq!((t, n), (Some(SimTime(30 * 60 * 1_000_000)), 3));
        assert_eq!(most_recent_schedule_time(&s, SimTime::ZERO, SimTime(5 * 60 * 1_000_000)), (None, 0));
    }

    fn cron(schedule: &str, policy: ConcurrencyPolicy) -> CronJob {
        let mut template = crate::scheduler::testing::make_pod("t", &[("cpu", 10)]);
        template.restart_policy = crate::model::pod::RestartPolicy::Never;
        CronJob {
            meta: Meta { name: "nightly".into(), namespace: "default".into(), ..Default::default() },
            spec: CronJobSpec {
                schedule: Schedule::parse(schedule).unwrap(),
                schedule_text: schedule.into(),
                concurrency_policy: policy,
                starting_deadline_seconds: None,
                successful_jobs_history_limit: 3,
                failed_jobs_history_limit: 1,
                suspend: false,
                job_labels: Default::default(),
                job_template: JobSpec {
                    parallelism: 1,
                    completions: Some(1),
                    backoff_limit: 6,
                    active_deadline_seconds: None,
                    completion_mode: Default::default(),
                    suspend: false,
                    ttl_seconds_after_finished: None,
                    template,
                },
            },
            status: Default::default(),
        }
    }

    fn jobs_created(acts: &[Action]) -> Vec<String> {
        acts.iter()
            .filter_map(|a| match a {
                Action::Create(w) => Some(w.meta().name.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_job_is_created_at_each_schedule_time_and_the_next_sync_is_100ms_after_the_next_one() {
        let mut f = crate::controllers::testing::Fixture::new(1);
        let uid = f.add(Workload::CronJob(cron("*/10 * * * *", ConcurrencyPolicy::Allow)));
        let Some(Workload::CronJob(c)) = f.store.by_uid(uid).cloned() else { panic!() };
        let acts = sync(&f.ctx(), &c);
        assert!(jobs_created(&acts).is_empty());
        assert!(acts.contains(&Action::RequeueAfter(SimDuration::from_secs(600) + NEXT_SCHEDULE_DELTA)));
        f.now = SimTime(600_100_000);
        let acts = sync(&f.ctx(), &c);
        assert_eq!(jobs_created(&acts), vec!["nightly-10"], "named after the schedule time in minutes");
    }

    #[test]
    fn forbid_skips_while_a_job_is_active_and_replace_deletes_it() {
        for (policy, want_create, want_delete) in
            [(ConcurrencyPolicy::Forbid, 0, 0), (ConcurrencyPolicy::Replace, 1, 1), (ConcurrencyPolicy::Allow, 1, 0)]
        {
            let mut f = crate::controllers::testing::Fixture::new(1);
            let uid = f.add(Workload::CronJob(cron("*/10 * * * *", policy)));
            let Some(Workload::CronJob(mut c)) = f.store.by_uid(uid).cloned() else { panic!() };
            let running = new_job(&c, SimTime(600_000_000));
            f.add(Workload::Job(running));
            c.status.last_schedule_time = Some(SimTime(600_000_000));
            f.now = SimTime(1_200_000_000);
            let acts = sync(&f.ctx(), &c);
            let deletes = acts.iter().filter(|a| matches!(a, Action::Delete(_))).count();
            assert_eq!((jobs_created(&acts).len(), deletes), (want_create, want_delete), "{policy:?}");
        }
    }

    #[test]
    fn a_run_missed_beyond_the_starting_deadline_is_skipped() {
        let mut f = crate::controllers::testing::Fixture::new(1);
        let mut c0 = cron("0 * * * *", ConcurrencyPolicy::Allow);
        c0.spec.starting_deadline_seconds = Some(60);
        let uid = f.add(Workload::CronJob(c0));
        let Some(Workload::CronJob(c)) = f.store.by_uid(uid).cloned() else { panic!() };
        f.now = SimTime(3_600_000_000 + 120_000_000);
        assert!(jobs_created(&sync(&f.ctx(), &c)).is_empty(), "2 minutes late with a 60 s deadline");
        f.now = SimTime(3_600_000_000 + 30_000_000);
        assert_eq!(jobs_created(&sync(&f.ctx(), &c)).len(), 1);
    }

    #[test]
    fn finished_jobs_beyond_the_history_limits_are_deleted_oldest_first() {
        let mut f = crate::controllers::testing::Fixture::new(1);
        let uid = f.add(Workload::CronJob(cron("0 * * * *", ConcurrencyPolicy::Allow)));
        let Some(Workload::CronJob(c)) = f.store.by_uid(uid).cloned() else { panic!() };
        for h in 1..=5u64 {
            let mut j = new_job(&c, SimTime(h * 3_600_000_000));
            j.status.start_time = Some(SimTime(h * 3_600_000_000));
            j.status.completion_time = Some(SimTime(h * 3_600_000_000 + 1));
            f.add(Workload::Job(j));
        }
        f.now = SimTime(5 * 3_600_000_000 + 10);
        let acts = sync(&f.ctx(), &c);
        let deleted: Vec<String> = acts
            .iter()
            .filter_map(|a| match a {
                Action::Delete(k) => Some(k.name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(deleted, vec!["nightly-60", "nightly-120"]);
    }
}
