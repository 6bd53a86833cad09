//! Alibaba cluster-trace-v2018: `batch_task` (DAG jobs) and `machine_meta` (the node timeline).
//!
//! **`batch_task`** (no header, or a header starting with `task_name`):
//! `task_name,instance_num,job_name,task_type,status,start_time,end_time,plan_cpu,plan_mem`.
//! Each task becomes `instance_num` pods named `<job>.<task>.<i>`, owned by the workflow job
//! `<job>.<task>` (owner kind `WorkflowJob`) and labelled with their workflow (the trace job,
//! [`crate::workflow::LABEL_WORKFLOW`]). They arrive at `start_time` and run for
//! `end_time - start_time` (no run duration, i.e. running until the end, when `end_time` is
//! before `start_time`, as for tasks still running when the trace was cut). `plan_cpu` is in
//! hundredths of a core (100 = 1 core), `plan_mem` normalised to 0..100 of the machine memory
//! ([`LoadOptions::machine_memory_bytes`]); empty plans request nothing.
//!
//! Task names encode the DAG: `M5_3_4` is task 5 and depends on tasks 3 and 4 of the same job
//! (the letters are irrelevant); names that do not follow the pattern (`task_Nzg3...`) are
//! independent tasks. Dependencies on tasks missing from the file (the trace is sampled, or
//! `limit` cut it) are dropped.
//!
//! **`machine_meta`** (no header): `machine_id,time_stamp,failure_domain_1,failure_domain_2,
//! cpu_num,mem_size,status`. Each machine becomes a node (`cpu_num` cores, `mem_size` percent of
//! the machine memory, zone label = `failure_domain_1`, label [`LABEL_FAILURE_DOMAIN_2`]). Its
//! records in time order give the timeline: a machine first seen after time 0 is added then
//! ([`NodeEventKind::Add`]); status `USING` is up, any other status (`IMPORT_INSTALLING`, ...) is
//! down, and each change gives a `Fail` or `Recover` event. **Simplified:** resource changes in
//! later records are ignored; machines are never removed (the table has no removal record).

use crate::input::error::InputError;
use crate::model::node::{LABEL_HOSTNAME, LABEL_ZONE, Node};
use crate::model::pod::OwnerRef;
use crate::model::resources::{CPU, MEMORY, Resources};
use crate::model::selector::Labels;
use crate::trace::generic::OWNER_KIND_WORKFLOW_JOB;
use crate::trace::rows::{LoadOptions, Rows, finish, fraction_of, full, make_pod, secs_to_us};
use crate::trace::{NodeEvent, NodeEventKind, Trace, TracePod};
use std::collections::BTreeMap;
use std::path::Path;

/// Node label holding `failure_domain_2`.
pub const LABEL_FAILURE_DOMAIN_2: &str = "alibaba.com/failure-domain-2";
/// Pod label holding the task type.
pub const LABEL_TASK_TYPE: &str = "alibaba.com/task-type";

const TASK_COLUMNS: [&str; 9] =
    ["task_name", "instance_num", "job_name", "task_type", "status", "start_time", "end_time", "plan_cpu", "plan_mem"];
const MACHINE_COLUMNS: [&str; 7] =
    ["machine_id", "time_stamp", "failure_domain_1", "failure_domain_2", "cpu_num", "mem_size", "status"];

/// The DAG position a task name encodes: `(task id, dependencies)`, or `None` for an
/// independent task whose name does not follow the `<letters><id>[_<dep>]*` pattern.
pub fn parse_task_name(name: &str) -> Option<(u64, Vec<u64>)> {
    let digits = name.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    if digits.len() == name.len() || digits.is_empty() {
        return None;
    }
    let mut ids = Vec::new();
    for part in digits.split('_') {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        ids.push(part.parse::<u64>().ok()?);
    }
    let id = ids.remove(0);
    Some((id, ids))
}

struct TaskRow {
    job: String,
    task: String,
    instances: u64,
    task_type: String,
    start: u64,
    end: u64,
    cpu_millis: i64,
    memory_bytes: i64,
    line: u64,
}

/// Reads `batch_task` into pods (times not yet shifted).
fn read_batch_task(path: &Path, opts: &LoadOptions) -> Result<Vec<TracePod>, InputError> {
    let mut rows = Rows::open(path, &TASK_COLUMNS, false, true)?;
    let file = rows.file().to_string();
    let mut tasks = Vec::new();
    let mut pods: u64 = 0;
    let mut seen = std::collections::BTreeSet::new();
    while let Some(row) = rows.next_row()? {
        if full(pods, opts, &file, row.line)? {
            break;
        }
        let task = row.required_str("task_name")?.to_string();
        let instances = row.u64("instance_num")?;
        let job = row.required_str("job_name")?.to_string();
        if !seen.insert((job.clone(), task.clone())) {
            return Err(row.error("task_name", format!("task {task:?} of job {job:?} appears twice")));
        }
        let task_type = row.str("task_type")?.to_string();
        row.str("status")?;
        let start = row.u64("start_time")?;
        let end = row.u64("end_time")?;
        let cpu = row.opt_f64("plan_cpu")?.unwrap_or(0.0);
        let mem = row.opt_f64("plan_mem")?.unwrap_or(0.0);
        let room = match opts.limit {
            Some(l) => l.min(crate::limits::MAX_TRACE_PODS).saturating_sub(pods),
            None if pods.saturating_add(instances) > crate::limits::MAX_TRACE_PODS => {
                return Err(row.error(
                    "instance_num",
                    format!(
                        "the trace has more than {} pods (kubesim::limits::MAX_TRACE_PODS); set `limit` to read the first ones",
                        crate::limits::MAX_TRACE_PODS
                    ),
                ));
            }
            None => instances,
        };
        let kept = instances.min(room);
        if kept == 0 {
            break;
        }
        pods += kept;
        tasks.push(TaskRow {
            job,
            task,
            instances: kept,
            task_type,
            start,
            end,
            cpu_millis: fraction_of(10, cpu),
            memory_bytes: fraction_of(opts.machine_memory_bytes, mem / 100.0),
            line: row.line,
        });
        if kept < instances {
            break;
        }
    }
    // Task id → task name, per job, to resolve the numeric dependencies.
    let mut ids: BTreeMap<&str, BTreeMap<u64, &str>> = BTreeMap::new();
    for t in &tasks {
        if let Some((id, _)) = parse_task_name(&t.task) {
            ids.entry(t.job.as_str()).or_default().insert(id, t.task.as_str());
        }
    }
    let mut out = Vec::with_capacity(pods as usize);
    for t in &tasks {
        let group = format!("{}.{}", t.job, t.task);
        let deps: Vec<String> = match parse_task_name(&t.task) {
            None => vec![],
            Some((_, deps)) => deps
                .iter()
                .filter_map(|d| ids.get(t.job.as_str()).and_then(|m| m.get(d)))
                .map(|name| format!("{}.{name}", t.job))
                .collect(),
        };
        let run = (t.end >= t.start).then(|| secs_to_us((t.end - t.start) as f64));
        for i in 0..t.instances {
            let mut labels = Labels::new();
            labels.insert(crate::workflow::LABEL_WORKFLOW.into(), t.job.clone());
            if !t.task_type.is_empty() {
                labels.insert(LABEL_TASK_TYPE.into(), t.task_type.clone());
            }
            let mut req = BTreeMap::new();
            req.insert(CPU.to_string(), t.cpu_millis);
            req.insert(MEMORY.to_string(), t.memory_bytes);
            let mut pod = make_pod(format!("{group}.{i}"), &opts.namespace, labels, req, 0, run);
            pod.owner = Some(OwnerRef { kind: OWNER_KIND_WORKFLOW_JOB.into(), name: group.clone(), uid: 0 });
            out.push(TracePod {
                pod,
                created_us: secs_to_us(t.start as f64),
                deleted_us: None,
                depends_on: deps.clone(),
                max_per_node: None,
                line: t.line,
            });
        }
    }
    Ok(out)
}

struct MachineRecord {
    time: u64,
    up: bool,
}

/// Reads `machine_meta` into nodes and their timeline (times not yet shifted).
fn read_machine_meta(path: &Path, opts: &LoadOptions) -> Result<(Vec<Node>, Vec<NodeEvent>), InputError> {
    let mut rows = Rows::open(path, &MACHINE_COLUMNS, false, true)?;
    let mut machines: BTreeMap<String, (Node, Vec<MachineRecord>)> = BTreeMap::new();
    while let Some(row) = rows.next_row()? {
        let id = row.required_str("machine_id")?.to_string();
        let time = row.u64("time_stamp")?;
        let fd1 = row.str("failure_domain_1")?.to_string();
        let fd2 = row.str("failure_domain_2")?.to_string();
        let cpu = row.f64("cpu_num")?;
        let mem = row.f64("mem_size")?;
        if mem > 101.0 {
            return Err(row.error("mem_size", format!("expected a normalised size 0..100, got {mem}")));
        }
        let up = row.required_str("status")? == "USING";
        if !machines.contains_key(&id) {
            if machines.len() as u64 >= crate::limits::MAX_NODES {
                return Err(row.error(
                    "machine_id",
                    format!("more than {} machines (kubesim::limits::MAX_NODES)", crate::limits::MAX_NODES),
                ));
            }
            let mut labels = Labels::new();
            labels.insert(LABEL_HOSTNAME.into(), id.clone());
            if !fd1.is_empty() {
                labels.insert(LABEL_ZONE.into(), fd1);
            }
            if !fd2.is_empty() {
                labels.insert(LABEL_FAILURE_DOMAIN_2.into(), fd2);
            }
            let allocatable = Resources {
                cpu_millis: fraction_of(1000, cpu),
                memory_bytes: fraction_of(opts.machine_memory_bytes, mem / 100.0),
                pods: crate::input::manifest::DEFAULT_MAX_PODS,
                ..Default::default()
            };
            let node =
                Node { name: id.clone(), labels, taints: vec![], allocatable, images: vec![], unschedulable: false };
            machines.insert(id.clone(), (node, Vec::new()));
        }
        if let Some((_, recs)) = machines.get_mut(&id) {
            recs.push(MachineRecord { time, up });
        }
    }
    let mut nodes = Vec::with_capacity(machines.len());
    let mut events = Vec::new();
    for (name, (node, mut recs)) in machines {
        recs.sort_by_key(|r| r.time);
        let mut up = true;
        for (i, r) in recs.iter().enumerate() {
            let time_us = secs_to_us(r.time as f64);
            if i == 0 {
                if r.time > 0 {
                    events.push(NodeEvent { time_us, node: name.clone(), kind: NodeEventKind::Add });
                }
            } else if r.up == up {
                continue;
            }
            if r.up != up {
                let kind = if r.up { NodeEventKind::Recover } else { NodeEventKind::Fail };
                events.push(NodeEvent { time_us, node: name.clone(), kind });
                up = r.up;
            }
        }
        nodes.push(node);
    }
    Ok((nodes, events))
}

/// Loads `batch_task` alone.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Trace, InputError> {
    load_both(Some(path), None, opts)
}

/// Loads `machine_meta` alone: nodes and their timeline, no pods.
pub fn load_machines(path: &Path, opts: &LoadOptions) -> Result<Trace, InputError> {
    load_both(None, Some(path), opts)
}

/// Loads `batch_task` and / or `machine_meta` on one time base (the trace's own, shifted so
/// that the earliest pod arrival or node event is zero).
pub fn load_both(batch_task: Option<&Path>, machines: Option<&Path>, opts: &LoadOptions) -> Result<Trace, InputError> {
    let shown = batch_task.or(machines).map(|p| p.display().to_string()).unwrap_or_default();
    opts.validate(&shown)?;
    let mut trace = Trace::default();
    if let Some(p) = batch_task {
        trace.pods = read_batch_task(p, opts)?;
    }
    if let Some(p) = machines {
        let (nodes, events) = read_machine_meta(p, opts)?;
        trace.nodes = nodes;
        trace.node_events = events;
    }
    // Nodes present from time 0 have no event; keep the trace's time 0 as the origin when there
    // are such nodes, so that their timeline and the pods stay aligned.
    if machines.is_some() {
        let t = std::mem::take(&mut trace);
        return Ok(finish_from_zero(t, opts));
    }
    Ok(finish(trace, opts))
}

/// Like [`finish`] but keeps the trace's own time 0 as the origin.
fn finish_from_zero(mut trace: Trace, opts: &LoadOptions) -> Trace {
    // A marker event at 0 pins the origin, then is removed.
    trace.node_events.push(NodeEvent { time_us: 0, node: String::new(), kind: NodeEventKind::Add });
    let mut t = finish(trace, opts);
    t.node_events.retain(|e| !e.node.is_empty());
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::generic::tests::write_tmp;

    #[test]
    fn task_names_encode_the_dag_and_other_names_are_independent() {
        assert_eq!(parse_task_name("M5_3_4"), Some((5, vec![3, 4])));
        assert_eq!(parse_task_name("R4_2"), Some((4, vec![2])));
        assert_eq!(parse_task_name("M1"), Some((1, vec![])));
        assert_eq!(parse_task_name("task_Nzg3ODAwNDgzMTAwNTc2NTQ2Mw=="), None);
        assert_eq!(parse_task_name("MergeTask"), None);
        assert_eq!(parse_task_name("M1_"), None);
        assert_eq!(parse_task_name("42"), None);
    }

    #[test]
    fn tasks_become_instance_pods_of_one_workflow_job_with_resolved_dependencies() {
        let text = "M1,2,j_1,1,Terminated,100,160,50,0.5\n\
                    M2_1,1,j_1,1,Terminated,170,200,100,1\n\
                    R3_1_2_9,1,j_1,1,Terminated,210,215,,\n\
                    task_abc==,1,j_2,12,Running,90,0,100,\n";
        let (_d, p) = write_tmp("batch_task.csv", text);
        let opts = LoadOptions { machine_memory_bytes: 100 << 30, ..Default::default() };
        let t = load(&p, &opts).unwrap();
        let names: Vec<&str> = t.pods.iter().map(|p| p.pod.name.as_str()).collect();
        assert_eq!(names, ["j_2.task_abc==.0", "j_1.M1.0", "j_1.M1.1", "j_1.M2_1.0", "j_1.R3_1_2_9.0"]);
        assert_eq!(t.pods[0].created_us, 0);
        assert!(t.pods[0].pod.run.run_duration.is_none(), "end before start: still running");
        let m1 = &t.pods[1];
        assert_eq!(m1.created_us, 10_000_000);
        assert_eq!((m1.pod.requests.cpu_millis, m1.pod.requests.memory_bytes), (500, 1 << 29));
        assert_eq!(m1.pod.run.run_duration.as_ref().map(|d| d.mean_micros()), Some(60e6));
        assert_eq!(m1.pod.owner.as_ref().map(|o| o.name.as_str()), Some("j_1.M1"));
        assert_eq!(t.pods[3].depends_on, ["j_1.M1"]);
        assert_eq!(t.pods[4].depends_on, ["j_1.M1", "j_1.M2_1"], "task 9 is not in the file: dropped");
    }

    #[test]
    fn machine_records_give_nodes_and_an_add_fail_recover_timeline() {
        let text = "m_1,0,219,17,96,100,USING\n\
                    m_2,500,6,6,64,50,IMPORT_INSTALLING\n\
                    m_1,100,219,17,96,100,USING\n\
                    m_2,700,6,6,64,50,USING\n\
                    m_1,300,219,17,96,100,IMPORT_INSTALLING\n\
                    m_1,400,219,17,96,100,USING\n";
        let (_d, p) = write_tmp("machine_meta.csv", text);
        let opts = LoadOptions { machine_memory_bytes: 100 << 30, ..Default::default() };
        let t = load_machines(&p, &opts).unwrap();
        assert_eq!(t.nodes.len(), 2);
        assert_eq!((t.nodes[0].allocatable.cpu_millis, t.nodes[0].allocatable.memory_bytes), (96_000, 100 << 30));
        assert_eq!(t.nodes[1].allocatable.memory_bytes, 50 << 30);
        assert_eq!(t.nodes[0].zone(), "219");
        let ev: Vec<(u64, &str, NodeEventKind)> =
            t.node_events.iter().map(|e| (e.time_us / 1_000_000, e.node.as_str(), e.kind)).collect();
        assert_eq!(
            ev,
            [
                (300, "m_1", NodeEventKind::Fail),
                (400, "m_1", NodeEventKind::Recover),
                (500, "m_2", NodeEventKind::Add),
                (500, "m_2", NodeEventKind::Fail),
                (700, "m_2", NodeEventKind::Recover),
            ]
        );
    }

    #[test]
    fn malformed_rows_name_the_file_line_and_column() {
        let tasks = [
            ("M1,x,j_1,1,Terminated,100,160,50,0.5\n", "instance_num"),
            ("M1,1,j_1,1,Terminated,-100,160,50,0.5\n", "start_time"),
            ("M1,1,j_1,1,Terminated,100,160,fifty,0.5\n", "plan_cpu"),
            ("M1,1,j_1,1,Terminated,100\n", "end_time"),
            ("M2,1,j_1,1,Terminated,100,160,50,0.5\n", "task_name"),
        ];
        for (row, field) in tasks {
            let (_d, p) = write_tmp("batch_task.csv", &format!("M2,1,j_1,1,Terminated,100,160,50,0.5\n{row}"));
            let e = load(&p, &LoadOptions::default()).unwrap_err();
            assert!(e.file.ends_with("batch_task.csv"));
            assert_eq!((e.line, e.field.as_deref()), (Some(2), Some(field)), "{e}");
        }
        let machines = [
            ("m_1,zero,219,17,96,100,USING\n", "time_stamp"),
            ("m_1,0,219,17,-96,100,USING\n", "cpu_num"),
            ("m_1,0,219,17,96,100\n", "status"),
        ];
        for (row, field) in machines {
            let (_d, p) = write_tmp("machine_meta.csv", &format!("m_0,0,1,1,96,100,USING\n{row}"));
            let e = load_machines(&p, &LoadOptions::default()).unwrap_err();
            assert_eq!((e.line, e.field.as_deref()), (Some(2), Some(field)), "{e}");
        }
    }
}
