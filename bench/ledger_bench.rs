//! Times `verify` and `audit` (every format, HTML included) over a generated ledger (default
//! 10,000 entries, a year).
//! Run through `bench/ledger.sh` (release build). Prints one line per measurement.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use controlgate::retain::audit::{AuditFormat, AuditQuery};
use controlgate::retain::{
    BundleInput, ControlSummary, CoverageSummary, DirStore, LedgerPercent, RunIdentity,
    VerifyOptions, WriteOptions, audit_store, verify_store, write_evidence_with,
};

fn input(i: u64) -> BundleInput {
    let pr = (i % 10 != 0).then_some(i / 3 + 1);
    BundleInput {
        report_json: format!(
            "{{\"schema\":1,\"run\":{i},\"tests\":[{}]}}",
            "1,".repeat(200) + "1"
        )
        .into_bytes()
        .into(),
        summary_md: format!("## controlgate\nrun {i}\n"),
        redacted: Default::default(),
        inputs: vec![
            (
                "target/junit.xml".into(),
                "<testsuite>".repeat(100).into_bytes().into(),
            ),
            (
                "coverage/lcov.info".into(),
                "DA:1,1\n".repeat(200).into_bytes().into(),
            ),
        ],
        identity: RunIdentity {
            repository: Some("acme/app".into()),
            head_sha: Some(format!("{:040x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15))),
            pr_number: pr,
            ..RunIdentity::new()
        },
        verdict: if i % 50 == 0 { "fail" } else { "pass" }.into(),
        controls: ["CC8.1", "CC6.1", "CC7.2", "CC6.6", "A1.2"]
            .iter()
            .map(|id| ControlSummary {
                id: (*id).into(),
                status: "pass".into(),
                tests: 4,
            })
            .collect(),
        coverage: Some(CoverageSummary {
            percent: Some(LedgerPercent::from_f64(81.5)),
            delta_pp: Some(LedgerPercent::from_f64(-0.25)),
            patch_percent: Some(LedgerPercent::from_f64(90.0)),
        }),
        api: None,
        tickets: pr.map(|p| vec![format!("PROJ-{p}")]).unwrap_or_default(),
        tests: None,
    }
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let start: DateTime<Utc> = "2025-01-01T00:00:00Z".parse().expect("date");
    let step = 31_536_000 / n as i64;
    let t = Instant::now();
    {
        let store = DirStore::new(tmp.path()).without_fsync();
        for i in 1..=n {
            let opts = WriteOptions {
                fallback_dir: tmp.path().join("fallback"),
                now: Some(start + Duration::seconds(step * i as i64)),
            };
            write_evidence_with(&store, &input(i), &opts).expect("write");
        }
    }
    println!(
        "generate {n} entries (no fsync): {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let store = DirStore::new(tmp.path());
    let time = |label: &str, f: &mut dyn FnMut()| {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            f();
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{label}: {best:.3} s (best of 3)");
    };
    time("verify chain only", &mut || {
        let o = verify_store(
            &store,
            &VerifyOptions {
                bundles: false,
                ..Default::default()
            },
        )
        .expect("verify");
        assert!(o.intact && o.entries == n);
    });
    time("verify chain + bundles", &mut || {
        let o = verify_store(&store, &VerifyOptions::default()).expect("verify");
        assert!(o.intact && o.bundles_checked == n);
    });
    let q = AuditQuery {
        from: "2025-01-01".parse().expect("date"),
        to: "2025-12-31".parse().expect("date"),
        control: None,
        sample: Some((25, 42)),
        population: None,
    };
    for (label, format) in [
        ("markdown", AuditFormat::Markdown),
        ("csv", AuditFormat::Csv),
        ("json", AuditFormat::Json),
        ("html", AuditFormat::Html),
    ] {
        time(
            &format!("audit {label} (verifies chain + bundles)"),
            &mut || {
                let o = audit_store(&store, &q, format, &VerifyOptions::default()).expect("audit");
                assert!(o.report.ledger.intact && !o.text.is_empty());
            },
        );
    }
}
