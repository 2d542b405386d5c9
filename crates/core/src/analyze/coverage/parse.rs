//! Reading reports: format detection by content and parsing (LCOV, Cobertura, JaCoCo), with
//! errors located by file and line.

use super::request::ReportInput;
use crate::error::{Error, Location, ParseError};
use crate::ingest::{cobertura, jacoco, lcov};
use crate::model::coverage::{CoverageFormat, RawReport};

/// The JaCoCo source roots in force: the configured ones, else `src/main/java`,
/// `src/main/kotlin`.
pub fn source_roots(configured: &[String]) -> Vec<String> {
    if configured.is_empty() {
        jacoco::DEFAULT_SOURCE_ROOTS
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        configured.to_vec()
    }
}

/// Parses each report (format detected by content).
pub fn parse_reports(
    reports: &[ReportInput],
    source_roots: &[String],
) -> Result<Vec<RawReport>, Error> {
    reports
        .iter()
        .map(|r| parse_report(r, source_roots))
        .collect()
}

/// Detects a report's format from its first bytes.
pub fn detect_format(bytes: &[u8]) -> CoverageFormat {
    let mut b = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .trim_ascii_start();
    if b.first() != Some(&b'<') {
        return CoverageFormat::Lcov;
    }
    // Skip the prolog: declarations, comments, DOCTYPE (with an internal subset).
    for _ in 0..64 {
        b = b.trim_ascii_start();
        if b.starts_with(b"<?") {
            b = after(b, b"?>");
        } else if b.starts_with(b"<!--") {
            b = after(b, b"-->");
        } else if b.starts_with(b"<!") {
            let gt = b.iter().position(|&c| c == b'>').unwrap_or(b.len());
            let br = b.iter().position(|&c| c == b'[').unwrap_or(b.len());
            b = if br < gt {
                after(b, b"]>")
            } else {
                after(b, b">")
            };
        } else {
            break;
        }
    }
    let name: Vec<u8> = b
        .iter()
        .skip(1)
        .take_while(|c| !c.is_ascii_whitespace() && **c != b'>' && **c != b'/')
        .copied()
        .collect();
    let local = name.rsplit(|&c| c == b':').next().unwrap_or(&name);
    if local == b"report" {
        CoverageFormat::Jacoco
    } else {
        CoverageFormat::Cobertura
    }
}

fn after<'a>(b: &'a [u8], pat: &[u8]) -> &'a [u8] {
    b.windows(pat.len())
        .position(|w| w == pat)
        .map_or(&[], |i| &b[i + pat.len()..])
}

/// Parses one report (format detected by content). Errors name the file and line.
pub fn parse_report(input: &ReportInput, source_roots: &[String]) -> Result<RawReport, Error> {
    let bytes = input.bytes.as_slice();
    let res = match detect_format(bytes) {
        CoverageFormat::Lcov => lcov::parse(bytes),
        CoverageFormat::Cobertura => cobertura::parse(bytes),
        CoverageFormat::Jacoco => jacoco::parse(bytes, source_roots),
    };
    res.map_err(|e| locate(e, bytes).in_file(&input.path))
}

/// Adds a line number to a byte-located error.
fn locate(mut e: ParseError, bytes: &[u8]) -> ParseError {
    if e.location.line.is_none() {
        if let Some(b) = e.location.byte {
            let end = usize::try_from(b).unwrap_or(usize::MAX).min(bytes.len());
            let line = bytes[..end].iter().filter(|&&c| c == b'\n').count() as u64 + 1;
            e.location = Location {
                line: Some(line),
                byte: Some(b),
            };
        }
    }
    if !e.message.contains("coverage") {
        e.message = format!(
            "{} (is this an LCOV, Cobertura or JaCoCo coverage report?)",
            e.message
        );
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        assert_eq!(detect_format(b"TN:\nSF:a\n"), CoverageFormat::Lcov);
        assert_eq!(
            detect_format(b"\xEF\xBB\xBF<?xml version='1.0'?>\n<!-- x --><coverage/>"),
            CoverageFormat::Cobertura
        );
        assert_eq!(
            detect_format(b"<?xml version='1.0'?><!DOCTYPE report PUBLIC \"-//JACOCO//DTD Report 1.1//EN\" \"report.dtd\"><report name='x'/>"),
            CoverageFormat::Jacoco
        );
    }
}
