//! The run loop's side of the HorizontalPodAutoscaler: the load model (a workload's total CPU
//! demand from its [`LoadCurve`], split evenly over its Ready pods), the 15 s `HpaSync` event
//! that reads per-pod usage as metrics and runs [`crate::controllers::hpa`], and the resulting
//! scale (through the same path as the `scale` timeline action, plus an `hpa_scaled` event).
//!
//! **Simplifications (documented):** every HPA syncs on the same 15 s tick starting at time 0;
//! metrics are exact and fresh (no metrics-server scrape lag); a Running pod that is not Ready
//! reports 0 usage; past the 5 min CPU initialisation period a not-Ready pod is always treated as
//! unready (upstream also checks when its readiness last changed).

use super::{Event, RunError, Simulation, json_str};
use crate::cluster::{ClusterState, PodId, PodPhase, PodState};
use crate::controllers::hpa::{self, Hpa, HpaState, PodSample};
use crate::controllers::{ObjectKey, Workload, WorkloadStore};
use crate::engine::time::{SimDuration, SimTime};
use crate::input::load::LoadCurve;
use std::collections::BTreeMap;

/// Upstream `--horizontal-pod-autoscaler-cpu-initialization-period`.
pub const CPU_INITIALIZATION_PERIOD: SimDuration = SimDuration::from_secs(300);
/// Upstream `--horizontal-pod-autoscaler-initial-readiness-delay`, also used as the metric window:
/// a pod Ready for less than this within its initialisation period is unready.
pub const INITIAL_READINESS_DELAY: SimDuration = SimDuration::from_secs(30);

/// HPAs with their controller memory, and the current load curves.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct HpaRuntime {
    /// Each HPA and its recommendations / scale events.
    pub hpas: Vec<(Hpa, HpaState)>,
    /// The load curve of each workload that has one.
    pub loads: BTreeMap<ObjectKey, LoadCurve>,
}

/// The live pods of a workload (owned directly, or through a ReplicaSet it owns), not being
/// deleted.
pub fn target_pods(cluster: &ClusterState, store: &WorkloadStore, key: &ObjectKey) -> Vec<PodId> {
    let Some(uid) = store.get(key).map(|w| w.meta().uid) else { return Vec::new() };
    cluster
        .pod_entries()
        .filter(|(_, p)| !p.phase.is_terminal() && !p.terminating)
        .filter(|(_, p)| {
            p.pod.owner.as_ref().is_some_and(|o| {
                o.uid == uid || store.by_uid(o.uid).and_then(|w| w.meta().owner.as_ref()).is_some_and(|g| g.uid == uid)
            })
        })
        .map(|(i, _)| i)
        .collect()
}

fn is_ready(p: &PodState) -> bool {
    p.phase == PodPhase::Running && p.ready_since.is_some()
}

/// Per-pod CPU usage of a workload at `now`: the demand split evenly (integer millicores) over
/// its Ready pods; Running pods that are not Ready use 0; pods not yet running have no metric.
pub fn pod_usage(cluster: &ClusterState, pods: &[PodId], demand_millis: i64) -> Vec<(PodId, Option<i64>)> {
    let ready = pods.iter().filter(|id| is_ready(cluster.pod(**id))).count() as i64;
    let share = if ready == 0 { 0 } else { demand_millis / ready };
    pods.iter()
        .map(|id| {
            let p = cluster.pod(*id);
            let usage = match p.phase {
                PodPhase::Running if is_ready(p) => Some(share),
                PodPhase::Running => Some(0),
                _ => None,
            };
            (*id, usage)
        })
        .collect()
}

impl HpaRuntime {
    /// From the scenario's HPAs and initial loads.
    pub fn new(hpas: &[Hpa], loads: &[(ObjectKey, LoadCurve)]) -> Self {
        HpaRuntime {
            hpas: hpas.iter().map(|h| (h.clone(), HpaState::default())).collect(),
            loads: loads.iter().cloned().collect(),
        }
    }

    /// Total modelled CPU usage at `now` (demand actually served: 0 for a workload without Ready
    /// pods), in millicores.
    pub fn total_usage_millis(&self, cluster: &ClusterState, store: &WorkloadStore, now: SimTime) -> i64 {
        let mut total = 0;
        for (key, curve) in &self.loads {
            let pods = target_pods(cluster, store, key);
            total += pod_usage(cluster, &pods, curve.cpu_millis_at(now)).iter().filter_map(|(_, u)| *u).sum::<i64>();
        }
        total
    }
}

fn replicas(w: &Workload) -> Option<i32> {
    match w {
        Workload::Deployment(d) => Some(d.spec.replicas),
        Workload::StatefulSet(s) => Some(s.spec.replicas),
        Workload::ReplicaSet(r) => Some(r.spec.replicas),
        _ => None,
    }
}

/// The metric samples of one HPA's target at `now`, with upstream's CPU readiness rule.
pub fn samples(cluster: &ClusterState, pods: &[PodId], demand_millis: i64, now: SimTime) -> Vec<PodSample> {
    pod_usage(cluster, pods, demand_millis)
        .into_iter()
        .map(|(id, usage)| {
            let p = cluster.pod(id);
            let started = p.started.unwrap_or(now);
            let ready = match p.ready_since {
                None => false,
                // Within the initialisation period a pod counts only once Ready for the window.
                Some(r) if started + CPU_INITIALIZATION_PERIOD > now => r + INITIAL_READINESS_DELAY <= now,
                Some(_) => true,
            };
            PodSample { request_millis: p.pod.requests.cpu_millis, usage_millis: usage, ready }
        })
        .collect()
}

impl<'s> Simulation<'s> {
    /// Queues the first HPA sync when the scenario has HPAs.
    pub(super) fn start_hpa(&mut self) {
        if !self.hpa.hpas.is_empty() {
            self.push(SimTime::ZERO, Event::HpaSync);
        }
    }

    /// `setLoad` from the timeline.
    pub(super) fn set_load(&mut self, key: ObjectKey, curve: LoadCurve) -> Result<(), RunError> {
        self.log("load_set", &format!(",\"object\":{}", json_str(&key.to_string())))?;
        self.hpa.loads.insert(key, curve);
        Ok(())
    }

    /// Handles `Event::HpaSync`: every HPA reconciles once, then the next tick is queued.
    pub(super) fn on_hpa_sync(&mut self) -> Result<(), RunError> {
        let now = self.queue.now();
        for i in 0..self.hpa.hpas.len() {
            let (h, _) = &self.hpa.hpas[i];
            let Some(current) = self.workloads.get(&h.target).and_then(replicas) else { continue };
            let b = &h.behavior;
            let desired = if current == 0 && b.min_replicas != 0 {
                // Autoscaling is disabled for a target scaled to zero.
                continue;
            } else if current > b.max_replicas {
                b.max_replicas
            } else if current < b.min_replicas {
                b.min_replicas
            } else {
                let demand = self.hpa.loads.get(&h.target).map(|c| c.cpu_millis_at(now)).unwrap_or(0);
                let pods = target_pods(&self.cluster, &self.workloads, &h.target);
                let samples = samples(&self.cluster, &pods, demand, now);
                let Some(metric) = hpa::cpu_replicas(current, h.target_cpu_utilization, &samples, hpa::TOLERANCE)
                else {
                    continue;
                };
                let (h, state) = &mut self.hpa.hpas[i];
                state.normalize(now, current, metric, &h.behavior)
            };
            if desired != current {
                let (h, _) = &self.hpa.hpas[i];
                let target = h.target.clone();
                let fields = format!(
                    ",\"hpa\":{},\"object\":{},\"from\":{current},\"to\":{desired}",
                    json_str(&format!("{}/{}", h.namespace, h.name)),
                    json_str(&target.to_string())
                );
                self.log("hpa_scaled", &fields)?;
                self.scale_workload(&target, desired)?;
            }
        }
        let next = now + hpa::SYNC_PERIOD;
        if next <= self.end {
            self.push(next, Event::HpaSync);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::Fixture;

    #[test]
    fn demand_is_split_over_ready_pods_and_unstarted_pods_have_no_metric() {
        let mut f = Fixture::new(2);
        let pods = vec![
            f.pod(1, "a", Some(0), true, Some(0)),
            f.pod(1, "b", Some(0), true, Some(0)),
            f.pod(1, "c", Some(1), true, None),
            f.pod(1, "d", None, false, None),
        ];
        let u = pod_usage(&f.cluster, &pods, 3001);
        let got: Vec<Option<i64>> = u.iter().map(|(_, x)| *x).collect();
        assert_eq!(got, vec![Some(1500), Some(1500), Some(0), None]);
    }

    #[test]
    fn a_pod_ready_for_less_than_30s_in_its_first_5_minutes_is_unready() {
        let mut f = Fixture::new(1);
        let id = f.pod(1, "a", Some(0), true, Some(100));
        let at = |s: u64| SimTime(s * 1_000_000);
        assert!(!samples(&f.cluster, &[id], 100, at(110))[0].ready, "ready 10 s ago, started 110 s ago");
        assert!(samples(&f.cluster, &[id], 100, at(130))[0].ready, "ready for 30 s");
        assert!(samples(&f.cluster, &[id], 100, at(400))[0].ready, "past the initialisation period");
    }
}
