//! Distributions of durations (run times, start-up latencies, inter-arrival times).
//!
//! Sampling uses only integer draws from a [`SimRng`] and the portable `libm` functions, so the
//! same seed gives the same durations on every platform. A distribution is written in a scenario
//! either as a plain duration (`30s`, a constant) or as a one-key map:
//!
//! ```yaml
//! constant: 30s
//! exponential: {mean: 5m}
//! uniform: {min: 1m, max: 5m}
//! logNormal: {median: 2m, sigma: 0.5}
//! empirical: [30s, 1m, 5m]
//! ```

use crate::engine::rng::SimRng;
use crate::engine::time::SimDuration;
use crate::input::go_duration::GoDuration;
use rand::Rng;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// The largest sampled duration (about 100 years): draws beyond it are clamped.
pub const MAX_SAMPLE_MICROS: u64 = 100 * 365 * 24 * 3600 * 1_000_000;

/// Parameters of an exponential distribution.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialParams {
    /// The mean.
    pub mean: GoDuration,
}

/// Parameters of a uniform distribution over `[min, max]`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UniformParams {
    /// The smallest value.
    pub min: GoDuration,
    /// The largest value.
    pub max: GoDuration,
}

/// Parameters of a log-normal distribution: `median * exp(sigma * Z)` with `Z ~ N(0, 1)`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogNormalParams {
    /// The median (`exp(mu)`).
    pub median: GoDuration,
    /// The standard deviation of the underlying normal (must be ≥ 0 and finite).
    pub sigma: f64,
}

/// A distribution of durations.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DurationDist {
    /// Always the same value.
    Constant(GoDuration),
    /// Exponential with the given mean (Poisson arrivals when used for inter-arrival times).
    Exponential(ExponentialParams),
    /// Uniform over `[min, max]` in whole microseconds.
    Uniform(UniformParams),
    /// Log-normal.
    LogNormal(LogNormalParams),
    /// One of the listed values, each equally likely.
    Empirical(Vec<GoDuration>),
}

/// A uniform float in `[0, 1)` from the top 53 bits of one draw.
pub fn unit_f64(rng: &mut SimRng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform integer in `[0, n)` by rejection (no modulo bias). `n` must be > 0.
pub fn below(rng: &mut SimRng, n: u64) -> u64 {
    debug_assert!(n > 0);
    if n <= 1 {
        return 0;
    }
    let zone = u64::MAX - (u64::MAX % n) - 1;
    loop {
        let v = rng.next_u64();
        if v <= zone {
            return v % n;
        }
    }
}

fn clamp_f64_micros(x: f64) -> SimDuration {
    if !x.is_finite() || x <= 0.0 {
        return SimDuration::ZERO;
    }
    if x >= MAX_SAMPLE_MICROS as f64 {
        return SimDuration(MAX_SAMPLE_MICROS);
    }
    SimDuration(libm::round(x) as u64)
}

impl DurationDist {
    /// Draws one duration.
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        match self {
            DurationDist::Constant(d) => SimDuration(d.0),
            DurationDist::Exponential(p) => {
                let u = unit_f64(rng);
                clamp_f64_micros(-(p.mean.0 as f64) * libm::log(1.0 - u))
            }
            DurationDist::Uniform(p) => {
                let span = p.max.0.saturating_sub(p.min.0);
                let off = if span == u64::MAX { rng.next_u64() } else { below(rng, span + 1) };
                SimDuration(p.min.0 + off)
            }
            DurationDist::LogNormal(p) => {
                // Box-Muller on two uniforms; 1-u keeps the logarithm finite.
                let u1 = 1.0 - unit_f64(rng);
                let u2 = unit_f64(rng);
                let z = libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2);
                clamp_f64_micros(p.median.0 as f64 * libm::exp(p.sigma * z))
            }
            DurationDist::Empirical(values) => match values.len() {
                0 => SimDuration::ZERO,
                n => SimDuration(values[below(rng, n as u64) as usize].0),
            },
        }
    }

    /// The mean of the distribution, in microseconds (for validation messages and limits).
    pub fn mean_micros(&self) -> f64 {
        match self {
            DurationDist::Constant(d) => d.0 as f64,
            DurationDist::Exponential(p) => p.mean.0 as f64,
            DurationDist::Uniform(p) => (p.min.0 as f64 + p.max.0 as f64) / 2.0,
            DurationDist::LogNormal(p) => p.median.0 as f64 * libm::exp(p.sigma * p.sigma / 2.0),
            DurationDist::Empirical(v) if v.is_empty() => 0.0,
            DurationDist::Empirical(v) => v.iter().map(|d| d.0 as f64).sum::<f64>() / v.len() as f64,
        }
    }

    fn validate(&self) -> Result<(), String> {
        match self {
            DurationDist::Uniform(p) if p.min.0 > p.max.0 => {
                Err(format!("uniform: min ({}) is greater than max ({})", p.min, p.max))
            }
            DurationDist::LogNormal(p) if !(p.sigma.is_finite() && p.sigma >= 0.0) => {
                Err(format!("logNormal: sigma must be a finite number >= 0, got {}", p.sigma))
            }
            DurationDist::Empirical(v) if v.is_empty() => {
                Err("empirical: the list of values must not be empty".to_string())
            }
            _ => Ok(()),
        }
    }
}

impl<'de> Deserialize<'de> for DurationDist {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DistVisitor;
        impl<'de> Visitor<'de> for DistVisitor {
            type Value = DurationDist;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a duration (e.g. 30s) or one of {constant: D}, {exponential: {mean: D}}, \
                     {uniform: {min: D, max: D}}, {logNormal: {median: D, sigma: X}}, {empirical: [D, ...]}",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationDist, E> {
                GoDuration::deserialize(de::value::StrDeserializer::<E>::new(v)).map(DurationDist::Constant)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DurationDist, E> {
                GoDuration::deserialize(de::value::U64Deserializer::<E>::new(v)).map(DurationDist::Constant)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationDist, E> {
                GoDuration::deserialize(de::value::I64Deserializer::<E>::new(v)).map(DurationDist::Constant)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DurationDist, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::custom("empty distribution: expected one key such as `exponential`"));
                };
                let dist = match key.as_str() {
                    "constant" => DurationDist::Constant(map.next_value()?),
                    "exponential" => DurationDist::Exponential(map.next_value()?),
                    "uniform" => DurationDist::Uniform(map.next_value()?),
                    "logNormal" => DurationDist::LogNormal(map.next_value()?),
                    "empirical" => DurationDist::Empirical(map.next_value()?),
                    other => {
                        return Err(de::Error::unknown_variant(
                            other,
                            &["constant", "exponential", "uniform", "logNormal", "empirical"],
                        ));
                    }
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "a distribution has exactly one key, found `{key}` and `{extra}`"
                    )));
                }
                dist.validate().map_err(de::Error::custom)?;
                Ok(dist)
            }
        }
        deserializer.deserialize_any(DistVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    fn d(yaml: &str) -> DurationDist {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn a_plain_duration_is_a_constant() {
        let mut rng = stream(1, "t");
        assert_eq!(d("30s").sample(&mut rng), SimDuration::from_secs(30));
        assert_eq!(d("constant: 2m").sample(&mut rng), SimDuration::from_secs(120));
    }

    #[test]
    fn exponential_samples_have_the_requested_mean() {
        let dist = d("exponential: {mean: 10s}");
        let mut rng = stream(1, "t");
        let n = 20_000u64;
        let total: u64 = (0..n).map(|_| dist.sample(&mut rng).0).sum();
        let mean_s = total as f64 / n as f64 / 1e6;
        assert!((mean_s - 10.0).abs() < 0.3, "mean {mean_s}");
    }

    #[test]
    fn uniform_samples_stay_within_bounds() {
        let dist = d("uniform: {min: 1s, max: 3s}");
        let mut rng = stream(1, "t");
        for _ in 0..1000 {
            let s = dist.sample(&mut rng).0;
            assert!((1_000_000..=3_000_000).contains(&s));
        }
    }

    #[test]
    fn lognormal_median_is_close_to_the_parameter() {
        let dist = d("logNormal: {median: 1m, sigma: 0.8}");
        let mut rng = stream(3, "t");
        let mut v: Vec<u64> = (0..10_001).map(|_| dist.sample(&mut rng).0).collect();
        v.sort_unstable();
        let median_s = v[5000] as f64 / 1e6;
        assert!((median_s - 60.0).abs() < 3.0, "median {median_s}");
    }

    #[test]
    fn empirical_draws_only_listed_values() {
        let dist = d("empirical: [1s, 5s]");
        let mut rng = stream(1, "t");
        for _ in 0..100 {
            let s = dist.sample(&mut rng);
            assert!(s == SimDuration::from_secs(1) || s == SimDuration::from_secs(5));
        }
    }

    #[test]
    fn malformed_distributions_are_rejected_with_a_reason() {
        let cases = [
            ("uniform: {min: 5s, max: 1s}", "min (5s) is greater than max (1s)"),
            ("logNormal: {median: 1s, sigma: -1}", "sigma must be a finite number >= 0"),
            ("empirical: []", "must not be empty"),
            ("gamma: {k: 1}", "unknown variant `gamma`"),
            ("exponential: {mean: 1s, rate: 2}", "unknown field `rate`"),
        ];
        for (yaml, want) in cases {
            let err = serde_saphyr::from_str::<DurationDist>(yaml).unwrap_err().to_string();
            assert!(err.contains(want), "{yaml}: {err}");
        }
    }
}
