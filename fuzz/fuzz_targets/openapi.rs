#![no_main]
//! One OpenAPI document (YAML or JSON) loaded from memory: parse, `$ref` checks, operations,
//! then the API analyzer's setup and drift against itself (walks every schema).
use libfuzzer_sys::fuzz_target;

use controlgate::analyze::api;
use controlgate::config::ApiConfig;
use controlgate::ingest::openapi;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = std::path::PathBuf::from("openapi.yaml");
    let mut mem = openapi::Memory::default();
    mem.0.insert(path.clone(), text.to_owned());
    let Ok(spec) = openapi::load(&[path], &mut mem) else { return };
    let _ = api::drift(&spec, &spec);
    if let Ok(a) = api::Analyzer::new(&spec, &ApiConfig::default()) {
        let _ = a.finish(Some(&spec), Vec::new());
    }
});
