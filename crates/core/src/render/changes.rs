//! The "Changes against the base run" section of the summary: per control, what changed; which
//! failures are new; which failing tests are flaky. Bounded: a few names per list, the rest in
//! `report.json`'s `changes`.

use std::fmt::Write;

use super::escape::{count, inline};
use crate::model::history::{ChangesSection, ControlChanges};

/// Names shown per list.
const SHOWN: usize = 5;
const NAME_CHARS: usize = 120;

/// The section, within about `budget` characters (lists are cut first, then controls).
pub fn render_changes(c: &ChangesSection, budget: usize) -> String {
    let mut out = String::new();
    match (&c.base, &c.base_unavailable) {
        (Some(base), _) => {
            let _ = writeln!(out, "### Changes against {}\n", inline(base, 160));
            if c.controls.is_empty() {
                out.push_str("No control gained, lost or changed a test.\n");
            } else {
                out.push_str(
                    "| Control | Added | Removed | Untagged | Newly failing | Fixed | Newly skipped |\n|---|--:|--:|--:|--:|--:|--:|\n",
                );
                for ch in &c.controls {
                    let _ = writeln!(
                        out,
                        "| **{}** | {} | {} | {} | {} | {} | {} |",
                        ch.id,
                        ch.added.len(),
                        ch.removed.len(),
                        ch.untagged.len(),
                        ch.newly_failing.len(),
                        ch.fixed.len(),
                        ch.newly_skipped.len()
                    );
                }
                out.push('\n');
                let mut shown = 0;
                for ch in &c.controls {
                    let line = control_line(ch);
                    if out.len() + line.len() > budget {
                        break;
                    }
                    out.push_str(&line);
                    shown += 1;
                }
                if shown < c.controls.len() {
                    let _ = writeln!(
                        out,
                        "\n_… {} more control(s) not itemised; see `report.json`._",
                        c.controls.len() - shown
                    );
                }
            }
            if !c.newly_failing.is_empty() || !c.pre_existing.is_empty() {
                let _ = writeln!(
                    out,
                    "\n**Failures:** {} new{} · {} pre-existing (failing on the base run too){}",
                    count(c.newly_failing.len() as u64),
                    names(&c.newly_failing, ": "),
                    count(c.pre_existing.len() as u64),
                    names(&c.pre_existing, ": ")
                );
            }
        }
        (None, Some(why)) => {
            let _ = writeln!(
                out,
                "### Changes against the base run\n\n_Not compared: {}._",
                inline(why, 300)
            );
        }
        (None, None) => {}
    }
    let flaky: Vec<_> = c.failure_history.iter().filter(|f| f.flaky).collect();
    if !flaky.is_empty() {
        let _ = write!(
            out,
            "\n**Flaky** (failed and passed within the last {} default-branch run(s)):",
            c.recent_runs
        );
        for f in flaky.iter().take(SHOWN) {
            let _ = write!(
                out,
                " {} (failed {} of {});",
                inline(&f.test, NAME_CHARS),
                f.failed,
                c.recent_runs
            );
        }
        out.pop();
        if flaky.len() > SHOWN {
            let _ = write!(out, " and {} more", flaky.len() - SHOWN);
        }
        out.push('\n');
    }
    out.push_str(&trend_chart(c));
    out
}

/// A Mermaid `xychart-beta` of project coverage and pass rate over the recent default-branch
/// runs and this run (GitHub renders it in comments). Only hex commit prefixes, fixed words and
/// numbers go into it. Empty with fewer than two points.
pub fn trend_chart(c: &ChangesSection) -> String {
    let points = &c.trend;
    if points.len() < 2 {
        return String::new();
    }
    let label = |run: &str| -> String {
        if run == "this run" {
            run.to_owned()
        } else {
            run.chars()
                .filter(char::is_ascii_hexdigit)
                .take(7)
                .collect()
        }
    };
    let num = |v: f64| format!("{:.2}", v.clamp(0.0, 100.0));
    let runs: Vec<String> = points
        .iter()
        .map(|p| format!("\"{}\"", label(&p.run)))
        .collect();
    let rates: Vec<String> = points.iter().map(|p| num(p.pass_rate)).collect();
    let coverage: Option<Vec<String>> = points.iter().map(|p| p.coverage.map(num)).collect();
    let mut out = String::new();
    let what = if coverage.is_some() {
        "Line coverage (first line) and pass rate (second), %"
    } else {
        "Pass rate, %"
    };
    let _ = writeln!(
        out,
        "\n```mermaid\nxychart-beta\n    title \"{what}: last {} default-branch run(s), then this run\"",
        points.len() - 1
    );
    let _ = writeln!(out, "    x-axis [{}]", runs.join(", "));
    out.push_str("    y-axis \"%\" 0 --> 100\n");
    if let Some(cov) = coverage {
        let _ = writeln!(out, "    line [{}]", cov.join(", "));
    }
    let _ = writeln!(out, "    line [{}]", rates.join(", "));
    out.push_str("```\n");
    out
}

/// `- **CC6.1** — removed: a, b; untagged: c`.
fn control_line(ch: &ControlChanges) -> String {
    let parts: Vec<String> = [
        ("removed", &ch.removed),
        ("untagged", &ch.untagged),
        ("newly failing", &ch.newly_failing),
        ("newly skipped", &ch.newly_skipped),
        ("fixed", &ch.fixed),
        ("added", &ch.added),
    ]
    .into_iter()
    .filter(|(_, l)| !l.is_empty())
    .map(|(what, l)| format!("{what}{}", names(l, ": ")))
    .collect();
    format!("- **{}** — {}\n", ch.id, parts.join("; "))
}

/// `": a, b and 3 more"` (escaped), or nothing for an empty list.
fn names(list: &[String], lead: &str) -> String {
    if list.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = list
        .iter()
        .take(SHOWN)
        .map(|n| inline(n, NAME_CHARS))
        .collect();
    let more = list.len().saturating_sub(SHOWN);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("{lead}{}{more}", shown.join(", "))
}
