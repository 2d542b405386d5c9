//! Markdown summary: snapshots of the layout, the escaping of hostile names and the budget.

use std::path::Path;

use controlgate::analyze::aggregate::Aggregator;
use controlgate::analyze::gates;
use controlgate::analyze::mapping::Mapper;
use controlgate::model::report::{Report, SCHEMA_VERSION, Tool};
use controlgate::model::{CaseStatus, Message, PropertyScope, RawProperty, TestCase};
use controlgate::render::markdown::{MarkdownOptions, render};

fn case(classname: &str, name: &str, status: CaseStatus, controls: &str, msg: &str) -> TestCase {
    TestCase {
        suite: "suite".into(),
        classname: classname.into(),
        name: name.into(),
        file: Some(format!("tests/{classname}.py")),
        line: Some(12),
        location: None,
        status,
        flaky: false,
        duration_s: 0.25,
        message: (!msg.is_empty()).then(|| Message::bounded(msg)),
        properties: (!controls.is_empty())
            .then(|| RawProperty {
                name: "control".into(),
                value: controls.into(),
                scope: PropertyScope::Case,
            })
            .into_iter()
            .collect(),
        input: 0,
        runs: 1,
    }
}

/// Builds a report the way the pipeline does, from cases and a config.
pub fn report_of(cases: Vec<TestCase>, yaml: &str) -> Report {
    let config = controlgate::config::parse(yaml, Path::new("t.yml")).unwrap();
    let mapper = Mapper::new(&config).unwrap();
    let mut agg = Aggregator::new(&mapper);
    agg.add_input("junit.xml".into(), vec![]);
    for c in cases {
        agg.push(c);
    }
    let a = agg.finish(&config.required_controls());
    let gates = gates::evaluate(&config, &a, None);
    Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "controlgate".into(),
            version: "0.0.0-test".into(),
        },
        generated_at: "2026-01-02T03:04:05Z".into(),
        verdict: gates::verdict(&gates),
        inputs: vec![],
        tests: a.totals,
        controls: a.controls,
        gates,
        cases: a.cases,
        unknown_tags: a.unknown_tags,
        coverage: None,
        api: None,
        tickets: None,
        warnings: a.warnings,
        suites: None,
        run: None,
        changes: None,
        redactions: None,
    }
}

fn sample() -> Report {
    report_of(
        vec![
            case("auth", "test_login_ok", CaseStatus::Passed, "CC6.1", ""),
            case(
                "auth",
                "test_login_locked_out",
                CaseStatus::Failed,
                "CC6.1 CC6.2",
                "AssertionError: expected 423, got 200\n  at line 12",
            ),
            case(
                "deploy",
                "test_migration_rollback",
                CaseStatus::Passed,
                "CC8.1",
                "",
            ),
            case(
                "backup",
                "test_restore",
                CaseStatus::Skipped,
                "A1.2",
                "needs S3",
            ),
            case(
                "misc",
                "test_unrelated",
                CaseStatus::Errored,
                "",
                "fixture 'db' not found",
            ),
            case(
                "org",
                "test_policy_doc",
                CaseStatus::Passed,
                "CC1.1 cc9-5",
                "",
            ),
        ],
        "controls:\n  required: [CC6.1, CC8.1, CC7.2]\n  fail_on_unknown: {value: true, informational: true}\n",
    )
}

#[test]
fn summary_layout() {
    insta::assert_snapshot!(render(&sample(), &MarkdownOptions::default(), &[]));
}

/// Every table row must split into as many cells as its header: nothing broke out.
fn assert_tables_intact(md: &str) {
    let mut columns = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let cells = line.matches('|').count();
            match columns {
                None => columns = Some(cells),
                Some(n) => assert_eq!(cells, n, "row broke its table: {line}"),
            }
        } else {
            columns = None;
        }
    }
}

fn strip_entities(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("&#") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find(';') {
            Some(j) if after[..j].chars().all(|c| c.is_ascii_digit()) => rest = &after[j + 1..],
            _ => {
                out.push_str("&#");
                rest = after;
            }
        }
    }
    out + rest
}

#[test]
fn hostile_names_render_inert_inside_their_cells() {
    let hostile = "a|b`<img src=x>`@team";
    let report = report_of(
        vec![
            case(
                "c",
                hostile,
                CaseStatus::Failed,
                "CC6.1",
                "boom | `x` <script>alert(1)</script> @org/team #12\n## heading",
            ),
            case(
                "c",
                "x\n\n# Injected heading\n> quote [cc6-1]",
                CaseStatus::Failed,
                "",
                "::set-output name=x::y",
            ),
            case(
                "c",
                "evil\u{202E}txt.exe",
                CaseStatus::Failed,
                "",
                "```\nfence",
            ),
        ],
        "",
    );
    let md = render(&report, &MarkdownOptions::default(), &[]);
    assert_tables_intact(&md);
    assert!(
        md.contains("a&#124;b&#96;&lt;img src=x&gt;&#96;&#64;&#8203;team"),
        "{md}"
    );
    // Numeric entities (`&#124;`) are the escapes themselves; look at what is left.
    let bare = strip_entities(&md);
    // GitHub finds mentions and references in the rendered text, references decoded.
    let shown = crate::hardening::shown_text(&md);
    for bad in ["@team", "@org", "#12"] {
        assert!(!shown.contains(bad), "{bad:?} survived rendering:\n{md}");
    }
    for bad in [
        "<img",
        "<script",
        "\n# Injected",
        "\n> quote",
        "\u{202E}",
        "```",
    ] {
        assert!(!bare.contains(bad), "{bad:?} survived:\n{md}");
    }
    insta::assert_snapshot!(md);
}

/// A suite name comes from the pull request's config and reaches the gate table as
/// `suite:<name>`: it stays text in its own cell.
#[test]
fn a_suite_name_cannot_forge_the_summary() {
    use controlgate::model::gate::{Check, Gate, GatePolicy};
    let forged = crate::hardening::FORGED_SUITE;
    let mut report = report_of(vec![case("c", "t", CaseStatus::Passed, "", "")], "");
    report.gates.push(Gate::decide(
        format!("suite:{forged}"),
        GatePolicy::STRICT,
        Check::Held(format!(
            "suite `{forged}` exit status 0 in 1.0s; 1 result file(s)"
        )),
    ));
    let md = render(&report, &MarkdownOptions::default(), &[]);
    assert_tables_intact(&md);
    let row: Vec<&str> = md.lines().filter(|l| l.contains("suite:unit")).collect();
    assert_eq!(row.len(), 1, "one row, one line:\n{md}");
    assert!(
        row[0].starts_with("| suite:unit &#124;x&#124; &lt;\\!-- controlgate:other"),
        "{md}"
    );
    assert_eq!(
        md.lines().filter(|l| l.starts_with("## ")).count(),
        1,
        "{md}"
    );
    assert!(!md.contains("<!--"), "a comment or marker survived:\n{md}");
    assert!(!md.contains("[click me]("), "a link survived:\n{md}");
    let shown = crate::hardening::shown_text(&md);
    assert!(!shown.contains("@acme"), "a mention survived:\n{md}");
    // Ordinary gate names keep their code style.
    assert!(md.contains("| `tests.min_pass_rate` |"), "{md}");
}

#[test]
fn budget_drops_passing_detail_first_and_says_what_was_omitted() {
    let mut cases = Vec::new();
    for (i, id) in [
        "CC6.1", "CC6.2", "CC6.3", "CC6.6", "CC6.7", "CC7.1", "CC7.2", "CC8.1",
    ]
    .iter()
    .enumerate()
    {
        cases.push(case(
            "ok",
            &format!("test_pass_{i}"),
            CaseStatus::Passed,
            id,
            "",
        ));
    }
    for i in 0..400 {
        cases.push(case(
            "bad",
            &format!("test_fail_{i:03}"),
            CaseStatus::Failed,
            "A1.2",
            "assertion failed: left == right",
        ));
    }
    let report = report_of(cases, "");
    let full = render(&report, &MarkdownOptions::default(), &[]);
    assert!(full.contains("| **CC6.1** |") && !full.contains("not shown"));

    let opts = MarkdownOptions {
        budget: 4_000,
        ..Default::default()
    };
    let small = render(&report, &opts, &[]);
    assert!(
        small.chars().count() <= 4_000,
        "{} chars",
        small.chars().count()
    );
    assert_tables_intact(&small);
    // Passing controls go first, failing controls stay itemised.
    assert!(!small.contains("| **CC6.1** |"));
    assert!(small.contains("| **A1.2** |"));
    assert!(small.contains("8 passing controls not itemised: CC6.1, CC6.2"));
    assert!(small.contains("more failing tests not shown"));
    insta::assert_snapshot!(small);
}

#[test]
fn default_budget_holds_for_a_huge_failing_run() {
    let cases = (0..20_000)
        .map(|i| {
            case(
                "big",
                &format!("test_{i}_{}", "x".repeat(150)),
                CaseStatus::Failed,
                "CC6.1",
                &"m".repeat(300),
            )
        })
        .collect();
    let md = render(&report_of(cases, ""), &MarkdownOptions::default(), &[]);
    assert!(md.len() <= 65_000, "{} bytes", md.len());
    assert!(md.len() > 60_000, "budget badly used: {} bytes", md.len());
    assert_tables_intact(&md);
    assert!(md.ends_with("</sub>\n"));
}
