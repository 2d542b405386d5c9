//! Reader throughput per format on equal test populations (issue 19: every reader within 2× the
//! JUnit reader's time per test). `bench/results.sh` generates the inputs and runs this:
//! `cargo run --release --example results_bench -- [--runs N] FILE...`
//!
//! Each file goes through `ingest::results::parse` (detection included), as `--results` reads
//! it; the consumer only counts, so what is timed is the reader. Prints, per file, the format,
//! the tests, the median time of N runs, ns per test and MB/s, and the ratio to the JUnit file's
//! ns per test when one is given.

use std::io::BufReader;
use std::time::{Duration, Instant};

use controlgate::ingest::results;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 5usize;
    if let Some(at) = args.iter().position(|a| a == "--runs") {
        runs = args
            .get(at + 1)
            .and_then(|n| n.parse().ok())
            .expect("--runs N");
        args.drain(at..at + 2);
    }
    assert!(!args.is_empty(), "usage: results_bench [--runs N] FILE...");
    let mut rows = Vec::new();
    for path in &args {
        let bytes = std::fs::metadata(path).expect("stat input").len();
        let mut times = Vec::with_capacity(runs);
        let mut outcome = None;
        for _ in 0..runs {
            let file = std::fs::File::open(path).expect("open input");
            let mut tests = 0u64;
            let start = Instant::now();
            let parsed =
                results::parse(BufReader::with_capacity(64 * 1024, file), 0, &mut |case| {
                    tests += 1;
                    std::hint::black_box(&case);
                });
            times.push(start.elapsed());
            match parsed {
                Ok((format, summary)) => {
                    assert_eq!(summary.cases, tests);
                    outcome = Some((format, tests));
                }
                Err(e) => {
                    eprintln!("{path}{}: {e}", e.location);
                    std::process::exit(2);
                }
            }
        }
        times.sort();
        let median = times[times.len() / 2];
        let (format, tests) = outcome.expect("at least one run");
        rows.push((path.clone(), format, tests, bytes, median));
    }
    let junit_ns = rows
        .iter()
        .find(|r| r.1 == results::Format::Junit)
        .map(|r| per_test(r.4, r.2));
    println!("| format | file | tests | MB | median | ns/test | MB/s | × JUnit ns/test |");
    println!("| --- | --- | --: | --: | --: | --: | --: | --: |");
    for (path, format, tests, bytes, median) in rows {
        let ns = per_test(median, tests);
        let name = std::path::Path::new(&path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or(path);
        println!(
            "| {} | {name} | {tests} | {:.1} | {:.3} s | {ns:.0} | {:.0} | {} |",
            format.name(),
            bytes as f64 / 1e6,
            median.as_secs_f64(),
            bytes as f64 / 1e6 / median.as_secs_f64(),
            junit_ns.map_or("—".into(), |j| format!("{:.2}", ns / j)),
        );
    }
}

fn per_test(time: Duration, tests: u64) -> f64 {
    time.as_nanos() as f64 / tests.max(1) as f64
}
