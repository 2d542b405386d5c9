#![no_main]
//! HAR files, each exchange fed to the API analyzer over the petstore description (URL
//! matching, body checks against schemas, confidential-field scans).
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

use controlgate::analyze::api;
use controlgate::config::ApiConfig;
use controlgate::ingest::{har, openapi};

pub fn petstore() -> &'static openapi::Spec {
    static SPEC: OnceLock<openapi::Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = std::path::PathBuf::from("petstore.yaml");
        let mut mem = openapi::Memory::default();
        mem.0.insert(
            path.clone(),
            include_str!("../../tests/fixtures/api/petstore-3.0.yaml").to_owned(),
        );
        openapi::load(&[path], &mut mem).expect("petstore loads")
    })
}

fuzz_target!(|data: &[u8]| {
    let mut a = api::Analyzer::new(petstore(), &ApiConfig::default()).expect("analyzer");
    let _ = har::read_har(data, &mut |ex| a.exchange(&ex, "fuzz.har", true));
    let _ = a.finish(None, Vec::new());
});
