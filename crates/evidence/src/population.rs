//! Population completeness: the changes that reached the default branch in the period (merged
//! pull requests and direct pushes, listed by the forge) joined with the ledger. A sample is
//! only valid over a complete population, so every change the ledger cannot account for is an
//! exception: merged without any ledger entry, merged with a failing verdict on its head,
//! merged without a ticket, or merged at a head commit no run tested. Pure.

use serde::Serialize;

use super::ledger::Entry;
use super::run_ref::{RunRef, run_ref};
use crate::model::population::MergedChange;

/// The changes of the period and where they were listed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Population {
    pub source: String,
    /// The repository (`owner/name`) the changes were listed for: only its ledger entries
    /// are evidence for them.
    pub repository: String,
    pub changes: Vec<MergedChange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// No ledger entry for the PR (by number) or for its head commit.
    NoEvidence,
    /// The last run on the merged head commit failed its gates.
    FailingVerdict,
    /// No run of the change named a ticket.
    NoTicket,
    /// Runs exist, but none tested the commit that was merged.
    UntestedHead,
}

impl ExceptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::NoEvidence => "no_evidence",
            ExceptionKind::FailingVerdict => "failing_verdict",
            ExceptionKind::NoTicket => "no_ticket",
            ExceptionKind::UntestedHead => "untested_head",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationException {
    pub kind: ExceptionKind,
    pub change: MergedChange,
    pub detail: String,
    /// The run the exception is about (the last run of the change), when there is one.
    pub run: Option<RunRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationReport {
    /// Where the population was listed from (`github`).
    pub source: String,
    pub changes: u64,
    pub pull_requests: u64,
    pub direct_pushes: u64,
    /// Changes with at least one ledger entry.
    pub with_evidence: u64,
    pub exceptions: Vec<PopulationException>,
}

/// `change`'s label: `PR #12`, or `push abc123def456`.
pub fn change_label(change: &MergedChange) -> String {
    match change.pr {
        Some(pr) => format!("PR #{pr}"),
        None => format!(
            "push {}",
            change.head_sha.get(..12).unwrap_or(&change.head_sha)
        ),
    }
}

/// Joins the period's `changes` of `repository` with every verified ledger entry of that
/// repository (a PR's runs may predate the period).
pub fn join(
    changes: &[MergedChange],
    repository: &str,
    entries: &[Entry],
    source: &str,
    locate: &dyn Fn(&str) -> String,
) -> PopulationReport {
    let mut exceptions = Vec::new();
    let mut with_evidence = 0;
    for change in changes {
        // PR numbers and even commits are shared across repositories (forks, another
        // repository's ledger under a misconfigured store): a run of another repository is
        // no evidence for this one's change.
        let runs: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.repository == repository)
            .filter(|e| match change.pr {
                Some(pr) => {
                    e.run.pr_number == Some(pr)
                        || e.run.head_sha.as_deref() == Some(&change.head_sha)
                }
                None => e.run.head_sha.as_deref() == Some(&change.head_sha),
            })
            .collect();
        let mut add = |kind, detail: String, run: Option<&Entry>| {
            exceptions.push(PopulationException {
                kind,
                change: change.clone(),
                detail,
                run: run.map(|e| run_ref(e, locate)),
            })
        };
        let Some(last) = runs.last().copied() else {
            add(
                ExceptionKind::NoEvidence,
                format!(
                    "{} reached the branch at {} with no ledger entry",
                    change_label(change),
                    change.merged_at
                ),
                None,
            );
            continue;
        };
        with_evidence += 1;
        let on_head = runs
            .iter()
            .rev()
            .find(|e| e.run.head_sha.as_deref() == Some(&change.head_sha));
        match on_head {
            None => add(
                ExceptionKind::UntestedHead,
                format!(
                    "merged at head {}, but the last run (entry {}) tested {}",
                    short(&change.head_sha),
                    last.seq,
                    last.run
                        .head_sha
                        .as_deref()
                        .map_or("an unknown commit", short)
                ),
                Some(last),
            ),
            Some(e) if e.verdict != "pass" => add(
                ExceptionKind::FailingVerdict,
                format!(
                    "merged with verdict `{}` on its head {} (entry {})",
                    e.verdict,
                    short(&change.head_sha),
                    e.seq
                ),
                Some(e),
            ),
            Some(_) => {}
        }
        if runs.iter().all(|e| e.tickets.is_empty()) {
            add(
                ExceptionKind::NoTicket,
                format!("none of its {} run(s) named a ticket", runs.len()),
                Some(last),
            );
        }
    }
    PopulationReport {
        source: source.to_string(),
        changes: changes.len() as u64,
        pull_requests: changes.iter().filter(|c| c.pr.is_some()).count() as u64,
        direct_pushes: changes.iter().filter(|c| c.pr.is_none()).count() as u64,
        with_evidence,
        exceptions,
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, repository: &str, pr: u64, head: &str) -> Entry {
        Entry {
            format: crate::ledger::ENTRY_FORMAT.into(),
            seq,
            time: "2026-03-01T10:00:00Z".into(),
            repository: repository.into(),
            run: crate::model::run::RunIdentity {
                repository: Some(repository.into()),
                pr_number: Some(pr),
                head_sha: Some(head.into()),
                ..Default::default()
            },
            bundle: "b".repeat(64),
            verdict: "pass".into(),
            controls: Vec::new(),
            coverage: None,
            api: None,
            tickets: vec!["PROJ-1".into()],
            tests: None,
            prev: crate::ledger::GENESIS.into(),
            digest: "d".repeat(64),
        }
    }

    fn change(pr: u64, head: &str) -> MergedChange {
        MergedChange {
            pr: Some(pr),
            title: format!("Change {pr}"),
            head_sha: head.into(),
            merge_sha: None,
            merged_at: "2026-03-02T10:00:00Z".into(),
            by: None,
            url: None,
        }
    }

    #[test]
    fn runs_of_another_repository_are_no_evidence_for_this_ones_changes() {
        let head = "a".repeat(40);
        // Another repository's PR 5, on the same head commit (a fork's PR, say).
        let entries = [entry(1, "evil/other", 5, &head)];
        let report = join(&[change(5, &head)], "acme/app", &entries, "github", &|k| {
            k.to_owned()
        });
        assert_eq!(report.with_evidence, 0);
        let kinds: Vec<ExceptionKind> = report.exceptions.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [ExceptionKind::NoEvidence]);
        // This repository's own run is.
        let entries = [entry(1, "acme/app", 5, &head)];
        let report = join(&[change(5, &head)], "acme/app", &entries, "github", &|k| {
            k.to_owned()
        });
        assert_eq!(report.with_evidence, 1);
        assert!(report.exceptions.is_empty(), "{:?}", report.exceptions);
    }
}
