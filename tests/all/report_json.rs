//! `report.json` read back (`Report::from_json`, used by `publish --from`): a report of this
//! schema round-trips byte for byte; another schema version, or a report that does not parse,
//! is refused with what and where.

use std::path::PathBuf;

use controlgate::model::report::{ReadError, Report, SCHEMA_VERSION, SuiteRecord};
use controlgate::redact::Redactions;
use controlgate::retain::RunIdentity;
use controlgate::tickets::{
    ChangeContext, GithubIssue, LinkResult, LinkStatus, TicketsConfig, Tracker,
};
use controlgate::{ReportRequest, report};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// serialize → deserialize → serialize gives the same bytes, and the report read back is the
/// same report (its debug form, which shows every field).
fn assert_round_trips(r: &Report) {
    let first = controlgate::render::json(r);
    // The writer lays the report out itself (its cases on two threads when many): what serde's
    // derive and pretty printer write, byte for byte.
    let derived = serde_json::to_string_pretty(r).unwrap() + "\n";
    if first != derived {
        let at = first
            .bytes()
            .zip(derived.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(first.len().min(derived.len()));
        let around = |s: &str| {
            String::from_utf8_lossy(&s.as_bytes()[at.saturating_sub(200)..(at + 200).min(s.len())])
                .into_owned()
        };
        panic!(
            "report.json is not serde's layout from byte {at}:\n{}\n----\n{}",
            around(&first),
            around(&derived)
        );
    }
    let back = Report::from_json(&first).unwrap_or_else(|e| panic!("{e}\n{first}"));
    let second = controlgate::render::json(&back);
    assert!(
        first == second,
        "report.json changed on the way back:\n{first}\n----\n{second}"
    );
    assert_eq!(format!("{r:?}"), format!("{back:?}"));
}

fn change() -> ChangeContext {
    ChangeContext {
        repository: "acme/pay".into(),
        pr_number: Some(42),
        pr_title: "ENG-1: login <script> \u{1F512}".into(),
        head_branch: "feature/eng-1".into(),
        pr_url: "https://github.com/acme/pay/pull/42".into(),
        author: "alice".into(),
        linked_issues: vec![GithubIssue {
            repository: "acme/pay".into(),
            number: 6,
        }],
        ..Default::default()
    }
}

/// Every optional section and every kind of value the writer produces: API coverage with
/// drift and findings, patch and project coverage with a base, tickets with link results,
/// suites, the run identity, redaction counts, fractional floats and escaped text.
#[test]
fn a_report_with_every_section_round_trips_byte_for_byte() {
    // The API quickstart: coverage, negative auth, drift against a base, findings.
    let mut req = ReportRequest::new(vec!["examples/api/junit.xml".into()], root());
    req.config = Some("examples/api/controlgate.yml".into());
    req.har = vec!["examples/api/*.har".into()];
    req.api_base_spec = vec!["examples/api/base-petstore.yaml".into()];
    req.change = Some(change());
    let api = report(&req).unwrap().report;
    assert!(api.api.as_ref().is_some_and(|a| a.drift.is_some()));
    assert_round_trips(&api);

    // The coverage quickstart: three JUnit dialects, patch coverage from a diff.
    let mut req = ReportRequest::new(vec!["examples/junit/*.xml".into()], root());
    req.config = Some("examples/controlgate.yml".into());
    req.coverage = vec!["examples/coverage/payments/lcov.info".into()];
    req.diff = Some("examples/coverage/payments/change.diff".into());
    req.repo = Some("examples/projects/python".into());
    let mut r = report(&req).unwrap().report;
    assert!(r.coverage.is_some() && !r.cases.is_empty());
    assert_round_trips(&r);

    // What only `controlgate run` fills, and the values a parser gets wrong most easily.
    let cov = r.coverage.as_mut().unwrap();
    cov.base = Some(cov.head.clone());
    cov.delta_pp = Some(controlgate::model::coverage::Percent(-5));
    cov.base_unavailable = Some(controlgate::model::coverage::BaseUnavailable {
        reason: "no ledger entry for the merge base".into(),
        untrusted: true,
    });
    r.api = api.api.clone();
    let mut tickets = controlgate::tickets::section(&change(), &TicketsConfig::default());
    tickets.links = vec![LinkResult {
        tracker: Tracker::Github,
        ticket: "acme/pay#6".into(),
        action: "comment".into(),
        status: LinkStatus::Failed,
        message: Some("GitHub answered 404 Not Found: \"quoted\"\n\ttab".into()),
    }];
    tickets.release = true;
    r.tickets = Some(tickets);
    r.suites = Some(vec![SuiteRecord {
        name: "unit".into(),
        command: "pytest -q".into(),
        working_directory: ".".into(),
        exit_code: None,
        timed_out: true,
        duration_s: 0.1 + 0.2,
        output_sha256: controlgate::retain::canonical::sha256_hex(b""),
        output_bytes: 0,
        error: Some("killed".into()),
        wrote_file_commands: Vec::new(),
    }]);
    r.run = Some(RunIdentity {
        repository: Some("acme/pay".into()),
        pr_number: Some(42),
        ..RunIdentity::new()
    });
    r.redactions = Some(Redactions {
        total: 2,
        by_kind: [("github_token".to_owned(), 2)].into(),
    });
    r.warnings.push("a warning with \u{0} and \u{2028}".into());
    if let Some(c) = r.cases.first_mut() {
        c.duration_s = 1e-7;
        c.message = Some("assert 0.1 + 0.2 == 0.3\n<not html>".into());
    }
    r.changes = Some(controlgate::model::history::ChangesSection {
        base: Some("abc1234".into()),
        newly_failing: vec!["t::a".into()],
        recent_runs: 3,
        ..Default::default()
    });
    assert_round_trips(&r);

    // Enough cases that a second thread prints every other block of them: an even and an odd
    // number of blocks, and a last block cut short.
    let one = r.cases.clone();
    for n in [1_000, 1_300, 2_049] {
        r.cases = (0..n)
            .map(|i| {
                let mut c = one[i % one.len()].clone();
                c.id = format!("{}#{i}", c.id);
                c.line = Some(i as u32);
                c
            })
            .collect();
        assert_round_trips(&r);
    }
    // Empty, as the other sections are.
    r.cases.clear();
    r.unknown_tags.clear();
    assert_round_trips(&r);
}

#[test]
fn another_schema_version_is_refused_before_anything_else_is_read() {
    let mut req = ReportRequest::new(vec!["examples/junit/pytest.xml".into()], root());
    req.config = Some("examples/controlgate.yml".into());
    let json = report(&req).unwrap().json();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema_version"], SCHEMA_VERSION);

    // An older report, whose fields would not all parse anyway: the version is what is said.
    v["schema_version"] = (SCHEMA_VERSION - 1).into();
    v["cases"] = serde_json::json!("not a list");
    let e = Report::from_json(&v.to_string()).unwrap_err();
    assert!(matches!(e, ReadError::SchemaVersion { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("`schema_version` is {}", SCHEMA_VERSION - 1))
            && msg.contains(&format!("reads schema_version {SCHEMA_VERSION}")),
        "{msg}"
    );
    for other in [
        serde_json::json!(SCHEMA_VERSION + 1),
        serde_json::json!("2"),
    ] {
        v["schema_version"] = other;
        assert!(matches!(
            Report::from_json(&v.to_string()),
            Err(ReadError::SchemaVersion { .. })
        ));
    }

    // The current version, but not the current shape.
    v["schema_version"] = SCHEMA_VERSION.into();
    let e = Report::from_json(&v.to_string()).unwrap_err();
    assert!(matches!(e, ReadError::Shape(_)), "{e:?}");
    assert!(e.to_string().contains("not a schema_version"), "{e}");
    v["cases"] = serde_json::json!([]);
    v["verdict"] = "maybe".into();
    assert!(matches!(
        Report::from_json(&v.to_string()),
        Err(ReadError::Shape(_))
    ));
    // Tag normalisation is for test results, not for a report read back.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["controls"][0]["id"] = "cc6-1".into();
    assert!(matches!(
        Report::from_json(&v.to_string()),
        Err(ReadError::Shape(_))
    ));

    // Not a report at all.
    assert!(matches!(Report::from_json("{"), Err(ReadError::Json(_))));
    assert!(matches!(
        Report::from_json("[1]"),
        Err(ReadError::NotAReport)
    ));
    assert!(matches!(
        Report::from_json("{\"verdict\": \"pass\"}"),
        Err(ReadError::NotAReport)
    ));
}
