//! Retaining the run's evidence in the configured store (the fallback directory keeps it when
//! the store fails), and the "Evidence" section that reports where it went.

use std::io::Write;

use crate::actions_env::ActionContext;
use crate::pipeline;

use super::decide::Decided;
use super::log::shown;

/// Retains the run's evidence when the config has `evidence:` or the `evidence-dir` input is
/// set. `None`: not configured; `Err`: the store failed (the message says what was kept
/// locally).
pub(super) fn retain(
    ctx: &ActionContext,
    d: &Decided,
    out: &mut dyn Write,
) -> Option<Result<crate::retain::Written, String>> {
    let evidence = d.output.evidence.clone()?;
    let req = pipeline::EvidenceRequest {
        evidence,
        base_dir: ctx.workspace.clone(),
    };
    let result = pipeline::retain_evidence(&d.output, &d.req, &req).map_err(|e| e.to_string());
    if let Ok(w) = &result {
        let _ = writeln!(
            out,
            "controlgate: evidence {} retained at {} (ledger entry {})",
            w.bundle_digest,
            shown(&w.location),
            w.entry_seq
        );
    }
    Some(result)
}

/// The "Evidence" section appended to the PR comment, the check run and the job summary.
pub(super) fn evidence_section(e: &Result<crate::retain::Written, String>) -> String {
    use crate::render::escape::inline;
    match e {
        Ok(w) => format!(
            // `#12` would link issue 12 on GitHub: the break keeps it text.
            "### Evidence\n\nRetained: bundle `{}` · ledger entry #&#8203;{} (digest `{}`) · {}\n",
            w.bundle_digest,
            w.entry_seq,
            w.entry_digest,
            inline(&w.location, 300)
        ),
        Err(msg) => format!(
            "### Evidence\n\n⚠️ Not retained in the evidence store, so the check fails \
             whatever the gates say (re-run the job once the store is back): {}\n",
            inline(msg, 600)
        ),
    }
}
