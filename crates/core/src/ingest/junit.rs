//! Streaming JUnit XML reader.
//!
//! One pass over the document: a file's bytes in place ([`parse_bytes_into`], events borrowed
//! from a mapping, nothing copied), or a stream through one reused buffer ([`parse_into`]);
//! nothing but the testcase being built (and the enclosing suites' names and properties) is
//! kept. Dialect rules (see `docs`/field notes "JUnit XML: one name, many dialects"):
//!
//! - Root `<testsuites>` or a bare `<testsuite>`; suites nest; every `<testcase>` element is
//!   counted (one wrapped in an element no dialect has, inside a suite, too), suite `tests=`
//!   attributes are ignored. `TestCase::suite` = innermost suite name.
//! - A suite that says it failed where its testcases do not — its `failures=` plus `errors=`
//!   more than the failed and errored testcases read in it (nested suites included), or an
//!   `<error>`/`<failure>` of its own (an error outside any test) — is one errored test more,
//!   `(suite)`, its message that element's or the counts. Its testcases were cut from the
//!   report, or something failed outside them; reading it green would trust the part that
//!   passed. (EnricoMi counts such a suite's attributes only when it holds no testcase.) The
//!   root `<testsuites>` likewise: counts above what its suites show are one errored
//!   `(testsuites)` test.
//! - Several result elements on one testcase: the most severe wins
//!   (`error` > `rerunError` > `failure` > `rerunFailure` > `skipped` > `flakyFailure`/`flakyError`).
//!   Surefire `flakyFailure`/`flakyError` leave the case passed with `flaky = true` (their message
//!   is kept when nothing more severe exists); `rerunFailure` → failed, `rerunError` → errored.
//! - Message = `message` attribute, plus the element text when it adds something, bounded to
//!   [`Message::KEPT`] bytes with the original length recorded (cut to [`Message::LIMIT`] once
//!   redacted).
//! - `file`/`line` attributes, else the first source location in the winning element's text
//!   (see [`location`]).
//! - Properties: testcase `<properties>` (scope `Case`), suite `<properties>` inherited by every
//!   testcase of the suite and its nested suites (scope `Suite`; only properties that appear
//!   before the testcase, as every known emitter writes them), `[[PROPERTY|name=value]]` lines in
//!   the testcase's `<system-out>` (scope `SystemOut`). Other `system-out`/`system-err` text is
//!   not kept.
//!
//! Robustness (the XML rules are [`xml::read`]'s, shared with the TRX, NUnit and xUnit.net
//! readers): a leading BOM is skipped; invalid XML characters are dropped; undefined entities
//! are errors, never expanded; a `<!DOCTYPE>` declaring entities is rejected (entity expansion
//! attacks); nesting deeper than [`MAX_DEPTH`] is rejected; strings we keep are bounded
//! ([`MAX_STRING`], messages [`Message::LIMIT`]). Errors carry the line where the problem was
//! detected (newlines are counted as bytes are consumed) and the byte offset.

use std::borrow::Cow;
use std::io::BufRead;
use std::ops::Range;

use crate::error::ParseError;
use crate::ingest::batch::{CaseSink, Field, RawStrings};
use crate::ingest::cases::CaseProperties;
use crate::ingest::cases::{self, LOCATION_SCAN, SuiteProperties, Texts};
use crate::ingest::results::Summary;
use crate::ingest::text::{self, Bounded};
use crate::ingest::xml::{self, Document, Element, checked_attributes};
use crate::model::{CaseStatus, Message, PropertyScope, RawProperty, SourceLocation, TestCase};

pub use crate::ingest::cases::{
    MAX_CASE_PROPERTIES, MAX_STRING, MAX_SUITE_PROPERTIES, MAX_SUITE_PROPERTY_VALUE,
};
pub use crate::ingest::location::find_location;
pub use crate::ingest::xml::{MAX_DEPTH, PROGRESS_EVERY, READ_BLOCK};

/// Streams `reader`, calling `on_case` once per `<testcase>` (in document order) with the
/// testcase's merged result. `input` is stored in each case's `input` field.
pub fn parse(
    reader: impl BufRead,
    input: usize,
    mut on_case: &mut dyn FnMut(TestCase),
) -> Result<Summary, ParseError> {
    parse_into(reader, input, &mut on_case)
}

/// [`parse`], handing each case to `sink` with its strings raw ([`CaseSink::raw_case`]): the
/// sink decodes them, now or on another thread.
pub fn parse_into(
    reader: impl BufRead,
    input: usize,
    sink: &mut dyn CaseSink,
) -> Result<Summary, ParseError> {
    parse_document(Document::Stream(reader), input, sink)
}

/// [`parse_into`] over a document in memory: see [`xml::read_bytes`] (same answers and errors;
/// `done_before` hears how far the reader has got).
pub fn parse_bytes_into(
    bytes: &[u8],
    input: usize,
    sink: &mut dyn CaseSink,
    done_before: &mut dyn FnMut(usize),
) -> Result<Summary, ParseError> {
    let document: Document<'_, &[u8]> = Document::InPlace { bytes, done_before };
    parse_document(document, input, sink)
}

fn parse_document(
    document: Document<'_, impl BufRead>,
    input: usize,
    sink: &mut dyn CaseSink,
) -> Result<Summary, ParseError> {
    let mut state = State::new(input, sink);
    xml::read_document(document, &mut state)?;
    let mut summary = state.summary;
    summary.suite_properties_dropped = state.suite_props.dropped;
    Ok(summary)
}

/// What an open element is, as far as JUnit is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Suites,
    Suite,
    Case,
    Properties(PropertyScope),
    Property(PropertyScope),
    Result,
    CaseSystemOut,
    Other,
}

/// Result elements by severity rank (higher wins; equal rank → the first one wins).
fn result_rank(local: &[u8]) -> Option<u8> {
    Some(match local {
        b"flakyFailure" | b"flakyError" => 1,
        b"skipped" => 2,
        b"rerunFailure" => 3,
        b"failure" => 4,
        b"rerunError" => 5,
        b"error" => 6,
        _ => return None,
    })
}

/// A testcase's status from its most severe result element (`rank`), else its attributes.
fn case_status(rank: u8, skipped_by_attr: bool) -> CaseStatus {
    if rank == 0 && skipped_by_attr {
        CaseStatus::Skipped
    } else {
        rank_status(rank)
    }
}

fn rank_status(rank: u8) -> CaseStatus {
    match rank {
        0 | 1 => CaseStatus::Passed,
        2 => CaseStatus::Skipped,
        3 | 4 => CaseStatus::Failed,
        _ => CaseStatus::Errored,
    }
}

/// Name prefixes of the JVM/Surefire system properties Surefire dumps into every suite; they
/// are not copied onto testcases (a large Java report would otherwise multiply them by the
/// number of tests).
const SYSTEM_PROPERTY_PREFIXES: &[&str] = &[
    "java.",
    "javax.",
    "jdk.",
    "sun.",
    "os.",
    "user.",
    "file.",
    "line.",
    "path.",
    "awt.",
    "jna.",
    "native.",
    "stdout.",
    "stderr.",
    "maven.",
    "surefire.",
    "idea.",
    "env.",
    "guice.",
    "basedir",
    "localRepository",
    "classworlds.",
    "library.jansi.",
    "socksNonProxyHosts",
    "http.nonProxyHosts",
    "ftp.nonProxyHosts",
    "gopherProxySet",
    "intellij.",
];

struct SuiteFrame {
    name: String,
    /// The suite's `filepath` attribute: the file of its testcases that have no `file`.
    filepath: Option<String>,
    /// Its `failures=` plus `errors=`.
    declared: u64,
    /// Failed and errored testcases read in it, nested suites' included.
    failing: u64,
    /// The message of an `<error>`/`<failure>` of its own (`Some("")`: one without a message).
    own: Option<Message>,
}

/// The open testcase. Its strings stay raw (where in [`State::raw`]) until a sink decodes
/// them ([`RawStrings::decode_into`]).
struct CaseBuilder {
    classname: Option<Range<usize>>,
    class: Option<Range<usize>>,
    name: Option<Range<usize>>,
    file: Option<Range<usize>>,
    line: Option<u32>,
    duration_s: f64,
    rank: u8,
    flaky: bool,
    /// `status="disabled"` (Ant/tst), `result="skipped"` (GoogleTest): skipped unless a result
    /// element says otherwise.
    skipped_by_attr: bool,
    /// A `<failure>` (1) and an `<error>` (2) were among its results: pytest counts a test that
    /// failed and then erred in its teardown in both of its suite's `failures=` and `errors=`.
    failing_results: u8,
    message: Option<Message>,
    /// A `path:line` found in the winning result element's text: for annotations only (and
    /// only when the testcase's attributes do not give both file and line).
    text_location: Option<SourceLocation>,
    properties: CaseProperties,
}

/// The result element currently collecting its text (only when it is the most severe so far).
struct PendingResult {
    message_attr: Bounded,
    type_attr: String,
    /// Its element is open (else only its buffers are kept, for the next one).
    open: bool,
}

struct PendingProperty {
    name: String,
    scope: PropertyScope,
}

struct State<'a> {
    input: usize,
    sink: &'a mut dyn CaseSink,
    summary: Summary,
    stack: Vec<Kind>,
    suites: Vec<SuiteFrame>,
    /// The root `<testsuites>`' `failures=` plus `errors=`, and the failing tests read under
    /// it: it says it failed where its suites do not, as a suite can (see the module doc).
    root_declared: u64,
    root_failing: u64,
    suite_props: SuiteProperties,
    case: Option<CaseBuilder>,
    /// The open testcase's string attributes as written, one after another.
    raw: Vec<u8>,
    result: Option<PendingResult>,
    property: Option<PendingProperty>,
    /// Text of the element being collected (result body or property value), or of
    /// `<system-out>`.
    texts: Texts,
}

impl xml::Handler for State<'_> {
    const FORMAT: &'static str = "JUnit XML";
    const ROOTS: &'static str = "a <testsuites> or <testsuite> root element";

    fn is_root(local: &[u8]) -> bool {
        matches!(local, b"testsuites" | b"testsuite")
    }

    fn start(&mut self, e: &Element<'_>) -> Result<bool, String> {
        let local = e.local_name();
        let parent = self.stack.last().copied();
        let kind = match parent {
            _ if local == b"testcase" && self.opens_case() => self.open_case(e)?,
            None if local == b"testsuite" => self.open_suite(e)?,
            None => {
                if local == b"testsuites" {
                    self.root_declared = xml::counts(e, &[b"failures", b"errors"])?;
                }
                Kind::Suites
            }
            Some(Kind::Suites | Kind::Suite) => match local {
                b"testsuite" => self.open_suite(e)?,
                b"testsuites" => Kind::Suites,
                b"properties" if parent == Some(Kind::Suite) => {
                    Kind::Properties(PropertyScope::Suite)
                }
                b"error" | b"failure" if parent == Some(Kind::Suite) => self.suite_result(e)?,
                _ => Kind::Other,
            },
            Some(Kind::Case) => match local {
                b"properties" => Kind::Properties(PropertyScope::Case),
                b"system-out" => {
                    self.texts.begin_output();
                    Kind::CaseSystemOut
                }
                _ => match result_rank(local) {
                    Some(rank) => self.open_result(e, rank)?,
                    None => Kind::Other,
                },
            },
            Some(Kind::Properties(scope)) if local == b"property" => {
                self.open_property(e, scope)?
            }
            Some(_) => Kind::Other,
        };
        self.stack.push(kind);
        // The open_* readers above checked the attributes they walked.
        Ok(matches!(
            kind,
            Kind::Suite | Kind::Case | Kind::Result | Kind::Property(_)
        ))
    }

    fn end(&mut self) -> Result<(), String> {
        let Some(kind) = self.stack.pop() else {
            return Ok(());
        };
        match kind {
            Kind::Suite => {
                self.close_suite();
                self.suite_props.close();
            }
            Kind::Case => self.close_case(),
            Kind::Result => self.close_result(),
            Kind::Property(_) => {
                if let Some(pending) = self.property.take() {
                    let value = self.texts.take_trimmed();
                    self.add_property(RawProperty {
                        name: pending.name,
                        value,
                        scope: pending.scope,
                    });
                }
            }
            Kind::CaseSystemOut => {
                let markers = self.case.as_mut().map(|c| &mut c.properties);
                self.texts.end_output(markers);
            }
            Kind::Suites if self.stack.is_empty() => self.close_root(),
            Kind::Suites | Kind::Properties(_) | Kind::Other => {}
        }
        Ok(())
    }

    fn empty(&mut self, e: &Element<'_>) -> Result<(), String> {
        // An empty testcase (most of a report's) is handed on at once, its strings straight
        // from its tag: nothing of it waits for an end.
        if e.local_name() == b"testcase" && self.opens_case() {
            let a = case_attributes(e)?;
            let done = Done {
                line: a.line,
                duration_s: a.duration_s,
                status: case_status(0, a.skipped_by_attr),
                flaky: false,
                message: None,
                location: None,
                properties: Vec::new(),
                failing_results: 0,
            };
            let strings = a.strings.each_ref().map(|v| match v {
                Some(v) => Field::Raw(v),
                None => Field::Absent,
            });
            self.hand_on(done, strings);
            return Ok(());
        }
        xml::start_and_end(self, e)
    }

    fn texts(&mut self) -> (&mut Texts, Option<&mut CaseProperties>) {
        (
            &mut self.texts,
            self.case.as_mut().map(|c| &mut c.properties),
        )
    }

    fn open_element(&self) -> &'static str {
        match self.stack.last() {
            Some(Kind::Suites) => "<testsuites>",
            Some(Kind::Suite) => "<testsuite>",
            Some(Kind::Case) => "<testcase>",
            Some(Kind::Properties(_)) => "<properties>",
            Some(Kind::Property(_)) => "<property>",
            Some(Kind::Result) => "a result element",
            Some(Kind::CaseSystemOut) => "<system-out>",
            Some(Kind::Other) | None => "an element",
        }
    }
}

impl<'a> State<'a> {
    fn new(input: usize, sink: &'a mut dyn CaseSink) -> Self {
        State {
            input,
            sink,
            summary: Summary::default(),
            stack: Vec::with_capacity(16),
            suites: Vec::new(),
            root_declared: 0,
            root_failing: 0,
            suite_props: SuiteProperties::default(),
            case: None,
            raw: Vec::new(),
            result: None,
            property: None,
            texts: Texts::default(),
        }
    }

    fn open_suite(&mut self, e: &Element<'_>) -> Result<Kind, String> {
        self.summary.suites += 1;
        let mut name = String::new();
        let mut filepath = None;
        let mut declared = 0u64;
        for attr in checked_attributes(e) {
            let attr = attr?;
            match xml::local(attr.key.as_ref()) {
                b"name" => name = text::attr_string(&attr.value, MAX_STRING),
                b"filepath" => {
                    let path = text::attr_string(&attr.value, MAX_STRING);
                    filepath = (!path.trim().is_empty()).then_some(path);
                }
                b"failures" | b"errors" => {
                    declared = declared.saturating_add(text::attr_count(&attr.value));
                }
                _ => {}
            }
        }
        self.suites.push(SuiteFrame {
            name,
            filepath,
            declared,
            failing: 0,
            own: None,
        });
        self.suite_props.open();
        Ok(Kind::Suite)
    }

    /// Whether a `<testcase>` starting now is a test: in a suite (or `<testsuites>`), or
    /// wrapped in an element no dialect has, inside a suite and outside any testcase (skipping
    /// that one would drop its failure unseen).
    fn opens_case(&self) -> bool {
        match self.stack.last() {
            Some(Kind::Suites | Kind::Suite) => true,
            Some(Kind::Other) => self.case.is_none() && !self.suites.is_empty(),
            _ => false,
        }
    }

    fn open_case(&mut self, e: &Element<'_>) -> Result<Kind, String> {
        let a = case_attributes(e)?;
        // Its strings wait in `raw` for the end of the testcase (the tag's bytes do not).
        self.raw.clear();
        let raw = &mut self.raw;
        let mut keep = |value: &Option<Cow<'_, [u8]>>| {
            value.as_deref().map(|value| {
                let at = raw.len();
                raw.extend_from_slice(value);
                at..raw.len()
            })
        };
        let [classname, class, name, file] = &a.strings;
        self.case = Some(CaseBuilder {
            classname: keep(classname),
            class: keep(class),
            name: keep(name),
            file: keep(file),
            line: a.line,
            duration_s: a.duration_s,
            rank: 0,
            flaky: false,
            skipped_by_attr: a.skipped_by_attr,
            failing_results: 0,
            message: None,
            text_location: None,
            properties: CaseProperties::default(),
        });
        Ok(Kind::Case)
    }

    fn open_result(&mut self, e: &Element<'_>, rank: u8) -> Result<Kind, String> {
        let Some(case) = self.case.as_mut() else {
            return Ok(Kind::Other);
        };
        if rank == 1 {
            case.flaky = true;
        }
        case.failing_results |= match rank {
            4 => 1,
            6 => 2,
            _ => 0,
        };
        if rank <= case.rank {
            return Ok(Kind::Other);
        }
        case.rank = rank;
        // The last result's buffers, emptied: a report's failures are thousands alike.
        let mut pending = self.result.take().unwrap_or_else(|| PendingResult {
            message_attr: Bounded::new(Message::KEPT),
            type_attr: String::new(),
            open: false,
        });
        pending.message_attr.reset(Message::KEPT);
        pending.type_attr.clear();
        pending.open = true;
        for attr in checked_attributes(e) {
            let attr = attr?;
            match xml::local(attr.key.as_ref()) {
                b"message" => text::decode_attr_into(&attr.value, &mut pending.message_attr),
                b"type" => text::attr_string_into(&attr.value, 1024, &mut pending.type_attr),
                _ => {}
            }
        }
        self.result = Some(pending);
        self.texts.begin_value(LOCATION_SCAN);
        Ok(Kind::Result)
    }

    /// An `<error>`/`<failure>` of the suite itself: its message, kept for [`close_suite`].
    ///
    /// [`close_suite`]: State::close_suite
    fn suite_result(&mut self, e: &Element<'_>) -> Result<Kind, String> {
        let mut message = Bounded::new(Message::KEPT);
        let mut kind = String::new();
        for attr in checked_attributes(e) {
            let attr = attr?;
            match xml::local(attr.key.as_ref()) {
                b"message" => text::decode_attr_into(&attr.value, &mut message),
                b"type" => kind = text::attr_string(&attr.value, 1024),
                _ => {}
            }
        }
        if let Some(suite) = self.suites.last_mut()
            && suite.own.is_none()
        {
            let said = cases::message(&message, &Bounded::default())
                .or_else(|| (!kind.trim().is_empty()).then(|| Message::bounded(kind.trim())))
                .unwrap_or_else(|| Message::bounded(""));
            suite.own = Some(said);
        }
        Ok(Kind::Other)
    }

    /// Ends the innermost suite: one errored `(suite)` test when it says it failed where its
    /// testcases do not (see the module doc), its count of failing tests handed to the suite
    /// around it.
    fn close_suite(&mut self) {
        let Some(mut suite) = self.suites.pop() else {
            return;
        };
        if suite.own.is_some() || suite.declared > suite.failing {
            let message = match suite.own.take().filter(|m| !m.text.is_empty()) {
                Some(m) => m,
                None if suite.declared > suite.failing => Message::bounded(&format!(
                    "the suite reports {} failure(s) and error(s), {} of its testcases failed: \
                     its testcases were cut from the report, or something failed outside them",
                    suite.declared, suite.failing
                )),
                None => Message::bounded("the suite reports an error outside any testcase"),
            };
            self.summary.cases += 1;
            let strings = RawStrings {
                suite: Field::Text(&suite.name),
                suite_file: suite.filepath.as_deref().map_or(Field::Absent, Field::Text),
                classname: Field::Absent,
                class: Field::Absent,
                name: Field::Text("(suite)"),
                file: Field::Absent,
            };
            // Its strings travel raw, as a testcase's do.
            let case =
                TestCase::outside_any_test(String::new(), String::new(), message, self.input);
            self.sink.raw_case(case, &strings);
            suite.failing = suite.failing.max(suite.declared).saturating_add(1);
        }
        match self.suites.last_mut() {
            Some(outer) => outer.failing = outer.failing.saturating_add(suite.failing),
            None => self.root_failing = self.root_failing.saturating_add(suite.failing),
        }
    }

    /// Ends the root `<testsuites>`: one errored `(testsuites)` test when its counts say more
    /// failed than its suites and testcases show (a report whose failing suites were cut out).
    fn close_root(&mut self) {
        if self.root_declared <= self.root_failing {
            return;
        }
        let message = Message::bounded(&format!(
            "the report's <testsuites> says {} failure(s) and error(s), {} of its tests failed: \
             failing tests were cut from the report",
            self.root_declared, self.root_failing
        ));
        self.summary.cases += 1;
        let strings = RawStrings {
            suite: Field::Absent,
            suite_file: Field::Absent,
            classname: Field::Absent,
            class: Field::Absent,
            name: Field::Text("(testsuites)"),
            file: Field::Absent,
        };
        let case = TestCase::outside_any_test(String::new(), String::new(), message, self.input);
        self.sink.raw_case(case, &strings);
        self.root_failing = self.root_declared;
    }

    fn open_property(&mut self, e: &Element<'_>, scope: PropertyScope) -> Result<Kind, String> {
        let mut name = None;
        let mut value = None;
        for attr in checked_attributes(e) {
            let attr = attr?;
            match xml::local(attr.key.as_ref()) {
                b"name" => name = Some(text::attr_string(&attr.value, MAX_STRING)),
                b"value" => value = Some(text::attr_string(&attr.value, MAX_STRING)),
                _ => {}
            }
        }
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Ok(Kind::Other);
        };
        match value {
            Some(value) => self.add_property(RawProperty { name, value, scope }),
            None => {
                self.property = Some(PendingProperty { name, scope });
                self.texts.begin_value(MAX_STRING);
            }
        }
        Ok(Kind::Property(scope))
    }

    fn add_property(&mut self, property: RawProperty) {
        match property.scope {
            PropertyScope::Suite => {
                let system = SYSTEM_PROPERTY_PREFIXES
                    .iter()
                    .any(|p| property.name.starts_with(p));
                self.suite_props.add(property, system);
            }
            _ => {
                if let Some(case) = self.case.as_mut() {
                    case.properties.push(property);
                }
            }
        }
    }

    fn close_result(&mut self) {
        let Some(pending) = self.result.as_mut().filter(|p| p.open) else {
            return;
        };
        pending.open = false;
        let body = self.texts.stop();
        let Some(case) = self.case.as_mut() else {
            return;
        };
        case.message = cases::message(&pending.message_attr, body);
        if case.message.is_none() && !pending.type_attr.trim().is_empty() {
            case.message = Some(Message::bounded(pending.type_attr.trim()));
        }
        // Dropped by the decoding when the attributes give both file and line (whether the
        // file is blank is known only then).
        case.text_location = cases::location(&pending.message_attr, body);
    }

    fn close_case(&mut self) {
        let Some(mut case) = self.case.take() else {
            return;
        };
        let properties = std::mem::take(&mut case.properties).kept(&mut self.summary);
        let status = case_status(case.rank, case.skipped_by_attr);
        let done = Done {
            line: case.line,
            duration_s: case.duration_s,
            status,
            // Flaky means "passed after a retry": a case that still failed is not flaky.
            flaky: case.flaky && status == CaseStatus::Passed,
            message: case.message.take(),
            location: case.text_location.take(),
            properties,
            failing_results: case.failing_results,
        };
        // Lent out while the case is handed on (`hand_on` takes the whole state).
        let raw = std::mem::take(&mut self.raw);
        let field =
            |range: Option<Range<usize>>| range.map_or(Field::Absent, |r| Field::Raw(&raw[r]));
        let strings = [
            field(case.classname),
            field(case.class),
            field(case.name),
            field(case.file),
        ];
        self.hand_on(done, strings);
        self.raw = raw;
    }

    /// Hands a read testcase to the sink: its suite's strings and properties added, its own
    /// strings (classname, class, name, file) as written, decoded by the sink.
    fn hand_on(&mut self, done: Done, [classname, class, name, file]: [Field<'_>; 4]) {
        self.summary.cases += 1;
        // The test's file is what the report says (its `file`, else the suite's `filepath`):
        // it is part of the test's identity. A location in the failure text is where the
        // failure happened, kept apart for annotations: the same test failing on one shard and
        // passing on another, or failing with two different traces, stays one test.
        let suite_file = self.suites.iter().rev().find_map(|s| s.filepath.as_deref());
        let mut properties = done.properties;
        self.suite_props.inherit(&mut properties);
        let strings = RawStrings {
            suite: self
                .suites
                .last()
                .map_or(Field::Absent, |s| Field::Text(&s.name)),
            suite_file: suite_file.map_or(Field::Absent, Field::Text),
            classname,
            class,
            name,
            file,
        };
        let status = done.status;
        let case = TestCase {
            suite: String::new(),
            classname: String::new(),
            name: String::new(),
            file: None,
            line: done.line,
            location: done.location,
            status,
            flaky: done.flaky,
            duration_s: done.duration_s,
            message: done.message,
            properties,
            input: self.input,
            runs: 1,
        };
        self.sink.raw_case(case, &strings);
        if matches!(status, CaseStatus::Failed | CaseStatus::Errored) {
            let n = u64::from(done.failing_results.count_ones().max(1));
            match self.suites.last_mut() {
                Some(suite) => suite.failing += n,
                None => self.root_failing = self.root_failing.saturating_add(n),
            }
        }
    }
}

/// A testcase's attributes: its strings as written (classname, class, name, file; decoded by
/// the sink) and what is read from the others.
struct CaseAttributes<'e> {
    strings: [Option<Cow<'e, [u8]>>; 4],
    line: Option<u32>,
    duration_s: f64,
    /// `status="disabled"` (Ant/tst), `result="skipped"` (GoogleTest).
    skipped_by_attr: bool,
}

fn case_attributes<'e>(e: &Element<'e>) -> Result<CaseAttributes<'e>, String> {
    let mut a = CaseAttributes {
        strings: [None, None, None, None],
        line: None,
        duration_s: 0.0,
        skipped_by_attr: false,
    };
    for attr in checked_attributes(e) {
        let attr = attr?;
        let value = &attr.value;
        let key = attr.key.as_ref();
        // A key read is matched as written first: none of them has a prefix, so only a key
        // that matches nothing so is looked at again without its prefix (`xml::local` reads
        // the key a byte at a time: six keys a testcase, by the million).
        let Some(key) = case_key(key).or_else(|| case_key(xml::local(key))) else {
            continue;
        };
        let slot = match key {
            CaseKey::Text(slot) => slot,
            CaseKey::Line => {
                a.line = match text::plain_line(value) {
                    Some(line) => line,
                    None => text::parse_line(&text::clean_attr(value))?,
                };
                continue;
            }
            CaseKey::Time => {
                a.duration_s = match text::plain_time(value) {
                    Some(t) => t,
                    None => text::parse_time(&text::clean_attr(value))?,
                };
                continue;
            }
            CaseKey::Status => {
                let v = text::clean_attr(value);
                let v = v.trim();
                a.skipped_by_attr |= ["disabled", "skipped", "notrun", "ignored", "suppressed"]
                    .iter()
                    .any(|s| v.eq_ignore_ascii_case(s));
                continue;
            }
        };
        a.strings[slot] = Some(attr.value);
    }
    Ok(a)
}

/// A testcase attribute [`case_attributes`] reads.
#[derive(Clone, Copy)]
enum CaseKey {
    /// `classname`, `class`, `name`, `file`: the slot of [`CaseAttributes::strings`].
    Text(usize),
    Line,
    Time,
    /// `status` or `result`.
    Status,
}

/// The attribute a name without its prefix (`local`) is, if [`case_attributes`] reads it.
#[inline]
fn case_key(local: &[u8]) -> Option<CaseKey> {
    Some(match local {
        b"classname" => CaseKey::Text(0),
        b"class" => CaseKey::Text(1),
        b"name" => CaseKey::Text(2),
        b"file" => CaseKey::Text(3),
        b"line" => CaseKey::Line,
        b"time" => CaseKey::Time,
        b"status" | b"result" => CaseKey::Status,
        _ => return None,
    })
}

/// What is handed on of a testcase besides its strings ([`State::hand_on`]).
struct Done {
    line: Option<u32>,
    duration_s: f64,
    status: CaseStatus,
    flaky: bool,
    message: Option<Message>,
    location: Option<SourceLocation>,
    properties: Vec<RawProperty>,
    /// A `<failure>` (1) and an `<error>` (2) were among its results.
    failing_results: u8,
}

#[cfg(test)]
mod unit {
    use crate::ingest::batch::CaseBatch;
    use crate::model::TestCase;

    /// The pipeline decodes a testcase's strings on the aggregating thread, from a batch of
    /// raw bytes, into buffers reused from case to case; every other caller decodes as the
    /// reader goes. Both must read every case the same, whatever the case before it held.
    #[test]
    fn strings_decoded_from_a_batch_equal_strings_decoded_at_once() {
        let long = "n".repeat(super::MAX_STRING + 10);
        let doc = format!(
            r#"<testsuites>
  <testcase name="outside any suite"/>
  <testsuite name="outer &amp; co" filepath="suite/file.py">
    <testsuite name="in&#x41;">
      <testcase classname="c.A" name="a &amp; b &#65;" file="a.py" line="3">
        <failure message="boom">tests/a.py:9: AssertionError</failure>
      </testcase>
      <testcase classname="" class="FromClass" name="no own file" line="4">
        <failure>tests/elsewhere.py:7: AssertionError</failure>
      </testcase>
      <testcase class="Only" name="blank file" file="&#32;" line="5">
        <failure>tests/other.py:8: AssertionError</failure>
      </testcase>
      <testcase name="{long}" classname="c&#1;d"/>
      <testcase name="bytes &#xE9;"/>
    </testsuite>
    <testsuite name="inB" filepath="b.py"><testcase name="in b"/></testsuite>
    <testcase name="in outer"/>
  </testsuite>
</testsuites>"#
        );
        let doc = doc.replace("bytes", "bytes \u{2603}");
        let mut at_once = Vec::new();
        super::parse(doc.as_bytes(), 3, &mut |c| at_once.push(c)).unwrap();
        let mut batch = CaseBatch::with_capacity(4);
        super::parse_into(doc.as_bytes(), 3, &mut batch).unwrap();
        let mut batched: Vec<TestCase> = Vec::new();
        batch.lend_each(&mut |c| batched.push(c.clone()));
        assert_eq!(batched, at_once);

        let brief: Vec<_> = at_once
            .iter()
            .map(|c| {
                let name: String = c.name.chars().take(12).collect();
                let at = c
                    .location
                    .as_ref()
                    .map(|l| format!("{}:{}", l.file, l.line));
                (
                    c.suite.as_str(),
                    c.classname.as_str(),
                    name,
                    c.file.clone(),
                    at,
                )
            })
            .collect();
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            brief,
            vec![
                ("", "", "outside any ".into(), None, None),
                ("inA", "c.A", "a & b A".into(), s("a.py"), None),
                (
                    "inA",
                    "FromClass",
                    "no own file".into(),
                    s("suite/file.py"),
                    s("tests/elsewhere.py:7")
                ),
                (
                    "inA",
                    "Only",
                    "blank file".into(),
                    s("suite/file.py"),
                    s("tests/other.py:8")
                ),
                ("inA", "cd", "n".repeat(12), s("suite/file.py"), None),
                (
                    "inA",
                    "",
                    "bytes \u{2603} é".into(),
                    s("suite/file.py"),
                    None
                ),
                // Another suite's name and file, then the outer suite's again.
                ("inB", "", "in b".into(), s("b.py"), None),
                (
                    "outer & co",
                    "",
                    "in outer".into(),
                    s("suite/file.py"),
                    None
                ),
            ]
        );
        assert!(at_once[4].name.len() <= super::MAX_STRING);
    }

    /// A batch's bytes are checked for UTF-8 once, as a whole: a field that is not UTF-8 on
    /// its own decodes as it does alone, even when the fields around it make the whole valid
    /// (`\xC3` ending a class name, `\xA9` starting the name: `é` together).
    #[test]
    fn fields_not_utf8_on_their_own_decode_alike_in_a_batch() {
        for doc in [
            &b"<testsuite><testcase classname=\"c\xC3\" name=\"\xA9n\"/><testcase name=\"ok\"/></testsuite>"[..],
            b"<testsuite><testcase classname=\"a\xFFb\" name=\"t\"/><testcase name=\"ok &amp; \xC3\xA9\"/></testsuite>",
        ] {
            let mut at_once = Vec::new();
            super::parse(doc, 0, &mut |c| at_once.push(c)).unwrap();
            let mut batch = CaseBatch::with_capacity(4);
            super::parse_into(doc, 0, &mut batch).unwrap();
            let mut batched: Vec<TestCase> = Vec::new();
            batch.lend_each(&mut |c| batched.push(c.clone()));
            assert_eq!(batched, at_once);
            assert!(at_once[0].classname.contains('\u{FFFD}'), "{:?}", at_once[0]);
        }
    }

    /// Every case `doc` reads as (input 0), in order.
    fn read(doc: &str) -> Vec<TestCase> {
        let mut cases = Vec::new();
        super::parse(doc.as_bytes(), 0, &mut |c| cases.push(c)).unwrap();
        cases
    }

    /// A suite that says it failed where its testcases do not is one errored `(suite)` more;
    /// counts that agree (nested suites summed into the outer one), or no counts, add nothing.
    /// A testcase in an element no dialect has is read all the same.
    #[test]
    fn failures_beyond_the_testcases_and_wrapped_testcases_are_read() {
        use crate::model::CaseStatus::*;
        let names = |cases: &[TestCase]| -> Vec<(String, String, crate::model::CaseStatus)> {
            cases
                .iter()
                .map(|c| (c.suite.clone(), c.name.clone(), c.status))
                .collect()
        };
        // More failures said than read: testcases cut from the report.
        let cases = read(
            r#"<testsuite name="s" tests="5" failures="2" errors="1"><testcase classname="a" name="t1"/><testcase classname="a" name="t2"><failure/></testcase></testsuite>"#,
        );
        assert_eq!(
            names(&cases),
            [
                ("s".into(), "t1".into(), Passed),
                ("s".into(), "t2".into(), Failed),
                ("s".into(), "(suite)".into(), Errored)
            ]
        );
        let message = &cases[2].message.as_ref().unwrap().text;
        assert!(
            message.contains("reports 3 failure(s) and error(s), 1 of"),
            "{message}"
        );
        // An error of the suite's own (a collection error), its message kept.
        let cases = read(
            r#"<testsuites><testsuite name="s" errors="1"><error message="ImportError: collection failed"/><testcase classname="a" name="t1"/></testsuite></testsuites>"#,
        );
        assert_eq!(cases.len(), 2);
        assert_eq!(
            (cases[1].name.as_str(), cases[1].status),
            ("(suite)", Errored)
        );
        assert_eq!(
            cases[1].message.as_ref().unwrap().text,
            "ImportError: collection failed"
        );
        // Counts that agree, nested suites summed into the outer one's, or absent or not
        // numbers: nothing more. The outer suite does not repeat an inner suite's `(suite)`. A
        // test that failed and then erred (its teardown) counts in both, as pytest counts it.
        for doc in [
            r#"<testsuite name="s" failures="1" errors="1"><testcase name="t"><failure/><error/></testcase></testsuite>"#,
            r#"<testsuite name="s" failures="1" errors="0"><testcase name="t"><failure/></testcase></testsuite>"#,
            r#"<testsuite name="o" failures="2"><testsuite name="i" failures="2"><testcase name="t"><failure/></testcase><testcase name="u"><error/></testcase></testsuite></testsuite>"#,
            r#"<testsuite name="s" failures="" errors="many"><testcase name="t"/></testsuite>"#,
            r#"<testsuite name="s"><testcase name="t"/></testsuite>"#,
        ] {
            assert!(read(doc).iter().all(|c| c.name != "(suite)"), "{doc}");
        }
        let cases = read(
            r#"<testsuite name="o" failures="3"><testsuite name="i" failures="3"><testcase name="t"><failure/></testcase></testsuite></testsuite>"#,
        );
        assert_eq!(
            names(&cases),
            [
                ("i".into(), "t".into(), Failed),
                ("i".into(), "(suite)".into(), Errored)
            ]
        );
        // The root `<testsuites>` the same: counts above what its suites and testcases show
        // are one errored `(testsuites)`; counts that agree (a suite's own `(suite)` included,
        // a testcase directly under it) add nothing.
        let cases = read(
            r#"<testsuites tests="5" failures="3"><testsuite name="x"><testcase classname="c" name="a"/></testsuite></testsuites>"#,
        );
        assert_eq!(
            names(&cases),
            [
                ("x".into(), "a".into(), Passed),
                (String::new(), "(testsuites)".into(), Errored)
            ]
        );
        assert!(
            cases[1]
                .message
                .as_ref()
                .unwrap()
                .text
                .contains("says 3 failure(s)"),
            "{:?}",
            cases[1].message
        );
        for doc in [
            r#"<testsuites failures="1" errors="1"><testsuite name="s"><testcase name="t"><failure/></testcase></testsuite><testcase name="u"><error/></testcase></testsuites>"#,
            r#"<testsuites failures="2"><testsuite name="s" failures="2"><testcase name="t"><failure/></testcase></testsuite></testsuites>"#,
            r#"<testsuites failures="0"><testsuite name="s"><testcase name="t"/></testsuite></testsuites>"#,
            r#"<testsuites failures="1"/>"#,
        ] {
            let cases = read(doc);
            assert_eq!(
                cases.iter().filter(|c| c.name == "(testsuites)").count(),
                usize::from(doc.ends_with("/>")),
                "{doc}"
            );
        }
        // A testcase wrapped in an unknown element is still read; one inside a testcase's
        // unknown element, or outside any suite, is not a test.
        let cases = read(
            r#"<testsuite name="s"><testcase name="ok"/><group><testcase name="x"><failure/></testcase><testcase name="w" status="disabled"/></group><testcase name="y"><extra><testcase name="z"/></extra></testcase></testsuite>"#,
        );
        assert_eq!(
            names(&cases),
            [
                ("s".into(), "ok".into(), Passed),
                ("s".into(), "x".into(), Failed),
                ("s".into(), "w".into(), Skipped),
                ("s".into(), "y".into(), Passed)
            ]
        );
        assert!(read(r#"<testsuites><meta><testcase name="q"/></meta></testsuites>"#).is_empty());
        // The batch path (the pipeline's) reads it the same.
        let doc = r#"<testsuite name="s" failures="1"><testcase name="t"/></testsuite>"#;
        let mut batch = CaseBatch::with_capacity(4);
        super::parse_into(doc.as_bytes(), 0, &mut batch).unwrap();
        let mut batched: Vec<TestCase> = Vec::new();
        batch.lend_each(&mut |c| batched.push(c.clone()));
        assert_eq!(batched, read(doc));
    }

    /// A failure's text, message and type are read into buffers the next failure reuses: what
    /// one said never reaches another, whether that one has a text, a message or a type only,
    /// or nothing.
    #[test]
    fn each_failure_has_its_own_text() {
        let doc = r#"<testsuite name="s">
  <testcase name="a"><failure message="first" type="TypeA">tests/a.py:9: a long first trace</failure></testcase>
  <testcase name="b"><failure message="second"/></testcase>
  <testcase name="c"><error></error></testcase>
  <testcase name="d"><skipped message="later"/></testcase>
  <testcase name="e"><failure>tests/e.py:2: short</failure></testcase>
  <testcase name="f"><error type="TypeF"/></testcase>
  <testcase name="g"><failure/></testcase>
</testsuite>"#;
        let cases = read(doc);
        let said: Vec<(&str, Option<&str>)> = cases
            .iter()
            .map(|c| (c.name.as_str(), c.message.as_ref().map(|m| m.text.as_str())))
            .collect();
        assert_eq!(
            said,
            [
                ("a", Some("first\ntests/a.py:9: a long first trace")),
                ("b", Some("second")),
                ("c", None),
                ("d", Some("later")),
                ("e", Some("tests/e.py:2: short")),
                ("f", Some("TypeF")),
                ("g", None),
            ]
        );
        assert_eq!(cases[1].location, None);
        assert_eq!(cases[4].location.as_ref().map(|l| l.line), Some(2));
    }

    #[test]
    fn element_names_are_utf8_ascii_or_not() {
        let parse = |doc: &[u8]| super::parse(doc, 0, &mut |_| {}).map(|_| ());
        assert_eq!(parse("<testsuite><é/><ok/></testsuite>".as_bytes()), Ok(()));
        let err = parse(b"<testsuite><t\xff/></testsuite>").unwrap_err();
        assert!(
            err.message.contains("invalid UTF-8 in an element name"),
            "{err}"
        );
    }

    /// A testcase's attributes are read by their names without a prefix, whatever the prefix
    /// (the keys written plainly are matched as they are, the others looked at again), in a
    /// tag read in place or by quick-xml, and an attribute not read is skipped either way.
    #[test]
    fn testcase_attributes_are_read_by_local_name() {
        let plain = r#"<testcase classname="c.K" name="t" file="t.py" line="3" time="0.5" status="skipped" other="x"/>"#;
        let prefixed = r#"<testcase j:classname="c.K" j:name="t" x:file="t.py" j:line="3" j:time="0.5" j:status="skipped" j:other="x"/>"#;
        // Not read in place: a value with a reference goes to quick-xml.
        let by_quick_xml = r#"<testcase j:classname="c&#46;K" name="t" j:file="t.py" j:line="3" time="0.5" j:result="skipped" j:other="&amp;"></testcase>"#;
        let want = read(&format!("<testsuite name=\"s\">{plain}</testsuite>"));
        assert_eq!(want.len(), 1);
        let case = &want[0];
        assert_eq!(
            (
                case.classname.as_str(),
                case.name.as_str(),
                case.file.as_deref()
            ),
            ("c.K", "t", Some("t.py"))
        );
        assert_eq!((case.line, case.duration_s), (Some(3), 0.5));
        assert_eq!(case.status, crate::model::CaseStatus::Skipped);
        for doc in [prefixed, by_quick_xml] {
            assert_eq!(
                read(&format!("<testsuite name=\"s\">{doc}</testsuite>")),
                want,
                "{doc}"
            );
        }
        // `class=` under a prefix too, when no class name is given.
        let class = read(r#"<testsuite><testcase p:class="K" name="t"/></testsuite>"#);
        assert_eq!(class[0].classname, "K");
    }
}
