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
    let s = match std::str::from_utf8(raw) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(raw),
    };
    if !may_hold_invalid_char(s.as_bytes()) || !s.chars().any(is_invalid_xml_char) {
        return s;
    }
    Cow::Owned(s.chars().filter(|&c| !is_invalid_xml_char(c)).collect())
}

/// Cheap pre-check: only C0 controls other than tab/LF/CR, or the 0xEF lead byte of
/// U+FFFE/U+FFFF, can start an invalid XML character. Eight bytes at a time: a word is looked at
/// byte by byte only when it holds a byte below 0x20 or an 0xEF.
#[inline]
fn may_hold_invalid_char(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const EF: u64 = u64::from_ne_bytes([0xEF; 8]);
    let suspicious = |b: &u8| (*b < 0x20 && !matches!(*b, b'\t' | b'\n' | b'\r')) || *b == 0xEF;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let w = u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
        // Some byte < 0x20 (exact "any" test), or some byte == 0xEF.
        let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let e = w ^ EF;
        let ef = e.wrapping_sub(ONES) & !e & HIGH;
        if (below_space | ef) != 0 && chunk.iter().any(suspicious) {
            return true;
        }
    }
    chunks.remainder().iter().any(suspicious)
}

/// Counts `\n` bytes (chunked so the compiler vectorises the comparison).
pub fn count_newlines(data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(128);
    let mut count = 0u64;
    for chunk in &mut chunks {
        count += u64::from(chunk.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>());
    }
    count + chunks.remainder().iter().filter(|&&b| b == b'\n').count() as u64
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

/// Calls `out` with the decoded form of one entity reference: the character it stands for
/// (nothing when it is not a valid XML character), or the reference itself when unknown.
/// Allocation-free.
pub fn with_entity(name: &[u8], out: &mut impl FnMut(&str)) {
    match resolve_entity(name) {
        Some(c) if is_invalid_xml_char(c) => {}
        Some(c) => out(c.encode_utf8(&mut [0u8; 4])),
        None => {
            out("&");
            out(&String::from_utf8_lossy(name));
            out(";");
        }
    }
}

/// Appends the decoded form of one entity reference to `acc` (see [`with_entity`]).
pub fn push_entity(acc: &mut Bounded, name: &[u8]) {
    with_entity(name, &mut |s| acc.push_str(s));
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
    if acc.total > acc.text.len() {
        drop_cut_word(&mut acc.text);
    }
    acc.text
}

/// After a cut: drops the last word when it may be the start of a secret the cut went through
/// (redaction runs later, on what is kept, and would not recognise half a token). Only runs of
/// token characters up to 1 KiB long are dropped; a longer run is no token.
pub fn drop_cut_word(text: &mut String) {
    let is_token = |c: char| c.is_ascii_alphanumeric() || "._~+/=%:-".contains(c);
    let start = text
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_token(c))
        .last()
        .map(|(i, _)| i);
    if let Some(start) = start
        && text.len() - start <= 1024
    {
        text.truncate(start);
    }
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

    /// `true` when nothing more will be kept (pushes only count).
    pub fn full(&self) -> bool {
        self.text.len() >= self.limit
    }

    /// Counts `len` bytes that are not kept.
    pub fn skip(&mut self, len: usize) {
        self.total += len;
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

    /// `true` when no line is in progress: a chunk without `[` or newline-sensitive state can be
    /// skipped without decoding it.
    pub fn idle(&self) -> bool {
        self.line.is_empty() && !self.overflow
    }

    pub fn reset(&mut self) {
        self.line.clear();
        self.overflow = false;
    }

    /// Feeds a chunk of text; completed lines are scanned and their markers passed to `found`.
    pub fn feed(&mut self, chunk: &str, found: &mut impl FnMut(&str, &str)) {
        let mut rest = chunk;
        while let Some(nl) = rest.find('\n') {
            if self.line.is_empty() && !self.overflow {
                // Whole line inside this chunk: scan it in place.
                scan_property_markers(&rest[..nl], found);
            } else {
                self.append(&rest[..nl]);
                self.finish_line(found);
            }
            self.reset();
            rest = &rest[nl + 1..];
        }
        self.append(rest);
    }

    /// Ends the stream (the last line need not end with a newline).
    pub fn finish(&mut self, found: &mut impl FnMut(&str, &str)) {
        self.finish_line(found);
    }

    fn append(&mut self, part: &str) {
        if self.overflow {
            return;
        }
        // A marker starts with `[`: what precedes the line's first `[` never matters.
        let part = if self.line.is_empty() {
            match part.find('[') {
                Some(i) => &part[i..],
                None => return,
            }
        } else {
            part
        };
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
