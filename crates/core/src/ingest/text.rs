//! Text helpers for the XML test-result readers: tolerant entity decoding, control-character
//! stripping, bounded accumulation, `[[PROPERTY|name=value]]` line scanning, and the number
//! formats of their attributes.

use std::borrow::Cow;

use crate::words;

/// Longest name, classname, suite name, file or property we keep (bytes); longer values are
/// cut on a char boundary.
pub const MAX_STRING: usize = 64 * 1024;

/// Longest value shown in an error message.
const SHOWN: usize = 60;

/// `raw` (escaped bytes) for an error message: lossy UTF-8, at most [`SHOWN`] bytes.
pub fn shown(raw: &[u8]) -> String {
    let mut s = String::from_utf8_lossy(&raw[..raw.len().min(SHOWN)]).into_owned();
    if raw.len() > SHOWN {
        s.push('…');
    }
    s
}

/// The character a predefined entity or character reference stands for.
pub fn resolve(name: &[u8]) -> Option<char> {
    match name {
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"amp" => Some('&'),
        b"apos" => Some('\''),
        b"quot" => Some('"'),
        [b'#', b'x', hex @ ..] => char_from(hex, 16),
        [b'#', dec @ ..] => char_from(dec, 10),
        _ => None,
    }
}

fn char_from(digits: &[u8], radix: u32) -> Option<char> {
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    char::from_u32(u32::from_str_radix(std::str::from_utf8(digits).ok()?, radix).ok()?)
}

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
    if !may_hold_invalid_char::<false>(s.as_bytes()) || !s.chars().any(is_invalid_xml_char) {
        return s;
    }
    Cow::Owned(s.chars().filter(|&c| !is_invalid_xml_char(c)).collect())
}

/// Cheap pre-check: only C0 controls other than tab/LF/CR, or the 0xEF lead byte of
/// U+FFFE/U+FFFF, can start an invalid XML character (with `WS`, tab/LF/CR count too: an
/// attribute value normalises them). Eight bytes at a time: a word is looked at byte by byte
/// only when it holds such a byte or an 0xEF (without `WS`, a line break alone is not one:
/// failure texts and captured output have one a line).
#[inline]
pub(crate) fn may_hold_invalid_char<const WS: bool>(bytes: &[u8]) -> bool {
    let suspicious =
        |b: &u8| (*b < 0x20 && (WS || !matches!(*b, b'\t' | b'\n' | b'\r'))) || *b == 0xEF;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let w = words::word(chunk);
        // `in_range` is exact on every byte, so no control byte loses its flag here; a byte
        // `below` flags falsely is only looked at again.
        let allowed = if WS {
            0
        } else {
            words::in_range(w, b'\t', b'\n') | words::in_range(w, b'\r', b'\r')
        };
        let flagged = (words::below(w, 0x20) & !allowed) | words::equal(w, 0xEF);
        if flagged != 0 && chunk.iter().any(suspicious) {
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

/// Resolves the name of an entity reference (`amp`, `#x41`, ...). Only predefined entities and
/// character references exist (see [`crate::ingest::xml`]); `None` for anything else.
pub fn resolve_entity(name: &[u8]) -> Option<char> {
    resolve(name)
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

/// A count attribute (`failures="2"`): a count that is no count says nothing (0): report
/// attributes are not trusted otherwise.
pub fn attr_count(raw: &[u8]) -> u64 {
    clean_attr(raw).trim().parse::<u64>().unwrap_or(0)
}

/// Bytes of a literal stretch of an attribute value → UTF-8 (lossy), invalid XML characters
/// removed, and TAB/LF/CR normalised to spaces (XML 1.0 §3.3.3, see
/// [`crate::ingest::xml::normalize_attr`]). Borrows when nothing changes.
pub fn clean_attr(raw: &[u8]) -> Cow<'_, str> {
    let s = match std::str::from_utf8(raw) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(raw),
    };
    // One pass over the common value (a name, a time): nothing below 0x20, no 0xEF.
    if !may_hold_invalid_char::<true>(s.as_bytes()) {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push(' ');
            }
            '\n' | '\t' => out.push(' '),
            c if is_invalid_xml_char(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Decodes an attribute value that passed [`crate::ingest::xml::check_attr_value`] (entities,
/// lossy UTF-8, invalid characters dropped, literal whitespace normalised) into `acc`.
pub fn decode_attr_into(raw: &[u8], acc: &mut Bounded) {
    let mut rest = raw;
    while let Some(amp) = memchr::memchr(b'&', rest) {
        acc.push_str(&clean_attr(&rest[..amp]));
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
    acc.push_str(&clean_attr(rest));
}

/// Decodes an attribute value into an owned string of at most `limit` bytes.
pub fn attr_string(raw: &[u8], limit: usize) -> String {
    let mut out = String::new();
    attr_string_into(raw, limit, &mut out);
    out
}

/// [`attr_string`] into `out` (emptied first, its allocation kept).
pub fn attr_string_into(raw: &[u8], limit: usize, out: &mut String) {
    out.clear();
    if raw.len() <= limit {
        if let Some(s) = plain_ascii(raw) {
            out.push_str(s);
            return;
        }
        if !raw.contains(&b'&') {
            out.push_str(&clean_attr(raw));
            return;
        }
    }
    let mut acc = Bounded::new(limit);
    acc.text = std::mem::take(out);
    decode_attr_into(raw, &mut acc);
    if acc.total > acc.text.len() {
        drop_cut_word(&mut acc.text);
    }
    *out = acc.text;
}

/// [`attr_string_into`] for a value known to be UTF-8: one with nothing to decode (no `&`, no
/// character below U+0020, no U+FFFE or U+FFFF) is copied as it is, in one pass.
pub fn attr_str_into(raw: &str, limit: usize, out: &mut String) {
    if raw.len() <= limit && !needs_decoding(raw.as_bytes()) {
        out.clear();
        out.push_str(raw);
        return;
    }
    attr_string_into(raw.as_bytes(), limit, out);
}

/// Whether UTF-8 `bytes` hold an `&`, a byte below 0x20 or an 0xEF (the lead byte of U+FFFE
/// and U+FFFF): what [`decode_attr_into`] changes. Eight bytes at a time.
#[inline]
fn needs_decoding(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    let in_words = chunks.any(|c| {
        let w = words::word(c);
        words::below(w, 0x20) | words::equal(w, b'&') | words::equal(w, 0xEF) != 0
    });
    in_words
        || chunks
            .remainder()
            .iter()
            .any(|&b| b < 0x20 || b == b'&' || b == 0xEF)
}

/// `raw` as text when it is printable ASCII without a `&` (nearly every name, class name and
/// file): such a value decodes to itself. One pass, eight bytes at a time, where the general
/// decoding looks for `&`, checks UTF-8 and looks for characters to drop or normalise in turn.
#[inline]
fn plain_ascii(raw: &[u8]) -> Option<&str> {
    let plain = |w: u64| words::non_ascii(w) | words::below(w, 0x20) | words::equal(w, b'&') == 0;
    let mut chunks = raw.chunks_exact(8);
    let words_plain = chunks.all(|c| plain(words::word(c)));
    let rest = chunks.remainder();
    if !words_plain || !rest.iter().all(|&b| (0x20..0x80).contains(&b) && b != b'&') {
        return None;
    }
    std::str::from_utf8(raw).ok()
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
/// What it keeps is a prefix of everything pushed, however the pushes split it: once a push is
/// cut, nothing more is kept (a short character after a cut one would otherwise slip in).
#[derive(Debug, Default)]
pub struct Bounded {
    pub text: String,
    /// Total length in bytes of everything pushed, kept or not.
    pub total: usize,
    limit: usize,
    cut: bool,
}

impl Bounded {
    pub fn new(limit: usize) -> Self {
        Bounded {
            text: String::new(),
            total: 0,
            limit,
            cut: false,
        }
    }

    /// Empties the string, keeping its allocation, and sets a new limit.
    pub fn reset(&mut self, limit: usize) {
        self.text.clear();
        self.total = 0;
        self.limit = limit;
        self.cut = false;
    }

    /// `true` when nothing more will be kept (pushes only count).
    pub fn full(&self) -> bool {
        self.cut || self.text.len() >= self.limit
    }

    /// Counts `len` bytes that are not kept.
    pub fn skip(&mut self, len: usize) {
        self.total += len;
    }

    pub fn push_str(&mut self, s: &str) {
        self.total += s.len();
        if self.full() {
            return;
        }
        let room = self.limit - self.text.len();
        if s.len() <= room {
            self.text.push_str(s);
        } else {
            let mut end = room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&s[..end]);
            self.cut = true;
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
        if !self.idle() {
            // The line begun in an earlier chunk ends at this chunk's first newline.
            let Some(nl) = memchr::memchr(b'\n', rest.as_bytes()) else {
                self.append(rest);
                return;
            };
            self.append(&rest[..nl]);
            self.finish_line(found);
            rest = &rest[nl + 1..];
        }
        // The whole lines inside this chunk are scanned in place, one by one only when a
        // marker's opening is somewhere among them: an output seldom holds one, and a search
        // per line (its setup, then the line) cost more than one search over them all.
        if let Some(last) = memchr::memrchr(b'\n', rest.as_bytes()) {
            let lines = &rest[..last];
            if marker_open().find(lines.as_bytes()).is_some() {
                for line in lines.split('\n') {
                    scan_property_markers(line, found);
                }
            }
            rest = &rest[last + 1..];
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

/// How a property marker opens.
const MARKER_OPEN: &str = "[[PROPERTY|";

/// The search for [`MARKER_OPEN`], built once (`str::find` sets one up per call, per line).
fn marker_open() -> &'static memchr::memmem::Finder<'static> {
    static FINDER: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    FINDER.get_or_init(|| memchr::memmem::Finder::new(MARKER_OPEN))
}

/// Whether `raw` holds a marker's opening `[[PROPERTY|` as written.
pub(crate) fn holds_marker_open(raw: &[u8]) -> bool {
    marker_open().find(raw).is_some()
}

/// Calls `found(name, value)` for each `[[PROPERTY|name=value]]` in `line`.
pub fn scan_property_markers(line: &str, found: &mut impl FnMut(&str, &str)) {
    let mut rest = line;
    while let Some(start) = marker_open().find(rest.as_bytes()) {
        let body = &rest[start + MARKER_OPEN.len()..];
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

/// A `time=` value as nearly every report writes it (`0.012`, `3`), read straight from the
/// attribute's bytes; `None` for any other shape, which [`parse_time`] reads (it gives the same
/// value for these, a property test says so).
pub fn plain_time(raw: &[u8]) -> Option<f64> {
    let (int, frac) = match memchr::memchr(b'.', raw) {
        Some(dot) => (&raw[..dot], Some(&raw[dot + 1..])),
        None => (raw, None),
    };
    let digits = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_digit);
    if int.len() > 15 || !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    let frac = frac.unwrap_or_default();
    if int.len() + frac.len() <= 15 {
        // Fifteen digits are below 2^53 and 10^15 is exact: one correctly rounded division
        // gives the nearest double, as `str::parse` does (its own fast path is this one).
        let whole = int
            .iter()
            .chain(frac)
            .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        const POW10: [f64; 16] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
        ];
        return Some(whole as f64 / POW10[frac.len()]);
    }
    let v: f64 = std::str::from_utf8(raw).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

/// A `line=` value of one to nine digits, read straight from the bytes (as [`parse_line`]
/// reads it); `None` for any other shape.
pub fn plain_line(raw: &[u8]) -> Option<Option<u32>> {
    if raw.is_empty() || raw.len() > 9 || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = raw.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    Some((n > 0).then_some(n))
}

/// Parses a JUnit `time` attribute (already normalised): seconds, as a decimal number with an
/// optional exponent. An empty value is no time (0.0).
///
/// Commas, by their shape: `1,234.5`, `1,234` and `12,345,678` are thousands separators (what
/// Surefire writes under an English locale); a single comma that is not one (`1,5`, `0,014`,
/// `12,34`) is a decimal comma (xUnit.net and others under a German or French locale). So
/// `1,234` reads as 1234 s, never 1.234 s — the documented reading of the ambiguous form.
/// Anything else — a word, NaN, infinity, a negative duration, another grouping — is an error,
/// never a silent 0.
pub fn parse_time(raw: &str) -> Result<f64, String> {
    let t = raw.trim_matches(' ');
    if t.is_empty() {
        return Ok(0.0);
    }
    let bad = |why: &str| {
        format!(
            "time=\"{}\" {why}: expected a duration in seconds such as 0.25, 1,234.5 or 1,5",
            shown(raw.as_bytes())
        )
    };
    let number: Cow<'_, str> = if t.as_bytes().contains(&b',') {
        Cow::Owned(uncomma(t).ok_or_else(|| bad("is not a number"))?)
    } else {
        Cow::Borrowed(t)
    };
    if !is_decimal(&number) {
        return Err(bad("is not a number"));
    }
    match number.parse::<f64>() {
        Ok(v) if !v.is_finite() => Err(bad("is out of range")),
        Ok(v) if v < 0.0 => Err(bad("is negative")),
        // -0.000 (a rounded clock jitter) is no time.
        Ok(v) => Ok(v.abs()),
        Err(_) => Err(bad("is not a number")),
    }
}

/// `1,234.5` / `1,234` → `1234.5` / `1234` (thousands), `1,5` → `1.5` (decimal comma);
/// `None` for any other use of commas.
fn uncomma(t: &str) -> Option<String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let thousands = |s: &str| {
        let mut groups = s.split(',');
        let first = groups.next().unwrap_or("");
        digits(first)
            && first.len() <= 3
            && !first.starts_with('0')
            && s.contains(',')
            && groups.all(|g| g.len() == 3 && digits(g))
    };
    let (int, frac) = match t.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (t, None),
    };
    if thousands(int) && frac.is_none_or(|f| !f.contains(',')) {
        return Some(t.replace(',', ""));
    }
    match (frac, int.split_once(',')) {
        (None, Some((whole, fraction))) if digits(whole) && digits(fraction) => {
            Some(format!("{whole}.{fraction}"))
        }
        _ => None,
    }
}

/// `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?` — what a reporter writes for a
/// number; Rust's float parser would also take `inf` and `NaN`.
fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let run = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa = run(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += run(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if run(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Parses a `line` attribute (already normalised): a line number, or `None` when empty or 0
/// (unknown). Anything but digits, or a number past `u32`, is an error.
pub fn parse_line(raw: &str) -> Result<Option<u32>, String> {
    let t = raw.trim_matches(' ');
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<u32>() {
        Ok(n) if t.bytes().all(|b| b.is_ascii_digit()) => Ok((n > 0).then_some(n)),
        _ => Err(format!(
            "line=\"{}\" is not a line number: expected a positive integer",
            shown(raw.as_bytes())
        )),
    }
}

#[cfg(test)]
mod tests {
    /// Every byte at every place of values up to two words and a bit long: the plain-ASCII
    /// path gives what the general decoding gives, and is taken only for plain values.
    #[test]
    fn a_plain_value_decodes_as_the_general_decoding_decodes_it() {
        let general = |raw: &[u8]| {
            let mut acc = Bounded::new(MAX_STRING);
            decode_attr_into(raw, &mut acc);
            acc.text
        };
        let mut out = String::from("left over");
        for len in 1..=19 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut raw = b"tests.pkg_000.Test_".to_vec();
                    raw.truncate(len);
                    raw[at] = byte;
                    attr_string_into(&raw, MAX_STRING, &mut out);
                    assert_eq!(out, general(&raw), "{raw:?}");
                    let plain = (0x20..0x80).contains(&byte) && byte != b'&';
                    assert_eq!(plain_ascii(&raw).is_some(), plain, "{raw:?}");
                }
            }
        }
        attr_string_into(b"a &amp; b\tc", MAX_STRING, &mut out);
        assert_eq!(out, "a & b c");
    }

    /// The same for values known to be UTF-8: every character at every place, `&`, controls,
    /// U+FFFE/U+FFFF and their neighbours among them.
    #[test]
    fn a_utf8_value_decodes_as_its_bytes_decode() {
        let chars = [
            'a',
            '&',
            ' ',
            '\t',
            '\n',
            '\r',
            '\u{1}',
            '\u{1f}',
            '\u{7f}',
            'é',
            '\u{fffd}',
            '\u{fffe}',
            '\u{ffff}',
            '\u{e000}',
            '\u{10000}',
            '\u{2603}',
        ];
        let (mut a, mut b) = (String::new(), String::new());
        for len in 1..=18 {
            for at in 0..len {
                for c in chars {
                    let mut value: String = "tests.pkg_00.Test_".chars().take(len).collect();
                    value.replace_range(at..at + 1, c.encode_utf8(&mut [0; 4]));
                    value.push_str("&amp;;");
                    value.truncate(value.len() - 6 + (at % 7));
                    attr_str_into(&value, MAX_STRING, &mut a);
                    attr_string_into(value.as_bytes(), MAX_STRING, &mut b);
                    assert_eq!(a, b, "{value:?}");
                }
            }
        }
        attr_str_into("ab&amp;", 4, &mut a);
        attr_string_into(b"ab&amp;", 4, &mut b);
        assert_eq!(a, b);
    }

    use super::*;

    /// Kept text and count are those of one push however the text is split into pushes: a
    /// short character after one the limit cut is not kept.
    #[test]
    fn bounded_keeps_a_prefix_however_the_pushes_split_it() {
        let text = "ab∑c€d✓e\nfg";
        for limit in 0..=text.len() + 1 {
            let mut whole = Bounded::new(limit);
            whole.push_str(text);
            assert!(text.starts_with(&whole.text));
            for (at, _) in text.char_indices().skip(1) {
                let mut split = Bounded::new(limit);
                split.push_str(&text[..at]);
                split.push_str(&text[at..]);
                assert_eq!(
                    (split.text.as_str(), split.total, split.full()),
                    (whole.text.as_str(), whole.total, whole.full()),
                    "limit {limit}, split at {at}"
                );
            }
        }
    }

    use proptest::prelude::*;

    #[test]
    fn plain_numbers_take_the_common_shapes_only() {
        assert_eq!(plain_time(b"0.012"), Some(0.012));
        assert_eq!(plain_time(b"12"), Some(12.0));
        for other in [
            &b"1."[..],
            b".5",
            b"-1",
            b"1e3",
            b" 1",
            b"1,5",
            b"",
            b"1.2.3",
        ] {
            assert_eq!(
                plain_time(other),
                None,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
        assert_eq!(plain_line(b"42"), Some(Some(42)));
        assert_eq!(plain_line(b"0"), Some(None));
        assert_eq!(plain_line(b"999999999"), Some(Some(999_999_999)));
        for other in [&b"1234567890"[..], b"", b"+1", b" 1", b"1.0"] {
            assert_eq!(
                plain_line(other),
                None,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    proptest! {
        /// The word-at-a-time pre-check answers what a look at every byte answers: control
        /// bytes (tab, line feed and carriage return allowed or not), 0xEF, and their
        /// neighbours, at every place in a word.
        #[test]
        fn the_invalid_char_check_is_the_byte_check(
            benign in proptest::collection::vec(
                proptest::sample::select(vec![
                    b'\t', b'\n', b'\r', b' ', b'a', 0x89, 0x8A, 0x8D, 0xEE, 0xF0, 0xFF,
                ]),
                0..40,
            ),
            odd in proptest::option::of(proptest::sample::select(vec![
                0x00u8, 0x01, 0x08, 0x0B, 0x0C, 0x0E, 0x1F, 0xEF,
            ])),
            at in 0usize..40,
        ) {
            // At most one byte that makes the answer: none, or one at any place.
            let mut bytes = benign;
            if let Some(b) = odd {
                bytes.insert(at.min(bytes.len()), b);
            }
            let control = |b: u8| b < 0x20;
            let line_break = |b: u8| matches!(b, b'\t' | b'\n' | b'\r');
            prop_assert_eq!(
                may_hold_invalid_char::<false>(&bytes),
                bytes.iter().any(|&b| (control(b) && !line_break(b)) || b == 0xEF)
            );
            prop_assert_eq!(
                may_hold_invalid_char::<true>(&bytes),
                bytes.iter().any(|&b| control(b) || b == 0xEF)
            );
        }

        /// Where the fast readers answer, they answer what the general ones do.
        #[test]
        fn plain_numbers_agree_with_the_general_readers(
            raw in "[0-9]{1,15}\\.[0-9]{1,15}|[0-9]{0,18}(\\.[0-9]{0,18})?|[0-9 .,eE+-]{0,12}",
        ) {
            if let Some(t) = plain_time(raw.as_bytes()) {
                prop_assert_eq!(parse_time(&clean_attr(raw.as_bytes())), Ok(t));
            }
            if let Some(line) = plain_line(raw.as_bytes()) {
                prop_assert_eq!(parse_line(&clean_attr(raw.as_bytes())), Ok(line));
            }
        }
    }

    /// The scanner as it was before whole lines were skipped together (each line of a chunk
    /// searched on its own): the answer the scanner must still give.
    #[derive(Default)]
    struct LineByLine {
        line: String,
        overflow: bool,
    }

    impl LineByLine {
        fn feed(&mut self, chunk: &str, found: &mut impl FnMut(&str, &str)) {
            let mut rest = chunk;
            while let Some(nl) = rest.find('\n') {
                if self.line.is_empty() && !self.overflow {
                    scan_property_markers(&rest[..nl], found);
                } else {
                    self.append(&rest[..nl]);
                    self.finish(found);
                }
                (self.line, self.overflow) = (String::new(), false);
                rest = &rest[nl + 1..];
            }
            self.append(rest);
        }

        fn append(&mut self, part: &str) {
            if self.overflow {
                return;
            }
            let part = match (self.line.is_empty(), part.find('[')) {
                (false, _) => part,
                (true, Some(i)) => &part[i..],
                (true, None) => return,
            };
            if self.line.len() + part.len() > LineScanner::MAX_LINE {
                (self.line, self.overflow) = (String::new(), true);
                return;
            }
            self.line.push_str(part);
        }

        fn finish(&mut self, found: &mut impl FnMut(&str, &str)) {
            if !self.overflow {
                scan_property_markers(&self.line, found);
            }
            (self.line, self.overflow) = (String::new(), false);
        }
    }

    /// Outputs built of marker pieces, words, newlines and the odd run longer than a line
    /// may be (cut anywhere, on character boundaries).
    fn output() -> impl proptest::strategy::Strategy<Value = (String, Vec<usize>)> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            "\\[\\[PROPERTY\\|[a-c ]{0,3}=[a-c ]{0,3}\\]\\]",
            Just("[[PROPERTY|".to_owned()),
            Just("]]".to_owned()),
            Just("=".to_owned()),
            Just("\n".to_owned()),
            Just("[".to_owned()),
            Just("é".to_owned()),
            "[a-c ]{1,6}",
            (1usize..3).prop_map(|n| "x".repeat(n * LineScanner::MAX_LINE / 2 + 1)),
        ];
        let text = proptest::collection::vec(piece, 0..40).prop_map(|p| p.concat());
        (text, proptest::collection::vec(0usize..20_000, 0..8))
    }

    proptest! {
        /// Fed in any chunks, the scanner finds what the line-by-line scanner finds.
        #[test]
        fn markers_found_in_any_chunks_are_those_found_line_by_line((text, cuts) in output()) {
            let mut cuts: Vec<usize> = cuts
                .into_iter()
                .map(|c| c % (text.len() + 1))
                .filter(|&c| text.is_char_boundary(c))
                .collect();
            cuts.push(text.len());
            cuts.sort_unstable();
            let (mut fast, mut slow) = (LineScanner::default(), LineByLine::default());
            let (mut got, mut want) = (Vec::new(), Vec::new());
            let mut from = 0;
            for cut in cuts {
                let chunk = &text[from..cut];
                fast.feed(chunk, &mut |n, v| got.push((n.to_owned(), v.to_owned())));
                slow.feed(chunk, &mut |n, v| want.push((n.to_owned(), v.to_owned())));
                from = cut;
            }
            fast.finish(&mut |n, v| got.push((n.to_owned(), v.to_owned())));
            slow.finish(&mut |n, v| want.push((n.to_owned(), v.to_owned())));
            prop_assert_eq!(got, want);
        }
    }
}
