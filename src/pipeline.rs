//! The `report` run, in three stages: [`gather`](crate::gather) reads the outside world into
//! plain data, [`decide`](crate::decide) computes the verdict from it, [`deliver`](crate::deliver)
//! renders it (the Action then publishes and retains).

use chrono::Utc;

use crate::analyze::mapping::Mapper;
use crate::error::Error;
use crate::{decide, deliver, gather};

pub use crate::decide::redact_aggregate;
pub use crate::deliver::{EvidenceRequest, ReportOutput, retain_evidence};
pub use crate::gather::config::load_config;
pub use crate::request::{DEFAULT_CONFIG, ReportRequest, SuiteInput};

/// Reads the JUnit files (and coverage, API exchanges, the ledger's base), maps tests to
/// controls, evaluates the gates and renders.
pub fn report(req: &ReportRequest) -> Result<ReportOutput, Error> {
    let started_at = Utc::now();
    let (config, _) = load_config(req.config.as_deref(), &req.workdir)?;
    // git starts first: `git diff` and the tree walks take as long as reading a large
    // coverage report, and nothing else waits for them until the coverage section.
    let early_git = gather::coverage::early_git(&config, req);
    std::thread::scope(|scope| {
        let early_git = early_git.as_ref().map(|(creq, want_base)| {
            (
                creq,
                gather::coverage::start_changes(scope, creq, *want_base),
            )
        });
        let mapper = Mapper::new(&config)?;
        let junit = gather::junit_paths(req)?;
        // Loaded before the rest: the analyzer fed while the JUnit files stream borrows them.
        let specs = gather::openapi::load_api_specs(&config, req)?;
        let gathered = gather::gather(
            req,
            &config,
            &mapper,
            junit,
            specs.as_ref(),
            started_at,
            early_git,
        )?;
        let decided = decide::decide(req, &config, gathered, Utc::now())?;
        Ok(deliver::render(req, &config, decided))
    })
}
