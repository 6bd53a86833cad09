//! DefaultPreemption, the PostFilter of kube-scheduler v1.33
//! (`framework/plugins/defaultpreemption`, `framework/preemption/preemption.go`).
//!
//! For a pod that fits nowhere: the candidate nodes are those that failed with a plain
//! Unschedulable status; from a seeded offset, at least `max(10%, 100)` of them are dry-run: all
//! lower-priority pods are taken off the node, the pod must then fit, and pods are added back
//! ("reprieved") from the most important down while it still fits; the rest are victims. The
//! node is chosen by upstream's six criteria in order.
//!
//! PodDisruptionBudgets count as upstream's `filterPodsWithPDBViolation`: the potential victims
//! (most important first) are split into those whose eviction would take a covering budget's
//! `disruptionsAllowed` (as last computed, see [`crate::controllers::disruption`]) below zero and
//! the others; the violating ones are reprieved first, and each violating pod that stays a victim
//! counts one violation.
//!
//! **Simplification (documented):** the dry runs go through the nodes sequentially (upstream runs
//! them in parallel, which makes its candidate order nondeterministic); nominated pods are not
//! added during dry runs.

use crate::cluster::{ClusterState, NodeId, PodId};
use crate::engine::rng::SimRng;
use crate::engine::time::SimTime;
use crate::model::dist::below;
use crate::scheduler::{Diagnosis, PreFilterOutcome, PreemptionArgs, Profile};

/// A node where preemption would make room, and the pods it would evict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The node.
    pub node: NodeId,
    /// The victims, most important first.
    pub victims: Vec<PodId>,
    /// Victims whose eviction would violate a PodDisruptionBudget.
    pub pdb_violations: usize,
}

/// `calculateNumCandidates`.
pub fn num_candidates(args: &PreemptionArgs, num_nodes: usize) -> usize {
    let mut n = num_nodes * args.min_candidate_nodes_percentage as usize / 100;
    if n < args.min_candidate_nodes_absolute as usize {
        n = args.min_candidate_nodes_absolute as usize;
    }
    n.min(num_nodes)
}

fn fits_on(profile: &Profile, cluster: &ClusterState, pod: PodId, node: NodeId) -> bool {
    let p = &cluster.pod(pod).pod;
    match profile.pre_filter(cluster, p) {
        PreFilterOutcome::Ready(prepared) => {
            profile.filter_node(&prepared, cluster, p, cluster.node(node)).is_success()
        }
        _ => false,
    }
}

fn start_time(cluster: &ClusterState, p: PodId) -> SimTime {
    let s = cluster.pod(p);
    s.started.unwrap_or(s.created)
}

/// `SelectVictimsOnNode`: the fewest (least important) lower-priority pods to remove from `node`
/// so that `pod` fits, or `None`. Leaves the cluster exactly as it found it.
pub fn select_victims_on_node(
    profile: &Profile,
    cluster: &mut ClusterState,
    pod: PodId,
    node: NodeId,
) -> Option<Candidate> {
    let priority = cluster.pod(pod).pod.priority;
    let mut potential: Vec<PodId> =
        cluster.node(node).pods.iter().copied().filter(|v| cluster.pod(*v).pod.priority < priority).collect();
    if potential.is_empty() {
        return None;
    }
    for v in &potential {
        cluster.detach(*v);
    }
    if !fits_on(profile, cluster, pod, node) {
        for v in &potential {
            cluster.attach(*v);
        }
        return None;
    }
    // MoreImportantPod: higher priority first; equal priority: the one that started earlier.
    potential.sort_by(|a, b| {
        let (pa, pb) = (cluster.pod(*a).pod.priority, cluster.pod(*b).pod.priority);
        pb.cmp(&pa).then_with(|| start_time(cluster, *a).cmp(&start_time(cluster, *b))).then_with(|| a.cmp(b))
    });
    let (violating, non_violating) =
        crate::controllers::disruption::filter_pods_with_pdb_violation(cluster, &potential);
    let mut victims = Vec::new();
    let mut pdb_violations = 0;
    for (v, violates) in violating.iter().map(|v| (v, true)).chain(non_violating.iter().map(|v| (v, false))) {
        cluster.attach(*v);
        if !fits_on(profile, cluster, pod, node) {
            cluster.detach(*v);
            victims.push(*v);
            if violates {
                pdb_violations += 1;
            }
        }
    }
    for v in &victims {
        cluster.attach(*v);
    }
    Some(Candidate { node, victims, pdb_violations })
}

/// `pickOneNodeForPreemption`: fewest PDB violations; lowest highest-victim priority; smallest
/// sum of victim priorities (each shifted by 2^31); fewest victims; latest earliest start time
/// among the highest-priority victims; then the first candidate.
pub fn pick_one_node(cluster: &ClusterState, candidates: &[Candidate]) -> Option<usize> {
    let mut idx: Vec<usize> = (0..candidates.len()).collect();
    let keep_min = |idx: &mut Vec<usize>, key: &dyn Fn(&Candidate) -> i64| {
        let best = idx.iter().map(|i| key(&candidates[*i])).min();
        if let Some(b) = best {
            idx.retain(|i| key(&candidates[*i]) == b);
        }
    };
    keep_min(&mut idx, &|c| c.pdb_violations as i64);
    let max_prio =
        |c: &Candidate| c.victims.iter().map(|v| cluster.pod(*v).pod.priority as i64).max().unwrap_or(i64::MIN);
    keep_min(&mut idx, &max_prio);
    keep_min(&mut idx, &|c| c.victims.iter().map(|v| cluster.pod(*v).pod.priority as i64 + i32::MAX as i64 + 1).sum());
    keep_min(&mut idx, &|c| c.victims.len() as i64);
    // Latest earliest-start-time among the highest-priority victims: minimise its negation.
    keep_min(&mut idx, &|c| {
        let hp = max_prio(c);
        let earliest = c
            .victims
            .iter()
            .filter(|v| cluster.pod(**v).pod.priority as i64 == hp)
            .map(|v| start_time(cluster, *v).0 as i64)
            .min()
            .unwrap_or(0);
        -earliest
    });
    idx.first().copied()
}

/// The DefaultPreemption PostFilter plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DefaultPreemption {
    /// Its arguments.
    pub args: PreemptionArgs,
}

/// The plugin name.
pub const NAME: &str = "DefaultPreemption";

impl crate::scheduler::framework::Plugin for DefaultPreemption {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl crate::scheduler::framework::PostFilterPlugin for DefaultPreemption {
    fn post_filter(
        &self,
        profile: &Profile,
        cluster: &mut ClusterState,
        pod: PodId,
        diagnosis: &Diagnosis,
        rng: &mut SimRng,
    ) -> Option<Candidate> {
        if cluster.pod(pod).pod.preemption_policy == crate::model::pod::PreemptionPolicy::Never {
            return None;
        }
        preempt(profile, &self.args, cluster, pod, diagnosis, rng)
    }
}

/// Runs DefaultPreemption for `pod` after a failed cycle; returns the chosen candidate.
pub fn preempt(
    profile: &Profile,
    args: &PreemptionArgs,
    cluster: &mut ClusterState,
    pod: PodId,
    diagnosis: &Diagnosis,
    rng: &mut SimRng,
) -> Option<Candidate> {
    let potential = &diagnosis.resolvable_nodes;
    if potential.is_empty() {
        return None;
    }
    let n = potential.len();
    let offset = below(rng, n as u64) as usize;
    let wanted = num_candidates(args, n);
    let mut non_violating = Vec::new();
    let mut violating = Vec::new();
    for i in 0..n {
        let node = potential[(offset + i) % n];
        if let Some(c) = select_victims_on_node(profile, cluster, pod, node) {
            if c.pdb_violations == 0 {
                non_violating.push(c);
            } else {
                violating.push(c);
            }
        }
        if !non_violating.is_empty() && non_violating.len() + violating.len() >= wanted {
            break;
        }
    }
    non_violating.extend(violating);
    let chosen = pick_one_node(cluster, &non_violating)?;
    Some(non_violating.swap_remove(chosen))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::node::Node;
    use crate::model::resources::CPU;
    use crate::scheduler::testing::{make_node, make_pod};

    fn cluster_with(nodes: &[(&str, i64)], pods: &[(&str, &str, i64, i32)]) -> ClusterState {
        let mut c = ClusterState::new();
        for (n, cpu) in nodes {
            c.add_node(Node { ..make_node(n, *cpu, 1 << 34, 110).node }).unwrap();
        }
        for (i, (name, node, cpu, prio)) in pods.iter().enumerate() {
            let mut p = make_pod(name, &[(CPU, *cpu)]);
            p.priority = *prio;
            let id = c.add_pod(p, SimTime(i as u64)).unwrap();
            let nid = c.node_id(node).unwrap();
            c.bind(id, nid, SimTime(i as u64)).unwrap();
            c.mark_running(id, SimTime(i as u64));
        }
        c
    }

    #[test]
    fn the_number_of_candidates_is_at_least_the_absolute_minimum() {
        let a = PreemptionArgs::default();
        assert_eq!(num_candidates(&a, 50), 50);
        assert_eq!(num_candidates(&a, 500), 100);
        assert_eq!(num_candidates(&a, 5000), 500);
    }

    #[test]
    fn only_the_least_important_pods_needed_are_victims() {
        // A 4-cpu node with three 1-cpu pods of priority 1, 2, 3 and a free cpu; the preemptor
        // needs 2 cpu: one victim suffices, and it is the lowest-priority one.
        let mut c = cluster_with(&[("n", 4000)], &[("a", "n", 1000, 3), ("b", "n", 1000, 1), ("c", "n", 1000, 2)]);
        let mut p = make_pod("pre", &[(CPU, 2000)]);
        p.priority = 10;
        let pid = c.add_pod(p, SimTime(100)).unwrap();
        let cand = select_victims_on_node(&Profile::default_profile(), &mut c, pid, NodeId(0)).unwrap();
        let names: Vec<&str> = cand.victims.iter().map(|v| c.pod(*v).pod.name.as_str()).collect();
        assert_eq!(names, vec!["b"]);
        crate::cluster::invariants::check(&c).unwrap();
        assert_eq!(c.node(NodeId(0)).pods.len(), 3, "the dry run restores the node");
    }

    #[test]
    fn pods_of_equal_or_higher_priority_are_never_victims() {
        let mut c = cluster_with(&[("n", 2000)], &[("a", "n", 2000, 10)]);
        let mut p = make_pod("pre", &[(CPU, 1000)]);
        p.priority = 10;
        let pid = c.add_pod(p, SimTime(100)).unwrap();
        assert_eq!(select_victims_on_node(&Profile::default_profile(), &mut c, pid, NodeId(0)), None);
    }

    #[test]
    fn the_node_with_the_lowest_priority_victims_is_chosen() {
        let c = cluster_with(&[("x", 2000), ("y", 2000)], &[("hi", "x", 2000, 5), ("lo", "y", 2000, 1)]);
        let cands = vec![
            Candidate { node: NodeId(0), victims: vec![PodId(0)], pdb_violations: 0 },
            Candidate { node: NodeId(1), victims: vec![PodId(1)], pdb_violations: 0 },
        ];
        assert_eq!(pick_one_node(&c, &cands), Some(1));
    }

    #[test]
    fn with_equal_priorities_fewer_victims_win_then_the_latest_started() {
        let c = cluster_with(
            &[("x", 4000), ("y", 4000), ("z", 4000)],
            &[("a", "x", 1000, 1), ("b", "x", 1000, 1), ("c", "y", 1000, 1), ("d", "z", 1000, 1)],
        );
        let two = Candidate { node: NodeId(0), victims: vec![PodId(0), PodId(1)], pdb_violations: 0 };
        let early = Candidate { node: NodeId(1), victims: vec![PodId(2)], pdb_violations: 0 };
        let late = Candidate { node: NodeId(2), victims: vec![PodId(3)], pdb_violations: 0 };
        // Sum of shifted priorities is smaller with one victim; c started at 2, d at 3: d is later.
        assert_eq!(pick_one_node(&c, &[two, early, late]), Some(2));
    }

    #[test]
    fn victims_covered_by_an_exhausted_budget_count_as_pdb_violations_and_are_reprieved_first() {
        use crate::controllers::disruption::{IntOrPercent, Pdb, PdbStatus};
        use crate::model::selector::{LabelSelector, Labels};
        // Node x: two 1-cpu pods "a" (budgeted, older) and "b" (free); preemptor needs 1 cpu of 2.
        let mut c = cluster_with(&[("x", 2000)], &[("a", "x", 1000, 1), ("b", "x", 1000, 1)]);
        let mut labelled = c.pod(PodId(0)).pod.clone();
        labelled.labels = Labels::from([("app".to_string(), "db".to_string())]);
        // Rebuild with the label on "a".
        let mut c2 = ClusterState::new();
        c2.add_node(make_node("x", 2000, 1 << 34, 110).node).unwrap();
        for (i, p) in [labelled, c.pod(PodId(1)).pod.clone()].into_iter().enumerate() {
            let id = c2.add_pod(p, SimTime(i as u64)).unwrap();
            c2.bind(id, NodeId(0), SimTime(i as u64)).unwrap();
            c2.mark_running(id, SimTime(i as u64));
        }
        c = c2;
        c.add_pdb(Pdb {
            name: "db".into(),
            namespace: "default".into(),
            selector: Some(LabelSelector {
                match_labels: Labels::from([("app".to_string(), "db".to_string())]),
                ..Default::default()
            }),
            min_available: Some(IntOrPercent::Int(1)),
            max_unavailable: None,
        });
        c.set_pdb_status(
            0,
            PdbStatus { expected_pods: 1, current_healthy: 1, desired_healthy: 1, disruptions_allowed: 0 },
        );
        let mut p = make_pod("pre", &[(CPU, 1000)]);
        p.priority = 10;
        let pid = c.add_pod(p, SimTime(100)).unwrap();
        let cand = select_victims_on_node(&Profile::default_profile(), &mut c, pid, NodeId(0)).unwrap();
        // "a" violates: it is reprieved first and fits back; "b" becomes the victim.
        assert_eq!((cand.victims.clone(), cand.pdb_violations), (vec![PodId(1)], 0));
        // Preemptor needing both cpus: "a" must go too, counting one violation.
        let mut p = make_pod("big", &[(CPU, 2000)]);
        p.priority = 10;
        let big = c.add_pod(p, SimTime(101)).unwrap();
        let cand = select_victims_on_node(&Profile::default_profile(), &mut c, big, NodeId(0)).unwrap();
        assert_eq!(cand.pdb_violations, 1);
        assert_eq!(cand.victims.len(), 2);
    }
}
