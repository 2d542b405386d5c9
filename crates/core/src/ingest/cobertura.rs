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

use std::collections::HashMap;
use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::xml;
use crate::error::ParseError;
use crate::model::coverage::{CoverageFormat, LineHits, RawFile, RawReport, normalize_lines};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    Sources,
    Source,
    Class,
    Lines,
    Other,
}

/// Parses a Cobertura XML report.
/// Reads the report from its bytes in memory: quick-xml hands out events that borrow them, no
/// copy per element.
pub fn parse(bytes: &[u8]) -> Result<RawReport, ParseError> {
    let mut xml = reader_for(bytes);
    let mut stack: Vec<Tag> = Vec::with_capacity(16);
    let mut roots: Vec<String> = Vec::new();
    let mut source_text: Option<String> = None;
    let mut files: Vec<RawFile> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut current: Option<usize> = None;
    let mut root = xml::Root::default();
    let mut uncounted = 0u64;
    loop {
        let pos = xml.buffer_position();
        let ev = xml.read_event().map_err(|e| xml_error(&xml, e))?;
        let at = |m: String| ParseError::at(None, Some(pos), m);
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = e.local_name();
                let name = name.as_ref();
                root.element(stack.len(), e.name().as_ref()).map_err(at)?;
                if stack.is_empty() && name != b"coverage" {
                    return Err(at(root_error(name)));
                }
                let parent = stack.last().copied();
                // A class's `<line>` (most of a report) is checked as it is read.
                let reads_line = name == b"line"
                    && current.is_some()
                    && parent == Some(Tag::Lines)
                    && stack.len() >= 2
                    && stack[stack.len() - 2] == Tag::Class;
                if !reads_line {
                    xml::check_attributes(e).map_err(at)?;
                }
                let tag = match name {
                    b"sources" => Tag::Sources,
                    b"source" if parent == Some(Tag::Sources) => {
                        if !empty {
                            source_text = Some(String::new());
                        }
                        Tag::Source
                    }
                    b"class" => {
                        let filename = attr_string(&xml, e, b"filename")?;
                        current = match filename {
                            Some(f) if !f.is_empty() => {
                                let next = files.len();
                                let idx = *index.entry(f.clone()).or_insert(next);
                                if idx == next {
                                    files.push(RawFile {
                                        name: f,
                                        lines: Vec::new(),
                                    });
                                }
                                Some(idx)
                            }
                            _ => None,
                        };
                        Tag::Class
                    }
                    b"lines" => Tag::Lines,
                    b"line" => {
                        if let (true, Some(idx)) = (reads_line, current) {
                            match read_line(e).map_err(at)? {
                                Some(lh) => {
                                    if let Some(f) = files.get_mut(idx) {
                                        f.lines.push(lh);
                                    }
                                }
                                None => uncounted += 1,
                            }
                        }
                        Tag::Other
                    }
                    _ => Tag::Other,
                };
                if empty {
                    root.end(stack.len());
                } else {
                    super::push_bounded(&mut stack, tag, pos)?;
                }
            }
            Event::End(_) => {
                let tag = stack.pop();
                root.end(stack.len());
                match tag {
                    Some(Tag::Source) => {
                        if let Some(t) = source_text.take() {
                            let t = t.trim();
                            if !t.is_empty() {
                                roots.push(t.to_string());
                            }
                        }
                    }
                    Some(Tag::Class) => current = None,
                    _ => {}
                }
            }
            Event::Text(ref t) => {
                root.text(stack.len(), t)
                    .map_err(|(off, m)| ParseError::at(None, Some(pos + off as u64), m))?;
                if let Some(s) = source_text.as_mut() {
                    let raw = t
                        .decode()
                        .map_err(|e| ParseError::at(None, Some(pos), e.to_string()))?;
                    s.push_str(&raw);
                }
            }
            Event::CData(ref t) => {
                root.markup(stack.len(), "a CDATA section").map_err(at)?;
                if let Some(s) = source_text.as_mut() {
                    s.push_str(&String::from_utf8_lossy(t));
                }
            }
            Event::GeneralRef(ref r) => {
                root.markup(stack.len(), "a reference").map_err(at)?;
                let c = resolve_ref(r).map_err(at)?;
                if let Some(s) = source_text.as_mut() {
                    s.push_str(&c);
                }
            }
            Event::DocType(ref d) => check_doctype(d, pos)?,
            Event::Decl(_) if root.seen => return Err(at(decl_after_start())),
            Event::Eof => {
                if !stack.is_empty() {
                    return Err(truncated(pos));
                }
                break;
            }
            _ => {}
        }
    }
    if !root.seen {
        return Err(ParseError::new("empty XML document: no <coverage> element"));
    }
    for f in &mut files {
        normalize_lines(&mut f.lines);
    }
    let mut warnings = Vec::new();
    if uncounted > 0 {
        warnings.push(format!(
            "{uncounted} <line> element(s) carry no hit count (no `hits` attribute): those \
             lines are not measured"
        ));
    }
    Ok(RawReport {
        format: CoverageFormat::Cobertura,
        roots,
        files,
        warnings,
    })
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
        match a.key.local_name().as_ref() {
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
                Some(hits) => {
                    lh.hits = hits;
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
        if a.key.local_name().as_ref() == key {
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
        let l: Vec<(u32, u64, u32, u32)> = r.files[0]
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
