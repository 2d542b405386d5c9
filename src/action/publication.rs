//! What is published, whatever it came from (a fresh run or an artifact): the markdown, the
//! check run's title and annotations, and the job summary's long version.

use crate::model::report::Verdict;
use crate::publish::{self, github::Annotation};

/// Everything to publish, independent of where it came from (a fresh run or an artifact).
pub(super) struct Publication {
    /// Within the comment / check-run budget.
    pub(super) markdown: String,
    /// The job summary's version: the same document with a 1 MiB budget.
    pub(super) long_markdown: String,
    pub(super) success: bool,
    pub(super) title: String,
    pub(super) annotations: Vec<Annotation>,
    pub(super) pr_number: Option<u64>,
    pub(super) head_sha: Option<String>,
    /// `pr_number` came from an untrusted artifact (`publish --from`): comment only if that
    /// PR's head is `head_sha`, so a forged event cannot post on someone else's PR.
    pub(super) verify_pr_head: bool,
    /// The evidence ledger's tip after this run appended to it (seq, entry digest), recorded
    /// in the check run's `external_id` as an anchor. Never from an artifact.
    pub(super) ledger_tip: Option<(u64, String)>,
    /// [`fingerprint`] of the report (empty when nothing was decided).
    pub(super) fingerprint: String,
}

/// SHA-256 of what a reviewer compares between runs: the verdict, the test totals, each
/// control's results and each gate's outcome and detail (which carries its numbers).
/// Durations, times and run identity are left out, so an identical rerun has the same one.
pub(super) fn fingerprint(report: &crate::model::report::Report) -> String {
    let controls: Vec<_> = report
        .controls
        .iter()
        .map(|c| {
            (
                c.id.to_string(),
                c.status,
                c.tests,
                c.passed,
                c.failed,
                c.errored,
                c.skipped,
            )
        })
        .collect();
    let gates: Vec<_> = report
        .gates
        .iter()
        .map(|g| (&g.name, g.status, g.result, &g.detail))
        .collect();
    let value = serde_json::json!({
        "verdict": report.verdict,
        "tests": report.tests,
        "controls": controls,
        "gates": gates,
    });
    crate::hashing::sha256_hex(value.to_string().as_bytes())
}

impl Publication {
    /// A copy with `redactor` applied to every text that is posted.
    pub(super) fn redacted(&self, redactor: &crate::redact::Redactor) -> Publication {
        use crate::redact::Redact;
        let mut counts = crate::redact::Redactions::default();
        let mut p = Publication {
            markdown: self.markdown.clone(),
            long_markdown: self.long_markdown.clone(),
            success: self.success,
            title: self.title.clone(),
            annotations: self.annotations.clone(),
            ledger_tip: self.ledger_tip.clone(),
            fingerprint: self.fingerprint.clone(),
            pr_number: self.pr_number,
            head_sha: self.head_sha.clone(),
            verify_pr_head: self.verify_pr_head,
        };
        p.markdown.redact_with(redactor, &mut counts);
        p.long_markdown.redact_with(redactor, &mut counts);
        p.title.redact_with(redactor, &mut counts);
        p.annotations.redact_with(redactor, &mut counts);
        p
    }
}

pub(super) fn check_title(r: &crate::model::report::Report) -> String {
    let t = &r.tests;
    let failed_gates = r
        .gates
        .iter()
        .filter(|g| g.status == crate::model::report::GateStatus::Fail)
        .count();
    let verdict = match r.verdict {
        Verdict::Pass => "passed".to_owned(),
        Verdict::Fail => format!("failed ({failed_gates} gate(s))"),
    };
    format!(
        "{verdict}: {} tests, {} failed, {} skipped",
        t.total,
        t.failed + t.errored,
        t.skipped
    )
}

/// Changed lines no test covers, from the coverage section (`12` or `12-15` per range).
pub(super) fn uncovered_ranges(
    report: &crate::model::report::Report,
) -> Vec<publish::UncoveredRange> {
    let Some(cov) = &report.coverage else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in &cov.patch.files {
        for r in &f.uncovered_ranges {
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            if let (Ok(start), Ok(end)) = (a.trim().parse::<u32>(), b.trim().parse::<u32>()) {
                out.push(publish::UncoveredRange {
                    path: f.path.trim_start_matches("./").to_owned(),
                    start: start.max(1),
                    end: end.max(start).max(1),
                });
            }
        }
    }
    out
}

/// The job summary: the whole report within 1 MiB, with the coverage, API and (linked)
/// tickets sections.
pub(super) fn long_summary(
    report: &crate::model::report::Report,
    title: &str,
    tickets: Option<&crate::tickets::TicketsSection>,
) -> String {
    let budget = publish::STEP_SUMMARY_LIMIT_BYTES - 8192;
    let mut extra = Vec::new();
    if let Some(cov) = &report.coverage {
        extra.push(crate::render::coverage::render_coverage(
            cov,
            budget * 3 / 10,
        ));
    }
    if let Some(api) = &report.api {
        extra.push(crate::render::api::markdown(api, budget * 2 / 5));
    }
    if let Some(t) = tickets.or(report.tickets.as_ref()) {
        extra.push(crate::tickets::render_tickets(t));
    }
    crate::render::markdown::render(
        report,
        &crate::render::markdown::MarkdownOptions {
            budget,
            title: title.to_owned(),
        },
        &extra,
    )
}
