//! controlgate-core: the pure core of controlgate. It owns the model (tests, coverage, controls,
//! gates, the report), the config, the readers that turn report bytes into the model, the
//! analysis that decides a run, and the renderers; it does no I/O of its own.

pub mod analyze;
pub mod config;
pub mod console;
pub mod error;
pub mod glob;
pub mod hashing;
pub mod ingest;
pub mod model;
pub mod redact;
pub mod render;
pub(crate) mod words;

pub use error::{Error, ExitCode, Result};
