//! The Deployment controller (`pkg/controller/deployment`): one ReplicaSet per pod template
//! (named `<deployment>-<pod-template-hash>`, revision annotations), RollingUpdate
//! ([`resolve_fenceposts`]: maxSurge rounded up, maxUnavailable rounded down, 1 if both are 0;
//! `NewRSNewReplicas`, `cleanupUnhealthyReplicas`, `scaleDownOldReplicaSetsForRollingUpdate`),
//! Recreate (scale the old ReplicaSets to 0, wait for their pods to be gone, then scale up the new
//! one), proportional scaling of every active ReplicaSet when the Deployment is scaled during a
//! rollout (`max-replicas` / `desired-replicas` annotations), revision history
//! (`revisionHistoryLimit`), and the Progressing condition with `progressDeadlineSeconds`.

use super::replicaset::{ReplicaSet, ReplicaSetSpec};
use super::{
    ANNOTATION_REVISION, Action, Counts, IntOrPercent, Kind, LABEL_POD_TEMPLATE_HASH, Meta, Owner, SyncContext,
    Workload, template_hash,
};
use crate::engine::time::{SimDuration, SimTime};
use crate::model::pod::Pod;
use crate::model::selector::LabelSelector;

/// Annotation with the Deployment's replicas, on its ReplicaSets.
pub const ANNOTATION_DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// Annotation with the Deployment's replicas + maxSurge, on its ReplicaSets.
pub const ANNOTATION_MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

/// `spec.strategy`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Strategy {
    /// Kill all old pods, then create the new ones.
    Recreate,
    /// Replace pods progressively.
    RollingUpdate {
        /// `maxSurge` (default 25%).
        max_surge: IntOrPercent,
        /// `maxUnavailable` (default 25%).
        max_unavailable: IntOrPercent,
    },
}

/// `spec` of a Deployment.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeploymentSpec {
    /// `replicas` (default 1).
    pub replicas: i32,
    /// `selector`.
    pub selector: LabelSelector,
    /// `template`.
    pub template: Pod,
    /// `strategy`.
    pub strategy: Strategy,
    /// `minReadySeconds`.
    pub min_ready_seconds: i32,
    /// `revisionHistoryLimit` (default 10).
    pub revision_history_limit: i32,
    /// `progressDeadlineSeconds` (default 600).
    pub progress_deadline_seconds: i32,
    /// `paused`.
    pub paused: bool,
}

/// `status` of a Deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeploymentStatus {
    /// Active pods of all its ReplicaSets.
    pub replicas: i32,
    /// Active pods of the newest ReplicaSet.
    pub updated_replicas: i32,
    /// Ready pods.
    pub ready_replicas: i32,
    /// Available pods.
    pub available_replicas: i32,
    /// `replicas − available` (at least 0).
    pub unavailable_replicas: i32,
    /// Progressing condition: `True` / `False`.
    pub progressing: bool,
    /// Reason of the Progressing condition (`NewReplicaSetAvailable`, `ProgressDeadlineExceeded`, ...).
    pub progressing_reason: String,
    /// Last time the rollout made progress.
    pub last_progress: SimTime,
}

/// A Deployment.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Deployment {
    /// Metadata.
    pub meta: Meta,
    /// Spec.
    pub spec: DeploymentSpec,
    /// Status.
    pub status: DeploymentStatus,
}

/// Upstream `ResolveFenceposts`: (maxSurge rounded up, maxUnavailable rounded down) for `desired`
/// replicas; if both resolve to 0, maxUnavailable becomes 1.
pub fn resolve_fenceposts(max_surge: &IntOrPercent, max_unavailable: &IntOrPercent, desired: i32) -> (i32, i32) {
    let surge = max_surge.scaled(desired, true);
    let unavailable = max_unavailable.scaled(desired, false);
    if surge == 0 && unavailable == 0 { (0, 1) } else { (surge, unavailable) }
}

/// Upstream `MaxSurge`: 0 unless RollingUpdate.
pub fn max_surge(d: &DeploymentSpec) -> i32 {
    match &d.strategy {
        Strategy::RollingUpdate { max_surge, max_unavailable } => {
            resolve_fenceposts(max_surge, max_unavailable, d.replicas).0
        }
        Strategy::Recreate => 0,
    }
}

/// Upstream `MaxUnavailable`: 0 unless RollingUpdate with replicas; at most `replicas`.
pub fn max_unavailable(d: &DeploymentSpec) -> i32 {
    match &d.strategy {
        Strategy::RollingUpdate { max_surge, max_unavailable } if d.replicas > 0 => {
            resolve_fenceposts(max_surge, max_unavailable, d.replicas).1.min(d.replicas)
        }
        _ => 0,
    }
}

/// Upstream `NewRSNewReplicas`: the new ReplicaSet's size for this step of a rollout.
pub fn new_rs_new_replicas(d: &DeploymentSpec, all_spec_replicas: i32, new_rs_replicas: i32) -> i32 {
    match &d.strategy {
        Strategy::RollingUpdate { .. } => {
            let max_total = d.replicas + max_surge(d);
            if all_spec_replicas >= max_total {
                return new_rs_replicas;
            }
            let up = (max_total - all_spec_replicas).min(d.replicas - new_rs_replicas);
            new_rs_replicas + up.max(0)
        }
        Strategy::Recreate => d.replicas,
    }
}

fn revision(rs: &ReplicaSet) -> i64 {
    rs.meta.annotations.get(ANNOTATION_REVISION).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// The template a ReplicaSet runs, without its `pod-template-hash` label (upstream `EqualIgnoreHash`).
fn template_without_hash(t: &Pod) -> Pod {
    let mut t = t.clone();
    t.labels.remove(LABEL_POD_TEMPLATE_HASH);
    t
}

fn owned_rs<'a>(ctx: &SyncContext<'a>, d: &Deployment) -> Vec<&'a ReplicaSet> {
    let mut v: Vec<&ReplicaSet> = ctx
        .owned_objects(d.meta.uid)
        .into_iter()
        .filter_map(|w| match w {
            Workload::ReplicaSet(r) => Some(r),
            _ => None,
        })
        .collect();
    // Oldest first (upstream ReplicaSetsByCreationTimestamp, then name).
    v.sort_by(|a, b| (a.meta.created, &a.meta.name).cmp(&(b.meta.created, &b.meta.name)));
    v
}

/// Working copies of the ReplicaSets during one sync: changed ones become `Update` actions.
struct Plan {
    rss: Vec<ReplicaSet>,
    changed: Vec<bool>,
}

impl Plan {
    fn set_replicas(&mut self, i: usize, replicas: i32) {
        if self.rss[i].spec.replicas != replicas {
            self.rss[i].spec.replicas = replicas;
            self.changed[i] = true;
        }
    }
    fn total(&self) -> i32 {
        self.rss.iter().map(|r| r.spec.replicas).sum()
    }
}

/// The new ReplicaSet for `d`'s template.
fn new_replica_set(d: &Deployment, hash: &str, replicas: i32, revision: i64) -> ReplicaSet {
    let mut template = d.spec.template.clone();
    template.labels.insert(LABEL_POD_TEMPLATE_HASH.into(), hash.to_string());
    let mut selector = d.spec.selector.clone();
    selector.match_labels.insert(LABEL_POD_TEMPLATE_HASH.into(), hash.to_string());
    let mut labels = template.labels.clone();
    labels.insert(LABEL_POD_TEMPLATE_HASH.into(), hash.to_string());
    let mut annotations = std::collections::BTreeMap::new();
    annotations.insert(ANNOTATION_REVISION.to_string(), revision.to_string());
    ReplicaSet {
        meta: Meta {
            name: format!("{}-{hash}", d.meta.name),
            namespace: d.meta.namespace.clone(),
            labels,
            annotations,
            owner: Some(Owner { kind: Kind::Deployment, name: d.meta.name.clone(), uid: d.meta.uid }),
            ..Default::default()
        },
        spec: ReplicaSetSpec { replicas, min_ready_seconds: d.spec.min_ready_seconds, selector, template },
        status: Default::default(),
    }
}

fn set_replica_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let mut changed = false;
    for (k, v) in [(ANNOTATION_DESIRED_REPLICAS, desired), (ANNOTATION_MAX_REPLICAS, max)] {
        let v = v.to_string();
        if rs.meta.annotations.get(k) != Some(&v) {
            rs.meta.annotations.insert(k.to_string(), v);
            changed = true;
        }
    }
    changed
}

/// Upstream `getReplicaSetFraction`.
fn rs_fraction(rs: &ReplicaSet, d: &DeploymentSpec, status_replicas: i32) -> i32 {
    if d.replicas == 0 {
        return -rs.spec.replicas;
    }
    let deployment_replicas = d.replicas + max_surge(d);
    let annotated =
        rs.meta.annotations.get(ANNOTATION_MAX_REPLICAS).and_then(|v| v.parse::<i32>().ok()).unwrap_or(status_replicas);
    if annotated == 0 {
        return 0;
    }
    let size = (rs.spec.replicas as f64 * deployment_replicas as f64) / annotated as f64;
    size.round() as i32 - rs.spec.replicas
}

/// Upstream `scale`: proportional scaling of the active ReplicaSets when the Deployment's replicas
/// changed during a rollout.
fn scale(plan: &mut Plan, new_idx: Option<usize>, d: &Deployment) {
    let active: Vec<usize> = (0..plan.rss.len()).filter(|i| plan.rss[*i].spec.replicas > 0).collect();
    // One active ReplicaSet (or none): scale it (or the newest) to replicas.
    if active.len() <= 1 {
        let target = active.first().copied().or(new_idx);
        if let Some(i) = target {
            plan.set_replicas(i, d.spec.replicas);
        }
        return;
    }
    // The new ReplicaSet is saturated: the old ones go to 0.
    if let Some(n) = new_idx
        && plan.rss[n].spec.replicas == d.spec.replicas
        && plan.rss[n].status.available_replicas >= d.spec.replicas
    {
        for i in 0..plan.rss.len() {
            if i != n {
                plan.set_replicas(i, 0);
            }
        }
        return;
    }
    if !matches!(d.spec.strategy, Strategy::RollingUpdate { .. }) {
        return;
    }
    let all = plan.total();
    let allowed = if d.spec.replicas > 0 { d.spec.replicas + max_surge(&d.spec) } else { 0 };
    let to_add = allowed - all;
    if to_add == 0 {
        return;
    }
    // Scaling up: larger (then newer) first; down: larger (then older) first.
    let mut order = active.clone();
    order.sort_by(|a, b| {
        let (ra, rb) = (&plan.rss[*a], &plan.rss[*b]);
        rb.spec.replicas.cmp(&ra.spec.replicas).then_with(|| {
            if to_add > 0 { rb.meta.created.cmp(&ra.meta.created) } else { ra.meta.created.cmp(&rb.meta.created) }
        })
    });
    let status_replicas = d.status.replicas;
    let mut added = 0;
    let mut sizes: Vec<(usize, i32)> = Vec::new();
    for i in &order {
        let rs = &plan.rss[*i];
        let mut proportion = 0;
        if to_add != 0 {
            let fraction = rs_fraction(rs, &d.spec, status_replicas);
            let allowed_left = to_add - added;
            proportion = if to_add > 0 { fraction.min(allowed_left) } else { fraction.max(allowed_left) };
        }
        added += proportion;
        sizes.push((*i, rs.spec.replicas + proportion));
    }
    // Leftovers go to the largest ReplicaSet.
    if let Some(first) = sizes.first_mut() {
        let left = to_add - added;
        first.1 = (first.1 + left).max(0);
    }
    for (i, size) in sizes {
        plan.set_replicas(i, size.max(0));
    }
}

/// One sync of a Deployment.
pub fn sync(ctx: &SyncContext<'_>, d: &Deployment) -> Vec<Action> {
    let now = ctx.now;
    let mut out = Vec::new();
    let existing = owned_rs(ctx, d);
    let wanted = template_without_hash(&d.spec.template);
    let new_existing = existing.iter().position(|r| template_without_hash(&r.spec.template) == wanted);
    let mut plan = Plan { rss: existing.iter().map(|r| (*r).clone()).collect(), changed: vec![false; existing.len()] };
    let max_revision = existing.iter().map(|r| revision(r)).max().unwrap_or(0);
    let surge_max = d.spec.replicas + max_surge(&d.spec);
    let mut created: Option<ReplicaSet> = None;

    // Scaling event: an active ReplicaSet was sized for another replica count.
    let scaling_event = plan.rss.iter().filter(|r| r.spec.replicas > 0).any(|r| {
        r.meta.annotations.get(ANNOTATION_DESIRED_REPLICAS).and_then(|v| v.parse::<i32>().ok()) != Some(d.spec.replicas)
    });
    if d.spec.paused || (scaling_event && new_existing.is_some()) {
        scale(&mut plan, new_existing, d);
    } else {
        match &d.spec.strategy {
            Strategy::Recreate => {
                let old_active =
                    plan.rss.iter().enumerate().any(|(i, r)| Some(i) != new_existing && r.spec.replicas > 0);
                let old_pods_running = existing
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| Some(*i) != new_existing)
                    .any(|(_, r)| ctx.owned_pods(r.meta.uid).iter().any(|p| !ctx.pod(*p).phase.is_terminal()));
                if old_active {
                    for i in 0..plan.rss.len() {
                        if Some(i) != new_existing {
                            plan.set_replicas(i, 0);
                        }
                    }
                } else if !old_pods_running {
                    match new_existing {
                        Some(n) => plan.set_replicas(n, d.spec.replicas),
                        None => {
                            created = Some(new_replica_set(
                                d,
                                &template_hash(&d.spec.template),
                                d.spec.replicas,
                                max_revision + 1,
                            ))
                        }
                    }
                }
            }
            Strategy::RollingUpdate { .. } => {
                let all = plan.total();
                match new_existing {
                    None => {
                        // Create the new ReplicaSet, then scale the old ones down in the same sync.
                        let n = new_rs_new_replicas(&d.spec, all, 0);
                        let rs = new_replica_set(d, &template_hash(&d.spec.template), n, max_revision + 1);
                        plan.rss.push(rs.clone());
                        plan.changed.push(false);
                        let idx = plan.rss.len() - 1;
                        reconcile_old(&mut plan, idx, &d.spec);
                        plan.rss.pop();
                        plan.changed.pop();
                        created = Some(rs);
                    }
                    Some(n) => {
                        let target = new_rs_new_replicas(&d.spec, all, plan.rss[n].spec.replicas);
                        let scaled_up = target != plan.rss[n].spec.replicas;
                        // A new ReplicaSet above the desired count is scaled down at once.
                        let target = if plan.rss[n].spec.replicas > d.spec.replicas { d.spec.replicas } else { target };
                        plan.set_replicas(n, target);
                        if !scaled_up {
                            reconcile_old(&mut plan, n, &d.spec);
                        }
                    }
                }
            }
        }
    }
    // Revision of a reused template (rollback): it becomes the newest revision.
    if let Some(n) = new_existing
        && revision(&plan.rss[n]) < max_revision
    {
        plan.rss[n].meta.annotations.insert(ANNOTATION_REVISION.into(), (max_revision + 1).to_string());
        plan.changed[n] = true;
    }
    for i in 0..plan.rss.len() {
        if plan.rss[i].spec.replicas > 0 || Some(i) == new_existing {
            let (desired, max) = (d.spec.replicas, surge_max);
            if set_replica_annotations(&mut plan.rss[i], desired, max) {
                plan.changed[i] = true;
            }
        }
    }
    if let Some(mut rs) = created {
        set_replica_annotations(&mut rs, d.spec.replicas, surge_max);
        out.push(Action::Record {
            reason: "ScalingReplicaSet",
            message: format!("Scaled up replica set {} to {}", rs.meta.name, rs.spec.replicas),
        });
        out.push(Action::Create(Box::new(Workload::ReplicaSet(rs))));
    }
    for (i, rs) in plan.rss.iter().enumerate() {
        if plan.changed[i] {
            if rs.spec.replicas != existing[i].spec.replicas {
                out.push(Action::Record {
                    reason: "ScalingReplicaSet",
                    message: format!(
                        "Scaled {} replica set {} from {} to {}",
                        if rs.spec.replicas > existing[i].spec.replicas { "up" } else { "down" },
                        rs.meta.name,
                        existing[i].spec.replicas,
                        rs.spec.replicas
                    ),
                });
            }
            out.push(Action::Update(Box::new(Workload::ReplicaSet(rs.clone()))));
        }
    }
    // Status and the Progressing condition.
    let new_rs = new_existing.map(|n| &plan.rss[n]);
    let status = DeploymentStatus {
        replicas: existing.iter().map(|r| r.status.replicas).sum(),
        updated_replicas: new_rs.map(|r| r.status.replicas).unwrap_or(0),
        ready_replicas: existing.iter().map(|r| r.status.ready_replicas).sum(),
        available_replicas: existing.iter().map(|r| r.status.available_replicas).sum(),
        unavailable_replicas: (plan.total() - existing.iter().map(|r| r.status.available_replicas).sum::<i32>()).max(0),
        ..d.status.clone()
    };
    let status = progress(d, status, new_rs, now, &mut out);
    let complete = status.progressing_reason == "NewReplicaSetAvailable";
    if complete {
        // Revision history: delete the oldest fully scaled-down old ReplicaSets beyond the limit.
        let mut old: Vec<&ReplicaSet> = plan
            .rss
            .iter()
            .enumerate()
            .filter(|(i, r)| Some(*i) != new_existing && r.spec.replicas == 0 && r.status.replicas == 0)
            .map(|(_, r)| r)
            .collect();
        old.sort_by_key(|r| (revision(r), r.meta.created));
        let extra = old.len().saturating_sub(d.spec.revision_history_limit.max(0) as usize);
        for r in &old[..extra] {
            out.push(Action::Delete(super::ObjectKey {
                kind: Kind::ReplicaSet,
                namespace: r.meta.namespace.clone(),
                name: r.meta.name.clone(),
            }));
        }
    }
    if status != d.status {
        let mut new = d.clone();
        new.status = status;
        out.push(Action::Update(Box::new(Workload::Deployment(new))));
    }
    out
}

/// `reconcileOldReplicaSets` of a rolling update.
fn reconcile_old(plan: &mut Plan, new_idx: usize, d: &DeploymentSpec) {
    let old: Vec<usize> = (0..plan.rss.len()).filter(|i| *i != new_idx).collect();
    let old_pods: i32 = old.iter().map(|i| plan.rss[*i].spec.replicas).sum();
    if old_pods == 0 {
        return;
    }
    let all_pods = plan.total();
    let min_available = d.replicas - max_unavailable(d);
    let new_rs = &plan.rss[new_idx];
    let new_unavailable = new_rs.spec.replicas - new_rs.status.available_replicas;
    let max_scaled_down = all_pods - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return;
    }
    // cleanupUnhealthyReplicas: oldest first, their unavailable pods.
    let mut cleaned = 0;
    for i in &old {
        let rs = &plan.rss[*i];
        if rs.spec.replicas == 0 || rs.spec.replicas == rs.status.available_replicas {
            continue;
        }
        let n = (max_scaled_down - cleaned).min(rs.spec.replicas - rs.status.available_replicas);
        if n <= 0 {
            break;
        }
        let to = rs.spec.replicas - n;
        plan.set_replicas(*i, to);
        cleaned += n;
    }
    // scaleDownOldReplicaSetsForRollingUpdate: available pods above minAvailable, oldest first.
    let available: i32 = plan.rss.iter().map(|r| r.status.available_replicas).sum();
    if available <= min_available {
        return;
    }
    let total = available - min_available;
    let mut scaled = 0;
    for i in &old {
        if scaled >= total {
            break;
        }
        let rs = &plan.rss[*i];
        if rs.spec.replicas == 0 {
            continue;
        }
        let n = rs.spec.replicas.min(total - scaled);
        let to = rs.spec.replicas - n;
        plan.set_replicas(*i, to);
        scaled += n;
    }
}

/// Updates the Progressing condition (`syncRolloutStatus`).
fn progress(
    d: &Deployment,
    mut s: DeploymentStatus,
    new_rs: Option<&ReplicaSet>,
    now: SimTime,
    out: &mut Vec<Action>,
) -> DeploymentStatus {
    let old = &d.status;
    let complete = new_rs.is_some()
        && s.updated_replicas == d.spec.replicas
        && s.replicas == d.spec.replicas
        && s.available_replicas == d.spec.replicas;
    let progressed = s.updated_replicas > old.updated_replicas
        || s.replicas < old.replicas
        || s.ready_replicas > old.ready_replicas
        || s.available_replicas > old.available_replicas
        || old.progressing_reason.is_empty();
    let deadline = SimDuration::from_secs(d.spec.progress_deadline_seconds.max(0) as u64);
    if d.spec.paused {
        return s;
    }
    if complete {
        if s.progressing_reason != "NewReplicaSetAvailable" {
            s.progressing = true;
            s.progressing_reason = "NewReplicaSetAvailable".into();
            s.last_progress = now;
        }
    } else if progressed {
        s.progressing = true;
        s.progressing_reason = if new_rs.is_none() { "NewReplicaSetCreated" } else { "ReplicaSetUpdated" }.into();
        s.last_progress = now;
        out.push(Action::RequeueAfter(deadline + SimDuration::from_secs(1)));
    } else if s.progressing && s.progressing_reason != "NewReplicaSetAvailable" {
        if now > s.last_progress + deadline {
            s.progressing = false;
            s.progressing_reason = "ProgressDeadlineExceeded".into();
            out.push(Action::Record {
                reason: "ProgressDeadlineExceeded",
                message: format!("Deployment {:?} has timed out progressing", d.meta.name),
            });
        } else {
            let at = s.last_progress + deadline + SimDuration::from_secs(1);
            out.push(Action::RequeueAfter(at.saturating_since(now)));
        }
    }
    s
}

/// Desired / ready / available pods of a Deployment (all its ReplicaSets); settled when the
/// newest ReplicaSet has all replicas ready and no old pod is left.
pub fn counts(ctx: &SyncContext<'_>, d: &Deployment) -> Counts {
    let rss = owned_rs(ctx, d);
    let wanted = template_without_hash(&d.spec.template);
    let mut c = Counts { desired: d.spec.replicas as i64, ..Default::default() };
    let mut new_ready = 0;
    let mut old_active = 0;
    for r in &rss {
        let rc = super::replicaset::counts(ctx, r);
        c.ready += rc.ready;
        c.available += rc.available;
        if template_without_hash(&r.spec.template) == wanted {
            new_ready = rc.ready;
        } else {
            old_active += ctx.active_pods(r.meta.uid).len();
        }
    }
    c.settled = new_ready >= c.desired && old_active == 0;
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{Fixture, updated};
    use crate::scheduler::testing::make_pod;

    fn deploy(replicas: i32, surge: &str, unavailable: &str) -> Deployment {
        let mut template = make_pod("t", &[("cpu", 100)]);
        template.labels.insert("app".into(), "web".into());
        Deployment {
            meta: Meta { name: "web".into(), namespace: "default".into(), ..Default::default() },
            spec: DeploymentSpec {
                replicas,
                selector: LabelSelector {
                    match_labels: [("app".to_string(), "web".to_string())].into(),
                    ..Default::default()
                },
                template,
                strategy: Strategy::RollingUpdate {
                    max_surge: IntOrPercent::parse(surge).unwrap(),
                    max_unavailable: IntOrPercent::parse(unavailable).unwrap(),
                },
                min_ready_seconds: 0,
                revision_history_limit: 10,
                progress_deadline_seconds: 600,
                paused: false,
            },
            status: Default::default(),
        }
    }

    /// Stores `d` and an RS of it with `replicas`, all available (as if rolled out with `image`).
    fn with_rs(f: &mut Fixture, d: &Deployment, image: &str, replicas: i32, available: i32) -> u64 {
        let mut dd = d.clone();
        dd.spec.template.containers[0].image = image.into();
        let hash = template_hash(&dd.spec.template);
        let mut rs = new_replica_set(&dd, &hash, replicas, 1);
        set_replica_annotations(&mut rs, d.spec.replicas, d.spec.replicas + max_surge(&d.spec));
        rs.status = super::super::replicaset::ReplicaSetStatus {
            replicas,
            ready_replicas: available,
            available_replicas: available,
        };
        f.add(Workload::ReplicaSet(rs))
    }

    fn rs_updates(actions: &[Action]) -> Vec<(String, i32)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Update(w) | Action::Create(w) => match &**w {
                    Workload::ReplicaSet(r) => Some((r.spec.template.containers[0].image.clone(), r.spec.replicas)),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down_and_never_both_zero() {
        let table = [
            (10, "25%", "25%", (3, 2)),
            (1, "25%", "25%", (1, 0)),
            (4, "0", "25%", (0, 1)),
            (3, "0%", "25%", (0, 1)),
            (100, "1", "0", (1, 0)),
            (7, "50%", "50%", (4, 3)),
            (0, "25%", "25%", (0, 1)),
        ];
        for (replicas, s, u, want) in table {
            let got = resolve_fenceposts(&IntOrPercent::parse(s).unwrap(), &IntOrPercent::parse(u).unwrap(), replicas);
            assert_eq!(got, want, "replicas {replicas}, maxSurge {s}, maxUnavailable {u}");
        }
        assert_eq!(max_unavailable(&deploy(0, "25%", "25%").spec), 0, "no replicas, nothing unavailable");
        assert_eq!(max_unavailable(&deploy(2, "0", "5").spec), 2, "capped at replicas");
    }

    #[test]
    fn the_new_replicaset_grows_up_to_replicas_plus_surge() {
        let d = deploy(10, "3", "2");
        assert_eq!(new_rs_new_replicas(&d.spec, 10, 0), 3);
        assert_eq!(new_rs_new_replicas(&d.spec, 13, 3), 3, "at the surge limit");
        assert_eq!(new_rs_new_replicas(&d.spec, 11, 3), 5);
        assert_eq!(new_rs_new_replicas(&d.spec, 10, 9), 10, "never above replicas");
    }

    #[test]
    fn a_new_template_creates_a_new_replicaset_and_scales_the_old_one_down_by_max_unavailable() {
        let mut f = Fixture::new(1);
        let d = deploy(10, "25%", "25%");
        let uid = f.add(Workload::Deployment(d.clone()));
        let Some(Workload::Deployment(d)) = f.store.by_uid(uid).cloned() else { panic!() };
        with_rs(&mut f, &d, "v1", 10, 10);
        let mut d2 = d.clone();
        d2.spec.template.containers[0].image = "v2".into();
        let acts = sync(&f.ctx(), &d2);
        let got = rs_updates(&acts);
        assert!(got.contains(&("v2".into(), 3)), "new RS at surge 3: {got:?}");
        assert!(got.contains(&("v1".into(), 8)), "old RS down by maxUnavailable 2: {got:?}");
        let new_rs = acts.iter().find_map(|a| match a {
            Action::Create(w) => Some(w.meta().clone()),
            _ => None,
        });
        let m = new_rs.expect("a ReplicaSet is created");
        assert_eq!(m.annotations.get(ANNOTATION_REVISION).map(String::as_str), Some("2"));
        assert!(m.name.starts_with("web-"));
    }

    #[test]
    fn recreate_scales_old_replicasets_to_zero_and_waits_for_their_pods() {
        let mut f = Fixture::new(1);
        let mut d = deploy(3, "25%", "25%");
        d.spec.strategy = Strategy::Recreate;
        let uid = f.add(Workload::Deployment(d));
        let Some(Workload::Deployment(d)) = f.store.by_uid(uid).cloned() else { panic!() };
        let old = with_rs(&mut f, &d, "v1", 3, 3);
        let pod = f.pod(old, "old-0", Some(0), true, Some(0));
        let mut d2 = d.clone();
        d2.spec.template.containers[0].image = "v2".into();
        assert_eq!(rs_updates(&sync(&f.ctx(), &d2)), vec![("v1".to_string(), 0)]);
        // Old RS at 0 but its pod still runs: nothing created yet.
        if let Some(Workload::ReplicaSet(r)) = f.store.by_uid(old).cloned() {
            let mut r = r;
            r.spec.replicas = 0;
            f.store.update(Workload::ReplicaSet(r));
        }
        assert!(rs_updates(&sync(&f.ctx(), &d2)).iter().all(|(img, _)| img != "v2"));
        f.cluster.terminate(pod, crate::cluster::PodPhase::Deleted, SimTime(1));
        assert!(rs_updates(&sync(&f.ctx(), &d2)).contains(&("v2".to_string(), 3)));
    }

    #[test]
    fn scaling_during_a_rollout_is_proportional() {
        let mut f = Fixture::new(1);
        let d = deploy(10, "3", "2");
        let uid = f.add(Workload::Deployment(d.clone()));
        let Some(Workload::Deployment(mut d)) = f.store.by_uid(uid).cloned() else { panic!() };
        with_rs(&mut f, &d, "v1", 8, 8);
        d.spec.template.containers[0].image = "v2".into();
        with_rs(&mut f, &d, "v2", 5, 0);
        // Scale 10 → 20: allowed 20 + 3 = 23 (maxSurge "3"), 10 to add in proportion 8:5 of 13.
        d.spec.replicas = 20;
        let got = rs_updates(&sync(&f.ctx(), &d));
        // v1: round(8·23/13) = 14 (+6); v2: round(5·23/13) = 9 (+4).
        assert!(got.contains(&("v1".to_string(), 14)), "{got:?}");
        assert!(got.contains(&("v2".to_string(), 9)), "{got:?}");
    }

    #[test]
    fn a_stalled_rollout_is_marked_progress_deadline_exceeded() {
        let mut f = Fixture::new(1);
        let mut d = deploy(2, "1", "0");
        d.spec.progress_deadline_seconds = 60;
        let uid = f.add(Workload::Deployment(d));
        let Some(Workload::Deployment(mut d)) = f.store.by_uid(uid).cloned() else { panic!() };
        with_rs(&mut f, &d, "v1", 2, 2);
        d.spec.template.containers[0].image = "v2".into();
        d.status = DeploymentStatus {
            replicas: 3,
            updated_replicas: 1,
            unavailable_replicas: 1,
            available_replicas: 2,
            ready_replicas: 2,
            progressing: true,
            progressing_reason: "ReplicaSetUpdated".into(),
            last_progress: SimTime::ZERO,
        };
        with_rs(&mut f, &d, "v2", 1, 0);
        f.now = SimTime(30 * 1_000_000);
        let acts = sync(&f.ctx(), &d);
        assert!(acts.contains(&Action::RequeueAfter(SimDuration::from_secs(31))), "{acts:?}");
        f.now = SimTime(61 * 1_000_000);
        let acts = sync(&f.ctx(), &d);
        let Some(Workload::Deployment(s)) = updated(&acts) else { panic!("{acts:?}") };
        assert!(!s.status.progressing);
        assert_eq!(s.status.progressing_reason, "ProgressDeadlineExceeded");
    }

    #[test]
    fn old_replicasets_beyond_the_history_limit_are_deleted_once_complete() {
        let mut f = Fixture::new(1);
        let mut d = deploy(1, "1", "0");
        d.spec.revision_history_limit = 1;
        let uid = f.add(Workload::Deployment(d));
        let Some(Workload::Deployment(mut d)) = f.store.by_uid(uid).cloned() else { panic!() };
        with_rs(&mut f, &d, "v1", 0, 0);
        with_rs(&mut f, &d, "v2", 0, 0);
        d.spec.template.containers[0].image = "v3".into();
        with_rs(&mut f, &d, "v3", 1, 1);
        d.status = DeploymentStatus { replicas: 1, updated_replicas: 1, available_replicas: 1, ..Default::default() };
        let acts = sync(&f.ctx(), &d);
        let deletes: Vec<_> = acts.iter().filter(|a| matches!(a, Action::Delete(_))).collect();
        assert_eq!(deletes.len(), 1, "{acts:?}");
    }
}
