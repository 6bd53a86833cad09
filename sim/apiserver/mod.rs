//! An optional model of the control plane's latency and throughput: the API server / etcd write
//! latency, the watch propagation delay to each kind of client (scheduler, controllers,
//! kubelets), and the client-side rate limits of client-go (`flowcontrol` token buckets with
//! `qps` and `burst`; upstream defaults kube-scheduler 50 / 100, kube-controller-manager 20 / 30
//! per controller client).
//!
//! With no `controlPlane` block (or one whose delays are all zero and limits all off) the control
//! plane is instantaneous and the run takes exactly the same steps as without this module.
//!
//! What the model changes (`sim/run/apiserver.rs` applies it):
//! - a pod created by a client becomes visible to the scheduler after its client's queueing
//!   delay (token bucket) + `writeLatency` + `watchDelay.scheduler`;
//! - a binding is a write by the scheduler: the kubelet sees the bound pod after the scheduler's
//!   queueing delay + `writeLatency` + `watchDelay.kubelet` (the pod holds its node's resources
//!   from the scheduling cycle on, as kube-scheduler's assume does);
//! - controllers see pod changes `watchDelay.controllers` later; their pod creates and deletes
//!   are writes through their own token bucket.
//!
//! **Simplifications (documented):** admission and the cluster state change at request time
//! (the object is what the creating controller's expectations would hold), only visibility is
//! delayed; a controller's delete takes effect at once (it consumes a token and is counted, but
//! the simulated controllers have no expectations cache that would stop them re-issuing it);
//! status updates and kubelet writes are not modelled as writes.

pub mod spec;

use crate::cluster::PodId;
use crate::engine::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};

/// Nano-tokens per token (token buckets count in integers).
const NANO: i128 = 1_000_000_000;

/// A client-go / `golang.org/x/time/rate` token bucket: starts full with `burst` tokens, refills
/// at `qps`; a reservation takes one token now, possibly going negative, and waits until the
/// debt is repaid. Integer arithmetic: tokens in nano-tokens, the rate in milli-QPS.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenBucket {
    qps_milli: u64,
    burst: u64,
    tokens_nano: i128,
    last: SimTime,
}

impl TokenBucket {
    /// A full bucket. `qps_milli == 0` means no limit.
    pub fn new(qps_milli: u64, burst: u64) -> TokenBucket {
        TokenBucket { qps_milli, burst, tokens_nano: burst as i128 * NANO, last: SimTime::ZERO }
    }

    /// True when the bucket never delays.
    pub fn unlimited(&self) -> bool {
        self.qps_milli == 0
    }

    /// Reserves one token at `now`; returns how long the caller waits (`Reserve().Delay()`).
    pub fn reserve(&mut self, now: SimTime) -> SimDuration {
        if self.unlimited() {
            return SimDuration::ZERO;
        }
        let elapsed = now.0.saturating_sub(self.last.0) as i128;
        // elapsed µs × qps_milli = elapsed s × qps × 10^9 nano-tokens.
        let cap = self.burst as i128 * NANO;
        self.tokens_nano = (self.tokens_nano + elapsed * self.qps_milli as i128).min(cap);
        self.last = self.last.max(now);
        self.tokens_nano -= NANO;
        if self.tokens_nano >= 0 {
            SimDuration::ZERO
        } else {
            let q = self.qps_milli as i128;
            SimDuration(((-self.tokens_nano + q - 1) / q) as u64)
        }
    }
}

/// A client's rate limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RateLimit {
    /// Queries per second × 1000 (0: unlimited).
    pub qps_milli: u64,
    /// Burst.
    pub burst: u64,
}

/// The compiled `controlPlane` block.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ControlPlane {
    /// Time from a write request reaching the API server to its being stored.
    pub write_latency: SimDuration,
    /// Watch propagation to the scheduler.
    pub watch_scheduler: SimDuration,
    /// Watch propagation to the controllers.
    pub watch_controllers: SimDuration,
    /// Watch propagation to kubelets.
    pub watch_kubelet: SimDuration,
    /// kube-scheduler's client.
    pub scheduler: RateLimit,
    /// Each controller's client (one bucket per controller, as kube-controller-manager builds one
    /// client per controller).
    pub controllers: RateLimit,
    /// Users (timeline, arrivals, initial objects, workflows).
    pub users: RateLimit,
}

impl ControlPlane {
    /// True when the model cannot change anything (no delay, no limit): the run then ignores it.
    pub fn is_instant(&self) -> bool {
        self.write_latency == SimDuration::ZERO
            && self.watch_scheduler == SimDuration::ZERO
            && self.watch_controllers == SimDuration::ZERO
            && self.watch_kubelet == SimDuration::ZERO
            && self.scheduler.qps_milli == 0
            && self.controllers.qps_milli == 0
            && self.users.qps_milli == 0
    }
}

/// Control-plane events.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ApiEvent {
    /// A created pod reaches the scheduler's informer: it enters the scheduling queue.
    SchedulerSees {
        /// The pod.
        pod: PodId,
        /// Its epoch at creation (a pod deleted meanwhile is ignored).
        epoch: u32,
    },
}

/// Per-client write statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientStats {
    /// Writes issued.
    pub writes: u64,
    /// Writes delayed by the client's token bucket.
    pub throttled: u64,
    /// Sum of the queueing delays, in µs.
    pub total_queueing_delay_us: u64,
    /// The longest queueing delay, in µs.
    pub max_queueing_delay_us: u64,
}

/// One client's line of `summary.json` → `controlPlane.clients`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClientSummary {
    /// Writes issued.
    pub writes: u64,
    /// Writes delayed by the token bucket.
    pub throttled: u64,
    /// Mean queueing delay over all writes, in µs.
    pub mean_queueing_delay_us: f64,
    /// Longest queueing delay, in µs.
    pub max_queueing_delay_us: u64,
}

/// `summary.json` → `controlPlane`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ControlPlaneSummary {
    /// The configured write latency, in µs.
    pub write_latency_us: u64,
    /// The configured watch delays, in µs.
    pub watch_delay_us: BTreeMap<String, u64>,
    /// Per client (`scheduler`, `users`, `<kind>-controller`), in name order.
    pub clients: BTreeMap<String, ClientSummary>,
    /// All writes.
    pub writes: u64,
    /// All throttled writes.
    pub throttled: u64,
}

/// Which rate limit a client has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientClass {
    /// kube-scheduler.
    Scheduler,
    /// A kube-controller-manager controller.
    Controller,
    /// A user (kubectl, a workflow engine, ...).
    User,
}

/// The control plane's run-time state.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ApiServer {
    /// The configuration (`None`: instantaneous, nothing recorded).
    pub config: Option<ControlPlane>,
    buckets: BTreeMap<String, TokenBucket>,
    stats: BTreeMap<String, ClientStats>,
    in_flight: BTreeSet<PodId>,
}

impl ApiServer {
    /// The state for a configuration (an instantaneous one is dropped).
    pub fn new(config: Option<&ControlPlane>) -> ApiServer {
        ApiServer { config: config.filter(|c| !c.is_instant()).cloned(), ..Default::default() }
    }

    /// True when the model is on.
    pub fn enabled(&self) -> bool {
        self.config.is_some()
    }

    /// A write by `client` at `now`: its queueing delay in the client's token bucket (zero when
    /// the model is off).
    pub fn write(&mut self, client: &str, class: ClientClass, now: SimTime) -> SimDuration {
        let Some(cfg) = &self.config else { return SimDuration::ZERO };
        let limit = match class {
            ClientClass::Scheduler => cfg.scheduler,
            ClientClass::Controller => cfg.controllers,
            ClientClass::User => cfg.users,
        };
        let d = self
            .buckets
            .entry(client.to_string())
            .or_insert_with(|| TokenBucket::new(limit.qps_milli, limit.burst))
            .reserve(now);
        let s = self.stats.entry(client.to_string()).or_default();
        s.writes += 1;
        if d > SimDuration::ZERO {
            s.throttled += 1;
        }
        s.total_queueing_delay_us += d.0;
        s.max_queueing_delay_us = s.max_queueing_delay_us.max(d.0);
        d
    }

    /// Marks a pod as written but not yet seen by the scheduler.
    pub fn set_in_flight(&mut self, pod: PodId, yes: bool) {
        if yes {
            self.in_flight.insert(pod);
        } else {
            self.in_flight.remove(&pod);
        }
    }

    /// True while a pod's creation has not reached the scheduler.
    pub fn in_flight(&self, pod: PodId) -> bool {
        self.in_flight.contains(&pod)
    }

    /// `summary.json` → `controlPlane` (only when the model is on).
    pub fn summary(&self) -> Option<ControlPlaneSummary> {
        let cfg = self.config.as_ref()?;
        let clients: BTreeMap<String, ClientSummary> = self
            .stats
            .iter()
            .map(|(k, s)| {
                let mean = if s.writes > 0 { s.total_queueing_delay_us as f64 / s.writes as f64 } else { 0.0 };
                (
                    k.clone(),
                    ClientSummary {
                        writes: s.writes,
                        throttled: s.throttled,
                        mean_queueing_delay_us: mean,
                        max_queueing_delay_us: s.max_queueing_delay_us,
                    },
                )
            })
            .collect();
        Some(ControlPlaneSummary {
            write_latency_us: cfg.write_latency.0,
            watch_delay_us: [
                ("controllers".to_string(), cfg.watch_controllers.0),
                ("kubelet".to_string(), cfg.watch_kubelet.0),
                ("scheduler".to_string(), cfg.watch_scheduler.0),
            ]
            .into_iter()
            .collect(),
            writes: self.stats.values().map(|s| s.writes).sum(),
            throttled: self.stats.values().map(|s| s.throttled).sum(),
            clients,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_ms(ms: u64) -> SimTime {
        SimTime(ms * 1000)
    }

    #[test]
    fn a_bucket_serves_its_burst_then_one_token_per_period() {
        // 20 QPS, burst 30: 30 writes pass at once, then one every 50 ms.
        let mut b = TokenBucket::new(20_000, 30);
        let delays: Vec<u64> = (0..33).map(|_| b.reserve(SimTime::ZERO).0).collect();
        assert!(delays[..30].iter().all(|d| *d == 0), "{delays:?}");
        assert_eq!(&delays[30..], &[50_000, 100_000, 150_000]);
    }

    #[test]
    fn a_bucket_refills_up_to_its_burst() {
        let mut b = TokenBucket::new(10_000, 2);
        assert_eq!(b.reserve(at_ms(0)), SimDuration::ZERO);
        assert_eq!(b.reserve(at_ms(0)), SimDuration::ZERO);
        assert_eq!(b.reserve(at_ms(0)), SimDuration(100_000), "empty: wait 100 ms at 10 QPS");
        // A long pause refills to the burst (2), not more.
        assert_eq!(b.reserve(at_ms(10_000)), SimDuration::ZERO);
        assert_eq!(b.reserve(at_ms(10_000)), SimDuration::ZERO);
        assert_eq!(b.reserve(at_ms(10_000)), SimDuration(100_000));
    }

    #[test]
    fn fractional_rates_are_exact() {
        // 0.5 QPS, burst 1: the second write waits 2 s.
        let mut b = TokenBucket::new(500, 1);
        assert_eq!(b.reserve(SimTime::ZERO), SimDuration::ZERO);
        assert_eq!(b.reserve(SimTime::ZERO), SimDuration::from_secs(2));
    }

    #[test]
    fn an_unlimited_bucket_never_delays() {
        let mut b = TokenBucket::new(0, 0);
        assert!((0..1000).all(|_| b.reserve(SimTime::ZERO) == SimDuration::ZERO));
    }

    #[test]
    fn an_instant_control_plane_is_dropped_and_records_nothing() {
        let mut api = ApiServer::new(Some(&ControlPlane::default()));
        assert!(!api.enabled());
        assert_eq!(api.write("scheduler", ClientClass::Scheduler, SimTime::ZERO), SimDuration::ZERO);
        assert_eq!(api.summary(), None);
    }

    #[test]
    fn writes_are_counted_per_client_with_their_queueing_delay() {
        let cp = ControlPlane { controllers: RateLimit { qps_milli: 1000, burst: 1 }, ..Default::default() };
        let mut api = ApiServer::new(Some(&cp));
        for _ in 0..3 {
            api.write("job-controller", ClientClass::Controller, SimTime::ZERO);
        }
        api.write("users", ClientClass::User, SimTime::ZERO);
        let s = api.summary().expect("on");
        let job = &s.clients["job-controller"];
        assert_eq!((job.writes, job.throttled, job.max_queueing_delay_us), (3, 2, 2_000_000));
        assert_eq!(job.mean_queueing_delay_us, 1_000_000.0);
        assert_eq!(s.clients["users"].throttled, 0);
        assert_eq!((s.writes, s.throttled), (4, 2));
    }
}
