//! The one integration-test binary. Each module covers one part of the pipeline.

mod coverage_conformance;
mod coverage_diff_cover;
mod coverage_util;
