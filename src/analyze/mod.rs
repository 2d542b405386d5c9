//! Model → decisions: control mapping, per-control results, gates.

pub mod mapping;
