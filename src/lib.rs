//! controlgate: test results and coverage → SOC 2 controls → gate verdict → evidence.
//!
//! Data flows one way: [`ingest`] (bytes → model) → [`model`] → [`analyze`] (controls, gates)
//! → [`render`] (pure functions returning `String`) → publish → retain.

pub mod analyze;
pub mod error;
pub mod git;
pub mod ingest;
pub mod model;
pub mod render;

pub use error::{Error, ExitCode, Result};
