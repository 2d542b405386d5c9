//! Analysis stages (model → results, gates).

pub mod coverage;
