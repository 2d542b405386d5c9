//! The coverage stage's inputs as plain data: the reports read by the caller, the change
//! measured, and the options.

use std::path::PathBuf;

use crate::model::coverage::{ChangedFile, CoverageRefs};

/// One coverage report, already read by the caller.
#[derive(Debug, Clone)]
pub struct ReportInput {
    /// Shown in messages and in `coverage.inputs`.
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// The change measured: where it came from, the changed files with their added lines, and the
/// repository's file lists (head, and base when a base report is matched). Gathered by the
/// caller from git or a unified diff; plain data here.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub refs: CoverageRefs,
    pub files: Vec<ChangedFile>,
    /// Every file path of the head tree (repository-relative).
    pub head_files: Vec<String>,
    /// Every file path of the base tree (empty unless a base report is to be matched).
    pub base_files: Vec<String>,
    /// The absolute forms of the repository root that report paths may start with (as given,
    /// canonical, git's work tree).
    pub roots: Vec<PathBuf>,
}

/// What the coverage stage is asked, besides the parsed reports and the changes.
#[derive(Debug, Clone)]
pub struct CoverageOptions {
    /// `before::after` rewrites applied to report paths (like Codecov's `fixes`).
    pub path_fixes: Vec<String>,
    /// The value of `$GITHUB_WORKSPACE`, stripped from report paths.
    pub workspace: Option<String>,
    /// How many indirect changes to list.
    pub indirect_limit: usize,
}

impl Default for CoverageOptions {
    fn default() -> Self {
        CoverageOptions {
            path_fixes: Vec::new(),
            workspace: None,
            indirect_limit: 10,
        }
    }
}
