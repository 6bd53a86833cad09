//! The registry: the one place that knows every built-in plugin by name, and the default
//! profile with upstream's weights.

use crate::scheduler::framework::{FilterPlugin, PreFilterPlugin, ScorePlugin};
use crate::scheduler::plugins::{
    balanced_allocation, image_locality, inter_pod_affinity, node_affinity, node_name, node_ports, node_resources_fit,
    node_unschedulable, node_volume_limits, pod_topology_spread, taint_toleration, volume_binding, volume_restrictions,
    volume_zone,
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
    volume_restrictions::NAME,
    node_volume_limits::NAME,
    volume_binding::NAME,
    volume_zone::NAME,
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
        volume_restrictions::NAME => {
            let p = Arc::new(volume_restrictions::VolumeRestrictions);
            PluginEntry { pre_filter: Some(p.clone()), filter: Some(p), score: None }
        }
        node_volume_limits::NAME => {
            let p = Arc::new(node_volume_limits::NodeVolumeLimits);
            PluginEntry { pre_filter: Some(p.clone()), filter: Some(p), score: None }
        }
        volume_binding::NAME => {
            let p = Arc::new(volume_binding::VolumeBinding);
            PluginEntry { pre_filter: Some(p.clone()), filter: Some(p), score: None }
        }
        volume_zone::NAME => {
            let p = Arc::new(volume_zone::VolumeZone);
            PluginEntry { pre_filter: Some(p.clone()), filter: Some(p), score: None }
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

impl PluginEntry {
    /// An entry implementing no extension point yet (add them with the `with_*` methods).
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds the PreFilter implementation.
    pub fn with_pre_filter(mut self, p: Arc<dyn PreFilterPlugin + Send + Sync>) -> Self {
        self.pre_filter = Some(p);
        self
    }
    /// Adds the Filter implementation.
    pub fn with_filter(mut self, p: Arc<dyn FilterPlugin + Send + Sync>) -> Self {
        self.filter = Some(p);
        self
    }
    /// Adds the Score implementation.
    pub fn with_score(mut self, p: Arc<dyn ScorePlugin + Send + Sync>) -> Self {
        self.score = Some(p);
        self
    }
}

/// Builds a user plugin from its `pluginConfig` arguments (`null` when the configuration gives
/// none). The factory is also called once with `null` at registration, to learn which extension
/// points the plugin implements, so it must accept `null`.
pub type PluginFactory = Arc<dyn Fn(&serde_json::Value) -> Result<PluginEntry, String> + Send + Sync>;

#[derive(Clone)]
struct Registered {
    factory: PluginFactory,
    caps: crate::scheduler::config::Capabilities,
}

/// The plugins a run can name: every built-in plugin, plus the user plugins registered on this
/// value. Threaded through configuration resolution, so that a `KubeSchedulerConfiguration`
/// naming a user plugin (`plugins.score.enabled: [{name: MyPlugin, weight: 3}]`, arguments
/// from `pluginConfig`) builds it.
///
/// ```
/// use kubesim::scheduler::registry::{PluginEntry, Registry};
/// use kubesim::scheduler::plugins::node_resources_fit::NodeResourcesFit;
/// use std::sync::Arc;
/// let mut registry = Registry::new();
/// registry
///     .register("MyFit", |_args| Ok(PluginEntry::new().with_score(Arc::new(NodeResourcesFit::default()))))
///     .unwrap();
/// assert!(registry.capabilities("MyFit").score);
/// assert!(registry.register("NodeAffinity", |_| Ok(PluginEntry::new())).is_err());
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    custom: std::collections::BTreeMap<String, Registered>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("custom", &self.custom.keys().collect::<Vec<_>>()).finish()
    }
}

impl Registry {
    /// The built-in plugins only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the user plugin `name`. Fails when the name is taken (by a built-in plugin or an
    /// earlier registration), or when the factory rejects `null` arguments, or builds no
    /// extension point.
    pub fn register<F>(&mut self, name: &str, factory: F) -> Result<&mut Self, String>
    where
        F: Fn(&serde_json::Value) -> Result<PluginEntry, String> + Send + Sync + 'static,
    {
        if name.is_empty() {
            return Err("a plugin needs a non-empty name".into());
        }
        if crate::scheduler::profiles::capabilities(name).known || self.custom.contains_key(name) {
            return Err(format!("plugin {name:?} is already registered"));
        }
        let probe = factory(&serde_json::Value::Null).map_err(|e| format!("plugin {name:?}: {e}"))?;
        let caps = crate::scheduler::config::Capabilities {
            known: true,
            pre_filter: probe.pre_filter.is_some(),
            filter: probe.filter.is_some(),
            post_filter: false,
            score: probe.score.is_some(),
        };
        if !(caps.pre_filter || caps.filter || caps.score) {
            return Err(format!("plugin {name:?} implements no extension point"));
        }
        self.custom.insert(name.to_string(), Registered { factory: Arc::new(factory), caps });
        Ok(self)
    }

    /// The names of the user plugins, in name order.
    pub fn custom_names(&self) -> Vec<&str> {
        self.custom.keys().map(String::as_str).collect()
    }

    /// Which extension points `name` implements (user plugins first, then built-ins).
    pub fn capabilities(&self, name: &str) -> crate::scheduler::config::Capabilities {
        match self.custom.get(name) {
            Some(r) => r.caps,
            None => crate::scheduler::profiles::capabilities(name),
        }
    }

    /// Builds plugin `name` with its `pluginConfig` arguments (`None` for a no-op or unknown
    /// plugin).
    pub fn build_with_args(&self, name: &str, args: Option<&serde_json::Value>) -> Result<Option<PluginEntry>, String> {
        match self.custom.get(name) {
            Some(r) => {
                let mut a = args.cloned().unwrap_or(serde_json::Value::Null);
                if let Some(o) = a.as_object_mut() {
                    o.remove("apiVersion");
                    o.remove("kind");
                }
                (r.factory)(&a).map(Some).map_err(|e| format!("pluginConfig {name}: {e}"))
            }
            None => crate::scheduler::profiles::build_with_args(name, args),
        }
    }
}

#[cfg(test)]
mod registry_tests {
    use super::*;
    use crate::scheduler::plugins::node_unschedulable::NodeUnschedulable;

    fn filter_factory(args: &serde_json::Value) -> Result<PluginEntry, String> {
        if args.get("bad").is_some() {
            return Err("bad is not allowed".into());
        }
        Ok(PluginEntry::new().with_filter(Arc::new(NodeUnschedulable)))
    }

    #[test]
    fn a_registered_plugin_is_known_with_the_points_its_factory_builds() {
        let mut r = Registry::new();
        r.register("Mine", filter_factory).unwrap();
        let c = r.capabilities("Mine");
        assert!(c.known && c.filter && !c.score && !c.pre_filter);
        assert_eq!(r.custom_names(), vec!["Mine"]);
        assert!(!Registry::new().capabilities("Mine").known);
    }

    #[test]
    fn registering_a_taken_name_or_an_empty_plugin_fails() {
        let mut r = Registry::new();
        r.register("Mine", filter_factory).unwrap();
        assert!(r.register("Mine", filter_factory).unwrap_err().contains("already registered"));
        assert!(r.register("TaintToleration", filter_factory).unwrap_err().contains("already registered"));
        assert!(r.register("Empty", |_| Ok(PluginEntry::new())).unwrap_err().contains("no extension point"));
        assert!(r.register("Picky", |_| Err("needs args".into())).unwrap_err().contains("needs args"));
    }

    #[test]
    fn arguments_reach_the_factory_and_its_errors_name_the_plugin() {
        let mut r = Registry::new();
        r.register("Mine", filter_factory).unwrap();
        let e = r.build_with_args("Mine", Some(&serde_json::json!({"bad": 1}))).err().unwrap();
        assert_eq!(e, "pluginConfig Mine: bad is not allowed");
        assert!(r.build_with_args("Mine", Some(&serde_json::json!({"kind": "X"}))).unwrap().is_some());
        assert!(r.build_with_args("NodeName", None).unwrap().is_some());
    }
}
