//! Mesos Marathon's placement as a whole policy (`marathon`): offer matching with Marathon's
//! constraint operators ([`constraints`]).
//!
//! Marathon launches an app's instances on the offers Mesos sends it, taking the first offer
//! whose resources fit and whose attributes satisfy every constraint. Here each node is an offer,
//! offered in node-tree order: a pod goes to the first node that passes the profile's filters
//! (resources, ports, taints, affinity: Mesos' resource match) and the pod's constraints. A pod's
//! constraints come from the annotation `marathon.kubesim.io/constraints`, in Marathon's app JSON
//! form (`[["hostname","UNIQUE"],["zone","GROUP_BY","3"]]`). A pod's **app** is the value of its
//! label `marathon.kubesim.io/app` if set, else its controller (a Deployment's ReplicaSets count
//! as the Deployment), else the pod alone; the app's placed tasks are its pods assigned to a node
//! and not terminating.

pub mod constraints;

use crate::cluster::{NodeId, PodId};
use crate::model::node::Node;
use crate::scheduler::policies::swarm::{active_pods, workload_key};
use crate::scheduler::policy::{Decision, Policy, PolicyContext};
use std::collections::BTreeMap;

/// Pod annotation: the app's constraints as a JSON list.
pub const ANNOTATION_CONSTRAINTS: &str = "marathon.kubesim.io/constraints";
/// Pod label naming the pod's Marathon app explicitly.
pub const LABEL_APP: &str = "marathon.kubesim.io/app";
/// The scheduler name.
pub const NAME: &str = "marathon";

/// Reads the constraints annotation (none when absent); the error names the annotation.
pub fn constraints_of(ann: &BTreeMap<String, String>) -> Result<Vec<constraints::Constraint>, String> {
    match ann.get(ANNOTATION_CONSTRAINTS) {
        None => Ok(vec![]),
        Some(v) => constraints::parse(v).map_err(|e| format!("annotation {ANNOTATION_CONSTRAINTS}: {e}")),
    }
}

/// Checks the Marathon annotation of a pod manifest (called by the manifest loader).
pub fn validate_annotations(ann: &BTreeMap<String, String>) -> Result<(), String> {
    constraints_of(ann).map(|_| ())
}

/// A pod's Marathon app.
pub fn app_key(pod: &crate::model::pod::Pod) -> String {
    workload_key(pod, LABEL_APP)
}

/// Marathon offer matching as a [`Policy`].
#[derive(Clone, Debug, Default)]
pub struct MarathonPolicy;

impl Policy for MarathonPolicy {
    fn name(&self) -> String {
        NAME.into()
    }

    fn place(&mut self, ctx: &mut PolicyContext<'_>, pods: &[PodId]) -> Result<Vec<Decision>, String> {
        let mut earlier: Vec<(String, NodeId)> = Vec::new();
        let mut out = Vec::with_capacity(pods.len());
        for &id in pods {
            let pod = ctx.pod(id);
            let cons = match constraints_of(&pod.annotations) {
                Ok(c) => c,
                Err(reason) => {
                    out.push(Decision::Unschedulable { pod: id, reason });
                    continue;
                }
            };
            let app = app_key(pod);
            let cluster = ctx.cluster;
            let mut placed: Vec<&Node> = Vec::new();
            for &n in cluster.node_order() {
                for p in active_pods(cluster, n) {
                    if app_key(p) == app {
                        placed.push(&cluster.node(n).node);
                    }
                }
            }
            placed.extend(earlier.iter().filter(|(a, _)| *a == app).map(|(_, n)| &cluster.node(*n).node));
            let (mut filtered, mut declined) = (0usize, 0usize);
            let mut chosen = None;
            for v in ctx.filter(id) {
                let ns = cluster.node(v.node);
                // The filters do not see the pods placed earlier in the batch: take each node at
                // most once per batch (the policy does not group pods, so batches hold one pod).
                let batch_taken = earlier.iter().any(|(_, n)| *n == v.node);
                if !v.status.is_success() || !ns.ready || batch_taken {
                    filtered += 1;
                } else if !constraints::all_match(&cons, &ns.node, &placed) {
                    declined += 1;
                } else {
                    chosen = Some(v.node);
                    break;
                }
            }
            match chosen {
                Some(node) => {
                    earlier.push((app, node));
                    out.push(Decision::Bind { pod: id, node });
                }
                None => out.push(Decision::Unschedulable {
                    pod: id,
                    reason: format!(
                        "no matching offer ({filtered} nodes lack resources or fail the filters, {declined} fail \
                         the constraints)"
                    ),
                }),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::policies::swarm::testing::{cluster, counts, place_all, pod};

    fn app(i: usize, json: &str) -> crate::model::pod::Pod {
        pod(&format!("app-{i}"), 500, &[(LABEL_APP, "web")], &[(ANNOTATION_CONSTRAINTS, json)])
    }

    #[test]
    fn offers_are_taken_in_node_order_under_each_operator() {
        type Case = (&'static str, &'static str, usize, Vec<usize>);
        let cases: Vec<Case> = vec![
            ("no constraint fills the first node first", "[]", 5, vec![4, 1, 0, 0]),
            (
                "UNIQUE hostname puts one task per node and leaves the fifth pending",
                r#"[["hostname","UNIQUE"]]"#,
                5,
                vec![1, 1, 1, 1],
            ),
            ("UNIQUE zone puts one task per zone", r#"[["zone","UNIQUE"]]"#, 3, vec![1, 0, 1, 0]),
            ("CLUSTER zone b keeps tasks in zone b", r#"[["zone","CLUSTER","b"]]"#, 6, vec![0, 0, 4, 2]),
            ("CLUSTER without a value follows the first task", r#"[["zone","CLUSTER"]]"#, 6, vec![4, 2, 0, 0]),
            ("GROUP_BY zone 2 evens out the two zones", r#"[["zone","GROUP_BY","2"]]"#, 4, vec![2, 0, 2, 0]),
            (
                "GROUP_BY without a number balances only over the values already used",
                r#"[["zone","GROUP_BY"]]"#,
                4,
                vec![4, 0, 0, 0],
            ),
            ("LIKE keeps tasks on matching hosts", r#"[["hostname","LIKE","n[34]"]]"#, 2, vec![0, 0, 2, 0]),
            ("UNLIKE keeps tasks off matching hosts", r#"[["hostname","UNLIKE","n[12]"]]"#, 2, vec![0, 0, 2, 0]),
            ("MAX_PER zone caps each zone", r#"[["zone","MAX_PER","1"]]"#, 3, vec![1, 0, 1, 0]),
            ("IS zone b", r#"[["zone","IS","b"]]"#, 1, vec![0, 0, 1, 0]),
        ];
        for (name, json, n, want) in cases {
            let mut c = cluster(&[
                ("n1", 2000, &[("zone", "a")]),
                ("n2", 2000, &[("zone", "a")]),
                ("n3", 2000, &[("zone", "b")]),
                ("n4", 2000, &[("zone", "b")]),
            ]);
            let placed = place_all(&mut c, &mut MarathonPolicy, (0..n).map(|i| app(i, json)).collect());
            assert_eq!(counts(&placed, &["n1", "n2", "n3", "n4"]), want, "{name}");
        }
    }

    #[test]
    fn other_apps_tasks_do_not_count() {
        let mut c = cluster(&[("n1", 4000, &[]), ("n2", 4000, &[])]);
        let json = r#"[["hostname","UNIQUE"]]"#;
        let mut pods = vec![app(0, json)];
        pods.push(pod("other-0", 500, &[(LABEL_APP, "other")], &[(ANNOTATION_CONSTRAINTS, json)]));
        let placed = place_all(&mut c, &mut MarathonPolicy, pods);
        assert_eq!(placed, vec![Some("n1".to_string()), Some("n1".to_string())]);
    }

    #[test]
    fn a_bad_annotation_names_it() {
        let ann = BTreeMap::from([(ANNOTATION_CONSTRAINTS.to_string(), r#"[["zone","NEAR"]]"#.to_string())]);
        let e = validate_annotations(&ann).unwrap_err();
        assert!(e.starts_with("annotation marathon.kubesim.io/constraints: constraint 0"), "{e}");
    }
}
