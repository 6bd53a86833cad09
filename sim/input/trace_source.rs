//! `workloads.traces` entries of a scenario: a trace's nodes join the cluster and its pods the
//! timeline. `{format: openb, pods: pods.csv, nodes: nodes.csv, mode: timed|arrival, inflate: 1.3}`:
//! timed mode creates each pod at its creation time and deletes it at its deletion time; arrival
//! mode creates the pods one microsecond apart in trace order and never deletes them, after the
//! FGD pipeline's seeded shuffle and inflation to `inflate` × the cluster's GPU capacity.

use crate::engine::time::SimTime;
use crate::input::error::InputError;
use crate::input::scenario::Action;
use crate::model::gpu::GpuRequest;
use crate::model::node::Node;
use crate::trace::openb::Mode;
use serde::Deserialize;
use std::path::Path;

/// One `workloads.traces` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TraceSpec {
    /// Trace format (`openb`).
    pub format: String,
    /// Pod list (relative to the scenario).
    pub pods: String,
    /// Node list (relative to the scenario), optional.
    #[serde(default)]
    pub nodes: Option<String>,
    /// `timed` (default) or `arrival`.
    #[serde(default = "default_mode")]
    pub mode: Mode,
    /// Arrival mode: inflate the GPU demand to this multiple of the cluster's GPU capacity.
    #[serde(default)]
    pub inflate: Option<f64>,
}

fn default_mode() -> Mode {
    Mode::Timed
}

/// Loads `spec`, appends its nodes to `nodes` and its pod creations / deletions to `timeline`.
pub fn compile(
    spec: &TraceSpec,
    base_dir: &Path,
    seed: u64,
    nodes: &mut Vec<(Node, bool)>,
    timeline: &mut Vec<(SimTime, Action)>,
) -> Result<(), InputError> {
    let pods_path = base_dir.join(&spec.pods);
    let pods_shown = pods_path.display().to_string();
    let nodes_path = spec.nodes.as_ref().map(|n| base_dir.join(n));
    let nodes_shown = nodes_path.as_ref().map(|p| p.display().to_string());
    let trace = match spec.format.as_str() {
        "openb" => crate::trace::openb::load(
            &pods_path,
            &pods_shown,
            nodes_path.as_deref().zip(nodes_shown.as_deref()),
            spec.mode,
        )?,
        other => return Err(InputError::file(pods_shown, format!("unknown trace format `{other}` (known: openb)"))),
    };
    nodes.extend(trace.nodes.iter().cloned().map(|n| (n, true)));
    if let Some(f) = spec.inflate
        && !(f.is_finite() && f > 0.0 && f <= 100.0)
    {
        return Err(InputError::file(pods_shown, format!("inflate must be in (0, 100], got {f}")));
    }
    match spec.mode {
        Mode::Timed => {
            if spec.inflate.is_some() {
                return Err(InputError::file(pods_shown, "inflate applies to arrival mode only"));
            }
            for p in &trace.pods {
                timeline.push((SimTime(p.created_us), Action::AddPod(Box::new(p.pod.clone()))));
                if let Some(d) = p.deleted_us {
                    timeline.push((
                        SimTime(d),
                        Action::DeletePod { namespace: p.pod.namespace.clone(), name: p.pod.name.clone() },
                    ));
                }
            }
        }
        Mode::Arrival => {
            let capacity: i64 = nodes.iter().map(|(n, _)| crate::model::gpu::node_gpu_count(n) as i64 * 1000).sum();
            let by_name: std::collections::BTreeMap<&str, &crate::model::pod::Pod> =
                trace.pods.iter().map(|p| (p.pod.name.as_str(), &p.pod)).collect();
            let rp: Vec<crate::replay::engine::ReplayPod> = trace
                .pods
                .iter()
                .map(|p| crate::replay::engine::ReplayPod {
                    name: p.pod.name.clone(),
                    cpu_millis: p.pod.requests.cpu_millis,
                    memory_bytes: p.pod.requests.memory_bytes,
                    gpu: GpuRequest::from_pod(&p.pod),
                })
                .collect();
            let cfg = crate::replay::engine::ReplayConfig {
                policy: crate::scheduler::policies::Policy::Fgd,
                seed,
                inflate: spec.inflate,
                shuffle: spec.inflate.is_some(),
            };
            let order =
                if spec.inflate.is_some() { crate::replay::engine::arrival_order(&rp, capacity, &cfg) } else { rp };
            for (i, r) in order.iter().enumerate() {
                let original = r.name.rsplit_once("-tuned-").map(|(a, _)| a).unwrap_or(&r.name);
                let Some(src) = by_name.get(r.name.as_str()).or_else(|| by_name.get(original)) else { continue };
                let mut pod = (*src).clone();
                pod.name = r.name.clone();
                timeline.push((SimTime(i as u64), Action::AddPod(Box::new(pod))));
            }
        }
    }
    Ok(())
}
