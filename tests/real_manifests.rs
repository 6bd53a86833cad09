//! The real manifests under `../shared/data/k8s-manifests/` (kube-scheduler's scheduler_perf
//! templates, kubernetes/examples, alibaba/open-simulator) load, or fail with a clear message
//! for kinds kubesim does not model yet. Skipped, with a printed reason, when the folder is absent.

use kubesim::input::manifest::{ManifestSet, pod_from_manifest};
use std::path::Path;

const DATA: &str = "../shared/data/k8s-manifests";

fn files(dir: &str) -> Option<Vec<std::path::PathBuf>> {
    let d = Path::new(DATA).join(dir);
    if !d.is_dir() {
        eprintln!("skipped: {} is absent (the shared reference data is not here)", d.display());
        return None;
    }
    let mut v: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    Some(v)
}

#[test]
fn every_scheduler_perf_template_loads_as_a_node_or_pod() {
    let Some(files) = files("scheduler_perf") else { return };
    assert!(files.len() >= 10);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut set = ManifestSet::default();
        set.add_text(&text, &f.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.nodes.len() + set.pods.len(), 1, "{}", f.display());
        for (m, origin) in &set.pods {
            let pod = pod_from_manifest(m, &set).unwrap_or_else(|e| panic!("{origin}: {e}"));
            assert!(!pod.name.is_empty(), "generateName gives a name");
        }
    }
}

#[test]
fn open_simulator_nodes_and_pods_load() {
    let Some(files) = files("open-simulator") else { return };
    let mut loaded = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut set = ManifestSet::default();
        match set.add_text(&text, &f.display().to_string()) {
            Ok(()) => {
                for (m, origin) in &set.pods {
                    pod_from_manifest(m, &set).unwrap_or_else(|e| panic!("{origin}: {e}"));
                }
                loaded += set.nodes.len() + set.pods.len();
            }
            Err(e) => panic!("{}: {e}", f.display()),
        }
        for p in &set.workloads {
            kubesim::input::workloads::convert(p, &set).unwrap_or_else(|e| panic!("{e}"));
            loaded += 1;
        }
    }
    assert!(loaded >= 6, "nodes, pods, Deployments and a StatefulSet load");
}

#[test]
fn every_workload_manifest_loads_with_its_defaults() {
    let mut workloads = Vec::new();
    for dir in ["kubernetes-examples", "open-simulator"] {
        let Some(files) = files(dir) else { return };
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let mut set = ManifestSet::default();
            set.add_text(&text, &f.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
            for p in &set.workloads {
                workloads.push(kubesim::input::workloads::convert(p, &set).unwrap_or_else(|e| panic!("{e}")));
            }
        }
    }
    let kinds: std::collections::BTreeSet<&str> = workloads.iter().map(|w| w.kind().as_str()).collect();
    assert!(kinds.contains("Deployment") && kinds.contains("StatefulSet"), "{kinds:?}");
    let vllm = workloads.iter().find(|w| w.meta().name.contains("vllm") || w.meta().name.contains("gemma"));
    assert!(
        vllm.is_some(),
        "the vLLM deployment loads: {:?}",
        workloads.iter().map(|w| w.meta().name.clone()).collect::<Vec<_>>()
    );
}

#[test]
fn the_guestbook_frontend_runs_to_its_replicas() {
    let path = Path::new(DATA).join("kubernetes-examples/web_guestbook_frontend-deployment.yaml");
    if !path.is_file() {
        eprintln!("skipped: {} is absent", path.display());
        return;
    }
    let text = format!(
        "apiVersion: kubesim/v1\nkind: Scenario\nduration: 5m\ncluster:\n  nodePools:\n  - {{name: p, count: 3, allocatable: {{cpu: 8, memory: 32Gi}}}}\nworkloads:\n  manifests: [{}]\n",
        path.canonicalize().unwrap().display()
    );
    let sc = kubesim::input::scenario::load_str(&text, "guestbook.yaml", Path::new("."), &[]).unwrap();
    let r = kubesim::run::run(&sc, &kubesim::run::RunOptions::default()).unwrap();
    let running = r.cluster.pods().filter(|p| p.phase == kubesim::cluster::PodPhase::Running).count();
    let want = match &sc.workloads[0] {
        kubesim::controllers::Workload::Deployment(d) => d.spec.replicas as usize,
        other => panic!("{other:?}"),
    };
    assert_eq!(running, want);
}
