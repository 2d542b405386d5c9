//! Linking the run to the change's tickets in the configured trackers (Jira, Linear, GitHub
//! issues) after publishing, with the results in the step log.

use std::io::Write;

use crate::actions_env::ActionContext;
use crate::publish::github::RetryPolicy;

use super::decide::Decided;
use super::log::{notice, shown};

/// Links the run to the change's tickets (after publishing; never fails the run). Returns the
/// section with the link results, when tickets are configured and the run has a change.
pub(super) fn link_tickets(
    ctx: &ActionContext,
    d: &Decided,
    evidence: Option<&crate::retain::Written>,
    out: &mut dyn Write,
) -> Option<crate::tickets::TicketsSection> {
    use crate::tickets::{
        EvidenceLink, GithubCredentials, JiraCredentials, LinearCredentials, RunSummary,
        TicketCredentials,
    };
    let cfg = &d.config.tickets;
    let change = d.req.change.as_ref()?;
    if !cfg.any_tracker() {
        return None;
    }
    let i = &ctx.inputs;
    let creds = TicketCredentials {
        jira: i.jira_api_token.as_ref().map(|t| JiraCredentials {
            base_url: i.jira_url.clone().unwrap_or_default(),
            email: i.jira_email.clone().unwrap_or_default(),
            api_token: t.clone(),
        }),
        linear: i
            .linear_api_key
            .as_ref()
            .map(|k| LinearCredentials::new(k.clone())),
        github: i.github_token.as_ref().map(|t| GithubCredentials {
            api_url: ctx.api_url.clone(),
            token: t.clone(),
            retry: RetryPolicy {
                time_scale: ctx.retry_time_scale,
                ..Default::default()
            },
            comment_author: ctx.inputs.comment_author.clone(),
        }),
    };
    let mut summary = RunSummary::from_report(&d.output.report);
    summary.evidence = evidence.map(|w| EvidenceLink {
        location: w.location.clone(),
        bundle_digest: w.bundle_digest.clone(),
    });
    summary.run_url = ctx.run_url.clone();
    let section = crate::tickets::link(change, cfg, &creds, &summary);
    let md = crate::tickets::render_tickets(&section);
    // Rendered from tracker and PR text: inert inside a stop-commands block.
    let token = crate::suites::random_token();
    let _ = writeln!(out, "::group::controlgate change tickets");
    let _ = writeln!(out, "::stop-commands::{token}");
    let _ = writeln!(out, "{md}");
    let _ = writeln!(out, "::{token}::");
    let _ = writeln!(out, "::endgroup::");
    for l in &section.links {
        if l.status == crate::tickets::LinkStatus::Skipped {
            let _ = writeln!(
                out,
                "controlgate: {} {} {} skipped: {}",
                l.tracker.name(),
                shown(&l.ticket),
                shown(&l.action),
                shown(l.message.as_deref().unwrap_or(""))
            );
        }
        if l.status == crate::tickets::LinkStatus::Failed {
            notice(
                out,
                "warning",
                &format!(
                    "{} {} {}: {}",
                    l.tracker.name(),
                    l.ticket,
                    l.action,
                    l.message.as_deref().unwrap_or("failed")
                ),
            );
        }
    }
    Some(section)
}
