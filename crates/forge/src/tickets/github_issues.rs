//! GitHub issues (REST): the only module that writes to the change's GitHub issues.
//!
//! One sticky comment per linked issue, found again by its marker
//! `<!-- controlgate:ticket:owner/repo#12 -->` (`GET /repos/{o}/{r}/issues/{n}/comments`) and
//! edited (`PATCH /repos/{o}/{r}/issues/comments/{id}`) rather than repeated. The API base URL
//! is injectable (`GITHUB_API_URL`; Enterprise Server; tests).

use std::fmt::Write as _;

use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};

use super::http::{self, cut, status_text};
use super::text::{self, MAX_CONTROLS};
use super::{ChangeContext, GithubCredentials, LinkResult, LinkStatus, RunSummary, Tracker};
use crate::render::escape::inline;

/// Pages of comments read while looking for ours (100 each).
const MAX_PAGES: u32 = 30;

pub struct Github<'a> {
    client: &'a Client,
    api: String,
    creds: &'a GithubCredentials,
}

/// The marker that finds the comment again.
pub fn marker(ctx: &ChangeContext) -> String {
    format!("<!-- controlgate:ticket:{} -->", ctx.change_name())
}

/// `owner/repo#12` → (`owner`, `repo`, 12), refusing anything that is not a plain name.
pub fn parse_key(key: &str) -> Option<(&str, &str, u64)> {
    let (repo, num) = key.rsplit_once('#')?;
    let (owner, name) = repo.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    let n: u64 = num.parse().ok()?;
    (ok(owner) && ok(name) && n > 0).then_some((owner, name, n))
}

/// The comment's Markdown: untrusted text escaped, the marker first.
pub fn comment_body(ctx: &ChangeContext, summary: &RunSummary) -> String {
    let mut s = marker(ctx);
    s.push('\n');
    let verdict = text::verdict_word(summary.verdict);
    let mark = match summary.verdict {
        crate::model::report::Verdict::Pass => "✅",
        crate::model::report::Verdict::Fail => "❌",
    };
    if ctx.is_release() {
        let _ = writeln!(
            s,
            "### {mark} controlgate {verdict}: merged into the default branch\n"
        );
    } else {
        let _ = writeln!(s, "### {mark} controlgate {verdict}\n");
    }
    let change = inline(&ctx.change_name(), 200);
    let change = if text::is_http_url(&ctx.pr_url) {
        format!("[{change}](<{}>)", ctx.pr_url.replace('>', "%3E"))
    } else {
        change
    };
    let _ = write!(s, "**Change:** {change}");
    if !ctx.pr_title.trim().is_empty() {
        let _ = write!(s, " — {}", inline(ctx.pr_title.trim(), 200));
    }
    let _ = writeln!(
        s,
        "  \n**Verdict:** {verdict} ({})  ",
        inline(&text::gates_line(summary), 500)
    );
    if let Some(c) = summary.coverage.as_ref().and_then(text::coverage_line) {
        let _ = writeln!(
            s,
            "**{}:** {}  ",
            text::coverage_label(ctx),
            inline(&c, 300)
        );
    }
    if let Some(e) = &summary.evidence {
        let loc = if text::is_http_url(&e.location) {
            format!("<{}>", e.location.replace('>', "%3E"))
        } else {
            format!("`{}`", e.location.replace('`', "'"))
        };
        let _ = write!(s, "**Evidence:** {loc}");
        if !e.bundle_digest.is_empty() {
            let _ = write!(s, " (`{}`)", e.bundle_digest.replace('`', "'"));
        }
        s.push_str("  \n");
    }
    if let Some(u) = summary.run_url.as_deref().filter(|u| text::is_http_url(u)) {
        let _ = writeln!(s, "[Workflow run](<{}>)  ", u.replace('>', "%3E"));
    }
    if !summary.controls.is_empty() {
        s.push_str("\n| Control | Status | Passed |\n|---|---|---|\n");
        for c in summary.controls.iter().take(MAX_CONTROLS) {
            let _ = writeln!(
                s,
                "| {} | {} | {} of {} |",
                inline(&c.id, 40),
                inline(&c.status, 20),
                c.passed,
                c.tests
            );
        }
        if summary.controls.len() > MAX_CONTROLS {
            let _ = writeln!(
                s,
                "\n_… {} more controls in `report.json`._",
                summary.controls.len() - MAX_CONTROLS
            );
        }
    }
    s
}

impl<'a> Github<'a> {
    pub fn new(client: &'a Client, creds: &'a GithubCredentials) -> Self {
        let api = if creds.api_url.trim().is_empty() {
            GithubCredentials::DEFAULT_URL.to_owned()
        } else {
            creds.api_url.trim().trim_end_matches('/').to_owned()
        };
        Github { client, api, creds }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.api))
            .bearer_auth(self.creds.token.expose().trim())
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
    }

    pub fn link(&self, key: &str, ctx: &ChangeContext, summary: &RunSummary) -> LinkResult {
        let (status, message) = match self.upsert(key, ctx, summary) {
            Ok(s) => (s, None),
            Err(m) => (LinkStatus::Failed, Some(m)),
        };
        LinkResult {
            tracker: Tracker::Github,
            ticket: key.to_owned(),
            action: "comment".into(),
            status,
            message,
        }
    }

    fn upsert(
        &self,
        key: &str,
        ctx: &ChangeContext,
        summary: &RunSummary,
    ) -> Result<LinkStatus, String> {
        let (owner, repo, number) =
            parse_key(key).ok_or_else(|| format!("`{key}` is not owner/repo#number"))?;
        let marker = marker(ctx);
        let body = json!({ "body": comment_body(ctx, summary) });
        let existing = self.find(owner, repo, number, &marker)?;
        let (method, path, expect) = match existing {
            Some(id) => (
                reqwest::Method::PATCH,
                format!("/repos/{owner}/{repo}/issues/comments/{id}"),
                (200, LinkStatus::Updated),
            ),
            None => (
                reqwest::Method::POST,
                format!("/repos/{owner}/{repo}/issues/{number}/comments"),
                (201, LinkStatus::Created),
            ),
        };
        let resp = self
            .request(method, &path)
            .json(&body)
            .send()
            .map_err(|e| http::transport("GitHub", &e))?;
        match http::read(resp) {
            (s, _) if s == expect.0 => Ok(expect.1),
            (s, text) => Err(error_message(s, &text)),
        }
    }

    fn find(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        marker: &str,
    ) -> Result<Option<u64>, String> {
        for page in 1..=MAX_PAGES {
            let resp = self
                .request(
                    reqwest::Method::GET,
                    &format!(
                        "/repos/{owner}/{repo}/issues/{number}/comments?per_page=100&page={page}"
                    ),
                )
                .send()
                .map_err(|e| http::transport("GitHub", &e))?;
            let (status, text) = http::read(resp);
            if status != 200 {
                return Err(error_message(status, &text));
            }
            let list: Vec<Value> = serde_json::from_str(&text)
                .map_err(|e| format!("GitHub: comment list is not a JSON array: {e}"))?;
            if let Some(id) = list.iter().find_map(|c| {
                c["body"]
                    .as_str()
                    .is_some_and(|b| b.contains(marker))
                    .then(|| c["id"].as_u64())
                    .flatten()
            }) {
                return Ok(Some(id));
            }
            if list.len() < 100 {
                break;
            }
        }
        Ok(None)
    }
}

/// GitHub's error body (`{"message": .., "errors": [..]}`) as one message.
pub fn error_message(status: u16, body: &str) -> String {
    let v: Option<Value> = serde_json::from_str(body).ok();
    let mut msg = v
        .as_ref()
        .and_then(|v| v["message"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| cut(body.trim(), 200));
    if let Some(errs) = v.as_ref().and_then(|v| v["errors"].as_array()) {
        for e in errs {
            if let Some(m) = e["message"].as_str().or_else(|| e.as_str()) {
                let _ = write!(msg, "; {m}");
            }
        }
    }
    if msg.is_empty() {
        format!("GitHub answered {}", status_text(status))
    } else {
        format!("GitHub answered {}: {msg}", status_text(status))
    }
}
