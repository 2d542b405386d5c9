//! Reader for Mocha's JSON reporter (`mocha --reporter json`): one document
//! `{"stats": {…}, "tests": […], "pending": […], "failures": […], "passes": […]}`.
//!
//! The document is read into memory and deserialized from the slice straight into typed
//! structs (no `serde_json::Value`): only the fields used are kept, the rest is skipped as it is
//! read (`passes`, `stats`' counters, an error's `actual`/`expected`/`parent` objects). The
//! tests are held until the document ends anyway, because which of them are pending is said
//! after them; holding the bytes too is bounded by the file. serde_json's reader-based
//! deserializer pulls one byte per `read` call through the input: 3.5× slower on a 100,000-test
//! report (bench/results.sh).
//!
//! Mapping (as EnricoMi's publish-unit-test-result-action reads it, `python/publish/mocha.py`,
//! checked against its recorded answers for `mocha/tests.json`):
//!
//! - One case per entry of `tests`, in order. `name` = `fullTitle` (describe titles and the
//!   test's title, as Mocha prints it); `suite` = `fullTitle` without the trailing `title` (the
//!   describe path); `classname` is empty, as in EnricoMi's rendering. `file` → `file`;
//!   `duration` (milliseconds) → seconds (EnricoMi writes the milliseconds as seconds).
//! - Status: an `err` with any field → failed, or errored when it has a truthy `errorMode`
//!   (set by the `unexpected` assertion library), as EnricoMi decides; else pending (its
//!   `fullTitle` and `file` listed in `pending`) → skipped; else passed. A passed test with
//!   `currentRetry` > 0 passed only after a retry (`this.retries(n)`) → flaky.
//! - Message: `err.message`, then `err.stack` (bounded, ANSI colours dropped); else
//!   `err.name`. The first `path:line` of a stack frame outside `node_modules` → `location`.
//! - Entries of `failures` that are not in `tests` — a failed hook (`"before each" hook for
//!   "…"`, `"after all" hook`) or an uncaught error outside a test — → an errored case each.
//!   EnricoMi reads `tests` only, so a failing `before` hook, which keeps its tests from
//!   running and out of `tests`, passes there unseen (no such input in its corpus; totals
//!   agree).
//! - A test whose own `err` is empty but that `failures` lists (some reporters fill only the
//!   failure's copy) is failed with the failure's error. And when `stats.failures` says more
//!   failures than the failed and errored cases read, one errored `(mocha run)` case more:
//!   failing tests are missing from the report. EnricoMi reads `tests` only: both read green
//!   there (no such input in its corpus).
//! - `Summary::suites`: distinct files.
//!
//! Errors (with the line and byte): malformed JSON, a document that is not an object with
//! `stats` and a `tests` array, a test without `fullTitle`, text after the document.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::BufRead;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use crate::error::ParseError;
use crate::ingest::jsonl;
use crate::ingest::results::Summary;
use crate::model::{CaseStatus, Message, SourceLocation, TestCase};

#[derive(Deserialize)]
struct Report {
    #[serde(default)]
    stats: Option<Stats>,
    #[serde(default)]
    tests: Option<Vec<Test>>,
    #[serde(default)]
    pending: Vec<Key>,
    #[serde(default)]
    failures: Vec<Test>,
}

#[derive(Deserialize)]
struct Test {
    #[serde(default)]
    title: Text,
    #[serde(rename = "fullTitle")]
    full_title: String,
    #[serde(default)]
    file: Text,
    #[serde(default)]
    duration: Option<f64>,
    #[serde(rename = "currentRetry", default)]
    current_retry: Option<f64>,
    #[serde(default)]
    err: Option<Err>,
}

/// The counters of `stats` that are read (any others, or a counter that is no count, are
/// skipped).
#[derive(Deserialize)]
struct Stats {
    #[serde(default)]
    failures: Option<serde_json::Value>,
}

/// What identifies a pending test.
#[derive(Deserialize)]
struct Key {
    #[serde(rename = "fullTitle", default)]
    full_title: Text,
    #[serde(default)]
    file: Text,
}

/// A string when the value is one (anything else, `null` included, is no string).
#[derive(Default)]
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(Some(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text(Some(v)))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text, E> {
        Ok(Text(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Text, E> {
        Ok(Text(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Text, E> {
        Ok(Text(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Text, E> {
        Ok(Text(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
}

/// A test's `err`: `{}` when it passed; Mocha copies the error's own fields, which may be
/// anything (an assertion library's `actual` and `expected` objects).
#[derive(Default)]
struct Err {
    /// Fields it has (`{}` = no error).
    fields: usize,
    message: Option<String>,
    stack: Option<String>,
    name: Option<String>,
    /// `errorMode` present and truthy (as Python reads it: a non-empty string, `true`, a
    /// non-zero number, a non-empty array or object).
    error_mode: bool,
}

impl<'de> Deserialize<'de> for Err {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ErrVisitor)
    }
}

struct ErrVisitor;

impl<'de> Visitor<'de> for ErrVisitor {
    type Value = Err;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an error object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Err, A::Error> {
        let mut err = Err::default();
        while let Some(key) = map.next_key::<String>()? {
            err.fields += 1;
            match key.as_str() {
                "message" => err.message = map.next_value::<Text>()?.0,
                "stack" => err.stack = map.next_value::<Text>()?.0,
                "name" => err.name = map.next_value::<Text>()?.0,
                "errorMode" => err.error_mode = map.next_value::<Truthy>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(err)
    }
}

/// Python's truthiness of a JSON value.
struct Truthy(bool);

impl<'de> Deserialize<'de> for Truthy {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TruthyVisitor)
    }
}

struct TruthyVisitor;

impl<'de> Visitor<'de> for TruthyVisitor {
    type Value = Truthy;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Truthy, E> {
        Ok(Truthy(!v.is_empty()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Truthy, E> {
        Ok(Truthy(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Truthy, E> {
        Ok(Truthy(v != 0))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Truthy, E> {
        Ok(Truthy(v != 0))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Truthy, E> {
        Ok(Truthy(v != 0.0))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Truthy, E> {
        Ok(Truthy(false))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Truthy, A::Error> {
        let mut any = false;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            any = true;
        }
        Ok(Truthy(any))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Truthy, A::Error> {
        let mut any = false;
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
            any = true;
        }
        Ok(Truthy(any))
    }
}

/// The byte offset of serde_json's (1-based line, column) position in `doc`: the column counts
/// bytes from the line's start (0 before the line's first byte was read).
fn offset(doc: &[u8], line: usize, column: usize) -> u64 {
    let line_start = if line <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', doc)
            .nth(line - 2)
            .map_or(doc.len(), |newline| newline + 1)
    };
    (line_start + column.saturating_sub(1)).min(doc.len()) as u64
}

/// `err.stack` when it repeats `err.message` (V8's stack starts with `Name: message`), else
/// the message then the stack; `err.name` when both are empty.
fn error_message(err: &Err) -> Option<Message> {
    let message = jsonl::clean_text(err.message.as_deref().unwrap_or(""));
    let stack = jsonl::clean_text(err.stack.as_deref().unwrap_or(""));
    let (message, stack) = (message.trim(), stack.trim());
    let parts: &[&str] = if !message.is_empty() && stack.contains(message) {
        &[stack]
    } else {
        &[message, stack]
    };
    jsonl::message(parts).or_else(|| err.name.as_deref().and_then(|n| jsonl::message(&[n])))
}

/// The first stack frame in the test's own file, written as Mocha prints it (relative to the
/// working directory: `at Context.<anonymous> (test/auth.spec.js:9:14)`, or a bare
/// `auth.spec.js:7:12` for a spec at the root), when `file` (absolute) ends with that path.
fn frame_in(text: &str, file: &str) -> Option<SourceLocation> {
    let base = file.rsplit(['/', '\\']).next().filter(|b| !b.is_empty())?;
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find(base) {
        let start = from + at;
        let end = start + base.len();
        from = end;
        let Some(rest) = text[end..].strip_prefix(':') else {
            continue;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let Some(line) = rest[..digits].parse::<u32>().ok().filter(|&l| l > 0) else {
            continue;
        };
        let mut path_start = start;
        while path_start > 0 && !matches!(bytes[path_start - 1], b'(' | b' ' | b'\t' | b'\n') {
            path_start -= 1;
        }
        let path = text[path_start..end].trim_start_matches("file://");
        let path = path.strip_prefix("./").unwrap_or(path);
        let same = file == path
            || file
                .strip_suffix(path)
                .is_some_and(|rest| rest.ends_with('/') || rest.ends_with('\\'));
        if same {
            return Some(SourceLocation {
                file: path.to_owned(),
                line,
            });
        }
    }
    None
}

const EXPECTED: &str = "expected a Mocha JSON report (mocha --reporter json): an object with \
                        \"stats\" and a \"tests\" array";

/// Reads the document, then calls `on_case` once per test (and per failed hook).
pub fn parse(
    mut reader: impl BufRead,
    input: usize,
    on_case: &mut dyn FnMut(TestCase),
) -> Result<Summary, ParseError> {
    let mut doc = Vec::new();
    reader
        .read_to_end(&mut doc)
        .map_err(|e| ParseError::at(Some(1), Some(0), format!("cannot read input: {e}")))?;
    let report = {
        let mut de = serde_json::Deserializer::from_slice(&doc);
        let report = Report::deserialize(&mut de).and_then(|r| de.end().map(|()| r));
        report.map_err(|e| {
            let what = if e.is_eof() {
                "the Mocha JSON report is truncated".to_owned()
            } else if e.to_string().starts_with("trailing characters") {
                "text after the Mocha JSON report (console output written to the same file?)"
                    .to_owned()
            } else {
                format!("{EXPECTED}: {}", jsonl::serde_message(&e))
            };
            ParseError::at(
                Some(e.line().max(1) as u64),
                Some(offset(&doc, e.line(), e.column())),
                format!("{what} (column {})", e.column()),
            )
        })?
    };
    let (Some(stats), Some(mut tests)) = (report.stats, report.tests) else {
        return Err(ParseError::at(
            Some(1),
            Some(0),
            format!("{EXPECTED}; this JSON document has no \"stats\" or no \"tests\""),
        ));
    };
    // Pending tests by full title, with their files.
    let mut pending: HashMap<String, Vec<Option<String>>, Xxh3DefaultBuilder> = HashMap::default();
    for key in report.pending {
        if let Some(title) = key.full_title.0 {
            pending.entry(title).or_default().push(key.file.0);
        }
    }
    // A count written as a string (`"3"`) is a count all the same: read as none, a report
    // saying it failed would pass.
    let stated_failures = stats.failures.as_ref().and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse::<u64>().ok()))
    });
    // Failures that are no test: failed hooks, errors outside a test. Failures are few and
    // tests many: the failures' keys are indexed, the tests looked up in them. A test listed
    // there takes the failure's error when its own is empty.
    let mut failures = report.failures;
    // Per test, the first failure with its title and file (none when there are no failures).
    let listed: Vec<Option<usize>> = if failures.is_empty() {
        Vec::new()
    } else {
        let keys: HashMap<(&str, Option<&str>), usize, Xxh3DefaultBuilder> = failures
            .iter()
            .enumerate()
            .rev()
            .map(|(i, f)| ((f.full_title.as_str(), f.file.0.as_deref()), i))
            .collect();
        tests
            .iter()
            .map(|t| {
                keys.get(&(t.full_title.as_str(), t.file.0.as_deref()))
                    .copied()
            })
            .collect()
    };
    let mut outside = vec![true; failures.len()];
    for (t, i) in tests.iter_mut().zip(listed) {
        let Some(i) = i else { continue };
        outside[i] = false;
        if t.err.as_ref().is_none_or(|e| e.fields == 0)
            && failures[i].err.as_ref().is_some_and(|e| e.fields > 0)
        {
            t.err = failures[i].err.take();
        }
    }
    let mut summary = Summary::default();
    let mut failing = 0u64;
    let mut files: HashSet<Option<String>, Xxh3DefaultBuilder> = HashSet::default();
    let mut emit = |test: Test, status: CaseStatus, summary: &mut Summary| {
        let err = test.err.unwrap_or_default();
        let message = match status {
            CaseStatus::Failed | CaseStatus::Errored => error_message(&err),
            _ => None,
        };
        let location = message.as_ref().and_then(|m| {
            test.file
                .0
                .as_deref()
                .and_then(|file| frame_in(&m.text, file))
                .or_else(|| jsonl::location_in(Some(m)))
        });
        let title = test.title.0.unwrap_or_default();
        let suite = test
            .full_title
            .strip_suffix(title.as_str())
            .filter(|_| !title.is_empty())
            .unwrap_or("")
            .trim_end()
            .to_owned();
        if !files.contains(&test.file.0) {
            files.insert(test.file.0.clone());
            summary.suites += 1;
        }
        summary.cases += 1;
        on_case(TestCase {
            suite,
            classname: String::new(),
            name: test.full_title,
            file: test.file.0.filter(|f| !f.is_empty()),
            line: None,
            location,
            status,
            flaky: status == CaseStatus::Passed && test.current_retry.is_some_and(|r| r > 0.0),
            duration_s: test
                .duration
                .filter(|d| d.is_finite() && *d > 0.0)
                .map_or(0.0, |ms| ms / 1000.0),
            message,
            properties: Vec::new(),
            input,
            runs: 1,
        });
    };
    for test in tests {
        let status = match &test.err {
            Some(err) if err.fields > 0 && err.error_mode => CaseStatus::Errored,
            Some(err) if err.fields > 0 => CaseStatus::Failed,
            _ if pending
                .get(&test.full_title)
                .is_some_and(|files| files.contains(&test.file.0)) =>
            {
                CaseStatus::Skipped
            }
            _ => CaseStatus::Passed,
        };
        failing += u64::from(matches!(status, CaseStatus::Failed | CaseStatus::Errored));
        emit(test, status, &mut summary);
    }
    for (failure, outside) in failures.into_iter().zip(outside) {
        if outside {
            emit(failure, CaseStatus::Errored, &mut summary);
            failing += 1;
        }
    }
    if let Some(stated) = stated_failures
        && stated > failing
    {
        let message = format!(
            "the report's stats say {stated} failure(s), {failing} failed test(s) and hook(s) are \
             in it: failing tests are missing from the report"
        );
        emit(
            Test {
                title: Text(Some("(mocha run)".into())),
                full_title: "(mocha run)".into(),
                file: Text(None),
                duration: None,
                current_retry: None,
                err: Some(Err {
                    fields: 1,
                    message: Some(message),
                    ..Err::default()
                }),
            },
            CaseStatus::Errored,
            &mut summary,
        );
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(doc: &str) -> Result<(Vec<TestCase>, Summary), ParseError> {
        let mut cases = Vec::new();
        let summary = parse(doc.as_bytes(), 2, &mut |c| cases.push(c))?;
        assert_eq!(summary.cases, cases.len() as u64);
        Ok((cases, summary))
    }

    fn err(doc: &str) -> ParseError {
        match run(doc) {
            Ok((cases, _)) => panic!("accepted ({} cases)", cases.len()),
            Err(e) => e,
        }
    }

    const DOC: &str = r#"{
  "stats": {"suites": 2, "tests": 5, "passes": 2, "pending": 1, "failures": 3},
  "tests": [
    {"title": "logs in [cc6-1]", "fullTitle": "auth logs in [cc6-1]", "file": "/w/test/auth.spec.js", "duration": 12, "currentRetry": 0, "speed": "fast", "err": {}},
    {"title": "retries", "fullTitle": "auth retries", "file": "/w/test/auth.spec.js", "duration": 3, "currentRetry": 2, "err": {}},
    {"title": "later", "fullTitle": "auth later", "file": "/w/test/auth.spec.js", "currentRetry": 0, "err": {}},
    {"title": "breaks", "fullTitle": "auth breaks", "file": "/w/test/auth.spec.js", "duration": 1, "currentRetry": 0,
     "err": {"message": "expected 1 to equal 2", "stack": "AssertionError: expected 1 to equal 2\n    at Context.<anonymous> (test/auth.spec.js:9:14)\n    at process.processImmediate (node:internal/timers:476:21)", "actual": {"deep": [1, 2, {"x": null}]}, "expected": 2, "operator": "strictEqual"}},
    {"title": "explodes", "fullTitle": "auth explodes", "file": "/w/test/auth.spec.js", "duration": 1, "currentRetry": 0,
     "err": {"errorMode": "default", "message": "\u001b[31mboom\u001b[39m", "name": "UnexpectedError"}}
  ],
  "pending": [{"title": "later", "fullTitle": "auth later", "file": "/w/test/auth.spec.js", "currentRetry": 0, "err": {}}],
  "failures": [
    {"title": "breaks", "fullTitle": "auth breaks", "file": "/w/test/auth.spec.js", "err": {"message": "expected 1 to equal 2"}},
    {"title": "explodes", "fullTitle": "auth explodes", "file": "/w/test/auth.spec.js", "err": {"errorMode": "default"}},
    {"title": "\"before all\" hook for \"syncs\"", "fullTitle": "billing \"before all\" hook for \"syncs\"", "file": "/w/test/billing.spec.js",
     "err": {"message": "connect ECONNREFUSED", "stack": "Error: connect ECONNREFUSED\n    at test/billing.spec.js:4:9"}}
  ],
  "passes": [{"title": "logs in [cc6-1]", "fullTitle": "auth logs in [cc6-1]", "err": {}}]
}"#;

    #[test]
    fn statuses_names_and_messages() {
        let (cases, summary) = run(DOC).unwrap();
        let got: Vec<(&str, &str, CaseStatus)> = cases
            .iter()
            .map(|c| (c.suite.as_str(), c.name.as_str(), c.status))
            .collect();
        use CaseStatus::*;
        assert_eq!(
            got,
            [
                ("auth", "auth logs in [cc6-1]", Passed),
                ("auth", "auth retries", Passed),
                ("auth", "auth later", Skipped),
                ("auth", "auth breaks", Failed),
                ("auth", "auth explodes", Errored),
                (
                    "billing",
                    "billing \"before all\" hook for \"syncs\"",
                    Errored
                ),
            ]
        );
        assert_eq!(summary.suites, 2);
        assert!(!cases[0].flaky && cases[1].flaky);
        assert_eq!(cases[0].duration_s, 0.012);
        assert_eq!(cases[0].file.as_deref(), Some("/w/test/auth.spec.js"));
        assert_eq!(cases[0].classname, "");
        let breaks = cases[3].message.as_ref().unwrap();
        assert_eq!(breaks.first_line(), "AssertionError: expected 1 to equal 2");
        assert_eq!(
            cases[3].location,
            Some(SourceLocation {
                file: "test/auth.spec.js".into(),
                line: 9
            })
        );
        assert_eq!(cases[4].message.as_ref().unwrap().text, "boom");
        assert_eq!(
            cases[5].message.as_ref().unwrap().first_line(),
            "Error: connect ECONNREFUSED"
        );
        assert_eq!(
            cases[5].location,
            Some(SourceLocation {
                file: "test/billing.spec.js".into(),
                line: 4
            })
        );
        assert!(cases.iter().all(|c| c.input == 2 && c.runs == 1));
    }

    /// A test listed in `failures` with an empty `err` of its own is failed with the failure's
    /// error; `stats.failures` above the failures read (a number, or a string of one) is one
    /// errored `(mocha run)` more; a count that agrees, or is no number, adds nothing.
    #[test]
    fn failures_the_tests_do_not_show_are_read() {
        let doc = |stats: &str| {
            format!(
                r#"{{"stats": {{"failures": {stats}}}, "tests": [
                {{"title": "a", "fullTitle": "s a", "file": "f.js", "err": {{}}}},
                {{"title": "b", "fullTitle": "s b", "file": "f.js", "err": {{}}}}],
                "pending": [], "passes": [],
                "failures": [{{"title": "a", "fullTitle": "s a", "file": "f.js", "err": {{"message": "boom"}}}}]}}"#
            )
        };
        let (cases, summary) = run(&doc("1")).unwrap();
        let got: Vec<_> = cases.iter().map(|c| (c.name.as_str(), c.status)).collect();
        assert_eq!(
            got,
            [("s a", CaseStatus::Failed), ("s b", CaseStatus::Passed)]
        );
        assert_eq!(cases[0].message.as_ref().unwrap().text, "boom");
        assert_eq!(summary.cases, 2);
        let (cases, summary) = run(&doc("3")).unwrap();
        assert_eq!(cases.len(), 3);
        let run_case = &cases[2];
        assert_eq!(
            (run_case.name.as_str(), run_case.status),
            ("(mocha run)", CaseStatus::Errored)
        );
        assert!(
            run_case
                .message
                .as_ref()
                .unwrap()
                .text
                .contains("stats say 3 failure(s), 1 failed"),
            "{:?}",
            run_case.message
        );
        assert_eq!(summary.cases, 3);
        assert_eq!(run(&doc("\" 3\"")).unwrap().0.len(), 3);
        for stats in ["0", "\"many\"", "null", "1", "\"1\""] {
            assert_eq!(run(&doc(stats)).unwrap().0.len(), 2, "{stats}");
        }
    }

    #[test]
    fn a_frame_in_the_tests_own_file_is_its_location() {
        let stack = "AssertionError [ERR_ASSERTION]: no\n    at helper (lib/util.js:3:1)\n    at Context.<anonymous> (auth.spec.js:7:12)";
        assert_eq!(
            frame_in(stack, "/tmp/mo/auth.spec.js"),
            Some(SourceLocation {
                file: "auth.spec.js".into(),
                line: 7
            })
        );
        assert_eq!(frame_in(stack, "/tmp/mo/other.spec.js"), None);
        // Same name, another folder: not the test's file.
        assert_eq!(
            frame_in("at x (vendor/auth.spec.js:1:1)", "/w/test/auth.spec.js"),
            None
        );
    }

    #[test]
    fn malformed_documents_are_errors_with_their_line() {
        let e = err("{\n  \"stats\": {},\n  \"tests\": [\n    {\"title\": \"x\", }\n  ]\n}");
        assert_eq!(e.location.line, Some(4));
        let e = err("{\"stats\": {}, \"tests\": [\n{\"title\": \"no full title\"}\n]}");
        assert_eq!(e.location.line, Some(2));
        assert!(e.message.contains("missing field `fullTitle`"), "{e}");
        let e = err("{\"key\": \"val\", malformed: \"key\"}");
        assert_eq!(e.location.line, Some(1));
        assert!(e.message.contains("column 16"), "{e}");
        // The byte is where serde_json stopped: the `m` of the unquoted key, on any line.
        assert_eq!(e.location.byte, Some(15));
        let e = err("{\"stats\": {},\r\n \"tests\": [\n  {\"title\": \"x\", }\n]}");
        assert_eq!(e.location.line, Some(3));
        assert_eq!(e.location.byte, Some(44));
        let e = err("{\"key\": \"val\"}");
        assert!(e.message.contains("no \"stats\" or no \"tests\""), "{e}");
        let e = err("{\"stats\": {}, \"tests\": {}}");
        assert!(e.message.contains("expected a sequence"), "{e}");
        let e = err("[1, 2]");
        assert!(e.message.starts_with("expected a Mocha JSON report"), "{e}");
        let e = err("{\"stats\": {}, \"tests\": []}\nconsole.log output\n");
        assert_eq!(e.location.line, Some(2));
        assert!(
            e.message.contains("text after the Mocha JSON report"),
            "{e}"
        );
    }

    #[test]
    fn a_truncated_document_is_an_error() {
        let cut = &DOC[..DOC.find("\"pending\"").unwrap()];
        let e = err(cut);
        assert!(e.message.contains("truncated"), "{e}");
        assert_eq!(e.location.line, Some(cut.lines().count() as u64));
    }

    #[test]
    fn an_empty_report_has_no_cases() {
        let (cases, summary) =
            run("{\"stats\": {\"suites\": 0}, \"tests\": [], \"pending\": [], \"failures\": [], \"passes\": []}")
                .unwrap();
        assert!(cases.is_empty());
        assert_eq!(summary, Summary::default());
    }
}
