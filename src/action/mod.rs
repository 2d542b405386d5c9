//! `controlgate run` (the GitHub Action's entry point) and `controlgate publish --from DIR`
//! (the second stage of the fork-safe two-workflow pattern).
//!
//! Input is an [`ActionContext`] (built by [`crate::actions_env`], the only module reading the
//! environment); output goes to the given writer (the step log). The exit code is the verdict:
//! 0 pass, 1 a gate failed (or publishing failed), 2 nothing could be decided (bad input) — and
//! in that last case the check run is still created, as `failure` (fail closed).

mod artifact;
mod decide;
mod evidence;
mod github;
mod log;
mod outputs;
mod publication;
mod suite_runs;
mod tickets;
mod workspace;

use std::io::Write;

use crate::actions_env::ActionContext;
use crate::error::ExitCode;
use crate::model::report::Verdict;
use crate::publish;

pub use artifact::publish_from;

use decide::decide;
use evidence::{evidence_section, retain};
use github::publish_to_github;
use log::{notice, shown};
use outputs::finish;
use publication::{Publication, check_title, long_summary, uncovered_ranges};
use tickets::link_tickets;
use workspace::{give_to_workspace_owner, resolve, write_report_dir};

/// `controlgate run`: decide (suites, JUnit, coverage, tickets gate), retain the evidence,
/// write the report directory, publish to GitHub, link the change tickets, then the job summary
/// and outputs. The evidence is written before anything goes to GitHub, so a GitHub failure
/// never loses it.
pub fn run(ctx: &ActionContext, out: &mut dyn Write) -> ExitCode {
    // A Docker action's workspace is owned by the runner's uid, not the container's root:
    // libgit2's owner check would reject it ("not owned by current user").
    crate::git::disable_owner_check();
    // What is written into the workspace and the job summary is redacted of the run's secrets
    // like what is posted (see `publish_to_github`).
    let redactor = match ctx.secrets.redactor() {
        Ok(r) => r,
        Err(e) => {
            notice(
                out,
                "error",
                &format!("the run's secrets cannot be redacted ({e}): nothing was done"),
            );
            return ExitCode::BadInput;
        }
    };
    let redact = |text: &str| {
        redactor
            .redact(text, &mut crate::redact::Redactions::default())
            .into_owned()
    };
    let title = ctx.inputs.check_name.clone();
    let report_dir = resolve(&ctx.workspace, &ctx.inputs.report_dir);
    // The report directory holds this run's report or none: one an earlier run left (a
    // self-hosted runner's workspace, a second step with the same directory) would be
    // published by `publish --from` or merged as a leg if this run cannot write its own.
    for name in [
        "report.json",
        "summary.md",
        "event.json",
        "context.json",
        crate::legs::LEG_FILE,
    ] {
        let stale = report_dir.join(name);
        if let Err(e) = std::fs::remove_file(&stale)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            notice(
                out,
                "error",
                &format!(
                    "cannot remove {} left by an earlier run ({e}): nothing was done",
                    shown(&stale.display().to_string())
                ),
            );
            return ExitCode::BadInput;
        }
    }
    let decided = decide(ctx, out);
    // A matrix leg publishes nothing of its own: the fan-in job's merge does.
    let leg = ctx.inputs.leg.as_deref();
    let evidence = match &decided {
        Ok(d) if leg.is_none() => retain(ctx, d, out),
        _ => None,
    };
    let evidence_md = evidence.as_ref().map(evidence_section);
    let (mut publication, mut code, report_written) = match &decided {
        Ok(d) => {
            let o = &d.output;
            let mut markdown = o.markdown.clone();
            if let Some(e) = &evidence_md {
                markdown.push_str(&format!("\n{e}"));
            }
            let markdown = redact(&markdown);
            let written = match write_report_dir(ctx, o, &markdown, &report_dir).and_then(|()| {
                leg.map_or(Ok(()), |name| {
                    crate::legs::write_leg(o, &d.req, name, &report_dir)
                })
            }) {
                Ok(()) => true,
                Err(e) => {
                    notice(
                        out,
                        "warning",
                        &format!("cannot write the report directory: {e}"),
                    );
                    false
                }
            };
            let annotations = publish::annotations(
                &o.report,
                &uncovered_ranges(&o.report),
                ctx.inputs.max_annotations,
                Some(&ctx.workspace.to_string_lossy()),
            );
            (
                Publication {
                    markdown,
                    long_markdown: String::new(),
                    success: o.report.verdict == Verdict::Pass,
                    title: check_title(&o.report),
                    annotations,
                    pr_number: ctx.event.pr_number,
                    head_sha: ctx.event.head_sha.clone(),
                    verify_pr_head: false,
                    ledger_tip: evidence
                        .as_ref()
                        .and_then(|e| e.as_ref().ok())
                        .map(|w| (w.entry_seq, w.entry_digest.clone())),
                    fingerprint: publication::fingerprint(&o.report),
                },
                o.exit_code(),
                written,
            )
        }
        Err(e) => {
            let _ = writeln!(out, "error: {}", shown(&e.to_string()));
            let markdown = format!(
                "## ❌ {}: no verdict\n\ncontrolgate could not decide this run, so the \
                         check fails closed:\n\n{}\n",
                crate::render::escape::inline(&title, 80),
                crate::render::escape::code_block(&e.to_string(), "text")
            );
            (
                Publication {
                    long_markdown: markdown.clone(),
                    markdown,
                    success: false,
                    title: "controlgate could not decide this run".into(),
                    annotations: Vec::new(),
                    pr_number: ctx.event.pr_number,
                    head_sha: ctx.event.head_sha.clone(),
                    verify_pr_head: false,
                    ledger_tip: None,
                    fingerprint: String::new(),
                },
                e.exit_code(),
                false,
            )
        }
    };
    if let Some(Err(msg)) = &evidence {
        // Fail closed: a run whose evidence did not reach the store passes neither the job nor
        // the check run branch protection requires (a green check would let the change merge
        // with nothing for the auditor to sample). The gates' verdict stays in the summary and
        // the `verdict` output.
        notice(
            out,
            "error",
            &format!("evidence not retained in the store: {msg}"),
        );
        if code == ExitCode::Pass {
            code = ExitCode::Fail;
        }
        publication.title.push_str(" — evidence not retained");
        publication.success = false;
    }
    let published = match leg {
        None => publish_to_github(ctx, &publication, out),
        Some(name) => {
            let _ = writeln!(
                out,
                "controlgate: leg `{}`: written to the report directory for the fan-in job's \
                 `merge`; nothing published",
                shown(name)
            );
            if !report_written && code != ExitCode::BadInput {
                // The fan-in cannot merge a leg that was not written: fail closed.
                code = ExitCode::BadInput;
            }
            github::Published::default()
        }
    };
    let tickets = match &decided {
        Ok(d) if leg.is_none() => {
            link_tickets(ctx, d, evidence.as_ref().and_then(|e| e.as_ref().ok()), out)
        }
        _ => None,
    };
    if let Ok(d) = &decided {
        publication.long_markdown = long_summary(&d.output.report, &title, tickets.as_ref());
        if let Some(e) = &evidence_md {
            publication.long_markdown.push_str(&format!("\n{e}"));
        }
    }
    publication.long_markdown = redact(&publication.long_markdown);
    // What was written into the workspace belongs to the workspace's owner, not to the
    // container's root: later steps (and actions/checkout's cleanup) must be able to remove it.
    let mut written = vec![report_dir.clone(), ctx.workspace.join(".controlgate")];
    if let Ok(d) = &decided
        && let Some(ev) = &d.output.evidence
    {
        written.push(ctx.workspace.join(&ev.fallback_dir));
        if let crate::retain::StoreConfig::Dir { path } = &ev.store {
            written.push(ctx.workspace.join(path));
        }
    }
    give_to_workspace_owner(&ctx.workspace, &written);
    finish(
        ctx,
        &publication,
        &published,
        decided.as_ref().ok().map(|d| &d.output),
        evidence.as_ref().and_then(|e| e.as_ref().ok()),
        report_written.then_some(&report_dir),
        out,
    );
    if published.failed && code == ExitCode::Pass {
        return ExitCode::Fail;
    }
    code
}
