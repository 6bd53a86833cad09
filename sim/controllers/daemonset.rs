//! The DaemonSet controller (filled below).

use super::{Action, Counts, IntOrPercent, Meta, SyncContext};
use crate::model::pod::Pod;
use crate::model::selector::LabelSelector;

/// `spec.updateStrategy`.
#[derive(Clone, Debug, PartialEq)]
pub enum UpdateStrategy {
    /// Replace pods progressively.
    RollingUpdate {
        /// `maxUnavailable` (default 1).
        max_unavailable: IntOrPercent,
        /// `maxSurge` (default 0).
        max_surge: IntOrPercent,
    },
    /// Replace a pod only when it is deleted.
    OnDelete,
}

/// `spec` of a DaemonSet.
#[derive(Clone, Debug, PartialEq)]
pub struct DaemonSetSpec {
    /// `selector`.
    pub selector: LabelSelector,
    /// `template`.
    pub template: Pod,
    /// `minReadySeconds`.
    pub min_ready_seconds: i32,
    /// `updateStrategy`.
    pub update: UpdateStrategy,
}

/// `status` of a DaemonSet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DaemonSetStatus {
    /// `desiredNumberScheduled`.
    pub desired: i32,
    /// `currentNumberScheduled`.
    pub current: i32,
    /// `numberReady`.
    pub ready: i32,
    /// `updatedNumberScheduled`.
    pub updated: i32,
    /// `numberAvailable`.
    pub available: i32,
}

/// A DaemonSet.
#[derive(Clone, Debug, PartialEq)]
pub struct DaemonSet {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: DaemonSetSpec,
    /// Status.
    pub status: DaemonSetStatus,
}

impl DaemonSet {
    /// A new DaemonSet.
    pub fn new(meta: Meta, spec: DaemonSetSpec) -> Self {
        DaemonSet { meta, spec, status: Default::default() }
    }
}

/// One sync.
pub fn sync(_ctx: &SyncContext<'_>, _o: &DaemonSet) -> Vec<Action> {
    Vec::new()
}

/// Counts.
pub fn counts(_ctx: &SyncContext<'_>, _o: &DaemonSet) -> Counts {
    Counts::default()
}
