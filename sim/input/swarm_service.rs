//! The `SwarmService` manifest kind (`apiVersion: kubesim.io/v1`): a Docker Swarm service
//! (`docker service create` / a compose file's `deploy:` section) mapped onto the workload
//! controllers the simulator already has.
//!
//! | Swarm | here |
//! | --- | --- |
//! | `mode: replicated`, `replicas` | a Deployment with those replicas |
//! | `mode: global` | a DaemonSet (one task per eligible node) |
//! | `placement.constraints` | annotation `swarm.kubesim.io/constraints`, and for `node.labels.*`, `engine.labels.*`, `node.hostname`, `node.platform.*` a required node affinity (`==` → `In`, `!=` → `NotIn`), so that kube-scheduler and the DaemonSet controller honour them too |
//! | `placement.preferences` | annotation `swarm.kubesim.io/preferences` |
//! | `placement.maxReplicas` | annotation `swarm.kubesim.io/max-replicas` |
//! | `placement.platforms` | annotation `swarm.kubesim.io/platforms` |
//! | `updateConfig.parallelism` N (0: all at once), `order: stop-first` | `maxUnavailable: N` (0 → 100%), `maxSurge: 0` |
//! | `order: start-first` | `maxSurge: N` (0 → 100%), `maxUnavailable: 0` |
//! | `updateConfig.delay` | `minReadySeconds` (rounded up to a second): a batch's new tasks must have run for `delay` before the next batch starts |
//! | `failureAction`, `monitor`, `maxFailureRatio` | validated and kept as annotations; not modelled (the rollout always continues) |
//!
//! The pods carry the label `swarm.kubesim.io/service: <name>` (the selector), so the Swarm
//! policies count the service's tasks across revisions. Timeline actions address the service as
//! the converted kind (`{kind: Deployment, name: web}` or `DaemonSet`).

use crate::controllers::IntOrPercent;
use crate::input::error::InputError;
use crate::input::go_duration::GoDuration;
use crate::input::manifest::{ManifestSet, ObjectMeta};
use crate::input::workloads::{
    PendingWorkload, PodTemplateManifest, RollingUpdateManifest, StrategyManifest, WorkloadManifest,
    WorkloadSpecManifest,
};
use crate::input::yaml::{Document, parse_document};
use crate::model::affinity::{Affinity, NodeAffinity};
use crate::model::selector::{
    LabelSelector, LabelSelectorRequirement, NodeSelector, NodeSelectorTerm, SelectorOperator,
};
use crate::scheduler::policies::swarm::{self, constraints};
use serde::Deserialize;

/// The kind name.
pub const KIND: &str = "SwarmService";
/// The accepted `apiVersion`.
pub const API_VERSION: &str = "kubesim.io/v1";
/// Workload annotation recording the service's update failure action (not modelled).
pub const ANNOTATION_FAILURE_ACTION: &str = "swarm.kubesim.io/failure-action";
/// Workload annotation recording the service's update monitor period (not modelled).
pub const ANNOTATION_MONITOR: &str = "swarm.kubesim.io/monitor";
/// Workload annotation recording the service's mode.
pub const ANNOTATION_MODE: &str = "swarm.kubesim.io/mode";

/// `spec.placement.preferences[]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PreferenceManifest {
    /// `spread`: the descriptor (`node.labels.zone`).
    #[serde(default)]
    pub spread: String,
}

/// `spec.placement.platforms[]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PlatformManifest {
    /// `os`.
    #[serde(default)]
    pub os: String,
    /// `architecture`.
    #[serde(default)]
    pub architecture: String,
}

/// `spec.placement`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PlacementManifest {
    /// `constraints`.
    #[serde(default)]
    pub constraints: Vec<String>,
    /// `preferences`.
    #[serde(default)]
    pub preferences: Vec<PreferenceManifest>,
    /// `maxReplicas` (per node; 0: unlimited).
    #[serde(default)]
    pub max_replicas: Option<u64>,
    /// `platforms`.
    #[serde(default)]
    pub platforms: Vec<PlatformManifest>,
}

/// `spec.updateConfig`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UpdateConfigManifest {
    /// `parallelism` (default 1; 0: all at once).
    #[serde(default)]
    pub parallelism: Option<i32>,
    /// `delay` between batches (default 0s).
    #[serde(default)]
    pub delay: Option<GoDuration>,
    /// `failureAction`: pause (default), continue, rollback.
    #[serde(default)]
    pub failure_action: Option<String>,
    /// `monitor` (default 5s).
    #[serde(default)]
    pub monitor: Option<GoDuration>,
    /// `maxFailureRatio` (default 0).
    #[serde(default)]
    pub max_failure_ratio: Option<f64>,
    /// `order`: stop-first (default) or start-first.
    #[serde(default)]
    pub order: Option<String>,
}

/// `spec` of a SwarmService.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SwarmServiceSpec {
    /// `mode`: replicated (default) or global.
    #[serde(default)]
    pub mode: Option<String>,
    /// `replicas` (replicated mode; default 1).
    #[serde(default)]
    pub replicas: Option<i32>,
    /// `placement`.
    #[serde(default)]
    pub placement: PlacementManifest,
    /// `updateConfig`.
    #[serde(default)]
    pub update_config: UpdateConfigManifest,
    /// `template`: the task's pod.
    #[serde(default)]
    pub template: Option<PodTemplateManifest>,
}

/// A SwarmService manifest.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SwarmServiceManifest {
    /// `apiVersion`.
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
    pub spec: SwarmServiceSpec,
}

/// Parses a SwarmService document and adds the workload it maps to (a Deployment or a
/// DaemonSet) to `set`.
pub fn add_document(set: &mut ManifestSet, doc: &Document<'_>, file: &str) -> Result<(), InputError> {
    let p = parse_document::<SwarmServiceManifest>(doc, file)?;
    for f in &p.ignored {
        set.ignored.insert(format!("{KIND}: {f}"));
    }
    let mut m = p.value;
    set.generate_name(&mut m.metadata);
    let line = doc.line_offset + 1;
    let manifest = to_workload(&m)
        .map_err(|(field, msg)| InputError::at(file, line, 1, field, format!("{KIND} {:?}: {msg}", m.metadata.name)))?;
    set.workloads.push(PendingWorkload { manifest, file: file.to_string(), line });
    Ok(())
}

fn to_affinity_requirement(c: &constraints::Constraint) -> Option<LabelSelectorRequirement> {
    let key = match c.key.to_ascii_lowercase().as_str() {
        "node.hostname" => crate::model::node::LABEL_HOSTNAME.to_string(),
        "node.platform.os" => constraints::LABEL_OS.to_string(),
        "node.platform.arch" => constraints::LABEL_ARCH.to_string(),
        _ => constraints::label_key(&c.key)?.to_string(),
    };
    let operator = match c.operator {
        constraints::Operator::Eq => SelectorOperator::In,
        constraints::Operator::NotEq => SelectorOperator::NotIn,
    };
    Some(LabelSelectorRequirement { key, operator, values: vec![c.value.clone()] })
}

/// Adds `reqs` to every required node-selector term of `affinity` (a new term when it has none).
fn require(affinity: &mut Option<Affinity>, reqs: Vec<LabelSelectorRequirement>) {
    if reqs.is_empty() {
        return;
    }
    let a = affinity.get_or_insert_with(Affinity::default);
    let na = a.node_affinity.get_or_insert_with(NodeAffinity::default);
    let sel = na.required_during_scheduling_ignored_during_execution.get_or_insert_with(NodeSelector::default);
    if sel.node_selector_terms.is_empty() {
        sel.node_selector_terms.push(NodeSelectorTerm::default());
    }
    for t in sel.node_selector_terms.iter_mut() {
        t.match_expressions.extend(reqs.iter().cloned());
    }
}

/// The Deployment or DaemonSet manifest a SwarmService maps to; errors are `(field, message)`.
pub fn to_workload(m: &SwarmServiceManifest) -> Result<WorkloadManifest, (String, String)> {
    let err = |f: &str, msg: String| (f.to_string(), msg);
    if !m.api_version.is_empty() && m.api_version != API_VERSION {
        return Err(err("apiVersion", format!("expected {API_VERSION:?}, got {:?}", m.api_version)));
    }
    if m.metadata.name.is_empty() {
        return Err(err("metadata.name", "a name is required".into()));
    }
    let s = &m.spec;
    let global = match s.mode.as_deref() {
        None | Some("replicated") => false,
        Some("global") => true,
        Some(o) => return Err(err("spec.mode", format!("{o:?} is not one of replicated, global"))),
    };
    if global && s.replicas.is_some() {
        return Err(err("spec.replicas", "replicas can only be used with replicated mode".into()));
    }
    let mut template = s.template.clone().ok_or_else(|| err("spec.template", "a template is required".into()))?;
    // Placement → annotations (checked with the policies' own parsers) and node affinity.
    let pl = &s.placement;
    let mut ann = template.metadata.annotations.clone();
    if !pl.constraints.is_empty() {
        let text = pl.constraints.join(",");
        let parsed = constraints::parse_constraints(&text).map_err(|e| err("spec.placement.constraints", e))?;
        require(&mut template.spec.affinity, parsed.iter().filter_map(to_affinity_requirement).collect());
        ann.insert(swarm::ANNOTATION_CONSTRAINTS.into(), text);
    }
    if !pl.preferences.is_empty() {
        let text = pl.preferences.iter().map(|p| format!("spread={}", p.spread)).collect::<Vec<_>>().join(",");
        constraints::parse_preferences(&text).map_err(|e| err("spec.placement.preferences", e))?;
        ann.insert(swarm::ANNOTATION_PREFERENCES.into(), text);
    }
    if let Some(n) = pl.max_replicas {
        ann.insert(swarm::ANNOTATION_MAX_REPLICAS.into(), n.to_string());
    }
    if !pl.platforms.is_empty() {
        let text = pl
            .platforms
            .iter()
            .map(|p| if p.architecture.is_empty() { p.os.clone() } else { format!("{}/{}", p.os, p.architecture) })
            .collect::<Vec<_>>()
            .join(",");
        constraints::parse_platforms(&text).map_err(|e| err("spec.placement.platforms", e))?;
        ann.insert(swarm::ANNOTATION_PLATFORMS.into(), text);
    }
    template.metadata.annotations = ann;
    template.metadata.labels.insert(swarm::LABEL_SERVICE.into(), m.metadata.name.clone());
    // Update config → rolling update.
    let u = &s.update_config;
    let parallelism = u.parallelism.unwrap_or(1);
    if parallelism < 0 {
        return Err(err("spec.updateConfig.parallelism", format!("must be 0 or more, got {parallelism}")));
    }
    let batch = if parallelism == 0 { IntOrPercent::Percent(100) } else { IntOrPercent::Int(parallelism) };
    let rolling = match u.order.as_deref() {
        None | Some("stop-first") => RollingUpdateManifest {
            max_surge: Some(IntOrPercent::Int(0)),
            max_unavailable: Some(batch),
            partition: None,
        },
        Some("start-first") => RollingUpdateManifest {
            max_surge: Some(batch),
            max_unavailable: Some(IntOrPercent::Int(0)),
            partition: None,
        },
        Some(o) => return Err(err("spec.updateConfig.order", format!("{o:?} is not one of stop-first, start-first"))),
    };
    let failure_action = u.failure_action.clone().unwrap_or_else(|| "pause".into());
    if !["pause", "continue", "rollback"].contains(&failure_action.as_str()) {
        return Err(err(
            "spec.updateConfig.failureAction",
            format!("{failure_action:?} is not one of pause, continue, rollback"),
        ));
    }
    if let Some(r) = u.max_failure_ratio
        && !(0.0..=1.0).contains(&r)
    {
        return Err(err("spec.updateConfig.maxFailureRatio", format!("must be within [0, 1], got {r}")));
    }
    let delay_us = u.delay.map_or(0, |d| d.0);
    let min_ready_seconds =
        i32::try_from(delay_us.div_ceil(1_000_000)).map_err(|_| err("spec.updateConfig.delay", "too long".into()))?;
    let mut meta = m.metadata.clone();
    meta.annotations.insert(ANNOTATION_MODE.into(), if global { "global" } else { "replicated" }.into());
    meta.annotations.insert(ANNOTATION_FAILURE_ACTION.into(), failure_action);
    meta.annotations.insert(ANNOTATION_MONITOR.into(), format!("{}", u.monitor.unwrap_or(GoDuration(5_000_000))));
    let strategy = StrategyManifest { type_: Some("RollingUpdate".into()), rolling_update: Some(rolling) };
    let selector = LabelSelector {
        match_labels: [(swarm::LABEL_SERVICE.to_string(), m.metadata.name.clone())].into_iter().collect(),
        ..Default::default()
    };
    let spec = WorkloadSpecManifest {
        replicas: if global { None } else { Some(s.replicas.unwrap_or(1)) },
        selector: Some(selector),
        template: Some(template),
        min_ready_seconds: Some(min_ready_seconds),
        strategy: (!global).then(|| strategy.clone()),
        update_strategy: global.then_some(strategy),
        ..Default::default()
    };
    Ok(WorkloadManifest {
        api_version: "apps/v1".into(),
        kind: if global { "DaemonSet" } else { "Deployment" }.into(),
        metadata: meta,
        spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::Workload;

    const WEB: &str = "apiVersion: kubesim.io/v1
kind: SwarmService
metadata: {name: web}
spec:
  replicas: 4
  placement:
    constraints: [node.labels.zone==a, node.role!=manager]
    preferences: [{spread: node.labels.rack}]
    maxReplicas: 2
  updateConfig: {parallelism: 2, delay: 10s, order: stop-first}
  template:
    spec:
      containers: [{name: c, image: nginx, resources: {requests: {cpu: 100m}}}]
";

    fn load(text: &str) -> Result<Vec<Workload>, InputError> {
        let mut set = ManifestSet::default();
        set.add_text(text, "s.yaml")?;
        set.workloads.iter().map(|p| crate::input::workloads::convert(p, &set)).collect()
    }

    #[test]
    fn a_replicated_service_becomes_a_deployment_with_its_update_config() {
        let w = load(WEB).unwrap();
        let Workload::Deployment(d) = &w[0] else { panic!("{w:?}") };
        assert_eq!((d.spec.replicas, d.spec.min_ready_seconds), (4, 10));
        let t = &d.spec.template;
        assert_eq!(t.labels.get(swarm::LABEL_SERVICE).map(String::as_str), Some("web"));
        assert_eq!(
            t.annotations.get(swarm::ANNOTATION_CONSTRAINTS).map(String::as_str),
            Some("node.labels.zone==a,node.role!=manager")
        );
        assert_eq!(
            t.annotations.get(swarm::ANNOTATION_PREFERENCES).map(String::as_str),
            Some("spread=node.labels.rack")
        );
        assert_eq!(t.annotations.get(swarm::ANNOTATION_MAX_REPLICAS).map(String::as_str), Some("2"));
        let terms = &t.affinity.node_affinity.as_ref().unwrap().required_during_scheduling_ignored_during_execution;
        let exprs = &terms.as_ref().unwrap().node_selector_terms[0].match_expressions;
        assert_eq!(exprs.len(), 1, "node.role has no label form: {exprs:?}");
        assert_eq!((exprs[0].key.as_str(), exprs[0].operator), ("zone", SelectorOperator::In));
        assert_eq!(
            format!("{:?}", d.spec.strategy),
            format!("{:?}", {
                crate::controllers::deployment::Strategy::RollingUpdate {
                    max_surge: IntOrPercent::Int(0),
                    max_unavailable: IntOrPercent::Int(2),
                }
            })
        );
    }

    #[test]
    fn update_order_and_parallelism_map_onto_surge_and_unavailability() {
        type Case = (&'static str, &'static str, IntOrPercent, IntOrPercent);
        let cases: &[Case] = &[
            ("stop-first 3", "{parallelism: 3}", IntOrPercent::Int(0), IntOrPercent::Int(3)),
            ("start-first 1", "{order: start-first}", IntOrPercent::Int(1), IntOrPercent::Int(0)),
            ("all at once", "{parallelism: 0}", IntOrPercent::Int(0), IntOrPercent::Percent(100)),
            (
                "start-first all",
                "{parallelism: 0, order: start-first}",
                IntOrPercent::Percent(100),
                IntOrPercent::Int(0),
            ),
        ];
        for (name, uc, surge, unavail) in cases {
            let text = WEB.replace("{parallelism: 2, delay: 10s, order: stop-first}", uc);
            let w = load(&text).unwrap();
            let Workload::Deployment(d) = &w[0] else { panic!() };
            let want = crate::controllers::deployment::Strategy::RollingUpdate {
                max_surge: surge.clone(),
                max_unavailable: unavail.clone(),
            };
            assert_eq!(format!("{:?}", d.spec.strategy), format!("{want:?}"), "{name}");
        }
    }

    #[test]
    fn a_global_service_becomes_a_daemonset() {
        let text = WEB.replace("replicas: 4", "mode: global");
        let w = load(&text).unwrap();
        let Workload::DaemonSet(ds) = &w[0] else { panic!("{w:?}") };
        assert_eq!(ds.spec.min_ready_seconds, 10);
        assert_eq!(ds.meta.annotations.get(ANNOTATION_MODE).map(String::as_str), Some("global"));
    }

    #[test]
    fn invalid_services_name_the_field() {
        let cases: &[(&str, &str, &str)] = &[
            ("replicas: 4", "mode: sometimes", "spec.mode"),
            ("replicas: 4", "{mode: global, replicas: 2}", "spec"),
            ("node.labels.zone==a", "node.labels.zone=a", "spec.placement.constraints"),
            ("{spread: node.labels.rack}", "{spread: ''}", "spec.placement.preferences"),
            ("order: stop-first", "order: sideways", "spec.updateConfig.order"),
            ("parallelism: 2", "parallelism: -1", "spec.updateConfig.parallelism"),
            ("order: stop-first", "failureAction: explode", "spec.updateConfig.failureAction"),
            ("order: stop-first", "maxFailureRatio: 2", "spec.updateConfig.maxFailureRatio"),
            ("apiVersion: kubesim.io/v1", "apiVersion: v1", "apiVersion"),
        ];
        for (from, to, field) in cases {
            let text = if *to == "{mode: global, replicas: 2}" {
                WEB.replace("replicas: 4", "mode: global\n  replicas: 2")
            } else {
                WEB.replace(from, to)
            };
            let e = load(&text).unwrap_err();
            let want = if *field == "spec" { "spec.replicas" } else { field };
            assert_eq!(e.field.as_deref(), Some(want), "{to}: {e}");
            assert_eq!(e.line, Some(1), "{to}: {e}");
        }
    }
}
