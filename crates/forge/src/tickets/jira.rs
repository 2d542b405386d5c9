//! Jira Cloud REST v3: the only module that talks to Jira.
//!
//! Per ticket: `POST /rest/api/3/issue/{key}/remotelink` with a stable `globalId` (Jira updates
//! the link with that ID instead of adding another), then, when `tickets.jira.comment` is on,
//! one comment in Atlassian Document Format found again by the ID in its text
//! (`GET /rest/api/3/issue/{key}/comment`) and edited (`PUT .../comment/{id}`) rather than
//! repeated. Basic auth with email + API token.

use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};

use super::http::{self, cut, status_text};
use super::text::{self, MAX_CONTROLS};
use super::{
    ChangeContext, JiraConfig, LinkResult, LinkStatus, RunSummary, Secret, TicketCredentials,
    Tracker,
};

/// Pages of comments read while looking for ours (100 each).
const MAX_COMMENT_PAGES: usize = 20;

pub struct Jira<'a> {
    client: &'a Client,
    base: String,
    email: String,
    token: Secret,
    remote_link: bool,
    comment: bool,
}

/// `https://<site>.atlassian.net` (a path after it allowed): Atlassian's hosts only.
fn is_jira_cloud(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.to_ascii_lowercase();
    host.strip_suffix(".atlassian.net").is_some_and(|site| {
        !site.is_empty() && site.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

impl<'a> Jira<'a> {
    /// `Err` is why Jira is skipped (no credentials or URL).
    pub(crate) fn new(
        client: &'a Client,
        cfg: &JiraConfig,
        creds: &TicketCredentials,
    ) -> Result<Self, String> {
        let Some(c) = creds.jira.as_ref().filter(|c| !c.api_token.is_empty()) else {
            return Err("no Jira credentials".into());
        };
        if c.email.trim().is_empty() {
            return Err("no Jira account email (Basic auth needs email + API token)".into());
        }
        let base = if c.base_url.trim().is_empty() {
            let url = cfg.url.clone().unwrap_or_default();
            // The config is the checkout's: the pull request under review could name a host of
            // its own and receive the Basic credentials. From there, only Jira Cloud.
            if !url.trim().is_empty() && !is_jira_cloud(url.trim()) {
                return Err("tickets.jira.url is not a Jira Cloud address \
                            (https://<site>.atlassian.net): the config comes from the pull \
                            request under review, so the Jira credentials go to another host \
                            only when the workflow's jira-url input names it"
                    .into());
            }
            url
        } else {
            c.base_url.clone()
        };
        if !text::is_http_url(base.trim()) {
            return Err("no Jira URL (tickets.jira.url or the jira-url input)".into());
        }
        Ok(Jira {
            client,
            base: base.trim().trim_end_matches('/').to_owned(),
            email: c.email.trim().to_owned(),
            token: c.api_token.clone(),
            remote_link: cfg.remote_link,
            comment: cfg.comment,
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.email, Some(self.token.expose()))
            .header("Accept", "application/json")
    }

    /// The remote link and (optionally) the comment on `key`.
    pub fn link(&self, key: &str, ctx: &ChangeContext, summary: &RunSummary) -> Vec<LinkResult> {
        let result = |action: &str, r: Result<LinkStatus, String>| {
            let (status, message) = match r {
                Ok(s) => (s, None),
                Err(m) => (LinkStatus::Failed, Some(m)),
            };
            LinkResult {
                tracker: Tracker::Jira,
                ticket: key.to_owned(),
                action: action.to_owned(),
                status,
                message,
            }
        };
        let mut out = Vec::new();
        if self.remote_link {
            if text::is_http_url(&ctx.pr_url) {
                out.push(result(
                    "remote_link",
                    self.upsert_remote_link(key, ctx, summary),
                ));
            } else {
                out.push(LinkResult {
                    status: LinkStatus::Skipped,
                    message: Some("no PR URL to link to".into()),
                    ..result("remote_link", Ok(LinkStatus::Skipped))
                });
            }
        }
        if self.comment {
            out.push(result("comment", self.upsert_comment(key, ctx, summary)));
        }
        out
    }

    fn upsert_remote_link(
        &self,
        key: &str,
        ctx: &ChangeContext,
        summary: &RunSummary,
    ) -> Result<LinkStatus, String> {
        let resp = self
            .request(
                reqwest::Method::POST,
                &format!("/rest/api/3/issue/{key}/remotelink"),
            )
            .json(&remote_link_body(ctx, summary))
            .send()
            .map_err(|e| http::transport("Jira", &e))?;
        match http::read(resp) {
            (201, _) => Ok(LinkStatus::Created),
            (200, _) => Ok(LinkStatus::Updated),
            (status, body) => Err(error_message(status, &body)),
        }
    }

    fn upsert_comment(
        &self,
        key: &str,
        ctx: &ChangeContext,
        summary: &RunSummary,
    ) -> Result<LinkStatus, String> {
        let marker = ctx.stable_id();
        let body = json!({ "body": comment_body(ctx, summary) });
        match self.find_comment(key, &marker)? {
            Some(id) => {
                let resp = self
                    .request(
                        reqwest::Method::PUT,
                        &format!("/rest/api/3/issue/{key}/comment/{id}?notifyUsers=false"),
                    )
                    .json(&body)
                    .send()
                    .map_err(|e| http::transport("Jira", &e))?;
                match http::read(resp) {
                    (200, _) => Ok(LinkStatus::Updated),
                    (status, body) => Err(error_message(status, &body)),
                }
            }
            None => {
                let resp = self
                    .request(
                        reqwest::Method::POST,
                        &format!("/rest/api/3/issue/{key}/comment"),
                    )
                    .json(&body)
                    .send()
                    .map_err(|e| http::transport("Jira", &e))?;
                match http::read(resp) {
                    (201, _) => Ok(LinkStatus::Created),
                    (status, body) => Err(error_message(status, &body)),
                }
            }
        }
    }

    /// The ID of the comment whose text carries `marker`.
    fn find_comment(&self, key: &str, marker: &str) -> Result<Option<String>, String> {
        let mut start = 0u64;
        for _ in 0..MAX_COMMENT_PAGES {
            let resp = self
                .request(
                    reqwest::Method::GET,
                    &format!(
                        "/rest/api/3/issue/{key}/comment?startAt={start}&maxResults=100&orderBy=created"
                    ),
                )
                .send()
                .map_err(|e| http::transport("Jira", &e))?;
            let (status, body) = http::read(resp);
            if status != 200 {
                return Err(error_message(status, &body));
            }
            let page: Value = serde_json::from_str(&body)
                .map_err(|e| format!("Jira: comment list is not JSON: {e}"))?;
            let comments = page["comments"].as_array().cloned().unwrap_or_default();
            for c in &comments {
                if adf_contains(&c["body"], marker)
                    && let Some(id) = c["id"].as_str().filter(|id| is_id(id))
                {
                    return Ok(Some(id.to_owned()));
                }
            }
            let total = page["total"].as_u64().unwrap_or(0);
            start += comments.len() as u64;
            if comments.is_empty() || start >= total {
                break;
            }
        }
        Ok(None)
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Jira's error body (`{"errorMessages": [..], "errors": {field: msg}}`) as one message.
pub fn error_message(status: u16, body: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        if let Some(msgs) = v["errorMessages"].as_array() {
            parts.extend(msgs.iter().filter_map(|m| m.as_str()).map(str::to_owned));
        }
        if let Some(errs) = v["errors"].as_object() {
            parts.extend(
                errs.iter()
                    .map(|(k, m)| format!("{k}: {}", m.as_str().unwrap_or_default())),
            );
        }
        if parts.is_empty()
            && let Some(m) = v["message"].as_str()
        {
            parts.push(m.to_owned());
        }
    } else if !body.trim().is_empty() && !body.trim_start().starts_with('<') {
        parts.push(cut(body.trim(), 300));
    }
    let hint = match status {
        401 => " (check the Jira email and API token)",
        403 => " (the account cannot link or comment on this issue)",
        _ => "",
    };
    if parts.is_empty() {
        format!("Jira answered {}{hint}", status_text(status))
    } else {
        format!(
            "Jira answered {}: {}{hint}",
            status_text(status),
            parts.join("; ")
        )
    }
}

/// The remote link: stable `globalId` per repository + PR, pointing at the PR, the verdict in
/// the title, the evidence and coverage in the summary; resolved once merged.
pub fn remote_link_body(ctx: &ChangeContext, summary: &RunSummary) -> Value {
    let mut parts = vec![text::short(ctx, summary)];
    if let Some(e) = text::evidence_line(summary) {
        parts.push(format!("evidence: {e}"));
    }
    json!({
        "globalId": ctx.stable_id(),
        "application": { "type": "controlgate", "name": "controlgate" },
        "relationship": "tested by",
        "object": {
            "url": ctx.pr_url,
            "title": text::title(ctx, summary),
            "summary": cut(&parts.join(" · "), 250),
            "status": { "resolved": ctx.is_release() },
        },
    })
}

fn t(s: &str) -> Value {
    json!({ "type": "text", "text": s })
}

fn link_text(label: &str, url: &str) -> Value {
    if text::is_http_url(url) {
        json!({ "type": "text", "text": label, "marks": [{ "type": "link", "attrs": { "href": url } }] })
    } else {
        t(label)
    }
}

fn strong(s: &str) -> Value {
    json!({ "type": "text", "text": s, "marks": [{ "type": "strong" }] })
}

fn para(content: Vec<Value>) -> Value {
    json!({ "type": "paragraph", "content": content })
}

/// The comment in Atlassian Document Format: verdict, failed gates, per-control results,
/// coverage (the release's delta at merge time), evidence, and the marker that finds it again.
/// ADF text is data, not markup: nothing needs escaping.
pub fn comment_body(ctx: &ChangeContext, summary: &RunSummary) -> Value {
    let mut content = Vec::new();
    let heading = if ctx.is_release() {
        format!(
            "controlgate {}: merged into the default branch",
            text::verdict_word(summary.verdict)
        )
    } else {
        format!("controlgate {}", text::verdict_word(summary.verdict))
    };
    content.push(json!({ "type": "heading", "attrs": { "level": 3 }, "content": [t(&heading)] }));
    let mut change = vec![strong("Change: ")];
    change.push(link_text(&ctx.change_name(), &ctx.pr_url));
    if !ctx.pr_title.trim().is_empty() {
        change.push(t(&format!(" — {}", cut(ctx.pr_title.trim(), 200))));
    }
    content.push(para(change));
    content.push(para(vec![
        strong("Verdict: "),
        t(&format!(
            "{} ({})",
            text::verdict_word(summary.verdict),
            text::gates_line(summary)
        )),
    ]));
    if let Some(c) = summary.coverage.as_ref().and_then(text::coverage_line) {
        content.push(para(vec![
            strong(&format!("{}: ", text::coverage_label(ctx))),
            t(&c),
        ]));
    }
    if !summary.controls.is_empty() {
        let mut items: Vec<Value> = summary
            .controls
            .iter()
            .take(MAX_CONTROLS)
            .map(|c| {
                json!({ "type": "listItem", "content": [para(vec![
                    strong(&c.id),
                    t(&format!(" {} ({} of {} tests passed)", c.status, c.passed, c.tests)),
                ])] })
            })
            .collect();
        if summary.controls.len() > MAX_CONTROLS {
            items.push(
                json!({ "type": "listItem", "content": [para(vec![t(&format!(
                "… {} more in report.json",
                summary.controls.len() - MAX_CONTROLS
            ))])] }),
            );
        }
        content.push(para(vec![strong("Controls:")]));
        content.push(json!({ "type": "bulletList", "content": items }));
    }
    if let Some(e) = &summary.evidence {
        let mut p = vec![strong("Evidence: "), link_text(&e.location, &e.location)];
        if !e.bundle_digest.is_empty() {
            p.push(t(&format!(" ({})", e.bundle_digest)));
        }
        content.push(para(p));
    }
    if let Some(u) = &summary.run_url {
        content.push(para(vec![link_text("Workflow run", u)]));
    }
    content.push(para(vec![json!({
        "type": "text",
        "text": ctx.stable_id(),
        "marks": [{ "type": "code" }],
    })]));
    json!({ "type": "doc", "version": 1, "content": content })
}

/// Whether a text node of an ADF document is exactly `needle` (so the marker of PR #1 does
/// not find PR #12's comment).
pub fn adf_contains(doc: &Value, needle: &str) -> bool {
    match doc {
        Value::Object(o) => {
            o.get("text")
                .and_then(Value::as_str)
                .is_some_and(|s| s.trim() == needle)
                || o.get("content").is_some_and(|c| adf_contains(c, needle))
        }
        Value::Array(a) => a.iter().any(|v| adf_contains(v, needle)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_jira_cloud;

    #[test]
    fn only_atlassian_sites_over_https_are_jira_cloud() {
        for yes in [
            "https://acme.atlassian.net",
            "https://ACME-2.atlassian.net/",
            "https://acme.atlassian.net/jira",
        ] {
            assert!(is_jira_cloud(yes), "{yes}");
        }
        for no in [
            "http://acme.atlassian.net",
            "https://atlassian.net",
            "https://.atlassian.net",
            "https://evil.example/acme.atlassian.net",
            "https://acme.atlassian.net.evil.example",
            "https://a.b.atlassian.net",
            "https://user@evil.example?.atlassian.net",
            "https://127.0.0.1:9",
        ] {
            assert!(!is_jira_cloud(no), "{no}");
        }
    }
}
