//! The one integration-test binary. Each module covers one part of the pipeline.

mod action;
mod action_container;
mod github_fake;
mod junit;
mod render;
