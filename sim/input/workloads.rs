//! Workload manifests (apps/v1 Deployment, ReplicaSet, DaemonSet, StatefulSet; batch/v1 Job,
//! CronJob): their YAML shapes, API-server defaults, validation (errors name the file, the
//! document's line and the field), and conversion into [`crate::controllers::Workload`]. The pod
//! template goes through the Pod manifest conversion ([`pod_from_manifest`]).

use crate::controllers::{IntOrPercent, Meta, Workload};
use crate::input::error::InputError;
use crate::input::manifest::{ManifestSet, ObjectMeta, PodManifest, PodSpecManifest, pod_from_manifest};
use crate::input::yaml::{Document, parse_document};
use crate::model::pod::{Pod, RestartPolicy};
use crate::model::selector::LabelSelector;
use serde::Deserialize;

/// The workload kinds this loader understands.
pub const WORKLOAD_KINDS: &[&str] = &["Deployment", "ReplicaSet", "Job", "CronJob", "DaemonSet", "StatefulSet"];

/// `spec.template` of a workload.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateManifest {
    /// `metadata` (labels, annotations).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: PodSpecManifest,
}

/// `rollingUpdate` of a Deployment or DaemonSet.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdateManifest {
    /// `maxSurge`.
    #[serde(default)]
    pub max_surge: Option<IntOrPercent>,
    /// `maxUnavailable`.
    #[serde(default)]
    pub max_unavailable: Option<IntOrPercent>,
    /// `partition` (StatefulSet).
    #[serde(default)]
    pub partition: Option<i32>,
}

/// `strategy` / `updateStrategy`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StrategyManifest {
    /// `type`.
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    /// `rollingUpdate`.
    #[serde(default)]
    pub rolling_update: Option<RollingUpdateManifest>,
}

/// `spec` of every workload kind (each kind reads its own fields; the others are reported as
/// unknown by [`check_fields`]).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSpecManifest {
    /// `replicas`.
    #[serde(default)]
    pub replicas: Option<i32>,
    /// `selector`.
    #[serde(default)]
    pub selector: Option<LabelSelector>,
    /// `template`.
    #[serde(default)]
    pub template: Option<PodTemplateManifest>,
    /// `minReadySeconds`.
    #[serde(default)]
    pub min_ready_seconds: Option<i32>,
    /// `strategy` (Deployment).
    #[serde(default)]
    pub strategy: Option<StrategyManifest>,
    /// `updateStrategy` (DaemonSet, StatefulSet).
    #[serde(default)]
    pub update_strategy: Option<StrategyManifest>,
    /// `revisionHistoryLimit`.
    #[serde(default)]
    pub revision_history_limit: Option<i32>,
    /// `progressDeadlineSeconds`.
    #[serde(default)]
    pub progress_deadline_seconds: Option<i32>,
    /// `paused`.
    #[serde(default)]
    pub paused: Option<bool>,
    /// `podManagementPolicy` (StatefulSet).
    #[serde(default)]
    pub pod_management_policy: Option<String>,
    /// `serviceName` (StatefulSet).
    #[serde(default)]
    pub service_name: Option<String>,
    /// `volumeClaimTemplates` (StatefulSet).
    #[serde(default)]
    pub volume_claim_templates: Vec<crate::input::volumes::ClaimTemplateManifest>,
    /// `parallelism` (Job).
    #[serde(default)]
    pub parallelism: Option<i32>,
    /// `completions` (Job).
    #[serde(default)]
    pub completions: Option<i32>,
    /// `backoffLimit` (Job).
    #[serde(default)]
    pub backoff_limit: Option<i32>,
    /// `activeDeadlineSeconds` (Job).
    #[serde(default)]
    pub active_deadline_seconds: Option<i64>,
    /// `completionMode` (Job).
    #[serde(default)]
    pub completion_mode: Option<String>,
    /// `suspend` (Job, CronJob).
    #[serde(default)]
    pub suspend: Option<bool>,
    /// `ttlSecondsAfterFinished` (Job).
    #[serde(default)]
    pub ttl_seconds_after_finished: Option<i32>,
    /// `schedule` (CronJob).
    #[serde(default)]
    pub schedule: Option<String>,
    /// `timeZone` (CronJob).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// `concurrencyPolicy` (CronJob).
    #[serde(default)]
    pub concurrency_policy: Option<String>,
    /// `startingDeadlineSeconds` (CronJob).
    #[serde(default)]
    pub starting_deadline_seconds: Option<i64>,
    /// `successfulJobsHistoryLimit` (CronJob).
    #[serde(default)]
    pub successful_jobs_history_limit: Option<i32>,
    /// `failedJobsHistoryLimit` (CronJob).
    #[serde(default)]
    pub failed_jobs_history_limit: Option<i32>,
    /// `jobTemplate` (CronJob).
    #[serde(default)]
    pub job_template: Option<Box<JobTemplateManifest>>,
}

/// `jobTemplate` of a CronJob.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobTemplateManifest {
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: WorkloadSpecManifest,
}

/// A workload manifest of any of [`WORKLOAD_KINDS`].
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadManifest {
    /// `apiVersion`.
    #[serde(default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: WorkloadSpecManifest,
}

/// A parsed workload manifest with where it came from (converted once every PriorityClass of the
/// inputs is known).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingWorkload {
    /// The manifest.
    pub manifest: WorkloadManifest,
    /// File name.
    pub file: String,
    /// Line of the document's first line.
    pub line: u64,
}

/// Parses a workload document into `set` (conversion happens in [`convert`]).
pub fn add_document(set: &mut ManifestSet, doc: &Document<'_>, file: &str) -> Result<(), InputError> {
    let p = parse_document::<WorkloadManifest>(doc, file)?;
    let kind = p.value.kind.clone();
    for f in &p.ignored {
        set.ignored.insert(format!("{kind}: {f}"));
    }
    let mut m = p.value;
    set.generate_name(&mut m.metadata);
    set.workloads.push(PendingWorkload { manifest: m, file: file.to_string(), line: doc.line_offset + 1 });
    Ok(())
}

fn field_err(p: &PendingWorkload, field: &str, msg: impl Into<String>) -> InputError {
    InputError::at(
        p.file.clone(),
        p.line,
        1,
        field,
        format!("{} {:?}: {}", p.manifest.kind, p.manifest.metadata.name, msg.into()),
    )
}

const APPS_KINDS: &[&str] = &["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"];

/// Converts a parsed workload manifest, with defaults and validation.
pub fn convert(p: &PendingWorkload, set: &ManifestSet) -> Result<Workload, InputError> {
    use crate::controllers::{cronjob, daemonset, deployment, job, replicaset, statefulset};
    let m = &p.manifest;
    let kind = m.kind.as_str();
    let want_api = if APPS_KINDS.contains(&kind) { "apps/v1" } else { "batch/v1" };
    if !m.api_version.is_empty() && m.api_version != want_api {
        return Err(field_err(p, "apiVersion", format!("expected {want_api:?}, got {:?}", m.api_version)));
    }
    if m.metadata.name.is_empty() {
        return Err(field_err(p, "metadata.name", "a name is required"));
    }
    let namespace = m.metadata.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into());
    let meta = Meta {
        name: m.metadata.name.clone(),
        namespace: namespace.clone(),
        labels: m.metadata.labels.clone(),
        annotations: m.metadata.annotations.clone(),
        ..Default::default()
    };
    let s = &m.spec;
    let nonneg = |v: Option<i32>, field: &str, default: i32| -> Result<i32, InputError> {
        match v {
            Some(x) if x < 0 => Err(field_err(p, field, format!("must be greater than or equal to 0, got {x}"))),
            Some(x) => Ok(x),
            None => Ok(default),
        }
    };
    let min_ready_seconds = nonneg(s.min_ready_seconds, "spec.minReadySeconds", 0)?;
    match kind {
        "Job" => Ok(Workload::Job(job::Job::new(meta, job_spec(p, s, "spec", set, &namespace)?))),
        "CronJob" => {
            let schedule_text = s.schedule.clone().unwrap_or_default();
            let schedule = cronjob::Schedule::parse(&schedule_text)
                .map_err(|e| field_err(p, "spec.schedule", format!("{schedule_text:?}: {e}")))?;
            if s.time_zone.as_deref().is_some_and(|z| z != "UTC" && z != "Etc/UTC") {
                return Err(field_err(p, "spec.timeZone", "only UTC is supported (simulated time has no zone)"));
            }
            let concurrency_policy = match s.concurrency_policy.as_deref() {
                None | Some("Allow") => cronjob::ConcurrencyPolicy::Allow,
                Some("Forbid") => cronjob::ConcurrencyPolicy::Forbid,
                Some("Replace") => cronjob::ConcurrencyPolicy::Replace,
                Some(o) => {
                    return Err(field_err(
                        p,
                        "spec.concurrencyPolicy",
                        format!("{o:?} is not one of Allow, Forbid, Replace"),
                    ));
                }
            };
            let jt =
                s.job_template.as_ref().ok_or_else(|| field_err(p, "spec.jobTemplate", "a jobTemplate is required"))?;
            let job_template = job_spec(p, &jt.spec, "spec.jobTemplate.spec", set, &namespace)?;
            Ok(Workload::CronJob(cronjob::CronJob {
                meta,
                spec: cronjob::CronJobSpec {
                    schedule,
                    schedule_text,
                    concurrency_policy,
                    starting_deadline_seconds: s.starting_deadline_seconds,
                    successful_jobs_history_limit: nonneg(
                        s.successful_jobs_history_limit,
                        "spec.successfulJobsHistoryLimit",
                        3,
                    )?,
                    failed_jobs_history_limit: nonneg(s.failed_jobs_history_limit, "spec.failedJobsHistoryLimit", 1)?,
                    suspend: s.suspend.unwrap_or(false),
                    job_labels: jt.metadata.labels.clone(),
                    job_template,
                },
                status: Default::default(),
            }))
        }
        "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet" => {
            let selector = s.selector.clone().ok_or_else(|| field_err(p, "spec.selector", "a selector is required"))?;
            if selector.is_empty() {
                return Err(field_err(p, "spec.selector", "empty selector is invalid for deployment"));
            }
            selector.validate().map_err(|e| field_err(p, "spec.selector", e.to_string()))?;
            let template = template_pod(p, s, "spec.template", set, &namespace)?;
            if !selector.matches(&template.labels) {
                return Err(field_err(
                    p,
                    "spec.template.metadata.labels",
                    "`selector` does not match template `labels`",
                ));
            }
            if template.restart_policy != RestartPolicy::Always {
                return Err(field_err(p, "spec.template.spec.restartPolicy", "only \"Always\" is supported"));
            }
            let replicas = nonneg(s.replicas, "spec.replicas", 1)?;
            match kind {
                "ReplicaSet" => Ok(Workload::ReplicaSet(replicaset::ReplicaSet {
                    meta,
                    spec: replicaset::ReplicaSetSpec { replicas, min_ready_seconds, selector, template },
                    status: Default::default(),
                })),
                "Deployment" => {
                    let strategy = deployment_strategy(p, s.strategy.as_ref(), replicas)?;
                    Ok(Workload::Deployment(deployment::Deployment {
                        meta,
                        spec: deployment::DeploymentSpec {
                            replicas,
                            selector,
                            template,
                            strategy,
                            min_ready_seconds,
                            revision_history_limit: nonneg(s.revision_history_limit, "spec.revisionHistoryLimit", 10)?,
                            progress_deadline_seconds: nonneg(
                                s.progress_deadline_seconds,
                                "spec.progressDeadlineSeconds",
                                600,
                            )?,
                            paused: s.paused.unwrap_or(false),
                        },
                        status: Default::default(),
                    }))
                }
                "DaemonSet" => {
                    let update = match s.update_strategy.as_ref().and_then(|u| u.type_.as_deref()) {
                        None | Some("RollingUpdate") => {
                            let ru =
                                s.update_strategy.as_ref().and_then(|u| u.rolling_update.clone()).unwrap_or_default();
                            let max_unavailable = ru.max_unavailable.unwrap_or(IntOrPercent::Int(1));
                            let max_surge = ru.max_surge.unwrap_or(IntOrPercent::Int(0));
                            check_surge_unavailable(
                                p,
                                "spec.updateStrategy.rollingUpdate",
                                &max_surge,
                                &max_unavailable,
                                1,
                            )?;
                            daemonset::UpdateStrategy::RollingUpdate { max_unavailable, max_surge }
                        }
                        Some("OnDelete") => daemonset::UpdateStrategy::OnDelete,
                        Some(o) => {
                            return Err(field_err(
                                p,
                                "spec.updateStrategy.type",
                                format!("{o:?} is not one of RollingUpdate, OnDelete"),
                            ));
                        }
                    };
                    Ok(Workload::DaemonSet(daemonset::DaemonSet::new(
                        meta,
                        daemonset::DaemonSetSpec { selector, template, min_ready_seconds, update },
                    )))
                }
                _ => {
                    let pod_management = match s.pod_management_policy.as_deref() {
                        None | Some("OrderedReady") => statefulset::PodManagement::OrderedReady,
                        Some("Parallel") => statefulset::PodManagement::Parallel,
                        Some(o) => {
                            return Err(field_err(
                                p,
                                "spec.podManagementPolicy",
                                format!("{o:?} is not one of OrderedReady, Parallel"),
                            ));
                        }
                    };
                    let update = match s.update_strategy.as_ref().and_then(|u| u.type_.as_deref()) {
                        None | Some("RollingUpdate") => {
                            let ru =
                                s.update_strategy.as_ref().and_then(|u| u.rolling_update.clone()).unwrap_or_default();
                            statefulset::UpdateStrategy::RollingUpdate {
                                partition: nonneg(ru.partition, "spec.updateStrategy.rollingUpdate.partition", 0)?,
                            }
                        }
                        Some("OnDelete") => statefulset::UpdateStrategy::OnDelete,
                        Some(o) => {
                            return Err(field_err(
                                p,
                                "spec.updateStrategy.type",
                                format!("{o:?} is not one of RollingUpdate, OnDelete"),
                            ));
                        }
                    };
                    Ok(Workload::StatefulSet(statefulset::StatefulSet::new(
                        meta,
                        statefulset::StatefulSetSpec {
                            replicas,
                            selector,
                            template,
                            pod_management,
                            update,
                            min_ready_seconds,
                            volume_claim_templates: s
                                .volume_claim_templates
                                .iter()
                                .enumerate()
                                .map(|(i, t)| {
                                    let f = format!("spec.volumeClaimTemplates[{i}].spec");
                                    crate::input::volumes::claim_template(&t.metadata.name, &t.spec, &f)
                                        .map_err(|(f, e)| field_err(p, &f, e))
                                })
                                .collect::<Result<_, _>>()?,
                        },
                    )))
                }
            }
        }
        other => Err(field_err(p, "kind", format!("{other:?} is not a workload kind"))),
    }
}

fn check_surge_unavailable(
    p: &PendingWorkload,
    field: &str,
    surge: &IntOrPercent,
    unavailable: &IntOrPercent,
    _replicas: i32,
) -> Result<(), InputError> {
    if surge.is_negative() {
        return Err(field_err(p, &format!("{field}.maxSurge"), "must be greater than or equal to 0"));
    }
    if unavailable.is_negative() {
        return Err(field_err(p, &format!("{field}.maxUnavailable"), "must be greater than or equal to 0"));
    }
    if let IntOrPercent::Percent(v) = unavailable
        && *v > 100
    {
        return Err(field_err(p, &format!("{field}.maxUnavailable"), "must not be greater than 100%"));
    }
    // Validation compares the raw values: both zero (as written) is an error.
    let zero = |v: &IntOrPercent| matches!(v, IntOrPercent::Int(0) | IntOrPercent::Percent(0));
    if zero(surge) && zero(unavailable) {
        return Err(field_err(p, &format!("{field}.maxUnavailable"), "may not be 0 when `maxSurge` is 0"));
    }
    Ok(())
}

fn deployment_strategy(
    p: &PendingWorkload,
    s: Option<&StrategyManifest>,
    replicas: i32,
) -> Result<crate::controllers::deployment::Strategy, InputError> {
    use crate::controllers::deployment::Strategy;
    let ty = s.and_then(|s| s.type_.as_deref()).unwrap_or("RollingUpdate");
    match ty {
        "Recreate" => {
            if s.and_then(|s| s.rolling_update.as_ref()).is_some() {
                return Err(field_err(
                    p,
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
            Ok(Strategy::Recreate)
        }
        "RollingUpdate" => {
            let ru = s.and_then(|s| s.rolling_update.clone()).unwrap_or_default();
            let max_surge = ru.max_surge.unwrap_or(IntOrPercent::Percent(25));
            let max_unavailable = ru.max_unavailable.unwrap_or(IntOrPercent::Percent(25));
            check_surge_unavailable(p, "spec.strategy.rollingUpdate", &max_surge, &max_unavailable, replicas)?;
            Ok(Strategy::RollingUpdate { max_surge, max_unavailable })
        }
        o => Err(field_err(p, "spec.strategy.type", format!("{o:?} is not one of RollingUpdate, Recreate"))),
    }
}

fn template_pod(
    p: &PendingWorkload,
    s: &WorkloadSpecManifest,
    field: &str,
    set: &ManifestSet,
    namespace: &str,
) -> Result<Pod, InputError> {
    let t = s.template.as_ref().ok_or_else(|| field_err(p, field, "a pod template is required"))?;
    let mut meta = t.metadata.clone();
    meta.name = p.manifest.metadata.name.clone();
    meta.namespace = Some(namespace.to_string());
    let pm = PodManifest { api_version: "v1".into(), kind: "Pod".into(), metadata: meta, spec: t.spec.clone() };
    pod_from_manifest(&pm, set).map_err(|e| field_err(p, field, e))
}

fn job_spec(
    p: &PendingWorkload,
    s: &WorkloadSpecManifest,
    field: &str,
    set: &ManifestSet,
    namespace: &str,
) -> Result<crate::controllers::job::JobSpec, InputError> {
    use crate::controllers::job::{CompletionMode, JobSpec};
    let template = template_pod(p, s, &format!("{field}.template"), set, namespace)?;
    if template.restart_policy == RestartPolicy::Always {
        return Err(field_err(
            p,
            &format!("{field}.template.spec.restartPolicy"),
            "a Job's pods need restartPolicy OnFailure or Never",
        ));
    }
    let nonneg = |v: Option<i32>, f: &str| -> Result<Option<i32>, InputError> {
        match v {
            Some(x) if x < 0 => {
                Err(field_err(p, &format!("{field}.{f}"), format!("must be greater than or equal to 0, got {x}")))
            }
            o => Ok(o),
        }
    };
    let parallelism = nonneg(s.parallelism, "parallelism")?;
    let completions = nonneg(s.completions, "completions")?;
    // Defaults (pkg/apis/batch/v1/defaults.go): both unset → 1 and 1; parallelism defaults to 1.
    let completions = if completions.is_none() && parallelism.is_none() { Some(1) } else { completions };
    let completion_mode = match s.completion_mode.as_deref() {
        None | Some("NonIndexed") => CompletionMode::NonIndexed,
        Some("Indexed") => {
            if completions.is_none() {
                return Err(field_err(p, &format!("{field}.completions"), "required when completionMode is Indexed"));
            }
            CompletionMode::Indexed
        }
        Some(o) => {
            return Err(field_err(
                p,
                &format!("{field}.completionMode"),
                format!("{o:?} is not one of NonIndexed, Indexed"),
            ));
        }
    };
    if let Some(d) = s.active_deadline_seconds
        && d <= 0
    {
        return Err(field_err(p, &format!("{field}.activeDeadlineSeconds"), "must be greater than 0"));
    }
    Ok(JobSpec {
        parallelism: parallelism.unwrap_or(1),
        completions,
        backoff_limit: nonneg(s.backoff_limit, "backoffLimit")?.unwrap_or(6),
        active_deadline_seconds: s.active_deadline_seconds,
        completion_mode,
        suspend: s.suspend.unwrap_or(false),
        ttl_seconds_after_finished: s.ttl_seconds_after_finished,
        template,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::deployment::Strategy;

    fn load(text: &str) -> Result<Vec<Workload>, InputError> {
        let mut set = ManifestSet::default();
        set.add_text(text, "w.yaml")?;
        set.workloads.iter().map(|p| convert(p, &set)).collect()
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 10\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: c, image: nginx, resources: {requests: {cpu: 100m}}}]\n";

    #[test]
    fn a_deployment_loads_with_upstream_defaults() {
        let w = load(DEPLOY).unwrap();
        let Workload::Deployment(d) = &w[0] else { panic!() };
        assert_eq!(d.spec.replicas, 10);
        assert_eq!(
            d.spec.strategy,
            Strategy::RollingUpdate {
                max_surge: IntOrPercent::Percent(25),
                max_unavailable: IntOrPercent::Percent(25)
            }
        );
        assert_eq!((d.spec.revision_history_limit, d.spec.progress_deadline_seconds), (10, 600));
        assert_eq!(d.spec.template.requests.cpu_millis, 100);
        assert_eq!(d.meta.namespace, "default");
    }

    #[test]
    fn max_surge_and_max_unavailable_both_zero_is_a_validation_error_naming_the_field() {
        let text = DEPLOY.replace(
            "  replicas: 10\n",
            "  replicas: 10\n  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: \"0%\"}}\n",
        );
        let e = load(&format!("# c\n---\n{text}")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("spec.strategy.rollingUpdate.maxUnavailable"), "{e}");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("may not be 0"), "{e}");
    }

    #[test]
    fn a_selector_that_does_not_match_the_template_is_an_error() {
        let e = load(&DEPLOY.replace("matchLabels: {app: web}", "matchLabels: {app: other}")).unwrap_err();
        assert!(e.message.contains("does not match"), "{e}");
    }

    #[test]
    fn a_job_needs_a_restart_policy_other_than_always() {
        let text = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: busybox}]\n";
        let e = load(text).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("spec.template.spec.restartPolicy"), "{e}");
        let ok = text.replace("      containers", "      restartPolicy: Never\n      containers");
        let Workload::Job(j) = &load(&ok).unwrap()[0] else { panic!() };
        assert_eq!((j.spec.parallelism, j.spec.completions, j.spec.backoff_limit), (1, Some(1), 6));
    }
}
