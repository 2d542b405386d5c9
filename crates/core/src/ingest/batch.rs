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
use crate::model::TestCase;

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

/// Where a field's value is in a batch: raw in its bytes, or text in its texts.
#[derive(Debug, Clone)]
enum Span {
    Absent,
    Raw(Range<usize>),
    Text(Range<usize>),
}

/// Test cases with their raw strings, for another thread to decode ([`CaseBatch::lend_each`]).
#[derive(Debug, Default)]
pub struct CaseBatch {
    cases: Vec<TestCase>,
    /// Each case's raw strings (`None`: its strings are final). Apart from the cases, so a case
    /// is moved into the batch as it is, not into a pair first.
    spans: Vec<Option<[Span; 6]>>,
    /// Every raw field's bytes, one after another.
    bytes: Vec<u8>,
    /// Every text field, one after another (text already: read back without a UTF-8 check).
    texts: String,
    /// Each field's span in the case before: a text repeated from it (the suite's name and
    /// file, case after case) is kept once.
    last: [Option<Span>; 6],
}

/// Fields longer than this are decoded by the reader (bounded to [`MAX_STRING`]) rather than
/// copied raw: a batch never holds more than a decoded case would.
const RAW_MAX: usize = MAX_STRING;

impl CaseBatch {
    pub fn with_capacity(cases: usize) -> Self {
        CaseBatch {
            cases: Vec::with_capacity(cases),
            spans: Vec::with_capacity(cases),
            // A testcase's class, name and file take about 100 bytes: room for more, so a batch
            // of typical cases never grows (each growth copies the batch so far).
            bytes: Vec::with_capacity(cases * 160),
            texts: String::new(),
            last: Default::default(),
        }
    }

    /// Cases held.
    pub fn len(&self) -> usize {
        self.cases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// Bytes of strings held.
    pub fn bytes(&self) -> usize {
        self.bytes.len() + self.texts.len()
    }

    /// Keeps field `slot` of a case.
    fn keep(&mut self, slot: usize, field: Field<'_>) -> Span {
        let span = match field {
            Field::Absent => Span::Absent,
            Field::Raw(raw) => self.keep_raw(slot, raw),
            Field::RawText(raw) => self.keep_raw(slot, raw.as_bytes()),
            Field::Text(s) => self.keep_text(slot, s),
        };
        self.last[slot] = Some(span.clone());
        span
    }

    fn keep_raw(&mut self, slot: usize, raw: &[u8]) -> Span {
        if raw.len() > RAW_MAX {
            return self.keep_text(slot, &text::attr_string(raw, MAX_STRING));
        }
        let at = self.bytes.len();
        self.bytes.extend_from_slice(raw);
        Span::Raw(at..self.bytes.len())
    }

    fn keep_text(&mut self, slot: usize, s: &str) -> Span {
        if let Some(Span::Text(r)) = &self.last[slot]
            && &self.texts[r.clone()] == s
        {
            return Span::Text(r.clone());
        }
        let at = self.texts.len();
        self.texts.push_str(s);
        Span::Text(at..self.texts.len())
    }

    /// Each case in order, its strings decoded, lent to `on_case`. The strings' buffers are
    /// reused from one case to the next (those `on_case` takes are replaced).
    pub fn lend_each(self, on_case: &mut dyn FnMut(&mut TestCase)) {
        // The strings of the case before, kept for their buffers.
        let (mut suite, mut classname, mut name, mut file) =
            (String::new(), String::new(), String::new(), String::new());
        let (bytes, texts) = (self.bytes, self.texts);
        // UTF-8 checked once for the whole batch (a report nearly always is), not field by
        // field: a field of it is then text already (unless it is part of a character that
        // fields around it complete).
        let valid = std::str::from_utf8(&bytes).ok();
        let field = |span: &Span| match span {
            Span::Absent => Field::Absent,
            Span::Raw(r) => match valid.and_then(|t| t.get(r.clone())) {
                Some(text) => Field::RawText(text),
                None => Field::Raw(&bytes[r.clone()]),
            },
            Span::Text(r) => Field::Text(&texts[r.clone()]),
        };
        let mut cases = self.cases;
        // Borrowed in place: a case is a few hundred bytes.
        for (case, spans) in cases.iter_mut().zip(&self.spans) {
            let Some(spans) = spans else {
                on_case(case);
                continue;
            };
            let raw = RawStrings {
                suite: field(&spans[0]),
                suite_file: field(&spans[1]),
                classname: field(&spans[2]),
                class: field(&spans[3]),
                name: field(&spans[4]),
                file: field(&spans[5]),
            };
            case.suite = std::mem::take(&mut suite);
            case.classname = std::mem::take(&mut classname);
            case.name = std::mem::take(&mut name);
            case.file = Some(std::mem::take(&mut file));
            raw.decode_into(case);
            on_case(case);
            suite = std::mem::take(&mut case.suite);
            classname = std::mem::take(&mut case.classname);
            name = std::mem::take(&mut case.name);
            file = case.file.take().unwrap_or_default();
        }
    }
}

impl CaseSink for CaseBatch {
    fn case(&mut self, case: TestCase) {
        self.cases.push(case);
        self.spans.push(None);
    }

    fn raw_case(&mut self, case: TestCase, raw: &RawStrings<'_>) {
        let spans = [
            self.keep(0, raw.suite),
            self.keep(1, raw.suite_file),
            self.keep(2, raw.classname),
            self.keep(3, raw.class),
            self.keep(4, raw.name),
            self.keep(5, raw.file),
        ];
        self.cases.push(case);
        self.spans.push(Some(spans));
    }
}
