//! Who ran what, when, against which environment: the run identity recorded in the bundle
//! manifest, in every ledger entry and (by the lead) in `report.json` as `run`.

use serde::{Deserialize, Serialize};

/// The identity of one controlgate run. Plain data: every field is optional because a local run
/// has no workflow; the CI integration fills what the platform provides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunIdentity {
    /// `owner/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// `push`, `pull_request`, `workflow_dispatch`, `local`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_attempt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
    /// The environment name given as an input (e.g. `staging`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_os: Option<String>,
    /// RFC 3339, UTC (`2025-01-31T12:00:00Z`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// RFC 3339, UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// The controlgate version that made the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controlgate_version: Option<String>,
    /// `sha256:<hex>` of the config file as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<String>,
}

impl RunIdentity {
    /// An identity with this crate's version filled in.
    pub fn new() -> Self {
        RunIdentity {
            controlgate_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            ..RunIdentity::default()
        }
    }
}

crate::redact_fields!(
    RunIdentity: repository,
    event,
    git_ref,
    head_sha,
    base_sha,
    actor,
    workflow,
    job,
    run_id,
    run_attempt,
    run_url,
    environment,
    runner_os,
    started_at,
    finished_at,
    controlgate_version,
    config_digest
);
