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

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Info {
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
    priority: i32,
    timestamp: SimTime,
    seq: u64,
    pod: PodId,
    generation: u64,
}

impl Ord for ActiveEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: "greater" pops first.
        self.priority
            .cmp(&other.priority)
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
        }
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
        self.forget(pod);
        self.info.insert(
            pod,
            Info { priority, timestamp: now, unschedulable_count: 0, generation: 0, place: Place::InFlight },
        );
        self.push_active(pod);
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
    fn a_forgotten_pod_never_pops() {
        let mut q = SchedulingQueue::default();
        q.add(PodId(1), 0, t(0));
        q.forget(PodId(1));
        assert_eq!(q.pop(), None);
        assert!(q.is_empty());
    }
}
