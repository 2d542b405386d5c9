//! The GitHub REST API: the ONLY module that talks to GitHub (through octocrab).
//!
//! octocrab is used as the authenticated HTTP client (base URI from `GITHUB_API_URL`, bearer
//! token, `X-GitHub-Api-Version`); requests and responses are plain JSON so that status codes
//! and rate-limit headers stay visible to the retry logic. Comment updates use PATCH (octocrab's
//! `update_comment` sends POST, which GitHub does not define).
//!
//! Retries: 5xx, 429 and secondary rate limits (403 with `retry-after`, or an exhausted primary
//! limit with `x-ratelimit-reset`) are retried with bounded backoff; the total wait of one
//! publication is capped. A create (POST) is never blindly repeated: after a failure that may
//! have reached GitHub, the comment list (or the check runs of the commit) is read again first.

use std::cell::Cell;
use std::time::Duration;

use octocrab::Octocrab;
use serde::Serialize;
use serde_json::{Value, json};

/// Annotations per check-run request (GitHub's limit).
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// How hard to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Cap on the sum of all waits of one publication.
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
    #[error("{what}: {message}")]
    Transport { what: String, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Failure,
    Warning,
    Notice,
}

/// A check-run annotation (GitHub's shape).
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

/// A response.
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    fn message(&self) -> String {
        match self.json().get("message").and_then(Value::as_str) {
            Some(m) => m.to_owned(),
            None => self.body.chars().take(200).collect(),
        }
    }
}

/// Why one attempt failed, and whether (after how long) it may be retried.
struct Failure {
    error: GhError,
    retry_after: Option<Duration>,
}

pub struct GitHub {
    crab: Octocrab,
    owner: String,
    repo: String,
    policy: RetryPolicy,
    waited: Cell<Duration>,
    log: Box<dyn Fn(&str)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Patch,
}

impl GitHub {
    /// `api_url` is `GITHUB_API_URL`; `log` receives progress lines (never the token).
    pub fn new(
        api_url: &str,
        token: &str,
        owner: &str,
        repo: &str,
        policy: RetryPolicy,
        log: Box<dyn Fn(&str)>,
    ) -> Result<GitHub, GhError> {
        let setup = |message: String| GhError::Transport {
            what: "GitHub client".into(),
            message,
        };
        let crab = Octocrab::builder()
            .base_uri(api_url.trim_end_matches('/'))
            .map_err(|e| setup(format!("bad GITHUB_API_URL `{api_url}`: {e}")))?
            .personal_token(token.to_owned())
            .add_header(
                http::header::ACCEPT,
                "application/vnd.github+json".to_owned(),
            )
            .build()
            .map_err(|e| setup(format!("cannot build the HTTP client: {e}")))?;
        Ok(GitHub {
            crab,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            policy,
            waited: Cell::new(Duration::ZERO),
            log,
        })
    }

    fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", enc(&self.owner), enc(&self.repo))
    }

    /// One attempt.
    async fn send_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Resp, Failure> {
        let sent = match method {
            Method::Get => self.crab._get(path).await,
            Method::Post => self.crab._post(path, body).await,
            Method::Patch => self.crab._patch(path, body).await,
        };
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                return Err(Failure {
                    error: GhError::Transport {
                        what: what.into(),
                        message: format!("request failed: {e}"),
                    },
                    retry_after: Some(Duration::ZERO),
                });
            }
        };
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = self.crab.body_to_string(resp).await.map_err(|e| Failure {
            error: GhError::Transport {
                what: what.into(),
                message: format!("reading the response failed: {e}"),
            },
            retry_after: Some(Duration::ZERO),
        })?;
        let r = Resp {
            status,
            headers,
            body,
        };
        if (200..300).contains(&status) {
            return Ok(r);
        }
        let message = r.message();
        let retry_after = retry_wait(&r, &message);
        let error = if status == 403
            && retry_after.is_none()
            && message.contains("Resource not accessible by integration")
        {
            GhError::ReadOnly {
                what: what.into(),
                message,
            }
        } else {
            GhError::Api {
                what: what.into(),
                status,
                hint: hint(status, path),
                message,
            }
        };
        Err(Failure { error, retry_after })
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

    /// An idempotent request (GET, PATCH), retried.
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Resp, GhError> {
        let mut attempt = 1;
        loop {
            match self.send_once(method, path, body, what).await {
                Ok(r) => return Ok(r),
                Err(Failure {
                    error,
                    retry_after: Some(wait),
                }) => {
                    (self.log)(&error.to_string());
                    if !self.backoff(attempt, wait, what).await {
                        return Err(error);
                    }
                    attempt += 1;
                }
                Err(Failure { error, .. }) => return Err(error),
            }
        }
    }

    /// The login comments are searched under: `GET /user`, else (an Actions token may not read
    /// it) `github-actions[bot]`.
    pub async fn identity(&self) -> String {
        match self.request(Method::Get, "/user", None, "GET /user").await {
            Ok(r) => r
                .json()
                .get("login")
                .and_then(Value::as_str)
                .map(String::from)
                .unwrap_or_else(|| "github-actions[bot]".into()),
            Err(_) => "github-actions[bot]".into(),
        }
    }

    /// The head commit of PR `pr` (`GET /repos/{owner}/{repo}/pulls/{pr}`).
    pub async fn pull_head_sha(&self, pr: u64) -> Result<String, GhError> {
        let r = self
            .request(
                Method::Get,
                &self.repo_path(&format!("/pulls/{pr}")),
                None,
                "reading the PR",
            )
            .await?;
        Ok(r.json()
            .get("head")
            .and_then(|h| h.get("sha"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// Every comment of the PR (all pages): (id, author login, body, html_url).
    async fn list_comments(&self, pr: u64) -> Result<Vec<(u64, String, String, String)>, GhError> {
        let mut out = Vec::new();
        let mut next = Some(self.repo_path(&format!("/issues/{pr}/comments?per_page=100")));
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > 1000 {
                break;
            }
            let r = self
                .request(Method::Get, &path, None, "listing PR comments")
                .await?;
            for c in r.json().as_array().into_iter().flatten() {
                let id = c.get("id").and_then(Value::as_u64).unwrap_or(0);
                let login = c
                    .get("user")
                    .and_then(|u| u.get("login"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let body = c
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let url = c
                    .get("html_url")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                out.push((id, login, body, url));
            }
            next = r.header("link").and_then(next_link);
        }
        Ok(out)
    }

    /// Creates or updates the one comment carrying `marker` written by `author`.
    /// Returns its `html_url`.
    pub async fn upsert_comment(
        &self,
        pr: u64,
        author: &str,
        marker: &str,
        body: &str,
    ) -> Result<String, GhError> {
        let payload = json!({ "body": body });
        let mut attempt = 1;
        loop {
            let ours: Vec<_> = self
                .list_comments(pr)
                .await?
                .into_iter()
                .filter(|(_, login, b, _)| login.eq_ignore_ascii_case(author) && b.contains(marker))
                .collect();
            if let Some((id, ..)) = ours.first() {
                if ours.len() > 1 {
                    (self.log)(&format!(
                        "found {} comments with marker {marker}; updating the oldest",
                        ours.len()
                    ));
                }
                let r = self
                    .request(
                        Method::Patch,
                        &self.repo_path(&format!("/issues/comments/{id}")),
                        Some(&payload),
                        "updating the PR comment",
                    )
                    .await?;
                return Ok(html_url(&r));
            }
            let path = self.repo_path(&format!("/issues/{pr}/comments"));
            match self
                .send_once(
                    Method::Post,
                    &path,
                    Some(&payload),
                    "creating the PR comment",
                )
                .await
            {
                Ok(r) => return Ok(html_url(&r)),
                Err(Failure {
                    error,
                    retry_after: Some(wait),
                }) => {
                    (self.log)(&error.to_string());
                    if !self.backoff(attempt, wait, "creating the PR comment").await {
                        return Err(error);
                    }
                    attempt += 1;
                    // The create may have succeeded: list again before creating.
                }
                Err(Failure { error, .. }) => return Err(error),
            }
        }
    }

    /// Finds this run's check run (by `external_id`) after an ambiguous create.
    async fn find_check_run(&self, run: &CheckRun) -> Result<Option<(u64, String)>, GhError> {
        let path = self.repo_path(&format!(
            "/commits/{}/check-runs?check_name={}&filter=all&per_page=100",
            enc(&run.head_sha),
            enc(&run.name)
        ));
        let r = self
            .request(Method::Get, &path, None, "listing check runs")
            .await?;
        let found = r
            .json()
            .get("check_runs")
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter().find(|c| {
                    c.get("external_id").and_then(Value::as_str) == Some(run.external_id.as_str())
                })
            })
            .map(|c| {
                (
                    c.get("id").and_then(Value::as_u64).unwrap_or(0),
                    c.get("html_url")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                )
            });
        Ok(found)
    }

    /// Creates the check run with the first 50 annotations, then PATCHes the rest in batches.
    /// Returns its `html_url`.
    pub async fn create_check_run(&self, run: &CheckRun) -> Result<String, GhError> {
        let mut chunks = run.annotations.chunks(ANNOTATIONS_PER_REQUEST);
        let first = chunks.next().unwrap_or(&[]);
        let output = |anns: &[Annotation]| json!({ "title": run.title, "summary": run.summary, "annotations": anns });
        let mut payload = json!({
            "name": run.name,
            "head_sha": run.head_sha,
            "status": "completed",
            "conclusion": if run.success { "success" } else { "failure" },
            "external_id": run.external_id,
            "output": output(first),
        });
        if let Some(u) = &run.details_url {
            payload["details_url"] = json!(u);
        }
        let path = self.repo_path("/check-runs");
        let mut attempt = 1;
        let (id, url) = loop {
            match self
                .send_once(
                    Method::Post,
                    &path,
                    Some(&payload),
                    "creating the check run",
                )
                .await
            {
                Ok(r) => {
                    let v = r.json();
                    break (
                        v.get("id").and_then(Value::as_u64).unwrap_or(0),
                        html_url(&r),
                    );
                }
                Err(Failure {
                    error,
                    retry_after: Some(wait),
                }) => {
                    (self.log)(&error.to_string());
                    if !self.backoff(attempt, wait, "creating the check run").await {
                        return Err(error);
                    }
                    attempt += 1;
                    if let Some(found) = self.find_check_run(run).await? {
                        (self.log)("the check run was created before the failure; continuing");
                        break found;
                    }
                }
                Err(Failure { error, .. }) => return Err(error),
            }
        };
        for chunk in chunks {
            self.request(
                Method::Patch,
                &self.repo_path(&format!("/check-runs/{id}")),
                Some(&json!({ "output": output(chunk) })),
                "adding check-run annotations",
            )
            .await?;
        }
        Ok(url)
    }
}

fn html_url(r: &Resp) -> String {
    r.json()
        .get("html_url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// Percent-encodes a path segment or query value.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The path and query of the `rel="next"` link (the API host is the client's base).
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        if !params.split(';').any(|p| p.trim() == "rel=\"next\"") {
            return None;
        }
        let url = url.trim().trim_start_matches('<').trim_end_matches('>');
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        let path = &after_scheme[after_scheme.find('/')?..];
        Some(path.to_owned())
    })
}

/// How long to wait before retrying, or `None` when the failure is final.
fn retry_wait(r: &Resp, message: &str) -> Option<Duration> {
    let retry_after = r
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let until_reset = || {
        let reset = r.header("x-ratelimit-reset")?.trim().parse::<u64>().ok()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        Some(Duration::from_secs(reset.saturating_sub(now).max(1)))
    };
    match r.status {
        500..=599 => Some(retry_after.unwrap_or(Duration::ZERO)),
        429 => Some(retry_after.or_else(until_reset).unwrap_or(Duration::ZERO)),
        403 => {
            if retry_after.is_some() {
                retry_after
            } else if r.header("x-ratelimit-remaining") == Some("0") {
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
fn hint(status: u16, path: &str) -> String {
    let perm = if path.contains("/check-runs") {
        "`checks: write`"
    } else if path.contains("/comments") {
        "`pull-requests: write`"
    } else {
        ""
    };
    match status {
        401 => " (hint: the token is invalid or expired; check the `github-token` input)".into(),
        403 | 404 if !perm.is_empty() => format!(
            " (hint: the job's token needs {perm} — add it to the workflow's `permissions:` block)"
        ),
        404 => " (hint: the repository is not visible to the token)".into(),
        422 => " (hint: GitHub rejected the request's content)".into(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Resp {
        Resp {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
        }
    }

    #[test]
    fn retry_decisions() {
        let r = resp(502, &[], "");
        assert_eq!(retry_wait(&r, ""), Some(Duration::ZERO));
        let r = resp(429, &[("Retry-After", "7")], "");
        assert_eq!(retry_wait(&r, ""), Some(Duration::from_secs(7)));
        let r = resp(403, &[("retry-after", "3")], "");
        assert_eq!(retry_wait(&r, "secondary"), Some(Duration::from_secs(3)));
        let r = resp(403, &[], "");
        assert_eq!(
            retry_wait(&r, "Resource not accessible by integration"),
            None
        );
        let r = resp(403, &[], "");
        assert_eq!(
            retry_wait(&r, "You have exceeded a secondary rate limit"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_wait(&resp(422, &[], ""), ""), None);
    }

    #[test]
    fn next_link_keeps_path_and_query() {
        let l = "<https://ghe.example/api/v3/repos/o/r/issues/1/comments?per_page=100&page=2>; rel=\"next\", <https://ghe.example/api/v3/x?page=5>; rel=\"last\"";
        assert_eq!(
            next_link(l).as_deref(),
            Some("/api/v3/repos/o/r/issues/1/comments?per_page=100&page=2")
        );
        assert_eq!(next_link("<http://h/x?page=1>; rel=\"prev\""), None);
    }

    #[test]
    fn hints_name_the_missing_permission() {
        assert!(hint(403, "/repos/o/r/check-runs").contains("checks: write"));
        assert!(hint(404, "/repos/o/r/issues/1/comments").contains("pull-requests: write"));
        assert!(hint(401, "/user").contains("invalid or expired"));
        assert_eq!(enc("a b/ç"), "a%20b%2F%C3%A7");
    }
}
