//! diff-cover's own recorded answers (vendored from diff_cover v10.5.0 `tests/fixtures/`, see
//! `tests/fixtures/coverage/diff-cover/PROVENANCE.md`), replayed through `--diff` mode.

use std::collections::BTreeMap;
use std::path::PathBuf;

use controlgate::gather::coverage::{ChangeSource, CoverageRequest, analyze};

use crate::coverage_util::{input, manifest_dir};

fn dir() -> PathBuf {
    manifest_dir().join("tests/fixtures/coverage/diff-cover")
}

/// (per-file "missing lines" text, total measured, total missing) from a console report.
fn recorded(name: &str) -> (BTreeMap<String, String>, u64, u64) {
    let text = std::fs::read_to_string(dir().join(format!("{name}_console_report.txt"))).unwrap();
    let mut files = BTreeMap::new();
    let (mut total, mut missing) = (0, 0);
    for line in text.lines().map(str::trim) {
        if let Some(n) = line.strip_prefix("Total:") {
            total = n
                .trim()
                .trim_end_matches(" lines")
                .trim_end_matches(" line")
                .parse()
                .unwrap();
        } else if let Some(n) = line.strip_prefix("Missing:") {
            missing = n
                .trim()
                .trim_end_matches(" lines")
                .trim_end_matches(" line")
                .parse()
                .unwrap();
        } else if let Some(open) = line.find(" (") {
            if line.ends_with(')') || line.contains("): Missing lines ") {
                let path = line[..open].to_string();
                let lines = line
                    .split_once("): Missing lines ")
                    .map(|x| x.1.to_string())
                    .unwrap_or_default();
                files.insert(path, lines);
            }
        }
    }
    (files, total, missing)
}

fn check(name: &str, diff: &str, reports: &[&str]) {
    let d = dir();
    let text = std::fs::read(d.join(diff)).unwrap();
    let mut req = CoverageRequest::new(
        &d,
        ChangeSource::Diff {
            path: d.join(diff),
            text,
        },
    );
    req.reports = reports.iter().map(|r| input(&d.join(r))).collect();
    let s = analyze(&req).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mine: BTreeMap<String, String> = s
        .patch
        .files
        .iter()
        .filter(|f| f.measured > 0)
        .map(|f| (f.path.clone(), f.uncovered_ranges.join(",")))
        .collect();
    let (theirs, total, missing) = recorded(name);
    assert_eq!(mine, theirs, "{name}: per-file missing lines");
    assert_eq!(
        (s.patch.measured, s.patch.measured - s.patch.covered),
        (total, missing),
        "{name}: totals"
    );
}

#[test]
fn cobertura_cases() {
    check("add", "git_diff_add.txt", &["coverage.xml"]);
    check("changed", "git_diff_changed.txt", &["coverage.xml"]);
    check("delete", "git_diff_delete.txt", &["coverage.xml"]);
    check("moved", "git_diff_moved.txt", &["moved_coverage.xml"]);
    check(
        "mult_inputs",
        "git_diff_mult.txt",
        &["coverage1.xml", "coverage2.xml"],
    );
    check("unicode", "git_diff_unicode.txt", &["unicode_coverage.xml"]);
    check("lua", "git_diff_lua.txt", &["luacoverage.xml"]);
}

#[test]
fn lcov_cases() {
    check(
        "real_python",
        "git_diff_python.txt",
        &["real_python_coverage.lcov"],
    );
    check(
        "real_typescript",
        "git_diff_typescript.txt",
        &["real_typescript_coverage.lcov"],
    );
    check("real_cpp", "git_diff_cpp.txt", &["real_cpp_coverage.lcov"]);
    check(
        "cpp_functions",
        "git_diff_cpp_functions.txt",
        &["cpp_functions_coverage.lcov"],
    );
    check(
        "typescript_branches",
        "git_diff_typescript_branches.txt",
        &["typescript_branches_coverage.lcov"],
    );
}

#[test]
fn json_answer_for_add() {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir().join("add_json_report.json")).unwrap())
            .unwrap();
    let d = dir();
    let text = std::fs::read(d.join("git_diff_add.txt")).unwrap();
    let mut req = CoverageRequest::new(
        &d,
        ChangeSource::Diff {
            path: d.join("git_diff_add.txt"),
            text,
        },
    );
    req.reports = vec![input(&d.join("coverage.xml"))];
    let s = analyze(&req).unwrap();
    assert_eq!(Some(s.patch.measured), v["total_num_lines"].as_u64());
    assert_eq!(
        Some(s.patch.measured - s.patch.covered),
        v["total_num_violations"].as_u64()
    );
    assert_eq!(Some(s.patch.changed), v["num_changed_lines"].as_u64());
    // diff-cover truncates to an integer (50); we keep two decimals
    assert_eq!(s.patch.percent.map(|p| p.to_string()), Some("50.00".into()));
}
