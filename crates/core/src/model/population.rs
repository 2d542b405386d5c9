//! The changes that reached the default branch in an audit period, as the forge lists them:
//! what an audit's sample must be drawn from (a complete population), joined with the ledger
//! by `controlgate-evidence`. Plain data: `controlgate-forge` fills it from GitHub's API.

use serde::{Deserialize, Serialize};

/// One change on the default branch: a merged pull request or a direct push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedChange {
    /// The pull request, `None` for a commit pushed to the branch directly.
    pub pr: Option<u64>,
    /// The PR's title, or the first line of the pushed commit's message.
    pub title: String,
    /// The commit that was reviewed and tested: the PR's head when it merged, or the pushed
    /// commit.
    pub head_sha: String,
    /// The commit on the default branch (merge or squash commit, or the pushed commit).
    pub merge_sha: Option<String>,
    /// When it reached the branch (RFC 3339).
    pub merged_at: String,
    /// Who merged or pushed it (login), when known.
    pub by: Option<String>,
    pub url: Option<String>,
}
