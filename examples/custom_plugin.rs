//! A user Score plugin, end to end: one type implementing the extension-point trait, one line of
//! registration, and a KubeSchedulerConfiguration that enables it by name with a weight and its
//! `pluginConfig` arguments.
//!
//! `PreferLabel` gives 100 to nodes carrying a label (`key: value`, from its arguments) and 0 to
//! the others. With weight 3 it outweighs LeastAllocated spreading, so the pods gather on the
//! labelled nodes while they have room.
//!
//! ```sh
//! cargo run --example custom_plugin
//! ```

use kubesim::prelude::*;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Scores 100 on nodes labelled `key: value`, else 0.
pub struct PreferLabel {
    key: String,
    value: String,
}

/// `PreferLabelArgs`, as written under `pluginConfig`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PreferLabelArgs {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

impl PreferLabel {
    /// The name a configuration uses.
    pub const NAME: &'static str = "PreferLabel";

    /// Builds the plugin from its `pluginConfig` arguments (`null`: the defaults).
    pub fn factory(args: &serde_json::Value) -> Result<PluginEntry, String> {
        let a: PreferLabelArgs = if args.is_null() {
            PreferLabelArgs::default()
        } else {
            serde_json::from_value(args.clone()).map_err(|e| e.to_string())?
        };
        let key = a.key.unwrap_or_else(|| "kubesim.io/preferred".into());
        if key.is_empty() {
            return Err("key must not be empty".into());
        }
        let plugin = PreferLabel { key, value: a.value.unwrap_or_else(|| "true".into()) };
        Ok(PluginEntry::new().with_score(Arc::new(plugin)))
    }
}

impl Plugin for PreferLabel {
    fn name(&self) -> &'static str {
        Self::NAME
    }
}

impl ScorePlugin for PreferLabel {
    fn score(&self, _state: &CycleState, _cluster: &ClusterState, _pod: &Pod, node: &NodeState) -> Result<i64, Status> {
        let hit = node.node.labels.get(&self.key) == Some(&self.value);
        Ok(if hit { MAX_NODE_SCORE } else { MIN_NODE_SCORE })
    }
}

/// The registry with `PreferLabel` in it: the one line of registration.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    if let Err(e) = r.register(PreferLabel::NAME, PreferLabel::factory) {
        unreachable!("PreferLabel registers: {e}");
    }
    r
}

/// Two `disk: ssd` nodes and four others, eight small pods; with `plugin`, a scheduler
/// configuration enabling PreferLabel (weight 3) for `disk: ssd`.
pub fn scenario(registry: &Registry, plugin: bool) -> Result<Scenario, InputError> {
    let mut b = ScenarioBuilder::new("custom-plugin")
        .seed(1)
        .duration("10m")
        .node_pool_spec(json!({"name": "ssd", "count": 2, "allocatable": {"cpu": "8", "memory": "16Gi"}, "labels": {"disk": "ssd"}}))
        .node_pool("hdd", 4, "8", "16Gi")
        .pods("web", 8, "500m", "512Mi");
    if plugin {
        b = b.scheduler_config(json!({
            "apiVersion": "kubescheduler.config.k8s.io/v1",
            "kind": "KubeSchedulerConfiguration",
            "profiles": [{
                "schedulerName": "default-scheduler",
                "plugins": {"score": {"enabled": [{"name": PreferLabel::NAME, "weight": 3}]}},
                "pluginConfig": [{"name": PreferLabel::NAME, "args": {"key": "disk", "value": "ssd"}}],
            }],
        }));
    }
    b.build_with(registry)
}

/// How many pods ended on `ssd-*` nodes.
pub fn pods_on_ssd(r: &RunResult) -> usize {
    r.placements().values().filter(|n| n.starts_with("ssd-")).count()
}

fn main() {
    let reg = registry();
    for plugin in [false, true] {
        let result = scenario(&reg, plugin)
            .map_err(|e| e.to_string())
            .and_then(|sc| Runner::new(sc).run().map_err(|e| e.to_string()));
        match result {
            Ok(r) => println!(
                "{:<28} {} of {} pods on ssd nodes",
                if plugin { "default + PreferLabel(w=3):" } else { "default profile:" },
                pods_on_ssd(&r),
                r.summary.counts.pods_scheduled
            ),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
}
