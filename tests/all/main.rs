//! The one integration-test binary. Each module covers one part of the pipeline.

mod api;
mod cli;
mod coverage_conformance;
mod coverage_diff_cover;
mod coverage_errors;
mod coverage_gates;
mod coverage_real_tools;
mod coverage_render;
mod coverage_util;
mod hardening;
mod junit;
mod render;
