//! Bytes → model. Parsers take `impl BufRead` or bytes, never paths, and stream: no
//! whole-document DOM.

pub mod cobertura;
pub mod diff;
pub mod har;
pub mod jacoco;
pub mod junit;
pub mod lcov;
pub mod openapi;
