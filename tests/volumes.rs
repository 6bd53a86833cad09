//! End-to-end storage behaviour: PersistentVolumes, claims and StorageClasses through the PV
//! controller, the volume scheduler plugins and the StatefulSet controller, with the invariant
//! checker on after every event.

use kubesim::cluster::{ClusterState, PodPhase};
use kubesim::input::scenario;
use kubesim::run::{RunOptions, RunResult, Simulation};
use std::path::Path;

const HEAD: &str = "apiVersion: kubesim/v1
kind: Scenario
seed: 1
duration: 10m
cluster:
  nodePools:
  - name: n
    count: 3
    zones: [zone-a, zone-b, zone-c]
    allocatable: {cpu: 8, memory: 16Gi}
";

const STORAGE: &str = "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: static}
provisioner: kubernetes.io/no-provisioner
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: zonal}
provisioner: ebs.csi.aws.com
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: regional}
provisioner: ebs.csi.aws.com
allowedTopologies:
- matchLabelExpressions:
  - {key: topology.kubernetes.io/zone, values: [zone-b]}
";

fn claim(name: &str, class: &str, size: &str, mode: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {name}}}\nspec:\n  storageClassName: {class}\n  accessModes: [{mode}]\n  resources: {{requests: {{storage: {size}}}}}\n"
    )
}

fn volume(name: &str, class: &str, size: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: {name}}}\nspec:\n  storageClassName: {class}\n  accessModes: [ReadWriteOnce]\n  capacity: {{storage: {size}}}\n  csi: {{driver: ebs.csi.aws.com}}\n"
    )
}

fn pod(name: &str, claims: &[&str], extra: &str) -> String {
    let vols: String = claims
        .iter()
        .enumerate()
        .map(|(i, c)| format!("      - {{name: v{i}, persistentVolumeClaim: {{claimName: {c}}}}}\n"))
        .collect();
    format!(
        "  - metadata: {{name: {name}}}\n    spec:\n{extra}      containers:\n      - {{name: c, image: i, resources: {{requests: {{cpu: 100m}}}}}}\n      volumes:\n{vols}"
    )
}

/// Runs `scenario` (head + pods + timeline) with `manifests` written next to it, checking
/// invariants after every event; `at` is called after every event with the time in seconds.
fn run_with(
    manifests: &str,
    rest: &str,
    at: &mut dyn FnMut(f64, &ClusterState),
) -> (RunResult, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("storage.yaml"), manifests).unwrap();
    let text = format!("{HEAD}workloads:\n  manifests: [storage.yaml]\n{rest}");
    let sc = scenario::load_str(&text, "test.yaml", dir.path(), &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("out");
    let opts = RunOptions { out_dir: Some(out.clone()), check_invariants: true, ..Default::default() };
    let r =
        Simulation::new(&sc, &opts).unwrap().run_observed(&opts, &mut |o| at(o.now.0 as f64 / 1e6, o.cluster)).unwrap();
    let events = std::fs::read_to_string(out.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (r, events)
}

fn pod_state<'a>(c: &'a ClusterState, name: &str) -> &'a kubesim::cluster::PodState {
    c.pods().rev().find(|p| p.pod.name == name).unwrap()
}

fn zone_of_node(c: &ClusterState, p: &kubesim::cluster::PodState) -> String {
    c.node(p.node.unwrap()).node.zone().to_string()
}

fn last_message(events: &[serde_json::Value], pod: &str) -> String {
    events
        .iter()
        .rev()
        .find(|e| e["kind"] == "pod_unschedulable" && e["pod"] == format!("default/{pod}"))
        .map(|e| e["message"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[test]
fn a_statefulset_with_wait_for_first_consumer_zonal_volumes_lands_in_the_volumes_zone_and_stays_pending_while_that_zone_is_down()
 {
    let sc = scenario::load(Path::new("scenarios/statefulset-zonal-volumes.yaml"), &[]).unwrap();
    let opts = RunOptions { out_dir: None, check_invariants: true, ..Default::default() };
    let mut during_outage = Vec::new();
    let r = Simulation::new(&sc, &opts)
        .unwrap()
        .run_observed(&opts, &mut |o| {
            let t = o.now.0 / 1_000_000;
            if (250..720).contains(&t)
                && let Some(p) = o.cluster.pods().find(|p| p.pod.name == "db-2")
            {
                during_outage.push((p.phase, p.node));
            }
        })
        .unwrap();
    assert!(!during_outage.is_empty());
    assert!(
        during_outage.iter().all(|(phase, node)| *phase == PodPhase::Pending && node.is_none()),
        "db-2 stays Pending and unbound while zone-c is down"
    );
    let c = &r.cluster;
    let store = c.volumes();
    for name in ["db-0", "db-1", "db-2"] {
        let p = pod_state(c, name);
        assert_eq!(p.phase, PodPhase::Running, "{name}");
        let claim = store.claim("default", &format!("data-{name}")).unwrap();
        let pv = store.bound_volume(claim).unwrap();
        let pv_zone = pv.labels.get("topology.kubernetes.io/zone").cloned().unwrap();
        assert_eq!(zone_of_node(c, p), pv_zone, "{name} runs in its volume's zone");
    }
    assert_eq!(store.bound_volume(store.claim("default", "data-db-2").unwrap()).unwrap().name, "ssd-c");
    let v = r.summary.volumes.as_ref().unwrap();
    assert_eq!((v.pvcs, v.pvcs_bound, v.pvs_provisioned), (3, 3, 2));
}

#[test]
fn the_pending_statefulset_pod_reports_the_volume_node_affinity_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario::load(Path::new("scenarios/statefulset-zonal-volumes.yaml"), &[]).unwrap();
    kubesim::run::run(
        &sc,
        &RunOptions { out_dir: Some(dir.path().into()), check_invariants: false, ..Default::default() },
    )
    .unwrap();
    let events: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let msg = last_message(&events, "db-2");
    assert!(msg.contains("4 node(s) had volume node affinity conflict"), "{msg}");
    assert!(msg.contains("2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }"), "{msg}");
}

#[test]
fn immediate_binding_chooses_the_smallest_volume_that_fits() {
    let manifests = format!(
        "{STORAGE}{}{}{}{}",
        volume("pv-50", "static", "50Gi"),
        volume("pv-10", "static", "10Gi"),
        volume("pv-5", "static", "5Gi"),
        claim("data", "static", "8Gi", "ReadWriteOnce")
    );
    let (r, events) = run_with(&manifests, &format!("  pods:\n{}", pod("app", &["data"], "")), &mut |_, _| {});
    let store = r.cluster.volumes();
    assert_eq!(store.claim("default", "data").unwrap().volume_name.as_deref(), Some("pv-10"));
    assert!(events.iter().any(|e| e["kind"] == "pvc_bound" && e["pv"] == "pv-10" && e["time_us"] == 0));
    assert_eq!(pod_state(&r.cluster, "app").phase, PodPhase::Running);
}

#[test]
fn an_unbound_immediate_claim_keeps_its_pod_pending_with_upstreams_message() {
    let manifests = format!("{STORAGE}{}", claim("data", "static", "8Gi", "ReadWriteOnce"));
    let (r, events) = run_with(&manifests, &format!("  pods:\n{}", pod("app", &["data"], "")), &mut |_, _| {});
    assert_eq!(pod_state(&r.cluster, "app").phase, PodPhase::Pending);
    assert_eq!(
        last_message(&events, "app"),
        "0/3 nodes are available: 3 pod has unbound immediate PersistentVolumeClaims."
    );
    assert_eq!(r.summary.volumes.as_ref().unwrap().pvcs_pending, 1);
}

#[test]
fn a_missing_claim_keeps_its_pod_pending() {
    let (r, events) = run_with(STORAGE, &format!("  pods:\n{}", pod("app", &["ghost"], "")), &mut |_, _| {});
    assert_eq!(pod_state(&r.cluster, "app").phase, PodPhase::Pending);
    assert_eq!(last_message(&events, "app"), "0/3 nodes are available: 3 persistentvolumeclaim \"ghost\" not found.");
}

#[test]
fn immediate_provisioning_follows_the_allowed_topologies_and_pulls_the_pod_there() {
    let manifests = format!("{STORAGE}{}", claim("data", "regional", "8Gi", "ReadWriteOnce"));
    let (r, events) = run_with(&manifests, &format!("  pods:\n{}", pod("app", &["data"], "")), &mut |_, _| {});
    assert!(events.iter().any(|e| e["kind"] == "pv_provisioned" && e["zone"] == "zone-b"));
    assert_eq!(zone_of_node(&r.cluster, pod_state(&r.cluster, "app")), "zone-b");
}

#[test]
fn wait_for_first_consumer_provisions_in_the_zone_of_the_chosen_node() {
    let manifests = format!("{STORAGE}{}", claim("data", "zonal", "8Gi", "ReadWriteOnce"));
    let pin = "      nodeSelector: {topology.kubernetes.io/zone: zone-c}\n";
    let mut bound_before_scheduling = false;
    let (r, events) = run_with(&manifests, &format!("  pods:\n{}", pod("app", &["data"], pin)), &mut |_, c| {
        let claim = c.volumes().claim("default", "data").unwrap();
        let p = pod_state(c, "app");
        bound_before_scheduling |= claim.bound && p.node.is_none();
    });
    assert!(!bound_before_scheduling, "the claim waits for its first consumer");
    let store = r.cluster.volumes();
    let c = store.claim("default", "data").unwrap();
    assert_eq!(c.selected_node.as_deref(), Some("n-2"));
    let pv = store.bound_volume(c).unwrap();
    assert!(pv.provisioned && pv.capacity_bytes == 8 << 30);
    assert_eq!(pv.labels.get("topology.kubernetes.io/zone").map(String::as_str), Some("zone-c"));
    assert!(events.iter().any(|e| e["kind"] == "pv_provisioned" && e["zone"] == "zone-c"));
}

#[test]
fn a_read_write_once_pod_claim_admits_one_pod_until_it_is_gone() {
    let manifests = format!(
        "{STORAGE}{}{}",
        volume("pv-1", "static", "10Gi").replace("[ReadWriteOnce]", "[ReadWriteOncePod]"),
        claim("solo", "static", "1Gi", "ReadWriteOncePod")
    );
    let first = "      terminationGracePeriodSeconds: 0\n";
    let rest = format!(
        "  pods:\n{}{}timeline:\n- {{at: 2m, deletePod: first}}\n",
        pod("first", &["solo"], first),
        pod("second", &["solo"], "")
    );
    let mut second_waited = false;
    let (r, events) = run_with(&manifests, &rest, &mut |t, c| {
        if (1.0..119.0).contains(&t) {
            second_waited |= pod_state(c, "second").phase == PodPhase::Pending;
        }
    });
    assert!(second_waited);
    assert!(events.iter().any(|e| {
        e["kind"] == "pod_unschedulable"
            && e["pod"] == "default/second"
            && e["message"].as_str().unwrap().contains(
                "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode",
            )
    }),);
    assert_eq!(pod_state(&r.cluster, "second").phase, PodPhase::Running, "scheduled once the first pod is gone");
}

#[test]
fn a_node_at_its_csi_attach_limit_takes_no_new_volume() {
    let dir_manifests = format!(
        "{STORAGE}{}{}",
        claim("d1", "zonal", "1Gi", "ReadWriteOnce"),
        claim("d2", "zonal", "1Gi", "ReadWriteOnce")
    );
    // One node, with room for one ebs.csi.aws.com volume.
    let head_one = HEAD.replace("count: 3", "count: 1").replace(
        "allocatable: {cpu: 8, memory: 16Gi}",
        "allocatable: {cpu: 8, memory: 16Gi, attachable-volumes-csi-ebs.csi.aws.com: 1}",
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("storage.yaml"), dir_manifests).unwrap();
    let text = format!(
        "{head_one}workloads:\n  manifests: [storage.yaml]\n  pods:\n{}{}",
        pod("p1", &["d1"], ""),
        pod("p2", &["d2"], "")
    );
    let sc = scenario::load_str(&text, "test.yaml", dir.path(), &[]).unwrap_or_else(|e| panic!("{e}"));
    let r =
        kubesim::run::run(&sc, &RunOptions { out_dir: None, check_invariants: true, ..Default::default() }).unwrap();
    let phases: Vec<PodPhase> = ["p1", "p2"].iter().map(|n| pod_state(&r.cluster, n).phase).collect();
    assert_eq!(phases, vec![PodPhase::Running, PodPhase::Pending]);
    assert!(!r.cluster.volumes().claim("default", "d2").unwrap().bound);
}

#[test]
fn statefulset_claims_are_retained_on_scale_down_and_reused_on_scale_up() {
    let sts = "---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: i, resources: {requests: {cpu: 100m}}}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {storageClassName: zonal, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
";
    let rest = "timeline:\n- {at: 2m, scale: {kind: StatefulSet, name: db, replicas: 1}}\n- {at: 4m, scale: {kind: StatefulSet, name: db, replicas: 2}}\n";
    let mut claims_at_3m = 0;
    let (r, events) = run_with(&format!("{STORAGE}{sts}"), rest, &mut |t, c| {
        if (179.0..181.0).contains(&t) {
            claims_at_3m = c.volumes().claims.len();
        }
    });
    assert_eq!(claims_at_3m, 2, "data-db-1 is retained after scale-down");
    let provisioned = events.iter().filter(|e| e["kind"] == "pv_provisioned").count();
    assert_eq!(provisioned, 2, "db-1 reuses its volume on scale-up");
    let c = &r.cluster;
    let store = c.volumes();
    let pv = store.bound_volume(store.claim("default", "data-db-1").unwrap()).unwrap();
    assert_eq!(Some(zone_of_node(c, pod_state(c, "db-1"))), pv.labels.get("topology.kubernetes.io/zone").cloned());
}

#[test]
fn ephemeral_volumes_get_a_claim_named_after_the_pod() {
    let text = "  pods:
  - metadata: {name: scratch}
    spec:
      containers: [{name: c, image: i}]
      volumes:
      - name: tmp
        ephemeral:
          volumeClaimTemplate:
            spec: {storageClassName: zonal, accessModes: [ReadWriteOnce], resources: {requests: {storage: 2Gi}}}
";
    let (r, _) = run_with(STORAGE, text, &mut |_, _| {});
    let c = r.cluster.volumes().claim("default", "scratch-tmp").unwrap();
    assert!(c.bound);
    assert_eq!(pod_state(&r.cluster, "scratch").phase, PodPhase::Running);
}

#[test]
fn explain_shows_the_volume_node_affinity_conflict_per_node() {
    let dir = tempfile::tempdir().unwrap();
    let node = |name: &str, zone: &str| {
        format!(
            "---\napiVersion: v1\nkind: Node\nmetadata: {{name: {name}, labels: {{topology.kubernetes.io/zone: {zone}}}}}\nstatus: {{allocatable: {{cpu: 4, memory: 8Gi, pods: 110}}}}\n"
        )
    };
    let pv = "---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv-a, labels: {topology.kubernetes.io/zone: a}}\nspec:\n  storageClassName: static\n  accessModes: [ReadWriteOnce]\n  capacity: {storage: 1Gi}\n  nodeAffinity:\n    required:\n      nodeSelectorTerms:\n      - matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [a]}]\n";
    let pod = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: app}\nspec:\n  containers: [{name: c, image: i}]\n  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]\n";
    let text = format!(
        "{STORAGE}{}{}{pv}{}{pod}",
        node("n-a", "a"),
        node("n-b", "b"),
        claim("data", "static", "1Gi", "ReadWriteOnce")
    );
    let f = dir.path().join("m.yaml");
    std::fs::write(&f, text).unwrap();
    let e = kubesim::explain::explain(&[f], None, "app", 1).unwrap();
    assert_eq!(e.selected.as_deref(), Some("n-a"));
    let b = e.nodes.iter().find(|n| n.name == "n-b").unwrap();
    assert!(!b.feasible);
    assert_eq!(b.reasons, vec!["node(s) had volume node affinity conflict"]);
}
