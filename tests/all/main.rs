//! The one integration-test binary. Each module covers one part of the pipeline.

mod action;
mod action_container;
mod api;
mod api_git_base;
mod cli;
mod coverage_conformance;
mod coverage_diff_cover;
mod coverage_errors;
mod coverage_gates;
mod coverage_real_tools;
mod coverage_render;
mod coverage_util;
mod evidence;
mod evidence_audit;
mod evidence_cli;
mod evidence_git;
mod evidence_s3;
mod git_differential;
mod github_fake;
mod hardening;
mod junit;
mod render;
mod tickets_fakes;
mod tickets_find;
mod tickets_link;
mod trust;
