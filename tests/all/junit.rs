//! JUnit ingest: conformance with EnricoMi's publish-unit-test-result corpus, dialect rules,
//! and rejection of bad input.

use std::path::{Path, PathBuf};

use controlgate::error::ParseError;
use controlgate::ingest::junit;
use controlgate::ingest::results::{self, Format, Summary};
use controlgate::model::{CaseStatus, Message, PropertyScope, RawProperty, TestCase};

/// Reads `xml` as a stream and from memory, in place (`junit::parse_bytes_into`, the way a
/// file is read), and requires the same answer both ways: the same cases and summary, or the
/// same error at the same line and byte.
fn parse_bytes(xml: &[u8]) -> Result<(Vec<TestCase>, Summary), ParseError> {
    let mut cases = Vec::new();
    let streamed = junit::parse(xml, 7, &mut |c| cases.push(c)).map(|s| (cases, s));
    let mut cases = Vec::new();
    let mut progress = Vec::new();
    let in_place =
        junit::parse_bytes_into(xml, 7, &mut |c| cases.push(c), &mut |n| progress.push(n))
            .map(|s| (cases, s));
    same_both_ways(&streamed, &in_place);
    check_progress(&progress, xml.len());
    streamed
}

/// Fails, showing where they part, unless the stream's and the in-place reader's answers are
/// the same (answers can be megabytes).
fn same_both_ways<T: PartialEq + std::fmt::Debug>(streamed: &T, in_place: &T) {
    if streamed == in_place {
        return;
    }
    let (a, b) = (format!("{streamed:?}"), format!("{in_place:?}"));
    let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let around = |s: &str| {
        let mut from = at.saturating_sub(300);
        while !s.is_char_boundary(from) {
            from -= 1;
        }
        let mut to = (at + 300).min(s.len());
        while !s.is_char_boundary(to) {
            to += 1;
        }
        s[from..to].to_owned()
    };
    panic!(
        "read in place, the document reads otherwise; from byte {at} of their debug forms:\n\
         streamed: …{}…\nin place: …{}…",
        around(&a),
        around(&b)
    );
}

/// Read in place, a reader tells how far it has got: forward, within the document, not for
/// every event (about every [`junit::PROGRESS_EVERY`] bytes).
pub(crate) fn check_progress(progress: &[usize], len: usize) {
    let mut last = 0;
    for &n in progress {
        assert!(n > last && n <= len, "progress {progress:?} in {len} bytes");
        last = n;
    }
    assert!(
        progress.len() <= 2 * (len / junit::PROGRESS_EVERY) + 1,
        "progress {progress:?} in {len} bytes"
    );
}

/// [`results::parse`], also read in place ([`results::parse_bytes_into`]): the same answer both
/// ways is required.
pub(crate) fn results_both_ways(
    bytes: &[u8],
    input: usize,
) -> Result<(Format, Vec<TestCase>, Summary), ParseError> {
    let mut cases = Vec::new();
    let streamed = results::parse(bytes, input, &mut |c| cases.push(c))
        .map(|(format, summary)| (format, cases, summary));
    let mut cases = Vec::new();
    let mut progress = Vec::new();
    let in_place = results::parse_bytes_into(bytes, input, &mut |c| cases.push(c), &mut |n| {
        progress.push(n)
    })
    .map(|(format, summary)| (format, cases, summary));
    same_both_ways(&streamed, &in_place);
    check_progress(&progress, bytes.len());
    streamed
}

fn parse_ok(xml: &str) -> Vec<TestCase> {
    let (cases, summary) =
        parse_bytes(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}{}", e.location));
    assert_eq!(summary.cases, cases.len() as u64);
    for case in &cases {
        assert_eq!(case.input, 7);
        assert_eq!(case.runs, 1);
    }
    cases
}

fn parse_err(xml: &[u8]) -> ParseError {
    match parse_bytes(xml) {
        Ok((cases, _)) => panic!("accepted bad input ({} cases)", cases.len()),
        Err(e) => e,
    }
}

fn statuses(cases: &[TestCase]) -> Vec<CaseStatus> {
    cases.iter().map(|c| c.status).collect()
}

fn msg(case: &TestCase) -> &str {
    case.message.as_ref().map_or("", |m| m.text.as_str())
}

// ---------------------------------------------------------------------------------------------
// Conformance: EnricoMi/publish-unit-test-result-action (vendored, see PROVENANCE.md there)
// ---------------------------------------------------------------------------------------------

/// Totals as (tests, passed, skipped, failed, errored).
pub(crate) type Totals = [u64; 5];

/// Inputs where our totals differ from EnricoMi's on purpose: our parser reports every
/// `<testcase>` element, and merging the same test seen twice is the pipeline's job (`runs`),
/// not the parser's. (path relative to the corpus, our totals, reason)
const DIFFERENCES: &[(&str, Totals, &str)] = &[
    (
        "junit-xml/no-cases-but-tests.xml",
        [1, 0, 0, 0, 1],
        "suite without testcases: EnricoMi falls back to the suite's tests=/failures= attributes; \
         we count testcase elements only (suite attributes can lie), and a suite saying it \
         failed (failures=\"1\") where no testcase did is one errored `(suite)`",
    ),
    (
        "junit-xml/no-cases-but-tests.junit-xml",
        [1, 0, 0, 0, 1],
        "same as no-cases-but-tests.xml (rendering of it)",
    ),
    (
        "xunit/mstest/jenkinsci/testcase2.junit-xml",
        [2, 1, 0, 0, 1],
        "the outer suite says failures=\"1\" and holds one passing testcase (the failing one was \
         dropped by a conversion): EnricoMi reads it green, we add an errored `(suite)`",
    ),
    (
        "nunit/nunit3/jenkins/NUnit-simple.junit-xml",
        [3, 2, 0, 0, 1],
        "the root <testsuites> says failures=\"1\" over two passing testcases (its NUnit source \
         says total=\"4\" failures=\"1\" and holds two: the failing test was cut from the \
         file): EnricoMi reads it green, we add an errored `(testsuites)`",
    ),
    (
        "nunit/nunit3/jenkins/NUnit-multinamespace.junit-xml",
        [5, 4, 0, 0, 1],
        "same as NUnit-simple.junit-xml: the root says failures=\"1\", no testcase failed",
    ),
    (
        "junit-xml/mocha/latex-utensils.xml",
        [109, 109, 0, 0, 0],
        "8 duplicate classname+name testcases: EnricoMi counts unique tests, we report each element",
    ),
    (
        "junit-xml/mocha/latex-utensils.junit-xml",
        [109, 109, 0, 0, 0],
        "same as latex-utensils.xml (rendering of it)",
    ),
    (
        "xunit/mstest/pickles.junit-xml",
        [4, 3, 0, 1, 0],
        "1 duplicate classname+name testcase: EnricoMi counts unique tests",
    ),
    (
        "xunit/mstest/fixie.junit-xml",
        [7, 3, 1, 3, 0],
        "2 duplicate classname+name testcases: EnricoMi counts unique tests",
    ),
    (
        "nunit/nunit3/jenkins/NUnit-correct2.junit-xml",
        [218, 218, 0, 0, 0],
        "35 duplicate parameterised testcases: EnricoMi counts unique tests",
    ),
];

/// Our totals for corpus input `rel` against EnricoMi's `expected`, given the documented
/// `differences` (path, our totals, reason): `Ok(true)` when they agree, `Ok(false)` for a
/// documented difference (its path added to `used`), `Err` saying what is wrong otherwise.
pub(crate) fn judge(
    rel: &str,
    ours: Totals,
    expected: Totals,
    differences: &[(&'static str, Totals, &str)],
    used: &mut Vec<&'static str>,
) -> Result<bool, String> {
    match differences.iter().find(|(path, _, _)| *path == rel) {
        Some((path, documented, reason)) => {
            used.push(path);
            if ours != *documented {
                Err(format!(
                    "{rel}: ours {ours:?}, documented {documented:?} ({reason})"
                ))
            } else if ours == expected {
                Err(format!(
                    "{rel}: now agrees with EnricoMi; drop the table entry"
                ))
            } else {
                Ok(false)
            }
        }
        None if ours == expected => Ok(true),
        None => Err(format!(
            "{rel}: ours {ours:?} != EnricoMi {expected:?} (tests, passed, skipped, failed, errored)"
        )),
    }
}

pub(crate) fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit/enricomi")
}

/// The JUnit inputs: every `.junit-xml` rendering, and the `.xml` files outside `trx/`,
/// `nunit/` and `xunit/` (those are TRX, NUnit and xUnit.net documents, read by their own
/// readers in `tests/all/results_dotnet.rs`).
fn collect_inputs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read corpus dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            collect_inputs(&path, out);
        } else {
            let name = path.file_name().unwrap().to_string_lossy();
            let native = path
                .strip_prefix(corpus_dir())
                .is_ok_and(|rel| ["trx", "nunit", "xunit"].iter().any(|d| rel.starts_with(d)));
            if name.ends_with(".junit-xml") || (name.ends_with(".xml") && !native) {
                out.push(path);
            }
        }
    }
}

fn sibling(input: &Path, ext: &str) -> PathBuf {
    let name = input.file_name().unwrap().to_string_lossy();
    let stem = name
        .strip_suffix(".junit-xml")
        .or_else(|| name.strip_suffix(".xml"))
        .unwrap();
    input.with_file_name(format!("{stem}.{ext}"))
}

/// EnricoMi's totals for an input, from its `.results.json`.
pub(crate) fn expected_totals(results_json: &Path) -> Totals {
    let text = std::fs::read_to_string(results_json).expect("read .results.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("parse .results.json");
    let stats = &json["stats"];
    let n = |k: &str| {
        stats[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{}: stats.{k}", results_json.display()))
    };
    [
        n("tests"),
        n("tests_succ"),
        n("tests_skip"),
        n("tests_fail"),
        n("tests_error"),
    ]
}

#[test]
fn conformance_enricomi_corpus() {
    let root = corpus_dir();
    let mut inputs = Vec::new();
    collect_inputs(&root, &mut inputs);
    inputs.sort();

    let (mut agreed, mut differing, mut rejected, mut covered) = (0, 0, 0, 0);
    let mut used = Vec::new();
    let mut failures = Vec::new();
    for input in &inputs {
        let rel = input
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(input).expect("read input");
        let parsed = parse_bytes(&bytes);
        let is_xml = rel.ends_with(".xml");
        if is_xml && sibling(input, "exception").exists() {
            match parsed {
                Ok((cases, _)) => failures.push(format!(
                    "{rel}: accepted ({} cases), must be rejected",
                    cases.len()
                )),
                Err(e) => {
                    assert!(!e.message.is_empty(), "{rel}: empty error message");
                    assert!(e.location.line.is_some(), "{rel}: error without line: {e}");
                    rejected += 1;
                }
            }
            covered += 1;
            continue;
        }
        let results = sibling(input, "results.json");
        assert!(
            results.exists(),
            "{rel}: no .results.json golden next to it"
        );
        let expected = expected_totals(&results);
        let (cases, summary) = match parsed {
            Ok(ok) => ok,
            Err(e) => {
                failures.push(format!("{rel}: rejected: {e}{}", e.location));
                covered += 1;
                continue;
            }
        };
        assert_eq!(summary.cases, cases.len() as u64, "{rel}");
        let count = |s: CaseStatus| cases.iter().filter(|c| c.status == s).count() as u64;
        let ours = [
            cases.len() as u64,
            count(CaseStatus::Passed),
            count(CaseStatus::Skipped),
            count(CaseStatus::Failed),
            count(CaseStatus::Errored),
        ];
        covered += 1;
        match judge(&rel, ours, expected, DIFFERENCES, &mut used) {
            Ok(true) => agreed += 1,
            Ok(false) => differing += 1,
            Err(failure) => failures.push(failure),
        }
    }
    assert!(
        failures.is_empty(),
        "conformance failures:\n{}",
        failures.join("\n")
    );
    for (path, _, _) in DIFFERENCES {
        assert!(
            used.contains(path),
            "table entry {path} matches no corpus file"
        );
    }
    assert_eq!(covered, inputs.len());
    assert_eq!(agreed + differing + rejected, inputs.len());
    assert!(inputs.len() > 50, "corpus has only {} inputs", inputs.len());
    assert!(
        rejected >= 4,
        "expected the 4 JUnit .exception inputs to be covered, got {rejected}"
    );
    eprintln!(
        "JUnit conformance: {} inputs: {agreed} agree, {differing} documented differences, {rejected} rejected as expected",
        inputs.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Dialect rules
// ---------------------------------------------------------------------------------------------

#[test]
fn multiresult_most_severe_wins() {
    let cases = parse_ok(
        r#"<testsuites><testsuite name="s">
        <testcase classname="c" name="errors"><skipped/><failure message="f">F</failure><error message="teardown">E</error></testcase>
        <testcase classname="c" name="fails"><skipped message="skip"/><failure message="test failure">Assertion failed</failure></testcase>
        <testcase classname="c" name="error-first"><error message="boom"/><failure message="later"/></testcase>
        <testcase classname="c" name="skipped"><skipped/></testcase>
        <testcase classname="c" name="passes"/>
        </testsuite></testsuites>"#,
    );
    use CaseStatus::*;
    assert_eq!(
        statuses(&cases),
        [Errored, Failed, Errored, Skipped, Passed]
    );
    assert_eq!(msg(&cases[0]), "teardown\nE");
    assert_eq!(msg(&cases[1]), "test failure\nAssertion failed");
    assert_eq!(msg(&cases[2]), "boom");
    assert_eq!(cases[3].message, None);
    assert!(
        cases
            .iter()
            .all(|c| c.suite == "s" && c.classname == "c" && !c.flaky)
    );
}

#[test]
fn surefire_flaky_and_rerun() {
    let cases = parse_ok(
        r#"<testsuite name="surefire">
        <testcase classname="a.B" name="flaky" time="1.5"><flakyFailure message="first try" type="java.lang.AssertionError">stack</flakyFailure></testcase>
        <testcase classname="a.B" name="flakyError"><flakyError message="io"/><flakyError message="io2"/></testcase>
        <testcase classname="a.B" name="rerun"><rerunFailure message="again">trace</rerunFailure></testcase>
        <testcase classname="a.B" name="both"><rerunFailure message="rerun msg"/><failure message="the failure"/></testcase>
        <testcase classname="a.B" name="rerunError"><error message="err"/><rerunError message="err again"/></testcase>
        <testcase classname="a.B" name="flaky-then-failed"><flakyFailure message="1"/><failure message="2"/></testcase>
        </testsuite>"#,
    );
    use CaseStatus::*;
    assert_eq!(
        statuses(&cases),
        [Passed, Passed, Failed, Failed, Errored, Failed]
    );
    assert_eq!(
        [
            cases[0].flaky,
            cases[1].flaky,
            cases[2].flaky,
            cases[5].flaky
        ],
        [true, true, false, false]
    );
    assert_eq!(
        msg(&cases[0]),
        "first try\nstack",
        "flaky message kept for reviewers"
    );
    assert_eq!(msg(&cases[2]), "again\ntrace");
    assert_eq!(
        msg(&cases[3]),
        "the failure",
        "<failure> wins over <rerunFailure>"
    );
    assert_eq!(msg(&cases[4]), "err");
    assert_eq!(cases[0].duration_s, 1.5);
}

#[test]
fn nested_suites_counted_recursively() {
    let (cases, summary) = parse_bytes(
        br#"<?xml version="1.0"?>
        <testsuites tests="0">
          <testsuite name="outer" tests="0">
            <properties><property name="owner" value="team-a"/></properties>
            <testsuite name="inner">
              <properties><property name="control" value="CC6.1"/></properties>
              <testcase name="t1"/>
            </testsuite>
            <testcase name="t2"/>
          </testsuite>
          <testsuite name="other"><testcase name="t3"/></testsuite>
        </testsuites>"#,
    )
    .unwrap();
    assert_eq!(summary.cases, 3);
    assert_eq!(summary.suites, 3);
    let suites: Vec<_> = cases
        .iter()
        .map(|c| (c.name.as_str(), c.suite.as_str()))
        .collect();
    assert_eq!(suites, [("t1", "inner"), ("t2", "outer"), ("t3", "other")]);
    let names = |c: &TestCase| {
        c.properties
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&cases[0]), ["owner", "control"]);
    assert_eq!(
        names(&cases[1]),
        ["owner"],
        "inner suite properties end with the inner suite"
    );
    assert!(cases[2].properties.is_empty());
    assert!(
        cases[0]
            .properties
            .iter()
            .all(|p| p.scope == PropertyScope::Suite)
    );
}

#[test]
fn bare_testsuite_root_and_namespaces() {
    let cases = parse_ok(
        r#"<testsuite name="only"><testcase classname="k" name="a"/><testcase class="K2" name="b"/></testsuite>"#,
    );
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0].suite, "only");
    assert_eq!(
        cases[1].classname, "K2",
        "`class` attribute used when `classname` is absent"
    );
    let cases = parse_ok(
        r#"<x:testsuites xmlns:x="urn:x"><x:testsuite name="n"><x:testcase name="c"/></x:testsuite></x:testsuites>"#,
    );
    assert_eq!(cases.len(), 1);
    let cases = parse_ok("<testsuites/>");
    assert!(cases.is_empty());
}

#[test]
fn bom_is_skipped() {
    let mut xml = b"\xEF\xBB\xBF".to_vec();
    xml.extend_from_slice(br#"<?xml version="1.0" encoding="UTF-8"?><testsuite name="s"><testcase name="t"/></testsuite>"#);
    let (cases, _) = parse_bytes(&xml).unwrap();
    assert_eq!(cases[0].name, "t");
}

#[test]
fn invalid_control_characters_are_dropped() {
    let xml = "<testsuite name=\"s\x01\"><testcase name=\"te\x1bst&#x1B;\" classname=\"c&#0;\">\
               <failure message=\"bad\x02 msg\">body\x00 &#x8; text &#xFFFF;</failure></testcase></testsuite>";
    let cases = parse_ok(xml);
    assert_eq!(cases[0].suite, "s");
    assert_eq!(cases[0].name, "test");
    assert_eq!(cases[0].classname, "c");
    assert_eq!(msg(&cases[0]), "bad msg\nbody  text");
    let cases = parse_ok("<testsuite><testcase name=\"a\u{FFFE}b\u{FEFF}\tc\"/></testsuite>");
    assert_eq!(
        cases[0].name, "ab\u{FEFF} c",
        "U+FFFE dropped, U+FEFF kept, a literal tab normalised to a space (XML 1.0 §3.3.3)"
    );
    // Invalid UTF-8 is replaced, not fatal.
    let cases = parse_bytes(b"<testsuite><testcase name=\"a\xff\"/></testsuite>")
        .unwrap()
        .0;
    assert_eq!(cases[0].name, "a\u{FFFD}");
}

#[test]
fn entities_are_decoded() {
    let cases = parse_ok(
        r#"<testsuite><testcase name="a &amp; &quot;b&quot; &#65;&#x42;"><failure message="x &lt; y">1 &gt; 0 &#160; &amp;</failure></testcase></testsuite>"#,
    );
    assert_eq!(cases[0].name, r#"a & "b" AB"#);
    assert_eq!(msg(&cases[0]), "x < y\n1 > 0 \u{a0} &");
    // An undefined entity (`&nbsp;` is HTML's) is an error, see
    // `xml_that_is_not_well_formed_is_rejected_with_its_line`.
}

#[test]
fn properties_case_suite_and_system_out() {
    let cases = parse_ok(
        r#"<testsuites><testsuite name="s">
          <properties><property name="suite.tag" value="CC7.2"/><property name="java.version" value="21"/></properties>
          <testcase name="t">
            <properties>
              <property name="control" value="CC6.1"/>
              <property name="description">multi &amp; text</property>
              <property value="no name"/>
            </properties>
            <system-out>log line
[[PROPERTY|control=CC8.1]]
  [[PROPERTY|owner = team b]] trailing
[[ATTACHMENT|/tmp/x.png]]
[[PROPERTY|broken
</system-out>
            <system-err>[[PROPERTY|ignored=1]]</system-err>
          </testcase>
          <testcase name="u"/>
        </testsuite></testsuites>"#,
    );
    let p = |name: &str, value: &str, scope| RawProperty {
        name: name.into(),
        value: value.into(),
        scope,
    };
    use PropertyScope::*;
    assert_eq!(
        cases[0].properties,
        [
            p("control", "CC6.1", Case),
            p("description", "multi & text", Case),
            p("control", "CC8.1", SystemOut),
            p("owner", "team b", SystemOut),
            p("suite.tag", "CC7.2", Suite),
        ],
        "java.* system properties are not inherited"
    );
    assert_eq!(cases[1].properties, [p("suite.tag", "CC7.2", Suite)]);
    assert_eq!(cases[0].message, None, "system-out is not a message");
}

/// Output text no marker is being read in is stepped over when read in place, references and
/// all: it reads as the stream reads it (cases, markers, messages, errors and their lines),
/// whatever follows — a marker, one begun with a character reference, a marker line after
/// references, a marker begun before a comment and ended after it, log lines in brackets, a
/// failure's text, or a reference that is not well-formed.
#[test]
fn outputs_stepped_over_read_as_the_stream_reads_them() {
    let ok = r#"<testsuite><testcase name="t"><system-out>a &lt;b&gt; &amp; c &apos;d&quot;
[[PROPERTY|one=1]]
x &lt;y&gt;
&#91;[PROPERTY|two=2]]
z &amp; [[PROPERTY|three=&lt;3&gt;]]
</system-out><system-err>&lt;&gt;</system-err></testcase>
<testcase name="v"><system-out>[INFO] &lt;ok&gt; [x]
[[PROP<!-- split -->ERTY|four=4]]
</system-out></testcase>
<testcase name="w"><system-out>[DEBUG] &lt;ok&gt;
[[<!-- split -->PROPERTY|five=5]] &amp;
</system-out></testcase>
<testcase name="u"><system-out>&lt;no markers&gt;
</system-out><failure message="m">trace &lt;x&gt; at t.py:3</failure></testcase></testsuite>"#;
    let (_, cases, _) = results_both_ways(ok.as_bytes(), 7).unwrap();
    let markers: Vec<(&str, &str)> = cases
        .iter()
        .flat_map(|c| &c.properties)
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        markers,
        [("one", "1"), ("three", "<3>"), ("four", "4"), ("five", "5")]
    );
    assert_eq!(msg(&cases[3]), "m\ntrace <x> at t.py:3");
    for (bad, says) in [
        ("a &lt; &nbsp; b", "&nbsp;"),
        ("a &lt; & b", "&"),
        ("a &lt; &#xD800; b", "&#xD800;"),
        ("a &lt;\n&ltx b", "&"),
    ] {
        let doc = format!(
            "<testsuite><testcase name=\"t\"><system-out>x\n{bad}\n</system-out></testcase></testsuite>"
        );
        let e = results_both_ways(doc.as_bytes(), 0).unwrap_err();
        assert!(e.message.contains(says), "{bad}: {e}");
        assert!(e.location.line.is_some(), "{bad}: {e}");
    }
}

#[test]
fn system_out_property_split_by_entities_and_without_newline() {
    let cases = parse_ok(
        r#"<testsuite><testcase name="t"><system-out>[[PROPERTY|k=a&amp;b]]</system-out></testcase></testsuite>"#,
    );
    assert_eq!(
        cases[0].properties,
        [RawProperty {
            name: "k".into(),
            value: "a&b".into(),
            scope: PropertyScope::SystemOut
        }]
    );
}

#[test]
fn file_and_line_from_failure_text() {
    let cases = parse_ok(
        r#"<testsuite>
        <testcase classname="tests.test_x" name="pytest"><failure message="AssertionError: assert 1 == 2">def test_x():
&gt;       assert 1 == 2
E       assert 1 == 2

tests/test_x.py:42: AssertionError</failure></testcase>
        <testcase classname="crate::mod" name="nextest"><failure message="thread 'mod::t' panicked at src/x.rs:12:5">thread 'mod::t' panicked at src/x.rs:12:5:
assertion failed
note: run with `RUST_BACKTRACE=1`</failure></testcase>
        <testcase classname="sum" name="jest"><failure>Error: expect(received).toBe(expected)
    at Object.toBe (/home/ci/proj/node_modules/expect/build/index.js:5:1)
    at Object.&lt;anonymous&gt; (src/sum.test.js:7:17)</failure></testcase>
        <testcase classname="a.FooTest" name="java"><failure message="boom">java.lang.AssertionError: boom
	at a.FooTest.test(FooTest.java:123)</failure></testcase>
        <testcase classname="c" name="attrs" file="src/real.py" line="9"><failure>other/file.py:1: boom</failure></testcase>
        <testcase classname="c" name="file-attr-only" file="tests/test_y.py"><failure>tests/test_y.py:77: boom</failure></testcase>
        </testsuite>"#,
    );
    // The report's own file/line (identity) and the location found in the text (annotations)
    // are kept apart.
    let attrs: Vec<_> = cases.iter().map(|c| (c.file.as_deref(), c.line)).collect();
    assert_eq!(
        attrs,
        [
            (None, None),
            (None, None),
            (None, None),
            (None, None),
            (Some("src/real.py"), Some(9)),
            (Some("tests/test_y.py"), None),
        ]
    );
    let found: Vec<_> = cases
        .iter()
        .map(|c| c.location.as_ref().map(|l| (l.file.as_str(), l.line)))
        .collect();
    assert_eq!(
        found,
        [
            Some(("tests/test_x.py", 42)),
            Some(("src/x.rs", 12)),
            Some(("src/sum.test.js", 7)),
            None,
            None,
            Some(("tests/test_y.py", 77)),
        ]
    );
    let annotated: Vec<_> = cases.iter().map(|c| c.annotation_location()).collect();
    assert_eq!(
        annotated,
        [
            Some(("tests/test_x.py", Some(42))),
            Some(("src/x.rs", Some(12))),
            Some(("src/sum.test.js", Some(7))),
            None,
            Some(("src/real.py", Some(9))),
            Some(("tests/test_y.py", Some(77))),
        ]
    );
    // jest-junit: no message attribute, the element text is the message.
    assert!(msg(&cases[2]).starts_with("Error: expect(received).toBe(expected)"));
    assert_eq!(
        cases[2].message.as_ref().unwrap().first_line(),
        "Error: expect(received).toBe(expected)"
    );
}

#[test]
fn status_attribute_disabled_is_skipped() {
    let cases = parse_ok(
        r#"<testsuite><testcase name="a" status="disabled"/><testcase name="b" status="run" result="skipped"/><testcase name="c" status="run"/><testcase name="d" status="disabled"><failure/></testcase></testsuite>"#,
    );
    use CaseStatus::*;
    assert_eq!(statuses(&cases), [Skipped, Skipped, Passed, Failed]);
}

#[test]
fn messages_are_bounded() {
    let big = "x".repeat(10 * 1024 * 1024);
    let xml = format!(
        r#"<testsuite><testcase name="t"><failure message="{big}">{big}</failure></testcase></testsuite>"#
    );
    let cases = parse_ok(&xml);
    let m = cases[0].message.as_ref().unwrap();
    // The parser keeps twice the limit: redaction sees a secret the report's cut goes
    // through whole (the report keeps `Message::LIMIT`, see hardening).
    assert_eq!(m.text.len(), Message::KEPT);
    assert!(m.truncated());
    assert_eq!(m.original_len, 2 * big.len() + 1);
}

#[test]
fn ten_megabyte_attribute_is_accepted() {
    let big = "y".repeat(10 * 1024 * 1024);
    let xml = format!(
        r#"<testsuites><testsuite name="s" junk="{big}"><testcase name="t" other="{big}"/></testsuite></testsuites>"#
    );
    let cases = parse_ok(&xml);
    assert_eq!(cases[0].name, "t");
    let xml = format!(r#"<testsuite><testcase name="{big}"/></testsuite>"#);
    let cases = parse_ok(&xml);
    assert_eq!(cases[0].name.len(), junit::MAX_STRING, "names are bounded");
}

/// A document of several megabytes (where a file is read in place and its progress heard)
/// reads the same both ways, broken or not, and so does a `go test -json` stream of that size
/// (read as a stream over the bytes, with the same progress).
#[test]
fn a_large_document_reads_the_same_in_place_and_tells_its_progress() {
    let mut doc = String::from("<?xml version=\"1.0\"?>\n<testsuites>\n");
    let mut go = String::new();
    for suite in 0..120 {
        doc.push_str(&format!(
            "<testsuite name=\"s{suite}\"><properties><property name=\"tag\" value=\"cc6-1\"/></properties>\n"
        ));
        for case in 0..300 {
            doc.push_str(&format!(
                "<testcase classname=\"c.C{suite}\" name=\"t{case} &amp; more\" time=\"0.{case:03}\">"
            ));
            match case % 5 {
                0 => doc.push_str("<failure message=\"boom\">at x.rs:12 &lt;here&gt;</failure>"),
                1 => doc.push_str(
                    "<system-out>[[PROPERTY|control=cc8-1]]\nlog &amp; more</system-out>",
                ),
                2 => doc.push_str("<skipped/>"),
                _ => {}
            }
            doc.push_str("</testcase>\n");
            go.push_str(&format!(
                "{{\"Action\":\"{}\",\"Package\":\"p/s{suite}\",\"Test\":\"Test{case}\",\"Elapsed\":0.01}}\n",
                if case % 4 == 0 { "fail" } else { "pass" }
            ));
        }
        doc.push_str("</testsuite>\n");
        go.push_str(&format!(
            "{{\"Action\":\"fail\",\"Package\":\"p/s{suite}\",\"Elapsed\":1}}\n"
        ));
    }
    doc.push_str("</testsuites>\n");
    assert!(
        doc.len() > 3 * junit::PROGRESS_EVERY && go.len() > 2 * junit::PROGRESS_EVERY,
        "{} {}",
        doc.len(),
        go.len()
    );
    let (cases, _) = parse_bytes(doc.as_bytes()).unwrap();
    assert_eq!(cases.len(), 36_000);
    let mut progress = Vec::new();
    junit::parse_bytes_into(doc.as_bytes(), 0, &mut |_| {}, &mut |n| progress.push(n)).unwrap();
    assert!(progress.len() >= 3, "{progress:?}");
    // Broken near the end: the same error both ways, with its line.
    let at = doc.rfind("t299 &amp;").unwrap();
    let broken = format!("{}t299 &nbsp;{}", &doc[..at], &doc[at + 10..]);
    let e = parse_bytes(broken.as_bytes()).unwrap_err();
    let line = doc[..at].matches('\n').count() as u64 + 1;
    assert_eq!(e.location.line, Some(line), "{e}");
    assert!(e.message.contains("&nbsp;"), "{e}");
    let (format, cases, _) = results_both_ways(go.as_bytes(), 0).unwrap();
    assert_eq!((format, cases.len()), (Format::GoTest, 36_000));
    let mut progress = Vec::new();
    results::parse_bytes_into(go.as_bytes(), 0, &mut |_| {}, &mut |n| progress.push(n)).unwrap();
    assert!(progress.len() >= 2, "{progress:?}");
}

/// Text nodes of megabytes (a captured output, a failure's trace, a CDATA section; lines of
/// multi-byte characters, one line longer than the piece size, invalid characters, CRLF) are
/// read in place in pieces as they are passed: the same cases, messages, lengths and markers
/// as the stream reader's, and progress heard inside each node.
#[test]
fn huge_text_nodes_read_the_same_in_pieces() {
    let line = "ünïcødé € log line \u{1} with [[PROPERTY|control=cc6-1]] and more ✓\r\n";
    let output = line.repeat(5 << 20 >> 6);
    let long_line = "é".repeat(1_500_000);
    let trace = format!(
        "{}\nat tests/x.rs:42\n{long_line}\n\u{2}tail",
        "Ω trace line\n".repeat(200_000)
    );
    let cdata = "<not markup> & ∑ \u{3}\n".repeat(100_000);
    let doc = format!(
        "<testsuite name=\"s\">\
         <testcase classname=\"c\" name=\"out\"><system-out>{output}</system-out></testcase>\
         <testcase classname=\"c\" name=\"failed\"><failure message=\"m\">{trace}</failure></testcase>\
         <testcase classname=\"c\" name=\"errored\"><error><![CDATA[{cdata}]]></error></testcase>\
         <testcase classname=\"c\" name=\"long\"><system-out>{long_line}[[PROPERTY|tag=a1-2]]</system-out></testcase>\
         </testsuite>"
    );
    let (cases, summary) = parse_bytes(doc.as_bytes()).unwrap();
    assert_eq!(cases.len(), 4);
    let markers = |c: &TestCase| {
        c.properties
            .iter()
            .filter(|p| p.scope == PropertyScope::SystemOut)
            .count()
    };
    // Every line's marker is found (the first are kept, the rest counted).
    let lines = 5 << 20 >> 6;
    assert_eq!(markers(&cases[0]), junit::MAX_CASE_PROPERTIES);
    assert_eq!(
        summary.case_properties_dropped,
        (lines - junit::MAX_CASE_PROPERTIES) as u64
    );
    assert_eq!(markers(&cases[3]), 1);
    let message = cases[1].message.as_ref().unwrap();
    assert!(message.text.starts_with("m"), "{}", &message.text[..40]);
    // Runs broken by a reference and by an element (mixed content) read as the stream reads
    // them, and so do documents that end or go wrong after megabytes of text: truncated inside
    // a run, a CDATA section never closed, an undefined entity after a run.
    let mixed = format!(
        "<testsuite><testcase name=\"t\"><system-out>{output}&amp;{output}<b/>{output}</system-out>\
         <failure>{trace}&lt;{trace}</failure></testcase></testsuite>"
    );
    let (_, summary) = parse_bytes(mixed.as_bytes()).unwrap();
    assert_eq!(
        summary.case_properties_dropped,
        (3 * lines - junit::MAX_CASE_PROPERTIES) as u64
    );
    let cut = doc.find(&trace).unwrap() + trace.len() / 2;
    let unclosed = doc.replacen("]]></error>", "]]</error>", 1);
    let bad_entity = doc.replacen("</failure>", "&nbsp;</failure>", 1);
    for (what, broken, says) in [
        ("truncated inside a run", &doc[..cut], "truncated"),
        ("CDATA never closed", &unclosed[..], "CDATA not closed"),
        ("an undefined entity after a run", &bad_entity[..], "&nbsp;"),
    ] {
        let e = parse_bytes(broken.as_bytes()).unwrap_err();
        assert!(e.message.contains(says), "{what}: {e}");
    }
    // The other XML formats share the reader: an xUnit.net trace of megabytes too.
    let xunit = format!(
        "<assemblies><assembly name=\"a\"><collection name=\"c\">\
         <test name=\"c.T\" type=\"c\" method=\"T\" result=\"Fail\" time=\"0.1\">\
         <failure><message>{trace}</message><stack-trace><![CDATA[{cdata}]]></stack-trace></failure>\
         <output>{output}</output></test></collection></assembly></assemblies>"
    );
    let (format, cases, _) = results_both_ways(xunit.as_bytes(), 0).unwrap();
    assert_eq!((format, cases.len()), (Format::Xunit, 1));
    let mut progress = Vec::new();
    junit::parse_bytes_into(doc.as_bytes(), 0, &mut |_| {}, &mut |n| progress.push(n)).unwrap();
    // Every node's pieces are heard, not only the boundaries between elements.
    assert!(
        progress.len() * junit::PROGRESS_EVERY >= doc.len() - 4 * junit::PROGRESS_EVERY,
        "{progress:?}"
    );
}

#[test]
fn cut_at_every_byte_never_panics() {
    let doc = std::fs::read(corpus_dir().join("junit-xml/junit.multiresult.xml")).unwrap();
    for end in 0..doc.len() {
        let _ = parse_bytes(&doc[..end]);
    }
    let mut doc = doc;
    for i in (0..doc.len()).step_by(7) {
        let saved = doc[i];
        doc[i] = b"<>&\"'\x00/"[i % 7];
        let _ = parse_bytes(&doc);
        doc[i] = saved;
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input → ParseError
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_input_is_rejected() {
    let e = parse_err(b"");
    assert!(e.message.contains("empty input"), "{e}");
    assert!(e.message.contains("<testsuites>"), "{e}");
    assert_eq!(e.location.line, Some(1));
    let e = parse_err(b"  \n\n ");
    assert!(e.message.contains("root element"), "{e}");
    assert_eq!(e.location.line, Some(3));
}

#[test]
fn non_xml_is_rejected() {
    let e = parse_err(b"This is not an xml file");
    assert!(e.message.contains("not a JUnit XML document"), "{e}");
    assert!(e.message.contains("<testsuites> or <testsuite>"), "{e}");
    assert_eq!(e.location.line, Some(1));
    let e = parse_err(b"{\"tests\": []}\n");
    assert!(e.message.contains("expected"), "{e}");
    let e = parse_err(b"\x00\x01\x02binary");
    assert!(e.location.line.is_some(), "{e}");
}

#[test]
fn wrong_root_is_rejected() {
    let e = parse_err(b"<?xml version=\"1.0\"?>\n<html><body>hi</body></html>");
    assert!(
        e.message
            .contains("expected a <testsuites> or <testsuite> root element, found <html>"),
        "{e}"
    );
    assert_eq!(e.location.line, Some(2));
    let e = parse_err(b"<?xml version=\"1.0\"?>\n<!-- cobertura -->\n<coverage line-rate=\"1\"/>");
    assert!(e.message.contains("found <coverage>"), "{e}");
    assert_eq!(e.location.line, Some(3));
}

#[test]
fn truncated_xml_is_rejected() {
    let e = parse_err(b"<testsuites>\n<testsuite name=\"s\">\n<testcase name=\"a\">\n<skipped");
    assert!(e.location.line.is_some(), "{e}");
    assert_eq!(e.location.line, Some(4), "{e}");
    let e = parse_err(b"<testsuites>\n<testsuite name=\"s\">\n<testcase name=\"a\"/>\n");
    assert!(e.message.contains("truncated"), "{e}");
    assert!(e.message.contains("<testsuite>"), "{e}");
    assert_eq!(e.location.line, Some(4));
    let e = parse_err(b"<testsuites>\n<testsuite>\n</testsuites>");
    assert!(e.message.contains("malformed XML"), "{e}");
    assert_eq!(e.location.line, Some(3));
}

#[test]
fn entity_declarations_are_rejected() {
    let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<testsuites><testsuite><testcase name="&lol9;"/></testsuite></testsuites>"#;
    let e = parse_err(laughs);
    assert!(e.message.contains("declares XML entities"), "{e}");
    assert_eq!(e.location.line, Some(7));
    let xxe = br#"<!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><testsuite><testcase name="&xxe;"/></testsuite>"#;
    assert!(parse_err(xxe).message.contains("entities"));
    // A DOCTYPE without entity declarations is harmless; a reference to an entity it does not
    // declare is an error, never expanded nor kept.
    let cases = parse_ok(
        r#"<!DOCTYPE testsuites><testsuites><testsuite><testcase name="t"/></testsuite></testsuites>"#,
    );
    assert_eq!(cases[0].name, "t");
    let e = parse_err(
        br#"<!DOCTYPE testsuites><testsuites><testsuite><testcase name="&xxe;"/></testsuite></testsuites>"#,
    );
    assert!(
        e.message.contains("undefined entity reference `&xxe;`"),
        "{e}"
    );
}

#[test]
fn deep_nesting_is_rejected() {
    let depth = junit::MAX_DEPTH + 1;
    let xml = format!(
        "<testsuites>{}{}</testsuites>",
        "<testsuite>".repeat(depth),
        "</testsuite>".repeat(depth)
    );
    let e = parse_err(xml.as_bytes());
    assert!(e.message.contains("nested deeper than"), "{e}");
    let ok = format!(
        "<testsuites>{}<testcase name=\"deep\"/>{}</testsuites>",
        "<testsuite name=\"n\">".repeat(100),
        "</testsuite>".repeat(100)
    );
    assert_eq!(parse_ok(&ok).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Well-formed XML or an error (issue 14, item 3)
// ---------------------------------------------------------------------------------------------

/// Each input breaks one XML 1.0 well-formedness rule an XML processor enforces; each is
/// rejected with the line it is on.
#[test]
fn xml_that_is_not_well_formed_is_rejected_with_its_line() {
    let cases: &[(&str, &[u8], u64, &str)] = &[
        (
            "`<` in an attribute value",
            b"<testsuites>\n<testsuite name=\"a<b\">\n</testsuite>\n</testsuites>\n",
            2,
            "`<`",
        ),
        (
            "bare `&` in an attribute value",
            b"<testsuites>\n<testsuite name=\"s\">\n<testcase name=\"a & b\"/>\n</testsuite>\n</testsuites>\n",
            3,
            "`&`",
        ),
        (
            "bare `&` in an attribute the reader does not use",
            b"<testsuites>\n<testsuite name=\"s\" hostname=\"a&b\">\n</testsuite>\n</testsuites>\n",
            2,
            "`&`",
        ),
        (
            "undefined entity in an attribute value",
            b"<testsuites>\n<testsuite name=\"s\">\n<testcase name=\"a&nbsp;b\"/>\n</testsuite>\n</testsuites>\n",
            3,
            "&nbsp;",
        ),
        (
            "undefined entity in text",
            b"<testsuite>\n<testcase name=\"t\">\n<failure>x &nbsp; y</failure>\n</testcase>\n</testsuite>\n",
            3,
            "&nbsp;",
        ),
        (
            "bare `&` in text",
            b"<testsuite>\n<testcase name=\"t\">\n<failure>x & y</failure>\n</testcase>\n</testsuite>\n",
            3,
            "&",
        ),
        (
            "text after the root element",
            b"<testsuites>\n<testsuite name=\"s\"/>\n</testsuites>\nPASS 3 tests\n",
            4,
            "after the root element",
        ),
        (
            "undefined entity after the root element",
            b"<testsuites/>\n&foo;\n",
            2,
            "after the root element",
        ),
    ];
    let mut wrong = Vec::new();
    for (what, xml, line, needle) in cases {
        match parse_bytes(xml) {
            Ok((cases, _)) => wrong.push(format!("{what}: accepted ({} cases)", cases.len())),
            Err(e) if e.location.line != Some(*line) || !e.message.contains(needle) => {
                wrong.push(format!("{what}: {e} (line {:?})", e.location.line))
            }
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// XML 1.0 §3.3.3: a literal TAB, LF or CR (CRLF counting as one, §2.11) in an attribute value
/// is a space; a character reference keeps the character it names.
#[test]
fn attribute_values_are_normalised_as_xml_requires() {
    let xml = "<testsuite name=\"s\tuite\">\
               <testcase classname=\"c\" name=\"a\nb\"/>\
               <testcase classname=\"c\" name=\"a\r\nb\"/>\
               <testcase classname=\"c\" name=\"a\rb\"/>\
               <testcase classname=\"c\" name=\"a\tb\"/>\
               <testcase classname=\"c\" name=\"a b\"/>\
               <testcase classname=\"c\" name=\"a&#10;b\"/>\
               <testcase classname=\"c\" name=\"a&#9;b&#13;\"/>\
               <testcase classname=\"c\" name=\"t\"><failure message=\"line1\nline2\"/></testcase>\
               </testsuite>";
    let cases = parse_ok(xml);
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["a b", "a b", "a b", "a b", "a b", "a\nb", "a\tb\r", "t"]
    );
    assert_eq!(cases[0].suite, "s uite");
    assert_eq!(msg(&cases[7]), "line1 line2");
}

/// `name="a\nb"` and `name="a b"` are one test to an XML processor, so they are one test here.
#[test]
fn a_newline_in_a_name_does_not_make_a_second_test() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.xml"),
        "<testsuite><testcase classname=\"c\" name=\"a\nb\"><failure message=\"x\"/></testcase></testsuite>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.xml"),
        "<testsuite><testcase classname=\"c\" name=\"a b\"/></testsuite>",
    )
    .unwrap();
    let json = report_json(dir.path(), &["a.xml", "b.xml"]);
    assert_eq!(json["tests"]["total"], 1, "{}", json["tests"]);
    assert_eq!(json["tests"]["runs"], 2);
    assert_eq!(json["tests"]["flaky"], 1);
}

/// Times: seconds as a decimal number; thousands separators (`1,234.5`, Surefire) are read as
/// such, a decimal comma (`1,5`, `0,014`: xUnit.net under a de/fr locale) as a decimal point;
/// an empty value is no time. Anything else is an error, not 0.
#[test]
fn times_are_read_or_rejected() {
    let xml = r#"<testsuite>
        <testcase name="a" time="1,234.5"/><testcase name="b" time="1,5"/><testcase name="c"/>
        <testcase name="d" time="0,014"/><testcase name="e" time="12,345,678"/><testcase name="f" time=" 0.25 "/>
        <testcase name="g" time="3"/><testcase name="h" time=""/><testcase name="i" time="1.5e-3"/>
        <testcase name="j" time="-0.000"/></testsuite>"#;
    let times: Vec<f64> = parse_ok(xml).iter().map(|c| c.duration_s).collect();
    let want = [
        1234.5, 1.5, 0.0, 0.014, 12345678.0, 0.25, 3.0, 0.0, 0.0015, 0.0,
    ];
    let mut wrong = Vec::new();
    if times != want {
        wrong.push(format!("read {times:?}, want {want:?}"));
    }
    for bad in [
        "abc",
        "NaN",
        "inf",
        "-Infinity",
        "-3",
        "1e400",
        "1,2,3",
        "1.234,5",
        "1,23.4",
        "0x10",
        "1 234",
        "12,34,567",
    ] {
        let xml = format!("<testsuite>\n<testcase name=\"t\" time=\"{bad}\"/>\n</testsuite>");
        match parse_bytes(xml.as_bytes()) {
            Ok((cases, _)) => wrong.push(format!("time={bad:?}: read as {}", cases[0].duration_s)),
            Err(e)
                if e.location.line != Some(2)
                    || !e.message.contains("time")
                    || !e.message.contains(bad) =>
            {
                wrong.push(format!("time={bad:?}: {e}"))
            }
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// `line` is a line number: absent, empty or 0 means unknown, anything but digits is an error.
#[test]
fn line_attributes_are_read_or_rejected() {
    let cases = parse_ok(
        r#"<testsuite><testcase name="a" file="x.py" line="7"/><testcase name="b" file="x.py" line="0"/><testcase name="c" file="x.py" line=""/></testsuite>"#,
    );
    let lines: Vec<Option<u32>> = cases.iter().map(|c| c.line).collect();
    assert_eq!(lines, [Some(7), None, None]);
    let mut wrong = Vec::new();
    for bad in ["-5", "abc", "99999999999999999999", "1.5"] {
        let xml = format!("<testsuite>\n<testcase name=\"t\" line=\"{bad}\"/>\n</testsuite>");
        match parse_bytes(xml.as_bytes()) {
            Ok((cases, _)) => wrong.push(format!("line={bad:?}: read as {:?}", cases[0].line)),
            Err(e) if e.location.line != Some(2) || !e.message.contains(bad) => {
                wrong.push(format!("line={bad:?}: {e}"))
            }
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Test identity (issue 14, item 2)
// ---------------------------------------------------------------------------------------------

/// `report --format json` on `files` in `dir`; the report as JSON.
fn report_json(dir: &Path, files: &[&str]) -> serde_json::Value {
    let mut args = vec!["report", "--format", "json", "--config", "/dev/null"];
    for f in files {
        args.extend(["--junit", f]);
    }
    let o = crate::cli::run_in(dir, &args);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

const JEST_TRACE: &str = "Error: expect(received).toBe(expected)\n    at Object.&lt;anonymous&gt; (src/sum.test.js:7:17)\n    at processTicksAndRejections (internal/process/task_queues.js:95:5)";

/// The same test failing on shard 1 (with a stack trace) and passing on shard 2 is one flaky
/// test with two runs, as docs/report.md says: the trace's `path:line` is no part of its
/// identity.
#[test]
fn a_location_in_failure_text_is_not_part_of_the_identity() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shard1.xml"),
        format!(
            r#"<testsuites><testsuite name="sum"><testcase classname="sum" name="adds"><failure>{JEST_TRACE}</failure></testcase></testsuite></testsuites>"#
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("shard2.xml"),
        r#"<testsuites><testsuite name="sum"><testcase classname="sum" name="adds"/></testsuite></testsuites>"#,
    )
    .unwrap();
    let json = report_json(dir.path(), &["shard1.xml", "shard2.xml"]);
    let t = &json["tests"];
    assert_eq!(
        [&t["total"], &t["runs"], &t["failed"], &t["flaky"]],
        [1, 2, 1, 1],
        "{t}"
    );
    let case = &json["cases"][0];
    assert_eq!(case["file"], serde_json::Value::Null, "{case}");
    assert_eq!(case["line"], serde_json::Value::Null, "{case}");
    assert_eq!(
        case["location"],
        serde_json::json!({"file": "src/sum.test.js", "line": 7}),
        "{case}"
    );
}

/// Two runs of one test whose traces name different places (here only a Node internal, the
/// other a test file) are still one test.
#[test]
fn different_traces_do_not_split_a_test() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.xml"),
        r#"<testsuite><testcase classname="q" name="drains"><failure>Error: timeout
    at listOnTimeout (internal/process/task_queues.js:95:5)</failure></testcase>
<testcase classname="q" name="drains"><failure>Error: timeout
    at Object.&lt;anonymous&gt; (test/queue.test.js:12:3)</failure></testcase></testsuite>"#,
    )
    .unwrap();
    let json = report_json(dir.path(), &["a.xml"]);
    assert_eq!(json["tests"]["total"], 1, "{}", json["tests"]);
    assert_eq!(json["tests"]["runs"], 2);
}

/// What the report says is part of the identity: a `file` attribute, or the suite's `filepath`
/// when the testcase has none. Same classname + name in two files are two tests.
#[test]
fn the_file_attribute_and_the_suite_filepath_are_part_of_the_identity() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.xml"),
        r#"<testsuites>
<testsuite name="one" filepath="tests/one.test.js"><testcase classname="suite" name="works"><failure>boom</failure></testcase></testsuite>
<testsuite name="two" filepath="tests/two.test.js"><testcase classname="suite" name="works"><failure>boom</failure></testcase></testsuite>
<testsuite name="three" filepath="tests/two.test.js"><testcase classname="suite" name="works" file="tests/three.test.js"><failure>boom</failure></testcase></testsuite>
</testsuites>"#,
    )
    .unwrap();
    let json = report_json(dir.path(), &["a.xml"]);
    assert_eq!(json["tests"]["total"], 3, "{}", json["tests"]);
    let mut files: Vec<String> = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["file"].as_str().unwrap_or("-").to_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "tests/one.test.js",
            "tests/three.test.js",
            "tests/two.test.js"
        ]
    );
}

/// A test's own properties are read up to `junit::MAX_CASE_PROPERTIES` (its `<properties>`
/// first, then its output's marker lines): an output of millions of marker lines holds no more.
/// The report says how many were not read, and in which file; the controls come from the ones
/// read.
#[test]
fn a_test_with_too_many_properties_keeps_the_first_and_the_report_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let extra = 40;
    let markers: String = (0..junit::MAX_CASE_PROPERTIES + extra)
        .map(|i| format!("[[PROPERTY|note=n{i}]]\n"))
        .collect();
    std::fs::write(
        dir.path().join("many.xml"),
        format!(
            r#"<testsuite name="s"><testcase classname="c" name="t"><properties><property name="control" value="CC6.1"/></properties><system-out>{markers}[[PROPERTY|control=CC8.1]]</system-out></testcase><testcase classname="c" name="u"/></testsuite>"#
        ),
    )
    .unwrap();
    let (cases, summary) =
        parse_bytes(&std::fs::read(dir.path().join("many.xml")).unwrap()).unwrap();
    assert_eq!(cases[0].properties.len(), junit::MAX_CASE_PROPERTIES);
    assert_eq!(summary.case_properties_dropped, extra as u64 + 2);
    assert_eq!(cases[0].properties[0].value, "CC6.1");
    let json = report_json(dir.path(), &["many.xml"]);
    let warnings = json["warnings"].to_string();
    assert!(
        warnings.contains(&format!("many.xml: {} test properties not read", extra + 2)),
        "{warnings}"
    );
    let controls = json["cases"][0]["controls"].to_string();
    assert!(
        controls.contains("CC6.1") && !controls.contains("CC8.1"),
        "{controls}"
    );
    // Within the cap, nothing is said.
    std::fs::write(
        dir.path().join("few.xml"),
        r#"<testsuite name="s"><testcase classname="c" name="t"><system-out>[[PROPERTY|control=CC8.1]]</system-out></testcase></testsuite>"#,
    )
    .unwrap();
    let json = report_json(dir.path(), &["few.xml"]);
    assert!(
        !json["warnings"].to_string().contains("not read"),
        "{}",
        json["warnings"]
    );
}

/// A suite property past the limits (too many, or too long) is not applied to the suite's
/// tests, and the report says so; a framework's own (`java.*`) are passed over in silence.
#[test]
fn suite_properties_past_the_limits_are_announced() {
    let dir = tempfile::tempdir().unwrap();
    let extra = 3;
    let props: String = (0..junit::MAX_SUITE_PROPERTIES + extra)
        .map(|i| format!(r#"<property name="note{i}" value="n"/>"#))
        .collect();
    let long = "x".repeat(junit::MAX_SUITE_PROPERTY_VALUE + 1);
    std::fs::write(
        dir.path().join("suites.xml"),
        format!(
            r#"<testsuites><testsuite name="a"><properties><property name="control" value="CC6.1"/><property name="java.home" value="/jvm"/><property name="big" value="{long}"/>{props}</properties><testcase classname="c" name="t"/></testsuite></testsuites>"#
        ),
    )
    .unwrap();
    let (cases, summary) =
        parse_bytes(&std::fs::read(dir.path().join("suites.xml")).unwrap()).unwrap();
    // `control`, then the first 63 notes: 64 in all.
    assert_eq!(cases[0].properties.len(), junit::MAX_SUITE_PROPERTIES);
    assert_eq!(summary.suite_properties_dropped, extra as u64 + 2);
    let json = report_json(dir.path(), &["suites.xml"]);
    let warnings = json["warnings"].to_string();
    assert!(
        warnings.contains(&format!(
            "suites.xml: {} suite properties not applied to their tests",
            extra + 2
        )),
        "{warnings}"
    );
    assert!(json["cases"][0]["controls"].to_string().contains("CC6.1"));
    // A framework's own properties, however many, are no loss.
    let java: String = (0..2 * junit::MAX_SUITE_PROPERTIES)
        .map(|i| format!(r#"<property name="java.p{i}" value="v"/>"#))
        .collect();
    std::fs::write(
        dir.path().join("java.xml"),
        format!(
            r#"<testsuite name="a"><properties>{java}<property name="control" value="CC6.1"/></properties><testcase classname="c" name="t"/></testsuite>"#
        ),
    )
    .unwrap();
    let json = report_json(dir.path(), &["java.xml"]);
    assert!(
        !json["warnings"].to_string().contains("not applied"),
        "{}",
        json["warnings"]
    );
    assert!(json["cases"][0]["controls"].to_string().contains("CC6.1"));
}

/// Read in place, the blank text between tags is stepped over unless an element's text is
/// being read: inside a failure, a property and an output it is kept, and an error after
/// stepped-over indentation names the same line and byte either way.
#[test]
fn indentation_is_stepped_over_only_where_no_text_is_read() {
    let xml = "<testsuites>\n  <testsuite name=\"s\">\n    <testcase name=\"a\">\n      \
               <failure message=\"m\">\n        <![CDATA[boom]]>\n        <!-- c -->  \
               at t.py:3\n      </failure>\n      <properties>\n        <property \
               name=\"tag\">  <!-- c -->  cc6-1  </property>\n      </properties>\n      \
               <system-out>\n  <![CDATA[x]]>\n  [[PROPERTY|k=v]]\n  </system-out>\n    \
               </testcase>\n  </testsuite>\n</testsuites>\n";
    let cases = parse_ok(xml);
    let text = |c: &TestCase| {
        c.message
            .as_ref()
            .map(|m| m.text.clone())
            .unwrap_or_default()
    };
    assert!(
        text(&cases[0]).contains("boom\n        "),
        "{:?}",
        text(&cases[0])
    );
    assert!(
        text(&cases[0]).contains("  at t.py:3"),
        "{:?}",
        text(&cases[0])
    );
    let props: Vec<_> = cases[0]
        .properties
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(props, [("tag", "cc6-1"), ("k", "v")]);

    let bad = "<testsuites>\n  <testsuite name=\"s\">\n    <testcase name=\"a\"/>\n    \
               <testcase name=\"b\" time=\"soon\"/>\n  </testsuite>\n</testsuites>\n";
    let err = parse_err(bad.as_bytes());
    assert_eq!(err.location.line, Some(4), "{err}");
}

/// An attribute written twice in an empty testcase (a tag the in-place reader splits itself,
/// handing its attributes out unchecked) is refused as the stream refuses it: same message,
/// same line. The same local name under two prefixes is two attributes.
#[test]
fn an_attribute_written_twice_in_an_empty_testcase_is_refused_both_ways() {
    for tag in [
        r#"<testcase name="a" name="b"/>"#,
        r#"<testcase name="a" time="1" file="f" time="2"/>"#,
        r#"<testcase classname="c" name="a" class="k" file="f" line="3" time="1" classname="d"/>"#,
    ] {
        let doc = format!("<testsuite name=\"s\">\n<testcase name=\"ok\"/>\n{tag}\n</testsuite>");
        let e = results_both_ways(doc.as_bytes(), 0).unwrap_err();
        assert!(e.message.contains("appears twice in <testcase>"), "{e}");
        assert_eq!(e.location.line, Some(3), "{e}");
    }
    let doc =
        "<testsuite name=\"s\">\n<testcase a:name=\"x\" b:name=\"y\" name=\"t\"/>\n</testsuite>";
    let (_, cases, _) = results_both_ways(doc.as_bytes(), 0).unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].name, "t");
}
