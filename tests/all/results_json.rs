//! The JSON test-result readers (`go test -json`, Dart's and Mocha's JSON reporters):
//! conformance with EnricoMi's publish-unit-test-result corpus (totals for every input, names
//! and statuses case by case), and reports written by the real tools.

use std::path::{Path, PathBuf};
use std::process::Command;

use controlgate::analyze::mapping::Mapper;
use controlgate::error::ParseError;
use controlgate::ingest::results::{Format, Summary};
use controlgate::model::{CaseStatus, PropertyScope, RawProperty, TestCase};

use crate::junit::{Totals, corpus_dir, expected_totals, judge, results_both_ways};

fn parse(bytes: &[u8]) -> Result<(Format, Vec<TestCase>, Summary), ParseError> {
    let (format, cases, summary) = results_both_ways(bytes, 0)?;
    assert_eq!(summary.cases, cases.len() as u64);
    Ok((format, cases, summary))
}

fn parse_ok(bytes: &[u8], what: &str) -> (Format, Vec<TestCase>, Summary) {
    parse(bytes).unwrap_or_else(|e| panic!("{what}: {e}{}", e.location))
}

// ---------------------------------------------------------------------------------------------
// Conformance: EnricoMi/publish-unit-test-result-action (vendored, see PROVENANCE.md there)
// ---------------------------------------------------------------------------------------------

/// Inputs where our totals (tests, passed, skipped, failed, errored) differ from EnricoMi's on
/// purpose: (path relative to the corpus, our totals, reason). None today. The mapping rules that would make them differ on inputs
/// the corpus does not hold (a Dart suite that fails to load, a failing Mocha hook) are in the
/// readers' module docs.
const DIFFERENCES: &[(&str, Totals, &str)] = &[];

/// Every native JSON input of the corpus (`X.json`, not the `X.results.json` answers).
fn json_inputs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read corpus dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            json_inputs(&path, out);
        } else {
            let name = path.file_name().unwrap().to_string_lossy();
            if name.ends_with(".json") && !name.ends_with(".results.json") {
                out.push(path);
            }
        }
    }
}

fn sibling(input: &Path, ext: &str) -> PathBuf {
    let name = input.file_name().unwrap().to_string_lossy();
    let stem = name.strip_suffix(".json").unwrap();
    input.with_file_name(format!("{stem}.{ext}"))
}

fn totals(cases: &[TestCase]) -> Totals {
    let count = |s: CaseStatus| cases.iter().filter(|c| c.status == s).count() as u64;
    [
        cases.len() as u64,
        count(CaseStatus::Passed),
        count(CaseStatus::Skipped),
        count(CaseStatus::Failed),
        count(CaseStatus::Errored),
    ]
}

#[test]
fn conformance_enricomi_json_corpus() {
    let root = corpus_dir();
    let mut inputs = Vec::new();
    json_inputs(&root, &mut inputs);
    inputs.sort();
    let (mut agreed, mut differing, mut rejected) = (0, 0, 0);
    let mut used = Vec::new();
    let mut failures = Vec::new();
    for input in &inputs {
        let rel = input
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(input).expect("read input");
        let parsed = parse(&bytes);
        if sibling(input, "exception").exists() {
            match parsed {
                Ok((_, cases, _)) => failures.push(format!(
                    "{rel}: accepted ({} cases), must be rejected",
                    cases.len()
                )),
                Err(e) => {
                    assert!(!e.message.is_empty(), "{rel}: empty error message");
                    assert!(e.location.line.is_some(), "{rel}: error without line: {e}");
                    rejected += 1;
                }
            }
            continue;
        }
        let results = sibling(input, "results.json");
        assert!(results.exists(), "{rel}: no .results.json next to it");
        let expected = expected_totals(&results);
        let (format, cases, _) = match parsed {
            Ok(ok) => ok,
            Err(e) => {
                failures.push(format!("{rel}: rejected: {e}{}", e.location));
                continue;
            }
        };
        let want_format = if rel.starts_with("dart/") {
            Format::Dart
        } else {
            Format::Mocha
        };
        assert_eq!(format, want_format, "{rel}");
        let ours = totals(&cases);
        match judge(&rel, ours, expected, DIFFERENCES, &mut used) {
            Ok(true) => agreed += 1,
            Ok(false) => differing += 1,
            Err(failure) => failures.push(failure),
        }
    }
    assert!(
        failures.is_empty(),
        "conformance failures:\n{}",
        failures.join("\n")
    );
    for (path, _, _) in DIFFERENCES {
        assert!(used.contains(path), "table entry {path} matches no input");
    }
    assert_eq!(agreed + differing + rejected, inputs.len());
    assert_eq!(
        (agreed, rejected),
        (2, 3),
        "expected the Dart and Mocha reports and the 3 json/ .exception inputs"
    );
}

/// One `UnitTestCase(...)` of a `.results` file (Python's repr of what EnricoMi parsed).
#[derive(Debug)]
struct Recorded {
    test_file: Option<String>,
    line: Option<u32>,
    test_name: String,
    result: String,
    message: Option<String>,
    time: Option<f64>,
}

/// The cases of a `.results` file, in its order.
fn recorded_cases(path: &Path) -> Vec<Recorded> {
    let text = std::fs::read_to_string(path).expect("read .results");
    text.split("publish.unittestresults.UnitTestCase(")
        .skip(1)
        .map(|block| {
            let text = |k: &str| py_field(block, k).and_then(|v| v.as_str().map(str::to_owned));
            Recorded {
                test_file: text("test_file"),
                line: py_field(block, "line")
                    .and_then(|v| v.as_num())
                    .map(|n| n as u32),
                test_name: text("test_name").expect("test_name"),
                result: text("result").expect("result"),
                message: text("message"),
                time: py_field(block, "time").and_then(|v| v.as_num()),
            }
        })
        .collect()
}

enum PyValue {
    Str(String),
    Other(String),
}

impl PyValue {
    fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(s) => Some(s),
            PyValue::Other(_) => None,
        }
    }

    fn as_num(&self) -> Option<f64> {
        match self {
            PyValue::Other(s) => s.parse().ok(),
            PyValue::Str(_) => None,
        }
    }
}

/// The value of `key=` in a repr block: adjacent string literals joined (Python's
/// pretty-printer splits long strings over lines), or the bare token (`None`, `14`, `0.005`).
fn py_field(block: &str, key: &str) -> Option<PyValue> {
    let pattern = format!("\n      {key}=");
    let at = block.find(&pattern)? + pattern.len();
    let mut rest = &block[at..];
    if !rest.starts_with(['\'', '"']) {
        let end = rest.find([',', '\n']).unwrap_or(rest.len());
        return Some(PyValue::Other(rest[..end].trim().to_owned()));
    }
    let mut out = String::new();
    while let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let mut chars = rest[1..].char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next().map(|(_, e)| e) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('x') => {
                        let hex: String = (0..2)
                            .filter_map(|_| chars.next().map(|(_, h)| h))
                            .collect();
                        out.push(char::from(
                            u8::from_str_radix(&hex, 16).expect("\\x escape"),
                        ));
                    }
                    Some(other) => out.push(other),
                    None => {}
                },
                c if c == quote => {
                    end = Some(i + 2);
                    break;
                }
                c => out.push(c),
            }
        }
        rest = rest[end.expect("closed string literal")..].trim_start();
    }
    Some(PyValue::Str(out))
}

fn enricomi_status(result: &str) -> CaseStatus {
    match result {
        "success" => CaseStatus::Passed,
        "skipped" => CaseStatus::Skipped,
        "failure" => CaseStatus::Failed,
        "error" => CaseStatus::Errored,
        other => panic!("unknown result {other}"),
    }
}

/// Names, statuses, files, lines (and for Dart durations and messages) case by case against
/// EnricoMi's parsed cases.
#[test]
fn conformance_enricomi_cases_one_by_one() {
    for (input, format) in [
        ("dart/json/tests.json", Format::Dart),
        ("mocha/tests.json", Format::Mocha),
    ] {
        let path = corpus_dir().join(input);
        let (got_format, cases, summary) = parse_ok(&std::fs::read(&path).unwrap(), input);
        assert_eq!(got_format, format);
        let recorded = recorded_cases(&path.with_extension("results"));
        assert_eq!(cases.len(), recorded.len(), "{input}");
        for (ours, theirs) in cases.iter().zip(&recorded) {
            let at = format!("{input}: {}", theirs.test_name);
            assert_eq!(ours.name, theirs.test_name, "{at}");
            assert_eq!(ours.status, enricomi_status(&theirs.result), "{at}");
            assert_eq!(ours.classname, "", "{at}: EnricoMi has no class_name");
            let file = ours.file.as_deref().expect("a file");
            let their_file = theirs.test_file.as_deref().expect("EnricoMi's test_file");
            match format {
                // Deliberate: the suite's relative path, where EnricoMi takes the absolute
                // `url` of the test (`file:///home/runner/work/…/test/x_test.dart`).
                Format::Dart => {
                    assert!(
                        their_file.ends_with(&format!("/{file}")),
                        "{at}: {file} vs {their_file}"
                    );
                    assert_eq!(ours.suite, file, "{at}");
                    assert_eq!(ours.line, theirs.line, "{at}");
                    let time = theirs.time.expect("EnricoMi's time");
                    assert!((ours.duration_s - time).abs() < 1e-9, "{at}");
                    match (&ours.message, &theirs.message) {
                        (Some(m), Some(t)) => {
                            assert!(m.text.starts_with(t.trim()), "{at}: {m:?} vs {t:?}")
                        }
                        (None, None) => {}
                        (m, t) => panic!("{at}: message {m:?} vs {t:?}"),
                    }
                }
                _ => {
                    assert_eq!(file, their_file, "{at}");
                    assert_eq!(theirs.line, None, "{at}");
                    assert!(ours.name.starts_with(&ours.suite), "{at}");
                }
            }
        }
        if format == Format::Dart {
            // Dart names carry their groups: `Cli runner run` + `with version argument`.
            assert_eq!(summary.suites, 4);
            let run = cases
                .iter()
                .find(|c| c.name == "Cli runner run with version argument")
                .unwrap();
            assert_eq!(run.suite, "test/src/cli/cli_runner_test.dart");
            assert_eq!(run.line, Some(35));
        } else {
            assert_eq!(summary.suites, 4, "distinct files");
            let nested = &cases[0];
            assert_eq!(
                (nested.suite.as_str(), nested.name.as_str()),
                ("Context nested", "Context nested should work")
            );
            let failed = cases
                .iter()
                .find(|c| c.status == CaseStatus::Failed)
                .unwrap();
            assert_eq!(
                failed.message.as_ref().unwrap().first_line(),
                "Error: Required"
            );
            let loc = failed.location.as_ref().unwrap();
            assert_eq!(
                (loc.file.as_str(), loc.line),
                ("test/unit/runner.spec.js", 43)
            );
            // ANSI colours dropped from the `unexpected` library's message.
            let errored = cases
                .iter()
                .find(|c| c.status == CaseStatus::Errored)
                .unwrap();
            let text = &errored.message.as_ref().unwrap().text;
            assert!(!text.contains('\u{1b}') && !text.contains("[31m"), "{text}");
            assert!(text.contains("expected 'To be cloned' to be 'Not to be cloned'"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Real tools
// ---------------------------------------------------------------------------------------------

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn find<'a>(cases: &'a [TestCase], classname_suffix: &str, name: &str) -> &'a TestCase {
    cases
        .iter()
        .find(|c| c.classname.ends_with(classname_suffix) && c.name == name)
        .unwrap_or_else(|| {
            let all: Vec<String> = cases
                .iter()
                .map(|c| format!("{}::{}", c.classname, c.name))
                .collect();
            panic!("no case {classname_suffix}::{name} among {all:#?}")
        })
}

fn controls(mapper: &Mapper, case: &TestCase) -> Vec<String> {
    mapper
        .map(case, &[])
        .controls
        .iter()
        .map(|(id, carrier)| format!("{id} via {carrier}"))
        .collect()
}

fn default_mapper() -> Mapper {
    let config = controlgate::config::parse("", Path::new("controlgate.yml")).unwrap();
    Mapper::new(&config).unwrap()
}

const GO_AUTH: &str = r#"package auth

import "testing"

func TestLogin(t *testing.T) {
	t.Log("[[PROPERTY|control=CC8.1]]")
	t.Run("cc6_1", func(t *testing.T) {
		t.Run("expired token", func(t *testing.T) {})
	})
}

func TestFails(t *testing.T) {
	t.Errorf("expected %d, got %d", 1, 2)
}

func TestSkipped(t *testing.T) {
	t.Skip("not on this platform")
}

func TestParallel(t *testing.T) {
	for _, n := range []string{"a", "b", "c"} {
		n := n
		t.Run(n, func(t *testing.T) {
			t.Parallel()
			t.Logf("case %s", n)
		})
	}
}
"#;

const GO_CRASH: &str = r#"package crash

import (
	"testing"
	"time"
)

func TestWaits(t *testing.T) {
	t.Parallel()
	time.Sleep(time.Minute)
}

func TestPanics(t *testing.T) {
	t.Parallel()
	time.Sleep(10 * time.Millisecond)
	panic("boom")
}
"#;

const GO_BROKEN: &str =
    "package broken\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) { undefinedThing() }\n";

/// `go test -json ./...` from the machine's Go toolchain (Debian's golang-go, installed by
/// scripts/test) on a module with subtests, parallel tests, a failure, a skip, a property line,
/// a panic and a package that does not build. Offline: no dependencies, no proxy, a private
/// cache. Fails (never skips) when `go` cannot run.
#[test]
fn go_test_json_from_the_go_toolchain() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("module");
    for (file, text) in [
        ("go.mod", "module example.com/cg\n\ngo 1.19\n"),
        ("auth/auth_test.go", GO_AUTH),
        ("crash/crash_test.go", GO_CRASH),
        ("broken/broken_test.go", GO_BROKEN),
    ] {
        let path = module.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let out = Command::new("go")
        .args(["test", "-json", "./..."])
        .current_dir(&module)
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GO111MODULE", "on")
        .env("CGO_ENABLED", "0")
        .env("GOCACHE", dir.path().join("gocache"))
        .env("GOPATH", dir.path().join("gopath"))
        .output()
        .expect("cannot run `go` (Debian's golang-go; ./scripts/test installs it)");
    assert!(
        !out.status.success(),
        "go test passed, yet a test fails: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.stdout.is_empty(),
        "go test wrote no events: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (format, cases, summary) = parse_ok(&out.stdout, "go test -json");
    assert_eq!(format, Format::GoTest);
    assert_eq!(summary.suites, 3, "auth, crash, broken");

    use CaseStatus::*;
    let expect = [
        ("/auth", "TestLogin", Passed),
        ("/auth", "TestLogin/cc6_1", Passed),
        ("/auth", "TestLogin/cc6_1/expired_token", Passed),
        ("/auth", "TestFails", Failed),
        ("/auth", "TestSkipped", Skipped),
        ("/auth", "TestParallel", Passed),
        ("/auth", "TestParallel/a", Passed),
        ("/auth", "TestParallel/b", Passed),
        ("/auth", "TestParallel/c", Passed),
        ("/crash", "TestPanics", Errored),
        ("/crash", "TestWaits", Errored),
        ("/broken", "example.com/cg/broken", Errored),
    ];
    let mut got: Vec<(String, CaseStatus)> = cases
        .iter()
        .map(|c| (format!("{}::{}", c.classname, c.name), c.status))
        .collect();
    got.sort();
    let mut want: Vec<(String, CaseStatus)> = expect
        .iter()
        .map(|(pkg, name, s)| (format!("example.com/cg{pkg}::{name}"), *s))
        .collect();
    want.sort();
    assert_eq!(got, want);
    assert!(cases.iter().all(|c| c.suite == c.classname));

    let fails = find(&cases, "/auth", "TestFails");
    let message = fails.message.as_ref().unwrap();
    assert_eq!(message.first_line(), "auth_test.go:13: expected 1, got 2");
    let loc = fails.location.as_ref().unwrap();
    assert_eq!((loc.file.as_str(), loc.line), ("auth_test.go", 13));
    let skipped = find(&cases, "/auth", "TestSkipped");
    assert_eq!(
        skipped.message.as_ref().unwrap().first_line(),
        "auth_test.go:17: not on this platform"
    );
    let panics = find(&cases, "/crash", "TestPanics");
    assert!(
        panics
            .message
            .as_ref()
            .unwrap()
            .text
            .starts_with("panic: boom"),
        "{:?}",
        panics.message
    );
    let panic_at = panics.location.as_ref().unwrap();
    assert!(
        panic_at.file.ends_with("crash/crash_test.go"),
        "{panic_at:?}"
    );
    assert_eq!(panic_at.line, 16);
    let waits = find(&cases, "/crash", "TestWaits");
    assert!(
        waits
            .message
            .as_ref()
            .unwrap()
            .first_line()
            .contains("did not finish"),
        "{:?}",
        waits.message
    );
    assert!(
        cases
            .iter()
            .all(|c| c.status != Passed || c.message.is_none())
    );

    let login = find(&cases, "/auth", "TestLogin");
    assert_eq!(
        login.properties,
        [RawProperty {
            name: "control".into(),
            value: "CC8.1".into(),
            scope: PropertyScope::SystemOut
        }]
    );
    let mapper = default_mapper();
    assert_eq!(controls(&mapper, login), ["CC8.1 via system-out `control`"]);
    assert_eq!(
        controls(&mapper, find(&cases, "/auth", "TestLogin/cc6_1")),
        ["CC6.1 via name marker"]
    );
    assert_eq!(
        controls(
            &mapper,
            find(&cases, "/auth", "TestLogin/cc6_1/expired_token")
        ),
        ["CC6.1 via name marker"]
    );
    assert!(controls(&mapper, find(&cases, "/auth", "TestParallel/a")).is_empty());
}

const MOCHA_SPEC: &str = r#"const assert = require('assert');

describe('auth', function () {
  it('rejects expired tokens [cc6-1]', function () {
    assert.strictEqual(1, 1);
  });
  it('computes expiry', function () {
    assert.strictEqual(1 + 1, 3);
  });
  it.skip('rotates keys', function () {});
  describe('sessions', function () {
    this.retries(2);
    let calls = 0;
    it('is flaky', function () {
      calls += 1;
      assert.ok(calls > 1);
    });
  });
});

describe('billing', function () {
  before(function () {
    throw new Error('no database');
  });
  it('never runs', function () {});
});
"#;

/// `mocha --reporter json` (pinned in package.json, installed by scripts/test) on a spec with a
/// passing, failing, pending and retried test, a failing `before` hook and a `[cc6-1]` marker.
#[test]
fn mocha_json_reporter() {
    let mocha = repo_root().join("node_modules/.bin/mocha");
    assert!(
        mocha.exists(),
        "mocha is missing at {}: run ./scripts/test (it installs the npm test tools)",
        mocha.display()
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("auth.spec.js"), MOCHA_SPEC).unwrap();
    let out = Command::new(&mocha)
        .args([
            "--reporter",
            "json",
            "--no-config",
            "--no-package",
            "auth.spec.js",
        ])
        .current_dir(dir.path())
        .output()
        .expect("run mocha");
    assert!(
        !out.status.success(),
        "mocha passed, yet a test fails: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (format, cases, summary) = parse_ok(&out.stdout, "mocha --reporter json");
    assert_eq!(format, Format::Mocha);
    assert_eq!(summary.suites, 1);
    let got: Vec<(&str, &str, CaseStatus)> = cases
        .iter()
        .map(|c| (c.suite.as_str(), c.name.as_str(), c.status))
        .collect();
    use CaseStatus::*;
    assert_eq!(
        got,
        [
            ("auth", "auth rejects expired tokens [cc6-1]", Passed),
            ("auth", "auth computes expiry", Failed),
            ("auth", "auth rotates keys", Skipped),
            ("auth sessions", "auth sessions is flaky", Passed),
            (
                "billing",
                "billing \"before all\" hook for \"never runs\"",
                Errored
            ),
        ]
    );
    let spec = dir.path().join("auth.spec.js");
    assert!(
        cases
            .iter()
            .all(|c| c.file.as_deref() == Some(spec.to_str().unwrap()))
    );
    assert!(cases[3].flaky && !cases[0].flaky);
    let failed = &cases[1];
    assert!(
        failed
            .message
            .as_ref()
            .unwrap()
            .first_line()
            .starts_with("AssertionError"),
        "{:?}",
        failed.message
    );
    let loc = failed.location.as_ref().unwrap();
    assert_eq!((loc.file.as_str(), loc.line), ("auth.spec.js", 8));
    assert!(
        cases[4]
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("no database")
    );
    let mapper = default_mapper();
    assert_eq!(controls(&mapper, &cases[0]), ["CC6.1 via name marker"]);
    assert!(controls(&mapper, &cases[1]).is_empty());
}
