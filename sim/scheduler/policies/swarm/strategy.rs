//! The three Swarm strategies as pure functions over [`NodeInfo`] (the nodes in node-tree order,
//! each with its task counts and whether it passes every filter).
//!
//! - **spread**, SwarmKit's only strategy (`manager/scheduler/scheduler.go`
//!   `scheduleTaskGroup`, `nodeset.go` `tree`): nodes are grouped into a decision tree by the
//!   values of the placement preferences' labels (one level per preference); at each level the
//!   task goes to a branch holding fewer of the service's tasks than the even share
//!   (`scheduleNTasksOnSubtree`), and within a leaf to the node with the fewest tasks of the
//!   service, then the fewest tasks in total (`nodeLess`).
//! - **binpack**, from classic (standalone) Docker Swarm (`scheduler/strategy/binpack.go`), since
//!   SwarmKit has no bin packing: weight = `(used + requested) · 100 / total` for CPU plus the
//!   same for memory (100 each when the task requests none) plus `10 · 100` for a healthy node;
//!   the highest weight wins, then the node with more containers.
//! - **random**, also classic Swarm (`strategy/random.go`): a uniformly random feasible node.
//!
//! Where upstream leaves an order to a Go map or a heap, ties here go to the earlier node in node
//! order and branches are visited in label-value order.

use crate::cluster::NodeId;
use std::collections::BTreeMap;

/// What a strategy sees of one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// The node.
    pub id: NodeId,
    /// The node's value of each placement preference, in preference order.
    pub branch: Vec<String>,
    /// Active tasks of the service on the node (`ActiveTasksCountByService`).
    pub service_tasks: u64,
    /// Active tasks on the node (`ActiveTasksCount`).
    pub total_tasks: u64,
    /// Passes every filter (the pipeline's `Process`).
    pub feasible: bool,
    /// Allocatable CPU, millicores.
    pub cpu_total_millis: i64,
    /// Requested CPU, millicores.
    pub cpu_used_millis: i64,
    /// Allocatable memory, bytes.
    pub memory_total_bytes: i64,
    /// Requested memory, bytes.
    pub memory_used_bytes: i64,
}

/// `nodeLess`: fewer tasks of the service, then fewer tasks in total.
fn less_key(n: &NodeInfo) -> (u64, u64) {
    (n.service_tasks, n.total_tasks)
}

#[derive(Default)]
struct Tree<'a> {
    tasks: u64,
    next: BTreeMap<&'a str, Tree<'a>>,
    nodes: Vec<&'a NodeInfo>,
}

fn build(nodes: &[NodeInfo]) -> Tree<'_> {
    let mut root = Tree::default();
    for n in nodes {
        let mut t = &mut root;
        for v in &n.branch {
            t.tasks += n.service_tasks;
            t = t.next.entry(v.as_str()).or_default();
        }
        t.tasks += n.service_tasks;
        if n.feasible {
            t.nodes.push(n);
        }
    }
    root
}

/// `scheduleNTasksOnSubtree` for one task: the node it goes to, if any.
fn choose_in(tree: &Tree<'_>) -> Option<NodeId> {
    if tree.next.is_empty() {
        return tree.nodes.iter().min_by_key(|n| less_key(n)).map(|n| n.id);
    }
    let branches: Vec<&Tree<'_>> = tree.next.values().collect();
    let mut no_room = vec![false; branches.len()];
    let mut usable_tasks = tree.tasks;
    while no_room.iter().any(|x| !x) {
        let usable = no_room.iter().filter(|x| !**x).count() as u64;
        let desired = (usable_tasks + 1) / usable;
        let remainder = (usable_tasks + 1) % usable;
        let mut progressed = false;
        for (i, b) in branches.iter().enumerate() {
            if no_room[i] {
                continue;
            }
            if b.tasks < desired || (b.tasks == desired && remainder > 0) {
                progressed = true;
                match choose_in(b) {
                    Some(n) => return Some(n),
                    None => {
                        no_room[i] = true;
                        usable_tasks -= b.tasks;
                    }
                }
            }
        }
        if !progressed {
            break;
        }
    }
    None
}

/// SwarmKit spread: the node for the next task of the service.
pub fn spread(nodes: &[NodeInfo]) -> Option<NodeId> {
    choose_in(&build(nodes))
}

/// Classic Swarm's binpack weight of a node for a task requesting `cpu_millis` and
/// `memory_bytes`, `None` when the node is too small (a score above 100).
pub fn binpack_weight(n: &NodeInfo, cpu_millis: i64, memory_bytes: i64) -> Option<i64> {
    const HEALTH_FACTOR: i64 = 10;
    const HEALTHY: i64 = 100;
    if n.memory_total_bytes < memory_bytes || n.cpu_total_millis < cpu_millis {
        return None;
    }
    let mut cpu = 100;
    let mut mem = 100;
    if cpu_millis > 0 {
        cpu = ((n.cpu_used_millis + cpu_millis) as i128 * 100 / n.cpu_total_millis.max(1) as i128) as i64;
    }
    if memory_bytes > 0 {
        mem = ((n.memory_used_bytes + memory_bytes) as i128 * 100 / n.memory_total_bytes.max(1) as i128) as i64;
    }
    (cpu <= 100 && mem <= 100).then_some(cpu + mem + HEALTH_FACTOR * HEALTHY)
}

/// Classic Swarm binpack: the feasible node with the highest weight, then the most tasks, then
/// the earliest in node order.
pub fn binpack(nodes: &[NodeInfo], cpu_millis: i64, memory_bytes: i64) -> Option<NodeId> {
    let mut best: Option<(i64, u64, usize)> = None;
    for (i, n) in nodes.iter().enumerate() {
        if !n.feasible {
            continue;
        }
        let Some(w) = binpack_weight(n, cpu_millis, memory_bytes) else { continue };
        if best.is_none_or(|(bw, bt, _)| (w, n.total_tasks) > (bw, bt)) {
            best = Some((w, n.total_tasks, i));
        }
    }
    best.map(|(_, _, i)| nodes[i].id)
}

/// Classic Swarm random: the feasible node at `draw(count)` (uniform in `0..count`).
pub fn random(nodes: &[NodeInfo], draw: &mut dyn FnMut(usize) -> usize) -> Option<NodeId> {
    let feasible: Vec<NodeId> = nodes.iter().filter(|n| n.feasible).map(|n| n.id).collect();
    if feasible.is_empty() { None } else { Some(feasible[draw(feasible.len())]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: u32, zone: &str, service: u64, total: u64) -> NodeInfo {
        NodeInfo {
            id: NodeId(id),
            branch: if zone.is_empty() { vec![] } else { vec![zone.into()] },
            service_tasks: service,
            total_tasks: total,
            feasible: true,
            cpu_total_millis: 4000,
            cpu_used_millis: 0,
            memory_total_bytes: 4 << 30,
            memory_used_bytes: 0,
        }
    }

    /// Places `n` tasks one by one with spread, updating the counts as SwarmKit's `addTask`.
    fn spread_n(mut nodes: Vec<NodeInfo>, n: usize) -> Vec<u64> {
        for _ in 0..n {
            let id = spread(&nodes).expect("a node");
            let x = nodes.iter_mut().find(|x| x.id == id).unwrap();
            x.service_tasks += 1;
            x.total_tasks += 1;
        }
        nodes.iter().map(|x| x.service_tasks).collect()
    }

    #[test]
    fn spread_puts_six_tasks_on_three_nodes_two_each() {
        assert_eq!(spread_n(vec![info(0, "", 0, 0), info(1, "", 0, 0), info(2, "", 0, 0)], 6), vec![2, 2, 2]);
    }

    #[test]
    fn spread_prefers_fewer_service_tasks_then_fewer_tasks_in_total() {
        type Case = (&'static str, Vec<NodeInfo>, u32);
        let cases: Vec<Case> = vec![
            ("fewest service tasks wins", vec![info(0, "", 2, 2), info(1, "", 1, 9), info(2, "", 2, 0)], 1),
            ("total tasks break ties", vec![info(0, "", 1, 5), info(1, "", 1, 3), info(2, "", 1, 4)], 1),
            ("full ties go to node order", vec![info(0, "", 0, 0), info(1, "", 0, 0)], 0),
        ];
        for (name, nodes, want) in cases {
            assert_eq!(spread(&nodes), Some(NodeId(want)), "{name}");
        }
    }

    #[test]
    fn spread_with_a_zone_preference_balances_zones_before_nodes() {
        // zone a has three nodes, zone b one: the zones get 3 and 3, not 1.5 per node.
        let nodes = vec![info(0, "a", 0, 0), info(1, "a", 0, 0), info(2, "a", 0, 0), info(3, "b", 0, 0)];
        assert_eq!(spread_n(nodes, 6), vec![1, 1, 1, 3]);
    }

    #[test]
    fn spread_skips_a_zone_whose_nodes_all_fail_the_filters() {
        let mut nodes = vec![info(0, "a", 0, 0), info(1, "b", 0, 0)];
        nodes[1].feasible = false;
        assert_eq!(spread_n(nodes, 3), vec![3, 0]);
    }

    #[test]
    fn spread_counts_tasks_on_infeasible_nodes_when_balancing_branches() {
        // zone b already has 2 tasks on a node that is now full: zone a gets the next two,
        // although zone b still has an empty feasible node.
        let mut nodes = vec![info(0, "a", 0, 0), info(1, "b", 2, 2), info(2, "b", 0, 0)];
        nodes[1].feasible = false;
        assert_eq!(spread_n(nodes, 2), vec![2, 2, 0]);
    }

    #[test]
    fn spread_finds_nothing_when_no_node_is_feasible() {
        let mut n = info(0, "", 0, 0);
        n.feasible = false;
        assert_eq!(spread(&[n]), None);
    }

    #[test]
    fn binpack_fills_one_node_before_the_next() {
        let mut nodes = vec![info(0, "", 0, 0), info(1, "", 0, 0), info(2, "", 0, 0)];
        let mut placed = vec![];
        for _ in 0..6 {
            let id = binpack(&nodes, 1000, 1 << 30).unwrap();
            let n = &mut nodes[id.0 as usize];
            n.cpu_used_millis += 1000;
            n.memory_used_bytes += 1 << 30;
            n.total_tasks += 1;
            if n.cpu_used_millis == n.cpu_total_millis {
                n.feasible = false;
            }
            placed.push(id.0);
        }
        assert_eq!(placed, vec![0, 0, 0, 0, 1, 1]);
    }

    #[test]
    fn binpack_weights_follow_classic_swarm() {
        let mut n = info(0, "", 0, 3);
        n.cpu_used_millis = 1000;
        n.memory_used_bytes = 1 << 30;
        let cases: &[(&str, i64, i64, Option<i64>)] = &[
            ("half cpu and half memory", 1000, 1 << 30, Some(50 + 50 + 1000)),
            ("no request scores 100", 0, 0, Some(100 + 100 + 1000)),
            ("integer division truncates", 333, 0, Some(33 + 100 + 1000)),
            ("too big for the node", 4001, 0, None),
            ("over the free cpu", 3500, 0, None),
        ];
        for (name, cpu, mem, want) in cases {
            assert_eq!(binpack_weight(&n, *cpu, *mem), *want, "{name}");
        }
    }

    #[test]
    fn binpack_breaks_weight_ties_by_more_containers() {
        let nodes = vec![info(0, "", 0, 1), info(1, "", 0, 4), info(2, "", 0, 4)];
        assert_eq!(binpack(&nodes, 0, 0), Some(NodeId(1)));
    }

    fn zone_nodes(zones: &[u8]) -> Vec<NodeInfo> {
        zones.iter().enumerate().map(|(i, z)| info(i as u32, &format!("z{z}"), 0, 0)).collect()
    }

    proptest::proptest! {
        #[test]
        fn spread_keeps_every_node_within_one_task_of_the_others(nodes in 1usize..12, tasks in 0usize..60) {
            let counts = spread_n((0..nodes as u32).map(|i| info(i, "", 0, 0)).collect(), tasks);
            let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            proptest::prop_assert!(max - min <= 1, "{counts:?}");
        }

        #[test]
        fn spread_with_a_preference_keeps_every_zone_within_one_task_of_the_others(
            zones in proptest::collection::vec(0u8..4, 1..12),
            tasks in 0usize..60,
        ) {
            let nodes = zone_nodes(&zones);
            let counts = spread_n(nodes.clone(), tasks);
            let mut per_zone: BTreeMap<&str, u64> = BTreeMap::new();
            for (n, c) in nodes.iter().zip(&counts) {
                *per_zone.entry(n.branch[0].as_str()).or_default() += c;
            }
            let (min, max) = (per_zone.values().min().unwrap(), per_zone.values().max().unwrap());
            proptest::prop_assert!(max - min <= 1, "{per_zone:?}");
            proptest::prop_assert_eq!(counts.iter().sum::<u64>(), tasks as u64);
        }
    }

    #[test]
    fn random_draws_among_feasible_nodes_only() {
        let mut nodes = vec![info(0, "", 0, 0), info(1, "", 0, 0), info(2, "", 0, 0)];
        nodes[0].feasible = false;
        assert_eq!(random(&nodes, &mut |k| k - 1), Some(NodeId(2)));
        assert_eq!(random(&nodes, &mut |_| 0), Some(NodeId(1)));
        assert_eq!(random(&[], &mut |_| 0), None);
    }
}
