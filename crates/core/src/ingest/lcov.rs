//! Streaming LCOV (`lcov.info`) reader.
//!
//! Reads `SF`, `DA` (duplicates summed), `BRDA`, `FN` (`FN:<line>,<name>` and
//! `FN:<start>,<end>,<name>`) and `FNDA`; several records for one file are merged. Other
//! directives (`TN`, `LF`, `LH`, `BRF`, `BRH`, `FNF`, `FNH`, `VER`, `FNL`, `FNA`, …) are skipped.
//!
//! Lines follow diff-cover's reading (v10.5.0, `LcovCoverageReporter.parse`) so patch numbers
//! agree with it: at the end of each record, a line with `BRDA` but no `DA` is measured (hit when
//! every branch was taken, else 0), a `DA:n,0` line whose branches executed counts as executed,
//! and a function's start line without `DA` is measured with its `FNDA` count.
//!
//! Records no tool writes are errors with their line: line number 0 in `DA`/`BRDA`, and negative
//! counts (lcov 2's `geninfo` itself stops on them unless told to ignore "negative" errors; they
//! come from an overflowed or corrupt counter, and reading them as "not executed" would invent
//! uncovered lines). `FN:0,…` names no line and is not measured. A report that ends inside a
//! record (no `end_of_record` after its last `SF`) was cut short: every tool ends its records,
//! and the lines cut off may be the uncovered ones.

use std::collections::HashMap;

use crate::error::ParseError;
use crate::model::coverage::{
    CoverageFormat, LineHits, LineTotals, RawFile, RawReport, hits, normalize_lines,
};

/// The record being read; its buffers are kept from one record to the next.
#[derive(Default)]
struct Record<'a> {
    file: Option<usize>,
    da: Vec<LineHits>,
    /// (line, taken)
    brda: Vec<(u32, u64)>,
    functions: Functions<'a>,
}

/// A record's functions as diff-cover keeps them (a Python dict): in the order their names
/// first came, a later `FN` of a name replacing its line and clearing its count, `FNDA`
/// setting the count of a name already declared.
#[derive(Default)]
struct Functions<'a> {
    /// (start line, FNDA count), in first-declaration order.
    list: Vec<(u32, u64)>,
    /// name (borrowed from the report) → its place in `list`. aHash: keyed per process like
    /// std's SipHash (names come from the code under review), a fraction of its cost.
    index: HashMap<&'a [u8], usize, ahash::RandomState>,
}

impl<'a> Functions<'a> {
    fn declare(&mut self, name: &'a [u8], start: u32) {
        let next = self.list.len();
        let at = *self.index.entry(name).or_insert(next);
        if at == next {
            self.list.push((start, 0));
        } else {
            self.list[at] = (start, 0);
        }
    }

    fn count(&mut self, name: &[u8], count: u64) {
        if let Some(&at) = self.index.get(name) {
            self.list[at].1 = count;
        }
    }

    fn clear(&mut self) {
        self.list.clear();
        self.index.clear();
    }
}

/// Parses an LCOV tracefile.
pub fn parse(bytes: &[u8]) -> Result<RawReport, ParseError> {
    parse_with(bytes, true)
}

/// [`parse`]. With `fast`, plain `DA` and `BRDA` lines are read in one pass each, end of line
/// included ([`da_line`], [`brda_line`]); without it (tests only) every line goes through
/// [`Parser::line`], the general reader, which answers the same.
fn parse_with(bytes: &[u8], fast: bool) -> Result<RawReport, ParseError> {
    let mut p = Parser::default();
    let (mut pos, mut line_no) = (0usize, 0u64);
    while pos < bytes.len() {
        line_no += 1;
        let rest = &bytes[pos..];
        // Most of a tracefile (an `SF` came first, so the directive is counted). Anything
        // else — white space, CR, a checksum, a sign, line 0, an overflow — is read below.
        if fast && p.rec.file.is_some() {
            if let Some(da) = rest.strip_prefix(b"DA:")
                && let Some((hits, len)) = da_line(da)
            {
                p.rec.da.push(hits);
                pos += 3 + len;
                continue;
            }
            if let Some(brda) = rest.strip_prefix(b"BRDA:")
                && let Some((branch, len)) = brda_line(brda)
            {
                p.rec.brda.push(branch);
                pos += 5 + len;
                continue;
            }
            // A function's lines: one in fourteen of a typical tracefile, and through the
            // general reader the dearest (a sixth of the parse on the bench's report).
            if let Some(f) = rest.strip_prefix(b"FN:")
                && let Some((start, name, len)) = fn_line(f)
            {
                if start > 0 {
                    p.rec.functions.declare(name, start);
                }
                pos += 3 + len;
                continue;
            }
            if let Some(f) = rest.strip_prefix(b"FNDA:")
                && let Some((count, name, len)) = fnda_line(f)
            {
                p.rec.functions.count(name, count);
                pos += 5 + len;
                continue;
            }
        }
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        p.line(line_no, &rest[..end])?;
        pos += end + 1;
    }
    let Parser {
        mut files,
        mut rec,
        seen_directive,
        ..
    } = p;
    if let Some(open) = rec.file {
        return Err(ParseError::at_line(
            line_no + 1,
            format!(
                "the report ends inside the record of {:?} (no `end_of_record` after it): cut \
                 short?",
                files[open].name
            ),
        ));
    }
    // Each record's lines were left sorted and unique by `finish`.
    finish(&mut rec, &mut files);
    if !seen_directive {
        return Err(ParseError::at(
            None,
            Some(0),
            "empty LCOV report: no SF/DA records",
        ));
    }
    Ok(RawReport {
        format: CoverageFormat::Lcov,
        roots: Vec::new(),
        files,
        warnings: Vec::new(),
    })
}

/// The reader's state: files so far, the record being read.
#[derive(Default)]
struct Parser<'a> {
    files: Vec<RawFile>,
    index: HashMap<String, usize>,
    rec: Record<'a>,
    seen_directive: bool,
}

impl<'a> Parser<'a> {
    /// Reads one line (1-based `line_no`, without its `\n`).
    fn line(&mut self, line_no: u64, line: &'a [u8]) -> Result<(), ParseError> {
        let mut line = line.trim_ascii();
        if line_no == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            return Ok(());
        }
        if line == b"end_of_record" {
            finish(&mut self.rec, &mut self.files);
            return Ok(());
        }
        // A plain `DA` line the one-pass reader did not take (it was trimmed here: CRLF,
        // blanks), read the same way (an `SF` came first, so the directive is counted).
        // Anything else (a checksum, a sign, line 0, no file yet) is read below.
        if let (Some(content), Some(_)) = (line.strip_prefix(b"DA:"), self.rec.file)
            && let Some((hits, _)) = da_line(content)
        {
            self.rec.da.push(hits);
            return Ok(());
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(ParseError::at_line(line_no, not_lcov(line)));
        };
        let (key, content) = (&line[..colon], &line[colon + 1..]);
        if key.is_empty() || !key.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_') {
            return Err(ParseError::at_line(line_no, not_lcov(line)));
        }
        self.seen_directive = true;
        match key {
            b"SF" => {
                finish(&mut self.rec, &mut self.files);
                let name = String::from_utf8_lossy(content).into_owned();
                let next = self.files.len();
                let idx = *self.index.entry(name.clone()).or_insert(next);
                if idx == next {
                    self.files.push(RawFile {
                        name,
                        lines: Vec::new(),
                        totals: None,
                    });
                }
                self.rec.file = Some(idx);
            }
            b"DA" => {
                need_file(&self.rec, line_no, "DA")?;
                match read_da(content) {
                    Ok(hits) => self.rec.da.push(hits),
                    Err(BadDa::LineZero) => return Err(line_zero(line_no, line)),
                    Err(BadDa::Negative) => return Err(negative(line_no, line)),
                    Err(BadDa::Shape) => {
                        return Err(bad(line_no, "DA:<line>,<count>[,<checksum>]", line));
                    }
                }
            }
            b"BRDA" => {
                need_file(&self.rec, line_no, "BRDA")?;
                let mut parts = content.split(|&b| b == b',');
                let ln = parts.next().and_then(parse_u32);
                let taken = parts.nth(2).map(|p| {
                    if p.trim_ascii() == b"-" {
                        Count::Ok(0)
                    } else {
                        parse_count(p)
                    }
                });
                match (parts.next().is_none(), ln, taken) {
                    (true, Some(0), Some(_)) => return Err(line_zero(line_no, line)),
                    (true, Some(_), Some(Count::Negative)) => return Err(negative(line_no, line)),
                    (true, Some(l), Some(Count::Ok(t))) => self.rec.brda.push((l, t)),
                    _ => return Err(bad(line_no, "BRDA:<line>,<block>,<branch>,<taken|->", line)),
                }
            }
            b"FN" => {
                need_file(&self.rec, line_no, "FN")?;
                // FN:<line>,<name> or FN:<start>,<end>,<name>; names may contain commas.
                let Some(c1) = content.iter().position(|&b| b == b',') else {
                    return Err(bad(line_no, "FN:<line>[,<end>],<name>", line));
                };
                let Some(start) = parse_u32(&content[..c1]) else {
                    return Err(bad(line_no, "FN:<line>[,<end>],<name>", line));
                };
                let rest = &content[c1 + 1..];
                let name = match rest.iter().position(|&b| b == b',') {
                    Some(c2) if parse_u32(&rest[..c2]).is_some() => &rest[c2 + 1..],
                    _ => rest,
                };
                // `FN:0,…` names no line of the file: the function's start is not measured
                // (a declaration, not a line record, so it is not worth refusing the report).
                if start > 0 {
                    self.rec.functions.declare(name, start);
                }
            }
            b"FNDA" => {
                need_file(&self.rec, line_no, "FNDA")?;
                let Some(c1) = content.iter().position(|&b| b == b',') else {
                    return Err(bad(line_no, "FNDA:<count>,<name>", line));
                };
                let count = match parse_count(&content[..c1]) {
                    Count::Ok(count) => count,
                    Count::Negative => return Err(negative(line_no, line)),
                    Count::Bad => return Err(bad(line_no, "FNDA:<count>,<name>", line)),
                };
                self.rec.functions.count(&content[c1 + 1..], count);
            }
            _ => {}
        }
        Ok(())
    }
}

fn not_lcov(line: &[u8]) -> String {
    let shown: String = String::from_utf8_lossy(&line[..line.len().min(60)]).into_owned();
    format!("not an LCOV line: {shown:?} (expected `KEY:value` or `end_of_record`)")
}

fn bad(line_no: u64, expected: &str, line: &[u8]) -> ParseError {
    let shown: String = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
    ParseError::at_line(
        line_no,
        format!("malformed LCOV record {shown:?}: expected {expected}"),
    )
}

fn line_zero(line_no: u64, line: &[u8]) -> ParseError {
    let shown: String = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
    ParseError::at_line(
        line_no,
        format!(
            "LCOV record {shown:?} names line 0: line numbers start at 1 (no coverage tool writes line 0)"
        ),
    )
}

fn negative(line_no: u64, line: &[u8]) -> ParseError {
    let shown: String = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
    ParseError::at_line(
        line_no,
        format!(
            "LCOV record {shown:?} has a negative count: an overflowed or corrupt counter (lcov \
             itself stops on these), not a number of executions"
        ),
    )
}

fn need_file(rec: &Record<'_>, line_no: u64, key: &str) -> Result<(), ParseError> {
    if rec.file.is_none() {
        return Err(ParseError::at_line(
            line_no,
            format!("LCOV {key} record before any SF: line"),
        ));
    }
    Ok(())
}

/// A line number: ASCII digits (surrounding blanks allowed) up to `u32::MAX`.
fn parse_u32(b: &[u8]) -> Option<u32> {
    u32::try_from(digits(b.trim_ascii())?).ok()
}

/// ASCII digits only, at least one: their value; `None` past `u64::MAX`.
fn digits(b: &[u8]) -> Option<u64> {
    lead_digits(b).and_then(|(n, len)| (len == b.len()).then_some(n))
}

/// The ASCII digits `b` starts with, at least one: their value and how many; `None` past
/// `u64::MAX`. One pass, no UTF-8 validation: this runs on every `DA` line.
fn lead_digits(b: &[u8]) -> Option<(u64, usize)> {
    let mut n: u64 = 0;
    let mut len = 0;
    while let Some(&c) = b.get(len) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
        len += 1;
    }
    (len > 0).then_some((n, len))
}

/// Where the line ends when its content ends at `at`: past its `\n`, or at the end of the
/// input; `None` when anything else follows.
fn line_end(b: &[u8], at: usize) -> Option<usize> {
    match b.get(at) {
        None => Some(at),
        Some(b'\n') => Some(at + 1),
        Some(_) => None,
    }
}

/// A plain `DA` line after its `DA:` — `<line>,<count>` in digits, line above 0, no
/// overflow, nothing else before the line's end: the line and its length with its `\n`.
/// `None` for anything else, which the general reader reads.
fn da_line(b: &[u8]) -> Option<(LineHits, usize)> {
    let (line, at) = lead_digits(b)?;
    if b.get(at) != Some(&b',') {
        return None;
    }
    let (count, n) = lead_digits(&b[at + 1..])?;
    let len = line_end(b, at + 1 + n)?;
    let line = u32::try_from(line).ok().filter(|&l| l > 0)?;
    Some((
        LineHits {
            line,
            hits: hits(count),
            ..Default::default()
        },
        len,
    ))
}

/// A plain `BRDA` line after its `BRDA:` — `<line>,<block>,<branch>,<taken|->` in digits,
/// line above 0, no overflow, nothing else before the line's end: (line, taken) and its
/// length with its `\n`. `None` for anything else, which the general reader reads.
fn brda_line(b: &[u8]) -> Option<((u32, u64), usize)> {
    let (line, mut at) = lead_digits(b)?;
    // The block and branch numbers are not kept (the general reader takes any text there).
    for _ in 0..2 {
        if b.get(at) != Some(&b',') {
            return None;
        }
        at += 1 + lead_digits(&b[at + 1..])?.1;
    }
    if b.get(at) != Some(&b',') {
        return None;
    }
    at += 1;
    let taken = if b.get(at) == Some(&b'-') {
        at += 1;
        0
    } else {
        let (taken, n) = lead_digits(&b[at..])?;
        at += n;
        taken
    };
    let len = line_end(b, at)?;
    let line = u32::try_from(line).ok().filter(|&l| l > 0)?;
    Some(((line, taken), len))
}

/// A plain `FN` line after its `FN:` — `<line>,<name>` with the line in digits (up to
/// `u32::MAX`) and a name with no comma, not ending in white space: (line, name) and the
/// line's length with its `\n`. `None` for anything else (`FN:<start>,<end>,<name>` included),
/// which the general reader reads.
fn fn_line(b: &[u8]) -> Option<(u32, &[u8], usize)> {
    let (start, at) = lead_digits(b)?;
    if b.get(at) != Some(&b',') {
        return None;
    }
    let (name, len) = plain_rest(b, at + 1)?;
    if memchr::memchr(b',', name).is_some() {
        return None;
    }
    Some((u32::try_from(start).ok()?, name, len))
}

/// A plain `FNDA` line after its `FNDA:` — `<count>,<name>` with the count in digits (no
/// overflow) and a name not ending in white space: (count, name) and the line's length with
/// its `\n`. `None` for anything else, which the general reader reads.
fn fnda_line(b: &[u8]) -> Option<(u64, &[u8], usize)> {
    let (count, at) = lead_digits(b)?;
    if b.get(at) != Some(&b',') {
        return None;
    }
    let (name, len) = plain_rest(b, at + 1)?;
    Some((count, name, len))
}

/// The rest of the line from `from` when it does not end in white space (the general reader
/// trims a line's end): it and the line's length with its `\n`.
fn plain_rest(b: &[u8], from: usize) -> Option<(&[u8], usize)> {
    let end = memchr::memchr(b'\n', &b[from..]).map_or(b.len(), |i| from + i);
    let rest = &b[from..end];
    if rest.last().is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    Some((rest, if end < b.len() { end + 1 } else { end }))
}

/// What is wrong with a `DA` record.
#[derive(Debug, PartialEq, Eq)]
enum BadDa {
    LineZero,
    Negative,
    /// Not `<line>,<count>[,<checksum>]`.
    Shape,
}

/// A `DA` record's content: `<line>,<count>[,<checksum>]`.
fn read_da(content: &[u8]) -> Result<LineHits, BadDa> {
    let mut it = content.split(|&b| b == b',');
    let ln = it.next().and_then(parse_u32);
    let count = it.next().map(parse_count);
    match (ln, count, it.nth(1)) {
        (Some(0), Some(_), None) => Err(BadDa::LineZero),
        (Some(_), Some(Count::Negative), None) => Err(BadDa::Negative),
        (Some(line), Some(Count::Ok(count)), None) => Ok(LineHits {
            line,
            hits: hits(count),
            ..Default::default()
        }),
        _ => Err(BadDa::Shape),
    }
}

/// An execution count as read.
enum Count {
    Ok(u64),
    /// `-<digits>`: an overflowed or corrupt counter, an error for the caller.
    Negative,
    Bad,
}

/// Execution counts: non-negative integers, saturating at `u64::MAX`. One pass through
/// [`digits`], like [`parse_u32`] (a second only past `u64::MAX` or on a bad count).
fn parse_count(b: &[u8]) -> Count {
    let b = b.trim_ascii();
    let all_digits = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_digit);
    if let Some(neg) = b.strip_prefix(b"-") {
        return if all_digits(neg) {
            Count::Negative
        } else {
            Count::Bad
        };
    }
    match digits(b) {
        Some(n) => Count::Ok(n),
        None if all_digits(b) => Count::Ok(u64::MAX),
        None => Count::Bad,
    }
}

/// Applies one record's DA/BRDA/FN data to its file (diff-cover's end-of-record rules) and
/// leaves the file's lines sorted and unique. The record's line buffer is worked in place and
/// copied out at its size, so it keeps its capacity for the next record.
fn finish(rec: &mut Record<'_>, files: &mut [RawFile]) {
    let Some(idx) = rec.file.take() else {
        rec.da.clear();
        rec.brda.clear();
        rec.functions.clear();
        return;
    };
    let lines = &mut rec.da;
    normalize_lines(lines);
    // `lines[..measured]`: the DA lines. Lines measured from branches and then from functions
    // are appended after them, each part ascending and unique, none on a line before it.
    let measured = lines.len();
    if !rec.brda.is_empty() {
        rec.brda.sort_unstable_by_key(|b| b.0);
        let mut i = 0;
        while i < rec.brda.len() {
            let ln = rec.brda[i].0;
            let (mut total, mut hit, mut exec) = (0u32, 0u32, 0u64);
            while i < rec.brda.len() && rec.brda[i].0 == ln {
                total = total.saturating_add(1);
                if rec.brda[i].1 > 0 {
                    hit = hit.saturating_add(1);
                }
                exec = exec.saturating_add(rec.brda[i].1);
                i += 1;
            }
            match lines[..measured].binary_search_by_key(&ln, |l| l.line) {
                Ok(p) => {
                    let l = &mut lines[p];
                    if l.hits == 0 && exec > 0 {
                        l.hits = hits(exec);
                    }
                    l.branches_total = l.branches_total.saturating_add(total);
                    l.branches_covered = l.branches_covered.saturating_add(hit);
                }
                Err(_) => lines.push(LineHits {
                    line: ln,
                    hits: if hit < total { 0 } else { hits(exec) },
                    branches_covered: hit,
                    branches_total: total,
                }),
            }
        }
        rec.brda.clear();
    }
    let from_branches = lines.len();
    if !rec.functions.list.is_empty() {
        let known = |lines: &[LineHits], start: u32| {
            lines[..measured]
                .binary_search_by_key(&start, |l| l.line)
                .is_ok()
                || lines[measured..from_branches]
                    .binary_search_by_key(&start, |l| l.line)
                    .is_ok()
        };
        for &(start, count) in &rec.functions.list {
            if !known(lines, start) {
                lines.push(LineHits {
                    line: start,
                    hits: hits(count),
                    ..Default::default()
                });
            }
        }
        // Several functions on one line: the first declared sets it (diff-cover's dict order;
        // the sort is stable). No line of the parts before is among them, so the only equal
        // neighbours are theirs.
        lines[from_branches..].sort_by_key(|l| l.line);
        lines.dedup_by_key(|l| l.line);
        rec.functions.clear();
    }
    if lines.len() > measured {
        // Three ascending parts on distinct lines.
        lines.sort_unstable_by_key(|l| l.line);
    }
    if let Some(f) = files.get_mut(idx) {
        if f.lines.is_empty() {
            f.lines = lines.clone();
            // Counted now, from the record's lines in the cache: counted with the rest of a
            // large report's, they are read from memory again (4 ms of the 15 MB bench run).
            f.totals = Some(LineTotals::of(lines));
        } else {
            // Another record of the same file.
            f.lines.extend_from_slice(lines);
            normalize_lines(&mut f.lines);
            f.totals = None;
        }
    }
    lines.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<RawReport, ParseError> {
        parse(s.as_bytes())
    }

    /// The one-pass `DA` reader answers only what the general one answers the same.
    #[test]
    fn da_line_agrees_with_read_da() {
        let table: [&[u8]; 14] = [
            b"12,3",
            b"1,0",
            b"007,0010",
            b"4294967295,18446744073709551615",
            b"4294967296,1",
            b"1,18446744073709551616",
            b"0,1",
            b"1,-1",
            b" 1,2",
            b"1,2 ",
            b"1,2,abc",
            b"1,",
            b",1",
            b"1;2",
        ];
        let plain: Vec<bool> = table.iter().map(|c| da_line(c).is_some()).collect();
        // The first four are plain; overflow, line 0, signs, blanks, checksums and bad
        // shapes go the general way.
        assert_eq!(
            plain,
            [
                true, true, true, true, false, false, false, false, false, false, false, false,
                false, false
            ]
        );
        for c in table {
            if let Some((fast, _)) = da_line(c) {
                assert_eq!(Ok(fast), read_da(c), "{:?}", String::from_utf8_lossy(c));
            }
        }
        assert_eq!(read_da(b"1,18446744073709551616").unwrap().hits, u32::MAX);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        #[test]
        fn da_line_is_read_da_where_it_answers(c in "[0-9]{0,22},[0-9]{0,22}|[0-9 ,+-]{0,12}|[\\PC]{0,8}") {
            if let Some((fast, _)) = da_line(c.as_bytes()) {
                proptest::prop_assert_eq!(Ok(fast), read_da(c.as_bytes()));
            }
        }
    }

    /// A file of one record is counted as it is read; a file of two is counted when asked (its
    /// lines merged after the first count).
    #[test]
    fn a_file_is_counted_as_read_unless_a_later_record_changes_it() {
        let r = p(
            "SF:a.py\nDA:1,0\nDA:2,4\nBRDA:2,0,0,1\nBRDA:2,0,1,0\nend_of_record\n\
                   SF:b.py\nDA:1,1\nend_of_record\nSF:b.py\nDA:2,0\nend_of_record\n",
        )
        .unwrap();
        let a = &r.files[0];
        assert_eq!(
            a.totals,
            Some(LineTotals {
                covered: 1,
                measured: 2,
                branches_covered: 1,
                branches_measured: 2
            })
        );
        assert_eq!(a.totals, Some(LineTotals::of(&a.lines)));
        assert_eq!((r.files[1].lines.len(), r.files[1].totals), (2, None));
    }

    #[test]
    fn da_duplicates_sum_and_records_merge() {
        let r = p(
            "TN:\nSF:a.py\nDA:1,0\nDA:1,2\nDA:3,0\nend_of_record\nSF:a.py\nDA:3,1\nend_of_record\n",
        )
        .unwrap();
        assert_eq!(r.files.len(), 1);
        let hits: Vec<(u32, u32)> = r.files[0].lines.iter().map(|l| (l.line, l.hits)).collect();
        assert_eq!(hits, vec![(1, 2), (3, 1)]);
    }

    #[test]
    fn branches_and_functions_follow_diff_cover() {
        let r = p("SF:b.c\nFN:1,main\nFN:10,20,helper,with,commas\nFNDA:3,main\nFNDA:0,helper,with,commas\n\
                   DA:2,0\nBRDA:2,0,0,1\nBRDA:2,0,1,-\nBRDA:5,0,0,1\nBRDA:5,0,1,0\nBRDA:6,0,0,2\nend_of_record\n")
            .unwrap();
        let l: Vec<(u32, u32, u32, u32)> = r.files[0]
            .lines
            .iter()
            .map(|l| (l.line, l.hits, l.branches_covered, l.branches_total))
            .collect();
        assert_eq!(
            l,
            vec![
                (1, 3, 0, 0),
                (2, 1, 1, 2),
                (5, 0, 1, 2),
                (6, 2, 1, 1),
                (10, 0, 0, 0)
            ]
        );
    }

    /// Functions as diff-cover's dict holds them (its answer on this record, 10.5.0, is the
    /// expected one): on a shared line the first declared sets the count, a redeclared name
    /// keeps its place and takes its new line, and a redeclaration clears the count read before.
    #[test]
    fn functions_sharing_a_line_or_redeclared_follow_diff_cover() {
        let r = p(
            "SF:f.js\nFN:7,(anonymous_1)\nFN:7,(anonymous_2)\nFN:3,a\nFN:9,b\nFN:12,a\n\
                   FNDA:0,(anonymous_1)\nFNDA:5,(anonymous_2)\nFNDA:4,a\nFNDA:2,b\nFN:9,b\n\
                   DA:1,1\nend_of_record\n",
        )
        .unwrap();
        let l: Vec<(u32, u32)> = r.files[0].lines.iter().map(|l| (l.line, l.hits)).collect();
        assert_eq!(l, [(1, 1), (7, 0), (9, 0), (12, 4)]);
    }

    #[test]
    fn malformed_is_an_error_with_line() {
        let e = p("SF:a\nDA:x,1\n").unwrap_err();
        assert_eq!(e.location.line, Some(2));
        let e = p("DA:1,1\n").unwrap_err();
        assert!(e.message.contains("before any SF"));
        let e = p("hello world\n").unwrap_err();
        assert!(e.message.contains("not an LCOV line"));
        assert!(p("").is_err());
        assert!(p("SF:a\nBRDA:1,2\n").is_err());
        // Cut short at a line's end: the last record has no `end_of_record`.
        for (cut, line) in [
            ("SF:a\nDA:1,1\nDA:2,0\n", 4),
            ("SF:a\nDA:1,1\nend_of_record\nSF:b\nDA:1,1", 6),
        ] {
            for fast in [true, false] {
                let e = parse_with(cut.as_bytes(), fast).unwrap_err();
                assert!(e.message.contains("no `end_of_record`"), "{e}");
                assert_eq!(e.location.line, Some(line), "{cut:?}");
            }
        }
        // Records ended, with or without a last newline, or by the next `SF`: read.
        for whole in [
            "SF:a\nDA:1,1\nend_of_record",
            "SF:a\nDA:1,1\nSF:b\nDA:1,1\nend_of_record\n\n",
        ] {
            assert!(p(whole).is_ok(), "{whole:?}");
        }
    }

    /// Every line of a report as (file, line, hits, branches covered, branches total).
    fn lines(r: &RawReport) -> Vec<(String, u32, u32, u32, u32)> {
        r.files
            .iter()
            .flat_map(|f| {
                f.lines.iter().map(|l| {
                    (
                        f.name.clone(),
                        l.line,
                        l.hits,
                        l.branches_covered,
                        l.branches_total,
                    )
                })
            })
            .collect()
    }

    #[test]
    fn crlf_a_bom_blank_lines_and_no_final_newline_read_the_same() {
        let text = "\u{feff}TN:t\r\nSF:src/a.rs\r\nDA:1,3\nDA:22,0\n\nBRDA:22,0,0,-\nBRDA:22,0,1,4\n\
                    end_of_record\nSF:b.rs\nDA:7,18446744073709551616\nBRDA:9,0,0,4\r\n\
                    BRDA:9,0,1,0\nend_of_record";
        let expected = vec![
            ("src/a.rs".into(), 1, 3, 0, 0),
            ("src/a.rs".into(), 22, 4, 1, 2),
            ("b.rs".into(), 7, u32::MAX, 0, 0),
            ("b.rs".into(), 9, 0, 1, 2),
        ];
        for fast in [true, false] {
            assert_eq!(lines(&parse_with(text.as_bytes(), fast).unwrap()), expected);
        }
        let e = p("SF:a\nDA:1,1\nDA:4294967296,1\n").unwrap_err();
        assert_eq!(
            e.location.line,
            Some(3),
            "a line number past u32 is an error on its line"
        );
        let e = p("SF:a\nDA:1,1\nBRDA:0,0,0,1").unwrap_err();
        assert_eq!(e.location.line, Some(3), "{e:?}");
        assert!(e.message.contains("line 0"), "{e:?}");
    }

    /// The one-pass line readers take only what is theirs: plain digits up to the line's end.
    #[test]
    fn one_pass_lines_take_plain_digits_to_the_end_of_the_line() {
        /// A line after its key, and what is read from it: (line, count, length).
        type Case = (&'static [u8], Option<(u32, u64, usize)>);
        let da: [Case; 10] = [
            (b"12,3\nDA:", Some((12, 3, 5))),
            (b"12,3", Some((12, 3, 4))),
            (b"007,0010\n", Some((7, 10, 9))),
            (b"12,3\r\n", None),
            (b"12,3 \n", None),
            (b"12,3,ab\n", None),
            (b"0,3\n", None),
            (b"4294967296,1\n", None),
            (b"1,18446744073709551616\n", None),
            (b",1\n", None),
        ];
        for (b, want) in da {
            let got = da_line(b).map(|(h, len)| (h.line, u64::from(h.hits), len));
            assert_eq!(got, want, "DA:{}", String::from_utf8_lossy(b));
        }
        let brda: [Case; 8] = [
            (b"22,0,1,4\n", Some((22, 4, 9))),
            (b"22,0,1,-\n", Some((22, 0, 9))),
            (b"22,0,1,-", Some((22, 0, 8))),
            (b"22,e0,1,4\n", None),
            (b"22,0,1\n", None),
            (b"22,0,1,4,5\n", None),
            (b"22,0,1,-3\n", None),
            (b"0,0,1,4\n", None),
        ];
        for (b, want) in brda {
            let got = brda_line(b).map(|((line, taken), len)| (line, taken, len));
            assert_eq!(got, want, "BRDA:{}", String::from_utf8_lossy(b));
        }
    }

    /// Function lines read in one pass as the general reader reads them: both forms of `FN`,
    /// names with commas, blanks or nothing, a CR before the newline, counts past `u64`, and
    /// the errors (their lines too).
    #[test]
    fn function_lines_read_in_one_pass_as_the_general_reader_reads_them() {
        let docs: [(&str, Option<u32>); 11] = [
            ("FN:3,f\nFNDA:9,f", Some(9)),
            ("FN:3,4,f\nFNDA:9,f", Some(9)),
            ("FN:3,f,g\nFNDA:9,f,g", Some(9)),
            ("FN:3,f\r\nFNDA:9,f", Some(9)),
            ("FN:3,f \nFNDA:9,f", Some(9)),
            ("FN:3, f\nFNDA:9, f", Some(9)),
            ("FN:3,\nFNDA:9,", Some(9)),
            ("FN:3,f\nFNDA:9,g", Some(0)),
            ("FN:0,f\nFNDA:9,f", None),
            ("FN:3,f\nFNDA:18446744073709551616,f", Some(u32::MAX)),
            ("FN:3,f\nFNDA:18446744073709551615,f\r", Some(u32::MAX)),
        ];
        for (body, want) in docs {
            let text = format!("SF:a\nDA:1,1\n{body}\nend_of_record\n");
            let [fast, general] =
                [true, false].map(|fast| lines(&parse_with(text.as_bytes(), fast).unwrap()));
            assert_eq!(fast, general, "{body:?}");
            let hits = fast.iter().find(|l| l.1 == 3).map(|l| l.2);
            assert_eq!(hits, want, "{body:?}");
        }
        for (body, line) in [("FN:4294967296,f", 3), ("FN:3,f\nFNDA:-1,f", 4)] {
            let text = format!("SF:a\nDA:1,1\n{body}\nend_of_record\n");
            let [fast, general] =
                [true, false].map(|fast| parse_with(text.as_bytes(), fast).unwrap_err());
            assert_eq!(fast.location.line, Some(line), "{body:?}");
            assert_eq!(fast.message, general.message, "{body:?}");
        }
    }

    /// A number as LCOV writers (and broken ones) write it.
    fn number() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            4 => "[1-9][0-9]{0,3}",
            1 => Just("0".to_owned()),
            1 => "0[0-9]",
            1 => "4294967295|4294967296|18446744073709551615|18446744073709551616",
            1 => "|-1|e0| 7|\\+3",
        ]
    }

    /// A function's name as tools write it, and as they should not (blank, padded, with a
    /// comma): few of them, so that counts and declarations meet.
    fn name() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        proptest::sample::select(vec!["f", "g", "f,g", " f", "", "f g", "é"])
            .prop_map(str::to_owned)
    }

    /// A line of a tracefile: mostly `DA` and `BRDA`, plain or not, among the rest.
    fn tracefile_line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let end = "|\r| |,ab|,1";
        prop_oneof![
            1 => "SF:[a-c]\\.py",
            1 => Just("end_of_record".to_owned()),
            4 => (number(), number(), end)
                .prop_map(|(l, h, e)| format!("DA:{l},{h}{e}")),
            3 => (number(), number(), number(), prop_oneof![number(), Just("-".to_owned())], end)
                .prop_map(|(l, b, br, t, e)| format!("BRDA:{l},{b},{br},{t}{e}")),
            2 => (number(), prop_oneof![Just(String::new()), number().prop_map(|n| format!("{n},"))], name(), end)
                .prop_map(|(l, e, n, x)| format!("FN:{l},{e}{n}{x}")),
            2 => (number(), name(), end).prop_map(|(c, n, x)| format!("FNDA:{c},{n}{x}")),
            1 => "[ -~]{0,6}",
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5_000))]
        /// Read in one pass or line by line, any document reads the same, errors included
        /// (their line numbers too).
        #[test]
        fn one_pass_lines_read_as_the_general_reader_does(
            body in proptest::collection::vec(tracefile_line(), 0..40),
            last_newline in proptest::bool::ANY,
        ) {
            let mut text = format!("SF:a.py\n{}", body.join("\n"));
            if last_newline {
                text.push('\n');
            }
            let fast = parse_with(text.as_bytes(), true);
            let general = parse_with(text.as_bytes(), false);
            match (fast, general) {
                (Ok(f), Ok(g)) => proptest::prop_assert_eq!(lines(&f), lines(&g)),
                (f, g) => proptest::prop_assert_eq!(
                    format!("{:?}", f.err()),
                    format!("{:?}", g.err())
                ),
            }
        }
    }
}
