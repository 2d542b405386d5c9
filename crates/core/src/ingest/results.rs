//! Test results in any supported format, detected by content and streamed as [`TestCase`]s.
//!
//! Every reader has the same shape as [`junit::parse`]: `impl BufRead` in, one call of
//! `on_case` per test (document order), a [`Summary`] out, a [`ParseError`] with the line for
//! malformed input. Detection looks only at the first bytes (the root element of an XML
//! document, the first JSON value of a JSON one); anything it does not recognise goes to the
//! JUnit reader, whose errors say what a report must look like.

use std::io::{BufRead, Cursor, Read};

use crate::error::ParseError;
use crate::ingest::batch::CaseSink;
use crate::ingest::{dart, gotest, junit, mocha, nunit, trx, xml, xunit};
use crate::model::TestCase;

/// What a results document held besides its tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Suites (JUnit `<testsuite>`, NUnit `test-suite`, xUnit.net `<collection>`, Go packages,
    /// Dart suites, Mocha files...), nested ones included.
    pub suites: u64,
    /// Tests reported (= calls to `on_case`).
    pub cases: u64,
    /// Suite properties not inherited by tests (see [`junit::MAX_SUITE_PROPERTIES`]).
    pub suite_properties_dropped: u64,
    /// Properties of tests past the first [`junit::MAX_CASE_PROPERTIES`] of a test: not read.
    pub case_properties_dropped: u64,
}

/// The formats [`parse`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JUnit XML (`<testsuites>`, `<testsuite>`), and anything not recognised.
    Junit,
    /// Visual Studio TRX (`<TestRun>`).
    Trx,
    /// NUnit 3 (`<test-run>`, or a bare `<test-suite>`) and NUnit 2 (`<test-results>`).
    Nunit,
    /// xUnit.net v2 (`<assemblies>`, `<assembly>`).
    Xunit,
    /// `go test -json` / `go tool test2json` event stream.
    GoTest,
    /// Dart/Flutter `--reporter json` event stream.
    Dart,
    /// Mocha `--reporter json` document.
    Mocha,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Junit => "JUnit XML",
            Format::Trx => "TRX",
            Format::Nunit => "NUnit XML",
            Format::Xunit => "xUnit.net XML",
            Format::GoTest => "go test -json",
            Format::Dart => "Dart JSON",
            Format::Mocha => "Mocha JSON",
        }
    }
}

/// How many leading bytes detection may look at.
const SNIFF: usize = 64 * 1024;

/// Detects the format of `reader` from its first bytes and streams it with that format's
/// reader. Returns the format with the summary.
pub fn parse(
    reader: impl BufRead,
    input: usize,
    mut on_case: &mut dyn FnMut(TestCase),
) -> Result<(Format, Summary), ParseError> {
    parse_into(reader, input, &mut on_case)
}

/// [`parse`] into a [`CaseSink`]: JUnit cases arrive with their strings raw, for the sink to
/// decode (see [`crate::ingest::batch`]); every other format's, decoded.
pub fn parse_into(
    mut reader: impl BufRead,
    input: usize,
    sink: &mut dyn CaseSink,
) -> Result<(Format, Summary), ParseError> {
    let mut head = Vec::with_capacity(4096);
    (&mut reader)
        .take(SNIFF as u64)
        .read_to_end(&mut head)
        .map_err(|e| ParseError::at(Some(1), Some(0), format!("cannot read input: {e}")))?;
    let format = detect(&head);
    let whole = Cursor::new(head).chain(reader);
    let summary = parse_as(format, whole, input, sink)?;
    Ok((format, summary))
}

/// [`parse_into`] over a document in memory (or mapped). The XML formats are read from the
/// bytes in place (events borrowed, a large text in pieces: [`junit::parse_bytes_into`]), the
/// JSON ones as a stream over them. Same answers and errors. `done_before(n)` is called, `n`
/// growing, about every [`junit::PROGRESS_EVERY`] bytes read: the bytes before `n` will not be
/// looked at again (but after an error, to find its line).
pub fn parse_bytes_into(
    bytes: &[u8],
    input: usize,
    sink: &mut dyn CaseSink,
    done_before: &mut dyn FnMut(usize),
) -> Result<(Format, Summary), ParseError> {
    let format = detect(&bytes[..bytes.len().min(SNIFF)]);
    let on_case = &mut |case| sink.case(case);
    let summary = match format {
        Format::Junit => junit::parse_bytes_into(bytes, input, sink, done_before)?,
        Format::Trx => trx::parse_document(in_place(bytes, done_before), input, on_case)?,
        Format::Nunit => nunit::parse_document(in_place(bytes, done_before), input, on_case)?,
        Format::Xunit => xunit::parse_document(in_place(bytes, done_before), input, on_case)?,
        other => {
            let reader = Stream {
                bytes,
                at: 0,
                progress: xml::Progress::new(done_before),
            };
            parse_as(other, reader, input, sink)?
        }
    };
    Ok((format, summary))
}

/// `bytes` to read in place.
fn in_place<'a>(
    bytes: &'a [u8],
    done_before: &'a mut dyn FnMut(usize),
) -> xml::Document<'a, &'a [u8]> {
    xml::Document::InPlace { bytes, done_before }
}

/// `format`'s reader over `reader`.
fn parse_as(
    format: Format,
    reader: impl BufRead,
    input: usize,
    sink: &mut dyn CaseSink,
) -> Result<Summary, ParseError> {
    if format == Format::Junit {
        return junit::parse_into(reader, input, sink);
    }
    let on_case = &mut |case| sink.case(case);
    match format {
        Format::Junit | Format::Trx => trx::parse(reader, input, on_case),
        Format::Nunit => nunit::parse(reader, input, on_case),
        Format::Xunit => xunit::parse(reader, input, on_case),
        Format::GoTest => gotest::parse(reader, input, on_case),
        Format::Dart => dart::parse(reader, input, on_case),
        Format::Mocha => mocha::parse(reader, input, on_case),
    }
}

/// Bytes in memory as a stream that tells how far it has been consumed.
struct Stream<'a, 'f> {
    bytes: &'a [u8],
    at: usize,
    progress: xml::Progress<'f>,
}

impl std::io::Read for Stream<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        xml::read_buffered(self, out)
    }
}

impl BufRead for Stream<'_, '_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(&self.bytes[self.at..])
    }

    fn consume(&mut self, amt: usize) {
        self.at = (self.at + amt).min(self.bytes.len());
        self.progress.at(self.at, false);
    }
}

/// The format `head` (a document's first bytes) starts like.
pub fn detect(head: &[u8]) -> Format {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = &head[start..];
    match head.first() {
        Some(b'<') => match xml_root(head) {
            Some(b"TestRun") => Format::Trx,
            Some(b"test-run") | Some(b"test-results") | Some(b"test-suite") => Format::Nunit,
            Some(b"assemblies") | Some(b"assembly") => Format::Xunit,
            _ => Format::Junit,
        },
        Some(b'{') | Some(b'[') => detect_json(head),
        Some(b'#') | Some(b'F') if go_build_output_first(head) => Format::GoTest,
        _ => Format::Junit,
    }
}

/// The local name of the first element, skipping the declaration, comments, processing
/// instructions and a DOCTYPE.
fn xml_root(mut s: &[u8]) -> Option<&[u8]> {
    loop {
        let at = s.iter().position(|&b| b == b'<')?;
        s = &s[at..];
        if s.starts_with(b"<?") {
            s = &s[find(s, b"?>")? + 2..];
        } else if s.starts_with(b"<!--") {
            s = &s[find(s, b"-->")? + 3..];
        } else if s.starts_with(b"<!") {
            s = &s[find(s, b">")? + 1..];
        } else {
            let name = &s[1..];
            let end = name
                .iter()
                .position(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
                .unwrap_or(name.len());
            let name = &name[..end];
            // `<ns:TestRun>`: the local name decides.
            let local = match name.iter().rposition(|&b| b == b':') {
                Some(colon) => &name[colon + 1..],
                None => name,
            };
            return Some(local);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// JSON: Go's and Dart's reporters write one event object per line, Mocha one document. The
/// keys of the first object tell them apart: Go events have `"Action"`, Dart events `"type"`
/// (the first one is `{"protocolVersion":…,"type":"start"}`), Mocha has `"stats"`.
fn detect_json(head: &[u8]) -> Format {
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    if head.starts_with(b"{") {
        if contains(first_line, b"\"Action\"") {
            return Format::GoTest;
        }
        if contains(first_line, b"\"protocolVersion\"")
            || (contains(first_line, b"\"type\"") && !contains(head, b"\"stats\""))
        {
            return Format::Dart;
        }
    }
    Format::Mocha
}

/// Before Go 1.24, `go test -json` prints a build failure as plain text (`# example.com/m/bad
/// [example.com/m/bad.test]`, the compiler's lines, `FAIL\texample.com/m/bad [build failed]`)
/// on the same stream as the events, and it usually comes first (packages build before their
/// tests run). Such a head is Go's when an event follows in it.
fn go_build_output_first(head: &[u8]) -> bool {
    (head.starts_with(b"# ") || head.starts_with(b"FAIL\t"))
        && head
            .split(|&b| b == b'\n')
            .any(|l| l.starts_with(b"{") && contains(l, b"\"Action\""))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format_by_its_first_bytes() {
        let cases: &[(&[u8], Format)] = &[
            (b"<?xml version=\"1.0\"?>\n<testsuites/>", Format::Junit),
            (b"\xEF\xBB\xBF<testsuite name=\"x\">", Format::Junit),
            (
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><TestRun id=\"1\" xmlns=\"http://microsoft.com/schemas/VisualStudio/TeamTest/2010\">",
                Format::Trx,
            ),
            (b"<!-- NUnit --><test-run id=\"2\">", Format::Nunit),
            (b"<?xml version=\"1.0\"?><test-results name=\"x\">", Format::Nunit),
            (b"\xEF\xBB\xBF<test-suite type=\"Assembly\">", Format::Nunit),
            (b"<assemblies timestamp=\"x\">", Format::Xunit),
            (b"<assembly name=\"x\">", Format::Xunit),
            (
                b"{\"Time\":\"2024-01-01T00:00:00Z\",\"Action\":\"start\",\"Package\":\"p\"}\n",
                Format::GoTest,
            ),
            (
                b"{\"protocolVersion\":\"0.1.1\",\"runnerVersion\":\"1.25.0\",\"pid\":1,\"type\":\"start\",\"time\":0}\n",
                Format::Dart,
            ),
            (b"{\n  \"stats\": {\n    \"suites\": 1", Format::Mocha),
            (
                b"FAIL\texample.com/m/bad [build failed]\n{\"Time\":\"2024-01-01T00:00:00Z\",\"Action\":\"run\",\"Package\":\"example.com/m/ok\",\"Test\":\"TestX\"}\n",
                Format::GoTest,
            ),
            (
                b"# example.com/m/bad [example.com/m/bad.test]\nbad/x_test.go:5:2: undefined: y\n{\"Action\":\"start\",\"Package\":\"p\"}\n",
                Format::GoTest,
            ),
            (b"# A heading\nFAIL\tsomething\n", Format::Junit),
            (b"", Format::Junit),
            (b"not a report", Format::Junit),
            (b"<foo/>", Format::Junit),
        ];
        for (head, want) in cases {
            assert_eq!(detect(head), *want, "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn detection_does_not_swallow_the_bytes_it_looked_at() {
        // A document longer than the sniffed head: the reader must see all of it.
        let mut xml = String::from("<testsuites>");
        for i in 0..5000 {
            xml.push_str(&format!("<testcase classname=\"c\" name=\"t{i}\"/>"));
        }
        xml.push_str("</testsuites>");
        assert!(xml.len() > SNIFF);
        let mut n = 0;
        let (format, summary) = parse(xml.as_bytes(), 0, &mut |_| n += 1).unwrap();
        assert_eq!((format, summary.cases, n), (Format::Junit, 5000, 5000));
    }
}
