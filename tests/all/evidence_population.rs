//! `audit --population github`: the period's merged pull requests and direct pushes, listed
//! from the GitHub stand-in (Prism validating against GitHub's OpenAPI description, paged),
//! joined with the ledger; exactly the changes the ledger cannot account for are exceptions.

use std::path::Path;
use std::process::Output;

use chrono::TimeZone;
use controlgate::retain::{DirStore, WriteOptions, write_evidence_with};
use serde_json::Value;

use crate::cli::bin;
use crate::evidence::sample_input;
use crate::evidence_cli::exits;
use crate::github_fake::{FakeCommit, FakePull, stand};

fn sha(tag: &str, i: u64) -> String {
    let s = controlgate::retain::canonical::sha256_hex(format!("{tag}{i}").as_bytes());
    s[..40].to_string()
}

fn time(day: u32, hour: u32) -> String {
    chrono::Utc
        .with_ymd_and_hms(2026, 1, 1, hour, 0, 0)
        .unwrap()
        .checked_add_days(chrono::Days::new(u64::from(day)))
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The stand-in repository `name` (one per test) and its ledger: 50 PRs merged in 2026 (PR i on day 3i), one merged in 2025 (outside the period), one
/// direct push; PR 10 was merged with a merge commit, so its branch's two commits are on main
/// too. The ledger holds a passing run with a ticket on each PR's head, except: PR 7 never
/// ran, PR 19's run on its head failed, PR 28's runs named no ticket, PR 41 was tested at an
/// older commit than the one merged.
fn history(name: &str, store: &Path) -> String {
    let repo = stand().repo(name, |st| {
        st.page_size = 20;
        for i in 1..=50u64 {
            let day = 3 * i as u32;
            let commits = if i == 10 {
                vec![sha("feature", 1), sha("feature", 2)]
            } else {
                vec![]
            };
            for c in &commits {
                st.branch_commits.push(FakeCommit {
                    sha: c.clone(),
                    date: time(day, 8),
                    message: "work on the feature".into(),
                });
            }
            st.merged_pulls.push(FakePull {
                number: i,
                title: format!("Change {i}"),
                head_sha: sha("head", i),
                merge_sha: sha("merge", i),
                commits,
                merged_at: time(day, 12),
                updated_at: time(day, 13),
            });
            st.branch_commits.push(FakeCommit {
                sha: sha("merge", i),
                date: time(day, 12),
                message: format!("Change {i} (#{i})"),
            });
        }
        st.merged_pulls.push(FakePull {
            number: 99,
            title: "Last year's change".into(),
            head_sha: sha("head", 99),
            merge_sha: sha("merge", 99),
            commits: vec![],
            merged_at: "2025-06-01T12:00:00Z".into(),
            updated_at: "2025-06-01T13:00:00Z".into(),
        });
        st.branch_commits.push(FakeCommit {
            sha: sha("push", 1),
            date: time(200, 9),
            message: "Hotfix pushed directly\n\nwith a body".into(),
        });
    });
    let store = DirStore::new(store);
    // Entries an hour apart, in the order they are written (verify checks time goes forward).
    let written = std::cell::Cell::new(0i64);
    let write = |i: u64, pr: Option<u64>, head: String, verdict: &str, tickets: Vec<String>| {
        let mut input = sample_input(&repo, i);
        input.identity.pr_number = pr;
        input.identity.head_sha = Some(head);
        input.verdict = verdict.into();
        input.tickets = tickets;
        written.set(written.get() + 1);
        let now = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
            + chrono::Duration::hours(written.get());
        let options = WriteOptions {
            now: Some(now),
            ..WriteOptions::default()
        };
        write_evidence_with(&store, &input, &options).unwrap();
    };
    for i in 1..=50u64 {
        let ticket = vec![format!("PROJ-{i}")];
        match i {
            7 => {}
            19 => {
                write(i, Some(i), sha("old", i), "pass", ticket.clone());
                write(100 + i, Some(i), sha("head", i), "fail", ticket);
            }
            28 => write(i, Some(i), sha("head", i), "pass", vec![]),
            41 => write(i, Some(i), sha("old", i), "pass", ticket),
            _ => write(i, Some(i), sha("head", i), "pass", ticket),
        }
    }
    write(500, None, sha("push", 1), "pass", vec!["OPS-1".into()]);
    repo
}

fn audit(dir: &Path, repo: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "audit",
        "--store",
        "ev",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--population",
        "github",
        "--repository",
        repo,
    ];
    args.extend_from_slice(extra);
    bin()
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITHUB_TOKEN", "ghs_populationtoken0123456789")
        .env("GITHUB_API_URL", &stand().prism_url)
        .args(&args)
        .output()
        .unwrap()
}

#[test]
fn the_four_kinds_of_exception_and_only_they_are_reported_across_pages() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let repo = history("population", &d.join("ev"));
    let o = audit(d, &repo, &["--format", "json"]);
    exits(&o, 0);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = &report["population"];
    assert_eq!(p["source"], "github");
    assert_eq!(
        (
            &p["changes"],
            &p["pull_requests"],
            &p["direct_pushes"],
            &p["with_evidence"]
        ),
        (&51.into(), &50.into(), &1.into(), &50.into()),
        "50 PRs and the push (PR 99 is outside the period, PR 10's branch commits are not pushes); all but PR 7 have runs: {p}"
    );
    let found: Vec<(String, Option<u64>)> = p["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["change"]["pr"].as_u64(),
            )
        })
        .collect();
    let mut found_sorted = found.clone();
    found_sorted.sort_by_key(|(_, pr)| *pr);
    assert_eq!(
        found_sorted,
        [
            ("no_evidence".to_string(), Some(7)),
            ("failing_verdict".to_string(), Some(19)),
            ("no_ticket".to_string(), Some(28)),
            ("untested_head".to_string(), Some(41)),
        ]
    );

    stand().with(&repo, |st| {
        let pages: Vec<&str> = st
            .requests
            .iter()
            .filter(|r| r.path.contains("/pulls?"))
            .map(|r| r.path.as_str())
            .collect();
        assert!(
            pages.iter().any(|p| p.contains("page=3")),
            "the PR list is read past its first pages: {pages:?}"
        );
        assert!(st.unexpected.is_empty(), "{:?}", st.unexpected);
    });
    assert_eq!(stand().violations(&repo), Vec::<String>::new());

    // --fail-on-exceptions turns them into the exit status; the other formats show them.
    exits(&audit(d, &repo, &["--fail-on-exceptions"]), 1);
    let md = audit(d, &repo, &["--format", "markdown"]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("## Population (github)") && md.contains("| untested_head | PR #41 |"),
        "{md}"
    );
    let csv = audit(d, &repo, &["--format", "csv"]);
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert_eq!(
        csv.lines().filter(|l| l.starts_with("no_ticket,")).count(),
        1,
        "{csv}"
    );
    let html = audit(d, &repo, &["--format", "html"]);
    let html = String::from_utf8_lossy(&html.stdout);
    assert_eq!(html.matches("<tr data-kind=").count(), 4);
}

#[test]
fn a_population_that_cannot_be_listed_is_an_error_not_an_empty_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let repo = history("population-fault", &d.join("ev"));
    stand().with(&repo, |st| {
        st.faults.push(crate::github_fake::Fault {
            method: "GET",
            path_contains: "/commits?",
            status: 404,
            headers: vec![],
            message: "Not Found",
            apply: false,
        })
    });
    let o = audit(d, &repo, &["--format", "json"]);
    exits(&o, 2);
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("listing commits") && err.contains("404"),
        "{err}"
    );
}
