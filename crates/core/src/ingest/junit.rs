//! Streaming JUnit XML reader.
//!
//! One pass over the document with `quick_xml::Reader::read_event_into` and one reused buffer;
//! nothing but the testcase being built (and the enclosing suites' names and properties) is
//! held in memory. Dialect rules (see `docs`/field notes "JUnit XML: one name, many dialects"):
//!
//! - Root `<testsuites>` or a bare `<testsuite>`; suites nest; every `<testcase>` element is
//!   counted, suite `tests=` attributes are ignored. `TestCase::suite` = innermost suite name.
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
//! Robustness: a leading BOM is skipped; invalid XML characters are dropped; unknown entities
//! are kept literally, never expanded; a `<!DOCTYPE>` declaring entities is rejected (entity
//! expansion attacks); nesting deeper than [`MAX_DEPTH`] is rejected; strings we keep are
//! bounded ([`MAX_STRING`], messages [`Message::LIMIT`]). Errors carry the line where the problem
//! was detected (newlines are counted as bytes are consumed) and the byte offset.

mod location;
pub(crate) mod text;

use std::io::{self, BufRead};

use quick_xml::Reader;
use quick_xml::errors::IllFormedError;
use quick_xml::events::{BytesStart, Event};

use crate::error::ParseError;
use crate::ingest::results::Summary;
use crate::ingest::xml;
use crate::model::{CaseStatus, Message, PropertyScope, RawProperty, SourceLocation, TestCase};

pub use location::find_location;
use text::{Bounded, LineScanner};

/// Maximum element nesting depth. Real reports nest a handful of suites; anything deeper is
/// rejected rather than tracked.
pub const MAX_DEPTH: usize = 1000;

/// Longest name, classname, suite name, file or property we keep (bytes); longer values are
/// cut on a char boundary.
pub const MAX_STRING: usize = 64 * 1024;

/// How much of a result element's text is scanned for a `file:line` location.
const LOCATION_SCAN: usize = 64 * 1024;

/// Suite properties longer than this are not copied onto testcases.
pub const MAX_SUITE_PROPERTY_VALUE: usize = 1024;

/// At most this many suite properties (all enclosing suites together) are copied onto each
/// testcase.
pub const MAX_SUITE_PROPERTIES: usize = 64;

/// Streams `reader`, calling `on_case` once per `<testcase>` (in document order) with the
/// testcase's merged result. `input` is stored in each case's `input` field.
pub fn parse(
    reader: impl BufRead,
    input: usize,
    on_case: &mut dyn FnMut(TestCase),
) -> Result<Summary, ParseError> {
    let mut xml = Reader::from_reader(LineCounter::new(reader));
    let config = xml.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    config.expand_empty_elements = false;
    // A bare `&` in text is an error, as in any XML processor (references are checked in
    // `State::entity`, attribute values in `checked_attributes`).
    config.allow_dangling_amp = false;
    config.check_comments = true;

    let mut state = State::new(input, on_case);
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        let event = match xml.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => {
                let counter = xml.get_ref();
                let msg = match e {
                    quick_xml::Error::Io(io) => format!("cannot read input: {io}"),
                    quick_xml::Error::IllFormed(IllFormedError::UnclosedReference) => {
                        xml::BARE_AMP_IN_TEXT.to_owned()
                    }
                    other if counter.bytes() == 0 => format!("not a JUnit XML document: {other}"),
                    other => format!("malformed XML: {other}"),
                };
                return Err(ParseError::at(
                    Some(counter.line()),
                    Some(xml.error_position()),
                    msg,
                ));
            }
        };
        let result = match event {
            Event::Start(e) => state.start(&e, false),
            Event::Empty(e) => state.start(&e, true),
            Event::End(_) => {
                state.end();
                Ok(())
            }
            Event::Text(t) => state.text(&t),
            Event::CData(_) if state.stack.is_empty() => {
                Err("a CDATA section outside the root element is not well-formed XML".into())
            }
            Event::CData(t) => state.text(&t),
            Event::GeneralRef(r) => state.entity(&r),
            Event::DocType(d) => check_doctype(&d),
            Event::Decl(_) if state.saw_content => Err(
                "an XML declaration `<?xml …?>` after the document started is not \
                     well-formed XML (concatenated reports?)"
                    .into(),
            ),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => Ok(()),
            Event::Eof => {
                let counter = xml.get_ref();
                return state.finish(counter.bytes(), counter.line(), xml.buffer_position());
            }
        };
        if let Err(message) = result {
            let counter = xml.get_ref();
            // Text after the root is reported on the line where it starts, not where it ends.
            let back = state.error_lines_back;
            return Err(ParseError::at(
                Some(counter.line().saturating_sub(back).max(1)),
                Some(xml.buffer_position()),
                message,
            ));
        }
        // A huge text or attribute once must not pin its buffer for the rest of the document.
        if buf.capacity() > 1024 * 1024 {
            buf = Vec::with_capacity(16 * 1024);
        } else {
            buf.clear();
        }
    }
}

/// Rejects a DOCTYPE that declares entities: expanding them is how "billion laughs" and
/// external-entity (XXE) attacks work, and no test reporter writes one.
fn check_doctype(doctype: &[u8]) -> Result<(), String> {
    let declares_entity = doctype
        .windows(8)
        .any(|w| w.eq_ignore_ascii_case(b"<!ENTITY"));
    if declares_entity {
        return Err(
            "rejected: <!DOCTYPE> declares XML entities (entity expansion / XXE is not allowed \
             in a JUnit report)"
                .into(),
        );
    }
    Ok(())
}

/// The XML reader's input buffer. Besides buffering, it counts newlines in the bytes consumed
/// so far, so errors can name a line without keeping or re-reading the document: each block is
/// counted once, in one vectorised pass, when it has been consumed entirely.
struct LineCounter<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    /// Newlines and bytes in the blocks before the current one.
    newlines_before: u64,
    bytes_before: u64,
}

impl<R> LineCounter<R> {
    const BLOCK: usize = 64 * 1024;

    fn new(inner: R) -> Self {
        LineCounter {
            inner,
            buf: vec![0; Self::BLOCK].into_boxed_slice(),
            pos: 0,
            filled: 0,
            newlines_before: 0,
            bytes_before: 0,
        }
    }

    /// 1-based line of the next unconsumed byte.
    fn line(&self) -> u64 {
        self.newlines_before + text::count_newlines(&self.buf[..self.pos]) + 1
    }

    /// Bytes consumed so far.
    fn bytes(&self) -> u64 {
        self.bytes_before + self.pos as u64
    }
}

impl<R: io::Read> io::Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: io::Read> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.filled {
            self.newlines_before += text::count_newlines(&self.buf[..self.filled]);
            self.bytes_before += self.filled as u64;
            self.pos = 0;
            self.filled = 0;
            // A `BufReader` hands reads this large straight to its source: no double copy.
            self.filled = loop {
                match self.inner.read(&mut self.buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.filled);
    }
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

/// An element's attributes with quick-xml's checks on (unquoted values and duplicate names are
/// errors: a corrupt report, not a result to guess at), and each value checked for what XML
/// forbids in one (`<`, a bare `&`, an undefined entity; see [`xml::check_attr_value`]).
fn checked_attributes<'e>(
    e: &'e BytesStart<'_>,
) -> impl Iterator<Item = Result<quick_xml::events::attributes::Attribute<'e>, String>> {
    e.attributes().map(|a| {
        let a = a.map_err(|err| format!("malformed attribute: {err}"))?;
        xml::check_attr_value(&a.value).map_err(|m| {
            format!(
                "attribute {}= of <{}>: {m}",
                String::from_utf8_lossy(a.key.as_ref()),
                String::from_utf8_lossy(e.name().as_ref())
            )
        })?;
        Ok(a)
    })
}

/// XML's white space (§2.3 S): space, tab, CR, LF.
fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
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
    /// Length of `State::suite_props` when this suite opened.
    props_start: usize,
}

struct CaseBuilder {
    classname: String,
    name: String,
    file: Option<String>,
    line: Option<u32>,
    duration_s: f64,
    rank: u8,
    flaky: bool,
    /// `status="disabled"` (Ant/tst), `result="skipped"` (GoogleTest): skipped unless a result
    /// element says otherwise.
    skipped_by_attr: bool,
    message: Option<Message>,
    /// A `path:line` found in the winning result element's text: for annotations only.
    text_location: Option<(String, u32)>,
    properties: Vec<RawProperty>,
}

/// The result element currently collecting its text (only when it is the most severe so far).
struct PendingResult {
    message_attr: Bounded,
    type_attr: String,
}

struct PendingProperty {
    name: String,
    scope: PropertyScope,
}

struct State<'a> {
    input: usize,
    on_case: &'a mut dyn FnMut(TestCase),
    summary: Summary,
    stack: Vec<Kind>,
    root_seen: bool,
    saw_content: bool,
    suites: Vec<SuiteFrame>,
    suite_props: Vec<RawProperty>,
    case: Option<CaseBuilder>,
    result: Option<PendingResult>,
    property: Option<PendingProperty>,
    /// Text of the element being collected (result body or property value).
    text: Bounded,
    collecting: bool,
    scanner: LineScanner,
    /// Lines between where the last error's subject starts and where the reader stands (text
    /// after the root element is reported where it starts).
    error_lines_back: u64,
}

impl<'a> State<'a> {
    fn new(input: usize, on_case: &'a mut dyn FnMut(TestCase)) -> Self {
        State {
            input,
            on_case,
            summary: Summary::default(),
            stack: Vec::with_capacity(16),
            root_seen: false,
            saw_content: false,
            suites: Vec::new(),
            suite_props: Vec::new(),
            case: None,
            result: None,
            property: None,
            text: Bounded::new(0),
            collecting: false,
            scanner: LineScanner::default(),
            error_lines_back: 0,
        }
    }

    fn start(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), String> {
        self.saw_content = true;
        let local = e.local_name();
        let local = local.as_ref();
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("elements nested deeper than {MAX_DEPTH} levels"));
        }
        let parent = self.stack.last().copied();
        // Hardening: quick-xml accepts any bytes in a name; such a report is corrupt.
        if std::str::from_utf8(e.name().as_ref()).is_err() {
            return Err("invalid UTF-8 in an element name".into());
        }
        let kind = match parent {
            None if self.root_seen => {
                return Err(format!(
                    "a second root element <{}> after the first one closed (concatenated \
                     reports?); pass each file with --junit instead",
                    String::from_utf8_lossy(e.name().as_ref())
                ));
            }
            None => {
                if !matches!(local, b"testsuites" | b"testsuite") {
                    return Err(format!(
                        "not a JUnit report: expected a <testsuites> or <testsuite> root element, \
                         found <{}>",
                        String::from_utf8_lossy(e.name().as_ref())
                    ));
                }
                self.root_seen = true;
                if local == b"testsuite" {
                    self.open_suite(e)?
                } else {
                    Kind::Suites
                }
            }
            Some(Kind::Suites | Kind::Suite) => match local {
                b"testsuite" => self.open_suite(e)?,
                b"testsuites" => Kind::Suites,
                b"testcase" => self.open_case(e)?,
                b"properties" if parent == Some(Kind::Suite) => {
                    Kind::Properties(PropertyScope::Suite)
                }
                _ => Kind::Other,
            },
            Some(Kind::Case) => match local {
                b"properties" => Kind::Properties(PropertyScope::Case),
                b"system-out" => {
                    self.scanner.reset();
                    self.collecting = false;
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
        // The open_* readers above checked the attributes they walked; every other element is
        // checked here, so each element's attributes are scanned once.
        if !matches!(
            kind,
            Kind::Suite | Kind::Case | Kind::Result | Kind::Property(_)
        ) {
            for attr in checked_attributes(e) {
                attr?;
            }
        }
        self.stack.push(kind);
        if empty {
            self.end();
        }
        Ok(())
    }

    fn open_suite(&mut self, e: &BytesStart<'_>) -> Result<Kind, String> {
        self.summary.suites += 1;
        let mut name = String::new();
        let mut filepath = None;
        for attr in checked_attributes(e) {
            let attr = attr?;
            match attr.key.local_name().as_ref() {
                b"name" => name = text::attr_string(&attr.value, MAX_STRING),
                b"filepath" => {
                    let path = text::attr_string(&attr.value, MAX_STRING);
                    filepath = (!path.trim().is_empty()).then_some(path);
                }
                _ => {}
            }
        }
        self.suites.push(SuiteFrame {
            name,
            filepath,
            props_start: self.suite_props.len(),
        });
        Ok(Kind::Suite)
    }

    fn open_case(&mut self, e: &BytesStart<'_>) -> Result<Kind, String> {
        let mut case = CaseBuilder {
            classname: String::new(),
            name: String::new(),
            file: None,
            line: None,
            duration_s: 0.0,
            rank: 0,
            flaky: false,
            skipped_by_attr: false,
            message: None,
            text_location: None,
            properties: Vec::new(),
        };
        let mut class_attr = None;
        for attr in checked_attributes(e) {
            let attr = attr?;
            let value = &attr.value;
            match attr.key.local_name().as_ref() {
                b"name" => case.name = text::attr_string(value, MAX_STRING),
                b"classname" => case.classname = text::attr_string(value, MAX_STRING),
                b"class" => class_attr = Some(text::attr_string(value, MAX_STRING)),
                b"file" => {
                    let file = text::attr_string(value, MAX_STRING);
                    case.file = (!file.trim().is_empty()).then_some(file);
                }
                b"line" => case.line = text::parse_line(&text::clean_attr(value))?,
                b"time" => case.duration_s = text::parse_time(&text::clean_attr(value))?,
                b"status" | b"result" => {
                    let v = text::clean_attr(value);
                    let v = v.trim();
                    case.skipped_by_attr |=
                        ["disabled", "skipped", "notrun", "ignored", "suppressed"]
                            .iter()
                            .any(|s| v.eq_ignore_ascii_case(s));
                }
                _ => {}
            }
        }
        if case.classname.is_empty() {
            if let Some(class) = class_attr {
                case.classname = class;
            }
        }
        self.case = Some(case);
        Ok(Kind::Case)
    }

    fn open_result(&mut self, e: &BytesStart<'_>, rank: u8) -> Result<Kind, String> {
        let Some(case) = self.case.as_mut() else {
            return Ok(Kind::Other);
        };
        if rank == 1 {
            case.flaky = true;
        }
        if rank <= case.rank {
            return Ok(Kind::Other);
        }
        case.rank = rank;
        let mut pending = PendingResult {
            message_attr: Bounded::new(Message::KEPT),
            type_attr: String::new(),
        };
        for attr in checked_attributes(e) {
            let attr = attr?;
            match attr.key.local_name().as_ref() {
                b"message" => text::decode_attr_into(&attr.value, &mut pending.message_attr),
                b"type" => pending.type_attr = text::attr_string(&attr.value, 1024),
                _ => {}
            }
        }
        self.result = Some(pending);
        self.text.reset(LOCATION_SCAN);
        self.collecting = true;
        Ok(Kind::Result)
    }

    fn open_property(&mut self, e: &BytesStart<'_>, scope: PropertyScope) -> Result<Kind, String> {
        let mut name = None;
        let mut value = None;
        for attr in checked_attributes(e) {
            let attr = attr?;
            match attr.key.local_name().as_ref() {
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
                self.text.reset(MAX_STRING);
                self.collecting = true;
            }
        }
        Ok(Kind::Property(scope))
    }

    fn add_property(&mut self, property: RawProperty) {
        match property.scope {
            PropertyScope::Suite => {
                let inherited = self.suite_props.len();
                let system = SYSTEM_PROPERTY_PREFIXES
                    .iter()
                    .any(|p| property.name.starts_with(p));
                if system
                    || property.value.len() > MAX_SUITE_PROPERTY_VALUE
                    || inherited >= MAX_SUITE_PROPERTIES
                {
                    self.summary.suite_properties_dropped += 1;
                } else {
                    self.suite_props.push(property);
                }
            }
            _ => {
                if let Some(case) = self.case.as_mut() {
                    case.properties.push(property);
                }
            }
        }
    }

    fn end(&mut self) {
        let Some(kind) = self.stack.pop() else { return };
        match kind {
            Kind::Suite => {
                if let Some(frame) = self.suites.pop() {
                    self.suite_props.truncate(frame.props_start);
                }
            }
            Kind::Case => self.close_case(),
            Kind::Result => self.close_result(),
            Kind::Property(_) => {
                if let Some(pending) = self.property.take() {
                    self.collecting = false;
                    let value = self.text.text.trim().to_owned();
                    self.add_property(RawProperty {
                        name: pending.name,
                        value,
                        scope: pending.scope,
                    });
                }
            }
            Kind::CaseSystemOut => {
                let mut found = Vec::new();
                self.scanner
                    .finish(&mut |n: &str, v: &str| found.push((n.to_owned(), v.to_owned())));
                self.add_system_out(found);
            }
            Kind::Suites | Kind::Properties(_) | Kind::Other => {}
        }
    }

    fn add_system_out(&mut self, found: Vec<(String, String)>) {
        if let Some(case) = self.case.as_mut() {
            case.properties
                .extend(found.into_iter().map(|(name, value)| RawProperty {
                    name,
                    value,
                    scope: PropertyScope::SystemOut,
                }));
        }
    }

    fn close_result(&mut self) {
        let Some(pending) = self.result.take() else {
            return;
        };
        self.collecting = false;
        let Some(case) = self.case.as_mut() else {
            return;
        };
        let body = self.text.text.trim();
        let attr = pending.message_attr.text.trim();
        let mut message = Bounded::new(Message::KEPT);
        if !attr.is_empty() {
            message.push_str(attr);
        }
        if !body.is_empty() && body != attr {
            if !attr.is_empty() {
                message.push_str("\n");
            }
            message.push_str(body);
        }
        let mut original_len = message.total;
        original_len += pending.message_attr.total - pending.message_attr.text.len();
        original_len += self.text.total - self.text.text.len();
        if message.total == 0 && !pending.type_attr.trim().is_empty() {
            message.push_str(pending.type_attr.trim());
            original_len = message.total;
        }
        case.message = (message.total > 0).then_some(Message {
            text: message.text,
            original_len,
        });
        case.text_location = if case.file.is_some() && case.line.is_some() {
            None
        } else {
            location::find_location(body).or_else(|| location::find_location(attr))
        };
    }

    fn close_case(&mut self) {
        let Some(case) = self.case.take() else { return };
        self.summary.cases += 1;
        // The test's file is what the report says (its `file`, else the suite's `filepath`):
        // it is part of the test's identity. A location in the failure text is where the
        // failure happened, kept apart for annotations: the same test failing on one shard and
        // passing on another, or failing with two different traces, stays one test.
        let file = case.file.or_else(|| {
            self.suites
                .iter()
                .rev()
                .find_map(|s| s.filepath.as_ref())
                .cloned()
        });
        let location = case
            .text_location
            .map(|(file, line)| SourceLocation { file, line });
        let mut properties = case.properties;
        if !self.suite_props.is_empty() {
            properties.extend(self.suite_props.iter().cloned());
        }
        let suite = self
            .suites
            .last()
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let status = if case.rank == 0 && case.skipped_by_attr {
            CaseStatus::Skipped
        } else {
            rank_status(case.rank)
        };
        (self.on_case)(TestCase {
            suite,
            classname: case.classname,
            name: case.name,
            file,
            line: case.line,
            location,
            status,
            // Flaky means "passed after a retry": a case that still failed is not flaky.
            flaky: case.flaky && status == CaseStatus::Passed,
            duration_s: case.duration_s,
            message: case.message,
            properties,
            input: self.input,
            runs: 1,
        });
    }

    fn text(&mut self, raw: &[u8]) -> Result<(), String> {
        if self.stack.is_empty() {
            // Outside the root element only whitespace is allowed.
            let Some(start) = raw.iter().position(|b| !is_xml_space(*b)) else {
                return Ok(());
            };
            if !self.root_seen {
                return Err(
                    "not a JUnit XML document: expected a <testsuites> or <testsuite> root \
                     element, found text"
                        .into(),
                );
            }
            self.error_lines_back = text::count_newlines(&raw[start..]);
            return Err(format!(
                "text after the root element is not well-formed XML: \"{}\" (console output \
                 appended to the report?)",
                xml::shown(raw[start..].trim_ascii_end())
            ));
        }
        if self.collecting {
            if self.text.full() {
                self.text.skip(raw.len());
            } else {
                self.text.push_str(&text::clean(raw));
            }
        } else if self.stack.last() == Some(&Kind::CaseSystemOut) {
            if self.scanner.idle() && !raw.contains(&b'[') {
                return Ok(());
            }
            let chunk = text::clean(raw);
            let mut found = Vec::new();
            self.scanner.feed(&chunk, &mut |n: &str, v: &str| {
                found.push((n.to_owned(), v.to_owned()))
            });
            if !found.is_empty() {
                self.add_system_out(found);
            }
        }
        Ok(())
    }

    fn entity(&mut self, name: &[u8]) -> Result<(), String> {
        if self.stack.is_empty() {
            return Err(format!(
                "a reference `&{};` {}",
                xml::shown(name),
                if self.root_seen {
                    "after the root element is not well-formed XML"
                } else {
                    "before the root element is not well-formed XML"
                }
            ));
        }
        xml::check_reference(name)?;
        if self.collecting {
            text::push_entity(&mut self.text, name);
        } else if self.stack.last() == Some(&Kind::CaseSystemOut) && !self.scanner.idle() {
            let mut found = Vec::new();
            let scanner = &mut self.scanner;
            text::with_entity(name, &mut |s| {
                scanner.feed(s, &mut |n: &str, v: &str| {
                    found.push((n.to_owned(), v.to_owned()))
                })
            });
            if !found.is_empty() {
                self.add_system_out(found);
            }
        }
        Ok(())
    }

    fn finish(self, bytes: u64, line: u64, position: u64) -> Result<Summary, ParseError> {
        if let Some(open) = self.stack.last() {
            let what = match open {
                Kind::Suites => "<testsuites>",
                Kind::Suite => "<testsuite>",
                Kind::Case => "<testcase>",
                Kind::Properties(_) => "<properties>",
                Kind::Property(_) => "<property>",
                Kind::Result => "a result element",
                Kind::CaseSystemOut => "<system-out>",
                Kind::Other => "an element",
            };
            return Err(ParseError::at(
                Some(line),
                Some(position),
                format!(
                    "unexpected end of input inside {what}: the JUnit XML document is truncated"
                ),
            ));
        }
        if !self.root_seen {
            let message = if bytes == 0 {
                "empty input: expected a JUnit XML document with a <testsuites> or <testsuite> root element"
            } else {
                "not a JUnit XML document: no <testsuites> or <testsuite> root element found"
            };
            return Err(ParseError::at(Some(line), Some(position), message));
        }
        Ok(self.summary)
    }
}
