//! Change tickets (issue 6, CC8.1): which Jira, Linear and GitHub issues a change belongs to,
//! the `tickets.required` gate, and linking the run's verdict and evidence back to each ticket.
//!
//! Everything here takes plain data: a [`ChangeContext`] (what the Action reads from the event),
//! a [`RunSummary`] (the decided run and where its evidence went) and [`TicketCredentials`].
//! [`find`] and [`gate`] are pure; [`link`] talks to the trackers through [`jira`], [`linear`]
//! and [`github_issues`] (which goes through the one GitHub client, [`crate::publish::github`]),
//! the only modules that do I/O. A tracker failure becomes a
//! [`LinkResult`] with the tracker's own message; it never aborts the run. See `docs/tickets.md`.

pub mod github_issues;
mod http;
pub mod jira;
pub mod linear;
mod secret;
mod text;

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::config::Gated;
use crate::model::gate::Check;
use crate::model::report::{Gate, Report, Verdict};
use crate::render::escape::inline;

pub use secret::{
    GithubCredentials, JiraCredentials, LinearCredentials, Secret, TicketCredentials,
};

/// At most this many tickets are linked per run (a body listing hundreds of keys must not
/// turn into hundreds of API calls); the rest are listed as skipped.
pub const MAX_LINKED: usize = 20;

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
}

impl ChangeContext {
    /// Merge-time post: merged into the default branch.
    pub fn is_release(&self) -> bool {
        self.merged && self.base_is_default
    }

    /// One stable ID per repository + PR (Jira `globalId`, comment markers).
    pub fn stable_id(&self) -> String {
        match self.pr_number {
            Some(n) => format!("controlgate:{}#{n}", self.repository),
            None => format!("controlgate:{}@{}", self.repository, self.head_branch),
        }
    }

    /// `owner/repo#12`, or `owner/repo@branch` without a PR.
    pub fn change_name(&self) -> String {
        match self.pr_number {
            Some(n) => format!("{}#{n}", self.repository),
            None => format!("{}@{}", self.repository, self.head_branch),
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

impl RunSummary {
    /// The summary of a decided report; the caller adds `evidence` and `run_url`.
    pub fn from_report(report: &Report) -> Self {
        use crate::model::report::{ControlStatus, GateStatus};
        RunSummary {
            verdict: report.verdict,
            controls: report
                .controls
                .iter()
                .map(|c| ControlLine {
                    id: c.id.to_string(),
                    status: match c.status {
                        ControlStatus::Pass => "pass",
                        ControlStatus::Fail => "fail",
                        ControlStatus::Untested => "untested",
                    }
                    .to_owned(),
                    passed: c.passed,
                    tests: c.tests,
                })
                .collect(),
            failed_gates: report
                .gates
                .iter()
                .filter(|g| g.status == GateStatus::Fail)
                .map(|g| g.name.clone())
                .collect(),
            coverage: report.coverage.as_ref().map(|c| CoverageDelta {
                project: c.head.percent.map(|p| p.as_f64()),
                base_project: c.base.as_ref().and_then(|b| b.percent).map(|p| p.as_f64()),
                delta_pp: c.delta_pp.map(|p| p.as_f64()),
                patch: c.patch.percent.map(|p| p.as_f64()),
            }),
            evidence: None,
            run_url: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------------------------

/// `tickets:` in `.github/controlgate.yml`. A tracker is enabled by its section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TicketsConfig {
    /// Fail a change without a ticket (CC8.1).
    pub required: Option<Gated<bool>>,
    pub jira: Option<JiraConfig>,
    pub linear: Option<LinearConfig>,
    pub github: Option<GithubIssuesConfig>,
    pub exempt: Exemptions,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JiraConfig {
    /// Project keys (`ENG`, `OPS`); only these are recognised as Jira keys.
    pub projects: Vec<String>,
    /// `https://your-domain.atlassian.net` (credentials may override it).
    pub url: Option<String>,
    /// Upsert a remote link to the PR (default true).
    pub remote_link: bool,
    /// Post (then edit) one comment with the verdict, controls and coverage (default true).
    pub comment: bool,
}

impl Default for JiraConfig {
    fn default() -> Self {
        JiraConfig {
            projects: Vec::new(),
            url: None,
            remote_link: true,
            comment: true,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinearConfig {
    /// Team keys (`ENG`); only these are recognised as Linear identifiers.
    #[serde(alias = "projects")]
    pub teams: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GithubIssuesConfig {
    /// Count `#123` / `owner/repo#123` in the title, body and commit messages (default true);
    /// issues linked to the PR always count.
    pub references: bool,
    /// Keep one sticky comment on each linked issue (default true).
    pub comment: bool,
}

impl Default for GithubIssuesConfig {
    fn default() -> Self {
        GithubIssuesConfig {
            references: true,
            comment: true,
        }
    }
}

/// Changes that need no ticket: matched exactly, case-insensitively.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Exemptions {
    pub labels: Vec<String>,
    /// Logins such as `dependabot[bot]`, `renovate[bot]`.
    pub authors: Vec<String>,
}

impl TicketsConfig {
    /// Whether any tracker is configured.
    pub fn any_tracker(&self) -> bool {
        self.jira.is_some() || self.linear.is_some() || self.github.is_some()
    }

    /// Checks project/team keys and that a required gate has something to accept.
    pub fn validate(&self) -> Result<(), String> {
        let key_ok = |k: &str| {
            let mut chars = k.chars();
            chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        };
        for (what, keys) in [
            (
                "tickets.jira.projects",
                self.jira.as_ref().map(|j| &j.projects),
            ),
            (
                "tickets.linear.teams",
                self.linear.as_ref().map(|l| &l.teams),
            ),
        ] {
            let Some(keys) = keys else { continue };
            if keys.is_empty() {
                return Err(format!(
                    "{what}: list the keys to recognise (e.g. [ENG, OPS]); without them every `ABC-123` (SHA-256, UTF-8) would match"
                ));
            }
            for k in keys {
                if !key_ok(k) {
                    return Err(format!(
                        "{what}: `{k}` is not a key (upper-case letters, digits and `_`, starting with a letter, e.g. ENG)"
                    ));
                }
            }
        }
        if let Some(url) = self.jira.as_ref().and_then(|j| j.url.as_deref())
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(format!(
                "tickets.jira.url: `{url}` is not an http(s) URL (e.g. https://acme.atlassian.net)"
            ));
        }
        if self.required.as_ref().is_some_and(|r| r.value) && !self.any_tracker() {
            return Err(
                "tickets.required: configure at least one of tickets.jira, tickets.linear or tickets.github"
                    .into(),
            );
        }
        Ok(())
    }
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

/// Finds the change's tickets: the PR title, head branch, body and commit messages (in that
/// order), then GitHub's linked issues. Each ticket is listed once, with its first source.
///
/// Jira/Linear keys count only for the configured project/team keys, bounded by characters
/// that are not ASCII letters or digits (`feature/ENG-123-login`, `(ENG-123)`, `.../browse/ENG-123`,
/// `ENG-123_fix`). Branch names match case-insensitively (`feature/eng-123-login`; Linear's
/// generated branch names are lower-case); elsewhere only upper-case keys count, so prose such as
/// `eng-1` does not. GitHub references (`#12`, `owner/repo#12`, issue URLs on github.com) are
/// read from the title, body and commits, never from branch names.
pub fn find(ctx: &ChangeContext, cfg: &TicketsConfig) -> Vec<TicketRef> {
    let mut out: Vec<TicketRef> = Vec::new();
    let keys = KeyMatcher::new(cfg);
    let refs = cfg.github.as_ref().is_some_and(|g| g.references);
    let push = |out: &mut Vec<TicketRef>, t: TicketRef| {
        if !out
            .iter()
            .any(|o| o.tracker == t.tracker && o.key.eq_ignore_ascii_case(&t.key))
        {
            out.push(t);
        }
    };
    let commits: Vec<String> = ctx
        .commit_messages
        .iter()
        .map(|m| strip_merge_lines(m))
        .collect();
    let mut texts: Vec<(Source, &str)> = vec![
        (Source::Title, ctx.pr_title.as_str()),
        (Source::Branch, ctx.head_branch.as_str()),
        (Source::Body, ctx.pr_body.as_str()),
    ];
    texts.extend(commits.iter().map(|m| (Source::Commit, m.as_str())));
    for (source, text) in texts {
        if let Some(k) = &keys {
            for (tracker, key) in k.find(text, source == Source::Branch) {
                push(
                    &mut out,
                    TicketRef {
                        tracker,
                        key,
                        source,
                    },
                );
            }
        }
        if refs && source != Source::Branch {
            for issue in github_refs(text, &ctx.repository) {
                if issue.repository.eq_ignore_ascii_case(&ctx.repository)
                    && Some(issue.number) == ctx.pr_number
                {
                    continue; // the PR itself
                }
                push(
                    &mut out,
                    TicketRef {
                        tracker: Tracker::Github,
                        key: format!("{}#{}", issue.repository, issue.number),
                        source,
                    },
                );
            }
        }
    }
    if cfg.github.is_some() {
        for issue in &ctx.linked_issues {
            push(
                &mut out,
                TicketRef {
                    tracker: Tracker::Github,
                    key: format!("{}#{}", issue.repository, issue.number),
                    source: Source::LinkedIssue,
                },
            );
        }
    }
    out
}

/// GitHub's merge commits say "Merge pull request #45 from owner/branch": that names a PR,
/// not a ticket.
fn strip_merge_lines(message: &str) -> String {
    message
        .lines()
        .filter(|l| !l.trim_start().starts_with("Merge pull request #"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Matches configured project/team keys.
struct KeyMatcher {
    re: regex::Regex,
    re_ci: regex::Regex,
    jira: Vec<String>,
    linear: Vec<String>,
}

impl KeyMatcher {
    fn new(cfg: &TicketsConfig) -> Option<Self> {
        let jira: Vec<String> = cfg
            .jira
            .as_ref()
            .map(|j| j.projects.iter().map(|k| k.to_ascii_uppercase()).collect())
            .unwrap_or_default();
        let linear: Vec<String> = cfg
            .linear
            .as_ref()
            .map(|l| l.teams.iter().map(|k| k.to_ascii_uppercase()).collect())
            .unwrap_or_default();
        let mut all: Vec<&String> = jira.iter().chain(&linear).collect();
        if all.is_empty() {
            return None;
        }
        // Longest first, so `ENGX` is tried before `ENG`.
        all.sort_by_key(|k| std::cmp::Reverse(k.len()));
        all.dedup();
        let alt: Vec<String> = all.iter().map(|k| regex::escape(k)).collect();
        let pat = format!("({})-([1-9][0-9]*)", alt.join("|"));
        Some(KeyMatcher {
            re: regex::Regex::new(&pat).ok()?,
            re_ci: regex::Regex::new(&format!("(?i){pat}")).ok()?,
            jira,
            linear,
        })
    }

    /// `(tracker, KEY-123)` for each bounded key in `text` (a key configured for both
    /// trackers yields both).
    fn find(&self, text: &str, case_insensitive: bool) -> Vec<(Tracker, String)> {
        let re = if case_insensitive {
            &self.re_ci
        } else {
            &self.re
        };
        let mut out = Vec::new();
        for caps in re.captures_iter(text) {
            let (Some(m), Some(prefix), Some(num)) = (caps.get(0), caps.get(1), caps.get(2)) else {
                continue;
            };
            let before = text[..m.start()].chars().next_back();
            let after = text[m.end()..].chars().next();
            if before.is_some_and(|c| c.is_ascii_alphanumeric())
                || after.is_some_and(|c| c.is_ascii_alphanumeric())
            {
                continue;
            }
            let prefix = prefix.as_str().to_ascii_uppercase();
            let key = format!("{prefix}-{}", num.as_str());
            if self.jira.contains(&prefix) {
                out.push((Tracker::Jira, key.clone()));
            }
            if self.linear.contains(&prefix) {
                out.push((Tracker::Linear, key));
            }
        }
        out
    }
}

/// `#12` (in `repository`), `owner/repo#12` and `https://github.com/owner/repo/issues/12`.
fn github_refs(text: &str, repository: &str) -> Vec<GithubIssue> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let Some(re) = RE
        .get_or_init(|| {
            regex::Regex::new(
                r"https?://github\.com/([A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+)/issues/([1-9][0-9]*)|(?:([A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+))?#([1-9][0-9]*)",
            )
            .ok()
        })
        .as_ref()
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for caps in re.captures_iter(text) {
        let Some(m) = caps.get(0) else { continue };
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        // `&#35;` (an entity), `abc#1`, `#12a` and `#1.5` are not references.
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || "&/_-.#".contains(c))
            || after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        let (repo, num) = match (caps.get(1), caps.get(2), caps.get(3), caps.get(4)) {
            (Some(r), Some(n), _, _) => (r.as_str().to_owned(), n.as_str()),
            (_, _, r, Some(n)) => (
                r.map_or_else(|| repository.to_owned(), |r| r.as_str().to_owned()),
                n.as_str(),
            ),
            _ => continue,
        };
        if repo.is_empty() {
            continue;
        }
        let Ok(number) = num.parse::<u64>() else {
            continue;
        };
        out.push(GithubIssue {
            repository: repo,
            number,
        });
    }
    out
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

/// The exemption that applies to the change, if any (labels first).
pub fn exemption(ctx: &ChangeContext, cfg: &TicketsConfig) -> Option<Exemption> {
    let label = ctx.labels.iter().find(|l| {
        cfg.exempt
            .labels
            .iter()
            .any(|e| e.trim().eq_ignore_ascii_case(l.trim()))
    });
    if let Some(l) = label {
        return Some(Exemption {
            by: "label".into(),
            value: l.clone(),
        });
    }
    cfg.exempt
        .authors
        .iter()
        .any(|a| !ctx.author.is_empty() && a.trim().eq_ignore_ascii_case(ctx.author.trim()))
        .then(|| Exemption {
            by: "author".into(),
            value: ctx.author.clone(),
        })
}

/// What a change is expected to carry, for the gate's message.
pub fn accepted_patterns(cfg: &TicketsConfig) -> String {
    fn examples(keys: &[String]) -> String {
        let ex: Vec<String> = keys.iter().map(|k| format!("{k}-123")).collect();
        match ex.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
        }
    }
    let mut keyed = Vec::new();
    if let Some(j) = &cfg.jira {
        keyed.push(format!("a Jira key like {}", examples(&j.projects)));
    }
    if let Some(l) = &cfg.linear {
        keyed.push(format!("a Linear issue like {}", examples(&l.teams)));
    }
    let mut parts = Vec::new();
    if !keyed.is_empty() {
        parts.push(format!(
            "{} in the PR title, branch name, body or a commit message",
            keyed.join(" or ")
        ));
    }
    match &cfg.github {
        Some(g) if g.references => {
            parts.push("a GitHub issue linked to the PR or referenced as #123 / owner/repo#123 in the title, body or a commit message".into())
        }
        Some(_) => parts.push("a GitHub issue linked to the PR".into()),
        None => {}
    }
    format!("expected {}", parts.join(", or "))
}

/// The `tickets.required` gate (CC8.1); `None` when not configured. Without a change context
/// (the offline `report` command) it is informational: "not evaluated".
pub fn gate(
    cfg: &TicketsConfig,
    ctx: Option<&ChangeContext>,
    section: Option<&TicketsSection>,
) -> Option<Gate> {
    let req = cfg.required.as_ref().filter(|r| r.value)?;
    const NAME: &str = "tickets.required";
    let (Some(_), Some(section)) = (ctx, section) else {
        return Some(Gate::decide(
            NAME,
            req.policy(),
            Check::missing("no change context (not a pull request or push run)"),
        ));
    };
    if !section.tickets.is_empty() {
        let shown: Vec<String> = section
            .tickets
            .iter()
            .take(5)
            .map(|t| format!("{} ({})", t.key, t.source.describe()))
            .collect();
        let more = section.tickets.len().saturating_sub(shown.len());
        let mut detail = format!("CC8.1 change ticket: {}", shown.join(", "));
        if more > 0 {
            let _ = write!(detail, " and {more} more");
        }
        return Some(Gate::decide(NAME, req.policy(), Check::Held(detail)));
    }
    if let Some(e) = &section.exemption {
        return Some(Gate::decide(
            NAME,
            req.policy(),
            Check::Held(format!(
                "no ticket needed: {} `{}` is exempt (tickets.exempt.{}s)",
                e.by, e.value, e.by
            )),
        ));
    }
    Some(Gate::decide(
        NAME,
        req.policy(),
        Check::Broken(format!(
            "no change ticket (CC8.1): {}",
            accepted_patterns(cfg)
        )),
    ))
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

/// The pure part: tickets found and the exemption.
pub fn section(ctx: &ChangeContext, cfg: &TicketsConfig) -> TicketsSection {
    TicketsSection {
        tickets: find(ctx, cfg),
        exemption: exemption(ctx, cfg),
        links: Vec::new(),
        release: ctx.is_release(),
    }
}

/// Finds the change's tickets and links the run to each: Jira remote link (+ comment), Linear
/// attachment, GitHub sticky comment. Never fails: each tracker problem is a
/// [`LinkStatus::Failed`] entry carrying the tracker's message, scrubbed of every token.
///
/// Runs its HTTP on a thread of its own, so it may be called from inside an async runtime.
pub fn link(
    ctx: &ChangeContext,
    cfg: &TicketsConfig,
    creds: &TicketCredentials,
    summary: &RunSummary,
) -> TicketsSection {
    let mut out = section(ctx, cfg);
    let tickets = out.tickets.clone();
    let links = std::thread::scope(|s| {
        s.spawn(|| link_all(ctx, cfg, creds, summary, &tickets))
            .join()
            .unwrap_or_else(|_| {
                vec![LinkResult {
                    tracker: Tracker::Github,
                    ticket: String::new(),
                    action: "link".into(),
                    status: LinkStatus::Failed,
                    message: Some("ticket linking thread failed".into()),
                }]
            })
    });
    // Trackers echo what they were sent (a 403 body repeating the `Authorization` header):
    // every token, and its encodings (base64 of `email:token`), is redacted.
    let secrets: Vec<String> = creds.secrets().into_iter().map(str::to_owned).collect();
    let redactor = crate::redact::Redactor::new(&secrets, &[]).ok();
    let mut counts = crate::redact::Redactions::default();
    out.links = links
        .into_iter()
        .map(|mut l| {
            l.message = l.message.map(|m| {
                // The plain replacement first: a token shorter than the redactor's minimum.
                let m = secret::scrub(&m, &creds.secrets());
                match &redactor {
                    Some(r) => r.redact(&m, &mut counts).into_owned(),
                    None => "(the tracker's message is withheld: it could not be redacted)".into(),
                }
            });
            l
        })
        .collect();
    out
}

fn link_all(
    ctx: &ChangeContext,
    cfg: &TicketsConfig,
    creds: &TicketCredentials,
    summary: &RunSummary,
    tickets: &[TicketRef],
) -> Vec<LinkResult> {
    let mut out = Vec::new();
    let skipped = |t: &TicketRef, action: &str, why: &str| LinkResult {
        tracker: t.tracker,
        ticket: t.key.clone(),
        action: action.to_owned(),
        status: LinkStatus::Skipped,
        message: Some(why.to_owned()),
    };
    if tickets.is_empty() {
        return out;
    }
    let failed = |t: &TicketRef, action: &str, why: &str| LinkResult {
        status: LinkStatus::Failed,
        ..skipped(t, action, why)
    };
    // Jira and Linear share a blocking reqwest client; GitHub has its own (the publishing
    // client, `publish::github`), made on first use.
    let client = http::client();
    let mut jira_client = None;
    let mut github_client = None;
    // A tracker that timed out or could not be reached is not tried again in this run (20
    // tickets × 30 s timeouts would hold the job for ten minutes).
    let mut down: Vec<(Tracker, String)> = Vec::new();
    for (i, t) in tickets.iter().enumerate() {
        if let Some((_, why)) = down.iter().find(|(tr, _)| *tr == t.tracker) {
            out.push(skipped(t, "link", &format!("not tried: {why}")));
            continue;
        }
        let before = out.len();
        if i >= MAX_LINKED {
            out.push(skipped(
                t,
                "link",
                &format!("more than {MAX_LINKED} tickets; only the first {MAX_LINKED} are linked"),
            ));
            continue;
        }
        let client = match (&client, t.tracker) {
            (Err(e), Tracker::Jira | Tracker::Linear) => {
                out.push(failed(t, "link", e));
                continue;
            }
            (c, _) => c.as_ref().ok(),
        };
        match t.tracker {
            Tracker::Jira => {
                let (Some(jcfg), Some(client)) = (&cfg.jira, client) else {
                    continue;
                };
                let jc = jira_client.get_or_insert_with(|| jira::Jira::new(client, jcfg, creds));
                match jc {
                    Ok(j) => out.extend(j.link(&t.key, ctx, summary)),
                    Err(why) => out.push(skipped(t, "remote_link", why)),
                }
            }
            Tracker::Linear => match (&creds.linear, client) {
                (Some(l), Some(client)) if !l.api_key.is_empty() => {
                    out.push(linear::Linear::new(client, l).link(&t.key, ctx, summary))
                }
                _ => out.push(skipped(t, "attachment", "no Linear API key")),
            },
            Tracker::Github => {
                let comment = cfg.github.as_ref().is_some_and(|g| g.comment);
                match &creds.github {
                    _ if !comment => {
                        out.push(skipped(t, "comment", "tickets.github.comment is off"))
                    }
                    Some(g) if !g.token.is_empty() => {
                        match github_client.get_or_insert_with(|| github_issues::Github::new(g)) {
                            Ok(gh) => out.push(gh.link(&t.key, ctx, summary)),
                            Err(why) => out.push(failed(t, "comment", why)),
                        }
                    }
                    _ => out.push(skipped(t, "comment", "no GitHub token")),
                }
            }
        }
        if let Some(m) = out[before..].iter().find_map(|l| {
            l.message
                .as_deref()
                .filter(|m| m.contains(" unreachable: ") || m.contains(" timed out: "))
        }) {
            let why = m.split(": ").next().unwrap_or(m).to_owned();
            down.push((t.tracker, why));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Markdown (PR comment section)
// ---------------------------------------------------------------------------------------------

/// The "Change tickets" section of the PR comment. Untrusted text (keys come from PR text,
/// messages from trackers) is escaped.
pub fn render_tickets(section: &TicketsSection) -> String {
    let mut s = String::from("### Change tickets\n\n");
    if section.tickets.is_empty() {
        s.push_str("No change ticket found");
        match &section.exemption {
            Some(e) => {
                let _ = writeln!(s, "; exempt by {} {}.", e.by, inline(&e.value, 100));
            }
            None => s.push_str(".\n"),
        }
        s.push('\n');
    } else {
        s.push_str("| Ticket | Tracker | Found in | Linked |\n|---|---|---|---|\n");
        for t in &section.tickets {
            let links: Vec<String> = section
                .links
                .iter()
                .filter(|l| l.tracker == t.tracker && l.ticket == t.key)
                .map(|l| {
                    let mark = match l.status {
                        LinkStatus::Created | LinkStatus::Updated | LinkStatus::Upserted => "✅",
                        LinkStatus::Skipped => "⏭️",
                        LinkStatus::Failed => "⚠️",
                    };
                    let status = serde_json::to_value(l.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    let mut cell = format!("{mark} {} {status}", l.action.replace('_', " "));
                    if let Some(m) = &l.message
                        && l.status == LinkStatus::Failed
                    {
                        let _ = write!(cell, ": {}", inline(m, 160));
                    }
                    cell
                })
                .collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                inline(&t.key, 120),
                t.tracker.name(),
                t.source.describe(),
                if links.is_empty() {
                    "—".to_owned()
                } else {
                    links.join("<br>")
                }
            );
        }
        if let Some(e) = &section.exemption {
            let _ = writeln!(
                s,
                "\nExempt by {} {} (tickets.exempt).",
                e.by,
                inline(&e.value, 100)
            );
        }
        s.push('\n');
    }
    s
}

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
    }

    #[test]
    fn merge_lines_are_not_references() {
        assert_eq!(
            strip_merge_lines("Merge pull request #45 from a/b\n\nENG-1 fix #3"),
            "\nENG-1 fix #3"
        );
    }
}

crate::redact_fields!(TicketRef: key);
crate::redact_fields!(Exemption: by, value);
crate::redact_fields!(LinkResult: ticket, action, message);
crate::redact_fields!(TicketsSection: tickets, exemption, links);
