#![no_main]
//! trx reader: must return Ok or Err, never panic, hang or allocate without bound.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut cases = 0u64;
    if let Ok(summary) = controlgate::ingest::trx::parse(data, 0, &mut |_case| cases += 1) {
        assert_eq!(summary.cases, cases, "summary counts every test passed to on_case");
    }
});
