//! Streaming reader for the Dart/Flutter JSON reporter (`dart test --reporter json`,
//! `flutter test --machine`, `--file-reporter json:…`).
//!
//! One JSON event per line (`{"type":"testStart","test":{…},"time":9419}`), read line by line
//! in one bounded buffer ([`jsonl::MAX_LINE`]); only the suites' paths and the tests still
//! running are held. Events: `start`, `suite`, `group`, `testStart`, `print`, `error`,
//! `testDone`, `done` (others, such as `allSuites` and `debug`, are ignored).
//!
//! Mapping (as EnricoMi's publish-unit-test-result-action reads it, `python/publish/dart.py`,
//! checked against its recorded answers for `dart/json/tests.json`):
//!
//! - A test is emitted at its `testDone`: `result` `success` → passed, or skipped when
//!   `skipped` is true; `failure` → failed; `error` (and anything else) → errored.
//! - Hidden tests (`hidden: true`: the `loading test/x_test.dart` pseudo-test of each suite)
//!   are not counted when they succeed. One that did not succeed is counted: a suite that fails
//!   to load (a compile error) is an errored case, where EnricoMi, which leaves hidden tests out
//!   of its suites, reports nothing (no such input in its corpus; totals agree).
//! - `name` = the test's `name`, which Dart already prefixes with its groups' names (`Cli
//!   runner run with version argument` in group `Cli runner run`); `suite` = the suite's
//!   `path`; `classname` is empty, as in EnricoMi's rendering.
//! - `file` = the suite's `path` (`test/src/cli/cli_runner_test.dart`, relative to the
//!   package: stable across machines, where EnricoMi takes the test's absolute `url`,
//!   `file:///home/runner/work/…`). `line` = the test's `root_line` when it is declared in
//!   another file than the suite (`root_url`), else its `line` when its `url` is the suite's
//!   file; a declaration in another file with no `root_line` → `location` (that file, that line).
//! - Duration = `testDone.time` − `testStart.time` (milliseconds).
//! - Message: failed and errored tests → the first `error` event's `error` and `stackTrace`
//!   (bounded, [`Message::KEPT`]); skipped tests → the `print` event of `messageType` `skip`
//!   (`Skip: just skipping`), else the test's `metadata.skipReason`.
//! - `[[PROPERTY|name=value]]` in a test's `print` output → a property of scope `SystemOut`
//!   (the JUnit reader's `system-out` rule).
//! - An `error` event for a test that has already ended (Dart reports errors a test causes
//!   after it completed this way) → an extra errored case, `<name> (error after the test
//!   completed)`: EnricoMi overwrites nothing then and counts the test as it ended.
//! - `Summary::suites`: `suite` events.
//!
//! Errors (with the line): a line starting with `{` that is not an event (malformed JSON, no
//! `type`), a first line that is not an event, a line over the bound, and a stream that ends
//! while tests are running or without its `done` event (a truncated report). A `done` whose
//! `success` is false or null where no test failed is one errored case more, `(run)`. Other
//! non-JSON lines (`flutter` chatter) are ignored.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::io::BufRead;

use serde::Deserialize;

use crate::error::ParseError;
use crate::ingest::cases::CaseProperties;
use crate::ingest::jsonl::{self, Lines};
use crate::ingest::results::Summary;
use crate::ingest::text::LineScanner;
use crate::model::{CaseStatus, Message, SourceLocation, TestCase};

/// Most tests running (started, not done) at once.
pub const MAX_RUNNING: usize = 100_000;

/// Most suites whose path is remembered.
pub const MAX_SUITES: usize = 1_000_000;

/// Ended tests remembered for errors reported after they ended.
const RECENT: usize = 64;

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    time: Option<f64>,
    #[serde(default)]
    suite: Option<SuiteInfo>,
    #[serde(default)]
    test: Option<TestInfo>,
    #[serde(rename = "testID", default)]
    test_id: Option<u64>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    skipped: Option<bool>,
    #[serde(default)]
    hidden: Option<bool>,
    #[serde(default)]
    error: Option<String>,
    #[serde(rename = "stackTrace", default)]
    stack_trace: Option<String>,
    #[serde(rename = "messageType", default)]
    message_type: Option<String>,
    #[serde(default)]
    message: Option<String>,
    /// `done`: whether every test passed or was skipped (`null`: the runner could not tell,
    /// e.g. it was closed).
    #[serde(default)]
    success: Option<bool>,
}

#[derive(Deserialize)]
struct SuiteInfo {
    id: u64,
    #[serde(default)]
    path: Option<String>,
}

#[derive(Deserialize)]
struct TestInfo {
    id: u64,
    #[serde(default)]
    name: String,
    #[serde(rename = "suiteID", default)]
    suite_id: Option<u64>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    line: Option<u32>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    root_line: Option<u32>,
    #[serde(default)]
    root_url: Option<String>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(rename = "skipReason", default)]
    skip_reason: Option<String>,
}

/// Streams `reader`, calling `on_case` once per test at its `testDone`.
pub fn parse(
    reader: impl BufRead,
    input: usize,
    on_case: &mut dyn FnMut(TestCase),
) -> Result<Summary, ParseError> {
    let mut lines = Lines::new(reader, jsonl::MAX_LINE);
    let mut state = State {
        input,
        on_case,
        summary: Summary::default(),
        suites: HashMap::new(),
        running: HashMap::new(),
        recent: VecDeque::with_capacity(RECENT),
        events: 0,
        done: None,
        stream_done: false,
        failing: 0,
    };
    while lines.advance()? {
        let line = lines.line();
        if !jsonl::is_json_object(line) {
            if state.events == 0 && !line.trim_ascii().is_empty() {
                return Err(lines.error(format!(
                    "not a Dart JSON reporter stream: expected an event such as \
                     {{\"protocolVersion\":\"0.1.1\",\"type\":\"start\",\"time\":0}}, found \"{}\"",
                    crate::ingest::xml::shown(line)
                )));
            }
            continue;
        }
        let event: Event<'_> = serde_json::from_slice(line).map_err(|e| {
            lines.json_error("a Dart JSON reporter event (an object with a \"type\")", &e)
        })?;
        state.events += 1;
        state.event(event).map_err(|m| lines.error(m))?;
    }
    if state.events == 0 {
        return Err(lines.error(
            "empty input: expected a Dart JSON reporter stream, one event per line, starting \
             with {\"protocolVersion\":…,\"type\":\"start\"}",
        ));
    }
    if let Some(test) = state.running.values().min_by_key(|t| t.id) {
        return Err(lines.error(format!(
            "the stream ended while test \"{}\" was running (no testDone event for it): the \
             Dart JSON report is truncated",
            test.name
        )));
    }
    // The runner ends every stream with `done`: without it the run was cut short (a crash,
    // a kill), and the tests it had not started are missing.
    let (Some(success), true) = (state.done, state.stream_done) else {
        return Err(lines.error(
            "the stream has no \"done\" event: the Dart JSON report is truncated (the test \
             runner did not finish)",
        ));
    };
    // The runner says the run failed (or could not tell) where no test read failed: reading
    // it green would trust the part that was reported.
    if success != Some(true) && state.failing == 0 {
        let why = match success {
            Some(_) => {
                "the Dart test runner reported the run failed (\"done\" with success: false), \
                 but no test in the report failed"
            }
            None => {
                "the Dart test runner could not tell whether the run succeeded (\"done\" with \
                 success: null): it did not complete"
            }
        };
        state.summary.cases += 1;
        (state.on_case)(TestCase::outside_any_test(
            String::new(),
            "(run)".into(),
            Message::bounded(why),
            state.input,
        ));
    }
    Ok(state.summary)
}

/// A test that has started and not ended.
struct Running {
    id: u64,
    name: String,
    suite: String,
    file: Option<String>,
    line: Option<u32>,
    location: Option<SourceLocation>,
    start: Option<f64>,
    error: Option<Message>,
    skip_reason: Option<String>,
    scanner: LineScanner,
    properties: CaseProperties,
}

/// What is remembered of an ended test.
struct Ended {
    id: u64,
    name: String,
    suite: String,
    file: Option<String>,
    line: Option<u32>,
}

struct State<'a> {
    input: usize,
    on_case: &'a mut dyn FnMut(TestCase),
    summary: Summary,
    /// Suite id → path.
    suites: HashMap<u64, Option<String>>,
    running: HashMap<u64, Running>,
    recent: VecDeque<Ended>,
    events: u64,
    /// `done`'s `success` (`Some(None)`: null); `None`: no `done` yet. Several streams joined
    /// into one: any that did not succeed counts.
    done: Option<Option<bool>>,
    /// The current stream (since its `start`) has ended with its `done`.
    stream_done: bool,
    /// Failed and errored cases handed on.
    failing: u64,
}

/// `file:///home/x/test/a_test.dart` → `/home/x/test/a_test.dart` (percent-decoded); other
/// URLs as they are.
fn url_path(url: &str) -> String {
    match url.strip_prefix("file://") {
        Some(path) => percent_encoding::percent_decode_str(path)
            .decode_utf8_lossy()
            .into_owned(),
        None => url.to_owned(),
    }
}

/// `true` when `path` (a URL's path) names the suite's file (`path` relative to the package).
fn same_file(path: &str, suite_path: &str) -> bool {
    let suite_path = suite_path.trim_start_matches("./");
    path == suite_path
        || path
            .strip_suffix(suite_path)
            .is_some_and(|rest| rest.ends_with('/'))
}

impl State<'_> {
    fn event(&mut self, e: Event<'_>) -> Result<(), String> {
        match &*e.kind {
            "suite" => {
                if let Some(suite) = e.suite {
                    if self.suites.len() >= MAX_SUITES && !self.suites.contains_key(&suite.id) {
                        return Err(format!("more than {MAX_SUITES} suites"));
                    }
                    self.summary.suites += 1;
                    self.suites.insert(suite.id, suite.path);
                }
            }
            "testStart" => {
                let Some(test) = e.test else {
                    return Err("a testStart event without its \"test\"".into());
                };
                self.start(test, e.time)?;
            }
            "print" => {
                let (Some(id), Some(message)) = (e.test_id, e.message) else {
                    return Ok(());
                };
                let Some(test) = self.running.get_mut(&id) else {
                    return Ok(());
                };
                if e.message_type.as_deref() == Some("skip") {
                    test.skip_reason = Some(message);
                } else {
                    let text = jsonl::clean_text(&message);
                    let mut found = jsonl::output_properties(&mut test.properties);
                    test.scanner.feed(&text, &mut found);
                    test.scanner.finish(&mut found);
                }
            }
            "error" => {
                let Some(id) = e.test_id else { return Ok(()) };
                let parts = [
                    e.error.as_deref().unwrap_or(""),
                    e.stack_trace.as_deref().unwrap_or(""),
                ];
                match self.running.get_mut(&id) {
                    Some(test) => {
                        if test.error.is_none() {
                            test.error = jsonl::message(&parts);
                        }
                    }
                    None => self.late_error(id, &parts),
                }
            }
            // A stream joined after another starts again: its own `done` must end it.
            "start" => self.stream_done = false,
            "done" => {
                self.stream_done = true;
                self.done = Some(match (self.done, e.success) {
                    (Some(Some(false)), _) | (_, Some(false)) => Some(false),
                    (Some(None), _) | (_, None) => None,
                    _ => Some(true),
                });
            }
            "testDone" => {
                let Some(id) = e.test_id else {
                    return Err("a testDone event without its \"testID\"".into());
                };
                let Some(test) = self.running.remove(&id) else {
                    // Done without a start: nothing known to report.
                    return Ok(());
                };
                let status = match e.result.as_deref() {
                    Some("success") if e.skipped == Some(true) => CaseStatus::Skipped,
                    Some("success") => CaseStatus::Passed,
                    Some("failure") => CaseStatus::Failed,
                    _ => CaseStatus::Errored,
                };
                let hidden = e.hidden == Some(true);
                let duration = match (test.start, e.time) {
                    (Some(start), Some(end)) if end >= start => (end - start) / 1000.0,
                    _ => 0.0,
                };
                self.remember(&test);
                if hidden && status == CaseStatus::Passed {
                    return Ok(());
                }
                self.emit(test, status, duration);
            }
            _ => {}
        }
        Ok(())
    }

    fn start(&mut self, test: TestInfo, time: Option<f64>) -> Result<(), String> {
        if self.running.len() >= MAX_RUNNING && !self.running.contains_key(&test.id) {
            return Err(format!(
                "more than {MAX_RUNNING} tests running at once (started, not done)"
            ));
        }
        let suite_path = test
            .suite_id
            .and_then(|id| self.suites.get(&id))
            .and_then(|p| p.as_deref())
            .filter(|p| !p.is_empty());
        let url = test.url.as_deref().map(url_path);
        let (file, line, location) = match (suite_path, test.root_url.is_some()) {
            (Some(suite), true) => (Some(suite.to_owned()), test.root_line, None),
            (Some(suite), false) => match (&url, test.line) {
                (Some(url), Some(line)) if !same_file(url, suite) => (
                    Some(suite.to_owned()),
                    None,
                    Some(SourceLocation {
                        file: url.clone(),
                        line,
                    }),
                ),
                _ => (Some(suite.to_owned()), test.line, None),
            },
            (None, _) => (url, test.line, None),
        };
        let skip_reason = test.metadata.and_then(|m| m.skip_reason);
        self.running.insert(
            test.id,
            Running {
                id: test.id,
                name: test.name,
                suite: suite_path.unwrap_or_default().to_owned(),
                file,
                line,
                location,
                start: time,
                error: None,
                skip_reason,
                scanner: LineScanner::default(),
                properties: CaseProperties::default(),
            },
        );
        Ok(())
    }

    fn remember(&mut self, test: &Running) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(Ended {
            id: test.id,
            name: test.name.clone(),
            suite: test.suite.clone(),
            file: test.file.clone(),
            line: test.line,
        });
    }

    fn late_error(&mut self, id: u64, parts: &[&str]) {
        let (name, suite, file, line) = match self.recent.iter().rev().find(|t| t.id == id) {
            Some(t) => (t.name.clone(), t.suite.clone(), t.file.clone(), t.line),
            None => (format!("test {id}"), String::new(), None, None),
        };
        let test = Running {
            id,
            name: format!("{name} (error after the test completed)"),
            suite,
            file,
            line,
            location: None,
            start: None,
            error: jsonl::message(parts),
            skip_reason: None,
            scanner: LineScanner::default(),
            properties: CaseProperties::default(),
        };
        self.emit(test, CaseStatus::Errored, 0.0);
    }

    fn emit(&mut self, test: Running, status: CaseStatus, duration_s: f64) {
        let message = match status {
            CaseStatus::Passed => None,
            CaseStatus::Skipped => test
                .skip_reason
                .as_deref()
                .and_then(|r| jsonl::message(&[r])),
            CaseStatus::Failed | CaseStatus::Errored => {
                self.failing += 1;
                test.error
            }
        };
        self.summary.cases += 1;
        let properties = test.properties.kept(&mut self.summary);
        (self.on_case)(TestCase {
            suite: test.suite,
            classname: String::new(),
            name: test.name,
            file: test.file,
            line: test.line,
            location: test.location,
            status,
            flaky: false,
            duration_s,
            message,
            properties,
            input: self.input,
            runs: 1,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PropertyScope, RawProperty};

    fn run(stream: &str) -> Result<Vec<TestCase>, ParseError> {
        let mut cases = Vec::new();
        let summary = parse(stream.as_bytes(), 1, &mut |c| cases.push(c))?;
        assert_eq!(summary.cases, cases.len() as u64);
        Ok(cases)
    }

    fn err(stream: &str) -> ParseError {
        match run(stream) {
            Ok(cases) => panic!("accepted ({} cases)", cases.len()),
            Err(e) => e,
        }
    }

    const START: &str = "{\"protocolVersion\":\"0.1.1\",\"runnerVersion\":\"1.25.0\",\"pid\":1,\"type\":\"start\",\"time\":0}\n\
        {\"suite\":{\"id\":0,\"platform\":\"vm\",\"path\":\"test/auth_test.dart\"},\"type\":\"suite\",\"time\":0}\n";

    fn start(id: u64, name: &str, time: u64) -> String {
        format!(
            "{{\"test\":{{\"id\":{id},\"name\":\"{name}\",\"suiteID\":0,\"groupIDs\":[],\"metadata\":{{\"skip\":false,\"skipReason\":null}},\"line\":{},\"column\":3,\"url\":\"file:///w/p/test/auth_test.dart\"}},\"type\":\"testStart\",\"time\":{time}}}\n",
            id + 10
        )
    }

    fn done(id: u64, result: &str, skipped: bool, hidden: bool, time: u64) -> String {
        format!(
            "{{\"testID\":{id},\"result\":\"{result}\",\"skipped\":{skipped},\"hidden\":{hidden},\"type\":\"testDone\",\"time\":{time}}}\n"
        )
    }

    #[test]
    fn statuses_messages_and_hidden_tests() {
        let mut s = String::from(START);
        s += &start(1, "loading test/auth_test.dart", 0);
        s += &done(1, "success", false, true, 5);
        s += &start(2, "auth [cc6-1] rejects expired tokens", 10);
        s += &done(2, "success", false, false, 35);
        s += &start(3, "auth fails", 40);
        s += "{\"testID\":3,\"error\":\"Expected: 1\\n  Actual: 2\\n\",\"stackTrace\":\"test/auth_test.dart 22:7  main.<fn>\\n\",\"isFailure\":true,\"type\":\"error\",\"time\":41}\n";
        s += "{\"testID\":3,\"error\":\"second error\",\"stackTrace\":\"\",\"isFailure\":false,\"type\":\"error\",\"time\":42}\n";
        s += &done(3, "failure", false, false, 43);
        s += &start(4, "auth errors", 50);
        s += "{\"testID\":4,\"error\":\"Exception: boom\",\"stackTrace\":\"x\",\"isFailure\":false,\"type\":\"error\",\"time\":51}\n";
        s += &done(4, "error", false, false, 52);
        s += &start(5, "auth skipped", 60);
        s += "{\"testID\":5,\"messageType\":\"skip\",\"message\":\"Skip: not today\",\"type\":\"print\",\"time\":61}\n";
        s += &done(5, "success", true, false, 62);
        s += &start(6, "auth prints", 70);
        s += "{\"testID\":6,\"messageType\":\"print\",\"message\":\"[[PROPERTY|control=CC8.1]]\",\"type\":\"print\",\"time\":71}\n";
        s += &done(6, "success", false, false, 72);
        s += "{\"success\":false,\"type\":\"done\",\"time\":100}\n";
        let cases = run(&s).unwrap();
        let got: Vec<(&str, CaseStatus)> =
            cases.iter().map(|c| (c.name.as_str(), c.status)).collect();
        use CaseStatus::*;
        assert_eq!(
            got,
            [
                ("auth [cc6-1] rejects expired tokens", Passed),
                ("auth fails", Failed),
                ("auth errors", Errored),
                ("auth skipped", Skipped),
                ("auth prints", Passed)
            ]
        );
        let first = &cases[0];
        assert_eq!(first.suite, "test/auth_test.dart");
        assert_eq!(first.file.as_deref(), Some("test/auth_test.dart"));
        assert_eq!(first.line, Some(12));
        assert_eq!(first.classname, "");
        assert_eq!(first.duration_s, 0.025);
        assert_eq!(
            cases[1].message.as_ref().unwrap().text,
            "Expected: 1\n  Actual: 2\ntest/auth_test.dart 22:7  main.<fn>"
        );
        assert_eq!(
            cases[2].message.as_ref().unwrap().text,
            "Exception: boom\nx"
        );
        assert_eq!(cases[3].message.as_ref().unwrap().text, "Skip: not today");
        assert_eq!(
            cases[4].properties,
            [RawProperty {
                name: "control".into(),
                value: "CC8.1".into(),
                scope: PropertyScope::SystemOut
            }]
        );
    }

    #[test]
    fn a_hidden_test_that_failed_counts_and_late_errors_are_reported() {
        let mut s = String::from(START);
        s += &start(1, "loading test/auth_test.dart", 0);
        s += "{\"testID\":1,\"error\":\"Failed to load: syntax error\",\"stackTrace\":\"\",\"isFailure\":false,\"type\":\"error\",\"time\":1}\n";
        s += &done(1, "error", false, true, 2);
        s += &start(2, "async", 3);
        s += &done(2, "success", false, false, 4);
        s += "{\"testID\":2,\"error\":\"This test failed after it had already completed.\",\"stackTrace\":\"\",\"isFailure\":false,\"type\":\"error\",\"time\":5}\n";
        s += "{\"success\":false,\"type\":\"done\",\"time\":6}\n";
        let cases = run(&s).unwrap();
        let got: Vec<(&str, CaseStatus)> =
            cases.iter().map(|c| (c.name.as_str(), c.status)).collect();
        assert_eq!(
            got,
            [
                ("loading test/auth_test.dart", CaseStatus::Errored),
                ("async", CaseStatus::Passed),
                (
                    "async (error after the test completed)",
                    CaseStatus::Errored
                )
            ]
        );
        assert_eq!(cases[2].file.as_deref(), Some("test/auth_test.dart"));
    }

    #[test]
    fn a_test_declared_in_another_file_points_there() {
        let mut s = String::from(START);
        s += "{\"test\":{\"id\":1,\"name\":\"shared\",\"suiteID\":0,\"line\":7,\"url\":\"file:///w/p/test/helpers/shared.dart\"},\"type\":\"testStart\",\"time\":0}\n";
        s += &done(1, "failure", false, false, 1);
        s += "{\"test\":{\"id\":2,\"name\":\"rooted\",\"suiteID\":0,\"line\":7,\"url\":\"file:///w/p/test/helpers/shared.dart\",\"root_line\":30,\"root_url\":\"file:///w/p/test/auth_test.dart\"},\"type\":\"testStart\",\"time\":0}\n";
        s += &done(2, "success", false, false, 1);
        s += "{\"success\":false,\"type\":\"done\",\"time\":2}\n";
        let cases = run(&s).unwrap();
        assert_eq!(cases[0].file.as_deref(), Some("test/auth_test.dart"));
        assert_eq!(cases[0].line, None);
        assert_eq!(
            cases[0].location,
            Some(SourceLocation {
                file: "/w/p/test/helpers/shared.dart".into(),
                line: 7
            })
        );
        assert_eq!(cases[1].line, Some(30));
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line() {
        let e = err(&format!(
            "{START}{{\"type\":\"testStart\",\"test\":{{\"id\":\"x\"}}}}\n"
        ));
        assert_eq!(e.location.line, Some(3));
        assert!(e.message.contains("Dart JSON reporter event"), "{e}");
        let e = err(&format!("{START}{{\"testID\":1}}\n"));
        assert_eq!(e.location.line, Some(3));
        assert!(e.message.contains("missing field `type`"), "{e}");
        let e = err("not json\n");
        assert_eq!(e.location.line, Some(1));
        assert!(
            e.message.starts_with("not a Dart JSON reporter stream"),
            "{e}"
        );
        let e = err("");
        assert!(e.message.starts_with("empty input"), "{e}");
    }

    #[test]
    fn a_truncated_stream_is_an_error() {
        let mut s = String::from(START);
        s += &start(1, "runs forever", 0);
        let e = err(&s);
        assert_eq!(e.location.line, Some(3));
        assert!(e.message.contains("truncated"), "{e}");
        let e = err(&format!("{s}{{\"testID\":1,\"res"));
        assert_eq!(e.location.line, Some(4));
        // All tests done but no `done` event: the runner did not finish.
        let s = format!("{s}{}", done(1, "success", false, false, 1));
        let e = err(&s);
        assert!(e.message.contains("no \"done\" event"), "{e}");
        let cases = run(&format!(
            "{s}{{\"success\":true,\"type\":\"done\",\"time\":2}}\n"
        ))
        .unwrap();
        assert_eq!(cases.len(), 1);
        // A second stream joined after a complete one, cut off: truncated all the same.
        let two = format!(
            "{s}{{\"success\":true,\"type\":\"done\",\"time\":2}}\n{START}{}",
            start(2, "second", 3)
        );
        let e = err(&format!("{two}{}", done(2, "success", false, false, 4)));
        assert!(e.message.contains("no \"done\" event"), "{e}");
        // A first stream that could not tell, then a complete passing one: still not green.
        let cases = run(&format!(
            "{START}{{\"success\":null,\"type\":\"done\",\"time\":1}}\n{two}{}{{\"success\":true,\"type\":\"done\",\"time\":5}}\n",
            done(2, "success", false, false, 4)
        ))
        .unwrap();
        assert!(cases.iter().any(|c| c.name == "(run)"), "{cases:?}");
        // `done` says the run failed, or could not tell, where nothing failed: one errored case.
        for success in ["false", "null"] {
            let cases = run(&format!(
                "{s}{{\"success\":{success},\"type\":\"done\",\"time\":2}}\n"
            ))
            .unwrap();
            assert_eq!(cases.len(), 2, "{success}");
            assert_eq!(
                (cases[1].name.as_str(), cases[1].status),
                ("(run)", CaseStatus::Errored),
                "{success}"
            );
        }
    }

    #[test]
    fn an_oversized_line_is_an_error() {
        let mut s = String::from(START);
        s += &start(1, "big", 0);
        s += &format!(
            "{{\"testID\":1,\"messageType\":\"print\",\"message\":\"{}\",\"type\":\"print\"}}\n",
            "x".repeat(jsonl::MAX_LINE)
        );
        let e = err(&s);
        assert_eq!(e.location.line, Some(4));
        assert!(e.message.contains("longer than"), "{e}");
    }
}
