//! The Alibaba GPU cluster trace v2023 ("openb", the FGD paper's trace): pod and node lists.
//!
//! Pods: `name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time`
//! (times in seconds); the `multigpu*` variants have only the first five columns. Nodes:
//! `sn,cpu_milli,memory_mib,gpu,model`. A pod's GPU share is clamped to `(0, 1000]` as the
//! reference pipeline does (`pod_csv_to_yaml.py`): whole GPUs become `nvidia.com/gpu`, a share
//! `alibabacloud.com/gpu-milli` (with `alibabacloud.com/gpu-count` above one GPU), and `gpu_spec`
//! (`A|B`) the pod label `alibabacloud.com/gpu-card-model`. Nodes offer `nvidia.com/gpu`,
//! `alibabacloud.com/gpu-milli` (1000 per GPU), 1001 pods (as the reference's node YAML), and
//! carry their model as the label `alibabacloud.com/gpu-card-model`.

use crate::input::error::InputError;
use crate::model::gpu::{GpuRequest, MILLI};
use crate::model::node::Node;
use crate::model::pod::{Container, Pod};
use crate::model::resources::{ResourceList, Resources};
use crate::trace::{
    ANNOTATION_GPU_CARD_MODEL, LABEL_GPU_MODEL, RESOURCE_GPU_COUNT, RESOURCE_GPU_MILLI, RESOURCE_NVIDIA_GPU, Trace,
    TracePod,
};
use std::collections::BTreeMap;
use std::path::Path;

/// Pods per node on trace nodes (the reference's node YAML).
pub const NODE_MAX_PODS: i64 = 1001;

/// One pod row.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenbPod {
    /// `name`.
    pub name: String,
    /// `cpu_milli`.
    pub cpu_millis: i64,
    /// `memory_mib`.
    pub memory_mib: i64,
    /// The GPU request (`num_gpu`, `gpu_milli` clamped, `gpu_spec`).
    pub gpu: GpuRequest,
    /// `creation_time`, seconds (absent in the multigpu variants).
    pub creation_s: Option<i64>,
    /// `deletion_time`, seconds.
    pub deletion_s: Option<i64>,
    /// Source line (1-based).
    pub line: u64,
}

/// One node row.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenbNode {
    /// `sn`.
    pub name: String,
    /// `cpu_milli`.
    pub cpu_millis: i64,
    /// `memory_mib`.
    pub memory_mib: i64,
    /// `gpu`: number of GPUs.
    pub gpus: u32,
    /// `model` (empty for CPU nodes).
    pub model: String,
    /// Source line (1-based).
    pub line: u64,
}

struct Table {
    file: String,
    header: BTreeMap<String, usize>,
    rows: Vec<(u64, csv::StringRecord)>,
}

fn read_table(path: &Path, shown: &str, required: &[&str]) -> Result<Table, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| InputError::file(shown, format!("cannot read: {e}")))?;
    if meta.len() > crate::limits::MAX_INPUT_BYTES as u64 {
        return Err(InputError::file(
            shown,
            format!("file is larger than limits::MAX_INPUT_BYTES ({} bytes)", crate::limits::MAX_INPUT_BYTES),
        ));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| InputError::file(shown, format!("cannot read: {e}")))?;
    let header: BTreeMap<String, usize> = rdr
        .headers()
        .map_err(|e| InputError::at(shown, 1, 1, "", format!("bad CSV header: {e}")))?
        .iter()
        .enumerate()
        .map(|(i, h)| (h.to_string(), i))
        .collect();
    for r in required {
        if !header.contains_key(*r) {
            return Err(InputError::at(shown, 1, 1, *r, format!("missing column `{r}` in the header")));
        }
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            InputError::at(shown, line, 1, "", format!("bad CSV row: {e}"))
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        rows.push((line, rec));
    }
    Ok(Table { file: shown.to_string(), header, rows })
}

impl Table {
    fn cell<'a>(&self, line: u64, rec: &'a csv::StringRecord, col: &str) -> Result<Option<&'a str>, InputError> {
        let Some(&i) = self.header.get(col) else { return Ok(None) };
        match rec.get(i) {
            Some(v) => Ok(Some(v)),
            None => Err(InputError::at(
                &self.file,
                line,
                i as u64 + 1,
                col,
                format!("missing column `{col}` (the row has {} of {} columns)", rec.len(), self.header.len()),
            )),
        }
    }

    fn text(&self, line: u64, rec: &csv::StringRecord, col: &str) -> Result<String, InputError> {
        Ok(self.cell(line, rec, col)?.unwrap_or("").to_string())
    }

    fn int(&self, line: u64, rec: &csv::StringRecord, col: &str, required: bool) -> Result<Option<i64>, InputError> {
        let column = self.header.get(col).map(|i| *i as u64 + 1).unwrap_or(1);
        let Some(v) = self.cell(line, rec, col)? else { return Ok(None) };
        if v.is_empty() {
            if required {
                return Err(InputError::at(&self.file, line, column, col, format!("`{col}` is empty")));
            }
            return Ok(None);
        }
        let n: i64 = v.parse().map_err(|_| {
            InputError::at(&self.file, line, column, col, format!("`{col}` must be a non-negative integer, got `{v}`"))
        })?;
        if n < 0 {
            return Err(InputError::at(
                &self.file,
                line,
                column,
                col,
                format!("`{col}` must not be negative, got {n}"),
            ));
        }
        Ok(Some(n))
    }
}

/// Reads a pod list, in file order.
pub fn read_pods(path: &Path, shown: &str) -> Result<Vec<OpenbPod>, InputError> {
    let t = read_table(path, shown, &["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"])?;
    let mut out = Vec::with_capacity(t.rows.len());
    let mut seen = std::collections::BTreeSet::new();
    for (line, rec) in &t.rows {
        let line = *line;
        let name = t.text(line, rec, "name")?;
        if name.is_empty() {
            return Err(InputError::at(shown, line, 1, "name", "`name` is empty"));
        }
        if !seen.insert(name.clone()) {
            return Err(InputError::at(shown, line, 1, "name", format!("duplicate pod name `{name}`")));
        }
        let cpu_millis = t.int(line, rec, "cpu_milli", true)?.unwrap_or(0);
        let memory_mib = t.int(line, rec, "memory_mib", true)?.unwrap_or(0);
        let num_gpu = t.int(line, rec, "num_gpu", true)?.unwrap_or(0);
        let gpu_milli = t.int(line, rec, "gpu_milli", true)?.unwrap_or(0);
        let spec = t.text(line, rec, "gpu_spec")?;
        let gpu = if num_gpu == 0 {
            GpuRequest::none()
        } else {
            GpuRequest::new(gpu_milli.min(MILLI), u32::try_from(num_gpu).unwrap_or(u32::MAX)).with_models(&spec)
        };
        if gpu.count > 64 {
            return Err(InputError::at(shown, line, 4, "num_gpu", format!("`num_gpu` {num_gpu} is more than 64")));
        }
        out.push(OpenbPod {
            name,
            cpu_millis,
            memory_mib,
            gpu,
            creation_s: t.int(line, rec, "creation_time", false)?,
            deletion_s: t.int(line, rec, "deletion_time", false)?,
            line,
        });
    }
    Ok(out)
}

/// Reads a node list, in file order.
pub fn read_nodes(path: &Path, shown: &str) -> Result<Vec<OpenbNode>, InputError> {
    let t = read_table(path, shown, &["sn", "cpu_milli", "memory_mib", "gpu"])?;
    let mut out = Vec::with_capacity(t.rows.len());
    let mut seen = std::collections::BTreeSet::new();
    for (line, rec) in &t.rows {
        let line = *line;
        let name = t.text(line, rec, "sn")?;
        if name.is_empty() {
            return Err(InputError::at(shown, line, 1, "sn", "`sn` is empty"));
        }
        if !seen.insert(name.clone()) {
            return Err(InputError::at(shown, line, 1, "sn", format!("duplicate node name `{name}`")));
        }
        let gpus = t.int(line, rec, "gpu", true)?.unwrap_or(0);
        if gpus > 64 {
            return Err(InputError::at(shown, line, 4, "gpu", format!("`gpu` {gpus} is more than 64")));
        }
        out.push(OpenbNode {
            name,
            cpu_millis: t.int(line, rec, "cpu_milli", true)?.unwrap_or(0),
            memory_mib: t.int(line, rec, "memory_mib", true)?.unwrap_or(0),
            gpus: gpus as u32,
            model: t.text(line, rec, "model")?,
            line,
        });
    }
    if out.len() as u64 > crate::limits::MAX_NODES {
        return Err(InputError::file(
            shown,
            format!("more nodes than limits::MAX_NODES ({})", crate::limits::MAX_NODES),
        ));
    }
    Ok(out)
}

const MIB: i64 = 1 << 20;

impl OpenbPod {
    /// The model pod (one container with the requests; GPU as described in the module docs).
    pub fn to_pod(&self) -> Pod {
        let mut req: BTreeMap<String, i64> = BTreeMap::new();
        req.insert("cpu".into(), self.cpu_millis);
        req.insert("memory".into(), self.memory_mib.saturating_mul(MIB));
        let mut labels = BTreeMap::new();
        if self.gpu.is_gpu() {
            if self.gpu.milli_per_gpu >= MILLI {
                req.insert(RESOURCE_NVIDIA_GPU.into(), i64::from(self.gpu.count));
            } else {
                req.insert(RESOURCE_GPU_MILLI.into(), self.gpu.milli_per_gpu);
                if self.gpu.count > 1 {
                    req.insert(RESOURCE_GPU_COUNT.into(), i64::from(self.gpu.count));
                }
            }
            if !self.gpu.models.is_empty() {
                labels.insert(ANNOTATION_GPU_CARD_MODEL.to_string(), self.gpu.models.join("|"));
            }
        }
        let mut pod = Pod {
            name: self.name.clone(),
            namespace: "default".into(),
            labels,
            annotations: BTreeMap::new(),
            owner: None,
            priority: 0,
            priority_class_name: None,
            preemption_policy: Default::default(),
            scheduler_name: crate::model::pod::DEFAULT_SCHEDULER_NAME.into(),
            containers: vec![Container {
                name: "main".into(),
                image: String::new(),
                requests: ResourceList(req),
                limits: ResourceList::default(),
                host_ports: vec![],
                sidecar: false,
            }],
            init_containers: vec![],
            overhead: Resources::default(),
            node_selector: BTreeMap::new(),
            tolerations: vec![],
            affinity: Default::default(),
            topology_spread_constraints: vec![],
            node_name: None,
            restart_policy: Default::default(),
            termination_grace_period_seconds: 30,
            run: Default::default(),
            requests: Resources::default(),
            non_zero_cpu_millis: 0,
            non_zero_memory_bytes: 0,
            host_ports: vec![],
        };
        pod.finalize();
        pod
    }
}

impl OpenbNode {
    /// The model node.
    pub fn to_node(&self) -> Node {
        let mut allocatable = Resources {
            cpu_millis: self.cpu_millis,
            memory_bytes: self.memory_mib.saturating_mul(MIB),
            pods: NODE_MAX_PODS,
            ..Default::default()
        };
        let mut labels = BTreeMap::from([("kubernetes.io/hostname".to_string(), self.name.clone())]);
        if self.gpus > 0 {
            allocatable.set(RESOURCE_NVIDIA_GPU, i64::from(self.gpus));
            allocatable.set(RESOURCE_GPU_MILLI, i64::from(self.gpus) * MILLI);
            if !self.model.is_empty() {
                labels.insert(LABEL_GPU_MODEL.to_string(), self.model.clone());
            }
        }
        Node { name: self.name.clone(), labels, taints: vec![], allocatable, images: vec![], unschedulable: false }
    }
}

/// How the pods of a trace are replayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Creation and deletion times drive the run (pods without a deletion time stay).
    Timed,
    /// Pods arrive in file order, one per microsecond, and are never deleted.
    Arrival,
}

/// Loads a pod list (and optionally a node list) as a [`Trace`]. Timed mode: times shifted so
/// the first creation is at zero; a pod without a deletion time (or deleted before it is created)
/// is never deleted. Arrival mode: pods in file order one microsecond apart, never deleted.
pub fn load(pods: &Path, pods_shown: &str, nodes: Option<(&Path, &str)>, mode: Mode) -> Result<Trace, InputError> {
    let rows = read_pods(pods, pods_shown)?;
    let mut trace = Trace::default();
    if let Some((p, shown)) = nodes {
        trace.nodes = read_nodes(p, shown)?.iter().map(OpenbNode::to_node).collect();
    }
    let t0 = rows.iter().filter_map(|r| r.creation_s).min().unwrap_or(0);
    for (i, r) in rows.iter().enumerate() {
        let (created_us, deleted_us) = match mode {
            Mode::Arrival => (i as u64, None),
            Mode::Timed => {
                let Some(c) = r.creation_s else {
                    return Err(InputError::at(
                        pods_shown,
                        r.line,
                        1,
                        "creation_time",
                        "timed replay needs a `creation_time` column (use arrival mode for this list)",
                    ));
                };
                let created = ((c - t0) as u64).saturating_mul(1_000_000);
                let deleted = r.deletion_s.filter(|d| *d > c).map(|d| ((d - t0) as u64).saturating_mul(1_000_000));
                (created, deleted)
            }
        };
        trace.pods.push(TracePod {
            pod: r.to_pod(),
            created_us,
            deleted_us,
            depends_on: vec![],
            max_per_node: None,
            line: r.line,
        });
    }
    trace.pods.sort_by(|a, b| a.created_us.cmp(&b.created_us).then_with(|| a.pod.name.cmp(&b.pod.name)));
    Ok(trace)
}

/// Loads an openb pod list (and node list) for a scenario's `workloads.traces`: timed mode as
/// [`load`]; arrival mode with `inflate`: the FGD pipeline's seeded shuffle and inflation by clones
/// (`<name>-tuned-<i>`) to `inflate` × the node list's GPU capacity, drawn from `seed` (the
/// scenario's seed, as `kubesim replay --seed`), the pods then one microsecond apart.
pub fn load_source(
    pods: &Path,
    nodes: Option<&Path>,
    mode: Mode,
    inflate: Option<f64>,
    seed: u64,
) -> Result<Trace, InputError> {
    let pods_shown = pods.display().to_string();
    let nodes_shown = nodes.map(|p| p.display().to_string());
    let mut trace = load(pods, &pods_shown, nodes.zip(nodes_shown.as_deref()), mode)?;
    let Some(f) = inflate else { return Ok(trace) };
    if !(f.is_finite() && f > 0.0 && f <= 100.0) {
        return Err(InputError::file(pods_shown, format!("inflate must be in (0, 100], got {f}")));
    }
    if mode != Mode::Arrival {
        return Err(InputError::file(pods_shown, "inflate applies to arrival mode only"));
    }
    let capacity: i64 = trace.nodes.iter().map(|n| crate::model::gpu::node_gpu_count(n) as i64 * MILLI).sum();
    let rp: Vec<crate::replay::engine::ReplayPod> = trace
        .pods
        .iter()
        .map(|p| crate::replay::engine::ReplayPod {
            name: p.pod.name.clone(),
            cpu_millis: p.pod.requests.cpu_millis,
            memory_bytes: p.pod.requests.memory_bytes,
            gpu: GpuRequest::from_pod(&p.pod),
        })
        .collect();
    let cfg = crate::replay::engine::ReplayConfig {
        policy: crate::scheduler::policies::Policy::Fgd,
        seed,
        inflate: Some(f),
        shuffle: true,
    };
    let order = crate::replay::engine::arrival_order(&rp, capacity, &cfg);
    let by_name: BTreeMap<String, TracePod> = trace.pods.drain(..).map(|p| (p.pod.name.clone(), p)).collect();
    for (i, r) in order.iter().enumerate() {
        let original = r.name.rsplit_once("-tuned-").map(|(a, _)| a).unwrap_or(&r.name);
        let Some(src) = by_name.get(r.name.as_str()).or_else(|| by_name.get(original)) else { continue };
        let mut p = src.clone();
        p.pod.name = r.name.clone();
        p.created_us = i as u64;
        p.deleted_us = None;
        trace.pods.push(p);
    }
    Ok(trace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::{node_gpu_count, node_gpu_model};

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces/openb").join(name)
    }

    fn pods(name: &str) -> Result<Vec<OpenbPod>, InputError> {
        read_pods(&fixture(name), name)
    }

    #[test]
    fn a_pod_list_loads_with_every_column() {
        let p = pods("pods.csv").unwrap();
        assert_eq!(p.len(), 6);
        assert_eq!(p[0].name, "pod-a");
        assert_eq!((p[0].cpu_millis, p[0].memory_mib), (12000, 16384));
        assert_eq!(p[0].gpu, GpuRequest::new(1000, 1));
        assert_eq!(p[1].gpu, GpuRequest::new(460, 1));
        assert_eq!(p[2].gpu, GpuRequest::none(), "num_gpu 0 is a CPU pod");
        assert_eq!(p[3].gpu, GpuRequest::new(1000, 8));
        assert_eq!(p[4].gpu, GpuRequest::new(500, 1).with_models("T4|V100M16"));
        assert_eq!(p[5].gpu, GpuRequest::new(1000, 1), "gpu_milli above 1000 is clamped");
        assert_eq!((p[1].creation_s, p[1].deletion_s), (Some(10), Some(100)));
        assert_eq!(p[1].line, 3);
    }

    #[test]
    fn trace_pods_express_gpus_as_requests_the_gpu_model_reads_back() {
        for r in pods("pods.csv").unwrap() {
            let pod = r.to_pod();
            assert_eq!(GpuRequest::from_pod(&pod), r.gpu, "{}", r.name);
            assert_eq!(pod.requests.cpu_millis, r.cpu_millis);
        }
    }

    #[test]
    fn the_multigpu_variant_has_five_columns() {
        let p = pods("pods_multigpu.csv").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].gpu, GpuRequest::new(1000, 4));
        assert_eq!(p[1].creation_s, None);
    }

    #[test]
    fn a_node_list_loads_gpus_and_models() {
        let n = read_nodes(&fixture("nodes.csv"), "nodes.csv").unwrap();
        assert_eq!(n.len(), 3);
        let node = n[0].to_node();
        assert_eq!((node_gpu_count(&node), node_gpu_model(&node)), (2, "T4"));
        assert_eq!(node.allocatable.cpu_millis, 64000);
        let cpu = n[2].to_node();
        assert_eq!((node_gpu_count(&cpu), node_gpu_model(&cpu)), (0, ""));
    }

    #[test]
    fn malformed_rows_name_the_file_line_and_column() {
        let cases = [
            ("bad_missing_column.csv", "bad_missing_column.csv:3:5: field `gpu_milli`: missing column"),
            (
                "bad_not_a_number.csv",
                "bad_not_a_number.csv:2:2: field `cpu_milli`: `cpu_milli` must be a non-negative integer, got `lots`",
            ),
            ("bad_negative.csv", "bad_negative.csv:4:3: field `memory_mib`: `memory_mib` must not be negative, got -5"),
            ("bad_header.csv", "bad_header.csv:1:1: field `num_gpu`: missing column `num_gpu` in the header"),
        ];
        for (file, want) in cases {
            let e = pods(file).unwrap_err().to_string();
            assert!(e.starts_with(want), "{file}: {e}");
        }
        let e = read_nodes(&fixture("bad_nodes.csv"), "bad_nodes.csv").unwrap_err().to_string();
        assert!(e.starts_with("bad_nodes.csv:3:4: field `gpu`"), "{e}");
    }

    #[test]
    fn timed_mode_shifts_times_and_arrival_mode_keeps_file_order() {
        let f = fixture("pods.csv");
        let t = load(&f, "pods.csv", None, Mode::Timed).unwrap();
        let a = t.pods.iter().find(|p| p.pod.name == "pod-b").unwrap();
        assert_eq!((a.created_us, a.deleted_us), (0, Some(90_000_000)), "pod-b is first: times start at zero");
        let f_pod = t.pods.iter().find(|p| p.pod.name == "pod-f").unwrap();
        assert_eq!(f_pod.deleted_us, None, "a deletion before creation is ignored");
        assert!(t.pods.windows(2).all(|w| w[0].created_us <= w[1].created_us));
        let t = load(&f, "pods.csv", None, Mode::Arrival).unwrap();
        assert_eq!(t.pods[0].pod.name, "pod-a");
        assert!(t.pods.iter().all(|p| p.deleted_us.is_none()));
        let e = load(&fixture("pods_multigpu.csv"), "m.csv", None, Mode::Timed).unwrap_err();
        assert!(e.to_string().contains("creation_time"), "{e}");
    }

    #[test]
    fn the_real_openb_trace_has_the_published_size() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/alibaba-gpu-v2023/csv");
        let dir = if dir.exists() { dir } else { Path::new("/work/shared/data/alibaba-gpu-v2023/csv").to_path_buf() };
        if !dir.exists() {
            println!("skipped: the openb trace is not in ../shared/data");
            return;
        }
        let p = read_pods(&dir.join("openb_pod_list_default.csv"), "default").unwrap();
        assert_eq!(p.len(), 8152);
        let n = read_nodes(&dir.join("openb_node_list_gpu_node.csv"), "gpu_node").unwrap();
        assert_eq!(n.len(), 1213);
        assert_eq!(n.iter().map(|n| n.gpus).sum::<u32>(), 6212);
        assert_eq!(n.iter().map(|n| n.cpu_millis).sum::<i64>(), 107_018_000);
        assert_eq!(n.iter().map(|n| n.memory_mib).sum::<i64>(), 503_828_480);
    }
}
