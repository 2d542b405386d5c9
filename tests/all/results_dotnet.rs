//! TRX, NUnit and xUnit.net through `ingest::results::parse`: conformance with EnricoMi's
//! publish-unit-test-result corpus (its native inputs, vendored next to the JUnit renderings
//! `tests/all/junit.rs` checks), its parsed cases test by test, and the control tags these
//! formats carry.

use std::path::{Path, PathBuf};

use super::junit::{Totals, corpus_dir, expected_totals, results_both_ways};
use controlgate::analyze::mapping::Mapper;
use controlgate::error::ParseError;
use controlgate::ingest::results::{Format, Summary};
use controlgate::model::{CaseStatus, TestCase};

fn parse_bytes(bytes: &[u8]) -> Result<(Format, Vec<TestCase>, Summary), ParseError> {
    results_both_ways(bytes, 0)
}

// ---------------------------------------------------------------------------------------------
// Conformance: EnricoMi/publish-unit-test-result-action (vendored, see PROVENANCE.md there)
// ---------------------------------------------------------------------------------------------

/// Inputs where our totals differ from EnricoMi's on purpose (path relative to the corpus, our
/// totals, reason). EnricoMi's `tests` count unique tests (class + name: the rows of a
/// parameterised test with one name are one test there); we report every test element, and
/// merging the same test seen twice is the pipeline's job (`runs`), not the parser's.
const DIFFERENCES: &[(&str, Totals, &str)] = &[
    (
        "xunit/mstest/jenkinsci/testcase2.xml",
        [2, 1, 0, 0, 1],
        "the <assembly> says failed=\"1\" and holds one passing test (the failing one was cut \
         from the file, as its JUnit rendering shows): EnricoMi reads it green, we add an \
         errored `(assembly)`",
    ),
    (
        "nunit/nunit3/jenkins/NUnit-simple.xml",
        [3, 2, 0, 0, 1],
        "<test-results total=\"4\" failures=\"1\"> holds two passing test cases (the failing one \
         was cut from the file): EnricoMi reads it green, we add an errored `(test-run)`",
    ),
    (
        "nunit/nunit3/jenkins/NUnit-multinamespace.xml",
        [5, 4, 0, 0, 1],
        "same as NUnit-simple.xml: failures=\"1\" on the run, no failing test case in it",
    ),
    (
        "nunit/nunit3/jenkins/NUnit-correct2.xml",
        [218, 218, 0, 0, 0],
        "35 test-case elements repeat a name (parameterised rows): EnricoMi counts unique tests",
    ),
    (
        "trx/yami_YAMILEX_2015-10-24_04_18_59.trx",
        [25, 2, 20, 2, 1],
        "one outcome=\"Aborted\" result: errored here (the test did not complete; a skip would \
         leave it out of the pass rate), skipped in EnricoMi",
    ),
    (
        "xunit/mstest/fixie.xml",
        [7, 3, 1, 3, 0],
        "two tests repeat a type + method (rows of one generic test): EnricoMi names xUnit.net \
         tests by method and counts unique tests",
    ),
    (
        "xunit/mstest/pickles.xml",
        [4, 3, 0, 1, 0],
        "two rows of one theory share a method: EnricoMi names xUnit.net tests by method and \
         counts unique tests",
    ),
];

/// Inputs EnricoMi rejects (`.exception`) that we read on purpose (path, our totals, reason).
const ACCEPTED: &[(&str, Totals, &str)] = &[(
    "nunit/nunit3/jenkins/NUnit-issue17521.xml",
    [2, 1, 1, 0, 0],
    "control characters (NUL, SOH, FF, ETX) in a captured message: dropped, the documented \
     tolerance for characters XML does not allow (README, JUnit dialects); the same report \
     without them is NUnit-issue33493.xml",
)];

/// The native inputs under `trx/`, `nunit/` and `xunit/`, and the format each must be read as.
fn native_inputs() -> Vec<(PathBuf, Format)> {
    fn walk(dir: &Path, format: Format, out: &mut Vec<(PathBuf, Format)>) {
        for entry in std::fs::read_dir(dir).expect("read corpus dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, format, out);
            } else if path.extension().is_some_and(|e| e == "xml" || e == "trx") {
                out.push((path, format));
            }
        }
    }
    let mut out = Vec::new();
    for (dir, format) in [
        ("trx", Format::Trx),
        ("nunit", Format::Nunit),
        ("xunit", Format::Xunit),
    ] {
        walk(&corpus_dir().join(dir), format, &mut out);
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn rel(path: &Path) -> String {
    path.strip_prefix(corpus_dir())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

fn sibling(input: &Path, ext: &str) -> PathBuf {
    input.with_extension(ext)
}

fn totals(cases: &[TestCase]) -> Totals {
    let count = |s: CaseStatus| cases.iter().filter(|c| c.status == s).count() as u64;
    [
        cases.len() as u64,
        count(CaseStatus::Passed),
        count(CaseStatus::Skipped),
        count(CaseStatus::Failed),
        count(CaseStatus::Errored),
    ]
}

#[test]
fn conformance_enricomi_dotnet_corpus() {
    let inputs = native_inputs();
    let (mut agreed, mut differing, mut rejected, mut accepted) = (0, 0, 0, 0);
    let mut used = Vec::new();
    let mut failures = Vec::new();
    for (input, want_format) in &inputs {
        let rel = rel(input);
        let parsed = parse_bytes(&std::fs::read(input).expect("read input"));
        if sibling(input, "exception").exists() {
            match (parsed, ACCEPTED.iter().find(|(p, _, _)| *p == rel)) {
                (Err(e), None) => {
                    assert!(!e.message.is_empty(), "{rel}: empty error message");
                    match e.location.line {
                        Some(_) => rejected += 1,
                        None => failures.push(format!("{rel}: error without a line: {e}")),
                    }
                }
                (Ok((_, cases, _)), Some((path, documented, reason))) => {
                    used.push(*path);
                    if totals(&cases) != *documented {
                        failures.push(format!(
                            "{rel}: ours {:?}, documented {documented:?} ({reason})",
                            totals(&cases)
                        ));
                    }
                    accepted += 1;
                }
                (Ok((_, cases, _)), None) => failures.push(format!(
                    "{rel}: accepted ({} cases), EnricoMi rejects it",
                    cases.len()
                )),
                (Err(e), Some(_)) => failures.push(format!("{rel}: rejected: {e}{}", e.location)),
            }
            continue;
        }
        let expected = expected_totals(&sibling(input, "results.json"));
        let (format, cases, summary) = match parsed {
            Ok(ok) => ok,
            Err(e) => {
                failures.push(format!("{rel}: rejected: {e}{}", e.location));
                continue;
            }
        };
        assert_eq!(format, *want_format, "{rel}: detected as {}", format.name());
        assert_eq!(summary.cases, cases.len() as u64, "{rel}");
        let ours = totals(&cases);
        match DIFFERENCES.iter().find(|(path, _, _)| *path == rel) {
            Some((path, documented, reason)) => {
                used.push(*path);
                if ours != *documented {
                    failures.push(format!(
                        "{rel}: ours {ours:?}, documented {documented:?} ({reason})"
                    ));
                } else if ours == expected {
                    failures.push(format!(
                        "{rel}: now agrees with EnricoMi; drop the table entry"
                    ));
                } else {
                    differing += 1;
                }
            }
            None if ours == expected => agreed += 1,
            None => failures.push(format!(
                "{rel}: ours {ours:?} != EnricoMi {expected:?} (tests, passed, skipped, failed, \
                 errored)"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "conformance failures:\n{}",
        failures.join("\n")
    );
    for (path, _, _) in DIFFERENCES.iter().chain(ACCEPTED) {
        assert!(
            used.contains(path),
            "table entry {path} matches no corpus file"
        );
    }
    assert_eq!(agreed + differing + rejected + accepted, inputs.len());
    let count = |f: Format| inputs.iter().filter(|(_, g)| *g == f).count();
    assert_eq!(
        (
            count(Format::Trx),
            count(Format::Nunit),
            count(Format::Xunit)
        ),
        (9, 24, 8),
        "corpus inputs per format"
    );
    assert_eq!(rejected, 3, "the .exception inputs but {ACCEPTED:?}");
    eprintln!(
        ".NET conformance: {} inputs: {agreed} agree, {differing} documented differences, \
         {rejected} rejected as expected, {accepted} accepted on purpose",
        inputs.len()
    );
}

/// One parsed case of a `.results` file: (class name, test name, status).
type Row = (String, String, CaseStatus);

/// The cases EnricoMi parsed, from its `.results` file (a Python repr of its
/// `ParsedUnitTestResults`: `UnitTestCase(…, class_name='…', test_name='…', result='…', …)`).
fn enricomi_cases(results: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(results).expect("read .results");
    let mut rows = Vec::new();
    for block in text.split("publish.unittestresults.UnitTestCase(").skip(1) {
        let field = |name: &str| python_string(block, &format!("\n      {name}="));
        let status = match field("result").as_deref() {
            Some("success") => CaseStatus::Passed,
            Some("skipped" | "disabled") => CaseStatus::Skipped,
            Some("failure") => CaseStatus::Failed,
            Some("error") => CaseStatus::Errored,
            other => panic!("{}: result {other:?}", results.display()),
        };
        rows.push((
            field("class_name").unwrap_or_default(),
            field("test_name").unwrap_or_default(),
            status,
        ));
    }
    rows
}

/// The value after `key`: `None`, or Python string literals (pprint splits long ones over
/// lines: `'a '\n        'b'`), joined and unescaped.
fn python_string(block: &str, key: &str) -> Option<String> {
    let mut rest = &block[block.find(key)? + key.len()..];
    if rest.starts_with("None") {
        return None;
    }
    let mut out = String::new();
    while let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let mut chars = rest[1..].char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    let (_, escaped) = chars.next().expect("escape");
                    let mut hex = |n: usize| {
                        let digits: String = (0..n).map(|_| chars.next().unwrap().1).collect();
                        char::from_u32(u32::from_str_radix(&digits, 16).unwrap()).unwrap()
                    };
                    out.push(match escaped {
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'x' => hex(2),
                        'u' => hex(4),
                        'U' => hex(8),
                        other => other,
                    });
                }
                c if c == quote => {
                    end = Some(i + 2);
                    break;
                }
                c => out.push(c),
            }
        }
        rest = rest[end.expect("closing quote")..].trim_start();
    }
    Some(out)
}

#[test]
fn cases_match_enricomi_test_by_test() {
    // Inputs where EnricoMi's names are ours (see the readers' module docs for where they are
    // not: xUnit.net theory rows and display names, TRX results without a definition).
    let inputs = [
        "trx/mstest/pickles.trx",
        "trx/nunit/FluentValidation.Tests.trx",
        "trx/nunit/NUnit-netcoreapp3.1-sample.trx",
        "trx/xunit/dotnet-trx.trx",
        "nunit/mstest/clicketyclackety.xml",
        "nunit/nunit3/jenkins/NUnit-correct.xml",
        "nunit/nunit3/jenkins/NUnit-issue44527.xml",
        "nunit/nunit3/jenkins/NUnit-issue33493.xml",
        "xunit/mstest/jenkinsci/testcase1.xml",
        "xunit/mstest/jenkinsci/testcase3.xml",
    ];
    for rel in inputs {
        let input = corpus_dir().join(rel);
        let (_, cases, _) = parse_bytes(&std::fs::read(&input).unwrap())
            .unwrap_or_else(|e| panic!("{rel}: {e}{}", e.location));
        let mut ours: Vec<Row> = cases
            .into_iter()
            .map(|c| (c.classname, c.name, c.status))
            .collect();
        let mut theirs = enricomi_cases(&sibling(&input, "results"));
        assert!(!theirs.is_empty(), "{rel}: no cases in .results");
        // EnricoMi's order is its XSLT's; the tests are the same.
        ours.sort();
        theirs.sort();
        assert_eq!(ours.len(), theirs.len(), "{rel}");
        for (o, t) in ours.iter().zip(&theirs) {
            assert_eq!(o, t, "{rel}");
        }
    }
}

#[test]
fn native_inputs_are_rejected_with_their_line() {
    for (rel, line, what) in [
        (
            "nunit/nunit3/jenkins/NUnit-issue47367.xml",
            5,
            "malformed attribute",
        ),
        (
            "nunit/nunit3/jenkins/NUnit-sec1752-file.xml",
            4,
            "declares XML entities",
        ),
        (
            "nunit/nunit3/jenkins/NUnit-sec1752-https.xml",
            4,
            "declares XML entities",
        ),
    ] {
        let e = parse_bytes(&std::fs::read(corpus_dir().join(rel)).unwrap())
            .err()
            .unwrap_or_else(|| panic!("{rel}: accepted"));
        assert!(e.message.contains(what), "{rel}: {e}");
        assert_eq!(e.location.line, Some(line), "{rel}: {e}");
    }
    // Truncated native documents: each reader says where it stopped.
    for (doc, open) in [
        (
            "<TestRun>\n<Results>\n<UnitTestResult testName=\"t\">",
            "<UnitTestResult>",
        ),
        (
            "<test-run>\n<test-suite name=\"s\">\n<test-case name=\"t\">",
            "<test-case>",
        ),
        (
            "<assemblies>\n<assembly>\n<collection>\n<test name=\"t\">",
            "<test>",
        ),
    ] {
        let e = parse_bytes(doc.as_bytes()).expect_err("truncated");
        assert!(e.message.contains("truncated"), "{e}");
        assert!(e.message.contains(open), "{e}");
        assert_eq!(e.location.line, Some(doc.lines().count() as u64), "{e}");
    }
}

const SMALL_TRX: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<TestRun id="1" name="ci" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
  <Results>
    <UnitTestResult testId="1" testName="A.B.Fails" duration="00:00:00.25" outcome="Failed">
      <Output><StdOut>[[PROPERTY|control=CC6.1]]</StdOut>
        <ErrorInfo><Message>boom &amp; more</Message><StackTrace>at A.B.Fails() in /s/B.cs:line 3</StackTrace></ErrorInfo>
      </Output>
    </UnitTestResult>
    <UnitTestResult testId="2" testName="Rows" outcome="Passed"><InnerResults>
      <UnitTestResult testId="2" testName="Rows (0)" outcome="Passed" />
    </InnerResults></UnitTestResult>
  </Results>
  <TestDefinitions>
    <UnitTest id="1"><TestCategory><TestCategoryItem TestCategory="cc6-1" /></TestCategory>
      <Properties><Property><Key>control</Key><Value>CC6.1</Value></Property></Properties>
      <Execution id="e1" /><TestMethod className="A.B, A" name="Fails" /></UnitTest>
    <UnitTest id="2"><TestMethod className="A.B" name="Rows" /></UnitTest>
  </TestDefinitions>
</TestRun>"#;

const SMALL_NUNIT3: &str = r#"<test-run id="2">
  <test-suite type="TestFixture" name="B" fullname="A.B" classname="A.B">
    <properties><property name="Category" value="cc6-1" /></properties>
    <test-case name="Fails" classname="A.B" result="Failed" label="Error" duration="0.25">
      <properties><property name="control" value="CC6.1" /></properties>
      <failure><message><![CDATA[boom]]></message><stack-trace>at A.B.Fails() in /s/B.cs:line 3</stack-trace></failure>
      <output><![CDATA[[[PROPERTY|soc2=CC6.6]]]]></output>
    </test-case>
    <test-case name="Skips" classname="A.B" result="Skipped"><reason><message>later</message></reason></test-case>
  </test-suite>
</test-run>"#;

/// Every byte of a small document of each format replaced by XML's punctuation, and every
/// prefix of it: each reader returns a result or an error with a line, never panics, and never
/// takes a document cut short for a whole one.
#[test]
fn mutated_and_truncated_native_documents_are_handled() {
    let corpus = |rel: &str| std::fs::read(corpus_dir().join(rel)).unwrap();
    let documents = [
        ("small TRX", SMALL_TRX.as_bytes().to_vec()),
        ("small NUnit 3", SMALL_NUNIT3.as_bytes().to_vec()),
        ("NUnit 2", corpus("nunit/nunit3/jenkins/NUnit-failure.xml")),
        ("xUnit.net", corpus("xunit/mstest/fixie.xml")),
    ];
    for (what, mut doc) in documents {
        let (_, cases, _) = parse_bytes(&doc).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(!cases.is_empty(), "{what}");
        for i in 0..doc.len() {
            let saved = doc[i];
            for b in [b'<', b'"', b'&', 0] {
                doc[i] = b;
                if let Err(e) = parse_bytes(&doc) {
                    assert!(e.location.line.is_some(), "{what}: byte {i}: {e}");
                }
            }
            doc[i] = saved;
        }
        // Up to the root element's last `>`, a prefix is a truncated document.
        let last = doc.iter().rposition(|&b| b == b'>').unwrap();
        for cut in 1..=last {
            let e = parse_bytes(&doc[..cut])
                .map(|(_, cases, _)| cases.len())
                .expect_err(&format!("{what}: cut at {cut} accepted"));
            assert!(e.location.line.is_some(), "{what}: cut at {cut}: {e}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Control tags: NUnit categories and xUnit.net traits
// ---------------------------------------------------------------------------------------------

#[test]
fn nunit_categories_and_xunit_traits_map_to_controls() {
    let nunit = r#"<test-run>
  <test-suite type="TestFixture" name="TokenTests" fullname="Auth.TokenTests" classname="Auth.TokenTests">
    <test-case name="Rejects_expired" classname="Auth.TokenTests" result="Passed">
      <properties><property name="Category" value="cc6-1" /><property name="Category" value="Integration" /></properties>
    </test-case>
  </test-suite>
</test-run>"#;
    let xunit = r#"<assemblies><assembly name="Auth.Tests.dll"><collection name="Auth">
  <test name="Auth.TokenTests.Rejects_expired" type="Auth.TokenTests" method="Rejects_expired" result="Pass">
    <traits><trait name="control" value="CC6.1" /></traits>
  </test>
</collection></assembly></assemblies>"#;
    let trx = r#"<TestRun name="ci"><Results>
  <UnitTestResult testId="1" testName="Rejects_expired" outcome="Passed" duration="00:00:00.01" />
</Results><TestDefinitions>
  <UnitTest id="1"><TestCategory><TestCategoryItem TestCategory="CC6.1" /></TestCategory>
    <TestMethod className="Auth.TokenTests" name="Rejects_expired" /></UnitTest>
</TestDefinitions></TestRun>"#;
    // The default configuration: `category` is a (non-strict) tag property out of the box.
    let config = controlgate::config::parse("", Path::new("c.yml")).unwrap();
    let mapper = Mapper::new(&config).unwrap();
    for (doc, format, carrier) in [
        (nunit, Format::Nunit, "property `category`"),
        (xunit, Format::Xunit, "property `control`"),
        (trx, Format::Trx, "property `category`"),
    ] {
        let (detected, cases, _) = parse_bytes(doc.as_bytes()).unwrap();
        assert_eq!(detected, format);
        assert_eq!(cases.len(), 1);
        let mapping = mapper.map(&cases[0], &[]);
        let got: Vec<String> = mapping
            .controls
            .iter()
            .map(|(id, c)| format!("{id} via {c}"))
            .collect();
        assert_eq!(got, [format!("CC6.1 via {carrier}")], "{}", format.name());
        // `Integration` is no control and `category` is not strict: ignored, not unknown.
        assert!(mapping.unknown.is_empty(), "{:?}", mapping.unknown);
    }
}
