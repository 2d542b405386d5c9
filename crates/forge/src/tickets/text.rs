//! The words every tracker is told: headline, verdict, coverage delta, evidence. Plain text;
//! each tracker module wraps it in its own format (ADF, Markdown, attachment subtitle).

use super::{ChangeContext, CoverageDelta, RunSummary};
use crate::model::report::Verdict;

/// Per-control lines shown on a ticket; the rest are counted.
pub(crate) const MAX_CONTROLS: usize = 40;

pub(crate) fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    }
}

/// `merged` for the merge-time post, else `open`.
pub(crate) fn state(ctx: &ChangeContext) -> &'static str {
    if ctx.is_release() { "merged" } else { "open" }
}

/// `acme/pay#12 · controlgate PASS` or `acme/pay#12 merged · controlgate PASS`.
pub(crate) fn title(ctx: &ChangeContext, summary: &RunSummary) -> String {
    let merged = if ctx.is_release() { " merged" } else { "" };
    format!(
        "{}{merged} · controlgate {}",
        ctx.change_name(),
        verdict_word(summary.verdict)
    )
}

fn pct(v: f64) -> String {
    format!("{v:.2}%")
}

/// `project coverage 81.20% (+1.10 pp vs base 80.10%); patch coverage 90.00%`.
pub(crate) fn coverage_line(c: &CoverageDelta) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(p) = c.project {
        let mut s = format!("project coverage {}", pct(p));
        match (c.delta_pp, c.base_project) {
            (Some(d), Some(b)) => s.push_str(&format!(" ({d:+.2} pp vs base {})", pct(b))),
            (Some(d), None) => s.push_str(&format!(" ({d:+.2} pp)")),
            _ => {}
        }
        parts.push(s);
    }
    if let Some(p) = c.patch {
        parts.push(format!("patch coverage {}", pct(p)));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// `Release coverage delta` at merge time, `Coverage` before.
pub(crate) fn coverage_label(ctx: &ChangeContext) -> &'static str {
    if ctx.is_release() {
        "Release coverage delta"
    } else {
        "Coverage"
    }
}

/// One short line: verdict, state, coverage (Linear's subtitle, Jira's link summary).
pub(crate) fn short(ctx: &ChangeContext, summary: &RunSummary) -> String {
    let mut s = format!("{} · {}", verdict_word(summary.verdict), state(ctx));
    if let Some(c) = summary.coverage.as_ref().and_then(coverage_line) {
        s.push_str(" · ");
        s.push_str(&c);
    }
    s
}

/// `Failed gates: a, b` or `All gates passed`.
pub(crate) fn gates_line(summary: &RunSummary) -> String {
    if summary.failed_gates.is_empty() {
        "All gates passed".to_owned()
    } else {
        format!("Failed gates: {}", summary.failed_gates.join(", "))
    }
}

/// `location (sha256:…)`.
pub(crate) fn evidence_line(summary: &RunSummary) -> Option<String> {
    summary.evidence.as_ref().map(|e| {
        if e.bundle_digest.is_empty() {
            e.location.clone()
        } else {
            format!("{} ({})", e.location, e.bundle_digest)
        }
    })
}

/// Whether `s` is an http(s) URL (safe to emit as a link).
pub(crate) fn is_http_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}
