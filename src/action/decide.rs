//! Deciding the request from the Actions inputs and event: the report request, the change
//! context (with the PR's commit messages) and the base to compare coverage against.

use std::io::Write;

use crate::actions_env::ActionContext;
use crate::error::Error;
use crate::pipeline::{self, ReportOutput, ReportRequest};

use super::log::{notice, shown};
use super::suite_runs::run_suites;
use super::workspace::resolve;

/// A decided run, with what decided it.
pub(super) struct Decided {
    pub(super) req: ReportRequest,
    pub(super) output: ReportOutput,
    pub(super) config: crate::config::Config,
}

/// Commits read for the change's tickets (the newest are kept).
const MAX_COMMITS: usize = 250;

/// Runs the suites (when configured) and decides the report: tests, coverage (git diff against
/// the PR base), the tickets gate (change context from the event and git) and the run identity.
pub(super) fn decide(ctx: &ActionContext, out: &mut dyn Write) -> Result<Decided, Error> {
    let (config, _) = pipeline::load_config(ctx.inputs.config.as_deref(), &ctx.workspace)?;
    let mut req = ReportRequest::new(ctx.inputs.results.clone(), ctx.workspace.clone());
    req.config = ctx.inputs.config.clone();
    req.title = Some(ctx.inputs.check_name.clone());
    // The ledger is also where a PR run finds its base coverage.
    req.evidence_dir = ctx
        .inputs
        .evidence_dir
        .as_ref()
        .map(|p| resolve(&ctx.workspace, p));
    // Room for the "Evidence" section within the comment's limit.
    req.markdown_budget = crate::render::markdown::DEFAULT_BUDGET - 1024;
    req.identity = Some(ctx.identity());
    req.secrets = ctx.secrets.clone();
    req.env = ctx.env.clone();
    req.coverage = ctx.inputs.coverage.clone();
    req.base_ref = ctx.inputs.base_ref.clone();
    req.repo = Some(ctx.workspace.clone());
    req.workspace = Some(ctx.workspace.to_string_lossy().into_owned());
    if !ctx.inputs.merge.is_empty() {
        // Fan-in: every directory the globs name that holds a `leg.json` is one leg.
        let manifests: Vec<String> = ctx
            .inputs
            .merge
            .iter()
            .map(|g| format!("{}/{}", g.trim_end_matches('/'), crate::legs::LEG_FILE))
            .collect();
        let dirs: Vec<std::path::PathBuf> =
            crate::inputs::expand(&manifests, &ctx.workspace, "merge")?
                .into_iter()
                .filter_map(|f| f.parent().map(std::path::Path::to_path_buf))
                .collect();
        let legs = crate::legs::read_legs(&dirs)?;
        crate::legs::merge_into(&mut req, &legs);
    }
    // A fan-in job shares the legs' config: a suite a leg ran (its `suite:NAME` gate is in the
    // leg's `leg.json`) is the legs' to report, not run a second time here.
    let ran_on_legs = |name: &str| {
        req.legs.iter().flatten().any(|l| {
            l.suites
                .iter()
                .any(|s| s.gate.strip_prefix("suite:") == Some(name))
        })
    };
    let (on_legs, suites): (Vec<_>, Vec<_>) = config
        .suites
        .iter()
        .cloned()
        .partition(|s| ran_on_legs(&s.name));
    for s in &on_legs {
        let _ = writeln!(
            out,
            "controlgate: suite `{}` ran on the matrix legs: merged from them, not run again",
            shown(&s.name)
        );
    }
    if !suites.is_empty() {
        run_suites(ctx, &suites, &mut req, out);
    } else if req.junit.is_empty() {
        return Err(Error::Usage(
            "nothing to read: set the `results` input (result files from an earlier step), \
             `merge` (a matrix's leg directories) or define `suites` in the config"
                .into(),
        ));
    }
    let base = event_base(ctx);
    if !req.coverage.is_empty() && req.base_ref.is_none() {
        req.event_base_ref = base.clone();
    }
    req.change = ctx.change_context().map(|mut change| {
        let wanted = config.tickets.any_tracker() || config.tickets.required.is_some();
        if wanted && change.commit_messages.is_empty() {
            // The PR's commits: base...head. A SHA first (exact), else the base branch.
            let bases = [ctx.event.base_sha.clone(), base.clone()];
            let mut last_err = None;
            for b in bases.iter().flatten() {
                match crate::git::commit_messages(
                    &ctx.workspace,
                    b,
                    ctx.event.head_sha.as_deref(),
                    MAX_COMMITS,
                ) {
                    Ok(m) => {
                        change.commit_messages = m;
                        last_err = None;
                        break;
                    }
                    Err(e) => last_err = Some(e),
                }
            }
            if let Some(e) = last_err {
                notice(
                    out,
                    "warning",
                    &format!(
                        "commit messages not read, so tickets named only in commits are not \
                         found: {e}"
                    ),
                );
            }
        }
        change
    });
    let output = pipeline::report(&req)?;
    Ok(Decided {
        req,
        output,
        config,
    })
}

/// The base to compare against from the event: for pull requests and merge groups the base
/// branch (`origin/<base>` when the checkout has it), for a push the commit before it.
fn event_base(ctx: &ActionContext) -> Option<String> {
    match ctx.event_name.as_str() {
        "push" => ctx.event.base_sha.clone(),
        _ => ctx
            .event
            .base_ref
            .as_deref()
            .map(|b| crate::git::prefer_remote_base(&ctx.workspace, b)),
    }
}
