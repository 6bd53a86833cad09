//! The controllers' work-queue rate limiters, which pace a sync's retry after a create was
//! refused (`queue.AddRateLimited(key)`; a sync that succeeds calls `Forget`).
//!
//! - ReplicaSet, Deployment, DaemonSet, StatefulSet, CronJob:
//!   `workqueue.DefaultTypedControllerRateLimiter()`, the maximum of a per-item
//!   `ItemExponentialFailureRateLimiter` (5 ms doubling to 1000 s) and an overall token bucket
//!   (10 QPS, burst 100) per controller.
//! - Job: `ItemExponentialFailureRateLimiter(DefaultJobApiBackOff = 1 s, MaxJobApiBackOff = 1 min)`.

use crate::apiserver::TokenBucket;
use crate::controllers::Kind;
use crate::engine::time::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// Base and cap of the per-item exponential backoff of a kind's queue.
pub fn exponential_bounds(kind: Kind) -> (SimDuration, SimDuration) {
    match kind {
        Kind::Job => (SimDuration::from_secs(1), SimDuration::from_secs(60)),
        _ => (SimDuration(5_000), SimDuration::from_secs(1000)),
    }
}

/// The rate limiters of every controller's queue.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RetryLimiter {
    failures: BTreeMap<u64, u32>,
    buckets: BTreeMap<Kind, TokenBucket>,
}

impl RetryLimiter {
    /// `AddRateLimited(uid)` at `now`: the delay before the retry.
    pub fn when(&mut self, uid: u64, kind: Kind, now: SimTime) -> SimDuration {
        let n = self.failures.entry(uid).or_insert(0);
        let exp = *n;
        *n = n.saturating_add(1);
        let (base, cap) = exponential_bounds(kind);
        let backoff = if exp >= 40 { cap } else { SimDuration(base.0.saturating_mul(1u64 << exp)).min(cap) };
        if kind == Kind::Job {
            return backoff;
        }
        let bucket = self.buckets.entry(kind).or_insert_with(|| TokenBucket::new(10_000, 100)).reserve(now);
        backoff.max(bucket)
    }

    /// `Forget(uid)`: a sync succeeded.
    pub fn forget(&mut self, uid: u64) {
        self.failures.remove(&uid);
    }

    /// Failures recorded for `uid` since its last success.
    pub fn failures(&self, uid: u64) -> u32 {
        self.failures.get(&uid).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicaset_retries_double_from_5ms_to_1000s() {
        let mut r = RetryLimiter::default();
        let d: Vec<u64> = (0..20).map(|_| r.when(7, Kind::ReplicaSet, SimTime::ZERO).0).collect();
        assert_eq!(&d[..4], &[5_000, 10_000, 20_000, 40_000]);
        assert_eq!(d[18], 1_000_000_000, "capped at 1000 s");
        r.forget(7);
        assert_eq!(r.when(7, Kind::ReplicaSet, SimTime::ZERO), SimDuration(5_000), "forget resets the item");
        assert_eq!(r.failures(7), 1);
    }

    #[test]
    fn job_retries_double_from_1s_to_1min() {
        let mut r = RetryLimiter::default();
        let d: Vec<u64> = (0..8).map(|_| r.when(1, Kind::Job, SimTime::ZERO).0 / 1_000_000).collect();
        assert_eq!(d, vec![1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn the_overall_bucket_paces_many_items_at_10_qps() {
        let mut r = RetryLimiter::default();
        let d: Vec<u64> = (0..102).map(|uid| r.when(uid, Kind::ReplicaSet, SimTime::ZERO).0).collect();
        assert_eq!(d[99], 5_000, "the burst of 100 passes with the item backoff");
        assert_eq!(&d[100..], &[100_000, 200_000]);
    }
}
