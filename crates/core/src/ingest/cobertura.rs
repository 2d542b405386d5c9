//! Streaming Cobertura XML reader (coverage.py, Istanbul, gcovr, .NET coverlet flavours).
//!
//! File names are `class@filename`; the report's `<sources><source>` are returned as roots so
//! the caller can join them (as diff-cover does). Only `class/lines/line` elements count (the
//! copies under `methods/method/lines` are ignored, as in diff-cover). Branch counts come from
//! `condition-coverage="50% (1/2)"`. A `DOCTYPE` that declares entities is rejected, and the
//! document must be well-formed (see [`super::xml`]).
//!
//! Records no tool writes are errors: line number 0 and negative hit counts. A `<line>` without
//! a `hits` attribute carries no hit count: it is not measured (never read as uncovered), and
//! the report's `warnings` say how many there were.
//!
//! A large report is read on two threads (see [`parse`]); the answer, errors included, is the
//! one reading it front to back gives.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::xml;
use crate::error::ParseError;
use crate::model::coverage::{CoverageFormat, LineHits, RawFile, RawReport, hits, normalize_lines};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tag {
    Sources,
    Source,
    Class,
    Lines,
    Other,
}

/// An open element: what it is to the reader, and its name as written (`None` when it could
/// not be taken from the document: such a part never hands over).
type Open<'a> = (Tag, Option<&'a [u8]>);

/// Reports from this size on are read by two threads.
const SPLIT_MIN: usize = 4 << 20;

/// Parses a Cobertura XML report.
///
/// Reads the report from its bytes in memory: quick-xml hands out events that borrow them, no
/// copy per element. From [`SPLIT_MIN`] bytes on, a second thread reads the second half
/// speculatively: it starts at a `<class` tag past the middle, assuming the elements open
/// there are those open around the first class (`coverage/packages/package/classes`, as every
/// tool writes them). Its result is taken only when the first thread, reading on, stops at
/// exactly that tag with exactly those elements open (names and meaning) and the second
/// thread read to the end without any error; otherwise the first thread reads on alone. So a
/// document that is not shaped that way, or has an error anywhere, reads (and fails) exactly
/// as on one thread.
pub fn parse(bytes: &[u8]) -> Result<RawReport, ParseError> {
    parse_split(bytes, (bytes.len() >= SPLIT_MIN).then_some(bytes.len() / 2)).0
}

/// [`parse`], the second thread starting at the first `<class` tag at or after `split`
/// (`None`: one thread); `true` when the second thread's result was used.
fn parse_split(doc: &[u8], split: Option<usize>) -> (Result<RawReport, ParseError>, bool) {
    let mut first = Part::new(doc, 0, Vec::new(), xml::Root::default(), None);
    let start = match split {
        None => None,
        Some(split) => match first.run(Until::FirstClass) {
            Err(e) => return (Err(e), false),
            Ok(Stop::Eof) => return (first.into_report(), false),
            Ok(Stop::At(first_class)) => class_tag_from(doc, split.max(first_class + 1)),
        },
    };
    let Some(start) = start else {
        return (
            first.run(Until::End).and_then(|_| first.into_report()),
            false,
        );
    };
    let context = first.stack.clone();
    let root = first.root.clone();
    let cancel = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let second = std::thread::Builder::new()
            .name("cobertura-2".into())
            .spawn_scoped(scope, || {
                let mut second =
                    Part::new(doc, start, context.clone(), root.clone(), Some(&cancel));
                second.run(Until::End).ok().map(|_| second)
            });
        let Ok(second) = second else {
            return (
                first.run(Until::End).and_then(|_| first.into_report()),
                false,
            );
        };
        let stop = first.run(Until::Offset(start));
        // (The same elements open means the same place relative to the root element.)
        let at_start = matches!(stop, Ok(Stop::At(at)) if at == start)
            && first.source_text.is_none()
            && same_elements(&first.stack, &context);
        if !at_start {
            cancel.store(true, Ordering::Relaxed);
        }
        let second = second.join().ok().flatten();
        let used = match (stop, second) {
            (Err(e), _) => return (Err(e), false),
            (Ok(Stop::At(_)), Some(second)) if at_start => {
                first.absorb(second);
                true
            }
            (Ok(Stop::At(_)), _) => {
                if let Err(e) = first.run(Until::End) {
                    return (Err(e), false);
                }
                false
            }
            (Ok(Stop::Eof), _) => false,
        };
        (first.into_report(), used)
    })
}

/// The first `<class` start tag at or after `from`.
fn class_tag_from(doc: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = memchr::memmem::find(doc.get(at..)?, b"<class") {
        let tag = at + i;
        if is_class_tag(&doc[tag..]) {
            return Some(tag);
        }
        at = tag + 1;
    }
    None
}

/// `rest` starts with a `<class` start tag (not `<classes`).
fn is_class_tag(rest: &[u8]) -> bool {
    rest.starts_with(b"<class")
        && matches!(
            rest.get(6),
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>')
        )
}

/// The same elements open, outermost first: same meaning, same names (all known).
fn same_elements(a: &[Open<'_>], b: &[Open<'_>]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && x.1.is_some() && x.1 == y.1)
}

/// Where [`Part::run`] stops.
#[derive(Clone, Copy)]
enum Until {
    End,
    /// Before the first `<class` start tag.
    FirstClass,
    /// Before the first event at or past this offset.
    Offset(usize),
}

enum Stop {
    Eof,
    /// Stopped before the event at this offset.
    At(usize),
}

/// One reader's state over the document from `base` on.
struct Part<'a> {
    doc: &'a [u8],
    base: usize,
    xml: Reader<&'a [u8]>,
    stack: Vec<Open<'a>>,
    /// How many elements at the bottom of `stack` were open when this part started (the
    /// second part's context): quick-xml did not see them start, so their end tags are checked
    /// here.
    inherited: usize,
    root: xml::Root,
    roots: Vec<String>,
    source_text: Option<String>,
    files: Vec<RawFile>,
    index: HashMap<String, usize>,
    current: Option<usize>,
    uncounted: u64,
    /// Set when the second part's result will not be used.
    cancel: Option<&'a AtomicBool>,
}

impl<'a> Part<'a> {
    fn new(
        doc: &'a [u8],
        base: usize,
        context: Vec<Open<'a>>,
        root: xml::Root,
        cancel: Option<&'a AtomicBool>,
    ) -> Part<'a> {
        let mut xml = reader_for(&doc[base..]);
        // The context's end tags are checked by `run`; a stray end tag past the context
        // fails there too.
        xml.config_mut().allow_unmatched_ends = base > 0;
        let mut stack = Vec::with_capacity(16);
        let inherited = context.len();
        stack.extend(context);
        Part {
            doc,
            base,
            xml,
            stack,
            inherited,
            root,
            roots: Vec::new(),
            source_text: None,
            files: Vec::new(),
            index: HashMap::new(),
            current: None,
            uncounted: 0,
            cancel,
        }
    }

    /// Reads events until `until`. (A second part's errors are never shown: the first part
    /// reads that stretch again and reports its own.)
    fn run(&mut self, until: Until) -> Result<Stop, ParseError> {
        loop {
            let at = self.base + self.xml.buffer_position() as usize;
            match until {
                Until::FirstClass if is_class_tag(&self.doc[at..]) => return Ok(Stop::At(at)),
                Until::Offset(offset) if at >= offset => return Ok(Stop::At(at)),
                _ => {}
            }
            let pos = at as u64;
            let ev = self.xml.read_event().map_err(|e| xml_error(&self.xml, e))?;
            let err = |m: String| ParseError::at(None, Some(pos), m);
            match ev {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(ev, Event::Empty(_));
                    let name = xml::local(e.name().into_inner());
                    self.root
                        .element(self.stack.len(), e.name().as_ref())
                        .map_err(err)?;
                    if self.stack.is_empty() && name != b"coverage" {
                        return Err(err(root_error(name)));
                    }
                    let depth = self.stack.len();
                    let parent = self.stack.last().map(|o| o.0);
                    // A class's `<line>` (most of a report) is checked as it is read.
                    let reads_line = name == b"line"
                        && self.current.is_some()
                        && parent == Some(Tag::Lines)
                        && depth >= 2
                        && self.stack[depth - 2].0 == Tag::Class;
                    if !reads_line {
                        xml::check_attributes(e).map_err(err)?;
                    }
                    let tag = match name {
                        b"sources" => Tag::Sources,
                        b"source" if parent == Some(Tag::Sources) => {
                            if !empty {
                                self.source_text = Some(String::new());
                            }
                            Tag::Source
                        }
                        b"class" => {
                            if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                                return Err(err("not needed".into()));
                            }
                            self.class(attr_string(&self.xml, e, b"filename")?);
                            Tag::Class
                        }
                        b"lines" => Tag::Lines,
                        b"line" => {
                            if let (true, Some(idx)) = (reads_line, self.current) {
                                match read_line(e).map_err(err)? {
                                    Some(lh) => {
                                        if let Some(f) = self.files.get_mut(idx) {
                                            f.lines.push(lh);
                                        }
                                    }
                                    None => self.uncounted += 1,
                                }
                            }
                            Tag::Other
                        }
                        _ => Tag::Other,
                    };
                    if empty {
                        self.root.end(depth);
                    } else {
                        // The name as written, taken from the document so a part's open
                        // elements can be compared with another's.
                        let qname = e.name();
                        let written = self
                            .doc
                            .get(at + 1..at + 1 + qname.as_ref().len())
                            .filter(|w| *w == qname.as_ref());
                        super::push_bounded(&mut self.stack, (tag, written), pos)?;
                    }
                }
                Event::End(ref e) => {
                    let Some((tag, written)) = self.stack.pop() else {
                        return Err(err("an end tag outside every element".into()));
                    };
                    if self.stack.len() < self.inherited {
                        self.inherited -= 1;
                        if written != Some(e.name().as_ref()) {
                            return Err(err("an end tag that does not match".into()));
                        }
                    }
                    self.root.end(self.stack.len());
                    match tag {
                        Tag::Source => {
                            if let Some(t) = self.source_text.take() {
                                let t = t.trim();
                                if !t.is_empty() {
                                    self.roots.push(t.to_string());
                                }
                            }
                        }
                        Tag::Class => self.current = None,
                        _ => {}
                    }
                }
                Event::Text(ref t) => {
                    self.root
                        .text(self.stack.len(), t)
                        .map_err(|(off, m)| ParseError::at(None, Some(pos + off as u64), m))?;
                    if let Some(s) = self.source_text.as_mut() {
                        let raw = t
                            .decode()
                            .map_err(|e| ParseError::at(None, Some(pos), e.to_string()))?;
                        s.push_str(&raw);
                    }
                }
                Event::CData(ref t) => {
                    self.root
                        .markup(self.stack.len(), "a CDATA section")
                        .map_err(err)?;
                    if let Some(s) = self.source_text.as_mut() {
                        s.push_str(&String::from_utf8_lossy(t));
                    }
                }
                Event::GeneralRef(ref r) => {
                    self.root
                        .markup(self.stack.len(), "a reference")
                        .map_err(err)?;
                    let c = resolve_ref(r).map_err(err)?;
                    if let Some(s) = self.source_text.as_mut() {
                        s.push_str(&c);
                    }
                }
                Event::DocType(ref d) => check_doctype(d, pos)?,
                Event::Decl(_) if self.root.seen => return Err(err(decl_after_start())),
                Event::Eof => {
                    if !self.stack.is_empty() {
                        return Err(truncated(pos));
                    }
                    return Ok(Stop::Eof);
                }
                _ => {}
            }
        }
    }

    /// A `<class>` starts: its lines go to the record of its `filename` (none when it has
    /// no file name).
    fn class(&mut self, filename: Option<String>) {
        self.current = match filename {
            Some(f) if !f.is_empty() => {
                let next = self.files.len();
                let idx = *self.index.entry(f.clone()).or_insert(next);
                if idx == next {
                    self.files.push(RawFile {
                        name: f,
                        lines: Vec::new(),
                        totals: None,
                    });
                }
                Some(idx)
            }
            _ => None,
        };
    }

    /// Takes in what the second part read, which follows this part's in the document.
    fn absorb(&mut self, second: Part<'a>) {
        self.roots.extend(second.roots);
        self.uncounted += second.uncounted;
        for f in second.files {
            match self.index.get(&f.name) {
                Some(&i) => self.files[i].lines.extend(f.lines),
                None => {
                    self.index.insert(f.name.clone(), self.files.len());
                    self.files.push(f);
                }
            }
        }
        self.root = second.root;
        self.stack = second.stack;
    }

    fn into_report(mut self) -> Result<RawReport, ParseError> {
        if !self.root.seen {
            return Err(ParseError::new("empty XML document: no <coverage> element"));
        }
        for f in &mut self.files {
            normalize_lines(&mut f.lines);
        }
        let mut warnings = Vec::new();
        if self.uncounted > 0 {
            warnings.push(format!(
                "{} <line> element(s) carry no hit count (no `hits` attribute): those \
                 lines are not measured",
                self.uncounted
            ));
        }
        Ok(RawReport {
            format: CoverageFormat::Cobertura,
            roots: self.roots,
            files: self.files,
            warnings,
        })
    }
}

/// A quick-xml reader with the checks a conforming processor makes that quick-xml can make
/// itself (end tags match, no bare `&` in text, no `--` in comments).
pub(crate) fn reader_for<R: BufRead>(reader: R) -> Reader<R> {
    let mut xml = Reader::from_reader(reader);
    let config = xml.config_mut();
    config.check_end_names = true;
    config.allow_dangling_amp = false;
    config.check_comments = true;
    xml
}

pub(crate) fn decl_after_start() -> String {
    "an XML declaration `<?xml …?>` after the document started is not well-formed XML".into()
}

fn root_error(name: &[u8]) -> String {
    format!(
        "not a Cobertura report: root element is <{}>, expected <coverage>",
        String::from_utf8_lossy(name)
    )
}

/// One `class/lines/line`, its attributes checked as they are read; `None` when it carries no
/// hit count. The errors are those of checking the element first, then reading it: a value
/// that does not parse is reported only once every attribute has passed the XML checks.
fn read_line(e: &BytesStart<'_>) -> Result<Option<LineHits>, String> {
    let mut lh = LineHits::default();
    let mut have_number = false;
    let mut have_hits = false;
    let mut bad: Option<String> = None;
    for a in xml::checked_attributes(e) {
        let a = a?;
        match xml::local(a.key.as_ref()) {
            b"number" => match parse_uint(&a.value).and_then(|v| u32::try_from(v).ok()) {
                Some(0) => {
                    bad.get_or_insert_with(|| line_zero("number"));
                }
                Some(line) => {
                    lh.line = line;
                    have_number = true;
                }
                None => {
                    bad.get_or_insert_with(|| bad_attr("number", &a.value));
                }
            },
            b"hits" => match parse_hits(&a.value) {
                Some(count) => {
                    lh.hits = hits(count);
                    have_hits = true;
                }
                None => {
                    bad.get_or_insert_with(|| bad_attr("hits", &a.value));
                }
            },
            b"condition-coverage" => {
                if let Some((c, t)) = parse_condition(&a.value) {
                    lh.branches_covered = c;
                    lh.branches_total = t;
                }
            }
            _ => {}
        }
    }
    if let Some(bad) = bad {
        return Err(bad);
    }
    if !have_number {
        return Err("<line> without a number attribute".into());
    }
    Ok(have_hits.then_some(lh))
}

/// Line numbers start at 1: a line 0 is a record no coverage tool writes.
pub(crate) fn line_zero(attr: &str) -> String {
    format!("<line> has {attr}=\"0\": line numbers start at 1 (no coverage tool writes line 0)")
}

fn bad_attr(name: &str, v: &[u8]) -> String {
    format!(
        "<line> has {name}={:?}, expected a non-negative integer",
        String::from_utf8_lossy(v)
    )
}

/// A count or line number: ASCII digits (white space around allowed); past `u64::MAX`,
/// `u64::MAX`.
pub(crate) fn parse_uint(b: &[u8]) -> Option<u64> {
    let b = b.trim_ascii();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        b.iter()
            .try_fold(0u64, |n, &d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })
            .unwrap_or(u64::MAX),
    )
}

/// Hit counts: non-negative integers; a decimal one (`1.0`) by its integer part. A negative
/// count is an error (no tool writes one; it is a corrupt or overflowed counter).
fn parse_hits(b: &[u8]) -> Option<u64> {
    let b = b.trim_ascii();
    match b.iter().position(|&c| c == b'.') {
        Some(dot) if b[dot + 1..].iter().all(u8::is_ascii_digit) => parse_uint(&b[..dot]),
        Some(_) => None,
        None => parse_uint(b),
    }
}

/// `50% (1/2)` → (1, 2).
fn parse_condition(b: &[u8]) -> Option<(u32, u32)> {
    let open = b.iter().position(|&c| c == b'(')?;
    let close = open + b[open..].iter().position(|&c| c == b')')?;
    let inner = &b[open + 1..close];
    let slash = inner.iter().position(|&c| c == b'/')?;
    let c = u32::try_from(parse_uint(&inner[..slash])?).ok()?;
    let t = u32::try_from(parse_uint(&inner[slash + 1..])?).ok()?;
    Some((c.min(t), t))
}

/// An attribute, decoded, unescaped and normalised.
pub(crate) fn attr_string<R>(
    xml: &Reader<R>,
    e: &BytesStart<'_>,
    key: &[u8],
) -> Result<Option<String>, ParseError> {
    for a in xml::checked_split(e) {
        let a = a.map_err(|err| {
            ParseError::at(
                None,
                Some(xml.buffer_position()),
                format!("bad attribute: {err}"),
            )
        })?;
        if xml::local(a.key.as_ref()) == key {
            // Checked by `xml::check_attributes` when the element was read: decode and
            // normalise (XML 1.0 §3.3.3).
            return Ok(Some(xml::attr_value(&a.value)));
        }
    }
    Ok(None)
}

/// Rejects a `DOCTYPE` that declares entities (billion laughs, external entities).
pub(crate) fn check_doctype(d: &[u8], pos: u64) -> Result<(), ParseError> {
    if d.windows(7).any(|w| w == b"<!ENTIT") || d.windows(6).any(|w| w == b"ENTITY") {
        return Err(ParseError::at(
            None,
            Some(pos),
            "XML DOCTYPE declares entities; refusing to read it (coverage reports never need them)",
        ));
    }
    Ok(())
}

/// Predefined and character references only (entity declarations are rejected).
pub(crate) fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> Result<String, String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Ok(c.to_string());
    }
    let name: &[u8] = r.as_ref();
    Ok(match name {
        b"amp" => "&",
        b"lt" => "<",
        b"gt" => ">",
        b"quot" => "\"",
        b"apos" => "'",
        _ => {
            return Err(format!(
                "unknown XML entity &{};",
                String::from_utf8_lossy(name)
            ));
        }
    }
    .to_string())
}

pub(crate) fn truncated(pos: u64) -> ParseError {
    ParseError::at(
        None,
        Some(pos),
        "XML document ends before its elements are closed (truncated file?)",
    )
}

pub(crate) fn xml_error<R>(xml: &Reader<R>, e: quick_xml::Error) -> ParseError {
    ParseError::at(
        None,
        Some(xml.error_position()),
        format!("malformed XML: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sources_classes_and_branches() {
        let x = r#"<?xml version="1.0"?>
<coverage><sources><source>/repo/a&amp;b</source><source>
  /other </source></sources>
<packages><package name="p"><classes>
<class name="A" filename="pkg/a.py">
  <methods><method name="f"><lines><line number="1" hits="0"/></lines></method></methods>
  <lines><line number="1" hits="3"/><line number="2" hits="0" branch="true" condition-coverage="50% (1/2)"/></lines>
</class>
<class name="A$1" filename="pkg/a.py"><lines><line number="2" hits="1"/></lines></class>
<class name="B" filename="b.py"/>
</classes></package></packages></coverage>"#;
        let r = parse(x.as_bytes()).unwrap();
        assert_eq!(r.roots, vec!["/repo/a&b".to_string(), "/other".to_string()]);
        assert_eq!(r.files.len(), 2);
        let l: Vec<(u32, u32, u32, u32)> = r.files[0]
            .lines
            .iter()
            .map(|l| (l.line, l.hits, l.branches_covered, l.branches_total))
            .collect();
        assert_eq!(l, vec![(1, 3, 0, 0), (2, 1, 1, 2)]);
        assert!(r.files[1].lines.is_empty());
    }

    #[test]
    fn rejects_entities_and_garbage() {
        let x = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><coverage/>"#;
        assert!(
            parse(x.as_bytes())
                .unwrap_err()
                .message
                .contains("entities")
        );
        assert!(
            parse(&b"<report/>"[..])
                .unwrap_err()
                .message
                .contains("not a Cobertura")
        );
        assert!(parse(&b"<coverage><class filename='a'><lines><line number='x'/>"[..]).is_err());
        assert!(parse(&b"<coverage><packages></coverage>"[..]).is_err());
        assert!(parse(&b""[..]).is_err());
    }

    /// A class's `<line>` is checked while it is read; the errors stay those of checking the
    /// element whole first (an XML error in any attribute), then reading it (the first value
    /// that does not parse), then what is missing.
    #[test]
    fn a_line_reports_xml_errors_before_bad_values() {
        let err = |line: &str| {
            let doc = format!(
                r#"<coverage><packages><package><classes><class filename="a.py"><lines>{line}</lines></class></classes></package></packages></coverage>"#
            );
            parse(doc.as_bytes()).unwrap_err().message
        };
        let cases = [
            (r#"<line number="x" hits="1" hits="2"/>"#, "appears twice"),
            (
                r#"<line number="0" hits="a<b"/>"#,
                "attribute hits= of <line>",
            ),
            (
                r#"<line number="x" hits="1" branch=unquoted/>"#,
                "malformed attribute",
            ),
            (r#"<line number="x" hits="y"/>"#, "number=\"x\""),
            (r#"<line hits="y" number="0"/>"#, "hits=\"y\""),
            (r#"<line number="0" hits="y"/>"#, "number=\"0\""),
            (r#"<line hits="1"/>"#, "without a number"),
        ];
        for (line, expected) in cases {
            let message = err(line);
            assert!(message.contains(expected), "{line}: {message}");
        }
    }

    /// Reads `doc` with the second thread starting at every possible place (the second
    /// thread starts at the first `<class` tag at or after the split, so these are the
    /// splits at each `<class`, and past the end): the answer (report or error) is always
    /// the one-thread answer. Returns at how many places the second thread's result was used.
    fn split_everywhere(doc: &[u8]) -> usize {
        let (alone, used) = parse_split(doc, None);
        assert!(!used);
        let splits = memchr::memmem::find_iter(doc, b"<class").chain([0, doc.len()]);
        let mut handed = 0;
        for split in splits {
            let (two, used) = parse_split(doc, Some(split));
            assert_eq!(two, alone, "second thread from byte {split}");
            handed += usize::from(used);
        }
        handed
    }

    const PACKAGES: &str = r#"<?xml version="1.0"?>
<coverage><sources><source>/repo</source></sources>
<packages><package name="p"><classes>
<class name="A" filename="a.py"><methods><method><lines><line number="9" hits="0"/></lines></method></methods>
<lines><line number="1" hits="3"/><line number="2" hits="0" branch="true" condition-coverage="50% (1/2)"/></lines></class>
<class name="B" filename="b.py"><lines><line number="1" hits="1"/><line number="4"/></lines></class>
</classes></package>
<package name="q"><classes>
<class name="A2" filename="a.py"><lines><line number="2" hits="4"/><line number="3" hits="0"/></lines></class>
<class filename="c.py"><lines><line number="5" hits="1"/></lines></class>
<class name="B2" filename="b.py"><lines><line number="4"/></lines></class>
</classes></package></packages></coverage>
"#;

    #[test]
    fn two_threads_read_as_one() {
        // Classes of one file in both halves, lines without hits, branches, sources.
        let handed = split_everywhere(PACKAGES.as_bytes());
        assert!(
            handed >= 4,
            "the second thread's result was used {handed} times"
        );
        let r = parse_split(PACKAGES.as_bytes(), Some(PACKAGES.len() / 2));
        assert!(r.1);
        let r = r.0.unwrap();
        let names: Vec<&str> = r.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.py", "b.py", "c.py"]);
        let a: Vec<(u32, u32)> = r.files[0].lines.iter().map(|l| (l.line, l.hits)).collect();
        assert_eq!(a, [(1, 3), (2, 4), (3, 0)]);
        assert_eq!(r.roots, ["/repo"]);
        assert!(r.warnings[0].starts_with("2 <line>"), "{:?}", r.warnings);
        // `<sources>` after the packages (no tool writes that, but it reads).
        let late = PACKAGES.replace(
            "</packages>",
            "</packages><sources><source>/late</source></sources>",
        );
        assert!(split_everywhere(late.as_bytes()) > 0);
        assert_eq!(parse(late.as_bytes()).unwrap().roots, ["/repo", "/late"]);
    }

    #[test]
    fn two_threads_fail_as_one() {
        let broken = [
            // In the second half: a bad value, a mismatched end tag at the context's level
            // and inside a class, a stray end tag, truncation, a second root, text after it.
            (
                "<line number=\"3\" hits=\"0\"/>",
                "<line number=\"3\" hits=\"x\"/>",
            ),
            (
                "</classes></package></packages>",
                "</classes></pkg></packages>",
            ),
            (
                "</classes></package></packages>",
                "</klasses></package></packages>",
            ),
            (
                "<line number=\"5\" hits=\"1\"/></lines>",
                "<line number=\"5\" hits=\"1\"/></line>",
            ),
            (
                "</packages></coverage>",
                "</packages></coverage></coverage>",
            ),
            ("</packages></coverage>\n", "</packages>"),
            ("</coverage>\n", "</coverage><coverage/>"),
            ("</coverage>\n", "</coverage>text"),
            ("</coverage>\n", "</coverage><?xml version=\"1.0\"?>"),
            // Past the middle, a `<classes>` opened under another name: the second thread,
            // which assumes the first class's ancestors, would close it without complaint.
            (
                "<package name=\"q\"><classes>",
                "<package name=\"q\"><klasses>",
            ),
            // In the first half.
            (
                "<line number=\"1\" hits=\"3\"/>",
                "<line number=\"0\" hits=\"3\"/>",
            ),
            (
                "<class name=\"B\" filename=\"b.py\">",
                "<class name=\"B\" filename=\"b.py\" name=\"C\">",
            ),
        ];
        for (from, to) in broken {
            assert!(PACKAGES.contains(from), "{from}");
            let doc = PACKAGES.replacen(from, to, 1);
            assert!(parse(doc.as_bytes()).is_err(), "{to}");
            split_everywhere(doc.as_bytes());
        }
    }

    #[test]
    fn a_second_thread_in_the_wrong_place_is_not_used() {
        // `<class` in a comment, a CDATA section and a processing instruction; classes at
        // another depth, under other names, inside `<sources>`.
        let docs = [
            PACKAGES.replace("<class name=\"A2\"", "<!-- <class a --><class name=\"A2\""),
            PACKAGES.replace("<class name=\"A2\"", "<x><![CDATA[<class a]]></x><class name=\"A2\""),
            PACKAGES.replace("<class name=\"A2\"", "<?pi <class a?><class name=\"A2\""),
            // A `<class` tag that reads well from inside the CDATA section.
            PACKAGES.replace(
                "<class name=\"A2\"",
                "<![CDATA[<class filename=\"z.py\"/>]]><class name=\"A2\"",
            ),
            PACKAGES.replace("<package name=\"q\"><classes>", "<package name=\"q\"><klasses>").replace(
                "</classes></package></packages>",
                "</klasses></package></packages>",
            ),
            PACKAGES.replace("<package name=\"q\"><classes>", "<package name=\"q\"><classes><group>")
                .replace("</classes></package></packages>", "</group></classes></package></packages>"),
            PACKAGES.replace(
                "<source>/repo</source>",
                "<source>/repo<class filename=\"s.py\"><lines><line number=\"1\" hits=\"1\"/></lines></class>/x</source>",
            ),
            // Two classes inside one `<source>`: the source's text so far is not the second
            // thread's to know.
            PACKAGES.replace(
                "<source>/repo</source>",
                "<source>/repo<class filename=\"s.py\"/> mid <class filename=\"t.py\"/>/x</source>",
            ),
        ];
        for doc in &docs {
            assert!(parse(doc.as_bytes()).is_ok(), "{doc}");
            split_everywhere(doc.as_bytes());
        }
        // Names differ past the middle: never handed over there.
        let (r, used) = parse_split(
            docs[3].as_bytes(),
            Some(docs[3].find("name=\"q\"").unwrap()),
        );
        assert!(r.is_ok());
        assert!(!used);
    }

    /// Reports written by gcovr, Istanbul, c8 (V8) and coverage.py, and the malformed
    /// corpus: the second thread changes no answer.
    #[test]
    fn real_reports_read_alike_on_two_threads() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");
        let real = [
            "coverage/rename-project/reports/c/cobertura.xml",
            "coverage/rename-project/reports/js/istanbul/cobertura-coverage.xml",
            "coverage/rename-project/reports/js/v8/cobertura-coverage.xml",
            "coverage/rename-project/reports/python/coverage.xml",
            "coverage/diff-cover/luacoverage.xml",
        ];
        for path in real {
            let doc = std::fs::read_to_string(format!("{fixtures}/{path}")).unwrap();
            assert!(parse(doc.as_bytes()).is_ok(), "{path}");
            assert!(
                split_everywhere(doc.as_bytes()) > 0,
                "{path}: never handed over"
            );
        }
        for entry in std::fs::read_dir(format!("{fixtures}/malformed/cobertura")).unwrap() {
            let path = entry.unwrap().path();
            let doc = std::fs::read(&path).unwrap();
            split_everywhere(&doc);
        }
    }

    /// The size at which `parse` splits, on gcovr's report grown past it: its packages
    /// repeated, every other copy under other file names (so some files have classes in both
    /// halves, some in one).
    #[test]
    fn a_report_past_the_split_size_reads_as_one() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/coverage/rename-project/reports/c/cobertura.xml"
        );
        let doc = std::fs::read_to_string(path).unwrap();
        let (open, close) = (
            doc.find("<packages>").unwrap() + 10,
            doc.find("</packages>").unwrap(),
        );
        let packages = &doc[open..close];
        let mut big = doc[..open].to_string();
        let mut copy = 0;
        while big.len() < SPLIT_MIN + 4096 {
            if copy % 2 == 0 {
                big.push_str(packages);
            } else {
                big.push_str(&packages.replace("filename=\"", &format!("filename=\"copy{copy}/")));
            }
            copy += 1;
        }
        big.push_str(&doc[close..]);
        let big = big.as_bytes();
        let (alone, _) = parse_split(big, None);
        let alone = alone.unwrap();
        // What `parse` does at this size.
        let (two, used) = parse_split(big, Some(big.len() / 2));
        assert!(used, "the second thread's result was not used");
        assert_eq!(two.unwrap(), alone);
        assert_eq!(parse(big).unwrap(), alone);
        assert!(alone.files.len() > 3);
    }

    #[test]
    fn counts_are_digits_and_saturate() {
        assert_eq!(parse_uint(b" 42 "), Some(42));
        assert_eq!(parse_uint(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_uint(b"99999999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_uint(b"18446744073709551614"), Some(u64::MAX - 1));
        for bad in [&b""[..], b"4a", b"-1", b"1.5", b"+3"] {
            assert_eq!(parse_uint(bad), None);
        }
    }
}
