//! `autoscaling/v2` HorizontalPodAutoscaler manifests: their YAML shape, the API-server defaults
//! (`minReplicas` 1, CPU at 80 % when `metrics` is empty, the default `behavior` rules filled in
//! field by field as `GenerateHPAScaleUpRules` / `GenerateHPAScaleDownRules` do), validation as in
//! `pkg/apis/autoscaling/validation` (errors name the file, the document's line and the field),
//! and conversion into [`crate::controllers::hpa::Hpa`].
//!
//! Only the `Resource` metric `cpu` with a `Utilization` target is modelled; other metrics are an
//! input error rather than being silently ignored.

use crate::controllers::hpa::{Behavior, Hpa, Policy, Rules, Select};
use crate::controllers::{Kind, ObjectKey};
use crate::engine::time::SimDuration;
use crate::input::error::InputError;
use crate::input::manifest::{ManifestSet, ObjectMeta};
use crate::input::yaml::{Document, parse_document};
use serde::Deserialize;

/// The manifest as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HpaManifest {
    /// `apiVersion` (must be `autoscaling/v2`).
    #[serde(default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: HpaSpecManifest,
}

/// `spec`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HpaSpecManifest {
    /// `scaleTargetRef`.
    #[serde(default)]
    pub scale_target_ref: Option<TargetRefManifest>,
    /// `minReplicas` (default 1).
    #[serde(default)]
    pub min_replicas: Option<i32>,
    /// `maxReplicas` (required).
    #[serde(default)]
    pub max_replicas: Option<i32>,
    /// `metrics`.
    #[serde(default)]
    pub metrics: Vec<MetricManifest>,
    /// `behavior`.
    #[serde(default)]
    pub behavior: Option<BehaviorManifest>,
}

/// `scaleTargetRef`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TargetRefManifest {
    /// `apiVersion`.
    #[serde(default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `name`.
    #[serde(default)]
    pub name: String,
}

/// One entry of `metrics`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricManifest {
    /// `type`.
    #[serde(default, rename = "type")]
    pub type_: String,
    /// `resource`.
    #[serde(default)]
    pub resource: Option<ResourceMetricManifest>,
}

/// `metrics[].resource`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceMetricManifest {
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `target`.
    #[serde(default)]
    pub target: MetricTargetManifest,
}

/// `metrics[].resource.target`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricTargetManifest {
    /// `type`.
    #[serde(default, rename = "type")]
    pub type_: String,
    /// `averageUtilization`.
    #[serde(default)]
    pub average_utilization: Option<i32>,
}

/// `behavior`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BehaviorManifest {
    /// `scaleUp`.
    #[serde(default)]
    pub scale_up: Option<RulesManifest>,
    /// `scaleDown`.
    #[serde(default)]
    pub scale_down: Option<RulesManifest>,
}

/// `behavior.scaleUp` / `behavior.scaleDown`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RulesManifest {
    /// `stabilizationWindowSeconds`.
    #[serde(default)]
    pub stabilization_window_seconds: Option<i32>,
    /// `selectPolicy`.
    #[serde(default)]
    pub select_policy: Option<String>,
    /// `policies`.
    #[serde(default)]
    pub policies: Option<Vec<PolicyManifest>>,
}

/// One scaling policy.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyManifest {
    /// `type`: `Pods` or `Percent`.
    #[serde(default, rename = "type")]
    pub type_: String,
    /// `value`.
    #[serde(default)]
    pub value: i32,
    /// `periodSeconds`.
    #[serde(default)]
    pub period_seconds: i32,
}

/// Upstream `MaxPeriodSeconds` of a scaling policy.
const MAX_PERIOD_SECONDS: i32 = 1800;
/// Upstream `MaxStabilizationWindowSeconds`.
const MAX_STABILIZATION_WINDOW_SECONDS: i32 = 3600;

/// Parses an HPA document and adds it to `set`.
pub fn add_document(set: &mut ManifestSet, doc: &Document<'_>, file: &str) -> Result<(), InputError> {
    let mut p = parse_document::<HpaManifest>(doc, file)?;
    for f in &p.ignored {
        set.ignored.insert(format!("HorizontalPodAutoscaler: {f}"));
    }
    set.generate_name(&mut p.value.metadata);
    let hpa = convert(&p.value).map_err(|(field, msg)| {
        InputError::at(
            file,
            doc.line_offset + 1,
            1,
            field,
            format!("HorizontalPodAutoscaler {:?}: {msg}", p.value.metadata.name),
        )
    })?;
    set.hpas.push(hpa);
    Ok(())
}

type FieldError = (String, String);

fn fe(field: &str, msg: impl Into<String>) -> FieldError {
    (field.to_string(), msg.into())
}

/// Converts a parsed manifest, with defaults and validation; `Err((field, message))`.
pub fn convert(m: &HpaManifest) -> Result<Hpa, FieldError> {
    if m.api_version != "autoscaling/v2" {
        return Err(fe("apiVersion", format!("expected autoscaling/v2, got {:?}", m.api_version)));
    }
    if m.metadata.name.is_empty() {
        return Err(fe("metadata.name", "a HorizontalPodAutoscaler needs a name"));
    }
    let namespace = m.metadata.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into());
    let s = &m.spec;
    let r = s.scale_target_ref.as_ref().ok_or_else(|| fe("spec.scaleTargetRef", "is required"))?;
    let kind = match Kind::parse(&r.kind) {
        Some(k @ (Kind::Deployment | Kind::StatefulSet | Kind::ReplicaSet)) => k,
        _ => {
            return Err(fe(
                "spec.scaleTargetRef.kind",
                format!("{:?} is not a scalable kind here (Deployment, StatefulSet, ReplicaSet)", r.kind),
            ));
        }
    };
    if r.name.is_empty() {
        return Err(fe("spec.scaleTargetRef.name", "is required"));
    }
    let min = s.min_replicas.unwrap_or(1);
    if min < 1 {
        return Err(fe("spec.minReplicas", format!("must be greater than or equal to 1, got {min}")));
    }
    let max = s.max_replicas.ok_or_else(|| fe("spec.maxReplicas", "is required"))?;
    if max < min {
        return Err(fe("spec.maxReplicas", format!("must be greater than or equal to minReplicas ({min}), got {max}")));
    }
    let mut target = None;
    for (i, metric) in s.metrics.iter().enumerate() {
        let field = format!("spec.metrics[{i}]");
        let res = metric.resource.as_ref().filter(|_| metric.type_ == "Resource").ok_or_else(|| {
            fe(&format!("{field}.type"), format!("only Resource metrics are modelled, got {:?}", metric.type_))
        })?;
        if res.name != "cpu" {
            return Err(fe(
                &format!("{field}.resource.name"),
                format!("only the cpu resource is modelled, got {:?}", res.name),
            ));
        }
        if res.target.type_ != "Utilization" {
            return Err(fe(
                &format!("{field}.resource.target.type"),
                format!("only Utilization targets are modelled, got {:?}", res.target.type_),
            ));
        }
        let u = res
            .target
            .average_utilization
            .ok_or_else(|| fe(&format!("{field}.resource.target.averageUtilization"), "is required"))?;
        if u < 1 {
            return Err(fe(
                &format!("{field}.resource.target.averageUtilization"),
                format!("must be greater than 0, got {u}"),
            ));
        }
        if target.replace(u).is_some() {
            return Err(fe(&field, "only one cpu metric is modelled"));
        }
    }
    let b = s.behavior.clone().unwrap_or_default();
    let up = rules(b.scale_up.as_ref(), Rules::default_up(), "spec.behavior.scaleUp")?;
    let down = rules(b.scale_down.as_ref(), Rules::default_down(), "spec.behavior.scaleDown")?;
    Ok(Hpa {
        name: m.metadata.name.clone(),
        namespace: namespace.clone(),
        target: ObjectKey { kind, namespace, name: r.name.clone() },
        target_cpu_utilization: i64::from(target.unwrap_or(80)),
        behavior: Behavior { min_replicas: min, max_replicas: max, up, down },
    })
}

fn rules(m: Option<&RulesManifest>, default: Rules, field: &str) -> Result<Rules, FieldError> {
    let Some(m) = m else { return Ok(default) };
    let window = match m.stabilization_window_seconds {
        None => default.window,
        Some(w) if (0..=MAX_STABILIZATION_WINDOW_SECONDS).contains(&w) => SimDuration::from_secs(w as u64),
        Some(w) => {
            return Err(fe(
                &format!("{field}.stabilizationWindowSeconds"),
                format!("must be within 0..{MAX_STABILIZATION_WINDOW_SECONDS}, got {w}"),
            ));
        }
    };
    let select = match m.select_policy.as_deref() {
        None | Some("Max") => Select::Max,
        Some("Min") => Select::Min,
        Some("Disabled") => Select::Disabled,
        Some(other) => {
            return Err(fe(&format!("{field}.selectPolicy"), format!("must be Max, Min or Disabled, got {other:?}")));
        }
    };
    let policies = match &m.policies {
        None => default.policies,
        Some(ps) => {
            if ps.is_empty() && select != Select::Disabled {
                return Err(fe(&format!("{field}.policies"), "must hold at least one policy"));
            }
            let mut out = Vec::new();
            for (i, p) in ps.iter().enumerate() {
                let pf = format!("{field}.policies[{i}]");
                if p.value <= 0 {
                    return Err(fe(&format!("{pf}.value"), format!("must be greater than 0, got {}", p.value)));
                }
                if !(1..=MAX_PERIOD_SECONDS).contains(&p.period_seconds) {
                    return Err(fe(
                        &format!("{pf}.periodSeconds"),
                        format!("must be within 1..{MAX_PERIOD_SECONDS}, got {}", p.period_seconds),
                    ));
                }
                let period_seconds = p.period_seconds as u32;
                out.push(match p.type_.as_str() {
                    "Pods" => Policy::Pods { value: p.value, period_seconds },
                    "Percent" => Policy::Percent { value: p.value, period_seconds },
                    other => {
                        return Err(fe(&format!("{pf}.type"), format!("must be Pods or Percent, got {other:?}")));
                    }
                });
            }
            out
        }
    };
    Ok(Rules { window, select, policies })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Vec<Hpa>, InputError> {
        let mut set = ManifestSet::default();
        set.add_text(text, "h.yaml")?;
        Ok(set.hpas)
    }

    const HPA: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  maxReplicas: 10\n";

    #[test]
    fn an_hpa_without_metrics_or_behavior_gets_upstream_defaults() {
        let h = load(HPA).unwrap().remove(0);
        assert_eq!(h.target, ObjectKey { kind: Kind::Deployment, namespace: "default".into(), name: "web".into() });
        assert_eq!(h.target_cpu_utilization, 80);
        assert_eq!(h.behavior.min_replicas, 1);
        assert_eq!(h.behavior.up, Rules::default_up());
        assert_eq!(h.behavior.down, Rules::default_down());
    }

    #[test]
    fn a_partial_behavior_keeps_the_defaults_of_the_fields_not_given() {
        let text = format!(
            "{HPA}  metrics: [{{type: Resource, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 50}}}}}}]\n  behavior:\n    scaleDown: {{stabilizationWindowSeconds: 60}}\n    scaleUp: {{selectPolicy: Min, policies: [{{type: Pods, value: 2, periodSeconds: 30}}]}}\n"
        );
        let h = load(&text).unwrap().remove(0);
        assert_eq!(h.target_cpu_utilization, 50);
        assert_eq!(h.behavior.down.window, SimDuration::from_secs(60));
        assert_eq!(h.behavior.down.policies, Rules::default_down().policies);
        assert_eq!(h.behavior.up.select, Select::Min);
        assert_eq!(h.behavior.up.policies, vec![Policy::Pods { value: 2, period_seconds: 30 }]);
        assert_eq!(h.behavior.up.window, SimDuration::ZERO);
    }

    #[test]
    fn invalid_hpas_are_errors_naming_the_file_line_and_field() {
        let cases: Vec<(&str, String, &str)> = vec![
            ("missing maxReplicas", HPA.replace("  maxReplicas: 10\n", ""), "spec.maxReplicas"),
            ("max below min", format!("{HPA}  minReplicas: 12\n"), "spec.maxReplicas"),
            ("zero minReplicas", format!("{HPA}  minReplicas: 0\n"), "spec.minReplicas"),
            ("unscalable kind", HPA.replace("kind: Deployment", "kind: Job"), "spec.scaleTargetRef.kind"),
            (
                "memory metric",
                format!(
                    "{HPA}  metrics: [{{type: Resource, resource: {{name: memory, target: {{type: Utilization, averageUtilization: 50}}}}}}]\n"
                ),
                "spec.metrics[0].resource.name",
            ),
            (
                "bad period",
                format!("{HPA}  behavior: {{scaleUp: {{policies: [{{type: Pods, value: 1, periodSeconds: 0}}]}}}}\n"),
                "spec.behavior.scaleUp.policies[0].periodSeconds",
            ),
            (
                "bad select policy",
                format!("{HPA}  behavior: {{scaleDown: {{selectPolicy: Sometimes}}}}\n"),
                "spec.behavior.scaleDown.selectPolicy",
            ),
            ("wrong api version", HPA.replace("autoscaling/v2", "autoscaling/v1"), "apiVersion"),
        ];
        for (name, text, field) in cases {
            let text = format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: x}}\n---\n{text}");
            let e = load(&text).expect_err(name);
            assert_eq!(e.file, "h.yaml", "{name}");
            assert_eq!(e.line, Some(4), "{name}: {e}");
            assert_eq!(e.field.as_deref(), Some(field), "{name}: {e}");
        }
    }
}
