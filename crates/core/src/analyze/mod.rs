//! Model → decisions: control mapping, per-control results, coverage, gates.

pub mod aggregate;
pub mod api;
pub mod changes;
pub mod coverage;
pub mod gates;
pub mod mapping;
pub mod tickets;
