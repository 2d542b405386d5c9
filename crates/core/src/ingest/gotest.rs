//! Streaming reader for `go test -json` (and `go tool test2json`) event streams.
//!
//! One JSON event per line (`{"Time":…,"Action":"run","Package":"example.com/m/auth",
//! "Test":"TestLogin/cc6_1"}`), read line by line in one bounded buffer
//! ([`jsonl::MAX_LINE`]); only the tests still running (and, per package, its bounded output)
//! are held. Parallel tests and packages interleave: state is keyed by package + test.
//!
//! Mapping (Go's own vocabulary; EnricoMi's action does not read this format):
//!
//! - `Package` → `suite` and `classname`; `Test` → `name`, subtests with their full path
//!   (`TestLogin/cc6_1/expired_token`). Every test and subtest is one case, as `go test`
//!   reports them: a parent fails with its failing subtest. Subtest path segments carry name
//!   markers (`cc6_1`, `cc6-1_expired`); a name like `TestCC6_1` does not (no token start).
//! - The test's `pass` / `fail` / `skip` action → passed / failed / skipped, emitted then;
//!   `Elapsed` → duration. A failed test whose output has a line starting with `panic: ` (the
//!   runtime's, never a `t.Log` line, which is indented) → errored.
//! - Output: the test's `output` events, without the framing lines (`=== RUN`, `=== PAUSE`,
//!   `=== CONT`, `=== NAME`) and its own `--- PASS/FAIL/SKIP` line (kept only when nothing else
//!   was printed), bounded ([`Message::KEPT`] per test, [`OUTPUT_BUDGET`] for all running tests
//!   together) → the message of a failed, errored or skipped test (`t.Skip` reason). The first
//!   `file.go:12` in it (`    auth_test.go:13: expected 1, got 2`, a panic's frame) →
//!   `location`; Go reports no test file.
//! - `[[PROPERTY|name=value]]` in a test's output (`t.Log("[[PROPERTY|control=CC8.1]]")`) →
//!   a property of scope `SystemOut`, found by the JUnit reader's `system-out` scanner.
//! - A package's final `fail` while tests of it are still running (a panic elsewhere, a
//!   timeout) → each of them errored, with the package's output. A package `fail` with no
//!   failed or unfinished test (a build failure, `TestMain` exiting non-zero, a crash before
//!   the first test) → one errored case named after the package (suite, classname and name),
//!   with the build output and the package's output as message. A package `pass` or `skip`
//!   (`[no test files]`) drops anything still running (benchmarks).
//! - Lines that are not JSON are what `go test` prints beside the events: before Go 1.24 a
//!   build failure is plain text (`# example.com/m/bad [example.com/m/bad.test]`, compiler
//!   lines, then `FAIL\texample.com/m/bad [build failed]`, with no event for that package).
//!   They are kept per package as build output; the `FAIL … [build failed]` line (or, from Go
//!   1.24, the package's `fail` event naming `FailedBuild`, whose `build-output` events are
//!   kept the same way) → the errored package case.
//! - `Summary::suites`: packages that ended (including build failures).
//!
//! Errors (with the line): a line starting with `{` that is not an event (malformed JSON, no
//! `Action`), a line over the bound, no event at all, more than [`MAX_RUNNING`] tests running
//! at once, and a stream that ends while a package has not ended (truncated output of a
//! killed `go test`: every package ends with a package-level `pass`, `fail` or `skip`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;

use serde::Deserialize;
use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use crate::error::ParseError;
use crate::ingest::cases::CaseProperties;
use crate::ingest::jsonl::{self, Lines};
use crate::ingest::results::Summary;
use crate::ingest::text::{Bounded, LineScanner};
use crate::model::{CaseStatus, Message, TestCase};

/// Most tests running (started, not ended) at once, all packages together.
pub const MAX_RUNNING: usize = 100_000;

/// Output bytes kept for all running tests together; past it, output is only counted (the
/// messages of the tests running then say they were cut).
pub const OUTPUT_BUDGET: usize = 64 * 1024 * 1024;

/// Most packages whose plain-text build output is kept at once.
const MAX_BUILD_OUTPUTS: usize = 1024;

/// Longest `--- FAIL: …` line kept.
const MAX_RESULT_LINE: usize = 1024;

/// One `test2json` event. Strings borrow from the line unless they hold escapes.
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "Action", borrow)]
    action: Cow<'a, str>,
    #[serde(rename = "Package", default, borrow)]
    package: Cow<'a, str>,
    #[serde(rename = "Test", default, borrow)]
    test: Cow<'a, str>,
    #[serde(rename = "Output", default, borrow)]
    output: Cow<'a, str>,
    #[serde(rename = "Elapsed", default)]
    elapsed: Option<f64>,
    /// `build-output` / `build-fail` events (Go 1.24+) name the package being built here.
    #[serde(rename = "ImportPath", default, borrow)]
    import_path: Cow<'a, str>,
    /// A package `fail` caused by a build failure names the package that failed to build.
    #[serde(rename = "FailedBuild", default, borrow)]
    failed_build: Cow<'a, str>,
}

/// Streams `reader`, calling `on_case` once per test as it ends (and per unfinished test or
/// failed package as its package ends).
pub fn parse(
    reader: impl BufRead,
    input: usize,
    on_case: &mut dyn FnMut(TestCase),
) -> Result<Summary, ParseError> {
    let mut lines = Lines::new(reader, jsonl::MAX_LINE);
    let mut state = State::new(input, on_case);
    let mut events = 0u64;
    while lines.advance()? {
        let line = lines.line();
        if !jsonl::is_json_object(line) {
            if !line.trim_ascii().is_empty() {
                state.plain(&String::from_utf8_lossy(line));
            }
            continue;
        }
        let event: Event<'_> = serde_json::from_slice(line).map_err(|e| {
            lines.json_error(
                "a go test -json event (a JSON object with an \"Action\")",
                &e,
            )
        })?;
        events += 1;
        state.event(event).map_err(|m| lines.error(m))?;
    }
    if events == 0 {
        let what = if lines.number() == 0 {
            "empty input"
        } else {
            "no JSON event"
        };
        return Err(lines.error(format!(
            "{what}: expected go test -json output, one event per line such as \
             {{\"Action\":\"pass\",\"Package\":\"example.com/m\",\"Test\":\"TestX\"}}"
        )));
    }
    state.finish().map_err(|m| lines.error(m))
}

/// A test that has started and not ended.
struct Running {
    /// Start order, to report unfinished tests in the order they started.
    seq: u64,
    /// Output worth a message (framing and result lines left out).
    out: Bounded,
    /// The test's own `--- FAIL: TestX (0.00s)` line.
    result_line: String,
    panicked: bool,
    scanner: LineScanner,
    properties: CaseProperties,
}

#[derive(Default)]
struct Package {
    output: Bounded,
    running: HashMap<String, Running, Xxh3DefaultBuilder>,
    /// Tests of the package that failed or errored.
    failed: u64,
}

struct State<'a> {
    input: usize,
    on_case: &'a mut dyn FnMut(TestCase),
    summary: Summary,
    packages: HashMap<String, Package, Xxh3DefaultBuilder>,
    /// Plain-text (and `build-output`) lines per package being built; "" when no header named
    /// one.
    build_output: HashMap<String, Bounded, Xxh3DefaultBuilder>,
    /// The package named by the last `# example.com/m/bad` header.
    build_current: String,
    seq: u64,
    running: usize,
    /// Output bytes kept by running tests.
    kept: usize,
}

/// The state of package `name`, created on its first event.
fn package_mut<'p>(
    packages: &'p mut HashMap<String, Package, Xxh3DefaultBuilder>,
    name: &str,
) -> &'p mut Package {
    if !packages.contains_key(name) {
        let package = Package {
            output: Bounded::new(Message::KEPT),
            ..Package::default()
        };
        packages.insert(name.to_owned(), package);
    }
    packages.get_mut(name).expect("inserted above")
}

/// `example.com/m/bad [example.com/m/bad.test]` → `example.com/m/bad`.
fn package_of(import_path: &str) -> &str {
    import_path
        .split_once(" [")
        .map_or(import_path, |(p, _)| p)
        .trim()
}

impl<'a> State<'a> {
    fn new(input: usize, on_case: &'a mut dyn FnMut(TestCase)) -> Self {
        State {
            input,
            on_case,
            summary: Summary::default(),
            packages: HashMap::default(),
            build_output: HashMap::default(),
            build_current: String::new(),
            seq: 0,
            running: 0,
            kept: 0,
        }
    }

    fn event(&mut self, e: Event<'_>) -> Result<(), String> {
        if e.action == "build-output" {
            self.build_line(package_of(&e.import_path).to_owned(), &e.output);
            return Ok(());
        }
        if e.action == "build-fail" {
            return Ok(());
        }
        if e.test.is_empty() {
            let package = self.package(&e.package);
            match &*e.action {
                "output" => {
                    package.output.push_str(&jsonl::clean_text(&e.output));
                }
                "pass" | "skip" => self.end_package(&e.package, false, ""),
                "fail" => self.end_package(&e.package, true, &e.failed_build),
                // `start` (Go 1.20+), and actions Go may add.
                _ => {}
            }
            return Ok(());
        }
        match &*e.action {
            "run" => self.start_test(&e.package, &e.test)?,
            "output" => self.test_output(&e.package, &e.test, &e.output),
            "pass" => self.end_test(&e.package, &e.test, CaseStatus::Passed, e.elapsed),
            "fail" => self.end_test(&e.package, &e.test, CaseStatus::Failed, e.elapsed),
            "skip" => self.end_test(&e.package, &e.test, CaseStatus::Skipped, e.elapsed),
            // `pause`, `cont`, `bench`, and actions Go may add.
            _ => {}
        }
        Ok(())
    }

    fn package(&mut self, name: &str) -> &mut Package {
        package_mut(&mut self.packages, name)
    }

    fn start_test(&mut self, package: &str, test: &str) -> Result<(), String> {
        if self.package(package).running.contains_key(test) {
            return Ok(());
        }
        if self.running >= MAX_RUNNING {
            return Err(format!(
                "more than {MAX_RUNNING} tests running at once (started, not ended)"
            ));
        }
        self.seq += 1;
        self.running += 1;
        let running = Running {
            seq: self.seq,
            out: Bounded::new(Message::KEPT),
            result_line: String::new(),
            panicked: false,
            scanner: LineScanner::default(),
            properties: CaseProperties::default(),
        };
        self.package(package)
            .running
            .insert(test.to_owned(), running);
        Ok(())
    }

    fn test_output(&mut self, package: &str, test: &str, output: &str) {
        let text = jsonl::clean_text(output);
        let budget_left = self.kept < OUTPUT_BUDGET;
        let package = package_mut(&mut self.packages, package);
        let Some(running) = package.running.get_mut(test) else {
            // Output of a test that is not running (printed after it ended): the package's.
            package.output.push_str(&text);
            return;
        };
        let head = text.trim_start();
        if ["=== RUN", "=== PAUSE", "=== CONT", "=== NAME"]
            .iter()
            .any(|f| head.starts_with(f))
        {
            return;
        }
        if ["--- PASS: ", "--- FAIL: ", "--- SKIP: "]
            .iter()
            .any(|r| head.starts_with(r))
        {
            running.result_line = bounded(head.trim_end(), MAX_RESULT_LINE);
            return;
        }
        running.panicked |= text.starts_with("panic: ");
        if budget_left {
            let before = running.out.text.len();
            running.out.push_str(&text);
            self.kept += running.out.text.len() - before;
        } else {
            running.out.skip(text.len());
        }
        running.scanner.feed(
            &text,
            &mut jsonl::output_properties(&mut running.properties),
        );
    }

    fn end_test(&mut self, package: &str, test: &str, status: CaseStatus, elapsed: Option<f64>) {
        let running = self.package(package).running.remove(test);
        let running = match running {
            Some(r) => {
                self.running -= 1;
                self.kept -= r.out.text.len();
                r
            }
            // An end without a start: reported all the same.
            None => Running {
                seq: 0,
                out: Bounded::new(0),
                result_line: String::new(),
                panicked: false,
                scanner: LineScanner::default(),
                properties: CaseProperties::default(),
            },
        };
        let status = if status == CaseStatus::Failed && running.panicked {
            CaseStatus::Errored
        } else {
            status
        };
        if status.is_failure() {
            self.package(package).failed += 1;
        }
        let duration = elapsed.filter(|e| e.is_finite()).unwrap_or(0.0).max(0.0);
        self.emit(package, test, status, running, duration, None);
    }

    fn emit(
        &mut self,
        package: &str,
        test: &str,
        status: CaseStatus,
        mut running: Running,
        duration_s: f64,
        why: Option<&str>,
    ) {
        running
            .scanner
            .finish(&mut jsonl::output_properties(&mut running.properties));
        let message = if status == CaseStatus::Passed {
            None
        } else {
            let own = running.out.text.trim();
            let cut = running.out.total - running.out.text.len();
            let own = if own.is_empty() {
                running.result_line.as_str()
            } else {
                own
            };
            jsonl::message(&[why.unwrap_or(""), own]).map(|mut m| {
                m.original_len += cut;
                m
            })
        };
        self.push(
            package,
            test,
            status,
            message,
            running.properties,
            duration_s,
        );
    }

    /// Reports one case of `package`.
    fn push(
        &mut self,
        package: &str,
        name: &str,
        status: CaseStatus,
        message: Option<Message>,
        properties: CaseProperties,
        duration_s: f64,
    ) {
        self.summary.cases += 1;
        let properties = properties.kept(&mut self.summary);
        (self.on_case)(TestCase {
            suite: package.to_owned(),
            classname: package.to_owned(),
            name: name.to_owned(),
            file: None,
            line: None,
            location: jsonl::location_in(message.as_ref()),
            status,
            flaky: false,
            duration_s,
            message,
            properties,
            input: self.input,
            runs: 1,
        });
    }

    fn end_package(&mut self, name: &str, failed: bool, failed_build: &str) {
        let Some(mut package) = self.packages.remove(name) else {
            return;
        };
        self.summary.suites += 1;
        let mut unfinished: Vec<(String, Running)> = package.running.drain().collect();
        self.running -= unfinished.len();
        for (_, r) in &unfinished {
            self.kept -= r.out.text.len();
        }
        if !failed {
            return;
        }
        let output = package_text(&package.output);
        unfinished.sort_by_key(|(_, r)| r.seq);
        let unfinished_any = !unfinished.is_empty();
        for (test, mut running) in unfinished {
            // The package's output (a panic's trace, the timeout) says why.
            running.out.push_str("\n");
            running.out.push_str(&output);
            self.emit(
                name,
                &test,
                CaseStatus::Errored,
                running,
                0.0,
                Some("the test did not finish: its package failed (a panic or a timeout)"),
            );
        }
        if package.failed > 0 || unfinished_any {
            return;
        }
        let build_key = if failed_build.is_empty() {
            name
        } else {
            package_of(failed_build)
        };
        let build = self
            .build_output
            .remove(build_key)
            .or_else(|| self.build_output.remove(""))
            .map(|b| b.text)
            .unwrap_or_default();
        self.package_case(name, &[&build, &output]);
    }

    /// The errored case of a package that failed without a failing test.
    fn package_case(&mut self, name: &str, parts: &[&str]) {
        let message = jsonl::message(parts).unwrap_or_else(|| {
            Message::bounded(
                "the package failed without a failing test (a build failure, TestMain exiting \
                 non-zero, or a crash outside any test)",
            )
        });
        self.push(
            name,
            name,
            CaseStatus::Errored,
            Some(message),
            CaseProperties::default(),
            0.0,
        );
    }

    /// A line that is not an event: build output of Go before 1.24.
    fn plain(&mut self, line: &str) {
        if let Some(header) = line.strip_prefix("# ") {
            self.build_current = package_of(header).to_owned();
            return;
        }
        let failed = line.strip_prefix("FAIL\t").and_then(|rest| {
            rest.strip_suffix(" [build failed]")
                .or_else(|| rest.strip_suffix(" [setup failed]"))
        });
        if let Some(package) = failed {
            let package = package.trim().to_owned();
            let build = self
                .build_output
                .remove(&package)
                .map(|b| b.text)
                .unwrap_or_default();
            self.summary.suites += 1;
            self.package_case(&package, &[&build, line]);
            return;
        }
        let key = self.build_current.clone();
        self.build_line(key, &format!("{line}\n"));
    }

    fn build_line(&mut self, package: String, text: &str) {
        if !self.build_output.contains_key(&package) && self.build_output.len() >= MAX_BUILD_OUTPUTS
        {
            return;
        }
        self.build_output
            .entry(package)
            .or_insert_with(|| Bounded::new(Message::KEPT))
            .push_str(&jsonl::clean_text(text));
    }

    fn finish(self) -> Result<Summary, String> {
        let mut open: Vec<&String> = self.packages.keys().collect();
        open.sort();
        if let Some(package) = open.first() {
            return Err(format!(
                "the stream ended while package \"{package}\" had not ended (no package-level \
                 pass, fail or skip event): the go test -json output is truncated"
            ));
        }
        Ok(self.summary)
    }
}

/// A package's output for a message, without the lines every run prints (`PASS`, `FAIL`).
fn package_text(output: &Bounded) -> String {
    output
        .text
        .lines()
        .filter(|l| !matches!(l.trim(), "PASS" | "FAIL"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn bounded(s: &str, limit: usize) -> String {
    let mut acc = Bounded::new(limit);
    acc.push_str(s);
    acc.text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PropertyScope, RawProperty, SourceLocation};

    fn run(stream: &str) -> Result<(Vec<TestCase>, Summary), ParseError> {
        let mut cases = Vec::new();
        let summary = parse(stream.as_bytes(), 3, &mut |c| cases.push(c))?;
        assert_eq!(summary.cases, cases.len() as u64);
        Ok((cases, summary))
    }

    fn ok(stream: &str) -> Vec<TestCase> {
        run(stream)
            .unwrap_or_else(|e| panic!("{e}{}", e.location))
            .0
    }

    fn err(stream: &str) -> ParseError {
        match run(stream) {
            Ok((cases, _)) => panic!("accepted ({} cases)", cases.len()),
            Err(e) => e,
        }
    }

    fn ev(action: &str, package: &str, test: &str, output: &str) -> String {
        let mut e = serde_json::json!({"Action": action, "Package": package});
        if !test.is_empty() {
            e["Test"] = test.into();
        }
        if action == "output" {
            e["Output"] = output.into();
        }
        if matches!(action, "pass" | "fail" | "skip") {
            e["Elapsed"] = 0.25.into();
        }
        format!("{e}\n")
    }

    fn stream(events: &[(&str, &str, &str, &str)]) -> String {
        events.iter().map(|(a, p, t, o)| ev(a, p, t, o)).collect()
    }

    fn outcomes(cases: &[TestCase]) -> Vec<String> {
        cases
            .iter()
            .map(|c| format!("{} {} {}", c.classname, c.name, c.status.as_str()))
            .collect()
    }

    #[test]
    fn interleaved_parallel_tests_and_packages_keep_their_own_output() {
        let mut s = String::new();
        s += &stream(&[
            ("run", "p/a", "TestX", ""),
            ("run", "p/b", "TestX", ""),
            ("output", "p/a", "TestX", "=== RUN TestX\n"),
            ("run", "p/a", "TestX/one", ""),
            ("run", "p/a", "TestX/two", ""),
            ("output", "p/a", "TestX/two", " x_test.go:9: two broke\n"),
            (
                "output",
                "p/b",
                "TestX",
                " y_test.go:3: b says [[PROPERTY|control=CC8.1]]\n",
            ),
            ("output", "p/a", "TestX/one", " x_test.go:5: one is fine\n"),
            (
                "output",
                "p/a",
                "TestX/two",
                " --- FAIL: TestX/two (0.00s)\n",
            ),
            ("fail", "p/a", "TestX/two", ""),
            ("pass", "p/a", "TestX/one", ""),
            ("pass", "p/b", "TestX", ""),
            ("output", "p/a", "TestX", "--- FAIL: TestX (0.00s)\n"),
            ("fail", "p/a", "TestX", ""),
            ("output", "p/b", "", "ok \tp/b\t0.1s\n"),
            ("pass", "p/b", "", ""),
            ("fail", "p/a", "", ""),
        ]);
        let (cases, summary) = run(&s).unwrap();
        assert_eq!(
            outcomes(&cases),
            [
                "p/a TestX/two failed",
                "p/a TestX/one passed",
                "p/b TestX passed",
                "p/a TestX failed"
            ]
        );
        assert_eq!(summary.suites, 2);
        let two = &cases[0];
        assert_eq!(two.message.as_ref().unwrap().text, "x_test.go:9: two broke");
        assert_eq!(
            two.location,
            Some(SourceLocation {
                file: "x_test.go".into(),
                line: 9
            })
        );
        assert_eq!(two.duration_s, 0.25);
        assert_eq!(two.suite, "p/a");
        assert!(cases[1].message.is_none());
        assert_eq!(
            cases[2].properties,
            [RawProperty {
                name: "control".into(),
                value: "CC8.1".into(),
                scope: PropertyScope::SystemOut
            }]
        );
        assert!(cases[0].properties.is_empty() && cases[1].properties.is_empty());
        // The parent printed nothing but its result line.
        assert_eq!(
            cases[3].message.as_ref().unwrap().text,
            "--- FAIL: TestX (0.00s)"
        );
        assert!(cases.iter().all(|c| c.input == 3 && c.runs == 1));
    }

    #[test]
    fn a_panic_errors_the_test_and_those_left_running() {
        let mut s = String::new();
        s += &stream(&[
            ("run", "p", "TestWaits", ""),
            ("run", "p", "TestPanics", ""),
            (
                "output",
                "p",
                "TestPanics",
                "--- FAIL: TestPanics (0.01s)\n",
            ),
            ("output", "p", "TestPanics", "panic: boom [recovered]\n"),
            (
                "output",
                "p",
                "TestPanics",
                "\t/usr/lib/go/src/testing/testing.go:1396 +0x24e\n",
            ),
            (
                "output",
                "p",
                "TestPanics",
                "\t/w/p/crash_test.go:16 +0x38\n",
            ),
            ("fail", "p", "TestPanics", ""),
            ("output", "p", "", "FAIL\tp\t0.02s\n"),
            ("fail", "p", "", ""),
        ]);
        let cases = ok(&s);
        assert_eq!(
            outcomes(&cases),
            ["p TestPanics errored", "p TestWaits errored"]
        );
        let panics = cases[0].message.as_ref().unwrap();
        assert!(
            panics.text.starts_with("panic: boom [recovered]"),
            "{}",
            panics.text
        );
        assert_eq!(
            cases[0]
                .location
                .as_ref()
                .map(|l| (l.file.as_str(), l.line)),
            Some(("/w/p/crash_test.go", 16))
        );
        let waits = cases[1].message.as_ref().unwrap();
        assert!(
            waits.first_line().contains("did not finish"),
            "{}",
            waits.text
        );
        assert!(waits.text.contains("FAIL\tp\t0.02s"), "{}", waits.text);
    }

    #[test]
    fn a_package_failing_without_a_failing_test_is_one_errored_case() {
        let mut s = String::new();
        s += &stream(&[
            ("start", "p/main", "", ""),
            ("output", "p/main", "", "exit status 3\n"),
            ("output", "p/main", "", "FAIL\tp/main\t0.003s\n"),
            ("fail", "p/main", "", ""),
            ("output", "p/none", "", "? \tp/none\t[no test files]\n"),
            ("skip", "p/none", "", ""),
        ]);
        let (cases, summary) = run(&s).unwrap();
        assert_eq!(outcomes(&cases), ["p/main p/main errored"]);
        assert_eq!(
            cases[0].message.as_ref().unwrap().first_line(),
            "exit status 3"
        );
        assert_eq!(summary.suites, 2);
    }

    #[test]
    fn build_failures_in_plain_text_and_as_events() {
        // Go before 1.24: plain text, no event for the package.
        let mut s = String::from(
            "# example.com/m/bad [example.com/m/bad.test]\n\
             bad/bad_test.go:5:28: undefined: undefinedThing\n\
             FAIL\texample.com/m/bad [build failed]\n",
        );
        s += &stream(&[
            ("run", "example.com/m/ok", "TestOk", ""),
            ("pass", "example.com/m/ok", "TestOk", ""),
            ("pass", "example.com/m/ok", "", ""),
        ]);
        // Go 1.24+: build-output events, then the package's fail naming FailedBuild.
        s += "{\"ImportPath\":\"example.com/m/worse [example.com/m/worse.test]\",\"Action\":\"build-output\",\"Output\":\"worse/w_test.go:3:1: syntax error\\n\"}\n";
        s += "{\"ImportPath\":\"example.com/m/worse [example.com/m/worse.test]\",\"Action\":\"build-fail\"}\n";
        s += &stream(&[
            ("start", "example.com/m/worse", "", ""),
            (
                "output",
                "example.com/m/worse",
                "",
                "FAIL\texample.com/m/worse [build failed]\n",
            ),
        ]);
        s += "{\"Action\":\"fail\",\"Package\":\"example.com/m/worse\",\"Elapsed\":0,\"FailedBuild\":\"example.com/m/worse [example.com/m/worse.test]\"}\n";
        let (cases, summary) = run(&s).unwrap();
        assert_eq!(
            outcomes(&cases),
            [
                "example.com/m/bad example.com/m/bad errored",
                "example.com/m/ok TestOk passed",
                "example.com/m/worse example.com/m/worse errored"
            ]
        );
        assert_eq!(summary.suites, 3);
        let bad = cases[0].message.as_ref().unwrap();
        assert_eq!(
            bad.first_line(),
            "bad/bad_test.go:5:28: undefined: undefinedThing"
        );
        assert_eq!(
            cases[0]
                .location
                .as_ref()
                .map(|l| (l.file.as_str(), l.line)),
            Some(("bad/bad_test.go", 5))
        );
        let worse = cases[2].message.as_ref().unwrap();
        assert_eq!(worse.first_line(), "worse/w_test.go:3:1: syntax error");
    }

    #[test]
    fn skip_reason_is_the_message() {
        let mut s = String::new();
        s += &stream(&[
            ("run", "p", "TestSkip", ""),
            ("output", "p", "TestSkip", "=== RUN TestSkip\n"),
            (
                "output",
                "p",
                "TestSkip",
                " s_test.go:17: not on this platform\n",
            ),
            ("output", "p", "TestSkip", "--- SKIP: TestSkip (0.00s)\n"),
            ("skip", "p", "TestSkip", ""),
            ("pass", "p", "", ""),
        ]);
        let cases = ok(&s);
        assert_eq!(cases[0].status, CaseStatus::Skipped);
        assert_eq!(
            cases[0].message.as_ref().unwrap().text,
            "s_test.go:17: not on this platform"
        );
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line() {
        let good = ev("run", "p", "TestX", "");
        let e = err(&format!(
            "{good}{{\"Action\":\"pass\",\"Package\":\"p\",}}\n"
        ));
        assert_eq!(e.location.line, Some(2));
        assert!(e.message.contains("go test -json event"), "{e}");
        let e = err(&format!("{good}{good}{{\"Package\":\"p\"}}\n"));
        assert_eq!(e.location.line, Some(3));
        assert!(e.message.contains("missing field `Action`"), "{e}");
        let e = err("{\"Action\":1}\n");
        assert_eq!(e.location.line, Some(1));
        let e = err("");
        assert!(e.message.starts_with("empty input"), "{e}");
        let e = err("just text\nmore text\n");
        assert!(e.message.starts_with("no JSON event"), "{e}");
        assert_eq!(e.location.line, Some(2));
    }

    #[test]
    fn a_truncated_stream_is_an_error() {
        let mut s = String::new();
        s += &stream(&[
            ("run", "p", "TestX", ""),
            ("output", "p", "TestX", "=== RUN TestX\n"),
        ]);
        // Cut in the middle of a line: malformed JSON on line 3.
        let cut = format!("{s}{{\"Action\":\"pa");
        let e = err(&cut);
        assert_eq!(e.location.line, Some(3));
        // Cut between lines: the package never ended.
        let e = err(&s);
        assert_eq!(e.location.line, Some(2));
        assert!(e.message.contains("truncated"), "{e}");
    }

    #[test]
    fn an_oversized_line_is_an_error() {
        let mut s = ev("run", "p", "TestX", "");
        s += &stream(&[("output", "p", "TestX", &"x".repeat(jsonl::MAX_LINE))]);
        let e = err(&s);
        assert_eq!(e.location.line, Some(2));
        assert!(e.message.contains("longer than"), "{e}");
    }

    #[test]
    fn output_is_bounded_per_test() {
        let mut s = ev("run", "p", "TestX", "");
        let line = format!("    x_test.go:1: {}\n", "y".repeat(1000));
        for _ in 0..100 {
            s += &stream(&[("output", "p", "TestX", &line)]);
        }
        s += &stream(&[("fail", "p", "TestX", ""), ("fail", "p", "", "")]);
        let cases = ok(&s);
        let m = cases[0].message.as_ref().unwrap();
        assert!(m.text.len() <= Message::KEPT);
        assert!(m.truncated());
        assert!(m.original_len >= 100 * 1000);
    }
}
