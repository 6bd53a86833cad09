//! Fuzz target: `kubesim::input::loaders::manifests` must return a result or an error, never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = kubesim::input::loaders::manifests(data);
});
