//! Helpers for the coverage tests: temp git repos, the vendored generator, diff-cover.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use controlgate::gather::coverage::{ChangeSource, CoverageRequest, ReportInput, analyze};
use controlgate::model::coverage::CoverageSection;

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A tool from the test virtualenv; fails (never skips) when it is missing.
pub fn venv_bin(name: &str) -> PathBuf {
    let Some(venv) = std::env::var_os("CONTROLGATE_TEST_VENV") else {
        panic!(
            "CONTROLGATE_TEST_VENV is not set: run ./scripts/test (it installs {name} into .venv)"
        );
    };
    let p = PathBuf::from(venv).join("bin").join(name);
    assert!(
        p.is_file(),
        "{} is missing: run ./scripts/test (installs scripts/requirements-test.txt)",
        p.display()
    );
    p
}

/// Runs git with fixed identity and dates; panics on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.autocrlf=false",
        ])
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_AUTHOR_DATE", "2024-06-01T10:00:00+00:00")
        .env("GIT_COMMITTER_DATE", "2024-06-01T10:00:00+00:00")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the vendored `bench/gen.py`; returns (repo, reports dir).
pub fn generate(dir: &Path, preset: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
    let repo = dir.join("repo");
    let reports = dir.join("reports");
    let out = Command::new("python3")
        .arg(manifest_dir().join("bench/gen.py"))
        .args(["--preset", preset, "--no-junit", "--repo"])
        .arg(&repo)
        .arg("--reports")
        .arg(&reports)
        .args(extra)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "gen.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (repo, reports)
}

pub fn input(path: &Path) -> ReportInput {
    ReportInput {
        path: path.to_path_buf(),
        bytes: std::fs::read(path).expect("report readable").into(),
    }
}

pub fn ours(repo: &Path, base: &str, reports: &[&Path]) -> CoverageSection {
    let mut req = CoverageRequest::new(
        repo,
        ChangeSource::Git {
            base_ref: base.into(),
        },
    );
    req.reports = reports.iter().map(|p| input(p)).collect();
    analyze(&req).unwrap_or_else(|e| panic!("controlgate failed: {e}"))
}

/// Per file: (covered lines, uncovered lines), plus diff-cover's totals.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub files: BTreeMap<String, (u64, u64, Vec<String>)>,
    pub measured: u64,
    pub uncovered: u64,
    pub changed: Option<u64>,
}

pub fn diff_cover(repo: &Path, base: &str, reports: &[&Path], out_dir: &Path) -> Answer {
    answer_from_json(&diff_cover_json(repo, base, reports, out_dir, &[]))
}

/// diff-cover's JSON report (`--format=json:…`) on `reports`, with `extra` arguments.
pub fn diff_cover_json(
    repo: &Path,
    base: &str,
    reports: &[&Path],
    out_dir: &Path,
    extra: &[&str],
) -> serde_json::Value {
    let json = out_dir.join("diff-cover.json");
    let out = Command::new(venv_bin("diff-cover"))
        .current_dir(repo)
        .args(reports)
        .arg(format!("--compare-branch={base}"))
        .arg(format!("--format=json:{}", json.display()))
        .arg("-q")
        .args(extra)
        .output()
        .expect("diff-cover runs");
    assert!(
        out.status.success(),
        "diff-cover failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("json")
}

/// The [`Answer`] in diff-cover's JSON report.
pub fn answer_from_json(v: &serde_json::Value) -> Answer {
    let mut files = BTreeMap::new();
    if let Some(stats) = v["src_stats"].as_object() {
        for (path, s) in stats {
            let lines = |k: &str| -> Vec<u32> {
                s[k].as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_u64())
                            .map(|x| x as u32)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let covered = lines("covered_lines");
            let mut viol = lines("violation_lines");
            viol.sort_unstable();
            let measured = (covered.len() + viol.len()) as u64;
            if measured > 0 {
                files.insert(
                    path.clone(),
                    (
                        covered.len() as u64,
                        measured,
                        controlgate::analyze::coverage::line_ranges(&viol),
                    ),
                );
            }
        }
    }
    Answer {
        files,
        measured: v["total_num_lines"].as_u64().unwrap_or(0),
        uncovered: v["total_num_violations"].as_u64().unwrap_or(0),
        changed: v["num_changed_lines"].as_u64(),
    }
}

pub fn answer_of(s: &CoverageSection) -> Answer {
    Answer {
        files: s
            .patch
            .files
            .iter()
            .filter(|f| f.measured > 0)
            .map(|f| {
                (
                    f.path.clone(),
                    (f.covered, f.measured, f.uncovered_ranges.clone()),
                )
            })
            .collect(),
        measured: s.patch.measured,
        uncovered: s.patch.measured - s.patch.covered,
        changed: Some(s.patch.changed),
    }
}
