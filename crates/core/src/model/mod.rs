//! Plain data shared by every stage of the pipeline: test cases, coverage, controls and the
//! run report. Nothing here does I/O.

pub mod api;
pub mod controls;
pub mod coverage;
pub mod env;
pub mod gate;
pub mod history;
pub mod population;
pub mod report;
pub mod run;
pub mod tests;
pub mod tickets;

pub use controls::{Category, Control, ControlId};

/// The first `len` characters of a commit id, for text. Cut at a character, not a byte: a
/// commit id read back from a ledger entry or an event is only text, and a cut inside a
/// character would panic.
pub fn short_sha(sha: &str, len: usize) -> &str {
    sha.char_indices()
        .nth(len)
        .map_or(sha, |(end, _)| &sha[..end])
}
pub use tests::{
    Carrier, CaseStatus, InputFile, Message, PropertyScope, RawProperty, SourceLocation, TestCase,
};

#[cfg(test)]
mod short_sha_tests {
    #[test]
    fn cuts_at_characters() {
        assert_eq!(super::short_sha("0123456789abcdef", 12), "0123456789ab");
        assert_eq!(super::short_sha("abc", 12), "abc");
        // Byte 12 falls inside an `é`: cut after the twelfth character instead.
        assert_eq!(super::short_sha("abcéééééééééé", 12), "abcééééééééé");
        assert_eq!(super::short_sha("", 7), "");
    }
}
