//! The scenario's cluster-autoscaler part: `cluster.nodeGroups` (a name, `min`, `max`, a node
//! template in the node-pool format and a `provisionDelay`) and `cluster.autoscaler` (expander,
//! scan interval, scale-down threshold and delays), compiled into [`Autoscaler`].

use crate::controllers::cluster_autoscaler::{Expander, SCALE_DOWN_UNNEEDED, SCALE_DOWN_UTILIZATION, SCAN_INTERVAL};
use crate::engine::time::SimDuration;
use crate::input::error::InputError;
use crate::input::go_duration::GoDuration;
use crate::limits;
use crate::model::node::{LABEL_HOSTNAME, LABEL_REGION, LABEL_ZONE, Node};
use crate::model::resources::{PODS, ResourceList, Resources};
use crate::model::selector::Labels;
use crate::model::taint::Taint;
use serde::Deserialize;

/// Default `provisionDelay`: a cloud VM typically joins in one to two minutes.
pub const DEFAULT_PROVISION_DELAY: SimDuration = SimDuration::from_secs(120);

/// A node template (the node-pool fields without `name` and `count`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeTemplateSpec {
    /// Zones assigned round-robin over the group's nodes (none: no zone label).
    #[serde(default)]
    pub zones: Vec<String>,
    /// Region label, if any.
    #[serde(default)]
    pub region: Option<String>,
    /// Allocatable resources of each node (`pods` defaults to 110).
    pub allocatable: ResourceList,
    /// Extra labels.
    #[serde(default)]
    pub labels: Labels,
    /// Taints.
    #[serde(default)]
    pub taints: Vec<Taint>,
}

/// One entry of `cluster.nodeGroups`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeGroupSpec {
    /// Group name; nodes are named `<name>-<i>` and labelled `kubesim.io/pool: <name>`.
    pub name: String,
    /// Minimum size (created at time zero).
    #[serde(default)]
    pub min: u64,
    /// Maximum size.
    pub max: u64,
    /// The node template.
    pub template: NodeTemplateSpec,
    /// Time from the scale-up decision to the node joining Ready (default 2m).
    #[serde(default)]
    pub provision_delay: Option<GoDuration>,
}

/// `cluster.autoscaler`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoscalerSpec {
    /// `random` (default), `least-waste` or `most-pods`.
    #[serde(default)]
    pub expander: Option<String>,
    /// `--scan-interval` (default 10s).
    #[serde(default)]
    pub scan_interval: Option<GoDuration>,
    /// `--scale-down-utilization-threshold` (default 0.5).
    #[serde(default)]
    pub scale_down_utilization_threshold: Option<f64>,
    /// `--scale-down-unneeded-time` (default 10m).
    #[serde(default)]
    pub scale_down_unneeded_time: Option<GoDuration>,
    /// `--scale-down-delay-after-add` (default 10m).
    #[serde(default)]
    pub scale_down_delay_after_add: Option<GoDuration>,
}

/// A compiled node group.
#[derive(Debug, Clone)]
pub struct NodeGroup {
    /// Name.
    pub name: String,
    /// Minimum size.
    pub min: u64,
    /// Maximum size.
    pub max: u64,
    /// Provision delay.
    pub provision_delay: SimDuration,
    template: NodeTemplateSpec,
    allocatable: Resources,
}

impl NodeGroup {
    /// The group's `i`-th node (`<name>-<i>`, zone `zones[i % len]`).
    pub fn node(&self, i: u64) -> Node {
        template_node(&self.name, i, &self.template, &self.allocatable)
    }
}

/// The compiled autoscaler configuration.
#[derive(Debug, Clone)]
pub struct Autoscaler {
    /// Node groups, in file order.
    pub groups: Vec<NodeGroup>,
    /// Expander.
    pub expander: Expander,
    /// Scan interval.
    pub scan_interval: SimDuration,
    /// Scale-down utilisation threshold.
    pub scale_down_utilization_threshold: f64,
    /// Scale-down unneeded time.
    pub scale_down_unneeded_time: SimDuration,
    /// Scale-down delay after add.
    pub scale_down_delay_after_add: SimDuration,
}

/// Node `<prefix>-<i>` of a template; `kubesim.io/pool` is set to `prefix`.
pub fn template_node(prefix: &str, i: u64, t: &NodeTemplateSpec, allocatable: &Resources) -> Node {
    let name = format!("{prefix}-{i}");
    let mut labels = t.labels.clone();
    labels.insert(LABEL_HOSTNAME.into(), name.clone());
    labels.insert(crate::input::scenario::LABEL_POOL.into(), prefix.to_string());
    if !t.zones.is_empty() {
        labels.insert(LABEL_ZONE.into(), t.zones[(i as usize) % t.zones.len()].clone());
    }
    if let Some(r) = &t.region {
        labels.insert(LABEL_REGION.into(), r.clone());
    }
    Node {
        name,
        labels,
        taints: t.taints.clone(),
        allocatable: allocatable.clone(),
        images: vec![],
        unschedulable: false,
    }
}

fn dur(d: &Option<GoDuration>, default: SimDuration) -> SimDuration {
    d.map(|g| SimDuration(g.0)).unwrap_or(default)
}

/// Compiles `cluster.nodeGroups` and `cluster.autoscaler`; `None` when there is no node group.
pub fn compile(
    groups: &[NodeGroupSpec],
    spec: Option<&AutoscalerSpec>,
    file: &str,
) -> Result<Option<Autoscaler>, InputError> {
    if groups.is_empty() {
        if spec.is_some() {
            return Err(InputError::file(file, "cluster.autoscaler needs at least one cluster.nodeGroups entry")
                .with_field("cluster.autoscaler"));
        }
        return Ok(None);
    }
    let mut out = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let field = format!("cluster.nodeGroups[{i}]");
        if g.name.is_empty() {
            return Err(InputError::file(file, "a node group needs a name").with_field(format!("{field}.name")));
        }
        if groups[..i].iter().any(|o| o.name == g.name) {
            return Err(InputError::file(file, format!("two node groups are named {:?}", g.name))
                .with_field(format!("{field}.name")));
        }
        if g.max > limits::MAX_NODES {
            return Err(InputError::file(
                file,
                format!("max {} exceeds the limit of {} (kubesim::limits::MAX_NODES)", g.max, limits::MAX_NODES),
            )
            .with_field(format!("{field}.max")));
        }
        if g.min > g.max {
            return Err(InputError::file(file, format!("min {} is above max {}", g.min, g.max))
                .with_field(format!("{field}.min")));
        }
        let mut alloc = g.template.allocatable.clone();
        alloc.0.entry(PODS.to_string()).or_insert(crate::input::manifest::DEFAULT_MAX_PODS);
        out.push(NodeGroup {
            name: g.name.clone(),
            min: g.min,
            max: g.max,
            provision_delay: dur(&g.provision_delay, DEFAULT_PROVISION_DELAY),
            allocatable: alloc.to_resources(),
            template: g.template.clone(),
        });
    }
    let s = spec.cloned().unwrap_or_default();
    let expander = match s.expander.as_deref() {
        None | Some("random") => Expander::Random,
        Some("least-waste") => Expander::LeastWaste,
        Some("most-pods") => Expander::MostPods,
        Some(other) => {
            return Err(InputError::file(
                file,
                format!("unknown expander {other:?} (known: random, least-waste, most-pods)"),
            )
            .with_field("cluster.autoscaler.expander"));
        }
    };
    let threshold = s.scale_down_utilization_threshold.unwrap_or(SCALE_DOWN_UTILIZATION);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(InputError::file(file, format!("expected a ratio in [0, 1], got {threshold}"))
            .with_field("cluster.autoscaler.scaleDownUtilizationThreshold"));
    }
    let scan_interval = dur(&s.scan_interval, SCAN_INTERVAL);
    if scan_interval.as_micros() == 0 {
        return Err(
            InputError::file(file, "the scan interval must be positive").with_field("cluster.autoscaler.scanInterval")
        );
    }
    Ok(Some(Autoscaler {
        groups: out,
        expander,
        scan_interval,
        scale_down_utilization_threshold: threshold,
        scale_down_unneeded_time: dur(&s.scale_down_unneeded_time, SCALE_DOWN_UNNEEDED),
        scale_down_delay_after_add: dur(&s.scale_down_delay_after_add, SimDuration::from_secs(600)),
    }))
}
