//! Running the config's suites and collecting what they leave: each suite's record and result
//! files, and this run's coverage files, added to the report request.

use std::io::Write;
use std::path::PathBuf;

use crate::actions_env::ActionContext;
use crate::config::Suite;
use crate::pipeline::{ReportRequest, SuiteInput};

use super::log::notice;

/// Runs `suites` (the config's, not empty) in the workspace and adds their runs and fresh
/// coverage files to `req`.
pub(super) fn run_suites(
    ctx: &ActionContext,
    suites: &[Suite],
    req: &mut ReportRequest,
    out: &mut dyn Write,
) {
    if !ctx.inputs.results.is_empty() {
        notice(
            out,
            "notice",
            "the config defines `suites`; the `results` input adds its files to theirs",
        );
    }
    let file_commands: Vec<(String, PathBuf)> = [
        "GITHUB_OUTPUT",
        "GITHUB_ENV",
        "GITHUB_PATH",
        "GITHUB_STATE",
        "GITHUB_STEP_SUMMARY",
    ]
    .into_iter()
    .filter_map(|name| {
        let path = ctx.env.get(name).filter(|p| !p.is_empty())?;
        Some((name.to_owned(), PathBuf::from(path)))
    })
    .collect();
    let runs = crate::suites::run_all(
        suites,
        &ctx.workspace,
        &ctx.suite_env.0,
        &file_commands,
        out,
    );
    for (run, suite) in runs.into_iter().zip(suites) {
        let mut missing_coverage = Vec::new();
        for glob in &suite.coverage {
            // This run's coverage files only: one left by an earlier run is not evidence. A
            // glob that matched none fails the suite's gate (the coverage gates would judge
            // the other suites' reports alone), and no file it matches is read.
            let fresh: Vec<PathBuf> =
                crate::inputs::expand(std::slice::from_ref(glob), &run.workdir, "coverage")
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| !run.stale.contains(p))
                    .collect();
            if fresh.is_empty() {
                missing_coverage.push(glob.clone());
            }
            for p in fresh {
                let path = controlgate_core::glob::escape(&crate::inputs::display_path(
                    &p,
                    &ctx.workspace,
                ));
                if !req.coverage.contains(&path) {
                    req.coverage.push(path);
                }
            }
        }
        req.suites.push(SuiteInput {
            record: run.record,
            workdir: run.workdir,
            junit: suite.junit.clone(),
            controls: suite
                .controls
                .iter()
                .filter_map(|c| crate::model::ControlId::parse_shape(c))
                .collect(),
            stale: run.stale,
            missing_coverage,
        });
    }
}
