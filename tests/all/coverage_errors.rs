//! Bad input → `Error` with exit code 2 and a message that says what to do; never a panic.

use std::path::Path;

use controlgate::ExitCode;
use controlgate::gather::coverage::{ChangeSource, CoverageRequest, ReportInput, analyze};

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
        bytes: b"SF:a.py\nDA:1,1\nDA:3,0\nend_of_record\n".to_vec().into(),
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
        bytes: b"SF:/elsewhere/project/b.py\nDA:1,1\nend_of_record\n"
            .to_vec()
            .into(),
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
        bytes: b"SF:a.py\nDA:1,1\nDA:two,1\n".to_vec().into(),
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
        bytes: b"<?xml version=\"1.0\"?>\n<coverage>\n<packages><package><classes><class filename=\"a.py\"><lines>\n<line number=\"1\" hits=\"lots\"/>\n".to_vec().into(),
    };
    let e = run(&repo, "main", r).to_string();
    assert!(e.starts_with("coverage.xml:4"), "{e}");
    assert!(e.contains("hits=\"lots\""), "{e}");
    // truncated document
    let r = ReportInput {
        path: "cut.xml".into(),
        bytes: b"<coverage><packages><package>".to_vec().into(),
    };
    assert!(run(&repo, "main", r).to_string().contains("truncated"));
    // entity declarations are refused
    let r = ReportInput {
        path: "lol.xml".into(),
        bytes: b"<?xml version=\"1.0\"?><!DOCTYPE c [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;\">]><coverage>&b;</coverage>".to_vec().into(),
    };
    assert!(run(&repo, "main", r).to_string().contains("entities"));
}

#[test]
fn malformed_jacoco() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let r = ReportInput {
        path: "jacoco.xml".into(),
        bytes: b"<?xml version=\"1.0\"?>\n<report name=\"x\"><package name=\"a\"><sourcefile name=\"A.java\">\n<line nr=\"1\" mi=\"0\" ci=\"-3\"/>\n".to_vec().into(),
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
            bytes: s.to_vec().into(),
        }];
        if let Err(e) = analyze(&req) {
            assert_eq!(e.exit_code(), ExitCode::BadInput);
        }
    }
}

/// Feeds each report alone; every one must be rejected (exit 2) naming `path:line` and
/// holding `needle`. Lists every report that is not.
fn check_rejected(repo: &Path, cases: Vec<(&str, String, u64, &str)>) {
    let mut wrong = Vec::new();
    for (path, bytes, line, needle) in cases {
        let mut req = CoverageRequest::new(
            repo,
            ChangeSource::Git {
                base_ref: "main".into(),
            },
        );
        req.reports = vec![ReportInput {
            path: path.into(),
            bytes: bytes.into_bytes().into(),
        }];
        match analyze(&req) {
            Ok(_) => wrong.push(format!("{path}: accepted")),
            Err(e) => {
                let text = e.to_string();
                if e.exit_code() != ExitCode::BadInput
                    || !text.starts_with(&format!("{path}:{line}: "))
                    || !text.contains(needle)
                {
                    wrong.push(text);
                }
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// Records no coverage tool writes (issue 14, item 4): line 0 and negative counts are errors
/// with the file and line, like NaN counts already were.
#[test]
fn line_zero_and_negative_counts_are_rejected() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let cob = |line: &str| {
        format!(
            "<?xml version=\"1.0\"?>\n<coverage>\n<packages><package name=\"p\"><classes>\n\
             <class name=\"a\" filename=\"a.py\"><lines>\n<line number=\"1\" hits=\"1\"/>\n{line}\n\
             </lines></class>\n</classes></package></packages>\n</coverage>\n"
        )
    };
    let jac = |line: &str| {
        format!(
            "<?xml version=\"1.0\"?>\n<report name=\"r\">\n<package name=\"\">\n<sourcefile name=\"a.py\">\n\
             {line}\n</sourcefile>\n</package>\n</report>\n"
        )
    };
    let cases: Vec<(&str, String, u64, &str)> = vec![
        (
            "zero.info",
            "SF:a.py\nDA:1,1\nDA:0,9\nend_of_record\n".into(),
            3,
            "DA:0,9",
        ),
        (
            "neg.info",
            "SF:a.py\nDA:1,-3\nend_of_record\n".into(),
            2,
            "DA:1,-3",
        ),
        (
            "neg-brda.info",
            "SF:a.py\nDA:1,1\nBRDA:1,0,0,-1\nend_of_record\n".into(),
            3,
            "BRDA:1,0,0,-1",
        ),
        (
            "zero-brda.info",
            "SF:a.py\nBRDA:0,0,0,1\nend_of_record\n".into(),
            2,
            "BRDA:0,0,0,1",
        ),
        (
            "neg-fnda.info",
            "SF:a.py\nFN:1,f\nFNDA:-1,f\nend_of_record\n".into(),
            3,
            "FNDA:-1,f",
        ),
        (
            "zero.xml",
            cob("<line number=\"0\" hits=\"9\"/>"),
            6,
            "number=\"0\"",
        ),
        (
            "neg.xml",
            cob("<line number=\"2\" hits=\"-2\"/>"),
            6,
            "hits=\"-2\"",
        ),
        (
            "jzero.xml",
            jac("<line nr=\"0\" mi=\"0\" ci=\"3\" mb=\"0\" cb=\"0\"/>"),
            5,
            "nr=\"0\"",
        ),
    ];
    check_rejected(&repo, cases);
}

/// Cobertura and JaCoCo XML is held to the same well-formedness rules as JUnit (issue 14,
/// item 3): every attribute value of every element, text after the root, a second root.
#[test]
fn coverage_xml_that_is_not_well_formed_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let cob = |pkg_attr: &str, tail: &str| {
        format!(
            "<?xml version=\"1.0\"?>\n<coverage>\n<packages><package name=\"p\" {pkg_attr}><classes>\n\
             <class name=\"a\" filename=\"a.py\"><lines><line number=\"1\" hits=\"1\"/></lines></class>\n\
             </classes></package></packages>\n</coverage>\n{tail}"
        )
    };
    let cases: Vec<(&str, String, u64, &str)> = vec![
        ("lt.xml", cob("complexity=\"a<b\"", ""), 3, "`<`"),
        ("amp.xml", cob("complexity=\"a & b\"", ""), 3, "`&`"),
        ("entity.xml", cob("complexity=\"&nbsp;\"", ""), 3, "&nbsp;"),
        ("after.xml", cob("", "trailing text\n"), 7, "after the root element"),
        ("two-roots.xml", cob("", "<coverage/>\n"), 7, "root element"),
        (
            "jacoco.xml",
            "<?xml version=\"1.0\"?>\n<report name=\"a&nbsp;b\">\n<package name=\"\"><sourcefile name=\"a.py\"><line nr=\"1\" mi=\"0\" ci=\"1\"/></sourcefile></package>\n</report>\n".into(),
            2,
            "&nbsp;",
        ),
        (
            "jacoco-after.xml",
            "<?xml version=\"1.0\"?>\n<report name=\"r\">\n<package name=\"\"><sourcefile name=\"a.py\"><line nr=\"1\" mi=\"0\" ci=\"1\"/></sourcefile></package>\n</report>\nPASS\n".into(),
            5,
            "after the root element",
        ),
    ];
    check_rejected(&repo, cases);
}

/// XML 1.0 §3.3.3 in coverage reports too: a literal newline or tab in `filename` is a space,
/// a character reference is kept.
#[test]
fn coverage_xml_attribute_values_are_normalised() {
    let x = "<coverage><packages><package name=\"p\"><classes>\
             <class name=\"a\" filename=\"src/a\nb.py\"><lines><line number=\"1\" hits=\"1\"/></lines></class>\
             <class name=\"c\" filename=\"src/c\r\nd&#9;e.py\"><lines><line number=\"1\" hits=\"1\"/></lines></class>\
             </classes></package></packages></coverage>";
    let r = controlgate::ingest::cobertura::parse(x.as_bytes()).unwrap();
    let names: Vec<&str> = r.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["src/a b.py", "src/c d\te.py"]);
    let x = "<report name=\"r\"><package name=\"com/\tex\"><sourcefile name=\"A\n.java\"><line nr=\"1\" mi=\"0\" ci=\"1\"/></sourcefile></package></report>";
    let r = controlgate::ingest::jacoco::parse(x.as_bytes(), &[]).unwrap();
    assert_eq!(r.files[0].name, "com/ ex/A .java");
}

/// gcovr 8 writes JaCoCo `<line nr=…>` without `ci`/`mi` (issue 14, item 4): such a line
/// carries no hit count and must not read as uncovered. The file's `LINE` counter decides when
/// it can (all covered, or none); otherwise the lines are not measured, and a note says so.
#[test]
fn jacoco_lines_without_hit_counts_are_not_read_as_uncovered() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let gcovr = |missed: u32, covered: u32| {
        ReportInput {
        path: "gcovr-jacoco.xml".into(),
        bytes: format!(
            "<?xml version='1.0' encoding='UTF-8'?>\n\
             <!DOCTYPE report SYSTEM 'https://www.jacoco.org/jacoco/trunk/coverage/report.dtd'>\n\
             <report name=\"GCOVR report\"><package name=\"\"><sourcefile name=\"a.py\">\
             <line nr=\"1\"/><line nr=\"2\"/><line nr=\"3\"/>\
             <counter type=\"LINE\" missed=\"{missed}\" covered=\"{covered}\"/>\
             <counter type=\"BRANCH\" missed=\"0\" covered=\"0\"/></sourcefile>\
             <counter type=\"LINE\" missed=\"{missed}\" covered=\"{covered}\"/></package></report>\n"
        )
        .into_bytes()
        .into(),
    }
    };
    let analyze_one = |report: ReportInput| {
        let mut req = CoverageRequest::new(
            &repo,
            ChangeSource::Git {
                base_ref: "main".into(),
            },
        );
        req.reports = vec![report];
        analyze(&req).unwrap()
    };
    // Mixed: which lines were hit is unknown → not measured, with a note.
    let s = analyze_one(gcovr(1, 2));
    assert_eq!((s.patch.covered, s.patch.measured), (0, 0), "{:?}", s.patch);
    assert_eq!((s.head.lines_covered, s.head.lines_measured), (0, 0));
    assert!(
        s.notes.iter().any(|n| n.contains("gcovr-jacoco.xml")
            && n.contains("3 <line> elements carry no hit count")),
        "{:?}",
        s.notes
    );
    // Every line covered, by the file's own counter.
    let s = analyze_one(gcovr(0, 3));
    assert_eq!((s.patch.covered, s.patch.measured), (1, 1), "{:?}", s.patch);
    assert_eq!((s.head.lines_covered, s.head.lines_measured), (3, 3));
    assert!(
        s.notes.iter().any(|n| n.contains("no hit count")),
        "{:?}",
        s.notes
    );
    // No line covered.
    let s = analyze_one(gcovr(3, 0));
    assert_eq!((s.patch.covered, s.patch.measured), (0, 1), "{:?}", s.patch);
}

/// A coverage report written while controlgate reads it is refused (exit 2, nothing decided
/// from it), whether it was mapped (large) or read (small). The file is appended to by a `git`
/// on PATH that does so before running the real git: the report was read by then (git starts
/// first, the reports are read meanwhile, and the check comes after git is done).
#[test]
fn a_report_written_while_it_is_read_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let report = repo.join("lcov.info");
    let path = path_with_git_wrapper(
        t.path(),
        &format!("sleep 1\nprintf 'TN:\\n' >> '{}'", report.display()),
    );
    std::fs::write(repo.join("t.xml"), crate::cli::GOOD).unwrap();
    // Past 1 MiB a report is mapped; the small one is read.
    let record = "SF:a.py\nDA:1,1\nDA:3,0\nend_of_record\n";
    for copies in [1, (2 << 20) / record.len()] {
        std::fs::write(&report, record.repeat(copies)).unwrap();
        let run = |path: &str| report_with_coverage(&repo, path).output().unwrap();
        let out = run(&path);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{copies} records: {err}");
        assert!(
            err.contains("lcov.info: changed while controlgate was reading it"),
            "{copies} records: {err}"
        );
        // Left alone, the same report is read.
        let out = run(&std::env::var("PATH").unwrap_or_default());
        assert!(
            out.status.success(),
            "{copies} records: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `git diff` runs after the suites, on the repository they ran in, so a suite can write its
/// `.git/config`. Here the changed file's blob is gone and the config names a promisor remote
/// whose upload-pack is a command: git would run it to fetch the blob. controlgate's git gets
/// none of the job's credentials (a `git` on PATH records the environment it is given), may
/// reach no remote (the planted command never runs), and the diff that cannot be made fails
/// the run (exit 2).
#[test]
fn git_diff_runs_without_credentials_and_fetches_nothing() {
    use std::os::unix::fs::PermissionsExt as _;
    let t = tempfile::tempdir().unwrap();
    let repo = repo_with_branch(t.path());
    let blob = String::from_utf8(
        std::process::Command::new("git")
            .current_dir(&repo)
            .args(["rev-parse", "feature:a.py"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let blob = blob.trim();
    std::fs::remove_file(repo.join(".git/objects").join(&blob[..2]).join(&blob[2..])).unwrap();
    let planted = t.path().join("planted-ran");
    let upload_pack = t.path().join("upload-pack");
    std::fs::write(
        &upload_pack,
        format!("#!/bin/sh\nenv > '{}'\nexit 1\n", planted.display()),
    )
    .unwrap();
    std::fs::set_permissions(&upload_pack, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (k, v) in [
        ("extensions.partialClone", "evil"),
        ("remote.evil.promisor", "true"),
        ("remote.evil.url", &t.path().display().to_string()),
        ("remote.evil.uploadpack", &upload_pack.display().to_string()),
    ] {
        git(&repo, &["config", k, v]);
    }
    let seen = t.path().join("git-env");
    let path = path_with_git_wrapper(t.path(), &format!("env >> '{}'", seen.display()));
    std::fs::write(repo.join("t.xml"), crate::cli::GOOD).unwrap();
    std::fs::write(
        repo.join("lcov.info"),
        "SF:a.py\nDA:1,1\nDA:3,0\nend_of_record\n",
    )
    .unwrap();
    let secrets = [
        ("GITHUB_TOKEN", "ghs_cgDiffLeak0123456789abcdefABCDEF01"),
        (
            "INPUT_GITHUB-TOKEN",
            "ghs_cgDiffLeak0123456789abcdefABCDEF02",
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            "cgDiffLeakAwsSecret/0123456789abcdefXYZ",
        ),
    ];
    let out = report_with_coverage(&repo, &path)
        .envs(secrets)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("git diff"), "{err}");
    assert!(err.contains("controlgate's git fetches none"), "{err}");
    assert!(!planted.exists(), "the planted upload-pack ran: {err}");
    let env = std::fs::read_to_string(&seen).expect("controlgate ran git through PATH");
    assert!(env.contains("PATH="), "{env}");
    for (name, value) in secrets {
        assert!(!env.contains(value), "{name}'s value reached git: {env}");
    }
}

/// A `PATH` whose `git` runs `before` (shell) and then the real git: controlgate's git is
/// found through PATH, as on a runner.
fn path_with_git_wrapper(dir: &Path, before: &str) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let real_git = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(
        bin.join("git"),
        format!("#!/bin/sh\n{before}\nexec '{}' \"$@\"\n", real_git.trim()),
    )
    .unwrap();
    std::fs::set_permissions(bin.join("git"), std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `report --results t.xml --coverage lcov.info --base main` in `repo`, git found through `path`.
fn report_with_coverage(repo: &Path, path: &str) -> std::process::Command {
    let mut c = crate::cli::bin();
    c.current_dir(repo).env("PATH", path).args([
        "report",
        "--results",
        "t.xml",
        "--coverage",
        "lcov.info",
        "--base",
        "main",
    ]);
    c
}
