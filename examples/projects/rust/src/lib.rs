//! Ledger core of a tiny payments API (controlgate example data).
pub mod access;
pub mod deploy;
pub mod ledger;
pub mod recovery;
