//! `kubesim explain`: one scheduling cycle for a named pending pod against the cluster that a set
//! of manifests describes, reported per node: the filter verdict with its reasons, each score
//! plugin's normalised score and the weighted total.
//!
//! Every node is filtered and every feasible node scored (normalisation runs over all feasible
//! nodes, as with `percentageOfNodesToScore: 100`); `selected` is what the real cycle picks, which
//! is the same node unless the cluster has 100 nodes or more and the adaptive percentage
//! examines only part of it.

use crate::cluster::{ClusterState, NodeId};
use crate::engine::rng::stream;
use crate::input::error::InputError;
use crate::input::manifest::{ManifestSet, pod_from_manifest};
use crate::scheduler::config::KubeSchedulerConfiguration;
use crate::scheduler::profiles::profiles_from_config;
use crate::scheduler::{CycleOutcome, PreFilterOutcome, Profile, Scheduler, weighted_totals};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One node of the report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NodeReport {
    /// Node name.
    pub name: String,
    /// Whether every filter passed.
    pub feasible: bool,
    /// The first failing filter's reasons.
    pub reasons: Vec<String>,
    /// Normalised score per score plugin (before weights); plugins skipped by PreScore are absent.
    pub scores: BTreeMap<String, i64>,
    /// Weighted sum of the scores (null for infeasible nodes).
    pub total: Option<i64>,
}

/// The whole report (the stable JSON interface of SPEC §7).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Explanation {
    /// `namespace/name` of the pod.
    pub pod: String,
    /// The profile (`schedulerName`) that handled it.
    pub profile: String,
    /// The node the cycle selects, or null.
    pub selected: Option<String>,
    /// Every node, in name order.
    pub nodes: Vec<NodeReport>,
}

/// Loads a KubeSchedulerConfiguration file.
pub fn load_config(path: &std::path::Path) -> Result<KubeSchedulerConfiguration, InputError> {
    let shown = path.display().to_string();
    let text = crate::input::yaml::read_file(path, &shown)?;
    parse_config(&text, &shown)
}

/// Parses a KubeSchedulerConfiguration from text (`shown` names it in errors).
pub fn parse_config(text: &str, shown: &str) -> Result<KubeSchedulerConfiguration, InputError> {
    let docs = crate::input::yaml::split_documents(text);
    if docs.len() != 1 {
        return Err(InputError::file(shown, format!("expected one YAML document, found {}", docs.len())));
    }
    Ok(crate::input::yaml::parse_document::<KubeSchedulerConfiguration>(&docs[0], shown)?.value)
}

/// Runs the explanation.
pub fn explain(
    files: &[PathBuf],
    config: Option<&std::path::Path>,
    pod_ref: &str,
    seed: u64,
) -> Result<Explanation, InputError> {
    let paths: Vec<(PathBuf, String)> = files.iter().map(|p| (p.clone(), p.display().to_string())).collect();
    let set = crate::input::manifest::load_files(&paths)?;
    let profiles = match config {
        None => vec![Profile::default_profile()],
        Some(path) => {
            let cfg = load_config(path)?;
            profiles_from_config(&cfg).map_err(|e| InputError::file(path.display().to_string(), e))?
        }
    };
    let (cluster, pod_id) = build_cluster(&set, pod_ref)?;
    let pod = &cluster.pod(pod_id).pod;
    let Some(profile) = profiles.iter().find(|p| p.scheduler_name == pod.scheduler_name).cloned() else {
        return Err(InputError::file(
            "--pod",
            format!("no profile serves schedulerName {:?} of pod {}", pod.scheduler_name, pod.key()),
        ));
    };
    let mut scheduler = Scheduler::new(profile.clone(), stream(seed, "scheduler"));
    let selected = match scheduler.schedule_one(&cluster, pod) {
        CycleOutcome::Selected { node, .. } => Some(cluster.node(node).node.name.clone()),
        CycleOutcome::Unschedulable(_) => None,
        CycleOutcome::Error(e) => return Err(InputError::file("--pod", format!("the scheduling cycle failed: {e}"))),
    };
    let mut reports: Vec<NodeReport> = Vec::new();
    let mut feasible: Vec<NodeId> = Vec::new();
    match profile.pre_filter(&cluster, pod) {
        PreFilterOutcome::Error(e) => return Err(InputError::file("--pod", e)),
        PreFilterOutcome::Rejected(d) => {
            let reasons: Vec<String> = d.reasons.keys().cloned().collect();
            for n in cluster.nodes() {
                reports.push(NodeReport {
                    name: n.node.name.clone(),
                    feasible: false,
                    reasons: reasons.clone(),
                    scores: BTreeMap::new(),
                    total: None,
                });
            }
        }
        PreFilterOutcome::Ready(mut prepared) => {
            for (i, n) in cluster.nodes().iter().enumerate() {
                let st = profile.filter_node(&prepared, &cluster, pod, n);
                let ok = st.is_success();
                if ok {
                    feasible.push(NodeId(i as u32));
                }
                reports.push(NodeReport {
                    name: n.node.name.clone(),
                    feasible: ok,
                    reasons: st.reasons,
                    scores: BTreeMap::new(),
                    total: None,
                });
            }
            if !feasible.is_empty() {
                let per_plugin = profile
                    .score_nodes(&mut prepared.state, &cluster, pod, &feasible)
                    .map_err(|e| InputError::file("--pod", format!("scoring failed: {e}")))?;
                let totals = weighted_totals(&per_plugin, feasible.len());
                for (k, id) in feasible.iter().enumerate() {
                    let r = &mut reports[id.0 as usize];
                    for p in &per_plugin {
                        if let Some(s) = &p.scores {
                            r.scores.insert(p.name.to_string(), s[k]);
                        }
                    }
                    r.total = Some(totals[k]);
                }
            }
        }
    }
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Explanation { pod: pod.key(), profile: profile.scheduler_name.clone(), selected, nodes: reports })
}

/// Builds the cluster the manifests describe: every Node, every Pod with `spec.nodeName` bound to
/// its node, and the named pending pod.
fn build_cluster(set: &ManifestSet, pod_ref: &str) -> Result<(ClusterState, crate::cluster::PodId), InputError> {
    let (ns, name) = match pod_ref.split_once('/') {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => ("default".to_string(), pod_ref.to_string()),
    };
    let mut cluster = ClusterState::new();
    for (n, labels) in &set.namespaces {
        cluster.set_namespace(n, labels.clone());
    }
    for n in &set.nodes {
        cluster.add_node(n.clone()).map_err(|e| InputError::file("-f", e.to_string()))?;
    }
    let now = crate::engine::time::SimTime::ZERO;
    let mut target = None;
    for (m, origin) in &set.pods {
        let pod = pod_from_manifest(m, set).map_err(|e| InputError::file(origin.clone(), e))?;
        let is_target = pod.namespace == ns && pod.name == name;
        if !is_target && pod.node_name.is_none() {
            continue;
        }
        let node_name = pod.node_name.clone();
        let id = cluster.add_pod(pod, now).map_err(|e| InputError::file(origin.clone(), e.to_string()))?;
        if is_target {
            if node_name.is_some() {
                return Err(InputError::file(
                    origin.clone(),
                    format!("pod {ns}/{name} is already bound (spec.nodeName is set)"),
                ));
            }
            target = Some(id);
        } else if let Some(nn) = node_name {
            let node = cluster.node_id(&nn).ok_or_else(|| {
                InputError::file(origin.clone(), format!("pod {} is bound to unknown node {nn:?}", m.metadata.name))
            })?;
            cluster.bind(id, node, now).map_err(|e| InputError::file(origin.clone(), e.to_string()))?;
        }
    }
    let id = target.ok_or_else(|| InputError::file("--pod", format!("no pod {ns}/{name} in the manifests")))?;
    Ok((cluster, id))
}

/// The human form: a table.
pub fn render_table(e: &Explanation) -> String {
    let mut plugins: Vec<String> = Vec::new();
    for n in &e.nodes {
        for k in n.scores.keys() {
            if !plugins.contains(k) {
                plugins.push(k.clone());
            }
        }
    }
    let mut header = vec!["NODE".to_string(), "FEASIBLE".to_string(), "TOTAL".to_string()];
    header.extend(plugins.iter().cloned());
    header.push("REASONS".into());
    let mut rows = vec![header];
    for n in &e.nodes {
        let mut row = vec![
            format!("{}{}", n.name, if e.selected.as_deref() == Some(n.name.as_str()) { " *" } else { "" }),
            if n.feasible { "yes".into() } else { "no".into() },
            n.total.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
        ];
        for p in &plugins {
            row.push(n.scores.get(p).map(|s| s.to_string()).unwrap_or_else(|| "-".into()));
        }
        row.push(n.reasons.join("; "));
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0)).collect();
    let mut out = format!(
        "pod {} (profile {}): selected {}\n",
        e.pod,
        e.profile,
        e.selected.as_deref().unwrap_or("none: the pod is unschedulable")
    );
    for r in rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
