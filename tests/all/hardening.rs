//! Hardening (issue 8): the malformed-input corpus through the binary, hostile text through
//! every renderer, secret redaction, fuzz-finding regressions and property tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use controlgate::analyze::aggregate::Aggregator;
use controlgate::analyze::mapping::Mapper;
use controlgate::gather::coverage::{ChangeSource, CoverageRequest, ReportInput, analyze};
use controlgate::model::{CaseStatus, Message, PropertyScope, RawProperty, TestCase};
use controlgate::redact::{Redactions, Redactor};
use controlgate::render;
use controlgate::render::escape::ALLOWED_TAGS;
/// What GitHub's mention and reference filters see (the render tests use it too).
pub(crate) use controlgate::render::escape::shown_text;
use proptest::prelude::*;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn malformed() -> PathBuf {
    root().join("tests/fixtures/malformed")
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_controlgate"));
    c.current_dir(root());
    for v in ["GITHUB_ACTIONS", "GITHUB_TOKEN", "CONTROLGATE_SECRETS"] {
        c.env_remove(v);
    }
    c
}

// ---------------------------------------------------------------------------------------------
// Malformed-input corpus (tests/fixtures/malformed/manifest.json)

const GOOD_JUNIT: &str = "tests/fixtures/malformed/good/junit.xml";
const GOOD_LCOV: &str = "examples/coverage/python/lcov.info";
const GOOD_DIFF: &str = "examples/coverage/python/change.diff";
const GOOD_REPO: &str = "examples/coverage/python";
const PETSTORE: &str = "tests/fixtures/api/petstore-3.0.yaml";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    out_entries: usize,
}

/// Feeds `file` to the binary through `flag`, with good inputs for everything else.
fn run_with(flag: &str, file: &Path, tmp: &Path) -> Run {
    let out = tmp.join("out");
    let mut c = bin();
    c.args(["report", "--format", "json", "--out"]).arg(&out);
    let api_config = |spec: &Path| {
        let cfg = tmp.join("api.yml");
        std::fs::write(
            &cfg,
            format!("api:\n  specs: [{:?}]\n", spec.to_string_lossy()),
        )
        .unwrap();
        cfg
    };
    match flag {
        "junit" => {
            c.arg("--junit").arg(file);
        }
        "coverage" => {
            c.args(["--junit", GOOD_JUNIT, "--coverage"]).arg(file);
            c.args(["--diff", GOOD_DIFF, "--repo", GOOD_REPO]);
        }
        "diff" => {
            c.args([
                "--junit",
                GOOD_JUNIT,
                "--coverage",
                GOOD_LCOV,
                "--repo",
                GOOD_REPO,
            ]);
            c.arg("--diff").arg(file);
        }
        "config" => {
            c.args(["--junit", GOOD_JUNIT, "--config"]).arg(file);
        }
        "openapi" => {
            c.args(["--junit", GOOD_JUNIT, "--config"])
                .arg(api_config(file));
        }
        "har" | "api-log" => {
            c.args(["--junit", GOOD_JUNIT, "--config"])
                .arg(api_config(&root().join(PETSTORE)));
            c.arg(format!("--{flag}")).arg(file);
        }
        other => panic!("unknown flag {other} in the manifest"),
    }
    let o = c.output().unwrap();
    let out_entries = std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        out_entries,
    }
}

/// Checks a rejected input: exit 2, the file named with a line or byte offset, no panic,
/// nothing written. Returns a description of what is wrong, if anything.
fn check_rejected(name: &str, r: &Run) -> Option<String> {
    let located =
        regex::Regex::new(&format!(r"{}(:\d+| \(byte \d+\))", regex::escape(name))).unwrap();
    let mut bad = Vec::new();
    if r.code != Some(2) {
        bad.push(format!("exit {:?}", r.code));
    }
    if r.stderr.contains("panicked") {
        bad.push("panicked".into());
    }
    if !located.is_match(&r.stderr) {
        bad.push("no file:line or byte offset".into());
    }
    if r.out_entries != 0 {
        bad.push(format!("{} file(s) written to --out", r.out_entries));
    }
    if !r.stdout.is_empty() {
        bad.push("printed a report".into());
    }
    (!bad.is_empty()).then(|| format!("{}: {} — stderr: {}", name, bad.join(", "), r.stderr.trim()))
}

#[test]
fn malformed_corpus_is_rejected_with_a_location_and_nothing_written() {
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(malformed().join("manifest.json")).unwrap())
            .unwrap();
    assert!(manifest.len() >= 40, "corpus has {} files", manifest.len());
    let mut failures = Vec::new();
    for entry in &manifest {
        let file = entry["file"].as_str().unwrap();
        let flag = entry["flag"].as_str().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let path = malformed().join(file);
        let r = run_with(flag, &path, tmp.path());
        let name = Path::new(file).file_name().unwrap().to_str().unwrap();
        match entry["expect"].as_str().unwrap() {
            "reject" => {
                failures.extend(check_rejected(name, &r));
                // Where the manifest names the line, the error must point at it.
                if let Some(line) = entry.get("line").and_then(Value::as_u64) {
                    if !r.stderr.contains(&format!("{name}:{line}: ")) {
                        failures.push(format!(
                            "{file}: error not on line {line}: {}",
                            r.stderr.trim()
                        ));
                    }
                }
            }
            "accepted" => {
                if !matches!(r.code, Some(0 | 1)) || r.stderr.contains("panicked") {
                    failures.push(format!(
                        "{file}: accepted input failed: {}",
                        r.stderr.trim()
                    ));
                    continue;
                }
                let report: Value = serde_json::from_str(&r.stdout).unwrap();
                if flag == "junit" {
                    for key in ["total", "failed", "runs"] {
                        if let Some(want) = entry.get(key) {
                            let got = &report["tests"][key];
                            if got != want {
                                failures.push(format!("{file}: tests.{key} = {got}, want {want}"));
                            }
                        }
                    }
                }
                if r.out_entries != 2 {
                    failures.push(format!("{file}: {} files in --out", r.out_entries));
                }
            }
            other => panic!("unknown expectation {other}"),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// 10 MB attributes and lines, generated here rather than committed.
#[test]
fn huge_inputs_are_bounded_or_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let big = "x".repeat(10 * 1024 * 1024);
    // JUnit: a 10 MB name is accepted and cut (64 KiB in the model, 200 chars in Markdown).
    let junit = tmp.path().join("huge-name.xml");
    std::fs::write(
        &junit,
        format!("<testsuites><testsuite name=\"s\"><testcase name=\"{big}\"><failure message=\"{big}\"/></testcase></testsuite></testsuites>"),
    )
    .unwrap();
    let r = run_with("junit", &junit, tmp.path());
    assert!(matches!(r.code, Some(0 | 1)), "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let case = &report["cases"][0];
    assert_eq!(case["name"].as_str().unwrap().len(), 64 * 1024);
    assert_eq!(case["message"].as_str().unwrap().len(), Message::LIMIT);
    let md = std::fs::read_to_string(tmp.path().join("out/summary.md")).unwrap();
    assert!(
        md.lines().all(|l| l.len() < 4000),
        "a Markdown line is too long"
    );
    // Cobertura: a 10 MB filename attribute with a negative line → rejected, located.
    let cob = tmp.path().join("huge-attr.xml");
    std::fs::write(
        &cob,
        format!("<coverage>\n<packages><package><classes><class filename=\"{big}\"><lines>\n<line number=\"-1\" hits=\"1\"/></lines></class></classes></package></packages></coverage>\n"),
    )
    .unwrap();
    let tmp2 = tempfile::tempdir().unwrap();
    let r = run_with("coverage", &cob, tmp2.path());
    if let Some(f) = check_rejected("huge-attr.xml", &r) {
        panic!("{f}");
    }
    // LCOV: a 10 MB line that is not a directive.
    let lcov = tmp.path().join("huge-line.info");
    std::fs::write(&lcov, format!("SF:a.py\n{big}\n")).unwrap();
    let tmp3 = tempfile::tempdir().unwrap();
    let r = run_with("coverage", &lcov, tmp3.path());
    if let Some(f) = check_rejected("huge-line.info", &r) {
        panic!("{f}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile text through every renderer

/// Every string carries `evil` so a line that starts with it can be recognised.
pub(crate) fn hostile() -> Vec<String> {
    vec![
        "evil | col | col |".into(),
        "evil\n| a | b |\n|---|---|".into(),
        "evil ``` unclosed fence".into(),
        "```\nevil fence\n```".into(),
        "evil <img src=x onerror=alert(1)>".into(),
        "evil <script>alert(1)</script>".into(),
        "evil </sub></details><h1>x</h1>".into(),
        "evil <!-- comment".into(),
        "@org/team evil @someone".into(),
        "evil fixes #123 and GH-4".into(),
        "# evil heading".into(),
        "> evil quote".into(),
        "evil\n# heading\n> quote\n- item".into(),
        "evil \u{202E}txt.exe\u{202C} \u{2066}x\u{2069} zero\u{200B}width\u{FEFF}\u{2028}sep"
            .into(),
        "evil \u{1b}[31mred\u{1b}[0m \u{7}bell".into(),
        "::set-output name=evil::1".into(),
        "evil\n::error file=x::owned\n::add-mask::x".into(),
        "evil [link](javascript:alert(1)) ![img](http://x/y.png) **bold** _i_".into(),
        "evil \\| escaped pipe &#124; &lt;".into(),
        format!("evil {}", "N".repeat(100 * 1024)),
    ]
}

/// What must never reach GitHub from untrusted text, whatever the document's structure: raw
/// HTML beyond controlgate's own tags, mentions, issue auto-links, invisible characters.
/// Mentions and references are looked for in the text as rendered ([`shown_text`]).
fn text_problems(what: &str, md: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let tag = regex::Regex::new(r"<[A-Za-z/!?][^<>]*>?").unwrap();
    for m in tag.find_iter(md) {
        if !ALLOWED_TAGS.contains(&m.as_str()) {
            bad.push(format!(
                "{what}: raw tag {:?}",
                &m.as_str()[..m.len().min(40)]
            ));
        }
    }
    let shown = shown_text(md);
    let mention = regex::Regex::new(r"@\w").unwrap();
    if let Some(m) = mention.find(&shown) {
        bad.push(format!("{what}: mention {:?}", m.as_str()));
    }
    let autolink = regex::Regex::new(r"(?i)(#|\bgh-)\d").unwrap();
    if let Some(m) = autolink.find(&shown) {
        bad.push(format!("{what}: issue autolink {:?}", m.as_str()));
    }
    for c in md.chars() {
        let n = c as u32;
        if matches!(n, 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2069 | 0xFEFF | 0x061C)
            || (c.is_control() && c != '\n')
        {
            bad.push(format!("{what}: invisible/control U+{n:04X}"));
            break;
        }
    }
    bad
}

/// Asserts a rendered Markdown document is inert. Returns the problems found.
fn inert_problems(what: &str, md: &str) -> Vec<String> {
    let mut bad = text_problems(what, md);
    // One title heading, controlgate's own: sections are `###`.
    let titles = md.lines().filter(|l| l.starts_with("## ")).count();
    if titles > 1 {
        bad.push(format!("{what}: {titles} `## ` headings"));
    }
    let mut table_cols: Option<usize> = None;
    for line in md.lines() {
        let lower = line.to_lowercase();
        if lower.contains("evil")
            && (line.starts_with('#')
                || line.starts_with('>')
                || line.starts_with("```")
                || line.starts_with("::"))
        {
            bad.push(format!(
                "{what}: line starts with untrusted text: {:?}",
                &line[..line.len().min(60)]
            ));
        }
        if line.starts_with("::") {
            bad.push(format!("{what}: workflow command line {line:?}"));
        }
        if line.chars().count() > 5000 {
            bad.push(format!(
                "{what}: {}-char line (names not cut)",
                line.chars().count()
            ));
        }
        if line.starts_with('|') {
            let cols = line.matches('|').count();
            match table_cols {
                None => table_cols = Some(cols),
                Some(n) if n != cols => bad.push(format!(
                    "{what}: table row has {cols} pipes, header {n}: {:?}",
                    &line[..line.len().min(80)]
                )),
                _ => {}
            }
        } else {
            table_cols = None;
        }
    }
    // Fences: every fence line is the renderer's own, so they pair up.
    let fences = md
        .lines()
        .filter(|l| l.trim_start().starts_with("```"))
        .count();
    if fences % 2 != 0 {
        bad.push(format!("{what}: unbalanced code fences"));
    }
    if md.chars().count() > render::markdown::DEFAULT_BUDGET {
        bad.push(format!(
            "{what}: over budget ({} chars)",
            md.chars().count()
        ));
    }
    bad
}

fn hostile_case(i: usize, h: &str) -> TestCase {
    TestCase {
        suite: h.to_owned(),
        classname: format!("{h}.cls{i}"),
        name: format!("{h} [cc6-1]"),
        file: Some(format!("tests/{h}.py")),
        line: Some(7),
        location: None,
        status: if i % 3 == 0 {
            CaseStatus::Errored
        } else {
            CaseStatus::Failed
        },
        flaky: false,
        duration_s: 0.1,
        message: Some(Message::bounded(&format!("{h}\nsecond {h}"))),
        properties: vec![
            RawProperty {
                name: "control".into(),
                value: format!("CC9.{i}{h}"),
                scope: PropertyScope::Case,
            },
            RawProperty {
                name: "tags".into(),
                value: "cc99-1".into(),
                scope: PropertyScope::Case,
            },
        ],
        input: 0,
        runs: 1,
    }
}

/// A suite name from a pull request's config that forges the rest of the summary: breaks the
/// table, adds a heading, a link and a mention, plants another check's sticky-comment marker
/// and comments out what follows.
pub(crate) const FORGED_SUITE: &str = "unit |x| \n\n<!-- controlgate:other -->\n## ✅ controlgate: \
     passed\n\n[click me](https://evil.example) @acme/security-team\n<!--";

fn hostile_report() -> controlgate::model::report::Report {
    use controlgate::model::gate::{Check, Gate, GatePolicy};
    let cases: Vec<TestCase> = hostile()
        .iter()
        .enumerate()
        .map(|(i, h)| hostile_case(i, h))
        .collect();
    let mut report = crate::render::report_of(cases, "");
    report.warnings.extend(hostile());
    // Suite gates carry the suite's name (`suite:<name>`) in their name and detail.
    for h in hostile().iter().map(String::as_str).chain([FORGED_SUITE]) {
        report.gates.push(Gate::decide(
            format!("suite:{h}"),
            GatePolicy::STRICT,
            Check::Held(format!(
                "suite `{h}` exit status 0 in 1.0s; 1 result file(s)"
            )),
        ));
    }
    report
}

#[test]
fn hostile_text_is_inert_in_the_markdown_summary() {
    let report = hostile_report();
    assert!(
        !report.unknown_tags.is_empty(),
        "hostile tags reach the unknown-tags table"
    );
    for budget in [render::markdown::DEFAULT_BUDGET, 4000] {
        let md = render::markdown::render(
            &report,
            &render::markdown::MarkdownOptions {
                budget,
                title: "controlgate".into(),
            },
            &[],
        );
        let bad = inert_problems("summary", &md);
        assert!(bad.is_empty(), "\n{}", bad.join("\n"));
    }
}

#[test]
fn a_forged_summary_is_made_inert_and_a_real_one_passes_unchanged() {
    use render::escape::untrusted_markdown;
    // controlgate's own summary, hostile names and all, is already inert: nothing changes.
    let md = render::markdown::render(
        &hostile_report(),
        &render::markdown::MarkdownOptions {
            budget: render::markdown::DEFAULT_BUDGET,
            title: "controlgate".into(),
        },
        &[],
    );
    assert_eq!(untrusted_markdown(&md), md);

    // A fork's stage-1 job can upload any summary.md: the hostile strings raw, plus links.
    let forged = hostile().join("\n\n")
        + "\n\n"
        + FORGED_SUITE
        + "\n[approve](https://evil.example/a) <https://evil.example/b> www.evil.example\n\
           ![x](https://evil.example/x.png) \\\\[y](https://evil.example/c) <img src=x> \
           <details open><summary>ok</summary>x</details> @@org &#64;ok #12 a#3 \\@esc \
           &#x40;hex &commat;named &#35;4 GH-5 gh&#45;6 @&#8203;ours";
    let safe = untrusted_markdown(&forged);
    let mut bad = text_problems("forged", &safe);
    let link = regex::Regex::new(r"(^|[^\\])(\[|\]\(|https?://|www\.)").unwrap();
    bad.extend(
        link.find_iter(&safe)
            .map(|m| format!("link {:?}", m.as_str())),
    );
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
    // The text stays readable: only markup was neutralised.
    for kept in [
        "evil heading",
        "evil.example",
        "&lt;details open>",
        "<summary>ok</summary>",
        "@&#8203;org/team",
        "&#64;&#8203;ok",
        "@&#8203;ours",
    ] {
        assert!(safe.contains(kept), "{kept:?} lost");
    }
}

#[test]
fn hostile_text_round_trips_through_json() {
    let report = hostile_report();
    let json = render::json(&report);
    let v: Value = serde_json::from_str(&json).expect("report.json parses");
    let names: Vec<&str> = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for h in hostile() {
        assert!(
            names.contains(&format!("{h} [cc6-1]").as_str()),
            "JSON keeps the exact name"
        );
    }
    assert_eq!(
        v["warnings"].as_array().unwrap().len(),
        report.warnings.len()
    );
}

#[test]
fn hostile_paths_are_inert_in_the_coverage_section() {
    let tmp = tempfile::tempdir().unwrap();
    let safe: Vec<String> = hostile()
        .iter()
        .filter(|h| !h.contains('\n') && !h.contains('\r') && !h.contains('\u{2028}'))
        .map(|h| h.replace('/', "_"))
        .collect();
    let mut lcov = String::new();
    let mut diff = String::new();
    for (i, h) in safe.iter().enumerate() {
        let p = format!("src/{h}{i}.py");
        lcov.push_str(&format!("SF:{p}\nDA:1,1\nDA:2,0\nend_of_record\n"));
        diff.push_str(&format!(
            "diff --git a/{p} b/{p}\n--- a/{p}\n+++ b/{p}\n@@ -0,0 +1,2 @@\n+a\n+b\n"
        ));
    }
    let mut req = CoverageRequest::new(
        tmp.path(),
        ChangeSource::Diff {
            path: "evil@team #12.diff".into(),
            text: diff.into_bytes(),
        },
    );
    req.reports = vec![ReportInput {
        path: "cov <img>.info".into(),
        bytes: lcov.into_bytes().into(),
    }];
    let section = analyze(&req).expect("coverage analyses");
    assert!(!section.patch.files.is_empty());
    for budget in [20_000, 2_000] {
        let md = render::coverage::render_coverage(&section, budget);
        let bad = inert_problems("coverage", &md);
        assert!(bad.is_empty(), "\n{}", bad.join("\n"));
    }
}

#[test]
fn hostile_names_are_inert_in_the_api_section() {
    use controlgate::analyze::api::Analyzer;
    use controlgate::config::ApiConfig;
    use controlgate::ingest::{har, openapi};
    let mut paths = serde_json::Map::new();
    for (i, h) in hostile().iter().enumerate() {
        let op = serde_json::json!({
            "operationId": format!("{h}-op"),
            "tags": [h],
            "summary": h,
            "responses": {"200": {"description": h}}
        });
        paths.insert(
            format!("/p{i}/{}", h.replace(['/', '{', '}', '?', '#'], "_")),
            serde_json::json!({"get": op}),
        );
    }
    let doc = serde_json::json!({"openapi": "3.0.3", "info": {"title": "evil <b>", "version": "1"}, "paths": paths});
    let path = PathBuf::from("openapi.json");
    let mut mem = openapi::Memory::default();
    mem.0.insert(path.clone(), doc.to_string());
    let spec = openapi::load(&[path], &mut mem).expect("spec loads");
    let mut a = Analyzer::new(&spec, &ApiConfig::default()).unwrap();
    let mut log = String::new();
    for h in hostile() {
        let line = serde_json::json!({"method": "GET", "url": format!("http://x/undoc/{h}"), "status": 200});
        log.push_str(&line.to_string());
        log.push('\n');
    }
    har::read_log(log.as_bytes(), &mut |ex| {
        a.exchange(&ex, "evil @x.jsonl", false)
    })
    .unwrap();
    let mut tc = hostile_case(1, "evil <img src=x>");
    tc.properties.push(RawProperty {
        name: "operation".into(),
        value: "@org/team #123 <script>evil".into(),
        scope: PropertyScope::Case,
    });
    a.test_case(&tc);
    let section = a.finish(Some(&spec), Vec::new());
    for budget in [26_000, 3_000] {
        let md = render::api::markdown(&section, budget);
        let bad = inert_problems("api", &md);
        assert!(bad.is_empty(), "\n{}", bad.join("\n"));
    }
}

/// Printed to the GitHub Actions log, the report is wrapped in `::stop-commands::`.
#[test]
fn report_on_stdout_cannot_issue_workflow_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("j.xml");
    std::fs::write(
        &junit,
        "<testsuite name=\"s\"><testcase name=\"t\"><failure message=\"x\">\n::set-output name=a::b\n</failure></testcase></testsuite>",
    )
    .unwrap();
    let o = bin()
        .args(["report", "--format", "json", "--junit"])
        .arg(&junit)
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    let out = String::from_utf8(o.stdout).unwrap();
    let first = out.lines().next().unwrap();
    let token = first
        .strip_prefix("::stop-commands::")
        .expect("starts with stop-commands");
    assert!(token.len() >= 16);
    assert!(out.trim_end().ends_with(&format!("::{token}::")));
    let inner: Vec<&str> = out.lines().collect();
    let body = inner[1..inner.len() - 1].join("\n");
    assert!(!body.contains(token));
    serde_json::from_str::<Value>(&body).expect("the JSON between the markers is intact");
}

#[test]
fn hostile_text_is_visible_plain_text_in_check_run_annotations() {
    let report = hostile_report();
    let annotations = controlgate::publish::annotations(&report, &[], 50, None);
    assert_eq!(annotations.len(), hostile().len(), "one per failing test");
    let hidden = |c: char| {
        matches!(c as u32, 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2069 | 0xFEFF)
            || (c.is_control() && c != '\n' && c != '\t')
    };
    for a in &annotations {
        let title = a.title.as_deref().unwrap_or_default();
        let bad: Vec<char> = a
            .message
            .chars()
            .chain(title.chars())
            .filter(|c| hidden(*c))
            .collect();
        assert!(
            bad.is_empty(),
            "hidden {bad:?} in {:?}",
            &a.message[..a.message.len().min(80)]
        );
        assert!(!title.contains('\n'), "one-line title {title:?}");
        assert!(title.chars().count() <= 250 && a.message.len() <= 60_000);
    }
    // What was hidden is shown, not dropped: the reader sees the override and the escape.
    let shown = |needle: &str| annotations.iter().any(|a| a.message.contains(needle));
    assert!(
        shown("evil <U+202E>txt.exe<U+202C>"),
        "bidi override made visible"
    );
    assert!(
        shown("evil <U+001B>[31mred"),
        "terminal escape made visible"
    );
    assert!(
        shown("evil\n::error file=x::owned"),
        "stack-trace lines kept"
    );
}

// ---------------------------------------------------------------------------------------------
// Secret redaction

fn redact(s: &str) -> (String, Redactions) {
    let mut c = Redactions::default();
    let r = Redactor::default().redact(s, &mut c).into_owned();
    (r, c)
}

#[test]
fn each_secret_kind_is_redacted() {
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    let pem =
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----";
    let cases = [
        (format!("ghp_{}", "A1b2C3d4E5".repeat(4)), "github_token"),
        (format!("gho_{}", "z".repeat(36)), "github_token"),
        (format!("ghs_{}", "Q9".repeat(18)), "github_token"),
        (format!("ghu_{}", "k".repeat(36)), "github_token"),
        (format!("ghr_{}", "R".repeat(36)), "github_token"),
        (
            format!("github_pat_11ABCDEFG0{}", "x_Y".repeat(20)),
            "github_token",
        ),
        ("AKIAIOSFODNN7EXAMPLE".to_string(), "aws_access_key"),
        ("ASIAY34FZKBOKMUTVV7A".to_string(), "aws_access_key"),
        (
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string(),
            "aws_secret_key",
        ),
        (
            format!("xoxb-{}-{}", "1234567890", "abcdefABCDEF1234"),
            "slack_token",
        ),
        (format!("xoxp-{}", "9".repeat(30)), "slack_token"),
        (jwt.to_string(), "jwt"),
        (
            "Authorization: Bearer abcdef1234567890".to_string(),
            "authorization",
        ),
        (
            "authorization: Basic dXNlcjpwYXNzd29yZA==".to_string(),
            "authorization",
        ),
        (
            "{\"Authorization\": \"token 0123456789abcdef\"}".to_string(),
            "authorization",
        ),
        (pem.to_string(), "private_key"),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA (cut)".to_string(),
            "private_key",
        ),
    ];
    for (secret, kind) in cases {
        let text = format!("before {secret} after");
        let (r, c) = redact(&text);
        assert!(r.contains(&format!("[REDACTED:{kind}]")), "{kind}: {r}");
        assert_eq!(c.by_kind.get(kind), Some(&1), "{kind}: {r} {c:?}");
        assert_eq!(c.total, 1, "{kind}: {r} {c:?}");
        assert!(r.starts_with("before "), "{r}");
        // The secret's distinctive part is gone.
        let tail = &secret[secret.len().saturating_sub(8)..];
        assert!(!r.contains(tail) || kind == "private_key", "{kind}: {r}");
    }
}

#[test]
fn runtime_secrets_and_configured_patterns_are_redacted() {
    let r = Redactor::new(
        &["s3cr3t-value".into(), "abc".into()],
        &[r"INTERNAL-\d{6}".into()],
    )
    .unwrap();
    let mut c = Redactions::default();
    let out = r.redact("pw=s3cr3t-value id INTERNAL-123456 abc abc", &mut c);
    assert_eq!(out, "pw=[REDACTED:secret] id [REDACTED:pattern] abc abc");
    assert_eq!(c.total, 2);
    assert!(Redactor::new(&[], &["(".into()]).is_err());

    // Secret values without patterns: found by the literal prefilter even in text holding no
    // built-in marker, and matched exactly (case counts).
    let r = Redactor::new(&["Zq9-plain-value".into()], &[]).unwrap();
    let mut c = Redactions::default();
    let out = r.redact("not zq9-PLAIN-value, but Zq9-plain-value", &mut c);
    assert_eq!(out, "not zq9-PLAIN-value, but [REDACTED:secret]");
    assert_eq!(c.total, 1);
}

#[test]
fn ordinary_text_is_not_redacted() {
    for s in [
        "assert 3f9a1c2e4b5d6f7a8b9c0d1e2f3a4b5c6d7e8f90 == 9c0d1e2f3a4b5c6d7e8f903f9a1c2e4b5d6f7a8b",
        "request 123e4567-e89b-12d3-a456-426614174000 timed out",
        "payload SGVsbG8sIFdvcmxkIQ== decoded QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTIzNDU2Nzg5",
        "AssertionError: expected 'ghp_' token prefix, got 'gho'",
        "authorization failed: user bob lacks role admin",
        "Authorization: denied",
        "eyJ is how JSON looks in base64",
        "AKIA is the access-key prefix",
        "see https://github.com/org/repo/pull/12 and xoxo hugs",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ] {
        let (r, c) = redact(s);
        assert_eq!(r, s);
        assert_eq!(c.total, 0, "{s}");
    }
}

/// Redaction happens in the pipeline, before the JSON and Markdown are produced, and the
/// report counts it.
#[test]
fn the_report_is_redacted_and_counts_redactions() {
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("j.xml");
    let gh = format!("ghp_{}", "Z".repeat(36));
    std::fs::write(
        &junit,
        format!(
            "<testsuite name=\"s\">\
             <testcase classname=\"a\" name=\"login [cc6-1]\"><failure message=\"token {gh} rejected\">\
             Authorization: Bearer abcdefghijklmnop1234\nAKIAIOSFODNN7EXAMPLE\nmy-own-secret-42</failure></testcase>\
             <testcase classname=\"a\" name=\"t {gh}\"><failure message=\"x\"/></testcase>\
             </testsuite>"
        ),
    )
    .unwrap();
    let cfg = tmp.path().join("c.yml");
    std::fs::write(&cfg, "redact:\n  patterns: ['my-own-\\w+']\n").unwrap();
    let out = tmp.path().join("out");
    let o = bin()
        .args(["report", "--junit"])
        .arg(&junit)
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .env("CONTROLGATE_SECRETS", "unused-value\n")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    let json = std::fs::read_to_string(out.join("report.json")).unwrap();
    let stdout = String::from_utf8(o.stdout).unwrap();
    for text in [&md, &json, &stdout] {
        assert!(!text.contains(&gh));
        assert!(!text.contains("abcdefghijklmnop1234"));
        assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"));
        assert!(!text.contains("my-own-secret-42"));
    }
    assert!(md.contains("secret(s) redacted"), "{md}");
    let v: Value = serde_json::from_str(&json).unwrap();
    let r = &v["redactions"];
    assert_eq!(r["by_kind"]["github_token"], 3, "{r}"); // message, name, id
    assert_eq!(r["by_kind"]["authorization"], 1, "{r}");
    assert_eq!(r["by_kind"]["aws_access_key"], 1, "{r}");
    assert_eq!(r["by_kind"]["pattern"], 1, "{r}");
    assert_eq!(r["total"], 6, "{r}");
    // A runtime secret from the environment.
    let o = bin()
        .args(["report", "--format", "json", "--junit"])
        .arg(&junit)
        .env("CONTROLGATE_SECRETS", "my-own-secret-42")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["redactions"]["by_kind"]["secret"], 1);
}

/// The input a test with an unknown tag came from is a path, like the inputs' own: a token in
/// a directory name is redacted there too, in `report.json` and the summary's table.
#[test]
fn an_unknown_tags_input_path_is_redacted() {
    let tmp = tempfile::tempdir().unwrap();
    let gh = format!("ghp_{}", "Y".repeat(36));
    let dir = tmp.path().join(format!("r-{gh}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("j.xml"),
        "<testsuite name=\"s\"><testcase classname=\"a\" name=\"t [cc9-9]\"/></testsuite>",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = bin()
        .current_dir(tmp.path())
        .args(["report", "--junit", &format!("r-{gh}/j.xml"), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let json = std::fs::read_to_string(out.join("report.json")).unwrap();
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["unknown_tags"].as_array().map(Vec::len),
        Some(1),
        "{json}"
    );
    for text in [
        json,
        std::fs::read_to_string(out.join("summary.md")).unwrap(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    ] {
        assert!(!text.contains(&gh), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzz-finding regressions (fuzz/README.md)

/// Every file in tests/fixtures/malformed/fuzz is a libFuzzer crash input, replayed through
/// the parser its name starts with: it must return (Ok or Err), not panic.
#[test]
fn fuzz_findings_do_not_panic() {
    use controlgate::ingest::*;
    let dir = malformed().join("fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&data);
        match name.split('-').next().unwrap() {
            "junit" => {
                // Streamed and read in place: the same answer, and no panic either way.
                let _ = crate::junit::results_both_ways(&data, 0);
            }
            "lcov" => drop(lcov::parse(data.as_slice())),
            "cobertura" => drop(cobertura::parse(data.as_slice())),
            "jacoco" => drop(jacoco::parse(data.as_slice(), &[])),
            "clover" => drop(clover::parse(data.as_slice())),
            "diff" => drop(diff::parse(data.as_slice())),
            "config" => drop(controlgate::config::parse(&text, Path::new("c.yml"))),
            "openapi" => drop(openapi::parse_document(&text)),
            "har" => drop(har::read_har(data.as_slice(), &mut |_| {})),
            "log" => drop(har::read_log(data.as_slice(), &mut |_| {})),
            other => panic!("{name}: unknown parser prefix {other}"),
        }
        n += 1;
    }
    assert!(n >= 1);
}

/// diff #1: `diff --git` paths split in the middle of a multi-byte character.
#[test]
fn fuzz_diff_git_header_split_inside_a_char() {
    let d = "diff --git a/xé b/éyz\n".as_bytes().to_vec();
    let _ = controlgate::ingest::diff::parse(d.as_slice());
    let data = std::fs::read(malformed().join("fuzz/diff-split-inside-char.diff")).unwrap();
    let _ = controlgate::ingest::diff::parse(data.as_slice());
}

// ---------------------------------------------------------------------------------------------
// Property tests (fast; CI runs them with the suite)

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        // Text made of the formats' own punctuation finds more paths than random bytes.
        proptest::collection::vec(
            proptest::sample::select(
                b"<>/=\"' \n\r:,@+-!?[]{}&;#0123456789abSFDAtescuiovrlhnpgEKY_".to_vec()
            ),
            0..512
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(data in any_bytes()) {
        use controlgate::ingest::*;
        let _ = junit::parse(data.as_slice(), 0, &mut |_| {});
        let _ = trx::parse(data.as_slice(), 0, &mut |_| {});
        let _ = nunit::parse(data.as_slice(), 0, &mut |_| {});
        let _ = xunit::parse(data.as_slice(), 0, &mut |_| {});
        // Streamed and read in place: the same answer, and no panic either way.
        let _ = crate::junit::results_both_ways(&data, 0);
        let _ = lcov::parse(data.as_slice());
        let _ = cobertura::parse(data.as_slice());
        let _ = jacoco::parse(data.as_slice(), &[]);
        let _ = clover::parse(data.as_slice());
        let _ = diff::parse(data.as_slice());
        let _ = har::read_har(data.as_slice(), &mut |_| {});
        let _ = har::read_log(data.as_slice(), &mut |_| {});
        if let Ok(text) = std::str::from_utf8(&data) {
            let _ = controlgate::config::parse(text, Path::new("c.yml"));
            let _ = openapi::parse_document(text);
        }
    }

    #[test]
    fn junit_totals_equal_the_sum_of_cases(
        suites in proptest::collection::vec(
            proptest::collection::vec((0u8..4, 0u8..40, any::<bool>()), 0..30),
            1..6,
        ),
        nested in any::<bool>(),
    ) {
        let mut xml = String::from("<?xml version=\"1.0\"?>\n<testsuites>\n");
        let mut want = [0u64; 4];
        let mut cases = 0u64;
        let mut unique = std::collections::HashMap::new();
        for (s, list) in suites.iter().enumerate() {
            xml.push_str(&format!("<testsuite name=\"s{s}\" tests=\"999\">\n"));
            if nested {
                xml.push_str("<testsuite name=\"inner\">\n");
            }
            for (status, name, props) in list {
                cases += 1;
                want[*status as usize] += 1;
                let key = format!("c{s}::t{name}");
                let e = unique.entry(key).or_insert(*status);
                // Worst run wins: errored > failed > passed > skipped.
                let rank = |x: u8| [1, 0, 2, 3][x as usize];
                if rank(*status) > rank(*e) { *e = *status; }
                let body = match status {
                    0 => String::new(),
                    1 => "<skipped/>".into(),
                    2 => "<failure message=\"m &amp; &lt;x&gt;\">trace</failure>".into(),
                    _ => "<error type=\"E\"/>".into(),
                };
                let props = if *props { "<properties><property name=\"control\" value=\"CC6.1\"/></properties>" } else { "" };
                xml.push_str(&format!("<testcase classname=\"c{s}\" name=\"t{name}\" time=\"0.5\">{props}{body}</testcase>\n"));
            }
            if nested {
                xml.push_str("</testsuite>\n");
            }
            xml.push_str("</testsuite>\n");
        }
        xml.push_str("</testsuites>\n");
        let mut got = [0u64; 4];
        let mut parsed = Vec::new();
        let summary = controlgate::ingest::junit::parse(xml.as_bytes(), 0, &mut |c| {
            let i = match c.status {
                CaseStatus::Passed => 0,
                CaseStatus::Skipped => 1,
                CaseStatus::Failed => 2,
                CaseStatus::Errored => 3,
            };
            got[i] += 1;
            parsed.push(c);
        }).unwrap();
        prop_assert_eq!(summary.cases, cases);
        prop_assert_eq!(got, want);
        // Aggregated totals: one per unique test, statuses summing to the total.
        let config = controlgate::config::parse("", Path::new("c.yml")).unwrap();
        let mapper = Mapper::new(&config).unwrap();
        let mut agg = Aggregator::new(&mapper);
        agg.add_input("j.xml".into(), vec![]);
        for c in parsed { agg.push(c); }
        let t = agg.finish(&[]).totals;
        prop_assert_eq!(t.runs, cases);
        prop_assert_eq!(t.total, unique.len() as u64);
        prop_assert_eq!(t.total, t.passed + t.failed + t.errored + t.skipped);
        let mut by = [0u64; 4];
        for s in unique.values() { by[*s as usize] += 1; }
        prop_assert_eq!([t.passed, t.skipped, t.failed, t.errored], by);
    }

    #[test]
    fn patch_covered_le_measured_le_changed(
        files in proptest::collection::vec(
            (
                proptest::collection::btree_map(1u32..60, 0u64..3, 0..40),
                proptest::collection::vec((1u32..60, 1u32..6), 0..4),
            ),
            1..4,
        ),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let mut lcov = String::new();
        let mut diff = String::new();
        let mut changed_lines = 0u64;
        for (i, (hits, hunks)) in files.iter().enumerate() {
            let p = format!("src/f{i}.py");
            lcov.push_str(&format!("SF:{p}\n"));
            for (l, h) in hits {
                lcov.push_str(&format!("DA:{l},{h}\n"));
            }
            lcov.push_str("end_of_record\n");
            diff.push_str(&format!("diff --git a/{p} b/{p}\n--- a/{p}\n+++ b/{p}\n"));
            // Non-overlapping, increasing hunks of pure additions.
            let mut next = 1u32;
            let mut sorted = hunks.clone();
            sorted.sort();
            let mut lines = std::collections::BTreeSet::new();
            for (start, len) in sorted {
                let start = start.max(next);
                diff.push_str(&format!("@@ -{},0 +{start},{len} @@\n", start - 1));
                for k in 0..len {
                    diff.push_str("+x\n");
                    lines.insert(start + k);
                }
                next = start + len + 1;
            }
            changed_lines += lines.len() as u64;
        }
        let mut req = CoverageRequest::new(
            tmp.path(),
            ChangeSource::Diff { path: "change.diff".into(), text: diff.into_bytes() },
        );
        req.reports = vec![ReportInput { path: "lcov.info".into(), bytes: lcov.into_bytes().into() }];
        let s = analyze(&req).unwrap();
        let p = &s.patch;
        prop_assert!(p.covered <= p.measured, "{} > {}", p.covered, p.measured);
        prop_assert!(p.measured <= p.changed, "{} > {}", p.measured, p.changed);
        prop_assert_eq!(p.changed, changed_lines);
    }
}

#[test]
fn malformed_manifest_lists_existing_files() {
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(malformed().join("manifest.json")).unwrap())
            .unwrap();
    for e in manifest {
        let f = malformed().join(e["file"].as_str().unwrap());
        assert!(f.is_file(), "{}", f.display());
    }
}
