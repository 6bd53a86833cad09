//! Trace loaders on the fixture files in `tests/fixtures/traces/` (including malformed rows that
//! must give an error naming the file, the line and the column), on the real traces in
//! `../shared/data` (skipped with a printed reason when the folder is absent), and end-to-end
//! runs of the workflow scenarios checking that no job starts before its dependencies finished.

use kubesim::input::scenario;
use kubesim::run::{RunOptions, run};
use kubesim::trace::rows::LoadOptions;
use kubesim::trace::{NodeEventKind, RESOURCE_GPU_COUNT, RESOURCE_GPU_MILLI, RESOURCE_NVIDIA_GPU, Trace};
use kubesim::trace::{alibaba2018, dlrm, generic, google2011, philly};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FIXTURES: &str = "tests/fixtures/traces";
const DATA: &str = "../shared/data";

type Loader = fn(&Path, &LoadOptions) -> Result<Trace, kubesim::input::error::InputError>;

fn fixture(format: &str, name: &str) -> PathBuf {
    Path::new(FIXTURES).join(format).join(name)
}

#[test]
fn malformed_fixture_rows_name_the_file_the_line_and_the_column() {
    let loaders: [(&str, Loader); 5] = [
        ("generic", generic::load),
        ("dlrm", dlrm::load),
        ("alibaba2018", alibaba2018::load),
        ("google2011", google2011::load),
        ("philly", philly::load),
    ];
    // (format, file, line, field, words in the message)
    let cases = [
        ("generic", "bad-number.csv", 3, "arrival_s", "expected a number"),
        ("generic", "bad-negative.csv", 3, "cpu", "negative"),
        ("generic", "bad-missing-column.csv", 3, "arrival_s", "missing column"),
        ("dlrm", "bad-number.csv", 3, "cpu_request", "expected a number"),
        ("dlrm", "bad-negative.csv", 2, "memory_request", "must not be negative"),
        ("dlrm", "bad-missing-column.csv", 3, "memory_request", "missing column"),
        ("alibaba2018", "bad-number.csv", 2, "instance_num", "expected a whole number"),
        ("alibaba2018", "bad-negative.csv", 2, "plan_cpu", "must not be negative"),
        ("alibaba2018", "bad-missing-column.csv", 2, "start_time", "missing column"),
        ("google2011", "bad-number.csv", 2, "time", "expected a whole number"),
        ("google2011", "bad-negative.csv", 2, "memory_request", "must not be negative"),
        ("google2011", "bad-missing-column.csv", 2, "different_machines_restriction", "missing column"),
        ("philly", "bad-number.csv", 3, "duration", "expected a number"),
        ("philly", "bad-negative.csv", 2, "num_gpus", "must not be negative"),
        ("philly", "bad-missing-column.csv", 3, "num_gpus", "missing column"),
    ];
    for (format, file, line, field, words) in cases {
        let load = loaders.iter().find(|(f, _)| *f == format).map(|(_, l)| *l).unwrap();
        let path = fixture(format, file);
        let e = load(&path, &LoadOptions::default()).expect_err(&format!("{format}/{file} must fail"));
        let text = e.to_string();
        assert!(text.starts_with(&format!("{}:{line}:", path.display())), "{format}/{file}: {text}");
        assert_eq!(e.field.as_deref(), Some(field), "{format}/{file}: {text}");
        assert!(e.column.is_some_and(|c| c >= 1), "{format}/{file}: {text}");
        assert!(text.contains(words), "{format}/{file}: {text}");
    }
}

#[test]
fn the_generic_fixture_gives_requests_gpu_shares_models_and_a_pipeline() {
    let t = generic::load(&fixture("generic", "ok.csv"), &LoadOptions::default()).unwrap();
    let by: BTreeMap<&str, _> = t.pods.iter().map(|p| (p.pod.name.as_str(), p)).collect();
    assert_eq!(by["svc-0"].created_us, 0);
    assert_eq!(by["train-0"].created_us, 5_500_000);
    assert_eq!(by["train-0"].pod.requests.get(RESOURCE_NVIDIA_GPU), 4);
    assert_eq!(by["train-0"].pod.labels.get(kubesim::trace::ANNOTATION_GPU_CARD_MODEL).unwrap(), "V100|A100");
    assert_eq!(by["share-0"].pod.requests.get(RESOURCE_GPU_MILLI), 300);
    assert_eq!(by["share-0"].pod.requests.get(RESOURCE_GPU_COUNT), 1);
    assert_eq!(by["fit-0"].depends_on, ["prep"]);
    assert_eq!(by["prep-1"].pod.namespace, "ml");
}

#[test]
fn the_dlrm_fixture_keeps_window_times_and_per_node_caps() {
    let t = dlrm::load(&fixture("dlrm", "ok.csv"), &LoadOptions::default()).unwrap();
    assert_eq!(t.pods.len(), 4);
    let caps: Vec<Option<u32>> = t.pods.iter().map(|p| p.max_per_node).collect();
    assert_eq!(caps, [Some(8), Some(8), None, None]);
    assert_eq!(t.pods[2].created_us, 1_435_629_000_000);
    assert_eq!(t.pods[2].deleted_us, Some(1_435_760_000_000));
    assert_eq!(t.pods[3].deleted_us, None, "empty deletion time: outlives the window");
}

#[test]
fn the_alibaba_2018_fixtures_give_a_dag_and_a_node_timeline_on_one_time_base() {
    let t = alibaba2018::load_both(
        Some(&fixture("alibaba2018", "batch_task.csv")),
        Some(&fixture("alibaba2018", "machine_meta.csv")),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(t.pods.len(), 8);
    assert_eq!(t.nodes.len(), 3);
    let r4 = t.pods.iter().find(|p| p.pod.name == "j_1.R4_2_3.0").unwrap();
    assert_eq!(r4.depends_on, ["j_1.M2_1", "j_1.M3_1"]);
    assert_eq!(r4.created_us, 240_000_000, "machine_meta's time 0 is the origin");
    let ev: Vec<(u64, &str, NodeEventKind)> =
        t.node_events.iter().map(|e| (e.time_us / 1_000_000, e.node.as_str(), e.kind)).collect();
    assert_eq!(
        ev,
        [
            (200, "m_3", NodeEventKind::Add),
            (200, "m_3", NodeEventKind::Fail),
            (260, "m_3", NodeEventKind::Recover),
            (280, "m_2", NodeEventKind::Fail),
            (400, "m_2", NodeEventKind::Recover),
        ]
    );
}

#[test]
fn the_google_2011_fixture_gives_one_pod_per_task() {
    let t = google2011::load(&fixture("google2011", "task_events.csv"), &LoadOptions::default()).unwrap();
    let names: Vec<&str> = t.pods.iter().map(|p| p.pod.name.as_str()).collect();
    assert_eq!(names, ["task-3418309-0", "task-6000-3"]);
    assert_eq!(t.pods[0].pod.run.run_duration.as_ref().map(|d| d.mean_micros()), Some(5_611_824_441.0));
    assert_eq!(t.pods[0].pod.requests.cpu_millis, 8000, "0.125 of a 64-core machine");
    assert_eq!(t.pods[1].pod.run.run_duration.as_ref().map(|d| d.mean_micros()), Some(300e6));
}

#[test]
fn the_philly_fixture_orders_jobs_by_submission_then_name() {
    let t = philly::load(&fixture("philly", "ok.csv"), &LoadOptions::default()).unwrap();
    let order: Vec<(&str, u64)> = t.pods.iter().map(|p| (p.pod.name.as_str(), p.created_us / 1_000_000)).collect();
    assert_eq!(order, [("philly-1", 0), ("philly-2", 0), ("philly-0", 2932)]);
}

/// The shared data folder: `../shared/data` from the project root, or `$KUBESIM_SHARED_DATA`
/// (for worktrees that live elsewhere).
fn data(rel: &str) -> Option<PathBuf> {
    let base = match std::env::var_os("KUBESIM_SHARED_DATA") {
        Some(d) if !Path::new(DATA).exists() => PathBuf::from(d),
        _ => PathBuf::from(DATA),
    };
    let p = base.join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent (the shared reference data is not here)", p.display());
        None
    }
}

#[test]
fn the_real_dlrm_trace_loads_23871_instances() {
    let Some(p) = data("alibaba-gpu-v2025/disaggregated_DLRM_trace.csv") else { return };
    let t = dlrm::load(&p, &LoadOptions::default()).unwrap();
    assert_eq!(t.pods.len(), 23_871);
    let gpu = t.pods.iter().filter(|p| p.pod.requests.get(RESOURCE_NVIDIA_GPU) > 0).count();
    assert_eq!(gpu, 7_386, "one GPU per HN instance");
    assert_eq!(t.pods.iter().filter(|p| p.created_us == 0).count(), 7_280, "created before the window");
    assert_eq!(t.pods.iter().filter(|p| p.deleted_us.is_some()).count(), 14_993, "deleted within the window");
}

#[test]
fn the_real_machine_meta_loads_4034_machines_with_a_timeline() {
    let Some(p) = data("alibaba-v2018/machine_meta.csv") else { return };
    let t = alibaba2018::load_machines(&p, &LoadOptions::default()).unwrap();
    assert_eq!(t.nodes.len(), 4_034);
    assert!(t.nodes.iter().all(|n| n.allocatable.cpu_millis == 96_000));
    assert!(t.node_events.iter().any(|e| e.kind == NodeEventKind::Add));
    assert!(t.node_events.windows(2).all(|w| w[0].time_us <= w[1].time_us));
}

#[test]
fn the_real_philly_trace_loads_82247_jobs() {
    let Some(p) = data("philly-pollux/philly.csv") else { return };
    let t = philly::load(&p, &LoadOptions::default()).unwrap();
    assert_eq!(t.pods.len(), 82_247);
    assert_eq!(t.pods[0].created_us, 0);
    let limited = philly::load(&p, &LoadOptions { limit: Some(100), ..Default::default() }).unwrap();
    assert_eq!(limited.pods.len(), 100);
}

/// Checks in `pods.csv` that every pod of a job was created and started only after every pod
/// of each job it depends on had finished. Returns how many dependency edges were checked.
fn check_dependencies(sc: &scenario::Scenario, pods_csv: &Path) -> usize {
    let mut r = csv::Reader::from_path(pods_csv).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (owner, created, started, finished, phase) =
        (col("owner"), col("created_us"), col("started_us"), col("finished_us"), col("final_phase"));
    // job → (earliest creation, earliest start, latest finish, all succeeded)
    let mut jobs: BTreeMap<String, (u64, u64, u64, bool)> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let num = |i: usize| rec[i].parse::<u64>().ok();
        let e = jobs.entry(rec[owner].to_string()).or_insert((u64::MAX, u64::MAX, 0, true));
        e.0 = e.0.min(num(created).unwrap());
        e.1 = e.1.min(num(started).unwrap_or(u64::MAX));
        e.2 = e.2.max(num(finished).unwrap_or(u64::MAX));
        e.3 &= &rec[phase] == "Succeeded";
    }
    let mut checked = 0;
    for j in &sc.workflows.jobs {
        let Some(me) = jobs.get(&j.spec.name) else { continue };
        for d in &j.spec.depends_on {
            let dep = jobs.get(d).unwrap_or_else(|| panic!("{} depends on {d}, which never ran", j.spec.name));
            assert!(dep.3, "{d} did not succeed, yet {} ran", j.spec.name);
            assert!(me.0 >= dep.2, "{} was created at {} before {d} finished at {}", j.spec.name, me.0, dep.2);
            assert!(me.1 >= dep.2, "{} started before {d} finished", j.spec.name);
            checked += 1;
        }
    }
    checked
}

#[test]
fn in_the_dag_scenario_no_job_starts_before_its_dependencies_finished() {
    let sc = scenario::load(Path::new("scenarios/dag-workflow.yaml"), &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = run(&sc, &RunOptions { out_dir: Some(dir.path().into()), check_invariants: true, ..Default::default() })
        .unwrap();
    assert_eq!(check_dependencies(&sc, &dir.path().join("pods.csv")), 5);
    let w = r.summary.workflows.expect("a workflows section");
    assert_eq!((w.workflows, w.jobs, w.jobs_completed, w.workflows_completed), (2, 6, 6, 2));
    // etl: extract 30s → transform 60s → load 40s; report: gather 45s → render 15s.
    assert_eq!(w.critical_path_us.max, 130_000_000);
    assert_eq!(w.critical_path_us.p50, 60_000_000);
    assert!(w.workflow_completion_time_us.max >= 130_000_000, "never faster than the critical path");
    let events = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert_eq!(events.matches("workflow_job_completed").count(), 6);
}

#[test]
fn in_the_generic_trace_scenario_the_pipeline_runs_in_order() {
    let sc = scenario::load(Path::new("scenarios/generic-trace.yaml"), &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = run(&sc, &RunOptions { out_dir: Some(dir.path().into()), check_invariants: true, ..Default::default() })
        .unwrap();
    assert_eq!(check_dependencies(&sc, &dir.path().join("pods.csv")), 2);
    assert_eq!(r.summary.counts.pods_created, 20);
    let w = r.summary.workflows.expect("a workflows section");
    assert_eq!((w.workflows, w.jobs_completed), (1, 3));
    assert_eq!(w.critical_path_us.max, 125_000_000, "prep 45s + fit 60s + eval 20s");
}

#[test]
fn a_workflow_cycle_in_a_scenario_is_an_error_naming_the_cycle() {
    let text = "apiVersion: kubesim/v1\nkind: Scenario\nduration: 1h\nworkloads:\n  workflows:\n  - name: w\n    jobs:\n    - {name: a, dependsOn: [b], template: {spec: {containers: [{name: c}]}}}\n    - {name: b, dependsOn: [a], template: {spec: {containers: [{name: c}]}}}\n";
    let e = scenario::load_str(text, "cycle.yaml", Path::new("."), &[]).unwrap_err();
    assert!(e.message.contains("cycle: w.a → w.b → w.a"), "{e}");
    assert_eq!(e.file, "cycle.yaml");
}

#[test]
fn a_trace_source_with_a_malformed_row_fails_the_scenario_with_the_trace_position() {
    let text = format!(
        "apiVersion: kubesim/v1\nkind: Scenario\nduration: 1h\nworkloads:\n  traces:\n  - format: philly\n    path: {FIXTURES}/philly/bad-number.csv\n"
    );
    let e = scenario::load_str(&text, "s.yaml", Path::new("."), &[]).unwrap_err();
    assert!(e.file.ends_with("philly/bad-number.csv"), "{e}");
    assert_eq!(e.line, Some(3));
}

#[test]
fn alibaba_2018_machines_join_fail_and_recover_during_a_run() {
    let text = format!(
        "apiVersion: kubesim/v1\nkind: Scenario\nduration: 10m\nworkloads:\n  traces:\n  - format: alibaba2018\n    path: {FIXTURES}/alibaba2018/batch_task.csv\n    machines: {FIXTURES}/alibaba2018/machine_meta.csv\n"
    );
    let sc = scenario::load_str(&text, "s.yaml", Path::new("."), &[]).unwrap();
    assert_eq!(sc.nodes.len(), 2, "m_3 joins later");
    let r = run(&sc, &RunOptions { out_dir: None, check_invariants: true, ..Default::default() }).unwrap();
    assert_eq!(r.cluster.nodes().len(), 3);
    assert_eq!(r.summary.counts.node_failures, 2);
    let w = r.summary.workflows.unwrap();
    assert_eq!(w.jobs_completed, 4, "M1, M2_1, M3_1 and R4_2_3 of j_1");
}

#[test]
fn the_dlrm_per_node_cap_holds_under_research_policies_and_not_under_upstream_profiles() {
    // Six instances of one app capped at 2 per node, on two large nodes: a research profile (with
    // MaxPerNode) runs 4 and leaves 2 pending; kube-scheduler's default profile has no such cap.
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from(
        "instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,gpu_limit,rdma_request,rdma_limit,memory_request,memory_limit,disk_request,disk_limit,max_instance_per_node,creation_time,scheduled_time,deletion_time\n",
    );
    for i in 0..6 {
        csv.push_str(&format!("i{i},CN,app_x,1,1,0,0,0,0,1.0,1.0,1.0,1.0,2,{i}.0,,\n"));
    }
    std::fs::write(dir.path().join("dlrm.csv"), csv).unwrap();
    let scenario = "apiVersion: kubesim/v1\nkind: Scenario\nseed: 1\nduration: 5m\ncluster:\n  nodePools:\n  - name: n\n    count: 2\n    allocatable: {cpu: \"64\", memory: 256Gi}\nworkloads:\n  traces:\n  - {format: dlrm, path: dlrm.csv}\n";
    std::fs::write(dir.path().join("s.yaml"), scenario).unwrap();
    let file = dir.path().join("s.yaml");
    for (scheduler, running) in [("best-fit", 4), ("fgd", 4), ("default", 6)] {
        let sc = scenario::load(&file, &[format!("scheduler.name={scheduler}")]).unwrap();
        let r = run(&sc, &RunOptions { check_invariants: true, ..Default::default() }).unwrap();
        assert_eq!(r.summary.counts.running_at_end, running, "{scheduler}");
        assert_eq!(r.summary.counts.unschedulable_at_end, 6 - running, "{scheduler}");
        for n in r.cluster.nodes() {
            let per_node = n.pods.len();
            if scheduler != "default" {
                assert!(per_node <= 2, "{scheduler}: {per_node} pods on {}", n.node.name);
            }
        }
    }
}
