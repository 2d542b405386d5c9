//! `controlgate publish --from DIR`: stage 2 of the fork-safe pattern, publishing a report
//! directory that an untrusted run uploaded.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::actions_env::{ActionContext, parse_event};
use crate::error::{Error, ExitCode, ParseError};
use crate::model::report::{Report, Verdict};
use crate::publish;

use super::github::publish_to_github;
use super::publication::{Publication, check_title, uncovered_ranges};

/// `controlgate publish --from DIR`: stage 2 of the fork-safe pattern, run `on: workflow_run`
/// with a write token. The artifact came from an untrusted run: the commit comes from this
/// run's own `workflow_run` event, and the PR is accepted only if the artifact's event names
/// the same head commit.
pub fn publish_from(
    ctx: &ActionContext,
    dir: &Path,
    out: &mut dyn Write,
) -> Result<ExitCode, Error> {
    crate::git::disable_owner_check();
    let read = |name: &str| -> Result<String, Error> {
        let p = dir.join(name);
        std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))
    };
    // Written by the fork's job, so anything could be in it: neutralised, not trusted, and
    // redacted of this (privileged) run's secrets.
    let redactor = ctx.secrets.redactor()?;
    let markdown = redactor
        .redact(
            &crate::render::escape::untrusted_markdown(&read("summary.md")?),
            &mut Default::default(),
        )
        .into_owned();
    // Typed, and of this controlgate's schema: a report of another version is refused rather
    // than published with fields read as something they are not.
    let report = Report::from_json(&read("report.json")?)
        .map_err(|e| ParseError::new(e.to_string()).in_file(dir.join("report.json")))?;
    let event: Value = serde_json::from_str(&read("event.json")?).map_err(|e| {
        Error::Usage(format!(
            "{}: not JSON: {e}",
            dir.join("event.json").display()
        ))
    })?;
    let meta: Value = read("context.json")
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    let original_event = meta
        .get("event_name")
        .and_then(Value::as_str)
        .unwrap_or("pull_request");
    let original = parse_event(original_event, &event, None);
    // Trusted: this run's own event (workflow_run.head_sha), when there is one.
    let head_sha = match (&ctx.event.head_sha, &original.head_sha) {
        (Some(trusted), Some(claimed))
            if ctx.event_name == "workflow_run" && trusted != claimed =>
        {
            return Err(Error::Usage(format!(
                "the artifact's event is for commit {claimed}, but the triggering workflow run \
                 tested {trusted}: refusing to publish"
            )));
        }
        (Some(trusted), _) if ctx.event_name == "workflow_run" => Some(trusted.clone()),
        (_, claimed) => claimed.clone(),
    };
    let success = report.verdict == Verdict::Pass;
    // The same title and annotations as the run that wrote the report would have posted.
    let publication = Publication {
        long_markdown: markdown.clone(),
        markdown: markdown.clone(),
        success,
        title: check_title(&report),
        annotations: publish::annotations(
            &report,
            &uncovered_ranges(&report),
            ctx.inputs.max_annotations,
            Some(&ctx.workspace.to_string_lossy()),
        ),
        pr_number: original.pr_number.or(ctx.event.pr_number),
        head_sha,
        verify_pr_head: true,
        // A tip from an untrusted artifact would anchor whatever it claims.
        ledger_tip: None,
        fingerprint: super::publication::fingerprint(&report),
    };
    let published = publish_to_github(ctx, &publication, out);
    if let Some(path) = &ctx.step_summary {
        let _ = publish::write_step_summary(path, &markdown);
    }
    if published.failed {
        return Ok(ExitCode::Fail);
    }
    Ok(if success {
        ExitCode::Pass
    } else {
        ExitCode::Fail
    })
}
