//! The `api` section of `report.json`: coverage of an OpenAPI description by recorded traffic
//! and tagged tests, negative-auth evidence, drift against a base description and
//! confidential-field findings (see `docs/api-coverage.md`). Plain data, no I/O.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// One file the section was computed from (descriptions, HAR files, exchange logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiInput {
    /// `spec`, `base_spec`, `har` or `log`.
    pub kind: Cow<'static, str>,
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageCount {
    pub described: u64,
    pub exercised: u64,
    /// `exercised / described` in percent, rounded to two decimals as every percentage of the
    /// report (and as the ledger keeps it); 100 when nothing is described.
    pub percent: f64,
}

impl CoverageCount {
    pub fn new(described: u64, exercised: u64) -> Self {
        let percent = crate::model::coverage::Percent::ratio(exercised, described)
            .map_or(100.0, |p| p.as_f64());
        CoverageCount {
            described,
            exercised,
            percent,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagCoverage {
    /// The operation tag; `(untagged)` for operations without one.
    pub tag: String,
    #[serde(flatten)]
    pub count: CoverageCount,
}

/// How an operation was shown to be exercised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exercise {
    /// Matched requests in HAR files and exchange logs.
    pub requests: u64,
    /// Tests whose operation tag names this operation (ids, at most 20 kept).
    pub tests: Vec<String>,
    /// Tests naming the operation, in total.
    pub test_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationReport {
    /// `GET /pets/{petId}`: method and path template as described (without base path).
    pub key: String,
    pub method: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    pub tags: Vec<String>,
    pub exercised: bool,
    pub exercise: Exercise,
    /// Status codes seen in recorded responses or named by tests, ascending.
    pub statuses: Vec<u16>,
    /// The description requires security (global or operation `security`, not `[]`, and no
    /// empty requirement `{}` making it optional).
    pub secured: bool,
    /// For secured operations: whether a rejected call (401 or 403) was exercised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negative_auth: Option<bool>,
    /// Operation not in the base description (only when a base was given).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub new: bool,
}

/// Where an exchange came from: the file, and the entry index (HAR `log.entries[i]`,
/// 0-based) or the line (exchange log, 1-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRef {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl std::fmt::Display for ExchangeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.entry, self.line) {
            (Some(e), _) => write!(f, "{} entries[{e}]", self.file),
            (None, Some(l)) => write!(f, "{}:{l}", self.file),
            (None, None) => f.write_str(&self.file),
        }
    }
}

/// Requests that matched no described operation (undocumented endpoints), grouped by method
/// and path (query string dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmatchedRequest {
    pub method: String,
    pub path: String,
    pub count: u64,
    pub statuses: Vec<u16>,
    pub first: ExchangeRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakingKind {
    RemovedOperation,
    RemovedResponseProperty,
    NewRequiredParameter,
    NewRequiredRequestProperty,
    ChangedType,
    NarrowedEnum,
}

impl BreakingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakingKind::RemovedOperation => "removed operation",
            BreakingKind::RemovedResponseProperty => "removed response property",
            BreakingKind::NewRequiredParameter => "new required parameter",
            BreakingKind::NewRequiredRequestProperty => "new required request property",
            BreakingKind::ChangedType => "changed type",
            BreakingKind::NarrowedEnum => "narrowed enum",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BreakingChange {
    pub kind: BreakingKind,
    /// `GET /pets/{petId}`
    pub operation: String,
    /// Where in the operation: `parameter query limit`, `request body .name`,
    /// `response 200 .items[].id`.
    pub location: String,
    pub detail: String,
}

/// Head description against the base (merge-base) description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub breaking: Vec<BreakingChange>,
    /// Why the comparison stopped short of the whole description, when it did (a schema
    /// graph too deep or too large); `breaking` then lists what was found before it stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftSection {
    #[serde(flatten)]
    pub drift: Drift,
    /// Added operations that no request or test exercised.
    pub new_untested: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingReason {
    /// The response was 4xx or 5xx.
    ErrorResponse,
    /// The request carried no credentials (no Authorization, Cookie or API-key header/query).
    Unauthenticated,
}

/// A confidential field seen in a response body where it must not be. The value is never
/// copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfidentialFinding {
    pub field: String,
    /// Path of the field in the body: `.user.ssn`, `.items[].token`.
    pub at: String,
    /// The matched operation, or the request `METHOD /path` when undocumented.
    pub operation: String,
    pub status: u16,
    pub reason: FindingReason,
    pub exchange: ExchangeRef,
}

/// A confidential field name and where it was declared (`x-confidential: true` at a schema
/// pointer, or `config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfidentialField {
    pub name: String,
    pub declared: String,
}

/// An operation tag on a test that named no described operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownOperationTag {
    pub tag: String,
    pub test: String,
}

/// A control the API checks evidence, and whether the check held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiControl {
    pub id: String,
    /// `coverage`, `negative_auth` or `confidential_fields`.
    pub check: Cow<'static, str>,
    /// The gate that decides it, when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<String>,
    pub passed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiSection {
    pub inputs: Vec<ApiInput>,
    /// Described / exercised operations overall.
    pub coverage: CoverageCount,
    /// Change of `coverage.percent` against the base run in the evidence ledger (the entry
    /// of the merge-base or its nearest first-parent ancestor), percentage points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta_pp: Option<f64>,
    /// Which ledger entry `delta_pp` is against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta_base: Option<String>,
    pub by_tag: Vec<TagCoverage>,
    /// Every described operation, in description order.
    pub operations: Vec<OperationReport>,
    /// Requests read from HAR files and exchange logs.
    pub exchanges: u64,
    /// Of those, the ones matched to an operation.
    pub matched: u64,
    /// CORS preflights and requests under `api.ignore_paths`, not counted as undocumented.
    pub ignored: u64,
    pub unmatched: Vec<UnmatchedRequest>,
    pub secured_operations: u64,
    /// Secured operations without a 401/403 exercised (keys).
    pub missing_negative_auth: Vec<String>,
    /// The base description drift was computed against: the merge-base commit's SHA (read
    /// with git), or the `--api-base-spec` files; absent when drift was not computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftSection>,
    pub confidential_fields: Vec<ConfidentialField>,
    /// Error and unauthenticated responses with a JSON body looked into for those fields.
    #[serde(default)]
    pub responses_inspected: u64,
    pub findings: Vec<ConfidentialFinding>,
    pub unknown_operation_tags: Vec<UnknownOperationTag>,
    pub controls: Vec<ApiControl>,
    pub warnings: Vec<String>,
}

crate::redact_fields!(ApiInput: path);
crate::redact_fields!(TagCoverage: tag);
crate::redact_fields!(Exercise: tests);
crate::redact_fields!(OperationReport: key, method, path, operation_id, tags, exercise);
crate::redact_fields!(ExchangeRef: file);
crate::redact_fields!(UnmatchedRequest: method, path, first);
crate::redact_fields!(BreakingChange: operation, location, detail);
crate::redact_fields!(Drift: added, removed, breaking, incomplete);
crate::redact_fields!(DriftSection: drift, new_untested);
crate::redact_fields!(ConfidentialFinding: field, at, operation, exchange);
crate::redact_fields!(ConfidentialField: name, declared);
crate::redact_fields!(UnknownOperationTag: tag, test);
crate::redact_fields!(ApiControl: id, gate);
crate::redact_fields!(
    ApiSection: inputs,
    delta_base,
    by_tag,
    operations,
    unmatched,
    missing_negative_auth,
    base,
    drift,
    confidential_fields,
    findings,
    unknown_operation_tags,
    controls,
    warnings
);
