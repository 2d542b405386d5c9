//! API coverage: requests and tagged tests matched to described operations, confidential
//! fields in responses, drift against a base description, and the `api.*` gates.

mod analyzer;
mod confidential;
mod drift;
mod gates;
mod matching;

pub use analyzer::Analyzer;
pub use drift::drift;
pub use gates::gates;
pub use matching::Matcher;
