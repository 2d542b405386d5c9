//! `audit`: the auditor's view of a period. Opens and verifies the store, builds the report
//! (`audit_report`, pure) and renders it; the HTML report (`audit_html`) also reads the sampled
//! runs' verified bundles.

use serde::Serialize;

use super::audit_html::{GateLine, HtmlAudit, SampledRun, control_timelines, render_html};
pub use super::audit_report::*;
use super::ledger::Entry;
use super::open::{OpenContext, open_store};
use super::store::{EvidenceStore, StoreConfig};
use super::verify::{VerifiedReport, VerifyOptions, load_verified, verified_report};
use crate::error::{ExitCode, Result};

/// `controlgate audit`.
#[derive(Debug, Clone)]
pub struct AuditRequest {
    pub store: StoreConfig,
    pub context: OpenContext,
    pub query: AuditQuery,
    pub format: AuditFormat,
    pub verify: VerifyOptions,
}

/// The rendered audit and the data behind it.
#[derive(Debug, Clone)]
pub struct AuditOutcome {
    pub text: String,
    pub report: AuditReport,
}

impl AuditOutcome {
    /// 0 when the chain is intact, 1 when it is not (the audit is rendered either way).
    pub fn exit_code(&self) -> ExitCode {
        if self.report.ledger.intact {
            ExitCode::Pass
        } else {
            ExitCode::Fail
        }
    }
}

/// Opens the store, verifies it, builds and renders the audit.
pub fn audit(request: &AuditRequest) -> Result<AuditOutcome> {
    let store = open_store(&request.store, &request.context)?;
    audit_store(
        store.as_ref(),
        &request.query,
        request.format,
        &request.verify,
    )
}

/// [`audit`] over an opened store.
pub fn audit_store(
    store: &dyn EvidenceStore,
    query: &AuditQuery,
    format: AuditFormat,
    verify: &VerifyOptions,
) -> Result<AuditOutcome> {
    if query.from > query.to {
        return Err(crate::error::Error::Usage(format!(
            "audit: --from {} is after --to {}",
            query.from, query.to
        )));
    }
    let (outcome, entries) = load_verified(store, verify)?;
    let ledger = LedgerState {
        location: outcome.location,
        intact: outcome.intact,
        entries: outcome.entries,
        bundles_checked: outcome.bundles_checked,
        tip_seq: outcome.tip_seq,
        tip_digest: outcome.tip_digest,
        problem: outcome.problem,
    };
    let locate = |digest: &str| store.location(&format!("bundles/{digest}/"));
    let report = build_audit(&entries, ledger, query, &locate);
    let text = match format {
        AuditFormat::Html => {
            let in_scope = in_scope(&entries, query);
            let sample = match &report.sample {
                Some(sample) => sample
                    .runs
                    .iter()
                    .map(|run| sampled_run(store, &entries, run))
                    .collect::<Result<Vec<_>>>()?,
                None => Vec::new(),
            };
            render_html(&HtmlAudit {
                report: &report,
                timelines: control_timelines(&in_scope, query, &locate),
                sample,
                generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
        }
        other => render(&report, other),
    };
    Ok(AuditOutcome { text, report })
}

/// A sampled run with its gates from its verified bundle (`Err` only when the store cannot be
/// read; a bundle that fails verification is shown as such).
fn sampled_run(store: &dyn EvidenceStore, entries: &[Entry], run: &RunRef) -> Result<SampledRun> {
    let entry = entries.iter().find(|e| e.seq == run.seq);
    let (bundle_problem, gates) = match verified_report(store, &run.bundle, &[])? {
        VerifiedReport::Failed(why) => (Some(why), Err("the bundle failed verification".into())),
        VerifiedReport::Verified { report, .. } => (
            None,
            match report {
                None => Err("the bundle holds no report.json".into()),
                Some(Err(why)) => Err(format!("report.json: {why}")),
                Some(Ok(report)) => Ok(report
                    .gates
                    .iter()
                    .map(|g| GateLine {
                        name: g.name.clone(),
                        status: enum_name(&g.status),
                        result: enum_name(&g.result),
                        detail: g.detail.clone(),
                    })
                    .collect()),
            },
        ),
    };
    Ok(SampledRun {
        run: run.clone(),
        actor: entry.and_then(|e| e.run.actor.clone()),
        environment: entry.and_then(|e| e.run.environment.clone()),
        event: entry.and_then(|e| e.run.event.clone()),
        tickets: entry.map(|e| e.tickets.clone()).unwrap_or_default(),
        bundle_problem,
        gates,
    })
}

/// The serialized name of a unit enum variant (`not_evaluated`).
fn enum_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub fn render(report: &AuditReport, format: AuditFormat) -> String {
    match format {
        AuditFormat::Markdown => render_markdown(report),
        AuditFormat::Csv => render_csv(report),
        AuditFormat::Json => render_json(report),
        // Without the entries and bundles: the report's tables, no charts or sampled gates
        // (`audit_store` renders the full report).
        AuditFormat::Html => render_html(&HtmlAudit {
            report,
            timelines: Vec::new(),
            sample: Vec::new(),
            generated_at: String::new(),
        }),
    }
}
