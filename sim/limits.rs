//! Limits on every size an input can ask for, named in one place.
//!
//! Each limit is a [`Limit`]: a default (also exported as a `MAX_*` constant), an environment
//! variable that raises or lowers it for one process (`KUBESIM_MAX_PODS=50000000 kubesim run ...`),
//! and a description. A check that fails gives a message naming the limit, its value, and how to
//! raise it, e.g. `200000000 pods exceed the limit of 10000000 (KUBESIM_MAX_PODS; set that
//! environment variable to raise it)`.
//!
//! Limits only decide whether an input is accepted; they never change what a run computes, so
//! they do not touch determinism. An environment variable that is not a whole number is ignored
//! (the default applies).

/// One size limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// The environment variable that overrides the default (also the limit's name in messages).
    pub env: &'static str,
    /// The default value.
    pub default: u64,
    /// What is counted, in the plural (`nodes in the cluster`).
    pub what: &'static str,
}

impl Limit {
    /// The limit in force: the environment variable when it holds a whole number, else the default.
    pub fn value(&self) -> u64 {
        std::env::var(self.env).ok().and_then(|v| v.trim().replace('_', "").parse::<u64>().ok()).unwrap_or(self.default)
    }

    /// The message for an input that asks for `asked` (more than `limit`).
    pub fn message(&self, asked: u64, limit: u64) -> String {
        format!(
            "{asked} {} exceed the limit of {limit} ({}; set that environment variable to raise it)",
            self.what, self.env
        )
    }

    /// `Ok` when `asked` is within the limit, else the message naming it.
    pub fn check(&self, asked: u64) -> Result<(), String> {
        let limit = self.value();
        if asked > limit { Err(self.message(asked, limit)) } else { Ok(()) }
    }
}

/// Largest input file or YAML document, in bytes.
pub const MAX_INPUT_BYTES: usize = 256 * 1024 * 1024;
/// Deepest YAML nesting (64: real manifests nest about 15 deep, and deeper nesting through the
/// field-path and ignored-field wrappers could overflow a 2 MiB thread stack in a debug build).
pub const MAX_YAML_DEPTH: usize = 64;
/// Most alias references in one YAML document (alias expansion is bounded by this and by
/// [`MAX_YAML_NODES`]).
pub const MAX_YAML_ALIASES: usize = 10_000;
/// Most YAML nodes (parser events, aliases expanded) in one document.
pub const MAX_YAML_NODES: usize = 20_000_000;
/// Most nodes in one cluster.
pub const MAX_NODES: u64 = 1_000_000;
/// Most pods one arrival generator may create.
pub const MAX_PODS_PER_GENERATOR: u64 = 100_000_000;
/// Most pods a scenario may create in all (initial pods, timeline pods, the expected arrivals of
/// every generator, trace pods).
pub const MAX_PODS: u64 = 100_000_000;
/// Most replicas one workload object (Deployment, ReplicaSet, StatefulSet, Job parallelism or
/// completions) may ask for.
pub const MAX_REPLICAS: u64 = 1_000_000;
/// Most arrivals per simulated second one generator may ask for (its mean inter-arrival time is
/// at least the inverse).
pub const MAX_ARRIVALS_PER_SECOND: u64 = 1_000_000;
/// Longest simulated run (10 years).
pub const MAX_RUN_DURATION_MICROS: u64 = 10 * 365 * 24 * 3600 * 1_000_000;
/// Shortest timeseries sample period.
pub const MIN_SAMPLE_PERIOD_MICROS: u64 = 1_000;
/// Most `timeseries.csv` rows a run may ask for (duration / sample period).
pub const MAX_SAMPLES: u64 = 100_000_000;
/// Most events one run may process before it is stopped as runaway.
pub const MAX_EVENTS: u64 = 10_000_000_000;
/// Most pods one trace source may produce (use a trace's `limit` option to read the first ones).
pub const MAX_TRACE_PODS: u64 = 50_000_000;
/// Largest trace file, in bytes (trace files are streamed, never read whole).
pub const MAX_TRACE_BYTES: u64 = 64 * 1024 * 1024 * 1024;
/// Most jobs in all workflows of a run.
pub const MAX_WORKFLOW_JOBS: u64 = 10_000_000;
/// Most rows one trace file may hold.
pub const MAX_TRACE_ROWS: u64 = 100_000_000;
/// Most runs one `kubesim compare` plan may hold (scenarios × set values × schedulers × seeds).
pub const MAX_COMPARE_RUNS: u64 = 1_000_000;

/// [`MAX_INPUT_BYTES`].
pub const INPUT_BYTES: Limit =
    Limit { env: "KUBESIM_MAX_INPUT_BYTES", default: MAX_INPUT_BYTES as u64, what: "bytes of input" };
/// [`MAX_YAML_DEPTH`].
pub const YAML_DEPTH: Limit =
    Limit { env: "KUBESIM_MAX_YAML_DEPTH", default: MAX_YAML_DEPTH as u64, what: "levels of YAML nesting" };
/// [`MAX_YAML_ALIASES`].
pub const YAML_ALIASES: Limit =
    Limit { env: "KUBESIM_MAX_YAML_ALIASES", default: MAX_YAML_ALIASES as u64, what: "YAML alias references" };
/// [`MAX_YAML_NODES`].
pub const YAML_NODES: Limit =
    Limit { env: "KUBESIM_MAX_YAML_NODES", default: MAX_YAML_NODES as u64, what: "YAML nodes in a document" };
/// [`MAX_NODES`].
pub const NODES: Limit = Limit { env: "KUBESIM_MAX_NODES", default: MAX_NODES, what: "nodes in the cluster" };
/// [`MAX_PODS_PER_GENERATOR`].
pub const PODS_PER_GENERATOR: Limit =
    Limit { env: "KUBESIM_MAX_PODS_PER_GENERATOR", default: MAX_PODS_PER_GENERATOR, what: "pods of one generator" };
/// [`MAX_PODS`].
pub const PODS: Limit = Limit { env: "KUBESIM_MAX_PODS", default: MAX_PODS, what: "pods" };
/// [`MAX_REPLICAS`].
pub const REPLICAS: Limit = Limit { env: "KUBESIM_MAX_REPLICAS", default: MAX_REPLICAS, what: "replicas" };
/// [`MAX_ARRIVALS_PER_SECOND`].
pub const ARRIVALS_PER_SECOND: Limit = Limit {
    env: "KUBESIM_MAX_ARRIVALS_PER_SECOND",
    default: MAX_ARRIVALS_PER_SECOND,
    what: "arrivals per simulated second",
};
/// [`MAX_RUN_DURATION_MICROS`].
pub const RUN_DURATION_MICROS: Limit = Limit {
    env: "KUBESIM_MAX_RUN_DURATION_MICROS",
    default: MAX_RUN_DURATION_MICROS,
    what: "microseconds of simulated time",
};
/// [`MAX_SAMPLES`].
pub const SAMPLES: Limit = Limit { env: "KUBESIM_MAX_SAMPLES", default: MAX_SAMPLES, what: "timeseries samples" };
/// [`MAX_EVENTS`].
pub const EVENTS: Limit = Limit { env: "KUBESIM_MAX_EVENTS", default: MAX_EVENTS, what: "events" };
/// [`MAX_TRACE_ROWS`].
pub const TRACE_ROWS: Limit = Limit { env: "KUBESIM_MAX_TRACE_ROWS", default: MAX_TRACE_ROWS, what: "trace rows" };

/// Every limit, for documentation and `--help`.
pub const ALL: [Limit; 13] = [
    INPUT_BYTES,
    YAML_DEPTH,
    YAML_ALIASES,
    YAML_NODES,
    NODES,
    PODS_PER_GENERATOR,
    PODS,
    REPLICAS,
    ARRIVALS_PER_SECOND,
    RUN_DURATION_MICROS,
    SAMPLES,
    EVENTS,
    TRACE_ROWS,
];

/// The limit a serde-saphyr budget error message refers to, if any (for a hint in the message).
pub fn yaml_budget_limit(message: &str) -> Option<Limit> {
    if !message.contains("budget breached") {
        return None;
    }
    Some(if message.contains("Alias") || message.contains("Anchor") {
        YAML_ALIASES
    } else if message.contains("Depth") {
        YAML_DEPTH
    } else if message.contains("Bytes") {
        INPUT_BYTES
    } else {
        YAML_NODES
    })
}

/// Checks a compiled scenario against the limits that depend on several fields at once: the
/// arrival rate of each generator, the pods the scenario may create in all (initial and timeline
/// pods plus the expected arrivals of every generator), and the number of timeseries samples.
pub fn check_scenario(
    sc: &crate::input::scenario::Scenario,
    shown: &str,
) -> Result<(), crate::input::error::InputError> {
    use crate::input::error::InputError;
    let mut pods = sc.initial_pods.len() as u64;
    pods = pods.saturating_add(
        sc.timeline.iter().filter(|(_, a)| matches!(a, crate::input::scenario::Action::AddPod(_))).count() as u64,
    );
    for (i, a) in sc.arrivals.iter().enumerate() {
        let field = format!("workloads.arrivals[{i}]");
        if a.start.0 > sc.duration.0 {
            return Err(InputError::file(
                shown,
                format!("the first arrival ({}) is after the end of the run ({})", a.start, sc.duration),
            )
            .with_field(format!("{field}.start")));
        }
        if a.stop < a.start {
            return Err(InputError::file(shown, format!("stop ({}) is before start ({})", a.stop, a.start))
                .with_field(format!("{field}.stop")));
        }
        let mean = a.inter_arrival.mean_micros();
        let rate = if mean > 0.0 { (1e6 / mean).ceil() } else { f64::INFINITY };
        let rate = if rate.is_finite() && rate < u64::MAX as f64 { rate as u64 } else { u64::MAX };
        ARRIVALS_PER_SECOND
            .check(rate)
            .map_err(|m| InputError::file(shown, m).with_field(format!("{field}.interArrival")))?;
        let window = a.stop.0.saturating_sub(a.start.0) as f64;
        let expected = if mean > 0.0 { (window / mean).ceil() } else { f64::INFINITY };
        let expected = if expected.is_finite() && expected < u64::MAX as f64 { expected as u64 } else { u64::MAX };
        let expected = a.count.map_or(expected, |c| c.min(expected));
        PODS_PER_GENERATOR.check(expected).map_err(|m| InputError::file(shown, m).with_field(field.clone()))?;
        pods = pods.saturating_add(expected);
    }
    PODS.check(pods).map_err(|m| InputError::file(shown, format!("the scenario may create too many pods: {m}")))?;
    let samples = sc.duration.0 / sc.sample_period.0.max(1);
    SAMPLES.check(samples).map_err(|m| InputError::file(shown, m).with_field("metrics.samplePeriod"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_breached_limit_names_its_environment_variable_and_value() {
        let m = PODS.message(200_000_000, 100_000_000);
        assert_eq!(
            m,
            "200000000 pods exceed the limit of 100000000 (KUBESIM_MAX_PODS; set that environment variable to raise it)"
        );
    }

    #[test]
    fn a_size_within_the_limit_passes() {
        let unset = Limit { env: "KUBESIM_TEST_LIMIT_THAT_IS_NEVER_SET", default: 10, what: "things" };
        assert!(unset.check(10).is_ok());
        assert!(unset.check(11).unwrap_err().contains("KUBESIM_TEST_LIMIT_THAT_IS_NEVER_SET"));
    }

    #[test]
    fn every_limit_has_a_distinct_kubesim_variable() {
        let mut names: Vec<&str> = ALL.iter().map(|l| l.env).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        assert!(names.iter().all(|n| n.starts_with("KUBESIM_MAX_")));
    }

    #[test]
    fn yaml_budget_errors_map_to_their_limit() {
        assert_eq!(yaml_budget_limit("budget breached: Aliases { aliases: 10001 }"), Some(YAML_ALIASES));
        assert_eq!(yaml_budget_limit("budget breached: Depth { depth: 129 }"), Some(YAML_DEPTH));
        assert_eq!(yaml_budget_limit("budget breached: Events { events: 3 }"), Some(YAML_NODES));
        assert_eq!(yaml_budget_limit("invalid type"), None);
    }
}
