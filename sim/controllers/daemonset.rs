//! The DaemonSet controller (`pkg/controller/daemon`): one pod per eligible node
//! (`nodeShouldRunDaemonPod`: nodeSelector, required node affinity, taints not tolerated; a node
//! whose only problem is an untolerated NoSchedule taint keeps its pod), each pod pinned with the
//! required node affinity `matchFields metadata.name In [node]` and placed by the scheduler;
//! the default DaemonSet tolerations (not-ready / unreachable NoExecute without a time limit,
//! disk-pressure / memory-pressure / pid-pressure / unschedulable NoSchedule); extra pods on a
//! node are deleted (oldest kept); and RollingUpdate replaces old-template pods while at most
//! `maxUnavailable` (rounded up, of the desired count) are unavailable. OnDelete replaces a pod
//! only when it is gone.

use super::replicaset::deletion_order;
use super::{
    Action, Counts, IntOrPercent, Kind, Meta, SyncContext, Workload, is_active, is_available, is_ready,
    pod_from_template, pod_owner, template_hash,
};
use crate::cluster::{NodeId, PodId};
use crate::model::node::{Node, TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE};
use crate::model::pod::Pod;
use crate::model::selector::{
    LabelSelector, LabelSelectorRequirement, NODE_NAME_FIELD, NodeSelector, NodeSelectorTerm,
};
use crate::model::taint::{TaintEffect, Toleration, TolerationOperator};

/// Label with the template revision on a DaemonSet's (and StatefulSet's) pods.
pub const LABEL_CONTROLLER_REVISION_HASH: &str = "controller-revision-hash";

/// `spec.updateStrategy`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum UpdateStrategy {
    /// Replace pods progressively.
    RollingUpdate {
        /// `maxUnavailable` (default 1).
        max_unavailable: IntOrPercent,
        /// `maxSurge` (default 0).
        max_surge: IntOrPercent,
    },
    /// Replace a pod only when it is deleted.
    OnDelete,
}

/// `spec` of a DaemonSet.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DaemonSetSpec {
    /// `selector`.
    pub selector: LabelSelector,
    /// `template`.
    pub template: Pod,
    /// `minReadySeconds`.
    pub min_ready_seconds: i32,
    /// `updateStrategy`.
    pub update: UpdateStrategy,
}

/// `status` of a DaemonSet.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DaemonSetStatus {
    /// `desiredNumberScheduled`.
    pub desired: i32,
    /// `currentNumberScheduled`.
    pub current: i32,
    /// `numberReady`.
    pub ready: i32,
    /// `updatedNumberScheduled`.
    pub updated: i32,
    /// `numberAvailable`.
    pub available: i32,
}

/// A DaemonSet.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DaemonSet {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: DaemonSetSpec,
    /// Status.
    pub status: DaemonSetStatus,
}

impl DaemonSet {
    /// A new DaemonSet.
    pub fn new(meta: Meta, spec: DaemonSetSpec) -> Self {
        DaemonSet { meta, spec, status: Default::default() }
    }
}

/// The pod template with the DaemonSet tolerations (upstream `AddOrUpdateDaemonPodTolerations`:
/// a toleration with the same key and effect is replaced).
pub fn daemon_template(t: &Pod) -> Pod {
    let mut t = t.clone();
    let add = [
        (TAINT_NOT_READY, TaintEffect::NoExecute),
        (TAINT_UNREACHABLE, TaintEffect::NoExecute),
        ("node.kubernetes.io/disk-pressure", TaintEffect::NoSchedule),
        ("node.kubernetes.io/memory-pressure", TaintEffect::NoSchedule),
        ("node.kubernetes.io/pid-pressure", TaintEffect::NoSchedule),
        (TAINT_UNSCHEDULABLE, TaintEffect::NoSchedule),
    ];
    for (key, effect) in add {
        t.tolerations.retain(|x| !(x.key == key && x.effect == Some(effect)));
        t.tolerations.push(Toleration {
            key: key.into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: Some(effect),
            toleration_seconds: None,
        });
    }
    t
}

/// (should run, should continue running) for the template on `node`.
pub fn node_should_run(template: &Pod, node: &Node) -> (bool, bool) {
    if !crate::scheduler::plugins::node_affinity::required_node_affinity_matches(template, node) {
        return (false, false);
    }
    let mut run = true;
    for taint in &node.taints {
        let tolerated = template.tolerations.iter().any(|t| t.tolerates(taint));
        if !tolerated {
            match taint.effect {
                TaintEffect::NoExecute => return (false, false),
                TaintEffect::NoSchedule => run = false,
                TaintEffect::PreferNoSchedule => {}
            }
        }
    }
    (run, true)
}

/// The node a daemon pod is meant for: its binding, else its `matchFields` affinity.
pub fn target_node(pod: &Pod) -> Option<&str> {
    if let Some(n) = &pod.node_name {
        return Some(n);
    }
    let ns = pod.affinity.node_affinity.as_ref()?.required_during_scheduling_ignored_during_execution.as_ref()?;
    ns.node_selector_terms
        .iter()
        .flat_map(|t| &t.match_fields)
        .find(|r| r.key == NODE_NAME_FIELD)
        .and_then(|r| r.values.first())
        .map(String::as_str)
}

fn pin_to_node(pod: &mut Pod, node: &str) {
    let field = LabelSelectorRequirement {
        key: NODE_NAME_FIELD.into(),
        operator: crate::model::selector::SelectorOperator::In,
        values: vec![node.to_string()],
    };
    let na = pod.affinity.node_affinity.get_or_insert_with(Default::default);
    // Upstream ReplaceDaemonSetPodNodeNameNodeAffinity: the terms become one term with the field.
    na.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm { match_expressions: vec![], match_fields: vec![field] }],
    });
}

/// One sync of a DaemonSet.
pub fn sync(ctx: &SyncContext<'_>, ds: &DaemonSet) -> Vec<Action> {
    let now = ctx.now;
    let mut out = Vec::new();
    let template = daemon_template(&ds.spec.template);
    let hash = template_hash(&ds.spec.template);
    let active = ctx.active_pods(ds.meta.uid);
    // The pods of each node, by node id (a sync visits every node, so no name lookups there);
    // pods meant for no known node are deleted.
    let mut by_node: Vec<Vec<PodId>> = vec![Vec::new(); ctx.cluster.nodes().len()];
    let mut to_delete: Vec<PodId> = Vec::new();
    for p in &active {
        let st = ctx.pod(*p);
        match st.node.or_else(|| target_node(&st.pod).and_then(|n| ctx.cluster.node_id(n))) {
            Some(n) => by_node[n.0 as usize].push(*p),
            None => to_delete.push(*p),
        }
    }
    let mut desired = 0i32;
    let mut to_create: Vec<String> = Vec::new();
    let mut nodes_with_pods: Vec<(NodeId, Vec<PodId>)> = Vec::new();
    for &nid in ctx.cluster.node_order() {
        let node = &ctx.cluster.node(nid).node;
        let (run, keep) = node_should_run(&template, node);
        let pods = std::mem::take(&mut by_node[nid.0 as usize]);
        if run {
            desired += 1;
        }
        if run && pods.is_empty() {
            to_create.push(node.name.clone());
        } else if !keep {
            to_delete.extend(&pods);
        } else if pods.len() > 1 {
            // Keep the oldest (creation order = id order).
            let mut sorted = pods.clone();
            sorted.sort();
            to_delete.extend(&sorted[1..]);
            nodes_with_pods.push((nid, vec![sorted[0]]));
        } else if !pods.is_empty() {
            nodes_with_pods.push((nid, pods));
        }
    }
    // Pods meant for nodes that no longer exist (removed nodes are not in the node order).
    for pods in by_node {
        to_delete.extend(pods);
    }
    // Rolling update.
    if let UpdateStrategy::RollingUpdate { max_unavailable, max_surge } = &ds.spec.update {
        let mut max_unav = max_unavailable.scaled(desired, true);
        if max_unav == 0 && max_surge.scaled(desired, true) == 0 {
            max_unav = 1;
        }
        let old = |p: PodId| ctx.pod(p).pod.labels.get(LABEL_CONTROLLER_REVISION_HASH) != Some(&hash);
        let avail = |p: PodId| is_available(ctx.pod(p), ds.spec.min_ready_seconds, now);
        let mut unavailable = to_create.len() as i32
            + nodes_with_pods.iter().filter(|(_, ps)| !ps.iter().any(|p| avail(*p))).count() as i32;
        let mut candidates: Vec<PodId> = Vec::new();
        for (_, ps) in &nodes_with_pods {
            for p in ps {
                if old(*p) {
                    if !avail(*p) {
                        to_delete.push(*p); // Unavailable old pods go at once.
                    } else {
                        candidates.push(*p);
                    }
                }
            }
        }
        for p in candidates {
            if unavailable >= max_unav {
                break;
            }
            to_delete.push(p);
            unavailable += 1;
        }
    }
    to_delete.sort();
    to_delete.dedup();
    let remaining: Vec<PodId> = active.iter().copied().filter(|p| to_delete.binary_search(p).is_err()).collect();
    let to_delete = if to_delete.len() > 1 { deletion_order(ctx, &to_delete, &active) } else { to_delete };
    for p in to_delete.iter().take(super::BURST_REPLICAS) {
        out.push(Action::DeletePod { pod: *p, reason: "DaemonSetPodDelete" });
    }
    let mut extra = crate::model::selector::Labels::new();
    extra.insert(LABEL_CONTROLLER_REVISION_HASH.into(), hash.clone());
    for node in to_create.iter().take(super::BURST_REPLICAS) {
        let mut pod = pod_from_template(
            &template,
            pod_owner(Kind::DaemonSet, &ds.meta),
            &ds.meta.namespace,
            format!("{}-", ds.meta.name),
            &extra,
        );
        pin_to_node(&mut pod, node);
        out.push(Action::CreatePod { pod: Box::new(pod), generate_name: true });
    }
    let status = DaemonSetStatus {
        desired,
        current: remaining.len() as i32,
        ready: remaining.iter().filter(|p| is_ready(ctx.pod(**p))).count() as i32,
        updated: remaining
            .iter()
            .filter(|p| ctx.pod(**p).pod.labels.get(LABEL_CONTROLLER_REVISION_HASH) == Some(&hash))
            .count() as i32,
        available: remaining.iter().filter(|p| is_available(ctx.pod(**p), ds.spec.min_ready_seconds, now)).count()
            as i32,
    };
    if status != ds.status {
        let mut new = ds.clone();
        new.status = status;
        out.push(Action::Update(Box::new(Workload::DaemonSet(new))));
    }
    let states: Vec<_> = remaining.iter().map(|p| ctx.pod(*p)).collect();
    if let Some(t) = super::next_available_at(&states, ds.spec.min_ready_seconds, now) {
        out.push(Action::RequeueAfter(t.saturating_since(now)));
    }
    out
}

/// Counts of a DaemonSet: desired = eligible nodes; settled when each has an updated ready pod.
pub fn counts(ctx: &SyncContext<'_>, ds: &DaemonSet) -> Counts {
    let template = daemon_template(&ds.spec.template);
    let hash = template_hash(&ds.spec.template);
    let desired =
        ctx.cluster.node_order().iter().filter(|n| node_should_run(&template, &ctx.cluster.node(**n).node).0).count()
            as i64;
    let active = ctx.active_pods(ds.meta.uid);
    let ready = active.iter().filter(|p| is_ready(ctx.pod(**p))).count() as i64;
    let available =
        active.iter().filter(|p| is_available(ctx.pod(**p), ds.spec.min_ready_seconds, ctx.now)).count() as i64;
    let updated_ready = active
        .iter()
        .filter(|p| {
            is_ready(ctx.pod(**p)) && ctx.pod(**p).pod.labels.get(LABEL_CONTROLLER_REVISION_HASH) == Some(&hash)
        })
        .count() as i64;
    let _ = is_active;
    Counts { desired, ready, available, settled: updated_ready >= desired && active.len() as i64 == desired }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{Fixture, created, deleted};
    use crate::model::taint::Taint;
    use crate::scheduler::testing::make_pod;

    fn ds() -> DaemonSet {
        let mut template = make_pod("t", &[("cpu", 10)]);
        template.labels.insert("app".into(), "agent".into());
        crate::input::manifest::add_default_tolerations(&mut template.tolerations);
        DaemonSet::new(
            Meta { name: "agent".into(), namespace: "default".into(), ..Default::default() },
            DaemonSetSpec {
                selector: LabelSelector {
                    match_labels: [("app".to_string(), "agent".to_string())].into(),
                    ..Default::default()
                },
                template,
                min_ready_seconds: 0,
                update: UpdateStrategy::RollingUpdate {
                    max_unavailable: IntOrPercent::Int(1),
                    max_surge: IntOrPercent::Int(0),
                },
            },
        )
    }

    #[test]
    fn daemon_pods_tolerate_unreachable_and_not_ready_forever() {
        let t = daemon_template(&ds().spec.template);
        for key in [TAINT_NOT_READY, TAINT_UNREACHABLE] {
            let tols: Vec<_> =
                t.tolerations.iter().filter(|x| x.key == key && x.effect == Some(TaintEffect::NoExecute)).collect();
            assert_eq!(tols.len(), 1, "{key}");
            assert_eq!(tols[0].toleration_seconds, None, "{key}: no time limit");
        }
    }

    #[test]
    fn one_pod_per_eligible_node_pinned_by_node_affinity() {
        let mut f = Fixture::new(3);
        f.cluster.node_mut(NodeId(1)).node.taints.push(Taint {
            key: "gpu".into(),
            value: String::new(),
            effect: TaintEffect::NoSchedule,
            time_added: None,
        });
        let uid = f.add(Workload::DaemonSet(ds()));
        let Some(Workload::DaemonSet(d)) = f.store.by_uid(uid).cloned() else { panic!() };
        let acts = sync(&f.ctx(), &d);
        let targets: Vec<&str> = created(&acts).iter().filter_map(|p| target_node(p)).collect();
        assert_eq!(targets, vec!["n0", "n2"], "the tainted node is skipped");
    }

    #[test]
    fn a_noschedule_taint_keeps_the_existing_pod_but_noexecute_evicts_it() {
        let mut f = Fixture::new(1);
        let mut d0 = ds();
        d0.spec.update = UpdateStrategy::OnDelete;
        let uid = f.add(Workload::DaemonSet(d0));
        let Some(Workload::DaemonSet(d)) = f.store.by_uid(uid).cloned() else { panic!() };
        let p = f.pod(uid, "agent-x", Some(0), true, Some(0));
        f.cluster.node_mut(NodeId(0)).node.taints.push(Taint {
            key: "maint".into(),
            value: String::new(),
            effect: TaintEffect::NoSchedule,
            time_added: None,
        });
        let acts = sync(&f.ctx(), &d);
        assert!(deleted(&acts).is_empty() && created(&acts).is_empty());
        f.cluster.node_mut(NodeId(0)).node.taints[0].effect = TaintEffect::NoExecute;
        assert_eq!(deleted(&sync(&f.ctx(), &d)), vec![p]);
    }

    #[test]
    fn a_rolling_update_replaces_at_most_max_unavailable_pods_at_a_time() {
        let mut f = Fixture::new(3);
        let uid = f.add(Workload::DaemonSet(ds()));
        for i in 0..3 {
            f.pod(uid, &format!("old-{i}"), Some(i), true, Some(0));
        }
        let Some(Workload::DaemonSet(mut d)) = f.store.by_uid(uid).cloned() else { panic!() };
        d.spec.template.containers[0].image = "v2".into();
        let acts = sync(&f.ctx(), &d);
        assert_eq!(deleted(&acts).len(), 1, "maxUnavailable 1");
        assert!(created(&acts).is_empty());
    }
}
