//! The fault part of a scenario: timeline fault actions (pod crash, cordon / uncordon, drain,
//! zone outage, network partition and heal) and the fault models under `faults:` beyond the
//! random node failures (random pod crashes, a node timeline from a trace).

use crate::model::dist::DurationDist;
use crate::model::node::Node;
use serde::Deserialize;

/// A set of nodes named by `nodes: [...]` and / or `zone: z` (every node of the zone).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSetSpec {
    /// Node names.
    #[serde(default)]
    pub nodes: Vec<String>,
    /// A zone (`topology.kubernetes.io/zone` value).
    #[serde(default)]
    pub zone: Option<String>,
}

/// Random pod crashes: at intervals drawn from `interval`, one running pod (drawn uniformly) has
/// its container crash; its `restartPolicy` then applies.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodCrashSpec {
    /// Time between crashes.
    pub interval: DurationDist,
}

/// A node timeline read from a trace (`faults.nodeTimeline`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeTimelineSpec {
    /// The trace format; `alibaba2018-machine-meta`.
    pub format: String,
    /// Path of the table, relative to the scenario.
    pub path: String,
}

/// A compiled fault action of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Crash the containers of a pod (its restart policy applies).
    CrashPod {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// Mark a node unschedulable.
    Cordon(String),
    /// Mark a node schedulable again.
    Uncordon(String),
    /// Cordon a node and evict its pods through the eviction API (PDB-aware, retried every 5 s).
    Drain(String),
    /// Crash every node of a zone.
    FailZone(String, Vec<String>),
    /// Recover every node of a zone.
    RecoverZone(String, Vec<String>),
    /// Cut nodes off from the control plane (their pods keep running).
    Partition(Vec<String>),
    /// Reconnect partitioned nodes.
    Heal(Vec<String>),
}

impl FaultAction {
    /// The action's name in outputs.
    pub fn name(&self) -> &'static str {
        match self {
            FaultAction::CrashPod { .. } => "crashPod",
            FaultAction::Cordon(_) => "cordon",
            FaultAction::Uncordon(_) => "uncordon",
            FaultAction::Drain(_) => "drain",
            FaultAction::FailZone(..) => "failZone",
            FaultAction::RecoverZone(..) => "recoverZone",
            FaultAction::Partition(_) => "partition",
            FaultAction::Heal(_) => "heal",
        }
    }
}

/// Resolves a node set against the scenario's nodes; every named node must exist and a zone
/// must hold at least one node.
pub fn resolve_node_set(spec: &NodeSetSpec, nodes: &[(Node, bool)]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for n in &spec.nodes {
        if !nodes.iter().any(|(x, _)| &x.name == n) {
            return Err(format!("no node is named {n:?}"));
        }
        out.push(n.clone());
    }
    if let Some(z) = &spec.zone {
        let before = out.len();
        out.extend(nodes.iter().filter(|(x, _)| x.zone() == z).map(|(x, _)| x.name.clone()));
        if out.len() == before {
            return Err(format!("no node is in zone {z:?}"));
        }
    }
    if out.is_empty() {
        return Err("name nodes (`nodes: [...]`) or a zone (`zone: ...`)".into());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The nodes of zone `z`.
pub fn zone_nodes(z: &str, nodes: &[(Node, bool)]) -> Result<Vec<String>, String> {
    resolve_node_set(&NodeSetSpec { nodes: vec![], zone: Some(z.to_string()) }, nodes)
}

/// Turns trace node events into timeline actions on the scenario's nodes: `Fail` / `Remove` fail
/// the node, `Add` / `Recover` bring it back; events on unknown nodes, after `end`, or that do not
/// change the node's state are dropped.
pub fn node_events_to_actions(
    events: &[crate::trace::NodeEvent],
    nodes: &[(Node, bool)],
    end: crate::engine::time::SimTime,
) -> Vec<(crate::engine::time::SimTime, crate::input::scenario::Action)> {
    use crate::input::scenario::Action;
    use crate::trace::NodeEventKind as K;
    let mut up: std::collections::BTreeMap<&str, bool> = nodes.iter().map(|(n, r)| (n.name.as_str(), *r)).collect();
    let mut out = Vec::new();
    for e in events {
        let at = crate::engine::time::SimTime(e.time_us);
        if at > end {
            break;
        }
        let Some(state) = up.get_mut(e.node.as_str()) else { continue };
        let want = matches!(e.kind, K::Add | K::Recover);
        if *state != want {
            *state = want;
            out.push((at, if want { Action::RecoverNode(e.node.clone()) } else { Action::FailNode(e.node.clone()) }));
        }
    }
    out
}

/// Minimal reader of the Alibaba v2018 `machine_meta` table
/// (`machine_id,time_stamp,failure_domain_1,failure_domain_2,cpu_num,mem_size,status`): a row with
/// status `USING` or `FREE` means the machine is up, any other status that it is down. Rows must
/// be in time order per machine; times are seconds.
///
/// **Note:** a stop-gap until the `trace` module's Alibaba 2018 loader lands; replace the call in
/// [`node_timeline_actions`] with it.
pub fn parse_machine_meta(
    text: &str,
    file: &str,
) -> Result<Vec<crate::trace::NodeEvent>, crate::input::error::InputError> {
    use crate::trace::{NodeEvent, NodeEventKind};
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() < 7 {
            return Err(crate::input::error::InputError::at(
                file,
                i as u64 + 1,
                1,
                "",
                format!("expected 7 columns (machine_id,time_stamp,...,status), got {}", cols.len()),
            ));
        }
        let Ok(t) = cols[1].trim().parse::<u64>() else {
            return Err(crate::input::error::InputError::at(
                file,
                i as u64 + 1,
                cols[0].len() as u64 + 2,
                "time_stamp",
                format!("expected whole seconds, got {:?}", cols[1]),
            ));
        };
        let up = matches!(cols[6].trim(), "USING" | "FREE");
        out.push(NodeEvent {
            time_us: t.saturating_mul(1_000_000),
            node: cols[0].trim().to_string(),
            kind: if up { NodeEventKind::Recover } else { NodeEventKind::Fail },
        });
    }
    out.sort_by_key(|e| e.time_us);
    Ok(out)
}

/// Compiles `faults.nodeTimeline` into timeline actions.
pub fn node_timeline_actions(
    spec: &NodeTimelineSpec,
    nodes: &[(Node, bool)],
    base_dir: &std::path::Path,
    shown: &str,
    end: crate::engine::time::SimTime,
) -> Result<Vec<(crate::engine::time::SimTime, crate::input::scenario::Action)>, crate::input::error::InputError> {
    if spec.format != "alibaba2018-machine-meta" {
        return Err(crate::input::error::InputError::file(
            shown,
            format!("unknown node timeline format {:?} (known: alibaba2018-machine-meta)", spec.format),
        )
        .with_field("faults.nodeTimeline.format"));
    }
    let path = base_dir.join(&spec.path);
    let shown_path = path.display().to_string();
    let text = crate::input::yaml::read_file(&path, &shown_path)?;
    let events = parse_machine_meta(&text, &shown_path)?;
    Ok(node_events_to_actions(&events, nodes, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::SimTime;

    fn node(name: &str, zone: &str) -> (Node, bool) {
        let labels =
            crate::model::selector::Labels::from([(crate::model::node::LABEL_ZONE.to_string(), zone.to_string())]);
        (
            Node {
                name: name.into(),
                labels,
                taints: vec![],
                allocatable: Default::default(),
                images: vec![],
                unschedulable: false,
            },
            true,
        )
    }

    #[test]
    fn node_sets_resolve_names_and_zones() {
        let nodes = [node("a-0", "a"), node("a-1", "a"), node("b-0", "b")];
        let s = NodeSetSpec { nodes: vec!["b-0".into()], zone: Some("a".into()) };
        assert_eq!(resolve_node_set(&s, &nodes).unwrap(), vec!["a-0", "a-1", "b-0"]);
        assert!(resolve_node_set(&NodeSetSpec { nodes: vec![], zone: Some("c".into()) }, &nodes).is_err());
        assert!(resolve_node_set(&NodeSetSpec::default(), &nodes).is_err());
    }

    #[test]
    fn machine_meta_rows_become_fail_and_recover_actions_on_state_changes_only() {
        let text = "m_1,0,1,1,96,100,USING\nm_1,100,1,1,96,100,OFFLINE\nm_1,150,1,1,96,100,OFFLINE\nm_1,200,1,1,96,100,USING\nm_9,5,1,1,96,100,OFFLINE\n";
        let ev = parse_machine_meta(text, "mm.csv").unwrap();
        let acts = node_events_to_actions(&ev, &[node("m_1", "a")], SimTime(1_000_000_000));
        use crate::input::scenario::Action;
        assert_eq!(
            acts,
            vec![
                (SimTime(100_000_000), Action::FailNode("m_1".into())),
                (SimTime(200_000_000), Action::RecoverNode("m_1".into()))
            ]
        );
        assert!(parse_machine_meta("m_1,x,1,1,1,1,USING\n", "mm.csv").unwrap_err().to_string().contains("time_stamp"));
    }
}
