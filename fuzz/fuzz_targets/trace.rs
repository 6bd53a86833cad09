//! Fuzz target: every trace loader of `kubesim::input::loaders::TRACE_LOADERS` (one line each
//! there) must return a result or an error, never panic. The first byte picks the loader.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let loaders = kubesim::input::loaders::TRACE_LOADERS;
    if let Some((first, rest)) = data.split_first()
        && !loaders.is_empty()
    {
        let (_, load) = loaders[*first as usize % loaders.len()];
        let _ = load(rest);
    }
});
