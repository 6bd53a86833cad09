//! The generic CSV trace: one pod a row, for users who bring their own workload.
//!
//! The first line is a header; columns may come in any order and only `name` and `arrival_s`
//! are required:
//!
//! | column | meaning | empty or absent |
//! |---|---|---|
//! | `name` | pod name, unique within the file | required |
//! | `namespace` | namespace | the source's namespace (`default`) |
//! | `arrival_s` | creation time, seconds (decimals allowed) | required |
//! | `duration_s` | run time once started, seconds | runs until the end |
//! | `cpu` | CPU request, Kubernetes quantity (`500m`, `2`) | no CPU request |
//! | `memory` | memory request, Kubernetes quantity (`512Mi`, `1G`, `1073741824`) | no memory request |
//! | `gpus` | whole GPUs (`nvidia.com/gpu`), or the GPU count of a shared GPU | 0 |
//! | `gpu_milli` | share of one GPU in thousandths, 1..999 (GPU sharing) | whole GPUs |
//! | `gpu_models` | accepted GPU models, `|`-separated (label `alibabacloud.com/gpu-card-model`) | any |
//! | `priority` | pod priority (integer) | 0 |
//! | `job` | workflow job the pod belongs to (pods of a job complete together) | the pod alone |
//! | `workflow` | workflow the job belongs to (for per-workflow figures) | the job's name |
//! | `depends_on` | `|`-separated jobs (or pod names) that must complete before this pod starts | none |
//!
//! Times are shifted so that the earliest arrival is zero.

use crate::input::error::InputError;
use crate::model::pod::OwnerRef;
use crate::model::quantity::{parse_bytes, parse_cpu_millis};
use crate::model::resources::{CPU, MEMORY};
use crate::model::selector::Labels;
use crate::trace::rows::{LoadOptions, Rows, finish, full, gpu_requests, make_pod, secs_to_us, trace_pod};
use crate::trace::{ANNOTATION_GPU_CARD_MODEL, Trace};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The owner kind given to pods that belong to a workflow job.
pub const OWNER_KIND_WORKFLOW_JOB: &str = "WorkflowJob";

/// Loads a generic CSV trace.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Trace, InputError> {
    let mut rows = Rows::open(path, &["name", "arrival_s"], true, false)?;
    opts.validate(rows.file())?;
    let file = rows.file().to_string();
    let mut trace = Trace::default();
    let mut names = BTreeSet::new();
    while let Some(row) = rows.next_row()? {
        if full(trace.pods.len() as u64, opts, &file, row.line)? {
            break;
        }
        let name = row.required_str("name")?.to_string();
        let namespace = row.opt_str("namespace")?.unwrap_or(&opts.namespace).to_string();
        if !names.insert((namespace.clone(), name.clone())) {
            return Err(row.error("name", format!("a pod named {namespace}/{name} appears twice")));
        }
        let arrival = secs_to_us(row.f64("arrival_s")?);
        let duration = if row.has("duration_s") { row.opt_f64("duration_s")?.map(secs_to_us) } else { None };
        let mut req = BTreeMap::new();
        if let Some(c) = row.opt_str("cpu")? {
            let v = parse_cpu_millis(c).map_err(|e| row.error("cpu", format!("{c:?}: {e}")))?;
            req.insert(CPU.to_string(), v);
        }
        if let Some(m) = row.opt_str("memory")? {
            let v = parse_bytes(m).map_err(|e| row.error("memory", format!("{m:?}: {e}")))?;
            req.insert(MEMORY.to_string(), v);
        }
        let gpus = if row.has("gpus") { row.opt_u64("gpus")?.unwrap_or(0) } else { 0 };
        let milli = if row.has("gpu_milli") { row.opt_u64("gpu_milli")?.unwrap_or(0) } else { 0 };
        if milli >= 1000 || (milli > 0 && gpus > 1) {
            return Err(row.error(
                "gpu_milli",
                format!(
                    "a GPU share is 1..999 thousandths of one GPU (gpus 0 or 1), got gpu_milli {milli} with gpus {gpus}"
                ),
            ));
        }
        if gpus > 1 << 20 {
            return Err(row.error("gpus", format!("{gpus} GPUs is more than any node has")));
        }
        gpu_requests(&mut req, gpus as i64, milli as i64);
        let mut labels = Labels::new();
        if let Some(models) = row.opt_str("gpu_models")? {
            labels.insert(ANNOTATION_GPU_CARD_MODEL.into(), models.to_string());
        }
        let priority = match row.opt_str("priority")? {
            None => 0,
            Some(p) => {
                p.parse::<i32>().map_err(|_| row.error("priority", format!("expected an integer, got {p:?}")))?
            }
        };
        if let Some(w) = row.opt_str("workflow")? {
            labels.insert(crate::workflow::LABEL_WORKFLOW.into(), w.to_string());
        }
        let mut pod = make_pod(name, &namespace, labels, req, priority, duration);
        if let Some(models) = row.opt_str("gpu_models")? {
            pod.annotations.insert(ANNOTATION_GPU_CARD_MODEL.into(), models.to_string());
        }
        if let Some(job) = row.opt_str("job")? {
            pod.owner = Some(OwnerRef { kind: OWNER_KIND_WORKFLOW_JOB.into(), name: job.to_string(), uid: 0 });
        }
        let mut tp = trace_pod(pod, arrival, None, row.line);
        if let Some(deps) = row.opt_str("depends_on")? {
            for d in deps.split('|').map(str::trim) {
                if d.is_empty() {
                    return Err(row.error("depends_on", "an empty name in the `|`-separated list"));
                }
                tp.depends_on.push(d.to_string());
            }
        }
        trace.pods.push(tp);
    }
    Ok(finish(trace, opts))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::trace::{RESOURCE_GPU_COUNT, RESOURCE_GPU_MILLI, RESOURCE_NVIDIA_GPU};
    use std::io::Write;

    pub(crate) fn write_tmp(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::File::create(&p).unwrap().write_all(text.as_bytes()).unwrap();
        (dir, p)
    }

    #[test]
    fn rows_become_pods_sorted_by_arrival_then_name_with_times_shifted_to_zero() {
        let (_d, p) = write_tmp(
            "t.csv",
            "name,arrival_s,duration_s,cpu,memory,gpus,gpu_milli,priority\n\
             b,12.5,10,500m,1Gi,,,3\n\
             a,12.5,,2,512Mi,2,,\n\
             c,10,1.5,,,1,250,\n",
        );
        let t = load(&p, &LoadOptions::default()).unwrap();
        let names: Vec<&str> = t.pods.iter().map(|p| p.pod.name.as_str()).collect();
        assert_eq!(names, ["c", "a", "b"]);
        let times: Vec<u64> = t.pods.iter().map(|p| p.created_us).collect();
        assert_eq!(times, [0, 2_500_000, 2_500_000]);
        let c = &t.pods[0].pod;
        assert_eq!(c.requests.get(RESOURCE_GPU_MILLI), 250);
        assert_eq!(c.requests.get(RESOURCE_GPU_COUNT), 1);
        let a = &t.pods[1].pod;
        assert_eq!((a.requests.cpu_millis, a.requests.memory_bytes), (2000, 512 << 20));
        assert_eq!(a.requests.get(RESOURCE_NVIDIA_GPU), 2);
        assert!(a.run.run_duration.is_none(), "no duration: runs until the end");
        let b = &t.pods[2].pod;
        assert_eq!(b.priority, 3);
        assert_eq!(b.run.run_duration.as_ref().map(|d| d.mean_micros()), Some(10e6));
        assert_eq!(t.pods[2].line, 2);
    }

    #[test]
    fn jobs_and_dependencies_are_read() {
        let (_d, p) = write_tmp("t.csv", "name,arrival_s,job,depends_on\nx,0,j1,\ny,0,j2,j1| x\n");
        let t = load(&p, &LoadOptions::default()).unwrap();
        assert_eq!(t.pods[1].depends_on, ["j1", "x"]);
        assert_eq!(t.pods[1].pod.owner.as_ref().map(|o| o.name.as_str()), Some("j2"));
    }

    #[test]
    fn the_limit_keeps_the_first_rows_and_time_scale_compresses_time() {
        let (_d, p) = write_tmp("t.csv", "name,arrival_s,duration_s\na,0,10\nb,10,10\nc,20,10\n");
        let opts = LoadOptions { limit: Some(2), time_scale: 0.5, ..Default::default() };
        let t = load(&p, &opts).unwrap();
        assert_eq!(t.pods.len(), 2);
        assert_eq!(t.pods[1].created_us, 5_000_000);
        assert_eq!(t.pods[1].pod.run.run_duration.as_ref().map(|d| d.mean_micros()), Some(5e6));
    }

    #[test]
    fn malformed_rows_name_the_file_line_and_column() {
        let cases = [
            ("name,arrival_s,cpu\na,1,2\nb,x,1\n", 3, "arrival_s", "expected a number"),
            ("name,arrival_s,cpu\na,-1,2\n", 2, "arrival_s", "must not be negative"),
            ("name,arrival_s,cpu\na,1,lots\n", 2, "cpu", "\"lots\""),
            ("name,arrival_s,cpu\na,1,-2\n", 2, "cpu", "negative"),
            ("name,arrival_s,cpu\na\n", 2, "arrival_s", "missing column"),
            ("name,arrival_s\na,1\na,2\n", 3, "name", "appears twice"),
            ("name,arrival_s,gpus,gpu_milli\na,1,2,500\n", 2, "gpu_milli", "GPU share"),
        ];
        for (text, line, field, msg) in cases {
            let (_d, p) = write_tmp("bad.csv", text);
            let e = load(&p, &LoadOptions::default()).unwrap_err();
            assert!(e.file.ends_with("bad.csv"), "{e}");
            assert_eq!(e.line, Some(line), "{text}: {e}");
            assert_eq!(e.field.as_deref(), Some(field), "{text}: {e}");
            assert!(e.message.contains(msg), "{text}: {e}");
        }
    }

    #[test]
    fn a_header_without_a_required_column_is_an_error() {
        let (_d, p) = write_tmp("t.csv", "name,when\na,1\n");
        let e = load(&p, &LoadOptions::default()).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("no column `arrival_s`"), "{e}");
    }
}
