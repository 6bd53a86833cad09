//! A request load per Service, spread over its endpoints. All integer: the requests of an
//! interval are `⌊rps·t₂/10⁶⌋ − ⌊rps·t₁/10⁶⌋` (so intervals add up exactly to the total), and each
//! endpoint serves at most its capacity over the same interval; the rest is dropped.
//!
//! - **round-robin**: every endpoint the data plane lists gets an equal share (the remainder
//!   rotates over the endpoints from one interval to the next), whether it answers or not: the
//!   share of an endpoint whose node is down is dropped.
//! - **least-requests**: requests go to the least-loaded endpoint; an unreachable endpoint holds
//!   its requests (they never complete) and so looks busy: reachable endpoints take everything up
//!   to their capacity, and only the overflow is dropped.

use crate::services::LoadPolicy;

/// What the requests of one interval became.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// Requests offered.
    pub offered: u64,
    /// Requests an endpoint served.
    pub served: u64,
    /// Requests dropped (no endpoint, endpoint unreachable, or endpoint over capacity).
    pub dropped: u64,
}

/// Requests a constant `rate_rps` produces in `[from_us, to_us)`.
pub fn requests_between(rate_rps: u64, from_us: u64, to_us: u64) -> u64 {
    let at = |t: u64| (rate_rps as u128 * t as u128 / 1_000_000) as u64;
    at(to_us).saturating_sub(at(from_us))
}

/// Spreads `offered` requests over the endpoints (`reachable[i]`: endpoint `i` answers), each
/// serving at most `capacity` requests; `rotation` is round-robin's position, carried between
/// intervals.
pub fn distribute(policy: LoadPolicy, offered: u64, reachable: &[bool], capacity: u64, rotation: &mut u64) -> Outcome {
    let n = reachable.len() as u64;
    if n == 0 || offered == 0 {
        return Outcome { offered, served: 0, dropped: offered };
    }
    let served = match policy {
        LoadPolicy::RoundRobin => {
            let (q, r) = (offered / n, offered % n);
            let start = *rotation % n;
            *rotation = (start + r) % n;
            reachable
                .iter()
                .enumerate()
                .filter(|(_, up)| **up)
                .map(|(i, _)| {
                    // Endpoints start, start+1, ... (mod n) get one more request.
                    let extra = u64::from((i as u64 + n - start) % n < r);
                    (q + extra).min(capacity)
                })
                .sum()
        }
        LoadPolicy::LeastRequests => {
            let live = reachable.iter().filter(|up| **up).count() as u64;
            offered.min(live.saturating_mul(capacity))
        }
    };
    Outcome { offered, served, dropped: offered - served }
}

/// The request rate one endpoint is offered (requests per second, rounded up): the largest
/// per-endpoint load while these endpoints are listed.
pub fn endpoint_rate_rps(policy: LoadPolicy, rps: u64, reachable: &[bool]) -> u64 {
    let n = reachable.len() as u64;
    let live = reachable.iter().filter(|up| **up).count() as u64;
    let over = match policy {
        LoadPolicy::LeastRequests if live > 0 => live,
        _ => n,
    };
    if over == 0 { 0 } else { rps.div_ceil(over) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn requests_of_consecutive_intervals_add_up_to_the_total() {
        let rps = 7;
        let cuts = [0u64, 1, 142_857, 500_000, 1_000_000, 3_333_333, 10_000_000];
        let sum: u64 = cuts.windows(2).map(|w| requests_between(rps, w[0], w[1])).sum();
        assert_eq!(sum, requests_between(rps, 0, 10_000_000));
        assert_eq!(sum, 70);
    }

    /// Name, policy, offered, reachable endpoints, capacity, expected outcome.
    type Case = (&'static str, LoadPolicy, u64, &'static [bool], u64, Outcome);

    #[test]
    fn distribution_table() {
        use LoadPolicy::*;
        let cases: &[Case] = &[
            ("no endpoint drops everything", RoundRobin, 10, &[], 100, Outcome { offered: 10, served: 0, dropped: 10 }),
            (
                "round-robin within capacity serves everything",
                RoundRobin,
                10,
                &[true, true, true],
                100,
                Outcome { offered: 10, served: 10, dropped: 0 },
            ),
            (
                "round-robin drops the share of an unreachable endpoint",
                RoundRobin,
                30,
                &[true, false, true],
                100,
                Outcome { offered: 30, served: 20, dropped: 10 },
            ),
            (
                "least-requests moves the unreachable endpoint's share to the others",
                LeastRequests,
                30,
                &[true, false, true],
                100,
                Outcome { offered: 30, served: 30, dropped: 0 },
            ),
            (
                "overloaded endpoints drop beyond their capacity",
                RoundRobin,
                30,
                &[true, true],
                10,
                Outcome { offered: 30, served: 20, dropped: 10 },
            ),
            (
                "least-requests also drops beyond the reachable capacity",
                LeastRequests,
                30,
                &[true, false],
                10,
                Outcome { offered: 30, served: 10, dropped: 20 },
            ),
            (
                "only unreachable endpoints drop everything",
                LeastRequests,
                5,
                &[false],
                10,
                Outcome { offered: 5, served: 0, dropped: 5 },
            ),
        ];
        for (name, policy, offered, reachable, cap, want) in cases {
            let mut rot = 0;
            assert_eq!(distribute(*policy, *offered, reachable, *cap, &mut rot), *want, "{name}");
        }
    }

    #[test]
    fn the_round_robin_remainder_rotates_over_the_endpoints() {
        // One request per interval over three endpoints, the first unreachable: it is dropped
        // once every three intervals.
        let mut rot = 0;
        let served: Vec<u64> =
            (0..6).map(|_| distribute(LoadPolicy::RoundRobin, 1, &[false, true, true], 5, &mut rot).served).collect();
        assert_eq!(served, vec![0, 1, 1, 0, 1, 1]);
    }

    #[test]
    fn per_endpoint_rate_counts_the_endpoints_the_policy_uses() {
        assert_eq!(endpoint_rate_rps(LoadPolicy::RoundRobin, 100, &[true, false, true]), 34);
        assert_eq!(endpoint_rate_rps(LoadPolicy::LeastRequests, 100, &[true, false, true]), 50);
        assert_eq!(endpoint_rate_rps(LoadPolicy::LeastRequests, 100, &[false]), 100);
        assert_eq!(endpoint_rate_rps(LoadPolicy::RoundRobin, 100, &[]), 0);
    }

    proptest! {
        #[test]
        fn served_plus_dropped_is_offered_and_served_never_exceeds_capacity(
            offered in 0u64..10_000,
            reachable in proptest::collection::vec(any::<bool>(), 0..12),
            cap in 0u64..2_000,
            rot in 0u64..100,
            least in any::<bool>(),
        ) {
            let policy = if least { LoadPolicy::LeastRequests } else { LoadPolicy::RoundRobin };
            let mut r = rot;
            let o = distribute(policy, offered, &reachable, cap, &mut r);
            let live = reachable.iter().filter(|x| **x).count() as u64;
            prop_assert_eq!(o.served + o.dropped, offered);
            prop_assert!(o.served <= live * cap);
            if least { prop_assert_eq!(o.served, offered.min(live * cap)); }
        }
    }
}
