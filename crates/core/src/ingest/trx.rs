//! Streaming TRX reader: the Visual Studio / VSTest results format (`<TestRun>`, namespaces
//! `…/TeamTest/2010` and `…/TeamTest/2006` alike), as `dotnet test --logger trx` writes it for
//! MSTest, NUnit and xUnit.net tests.
//!
//! One pass with the shared XML driver ([`xml::read`]: well-formedness, no entity-declaring
//! `<!DOCTYPE>`, bounded nesting, errors with their line). A result (`<Results>/<UnitTestResult>`)
//! names its test by `testId`; the test's class and categories are in `<TestDefinitions>`,
//! which VSTest writes *after* the results. So the definitions are kept (class name and
//! properties per test), and results read before them wait, one compact record each, until
//! `</TestDefinitions>`; results after the definitions are reported as they are read. Tests are
//! reported in the order of their results.
//!
//! The mapping follows EnricoMi/publish-unit-test-result-action's `trx-to-junit.xslt`, whose
//! recorded answers are our conformance oracle, except where noted:
//!
//! - One test per `<UnitTestResult>`, joined to its `<UnitTest>` by `testId` (by `executionId`
//!   = `UnitTest/Execution/@id`, as the 2006 schema links them, when no `testId` matches).
//!   A result whose test is not defined is still reported, with an empty class name
//!   (EnricoMi drops it).
//! - Data-driven and ordered tests: a result with `<InnerResults>` is the aggregate of its
//!   inner results; each inner result is a test, the aggregate is not (EnricoMi counts both).
//! - `classname` = `TestMethod/@className` up to its first comma (older TRX append the
//!   assembly: `A.BTests, A, Version=1.0.0.0`); `name` = `testName` without a leading
//!   `classname.`; `suite` = the run's `name`. No file or line: a location in the stack trace
//!   (`in C:\src\BTests.cs:line 12`) is kept for annotations.
//! - Status, from `outcome` (the schema's closed list; anything else is an error naming it):
//!   - `Passed`, `PassedButRunAborted` → passed; `Failed` → failed; `Error` → errored.
//!   - `Timeout`, `Aborted`, `Disconnected` → errored: the test did not complete. EnricoMi
//!     counts them as skipped, which a gate must not (skips are left out of the pass rate, so
//!     a hung security test would pass it).
//!   - `NotExecuted`, `NotRunnable`, `Inconclusive`, `Warning`, `Completed`, `InProgress`,
//!     `Pending` → skipped, as in EnricoMi.
//!   - No `outcome` → errored, as in EnricoMi.
//! - Message: `Output/ErrorInfo/Message`, then `StackTrace` on the next line, bounded like
//!   JUnit messages.
//! - Duration: `duration` (`hh:mm:ss.fffffff`, with an optional `d.` day prefix), else
//!   `endTime` − `startTime`, else 0. A `duration` that is no such time span is an error.
//! - Properties (scope `Case`): `TestCategory/TestCategoryItem/@TestCategory` as `category`
//!   (`[TestCategory("cc6-1")]`, NUnit's `[Category]`, xUnit.net's `Category` trait),
//!   `Properties/Property` as `Key`=`Value` (MSTest `[TestProperty("control", "CC6.1")]`),
//!   `Owners/Owner/@name` as `owner`; `[[PROPERTY|name=value]]` lines in `Output/StdOut`
//!   (scope `SystemOut`).
//! - The run's own outcome (`ResultSummary/@outcome`): a run that did not complete (`Failed`,
//!   `Error`, `Aborted`, `Timeout`, `Disconnected`, `PassedButRunAborted`, `InProgress`,
//!   `Pending`) with no failing or errored result read is one more errored test, `(test run)`,
//!   its message the first erring `RunInfos/RunInfo/Text` (VSTest writes "The active test run
//!   was aborted" there when the test host crashes, and keeps the results of the tests that
//!   finished: all passing). EnricoMi ignores the run's outcome and shows the run green.

use std::collections::HashMap;
use std::io::BufRead;

use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use crate::error::ParseError;
use crate::ingest::cases::CaseProperties;
use crate::ingest::cases::{self, MAX_STRING, Part, Parts, Texts};
use crate::ingest::results::Summary;
use crate::ingest::text;
use crate::ingest::xml::{self, Document, Element, checked_attributes};
use crate::model::{CaseStatus, Message, PropertyScope, SourceLocation, TestCase};

/// Streams `reader`, calling `on_case` once per test result (in the order of the results).
/// `input` is stored in each case's `input` field.
pub fn parse(
    reader: impl BufRead,
    input: usize,
    on_case: &mut dyn FnMut(TestCase),
) -> Result<Summary, ParseError> {
    parse_document(Document::Stream(reader), input, on_case)
}

/// [`parse`] of a stream or of bytes in place ([`xml::read_document`]).
pub(crate) fn parse_document(
    document: Document<'_, impl BufRead>,
    input: usize,
    on_case: &mut dyn FnMut(TestCase),
) -> Result<Summary, ParseError> {
    let mut state = State {
        input,
        on_case,
        summary: Summary::default(),
        stack: Vec::with_capacity(16),
        run_name: String::new(),
        results: Vec::new(),
        waiting: Vec::new(),
        tests: Vec::new(),
        by_test_id: Index::default(),
        by_execution_id: Index::default(),
        definitions_read: false,
        test: None,
        key: String::new(),
        value: String::new(),
        texts: Texts::default(),
        run_failed: None,
        run_info: None,
        failing_read: false,
    };
    xml::read_document(document, &mut state)?;
    Ok(state.summary)
}

/// What an open element is, as far as TRX is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Run,
    Results,
    Result,
    InnerResults,
    Output,
    ErrorInfo,
    /// `ErrorInfo/Message` or `ErrorInfo/StackTrace`.
    Part,
    StdOut,
    Definitions,
    UnitTest,
    Categories,
    Properties,
    Property,
    Key,
    Value,
    Owners,
    /// `ResultSummary/RunInfos/RunInfo` with an erring outcome, and its `Text`.
    RunInfo,
    RunText,
    Other,
}

/// A `<UnitTestResult>` being read.
struct ResultBuilder {
    test_id: String,
    execution_id: String,
    test_name: String,
    status: CaseStatus,
    duration_s: f64,
    /// It holds inner results: it is their aggregate, not a test.
    aggregate: bool,
    /// The error's message and trace; `properties` are the `StdOut` markers.
    parts: Parts,
}

/// A result read, waiting for its test's definition or reported at once.
struct Finished {
    test_id: String,
    execution_id: String,
    test_name: String,
    status: CaseStatus,
    duration_s: f64,
    message: Option<Message>,
    location: Option<SourceLocation>,
    markers: CaseProperties,
}

/// Tests by id: index into `State::tests`.
type Index = HashMap<String, usize, Xxh3DefaultBuilder>;

/// What a result needs of its test's `<UnitTest>`.
#[derive(Default)]
struct Definition {
    id: String,
    execution_id: String,
    classname: String,
    properties: CaseProperties,
}

struct State<'a> {
    input: usize,
    on_case: &'a mut dyn FnMut(TestCase),
    summary: Summary,
    stack: Vec<Kind>,
    run_name: String,
    /// Open results, outermost first (inner results nest).
    results: Vec<ResultBuilder>,
    /// Results read before the definitions.
    waiting: Vec<Finished>,
    tests: Vec<Definition>,
    by_test_id: Index,
    /// Built when a result's `testId` names no test (2006 TRX join by execution).
    by_execution_id: Index,
    /// `</TestDefinitions>` was read: results are reported as they come.
    definitions_read: bool,
    /// The `<UnitTest>` being read.
    test: Option<Definition>,
    key: String,
    value: String,
    texts: Texts,
    /// `ResultSummary/@outcome`, when it says the run did not complete.
    run_failed: Option<String>,
    /// What the first `RunInfo` with an erring outcome said.
    run_info: Option<String>,
    /// A failed or errored result was read.
    failing_read: bool,
}

/// `ResultSummary` outcomes of a run that did not complete.
const RUN_FAILED: [&str; 8] = [
    "Failed",
    "Error",
    "Aborted",
    "Timeout",
    "Disconnected",
    "PassedButRunAborted",
    "InProgress",
    "Pending",
];

impl xml::Handler for State<'_> {
    const FORMAT: &'static str = "TRX";
    const ROOTS: &'static str = "a <TestRun> root element";

    fn is_root(local: &[u8]) -> bool {
        local == b"TestRun"
    }

    fn start(&mut self, e: &Element<'_>) -> Result<bool, String> {
        let local = e.local_name();
        let parent = self.stack.last().copied();
        let mut checked = true;
        let kind = match (parent, local) {
            (None, _) => {
                self.summary.suites += 1;
                self.run_name = attr(e, b"name")?.unwrap_or_default();
                Kind::Run
            }
            (Some(Kind::Results | Kind::InnerResults), b"UnitTestResult") => self.open_result(e)?,
            (_, b"UnitTestResult") => {
                return Err(format!(
                    "<UnitTestResult> inside {}: TRX has results only in <Results> or \
                     <InnerResults>",
                    self.open_element()
                ));
            }
            (Some(Kind::Definitions), b"UnitTest") => {
                self.test = Some(Definition {
                    id: attr(e, b"id")?.unwrap_or_default(),
                    ..Definition::default()
                });
                Kind::UnitTest
            }
            (Some(Kind::UnitTest), b"Execution") => {
                let id = attr(e, b"id")?.unwrap_or_default();
                if let Some(test) = self.test.as_mut() {
                    test.execution_id = id;
                }
                Kind::Other
            }
            (Some(Kind::UnitTest), b"TestMethod") => {
                let class = attr(e, b"className")?.unwrap_or_default();
                if let Some(test) = self.test.as_mut() {
                    // `A.BTests, A, Version=1.0.0.0, Culture=neutral`: the class is the first part.
                    test.classname = class.split(',').next().unwrap_or("").trim().to_owned();
                }
                Kind::Other
            }
            (Some(Kind::Categories), b"TestCategoryItem") => {
                if let Some(category) = attr(e, b"TestCategory")? {
                    self.add_property("category".into(), category);
                }
                Kind::Other
            }
            (Some(Kind::Owners), b"Owner") => {
                if let Some(owner) = attr(e, b"name")? {
                    self.add_property("owner".into(), owner);
                }
                Kind::Other
            }
            (Some(Kind::Run), b"ResultSummary") => {
                let outcome = attr(e, b"outcome")?.unwrap_or_default();
                if RUN_FAILED
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(outcome.trim()))
                {
                    self.run_failed = Some(format!("outcome is {}", outcome.trim()));
                }
                Kind::Other
            }
            // `ResultSummary/Counters`: failures counted where no result failed are a run
            // whose failing results were cut from the file.
            (Some(Kind::Other), b"Counters") => {
                let mut failing = 0u64;
                for name in [&b"failed"[..], b"error", b"timeout", b"aborted"] {
                    if let Some(n) = attr(e, name)? {
                        failing = failing.saturating_add(n.trim().parse::<u64>().unwrap_or(0));
                    }
                }
                if failing > 0 && self.run_failed.is_none() {
                    self.run_failed =
                        Some(format!("counters say {failing} result(s) failed or erred"));
                }
                Kind::Other
            }
            (Some(Kind::Other), b"RunInfo") => {
                let outcome = attr(e, b"outcome")?.unwrap_or_default();
                match outcome.trim() {
                    "" | "Passed" | "Completed" | "Warning" => Kind::Other,
                    _ => Kind::RunInfo,
                }
            }
            _ => {
                checked = false;
                match (parent, local) {
                    (Some(Kind::Run), b"Results") => Kind::Results,
                    (Some(Kind::Run), b"TestDefinitions") => Kind::Definitions,
                    (_, b"InnerResults") => Kind::InnerResults,
                    (Some(Kind::Result), b"Output") => Kind::Output,
                    (Some(Kind::Output), b"ErrorInfo") => Kind::ErrorInfo,
                    (Some(Kind::ErrorInfo), b"Message") => {
                        self.texts.begin(Part::Message);
                        Kind::Part
                    }
                    (Some(Kind::ErrorInfo), b"StackTrace") => {
                        self.texts.begin(Part::Trace);
                        Kind::Part
                    }
                    (Some(Kind::Output), b"StdOut") => {
                        self.texts.begin_output();
                        Kind::StdOut
                    }
                    (Some(Kind::UnitTest), b"TestCategory") => Kind::Categories,
                    (Some(Kind::UnitTest), b"Properties") => Kind::Properties,
                    (Some(Kind::UnitTest), b"Owners") => Kind::Owners,
                    (Some(Kind::Properties), b"Property") => {
                        self.key.clear();
                        self.value.clear();
                        Kind::Property
                    }
                    (Some(Kind::Property), b"Key") => {
                        self.texts.begin_value(MAX_STRING);
                        Kind::Key
                    }
                    (Some(Kind::Property), b"Value") => {
                        self.texts.begin_value(MAX_STRING);
                        Kind::Value
                    }
                    (Some(Kind::RunInfo), b"Text") if self.run_info.is_none() => {
                        self.texts.begin_value(MAX_STRING);
                        Kind::RunText
                    }
                    _ => Kind::Other,
                }
            }
        };
        self.stack.push(kind);
        Ok(checked)
    }

    fn end(&mut self) -> Result<(), String> {
        let Some(kind) = self.stack.pop() else {
            return Ok(());
        };
        match kind {
            Kind::Result => self.close_result(),
            Kind::Part | Kind::StdOut => self
                .texts
                .end(self.results.last_mut().map(|r| &mut r.parts)),
            Kind::Key => self.key = self.texts.take_trimmed(),
            Kind::RunText => {
                let text = self.texts.take_trimmed();
                if !text.is_empty() {
                    self.run_info = Some(text);
                }
            }
            Kind::Value => self.value = self.texts.take_trimmed(),
            Kind::Property => {
                let (key, value) = (
                    std::mem::take(&mut self.key),
                    std::mem::take(&mut self.value),
                );
                if !key.is_empty() {
                    self.add_property(key, value);
                }
            }
            Kind::UnitTest => {
                if let Some(mut test) = self.test.take() {
                    let index = self.tests.len();
                    self.by_test_id
                        .entry(std::mem::take(&mut test.id))
                        .or_insert(index);
                    self.tests.push(test);
                }
            }
            Kind::Definitions => {
                self.definitions_read = true;
                self.report_waiting();
            }
            // The end of the document: results whose definitions never came, then the run
            // itself when it failed with no failing result.
            Kind::Run => {
                self.report_waiting();
                self.report_failed_run();
            }
            _ => {}
        }
        Ok(())
    }

    fn texts(&mut self) -> (&mut Texts, Option<&mut CaseProperties>) {
        (
            &mut self.texts,
            self.results.last_mut().map(|r| &mut r.parts.properties),
        )
    }

    fn open_element(&self) -> &'static str {
        match self.stack.last() {
            Some(Kind::Run) => "<TestRun>",
            Some(Kind::Results) => "<Results>",
            Some(Kind::Result) => "<UnitTestResult>",
            Some(Kind::InnerResults) => "<InnerResults>",
            Some(Kind::Output) => "<Output>",
            Some(Kind::ErrorInfo) => "<ErrorInfo>",
            Some(Kind::Part) => "<Message> or <StackTrace>",
            Some(Kind::StdOut) => "<StdOut>",
            Some(Kind::Definitions) => "<TestDefinitions>",
            Some(Kind::UnitTest) => "<UnitTest>",
            Some(Kind::Categories) => "<TestCategory>",
            Some(Kind::Properties) => "<Properties>",
            Some(Kind::Property) => "<Property>",
            Some(Kind::Key) => "<Key>",
            Some(Kind::Value) => "<Value>",
            Some(Kind::Owners) => "<Owners>",
            Some(Kind::RunInfo) => "<RunInfo>",
            Some(Kind::RunText) => "<Text>",
            Some(Kind::Other) | None => "an element",
        }
    }
}

impl State<'_> {
    fn open_result(&mut self, e: &Element<'_>) -> Result<Kind, String> {
        let mut result = ResultBuilder {
            test_id: String::new(),
            execution_id: String::new(),
            test_name: String::new(),
            // No outcome: an error (EnricoMi's reading too).
            status: CaseStatus::Errored,
            duration_s: 0.0,
            aggregate: false,
            parts: Parts::default(),
        };
        let (mut duration, mut start, mut end) = (None, None, None);
        for attr in checked_attributes(e) {
            let attr = attr?;
            let value = &attr.value;
            match xml::local(attr.key.as_ref()) {
                b"testId" => result.test_id = text::attr_string(value, MAX_STRING),
                b"executionId" => result.execution_id = text::attr_string(value, MAX_STRING),
                b"testName" => result.test_name = text::attr_string(value, MAX_STRING),
                b"outcome" => result.status = outcome(&text::clean_attr(value))?,
                b"duration" => duration = time_span(&text::clean_attr(value))?,
                b"startTime" => start = timestamp(&text::clean_attr(value)),
                b"endTime" => end = timestamp(&text::clean_attr(value)),
                _ => {}
            }
        }
        result.duration_s = match (duration, start, end) {
            (Some(d), _, _) => d,
            (None, Some(start), Some(end)) if end >= start => end - start,
            _ => 0.0,
        };
        if let Some(outer) = self.results.last_mut() {
            outer.aggregate = true;
        }
        self.results.push(result);
        Ok(Kind::Result)
    }

    /// A property of the `<UnitTest>` being read.
    fn add_property(&mut self, name: String, value: String) {
        if let Some(test) = self.test.as_mut() {
            test.properties
                .push(cases::property(name, value, PropertyScope::Case));
        }
    }

    fn close_result(&mut self) {
        let Some(result) = self.results.pop() else {
            return;
        };
        if result.aggregate {
            return;
        }
        let (message, location) = result.parts.message();
        let finished = Finished {
            message,
            location,
            test_id: result.test_id,
            execution_id: result.execution_id,
            test_name: result.test_name,
            status: result.status,
            duration_s: result.duration_s,
            markers: result.parts.properties,
        };
        if self.definitions_read {
            self.report(finished);
        } else {
            self.waiting.push(finished);
        }
    }

    fn report_waiting(&mut self) {
        for finished in std::mem::take(&mut self.waiting) {
            self.report(finished);
        }
    }

    /// The errored `(test run)` of a run that did not complete with no failing result read.
    fn report_failed_run(&mut self) {
        let Some(outcome) = self.run_failed.take() else {
            return;
        };
        if self.failing_read {
            return;
        }
        let said = match self.run_info.take() {
            Some(info) => format!(": {info}"),
            None => String::new(),
        };
        self.summary.cases += 1;
        let message = Message::bounded(&format!(
            "the test run's {outcome} with no failing test among its results (aborted, its \
             test host crashed, or its failing results cut from the file){said}"
        ));
        (self.on_case)(TestCase::outside_any_test(
            self.run_name.clone(),
            "(test run)".into(),
            message,
            self.input,
        ));
    }

    fn report(&mut self, result: Finished) {
        self.summary.cases += 1;
        self.failing_read |= matches!(result.status, CaseStatus::Failed | CaseStatus::Errored);
        let mut index = self.by_test_id.get(&result.test_id).copied();
        if index.is_none() && !result.execution_id.is_empty() {
            if self.by_execution_id.is_empty() {
                for (i, test) in self.tests.iter().enumerate() {
                    if !test.execution_id.is_empty() {
                        self.by_execution_id
                            .entry(test.execution_id.clone())
                            .or_insert(i);
                    }
                }
            }
            index = self.by_execution_id.get(&result.execution_id).copied();
        }
        let test = index.map(|i| &self.tests[i]);
        let classname = test.map(|t| t.classname.clone()).unwrap_or_default();
        let name = cases::without_class(result.test_name, &classname);
        let mut properties = test.map(|t| t.properties.clone()).unwrap_or_default();
        properties.append(result.markers);
        let properties = properties.kept(&mut self.summary);
        (self.on_case)(TestCase {
            suite: self.run_name.clone(),
            classname,
            name,
            file: None,
            line: None,
            location: result.location,
            status: result.status,
            flaky: false,
            duration_s: result.duration_s,
            message: result.message,
            properties,
            input: self.input,
            runs: 1,
        });
    }
}

/// One attribute, decoded; the element's other attributes are checked too.
fn attr(e: &Element<'_>, key: &[u8]) -> Result<Option<String>, String> {
    let mut found = None;
    for attr in checked_attributes(e) {
        let attr = attr?;
        if xml::local(attr.key.as_ref()) == key {
            found = Some(text::attr_string(&attr.value, MAX_STRING));
        }
    }
    Ok(found)
}

/// A TRX `outcome` (see the module doc).
fn outcome(raw: &str) -> Result<CaseStatus, String> {
    let value = raw.trim();
    let is = |words: &[&str]| words.iter().any(|w| value.eq_ignore_ascii_case(w));
    if is(&["Passed", "PassedButRunAborted"]) {
        Ok(CaseStatus::Passed)
    } else if is(&["Failed"]) {
        Ok(CaseStatus::Failed)
    } else if is(&["Error", "Timeout", "Aborted", "Disconnected"]) {
        Ok(CaseStatus::Errored)
    } else if is(&[
        "NotExecuted",
        "NotRunnable",
        "Inconclusive",
        "Warning",
        "Completed",
        "InProgress",
        "Pending",
    ]) {
        Ok(CaseStatus::Skipped)
    } else {
        Err(format!(
            "outcome=\"{}\" of <UnitTestResult> is not a TRX outcome: expected Passed, Failed, \
             Error, Timeout, Aborted, NotExecuted, Inconclusive, NotRunnable, Warning, \
             Completed, InProgress, Pending, Disconnected or PassedButRunAborted",
            xml::shown(value.as_bytes())
        ))
    }
}

/// A .NET time span as TRX writes durations: `[d.]hh:mm:ss[.fffffff]`, in seconds. Empty: none.
fn time_span(raw: &str) -> Result<Option<f64>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let digits = |s: &str| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
    let number = |s: &str| s.parse::<f64>().ok();
    let parsed = (|| {
        let mut parts = t.split(':');
        let (dh, m, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let (days, hours) = dh.split_once('.').unwrap_or(("0", dh));
        let (whole, fraction) = s.split_once('.').unwrap_or((s, "0"));
        if ![days, hours, m, whole].iter().all(|p| digits(p))
            || !fraction.bytes().all(|b| b.is_ascii_digit())
            || fraction.is_empty()
        {
            return None;
        }
        Some(number(days)? * 86_400.0 + number(hours)? * 3_600.0 + number(m)? * 60.0 + number(s)?)
    })();
    match parsed {
        Some(seconds) if seconds.is_finite() => Ok(Some(seconds)),
        _ => Err(format!(
            "duration=\"{}\" is not a time span: expected hh:mm:ss.fffffff such as \
             00:00:01.2500000",
            xml::shown(raw.as_bytes())
        )),
    }
}

/// An ISO 8601 timestamp (`2021-04-20T08:31:32.9669698+02:00`) in seconds since 1970, for the
/// duration of a result without one; `None` when it is not one.
fn timestamp(raw: &str) -> Option<f64> {
    let t = raw.trim();
    let (date, time) = t.split_once('T')?;
    let mut d = date.split('-');
    let (year, month, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    if d.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // The offset: `Z`, `+hh:mm`, `-hh:mm` or none (local time, taken as is).
    let (clock, offset) = match time.find(['Z', '+', '-']) {
        Some(at) if &time[at..] == "Z" => (&time[..at], 0),
        Some(at) => {
            let sign = if time[at..].starts_with('-') { -1 } else { 1 };
            let (h, m) = time[at + 1..].split_once(':')?;
            (
                &time[..at],
                sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60),
            )
        }
        None => (time, 0),
    };
    let mut c = clock.split(':');
    let (h, m, s): (i64, i64, f64) = (
        c.next()?.parse().ok()?,
        c.next()?.parse().ok()?,
        c.next()?.parse().ok()?,
    );
    if c.next().is_some() || !s.is_finite() {
        return None;
    }
    // Days from 1970-01-01 to the date (proleptic Gregorian; Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3_600 + m * 60 - offset) as f64 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ingest::cases::testing::{self, msg};

    fn ok(xml: &str) -> Vec<TestCase> {
        testing::ok(|x, i, f| parse(x, i, f), xml)
    }

    fn err(xml: &str) -> ParseError {
        testing::err(|x, i, f| parse(x, i, f), xml)
    }

    fn result(id: &str, name: &str, outcome: &str) -> String {
        format!(
            r#"<UnitTestResult executionId="e{id}" testId="t{id}" testName="{name}" duration="00:00:01.5000000" outcome="{outcome}" />"#
        )
    }

    fn definition(id: &str, class: &str, method: &str, extra: &str) -> String {
        format!(
            r#"<UnitTest name="{method}" storage="/ci/a.dll" id="t{id}">{extra}<Execution id="e{id}" /><TestMethod codeBase="/ci/a.dll" className="{class}" name="{method}" /></UnitTest>"#
        )
    }

    /// A run as VSTest writes it: results first, then the definitions.
    fn run(results: &[String], definitions: &[String]) -> String {
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<TestRun id="1" name="ci@host 2024-01-01 10:00:00" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
  <Results>
{}
  </Results>
  <TestDefinitions>
{}
  </TestDefinitions>
</TestRun>"#,
            results.join("\n"),
            definitions.join("\n")
        )
    }

    #[test]
    fn outcomes_follow_the_documented_table() {
        use CaseStatus::*;
        let table = [
            ("Passed", Passed),
            ("PassedButRunAborted", Passed),
            ("Failed", Failed),
            ("Error", Errored),
            ("Timeout", Errored),
            ("Aborted", Errored),
            ("Disconnected", Errored),
            ("NotExecuted", Skipped),
            ("NotRunnable", Skipped),
            ("Inconclusive", Skipped),
            ("Warning", Skipped),
            ("Completed", Skipped),
            ("InProgress", Skipped),
            ("Pending", Skipped),
        ];
        let results: Vec<String> = table
            .iter()
            .enumerate()
            .map(|(i, (outcome, _))| result(&i.to_string(), &format!("A.B.T{i}"), outcome))
            .collect();
        let defs: Vec<String> = (0..table.len())
            .map(|i| definition(&i.to_string(), "A.B", &format!("T{i}"), ""))
            .collect();
        let cases = ok(&run(&results, &defs));
        let got: Vec<CaseStatus> = cases.iter().map(|c| c.status).collect();
        let want: Vec<CaseStatus> = table.iter().map(|(_, s)| *s).collect();
        assert_eq!(got, want);
        assert!(cases.iter().all(|c| c.classname == "A.B"
            && c.suite == "ci@host 2024-01-01 10:00:00"
            && c.duration_s == 1.5));
        assert_eq!(cases[3].name, "T3");
        // No outcome: errored.
        let cases = ok(&run(
            &[r#"<UnitTestResult testId="t1" testName="A.B.T" />"#.into()],
            &[definition("1", "A.B", "T", "")],
        ));
        assert_eq!(cases[0].status, Errored);
    }

    #[test]
    fn definitions_give_classes_categories_and_properties_in_either_order() {
        let extra = r#"<TestCategory><TestCategoryItem TestCategory="cc6-1" /><TestCategoryItem TestCategory="smoke" /></TestCategory>
<Owners><Owner name="sec-team" /></Owners>
<Properties><Property><Key>control</Key><Value>CC6.1</Value></Property><Property><Key>  </Key><Value>x</Value></Property></Properties>"#;
        let results = [
            result("1", "Auth.TokenTests.Rejects", "Passed"),
            r#"<UnitTestResult testId="t2" testName="Other" outcome="Passed"><Output><StdOut>log
[[PROPERTY|soc2=CC6.6]]</StdOut></Output></UnitTestResult>"#
                .to_string(),
            result("9", "Undefined.Test", "Passed"),
        ];
        let defs = [
            definition(
                "1",
                "Auth.TokenTests, Auth, Version=1.0.0.0",
                "Rejects",
                extra,
            ),
            definition("2", "Auth.Other", "Other", ""),
        ];
        let after = run(&results, &defs);
        // TRX as MSTest wrote it (VS 2010): definitions first.
        let before = after.replace(
            &format!("<Results>\n{}\n  </Results>", results.join("\n")),
            "",
        );
        let before = before.replace(
            "</TestDefinitions>",
            &format!("</TestDefinitions><Results>{}</Results>", results.join("")),
        );
        for doc in [after, before] {
            let cases = ok(&doc);
            let ids: Vec<_> = cases
                .iter()
                .map(|c| (c.classname.as_str(), c.name.as_str()))
                .collect();
            assert_eq!(
                ids,
                [
                    ("Auth.TokenTests", "Rejects"),
                    ("Auth.Other", "Other"),
                    ("", "Undefined.Test")
                ]
            );
            let props: Vec<_> = cases[0]
                .properties
                .iter()
                .map(|p| (p.name.as_str(), p.value.as_str(), p.scope))
                .collect();
            assert_eq!(
                props,
                [
                    ("category", "cc6-1", PropertyScope::Case),
                    ("category", "smoke", PropertyScope::Case),
                    ("owner", "sec-team", PropertyScope::Case),
                    ("control", "CC6.1", PropertyScope::Case),
                ]
            );
            let markers: Vec<_> = cases[1]
                .properties
                .iter()
                .map(|p| (p.name.as_str(), p.value.as_str(), p.scope))
                .collect();
            assert_eq!(markers, [("soc2", "CC6.6", PropertyScope::SystemOut)]);
        }
    }

    #[test]
    fn a_test_keeps_its_first_properties_whether_defined_or_printed() {
        use crate::ingest::cases::MAX_CASE_PROPERTIES;
        // 200 properties in the definition and 200 markers in the output: 256 in all, the
        // definition's first, and the other 144 counted.
        let defined: String = (0..200)
            .map(|i| format!("<Property><Key>k{i}</Key><Value>v</Value></Property>"))
            .collect();
        let printed: String = (0..200).map(|i| format!("[[PROPERTY|m{i}=v]]\n")).collect();
        let result = format!(
            r#"<UnitTestResult testId="t1" testName="A.B.T" outcome="Passed"><Output><StdOut>{printed}</StdOut></Output></UnitTestResult>"#
        );
        let doc = run(
            &[result],
            &[definition(
                "1",
                "A.B",
                "T",
                &format!("<Properties>{defined}</Properties>"),
            )],
        );
        let mut cases = Vec::new();
        let summary = parse(doc.as_bytes(), 0, &mut |c| cases.push(c)).unwrap();
        let names: Vec<&str> = cases[0]
            .properties
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names.len(), MAX_CASE_PROPERTIES);
        assert_eq!((names[0], names[199], names[200]), ("k0", "k199", "m0"));
        assert_eq!(names[MAX_CASE_PROPERTIES - 1], "m55");
        assert_eq!(
            summary.case_properties_dropped,
            400 - MAX_CASE_PROPERTIES as u64
        );
    }

    #[test]
    fn results_join_their_test_by_execution_when_the_test_id_names_none() {
        // The 2006 schema links a result to its test through `UnitTest/Execution/@id`.
        let cases = ok(&run(
            &[
                r#"<UnitTestResult testId="other" executionId="e1" testName="A.B.T" outcome="Passed" />"#.into(),
                r#"<UnitTestResult testId="t2" executionId="e9" testName="A.C.U" outcome="Passed" />"#.into(),
                r#"<UnitTestResult testId="none" executionId="none" testName="A.D.V" outcome="Passed" />"#.into(),
            ],
            &[definition("1", "A.B", "T", ""), definition("2", "A.C", "U", "")],
        ));
        let ids: Vec<_> = cases
            .iter()
            .map(|c| (c.classname.as_str(), c.name.as_str()))
            .collect();
        assert_eq!(ids, [("A.B", "T"), ("A.C", "U"), ("", "A.D.V")]);
    }

    #[test]
    fn messages_stack_traces_and_durations() {
        let failed = r#"<UnitTestResult testId="t1" testName="A.B.T" outcome="Failed" startTime="2021-04-20T08:31:32.9750302+02:00" endTime="2021-04-20T08:31:34.2250302+02:00">
  <Output><ErrorInfo><Message>Assert.True() Failure&#xD;
Expected: True</Message><StackTrace>   at A.B.T() in C:\src\A\B.cs:line 67</StackTrace></ErrorInfo></Output>
</UnitTestResult>"#;
        let cases = ok(&run(
            &[
                failed.into(),
                r#"<UnitTestResult testId="t1" testName="A.B.T" outcome="Passed" duration="1.02:03:04.25" />"#.into(),
            ],
            &[definition("1", "A.B", "T", "")],
        ));
        assert_eq!(
            msg(&cases[0]),
            "Assert.True() Failure\r\nExpected: True\nat A.B.T() in C:\\src\\A\\B.cs:line 67"
        );
        let location = cases[0].location.as_ref().unwrap();
        assert_eq!(
            (location.file.as_str(), location.line),
            ("C:\\src\\A\\B.cs", 67)
        );
        assert!(
            (cases[0].duration_s - 1.25).abs() < 1e-6,
            "{}",
            cases[0].duration_s
        );
        assert_eq!(cases[1].duration_s, 93_784.25);
        assert_eq!(time_span("00:00:00.1084258"), Ok(Some(0.1084258)));
        assert_eq!(timestamp("1970-01-02T00:00:01Z"), Some(86_401.0));
        assert_eq!(
            timestamp("2000-03-01T00:00:00-01:00"),
            Some(951_868_800.0 + 3_600.0)
        );
    }

    /// A run aborted with only passing results read (the test host crashed) is one errored
    /// `(test run)` more, saying why; a failed run whose failures were read, or a completed
    /// one, adds nothing.
    #[test]
    fn a_run_that_did_not_complete_with_nothing_failing_read_is_an_errored_test() {
        let summary = |outcome: &str, infos: &str| {
            format!(
                r#"<ResultSummary outcome="{outcome}"><Counters total="5" executed="1" passed="1"/><RunInfos>{infos}</RunInfos></ResultSummary>"#
            )
        };
        let crash = r#"<RunInfo computerName="h" outcome="Warning"><Text>slow</Text></RunInfo><RunInfo computerName="h" outcome="Error" timestamp="t"><Text>The active test run was aborted. Reason: Test host process crashed</Text></RunInfo><RunInfo outcome="Error"><Text>second</Text></RunInfo>"#;
        let doc = |results: &[String], outcome: &str, infos: &str| {
            run(results, &[definition("t1", "A.B", "M", "")]).replace(
                "</TestRun>",
                &format!("{}</TestRun>", summary(outcome, infos)),
            )
        };
        let passed = [result("t1", "M", "Passed")];
        for outcome in [
            "Failed",
            "Error",
            "Aborted",
            "PassedButRunAborted",
            "failed",
        ] {
            let cases = ok(&doc(&passed, outcome, crash));
            assert_eq!(cases.len(), 2, "{outcome}");
            let run = &cases[1];
            assert_eq!(
                (run.name.as_str(), run.status),
                ("(test run)", CaseStatus::Errored)
            );
            assert_eq!(run.suite, "ci@host 2024-01-01 10:00:00");
            let message = run.message.as_ref().unwrap().text.as_str();
            assert!(
                message.contains(&format!("outcome is {}", outcome)),
                "{message}"
            );
            assert!(
                message.ends_with(
                    ": The active test run was aborted. Reason: Test host process crashed"
                ),
                "{message}"
            );
        }
        // No RunInfo text: the outcome alone.
        let cases = ok(&doc(&passed, "Aborted", ""));
        assert_eq!(cases[1].status, CaseStatus::Errored);
        assert!(
            cases[1]
                .message
                .as_ref()
                .unwrap()
                .text
                .ends_with("cut from the file)")
        );
        // Completed, yet its counters say results failed where none did: cut from the file.
        let cut = run(&passed, &[definition("t1", "A.B", "M", "")]).replace(
            "</TestRun>",
            r#"<ResultSummary outcome="Completed"><Counters total="3" executed="3" passed="1" failed="2" error="0"/></ResultSummary></TestRun>"#,
        );
        let cases = ok(&cut);
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[1].status, CaseStatus::Errored);
        assert!(
            cases[1]
                .message
                .as_ref()
                .unwrap()
                .text
                .contains("counters say 2 result(s) failed or erred"),
            "{:?}",
            cases[1].message
        );
        // Completed, or failed with its failure read: nothing more.
        for (results, outcome) in [
            (passed.to_vec(), "Completed"),
            (passed.to_vec(), "Warning"),
            (vec![result("t1", "M", "Failed")], "Failed"),
            (vec![result("t1", "M", "Timeout")], "Aborted"),
        ] {
            let cases = ok(&doc(&results, outcome, crash));
            assert_eq!(cases.len(), 1, "{outcome}");
        }
    }

    #[test]
    fn inner_results_are_the_tests_not_their_aggregate() {
        let data_driven = r#"<UnitTestResult testId="t1" testName="A.B.Rows" outcome="Failed" duration="00:00:02">
  <InnerResults>
    <UnitTestResult testId="t1" testName="Rows (Data Row 0)" outcome="Passed" duration="00:00:01" />
    <UnitTestResult testId="t1" testName="Rows (Data Row 1)" outcome="Failed" duration="00:00:01" />
  </InnerResults>
</UnitTestResult>"#;
        let cases = ok(&run(
            &[data_driven.into()],
            &[definition("1", "A.B", "Rows", "")],
        ));
        let got: Vec<_> = cases.iter().map(|c| (c.name.as_str(), c.status)).collect();
        assert_eq!(
            got,
            [
                ("Rows (Data Row 0)", CaseStatus::Passed),
                ("Rows (Data Row 1)", CaseStatus::Failed)
            ]
        );
    }

    #[test]
    fn malformed_documents_are_rejected_with_their_line() {
        let e = err("<TestRun>\n<Results>\n<UnitTestResult testId=\"1\" outcome=\"Passed\">\n");
        assert!(e.message.contains("truncated"), "{e}");
        assert!(e.message.contains("<UnitTestResult>"), "{e}");
        assert_eq!(e.location.line, Some(4));
        let e = err(
            "<TestRun>\n<TestDefinitions>\n<UnitTestResult testId=\"1\"/></TestDefinitions></TestRun>",
        );
        assert!(
            e.message
                .contains("<UnitTestResult> inside <TestDefinitions>"),
            "{e}"
        );
        assert_eq!(e.location.line, Some(3));
        let e = err(
            "<TestRun>\n<Results>\n<UnitTestResult testId=\"1\" testId=\"2\"/></Results></TestRun>",
        );
        assert!(e.message.contains("malformed attribute"), "{e}");
        assert_eq!(e.location.line, Some(3));
        let e =
            err("<TestRun><Results>\n<UnitTestResult outcome=\"Skipped\"/></Results></TestRun>");
        assert!(e.message.contains("not a TRX outcome"), "{e}");
        assert_eq!(e.location.line, Some(2));
        let e = err("<TestRun><Results><UnitTestResult duration=\"1.5s\"/></Results></TestRun>");
        assert!(
            e.message.contains("duration=\"1.5s\" is not a time span"),
            "{e}"
        );
        let e = err("<TestRun><Results><UnitTestResult name=\"a<b\"/></Results></TestRun>");
        assert!(e.message.contains("`<` in an attribute value"), "{e}");
        let e = err("<testsuites/>");
        assert!(
            e.message.contains("expected a <TestRun> root element"),
            "{e}"
        );
        let e = err("<TestRun/>trailing");
        assert!(e.message.contains("text after the root element"), "{e}");
    }

    #[test]
    fn entity_declarations_are_rejected() {
        let e = err(r#"<?xml version="1.0"?>
<!DOCTYPE TestRun [<!ENTITY xxe SYSTEM "https://evil.example/x">]>
<TestRun><Results><UnitTestResult testName="&xxe;"/></Results></TestRun>"#);
        assert!(e.message.contains("declares XML entities"), "{e}");
        assert_eq!(e.location.line, Some(2));
    }
}
