//! `controlgate export`: retained runs as an in-toto Statement (test-result predicate) and as
//! OSCAL assessment results, validated with each format's own tooling (the in-toto-attestation
//! bindings, compliance-trestle's OSCAL models), and never exported from evidence that does
//! not verify.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::cli::run_in;
use crate::coverage_util::{git, manifest_dir, venv_bin};
use crate::evidence_cli::{exits, repo};

/// Two runs: the first fails (a CC8.1 test fails), the second passes. Test names carry text
/// OSCAL does not take as is (padding, a tab, markup).
const FAILING: &str = r#"<testsuite name="s">
  <testcase classname="t" name="test_login [cc6-1]"/>
  <testcase classname="t" name=" test_deploy_needs_approval [cc8-1]&#9;&lt;b&gt; "><failure message="no approval">boom</failure></testcase>
  <testcase classname="t" name="test_retry [cc7-2]"><flakyFailure message="timeout"/></testcase>
  <testcase classname="t" name="test_skipped [cc6-1]"><skipped/></testcase>
  <testcase classname="t" name="test_unmapped_failure"><error message="x"/></testcase>
</testsuite>"#;
const PASSING: &str = r#"<testsuite name="s">
  <testcase classname="t" name="test_login [cc6-1]"/>
  <testcase classname="t" name=" test_deploy_needs_approval [cc8-1]&#9;&lt;b&gt; "/>
</testsuite>"#;

fn two_runs() -> tempfile::TempDir {
    let dir = repo();
    let r = dir.path();
    for (junit, code) in [(FAILING, 1), (PASSING, 0)] {
        std::fs::write(r.join("junit.xml"), junit).unwrap();
        git(r, &["add", "-A"]);
        git(r, &["commit", "-qm", "run"]);
        let o = run_in(
            r,
            &[
                "report",
                "--junit",
                "junit.xml",
                "--evidence",
                "ev",
                "--format",
                "json",
            ],
        );
        exits(&o, code);
    }
    dir
}

/// The arguments exporting the period `from`..=`to` as OSCAL.
fn oscal<'a>(from: &'a str, to: &'a str) -> Vec<&'a str> {
    vec!["--format", "oscal", "--from", from, "--to", to]
}

fn export(r: &Path, args: &[&str]) -> Output {
    let mut all = vec!["export", "--store", "ev"];
    all.extend_from_slice(args);
    run_in(r, &all)
}

fn exported(r: &Path, args: &[&str]) -> Value {
    let o = export(r, args);
    exits(&o, 0);
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Runs the format's validator on `doc`; `Err(message)` when it rejects it.
fn validate(kind: &str, doc: &Value) -> Result<(), String> {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(doc).unwrap()).unwrap();
    let o = Command::new(venv_bin("python"))
        .arg(manifest_dir().join("tests/fixtures/evidence/validate_exports.py"))
        .arg(kind)
        .arg(file.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    match o.status.code() {
        Some(0) if out.trim() == "valid" => Ok(()),
        Some(1) => Err(out),
        _ => panic!(
            "validator crashed: {out}{}",
            String::from_utf8_lossy(&o.stderr)
        ),
    }
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn in_toto_statement_names_the_commit_and_bundle_and_validates_with_the_bindings() {
    let dir = two_runs();
    let r = dir.path();
    let ledger: Value =
        serde_json::from_slice(&std::fs::read(r.join("ev/ledger/0000000001.json")).unwrap())
            .unwrap();
    let st = exported(r, &["--format", "in-toto", "--seq", "1"]);
    validate("in-toto", &st).unwrap();
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        st["predicateType"],
        "https://in-toto.io/attestation/test-result/v0.1"
    );
    let head = ledger["run"]["head_sha"].as_str().unwrap();
    assert_eq!(st["subject"][0]["digest"]["gitCommit"], head);
    assert_eq!(st["subject"][1]["digest"]["sha256"], ledger["bundle"]);

    let p = &st["predicate"];
    assert_eq!(p["result"], "FAILED");
    assert_eq!(
        strings(&p["failedTests"]),
        [
            "t:: test_deploy_needs_approval [cc8-1]\t<b> ",
            "t::test_unmapped_failure"
        ]
    );
    assert_eq!(strings(&p["passedTests"]), ["t::test_login [cc6-1]"]);
    assert_eq!(strings(&p["warnedTests"]), ["t::test_retry [cc7-2]"]);
    // The configuration lists every file of the bundle by the digest in its manifest.
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(
            r.join("ev/bundles")
                .join(ledger["bundle"].as_str().unwrap())
                .join("manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let junit = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "inputs/junit.xml")
        .unwrap();
    assert!(
        p["configuration"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "junit.xml" && c["digest"]["sha256"] == junit["sha256"]),
        "{p}"
    );

    // The default is the last entry, which passed; the predicate alone validates too and is
    // the Statement's predicate.
    let last = exported(r, &["--format", "in-toto"]);
    assert_eq!(last["predicate"]["result"], "PASSED");
    let predicate = exported(r, &["--format", "in-toto-predicate"]);
    validate("in-toto-predicate", &predicate).unwrap();
    assert_eq!(predicate, last["predicate"]);

    // The validator is strict: a field the predicate does not define, or a Statement without
    // subject digests, is rejected.
    let mut bad = predicate.clone();
    bad["passedCount"] = 1.into();
    assert!(validate("in-toto-predicate", &bad).is_err());
    let mut bad = last.clone();
    bad["subject"] = serde_json::json!([{"name": "x"}]);
    assert!(validate("in-toto", &bad).unwrap_err().contains("digest"));
}

#[test]
fn oscal_assessment_results_hold_a_result_per_run_and_validate_with_trestle() {
    let dir = two_runs();
    let r = dir.path();
    let out = r.join("ar.json");
    let mut args = oscal("2000-01-01", "2999-12-31");
    args.extend(["--output", out.to_str().unwrap()]);
    let o = export(r, &args);
    exits(&o, 0);
    assert!(o.stdout.is_empty(), "--output writes the file only");
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    validate("oscal", &doc).unwrap();

    let results = doc["assessment-results"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let finding = |result: &Value, id: &str| -> Value {
        result["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["target"]["target-id"] == id)
            .unwrap_or_else(|| panic!("no finding for {id}: {result}"))
            .clone()
    };
    assert_eq!(
        finding(&results[0], "cc8.1")["target"]["status"]["state"],
        "not-satisfied"
    );
    assert_eq!(
        finding(&results[1], "cc8.1")["target"]["status"]["state"],
        "satisfied"
    );
    // One observation per listed test; the CC8.1 finding points at its test's observation,
    // whose title is the test name made a valid OSCAL string.
    let observations = results[0]["observations"].as_array().unwrap();
    assert_eq!(observations.len(), 5);
    let related =
        finding(&results[0], "cc8.1")["related-observations"][0]["observation-uuid"].clone();
    let obs = observations.iter().find(|o| o["uuid"] == related).unwrap();
    assert_eq!(obs["title"], "t:: test_deploy_needs_approval [cc8-1] <b>");
    let bundle = only_bundle_of(r, 1);
    assert!(
        obs["relevant-evidence"][0]["description"]
            .as_str()
            .unwrap()
            .contains(&bundle)
    );

    // The same ledger exports the same document (deterministic UUIDs), but for its time stamp.
    let again = exported(r, &oscal("2000-01-01", "2999-12-31"));
    let strip = |mut d: Value| {
        d["assessment-results"]["metadata"]["last-modified"] = Value::Null;
        d
    };
    assert_eq!(strip(again), strip(doc.clone()));

    // A period without runs is still a valid document; trestle rejects a result without start.
    let empty = exported(r, &oscal("2001-01-01", "2001-12-31"));
    validate("oscal", &empty).unwrap();
    let mut bad = doc;
    bad["assessment-results"]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("start");
    assert!(validate("oscal", &bad).is_err());
}

fn only_bundle_of(r: &Path, seq: u64) -> String {
    let entry: Value = serde_json::from_slice(
        &std::fs::read(r.join(format!("ev/ledger/{seq:010}.json"))).unwrap(),
    )
    .unwrap();
    entry["bundle"].as_str().unwrap().to_string()
}

#[test]
fn nothing_is_exported_from_evidence_that_does_not_verify() {
    let dir = two_runs();
    let r = dir.path();
    let bundle = r.join("ev/bundles").join(only_bundle_of(r, 2));
    let report = bundle.join("report.json");
    let original = std::fs::read(&report).unwrap();
    // The passing run's report turned red after the fact.
    let edited = String::from_utf8_lossy(&original).replace("\"pass\"", "\"fail\"");
    assert_ne!(edited.as_bytes(), original.as_slice());
    std::fs::write(&report, edited).unwrap();
    let out = r.join("st.json");
    for args in [
        vec!["--format", "in-toto", "--output", out.to_str().unwrap()],
        oscal("2000-01-01", "2999-12-31"),
    ] {
        let o = export(r, &args);
        exits(&o, 1);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("TAMPERED")
                && err.contains("entry 2")
                && err.contains("nothing was exported"),
            "{err}"
        );
        assert!(o.stdout.is_empty());
    }
    assert!(!out.exists());
    // The first run's bundle is intact and still exports.
    exits(&export(r, &["--format", "in-toto", "--seq", "1"]), 0);

    // An edited input, or a file added to the bundle: the statement would name inputs by
    // digests the store no longer holds.
    std::fs::write(&report, &original).unwrap();
    exits(&export(r, &["--format", "in-toto", "--seq", "2"]), 0);
    let input = walk_files(&bundle.join("inputs"))
        .into_iter()
        .next()
        .expect("an input in the bundle");
    let kept = std::fs::read(&input).unwrap();
    let mut changed = kept.clone();
    changed.push(b'\n');
    std::fs::write(&input, &changed).unwrap();
    let added = bundle.join("extra.txt");
    for (what, said) in [("edited", "was edited"), ("added", "not in the manifest")] {
        if what == "added" {
            std::fs::write(&input, &kept).unwrap();
            std::fs::write(&added, "x").unwrap();
        }
        let o = export(r, &["--format", "in-toto", "--seq", "2"]);
        exits(&o, 1);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("TAMPERED") && err.contains(said),
            "{what}: {err}"
        );
    }
    std::fs::remove_file(&added).unwrap();

    // An edited ledger entry: nothing at all.
    let entry = r.join("ev/ledger/0000000001.json");
    let text = std::fs::read_to_string(&entry).unwrap();
    std::fs::write(&entry, text.replace("\"fail\"", "\"pass\"")).unwrap();
    let o = export(r, &["--format", "in-toto", "--seq", "2"]);
    exits(&o, 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("entry 1"));
}

#[test]
fn export_usage_errors_exit_2() {
    let dir = two_runs();
    let r = dir.path();
    for args in [
        vec!["--format", "oscal"],
        vec![
            "--format",
            "in-toto",
            "--from",
            "2000-01-01",
            "--to",
            "2000-01-02",
        ],
        vec!["--format", "in-toto", "--seq", "9"],
        oscal("2002-01-01", "2001-01-01"),
    ] {
        let o = export(r, &args);
        exits(&o, 2);
    }
}

/// Every file under `dir`, depth first.
fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}
