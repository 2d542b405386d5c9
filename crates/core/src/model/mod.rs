//! Plain data shared by every stage of the pipeline: test cases, coverage, controls and the
//! run report. Nothing here does I/O.

pub mod api;
pub mod controls;
pub mod coverage;
pub mod env;
pub mod gate;
pub mod history;
pub mod population;
pub mod report;
pub mod run;
pub mod tests;
pub mod tickets;

pub use controls::{Category, Control, ControlId};
pub use tests::{
    Carrier, CaseStatus, InputFile, Message, PropertyScope, RawProperty, SourceLocation, TestCase,
};
