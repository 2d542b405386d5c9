//! The GitHub Actions environment: the ONLY module that reads environment variables.
//!
//! Inputs arrive as `INPUT_<NAME>` (upper-cased, hyphens kept: `INPUT_GITHUB-TOKEN`), the run's
//! context as `GITHUB_*`, and the triggering event as JSON at `GITHUB_EVENT_PATH`. Everything is
//! turned into a plain [`ActionContext`]; the rest of the crate never calls `std::env`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::model::run::RunIdentity;
use crate::tickets::{ChangeContext, Secret};

/// What the triggering event says about the change being tested.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventInfo {
    /// The pull request, when the event belongs to one.
    pub pr_number: Option<u64>,
    /// The commit the check run belongs to: the PR head (never the `refs/pull/N/merge` commit).
    pub head_sha: Option<String>,
    pub base_ref: Option<String>,
    pub base_sha: Option<String>,
}

/// When the sticky PR comment is written (`comment` input): like the modes reviewers know from
/// coverage bots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentMode {
    /// Create or update it on every run (`true`, the default).
    Always,
    /// Create it, then update it only when the verdict or the numbers changed.
    Changes,
    /// Create it only when the run fails; an existing comment is still updated (so it never
    /// shows a failure that was fixed).
    Failures,
    /// Never (`false`).
    Off,
}

impl CommentMode {
    pub fn parse(v: &str) -> Option<CommentMode> {
        match v {
            "always" | "true" | "True" | "TRUE" | "yes" | "1" => Some(CommentMode::Always),
            "changes" => Some(CommentMode::Changes),
            "failures" => Some(CommentMode::Failures),
            "off" | "false" | "False" | "FALSE" | "no" | "0" => Some(CommentMode::Off),
            _ => None,
        }
    }
}

/// The action's inputs (see `action.yml`). Empty strings are treated as unset.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    pub github_token: Option<Secret>,
    pub config: Option<PathBuf>,
    /// Result globs (one per line or comma-separated; inputs `results` and `junit`), used
    /// without `suites` or in addition to them.
    pub results: Vec<String>,
    pub coverage: Vec<String>,
    pub base_ref: Option<String>,
    /// When to post or update the sticky PR comment (`comment` input).
    pub comment: CommentMode,
    /// Create the check run.
    pub check_run: bool,
    /// Name of the check run; also names the comment marker `<!-- controlgate:<name> -->`.
    pub check_name: String,
    /// Directory (relative to the workspace) receiving `report.json`, `summary.md`, `event.json`.
    pub report_dir: PathBuf,
    /// Maximum annotations on the check run (failures first).
    pub max_annotations: usize,
    /// Login whose comments are searched for the marker; `None`: the token's identity.
    pub comment_author: Option<String>,
    /// Deployment environment recorded in the run identity (`environment` input).
    pub environment: Option<String>,
    /// `evidence-dir`: retain evidence in this directory (a `dir` store), overriding the
    /// config's `evidence.store`.
    pub evidence_dir: Option<PathBuf>,
    /// Jira Cloud base URL (`jira-url`; default `tickets.jira.url`).
    pub jira_url: Option<String>,
    pub jira_email: Option<String>,
    pub jira_api_token: Option<Secret>,
    pub linear_api_key: Option<Secret>,
    /// `pass-env`: names of job environment variables the suites may see besides the
    /// allow-list ([`SUITE_ENV_ALLOWED`]). Set in the workflow, never in the (PR's) config.
    pub pass_env: Vec<String>,
    /// `leg`: this job is matrix leg NAME — it writes its leg files into `report-dir` for a
    /// later `merge` and publishes nothing (no comment, check run, evidence or ticket link).
    pub leg: Option<String>,
    /// `merge`: globs of leg directories (each holding `leg.json`) to combine into this run.
    pub merge: Vec<String>,
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs {
            github_token: None,
            config: None,
            results: Vec::new(),
            coverage: Vec::new(),
            base_ref: None,
            comment: CommentMode::Always,
            check_run: true,
            check_name: "controlgate".into(),
            report_dir: PathBuf::from("controlgate-report"),
            max_annotations: 500,
            comment_author: None,
            environment: None,
            evidence_dir: None,
            jira_url: None,
            jira_email: None,
            jira_api_token: None,
            linear_api_key: None,
            pass_env: Vec::new(),
            leg: None,
            merge: Vec::new(),
        }
    }
}

/// Everything `controlgate run` / `publish` needs from the environment, as plain data.
#[derive(Debug, Clone, Default)]
pub struct ActionContext {
    pub inputs: Inputs,
    /// `GITHUB_WORKSPACE`, else the current directory.
    pub workspace: PathBuf,
    /// `GITHUB_API_URL` (GitHub Enterprise Server differs), default `https://api.github.com`.
    pub api_url: String,
    /// `GITHUB_REPOSITORY` split into owner and name.
    pub repository: Option<(String, String)>,
    pub event_name: String,
    pub event_path: Option<PathBuf>,
    pub event: EventInfo,
    /// The event payload as read (for the change context).
    pub event_json: Option<Value>,
    /// `GITHUB_REF`.
    pub git_ref: Option<String>,
    /// `GITHUB_ACTOR`.
    pub actor: Option<String>,
    /// `GITHUB_WORKFLOW`.
    pub workflow: Option<String>,
    /// `GITHUB_JOB`.
    pub job: Option<String>,
    /// `GITHUB_RUN_ATTEMPT`.
    pub run_attempt: Option<String>,
    /// `RUNNER_OS`.
    pub runner_os: Option<String>,
    /// `GITHUB_SHA` (for `pull_request`: the merge commit, not the head).
    pub sha: Option<String>,
    pub step_summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
    /// Link to this workflow run, for the check run's `details_url`.
    pub run_url: Option<String>,
    /// `GITHUB_RUN_ID`-`GITHUB_RUN_ATTEMPT`, used as the check run's `external_id`.
    pub run_id: Option<String>,
    /// Test-only: multiplies every retry wait (`CONTROLGATE_TEST_TIME_SCALE`).
    pub retry_time_scale: f64,
    /// Every secret value the run was given ([`secrets_from`]), redacted from every output.
    pub secrets: crate::redact::SecretValues,
    /// The environment the suites run with ([`suite_env`]).
    pub suite_env: EnvVars,
    /// The whole environment, as plain data: where an evidence store takes its credentials
    /// (`token_env`, `AWS_*`).
    pub env: EnvVars,
}

pub use crate::model::env::EnvVars;

/// The process environment, as plain data (names and values that are not UTF-8 are read
/// lossily).
pub fn process_vars() -> Vec<(String, String)> {
    std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect()
}

/// Reads the real process environment.
pub fn from_env() -> Result<ActionContext, Error> {
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    from_vars(&process_vars(), &cwd)
}

/// Whether a variable holds a credential, by its name: `…TOKEN…`, `…SECRET…`, `…PASSWORD…`,
/// `…API_KEY…`, `…ACCESS_KEY…`, `…PRIVATE_KEY…`, `…CREDENTIAL…` (case-insensitive; `-` counts
/// as `_`, as in `INPUT_JIRA-API-TOKEN`).
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase().replace('-', "_");
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// Every secret value this run was given, gathered once at the edge for every command: the
/// values of variables named like credentials ([`is_secret_name`]: the GitHub token, the
/// Jira/Linear inputs, `AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, the runner's
/// `ACTIONS_*_TOKEN`s, a git store's token variable) and every line of `CONTROLGATE_SECRETS`.
/// The redactor adds their encodings ([`crate::redact::secret_variants`]). A value that only
/// names a variable (`token-env: EVIDENCE_TOKEN`: one set here, or shaped like one, with an
/// underscore between capitals) or a boolean is not a secret; capitals and digits alone
/// (`8F3A9C21B7D04E6F`, a PIN) are.
pub fn secrets_from(vars: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (name, value) in vars {
        if name == "CONTROLGATE_SECRETS" {
            out.extend(value.lines().map(|l| l.trim().to_owned()));
        } else if is_secret_name(name) {
            out.push(value.trim().to_owned());
        }
    }
    let is_name = |v: &str| {
        let b = v.as_bytes();
        let shaped = b.first().is_some_and(u8::is_ascii_uppercase)
            && b.iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            && b.windows(2)
                .any(|w| w[0] == b'_' && w[1].is_ascii_uppercase());
        shaped || vars.iter().any(|(name, _)| name == v)
    };
    out.retain(|v| {
        v.len() >= crate::redact::MIN_SECRET_LEN
            && !is_name(v)
            && !matches!(v.to_ascii_lowercase().as_str(), "true" | "false")
    });
    out.sort();
    out.dedup();
    out
}

/// What a suite's process may see of the job's environment: an allow-list of variables that
/// carry no credential (paths, locale, `CI`, the runner's and GitHub's context) and the names
/// in the `pass-env` input; everything else — tokens, `INPUT_*`, the runner's file commands
/// (`GITHUB_OUTPUT`, `GITHUB_ENV`...), `ACTIONS_*`, cloud credentials — is withheld. The
/// suite's own `env:` from the config is added by the runner of the suite.
pub const SUITE_ENV_ALLOWED: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_COLLATE",
    "LC_MESSAGES",
    "LC_NUMERIC",
    "LC_TIME",
    "TZ",
    "TERM",
    "TMPDIR",
    "TMP",
    "TEMP",
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_WORKSPACE",
    "GITHUB_REPOSITORY",
    "GITHUB_REPOSITORY_OWNER",
    "GITHUB_SHA",
    "GITHUB_REF",
    "GITHUB_REF_NAME",
    "GITHUB_REF_TYPE",
    "GITHUB_HEAD_REF",
    "GITHUB_BASE_REF",
    "GITHUB_EVENT_NAME",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_NUMBER",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_JOB",
    "GITHUB_WORKFLOW",
    "GITHUB_ACTOR",
    "GITHUB_SERVER_URL",
    "GITHUB_API_URL",
    "GITHUB_GRAPHQL_URL",
    "RUNNER_OS",
    "RUNNER_ARCH",
    "RUNNER_NAME",
    "RUNNER_TEMP",
    "RUNNER_TOOL_CACHE",
    "RUNNER_DEBUG",
    "ImageOS",
    "ImageVersion",
    "JAVA_HOME",
    "GOROOT",
    "GOPATH",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "DOTNET_ROOT",
    "VIRTUAL_ENV",
    "pythonLocation",
    "SYSTEMROOT",
    "COMSPEC",
    "PATHEXT",
    "WINDIR",
    "USERPROFILE",
];

/// The suites' environment (see [`SUITE_ENV_ALLOWED`]) from the job's: allowed names and the
/// `pass_env` names, in the job's order.
pub fn suite_env(vars: &[(String, String)], pass_env: &[String]) -> Vec<(String, String)> {
    vars.iter()
        .filter(|(k, _)| SUITE_ENV_ALLOWED.contains(&k.as_str()) || pass_env.contains(k))
        .cloned()
        .collect()
}

/// Builds the context from the environment's variables (tests pass their own).
pub fn from_vars(vars: &[(String, String)], cwd: &Path) -> Result<ActionContext, Error> {
    let get = |k: &str| {
        vars.iter()
            .rev()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
    };
    let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());
    let input = |name: &str| var(&format!("INPUT_{}", name.to_uppercase().replace(' ', "_")));
    let flag = |name: &str, default: bool| -> Result<bool, Error> {
        match input(name).as_deref().map(str::trim) {
            None => Ok(default),
            Some("true" | "True" | "TRUE" | "yes" | "1") => Ok(true),
            Some("false" | "False" | "FALSE" | "no" | "0") => Ok(false),
            Some(other) => Err(Error::Usage(format!(
                "input `{name}`: `{other}` is not a boolean (true/false)"
            ))),
        }
    };
    let defaults = Inputs::default();
    let max_annotations = match input("max-annotations") {
        None => defaults.max_annotations,
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| Error::Usage(format!("input `max-annotations`: `{v}` is not a number")))?,
    };
    let inputs = Inputs {
        github_token: input("github-token").map(|t| Secret::new(t.trim())),
        config: input("config").map(PathBuf::from),
        // `results` and its older name `junit`: both may be set (their globs add up).
        results: list(input("results"))
            .into_iter()
            .chain(list(input("junit")))
            .collect(),
        coverage: list(input("coverage")),
        base_ref: input("base-ref"),
        comment: match input("comment").as_deref().map(str::trim) {
            None => CommentMode::Always,
            Some(v) => CommentMode::parse(v).ok_or_else(|| {
                Error::Usage(format!(
                    "input `comment`: `{v}` is not one of always (true), changes, failures, off (false)"
                ))
            })?,
        },
        check_run: flag("check-run", true)?,
        check_name: input("check-name").unwrap_or(defaults.check_name),
        report_dir: input("report-dir")
            .map(PathBuf::from)
            .unwrap_or(defaults.report_dir),
        max_annotations,
        comment_author: input("comment-author"),
        environment: input("environment").map(|v| v.trim().to_owned()),
        evidence_dir: input("evidence-dir").map(|v| PathBuf::from(v.trim())),
        jira_url: input("jira-url").map(|v| v.trim().to_owned()),
        jira_email: input("jira-email").map(|v| v.trim().to_owned()),
        jira_api_token: input("jira-api-token").map(|v| Secret::new(v.trim())),
        linear_api_key: input("linear-api-key").map(|v| Secret::new(v.trim())),
        pass_env: list(input("pass-env")),
        leg: input("leg").map(|v| v.trim().to_owned()),
        merge: list(input("merge")),
    };
    let workspace = var("GITHUB_WORKSPACE")
        .map(PathBuf::from)
        .unwrap_or_else(|| cwd.to_owned());
    let repository = var("GITHUB_REPOSITORY").and_then(|r| {
        let (o, n) = r.split_once('/')?;
        Some((o.to_owned(), n.to_owned()))
    });
    let event_name = var("GITHUB_EVENT_NAME").unwrap_or_default();
    let event_path = var("GITHUB_EVENT_PATH").map(PathBuf::from);
    let sha = var("GITHUB_SHA");
    let (event, event_json) = match &event_path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
            let json: Value = serde_json::from_str(&text)
                .map_err(|e| Error::Usage(format!("{}: not JSON: {e}", p.display())))?;
            (parse_event(&event_name, &json, sha.as_deref()), Some(json))
        }
        None => (
            EventInfo {
                head_sha: sha.clone(),
                ..Default::default()
            },
            None,
        ),
    };
    let run_url = match (
        var("GITHUB_SERVER_URL"),
        var("GITHUB_REPOSITORY"),
        var("GITHUB_RUN_ID"),
    ) {
        (Some(s), Some(r), Some(id)) => {
            Some(format!("{}/{r}/actions/runs/{id}", s.trim_end_matches('/')))
        }
        _ => None,
    };
    let run_id = var("GITHUB_RUN_ID").map(|id| match var("GITHUB_RUN_ATTEMPT") {
        Some(a) => format!("{id}-{a}"),
        None => id,
    });
    let suite_environment = EnvVars(suite_env(vars, &inputs.pass_env));
    let retry_time_scale = var("CONTROLGATE_TEST_TIME_SCALE")
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(1.0);
    Ok(ActionContext {
        inputs,
        workspace,
        api_url: var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
        repository,
        event_name,
        event_path,
        event,
        event_json,
        git_ref: var("GITHUB_REF"),
        actor: var("GITHUB_ACTOR"),
        workflow: var("GITHUB_WORKFLOW"),
        job: var("GITHUB_JOB"),
        run_attempt: var("GITHUB_RUN_ATTEMPT"),
        runner_os: var("RUNNER_OS"),
        sha,
        step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
        output: var("GITHUB_OUTPUT").map(PathBuf::from),
        run_url,
        run_id,
        retry_time_scale,
        secrets: crate::redact::SecretValues::new(secrets_from(vars)),
        suite_env: suite_environment,
        env: EnvVars(vars.to_vec()),
    })
}

impl ActionContext {
    /// `owner/name`, when `GITHUB_REPOSITORY` is set.
    pub fn repository_name(&self) -> Option<String> {
        self.repository.as_ref().map(|(o, n)| format!("{o}/{n}"))
    }

    /// The run's identity for the report, the evidence bundle and the ledger entry; `report`
    /// adds the times, the controlgate version and the config digest.
    pub fn identity(&self) -> RunIdentity {
        RunIdentity {
            repository: self.repository_name(),
            event: Some(self.event_name.clone()).filter(|e| !e.is_empty()),
            git_ref: self.git_ref.clone(),
            head_sha: self.event.head_sha.clone(),
            base_sha: self.event.base_sha.clone(),
            pr_number: self.event.pr_number,
            actor: self.actor.clone(),
            workflow: self.workflow.clone(),
            job: self.job.clone(),
            run_id: self
                .run_id
                .as_deref()
                .map(|id| id.split('-').next().unwrap_or(id).to_owned()),
            run_attempt: self.run_attempt.clone(),
            run_url: self.run_url.clone(),
            environment: self.inputs.environment.clone(),
            runner_os: self.runner_os.clone(),
            ..RunIdentity::new()
        }
    }

    /// The change being tested, from the event payload; `None` for events that are not a change
    /// (`schedule`, `workflow_dispatch`, ...), which leaves `tickets.required` "not evaluated".
    /// Commit messages come from the push payload here; for pull requests the caller adds them
    /// from git.
    pub fn change_context(&self) -> Option<ChangeContext> {
        let ev = self.event_json.as_ref()?;
        change_context(
            &self.event_name,
            ev,
            &self.repository_name().unwrap_or_default(),
            self.event.pr_number,
        )
    }
}

/// See [`ActionContext::change_context`].
pub fn change_context(
    event_name: &str,
    ev: &Value,
    repository: &str,
    pr_number: Option<u64>,
) -> Option<ChangeContext> {
    let s = |v: &Value, path: &[&str]| str_at(v, path).unwrap_or_default();
    let default_branch = str_at(ev, &["repository", "default_branch"]);
    let is_default = |branch: &str| default_branch.as_deref() == Some(branch);
    let repository = if repository.is_empty() {
        s(ev, &["repository", "full_name"])
    } else {
        repository.to_owned()
    };
    match event_name {
        "pull_request"
        | "pull_request_target"
        | "pull_request_review"
        | "pull_request_review_comment" => {
            let pr = ev.get("pull_request")?;
            let labels = pr
                .get("labels")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|l| str_at(l, &["name"]))
                .collect();
            Some(ChangeContext {
                repository,
                pr_number,
                pr_title: s(pr, &["title"]),
                pr_body: s(pr, &["body"]),
                head_branch: s(pr, &["head", "ref"]),
                commit_messages: Vec::new(),
                labels,
                author: s(pr, &["user", "login"]),
                pr_url: s(pr, &["html_url"]),
                linked_issues: Vec::new(),
                merged: pr.get("merged").and_then(Value::as_bool).unwrap_or(false),
                base_is_default: is_default(&s(pr, &["base", "ref"])),
                pushed: None,
            })
        }
        "push" => {
            let git_ref = s(ev, &["ref"]);
            let branch = git_ref.strip_prefix("refs/heads/")?.to_owned();
            let commit_messages = ev
                .get("commits")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| str_at(c, &["message"]))
                .collect();
            Some(ChangeContext {
                repository,
                pr_number: None,
                head_branch: branch.clone(),
                commit_messages,
                author: str_at(ev, &["sender", "login"])
                    .or_else(|| str_at(ev, &["pusher", "name"]))
                    .unwrap_or_default(),
                pr_url: str_at(ev, &["compare"])
                    .or_else(|| str_at(ev, &["head_commit", "url"]))
                    .unwrap_or_default(),
                merged: true,
                base_is_default: is_default(&branch),
                // A new branch has an all-zero `before`: no previous tip.
                pushed: str_at(ev, &["before"])
                    .filter(|b| b.bytes().any(|c| c != b'0'))
                    .zip(str_at(ev, &["after"]))
                    .map(|(before, after)| crate::model::tickets::CommitRange { before, after }),
                ..Default::default()
            })
        }
        "merge_group" => {
            let base = s(ev, &["merge_group", "base_ref"]);
            let base = base.trim_start_matches("refs/heads/");
            Some(ChangeContext {
                repository,
                pr_number,
                head_branch: s(ev, &["merge_group", "head_ref"])
                    .trim_start_matches("refs/heads/")
                    .to_owned(),
                author: s(ev, &["sender", "login"]),
                base_is_default: is_default(base),
                ..Default::default()
            })
        }
        _ => None,
    }
}

/// Splits a multi-value input: one item per line or comma-separated, blanks dropped.
fn list(v: Option<String>) -> Vec<String> {
    v.map(|v| {
        v.split(['\n', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    })
    .unwrap_or_default()
}

fn str_at(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(String::from)
}

fn u64_at(v: &Value, path: &[&str]) -> Option<u64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_u64()
}

/// Reads the PR number, head and base from an event payload. `sha` (`GITHUB_SHA`) is the
/// fallback head for events that carry none.
pub fn parse_event(event_name: &str, ev: &Value, sha: Option<&str>) -> EventInfo {
    let fallback = sha.map(String::from);
    match event_name {
        "pull_request"
        | "pull_request_target"
        | "pull_request_review"
        | "pull_request_review_comment" => EventInfo {
            pr_number: u64_at(ev, &["pull_request", "number"]).or(u64_at(ev, &["number"])),
            head_sha: str_at(ev, &["pull_request", "head", "sha"]).or(fallback),
            base_ref: str_at(ev, &["pull_request", "base", "ref"]),
            base_sha: str_at(ev, &["pull_request", "base", "sha"]),
        },
        "push" => EventInfo {
            pr_number: None,
            head_sha: str_at(ev, &["after"]).or(fallback),
            base_ref: str_at(ev, &["ref"]).map(|r| r.trim_start_matches("refs/heads/").to_owned()),
            base_sha: str_at(ev, &["before"]).filter(|s| s.bytes().any(|b| b != b'0')),
        },
        "merge_group" => {
            let head_ref = str_at(ev, &["merge_group", "head_ref"]).unwrap_or_default();
            EventInfo {
                // `gh-readonly-queue/<base>/pr-<N>-<sha>` names the PR the group was built for.
                pr_number: head_ref
                    .rsplit('/')
                    .next()
                    .and_then(|s| s.strip_prefix("pr-"))
                    .and_then(|s| s.split('-').next())
                    .and_then(|n| n.parse().ok()),
                head_sha: str_at(ev, &["merge_group", "head_sha"]).or(fallback),
                base_ref: str_at(ev, &["merge_group", "base_ref"])
                    .map(|r| r.trim_start_matches("refs/heads/").to_owned()),
                base_sha: str_at(ev, &["merge_group", "base_sha"]),
            }
        }
        "workflow_run" => {
            let pr = ev
                .get("workflow_run")
                .and_then(|w| w.get("pull_requests"))
                .and_then(Value::as_array)
                .and_then(|a| a.first());
            EventInfo {
                pr_number: pr.and_then(|p| u64_at(p, &["number"])),
                head_sha: str_at(ev, &["workflow_run", "head_sha"]).or(fallback),
                base_ref: pr.and_then(|p| str_at(p, &["base", "ref"])),
                base_sha: pr.and_then(|p| str_at(p, &["base", "sha"])),
            }
        }
        _ => EventInfo {
            head_sha: fallback,
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    fn ctx(vars: &[(&str, &str)]) -> Result<ActionContext, Error> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_vars(&vars, Path::new("/cwd"))
    }

    #[test]
    fn inputs_keep_kebab_case_and_blank_is_unset() {
        let c = ctx(&[
            ("INPUT_GITHUB-TOKEN", "t0k"),
            ("INPUT_JUNIT", "a/*.xml\n b.xml ,c.xml\n"),
            ("INPUT_COMMENT", "false"),
            ("INPUT_CHECK-NAME", ""),
            ("GITHUB_REPOSITORY", "acme/app"),
            ("GITHUB_API_URL", "http://127.0.0.1:9/api/v3"),
        ])
        .unwrap();
        assert_eq!(
            c.inputs.github_token.as_ref().map(Secret::expose),
            Some("t0k")
        );
        // The token never shows in a debug print of the inputs.
        assert!(!format!("{:?}", c.inputs).contains("t0k"));
        assert_eq!(c.inputs.results, ["a/*.xml", "b.xml", "c.xml"]);
        let both = ctx(&[("INPUT_RESULTS", "go.json\n"), ("INPUT_JUNIT", "a.xml")]).unwrap();
        assert_eq!(both.inputs.results, ["go.json", "a.xml"]);
        assert_eq!(c.inputs.comment, CommentMode::Off);
        assert_eq!(c.inputs.check_name, "controlgate");
        assert_eq!(c.repository, Some(("acme".into(), "app".into())));
        assert_eq!(c.api_url, "http://127.0.0.1:9/api/v3");
        assert_eq!(c.workspace, Path::new("/cwd"));
        let e = ctx(&[("INPUT_COMMENT", "maybe")]).unwrap_err();
        assert!(e.to_string().contains("input `comment`"), "{e}");
    }

    #[test]
    fn pull_request_uses_head_not_merge_commit() {
        let ev = serde_json::json!({"number": 7, "pull_request": {"number": 7,
            "head": {"sha": "h".repeat(40)}, "base": {"ref": "main", "sha": "b".repeat(40)}}});
        for name in ["pull_request", "pull_request_target"] {
            let e = parse_event(name, &ev, Some("merge"));
            assert_eq!(e.pr_number, Some(7));
            assert_eq!(e.head_sha, Some("h".repeat(40)));
            assert_eq!(e.base_ref.as_deref(), Some("main"));
            assert_eq!(e.base_sha, Some("b".repeat(40)));
        }
    }

    #[test]
    fn push_merge_group_and_workflow_run() {
        let push =
            serde_json::json!({"ref": "refs/heads/main", "before": "0".repeat(40), "after": "a1"});
        let e = parse_event("push", &push, Some("x"));
        assert_eq!((e.pr_number, e.head_sha.as_deref()), (None, Some("a1")));
        assert_eq!(e.base_ref.as_deref(), Some("main"));
        assert_eq!(e.base_sha, None, "all-zero `before` is a new branch");

        let mg = serde_json::json!({"merge_group": {"head_sha": "m1", "head_ref":
            "refs/heads/gh-readonly-queue/main/pr-42-abc", "base_sha": "b1", "base_ref": "refs/heads/main"}});
        let e = parse_event("merge_group", &mg, None);
        assert_eq!(e.pr_number, Some(42));
        assert_eq!(e.head_sha.as_deref(), Some("m1"));
        assert_eq!(e.base_ref.as_deref(), Some("main"));

        let wr = serde_json::json!({"workflow_run": {"head_sha": "w1", "pull_requests":
            [{"number": 9, "base": {"ref": "main", "sha": "b9"}}]}});
        let e = parse_event("workflow_run", &wr, Some("x"));
        assert_eq!((e.pr_number, e.head_sha.as_deref()), (Some(9), Some("w1")));
        let fork = serde_json::json!({"workflow_run": {"head_sha": "w1", "pull_requests": []}});
        assert_eq!(parse_event("workflow_run", &fork, None).pr_number, None);
        assert_eq!(
            parse_event("schedule", &serde_json::json!({}), Some("s"))
                .head_sha
                .as_deref(),
            Some("s")
        );
    }

    /// A credential made of capitals and digits is a secret; a value naming a variable (set
    /// or not) and a boolean are not.
    #[test]
    fn capitals_and_digits_are_a_secret_a_variable_name_is_not() {
        let vars: Vec<(String, String)> = [
            ("DEPLOY_TOKEN", "8F3A9C21B7D04E6F"),
            ("PIN_PASSWORD", "20481024"),
            ("INPUT_TOKEN-ENV", "EVIDENCE_TOKEN"),
            ("STORE_TOKEN_VAR", "STORETOKEN2"),
            ("STORETOKEN2", "x"),
            ("SECRET_SWITCH", "true"),
            (
                "INPUT_GITHUB-TOKEN",
                "ghs_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            secrets_from(&vars),
            [
                "20481024",
                "8F3A9C21B7D04E6F",
                "ghs_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5"
            ]
        );
    }

    #[test]
    fn identity_and_secrets_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let ev = dir.path().join("event.json");
        std::fs::write(
            &ev,
            serde_json::json!({"number": 7, "pull_request": {"number": 7,
                "head": {"sha": "h1", "ref": "feature/ENG-1-x"}, "base": {"ref": "main", "sha": "b1"}}})
            .to_string(),
        )
        .unwrap();
        let ev = ev.to_string_lossy().into_owned();
        let c = ctx(&[
            ("GITHUB_REPOSITORY", "acme/app"),
            ("GITHUB_SERVER_URL", "https://github.example/"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_RUN_ATTEMPT", "3"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", &ev),
            ("GITHUB_REF", "refs/pull/7/merge"),
            ("GITHUB_ACTOR", "alice"),
            ("GITHUB_WORKFLOW", "ci"),
            ("GITHUB_JOB", "test"),
            ("RUNNER_OS", "Linux"),
            ("INPUT_ENVIRONMENT", "staging"),
            ("INPUT_JIRA-API-TOKEN", "jira-s3cret"),
            ("INPUT_LINEAR-API-KEY", "lin_api_s3cret"),
        ])
        .unwrap();
        let id = c.identity();
        assert_eq!(id.repository.as_deref(), Some("acme/app"));
        assert_eq!(id.event.as_deref(), Some("pull_request"));
        assert_eq!(id.git_ref.as_deref(), Some("refs/pull/7/merge"));
        assert_eq!(
            (id.head_sha.as_deref(), id.base_sha.as_deref()),
            (Some("h1"), Some("b1"))
        );
        assert_eq!(id.pr_number, Some(7));
        assert_eq!(
            (id.run_id.as_deref(), id.run_attempt.as_deref()),
            (Some("42"), Some("3"))
        );
        assert_eq!(
            id.run_url.as_deref(),
            Some("https://github.example/acme/app/actions/runs/42")
        );
        assert_eq!(id.environment.as_deref(), Some("staging"));
        assert_eq!(id.runner_os.as_deref(), Some("Linux"));
        assert_eq!(
            (id.actor.as_deref(), id.job.as_deref()),
            (Some("alice"), Some("test"))
        );
        let debug = format!("{c:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert_eq!(
            c.inputs.jira_api_token.as_ref().map(Secret::expose),
            Some("jira-s3cret")
        );
        let change = c.change_context().unwrap();
        assert_eq!(change.head_branch, "feature/ENG-1-x");
        assert_eq!(change.repository, "acme/app");
    }

    #[test]
    fn change_context_per_event() {
        let pr = serde_json::json!({"repository": {"default_branch": "main", "full_name": "a/b"},
            "pull_request": {"number": 3, "title": "ENG-1 x", "body": null, "merged": true,
            "html_url": "https://github.com/a/b/pull/3", "user": {"login": "bob"},
            "labels": [{"name": "no-ticket"}], "head": {"ref": "f"}, "base": {"ref": "main"}}});
        let c = change_context("pull_request", &pr, "", Some(3)).unwrap();
        assert_eq!((c.repository.as_str(), c.pr_number), ("a/b", Some(3)));
        assert_eq!((c.pr_title.as_str(), c.pr_body.as_str()), ("ENG-1 x", ""));
        assert_eq!(c.labels, ["no-ticket"]);
        assert_eq!(c.author, "bob");
        assert!(c.merged && c.base_is_default && c.is_release());

        let push = serde_json::json!({"ref": "refs/heads/main", "repository": {"default_branch": "main"},
            "sender": {"login": "carol"}, "compare": "https://github.com/a/b/compare/x...y",
            "commits": [{"message": "ENG-2 one"}, {"message": "two"}]});
        let c = change_context("push", &push, "a/b", None).unwrap();
        assert_eq!(c.commit_messages, ["ENG-2 one", "two"]);
        assert!(c.is_release());
        assert_eq!(c.author, "carol");
        assert_eq!(c.pushed, None, "no `before`/`after`: no range");
        let mut release = push.clone();
        release["before"] = "1".repeat(40).into();
        release["after"] = "2".repeat(40).into();
        let c = change_context("push", &release, "a/b", None).unwrap();
        assert_eq!(c.stable_id(), "controlgate:a/b@main:1111111..2222222");
        release["before"] = "0".repeat(40).into();
        let c = change_context("push", &release, "a/b", None).unwrap();
        assert_eq!(
            c.stable_id(),
            "controlgate:a/b@main",
            "a new branch has no previous tip"
        );
        let tag = serde_json::json!({"ref": "refs/tags/v1"});
        assert!(
            change_context("push", &tag, "a/b", None).is_none(),
            "a tag is no change"
        );
        assert!(change_context("schedule", &serde_json::json!({}), "a/b", None).is_none());
    }
}
