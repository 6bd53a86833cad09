//! The scenario's `controlPlane` block and its compilation into a [`ControlPlane`].
//!
//! ```yaml
//! controlPlane:
//!   writeLatency: 5ms
//!   watchDelay: {scheduler: 2ms, controllers: 5ms, kubelet: 10ms}
//!   qps: {scheduler: 50, controllers: 20}      # 0: unlimited
//!   burst: {scheduler: 100, controllers: 30}
//! ```
//!
//! Inside the block, an unset `qps` / `burst` takes the upstream default (kube-scheduler 50 /
//! 100, kube-controller-manager 20 / 30, users unlimited); `qps: 0` turns a limit off (unlike
//! client-go, where 0 means its default of 5).

use super::{ControlPlane, RateLimit};
use crate::engine::time::SimDuration;
use crate::input::error::InputError;
use crate::input::go_duration::GoDuration;
use serde::Deserialize;

/// The largest `qps` accepted (the rate is kept in milli-QPS).
pub const MAX_QPS: f64 = 1_000_000.0;

/// `controlPlane` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControlPlaneSpec {
    /// API server / etcd write latency.
    #[serde(default)]
    pub write_latency: Option<GoDuration>,
    /// Watch propagation delays.
    #[serde(default)]
    pub watch_delay: WatchDelaySpec,
    /// Client QPS.
    #[serde(default)]
    pub qps: ClientNumbers<f64>,
    /// Client bursts.
    #[serde(default)]
    pub burst: ClientNumbers<u32>,
}

/// `controlPlane.watchDelay`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchDelaySpec {
    /// To the scheduler.
    #[serde(default)]
    pub scheduler: Option<GoDuration>,
    /// To the controllers.
    #[serde(default)]
    pub controllers: Option<GoDuration>,
    /// To kubelets.
    #[serde(default)]
    pub kubelet: Option<GoDuration>,
}

/// A number per client kind.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientNumbers<T> {
    /// kube-scheduler.
    #[serde(default)]
    pub scheduler: Option<T>,
    /// Each kube-controller-manager controller.
    #[serde(default)]
    pub controllers: Option<T>,
    /// Users (timeline, arrivals, initial objects).
    #[serde(default)]
    pub users: Option<T>,
}

fn dur(d: Option<GoDuration>) -> SimDuration {
    SimDuration(d.map(|d| d.0).unwrap_or(0))
}

fn limit(
    qps: Option<f64>,
    burst: Option<u32>,
    default: (f64, u32),
    field: &str,
    file: &str,
) -> Result<RateLimit, InputError> {
    let q = qps.unwrap_or(default.0);
    if !q.is_finite() || !(0.0..=MAX_QPS).contains(&q) {
        return Err(InputError::file(file, format!("qps must be within 0..{MAX_QPS}, got {q}"))
            .with_field(format!("controlPlane.qps.{field}")));
    }
    let b = burst.unwrap_or(default.1);
    let qps_milli = (q * 1000.0).round() as u64;
    if qps_milli > 0 && b == 0 {
        return Err(InputError::file(file, "burst must be at least 1 when qps is set")
            .with_field(format!("controlPlane.burst.{field}")));
    }
    Ok(RateLimit { qps_milli, burst: b as u64 })
}

/// Compiles the block (`file` names the scenario in errors).
pub fn compile(s: &ControlPlaneSpec, file: &str) -> Result<ControlPlane, InputError> {
    Ok(ControlPlane {
        write_latency: dur(s.write_latency),
        watch_scheduler: dur(s.watch_delay.scheduler),
        watch_controllers: dur(s.watch_delay.controllers),
        watch_kubelet: dur(s.watch_delay.kubelet),
        scheduler: limit(s.qps.scheduler, s.burst.scheduler, (50.0, 100), "scheduler", file)?,
        controllers: limit(s.qps.controllers, s.burst.controllers, (20.0, 30), "controllers", file)?,
        users: limit(s.qps.users, s.burst.users, (0.0, 0), "users", file)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> ControlPlaneSpec {
        serde_saphyr::from_str(yaml).expect("valid yaml")
    }

    #[test]
    fn unset_limits_take_the_upstream_defaults() {
        let cp = compile(&spec("writeLatency: 5ms\n"), "s.yaml").expect("valid");
        assert_eq!(cp.write_latency, SimDuration(5000));
        assert_eq!(cp.scheduler, RateLimit { qps_milli: 50_000, burst: 100 });
        assert_eq!(cp.controllers, RateLimit { qps_milli: 20_000, burst: 30 });
        assert_eq!(cp.users, RateLimit::default());
        assert!(!cp.is_instant());
    }

    #[test]
    fn an_all_zero_block_is_instant() {
        let cp = compile(
            &spec("writeLatency: 0s\nwatchDelay: {scheduler: 0s, controllers: 0s, kubelet: 0s}\nqps: {scheduler: 0, controllers: 0}\n"),
            "s.yaml",
        )
        .expect("valid");
        assert!(cp.is_instant());
    }

    #[test]
    fn bad_limits_name_the_field() {
        let e = compile(&spec("qps: {scheduler: -1}\n"), "s.yaml").expect_err("negative");
        assert_eq!(e.field.as_deref(), Some("controlPlane.qps.scheduler"));
        let e = compile(&spec("qps: {users: 5}\n"), "s.yaml").expect_err("no burst");
        assert_eq!(e.field.as_deref(), Some("controlPlane.burst.users"));
        assert!(serde_saphyr::from_str::<ControlPlaneSpec>("qps: {kubelet: 5}\n").is_err(), "unknown client");
    }
}
