//! The GitHub REST API: the ONLY module that talks to GitHub. One client, [`GitHub`] (octocrab
//! underneath), for everything controlgate writes there: the check run, the sticky PR comment,
//! the PR head check of `publish --from`, and the sticky comments on the change's linked GitHub
//! issues ([`crate::tickets::github_issues`]).
//!
//! Requests go through octocrab's typed API: `checks().create_check_run()` /
//! `update_check_run()`, `issues().list_comments()` / `create_comment()`, `pulls().get()`,
//! `current().user()`, with octocrab's models for what comes back. A failed request is
//! `octocrab::Error::GitHub`, which carries the status, GitHub's message and errors, and (since
//! octocrab 0.54.3) the response headers the retries below need (`retry-after`,
//! `x-ratelimit-remaining`, `x-ratelimit-reset`). Three calls have no typed form that fits, and
//! use octocrab's generic typed `get`/`patch` (same errors, same headers) with its models:
//!
//! - a comment update is `PATCH /repos/{o}/{r}/issues/comments/{id}`: octocrab 0.54's
//!   `update_comment` sends POST, which GitHub does not define there;
//! - finding our check run again needs `check_name` and `filter=all`, which
//!   `list_check_runs_for_git_ref` cannot send, and `external_id`, which
//!   `models::checks::CheckRun` lacks (read here next to the model);
//! - the next page of comments is read on the client's base URL (the path and query of the
//!   `Link` header): the absolute link `Octocrab::get_page` follows names the host GitHub sees,
//!   which is not the configured `GITHUB_API_URL` behind a proxy or with a test stand-in.
//!
//! Retries: 5xx, 429 and secondary rate limits (403 with `retry-after`, or an exhausted primary
//! limit with `x-ratelimit-reset`) and transport failures are retried with bounded backoff; the
//! total wait of one client is capped. A create (POST) is never blindly repeated: after a
//! failure that may have reached GitHub, the comment list (or the check runs of the commit) is
//! read again first.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use http::{HeaderMap, Uri};
use octocrab::models::checks::CheckRun as GhCheckRun;
use octocrab::models::issues::Comment;
use octocrab::params::checks::{
    CheckRunConclusion, CheckRunOutput, CheckRunOutputAnnotation, CheckRunOutputAnnotationLevel,
    CheckRunStatus,
};
use octocrab::{Octocrab, Page};

use crate::model::population::MergedChange;
use serde::{Deserialize, Serialize};

/// Annotations per check-run request (GitHub's limit).
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// Pages of 100 comments read while looking for ours.
const MAX_COMMENT_PAGES: usize = 1000;

/// Longest wait to connect, and for each read of a response.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How hard to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Cap on the sum of all waits of one client.
    pub max_total_wait: Duration,
    /// First backoff when the server gives no hint; doubles per attempt.
    pub base_backoff: Duration,
    /// Multiplies every actual sleep (tests use a small factor; waits are still accounted at
    /// their nominal length).
    pub time_scale: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            max_total_wait: Duration::from_secs(120),
            base_backoff: Duration::from_secs(2),
            time_scale: 1.0,
        }
    }
}

/// How a request failed to get an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    TimedOut,
    /// Refused, unknown host, no route.
    Unreachable,
    Failed,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::TimedOut => "timed out",
            Transport::Unreachable => "unreachable",
            Transport::Failed => "request failed",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GhError {
    /// The token may read but not write (fork or Dependabot PR).
    #[error("{what}: GitHub answered 403 \"{message}\": the token is read-only")]
    ReadOnly { what: String, message: String },
    #[error("{what}: GitHub answered {status} \"{message}\"{hint}")]
    Api {
        what: String,
        status: u16,
        message: String,
        hint: String,
    },
    /// No answer from GitHub.
    #[error("{what}: GitHub {failure}: {message}")]
    Transport {
        what: String,
        failure: Transport,
        message: String,
    },
    /// The client could not be built, a request could not be made, or an answer is not what
    /// GitHub documents.
    #[error("{what}: {message}")]
    Client { what: String, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Failure,
    Warning,
    Notice,
}

/// A check-run annotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub annotation_level: Level,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

crate::redact_fields!(Annotation: path, message, title);

impl Annotation {
    fn to_params(&self) -> CheckRunOutputAnnotation {
        CheckRunOutputAnnotation {
            path: self.path.clone(),
            start_line: self.start_line,
            end_line: self.end_line,
            start_column: None,
            end_column: None,
            annotation_level: match self.annotation_level {
                Level::Failure => CheckRunOutputAnnotationLevel::Failure,
                Level::Warning => CheckRunOutputAnnotationLevel::Warning,
                Level::Notice => CheckRunOutputAnnotationLevel::Notice,
            },
            message: self.message.clone(),
            title: self.title.clone(),
            raw_details: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CheckRun {
    pub name: String,
    pub head_sha: String,
    /// `true`: `success`, else `failure` (never `neutral`: a gate fails closed).
    pub success: bool,
    pub title: String,
    pub summary: String,
    pub annotations: Vec<Annotation>,
    pub details_url: Option<String>,
    /// Identifies this run's check run, to find it again after an ambiguous failure.
    pub external_id: String,
}

impl CheckRun {
    fn output(&self, annotations: &[Annotation]) -> CheckRunOutput {
        CheckRunOutput {
            title: self.title.clone(),
            summary: self.summary.clone(),
            text: None,
            annotations: annotations.iter().map(Annotation::to_params).collect(),
            images: Vec::new(),
        }
    }
}

/// A repository, `owner/name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repo<'a> {
    pub owner: &'a str,
    pub name: &'a str,
}

/// What a comment is kept on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thread {
    PullRequest(u64),
    Issue(u64),
}

impl Thread {
    fn number(self) -> u64 {
        match self {
            Thread::PullRequest(n) | Thread::Issue(n) => n,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Thread::PullRequest(_) => "PR",
            Thread::Issue(_) => "issue",
        }
    }

    /// What the job's token needs to comment there.
    fn permission(self) -> &'static str {
        match self {
            Thread::PullRequest(_) => "`pull-requests: write`",
            Thread::Issue(_) => "`issues: write`",
        }
    }
}

/// Which existing comment is ours.
#[derive(Debug, Clone, Copy)]
pub struct Sticky<'a> {
    /// The hidden marker the comment carries.
    pub marker: &'a str,
    /// Only comments written by this login (case-insensitively) count; `None` (the token's
    /// login could not be read: a GitHub App's installation token cannot read `GET /user`):
    /// comments written by a bot account — an App or `github-actions[bot]` — count, never a
    /// person's.
    pub author: Option<&'a str>,
}

impl Sticky<'_> {
    fn matches(&self, c: &Comment) -> bool {
        c.body.as_deref().is_some_and(|b| b.contains(self.marker))
            && match self.author {
                Some(a) => c.user.login.eq_ignore_ascii_case(a),
                None => c.user.r#type == "Bot",
            }
    }
}

/// A comment written by [`GitHub::upsert_comment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted {
    pub html_url: String,
    /// `false`: an existing comment was updated (or left as it is).
    pub created: bool,
    /// The comment was not written, and why (see [`GitHub::upsert_comment_if`]).
    pub left: Option<String>,
}

/// A check run as listed, with the `external_id` octocrab's model does not carry.
#[derive(Deserialize)]
struct ListedCheckRun {
    #[serde(flatten)]
    run: GhCheckRun,
    external_id: Option<String>,
}

#[derive(Deserialize)]
struct ListedCheckRuns {
    #[serde(default)]
    total_count: u64,
    check_runs: Vec<ListedCheckRun>,
}

/// The `external_id` of a check run: unique per invocation (`controlgate:<run id>:<token>`),
/// and, when the run appended to the evidence ledger, the ledger's new tip after it
/// (`…:ledger:<seq>:<entry digest>`): an anchor recorded on GitHub, out of the store writer's
/// reach, that `verify --anchors github` checks the chain against.
pub fn check_run_external_id(run_id: &str, token: &str, tip: Option<(u64, &str)>) -> String {
    match tip {
        Some((seq, digest)) => format!("controlgate:{run_id}:{token}:ledger:{seq}:{digest}"),
        None => format!("controlgate:{run_id}:{token}"),
    }
}

/// The ledger tip an `external_id` records (see [`check_run_external_id`]).
pub fn anchored_tip(external_id: &str) -> Option<(u64, String)> {
    let rest = external_id.strip_prefix("controlgate:")?;
    let (_, tip) = rest.split_once(":ledger:")?;
    let (seq, digest) = tip.split_once(':')?;
    let seq: u64 = seq.parse().ok().filter(|n| *n > 0)?;
    let is_digest = digest.len() == 64
        && digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    is_digest.then(|| (seq, digest.to_owned()))
}

/// A ledger tip recorded in a check run: which one, on which commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedTip {
    pub seq: u64,
    pub digest: String,
    pub head_sha: String,
    /// The check run's page.
    pub url: String,
}

#[derive(Serialize)]
struct RunsQuery {
    per_page: u8,
}

#[derive(Deserialize)]
struct ListedWorkflowRun {
    head_sha: String,
    created_at: String,
}

/// Items asked for per page of the population's listings (GitHub may send fewer), and pages
/// at most.
const LIST_PAGE: u8 = 100;
const MAX_LIST_PAGES: u32 = 1000;

#[derive(Serialize)]
struct PullsQuery<'a> {
    state: &'a str,
    base: &'a str,
    sort: &'a str,
    direction: &'a str,
    per_page: u8,
}

#[derive(Serialize)]
struct CommitsQuery<'a> {
    sha: &'a str,
    since: &'a str,
    until: &'a str,
    per_page: u8,
}

/// The fields of a listed pull request the population reads.
#[derive(Deserialize)]
struct ListedPull {
    number: u64,
    title: String,
    updated_at: String,
    merged_at: Option<String>,
    merge_commit_sha: Option<String>,
    head: ListedSha,
    base: ListedBase,
    user: Option<ListedUser>,
    html_url: Option<String>,
}

#[derive(Deserialize)]
struct ListedSha {
    sha: String,
}

#[derive(Deserialize)]
struct ListedBase {
    #[serde(rename = "ref")]
    git_ref: String,
}

#[derive(Deserialize)]
struct ListedUser {
    login: String,
}

#[derive(Deserialize)]
struct ListedCommit {
    sha: String,
    commit: ListedCommitDetail,
    author: Option<ListedUser>,
    html_url: Option<String>,
}

#[derive(Deserialize)]
struct ListedCommitDetail {
    message: String,
    committer: Option<ListedPerson>,
}

#[derive(Deserialize)]
struct ListedPerson {
    date: Option<String>,
}

/// Why one attempt failed, and whether (after how long) it may be retried.
struct Failure {
    error: GhError,
    retry_after: Option<Duration>,
}

/// What a request is, for messages: `what` names it, `permission` is what the token needs.
#[derive(Clone, Copy)]
struct Op<'a> {
    what: &'a str,
    permission: Option<&'static str>,
}

pub struct GitHub {
    crab: Octocrab,
    policy: RetryPolicy,
    waited: Cell<Duration>,
    log: Box<dyn Fn(&str)>,
}

impl GitHub {
    /// `api_url` is `GITHUB_API_URL`; `log` receives progress lines (never the token).
    /// Must be called inside the tokio runtime that will drive it (octocrab's client is a
    /// tower buffer whose worker is spawned there).
    pub fn new(
        api_url: &str,
        token: &str,
        policy: RetryPolicy,
        log: Box<dyn Fn(&str)>,
    ) -> Result<GitHub, GhError> {
        let setup = |message: String| GhError::Client {
            what: "GitHub client".into(),
            message,
        };
        let crab = Octocrab::builder()
            .base_uri(api_url.trim().trim_end_matches('/'))
            .map_err(|e| setup(format!("bad GITHUB_API_URL `{api_url}`: {e}")))?
            .personal_token(token.trim().to_owned())
            .add_header(
                http::header::ACCEPT,
                "application/vnd.github+json".to_owned(),
            )
            .set_connect_timeout(Some(CONNECT_TIMEOUT))
            .set_read_timeout(Some(READ_TIMEOUT))
            .build()
            .map_err(|e| setup(format!("cannot build the HTTP client: {e}")))?;
        Ok(GitHub {
            crab,
            policy,
            waited: Cell::new(Duration::ZERO),
            log,
        })
    }

    /// Waits before attempt `attempt` (1-based retry count); `false` when the budget is spent.
    async fn backoff(&self, attempt: u32, hinted: Duration, what: &str) -> bool {
        if attempt >= self.policy.max_attempts {
            return false;
        }
        let wait = if hinted.is_zero() {
            self.policy.base_backoff * 2u32.saturating_pow(attempt - 1)
        } else {
            hinted
        };
        let total = self.waited.get() + wait;
        if total > self.policy.max_total_wait {
            (self.log)(&format!(
                "{what}: not retrying: waiting {}s more would exceed the {}s retry budget",
                wait.as_secs(),
                self.policy.max_total_wait.as_secs()
            ));
            return false;
        }
        self.waited.set(total);
        (self.log)(&format!(
            "{what}: retrying in {}s (attempt {} of {})",
            wait.as_secs_f64(),
            attempt + 1,
            self.policy.max_attempts
        ));
        tokio::time::sleep(wait.mul_f64(self.policy.time_scale)).await;
        true
    }

    /// An idempotent request (GET, PATCH): `send` makes one attempt, retried.
    async fn retried<T, F, Fut>(&self, op: Op<'_>, send: F) -> Result<T, GhError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = octocrab::Result<T>>,
    {
        self.retried_write(op, send, || std::future::ready(Ok(None)))
            .await
    }

    /// [`Self::retried`] for a write GitHub may have applied before its answer was lost (a
    /// POST, or a PATCH that appends): after each retryable failure and its back-off, `landed`
    /// looks for the write's effect, and what it finds ends the retries instead of a second
    /// write.
    async fn retried_write<T, F, Fut, L, LFut>(
        &self,
        op: Op<'_>,
        mut send: F,
        mut landed: L,
    ) -> Result<T, GhError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = octocrab::Result<T>>,
        L: FnMut() -> LFut,
        LFut: Future<Output = Result<Option<T>, GhError>>,
    {
        let mut attempt = 1;
        loop {
            match send().await.map_err(|e| failure(e, op)) {
                Ok(v) => return Ok(v),
                Err(Failure {
                    error,
                    retry_after: Some(wait),
                }) => {
                    (self.log)(&error.to_string());
                    if !self.backoff(attempt, wait, op.what).await {
                        return Err(error);
                    }
                    attempt += 1;
                    if let Some(v) = landed().await? {
                        (self.log)(&format!("{}: done before the failure; continuing", op.what));
                        return Ok(v);
                    }
                }
                Err(Failure { error, .. }) => return Err(error),
            }
        }
    }

    /// The login comments are searched under: `GET /user`; `None` when the token cannot read
    /// it (an Actions or a GitHub App installation token: see [`Sticky::author`]).
    pub async fn identity(&self) -> Option<String> {
        let op = Op {
            what: "GET /user",
            permission: None,
        };
        let current = self.crab.current();
        self.retried(op, || current.user())
            .await
            .ok()
            .map(|u| u.login)
    }

    /// The head commit of PR `pr` (`GET /repos/{owner}/{repo}/pulls/{pr}`).
    pub async fn pull_head_sha(&self, repo: Repo<'_>, pr: u64) -> Result<String, GhError> {
        let op = Op {
            what: "reading the PR",
            permission: None,
        };
        let pulls = self.crab.pulls(repo.owner, repo.name);
        let pull = self.retried(op, || pulls.get(pr)).await?;
        Ok(pull.head.sha)
    }

    /// The changes that reached `branch` between `since` and `until` (RFC 3339 UTC, inclusive):
    /// every merged pull request based on it, and every commit on it that no merged pull
    /// request brought (a direct push). Pages through everything; fails rather than return a
    /// partial population.
    pub async fn population(
        &self,
        repo: Repo<'_>,
        branch: &str,
        since: &str,
        until: &str,
    ) -> Result<Vec<MergedChange>, GhError> {
        let in_period = |t: &str| t >= since && t <= until;
        let mut out = Vec::new();
        let pulls_route = format!("/repos/{}/{}/pulls", repo.owner, repo.name);
        let op = Op {
            what: "listing pull requests",
            permission: Some("`pull-requests: read`"),
        };
        // Sorted by last update, newest first: once a PR was last updated before the period,
        // no later one can have merged in it (a merge updates the PR).
        let query = PullsQuery {
            state: "closed",
            base: branch,
            sort: "updated",
            direction: "desc",
            per_page: LIST_PAGE,
        };
        self.list_all(op, &pulls_route, &query, |p: ListedPull| {
            if p.updated_at.as_str() < since {
                return false;
            }
            if let Some(merged_at) = p.merged_at.filter(|t| in_period(t)) {
                out.push(MergedChange {
                    pr: Some(p.number),
                    title: p.title,
                    head_sha: p.head.sha,
                    merge_sha: p.merge_commit_sha,
                    merged_at,
                    by: p.user.map(|u| u.login),
                    url: p.html_url,
                });
            }
            true
        })
        .await?;
        let merged: std::collections::HashSet<String> =
            out.iter().filter_map(|c| c.merge_sha.clone()).collect();
        let commits_route = format!("/repos/{}/{}/commits", repo.owner, repo.name);
        let op = Op {
            what: "listing commits",
            permission: Some("`contents: read`"),
        };
        let query = CommitsQuery {
            sha: branch,
            since,
            until,
            per_page: LIST_PAGE,
        };
        let mut pushed = Vec::new();
        self.list_all(op, &commits_route, &query, |c: ListedCommit| {
            if !merged.contains(&c.sha) {
                pushed.push(c);
            }
            true
        })
        .await?;
        // A commit a merged PR brought (its branch's commits, with a merge commit) names that
        // PR; one that names none was pushed to the branch directly.
        let op = Op {
            what: "listing a commit's pull requests",
            permission: Some("`pull-requests: read`"),
        };
        for c in pushed {
            let route = format!(
                "/repos/{}/{}/commits/{}/pulls",
                repo.owner,
                repo.name,
                segment(&c.sha)
            );
            let pulls: Vec<ListedPull> = self
                .retried(op, || self.crab.get(&route, None::<&()>))
                .await?;
            if pulls
                .iter()
                .any(|p| p.merged_at.is_some() && p.base.git_ref == branch)
            {
                continue;
            }
            out.push(MergedChange {
                pr: None,
                title: c.commit.message.lines().next().unwrap_or("").to_owned(),
                merge_sha: Some(c.sha.clone()),
                merged_at: c.commit.committer.and_then(|p| p.date).unwrap_or_default(),
                head_sha: c.sha,
                by: c.author.map(|u| u.login),
                url: c.html_url,
            });
        }
        out.sort_by(|a, b| a.merged_at.cmp(&b.merged_at));
        Ok(out)
    }

    /// The ledger tips recorded by the check runs named `check_name` on the head commits of
    /// the repository's workflow runs created from `from` to `to` (`YYYY-MM-DD`, inclusive).
    /// Every page is read; a listing that fails is an error, never "no anchors".
    pub async fn recorded_tips(
        &self,
        repo: Repo<'_>,
        check_name: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<RecordedTip>, GhError> {
        let route = format!("/repos/{}/{}/actions/runs", repo.owner, repo.name);
        // Newest first. GitHub's description types `created` as a date-time although the API
        // takes a range: the listing is cut here instead, at the first run before the period.
        let query = RunsQuery {
            per_page: LIST_PAGE,
        };
        let (first, last) = (format!("{from}T00:00:00Z"), format!("{to}T23:59:59Z"));
        let op = Op {
            what: "listing workflow runs",
            permission: Some("`actions: read`"),
        };
        let mut heads: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        self.list_all(op, &route, &query, |r: ListedWorkflowRun| {
            if r.created_at < first {
                return false;
            }
            if r.created_at <= last && seen.insert(r.head_sha.clone()) {
                heads.push(r.head_sha);
            }
            true
        })
        .await?;
        let mut tips = Vec::new();
        for sha in heads {
            // Paged by number until every run was read (reruns can put more than a page of
            // runs on one commit).
            let mut read = 0u64;
            for page in 1..=MAX_LIST_PAGES {
                let listed = self
                    .check_runs_page(repo, &sha, check_name, page, "`checks: read`")
                    .await?;
                let n = listed.check_runs.len() as u64;
                read += n;
                for c in listed.check_runs {
                    if let Some((seq, digest)) = c.external_id.as_deref().and_then(anchored_tip) {
                        tips.push(RecordedTip {
                            seq,
                            digest,
                            head_sha: sha.clone(),
                            url: c.run.html_url.unwrap_or_default(),
                        });
                    }
                }
                if n == 0 || read >= listed.total_count {
                    break;
                }
            }
        }
        tips.sort_by_key(|t| t.seq);
        Ok(tips)
    }

    /// Every item of a listing, page by page along GitHub's `Link: rel="next"`, until `each`
    /// returns `false`. Past [`MAX_LIST_PAGES`] pages it fails: a listing is whole or an error.
    async fn list_all<T, Q>(
        &self,
        op: Op<'_>,
        route: &str,
        query: &Q,
        mut each: impl FnMut(T) -> bool,
    ) -> Result<(), GhError>
    where
        T: serde::de::DeserializeOwned,
        Q: Serialize + ?Sized,
    {
        let mut page: Page<T> = self
            .retried(op, || self.crab.get(route, Some(query)))
            .await?;
        for _ in 0..MAX_LIST_PAGES {
            for item in std::mem::take(&mut page.items) {
                if !each(item) {
                    return Ok(());
                }
            }
            let Some(next) = page.next.as_ref().and_then(on_base) else {
                return Ok(());
            };
            page = self
                .retried(op, || self.crab.get(next.as_str(), None::<&()>))
                .await?;
        }
        Err(GhError::Client {
            what: op.what.to_string(),
            message: format!("more than {MAX_LIST_PAGES} pages: not listing a partial result"),
        })
    }

    /// Every comment of the issue or PR (all pages).
    async fn list_comments(&self, repo: Repo<'_>, on: Thread) -> Result<Vec<Comment>, GhError> {
        let what = format!("listing {} comments", on.noun());
        let op = Op {
            what: &what,
            permission: Some(on.permission()),
        };
        let issues = self.crab.issues(repo.owner, repo.name);
        let mut page: Page<Comment> = self
            .retried(op, || {
                issues.list_comments(on.number()).per_page(100).send()
            })
            .await?;
        let mut out = Vec::new();
        for _ in 0..MAX_COMMENT_PAGES {
            out.append(&mut page.items);
            let Some(next) = page.next.as_ref().and_then(on_base) else {
                break;
            };
            page = self
                .retried(op, || self.crab.get(next.as_str(), None::<&()>))
                .await?;
        }
        Ok(out)
    }

    /// Creates or updates the one comment on `on` that `sticky` finds.
    pub async fn upsert_comment(
        &self,
        repo: Repo<'_>,
        on: Thread,
        sticky: &Sticky<'_>,
        body: &str,
    ) -> Result<Upserted, GhError> {
        self.upsert_comment_if(repo, on, sticky, body, true, &|_| None)
            .await
    }

    /// [`GitHub::upsert_comment`], but an existing comment is left as it is when `keep`
    /// returns why (from its body), and none is created unless `create_missing`.
    pub async fn upsert_comment_if(
        &self,
        repo: Repo<'_>,
        on: Thread,
        sticky: &Sticky<'_>,
        body: &str,
        create_missing: bool,
        keep: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Upserted, GhError> {
        #[derive(Serialize)]
        struct Edit<'a> {
            body: &'a str,
        }
        let (update, create) = (
            format!("updating the {} comment", on.noun()),
            format!("creating the {} comment", on.noun()),
        );
        let op = |what| Op {
            what,
            permission: Some(on.permission()),
        };
        let edit = Edit { body };
        let issues = self.crab.issues(repo.owner, repo.name);
        let mut attempt = 1;
        loop {
            let mut ours: Vec<Comment> = self
                .list_comments(repo, on)
                .await?
                .into_iter()
                .filter(|c| sticky.matches(c))
                .collect();
            // Any bot's (the token's login unknown): the Actions token's own comes first, so
            // another App quoting the marker is taken only when there is none of ours.
            if sticky.author.is_none() {
                ours.sort_by_key(|c| !c.user.login.eq_ignore_ascii_case("github-actions[bot]"));
            }
            if let Some(c) = ours.first() {
                if ours.len() > 1 {
                    (self.log)(&format!(
                        "found {} comments with marker {}; updating the first (the oldest, the Actions \
                         bot's first when the token's login is unknown)",
                        ours.len(),
                        sticky.marker
                    ));
                }
                if let Some(why) = keep(c.body.as_deref().unwrap_or("")) {
                    return Ok(Upserted {
                        html_url: c.html_url.to_string(),
                        created: false,
                        left: Some(why),
                    });
                }
                // PATCH: octocrab's `update_comment` sends POST (see the module doc).
                let route = format!(
                    "/repos/{}/{}/issues/comments/{}",
                    repo.owner, repo.name, c.id
                );
                let updated: Comment = self
                    .retried(op(&update), || self.crab.patch(&route, Some(&edit)))
                    .await?;
                return Ok(Upserted {
                    html_url: updated.html_url.to_string(),
                    created: false,
                    left: None,
                });
            }
            if !create_missing {
                return Ok(Upserted {
                    html_url: String::new(),
                    created: false,
                    left: Some("no comment yet, and this run does not create one".into()),
                });
            }
            match issues.create_comment(on.number(), body).await {
                Ok(c) => {
                    return Ok(Upserted {
                        html_url: c.html_url.to_string(),
                        created: true,
                        left: None,
                    });
                }
                Err(e) => match failure(e, op(&create)) {
                    Failure {
                        error,
                        retry_after: Some(wait),
                    } => {
                        (self.log)(&error.to_string());
                        if !self.backoff(attempt, wait, &create).await {
                            return Err(error);
                        }
                        attempt += 1;
                        // The create may have succeeded: list again before creating.
                    }
                    Failure { error, .. } => return Err(error),
                },
            }
        }
    }

    /// Page `page` of the check runs named `name` on commit `sha`, all of them (`filter=all`),
    /// 100 a page: `{total_count, check_runs}`, paged by number (no `Link` is needed).
    async fn check_runs_page(
        &self,
        repo: Repo<'_>,
        sha: &str,
        name: &str,
        page: u32,
        permission: &'static str,
    ) -> Result<ListedCheckRuns, GhError> {
        #[derive(Serialize)]
        struct Query<'a> {
            check_name: &'a str,
            filter: &'a str,
            per_page: u8,
            page: u32,
        }
        let route = format!(
            "/repos/{}/{}/commits/{}/check-runs",
            repo.owner,
            repo.name,
            segment(sha)
        );
        let query = Query {
            check_name: name,
            filter: "all",
            per_page: LIST_PAGE,
            page,
        };
        let op = Op {
            what: "listing check runs",
            permission: Some(permission),
        };
        self.retried(op, || self.crab.get(&route, Some(&query)))
            .await
    }

    /// Finds this run's check run (by `external_id`) after an ambiguous create.
    async fn find_check_run(
        &self,
        repo: Repo<'_>,
        run: &CheckRun,
    ) -> Result<Option<(u64, String)>, GhError> {
        let listed = self
            .check_runs_page(repo, &run.head_sha, &run.name, 1, "`checks: write`")
            .await?;
        Ok(listed
            .check_runs
            .into_iter()
            .find(|c| c.external_id.as_deref() == Some(run.external_id.as_str()))
            .map(|c| (c.run.id.into_inner(), c.run.html_url.unwrap_or_default())))
    }

    /// Creates the check run with the first 50 annotations, then PATCHes the rest in batches.
    /// Returns its `html_url`.
    pub async fn create_check_run(
        &self,
        repo: Repo<'_>,
        run: &CheckRun,
    ) -> Result<String, GhError> {
        let mut chunks = run.annotations.chunks(ANNOTATIONS_PER_REQUEST);
        let first = chunks.next().unwrap_or(&[]);
        let checks = self.crab.checks(repo.owner, repo.name);
        let create = Op {
            what: "creating the check run",
            permission: Some("`checks: write`"),
        };
        let (id, url) = self
            .retried_write(
                create,
                || {
                    let mut request = checks
                        .create_check_run(&run.name, &run.head_sha)
                        .status(CheckRunStatus::Completed)
                        .conclusion(if run.success {
                            CheckRunConclusion::Success
                        } else {
                            CheckRunConclusion::Failure
                        })
                        .external_id(&run.external_id)
                        .output(run.output(first));
                    if let Some(u) = &run.details_url {
                        request = request.details_url(u);
                    }
                    async move {
                        request
                            .send()
                            .await
                            .map(|c| (c.id.into_inner(), c.html_url.unwrap_or_default()))
                    }
                },
                || self.find_check_run(repo, run),
            )
            .await?;
        let add = Op {
            what: "adding check-run annotations",
            permission: Some("`checks: write`"),
        };
        let read = Op {
            what: "reading the check run",
            permission: None,
        };
        // GitHub appends a PATCH's annotations to the run's: a batch resent after a failure
        // that reached GitHub (a 502 from a proxy, a timeout after the write) would show
        // twice. So after a failure the run's count says whether the batch is already there.
        let mut sent = first.len() as u64;
        for chunk in chunks {
            let with_chunk = sent + chunk.len() as u64;
            let checks = &checks;
            self.retried_write(
                add,
                || {
                    let request = checks
                        .update_check_run(id.into())
                        .output(run.output(chunk))
                        .send();
                    async move { request.await.map(drop) }
                },
                || async move {
                    let current = self
                        .retried(read, || checks.get_check_run(id.into()).send())
                        .await?;
                    Ok((current.output.annotations_count >= with_chunk).then_some(()))
                },
            )
            .await?;
            sent = with_chunk;
        }
        Ok(url)
    }
}

/// Classifies a failed attempt.
fn failure(e: octocrab::Error, op: Op<'_>) -> Failure {
    let what = op.what.to_owned();
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let status = source.status_code.as_u16();
            let message = github_message(&source.message, source.errors.as_deref());
            let headers = source.headers.unwrap_or_default();
            let retry_after = retry_wait(status, &headers, &message);
            let error = if status == 403
                && retry_after.is_none()
                && message.contains("Resource not accessible by integration")
            {
                GhError::ReadOnly { what, message }
            } else {
                GhError::Api {
                    what,
                    status,
                    hint: hint(status, op.permission),
                    message,
                }
            };
            Failure { error, retry_after }
        }
        // No answer (refused, reset, timed out, a broken body): worth another attempt.
        e @ (octocrab::Error::Service { .. } | octocrab::Error::Hyper { .. }) => {
            let (failure, message) = transport(&e);
            Failure {
                error: GhError::Transport {
                    what,
                    failure,
                    message,
                },
                retry_after: Some(Duration::ZERO),
            }
        }
        // A request that cannot be made, an answer that does not decode: not transient.
        e => Failure {
            error: GhError::Client {
                what,
                message: chain(&e),
            },
            retry_after: None,
        },
    }
}

/// GitHub's message with the `errors` it lists (`{"message": .., "errors": [..]}`), bounded.
fn github_message(message: &str, errors: Option<&[serde_json::Value]>) -> String {
    let mut msg: String = message.trim().chars().take(300).collect();
    for e in errors.unwrap_or_default() {
        if let Some(m) = e
            .get("message")
            .and_then(|m| m.as_str())
            .or_else(|| e.as_str())
        {
            msg.push_str("; ");
            msg.extend(m.chars().take(300));
        }
    }
    msg
}

/// An error and its sources, `: `-separated.
fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        src = s.source();
    }
    msg
}

/// How a request without an answer failed, and the message.
fn transport(e: &octocrab::Error) -> (Transport, String) {
    use std::io::ErrorKind;
    let mut kind = Transport::Failed;
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::TimedOut => kind = Transport::TimedOut,
                ErrorKind::ConnectionRefused
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkUnreachable
                | ErrorKind::AddrNotAvailable => kind = Transport::Unreachable,
                _ => {}
            }
        }
        // hyper's resolver reports an unknown host as an untyped I/O error.
        if kind == Transport::Failed && s.to_string().starts_with("dns error") {
            kind = Transport::Unreachable;
        }
        src = s.source();
    }
    (kind, chain(e))
}

/// The path and query of a `Link` URL: requested on the client's base URL (see the module doc).
fn on_base(link: &Uri) -> Option<String> {
    link.path_and_query().map(|pq| pq.as_str().to_owned())
}

/// Percent-encodes a path segment.
fn segment(s: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// How long to wait before retrying, or `None` when the failure is final.
fn retry_wait(status: u16, headers: &HeaderMap, message: &str) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let retry_after = header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let until_reset = || {
        let reset = header("x-ratelimit-reset")?.trim().parse::<u64>().ok()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        Some(Duration::from_secs(reset.saturating_sub(now).max(1)))
    };
    match status {
        500..=599 => Some(retry_after.unwrap_or(Duration::ZERO)),
        429 => Some(retry_after.or_else(until_reset).unwrap_or(Duration::ZERO)),
        403 => {
            if retry_after.is_some() {
                retry_after
            } else if header("x-ratelimit-remaining") == Some("0") {
                until_reset()
            } else if message
                .to_ascii_lowercase()
                .contains("secondary rate limit")
            {
                Some(Duration::from_secs(60))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// What to tell the user about a failed request.
fn hint(status: u16, permission: Option<&str>) -> String {
    match (status, permission) {
        (401, _) => {
            " (hint: the token is invalid or expired; check the `github-token` input)".into()
        }
        (403 | 404, Some(perm)) => format!(
            " (hint: the job's token needs {perm} — add it to the workflow's `permissions:` block)"
        ),
        (404, None) => " (hint: the repository is not visible to the token)".into(),
        (422, _) => " (hint: GitHub rejected the request's content)".into(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    http::HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn retry_decisions() {
        assert_eq!(retry_wait(502, &headers(&[]), ""), Some(Duration::ZERO));
        assert_eq!(
            retry_wait(429, &headers(&[("retry-after", "7")]), ""),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_wait(403, &headers(&[("retry-after", "3")]), "secondary"),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_wait(403, &headers(&[]), "Resource not accessible by integration"),
            None
        );
        assert_eq!(
            retry_wait(
                403,
                &headers(&[]),
                "You have exceeded a secondary rate limit"
            ),
            Some(Duration::from_secs(60))
        );
        let reset = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        let wait = retry_wait(
            403,
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset.to_string()),
            ]),
            "API rate limit exceeded",
        )
        .unwrap();
        assert!(wait > Duration::from_secs(3000), "{wait:?}");
        assert_eq!(retry_wait(422, &headers(&[]), ""), None);
    }

    #[test]
    fn next_pages_stay_on_the_clients_base() {
        let l: Uri = "https://ghe.example/api/v3/repos/o/r/issues/1/comments?per_page=100&page=2"
            .parse()
            .unwrap();
        assert_eq!(
            on_base(&l).as_deref(),
            Some("/api/v3/repos/o/r/issues/1/comments?per_page=100&page=2")
        );
    }

    #[test]
    fn hints_name_the_missing_permission() {
        assert!(hint(403, Some("`checks: write`")).contains("checks: write"));
        assert!(hint(404, Some(Thread::Issue(1).permission())).contains("issues: write"));
        assert!(hint(404, None).contains("not visible"));
        assert!(hint(401, None).contains("invalid or expired"));
        assert_eq!(segment("a b/ç"), "a%20b%2F%C3%A7");
    }

    #[test]
    fn anchors_round_trip_through_the_external_id() {
        let d = "ab".repeat(32);
        let id = check_run_external_id("42", "tok", Some((7, &d)));
        assert_eq!(anchored_tip(&id), Some((7, d.clone())));
        assert_eq!(
            anchored_tip(&check_run_external_id("42", "tok", None)),
            None
        );
        assert_eq!(anchored_tip(&format!("controlgate:1:t:ledger:0:{d}")), None);
        assert_eq!(anchored_tip("controlgate:1:t:ledger:3:XYZ"), None);
        assert_eq!(anchored_tip(&format!("other:1:t:ledger:3:{d}")), None);
    }

    #[test]
    fn github_messages_list_the_errors() {
        let errors = [
            serde_json::json!({"resource": "IssueComment", "message": "Body is too long"}),
            serde_json::json!("plain"),
            serde_json::json!({"code": "invalid"}),
        ];
        assert_eq!(
            github_message(" Validation Failed ", Some(&errors)),
            "Validation Failed; Body is too long; plain"
        );
    }
}
