//! Bytes → model. Parsers take `impl BufRead` or bytes, never paths, and stream: no
//! whole-document DOM.

pub mod batch;
pub(crate) mod cases;
pub mod clover;
pub mod cobertura;
pub mod dart;
pub mod diff;
pub mod gotest;
pub mod har;
pub mod jacoco;
pub(crate) mod jsonl;
pub mod junit;
pub mod lcov;
pub(crate) mod location;
pub mod mocha;
pub mod nunit;
pub mod openapi;
pub mod results;
pub(crate) mod text;
pub mod trx;
pub(crate) mod xml;
pub mod xunit;
pub mod yaml;

/// Pushes an element onto a reader's open-element stack, refusing absurd nesting: real reports
/// nest a handful of levels, and an unbounded stack is a memory attack.
pub(crate) fn push_bounded<T>(
    stack: &mut Vec<T>,
    tag: T,
    byte: u64,
) -> Result<(), crate::error::ParseError> {
    if stack.len() >= junit::MAX_DEPTH {
        return Err(crate::error::ParseError::at(
            None,
            Some(byte),
            format!("elements nested deeper than {} levels", junit::MAX_DEPTH),
        ));
    }
    stack.push(tag);
    Ok(())
}
