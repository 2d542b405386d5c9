//! Change tickets (issue 6, CC8.1): which Jira, Linear and GitHub issues a change belongs to,
//! the `tickets.required` gate, and linking the run's verdict and evidence back to each ticket.
//!
//! Everything here takes plain data: a [`ChangeContext`] (what the Action reads from the event),
//! a [`RunSummary`] (the decided run and where its evidence went) and [`TicketCredentials`].
//! [`find`] and [`gate`] are pure; [`link`] talks to the trackers through [`jira`], [`linear`]
//! and [`github_issues`], the only modules that do I/O. A tracker failure becomes a
//! [`LinkResult`] with the tracker's own message; it never aborts the run. See `docs/tickets.md`.

pub mod github_issues;
mod http;
pub mod jira;
pub mod linear;
mod secret;
mod text;

pub use crate::analyze::tickets::{accepted_patterns, exemption, find, gate, section};
pub use crate::config::{Exemptions, GithubIssuesConfig, JiraConfig, LinearConfig, TicketsConfig};
pub use crate::model::tickets::*;
pub use crate::render::tickets::render_tickets;

pub use secret::{
    GithubCredentials, JiraCredentials, LinearCredentials, Secret, TicketCredentials,
};

/// At most this many tickets are linked per run (a body listing hundreds of keys must not
/// turn into hundreds of API calls); the rest are listed as skipped.
pub const MAX_LINKED: usize = 20;

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
