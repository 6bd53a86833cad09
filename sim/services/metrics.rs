//! Per-Service accounting: exact time integrals of the ready endpoints the data plane sees,
//! updated at every endpoint change (not only at samples), and the request load.
//!
//! **Definitions.** A Service's figures are taken over its *window*: from the first moment its
//! ready endpoints reached its desired count (at least 1), so that the initial rollout is not an
//! outage; a Service that never got there is judged over the whole run.
//! - `time_zero_endpoints`: time with no ready endpoint;
//! - `availability`: the fraction of the window with at least one ready endpoint;
//! - `capacity_lost_endpoint_s`: `∫ max(desired − ready, 0) dt`, in endpoint-seconds;
//! - `min_ready_endpoints`: the least ready endpoints held for a positive time.
//!
//! "Desired" is read when the Service's pods change and at every sample (see
//! [`crate::services::Service::desired`]).

use crate::services::load::{self, Outcome};
use crate::services::{Service, ServiceLoad};
use serde::{Deserialize, Serialize};

/// Columns of `services.csv` (load columns are empty for a Service without load).
pub const SERVICES_HEADER: &str =
    "time_us,service,ready_endpoints,unreachable_endpoints,desired,requests_offered,requests_served,requests_dropped\n";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Totals {
    observed_us: u64,
    zero_us: u64,
    lost_endpoint_us: u128,
    min_ready: Option<i64>,
    offered: u64,
    served: u64,
    dropped: u64,
    max_endpoint_rps: u64,
}

impl Totals {
    fn add(&mut self, dt: u64, ready: i64, desired: i64, o: Outcome, rate: u64) {
        self.observed_us += dt;
        if ready <= 0 {
            self.zero_us += dt;
        }
        self.lost_endpoint_us += (desired - ready).max(0) as u128 * dt as u128;
        self.min_ready = Some(self.min_ready.map_or(ready, |m| m.min(ready)));
        self.offered += o.offered;
        self.served += o.served;
        self.dropped += o.dropped;
        self.max_endpoint_rps = self.max_endpoint_rps.max(rate);
    }
}

/// The running account of one Service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    last_us: u64,
    ready: i64,
    desired: i64,
    /// Per published endpoint (pod order): does it answer (its node and containers are up)?
    reachable: Vec<bool>,
    window_start_us: Option<u64>,
    all: Totals,
    window: Totals,
    rotation: u64,
    interval: Outcome,
}

/// The load figures of one Service in `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadSummary {
    /// `round-robin` or `least-requests`.
    pub policy: &'static str,
    /// Offered requests per second.
    pub rps: u64,
    /// Requests one endpoint can serve per second.
    pub capacity_per_endpoint_rps: u64,
    /// Requests offered over the window.
    pub requests_offered: u64,
    /// Requests served.
    pub requests_served: u64,
    /// Requests dropped (no endpoint, unreachable endpoint, or over capacity).
    pub requests_dropped: u64,
    /// `served / offered` (1 when nothing was offered; 6 decimals).
    pub served_fraction: f64,
    /// The highest request rate offered to one endpoint (rounded up).
    pub max_endpoint_rps: u64,
}

/// One Service in `summary.json`'s `services` object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceSummary {
    /// `spec.selector` as `k=v,k=v` (null without selector).
    pub selector: Option<String>,
    /// Desired endpoints at the end of the run.
    pub desired: i64,
    /// Ready endpoints at the end of the run.
    pub ready_endpoints: i64,
    /// Start of the window (null: the Service never reached its desired count, and the window is
    /// the whole run).
    pub window_start_us: Option<u64>,
    /// Length of the window.
    pub window_us: u64,
    /// Least ready endpoints held for a positive time in the window (null: empty window).
    pub min_ready_endpoints: Option<i64>,
    /// Time with no ready endpoint.
    pub time_zero_endpoints_us: u64,
    /// The same in seconds (6 decimals).
    pub time_zero_endpoints_s: f64,
    /// Fraction of the window with at least one ready endpoint (6 decimals; 1 for an empty window).
    pub availability: f64,
    /// `∫ max(desired − ready, 0) dt` in endpoint-seconds (6 decimals).
    pub capacity_lost_endpoint_s: f64,
    /// The request load, when the Service has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadSummary>,
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl Account {
    /// Integrates the state held since the last update up to `now_us`.
    pub fn advance(&mut self, now_us: u64, l: Option<&ServiceLoad>) {
        let dt = now_us.saturating_sub(self.last_us);
        if dt == 0 {
            return;
        }
        let (outcome, rate) = match l {
            Some(l) => {
                let offered = load::requests_between(l.rps, self.last_us, now_us);
                let cap = load::requests_between(l.capacity_per_endpoint_rps, self.last_us, now_us);
                let o = load::distribute(l.policy, offered, &self.reachable, cap, &mut self.rotation);
                (o, load::endpoint_rate_rps(l.policy, l.rps, &self.reachable))
            }
            None => (Outcome::default(), 0),
        };
        self.all.add(dt, self.ready, self.desired, outcome, rate);
        if self.window_start_us.is_some() {
            self.window.add(dt, self.ready, self.desired, outcome, rate);
        }
        self.interval.offered += outcome.offered;
        self.interval.served += outcome.served;
        self.interval.dropped += outcome.dropped;
        self.last_us = now_us;
    }

    /// Sets the state from `now_us` on (call [`Account::advance`] first).
    pub fn set(&mut self, now_us: u64, reachable: Vec<bool>, desired: i64) {
        self.ready = reachable.len() as i64;
        self.reachable = reachable;
        self.desired = desired;
        if self.window_start_us.is_none() && self.ready >= desired.max(1) {
            self.window_start_us = Some(now_us);
        }
    }

    /// Sets the desired count only.
    pub fn set_desired(&mut self, now_us: u64, desired: i64) {
        let reachable = std::mem::take(&mut self.reachable);
        self.set(now_us, reachable, desired);
    }

    /// The `services.csv` row at `now_us` (after [`Account::advance`]); resets the interval's
    /// request counters.
    pub fn row(&mut self, now_us: u64, s: &Service) -> String {
        let unreachable = self.reachable.iter().filter(|r| !**r).count();
        let load = match &s.load {
            Some(_) => format!("{},{},{}", self.interval.offered, self.interval.served, self.interval.dropped),
            None => ",,".into(),
        };
        self.interval = Outcome::default();
        format!("{now_us},{},{},{unreachable},{},{load}\n", s.key(), self.ready, self.desired)
    }

    /// Ready endpoints now.
    pub fn ready(&self) -> i64 {
        self.ready
    }

    /// The desired count now.
    pub fn desired(&self) -> i64 {
        self.desired
    }

    /// The summary at the end (call [`Account::advance`] to the end first).
    pub fn summary(&self, s: &Service) -> ServiceSummary {
        let t = if self.window_start_us.is_some() { &self.window } else { &self.all };
        let availability =
            if t.observed_us == 0 { 1.0 } else { round6((t.observed_us - t.zero_us) as f64 / t.observed_us as f64) };
        ServiceSummary {
            selector: s
                .selector
                .as_ref()
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")),
            desired: self.desired,
            ready_endpoints: self.ready,
            window_start_us: self.window_start_us,
            window_us: t.observed_us,
            min_ready_endpoints: t.min_ready,
            time_zero_endpoints_us: t.zero_us,
            time_zero_endpoints_s: round6(t.zero_us as f64 / 1e6),
            availability,
            capacity_lost_endpoint_s: round6(t.lost_endpoint_us as f64 / 1e6),
            load: s.load.as_ref().map(|l| LoadSummary {
                policy: l.policy.as_str(),
                rps: l.rps,
                capacity_per_endpoint_rps: l.capacity_per_endpoint_rps,
                requests_offered: t.offered,
                requests_served: t.served,
                requests_dropped: t.dropped,
                served_fraction: if t.offered == 0 { 1.0 } else { round6(t.served as f64 / t.offered as f64) },
                max_endpoint_rps: t.max_endpoint_rps,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::LoadPolicy;

    fn svc(load: Option<ServiceLoad>) -> Service {
        Service {
            namespace: "default".into(),
            name: "web".into(),
            selector: Some([("app".to_string(), "web".to_string())].into_iter().collect()),
            ports: vec![],
            load,
        }
    }

    const S: u64 = 1_000_000;

    #[test]
    fn the_window_opens_when_the_desired_count_is_first_reached() {
        let s = svc(None);
        let mut a = Account::default();
        a.set(0, vec![], 3);
        a.advance(2 * S, None);
        a.set(2 * S, vec![true; 3], 3);
        a.advance(10 * S, None);
        a.set(10 * S, vec![], 3); // outage
        a.advance(15 * S, None);
        a.set(15 * S, vec![true], 3);
        a.advance(20 * S, None);
        let sum = a.summary(&s);
        assert_eq!(sum.window_start_us, Some(2 * S));
        assert_eq!(sum.window_us, 18 * S);
        assert_eq!(sum.time_zero_endpoints_us, 5 * S);
        assert_eq!(sum.min_ready_endpoints, Some(0));
        assert_eq!(sum.availability, round6(13.0 / 18.0));
        // 3 endpoints lost for 5 s, 2 for 5 s.
        assert_eq!(sum.capacity_lost_endpoint_s, 25.0);
        assert_eq!(sum.selector.as_deref(), Some("app=web"));
    }

    #[test]
    fn a_service_that_never_comes_up_is_judged_over_the_whole_run() {
        let s = svc(None);
        let mut a = Account::default();
        a.set(0, vec![true], 2);
        a.advance(10 * S, None);
        let sum = a.summary(&s);
        assert_eq!((sum.window_start_us, sum.window_us, sum.time_zero_endpoints_us), (None, 10 * S, 0));
        assert_eq!(sum.capacity_lost_endpoint_s, 10.0);
    }

    #[test]
    fn load_is_counted_per_interval_and_in_the_summary() {
        let l = ServiceLoad { rps: 10, policy: LoadPolicy::RoundRobin, capacity_per_endpoint_rps: 4 };
        let s = svc(Some(l.clone()));
        let mut a = Account::default();
        a.set(0, vec![true, true], 2);
        a.advance(10 * S, Some(&l));
        assert_eq!(a.row(10 * S, &s), "10000000,default/web,2,0,2,100,80,20\n");
        a.set(10 * S, vec![true, false], 2);
        a.advance(20 * S, Some(&l));
        assert_eq!(a.row(20 * S, &s), "20000000,default/web,2,1,2,100,40,60\n");
        let ld = a.summary(&s).load.expect("load");
        assert_eq!((ld.requests_offered, ld.requests_served, ld.requests_dropped), (200, 120, 80));
        assert_eq!(ld.max_endpoint_rps, 5);
        assert_eq!(ld.served_fraction, 0.6);
    }

    #[test]
    fn a_row_without_load_leaves_the_request_columns_empty() {
        let mut a = Account::default();
        a.set(0, vec![true], 1);
        assert_eq!(a.row(0, &svc(None)), "0,default/web,1,0,1,,,\n");
    }
}
