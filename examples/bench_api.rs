//! API coverage benchmark (release build): reads a description, then matches an exchange log.
//!
//! `bench_api generate SPEC N OUT.jsonl` writes N exchanges over the described operations
//! (path parameters filled in, every 10th request undocumented, a mix of 200/401/404, small
//! JSON bodies); `bench_api run SPEC LOG.jsonl` times reading + matching and prints the
//! numbers. `bench/api.sh` does both against GitHub's description.

use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use controlgate::analyze::api::Analyzer;
use controlgate::config::ApiConfig;
use controlgate::ingest::{har, openapi};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("generate") if args.len() == 4 => {
            generate(&args[1], args[2].parse().expect("N"), &args[3])
        }
        Some("run") if args.len() == 3 => run(&args[1], &args[2]),
        Some("drift") if args.len() == 3 => {
            let t = Instant::now();
            let load = |p: &str| {
                openapi::load(
                    &[PathBuf::from(p)],
                    &mut controlgate::gather::openapi::Files { root: None },
                )
                .expect("spec")
            };
            let (a, b) = (load(&args[1]), load(&args[2]));
            let t1 = Instant::now();
            let d = controlgate::analyze::api::drift(&a, &b);
            println!(
                "drift: {} added, {} removed, {} breaking; load {:.0} ms, drift {:.0} ms",
                d.added.len(),
                d.removed.len(),
                d.breaking.len(),
                (t1 - t).as_secs_f64() * 1000.0,
                t1.elapsed().as_secs_f64() * 1000.0
            );
        }
        _ => {
            eprintln!(
                "usage: bench_api generate SPEC N OUT.jsonl | run SPEC LOG.jsonl | drift BASE HEAD"
            );
            std::process::exit(2);
        }
    }
}

fn generate(spec: &str, n: usize, out: &str) {
    let spec = openapi::load(
        &[PathBuf::from(spec)],
        &mut controlgate::gather::openapi::Files { root: None },
    )
    .expect("spec");
    let ops = &spec.operations;
    let mut w = BufWriter::new(std::fs::File::create(out).expect("create"));
    for i in 0..n {
        let op = &ops[(i * 7919) % ops.len()];
        let mut path = String::new();
        let mut depth = 0;
        for c in op.path.chars() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    path.push_str(&format!("v{}", i % 97));
                }
                _ if depth > 0 => {}
                c => path.push(c),
            }
        }
        if i % 10 == 9 {
            path = format!("/undocumented/{}", i % 500);
        }
        let base = op.base_paths.first().cloned().unwrap_or_default();
        let status = match i % 5 {
            0 => 401,
            1 => 404,
            _ => 200,
        };
        let auth = if status == 401 {
            ""
        } else {
            ",\"request_headers\":{\"Authorization\":\"token x\"}"
        };
        let body = if i % 3 == 0 {
            ",\"response_body\":{\"message\":\"m\",\"documentation_url\":\"u\",\"items\":[{\"id\":1,\"token\":\"t\"}]}"
        } else {
            ""
        };
        writeln!(
            w,
            "{{\"method\":\"{}\",\"url\":\"https://api.github.com{base}{path}?page={}\",\"status\":{status}{auth}{body}}}",
            op.method,
            i % 3
        )
        .expect("write");
    }
    w.flush().expect("flush");
    eprintln!("wrote {n} exchanges over {} operations to {out}", ops.len());
}

fn run(spec_path: &str, log: &str) {
    let t0 = Instant::now();
    let spec = openapi::load(
        &[PathBuf::from(spec_path)],
        &mut controlgate::gather::openapi::Files { root: None },
    )
    .expect("spec");
    let t1 = Instant::now();
    let config = ApiConfig {
        confidential_fields: vec!["token".into()],
        ..ApiConfig::default()
    };
    let mut a = Analyzer::new(&spec, &config).expect("analyzer");
    let t2 = Instant::now();
    let file = std::fs::File::open(log).expect("log");
    let n = har::read_log(BufReader::with_capacity(256 * 1024, file), &mut |ex| {
        a.exchange(&ex, "log", false)
    })
    .expect("read log");
    let t3 = Instant::now();
    let s = a.finish(None, vec![]);
    let t4 = Instant::now();
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
    println!(
        "operations {} · exchanges {n} · matched {} · undocumented paths {} · findings {} · coverage {:.1}%",
        s.coverage.described,
        s.matched,
        s.unmatched.len(),
        s.findings.len(),
        s.coverage.percent
    );
    println!(
        "read description {:.0} ms · build matcher {:.0} ms · read+match log {:.0} ms · finish {:.0} ms · total {:.0} ms",
        ms(t0, t1),
        ms(t1, t2),
        ms(t2, t3),
        ms(t3, t4),
        ms(t0, t4)
    );
}
