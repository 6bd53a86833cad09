//! The Alibaba 2025 DLRM serving trace (`disaggregated_DLRM_trace.csv`, cluster-trace-gpu-v2025).
//!
//! Columns (header required): `instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,
//! gpu_limit,rdma_request,rdma_limit,memory_request,memory_limit,disk_request,disk_limit,
//! max_instance_per_node,creation_time,scheduled_time,deletion_time`.
//!
//! Units as the upstream README gives them: CPU in vCPUs (→ millicores), GPUs whole devices
//! (→ `nvidia.com/gpu`), memory in GiB (→ bytes), times in seconds from the trace start. An
//! empty (or `NaN`) `creation_time` means the instance existed before the window began: it is
//! created at the window start (time 0 of the trace). An empty `deletion_time` means it outlived
//! the window: it is never deleted. `max_instance_per_node` (-1 = no cap) becomes
//! [`TracePod::max_per_node`](crate::trace::TracePod) and, on the pod, the annotation and group
//! label that the `MaxPerNode` filter of the research profiles enforces (group = `app_name`). `role` (`CN` / `HN`) and `app_name` become
//! the pod labels [`LABEL_ROLE`] and [`LABEL_APP`].
//!
//! **Simplified:** RDMA bandwidth and disk are not requested (no node in a scenario advertises
//! them); limits are not modelled (they equal the requests in this trace); instances are
//! services, so they run until their deletion time rather than for a run duration.

use crate::input::error::InputError;
use crate::model::resources::{CPU, MEMORY};
use crate::model::selector::Labels;
use crate::trace::Trace;
use crate::trace::rows::{
    GIB, LoadOptions, Rows, finish, fraction_of, full, gpu_requests, make_pod, secs_to_us, trace_pod,
};
use std::collections::BTreeMap;
use std::path::Path;

/// Pod label holding the instance's `role` (`CN`: CPU node, `HN`: heterogeneous GPU node).
pub const LABEL_ROLE: &str = "alibabacloud.com/dlrm-role";
/// Pod label holding the instance's `app_name`.
pub const LABEL_APP: &str = "app";

const COLUMNS: [&str; 8] = [
    "instance_sn",
    "role",
    "app_name",
    "cpu_request",
    "gpu_request",
    "memory_request",
    "max_instance_per_node",
    "creation_time",
];

/// Loads the DLRM trace.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Trace, InputError> {
    let mut rows = Rows::open(path, &COLUMNS, true, false)?;
    opts.validate(rows.file())?;
    let file = rows.file().to_string();
    let mut trace = Trace::default();
    let mut names = std::collections::BTreeSet::new();
    while let Some(row) = rows.next_row()? {
        if full(trace.pods.len() as u64, opts, &file, row.line)? {
            break;
        }
        let name = row.required_str("instance_sn")?.to_string();
        if !names.insert(name.clone()) {
            return Err(row.error("instance_sn", format!("instance {name:?} appears twice")));
        }
        let mut labels = Labels::new();
        labels.insert(LABEL_ROLE.into(), row.str("role")?.to_string());
        labels.insert(LABEL_APP.into(), row.required_str("app_name")?.to_string());
        let cpu = row.f64("cpu_request")?;
        let gpu = row.f64("gpu_request")?;
        if gpu.fract() != 0.0 {
            return Err(row.error("gpu_request", format!("expected whole GPUs, got {gpu}")));
        }
        let mem = row.f64("memory_request")?;
        let mut req = BTreeMap::new();
        req.insert(CPU.to_string(), fraction_of(1000, cpu));
        req.insert(MEMORY.to_string(), fraction_of(GIB, mem));
        gpu_requests(&mut req, gpu as i64, 0);
        let cap = row.i64("max_instance_per_node")?;
        let max_per_node = match cap {
            -1 => None,
            c if c >= 0 => Some(u32::try_from(c).unwrap_or(u32::MAX)),
            c => return Err(row.error("max_instance_per_node", format!("expected -1 (no cap) or a count, got {c}"))),
        };
        let created = row.opt_f64("creation_time")?.map(secs_to_us).unwrap_or(0);
        let deleted = if row.has("deletion_time") { row.opt_f64("deletion_time")?.map(secs_to_us) } else { None };
        if max_per_node.is_some() {
            // The cap is per application: MaxPerNode counts the pods of the same group.
            let app = labels.get(LABEL_APP).cloned().unwrap_or_default();
            labels.insert(crate::scheduler::policies::max_per_node::LABEL_GROUP.into(), app);
        }
        let mut pod = make_pod(name, &opts.namespace, labels, req, 0, None);
        if let Some(cap) = max_per_node {
            pod.annotations
                .insert(crate::scheduler::policies::max_per_node::ANNOTATION_MAX_PER_NODE.into(), cap.to_string());
        }
        let mut tp = trace_pod(pod, created, deleted.map(|d| d.max(created)), row.line);
        tp.max_per_node = max_per_node;
        trace.pods.push(tp);
    }
    // Origin: the trace's own time 0 (the window start), even when every kept instance was
    // created later; `finish` shifts to the earliest creation, which is 0 whenever an instance
    // predates the window.
    Ok(finish(trace, opts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::RESOURCE_NVIDIA_GPU;
    use crate::trace::generic::tests::write_tmp;

    const HEADER: &str = "instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,gpu_limit,rdma_request,rdma_limit,memory_request,memory_limit,disk_request,disk_limit,max_instance_per_node,creation_time,scheduled_time,deletion_time\n";

    #[test]
    fn instances_become_pods_with_requests_caps_labels_and_window_times() {
        let text = format!(
            "{HEADER}instance_0,HN,app_0,12,12,1,1,25,25,120.0,120.0,640.0,800.0,8,,,\n\
             instance_1,CN,app_1,0.5,0.5,0,0,1,1,2.5,2.5,1,1,-1,100.0,101.0,160.0\n"
        );
        let (_d, p) = write_tmp("dlrm.csv", &text);
        let t = load(&p, &LoadOptions::default()).unwrap();
        assert_eq!(t.pods.len(), 2);
        let a = &t.pods[0];
        assert_eq!(a.pod.name, "instance_0");
        assert_eq!((a.created_us, a.deleted_us, a.max_per_node), (0, None, Some(8)));
        assert_eq!(a.pod.requests.cpu_millis, 12_000);
        assert_eq!(a.pod.requests.memory_bytes, 120 * GIB);
        assert_eq!(a.pod.requests.get(RESOURCE_NVIDIA_GPU), 1);
        assert_eq!(a.pod.labels.get(LABEL_APP).map(String::as_str), Some("app_0"));
        assert_eq!(a.pod.labels.get(LABEL_ROLE).map(String::as_str), Some("HN"));
        assert!(a.pod.run.run_duration.is_none(), "services run until deleted");
        let b = &t.pods[1];
        assert_eq!((b.created_us, b.deleted_us, b.max_per_node), (100_000_000, Some(160_000_000), None));
        assert_eq!((b.pod.requests.cpu_millis, b.pod.requests.memory_bytes), (500, 5 * GIB / 2));
    }

    #[test]
    fn malformed_rows_name_the_file_line_and_column() {
        let cases = [
            ("instance_0,HN,app_0,x,12,1,1,25,25,120.0,120.0,640.0,800.0,8,,,\n", "cpu_request", "expected a number"),
            ("instance_0,HN,app_0,-4,12,1,1,25,25,120.0,120.0,640.0,800.0,8,,,\n", "cpu_request", "negative"),
            ("instance_0,HN,app_0,4,12,1,1,25,25,120.0,120.0,640.0,800.0,-3,,,\n", "max_instance_per_node", "-3"),
            ("instance_0,HN,app_0,4,12,0.5,1,25,25,120.0,120.0,640.0,800.0,8,,,\n", "gpu_request", "whole GPUs"),
            ("instance_0,HN,app_0,4,12,1,1,25,25,120.0\n", "max_instance_per_node", "missing column"),
        ];
        for (row, field, msg) in cases {
            let (_d, p) = write_tmp("dlrm.csv", &format!("{HEADER}{row}"));
            let e = load(&p, &LoadOptions::default()).unwrap_err();
            assert!(e.file.ends_with("dlrm.csv"));
            assert_eq!((e.line, e.field.as_deref()), (Some(2), Some(field)), "{e}");
            assert!(e.message.contains(msg), "{e}");
        }
    }
}
