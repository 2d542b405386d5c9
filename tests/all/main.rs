//! The one integration-test binary. Each module covers one part of the pipeline.

mod junit;
mod render;
