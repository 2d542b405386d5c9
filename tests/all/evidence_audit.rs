//! `audit` over a generated year: 10,000 ledger entries in a `dir` store.

use chrono::{DateTime, Duration, Utc};
use controlgate::retain::audit::{AuditFormat, AuditQuery};
use controlgate::retain::{
    DirStore, VerifyOptions, WriteOptions, audit_store, write_evidence_with,
};

use crate::evidence::sample_input;

pub const ENTRIES: u64 = 10_000;

pub fn time_of(i: u64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + Duration::seconds((i * 3153) as i64)
}

fn query(from: &str, to: &str) -> AuditQuery {
    AuditQuery {
        from: from.parse().unwrap(),
        to: to.parse().unwrap(),
        control: None,
        sample: None,
        population: None,
    }
}

#[test]
fn audit_of_a_generated_year() {
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStore::new(tmp.path()).without_fsync();
    for i in 1..=ENTRIES {
        let opts = WriteOptions {
            fallback_dir: tmp.path().join("fallback"),
            now: Some(time_of(i)),
        };
        // Inputs left out: 3 files per bundle keep the generated year quick to write.
        let mut input = sample_input("acme/app", i);
        input.inputs.clear();
        write_evidence_with(&store, &input, &opts).unwrap();
    }
    let v = VerifyOptions::default();
    let chain_only = VerifyOptions {
        bundles: false,
        ..VerifyOptions::default()
    };

    // JSON: the numbers.
    let year = AuditQuery {
        sample: Some((25, 42)),
        population: None,
        ..query("2025-01-01", "2025-12-31")
    };
    let out = audit_store(&store, &year, AuditFormat::Json, &v).unwrap();
    let j: serde_json::Value = serde_json::from_str(&out.text).unwrap();
    assert_eq!(j["ledger"]["intact"], true);
    assert_eq!(j["ledger"]["entries"], 10_000);
    assert_eq!(
        (j["runs"].as_u64(), j["failing_runs"].as_u64()),
        (Some(10_000), Some(200))
    );
    let control = |id: &str| {
        j["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    let cc81 = control("CC8.1");
    assert_eq!(
        (
            cc81["runs"].as_u64(),
            cc81["passing_runs"].as_u64(),
            cc81["failing_runs"].as_u64()
        ),
        (Some(10_000), Some(9_800), Some(200))
    );
    assert_eq!(
        (cc81["tests_max"].as_u64(), cc81["tests_last"].as_u64()),
        (Some(7), Some(3))
    );
    assert_eq!(cc81["last_failure"]["seq"], 10_000);
    assert_eq!(control("CC6.1")["passing_runs"], 5_000);
    let cc72 = control("CC7.2");
    assert_eq!(
        (
            cc72["runs"].as_u64(),
            cc72["failing_runs"].as_u64(),
            cc72["untested_runs"].as_u64()
        ),
        (Some(3_333), Some(34), Some(3_299))
    );
    assert_eq!(cc72["last_failure"]["seq"], 9_894);
    assert_eq!(j["changes"].as_array().unwrap().len(), 3_334 + 1_000);
    let pr1 = &j["changes"][0];
    assert_eq!(
        (pr1["change"].as_str(), pr1["runs"].as_u64()),
        (Some("PR #1"), Some(2))
    );
    assert_eq!(pr1["tickets"], serde_json::json!(["PROJ-1"]));
    assert!(
        pr1["last"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!(
                "bundles/{}/",
                pr1["last"]["bundle"].as_str().unwrap()
            ))
    );
    let sample = &j["sample"];
    assert_eq!(
        (
            sample["population"].as_u64(),
            sample["runs"].as_array().unwrap().len()
        ),
        (Some(10_000), 25)
    );

    // The sample is reproducible for a seed and differs for another seed.
    let seqs = |seed: u64| {
        let q = AuditQuery {
            sample: Some((25, seed)),
            population: None,
            ..query("2025-01-01", "2025-12-31")
        };
        let o = audit_store(
            &store,
            &q,
            AuditFormat::Json,
            &VerifyOptions {
                bundles: false,
                ..v.clone()
            },
        )
        .unwrap();
        o.report
            .sample
            .unwrap()
            .runs
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>()
    };
    let first: Vec<u64> = sample["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs(42), first);
    assert_ne!(seqs(43), first);

    // A month, one control.
    let march: Vec<u64> = (1..=ENTRIES)
        .filter(|&i| time_of(i).date_naive().format("%Y-%m").to_string() == "2025-03" && i % 3 == 0)
        .collect();
    let q = AuditQuery {
        control: Some("cc7-2".into()),
        ..query("2025-03-01", "2025-03-31")
    };
    let out = audit_store(&store, &q, AuditFormat::Markdown, &v).unwrap();
    assert_eq!(out.report.runs, march.len() as u64);
    assert_eq!(out.report.controls.len(), 1);
    let md = &out.text;
    assert!(md.starts_with("# Evidence audit 2025-03-01 to 2025-03-31\n\nControl: cc7-2\n\nLedger **intact**: 10000 entries (hash chain) and 10000 bundles verified"), "{}", &md[..300]);
    let failing = march.iter().filter(|&&i| i % 97 == 0).count();
    let row = format!(
        "| CC7.2 | {} | 0 | {failing} | {} |",
        march.len(),
        march.len() - failing
    );
    assert!(md.contains(&row), "{row} not in the markdown");
    assert!(md.contains(
        "| Change | Runs | Tickets | Verdict | Coverage Δ (pp) | Entry | Bundle | Location |"
    ));

    // CSV: the controls table of the whole year.
    let out = audit_store(
        &store,
        &query("2025-01-01", "2025-12-31"),
        AuditFormat::Csv,
        &chain_only,
    )
    .unwrap();
    let lines: Vec<&str> = out.text.split("\r\n").collect();
    assert!(lines[0].starts_with("ledger,from,to,control,intact,entries"));
    assert!(
        lines[1].contains(",2025-01-01,2025-12-31,,true,10000,10000,"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "");
    assert!(lines[3].starts_with(
        "control,runs,passing_runs,failing_runs,untested_runs,tests_max,tests_last,last_failure_seq"
    ));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("CC8.1,10000,9800,200,0,7,3,10000,")),
        "no CC8.1 row"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("PR #1,1,2,PROJ-1,pass,")),
        "no PR #1 row"
    );

    // Nothing in the period: stated, not an error.
    let out = audit_store(
        &store,
        &query("2030-01-01", "2030-12-31"),
        AuditFormat::Markdown,
        &chain_only,
    )
    .unwrap();
    assert_eq!(out.report.runs, 0);
    assert!(out.text.contains("0 runs in the period"));

    // An audit over a broken chain says so and exits 1.
    std::fs::remove_file(tmp.path().join("ledger/0000005000.json")).unwrap();
    let out = audit_store(
        &store,
        &query("2025-01-01", "2025-12-31"),
        AuditFormat::Markdown,
        &chain_only,
    )
    .unwrap();
    assert_eq!(out.exit_code(), controlgate::ExitCode::Fail);
    assert!(
        out.text.contains("Ledger **NOT intact** at"),
        "{}",
        &out.text[..300]
    );
    assert!(
        out.text
            .contains("entry 5000 is missing: entry 5001 follows entry 4999")
    );
}
