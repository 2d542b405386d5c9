//! Patch coverage on real reports of a project whose change renames, grows, adds, deletes,
//! flips line endings and moves blocks (issue 14; `tests/fixtures/coverage/rename-project`,
//! written by coverage.py, jest with istanbul and V8, gcovr): file by file equal to diff-cover
//! run live and to its recorded answers; JUnit totals equal the tests written.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::coverage_util::{Answer, answer_of, manifest_dir, ours, venv_bin};

fn fixture() -> PathBuf {
    manifest_dir().join("tests/fixtures/coverage/rename-project")
}

/// git isolated from the developer's config (quotePath, renames, autocrlf would change it).
fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(["-c", "core.autocrlf=false", "-c", "commit.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// The repository the README describes: `base/` on main, `head/` on feature.
fn repo(tmp: &Path) -> PathBuf {
    let repo = tmp.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    copy_tree(&fixture().join("base"), &repo);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "base"]);
    git(&repo, &["checkout", "-qb", "feature"]);
    git(&repo, &["rm", "-rq", "."]);
    copy_tree(&fixture().join("head"), &repo);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "head"]);
    repo
}

/// diff-cover as a user runs it, with `core.quotePath=false`: with git's default quoting it
/// keeps `"js/src/caf\303\251 menu.js"` escaped and silently drops that file (its own bug;
/// controlgate reads git's quoting).
fn diff_cover(repo: &Path, report: &Path, out: &Path) -> Answer {
    let json = out.join("dc.json");
    let o = Command::new(venv_bin("diff-cover"))
        .current_dir(repo)
        .arg(report)
        .arg("--compare-branch=main")
        .arg(format!("--format=json:{}", json.display()))
        .arg("-q")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "core.quotePath")
        .env("GIT_CONFIG_VALUE_0", "false")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "diff-cover: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    answer(&serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap())
}

/// diff-cover's JSON (live, or recorded in expected.json) as an [`Answer`].
fn answer(v: &Value) -> Answer {
    let mut files = std::collections::BTreeMap::new();
    for (path, s) in v["src_stats"].as_object().unwrap() {
        let lines = |k: &str| -> Vec<u32> {
            s[k].as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect()
        };
        let (covered, mut viol) = (lines("covered_lines"), lines("violation_lines"));
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
    Answer {
        files,
        measured: v["total_num_lines"].as_u64().unwrap(),
        uncovered: v["total_num_violations"].as_u64().unwrap(),
        changed: None,
    }
}

const REPORTS: [&str; 7] = [
    "reports/python/lcov.info",
    "reports/python/coverage.xml",
    "reports/js/istanbul/lcov.info",
    "reports/js/istanbul/cobertura-coverage.xml",
    "reports/js/v8/lcov.info",
    "reports/js/v8/cobertura-coverage.xml",
    "reports/c/cobertura.xml",
];

#[test]
fn patch_coverage_equals_diff_cover_on_real_reports_of_a_renaming_change() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo(tmp.path());
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixture().join("expected.json")).unwrap()).unwrap();
    for report in REPORTS {
        let path = fixture().join(report);
        let mut got = answer_of(&ours(&repo, "main", &[&path]));
        got.changed = None;
        let live = diff_cover(&repo, &path, tmp.path());
        assert_eq!(got, live, "{report}: controlgate vs diff-cover");
        let recorded = answer(&expected["diff_cover"]["quotepath_false"][report]);
        assert_eq!(
            got, recorded,
            "{report}: controlgate vs the recorded answer"
        );
    }
    // The rename that git does not call a rename (4 → 13 lines, under 50 % similar): every
    // measured line of the new file is changed, as diff-cover says.
    let s = ours(
        &repo,
        "main",
        &[&fixture().join("reports/python/lcov.info")],
    );
    let authn = s
        .patch
        .files
        .iter()
        .find(|f| f.path == "py/shop/authn.py")
        .unwrap();
    assert_eq!((authn.covered, authn.measured), (9, 11), "{authn:?}");
    // The slider git places with its indent heuristic (lines 36-39, not 37-40).
    let inv = s
        .patch
        .files
        .iter()
        .find(|f| f.path == "py/shop/inventory.py")
        .unwrap();
    assert_eq!(inv.uncovered_ranges, ["13-16", "38-39"], "{inv:?}");
    // The non-ASCII, space-holding name is read from git's quoting.
    let js = ours(&repo, "main", &[&fixture().join("reports/js/v8/lcov.info")]);
    assert!(
        js.patch
            .files
            .iter()
            .any(|f| f.path == "js/src/café menu.js" && f.measured > 0)
    );
}

#[test]
fn junit_totals_equal_the_tests_written() {
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixture().join("expected.json")).unwrap()).unwrap();
    for (file, want) in expected["junit"].as_object().unwrap() {
        let req = controlgate::ReportRequest::new(vec![file.clone()], fixture());
        let out = controlgate::report(&req).unwrap();
        let t = &out.report.tests;
        assert_eq!(
            (t.total, t.passed, t.failed, t.skipped, t.errored),
            (
                want["tests"].as_u64().unwrap(),
                want["passed"].as_u64().unwrap(),
                want["failed"].as_u64().unwrap(),
                want["skipped"].as_u64().unwrap(),
                want["errors"].as_u64().unwrap(),
            ),
            "{file}"
        );
    }
}
