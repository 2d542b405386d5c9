//! The "Change tickets" section of the PR comment.

use std::fmt::Write as _;

use crate::model::tickets::{LinkStatus, TicketsSection};
use crate::render::escape::inline;

/// The "Change tickets" section of the PR comment. Untrusted text (keys come from PR text,
/// messages from trackers) is escaped.
pub fn render_tickets(section: &TicketsSection) -> String {
    let mut s = String::from("### Change tickets\n\n");
    if section.tickets.is_empty() {
        s.push_str("No change ticket found");
        match &section.exemption {
            Some(e) => {
                let _ = writeln!(s, "; exempt by {} {}.", e.by, inline(&e.value, 100));
            }
            None => s.push_str(".\n"),
        }
        s.push('\n');
    } else {
        s.push_str("| Ticket | Tracker | Found in | Linked |\n|---|---|---|---|\n");
        for t in &section.tickets {
            let links: Vec<String> = section
                .links
                .iter()
                .filter(|l| l.tracker == t.tracker && l.ticket == t.key)
                .map(|l| {
                    let mark = match l.status {
                        LinkStatus::Created | LinkStatus::Updated | LinkStatus::Upserted => "✅",
                        LinkStatus::Skipped => "⏭️",
                        LinkStatus::Failed => "⚠️",
                    };
                    let status = serde_json::to_value(l.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    let mut cell = format!("{mark} {} {status}", l.action.replace('_', " "));
                    if let Some(m) = &l.message
                        && l.status == LinkStatus::Failed
                    {
                        let _ = write!(cell, ": {}", inline(m, 160));
                    }
                    cell
                })
                .collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                inline(&t.key, 120),
                t.tracker.name(),
                t.source.describe(),
                if links.is_empty() {
                    "—".to_owned()
                } else {
                    links.join("<br>")
                }
            );
        }
        if let Some(e) = &section.exemption {
            let _ = writeln!(
                s,
                "\nExempt by {} {} (tickets.exempt).",
                e.by,
                inline(&e.value, 100)
            );
        }
        s.push('\n');
    }
    s
}
