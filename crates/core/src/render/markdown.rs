//! The Markdown summary (PR comment, check-run summary, job summary): a pure function of the
//! report, within a character budget.
//!
//! Degradation when the budget is tight: whole table rows are dropped, lowest value first —
//! passing controls, then unknown tags, then failing tests — and each cut is announced. A row
//! or code fence is never cut in the middle.

use std::fmt::Write;

use super::escape::{code_span, count, inline};
use crate::model::CaseStatus;
use crate::model::report::{ControlStatus, GateResult, GateStatus, Report, Verdict};

/// GitHub's comment limit is 65,536 characters; the rest is headroom for the marker.
pub const DEFAULT_BUDGET: usize = 65_000;

const NAME_CHARS: usize = 200;
const MESSAGE_CHARS: usize = 160;

#[derive(Debug, Clone)]
pub struct MarkdownOptions {
    /// Maximum characters of the whole document.
    pub budget: usize,
    /// Heading text after the verdict mark (e.g. the check name).
    pub title: String,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            budget: DEFAULT_BUDGET,
            title: "controlgate".to_owned(),
        }
    }
}

/// A table whose rows are added only while they fit.
struct Table {
    head: String,
    rows: Vec<String>,
    total: usize,
}

impl Table {
    fn new(head: &str, total: usize) -> Self {
        Table {
            head: head.to_owned(),
            rows: Vec::new(),
            total,
        }
    }

    /// Characters the table needs with `n` rows.
    fn render(&self, what: &str) -> String {
        let mut s = self.head.clone();
        for r in &self.rows {
            s.push_str(r);
        }
        if self.rows.len() < self.total {
            let _ = writeln!(
                s,
                "\n_… {} more {what} not shown (comment size limit); see `report.json`._",
                count((self.total - self.rows.len()) as u64)
            );
        }
        s
    }
}

/// Fills `table` from `rows` while the running `used` stays within `budget`.
fn fill(table: &mut Table, rows: impl Iterator<Item = String>, used: &mut usize, budget: usize) {
    // Reserve room for the header and the omission note.
    let note = 120;
    if *used + table.head.len() + note > budget {
        return;
    }
    *used += table.head.len() + note;
    for row in rows {
        if *used + row.len() > budget {
            break;
        }
        *used += row.len();
        table.rows.push(row);
    }
}

fn status_mark(s: ControlStatus) -> &'static str {
    match s {
        ControlStatus::Pass => "✅ pass",
        ControlStatus::Fail => "❌ fail",
        ControlStatus::Untested => "⚠️ untested",
    }
}

fn gate_mark(s: GateStatus, result: GateResult) -> &'static str {
    match (s, result) {
        (GateStatus::Pass, GateResult::NotEvaluated) => "⚠️ not evaluated (passes)",
        (GateStatus::Pass, _) => "✅ pass",
        (GateStatus::Fail, GateResult::NotEvaluated) => "❌ not evaluated",
        (GateStatus::Fail, _) => "❌ fail",
        (GateStatus::Informational, GateResult::Pass) => "ℹ️ pass (informational)",
        (GateStatus::Informational, GateResult::Fail) => "ℹ️ fail (informational)",
        (GateStatus::Informational, GateResult::NotEvaluated) => "ℹ️ not evaluated (informational)",
    }
}

/// Renders the summary. `extra` sections (already within their own budget, e.g. coverage)
/// are appended after the test sections.
pub fn render(report: &Report, opts: &MarkdownOptions, extra: &[String]) -> String {
    let mut head = String::new();
    let failed_gates = report
        .gates
        .iter()
        .filter(|g| g.status == GateStatus::Fail)
        .count();
    let (mark, word) = match report.verdict {
        Verdict::Pass => ("✅", "passed"),
        Verdict::Fail => ("❌", "failed"),
    };
    let _ = writeln!(head, "## {mark} {}: {word}\n", inline(&opts.title, 80));
    let evidenced = report.controls.iter().filter(|c| c.tests > 0).count();
    let tagged: u64 = report
        .cases
        .iter()
        .filter(|c| !c.controls.is_empty())
        .count() as u64;
    let gates_line = if failed_gates > 0 {
        format!("**{failed_gates} of {} gates failed**", report.gates.len())
    } else {
        format!("all {} gates passed", report.gates.len())
    };
    let _ = writeln!(
        head,
        "{gates_line} · {evidenced} control(s) evidenced by {} test(s)\n",
        count(tagged)
    );
    let t = &report.tests;
    let _ = write!(
        head,
        "**Tests:** {} total · {} passed · {} failed · {} errored · {} skipped",
        count(t.total),
        count(t.passed),
        count(t.failed),
        count(t.errored),
        count(t.skipped)
    );
    if t.flaky > 0 {
        let _ = write!(head, " · {} flaky", count(t.flaky));
    }
    if t.runs > t.total {
        let _ = write!(head, " ({} runs)", count(t.runs));
    }
    head.push_str("\n\n");
    if let Some(r) = report.redactions.as_ref().filter(|r| r.total > 0) {
        let kinds: Vec<String> = r.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(
            head,
            "🔒 {} secret(s) redacted from test output ({}).\n",
            count(r.total),
            kinds.join(", ")
        );
    }

    if !report.gates.is_empty() {
        head.push_str("| Gate | Status | Detail |\n|---|---|---|\n");
        for g in &report.gates {
            let _ = writeln!(
                head,
                "| {} | {} | {} |",
                // `suite:<name>` carries a name from the pull request's config.
                code_span(&g.name, NAME_CHARS),
                gate_mark(g.status, g.result),
                inline(&g.detail, 400)
            );
        }
        head.push('\n');
    }

    let missing: Vec<_> = report
        .controls
        .iter()
        .filter(|c| c.required && c.tests == 0)
        .collect();
    if !missing.is_empty() {
        head.push_str("### Required controls without tests\n\n");
        for c in &missing {
            let _ = writeln!(head, "- **{}** — {}", c.id, inline(&c.summary, 200));
        }
        head.push('\n');
    }

    let mut foot = String::new();
    if !report.warnings.is_empty() {
        foot.push_str("<details><summary>Warnings</summary>\n\n");
        for w in report.warnings.iter().take(20) {
            let _ = writeln!(foot, "- {}", inline(w, 300));
        }
        if report.warnings.len() > 20 {
            let _ = writeln!(
                foot,
                "- … {} more in `report.json`",
                report.warnings.len() - 20
            );
        }
        foot.push_str("\n</details>\n\n");
    }
    let _ = writeln!(
        foot,
        "<sub>{} {} · {} · {} input file(s)</sub>",
        report.tool.name,
        report.tool.version,
        inline(&report.generated_at, 40),
        report.inputs.len()
    );

    let extra_len: usize = extra.iter().map(|e| e.len() + 1).sum();
    let budget = opts.budget;
    let mut used = head.len() + foot.len() + extra_len;

    // Controls: non-passing rows first (they matter), then passing ones.
    let row = |c: &crate::model::report::ControlResult| {
        format!(
            "| **{}**{} | {} | {} | {} | {} | {} | {} |\n",
            c.id,
            if c.required { " (required)" } else { "" },
            inline(&c.summary, 120),
            count(c.tests),
            count(c.passed),
            count(c.failed + c.errored),
            count(c.skipped),
            status_mark(c.status)
        )
    };
    let listed: Vec<_> = report
        .controls
        .iter()
        .filter(|c| c.tests > 0 || c.required)
        .collect();
    let (bad, good): (Vec<_>, Vec<_>) = listed
        .iter()
        .copied()
        .partition(|c| c.status != ControlStatus::Pass);
    let mut controls = Table::new(
        "### Controls\n\n| Control | Summary | Tests | Passed | Failed | Skipped | Status |\n|---|---|--:|--:|--:|--:|---|\n",
        listed.len(),
    );
    fill(&mut controls, bad.iter().map(|c| row(c)), &mut used, budget);

    let failing: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.status.is_failure())
        .collect();
    let mut fails = Table::new(
        "### Failing tests\n\n| Test | Controls | Message |\n|---|---|---|\n",
        failing.len(),
    );
    // What the ledger's history says of each failing test: " (pre-existing; flaky: ...)".
    let mut history: std::collections::HashMap<&str, Vec<String>> =
        std::collections::HashMap::new();
    if let Some(ch) = &report.changes {
        for t in &ch.pre_existing {
            history.entry(t).or_default().push("pre-existing".into());
        }
        for f in ch.failure_history.iter().filter(|f| f.failed > 0) {
            let what = if f.flaky { "flaky: failed" } else { "failed" };
            history.entry(&f.test).or_default().push(format!(
                "{what} {} of {} recent runs",
                f.failed, ch.recent_runs
            ));
        }
    }
    let history: std::collections::HashMap<&str, String> = history
        .into_iter()
        .map(|(t, parts)| (t, format!(" ({})", parts.join("; "))))
        .collect();
    let fail_row = |c: &&crate::model::report::CaseReport| {
        let mut ids: Vec<String> = c.controls.iter().map(|cc| cc.id.to_string()).collect();
        ids.dedup();
        let where_ = match c.annotation_location() {
            Some((f, Some(l))) => format!("<br><sub>{}:{l}</sub>", inline(f, 120)),
            Some((f, None)) => format!("<br><sub>{}</sub>", inline(f, 120)),
            None => String::new(),
        };
        let kind = if c.status == CaseStatus::Errored {
            " (error)"
        } else {
            ""
        };
        let flaky = if c.flaky { " (flaky)" } else { "" };
        let known = history.get(c.id.as_str()).map_or("", String::as_str);
        format!(
            "| {}{kind}{flaky}{known}{where_} | {} | {} |\n",
            inline(&c.id, NAME_CHARS),
            if ids.is_empty() {
                "—".to_owned()
            } else {
                ids.join(", ")
            },
            c.message
                .as_deref()
                .map(|m| inline(first_line(m), MESSAGE_CHARS))
                .unwrap_or_default()
        )
    };
    if !failing.is_empty() {
        fill(&mut fails, failing.iter().map(fail_row), &mut used, budget);
    }

    let mut unknown = Table::new(
        "### Unknown control tags\n\n| Tag | Test | Carrier | File |\n|---|---|---|---|\n",
        report.unknown_tags.len(),
    );
    if !report.unknown_tags.is_empty() {
        let rows = report.unknown_tags.iter().map(|u| {
            format!(
                "| {} | {} | {} | {} |\n",
                inline(&u.tag, 60),
                inline(&u.test, NAME_CHARS),
                inline(&u.carrier.to_string(), 80),
                inline(&u.input, 120)
            )
        });
        fill(&mut unknown, rows, &mut used, budget);
    }

    // Passing controls last: the first detail to go.
    if controls.rows.len() == bad.len() {
        let before = used;
        let mut rows: Vec<String> = good.iter().map(|c| row(c)).collect();
        let need: usize = rows.iter().map(String::len).sum();
        if used + need <= budget {
            used += need;
            controls.rows.append(&mut rows);
        }
        debug_assert!(used >= before);
    }

    let mut out = head;
    if !listed.is_empty() {
        let omitted_passing = controls.rows.len() < listed.len();
        let mut table = controls.render("controls");
        if omitted_passing && controls.rows.len() == bad.len() {
            // Replace the generic note with the IDs that passed.
            table = controls.head.clone() + &controls.rows.concat();
            let ids: Vec<String> = good.iter().map(|c| c.id.to_string()).collect();
            let _ = writeln!(
                table,
                "\n_{} passing controls not itemised: {}._",
                good.len(),
                ids.join(", ")
            );
        }
        out.push_str(&table);
        out.push('\n');
    } else {
        out.push_str("_No test is mapped to a control yet: tag tests with a `control` property, a `[cc6-1]` marker in the name, or a rule in `.github/controlgate.yml`._\n\n");
    }
    if !failing.is_empty() {
        out.push_str(&fails.render("failing tests"));
        out.push('\n');
    }
    if !report.unknown_tags.is_empty() {
        out.push_str(&unknown.render("unknown tags"));
        out.push('\n');
    }
    for e in extra {
        out.push_str(e);
        out.push('\n');
    }
    out.push_str(&foot);
    out
}

fn first_line(m: &str) -> &str {
    m.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}
