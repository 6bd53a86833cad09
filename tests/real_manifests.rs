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
            // Workload kinds (Deployment, StatefulSet) come with the controllers.
            Err(e) => assert!(e.message.contains("is not supported here"), "{}: {e}", f.display()),
        }
    }
    assert!(loaded >= 3, "some nodes and pods load");
}
