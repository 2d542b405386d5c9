//! The one integration-test binary. Each module covers one part of the pipeline.
mod evidence;
mod evidence_audit;
mod evidence_git;
mod evidence_s3;
