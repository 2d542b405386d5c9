//! XML 1.0 rules the readers enforce themselves, shared by the test-result readers (JUnit,
//! TRX, NUnit, xUnit.net) and the Cobertura and JaCoCo readers, and the streaming driver the
//! test-result readers share ([`read`]).
//!
//! quick-xml is a tokenizer, not a conforming processor: it accepts a `<` or a bare `&` inside
//! an attribute value, hands undefined entity references to its caller, does not look at what
//! follows the root element and does not normalise attribute values. A report an XML processor
//! would reject must not be counted, and two spellings one processor reads as the same name
//! must be the same name here, so those rules live in this module:
//!
//! - [`check_attr_value`]: no `<` in an attribute value, and every `&` starts a reference to a
//!   predefined entity (`&lt;` `&gt;` `&amp;` `&apos;` `&quot;`) or a character (`&#65;`,
//!   `&#x41;`). Entity declarations are refused outright by the readers (entity expansion and
//!   XXE), so no other entity can be defined.
//! - [`check_reference`]: the same rule for a reference in text.
//! - [`normalize_attr`]: §3.3.3 attribute-value normalisation — after end-of-line handling
//!   (§2.11: CR LF and a lone CR are LF) every literal TAB, LF or CR is a space. A character
//!   reference (`&#10;`) is not normalised: it keeps the character it names.
//!
//! One tolerance is deliberate and documented (README, docs/report.md): characters XML 1.0
//! does not allow (C0 controls, U+FFFE/U+FFFF), raw or as character references, are dropped
//! rather than fatal. Test output captured into reports carries ANSI escapes, and reporters
//! write them as they come; refusing such a report would refuse real test runs over a byte that
//! carries no meaning for us.

use std::borrow::Cow;
use std::io::{self, BufRead};

use quick_xml::Reader;
use quick_xml::errors::IllFormedError;
use quick_xml::events::attributes::{Attribute, Attributes};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::QName;

use crate::error::ParseError;
use crate::ingest::cases::CaseProperties;
use crate::ingest::cases::Texts;
use crate::ingest::text;
pub use crate::ingest::text::{resolve, shown};
use crate::words;

/// The block the XML readers' line counter reads at once. A caller that buffers the file
/// itself should use a `BufReader` of this capacity: a read at least as large as its capacity
/// goes straight to its source, so the file's bytes are copied once, into this block, not
/// first into the caller's buffer and then again.
pub const READ_BLOCK: usize = 64 * 1024;

/// Maximum element nesting depth. Real reports nest a handful of suites; anything deeper is
/// rejected rather than tracked.
pub const MAX_DEPTH: usize = 1000;

/// quick-xml's "unclosed reference" error, said the way a user can act on.
pub const BARE_AMP_IN_TEXT: &str =
    "a bare `&` in text is not well-formed XML (the report must escape it as `&amp;`)";

/// Checks one attribute value as it stands in the document (between the quotes, not yet
/// unescaped). One pass: values without `<` or `&` (nearly all) cost no more.
#[inline]
pub fn check_attr_value(raw: &[u8]) -> Result<(), String> {
    // Most values (names, times, line numbers) are short: eight bytes at a time beats
    // memchr's SIMD set-up there (callgrind, 200k-testcase bench: 146 → 48 instructions per
    // value).
    let special = if raw.len() <= 64 {
        may_hold_lt_or_amp(raw)
    } else {
        memchr::memchr2(b'<', b'&', raw).is_some()
    };
    if !special {
        return Ok(());
    }
    check_special(raw)
}

/// `true` when `raw` holds a `<` or an `&` (exact: the word test has no false positives).
#[inline]
fn may_hold_lt_or_amp(raw: &[u8]) -> bool {
    let mut chunks = raw.chunks_exact(8);
    for chunk in &mut chunks {
        let w = words::word(chunk);
        if words::equal(w, b'<') | words::equal(w, b'&') != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| b == b'<' || b == b'&')
}

#[cold]
fn check_special(raw: &[u8]) -> Result<(), String> {
    let mut from = 0;
    while let Some(i) = memchr::memchr2(b'<', b'&', &raw[from..]) {
        let at = from + i;
        if raw[at] == b'<' {
            return Err(
                "`<` in an attribute value is not well-formed XML (the report must escape it \
                 as `&lt;`)"
                    .into(),
            );
        }
        let rest = &raw[at + 1..];
        let Some(len) = reference_len(rest) else {
            return Err(format!(
                "a bare `&` in an attribute value is not well-formed XML (the report must \
                 escape it as `&amp;`): \"{}\"",
                shown(&raw[at..])
            ));
        };
        check_reference(&rest[..len])?;
        from = at + 1 + len + 1;
    }
    Ok(())
}

/// Length of the name of a reference that starts right after a `&` (up to its `;`), or `None`
/// when `&` starts no reference (no `;`, or a character no name or character reference holds
/// comes first).
fn reference_len(after_amp: &[u8]) -> Option<usize> {
    let len = after_amp
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b >= 0x80 || b"_-.:#".contains(&b)))?;
    (len > 0 && after_amp[len] == b';').then_some(len)
}

/// Checks the name of one reference (`amp`, `#x41`, ...): a predefined entity or a character
/// reference that names a Unicode scalar value. Anything else is an undefined entity: no
/// report can declare one, since a DOCTYPE declaring entities is refused.
pub fn check_reference(name: &[u8]) -> Result<(), String> {
    match name {
        _ if is_predefined(name) => Ok(()),
        [b'#', digits @ ..] => {
            let (digits, radix) = match digits {
                [b'x', hex @ ..] => (hex, 16),
                dec => (dec, 10),
            };
            let valid = !digits.is_empty()
                && digits.len() <= 8
                && digits.iter().all(|b| char::from(*b).is_digit(radix))
                && std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| u32::from_str_radix(d, radix).ok())
                    .and_then(char::from_u32)
                    .is_some();
            if valid {
                Ok(())
            } else {
                Err(format!(
                    "`&{};` is not a valid character reference",
                    shown(name)
                ))
            }
        }
        _ => Err(format!(
            "undefined entity reference `&{};` (XML defines only &lt; &gt; &amp; &apos; &quot; \
             and character references such as &#160;; a literal `&` must be written `&amp;`)",
            shown(name)
        )),
    }
}

/// §3.3.3 attribute-value normalisation of one literal (unescaped) stretch of an attribute
/// value: CR LF, CR, LF and TAB each become one space. Borrows when there is none.
pub fn normalize_attr(s: &str) -> Cow<'_, str> {
    if memchr::memchr3(b'\t', b'\n', b'\r', s.as_bytes()).is_none() {
        return Cow::Borrowed(s);
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
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Decodes an attribute value that passed [`check_attr_value`]: references resolved,
/// literal whitespace normalised, invalid UTF-8 replaced.
pub fn attr_value(raw: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(amp) = memchr::memchr(b'&', rest) {
        out.push_str(&normalize_attr(&String::from_utf8_lossy(&rest[..amp])));
        let after = &rest[amp + 1..];
        match reference_len(after) {
            Some(len) => {
                if let Some(c) = resolve(&after[..len]) {
                    out.push(c);
                }
                rest = &after[len + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(&normalize_attr(&String::from_utf8_lossy(rest)));
    out
}

/// The sum of `e`'s count attributes named `keys` (`failures=` plus `errors=`), each read by
/// [`text::attr_count`]; every attribute checked as [`checked_attributes`] checks it.
pub fn counts<'e>(e: impl Into<Element<'e>>, keys: &[&[u8]]) -> Result<u64, String> {
    let mut sum = 0u64;
    for attr in checked_attributes(e) {
        let attr = attr?;
        if keys.contains(&local(attr.key.as_ref())) {
            sum = sum.saturating_add(crate::ingest::text::attr_count(&attr.value));
        }
    }
    Ok(sum)
}

/// An element's attributes with quick-xml's checks on (unquoted values and duplicate names are
/// errors: a corrupt report, not a result to guess at), and each value checked for what XML
/// forbids in one (`<`, a bare `&`, an undefined entity; see [`check_attr_value`]).
///
/// quick-xml's own iterator walks the bytes one at a time and keeps every key in a fresh `Vec`
/// per element; on a large report it was a fifth of the reader's work. The attributes are split
/// here instead, in one pass that accepts exactly what quick-xml accepts (the unit tests below
/// compare the two on every shape of attribute list), with the keys seen kept on the stack.
/// Where the split finds something wrong, quick-xml's iterator takes over from the first
/// attribute not yet handed out, so errors say exactly what quick-xml says.
#[inline]
pub fn checked_attributes<'e>(e: impl Into<Element<'e>>) -> CheckedAttributes<'e> {
    let element = e.into();
    CheckedAttributes {
        element,
        raw: element.attributes_raw(),
        at: 0,
        given: 0,
        keys: None,
        slow: None,
    }
}

/// An element's start tag as the readers see it: its bytes between `<` and `>` (an empty
/// element's closing `/` left out) and the length of its name, as quick-xml hands them over;
/// and, for a tag the in-place reader read itself ([`split_empty_tag`]), its attributes as
/// split there, so they are not split again.
#[derive(Clone, Copy)]
pub struct Element<'a> {
    content: &'a [u8],
    name_len: usize,
    /// The attributes, in order, over [`Element::attributes_raw`]: plain ASCII values, each
    /// key once ([`split_empty_tag`] checked both), so they are handed out unchecked.
    splits: Option<&'a [Split]>,
    /// The tokenizer's element, for quick-xml's attribute iterator (errors only).
    quick: Option<&'a BytesStart<'a>>,
}

impl<'a> Element<'a> {
    /// The element's qualified name (`ns:testcase`).
    pub fn name(&self) -> QName<'a> {
        QName(&self.content[..self.name_len])
    }

    /// The element's name without its prefix (`testcase`).
    pub fn local_name(&self) -> &'a [u8] {
        local(&self.content[..self.name_len])
    }

    /// The tag's bytes after the name: its attributes as written.
    fn attributes_raw(&self) -> &'a [u8] {
        &self.content[self.name_len..]
    }
}

impl<'a> From<&'a BytesStart<'a>> for Element<'a> {
    fn from(e: &'a BytesStart<'a>) -> Self {
        Element {
            content: e,
            name_len: e.name().as_ref().len(),
            splits: None,
            quick: Some(e),
        }
    }
}

impl<'a> From<&Element<'a>> for Element<'a> {
    fn from(e: &Element<'a>) -> Self {
        *e
    }
}

/// The attributes of an element [`check_attributes`] has already accepted, read again without
/// the checks (the coverage readers check every element first, then read the few they need).
pub fn checked_split<'e>(
    e: &'e BytesStart<'_>,
) -> impl Iterator<Item = Result<Attribute<'e>, String>> + 'e {
    let raw = e.attributes_raw();
    let mut at = 0;
    std::iter::from_fn(move || match split_attribute(raw, &mut at) {
        Ok(None) => None,
        Ok(Some(split)) => Some(Ok(Attribute {
            key: QName(split.key(raw)),
            value: Cow::Borrowed(split.value(raw)),
        })),
        // The split reads what quick-xml reads, so an element `check_attributes` accepted
        // never gets here; should one, it is an error, not a guess.
        Err(()) => {
            at = raw.len();
            Some(Err("malformed attribute".to_owned()))
        }
    })
}

/// The iterator [`checked_attributes`] returns.
pub struct CheckedAttributes<'e> {
    element: Element<'e>,
    /// The element's bytes after its name.
    raw: &'e [u8],
    /// Where the next attribute's split starts in `raw`.
    at: usize,
    /// Attributes handed out so far.
    given: usize,
    /// Set up at the first attribute checked (none of a tag [`split_empty_tag`] read is).
    keys: Option<Keys<'e>>,
    /// quick-xml's iterator, once the split has found something it will not decide.
    slow: Option<quick_xml::events::attributes::Attributes<'e>>,
}

/// One attribute of `raw` from `at`: `Ok(None)` at the end, `Err(())` for anything quick-xml
/// would not read as `key="value"` or `key='value'` (white space allowed around `=`).
#[inline]
fn split_attribute(raw: &[u8], at: &mut usize) -> Result<Option<Split>, ()> {
    let mut i = skip_space(raw, *at);
    if i == raw.len() {
        *at = i;
        return Ok(None);
    }
    let key_start = i;
    // As quick-xml: the key's first byte is taken whatever it is (even `=`).
    i += 1;
    while i < raw.len() && raw[i] != b'=' && !is_xml_space(raw[i]) {
        i += 1;
    }
    let key_end = i;
    i = skip_space(raw, i);
    if raw.get(i) != Some(&b'=') {
        return Err(());
    }
    i = skip_space(raw, i + 1);
    let quote = match raw.get(i) {
        Some(&q @ (b'"' | b'\'')) => q,
        _ => return Err(()),
    };
    let value_start = i + 1;
    let Some((len, plain)) = value_len::<false>(&raw[value_start..], quote) else {
        return Err(());
    };
    *at = value_start + len + 1;
    Ok(Some(Split {
        key: (key_start, key_end),
        value: (value_start, value_start + len),
        plain,
    }))
}

/// One attribute as [`split_attribute`] finds it in an element's bytes: where its key and
/// its value (between the quotes) are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Split {
    key: (usize, usize),
    value: (usize, usize),
    /// The value holds no `<` and no `&`: [`check_attr_value`] has nothing to look at.
    plain: bool,
}

impl Split {
    fn key<'r>(&self, raw: &'r [u8]) -> &'r [u8] {
        &raw[self.key.0..self.key.1]
    }

    fn value<'r>(&self, raw: &'r [u8]) -> &'r [u8] {
        &raw[self.value.0..self.value.1]
    }
}

/// Where `quote` first is in `rest` (an attribute value's end), and whether no `<` or `&`
/// comes before it (nor, with `ASCII`, a byte outside ASCII: what [`split_empty_tag`] reads).
/// Sixteen bytes at a time, the quote and the bytes the value check looks for in one pass (a
/// value is short: a name, a time, a line; `rest` runs on to the document's end).
#[inline]
fn value_len<const ASCII: bool>(rest: &[u8], quote: u8) -> Option<(usize, bool)> {
    let mut blocks = rest.chunks_exact(16);
    let mut base = 0;
    for block in &mut blocks {
        let block = block.try_into().unwrap_or(&[0; 16]);
        // The lowest byte flagged is the first of them.
        let found = words::block_flags(block, [quote, b'<', b'&'], 0, ASCII);
        if found != 0 {
            return finish_value(rest, quote, base + found.trailing_zeros() as usize);
        }
        base += 16;
    }
    let at = blocks
        .remainder()
        .iter()
        .position(|&b| b == quote || b == b'<' || b == b'&' || (ASCII && !b.is_ascii()))?;
    finish_value(rest, quote, base + at)
}

/// [`value_len`] from the first byte it flagged, at `at`.
#[inline]
fn finish_value(rest: &[u8], quote: u8, at: usize) -> Option<(usize, bool)> {
    if rest[at] == quote {
        return Some((at, true));
    }
    let len = at + memchr::memchr(quote, &rest[at..])?;
    Some((len, false))
}

/// The index of the first byte of `b` from `i` that is not XML white space (`b.len()` if none).
#[inline]
fn skip_space(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_xml_space(b[i]) {
        i += 1;
    }
    i
}

impl<'e> CheckedAttributes<'e> {
    /// The checks quick-xml leaves to us, on one attribute either path read (`plain`: its
    /// value is known to hold no `<` or `&`).
    fn check(&mut self, key: &'e [u8], value: &[u8], plain: bool) -> Result<(), String> {
        let e = self.element;
        if !self.keys.get_or_insert_default().insert(key) {
            return Err(format!(
                "malformed attribute: {}= appears twice in <{}>",
                shown(key),
                shown(e.name().as_ref())
            ));
        }
        if plain {
            return Ok(());
        }
        check_attr_value(value).map_err(|m| {
            format!(
                "attribute {}= of <{}>: {m}",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(e.name().as_ref())
            )
        })
    }

    /// [`Iterator::next`] for a tag quick-xml tokenized: split here, checked, and left to
    /// quick-xml's iterator from the first attribute the split will not decide.
    #[inline(never)]
    fn next_unsplit(&mut self) -> Option<Result<Attribute<'e>, String>> {
        if self.slow.is_some() {
            return self.next_slow();
        }
        let raw = self.raw;
        let split = split_attribute(raw, &mut self.at).transpose();
        match split {
            None => None,
            Some(Ok(split)) => {
                self.given += 1;
                let (key, value) = (split.key(raw), split.value(raw));
                Some(self.check(key, value, split.plain).map(|()| Attribute {
                    key: QName(key),
                    value: Cow::Borrowed(value),
                }))
            }
            Some(Err(())) => self.next_slow(),
        }
    }

    #[cold]
    fn next_slow(&mut self) -> Option<Result<Attribute<'e>, String>> {
        if self.slow.is_none() {
            let e = self.element;
            let mut attributes = match e.quick {
                Some(quick) => quick.attributes(),
                // A tag split in place is ASCII; its attributes never come here.
                None => match std::str::from_utf8(e.content) {
                    Ok(content) => Attributes::new(content, e.name_len),
                    Err(_) => return Some(Err("malformed attribute".to_owned())),
                },
            };
            // Duplicates are found by `check`, as on the fast path.
            attributes.with_checks(false);
            // The attributes the split handed out are the ones quick-xml reads first.
            for _ in 0..self.given {
                attributes.next();
            }
            self.slow = Some(attributes);
        }
        let a = match self.slow.as_mut()?.next()? {
            Ok(a) => a,
            Err(err) => return Some(Err(format!("malformed attribute: {err}"))),
        };
        let result = self.check(a.key.into_inner(), &a.value, false);
        Some(result.map(|()| a))
    }
}

impl<'e> Iterator for CheckedAttributes<'e> {
    type Item = Result<Attribute<'e>, String>;

    /// A tag split in place hands out its splits here, inlined into the reader's loop (a
    /// testcase has five or six attributes, read by the million); any other goes on to
    /// [`CheckedAttributes::next_unsplit`].
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // Checked as they were split: plain values, no key twice (and never the slow path:
        // a tag split in place is ASCII).
        if let Some(splits) = self.element.splits {
            let split = splits.get(self.given)?;
            self.given += 1;
            return Some(Ok(Attribute {
                key: QName(split.key(self.raw)),
                value: Cow::Borrowed(split.value(self.raw)),
            }));
        }
        self.next_unsplit()
    }
}

/// The attribute names of one element seen so far, for the duplicate check: the first
/// [`Keys::INLINE`] on the stack, any more in a `Vec`. Twelve covers the elements read by the
/// million (a testcase, a coverage line: three to seven attributes); the array is set up once
/// per element, so it stays small. Names are compared by length and first byte before their
/// bytes: a testcase's `name`, `file`, `line` and `time` are all four bytes long, and a slice
/// comparison of equal lengths is a `memcmp` call.
#[derive(Default)]
struct Keys<'e> {
    inline: [&'e [u8]; Keys::INLINE],
    len: usize,
    more: Vec<&'e [u8]>,
}

impl<'e> Keys<'e> {
    const INLINE: usize = 12;

    /// Whether two attribute names are the same, by length and first byte before their bytes.
    #[inline]
    fn same(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.first() == b.first() && a == b
    }

    /// Adds `key`; `false` when it was already there.
    fn insert(&mut self, key: &'e [u8]) -> bool {
        let inline = &self.inline[..self.len.min(Self::INLINE)];
        if inline.iter().any(|k| Self::same(k, key)) || self.more.contains(&key) {
            return false;
        }
        if self.len < Self::INLINE {
            self.inline[self.len] = key;
        } else {
            self.more.push(key);
        }
        self.len += 1;
        true
    }
}

/// A qualified name without its prefix (`testcase` of `ns:testcase`): after the first `:`,
/// where quick-xml's `local_name` cuts it. A loop rather than its `memchr` call: a name is a
/// few bytes long, and a reader looks at one per element and one per attribute (six for a
/// typical test case).
#[inline]
pub fn local(name: &[u8]) -> &[u8] {
    match name.iter().position(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// XML's white space (§2.3 S): space, tab, CR, LF.
pub fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Rejects a DOCTYPE that declares entities: expanding them is how "billion laughs" and
/// external-entity (XXE) attacks work, and no test reporter writes one.
pub fn check_doctype(doctype: &[u8], format: &str) -> Result<(), String> {
    let declares_entity = doctype
        .windows(8)
        .any(|w| w.eq_ignore_ascii_case(b"<!ENTITY"));
    if declares_entity {
        return Err(format!(
            "rejected: <!DOCTYPE> declares XML entities (entity expansion / XXE is not allowed \
             in a {format} document)"
        ));
    }
    Ok(())
}

/// Checks every attribute of an element: quick-xml's own checks (quoted values, no duplicate
/// names) and [`check_attr_value`] on each value, read or not.
pub fn check_attributes<'e>(e: impl Into<Element<'e>>) -> Result<(), String> {
    for attr in checked_attributes(e) {
        attr?;
    }
    Ok(())
}

/// Where a streaming reader stands relative to the document's one root element, for the
/// rules quick-xml leaves to its caller: nothing but white space, comments and processing
/// instructions may stand outside it, and there is only one.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Root {
    /// The root element has started.
    pub seen: bool,
    /// The root element has ended.
    pub closed: bool,
}

impl Root {
    /// An element starts at nesting `depth` (0: outside every element).
    pub fn element(&mut self, depth: usize, name: &[u8]) -> Result<(), String> {
        if depth == 0 && self.closed {
            return Err(format!(
                "a second root element <{}> after the first one closed is not well-formed XML \
                 (concatenated reports?)",
                shown(name)
            ));
        }
        self.seen = true;
        Ok(())
    }

    /// An element ends and leaves `depth` elements open.
    pub fn end(&mut self, depth: usize) {
        if depth == 0 {
            self.closed = true;
        }
    }

    /// Text at nesting `depth`: outside the root only white space is allowed. Returns the
    /// offset in `raw` of the offending text with the message.
    pub fn text(&self, depth: usize, raw: &[u8]) -> Result<(), (usize, String)> {
        if depth > 0 {
            return Ok(());
        }
        let Some(start) = raw
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        else {
            return Ok(());
        };
        let where_ = if self.closed { "after" } else { "before" };
        Err((
            start,
            format!(
                "text {where_} the root element is not well-formed XML: \"{}\"",
                shown(raw[start..].trim_ascii_end())
            ),
        ))
    }

    /// A reference, CDATA section or XML declaration at nesting `depth`.
    pub fn markup(&self, depth: usize, what: &str) -> Result<(), String> {
        if depth == 0 {
            let where_ = if self.closed { "after" } else { "before" };
            return Err(format!(
                "{what} {where_} the root element is not well-formed XML"
            ));
        }
        Ok(())
    }
}

/// A test-result format's reader, driven by [`read`]: it sees the elements, text and
/// references inside the root element; [`read`] enforces the XML rules and the format's root
/// element, counts lines and bounds nesting.
pub(crate) trait Handler {
    /// The format as messages name it: "JUnit XML".
    const FORMAT: &'static str;
    /// The root elements it reads, as messages name them: "a <testsuites> or <testsuite> root
    /// element".
    const ROOTS: &'static str;

    /// Whether an element of this local name may be the root.
    fn is_root(local: &[u8]) -> bool;

    /// An element starts (an empty one comes to [`Handler::empty`], which starts and ends it).
    /// `Ok(true)` when the handler walked all its attributes with [`checked_attributes`];
    /// otherwise [`read`] checks them, so each element's attributes are scanned once.
    fn start(&mut self, e: &Element<'_>) -> Result<bool, String>;

    /// The innermost open element ends.
    fn end(&mut self) -> Result<(), String>;

    /// An empty element (`<x …/>`): it starts and ends. A handler may read one of its elements
    /// at once instead (it must check the attributes as [`Handler::start`] says).
    fn empty(&mut self, e: &Element<'_>) -> Result<(), String> {
        start_and_end(self, e)
    }

    /// Where text inside the root element goes: the reader's [`Texts`] (collecting an
    /// element's text, or scanning an output), and the open test's properties, which receive
    /// the `[[PROPERTY|…]]` lines of its output.
    fn texts(&mut self) -> (&mut Texts, Option<&mut CaseProperties>);

    /// The innermost open element as a truncation message names it: "<testcase>".
    fn open_element(&self) -> &'static str;
}

/// An empty element as [`Handler::empty`] reads it by default: started, its attributes checked
/// unless the handler walked them, ended.
pub(crate) fn start_and_end<H: Handler + ?Sized>(
    handler: &mut H,
    e: &Element<'_>,
) -> Result<(), String> {
    if !handler.start(e)? {
        check_attributes(e)?;
    }
    handler.end()
}

/// Streams one document through `handler` with one reused buffer. Errors carry the line where
/// the problem was detected (newlines are counted as bytes are consumed) and the byte offset.
///
/// Rules enforced here, for every format: the root element is one of [`Handler::is_root`] and
/// the only one; nothing but white space, comments and processing instructions outside it; no
/// XML declaration after the document started; a `<!DOCTYPE>` declaring entities is rejected;
/// a bare `&` or an undefined entity is an error; nesting deeper than [`MAX_DEPTH`] is rejected;
/// a document that ends inside an element is truncated.
pub(crate) fn read<H: Handler>(reader: impl BufRead, handler: &mut H) -> Result<(), ParseError> {
    let mut xml = Reader::from_reader(LineCounter::new(reader));
    configure(xml.config_mut());
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut walk = Walk::default();
    loop {
        let step = match xml.read_event_into(&mut buf) {
            Ok(event) => walk.event(event, xml.get_ref().bytes(), handler),
            Err(e) => {
                let counter = xml.get_ref();
                let message = read_error::<H>(e, counter.bytes());
                return Err(ParseError::at(
                    Some(counter.line()),
                    Some(xml.error_position()),
                    message,
                ));
            }
        };
        if let Some(end) = settle(step, || xml.get_ref().line(), xml.buffer_position()) {
            return end;
        }
        // A huge text or attribute once must not pin its buffer for the rest of the document.
        if buf.capacity() > 1024 * 1024 {
            buf = Vec::with_capacity(16 * 1024);
        } else {
            buf.clear();
        }
    }
}

/// A document for [`read_document`]: a stream, or bytes read in place.
pub(crate) enum Document<'a, R> {
    Stream(R),
    InPlace {
        bytes: &'a [u8],
        done_before: &'a mut dyn FnMut(usize),
    },
}

/// [`read`] or [`read_bytes`], as the document comes.
pub(crate) fn read_document<H: Handler>(
    document: Document<'_, impl BufRead>,
    handler: &mut H,
) -> Result<(), ParseError> {
    match document {
        Document::Stream(reader) => read(reader, handler),
        Document::InPlace { bytes, done_before } => read_bytes(bytes, handler, done_before),
    }
}

/// How often [`read_bytes`] tells its caller how far it has read.
pub const PROGRESS_EVERY: usize = 1 << 20;

/// Tells a reader's caller how far it has read: about every [`PROGRESS_EVERY`] bytes, or now.
pub(crate) struct Progress<'f> {
    next: usize,
    done_before: &'f mut dyn FnMut(usize),
}

impl<'f> Progress<'f> {
    pub(crate) fn new(done_before: &'f mut dyn FnMut(usize)) -> Self {
        Progress {
            next: PROGRESS_EVERY,
            done_before,
        }
    }

    /// `consumed` bytes are read: told when [`PROGRESS_EVERY`] more were read since last told,
    /// or when `now`.
    pub(crate) fn at(&mut self, consumed: usize, now: bool) {
        if now || consumed >= self.next {
            (self.done_before)(consumed);
            self.next = consumed + PROGRESS_EVERY;
        }
    }
}

/// [`read`] over a document already in memory (or mapped): events borrow the bytes, nothing is
/// copied. Same rules, answers and errors as [`read`] (the line of an error is counted only
/// then). `done_before(n)` is called, `n` growing, as the reader passes each [`PROGRESS_EVERY`]
/// bytes or so (and after each piece of a long text): it will not look at the bytes before `n`
/// again (but after an error, to find its line), so a caller may hash them and let their pages
/// go.
pub(crate) fn read_bytes<H: Handler>(
    bytes: &[u8],
    handler: &mut H,
    done_before: &mut dyn FnMut(usize),
) -> Result<(), ParseError> {
    let mut xml = Reader::from_reader(bytes);
    configure(xml.config_mut());
    let mut walk = Walk::default();
    let mut progress = Progress::new(done_before);
    // The line of the next unconsumed byte, as `LineCounter::line` counts it.
    let line = |rest: &[u8]| text::count_newlines(&bytes[..bytes.len() - rest.len()]) + 1;
    // Bytes of long texts read here rather than by quick-xml (its positions do not count them).
    let mut skipped = 0u64;
    // Whether the last event was text: quick-xml then stands inside markup or a reference.
    let mut after_text = false;
    let mut splits = [Split::default(); SPLITS];
    loop {
        // The step of an empty element read here, when one was.
        let mut read_here = None;
        if walk.depth > 0 && !after_text {
            let mut rest = *xml.get_ref();
            // The indentation between two tags, when no text is being read: stepped over
            // here rather than handed out as an event that changes nothing (half the events
            // of an indented report).
            let blank = rest.iter().take(64).position(|&b| !is_xml_space(b));
            if let Some(n @ 1..) = blank
                && rest[n] == b'<'
                && !handler.texts().0.wants_text()
            {
                rest = &rest[n..];
                *xml.get_mut() = rest;
                skipped += n as u64;
            }
            // A long text or CDATA section is read here, in pieces, each let go once read:
            // quick-xml would look at all of it before handing it over (a 300 MB output would
            // be 300 MB of the file's pages at once).
            let at = bytes.len() - rest.len();
            let taken = take_long_text(rest, handler, &mut |end| progress.at(at + end, true));
            if taken > 0 {
                rest = &rest[taken..];
                *xml.get_mut() = rest;
                skipped += taken as u64;
            }
            // Lines of text the handler would not look at (a test's captured output, where no
            // marker is being read) are stepped over, their references checked here, rather
            // than handed out as text events and an event per reference: an output's `&lt;`
            // `&gt;` `&amp;` were as many events as a report's test cases.
            if rest.first().is_some_and(|&b| b != b'<')
                && handler.texts().0.ignores_plain_text()
                && let Some(n) = ignorable_text_len(rest)
            {
                rest = &rest[n..];
                *xml.get_mut() = rest;
                skipped += n as u64;
            }
            // An empty element (`<testcase …/>`, most of a report's elements) is read here,
            // its attributes split while its end is found: quick-xml would find the end with
            // a SIMD search started at each quote (eleven in a test case's tag), then the
            // attributes would be split again.
            if let Some((len, name_len, n)) = split_empty_tag(rest, &mut splits) {
                let element = Element {
                    content: &rest[1..len - 2],
                    name_len,
                    splits: Some(&splits[..n]),
                    quick: None,
                };
                *xml.get_mut() = &rest[len..];
                skipped += len as u64;
                read_here = Some(walk.element(&element, true, handler));
            }
        }
        let step = if let Some(step) = read_here {
            step
        } else {
            match xml.read_event() {
                Ok(event) => {
                    after_text = matches!(event, Event::Text(_));
                    walk.event(event, (bytes.len() - xml.get_ref().len()) as u64, handler)
                }
                Err(e) => {
                    let consumed = match e {
                        // Markup the tokenizer could not close: the stream's reader stands where
                        // it gave up, which its buffered reading decides (the end of the input, or
                        // just past a malformed `<![CDATA[`), so the document is tokenized again as
                        // a stream to stand there too. Errors only: no cost on a good document.
                        quick_xml::Error::Syntax(_) => stream_stops_at(bytes),
                        _ => bytes.len() - xml.get_ref().len(),
                    };
                    let message = read_error::<H>(e, consumed as u64);
                    return Err(ParseError::at(
                        Some(line(&bytes[consumed..])),
                        Some(xml.error_position() + skipped),
                        message,
                    ));
                }
            }
        };
        let position = xml.buffer_position() + skipped;
        if let Some(end) = settle(step, || line(xml.get_ref()), position) {
            return end;
        }
        progress.at(bytes.len() - xml.get_ref().len(), false);
    }
}

/// Where the tokenizer stands between markup (inside an element), a text run or a CDATA
/// section longer than [`PROGRESS_EVERY`] at the start of `rest` is handed to the handler in
/// pieces as it is found, `read(end)` telling after each how far into `rest` it was read.
/// Returns how many bytes of `rest` it took, for the tokenizer to go on after them: 0 when
/// nothing long starts there, and for a CDATA section never closed (the tokenizer then reports
/// it; what the handler was given no longer matters). A text run ends where the tokenizer
/// would end it: at a `<`, a `&` or the end of the input.
fn take_long_text<H: Handler>(rest: &[u8], handler: &mut H, read: &mut dyn FnMut(usize)) -> usize {
    const CDATA: &[u8] = b"<![CDATA[";
    let cdata = rest.starts_with(CDATA);
    // Nearly always: markup next, or a few bytes of indentation before it (found without
    // setting up a search).
    if !cdata && rest.iter().take(64).any(|&b| b == b'<' || b == b'&') {
        return 0;
    }
    let start = if cdata { CDATA.len() } else { 0 };
    let body = &rest[start..];
    let end_in = |window: &[u8]| {
        if cdata {
            memchr::memmem::find(window, b"]]>")
        } else {
            memchr::memchr2(b'<', b'&', window)
        }
    };
    let mut at = 0;
    loop {
        let window_end = (at + PROGRESS_EVERY).min(body.len());
        // Past the window by the terminator's length, so one across its end is seen.
        let ends = end_in(&body[at..(window_end + 2).min(body.len())]);
        if at == 0 && (ends.is_some() || window_end == body.len()) {
            // Short: the tokenizer reads it.
            return 0;
        }
        let cut = match ends {
            Some(i) => at + i,
            None if window_end == body.len() => body.len(),
            None => at + piece_len(&body[at..window_end]),
        };
        let (texts, markers) = handler.texts();
        texts.text(&body[at..cut], markers);
        read(start + cut);
        at = cut;
        match ends {
            Some(_) if cdata => return start + cut + 3,
            Some(_) => return cut,
            None if cut == body.len() => return if cdata { 0 } else { cut },
            None => {}
        }
    }
}

/// Whether `name` is one of XML's five predefined entities (`lt` `gt` `amp` `apos` `quot`).
fn is_predefined(name: &[u8]) -> bool {
    matches!(name, b"lt" | b"gt" | b"amp" | b"apos" | b"quot")
}

/// The length of the whole lines the text `rest` starts with (through the last line break
/// before its next `<`), when the handler of an output whose marker scan has no line in
/// progress ([`Texts::ignores_plain_text`]) would find nothing in them and end them with no
/// line in progress: no `[[PROPERTY|` is written in them, and each `&` is one of the five
/// predefined references (what quick-xml and [`check_reference`] accept there; none decodes to
/// a character a marker is written with). The line the text ends in, which text after the
/// next markup may continue, is left to quick-xml, as is text without a line break or that
/// the input ends in: `None`. At most [`PROGRESS_EVERY`] bytes at a time, so a huge output's
/// pages are let go as it is read (the caller reports progress after each step).
fn ignorable_text_len(rest: &[u8]) -> Option<usize> {
    let window = &rest[..rest.len().min(PROGRESS_EVERY)];
    let end = match memchr::memchr(b'<', window) {
        Some(end) => end,
        None if window.len() < rest.len() => window.len(),
        None => return None,
    };
    let lines = &rest[..memchr::memrchr(b'\n', &rest[..end])? + 1];
    if text::holds_marker_open(lines) {
        return None;
    }
    let mut at = 0;
    while let Some(i) = memchr::memchr(b'&', &lines[at..]) {
        let after = &lines[at + i + 1..];
        // The longest predefined name is four bytes: its `;` is within the first five.
        let semi = after.iter().take(5).position(|&b| b == b';')?;
        if !is_predefined(&after[..semi]) {
            return None;
        }
        at += i + 1 + semi + 1;
    }
    Some(lines.len())
}

/// Where to end a piece of a long text within `window`: after its last newline, else before
/// its last byte that does not continue a UTF-8 sequence, else all of it. Pieces cut there
/// decode as the whole does (a sequence, valid or not, never goes on past such a byte), and
/// after a newline the lines scan the same too.
fn piece_len(window: &[u8]) -> usize {
    if let Some(i) = memchr::memrchr(b'\n', window) {
        return i + 1;
    }
    match window.iter().rposition(|&b| !(0x80..0xC0).contains(&b)) {
        Some(i) if i > 0 => i,
        _ => window.len(),
    }
}

/// The most attributes [`split_empty_tag`] splits; a tag with more is left to quick-xml.
const SPLITS: usize = 16;

/// Reads the empty-element tag `rest` starts with, when it is written plainly: `<name`, then
/// attributes `key="value"` or `key='value'` (white space allowed around `=`, at least one
/// space before each key), then `/>`, all ASCII, no control character in a name or key, no
/// `<` or `&` in a value, no key twice and at most [`SPLITS`] attributes. Returns the tag's length through its `>`, its name's length
/// and how many attributes it put in `splits` (offsets after the name, as [`split_attribute`]
/// gives them). `None` for anything else — a start or end tag, markup, a tag written otherwise —
/// which quick-xml then reads: where this reads a tag, quick-xml ends it at the same `>` and
/// splits its attributes alike (the unit tests compare them).
fn split_empty_tag(rest: &[u8], splits: &mut [Split; SPLITS]) -> Option<(usize, usize, usize)> {
    if rest.first() != Some(&b'<') {
        return None;
    }
    // Where a name (the element's or a key) written plainly from `i` ends: at a byte that is
    // not ASCII, white space or any control character (a name holding one is left to
    // quick-xml), or markup. Sixteen bytes at a time while as many are left.
    const STOPS: [u8; 7] = [b'<', b'>', b'/', b'"', b'\'', b'=', b'&'];
    let name_end = |mut i: usize| {
        while let Some(block) = rest.get(i..i + 16) {
            let block = block.try_into().unwrap_or(&[0; 16]);
            let stops = words::block_flags(block, STOPS, 0x21, true);
            if stops != 0 {
                return i + stops.trailing_zeros() as usize;
            }
            i += 16;
        }
        while let Some(&b) = rest.get(i)
            && b > b' '
            && b.is_ascii()
            && !STOPS.contains(&b)
        {
            i += 1;
        }
        i
    };
    let mut i = name_end(1);
    let name_len = i - 1;
    // `<!`, `</`, `<?` and `<` + anything odd: not a name.
    if name_len == 0 || !rest[1].is_ascii_alphabetic() && !matches!(rest[1], b'_' | b':') {
        return None;
    }
    let mut n = 0;
    loop {
        // After the name or a value: white space, then a key, or the tag's end.
        let spaced = rest.get(i).copied().is_some_and(is_xml_space);
        i = skip_space(rest, i);
        match rest.get(i)? {
            b'/' => return (rest.get(i + 1) == Some(&b'>')).then_some((i + 2, name_len, n)),
            _ if !spaced || n == SPLITS => return None,
            _ => {}
        }
        let key_start = i;
        let key_end = name_end(i);
        i = skip_space(rest, key_end);
        if key_end == key_start || rest.get(i) != Some(&b'=') {
            return None;
        }
        // Offsets after the name, where the attribute splits count from.
        let at = 1 + name_len;
        // A key written twice is left to quick-xml's path, whose check says so: the attributes
        // split here are handed out unchecked.
        let key = &rest[key_start..key_end];
        let twice = splits[..n]
            .iter()
            .any(|s| Keys::same(&rest[at + s.key.0..at + s.key.1], key));
        if twice {
            return None;
        }
        i = skip_space(rest, i + 1);
        let quote = match rest.get(i)? {
            &q @ (b'"' | b'\'') => q,
            _ => return None,
        };
        let value_start = i + 1;
        let (len, true) = value_len::<true>(&rest[value_start..], quote)? else {
            return None;
        };
        i = value_start + len + 1;
        splits[n] = Split {
            key: (key_start - at, key_end - at),
            value: (value_start - at, value_start + len - at),
            plain: true,
        };
        n += 1;
    }
}

/// How many bytes of `document` the stream's reader ([`read`]) consumes before its tokenizer
/// fails (the tokenizer alone: the handler's errors come after the tokenizer's).
fn stream_stops_at(document: &[u8]) -> usize {
    let mut xml = Reader::from_reader(LineCounter::new(document));
    configure(xml.config_mut());
    let mut buf = Vec::new();
    while let Ok(event) = xml.read_event_into(&mut buf) {
        if event == Event::Eof {
            break;
        }
        if buf.capacity() > 1024 * 1024 {
            buf = Vec::new();
        } else {
            buf.clear();
        }
    }
    xml.get_ref().bytes() as usize
}

/// The reader settings every format shares.
fn configure(config: &mut quick_xml::reader::Config) {
    config.trim_text(false);
    config.check_end_names = true;
    config.expand_empty_elements = false;
    // A bare `&` in text is an error, as in any XML processor (references are checked below,
    // attribute values by `checked_attributes`).
    config.allow_dangling_amp = false;
    config.check_comments = true;
}

/// quick-xml's error, said for a user; `consumed` bytes of the document were read before it.
fn read_error<H: Handler>(e: quick_xml::Error, consumed: u64) -> String {
    match e {
        quick_xml::Error::Io(io) => format!("cannot read input: {io}"),
        quick_xml::Error::IllFormed(IllFormedError::UnclosedReference) => {
            BARE_AMP_IN_TEXT.to_owned()
        }
        other if consumed == 0 => format!("not a {} document: {other}", H::FORMAT),
        other => format!("malformed XML: {other}"),
    }
}

/// Where a document's walk stands between events.
#[derive(Default)]
struct Walk {
    depth: usize,
    root_seen: bool,
}

enum Step {
    More,
    Done,
}

/// What a driver does after a step: go on (`None`), or end with the answer. An error's line is
/// `line()` (where the reader stands: counted only for an error) less the lines its subject
/// starts before it; its byte, `position`.
fn settle(
    step: Result<Step, (String, u64)>,
    line: impl FnOnce() -> u64,
    position: u64,
) -> Option<Result<(), ParseError>> {
    match step {
        Ok(Step::More) => None,
        Ok(Step::Done) => Some(Ok(())),
        Err((message, lines_back)) => Some(Err(ParseError::at(
            Some(line().saturating_sub(lines_back).max(1)),
            Some(position),
            message,
        ))),
    }
}

impl Walk {
    /// One event through `handler`; `consumed` bytes of the document were read so far. An
    /// error comes with how many lines before the reader's position its subject starts.
    fn event<H: Handler>(
        &mut self,
        event: Event<'_>,
        consumed: u64,
        handler: &mut H,
    ) -> Result<Step, (String, u64)> {
        // Lines between where an error's subject starts and where the reader stands.
        let mut lines_back = 0;
        let (depth, root_seen) = (self.depth, self.root_seen);
        let result = match event {
            Event::Start(ref e) => return self.element(&Element::from(e), false, handler),
            Event::Empty(ref e) => return self.element(&Element::from(e), true, handler),
            Event::End(_) => {
                // quick-xml refuses an end tag that closes nothing (`check_end_names`).
                self.depth = depth.saturating_sub(1);
                handler.end()
            }
            Event::Text(ref t) if depth == 0 => match t.iter().position(|b| !is_xml_space(*b)) {
                None => Ok(()),
                Some(_) if !root_seen => Err(format!(
                    "not a {} document: expected {}, found text",
                    H::FORMAT,
                    H::ROOTS
                )),
                Some(start) => {
                    lines_back = text::count_newlines(&t[start..]);
                    Err(format!(
                        "text after the root element is not well-formed XML: \"{}\" (console \
                         output appended to the report?)",
                        shown(t[start..].trim_ascii_end())
                    ))
                }
            },
            Event::Text(ref t) if depth > 0 => {
                let (texts, markers) = handler.texts();
                texts.text(t, markers);
                Ok(())
            }
            Event::CData(ref t) if depth > 0 => {
                let (texts, markers) = handler.texts();
                texts.text(t, markers);
                Ok(())
            }
            Event::CData(_) => {
                Err("a CDATA section outside the root element is not well-formed XML".into())
            }
            Event::GeneralRef(ref r) if depth == 0 => Err(format!(
                "a reference `&{};` {} the root element is not well-formed XML",
                shown(r),
                if root_seen { "after" } else { "before" }
            )),
            Event::GeneralRef(ref r) => check_reference(r).map(|()| {
                let (texts, markers) = handler.texts();
                texts.reference(r, markers);
            }),
            Event::DocType(ref d) => check_doctype(d, H::FORMAT),
            Event::Decl(_) if root_seen => Err(
                "an XML declaration `<?xml …?>` after the document started is not well-formed \
                 XML (concatenated reports?)"
                    .into(),
            ),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::Text(_) => Ok(()),
            Event::Eof => {
                let message = if depth > 0 {
                    format!(
                        "unexpected end of input inside {}: the {} document is truncated",
                        handler.open_element(),
                        H::FORMAT
                    )
                } else if !root_seen && consumed == 0 {
                    format!(
                        "empty input: expected a {} document with {}",
                        H::FORMAT,
                        H::ROOTS
                    )
                } else if !root_seen {
                    format!(
                        "not a {} document: expected {}, found none",
                        H::FORMAT,
                        H::ROOTS
                    )
                } else {
                    return Ok(Step::Done);
                };
                return Err((message, 0));
            }
        };
        result
            .map(|()| Step::More)
            .map_err(|message| (message, lines_back))
    }
}

impl Walk {
    /// An element's start (`empty`: and its end) through `handler`.
    fn element<H: Handler>(
        &mut self,
        e: &Element<'_>,
        empty: bool,
        handler: &mut H,
    ) -> Result<Step, (String, u64)> {
        start(handler, e, empty, self.depth, self.root_seen).map_err(|message| (message, 0))?;
        self.root_seen = true;
        if !empty {
            self.depth += 1;
        }
        Ok(Step::More)
    }
}

/// The checks on an element's start that are the same for every format, then the handler.
fn start<H: Handler>(
    handler: &mut H,
    e: &Element<'_>,
    empty: bool,
    depth: usize,
    root_seen: bool,
) -> Result<(), String> {
    if depth >= MAX_DEPTH {
        return Err(format!("elements nested deeper than {MAX_DEPTH} levels"));
    }
    // Hardening: quick-xml accepts any bytes in a name; such a report is corrupt.
    // Names are nearly always ASCII: checked inline, the full UTF-8 check only otherwise.
    let name = e.name();
    if !name.as_ref().is_ascii() && std::str::from_utf8(name.as_ref()).is_err() {
        return Err("invalid UTF-8 in an element name".into());
    }
    if depth == 0 {
        let name = || String::from_utf8_lossy(e.name().as_ref()).into_owned();
        if root_seen {
            return Err(format!(
                "a second root element <{}> after the first one closed (concatenated \
                 reports?); pass each file with --junit instead",
                name()
            ));
        }
        if !H::is_root(e.local_name()) {
            return Err(format!(
                "not a {} document: expected {}, found <{}>",
                H::FORMAT,
                H::ROOTS,
                name()
            ));
        }
    }
    if empty {
        return handler.empty(e);
    }
    if !handler.start(e)? {
        check_attributes(e)?;
    }
    Ok(())
}

/// The XML reader's input buffer. Besides buffering, it counts newlines in the bytes consumed
/// so far, so errors can name a line without keeping or re-reading the document: each block is
/// counted once, in one vectorised pass, when it has been consumed entirely.
struct LineCounter<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    /// Newlines and bytes in the blocks before the current one.
    newlines_before: u64,
    bytes_before: u64,
}

impl<R> LineCounter<R> {
    const BLOCK: usize = READ_BLOCK;

    fn new(inner: R) -> Self {
        LineCounter {
            inner,
            buf: vec![0; Self::BLOCK].into_boxed_slice(),
            pos: 0,
            filled: 0,
            newlines_before: 0,
            bytes_before: 0,
        }
    }

    /// 1-based line of the next unconsumed byte.
    fn line(&self) -> u64 {
        self.newlines_before + text::count_newlines(&self.buf[..self.pos]) + 1
    }

    /// Bytes consumed so far.
    fn bytes(&self) -> u64 {
        self.bytes_before + self.pos as u64
    }
}

impl<R: io::Read> io::Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, out)
    }
}

/// `Read::read` for a reader whose buffer is the truth: from `fill_buf`, then `consume`d.
pub(crate) fn read_buffered(r: &mut impl BufRead, out: &mut [u8]) -> io::Result<usize> {
    let n = {
        let available = r.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        n
    };
    r.consume(n);
    Ok(n)
}

impl<R: io::Read> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.filled {
            self.newlines_before += text::count_newlines(&self.buf[..self.filled]);
            self.bytes_before += self.filled as u64;
            self.pos = 0;
            self.filled = 0;
            // A `BufReader` hands reads this large straight to its source: no double copy.
            self.filled = loop {
                match self.inner.read(&mut self.buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.filled);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Duplicates are found among the names kept inline and those past them alike.
    #[test]
    fn keys_find_every_repeat() {
        let names: Vec<Vec<u8>> = (0..3 * Keys::INLINE)
            .map(|i| format!("a{i}").into_bytes())
            .collect();
        let mut keys = Keys::default();
        for n in &names {
            assert!(keys.insert(n), "{}", String::from_utf8_lossy(n));
        }
        for n in &names {
            assert!(!keys.insert(n), "{}", String::from_utf8_lossy(n));
        }
        assert!(keys.insert(b"a"));
        // Same length and first byte, different after it; and a prefix.
        let mut keys = Keys::default();
        for k in [
            &b"abcdefgh1"[..],
            b"abcdefgh2",
            b"ab",
            b"ax",
            b"ab\0",
            b"abcdefgh",
        ] {
            assert!(keys.insert(k), "{k:?}");
        }
        assert!(!keys.insert(b"abcdefgh2") && !keys.insert(b"ab\0") && !keys.insert(b"ax"));
    }

    /// The names the readers compare are cut where quick-xml cuts them.
    #[test]
    fn a_local_name_is_quick_xmls() {
        for name in [
            &b""[..],
            b":",
            b"::",
            b"a",
            b"a:",
            b":a",
            b"ns:testcase",
            b"a:b:c",
            b"testcase",
            "é:x".as_bytes(),
        ] {
            let quick = QName(name).local_name();
            assert_eq!(super::local(name), quick.as_ref(), "{name:?}");
        }
    }

    #[test]
    fn attribute_values() {
        for ok in [
            &b""[..],
            b"plain",
            b"a &amp; b &lt;&gt;&apos;&quot;",
            b"&#65;&#x42;&#0;",
            b"a > b",
        ] {
            assert_eq!(check_attr_value(ok), Ok(()), "{}", shown(ok));
        }
        for bad in [
            &b"a<b"[..],
            b"a & b",
            b"a&b",
            b"&",
            b"&amp",
            b"&nbsp;",
            b"&#xZZ;",
            b"&#;",
            b"&#xD800;",
            b"&#x110000;",
            b"&#X41;",
            b"&a b;",
        ] {
            assert!(check_attr_value(bad).is_err(), "{}", shown(bad));
        }
    }

    #[test]
    fn the_word_test_finds_every_lt_and_amp() {
        for len in 0..40 {
            for at in 0..len {
                for special in [b'<', b'&'] {
                    let mut v = vec![b'a'; len];
                    v[at] = special;
                    assert!(may_hold_lt_or_amp(&v), "{len} {at}");
                    assert!(check_attr_value(&v).is_err());
                }
            }
            let v: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37) | 0x80).collect();
            assert!(!may_hold_lt_or_amp(&v));
            assert!(!may_hold_lt_or_amp(&vec![b';'; len]));
        }
    }

    #[test]
    fn an_attribute_given_twice_is_an_error_on_any_element() {
        let names: Vec<String> = (0..40).map(|i| format!("a{i}")).collect();
        for count in [1, 2, 23, 24, 25, 40] {
            for dup in 0..count {
                let mut tag = String::from("x");
                for name in &names[..count] {
                    tag.push_str(&format!(" {name}=\"v\""));
                }
                let start = BytesStart::from_content(tag.clone(), 1);
                assert_eq!(check_attributes(&start), Ok(()), "{tag}");
                tag.push_str(&format!(" {}='w'", names[dup]));
                let start = BytesStart::from_content(tag.clone(), 1);
                let err = check_attributes(&start).unwrap_err();
                assert!(
                    err.contains(&format!("{}= appears twice in <x>", names[dup])),
                    "{err}"
                );
            }
        }
        // Same local name, other prefix: two names, as XML (without namespaces) reads them.
        let start = BytesStart::from_content("x a:n=\"1\" b:n=\"2\"", 1);
        assert_eq!(check_attributes(&start), Ok(()));
    }

    /// The attributes as quick-xml's own iterator reads them, with the same checks: what
    /// [`checked_attributes`] must give, item for item, up to the first error.
    /// Each attribute as read (key, value), or the error that ended the list.
    type Read = Vec<Result<(Vec<u8>, Vec<u8>), String>>;

    fn reference(e: &BytesStart<'_>) -> Read {
        let mut attributes = e.attributes();
        attributes.with_checks(false);
        let mut keys = Keys::default();
        let mut out = Vec::new();
        for a in attributes {
            let item = match a {
                Err(err) => Err(format!("malformed attribute: {err}")),
                Ok(a) if !keys.insert(a.key.into_inner()) => Err(format!(
                    "malformed attribute: {}= appears twice in <{}>",
                    shown(a.key.as_ref()),
                    shown(e.name().as_ref())
                )),
                Ok(a) => match check_attr_value(&a.value) {
                    Err(m) => Err(format!(
                        "attribute {}= of <{}>: {m}",
                        String::from_utf8_lossy(a.key.as_ref()),
                        String::from_utf8_lossy(e.name().as_ref())
                    )),
                    Ok(()) => Ok((a.key.as_ref().to_vec(), a.value.to_vec())),
                },
            };
            let stop = item.is_err();
            out.push(item);
            if stop {
                break;
            }
        }
        out
    }

    fn split(e: &BytesStart<'_>) -> Read {
        let mut out = Vec::new();
        for a in checked_attributes(e) {
            let stop = a.is_err();
            out.push(a.map(|a| (a.key.as_ref().to_vec(), a.value.to_vec())));
            if stop {
                break;
            }
        }
        out
    }

    #[test]
    fn the_split_reads_what_quick_xml_reads() {
        for tag in [
            "x",
            "x ",
            "x a=\"1\"",
            "x a='1' b=\"2\"",
            "x a = \"1\"\tb\n=\r'2' ",
            "x a=\"1\"b=\"2\"",
            "x =\"1\"",
            "x a\"b=\"1\"",
            "x a",
            "x a ",
            "x a b=\"1\"",
            "x a=",
            "x a= ",
            "x a=1",
            "x a=\"1",
            "x a='1\"",
            "x a=\"1\" a='2'",
            "x a=\"&amp;\" b=\"<\"",
            "x a=\"&nbsp;\"",
            "x a=\"\" b=''",
        ] {
            let e = BytesStart::from_content(tag, 1);
            assert_eq!(split(&e), reference(&e), "{tag:?}");
        }
    }

    /// A `<`, an `&` or a quote at every place of values longer than a word (the value's end is
    /// found eight bytes at a time).
    #[test]
    fn the_split_finds_each_special_byte_anywhere_in_a_long_value() {
        for at in 0..20 {
            for special in ["<", "&", "&amp;", "'", "\""] {
                for quote in ['"', '\''] {
                    let mut value = "v".repeat(20);
                    value.replace_range(at..at + 1, special);
                    let tag = format!("x k={quote}{value}{quote} n='1'");
                    let e = BytesStart::from_content(tag.as_str(), 1);
                    assert_eq!(split(&e), reference(&e), "{tag:?}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_split_agrees_with_quick_xml_on_any_attribute_list(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "b", "ab", "=", "\"", "'", " ", "\t", "\n", "\r", "1", "&amp;", "&",
                    "<", ">", "é", "a=\"1\"", " b='2'", ":",
                ]),
                0..24,
            )
        ) {
            let tag = format!("x {}", parts.concat());
            let e = BytesStart::from_content(tag.as_str(), 1);
            proptest::prop_assert_eq!(split(&e), reference(&e), "{:?}", tag);
        }
    }

    /// The empty element quick-xml reads first from `rest` (inside an open element): the tag's
    /// length, its content, its name's length and its attributes (keys and values as written).
    type Read1 = (usize, Vec<u8>, usize, Vec<(Vec<u8>, Vec<u8>)>);

    fn quick_xml_empty(rest: &[u8]) -> Option<Read1> {
        let mut xml = Reader::from_reader(rest);
        configure(xml.config_mut());
        match xml.read_event() {
            Ok(Event::Empty(e)) => {
                let len = xml.buffer_position() as usize;
                // Repeated keys are found by `CheckedAttributes::check`, whichever split them.
                let mut attributes = e.attributes();
                attributes.with_checks(false);
                let attributes = attributes
                    .map(|a| a.map(|a| (a.key.as_ref().to_vec(), a.value.to_vec())))
                    .collect::<Result<_, _>>()
                    .ok()?;
                Some((len, e.to_vec(), e.name().as_ref().len(), attributes))
            }
            _ => None,
        }
    }

    /// What [`split_empty_tag`] reads from `rest`, said as [`quick_xml_empty`] says it.
    fn split_empty(rest: &[u8]) -> Option<Read1> {
        let mut splits = [Split::default(); SPLITS];
        let (len, name_len, n) = split_empty_tag(rest, &mut splits)?;
        let content = &rest[1..len - 2];
        let raw = &content[name_len..];
        let attributes = splits[..n]
            .iter()
            .map(|s| (s.key(raw).to_vec(), s.value(raw).to_vec()))
            .collect();
        Some((len, content.to_vec(), name_len, attributes))
    }

    #[test]
    fn a_plain_empty_tag_is_read_as_quick_xml_reads_it() {
        for (tag, want) in [
            ("<a/>", Some(4)),
            ("<testcase name=\"x\" time=\"1\"/>\n<b/>", Some(29)),
            ("<a b=\"/>\" c='\"/>'/>", Some(19)),
            ("<a\tb = 'x'\n/>", Some(13)),
            ("<ns:a x:b=\"1\"/>", Some(15)),
            // Left to quick-xml: not empty, not a tag, or not written plainly.
            ("<a b='x'/", None),
            ("<a/ >", None),
            ("<a>", None),
            ("</a>", None),
            ("<!--x/>", None),
            ("<?x/>", None),
            ("<>", None),
            ("< />", None),
            ("<a b=\"/>", None),
            ("<a b=\"1\"c=\"2\"/>", None),
            ("<a b=\"&amp;\"/>", None),
            ("<a b=\"é\"/>", None),
            ("<é/>", None),
            ("<a b/>", None),
            ("<a b=1/>", None),
            // A key written twice: quick-xml's path, whose check refuses it.
            ("<a b=\"1\" b=\"2\"/>", None),
            ("<a bc=\"1\" d=\"1\" bc='2'/>", None),
            ("<a bc=\"1\" bd=\"2\" b=\"3\"/>", Some(24)),
            ("<a x:b=\"1\" y:b=\"2\"/>", Some(20)),
            // Names, keys and values across the 16-byte blocks they are scanned in.
            (
                "<testcase_with_a_long_name a_key_longer_than_sixteen=\"a value longer than sixteen bytes\"/>",
                Some(90),
            ),
            ("<abcdefghijklmno b=\"0123456789abcde\"/>", Some(38)),
            // White space, control characters, the other quote and markup in a value are
            // part of it, in whichever block they fall.
            ("<a b=\"x\u{1}y\tz\n'=/>\"/>", Some(19)),
            ("<a b='it\"s' c=\"0123456789abcdef \u{7f}\r\"/>", Some(37)),
            // A control character in a name or key: quick-xml's path.
            ("<a\u{1}b c=\"1\"/>", None),
            ("<a b\u{7}=\"1\"/>", None),
            ("<a bcdefghijklmnopqrstu\u{1f}=\"1\"/>", None),
        ] {
            let got = split_empty(tag.as_bytes());
            assert_eq!(got.as_ref().map(|r| r.0), want, "{tag}");
            if got.is_some() {
                assert_eq!(got, quick_xml_empty(tag.as_bytes()), "quick-xml on {tag}");
            }
        }
        let many: String = (0..SPLITS).map(|i| format!(" a{i}=\"{i}\"")).collect();
        assert!(split_empty(format!("<t{many}/>").as_bytes()).is_some());
        assert!(split_empty(format!("<t{many} z=\"\"/>").as_bytes()).is_none());
    }

    /// Tags mostly written plainly, with every kind of slip here and there.
    fn tags() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        // `plain` nine times in ten, else one of `slips`.
        fn mostly(
            plain: &'static [&'static str],
            slips: &'static [&'static str],
        ) -> BoxedStrategy<&'static str> {
            prop_oneof![
                9 => proptest::sample::select(plain),
                1 => proptest::sample::select(slips),
            ]
            .boxed()
        }
        let value = proptest::collection::vec(
            mostly(
                &[
                    "x",
                    "1",
                    ">",
                    "/",
                    "/>",
                    " ",
                    "=",
                    "a value of twenty bytes",
                    "\t",
                    "\u{1}",
                ],
                &["'", "\"", "&amp;", "é", "<"],
            ),
            0..4,
        );
        let attribute = (
            mostly(&[" ", "  ", "\t", "\n", "\r\n"], &[""]),
            mostly(
                &["k", "name", "a:b", "time", "a_key_of_some_twenty_bytes"],
                &["k>", "k/", "'k", "=", "é", "k\u{1}"],
            ),
            mostly(&["", " "], &["\t\n"]),
            mostly(&["="], &["", "=="]),
            mostly(&["", " "], &["\n"]),
            mostly(&["\"", "'"], &[""]),
            value,
        )
            .prop_map(|(s1, key, s2, eq, s3, q, v)| {
                format!("{s1}{key}{s2}{eq}{s3}{q}{}{q}", v.concat())
            });
        (
            mostly(
                &["a", "testcase", "ns:a", "_x"],
                &["1a", "!", "/a", "?a", "", "é"],
            ),
            proptest::collection::vec(attribute, 0..6),
            mostly(&["", " "], &["\n"]),
            mostly(&["/>"], &["/ >", ">", "/", ""]),
        )
            .prop_map(|(name, attributes, s, end)| {
                format!("<{name}{}{s}{end}<b/>", attributes.concat())
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        #[test]
        fn a_tag_read_in_place_is_the_tag_quick_xml_reads(rest in tags()) {
            if let Some(read) = split_empty(rest.as_bytes()) {
                let quick = quick_xml_empty(rest.as_bytes());
                proptest::prop_assert_eq!(Some(read), quick, "{:?}", rest);
            }
        }
    }

    #[test]
    fn normalisation_follows_xml() {
        assert_eq!(attr_value(b"a\r\nb\rc\nd\te"), "a b c d e");
        assert_eq!(attr_value(b"a&#13;&#10;b&#9;"), "a\r\nb\t");
        assert_eq!(attr_value(b"x &lt; y &amp;&amp; z"), "x < y && z");
        assert!(matches!(normalize_attr("no change"), Cow::Borrowed(_)));
    }
}
