//! The Job controller (`pkg/controller/job/job_controller.go`): keeps
//! `min(parallelism, completions − succeeded)` pods active (NonIndexed), or one pod per missing
//! completion index (Indexed, lowest first, with the `batch.kubernetes.io/job-completion-index`
//! annotation); waits the pod-failure backoff (10 s doubled per failure since the last success,
//! capped at [`MAX_JOB_POD_FAILURE_BACKOFF`]) before replacing failed pods; fails the Job when
//! `failed > backoffLimit` (`BackoffLimitExceeded`; with restartPolicy OnFailure, container restarts
//! count too: `restarts + failed ≥ backoffLimit`) or when `activeDeadlineSeconds` has passed
//! (`DeadlineExceeded`), deleting its active pods; completes when enough pods succeeded; and deletes
//! itself `ttlSecondsAfterFinished` after finishing.
//!
//! A pod counts as failed when it ended Failed, or was deleted by someone else than the Job
//! controller (a node failure, an eviction); pods the controller deletes itself (excess
//! parallelism, the Job failing) do not count.

use super::replicaset::deletion_order;
use super::{
    Action, Counts, Kind, Meta, ObjectKey, SyncContext, Workload, is_active, is_ready, pod_from_template, pod_owner,
};
use crate::cluster::{PodId, PodPhase};
use crate::engine::time::{SimDuration, SimTime};
use crate::model::pod::{Pod, RestartPolicy};
use std::collections::BTreeSet;

/// Initial pod-failure backoff (`DefaultJobPodFailureBackOff`).
pub const DEFAULT_JOB_POD_FAILURE_BACKOFF: SimDuration = SimDuration::from_secs(10);
/// Cap of the pod-failure backoff: 6 minutes (the documented value and the older `MaxJobBackOff`;
/// newer code names a 10-minute `MaxJobPodFailureBackOff`).
pub const MAX_JOB_POD_FAILURE_BACKOFF: SimDuration = SimDuration::from_secs(360);
/// Annotation and label with a pod's completion index (Indexed Jobs).
pub const ANNOTATION_COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
/// Label with the Job's name on its pods.
pub const LABEL_JOB_NAME: &str = "batch.kubernetes.io/job-name";

/// `spec.completionMode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CompletionMode {
    /// Any `completions` successful pods complete the Job.
    #[default]
    NonIndexed,
    /// One successful pod per index `0..completions`.
    Indexed,
}

/// `spec` of a Job.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JobSpec {
    /// `parallelism` (default 1).
    pub parallelism: i32,
    /// `completions` (`None`: a work queue, done at the first success).
    pub completions: Option<i32>,
    /// `backoffLimit` (default 6).
    pub backoff_limit: i32,
    /// `activeDeadlineSeconds`.
    pub active_deadline_seconds: Option<i64>,
    /// `completionMode`.
    pub completion_mode: CompletionMode,
    /// `suspend`.
    pub suspend: bool,
    /// `ttlSecondsAfterFinished`.
    pub ttl_seconds_after_finished: Option<i32>,
    /// `template`.
    pub template: Pod,
}

/// `status` of a Job.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JobStatus {
    /// When the controller first saw it (`startTime`).
    pub start_time: Option<SimTime>,
    /// When the Job completed.
    pub completion_time: Option<SimTime>,
    /// When the Job failed.
    pub failed_time: Option<SimTime>,
    /// Why it failed (`BackoffLimitExceeded`, `DeadlineExceeded`).
    pub failed_reason: Option<String>,
    /// Active pods.
    pub active: i32,
    /// Ready active pods.
    pub ready: i32,
    /// Succeeded pods.
    pub succeeded: i32,
    /// Failed pods.
    pub failed: i32,
    /// Completed indexes (Indexed mode).
    pub completed_indexes: BTreeSet<i32>,
    /// Pods the controller deleted itself (not counted as failures).
    pub removed: BTreeSet<PodId>,
}

/// A Job.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Job {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: JobSpec,
    /// Status.
    pub status: JobStatus,
}

impl Job {
    /// A new Job.
    pub fn new(meta: Meta, spec: JobSpec) -> Self {
        Job { meta, spec, status: Default::default() }
    }

    /// True once Complete or Failed.
    pub fn is_finished(&self) -> bool {
        self.status.completion_time.is_some() || self.status.failed_time.is_some()
    }
}

/// The pod-failure backoff after `failures` consecutive failures (0: none): 10 s, 20 s, 40 s, ...
/// capped at 6 minutes.
pub fn failure_backoff(failures: u32) -> SimDuration {
    if failures == 0 {
        return SimDuration::ZERO;
    }
    let shift = (failures - 1).min(20);
    let d = DEFAULT_JOB_POD_FAILURE_BACKOFF.0.saturating_mul(1u64 << shift);
    SimDuration(d.min(MAX_JOB_POD_FAILURE_BACKOFF.0))
}

fn index_of(p: &Pod) -> Option<i32> {
    p.annotations.get(ANNOTATION_COMPLETION_INDEX).and_then(|v| v.parse().ok())
}

/// One sync of a Job.
pub fn sync(ctx: &SyncContext<'_>, job: &Job) -> Vec<Action> {
    let now = ctx.now;
    let mut out = Vec::new();
    let mut st = job.status.clone();
    let self_key = ObjectKey { kind: Kind::Job, namespace: job.meta.namespace.clone(), name: job.meta.name.clone() };
    if job.is_finished() {
        if let Some(ttl) = job.spec.ttl_seconds_after_finished {
            let done = st.completion_time.or(st.failed_time).unwrap_or(now);
            let at = done + SimDuration::from_secs(ttl.max(0) as u64);
            if now >= at {
                out.push(Action::Delete(self_key));
            } else {
                out.push(Action::RequeueAfter(at.saturating_since(now)));
            }
        }
        return out;
    }
    let pods = ctx.owned_pods(job.meta.uid);
    let states: Vec<(PodId, &crate::cluster::PodState)> = pods.iter().map(|p| (*p, ctx.pod(*p))).collect();
    let active: Vec<PodId> = states.iter().filter(|(_, p)| is_active(p)).map(|(id, _)| *id).collect();
    let succeeded: Vec<&crate::cluster::PodState> =
        states.iter().filter(|(_, p)| p.phase == PodPhase::Succeeded).map(|(_, p)| *p).collect();
    let failed: Vec<&crate::cluster::PodState> = states
        .iter()
        .filter(|(id, p)| p.phase == PodPhase::Failed || (p.phase == PodPhase::Deleted && !st.removed.contains(id)))
        .map(|(_, p)| *p)
        .collect();
    if st.start_time.is_none() && !job.spec.suspend {
        st.start_time = Some(now);
    }
    st.succeeded = succeeded.len() as i32;
    st.failed = failed.len() as i32;
    if job.spec.completion_mode == CompletionMode::Indexed {
        st.completed_indexes = succeeded.iter().filter_map(|p| index_of(&p.pod)).collect();
    }
    let delete_all = |out: &mut Vec<Action>, st: &mut JobStatus, reason: &'static str| {
        for id in &active {
            st.removed.insert(*id);
            out.push(Action::DeletePod { pod: *id, reason });
        }
    };
    // Failure: backoff limit, then deadline.
    let restarts: i64 = if job.spec.template.restart_policy == RestartPolicy::OnFailure {
        active.iter().map(|p| ctx.pod(*p).restarts as i64).sum()
    } else {
        0
    };
    let over_backoff = if restarts > 0 {
        restarts + st.failed as i64 >= job.spec.backoff_limit as i64
    } else {
        st.failed > job.spec.backoff_limit
    };
    let deadline = job
        .spec
        .active_deadline_seconds
        .and_then(|d| st.start_time.map(|s| s + SimDuration::from_secs(d.max(0) as u64)));
    let failure = if over_backoff {
        Some(("BackoffLimitExceeded", "Job has reached the specified backoff limit".to_string()))
    } else if deadline.is_some_and(|d| now >= d) {
        Some(("DeadlineExceeded", "Job was active longer than specified deadline".to_string()))
    } else {
        None
    };
    // Completion.
    let complete = match (job.spec.completion_mode, job.spec.completions) {
        (CompletionMode::Indexed, Some(c)) => st.completed_indexes.len() as i32 >= c,
        (_, Some(c)) => st.succeeded >= c,
        (_, None) => st.succeeded > 0 && active.is_empty(),
    };
    let failure_now = failure.is_some();
    let complete_now = failure.is_none() && complete;
    if let Some((reason, message)) = failure {
        delete_all(&mut out, &mut st, "JobFailed");
        st.failed_time = Some(now);
        st.failed_reason = Some(reason.to_string());
        out.push(Action::Record {
            reason: if reason == "DeadlineExceeded" { "DeadlineExceeded" } else { "BackoffLimitExceeded" },
            message,
        });
    } else if complete {
        delete_all(&mut out, &mut st, "JobComplete");
        st.completion_time = Some(now);
        out.push(Action::Record { reason: "Completed", message: "Job completed".into() });
    } else if job.spec.suspend {
        delete_all(&mut out, &mut st, "JobSuspended");
    } else {
        manage_pods(ctx, job, &active, &succeeded, &failed, &mut st, &mut out);
        if let Some(d) = deadline {
            out.push(Action::RequeueAfter(d.saturating_since(now)));
        }
    }
    let remaining_active: Vec<&PodId> = active.iter().filter(|p| !st.removed.contains(p)).collect();
    st.active =
        remaining_active.len() as i32 + out.iter().filter(|a| matches!(a, Action::CreatePod { .. })).count() as i32;
    st.ready = remaining_active.iter().filter(|p| is_ready(ctx.pod(***p))).count() as i32;
    if st != job.status {
        let mut new = job.clone();
        new.status = st;
        out.push(Action::Update(Box::new(Workload::Job(new))));
    }
    // Just finished: come back when the TTL is over.
    if let Some(ttl) = job.spec.ttl_seconds_after_finished
        && (failure_now || complete_now)
    {
        out.push(Action::RequeueAfter(SimDuration::from_secs(ttl.max(0) as u64)));
    }
    out
}

fn manage_pods(
    ctx: &SyncContext<'_>,
    job: &Job,
    active: &[PodId],
    succeeded: &[&crate::cluster::PodState],
    failed: &[&crate::cluster::PodState],
    st: &mut JobStatus,
    out: &mut Vec<Action>,
) {
    let now = ctx.now;
    let parallelism = job.spec.parallelism.max(0);
    let want: i32 = match (job.spec.completion_mode, job.spec.completions) {
        (CompletionMode::Indexed, Some(c)) => parallelism.min(c - st.completed_indexes.len() as i32),
        (_, Some(c)) => parallelism.min(c - st.succeeded),
        (_, None) => {
            if st.succeeded > 0 {
                0
            } else {
                parallelism
            }
        }
    }
    .max(0);
    let have = active.len() as i32;
    if have > want {
        let order = deletion_order(ctx, active, active);
        for id in order.into_iter().take((have - want) as usize) {
            st.removed.insert(id);
            out.push(Action::DeletePod { pod: id, reason: "ExcessParallelism" });
        }
        return;
    }
    if have == want {
        return;
    }
    // Pod-failure backoff: consecutive failures since the last success.
    let last_success = succeeded.iter().filter_map(|p| p.finished).max();
    let recent: Vec<SimTime> =
        failed.iter().filter_map(|p| p.finished).filter(|t| last_success.is_none_or(|s| *t > s)).collect();
    if let Some(last_failure) = recent.iter().max() {
        let wait = failure_backoff(recent.len() as u32);
        let ready_at = *last_failure + wait;
        if now < ready_at {
            out.push(Action::RequeueAfter(ready_at.saturating_since(now)));
            return;
        }
    }
    let n = ((want - have) as usize).min(super::BURST_REPLICAS);
    let mut extra = crate::model::selector::Labels::new();
    extra.insert(LABEL_JOB_NAME.into(), job.meta.name.clone());
    let owner = pod_owner(Kind::Job, &job.meta);
    if job.spec.completion_mode == CompletionMode::Indexed {
        let c = job.spec.completions.unwrap_or(0);
        let busy: BTreeSet<i32> = active.iter().filter_map(|p| index_of(&ctx.pod(*p).pod)).collect();
        let free = (0..c).filter(|i| !st.completed_indexes.contains(i) && !busy.contains(i)).take(n);
        for i in free {
            let mut pod = pod_from_template(
                &job.spec.template,
                owner.clone(),
                &job.meta.namespace,
                format!("{}-{i}-", job.meta.name),
                &extra,
            );
            pod.annotations.insert(ANNOTATION_COMPLETION_INDEX.into(), i.to_string());
            pod.labels.insert(ANNOTATION_COMPLETION_INDEX.into(), i.to_string());
            out.push(Action::CreatePod { pod: Box::new(pod), generate_name: true });
        }
    } else {
        for _ in 0..n {
            let pod = pod_from_template(
                &job.spec.template,
                owner.clone(),
                &job.meta.namespace,
                format!("{}-", job.meta.name),
                &extra,
            );
            out.push(Action::CreatePod { pod: Box::new(pod), generate_name: true });
        }
    }
}

/// Counts of a Job: desired = pods it wants active now; settled once finished.
pub fn counts(ctx: &SyncContext<'_>, job: &Job) -> Counts {
    let active = ctx.active_pods(job.meta.uid);
    let ready = active.iter().filter(|p| is_ready(ctx.pod(**p))).count() as i64;
    let desired = if job.is_finished() {
        0
    } else {
        match job.spec.completions {
            Some(c) => job.spec.parallelism.min(c - job.status.succeeded).max(0) as i64,
            None => job.spec.parallelism as i64,
        }
    };
    Counts { desired, ready, available: ready, settled: job.is_finished() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{Fixture, created, deleted, updated};
    use crate::scheduler::testing::make_pod;

    fn job(parallelism: i32, completions: Option<i32>) -> Job {
        let mut template = make_pod("t", &[("cpu", 100)]);
        template.restart_policy = RestartPolicy::Never;
        Job::new(
            Meta { name: "batch".into(), namespace: "default".into(), ..Default::default() },
            JobSpec {
                parallelism,
                completions,
                backoff_limit: 6,
                active_deadline_seconds: None,
                completion_mode: CompletionMode::NonIndexed,
                suspend: false,
                ttl_seconds_after_finished: None,
                template,
            },
        )
    }

    fn stored(f: &mut Fixture, j: Job) -> (u64, Job) {
        let uid = f.add(Workload::Job(j));
        let Some(Workload::Job(j)) = f.store.by_uid(uid).cloned() else { panic!() };
        (uid, j)
    }

    fn finish(f: &mut Fixture, uid: u64, name: &str, phase: PodPhase, at_s: u64) -> PodId {
        let id = f.pod(uid, name, Some(0), true, None);
        f.cluster.terminate(id, phase, SimTime(at_s * 1_000_000));
        id
    }

    #[test]
    fn the_backoff_doubles_from_ten_seconds_to_the_six_minute_cap() {
        let secs: Vec<u64> = (0..8).map(|n| failure_backoff(n).as_micros() / 1_000_000).collect();
        assert_eq!(secs, vec![0, 10, 20, 40, 80, 160, 320, 360]);
        assert_eq!(failure_backoff(100), MAX_JOB_POD_FAILURE_BACKOFF);
    }

    #[test]
    fn a_job_runs_parallelism_pods_bounded_by_remaining_completions() {
        let mut f = Fixture::new(1);
        let (uid, j) = stored(&mut f, job(3, Some(5)));
        assert_eq!(created(&sync(&f.ctx(), &j)).len(), 3);
        for i in 0..3 {
            finish(&mut f, uid, &format!("ok-{i}"), PodPhase::Succeeded, 5);
        }
        f.now = SimTime(6_000_000);
        let acts = sync(&f.ctx(), &j);
        assert_eq!(created(&acts).len(), 2, "5 − 3 succeeded = 2 left");
        assert!(created(&acts).iter().all(|p| p.labels.get(LABEL_JOB_NAME).map(String::as_str) == Some("batch")));
    }

    #[test]
    fn replacements_wait_for_the_failure_backoff() {
        let mut f = Fixture::new(1);
        let (uid, j) = stored(&mut f, job(1, Some(1)));
        finish(&mut f, uid, "f1", PodPhase::Failed, 100);
        finish(&mut f, uid, "f2", PodPhase::Failed, 120);
        f.now = SimTime(130 * 1_000_000);
        // Two consecutive failures: 20 s after the last one (120 s) → 140 s.
        let acts = sync(&f.ctx(), &j);
        assert!(created(&acts).is_empty());
        assert!(acts.contains(&Action::RequeueAfter(SimDuration::from_secs(10))), "{acts:?}");
        f.now = SimTime(140 * 1_000_000);
        assert_eq!(created(&sync(&f.ctx(), &j)).len(), 1);
    }

    #[test]
    fn more_failures_than_the_backoff_limit_fail_the_job() {
        let mut f = Fixture::new(1);
        let mut j0 = job(2, Some(4));
        j0.spec.backoff_limit = 1;
        let (uid, j) = stored(&mut f, j0);
        finish(&mut f, uid, "f1", PodPhase::Failed, 1);
        let running = f.pod(uid, "r", Some(0), true, Some(1));
        f.now = SimTime(100 * 1_000_000);
        let Some(Workload::Job(s)) = updated(&sync(&f.ctx(), &j)).cloned() else { panic!() };
        assert!(s.status.failed_time.is_none(), "failed 1 is not > backoffLimit 1");
        finish(&mut f, uid, "f2", PodPhase::Failed, 50);
        let acts = sync(&f.ctx(), &j);
        assert_eq!(deleted(&acts), vec![running], "the active pod is deleted");
        let Some(Workload::Job(s)) = updated(&acts) else { panic!() };
        assert_eq!(s.status.failed_reason.as_deref(), Some("BackoffLimitExceeded"));
    }

    #[test]
    fn the_active_deadline_fails_the_job_and_is_requeued_before() {
        let mut f = Fixture::new(1);
        let mut j0 = job(1, Some(1));
        j0.spec.active_deadline_seconds = Some(30);
        let (_, j) = stored(&mut f, j0);
        let acts = sync(&f.ctx(), &j);
        assert!(acts.contains(&Action::RequeueAfter(SimDuration::from_secs(30))));
        let Some(Workload::Job(started)) = updated(&acts).cloned() else { panic!() };
        f.now = SimTime(30 * 1_000_000);
        let Some(Workload::Job(s)) = updated(&sync(&f.ctx(), &started)).cloned() else { panic!() };
        assert_eq!(s.status.failed_reason.as_deref(), Some("DeadlineExceeded"));
    }

    #[test]
    fn indexed_jobs_create_one_pod_per_missing_index_lowest_first() {
        let mut f = Fixture::new(1);
        let mut j0 = job(2, Some(4));
        j0.spec.completion_mode = CompletionMode::Indexed;
        let (uid, j) = stored(&mut f, j0);
        let done = f.pod(uid, "done", Some(0), true, None);
        let mut p = f.cluster.pod(done).pod.clone();
        p.annotations.insert(ANNOTATION_COMPLETION_INDEX.into(), "0".into());
        // Re-create the pod with its index annotation.
        p.name = "done-0".into();
        let id = f.cluster.add_pod(p, SimTime::ZERO).unwrap();
        f.cluster.bind(id, crate::cluster::NodeId(0), SimTime::ZERO).unwrap();
        f.cluster.mark_running(id, SimTime::ZERO);
        f.cluster.terminate(id, PodPhase::Succeeded, SimTime(1));
        f.store.add_owned_pod(uid, id);
        f.cluster.terminate(done, PodPhase::Deleted, SimTime(1));
        f.now = SimTime(2_000_000);
        let mut jj = j.clone();
        jj.status.removed.insert(done);
        let acts = sync(&f.ctx(), &jj);
        let idx: Vec<String> =
            created(&acts).iter().map(|p| p.annotations[ANNOTATION_COMPLETION_INDEX].clone()).collect();
        assert_eq!(idx, vec!["1", "2"]);
        assert!(created(&acts)[0].name.starts_with("batch-1-"));
    }

    #[test]
    fn a_job_completes_when_enough_pods_succeeded() {
        let mut f = Fixture::new(1);
        let (uid, j) = stored(&mut f, job(2, Some(2)));
        finish(&mut f, uid, "a", PodPhase::Succeeded, 3);
        finish(&mut f, uid, "b", PodPhase::Succeeded, 4);
        f.now = SimTime(5_000_000);
        let Some(Workload::Job(s)) = updated(&sync(&f.ctx(), &j)).cloned() else { panic!() };
        assert_eq!(s.status.completion_time, Some(SimTime(5_000_000)));
        assert_eq!(s.status.succeeded, 2);
    }
}
