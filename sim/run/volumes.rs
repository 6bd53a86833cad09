//! The run loop's side of storage: the start-up state, claims created by controllers (StatefulSet
//! `volumeClaimTemplates`) and with pods (ephemeral volumes), the PV controller's passes, and
//! volume binding when a pod is bound (VolumeBinding's Reserve + PreBind, carried out at once).
//! Whenever a claim gets bound, unschedulable pods are moved back to the active queue (upstream's
//! PersistentVolumeClaim / PersistentVolume update events).

use super::{RunError, Simulation, json_str};
use crate::cluster::{NodeId, PodId};
use crate::controllers::persistent_volume as pvc;
use crate::model::pod::Pod;
use crate::model::volume::{ClaimKey, ClaimTemplate, VolumeEvent, VolumeSource};

impl Simulation<'_> {
    /// The cluster's zones, in node order of first appearance.
    fn storage_zones(&self) -> Vec<String> {
        let mut zones: Vec<String> = Vec::new();
        for n in self.cluster.nodes().iter().filter(|n| !n.removed) {
            let z = n.node.zone();
            if !z.is_empty() && !zones.iter().any(|x| x == z) {
                zones.push(z.to_string());
            }
        }
        zones
    }

    fn log_volume_events(&mut self, events: Vec<VolumeEvent>) -> Result<bool, RunError> {
        let any = !events.is_empty();
        for e in events {
            match e {
                VolumeEvent::Bound { claim, volume } => self.log(
                    "pvc_bound",
                    &format!(",\"pvc\":{},\"pv\":{}", json_str(&format!("{}/{}", claim.0, claim.1)), json_str(&volume)),
                )?,
                VolumeEvent::Provisioned { claim, volume, zone } => self.log(
                    "pv_provisioned",
                    &format!(
                        ",\"pvc\":{},\"pv\":{},\"zone\":{}",
                        json_str(&format!("{}/{}", claim.0, claim.1)),
                        json_str(&volume),
                        json_str(&zone)
                    ),
                )?,
            }
        }
        Ok(any)
    }

    /// Loads the scenario's storage objects and runs the PV controller's first pass.
    pub(super) fn start_volumes(&mut self) -> Result<(), RunError> {
        if self.scenario.storage.is_empty() {
            return Ok(());
        }
        *self.cluster.volumes_mut() = self.scenario.storage.clone();
        let zones = self.storage_zones();
        let events = pvc::sync_all(self.cluster.volumes_mut(), &zones);
        self.log_volume_events(events)?;
        Ok(())
    }

    /// Creates the claims that do not exist yet and lets the PV controller sync them.
    pub(super) fn create_claims(&mut self, namespace: &str, claims: &[ClaimTemplate]) -> Result<(), RunError> {
        let zones = self.storage_zones();
        let mut events = Vec::new();
        for t in claims {
            if !self.cluster.volumes_mut().create_claim(namespace, &t.name, t) {
                continue;
            }
            self.log("pvc_created", &format!(",\"pvc\":{}", json_str(&format!("{namespace}/{}", t.name))))?;
            let key = (namespace.to_string(), t.name.clone());
            if let Some(d) = pvc::decide(self.cluster.volumes(), &key, &zones)
                && let Some(e) = pvc::apply(self.cluster.volumes_mut(), &key, d)
            {
                events.push(e);
            }
        }
        if self.log_volume_events(events)? {
            self.claims_changed();
        }
        Ok(())
    }

    /// The ephemeral volume controller: a pod's `ephemeral` volumes get their claims
    /// `<pod>-<volume>` when the pod is created.
    pub(super) fn create_pod_claims(&mut self, pod: &Pod) -> Result<(), RunError> {
        let claims: Vec<ClaimTemplate> = pod
            .volumes
            .iter()
            .filter_map(|v| match &v.source {
                VolumeSource::Ephemeral(t) => {
                    Some(ClaimTemplate { name: format!("{}-{}", pod.name, v.name), ..t.clone() })
                }
                _ => None,
            })
            .collect();
        if claims.is_empty() {
            return Ok(());
        }
        self.create_claims(&pod.namespace.clone(), &claims)
    }

    /// VolumeBinding's Reserve and PreBind for `id` on `node`: its WaitForFirstConsumer claims
    /// are bound to a matching volume or provisioned in the node's zone (selected-node flow).
    pub(super) fn bind_pod_volumes(&mut self, id: PodId, node: NodeId) -> Result<(), RunError> {
        let pod = &self.cluster.pod(id).pod;
        if pod.volumes.is_empty() || self.cluster.volumes().claims.is_empty() {
            return Ok(());
        }
        let ns = pod.namespace.clone();
        let keys: Vec<ClaimKey> = crate::model::volume::pod_claims(pod).into_iter().map(|c| (ns.clone(), c)).collect();
        let n = &self.cluster.node(node).node;
        let (name, labels, zone) = (n.name.clone(), n.labels.clone(), n.zone().to_string());
        let store = self.cluster.volumes();
        let delayed: Vec<ClaimKey> = keys
            .into_iter()
            .filter(|k| store.claims.get(k).is_some_and(|c| !c.bound && store.is_delay_binding(c)))
            .collect();
        if delayed.is_empty() {
            return Ok(());
        }
        // The filters checked this node, so the plan exists; if it did not, the claims stay
        // Pending with the selected node set, as upstream after a failed provisioning.
        let plan = pvc::plan_for_node(store, &delayed, &name, &labels, &zone).unwrap_or_default();
        for k in &delayed {
            if let Some(c) = self.cluster.volumes_mut().claims.get_mut(k) {
                c.selected_node = Some(name.clone());
            }
        }
        let mut events = Vec::new();
        for (k, d) in plan {
            if let Some(e) = pvc::apply(self.cluster.volumes_mut(), &k, d) {
                events.push(e);
            }
        }
        if self.log_volume_events(events)? {
            self.claims_changed();
        }
        Ok(())
    }

    /// A claim was bound: pods waiting for it may fit now.
    fn claims_changed(&mut self) {
        let now = self.queue.now();
        if self.scheduler.queue.move_all_to_active_or_backoff(now) > 0 {
            self.arm_flushes();
            self.ensure_cycle();
        }
    }
}
