//! Reading reports: format detection by content and parsing (LCOV, Cobertura, JaCoCo, Clover),
//! with errors located by file and line.

use super::request::ReportInput;
use crate::error::{Error, Location, ParseError};
use crate::ingest::{clover, cobertura, jacoco, lcov};
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

/// Detects a report's format from its first bytes: not XML → LCOV; root `<report>` → JaCoCo;
/// root `<coverage>` → Clover when it has a `clover` attribute or its first child is
/// `<project>` (PHPUnit writes no `clover` attribute; Cobertura's children are `<sources>` and
/// `<packages>`), else Cobertura.
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
    } else if local == b"coverage" && is_clover(b) {
        CoverageFormat::Clover
    } else {
        CoverageFormat::Cobertura
    }
}

/// `root` starts with the root element's `<coverage`: does it have a `clover` attribute, or a
/// `<project>` first child?
fn is_clover(root: &[u8]) -> bool {
    // The start tag, up to its `>` outside quoted values.
    let mut quote = None;
    let mut end = None;
    for (i, &c) in root.iter().enumerate() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'>') => {
                end = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(end) = end else { return false };
    let tag = &root[..end];
    // Attribute names: a name right after white space, outside quoted values.
    let mut quote = None;
    let mut i = 0;
    while i < tag.len() {
        let c = tag[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c.is_ascii_whitespace() => {
                let name: Vec<u8> = tag[i + 1..]
                    .iter()
                    .take_while(|c| !c.is_ascii_whitespace() && **c != b'=')
                    .copied()
                    .collect();
                let local = name.rsplit(|&c| c == b':').next().unwrap_or(&name);
                if local == b"clover" {
                    return true;
                }
            }
            None => {}
        }
        i += 1;
    }
    if tag.ends_with(b"/") {
        return false;
    }
    // The first child element, past white space, comments and processing instructions.
    let mut b = &root[end + 1..];
    for _ in 0..64 {
        b = b.trim_ascii_start();
        if b.starts_with(b"<!--") {
            b = after(b, b"-->");
        } else if b.starts_with(b"<?") {
            b = after(b, b"?>");
        } else {
            break;
        }
    }
    b.strip_prefix(b"<project").is_some_and(|rest| {
        rest.first()
            .is_none_or(|c| c.is_ascii_whitespace() || *c == b'>' || *c == b'/')
    })
}

fn after<'a>(b: &'a [u8], pat: &[u8]) -> &'a [u8] {
    b.windows(pat.len())
        .position(|w| w == pat)
        .map_or(&[], |i| &b[i + pat.len()..])
}

/// Parses one report (format detected by content). Errors name the file and line.
pub fn parse_report(input: &ReportInput, source_roots: &[String]) -> Result<RawReport, Error> {
    let bytes: &[u8] = &input.bytes;
    let res = match detect_format(bytes) {
        CoverageFormat::Lcov => lcov::parse(bytes),
        CoverageFormat::Cobertura => cobertura::parse(bytes),
        CoverageFormat::Jacoco => jacoco::parse(bytes, source_roots),
        CoverageFormat::Clover => clover::parse(bytes),
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
            "{} (is this an LCOV, Cobertura, JaCoCo or Clover coverage report?)",
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

    #[test]
    fn detects_clover_by_attribute_or_project_child() {
        for clover in [
            // Istanbul, OpenClover, gcovr (a timestamp as the version)
            &b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<coverage generated=\"1\" clover=\"3.2.0\">\n<project/></coverage>"[..],
            b"<coverage clover='4.5.2' generated='1'><project name='p'/></coverage>",
            b"<coverage\n  clover=\"1796092253\"\n  generated=\"1796092253\"/>",
            // PHPUnit: no `clover` attribute, `<project>` first
            b"<?xml version=\"1.0\"?>\n<coverage generated=\"1718200000\">\n  <!-- c -->\n  <project timestamp=\"1\">",
            b"<coverage generated=\"1\"><project>",
        ] {
            assert_eq!(
                detect_format(clover),
                CoverageFormat::Clover,
                "{}",
                String::from_utf8_lossy(clover)
            );
        }
        for cobertura in [
            &b"<coverage version=\"7\"><sources><source>.</source></sources>"[..],
            b"<coverage line-rate=\"1\" name=\"clover\"><packages/></coverage>",
            b"<coverage x='a clover=b'><projects/></coverage>",
            b"<coverage generated=\"1\"/><project/>",
            b"<coverage",
        ] {
            assert_eq!(
                detect_format(cobertura),
                CoverageFormat::Cobertura,
                "{}",
                String::from_utf8_lossy(cobertura)
            );
        }
    }

    #[test]
    fn clover_errors_name_the_file_and_line() {
        let input = ReportInput {
            path: "cov/clover.xml".into(),
            bytes: b"<?xml version=\"1.0\"?>\n<coverage clover=\"4\">\n<project>\n<file path=\"a.js\">\n<line num=\"0\" count=\"1\" type=\"stmt\"/>\n</file></project></coverage>\n".to_vec().into(),
        };
        let e = parse_report(&input, &[]).unwrap_err().to_string();
        assert!(e.contains("cov/clover.xml:5"), "{e}");
        assert!(e.contains("line numbers start at 1"), "{e}");
    }
}
