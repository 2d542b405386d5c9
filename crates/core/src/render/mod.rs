//! Report → text. Every renderer is a pure function returning `String`; untrusted text goes
//! through [`escape`].

pub mod api;
pub mod badge;
pub mod changes;
pub mod coverage;
pub mod escape;
pub mod markdown;
pub mod tickets;

use std::io::Write as _;

use crate::model::report::{CaseReport, Report};

/// `report.json`: the contract documented in `docs/report.md`.
pub fn json(report: &Report) -> String {
    let mut bytes = Vec::new();
    // Writing plain data into a Vec cannot fail.
    let _ = write_json(report, &mut bytes);
    String::from_utf8(bytes).unwrap_or_default()
}

/// [`json`] streamed into `w`, for reports too large to hold twice.
pub fn write_json(report: &Report, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    // The serializer makes a write per token; through `dyn Write` each is an indirect call.
    // A concrete buffer in front takes them inline and passes `w` large blocks.
    let mut w = std::io::BufWriter::with_capacity(64 * 1024, w);
    write_report(report, &mut w)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// The report object as serde's derive writes it (the same keys in the same order, optional
/// sections left out when absent; a test holds the two byte for byte), but with its `cases`
/// written by [`write_cases`]. The destructuring names every field: a field added to
/// [`Report`] does not compile until it is written here.
fn write_report<W: std::io::Write>(report: &Report, w: &mut W) -> std::io::Result<()> {
    let Report {
        schema_version,
        tool,
        generated_at,
        verdict,
        inputs,
        tests,
        controls,
        gates,
        cases,
        unknown_tags,
        coverage,
        api,
        tickets,
        warnings,
        suites,
        run,
        changes,
        redactions,
    } = report;
    let mut first = true;
    let mut key = |w: &mut W, name: &str| {
        let lead: &[u8] = if std::mem::take(&mut first) {
            b"\n  \""
        } else {
            b",\n  \""
        };
        w.write_all(lead)?;
        w.write_all(name.as_bytes())?;
        w.write_all(b"\": ")
    };
    w.write_all(b"{")?;
    macro_rules! field {
        ($name:ident) => {
            key(w, stringify!($name))?;
            value_at(w, 1, $name)?;
        };
    }
    macro_rules! optional {
        ($name:ident) => {
            if let Some($name) = $name {
                field!($name);
            }
        };
    }
    field!(schema_version);
    field!(tool);
    field!(generated_at);
    field!(verdict);
    field!(inputs);
    field!(tests);
    field!(controls);
    field!(gates);
    key(w, "cases")?;
    write_cases(cases, w)?;
    field!(unknown_tags);
    optional!(coverage);
    optional!(api);
    optional!(tickets);
    field!(warnings);
    optional!(suites);
    optional!(run);
    optional!(changes);
    optional!(redactions);
    w.write_all(b"\n}")
}

/// `value` pretty-printed as a value `level` levels deep.
fn value_at<W: std::io::Write, T: serde::Serialize + ?Sized>(
    w: &mut W,
    level: usize,
    value: &T,
) -> std::io::Result<()> {
    let pretty = Pretty {
        level,
        has_value: false,
    };
    let mut serializer = serde_json::Serializer::with_formatter(w, pretty);
    Ok(value.serialize(&mut serializer)?)
}

/// Cases in a block of [`write_cases`].
const CASES_PER_BLOCK: usize = 256;

/// The `cases` array (the bulk of a large run's report: its messages' escaping most of the
/// time it takes to write). From a few blocks on, a second thread prints every other block
/// of cases into a buffer while this one prints the rest and writes all in order: the report
/// is written once the tests are counted, when the other core has nothing left to do. Blocks
/// in flight are few and bounded, so memory does not grow with the report.
fn write_cases<W: std::io::Write>(cases: &[CaseReport], w: &mut W) -> std::io::Result<()> {
    if cases.is_empty() {
        return w.write_all(b"[]");
    }
    w.write_all(b"[")?;
    // Each case on its own line, two levels in, after a comma unless it is the first.
    let print = |w: &mut Vec<u8>, block: &[CaseReport], first: bool| -> std::io::Result<()> {
        for (i, case) in block.iter().enumerate() {
            let lead: &[u8] = if first && i == 0 {
                b"\n    "
            } else {
                b",\n    "
            };
            w.extend_from_slice(lead);
            case_at(w, case)?;
        }
        Ok(())
    };
    let mut blocks = cases.chunks(CASES_PER_BLOCK);
    let two_threads = blocks.len() >= 4;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(2);
        let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        if two_threads {
            let odd = cases.chunks(CASES_PER_BLOCK).skip(1).step_by(2);
            scope.spawn(move || {
                for block in odd {
                    let mut out = back_rx.try_recv().unwrap_or_default();
                    out.clear();
                    let printed = print(&mut out, block, false).map(|()| out);
                    // The writer stopped (its output failed): nothing more is wanted.
                    if tx.send(printed).is_err() {
                        return;
                    }
                }
            });
        }
        let mut mine = Vec::new();
        let mut first = true;
        while let Some(block) = blocks.next() {
            mine.clear();
            print(&mut mine, block, std::mem::take(&mut first))?;
            w.write_all(&mine)?;
            if two_threads && blocks.next().is_some() {
                // The helper thread's block, printed while this one printed its own.
                let theirs = rx.recv().map_err(std::io::Error::other)??;
                w.write_all(&theirs)?;
                let _ = back_tx.send(theirs);
            }
        }
        Ok::<(), std::io::Error>(())
    })?;
    w.write_all(b"\n  ]")
}

/// A case as [`value_at`]`(w, 2, case)` prints it, byte for byte (a test compares the two on
/// any case). A large report is nearly all cases; through serde each of their fifteen fields
/// takes the formatter's calls and each byte of their strings a look-up in serde_json's
/// escape table. Here the keys are written whole and the strings escaped sixteen bytes at a
/// time ([`json_str`]); the values of other shapes still go through serde.
fn case_at(w: &mut Vec<u8>, case: &CaseReport) -> std::io::Result<()> {
    // Every field named: one added to `CaseReport` is a compile error here, not a key missed.
    let CaseReport {
        id,
        suite,
        classname,
        name,
        file,
        line,
        location,
        status,
        flaky,
        duration_s,
        runs,
        input,
        message,
        message_bytes,
        controls,
    } = case;
    // Opened and closed as [`Pretty`] does an object two levels in; each key on a line of its
    // own, after a comma unless first.
    let mut object = Pretty {
        level: 2,
        has_value: false,
    };
    object.open(w, b"{")?;
    let key = |w: &mut Vec<u8>, key: &str, first: bool| {
        object.line(w, first)?;
        w.push(b'"');
        w.extend_from_slice(key.as_bytes());
        w.extend_from_slice(b"\": ");
        std::io::Result::Ok(())
    };
    fn int(w: &mut Vec<u8>, n: impl itoa::Integer) {
        w.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }
    key(w, "id", true)?;
    json_str(w, id);
    key(w, "suite", false)?;
    json_str(w, suite);
    key(w, "classname", false)?;
    json_str(w, classname);
    key(w, "name", false)?;
    json_str(w, name);
    key(w, "file", false)?;
    match file {
        Some(file) => json_str(w, file),
        None => w.extend_from_slice(b"null"),
    }
    key(w, "line", false)?;
    match line {
        Some(line) => int(w, *line),
        None => w.extend_from_slice(b"null"),
    }
    key(w, "location", false)?;
    value_at(w, 3, location)?;
    key(w, "status", false)?;
    value_at(w, 3, status)?;
    key(w, "flaky", false)?;
    w.extend_from_slice(if *flaky { b"true" } else { b"false" });
    key(w, "duration_s", false)?;
    value_at(w, 3, duration_s)?;
    key(w, "runs", false)?;
    int(w, *runs);
    key(w, "input", false)?;
    int(w, *input);
    key(w, "message", false)?;
    match message {
        Some(message) => json_str(w, message),
        None => w.extend_from_slice(b"null"),
    }
    key(w, "message_bytes", false)?;
    match message_bytes {
        Some(n) => int(w, *n),
        None => w.extend_from_slice(b"null"),
    }
    key(w, "controls", false)?;
    value_at(w, 3, controls)?;
    object.has_value = true;
    object.close(w, b"}")
}

/// `s` as a JSON string, escaped as serde_json escapes it: the quote, the backslash and the
/// control characters (`\n`, `\t` and the like where JSON has a short form, else `\u00XX`),
/// nothing else. The bytes to escape are found sixteen at a time; the runs between are copied
/// whole.
fn json_str(w: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    w.reserve(bytes.len() + 2);
    w.push(b'"');
    let escape = |w: &mut Vec<u8>, b: u8| match b {
        b'"' => w.extend_from_slice(b"\\\""),
        b'\\' => w.extend_from_slice(b"\\\\"),
        b'\n' => w.extend_from_slice(b"\\n"),
        b'\r' => w.extend_from_slice(b"\\r"),
        b'\t' => w.extend_from_slice(b"\\t"),
        0x08 => w.extend_from_slice(b"\\b"),
        0x0C => w.extend_from_slice(b"\\f"),
        _ => w.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xF)],
        ]),
    };
    // `bytes[copied..at]` is written as it is once an escape (or the end) follows it. The last
    // bytes, fewer than sixteen, are scanned in a block padded with bytes never escaped.
    let (mut copied, mut at) = (0, 0);
    let mut tail = [b'a'; 16];
    while at < bytes.len() {
        let block = match bytes.get(at..at + 16) {
            Some(block) => block,
            None => {
                let rest = &bytes[at..];
                tail[..rest.len()].copy_from_slice(rest);
                &tail[..]
            }
        };
        let block = block.try_into().unwrap_or(&[0; 16]);
        let mut flags = crate::words::block_flags(block, [b'"', b'\\'], 0x20, false);
        while flags != 0 {
            let i = at + flags.trailing_zeros() as usize;
            w.extend_from_slice(&bytes[copied..i]);
            escape(w, bytes[i]);
            copied = i + 1;
            flags &= flags - 1;
        }
        at += 16;
    }
    w.extend_from_slice(&bytes[copied..]);
    w.push(b'"');
}

/// `report.json`'s layout: serde_json's pretty printing (two spaces a level), byte for byte,
/// with each line's break and indentation written at once. serde_json writes the indentation
/// a level at a time, a write each: a case of a large report is fifteen keys three levels deep,
/// so sixty writes where fifteen do.
#[derive(Default)]
struct Pretty {
    level: usize,
    has_value: bool,
}

impl Pretty {
    /// `,` + newline + the indentation of [`Pretty::LEVELS`] levels: each line break is a
    /// slice of it.
    const BREAK: &'static [u8] =
        b",\n                                                                ";
    /// The deepest level [`Pretty::BREAK`] indents in one write.
    const LEVELS: usize = (Self::BREAK.len() - 2) / 2;

    /// A line break (after a `,` unless `first`) and this level's indentation.
    fn line<W: ?Sized + std::io::Write>(&self, w: &mut W, first: bool) -> std::io::Result<()> {
        let from = usize::from(first);
        if self.level <= Self::LEVELS {
            return w.write_all(&Self::BREAK[from..2 + 2 * self.level]);
        }
        w.write_all(&Self::BREAK[from..2])?;
        for _ in 0..self.level {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    /// Starts an array or an object: its bracket, one level deeper, nothing in it yet.
    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// Ends an array or an object: its bracket on a line of its own when it holds anything.
    fn close<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    fn printed(value: &serde_json::Value) -> Vec<u8> {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, super::Pretty::default());
        serde::Serialize::serialize(value, &mut ser).unwrap();
        out
    }

    /// JSON values of any shape, nested deeper than the one-write indentation reaches.
    fn values() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "[a-z\"\\\\\n é]{0,6}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(48, 256, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::btree_map("[a-c]{1,3}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// `report.json` is laid out as serde_json's pretty printer lays it out, at any depth.
        #[test]
        fn the_layout_is_serde_jsons_pretty_printing(value in values()) {
            prop_assert_eq!(printed(&value), serde_json::to_vec_pretty(&value).unwrap());
        }
    }

    /// Deeper than one write indents, on both sides of the limit.
    #[test]
    fn deep_nesting_is_laid_out_alike() {
        for depth in [
            0,
            1,
            super::Pretty::LEVELS - 1,
            super::Pretty::LEVELS,
            40,
            70,
        ] {
            let mut value = serde_json::json!({"k": [1, {"x": null}]});
            for i in 0..depth {
                value = if i % 2 == 0 {
                    serde_json::json!([value, 2])
                } else {
                    serde_json::json!({"a": value, "b": {}})
                };
            }
            assert_eq!(
                printed(&value),
                serde_json::to_vec_pretty(&value).unwrap(),
                "{depth}"
            );
        }
    }

    /// Strings with every byte serde_json escapes, the other quote, `/`, DEL and text outside
    /// ASCII, short and across the sixteen-byte blocks [`super::json_str`] scans.
    fn texts() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            proptest::sample::select(vec![
                "a",
                "tests.pkg",
                "\"",
                "\\",
                "\n",
                "\r",
                "\t",
                "\u{8}",
                "\u{c}",
                "\u{0}",
                "\u{1f}",
                "\u{7f}",
                "'",
                "/",
                "é",
                "☃",
                "𝄞",
                " ",
                "sixteen bytes!!!",
            ]),
            0..24,
        )
        .prop_map(|parts| parts.concat())
    }

    fn cases() -> impl Strategy<Value = crate::model::report::CaseReport> {
        use crate::model::report::{CaseControl, CaseReport};
        use crate::model::{Carrier, CaseStatus, ControlId, SourceLocation};
        let statuses = proptest::sample::select(vec![
            CaseStatus::Passed,
            CaseStatus::Skipped,
            CaseStatus::Failed,
            CaseStatus::Errored,
        ]);
        let controls = proptest::collection::vec(
            (
                proptest::sample::select(vec!["cc6-1", "cc8-1", "a1-2"]),
                texts(),
            ),
            0..3,
        );
        (
            (
                texts(),
                texts(),
                texts(),
                texts(),
                proptest::option::of(texts()),
            ),
            (
                proptest::option::of(any::<u32>()),
                proptest::option::of((texts(), any::<u32>())),
                statuses,
                any::<bool>(),
                proptest::sample::select(vec![0.0, 0.061, 1e-7, 12345.678, 3.0]),
            ),
            (
                any::<u32>(),
                any::<usize>(),
                proptest::option::of(texts()),
                proptest::option::of(any::<usize>()),
                controls,
            ),
        )
            .prop_map(
                |(
                    (id, suite, classname, name, file),
                    (line, location, status, flaky, duration_s),
                    (runs, input, message, message_bytes, controls),
                )| CaseReport {
                    id,
                    suite,
                    classname,
                    name,
                    file,
                    line,
                    location: location.map(|(file, line)| SourceLocation { file, line }),
                    status,
                    flaky,
                    duration_s,
                    runs,
                    input,
                    message,
                    message_bytes,
                    controls: controls
                        .into_iter()
                        .map(|(tag, name)| CaseControl {
                            id: ControlId::parse_shape(tag).unwrap(),
                            carrier: Carrier::Property { name },
                        })
                        .collect(),
                },
            )
    }

    proptest! {
        /// A case written field by field is the case serde writes, byte for byte.
        #[test]
        fn a_case_is_printed_as_serde_prints_it(case in cases()) {
            let mut ours = Vec::new();
            super::case_at(&mut ours, &case).unwrap();
            let mut serde = Vec::new();
            super::value_at(&mut serde, 2, &case).unwrap();
            prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(serde).unwrap());
        }
    }
}
