//! The evidence flow as a user runs it: `report --evidence` → `verify` → tamper → `verify`,
//! `audit`, and PR runs taking their base coverage from the ledger.

use std::path::Path;
use std::process::Output;

use crate::cli::run_in;
use crate::coverage_util::git;

const JUNIT: &str =
    r#"<testsuite name="s"><testcase classname="t" name="test_login [cc6-1]"/></testsuite>"#;

fn lcov(hits: &[(u32, u32)]) -> String {
    let mut s = String::from("SF:app.py\n");
    for (line, n) in hits {
        s.push_str(&format!("DA:{line},{n}\n"));
    }
    s + "end_of_record\n"
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The directory of the one bundle in the `dir` store at `store`.
pub(crate) fn only_bundle(store: &Path) -> std::path::PathBuf {
    let mut bundles = std::fs::read_dir(store.join("bundles")).unwrap();
    let one = bundles.next().unwrap().unwrap().path();
    assert!(bundles.next().is_none(), "more than one bundle");
    one
}

/// Asserts the exit code, showing stderr when it differs.
pub(crate) fn exits(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The gate named `name` in a report.json value.
pub(crate) fn gate<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no gate {name}: {}", report["gates"]))
}

pub(crate) fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(o), String::from_utf8_lossy(&o.stderr)))
}

/// Commits `app.py` with `lines` lines and the coverage of the first `covered` of them.
pub(crate) fn commit(repo: &Path, lines: u32, covered: u32, msg: &str) {
    let text: String = (1..=lines).map(|i| format!("x{i} = {i}\n")).collect();
    std::fs::write(repo.join("app.py"), text).unwrap();
    let hits: Vec<(u32, u32)> = (1..=lines).map(|i| (i, u32::from(i <= covered))).collect();
    std::fs::write(repo.join("lcov.info"), lcov(&hits)).unwrap();
    std::fs::write(repo.join("junit.xml"), JUNIT).unwrap();
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", msg]);
}

fn report(repo: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "report",
        "--junit",
        "junit.xml",
        "--coverage",
        "lcov.info",
        "--base",
        "main",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    run_in(repo, &args)
}

pub(crate) fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(dir.path().join(".gitignore"), "ev/\n").unwrap();
    dir
}

#[test]
fn secrets_in_raw_inputs_are_redacted_in_the_bundle_and_the_copy_is_tied_to_the_original() {
    let dir = repo();
    let r = dir.path();
    commit(r, 4, 4, "base");
    let token = format!("ghp_{}", "Ab3".repeat(12));
    let junit = format!(
        r#"<testsuite name="s"><testcase classname="t" name="test_login [cc6-1]"><failure message="401">curl https://api.github.com -u x:{token}</failure></testcase></testsuite>"#
    );
    std::fs::write(r.join("junit.xml"), &junit).unwrap();
    let o = report(r, &["--evidence", "ev"]);
    exits(&o, 1);
    let original = controlgate::retain::canonical::sha256_hex(junit.as_bytes());
    let report_json = json(&o);
    assert_eq!(report_json["inputs"][0]["sha256"], original.as_str());

    let bundle = only_bundle(&r.join("ev"));
    let stored = std::fs::read_to_string(bundle.join("inputs/junit.xml")).unwrap();
    assert!(!stored.contains(&token), "{stored}");
    assert_eq!(
        stored,
        junit.replace(&token, "[REDACTED:github_token]"),
        "only the secret changed"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    let entry = |path: &str| {
        manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap()
            .clone()
    };
    assert_eq!(
        entry("inputs/junit.xml")["redacted"],
        serde_json::json!({"sha256": original, "count": 1})
    );
    assert!(entry("inputs/lcov.info").get("redacted").is_none());
    let o = run_in(r, &["verify", "--store", "ev"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn quickstart_flow_retains_verifies_and_detects_a_flipped_byte() {
    let dir = repo();
    let r = dir.path();
    commit(r, 10, 8, "base");
    let o = report(r, &["--evidence", "ev"]);
    exits(&o, 0);
    assert!(String::from_utf8_lossy(&o.stderr).contains("ledger entry #1"));
    let report_json = json(&o);
    assert_eq!(
        report_json["run"]["head_sha"],
        git(r, &["rev-parse", "HEAD"]).trim()
    );
    assert!(
        report_json["run"]["finished_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let o = run_in(r, &["verify", "--store", "ev"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).starts_with("evidence intact: 1 entries"),
        "{}",
        stdout(&o)
    );

    let audit = run_in(
        r,
        &[
            "audit",
            "--store",
            "ev",
            "--from",
            "2000-01-01",
            "--to",
            "2999-12-31",
            "--format",
            "csv",
        ],
    );
    assert_eq!(audit.status.code(), Some(0));
    assert!(stdout(&audit).contains("CC6.1"), "{}", stdout(&audit));
    // A control that does not exist is a usage error, not an empty audit.
    let period = ["--from", "2000-01-01", "--to", "2999-12-31"];
    for (control, code) in [("cc6-1", 0), ("CC99.1", 2), ("login", 2)] {
        let mut args = vec!["audit", "--store", "ev", "--control", control];
        args.extend(period);
        let o = run_in(r, &args);
        assert_eq!(o.status.code(), Some(code), "{control}: {}", stderr(&o));
    }

    // Flip one byte of the retained JUnit file.
    let bundle = only_bundle(&r.join("ev"));
    let junit = bundle.join("inputs/junit.xml");
    let mut bytes = std::fs::read(&junit).unwrap();
    bytes[5] ^= 0x01;
    std::fs::write(&junit, bytes).unwrap();
    let o = run_in(r, &["verify", "--store", "ev"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("evidence TAMPERED")
            && out.contains("entry 1")
            && out.contains("inputs/junit.xml was edited"),
        "{out}"
    );
}

#[test]
fn a_pr_run_takes_its_base_from_the_merge_base_entry() {
    let dir = repo();
    let r = dir.path();
    commit(r, 10, 8, "base"); // 80 % on main
    assert_eq!(report(r, &["--evidence", "ev"]).status.code(), Some(0));
    git(r, &["checkout", "-qb", "feature"]);
    commit(r, 12, 12, "feature"); // 100 % on the branch
    let o = report(r, &["--evidence", "ev"]);
    let j = json(&o);
    assert_eq!(j["coverage"]["base"]["percent"], 80.0, "{}", j["coverage"]);
    assert_eq!(j["coverage"]["delta_pp"], 20.0);
    let notes = j["coverage"]["notes"].to_string();
    assert!(
        notes.contains("base coverage from ledger entry #1") && notes.contains("the merge-base"),
        "{notes}"
    );
}

/// A coverage report is hashed as it is read, like a result file: `report.json` names its
/// digest, the bundle keeps those bytes, and a report rewritten before the evidence is written
/// is refused rather than kept in place of the one the numbers came from.
#[test]
fn coverage_reports_are_hashed_as_read_and_kept_only_as_read() {
    let dir = repo();
    let r = dir.path();
    commit(r, 10, 8, "base");
    let o = report(r, &["--evidence", "ev"]);
    exits(&o, 0);
    let read = std::fs::read(r.join("lcov.info")).unwrap();
    let digest = controlgate::retain::canonical::sha256_hex(&read);
    let j = json(&o);
    let inputs = &j["coverage"]["inputs"];
    assert_eq!(inputs[0]["sha256"], digest.as_str(), "{inputs}");
    let bundle = only_bundle(&r.join("ev"));
    assert_eq!(
        std::fs::read(bundle.join("inputs/lcov.info")).unwrap(),
        read
    );

    // On the branch, the base comes from the ledger: its entry's bundle holds that report,
    // so it has no digest of its own here.
    git(r, &["checkout", "-qb", "feature"]);
    commit(r, 12, 12, "feature");
    let j = json(&report(r, &["--evidence", "ev"]));
    let inputs = j["coverage"]["inputs"].as_array().unwrap();
    let base = inputs.iter().find(|i| i["role"] == "base").unwrap();
    assert!(
        base["path"].as_str().unwrap().starts_with("ledger#"),
        "{base}"
    );
    assert!(base.get("sha256").is_none(), "{base}");
    let head = inputs.iter().find(|i| i["role"] == "head").unwrap();
    let read = std::fs::read(r.join("lcov.info")).unwrap();
    assert_eq!(
        head["sha256"],
        controlgate::retain::canonical::sha256_hex(&read).as_str()
    );

    // Rewritten (same size, other bytes) after the run read it, before the evidence is
    // written: refused.
    let mut req = controlgate::ReportRequest::new(vec!["junit.xml".into()], r.to_path_buf());
    req.coverage = vec!["lcov.info".into()];
    req.base_ref = Some("main".into());
    let out = controlgate::report(&req).unwrap();
    let mut changed = read.clone();
    let at = changed.iter().position(|&b| b == b'1').unwrap();
    changed[at] = b'2';
    std::fs::write(r.join("lcov.info"), &changed).unwrap();
    let ev = controlgate::pipeline::EvidenceRequest {
        evidence: controlgate::retain::EvidenceConfig {
            store: controlgate::retain::StoreConfig::Dir {
                path: r.join("ev3"),
            },
            ..Default::default()
        },
        base_dir: r.to_path_buf(),
    };
    let err = controlgate::pipeline::retain_evidence(&out, &req, &ev).unwrap_err();
    assert!(err.to_string().contains("lcov.info"), "{err}");
    assert!(!r.join("ev3").join("bundles").exists());
}

#[test]
fn without_an_entry_at_the_merge_base_the_nearest_ancestor_is_used() {
    let dir = repo();
    let r = dir.path();
    commit(r, 10, 5, "first"); // 50 %, retained
    assert_eq!(report(r, &["--evidence", "ev"]).status.code(), Some(0));
    commit(r, 10, 6, "second, never reported");
    git(r, &["checkout", "-qb", "feature"]);
    commit(r, 10, 10, "feature");
    let j = json(&report(r, &["--evidence", "ev"]));
    assert_eq!(j["coverage"]["base"]["percent"], 50.0);
    let notes = j["coverage"]["notes"].to_string();
    assert!(
        notes.contains("1 first-parent commit(s) before the merge-base"),
        "{notes}"
    );
}

#[test]
fn no_entry_at_all_is_a_stated_no_base_state() {
    let dir = repo();
    let r = dir.path();
    commit(r, 10, 5, "first");
    git(r, &["checkout", "-qb", "feature"]);
    commit(r, 10, 10, "feature");
    let j = json(&report(r, &["--evidence", "ev"]));
    assert!(j["coverage"]["base"].is_null());
    assert!(j["coverage"]["delta_pp"].is_null());
    let notes = j["coverage"]["notes"].to_string();
    assert!(
        notes.contains("no base: the evidence ledger has no entries yet"),
        "{notes}"
    );
}

#[test]
fn evidence_dir_on_the_command_line_is_relative_to_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    commit(&repo, 4, 4, "base");
    let o = run_in(
        dir.path(),
        &[
            "report",
            "--junit",
            "repo/junit.xml",
            "--coverage",
            "repo/lcov.info",
            "--repo",
            "repo",
            "--base",
            "main",
            "--evidence",
            "ev",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(dir.path().join("ev/ledger/0000000001.json").is_file());
    assert!(!repo.join("ev").exists());
}

/// A directory holding one passing result file, outside any git repository.
fn results_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pass.xml"), JUNIT).unwrap();
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The run was decided, its evidence did not reach the store: exit 1 (docs/evidence.md), the
/// bundle in the fallback directory. Before, the binary's context ("retaining the evidence")
/// was taken for the error and the run exited 2, as if nothing had been decided.
#[test]
fn a_store_that_fails_exits_1_with_the_bundle_kept_locally() {
    let dir = results_dir();
    let r = dir.path();
    // A file where the store's directory should be (tests may run as root, where a read-only
    // directory would not stop the write).
    std::fs::write(r.join("evp"), "not a directory").unwrap();
    let o = run_in(r, &["report", "--results", "pass.xml", "--evidence", "evp"]);
    exits(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains("retaining the evidence") && err.contains("was kept locally at"),
        "{err}"
    );
    let kept = r.join(".controlgate/evidence-fallback/bundles");
    assert_eq!(std::fs::read_dir(&kept).unwrap().count(), 1, "{err}");
}

/// The evidence is retained before `--out` is written: an `--out` that cannot be written
/// fails the command (exit 2) but the decided run's evidence is in the store and verifies.
/// Before, the failing `--out` ended the run first: no evidence, no fallback.
#[test]
fn an_out_that_cannot_be_written_does_not_lose_the_evidence() {
    let dir = results_dir();
    let r = dir.path();
    std::fs::write(r.join("outfile"), "x\n").unwrap();
    let o = run_in(
        r,
        &[
            "report",
            "--results",
            "pass.xml",
            "--evidence",
            "evo",
            "--out",
            "outfile/sub",
        ],
    );
    exits(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("ledger entry #1") && err.contains("writing the report to outfile/sub"),
        "{err}"
    );
    let v = run_in(r, &["verify", "--store", "evo"]);
    exits(&v, 0);
    assert!(
        stdout(&v).starts_with("evidence intact: 1 entries"),
        "{}",
        stdout(&v)
    );

    // Both failing: the evidence's error decides (exit 1, where the bundle was kept), the
    // report's is said too.
    std::fs::write(r.join("evp"), "not a directory").unwrap();
    let o = run_in(
        r,
        &[
            "report",
            "--results",
            "pass.xml",
            "--evidence",
            "evp",
            "--out",
            "outfile/sub",
        ],
    );
    exits(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains("was kept locally at") && err.contains("writing the report to outfile/sub"),
        "{err}"
    );
}

/// Result files whose names are not UTF-8 are retained from the files read, not from the
/// report's lossy names (which no file has): each keeps its own bytes, even two whose names
/// show alike. Before, the bundle re-read `bad\u{FFFD}name.xml`: "No such file", exit 2.
#[cfg(unix)]
#[test]
fn results_files_named_in_bytes_that_are_not_utf8_are_retained() {
    use std::os::unix::ffi::OsStrExt;
    let dir = results_dir();
    let r = dir.path();
    std::fs::create_dir(r.join("weird")).unwrap();
    let other = JUNIT.replace("test_login", "test_logout");
    for (name, text) in [
        (&b"bad\xfename.xml"[..], &other),
        (&b"bad\xffname.xml"[..], &JUNIT.to_owned()),
    ] {
        let path = r.join("weird").join(std::ffi::OsStr::from_bytes(name));
        std::fs::write(path, text).unwrap();
    }
    let o = run_in(
        r,
        &[
            "report",
            "--results",
            "weird/bad*.xml",
            "--evidence",
            "ev4",
            "--format",
            "json",
        ],
    );
    exits(&o, 0);
    let shown = "weird/bad\u{FFFD}name.xml";
    let report = json(&o);
    let inputs: Vec<&str> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(inputs, [shown, shown]);
    let bundle = only_bundle(&r.join("ev4"));
    // Sorted by name: `\xfe` first; the second of the names that show alike gets `~2`.
    assert_eq!(
        std::fs::read_to_string(bundle.join("inputs").join(shown)).unwrap(),
        other
    );
    assert_eq!(
        std::fs::read_to_string(bundle.join("inputs").join(format!("{shown}~2"))).unwrap(),
        JUNIT
    );
    exits(&run_in(r, &["verify", "--store", "ev4"]), 0);
}

/// Hostile names in `ledger/` (a copy of entry 1 as `1.json`, an 11-digit name, the largest
/// u64 seq) are reported, never a panic (exit 101): `verify` calls the ledger tampered and
/// names the file, `audit` says so too, and a run retaining into that store is decided.
#[test]
fn hostile_ledger_file_names_are_reported_never_a_panic() {
    for (name, text) in [
        ("1.json", None),
        ("00000000002.json", None),
        ("18446744073709551615.json", Some("x\n")),
    ] {
        let dir = results_dir();
        let r = dir.path();
        for _ in 0..2 {
            exits(
                &run_in(r, &["report", "--results", "pass.xml", "--evidence", "ev"]),
                0,
            );
        }
        let planted = r.join("ev/ledger").join(name);
        match text {
            Some(t) => std::fs::write(&planted, t).unwrap(),
            None => {
                std::fs::copy(r.join("ev/ledger/0000000001.json"), &planted).unwrap();
            }
        }
        let v = run_in(r, &["verify", "--store", "ev"]);
        exits(&v, 1);
        assert!(
            stdout(&v).contains("evidence TAMPERED") && stdout(&v).contains(name),
            "{name}: {}",
            stdout(&v)
        );
        let a = run_in(
            r,
            &[
                "audit",
                "--store",
                "ev",
                "--from",
                "2000-01-01",
                "--to",
                "2999-12-31",
            ],
        );
        exits(&a, 1);
        let o = run_in(r, &["report", "--results", "pass.xml", "--evidence", "ev"]);
        assert!(
            matches!(o.status.code(), Some(0..=2)),
            "{name}: {:?} {}",
            o.status.code(),
            stderr(&o)
        );
    }
}
