//! Building [`Profile`]s from a resolved `KubeSchedulerConfiguration`: which extension points each
//! plugin name implements, and plugin construction with its `pluginConfig` arguments.
//!
//! Upstream plugins that have nothing to act on in kubesim (SchedulingGates, PrioritySort as the
//! only queue sort, DefaultBinder) are accepted by name and behave as no-ops, as they do upstream
//! for pods without scheduling gates.

use crate::scheduler::config::{Capabilities, KubeSchedulerConfiguration, ResolvedProfile};
use crate::scheduler::plugins::node_resources_fit::{
    self, FitArgs, NodeResourcesFit, ResourceSpec, ScoringStrategy, ShapePoint,
};
use crate::scheduler::registry::{self, PluginEntry};
use crate::scheduler::{PreemptionArgs, Profile};
use serde::Deserialize;
use std::sync::Arc;

/// Upstream plugins that are accepted and do nothing in kubesim, with their extension points
/// (pre_filter, filter, post_filter, score).
const NO_OP: &[(&str, bool, bool, bool, bool)] = &[
    ("SchedulingGates", false, false, false, false),
    ("PrioritySort", false, false, false, false),
    ("DefaultBinder", false, false, false, false),
];

/// The name of the preemption PostFilter plugin.
pub const DEFAULT_PREEMPTION: &str = "DefaultPreemption";

/// Which extension points `name` implements.
pub fn capabilities(name: &str) -> Capabilities {
    if let Some((_, pf, f, pof, s)) = NO_OP.iter().find(|(n, ..)| *n == name) {
        return Capabilities { known: true, pre_filter: *pf, filter: *f, post_filter: *pof, score: *s };
    }
    if name == DEFAULT_PREEMPTION {
        return Capabilities { known: true, post_filter: true, ..Default::default() };
    }
    match registry::build(name) {
        Some(e) => Capabilities {
            known: true,
            pre_filter: e.pre_filter.is_some(),
            filter: e.filter.is_some(),
            post_filter: false,
            score: e.score.is_some(),
        },
        None => Capabilities::default(),
    }
}

/// `NodeResourcesFitArgs` as written in a configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FitArgsConfig {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    ignored_resources: Vec<String>,
    #[serde(default)]
    ignored_resource_groups: Vec<String>,
    #[serde(default)]
    scoring_strategy: Option<ScoringStrategyConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ScoringStrategyConfig {
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    resources: Option<Vec<ResourceSpecConfig>>,
    #[serde(default)]
    requested_to_capacity_ratio: Option<RtcrConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResourceSpecConfig {
    name: String,
    #[serde(default)]
    weight: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RtcrConfig {
    #[serde(default)]
    shape: Vec<ShapeConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ShapeConfig {
    utilization: i64,
    score: i64,
}

/// Parses and validates `NodeResourcesFitArgs` with upstream's rules.
pub fn fit_args(v: &serde_json::Value) -> Result<FitArgs, String> {
    let c: FitArgsConfig = serde_json::from_value(v.clone()).map_err(|e| format!("NodeResourcesFitArgs: {e}"))?;
    let _ = (&c.api_version, &c.kind, &c.ignored_resources, &c.ignored_resource_groups);
    let mut args = FitArgs::default();
    let Some(ss) = c.scoring_strategy else { return Ok(args) };
    if let Some(res) = ss.resources {
        if res.is_empty() {
            return Err("NodeResourcesFitArgs: scoringStrategy.resources must not be empty".into());
        }
        let mut out = Vec::new();
        for r in res {
            if !(0..=100).contains(&r.weight) {
                return Err(format!(
                    "NodeResourcesFitArgs: scoringStrategy.resources[{}].weight {} is outside 1..100",
                    r.name, r.weight
                ));
            }
            if out.iter().any(|x: &ResourceSpec| x.name == r.name) {
                return Err(format!("NodeResourcesFitArgs: resource {:?} is listed twice", r.name));
            }
            out.push(ResourceSpec { name: r.name, weight: if r.weight == 0 { 1 } else { r.weight } });
        }
        args.resources = out;
    }
    args.strategy = match ss.type_.as_deref().unwrap_or("LeastAllocated") {
        "LeastAllocated" => ScoringStrategy::LeastAllocated,
        "MostAllocated" => ScoringStrategy::MostAllocated,
        "RequestedToCapacityRatio" => {
            let shape = ss.requested_to_capacity_ratio.unwrap_or_default().shape;
            if shape.is_empty() {
                return Err("NodeResourcesFitArgs: requestedToCapacityRatio.shape must not be empty".into());
            }
            let mut pts = Vec::new();
            for (i, p) in shape.iter().enumerate() {
                if !(0..=100).contains(&p.utilization) {
                    return Err(format!(
                        "NodeResourcesFitArgs: shape[{i}].utilization {} is outside 0..100",
                        p.utilization
                    ));
                }
                if !(0..=node_resources_fit::MAX_CUSTOM_PRIORITY_SCORE).contains(&p.score) {
                    return Err(format!("NodeResourcesFitArgs: shape[{i}].score {} is outside 0..10", p.score));
                }
                if i > 0 && p.utilization <= shape[i - 1].utilization {
                    return Err(format!(
                        "NodeResourcesFitArgs: shape utilization values must be strictly increasing (shape[{i}])"
                    ));
                }
                pts.push(ShapePoint { utilization: p.utilization, score: p.score });
            }
            ScoringStrategy::RequestedToCapacityRatio(pts)
        }
        other => {
            return Err(format!(
                "NodeResourcesFitArgs: scoringStrategy.type {other:?} is not one of LeastAllocated, MostAllocated, RequestedToCapacityRatio"
            ));
        }
    };
    Ok(args)
}

/// `DefaultPreemptionArgs` as written in a configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PreemptionArgsConfig {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    min_candidate_nodes_percentage: Option<i32>,
    #[serde(default)]
    min_candidate_nodes_absolute: Option<i32>,
}

/// Parses and validates `DefaultPreemptionArgs` with upstream's rules.
pub fn preemption_args(v: Option<&serde_json::Value>) -> Result<PreemptionArgs, String> {
    let mut a = PreemptionArgs::default();
    let Some(v) = v else { return Ok(a) };
    let c: PreemptionArgsConfig =
        serde_json::from_value(v.clone()).map_err(|e| format!("DefaultPreemptionArgs: {e}"))?;
    let _ = (&c.api_version, &c.kind);
    if let Some(p) = c.min_candidate_nodes_percentage {
        if !(0..=100).contains(&p) {
            return Err(format!("DefaultPreemptionArgs: minCandidateNodesPercentage {p} is outside 0..100"));
        }
        a.min_candidate_nodes_percentage = p as u32;
    }
    if let Some(n) = c.min_candidate_nodes_absolute {
        if n < 0 {
            return Err(format!("DefaultPreemptionArgs: minCandidateNodesAbsolute {n} must not be negative"));
        }
        a.min_candidate_nodes_absolute = n as u32;
    }
    if a.min_candidate_nodes_percentage == 0 && a.min_candidate_nodes_absolute == 0 {
        return Err(
            "DefaultPreemptionArgs: minCandidateNodesPercentage and minCandidateNodesAbsolute cannot both be zero"
                .into(),
        );
    }
    Ok(a)
}

/// Builds plugin `name` with its configured arguments (`None` for a no-op or unknown plugin).
pub fn build_with_args(name: &str, args: Option<&serde_json::Value>) -> Result<Option<PluginEntry>, String> {
    if NO_OP.iter().any(|(n, ..)| *n == name) || name == DEFAULT_PREEMPTION {
        return Ok(None);
    }
    if name == node_resources_fit::NAME {
        let fit = Arc::new(NodeResourcesFit::new(match args {
            Some(a) => fit_args(a)?,
            None => FitArgs::default(),
        }));
        return Ok(Some(PluginEntry { pre_filter: None, filter: Some(fit.clone()), score: Some(fit) }));
    }
    match args {
        None => Ok(registry::build(name)),
        Some(a) => registry::build_configured(name, a),
    }
}

impl Profile {
    /// Builds the profile a resolved configuration describes (built-in plugins only).
    pub fn from_resolved(r: &ResolvedProfile) -> Result<Profile, String> {
        Profile::from_resolved_in(r, &registry::Registry::new())
    }

    /// Builds the profile a resolved configuration describes, with the plugins of `reg`.
    pub fn from_resolved_in(r: &ResolvedProfile, reg: &registry::Registry) -> Result<Profile, String> {
        let mut p = Profile {
            scheduler_name: r.scheduler_name.clone(),
            pre_filters: vec![],
            filters: vec![],
            scores: vec![],
            percentage_of_nodes_to_score: r.percentage_of_nodes_to_score.filter(|p| *p > 0),
            post_filters: vec![],
            reserves: vec![],
            permits: vec![],
            binders: vec![],
        };
        let mut cache: std::collections::BTreeMap<String, Option<PluginEntry>> = Default::default();
        let mut entry = |name: &str| -> Result<Option<PluginEntry>, String> {
            if let Some(e) = cache.get(name) {
                return Ok(e.clone());
            }
            let e = reg.build_with_args(name, r.args.get(name))?;
            cache.insert(name.to_string(), e.clone());
            Ok(e)
        };
        for n in &r.pre_filter {
            if let Some(e) = entry(n)? {
                p.pre_filters.extend(e.pre_filter);
            }
        }
        for n in &r.filter {
            if let Some(e) = entry(n)? {
                p.filters.extend(e.filter);
            }
        }
        for (n, w) in &r.score {
            if let Some(e) = entry(n)?
                && let Some(s) = e.score
            {
                p.scores.push((s, *w));
            }
        }
        for n in &r.post_filter {
            if n == DEFAULT_PREEMPTION {
                let args = preemption_args(r.args.get(DEFAULT_PREEMPTION))?;
                p.post_filters.push(Arc::new(crate::scheduler::preemption::DefaultPreemption { args }));
            }
        }
        Ok(p)
    }
}

/// Parses a KubeSchedulerConfiguration and builds all its profiles (built-in plugins only).
pub fn profiles_from_config(cfg: &KubeSchedulerConfiguration) -> Result<Vec<Profile>, String> {
    profiles_from_config_in(cfg, &registry::Registry::new())
}

/// Parses a KubeSchedulerConfiguration and builds all its profiles, with the plugins of `reg`
/// (user plugins named in the configuration are built by their registered factories).
pub fn profiles_from_config_in(
    cfg: &KubeSchedulerConfiguration,
    reg: &registry::Registry,
) -> Result<Vec<Profile>, String> {
    cfg.resolve(&|name| reg.capabilities(name))?.iter().map(|r| Profile::from_resolved_in(r, reg)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_args_read_the_scoring_strategy_and_reject_bad_shapes() {
        let a = fit_args(&serde_json::json!({"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu", "weight": 3}]}})).unwrap();
        assert_eq!(a.strategy, ScoringStrategy::MostAllocated);
        assert_eq!(a.resources, vec![ResourceSpec { name: "cpu".into(), weight: 3 }]);
        let e = fit_args(&serde_json::json!({"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": [{"utilization": 50, "score": 1}, {"utilization": 10, "score": 2}]}}})).unwrap_err();
        assert!(e.contains("strictly increasing"), "{e}");
        let e = fit_args(&serde_json::json!({"scoringStrategy": {"type": "Fancy"}})).unwrap_err();
        assert!(e.contains("\"Fancy\""), "{e}");
        let e = fit_args(&serde_json::json!({"scoringStrateg": {}})).unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn preemption_args_follow_upstream_validation() {
        assert_eq!(preemption_args(None).unwrap(), PreemptionArgs::default());
        let e = preemption_args(Some(
            &serde_json::json!({"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 0}),
        ))
        .unwrap_err();
        assert!(e.contains("cannot both be zero"));
    }
}
