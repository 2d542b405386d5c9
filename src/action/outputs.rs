//! The step's last words: the job summary and the step outputs (verdict, counts, coverage,
//! URLs of what was published, where the evidence went).

use std::io::Write;
use std::path::PathBuf;

use crate::actions_env::ActionContext;
use crate::pipeline::ReportOutput;
use crate::publish;

use super::github::Published;
use super::log::notice;
use super::publication::Publication;

/// Job summary and step outputs.
pub(super) fn finish(
    ctx: &ActionContext,
    p: &Publication,
    published: &Published,
    decided: Option<&ReportOutput>,
    evidence: Option<&crate::retain::Written>,
    report_dir: Option<&PathBuf>,
    out: &mut dyn Write,
) {
    if let Some(path) = &ctx.step_summary
        && let Err(e) = publish::write_step_summary(path, &p.long_markdown)
    {
        notice(
            out,
            "warning",
            &format!("cannot write the job summary: {e}"),
        );
    }
    if let Some(path) = &ctx.output {
        // Relative to the workspace: the same path on the runner and in the container.
        let report_path = report_dir
            .map(|d| crate::inputs::display_path(&d.join("report.json"), &ctx.workspace))
            .unwrap_or_default();
        let pairs = match decided {
            Some(o) => {
                let mut pairs = publish::outputs(
                    &o.report,
                    &report_path,
                    published.comment_url.as_deref(),
                    published.check_run_url.as_deref(),
                );
                if let Some(cov) = &o.report.coverage {
                    let pct = |p: Option<crate::model::coverage::Percent>| {
                        p.map(|p| p.to_string()).unwrap_or_default()
                    };
                    for (name, value) in pairs.iter_mut() {
                        match *name {
                            "coverage" => *value = pct(cov.head.percent),
                            "coverage-delta" => *value = pct(cov.delta_pp),
                            "patch-coverage" => *value = pct(cov.patch.percent),
                            _ => {}
                        }
                    }
                }
                pairs.push((
                    "evidence-digest",
                    evidence
                        .map(|w| w.bundle_digest.clone())
                        .unwrap_or_default(),
                ));
                pairs.push((
                    "evidence-location",
                    evidence.map(|w| w.location.clone()).unwrap_or_default(),
                ));
                pairs
            }
            None => vec![("verdict", "error".to_owned())],
        };
        if let Err(e) = publish::write_outputs(path, &pairs) {
            notice(out, "warning", &format!("cannot write step outputs: {e}"));
        }
    }
}
