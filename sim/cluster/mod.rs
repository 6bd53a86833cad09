//! The cluster: a store of nodes and pods with incremental per-node aggregates, and the
//! invariant checker that recounts them.

pub mod invariants;
pub mod state;

pub use state::{ClusterState, NodeId, NodeState, PodId, PodPhase, PodState};
