//! No input makes a loader panic: every loader of `kubesim::input::loaders` (scenario,
//! manifests, KubeSchedulerConfiguration, quantity, duration, and each trace loader) is fed
//! arbitrary bytes, YAML-ish token soup, and mutations of the valid seed inputs the fuzz targets
//! start from (`fuzz/corpus/<target>/`), and must return a result or an error every time.

use kubesim::input::loaders::{self, Loader};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::Path;

/// The seed inputs of a loader: the files of its fuzz corpus (the trace target's files start
/// with a byte that picks the loader, which is stripped here).
fn seeds(name: &str) -> Vec<Vec<u8>> {
    let dir = if name.starts_with("trace/") { "trace" } else { name };
    let mut files: Vec<_> = std::fs::read_dir(Path::new("fuzz/corpus").join(dir))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut v: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    if let Some(loader) = name.strip_prefix("trace/") {
        // Keep the seeds whose first byte picks this loader.
        let index = loaders::TRACE_LOADERS.iter().position(|(n, _)| *n == loader).unwrap_or(usize::MAX);
        v = v
            .into_iter()
            .filter_map(|b| b.split_first().filter(|(i, _)| **i as usize == index).map(|(_, r)| r.to_vec()))
            .collect();
    }
    v.push(Vec::new());
    v
}

fn run_never_panics(name: &str, load: Loader, strategy: impl Strategy<Value = Vec<u8>>, cases: u32) {
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&strategy, |input| {
        let outcome = std::panic::catch_unwind(|| load(&input));
        prop_assert!(outcome.is_ok(), "{name} panicked on {:?}", String::from_utf8_lossy(&input));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

/// A seed with bytes spliced in and cut out, and a few bytes overwritten.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    (
        0..n,
        any::<prop::sample::Index>(),
        "[ -~\n\t]{0,16}",
        0usize..24,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
    )
        .prop_map(move |(i, pos, junk, cut, flips)| {
            let base = &seeds[i];
            let at = if base.is_empty() { 0 } else { pos.index(base.len() + 1) };
            let end = (at + cut).min(base.len());
            let mut out = Vec::with_capacity(base.len() + junk.len());
            out.extend_from_slice(&base[..at]);
            out.extend_from_slice(junk.as_bytes());
            out.extend_from_slice(&base[end..]);
            for (p, b) in flips {
                if !out.is_empty() {
                    let k = p.index(out.len());
                    out[k] = b;
                }
            }
            out
        })
}

/// Token soup built from YAML syntax and the words the loaders look for.
fn yaml_soup() -> impl Strategy<Value = Vec<u8>> {
    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ": ",
        ", ",
        "- ",
        "\n",
        "\n  ",
        "\n    ",
        "&a ",
        "*a",
        "!!str ",
        "? ",
        "|\n  ",
        "'",
        "\"",
        "---\n",
        "...\n",
        "#",
        "kind: ",
        "Pod",
        "Node",
        "Scenario",
        "KubeSchedulerConfiguration",
        "apiVersion: ",
        "kubesim/v1",
        "kubescheduler.config.k8s.io/v1",
        "metadata",
        "name",
        "spec",
        "containers",
        "resources",
        "requests",
        "cpu",
        "memory",
        "1e999",
        "-1",
        "0",
        "1.5",
        "500m",
        "2Gi",
        "99999999999999999999",
        "1h",
        "-5m",
        "duration",
        "cluster",
        "nodePools",
        "count",
        "allocatable",
        "workloads",
        "arrivals",
        "interArrival",
        "exponential",
        "constant",
        "timeline",
        "at",
        "profiles",
        "plugins",
        "score",
        "enabled",
        "weight",
        "pluginConfig",
        "args",
        "null",
        "~",
        "true",
        "NaN",
        ".inf",
    ];
    prop::collection::vec(prop::sample::select(TOKENS), 0..64).prop_map(|t| t.concat().into_bytes())
}

#[test]
fn every_loader_survives_arbitrary_bytes() {
    for (name, load) in loaders::all() {
        run_never_panics(&name, load, prop::collection::vec(any::<u8>(), 0..200), 150);
    }
}

#[test]
fn every_loader_survives_yaml_token_soup() {
    for (name, load) in loaders::all() {
        run_never_panics(&name, load, yaml_soup(), 150);
    }
}

#[test]
fn every_loader_survives_mutations_of_its_valid_inputs() {
    for (name, load) in loaders::all() {
        let seeds = seeds(&name);
        assert!(seeds.len() > 1, "{name}: no seed inputs in fuzz/corpus");
        run_never_panics(&name, load, mutated(seeds), 120);
    }
}

#[test]
fn each_loader_has_a_valid_seed_input() {
    // So that mutations start from inputs that reach deep into each loader.
    for (name, load) in loaders::all() {
        let seeds = seeds(&name);
        assert!(seeds.iter().any(|s| load(s).is_ok()), "{name}: no seed input loads");
    }
}

#[test]
fn nesting_just_under_the_depth_limit_does_not_overflow_a_test_thread_stack() {
    let depth = kubesim::limits::MAX_YAML_DEPTH - 8;
    let doc = format!(
        "kind: Pod\nmetadata: {{name: a}}\nspec:\n  containers: [{{name: c}}]\n  extra: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    assert_eq!(loaders::manifests(doc.as_bytes()), Ok(()));
    let deeper = depth + 32;
    let too_deep = format!(
        "kind: Pod\nmetadata: {{name: a}}\nspec:\n  containers: [{{name: c}}]\n  extra: {}{}\n",
        "[".repeat(deeper),
        "]".repeat(deeper)
    );
    let err = loaders::manifests(too_deep.as_bytes()).unwrap_err();
    assert!(err.contains("KUBESIM_MAX_YAML_DEPTH"), "{err}");
}
