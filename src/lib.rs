//! controlgate: test results and coverage → SOC 2 controls → gate verdict → evidence.
//!
//! Data flows one way: [`ingest`] (bytes → model) → [`model`] → [`analyze`] (controls, gates)
//! → [`render`] (pure functions returning `String`) → publish → retain. [`inputs`] is the
//! file-system seam; [`pipeline::report`] is the entry point the binary calls.

pub mod action;
pub mod actions_env;
pub mod analyze;
pub mod config;
pub mod console;
pub mod error;
pub mod gather;
pub mod git;
pub mod ingest;
pub mod inputs;
pub mod model;
pub mod pipeline;
pub mod publish;
pub mod redact;
pub mod render;
pub mod retain;
pub mod suites;
pub mod tickets;

pub use error::{Error, ExitCode, Result};
pub use pipeline::{ReportOutput, ReportRequest, report};
