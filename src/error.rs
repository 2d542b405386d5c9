//! The binary's errors and the one place an error becomes an exit code: every crate's error
//! kinds are matched here (a library never picks a process exit code).

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
    /// The config file cannot be read.
    #[error("config {}{location}: {message}", path.display())]
    Config {
        path: PathBuf,
        location: Location,
        message: String,
    },
    /// The request cannot be carried out as given.
    #[error("{0}")]
    Usage(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Core(#[from] controlgate_core::Error),
    #[error(transparent)]
    Evidence(#[from] controlgate_evidence::Error),
    #[error(transparent)]
    Forge(#[from] controlgate_forge::Error),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The exit code of a command that ended with this error; see [`exit_code_of`].
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Core(e) => exit_code_of(e),
            Error::Evidence(e) => exit_code_of(e),
            Error::Forge(e) => exit_code_of(e),
            Error::Input { .. } | Error::Config { .. } | Error::Usage(_) | Error::Io { .. } => {
                ExitCode::BadInput
            }
        }
    }
}

/// The one place an error becomes an exit code, whichever crate raised it: 2 when nothing could
/// be decided (bad input, config or usage, an unreadable file or store, git), 1 when the run
/// was decided but its evidence did not reach the store (docs/action.md, docs/evidence.md).
/// Errors of no crate of controlgate (writing to a closed stdout) are 2 as well.
pub fn exit_code_of(e: &(dyn std::error::Error + 'static)) -> ExitCode {
    own_exit_code(e).unwrap_or(ExitCode::BadInput)
}

/// The exit code of `e` when it is one of controlgate's own errors, `None` otherwise. A chain
/// of causes (contexts added by the binary, the I/O error under an input error) is decided by
/// its first error of controlgate's: a context message is never the reason a run failed.
pub fn own_exit_code(e: &(dyn std::error::Error + 'static)) -> Option<ExitCode> {
    use controlgate_evidence::Error as Ev;
    if let Some(e) = e.downcast_ref::<Error>() {
        return Some(e.exit_code());
    }
    if let Some(e) = e.downcast_ref::<Ev>() {
        return Some(match e {
            Ev::NotRetained(_) => ExitCode::Fail,
            Ev::Input { .. }
            | Ev::Usage(_)
            | Ev::Io { .. }
            | Ev::Store(_)
            // Outside `verify` (which names it as tampering): the store cannot be used.
            | Ev::Altered(_)
            | Ev::Git(_)
            | Ev::Core(_) => ExitCode::BadInput,
        });
    }
    if let Some(e) = e.downcast_ref::<controlgate_forge::Error>() {
        return Some(match e {
            controlgate_forge::Error::Input { .. }
            | controlgate_forge::Error::Usage(_)
            | controlgate_forge::Error::Io { .. }
            | controlgate_forge::Error::Git(_)
            | controlgate_forge::Error::Core(_) => ExitCode::BadInput,
        });
    }
    if let Some(e) = e.downcast_ref::<controlgate_core::Error>() {
        return Some(match e {
            controlgate_core::Error::Input { .. }
            | controlgate_core::Error::Config { .. }
            | controlgate_core::Error::Usage(_)
            | controlgate_core::Error::Setting { .. }
            | controlgate_core::Error::Io { .. } => ExitCode::BadInput,
        });
    }
    None
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Core(controlgate_core::Error::Input {
            path: PathBuf::new(),
            location: e.location,
            message: e.message,
        })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
