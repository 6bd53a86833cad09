//! The Deployment controller (stub, filled below).

use super::{Action, Counts, IntOrPercent, Meta, SyncContext};
use crate::engine::time::SimTime;
use crate::model::pod::Pod;
use crate::model::selector::LabelSelector;

/// `spec.strategy`.
#[derive(Clone, Debug, PartialEq)]
pub enum Strategy {
    /// Kill all old pods, then create the new ones.
    Recreate,
    /// Replace pods progressively.
    RollingUpdate {
        /// `maxSurge` (default 25%).
        max_surge: IntOrPercent,
        /// `maxUnavailable` (default 25%).
        max_unavailable: IntOrPercent,
    },
}

/// `spec` of a Deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentSpec {
    /// `replicas` (default 1).
    pub replicas: i32,
    /// `selector`.
    pub selector: LabelSelector,
    /// `template`.
    pub template: Pod,
    /// `strategy`.
    pub strategy: Strategy,
    /// `minReadySeconds`.
    pub min_ready_seconds: i32,
    /// `revisionHistoryLimit` (default 10).
    pub revision_history_limit: i32,
    /// `progressDeadlineSeconds` (default 600).
    pub progress_deadline_seconds: i32,
    /// `paused`.
    pub paused: bool,
}

/// `status` of a Deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeploymentStatus {
    /// Active pods of all its ReplicaSets.
    pub replicas: i32,
    /// Active pods of the newest ReplicaSet.
    pub updated_replicas: i32,
    /// Ready pods.
    pub ready_replicas: i32,
    /// Available pods.
    pub available_replicas: i32,
    /// `replicas − available` (at least 0).
    pub unavailable_replicas: i32,
    /// Progressing condition: `True` / `False`.
    pub progressing: bool,
    /// Reason of the Progressing condition (`NewReplicaSetAvailable`, `ProgressDeadlineExceeded`, ...).
    pub progressing_reason: String,
    /// Last time the rollout made progress.
    pub last_progress: SimTime,
}

/// A Deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Deployment {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: DeploymentSpec,
    /// Status.
    pub status: DeploymentStatus,
}

/// One sync.
pub fn sync(_ctx: &SyncContext<'_>, _o: &Deployment) -> Vec<Action> {
    Vec::new()
}

/// Counts.
pub fn counts(_ctx: &SyncContext<'_>, _o: &Deployment) -> Counts {
    Counts::default()
}
