//! The request for one `report` run: every input named as plain data (paths, refs, secrets,
//! the change and the run's identity), built by the binary or the Action, never by the core.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::model::controls::ControlId;
use crate::model::report::SuiteRecord;
use crate::model::run::RunIdentity;
use crate::render;

/// Default config location, relative to the working directory.
pub const DEFAULT_CONFIG: &str = ".github/controlgate.yml";

/// Everything `controlgate report` needs, as plain data (no env, no CLI types).
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// JUnit XML globs, relative to `workdir` unless absolute.
    pub junit: Vec<String>,
    /// Explicit config file; `None` uses `.github/controlgate.yml` when it exists.
    pub config: Option<PathBuf>,
    pub workdir: PathBuf,
    pub generated_at: DateTime<Utc>,
    /// Character budget of the Markdown summary.
    pub markdown_budget: usize,
    /// HAR files or globs (API coverage; needs `api.specs` in the config).
    pub har: Vec<String>,
    /// Exchange logs (JSON Lines) or globs (API coverage).
    pub api_log: Vec<String>,
    /// The base (merge-base) API description's root documents, for drift.
    pub api_base_spec: Vec<PathBuf>,
    /// Coverage report globs (LCOV, Cobertura, JaCoCo, Clover; detected by content).
    pub coverage: Vec<String>,
    /// Base coverage report globs (`--base-coverage`), for the project delta.
    pub base_coverage: Vec<String>,
    /// `--base REF`; `None` picks the event's PR base, else `origin/HEAD`'s branch, else `main`.
    pub base_ref: Option<String>,
    /// The PR base branch from the GitHub event, when known.
    pub event_base_ref: Option<String>,
    /// `--diff FILE`: changed lines from a unified diff instead of git.
    pub diff: Option<PathBuf>,
    /// Repository root for coverage paths and git (default: `workdir`).
    pub repo: Option<PathBuf>,
    /// `$GITHUB_WORKSPACE`, stripped from report paths.
    pub workspace: Option<String>,
    /// Exact secret values of this run (gathered at the edge: tokens, `CONTROLGATE_SECRETS`,
    /// store credentials), redacted with their encodings from everything the run outputs,
    /// besides the built-in secret shapes.
    pub secrets: crate::redact::SecretValues,
    /// The environment, gathered at the edge: an evidence store's credentials come from it.
    pub env: crate::model::env::EnvVars,
    /// The change (PR or push) being reported on: finds its tickets for `tickets.required`.
    /// `None` (the offline `report` command) leaves that gate informational, "not evaluated".
    pub change: Option<crate::tickets::ChangeContext>,
    /// The run's identity (repository, event, SHAs, workflow run...); `report` adds the
    /// times, the controlgate version and the config digest.
    pub identity: Option<RunIdentity>,
    /// `--evidence DIR`: a `dir` evidence store replacing the config's `evidence.store`.
    pub evidence_dir: Option<PathBuf>,
    /// Suites `controlgate run` executed: their result globs, default controls and record.
    pub suites: Vec<SuiteInput>,
    /// Heading of the Markdown summary (the check name).
    pub title: Option<String>,
    /// A merge of matrix legs (`controlgate merge`): which legs came, with how many result
    /// files each (for `expect:`). `None`: not a merge.
    pub legs: Option<Vec<crate::analyze::gates::LegSeen>>,
}

/// One executed suite's results, for [`report`].
#[derive(Debug, Clone)]
pub struct SuiteInput {
    pub record: SuiteRecord,
    /// Absolute directory the `junit` globs are relative to.
    pub workdir: PathBuf,
    pub junit: Vec<String>,
    /// Controls every test of the suite evidences.
    pub controls: Vec<ControlId>,
    /// Files matching the globs that the run did not write (left by an earlier run): ignored.
    pub stale: Vec<PathBuf>,
    /// The suite's `coverage` globs that matched no file this run wrote.
    pub missing_coverage: Vec<String>,
}

impl ReportRequest {
    pub fn new(junit: Vec<String>, workdir: PathBuf) -> Self {
        ReportRequest {
            junit,
            config: None,
            workdir,
            generated_at: Utc::now(),
            markdown_budget: render::markdown::DEFAULT_BUDGET,
            har: Vec::new(),
            api_log: Vec::new(),
            api_base_spec: Vec::new(),
            coverage: Vec::new(),
            base_coverage: Vec::new(),
            base_ref: None,
            event_base_ref: None,
            diff: None,
            repo: None,
            workspace: None,
            suites: Vec::new(),
            title: None,
            legs: None,
            change: None,
            identity: None,
            evidence_dir: None,
            secrets: Default::default(),
            env: Default::default(),
        }
    }

    /// The repository and the base ref changes are measured against: `--base`, else the
    /// event's base branch, else the remote's default branch.
    pub fn git_base(&self) -> (PathBuf, String) {
        let repo = self.repo.clone().unwrap_or_else(|| self.workdir.clone());
        let base_ref = match &self.base_ref {
            Some(r) => r.clone(),
            None => crate::git::default_base_ref(&repo, self.event_base_ref.as_deref()),
        };
        (repo, base_ref)
    }

    /// The evidence configuration in force: `--evidence DIR` (a `dir` store) wins over the
    /// config file's `evidence:` section; neither means nothing is retained.
    pub fn evidence(&self, config: &Config) -> Option<crate::retain::EvidenceConfig> {
        match &self.evidence_dir {
            Some(dir) => Some(crate::retain::EvidenceConfig {
                store: crate::retain::StoreConfig::Dir { path: dir.clone() },
                ..config.evidence.clone().unwrap_or_default()
            }),
            None => config.evidence.clone(),
        }
    }
}
