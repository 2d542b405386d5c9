//! GATHER: the outside world (files, git, the evidence ledger) read into plain data for the
//! pure decision ([`crate::analyze`]). Each submodule serves one stage.

pub mod coverage;
pub mod openapi;
