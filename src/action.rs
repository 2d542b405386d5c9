//! `controlgate run` (the GitHub Action's entry point) and `controlgate publish --from DIR`
//! (the second stage of the fork-safe two-workflow pattern).
//!
//! Input is an [`ActionContext`] (built by [`crate::actions_env`], the only module reading the
//! environment); output goes to the given writer (the step log). The exit code is the verdict:
//! 0 pass, 1 a gate failed (or publishing failed), 2 nothing could be decided (bad input) — and
//! in that last case the check run is still created, as `failure` (fail closed).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::actions_env::{ActionContext, parse_event};
use crate::error::{Error, ExitCode, ParseError};
use crate::model::report::{Report, Verdict};
use crate::pipeline::{self, ReportOutput, ReportRequest, SuiteInput};
use crate::publish::github::{
    Annotation, CheckRun, GhError, GitHub, Repo, RetryPolicy, Sticky, Thread,
};
use crate::publish::{self, CHECK_SUMMARY_LIMIT, COMMENT_LIMIT};
use crate::suites;

/// What was published, for the step outputs.
#[derive(Debug, Default)]
struct Published {
    comment_url: Option<String>,
    check_run_url: Option<String>,
    /// A publishing step failed for another reason than a read-only token.
    failed: bool,
}

/// Everything to publish, independent of where it came from (a fresh run or an artifact).
struct Publication {
    /// Within the comment / check-run budget.
    markdown: String,
    /// The job summary's version: the same document with a 1 MiB budget.
    long_markdown: String,
    success: bool,
    title: String,
    annotations: Vec<Annotation>,
    pr_number: Option<u64>,
    head_sha: Option<String>,
    /// `pr_number` came from an untrusted artifact (`publish --from`): comment only if that
    /// PR's head is `head_sha`, so a forged event cannot post on someone else's PR.
    verify_pr_head: bool,
}

impl Publication {
    /// A copy with `redactor` applied to every text that is posted.
    fn redacted(&self, redactor: &crate::redact::Redactor) -> Publication {
        use crate::redact::Redact;
        let mut counts = crate::redact::Redactions::default();
        let mut p = Publication {
            markdown: self.markdown.clone(),
            long_markdown: self.long_markdown.clone(),
            success: self.success,
            title: self.title.clone(),
            annotations: self.annotations.clone(),
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

/// Escapes a workflow-command message (`%`, CR, LF).
fn cmd_escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command of controlgate's own (`::warning …::`), its message escaped (so it is
/// one line) and cut to [`crate::console::VALUE_MAX`] bytes.
fn notice(out: &mut dyn Write, level: &str, msg: &str) {
    let mut end = msg.len().min(crate::console::VALUE_MAX);
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    let _ = writeln!(
        out,
        "::{level} title=controlgate::{}",
        cmd_escape(&msg[..end])
    );
}

/// Gives `paths` (recursively; those outside `workspace` are left alone) the workspace's owner
/// and group. Only root can, and only root needs to: a Docker action runs as root on a
/// workspace mounted from the runner's user.
fn give_to_workspace_owner(workspace: &Path, paths: &[PathBuf]) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid(2) reads the process's effective uid; it touches no memory.
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let Ok(ws) = std::fs::metadata(workspace) else {
            return;
        };
        let (uid, gid) = (ws.uid(), ws.gid());
        if uid == 0 {
            return;
        }
        let mut stack: Vec<PathBuf> = paths
            .iter()
            .filter(|p| p.starts_with(workspace))
            .cloned()
            .collect();
        while let Some(p) = stack.pop() {
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.uid() != uid || meta.gid() != gid {
                let _ = std::os::unix::fs::lchown(&p, Some(uid), Some(gid));
            }
            if meta.is_dir() {
                stack.extend(
                    std::fs::read_dir(&p)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(|e| e.path()),
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (workspace, paths);
}

/// Input text for one log line (see [`crate::console::log_text`]).
fn shown(s: &str) -> String {
    crate::console::log_text(s, crate::console::VALUE_MAX)
}

const FORK_NOTICE: &str = "The token is read-only (a pull request from a fork, or Dependabot), so \
the PR comment and check run were not published; the verdict is in the job summary and the exit \
code. To publish them, upload the report directory (it contains event.json) as an artifact and \
run `controlgate publish --from <dir>` in a second workflow triggered `on: workflow_run` with \
`pull-requests: write` and `checks: write` — see docs/action.md.";

/// `controlgate run`: decide (suites, JUnit, coverage, tickets gate), retain the evidence,
/// write the report directory, publish to GitHub, link the change tickets, then the job summary
/// and outputs. The evidence is written before anything goes to GitHub, so a GitHub failure
/// never loses it.
pub fn run(ctx: &ActionContext, out: &mut dyn Write) -> ExitCode {
    // A Docker action's workspace is owned by the runner's uid, not the container's root:
    // libgit2's owner check would reject it ("not owned by current user").
    crate::git::disable_owner_check();
    // What is written into the workspace and the job summary is redacted of the run's secrets
    // like what is posted (see `publish_to_github`).
    let redactor = match ctx.secrets.redactor() {
        Ok(r) => r,
        Err(e) => {
            notice(
                out,
                "error",
                &format!("the run's secrets cannot be redacted ({e}): nothing was done"),
            );
            return ExitCode::BadInput;
        }
    };
    let redact = |text: &str| {
        redactor
            .redact(text, &mut crate::redact::Redactions::default())
            .into_owned()
    };
    let title = ctx.inputs.check_name.clone();
    let decided = decide(ctx, out);
    let report_dir = resolve(&ctx.workspace, &ctx.inputs.report_dir);
    let evidence = match &decided {
        Ok(d) => retain(ctx, d, out),
        Err(_) => None,
    };
    let evidence_md = evidence.as_ref().map(evidence_section);
    let (mut publication, mut code, report_written) = match &decided {
        Ok(d) => {
            let o = &d.output;
            let mut markdown = o.markdown.clone();
            if let Some(e) = &evidence_md {
                markdown.push_str(&format!("\n{e}"));
            }
            let markdown = redact(&markdown);
            let written = match write_report_dir(ctx, o, &markdown, &report_dir) {
                Ok(()) => true,
                Err(e) => {
                    notice(
                        out,
                        "warning",
                        &format!("cannot write the report directory: {e}"),
                    );
                    false
                }
            };
            let annotations = publish::annotations(
                &o.report,
                &uncovered_ranges(&o.report),
                ctx.inputs.max_annotations,
            );
            (
                Publication {
                    markdown,
                    long_markdown: String::new(),
                    success: o.report.verdict == Verdict::Pass,
                    title: check_title(&o.report),
                    annotations,
                    pr_number: ctx.event.pr_number,
                    head_sha: ctx.event.head_sha.clone(),
                    verify_pr_head: false,
                },
                o.exit_code(),
                written,
            )
        }
        Err(e) => {
            let _ = writeln!(out, "error: {}", shown(&e.to_string()));
            let markdown = format!(
                "## ❌ {}: no verdict\n\ncontrolgate could not decide this run, so the \
                         check fails closed:\n\n{}\n",
                crate::render::escape::inline(&title, 80),
                crate::render::escape::code_block(&e.to_string(), "text")
            );
            (
                Publication {
                    long_markdown: markdown.clone(),
                    markdown,
                    success: false,
                    title: "controlgate could not decide this run".into(),
                    annotations: Vec::new(),
                    pr_number: ctx.event.pr_number,
                    head_sha: ctx.event.head_sha.clone(),
                    verify_pr_head: false,
                },
                e.exit_code(),
                false,
            )
        }
    };
    if let Some(Err(msg)) = &evidence {
        // Fail closed: the gates' verdict stands (check run, comment), but a run whose
        // evidence did not reach the store does not pass the job.
        notice(
            out,
            "error",
            &format!("evidence not retained in the store: {msg}"),
        );
        if code == ExitCode::Pass {
            code = ExitCode::Fail;
        }
        publication.title.push_str(" — evidence not retained");
    }
    let published = publish_to_github(ctx, &publication, out);
    let tickets = match &decided {
        Ok(d) => link_tickets(ctx, d, evidence.as_ref().and_then(|e| e.as_ref().ok()), out),
        Err(_) => None,
    };
    if let Ok(d) = &decided {
        publication.long_markdown = long_summary(&d.output.report, &title, tickets.as_ref());
        if let Some(e) = &evidence_md {
            publication.long_markdown.push_str(&format!("\n{e}"));
        }
    }
    publication.long_markdown = redact(&publication.long_markdown);
    // What was written into the workspace belongs to the workspace's owner, not to the
    // container's root: later steps (and actions/checkout's cleanup) must be able to remove it.
    let mut written = vec![report_dir.clone(), ctx.workspace.join(".controlgate")];
    if let Ok(d) = &decided
        && let Some(ev) = &d.output.evidence
    {
        written.push(ctx.workspace.join(&ev.fallback_dir));
        if let crate::retain::StoreConfig::Dir { path } = &ev.store {
            written.push(ctx.workspace.join(path));
        }
    }
    give_to_workspace_owner(&ctx.workspace, &written);
    finish(
        ctx,
        &publication,
        &published,
        decided.as_ref().ok().map(|d| &d.output),
        evidence.as_ref().and_then(|e| e.as_ref().ok()),
        report_written.then_some(&report_dir),
        out,
    );
    if published.failed && code == ExitCode::Pass {
        return ExitCode::Fail;
    }
    code
}

/// The job summary: the whole report within 1 MiB, with the coverage, API and (linked)
/// tickets sections.
fn long_summary(
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

/// Changed lines no test covers, from the coverage section (`12` or `12-15` per range).
fn uncovered_ranges(report: &crate::model::report::Report) -> Vec<publish::UncoveredRange> {
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

/// Retains the run's evidence when the config has `evidence:` or the `evidence-dir` input is
/// set. `None`: not configured; `Err`: the store failed (the message says what was kept
/// locally).
fn retain(
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
fn evidence_section(e: &Result<crate::retain::Written, String>) -> String {
    use crate::render::escape::inline;
    match e {
        Ok(w) => format!(
            "### Evidence\n\nRetained: bundle `{}` · ledger entry #{} (digest `{}`) · {}\n",
            w.bundle_digest,
            w.entry_seq,
            w.entry_digest,
            inline(&w.location, 300)
        ),
        Err(msg) => format!(
            "### Evidence\n\n⚠️ Not retained in the evidence store: {}\n",
            inline(msg, 600)
        ),
    }
}

/// Links the run to the change's tickets (after publishing; never fails the run). Returns the
/// section with the link results, when tickets are configured and the run has a change.
fn link_tickets(
    ctx: &ActionContext,
    d: &Decided,
    evidence: Option<&crate::retain::Written>,
    out: &mut dyn Write,
) -> Option<crate::tickets::TicketsSection> {
    use crate::tickets::{
        EvidenceLink, GithubCredentials, JiraCredentials, LinearCredentials, RunSummary,
        TicketCredentials,
    };
    let cfg = &d.config.tickets;
    let change = d.req.change.as_ref()?;
    if !cfg.any_tracker() {
        return None;
    }
    let i = &ctx.inputs;
    let creds = TicketCredentials {
        jira: i.jira_api_token.as_ref().map(|t| JiraCredentials {
            base_url: i.jira_url.clone().unwrap_or_default(),
            email: i.jira_email.clone().unwrap_or_default(),
            api_token: t.clone(),
        }),
        linear: i
            .linear_api_key
            .as_ref()
            .map(|k| LinearCredentials::new(k.clone())),
        github: i.github_token.as_ref().map(|t| GithubCredentials {
            api_url: ctx.api_url.clone(),
            token: crate::tickets::Secret::new(t.clone()),
            retry: RetryPolicy {
                time_scale: ctx.retry_time_scale,
                ..Default::default()
            },
        }),
    };
    let mut summary = RunSummary::from_report(&d.output.report);
    summary.evidence = evidence.map(|w| EvidenceLink {
        location: w.location.clone(),
        bundle_digest: w.bundle_digest.clone(),
    });
    summary.run_url = ctx.run_url.clone();
    let section = crate::tickets::link(change, cfg, &creds, &summary);
    let md = crate::tickets::render_tickets(&section);
    // Rendered from tracker and PR text: inert inside a stop-commands block.
    let token = crate::suites::random_token();
    let _ = writeln!(out, "::group::controlgate change tickets");
    let _ = writeln!(out, "::stop-commands::{token}");
    let _ = writeln!(out, "{md}");
    let _ = writeln!(out, "::{token}::");
    let _ = writeln!(out, "::endgroup::");
    for l in &section.links {
        if l.status == crate::tickets::LinkStatus::Skipped {
            let _ = writeln!(
                out,
                "controlgate: {} {} {} skipped: {}",
                l.tracker.name(),
                shown(&l.ticket),
                shown(&l.action),
                shown(l.message.as_deref().unwrap_or(""))
            );
        }
        if l.status == crate::tickets::LinkStatus::Failed {
            notice(
                out,
                "warning",
                &format!(
                    "{} {} {}: {}",
                    l.tracker.name(),
                    l.ticket,
                    l.action,
                    l.message.as_deref().unwrap_or("failed")
                ),
            );
        }
    }
    Some(section)
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_owned()
    } else {
        base.join(p)
    }
}

fn check_title(r: &crate::model::report::Report) -> String {
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

/// A decided run, with what decided it.
struct Decided {
    req: ReportRequest,
    output: ReportOutput,
    config: crate::config::Config,
}

/// Commits read for the change's tickets (the newest are kept).
const MAX_COMMITS: usize = 250;

/// Runs the suites (when configured) and decides the report: tests, coverage (git diff against
/// the PR base), the tickets gate (change context from the event and git) and the run identity.
fn decide(ctx: &ActionContext, out: &mut dyn Write) -> Result<Decided, Error> {
    let (config, _) = pipeline::load_config(ctx.inputs.config.as_deref(), &ctx.workspace)?;
    let mut req = ReportRequest::new(ctx.inputs.junit.clone(), ctx.workspace.clone());
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
    if !config.suites.is_empty() {
        if !ctx.inputs.junit.is_empty() {
            notice(
                out,
                "notice",
                "the config defines `suites`; the `junit` input adds its files to theirs",
            );
        }
        let runs = suites::run_all(&config.suites, &ctx.workspace, &ctx.suite_env.0, out);
        for (run, suite) in runs.into_iter().zip(&config.suites) {
            let failed = run.record.timed_out
                || run.record.error.is_some()
                || run.record.exit_code != Some(0);
            for glob in &suite.coverage {
                // This run's coverage files only: one left by an earlier run is not evidence.
                let fresh: Vec<PathBuf> =
                    crate::inputs::expand(std::slice::from_ref(glob), &run.workdir, "coverage")
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|p| !run.stale.contains(p))
                        .collect();
                if fresh.is_empty() && failed {
                    // The suite gate already fails the run; say why coverage is missing.
                    notice(
                        out,
                        "warning",
                        &format!(
                            "suite `{}` failed and left no coverage report matching `{glob}`",
                            suite.name
                        ),
                    );
                    continue;
                }
                if fresh.is_empty() {
                    // Let the coverage reader say the glob matches nothing.
                    let full = run.workdir.join(glob);
                    let pattern = crate::inputs::display_path(&full, &ctx.workspace);
                    if !req.coverage.contains(&pattern) {
                        req.coverage.push(pattern);
                    }
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
            });
        }
    } else if ctx.inputs.junit.is_empty() {
        return Err(Error::Usage(
            "nothing to read: set the `junit` input (result files from an earlier step) or \
             define `suites` in the config"
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

/// Writes `summary.md`, `report.json`, the event payload and the run context: what the second
/// stage (`publish --from`) needs.
fn write_report_dir(
    ctx: &ActionContext,
    o: &ReportOutput,
    markdown: &str,
    dir: &Path,
) -> Result<(), Error> {
    let summary = |w: &mut dyn std::io::Write| w.write_all(markdown.as_bytes());
    let json = |w: &mut dyn std::io::Write| crate::render::write_json(&o.report, w);
    crate::inputs::write_all_or_nothing_with(
        dir,
        &[("summary.md", &summary), ("report.json", &json)],
    )?;
    if let Some(p) = &ctx.event_path {
        let ev = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
        let meta = json!({
            "event_name": ctx.event_name,
            "check_name": ctx.inputs.check_name,
            "comment": ctx.inputs.comment,
        });
        crate::inputs::write_all_or_nothing(
            dir,
            &[
                ("event.json", ev.as_str()),
                ("context.json", &format!("{meta:#}\n")),
            ],
        )?;
    }
    Ok(())
}

/// Publishes the comment and the check run. Never fails: problems are reported in the log and
/// in `Published`.
fn publish_to_github(ctx: &ActionContext, p: &Publication, out: &mut dyn Write) -> Published {
    let mut published = Published::default();
    // The last step before anything leaves for GitHub: the run's secrets (and encodings) are
    // redacted from what is posted, whatever produced it (a fresh run, or an artifact).
    let redactor = match ctx.secrets.redactor() {
        Ok(r) => r,
        Err(e) => {
            notice(
                out,
                "error",
                &format!("not publishing: the run's secrets cannot be redacted ({e})"),
            );
            published.failed = true;
            return published;
        }
    };
    let p = &p.redacted(&redactor);
    let Some(token) = ctx.inputs.github_token.as_deref() else {
        let _ = writeln!(
            out,
            "controlgate: no `github-token`: not publishing to GitHub"
        );
        return published;
    };
    let Some((owner, repo)) = &ctx.repository else {
        let _ = writeln!(
            out,
            "controlgate: GITHUB_REPOSITORY is not set: not publishing"
        );
        return published;
    };
    let policy = RetryPolicy {
        time_scale: ctx.retry_time_scale,
        ..Default::default()
    };
    let log: Box<dyn Fn(&str)> =
        Box::new(move |m| eprintln!("controlgate: {}", crate::console::inert(m, &redactor)));
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            notice(
                out,
                "error",
                &format!("cannot start the async runtime: {e}"),
            );
            published.failed = true;
            return published;
        }
    };
    // octocrab's client (a tower buffer) must be built inside the runtime.
    let _guard = rt.enter();
    let repo = Repo {
        owner: owner.as_str(),
        name: repo.as_str(),
    };
    let gh = match GitHub::new(&ctx.api_url, token, policy, log) {
        Ok(g) => g,
        Err(e) => {
            notice(out, "error", &e.to_string());
            published.failed = true;
            return published;
        }
    };
    let name = &ctx.inputs.check_name;
    let mut read_only = false;
    let mut on_error = |e: GhError, out: &mut dyn Write, read_only: &mut bool| match e {
        GhError::ReadOnly { .. } => {
            if !*read_only {
                notice(out, "notice", FORK_NOTICE);
            }
            *read_only = true;
        }
        e => {
            notice(out, "error", &e.to_string());
            published.failed = true;
        }
    };
    rt.block_on(async {
        if ctx.inputs.check_run {
            match &p.head_sha {
                None => notice(
                    out,
                    "warning",
                    "no head commit SHA in the event: no check run",
                ),
                Some(sha) => {
                    let run = CheckRun {
                        name: name.clone(),
                        head_sha: sha.clone(),
                        success: p.success,
                        title: p.title.clone(),
                        summary: publish::fit(
                            &p.markdown,
                            CHECK_SUMMARY_LIMIT,
                            "the job summary and `report.json`",
                        ),
                        annotations: p.annotations.clone(),
                        details_url: ctx.run_url.clone(),
                        // Unique per invocation (a job may run controlgate twice).
                        external_id: format!(
                            "controlgate:{}:{}",
                            ctx.run_id.as_deref().unwrap_or("local"),
                            &suites::random_token()[..12]
                        ),
                    };
                    match gh.create_check_run(repo, &run).await {
                        Ok(url) => {
                            let _ = writeln!(out, "controlgate: check run {}", shown(&url));
                            published.check_run_url = Some(url);
                        }
                        Err(e) => on_error(e, out, &mut read_only),
                    }
                }
            }
        }
        if ctx.inputs.comment && !read_only {
            let mut pr_number = p.pr_number;
            if let (true, Some(pr)) = (p.verify_pr_head, pr_number) {
                let tested = p.head_sha.as_deref().unwrap_or("");
                match gh.pull_head_sha(repo, pr).await {
                    Ok(head) if head == tested => {}
                    Ok(head) => {
                        notice(
                            out,
                            "warning",
                            &format!(
                                "not commenting on PR #{pr}: its head is {head}, not the tested commit {tested}"
                            ),
                        );
                        pr_number = None;
                    }
                    Err(e) => {
                        on_error(e, out, &mut read_only);
                        pr_number = None;
                    }
                }
            }
            if let Some(pr) = pr_number {
                let author = match &ctx.inputs.comment_author {
                    Some(a) => a.clone(),
                    None => gh.identity().await,
                };
                let marker = publish::marker(name);
                let body = format!(
                    "{marker}\n{}",
                    publish::fit(
                        &p.markdown,
                        COMMENT_LIMIT - marker.chars().count() - 1,
                        "the job summary and `report.json`"
                    )
                );
                let sticky = Sticky {
                    marker: &marker,
                    author: Some(&author),
                };
                match gh
                    .upsert_comment(repo, Thread::PullRequest(pr), &sticky, &body)
                    .await
                {
                    Ok(c) => {
                        let _ = writeln!(out, "controlgate: PR comment {}", shown(&c.html_url));
                        published.comment_url = Some(c.html_url);
                    }
                    Err(e) => on_error(e, out, &mut read_only),
                }
            }
        }
    });
    published
}

/// Job summary and step outputs.
fn finish(
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

/// `controlgate publish --from DIR`: stage 2 of the fork-safe pattern, run `on: workflow_run`
/// with a write token. The artifact came from an untrusted run: the commit comes from this
/// run's own `workflow_run` event, and the PR is accepted only if the artifact's event names
/// the same head commit.
pub fn publish_from(
    ctx: &ActionContext,
    dir: &Path,
    out: &mut dyn Write,
) -> Result<ExitCode, Error> {
    crate::git::disable_owner_check();
    let read = |name: &str| -> Result<String, Error> {
        let p = dir.join(name);
        std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))
    };
    // Written by the fork's job, so anything could be in it: neutralised, not trusted, and
    // redacted of this (privileged) run's secrets.
    let redactor = ctx.secrets.redactor()?;
    let markdown = redactor
        .redact(
            &crate::render::escape::untrusted_markdown(&read("summary.md")?),
            &mut Default::default(),
        )
        .into_owned();
    // Typed, and of this controlgate's schema: a report of another version is refused rather
    // than published with fields read as something they are not.
    let report = Report::from_json(&read("report.json")?)
        .map_err(|e| ParseError::new(e.to_string()).in_file(dir.join("report.json")))?;
    let event: Value = serde_json::from_str(&read("event.json")?).map_err(|e| {
        Error::Usage(format!(
            "{}: not JSON: {e}",
            dir.join("event.json").display()
        ))
    })?;
    let meta: Value = read("context.json")
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    let original_event = meta
        .get("event_name")
        .and_then(Value::as_str)
        .unwrap_or("pull_request");
    let original = parse_event(original_event, &event, None);
    // Trusted: this run's own event (workflow_run.head_sha), when there is one.
    let head_sha = match (&ctx.event.head_sha, &original.head_sha) {
        (Some(trusted), Some(claimed))
            if ctx.event_name == "workflow_run" && trusted != claimed =>
        {
            return Err(Error::Usage(format!(
                "the artifact's event is for commit {claimed}, but the triggering workflow run \
                 tested {trusted}: refusing to publish"
            )));
        }
        (Some(trusted), _) if ctx.event_name == "workflow_run" => Some(trusted.clone()),
        (_, claimed) => claimed.clone(),
    };
    let success = report.verdict == Verdict::Pass;
    // The same title and annotations as the run that wrote the report would have posted.
    let publication = Publication {
        long_markdown: markdown.clone(),
        markdown: markdown.clone(),
        success,
        title: check_title(&report),
        annotations: publish::annotations(
            &report,
            &uncovered_ranges(&report),
            ctx.inputs.max_annotations,
        ),
        pr_number: original.pr_number.or(ctx.event.pr_number),
        head_sha,
        verify_pr_head: true,
    };
    let published = publish_to_github(ctx, &publication, out);
    if let Some(path) = &ctx.step_summary {
        let _ = publish::write_step_summary(path, &markdown);
    }
    if published.failed {
        return Ok(ExitCode::Fail);
    }
    Ok(if success {
        ExitCode::Pass
    } else {
        ExitCode::Fail
    })
}
