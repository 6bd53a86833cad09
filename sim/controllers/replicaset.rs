//! The ReplicaSet controller (`pkg/controller/replicaset/replica_set.go`): create or delete pods
//! until the active pods match `spec.replicas`, at most [`BURST_REPLICAS`] per sync, creations in
//! slow-start batches (1, 2, 4, ...), deletions in upstream's ranking order
//! ([`deletion_order`], `ActivePodsWithRanks` with LogarithmicScaleDown), and status
//! (`replicas`, `readyReplicas`, `availableReplicas`) from the active pods.

use super::{
    Action, BURST_REPLICAS, Counts, Kind, Meta, SyncContext, Workload, is_active, is_available, is_ready,
    next_available_at, phase_ordinal, pod_from_template, pod_owner,
};
use crate::cluster::PodId;
use crate::engine::time::SimTime;
use crate::model::pod::Pod;
use crate::model::selector::LabelSelector;

/// Annotation ranking pods for scale-down (`controller.kubernetes.io/pod-deletion-cost`).
pub const ANNOTATION_POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// `spec` of a ReplicaSet.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReplicaSetSpec {
    /// `replicas` (default 1).
    pub replicas: i32,
    /// `minReadySeconds`.
    pub min_ready_seconds: i32,
    /// `selector`.
    pub selector: LabelSelector,
    /// `template` (the pod name is a placeholder).
    pub template: Pod,
}

/// `status` of a ReplicaSet.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReplicaSetStatus {
    /// Active pods.
    pub replicas: i32,
    /// Ready active pods.
    pub ready_replicas: i32,
    /// Available active pods.
    pub available_replicas: i32,
}

/// A ReplicaSet.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReplicaSet {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: ReplicaSetSpec,
    /// Status.
    pub status: ReplicaSetStatus,
}

/// Batch sizes of upstream `slowStartBatch` for `count` creations: 1, 2, 4, ... (the last one
/// cut to what is left).
pub fn slow_start_batches(count: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut left = count;
    let mut batch = 1usize;
    while left > 0 {
        let b = batch.min(left);
        out.push(b);
        left -= b;
        batch = batch.saturating_mul(2);
    }
    out
}

fn deletion_cost(p: &Pod) -> i32 {
    p.annotations.get(ANNOTATION_POD_DELETION_COST).and_then(|v| v.parse::<i32>().ok()).unwrap_or(0)
}

/// A timestamp as the API serialises it: whole seconds, in nanoseconds.
fn api_time_ns(t: SimTime) -> i128 {
    (t.as_secs() as i128) * 1_000_000_000
}

/// Upstream `logarithmicRankDiff`: floor(log2(now − t)) in nanoseconds, −1 when not positive.
fn log_rank(t: SimTime, now: SimTime) -> i64 {
    let d = (now.0 as i128) * 1000 - api_time_ns(t);
    if d > 0 { 127 - (d as u128).leading_zeros() as i64 } else { -1 }
}

/// Orders `pods` for deletion (the first is deleted first), upstream `ActivePodsWithRanks.Less`
/// with ranks from `related` (the active pods of every ReplicaSet of the same controller): the
/// number of related pods on the pod's node.
pub fn deletion_order(ctx: &SyncContext<'_>, pods: &[PodId], related: &[PodId]) -> Vec<PodId> {
    let mut on_node: std::collections::BTreeMap<Option<crate::cluster::NodeId>, i64> = Default::default();
    for r in related {
        let p = ctx.pod(*r);
        if is_active(p) {
            *on_node.entry(p.node).or_insert(0) += 1;
        }
    }
    let now = ctx.now;
    let mut ranked: Vec<(PodId, i64)> =
        pods.iter().map(|id| (*id, on_node.get(&ctx.pod(*id).node).copied().unwrap_or(0))).collect();
    ranked.sort_by(|(a, ra), (b, rb)| {
        use std::cmp::Ordering::*;
        let (pa, pb) = (ctx.pod(*a), ctx.pod(*b));
        // 1. Unassigned < assigned.
        if pa.node.is_some() != pb.node.is_some() {
            return if pa.node.is_none() { Less } else { Greater };
        }
        // 2. Pending < Unknown < Running.
        let (oa, ob) = (phase_ordinal(pa.phase), phase_ordinal(pb.phase));
        if oa != ob {
            return oa.cmp(&ob);
        }
        // 3. Not ready < ready.
        if is_ready(pa) != is_ready(pb) {
            return if !is_ready(pa) { Less } else { Greater };
        }
        // 4. Lower deletion cost first.
        let (ca, cb) = (deletion_cost(&pa.pod), deletion_cost(&pb.pod));
        if ca != cb {
            return ca.cmp(&cb);
        }
        // 5. More related pods on the same node first.
        if ra != rb {
            return rb.cmp(ra);
        }
        // 6. Both ready: more recently ready first (log2 buckets; equal buckets: lower uid first).
        if let (Some(ta), Some(tb)) = (pa.ready_since, pb.ready_since)
            && api_time_ns(ta) != api_time_ns(tb)
        {
            let d = log_rank(ta, now) - log_rank(tb, now);
            return if d == 0 { a.cmp(b) } else { d.cmp(&0) };
        }
        // 7. More restarts first.
        if pa.restarts != pb.restarts {
            return pb.restarts.cmp(&pa.restarts);
        }
        // 8. Newer first (same log2 rule).
        if api_time_ns(pa.created) != api_time_ns(pb.created) {
            let d = log_rank(pa.created, now) - log_rank(pb.created, now);
            return if d == 0 { a.cmp(b) } else { d.cmp(&0) };
        }
        Equal
    });
    ranked.into_iter().map(|(id, _)| id).collect()
}

/// The active pods of every ReplicaSet sharing this one's controller (or just its own).
fn related_pods(ctx: &SyncContext<'_>, rs: &ReplicaSet) -> Vec<PodId> {
    match &rs.meta.owner {
        Some(o) => ctx.owned_objects(o.uid).iter().flat_map(|w| ctx.active_pods(w.meta().uid)).collect(),
        None => ctx.active_pods(rs.meta.uid),
    }
}

/// Creation actions for `n` pods of `rs`'s template, in slow-start batches.
pub fn create_actions(rs: &ReplicaSet, n: usize) -> Vec<Action> {
    let mut out = Vec::with_capacity(n + 1);
    for batch in slow_start_batches(n) {
        for _ in 0..batch {
            let pod = pod_from_template(
                &rs.spec.template,
                pod_owner(Kind::ReplicaSet, &rs.meta),
                &rs.meta.namespace,
                format!("{}-", rs.meta.name),
                &Default::default(),
            );
            out.push(Action::CreatePod { pod: Box::new(pod), generate_name: true });
        }
    }
    out
}

/// One sync of a ReplicaSet.
pub fn sync(ctx: &SyncContext<'_>, rs: &ReplicaSet) -> Vec<Action> {
    let mut out = Vec::new();
    let active = ctx.active_pods(rs.meta.uid);
    let want = rs.spec.replicas.max(0) as usize;
    if active.len() < want {
        let n = (want - active.len()).min(BURST_REPLICAS);
        out.extend(create_actions(rs, n));
        out.push(Action::Record { reason: "SuccessfulCreate", message: format!("created {n} pods") });
    } else if active.len() > want {
        let n = (active.len() - want).min(BURST_REPLICAS);
        let order =
            if n < active.len() { deletion_order(ctx, &active, &related_pods(ctx, rs)) } else { active.clone() };
        for id in order.into_iter().take(n) {
            out.push(Action::DeletePod { pod: id, reason: "ScaleDown" });
        }
        out.push(Action::Record { reason: "SuccessfulDelete", message: format!("deleted {n} pods") });
    }
    let deleted: Vec<PodId> = super_deleted(&out);
    let states: Vec<_> = active.iter().filter(|p| !deleted.contains(p)).map(|p| ctx.pod(*p)).collect();
    let status = ReplicaSetStatus {
        replicas: states.len() as i32 + out.iter().filter(|a| matches!(a, Action::CreatePod { .. })).count() as i32,
        ready_replicas: states.iter().filter(|p| is_ready(p)).count() as i32,
        available_replicas: states.iter().filter(|p| is_available(p, rs.spec.min_ready_seconds, ctx.now)).count()
            as i32,
    };
    if status != rs.status {
        let mut new = rs.clone();
        new.status = status;
        out.push(Action::Update(Box::new(Workload::ReplicaSet(new))));
    }
    if let Some(t) = next_available_at(&states, rs.spec.min_ready_seconds, ctx.now) {
        out.push(Action::RequeueAfter(t.saturating_since(ctx.now)));
    }
    out
}

fn super_deleted(actions: &[Action]) -> Vec<PodId> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::DeletePod { pod, .. } => Some(*pod),
            _ => None,
        })
        .collect()
}

/// Desired / ready / available pods of a ReplicaSet.
pub fn counts(ctx: &SyncContext<'_>, rs: &ReplicaSet) -> Counts {
    let active = ctx.active_pods(rs.meta.uid);
    let ready = active.iter().filter(|p| is_ready(ctx.pod(**p))).count() as i64;
    Counts {
        desired: rs.spec.replicas as i64,
        ready,
        available: active.iter().filter(|p| is_available(ctx.pod(**p), rs.spec.min_ready_seconds, ctx.now)).count()
            as i64,
        settled: ready >= rs.spec.replicas as i64 && active.len() as i64 == rs.spec.replicas as i64,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::controllers::testing::{Fixture, created, deleted, updated};
    use crate::scheduler::testing::make_pod;

    pub fn rs(name: &str, replicas: i32) -> ReplicaSet {
        let mut template = make_pod("t", &[("cpu", 100)]);
        template.labels.insert("app".into(), name.into());
        ReplicaSet {
            meta: Meta { name: name.into(), namespace: "default".into(), ..Default::default() },
            spec: ReplicaSetSpec {
                replicas,
                min_ready_seconds: 0,
                selector: LabelSelector {
                    match_labels: [("app".to_string(), name.to_string())].into(),
                    ..Default::default()
                },
                template,
            },
            status: Default::default(),
        }
    }

    #[test]
    fn slow_start_batches_double_from_one() {
        assert_eq!(slow_start_batches(0), Vec::<usize>::new());
        assert_eq!(slow_start_batches(1), vec![1]);
        assert_eq!(slow_start_batches(10), vec![1, 2, 4, 3]);
        assert_eq!(slow_start_batches(15), vec![1, 2, 4, 8]);
    }

    #[test]
    fn a_new_replicaset_creates_its_replicas_with_generated_names_and_owner() {
        let mut f = Fixture::new(1);
        let uid = f.add(Workload::ReplicaSet(rs("web", 3)));
        let Some(Workload::ReplicaSet(r)) = f.store.by_uid(uid).cloned() else { panic!() };
        let acts = sync(&f.ctx(), &r);
        let pods = created(&acts);
        assert_eq!(pods.len(), 3);
        assert!(pods.iter().all(|p| p.name == "web-" && p.owner.as_ref().is_some_and(|o| o.uid == uid)));
        assert!(pods.iter().all(|p| p.labels.get("app").map(String::as_str) == Some("web")));
        let Some(Workload::ReplicaSet(s)) = updated(&acts) else { panic!("status update expected") };
        assert_eq!(s.status.replicas, 3);
    }

    #[test]
    fn creations_per_sync_are_capped_at_burst_replicas() {
        let mut f = Fixture::new(1);
        let uid = f.add(Workload::ReplicaSet(rs("big", 1200)));
        let Some(Workload::ReplicaSet(r)) = f.store.by_uid(uid).cloned() else { panic!() };
        assert_eq!(created(&sync(&f.ctx(), &r)).len(), BURST_REPLICAS);
    }

    #[test]
    fn scale_down_deletes_unassigned_then_pending_then_not_ready_then_most_recently_ready() {
        let mut f = Fixture::new(3);
        let uid = f.add(Workload::ReplicaSet(rs("web", 1)));
        f.now = SimTime(10_000 * 1_000_000);
        let old_ready = f.pod(uid, "old-ready", Some(0), true, Some(100));
        let new_ready = f.pod(uid, "new-ready", Some(1), true, Some(9_000));
        let not_ready = f.pod(uid, "not-ready", Some(2), true, None);
        let pending = f.pod(uid, "pending", Some(2), false, None);
        let unassigned = f.pod(uid, "unassigned", None, false, None);
        let Some(Workload::ReplicaSet(r)) = f.store.by_uid(uid).cloned() else { panic!() };
        let ctx = f.ctx();
        let all = [old_ready, new_ready, not_ready, pending, unassigned];
        let order = deletion_order(&ctx, &all, &all);
        assert_eq!(order, vec![unassigned, pending, not_ready, new_ready, old_ready]);
        let acts = sync(&ctx, &r);
        assert_eq!(deleted(&acts), vec![unassigned, pending, not_ready, new_ready]);
    }

    #[test]
    fn doubled_up_pods_go_before_lonely_ones_and_deletion_cost_comes_first() {
        let mut f = Fixture::new(2);
        let uid = f.add(Workload::ReplicaSet(rs("web", 1)));
        f.now = SimTime(100 * 1_000_000);
        let alone = f.pod(uid, "alone", Some(0), true, Some(10));
        let twin_a = f.pod(uid, "twin-a", Some(1), true, Some(10));
        let twin_b = f.pod(uid, "twin-b", Some(1), true, Some(10));
        let ctx = f.ctx();
        let all = [alone, twin_a, twin_b];
        let order = deletion_order(&ctx, &all, &all);
        assert_eq!(order[2], alone, "the pod alone on its node is kept");
        f.cluster = {
            let mut c = f.cluster.clone();
            // Same scenario, but the lonely pod has a negative deletion cost: it goes first.
            let mut p = c.pod(alone).pod.clone();
            p.annotations.insert(ANNOTATION_POD_DELETION_COST.into(), "-5".into());
            p.name = "alone-cheap".into();
            let id = c.add_pod(p, SimTime::ZERO).unwrap();
            c.bind(id, crate::cluster::NodeId(0), SimTime::ZERO).unwrap();
            c.mark_running(id, SimTime::ZERO);
            c.mark_ready(id, SimTime(10_000_000));
            f.store.add_owned_pod(uid, id);
            c
        };
        let ctx = f.ctx();
        let cheap = f.cluster.pod_id("default", "alone-cheap").unwrap();
        let order = deletion_order(&ctx, &[alone, twin_a, cheap], &[alone, twin_a, twin_b, cheap]);
        assert_eq!(order[0], cheap);
    }

    #[test]
    fn ready_times_in_the_same_log2_bucket_tie_break_on_uid() {
        let mut f = Fixture::new(2);
        let uid = f.add(Workload::ReplicaSet(rs("web", 1)));
        f.now = SimTime(1_000 * 1_000_000);
        // Ready 600 s and 700 s ago: both in bucket floor(log2(6e11 / 7e11 ns)) = 39.
        let a = f.pod(uid, "a", Some(0), true, Some(400));
        let b = f.pod(uid, "b", Some(1), true, Some(300));
        let ctx = f.ctx();
        assert_eq!(deletion_order(&ctx, &[b, a], &[a, b]), vec![a, b], "equal buckets: lower uid first");
        // Ready 10 s ago vs 700 s ago: the more recent one goes first.
        let c = f.pod(uid, "c", Some(1), true, Some(990));
        let ctx = f.ctx();
        assert_eq!(deletion_order(&ctx, &[a, c], &[a, c])[0], c);
    }

    #[test]
    fn status_counts_ready_and_available_pods_and_requeues_for_min_ready_seconds() {
        let mut f = Fixture::new(1);
        let mut r0 = rs("web", 2);
        r0.spec.min_ready_seconds = 30;
        let uid = f.add(Workload::ReplicaSet(r0));
        f.now = SimTime(100 * 1_000_000);
        f.pod(uid, "a", Some(0), true, Some(10));
        f.pod(uid, "b", Some(0), true, Some(90));
        let Some(Workload::ReplicaSet(r)) = f.store.by_uid(uid).cloned() else { panic!() };
        let acts = sync(&f.ctx(), &r);
        let Some(Workload::ReplicaSet(s)) = updated(&acts) else { panic!() };
        assert_eq!((s.status.replicas, s.status.ready_replicas, s.status.available_replicas), (2, 2, 1));
        assert!(acts.contains(&Action::RequeueAfter(crate::engine::time::SimDuration::from_secs(20))));
    }
}
