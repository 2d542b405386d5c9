//! Streaming xUnit.net XML reader: v2 (`<assemblies>`/`<assembly>`/`<collection>`/`<test>`) and
//! the v1 shape (`<assembly>`/`<class>`/`<test>`).
//!
//! One pass with the shared XML driver ([`xml::read`]: well-formedness, no entity-declaring
//! `<!DOCTYPE>`, bounded nesting, errors with their line); nothing but the test being built is
//! held in memory. Every `<test>` element is one test; it must stand in a `<collection>` (v2)
//! or `<class>` (v1).
//!
//! The mapping follows EnricoMi/publish-unit-test-result-action's `xunit-to-junit.xslt`, whose
//! recorded answers are our conformance oracle, except where noted:
//!
//! - `suite` = the `<collection>`'s (`<class>`'s) `name`; `classname` = `type`.
//! - `name` = `name` with a leading `type` and `.` removed: `Method` for a fact,
//!   `Method(x: 1)` for each row of a theory, or the display name a test gave itself.
//!   EnricoMi uses `method`, which gives every row of a theory the same name (it then counts
//!   them as one test; the pipeline here would merge them into one test with several runs and
//!   call a theory with a failing row flaky). The rule here is the one EnricoMi applies to TRX
//!   (`testName` without its class), so a test is named the same whether xUnit.net wrote it to
//!   TRX or to its own XML. A test without `name` is named by `method`.
//! - Status, from `result`: `Pass` → passed, `Fail` → failed, `Skip` → skipped, `NotRun` →
//!   skipped (an explicit test not asked for); anything else is an error naming those. A
//!   `<failure>` child makes the test failed, a `<reason>` child skipped unless it failed (what
//!   EnricoMi goes by; it ignores `result`, so a `result="Fail"` without `<failure>` is passed
//!   there: failed here).
//! - Message: `failure/message`, then `failure/stack-trace` on the next line, or the skip
//!   `reason`; bounded like JUnit messages. No file or line in xUnit.net v2 XML: a location in
//!   the stack trace (`in C:\src\FooTests.cs:line 12`) is kept for annotations.
//! - Duration: `time`, in seconds (a decimal comma, `0,014`, as some locales write it, is read).
//! - Properties: `<traits><trait name= value=>` (scope `Case`): `[Trait("control", "CC6.1")]`
//!   → `control=CC6.1`, a `Category` trait → `category`. `[[PROPERTY|name=value]]` lines in
//!   the test's `<output>` (scope `SystemOut`).
//! - The assembly's `<errors>/<error>` (fixture and cleanup failures outside any test, a
//!   fatal error) are errored tests named `(TYPE) NAME` (`(test-class-cleanup) A.BTests`,
//!   `(assembly-cleanup)`), their message the error's `failure/message`. EnricoMi does not
//!   count them: a run whose every test passed but whose cleanup failed reads green there.
//! - An `<assembly>` whose `failed=` plus `errors=` say more than its tests and errors show is
//!   one errored `(assembly)` test more (failing tests cut from the file).

use std::io::BufRead;

use crate::error::ParseError;
use crate::ingest::cases::CaseProperties;
use crate::ingest::cases::{self, MAX_STRING, Part, Parts, Texts};
use crate::ingest::results::Summary;
use crate::ingest::text;
use crate::ingest::xml::{self, Document, Element, checked_attributes};
use crate::model::{CaseStatus, Message, PropertyScope, TestCase};

/// Streams `reader`, calling `on_case` once per `<test>` (in document order). `input` is stored
/// in each case's `input` field.
pub fn parse(
    reader: impl BufRead,
    input: usize,
    on_case: &mut dyn FnMut(TestCase),
) -> Result<Summary, ParseError> {
    parse_document(Document::Stream(reader), input, on_case)
}

/// [`parse`] of a stream or of bytes in place ([`xml::read_document`]).
pub(crate) fn parse_document(
    document: Document<'_, impl BufRead>,
    input: usize,
    on_case: &mut dyn FnMut(TestCase),
) -> Result<Summary, ParseError> {
    let mut state = State {
        input,
        on_case,
        summary: Summary::default(),
        stack: Vec::with_capacity(16),
        collection: String::new(),
        case: None,
        texts: Texts::default(),
        assembly_declared: 0,
        assembly_failing: 0,
    };
    xml::read_document(document, &mut state)?;
    Ok(state.summary)
}

/// What an open element is, as far as xUnit.net is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Assemblies,
    Assembly,
    /// `<collection>` (v2) or `<class>` (v1).
    Collection,
    Test,
    Traits,
    Failure,
    /// `failure/message`, `failure/stack-trace` or `reason`.
    Part,
    Output,
    Errors,
    Other,
}

struct CaseBuilder {
    classname: String,
    name: String,
    duration_s: f64,
    result: Option<CaseStatus>,
    /// An `<errors>/<error>`: an error outside any test.
    outside: bool,
    /// The failure, the skip reason, the traits.
    parts: Parts,
}

struct State<'a> {
    input: usize,
    on_case: &'a mut dyn FnMut(TestCase),
    summary: Summary,
    stack: Vec<Kind>,
    /// The open collection's name.
    collection: String,
    case: Option<CaseBuilder>,
    texts: Texts,
    /// The open `<assembly>`'s `failed=` plus `errors=`, and the failed and errored tests (and
    /// errors outside any test) read in it.
    assembly_declared: u64,
    assembly_failing: u64,
}

impl xml::Handler for State<'_> {
    const FORMAT: &'static str = "xUnit.net XML";
    const ROOTS: &'static str = "an <assemblies> or <assembly> root element";

    fn is_root(local: &[u8]) -> bool {
        matches!(local, b"assemblies" | b"assembly")
    }

    fn start(&mut self, e: &Element<'_>) -> Result<bool, String> {
        let local = e.local_name();
        let parent = self.stack.last().copied();
        let mut checked = false;
        let kind = match (parent, local) {
            (None, b"assemblies") => Kind::Assemblies,
            (None | Some(Kind::Assemblies), b"assembly") => {
                checked = true;
                self.assembly_declared = xml::counts(e, &[b"failed", b"errors"])?;
                self.assembly_failing = 0;
                Kind::Assembly
            }
            (Some(Kind::Assembly), b"collection" | b"class") => {
                checked = true;
                self.summary.suites += 1;
                self.collection.clear();
                for attr in checked_attributes(e) {
                    let attr = attr?;
                    if xml::local(attr.key.as_ref()) == b"name" {
                        self.collection = text::attr_string(&attr.value, MAX_STRING);
                    }
                }
                Kind::Collection
            }
            (Some(Kind::Collection), b"test") => {
                checked = true;
                self.open_test(e)?
            }
            (Some(Kind::Assembly), b"errors") => {
                self.collection.clear();
                Kind::Errors
            }
            (Some(Kind::Errors), b"error") => {
                checked = true;
                self.open_error(e)?
            }
            (_, b"test") => {
                return Err(format!(
                    "<test> inside {}: xUnit.net XML has tests only in a <collection> (or \
                     v1's <class>) of an <assembly>",
                    self.open_element()
                ));
            }
            (Some(Kind::Test), b"traits") => Kind::Traits,
            (Some(Kind::Traits), b"trait") => {
                checked = true;
                self.add_trait(e)?;
                Kind::Other
            }
            (Some(Kind::Test), b"failure") => {
                if let Some(case) = self.case.as_mut() {
                    case.parts.failed = true;
                }
                Kind::Failure
            }
            (Some(Kind::Failure), b"message") => self.begin(Part::Message),
            (Some(Kind::Failure), b"stack-trace") => self.begin(Part::Trace),
            (Some(Kind::Test), b"reason") => {
                if let Some(case) = self.case.as_mut() {
                    case.parts.skipped = true;
                }
                self.begin(Part::Reason)
            }
            (Some(Kind::Test), b"output") => {
                self.texts.begin_output();
                Kind::Output
            }
            _ => Kind::Other,
        };
        self.stack.push(kind);
        Ok(checked)
    }

    fn end(&mut self) -> Result<(), String> {
        let Some(kind) = self.stack.pop() else {
            return Ok(());
        };
        match kind {
            Kind::Test => self.close_test(),
            Kind::Part | Kind::Output => self.texts.end(self.case.as_mut().map(|c| &mut c.parts)),
            Kind::Assembly => self.close_assembly(),
            _ => {}
        }
        Ok(())
    }

    fn texts(&mut self) -> (&mut Texts, Option<&mut CaseProperties>) {
        (
            &mut self.texts,
            self.case.as_mut().map(|c| &mut c.parts.properties),
        )
    }

    fn open_element(&self) -> &'static str {
        match self.stack.last() {
            Some(Kind::Assemblies) => "<assemblies>",
            Some(Kind::Assembly) => "<assembly>",
            Some(Kind::Collection) => "<collection>",
            Some(Kind::Test) => "<test>",
            Some(Kind::Traits) => "<traits>",
            Some(Kind::Failure) => "<failure>",
            Some(Kind::Part) => "<message>, <stack-trace> or <reason>",
            Some(Kind::Output) => "<output>",
            Some(Kind::Errors) => "<errors>",
            Some(Kind::Other) | None => "an element",
        }
    }
}

impl State<'_> {
    fn begin(&mut self, part: Part) -> Kind {
        self.texts.begin(part);
        Kind::Part
    }

    fn open_test(&mut self, e: &Element<'_>) -> Result<Kind, String> {
        let mut case = CaseBuilder {
            classname: String::new(),
            name: String::new(),
            duration_s: 0.0,
            result: None,
            outside: false,
            parts: Parts::default(),
        };
        let mut method = String::new();
        for attr in checked_attributes(e) {
            let attr = attr?;
            let value = &attr.value;
            match xml::local(attr.key.as_ref()) {
                b"name" => case.name = text::attr_string(value, MAX_STRING),
                b"type" => case.classname = text::attr_string(value, MAX_STRING),
                b"method" => method = text::attr_string(value, MAX_STRING),
                b"time" => case.duration_s = text::parse_time(&text::clean_attr(value))?,
                b"result" => case.result = result_status(&text::clean_attr(value))?,
                _ => {}
            }
        }
        case.name = cases::without_class(std::mem::take(&mut case.name), &case.classname);
        if case.name.is_empty() {
            case.name = method;
        }
        self.case = Some(case);
        Ok(Kind::Test)
    }

    /// An `<errors>/<error type= name=>`, read as an errored test (its `<failure>` as a test's).
    fn open_error(&mut self, e: &Element<'_>) -> Result<Kind, String> {
        let (mut kind, mut name) = (String::new(), String::new());
        for attr in checked_attributes(e) {
            let attr = attr?;
            match xml::local(attr.key.as_ref()) {
                b"type" => kind = text::attr_string(&attr.value, MAX_STRING),
                b"name" => name = text::attr_string(&attr.value, MAX_STRING),
                _ => {}
            }
        }
        let kind = if kind.is_empty() { "error" } else { &kind };
        self.case = Some(CaseBuilder {
            classname: String::new(),
            name: format!("({kind}) {name}").trim_end().to_owned(),
            duration_s: 0.0,
            result: Some(CaseStatus::Errored),
            outside: true,
            parts: Parts::default(),
        });
        Ok(Kind::Test)
    }

    fn add_trait(&mut self, e: &Element<'_>) -> Result<(), String> {
        let (mut name, mut value) = (String::new(), String::new());
        for attr in checked_attributes(e) {
            let attr = attr?;
            match xml::local(attr.key.as_ref()) {
                b"name" => name = text::attr_string(&attr.value, MAX_STRING),
                b"value" => value = text::attr_string(&attr.value, MAX_STRING),
                _ => {}
            }
        }
        if let (Some(case), false) = (self.case.as_mut(), name.is_empty()) {
            case.parts
                .properties
                .push(cases::property(name, value, PropertyScope::Case));
        }
        Ok(())
    }

    /// Ends an assembly: one errored `(assembly)` test when its counts say more failed than
    /// its tests and errors show (failing tests cut from the file).
    fn close_assembly(&mut self) {
        if self.assembly_declared <= self.assembly_failing {
            return;
        }
        self.summary.cases += 1;
        let message = Message::bounded(&format!(
            "the assembly says {} test(s) failed or erred, {} did in the report: failing tests \
             were cut from it",
            self.assembly_declared, self.assembly_failing
        ));
        (self.on_case)(TestCase::outside_any_test(
            String::new(),
            "(assembly)".into(),
            message,
            self.input,
        ));
        self.assembly_failing = self.assembly_declared;
    }

    fn close_test(&mut self) {
        let Some(case) = self.case.take() else { return };
        self.summary.cases += 1;
        let status = case.parts.status(case.result.unwrap_or(CaseStatus::Passed));
        if matches!(status, CaseStatus::Failed | CaseStatus::Errored) {
            self.assembly_failing = self.assembly_failing.saturating_add(1);
        }
        let (mut message, location) = case.parts.message();
        if case.outside && message.is_none() {
            message = Some(Message::bounded(
                "xUnit.net reported an error outside any test (a fixture or its cleanup)",
            ));
        }
        let properties = case.parts.properties.kept(&mut self.summary);
        (self.on_case)(TestCase {
            suite: self.collection.clone(),
            classname: case.classname,
            name: case.name,
            file: None,
            line: None,
            location,
            status,
            flaky: false,
            duration_s: case.duration_s,
            message,
            properties,
            input: self.input,
            runs: 1,
        });
    }
}

/// A `result` attribute. Empty: no result.
fn result_status(raw: &str) -> Result<Option<CaseStatus>, String> {
    let value = raw.trim();
    let is = |word: &str| value.eq_ignore_ascii_case(word);
    Ok(Some(if value.is_empty() {
        return Ok(None);
    } else if is("Pass") {
        CaseStatus::Passed
    } else if is("Fail") {
        CaseStatus::Failed
    } else if is("Skip") || is("NotRun") {
        CaseStatus::Skipped
    } else {
        return Err(format!(
            "result=\"{}\" of <test> is not an xUnit.net result: expected Pass, Fail, Skip or \
             NotRun",
            xml::shown(value.as_bytes())
        ));
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ingest::cases::testing::{self, msg};

    fn ok(xml: &str) -> Vec<TestCase> {
        testing::ok(|x, i, f| parse(x, i, f), xml)
    }

    fn err(xml: &str) -> ParseError {
        testing::err(|x, i, f| parse(x, i, f), xml)
    }

    const XUNIT: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<assemblies timestamp="06/07/2018 20:33:39">
  <assembly name="C:\ci\Auth.Tests.dll" test-framework="xUnit.net 2.4.1" total="6">
    <errors />
    <collection total="6" name="Test collection for Auth.Tests.TokenTests" time="0.25">
      <test name="Auth.Tests.TokenTests.Rejects_expired" type="Auth.Tests.TokenTests" method="Rejects_expired" time="0,014" result="Pass">
        <traits>
          <trait name="control" value="CC6.1" />
          <trait name="Category" value="smoke" />
        </traits>
        <output><![CDATA[starting
[[PROPERTY|soc2=CC6.6]]]]></output>
      </test>
      <test name="Auth.Tests.TokenTests.Add(a: 1, b: 2)" type="Auth.Tests.TokenTests" method="Add" time="0.001" result="Pass" />
      <test name="Auth.Tests.TokenTests.Add(a: 2, b: 2)" type="Auth.Tests.TokenTests" method="Add" time="0.001" result="Fail">
        <failure exception-type="Xunit.Sdk.EqualException">
          <message><![CDATA[Assert.Equal() Failure
Expected: 5
Actual:   4]]></message>
          <stack-trace><![CDATA[   at Auth.Tests.TokenTests.Add(Int32 a, Int32 b) in C:\src\Auth.Tests\TokenTests.cs:line 16]]></stack-trace>
        </failure>
      </test>
      <test name="Auth.Tests.TokenTests.Later" type="Auth.Tests.TokenTests" method="Later" time="0" result="Skip">
        <reason><![CDATA[On purpose]]></reason>
      </test>
      <test name="Uninstalls the app." type="Auth.Tests.TokenTests" method="Uninstall" result="NotRun" />
      <test type="Auth.Tests.TokenTests" method="Unnamed" result="Fail" />
    </collection>
  </assembly>
</assemblies>"#;

    /// An assembly counting failures it does not hold: one errored `(assembly)` more; counts
    /// that agree (an `<errors>` entry counted in `errors=`) add nothing.
    #[test]
    fn an_assembly_counting_failures_it_does_not_hold_is_an_errored_test() {
        let doc = |attrs: &str, body: &str| {
            format!(
                r#"<assemblies><assembly name="a.dll" {attrs}><collection name="C"><test name="N.T.A" type="N.T" method="A" result="Pass" time="0.1"/>{body}</collection></assembly></assemblies>"#
            )
        };
        let mut got = Vec::new();
        super::parse(
            doc(r#"total="3" passed="1" failed="2" errors="1""#, "").as_bytes(),
            0,
            &mut |c| got.push(c),
        )
        .unwrap();
        assert_eq!(
            got.iter()
                .map(|c| (c.name.as_str(), c.status))
                .collect::<Vec<_>>(),
            [
                ("A", CaseStatus::Passed),
                ("(assembly)", CaseStatus::Errored)
            ]
        );
        for (attrs, body) in [
            (
                r#"failed="1""#,
                r#"<test name="N.T.B" type="N.T" method="B" result="Fail" time="0"/>"#,
            ),
            (r#"failed="0" errors="0""#, ""),
            ("", ""),
        ] {
            let mut got = Vec::new();
            super::parse(doc(attrs, body).as_bytes(), 0, &mut |c| got.push(c)).unwrap();
            assert!(got.iter().all(|c| c.name != "(assembly)"), "{attrs}");
        }
    }

    #[test]
    fn outcomes_names_messages_and_durations() {
        use CaseStatus::*;
        let cases = ok(XUNIT);
        let got: Vec<_> = cases.iter().map(|c| (c.name.as_str(), c.status)).collect();
        assert_eq!(
            got,
            [
                ("Rejects_expired", Passed),
                ("Add(a: 1, b: 2)", Passed),
                ("Add(a: 2, b: 2)", Failed),
                ("Later", Skipped),
                ("Uninstalls the app.", Skipped),
                ("Unnamed", Failed),
            ]
        );
        assert!(cases.iter().all(|c| c.classname == "Auth.Tests.TokenTests"
            && c.suite == "Test collection for Auth.Tests.TokenTests"));
        assert_eq!((cases[0].duration_s, cases[1].duration_s), (0.014, 0.001));
        assert_eq!(
            msg(&cases[2]),
            "Assert.Equal() Failure\nExpected: 5\nActual:   4\nat Auth.Tests.TokenTests.Add(Int32 \
             a, Int32 b) in C:\\src\\Auth.Tests\\TokenTests.cs:line 16"
        );
        let location = cases[2].location.as_ref().unwrap();
        assert_eq!(
            (location.file.as_str(), location.line),
            ("C:\\src\\Auth.Tests\\TokenTests.cs", 16)
        );
        assert_eq!(msg(&cases[3]), "On purpose");
        assert_eq!(cases[5].message, None);
    }

    /// Errors outside any test (a class's or the assembly's cleanup, a fatal error) are
    /// errored tests, so every test passing does not read green; an empty `<errors/>` adds
    /// nothing.
    #[test]
    fn errors_outside_any_test_are_errored_tests() {
        let cases = ok(r#"<assemblies><assembly name="a.dll">
            <errors>
              <error type="assembly-cleanup"><failure exception-type="X"><message>cleanup blew up</message><stack-trace>at A.Dispose() in C:\src\A.cs:line 9</stack-trace></failure></error>
              <error type="test-class-cleanup" name="A.BTests"><failure><message>dispose &lt;failed&gt;</message></failure></error>
              <error type="fatal"/>
            </errors>
            <collection name="c"><test name="A.BTests.T" type="A.BTests" method="T" result="Pass" time="0.1"/></collection>
            </assembly></assemblies>"#);
        let got: Vec<_> = cases
            .iter()
            .map(|c| (c.suite.as_str(), c.name.as_str(), c.status))
            .collect();
        assert_eq!(
            got,
            [
                ("", "(assembly-cleanup)", CaseStatus::Errored),
                ("", "(test-class-cleanup) A.BTests", CaseStatus::Errored),
                ("", "(fatal)", CaseStatus::Errored),
                ("c", "T", CaseStatus::Passed),
            ]
        );
        assert_eq!(
            msg(&cases[0]),
            "cleanup blew up\nat A.Dispose() in C:\\src\\A.cs:line 9"
        );
        assert_eq!(msg(&cases[1]), "dispose <failed>");
        assert!(msg(&cases[2]).contains("outside any test"));
        let cases = ok(
            r#"<assembly name="a.dll"><errors /><collection name="c"><test name="T" result="Pass"/></collection></assembly>"#,
        );
        assert_eq!(cases.len(), 1);
    }

    #[test]
    fn traits_and_output_markers_are_properties() {
        let cases = ok(XUNIT);
        let props: Vec<_> = cases[0]
            .properties
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str(), p.scope))
            .collect();
        assert_eq!(
            props,
            [
                ("control", "CC6.1", PropertyScope::Case),
                ("category", "smoke", PropertyScope::Case),
                ("soc2", "CC6.6", PropertyScope::SystemOut),
            ]
        );
        assert!(cases[1].properties.is_empty());
    }

    #[test]
    fn v1_classes_hold_tests_too() {
        let cases = ok(r#"<assembly name="a.dll"><class name="A.B" total="1">
            <test name="A.B.C" type="A.B" method="C" result="Pass" time="0.1"/></class></assembly>"#);
        assert_eq!(
            (
                cases[0].suite.as_str(),
                cases[0].classname.as_str(),
                cases[0].name.as_str()
            ),
            ("A.B", "A.B", "C")
        );
    }

    #[test]
    fn malformed_documents_are_rejected_with_their_line() {
        let e = err(
            "<assemblies>\n<assembly name=\"a\">\n<collection name=\"c\">\n<test name=\"t\" result=\"Pass\">\n",
        );
        assert!(e.message.contains("truncated"), "{e}");
        assert!(e.message.contains("<test>"), "{e}");
        assert_eq!(e.location.line, Some(5));
        let e =
            err("<assemblies>\n<assembly name=\"a\">\n<test name=\"t\"/></assembly></assemblies>");
        assert!(e.message.contains("<test> inside <assembly>"), "{e}");
        assert_eq!(e.location.line, Some(3));
        let e = err("<assembly>\n<collection>\n<test name=t/></collection></assembly>");
        assert!(e.message.contains("malformed attribute"), "{e}");
        assert_eq!(e.location.line, Some(3));
        let e = err(
            "<assembly>\n<collection>\n<test name=\"t\" result=\"Passed\"/></collection></assembly>",
        );
        assert!(
            e.message.contains("expected Pass, Fail, Skip or NotRun"),
            "{e}"
        );
        assert_eq!(e.location.line, Some(3));
        let e =
            err("<assembly><collection><test name=\"t\" time=\"1.2.3\"/></collection></assembly>");
        assert!(e.message.contains("time=\"1.2.3\""), "{e}");
        let e = err("<test-run/>");
        assert!(
            e.message
                .contains("expected an <assemblies> or <assembly> root element"),
            "{e}"
        );
        let e = err("<assemblies/>\n<assemblies/>");
        assert!(e.message.contains("second root element"), "{e}");
        assert_eq!(e.location.line, Some(2));
    }

    #[test]
    fn entity_declarations_are_rejected() {
        let e = err(r#"<!DOCTYPE a [
<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<assemblies><assembly name="&lol2;"/></assemblies>"#);
        assert!(e.message.contains("declares XML entities"), "{e}");
    }
}
