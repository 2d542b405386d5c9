//! Changed lines agree with the git CLI (issue 14): generated histories (`bench/git_cases.rs`:
//! renames at every similarity from 20 to 100 %, copies, mode changes, CRLF, moved blocks,
//! repeated lines, odd paths, a moving `main`) read by controlgate and by an independent
//! parser of `git diff -M -U0 main...HEAD`. `bench/git_differential.rs` runs any number.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};

#[path = "../../bench/git_cases.rs"]
mod git_cases;

type Lines = BTreeMap<String, Vec<u32>>;

/// The oracle's changed lines for each repository.
fn oracle(repos: &[std::path::PathBuf]) -> BTreeMap<String, Lines> {
    let mut child = Command::new("python3")
        .args(["-c", git_cases::ORACLE_PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let list: Vec<String> = repos.iter().map(|r| r.display().to_string()).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&list).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the oracle failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ours(repo: &std::path::Path) -> Lines {
    let g = controlgate::git::changes(repo, "main", false, 50).unwrap();
    g.files
        .into_iter()
        .filter(|f| !f.added_lines.is_empty())
        .map(|f| (f.path, f.added_lines))
        .collect()
}

#[test]
fn changed_lines_equal_git_diff_on_120_generated_histories() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<(u64, std::path::PathBuf, Vec<String>)> = (1..=120)
        .map(|seed| {
            let (repo, ops) = git_cases::generate(tmp.path(), seed);
            (seed, repo, ops)
        })
        .collect();
    let repos: Vec<_> = cases.iter().map(|(_, r, _)| r.clone()).collect();
    let expected = oracle(&repos);
    let mut renames = 0;
    for (seed, repo, ops) in &cases {
        let want = &expected[&repo.display().to_string()];
        let got = ours(repo);
        assert_eq!(&got, want, "case {seed} ({ops:?}) disagrees with git diff");
        renames += ops.iter().filter(|o| o.starts_with("rename")).count();
    }
    // The generator exercised what it claims (a change in it must not hollow the test out).
    assert!(renames >= 40, "{renames} renames");
    assert!(expected.values().map(|f| f.len()).sum::<usize>() > 150);
}
