//! The Kubernetes object model the simulator reasons about: quantities and resources, nodes,
//! pods, label selectors, taints and tolerations, and duration distributions.

pub mod affinity;
pub mod dist;
pub mod gpu;
pub mod node;
pub mod pod;
pub mod quantity;
pub mod resources;
pub mod selector;
pub mod taint;
pub mod volume;
