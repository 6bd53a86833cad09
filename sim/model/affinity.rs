//! Node affinity, pod (anti-)affinity and topology spread constraints, in the shapes of
//! `core/v1` so that they load from real manifests. Validation follows the API server's rules
//! for the fields the scheduler reads.

use crate::model::selector::{LabelSelector, NodeSelector, NodeSelectorTerm};
use serde::{Deserialize, Serialize};

/// `spec.affinity`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Affinity {
    /// `nodeAffinity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_affinity: Option<NodeAffinity>,
    /// `podAffinity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_affinity: Option<PodAffinity>,
    /// `podAntiAffinity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_anti_affinity: Option<PodAffinity>,
}

/// `nodeAffinity`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_during_scheduling_ignored_during_execution: Option<NodeSelector>,
    /// `preferredDuringSchedulingIgnoredDuringExecution`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_during_scheduling_ignored_during_execution: Vec<PreferredSchedulingTerm>,
}

/// A weighted preferred node-selector term.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreferredSchedulingTerm {
    /// Weight, 1..=100.
    pub weight: i32,
    /// The term.
    pub preference: NodeSelectorTerm,
}

/// `podAffinity` / `podAntiAffinity`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_during_scheduling_ignored_during_execution: Vec<PodAffinityTerm>,
    /// `preferredDuringSchedulingIgnoredDuringExecution`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_during_scheduling_ignored_during_execution: Vec<WeightedPodAffinityTerm>,
}

/// A pod (anti-)affinity term.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodAffinityTerm {
    /// Pods this term selects (`None` selects nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    /// Namespaces the selected pods may be in (with `namespaceSelector`: the union; both empty or
    /// absent: the pod's own namespace).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// The topology label (`kubernetes.io/hostname`, a zone label, ...).
    pub topology_key: String,
    /// Namespaces by label (`{}` selects every namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Label keys whose values from the incoming pod are added to the selector with `In`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_label_keys: Vec<String>,
    /// Label keys whose values from the incoming pod are added to the selector with `NotIn`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mismatch_label_keys: Vec<String>,
}

/// A weighted pod (anti-)affinity term.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightedPodAffinityTerm {
    /// Weight, 1..=100.
    pub weight: i32,
    /// The term.
    pub pod_affinity_term: PodAffinityTerm,
}

/// `whenUnsatisfiable`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum UnsatisfiableConstraintAction {
    /// A hard constraint (Filter).
    #[default]
    DoNotSchedule,
    /// A soft constraint (Score).
    ScheduleAnyway,
}

/// `nodeAffinityPolicy` / `nodeTaintsPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum NodeInclusionPolicy {
    /// Only nodes that pass the pod's node affinity / tolerate its taints count.
    Honor,
    /// Every node counts.
    Ignore,
}

/// A topology spread constraint.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologySpreadConstraint {
    /// Largest allowed difference between a domain's count and the global minimum (≥ 1).
    pub max_skew: i32,
    /// The topology label.
    pub topology_key: String,
    /// Hard or soft.
    pub when_unsatisfiable: UnsatisfiableConstraintAction,
    /// Pods counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    /// Minimum number of eligible domains (hard constraints only; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_domains: Option<i32>,
    /// Default Honor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_affinity_policy: Option<NodeInclusionPolicy>,
    /// Default Ignore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_taints_policy: Option<NodeInclusionPolicy>,
    /// Label keys whose values from the incoming pod are ANDed into the selector.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_label_keys: Vec<String>,
}

fn check_weight(w: i32, what: &str) -> Result<(), String> {
    if (1..=100).contains(&w) { Ok(()) } else { Err(format!("{what}: weight must be in 1..100, got {w}")) }
}

fn check_term(t: &PodAffinityTerm, what: &str) -> Result<(), String> {
    if t.topology_key.is_empty() {
        return Err(format!("{what}: topologyKey must not be empty"));
    }
    if let Some(s) = &t.label_selector {
        s.validate().map_err(|e| format!("{what}.labelSelector: {e}"))?;
    }
    if let Some(s) = &t.namespace_selector {
        s.validate().map_err(|e| format!("{what}.namespaceSelector: {e}"))?;
    }
    Ok(())
}

impl Affinity {
    /// Validates weights, topology keys and selectors as the API server does.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(na) = &self.node_affinity {
            if let Some(r) = &na.required_during_scheduling_ignored_during_execution {
                r.validate().map_err(|e| format!("nodeAffinity.required: {e}"))?;
            }
            for (i, p) in na.preferred_during_scheduling_ignored_during_execution.iter().enumerate() {
                check_weight(p.weight, &format!("nodeAffinity.preferred[{i}]"))?;
                p.preference.validate().map_err(|e| format!("nodeAffinity.preferred[{i}]: {e}"))?;
            }
        }
        for (name, pa) in [("podAffinity", &self.pod_affinity), ("podAntiAffinity", &self.pod_anti_affinity)] {
            let Some(pa) = pa else { continue };
            for (i, t) in pa.required_during_scheduling_ignored_during_execution.iter().enumerate() {
                check_term(t, &format!("{name}.required[{i}]"))?;
            }
            for (i, t) in pa.preferred_during_scheduling_ignored_during_execution.iter().enumerate() {
                check_weight(t.weight, &format!("{name}.preferred[{i}]"))?;
                check_term(&t.pod_affinity_term, &format!("{name}.preferred[{i}]"))?;
            }
        }
        Ok(())
    }

    /// True when the pod has any pod affinity or anti-affinity term (upstream `PodsWithAffinity`).
    pub fn has_pod_affinity_terms(&self) -> bool {
        let any = |p: &Option<PodAffinity>| {
            p.as_ref().is_some_and(|p| {
                !p.required_during_scheduling_ignored_during_execution.is_empty()
                    || !p.preferred_during_scheduling_ignored_during_execution.is_empty()
            })
        };
        any(&self.pod_affinity) || any(&self.pod_anti_affinity)
    }

    /// True when the pod has a required anti-affinity term (upstream
    /// `PodsWithRequiredAntiAffinity`).
    pub fn has_required_anti_affinity(&self) -> bool {
        self.pod_anti_affinity
            .as_ref()
            .is_some_and(|p| !p.required_during_scheduling_ignored_during_execution.is_empty())
    }
}

impl TopologySpreadConstraint {
    /// Validates as the API server does.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_skew < 1 {
            return Err(format!("maxSkew must be at least 1, got {}", self.max_skew));
        }
        if self.topology_key.is_empty() {
            return Err("topologyKey must not be empty".into());
        }
        if let Some(m) = self.min_domains {
            if m < 1 {
                return Err(format!("minDomains must be at least 1, got {m}"));
            }
            if self.when_unsatisfiable != UnsatisfiableConstraintAction::DoNotSchedule {
                return Err("minDomains can only be set with whenUnsatisfiable: DoNotSchedule".into());
            }
        }
        if let Some(s) = &self.label_selector {
            s.validate().map_err(|e| format!("labelSelector: {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_affinity_block_loads_and_validates() {
        let yaml = r#"
nodeAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: disk, operator: In, values: [ssd]}]
  preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 10
    preference: {matchExpressions: [{key: zone, operator: In, values: [a]}]}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
  - labelSelector: {matchLabels: {app: web}}
    topologyKey: kubernetes.io/hostname
"#;
        let a: Affinity = serde_saphyr::from_str(yaml).unwrap();
        a.validate().unwrap();
        assert!(a.has_required_anti_affinity());
        assert!(a.has_pod_affinity_terms());
    }

    #[test]
    fn weights_outside_1_to_100_are_rejected() {
        let a: Affinity = serde_saphyr::from_str(
            "podAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 0, podAffinityTerm: {topologyKey: k}}]}",
        )
        .unwrap();
        assert!(a.validate().unwrap_err().contains("weight must be in 1..100"));
    }

    #[test]
    fn spread_constraints_validate_max_skew_and_min_domains() {
        let c: TopologySpreadConstraint =
            serde_saphyr::from_str("{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}").unwrap();
        assert!(c.validate().unwrap_err().contains("maxSkew"));
        let c: TopologySpreadConstraint =
            serde_saphyr::from_str("{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, minDomains: 2}")
                .unwrap();
        assert!(c.validate().unwrap_err().contains("minDomains"));
    }
}
