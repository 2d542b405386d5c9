//! The coverage section of the Markdown summary (pure; returns `String`).

use std::fmt::Write as _;

use super::escape::{count as thousands, inline};
use crate::model::coverage::{CoverageSection, CoverageTotals, Percent};

/// The first 7 hex digits of a commit, for a code span: anything else in it is dropped, so a
/// value that is not a commit id cannot close the span or carry markup.
fn short_sha(s: Option<&str>) -> String {
    s.map(|s| s.chars().filter(char::is_ascii_hexdigit).take(7).collect())
        .filter(|s: &String| !s.is_empty())
        .unwrap_or_else(|| "?".into())
}

fn pct(p: Option<Percent>) -> String {
    p.map_or_else(|| "n/a".to_string(), |p| format!("{p} %"))
}

/// `12345` → `12,345`.
fn lines_cell(t: &CoverageTotals) -> String {
    format!(
        "{} ({} / {})",
        pct(t.percent),
        thousands(t.lines_covered),
        thousands(t.lines_measured)
    )
}

fn branches_cell(t: &CoverageTotals) -> String {
    match (t.branches_covered, t.branches_measured) {
        (Some(c), Some(m)) => format!(
            "{} ({} / {})",
            pct(t.branches_percent),
            thousands(c),
            thousands(m)
        ),
        _ => "–".into(),
    }
}

fn signed(p: Percent) -> String {
    if p.0 > 0 {
        format!("+{p}")
    } else if p.0 < 0 {
        format!("−{}", Percent(-p.0))
    } else {
        p.to_string()
    }
}

/// Renders the coverage section in at most `budget` characters.
pub fn render_coverage(section: &CoverageSection, budget: usize) -> String {
    let s = section;
    let mut head = String::new();
    let _ = writeln!(head, "### Coverage\n");
    let r = &s.refs;
    if r.source == "git" {
        let _ = writeln!(
            head,
            "Compared with **{}** @ `{}` (merge-base `{}`) → head `{}`.\n",
            inline(r.base_ref.as_deref().unwrap_or("?"), 120),
            short_sha(r.base_sha.as_deref()),
            short_sha(r.merge_base_sha.as_deref()),
            short_sha(r.head_sha.as_deref()),
        );
    } else {
        let _ = writeln!(head, "Changed lines from a unified diff (`--diff`).\n");
    }
    let _ = writeln!(head, "| | Lines | Branches |\n|---|---|---|");
    let _ = writeln!(
        head,
        "| **Project** | **{}** | {} |",
        lines_cell(&s.head),
        branches_cell(&s.head)
    );
    if let Some(b) = &s.base {
        let _ = writeln!(
            head,
            "| Base report | {} | {} |",
            lines_cell(b),
            branches_cell(b)
        );
        if let Some(d) = s.delta_pp {
            let _ = writeln!(
                head,
                "| Δ vs base `{}` | {} pp | |",
                short_sha(r.base_sha.as_deref()),
                signed(d)
            );
        }
    }
    let p = &s.patch;
    let patch_cell = match p.percent {
        Some(pp) => format!(
            "**{pp} %** ({} / {} measured changed lines; {} changed)",
            thousands(p.covered),
            thousands(p.measured),
            thousands(p.changed)
        ),
        None => format!(
            "no measurable changed lines ({} changed)",
            thousands(p.changed)
        ),
    };
    let _ = writeln!(head, "| **Patch** | {patch_cell} | |");
    head.push('\n');

    let mut tail = String::new();
    if !s.unmatched_paths.is_empty() {
        let shown: Vec<String> = s
            .unmatched_paths
            .iter()
            .take(5)
            .map(|u| inline(u, 120))
            .collect();
        let _ = writeln!(
            tail,
            "⚠️ {} report path(s) match no repository file (fix with `path_fixes`): {}{}\n",
            s.unmatched_paths.len(),
            shown.join(", "),
            if s.unmatched_paths.len() > 5 {
                ", …"
            } else {
                ""
            }
        );
    }
    for n in &s.notes {
        let _ = writeln!(tail, "ℹ️ {}\n", inline(n, 500));
    }

    let mut out = head;
    let count = |x: &str| x.chars().count();
    let reserve = count(&tail) + 120;
    // Changed files, least covered first.
    let mut files: Vec<_> = p.files.iter().filter(|f| f.measured > 0).collect();
    let unmeasured = p.files.len() - files.len();
    files.sort_by(|a, b| {
        (b.measured - b.covered)
            .cmp(&(a.measured - a.covered))
            .then_with(|| a.path.cmp(&b.path))
    });
    if !files.is_empty() {
        let table_head = "| File | Patch | Covered / measured | Uncovered changed lines |\n|---|---:|---:|---|\n";
        if count(&out) + count(table_head) + reserve <= budget {
            out.push_str(table_head);
            let mut shown = 0;
            for f in &files {
                let row = format!(
                    "| {} | {} | {} / {} | {} |\n",
                    inline(&f.path, 200),
                    pct(f.percent),
                    f.covered,
                    f.measured,
                    inline(&f.uncovered_ranges.join(", "), 200),
                );
                if count(&out) + count(&row) + reserve > budget {
                    break;
                }
                out.push_str(&row);
                shown += 1;
            }
            if shown < files.len() {
                let _ = writeln!(
                    out,
                    "\n… {} more changed files (see report.json).",
                    files.len() - shown
                );
            }
            out.push('\n');
        }
    }
    if unmeasured > 0 {
        let line = format!("{unmeasured} changed file(s) have no coverage data.\n\n");
        if count(&out) + count(&line) + reserve <= budget {
            out.push_str(&line);
        }
    }
    if !s.indirect_changes.is_empty() {
        let open = format!(
            "<details><summary>Indirect changes: {} file(s) outside the diff changed coverage</summary>\n\n| File | Base | Head | Δ pp |\n|---|---:|---:|---:|\n",
            s.indirect_changes_total
        );
        let close = "\n</details>\n\n";
        if count(&out) + count(&open) + count(close) + reserve <= budget {
            out.push_str(&open);
            for c in &s.indirect_changes {
                let row = format!(
                    "| {} | {} | {} | {} |\n",
                    inline(&c.path, 200),
                    pct(c.base_percent),
                    pct(c.head_percent),
                    c.delta_pp.map_or_else(|| "n/a".into(), signed)
                );
                if count(&out) + count(&row) + count(close) + reserve > budget {
                    break;
                }
                out.push_str(&row);
            }
            out.push_str(close);
        }
    }
    out.push_str(&tail);
    if count(&out) > budget {
        // Not even the totals fit: say so rather than cut a table.
        out =
            "### Coverage\n\n_Coverage details omitted (comment size limit); see `report.json`._\n"
                .to_owned();
    }
    out
}
