//! Change tickets as plain data: what the change is ([`ChangeContext`], read from the event),
//! what the run decided ([`RunSummary`]), the tickets found and the exemption, and what linking
//! did ([`TicketsSection`], `tickets` in report.json). Found by `analyze::tickets`, linked by
//! the trackers in `tickets`.

use serde::{Deserialize, Serialize};

use crate::model::gate::Verdict;

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/// A GitHub issue: `owner/repo` and number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GithubIssue {
    pub repository: String,
    pub number: u64,
}

/// What the change is, as the Action reads it from the event (plain data, no env access here).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChangeContext {
    /// `owner/repo`.
    pub repository: String,
    /// `None` for a push without a pull request.
    pub pr_number: Option<u64>,
    pub pr_title: String,
    pub pr_body: String,
    pub head_branch: String,
    /// Full messages, oldest first.
    pub commit_messages: Vec<String>,
    pub labels: Vec<String>,
    /// Login of the PR author (or the pusher).
    pub author: String,
    /// The PR's HTML URL (links and stable IDs point here).
    pub pr_url: String,
    /// GitHub issues linked to the PR (GraphQL `closingIssuesReferences`).
    pub linked_issues: Vec<GithubIssue>,
    /// The change was merged (`pull_request` closed+merged, or a push).
    pub merged: bool,
    /// It landed on (or targets) the repository's default branch.
    pub base_is_default: bool,
    /// A push: the branch's previous tip and the pushed commit. A release (a push to the
    /// default branch) is its own record on the ticket, named by both.
    pub pushed: Option<CommitRange>,
}

/// A push's commits: the branch's tip before and after it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRange {
    pub before: String,
    pub after: String,
}

fn short_sha(sha: &str) -> &str {
    super::short_sha(sha, 7)
}

impl ChangeContext {
    /// Merge-time post: merged into the default branch.
    pub fn is_release(&self) -> bool {
        self.merged && self.base_is_default
    }

    /// The push's commits when this is a release (a push to the default branch).
    fn release_range(&self) -> Option<&CommitRange> {
        self.pushed
            .as_ref()
            .filter(|_| self.pr_number.is_none() && self.is_release())
    }

    /// One stable ID per repository + PR (Jira `globalId`, comment markers); per release for a
    /// push to the default branch, so that a later release adds its own record and never
    /// overwrites an earlier one's (`controlgate:owner/repo@main:1a2b3c4..5d6e7f8`).
    pub fn stable_id(&self) -> String {
        match (self.pr_number, self.release_range()) {
            (Some(n), _) => format!("controlgate:{}#{n}", self.repository),
            (None, Some(r)) => format!(
                "controlgate:{}@{}:{}..{}",
                self.repository,
                self.head_branch,
                short_sha(&r.before),
                short_sha(&r.after)
            ),
            (None, None) => format!("controlgate:{}@{}", self.repository, self.head_branch),
        }
    }

    /// `owner/repo#12`; `owner/repo@main 1a2b3c4..5d6e7f8` for a release; else
    /// `owner/repo@branch`.
    pub fn change_name(&self) -> String {
        match (self.pr_number, self.release_range()) {
            (Some(n), _) => format!("{}#{n}", self.repository),
            (None, Some(r)) => format!(
                "{}@{} {}..{}",
                self.repository,
                self.head_branch,
                short_sha(&r.before),
                short_sha(&r.after)
            ),
            (None, None) => format!("{}@{}", self.repository, self.head_branch),
        }
    }
}

/// Where the run's evidence was retained (from the evidence ledger, as plain data).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceLink {
    /// A URL, or a store location such as `s3://bucket/key` or `git:evidence@<sha>`.
    pub location: String,
    /// `sha256:<hex>` of the bundle.
    pub bundle_digest: String,
}

/// One control's outcome, for the ticket summaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlLine {
    pub id: String,
    /// `pass`, `fail` or `untested`.
    pub status: String,
    pub passed: u64,
    pub tests: u64,
}

/// Project and patch coverage, in percent / percentage points.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageDelta {
    pub project: Option<f64>,
    pub base_project: Option<f64>,
    pub delta_pp: Option<f64>,
    pub patch: Option<f64>,
}

/// The decided run, as the trackers are told about it.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub verdict: Verdict,
    pub controls: Vec<ControlLine>,
    /// Names of gates that failed the run.
    pub failed_gates: Vec<String>,
    pub coverage: Option<CoverageDelta>,
    pub evidence: Option<EvidenceLink>,
    /// The workflow run, when known.
    pub run_url: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Finding tickets
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tracker {
    Jira,
    Linear,
    Github,
}

impl Tracker {
    pub fn name(self) -> &'static str {
        match self {
            Tracker::Jira => "Jira",
            Tracker::Linear => "Linear",
            Tracker::Github => "GitHub",
        }
    }
}

/// Where a ticket was first found, in search order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Title,
    Branch,
    Body,
    Commit,
    /// GitHub's linked issues (`closingIssuesReferences`).
    LinkedIssue,
}

impl Source {
    pub fn describe(self) -> &'static str {
        match self {
            Source::Title => "PR title",
            Source::Branch => "branch name",
            Source::Body => "PR body",
            Source::Commit => "commit message",
            Source::LinkedIssue => "linked issue",
        }
    }
}

/// A ticket of the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRef {
    pub tracker: Tracker,
    /// `ENG-123` (upper-cased), or `owner/repo#12` for GitHub.
    pub key: String,
    /// The first place it was found.
    pub source: Source,
}

// ---------------------------------------------------------------------------------------------
// Gate
// ---------------------------------------------------------------------------------------------

/// Why a change needs no ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exemption {
    /// `label` or `author`.
    pub by: String,
    pub value: String,
}

// ---------------------------------------------------------------------------------------------
// The report section
// ---------------------------------------------------------------------------------------------

/// What happened on one tracker for one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkStatus {
    Created,
    Updated,
    /// Written idempotently; the tracker does not say whether it existed (Linear).
    Upserted,
    /// Not attempted (no credentials, disabled, over the limit).
    Skipped,
    Failed,
}

/// One write (remote link, comment, attachment) to one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkResult {
    pub tracker: Tracker,
    pub ticket: String,
    /// `remote_link`, `comment` or `attachment`.
    pub action: String,
    pub status: LinkStatus,
    /// The tracker's message (errors) or why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `tickets` in `report.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketsSection {
    pub tickets: Vec<TicketRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemption: Option<Exemption>,
    /// Writes to the trackers ([`link`]); empty in the report the evidence holds, which is
    /// decided before linking.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkResult>,
    /// The merge-time post (merged into the default branch).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub release: bool,
}

crate::redact_fields!(TicketRef: key);
crate::redact_fields!(Exemption: by, value);
crate::redact_fields!(LinkResult: ticket, action, message);
crate::redact_fields!(TicketsSection: tickets, exemption, links);

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn stable_ids() {
        let mut c = ChangeContext {
            repository: "acme/pay".into(),
            pr_number: Some(7),
            head_branch: "main".into(),
            ..Default::default()
        };
        assert_eq!(c.stable_id(), "controlgate:acme/pay#7");
        c.pr_number = None;
        assert_eq!(c.stable_id(), "controlgate:acme/pay@main");
        // A release: a push to the default branch is named by its commits.
        c.merged = true;
        c.base_is_default = true;
        c.pushed = Some(CommitRange {
            before: "1a2b3c4d5e".into(),
            after: "5d6e7f8a9b".into(),
        });
        assert_eq!(c.stable_id(), "controlgate:acme/pay@main:1a2b3c4..5d6e7f8");
        assert_eq!(c.change_name(), "acme/pay@main 1a2b3c4..5d6e7f8");
        c.base_is_default = false;
        assert_eq!(c.stable_id(), "controlgate:acme/pay@main", "not a release");
    }
}
