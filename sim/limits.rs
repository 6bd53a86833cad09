//! Limits on every size an input can ask for, named in one place. Each check's message names the
//! limit so that a user who truly needs more knows what to change.

/// Largest input file or YAML document, in bytes.
pub const MAX_INPUT_BYTES: usize = 256 * 1024 * 1024;
/// Deepest YAML nesting.
pub const MAX_YAML_DEPTH: usize = 128;
/// Most alias references in one YAML document.
pub const MAX_YAML_ALIASES: usize = 10_000;
/// Most YAML nodes in one document.
pub const MAX_YAML_NODES: usize = 20_000_000;
/// Most nodes in one cluster.
pub const MAX_NODES: u64 = 1_000_000;
/// Most pods one arrival generator may create.
pub const MAX_PODS_PER_GENERATOR: u64 = 100_000_000;
/// Longest simulated run (10 years).
pub const MAX_RUN_DURATION_MICROS: u64 = 10 * 365 * 24 * 3600 * 1_000_000;
/// Shortest timeseries sample period.
pub const MIN_SAMPLE_PERIOD_MICROS: u64 = 1_000;
/// Most events one run may process before it is stopped as runaway.
pub const MAX_EVENTS: u64 = 10_000_000_000;
/// Most pods one trace source may produce (use a trace's `limit` option to read the first ones).
pub const MAX_TRACE_PODS: u64 = 50_000_000;
/// Largest trace file, in bytes (trace files are streamed, never read whole).
pub const MAX_TRACE_BYTES: u64 = 64 * 1024 * 1024 * 1024;
/// Most jobs in all workflows of a run.
pub const MAX_WORKFLOW_JOBS: u64 = 10_000_000;
/// Most runs one `kubesim compare` plan may hold (scenarios × set values × schedulers × seeds).
pub const MAX_COMPARE_RUNS: u64 = 1_000_000;
/// Most Services in one scenario.
pub const MAX_SERVICES: u64 = 100_000;
/// Largest request rate (and per-endpoint capacity) of a Service load, in requests per second.
pub const MAX_SERVICE_RPS: u64 = 1_000_000_000;
