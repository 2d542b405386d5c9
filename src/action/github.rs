//! Publishing to GitHub: the check run (with annotations) and the sticky PR comment, never
//! failing the step for a read-only token (a fork's run).

use std::io::Write;

use crate::actions_env::ActionContext;
use crate::actions_env::CommentMode;
use crate::publish::CommentState;
use crate::publish::github::{
    CheckRun, GhError, GitHub, Repo, RetryPolicy, Sticky, Thread, check_run_external_id,
};
use crate::publish::{self, CHECK_SUMMARY_LIMIT, COMMENT_LIMIT};
use crate::suites;

use super::log::{notice, shown};
use super::publication::Publication;

/// What was published, for the step outputs.
#[derive(Debug, Default)]
pub(super) struct Published {
    pub(super) comment_url: Option<String>,
    pub(super) check_run_url: Option<String>,
    /// A publishing step failed for another reason than a read-only token.
    pub(super) failed: bool,
}

const FORK_NOTICE: &str = "The token is read-only (a pull request from a fork, or Dependabot; or \
the job's `permissions:` grant neither `checks: write` nor `pull-requests: write`), so \
the PR comment and check run were not published; the verdict is in the job summary and the exit \
code. To publish them, upload the report directory (it contains event.json) as an artifact and \
run `controlgate publish --from <dir>` in a second workflow triggered `on: workflow_run` with \
`pull-requests: write` and `checks: write` — see docs/action.md.";

/// Publishes the comment and the check run. Never fails: problems are reported in the log and
/// in `Published`.
pub(super) fn publish_to_github(
    ctx: &ActionContext,
    p: &Publication,
    out: &mut dyn Write,
) -> Published {
    let mut published = Published::default();
    // The last step before anything leaves for GitHub: the run's secrets (and encodings) are
    // redacted from what is posted, whatever produced it (a fresh run, or an artifact).
    let redactor = match ctx.secrets.redactor() {
        Ok(r) => r,
        Err(e) => {
            notice(
                out,
                "error",
                &format!("not publishing: the run's secrets cannot be redacted ({e})"),
            );
            published.failed = true;
            return published;
        }
    };
    let p = &p.redacted(&redactor);
    let Some(token) = ctx.inputs.github_token.as_ref().map(|t| t.expose()) else {
        let _ = writeln!(
            out,
            "controlgate: no `github-token`: not publishing to GitHub"
        );
        return published;
    };
    let Some((owner, repo)) = &ctx.repository else {
        let _ = writeln!(
            out,
            "controlgate: GITHUB_REPOSITORY is not set: not publishing"
        );
        return published;
    };
    let policy = RetryPolicy {
        time_scale: ctx.retry_time_scale,
        ..Default::default()
    };
    let log: Box<dyn Fn(&str)> =
        Box::new(move |m| eprintln!("controlgate: {}", crate::console::inert(m, &redactor)));
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            notice(
                out,
                "error",
                &format!("cannot start the async runtime: {e}"),
            );
            published.failed = true;
            return published;
        }
    };
    // octocrab's client (a tower buffer) must be built inside the runtime.
    let _guard = rt.enter();
    let repo = Repo {
        owner: owner.as_str(),
        name: repo.as_str(),
    };
    let gh = match GitHub::new(&ctx.api_url, token, policy, log) {
        Ok(g) => g,
        Err(e) => {
            notice(out, "error", &e.to_string());
            published.failed = true;
            return published;
        }
    };
    let name = &ctx.inputs.check_name;
    // Writes GitHub refused as "not accessible by integration", each with the permission it
    // needs: all of them refused is a read-only token (a fork's run); some is a workflow whose
    // `permissions:` lack one, which must not pass quietly.
    let mut refused: Vec<&str> = Vec::new();
    let mut on_error =
        |e: GhError, out: &mut dyn Write, refused: &mut Vec<&str>, needs: &'static str| match e {
            GhError::ReadOnly { .. } => refused.push(needs),
            e => {
                notice(out, "error", &e.to_string());
                published.failed = true;
            }
        };
    let mut written = false;
    rt.block_on(async {
        if ctx.inputs.check_run {
            match &p.head_sha {
                None => notice(
                    out,
                    "warning",
                    "no head commit SHA in the event: no check run",
                ),
                Some(sha) => {
                    let run = CheckRun {
                        name: name.clone(),
                        head_sha: sha.clone(),
                        success: p.success,
                        title: p.title.clone(),
                        summary: publish::fit(
                            &p.markdown,
                            CHECK_SUMMARY_LIMIT,
                            "the job summary and `report.json`",
                        ),
                        annotations: p.annotations.clone(),
                        details_url: ctx.run_url.clone(),
                        // Unique per invocation (a job may run controlgate twice).
                        external_id: check_run_external_id(
                            ctx.run_id.as_deref().unwrap_or("local"),
                            &suites::random_token()[..12],
                            p.ledger_tip.as_ref().map(|(seq, d)| (*seq, d.as_str())),
                        ),
                    };
                    match gh.create_check_run(repo, &run).await {
                        Ok(url) => {
                            let _ = writeln!(out, "controlgate: check run {}", shown(&url));
                            published.check_run_url = Some(url);
                            written = true;
                        }
                        Err(e) => on_error(e, out, &mut refused, "`checks: write`"),
                    }
                }
            }
        }
        if ctx.inputs.comment != CommentMode::Off {
            let mut pr_number = p.pr_number;
            if let (true, Some(pr)) = (p.verify_pr_head, pr_number) {
                let tested = p.head_sha.as_deref().unwrap_or("");
                match gh.pull_head_sha(repo, pr).await {
                    Ok(head) if head == tested => {}
                    Ok(head) => {
                        notice(
                            out,
                            "warning",
                            &format!(
                                "not commenting on PR #{pr}: its head is {head}, not the tested commit {tested}"
                            ),
                        );
                        pr_number = None;
                    }
                    Err(e) => {
                        on_error(e, out, &mut refused, "`pull-requests: read`");
                        pr_number = None;
                    }
                }
            }
            if let Some(pr) = pr_number {
                let author = match &ctx.inputs.comment_author {
                    Some(a) => Some(a.clone()),
                    None => gh.identity().await,
                };
                let marker = publish::marker(name);
                let state = CommentState {
                    run: run_number(ctx.run_id.as_deref()),
                    head: p.head_sha.clone().unwrap_or_default(),
                    fingerprint: p.fingerprint.clone(),
                };
                let state_line = state.line();
                let body = format!(
                    "{marker}\n{state_line}\n{}",
                    publish::fit(
                        &p.markdown,
                        COMMENT_LIMIT
                            - marker.chars().count()
                            - state_line.chars().count()
                            - 2,
                        "the job summary and `report.json`"
                    )
                );
                let sticky = Sticky {
                    marker: &marker,
                    author: author.as_deref(),
                };
                let mode = ctx.inputs.comment;
                // `failures`: a passing run creates no comment, but updates an existing one so
                // it never shows a failure that was fixed.
                let create = mode != CommentMode::Failures || !p.success;
                let keep = |existing: &str| {
                    CommentState::find(existing)
                        .and_then(|prev| state.keep_reason(&prev, mode == CommentMode::Changes))
                };
                match gh
                    .upsert_comment_if(repo, Thread::PullRequest(pr), &sticky, &body, create, &keep)
                    .await
                {
                    Ok(c) => {
                        match &c.left {
                            Some(why) => {
                                let _ = writeln!(
                                    out,
                                    "controlgate: PR comment left as it is: {}",
                                    shown(why)
                                );
                            }
                            None => {
                                let _ = writeln!(
                                    out,
                                    "controlgate: PR comment {}",
                                    shown(&c.html_url)
                                );
                            }
                        }
                        if !c.html_url.is_empty() {
                            published.comment_url = Some(c.html_url);
                        }
                        // Left as it is (nothing to create, or unchanged) is no write: a fork's
                        // read-only token gets that far too.
                        written |= c.left.is_none();
                    }
                    Err(e) => on_error(e, out, &mut refused, "`pull-requests: write`"),
                }
            }
        }
    });
    if !refused.is_empty() {
        // Only a pull request's run gets a read-only token by GitHub's choice (a fork,
        // Dependabot); anything else refused is the workflow's own permissions.
        if written || p.pr_number.is_none() {
            notice(
                out,
                "error",
                &format!(
                    "GitHub refused part of the publication (403 \"Resource not accessible by \
                     integration\"): give the job {} in its `permissions:`",
                    refused.join(" and ")
                ),
            );
            published.failed = true;
        } else {
            notice(out, "notice", FORK_NOTICE);
        }
    }
    published
}

/// The workflow run's number from `GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT` (0 when unknown: a
/// local run never outranks a workflow's comment).
fn run_number(run_id: Option<&str>) -> u64 {
    run_id
        .and_then(|r| r.split('-').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
