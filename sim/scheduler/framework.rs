//! The scheduling framework: one trait per extension point, the [`Status`] they return, and the
//! per-cycle [`CycleState`].
//!
//! As in kube-scheduler, "unschedulable, and here is why" is an outcome ([`Code::Unschedulable`],
//! [`Code::UnschedulableAndUnresolvable`]) and never an error; [`Code::Error`] is reserved for
//! internal failures. Scores are integers in `0..=100` after normalisation.
//!
//! **Invariant:** plugins never read the wall clock, a file, or an RNG; they see the cluster only
//! through the read-only [`ClusterState`] handed to them.

use crate::cluster::{ClusterState, NodeId, NodeState};
use crate::model::pod::Pod;
use std::any::Any;
use std::collections::BTreeMap;

/// The highest score a Score plugin may give after normalisation.
pub const MAX_NODE_SCORE: i64 = 100;
/// The lowest score a Score plugin may give after normalisation.
pub const MIN_NODE_SCORE: i64 = 0;

/// Result codes, as in kube-scheduler's `framework.Code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    /// The plugin ran and agreed.
    Success,
    /// The pod does not fit, but preemption might help.
    Unschedulable,
    /// The pod does not fit, and preemption cannot help.
    UnschedulableAndUnresolvable,
    /// PreFilter / PreScore: the plugin has nothing to do for this pod; its later extension
    /// points are skipped for this cycle.
    Skip,
    /// An internal error (never "does not fit").
    Error,
}

/// The outcome of one plugin call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The code.
    pub code: Code,
    /// Human reasons, as kube-scheduler prints them (`Insufficient cpu`).
    pub reasons: Vec<String>,
}

impl Status {
    /// Success.
    pub fn success() -> Self {
        Status { code: Code::Success, reasons: Vec::new() }
    }
    /// Skip (PreFilter / PreScore only).
    pub fn skip() -> Self {
        Status { code: Code::Skip, reasons: Vec::new() }
    }
    /// Unschedulable with reasons.
    pub fn unschedulable(reasons: Vec<String>) -> Self {
        Status { code: Code::Unschedulable, reasons }
    }
    /// Unschedulable and unresolvable (preemption cannot help) with one reason.
    pub fn unresolvable(reason: impl Into<String>) -> Self {
        Status { code: Code::UnschedulableAndUnresolvable, reasons: vec![reason.into()] }
    }
    /// An internal error.
    pub fn error(reason: impl Into<String>) -> Self {
        Status { code: Code::Error, reasons: vec![reason.into()] }
    }
    /// True for Success.
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }
}

/// Data plugins compute in PreFilter / PreScore and read back later in the same cycle.
#[derive(Default)]
pub struct CycleState {
    data: BTreeMap<&'static str, Box<dyn Any>>,
}

impl CycleState {
    /// A fresh, empty state for one cycle.
    pub fn new() -> Self {
        Self::default()
    }
    /// Stores `value` under `key` (by convention, the plugin name).
    pub fn write<T: Any>(&mut self, key: &'static str, value: T) {
        self.data.insert(key, Box::new(value));
    }
    /// Reads back what was stored under `key`.
    pub fn read<T: Any>(&self, key: &'static str) -> Option<&T> {
        self.data.get(key).and_then(|b| b.downcast_ref())
    }
}

/// Every plugin has a name, unique in the registry.
pub trait Plugin {
    /// The plugin name as written in a KubeSchedulerConfiguration.
    fn name(&self) -> &'static str;
}

/// What PreFilter may return besides its status: the only nodes worth filtering
/// (upstream `PreFilterResult.NodeNames`; `None` means all nodes).
pub type PreFilterNodes = Option<std::collections::BTreeSet<String>>;

/// PreFilter: runs once per cycle before filtering. Returning Unschedulable (or
/// UnschedulableAndUnresolvable) rejects the pod on every node; Skip skips this plugin's Filter
/// for the cycle; Error aborts the cycle. It may also restrict the candidate nodes to a set of
/// names (the intersection over plugins is used; the other nodes are UnschedulableAndUnresolvable).
pub trait PreFilterPlugin: Plugin {
    /// Prepares the cycle.
    fn pre_filter(&self, state: &mut CycleState, cluster: &ClusterState, pod: &Pod) -> (Status, PreFilterNodes);
}

/// Filter: decides whether the pod fits on one node. Must return Success, Unschedulable or
/// UnschedulableAndUnresolvable (with reasons), or Error. Called for many nodes per cycle, so it
/// must be cheap; it must not depend on the order in which nodes are visited.
pub trait FilterPlugin: Plugin {
    /// Checks one node.
    fn filter(&self, state: &CycleState, cluster: &ClusterState, pod: &Pod, node: &NodeState) -> Status;
}

/// Score (with PreScore and NormalizeScore): ranks feasible nodes.
///
/// `pre_score` runs once with the feasible nodes; Skip leaves the plugin out of this cycle's
/// scoring entirely (it adds nothing to any node). `score` returns a raw integer for one node;
/// `normalize_scores` then maps the raw scores of all feasible nodes into `0..=100` (the default
/// leaves them as they are, which is right for plugins whose raw scores are already in range).
pub trait ScorePlugin: Plugin {
    /// Prepares scoring; may return Skip.
    fn pre_score(&self, _state: &mut CycleState, _cluster: &ClusterState, _pod: &Pod, _nodes: &[NodeId]) -> Status {
        Status::success()
    }
    /// Scores one feasible node.
    fn score(&self, state: &CycleState, cluster: &ClusterState, pod: &Pod, node: &NodeState) -> Result<i64, Status>;
    /// Maps this plugin's raw scores (one per feasible node, in the same order) into `0..=100`.
    fn normalize_scores(&self, _state: &CycleState, _pod: &Pod, _scores: &mut [i64]) -> Status {
        Status::success()
    }
}

/// PostFilter: runs only when no node passed the filters. It may make room (DefaultPreemption
/// evicts lower-priority pods) and nominate a node for the pod, which then waits in the queue and
/// tries that node first. It may take pods off nodes for dry runs through
/// [`ClusterState::detach`] but must attach them back before returning. Returning `None` means
/// "nothing to do".
pub trait PostFilterPlugin: Plugin {
    /// Tries to make `pod` schedulable after `diagnosis`.
    fn post_filter(
        &self,
        profile: &crate::scheduler::Profile,
        cluster: &mut ClusterState,
        pod: crate::cluster::PodId,
        diagnosis: &crate::scheduler::Diagnosis,
        rng: &mut crate::engine::rng::SimRng,
    ) -> Option<crate::scheduler::preemption::Candidate>;
}

/// Reserve: runs once the node is chosen, before Permit. A non-Success status aborts the binding
/// (every Reserve plugin's `unreserve` is called, in reverse order) and sends the pod back to the
/// queue as unschedulable. `unreserve` must be idempotent.
pub trait ReservePlugin: Plugin {
    /// Reserves what the plugin tracks for `pod` on `node`.
    fn reserve(&self, cluster: &ClusterState, pod: &Pod, node: NodeId) -> Status;
    /// Releases it again.
    fn unreserve(&self, _cluster: &ClusterState, _pod: &Pod, _node: NodeId) {}
}

/// Permit: the last gate before binding. Success lets the pod bind; Unschedulable rejects it
/// (back to the queue, as upstream). Waiting (gang scheduling) is not supported yet: a plugin that
/// needs it must reject.
pub trait PermitPlugin: Plugin {
    /// Allows or rejects binding `pod` to `node`.
    fn permit(&self, cluster: &ClusterState, pod: &Pod, node: NodeId) -> Status;
}

/// Bind: performs the binding. Plugins run in order; Skip passes to the next; the first Success
/// binds (kubesim then records the binding in the cluster state); an error sends the pod back to
/// the queue with backoff. With no Bind plugin configured, DefaultBinder binds.
pub trait BindPlugin: Plugin {
    /// Binds, or returns Skip to leave it to the next Bind plugin.
    fn bind(&self, cluster: &ClusterState, pod: &Pod, node: NodeId) -> Status;
}

/// `DefaultNormalizeScore`: scales scores so the highest becomes `max_priority`; with `reverse`,
/// `max_priority - score`. All-zero scores become 0 (or `max_priority` when reversed).
pub fn default_normalize_score(max_priority: i64, reverse: bool, scores: &mut [i64]) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max_priority);
        }
        return;
    }
    for s in scores.iter_mut() {
        let mut v = max_priority * *s / max;
        if reverse {
            v = max_priority - v;
        }
        *s = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_normalize_scales_the_maximum_to_100() {
        let mut s = [2, 4, 0];
        default_normalize_score(100, false, &mut s);
        assert_eq!(s, [50, 100, 0]);
    }

    #[test]
    fn default_normalize_reversed_gives_100_to_all_when_all_scores_are_zero() {
        let mut s = [0, 0];
        default_normalize_score(100, true, &mut s);
        assert_eq!(s, [100, 100]);
        let mut s = [1, 3, 0];
        default_normalize_score(100, true, &mut s);
        assert_eq!(s, [67, 0, 100]);
    }

    #[test]
    fn cycle_state_reads_back_what_was_written() {
        let mut cs = CycleState::new();
        cs.write("X", 42u32);
        assert_eq!(cs.read::<u32>("X"), Some(&42));
        assert_eq!(cs.read::<u64>("X"), None);
    }
}
