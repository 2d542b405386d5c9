//! What the JSON test-result readers share: numbered, bounded lines of a line-delimited event
//! stream (`go test -json`, Dart's JSON reporter), serde_json errors said with the line, and
//! the cleaning and bounding of the text they keep (failure messages, test output).

use std::borrow::Cow;
use std::io::{self, BufRead};

use crate::error::ParseError;
use crate::ingest::cases::CaseProperties;
use crate::ingest::junit::find_location;
use crate::ingest::text::{self, Bounded, is_invalid_xml_char};
use crate::ingest::xml::shown;
use crate::model::{Message, PropertyScope, RawProperty, SourceLocation};

/// Longest line of an event stream (bytes, without its newline). Go's `test2json` splits long
/// output lines into several events and Dart writes one event per line; a line past this is
/// no event of theirs, and is rejected rather than buffered.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// The lines of a stream, one at a time, in one reused buffer of at most `max` bytes.
pub struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    max: usize,
    /// 1-based number of the line last returned (0 before the first).
    number: u64,
    /// Byte offset of the line last returned, and of the next one.
    start: u64,
    next_start: u64,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R, max: usize) -> Self {
        Lines {
            reader,
            buf: Vec::new(),
            max,
            number: 0,
            start: 0,
            next_start: 0,
        }
    }

    /// Reads the next line ([`Lines::line`]); `false` at the end of the stream. A line longer
    /// than the bound is an error on that line.
    pub fn advance(&mut self) -> Result<bool, ParseError> {
        self.buf.clear();
        self.start = self.next_start;
        let mut any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(ParseError::at(
                        Some(self.number + 1),
                        Some(self.next_start),
                        format!("cannot read input: {e}"),
                    ));
                }
            };
            if available.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match memchr::memchr(b'\n', available) {
                Some(nl) => (nl + 1, true),
                None => (available.len(), false),
            };
            let content = if done { take - 1 } else { take };
            if self.buf.len() + content > self.max {
                return Err(ParseError::at(
                    Some(self.number + 1),
                    Some(self.start),
                    format!(
                        "line longer than {} bytes: expected one JSON event per line",
                        self.max
                    ),
                ));
            }
            self.buf.extend_from_slice(&available[..content]);
            self.reader.consume(take);
            self.next_start += take as u64;
            if done {
                break;
            }
        }
        if !any {
            return Ok(false);
        }
        self.number += 1;
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(true)
    }

    /// The line last read, without its `\n` or `\r\n` (and, on the first line, without a
    /// UTF-8 BOM).
    pub fn line(&self) -> &[u8] {
        if self.number == 1 {
            self.buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&self.buf)
        } else {
            &self.buf
        }
    }

    /// 1-based number of the line last returned.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// An error on the line last returned.
    pub fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError::at(Some(self.number.max(1)), Some(self.start), message)
    }

    /// An error for a line that did not deserialize as `what`, at the column serde_json names.
    pub fn json_error(&self, what: &str, e: &serde_json::Error) -> ParseError {
        let column = e.column().max(1);
        ParseError::at(
            Some(self.number.max(1)),
            Some(self.start + column as u64 - 1),
            format!(
                "expected {what}: {} (column {column}): {}",
                serde_message(e),
                shown(self.line())
            ),
        )
    }
}

/// serde_json's message without the position it appends (the caller says where).
pub fn serde_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// `true` when a line holds a JSON object (`{` after leading blanks); other lines of an event
/// stream are plain text printed beside the events.
pub fn is_json_object(line: &[u8]) -> bool {
    line.trim_ascii_start().first() == Some(&b'{')
}

/// Text we keep from a report (messages, output): ANSI escape sequences (`ESC [ … m` colours
/// and other CSI sequences) and control characters other than tab, newline and carriage return
/// dropped, as the XML readers drop them. Borrows when nothing changes.
pub fn clean_text(s: &str) -> Cow<'_, str> {
    if !text::may_hold_invalid_char::<false>(s.as_bytes()) || !s.chars().any(is_invalid_xml_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates (0x20-0x3F), then one final byte (0x40-0x7E).
            while let Some(&p) = chars.peek() {
                chars.next();
                if ('\u{40}'..='\u{7e}').contains(&p) {
                    break;
                }
            }
        } else if !is_invalid_xml_char(c) {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A message built from parts (a message, a stack trace...): each non-blank part cleaned and
/// trimmed, a part equal to an earlier one left out, joined by newlines, bounded to
/// [`Message::KEPT`] bytes. `None` when every part is blank.
pub fn message(parts: &[&str]) -> Option<Message> {
    let mut acc = Bounded::new(Message::KEPT);
    let mut seen: Vec<Cow<'_, str>> = Vec::with_capacity(parts.len());
    for part in parts {
        let cleaned = clean_text(part);
        let part = cleaned.trim();
        if part.is_empty() || seen.iter().any(|s| s.trim() == part) {
            continue;
        }
        if acc.total > 0 {
            acc.push_str("\n");
        }
        acc.push_str(part);
        seen.push(cleaned);
    }
    (acc.total > 0).then_some(Message {
        text: acc.text,
        original_len: acc.total,
    })
}

/// Where a `[[PROPERTY|name=value]]` found in a test's output goes: a property of scope
/// `SystemOut`, as the JUnit reader files the same line in `<system-out>`.
pub fn output_properties(properties: &mut CaseProperties) -> impl FnMut(&str, &str) + '_ {
    |name: &str, value: &str| {
        properties.push(RawProperty {
            name: name.to_owned(),
            value: value.to_owned(),
            scope: PropertyScope::SystemOut,
        })
    }
}

/// The first source location a message names (see [`find_location`]).
pub fn location_in(message: Option<&Message>) -> Option<SourceLocation> {
    message
        .and_then(|m| find_location(&m.text))
        .map(|(file, line)| SourceLocation { file, line })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Result<Vec<(u64, String)>, ParseError> {
        let mut l = Lines::new(input, max);
        let mut out = Vec::new();
        while l.advance()? {
            let line = String::from_utf8_lossy(l.line()).into_owned();
            out.push((l.number(), line));
        }
        Ok(out)
    }

    #[test]
    fn lines_are_numbered_and_lose_their_terminators() {
        let got = lines(b"\xEF\xBB\xBFa\r\n\nb\nc", 10).unwrap();
        let want: Vec<(u64, String)> = vec![
            (1, "a".into()),
            (2, "".into()),
            (3, "b".into()),
            (4, "c".into()),
        ];
        assert_eq!(got, want);
        assert!(lines(b"", 10).unwrap().is_empty());
    }

    #[test]
    fn a_line_over_the_bound_is_an_error_on_its_line() {
        let e = lines(b"short\n0123456789A\nx\n", 10).unwrap_err();
        assert_eq!(e.location.line, Some(2));
        assert_eq!(e.location.byte, Some(6));
        assert!(e.message.contains("longer than 10 bytes"), "{e}");
        // Exactly the bound is fine, newline not counted.
        assert_eq!(lines(b"0123456789\n", 10).unwrap().len(), 1);
    }

    #[test]
    fn a_line_read_in_pieces_is_one_line() {
        // A reader that hands out three bytes at a time.
        let data = b"{\"a\":1}\n{\"b\":2}\n".repeat(3);
        let reader = io::BufReader::with_capacity(3, &data[..]);
        let mut l = Lines::new(reader, 100);
        let mut n = 0;
        while l.advance().unwrap() {
            assert_eq!(l.line().len(), 7);
            n += 1;
        }
        assert_eq!(n, 6);
    }

    #[test]
    fn clean_text_drops_colours_and_controls() {
        assert_eq!(
            clean_text("\u{1b}[31m\u{1b}[1mexpected\u{1b}[22m\u{1b}[39m x\u{7}\ty\n"),
            "expected x\ty\n"
        );
        assert!(matches!(clean_text("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn message_joins_parts_once_each() {
        let m = message(&["Required", "Error: Required\n    at x (a.js:1:2)", ""]).unwrap();
        assert_eq!(m.text, "Required\nError: Required\n    at x (a.js:1:2)");
        let m = message(&["boom", " boom\n"]).unwrap();
        assert_eq!(m.text, "boom");
        let m = message(&["Exception: boom", "x"]).unwrap();
        assert_eq!(m.text, "Exception: boom\nx");
        assert_eq!(message(&["  ", ""]), None);
        let long = "x".repeat(Message::KEPT + 10);
        let m = message(&[&long]).unwrap();
        assert_eq!(m.text.len(), Message::KEPT);
        assert_eq!(m.original_len, Message::KEPT + 10);
    }
}
