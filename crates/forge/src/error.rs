//! The forge crate's errors: the Actions environment or an input that cannot be used, files
//! that cannot be read, git failing, and the core's errors. (Publishing to GitHub and linking
//! tickets never fail the run: their problems are results, see `publish` and `tickets`.)

use std::path::PathBuf;

pub use controlgate_core::error::{ExitCode, Location, ParseError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file is not what its format says.
    #[error("{}{location}: {message}", path.display())]
    Input {
        path: PathBuf,
        location: Location,
        message: String,
    },
    /// The environment or an input cannot be used as given.
    #[error("{0}")]
    Usage(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// git could not answer (no repository, unknown base, a shallow clone).
    #[error("git: {0}")]
    Git(String),
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
