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
