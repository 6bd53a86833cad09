//! PodTopologySpread: spreads matching pods across topology domains (zones, hosts, ...) as
//! kube-scheduler v1.33 does (`pkg/scheduler/framework/plugins/podtopologyspread/
//! {common,filtering,scoring,plugin}.go`).
//!
//! * `DoNotSchedule` constraints are enforced by PreFilter + Filter: PreFilter counts, for every
//!   constraint, the matching pods per topology domain over **all** nodes and keeps the two
//!   smallest counts (`criticalPaths`); Filter then checks
//!   `count(node's domain) + selfMatch - minMatch <= maxSkew` per constraint.
//! * `ScheduleAnyway` constraints are scored by PreScore + Score + NormalizeScore: fewer matching
//!   pods in a node's domains give a higher score, each constraint weighted by `ln(size + 2)`
//!   where `size` is the number of its domains among the feasible nodes.
//! * A pod without constraints of its own gets the default constraints (system defaults: hostname
//!   `maxSkew 3` and zone `maxSkew 5`, both `ScheduleAnyway`) with a selector built from the
//!   workload objects that select it; see [`default_selector`].
//!
//! Only PreFilter and PreScore scan pods (through each node's `pods` list); Filter and Score look
//! up precomputed per-domain counts, so they cost O(constraints) map look-ups per node.

use crate::cluster::{ClusterState, NodeId, NodeState, PodId};
use crate::model::affinity::{NodeInclusionPolicy, TopologySpreadConstraint, UnsatisfiableConstraintAction};
use crate::model::node::Node;
use crate::model::pod::Pod;
use crate::model::selector::{
    LabelSelector, LabelSelectorRequirement, Labels, SelectorError, SelectorOperator, node_selector_map_matches,
};
use crate::model::taint::{find_untolerated_taint, is_schedule_blocking};
use crate::scheduler::framework::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, Plugin, PreFilterNodes, PreFilterPlugin, ScorePlugin, Status,
};
use std::collections::BTreeMap;

/// The plugin name.
pub const NAME: &str = "PodTopologySpread";
/// Upstream `ErrReasonConstraintsNotMatch`: the skew of some constraint would exceed `maxSkew`.
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str = "node(s) didn't match pod topology spread constraints";
/// Upstream `ErrReasonNodeLabelNotMatch`: the node lacks a constraint's topology key.
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
/// `v1.LabelHostname`: constraints on this key are counted per node at Score time.
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
/// `v1.LabelTopologyZone`.
pub const LABEL_TOPOLOGY_ZONE: &str = "topology.kubernetes.io/zone";

/// Upstream `preFilterStateKey` (`"PreFilter" + Name`).
const PRE_FILTER_STATE_KEY: &str = "PreFilterPodTopologySpread";
/// Upstream `preScoreStateKey` (`"PreScore" + Name`).
const PRE_SCORE_STATE_KEY: &str = "PreScorePodTopologySpread";

/// `PodTopologySpreadArgs.defaultingType`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub enum DefaultingType {
    /// Use the system default constraints (hostname `maxSkew 3`, zone `maxSkew 5`, both
    /// `ScheduleAnyway`); `defaultConstraints` must then be empty.
    #[default]
    System,
    /// Use `defaultConstraints` as given (an empty list means no default constraints).
    List,
}

impl DefaultingType {
    /// The value as written in a configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            DefaultingType::System => "System",
            DefaultingType::List => "List",
        }
    }
}

/// `PodTopologySpreadArgs` (defaults: `defaultingType: System`, no `defaultConstraints`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodTopologySpreadArgs {
    /// Constraints for pods that have none of their own (only with `defaultingType: List`);
    /// they must not set `labelSelector`, which is deduced for each pod.
    #[serde(default)]
    pub default_constraints: Vec<TopologySpreadConstraint>,
    /// Where the default constraints come from.
    #[serde(default)]
    pub defaulting_type: DefaultingType,
}

/// Upstream `systemDefaultConstraints`.
pub fn system_default_constraints() -> Vec<TopologySpreadConstraint> {
    let soft = |key: &str, max_skew| TopologySpreadConstraint {
        max_skew,
        topology_key: key.into(),
        when_unsatisfiable: UnsatisfiableConstraintAction::ScheduleAnyway,
        label_selector: None,
        min_domains: None,
        node_affinity_policy: None,
        node_taints_policy: None,
        match_label_keys: vec![],
    };
    vec![soft(LABEL_HOSTNAME, 3), soft(LABEL_TOPOLOGY_ZONE, 5)]
}

fn action_str(a: UnsatisfiableConstraintAction) -> &'static str {
    match a {
        UnsatisfiableConstraintAction::DoNotSchedule => "DoNotSchedule",
        UnsatisfiableConstraintAction::ScheduleAnyway => "ScheduleAnyway",
    }
}

/// The reason `key` is not a valid label name (`metav1validation.ValidateLabelName`), if any.
fn label_name_error(key: &str) -> Option<String> {
    let probe = LabelSelector {
        match_labels: Labels::new(),
        match_expressions: vec![LabelSelectorRequirement {
            key: key.into(),
            operator: SelectorOperator::Exists,
            values: vec![],
        }],
    };
    match probe.validate() {
        Err(SelectorError::InvalidKey { reason, .. }) => Some(reason),
        Err(e) => Some(e.to_string()),
        Ok(()) => None,
    }
}

impl PodTopologySpreadArgs {
    /// Upstream `ValidatePodTopologySpreadArgs`, with `field.Error` texts; several errors are
    /// reported as `[e1, e2]` (an `Aggregate`).
    pub fn validate(&self) -> Result<(), String> {
        let mut errs: Vec<String> = Vec::new();
        if self.defaulting_type == DefaultingType::System && !self.default_constraints.is_empty() {
            errs.push(format!(
                "defaultingType: Invalid value: {:?}: when .defaultConstraints are not empty",
                self.defaulting_type.as_str()
            ));
        }
        for (i, c) in self.default_constraints.iter().enumerate() {
            let p = format!("defaultConstraints[{i}]");
            if c.max_skew <= 0 {
                errs.push(format!("{p}.maxSkew: Invalid value: {}: not in valid range", c.max_skew));
            }
            if c.topology_key.is_empty() {
                errs.push(format!("{p}.topologyKey: Required value: can not be empty"));
            } else if let Some(reason) = label_name_error(&c.topology_key) {
                errs.push(format!("{p}.topologyKey: Invalid value: {:?}: {reason}", c.topology_key));
            }
            if c.label_selector.is_some() {
                errs.push(format!(
                    "{p}.labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod"
                ));
            }
            if self.default_constraints[..i]
                .iter()
                .any(|o| o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable)
            {
                errs.push(format!(
                    "{p}: Duplicate value: \"{{{}, {}}}\"",
                    c.topology_key,
                    action_str(c.when_unsatisfiable)
                ));
            }
        }
        match errs.len() {
            0 => Ok(()),
            1 => Err(errs.remove(0)),
            _ => Err(format!("[{}]", errs.join(", "))),
        }
    }
}

/// The PodTopologySpread plugin.
#[derive(Clone, Debug)]
pub struct PodTopologySpread {
    /// The default constraints in force (the system ones with `defaultingType: System`).
    default_constraints: Vec<TopologySpreadConstraint>,
    /// True with `defaultingType: System` (upstream `systemDefaulted`).
    system_defaulted: bool,
}

impl Default for PodTopologySpread {
    fn default() -> Self {
        PodTopologySpread { default_constraints: system_default_constraints(), system_defaulted: true }
    }
}

impl PodTopologySpread {
    /// Builds the plugin from validated arguments.
    pub fn new(args: PodTopologySpreadArgs) -> Result<Self, String> {
        args.validate()?;
        Ok(match args.defaulting_type {
            DefaultingType::System => PodTopologySpread::default(),
            DefaultingType::List => {
                PodTopologySpread { default_constraints: args.default_constraints, system_defaulted: false }
            }
        })
    }
}

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }
}

/// The selector upstream's `helper.DefaultSelector` builds for default constraints: the union
/// of the selectors of the Services, ReplicationControllers, ReplicaSets and StatefulSets that
/// select the pod.
///
/// No workload objects select the pod yet: kubesim models none of those objects, so this is
/// always `None` (upstream: an empty selector), and default constraints therefore produce no
/// constraints at all: PreFilter and PreScore return Skip for a pod without constraints of its own.
pub fn default_selector(_cluster: &ClusterState, _pod: &Pod) -> Option<LabelSelector> {
    None
}

/// A `labels.Selector` as `metav1.LabelSelectorAsSelector` returns it, validated once per cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Selector {
    /// `labels.Nothing()` (a missing `labelSelector`): matches nothing.
    Nothing,
    /// Requirements ANDed (none: `labels.Everything()`).
    Requirements(LabelSelector),
}

impl Selector {
    /// `Selector.Empty()`: true only for a selector without requirements (`labels.Everything()`).
    fn is_empty(&self) -> bool {
        matches!(self, Selector::Requirements(s) if s.is_empty())
    }

    /// `Selector.Matches`, without re-validating (done when the selector was built).
    fn matches(&self, labels: &Labels) -> bool {
        match self {
            Selector::Nothing => false,
            Selector::Requirements(s) => {
                s.match_labels.iter().all(|(k, v)| labels.get(k).is_some_and(|l| l == v))
                    && s.match_expressions.iter().all(|r| r.matches(labels))
            }
        }
    }
}

/// Upstream's internal `topologySpreadConstraint`, with the per-constraint defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Constraint {
    max_skew: i32,
    topology_key: String,
    selector: Selector,
    min_domains: i32,
    node_affinity_policy: NodeInclusionPolicy,
    node_taints_policy: NodeInclusionPolicy,
}

/// Upstream `filterTopologySpreadConstraints`: the constraints with action `action`, with
/// `minDomains` 1, `nodeAffinityPolicy` Honor and `nodeTaintsPolicy` Ignore by default, and the
/// incoming pod's values of `matchLabelKeys` ANDed into the selector as `In` requirements
/// (`mergeLabelSetWithSelector`; keys the pod lacks are ignored, and a missing selector stays
/// `Nothing`).
fn filter_constraints(
    constraints: &[TopologySpreadConstraint],
    pod_labels: &Labels,
    action: UnsatisfiableConstraintAction,
) -> Result<Vec<Constraint>, String> {
    let mut out = Vec::new();
    for c in constraints.iter().filter(|c| c.when_unsatisfiable == action) {
        let mut selector = match &c.label_selector {
            None => Selector::Nothing,
            Some(s) => {
                s.validate().map_err(|e| e.to_string())?;
                Selector::Requirements(s.clone())
            }
        };
        if let Selector::Requirements(s) = &mut selector {
            // A labels.Set: one requirement per distinct key.
            let set: BTreeMap<&str, &str> =
                c.match_label_keys.iter().filter_map(|k| pod_labels.get(k).map(|v| (k.as_str(), v.as_str()))).collect();
            for (k, v) in set {
                s.match_expressions.push(LabelSelectorRequirement {
                    key: k.into(),
                    operator: SelectorOperator::In,
                    values: vec![v.into()],
                });
            }
        }
        out.push(Constraint {
            max_skew: c.max_skew,
            topology_key: c.topology_key.clone(),
            selector,
            min_domains: c.min_domains.unwrap_or(1),
            node_affinity_policy: c.node_affinity_policy.unwrap_or(NodeInclusionPolicy::Honor),
            node_taints_policy: c.node_taints_policy.unwrap_or(NodeInclusionPolicy::Ignore),
        });
    }
    Ok(out)
}

impl PodTopologySpread {
    /// Upstream `getConstraints` (hard) / the first half of `initPreScoreState` (soft): the pod's
    /// own constraints with `action`, or else the default ones (`buildDefaultConstraints`).
    fn constraints(
        &self,
        cluster: &ClusterState,
        pod: &Pod,
        action: UnsatisfiableConstraintAction,
    ) -> Result<Vec<Constraint>, String> {
        let kind = match action {
            UnsatisfiableConstraintAction::DoNotSchedule => "hard",
            UnsatisfiableConstraintAction::ScheduleAnyway => "soft",
        };
        if !pod.topology_spread_constraints.is_empty() {
            return filter_constraints(&pod.topology_spread_constraints, &pod.labels, action)
                .map_err(|e| format!("obtaining pod's {kind} topology spread constraints: {e}"));
        }
        // buildDefaultConstraints. Upstream filters first and builds the selector second; the
        // default constraints cannot fail to filter (they have no selector), so asking for the
        // selector only when some default constraint has this action gives the same result and
        // keeps the common case (no constraints, no workload objects) cheap.
        if !self.default_constraints.iter().any(|c| c.when_unsatisfiable == action) {
            return Ok(vec![]);
        }
        let selector = match default_selector(cluster, pod) {
            Some(s) if !s.is_empty() => s,
            _ => return Ok(vec![]),
        };
        let mut constraints = filter_constraints(&self.default_constraints, &pod.labels, action)
            .map_err(|e| format!("setting default {kind} topology spread constraints: {e}"))?;
        for c in &mut constraints {
            c.selector = Selector::Requirements(selector.clone());
        }
        Ok(constraints)
    }
}

/// Upstream `nodeLabelsMatchSpreadConstraints`: the node has every constraint's topology key.
fn node_has_all_keys(labels: &Labels, constraints: &[Constraint]) -> bool {
    constraints.iter().all(|c| labels.contains_key(&c.topology_key))
}

/// Upstream `countPodsMatchSelector`: the node's assigned pods in namespace `ns` whose labels
/// match. An empty selector (`labelSelector: {}`) counts nothing, as upstream.
fn count_pods_match_selector(cluster: &ClusterState, pods: &[PodId], selector: &Selector, ns: &str) -> i64 {
    if pods.is_empty() || selector.is_empty() || matches!(selector, Selector::Nothing) {
        return 0;
    }
    let n = pods
        .iter()
        .map(|id| cluster.pod(*id))
        .filter(|p| p.is_assigned() && p.pod.namespace == ns && selector.matches(&p.pod.labels))
        .count();
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Upstream `nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)`: the pod's nodeSelector and
/// required node affinity terms.
fn matches_required_node_affinity(pod: &Pod, node: &Node) -> bool {
    node_selector_map_matches(&pod.node_selector, &node.labels)
        && pod
            .affinity
            .node_affinity
            .as_ref()
            .and_then(|na| na.required_during_scheduling_ignored_during_execution.as_ref())
            .is_none_or(|ns| ns.matches(&node.name, &node.labels))
}

/// Upstream `matchNodeInclusionPolicies`, with the two node checks computed at most once per
/// node and shared by all constraints.
struct Inclusion<'a> {
    pod: &'a Pod,
    node: &'a Node,
    affinity: Option<bool>,
    taints: Option<bool>,
}

impl<'a> Inclusion<'a> {
    fn new(pod: &'a Pod, node: &'a Node) -> Self {
        Inclusion { pod, node, affinity: None, taints: None }
    }

    fn includes(&mut self, c: &Constraint) -> bool {
        if c.node_affinity_policy == NodeInclusionPolicy::Honor
            && !*self.affinity.get_or_insert_with(|| matches_required_node_affinity(self.pod, self.node))
        {
            return false;
        }
        if c.node_taints_policy == NodeInclusionPolicy::Honor
            && !*self.taints.get_or_insert_with(|| {
                find_untolerated_taint(&self.node.taints, &self.pod.tolerations, is_schedule_blocking).is_none()
            })
        {
            return false;
        }
        true
    }
}

/// Adds `count` to the domain `value` of `counts`, creating it if needed.
fn add_count(counts: &mut BTreeMap<String, i64>, value: &str, count: i64) {
    match counts.get_mut(value) {
        Some(c) => *c += count,
        None => {
            counts.insert(value.to_string(), count);
        }
    }
}

/// One entry of upstream's `criticalPaths`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CriticalPath {
    topology_value: String,
    match_num: i64,
}

/// Upstream `criticalPaths`: the two domains with the smallest match counts, `[0]` the smallest
/// (only `[0].match_num`, the global minimum, is read by Filter).
#[derive(Clone, Debug, PartialEq, Eq)]
struct CriticalPaths([CriticalPath; 2]);

impl CriticalPaths {
    /// Upstream `newCriticalPaths`: both at `math.MaxInt32`.
    fn new() -> Self {
        let p = || CriticalPath { topology_value: String::new(), match_num: i64::from(i32::MAX) };
        CriticalPaths([p(), p()])
    }

    /// Upstream `criticalPaths.update`.
    fn update(&mut self, tp_val: &str, num: i64) {
        let p = &mut self.0;
        let i = if tp_val == p[0].topology_value {
            Some(0)
        } else if tp_val == p[1].topology_value {
            Some(1)
        } else {
            None
        };
        match i {
            Some(i) => {
                p[i].match_num = num;
                if p[0].match_num > p[1].match_num {
                    p.swap(0, 1);
                }
            }
            None => {
                if num < p[0].match_num {
                    p[1] = p[0].clone();
                    p[0] = CriticalPath { topology_value: tp_val.to_string(), match_num: num };
                } else if num < p[1].match_num {
                    p[1] = CriticalPath { topology_value: tp_val.to_string(), match_num: num };
                }
            }
        }
    }
}

/// Upstream `preFilterState`.
#[derive(Debug)]
struct PreFilterState {
    constraints: Vec<Constraint>,
    /// Per constraint: topology value → matching pods (upstream `TpValueToMatchNum`); only the
    /// domains of eligible nodes are present.
    tp_value_to_match_num: Vec<BTreeMap<String, i64>>,
    /// Per constraint.
    critical_paths: Vec<CriticalPaths>,
    /// Per constraint: 1 when the incoming pod matches the selector (the pod does not change
    /// within a cycle, so this is computed once rather than per node).
    self_match_num: Vec<i64>,
}

impl PreFilterState {
    /// Upstream `preFilterState.minMatchNum`: the global minimum, or 0 when there are fewer
    /// eligible domains than `minDomains`.
    fn min_match_num(&self, i: usize, min_domains: i32) -> i64 {
        let domains = self.tp_value_to_match_num[i].len();
        if domains < usize::try_from(min_domains).unwrap_or(0) {
            return 0;
        }
        self.critical_paths[i].0[0].match_num
    }
}

fn missing_state(key: &str) -> Status {
    Status::error(format!("error reading {key:?} from cycleState: not found"))
}

impl PreFilterPlugin for PodTopologySpread {
    /// Upstream `PreFilter` / `calPreFilterState`: Skip without hard constraints; otherwise the
    /// per-domain counts over all nodes that have every topology key and pass the inclusion
    /// policies, and the critical paths.
    ///
    /// Counts are kept per constraint (v1.33's `topologyCount{constraintID}`), so two constraints
    /// on the same key with different selectors do not share counts; releases before the
    /// per-constraint rewrite keyed the per-node counts by `(key, value)` only.
    fn pre_filter(&self, state: &mut CycleState, cluster: &ClusterState, pod: &Pod) -> (Status, PreFilterNodes) {
        let constraints = match self.constraints(cluster, pod, UnsatisfiableConstraintAction::DoNotSchedule) {
            Ok(c) => c,
            Err(e) => return (Status::error(format!("get constraints from pod: {e}")), None),
        };
        if constraints.is_empty() {
            return (Status::skip(), None);
        }
        let mut counts: Vec<BTreeMap<String, i64>> = vec![BTreeMap::new(); constraints.len()];
        // The node's value of each constraint's key, read once per node.
        let mut values: Vec<&str> = Vec::with_capacity(constraints.len());
        // Every node of the snapshot; the sums do not depend on the order.
        for &id in cluster.node_order() {
            let ns = cluster.node(id);
            let node = &ns.node;
            values.clear();
            values.extend(constraints.iter().map_while(|c| node.labels.get(&c.topology_key).map(String::as_str)));
            // nodeLabelsMatchSpreadConstraints: every topology key must be present.
            if values.len() < constraints.len() {
                continue;
            }
            let mut inclusion = Inclusion::new(pod, node);
            for ((c, tp_counts), value) in constraints.iter().zip(counts.iter_mut()).zip(&values) {
                if !inclusion.includes(c) {
                    continue;
                }
                let count = count_pods_match_selector(cluster, &ns.pods, &c.selector, &pod.namespace);
                add_count(tp_counts, value, count);
            }
        }
        // Upstream iterates a Go map here (random order); only the tie-breaking between equal
        // counts in `topology_value` depends on the order, and Filter reads only the minimum.
        let critical_paths = counts
            .iter()
            .map(|m| {
                let mut p = CriticalPaths::new();
                for (v, n) in m {
                    p.update(v, *n);
                }
                p
            })
            .collect();
        let self_match_num = constraints.iter().map(|c| i64::from(c.selector.matches(&pod.labels))).collect();
        state.write(
            PRE_FILTER_STATE_KEY,
            PreFilterState { constraints, tp_value_to_match_num: counts, critical_paths, self_match_num },
        );
        (Status::success(), None)
    }
}

impl FilterPlugin for PodTopologySpread {
    /// Upstream `Filter`: per constraint, the node must have the topology key
    /// (UnschedulableAndUnresolvable otherwise) and
    /// `matchNum(node's domain) + selfMatch - minMatch <= maxSkew` (Unschedulable otherwise).
    fn filter(&self, state: &CycleState, _: &ClusterState, _: &Pod, node: &NodeState) -> Status {
        let Some(s) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) else {
            return missing_state(PRE_FILTER_STATE_KEY);
        };
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(tp_val) = node.node.labels.get(&c.topology_key) else {
                return Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
            };
            let min_match_num = s.min_match_num(i, c.min_domains);
            let match_num = s.tp_value_to_match_num[i].get(tp_val).copied().unwrap_or(0);
            let skew = match_num + s.self_match_num[i] - min_match_num;
            if skew > i64::from(c.max_skew) {
                return Status::unschedulable(vec![ERR_REASON_CONSTRAINTS_NOT_MATCH.to_string()]);
            }
        }
        Status::success()
    }
}

/// Upstream `preScoreState`.
#[derive(Debug)]
struct PreScoreState {
    constraints: Vec<Constraint>,
    /// Whether nodes lacking a topology key are ignored (upstream `requireAllTopologies`).
    require_all_topologies: bool,
    /// Per feasible node, in the order PreScore saw them: ignored (upstream `IgnoredNodes`).
    ignored: Vec<bool>,
    /// Per constraint: topology value (present among the feasible nodes) → matching pods over
    /// all nodes (upstream `TopologyValueToPodCounts`); empty for hostname constraints.
    topology_value_to_pod_counts: Vec<BTreeMap<String, i64>>,
    /// Per constraint: `ln(size + 2)` (upstream `TopologyNormalizingWeight`).
    topology_normalizing_weight: Vec<f64>,
}

/// Upstream `topologyNormalizingWeight`: `math.Log(float64(size + 2))`. `libm::log` is the
/// FreeBSD `e_log.c` algorithm, as Go's `math.Log`, and gives the same value on every platform.
fn topology_normalizing_weight(size: usize) -> f64 {
    libm::log((size + 2) as f64)
}

/// Upstream `scoreForCount`: `float64(cnt)*tpWeight + float64(maxSkew-1)`. Go on amd64 does not
/// fuse the multiply-add, and neither does this.
fn score_for_count(cnt: i64, max_skew: i32, tp_weight: f64) -> f64 {
    cnt as f64 * tp_weight + f64::from(max_skew - 1)
}

impl ScorePlugin for PodTopologySpread {
    /// Upstream `PreScore` / `initPreScoreState`: Skip without soft constraints; otherwise the
    /// ignored feasible nodes, the topology sizes and weights over the feasible nodes, and the
    /// per-value counts summed over all nodes for the values present among the feasible nodes.
    fn pre_score(&self, state: &mut CycleState, cluster: &ClusterState, pod: &Pod, nodes: &[NodeId]) -> Status {
        if cluster.nodes().is_empty() {
            return Status::skip();
        }
        // Only require every topology label with non-system-default spreading, so that nodes
        // without a zone label still get hostname spreading.
        let require_all_topologies = !pod.topology_spread_constraints.is_empty() || !self.system_defaulted;
        let constraints = match self.constraints(cluster, pod, UnsatisfiableConstraintAction::ScheduleAnyway) {
            Ok(c) => c,
            Err(e) => return Status::error(format!("calculating preScoreState: {e}")),
        };
        if constraints.is_empty() {
            return Status::skip();
        }
        let mut counts: Vec<BTreeMap<String, i64>> = vec![BTreeMap::new(); constraints.len()];
        let mut ignored = Vec::with_capacity(nodes.len());
        let mut num_ignored = 0usize;
        for &id in nodes {
            let labels = &cluster.node(id).node.labels;
            if require_all_topologies && !node_has_all_keys(labels, &constraints) {
                ignored.push(true);
                num_ignored += 1;
                continue;
            }
            ignored.push(false);
            for (c, tp_counts) in constraints.iter().zip(counts.iter_mut()) {
                // Per-node counts are calculated during Score.
                if c.topology_key == LABEL_HOSTNAME {
                    continue;
                }
                // Upstream reads `node.Labels[key]`: a missing key is the value "".
                let value = labels.get(&c.topology_key).map_or("", String::as_str);
                if !tp_counts.contains_key(value) {
                    tp_counts.insert(value.to_string(), 0);
                }
            }
        }
        let topology_normalizing_weight = constraints
            .iter()
            .zip(&counts)
            .map(|(c, m)| {
                let size = if c.topology_key == LABEL_HOSTNAME { nodes.len() - num_ignored } else { m.len() };
                topology_normalizing_weight(size)
            })
            .collect();
        if counts.iter().any(|m| !m.is_empty()) {
            for &id in cluster.node_order() {
                let ns = cluster.node(id);
                let node = &ns.node;
                if require_all_topologies && !node_has_all_keys(&node.labels, &constraints) {
                    continue;
                }
                let mut inclusion = Inclusion::new(pod, node);
                for (c, tp_counts) in constraints.iter().zip(counts.iter_mut()) {
                    let value = node.labels.get(&c.topology_key).map_or("", String::as_str);
                    // Values not associated with any feasible node (and hostname constraints)
                    // are skipped.
                    let Some(tp_count) = tp_counts.get_mut(value) else { continue };
                    if !inclusion.includes(c) {
                        continue;
                    }
                    *tp_count += count_pods_match_selector(cluster, &ns.pods, &c.selector, &pod.namespace);
                }
            }
        }
        state.write(
            PRE_SCORE_STATE_KEY,
            PreScoreState {
                constraints,
                require_all_topologies,
                ignored,
                topology_value_to_pod_counts: counts,
                topology_normalizing_weight,
            },
        );
        Status::success()
    }

    /// Upstream `Score`: 0 for an ignored node; otherwise
    /// `round(Σ cnt * weight + (maxSkew - 1))` over the constraints whose key the node has,
    /// with hostname constraints counted on the node itself.
    fn score(&self, state: &CycleState, cluster: &ClusterState, pod: &Pod, node: &NodeState) -> Result<i64, Status> {
        let s = state.read::<PreScoreState>(PRE_SCORE_STATE_KEY).ok_or_else(|| missing_state(PRE_SCORE_STATE_KEY))?;
        let labels = &node.node.labels;
        // A feasible node is in upstream's IgnoredNodes exactly when this holds.
        if s.require_all_topologies && !node_has_all_keys(labels, &s.constraints) {
            return Ok(0);
        }
        let mut score = 0.0f64;
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(tp_val) = labels.get(&c.topology_key) else { continue };
            let cnt = if c.topology_key == LABEL_HOSTNAME {
                count_pods_match_selector(cluster, &node.pods, &c.selector, &pod.namespace)
            } else {
                match s.topology_value_to_pod_counts[i].get(tp_val) {
                    Some(n) => *n,
                    None => {
                        return Err(Status::error(format!(
                            "node {:?} was not among the nodes given to PreScore",
                            node.node.name
                        )));
                    }
                }
            };
            score += score_for_count(cnt, c.max_skew, s.topology_normalizing_weight[i]);
        }
        // Go's math.Round rounds half away from zero, as f64::round.
        Ok(score.round() as i64)
    }

    /// Upstream `NormalizeScore`: ignored nodes get 0; with `min` / `max` over the other nodes,
    /// `max == 0` gives 100 and otherwise `100 * (max + min - s) / max` (integer division).
    fn normalize_scores(&self, state: &CycleState, _: &Pod, scores: &mut [i64]) -> Status {
        let Some(s) = state.read::<PreScoreState>(PRE_SCORE_STATE_KEY) else {
            return missing_state(PRE_SCORE_STATE_KEY);
        };
        if s.ignored.len() != scores.len() {
            return Status::error(format!(
                "{} scores for the {} nodes given to PreScore",
                scores.len(),
                s.ignored.len()
            ));
        }
        let mut min_score = i64::MAX;
        let mut max_score = 0i64;
        for (score, ignored) in scores.iter().zip(&s.ignored) {
            if *ignored {
                continue;
            }
            min_score = min_score.min(*score);
            max_score = max_score.max(*score);
        }
        for (score, ignored) in scores.iter_mut().zip(&s.ignored) {
            if *ignored {
                *score = 0;
            } else if max_score == 0 {
                *score = MAX_NODE_SCORE;
            } else {
                *score = MAX_NODE_SCORE * (max_score + min_score - *score) / max_score;
            }
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::SimTime;
    use crate::model::affinity::NodeAffinity;
    use crate::model::selector::{NodeSelector, NodeSelectorTerm};
    use crate::model::taint::{Taint, TaintEffect, Toleration, TolerationOperator};
    use crate::scheduler::framework::Code;
    use crate::scheduler::testing::{make_node, make_pod};
    use NodeInclusionPolicy::{Honor, Ignore};
    use UnsatisfiableConstraintAction::{DoNotSchedule, ScheduleAnyway};

    const ZONE: &str = LABEL_TOPOLOGY_ZONE;
    const HOST: &str = LABEL_HOSTNAME;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// A node with the hostname label and `extra` labels.
    fn node(name: &str, extra: &[(&str, &str)]) -> Node {
        let mut n = make_node(name, 4000, 1 << 34, 110).node;
        n.labels.extend(labels(extra));
        n
    }

    /// node-a, node-b in zone1; node-x, node-y in zone2 (upstream's usual four nodes).
    fn four_nodes() -> Vec<Node> {
        vec![
            node("node-a", &[(ZONE, "zone1")]),
            node("node-b", &[(ZONE, "zone1")]),
            node("node-x", &[(ZONE, "zone2")]),
            node("node-y", &[(ZONE, "zone2")]),
        ]
    }

    /// An existing pod bound to `node`.
    #[derive(Clone)]
    struct Existing {
        node: &'static str,
        namespace: &'static str,
        labels: Labels,
    }

    /// `n` pods labelled `foo: bar` in namespace `default` on `node`.
    fn foo(node: &'static str, n: usize) -> Vec<Existing> {
        with(node, "default", &[("foo", "bar")], n)
    }

    fn with(node: &'static str, namespace: &'static str, l: &[(&str, &str)], n: usize) -> Vec<Existing> {
        vec![Existing { node, namespace, labels: labels(l) }; n]
    }

    fn cluster(nodes: Vec<Node>, existing: &[Existing]) -> ClusterState {
        let mut c = ClusterState::new();
        for n in nodes {
            c.add_node(n).unwrap();
        }
        for (i, e) in existing.iter().enumerate() {
            let mut p = make_pod(&format!("existing-{i}"), &[]);
            p.namespace = e.namespace.into();
            p.labels = e.labels.clone();
            let id = c.add_pod(p, SimTime::ZERO).unwrap();
            c.bind(id, c.node_id(e.node).unwrap(), SimTime::ZERO).unwrap();
        }
        c
    }

    fn foo_exists() -> Option<LabelSelector> {
        Some(LabelSelector {
            match_labels: Labels::new(),
            match_expressions: vec![LabelSelectorRequirement {
                key: "foo".into(),
                operator: SelectorOperator::Exists,
                values: vec![],
            }],
        })
    }

    fn constraint(
        max_skew: i32,
        key: &str,
        action: UnsatisfiableConstraintAction,
        selector: Option<LabelSelector>,
    ) -> TopologySpreadConstraint {
        TopologySpreadConstraint {
            max_skew,
            topology_key: key.into(),
            when_unsatisfiable: action,
            label_selector: selector,
            min_domains: None,
            node_affinity_policy: None,
            node_taints_policy: None,
            match_label_keys: vec![],
        }
    }

    /// The incoming pod (namespace `default`).
    fn incoming(l: &[(&str, &str)], constraints: Vec<TopologySpreadConstraint>) -> Pod {
        let mut p = make_pod("incoming", &[]);
        p.labels = labels(l);
        p.topology_spread_constraints = constraints;
        p
    }

    fn hard_zone(max_skew: i32) -> TopologySpreadConstraint {
        constraint(max_skew, ZONE, DoNotSchedule, foo_exists())
    }

    fn zone_in(values: &[&str]) -> NodeAffinity {
        NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: vec![LabelSelectorRequirement {
                        key: ZONE.into(),
                        operator: SelectorOperator::In,
                        values: values.iter().map(|v| v.to_string()).collect(),
                    }],
                    match_fields: vec![],
                }],
            }),
            preferred_during_scheduling_ignored_during_execution: vec![],
        }
    }

    fn no_schedule_taint() -> Taint {
        Taint { key: "dedicated".into(), value: "v".into(), effect: TaintEffect::NoSchedule, time_added: None }
    }

    /// Runs PreFilter, then Filter on every node; returns each node's (name, code, reasons),
    /// sorted by name.
    fn filter_all(c: &ClusterState, pod: &Pod) -> Vec<(String, Code, Vec<String>)> {
        let pl = PodTopologySpread::default();
        let mut state = CycleState::new();
        let (st, nodes) = pl.pre_filter(&mut state, c, pod);
        assert_eq!(st.code, Code::Success, "{:?}", st.reasons);
        assert_eq!(nodes, None);
        let mut out: Vec<_> = c
            .nodes()
            .iter()
            .map(|n| {
                let st = pl.filter(&state, c, pod, n);
                (n.node.name.clone(), st.code, st.reasons)
            })
            .collect();
        out.sort();
        out
    }

    fn passing(c: &ClusterState, pod: &Pod) -> Vec<String> {
        filter_all(c, pod).into_iter().filter(|(_, code, _)| *code == Code::Success).map(|(n, ..)| n).collect()
    }

    struct FilterCase {
        name: &'static str,
        nodes: Vec<Node>,
        existing: Vec<Existing>,
        pod: Pod,
        want: &'static [&'static str],
    }

    fn check_filter_cases(cases: Vec<FilterCase>) {
        for case in cases {
            let c = cluster(case.nodes, &case.existing);
            assert_eq!(passing(&c, &case.pod), case.want, "{}", case.name);
        }
    }

    #[test]
    fn a_single_hard_constraint_admits_the_nodes_whose_skew_stays_within_max_skew() {
        let no_rack_key = {
            let mut p = incoming(&[("foo", "bar")], vec![hard_zone(1)]);
            p.topology_spread_constraints[0].topology_key = "rack".into();
            p
        };
        let cases = vec![
            FilterCase {
                name: "no existing pods",
                nodes: four_nodes(),
                existing: vec![],
                pod: incoming(&[("foo", "bar")], vec![hard_zone(1)]),
                want: &["node-a", "node-b", "node-x", "node-y"],
            },
            FilterCase {
                name: "no existing pods, incoming pod doesn't match itself",
                nodes: four_nodes(),
                existing: vec![],
                pod: incoming(&[], vec![hard_zone(1)]),
                want: &["node-a", "node-b", "node-x", "node-y"],
            },
            FilterCase {
                // zone1 = 1 + 2 = 3, zone2 = 2 + 1 = 3; skew = 3 + 1 - 3 = 1 everywhere.
                name: "pods spread across zones as 3/3, all nodes fit",
                nodes: four_nodes(),
                existing: [foo("node-a", 1), foo("node-b", 2), foo("node-x", 2), foo("node-y", 1)].concat(),
                pod: incoming(&[("foo", "bar")], vec![hard_zone(1)]),
                want: &["node-a", "node-b", "node-x", "node-y"],
            },
            FilterCase {
                // node-b has no zone: its pod is not counted and it fails with the missing
                // label. zone1 = 1, zone2 = 2, min 1: zone1 skew 1, zone2 skew 2.
                name: "pods spread across zones as 1/2 due to absence of label 'zone' on node-b",
                nodes: vec![
                    node("node-a", &[(ZONE, "zone1")]),
                    node("node-b", &[]),
                    node("node-x", &[(ZONE, "zone2")]),
                    node("node-y", &[(ZONE, "zone2")]),
                ],
                existing: [foo("node-a", 1), foo("node-b", 1), foo("node-x", 1), foo("node-y", 1)].concat(),
                pod: incoming(&[("foo", "bar")], vec![hard_zone(1)]),
                want: &["node-a"],
            },
            FilterCase {
                name: "pod cannot be scheduled as all nodes don't have label 'rack'",
                nodes: four_nodes(),
                existing: vec![],
                pod: no_rack_key,
                want: &[],
            },
            FilterCase {
                // 2/1/0/3, min 0: skews 3/2/1/4.
                name: "pods spread across nodes as 2/1/0/3, only node-x fits",
                nodes: four_nodes(),
                existing: [foo("node-a", 2), foo("node-b", 1), foo("node-y", 3)].concat(),
                pod: incoming(&[("foo", "bar")], vec![constraint(1, HOST, DoNotSchedule, foo_exists())]),
                want: &["node-x"],
            },
            FilterCase {
                name: "pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit",
                nodes: four_nodes(),
                existing: [foo("node-a", 2), foo("node-b", 1), foo("node-y", 3)].concat(),
                pod: incoming(&[("foo", "bar")], vec![constraint(2, HOST, DoNotSchedule, foo_exists())]),
                want: &["node-b", "node-x"],
            },
            FilterCase {
                // zone1 = 0 (the "other" pods do not count), zone2 = 1: zone2 skew 2.
                name: "existing pods in a different namespace do not count",
                nodes: four_nodes(),
                existing: [with("node-a", "other", &[("foo", "bar")], 2), foo("node-x", 1)].concat(),
                pod: incoming(&[("foo", "bar")], vec![hard_zone(1)]),
                want: &["node-a", "node-b"],
            },
            FilterCase {
                name: "existing pods that don't match the selector do not count",
                nodes: four_nodes(),
                existing: [with("node-a", "default", &[("app", "other")], 3), foo("node-x", 1)].concat(),
                pod: incoming(&[("foo", "bar")], vec![hard_zone(1)]),
                want: &["node-a", "node-b"],
            },
            FilterCase {
                // zone1 = 1, zone2 = 0; with self match zone1 skew = 1 + 1 - 0 = 2.
                name: "an incoming pod matching its own selector counts itself, only zone2 fits",
                nodes: four_nodes(),
                existing: foo("node-a", 1),
                pod: incoming(&[("foo", "bar")], vec![hard_zone(1)]),
                want: &["node-x", "node-y"],
            },
            FilterCase {
                // Without self match zone1 skew = 1 + 0 - 0 = 1.
                name: "an incoming pod not matching its own selector adds no self match, all nodes fit",
                nodes: four_nodes(),
                existing: foo("node-a", 1),
                pod: incoming(&[("app", "other")], vec![hard_zone(1)]),
                want: &["node-a", "node-b", "node-x", "node-y"],
            },
            FilterCase {
                // zone1 = 3, zone2 = 3 (all pass); hostname 2/1/0/3 (only node-x passes).
                name: "two Constraints on zone and node, spreads = [3/3, 2/1/0/3]",
                nodes: four_nodes(),
                existing: [foo("node-a", 2), foo("node-b", 1), foo("node-y", 3)].concat(),
                pod: incoming(&[("foo", "bar")], vec![hard_zone(1), constraint(1, HOST, DoNotSchedule, foo_exists())]),
                want: &["node-x"],
            },
            FilterCase {
                // Selector foo: zone1 = 2, zone2 = 0 (zone1 skew 2 + 1 - 0 = 3 > 2).
                // Selector app=web: zone1 = 0, zone2 = 1 (zone2 skew 1 + 1 - 0 = 2 <= 2).
                // Counted per constraint, only zone2 fits; had the second constraint's counts
                // replaced the first's, zone1 would fit too.
                name: "two constraints on the same key keep their own counts",
                nodes: four_nodes(),
                existing: [foo("node-a", 2), with("node-x", "default", &[("app", "web")], 1)].concat(),
                pod: incoming(
                    &[("foo", "bar"), ("app", "web")],
                    vec![
                        hard_zone(2),
                        constraint(
                            2,
                            ZONE,
                            DoNotSchedule,
                            Some(LabelSelector { match_labels: labels(&[("app", "web")]), match_expressions: vec![] }),
                        ),
                    ],
                ),
                want: &["node-x", "node-y"],
            },
            FilterCase {
                // node-b lacks "rack", so its 2 pods count for neither constraint: zone1 = 0,
                // zone2 = 0 (were they counted, zone1 = 2 would reject node-a).
                name: "a node lacking one constraint's key counts for no constraint",
                nodes: vec![
                    node("node-a", &[(ZONE, "zone1"), ("rack", "r1")]),
                    node("node-b", &[(ZONE, "zone1")]),
                    node("node-x", &[(ZONE, "zone2"), ("rack", "r2")]),
                ],
                existing: foo("node-b", 2),
                pod: incoming(
                    &[("foo", "bar")],
                    vec![hard_zone(1), constraint(10, "rack", DoNotSchedule, foo_exists())],
                ),
                want: &["node-a", "node-x"],
            },
            FilterCase {
                // Upstream's countPodsMatchSelector returns 0 for an empty selector, while the
                // incoming pod still matches it: skew = 0 + 1 - 0 = 1 everywhere.
                name: "an empty selector counts no existing pods but matches the incoming pod",
                nodes: four_nodes(),
                existing: foo("node-a", 5),
                pod: incoming(
                    &[("foo", "bar")],
                    vec![constraint(1, ZONE, DoNotSchedule, Some(LabelSelector::default()))],
                ),
                want: &["node-a", "node-b", "node-x", "node-y"],
            },
            FilterCase {
                // A missing selector is labels.Nothing(): no counts, no self match.
                name: "a missing selector matches nothing, all nodes fit",
                nodes: four_nodes(),
                existing: foo("node-a", 5),
                pod: incoming(&[("foo", "bar")], vec![constraint(1, ZONE, DoNotSchedule, None)]),
                want: &["node-a", "node-b", "node-x", "node-y"],
            },
        ];
        check_filter_cases(cases);
    }

    #[test]
    fn filter_reasons_are_upstreams_strings_and_codes() {
        let c = cluster(
            vec![node("node-a", &[(ZONE, "zone1")]), node("node-b", &[]), node("node-x", &[(ZONE, "zone2")])],
            &[foo("node-x", 1), foo("node-b", 4)].concat(),
        );
        let pod = incoming(&[("foo", "bar")], vec![hard_zone(1)]);
        assert_eq!(
            filter_all(&c, &pod),
            vec![
                ("node-a".to_string(), Code::Success, vec![]),
                (
                    "node-b".to_string(),
                    Code::UnschedulableAndUnresolvable,
                    vec!["node(s) didn't match pod topology spread constraints (missing required label)".to_string()]
                ),
                (
                    "node-x".to_string(),
                    Code::Unschedulable,
                    vec!["node(s) didn't match pod topology spread constraints".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn min_domains_above_the_number_of_domains_makes_the_global_minimum_zero() {
        let spread = |min_domains: Option<i32>| {
            let mut c = hard_zone(2);
            c.min_domains = min_domains;
            incoming(&[("foo", "bar")], vec![c])
        };
        // zone1 = 2, zone2 = 1; maxSkew 2.
        let existing = [foo("node-a", 1), foo("node-b", 1), foo("node-x", 1)].concat();
        let cases = vec![
            FilterCase {
                // min 1: zone1 skew = 2 + 1 - 1 = 2.
                name: "without minDomains the global minimum is 1 and every node fits",
                nodes: four_nodes(),
                existing: existing.clone(),
                pod: spread(None),
                want: &["node-a", "node-b", "node-x", "node-y"],
            },
            FilterCase {
                name: "minDomains 2 equals the number of domains, every node fits",
                nodes: four_nodes(),
                existing: existing.clone(),
                pod: spread(Some(2)),
                want: &["node-a", "node-b", "node-x", "node-y"],
            },
            FilterCase {
                // 2 domains < 3: min 0, zone1 skew = 3 > 2, zone2 skew = 2.
                name: "pods spread across zone as 2/1, maxSkew is 2 and minDomains is 3, only zone2 fits",
                nodes: four_nodes(),
                existing,
                pod: spread(Some(3)),
                want: &["node-x", "node-y"],
            },
        ];
        check_filter_cases(cases);
    }

    /// zone1 (node-a) has 2 matching pods, zone2 (node-b) 3, zone3 (node-c) 0.
    fn three_zones(taint_c: bool) -> (Vec<Node>, Vec<Existing>) {
        let mut c = node("node-c", &[(ZONE, "zone3")]);
        if taint_c {
            c.taints.push(no_schedule_taint());
        }
        (
            vec![node("node-a", &[(ZONE, "zone1")]), node("node-b", &[(ZONE, "zone2")]), c],
            [foo("node-a", 2), foo("node-b", 3)].concat(),
        )
    }

    #[test]
    fn node_affinity_policy_honor_counts_only_nodes_matching_the_pods_node_affinity() {
        let pod = |policy: Option<NodeInclusionPolicy>, by_selector: bool| {
            let mut c = hard_zone(1);
            c.node_affinity_policy = policy;
            let mut p = incoming(&[("foo", "bar")], vec![c]);
            if by_selector {
                p.node_selector = labels(&[(ZONE, "zone1")]);
            } else {
                p.affinity.node_affinity = Some(zone_in(&["zone1", "zone2"]));
            }
            p
        };
        let (nodes, existing) = three_zones(false);
        let cases = vec![
            FilterCase {
                // Honor (the default): zone3 is not a domain, min = 2: zone1 skew 1, zone2 skew
                // 2, node-c: 0 + 1 - 2 = -1 (NodeAffinity's own filter rejects it).
                name: "incoming pod has nodeAffinity, the excluded zone3 does not lower the minimum",
                nodes: nodes.clone(),
                existing: existing.clone(),
                pod: pod(None, false),
                want: &["node-a", "node-c"],
            },
            FilterCase {
                name: "an explicit Honor policy is the default",
                nodes: nodes.clone(),
                existing: existing.clone(),
                pod: pod(Some(Honor), false),
                want: &["node-a", "node-c"],
            },
            FilterCase {
                // Ignore: zone3 = 0 is the minimum: skews 3 / 4 / 1.
                name: "NodeAffinityPolicy ignored, zone3 counts and only node-c fits",
                nodes: nodes.clone(),
                existing: existing.clone(),
                pod: pod(Some(Ignore), false),
                want: &["node-c"],
            },
            FilterCase {
                // Only zone1 is a domain, min = 2: zone1 skew 1, the others 0 + 1 - 2.
                name: "the nodeSelector is part of the node affinity the Honor policy applies",
                nodes: nodes.clone(),
                existing: existing.clone(),
                pod: pod(None, true),
                want: &["node-a", "node-b", "node-c"],
            },
            FilterCase {
                name: "the nodeSelector is not applied with the Ignore policy",
                nodes,
                existing,
                pod: pod(Some(Ignore), true),
                want: &["node-c"],
            },
        ];
        check_filter_cases(cases);
    }

    #[test]
    fn node_taints_policy_honor_counts_only_nodes_whose_taints_the_pod_tolerates() {
        let pod = |policy: Option<NodeInclusionPolicy>, tolerate: bool| {
            let mut c = hard_zone(1);
            c.node_taints_policy = policy;
            let mut p = incoming(&[("foo", "bar")], vec![c]);
            if tolerate {
                p.tolerations.push(Toleration {
                    key: "dedicated".into(),
                    operator: TolerationOperator::Exists,
                    value: String::new(),
                    effect: None,
                    toleration_seconds: None,
                });
            }
            p
        };
        let (nodes, existing) = three_zones(true);
        let cases = vec![
            FilterCase {
                // Ignore (the default): zone3 = 0 is the minimum: skews 3 / 4 / 1.
                name: "NodeTaintsPolicy ignored by default, the tainted zone3 counts",
                nodes: nodes.clone(),
                existing: existing.clone(),
                pod: pod(None, false),
                want: &["node-c"],
            },
            FilterCase {
                // Honor: node-c is excluded, min = 2: skews 1 / 2 / -1.
                name: "NodeTaintsPolicy honored, the untolerated zone3 does not count",
                nodes: nodes.clone(),
                existing: existing.clone(),
                pod: pod(Some(Honor), false),
                want: &["node-a", "node-c"],
            },
            FilterCase {
                name: "NodeTaintsPolicy honored with a toleration, zone3 counts again",
                nodes: nodes.clone(),
                existing: existing.clone(),
                pod: pod(Some(Honor), true),
                want: &["node-c"],
            },
            FilterCase {
                name: "NodeTaintsPolicy honored ignores PreferNoSchedule taints",
                nodes: {
                    let mut n = nodes;
                    n[2].taints[0].effect = TaintEffect::PreferNoSchedule;
                    n
                },
                existing,
                pod: pod(Some(Honor), false),
                want: &["node-c"],
            },
        ];
        check_filter_cases(cases);
    }

    #[test]
    fn match_label_keys_and_the_pods_values_into_the_selector() {
        let pod = |selector: Option<LabelSelector>, keys: &[&str]| {
            let mut c = constraint(1, ZONE, DoNotSchedule, selector);
            c.match_label_keys = keys.iter().map(|k| k.to_string()).collect();
            incoming(&[("foo", "bar"), ("version", "v2")], vec![c])
        };
        // zone1: 2 pods of version v1; zone2: 1 pod of version v2.
        let existing = [
            with("node-a", "default", &[("foo", "bar"), ("version", "v1")], 2),
            with("node-x", "default", &[("foo", "bar"), ("version", "v2")], 1),
        ]
        .concat();
        let cases = vec![
            FilterCase {
                // zone1 = 2, zone2 = 1, min 1: zone1 skew 2, zone2 skew 1.
                name: "without matchLabelKeys every version counts",
                nodes: four_nodes(),
                existing: existing.clone(),
                pod: pod(foo_exists(), &[]),
                want: &["node-x", "node-y"],
            },
            FilterCase {
                // Selector foo Exists AND version In [v2]: zone1 = 0, zone2 = 1, min 0.
                name: "matchLabelKeys counts only the pods with the incoming pod's version",
                nodes: four_nodes(),
                existing: existing.clone(),
                pod: pod(foo_exists(), &["version"]),
                want: &["node-a", "node-b"],
            },
            FilterCase {
                name: "a matchLabelKeys key absent from the incoming pod is ignored",
                nodes: four_nodes(),
                existing: existing.clone(),
                pod: pod(foo_exists(), &["track"]),
                want: &["node-x", "node-y"],
            },
            FilterCase {
                name: "matchLabelKeys do not turn a missing selector into one that matches",
                nodes: four_nodes(),
                existing,
                pod: pod(None, &["version"]),
                want: &["node-a", "node-b", "node-x", "node-y"],
            },
        ];
        check_filter_cases(cases);
    }

    #[test]
    fn critical_paths_keep_the_two_smallest_counts() {
        let mut p = CriticalPaths::new();
        let view = |p: &CriticalPaths| p.0.iter().map(|c| (c.topology_value.clone(), c.match_num)).collect::<Vec<_>>();
        p.update("a", 3);
        assert_eq!(view(&p), vec![("a".to_string(), 3), (String::new(), i64::from(i32::MAX))]);
        p.update("b", 1);
        p.update("c", 2);
        assert_eq!(view(&p), vec![("b".to_string(), 1), ("c".to_string(), 2)]);
        p.update("b", 5);
        assert_eq!(view(&p), vec![("c".to_string(), 2), ("b".to_string(), 5)]);
    }

    /// Runs PreScore on `feasible`, Score on each, then NormalizeScore; returns the raw and the
    /// normalised scores.
    fn score_all(pl: &PodTopologySpread, c: &ClusterState, pod: &Pod, feasible: &[&str]) -> (Vec<i64>, Vec<i64>) {
        let ids: Vec<NodeId> = feasible.iter().map(|n| c.node_id(n).unwrap()).collect();
        let mut state = CycleState::new();
        let st = pl.pre_score(&mut state, c, pod, &ids);
        assert_eq!(st.code, Code::Success, "{:?}", st.reasons);
        let raw: Vec<i64> = ids.iter().map(|id| pl.score(&state, c, pod, c.node(*id)).unwrap()).collect();
        let mut normalized = raw.clone();
        assert!(pl.normalize_scores(&state, pod, &mut normalized).is_success());
        (raw, normalized)
    }

    struct ScoreCase {
        name: &'static str,
        nodes: Vec<Node>,
        existing: Vec<Existing>,
        pod: Pod,
        feasible: &'static [&'static str],
        want_raw: &'static [i64],
        want: &'static [i64],
    }

    fn soft(max_skew: i32, key: &str) -> TopologySpreadConstraint {
        constraint(max_skew, key, ScheduleAnyway, foo_exists())
    }

    fn check_score_cases(cases: Vec<ScoreCase>) {
        for case in cases {
            let c = cluster(case.nodes, &case.existing);
            let (raw, normalized) = score_all(&PodTopologySpread::default(), &c, &case.pod, case.feasible);
            assert_eq!(raw, case.want_raw, "{}: raw", case.name);
            assert_eq!(normalized, case.want, "{}: normalized", case.name);
        }
    }

    /// node-a, node-b in zone1; node-x, node-y in zone2; node-z in zone3.
    fn five_nodes() -> Vec<Node> {
        let mut n = four_nodes();
        n.push(node("node-z", &[(ZONE, "zone3")]));
        n
    }

    #[test]
    fn soft_constraints_score_fewer_matching_pods_higher() {
        let pod = |cs: Vec<TopologySpreadConstraint>| incoming(&[("foo", "bar")], cs);
        let hosts = || vec![node("node-a", &[]), node("node-b", &[]), node("node-c", &[]), node("node-d", &[])];
        let cases = vec![
            ScoreCase {
                // Every raw score is 0 + (1 - 1) = 0; max 0 gives 100 to all.
                name: "one constraint on node, no existing pods",
                nodes: hosts(),
                existing: vec![],
                pod: pod(vec![soft(1, HOST)]),
                feasible: &["node-a", "node-b"],
                want_raw: &[0, 0],
                want: &[100, 100],
            },
            ScoreCase {
                // w = ln(4 + 2) = 1.7918: round(2w) = round(3.58) = 4, round(w) = 2, 0,
                // round(3w) = round(5.38) = 5. max 5, min 0: 100*(5-4)/5 = 20, 100*3/5 = 60,
                // 100*5/5 = 100, 0.
                name: "one constraint on node, all 4 nodes are candidates",
                nodes: hosts(),
                existing: [foo("node-a", 2), foo("node-b", 1), foo("node-d", 3)].concat(),
                pod: pod(vec![soft(1, HOST)]),
                feasible: &["node-a", "node-b", "node-c", "node-d"],
                want_raw: &[4, 2, 0, 5],
                want: &[20, 60, 100, 0],
            },
            ScoreCase {
                // Only node-b's 1 pod counts (other namespace on node-a): w = ln 4 = 1.3863,
                // raw 0 and round(1.39) = 1; max 1, min 0: 100*(1+0-0)/1 = 100, 0.
                name: "pods in other namespaces do not count",
                nodes: hosts(),
                existing: [with("node-a", "other", &[("foo", "bar")], 2), foo("node-b", 1)].concat(),
                pod: pod(vec![soft(1, HOST)]),
                feasible: &["node-a", "node-b"],
                want_raw: &[0, 1],
                want: &[100, 0],
            },
            ScoreCase {
                // Feasible zones zone1, zone2, zone3: w = ln 5 = 1.6094. zone1 = 1 + 2 = 3 (node-b
                // is not feasible but its pods count): round(4.83) = 5; zone2 = 1 + 0:
                // round(1.61) = 2; zone3: 0. max 5, min 0: 0, 100*3/5 = 60, 100.
                name: "zone counts are summed over all nodes for the zones of the feasible nodes",
                nodes: five_nodes(),
                existing: [foo("node-a", 1), foo("node-b", 2), foo("node-x", 1)].concat(),
                pod: pod(vec![soft(1, ZONE)]),
                feasible: &["node-a", "node-x", "node-z"],
                want_raw: &[5, 2, 0],
                want: &[0, 60, 100],
            },
            ScoreCase {
                // Only zone1 is among the feasible nodes: size 1, w = ln 3 = 1.0986; zone1 = 3:
                // round(3.30) = 3 for both; max = min = 3: 100*(3+3-3)/3 = 100.
                name: "zones without feasible nodes are not counted nor sized, equal scores get 100",
                nodes: five_nodes(),
                existing: [foo("node-a", 1), foo("node-b", 2), foo("node-x", 1)].concat(),
                pod: pod(vec![soft(1, ZONE)]),
                feasible: &["node-a", "node-b"],
                want_raw: &[3, 3],
                want: &[100, 100],
            },
            ScoreCase {
                // Hostname (maxSkew 2) w = ln 6 = 1.7918, zone w = ln 4 = 1.3863;
                // zone1 = 2 + 1 = 3, zone2 = 0 + 3 = 3 (3w = 4.1589).
                // a: 2*1.7918 + 1 + 4.1589 = 8.74 → 9;  b: 1.7918 + 1 + 4.1589 = 6.95 → 7;
                // x: 0 + 1 + 4.1589 = 5.16 → 5;        y: 5.3753 + 1 + 4.1589 = 10.53 → 11.
                // max 11, min 5: 100*(16-s)/11 = 63, 81, 100, 45.
                name: "two Constraints on zone and node, maxSkew 2 on the node adds 1",
                nodes: four_nodes(),
                existing: [foo("node-a", 2), foo("node-b", 1), foo("node-y", 3)].concat(),
                pod: pod(vec![soft(2, HOST), soft(1, ZONE)]),
                feasible: &["node-a", "node-b", "node-x", "node-y"],
                want_raw: &[9, 7, 5, 11],
                want: &[63, 81, 100, 45],
            },
        ];
        check_score_cases(cases);
    }

    #[test]
    fn feasible_nodes_missing_a_topology_key_are_ignored_and_score_zero() {
        let nodes =
            || vec![node("node-a", &[(ZONE, "zone1")]), node("node-x", &[(ZONE, "zone2")]), node("node-c", &[])];
        let cases = vec![
            ScoreCase {
                // zone w = ln 4 = 1.3863: round(2.77) = 3, round(1.39) = 1, node-c ignored (0).
                // min/max over non-ignored nodes: min 1, max 3: 100*(4-3)/3 = 33, 100*(4-1)/3
                // = 100, node-c 0.
                name: "the ignored node's 0 is not the minimum",
                nodes: nodes(),
                existing: [foo("node-a", 2), foo("node-x", 1)].concat(),
                pod: incoming(&[("foo", "bar")], vec![soft(1, ZONE)]),
                feasible: &["node-a", "node-x", "node-c"],
                want_raw: &[3, 1, 0],
                want: &[33, 100, 0],
            },
            ScoreCase {
                // Hostname size = 3 feasible - 1 ignored = 2: w = ln 4, zone w = ln 4.
                // a: 1.3863 + 1.3863 = 2.77 → 3; x: 0; node-c ignored despite its 3 pods.
                // max 3, min 0: 0, 100, 0.
                name: "the hostname topology size leaves out ignored nodes",
                nodes: nodes(),
                existing: [foo("node-a", 1), foo("node-c", 3)].concat(),
                pod: incoming(&[("foo", "bar")], vec![soft(1, HOST), soft(1, ZONE)]),
                feasible: &["node-a", "node-x", "node-c"],
                want_raw: &[3, 0, 0],
                want: &[0, 100, 0],
            },
            ScoreCase {
                name: "all nodes ignored score 0",
                nodes: nodes(),
                existing: vec![],
                pod: incoming(&[("foo", "bar")], vec![soft(1, "rack")]),
                feasible: &["node-a", "node-x"],
                want_raw: &[0, 0],
                want: &[0, 0],
            },
        ];
        check_score_cases(cases);
    }

    #[test]
    fn inclusion_policies_apply_to_scoring_counts() {
        // node-a (zone1, role web), node-b (zone1, tainted, no role), node-x (zone2, role web);
        // node-b holds 3 matching pods, node-x 1; the feasible nodes are node-a and node-x.
        let mut b = node("node-b", &[(ZONE, "zone1")]);
        b.taints.push(no_schedule_taint());
        let nodes = vec![
            node("node-a", &[(ZONE, "zone1"), ("role", "web")]),
            b,
            node("node-x", &[(ZONE, "zone2"), ("role", "web")]),
        ];
        let existing = [foo("node-b", 3), foo("node-x", 1)].concat();
        let pod = |affinity: Option<NodeInclusionPolicy>, taints: Option<NodeInclusionPolicy>, selector: bool| {
            let mut c = soft(1, ZONE);
            c.node_affinity_policy = affinity;
            c.node_taints_policy = taints;
            let mut p = incoming(&[("foo", "bar")], vec![c]);
            if selector {
                p.node_selector = labels(&[("role", "web")]);
            }
            p
        };
        let cases = vec![
            ScoreCase {
                // node-b does not match the nodeSelector: zone1 = 0, zone2 = 1; w = ln 4:
                // raw 0 and 1; max 1, min 0: 100, 0.
                name: "with the Honor affinity policy node-b's pods do not count",
                nodes: nodes.clone(),
                existing: existing.clone(),
                pod: pod(None, None, true),
                feasible: &["node-a", "node-x"],
                want_raw: &[0, 1],
                want: &[100, 0],
            },
            ScoreCase {
                // zone1 = 3: round(4.16) = 4, zone2: 1; max 4, min 1: 100*(5-4)/4 = 25, 100.
                name: "with the Ignore affinity policy node-b's pods count",
                nodes: nodes.clone(),
                existing: existing.clone(),
                pod: pod(Some(Ignore), None, true),
                feasible: &["node-a", "node-x"],
                want_raw: &[4, 1],
                want: &[25, 100],
            },
            ScoreCase {
                name: "with the Honor taints policy the untolerated node-b's pods do not count",
                nodes: nodes.clone(),
                existing: existing.clone(),
                pod: pod(None, Some(Honor), false),
                feasible: &["node-a", "node-x"],
                want_raw: &[0, 1],
                want: &[100, 0],
            },
            ScoreCase {
                name: "with the default Ignore taints policy node-b's pods count",
                nodes,
                existing,
                pod: pod(None, None, false),
                feasible: &["node-a", "node-x"],
                want_raw: &[4, 1],
                want: &[25, 100],
            },
        ];
        check_score_cases(cases);
    }

    #[test]
    fn normalize_gives_ignored_nodes_zero_and_100_when_the_maximum_is_zero() {
        let pl = PodTopologySpread::default();
        let c = cluster(vec![node("node-a", &[(ZONE, "zone1")]), node("node-b", &[])], &[]);
        let pod = incoming(&[("foo", "bar")], vec![soft(1, ZONE)]);
        let mut state = CycleState::new();
        let ids = [c.node_id("node-a").unwrap(), c.node_id("node-b").unwrap()];
        assert!(pl.pre_score(&mut state, &c, &pod, &ids).is_success());
        let cases: Vec<(&str, Vec<i64>, Vec<i64>)> = vec![
            ("a maximum of 0 gives 100", vec![0, 7], vec![100, 0]),
            ("the only non-ignored node gets 100*(s+s-s)/s = 100", vec![6, 9], vec![100, 0]),
        ];
        for (name, mut scores, want) in cases {
            assert!(pl.normalize_scores(&state, &pod, &mut scores).is_success());
            assert_eq!(scores, want, "{name}");
        }
        let mut wrong_len = vec![1, 2, 3];
        assert_eq!(pl.normalize_scores(&state, &pod, &mut wrong_len).code, Code::Error);
    }

    #[test]
    fn pre_filter_and_pre_score_skip_without_relevant_constraints() {
        let c = cluster(four_nodes(), &foo("node-a", 1));
        let ids: Vec<NodeId> = c.node_order().to_vec();
        let list = PodTopologySpread::new(PodTopologySpreadArgs {
            default_constraints: vec![
                constraint(1, ZONE, DoNotSchedule, None),
                constraint(1, HOST, ScheduleAnyway, None),
            ],
            defaulting_type: DefaultingType::List,
        })
        .unwrap();
        let cases: Vec<(&str, PodTopologySpread, Pod, Code, Code)> = vec![
            (
                "a pod without constraints under the system defaults (no workload selects it)",
                PodTopologySpread::default(),
                incoming(&[("foo", "bar")], vec![]),
                Code::Skip,
                Code::Skip,
            ),
            (
                "a pod without constraints under List defaults (no workload selects it)",
                list,
                incoming(&[("foo", "bar")], vec![]),
                Code::Skip,
                Code::Skip,
            ),
            (
                "a pod with only ScheduleAnyway constraints skips PreFilter",
                PodTopologySpread::default(),
                incoming(&[("foo", "bar")], vec![soft(1, ZONE)]),
                Code::Skip,
                Code::Success,
            ),
            (
                "a pod with only DoNotSchedule constraints skips PreScore",
                PodTopologySpread::default(),
                incoming(&[("foo", "bar")], vec![hard_zone(1)]),
                Code::Success,
                Code::Skip,
            ),
        ];
        for (name, pl, pod, want_pre_filter, want_pre_score) in cases {
            let mut state = CycleState::new();
            assert_eq!(pl.pre_filter(&mut state, &c, &pod).0.code, want_pre_filter, "{name}: PreFilter");
            assert_eq!(pl.pre_score(&mut state, &c, &pod, &ids).code, want_pre_score, "{name}: PreScore");
        }
        assert_eq!(default_selector(&c, &incoming(&[("foo", "bar")], vec![])), None);
    }

    #[test]
    fn filter_and_score_without_their_pre_pass_are_errors() {
        let pl = PodTopologySpread::default();
        let c = cluster(four_nodes(), &[]);
        let pod = incoming(&[("foo", "bar")], vec![hard_zone(1), soft(1, ZONE)]);
        let state = CycleState::new();
        let n = c.node(c.node_id("node-a").unwrap());
        let st = pl.filter(&state, &c, &pod, n);
        assert_eq!(st.code, Code::Error);
        assert_eq!(st.reasons, vec![r#"error reading "PreFilterPodTopologySpread" from cycleState: not found"#]);
        assert_eq!(pl.score(&state, &c, &pod, n).unwrap_err().code, Code::Error);
        assert_eq!(pl.normalize_scores(&state, &pod, &mut [0]).code, Code::Error);
    }

    #[test]
    fn an_invalid_selector_is_an_error_as_labelselectorasselector_fails_upstream() {
        let c = cluster(four_nodes(), &[]);
        let bad = LabelSelector {
            match_labels: Labels::new(),
            match_expressions: vec![LabelSelectorRequirement {
                key: "foo".into(),
                operator: SelectorOperator::In,
                values: vec![],
            }],
        };
        let pod = incoming(&[("foo", "bar")], vec![constraint(1, ZONE, DoNotSchedule, Some(bad))]);
        let (st, _) = PodTopologySpread::default().pre_filter(&mut CycleState::new(), &c, &pod);
        assert_eq!(st.code, Code::Error);
        assert!(
            st.reasons[0].starts_with("get constraints from pod: obtaining pod's hard topology spread constraints:")
        );
    }

    #[test]
    fn args_default_to_system_defaulting_and_load_from_configuration() {
        assert_eq!(
            PodTopologySpreadArgs::default(),
            PodTopologySpreadArgs { default_constraints: vec![], defaulting_type: DefaultingType::System }
        );
        let pl = PodTopologySpread::new(PodTopologySpreadArgs::default()).unwrap();
        assert!(pl.system_defaulted);
        assert_eq!(pl.default_constraints, system_default_constraints());
        assert_eq!(
            system_default_constraints().iter().map(|c| (c.topology_key.as_str(), c.max_skew)).collect::<Vec<_>>(),
            vec![(HOST, 3), (ZONE, 5)]
        );

        let args: PodTopologySpreadArgs = serde_saphyr::from_str(
            "defaultingType: List\ndefaultConstraints:\n- {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway}\n",
        )
        .unwrap();
        let pl = PodTopologySpread::new(args).unwrap();
        assert!(!pl.system_defaulted);
        assert_eq!(pl.default_constraints, vec![constraint(1, ZONE, ScheduleAnyway, None)]);
        assert_eq!(serde_saphyr::from_str::<PodTopologySpreadArgs>("{}").unwrap(), PodTopologySpreadArgs::default());
        assert!(serde_saphyr::from_str::<PodTopologySpreadArgs>("defaultingType: Other").is_err());
        assert!(serde_saphyr::from_str::<PodTopologySpreadArgs>("defaultConstraint: []").is_err());
    }

    #[test]
    fn args_are_validated_with_upstreams_rules() {
        let list = |cs: Vec<TopologySpreadConstraint>| PodTopologySpreadArgs {
            default_constraints: cs,
            defaulting_type: DefaultingType::List,
        };
        let soft_zone = || constraint(1, ZONE, ScheduleAnyway, None);
        let cases: Vec<(&str, PodTopologySpreadArgs, Result<(), String>)> = vec![
            ("List with no constraints", list(vec![]), Ok(())),
            (
                "List with one hard and one soft constraint on the same key",
                list(vec![soft_zone(), constraint(1, ZONE, DoNotSchedule, None)]),
                Ok(()),
            ),
            (
                "System with constraints",
                PodTopologySpreadArgs {
                    default_constraints: vec![soft_zone()],
                    defaulting_type: DefaultingType::System,
                },
                Err(r#"defaultingType: Invalid value: "System": when .defaultConstraints are not empty"#.into()),
            ),
            (
                "maxSkew 0",
                list(vec![constraint(0, ZONE, ScheduleAnyway, None)]),
                Err("defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range".into()),
            ),
            (
                "an empty topologyKey",
                list(vec![constraint(1, "", ScheduleAnyway, None)]),
                Err("defaultConstraints[0].topologyKey: Required value: can not be empty".into()),
            ),
            (
                "a labelSelector",
                list(vec![constraint(1, ZONE, ScheduleAnyway, foo_exists())]),
                Err("defaultConstraints[0].labelSelector: Forbidden: constraint must not define a selector, \
                     as they deduced for each pod"
                    .into()),
            ),
            (
                "a repeated key and action",
                list(vec![soft_zone(), soft_zone()]),
                Err(r#"defaultConstraints[1]: Duplicate value: "{topology.kubernetes.io/zone, ScheduleAnyway}""#.into()),
            ),
            (
                "several errors are aggregated",
                list(vec![constraint(0, ZONE, ScheduleAnyway, None), constraint(1, "", ScheduleAnyway, None)]),
                Err("[defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range, \
                     defaultConstraints[1].topologyKey: Required value: can not be empty]"
                    .into()),
            ),
        ];
        for (name, args, want) in cases {
            assert_eq!(args.validate(), want, "{name}");
            assert_eq!(PodTopologySpread::new(args).err(), want.err(), "{name}: new");
        }
        let bad_key = list(vec![constraint(1, "not a key", ScheduleAnyway, None)]).validate().unwrap_err();
        assert!(bad_key.starts_with(r#"defaultConstraints[0].topologyKey: Invalid value: "not a key": "#), "{bad_key}");
    }

    #[test]
    fn the_default_profile_enforces_a_hard_zone_spread_constraint() {
        use crate::engine::rng::stream;
        use crate::scheduler::{CycleOutcome, Profile, Scheduler};
        // zone1 holds 2 matching pods, zone2 none: with maxSkew 1 only zone2 nodes fit, although
        // node-a is the emptiest node by resources (the pods here request nothing).
        let c = cluster(four_nodes(), &foo("node-b", 2));
        let pod = incoming(&[("foo", "bar")], vec![hard_zone(1)]);
        for seed in 0..8 {
            let mut s = Scheduler::new(Profile::default_profile(), stream(seed, "s"));
            match s.schedule_one(&c, &pod) {
                CycleOutcome::Selected { node, feasible, .. } => {
                    assert!(["node-x", "node-y"].contains(&c.node(node).node.name.as_str()));
                    assert_eq!(feasible, 2);
                }
                other => panic!("{other:?}"),
            }
        }
        let pod = incoming(&[("foo", "bar")], vec![constraint(1, "rack", DoNotSchedule, foo_exists())]);
        let mut s = Scheduler::new(Profile::default_profile(), stream(1, "s"));
        match s.schedule_one(&c, &pod) {
            CycleOutcome::Unschedulable(d) => assert_eq!(
                d.message(),
                "0/4 nodes are available: 4 node(s) didn't match pod topology spread constraints (missing required label)."
            ),
            other => panic!("{other:?}"),
        }
    }
}
