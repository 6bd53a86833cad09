//! The scheduler: profiles of plugins, the scheduling queue, and the cycle of kube-scheduler's
//! `schedule_one.go`.
//!
//! One cycle: filter nodes in node-tree order starting from a round-robin index until
//! `numFeasibleNodesToFind` feasible nodes are found (adaptive `percentageOfNodesToScore`);
//! a single feasible node is taken without scoring; otherwise each score plugin's
//! normalised score (0..=100) is weighted and summed, and the best node is chosen by seeded
//! reservoir sampling among equal totals (uniform, as upstream's `selectHost` up to v1.33).

pub mod config;
pub mod exec_policy;
pub mod framework;
pub mod plugins;
pub mod policies;
pub mod policy;
pub mod preemption;
pub mod profiles;
pub mod queue;
pub mod registry;
#[cfg(test)]
pub mod testing;

use crate::cluster::{ClusterState, NodeId, NodeState};
use crate::engine::rng::SimRng;
use crate::model::dist::below;
use crate::model::pod::Pod;
use framework::{
    BindPlugin, Code, CycleState, FilterPlugin, MAX_NODE_SCORE, MIN_NODE_SCORE, PermitPlugin, PostFilterPlugin,
    PreFilterPlugin, ReservePlugin, ScorePlugin, Status,
};
use queue::SchedulingQueue;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Upstream `minFeasibleNodesToFind`.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// Upstream `minFeasibleNodesPercentageToFind`.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: i64 = 5;

/// A scheduling profile: the enabled plugins, their weights, and percentageOfNodesToScore.
#[derive(Clone)]
pub struct Profile {
    /// `schedulerName`.
    pub scheduler_name: String,
    /// PreFilter plugins, in order.
    pub pre_filters: Vec<Arc<dyn PreFilterPlugin + Send + Sync>>,
    /// Filter plugins, in order.
    pub filters: Vec<Arc<dyn FilterPlugin + Send + Sync>>,
    /// Score plugins with their weights, in order.
    pub scores: Vec<(Arc<dyn ScorePlugin + Send + Sync>, i64)>,
    /// `percentageOfNodesToScore` (`None` or 0: adaptive).
    pub percentage_of_nodes_to_score: Option<u32>,
    /// PostFilter plugins (DefaultPreemption by default), in order.
    pub post_filters: Vec<Arc<dyn PostFilterPlugin + Send + Sync>>,
    /// Reserve plugins, in order.
    pub reserves: Vec<Arc<dyn ReservePlugin + Send + Sync>>,
    /// Permit plugins, in order.
    pub permits: Vec<Arc<dyn PermitPlugin + Send + Sync>>,
    /// Bind plugins, in order (empty: DefaultBinder).
    pub binders: Vec<Arc<dyn BindPlugin + Send + Sync>>,
}

/// `DefaultPreemptionArgs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreemptionArgs {
    /// `minCandidateNodesPercentage` (default 10).
    pub min_candidate_nodes_percentage: u32,
    /// `minCandidateNodesAbsolute` (default 100).
    pub min_candidate_nodes_absolute: u32,
}

impl Default for PreemptionArgs {
    fn default() -> Self {
        PreemptionArgs { min_candidate_nodes_percentage: 10, min_candidate_nodes_absolute: 100 }
    }
}

impl Profile {
    /// A profile with the named built-in plugins enabled at their default weights.
    pub fn with_plugins(scheduler_name: &str, names: &[&str]) -> Result<Profile, String> {
        let mut p = Profile {
            scheduler_name: scheduler_name.into(),
            pre_filters: vec![],
            filters: vec![],
            scores: vec![],
            percentage_of_nodes_to_score: None,
            post_filters: vec![Arc::new(preemption::DefaultPreemption::default())],
            reserves: vec![],
            permits: vec![],
            binders: vec![],
        };
        for name in names {
            let entry = registry::build(name).ok_or_else(|| format!("unknown plugin {name:?}"))?;
            if let Some(f) = entry.pre_filter {
                p.pre_filters.push(f);
            }
            if let Some(f) = entry.filter {
                p.filters.push(f);
            }
            if let Some(s) = entry.score {
                p.scores.push((s, registry::default_weight(name)));
            }
        }
        Ok(p)
    }

    /// The default profile (the plugins built so far, with upstream's weights).
    pub fn default_profile() -> Profile {
        match Profile::with_plugins(crate::model::pod::DEFAULT_SCHEDULER_NAME, registry::BUILT_IN) {
            Ok(p) => p,
            Err(e) => unreachable!("the built-in plugin list is valid: {e}"),
        }
    }
}

/// `numFeasibleNodesToFind` from `schedule_one.go`.
pub fn num_feasible_nodes_to_find(percentage: Option<u32>, num_all_nodes: usize) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let n = num_all_nodes as i64;
    let mut pct = percentage.unwrap_or(0) as i64;
    if pct == 0 {
        pct = 50 - n / 125;
        if pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND {
            pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
        }
    }
    let found = n * pct / 100;
    if found < MIN_FEASIBLE_NODES_TO_FIND as i64 {
        return MIN_FEASIBLE_NODES_TO_FIND;
    }
    found as usize
}

/// Why a pod could not be placed: the per-reason node counts of upstream's `FitError`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Diagnosis {
    /// Number of nodes in the cluster.
    pub num_all_nodes: usize,
    /// Reason → number of nodes that gave it.
    pub reasons: BTreeMap<String, u32>,
    /// True when some node failed only with resolvable (preemption could help) reasons.
    pub any_resolvable: bool,
    /// The nodes that failed with a plain Unschedulable code (preemption candidates), in the
    /// order they were examined.
    pub resolvable_nodes: Vec<NodeId>,
}

impl Diagnosis {
    /// Upstream's message: `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) ....`
    pub fn message(&self) -> String {
        let mut parts: Vec<String> = self.reasons.iter().map(|(r, c)| format!("{c} {r}")).collect();
        parts.sort();
        if parts.is_empty() {
            format!("0/{} nodes are available.", self.num_all_nodes)
        } else {
            format!("0/{} nodes are available: {}.", self.num_all_nodes, parts.join(", "))
        }
    }
}

/// The outcome of one scheduling cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CycleOutcome {
    /// The pod goes to this node.
    Selected {
        /// The chosen node.
        node: NodeId,
        /// Nodes examined by the filters.
        examined: usize,
        /// Feasible nodes found.
        feasible: usize,
        /// The chosen node's weighted total (None when it was the only feasible node).
        total_score: Option<i64>,
    },
    /// No node fits.
    Unschedulable(Diagnosis),
    /// A plugin failed internally.
    Error(String),
}

/// The state PreFilter leaves for the rest of a cycle.
pub struct Prepared {
    /// Per-cycle plugin data.
    pub state: CycleState,
    /// Indexes into the profile's filters of those not skipped by their PreFilter.
    active_filters: Vec<usize>,
    allowed: Option<BTreeSet<String>>,
    /// The reason for nodes outside `allowed`.
    allowed_reason: String,
}

/// What PreFilter decided.
pub enum PreFilterOutcome {
    /// Go on filtering.
    Ready(Prepared),
    /// The pod fits nowhere.
    Rejected(Diagnosis),
    /// An internal error.
    Error(String),
}

/// One score plugin's normalised scores over the feasible nodes (`None`: PreScore skipped it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginScores {
    /// The plugin name.
    pub name: &'static str,
    /// Its weight.
    pub weight: i64,
    /// Normalised scores, one per feasible node, or `None` when skipped.
    pub scores: Option<Vec<i64>>,
}

/// Reason given for nodes outside a PreFilter node-name result, as upstream words it:
/// `node(s) didn't satisfy plugin(s) [NodeAffinity]`.
pub fn pre_filter_result_reason(plugins: &BTreeSet<&'static str>) -> String {
    let names: Vec<&str> = plugins.iter().copied().collect();
    format!("node(s) didn't satisfy plugin(s) [{}]", names.join(" "))
}

impl Profile {
    /// Runs every PreFilter plugin.
    pub fn pre_filter(&self, cluster: &ClusterState, pod: &Pod) -> PreFilterOutcome {
        let n = cluster.nodes().len();
        let mut state = CycleState::new();
        let mut skipped: BTreeSet<&'static str> = BTreeSet::new();
        let mut allowed: Option<BTreeSet<String>> = None;
        let mut restricting: BTreeSet<&'static str> = BTreeSet::new();
        for p in &self.pre_filters {
            let (st, nodes) = p.pre_filter(&mut state, cluster, pod);
            match st.code {
                Code::Success => {}
                Code::Skip => {
                    skipped.insert(p.name());
                }
                Code::Error => {
                    return PreFilterOutcome::Error(format!("{}: PreFilter: {}", p.name(), st.reasons.join("; ")));
                }
                _ => {
                    let reasons = st.reasons.iter().map(|r| (r.clone(), n as u32)).collect();
                    return PreFilterOutcome::Rejected(Diagnosis {
                        num_all_nodes: n,
                        reasons,
                        any_resolvable: false,
                        resolvable_nodes: vec![],
                    });
                }
            }
            if let Some(names) = nodes {
                restricting.insert(p.name());
                allowed = Some(match allowed {
                    None => names,
                    Some(a) => a.intersection(&names).cloned().collect(),
                });
            }
        }
        if allowed.as_ref().is_some_and(|a| a.is_empty()) {
            return PreFilterOutcome::Rejected(Diagnosis {
                num_all_nodes: n,
                reasons: BTreeMap::from([(pre_filter_result_reason(&restricting), n as u32)]),
                any_resolvable: false,
                resolvable_nodes: vec![],
            });
        }
        let active_filters =
            self.filters.iter().enumerate().filter(|(_, f)| !skipped.contains(f.name())).map(|(i, _)| i).collect();
        let allowed_reason = pre_filter_result_reason(&restricting);
        PreFilterOutcome::Ready(Prepared { state, active_filters, allowed, allowed_reason })
    }

    /// Runs the Filter plugins on one node, stopping at the first failure (upstream
    /// `RunFilterPlugins`).
    pub fn filter_node(&self, prepared: &Prepared, cluster: &ClusterState, pod: &Pod, node: &NodeState) -> Status {
        if let Some(a) = &prepared.allowed
            && !a.contains(&node.node.name)
        {
            return Status::unresolvable(prepared.allowed_reason.clone());
        }
        for i in &prepared.active_filters {
            let st = self.filters[*i].filter(&prepared.state, cluster, pod, node);
            if !st.is_success() {
                return st;
            }
        }
        Status::success()
    }

    /// Runs PreScore, Score and NormalizeScore for every score plugin over `feasible`.
    pub fn score_nodes(
        &self,
        state: &mut CycleState,
        cluster: &ClusterState,
        pod: &Pod,
        feasible: &[NodeId],
    ) -> Result<Vec<PluginScores>, String> {
        let mut out = Vec::with_capacity(self.scores.len());
        for (plugin, weight) in &self.scores {
            let st = plugin.pre_score(state, cluster, pod, feasible);
            match st.code {
                Code::Skip => {
                    out.push(PluginScores { name: plugin.name(), weight: *weight, scores: None });
                    continue;
                }
                Code::Success => {}
                _ => return Err(format!("{}: PreScore: {}", plugin.name(), st.reasons.join("; "))),
            }
            let mut scores = Vec::with_capacity(feasible.len());
            for id in feasible {
                scores.push(
                    plugin
                        .score(state, cluster, pod, cluster.node(*id))
                        .map_err(|st| format!("{}: Score: {}", plugin.name(), st.reasons.join("; ")))?,
                );
            }
            let st = plugin.normalize_scores(state, pod, &mut scores);
            if !st.is_success() {
                return Err(format!("{}: NormalizeScore: {}", plugin.name(), st.reasons.join("; ")));
            }
            if let Some(s) = scores.iter().find(|s| !(MIN_NODE_SCORE..=MAX_NODE_SCORE).contains(*s)) {
                return Err(format!("{}: score {s} is outside [0, 100]", plugin.name()));
            }
            out.push(PluginScores { name: plugin.name(), weight: *weight, scores: Some(scores) });
        }
        Ok(out)
    }
}

/// The weighted totals of per-plugin scores (upstream: every node gets 1 without score plugins).
pub fn weighted_totals(per_plugin: &[PluginScores], n: usize) -> Vec<i64> {
    if per_plugin.is_empty() {
        return vec![1; n];
    }
    let mut totals = vec![0i64; n];
    for p in per_plugin {
        if let Some(s) = &p.scores {
            for (t, v) in totals.iter_mut().zip(s) {
                *t += v * p.weight;
            }
        }
    }
    totals
}

/// The scheduler: its profiles (one per `schedulerName`), the one scheduling queue they share,
/// the round-robin start index and its RNG stream.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Scheduler {
    /// The profiles, in configuration order (not checkpointed: rebuilt from the scenario).
    #[serde(skip)]
    pub profiles: Vec<Profile>,
    /// The scheduling queue.
    pub queue: SchedulingQueue,
    next_start_node_index: usize,
    rng: SimRng,
}

impl Scheduler {
    /// A scheduler with one profile and an empty queue.
    pub fn new(profile: Profile, rng: SimRng) -> Self {
        Scheduler::with_profiles(vec![profile], rng)
    }

    /// A scheduler with several profiles and an empty queue.
    pub fn with_profiles(profiles: Vec<Profile>, rng: SimRng) -> Self {
        Scheduler { profiles, queue: SchedulingQueue::default(), next_start_node_index: 0, rng }
    }

    /// Sets the queue's backoff bounds (podInitialBackoffSeconds / podMaxBackoffSeconds).
    pub fn with_backoff(
        mut self,
        initial: crate::engine::time::SimDuration,
        max: crate::engine::time::SimDuration,
    ) -> Self {
        self.queue = SchedulingQueue::new(initial, max);
        self
    }

    /// The profile serving `scheduler_name`, if any (pods naming no profile are never scheduled).
    pub fn profile_for(&self, scheduler_name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.scheduler_name == scheduler_name)
    }

    /// The scheduler's RNG stream (tie-breaks, preemption offsets).
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.rng
    }

    /// Runs one scheduling cycle for `pod` against `cluster` (read-only). `nominated` is the
    /// pod's nominated node, tried first; `view` gives the node as the filters must see it (with
    /// higher-priority nominated pods added).
    pub fn schedule_one_with(
        &mut self,
        cluster: &ClusterState,
        pod: &Pod,
        nominated: Option<NodeId>,
        view: &dyn Fn(NodeId) -> Option<NodeState>,
    ) -> CycleOutcome {
        let order = cluster.node_order();
        let n = order.len();
        if n == 0 {
            return CycleOutcome::Unschedulable(Diagnosis {
                num_all_nodes: 0,
                reasons: BTreeMap::from([("no nodes available to schedule pods".to_string(), 0)]),
                ..Default::default()
            });
        }
        let Some(profile) = self.profiles.iter().find(|p| p.scheduler_name == pod.scheduler_name) else {
            return CycleOutcome::Error(format!("no profile serves schedulerName {:?}", pod.scheduler_name));
        };
        let mut prepared = match profile.pre_filter(cluster, pod) {
            PreFilterOutcome::Ready(p) => p,
            PreFilterOutcome::Rejected(d) => return CycleOutcome::Unschedulable(d),
            PreFilterOutcome::Error(e) => return CycleOutcome::Error(e),
        };
        let check = |prepared: &Prepared, id: NodeId| match view(id) {
            Some(v) => profile.filter_node(prepared, cluster, pod, &v),
            None => profile.filter_node(prepared, cluster, pod, cluster.node(id)),
        };
        if let Some(nn) = nominated
            && (nn.0 as usize) < n
            && check(&prepared, nn).is_success()
        {
            return CycleOutcome::Selected { node: nn, examined: 1, feasible: 1, total_score: None };
        }
        let mut num_to_find = num_feasible_nodes_to_find(profile.percentage_of_nodes_to_score, n);
        if profile.scores.is_empty() {
            num_to_find = 1;
        }
        let start = self.next_start_node_index % n;
        let mut feasible: Vec<NodeId> = Vec::with_capacity(num_to_find.min(n));
        let mut diagnosis = Diagnosis { num_all_nodes: n, ..Default::default() };
        let mut processed = 0;
        for i in 0..n {
            let id = order[(start + i) % n];
            processed += 1;
            let verdict = check(&prepared, id);
            match verdict.code {
                Code::Success => {
                    feasible.push(id);
                    if feasible.len() >= num_to_find {
                        break;
                    }
                }
                Code::Error => return CycleOutcome::Error(verdict.reasons.join("; ")),
                code => {
                    if code == Code::Unschedulable {
                        diagnosis.any_resolvable = true;
                        diagnosis.resolvable_nodes.push(id);
                    }
                    for r in verdict.reasons {
                        *diagnosis.reasons.entry(r).or_insert(0) += 1;
                    }
                }
            }
        }
        self.next_start_node_index = (start + processed) % n;
        if feasible.is_empty() {
            return CycleOutcome::Unschedulable(diagnosis);
        }
        if feasible.len() == 1 {
            return CycleOutcome::Selected { node: feasible[0], examined: processed, feasible: 1, total_score: None };
        }
        let per_plugin = match profile.score_nodes(&mut prepared.state, cluster, pod, &feasible) {
            Ok(t) => t,
            Err(e) => return CycleOutcome::Error(e),
        };
        let totals = weighted_totals(&per_plugin, feasible.len());
        let (best, total) = self.select_host(&feasible, &totals);
        CycleOutcome::Selected { node: best, examined: processed, feasible: feasible.len(), total_score: Some(total) }
    }

    /// Runs the profile's PostFilter plugins (DefaultPreemption) for `pod` after `diagnosis`;
    /// returns the first node they make room on, with its victims.
    pub fn preempt(
        &mut self,
        cluster: &mut ClusterState,
        pod: crate::cluster::PodId,
        diagnosis: &Diagnosis,
    ) -> Option<preemption::Candidate> {
        if !diagnosis.any_resolvable {
            return None;
        }
        let name = &cluster.pod(pod).pod.scheduler_name;
        let profile = self.profiles.iter().find(|x| &x.scheduler_name == name)?;
        for pf in &profile.post_filters {
            if let Some(c) = pf.post_filter(profile, cluster, pod, diagnosis, &mut self.rng) {
                return Some(c);
            }
        }
        None
    }

    /// [`Scheduler::schedule_one_with`] without a nominated node or nominated pods.
    pub fn schedule_one(&mut self, cluster: &ClusterState, pod: &Pod) -> CycleOutcome {
        self.schedule_one_with(cluster, pod, None, &|_| None)
    }

    /// Seeded reservoir sampling among the nodes with the highest total (upstream `selectHost`).
    fn select_host(&mut self, feasible: &[NodeId], totals: &[i64]) -> (NodeId, i64) {
        let mut best = feasible[0];
        let mut max = totals[0];
        let mut count = 1u64;
        for (id, t) in feasible.iter().zip(totals).skip(1) {
            if *t > max {
                max = *t;
                best = *id;
                count = 1;
            } else if *t == max {
                count += 1;
                if below(&mut self.rng, count) == 0 {
                    best = *id;
                }
            }
        }
        (best, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;
    use crate::model::node::Node;
    use crate::model::resources::{CPU, MEMORY};
    use testing::make_pod;

    #[test]
    fn feasible_nodes_to_find_follows_the_adaptive_percentage() {
        let cases = [(99, 99), (100, 100), (200, 100), (250, 120), (1000, 420), (5000, 500), (6000, 300), (15000, 750)];
        for (n, want) in cases {
            assert_eq!(num_feasible_nodes_to_find(None, n), want, "N={n}");
        }
        assert_eq!(num_feasible_nodes_to_find(Some(100), 5000), 5000);
        assert_eq!(num_feasible_nodes_to_find(Some(1), 5000), 100);
    }

    fn cluster(nodes: &[(&str, i64)]) -> ClusterState {
        let mut c = ClusterState::new();
        for (name, cpu) in nodes {
            let mut n = testing::make_node(name, *cpu, 1 << 34, 110).node;
            n.labels.insert("topology.kubernetes.io/zone".into(), "z".into());
            c.add_node(Node { ..n }).unwrap();
        }
        c
    }

    #[test]
    fn the_least_allocated_node_wins() {
        let c = cluster(&[("small", 2000), ("big", 8000)]);
        let mut s = Scheduler::new(Profile::default_profile(), stream(1, "s"));
        let pod = make_pod("p", &[(CPU, 1000), (MEMORY, 1 << 20)]);
        match s.schedule_one(&c, &pod) {
            CycleOutcome::Selected { node, feasible, .. } => {
                assert_eq!(c.node(node).node.name, "big");
                assert_eq!(feasible, 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unschedulable_pod_gets_upstreams_message() {
        let c = cluster(&[("a", 1000), ("b", 1000)]);
        let mut s = Scheduler::new(Profile::default_profile(), stream(1, "s"));
        let pod = make_pod("p", &[(CPU, 4000)]);
        match s.schedule_one(&c, &pod) {
            CycleOutcome::Unschedulable(d) => assert_eq!(d.message(), "0/2 nodes are available: 2 Insufficient cpu."),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ties_are_broken_by_the_seeded_rng_and_reach_every_best_node() {
        let c = cluster(&[("a", 4000), ("b", 4000), ("c", 4000)]);
        let pod = make_pod("p", &[(CPU, 1000)]);
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..30 {
            let mut s = Scheduler::new(Profile::default_profile(), stream(seed, "s"));
            if let CycleOutcome::Selected { node, .. } = s.schedule_one(&c, &pod) {
                seen.insert(node);
            }
        }
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn nodes_are_visited_from_a_round_robin_start_index() {
        let c = cluster(&[("a", 4000), ("b", 4000)]);
        let profile = Profile { scores: vec![], ..Profile::default_profile() };
        let mut s = Scheduler::new(profile, stream(1, "s"));
        let pod = make_pod("p", &[(CPU, 1)]);
        let picks: Vec<String> = (0..4)
            .map(|_| match s.schedule_one(&c, &pod) {
                CycleOutcome::Selected { node, .. } => c.node(node).node.name.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(picks, vec!["a", "b", "a", "b"]);
    }
}
