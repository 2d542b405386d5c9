//! Streaming JaCoCo XML reader: `package@name` / `sourcefile@name` / `line nr mi ci mb cb`.
//!
//! File names are `<package>/<sourcefile>` (`com/example/App.java`); the source roots the caller
//! passes (default `src/main/java`, `src/main/kotlin`) become the report's roots, so the caller
//! resolves `<root>/<package>/<file>` against the repository (diff-cover's `--src-roots`).
//! A line is covered when `ci > 0`; branches are `mb + cb` with `cb` covered. The document
//! must be well-formed (see [`super::xml`]); `nr="0"` and negative counters are errors.
//!
//! gcovr 8 writes `<line nr=…>` without `ci`/`mi`: such a line carries no hit count and is never
//! read as uncovered. The sourcefile's own `<counter type="LINE" missed covered>` decides when it
//! can — `missed="0"`: every line was covered; `covered="0"`: none was — and otherwise those
//! lines are not measured. The report's `warnings` say how many lines carried no count.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};

use super::cobertura::{
    attr_string, check_doctype, decl_after_start, line_zero, parse_uint, reader_for, resolve_ref,
    truncated, xml_error,
};
use super::xml;
use crate::error::ParseError;
use crate::model::coverage::{CoverageFormat, LineHits, RawFile, RawReport, hits, normalize_lines};

/// Source roots used when the caller configures none.
pub const DEFAULT_SOURCE_ROOTS: [&str; 2] = ["src/main/java", "src/main/kotlin"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    Package,
    SourceFile,
    Other,
}

/// Lines of the current sourcefile that carry no hit count, until its `LINE` counter is read.
#[derive(Default)]
struct Uncounted {
    lines: Vec<LineHits>,
    /// The sourcefile's `<counter type="LINE">`: (missed, covered).
    counter: Option<(u64, u64)>,
    /// Over the whole report: lines without a count, and how many the counters decided.
    total: u64,
    decided: u64,
}

impl Uncounted {
    /// At the end of a sourcefile: lines its counter decides go into `lines`; the rest are
    /// not measured.
    fn settle(&mut self, lines: &mut Vec<LineHits>) {
        let hits = match self.counter.take() {
            Some((0, _)) => Some(1),
            Some((_, 0)) => Some(0),
            _ => None,
        };
        if let Some(hits) = hits {
            self.decided += self.lines.len() as u64;
            lines.extend(self.lines.iter().map(|&l| LineHits { hits, ..l }));
        }
        self.lines.clear();
    }
}

/// Parses a JaCoCo XML report. `source_roots` are copied into the result's `roots`.
/// Reads the report from its bytes in memory (events borrow them, as in [`super::cobertura`]).
pub fn parse(bytes: &[u8], source_roots: &[String]) -> Result<RawReport, ParseError> {
    let mut xml = reader_for(bytes);
    let mut stack: Vec<Tag> = Vec::with_capacity(16);
    let mut files: Vec<RawFile> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut package = String::new();
    let mut current: Option<usize> = None;
    let mut root = xml::Root::default();
    let mut uncounted = Uncounted::default();
    loop {
        let pos = xml.buffer_position();
        let ev = xml.read_event().map_err(|e| xml_error(&xml, e))?;
        let at = |m: String| ParseError::at(None, Some(pos), m);
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = xml::local(e.name().into_inner());
                root.element(stack.len(), e.name().as_ref()).map_err(at)?;
                if stack.is_empty() && name != b"report" {
                    return Err(at(format!(
                        "not a JaCoCo report: root element is <{}>, expected <report>",
                        String::from_utf8_lossy(name)
                    )));
                }
                xml::check_attributes(e).map_err(at)?;
                let tag = match name {
                    b"package" => {
                        package = attr_string(&xml, e, b"name")?.unwrap_or_default();
                        Tag::Package
                    }
                    b"sourcefile" if stack.last() == Some(&Tag::Package) => {
                        let file = attr_string(&xml, e, b"name")?.unwrap_or_default();
                        current = if file.is_empty() {
                            None
                        } else {
                            let full = if package.is_empty() {
                                file
                            } else {
                                format!("{}/{file}", package.trim_end_matches('/'))
                            };
                            let next = files.len();
                            let idx = *index.entry(full.clone()).or_insert(next);
                            if idx == next {
                                files.push(RawFile {
                                    name: full,
                                    lines: Vec::new(),
                                    totals: None,
                                });
                            }
                            Some(idx)
                        };
                        Tag::SourceFile
                    }
                    b"line" if stack.last() == Some(&Tag::SourceFile) => {
                        if let Some(idx) = current {
                            match read_line(e).map_err(at)? {
                                (lh, true) => {
                                    if let Some(f) = files.get_mut(idx) {
                                        f.lines.push(lh);
                                    }
                                }
                                (lh, false) => {
                                    uncounted.lines.push(lh);
                                    uncounted.total += 1;
                                }
                            }
                        }
                        Tag::Other
                    }
                    b"counter" if stack.last() == Some(&Tag::SourceFile) => {
                        if let Some(c) = line_counter(e).map_err(at)? {
                            uncounted.counter = Some(c);
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
                    Some(Tag::SourceFile) => {
                        let lines = match current.and_then(|idx| files.get_mut(idx)) {
                            Some(f) => &mut f.lines,
                            None => &mut Vec::new(),
                        };
                        uncounted.settle(lines);
                        current = None;
                    }
                    Some(Tag::Package) => package.clear(),
                    _ => {}
                }
            }
            Event::Text(ref t) => {
                root.text(stack.len(), t)
                    .map_err(|(off, m)| ParseError::at(None, Some(pos + off as u64), m))?;
            }
            Event::CData(_) => root.markup(stack.len(), "a CDATA section").map_err(at)?,
            Event::GeneralRef(ref r) => {
                root.markup(stack.len(), "a reference").map_err(at)?;
                resolve_ref(r).map_err(at)?;
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
        return Err(ParseError::new("empty XML document: no <report> element"));
    }
    for f in &mut files {
        normalize_lines(&mut f.lines);
    }
    let mut warnings = Vec::new();
    if uncounted.total > 0 {
        warnings.push(format!(
            "{} <line> elements carry no hit count (no ci/mi: gcovr writes JaCoCo so): {} read \
             from their file's LINE counter (every line covered, or none), {} not measured",
            uncounted.total,
            uncounted.decided,
            uncounted.total - uncounted.decided
        ));
    }
    Ok(RawReport {
        format: CoverageFormat::Jacoco,
        roots: source_roots.to_vec(),
        files,
        warnings,
    })
}

/// A sourcefile's `<counter type="LINE" missed covered>` as (missed, covered); `None` for other
/// counter types.
fn line_counter(e: &BytesStart<'_>) -> Result<Option<(u64, u64)>, String> {
    let (mut line, mut missed, mut covered) = (false, None, None);
    for a in xml::checked_split(e) {
        let a = a.map_err(|e| format!("bad attribute: {e}"))?;
        let value = || {
            parse_uint(&a.value).ok_or_else(|| {
                format!(
                    "<counter> has {}={:?}, expected a non-negative integer",
                    String::from_utf8_lossy(a.key.as_ref()),
                    String::from_utf8_lossy(&a.value)
                )
            })
        };
        match xml::local(a.key.as_ref()) {
            b"type" => line = a.value.as_ref() == b"LINE",
            b"missed" => missed = Some(value()?),
            b"covered" => covered = Some(value()?),
            _ => {}
        }
    }
    Ok(match (line, missed, covered) {
        (true, Some(m), Some(c)) => Some((m, c)),
        _ => None,
    })
}

/// One `sourcefile/line`, and whether it carries a hit count (`ci` or `mi`).
fn read_line(e: &BytesStart<'_>) -> Result<(LineHits, bool), String> {
    let mut lh = LineHits::default();
    let (mut have_nr, mut mb) = (false, 0u64);
    let mut cb = 0u64;
    let mut counted = false;
    for a in xml::checked_split(e) {
        let a = a.map_err(|e| format!("bad attribute: {e}"))?;
        let key = xml::local(a.key.as_ref());
        if !matches!(key, b"nr" | b"ci" | b"mi" | b"mb" | b"cb") {
            continue;
        }
        let v = parse_uint(&a.value).ok_or_else(|| {
            format!(
                "<line> has {}={:?}, expected a non-negative integer",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(&a.value)
            )
        })?;
        match key {
            b"nr" => {
                lh.line =
                    u32::try_from(v).map_err(|_| format!("<line nr=\"{v}\"> is out of range"))?;
                if lh.line == 0 {
                    return Err(line_zero("nr"));
                }
                have_nr = true;
            }
            b"ci" => {
                lh.hits = hits(v);
                counted = true;
            }
            b"mi" => counted = true,
            b"mb" => mb = v,
            b"cb" => cb = v,
            _ => {}
        }
    }
    if !have_nr {
        return Err("<line> without an nr attribute".into());
    }
    lh.branches_covered = u32::try_from(cb).unwrap_or(u32::MAX);
    lh.branches_total = u32::try_from(cb.saturating_add(mb)).unwrap_or(u32::MAX);
    Ok((lh, counted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_packages_and_lines() {
        let x = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd"><report name="x"><sessioninfo id="a" start="1" dump="2"/>
<package name="com/ex"><class name="com/ex/A" sourcefilename="A.java"><method name="f" desc="()V" line="3"><counter type="LINE" missed="0" covered="1"/></method></class>
<sourcefile name="A.java"><line nr="3" mi="0" ci="2" mb="1" cb="1"/><line nr="4" mi="3" ci="0" mb="0" cb="0"/><counter type="LINE" missed="1" covered="1"/></sourcefile></package>
<package name=""><sourcefile name="B.kt"><line nr="1" mi="0" ci="1" mb="0" cb="0"/></sourcefile></package></report>"#;
        let roots = vec!["src/main/java".to_string()];
        let r = parse(x.as_bytes(), &roots).unwrap();
        assert_eq!(r.roots, roots);
        assert_eq!(r.files[0].name, "com/ex/A.java");
        assert_eq!(r.files[1].name, "B.kt");
        let l: Vec<(u32, u32, u32, u32)> = r.files[0]
            .lines
            .iter()
            .map(|l| (l.line, l.hits, l.branches_covered, l.branches_total))
            .collect();
        assert_eq!(l, vec![(3, 2, 1, 2), (4, 0, 0, 0)]);
    }

    #[test]
    fn malformed() {
        assert!(
            parse(
                &b"<report><package name='a'><sourcefile name='A.java'><line nr='-1'/>"[..],
                &[]
            )
            .is_err()
        );
        assert!(parse(&b"<report><package name='a'>"[..], &[]).is_err());
        assert!(parse(&b"<coverage/>"[..], &[]).is_err());
    }
}
