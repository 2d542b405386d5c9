//! controlgate: test results and coverage → SOC 2 controls → gate verdict → evidence.
//!
//! Data flows one way: [`ingest`] (bytes → model) → [`model`] → [`analyze`] (controls, gates)
//! → [`render`] (pure functions returning `String`) → publish → retain.

pub mod error;
pub mod ingest;
pub mod model;
pub mod retain;

pub use error::{Error, ExitCode, Result};
