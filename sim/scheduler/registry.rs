//! The registry: the one place that knows every built-in plugin by name, and the default
//! profile with upstream's weights.

use crate::scheduler::framework::{FilterPlugin, PreFilterPlugin, ScorePlugin};
use crate::scheduler::plugins::{
    balanced_allocation, image_locality, inter_pod_affinity, node_affinity, node_name, node_ports, node_resources_fit,
    node_unschedulable, pod_topology_spread, taint_toleration,
};
use std::sync::Arc;

/// A plugin's implementations of the extension points it supports.
#[derive(Clone, Default)]
pub struct PluginEntry {
    /// The PreFilter implementation, if any.
    pub pre_filter: Option<Arc<dyn PreFilterPlugin + Send + Sync>>,
    /// The Filter implementation, if any.
    pub filter: Option<Arc<dyn FilterPlugin + Send + Sync>>,
    /// The Score implementation, if any.
    pub score: Option<Arc<dyn ScorePlugin + Send + Sync>>,
}

/// Every built-in plugin name, in upstream's default-profile order.
pub const BUILT_IN: &[&str] = &[
    node_unschedulable::NAME,
    node_name::NAME,
    taint_toleration::NAME,
    node_affinity::NAME,
    node_ports::NAME,
    node_resources_fit::NAME,
    pod_topology_spread::NAME,
    inter_pod_affinity::NAME,
    balanced_allocation::NAME,
    image_locality::NAME,
];

/// Builds the plugin `name` with default arguments; `None` for an unknown name.
pub fn build(name: &str) -> Option<PluginEntry> {
    Some(match name {
        node_unschedulable::NAME => {
            PluginEntry { pre_filter: None, filter: Some(Arc::new(node_unschedulable::NodeUnschedulable)), score: None }
        }
        node_name::NAME => PluginEntry { pre_filter: None, filter: Some(Arc::new(node_name::NodeName)), score: None },
        taint_toleration::NAME => {
            let p = Arc::new(taint_toleration::TaintToleration);
            PluginEntry { pre_filter: None, filter: Some(p.clone()), score: Some(p) }
        }
        node_affinity::NAME => {
            let p = Arc::new(node_affinity::NodeAffinity::default());
            PluginEntry { pre_filter: Some(p.clone()), filter: Some(p.clone()), score: Some(p) }
        }
        node_ports::NAME => {
            PluginEntry { pre_filter: None, filter: Some(Arc::new(node_ports::NodePorts)), score: None }
        }
        node_resources_fit::NAME => {
            let p = Arc::new(node_resources_fit::NodeResourcesFit::default());
            PluginEntry { pre_filter: None, filter: Some(p.clone()), score: Some(p) }
        }
        pod_topology_spread::NAME => {
            let p = Arc::new(pod_topology_spread::PodTopologySpread::default());
            PluginEntry { pre_filter: Some(p.clone()), filter: Some(p.clone()), score: Some(p) }
        }
        balanced_allocation::NAME => PluginEntry {
            pre_filter: None,
            filter: None,
            score: Some(Arc::new(balanced_allocation::NodeResourcesBalancedAllocation::default())),
        },
        image_locality::NAME => {
            PluginEntry { pre_filter: None, filter: None, score: Some(Arc::new(image_locality::ImageLocality)) }
        }
        inter_pod_affinity::NAME => {
            let p = Arc::new(inter_pod_affinity::InterPodAffinity::default());
            PluginEntry { pre_filter: Some(p.clone()), filter: Some(p.clone()), score: Some(p) }
        }
        _ => return crate::scheduler::policies::plugins::build(name),
    })
}

/// Upstream's default score weights for the plugins registered here.
pub fn default_weight(name: &str) -> i64 {
    match name {
        taint_toleration::NAME => 3,
        node_affinity::NAME => 2,
        pod_topology_spread::NAME => 2,
        inter_pod_affinity::NAME => 2,
        _ => 1,
    }
}

/// Builds plugin `name` with `pluginConfig` arguments. Plugins that take no arguments reject any.
pub fn build_configured(name: &str, args: &serde_json::Value) -> Result<Option<PluginEntry>, String> {
    let empty = args.is_null() || args.as_object().is_some_and(|o| o.keys().all(|k| k == "apiVersion" || k == "kind"));
    if empty {
        return Ok(build(name));
    }
    // `apiVersion` / `kind` inside args are accepted and dropped.
    let mut args = args.clone();
    if let Some(o) = args.as_object_mut() {
        o.remove("apiVersion");
        o.remove("kind");
    }
    let parse_err = |e: serde_json::Error| format!("pluginConfig {name}: {e}");
    match name {
        pod_topology_spread::NAME => {
            let a: pod_topology_spread::PodTopologySpreadArgs = serde_json::from_value(args).map_err(parse_err)?;
            let p = Arc::new(
                pod_topology_spread::PodTopologySpread::new(a).map_err(|e| format!("pluginConfig {name}: {e}"))?,
            );
            Ok(Some(PluginEntry { pre_filter: Some(p.clone()), filter: Some(p.clone()), score: Some(p) }))
        }
        inter_pod_affinity::NAME => {
            let a: inter_pod_affinity::InterPodAffinityArgs = serde_json::from_value(args).map_err(parse_err)?;
            let p = Arc::new(
                inter_pod_affinity::InterPodAffinity::new(a).map_err(|e| format!("pluginConfig {name}: {e}"))?,
            );
            Ok(Some(PluginEntry { pre_filter: Some(p.clone()), filter: Some(p.clone()), score: Some(p) }))
        }
        node_affinity::NAME => {
            let a: node_affinity::NodeAffinityArgs = serde_json::from_value(args).map_err(parse_err)?;
            let p = Arc::new(node_affinity::NodeAffinity::new(a).map_err(|e| format!("pluginConfig {name}: {e}"))?);
            Ok(Some(PluginEntry { pre_filter: Some(p.clone()), filter: Some(p.clone()), score: Some(p) }))
        }
        balanced_allocation::NAME => {
            let a: balanced_allocation::NodeResourcesBalancedAllocationArgs =
                serde_json::from_value(args).map_err(parse_err)?;
            let p = balanced_allocation::NodeResourcesBalancedAllocation::new(a)
                .map_err(|e| format!("pluginConfig {name}: {e}"))?;
            Ok(Some(PluginEntry { pre_filter: None, filter: None, score: Some(Arc::new(p)) }))
        }
        _ => Err(format!("pluginConfig: plugin {name:?} takes no arguments in kubesim")),
    }
}
