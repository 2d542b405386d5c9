//! Shard fan-in (issue 16, part 5): matrix legs written by `report --leg NAME --out DIR`,
//! combined by `controlgate merge` — tests deduplicated by identity (worst run wins, flaky
//! across legs), coverage merged, `expect:` failing a merge that misses a leg — through the
//! binary on a real git repository.

use std::path::Path;

use crate::coverage_util::git;
use crate::evidence_cli::{exits, gate, json, repo};
use crate::history::bin;

/// An LCOV report of `app.py` covering the given lines of 10.
fn lcov(covered: std::ops::RangeInclusive<u32>) -> String {
    let mut s = String::from("TN:\nSF:app.py\n");
    for l in 1..=10 {
        s.push_str(&format!("DA:{l},{}\n", u32::from(covered.contains(&l))));
    }
    s.push_str("end_of_record\n");
    s
}

/// The leg `name` runs its tests (`retry_fails`: the flaky one fails there) and writes its
/// leg directory `legs/<name>`.
fn leg(r: &Path, name: &str, retry_fails: bool, covered: std::ops::RangeInclusive<u32>) {
    let junit = format!(
        r#"<testsuite name="{name}"><testcase classname="auth" name="login [cc6-1]"/><testcase classname="net" name="retry">{}</testcase><testcase classname="{name}" name="platform_only"/></testsuite>"#,
        if retry_fails {
            r#"<failure message="timeout">t</failure>"#
        } else {
            ""
        }
    );
    std::fs::write(r.join(format!("junit-{name}.xml")), junit).unwrap();
    std::fs::write(r.join(format!("lcov-{name}.info")), lcov(covered)).unwrap();
    let out = format!("legs/{name}");
    let junit = format!("junit-{name}.xml");
    let cov = format!("lcov-{name}.info");
    let o = bin(
        r,
        &[
            "report",
            "--junit",
            &junit,
            "--coverage",
            &cov,
            "--base",
            "main",
            "--leg",
            name,
            "--out",
            &out,
        ],
    );
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Each leg's own files are gone by the time the fan-in job runs.
    std::fs::remove_file(r.join(format!("junit-{name}.xml"))).unwrap();
    std::fs::remove_file(r.join(format!("lcov-{name}.info"))).unwrap();
}

/// `merge LEGS... --config CONFIG --base main --format json`.
fn merge_json(r: &Path, legs: &[&str], config: &str) -> std::process::Output {
    let mut args = vec!["merge"];
    args.extend_from_slice(legs);
    args.extend_from_slice(&["--config", config, "--base", "main", "--format", "json"]);
    bin(r, &args)
}

fn setup() -> tempfile::TempDir {
    let dir = repo();
    let r = dir.path();
    let app: String = (1..=10).map(|i| format!("x{i} = {i}\n")).collect();
    std::fs::write(r.join("app.py"), app).unwrap();
    std::fs::write(
        r.join("c.yml"),
        "expect:\n  legs: [linux, macos, windows]\n",
    )
    .unwrap();
    git(r, &["add", "-A"]);
    git(r, &["commit", "-qm", "base"]);
    leg(r, "linux", false, 1..=4);
    leg(r, "macos", true, 5..=8);
    leg(r, "windows", false, 9..=9);
    dir
}

#[test]
fn three_legs_merge_into_one_report_deduplicated_flaky_across_legs_coverage_merged() {
    let dir = setup();
    let r = dir.path();
    let o = merge_json(r, &["legs/linux", "legs/macos", "legs/windows"], "c.yml");
    // net::retry failed on macos: the worst run wins, and it is flaky (passed elsewhere).
    exits(&o, 1);
    let rep = json(&o);
    // auth::login and net::retry once each, three platform-only tests: 5 tests, 9 runs.
    assert_eq!(rep["tests"]["total"], 5, "{}", rep["tests"]);
    assert_eq!(rep["tests"]["runs"], 9);
    assert_eq!(rep["tests"]["failed"], 1);
    assert_eq!(rep["tests"]["flaky"], 1);
    let retry = rep["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "net::retry")
        .unwrap();
    assert_eq!(
        (
            retry["status"].as_str(),
            retry["flaky"].as_bool(),
            retry["runs"].as_u64()
        ),
        (Some("failed"), Some(true), Some(3))
    );
    // Coverage: lines 1-4, 5-8 and 9 of the legs' reports: 9 of 10 covered.
    assert_eq!(
        rep["coverage"]["head"]["lines_covered"], 9,
        "{}",
        rep["coverage"]["head"]
    );
    assert_eq!(rep["coverage"]["head"]["lines_measured"], 10);
    let g = gate(&rep, "expect.legs");
    assert_eq!(g["status"], "pass", "{g}");
    assert_eq!(
        g["detail"],
        "all 3 expected legs merged: linux, macos, windows"
    );
    let g = gate(&rep, "legs");
    assert_eq!(g["status"], "pass", "{g}");
    assert_eq!(g["detail"], "3 leg(s) merged, each with tests (9 runs)");
    // Every input of the merged report is a leg's verified copy.
    let inputs: Vec<&str> = rep["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        inputs,
        [
            "legs/linux/inputs/results/0-junit-linux.xml",
            "legs/macos/inputs/results/0-junit-macos.xml",
            "legs/windows/inputs/results/0-junit-windows.xml"
        ]
    );
}

#[test]
fn a_missing_leg_fails_the_merge_and_is_named() {
    let dir = setup();
    let r = dir.path();
    let o = merge_json(r, &["legs/linux", "legs/windows"], "c.yml");
    exits(&o, 1);
    let rep = json(&o);
    let g = gate(&rep, "expect.legs");
    assert_eq!(g["status"], "fail", "{g}");
    assert_eq!(
        g["detail"],
        "missing leg(s): macos (merged: linux, windows)"
    );
    // Without macos nothing failed: only the missing leg fails the run.
    assert_eq!(rep["tests"]["failed"], 0);
    // `runs: N` counts instead of naming.
    std::fs::write(r.join("n.yml"), "expect:\n  runs: 3\n").unwrap();
    let o = merge_json(r, &["legs/linux", "legs/windows"], "n.yml");
    exits(&o, 1);
    assert_eq!(
        gate(&json(&o), "expect.legs")["detail"],
        "2 of 3 expected legs brought results (merged: linux, windows)"
    );
}

/// A leg whose results hold no test (its runner wrote `<testsuites/>`) fails the merge by name,
/// with or without `expect:`: its own verdict failed, and the others' tests do not stand for
/// its platform.
#[test]
fn a_leg_that_brought_no_tests_fails_the_merge() {
    let dir = setup();
    let r = dir.path();
    std::fs::write(r.join("junit-bsd.xml"), "<testsuites/>").unwrap();
    let o = bin(
        r,
        &[
            "report",
            "--junit",
            "junit-bsd.xml",
            "--leg",
            "bsd",
            "--out",
            "legs/bsd",
        ],
    );
    exits(&o, 1);
    std::fs::write(r.join("none.yml"), "tests:\n  min_pass_rate: 0\n").unwrap();
    let o = merge_json(r, &["legs/linux", "legs/bsd"], "none.yml");
    exits(&o, 1);
    let rep = json(&o);
    let g = gate(&rep, "legs");
    assert_eq!(g["status"], "fail", "{g}");
    assert_eq!(g["detail"], "leg `bsd` brought no tests");
    assert_eq!(rep["verdict"], "fail");
    // Named as missing where legs are expected.
    std::fs::write(r.join("two.yml"), "expect:\n  legs: [linux, bsd]\n").unwrap();
    let o = merge_json(r, &["legs/linux", "legs/bsd"], "two.yml");
    exits(&o, 1);
    assert_eq!(
        gate(&json(&o), "expect.legs")["detail"],
        "missing leg(s): bsd; no results from: bsd (merged: linux)"
    );
    // A manifest that claims tests and lists no result file: what it holds was never read.
    let manifest = r.join("legs/macos/leg.json");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    m["results"] = serde_json::json!([]);
    std::fs::write(&manifest, m.to_string()).unwrap();
    let o = merge_json(r, &["legs/linux", "legs/macos"], "none.yml");
    exits(&o, 1);
    let rep = json(&o);
    let g = gate(&rep, "legs");
    assert!(
        g["detail"]
            .as_str()
            .unwrap()
            .starts_with("leg `macos` claims 3 test(s) but brought no result file"),
        "{g}"
    );
}

#[test]
fn a_leg_that_changed_or_is_not_a_leg_is_bad_input() {
    let dir = setup();
    let r = dir.path();
    let copy = r.join("legs/macos/inputs/results/0-junit-macos.xml");
    let text = std::fs::read_to_string(&copy)
        .unwrap()
        .replace("<failure message=\"timeout\">t</failure>", "");
    std::fs::write(&copy, text).unwrap();
    let o = bin(
        r,
        &["merge", "legs/linux", "legs/macos", "--config", "c.yml"],
    );
    exits(&o, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("0-junit-macos.xml does not match the SHA-256 its leg `macos` recorded"),
        "{err}"
    );
    std::fs::create_dir_all(r.join("legs/empty")).unwrap();
    let o = bin(r, &["merge", "legs/linux", "legs/empty"]);
    exits(&o, 2);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not a controlgate leg"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Two directories claiming one leg.
    copy_dir(&r.join("legs/linux"), &r.join("legs/linux-again"));
    let o = bin(r, &["merge", "legs/linux", "legs/linux-again"]);
    exits(&o, 2);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("two legs are named `linux`"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A leg copies its inputs from where they were read, not from the path the report shows: a
/// results directory named like an AWS key is redacted in the report (the leg failed with "No
/// such file" on `[REDACTED:aws_access_key]/r.xml`), and a name that is not UTF-8 shows with a
/// replacement character.
#[test]
fn a_leg_copies_inputs_whose_shown_paths_are_not_their_own() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let passing = r#"<testsuite name="s"><testcase classname="c" name="t [cc6-1]"/></testsuite>"#;
    std::fs::create_dir_all(r.join("AKIAIOSFODNN7EXAMPLE")).unwrap();
    std::fs::write(r.join("AKIAIOSFODNN7EXAMPLE/r.xml"), passing).unwrap();
    let odd = std::ffi::OsStr::from_bytes(b"odd\xffname.xml");
    std::fs::write(r.join(odd), passing.replace("t [", "u [")).unwrap();
    let o = bin(
        r,
        &[
            "report",
            "--junit",
            "AKIAIOSFODNN7EXAMPLE/r.xml",
            "--junit",
            "odd*.xml",
            "--leg",
            "a",
            "--out",
            "legs/a",
        ],
    );
    exits(&o, 0);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.join("legs/a/leg.json")).unwrap()).unwrap();
    let copied: Vec<String> = manifest["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            std::fs::read_to_string(r.join("legs/a").join(f["path"].as_str().unwrap())).unwrap()
        })
        .collect();
    assert_eq!(copied.len(), 2, "{manifest}");
    assert!(
        copied.iter().any(|c| c.contains("name=\"t [cc6-1]\"")),
        "{copied:?}"
    );
    assert!(
        copied.iter().any(|c| c.contains("name=\"u [cc6-1]\"")),
        "{copied:?}"
    );
    // The fan-in job reads them back.
    let m = bin(r, &["merge", "legs/a", "--format", "json"]);
    exits(&m, 0);
    assert_eq!(json(&m)["tests"]["total"], 2);
}
