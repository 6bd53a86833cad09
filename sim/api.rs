//! The library entry point: build or load a scenario, choose how pods are placed (a built-in
//! scheduler, profiles, user plugins, a whole policy, an `exec:` process), run it, and read the
//! summary and the per-pod records. `use kubesim::prelude::*;` brings everything needed.
//!
//! ```
//! use kubesim::prelude::*;
//!
//! let scenario = ScenarioBuilder::new("demo")
//!     .seed(7)
//!     .duration("10m")
//!     .node_pool("pool", 3, "4", "8Gi")
//!     .pods("web", 6, "500m", "1Gi")
//!     .build()
//!     .unwrap();
//! let result = Runner::new(scenario).scheduler("most-allocated").run().unwrap();
//! assert_eq!(result.summary.counts.pods_scheduled, 6);
//! // Per-pod records: the pods still in the store at the end (finished pods are released as
//! // they end unless `.keep_ended_pods(true)`; `pods.csv` has every pod).
//! for p in result.cluster.pods() {
//!     let node = p.node.map(|n| result.cluster.node(n).node.name.as_str());
//!     println!("{} on {:?}, scheduled at {:?}", p.pod.key(), node, p.scheduled);
//! }
//! // Bin packing puts all six pods (3 CPUs) on one 4-CPU node.
//! assert_eq!(result.placements().values().collect::<std::collections::BTreeSet<_>>().len(), 1);
//! ```
//!
//! Determinism holds for library runs too: the same scenario, seed and policy give the same
//! result (compare `summary.trace_digest`).

use crate::input::error::InputError;
use crate::input::scenario::{self, Scenario};
use crate::run::placer::SchedulerSetup;
use crate::run::{RunError, RunOptions, RunResult, Simulation};
use crate::scheduler::Profile;
use crate::scheduler::policy::Policy;
use crate::scheduler::registry::Registry;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Everything a library user needs, in one import.
pub mod prelude {
    pub use super::{Runner, ScenarioBuilder};
    pub use crate::cluster::{ClusterState, NodeId, NodeState, PodId, PodPhase, PodState};
    pub use crate::engine::rng::SimRng;
    pub use crate::engine::time::{SimDuration, SimTime};
    pub use crate::input::error::InputError;
    pub use crate::input::scenario::Scenario;
    pub use crate::model::pod::Pod;
    pub use crate::run::summary::Summary;
    pub use crate::run::{RunError, RunOptions, RunResult};
    pub use crate::scheduler::Profile;
    pub use crate::scheduler::framework::{
        Code, CycleState, FilterPlugin, MAX_NODE_SCORE, MIN_NODE_SCORE, Plugin, PreFilterNodes, PreFilterPlugin,
        ScorePlugin, Status,
    };
    pub use crate::scheduler::policy::{Decision, NodeVerdict, Policy, PolicyContext};
    pub use crate::scheduler::registry::{PluginEntry, Registry};
}

/// Builds a scenario in code. It writes the same document a scenario file holds (see the README's
/// scenario reference) and compiles it with the same validation, so anything a file can say,
/// [`ScenarioBuilder::set`] can say too.
#[derive(Clone, Debug)]
pub struct ScenarioBuilder {
    doc: Value,
    base_dir: PathBuf,
}

impl ScenarioBuilder {
    /// An empty scenario called `name`: seed 0, one hour, no nodes, the default scheduler.
    pub fn new(name: &str) -> Self {
        ScenarioBuilder {
            doc: json!({
                "apiVersion": scenario::API_VERSION,
                "kind": "Scenario",
                "metadata": {"name": name},
                "seed": 0,
                "duration": "1h",
            }),
            base_dir: PathBuf::from("."),
        }
    }

    fn push(&mut self, path: &[&str], v: Value) {
        let mut cur = &mut self.doc;
        for seg in path {
            cur = cur
                .as_object_mut()
                .map(|o| o.entry(seg.to_string()).or_insert_with(|| json!({})))
                .unwrap_or_else(|| unreachable!("builder paths go through objects"));
        }
        if !cur.is_array() {
            *cur = json!([]);
        }
        if let Some(a) = cur.as_array_mut() {
            a.push(v);
        }
    }

    /// The master seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.doc["seed"] = json!(seed);
        self
    }

    /// The simulated duration, Go style (`90s`, `1h30m`).
    pub fn duration(mut self, d: &str) -> Self {
        self.doc["duration"] = json!(d);
        self
    }

    /// Stop early once nothing is left to happen.
    pub fn stop_when_idle(mut self, on: bool) -> Self {
        self.doc["stopWhenIdle"] = json!(on);
        self
    }

    /// Adds `count` identical nodes `<name>-<i>` with the given allocatable CPU and memory
    /// (Kubernetes quantities: `"4"`, `"500m"`, `"16Gi"`).
    pub fn node_pool(self, name: &str, count: u64, cpu: &str, memory: &str) -> Self {
        self.node_pool_spec(json!({"name": name, "count": count, "allocatable": {"cpu": cpu, "memory": memory}}))
    }

    /// Adds a node pool written as in a scenario file (`name`, `count`, `zones`, `allocatable`,
    /// `labels`, `taints`).
    pub fn node_pool_spec(mut self, spec: Value) -> Self {
        self.push(&["cluster", "nodePools"], spec);
        self
    }

    /// Adds `count` pods `<prefix>-<i>` created at time zero, each with one container requesting
    /// `cpu` and `memory`.
    pub fn pods(mut self, prefix: &str, count: u64, cpu: &str, memory: &str) -> Self {
        for i in 0..count {
            self.push(
                &["workloads", "pods"],
                json!({
                    "metadata": {"name": format!("{prefix}-{i}")},
                    "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]},
                }),
            );
        }
        self
    }

    /// Adds a Pod manifest created at time zero (`kind` may be omitted).
    pub fn pod(mut self, manifest: Value) -> Self {
        self.push(&["workloads", "pods"], manifest);
        self
    }

    /// Adds an arrival generator written as in a scenario file (`name`, `interArrival`, `count`,
    /// `template`, `runDuration`, ...).
    pub fn arrivals(mut self, spec: Value) -> Self {
        self.push(&["workloads", "arrivals"], spec);
        self
    }

    /// Chooses a built-in scheduler by name, or `exec:COMMAND`.
    pub fn scheduler(mut self, name: &str) -> Self {
        if name.starts_with(crate::scheduler::exec_policy::EXEC_PREFIX) {
            self.doc["scheduler"]["policy"] = json!(name);
        } else {
            self.doc["scheduler"]["name"] = json!(name);
        }
        self
    }

    /// Uses an inline KubeSchedulerConfiguration (it may name user plugins: build with
    /// [`ScenarioBuilder::build_with`]).
    pub fn scheduler_config(mut self, config: Value) -> Self {
        self.doc["scheduler"]["configInline"] = config;
        self
    }

    /// Sets any field, as `kubesim run --set path=value` does (`value` is YAML).
    pub fn set(mut self, path: &str, value: &str) -> Self {
        // Errors surface in `build`, which re-applies the assignment to report them.
        if scenario::apply_override(&mut self.doc, &format!("{path}={value}")).is_err() {
            self.doc["__invalid_set"] = json!(format!("{path}={value}"));
        }
        self
    }

    /// The folder relative paths (manifests, configuration files, `exec:` policies) are resolved
    /// from (default: the current directory).
    pub fn base_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.base_dir = dir.into();
        self
    }

    /// The scenario as YAML text (what a file would hold).
    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(&self.doc).unwrap_or_default()
    }

    /// Compiles the scenario (built-in plugins only).
    pub fn build(self) -> Result<Scenario, InputError> {
        self.build_with(&Registry::new())
    }

    /// Compiles the scenario; its scheduler configuration may name the plugins of `registry`.
    pub fn build_with(self, registry: &Registry) -> Result<Scenario, InputError> {
        let name = self.doc["metadata"]["name"].as_str().unwrap_or("scenario").to_string();
        let shown = format!("<ScenarioBuilder {name}>");
        if let Some(bad) = self.doc.get("__invalid_set").and_then(Value::as_str) {
            let mut probe = json!({});
            let msg = scenario::apply_override(&mut probe, bad).err().unwrap_or_else(|| format!("cannot set {bad}"));
            return Err(InputError::file(shown, msg));
        }
        scenario::load_str_with(&self.to_yaml(), &shown, &self.base_dir, &[], registry)
    }
}

/// Runs a scenario with a chosen way of placing pods.
///
/// ```
/// use kubesim::prelude::*;
/// let sc = ScenarioBuilder::new("r").duration("5m").node_pool("n", 2, "2", "4Gi").pods("p", 2, "1", "1Gi").build().unwrap();
/// let a = Runner::new(sc.clone()).run().unwrap();
/// let b = Runner::new(sc).run().unwrap();
/// assert_eq!(a.summary.trace_digest, b.summary.trace_digest);
/// assert_eq!(a.summary.scheduler, "default");
/// ```
pub struct Runner {
    scenario: Scenario,
    setup: SchedulerSetup,
    opts: RunOptions,
    error: Option<String>,
}

impl Runner {
    /// Runs `scenario` as it says.
    pub fn new(scenario: Scenario) -> Self {
        Runner { scenario, setup: SchedulerSetup::default(), opts: RunOptions::default(), error: None }
    }

    /// Loads a scenario file (with `--set` style overrides) and runs it as it says.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, InputError> {
        Ok(Runner::new(scenario::load(path, overrides)?))
    }

    /// The scenario that will run.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Chooses a built-in scheduler (see `kubesim schedulers`) or `exec:COMMAND` (run in the
    /// current directory), as `kubesim run --policy` does.
    pub fn scheduler(mut self, name: &str) -> Self {
        if let Err(e) = crate::run::placer::apply_policy_flags(&mut self.scenario, Some(name), None) {
            self.error = Some(e);
        }
        self
    }

    /// Uses these profiles (one per schedulerName) instead of the scenario's scheduler.
    pub fn profiles(mut self, profiles: Vec<Profile>) -> Self {
        self.scenario.scheduler = profiles.iter().map(|p| p.scheduler_name.clone()).collect::<Vec<_>>().join("+");
        self.setup.profiles = Some(profiles);
        self
    }

    /// Builds the profiles from `registry` instead of the one the scenario was built or loaded
    /// with ([`ScenarioBuilder::build_with`], [`scenario::load_with`]).
    pub fn registry(mut self, registry: Registry) -> Self {
        self.setup.registry = Some(registry);
        self
    }

    /// Places pods with a whole policy instead of the framework's cycle. The summary's
    /// `scheduler` is the policy's name. The scheduler chosen so far (the scenario's, or
    /// [`Runner::scheduler`] / [`Runner::profiles`] called before) gives its filter verdicts.
    pub fn policy(mut self, policy: impl Policy + 'static) -> Self {
        if self.setup.profiles.is_none() && self.scenario.scheduler_config.is_none() {
            let sc = &self.scenario;
            let base = sc.policy.as_ref().map_or(&sc.scheduler, |p| &p.base_scheduler);
            match crate::run::schedulers::profile(base, sc.percentage_of_nodes_to_score) {
                Some(p) => self.setup.profiles = Some(vec![p]),
                None => self.error = Some(format!("unknown scheduler {base:?}")),
            }
        }
        self.scenario.policy = None;
        self.scenario.scheduler = policy.name();
        self.setup.policy = Some(Box::new(policy));
        self
    }

    /// Writes the output folder (SPEC §8) to `dir` (default: write nothing).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.opts.out_dir = Some(dir.into());
        self
    }

    /// Checks every cluster invariant after every event (slow; for tests).
    pub fn check_invariants(mut self, on: bool) -> Self {
        self.opts.check_invariants = on;
        self
    }

    /// Keeps every ended pod in the result's cluster state (see
    /// [`RunOptions::keep_ended_pods`]); by default finished pods are released as they end.
    pub fn keep_ended_pods(mut self, on: bool) -> Self {
        self.opts.keep_ended_pods = on;
        self
    }

    /// Runs to the end.
    pub fn run(self) -> Result<RunResult, RunError> {
        if let Some(e) = self.error {
            return Err(RunError::Scheduler(e));
        }
        Simulation::with_setup(&self.scenario, &self.opts, self.setup)?.run(&self.opts)
    }
}

impl RunResult {
    /// Where each pod ended up: `namespace/name` → node name, for the pods in the store that were
    /// ever bound (every such pod with [`Runner::keep_ended_pods`]).
    pub fn placements(&self) -> BTreeMap<String, String> {
        self.cluster
            .pods()
            .filter_map(|p| p.node.map(|n| (p.pod.key(), self.cluster.node(n).node.name.clone())))
            .collect()
    }

    /// The node pod `namespace/name` was (last) bound to.
    pub fn node_of(&self, key: &str) -> Option<&str> {
        let (ns, name) = key.split_once('/').unwrap_or(("default", key));
        let id = self.cluster.pod_id(ns, name)?;
        self.cluster.pod(id).node.map(|n| self.cluster.node(n).node.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::prelude::*;

    #[test]
    fn a_bad_set_path_is_reported_when_building() {
        let e = ScenarioBuilder::new("x").set("seed[3]", "1").build().unwrap_err();
        assert!(e.message.contains("seed"), "{e}");
    }

    #[test]
    fn an_unknown_scheduler_name_fails_the_run_with_its_name() {
        let sc = ScenarioBuilder::new("x").node_pool("n", 1, "1", "1Gi").build().unwrap();
        let e = Runner::new(sc).scheduler("fastest").run().unwrap_err();
        assert!(e.to_string().contains("unknown scheduler \"fastest\""), "{e}");
    }

    #[test]
    fn node_of_finds_a_pod_by_key_or_bare_name() {
        let sc = ScenarioBuilder::new("x").node_pool("n", 1, "2", "2Gi").pods("p", 1, "1", "1Gi").build().unwrap();
        let r = Runner::new(sc).run().unwrap();
        assert_eq!(r.node_of("default/p-0"), Some("n-0"));
        assert_eq!(r.node_of("p-0"), Some("n-0"));
        assert_eq!(r.node_of("p-9"), None);
    }
}
