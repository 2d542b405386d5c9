//! Building blocks the XML test-result readers (JUnit, TRX, NUnit, xUnit.net) share: an
//! element's text collected into a bounded string, a message assembled from a failure's message
//! and its trace, suite properties inherited by the tests of the suite, and
//! `[[PROPERTY|name=value]]` lines found in a test's captured output.

use crate::ingest::location::find_location;
use crate::ingest::results::Summary;
use crate::ingest::text::{self, Bounded, LineScanner};
use crate::model::{CaseStatus, Message, PropertyScope, RawProperty, SourceLocation};

pub use crate::ingest::text::MAX_STRING;

/// How much of a failure's trace is kept, and scanned for a `file:line` location.
pub const LOCATION_SCAN: usize = 64 * 1024;

/// Suite properties longer than this are not copied onto tests.
pub const MAX_SUITE_PROPERTY_VALUE: usize = 1024;

/// At most this many suite properties (all enclosing suites together) are copied onto each
/// test.
pub const MAX_SUITE_PROPERTIES: usize = 64;

/// At most this many properties of a test's own (its `<properties>`, traits or categories, and
/// `[[PROPERTY|…]]` lines of its output) are read: a report is untrusted, and an output of
/// millions of marker lines must not hold millions of properties. More are counted, and the
/// report warns ([`crate::ingest::results::Summary::case_properties_dropped`]).
pub const MAX_CASE_PROPERTIES: usize = 256;

/// A test's own properties as they are read: the first [`MAX_CASE_PROPERTIES`], and how many
/// more there were.
#[derive(Debug, Default, Clone)]
pub struct CaseProperties {
    list: Vec<RawProperty>,
    dropped: u64,
}

impl CaseProperties {
    pub fn push(&mut self, property: RawProperty) {
        if self.list.len() < MAX_CASE_PROPERTIES {
            self.list.push(property);
        } else {
            self.dropped += 1;
        }
    }

    /// `more` after these, under the same limit (a TRX test's `StdOut` markers after its
    /// definition's properties): one test keeps [`MAX_CASE_PROPERTIES`] in all.
    pub(crate) fn append(&mut self, more: CaseProperties) {
        self.dropped += more.dropped;
        for property in more.list {
            self.push(property);
        }
    }

    /// The properties kept; how many were not is added to `summary`.
    pub(crate) fn kept(self, summary: &mut Summary) -> Vec<RawProperty> {
        summary.case_properties_dropped += self.dropped;
        self.list
    }
}

/// Which part of a test an element's text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// A failure's message.
    Message,
    /// A failure's stack trace (kept to [`LOCATION_SCAN`] bytes, where a location is looked for).
    Trace,
    /// Why a test was skipped (or inconclusive, or warned).
    Reason,
}

/// What a test's child elements said: the parts of its message, whether it failed or was
/// skipped, and its properties.
#[derive(Debug, Default)]
pub(crate) struct Parts {
    message: Bounded,
    trace: Bounded,
    reason: Bounded,
    /// A failure element was read.
    pub failed: bool,
    /// A skip element (or a not-run attribute) was read.
    pub skipped: bool,
    pub properties: CaseProperties,
}

impl Parts {
    /// The test's status, from the one its report gives (`result`, `outcome`) and what its
    /// child elements said: a failure element fails a test the report calls passed or skipped,
    /// a skip element skips a test the report calls passed.
    pub fn status(&self, reported: CaseStatus) -> CaseStatus {
        if self.failed && reported < CaseStatus::Failed {
            CaseStatus::Failed
        } else if self.skipped && reported == CaseStatus::Passed {
            CaseStatus::Skipped
        } else {
            reported
        }
    }

    /// The failure's message (then its trace) and the first location its trace names; for a
    /// test without one, the reason.
    pub fn message(&self) -> (Option<Message>, Option<SourceLocation>) {
        match message(&self.message, &self.trace) {
            Some(m) => (Some(m), location(&self.message, &self.trace)),
            None => (message(&self.reason, &Bounded::default()), None),
        }
    }
}

/// The text being read: one element's text (a part of a test, or a value its reader takes)
/// or a test's captured output, scanned for `[[PROPERTY|name=value]]` lines.
#[derive(Debug, Default)]
pub(crate) struct Texts {
    collector: Collector,
    /// The part the collected text is.
    part: Option<Part>,
    output: OutputMarkers,
}

impl Texts {
    /// An element whose text is `part` starts.
    pub fn begin(&mut self, part: Part) {
        self.collector.begin(match part {
            Part::Trace => LOCATION_SCAN,
            Part::Message | Part::Reason => Message::KEPT,
        });
        self.part = Some(part);
    }

    /// An element whose text the reader takes ([`Texts::take`]) starts.
    pub fn begin_value(&mut self, limit: usize) {
        self.collector.begin(limit);
        self.part = None;
    }

    /// An output element starts.
    pub fn begin_output(&mut self) {
        self.collector.finish();
        self.output.begin();
    }

    /// Whether text now would be read (collected, or scanned as an output): when not, a
    /// driver may step over it.
    pub fn wants_text(&self) -> bool {
        self.collector.active() || self.output.active
    }

    /// Whether text now changes nothing unless it holds a property marker or begins one: no
    /// element's text is being collected, and an output's marker scan, if one is open, has no
    /// line in progress.
    pub fn ignores_plain_text(&self) -> bool {
        !self.collector.active() && (!self.output.active || self.output.scanner.idle())
    }

    /// Text inside the root element; `markers` receives the property lines of an output.
    pub fn text(&mut self, raw: &[u8], markers: Option<&mut CaseProperties>) {
        if self.collector.active() {
            self.collector.text(raw);
        } else if let Some(markers) = markers {
            self.output.text(raw, markers);
        }
    }

    /// A reference inside the root element (see [`Texts::text`]).
    pub fn reference(&mut self, name: &[u8], markers: Option<&mut CaseProperties>) {
        if self.collector.active() {
            self.collector.reference(name);
        } else if let Some(markers) = markers {
            self.output.reference(name, markers);
        }
    }

    /// The element of a part ends: its text goes to `parts` (the first text of a part counts).
    pub fn end_part(&mut self, parts: Option<&mut Parts>) {
        let text = self.collector.take();
        let (Some(parts), Some(part)) = (parts, self.part.take()) else {
            return;
        };
        let slot = match part {
            Part::Message => &mut parts.message,
            Part::Trace => &mut parts.trace,
            Part::Reason => &mut parts.reason,
        };
        if slot.total == 0 {
            *slot = text;
        }
    }

    /// A part's or an output's element ends: what it said goes to the test's `parts`.
    pub fn end(&mut self, parts: Option<&mut Parts>) {
        if self.part.is_some() {
            self.end_part(parts);
        } else {
            self.end_output(parts.map(|p| &mut p.properties));
        }
    }

    /// The output element ends (its last line need not end with a newline).
    pub fn end_output(&mut self, markers: Option<&mut CaseProperties>) {
        match markers {
            Some(markers) => self.output.finish(markers),
            None => self.output.finish(&mut CaseProperties::default()),
        }
    }

    /// Stops collecting and hands over what was collected.
    pub fn take(&mut self) -> Bounded {
        self.part = None;
        self.collector.take()
    }

    /// Stops collecting and lends what was collected: its buffer stays here, for the next
    /// element's text (a report's failure texts are thousands of the same few sizes).
    pub fn stop(&mut self) -> &Bounded {
        self.part = None;
        self.collector.active = false;
        &self.collector.text
    }

    /// Stops collecting and returns the trimmed text.
    pub fn take_trimmed(&mut self) -> String {
        let text = self.take().text;
        match text.trim() {
            trimmed if trimmed.len() == text.len() => text,
            trimmed => trimmed.to_owned(),
        }
    }
}

/// The text of one element at a time, bounded, with invalid XML characters dropped and
/// references resolved.
#[derive(Debug, Default)]
struct Collector {
    text: Bounded,
    active: bool,
}

impl Collector {
    /// Starts collecting, keeping at most `limit` bytes.
    fn begin(&mut self, limit: usize) {
        self.text.reset(limit);
        self.active = true;
    }

    fn active(&self) -> bool {
        self.active
    }

    fn text(&mut self, raw: &[u8]) {
        if !self.active {
            return;
        }
        if self.text.full() {
            // Counted as it would have been kept, so a text counts the same however it
            // arrives (in one piece or several).
            self.text.skip(text::clean(raw).len());
        } else {
            self.text.push_str(&text::clean(raw));
        }
    }

    fn reference(&mut self, name: &[u8]) {
        if self.active {
            text::push_entity(&mut self.text, name);
        }
    }

    fn finish(&mut self) {
        self.active = false;
    }

    /// Stops collecting and hands over what was collected.
    fn take(&mut self) -> Bounded {
        self.active = false;
        std::mem::take(&mut self.text)
    }
}

/// A failure's message: `head` (the message), then `body` (the trace or the element's text)
/// on the next line when it adds something, bounded to [`Message::KEPT`] bytes with the
/// original length recorded. `None` when both are empty.
pub(crate) fn message(head: &Bounded, body: &Bounded) -> Option<Message> {
    let (head_text, body_text) = (head.text.trim(), body.text.trim());
    let mut message = Bounded::new(Message::KEPT);
    // One allocation of the size it will have, not one per push (a head, a line break, a
    // body: two copies more of a growing message).
    let len = head_text.len() + body_text.len();
    if len > 0 {
        message.text.reserve((len + 1).min(Message::KEPT));
    }
    if !head_text.is_empty() {
        message.push_str(head_text);
    }
    if !body_text.is_empty() && body_text != head_text {
        if !head_text.is_empty() {
            message.push_str("\n");
        }
        message.push_str(body_text);
    }
    let original_len =
        message.total + (head.total - head.text.len()) + (body.total - body.text.len());
    (message.total > 0).then_some(Message {
        text: message.text,
        original_len,
    })
}

/// The first source location named in a failure's trace, else in its message.
pub(crate) fn location(head: &Bounded, body: &Bounded) -> Option<SourceLocation> {
    find_location(body.text.trim())
        .or_else(|| find_location(head.text.trim()))
        .map(|(file, line)| SourceLocation { file, line })
}

/// The properties of the open suites, innermost last, inherited by every test in them (scope
/// [`PropertyScope::Suite`]).
#[derive(Debug, Default)]
pub(crate) struct SuiteProperties {
    properties: Vec<RawProperty>,
    /// Length of `properties` when each open suite opened.
    starts: Vec<usize>,
    /// Properties not inherited for a limit (too long, or one too many): the report says how
    /// many. A framework's own (`java.*`, NUnit's `_PID`) are passed over without a word.
    pub dropped: u64,
}

impl SuiteProperties {
    /// A suite opens.
    pub fn open(&mut self) {
        self.starts.push(self.properties.len());
    }

    /// The innermost suite closes: its properties are no longer inherited.
    pub fn close(&mut self) {
        if let Some(start) = self.starts.pop() {
            self.properties.truncate(start);
        }
    }

    /// A property of the innermost open suite. `internal` ones (the test framework's own
    /// bookkeeping) are passed over; values longer than [`MAX_SUITE_PROPERTY_VALUE`] and
    /// properties past [`MAX_SUITE_PROPERTIES`] are counted in `dropped`, not inherited: copied
    /// onto every test, they would multiply a report's size by its number of tests.
    pub fn add(&mut self, property: RawProperty, internal: bool) {
        if internal {
            return;
        }
        if property.value.len() > MAX_SUITE_PROPERTY_VALUE
            || self.properties.len() >= MAX_SUITE_PROPERTIES
        {
            self.dropped += 1;
        } else {
            self.properties.push(property);
        }
    }

    /// Appends the inherited properties to a test's own.
    pub fn inherit(&self, properties: &mut Vec<RawProperty>) {
        if !self.properties.is_empty() {
            properties.extend(self.properties.iter().cloned());
        }
    }
}

/// `[[PROPERTY|name=value]]` lines in a test's captured output (JUnit `<system-out>`, NUnit and
/// xUnit.net `<output>`, TRX `<StdOut>`), found line by line without keeping the output
/// (scope [`PropertyScope::SystemOut`]).
#[derive(Debug, Default)]
struct OutputMarkers {
    scanner: LineScanner,
    active: bool,
}

impl OutputMarkers {
    /// An output element starts.
    fn begin(&mut self) {
        self.scanner.reset();
        self.active = true;
    }

    fn text(&mut self, raw: &[u8], found: &mut CaseProperties) {
        if !self.active || (self.scanner.idle() && !raw.contains(&b'[')) {
            return;
        }
        let chunk = text::clean(raw);
        self.scanner
            .feed(&chunk, &mut |n: &str, v: &str| found.push(marker(n, v)));
    }

    fn reference(&mut self, name: &[u8], found: &mut CaseProperties) {
        if !self.active || self.scanner.idle() {
            return;
        }
        let scanner = &mut self.scanner;
        text::with_entity(name, &mut |s| {
            scanner.feed(s, &mut |n: &str, v: &str| found.push(marker(n, v)))
        });
    }

    /// The output element ends (its last line need not end with a newline).
    fn finish(&mut self, found: &mut CaseProperties) {
        if std::mem::take(&mut self.active) {
            self.scanner
                .finish(&mut |n: &str, v: &str| found.push(marker(n, v)));
        }
    }
}

fn marker(name: &str, value: &str) -> RawProperty {
    RawProperty {
        name: name.to_owned(),
        value: value.to_owned(),
        scope: PropertyScope::SystemOut,
    }
}

/// A test's name without its class: `A.BTests.Test` of class `A.BTests` → `Test` (as
/// EnricoMi names TRX results; xUnit.net writes names this way too). Unchanged when it does not
/// start with the class and a dot, or when nothing would be left.
pub(crate) fn without_class(mut name: String, classname: &str) -> String {
    let cut = classname.len() + 1;
    if !classname.is_empty()
        && name.len() > cut
        && name.starts_with(classname)
        && name.as_bytes()[classname.len()] == b'.'
    {
        name.drain(..cut);
    }
    name
}

/// A property of a test, scope [`PropertyScope::Case`] or [`PropertyScope::Suite`], with the
/// test frameworks' category names (NUnit `Category`, TRX `TestCategory`, xUnit.net `Category`
/// traits) said one way: `category`.
pub(crate) fn property(name: String, value: String, scope: PropertyScope) -> RawProperty {
    let name = if name.eq_ignore_ascii_case("category") || name.eq_ignore_ascii_case("testcategory")
    {
        "category".to_owned()
    } else {
        name
    };
    RawProperty { name, value, scope }
}

/// The readers' unit tests: a document in, its cases out (or its error), checked for what every
/// reader promises (`summary.cases` counts the calls, each case carries `input` and one run).
#[cfg(test)]
pub(crate) mod testing {
    use crate::error::ParseError;
    use crate::ingest::results::Summary;
    use crate::model::TestCase;

    /// A reader's `parse`, over a byte slice.
    pub type Read = fn(&[u8], usize, &mut dyn FnMut(TestCase)) -> Result<Summary, ParseError>;

    pub fn parse(read: Read, xml: &str) -> Result<(Vec<TestCase>, Summary), ParseError> {
        let mut cases = Vec::new();
        let summary = read(xml.as_bytes(), 4, &mut |c| cases.push(c))?;
        assert_eq!(summary.cases, cases.len() as u64);
        assert!(cases.iter().all(|c| c.input == 4 && c.runs == 1));
        Ok((cases, summary))
    }

    pub fn ok(read: Read, xml: &str) -> Vec<TestCase> {
        parse(read, xml)
            .unwrap_or_else(|e| panic!("{e}{}", e.location))
            .0
    }

    pub fn err(read: Read, xml: &str) -> ParseError {
        match parse(read, xml) {
            Ok((cases, _)) => panic!("accepted ({} cases)", cases.len()),
            Err(e) => e,
        }
    }

    pub fn msg(case: &TestCase) -> &str {
        case.message.as_ref().map_or("", |m| m.text.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounded(s: &str, limit: usize) -> Bounded {
        let mut b = Bounded::new(limit);
        b.push_str(s);
        b
    }

    #[test]
    fn messages_join_head_and_body_once() {
        let m = |h: &str, b: &str| message(&bounded(h, 100), &bounded(b, 100)).map(|m| m.text);
        assert_eq!(m(" boom ", "  at x\n").as_deref(), Some("boom\nat x"));
        assert_eq!(m("same", "same").as_deref(), Some("same"));
        assert_eq!(m("", "trace").as_deref(), Some("trace"));
        assert_eq!(m("", " \n"), None);
        let cut = message(&bounded(&"h".repeat(30), 10), &bounded("b", 10)).unwrap();
        assert_eq!((cut.text.len(), cut.original_len), (12, 32));
    }

    #[test]
    fn suite_properties_are_inherited_until_their_suite_closes() {
        let p = |v: &str| RawProperty {
            name: "control".into(),
            value: v.into(),
            scope: PropertyScope::Suite,
        };
        let mut s = SuiteProperties::default();
        s.open();
        s.add(p("outer"), false);
        s.add(p("internal"), true);
        s.open();
        s.add(p(&"x".repeat(MAX_SUITE_PROPERTY_VALUE + 1)), false);
        s.add(p("inner"), false);
        let mut got = Vec::new();
        s.inherit(&mut got);
        assert_eq!(got, [p("outer"), p("inner")]);
        s.close();
        got.clear();
        s.inherit(&mut got);
        assert_eq!(got, [p("outer")]);
        // The long one only: the framework's own is no loss to report.
        assert_eq!(s.dropped, 1);
    }

    #[test]
    fn output_markers_span_chunks_and_references() {
        let mut m = OutputMarkers::default();
        let mut found = CaseProperties::default();
        m.text(b"[[PROPERTY|control=CC6.1]]\n", &mut found);
        assert!(found.list.is_empty(), "not collecting before begin");
        m.begin();
        m.text(b"log\n[[PROPERTY|con", &mut found);
        m.text(b"trol=CC6", &mut found);
        m.reference(b"#46", &mut found);
        m.text(b"1]]", &mut found);
        m.finish(&mut found);
        assert_eq!(
            (found.list, found.dropped),
            (vec![marker("control", "CC6.1")], 0)
        );
    }

    /// A test keeps its first `MAX_CASE_PROPERTIES` properties, marker lines of its output
    /// included, and counts the rest.
    #[test]
    fn a_test_keeps_its_first_properties_and_counts_the_rest() {
        let mut m = OutputMarkers::default();
        let mut found = CaseProperties::default();
        m.begin();
        for i in 0..MAX_CASE_PROPERTIES + 40 {
            m.text(format!("[[PROPERTY|tag=t{i}]]\n").as_bytes(), &mut found);
        }
        found.push(marker("control", "CC6.1"));
        m.finish(&mut found);
        let (kept, dropped) = (found.list, found.dropped);
        assert_eq!((kept.len(), dropped), (MAX_CASE_PROPERTIES, 41));
        assert_eq!(
            kept[MAX_CASE_PROPERTIES - 1],
            marker("tag", &format!("t{}", MAX_CASE_PROPERTIES - 1))
        );
    }

    #[test]
    fn parts_give_the_status_and_the_message() {
        use CaseStatus::*;
        let mut texts = Texts::default();
        let mut parts = Parts::default();
        texts.begin(Part::Reason);
        texts.text(b"not yet", None);
        texts.end_part(Some(&mut parts));
        assert_eq!(parts.message().0.unwrap().text, "not yet");
        texts.begin(Part::Message);
        texts.text(b"boom &", None);
        texts.reference(b"amp", None);
        texts.end_part(Some(&mut parts));
        texts.begin(Part::Trace);
        texts.text(b"  at A.B() in /src/A.cs:line 7", None);
        texts.end_part(Some(&mut parts));
        texts.begin(Part::Message);
        texts.text(b"a second message is not kept", None);
        texts.end_part(Some(&mut parts));
        let (message, location) = parts.message();
        assert_eq!(
            message.unwrap().text,
            "boom &&\nat A.B() in /src/A.cs:line 7"
        );
        assert_eq!(
            location.map(|l| (l.file, l.line)),
            Some(("/src/A.cs".into(), 7))
        );
        assert_eq!(
            [Passed, Skipped, Failed, Errored].map(|s| parts.status(s)),
            [Passed, Skipped, Failed, Errored]
        );
        parts.skipped = true;
        assert_eq!(parts.status(Passed), Skipped);
        parts.failed = true;
        assert_eq!(
            [Passed, Skipped, Failed, Errored].map(|s| parts.status(s)),
            [Failed, Failed, Failed, Errored]
        );
        // Text outside a part is for the reader that began it.
        texts.begin_value(4);
        texts.text(b" value ", Some(&mut parts.properties));
        assert_eq!(texts.take_trimmed(), "val");
    }

    #[test]
    fn names_lose_their_class() {
        let short = |n: &str, c: &str| without_class(n.to_owned(), c);
        assert_eq!(short("A.B.Test(x: 1)", "A.B"), "Test(x: 1)");
        assert_eq!(short("A.B.", "A.B"), "A.B.");
        assert_eq!(short("A.BC.Test", "A.B"), "A.BC.Test");
        assert_eq!(short("Display name", "A.B"), "Display name");
        assert_eq!(short("A.B.Test", ""), "A.B.Test");
        assert_eq!(short("é.Test", "é"), "Test");
    }

    #[test]
    fn categories_are_said_one_way() {
        let scope = PropertyScope::Case;
        assert_eq!(
            property("Category".into(), "x".into(), scope).name,
            "category"
        );
        assert_eq!(
            property("TestCategory".into(), "x".into(), scope).name,
            "category"
        );
        assert_eq!(
            property("control".into(), "x".into(), scope).name,
            "control"
        );
    }
}
