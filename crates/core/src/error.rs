//! Library errors and the process exit codes they map to.

use std::path::PathBuf;

/// Exit codes of every `controlgate` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// All gates pass (or `verify` found the chain intact).
    Pass = 0,
    /// A gate failed (or `verify` found tampering).
    Fail = 1,
    /// Bad input, usage or config error: nothing was decided.
    BadInput = 2,
}

/// Where in an input a problem was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub line: Option<u64>,
    pub byte: Option<u64>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.byte) {
            (Some(l), _) => write!(f, ":{l}"),
            (None, Some(b)) => write!(f, " (byte {b})"),
            (None, None) => Ok(()),
        }
    }
}

/// A parse failure inside one input, before the caller knows the file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub location: Location,
    pub message: String,
}

impl ParseError {
    pub fn new(message: impl Into<String>) -> Self {
        ParseError {
            location: Location::default(),
            message: message.into(),
        }
    }

    pub fn at_line(line: u64, message: impl Into<String>) -> Self {
        ParseError {
            location: Location {
                line: Some(line),
                byte: None,
            },
            message: message.into(),
        }
    }

    pub fn at(line: Option<u64>, byte: Option<u64>, message: impl Into<String>) -> Self {
        ParseError {
            location: Location { line, byte },
            message: message.into(),
        }
    }

    /// Names the input the error came from.
    pub fn in_file(self, path: impl Into<PathBuf>) -> Error {
        Error::Input {
            path: path.into(),
            location: self.location,
            message: self.message,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}{location}: {message}", path.display())]
    Input {
        path: PathBuf,
        location: Location,
        message: String,
    },
    #[error("config {}{location}: {message}", path.display())]
    Config {
        path: PathBuf,
        location: Location,
        message: String,
    },
    #[error("{0}")]
    Usage(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("git: {0}")]
    Git(String),
    /// An evidence store could not be opened, read or written: unusable input (exit 2) when
    /// reading; a failed write after the verdict becomes [`Error::Publish`] (with the bundle
    /// kept locally).
    #[error("{0}")]
    Store(String),
    /// The run was decided, but publishing or storing its result failed.
    #[error("{0}")]
    Publish(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Publish(_) => ExitCode::Fail,
            _ => ExitCode::BadInput,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
