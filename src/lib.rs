//! controlgate: test results and coverage → SOC 2 controls → a gate verdict → evidence.
//!
//! The workspace's crates are the pipeline: `controlgate-core` (model, config, readers,
//! analysis, renderers; pure) decides, `controlgate-evidence` retains, `controlgate-forge`
//! meets CI and GitHub. This crate is the run itself: [`gather`] reads the outside world into
//! plain data, [`decide`] computes the verdict from it with the core, [`deliver`] renders and
//! retains, [`pipeline`] chains the three and [`action`] adds the suites, GitHub and trackers.
//! The other crates' modules are re-exported under their old names.

pub mod action;
pub mod allocator;
pub mod decide;
pub mod deliver;
pub mod error;
pub mod gather;
pub mod legs;
pub mod pipeline;
pub mod request;

pub use controlgate_core::{
    analyze, config, console, glob, hashing, ingest, model, redact, render,
};
pub use controlgate_evidence as retain;
pub use controlgate_forge::files as inputs;
pub use controlgate_forge::{actions_env, git, publish, suites, tickets};

pub use error::{Error, ExitCode, Result};
pub use pipeline::{ReportOutput, ReportRequest, report};
