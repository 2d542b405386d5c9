//! The run report: what `report.json` holds (see `docs/report.md`). Later stages (coverage,
//! evidence, tickets) extend it with their own optional sections.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::controls::{Category, ControlId};
use super::coverage::CoverageSection;
pub use super::gate::{Gate, GateResult, GateStatus, Verdict};
use super::tests::{Carrier, CaseStatus, InputFile};

/// Bumped on any incompatible change to `report.json`. 2: `cases[].file`/`line` are only what
/// the report's attributes say; a location found in failure text is `cases[].location`.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: Cow<'static, str>,
    pub version: Cow<'static, str>,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            // The product, not this crate (`controlgate-core`).
            name: Cow::Borrowed("controlgate"),
            version: Cow::Borrowed(env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Totals over unique tests (a test seen in several files counts once; see `runs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub total: u64,
    pub passed: u64,
    pub failed: u64,
    pub errored: u64,
    pub skipped: u64,
    pub flaky: u64,
    /// Every testcase element read, duplicates included.
    pub runs: u64,
}

impl From<&Totals> for super::history::RecordedTotals {
    fn from(t: &Totals) -> Self {
        super::history::RecordedTotals {
            total: t.total,
            passed: t.passed,
            failed: t.failed,
            errored: t.errored,
            skipped: t.skipped,
        }
    }
}

impl Totals {
    pub fn add(&mut self, status: CaseStatus) {
        self.total += 1;
        match status {
            CaseStatus::Passed => self.passed += 1,
            CaseStatus::Failed => self.failed += 1,
            CaseStatus::Errored => self.errored += 1,
            CaseStatus::Skipped => self.skipped += 1,
        }
    }

    pub fn remove(&mut self, status: CaseStatus) {
        self.total -= 1;
        match status {
            CaseStatus::Passed => self.passed -= 1,
            CaseStatus::Failed => self.failed -= 1,
            CaseStatus::Errored => self.errored -= 1,
            CaseStatus::Skipped => self.skipped -= 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ControlStatus {
    Pass,
    Fail,
    Untested,
}

/// Per-control results over the tests that evidence it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ControlResult {
    pub id: ControlId,
    pub category: Category,
    /// The catalog's summary (borrowed from it, owned when read back from `report.json`).
    pub summary: Cow<'static, str>,
    pub required: bool,
    pub tests: u64,
    pub passed: u64,
    pub failed: u64,
    pub errored: u64,
    pub skipped: u64,
    pub status: ControlStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseControl {
    pub id: ControlId,
    pub carrier: Carrier,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseReport {
    pub id: String,
    pub suite: String,
    pub classname: String,
    pub name: String,
    /// From the report: `file` attribute, else the suite's `filepath` (part of the identity).
    pub file: Option<String>,
    /// From the report: `line` attribute.
    pub line: Option<u32>,
    /// A `path:line` found in the failure text (annotations and display only).
    pub location: Option<crate::model::SourceLocation>,
    pub status: CaseStatus,
    pub flaky: bool,
    pub duration_s: f64,
    pub runs: u32,
    /// Input file (index into `inputs`) the reported outcome came from.
    pub input: usize,
    pub message: Option<String>,
    pub message_bytes: Option<usize>,
    pub controls: Vec<CaseControl>,
}

impl CaseReport {
    /// Where an annotation points (see [`crate::model::TestCase::annotation_location`]).
    pub fn annotation_location(&self) -> Option<(&str, Option<u32>)> {
        crate::model::tests::annotation_location(
            self.file.as_deref(),
            self.line,
            self.location.as_ref(),
        )
    }
}

/// A control tag that named no criterion in the catalog.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnknownTag {
    pub tag: String,
    pub test: String,
    pub carrier: Carrier,
    pub input: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub generated_at: String,
    pub verdict: Verdict,
    pub inputs: Vec<InputFile>,
    pub tests: Totals,
    pub controls: Vec<ControlResult>,
    pub gates: Vec<Gate>,
    /// Every test that evidences a control or did not pass. Passing tests without controls are
    /// only counted in `tests` (keeps memory and the report bounded on huge suites).
    pub cases: Vec<CaseReport>,
    pub unknown_tags: Vec<UnknownTag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<CoverageSection>,
    /// API coverage against OpenAPI descriptions (when `api.specs` is configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<super::api::ApiSection>,
    /// Change tickets found and the exemption (when a change context was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tickets: Option<super::tickets::TicketsSection>,
    pub warnings: Vec<String>,
    /// The suites `controlgate run` executed (absent when results were read from disk).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suites: Option<Vec<SuiteRecord>>,
    /// Who ran what, when, where: repository, event, SHAs, PR, workflow run, times, config
    /// digest (see `docs/report.md#run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<super::run::RunIdentity>,
    /// This run against the ledger's base run and recent default-branch runs (when retained
    /// and a ledger was there to compare with).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<super::history::ChangesSection>,
    /// Secrets replaced with `[REDACTED:<kind>]` in the texts above (`None`: not redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redactions: Option<crate::redact::Redactions>,
}

/// One executed suite: what ran, how it ended, and a digest of everything it printed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteRecord {
    pub name: String,
    pub command: String,
    pub working_directory: String,
    /// `None` when the process was killed by a signal or could not start.
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub duration_s: f64,
    /// SHA-256 of stdout and stderr, interleaved as they arrived.
    pub output_sha256: String,
    pub output_bytes: u64,
    /// Why the command could not start, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The runner's file commands (`GITHUB_OUTPUT`, `GITHUB_ENV`...) the suite wrote to, each
    /// put back as it was before the suite ran: only controlgate writes them in its step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wrote_file_commands: Vec<String>,
}

crate::redact_fields!(
    SuiteRecord: name,
    command,
    working_directory,
    output_sha256,
    error
);
crate::redact_fields!(CaseReport: id, suite, classname, name, file, location, message);
crate::redact_fields!(UnknownTag: tag, test, input);

/// Why a `report.json` was not read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("not a controlgate report: no `schema_version` in a top-level object")]
    NotAReport,
    /// Written by a controlgate whose `report.json` differs in shape: the fields this one
    /// reads may be missing or mean something else, so nothing is taken from it.
    #[error(
        "`schema_version` is {found}, but this controlgate ({}) reads schema_version \
         {SCHEMA_VERSION}: publish with the controlgate release that wrote the report",
        env!("CARGO_PKG_VERSION")
    )]
    SchemaVersion { found: String },
    #[error("not a schema_version {SCHEMA_VERSION} report: {0}")]
    Shape(#[source] serde_json::Error),
}

impl Report {
    /// Reads a `report.json` back: its `schema_version` must be [`SCHEMA_VERSION`] (checked
    /// before anything else is read, so an older or newer report is refused as such rather
    /// than as a field it lacks).
    pub fn from_json(text: &str) -> Result<Report, ReadError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: Option<serde_json::Value>,
        }
        // serde reads a struct from an array too (`[2]`): only an object is a report.
        if !text.trim_start().starts_with('{') {
            return match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Err(e) => Err(ReadError::Json(e)),
                Ok(_) => Err(ReadError::NotAReport),
            };
        }
        let v: Version = serde_json::from_str(text).map_err(|e| {
            if e.is_data() {
                ReadError::NotAReport
            } else {
                ReadError::Json(e)
            }
        })?;
        match v.schema_version {
            None => return Err(ReadError::NotAReport),
            Some(n) if n.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
            Some(other) => {
                return Err(ReadError::SchemaVersion {
                    found: other.to_string().chars().take(40).collect(),
                });
            }
        }
        serde_json::from_str(text).map_err(ReadError::Shape)
    }

    /// Redacts every text of the report that did not come from the test-results aggregate
    /// (which is redacted as it is built, see `pipeline::redact_aggregate`): inputs, gates,
    /// coverage, API, tickets, suites and the run identity.
    pub fn redact_sections(
        &mut self,
        redactor: &crate::redact::Redactor,
        counts: &mut crate::redact::Redactions,
    ) {
        use crate::redact::Redact;
        self.inputs.redact_with(redactor, counts);
        self.gates.redact_with(redactor, counts);
        self.coverage.redact_with(redactor, counts);
        self.api.redact_with(redactor, counts);
        self.tickets.redact_with(redactor, counts);
        self.suites.redact_with(redactor, counts);
        self.run.redact_with(redactor, counts);
        self.changes.redact_with(redactor, counts);
    }
}
