//! Coverage stage: reports + changed lines → project and patch coverage, and the coverage gates.
//!
//! Entry point: [`analyze`] with a [`CoverageRequest`] (plain data; the caller reads the files).
//! Gates: [`evaluate_gates`] over a [`CoverageConfig`] (embeddable under `coverage:` in the
//! config file).
//!
//! Rules (diff-cover's, see `docs/report.md#coverage`): a changed line is an added line on the
//! new side of merge-base → HEAD; it is measured when any report lists it, and uncovered only
//! when every report that mentions its file lists it with 0 hits.

mod gates;
mod merge;
mod parse;
mod patch;
mod paths;
mod project;
mod request;
mod resolve;
mod stage;

pub use crate::config::{CoverageConfig, NoLinesResult, PatchGates, ProjectGates};
pub use gates::evaluate_gates;
pub use parse::{detect_format, parse_report, parse_reports, source_roots};
pub use patch::line_ranges;
pub use paths::PathMapper;
pub use request::{Changes, CoverageOptions, RepoFiles, ReportBytes, ReportInput};
pub use stage::{Mapped, analyze, map_reports, with_changes};
