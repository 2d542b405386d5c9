//! Streaming Clover XML reader: OpenClover / Atlassian Clover, Istanbul (Jest, nyc, c8),
//! PHPUnit (php-code-coverage) and gcovr all write it.
//!
//! `<coverage clover=… generated=…>` → `<project>` (and `<testproject>`) → `<package>` →
//! `<file name=… path=…>` → `<line num=… type=… count=… truecount=… falsecount=…>`. What
//! counts follows diff-cover's Clover reader (`XmlCoverageReporter`), so patch coverage agrees
//! with it:
//!
//! - Every `<file>`, at any depth (`.//file`: files under `<testproject>` count too), named by
//!   its `path` attribute, else its `name`, exactly as written: package names are not joined
//!   (the caller resolves the name, also by suffix — see `analyze::coverage::paths`).
//! - Only the `<line>` children of a `<file>` whose `type` is `stmt`, `cond` or `method` are
//!   measured; other types (and none) are not (a warning says how many).
//! - A line is covered when `count` > 0. When one line carries several elements (OpenClover
//!   writes one per statement, branch and method start), it is covered only when every one of
//!   them is: diff-cover calls a line a violation when any of its elements has count 0.
//!
//! `truecount`/`falsecount` mean two different things, told apart by `count`:
//!
//! - with `count` (Istanbul, the most common writer): `truecount` is the number of branches
//!   taken on the line and `falsecount` the number not taken, so the line has `truecount +
//!   falsecount` branches of which `truecount` are covered (this reproduces the `<metrics
//!   conditionals coveredconditionals>` Istanbul writes);
//! - without `count` (OpenClover / Atlassian Clover, whose `cond` elements carry none): they
//!   are how often the decision was true and false — two branches, each covered when its count
//!   is > 0 — and the line ran `truecount + falsecount` times. diff-cover reads a missing count
//!   as 0 and so calls every such line uncovered, however often it ran; we read the counts the
//!   element does carry (a documented difference, noted in the report's warnings).
//!
//! Several elements of one line in one `<file>` add their branches (each is its own decision);
//! several `<file>` records with one name take the larger branch counts per line, like the other
//! readers. A `stmt`/`method` element without `count` carries no hit count: it is not measured
//! (never read as uncovered) and the warnings say how many. A `<file>` with no measured line is
//! left out (gcovr writes a placeholder `dummy` file under `<testproject>`).
//!
//! The document must be well-formed (see [`super::xml`]); a `DOCTYPE` that declares entities is
//! rejected; `num="0"`, a negative or non-numeric count, and a `<line>` of a measured type
//! without `num` are errors.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};

use super::cobertura::{
    attr_string, check_doctype, decl_after_start, line_zero, parse_uint, reader_for, resolve_ref,
    truncated, xml_error,
};
use super::xml;
use crate::error::ParseError;
use crate::model::coverage::{CoverageFormat, LineHits, RawFile, RawReport, hits};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    /// A `<file>`: its index in `files` (`None` when it names no path; its lines are skipped).
    File(Option<usize>),
    Other,
}

/// What the warnings report.
#[derive(Default)]
struct Tally {
    /// Elements without `count` (and `cond` ones without `truecount`/`falsecount` too).
    uncounted: u64,
    /// `cond` elements without `count`, read from `truecount`/`falsecount`.
    cond_without_count: u64,
    /// `<line>` elements of another type, or none.
    other_type: u64,
}

/// Parses a Clover XML report.
/// Reads the report from its bytes in memory (events borrow them, as in [`super::cobertura`]).
pub fn parse(bytes: &[u8]) -> Result<RawReport, ParseError> {
    let mut xml = reader_for(bytes);
    let mut stack: Vec<Tag> = Vec::with_capacity(16);
    let mut files: Vec<RawFile> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // The elements of each open `<file>` record, innermost last.
    let mut records: Vec<Vec<LineHits>> = Vec::new();
    let mut root = xml::Root::default();
    let mut tally = Tally::default();
    loop {
        let pos = xml.buffer_position();
        let ev = xml.read_event().map_err(|e| xml_error(&xml, e))?;
        let at = |m: String| ParseError::at(None, Some(pos), m);
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = xml::local(e.name().into_inner());
                root.element(stack.len(), e.name().as_ref()).map_err(at)?;
                if stack.is_empty() && name != b"coverage" {
                    return Err(at(format!(
                        "not a Clover report: root element is <{}>, expected <coverage>",
                        String::from_utf8_lossy(name)
                    )));
                }
                xml::check_attributes(e).map_err(at)?;
                let tag = match name {
                    b"file" => {
                        let path = attr_string(&xml, e, b"path")?.filter(|p| !p.is_empty());
                        let path = match path {
                            Some(p) => Some(p),
                            None => attr_string(&xml, e, b"name")?.filter(|n| !n.is_empty()),
                        };
                        let idx = path.map(|p| {
                            let next = files.len();
                            let idx = *index.entry(p.clone()).or_insert(next);
                            if idx == next {
                                files.push(RawFile {
                                    name: p,
                                    lines: Vec::new(),
                                    totals: None,
                                });
                            }
                            idx
                        });
                        Tag::File(idx)
                    }
                    b"line" => {
                        if let Some(Tag::File(Some(_))) = stack.last() {
                            if let Some(lh) = read_line(e, &mut tally).map_err(at)? {
                                if let Some(r) = records.last_mut() {
                                    r.push(lh);
                                }
                            }
                        }
                        Tag::Other
                    }
                    _ => Tag::Other,
                };
                if empty {
                    // An empty `<file/>` has no lines.
                    root.end(stack.len());
                } else {
                    super::push_bounded(&mut stack, tag, pos)?;
                    if matches!(tag, Tag::File(_)) {
                        records.push(Vec::new());
                    }
                }
            }
            Event::End(_) => {
                let tag = stack.pop();
                root.end(stack.len());
                if let Some(Tag::File(idx)) = tag {
                    let record = records.pop().unwrap_or_default();
                    if let Some(f) = idx.and_then(|i| files.get_mut(i)) {
                        add_record(&mut f.lines, record);
                    }
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
        return Err(ParseError::new("empty XML document: no <coverage> element"));
    }
    files.retain(|f| !f.lines.is_empty());
    Ok(RawReport {
        format: CoverageFormat::Clover,
        roots: Vec::new(),
        files,
        warnings: warnings(&tally),
    })
}

fn warnings(t: &Tally) -> Vec<String> {
    let mut out = Vec::new();
    if t.uncounted > 0 {
        out.push(format!(
            "{} <line> element(s) carry no hit count (no `count`, and on a cond no \
             `truecount`/`falsecount` either): not measured",
            t.uncounted
        ));
    }
    if t.cond_without_count > 0 {
        out.push(format!(
            "{} cond <line> element(s) carry no `count` (OpenClover writes them so): read as \
             executed truecount + falsecount times, with two branches (diff-cover reads the \
             missing count as 0 and calls those lines uncovered)",
            t.cond_without_count
        ));
    }
    if t.other_type > 0 {
        out.push(format!(
            "{} <line> element(s) have a type other than stmt, cond or method (or none): not \
             measured, as in diff-cover",
            t.other_type
        ));
    }
    out
}

/// Folds one `<file>` record's elements into the file's lines: within the record, a line is
/// covered only if every element of it is (hits: the smallest count) and its elements' branches
/// add up; across records, hits again the smallest and branches the larger.
fn add_record(lines: &mut Vec<LineHits>, mut record: Vec<LineHits>) {
    if record.is_empty() {
        return;
    }
    record.sort_by_key(|l| l.line);
    record.dedup_by(|next, kept| {
        if next.line != kept.line {
            return false;
        }
        kept.hits = kept.hits.min(next.hits);
        kept.branches_covered = kept.branches_covered.saturating_add(next.branches_covered);
        kept.branches_total = kept.branches_total.saturating_add(next.branches_total);
        true
    });
    if lines.is_empty() {
        *lines = record;
        return;
    }
    lines.extend(record);
    lines.sort_by_key(|l| l.line);
    lines.dedup_by(|next, kept| {
        if next.line != kept.line {
            return false;
        }
        kept.hits = kept.hits.min(next.hits);
        kept.branches_covered = kept.branches_covered.max(next.branches_covered);
        kept.branches_total = kept.branches_total.max(next.branches_total);
        true
    });
}

/// A count attribute: a non-negative integer.
fn count_attr(name: &str, v: &[u8]) -> Result<u64, String> {
    parse_uint(v).ok_or_else(|| {
        format!(
            "<line> has {name}={:?}, expected a non-negative integer",
            String::from_utf8_lossy(v)
        )
    })
}

/// One `file/line`; `None` when it is not measured (another type, or no hit count).
fn read_line(e: &BytesStart<'_>, tally: &mut Tally) -> Result<Option<LineHits>, String> {
    let mut num: Option<u32> = None;
    let mut kind: Option<&'static str> = None;
    let (mut count, mut truecount, mut falsecount) = (None, None, None);
    for a in xml::checked_split(e) {
        let a = a.map_err(|e| format!("bad attribute: {e}"))?;
        match xml::local(a.key.as_ref()) {
            b"num" => {
                let v = count_attr("num", &a.value)?;
                let v =
                    u32::try_from(v).map_err(|_| format!("<line num=\"{v}\"> is out of range"))?;
                if v == 0 {
                    return Err(line_zero("num"));
                }
                num = Some(v);
            }
            b"type" => {
                kind = match a.value.as_ref() {
                    b"stmt" => Some("stmt"),
                    b"cond" => Some("cond"),
                    b"method" => Some("method"),
                    _ => None,
                }
            }
            b"count" => count = Some(count_attr("count", &a.value)?),
            b"truecount" => truecount = Some(count_attr("truecount", &a.value)?),
            b"falsecount" => falsecount = Some(count_attr("falsecount", &a.value)?),
            _ => {}
        }
    }
    let Some(kind) = kind else {
        tally.other_type += 1;
        return Ok(None);
    };
    let Some(line) = num else {
        return Err(format!("<line type=\"{kind}\"> without a num attribute"));
    };
    let mut lh = LineHits {
        line,
        ..LineHits::default()
    };
    match (kind, count) {
        ("cond", Some(c)) => {
            // Istanbul: branches taken / not taken on this line.
            lh.hits = hits(c);
            let (t, f) = (truecount.unwrap_or(0), falsecount.unwrap_or(0));
            lh.branches_covered = hits(t);
            lh.branches_total = hits(t.saturating_add(f));
        }
        ("cond", None) => {
            // OpenClover: how often the decision was true / false.
            if truecount.is_none() && falsecount.is_none() {
                tally.uncounted += 1;
                return Ok(None);
            }
            let (t, f) = (truecount.unwrap_or(0), falsecount.unwrap_or(0));
            tally.cond_without_count += 1;
            lh.hits = hits(t.saturating_add(f));
            lh.branches_covered = u32::from(t > 0) + u32::from(f > 0);
            lh.branches_total = 2;
        }
        (_, Some(c)) => lh.hits = hits(c),
        (_, None) => {
            tally.uncounted += 1;
            return Ok(None);
        }
    }
    Ok(Some(lh))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, hits, branches covered, branches total) of the file named `name`.
    fn lines(r: &RawReport, name: &str) -> Vec<(u32, u32, u32, u32)> {
        r.files
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no file {name} in {:?}", r.files))
            .lines
            .iter()
            .map(|l| (l.line, l.hits, l.branches_covered, l.branches_total))
            .collect()
    }

    /// The 1-based line an error's byte offset falls on.
    fn err_line(x: &str) -> u64 {
        let e = parse(x.as_bytes()).unwrap_err();
        let b = e.location.byte.expect("error has a byte offset") as usize;
        x.as_bytes()[..b.min(x.len())]
            .iter()
            .filter(|&&c| c == b'\n')
            .count() as u64
            + 1
    }

    #[test]
    fn istanbul_lines_and_branches() {
        // The shape nyc / Jest write (istanbul-reports' clover reporter).
        let x = r#"<?xml version="1.0" encoding="UTF-8"?>
<coverage generated="1718200000000" clover="3.2.0">
  <project timestamp="1718200000000" name="All files">
    <metrics statements="5" coveredstatements="3" conditionals="4" coveredconditionals="3"/>
    <package name="src">
      <file name="a.js" path="/ci/app/src/a.js">
        <metrics statements="5" coveredstatements="3" conditionals="4" coveredconditionals="3"/>
        <line num="1" count="4" type="stmt"/>
        <line num="2" count="1" type="cond" truecount="2" falsecount="0"/>
        <line num="3" count="1" type="cond" truecount="1" falsecount="1"/>
        <line num="4" count="0" type="stmt"/>
        <line num="5" count="0" type="stmt"/>
      </file>
    </package>
    <file name="b.js" path="/ci/app/b.js"><line num="7" count="2" type="stmt"/></file>
  </project>
</coverage>"#;
        let r = parse(x.as_bytes()).unwrap();
        assert_eq!(r.format, CoverageFormat::Clover);
        assert!(r.roots.is_empty());
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(
            lines(&r, "/ci/app/src/a.js"),
            vec![
                (1, 4, 0, 0),
                (2, 1, 2, 2),
                (3, 1, 1, 2),
                (4, 0, 0, 0),
                (5, 0, 0, 0)
            ]
        );
        assert_eq!(lines(&r, "/ci/app/b.js"), vec![(7, 2, 0, 0)]);
    }

    #[test]
    fn openclover_elements_of_one_line_combine() {
        // OpenClover: one element per method start, statement and branch; `cond` without count;
        // `<testproject>` files count too; `path` wins over `name`.
        let x = r#"<?xml version="1.0" encoding="UTF-8"?>
<coverage clover="4.5.2" generated="1">
 <project timestamp="1" name="p"><package name="com.example">
  <file name="Calc.java" path="/b/src/main/java/com/example/Calc.java">
   <class name="Calc"><metrics statements="1"/><line num="99" count="0" type="stmt"/></class>
   <line num="4" count="1" type="method" signature="add(int,int) : int" visibility="public"/>
   <line num="5" count="1" type="stmt"/>
   <line num="9" count="3" type="stmt"/>
   <line num="9" truecount="0" falsecount="3" type="cond"/>
   <line num="10" count="2" type="stmt"/>
   <line num="10" count="0" type="stmt"/>
   <line num="11" count="2" type="stmt"/>
   <line num="11" truecount="1" falsecount="1" type="cond"/>
   <line num="11" truecount="0" falsecount="0" type="cond"/>
   <line num="12" truecount="0" falsecount="0" type="cond"/>
  </file>
 </package></project>
 <testproject timestamp="1"><package name="com.example">
  <file name="CalcTest.java"><line num="8" count="1" type="method" testsuccess="true"/></file>
 </package></testproject>
</coverage>"#;
        let r = parse(x.as_bytes()).unwrap();
        assert_eq!(
            lines(&r, "/b/src/main/java/com/example/Calc.java"),
            vec![
                (4, 1, 0, 0),
                (5, 1, 0, 0),
                // stmt 3 and a decision evaluated 3 times (never true): covered, 1 of 2
                (9, 3, 1, 2),
                // two statements, one never ran: uncovered (diff-cover's rule)
                (10, 0, 0, 0),
                // a never-evaluated second decision: uncovered; branches add up
                (11, 0, 2, 4),
                (12, 0, 0, 2),
            ]
        );
        assert_eq!(lines(&r, "CalcTest.java"), vec![(8, 1, 0, 0)]);
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(
            r.warnings[0].starts_with("4 cond <line>"),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn phpunit_shape_and_unmeasured_lines() {
        // PHPUnit: no `clover` attribute, `name` is the absolute path, `method` lines count.
        let x = r#"<?xml version="1.0" encoding="UTF-8"?>
<coverage generated="1718200000">
  <project timestamp="1718200000">
    <file name="/var/www/src/Calc.php">
      <class name="Calc" namespace="global"><metrics methods="1"/></class>
      <line num="9" type="method" name="add" visibility="public" complexity="1" crap="1" count="2"/>
      <line num="11" type="stmt" count="2"/>
      <line num="12" type="stmt"/>
      <line num="13" type="other" count="5"/>
      <line num="14" count="5"/>
      <metrics loc="14" statements="1"/>
    </file>
    <file name="/var/www/src/Empty.php"><metrics loc="3"/></file>
    <file><line num="1" type="stmt" count="1"/></file>
  </project>
</coverage>"#;
        let r = parse(x.as_bytes()).unwrap();
        assert_eq!(
            r.files.len(),
            1,
            "files without measured lines are left out"
        );
        assert_eq!(
            lines(&r, "/var/www/src/Calc.php"),
            vec![(9, 2, 0, 0), (11, 2, 0, 0)]
        );
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(r.warnings[0].starts_with("1 <line> element(s) carry no hit count"));
        assert!(r.warnings[1].starts_with("2 <line> element(s) have a type"));
    }

    #[test]
    fn duplicate_file_records_merge() {
        let x = r#"<coverage clover="4"><project>
<file path="a.js"><line num="1" count="1" type="stmt"/><line num="2" count="3" type="cond" truecount="1" falsecount="1"/></file>
<file path="a.js"><line num="1" count="0" type="stmt"/><line num="2" count="1" type="cond" truecount="2" falsecount="0"/><line num="3" count="1" type="stmt"/></file>
</project></coverage>"#;
        let r = parse(x.as_bytes()).unwrap();
        assert_eq!(r.files.len(), 1);
        assert_eq!(
            lines(&r, "a.js"),
            vec![(1, 0, 0, 0), (2, 1, 2, 2), (3, 1, 0, 0)]
        );
    }

    #[test]
    fn malformed_input_is_an_error_at_its_line() {
        let head =
            "<?xml version=\"1.0\"?>\n<coverage clover=\"4\">\n<project>\n<file path=\"a.js\">\n";
        let tail = "</file>\n</project>\n</coverage>\n";
        for (bad, why) in [
            (r#"<line num="0" count="1" type="stmt"/>"#, "line 0"),
            (r#"<line num="-1" count="1" type="stmt"/>"#, "negative line"),
            (
                r#"<line num="99999999999" count="1" type="stmt"/>"#,
                "line over u32",
            ),
            (
                r#"<line num="1" count="-2" type="stmt"/>"#,
                "negative count",
            ),
            (r#"<line num="1" count="NaN" type="stmt"/>"#, "NaN count"),
            (
                r#"<line num="1" count="1.5" type="stmt"/>"#,
                "decimal count",
            ),
            (
                r#"<line num="1" type="cond" truecount="-1" falsecount="0"/>"#,
                "negative truecount",
            ),
            (r#"<line count="1" type="stmt"/>"#, "no num"),
            (
                r#"<line num="1" count="1" type="a<b"/>"#,
                "< in an attribute",
            ),
            (
                r#"<line num="1" count="1" type="stmt" x="a & b"/>"#,
                "bare &",
            ),
            (
                r#"<line num="1" count="1" type="stmt"></file>"#,
                "mismatched end",
            ),
        ] {
            let x = format!("{head}{bad}\n{tail}");
            assert_eq!(err_line(&x), 5, "{why}: {:?}", parse(x.as_bytes()));
        }
        let e =
            parse(format!("{head}<line num=\"0\" count=\"1\" type=\"stmt\"/>\n{tail}").as_bytes())
                .unwrap_err();
        assert!(
            e.message.contains("line numbers start at 1"),
            "{}",
            e.message
        );
        // Truncated, text after the root, a second root.
        assert!(parse(&b"<coverage clover=\"4\"><project><file path=\"a\">"[..]).is_err());
        assert_eq!(err_line("<coverage clover=\"4\">\n</coverage>\ndone\n"), 3);
        assert!(
            parse(&b"<coverage clover=\"4\"/>\n<coverage clover=\"4\"/>"[..])
                .unwrap_err()
                .message
                .contains("second root")
        );
    }

    #[test]
    fn entity_doctype_rejected() {
        for x in [
            "<?xml version=\"1.0\"?>\n<!DOCTYPE coverage [<!ENTITY lol \"lol\">]>\n<coverage clover=\"4\"><project name=\"&lol;\"/></coverage>",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE coverage [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<coverage clover=\"4\"/>",
        ] {
            let e = parse(x.as_bytes()).unwrap_err();
            assert!(e.message.contains("entities"), "{}", e.message);
            assert_eq!(err_line(x), 2);
        }
        // An undefined entity (none can be declared) is an error too.
        assert!(
            parse(&b"<coverage clover=\"4\"><project name=\"&nbsp;\"/></coverage>"[..]).is_err()
        );
    }

    #[test]
    fn empty_and_foreign_roots() {
        for empty in ["", "   \n", "<?xml version=\"1.0\"?>\n", "<!-- nothing -->"] {
            let e = parse(empty.as_bytes()).unwrap_err();
            assert!(
                e.message.contains("no <coverage> element"),
                "{empty:?}: {}",
                e.message
            );
        }
        for foreign in [
            "<report name=\"x\"/>",
            "<testsuites/>",
            "<html><body/></html>",
        ] {
            let e = parse(foreign.as_bytes()).unwrap_err();
            assert!(e.message.contains("not a Clover report"), "{}", e.message);
        }
        // A Clover report with no files is read (and matches nothing later).
        let r =
            parse(&b"<coverage clover=\"4\"><project timestamp=\"1\"/></coverage>"[..]).unwrap();
        assert!(r.files.is_empty());
    }
}
