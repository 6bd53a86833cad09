//! The node as the simulator sees it: allocatable resources, labels, taints, images and the
//! conditions and cordon flag that decide whether the scheduler may use it.

use crate::model::resources::Resources;
use crate::model::selector::Labels;
use crate::model::taint::Taint;
use serde::{Deserialize, Serialize};

/// The well-known zone label.
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
/// The well-known region label.
pub const LABEL_REGION: &str = "topology.kubernetes.io/region";
/// The deprecated zone label, still read as upstream's `GetZoneKey` does.
pub const LABEL_ZONE_BETA: &str = "failure-domain.beta.kubernetes.io/zone";
/// The deprecated region label.
pub const LABEL_REGION_BETA: &str = "failure-domain.beta.kubernetes.io/region";
/// The hostname label.
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
/// The taint the node lifecycle controller puts on a node that stopped reporting.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// The taint the node lifecycle controller puts on a NotReady node.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The taint matching `spec.unschedulable`.
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// A container image present on a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeImage {
    /// All names the image is known by.
    pub names: Vec<String>,
    /// Size in bytes.
    pub size_bytes: i64,
}

/// A node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels` (including hostname and zone).
    pub labels: Labels,
    /// `spec.taints`.
    pub taints: Vec<Taint>,
    /// `status.allocatable`, falling back to `status.capacity` per resource.
    pub allocatable: Resources,
    /// `status.images`.
    pub images: Vec<NodeImage>,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
}

impl Node {
    /// The zone key as upstream's `GetZoneKey` builds it: `region:\x00:zone`, empty when the node
    /// has neither label.
    pub fn zone_key(&self) -> String {
        let region = self
            .labels
            .get(LABEL_REGION)
            .or_else(|| self.labels.get(LABEL_REGION_BETA))
            .map(String::as_str)
            .unwrap_or("");
        let zone =
            self.labels.get(LABEL_ZONE).or_else(|| self.labels.get(LABEL_ZONE_BETA)).map(String::as_str).unwrap_or("");
        if region.is_empty() && zone.is_empty() { String::new() } else { format!("{region}:\x00:{zone}") }
    }

    /// The zone label value (empty when unset), for reports.
    pub fn zone(&self) -> &str {
        self.labels.get(LABEL_ZONE).or_else(|| self.labels.get(LABEL_ZONE_BETA)).map(String::as_str).unwrap_or("")
    }
}
