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
use crate::error::{Error, ExitCode};
use crate::model::report::Verdict;
use crate::pipeline::{self, ReportOutput, ReportRequest, SuiteInput};
use crate::publish::github::{Annotation, CheckRun, GhError, GitHub, Level, RetryPolicy};
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
}

/// Escapes a workflow-command message (`%`, CR, LF).
fn cmd_escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn notice(out: &mut dyn Write, level: &str, msg: &str) {
    let _ = writeln!(out, "::{level} title=controlgate::{}", cmd_escape(msg));
}

const FORK_NOTICE: &str = "The token is read-only (a pull request from a fork, or Dependabot), so \
the PR comment and check run were not published; the verdict is in the job summary and the exit \
code. To publish them, upload the report directory (it contains event.json) as an artifact and \
run `controlgate publish --from <dir>` in a second workflow triggered `on: workflow_run` with \
`pull-requests: write` and `checks: write` — see docs/action.md.";

/// `controlgate run`.
///
/// Note for the coverage merge (git2): a Docker action's workspace is owned by the runner's uid,
/// not the container's root; call `git2::opts::set_verify_owner_validation(false)` here, before
/// any repository is opened, or libgit2 rejects it ("not owned by current user").
pub fn run(ctx: &ActionContext, out: &mut dyn Write) -> ExitCode {
    let title = ctx.inputs.check_name.clone();
    let decided = decide(ctx, out);
    let report_dir = resolve(&ctx.workspace, &ctx.inputs.report_dir);
    let (publication, code, report_written) = match &decided {
        Ok(o) => {
            let written = match write_report_dir(ctx, o, &report_dir) {
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
            let failures = publish::annotations(&o.report, &[], ctx.inputs.max_annotations);
            (
                Publication {
                    markdown: o.markdown.clone(),
                    long_markdown: crate::render::markdown::render(
                        &o.report,
                        &crate::render::markdown::MarkdownOptions {
                            budget: publish::STEP_SUMMARY_LIMIT_BYTES - 4096,
                            title: title.clone(),
                        },
                        &[],
                    ),
                    success: o.report.verdict == Verdict::Pass,
                    title: check_title(&o.report),
                    annotations: failures,
                    pr_number: ctx.event.pr_number,
                    head_sha: ctx.event.head_sha.clone(),
                },
                o.exit_code(),
                written,
            )
        }
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
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
                },
                e.exit_code(),
                false,
            )
        }
    };
    let published = publish_to_github(ctx, &publication, out);
    finish(
        ctx,
        &publication,
        &published,
        decided.as_ref().ok(),
        report_written.then_some(&report_dir),
        out,
    );
    if published.failed && code == ExitCode::Pass {
        return ExitCode::Fail;
    }
    code
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

/// Runs the suites (when configured) and decides the report.
fn decide(ctx: &ActionContext, out: &mut dyn Write) -> Result<ReportOutput, Error> {
    let (config, _) = pipeline::load_config(ctx.inputs.config.as_deref(), &ctx.workspace)?;
    let mut req = ReportRequest::new(ctx.inputs.junit.clone(), ctx.workspace.clone());
    req.config = ctx.inputs.config.clone();
    req.title = Some(ctx.inputs.check_name.clone());
    if !ctx.inputs.coverage.is_empty() || config.suites.iter().any(|s| !s.coverage.is_empty()) {
        notice(
            out,
            "warning",
            "coverage inputs are not read by this build yet; coverage outputs are empty",
        );
    }
    if !config.suites.is_empty() {
        if !ctx.inputs.junit.is_empty() {
            notice(
                out,
                "notice",
                "the config defines `suites`; the `junit` input adds its files to theirs",
            );
        }
        let runs = suites::run_all(&config.suites, &ctx.workspace, out);
        for (run, suite) in runs.into_iter().zip(&config.suites) {
            req.suites.push(SuiteInput {
                record: run.record,
                workdir: run.workdir,
                junit: suite.junit.clone(),
                controls: suite
                    .controls
                    .iter()
                    .filter_map(|c| crate::model::ControlId::parse_shape(c))
                    .collect(),
            });
        }
    } else if ctx.inputs.junit.is_empty() {
        return Err(Error::Usage(
            "nothing to read: set the `junit` input (result files from an earlier step) or \
             define `suites` in the config"
                .into(),
        ));
    }
    pipeline::report(&req)
}

/// Writes `summary.md`, `report.json`, the event payload and the run context: what the second
/// stage (`publish --from`) needs.
fn write_report_dir(ctx: &ActionContext, o: &ReportOutput, dir: &Path) -> Result<(), Error> {
    o.write_to(dir)?;
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
    let log: Box<dyn Fn(&str)> = Box::new(|m| eprintln!("controlgate: {m}"));
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
    let gh = match GitHub::new(&ctx.api_url, token, owner, repo, policy, log) {
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
                    match gh.create_check_run(&run).await {
                        Ok(url) => {
                            let _ = writeln!(out, "controlgate: check run {url}");
                            published.check_run_url = Some(url);
                        }
                        Err(e) => on_error(e, out, &mut read_only),
                    }
                }
            }
        }
        if ctx.inputs.comment && !read_only {
            if let Some(pr) = p.pr_number {
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
                match gh.upsert_comment(pr, &author, &marker, &body).await {
                    Ok(url) => {
                        let _ = writeln!(out, "controlgate: PR comment {url}");
                        published.comment_url = Some(url);
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
            Some(o) => publish::outputs(
                &o.report,
                &report_path,
                published.comment_url.as_deref(),
                published.check_run_url.as_deref(),
            ),
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
    let read = |name: &str| -> Result<String, Error> {
        let p = dir.join(name);
        std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))
    };
    let markdown = read("summary.md")?;
    let report: Value = serde_json::from_str(&read("report.json")?).map_err(|e| {
        Error::Usage(format!(
            "{}: not JSON: {e}",
            dir.join("report.json").display()
        ))
    })?;
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
    let success = report.get("verdict").and_then(Value::as_str) == Some("pass");
    let totals = report.get("tests").cloned().unwrap_or(Value::Null);
    let n = |k: &str| totals.get(k).and_then(Value::as_u64).unwrap_or(0);
    let title = format!(
        "{}: {} tests, {} failed, {} skipped",
        if success { "passed" } else { "failed" },
        n("total"),
        n("failed") + n("errored"),
        n("skipped")
    );
    let publication = Publication {
        long_markdown: markdown.clone(),
        markdown: markdown.clone(),
        success,
        title,
        annotations: annotations_from_json(&report, ctx.inputs.max_annotations),
        pr_number: original.pr_number.or(ctx.event.pr_number),
        head_sha,
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

/// Failing-test annotations from a `report.json` read back.
fn annotations_from_json(report: &Value, cap: usize) -> Vec<Annotation> {
    let mut out = Vec::new();
    for c in report
        .get("cases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let status = c.get("status").and_then(Value::as_str).unwrap_or("");
        if status != "failed" && status != "errored" {
            continue;
        }
        let Some(path) = c
            .get("file")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
        else {
            continue;
        };
        let line = c
            .get("line")
            .and_then(Value::as_u64)
            .and_then(|l| u32::try_from(l).ok())
            .unwrap_or(1)
            .max(1);
        let id = c.get("id").and_then(Value::as_str).unwrap_or("test");
        let message: String = c
            .get("message")
            .and_then(Value::as_str)
            .filter(|m| !m.trim().is_empty())
            .unwrap_or(status)
            .chars()
            .take(4096)
            .collect();
        out.push(Annotation {
            path: path.trim_start_matches("./").to_owned(),
            start_line: line,
            end_line: line,
            annotation_level: Level::Failure,
            message,
            title: Some(format!("{id} {status}").chars().take(250).collect()),
        });
        if out.len() >= cap {
            break;
        }
    }
    out
}
