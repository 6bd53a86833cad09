//! The Job controller (filled below).

use super::{Action, Counts, Meta, SyncContext};
use crate::engine::time::SimTime;
use crate::model::pod::Pod;

/// `spec.completionMode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CompletionMode {
    /// Any `completions` successful pods complete the Job.
    #[default]
    NonIndexed,
    /// One successful pod per index `0..completions`.
    Indexed,
}

/// `spec` of a Job.
#[derive(Clone, Debug, PartialEq)]
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
#[derive(Clone, Debug, Default, PartialEq)]
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
}

/// A Job.
#[derive(Clone, Debug, PartialEq)]
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

/// One sync.
pub fn sync(_ctx: &SyncContext<'_>, _o: &Job) -> Vec<Action> {
    Vec::new()
}

/// Counts.
pub fn counts(_ctx: &SyncContext<'_>, _o: &Job) -> Counts {
    Counts::default()
}
