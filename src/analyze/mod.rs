//! Model → decisions: control mapping, per-control results, gates.

pub mod aggregate;
pub mod api;
pub mod gates;
pub mod mapping;
