//! GitHub issues: the sticky comment on each of the change's linked GitHub issues.
//!
//! One comment per linked issue, found again by its marker
//! `<!-- controlgate:ticket:owner/repo#12 -->` among the comments controlgate's login wrote (as
//! for the PR comment: anyone can write a comment holding the marker) and edited rather than
//! repeated.
//! The requests go through the one GitHub client, [`crate::publish::github::GitHub`] (octocrab's
//! typed API, the retries and timeouts of publishing); Jira and Linear stay on `reqwest`. The
//! API base URL is injectable (`GITHUB_API_URL`; Enterprise Server; tests).

use std::fmt::Write as _;

use super::http::status_text;
use super::text::{self, MAX_CONTROLS};
use super::{ChangeContext, GithubCredentials, LinkResult, LinkStatus, RunSummary, Tracker};
use crate::publish::github::{GhError, GitHub, Repo, Sticky, Thread};
use crate::render::escape::{code_span, inline};

/// The GitHub client on a runtime of its own: linking runs on a plain thread (see
/// [`super::link`]), and octocrab is async.
pub struct Github {
    rt: tokio::runtime::Runtime,
    gh: GitHub,
    /// Only this login's comments are controlgate's (`None`: a bot's; see `Sticky::author`).
    author: Option<String>,
}

/// The marker that finds the comment again. The change's name holds a branch name (a push's),
/// which git lets hold `-->`: `%`, `<`, `>`, `!` and controls are percent-encoded, so nothing in
/// it can end the HTML comment.
pub fn marker(ctx: &ChangeContext) -> String {
    let mut name = String::new();
    for c in ctx.change_name().chars() {
        if matches!(c, '%' | '<' | '>' | '!') || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(name, "%{b:02X}");
            }
        } else {
            name.push(c);
        }
    }
    format!("<!-- controlgate:ticket:{name} -->")
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
            // A path is the config's (the pull request's): a line break in it would end a
            // code span and start Markdown of its own (a mention, an image).
            code_span(&e.location, 300)
        };
        let _ = write!(s, "**Evidence:** {loc}");
        if !e.bundle_digest.is_empty() {
            let _ = write!(s, " ({})", code_span(&e.bundle_digest, 80));
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

impl Github {
    pub(crate) fn new(creds: &GithubCredentials) -> Result<Self, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("GitHub: cannot start the async runtime: {e}"))?;
        let api = match creds.api_url.trim() {
            "" => GithubCredentials::DEFAULT_URL,
            url => url,
        };
        // octocrab's client must be built inside the runtime that drives it. Retries are not
        // logged: the link result says how the request ended.
        let gh = {
            let _guard = rt.enter();
            GitHub::new(
                api,
                creds.token.expose(),
                creds.retry.clone(),
                Box::new(|_| {}),
            )
        }
        .map_err(|e| message(&e))?;
        let author = match &creds.comment_author {
            Some(a) => Some(a.clone()),
            None => rt.block_on(gh.identity()),
        };
        Ok(Github { rt, gh, author })
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
        let (owner, name, number) =
            parse_key(key).ok_or_else(|| format!("`{key}` is not owner/repo#number"))?;
        let marker = marker(ctx);
        let sticky = Sticky {
            marker: &marker,
            author: self.author.as_deref(),
        };
        let body = comment_body(ctx, summary);
        let done = self
            .rt
            .block_on(self.gh.upsert_comment(
                Repo { owner, name },
                Thread::Issue(number),
                &sticky,
                &body,
            ))
            .map_err(|e| message(&e))?;
        Ok(if done.created {
            LinkStatus::Created
        } else {
            LinkStatus::Updated
        })
    }
}

/// A client error as the tracker message the report shows: `GitHub answered 404 Not Found:
/// Not Found`, `GitHub unreachable: ...` (which [`super::link`] reads to stop trying GitHub).
pub fn message(e: &GhError) -> String {
    let answered = |status: u16, msg: &str| {
        if msg.is_empty() {
            format!("GitHub answered {}", status_text(status))
        } else {
            format!("GitHub answered {}: {msg}", status_text(status))
        }
    };
    match e {
        GhError::ReadOnly { message, .. } => answered(403, message),
        GhError::Api {
            status, message, ..
        } => answered(*status, message),
        GhError::Transport {
            failure, message, ..
        } => format!("GitHub {failure}: {message}"),
        GhError::Client { what, message } => format!("GitHub: {what}: {message}"),
    }
}
