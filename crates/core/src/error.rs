//! The core's errors (bad input, config or usage: nothing could be decided) and the exit codes
//! every command documents. Which error maps to which code is decided once, in the binary.

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

/// Why the core could not decide: all of them mean "bad input" to the user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file is not what its format says (with the line or byte where it is not).
    #[error("{}{location}: {message}", path.display())]
    Input {
        path: PathBuf,
        location: Location,
        message: String,
    },
    /// The config file is invalid (with the line of the key).
    #[error("config {}{location}: {message}", path.display())]
    Config {
        path: PathBuf,
        location: Location,
        message: String,
    },
    /// The request cannot be carried out as given (arguments, combinations, settings).
    #[error("{0}")]
    Usage(String),
    /// A setting (config key or action input) whose value cannot be used: a pattern that does
    /// not compile, a glob that does not parse.
    #[error("{key}: {message}")]
    Setting { key: String, message: String },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn setting(key: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Error::Setting {
            key: key.into(),
            message: message.to_string(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
