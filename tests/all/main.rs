//! The one integration-test binary. Each module covers one part of the pipeline.

mod api;
mod cli;
mod junit;
mod render;
