//! The run loop's side of admission (see [`crate::admission`]): every pod creation goes
//! through [`Simulation::admit_pod`] (LimitRanger, then ResourceQuota against the namespace's
//! live usage); a refused pod is not created, an `admission_rejected` event is written and
//! counted, and a controller whose create was refused stops its slow-start batches and retries
//! through its work queue's rate limiter (see `apply_actions` in `workloads.rs`).
//!
//! Quota usage is kept per namespace that has a quota: the pods admitted there with their charge
//! ([`Charge`]), read back at each admission with the pods' current phase (so finishing or
//! deleting a pod frees its share at once).

use super::{RunError, Simulation, json_str};
use crate::admission::resource_quota::{Charge, NamespaceUsage, UsageEntry};
use crate::cluster::{PodId, PodPhase};
use crate::engine::time::{SimDuration, SimTime};
use crate::model::pod::Pod;
use std::collections::BTreeMap;

/// Admission bookkeeping of a run.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct AdmissionState {
    /// Pods admitted in namespaces with a quota, with their charge.
    charged: BTreeMap<String, BTreeMap<PodId, Charge>>,
    /// When each charged pod's deletion began.
    deleting_since: BTreeMap<PodId, SimTime>,
    /// The controllers' work-queue rate limiters.
    pub(super) retry: crate::admission::retry::RetryLimiter,
    admitted: u64,
    rejected: u64,
    by_reason: BTreeMap<String, u64>,
    by_quota: BTreeMap<String, u64>,
    by_plugin: BTreeMap<String, u64>,
}

/// `summary.json` → `admission`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AdmissionSummary {
    /// Pods admitted.
    pub admitted: u64,
    /// Pods refused.
    pub rejected: u64,
    /// Refusals by reason (`exceeded quota`, `failed quota`, `limit range`, `invalid`).
    pub by_reason: BTreeMap<String, u64>,
    /// Refusals by quota (`namespace/name`).
    pub by_quota: BTreeMap<String, u64>,
    /// Refusals by admission plugin.
    pub by_plugin: BTreeMap<String, u64>,
}

impl<'s> Simulation<'s> {
    /// Runs admission on a pod about to be created (mutating it with LimitRange defaults).
    /// Returns false when it is refused (the refusal is logged and counted).
    pub(super) fn admit_pod(&mut self, pod: &mut Pod, shown_name: &str) -> Result<bool, RunError> {
        let sc: &'s crate::input::scenario::Scenario = self.scenario;
        let objects = &sc.admission;
        if objects.is_empty() {
            return Ok(true);
        }
        let now = self.queue.now();
        let verdict = {
            let usage = self.namespace_usage(&pod.namespace, now);
            crate::admission::admit(objects, pod, shown_name, &usage)
        };
        let Err(r) = verdict else { return Ok(true) };
        self.admission.rejected += 1;
        *self.admission.by_reason.entry(r.reason.to_string()).or_insert(0) += 1;
        *self.admission.by_plugin.entry(r.plugin.to_string()).or_insert(0) += 1;
        if let Some(q) = &r.quota {
            *self.admission.by_quota.entry(format!("{}/{q}", pod.namespace)).or_insert(0) += 1;
        }
        let owner = match &pod.owner {
            Some(o) => format!(",\"owner\":{}", json_str(&format!("{}/{}", o.kind, o.name))),
            None => String::new(),
        };
        let quota = r.quota.as_ref().map(|q| format!(",\"quota\":{}", json_str(q))).unwrap_or_default();
        self.log(
            "admission_rejected",
            &format!(
                ",\"pod\":{}{owner},\"plugin\":\"{}\"{quota},\"reason\":\"{}\",\"message\":{}",
                json_str(&format!("{}/{shown_name}", pod.namespace)),
                r.plugin,
                r.reason,
                json_str(&r.message)
            ),
        )?;
        Ok(false)
    }

    /// Runs ResourceQuota's object-count check on a workload object about to be created.
    /// Returns false when it is refused (logged and counted).
    pub(super) fn admit_workload(&mut self, w: &crate::controllers::Workload) -> Result<bool, RunError> {
        let sc: &'s crate::input::scenario::Scenario = self.scenario;
        if sc.admission.quotas.is_empty() {
            return Ok(true);
        }
        let key = w.key();
        let resource = crate::admission::resource_quota::workload_resource(key.kind);
        let used =
            self.workloads.objects().filter(|o| o.kind() == key.kind && o.meta().namespace == key.namespace).count();
        for q in sc.admission.quotas.iter().filter(|q| q.namespace == key.namespace) {
            let Err(m) = q.check_object(resource, used as i64) else { continue };
            let message = format!("{resource} {:?} is forbidden: {m}", key.name);
            self.admission.rejected += 1;
            *self.admission.by_reason.entry("exceeded quota".into()).or_insert(0) += 1;
            *self.admission.by_plugin.entry("ResourceQuota".into()).or_insert(0) += 1;
            *self.admission.by_quota.entry(format!("{}/{}", q.namespace, q.name)).or_insert(0) += 1;
            self.log(
                "admission_rejected",
                &format!(
                    ",\"object\":{},\"plugin\":\"ResourceQuota\",\"quota\":{},\"reason\":\"exceeded quota\",\"message\":{}",
                    json_str(&key.to_string()),
                    json_str(&q.name),
                    json_str(&message)
                ),
            )?;
            return Ok(false);
        }
        Ok(true)
    }

    /// The live usage of `namespace` for quota checks (pods deleted for good are forgotten).
    fn namespace_usage(&mut self, namespace: &str, now: SimTime) -> NamespaceUsage<'_> {
        let cluster = &self.cluster;
        let Some(pods) = self.admission.charged.get_mut(namespace) else { return NamespaceUsage::default() };
        pods.retain(|id, _| cluster.pod(*id).phase != PodPhase::Deleted);
        let deleting = &self.admission.deleting_since;
        let entries = pods
            .iter()
            .map(|(id, charge)| {
                let p = cluster.pod(*id);
                // QuotaV1Pod: terminal pods, and pods terminating for longer than their
                // deletionTimestamp (deletion + grace) plus the grace period, are not charged.
                let grace = SimDuration::from_secs(p.pod.termination_grace_period_seconds.max(0) as u64);
                let stuck = p.terminating && deleting.get(id).is_some_and(|t| now > *t + grace + grace);
                UsageEntry { charge, stored: true, counted: !p.phase.is_terminal() && !stuck }
            })
            .collect();
        NamespaceUsage { entries }
    }

    /// A pod passed admission and was stored: its namespace's quota usage includes it.
    pub(super) fn pod_admitted(&mut self, id: PodId) {
        if self.scenario.admission.is_empty() {
            return;
        }
        self.admission.admitted += 1;
        let pod = &self.cluster.pod(id).pod;
        if self.scenario.admission.has_quota(&pod.namespace) {
            self.admission.charged.entry(pod.namespace.clone()).or_default().insert(id, Charge::of(pod));
        }
    }

    /// True while a ResourceQuota of the pod's namespace charges it as a stored object.
    pub(super) fn admission_holds(&self, id: PodId) -> bool {
        let p = self.cluster.pod(id);
        p.phase != PodPhase::Deleted
            && self.admission.charged.get(&p.pod.namespace).is_some_and(|pods| pods.contains_key(&id))
    }

    /// Notes when a charged pod starts terminating (its deletion timestamp).
    pub(super) fn admission_observe(&mut self, id: PodId) {
        if self.scenario.admission.quotas.is_empty() {
            return;
        }
        let p = self.cluster.pod(id);
        if p.terminating && !p.phase.is_terminal() && !self.admission.deleting_since.contains_key(&id) {
            self.admission.deleting_since.insert(id, self.queue.now());
        } else if p.phase.is_terminal() {
            self.admission.deleting_since.remove(&id);
        }
    }

    /// `summary.json` → `admission` (absent without admission objects).
    pub(super) fn admission_summary(&self) -> Option<AdmissionSummary> {
        if self.scenario.admission.is_empty() {
            return None;
        }
        let a = &self.admission;
        Some(AdmissionSummary {
            admitted: a.admitted,
            rejected: a.rejected,
            by_reason: a.by_reason.clone(),
            by_quota: a.by_quota.clone(),
            by_plugin: a.by_plugin.clone(),
        })
    }
}
