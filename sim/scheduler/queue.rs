//! The scheduling queue: activeQ, backoffQ and unschedulable pods, as kube-scheduler v1.33's
//! `PriorityQueue` (`pkg/scheduler/backend/queue`).
//!
//! - activeQ pops the highest priority first, then the earliest queue timestamp (PrioritySort),
//!   then insertion order.
//! - A pod that failed a cycle goes to the unschedulable set with its `unschedulable_count`
//!   raised and its timestamp reset. A cluster event that may make it schedulable
//!   ([`SchedulingQueue::move_all_to_active_or_backoff`]) sends it to activeQ if its backoff
//!   (1 s doubling to 10 s per failed attempt) is over, else to backoffQ.
//! - Pods left unschedulable for more than 5 minutes are moved by the 30 s flush
//!   ([`SchedulingQueue::flush_unschedulable_leftover`]).
//!
//! **Simplification (documented):** there are no QueueingHints; every registered cluster event
//! moves every unschedulable pod, as upstream does with hints disabled. Scheduling cycles are
//! instantaneous, so no event can arrive "during" a pod's cycle.

use crate::cluster::PodId;
use crate::engine::time::{SimDuration, SimTime};
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

/// Upstream `DefaultPodInitialBackoffDuration`.
pub const DEFAULT_INITIAL_BACKOFF: SimDuration = SimDuration::from_secs(1);
/// Upstream `DefaultPodMaxBackoffDuration`.
pub const DEFAULT_MAX_BACKOFF: SimDuration = SimDuration::from_secs(10);
/// Upstream `DefaultPodMaxInUnschedulablePodsDuration`.
pub const MAX_IN_UNSCHEDULABLE: SimDuration = SimDuration::from_secs(300);
/// Period of upstream's `flushUnschedulablePodsLeftover` loop.
pub const UNSCHEDULABLE_FLUSH_PERIOD: SimDuration = SimDuration::from_secs(30);

/// The order in which activeQ hands out pods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueOrder {
    /// kube-scheduler's PrioritySort: higher priority first, then the earlier queue timestamp.
    #[default]
    Priority,
    /// Shortest job first: the shortest expected run duration first (pods without one last),
    /// then as `Priority`.
    Sjf,
    /// Dominant resource fairness across namespaces: the pod of the namespace with the smallest
    /// dominant share of the cluster first, then as `Priority`.
    Drf,
}

impl QueueOrder {
    /// Parses `priority`, `sjf` or `drf`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "priority" => Some(QueueOrder::Priority),
            "sjf" => Some(QueueOrder::Sjf),
            "drf" => Some(QueueOrder::Drf),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Info {
    /// The order key before priority: minus the expected run duration under SJF, else 0.
    primary: i64,
    priority: i32,
    timestamp: SimTime,
    unschedulable_count: u32,
    /// Bumped whenever the pod moves, so that stale heap entries are skipped.
    generation: u64,
    place: Place,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Place {
    Active,
    Backoff,
    Unschedulable,
    InFlight,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ActiveEntry {
    primary: i64,
    priority: i32,
    timestamp: SimTime,
    seq: u64,
    pod: PodId,
    generation: u64,
}

impl Ord for ActiveEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: "greater" pops first.
        self.primary
            .cmp(&other.primary)
            .then_with(|| self.priority.cmp(&other.priority))
            .then_with(|| Reverse(self.timestamp).cmp(&Reverse(other.timestamp)))
            .then_with(|| Reverse(self.seq).cmp(&Reverse(other.seq)))
    }
}

impl PartialOrd for ActiveEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The scheduling queue.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SchedulingQueue {
    active: BinaryHeap<ActiveEntry>,
    backoff: BTreeSet<(SimTime, u64, PodId)>,
    unschedulable: BTreeSet<PodId>,
    info: BTreeMap<PodId, Info>,
    seq: u64,
    initial_backoff: SimDuration,
    max_backoff: SimDuration,
    active_count: usize,
    backoff_count: usize,
    order: QueueOrder,
}

impl Default for SchedulingQueue {
    fn default() -> Self {
        Self::new(DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_BACKOFF)
    }
}

impl SchedulingQueue {
    /// An empty queue with the given backoff bounds.
    pub fn new(initial_backoff: SimDuration, max_backoff: SimDuration) -> Self {
        SchedulingQueue {
            active: BinaryHeap::new(),
            backoff: BTreeSet::new(),
            unschedulable: BTreeSet::new(),
            info: BTreeMap::new(),
            seq: 0,
            initial_backoff,
            max_backoff,
            active_count: 0,
            backoff_count: 0,
            order: QueueOrder::Priority,
        }
    }

    /// Sets the order of activeQ (before any pod is added).
    pub fn set_order(&mut self, order: QueueOrder) {
        self.order = order;
    }

    /// The order of activeQ.
    pub fn order(&self) -> QueueOrder {
        self.order
    }

    /// Moves `pod` to `place`, keeping the per-place counters exact.
    fn set_place(&mut self, pod: PodId, place: Place) -> Option<&mut Info> {
        let info = self.info.get_mut(&pod)?;
        match info.place {
            Place::Active => self.active_count -= 1,
            Place::Backoff => self.backoff_count -= 1,
            _ => {}
        }
        match place {
            Place::Active => self.active_count += 1,
            Place::Backoff => self.backoff_count += 1,
            _ => {}
        }
        info.place = place;
        info.generation += 1;
        Some(info)
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn push_active(&mut self, pod: PodId) {
        let seq = self.next_seq();
        if let Some(info) = self.set_place(pod, Place::Active) {
            let entry = ActiveEntry {
                primary: info.primary,
                priority: info.priority,
                timestamp: info.timestamp,
                seq,
                pod,
                generation: info.generation,
            };
            self.active.push(entry);
        }
    }

    /// Adds a newly created pod to activeQ.
    pub fn add(&mut self, pod: PodId, priority: i32, now: SimTime) {
        self.add_job(pod, priority, now, None);
    }

    /// Adds a newly created pod to activeQ with its expected run duration (used by SJF).
    pub fn add_job(&mut self, pod: PodId, priority: i32, now: SimTime, run_us: Option<u64>) {
        self.forget(pod);
        let primary = match self.order {
            QueueOrder::Sjf => run_us.map(|r| -(r.min(i64::MAX as u64) as i64)).unwrap_or(i64::MIN),
            _ => 0,
        };
        self.info.insert(
            pod,
            Info { primary, priority, timestamp: now, unschedulable_count: 0, generation: 0, place: Place::InFlight },
        );
        self.push_active(pod);
    }

    /// DRF pop: among the pods in activeQ, the one whose `share` (its namespace's dominant
    /// share) is smallest, ties in the usual order. O(activeQ).
    pub fn pop_min_share(&mut self, share: &dyn Fn(PodId) -> f64) -> Option<PodId> {
        let mut best: Option<(f64, ActiveEntry)> = None;
        for e in self.active.iter() {
            if !self.info.get(&e.pod).is_some_and(|i| i.generation == e.generation && i.place == Place::Active) {
                continue;
            }
            let s = share(e.pod);
            let better = match &best {
                None => true,
                Some((bs, be)) => s < *bs || (s == *bs && e > be),
            };
            if better {
                best = Some((s, e.clone()));
            }
        }
        let (_, e) = best?;
        self.set_place(e.pod, Place::InFlight);
        Some(e.pod)
    }

    /// Pops the next pod to schedule; it is "in flight" until it is re-added or forgotten.
    pub fn pop(&mut self) -> Option<PodId> {
        while let Some(e) = self.active.pop() {
            if self.info.get(&e.pod).is_some_and(|i| i.generation == e.generation && i.place == Place::Active) {
                self.set_place(e.pod, Place::InFlight);
                return Some(e.pod);
            }
        }
        None
    }

    /// Takes a queued pod (in activeQ, backoffQ or the unschedulable set) out of line, as if it
    /// had been popped: it is in flight until it is re-added or forgotten. Returns false when the
    /// pod is not queued or already in flight. (Whole policies use it to place a group at once.)
    pub fn take(&mut self, pod: PodId) -> bool {
        let Some(info) = self.info.get(&pod) else { return false };
        match info.place {
            Place::InFlight => return false,
            Place::Unschedulable => {
                self.unschedulable.remove(&pod);
            }
            Place::Backoff => self.backoff.retain(|(_, _, p)| *p != pod),
            Place::Active => {}
        }
        // A stale activeQ entry is recognised by its generation and skipped by `pop`.
        self.set_place(pod, Place::InFlight);
        true
    }

    /// The backoff a pod gets after `count` failed attempts: `initial << (count - 1)`, capped.
    pub fn backoff_duration(&self, count: u32) -> SimDuration {
        if count == 0 {
            return SimDuration::ZERO;
        }
        let mut d = self.initial_backoff;
        for _ in 1..count {
            if d >= self.max_backoff {
                break;
            }
            d = d.saturating_mul(2);
        }
        d.min(self.max_backoff)
    }

    fn backoff_expiry(&self, info: &Info) -> SimTime {
        info.timestamp + self.backoff_duration(info.unschedulable_count)
    }

    /// Returns an in-flight pod that failed its cycle (unschedulable) to the unschedulable set.
    pub fn add_unschedulable(&mut self, pod: PodId, now: SimTime) {
        if let Some(info) = self.set_place(pod, Place::Unschedulable) {
            info.unschedulable_count += 1;
            info.timestamp = now;
            self.unschedulable.insert(pod);
        }
    }

    /// Forgets a pod (bound or deleted).
    pub fn forget(&mut self, pod: PodId) {
        self.set_place(pod, Place::InFlight);
        if let Some(info) = self.info.remove(&pod) {
            match info.place {
                Place::Unschedulable => {
                    self.unschedulable.remove(&pod);
                }
                Place::Active | Place::Backoff | Place::InFlight => {}
            }
        }
    }

    fn move_to_active_or_backoff(&mut self, pod: PodId, now: SimTime) {
        let Some(info) = self.info.get(&pod).cloned() else { return };
        let expiry = self.backoff_expiry(&info);
        if expiry > now {
            let seq = self.next_seq();
            self.set_place(pod, Place::Backoff);
            self.backoff.insert((expiry, seq, pod));
        } else {
            self.push_active(pod);
        }
    }

    /// A cluster event that may make pods schedulable: every unschedulable pod moves to activeQ,
    /// or to backoffQ while its backoff runs. Returns how many moved.
    pub fn move_all_to_active_or_backoff(&mut self, now: SimTime) -> usize {
        let pods: Vec<PodId> = std::mem::take(&mut self.unschedulable).into_iter().collect();
        for p in &pods {
            self.move_to_active_or_backoff(*p, now);
        }
        pods.len()
    }

    /// Moves pods whose backoff has expired to activeQ. Returns how many moved.
    pub fn flush_backoff_completed(&mut self, now: SimTime) -> usize {
        let mut moved = 0;
        while let Some(&(t, seq, pod)) = self.backoff.first() {
            if t > now {
                break;
            }
            self.backoff.remove(&(t, seq, pod));
            if self.info.get(&pod).is_some_and(|i| i.place == Place::Backoff) {
                self.push_active(pod);
                moved += 1;
            }
        }
        moved
    }

    /// Moves pods unschedulable for longer than 5 minutes (strictly) to activeQ or backoffQ.
    pub fn flush_unschedulable_leftover(&mut self, now: SimTime) -> usize {
        let stale: Vec<PodId> = self
            .unschedulable
            .iter()
            .copied()
            .filter(|p| self.info.get(p).is_some_and(|i| now.saturating_since(i.timestamp) > MAX_IN_UNSCHEDULABLE))
            .collect();
        for p in &stale {
            self.unschedulable.remove(p);
            self.move_to_active_or_backoff(*p, now);
        }
        stale.len()
    }

    /// The earliest backoff expiry, if any pod is backing off.
    pub fn next_backoff_expiry(&self) -> Option<SimTime> {
        self.backoff.first().map(|(t, _, _)| *t)
    }

    /// True when activeQ holds a pod.
    pub fn has_active(&self) -> bool {
        self.active_count > 0
    }

    /// Number of pods in activeQ, backoffQ and the unschedulable set.
    pub fn lengths(&self) -> (usize, usize, usize) {
        (self.active_count, self.backoff_count, self.unschedulable.len())
    }

    /// True when the pod is queued anywhere (or in flight).
    pub fn contains(&self, pod: PodId) -> bool {
        self.info.contains_key(&pod)
    }

    /// Number of pods known to the queue.
    pub fn len(&self) -> usize {
        self.info.len()
    }

    /// True when the queue holds no pod.
    pub fn is_empty(&self) -> bool {
        self.info.is_empty()
    }
}

/// Dominant resource fairness: each namespace's dominant share of the cluster, the largest of
/// its assigned pods' CPU, memory and GPU (milli-GPU) requests over the Ready nodes' allocatable.
pub fn namespace_dominant_shares(cluster: &crate::cluster::ClusterState) -> BTreeMap<String, f64> {
    let mut cap = [0f64; 3];
    for n in cluster.nodes().iter().filter(|n| n.ready) {
        cap[0] += n.node.allocatable.cpu_millis as f64;
        cap[1] += n.node.allocatable.memory_bytes as f64;
        cap[2] += (n.gpu_free_milli.len() as i64 * crate::model::gpu::MILLI) as f64;
    }
    let mut used: BTreeMap<String, [f64; 3]> = BTreeMap::new();
    for p in cluster.pods().filter(|p| p.is_assigned()) {
        let u = used.entry(p.pod.namespace.clone()).or_default();
        u[0] += p.pod.requests.cpu_millis as f64;
        u[1] += p.pod.requests.memory_bytes as f64;
        u[2] += crate::model::gpu::GpuRequest::from_pod(&p.pod).total_milli() as f64;
    }
    used.into_iter()
        .map(|(ns, u)| {
            let share = (0..3).filter(|i| cap[*i] > 0.0).map(|i| u[i] / cap[i]).fold(0.0, f64::max);
            (ns, share)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime(s * 1_000_000)
    }

    #[test]
    fn higher_priority_pops_first_then_earlier_timestamp() {
        let mut q = SchedulingQueue::default();
        q.add(PodId(1), 0, t(1));
        q.add(PodId(2), 10, t(2));
        q.add(PodId(3), 0, t(0));
        assert_eq!(q.pop(), Some(PodId(2)));
        assert_eq!(q.pop(), Some(PodId(3)));
        assert_eq!(q.pop(), Some(PodId(1)));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn backoff_doubles_from_one_second_to_the_ten_second_cap() {
        let q = SchedulingQueue::default();
        let secs: Vec<u64> = (0..7).map(|c| q.backoff_duration(c).as_micros() / 1_000_000).collect();
        assert_eq!(secs, vec![0, 1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn a_cluster_event_moves_a_backing_off_pod_to_backoff_then_to_active_on_expiry() {
        let mut q = SchedulingQueue::default();
        q.add(PodId(1), 0, t(0));
        assert_eq!(q.pop(), Some(PodId(1)));
        q.add_unschedulable(PodId(1), t(10));
        assert_eq!(q.lengths(), (0, 0, 1));
        q.move_all_to_active_or_backoff(t(10));
        assert_eq!(q.lengths(), (0, 1, 0));
        assert_eq!(q.next_backoff_expiry(), Some(t(11)));
        assert_eq!(q.flush_backoff_completed(t(10)), 0);
        assert_eq!(q.flush_backoff_completed(t(11)), 1);
        assert_eq!(q.pop(), Some(PodId(1)));
    }

    #[test]
    fn an_event_after_the_backoff_moves_the_pod_straight_to_active() {
        let mut q = SchedulingQueue::default();
        q.add(PodId(1), 0, t(0));
        q.pop();
        q.add_unschedulable(PodId(1), t(0));
        q.move_all_to_active_or_backoff(t(5));
        assert_eq!(q.lengths(), (1, 0, 0));
    }

    #[test]
    fn pods_unschedulable_for_more_than_five_minutes_are_flushed() {
        let mut q = SchedulingQueue::default();
        q.add(PodId(1), 0, t(0));
        q.pop();
        q.add_unschedulable(PodId(1), t(0));
        assert_eq!(q.flush_unschedulable_leftover(t(300)), 0, "strictly more than 5 minutes");
        assert_eq!(q.flush_unschedulable_leftover(t(330)), 1);
        assert_eq!(q.pop(), Some(PodId(1)));
    }

    #[test]
    fn sjf_pops_the_shortest_job_first_and_pods_without_duration_last() {
        let mut q = SchedulingQueue::default();
        q.set_order(QueueOrder::Sjf);
        q.add_job(PodId(1), 0, t(0), Some(50));
        q.add_job(PodId(2), 10, t(1), None);
        q.add_job(PodId(3), 0, t(2), Some(5));
        assert_eq!([q.pop(), q.pop(), q.pop()], [Some(PodId(3)), Some(PodId(1)), Some(PodId(2))]);
    }

    #[test]
    fn drf_pops_the_pod_of_the_namespace_with_the_smallest_share() {
        let mut q = SchedulingQueue::default();
        q.set_order(QueueOrder::Drf);
        for i in 1..=3 {
            q.add(PodId(i), 0, t(i as u64));
        }
        let share = |p: PodId| if p == PodId(1) { 0.5 } else { 0.1 };
        assert_eq!(q.pop_min_share(&share), Some(PodId(2)), "smallest share, then earliest");
        assert_eq!(q.pop_min_share(&share), Some(PodId(3)));
        assert_eq!(q.pop_min_share(&share), Some(PodId(1)));
        assert_eq!(q.pop_min_share(&share), None);
    }

    #[test]
    fn the_default_order_ignores_run_durations() {
        let mut q = SchedulingQueue::default();
        q.add_job(PodId(1), 0, t(0), Some(50));
        q.add_job(PodId(2), 0, t(1), Some(5));
        assert_eq!(q.pop(), Some(PodId(1)));
    }

    #[test]
    fn a_forgotten_pod_never_pops() {
        let mut q = SchedulingQueue::default();
        q.add(PodId(1), 0, t(0));
        q.forget(PodId(1));
        assert_eq!(q.pop(), None);
        assert!(q.is_empty());
    }

    #[test]
    fn a_taken_pod_leaves_every_sub_queue_and_can_be_sent_back() {
        let mut q = SchedulingQueue::default();
        q.add(PodId(1), 0, t(0));
        q.add(PodId(2), 0, t(0));
        q.add(PodId(3), 0, t(0));
        assert_eq!(q.pop(), Some(PodId(1)));
        q.add_unschedulable(PodId(1), t(0));
        q.move_all_to_active_or_backoff(t(0));
        assert_eq!(q.lengths(), (2, 1, 0));
        assert!(q.take(PodId(1)), "from backoffQ");
        assert!(q.take(PodId(2)), "from activeQ");
        assert!(!q.take(PodId(2)), "already in flight");
        assert!(!q.take(PodId(9)), "not queued");
        assert_eq!(q.lengths(), (1, 0, 0));
        assert_eq!(q.pop(), Some(PodId(3)));
        assert_eq!(q.pop(), None);
        q.add_unschedulable(PodId(2), t(1));
        assert_eq!(q.lengths(), (0, 0, 1));
        assert!(q.take(PodId(2)), "from the unschedulable set");
        assert_eq!(q.lengths(), (0, 0, 0));
    }
}
