//! The StatefulSet controller (filled below).

use super::{Action, Counts, Meta, SyncContext};
use crate::model::pod::Pod;
use crate::model::selector::LabelSelector;

/// `spec.podManagementPolicy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PodManagement {
    /// One pod at a time, in ordinal order, each waiting for its predecessor.
    #[default]
    OrderedReady,
    /// All at once.
    Parallel,
}

/// `spec.updateStrategy`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateStrategy {
    /// Replace pods from the highest ordinal down to `partition`.
    RollingUpdate {
        /// Ordinals below this keep the old template.
        partition: i32,
    },
    /// Replace a pod only when it is deleted.
    OnDelete,
}

/// `spec` of a StatefulSet.
#[derive(Clone, Debug, PartialEq)]
pub struct StatefulSetSpec {
    /// `replicas`.
    pub replicas: i32,
    /// `selector`.
    pub selector: LabelSelector,
    /// `template`.
    pub template: Pod,
    /// `podManagementPolicy`.
    pub pod_management: PodManagement,
    /// `updateStrategy`.
    pub update: UpdateStrategy,
    /// `minReadySeconds`.
    pub min_ready_seconds: i32,
}

/// `status` of a StatefulSet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatefulSetStatus {
    /// Active pods.
    pub replicas: i32,
    /// Ready pods.
    pub ready_replicas: i32,
    /// Available pods.
    pub available_replicas: i32,
    /// Pods at the current revision.
    pub updated_replicas: i32,
}

/// A StatefulSet.
#[derive(Clone, Debug, PartialEq)]
pub struct StatefulSet {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: StatefulSetSpec,
    /// Status.
    pub status: StatefulSetStatus,
}

impl StatefulSet {
    /// A new StatefulSet.
    pub fn new(meta: Meta, spec: StatefulSetSpec) -> Self {
        StatefulSet { meta, spec, status: Default::default() }
    }
}

/// One sync.
pub fn sync(_ctx: &SyncContext<'_>, _o: &StatefulSet) -> Vec<Action> {
    Vec::new()
}

/// Counts.
pub fn counts(_ctx: &SyncContext<'_>, _o: &StatefulSet) -> Counts {
    Counts::default()
}
