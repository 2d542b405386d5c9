//! `controlgate badge`: shields-style SVG badges of a branch's last run, read from the
//! verified ledger — the verdict, line coverage, and the SOC 2 controls evidenced. Badges are
//! never drawn from a ledger that does not verify.

use super::ledger::Entry;
use super::store::EvidenceStore;
use super::verify::{VerifyOptions, load_verified};
use crate::error::{Error, Result};
use controlgate_core::render::badge::{GREEN, GREY, RED, YELLOW, percent_color, svg};

/// What [`badge_store`] produced.
#[derive(Debug, Clone, PartialEq)]
pub enum BadgeOutcome {
    /// The entry the badges show and the files (`verdict.svg`, `coverage.svg`,
    /// `controls.svg`) with their SVG.
    Drawn {
        seq: u64,
        files: Vec<(String, String)>,
    },
    /// The ledger failed verification: no badge (exit 1).
    NotIntact(String),
}

/// The last run on `branch` that was not a pull request's (`ref` `refs/heads/<branch>`).
pub fn last_branch_run<'a>(entries: &'a [Entry], branch: &str) -> Option<&'a Entry> {
    let git_ref = format!("refs/heads/{branch}");
    entries
        .iter()
        .rev()
        .find(|e| e.run.pr_number.is_none() && e.run.git_ref.as_deref() == Some(&git_ref))
}

/// The three badges of `entry`. Pure.
pub fn badges(entry: &Entry) -> Vec<(String, String)> {
    let verdict = match entry.verdict.as_str() {
        "pass" => svg("controlgate", "passing", GREEN),
        "fail" => svg("controlgate", "failing", RED),
        other => svg("controlgate", other, GREY),
    };
    let coverage = match entry.coverage.as_ref().and_then(|c| c.percent) {
        Some(p) => svg("coverage", &format!("{p}%"), percent_color(p.as_f64())),
        None => svg("coverage", "unknown", GREY),
    };
    let total = entry.controls.len();
    let passing = entry.controls.iter().filter(|c| c.status == "pass").count();
    let failing = entry.controls.iter().any(|c| c.status == "fail");
    let color = match () {
        _ if total == 0 => GREY,
        _ if failing => RED,
        _ if passing == total => GREEN,
        _ => YELLOW,
    };
    let controls = svg(
        "SOC 2 controls",
        &if total == 0 {
            "none mapped".to_string()
        } else {
            format!("{passing} of {total} evidenced")
        },
        color,
    );
    vec![
        ("verdict.svg".into(), verdict),
        ("coverage.svg".into(), coverage),
        ("controls.svg".into(), controls),
    ]
}

/// Verifies the chain and draws the badges of `branch`'s last run.
pub fn badge_store(
    store: &dyn EvidenceStore,
    branch: &str,
    verify: &VerifyOptions,
) -> Result<BadgeOutcome> {
    let options = VerifyOptions {
        bundles: false,
        ..verify.clone()
    };
    let (outcome, entries) = load_verified(store, &options)?;
    if !outcome.intact {
        return Ok(BadgeOutcome::NotIntact(outcome.summary()));
    }
    let entry = last_branch_run(&entries, branch).ok_or_else(|| {
        Error::Usage(format!(
            "the ledger at {} holds no run of branch `{branch}` (ref refs/heads/{branch}, not \
             a pull request; runs of a local `controlgate report` record no ref): no badge to \
             draw",
            outcome.location
        ))
    })?;
    Ok(BadgeOutcome::Drawn {
        seq: entry.seq,
        files: badges(entry),
    })
}
