//! The API section of the Markdown summary: a pure function of [`ApiSection`] within a
//! character budget. Tables are filled most important first (confidential-field findings,
//! breaking changes, new untested operations, missing negative-auth, untested operations,
//! undocumented requests, per-tag coverage); whole rows only, and each cut is announced.

use std::fmt::Write;

use super::escape::{code_span, count, inline};
use crate::model::api::{ApiSection, FindingReason};

const NAME: usize = 160;

struct Cut<'a> {
    used: usize,
    budget: usize,
    out: &'a mut String,
}

impl Cut<'_> {
    /// Writes `head` and as many `rows` as fit (reserving room for the note), then the
    /// omission note when rows were left out. Nothing when not even the head fits.
    fn table(&mut self, head: &str, rows: impl ExactSizeIterator<Item = String>, what: &str) {
        let total = rows.len();
        if total == 0 {
            return;
        }
        let note = 110;
        if self.used + head.len() + note > self.budget {
            return;
        }
        self.out.push_str(head);
        self.used += head.len();
        let mut shown = 0;
        for r in rows {
            if self.used + r.len() + note > self.budget {
                break;
            }
            self.used += r.len();
            self.out.push_str(&r);
            shown += 1;
        }
        if shown < total {
            let n = format!(
                "\n_… {} more {what} not shown (comment size limit); see `report.json`._\n",
                count((total - shown) as u64)
            );
            self.used += n.len();
            self.out.push_str(&n);
        }
        self.out.push('\n');
        self.used += 1;
    }
}

fn statuses(s: &[u16]) -> String {
    if s.is_empty() {
        return "—".into();
    }
    s.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
}

/// Renders the section in at most `budget` characters (bytes, as the summary counts them).
pub fn markdown(section: &ApiSection, budget: usize) -> String {
    let mut out = String::new();
    let c = &section.coverage;
    let _ = writeln!(out, "### API coverage\n");
    let _ = write!(
        out,
        "**{} of {} operations exercised ({:.1}%)**",
        count(c.exercised),
        count(c.described),
        c.percent
    );
    if let (Some(d), Some(base)) = (section.delta_pp, &section.delta_base) {
        let sign = if d > 0.05 {
            "+"
        } else if d < -0.05 {
            "−"
        } else {
            ""
        };
        let _ = write!(out, " ({sign}{:.1} pp vs {})", d.abs(), inline(base, 120));
    }
    let undocumented: u64 = section.unmatched.iter().map(|u| u.count).sum();
    let _ = write!(
        out,
        " · {} request(s): {} matched, {} undocumented, {} ignored",
        count(section.exchanges),
        count(section.matched),
        count(undocumented),
        count(section.ignored)
    );
    if section.secured_operations > 0 {
        let _ = write!(
            out,
            " · {} secured operation(s), {} without a 401/403 exercised",
            count(section.secured_operations),
            count(section.missing_negative_auth.len() as u64)
        );
    }
    if !section.confidential_fields.is_empty() {
        let _ = write!(
            out,
            " · {} confidential-field finding(s)",
            count(section.findings.len() as u64)
        );
    }
    out.push_str("\n\n");
    if !section.controls.is_empty() {
        let mut parts = Vec::new();
        for ctl in &section.controls {
            parts.push(format!(
                "{} ({}) {}",
                inline(&ctl.id, 10),
                ctl.check.replace('_', " "),
                if ctl.passed { "✅" } else { "❌" }
            ));
        }
        let _ = writeln!(out, "Controls: {}\n", parts.join(" · "));
    }
    if out.len() > budget {
        // Not even the headline fits: keep the first line only.
        let first = out.lines().next().unwrap_or("").to_owned();
        return if first.len() <= budget {
            first
        } else {
            String::new()
        };
    }
    let used = out.len();
    let mut cut = Cut {
        used,
        budget,
        out: &mut out,
    };

    cut.table(
        "#### Confidential fields in error or unauthenticated responses\n\n| Field | At | Operation | Status | Why | Exchange |\n|---|---|---|--:|---|---|\n",
        section.findings.iter().map(|f| {
            format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                // Escaped text inside a code span would show its references as written.
                code_span(&f.field, 60),
                inline(&f.at, 80),
                inline(&f.operation, NAME),
                f.status,
                match f.reason {
                    FindingReason::ErrorResponse => "error response",
                    FindingReason::Unauthenticated => "unauthenticated request",
                },
                inline(&f.exchange.to_string(), 120)
            )
        }),
        "findings",
    );
    if let Some(d) = &section.drift {
        cut.table(
            "#### Breaking changes against the base description\n\n| Change | Operation | Where | Detail |\n|---|---|---|---|\n",
            d.drift.breaking.iter().map(|b| {
                format!(
                    "| {} | {} | {} | {} |\n",
                    b.kind.as_str(),
                    inline(&b.operation, NAME),
                    inline(&b.location, 120),
                    inline(&b.detail, 160)
                )
            }),
            "breaking changes",
        );
        cut.table(
            "#### New operations without tests\n\n| Operation |\n|---|\n",
            d.new_untested
                .iter()
                .map(|k| format!("| {} |\n", inline(k, NAME))),
            "new operations",
        );
    }
    let missing: Vec<_> = section
        .operations
        .iter()
        .filter(|o| o.negative_auth == Some(false))
        .collect();
    cut.table(
        "#### Secured operations without a rejected-call test (401/403)\n\n| Operation | operationId | Statuses seen |\n|---|---|---|\n",
        missing.iter().map(|o| {
            format!(
                "| {} | {} | {} |\n",
                inline(&o.key, NAME),
                o.operation_id.as_deref().map(|i| inline(i, 80)).unwrap_or_default(),
                statuses(&o.statuses)
            )
        }),
        "operations",
    );
    let untested: Vec<_> = section.operations.iter().filter(|o| !o.exercised).collect();
    cut.table(
        "#### Untested operations\n\n| Operation | operationId | Tags |\n|---|---|---|\n",
        untested.iter().map(|o| {
            format!(
                "| {} | {} | {} |\n",
                inline(&o.key, NAME),
                o.operation_id
                    .as_deref()
                    .map(|i| inline(i, 80))
                    .unwrap_or_default(),
                inline(&o.tags.join(", "), 80)
            )
        }),
        "untested operations",
    );
    cut.table(
        "#### Undocumented requests (no operation in the description)\n\n| Request | Count | Statuses | First seen |\n|---|--:|---|---|\n",
        section.unmatched.iter().map(|u| {
            format!(
                "| {} {} | {} | {} | {} |\n",
                inline(&u.method, 10),
                inline(&u.path, NAME),
                count(u.count),
                statuses(&u.statuses),
                inline(&u.first.to_string(), 120)
            )
        }),
        "undocumented requests",
    );
    if section.by_tag.len() > 1 {
        cut.table(
            "#### Coverage by tag\n\n| Tag | Exercised | Described | Coverage |\n|---|--:|--:|--:|\n",
            section.by_tag.iter().map(|t| {
                format!(
                    "| {} | {} | {} | {:.1}% |\n",
                    inline(&t.tag, 80),
                    count(t.count.exercised),
                    count(t.count.described),
                    t.count.percent
                )
            }),
            "tags",
        );
    }
    cut.table(
        "#### Operation tags on tests that name no operation\n\n| Tag | Test |\n|---|---|\n",
        section
            .unknown_operation_tags
            .iter()
            .map(|u| format!("| {} | {} |\n", inline(&u.tag, 120), inline(&u.test, NAME))),
        "tags",
    );
    out
}
