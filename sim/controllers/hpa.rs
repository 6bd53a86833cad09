//! The HorizontalPodAutoscaler's algorithm (`pkg/controller/podautoscaler`, v1.33), as pure
//! functions and a per-HPA state: the CPU replica calculation of `replica_calculator.go`
//! (`GetResourceReplicas`: tolerance 0.1, unready pods and pods without metrics), the
//! stabilisation window (`stabilizeRecommendationWithBehaviors`: scale-up takes the minimum,
//! scale-down the maximum recommendation of its window, 300 s by default) and the rate policies
//! (`calculateScaleUpLimitWithScalingRules` / `calculateScaleDownLimitWithBehaviors`: Pods /
//! Percent per `periodSeconds`, `selectPolicy` Max / Min / Disabled).
//!
//! **Not done yet (documented):** the run-loop integration (15 s sync events, per-workload load
//! curves turned into per-pod CPU usage, `autoscaling/v2` manifests, usage columns); the functions
//! here are what that integration calls.

use crate::engine::time::{SimDuration, SimTime};

/// Controller default `--horizontal-pod-autoscaler-tolerance`.
pub const TOLERANCE: f64 = 0.1;
/// Controller default `--horizontal-pod-autoscaler-sync-period`.
pub const SYNC_PERIOD: SimDuration = SimDuration::from_secs(15);
/// Default scale-down stabilisation window.
pub const DOWNSCALE_STABILIZATION: SimDuration = SimDuration::from_secs(300);

/// What the metrics pipeline knows of one pod of the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodSample {
    /// CPU request of the pod, in millicores.
    pub request_millis: i64,
    /// Measured CPU usage, if the pod has a metric.
    pub usage_millis: Option<i64>,
    /// Ready (and past its CPU initialisation period).
    pub ready: bool,
}

/// `GetResourceReplicas` for a CPU utilisation target (percent of request). Returns the
/// recommended replica count, or `None` when no pod has a metric.
pub fn cpu_replicas(current: i32, target_utilization: i64, pods: &[PodSample], tolerance: f64) -> Option<i32> {
    // groupPods: ready with metrics, unready (with metrics, ignored for the first pass), missing.
    let ready: Vec<&PodSample> = pods.iter().filter(|p| p.ready && p.usage_millis.is_some()).collect();
    let unready = pods.iter().filter(|p| !p.ready && p.usage_millis.is_some()).count();
    let missing: Vec<&PodSample> = pods.iter().filter(|p| p.usage_millis.is_none()).collect();
    if ready.is_empty() && missing.is_empty() {
        return None;
    }
    let ratio = |samples: &[(i64, i64)]| -> f64 {
        let usage: i64 = samples.iter().map(|(u, _)| u).sum();
        let req: i64 = samples.iter().map(|(_, r)| r).sum();
        if req == 0 {
            return 0.0;
        }
        // GetResourceUtilizationRatio: integer percent, then a float ratio to the target.
        let utilization = usage * 100 / req;
        utilization as f64 / target_utilization as f64
    };
    let mut metrics: Vec<(i64, i64)> = ready.iter().map(|p| (p.usage_millis.unwrap_or(0), p.request_millis)).collect();
    if metrics.is_empty() {
        return None;
    }
    let usage_ratio = ratio(&metrics);
    let scale_up_with_unready = unready > 0 && usage_ratio > 1.0;
    if !scale_up_with_unready && missing.is_empty() {
        if (1.0 - usage_ratio).abs() <= tolerance {
            return Some(current);
        }
        return Some((usage_ratio * metrics.len() as f64).ceil() as i32);
    }
    for p in &missing {
        let fill = if usage_ratio < 1.0 { p.request_millis * target_utilization.max(100) / 100 } else { 0 };
        metrics.push((fill, p.request_millis));
    }
    if scale_up_with_unready {
        for p in pods.iter().filter(|p| !p.ready && p.usage_millis.is_some()) {
            metrics.push((0, p.request_millis));
        }
    }
    let new_ratio = ratio(&metrics);
    if (1.0 - new_ratio).abs() <= tolerance
        || (usage_ratio < 1.0 && new_ratio > 1.0)
        || (usage_ratio > 1.0 && new_ratio < 1.0)
    {
        return Some(current);
    }
    let n = (new_ratio * metrics.len() as f64).ceil() as i32;
    if (new_ratio < 1.0 && n > current) || (new_ratio > 1.0 && n < current) {
        return Some(current);
    }
    Some(n)
}

/// A scaling policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// At most this many pods per period.
    Pods {
        /// Pods.
        value: i32,
        /// Period.
        period_seconds: u32,
    },
    /// At most this percentage per period.
    Percent {
        /// Percent.
        value: i32,
        /// Period.
        period_seconds: u32,
    },
}

/// `selectPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Select {
    /// The policy allowing the largest change (default).
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// `behavior.scaleUp` / `behavior.scaleDown`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Stabilisation window.
    pub window: SimDuration,
    /// Policy selection.
    pub select: Select,
    /// Policies.
    pub policies: Vec<Policy>,
}

impl Rules {
    /// The default scale-up rules: no window, Max of {4 pods, 100 %} per 15 s.
    pub fn default_up() -> Self {
        Rules {
            window: SimDuration::ZERO,
            select: Select::Max,
            policies: vec![
                Policy::Pods { value: 4, period_seconds: 15 },
                Policy::Percent { value: 100, period_seconds: 15 },
            ],
        }
    }

    /// The default scale-down rules: 300 s window, 100 % per 15 s.
    pub fn default_down() -> Self {
        Rules {
            window: DOWNSCALE_STABILIZATION,
            select: Select::Max,
            policies: vec![Policy::Percent { value: 100, period_seconds: 15 }],
        }
    }
}

/// The scaling bounds and behaviour of one HPA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Behavior {
    /// `minReplicas` (default 1).
    pub min_replicas: i32,
    /// `maxReplicas`.
    pub max_replicas: i32,
    /// `behavior.scaleUp`.
    pub up: Rules,
    /// `behavior.scaleDown`.
    pub down: Rules,
}

/// The controller's memory of one HPA: recommendations and scale events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HpaState {
    recommendations: Vec<(SimTime, i32)>,
    scale_up_events: Vec<(SimTime, i32)>,
    scale_down_events: Vec<(SimTime, i32)>,
}

fn change_in_period(events: &[(SimTime, i32)], now: SimTime, period_seconds: u32) -> i32 {
    // `timestamp.After(now - period)`, without underflow near time zero.
    let period = u64::from(period_seconds) * 1_000_000;
    events.iter().filter(|(t, _)| t.0 + period > now.0).map(|(_, c)| c).sum()
}

impl HpaState {
    /// `normalizeDesiredReplicasWithBehaviors`: stabilises `desired` (recording it) and applies the
    /// rate policies and `[min, max]`; records the resulting scale event. Returns the new replicas.
    pub fn normalize(&mut self, now: SimTime, current: i32, desired: i32, b: &Behavior) -> i32 {
        let (min, max, up, down) = (b.min_replicas, b.max_replicas, &b.up, &b.down);
        // stabilizeRecommendationWithBehaviors
        // `timestamp.After(now - window)` / `Before`, without underflow near time zero.
        let (mut up_rec, mut down_rec) = (desired, desired);
        let mut old = None;
        for (i, (t, r)) in self.recommendations.iter().enumerate() {
            if t.0 + up.window.0 > now.0 {
                up_rec = up_rec.min(*r);
            }
            if t.0 + down.window.0 > now.0 {
                down_rec = down_rec.max(*r);
            }
            if t.0 + up.window.0 < now.0 && t.0 + down.window.0 < now.0 {
                old = Some(i);
            }
        }
        let stabilized = current.max(up_rec).min(down_rec);
        match old {
            Some(i) => self.recommendations[i] = (now, desired),
            None => self.recommendations.push((now, desired)),
        }
        // convertDesiredReplicasWithBehaviorRate
        let mut out = stabilized;
        if stabilized > current {
            let limit = self.scale_limit(now, current, up, true).max(current);
            out = stabilized.min(max.min(limit));
        } else if stabilized < current {
            let limit = self.scale_limit(now, current, down, false).min(current);
            out = stabilized.max(min.max(limit));
        }
        if out > current {
            self.scale_up_events.push((now, out - current));
        } else if out < current {
            self.scale_down_events.push((now, current - out));
        }
        out
    }

    fn scale_limit(&self, now: SimTime, current: i32, rules: &Rules, up: bool) -> i32 {
        // For scale-up Max picks the largest proposal; for scale-down Max picks the smallest.
        let pick_max = match (rules.select, up) {
            (Select::Disabled, _) => return current,
            (Select::Max, true) | (Select::Min, false) => true,
            (Select::Min, true) | (Select::Max, false) => false,
        };
        let mut result: Option<i32> = None;
        for p in &rules.policies {
            let period = match p {
                Policy::Pods { period_seconds, .. } | Policy::Percent { period_seconds, .. } => *period_seconds,
            };
            let added = change_in_period(&self.scale_up_events, now, period);
            let deleted = change_in_period(&self.scale_down_events, now, period);
            let start = current - added + deleted;
            let proposed = match (p, up) {
                (Policy::Pods { value, .. }, true) => start + value,
                (Policy::Pods { value, .. }, false) => start - value,
                (Policy::Percent { value, .. }, true) => {
                    (f64::from(start) * (1.0 + f64::from(*value) / 100.0)).ceil() as i32
                }
                (Policy::Percent { value, .. }, false) => (f64::from(start) * (1.0 - f64::from(*value) / 100.0)) as i32,
            };
            result = Some(match result {
                None => proposed,
                Some(r) if pick_max => r.max(proposed),
                Some(r) => r.min(proposed),
            });
        }
        result.unwrap_or(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bh(min: i32, max: i32, up: &Rules, down: &Rules) -> Behavior {
        Behavior { min_replicas: min, max_replicas: max, up: up.clone(), down: down.clone() }
    }

    fn pod(usage: Option<i64>, ready: bool) -> PodSample {
        PodSample { request_millis: 1000, usage_millis: usage, ready }
    }

    #[test]
    fn cpu_replica_calculation_table() {
        let cases: Vec<(&str, i32, Vec<PodSample>, Option<i32>)> = vec![
            ("within tolerance keeps the count", 3, vec![pod(Some(850), true); 3], Some(3)),
            ("just outside tolerance scales", 3, vec![pod(Some(900), true); 3], Some(4)),
            ("double load doubles", 2, vec![pod(Some(1600), true); 2], Some(4)),
            ("low load scales down", 4, vec![pod(Some(200), true); 4], Some(1)),
            // Missing metric on scale-down counts as 100 % of request: (200+200+1000)/3 → 46 % of
            // 80 % → ratio 0.575 → ceil(1.725) = 2.
            (
                "missing pod counts as full on scale-down",
                3,
                vec![pod(Some(200), true), pod(Some(200), true), pod(None, true)],
                Some(2),
            ),
            // Missing on scale-up counts as 0: (1600+1600+0)/3 = 106 % → ratio 1.325 → ceil(3.975) = 4.
            (
                "missing pod counts as zero on scale-up",
                3,
                vec![pod(Some(1600), true), pod(Some(1600), true), pod(None, true)],
                Some(4),
            ),
            // Unready pods count as 0 on scale-up: (2000+0)/2 = 100 % → 1.25 → ceil(2.5) = 3.
            ("unready pods count as zero on scale-up", 2, vec![pod(Some(2000), true), pod(Some(2000), false)], Some(3)),
            // Direction flips after filling in: keep the count.
            ("a flip after filling keeps the count", 2, vec![pod(Some(900), true), pod(None, true)], Some(2)),
            ("no metrics at all", 2, vec![pod(None, false)], None),
        ];
        for (name, current, pods, want) in cases {
            assert_eq!(cpu_replicas(current, 80, &pods, TOLERANCE), want, "{name}");
        }
    }

    #[test]
    fn scale_down_is_stabilised_over_the_300s_window() {
        let mut s = HpaState::default();
        let (up, down) = (Rules::default_up(), Rules::default_down());
        let t = |sec: u64| SimTime(sec * 1_000_000);
        assert_eq!(s.normalize(t(0), 10, 10, &bh(1, 20, &up, &down)), 10);
        // Load drops: the recommendation of 10 at t=0 holds the count for 300 s.
        assert_eq!(s.normalize(t(15), 10, 3, &bh(1, 20, &up, &down)), 10);
        assert_eq!(s.normalize(t(295), 10, 3, &bh(1, 20, &up, &down)), 10);
        assert_eq!(s.normalize(t(301), 10, 3, &bh(1, 20, &up, &down)), 3);
    }

    #[test]
    fn default_scale_up_allows_max_of_four_pods_or_double_per_15s() {
        let (up, down) = (Rules::default_up(), Rules::default_down());
        let mut s = HpaState::default();
        assert_eq!(s.normalize(SimTime(0), 1, 50, &bh(1, 100, &up, &down)), 5, "1 + 4 pods beats 1 × 2");
        let mut s = HpaState::default();
        assert_eq!(s.normalize(SimTime(0), 10, 50, &bh(1, 100, &up, &down)), 20, "10 × 2 beats 10 + 4");
        // Within the same 15 s period the budget is spent.
        assert_eq!(s.normalize(SimTime(5_000_000), 20, 50, &bh(1, 100, &up, &down)), 20);
        assert_eq!(s.normalize(SimTime(16_000_000), 20, 50, &bh(1, 100, &up, &down)), 40);
        let mut s = HpaState::default();
        assert_eq!(s.normalize(SimTime(0), 10, 50, &bh(1, 12, &up, &down)), 12, "maxReplicas caps");
    }

    #[test]
    fn select_policy_min_and_disabled() {
        let up = Rules {
            window: SimDuration::ZERO,
            select: Select::Min,
            policies: vec![
                Policy::Pods { value: 2, period_seconds: 60 },
                Policy::Percent { value: 50, period_seconds: 60 },
            ],
        };
        let mut s = HpaState::default();
        assert_eq!(s.normalize(SimTime(0), 10, 30, &bh(1, 100, &up, &Rules::default_down())), 12);
        let off = Rules { select: Select::Disabled, ..Rules::default_down() };
        let mut s = HpaState::default();
        assert_eq!(
            s.normalize(
                SimTime(0),
                10,
                2,
                &bh(1, 100, &Rules::default_up(), &Rules { window: SimDuration::ZERO, ..off })
            ),
            10
        );
    }
}
