//! NodeAffinity: `spec.nodeSelector`, required and preferred node affinity, and the profile's
//! `addedAffinity`, as kube-scheduler v1.33's `pkg/scheduler/framework/plugins/nodeaffinity`
//! and `k8s.io/component-helpers/scheduling/corev1/nodeaffinity` implement them.
//!
//! * PreFilter: Skip when the pod has no nodeSelector, no required node affinity and the
//!   profile adds none. When every required term names nodes with `metadata.name In [...]`
//!   (intersected within a term), the union of those names is the only candidate set; an
//!   empty union rejects the pod everywhere ("pod affinity terms conflict").
//! * Filter: the added required affinity (reason "scheduler-enforced"), then nodeSelector AND
//!   the ORed required terms (reason "Pod's node affinity/selector"); both
//!   UnschedulableAndUnresolvable.
//! * PreScore: Skip without preferred terms of the pod and of the profile.
//! * Score: the sum of the weights of the matching preferred terms (the profile's plus the
//!   pod's); NormalizeScore: `DefaultNormalizeScore(100, reverse = false)`.

use crate::cluster::{ClusterState, NodeId, NodeState};
use crate::model::affinity::{NodeAffinity as NodeAffinitySpec, PreferredSchedulingTerm};
use crate::model::node::Node;
use crate::model::pod::Pod;
use crate::model::selector::{NODE_NAME_FIELD, NodeSelector, SelectorOperator, node_selector_map_matches};
use crate::scheduler::framework::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, PreFilterNodes, PreFilterPlugin, ScorePlugin, Status,
    default_normalize_score,
};
use std::collections::BTreeSet;

/// The plugin name.
pub const NAME: &str = "NodeAffinity";
/// Upstream `ErrReasonPod`: the pod's nodeSelector or required node affinity does not match.
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";
/// Upstream `errReasonEnforced`: the profile's `addedAffinity` does not match.
pub const REASON_ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";
/// Upstream `errReasonConflict`: the `metadata.name` fields of the required terms leave no node.
pub const REASON_CONFLICT: &str = "pod affinity terms conflict";

/// `NodeAffinityArgs`.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeAffinityArgs {
    /// `addedAffinity`: node affinity applied to every pod of the profile, in addition to the
    /// pod's own (required terms ANDed with it, preferred terms added to its score).
    #[serde(default)]
    pub added_affinity: Option<NodeAffinitySpec>,
}

/// The NodeAffinity plugin.
#[derive(Clone, Debug, Default)]
pub struct NodeAffinity {
    /// `addedNodeSelector`: the added required affinity (its terms are ORed).
    added_node_selector: Option<NodeSelector>,
    /// `addedPrefSchedTerms`: the added preferred terms, without weight-0 and empty terms.
    added_pref_terms: Vec<PreferredSchedulingTerm>,
    /// True when the args list any added preferred term (upstream's `addedPrefSchedTerms != nil`).
    has_added_pref_terms: bool,
}

impl NodeAffinity {
    /// Builds the plugin, validating the args as upstream's `ValidateNodeAffinityArgs` does:
    /// every non-empty term must parse (`nodeaffinity.NewNodeSelector` /
    /// `NewPreferredSchedulingTerms`).
    pub fn new(args: NodeAffinityArgs) -> Result<Self, String> {
        let mut pl = NodeAffinity::default();
        let Some(added) = args.added_affinity else {
            return Ok(pl);
        };
        if let Some(ns) = added.required_during_scheduling_ignored_during_execution {
            for (i, t) in ns.node_selector_terms.iter().enumerate() {
                if t.is_empty() {
                    continue;
                }
                t.check_parse().map_err(|e| {
                    format!("addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}]: {e}")
                })?;
            }
            pl.added_node_selector = Some(ns);
        }
        let terms = added.preferred_during_scheduling_ignored_during_execution;
        pl.has_added_pref_terms = !terms.is_empty();
        for (i, t) in terms.into_iter().enumerate() {
            if t.weight == 0 || t.preference.is_empty() {
                continue;
            }
            t.preference
                .check_parse()
                .map_err(|e| format!("addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[{i}]: {e}"))?;
            pl.added_pref_terms.push(t);
        }
        Ok(pl)
    }
}

/// The pod's required node affinity, if set.
fn required_affinity(pod: &Pod) -> Option<&NodeSelector> {
    pod.affinity.node_affinity.as_ref().and_then(|na| na.required_during_scheduling_ignored_during_execution.as_ref())
}

/// The pod's preferred node-affinity terms.
fn preferred_terms(pod: &Pod) -> &[PreferredSchedulingTerm] {
    pod.affinity
        .node_affinity
        .as_ref()
        .map(|na| na.preferred_during_scheduling_ignored_during_execution.as_slice())
        .unwrap_or(&[])
}

/// `nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)`: the pod's nodeSelector AND its
/// required node-affinity terms (ORed; a term that fails to parse never matches, as the lazy
/// error selector upstream uses). Also what PodTopologySpread's `nodeAffinityPolicy: Honor`
/// and DaemonSet placement evaluate.
pub fn required_node_affinity_matches(pod: &Pod, node: &Node) -> bool {
    node_selector_map_matches(&pod.node_selector, &node.labels)
        && required_affinity(pod).is_none_or(|ns| ns.matches(&node.name, &node.labels))
}

/// `PreferredSchedulingTerms.Score`: the sum of the weights of the matching terms (weight-0
/// and empty terms never count).
fn preferred_score(terms: &[PreferredSchedulingTerm], node: &Node) -> i64 {
    terms
        .iter()
        .filter(|t| t.weight != 0 && t.preference.matches(&node.name, &node.labels))
        .map(|t| i64::from(t.weight))
        .sum()
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl PreFilterPlugin for NodeAffinity {
    fn pre_filter(&self, _: &mut CycleState, _: &ClusterState, pod: &Pod) -> (Status, PreFilterNodes) {
        let required = required_affinity(pod);
        if required.is_none() && self.added_node_selector.is_none() && pod.node_selector.is_empty() {
            return (Status::skip(), None);
        }
        let Some(required) = required else {
            return (Status::success(), None);
        };
        // Upstream: only when every term restricts `metadata.name` with `In` is the candidate
        // set known up front; a term without such a field lets every node through (ORed).
        let mut node_names: Option<BTreeSet<String>> = None;
        for term in &required.node_selector_terms {
            let mut term_names: Option<BTreeSet<String>> = None;
            for r in &term.match_fields {
                if r.key == NODE_NAME_FIELD && r.operator == SelectorOperator::In {
                    // The requirements of a term are ANDed: intersect.
                    let s: BTreeSet<String> = r.values.iter().cloned().collect();
                    term_names = Some(match term_names {
                        None => s,
                        Some(prev) => prev.intersection(&s).cloned().collect(),
                    });
                }
            }
            let Some(term_names) = term_names else {
                return (Status::success(), None);
            };
            node_names.get_or_insert_with(BTreeSet::new).extend(term_names);
        }
        match node_names {
            Some(names) if names.is_empty() => (Status::unresolvable(REASON_CONFLICT), None),
            Some(names) => (Status::success(), Some(names)),
            // No terms at all: the Filter rejects every node.
            None => (Status::success(), None),
        }
    }
}

impl FilterPlugin for NodeAffinity {
    fn filter(&self, _: &CycleState, _: &ClusterState, pod: &Pod, node: &NodeState) -> Status {
        let node = &node.node;
        if let Some(added) = &self.added_node_selector
            && !added.matches(&node.name, &node.labels)
        {
            return Status::unresolvable(REASON_ENFORCED);
        }
        if required_node_affinity_matches(pod, node) { Status::success() } else { Status::unresolvable(REASON) }
    }
}

impl ScorePlugin for NodeAffinity {
    fn pre_score(&self, _: &mut CycleState, _: &ClusterState, pod: &Pod, _: &[NodeId]) -> Status {
        let terms = preferred_terms(pod);
        if terms.is_empty() && !self.has_added_pref_terms {
            return Status::skip();
        }
        // `getPodPreferredNodeAffinity`: a pod term that does not parse is an error (API
        // validation at load time normally rules it out).
        for (i, t) in terms.iter().enumerate() {
            if t.weight == 0 || t.preference.is_empty() {
                continue;
            }
            if let Err(e) = t.preference.check_parse() {
                return Status::error(format!("preferredDuringSchedulingIgnoredDuringExecution[{i}]: {e}"));
            }
        }
        Status::success()
    }

    fn score(&self, _: &CycleState, _: &ClusterState, pod: &Pod, node: &NodeState) -> Result<i64, Status> {
        Ok(preferred_score(&self.added_pref_terms, &node.node) + preferred_score(preferred_terms(pod), &node.node))
    }

    fn normalize_scores(&self, _: &CycleState, _: &Pod, scores: &mut [i64]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::affinity::Affinity;
    use crate::scheduler::framework::Code;
    use crate::scheduler::testing::{make_node, make_pod};

    fn node(name: &str, labels: &[(&str, &str)]) -> NodeState {
        let mut n = make_node(name, 1000, 1000, 10);
        n.node.labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        n
    }

    /// A pod with the given `spec.nodeSelector` and `spec.affinity` (YAML, empty for none).
    fn pod(selector: &[(&str, &str)], affinity: &str) -> Pod {
        let mut p = make_pod("p", &[]);
        p.node_selector = selector.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if !affinity.is_empty() {
            p.affinity = serde_saphyr::from_str::<Affinity>(affinity).unwrap();
        }
        p
    }

    fn added(yaml: &str) -> NodeAffinity {
        let args: NodeAffinityArgs = serde_saphyr::from_str(yaml).unwrap();
        NodeAffinity::new(args).unwrap()
    }

    fn names(ns: &[&str]) -> PreFilterNodes {
        Some(ns.iter().map(|s| s.to_string()).collect())
    }

    /// Runs PreFilter, then Filter unless PreFilter rejected the pod (also after a Skip, which
    /// the cycle would not do, to show that the Filter agrees).
    fn run(pl: &NodeAffinity, pod: &Pod, node: &NodeState) -> (Status, PreFilterNodes, Status) {
        let cs = ClusterState::new();
        let mut state = CycleState::new();
        let (pre, nodes) = pl.pre_filter(&mut state, &cs, pod);
        let filter = match pre.code {
            Code::Success | Code::Skip => pl.filter(&state, &cs, pod, node),
            _ => pre.clone(),
        };
        (pre, nodes, filter)
    }

    const REQUIRED_PREFIX: &str =
        "nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [";

    fn required(terms: &str) -> String {
        format!("{REQUIRED_PREFIX}{terms}]}}}}")
    }

    #[test]
    fn filter_matches_node_selector_and_required_terms_as_upstream() {
        // Cases from upstream's TestNodeAffinity (node_affinity_test.go).
        struct Case {
            name: &'static str,
            selector: &'static [(&'static str, &'static str)],
            affinity: String,
            labels: &'static [(&'static str, &'static str)],
            pre: Code,
            fits: bool,
        }
        let in_terms = |key: &str, op: &str, vals: &str| {
            format!("{{matchExpressions: [{{key: {key}, operator: {op}, values: [{vals}]}}]}}")
        };
        let cases = vec![
            Case {
                name: "missing labels",
                selector: &[("foo", "bar")],
                affinity: String::new(),
                labels: &[],
                pre: Code::Success,
                fits: false,
            },
            Case {
                name: "no selector",
                selector: &[],
                affinity: String::new(),
                labels: &[("foo", "bar")],
                pre: Code::Skip,
                fits: true,
            },
            Case {
                name: "same labels",
                selector: &[("foo", "bar")],
                affinity: String::new(),
                labels: &[("foo", "bar")],
                pre: Code::Success,
                fits: true,
            },
            Case {
                name: "node labels are superset",
                selector: &[("foo", "bar")],
                affinity: String::new(),
                labels: &[("foo", "bar"), ("baz", "blah")],
                pre: Code::Success,
                fits: true,
            },
            Case {
                name: "node labels are subset",
                selector: &[("foo", "bar"), ("baz", "blah")],
                affinity: String::new(),
                labels: &[("foo", "bar")],
                pre: Code::Success,
                fits: false,
            },
            Case {
                name: "Pod with matchExpressions using In operator that matches the existing node",
                selector: &[],
                affinity: required(&in_terms("foo", "In", "bar, value2")),
                labels: &[("foo", "bar")],
                pre: Code::Success,
                fits: true,
            },
            Case {
                name: "Pod with matchExpressions using Gt operator that matches the existing node",
                selector: &[],
                affinity: required(&in_terms("kernel-version", "Gt", "'0204'")),
                labels: &[("kernel-version", "0206")],
                pre: Code::Success,
                fits: true,
            },
            Case {
                name: "Pod with matchExpressions using NotIn operator that matches the existing node",
                selector: &[],
                affinity: required(&in_terms("mem-type", "NotIn", "DDR, DDR2")),
                labels: &[("mem-type", "DDR3")],
                pre: Code::Success,
                fits: true,
            },
            Case {
                name: "Pod with matchExpressions using Exists operator that matches the existing node",
                selector: &[],
                affinity: required("{matchExpressions: [{key: GPU, operator: Exists}]}"),
                labels: &[("GPU", "NVIDIA-GRID-K1")],
                pre: Code::Success,
                fits: true,
            },
            Case {
                name: "Pod with affinity that don't match node's labels won't schedule onto the node",
                selector: &[],
                affinity: required(&in_terms("foo", "In", "value1, value2")),
                labels: &[("foo", "bar")],
                pre: Code::Success,
                fits: false,
            },
            Case {
                name: "Pod with empty MatchExpressions is not a valid value will match no objects and won't schedule onto the node",
                selector: &[],
                affinity: required("{matchExpressions: []}"),
                labels: &[("foo", "bar")],
                pre: Code::Success,
                fits: false,
            },
            Case {
                name: "Pod with an empty NodeSelectorTerms list matches no node",
                selector: &[],
                affinity: required(""),
                labels: &[("foo", "bar")],
                pre: Code::Success,
                fits: false,
            },
            Case {
                name: "Pod with Affinity but nil NodeSelector will schedule onto a node",
                selector: &[],
                affinity: "nodeAffinity: {}".into(),
                labels: &[("foo", "bar")],
                pre: Code::Skip,
                fits: true,
            },
            Case {
                name: "Pod with multiple matchExpressions ANDed that matches the existing node",
                selector: &[],
                affinity: required(
                    "{matchExpressions: [{key: GPU, operator: Exists}, {key: GPU, operator: NotIn, values: [AMD, INTER]}]}",
                ),
                labels: &[("GPU", "NVIDIA-GRID-K1")],
                pre: Code::Success,
                fits: true,
            },
            Case {
                name: "Pod with multiple matchExpressions ANDed that doesn't match the existing node",
                selector: &[],
                affinity: required(
                    "{matchExpressions: [{key: GPU, operator: Exists}, {key: GPU, operator: In, values: [AMD, INTER]}]}",
                ),
                labels: &[("GPU", "NVIDIA-GRID-K1")],
                pre: Code::Success,
                fits: false,
            },
            Case {
                name: "Pod with multiple NodeSelectorTerms ORed in affinity, matches the node's labels and will schedule onto the node",
                selector: &[],
                affinity: required(&format!(
                    "{}, {}",
                    in_terms("foo", "In", "bar, value2"),
                    "{matchExpressions: [{key: diffkey, operator: In, values: [wrong, value2]}]}"
                )),
                labels: &[("foo", "bar")],
                pre: Code::Success,
                fits: true,
            },
            Case {
                name: "Pod with an Affinity and a PodSpec.NodeSelector(the old thing that we are deprecating) both are satisfied, will schedule onto the node",
                selector: &[("foo", "bar")],
                affinity: required("{matchExpressions: [{key: foo, operator: Exists}]}"),
                labels: &[("foo", "bar")],
                pre: Code::Success,
                fits: true,
            },
            Case {
                name: "Pod with an Affinity matches node's labels but the PodSpec.NodeSelector(the old thing that we are deprecating) is not satisfied, won't schedule onto the node",
                selector: &[("foo", "bar")],
                affinity: required("{matchExpressions: [{key: foo, operator: Exists}]}"),
                labels: &[("foo", "barrrrrr")],
                pre: Code::Success,
                fits: false,
            },
            Case {
                name: "Pod with an invalid value in Affinity term won't be scheduled onto the node",
                selector: &[],
                affinity: required(
                    "{matchExpressions: [{key: foo, operator: NotIn, values: ['invalid value: ___@#$%^']}]}",
                ),
                labels: &[("foo", "bar")],
                pre: Code::Success,
                fits: false,
            },
        ];
        for c in cases {
            let p = pod(c.selector, &c.affinity);
            let (pre, nodes, filter) = run(&NodeAffinity::default(), &p, &node("node1", c.labels));
            assert_eq!(pre.code, c.pre, "{}", c.name);
            assert_eq!(nodes, None, "{}", c.name);
            if c.fits {
                assert!(filter.is_success(), "{}: {filter:?}", c.name);
            } else {
                assert_eq!(filter, Status::unresolvable(REASON), "{}", c.name);
            }
        }
    }

    #[test]
    fn metadata_name_match_fields_restrict_prefilter_to_the_named_nodes() {
        // Cases from upstream's TestNodeAffinity (matchFields).
        let f = |n: &str| format!("{{key: metadata.name, operator: In, values: [{n}]}}");
        struct Case {
            name: &'static str,
            terms: String,
            node: &'static str,
            labels: &'static [(&'static str, &'static str)],
            want_nodes: PreFilterNodes,
            fits: bool,
        }
        let cases = vec![
            Case {
                name: "Pod with matchFields using In operator that matches the existing node",
                terms: format!("{{matchFields: [{}]}}", f("node1")),
                node: "node1",
                labels: &[],
                want_nodes: names(&["node1"]),
                fits: true,
            },
            Case {
                name: "Pod with matchFields using In operator that does not match the existing node",
                terms: format!("{{matchFields: [{}]}}", f("node1")),
                node: "node2",
                labels: &[],
                want_nodes: names(&["node1"]),
                fits: false,
            },
            Case {
                name: "Pod with two terms: matchFields does not match, but matchExpressions matches",
                terms: format!(
                    "{{matchFields: [{}]}}, {{matchExpressions: [{{key: foo, operator: In, values: [bar]}}]}}",
                    f("node1")
                ),
                node: "node2",
                labels: &[("foo", "bar")],
                want_nodes: None,
                fits: true,
            },
            Case {
                name: "Pod with one term: matchFields does not match, but matchExpressions matches",
                terms: format!(
                    "{{matchFields: [{}], matchExpressions: [{{key: foo, operator: In, values: [bar]}}]}}",
                    f("node1")
                ),
                node: "node2",
                labels: &[("foo", "bar")],
                want_nodes: names(&["node1"]),
                fits: false,
            },
            Case {
                name: "Pod with one term: both matchFields and matchExpressions match",
                terms: format!(
                    "{{matchFields: [{}], matchExpressions: [{{key: foo, operator: In, values: [bar]}}]}}",
                    f("node1")
                ),
                node: "node1",
                labels: &[("foo", "bar")],
                want_nodes: names(&["node1"]),
                fits: true,
            },
            Case {
                name: "Pod with two terms: both matchFields and matchExpressions do not match",
                terms: format!(
                    "{{matchFields: [{}]}}, {{matchExpressions: [{{key: foo, operator: In, values: [not-match-to-bar]}}]}}",
                    f("node1")
                ),
                node: "node2",
                labels: &[("foo", "bar")],
                want_nodes: None,
                fits: false,
            },
            Case {
                name: "Pod with two terms of node.Name affinity",
                terms: format!("{{matchFields: [{}]}}, {{matchFields: [{}]}}", f("node1"), f("node2")),
                node: "node2",
                labels: &[],
                want_nodes: names(&["node1", "node2"]),
                fits: true,
            },
            Case {
                name: "a NotIn metadata.name field does not name candidates",
                terms: "{matchFields: [{key: metadata.name, operator: NotIn, values: [node1]}]}".into(),
                node: "node2",
                labels: &[],
                want_nodes: None,
                fits: true,
            },
        ];
        for c in cases {
            let p = pod(&[], &required(&c.terms));
            let (pre, nodes, filter) = run(&NodeAffinity::default(), &p, &node(c.node, c.labels));
            assert!(pre.is_success(), "{}", c.name);
            assert_eq!(nodes, c.want_nodes, "{}", c.name);
            assert_eq!(filter.is_success(), c.fits, "{}: {filter:?}", c.name);
        }
    }

    #[test]
    fn conflicting_match_fields_reject_the_pod_in_prefilter() {
        // Upstream "Pod with two conflicting mach field requirements".
        let p = pod(
            &[],
            &required(
                "{matchFields: [{key: metadata.name, operator: In, values: [node1]}, \
                 {key: metadata.name, operator: In, values: [node2]}]}",
            ),
        );
        let (pre, nodes) = NodeAffinity::default().pre_filter(&mut CycleState::new(), &ClusterState::new(), &p);
        assert_eq!(pre, Status::unresolvable(REASON_CONFLICT));
        assert_eq!(nodes, None);
    }

    #[test]
    fn added_affinity_is_anded_with_the_pods_and_has_its_own_reason() {
        // Upstream "Matches added affinity and Pod's node affinity", "Matches added affinity
        // but not Pod's node affinity", "Doesn't match added affinity".
        let pl = added(
            "addedAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: \
             [{matchExpressions: [{key: zone, operator: In, values: [foo]}]}]}}",
        );
        let pod_aff = required("{matchExpressions: [{key: foo, operator: In, values: [bar]}]}");
        type Labels<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(&str, Labels, &str, Option<&str>)] = &[
            ("matches added affinity and the pod's", &[("zone", "foo"), ("foo", "bar")], &pod_aff, None),
            ("matches added affinity but not the pod's", &[("zone", "foo"), ("foo", "baz")], &pod_aff, Some(REASON)),
            ("does not match added affinity", &[("zone", "bar"), ("foo", "bar")], &pod_aff, Some(REASON_ENFORCED)),
            ("a pod without affinity still gets the added affinity", &[("zone", "bar")], "", Some(REASON_ENFORCED)),
        ];
        for (name, labels, aff, want) in cases {
            let p = pod(&[], aff);
            let (pre, _, filter) = run(&pl, &p, &node("node1", labels));
            assert!(pre.is_success(), "{name}: added affinity disables the PreFilter Skip");
            match want {
                None => assert!(filter.is_success(), "{name}: {filter:?}"),
                Some(r) => assert_eq!(filter, Status::unresolvable(*r), "{name}"),
            }
        }
    }

    #[test]
    fn required_node_affinity_matches_is_usable_by_other_plugins() {
        let p = pod(&[("foo", "bar")], &required("{matchFields: [{key: metadata.name, operator: In, values: [a]}]}"));
        assert!(required_node_affinity_matches(&p, &node("a", &[("foo", "bar")]).node));
        assert!(!required_node_affinity_matches(&p, &node("b", &[("foo", "bar")]).node));
        assert!(!required_node_affinity_matches(&p, &node("a", &[]).node));
    }

    /// PreScore, Score on every node, NormalizeScore; `None` when PreScore skipped.
    fn scores(pl: &NodeAffinity, p: &Pod, nodes: &[NodeState]) -> Option<Vec<i64>> {
        let cs = ClusterState::new();
        let mut state = CycleState::new();
        let st = pl.pre_score(&mut state, &cs, p, &[]);
        if st.code == Code::Skip {
            return None;
        }
        assert!(st.is_success(), "{st:?}");
        let mut s: Vec<i64> = nodes.iter().map(|n| pl.score(&state, &cs, p, n).unwrap()).collect();
        assert!(pl.normalize_scores(&state, p, &mut s).is_success());
        Some(s)
    }

    const AFFINITY1: &str = "nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [\
        {weight: 2, preference: {matchExpressions: [{key: foo, operator: In, values: [bar]}]}}]}";
    const AFFINITY2: &str = "nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [\
        {weight: 2, preference: {matchExpressions: [{key: foo, operator: In, values: [bar]}]}}, \
        {weight: 4, preference: {matchExpressions: [{key: key, operator: In, values: [value]}]}}, \
        {weight: 5, preference: {matchExpressions: [{key: foo, operator: In, values: [bar]}, \
        {key: key, operator: In, values: [value]}, {key: az, operator: In, values: [az1]}]}}]}";
    const LABEL1: &[(&str, &str)] = &[("foo", "bar")];
    const LABEL2: &[(&str, &str)] = &[("key", "value")];
    const LABEL3: &[(&str, &str)] = &[("az", "az1")];
    const LABEL5: &[(&str, &str)] = &[("foo", "bar"), ("key", "value"), ("az", "az1")];

    #[test]
    fn preferred_terms_score_the_sum_of_matching_weights_normalised_to_100() {
        // Upstream TestNodeAffinityPriority.
        let three = || vec![node("node1", LABEL1), node("node2", LABEL2), node("node3", LABEL3)];
        let none = NodeAffinity::default();
        assert_eq!(
            scores(&none, &pod(&[], ""), &three()),
            None,
            "all nodes are same priority as NodeAffinity is nil: PreScore skips"
        );
        let no_match = "nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [\
            {weight: 2, preference: {matchExpressions: [{key: foo, operator: In, values: [nomatch]}]}}]}";
        assert_eq!(
            scores(&none, &pod(&[], no_match), &three()),
            Some(vec![0, 0, 0]),
            "no node matches preferred scheduling requirements in NodeAffinity of pod so all nodes' priority is zero"
        );
        assert_eq!(
            scores(&none, &pod(&[], AFFINITY1), &three()),
            Some(vec![100, 0, 0]),
            "only node1 matches the preferred scheduling requirements of pod"
        );
        let nodes = vec![node("node1", LABEL1), node("node5", LABEL5), node("node2", LABEL2)];
        // Raw 2, 11, 4 → 100*2/11 = 18, 100, 100*4/11 = 36.
        assert_eq!(
            scores(&none, &pod(&[], AFFINITY2), &nodes),
            Some(vec![18, 100, 36]),
            "all nodes matches the preferred scheduling requirements of pod but with different priorities"
        );
    }

    #[test]
    fn added_preferred_terms_add_to_the_pods_score() {
        // Upstream "added affinity" and "added affinity and pod has default affinity".
        let pl = added(
            "addedAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [\
             {weight: 2, preference: {matchExpressions: [{key: foo, operator: In, values: [bar]}]}}]}",
        );
        assert_eq!(scores(&pl, &pod(&[], ""), &[node("node1", LABEL1), node("node2", LABEL2)]), Some(vec![100, 0]));
        let pl = added(
            "addedAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [\
             {weight: 3, preference: {matchExpressions: [{key: key, operator: In, values: [value]}]}}]}",
        );
        // Raw 2, 3, 5 → 40, 60, 100.
        let nodes = [node("node1", LABEL1), node("node2", LABEL2), node("node3", LABEL5)];
        assert_eq!(scores(&pl, &pod(&[], AFFINITY1), &nodes), Some(vec![40, 60, 100]));
    }

    #[test]
    fn preferred_match_fields_score_by_node_name() {
        let aff = "nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [\
            {weight: 7, preference: {matchFields: [{key: metadata.name, operator: In, values: [b]}]}}]}";
        assert_eq!(
            scores(&NodeAffinity::default(), &pod(&[], aff), &[node("a", &[]), node("b", &[])]),
            Some(vec![0, 100])
        );
    }

    #[test]
    fn invalid_added_affinity_is_rejected_naming_the_field() {
        let args: NodeAffinityArgs = serde_saphyr::from_str(
            "addedAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: \
             [{matchExpressions: [{key: zone, operator: In}]}]}}",
        )
        .unwrap();
        let e = NodeAffinity::new(args).unwrap_err();
        assert!(
            e.starts_with("addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"),
            "{e}"
        );
        let args: NodeAffinityArgs = serde_saphyr::from_str(
            "addedAffinity: {preferredDuringSchedulingIgnoredDuringExecution: \
             [{weight: 1, preference: {matchFields: [{key: metadata.name, operator: Exists}]}}]}",
        )
        .unwrap();
        let e = NodeAffinity::new(args).unwrap_err();
        assert!(e.starts_with("addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"), "{e}");
        assert!(serde_saphyr::from_str::<NodeAffinityArgs>("addedAfinity: {}").is_err(), "unknown fields are rejected");
    }

    #[test]
    fn plugin_config_args_reach_the_plugin() {
        let args = serde_json::json!({"kind": "NodeAffinityArgs", "addedAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}});
        let entry = crate::scheduler::registry::build_configured(NAME, &args).unwrap().unwrap();
        let filter = entry.filter.unwrap();
        let st = filter.filter(&CycleState::new(), &ClusterState::new(), &pod(&[], ""), &node("n", &[("zone", "b")]));
        assert_eq!(st, Status::unresolvable(REASON_ENFORCED));
        let bad = serde_json::json!({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In"}]}]}}});
        let e = crate::scheduler::registry::build_configured(NAME, &bad).err().unwrap();
        assert!(e.starts_with("pluginConfig NodeAffinity: addedAffinity.required"), "{e}");
    }

    #[test]
    fn an_unparseable_preferred_term_of_the_pod_is_a_prescore_error() {
        let aff = "nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [\
            {weight: 1, preference: {matchExpressions: [{key: foo, operator: Gt, values: [x]}]}}]}";
        let st = NodeAffinity::default().pre_score(&mut CycleState::new(), &ClusterState::new(), &pod(&[], aff), &[]);
        assert_eq!(st.code, Code::Error);
    }
}
