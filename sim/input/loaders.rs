//! Every input loader behind one byte-slice signature, for the fuzz targets (`fuzz/`) and the
//! no-panic property tests (`tests/no_panic.rs`).
//!
//! Each entry takes arbitrary bytes and returns `Ok` or an error message; none may panic, loop
//! for ever or allocate without bound (the sizes an input can ask for are limited by
//! [`crate::limits`]). Adding a trace loader is one line in [`TRACE_LOADERS`].

use crate::input::error::InputError;
use std::path::Path;

/// A loader fed with arbitrary bytes: `Ok(())` on a valid input, else the error message.
pub type Loader = fn(&[u8]) -> Result<(), String>;

fn text(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))
}

fn msg(e: InputError) -> String {
    e.to_string()
}

/// The scenario loader (`kubesim run` / `validate`), with relative paths resolved in a folder
/// that holds no file (so references fail cleanly).
pub fn scenario(bytes: &[u8]) -> Result<(), String> {
    let t = text(bytes)?;
    crate::input::scenario::load_str(t, "fuzz.yaml", Path::new("/nonexistent-kubesim-fuzz"), &[])
        .map(|_| ())
        .map_err(msg)
}

/// The Kubernetes manifest loader: every document parsed, every Pod converted as a run would.
pub fn manifests(bytes: &[u8]) -> Result<(), String> {
    let t = text(bytes)?;
    let mut set = crate::input::manifest::ManifestSet::default();
    set.add_text(t, "fuzz.yaml").map_err(msg)?;
    for (m, _) in &set.pods {
        crate::input::manifest::pod_from_manifest(m, &set)?;
    }
    Ok(())
}

/// The KubeSchedulerConfiguration loader: parsed, validated, and turned into profiles.
pub fn scheduler_config(bytes: &[u8]) -> Result<(), String> {
    let cfg = crate::explain::parse_config(text(bytes)?, "fuzz.yaml").map_err(msg)?;
    crate::scheduler::profiles::profiles_from_config(&cfg).map(|_| ())
}

/// The quantity parser (`500m`, `2Gi`, `1e3`), with the conversions the model uses.
pub fn quantity(bytes: &[u8]) -> Result<(), String> {
    let t = text(bytes)?;
    let q = crate::model::quantity::parse_quantity(t).map_err(|e| e.to_string())?;
    let _ = (q.value(), q.milli_value(), q.is_negative());
    let _ = crate::model::quantity::parse_cpu_millis(t);
    let _ = crate::model::quantity::parse_bytes(t);
    Ok(())
}

/// The Go duration parser (`1h30m`, `250ms`).
pub fn duration(bytes: &[u8]) -> Result<(), String> {
    crate::input::go_duration::parse_duration_micros(text(bytes)?).map(|_| ()).map_err(|e| e.to_string())
}

/// Runs `load` on `bytes` written to a fresh temporary file (the trace loaders stream files).
fn via_file(bytes: &[u8], load: impl FnOnce(&Path) -> Result<crate::trace::Trace, InputError>) -> Result<(), String> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("kubesim-loader-{}-{n}.csv", std::process::id()));
    std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
    let result = load(&path).map(|_| ()).map_err(msg);
    let _ = std::fs::remove_file(&path);
    result
}

fn opts() -> crate::trace::rows::LoadOptions {
    crate::trace::rows::LoadOptions::default()
}

/// openb pod list (arrival mode, no node list).
pub fn trace_openb_pods(bytes: &[u8]) -> Result<(), String> {
    via_file(bytes, |p| crate::trace::openb::load(p, "fuzz.csv", None, crate::trace::openb::Mode::Arrival))
}

/// openb node list (with a pod list holding only its header).
pub fn trace_openb_nodes(bytes: &[u8]) -> Result<(), String> {
    const PODS_HEADER: &[u8] =
        b"name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n";
    let mut inner = Ok(());
    let outer = via_file(PODS_HEADER, |pods| {
        inner = via_file(bytes, |nodes| {
            crate::trace::openb::load(pods, "pods.csv", Some((nodes, "fuzz.csv")), crate::trace::openb::Mode::Timed)
        });
        Ok(crate::trace::Trace::default())
    });
    outer.and(inner)
}

/// Alibaba DLRM 2025 instances.
pub fn trace_dlrm(bytes: &[u8]) -> Result<(), String> {
    via_file(bytes, |p| crate::trace::dlrm::load(p, &opts()))
}

/// Alibaba 2018 `batch_task`.
pub fn trace_alibaba2018_batch_task(bytes: &[u8]) -> Result<(), String> {
    via_file(bytes, |p| crate::trace::alibaba2018::load(p, &opts()))
}

/// Alibaba 2018 `machine_meta`.
pub fn trace_alibaba2018_machines(bytes: &[u8]) -> Result<(), String> {
    via_file(bytes, |p| crate::trace::alibaba2018::load_machines(p, &opts()))
}

/// Google 2011 `task_events`.
pub fn trace_google2011(bytes: &[u8]) -> Result<(), String> {
    via_file(bytes, |p| crate::trace::google2011::load(p, &opts()))
}

/// Philly jobs.
pub fn trace_philly(bytes: &[u8]) -> Result<(), String> {
    via_file(bytes, |p| crate::trace::philly::load(p, &opts()))
}

/// The documented generic CSV.
pub fn trace_generic(bytes: &[u8]) -> Result<(), String> {
    via_file(bytes, |p| crate::trace::generic::load(p, &opts()))
}

/// Every trace loader, by name. Add one line per loader (the fuzz target's first byte picks one
/// by its index here, so append rather than reorder).
pub const TRACE_LOADERS: &[(&str, Loader)] = &[
    ("openb_pods", trace_openb_pods),
    ("openb_nodes", trace_openb_nodes),
    ("dlrm", trace_dlrm),
    ("alibaba2018_batch_task", trace_alibaba2018_batch_task),
    ("alibaba2018_machines", trace_alibaba2018_machines),
    ("google2011", trace_google2011),
    ("philly", trace_philly),
    ("generic", trace_generic),
];

/// Every loader, by name (the trace loaders under `trace/NAME`).
pub fn all() -> Vec<(String, Loader)> {
    let mut v: Vec<(String, Loader)> = vec![
        ("scenario".into(), scenario as Loader),
        ("manifests".into(), manifests),
        ("scheduler_config".into(), scheduler_config),
        ("quantity".into(), quantity),
        ("duration".into(), duration),
    ];
    v.extend(TRACE_LOADERS.iter().map(|(n, l)| (format!("trace/{n}"), *l)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_inputs_load_and_garbage_is_an_error() {
        assert_eq!(quantity(b"500m"), Ok(()));
        assert!(quantity(b"5x5").is_err());
        assert_eq!(duration(b"1h30m"), Ok(()));
        assert!(duration(b"\xff").is_err());
        assert_eq!(manifests(b"kind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c}]}\n"), Ok(()));
        let cfg = b"apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";
        assert_eq!(scheduler_config(cfg), Ok(()));
        let sc = b"apiVersion: kubesim/v1\nkind: Scenario\nduration: 1h\n";
        assert_eq!(scenario(sc), Ok(()));
        assert!(scenario(b"kind: [").is_err());
    }
}
