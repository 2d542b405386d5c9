//! controlgate-forge: where controlgate meets the outside world of a CI run. It owns the GitHub
//! Actions environment, the suites it starts, git, the file-system seam for inputs, publishing
//! to GitHub (comment, check run) and linking change tickets (Jira, Linear, GitHub issues).

pub mod actions_env;
pub mod files;
pub mod git;
mod mapped;
pub mod publish;
pub mod suites;
pub mod tickets;

pub mod error;

pub(crate) use controlgate_core::{
    analyze, config, console, ingest, model, redact, redact_fields, render,
};
pub use error::{Error, Result};
