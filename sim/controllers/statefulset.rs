//! The StatefulSet controller (`pkg/controller/statefulset/stateful_set_control.go`): pods with
//! stable names `<set>-0 … <set>-(N−1)`; `OrderedReady` creates them one at a time in ordinal
//! order, each waiting for its predecessor to be Running and Ready (and available after
//! `minReadySeconds`), and any unhealthy pod stops progress; `Parallel` creates and deletes
//! without ordering; scale-down deletes the highest ordinal first (one at a time when ordered);
//! a failed or deleted pod is recreated under the same name once the old one is gone; a rolling
//! update replaces pods from the highest ordinal down to `partition`, one at a time, each waiting
//! for the previous one to be healthy again. Pods below the partition keep (and are recreated
//! with) the previous template.

use super::daemonset::LABEL_CONTROLLER_REVISION_HASH;
use super::{
    Action, Counts, Kind, Meta, SyncContext, Workload, is_available, is_ready, pod_from_template, pod_owner,
    template_hash,
};
use crate::cluster::{PodId, PodPhase};
use crate::model::pod::Pod;
use crate::model::selector::LabelSelector;

/// Label with a StatefulSet pod's name (`statefulset.kubernetes.io/pod-name`).
pub const LABEL_POD_NAME: &str = "statefulset.kubernetes.io/pod-name";
/// Label with a StatefulSet pod's ordinal (`apps.kubernetes.io/pod-index`).
pub const LABEL_POD_INDEX: &str = "apps.kubernetes.io/pod-index";

/// `spec.podManagementPolicy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PodManagement {
    /// One pod at a time, in ordinal order, each waiting for its predecessor.
    #[default]
    OrderedReady,
    /// All at once.
    Parallel,
}

/// `spec.updateStrategy`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UpdateStrategy {
    /// Replace pods from the highest ordinal down to `partition`.
    RollingUpdate {
        /// Ordinals below this keep the old template.
        partition: i32,
    },
    /// Replace a pod only when it is deleted.
    OnDelete,
}

/// `spec` of a StatefulSet.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatefulSetSpec {
    /// `replicas`.
    pub replicas: i32,
    /// `selector`.
    pub selector: LabelSelector,
    /// `template`.
    pub template: Pod,
    /// `podManagementPolicy`.
    pub pod_management: PodManagement,
    /// `updateStrategy`.
    pub update: UpdateStrategy,
    /// `minReadySeconds`.
    pub min_ready_seconds: i32,
}

/// `status` of a StatefulSet.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatefulSetStatus {
    /// Active pods.
    pub replicas: i32,
    /// Ready pods.
    pub ready_replicas: i32,
    /// Available pods.
    pub available_replicas: i32,
    /// Pods at the update revision.
    pub updated_replicas: i32,
    /// The revision every pod had before the current update (`currentRevision`).
    pub current_revision: String,
    /// The template of `current_revision` (pods below the partition are recreated from it).
    pub current_template: Option<Pod>,
}

/// A StatefulSet.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatefulSet {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: StatefulSetSpec,
    /// Status.
    pub status: StatefulSetStatus,
}

impl StatefulSet {
    /// A new StatefulSet.
    pub fn new(meta: Meta, spec: StatefulSetSpec) -> Self {
        StatefulSet { meta, spec, status: Default::default() }
    }
}

/// The ordinal of a pod named `<set>-<n>`.
pub fn ordinal(set: &str, pod_name: &str) -> Option<i32> {
    pod_name.strip_prefix(set)?.strip_prefix('-')?.parse().ok()
}

fn healthy(p: &crate::cluster::PodState, min_ready: i32, now: crate::engine::time::SimTime) -> bool {
    p.phase == PodPhase::Running && !p.terminating && is_available(p, min_ready, now)
}

/// One sync of a StatefulSet.
pub fn sync(ctx: &SyncContext<'_>, set: &StatefulSet) -> Vec<Action> {
    let now = ctx.now;
    let mut out = Vec::new();
    let ordered = set.spec.pod_management == PodManagement::OrderedReady;
    let update_rev = template_hash(&set.spec.template);
    let mut status = set.status.clone();
    if status.current_revision.is_empty() {
        status.current_revision = update_rev.clone();
        status.current_template = Some(set.spec.template.clone());
    }
    let replicas = set.spec.replicas.max(0);
    let partition = match set.spec.update {
        UpdateStrategy::RollingUpdate { partition } => partition,
        UpdateStrategy::OnDelete => i32::MAX,
    };
    // Live pods (including terminating ones, which still hold their name) by ordinal.
    let mut by_ord: std::collections::BTreeMap<i32, PodId> = Default::default();
    for p in ctx.owned_pods(set.meta.uid) {
        let st = ctx.pod(p);
        if !st.phase.is_terminal()
            && let Some(o) = ordinal(&set.meta.name, &st.pod.name)
        {
            by_ord.insert(o, p);
        }
    }
    let rev_of = |p: PodId| ctx.pod(p).pod.labels.get(LABEL_CONTROLLER_REVISION_HASH).cloned().unwrap_or_default();
    let min_ready = set.spec.min_ready_seconds;
    let mut blocked = false;
    // Replicas 0..N in order.
    for ord in 0..replicas {
        match by_ord.get(&ord) {
            None => {
                let (template, rev) = if ord < partition || status.current_template.is_none() {
                    match &status.current_template {
                        Some(t) if ord < partition => (t.clone(), status.current_revision.clone()),
                        _ => (set.spec.template.clone(), update_rev.clone()),
                    }
                } else {
                    (set.spec.template.clone(), update_rev.clone())
                };
                out.push(Action::CreatePod { pod: Box::new(new_pod(set, &template, &rev, ord)), generate_name: false });
                if ordered {
                    blocked = true;
                    break;
                }
            }
            Some(p) => {
                let st = ctx.pod(*p);
                if (st.terminating || !healthy(st, min_ready, now)) && ordered {
                    blocked = true;
                    break;
                }
            }
        }
    }
    // Scale down: the highest ordinals first.
    let condemned: Vec<(i32, PodId)> =
        by_ord.iter().rev().filter(|(o, _)| **o >= replicas).map(|(o, p)| (*o, *p)).collect();
    if !blocked {
        for (_, p) in &condemned {
            let st = ctx.pod(*p);
            if st.terminating {
                if ordered {
                    blocked = true;
                    break;
                }
                continue;
            }
            out.push(Action::DeletePod { pod: *p, reason: "ScaleDown" });
            if ordered {
                blocked = true;
                break;
            }
        }
    }
    // Rolling update: highest ordinal first down to the partition, one at a time.
    let all_healthy = (0..replicas).all(|o| by_ord.get(&o).is_some_and(|p| healthy(ctx.pod(*p), min_ready, now)));
    if !blocked && all_healthy && matches!(set.spec.update, UpdateStrategy::RollingUpdate { .. }) {
        for ord in (partition.max(0)..replicas).rev() {
            let Some(p) = by_ord.get(&ord) else { continue };
            if rev_of(*p) != update_rev {
                out.push(Action::DeletePod { pod: *p, reason: "RollingUpdate" });
                break;
            }
        }
    }
    // Status.
    let live: Vec<PodId> = by_ord.values().copied().filter(|p| !ctx.pod(*p).terminating).collect();
    status.replicas = live.len() as i32;
    status.ready_replicas = live.iter().filter(|p| is_ready(ctx.pod(**p))).count() as i32;
    status.available_replicas = live.iter().filter(|p| is_available(ctx.pod(**p), min_ready, now)).count() as i32;
    status.updated_replicas = live.iter().filter(|p| rev_of(**p) == update_rev).count() as i32;
    if status.updated_replicas == replicas && status.replicas == replicas && status.current_revision != update_rev {
        status.current_revision = update_rev;
        status.current_template = Some(set.spec.template.clone());
    }
    if status != set.status {
        let mut new = set.clone();
        new.status = status;
        out.push(Action::Update(Box::new(Workload::StatefulSet(new))));
    }
    let states: Vec<_> = live.iter().map(|p| ctx.pod(*p)).collect();
    if let Some(t) = super::next_available_at(&states, min_ready, now) {
        out.push(Action::RequeueAfter(t.saturating_since(now)));
    }
    out
}

fn new_pod(set: &StatefulSet, template: &Pod, rev: &str, ord: i32) -> Pod {
    let name = format!("{}-{ord}", set.meta.name);
    let mut extra = crate::model::selector::Labels::new();
    extra.insert(LABEL_CONTROLLER_REVISION_HASH.into(), rev.to_string());
    extra.insert(LABEL_POD_NAME.into(), name.clone());
    extra.insert(LABEL_POD_INDEX.into(), ord.to_string());
    pod_from_template(template, pod_owner(Kind::StatefulSet, &set.meta), &set.meta.namespace, name, &extra)
}

/// Counts of a StatefulSet; settled when every ordinal has a ready pod at the update revision
/// (or below the partition) and nothing beyond the replicas is left.
pub fn counts(ctx: &SyncContext<'_>, set: &StatefulSet) -> Counts {
    let active = ctx.active_pods(set.meta.uid);
    let ready = active.iter().filter(|p| is_ready(ctx.pod(**p))).count() as i64;
    let available =
        active.iter().filter(|p| is_available(ctx.pod(**p), set.spec.min_ready_seconds, ctx.now)).count() as i64;
    let desired = set.spec.replicas as i64;
    let hash = template_hash(&set.spec.template);
    let partition = match set.spec.update {
        UpdateStrategy::RollingUpdate { partition } => partition,
        UpdateStrategy::OnDelete => i32::MAX,
    };
    let updated = active.iter().map(|p| &ctx.pod(*p).pod).all(|p| {
        ordinal(&set.meta.name, &p.name).is_some_and(|o| o < partition)
            || p.labels.get(LABEL_CONTROLLER_REVISION_HASH) == Some(&hash)
    });
    Counts { desired, ready, available, settled: ready >= desired && active.len() as i64 == desired && updated }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{Fixture, created, deleted};
    use crate::scheduler::testing::make_pod;

    fn sts(replicas: i32, pm: PodManagement) -> StatefulSet {
        let mut template = make_pod("t", &[("cpu", 10)]);
        template.labels.insert("app".into(), "db".into());
        StatefulSet::new(
            Meta { name: "db".into(), namespace: "default".into(), ..Default::default() },
            StatefulSetSpec {
                replicas,
                selector: LabelSelector {
                    match_labels: [("app".to_string(), "db".to_string())].into(),
                    ..Default::default()
                },
                template,
                pod_management: pm,
                update: UpdateStrategy::RollingUpdate { partition: 0 },
                min_ready_seconds: 0,
            },
        )
    }

    /// A running, ready pod `db-<ord>` at revision `rev`.
    fn member(f: &mut Fixture, uid: u64, ord: i32, rev: &str, ready: bool) -> PodId {
        let id = f.pod(uid, &format!("db-{ord}"), Some(0), true, if ready { Some(0) } else { None });
        // Re-create it with the revision label (pods are immutable in the cluster state).
        let mut p = f.cluster.pod(id).pod.clone();
        f.cluster.terminate(id, PodPhase::Deleted, f.now);
        f.store.forget_pod(uid, id);
        p.labels.insert(LABEL_CONTROLLER_REVISION_HASH.into(), rev.into());
        let nid = f.cluster.add_pod(p, f.now).unwrap();
        f.cluster.bind(nid, crate::cluster::NodeId(0), f.now).unwrap();
        f.cluster.mark_running(nid, f.now);
        if ready {
            f.cluster.mark_ready(nid, f.now);
        }
        f.store.add_owned_pod(uid, nid);
        nid
    }

    fn names(acts: &[Action]) -> Vec<String> {
        created(acts).iter().map(|p| p.name.clone()).collect()
    }

    #[test]
    fn ordinals_parse_from_pod_names() {
        assert_eq!(ordinal("db", "db-12"), Some(12));
        assert_eq!(ordinal("db", "dbx-1"), None);
        assert_eq!(ordinal("db", "db-a"), None);
    }

    #[test]
    fn ordered_ready_creates_one_pod_at_a_time_waiting_for_the_predecessor() {
        let mut f = Fixture::new(1);
        let uid = f.add(Workload::StatefulSet(sts(3, PodManagement::OrderedReady)));
        let Some(Workload::StatefulSet(s)) = f.store.by_uid(uid).cloned() else { panic!() };
        assert_eq!(names(&sync(&f.ctx(), &s)), vec!["db-0"]);
        let rev = template_hash(&s.spec.template);
        member(&mut f, uid, 0, &rev, false);
        assert!(names(&sync(&f.ctx(), &s)).is_empty(), "db-0 is not Ready yet");
        let mut f2 = Fixture::new(1);
        let uid2 = f2.add(Workload::StatefulSet(sts(3, PodManagement::OrderedReady)));
        member(&mut f2, uid2, 0, &rev, true);
        let Some(Workload::StatefulSet(s2)) = f2.store.by_uid(uid2).cloned() else { panic!() };
        assert_eq!(names(&sync(&f2.ctx(), &s2)), vec!["db-1"]);
    }

    #[test]
    fn parallel_creates_every_missing_ordinal_at_once() {
        let mut f = Fixture::new(1);
        let uid = f.add(Workload::StatefulSet(sts(3, PodManagement::Parallel)));
        let Some(Workload::StatefulSet(s)) = f.store.by_uid(uid).cloned() else { panic!() };
        assert_eq!(names(&sync(&f.ctx(), &s)), vec!["db-0", "db-1", "db-2"]);
    }

    #[test]
    fn scale_down_deletes_the_highest_ordinal_first() {
        let mut f = Fixture::new(1);
        let uid = f.add(Workload::StatefulSet(sts(1, PodManagement::OrderedReady)));
        let Some(Workload::StatefulSet(s)) = f.store.by_uid(uid).cloned() else { panic!() };
        let rev = template_hash(&s.spec.template);
        let _p0 = member(&mut f, uid, 0, &rev, true);
        let _p1 = member(&mut f, uid, 1, &rev, true);
        let p2 = member(&mut f, uid, 2, &rev, true);
        assert_eq!(deleted(&sync(&f.ctx(), &s)), vec![p2], "one at a time, highest first");
    }

    #[test]
    fn a_rolling_update_goes_from_the_highest_ordinal_down_to_the_partition() {
        let mut f = Fixture::new(1);
        let mut s0 = sts(3, PodManagement::OrderedReady);
        s0.spec.update = UpdateStrategy::RollingUpdate { partition: 1 };
        let uid = f.add(Workload::StatefulSet(s0));
        let Some(Workload::StatefulSet(mut s)) = f.store.by_uid(uid).cloned() else { panic!() };
        let old = template_hash(&s.spec.template);
        let _p0 = member(&mut f, uid, 0, &old, true);
        let p1 = member(&mut f, uid, 1, &old, true);
        let p2 = member(&mut f, uid, 2, &old, true);
        s.status.current_revision = old.clone();
        s.status.current_template = Some(s.spec.template.clone());
        s.spec.template.containers[0].image = "v2".into();
        assert_eq!(deleted(&sync(&f.ctx(), &s)), vec![p2]);
        // Once db-2 is back at the new revision, db-1 goes; db-0 stays below the partition.
        f.cluster.terminate(p2, PodPhase::Deleted, f.now);
        let new = template_hash(&s.spec.template);
        member(&mut f, uid, 2, &new, true);
        assert_eq!(deleted(&sync(&f.ctx(), &s)), vec![p1]);
        f.cluster.terminate(p1, PodPhase::Deleted, f.now);
        let acts = sync(&f.ctx(), &s);
        assert_eq!(names(&acts), vec!["db-1"], "recreated under the same name");
        assert_eq!(created(&acts)[0].containers[0].image, "v2");
    }

    #[test]
    fn a_pod_below_the_partition_is_recreated_from_the_old_template() {
        let mut f = Fixture::new(1);
        let mut s0 = sts(2, PodManagement::Parallel);
        s0.spec.update = UpdateStrategy::RollingUpdate { partition: 1 };
        let uid = f.add(Workload::StatefulSet(s0));
        let Some(Workload::StatefulSet(mut s)) = f.store.by_uid(uid).cloned() else { panic!() };
        s.status.current_revision = template_hash(&s.spec.template);
        s.status.current_template = Some(s.spec.template.clone());
        s.spec.template.containers[0].image = "v2".into();
        let acts = sync(&f.ctx(), &s);
        let imgs: Vec<_> = created(&acts).iter().map(|p| (p.name.clone(), p.containers[0].image.clone())).collect();
        assert_eq!(imgs, vec![("db-0".to_string(), String::new()), ("db-1".to_string(), "v2".to_string())]);
    }
}
