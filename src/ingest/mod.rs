//! Bytes → model. Parsers take `impl BufRead` or bytes, never paths, and stream: no
//! whole-document DOM.

pub mod har;
pub mod junit;
pub mod openapi;
