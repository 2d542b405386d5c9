//! Test cases on their way from the reading thread to the aggregating one, with the JUnit
//! testcase's own strings (suite, class name, name, file) still as the report wrote them.
//!
//! Decoding those strings (UTF-8 checks, entities, invalid characters, a `String` each) was
//! about a quarter of the reading thread's work on a large report, while the aggregating
//! thread waited on it. A reader hands each case to a [`CaseSink`]; the default sink decodes
//! at once (what every caller but the pipeline wants), a [`CaseBatch`] keeps the raw bytes
//! instead, and [`CaseBatch::lend_each`] decodes on the receiving thread, into buffers it
//! reuses. The decoding is the same function either way ([`RawStrings::decode_into`]): a case
//! reads the same whichever thread decoded it. Decoding cannot fail, so no error moves to
//! another thread or changes order.

use std::ops::Range;

use crate::ingest::text::{self, MAX_STRING};
use crate::model::{CaseStatus, TestCase};

/// One of a testcase's strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    /// The attribute is not there.
    Absent,
    /// An attribute value as written (entities and all): decoded by [`text::attr_string`].
    Raw(&'a [u8]),
    /// [`Field::Raw`] known to be UTF-8 (decoded by [`text::attr_str_into`]).
    RawText(&'a str),
    /// Already text (a suite's name, or a value too long to carry raw: decoded by the reader).
    Text(&'a str),
}

impl Field<'_> {
    /// The value decoded into `out` (emptied first); `false` when absent.
    fn decode_into(self, out: &mut String) -> bool {
        match self {
            Field::Absent => {
                out.clear();
                false
            }
            Field::Raw(raw) => {
                text::attr_string_into(raw, MAX_STRING, out);
                true
            }
            Field::RawText(raw) => {
                text::attr_str_into(raw, MAX_STRING, out);
                true
            }
            // A suite's name is the same for every case of the suite: usually already there,
            // in the buffer reused from the case before.
            Field::Text(s) => {
                if out != s {
                    out.clear();
                    out.push_str(s);
                }
                true
            }
        }
    }
}

/// A JUnit testcase's strings before decoding; the rules that turn them into the case's
/// `suite`, `classname`, `name` and `file` are [`RawStrings::decode_into`]'s.
#[derive(Debug, Clone, Copy)]
pub struct RawStrings<'a> {
    /// Innermost suite's name.
    pub suite: Field<'a>,
    /// Innermost `filepath` of the enclosing suites: the file of a testcase without one.
    pub suite_file: Field<'a>,
    pub classname: Field<'a>,
    /// `class=` (used when `classname=` is absent or empty).
    pub class: Field<'a>,
    pub name: Field<'a>,
    pub file: Field<'a>,
}

impl RawStrings<'_> {
    /// Fills `case`'s strings, reusing the buffers it holds (`file` included when `Some`).
    ///
    /// A failure-text location is kept only when the testcase's own attributes do not give
    /// both file and line (readers compute it regardless; whether the file is blank is known
    /// only once decoded).
    pub fn decode_into(&self, case: &mut TestCase) {
        self.suite.decode_into(&mut case.suite);
        self.classname.decode_into(&mut case.classname);
        if case.classname.is_empty() {
            self.class.decode_into(&mut case.classname);
        }
        self.name.decode_into(&mut case.name);
        let mut file = case.file.take().unwrap_or_default();
        let own = self.file.decode_into(&mut file) && !file.trim().is_empty();
        if own && case.line.is_some() {
            case.location = None;
        }
        if own || self.suite_file.decode_into(&mut file) {
            case.file = Some(file);
        }
    }
}

/// Where a reader puts each test case it has read.
pub trait CaseSink {
    /// A case whose strings are final.
    fn case(&mut self, case: TestCase);

    /// A JUnit case whose strings are `raw` (its own are empty). By default decoded here.
    fn raw_case(&mut self, mut case: TestCase, raw: &RawStrings<'_>) {
        raw.decode_into(&mut case);
        self.case(case);
    }
}

impl<F: FnMut(TestCase)> CaseSink for F {
    fn case(&mut self, case: TestCase) {
        self(case)
    }
}

/// Where a field's value is in a batch: `start..end` of its bytes, or of its texts when
/// [`Span::TEXT`] is set in `start`; `start == Span::ABSENT` when the attribute is not there.
/// Two `u32`s, not a `Range<usize>` in an enum (four words): a batch holds six per case, and
/// the reading thread writes every byte of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Default for Span {
    fn default() -> Self {
        Span::NONE
    }
}

impl Span {
    const ABSENT: u32 = u32::MAX;
    const TEXT: u32 = 1 << 31;
    const NONE: Span = Span {
        start: Span::ABSENT,
        end: 0,
    };

    /// `range` of the bytes (`text`: of the texts). A batch holds at most [`BATCH_MAX`] bytes
    /// of each, far below [`Span::TEXT`].
    fn new(range: Range<usize>, text: bool) -> Span {
        let flag = if text { Span::TEXT } else { 0 };
        Span {
            start: range.start as u32 | flag,
            end: range.end as u32,
        }
    }

    fn is_text(self) -> bool {
        self.start != Span::ABSENT && self.start & Span::TEXT != 0
    }

    fn range(self) -> Range<usize> {
        (self.start & !Span::TEXT) as usize..self.end as usize
    }
}

/// A case in a batch: nearly always a passing JUnit testcase with nothing but its attributes,
/// carried as its raw strings' spans and the few values it has (about eighty bytes where a
/// `TestCase` is about three hundred, written by one thread and read by the other).
#[derive(Debug, Clone, Copy)]
struct Slim {
    /// suite, suite file, classname, class, name, file ([`RawStrings`]' order).
    spans: [Span; 6],
    duration_s: f64,
    line: Option<u32>,
    input: u32,
    status: CaseStatus,
    flaky: bool,
    /// Whether the strings are the spans (else the case's own, final).
    raw: bool,
    /// The case in `full` when it carries more (a message, a location, properties, reruns,
    /// an input index past `u32`, or strings of its own): [`Slim::SLIM`] when it does not.
    full: u32,
}

impl Slim {
    const SLIM: u32 = u32::MAX;
}

/// Test cases with their raw strings, for another thread to decode ([`CaseBatch::lend_each`]).
#[derive(Debug, Default)]
pub struct CaseBatch {
    /// Every case in order.
    slims: Vec<Slim>,
    /// The cases that carry more than a [`Slim`] holds.
    full: Vec<TestCase>,
    /// Every raw field's bytes, one after another.
    bytes: Vec<u8>,
    /// Every text field, one after another (text already: read back without a UTF-8 check).
    texts: String,
    /// Each field's span in the case before: a text repeated from it (the suite's name and
    /// file, case after case) is kept once.
    last: [Span; 6],
}

/// Fields longer than this are decoded by the reader (bounded to [`MAX_STRING`]) rather than
/// copied raw: a batch never holds more than a decoded case would.
const RAW_MAX: usize = MAX_STRING;

/// The most bytes (and texts) a batch can hold: its sender sends it at 1 MiB, and one case
/// adds at most six fields of [`MAX_STRING`]; far below what a [`Span`] can point into.
const BATCH_MAX: usize = 64 << 20;

impl CaseBatch {
    pub fn with_capacity(cases: usize) -> Self {
        CaseBatch {
            slims: Vec::with_capacity(cases),
            full: Vec::new(),
            // A testcase's class, name and file take about 100 bytes: room for more, so a batch
            // of typical cases never grows (each growth copies the batch so far).
            bytes: Vec::with_capacity(cases * 160),
            texts: String::new(),
            last: [Span::NONE; 6],
        }
    }

    /// Cases held.
    pub fn len(&self) -> usize {
        self.slims.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slims.is_empty()
    }

    /// Bytes of strings held.
    pub fn bytes(&self) -> usize {
        self.bytes.len() + self.texts.len()
    }

    /// Keeps field `slot` of a case.
    fn keep(&mut self, slot: usize, field: Field<'_>) -> Span {
        let span = match field {
            Field::Absent => Span::NONE,
            Field::Raw(raw) => self.keep_raw(slot, raw),
            Field::RawText(raw) => self.keep_raw(slot, raw.as_bytes()),
            Field::Text(s) => self.keep_text(slot, s),
        };
        self.last[slot] = span;
        span
    }

    fn keep_raw(&mut self, slot: usize, raw: &[u8]) -> Span {
        if raw.len() > RAW_MAX {
            return self.keep_text(slot, &text::attr_string(raw, MAX_STRING));
        }
        let at = self.bytes.len();
        self.bytes.extend_from_slice(raw);
        Span::new(at..self.bytes.len(), false)
    }

    fn keep_text(&mut self, slot: usize, s: &str) -> Span {
        let last = self.last[slot];
        if last.is_text() && &self.texts[last.range()] == s {
            return last;
        }
        let at = self.texts.len();
        self.texts.push_str(s);
        Span::new(at..self.texts.len(), true)
    }

    /// Adds `case` (its strings in `spans` when `raw`): slim when it carries nothing more.
    fn push(&mut self, case: TestCase, spans: [Span; 6], raw: bool) {
        let input = u32::try_from(case.input).ok();
        let mut slim = Slim {
            spans,
            duration_s: case.duration_s,
            line: case.line,
            input: input.unwrap_or(0),
            status: case.status,
            flaky: case.flaky,
            raw,
            full: Slim::SLIM,
        };
        let more = case.location.is_some()
            || case.message.is_some()
            || !case.properties.is_empty()
            || case.runs != 1
            || input.is_none();
        if !raw || more {
            slim.full = self.full.len() as u32;
            self.full.push(case);
        }
        self.slims.push(slim);
    }

    /// Each case in order, its strings decoded, lent to `on_case`, then the batch emptied (its
    /// buffers kept, for the reader to fill again: [`CaseBatch::clear`]). The strings' buffers
    /// are reused from one case to the next (those `on_case` takes are replaced).
    pub fn lend_each(&mut self, on_case: &mut dyn FnMut(&mut TestCase)) {
        let (bytes, texts) = (&self.bytes, &self.texts);
        // UTF-8 checked once for the whole batch (a report nearly always is), not field by
        // field: a field of it is then text already (unless it is part of a character that
        // fields around it complete).
        let valid = std::str::from_utf8(bytes).ok();
        let field = |span: Span| {
            if span.start == Span::ABSENT {
                return Field::Absent;
            }
            let r = span.range();
            if span.is_text() {
                return Field::Text(&texts[r]);
            }
            match valid.and_then(|t| t.get(r.clone())) {
                Some(text) => Field::RawText(text),
                None => Field::Raw(&bytes[r]),
            }
        };
        // The case every slim one is lent as, its buffers reused from one to the next.
        let mut scratch = TestCase::empty(0);
        for slim in &self.slims {
            let raw = slim.raw.then(|| RawStrings {
                suite: field(slim.spans[0]),
                suite_file: field(slim.spans[1]),
                classname: field(slim.spans[2]),
                class: field(slim.spans[3]),
                name: field(slim.spans[4]),
                file: field(slim.spans[5]),
            });
            if slim.full == Slim::SLIM {
                let case = &mut scratch;
                (case.line, case.duration_s) = (slim.line, slim.duration_s);
                (case.status, case.flaky) = (slim.status, slim.flaky);
                (case.input, case.runs) = (slim.input as usize, 1);
                // What the case before may have left (`on_case` may take or change them).
                (case.location, case.message) = (None, None);
                case.properties.clear();
                if let Some(raw) = &raw {
                    raw.decode_into(case);
                }
                on_case(case);
                continue;
            }
            let case = &mut self.full[slim.full as usize];
            let Some(raw) = &raw else {
                on_case(case);
                continue;
            };
            // The scratch case's buffers lent to this one, and taken back.
            case.suite = std::mem::take(&mut scratch.suite);
            case.classname = std::mem::take(&mut scratch.classname);
            case.name = std::mem::take(&mut scratch.name);
            case.file = scratch.file.take();
            raw.decode_into(case);
            on_case(case);
            scratch.suite = std::mem::take(&mut case.suite);
            scratch.classname = std::mem::take(&mut case.classname);
            scratch.name = std::mem::take(&mut case.name);
            scratch.file = case.file.take();
        }
        self.clear();
    }

    /// Empties the batch, keeping its buffers' room: a batch sent back to the reader is filled
    /// again without allocating (fresh memory is a page fault per page, on both threads).
    pub fn clear(&mut self) {
        self.slims.clear();
        self.full.clear();
        self.bytes.clear();
        self.texts.clear();
        self.last = [Span::NONE; 6];
    }
}

impl CaseSink for CaseBatch {
    fn case(&mut self, case: TestCase) {
        self.push(case, [Span::NONE; 6], false);
    }

    fn raw_case(&mut self, mut case: TestCase, raw: &RawStrings<'_>) {
        // Past what a span reaches (a sender that never sends): decoded here instead.
        if self.bytes.len().max(self.texts.len()) > BATCH_MAX {
            raw.decode_into(&mut case);
            self.case(case);
            return;
        }
        let spans = [
            self.keep(0, raw.suite),
            self.keep(1, raw.suite_file),
            self.keep(2, raw.classname),
            self.keep(3, raw.class),
            self.keep(4, raw.name),
            self.keep(5, raw.file),
        ];
        self.push(case, spans, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Message, PropertyScope, RawProperty, SourceLocation};

    /// A batch lent twice (emptied and filled again, as the reader reuses it), to an `on_case`
    /// that takes the strings and leaves a location, message and properties behind in the
    /// lent case, as the aggregator may: each case reads as it was put in, slim or full,
    /// nothing carried over from the case before.
    #[test]
    fn a_reused_batch_lends_each_case_as_it_was_put_in() {
        let mut batch = CaseBatch::with_capacity(4);
        for round in 0..2 {
            let mut put = Vec::new();
            for i in 0..6usize {
                let mut case = TestCase::empty(round * 10 + i);
                case.line = (i % 2 == 0).then_some(i as u32 + 1);
                case.duration_s = i as f64 / 8.0;
                case.status = [CaseStatus::Passed, CaseStatus::Failed][i % 2];
                case.flaky = i == 4;
                if i == 3 {
                    case.message = Some(Message::bounded("boom"));
                    case.location = Some(SourceLocation {
                        file: "t.py".into(),
                        line: 9,
                    });
                }
                if i == 5 {
                    case.properties.push(RawProperty {
                        name: "control".into(),
                        value: "CC6.1".into(),
                        scope: PropertyScope::Case,
                    });
                    case.runs = 2;
                }
                let classname = format!("c.K{i}");
                let name = format!("t{round}{i}");
                let raw = RawStrings {
                    suite: Field::Text("suite"),
                    suite_file: if i == 1 {
                        Field::Absent
                    } else {
                        Field::Text("s.py")
                    },
                    classname: Field::Raw(classname.as_bytes()),
                    class: Field::Absent,
                    name: Field::Raw(name.as_bytes()),
                    file: if i == 2 {
                        Field::Raw(b"own.py")
                    } else {
                        Field::Absent
                    },
                };
                let mut decoded = case.clone();
                raw.decode_into(&mut decoded);
                put.push(decoded);
                batch.raw_case(case, &raw);
            }
            let mut got = Vec::new();
            batch.lend_each(&mut |c| {
                got.push(c.clone());
                // What an `on_case` may leave behind in the case it was lent.
                std::mem::take(&mut c.name);
                c.file = None;
                c.location = Some(SourceLocation {
                    file: "left.py".into(),
                    line: 1,
                });
                c.message = Some(Message::bounded("left"));
                c.properties.push(RawProperty {
                    name: "left".into(),
                    value: "x".into(),
                    scope: PropertyScope::Case,
                });
                c.runs = 7;
            });
            assert_eq!(got, put, "round {round}");
            assert!(batch.is_empty() && batch.bytes() == 0);
        }
    }
}
