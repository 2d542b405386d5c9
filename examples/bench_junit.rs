//! Times the streaming JUnit parser on one file (release build recommended):
//! `cargo run --release --example bench_junit -- /tmp/junit-big/junit.xml`
//! Peak memory: `/usr/bin/time -v target/release/examples/bench_junit FILE`.

use std::io::BufReader;
use std::time::Instant;

use controlgate::ingest::junit;
use controlgate::model::CaseStatus;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: bench_junit FILE.xml [--dump]");
    let dump = std::env::args().any(|a| a == "--dump");
    let start = Instant::now();
    let file = std::fs::File::open(&path).expect("open input");
    let mut counts = [0u64; 4];
    let mut flaky = 0u64;
    let mut props = 0usize;
    let summary = junit::parse(BufReader::with_capacity(64 * 1024, file), 0, &mut |case| {
        counts[case.status as usize] += 1;
        flaky += u64::from(case.flaky);
        props += case.properties.len();
        if dump {
            println!("{case:?}");
        }
    });
    let elapsed = start.elapsed();
    match summary {
        Ok(s) => eprintln!(
            "{path}: {} cases in {} suites in {:.3}s; passed {} skipped {} failed {} errored {} flaky {flaky} properties {props}",
            s.cases,
            s.suites,
            elapsed.as_secs_f64(),
            counts[CaseStatus::Passed as usize],
            counts[CaseStatus::Skipped as usize],
            counts[CaseStatus::Failed as usize],
            counts[CaseStatus::Errored as usize],
        ),
        Err(e) => {
            eprintln!("{path}{}: {e}", e.location);
            std::process::exit(2);
        }
    }
}
