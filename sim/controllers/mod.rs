//! Simulated controllers (control loops of kube-controller-manager and friends).

pub mod disruption;
pub mod node_lifecycle;
