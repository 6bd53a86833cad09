//! The `workloads.workflows` scenario entry: workflows declared inline.
//!
//! ```yaml
//! workloads:
//!   workflows:
//!   - name: etl
//!     start: 10s              # earliest start of every job (default 0s)
//!     jobs:
//!     - name: extract
//!       pods: 2               # pods of the job (default 1)
//!       duration: 30s         # run time of each pod once started
//!       template:             # a Pod manifest (kind and name may be omitted)
//!         spec: {containers: [{name: c, resources: {requests: {cpu: "1"}}}]}
//!     - name: transform
//!       dependsOn: [extract]  # jobs of the same workflow
//!       duration: 1m
//!       template: ...
//! ```
//!
//! Pods are named `<workflow>-<job>-<i>`, owned by the workflow job `<workflow>.<job>` (owner
//! kind `WorkflowJob`) and labelled [`LABEL_WORKFLOW`](super::LABEL_WORKFLOW)` = <workflow>`.

use crate::engine::time::SimTime;
use crate::input::go_duration::GoDuration;
use crate::input::manifest::{ManifestSet, PodManifest, pod_from_manifest};
use crate::model::dist::DurationDist;
use crate::model::pod::OwnerRef;
use crate::trace::generic::OWNER_KIND_WORKFLOW_JOB;
use crate::workflow::{JobSpec, LABEL_WORKFLOW};
use serde::Deserialize;

/// Most pods one declared workflow job may have.
pub const MAX_PODS_PER_JOB: u64 = 1_000_000;

/// One job of a declared workflow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkflowJobYaml {
    /// Job name, unique within the workflow.
    pub name: String,
    /// Number of pods (default 1).
    #[serde(default = "one")]
    pub pods: u64,
    /// Run time of each pod once started (absent: the template's annotation, else until the end).
    #[serde(default)]
    pub duration: Option<GoDuration>,
    /// Earliest start of this job (default: the workflow's `start`).
    #[serde(default)]
    pub start: Option<GoDuration>,
    /// Jobs of the same workflow that must complete first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// The pod template.
    pub template: PodManifest,
}

fn one() -> u64 {
    1
}

/// A declared workflow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkflowYaml {
    /// Workflow name (unique in the scenario).
    pub name: String,
    /// Earliest start of its jobs (default 0s).
    #[serde(default)]
    pub start: Option<GoDuration>,
    /// Its jobs.
    pub jobs: Vec<WorkflowJobYaml>,
}

/// Compiles declared workflows into jobs; errors are `(field path, message)`.
pub fn compile(specs: &[WorkflowYaml], set: &ManifestSet) -> Result<Vec<JobSpec>, (String, String)> {
    let mut out = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for (wi, w) in specs.iter().enumerate() {
        let wf = format!("workloads.workflows[{wi}]");
        if w.name.is_empty() || !names.insert(w.name.clone()) {
            return Err((format!("{wf}.name"), "each workflow needs a unique, non-empty name".into()));
        }
        let mut jobs = std::collections::BTreeSet::new();
        for j in &w.jobs {
            jobs.insert(j.name.as_str());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (ji, j) in w.jobs.iter().enumerate() {
            let field = format!("{wf}.jobs[{ji}]");
            if j.name.is_empty() || !seen.insert(j.name.as_str()) {
                return Err((
                    format!("{field}.name"),
                    "each job needs a unique, non-empty name in its workflow".into(),
                ));
            }
            if j.pods > MAX_PODS_PER_JOB {
                return Err((
                    format!("{field}.pods"),
                    format!("at most {MAX_PODS_PER_JOB} pods per job (kubesim::workflow::spec::MAX_PODS_PER_JOB)"),
                ));
            }
            for d in &j.depends_on {
                if !jobs.contains(d.as_str()) {
                    return Err((
                        format!("{field}.dependsOn"),
                        format!("no job of workflow {:?} is named {d:?}", w.name),
                    ));
                }
            }
            let group = format!("{}.{}", w.name, j.name);
            let mut tm = j.template.clone();
            if tm.metadata.name.is_empty() {
                tm.metadata.name = group.clone();
            }
            let mut template = pod_from_manifest(&tm, set).map_err(|e| (format!("{field}.template"), e))?;
            if let Some(d) = &j.duration {
                template.run.run_duration = Some(DurationDist::Constant(*d));
            }
            template.labels.insert(LABEL_WORKFLOW.into(), w.name.clone());
            template.owner = Some(OwnerRef { kind: OWNER_KIND_WORKFLOW_JOB.into(), name: group.clone(), uid: 0 });
            let pods: Vec<_> = (0..j.pods)
                .map(|i| {
                    let mut p = template.clone();
                    p.name = format!("{}-{}-{i}", w.name, j.name);
                    p
                })
                .collect();
            let start = j.start.as_ref().or(w.start.as_ref()).map(|d| d.0).unwrap_or(0);
            out.push(JobSpec {
                workflow: w.name.clone(),
                name: group,
                arrival: SimTime(start),
                duration_us: crate::workflow::pod_duration_us(&template),
                pods,
                depends_on: j.depends_on.iter().map(|d| format!("{}.{d}", w.name)).collect(),
            });
        }
    }
    Ok(out)
}
