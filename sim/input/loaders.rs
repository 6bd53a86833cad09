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

/// Every trace loader, by name. Add one line per loader.
pub const TRACE_LOADERS: &[(&str, Loader)] = &[];

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
