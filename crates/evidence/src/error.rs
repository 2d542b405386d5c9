//! The evidence crate's errors: a store that cannot be used, git failing under the git store,
//! a run whose evidence could not be retained (after its verdict), and the core's errors.

use std::path::PathBuf;

pub use controlgate_core::error::{ExitCode, Location, ParseError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input is not what it should be (a file that changed after it was hashed).
    #[error("{}{location}: {message}", path.display())]
    Input {
        path: PathBuf,
        location: Location,
        message: String,
    },
    /// The request cannot be carried out (no ledger to verify, a bad store setting).
    #[error("{0}")]
    Usage(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A store could not be opened, read or written (unreachable, missing bucket, a key that
    /// holds other content, writers contending past the retry cap).
    #[error("{0}")]
    Store(String),
    /// The store holds what no writer of it puts there (a link, a pipe, a directory in a
    /// file's place): `verify` reports it as tampering.
    #[error("{0}")]
    Altered(String),
    /// git failed under the git store.
    #[error("git: {0}")]
    Git(String),
    /// The run was decided, but its evidence did not reach the store; the message says where
    /// the bundle was kept instead.
    #[error("{0}")]
    NotRetained(String),
    #[error(transparent)]
    Core(#[from] controlgate_core::Error),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
