//! Bad input → `Error` with exit code 2 and a message that says what to do; never a panic.

use std::path::Path;

use controlgate::ExitCode;
use controlgate::analyze::coverage::{ChangeSource, CoverageRequest, ReportInput, analyze};

use crate::coverage_util::git;

fn repo_with_branch(dir: &Path) -> std::path::PathBuf {
    let repo = dir.join("src-repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("a.py"), "x = 1\ny = 2\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "base"]);
    git(&repo, &["checkout", "-qb", "feature"]);
    std::fs::write(repo.join("a.py"), "x = 1\ny = 2\nz = 3\n").unwrap();
    git(&repo, &["commit", "-qam", "feature"]);
    repo
}

fn lcov() -> ReportInput {
    ReportInput {
        path: "lcov.info".into(),
        bytes: b"SF:a.py\nDA:1,1\nDA:3,0\nend_of_record\n".to_vec(),
    }
}

fn run(repo: &Path, base: &str, report: ReportInput) -> controlgate::Error {
    let mut req = CoverageRequest::new(
        repo,
        ChangeSource::Git {
            base_ref: base.into(),
        },
    );
    req.reports = vec![report];
    let e = analyze(&req).expect_err("must fail");
    assert_eq!(e.exit_code(), ExitCode::BadInput, "{e}");
    e
}

#[test]
fn good_input_works() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let mut req = CoverageRequest::new(
        &repo,
        ChangeSource::Git {
            base_ref: "main".into(),
        },
    );
    req.reports = vec![lcov()];
    let s = analyze(&req).unwrap();
    assert_eq!((s.patch.covered, s.patch.measured), (0, 1));
    assert_eq!(s.patch.files[0].uncovered_ranges, vec!["3"]);
}

#[test]
fn shallow_clone_says_fetch_depth() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let url = format!("file://{}", repo.display());
    let clone = t.path().join("shallow");
    git(
        t.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            &url,
            clone.to_str().unwrap(),
        ],
    );
    git(&clone, &["checkout", "-q", "feature"]);
    let e = run(&clone, "origin/main", lcov()).to_string();
    assert!(
        e.contains("fetch-depth: 0") && e.contains("git fetch --deepen"),
        "{e}"
    );
    // base missing entirely from a single-branch shallow clone
    let clone2 = t.path().join("shallow2");
    git(
        t.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "-b",
            "feature",
            &url,
            clone2.to_str().unwrap(),
        ],
    );
    let e = run(&clone2, "main", lcov()).to_string();
    assert!(e.contains("fetch-depth: 0"), "{e}");
}

#[test]
fn unknown_base_ref() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let e = run(&repo, "no-such-branch", lcov()).to_string();
    assert!(
        e.contains("unknown base ref `no-such-branch`") && e.contains("--base"),
        "{e}"
    );
}

#[test]
fn report_matching_no_files() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let r = ReportInput {
        path: "other.info".into(),
        bytes: b"SF:/elsewhere/project/b.py\nDA:1,1\nend_of_record\n".to_vec(),
    };
    let e = run(&repo, "main", r).to_string();
    assert!(
        e.contains("matched 0 of its 1 files") && e.contains("path_fixes"),
        "{e}"
    );
    assert!(e.contains("/elsewhere/project/b.py"), "{e}");
}

#[test]
fn malformed_lcov() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let r = ReportInput {
        path: "bad.info".into(),
        bytes: b"SF:a.py\nDA:1,1\nDA:two,1\n".to_vec(),
    };
    let e = run(&repo, "main", r).to_string();
    assert!(e.starts_with("bad.info:3: malformed LCOV record"), "{e}");
}

#[test]
fn malformed_cobertura() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let r = ReportInput {
        path: "coverage.xml".into(),
        bytes: b"<?xml version=\"1.0\"?>\n<coverage>\n<packages><package><classes><class filename=\"a.py\"><lines>\n<line number=\"1\" hits=\"lots\"/>\n".to_vec(),
    };
    let e = run(&repo, "main", r).to_string();
    assert!(e.starts_with("coverage.xml:4"), "{e}");
    assert!(e.contains("hits=\"lots\""), "{e}");
    // truncated document
    let r = ReportInput {
        path: "cut.xml".into(),
        bytes: b"<coverage><packages><package>".to_vec(),
    };
    assert!(run(&repo, "main", r).to_string().contains("truncated"));
    // entity declarations are refused
    let r = ReportInput {
        path: "lol.xml".into(),
        bytes: b"<?xml version=\"1.0\"?><!DOCTYPE c [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;\">]><coverage>&b;</coverage>".to_vec(),
    };
    assert!(run(&repo, "main", r).to_string().contains("entities"));
}

#[test]
fn malformed_jacoco() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let r = ReportInput {
        path: "jacoco.xml".into(),
        bytes: b"<?xml version=\"1.0\"?>\n<report name=\"x\"><package name=\"a\"><sourcefile name=\"A.java\">\n<line nr=\"1\" mi=\"0\" ci=\"-3\"/>\n".to_vec(),
    };
    let e = run(&repo, "main", r).to_string();
    assert!(
        e.starts_with("jacoco.xml:3") && e.contains("ci=\"-3\""),
        "{e}"
    );
}

#[test]
fn garbage_never_panics() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let seeds: [&[u8]; 8] = [
        b"",
        b"\xff\xfe\x00garbage",
        b"<",
        b"<coverage><class filename=''><lines><line number='99999999999'/>",
        b"SF:\nDA:4294967296,1\n",
        b"SF:a.py\nBRDA:1,0,0,99999999999999999999999\nend_of_record\n",
        b"<report><package name='x'><sourcefile name='Y.java'><line nr='1' mb='99999999999999'/>",
        b"<?xml version='1.0'?><!DOCTYPE x SYSTEM 'http://e/x.dtd'><coverage/>",
    ];
    for s in seeds {
        let mut req = CoverageRequest::new(
            &repo,
            ChangeSource::Git {
                base_ref: "main".into(),
            },
        );
        req.reports = vec![ReportInput {
            path: "g".into(),
            bytes: s.to_vec(),
        }];
        if let Err(e) = analyze(&req) {
            assert_eq!(e.exit_code(), ExitCode::BadInput);
        }
    }
}
