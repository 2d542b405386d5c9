//! Text helpers for the JUnit reader: tolerant entity decoding, control-character stripping,
//! bounded accumulation, and `[[PROPERTY|name=value]]` line scanning.

use std::borrow::Cow;

/// `true` for characters XML 1.0 does not allow in a document (C0 controls other than tab,
/// newline and carriage return, and the non-characters U+FFFE/U+FFFF). Such characters are
/// dropped from every string we keep instead of failing the whole report.
#[inline]
pub fn is_invalid_xml_char(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Bytes → UTF-8 (lossy), with invalid XML characters removed. Borrows when nothing changes.
pub fn clean(raw: &[u8]) -> Cow<'_, str> {
    let s = String::from_utf8_lossy(raw);
    // Fast path: only bytes < 0x20 or the 0xEF lead byte of U+FFFE/U+FFFF can be invalid.
    let suspicious = s
        .bytes()
        .any(|b| (b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r') || b == 0xEF);
    if !suspicious || !s.chars().any(is_invalid_xml_char) {
        return s;
    }
    Cow::Owned(s.chars().filter(|&c| !is_invalid_xml_char(c)).collect())
}

/// Resolves the name of an entity reference (`amp`, `#x41`, ...). Custom entities are never
/// expanded: `None` means "keep the reference literally".
pub fn resolve_entity(name: &[u8]) -> Option<char> {
    match name {
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"amp" => Some('&'),
        b"apos" => Some('\''),
        b"quot" => Some('"'),
        [b'#', b'x' | b'X', hex @ ..] => char_from(std::str::from_utf8(hex).ok()?, 16),
        [b'#', dec @ ..] => char_from(std::str::from_utf8(dec).ok()?, 10),
        _ => None,
    }
}

fn char_from(digits: &str, radix: u32) -> Option<char> {
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    char::from_u32(u32::from_str_radix(digits, radix).ok()?)
}

/// Appends the decoded form of one entity reference to `acc`: the character it stands for
/// (dropped when it is not a valid XML character), or the reference itself when unknown.
pub fn push_entity(acc: &mut Bounded, name: &[u8]) {
    match resolve_entity(name) {
        Some(c) if is_invalid_xml_char(c) => {}
        Some(c) => {
            let mut b = [0u8; 4];
            acc.push_str(c.encode_utf8(&mut b));
        }
        None => {
            acc.push_str("&");
            acc.push_str(&String::from_utf8_lossy(name));
            acc.push_str(";");
        }
    }
}

/// Decodes an escaped attribute value (entities, lossy UTF-8, invalid characters dropped) into
/// `acc`. Unknown entities are kept literally; a bare `&` is kept as is.
pub fn decode_attr_into(raw: &[u8], acc: &mut Bounded) {
    let mut rest = raw;
    while let Some(amp) = rest.iter().position(|&b| b == b'&') {
        acc.push_str(&clean(&rest[..amp]));
        let after = &rest[amp + 1..];
        match after.iter().take(12).position(|&b| b == b';') {
            Some(semi) => {
                push_entity(acc, &after[..semi]);
                rest = &after[semi + 1..];
            }
            None => {
                acc.push_str("&");
                rest = after;
            }
        }
    }
    acc.push_str(&clean(rest));
}

/// Decodes an attribute value into an owned string of at most `limit` bytes.
pub fn attr_string(raw: &[u8], limit: usize) -> String {
    if !raw.contains(&b'&') && raw.len() <= limit {
        return clean(raw).into_owned();
    }
    let mut acc = Bounded::new(limit);
    decode_attr_into(raw, &mut acc);
    acc.text
}

/// A string that keeps its first `limit` bytes (cut on a char boundary) and counts the rest.
#[derive(Debug, Default)]
pub struct Bounded {
    pub text: String,
    /// Total length in bytes of everything pushed, kept or not.
    pub total: usize,
    limit: usize,
}

impl Bounded {
    pub fn new(limit: usize) -> Self {
        Bounded {
            text: String::new(),
            total: 0,
            limit,
        }
    }

    /// Empties the string, keeping its allocation, and sets a new limit.
    pub fn reset(&mut self, limit: usize) {
        self.text.clear();
        self.total = 0;
        self.limit = limit;
    }

    pub fn push_str(&mut self, s: &str) {
        self.total += s.len();
        let room = self.limit.saturating_sub(self.text.len());
        if room == 0 {
            return;
        }
        if s.len() <= room {
            self.text.push_str(s);
        } else {
            let mut end = room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&s[..end]);
        }
    }
}

/// Finds `[[PROPERTY|name=value]]` markers in a `<system-out>` stream, line by line, without
/// keeping the output itself: only the current line (up to [`LineScanner::MAX_LINE`] bytes) is
/// buffered.
#[derive(Debug, Default)]
pub struct LineScanner {
    line: String,
    overflow: bool,
}

impl LineScanner {
    /// Longer lines cannot carry a property marker we keep.
    pub const MAX_LINE: usize = 8 * 1024;

    pub fn reset(&mut self) {
        self.line.clear();
        self.overflow = false;
    }

    /// Feeds a chunk of text; completed lines are scanned and their markers passed to `found`.
    pub fn feed(&mut self, chunk: &str, found: &mut impl FnMut(&str, &str)) {
        let mut rest = chunk;
        loop {
            match rest.find('\n') {
                Some(nl) => {
                    self.append(&rest[..nl]);
                    self.finish_line(found);
                    rest = &rest[nl + 1..];
                }
                None => {
                    self.append(rest);
                    return;
                }
            }
        }
    }

    /// Ends the stream (the last line need not end with a newline).
    pub fn finish(&mut self, found: &mut impl FnMut(&str, &str)) {
        self.finish_line(found);
    }

    fn append(&mut self, part: &str) {
        if self.overflow {
            return;
        }
        if self.line.len() + part.len() > Self::MAX_LINE {
            self.overflow = true;
            self.line.clear();
            return;
        }
        self.line.push_str(part);
    }

    fn finish_line(&mut self, found: &mut impl FnMut(&str, &str)) {
        if !self.overflow {
            scan_property_markers(&self.line, found);
        }
        self.reset();
    }
}

/// Calls `found(name, value)` for each `[[PROPERTY|name=value]]` in `line`.
pub fn scan_property_markers(line: &str, found: &mut impl FnMut(&str, &str)) {
    const OPEN: &str = "[[PROPERTY|";
    let mut rest = line;
    while let Some(start) = rest.find(OPEN) {
        let body = &rest[start + OPEN.len()..];
        let Some(end) = body.find("]]") else { return };
        let pair = &body[..end];
        if let Some((name, value)) = pair.split_once('=') {
            let name = name.trim();
            if !name.is_empty() {
                found(name, value.trim());
            }
        }
        rest = &body[end + 2..];
    }
}

/// Parses a JUnit `time` attribute: seconds, possibly with thousands separators (`1,234.5`).
/// Missing, garbage, negative, infinite or NaN values give 0.0.
pub fn parse_time(raw: &str) -> f64 {
    let raw = raw.trim();
    let parsed = if raw.contains(',') {
        raw.replace(',', "").parse::<f64>()
    } else {
        raw.parse::<f64>()
    };
    match parsed {
        Ok(t) if t.is_finite() && t > 0.0 => t,
        _ => 0.0,
    }
}

/// Parses a `line` attribute; 0, negative or garbage → `None`.
pub fn parse_line(raw: &str) -> Option<u32> {
    raw.trim().parse::<u32>().ok().filter(|&l| l > 0)
}
