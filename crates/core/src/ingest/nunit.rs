//! Streaming NUnit XML reader: NUnit 3 (`<test-run>`, or a bare `<test-suite>` as some runners
//! write it) and NUnit 2 (`<test-results>`).
//!
//! One pass with the shared XML driver ([`xml::read`]: well-formedness, no entity-declaring
//! `<!DOCTYPE>`, bounded nesting, errors with their line); nothing but the test case being
//! built and the enclosing suites' names and properties is held in memory. Every `<test-case>`
//! element is one test, wherever it nests in `<test-suite>`s (and NUnit 2's `<results>`).
//!
//! The mapping follows EnricoMi/publish-unit-test-result-action's `nunit3-to-junit.xslt`
//! (which it applies to NUnit 2 and 3 alike), whose recorded answers are our conformance
//! oracle, except where noted:
//!
//! - `suite`: the innermost `<test-suite>`'s `fullname`, else its `classname`, else the names
//!   of its enclosing `TestSuite`/`Namespace` suites and its own, dotted (NUnit 2 has only
//!   names: `NUnit.Tests.Assemblies.MockTestFixture`).
//! - `classname` = `classname` (NUnit 3; NUnit 2 has none: empty, the fully qualified `name`
//!   identifies the test), `name` = `name`. No file or line: NUnit writes none; a location in
//!   the stack trace (`in C:\src\FooTests.cs:line 12`, Mono's `in /src/Foo.cs:12`) is kept for
//!   annotations.
//! - Status, from `result` (case-insensitive):
//!   - NUnit 3 `Passed` → passed; `Failed` → failed, whatever its `label` (`Error`, `Invalid`,
//!     `Cancelled`: NUnit itself counts them as failures, as do EnricoMi and NUnit's TRX
//!     adapter); `Skipped` (labels `Ignored`, `Explicit`) → skipped; `Inconclusive` → skipped;
//!     `Warning` → passed (NUnit's own summary does not count a warning as a failure).
//!   - NUnit 2 `Success` → passed; `Failure` → failed; `Error` → errored; `Ignored`,
//!     `NotRunnable`, `Skipped`, `Inconclusive` → skipped; `Cancelled` → failed.
//!   - Any other value is an error naming the expected ones. Without `result` (early NUnit 2):
//!     `success="False"` → failed, else passed.
//!   - Skipped besides: `executed="False"` and `runstate` `Skipped`/`Ignored`/`NotRunnable`,
//!     unless the test failed.
//!   - A `<failure>` child makes the test failed (errored when `result="Error"`), whatever the
//!     result says.
//!   - Differences from EnricoMi (none in its corpus): it decides failures by the `<failure>`
//!     element alone, so a `result="Failed"` or `success="False"` test without one counts as
//!     passed there; here it is failed.
//! - Message: `failure/message`, then `failure/stack-trace` on the next line; without a failure,
//!   `reason/message` (the skip, inconclusive or warning reason). Bounded like JUnit messages.
//! - Duration: `duration` (NUnit 3), else `time` (NUnit 2), in seconds.
//! - Properties: `<properties><property name= value=>` and NUnit 2's
//!   `<categories><category name=>` of the test case (scope `Case`) and of every enclosing
//!   suite (scope `Suite`, inherited as JUnit suite properties are). `Category` is said
//!   `category` (`[Category("cc6-1")]` → `category=cc6-1`). NUnit's own bookkeeping, names
//!   starting with `_` (`_PID`, `_APPDOMAIN`, `_SKIPREASON`), is not kept.
//!   `[[PROPERTY|name=value]]` lines in the test's `<output>` (scope `SystemOut`).
//! - A suite that failed (`result` `Failed`, `Failure`, `Error` or `Cancelled`) with no failed
//!   or errored test read inside it is one errored test more, `(SITE) NAME` (`(TearDown)
//!   LoginTests`; `(suite)` without a `site`), its message the suite's `failure/message`: a
//!   `OneTimeTearDown` failure, or a fixture that could not run. (A `OneTimeSetUp` failure is
//!   repeated on each test of the fixture by NUnit; a suite that failed for its tests' failures
//!   adds nothing, nor one failed for its parent's, `site="Parent"`.) EnricoMi does not count
//!   suite failures: such a run reads green there.
//! - The root likewise: a `<test-run result="Failed">` (or with `failed=`, NUnit 2
//!   `<test-results failures=/errors=>`, above 0) with no failed test or suite read in it is
//!   one errored `(test-run)` test.

use std::io::BufRead;

use crate::error::ParseError;
use crate::ingest::cases::CaseProperties;
use crate::ingest::cases::{self, MAX_STRING, Part, Parts, SuiteProperties, Texts};
use crate::ingest::results::Summary;
use crate::ingest::text::{self, Bounded};
use crate::ingest::xml::{self, Document, Element, checked_attributes};
use crate::model::{CaseStatus, Message, PropertyScope, TestCase};

/// Streams `reader`, calling `on_case` once per `<test-case>` (in document order). `input` is
/// stored in each case's `input` field.
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
        suites: Vec::new(),
        run_failed: false,
        failing_read: false,
        suite_props: SuiteProperties::default(),
        case: None,
        texts: Texts::default(),
    };
    xml::read_document(document, &mut state)?;
    let mut summary = state.summary;
    summary.suite_properties_dropped = state.suite_props.dropped;
    Ok(summary)
}

/// What an open element is, as far as NUnit is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `<test-run>` / `<test-results>`.
    Run,
    Suite,
    /// NUnit 2's `<results>`, between a suite and its children.
    Results,
    Case,
    Properties(PropertyScope),
    Categories(PropertyScope),
    Failure,
    Reason,
    /// `failure/message`, `failure/stack-trace` or `reason/message`.
    Part,
    Output,
    /// A suite's own `<failure>`, and its `<message>`.
    SuiteFailure,
    SuiteMessage,
    Other,
}

impl Kind {
    fn holds_tests(self) -> bool {
        matches!(self, Kind::Run | Kind::Suite | Kind::Results)
    }
}

struct SuiteFrame {
    name: String,
    /// `type="TestSuite"` or `"Namespace"`: its name is part of the dotted names of the suites
    /// it holds.
    namespace: bool,
    /// The suite's name as tests report it (see the module doc).
    label: String,
    /// Its `result` says it failed; `site` says where, when given.
    failed: bool,
    site: String,
    /// A failed or errored test was read inside it.
    failing_read: bool,
    /// Its own `failure/message`.
    message: Option<String>,
}

struct CaseBuilder {
    classname: String,
    name: String,
    duration_s: f64,
    /// The `result` attribute's status.
    result: Option<CaseStatus>,
    /// `success="False"`.
    unsuccessful: bool,
    /// The failure, the reason, the properties; `skipped` for `executed="False"` or a skipping
    /// `runstate`.
    parts: Parts,
}

struct State<'a> {
    input: usize,
    on_case: &'a mut dyn FnMut(TestCase),
    summary: Summary,
    stack: Vec<Kind>,
    suites: Vec<SuiteFrame>,
    suite_props: SuiteProperties,
    case: Option<CaseBuilder>,
    texts: Texts,
    /// The root `<test-run>` says the run failed (`result`, NUnit 3) or counted failures
    /// (`failures=`/`errors=`, NUnit 2 `<test-results>`).
    run_failed: bool,
    /// A failed or errored test was handed on (a suite's own included).
    failing_read: bool,
}

/// Whether a `result` value says failed.
fn failed_result(raw: &[u8]) -> bool {
    let r = text::clean_attr(raw);
    ["Failed", "Failure", "Error", "Cancelled"]
        .iter()
        .any(|f| r.trim().eq_ignore_ascii_case(f))
}

impl xml::Handler for State<'_> {
    const FORMAT: &'static str = "NUnit XML";
    const ROOTS: &'static str =
        "a <test-run> (NUnit 3), <test-results> (NUnit 2) or <test-suite> root element";

    fn is_root(local: &[u8]) -> bool {
        matches!(local, b"test-run" | b"test-results" | b"test-suite")
    }

    fn start(&mut self, e: &Element<'_>) -> Result<bool, String> {
        let local = e.local_name();
        let parent = self.stack.last().copied();
        let mut checked = false;
        let kind = match (parent, local) {
            (None, b"test-suite") => {
                checked = true;
                self.open_suite(e)?
            }
            (None, _) => {
                checked = true;
                for attr in checked_attributes(e) {
                    let attr = attr?;
                    if xml::local(attr.key.as_ref()) == b"result" {
                        self.run_failed |= failed_result(&attr.value);
                    }
                }
                self.run_failed |= xml::counts(e, &[b"failed", b"failures", b"errors"])? > 0;
                Kind::Run
            }
            (Some(p), b"test-suite") if p.holds_tests() => {
                checked = true;
                self.open_suite(e)?
            }
            (Some(p), b"test-case") if p.holds_tests() => {
                checked = true;
                self.open_case(e)?
            }
            (Some(_), b"test-suite" | b"test-case") => {
                return Err(format!(
                    "<{}> inside {}: NUnit XML nests test cases and suites only in <test-run>, \
                     <test-results>, <test-suite> or <results>",
                    String::from_utf8_lossy(local),
                    self.open_element()
                ));
            }
            (Some(Kind::Suite), b"results") => Kind::Results,
            (Some(Kind::Suite), b"properties") => Kind::Properties(PropertyScope::Suite),
            (Some(Kind::Case), b"properties") => Kind::Properties(PropertyScope::Case),
            (Some(Kind::Suite), b"categories") => Kind::Categories(PropertyScope::Suite),
            (Some(Kind::Case), b"categories") => Kind::Categories(PropertyScope::Case),
            (Some(Kind::Properties(scope)), b"property") => {
                checked = true;
                self.add_property(e, scope, false)?;
                Kind::Other
            }
            (Some(Kind::Categories(scope)), b"category") => {
                checked = true;
                self.add_property(e, scope, true)?;
                Kind::Other
            }
            (Some(Kind::Case), b"failure") => {
                if let Some(case) = self.case.as_mut() {
                    case.parts.failed = true;
                }
                Kind::Failure
            }
            (Some(Kind::Case), b"reason") => Kind::Reason,
            (Some(Kind::Failure), b"message") => self.begin(Part::Message),
            (Some(Kind::Failure), b"stack-trace") => self.begin(Part::Trace),
            (Some(Kind::Reason), b"message") => self.begin(Part::Reason),
            (Some(Kind::Case), b"output") => {
                self.texts.begin_output();
                Kind::Output
            }
            (Some(Kind::Suite), b"failure") => Kind::SuiteFailure,
            (Some(Kind::SuiteFailure), b"message") => {
                self.texts.begin_value(MAX_STRING);
                Kind::SuiteMessage
            }
            _ => Kind::Other,
        };
        self.stack.push(kind);
        Ok(checked)
    }

    fn end(&mut self) -> Result<(), String> {
        let Some(kind) = self.stack.pop() else {
            return Ok(());
        };
        match kind {
            Kind::Suite => {
                self.close_failed_suite();
                let failing = self.suites.pop().is_some_and(|s| s.failing_read);
                if let Some(outer) = self.suites.last_mut() {
                    outer.failing_read |= failing;
                }
                self.suite_props.close();
            }
            Kind::SuiteMessage => {
                let text = self.texts.take_trimmed();
                if let Some(suite) = self.suites.last_mut()
                    && suite.message.is_none()
                    && !text.is_empty()
                {
                    suite.message = Some(text);
                }
            }
            Kind::Case => self.close_case(),
            Kind::Part | Kind::Output => self.texts.end(self.case.as_mut().map(|c| &mut c.parts)),
            Kind::Run if self.stack.is_empty() => self.close_failed_run(),
            _ => {}
        }
        Ok(())
    }

    fn texts(&mut self) -> (&mut Texts, Option<&mut CaseProperties>) {
        (
            &mut self.texts,
            self.case.as_mut().map(|c| &mut c.parts.properties),
        )
    }

    fn open_element(&self) -> &'static str {
        match self.stack.last() {
            Some(Kind::Run) => "the root element",
            Some(Kind::Suite) => "<test-suite>",
            Some(Kind::Results) => "<results>",
            Some(Kind::Case) => "<test-case>",
            Some(Kind::Properties(_)) => "<properties>",
            Some(Kind::Categories(_)) => "<categories>",
            Some(Kind::Failure) => "<failure>",
            Some(Kind::Reason) => "<reason>",
            Some(Kind::Part) => "<message> or <stack-trace>",
            Some(Kind::Output) => "<output>",
            Some(Kind::SuiteFailure) => "<failure>",
            Some(Kind::SuiteMessage) => "<message>",
            Some(Kind::Other) | None => "an element",
        }
    }
}

impl State<'_> {
    fn begin(&mut self, part: Part) -> Kind {
        self.texts.begin(part);
        Kind::Part
    }

    fn open_suite(&mut self, e: &Element<'_>) -> Result<Kind, String> {
        self.summary.suites += 1;
        let (mut name, mut fullname, mut classname, mut namespace) =
            (String::new(), None, None, false);
        let (mut failed, mut site) = (false, String::new());
        for attr in checked_attributes(e) {
            let attr = attr?;
            match xml::local(attr.key.as_ref()) {
                b"name" => name = text::attr_string(&attr.value, MAX_STRING),
                b"fullname" => fullname = Some(text::attr_string(&attr.value, MAX_STRING)),
                b"classname" => classname = Some(text::attr_string(&attr.value, MAX_STRING)),
                b"type" => {
                    let t = text::clean_attr(&attr.value);
                    namespace = matches!(t.trim(), "TestSuite" | "Namespace");
                }
                b"result" => failed = failed_result(&attr.value),
                b"site" => site = text::attr_string(&attr.value, MAX_STRING),
                _ => {}
            }
        }
        let label = match fullname.or(classname) {
            Some(label) => label,
            None => {
                let mut label = Bounded::new(MAX_STRING);
                for outer in self.suites.iter().filter(|s| s.namespace) {
                    label.push_str(&outer.name);
                    label.push_str(".");
                }
                label.push_str(&name);
                label.text
            }
        };
        self.suites.push(SuiteFrame {
            name,
            namespace,
            label,
            failed,
            site,
            failing_read: false,
            message: None,
        });
        self.suite_props.open();
        Ok(Kind::Suite)
    }

    fn open_case(&mut self, e: &Element<'_>) -> Result<Kind, String> {
        let mut case = CaseBuilder {
            classname: String::new(),
            name: String::new(),
            duration_s: 0.0,
            result: None,
            unsuccessful: false,
            parts: Parts::default(),
        };
        let (mut duration, mut time) = (None, None);
        for attr in checked_attributes(e) {
            let attr = attr?;
            let value = &attr.value;
            let is = |word: &str| text::clean_attr(value).trim().eq_ignore_ascii_case(word);
            match xml::local(attr.key.as_ref()) {
                b"name" => case.name = text::attr_string(value, MAX_STRING),
                b"classname" => case.classname = text::attr_string(value, MAX_STRING),
                b"result" => case.result = result_status(&text::clean_attr(value))?,
                b"executed" => case.parts.skipped |= is("false"),
                b"runstate" => {
                    case.parts.skipped |= is("skipped") || is("ignored") || is("notrunnable")
                }
                b"success" => case.unsuccessful = is("false"),
                b"duration" => duration = Some(seconds("duration", value)?),
                b"time" => time = Some(seconds("time", value)?),
                _ => {}
            }
        }
        case.duration_s = duration.or(time).unwrap_or(0.0);
        self.case = Some(case);
        Ok(Kind::Case)
    }

    /// `<property name= value=>`, or `<category name=>` (`category`, its name the value).
    fn add_property(
        &mut self,
        e: &Element<'_>,
        scope: PropertyScope,
        category: bool,
    ) -> Result<(), String> {
        let (mut name, mut value) = (String::new(), String::new());
        for attr in checked_attributes(e) {
            let attr = attr?;
            match (xml::local(attr.key.as_ref()), category) {
                (b"name", false) => name = text::attr_string(&attr.value, MAX_STRING),
                (b"value", false) | (b"name", true) => {
                    value = text::attr_string(&attr.value, MAX_STRING)
                }
                _ => {}
            }
        }
        if category {
            name = "category".to_owned();
        }
        if name.is_empty() {
            return Ok(());
        }
        let internal = name.starts_with('_');
        let property = cases::property(name, value, scope);
        match scope {
            PropertyScope::Suite => self.suite_props.add(property, internal),
            _ => {
                if let (Some(case), false) = (self.case.as_mut(), internal) {
                    case.parts.properties.push(property);
                }
            }
        }
        Ok(())
    }

    /// Ends the root: a run that says it failed with nothing failing read in it is one errored
    /// `(test-run)` test (its failing tests were cut from the file, or it failed outside them).
    fn close_failed_run(&mut self) {
        if !self.run_failed || self.failing_read {
            return;
        }
        self.failing_read = true;
        self.summary.cases += 1;
        (self.on_case)(TestCase::outside_any_test(
            String::new(),
            "(test-run)".into(),
            Message::bounded(
                "the test run says it failed, but no failed test or suite is in the report: its \
                 failing tests were cut from it, or the run failed outside them",
            ),
            self.input,
        ));
    }

    /// The errored test of the innermost suite, when it failed with no failing test read in
    /// it (see the module doc).
    fn close_failed_suite(&mut self) {
        let Some(suite) = self.suites.last_mut() else {
            return;
        };
        // `site="Parent"`: its parent's failure, reported on the parent's own tests.
        if !suite.failed || suite.failing_read || suite.site.trim().eq_ignore_ascii_case("Parent") {
            return;
        }
        suite.failing_read = true;
        self.failing_read = true;
        let site = match suite.site.trim() {
            "" => "suite",
            site => site,
        };
        let name = format!("({site}) {}", suite.name).trim_end().to_owned();
        let message = Message::bounded(suite.message.as_deref().unwrap_or(
            "the suite failed with no failing test in it (a one-time setup or teardown, or a \
             fixture that could not run)",
        ));
        let suite_label = suite.label.clone();
        self.summary.cases += 1;
        (self.on_case)(TestCase::outside_any_test(
            suite_label,
            name,
            message,
            self.input,
        ));
    }

    fn close_case(&mut self) {
        let Some(case) = self.case.take() else { return };
        self.summary.cases += 1;
        let reported = match case.result {
            Some(status) => status,
            None if case.unsuccessful => CaseStatus::Failed,
            None => CaseStatus::Passed,
        };
        let status = case.parts.status(reported);
        if matches!(status, CaseStatus::Failed | CaseStatus::Errored) {
            self.failing_read = true;
        }
        if matches!(status, CaseStatus::Failed | CaseStatus::Errored)
            && let Some(suite) = self.suites.last_mut()
        {
            suite.failing_read = true;
        }
        let (message, location) = case.parts.message();
        let mut properties = case.parts.properties.kept(&mut self.summary);
        self.suite_props.inherit(&mut properties);
        (self.on_case)(TestCase {
            suite: self
                .suites
                .last()
                .map(|s| s.label.clone())
                .unwrap_or_default(),
            classname: case.classname,
            name: case.name,
            file: None,
            line: None,
            location,
            status,
            flaky: false,
            duration_s: case.duration_s,
            message,
            properties,
            input: self.input,
            runs: 1,
        });
    }
}

/// A duration attribute in seconds (see [`text::parse_time`]).
fn seconds(attr: &str, raw: &[u8]) -> Result<f64, String> {
    text::parse_time(&text::clean_attr(raw))
        .map_err(|m| m.replacen("time=", &format!("{attr}="), 1))
}

/// A `result` attribute, NUnit 3 or NUnit 2 (see the module doc). Empty: no result.
fn result_status(raw: &str) -> Result<Option<CaseStatus>, String> {
    let value = raw.trim();
    let is = |word: &str| value.eq_ignore_ascii_case(word);
    Ok(Some(if value.is_empty() {
        return Ok(None);
    } else if is("Passed") || is("Success") || is("Warning") {
        CaseStatus::Passed
    } else if is("Failed") || is("Failure") || is("Cancelled") {
        CaseStatus::Failed
    } else if is("Error") {
        CaseStatus::Errored
    } else if ["Skipped", "Ignored", "Inconclusive", "NotRunnable"]
        .iter()
        .any(|w| is(w))
    {
        CaseStatus::Skipped
    } else {
        return Err(format!(
            "result=\"{}\" of <test-case> is not an NUnit result: expected Passed, Failed, \
             Skipped, Inconclusive or Warning (NUnit 3), or Success, Failure, Error, Ignored, \
             NotRunnable, Inconclusive, Skipped or Cancelled (NUnit 2)",
            xml::shown(value.as_bytes())
        ));
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PropertyScope::{Case, Suite};

    use crate::ingest::cases::testing::{self, msg};

    fn parse_str(xml: &str) -> Result<(Vec<TestCase>, Summary), ParseError> {
        testing::parse(|x, i, f| parse(x, i, f), xml)
    }

    fn ok(xml: &str) -> Vec<TestCase> {
        testing::ok(|x, i, f| parse(x, i, f), xml)
    }

    fn err(xml: &str) -> ParseError {
        testing::err(|x, i, f| parse(x, i, f), xml)
    }

    fn props(case: &TestCase) -> Vec<(&str, &str, PropertyScope)> {
        case.properties
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str(), p.scope))
            .collect()
    }

    const NUNIT3: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<test-run id="2" testcasecount="8" result="Failed">
  <command-line><![CDATA[nunit3-console Auth.Tests.dll]]></command-line>
  <test-suite type="Assembly" name="Auth.Tests.dll" fullname="/ci/Auth.Tests.dll">
    <properties><property name="_PID" value="1"/><property name="Category" value="cc8-1"/></properties>
    <test-suite type="TestFixture" name="LoginTests" fullname="Auth.Tests.LoginTests" classname="Auth.Tests.LoginTests">
      <properties><property name="Category" value="cc6-1"/><property name="owner" value="team-a"/></properties>
      <test-case id="1" name="Rejects_expired_token" fullname="Auth.Tests.LoginTests.Rejects_expired_token" methodname="Rejects_expired_token" classname="Auth.Tests.LoginTests" runstate="Runnable" result="Passed" duration="0.25">
        <properties><property name="Category" value="smoke"/><property name="control" value="CC6.1"/><property name="_JOINTYPE" value="x"/></properties>
        <output><![CDATA[log line
[[PROPERTY|soc2=CC6.6]]
]]></output>
      </test-case>
      <test-case id="2" name="Fails" classname="Auth.Tests.LoginTests" result="Failed" label="Error" duration="1,5">
        <failure>
          <message><![CDATA[System.NullReferenceException : Object reference not set]]></message>
          <stack-trace><![CDATA[   at Auth.Tests.LoginTests.Fails() in C:\src\Auth.Tests\LoginTests.cs:line 42]]></stack-trace>
        </failure>
      </test-case>
      <test-case id="3" name="Ignored" classname="Auth.Tests.LoginTests" runstate="Ignored" result="Skipped" label="Ignored">
        <reason><message><![CDATA[not yet]]></message></reason>
      </test-case>
      <test-case id="4" name="Maybe" classname="Auth.Tests.LoginTests" result="Inconclusive"/>
      <test-case id="5" name="Warns" classname="Auth.Tests.LoginTests" result="Warning">
        <reason><message>careful &amp; slow</message></reason>
      </test-case>
      <test-case id="6" name="Invalid" classname="Auth.Tests.LoginTests" runstate="NotRunnable" result="Failed" label="Invalid">
        <failure><message>No arguments were provided</message></failure>
      </test-case>
      <test-case id="7" name="Cancelled" classname="Auth.Tests.LoginTests" result="Failed" label="Cancelled"/>
    </test-suite>
    <test-case id="8" name="Loose" classname="Auth.Tests.Loose" result="Passed"/>
  </test-suite>
</test-run>"#;

    #[test]
    fn nunit3_outcomes_messages_and_durations() {
        use CaseStatus::*;
        let cases = ok(NUNIT3);
        let got: Vec<_> = cases.iter().map(|c| (c.name.as_str(), c.status)).collect();
        assert_eq!(
            got,
            [
                ("Rejects_expired_token", Passed),
                ("Fails", Failed),
                ("Ignored", Skipped),
                ("Maybe", Skipped),
                ("Warns", Passed),
                ("Invalid", Failed),
                ("Cancelled", Failed),
                ("Loose", Passed),
            ]
        );
        assert_eq!(cases[0].suite, "Auth.Tests.LoginTests");
        assert_eq!(cases[0].classname, "Auth.Tests.LoginTests");
        assert_eq!(cases[7].suite, "/ci/Auth.Tests.dll");
        assert_eq!((cases[0].duration_s, cases[1].duration_s), (0.25, 1.5));
        assert_eq!(
            msg(&cases[1]),
            "System.NullReferenceException : Object reference not set\n   at \
             Auth.Tests.LoginTests.Fails() in C:\\src\\Auth.Tests\\LoginTests.cs:line 42"
                .replace("\n   at", "\nat")
        );
        let location = cases[1].location.as_ref().unwrap();
        assert_eq!(
            (location.file.as_str(), location.line),
            ("C:\\src\\Auth.Tests\\LoginTests.cs", 42)
        );
        assert_eq!((cases[1].file.as_deref(), cases[1].line), (None, None));
        assert_eq!(msg(&cases[2]), "not yet");
        assert_eq!(msg(&cases[4]), "careful & slow");
        assert_eq!(msg(&cases[5]), "No arguments were provided");
        assert!(cases.iter().all(|c| !c.flaky));
    }

    #[test]
    fn nunit3_properties_categories_and_output_markers() {
        let cases = ok(NUNIT3);
        assert_eq!(
            props(&cases[0]),
            [
                ("category", "smoke", Case),
                ("control", "CC6.1", Case),
                ("soc2", "CC6.6", PropertyScope::SystemOut),
                ("category", "cc8-1", Suite),
                ("category", "cc6-1", Suite),
                ("owner", "team-a", Suite),
            ]
        );
        // The fixture's properties end with the fixture; the assembly's stay.
        assert_eq!(props(&cases[7]), [("category", "cc8-1", Suite)]);
        let (_, summary) = parse_str(NUNIT3).unwrap();
        // `_PID` is NUnit's own: passed over, not counted as lost.
        assert_eq!((summary.suites, summary.suite_properties_dropped), (2, 0));
    }

    /// A run that says it failed with nothing failing in it: one errored `(test-run)`; a run
    /// whose failure is read, or that passed, adds nothing.
    #[test]
    fn a_failed_run_with_no_failure_in_it_is_an_errored_test() {
        let case = r#"<test-suite type="TestFixture" name="T" fullname="N.T" result="Passed"><test-case id="1" name="A" fullname="N.T.A" classname="N.T" result="Passed"/></test-suite>"#;
        for (root, extra) in [
            (
                r#"<test-run result="Failed" total="3" passed="1" failed="2">"#,
                1,
            ),
            (r#"<test-run result="Passed" failed="2">"#, 1),
            (r#"<test-results total="4" failures="1">"#, 1),
            (r#"<test-run result="Passed" failed="0">"#, 0),
        ] {
            let close = if root.starts_with("<test-run") {
                "</test-run>"
            } else {
                "</test-results>"
            };
            let cases = ok(&format!("{root}{case}{close}"));
            assert_eq!(cases.len(), 1 + extra, "{root}");
            if extra == 1 {
                assert_eq!(
                    (cases[1].name.as_str(), cases[1].status),
                    ("(test-run)", CaseStatus::Errored)
                );
            }
        }
        let failing = r#"<test-run result="Failed"><test-suite type="TestFixture" name="T" fullname="N.T" result="Failed"><test-case id="1" name="A" fullname="N.T.A" classname="N.T" result="Failed"/></test-suite></test-run>"#;
        assert_eq!(ok(failing).len(), 1);
    }

    /// A suite that failed with no failing test in it (a `OneTimeTearDown`, a fixture that
    /// could not run) is an errored test; one that failed for its tests adds nothing, nor do
    /// its enclosing suites.
    #[test]
    fn a_suite_failing_with_no_failing_test_is_an_errored_test() {
        let cases = ok(r#"<test-run result="Failed">
  <test-suite type="Assembly" name="A.dll" fullname="/ci/A.dll" result="Failed" site="Child">
    <test-suite type="TestFixture" name="Down" fullname="A.Down" result="Failed" label="Error" site="TearDown">
      <failure><message><![CDATA[OneTimeTearDown: cleanup failed]]></message><stack-trace>at A.Down.Tear()</stack-trace></failure>
      <test-case name="T1" classname="A.Down" result="Passed"/>
    </test-suite>
    <test-suite type="TestFixture" name="Broken" fullname="A.Broken" result="Failed" label="Invalid">
      <test-suite type="ParameterizedMethod" name="P" fullname="A.Broken.P" result="Failed" site="Parent"/>
    </test-suite>
    <test-suite type="TestFixture" name="Red" fullname="A.Red" result="Failed" site="Child">
      <test-case name="T2" classname="A.Red" result="Failed"><failure><message>no</message></failure></test-case>
    </test-suite>
  </test-suite>
</test-run>"#);
        let got: Vec<_> = cases
            .iter()
            .map(|c| (c.suite.as_str(), c.name.as_str(), c.status))
            .collect();
        use CaseStatus::*;
        assert_eq!(
            got,
            [
                ("A.Down", "T1", Passed),
                ("A.Down", "(TearDown) Down", Errored),
                ("A.Broken", "(suite) Broken", Errored),
                ("A.Red", "T2", Failed),
            ]
        );
        assert_eq!(msg(&cases[1]), "OneTimeTearDown: cleanup failed");
        assert!(msg(&cases[2]).contains("no failing test in it"));
        // NUnit 2: a failed suite whose tests all passed.
        let cases = ok(
            r#"<test-results><test-suite type="TestFixture" name="F" result="Failure" success="False"><results>
  <test-case name="N.F.T" result="Success" success="True"/></results></test-suite></test-results>"#,
        );
        assert_eq!(cases.len(), 2);
        assert_eq!(
            (cases[1].name.as_str(), cases[1].status),
            ("(suite) F", Errored)
        );
    }

    #[test]
    fn nunit2_outcomes_categories_and_dotted_suites() {
        use CaseStatus::*;
        let cases = ok(r#"<test-results name="T.dll" total="7">
  <test-suite type="Assembly" name="/ci/T.dll"><results>
    <test-suite type="Namespace" name="Acme"><results>
      <test-suite type="TestFixture" name="AuthTests">
        <categories><category name="cc6-1"/></categories>
        <properties><property name="owner" value="sec"/></properties>
        <results>
          <test-case name="Acme.AuthTests.Pass" executed="True" result="Success" success="True" time="0.013">
            <categories><category name="smoke"/></categories>
          </test-case>
          <test-case name="Acme.AuthTests.Fail" executed="True" result="Failure" success="False" time="0.001">
            <failure><message><![CDATA[Expected: 30
  But was:  20]]></message><stack-trace><![CDATA[at Acme.AuthTests.Fail () [0x00000] in /src/AuthTests.cs:21]]></stack-trace></failure>
          </test-case>
          <test-case name="Acme.AuthTests.Throws" executed="True" result="Error" success="False">
            <failure><message>boom</message></failure>
          </test-case>
          <test-case name="Acme.AuthTests.Ignored" executed="False" result="Ignored"><reason><message>later</message></reason></test-case>
          <test-case name="Acme.AuthTests.NotRun" executed="false"/>
          <test-case name="Acme.AuthTests.Old" executed="True" success="False"/>
          <test-case name="Acme.AuthTests.Typo" executed="True" success="Turue"/>
        </results>
      </test-suite>
    </results></test-suite>
  </results></test-suite>
</test-results>"#);
        let got: Vec<_> = cases.iter().map(|c| (c.name.as_str(), c.status)).collect();
        assert_eq!(
            got,
            [
                ("Acme.AuthTests.Pass", Passed),
                ("Acme.AuthTests.Fail", Failed),
                ("Acme.AuthTests.Throws", Errored),
                ("Acme.AuthTests.Ignored", Skipped),
                ("Acme.AuthTests.NotRun", Skipped),
                ("Acme.AuthTests.Old", Failed),
                ("Acme.AuthTests.Typo", Passed),
            ]
        );
        assert!(cases.iter().all(|c| c.classname.is_empty()));
        assert_eq!(cases[0].suite, "Acme.AuthTests");
        assert_eq!(cases[0].duration_s, 0.013);
        assert_eq!(
            props(&cases[0]),
            [
                ("category", "smoke", Case),
                ("category", "cc6-1", Suite),
                ("owner", "sec", Suite)
            ]
        );
        assert_eq!(
            msg(&cases[1]),
            "Expected: 30\n  But was:  20\nat Acme.AuthTests.Fail () [0x00000] in /src/AuthTests.cs:21"
        );
        let location = cases[1].location.as_ref().unwrap();
        assert_eq!(
            (location.file.as_str(), location.line),
            ("/src/AuthTests.cs", 21)
        );
        assert_eq!(msg(&cases[3]), "later");
    }

    #[test]
    fn malformed_documents_are_rejected_with_their_line() {
        let e =
            err("<test-run>\n<test-suite name=\"s\">\n<test-case name=\"a\" result=\"Passed\"/>\n");
        assert!(e.message.contains("truncated"), "{e}");
        assert!(e.message.contains("<test-suite>"), "{e}");
        assert_eq!(e.location.line, Some(4));
        let e = err(
            "<test-run>\n<test-case name=\"a\">\n<test-case name=\"b\"/></test-case></test-run>",
        );
        assert!(e.message.contains("<test-case> inside <test-case>"), "{e}");
        assert_eq!(e.location.line, Some(3));
        let e = err(
            "<test-run>\n<test-case name=\"a\" result=\"Passed\" result=\"Failed\"/></test-run>",
        );
        assert!(e.message.contains("malformed attribute"), "{e}");
        assert_eq!(e.location.line, Some(2));
        let e = err("<test-run>\n\n<test-case name=\"a\" result=\"Timeout\"/></test-run>");
        assert!(e.message.contains("expected Passed, Failed"), "{e}");
        assert_eq!(e.location.line, Some(3));
        let e = err("<test-run><test-case name=\"a\" duration=\"fast\"/></test-run>");
        assert!(
            e.message.contains("duration=\"fast\" is not a number"),
            "{e}"
        );
        let e = err("<testsuites/>");
        assert!(e.message.contains("expected a <test-run>"), "{e}");
        let e = err("");
        assert!(e.message.contains("empty input"), "{e}");
        let e = err("<test-run><test-case name=\"a & b\"/></test-run>");
        assert!(e.message.contains("bare `&`"), "{e}");
    }

    #[test]
    fn entity_declarations_are_rejected() {
        let e = err(r#"<?xml version="1.0"?>
<!DOCTYPE test-results [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<test-results><test-suite name="&xxe;"/></test-results>"#);
        assert!(e.message.contains("declares XML entities"), "{e}");
        assert_eq!(e.location.line, Some(2));
    }
}
