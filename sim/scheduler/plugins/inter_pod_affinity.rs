//! InterPodAffinity: required pod affinity / anti-affinity as a filter, preferred terms (and the
//! existing pods' terms, "symmetry") as a score, as kube-scheduler v1.33's `interpodaffinity`
//! plugin does (`pkg/scheduler/framework/plugins/interpodaffinity/{plugin,filtering,scoring}.go`).
//!
//! **Terms** are resolved as upstream's `framework.AffinityTerm`: the namespaces a term applies
//! to are `namespaces` ∪ the namespaces whose labels match `namespaceSelector` (`{}` selects
//! every namespace; an absent selector selects none); with both absent, the namespace of the pod
//! that owns the term. A namespace no manifest declared has the single label
//! `kubernetes.io/metadata.name: <name>`, as the API server would have given it. Upstream
//! unrolls an incoming term's namespace selector into the namespace set by listing the
//! Namespace objects; evaluating the selector against the labels of the candidate pod's
//! namespace is the same thing, because every pod's namespace exists. `matchLabelKeys` /
//! `mismatchLabelKeys` are merged into the label selector with the owning pod's label values
//! (`In` / `NotIn`; keys the pod does not carry are ignored; a missing selector stays missing),
//! which the API server does when the pod is created (`applyMatchLabelKeysAndMismatchLabelKeys`,
//! feature `MatchLabelKeysInPodAffinity`, on by default in v1.33). A missing label selector
//! matches nothing.
//!
//! **PreFilter** counts, per `(topologyKey, value)` of the node an existing pod runs on:
//! the existing pods' required anti-affinity terms that match the incoming pod (only the nodes
//! holding such pods are visited), and, over every assigned pod, the incoming pod's required
//! affinity terms (a pod counts only if it matches *all* of them, then once per term) and its
//! required anti-affinity terms. It returns Skip when the first count is empty and the pod has
//! no required terms. **Filter** checks, in v1.33's order (`satisfyPodAffinity`,
//! `satisfyPodAntiAffinity`, `satisfyExistingPodsAntiAffinity`): the required affinity (every
//! topology key present and every count > 0, unless no pod matches anywhere and the pod matches
//! its own terms: "the first pod of a group"), UnschedulableAndUnresolvable; the required
//! anti-affinity, Unschedulable; the existing pods' anti-affinity, Unschedulable.
//!
//! **PreScore** builds `topologyScore[key][value]` from the existing pods (all assigned pods if
//! the incoming pod has preferred terms, else only the pods with affinity terms); **Score** sums
//! the node's entries; **NormalizeScore** maps `[min, max]` onto `[0, 100]` in float64 as
//! upstream, and gives 0 to every node when all scores are equal.

use crate::cluster::{ClusterState, NodeId, NodeState, PodId};
use crate::model::affinity::{PodAffinity, PodAffinityTerm, WeightedPodAffinityTerm};
use crate::model::pod::Pod;
use crate::model::selector::Labels;
use crate::scheduler::framework::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, PreFilterNodes, PreFilterPlugin, ScorePlugin, Status,
};
use std::collections::BTreeMap;

/// The plugin name.
pub const NAME: &str = "InterPodAffinity";
/// Upstream `ErrReasonAffinityRulesNotMatch`.
pub const ERR_REASON_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod affinity rules";
/// Upstream `ErrReasonAntiAffinityRulesNotMatch`.
pub const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod anti-affinity rules";
/// Upstream `ErrReasonExistingAntiAffinityRulesNotMatch`.
pub const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";
/// Upstream's default `hardPodAffinityWeight`.
pub const DEFAULT_HARD_POD_AFFINITY_WEIGHT: i32 = 1;
/// The label the API server puts on every Namespace.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Upstream `preFilterStateKey` ("PreFilter" + plugin name).
const PRE_FILTER_STATE_KEY: &str = "PreFilterInterPodAffinity";
/// Upstream `preScoreStateKey` ("PreScore" + plugin name).
const PRE_SCORE_STATE_KEY: &str = "PreScoreInterPodAffinity";

/// `InterPodAffinityArgs`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct InterPodAffinityArgs {
    /// Score added for each of an existing pod's required affinity terms the incoming pod
    /// matches (0..=100, default 1; 0 turns this "symmetry" off).
    pub hard_pod_affinity_weight: i32,
    /// Skip scoring altogether when the incoming pod has no preferred (anti-)affinity terms,
    /// instead of scoring by the existing pods' terms (default false).
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinityArgs {
    fn default() -> Self {
        InterPodAffinityArgs {
            hard_pod_affinity_weight: DEFAULT_HARD_POD_AFFINITY_WEIGHT,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

/// The InterPodAffinity plugin.
#[derive(Clone, Debug, Default)]
pub struct InterPodAffinity {
    args: InterPodAffinityArgs,
}

impl InterPodAffinity {
    /// The plugin with validated arguments (upstream `ValidateInterPodAffinityArgs`).
    pub fn new(args: InterPodAffinityArgs) -> Result<Self, String> {
        let w = args.hard_pod_affinity_weight;
        if !(0..=100).contains(&w) {
            return Err(format!("hardPodAffinityWeight: Invalid value: {w}: not in valid range [0, 100]"));
        }
        Ok(InterPodAffinity { args })
    }

    /// The arguments in use.
    pub fn args(&self) -> &InterPodAffinityArgs {
        &self.args
    }
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
}

// ------------------------------------------------------------------------------------------------
// Terms.

/// One pod (anti-)affinity term with the pod that owns it (upstream `framework.AffinityTerm`).
struct Term<'a> {
    term: &'a PodAffinityTerm,
    owner: &'a Pod,
    /// The label selector parses (upstream would have refused to build the term otherwise;
    /// pods are validated at load time, so this is a safety net: an invalid selector matches
    /// nothing).
    selector_valid: bool,
    weight: i64,
}

impl<'a> Term<'a> {
    fn new(owner: &'a Pod, term: &'a PodAffinityTerm, weight: i64) -> Self {
        let selector_valid = term.label_selector.as_ref().is_some_and(|s| s.validate().is_ok());
        Term { term, owner, selector_valid, weight }
    }

    fn topology_key(&self) -> &'a str {
        &self.term.topology_key
    }

    /// Upstream `AffinityTerm.Matches`: the target's namespace is selected and its labels match.
    fn matches(&self, cluster: &ClusterState, target: &Pod) -> bool {
        self.namespace_selected(cluster, &target.namespace) && self.selector_matches(&target.labels)
    }

    fn namespace_selected(&self, cluster: &ClusterState, ns: &str) -> bool {
        let t = self.term;
        if t.namespaces.is_empty() && t.namespace_selector.is_none() {
            return ns == self.owner.namespace;
        }
        if t.namespaces.iter().any(|n| n == ns) {
            return true;
        }
        match &t.namespace_selector {
            None => false,
            Some(sel) if sel.is_empty() => true,
            Some(sel) => match cluster.namespace_labels(ns) {
                Some(labels) => sel.matches(labels),
                None => sel.matches(&Labels::from([(NAMESPACE_NAME_LABEL.to_string(), ns.to_string())])),
            },
        }
    }

    /// The label selector with `matchLabelKeys` (`In`) and `mismatchLabelKeys` (`NotIn`) merged
    /// from the owner's labels, without building the merged selector.
    fn selector_matches(&self, labels: &Labels) -> bool {
        let Some(sel) = &self.term.label_selector else {
            return false;
        };
        if !self.selector_valid {
            return false;
        }
        let owner = &self.owner.labels;
        sel.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && sel.match_expressions.iter().all(|r| r.matches(labels))
            && self.term.match_label_keys.iter().all(|k| owner.get(k).is_none_or(|v| labels.get(k) == Some(v)))
            && self.term.mismatch_label_keys.iter().all(|k| owner.get(k).is_none_or(|v| labels.get(k) != Some(v)))
    }
}

fn required(p: &Option<PodAffinity>) -> &[PodAffinityTerm] {
    p.as_ref().map(|p| p.required_during_scheduling_ignored_during_execution.as_slice()).unwrap_or(&[])
}

fn preferred(p: &Option<PodAffinity>) -> &[WeightedPodAffinityTerm] {
    p.as_ref().map(|p| p.preferred_during_scheduling_ignored_during_execution.as_slice()).unwrap_or(&[])
}

fn required_terms<'a>(owner: &'a Pod, p: &'a Option<PodAffinity>) -> Vec<Term<'a>> {
    required(p).iter().map(|t| Term::new(owner, t, 1)).collect()
}

fn preferred_terms<'a>(owner: &'a Pod, p: &'a Option<PodAffinity>) -> Vec<Term<'a>> {
    preferred(p).iter().map(|t| Term::new(owner, &t.pod_affinity_term, t.weight as i64)).collect()
}

/// Upstream `framework.NewPodInfo`'s parse error for the incoming pod: the first term (required
/// affinity, required anti-affinity, preferred affinity, preferred anti-affinity, in that order)
/// whose label selector or namespace selector does not parse. Manifests are validated when they
/// are loaded, so this only guards pods built by other means.
fn parse_error(pod: &Pod) -> Option<String> {
    let a = &pod.affinity;
    let weighted = |p| preferred(p).iter().map(|t: &WeightedPodAffinityTerm| &t.pod_affinity_term);
    required(&a.pod_affinity)
        .iter()
        .chain(required(&a.pod_anti_affinity))
        .chain(weighted(&a.pod_affinity))
        .chain(weighted(&a.pod_anti_affinity))
        .find_map(|t| {
            let check = |s: &Option<crate::model::selector::LabelSelector>| s.as_ref().and_then(|s| s.validate().err());
            check(&t.label_selector).or_else(|| check(&t.namespace_selector)).map(|e| e.to_string())
        })
}

/// Upstream `podMatchesAllAffinityTerms`: false for no terms.
fn matches_all(terms: &[Term<'_>], cluster: &ClusterState, target: &Pod) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(cluster, target))
}

// ------------------------------------------------------------------------------------------------
// Counts.

/// Upstream `topologyToMatchedTermCount`, keyed by topology key, then value. Entries that fall
/// to zero are removed, so the map is empty exactly when upstream's is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct TopologyCounts(BTreeMap<String, BTreeMap<String, i64>>);

impl TopologyCounts {
    /// Upstream `update`: adds `value` under `(key, node's value)` when the node has the key.
    fn update(&mut self, node_labels: &Labels, key: &str, value: i64) {
        let Some(tv) = node_labels.get(key) else {
            return;
        };
        if !self.0.contains_key(key) {
            self.0.insert(key.to_string(), BTreeMap::new());
        }
        let Some(inner) = self.0.get_mut(key) else {
            return;
        };
        let now = match inner.get_mut(tv) {
            Some(c) => {
                *c += value;
                *c
            }
            None => {
                inner.insert(tv.clone(), value);
                value
            }
        };
        if now == 0 {
            inner.remove(tv);
            if inner.is_empty() {
                self.0.remove(key);
            }
        }
    }

    fn get(&self, key: &str, value: &str) -> i64 {
        self.0.get(key).and_then(|m| m.get(value)).copied().unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What PreFilter leaves for Filter (upstream `preFilterState`).
#[derive(Debug)]
struct PreFilterState {
    /// Topology keys of the incoming pod's required affinity terms, in order.
    affinity_keys: Vec<String>,
    /// Topology keys of the incoming pod's required anti-affinity terms, in order.
    anti_affinity_keys: Vec<String>,
    /// The incoming pod matches all its own required affinity terms.
    matches_own_affinity_terms: bool,
    affinity_counts: TopologyCounts,
    anti_affinity_counts: TopologyCounts,
    existing_anti_affinity_counts: TopologyCounts,
}

impl PreFilterPlugin for InterPodAffinity {
    fn pre_filter(&self, state: &mut CycleState, cluster: &ClusterState, pod: &Pod) -> (Status, PreFilterNodes) {
        if let Some(e) = parse_error(pod) {
            return (Status::unresolvable(format!("parsing pod: {e}")), None);
        }
        let affinity = required_terms(pod, &pod.affinity.pod_affinity);
        let anti_affinity = required_terms(pod, &pod.affinity.pod_anti_affinity);

        // getExistingAntiAffinityCounts: the existing pods' required anti-affinity terms that
        // the incoming pod matches.
        let mut existing = TopologyCounts::default();
        for id in cluster.nodes_with_required_anti_affinity_pods() {
            let node = cluster.node(*id);
            for pid in &node.pods_with_required_anti_affinity {
                let ep = &cluster.pod(*pid).pod;
                for t in required(&ep.affinity.pod_anti_affinity) {
                    if Term::new(ep, t, 1).matches(cluster, pod) {
                        existing.update(&node.node.labels, &t.topology_key, 1);
                    }
                }
            }
        }

        if existing.is_empty() && affinity.is_empty() && anti_affinity.is_empty() {
            return (Status::skip(), None);
        }

        // getIncomingAffinityAntiAffinityCounts: over every assigned pod.
        let mut affinity_counts = TopologyCounts::default();
        let mut anti_affinity_counts = TopologyCounts::default();
        if !affinity.is_empty() || !anti_affinity.is_empty() {
            for node in cluster.nodes() {
                let labels = &node.node.labels;
                for pid in &node.pods {
                    let ep = &cluster.pod(*pid).pod;
                    if matches_all(&affinity, cluster, ep) {
                        for t in &affinity {
                            affinity_counts.update(labels, t.topology_key(), 1);
                        }
                    }
                    for t in &anti_affinity {
                        if t.matches(cluster, ep) {
                            anti_affinity_counts.update(labels, t.topology_key(), 1);
                        }
                    }
                }
            }
        }

        state.write(
            PRE_FILTER_STATE_KEY,
            PreFilterState {
                affinity_keys: affinity.iter().map(|t| t.topology_key().to_string()).collect(),
                anti_affinity_keys: anti_affinity.iter().map(|t| t.topology_key().to_string()).collect(),
                matches_own_affinity_terms: matches_all(&affinity, cluster, pod),
                affinity_counts,
                anti_affinity_counts,
                existing_anti_affinity_counts: existing,
            },
        );
        (Status::success(), None)
    }
}

/// Upstream `satisfyPodAffinity`.
fn satisfy_pod_affinity(s: &PreFilterState, labels: &Labels) -> bool {
    let mut pods_exist = true;
    for key in &s.affinity_keys {
        match labels.get(key) {
            Some(v) => {
                if s.affinity_counts.get(key, v) <= 0 {
                    pods_exist = false;
                }
            }
            // All topology labels must exist on the node.
            None => return false,
        }
    }
    // The first pod of a group with affinity to itself: no pod anywhere matches the terms, and
    // the pod matches them itself.
    pods_exist || (s.affinity_counts.is_empty() && s.matches_own_affinity_terms)
}

/// Upstream `satisfyPodAntiAffinity`.
fn satisfy_pod_anti_affinity(s: &PreFilterState, labels: &Labels) -> bool {
    if s.anti_affinity_counts.is_empty() {
        return true;
    }
    !s.anti_affinity_keys.iter().any(|key| labels.get(key).is_some_and(|v| s.anti_affinity_counts.get(key, v) > 0))
}

/// Upstream `satisfyExistingPodsAntiAffinity` (which walks the node's labels; walking the few
/// counted keys instead finds the same pairs).
fn satisfy_existing_pods_anti_affinity(s: &PreFilterState, labels: &Labels) -> bool {
    !s.existing_anti_affinity_counts
        .0
        .iter()
        .any(|(key, values)| labels.get(key).and_then(|v| values.get(v)).is_some_and(|c| *c > 0))
}

impl FilterPlugin for InterPodAffinity {
    fn filter(&self, state: &CycleState, _: &ClusterState, _: &Pod, node: &NodeState) -> Status {
        let Some(s) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) else {
            return Status::error(format!("reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"));
        };
        let labels = &node.node.labels;
        if !satisfy_pod_affinity(s, labels) {
            return Status::unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH);
        }
        if !satisfy_pod_anti_affinity(s, labels) {
            return Status::unschedulable(vec![ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH.to_string()]);
        }
        if !satisfy_existing_pods_anti_affinity(s, labels) {
            return Status::unschedulable(vec![ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH.to_string()]);
        }
        Status::success()
    }
}

// ------------------------------------------------------------------------------------------------
// Scoring.

/// Upstream `scoreMap`: topology key → value → score. Unlike the filter counts, entries that sum
/// to zero are kept.
type ScoreMap = BTreeMap<String, BTreeMap<String, i64>>;

/// Upstream `scoreMap.processTerm`.
fn process_term(m: &mut ScoreMap, cluster: &ClusterState, term: &Term<'_>, target: &Pod, node: &Labels, mul: i64) {
    if !term.matches(cluster, target) {
        return;
    }
    let key = term.topology_key();
    let Some(tv) = node.get(key) else {
        return;
    };
    if !m.contains_key(key) {
        m.insert(key.to_string(), BTreeMap::new());
    }
    if let Some(inner) = m.get_mut(key) {
        match inner.get_mut(tv) {
            Some(s) => *s += term.weight * mul,
            None => {
                inner.insert(tv.clone(), term.weight * mul);
            }
        }
    }
}

/// The incoming pod and its preferred terms, for PreScore.
struct Incoming<'a> {
    pod: &'a Pod,
    affinity: Vec<Term<'a>>,
    anti_affinity: Vec<Term<'a>>,
}

impl InterPodAffinity {
    /// Upstream `processExistingPod`.
    fn process_existing_pod(
        &self,
        m: &mut ScoreMap,
        cluster: &ClusterState,
        inc: &Incoming<'_>,
        existing: &Pod,
        node: &Labels,
    ) {
        if node.is_empty() {
            return;
        }
        // The incoming pod's preferred terms matched by the existing pod.
        for t in &inc.affinity {
            process_term(m, cluster, t, existing, node, 1);
        }
        for t in &inc.anti_affinity {
            process_term(m, cluster, t, existing, node, -1);
        }
        // The existing pod's terms matched by the incoming pod.
        let a = &existing.affinity;
        let hard = self.args.hard_pod_affinity_weight as i64;
        if hard > 0 {
            for t in required(&a.pod_affinity) {
                process_term(m, cluster, &Term::new(existing, t, hard), inc.pod, node, 1);
            }
        }
        for t in preferred_terms(existing, &a.pod_affinity) {
            process_term(m, cluster, &t, inc.pod, node, 1);
        }
        for t in preferred_terms(existing, &a.pod_anti_affinity) {
            process_term(m, cluster, &t, inc.pod, node, -1);
        }
    }
}

impl ScorePlugin for InterPodAffinity {
    fn pre_score(&self, state: &mut CycleState, cluster: &ClusterState, pod: &Pod, nodes: &[NodeId]) -> Status {
        if nodes.is_empty() {
            return Status::skip();
        }
        let inc = Incoming {
            pod,
            affinity: preferred_terms(pod, &pod.affinity.pod_affinity),
            anti_affinity: preferred_terms(pod, &pod.affinity.pod_anti_affinity),
        };
        let has_constraints = !inc.affinity.is_empty() || !inc.anti_affinity.is_empty();
        // Optionally ignore the existing pods' terms when the incoming pod has no preferences.
        if self.args.ignore_preferred_terms_of_existing_pods && !has_constraints {
            return Status::skip();
        }
        let mut m = ScoreMap::new();
        let mut visit = |node: &NodeState, pods: &[PodId]| {
            for pid in pods {
                self.process_existing_pod(&mut m, cluster, &inc, &cluster.pod(*pid).pod, &node.node.labels);
            }
        };
        if has_constraints {
            // The incoming pod's preferred terms can match any pod.
            for node in cluster.nodes() {
                visit(node, &node.pods);
            }
        } else {
            // Only the existing pods' own terms can contribute.
            for id in cluster.nodes_with_affinity_pods() {
                let node = cluster.node(*id);
                visit(node, &node.pods_with_affinity);
            }
        }
        if m.is_empty() {
            return Status::skip();
        }
        state.write(PRE_SCORE_STATE_KEY, m);
        Status::success()
    }

    fn score(&self, state: &CycleState, _: &ClusterState, _: &Pod, node: &NodeState) -> Result<i64, Status> {
        let Some(m) = state.read::<ScoreMap>(PRE_SCORE_STATE_KEY) else {
            return Err(Status::error(format!("reading {PRE_SCORE_STATE_KEY:?} from cycleState: not found")));
        };
        let labels = &node.node.labels;
        Ok(m.iter().filter_map(|(key, values)| labels.get(key).and_then(|v| values.get(v))).sum())
    }

    fn normalize_scores(&self, state: &CycleState, _: &Pod, scores: &mut [i64]) -> Status {
        let Some(m) = state.read::<ScoreMap>(PRE_SCORE_STATE_KEY) else {
            return Status::error(format!("reading {PRE_SCORE_STATE_KEY:?} from cycleState: not found"));
        };
        if m.is_empty() {
            return Status::success();
        }
        normalize(scores);
        Status::success()
    }
}

/// Upstream v1.33 `NormalizeScore`: min/max start at MaxInt64/MinInt64; with `diff = max − min`,
/// `int64(float64(MaxNodeScore) * (float64(s − min) / float64(diff)))` (the division first, as
/// upstream parenthesises it), or 0 for every node when `diff == 0`.
fn normalize(scores: &mut [i64]) {
    let mut min = i64::MAX;
    let mut max = i64::MIN;
    for s in scores.iter() {
        max = max.max(*s);
        min = min.min(*s);
    }
    let diff = max.wrapping_sub(min);
    for s in scores.iter_mut() {
        let mut f = 0.0f64;
        if diff > 0 {
            f = MAX_NODE_SCORE as f64 * ((*s - min) as f64 / diff as f64);
        }
        *s = f as i64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::SimTime;
    use crate::model::node::Node;
    use crate::model::selector::{LabelSelector, LabelSelectorRequirement, SelectorOperator};
    use crate::scheduler::framework::Code;
    use crate::scheduler::testing::{make_node, make_pod};

    const HOST: &str = "kubernetes.io/hostname";
    const ZONE: &str = "zone";
    const REGION: &str = "region";

    fn labels(l: &[(&str, &str)]) -> Labels {
        l.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// A node with the hostname label and the given labels.
    fn node(name: &str, l: &[(&str, &str)]) -> Node {
        let mut n = make_node(name, 64_000, 1 << 36, 110).node;
        n.labels.extend(labels(l));
        n
    }

    /// A pod in `default` with the given labels.
    fn pod(name: &str, l: &[(&str, &str)]) -> Pod {
        let mut p = make_pod(name, &[]);
        p.labels = labels(l);
        p
    }

    fn in_ns(mut p: Pod, ns: &str) -> Pod {
        p.namespace = ns.into();
        p
    }

    fn match_labels(l: &[(&str, &str)]) -> Option<LabelSelector> {
        Some(LabelSelector { match_labels: labels(l), match_expressions: vec![] })
    }

    fn expr(key: &str, op: SelectorOperator, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn exprs(e: Vec<LabelSelectorRequirement>) -> Option<LabelSelector> {
        Some(LabelSelector { match_labels: Labels::new(), match_expressions: e })
    }

    /// A term selecting pods with these labels across `key`.
    fn term(l: &[(&str, &str)], key: &str) -> PodAffinityTerm {
        PodAffinityTerm { label_selector: match_labels(l), topology_key: key.into(), ..Default::default() }
    }

    fn weighted(weight: i32, t: PodAffinityTerm) -> WeightedPodAffinityTerm {
        WeightedPodAffinityTerm { weight, pod_affinity_term: t }
    }

    fn req(terms: Vec<PodAffinityTerm>) -> Option<PodAffinity> {
        Some(PodAffinity { required_during_scheduling_ignored_during_execution: terms, ..Default::default() })
    }

    fn pref(terms: Vec<WeightedPodAffinityTerm>) -> Option<PodAffinity> {
        Some(PodAffinity { preferred_during_scheduling_ignored_during_execution: terms, ..Default::default() })
    }

    fn with_affinity(mut p: Pod, a: Option<PodAffinity>) -> Pod {
        p.affinity.pod_affinity = a;
        p
    }

    fn with_anti(mut p: Pod, a: Option<PodAffinity>) -> Pod {
        p.affinity.pod_anti_affinity = a;
        p
    }

    /// A cluster with these nodes and these pods bound to the named nodes.
    fn cluster(nodes: Vec<Node>, pods: Placed) -> ClusterState {
        let mut c = ClusterState::new();
        for n in nodes {
            c.add_node(n).unwrap();
        }
        for (p, n) in pods {
            let id = c.add_pod(p, SimTime::ZERO).unwrap();
            let node = c.node_id(n).unwrap();
            c.bind(id, node, SimTime::ZERO).unwrap();
        }
        crate::cluster::invariants::check(&c).unwrap();
        c
    }

    /// Runs PreFilter then Filter on every node (in id order): the PreFilter code and each
    /// node's (code, reasons). A skipped Filter passes every node.
    fn filter_all(pl: &InterPodAffinity, c: &ClusterState, p: &Pod) -> (Code, Vec<(Code, Vec<String>)>) {
        let mut state = CycleState::new();
        let (st, nodes) = pl.pre_filter(&mut state, c, p);
        assert_eq!(nodes, None);
        let per_node = c
            .nodes()
            .iter()
            .map(|n| {
                if st.code == Code::Skip {
                    (Code::Success, vec![])
                } else {
                    let s = pl.filter(&state, c, p, n);
                    (s.code, s.reasons)
                }
            })
            .collect();
        (st.code, per_node)
    }

    /// Runs PreScore, Score and NormalizeScore over all nodes (in id order) as feasible nodes;
    /// `None` when PreScore skips.
    fn score_all(pl: &InterPodAffinity, c: &ClusterState, p: &Pod) -> Option<Vec<i64>> {
        let ids: Vec<NodeId> = (0..c.nodes().len() as u32).map(NodeId).collect();
        let mut state = CycleState::new();
        let st = pl.pre_score(&mut state, c, p, &ids);
        if st.code == Code::Skip {
            return None;
        }
        assert!(st.is_success(), "{st:?}");
        let mut scores: Vec<i64> = ids.iter().map(|id| pl.score(&state, c, p, c.node(*id)).unwrap()).collect();
        assert!(pl.normalize_scores(&state, p, &mut scores).is_success());
        Some(scores)
    }

    const OK: Code = Code::Success;
    const AFF: (Code, &str) = (Code::UnschedulableAndUnresolvable, ERR_REASON_AFFINITY_RULES_NOT_MATCH);
    const ANTI: (Code, &str) = (Code::Unschedulable, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
    const EXISTING: (Code, &str) = (Code::Unschedulable, ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH);

    /// Pods with the names of the nodes they are bound to.
    type Placed = Vec<(Pod, &'static str)>;

    /// Expected per-node filter results: `None` passes, `Some((code, reason))` fails so.
    type Want = Vec<Option<(Code, &'static str)>>;

    fn check_filter(name: &str, c: &ClusterState, p: &Pod, want_pre: Code, want: Want) {
        let (pre, got) = filter_all(&InterPodAffinity::default(), c, p);
        assert_eq!(pre, want_pre, "{name}: PreFilter");
        let want: Vec<(Code, Vec<String>)> = want
            .into_iter()
            .map(|w| match w {
                None => (OK, vec![]),
                Some((code, r)) => (code, vec![r.to_string()]),
            })
            .collect();
        assert_eq!(got, want, "{name}");
    }

    fn three_nodes_two_regions() -> Vec<Node> {
        vec![node("n1", &[(REGION, "r1")]), node("n2", &[(REGION, "r1")]), node("n3", &[(REGION, "r2")])]
    }

    #[test]
    fn required_affinity_passes_the_topology_of_a_matching_pod_and_fails_elsewhere_as_unresolvable() {
        // After upstream's "satisfies with requiredDuringSchedulingIgnoredDuringExecution in
        // PodAffinity using In operator that matches the existing pod" and "A pod can be scheduled
        // onto all the nodes that have the same topology key & label value with one of them has
        // an existing pod that matches the affinity rules".
        let security = [("service", "securityscan")];
        let in_op = exprs(vec![expr("service", SelectorOperator::In, &["securityscan", "value2"])]);
        let not_in = exprs(vec![expr("service", SelectorOperator::NotIn, &["securityscan3", "value3"])]);
        let anded = exprs(vec![
            expr("service", SelectorOperator::Exists, &[]),
            expr("wrongkey", SelectorOperator::DoesNotExist, &[]),
            expr("service", SelectorOperator::In, &["securityscan2"]),
        ]);
        let cases: Vec<(&str, Option<LabelSelector>, Pod, Want)> = vec![
            ("an In selector matching the existing pod", in_op, pod("e", &security), vec![None, None, Some(AFF)]),
            ("a NotIn selector matching the existing pod", not_in, pod("e", &security), vec![None, None, Some(AFF)]),
            (
                "a selector the existing pod does not match",
                match_labels(&[("service", "antivirusscan")]),
                pod("e", &security),
                vec![Some(AFF), Some(AFF), Some(AFF)],
            ),
            (
                "ANDed expressions one of which does not match",
                anded,
                pod("e", &security),
                vec![Some(AFF), Some(AFF), Some(AFF)],
            ),
            (
                "a matching pod in another namespace",
                match_labels(&security),
                in_ns(pod("e", &security), "other"),
                vec![Some(AFF), Some(AFF), Some(AFF)],
            ),
        ];
        for (name, sel, existing, want) in cases {
            let c = cluster(three_nodes_two_regions(), vec![(existing, "n1")]);
            let t = PodAffinityTerm { label_selector: sel, topology_key: REGION.into(), ..Default::default() };
            let incoming = with_affinity(pod("p", &[]), req(vec![t]));
            check_filter(name, &c, &incoming, OK, want);
        }
    }

    #[test]
    fn the_first_pod_of_a_group_with_affinity_to_itself_may_go_to_any_node_with_the_topology_keys() {
        // Upstream: "The affinity rule is to schedule all of the pods of this collection to the
        // same zone. The first pod of the collection should not be blocked from being scheduled
        // onto any node, even there's no existing pod that matches the rule anywhere." and "The
        // first pod of the collection can only be scheduled on nodes labelled with the requested
        // topology keys".
        let nodes = || {
            vec![
                node("n1", &[(ZONE, "z1"), (REGION, "r1")]),
                node("n2", &[(ZONE, "z2"), (REGION, "r1")]),
                node("n3", &[(ZONE, "z3")]),
            ]
        };
        let group = [("app", "db")];
        let terms = || vec![term(&group, ZONE), term(&group, REGION)];
        let cases: Vec<(&str, Pod, Placed, Want)> = vec![
            (
                "no pod matches and the pod matches its own terms",
                with_affinity(pod("p", &group), req(terms())),
                vec![(pod("other", &[("app", "web")]), "n1")],
                vec![None, None, Some(AFF)],
            ),
            (
                "no pod matches but the pod does not match its own terms",
                with_affinity(pod("p", &[("app", "web")]), req(terms())),
                vec![],
                vec![Some(AFF), Some(AFF), Some(AFF)],
            ),
            (
                "a matching pod exists, so only its topology passes",
                with_affinity(pod("p", &group), req(terms())),
                vec![(pod("db-0", &group), "n2")],
                vec![Some(AFF), None, Some(AFF)],
            ),
            (
                "a matching pod on a node without the keys is not counted, so the group starts afresh",
                with_affinity(pod("p", &group), req(vec![term(&group, REGION)])),
                vec![(pod("db-0", &group), "n3")],
                vec![None, None, Some(AFF)],
            ),
            (
                "a pod counts only when it matches every term",
                with_affinity(pod("p", &[]), req(vec![term(&group, ZONE), term(&[("tier", "be")], ZONE)])),
                vec![
                    (pod("a", &group), "n1"),
                    (pod("b", &[("tier", "be")]), "n1"),
                    (pod("c", &[("app", "db"), ("tier", "be")]), "n2"),
                ],
                vec![Some(AFF), None, Some(AFF)],
            ),
            (
                "a term without a label selector matches nothing, not even the pod itself",
                with_affinity(
                    pod("p", &group),
                    req(vec![PodAffinityTerm { topology_key: ZONE.into(), ..Default::default() }]),
                ),
                vec![(pod("db-0", &group), "n1")],
                vec![Some(AFF), Some(AFF), Some(AFF)],
            ),
        ];
        for (name, incoming, pods, want) in cases {
            check_filter(name, &cluster(nodes(), pods), &incoming, OK, want);
        }
    }

    #[test]
    fn required_anti_affinity_keeps_the_pod_out_of_the_topology_of_matching_pods() {
        let nodes = || {
            vec![node("n1", &[(ZONE, "z1")]), node("n2", &[(ZONE, "z1")]), node("n3", &[(ZONE, "z2")]), node("n4", &[])]
        };
        let web = [("app", "web")];
        let cases: Vec<(&str, Pod, Placed, Want)> = vec![
            (
                "by hostname only the node of the matching pod is excluded",
                with_anti(pod("p", &web), req(vec![term(&web, HOST)])),
                vec![(pod("w0", &web), "n1")],
                vec![Some(ANTI), None, None, None],
            ),
            (
                "by zone the whole zone is excluded and a node without the zone label passes",
                with_anti(pod("p", &web), req(vec![term(&web, ZONE)])),
                vec![(pod("w0", &web), "n1")],
                vec![Some(ANTI), Some(ANTI), None, None],
            ),
            (
                "any matching term excludes the node",
                with_anti(pod("p", &[]), req(vec![term(&[("app", "db")], HOST), term(&web, ZONE)])),
                vec![(pod("w0", &web), "n3"), (pod("d0", &[("app", "db")]), "n4")],
                vec![None, None, Some(ANTI), Some(ANTI)],
            ),
            (
                "a term whose selector matches nothing excludes nothing",
                with_anti(pod("p", &web), req(vec![term(&[("app", "cache")], HOST)])),
                vec![(pod("w0", &web), "n1")],
                vec![None, None, None, None],
            ),
        ];
        for (name, incoming, pods, want) in cases {
            check_filter(name, &cluster(nodes(), pods), &incoming, OK, want);
        }
    }

    #[test]
    fn existing_pods_required_anti_affinity_keeps_a_matching_incoming_pod_away() {
        // Upstream: "verify that PodAntiAffinity from existing pod is respected when pod has no
        // AntiAffinity constraints. doesn't satisfy PodAntiAffinity symmetry with the existing pod"
        // and its "satisfy" twin.
        let nodes = || vec![node("n1", &[(ZONE, "z1")]), node("n2", &[(ZONE, "z1")]), node("n3", &[(ZONE, "z2")])];
        let loner = with_anti(pod("loner", &[("app", "loner")]), req(vec![term(&[("app", "web")], ZONE)]));
        let c = cluster(nodes(), vec![(loner.clone(), "n1")]);
        check_filter(
            "a matching incoming pod avoids the existing pod's zone",
            &c,
            &pod("p", &[("app", "web")]),
            OK,
            vec![Some(EXISTING), Some(EXISTING), None],
        );
        check_filter(
            "a non-matching incoming pod skips the filter",
            &c,
            &pod("p", &[("app", "db")]),
            Code::Skip,
            vec![None, None, None],
        );
        let in_other_ns = in_ns(pod("p", &[("app", "web")]), "other");
        check_filter("the existing term covers only its own namespace", &c, &in_other_ns, Code::Skip, vec![None; 3]);
        // An existing term without a selector matches nothing.
        let no_sel =
            with_anti(pod("x", &[]), req(vec![PodAffinityTerm { topology_key: ZONE.into(), ..Default::default() }]));
        let c = cluster(nodes(), vec![(no_sel, "n1")]);
        check_filter("an existing term without a selector", &c, &pod("p", &[]), Code::Skip, vec![None; 3]);
    }

    #[test]
    fn filter_checks_affinity_then_anti_affinity_then_existing_pods_anti_affinity() {
        let nodes = vec![node("n1", &[(ZONE, "z1")]), node("n2", &[(ZONE, "z2")]), node("n3", &[(ZONE, "z3")])];
        let guard = with_anti(pod("guard", &[("app", "guard")]), req(vec![term(&[("app", "web")], ZONE)]));
        let c = cluster(
            nodes,
            vec![(pod("db", &[("app", "db")]), "n1"), (pod("cache", &[("app", "cache")]), "n2"), (guard, "n2")],
        );
        let mut incoming = with_affinity(pod("p", &[("app", "web")]), req(vec![term(&[("app", "db")], ZONE)]));
        incoming.affinity.pod_anti_affinity = req(vec![term(&[("app", "cache")], ZONE)]);
        // n1: affinity holds, no anti-affinity match → passes. n2: affinity fails first although
        // both anti-affinity checks fail too. n3: affinity fails.
        check_filter("affinity first", &c, &incoming, OK, vec![None, Some(AFF), Some(AFF)]);
        let mut incoming = with_anti(pod("p", &[("app", "web")]), req(vec![term(&[("app", "cache")], ZONE)]));
        incoming.affinity.pod_affinity = None;
        check_filter("then anti-affinity", &c, &incoming, OK, vec![None, Some(ANTI), None]);
    }

    #[test]
    fn namespaces_and_namespace_selectors_choose_the_namespaces_a_term_covers() {
        let nodes = || vec![node("n1", &[]), node("n2", &[])];
        let web = [("app", "web")];
        let t = |namespaces: &[&str], sel: Option<LabelSelector>| PodAffinityTerm {
            label_selector: match_labels(&web),
            namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
            namespace_selector: sel,
            topology_key: HOST.into(),
            ..Default::default()
        };
        let team_a = match_labels(&[("team", "a")]);
        let by_name = exprs(vec![expr(NAMESPACE_NAME_LABEL, SelectorOperator::In, &["undeclared"])]);
        // (name, term, namespace of the existing pod, the existing pod's node is excluded)
        let cases: Vec<(&str, PodAffinityTerm, &str, bool)> = vec![
            ("no namespaces: the pod's own namespace", t(&[], None), "default", true),
            ("no namespaces: not another namespace", t(&[], None), "ns-a", false),
            ("listed namespaces replace the pod's own", t(&["ns-a"], None), "default", false),
            ("a listed namespace", t(&["ns-a"], None), "ns-a", true),
            ("a selector matching a declared namespace's labels", t(&[], team_a.clone()), "ns-a", true),
            ("a selector not matching the namespace's labels", t(&[], team_a.clone()), "ns-b", false),
            ("a selector alone does not add the pod's own namespace", t(&[], team_a.clone()), "default", false),
            ("namespaces and selector are a union", t(&["default"], team_a), "default", true),
            ("the empty selector selects every namespace", t(&[], Some(LabelSelector::default())), "ns-b", true),
            (
                "the empty selector selects undeclared namespaces",
                t(&[], Some(LabelSelector::default())),
                "undeclared",
                true,
            ),
            ("an undeclared namespace has its name label", t(&[], by_name.clone()), "undeclared", true),
            ("and no other label", t(&[], by_name), "ns-a", false),
        ];
        for (name, term, ns, excluded) in cases {
            let mut c = cluster(nodes(), vec![(in_ns(pod("e", &web), ns), "n1")]);
            c.set_namespace("ns-a", labels(&[("team", "a"), (NAMESPACE_NAME_LABEL, "ns-a")]));
            c.set_namespace("ns-b", labels(&[("team", "b"), (NAMESPACE_NAME_LABEL, "ns-b")]));
            let want = vec![excluded.then_some(ANTI), None];
            let incoming = with_anti(pod("p", &[]), req(vec![term.clone()]));
            check_filter(&format!("incoming term: {name}"), &c, &incoming, OK, want);

            // The same term on an existing pod in `default`, matched against an incoming pod in `ns`.
            let owner = with_anti(pod("owner", &[]), req(vec![term]));
            let mut c = cluster(nodes(), vec![(owner, "n1")]);
            c.set_namespace("ns-a", labels(&[("team", "a"), (NAMESPACE_NAME_LABEL, "ns-a")]));
            c.set_namespace("ns-b", labels(&[("team", "b"), (NAMESPACE_NAME_LABEL, "ns-b")]));
            let (pre, want) = if excluded { (OK, vec![Some(EXISTING), None]) } else { (Code::Skip, vec![None, None]) };
            check_filter(&format!("existing term: {name}"), &c, &in_ns(pod("p", &web), ns), pre, want);
        }
    }

    #[test]
    fn match_label_keys_and_mismatch_label_keys_merge_the_owners_label_values() {
        let nodes = || vec![node("n1", &[]), node("n2", &[]), node("n3", &[])];
        let existing = || {
            vec![
                (pod("v1", &[("app", "web"), ("version", "v1"), ("tenant", "a")]), "n1"),
                (pod("v2", &[("app", "web"), ("version", "v2"), ("tenant", "b")]), "n2"),
            ]
        };
        // Spread only among pods of the same version.
        let same_version = PodAffinityTerm {
            label_selector: match_labels(&[("app", "web")]),
            topology_key: HOST.into(),
            match_label_keys: vec!["version".into()],
            ..Default::default()
        };
        let incoming = with_anti(pod("p", &[("app", "web"), ("version", "v1")]), req(vec![same_version.clone()]));
        check_filter(
            "matchLabelKeys adds version In [v1]",
            &cluster(nodes(), existing()),
            &incoming,
            OK,
            vec![Some(ANTI), None, None],
        );
        // A key the pod does not carry is ignored.
        let incoming = with_anti(pod("p", &[("app", "web")]), req(vec![same_version.clone()]));
        check_filter(
            "a missing key is ignored",
            &cluster(nodes(), existing()),
            &incoming,
            OK,
            vec![Some(ANTI), Some(ANTI), None],
        );
        // Keep away from other tenants: tenant Exists, tenant NotIn [a].
        let other_tenants = PodAffinityTerm {
            label_selector: exprs(vec![expr("tenant", SelectorOperator::Exists, &[])]),
            topology_key: HOST.into(),
            mismatch_label_keys: vec!["tenant".into()],
            ..Default::default()
        };
        let incoming = with_anti(pod("p", &[("tenant", "a")]), req(vec![other_tenants]));
        check_filter(
            "mismatchLabelKeys adds tenant NotIn [a]",
            &cluster(nodes(), existing()),
            &incoming,
            OK,
            vec![None, Some(ANTI), None],
        );
        // On an existing pod, the owner's values are merged (as the API server did when it was
        // created), not the incoming pod's.
        let owner = with_anti(pod("owner", &[("app", "web"), ("version", "v1")]), req(vec![same_version]));
        let c = cluster(nodes(), vec![(owner, "n3")]);
        check_filter(
            "existing term, same version",
            &c,
            &pod("p", &[("app", "web"), ("version", "v1")]),
            OK,
            vec![None, None, Some(EXISTING)],
        );
        check_filter(
            "existing term, other version",
            &c,
            &pod("p", &[("app", "web"), ("version", "v2")]),
            Code::Skip,
            vec![None; 3],
        );
    }

    #[test]
    fn pre_filter_skips_only_without_required_terms_and_without_matching_existing_anti_affinity() {
        let c = cluster(vec![node("n1", &[])], vec![(pod("e", &[("app", "web")]), "n1")]);
        let pl = InterPodAffinity::default();
        let cases: Vec<(&str, Pod, Code)> = vec![
            ("no affinity at all", pod("p", &[]), Code::Skip),
            (
                "only preferred terms",
                with_affinity(pod("p", &[]), pref(vec![weighted(5, term(&[("a", "b")], HOST))])),
                Code::Skip,
            ),
            ("a required affinity term", with_affinity(pod("p", &[]), req(vec![term(&[("a", "b")], HOST)])), OK),
            ("a required anti-affinity term", with_anti(pod("p", &[]), req(vec![term(&[("a", "b")], HOST)])), OK),
        ];
        for (name, p, want) in cases {
            let (st, _) = pl.pre_filter(&mut CycleState::new(), &c, &p);
            assert_eq!(st.code, want, "{name}");
        }
    }

    #[test]
    fn an_invalid_selector_in_any_term_fails_pre_filter_as_unresolvable() {
        // Upstream: "PodAffinity fails PreFilter with an invalid affinity label syntax".
        let c = cluster(vec![node("n1", &[])], vec![]);
        let bad = exprs(vec![expr("service", SelectorOperator::In, &[])]);
        let bad_term = PodAffinityTerm { label_selector: bad.clone(), topology_key: HOST.into(), ..Default::default() };
        let bad_ns = PodAffinityTerm { namespace_selector: bad, ..term(&[("a", "b")], HOST) };
        let cases: Vec<(&str, Pod)> = vec![
            ("required affinity", with_affinity(pod("p", &[]), req(vec![bad_term.clone()]))),
            ("required anti-affinity", with_anti(pod("p", &[]), req(vec![bad_term.clone()]))),
            ("preferred affinity", with_affinity(pod("p", &[]), pref(vec![weighted(1, bad_term.clone())]))),
            ("preferred anti-affinity", with_anti(pod("p", &[]), pref(vec![weighted(1, bad_term)]))),
            ("a namespace selector", with_anti(pod("p", &[]), req(vec![bad_ns]))),
        ];
        for (name, p) in cases {
            let (st, _) = InterPodAffinity::default().pre_filter(&mut CycleState::new(), &c, &p);
            assert_eq!(st.code, Code::UnschedulableAndUnresolvable, "{name}");
            assert!(st.reasons[0].starts_with("parsing pod: "), "{name}: {:?}", st.reasons);
        }
    }

    // --------------------------------------------------------------------------------------------
    // Scoring.

    fn score_with(pl: &InterPodAffinity, nodes: Vec<Node>, pods: Placed, p: &Pod) -> Option<Vec<i64>> {
        score_all(pl, &cluster(nodes, pods), p)
    }

    #[test]
    fn preferred_affinity_and_anti_affinity_score_by_matching_pods_per_topology() {
        let s1 = [("security", "S1")];
        let s2 = [("security", "S2")];
        let china = [(REGION, "China")];
        let india = [(REGION, "India")];
        let china_az1 = [(REGION, "China"), ("az", "az1")];
        let az1 = [("az", "az1")];
        let stay_with_s1_in_region = || pref(vec![weighted(5, term(&s1, REGION))]);
        // (name, incoming pod, nodes, existing pods, normalised scores)
        type ScoreCase = (&'static str, Pod, Vec<Node>, Placed, Vec<i64>);
        let cases: Vec<ScoreCase> = vec![
            (
                // Upstream's case of this name.
                "Affinity: pod that matches topology key & pods in nodes will get high score comparing to others which doesn't match either pods in nodes or in topology key",
                with_affinity(pod("p", &s1), stay_with_s1_in_region()),
                vec![node("n1", &china), node("n2", &india), node("n3", &az1)],
                vec![(pod("e", &s1), "n1")],
                vec![100, 0, 0],
            ),
            (
                // Upstream's case of this name.
                "All the nodes that have the same topology key & label value with one of them has an existing pod that match the affinity rules, have the same score",
                with_affinity(pod("p", &s2), pref(vec![weighted(6, term(&s2, REGION))])),
                vec![node("n1", &china), node("n2", &china_az1), node("n3", &india)],
                vec![(pod("e", &s2), "n1")],
                vec![100, 100, 0],
            ),
            (
                "a region with more matching pods scores higher: 10, 10, 5, 0",
                with_affinity(pod("p", &s1), stay_with_s1_in_region()),
                vec![node("n1", &china), node("n2", &china), node("n3", &india), node("n4", &az1)],
                vec![(pod("a", &s1), "n1"), (pod("b", &s1), "n2"), (pod("c", &s1), "n3"), (pod("d", &s2), "n4")],
                vec![100, 100, 50, 0],
            ),
            (
                // Upstream's case of this name: −5 and 0.
                "Anti Affinity: pod that does not match existing pods in node will get high score",
                with_anti(pod("p", &s1), pref(vec![weighted(5, term(&s1, "az"))])),
                vec![node("n1", &az1), node("n2", &china)],
                vec![(pod("a", &s1), "n1"), (pod("b", &s2), "n2")],
                vec![0, 100],
            ),
            (
                "affinity and anti-affinity add up: +5 −3 = 2, −3, 0",
                {
                    let mut p = with_affinity(pod("p", &s1), stay_with_s1_in_region());
                    p.affinity.pod_anti_affinity = pref(vec![weighted(3, term(&s2, HOST))]);
                    p
                },
                vec![node("n1", &china), node("n2", &india), node("n3", &india)],
                vec![(pod("a", &s1), "n1"), (pod("b", &s2), "n1"), (pod("c", &s2), "n2")],
                // Raw 2, −3, 0: min −3, diff 5.
                vec![100, 0, 60],
            ),
        ];
        for (name, p, nodes, pods, want) in cases {
            assert_eq!(score_with(&InterPodAffinity::default(), nodes, pods, &p), Some(want), "{name}");
        }
    }

    #[test]
    fn existing_pods_terms_score_the_incoming_pod_symmetrically() {
        let s1 = [("security", "S1")];
        let nodes =
            || vec![node("n1", &[(REGION, "China")]), node("n2", &[(REGION, "India")]), node("n3", &[("az", "az1")])];
        let cases: Vec<(&str, Pod, Vec<i64>)> = vec![
            (
                "an existing pod's preferred affinity raises its region",
                with_affinity(pod("e", &[]), pref(vec![weighted(5, term(&s1, REGION))])),
                vec![100, 0, 0],
            ),
            (
                "an existing pod's preferred anti-affinity lowers its region",
                with_anti(pod("e", &[]), pref(vec![weighted(5, term(&s1, REGION))])),
                vec![0, 100, 100],
            ),
            (
                // Upstream: "Hard Pod Affinity symmetry: hard pod affinity symmetry weights 1 by
                // default, then nodes that match the hard pod affinity symmetry rules, get a high score".
                "an existing pod's required affinity adds hardPodAffinityWeight",
                with_affinity(pod("e", &[]), req(vec![term(&s1, REGION)])),
                vec![100, 0, 0],
            ),
            (
                "an existing pod's required anti-affinity does not score",
                with_anti(pod("e", &[]), req(vec![term(&s1, REGION)])),
                vec![],
            ),
        ];
        for (name, existing, want) in cases {
            let got = score_with(&InterPodAffinity::default(), nodes(), vec![(existing, "n1")], &pod("p", &s1));
            let want = (!want.is_empty()).then_some(want);
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn hard_pod_affinity_weight_scales_the_existing_pods_required_affinity() {
        let inc = [("app", "in")];
        let nodes = || vec![node("n1", &[(ZONE, "z1")]), node("n2", &[(ZONE, "z2")]), node("n3", &[(ZONE, "z3")])];
        let pods = || {
            vec![
                (with_affinity(pod("hard", &[]), req(vec![term(&inc, ZONE)])), "n1"),
                (with_affinity(pod("soft", &[]), pref(vec![weighted(3, term(&inc, ZONE))])), "n2"),
            ]
        };
        // hardPodAffinityWeight → normalised scores of raw [w, 3, 0].
        let cases = [(1, vec![33, 100, 0]), (6, vec![100, 50, 0]), (3, vec![100, 100, 0]), (0, vec![0, 100, 0])];
        for (w, want) in cases {
            let args = InterPodAffinityArgs { hard_pod_affinity_weight: w, ..Default::default() };
            let pl = InterPodAffinity::new(args).unwrap();
            assert_eq!(score_with(&pl, nodes(), pods(), &pod("p", &inc)), Some(want), "hardPodAffinityWeight {w}");
        }
        // Upstream: "Hard Pod Affinity symmetry: hard pod affinity symmetry is closed(weights 0),
        // then nodes that match the hard pod affinity symmetry rules, get same score with those
        // not match" — nothing contributes, so PreScore skips.
        let pl =
            InterPodAffinity::new(InterPodAffinityArgs { hard_pod_affinity_weight: 0, ..Default::default() }).unwrap();
        let only_hard = vec![(with_affinity(pod("hard", &[]), req(vec![term(&inc, ZONE)])), "n1")];
        assert_eq!(score_with(&pl, nodes(), only_hard, &pod("p", &inc)), None);
    }

    #[test]
    fn ignore_preferred_terms_of_existing_pods_skips_only_when_the_incoming_pod_has_no_preferences() {
        let s1 = [("security", "S1")];
        let nodes = || vec![node("n1", &[(ZONE, "z1")]), node("n2", &[(ZONE, "z2")])];
        let pods = || vec![(with_affinity(pod("e", &[]), pref(vec![weighted(5, term(&s1, ZONE))])), "n1")];
        let pl = InterPodAffinity::new(InterPodAffinityArgs {
            ignore_preferred_terms_of_existing_pods: true,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(score_with(&pl, nodes(), pods(), &pod("p", &s1)), None);
        // With a preference of its own (matching nothing), the existing pods' terms still count.
        let p = with_affinity(pod("p", &s1), pref(vec![weighted(1, term(&[("none", "x")], ZONE))]));
        assert_eq!(score_with(&pl, nodes(), pods(), &p), Some(vec![100, 0]));
        assert_eq!(score_with(&InterPodAffinity::default(), nodes(), pods(), &pod("p", &s1)), Some(vec![100, 0]));
    }

    #[test]
    fn pre_score_skips_when_nothing_can_contribute() {
        let s1 = [("security", "S1")];
        let nodes = || vec![node("n1", &[(ZONE, "z1")]), node("n2", &[(ZONE, "z2")])];
        let pl = InterPodAffinity::default();
        let cases: Vec<(&str, Placed, Pod)> = vec![
            ("no terms anywhere", vec![(pod("e", &s1), "n1")], pod("p", &s1)),
            (
                "preferred terms matching no pod",
                vec![(pod("e", &[]), "n1")],
                with_affinity(pod("p", &s1), pref(vec![weighted(5, term(&s1, ZONE))])),
            ),
            (
                "a matching pod on a node without the topology key",
                vec![(pod("e", &s1), "n1")],
                with_affinity(pod("p", &s1), pref(vec![weighted(5, term(&s1, "rack"))])),
            ),
            (
                "existing terms the incoming pod does not match",
                vec![(with_affinity(pod("e", &[]), pref(vec![weighted(5, term(&s1, ZONE))])), "n1")],
                pod("p", &[]),
            ),
            (
                "only required affinity on the incoming pod",
                vec![(pod("e", &s1), "n1")],
                with_affinity(pod("p", &s1), req(vec![term(&s1, ZONE)])),
            ),
        ];
        for (name, pods, p) in cases {
            assert_eq!(score_with(&pl, nodes(), pods, &p), None, "{name}");
        }
        let c = cluster(nodes(), vec![(pod("e", &s1), "n1")]);
        let p = with_affinity(pod("p", &s1), pref(vec![weighted(5, term(&s1, ZONE))]));
        assert_eq!(pl.pre_score(&mut CycleState::new(), &c, &p, &[]).code, Code::Skip, "no feasible nodes");
    }

    #[test]
    fn normalisation_maps_min_to_0_and_max_to_100_dividing_before_multiplying() {
        // (raw, normalised); the division happens first, as upstream writes it:
        // 100 * (29/100) = 28.999999999999996 → 28.
        let cases: Vec<(Vec<i64>, Vec<i64>)> = vec![
            (vec![0, 29, 100], vec![0, 28, 100]),
            (vec![-5, 0, 5], vec![0, 50, 100]),
            (vec![1, 2, 4], vec![0, 33, 100]),
            (vec![7, 7, 7], vec![0, 0, 0]),
            (vec![0, 0], vec![0, 0]),
            (vec![-3, -3], vec![0, 0]),
            (vec![42], vec![0]),
            (vec![], vec![]),
        ];
        for (raw, want) in cases {
            let mut s = raw.clone();
            normalize(&mut s);
            assert_eq!(s, want, "{raw:?}");
        }
    }

    #[test]
    fn all_equal_scores_normalise_to_zero_through_the_plugin() {
        let s1 = [("security", "S1")];
        let nodes = vec![node("n1", &[(REGION, "r1")]), node("n2", &[(REGION, "r1")])];
        let p = with_affinity(pod("p", &s1), pref(vec![weighted(5, term(&s1, REGION))]));
        assert_eq!(score_with(&InterPodAffinity::default(), nodes, vec![(pod("e", &s1), "n1")], &p), Some(vec![0, 0]));
    }

    #[test]
    fn a_preferred_term_with_an_empty_namespace_selector_counts_pods_in_every_namespace() {
        let s1 = [("security", "S1")];
        let nodes = || vec![node("n1", &[(ZONE, "z1")]), node("n2", &[(ZONE, "z2")])];
        let pods = || vec![(in_ns(pod("e", &s1), "elsewhere"), "n1")];
        let mut t = term(&s1, ZONE);
        let p = with_affinity(pod("p", &[]), pref(vec![weighted(5, t.clone())]));
        assert_eq!(score_with(&InterPodAffinity::default(), nodes(), pods(), &p), None);
        t.namespace_selector = Some(LabelSelector::default());
        let p = with_affinity(pod("p", &[]), pref(vec![weighted(5, t)]));
        assert_eq!(score_with(&InterPodAffinity::default(), nodes(), pods(), &p), Some(vec![100, 0]));
    }

    #[test]
    fn terminated_pods_no_longer_count() {
        let web = [("app", "web")];
        let owner = with_anti(pod("owner", &web), req(vec![term(&web, HOST)]));
        let mut c = cluster(vec![node("n1", &[]), node("n2", &[])], vec![(owner, "n1")]);
        let incoming = pod("p", &web);
        check_filter("before", &c, &incoming, OK, vec![Some(EXISTING), None]);
        let id = c.pod_id("default", "owner").unwrap();
        c.terminate(id, crate::cluster::PodPhase::Deleted, SimTime::ZERO);
        crate::cluster::invariants::check(&c).unwrap();
        assert!(c.nodes_with_required_anti_affinity_pods().is_empty());
        assert!(c.nodes_with_affinity_pods().is_empty());
        check_filter("after", &c, &incoming, Code::Skip, vec![None, None]);
    }

    // --------------------------------------------------------------------------------------------
    // Arguments, registry, and the whole cycle.

    #[test]
    fn args_default_deserialise_and_validate_as_upstream() {
        assert_eq!(
            InterPodAffinityArgs::default(),
            InterPodAffinityArgs { hard_pod_affinity_weight: 1, ignore_preferred_terms_of_existing_pods: false }
        );
        let a: InterPodAffinityArgs = serde_json::from_str("{}").unwrap();
        assert_eq!(a, InterPodAffinityArgs::default());
        let a: InterPodAffinityArgs =
            serde_json::from_str(r#"{"hardPodAffinityWeight": 100, "ignorePreferredTermsOfExistingPods": true}"#)
                .unwrap();
        assert_eq!(
            a,
            InterPodAffinityArgs { hard_pod_affinity_weight: 100, ignore_preferred_terms_of_existing_pods: true }
        );
        assert!(serde_json::from_str::<InterPodAffinityArgs>(r#"{"hardPodAffinityWeights": 1}"#).is_err());
        for w in [0, 1, 100] {
            let args = InterPodAffinityArgs { hard_pod_affinity_weight: w, ..Default::default() };
            assert_eq!(InterPodAffinity::new(args.clone()).unwrap().args(), &args);
        }
        for w in [-1, 101] {
            let err = InterPodAffinity::new(InterPodAffinityArgs { hard_pod_affinity_weight: w, ..Default::default() })
                .unwrap_err();
            assert_eq!(err, format!("hardPodAffinityWeight: Invalid value: {w}: not in valid range [0, 100]"));
        }
    }

    #[test]
    fn the_registry_builds_it_with_prefilter_filter_and_score_at_weight_2_and_parses_its_args() {
        use crate::scheduler::registry;
        assert!(registry::BUILT_IN.contains(&NAME));
        let e = registry::build(NAME).unwrap();
        assert!(e.pre_filter.is_some() && e.filter.is_some() && e.score.is_some());
        assert_eq!(registry::default_weight(NAME), 2);
        let e = registry::build_configured(NAME, &serde_json::json!({"hardPodAffinityWeight": 5})).unwrap().unwrap();
        assert!(e.pre_filter.is_some() && e.filter.is_some() && e.score.is_some());
        let err = registry::build_configured(NAME, &serde_json::json!({"hardPodAffinityWeight": 101})).err().unwrap();
        assert_eq!(
            err,
            "pluginConfig InterPodAffinity: hardPodAffinityWeight: Invalid value: 101: not in valid range [0, 100]"
        );
        assert!(registry::build_configured(NAME, &serde_json::json!({"bogus": 1})).is_err());
    }

    #[test]
    fn a_deployment_with_hostname_anti_affinity_spreads_one_pod_per_node_in_the_default_profile() {
        use crate::engine::rng::stream;
        use crate::scheduler::{CycleOutcome, Profile, Scheduler};
        let mut c = cluster(vec![node("a", &[]), node("b", &[]), node("c", &[])], vec![]);
        let mut s = Scheduler::new(Profile::default_profile(), stream(7, "s"));
        let web = [("app", "web")];
        let mut placed = std::collections::BTreeSet::new();
        for i in 0..4 {
            let p = with_anti(pod(&format!("web-{i}"), &web), req(vec![term(&web, HOST)]));
            match s.schedule_one(&c, &p) {
                CycleOutcome::Selected { node, .. } => {
                    assert!(placed.insert(node), "two pods on one node");
                    let id = c.add_pod(p, SimTime::ZERO).unwrap();
                    c.bind(id, node, SimTime::ZERO).unwrap();
                }
                CycleOutcome::Unschedulable(d) => {
                    assert_eq!(i, 3);
                    assert_eq!(d.message(), "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
                    assert!(d.any_resolvable);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(placed.len(), 3);
    }
}
