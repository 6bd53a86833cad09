//! The future-event list: a monotone priority queue of scheduled events.
//!
//! [`EventQueue`] orders events by the pair `(time, seq)`, where `seq` is a global `u64`
//! insertion counter assigned by [`EventQueue::push`]. **Events scheduled at equal times pop in
//! insertion (FIFO) order**, so a run is fully deterministic: the pop order depends only on the
//! sequence of pushes and pops, never on hashing, addresses or the layout of the queue.
//!
//! Simulated time is integer and monotone: nothing may be scheduled before [`EventQueue::now`]
//! (the time of the last popped event), which is reported as [`ScheduleError::InThePast`].
//! Scheduling *at* `now` is allowed; such an event pops after everything already queued at
//! `now`.
//!
//! # Implementation: a radix heap
//!
//! Because keys never go below the last popped time `last`, the queue is a radix heap over the
//! `u64` microsecond time. An event at time `t` lives in
//!
//! * the *front* (bucket 0, a FIFO [`VecDeque`]) if `t == last`, or
//! * bucket `b` (`0..64`) otherwise, where `b` is the index of the highest bit in which `t`
//!   differs from `last` (so `t > last` agrees with `last` above bit `b` and has bit `b` set).
//!
//! Popping takes from the front. When the front is empty, the lowest non-empty bucket `b` is
//! found (via a bitmask of non-empty buckets), its minimum time (tracked per bucket) becomes
//! the new `last`, and its events are redistributed, in their stored order, into the front and
//! buckets below `b`. Buckets above `b` stay valid because the new `last` agrees with the old
//! one on every bit above `b`. Each event moves down at most 64 times, so a push/pop pair costs
//! amortised `O(log(span of pending times))` with small constants, and bucket vectors keep
//! their capacity, so the steady state allocates nothing.
//!
//! ## Why equal times pop FIFO
//!
//! Invariant: *within every bucket (and the front), events with equal times are stored in
//! increasing `seq` order.*
//!
//! * A push appends one event whose `seq` is larger than every `seq` already queued, so the
//!   invariant survives.
//! * Redistribution drains bucket `b` in its stored order. At that moment the front and every
//!   bucket below `b` are empty (`b` is the lowest non-empty bucket, and the front is only
//!   refilled once it is empty), and every event of `b` goes to the front or to a bucket below
//!   `b`. So each receiving container ends up holding a subsequence of bucket `b` in bucket
//!   `b`'s order, and the invariant carries over.
//! * Restoring from a checkpoint inserts the events sorted by `(time, seq)`, which satisfies it.
//!
//! The front holds exactly the pending events at `last`, all with the same time, so by the
//! invariant popping its head yields the smallest `seq` among them; every other pending event is
//! later than `last`. Hence pops come out in exact `(time, seq)` order.
//!
//! # Checkpointing
//!
//! With `serde`, a queue serialises as `{ now, pushed_total, events }` with `events` sorted by
//! `(time, seq)`, so equal queues serialise identically whatever their internal layout.
//! Deserialising validates the data (no event before `now`, each `seq` unique and below
//! `pushed_total`) and rebuilds the heap.

use super::time::{SimDuration, SimTime};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::VecDeque;
use std::fmt;

/// Number of radix buckets besides the front: one per bit of a `u64` time.
const BUCKETS: usize = 64;

/// Why an event could not be scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// The requested time is earlier than the current simulated time.
    #[error("cannot schedule an event at {at}: the simulation is already at {now}")]
    InThePast {
        /// The current simulated time ([`EventQueue::now`]).
        now: SimTime,
        /// The requested time.
        at: SimTime,
    },
}

/// An event together with the time it is scheduled at and its insertion sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scheduled<E> {
    /// When the event happens.
    pub time: SimTime,
    /// Global insertion counter value assigned at push; breaks ties between equal times.
    pub seq: u64,
    /// The event itself.
    pub event: E,
}

/// A deterministic future-event list ordered by `(time, seq)`; see the [module docs](self).
#[derive(Clone)]
pub struct EventQueue<E> {
    /// Time of the last popped event; the radix reference point.
    last: u64,
    /// Next sequence number to assign (= number of events ever pushed).
    next_seq: u64,
    /// Number of pending events.
    len: usize,
    /// Bucket 0: pending events at exactly `last`, in increasing `seq` order.
    front: VecDeque<Scheduled<E>>,
    /// Bucket `b` holds events whose highest bit differing from `last` is bit `b`.
    buckets: [Vec<Scheduled<E>>; BUCKETS],
    /// Minimum time in each non-empty bucket (stale for empty buckets).
    mins: [u64; BUCKETS],
    /// Bit `b` is set iff `buckets[b]` is non-empty.
    nonempty: u64,
}

/// Index of the bucket for a non-zero `diff = time ^ last`: the index of its highest set bit.
#[inline(always)]
fn bucket_of(diff: u64) -> usize {
    // For `diff != 0`, `leading_zeros` is in 0..=63 and `63 - lz == 63 ^ lz`; the mask keeps the
    // index provably in range so indexing needs no bounds check.
    (diff.leading_zeros() as usize ^ 63) & (BUCKETS - 1)
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue at time zero, with room for about `n` events at one time without
    /// reallocating the FIFO of the current instant.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            last: 0,
            next_seq: 0,
            len: 0,
            front: VecDeque::with_capacity(n),
            buckets: std::array::from_fn(|_| Vec::new()),
            mins: [0; BUCKETS],
            nonempty: 0,
        }
    }

    /// The current simulated time: the time of the last popped event ([`SimTime::ZERO`] before
    /// the first pop).
    #[inline]
    pub fn now(&self) -> SimTime {
        SimTime(self.last)
    }

    /// Schedules `event` at `at` and returns the sequence number assigned to it.
    ///
    /// Events at equal times pop in the order they were pushed; an event pushed at exactly
    /// [`now`](Self::now) pops after everything already queued at `now`.
    ///
    /// # Errors
    ///
    /// [`ScheduleError::InThePast`] if `at` is earlier than [`now`](Self::now); the queue is
    /// left unchanged and no sequence number is consumed.
    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) -> Result<u64, ScheduleError> {
        if at.0 < self.last {
            return Err(ScheduleError::InThePast { now: self.now(), at });
        }
        Ok(self.push_unchecked(at.0, event))
    }

    /// Schedules `event` at `now() + delay` (saturating at [`SimTime::MAX`]) and returns the
    /// sequence number assigned to it. Never fails, since the time cannot be in the past.
    #[inline]
    pub fn push_after(&mut self, delay: SimDuration, event: E) -> u64 {
        let at = self.now() + delay;
        self.push_unchecked(at.0, event)
    }

    /// Inserts an event at `time >= self.last`.
    #[inline(always)]
    fn push_unchecked(&mut self, time: u64, event: E) -> u64 {
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        self.len += 1;
        let item = Scheduled { time: SimTime(time), seq, event };
        let diff = time ^ self.last;
        if diff == 0 {
            self.front.push_back(item);
        } else {
            self.insert_in_bucket(bucket_of(diff), item);
        }
        seq
    }

    /// Appends `item` to bucket `b`, keeping the bucket minimum and the non-empty mask current.
    #[inline(always)]
    fn insert_in_bucket(&mut self, b: usize, item: Scheduled<E>) {
        let bit = 1u64 << b;
        let time = item.time.0;
        if self.nonempty & bit == 0 {
            self.nonempty |= bit;
            self.mins[b] = time;
        } else if time < self.mins[b] {
            self.mins[b] = time;
        }
        self.buckets[b].push(item);
    }

    /// Removes and returns the earliest pending event (smallest `(time, seq)`), advancing
    /// [`now`](Self::now) to its time. `None` if the queue is empty (time does not move).
    #[inline]
    pub fn pop(&mut self) -> Option<Scheduled<E>> {
        if self.front.is_empty() {
            self.refill();
        }
        let item = self.front.pop_front()?;
        self.len -= 1;
        Some(item)
    }

    /// Moves the earliest pending instant into the (empty) front: the lowest non-empty bucket's
    /// minimum becomes the new reference time and that bucket is redistributed in stored order.
    /// Does nothing if no bucket holds an event.
    fn refill(&mut self) {
        if self.nonempty == 0 {
            return;
        }
        let b = self.nonempty.trailing_zeros() as usize & (BUCKETS - 1);
        let new_last = self.mins[b];
        self.last = new_last;
        self.nonempty &= !(1u64 << b);
        // Take the bucket out so its items can be moved while other buckets are borrowed; all
        // of them land strictly below `b` (or in the front), so nothing is pushed into bucket
        // `b` meanwhile and its allocation can be put back afterwards.
        let mut bucket = std::mem::take(&mut self.buckets[b]);
        for item in bucket.drain(..) {
            let diff = item.time.0 ^ new_last;
            if diff == 0 {
                self.front.push_back(item);
            } else {
                self.insert_in_bucket(bucket_of(diff), item);
            }
        }
        self.buckets[b] = bucket;
    }

    /// The time of the earliest pending event, without removing it; `None` if empty.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        if !self.front.is_empty() {
            return Some(self.now());
        }
        if self.nonempty == 0 {
            return None;
        }
        let b = self.nonempty.trailing_zeros() as usize & (BUCKETS - 1);
        Some(SimTime(self.mins[b]))
    }

    /// Number of pending events.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is pending.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of events ever pushed (also the sequence number the next push will get).
    #[inline]
    pub fn pushed_total(&self) -> u64 {
        self.next_seq
    }

    /// All pending events, in no particular order.
    fn iter_unordered(&self) -> impl Iterator<Item = &Scheduled<E>> {
        self.front.iter().chain(self.buckets.iter().flatten())
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventQueue")
            .field("now", &self.now())
            .field("len", &self.len)
            .field("pushed_total", &self.next_seq)
            .field("peek_time", &self.peek_time())
            .finish_non_exhaustive()
    }
}

/// Borrowed view of a pending event, serialised exactly like [`Scheduled`].
#[derive(Serialize)]
#[serde(rename = "Scheduled")]
struct ScheduledRef<'a, E> {
    time: SimTime,
    seq: u64,
    event: &'a E,
}

/// Borrowed checkpoint form of a queue, serialised exactly like [`QueueState`].
#[derive(Serialize)]
#[serde(rename = "EventQueue")]
struct QueueStateRef<'a, E> {
    now: SimTime,
    pushed_total: u64,
    events: Vec<ScheduledRef<'a, E>>,
}

/// Owned checkpoint form of a queue.
#[derive(Deserialize)]
#[serde(rename = "EventQueue")]
struct QueueState<E> {
    now: SimTime,
    pushed_total: u64,
    events: Vec<Scheduled<E>>,
}

impl<E: Serialize> Serialize for EventQueue<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut events: Vec<ScheduledRef<'_, E>> =
            self.iter_unordered().map(|s| ScheduledRef { time: s.time, seq: s.seq, event: &s.event }).collect();
        events.sort_unstable_by_key(|s| (s.time, s.seq));
        QueueStateRef { now: self.now(), pushed_total: self.next_seq, events }.serialize(serializer)
    }
}

impl<'de, E: Deserialize<'de>> Deserialize<'de> for EventQueue<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let QueueState { now, pushed_total, mut events } = QueueState::deserialize(deserializer)?;
        let mut seqs: Vec<u64> = Vec::with_capacity(events.len());
        for s in &events {
            if s.time < now {
                return Err(D::Error::custom(format_args!(
                    "event #{} at {} is before the queue's time {now}",
                    s.seq, s.time
                )));
            }
            if s.seq >= pushed_total {
                return Err(D::Error::custom(format_args!(
                    "event #{} has a sequence number not below pushed_total {pushed_total}",
                    s.seq
                )));
            }
            seqs.push(s.seq);
        }
        seqs.sort_unstable();
        if let Some(w) = seqs.windows(2).find(|w| w[0] == w[1]) {
            return Err(D::Error::custom(format_args!("sequence number {} appears twice", w[0])));
        }
        // Sorted insertion keeps equal times in increasing `seq` order inside every bucket.
        events.sort_unstable_by_key(|s| (s.time, s.seq));
        let mut queue = EventQueue::with_capacity(0);
        queue.last = now.0;
        queue.next_seq = pushed_total;
        queue.len = events.len();
        for item in events {
            let diff = item.time.0 ^ queue.last;
            if diff == 0 {
                queue.front.push_back(item);
            } else {
                queue.insert_in_bucket(bucket_of(diff), item);
            }
        }
        Ok(queue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn drain<E>(q: &mut EventQueue<E>) -> Vec<(u64, u64, E)> {
        std::iter::from_fn(|| q.pop()).map(|s| (s.time.0, s.seq, s.event)).collect()
    }

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        for i in 0..10u32 {
            q.push(SimTime(100), i).expect("future push");
            q.push(SimTime(50 + u64::from(i) * 1000), 100 + i).expect("future push");
        }
        let at_100: Vec<u32> = drain(&mut q).into_iter().filter(|&(t, _, _)| t == 100).map(|(_, _, e)| e).collect();
        assert_eq!(at_100, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn events_pop_in_time_order_with_seq_breaking_ties() {
        let mut q = EventQueue::new();
        let times = [7u64, 3, 3, 1 << 40, 0, 7, 3, u64::MAX, 12];
        for (i, &t) in times.iter().enumerate() {
            assert_eq!(q.push(SimTime(t), i), Ok(i as u64));
        }
        let popped: Vec<(u64, u64)> = drain(&mut q).into_iter().map(|(t, s, _)| (t, s)).collect();
        let mut expected: Vec<(u64, u64)> = times.iter().enumerate().map(|(i, &t)| (t, i as u64)).collect();
        expected.sort_unstable();
        assert_eq!(popped, expected);
        assert_eq!(q.now(), SimTime::MAX);
    }

    #[test]
    fn pushing_into_the_past_is_an_error() {
        let mut q = EventQueue::new();
        q.push(SimTime::ZERO + SimDuration::from_secs(9), "a").expect("future push");
        let popped = q.pop().expect("one event");
        assert_eq!(popped.time, SimTime(9_000_000));
        assert_eq!(q.now(), SimTime(9_000_000));
        let err = q.push(SimTime(5_000_000), "b").expect_err("5s is before 9s");
        assert_eq!(err, ScheduleError::InThePast { now: SimTime(9_000_000), at: SimTime(5_000_000) });
        assert_eq!(err.to_string(), "cannot schedule an event at 5s: the simulation is already at 9s");
        assert!(q.is_empty());
        assert_eq!(q.pushed_total(), 1, "a rejected push consumes no seq");
    }

    #[test]
    fn pushing_at_now_is_allowed_and_goes_last() {
        let mut q = EventQueue::new();
        q.push(SimTime(10), 'a').expect("future push");
        q.push(SimTime(10), 'b').expect("future push");
        q.push(SimTime(10), 'c').expect("future push");
        q.push(SimTime(11), 'z').expect("future push");
        assert_eq!(q.pop().map(|s| s.event), Some('a'));
        assert_eq!(q.now(), SimTime(10));
        q.push(SimTime(10), 'd').expect("push at now is allowed");
        assert_eq!(q.push_after(SimDuration::ZERO, 'e'), 5);
        let rest: Vec<char> = drain(&mut q).into_iter().map(|(_, _, e)| e).collect();
        assert_eq!(rest, vec!['b', 'c', 'd', 'e', 'z']);
    }

    #[test]
    fn interleaved_pushes_and_pops_keep_order() {
        let mut q = EventQueue::with_capacity(4);
        assert_eq!(q.peek_time(), None);
        assert_eq!(q.pop(), None);
        q.push(SimTime(100), 1).expect("future push");
        q.push(SimTime(40), 2).expect("future push");
        assert_eq!(q.peek_time(), Some(SimTime(40)));
        assert_eq!(q.pop().map(|s| (s.time.0, s.event)), Some((40, 2)));
        q.push_after(SimDuration(10), 3); // at 50
        q.push(SimTime(100), 4).expect("future push");
        q.push(SimTime(45), 5).expect("future push");
        assert_eq!(q.len(), 4);
        assert_eq!(q.peek_time(), Some(SimTime(45)));
        assert_eq!(q.pop().map(|s| (s.time.0, s.event)), Some((45, 5)));
        assert_eq!(q.pop().map(|s| (s.time.0, s.event)), Some((50, 3)));
        q.push(SimTime(60), 6).expect("future push");
        let rest: Vec<(u64, i32)> = drain(&mut q).into_iter().map(|(t, _, e)| (t, e)).collect();
        assert_eq!(rest, vec![(60, 6), (100, 1), (100, 4)]);
        assert!(q.is_empty());
        assert_eq!(q.pushed_total(), 6);
        assert_eq!(q.now(), SimTime(100));
        assert_eq!(q.peek_time(), None);
    }

    #[test]
    fn push_after_saturates_at_the_end_of_time() {
        let mut q = EventQueue::default();
        q.push(SimTime(u64::MAX - 1), 0).expect("future push");
        q.pop();
        q.push_after(SimDuration::MAX, 1);
        q.push_after(SimDuration(1), 2);
        let popped: Vec<(u64, i32)> = drain(&mut q).into_iter().map(|(t, _, e)| (t, e)).collect();
        assert_eq!(popped, vec![(u64::MAX, 1), (u64::MAX, 2)]);
    }

    #[test]
    fn a_checkpoint_round_trips_and_pops_the_same_sequence() {
        let mut q = EventQueue::new();
        for i in 0..50u64 {
            q.push(SimTime((i * 7919) % 613), i).expect("future push");
        }
        for _ in 0..20 {
            q.pop();
        }
        q.push_after(SimDuration::ZERO, 999);
        let json = serde_json::to_string(&q).expect("serialises");
        let mut restored: EventQueue<u64> = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(serde_json::to_string(&restored).expect("serialises"), json, "canonical form");
        assert_eq!(restored.now(), q.now());
        assert_eq!(restored.len(), q.len());
        assert_eq!(restored.pushed_total(), q.pushed_total());
        assert_eq!(restored.push(SimTime(600), 1000), q.push(SimTime(600), 1000));
        assert_eq!(drain(&mut restored), drain(&mut q.clone()));
    }

    #[test]
    fn an_inconsistent_checkpoint_is_rejected() {
        let past = r#"{"now":10,"pushed_total":2,"events":[{"time":5,"seq":0,"event":1}]}"#;
        assert!(serde_json::from_str::<EventQueue<u32>>(past).is_err());
        let seq = r#"{"now":0,"pushed_total":1,"events":[{"time":5,"seq":1,"event":1}]}"#;
        assert!(serde_json::from_str::<EventQueue<u32>>(seq).is_err());
        let dup = r#"{"now":0,"pushed_total":9,"events":[{"time":5,"seq":1,"event":1},{"time":6,"seq":1,"event":2}]}"#;
        assert!(serde_json::from_str::<EventQueue<u32>>(dup).is_err());
    }

    /// One step of a random workload.
    #[derive(Clone, Debug)]
    enum Op {
        /// Push at `now + delta`.
        Push(u64),
        /// Pop one event (if any).
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            2 => Just(Op::Push(0)),
            3 => (1u64..=16).prop_map(Op::Push),
            2 => (17u64..=100_000).prop_map(Op::Push),
            1 => (100_001u64..=(1u64 << 50)).prop_map(Op::Push),
            4 => Just(Op::Pop),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_workloads_pop_in_exactly_the_reference_order(
            ops in proptest::collection::vec(op(), 0..400),
        ) {
            let mut q = EventQueue::new();
            let mut model: BTreeMap<(u64, u64), usize> = BTreeMap::new();
            let mut last = (0u64, 0u64);
            let mut popped_any = false;
            let mut pushed = 0u64;
            for (i, op) in ops.iter().enumerate() {
                match *op {
                    Op::Push(delta) => {
                        let at = q.now().0 + delta;
                        let seq = q.push(SimTime(at), i).expect("not in the past");
                        prop_assert_eq!(seq, pushed, "seq is the insertion counter");
                        pushed += 1;
                        model.insert((at, seq), i);
                    }
                    Op::Pop => {
                        prop_assert_eq!(q.peek_time().map(|t| t.0), model.keys().next().map(|k| k.0));
                        let got = q.pop().map(|s| ((s.time.0, s.seq), s.event));
                        let want = model.pop_first();
                        prop_assert_eq!(got, want);
                        if let Some(((t, s), _)) = got {
                            prop_assert!(!popped_any || (t, s) > last, "went backwards");
                            prop_assert_eq!(q.now().0, t);
                            last = (t, s);
                            popped_any = true;
                        }
                    }
                }
                prop_assert_eq!(q.len(), model.len());
                prop_assert_eq!(q.is_empty(), model.is_empty());
            }
            // Drain the rest: still exactly the reference order, never backwards.
            for (key, event) in std::mem::take(&mut model) {
                let s = q.pop().expect("model says non-empty");
                prop_assert_eq!(((s.time.0, s.seq), s.event), (key, event));
                prop_assert!(!popped_any || key > last, "went backwards");
                last = key;
                popped_any = true;
            }
            prop_assert!(q.pop().is_none());
        }
    }
}
