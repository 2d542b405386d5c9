//! Control evidence over time (issue 16, parts 1–3): a PR compared with its base run in the
//! ledger, per control, and each failing test against the recent default-branch runs — on a
//! real git history with a ledger of ten runs, through the binary as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::coverage_util::git;
use crate::evidence_cli::{exits, gate, json, repo};

const CONFIG: &str = "\
controls:
  required: [CC6.1]
  no_evidence_loss: true
tests:
  fail_on: regressions
  flaky: quarantine
  history: 10
";

/// One test: classname, name, the control its `control` property names (if any), failing.
type Case<'a> = (&'a str, &'a str, Option<&'a str>, bool);

fn junit(cases: &[Case]) -> String {
    let mut x = String::from(r#"<testsuite name="s">"#);
    for (class, name, control, failing) in cases {
        x.push_str(&format!(r#"<testcase classname="{class}" name="{name}">"#));
        if let Some(c) = control {
            x.push_str(&format!(
                r#"<properties><property name="control" value="{c}"/></properties>"#
            ));
        }
        if *failing {
            x.push_str(r#"<failure message="boom">trace</failure>"#);
        }
        x.push_str("</testcase>");
    }
    x.push_str("</testsuite>");
    x
}

/// The main branch's tests in run `i` (1-based): `net::retry` fails in runs 2, 5 and 8;
/// `legacy::old` always fails.
fn main_cases(i: u32) -> Vec<Case<'static>> {
    vec![
        ("auth", "login", Some("cc6-1"), false),
        ("auth", "logout", Some("cc6-1"), false),
        ("auth", "mfa", Some("cc6-1"), false),
        ("auth", "session", Some("cc6-1"), false),
        ("ops", "backup", Some("a1-2"), false),
        ("legacy", "old", None, true),
        ("net", "retry", None, i % 3 == 2),
    ]
}

/// The binary in `dir` with only `PATH` from the environment (no runner variables).
pub(crate) fn bin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_controlgate"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(args)
        .output()
        .unwrap()
}

fn report(dir: &Path, config: &str) -> Output {
    report_into(dir, config, "ev")
}

/// The Markdown summary of `junit.xml` against `main` with `c.yml`, retained in `ev`.
fn summary(dir: &Path) -> String {
    let o = report_as(dir, "c.yml", "ev", "markdown");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `report --format json` of `junit.xml` against `main`, retained in the `dir` store `evidence`.
fn report_into(dir: &Path, config: &str, evidence: &str) -> Output {
    report_as(dir, config, evidence, "json")
}

/// `report` of `junit.xml` against `main` with `config`, retained in `evidence`, printed as
/// `format`.
fn report_as(dir: &Path, config: &str, evidence: &str, format: &str) -> Output {
    bin(
        dir,
        &[
            "report",
            "--junit",
            "junit.xml",
            "--base",
            "main",
            "--config",
            config,
            "--evidence",
            evidence,
            "--format",
            format,
        ],
    )
}

fn commit_run(r: &Path, cases: &[Case], msg: &str) {
    std::fs::write(r.join("junit.xml"), junit(cases)).unwrap();
    git(r, &["add", "-A"]);
    git(r, &["commit", "-q", "--allow-empty", "-m", msg]);
}

/// Ten runs on main, one per commit, each retained.
fn main_history() -> tempfile::TempDir {
    let dir = repo();
    let r = dir.path();
    std::fs::write(r.join("c.yml"), CONFIG).unwrap();
    for i in 1..=10 {
        commit_run(r, &main_cases(i), &format!("main {i}"));
        let o = report(r, "c.yml");
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert_eq!(std::fs::read_dir(r.join("ev/ledger")).unwrap().count(), 10);
    dir
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn a_pr_is_compared_with_its_base_run_per_control_and_with_the_recent_runs() {
    let dir = main_history();
    let r = dir.path();
    let base_sha = git(r, &["rev-parse", "HEAD"]).trim().to_owned();
    git(r, &["checkout", "-qb", "feature"]);
    // The PR deletes auth::logout, untags auth::mfa (still run), breaks auth::session; the
    // old failure and the flaky test fail as well.
    let pr = |session_fails: bool| -> Vec<Case<'static>> {
        vec![
            ("auth", "login", Some("cc6-1"), false),
            ("auth", "mfa", None, false),
            ("auth", "session", Some("cc6-1"), session_fails),
            ("auth", "sso", Some("cc6-1"), false),
            ("ops", "backup", Some("a1-2"), false),
            ("legacy", "old", None, true),
            ("net", "retry", None, true),
        ]
    };
    commit_run(r, &pr(true), "pr");
    let o = report(r, "c.yml");
    exits(&o, 1);
    let rep = json(&o);
    let ch = &rep["changes"];
    assert_eq!(
        ch["base"],
        format!(
            "ledger entry #10 for commit {}, the merge-base",
            &base_sha[..12]
        )
        .as_str(),
        "{ch}"
    );
    let cc61 = ch["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "CC6.1")
        .unwrap_or_else(|| panic!("{ch}"));
    assert_eq!(strings(&cc61["removed"]), ["auth::logout"]);
    assert_eq!(strings(&cc61["untagged"]), ["auth::mfa"]);
    assert_eq!(strings(&cc61["newly_failing"]), ["auth::session"]);
    assert_eq!(strings(&cc61["added"]), ["auth::sso"]);
    assert!(strings(&cc61["fixed"]).is_empty() && strings(&cc61["newly_skipped"]).is_empty());
    assert!(
        ch["controls"].as_array().unwrap().len() == 1,
        "A1.2 did not change: {ch}"
    );
    assert_eq!(strings(&ch["pre_existing"]), ["legacy::old"]);
    assert_eq!(
        strings(&ch["newly_failing"]),
        ["auth::session", "net::retry"]
    );
    // History: net::retry failed 3 of the last 10 main runs (flaky), legacy::old all 10.
    assert_eq!(ch["recent_runs"], 10);
    let hist: Vec<(String, u64, u64, bool)> = ch["failure_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["test"].as_str().unwrap().to_owned(),
                f["failed"].as_u64().unwrap(),
                f["passed"].as_u64().unwrap(),
                f["flaky"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        hist,
        [
            ("auth::session".to_owned(), 0, 10, false),
            ("legacy::old".to_owned(), 10, 0, false),
            ("net::retry".to_owned(), 3, 7, true),
        ]
    );
    // The gates: CC6.1 lost three tests; the new failure fails `fail_on: regressions`.
    let loss = gate(&rep, "controls.no_evidence_loss");
    assert_eq!(loss["status"], "fail", "{loss}");
    let detail = loss["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("CC6.1 lost 3 test(s): auth::logout, auth::mfa, auth::session"),
        "{detail}"
    );
    let rate = gate(&rep, "tests.min_pass_rate");
    assert_eq!(rate["status"], "fail", "{rate}");
    let detail = rate["detail"].as_str().unwrap();
    assert!(
        detail.contains("not counted: 1 pre-existing failure(s), 1 quarantined flaky failure(s)")
            && detail.ends_with(
                "80.00% of the rest passed (4 of 5); pre-existing: legacy::old; quarantined: net::retry"
            ),
        "{detail}"
    );
    // The summary shows the same, flaky and pre-existing failures marked.
    let md = summary(r);
    assert!(
        md.contains("### Changes against ledger entry &#35;&#8203;10"),
        "{md}"
    );
    assert!(
        md.contains("- **CC6.1** — removed: auth::logout; untagged: auth::mfa; newly failing: auth::session; added: auth::sso"),
        "{md}"
    );
    assert!(
        md.contains("net::retry (flaky: failed 3 of 10 recent runs)"),
        "{md}"
    );
    assert!(
        md.contains("legacy::old (pre-existing; failed 10 of 10 recent runs)"),
        "{md}"
    );

    // Fixing the regression: only the pre-existing and the quarantined flaky failure are
    // left, and they do not fail the pass-rate gate (still listed); the evidence loss still
    // fails its own gate.
    git(r, &["reset", "-q", "--hard", "HEAD~1"]);
    commit_run(r, &pr(false), "pr, fixed");
    let o = report(r, "c.yml");
    exits(&o, 1);
    let rep = json(&o);
    let rate = gate(&rep, "tests.min_pass_rate");
    assert_eq!(rate["status"], "pass", "{rate}");
    assert!(
        rate["detail"]
            .as_str()
            .unwrap()
            .contains("not counted: 1 pre-existing failure(s), 1 quarantined flaky failure(s); 100.00% of the rest passed (5 of 5)"),
        "{rate}"
    );
    assert_eq!(gate(&rep, "controls.no_evidence_loss")["status"], "fail");
    assert_eq!(
        strings(&rep["changes"]["controls"][0]["removed"]),
        ["auth::logout"]
    );
}

#[test]
fn without_a_base_run_the_change_gates_follow_when_unavailable() {
    let dir = repo();
    let r = dir.path();
    std::fs::write(r.join("c.yml"), CONFIG).unwrap();
    let pass_when_missing =
        "controls:\n  no_evidence_loss: {value: true, when_unavailable: pass}\n";
    std::fs::write(r.join("lenient.yml"), pass_when_missing).unwrap();
    commit_run(r, &main_cases(1), "first");
    // The first run: nothing in the ledger. The loss gate is not evaluated and fails closed;
    // the pass-rate gate needs the base only to excuse failures, and there are some.
    let o = report(r, "c.yml");
    exits(&o, 1);
    let rep = json(&o);
    let loss = gate(&rep, "controls.no_evidence_loss");
    assert_eq!(
        (loss["status"].as_str(), loss["result"].as_str()),
        (Some("fail"), Some("not_evaluated"))
    );
    assert!(
        loss["detail"]
            .as_str()
            .unwrap()
            .contains("the evidence ledger has no entries yet"),
        "{loss}"
    );
    let rate = gate(&rep, "tests.min_pass_rate");
    assert_eq!(rate["result"], "not_evaluated", "{rate}");
    assert!(
        rate["detail"]
            .as_str()
            .unwrap()
            .contains("`fail_on: regressions` needs the base run"),
        "{rate}"
    );
    assert!(rep["changes"]["base_unavailable"].is_string(), "{rep}");
    // Said otherwise on purpose.
    std::fs::write(r.join("junit.xml"), junit(&main_cases(1)[..5])).unwrap();
    let o = report_into(r, "lenient.yml", "ev2");
    exits(&o, 0);
    let rep = json(&o);
    assert_eq!(
        gate(&rep, "controls.no_evidence_loss")["result"],
        "not_evaluated"
    );
    // A tampered base entry is never "no base": the gate fails whatever when_unavailable says.
    let o = report_into(r, "lenient.yml", "ev2");
    exits(&o, 0);
    let entry = r.join("ev2/ledger/0000000002.json");
    let text = std::fs::read_to_string(&entry)
        .unwrap()
        .replace("\"pass\"", "\"fail\"");
    std::fs::write(&entry, text).unwrap();
    let o = report_into(r, "lenient.yml", "ev2");
    exits(&o, 1);
    let rep = json(&o);
    let loss = gate(&rep, "controls.no_evidence_loss");
    assert_eq!(loss["status"], "fail", "{loss}");
    assert!(
        loss["detail"].as_str().unwrap().contains("not intact"),
        "{loss}"
    );
}

/// The base run's bundle is verified before its test record excuses a failure or shows no
/// evidence was lost: an edited `report.json` or a removed bundle in the store fails both gates
/// whatever `when_unavailable` says, as for the coverage base. Both passed against the entry
/// alone.
#[test]
fn a_base_run_whose_bundle_fails_verification_excuses_nothing() {
    let dir = repo();
    let r = dir.path();
    let config = "controls:\n  no_evidence_loss: {value: true, when_unavailable: pass}\n\
                  tests:\n  fail_on: regressions\n  min_pass_rate: {value: 100, when_unavailable: pass}\n";
    std::fs::write(r.join("c.yml"), config).unwrap();
    let old: Case = ("legacy", "old", None, true);
    let login: Case = ("auth", "login", Some("cc6-1"), false);
    // No base yet: both gates pass as configured.
    commit_run(r, &[old, login], "main");
    exits(&report(r, "c.yml"), 0);
    git(r, &["checkout", "-qb", "feature"]);
    commit_run(r, &[old, login], "feature");
    exits(&report(r, "c.yml"), 0);
    let entry: Value =
        serde_json::from_slice(&std::fs::read(r.join("ev/ledger/0000000001.json")).unwrap())
            .unwrap();
    let bundle = r.join("ev/bundles").join(entry["bundle"].as_str().unwrap());
    let edited = bundle.join("report.json");
    let mut perms = std::fs::metadata(&edited).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&edited, perms).unwrap();
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, text.replace("boom", "fine")).unwrap();
    for (what, said) in [
        ("edited", "report.json was edited"),
        ("removed", "is missing"),
    ] {
        if what == "removed" {
            std::fs::remove_dir_all(&bundle).unwrap();
        }
        let o = report(r, "c.yml");
        exits(&o, 1);
        let rep = json(&o);
        for name in ["tests.min_pass_rate", "controls.no_evidence_loss"] {
            let g = gate(&rep, name);
            assert_eq!(
                (g["status"].as_str(), g["result"].as_str()),
                (Some("fail"), Some("not_evaluated")),
                "{what}: {g}"
            );
            let detail = g["detail"].as_str().unwrap();
            assert!(
                detail.contains("ledger entry #1") && detail.contains(said),
                "{detail}"
            );
        }
    }
}

/// A run whose every failure is excused (pre-existing on the base) with nothing else run has
/// no test left to pass: the pass-rate gate is not evaluated and fails closed. It read green
/// ("0 of 1 passed; no other test ran").
#[test]
fn a_run_of_only_pre_existing_failures_is_not_green() {
    let dir = repo();
    let r = dir.path();
    std::fs::write(r.join("c.yml"), "tests:\n  fail_on: regressions\n").unwrap();
    let old: Case = ("legacy", "old", None, true);
    commit_run(r, &[old], "main");
    exits(&report(r, "c.yml"), 1);
    git(r, &["checkout", "-qb", "feature"]);
    commit_run(r, &[old], "feature");
    let o = report(r, "c.yml");
    exits(&o, 1);
    let rep = json(&o);
    let rate = gate(&rep, "tests.min_pass_rate");
    assert_eq!(
        (rate["status"].as_str(), rate["result"].as_str()),
        (Some("fail"), Some("not_evaluated")),
        "{rate}"
    );
    let detail = rate["detail"].as_str().unwrap();
    assert!(detail.contains("pre-existing: legacy::old"), "{detail}");
    assert!(detail.contains("no test is left to evaluate"), "{detail}");
    // With a passing test beside it the gate is evaluated, and the old failure is excused.
    commit_run(r, &[old, ("auth", "login", None, false)], "feature 2");
    let o = report(r, "c.yml");
    exits(&o, 0);
    let rep = json(&o);
    let rate = gate(&rep, "tests.min_pass_rate");
    assert_eq!(rate["result"], "pass", "{rate}");
}

#[test]
fn each_retained_run_records_its_tests_in_the_ledger_entry() {
    let dir = main_history();
    let r = dir.path();
    let entry: Value = serde_json::from_str(
        &std::fs::read_to_string(r.join("ev/ledger/0000000002.json")).unwrap(),
    )
    .unwrap();
    let t = &entry["tests"];
    assert_eq!(
        t["counts"],
        serde_json::json!({"total": 7, "passed": 5, "failed": 2, "errored": 0, "skipped": 0})
    );
    assert_eq!(
        (t["ids"]["n"].as_u64(), t["ids"]["p"].as_u64()),
        (Some(7), Some(20))
    );
    assert_eq!(t["failing"]["n"], 2);
    let controls: Vec<(&str, u64)> = t["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["n"].as_u64().unwrap()))
        .collect();
    assert_eq!(controls, [("CC6.1", 4), ("A1.2", 1)]);
    // The record is part of the entry's digest: the ledger verifies, and an edited record
    // does not.
    let o = bin(r, &["verify", "--store", "ev"]);
    exits(&o, 0);
    let path = r.join("ev/ledger/0000000002.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen("\"failing\":{\"n\":2", "\"failing\":{\"n\":1", 1);
    assert_ne!(text, edited);
    std::fs::write(&path, edited).unwrap();
    let o = bin(r, &["verify", "--store", "ev"]);
    exits(&o, 1);
}

/// The ```mermaid block of a summary, without its fences.
fn mermaid_block(md: &str) -> &str {
    let start = md
        .find("```mermaid\n")
        .unwrap_or_else(|| panic!("no chart: {md}"))
        + 11;
    let len = md[start..].find("```").unwrap();
    &md[start..start + len]
}

#[test]
fn the_trend_chart_parses_and_renders_with_mermaid() {
    let dir = main_history();
    let r = dir.path();
    git(r, &["checkout", "-qb", "feature"]);
    commit_run(r, &main_cases(11), "pr");
    let md = summary(r);
    let chart = mermaid_block(&md).to_owned();
    // Ten main runs (pass rate 5/7 or 6/7) and this one; no coverage measured, one line.
    assert!(chart.starts_with("xychart-beta\n"), "{chart}");
    assert_eq!(chart.matches("    line [").count(), 1, "{chart}");
    assert!(chart.contains(", \"this run\"]"), "{chart}");
    assert!(
        chart.contains("    line [85.71, 71.43, 85.71, 85.71, 71.43"),
        "{chart}"
    );
    // Parsed (and drawn) by mermaid itself, offline, in headless Chromium; a broken chart is
    // refused by the same parse, so the check can fail.
    let broken = chart.replace("x-axis [", "x-axis [[");
    let mermaid = std::fs::read_to_string(
        crate::coverage_util::manifest_dir().join("node_modules/mermaid/dist/mermaid.min.js"),
    )
    .expect("node_modules/mermaid: run ./scripts/test (npm ci)")
    .replace("</script", "<\\/script");
    let charts = serde_json::to_string(&[chart.as_str(), broken.as_str()])
        .unwrap()
        .replace('<', "\\u003c");
    let page = r.join("mermaid.html");
    std::fs::write(
        &page,
        format!(
            "<!doctype html><meta charset=\"utf-8\"><title>trend</title><body><div id=\"out\"></div>\
             <script>{mermaid}</script><script>window.CHARTS = {charts};\
             mermaid.initialize({{startOnLoad: false}});</script>"
        ),
    )
    .unwrap();
    let got = crate::evidence_audit_html::browse_with(
        &page,
        "trend-chart",
        r##"(async () => {
            const parsed = [];
            for (const t of window.CHARTS) {
                parsed.push(await mermaid.parse(t, {suppressErrors: true}) ? "ok" : "invalid");
            }
            const { svg } = await mermaid.render("trend", window.CHARTS[0]);
            document.getElementById("out").innerHTML = svg;
            const lines = document.querySelectorAll("#out svg .line-plot-0 path").length;
            return JSON.stringify({ parsed, lines, text: document.getElementById("out").textContent });
        })()"##,
    );
    assert_eq!(got["parsed"], serde_json::json!(["ok", "invalid"]), "{got}");
    assert_eq!(got["lines"], 1, "{got}");
    assert!(got["text"].as_str().unwrap().contains("this run"), "{got}");
}

#[test]
fn the_changes_section_renders_bounded_and_inert() {
    use controlgate::model::ControlId;
    use controlgate::model::history::{ChangesSection, ControlChanges, FailureHistory, TrendPoint};
    let mut cc61 = ControlChanges::new(ControlId::parse_shape("CC6.1").unwrap());
    cc61.removed = (1..=7).map(|i| format!("auth::removed_{i}")).collect();
    cc61.untagged = vec!["auth::<img src=x onerror=alert(1)> @team #12".into()];
    cc61.fixed = vec!["auth::healed".into()];
    let mut a12 = ControlChanges::new(ControlId::parse_shape("A1.2").unwrap());
    a12.added = vec!["ops::backup_restore".into()];
    let section = ChangesSection {
        base: Some("ledger entry #41 for commit 0123456789ab, the merge-base".into()),
        base_unavailable: None,
        controls: vec![cc61, a12],
        newly_failing: vec!["net::retry".into()],
        pre_existing: vec!["legacy::old".into()],
        recent_runs: 3,
        failure_history: vec![FailureHistory {
            test: "net::retry".into(),
            failed: 1,
            passed: 2,
            flaky: true,
        }],
        trend: ["1111111aaaa", "2222222bbbb", "3333333cccc", "this run"]
            .iter()
            .zip([(80.0, 100.0), (81.25, 90.0), (81.5, 100.0), (79.0, 95.5)])
            .map(|(run, (cov, rate))| TrendPoint {
                run: (*run).into(),
                coverage: Some(cov),
                pass_rate: rate,
            })
            .collect(),
    };
    insta::assert_snapshot!(controlgate::render::changes::render_changes(
        &section, 10_000
    ));
}
