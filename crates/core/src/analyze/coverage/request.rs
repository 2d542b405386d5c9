//! The coverage stage's inputs as plain data: the reports read by the caller, the change
//! measured, and the options.

use std::path::PathBuf;
use std::sync::Arc;

use crate::model::coverage::{ChangedFile, CoverageRefs};

/// One coverage report, already read by the caller.
#[derive(Debug, Clone)]
pub struct ReportInput {
    /// Shown in messages and in `coverage.inputs`.
    pub path: PathBuf,
    pub bytes: ReportBytes,
}

/// A report's bytes, only ever read here: a vector, or whatever the caller holds them in (a
/// large report is mapped from its file rather than copied: copying tens of MB into fresh
/// memory costs more than parsing them).
#[derive(Clone)]
pub struct ReportBytes(Arc<dyn AsRef<[u8]> + Send + Sync>);

impl ReportBytes {
    /// Bytes the caller holds (and may keep a handle on, to check later).
    pub fn shared(bytes: Arc<dyn AsRef<[u8]> + Send + Sync>) -> Self {
        ReportBytes(bytes)
    }
}

impl From<Vec<u8>> for ReportBytes {
    fn from(bytes: Vec<u8>) -> Self {
        ReportBytes(Arc::new(bytes))
    }
}

impl std::ops::Deref for ReportBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

impl std::fmt::Debug for ReportBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReportBytes({} bytes)", self.len())
    }
}

/// The change measured: where it came from, the changed files with their added lines, and the
/// repository's files. Gathered by the caller from git or a unified diff; plain data here.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub refs: CoverageRefs,
    pub files: Vec<ChangedFile>,
    pub repo: RepoFiles,
}

/// The repository's file lists (head, and base when a base report is matched) and roots: what
/// report paths are matched against. Known before the diff is (git walks the trees while it
/// diffs), so the reports can be mapped meanwhile ([`super::map_reports`]).
#[derive(Debug, Clone, Default)]
pub struct RepoFiles {
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
