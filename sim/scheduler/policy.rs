//! Whole scheduling policies: algorithms that do not fit the plugin mould (batch placement of
//! several pods at once, gang placement, a learned policy, a process in another language).
//!
//! A [`Policy`] replaces the framework's cycle (Filter / Score / selectHost / preemption) for a
//! run; the scheduling queue, its backoff and the run loop stay the same. Each cycle the run loop
//! pops the next pod from the queue, adds the other queued pods of its group when the policy
//! groups pods ([`Policy::group`]), and asks the policy to [`Policy::place`] them, handing it a
//! [`PolicyContext`]: a read-only snapshot of the cluster, the filter verdicts of the pod's
//! profile on demand, and the policy's own RNG stream (`policy`, derived from the seed).
//!
//! The run loop checks every decision: a pod bound to a node that fails the profile's filters
//! (with the earlier pods of the same batch counted on their nodes) ends the run with an error.
//! A batch of several pods is all-or-none: when one pod of a group is unschedulable, none is bound.
//! Policies do not preempt.

use crate::cluster::{ClusterState, NodeId, NodeState, PodId};
use crate::engine::rng::SimRng;
use crate::engine::time::SimTime;
use crate::model::pod::Pod;
use crate::scheduler::framework::Status;
use crate::scheduler::{PreFilterOutcome, Profile};

/// What a policy decides for one pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Bind `pod` to `node`.
    Bind {
        /// The pod.
        pod: PodId,
        /// The node.
        node: NodeId,
    },
    /// Leave `pod` pending (it goes back to the queue as unschedulable and is retried on cluster
    /// events, as in kube-scheduler).
    Unschedulable {
        /// The pod.
        pod: PodId,
        /// Why, as it appears in `events.jsonl`.
        reason: String,
    },
}

/// A filter verdict for one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeVerdict {
    /// The node.
    pub node: NodeId,
    /// Success, or why the pod does not fit there.
    pub status: Status,
}

/// What a policy sees while it decides.
pub struct PolicyContext<'a> {
    /// The cluster, read-only (nodes in kube-scheduler's node-tree order via
    /// [`ClusterState::node_order`]).
    pub cluster: &'a ClusterState,
    /// The policy's RNG stream (`policy`, derived from the scenario seed).
    pub rng: &'a mut SimRng,
    /// Simulated time of the decision.
    pub now: SimTime,
    profiles: &'a [Profile],
}

impl<'a> PolicyContext<'a> {
    /// A context over `cluster` whose filter helpers use `profiles` (one per schedulerName).
    pub fn new(cluster: &'a ClusterState, rng: &'a mut SimRng, now: SimTime, profiles: &'a [Profile]) -> Self {
        PolicyContext { cluster, rng, now, profiles }
    }

    /// The pod behind `id`.
    pub fn pod(&self, id: PodId) -> &'a Pod {
        &self.cluster.pod(id).pod
    }

    /// The profile serving `pod` (by its schedulerName).
    pub fn profile_for(&self, pod: &Pod) -> Option<&'a Profile> {
        self.profiles.iter().find(|p| p.scheduler_name == pod.scheduler_name)
    }

    /// Runs the pod's profile PreFilter and Filter plugins on every node, in node-tree order.
    pub fn filter(&self, id: PodId) -> Vec<NodeVerdict> {
        filter_all(self.cluster, self.profiles, id)
    }

    /// The nodes that pass the pod's profile filters, in node-tree order.
    pub fn feasible_nodes(&self, id: PodId) -> Vec<NodeId> {
        self.filter(id).into_iter().filter(|v| v.status.is_success()).map(|v| v.node).collect()
    }
}

/// Runs the PreFilter and Filter plugins of the profile serving pod `id` on every node (node-tree
/// order). Without a profile every node is unresolvable.
pub fn filter_all(cluster: &ClusterState, profiles: &[Profile], id: PodId) -> Vec<NodeVerdict> {
    let pod = &cluster.pod(id).pod;
    let order = cluster.node_order();
    let Some(profile) = profiles.iter().find(|p| p.scheduler_name == pod.scheduler_name) else {
        return order
            .iter()
            .map(|n| NodeVerdict { node: *n, status: Status::unresolvable("no profile serves the pod") })
            .collect();
    };
    match profile.pre_filter(cluster, pod) {
        PreFilterOutcome::Ready(prepared) => order
            .iter()
            .map(|n| NodeVerdict { node: *n, status: profile.filter_node(&prepared, cluster, pod, cluster.node(*n)) })
            .collect(),
        PreFilterOutcome::Rejected(d) => {
            let st = Status {
                code: crate::scheduler::framework::Code::Unschedulable,
                reasons: d.reasons.into_keys().collect(),
            };
            order.iter().map(|n| NodeVerdict { node: *n, status: st.clone() }).collect()
        }
        PreFilterOutcome::Error(e) => {
            order.iter().map(|n| NodeVerdict { node: *n, status: Status::error(e.clone()) }).collect()
        }
    }
}

/// Checks that `pod` passes its profile's filters on `node` seen as `view` (the node with the
/// pods placed earlier in the same batch). Returns the reasons it does not.
pub fn check_placement(
    cluster: &ClusterState,
    profiles: &[Profile],
    pod: &Pod,
    view: &NodeState,
) -> Result<(), String> {
    let Some(profile) = profiles.iter().find(|p| p.scheduler_name == pod.scheduler_name) else {
        return Err(format!("no profile serves schedulerName {:?}", pod.scheduler_name));
    };
    let st = match profile.pre_filter(cluster, pod) {
        PreFilterOutcome::Ready(prepared) => profile.filter_node(&prepared, cluster, pod, view),
        PreFilterOutcome::Rejected(d) => return Err(d.message()),
        PreFilterOutcome::Error(e) => return Err(e),
    };
    if st.is_success() { Ok(()) } else { Err(st.reasons.join(", ")) }
}

/// A whole scheduling policy. Implementations must be deterministic given the context (draw
/// randomness only from [`PolicyContext::rng`]).
///
/// ```
/// use kubesim::cluster::PodId;
/// use kubesim::scheduler::policy::{Decision, Policy, PolicyContext};
///
/// /// Places each pod on the first feasible node in name order.
/// struct FirstByName;
///
/// impl Policy for FirstByName {
///     fn name(&self) -> String {
///         "first-by-name".into()
///     }
///     fn place(&mut self, ctx: &mut PolicyContext<'_>, pods: &[PodId]) -> Result<Vec<Decision>, String> {
///         Ok(pods
///             .iter()
///             .map(|&pod| {
///                 let best = ctx.feasible_nodes(pod).into_iter().min_by_key(|n| ctx.cluster.node(*n).node.name.clone());
///                 match best {
///                     Some(node) => Decision::Bind { pod, node },
///                     None => Decision::Unschedulable { pod, reason: "no feasible node".into() },
///                 }
///             })
///             .collect())
///     }
/// }
/// ```
pub trait Policy: Send {
    /// The policy's name (in `events.jsonl` and errors).
    fn name(&self) -> String;

    /// Called once before the first decision, with the master seed and the run's profiles. An
    /// error ends the run.
    fn start(&mut self, _seed: u64, _profiles: &[Profile]) -> Result<(), String> {
        Ok(())
    }

    /// Pods with the same group key are placed together, all or none (gang placement). `None`
    /// (the default) places pods one at a time.
    fn group(&self, _pod: &Pod) -> Option<String> {
        None
    }

    /// Decides for `pods` (one pod, or every queued pod of one group, the popped pod first).
    /// Return one decision per pod; a pod left without a decision is unschedulable. An error ends
    /// the run.
    fn place(&mut self, ctx: &mut PolicyContext<'_>, pods: &[PodId]) -> Result<Vec<Decision>, String>;
}
