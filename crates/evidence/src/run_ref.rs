//! A run as the audit and its reports refer to it: the ledger entry's identity and where its
//! bundle is.

use serde::Serialize;

use super::ledger::Entry;

/// A run referred to from the audit, with what is needed to open its bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRef {
    pub seq: u64,
    pub time: String,
    pub entry_digest: String,
    pub verdict: String,
    pub pr: Option<u64>,
    pub head_sha: Option<String>,
    pub git_ref: Option<String>,
    pub run_url: Option<String>,
    pub bundle: String,
    /// Where the bundle is; `manifest.json` inside it lists every file with its SHA-256.
    pub location: String,
}

pub fn run_ref(e: &Entry, locate: &dyn Fn(&str) -> String) -> RunRef {
    RunRef {
        seq: e.seq,
        time: e.time.clone(),
        entry_digest: e.digest.clone(),
        verdict: e.verdict.clone(),
        pr: e.run.pr_number,
        head_sha: e.run.head_sha.clone(),
        git_ref: e.run.git_ref.clone(),
        run_url: e.run.run_url.clone(),
        bundle: e.bundle.clone(),
        location: locate(&e.bundle),
    }
}
