//! `audit --format html`: the auditor's report, rendered in headless Chromium (Debian's
//! `chromium`, driven over the DevTools protocol by tests/fixtures/evidence/chromium_load.py):
//! offline with no request and no console error, the per-control figures and the sampled runs
//! in the DOM as `audit --format json` computes them, the hostile-text table inert, a PNG
//! screenshot under the test's output directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::TimeZone;
use controlgate::retain::{ControlSummary, DirStore, WriteOptions, write_evidence_with};
use serde_json::Value;

use crate::cli::run_in;
use crate::coverage_util::{git, manifest_dir, venv_bin};
use crate::evidence::sample_input;
use crate::evidence_cli::{exits, repo};
use crate::hardening::hostile;

/// What the page shows, collected in the browser.
const DOM_FACTS: &str = r#"JSON.stringify({
  controls: [...document.querySelectorAll('tr[data-control]')].map(tr =>
    [...tr.children].map(c => c.textContent.trim())),
  sample: [...document.querySelectorAll('section.run')].map(s => ({
    seq: Number(s.dataset.seq),
    fields: Object.fromEntries([...s.querySelectorAll('dt')].map(dt =>
      [dt.textContent, dt.nextElementSibling.textContent])),
    gates: [...s.querySelectorAll('table.gates tbody tr')].map(tr => tr.children[0].textContent),
  })),
  method: document.getElementById('sample-method')?.textContent ?? null,
  banner: document.getElementById('ledger').textContent,
  charts: document.querySelectorAll('figure svg.chart').length,
  active: document.querySelectorAll('script, iframe, object, embed, img, link, form, base, meta[http-equiv=refresh]').length,
  handlers: [...document.querySelectorAll('*')].filter(e =>
    [...e.attributes].some(a => a.name.startsWith('on'))).length,
  links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
    .filter(h => !h.startsWith('#')),
  text: document.body.innerText,
  overflows: document.documentElement.scrollWidth > window.innerWidth,
})"#;

/// Two genuine report.json files (a passing and a failing run) written by `controlgate report`.
fn real_reports() -> (Vec<u8>, Vec<u8>) {
    let dir = repo();
    let r = dir.path();
    let mut out = Vec::new();
    for (name, junit) in [
        (
            "pass",
            r#"<testsuite name="s"><testcase classname="t" name="a [cc8-1]"/></testsuite>"#,
        ),
        (
            "fail",
            r#"<testsuite name="s"><testcase classname="t" name="a [cc8-1]"><failure/></testcase></testsuite>"#,
        ),
    ] {
        std::fs::write(r.join("junit.xml"), junit).unwrap();
        git(r, &["add", "-A"]);
        git(r, &["commit", "-qm", name]);
        let o = run_in(r, &["report", "--junit", "junit.xml", "--out", name]);
        assert!(o.status.code().is_some_and(|c| c < 2));
        out.push(std::fs::read(r.join(name).join("report.json")).unwrap());
    }
    (out.remove(0), out.remove(0))
}

/// A year of runs (every 6 days, 61 in 2026), every hostile string somewhere in them: actor,
/// environment, ref, tickets.
fn year_of_runs(store_dir: &Path) {
    let (pass, fail) = real_reports();
    let store = DirStore::new(store_dir);
    let hostile = hostile();
    let start = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
    for i in 0..61u64 {
        let mut input = sample_input("acme/app", i + 1);
        let failing = i % 7 == 3;
        input.report_json = if failing { fail.clone() } else { pass.clone() }.into();
        input.verdict = if failing { "fail" } else { "pass" }.into();
        input.controls = vec![ControlSummary {
            id: "CC8.1".into(),
            status: if failing { "fail" } else { "pass" }.into(),
            tests: 4 + i % 3,
        }];
        if i % 4 == 0 {
            input.controls.push(ControlSummary {
                id: "CC6.1".into(),
                status: if i % 8 == 0 { "pass" } else { "untested" }.into(),
                tests: u64::from(i % 8 == 0),
            });
        }
        let h = &hostile[i as usize % hostile.len()];
        input.identity.actor = Some(h.clone());
        input.identity.environment = Some(hostile[(i as usize + 1) % hostile.len()].clone());
        input.identity.git_ref = Some(format!("refs/heads/{h}"));
        input.tickets = vec![hostile[(i as usize + 2) % hostile.len()].clone()];
        let options = WriteOptions {
            now: Some(start + chrono::Duration::days(6 * i as i64)),
            ..WriteOptions::default()
        };
        write_evidence_with(&store, &input, &options).unwrap();
    }
}

/// Loads `html` (or any page) in Chromium, asserts it made no request and logged nothing,
/// saves a screenshot `<name>.png` under the test's output directory (`target/tmp/chromium`)
/// and returns `expression` evaluated in the page.
pub(crate) fn browse_with(html: &Path, name: &str, expression: &str) -> Value {
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chromium");
    std::fs::create_dir_all(&out_dir).unwrap();
    let png = out_dir.join(format!("{name}.png"));
    let o = Command::new(venv_bin("python"))
        .arg(manifest_dir().join("tests/fixtures/evidence/chromium_load.py"))
        .arg(html)
        .arg(&png)
        .arg(expression)
        .output()
        .expect("run chromium_load.py");
    assert!(
        o.status.success(),
        "chromium_load.py failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let shot = std::fs::read(&png).unwrap();
    assert!(
        shot.starts_with(b"\x89PNG\r\n\x1a\n") && shot.len() > 1_000,
        "a screenshot was saved at {}",
        png.display()
    );
    assert_eq!(v["requests"], serde_json::json!([]), "no network request");
    assert_eq!(v["console"], serde_json::json!([]), "no console message");
    assert_eq!(v["csp_violations"], serde_json::json!([]));
    assert!(v["pdf_bytes"].as_u64().unwrap() > 1000, "it prints");
    serde_json::from_str(v["value"].as_str().unwrap()).unwrap()
}

fn browse(html: &Path, name: &str) -> Value {
    browse_with(html, name, DOM_FACTS)
}

fn audit(dir: &Path, format: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "audit",
        "--store",
        "ev",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--format",
        format,
        "--sample",
        "5",
        "--seed",
        "42",
    ];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

#[test]
fn html_audit_renders_offline_with_the_figures_and_sample_and_inert_hostile_text() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    year_of_runs(&d.join("ev"));
    let json_out = audit(d, "json", &[]);
    exits(&json_out, 0);
    let expected: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    let o = audit(d, "html", &["--output", "audit.html"]);
    exits(&o, 0);
    let page = browse(&d.join("audit.html"), "audit");

    // Per-control figures as the JSON audit computes them.
    let rows = page["controls"].as_array().unwrap();
    let want = expected["controls"].as_array().unwrap();
    assert_eq!(rows.len(), want.len());
    assert_eq!(rows.len(), 2);
    for (row, c) in rows.iter().zip(want) {
        let cells: Vec<&str> = row
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(cells[0], c["id"]);
        assert_eq!(cells[1], c["runs"].to_string());
        assert_eq!(cells[2], c["passing_runs"].to_string());
        assert_eq!(cells[3], c["failing_runs"].to_string());
        assert_eq!(cells[4], c["untested_runs"].to_string());
        assert_eq!(
            cells[6],
            format!("{} / {}", c["tests_max"], c["tests_last"])
        );
    }
    // CC8.1: 61 runs, those with i % 7 == 3 failed (9 of them); first evidence is run #1.
    let cc81 = rows[1].as_array().unwrap();
    assert_eq!(cc81[0], "CC8.1");
    assert_eq!(
        (cc81[1].as_str(), cc81[3].as_str()),
        (Some("61"), Some("9"))
    );
    assert_eq!(cc81[5], "85.2 %");
    assert_eq!(cc81[7], "#1 2026-01-01");
    assert_eq!(cc81[8], "#61 2026-12-27");
    assert_eq!(page["charts"], 2);

    // The sample: the same runs the JSON audit draws with the seed, each with its details.
    let seqs: Vec<u64> = expected["sample"]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    let shown: Vec<u64> = page["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(shown, seqs);
    assert_eq!(shown.len(), 5);
    assert!(page["method"].as_str().unwrap().contains("seeded with 42"));
    for (s, r) in page["sample"]
        .as_array()
        .unwrap()
        .iter()
        .zip(expected["sample"]["runs"].as_array().unwrap())
    {
        let f = &s["fields"];
        assert_eq!(f["Bundle digest"], r["bundle"]);
        assert!(
            f["Ledger entry"]
                .as_str()
                .unwrap()
                .contains(r["entry_digest"].as_str().unwrap())
        );
        assert!(f["Verify"].as_str().unwrap().starts_with("bundle verified"));
        assert_eq!(
            s["gates"],
            serde_json::json!(["tests.min_pass_rate"]),
            "{s}"
        );
        let i = r["seq"].as_u64().unwrap() - 1;
        let actor = &hostile()[i as usize % hostile().len()];
        // Shown as text, never as markup.
        let shown = f["Actor"].as_str().unwrap();
        let first_word = actor.split_whitespace().next().unwrap();
        assert!(shown.starts_with(first_word), "{shown:?} vs {actor:?}");
    }

    // Hostile text is inert: no element or handler from it, no link but in-page anchors and
    // the runs' http(s) URLs, its markup visible as text.
    assert_eq!(
        page["overflows"], false,
        "long unbroken text wraps inside the page"
    );
    assert_eq!(page["active"], 0);
    assert_eq!(page["handlers"], 0);
    for link in page["links"].as_array().unwrap() {
        assert!(
            link.as_str()
                .unwrap()
                .starts_with("https://github.com/acme/app/actions/runs/"),
            "{link}"
        );
    }
    let text = page["text"].as_str().unwrap();
    assert!(text.contains("evil <script>alert(1)</script>"));
    assert!(text.contains("evil <img src=x onerror=alert(1)>"));
    assert!(
        !text.contains('\u{202E}') && !text.contains('\u{1b}'),
        "invisible characters are shown as code points"
    );
}

#[test]
fn html_audit_of_a_tampered_ledger_says_so_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    year_of_runs(&d.join("ev"));
    let json_out = audit(d, "json", &[]);
    let expected: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    // Edit the report of the first sampled run.
    let bundle = expected["sample"]["runs"][0]["bundle"].as_str().unwrap();
    let report = d.join("ev/bundles").join(bundle).join("report.json");
    let text = std::fs::read_to_string(&report).unwrap();
    std::fs::write(&report, text.replacen("fail", "pass", 1)).unwrap();
    let o = audit(d, "html", &["--output", "tampered.html"]);
    exits(&o, 1);
    let page = browse(&d.join("tampered.html"), "audit-tampered");
    assert!(
        page["banner"]
            .as_str()
            .unwrap()
            .starts_with("Ledger NOT intact"),
        "{}",
        page["banner"]
    );
    let first = &page["sample"][0]["fields"];
    assert!(
        first["Verify"].as_str().unwrap().starts_with("FAILED"),
        "{first}"
    );
    assert!(
        first["Verify"]
            .as_str()
            .unwrap()
            .contains("report.json was edited"),
        "{first}"
    );
}
