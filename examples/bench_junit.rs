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
    if std::env::args().any(|a| a == "--raw") {
        // Floor: quick-xml events only, no JUnit processing.
        let file = std::fs::File::open(&path).expect("open input");
        let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(64 * 1024, file));
        let mut buf = Vec::new();
        let mut events = 0u64;
        loop {
            match reader.read_event_into(&mut buf) {
                Ok(quick_xml::events::Event::Eof) | Err(_) => break,
                Ok(_) => events += 1,
            }
            buf.clear();
        }
        eprintln!(
            "{path}: {events} events in {:.3}s (raw quick-xml)",
            start.elapsed().as_secs_f64()
        );
        return;
    }
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
