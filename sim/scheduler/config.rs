//! `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`), read as kube-scheduler reads
//! it: profiles by `schedulerName`, plugins enabled / disabled per extension point (including
//! `"*"`), MultiPoint expansion with upstream's ordering rules, score weights, `pluginConfig`
//! arguments and `percentageOfNodesToScore` (global and per profile). Invalid configurations are
//! rejected with upstream's rules.
//!
//! This module resolves *names*; [`crate::scheduler::registry`] instantiates the plugins.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// The only accepted `apiVersion`.
pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";

/// Upstream v1.33's default MultiPoint plugins, in order, with their weights (0: not a score
/// plugin or weight unset).
pub const DEFAULT_MULTI_POINT: &[(&str, i32)] = &[
    ("SchedulingGates", 0),
    ("PrioritySort", 0),
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("VolumeRestrictions", 0),
    ("NodeVolumeLimits", 0),
    ("VolumeBinding", 0),
    ("VolumeZone", 0),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("DefaultPreemption", 0),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", 0),
];

/// A plugin reference in a plugin set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginRef {
    /// Plugin name (`*` in `disabled` means every default plugin).
    pub name: String,
    /// Score weight (Score / MultiPoint only; 0 or absent: the default).
    #[serde(default)]
    pub weight: Option<i32>,
}

/// `enabled` / `disabled` of one extension point.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginSet {
    /// Enabled plugins, in order.
    #[serde(default)]
    pub enabled: Vec<PluginRef>,
    /// Disabled plugins.
    #[serde(default)]
    pub disabled: Vec<PluginRef>,
}

/// `plugins` of a profile: one set per extension point.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plugins {
    /// PreEnqueue.
    #[serde(default)]
    pub pre_enqueue: PluginSet,
    /// QueueSort.
    #[serde(default)]
    pub queue_sort: PluginSet,
    /// PreFilter.
    #[serde(default)]
    pub pre_filter: PluginSet,
    /// Filter.
    #[serde(default)]
    pub filter: PluginSet,
    /// PostFilter.
    #[serde(default)]
    pub post_filter: PluginSet,
    /// PreScore.
    #[serde(default)]
    pub pre_score: PluginSet,
    /// Score.
    #[serde(default)]
    pub score: PluginSet,
    /// Reserve.
    #[serde(default)]
    pub reserve: PluginSet,
    /// Permit.
    #[serde(default)]
    pub permit: PluginSet,
    /// PreBind.
    #[serde(default)]
    pub pre_bind: PluginSet,
    /// Bind.
    #[serde(default)]
    pub bind: PluginSet,
    /// PostBind.
    #[serde(default)]
    pub post_bind: PluginSet,
    /// MultiPoint.
    #[serde(default)]
    pub multi_point: PluginSet,
}

/// One `pluginConfig` entry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginConfig {
    /// Plugin name.
    pub name: String,
    /// Its arguments (`apiVersion` / `kind` inside are accepted and ignored).
    #[serde(default)]
    pub args: serde_json::Value,
}

/// One profile.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileConfig {
    /// `schedulerName` (default `default-scheduler`).
    #[serde(default)]
    pub scheduler_name: Option<String>,
    /// Per-profile `percentageOfNodesToScore`.
    #[serde(default)]
    pub percentage_of_nodes_to_score: Option<i32>,
    /// Plugins.
    #[serde(default)]
    pub plugins: Option<Plugins>,
    /// Plugin arguments.
    #[serde(default)]
    pub plugin_config: Vec<PluginConfig>,
}

/// The configuration file.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeSchedulerConfiguration {
    /// Must be `kubescheduler.config.k8s.io/v1`.
    #[serde(default)]
    pub api_version: String,
    /// Must be `KubeSchedulerConfiguration`.
    #[serde(default)]
    pub kind: String,
    /// Profiles (none: one default profile).
    #[serde(default)]
    pub profiles: Vec<ProfileConfig>,
    /// Global `percentageOfNodesToScore`.
    #[serde(default)]
    pub percentage_of_nodes_to_score: Option<i32>,
    /// `podInitialBackoffSeconds` (default 1).
    #[serde(default)]
    pub pod_initial_backoff_seconds: Option<i64>,
    /// `podMaxBackoffSeconds` (default 10).
    #[serde(default)]
    pub pod_max_backoff_seconds: Option<i64>,
    /// Not modelled (accepted for real files).
    #[serde(default)]
    pub parallelism: Option<i32>,
    /// Not modelled.
    #[serde(default)]
    pub leader_election: Option<serde_json::Value>,
    /// Not modelled.
    #[serde(default)]
    pub client_connection: Option<serde_json::Value>,
    /// Not modelled.
    #[serde(default)]
    pub enable_profiling: Option<bool>,
    /// Not modelled.
    #[serde(default)]
    pub enable_contention_profiling: Option<bool>,
    /// Not modelled.
    #[serde(default)]
    pub delay_cache_until_active: Option<bool>,
    /// Must be empty: extenders are not supported.
    #[serde(default)]
    pub extenders: Vec<serde_json::Value>,
}

/// A profile resolved to plugin names per extension point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedProfile {
    /// `schedulerName`.
    pub scheduler_name: String,
    /// percentageOfNodesToScore (profile value, else the global one; `None` or 0: adaptive).
    pub percentage_of_nodes_to_score: Option<u32>,
    /// PreFilter plugins, in order.
    pub pre_filter: Vec<String>,
    /// Filter plugins, in order.
    pub filter: Vec<String>,
    /// PostFilter plugins, in order.
    pub post_filter: Vec<String>,
    /// Score plugins with weights, in order.
    pub score: Vec<(String, i64)>,
    /// `pluginConfig` arguments by plugin name.
    pub args: BTreeMap<String, serde_json::Value>,
}

/// Which extension points a plugin implements (from the registry).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Known to the registry at all.
    pub known: bool,
    /// PreFilter.
    pub pre_filter: bool,
    /// Filter.
    pub filter: bool,
    /// PostFilter.
    pub post_filter: bool,
    /// PreScore / Score.
    pub score: bool,
}

/// Upstream `mergePluginSet` (apis/config/v1/default_plugins.go): defaults minus disabled
/// (`*` drops them all), re-configured defaults replaced in place, custom plugins appended.
fn merge_plugin_set(defaults: &[(String, i32)], custom: &PluginSet) -> (Vec<(String, i32)>, BTreeSet<String>) {
    let disabled: BTreeSet<String> = custom.disabled.iter().map(|p| p.name.clone()).collect();
    let mut replaced = BTreeSet::new();
    let mut out = Vec::new();
    if !disabled.contains("*") {
        for (name, w) in defaults {
            if disabled.contains(name) {
                continue;
            }
            match custom.enabled.iter().position(|p| &p.name == name) {
                Some(i) => {
                    replaced.insert(i);
                    out.push((name.clone(), custom.enabled[i].weight.unwrap_or(0)));
                }
                None => out.push((name.clone(), *w)),
            }
        }
    }
    for (i, p) in custom.enabled.iter().enumerate() {
        if !replaced.contains(&i) {
            out.push((p.name.clone(), p.weight.unwrap_or(0)));
        }
    }
    (out, disabled)
}

/// Upstream `expandMultiPointPlugins` for one extension point: explicitly configured plugins that
/// override a MultiPoint one first, then the MultiPoint plugins implementing the point (unless
/// disabled there), then the other explicitly enabled plugins.
fn expand(
    point: &str,
    multi: &[(String, i32)],
    set: &PluginSet,
    implements: &dyn Fn(&str) -> bool,
) -> Result<Vec<(String, i32)>, String> {
    let disabled: BTreeSet<&str> = set.disabled.iter().map(|p| p.name.as_str()).collect();
    if disabled.contains("*") {
        return Ok(set.enabled.iter().map(|p| (p.name.clone(), p.weight.unwrap_or(0))).collect());
    }
    let enabled: Vec<(String, i32)> = set.enabled.iter().map(|p| (p.name.clone(), p.weight.unwrap_or(0))).collect();
    let mut overrides = BTreeSet::new();
    let mut multi_enabled: Vec<(String, i32)> = Vec::new();
    for (name, w) in multi {
        if !implements(name) || disabled.contains(name.as_str()) {
            continue;
        }
        if enabled.iter().any(|(n, _)| n == name) {
            overrides.insert(name.clone());
            continue;
        }
        if multi_enabled.iter().any(|(n, _)| n == name) {
            return Err(format!("plugin {name:?} already registered as {point:?}"));
        }
        multi_enabled.push((name.clone(), *w));
    }
    let mut out: Vec<(String, i32)> = enabled.iter().filter(|(n, _)| overrides.contains(n)).cloned().collect();
    out.extend(multi_enabled);
    out.extend(enabled.into_iter().filter(|(n, _)| !overrides.contains(n)));
    Ok(out)
}

fn check_weight(name: &str, w: i32) -> Result<i64, String> {
    if !(0..=100).contains(&w) {
        return Err(format!("plugin {name:?}: weight {w} is outside 1..100"));
    }
    Ok(if w == 0 { 1 } else { w as i64 })
}

fn check_percentage(p: Option<i32>, field: &str) -> Result<Option<u32>, String> {
    match p {
        None => Ok(None),
        Some(v) if (0..=100).contains(&v) => Ok(Some(v as u32)),
        Some(v) => Err(format!("{field}: {v} is outside 0..100")),
    }
}

impl KubeSchedulerConfiguration {
    /// Validates the file and resolves each profile; `caps` tells which extension points a plugin
    /// name implements.
    pub fn resolve(&self, caps: &dyn Fn(&str) -> Capabilities) -> Result<Vec<ResolvedProfile>, String> {
        if self.api_version != API_VERSION {
            return Err(format!("apiVersion: expected {API_VERSION:?}, got {:?}", self.api_version));
        }
        if self.kind != "KubeSchedulerConfiguration" {
            return Err(format!("kind: expected \"KubeSchedulerConfiguration\", got {:?}", self.kind));
        }
        if !self.extenders.is_empty() {
            return Err("extenders: scheduler extenders are not supported by kubesim".into());
        }
        let global_pct = check_percentage(self.percentage_of_nodes_to_score, "percentageOfNodesToScore")?;
        let initial = self.pod_initial_backoff_seconds.unwrap_or(1);
        let max = self.pod_max_backoff_seconds.unwrap_or(10);
        if initial <= 0 {
            return Err(format!("podInitialBackoffSeconds: must be greater than 0, got {initial}"));
        }
        if max < initial {
            return Err(format!(
                "podMaxBackoffSeconds: must be at least podInitialBackoffSeconds ({initial}), got {max}"
            ));
        }
        let profiles = if self.profiles.is_empty() { vec![ProfileConfig::default()] } else { self.profiles.clone() };
        let mut names = BTreeSet::new();
        let mut out = Vec::new();
        let mut queue_sorts: Option<Vec<String>> = None;
        for (i, p) in profiles.iter().enumerate() {
            let field = format!("profiles[{i}]");
            let name = p.scheduler_name.clone().unwrap_or_else(|| crate::model::pod::DEFAULT_SCHEDULER_NAME.into());
            if name.is_empty() {
                return Err(format!("{field}.schedulerName: must not be empty"));
            }
            if !names.insert(name.clone()) {
                return Err(format!("{field}.schedulerName: {name:?} is used by two profiles"));
            }
            let r = resolve_profile(p, &name, caps).map_err(|e| format!("{field}: {e}"))?;
            let pct = check_percentage(p.percentage_of_nodes_to_score, &format!("{field}.percentageOfNodesToScore"))?;
            let qs: Vec<String> = {
                let defaults: Vec<(String, i32)> =
                    DEFAULT_MULTI_POINT.iter().map(|(n, w)| (n.to_string(), *w)).collect();
                let plugins = p.plugins.clone().unwrap_or_default();
                let (multi, _) = merge_plugin_set(&defaults, &plugins.multi_point);
                expand("QueueSort", &multi, &plugins.queue_sort, &|n| n == "PrioritySort")
                    .map_err(|e| format!("{field}: {e}"))?
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect()
            };
            if qs.len() != 1 || qs[0] != "PrioritySort" {
                return Err(format!(
                    "{field}.plugins.queueSort: exactly one queue sort plugin (PrioritySort) is supported, got {qs:?}"
                ));
            }
            match &queue_sorts {
                None => queue_sorts = Some(qs),
                Some(q) if *q != qs => return Err(format!("{field}: all profiles must use the same queueSort plugin")),
                _ => {}
            }
            out.push(ResolvedProfile { percentage_of_nodes_to_score: pct.or(global_pct), ..r });
        }
        Ok(out)
    }

    /// `(initial, max)` backoff in seconds.
    pub fn backoff_seconds(&self) -> (i64, i64) {
        (self.pod_initial_backoff_seconds.unwrap_or(1), self.pod_max_backoff_seconds.unwrap_or(10))
    }
}

fn resolve_profile(
    p: &ProfileConfig,
    name: &str,
    caps: &dyn Fn(&str) -> Capabilities,
) -> Result<ResolvedProfile, String> {
    let plugins = p.plugins.clone().unwrap_or_default();
    let sets = [
        ("preEnqueue", &plugins.pre_enqueue),
        ("queueSort", &plugins.queue_sort),
        ("preFilter", &plugins.pre_filter),
        ("filter", &plugins.filter),
        ("postFilter", &plugins.post_filter),
        ("preScore", &plugins.pre_score),
        ("score", &plugins.score),
        ("reserve", &plugins.reserve),
        ("permit", &plugins.permit),
        ("preBind", &plugins.pre_bind),
        ("bind", &plugins.bind),
        ("postBind", &plugins.post_bind),
        ("multiPoint", &plugins.multi_point),
    ];
    for (point, set) in sets {
        for r in set.enabled.iter().chain(&set.disabled) {
            if r.name != "*" && !caps(&r.name).known {
                return Err(format!("plugins.{point}: unknown plugin {:?}", r.name));
            }
        }
        for r in &set.enabled {
            if let Some(w) = r.weight {
                if point != "score" && point != "multiPoint" && w != 0 {
                    return Err(format!(
                        "plugins.{point}: plugin {:?}: a weight is only allowed on score and multiPoint",
                        r.name
                    ));
                }
                check_weight(&r.name, w)?;
            }
        }
    }
    let defaults: Vec<(String, i32)> = DEFAULT_MULTI_POINT.iter().map(|(n, w)| (n.to_string(), *w)).collect();
    let (multi, _) = merge_plugin_set(&defaults, &plugins.multi_point);
    let pre_filter = expand("PreFilter", &multi, &plugins.pre_filter, &|n| caps(n).pre_filter)?;
    let filter = expand("Filter", &multi, &plugins.filter, &|n| caps(n).filter)?;
    let post_filter = expand("PostFilter", &multi, &plugins.post_filter, &|n| caps(n).post_filter)?;
    let score_raw = expand("Score", &multi, &plugins.score, &|n| caps(n).score)?;
    let mut score = Vec::new();
    for (n, w) in score_raw {
        // An explicit score weight wins; else the MultiPoint weight; 0 becomes 1.
        let w = if w == 0 { multi.iter().find(|(m, _)| *m == n).map(|(_, w)| *w).unwrap_or(0) } else { w };
        score.push((n.clone(), check_weight(&n, w)?));
    }
    for (point, list) in [("preFilter", &pre_filter), ("filter", &filter), ("postFilter", &post_filter)] {
        for n in list.iter() {
            let c = caps(&n.0);
            let ok = match point {
                "preFilter" => c.pre_filter,
                "filter" => c.filter,
                _ => c.post_filter,
            };
            if !ok {
                return Err(format!("plugins.{point}: plugin {:?} does not extend {point}", n.0));
            }
        }
    }
    for (n, _) in &score {
        if !caps(n).score {
            return Err(format!("plugins.score: plugin {n:?} does not extend score"));
        }
    }
    let mut args = BTreeMap::new();
    for pc in &p.plugin_config {
        if !caps(&pc.name).known {
            return Err(format!("pluginConfig: unknown plugin {:?}", pc.name));
        }
        if args.insert(pc.name.clone(), pc.args.clone()).is_some() {
            return Err(format!("pluginConfig: {:?} is configured twice", pc.name));
        }
    }
    Ok(ResolvedProfile {
        scheduler_name: name.to_string(),
        percentage_of_nodes_to_score: None,
        pre_filter: pre_filter.into_iter().map(|(n, _)| n).collect(),
        filter: filter.into_iter().map(|(n, _)| n).collect(),
        post_filter: post_filter.into_iter().map(|(n, _)| n).collect(),
        score,
        args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Capabilities of the upstream default plugins (as kube-scheduler's registry has them).
    fn caps(name: &str) -> Capabilities {
        let (pf, f, pof, s) = match name {
            "NodeUnschedulable" | "NodeName" | "NodePorts" | "VolumeRestrictions" | "NodeVolumeLimits"
            | "VolumeZone" => (false, true, false, false),
            "TaintToleration" => (false, true, false, true),
            "NodeAffinity" | "NodeResourcesFit" | "PodTopologySpread" | "InterPodAffinity" => (true, true, false, true),
            "VolumeBinding" => (true, true, false, false),
            "DefaultPreemption" => (false, false, true, false),
            "NodeResourcesBalancedAllocation" | "ImageLocality" => (false, false, false, true),
            "SchedulingGates" | "PrioritySort" | "DefaultBinder" => (false, false, false, false),
            _ => return Capabilities::default(),
        };
        Capabilities { known: true, pre_filter: pf, filter: f, post_filter: pof, score: s }
    }

    fn load(yaml: &str) -> Result<Vec<ResolvedProfile>, String> {
        let c: KubeSchedulerConfiguration = serde_saphyr::from_str(yaml).map_err(|e| e.to_string())?;
        c.resolve(&caps)
    }

    const HEAD: &str = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";

    #[test]
    fn an_empty_configuration_gives_the_default_profile_with_upstream_weights() {
        let p = load(HEAD).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].scheduler_name, "default-scheduler");
        assert_eq!(
            p[0].score,
            vec![
                ("TaintToleration".to_string(), 3),
                ("NodeAffinity".to_string(), 2),
                ("NodeResourcesFit".to_string(), 1),
                ("PodTopologySpread".to_string(), 2),
                ("InterPodAffinity".to_string(), 2),
                ("NodeResourcesBalancedAllocation".to_string(), 1),
                ("ImageLocality".to_string(), 1),
            ]
        );
        assert_eq!(
            p[0].pre_filter,
            vec!["NodeAffinity", "NodeResourcesFit", "VolumeBinding", "PodTopologySpread", "InterPodAffinity"]
        );
        assert_eq!(p[0].post_filter, vec!["DefaultPreemption"]);
    }

    #[test]
    fn disabling_a_score_plugin_removes_it_from_score_only() {
        let p = load(&format!("{HEAD}profiles:\n- plugins:\n    score:\n      disabled: [{{name: ImageLocality}}, {{name: NodeResourcesFit}}]\n")).unwrap();
        assert!(!p[0].score.iter().any(|(n, _)| n == "ImageLocality" || n == "NodeResourcesFit"));
        assert!(p[0].filter.contains(&"NodeResourcesFit".to_string()));
    }

    #[test]
    fn a_reconfigured_score_weight_overrides_the_default_in_place() {
        let p = load(&format!(
            "{HEAD}profiles:\n- plugins:\n    score:\n      enabled: [{{name: NodeResourcesFit, weight: 5}}]\n"
        ))
        .unwrap();
        assert_eq!(p[0].score[0], ("NodeResourcesFit".to_string(), 5), "overrides come first");
        assert_eq!(p[0].score.iter().filter(|(n, _)| n == "NodeResourcesFit").count(), 1);
    }

    #[test]
    fn star_disables_every_default_at_that_point() {
        let p = load(&format!(
            "{HEAD}profiles:\n- plugins:\n    score:\n      disabled: [{{name: '*'}}]\n      enabled: [{{name: NodeResourcesFit, weight: 2}}]\n"
        ))
        .unwrap();
        assert_eq!(p[0].score, vec![("NodeResourcesFit".to_string(), 2)]);
    }

    #[test]
    fn multi_point_star_and_custom_enabling_rebuild_a_profile() {
        let p = load(&format!(
            "{HEAD}profiles:\n- schedulerName: packer\n  plugins:\n    multiPoint:\n      disabled: [{{name: '*'}}]\n      enabled: [{{name: PrioritySort}}, {{name: NodeResourcesFit, weight: 4}}, {{name: TaintToleration}}]\n"
        ))
        .unwrap();
        assert_eq!(p[0].filter, vec!["NodeResourcesFit", "TaintToleration"]);
        assert_eq!(p[0].score, vec![("NodeResourcesFit".to_string(), 4), ("TaintToleration".to_string(), 1)]);
    }

    #[test]
    fn invalid_configurations_are_rejected_with_upstreams_rules() {
        let cases = [
            (
                format!(
                    "{HEAD}profiles:\n- plugins:\n    score:\n      enabled: [{{name: NodeResourcesFit, weight: 101}}]\n"
                ),
                "weight 101 is outside 1..100",
            ),
            (
                format!(
                    "{HEAD}profiles:\n- plugins:\n    score:\n      enabled: [{{name: NodeResourcesFit, weight: -1}}]\n"
                ),
                "weight -1",
            ),
            (
                format!("{HEAD}profiles:\n- plugins:\n    filter:\n      enabled: [{{name: Frobnicate}}]\n"),
                "unknown plugin \"Frobnicate\"",
            ),
            (format!("{HEAD}profiles:\n- schedulerName: a\n- schedulerName: a\n"), "used by two profiles"),
            (format!("{HEAD}percentageOfNodesToScore: 120\n"), "outside 0..100"),
            (
                format!("{HEAD}profiles:\n- pluginConfig:\n  - name: Nope\n    args: {{}}\n"),
                "pluginConfig: unknown plugin",
            ),
            (
                format!("{HEAD}profiles:\n- plugins:\n    score:\n      enabled: [{{name: NodePorts}}]\n"),
                "does not extend score",
            ),
            (format!("{HEAD}podInitialBackoffSeconds: 0\n"), "podInitialBackoffSeconds"),
            (
                "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n".to_string(),
                "apiVersion",
            ),
            (format!("{HEAD}extenders: [{{urlPrefix: 'http://x'}}]\n"), "extenders"),
        ];
        for (yaml, want) in cases {
            let e = load(&yaml).unwrap_err();
            assert!(e.contains(want), "{yaml}\n=> {e}");
        }
    }

    #[test]
    fn percentage_of_nodes_to_score_per_profile_overrides_the_global_value() {
        let p = load(&format!("{HEAD}percentageOfNodesToScore: 30\nprofiles:\n- schedulerName: a\n- schedulerName: b\n  percentageOfNodesToScore: 70\n")).unwrap();
        assert_eq!(p[0].percentage_of_nodes_to_score, Some(30));
        assert_eq!(p[1].percentage_of_nodes_to_score, Some(70));
    }
}
