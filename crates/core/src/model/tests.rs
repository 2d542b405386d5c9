//! Test results as read from JUnit, before any control mapping.

use serde::{Deserialize, Serialize};

/// Outcome of one test case. Ordered by severity: when a testcase carries several result
/// elements the most severe one wins (`Errored` > `Failed` > `Skipped` > `Passed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseStatus {
    Passed,
    Skipped,
    Failed,
    Errored,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Passed => "passed",
            CaseStatus::Skipped => "skipped",
            CaseStatus::Failed => "failed",
            CaseStatus::Errored => "errored",
        }
    }

    pub fn is_failure(self) -> bool {
        matches!(self, CaseStatus::Failed | CaseStatus::Errored)
    }
}

/// A failure/error/skip message, bounded in size. `original_len` is the byte length before
/// truncation so a reader knows how much was cut.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub text: String,
    pub original_len: usize,
}

impl Message {
    /// Bytes of a message kept in the report.
    pub const LIMIT: usize = 4096;
    /// Bytes the parser keeps: redaction runs on this much, then [`Message::cut`] keeps
    /// [`Message::LIMIT`], so a secret that the 4 KiB cut goes through is redacted whole first.
    pub const KEPT: usize = 2 * Self::LIMIT;

    /// Keeps at most [`Message::LIMIT`] bytes, cut on a char boundary.
    pub fn bounded(text: &str) -> Message {
        let mut text = text.to_owned();
        let original_len = text.len();
        cut_to(&mut text, Self::LIMIT);
        Message { text, original_len }
    }

    /// Cuts a (redacted) message text to [`Message::LIMIT`] bytes.
    pub fn cut(text: &mut String) {
        cut_to(text, Self::LIMIT);
    }

    pub fn truncated(&self) -> bool {
        self.original_len > self.text.len()
    }

    pub fn first_line(&self) -> &str {
        self.text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
    }
}

fn cut_to(text: &mut String, limit: usize) {
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

/// Where a property was attached in the JUnit document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyScope {
    /// `<testcase><properties><property .../>`
    Case,
    /// `<testsuite><properties>`, inherited by every testcase of the suite (and nested suites).
    Suite,
    /// A `[[PROPERTY|name=value]]` line in the testcase's `<system-out>`.
    SystemOut,
}

/// A name/value pair found on a testcase, kept raw; the control mapper decides which names
/// carry control tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawProperty {
    pub name: String,
    pub value: String,
    pub scope: PropertyScope,
}

/// A source location named in a failure's text (`tests/x.py:42`, a stack frame). Where an
/// annotation can point; never part of a test's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLocation {
    pub file: String,
    pub line: u32,
}

/// One testcase after merging all the result elements it carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestCase {
    /// Name of the innermost enclosing `<testsuite>` (empty when absent).
    pub suite: String,
    pub classname: String,
    pub name: String,
    /// The test's file as the report gives it: the testcase's `file` attribute, else the
    /// enclosing suite's `filepath`. Part of the test's identity.
    pub file: Option<String>,
    /// The testcase's `line` attribute.
    pub line: Option<u32>,
    /// A `path:line` found in the failure/error text when the attributes give no file and line
    /// (see `ingest::junit::find_location`): for annotations and display only.
    pub location: Option<SourceLocation>,
    pub status: CaseStatus,
    /// Passed only after a retry (Surefire `flakyFailure`/`flakyError`), or passed in one run
    /// and failed in another when the same test appears in several files.
    pub flaky: bool,
    pub duration_s: f64,
    /// Message of the most severe result element (failure, error or skip reason).
    pub message: Option<Message>,
    pub properties: Vec<RawProperty>,
    /// Index into the run's input files.
    pub input: usize,
    /// How many times this test was seen (several files, or reruns merged).
    pub runs: u32,
}

impl TestCase {
    /// A passed test of input `input` with no name, file, time or anything else yet.
    pub fn empty(input: usize) -> Self {
        TestCase {
            suite: String::new(),
            classname: String::new(),
            name: String::new(),
            file: None,
            line: None,
            location: None,
            status: CaseStatus::Passed,
            flaky: false,
            duration_s: 0.0,
            message: None,
            properties: Vec::new(),
            input,
            runs: 1,
        }
    }

    /// The errored case a reader reports for a failure outside any test (a crashed test run, a
    /// suite's teardown, a report saying more failed than it shows): no class, file or time.
    pub fn outside_any_test(suite: String, name: String, message: Message, input: usize) -> Self {
        TestCase {
            suite,
            name,
            status: CaseStatus::Errored,
            message: Some(message),
            ..TestCase::empty(input)
        }
    }

    /// Where an annotation for this test points: the report's file, with its line or, when the
    /// failure text names a line in that same file, that line; else the location in the
    /// failure text.
    pub fn annotation_location(&self) -> Option<(&str, Option<u32>)> {
        annotation_location(self.file.as_deref(), self.line, self.location.as_ref())
    }

    /// Identity used to merge the same test seen in several files: classname + name (+ file).
    pub fn id(&self) -> String {
        let mut id = String::with_capacity(self.classname.len() + self.name.len() + 2);
        self.write_id(&mut id);
        id
    }

    /// [`TestCase::id`] appended to `out`.
    pub fn write_id(&self, out: &mut String) {
        if !self.classname.is_empty() {
            out.push_str(&self.classname);
            out.push_str("::");
        }
        out.push_str(&self.name);
    }
}

/// See [`TestCase::annotation_location`].
pub fn annotation_location<'a>(
    file: Option<&'a str>,
    line: Option<u32>,
    location: Option<&'a SourceLocation>,
) -> Option<(&'a str, Option<u32>)> {
    match (file.filter(|f| !f.is_empty()), location) {
        (Some(f), Some(loc)) if line.is_none() && same_file(f, &loc.file) => {
            Some((f, Some(loc.line)))
        }
        (Some(f), _) => Some((f, line)),
        (None, Some(loc)) => Some((loc.file.as_str(), Some(loc.line))),
        (None, None) => None,
    }
}

/// One path names the other's file: `/ci/work/tests/x.py` and `tests/x.py`.
fn same_file(a: &str, b: &str) -> bool {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    long.strip_suffix(short)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('/') || rest.ends_with('\\'))
}

/// One result or coverage file as read, for provenance in the report and the evidence bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// Which carrier produced a control mapping — the auditor's "why is this test evidence for X?".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Carrier {
    /// Testcase `<property name=..>`.
    Property { name: String },
    /// Suite-level `<property name=..>` inherited by the testcase.
    SuiteProperty { name: String },
    /// `[[PROPERTY|name=value]]` in `<system-out>`.
    SystemOut { name: String },
    /// A marker in the test name (`[cc6-1]`, `@cc6-1`).
    NameMarker,
    /// A marker in the classname or module path (`tests.cc6_1.test_login`).
    ClassnameMarker,
    /// A mapping rule from the config file (index and pattern).
    ConfigRule { rule: usize, pattern: String },
    /// The default controls of the suite that produced the result file.
    SuiteDefault { suite: String },
}

impl std::fmt::Display for Carrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Carrier::Property { name } => write!(f, "property `{name}`"),
            Carrier::SuiteProperty { name } => write!(f, "suite property `{name}`"),
            Carrier::SystemOut { name } => write!(f, "system-out `{name}`"),
            Carrier::NameMarker => f.write_str("name marker"),
            Carrier::ClassnameMarker => f.write_str("classname marker"),
            Carrier::ConfigRule { rule, pattern } => write!(f, "config rule #{rule} `{pattern}`"),
            Carrier::SuiteDefault { suite } => write!(f, "suite `{suite}` default"),
        }
    }
}

crate::redact_fields!(InputFile: path);
crate::redact_fields!(SourceLocation: file);
