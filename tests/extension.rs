//! Bring your own scheduler: user plugins through the registry and a KubeSchedulerConfiguration,
//! whole policies in Rust, out-of-process policies (`exec:`) including processes that crash, hang
//! or lie, and the library facade.

#[allow(dead_code)]
#[path = "../examples/custom_plugin.rs"]
mod custom_plugin;
#[allow(dead_code)]
#[path = "../examples/custom_policy.rs"]
mod custom_policy;

use kubesim::prelude::*;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn python3() -> bool {
    let ok = std::process::Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: python3 is not installed");
    }
    ok
}

/// `exec:python3 -c '<code>'` (the code must not contain single quotes).
fn py(code: &str) -> String {
    assert!(!code.contains('\''));
    format!("exec:python3 -c '{code}'")
}

/// A Python prelude answering hello with `ready`, then running `body` for each schedule message
/// (`msg` holds it; `answer(obj)` writes a line).
fn py_policy(body: &str) -> String {
    py(&format!(
        "import sys, json\ndef answer(o):\n    sys.stdout.write(json.dumps(o) + \"\\n\"); sys.stdout.flush()\nfor line in sys.stdin:\n    msg = json.loads(line)\n    if msg[\"type\"] == \"hello\":\n        answer({{\"type\": \"ready\", \"filters\": True}}); continue\n{body}"
    ))
}

fn small(policy: &str, timeout: Option<&str>) -> Scenario {
    let mut b = ScenarioBuilder::new("ext")
        .duration("5m")
        .node_pool("big", 2, "8", "16Gi")
        .node_pool("tiny", 1, "100m", "128Mi")
        .pods("p", 3, "1", "1Gi")
        .scheduler(policy);
    if let Some(t) = timeout {
        b = b.set("scheduler.policyTimeout", t);
    }
    b.build().unwrap()
}

#[test]
fn a_registered_score_plugin_named_in_the_configuration_moves_pods_to_labelled_nodes() {
    let reg = custom_plugin::registry();
    let without = Runner::new(custom_plugin::scenario(&reg, false).unwrap()).run().unwrap();
    let with = Runner::new(custom_plugin::scenario(&reg, true).unwrap()).check_invariants(true).run().unwrap();
    assert_eq!(with.summary.counts.pods_scheduled, 8);
    assert_eq!(custom_plugin::pods_on_ssd(&with), 8, "{:?}", with.placements());
    assert!(custom_plugin::pods_on_ssd(&without) < 8, "spreading also uses the other nodes");
}

#[test]
fn a_configuration_naming_an_unregistered_plugin_is_an_input_error() {
    let e = custom_plugin::scenario(&Registry::new(), true).unwrap_err();
    assert!(e.message.contains("unknown plugin \"PreferLabel\""), "{e}");
    assert_eq!(e.field.as_deref(), Some("scheduler"));
}

#[test]
fn plugin_config_arguments_reach_the_factory_and_bad_ones_are_input_errors() {
    let reg = custom_plugin::registry();
    let sc = custom_plugin::scenario(&reg, true).unwrap();
    let text = sc.text.replace("value: ssd", "valu: ssd");
    let e = kubesim::input::scenario::load_str_with(&text, "s.yaml", std::path::Path::new("."), &[], &reg).unwrap_err();
    assert!(e.message.contains("pluginConfig PreferLabel: unknown field `valu`"), "{e}");
}

#[test]
fn the_bin_pack_policy_packs_pods_and_places_gangs_all_or_none() {
    let sc = custom_policy::scenario().unwrap();
    let spread = Runner::new(sc.clone()).run().unwrap();
    let packed = Runner::new(sc).policy(custom_policy::BinPack).check_invariants(true).run().unwrap();
    let nodes = |r: &RunResult| r.placements().into_values().collect::<BTreeSet<_>>().len();
    assert_eq!((nodes(&spread), nodes(&packed)), (6, 3));
    assert_eq!(packed.summary.scheduler, "bin-pack");
    for i in 0..4 {
        assert!(packed.node_of(&format!("train-a-{i}")).is_some(), "the gang that fits is placed whole");
        assert_eq!(packed.node_of(&format!("train-b-{i}")), None, "the gang that cannot fit is not placed at all");
    }
    assert_eq!(packed.summary.counts.unschedulable_at_end, 4);
}

#[test]
fn a_policy_that_binds_to_an_infeasible_node_ends_the_run() {
    struct Tiny;
    impl Policy for Tiny {
        fn name(&self) -> String {
            "always-tiny".into()
        }
        fn place(&mut self, ctx: &mut PolicyContext<'_>, pods: &[PodId]) -> Result<Vec<Decision>, String> {
            let node = ctx.cluster.node_id("tiny-0").ok_or("no tiny node")?;
            Ok(pods.iter().map(|&pod| Decision::Bind { pod, node }).collect())
        }
    }
    let e = Runner::new(small("default", None)).policy(Tiny).run().unwrap_err().to_string();
    assert!(e.contains("policy always-tiny: placed pod default/p-0 on node tiny-0, which fails the filters"), "{e}");
    assert!(e.contains("Insufficient cpu"), "{e}");
}

#[test]
fn a_policy_draws_from_its_own_seeded_stream() {
    struct RandomFeasible;
    impl Policy for RandomFeasible {
        fn name(&self) -> String {
            "random".into()
        }
        fn place(&mut self, ctx: &mut PolicyContext<'_>, pods: &[PodId]) -> Result<Vec<Decision>, String> {
            use rand::RngExt;
            Ok(pods
                .iter()
                .map(|&pod| {
                    let f = ctx.feasible_nodes(pod);
                    let i = ctx.rng.random_range(0..f.len());
                    Decision::Bind { pod, node: f[i] }
                })
                .collect())
        }
    }
    let sc = |seed: u64| {
        ScenarioBuilder::new("r")
            .seed(seed)
            .duration("1m")
            .node_pool("n", 8, "8", "8Gi")
            .pods("p", 12, "1", "1Gi")
            .build()
            .unwrap()
    };
    let a = Runner::new(sc(1)).policy(RandomFeasible).run().unwrap();
    let b = Runner::new(sc(1)).policy(RandomFeasible).run().unwrap();
    let c = Runner::new(sc(2)).policy(RandomFeasible).run().unwrap();
    assert_eq!(a.summary.trace_digest, b.summary.trace_digest);
    assert_ne!(a.placements(), c.placements());
}

#[test]
fn the_python_example_places_pods_exactly_as_the_same_policy_in_rust() {
    if !python3() {
        return;
    }
    let sc = custom_policy::scenario().unwrap();
    let rust = Runner::new(sc.clone()).policy(custom_policy::BinPack).run().unwrap();
    let python = Runner::new(sc).scheduler("exec:python3 examples/policy.py").check_invariants(true).run().unwrap();
    assert_eq!(python.summary.scheduler, "exec:python3 examples/policy.py");
    assert_eq!(python.placements(), rust.placements());
    assert_eq!(python.summary.counts.unschedulable_at_end, 4);
    // Nodes that hold two pods each: a gang of three is split, counting its own pods.
    let mut b = ScenarioBuilder::new("pods-limit").duration("1m").node_pool_spec(
        serde_json::json!({"name": "n", "count": 3, "allocatable": {"cpu": "8", "memory": "8Gi", "pods": "2"}}),
    );
    for i in 0..3 {
        b = b.pod(
            serde_json::json!({"metadata": {"name": format!("g-{i}"), "labels": {custom_policy::GROUP_LABEL: "g"}},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}}),
        );
    }
    let sc = b.build().unwrap();
    let rust = Runner::new(sc.clone()).policy(custom_policy::BinPack).check_invariants(true).run().unwrap();
    let python = Runner::new(sc).scheduler("exec:python3 examples/policy.py").check_invariants(true).run().unwrap();
    assert_eq!(rust.placements().values().collect::<BTreeSet<_>>().len(), 2, "{:?}", rust.placements());
    assert_eq!(python.placements(), rust.placements());
}

#[test]
fn a_scenario_policy_runs_in_the_scenario_folder_with_its_timeout() {
    if !python3() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy("examples/policy.py", dir.path().join("my_policy.py")).unwrap();
    let text = "apiVersion: kubesim/v1\nkind: Scenario\nduration: 1m\ncluster:\n  nodePools:\n  - {name: n, count: 2, allocatable: {cpu: 4, memory: 4Gi}}\nworkloads:\n  pods:\n  - metadata: {name: a}\n    spec: {containers: [{name: c, resources: {requests: {cpu: 1}}}]}\n  - metadata: {name: b}\n    spec: {containers: [{name: c, resources: {requests: {cpu: 1}}}]}\nscheduler: {policy: \"exec:python3 my_policy.py\", policyTimeout: 20s}\n";
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, text).unwrap();
    let sc = kubesim::input::scenario::load(&path, &[]).unwrap();
    let spec = sc.policy.clone().unwrap();
    assert_eq!((spec.timeout, spec.working_dir.as_deref()), (Duration::from_secs(20), Some(dir.path())));
    let r = Runner::new(sc).run().unwrap();
    assert_eq!(r.node_of("a"), r.node_of("b"), "bin packing puts both pods on one node");
}

#[test]
fn an_exec_policy_run_replays_identically_and_its_seed_matters() {
    if !python3() {
        return;
    }
    let run = |seed: u64| {
        let sc = ScenarioBuilder::new("replay")
            .seed(seed)
            .duration("2m")
            .node_pool("n", 6, "8", "16Gi")
            .pods("p", 10, "1", "1Gi")
            .scheduler("exec:python3 examples/policy.py --random")
            .build()
            .unwrap();
        Runner::new(sc).run().unwrap()
    };
    let (a, b) = (run(5), run(5));
    assert_eq!(a.summary.trace_digest, b.summary.trace_digest);
    // With every node empty, ties are drawn from the seed: some seed must pick differently.
    let first = a.node_of("p-0").map(str::to_string);
    assert!((6..12).any(|s| run(s).node_of("p-0").map(str::to_string) != first));
}

#[test]
fn a_crashing_policy_process_ends_the_run_with_its_status_and_stderr() {
    if !python3() {
        return;
    }
    let policy = py_policy("    sys.stderr.write(\"boom: no model file\\n\"); sys.exit(3)\n");
    let e = Runner::new(small(&policy, None)).run().unwrap_err().to_string();
    assert!(e.contains("exited or closed its output before schedule message 1 (pod default/p-0)"), "{e}");
    assert!(e.contains("exit status 3"), "{e}");
    assert!(e.contains("boom: no model file"), "{e}");
}

#[test]
fn a_hanging_policy_process_is_killed_after_the_timeout() {
    if !python3() {
        return;
    }
    let policy = py_policy("    import time; time.sleep(600)\n");
    let started = Instant::now();
    let e = Runner::new(small(&policy, Some("10s"))).run().unwrap_err().to_string();
    assert!(e.contains("did not answer schedule message 1 (pod default/p-0) within 10s"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(30), "the run ends instead of hanging");
}

#[test]
fn a_policy_process_that_never_answers_hello_times_out_too() {
    if !python3() {
        return;
    }
    let e = Runner::new(small(&py("import time; time.sleep(60)"), Some("200ms"))).run().unwrap_err().to_string();
    assert!(e.contains("did not answer hello within 200ms"), "{e}");
}

#[test]
fn a_lying_policy_process_is_caught() {
    if !python3() {
        return;
    }
    let cases = [
        ("    answer({\"node\": \"nowhere\"})\n", "answered node \"nowhere\", which is not in the cluster"),
        (
            "    answer({\"node\": \"tiny-0\"})\n",
            "placed pod default/p-0 on node tiny-0, which fails the filters: Insufficient cpu",
        ),
        (
            "    answer({\"nodes\": [\"big-0\", \"big-1\"]})\n",
            "1 pod(s) were sent in schedule message 1 (pod default/p-0) but the answer names 2 node(s)",
        ),
        ("    sys.stdout.write(\"big-0\\n\"); sys.stdout.flush()\n", "is not a JSON object: \"big-0\""),
        (
            "    answer({\"choice\": \"big-0\"})\n",
            "expected {\"node\":...}, {\"nodes\":[...]} or {\"unschedulable\":...}",
        ),
        ("    answer({\"node\": 7})\n", "a node must be a name (string), got 7"),
    ];
    for (body, want) in cases {
        let e = Runner::new(small(&py_policy(body), None)).run().unwrap_err().to_string();
        assert!(e.contains(want), "{body}: {e}");
    }
}

#[test]
fn an_unschedulable_answer_leaves_pods_pending_with_the_reason() {
    if !python3() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let policy = py_policy("    answer({\"unschedulable\": \"saving energy\"})\n");
    let r = Runner::new(small(&policy, None)).out_dir(dir.path()).run().unwrap();
    assert_eq!(r.summary.counts.pods_scheduled, 0);
    assert_eq!(r.summary.counts.unschedulable_at_end, 3);
    let events = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert!(events.contains("\"kind\":\"pod_unschedulable\",\"pod\":\"default/p-0\",\"message\":\"saving energy\""));
}

#[test]
fn the_cli_runs_an_exec_policy_and_rejects_bad_policy_flags() {
    if !python3() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_kubesim");
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(bin)
        .args(["run", "scenarios/quickstart.yaml", "-q", "--policy", "exec:python3 examples/policy.py", "--out"])
        .arg(dir.path())
        .args(["--policy-timeout", "30s"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = std::fs::read_to_string(dir.path().join("summary.json")).unwrap();
    assert!(summary.contains("\"scheduler\": \"exec:python3 examples/policy.py\""), "{summary}");
    for (args, want) in [
        (vec!["--policy", "fastest"], "--policy: unknown scheduler \"fastest\""),
        (vec!["--policy", "exec:python3 x.py", "--policy-timeout", "soon"], "--policy-timeout \"soon\""),
        (vec!["--policy-timeout", "1s"], "--policy-timeout applies only to an exec: policy"),
    ] {
        let out = std::process::Command::new(bin)
            .args(["run", "scenarios/quickstart.yaml", "-q"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
