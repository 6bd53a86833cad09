//! How a run places pods when it is not only the scenario's built-in scheduler: user plugins
//! (a [`Registry`] the scenario's KubeSchedulerConfiguration may name), custom profiles, or a
//! whole [`Policy`] replacing the framework's cycle (given in Rust, or the scenario's
//! `exec:` policy).
//!
//! The policy cycle: pop the next pod from the scheduling queue, take the other queued pods of
//! its group out of the queue when the policy groups pods, ask the policy, check every decision
//! against the profile's filters (earlier pods of the batch counted on their nodes), apply it all
//! or none for a group, and log `pod_scheduled` (with `"policy"`) or `pod_unschedulable`.

use super::{RunError, Simulation, json_str};
use crate::cluster::{NodeId, NodeState, PodId, PodPhase};
use crate::input::scenario::Scenario;
use crate::scheduler::Profile;
use crate::scheduler::exec_policy::{EXEC_PREFIX, ExecPolicy, ExecSpec};
use crate::scheduler::policy::{Decision, Policy, PolicyContext, check_placement};
use crate::scheduler::registry::Registry;
use std::collections::BTreeMap;

/// How a run schedules, beyond what the scenario says.
#[derive(Default)]
pub struct SchedulerSetup {
    /// The plugins a KubeSchedulerConfiguration may name (built-ins plus user plugins; default:
    /// the registry the scenario was loaded with).
    pub registry: Option<Registry>,
    /// Profiles replacing the scenario's scheduler (one per schedulerName).
    pub profiles: Option<Vec<Profile>>,
    /// A whole policy replacing the framework's cycle (takes precedence over the scenario's
    /// `scheduler.policy`). The profiles still give it filter verdicts.
    pub policy: Option<Box<dyn Policy>>,
}

impl std::fmt::Debug for SchedulerSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerSetup")
            .field("registry", &self.registry)
            .field("profiles", &self.profiles.as_ref().map(|p| p.len()))
            .field("policy", &self.policy.as_ref().map(|p| p.name()))
            .finish()
    }
}

/// The policy of the run (the given one, else the scenario's `exec:` policy), started.
pub(super) fn start_policy(
    scenario: &Scenario,
    given: Option<Box<dyn Policy>>,
    profiles: &[Profile],
) -> Result<Option<Box<dyn Policy>>, RunError> {
    let mut p: Box<dyn Policy> = match given {
        Some(p) => p,
        None => match &scenario.policy {
            Some(spec) => Box::new(ExecPolicy::new(spec.clone(), &scenario.name, &scenario.scheduler)),
            None if scenario.scheduler_config.is_none() => match crate::run::schedulers::policy(&scenario.scheduler) {
                Some(p) => p,
                None => return Ok(None),
            },
            None => return Ok(None),
        },
    };
    p.start(scenario.seed, profiles).map_err(|e| RunError::Scheduler(format!("policy {}: {e}", p.name())))?;
    Ok(Some(p))
}

/// Applies `kubesim run --policy NAME|exec:COMMAND` and `--policy-timeout DURATION` to a loaded
/// scenario. A built-in name replaces the scenario's scheduler (and its configuration); an
/// `exec:` command runs in the current directory, with the scenario's profiles giving the
/// filter verdicts.
pub fn apply_policy_flags(sc: &mut Scenario, policy: Option<&str>, timeout: Option<&str>) -> Result<(), String> {
    let timeout = match timeout {
        None => None,
        Some(t) => {
            let us = crate::input::go_duration::parse_duration_micros(t)
                .map_err(|e| format!("--policy-timeout {t:?}: {e}"))?;
            if us == 0 {
                return Err(format!("--policy-timeout {t:?}: the timeout must be more than 0s"));
            }
            Some(std::time::Duration::from_micros(us))
        }
    };
    match policy {
        None => {}
        Some(p) => match ExecSpec::parse(p) {
            Some(spec) => {
                let mut spec = spec.map_err(|e| format!("--policy: {e}"))?;
                spec.base_scheduler = match &sc.policy {
                    Some(old) => old.base_scheduler.clone(),
                    None if crate::run::schedulers::is_known(&sc.scheduler) => sc.scheduler.clone(),
                    None => "default".into(),
                };
                sc.scheduler = format!("{EXEC_PREFIX}{}", spec.command);
                sc.policy = Some(spec);
            }
            None => {
                if !crate::run::schedulers::is_known(p) {
                    return Err(format!(
                        "--policy: unknown scheduler {p:?} (known: {}, or exec:COMMAND)",
                        crate::run::schedulers::NAMES.join(", ")
                    ));
                }
                sc.scheduler = p.to_string();
                sc.scheduler_config = None;
                sc.policy = None;
            }
        },
    }
    if let Some(t) = timeout {
        match &mut sc.policy {
            Some(spec) => spec.timeout = t,
            None => return Err("--policy-timeout applies only to an exec: policy".into()),
        }
    }
    Ok(())
}

/// `view` with `pod` added, as the filters must see the node for the next pod of the batch.
fn with_pod(view: &mut NodeState, pod_id: PodId, pod: &crate::model::pod::Pod) {
    view.requested.add(&pod.requests);
    view.non_zero_cpu_millis += pod.non_zero_cpu_millis;
    view.non_zero_memory_bytes += pod.non_zero_memory_bytes;
    for hp in &pod.host_ports {
        *view.used_ports.entry(hp.clone()).or_insert(0) += 1;
    }
    view.pods.push(pod_id);
}

impl Simulation<'_> {
    /// One cycle of a whole policy (instead of the framework's).
    pub(super) fn on_policy_cycle(&mut self) -> Result<(), RunError> {
        self.cycle_scheduled = false;
        let Some(first) = self.scheduler.queue.pop() else { return Ok(()) };
        let now = self.queue.now();
        let Some(policy) = self.policy.as_mut() else { return Ok(()) };
        let rng = &mut self.policy_rng;
        let mut batch = vec![first];
        if let Some(g) = policy.group(&self.cluster.pod(first).pod) {
            for (id, p) in self.cluster.pod_entries() {
                if id != first
                    && p.phase == PodPhase::Pending
                    && p.node.is_none()
                    && policy.group(&p.pod).as_deref() == Some(g.as_str())
                    && self.scheduler.queue.take(id)
                {
                    batch.push(id);
                }
            }
        }
        for id in &batch {
            self.cluster.note_attempt(*id);
        }
        let name = policy.name();
        let err = |m: String| RunError::Scheduler(format!("policy {name}: {m}"));
        let decisions = {
            let mut ctx = PolicyContext::new(&self.cluster, rng, now, &self.scheduler.profiles);
            policy.place(&mut ctx, &batch).map_err(err)?
        };
        let n_nodes = self.cluster.nodes().len();
        let mut chosen: BTreeMap<PodId, Result<NodeId, String>> = BTreeMap::new();
        for d in decisions {
            let (pod, v) = match d {
                Decision::Bind { pod, node } => (pod, Ok(node)),
                Decision::Unschedulable { pod, reason } => (pod, Err(reason)),
            };
            if !batch.contains(&pod) {
                return Err(err(format!("decided for pod {pod:?}, which it was not asked to place")));
            }
            if let Ok(node) = v
                && node.0 as usize >= n_nodes
            {
                return Err(err(format!("chose node {node:?}, which does not exist")));
            }
            if chosen.insert(pod, v).is_some() {
                return Err(err(format!("made two decisions for pod {}", self.cluster.pod(pod).pod.key())));
            }
        }
        let mut outcome: Vec<(PodId, Result<NodeId, String>)> = batch
            .iter()
            .map(|p| (*p, chosen.remove(p).unwrap_or_else(|| Err("the policy made no decision".into()))))
            .collect();
        // A group is placed all or none.
        if batch.len() > 1
            && let Some((p, Err(reason))) = outcome.iter().find(|(_, r)| r.is_err())
        {
            let why = format!("pod group not placed: {}: {reason}", self.cluster.pod(*p).pod.key());
            for (_, r) in outcome.iter_mut() {
                *r = Err(why.clone());
            }
        }
        let mut views: BTreeMap<NodeId, NodeState> = BTreeMap::new();
        for (pod, r) in &outcome {
            let Ok(node) = r else { continue };
            let p = &self.cluster.pod(*pod).pod;
            let view = views.get(node).unwrap_or_else(|| self.cluster.node(*node));
            if let Err(why) = check_placement(&self.cluster, &self.scheduler.profiles, p, view) {
                return Err(err(format!(
                    "placed pod {} on node {}, which fails the filters: {why}",
                    p.key(),
                    self.cluster.node(*node).node.name
                )));
            }
            if batch.len() > 1 {
                let mut v = view.clone();
                with_pod(&mut v, *pod, p);
                views.insert(*node, v);
            }
        }
        let policy_json = json_str(&name);
        for (pod, r) in outcome {
            let key = json_str(&self.cluster.pod(pod).pod.key());
            match r {
                Ok(node) => {
                    self.scheduler.queue.forget(pod);
                    let node_name = json_str(&self.cluster.node(node).node.name);
                    self.log(
                        "pod_scheduled",
                        &format!(
                            ",\"pod\":{key},\"node\":{node_name},\"examined\":0,\"feasible\":0,\"score\":null,\"policy\":{policy_json}"
                        ),
                    )?;
                    self.bind(pod, node)?;
                }
                Err(reason) => {
                    self.scheduler.queue.add_unschedulable(pod, now);
                    self.log("pod_unschedulable", &format!(",\"pod\":{key},\"message\":{}", json_str(&reason)))?;
                }
            }
        }
        self.arm_flushes();
        self.ensure_cycle();
        Ok(())
    }
}
