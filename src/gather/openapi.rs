//! GATHER: OpenAPI descriptions read from the file system (the head's `api.specs` and
//! `--api-base-spec`) for the pure loader in [`crate::ingest::openapi`].

use std::path::Path;

use crate::ingest::openapi::Source;
use controlgate_core::error::{Error, ParseError};

/// The file system.
pub struct Files;

impl Source for Files {
    fn read(&mut self, path: &Path) -> Result<(String, String, u64), Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let sha = {
            use sha2::Digest;
            crate::inputs::hex(&sha2::Sha256::digest(&bytes))
        };
        let n = bytes.len() as u64;
        let text = String::from_utf8(bytes).map_err(|e| {
            ParseError::at(
                None,
                Some(e.utf8_error().valid_up_to() as u64),
                "not UTF-8 text",
            )
            .in_file(path)
        })?;
        Ok((text, sha, n))
    }
}
