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

use std::collections::HashMap;
use std::io::BufRead;

use crate::error::ParseError;
use crate::model::coverage::{CoverageFormat, LineHits, RawFile, RawReport, normalize_lines};

#[derive(Default)]
struct Record {
    file: Option<usize>,
    da: Vec<LineHits>,
    /// (line, taken)
    brda: Vec<(u32, u64)>,
    /// name → (start line, FNDA count)
    functions: HashMap<Vec<u8>, (u32, u64)>,
}

/// Parses an LCOV tracefile.
pub fn parse(mut reader: impl BufRead) -> Result<RawReport, ParseError> {
    let mut files: Vec<RawFile> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut rec = Record::default();
    let mut buf = Vec::with_capacity(256);
    let mut line_no: u64 = 0;
    let mut seen_directive = false;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| ParseError::at_line(line_no + 1, format!("read error: {e}")))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let mut line = buf.trim_ascii();
        if line_no == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            continue;
        }
        if line == b"end_of_record" {
            finish(&mut rec, &mut files);
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(ParseError::at_line(line_no, not_lcov(line)));
        };
        let (key, content) = (&line[..colon], &line[colon + 1..]);
        if key.is_empty() || !key.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_') {
            return Err(ParseError::at_line(line_no, not_lcov(line)));
        }
        seen_directive = true;
        match key {
            b"SF" => {
                finish(&mut rec, &mut files);
                let name = String::from_utf8_lossy(content).into_owned();
                let next = files.len();
                let idx = *index.entry(name.clone()).or_insert(next);
                if idx == next {
                    files.push(RawFile {
                        name,
                        lines: Vec::new(),
                    });
                }
                rec.file = Some(idx);
            }
            b"DA" => {
                need_file(&rec, line_no, "DA")?;
                let mut it = content.split(|&b| b == b',');
                let ln = it.next().and_then(parse_u32);
                let hits = it.next().and_then(parse_count);
                match (ln, hits, it.nth(1)) {
                    (Some(line), Some(hits), None) => rec.da.push(LineHits {
                        line,
                        hits,
                        ..Default::default()
                    }),
                    _ => return Err(bad(line_no, "DA:<line>,<count>[,<checksum>]", line)),
                }
            }
            b"BRDA" => {
                need_file(&rec, line_no, "BRDA")?;
                let parts: Vec<&[u8]> = content.split(|&b| b == b',').collect();
                let ok = parts.len() == 4;
                let ln = parts.first().and_then(|p| parse_u32(p));
                let taken = parts
                    .get(3)
                    .and_then(|p| if *p == b"-" { Some(0) } else { parse_count(p) });
                match (ok, ln, taken) {
                    (true, Some(l), Some(t)) => rec.brda.push((l, t)),
                    _ => return Err(bad(line_no, "BRDA:<line>,<block>,<branch>,<taken|->", line)),
                }
            }
            b"FN" => {
                need_file(&rec, line_no, "FN")?;
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
                rec.functions.insert(name.to_vec(), (start, 0));
            }
            b"FNDA" => {
                need_file(&rec, line_no, "FNDA")?;
                let Some(c1) = content.iter().position(|&b| b == b',') else {
                    return Err(bad(line_no, "FNDA:<count>,<name>", line));
                };
                let Some(count) = parse_count(&content[..c1]) else {
                    return Err(bad(line_no, "FNDA:<count>,<name>", line));
                };
                if let Some(f) = rec.functions.get_mut(&content[c1 + 1..]) {
                    f.1 = count;
                }
            }
            _ => {}
        }
    }
    finish(&mut rec, &mut files);
    if !seen_directive {
        return Err(ParseError::at(
            None,
            Some(0),
            "empty LCOV report: no SF/DA records",
        ));
    }
    for f in &mut files {
        normalize_lines(&mut f.lines);
    }
    Ok(RawReport {
        format: CoverageFormat::Lcov,
        roots: Vec::new(),
        files,
    })
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

fn need_file(rec: &Record, line_no: u64, key: &str) -> Result<(), ParseError> {
    if rec.file.is_none() {
        return Err(ParseError::at_line(
            line_no,
            format!("LCOV {key} record before any SF: line"),
        ));
    }
    Ok(())
}

fn parse_u32(b: &[u8]) -> Option<u32> {
    let b = b.trim_ascii();
    if b.is_empty() || b.len() > 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Execution counts: non-negative integers; negative counts (old gcov overflow) read as 0.
fn parse_count(b: &[u8]) -> Option<u64> {
    let b = b.trim_ascii();
    if let Some(neg) = b.strip_prefix(b"-") {
        return if !neg.is_empty() && neg.iter().all(u8::is_ascii_digit) {
            Some(0)
        } else {
            None
        };
    }
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        std::str::from_utf8(b)
            .ok()?
            .parse::<u64>()
            .unwrap_or(u64::MAX),
    )
}

/// Applies one record's DA/BRDA/FN data to its file (diff-cover's end-of-record rules).
fn finish(rec: &mut Record, files: &mut [RawFile]) {
    let Some(idx) = rec.file.take() else {
        rec.da.clear();
        rec.brda.clear();
        rec.functions.clear();
        return;
    };
    let mut lines = std::mem::take(&mut rec.da);
    normalize_lines(&mut lines);
    if !rec.brda.is_empty() {
        rec.brda.sort_unstable_by_key(|b| b.0);
        let mut extra = Vec::new();
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
            match lines.binary_search_by_key(&ln, |l| l.line) {
                Ok(p) => {
                    let l = &mut lines[p];
                    if l.hits == 0 && exec > 0 {
                        l.hits = exec;
                    }
                    l.branches_total = l.branches_total.saturating_add(total);
                    l.branches_covered = l.branches_covered.saturating_add(hit);
                }
                Err(_) => extra.push(LineHits {
                    line: ln,
                    hits: if hit < total { 0 } else { exec },
                    branches_covered: hit,
                    branches_total: total,
                }),
            }
        }
        lines.extend(extra);
        normalize_lines(&mut lines);
        rec.brda.clear();
    }
    if !rec.functions.is_empty() {
        let mut extra: Vec<LineHits> = Vec::new();
        for (_, (start, hits)) in rec.functions.drain() {
            if lines.binary_search_by_key(&start, |l| l.line).is_err()
                && !extra.iter().any(|e| e.line == start)
            {
                extra.push(LineHits {
                    line: start,
                    hits,
                    ..Default::default()
                });
            }
        }
        lines.extend(extra);
        normalize_lines(&mut lines);
    }
    if let Some(f) = files.get_mut(idx) {
        if f.lines.is_empty() {
            f.lines = lines;
        } else {
            f.lines.extend(lines);
            normalize_lines(&mut f.lines);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<RawReport, ParseError> {
        parse(s.as_bytes())
    }

    #[test]
    fn da_duplicates_sum_and_records_merge() {
        let r = p(
            "TN:\nSF:a.py\nDA:1,0\nDA:1,2\nDA:3,0\nend_of_record\nSF:a.py\nDA:3,1\nend_of_record\n",
        )
        .unwrap();
        assert_eq!(r.files.len(), 1);
        let hits: Vec<(u32, u64)> = r.files[0].lines.iter().map(|l| (l.line, l.hits)).collect();
        assert_eq!(hits, vec![(1, 2), (3, 1)]);
    }

    #[test]
    fn branches_and_functions_follow_diff_cover() {
        let r = p("SF:b.c\nFN:1,main\nFN:10,20,helper,with,commas\nFNDA:3,main\nFNDA:0,helper,with,commas\n\
                   DA:2,0\nBRDA:2,0,0,1\nBRDA:2,0,1,-\nBRDA:5,0,0,1\nBRDA:5,0,1,0\nBRDA:6,0,0,2\nend_of_record\n")
            .unwrap();
        let l: Vec<(u32, u64, u32, u32)> = r.files[0]
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
    }
}
