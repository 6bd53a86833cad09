//! Trace sources: real cluster traces turned into pods, nodes and node events.
//!
//! Every loader reads one trace format and produces a [`Trace`]: model [`Pod`]s with their
//! arrival (and, for timed replay, deletion) times, model [`Node`]s when the trace has a node
//! list, and [`NodeEvent`]s when it has a node timeline. GPU demand is expressed the Kubernetes
//! way, as extended resources on the pod's container (see [`gpu_resources`]), so that the GPU
//! model and the policies read traces and manifests alike.
//!
//! Loaders never panic on input: a malformed row is an [`InputError`](crate::input::error::InputError)
//! naming the file, the line and the column.

pub mod alibaba2018;
pub mod compile;
pub mod dlrm;
pub mod generic;
pub mod google2011;
pub mod philly;
pub mod rows;

use crate::model::node::Node;
use crate::model::pod::Pod;

pub mod openb;

/// Whole GPUs, as the NVIDIA device plugin advertises them.
pub const RESOURCE_NVIDIA_GPU: &str = "nvidia.com/gpu";
/// Share of each GPU in thousandths (GPU sharing), as Alibaba's GPU-share scheduler uses it.
pub const RESOURCE_GPU_MILLI: &str = "alibabacloud.com/gpu-milli";
/// Number of GPUs a GPU-share pod asks for (with [`RESOURCE_GPU_MILLI`] per GPU).
pub const RESOURCE_GPU_COUNT: &str = "alibabacloud.com/gpu-count";
/// Pod annotation / label listing the GPU models a pod accepts, `|`-separated.
pub const ANNOTATION_GPU_CARD_MODEL: &str = "alibabacloud.com/gpu-card-model";
/// Node label naming the node's GPU model.
pub const LABEL_GPU_MODEL: &str = "alibabacloud.com/gpu-card-model";

/// One pod of a trace, with its times.
#[derive(Clone, Debug, PartialEq)]
pub struct TracePod {
    /// The pod, finalized (effective requests computed).
    pub pod: Pod,
    /// When the pod is created, in microseconds from the trace start (already shifted so that
    /// the first arrival of the trace is at or after zero).
    pub created_us: u64,
    /// When the trace deletes the pod, if it does (timed replay only).
    pub deleted_us: Option<u64>,
    /// Names (within this trace) of the pods or jobs that must complete before this one starts
    /// (DAG workflows); empty for independent pods.
    pub depends_on: Vec<String>,
    /// The trace's own per-node instance cap for this pod's application, if any
    /// (Alibaba DLRM `max_instance_per_node`).
    pub max_per_node: Option<u32>,
    /// Source line of the row the pod came from (1-based), for messages.
    pub line: u64,
}

/// A node state change from a trace timeline (Alibaba v2018 `machine_meta`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeEvent {
    /// When, in microseconds from the trace start.
    pub time_us: u64,
    /// The node's name.
    pub node: String,
    /// What happens to it.
    pub kind: NodeEventKind,
}

/// Kinds of [`NodeEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeEventKind {
    /// The node joins the cluster (or comes back).
    Add,
    /// The node fails (its pods are lost) until a later `Add` or `Recover`.
    Fail,
    /// The node recovers from a failure.
    Recover,
    /// The node leaves the cluster for good.
    Remove,
}

/// What a trace loader produces.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trace {
    /// Pods in arrival order (ties broken by pod name, so replay order is fixed).
    pub pods: Vec<TracePod>,
    /// Nodes, when the trace has a node list.
    pub nodes: Vec<Node>,
    /// Node timeline, in time order, when the trace has one.
    pub node_events: Vec<NodeEvent>,
}
