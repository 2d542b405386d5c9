//! Trust (issue 13): gates fail closed when they cannot be evaluated, evidence verifies what
//! it wrote, secrets (and their encodings) reach no output, printed input is inert and
//! bounded, and unusable stores are errors — each through the binary as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

use crate::coverage_util::git;
use crate::evidence_cli::{commit, exits, gate, json, repo};

/// The bundle directory of ledger entry `seq` in the `dir` store at `store`.
fn entry_bundle(store: &Path, seq: u64) -> std::path::PathBuf {
    let entry: Value = serde_json::from_str(
        &std::fs::read_to_string(store.join(format!("ledger/{seq:010}.json"))).unwrap(),
    )
    .unwrap();
    store
        .join("bundles")
        .join(entry["bundle"].as_str().unwrap())
}

fn bin(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_controlgate"));
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const PASSING: &str =
    r#"<testsuite name="s"><testcase classname="a" name="t [cc6-1]"/></testsuite>"#;

// ---------------------------------------------------------------------------------------------
// Gates that pass without being evaluated (defect 5)

#[test]
fn a_run_with_no_tests_or_failing_untagged_tests_never_passes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "empty.xml", "<testsuites/>");
    let failing: String = (0..5)
        .map(|i| {
            format!(r#"<testcase classname="u" name="t{i}"><failure message="boom"/></testcase>"#)
        })
        .collect();
    write(
        d,
        "untagged.xml",
        &format!("<testsuite name=\"s\">{failing}</testsuite>"),
    );
    let passing: String = (0..5)
        .map(|i| format!(r#"<testcase classname="u" name="p{i}"/>"#))
        .collect();
    write(
        d,
        "passing.xml",
        &format!("<testsuite name=\"s\">{passing}</testsuite>"),
    );
    write(d, "tagged.yml", "tests: {scope: tagged}\n");
    write(
        d,
        "tagged-pass.yml",
        "tests: {scope: tagged, min_pass_rate: {value: 100, when_unavailable: pass}}\n",
    );

    // An empty `<testsuites/>`: nothing was tested, so nothing passed.
    let o = bin(d)
        .args(["report", "--junit", "empty.xml", "--format", "json"])
        .output()
        .unwrap();
    exits(&o, 1);
    let g = gate(&json(&o), "tests.min_pass_rate").clone();
    assert_eq!(
        (g["status"].as_str(), g["result"].as_str()),
        (Some("fail"), Some("not_evaluated"))
    );
    assert!(
        g["detail"]
            .as_str()
            .unwrap()
            .contains("the results hold no tests"),
        "{g}"
    );
    // The Markdown says it too.
    let o = bin(d)
        .args(["report", "--junit", "empty.xml"])
        .output()
        .unwrap();
    exits(&o, 1);
    assert!(stdout(&o).contains("❌ not evaluated"), "{}", stdout(&o));

    // Five failing tests, none tagged, no config.
    let o = bin(d)
        .args(["report", "--junit", "untagged.xml", "--format", "json"])
        .output()
        .unwrap();
    exits(&o, 1);
    assert_eq!(json(&o)["verdict"], "fail");

    // The tagged scope with no tagged test is not "nothing to check": it fails closed...
    for file in ["untagged.xml", "passing.xml"] {
        let o = bin(d)
            .args([
                "report",
                "--junit",
                file,
                "--config",
                "tagged.yml",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        exits(&o, 1);
        let g = gate(&json(&o), "tests.min_pass_rate").clone();
        assert_eq!(g["result"], "not_evaluated", "{g}");
        assert!(
            g["detail"]
                .as_str()
                .unwrap()
                .contains("none mapped to a control"),
            "{g}"
        );
    }
    // ...unless the user says otherwise.
    let o = bin(d)
        .args([
            "report",
            "--junit",
            "passing.xml",
            "--config",
            "tagged-pass.yml",
        ])
        .output()
        .unwrap();
    exits(&o, 0);
    assert!(
        stdout(&o).contains("when\\_unavailable: pass"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn every_threshold_is_validated_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "j.xml", PASSING);
    let keys = [
        ("tests:\n  min_pass_rate: {}\n", "tests.min_pass_rate"),
        ("api:\n  min_coverage: {}\n", "api.min_coverage"),
        (
            "coverage:\n  project:\n    min: {}\n",
            "coverage.project.min",
        ),
        (
            "coverage:\n  project:\n    max_drop: {}\n",
            "coverage.project.max_drop",
        ),
        ("coverage:\n  patch:\n    min: {}\n", "coverage.patch.min"),
    ];
    for (yaml, key) in keys {
        for bad in [
            ".nan",
            ".inf",
            "-.inf",
            "-1",
            "100.5",
            "{value: .nan, informational: true}",
        ] {
            write(d, "c.yml", &yaml.replace("{}", bad));
            let o = bin(d)
                .args(["report", "--junit", "j.xml", "--config", "c.yml"])
                .output()
                .unwrap();
            exits(&o, 2);
            let err = stderr(&o);
            assert!(
                err.contains(key) && err.contains("not a percentage"),
                "{bad}: {err}"
            );
            let line = yaml.lines().count();
            assert!(
                err.contains(&format!("c.yml:{line}")),
                "{bad}: no line {line}: {err}"
            );
        }
    }
}

/// One run per gate family whose check can be impossible; each is not evaluated and fails
/// closed, and passes with `when_unavailable: pass`.
#[test]
fn every_gate_family_fails_closed_when_it_cannot_be_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "j.xml", PASSING);
    write(d, "empty.xml", "<testsuites/>");
    // Inside the run's directory: the config's descriptions are read from the repository only.
    std::fs::copy(
        crate::coverage_util::manifest_dir().join("tests/fixtures/api/petstore-3.0.yaml"),
        d.join("petstore.yaml"),
    )
    .unwrap();
    let spec = "petstore.yaml";
    // (gate, config with `{policy}` where the setting goes, the value, junit)
    let families = [
        (
            "tests.min_pass_rate",
            "tests:\n  min_pass_rate: {policy}\n",
            "100",
            "empty.xml",
        ),
        (
            "coverage.project.min",
            "coverage:\n  project:\n    min: {policy}\n",
            "80",
            "j.xml",
        ),
        (
            "coverage.project.max_drop",
            "coverage:\n  project:\n    max_drop: {policy}\n",
            "1",
            "j.xml",
        ),
        (
            "tickets.required",
            "tickets:\n  required: {policy}\n  jira: {projects: [ENG]}\n",
            "true",
            "j.xml",
        ),
        (
            "api.new_operations_require_tests",
            // Not a git repository: the base description cannot be read.
            &format!(
                "api:\n  specs: ['{spec}']\n  breaking_changes: false\n  new_operations_require_tests: {{policy}}\n"
            ),
            "true",
            "j.xml",
        ),
        (
            "api.breaking_changes",
            &format!("api:\n  specs: ['{spec}']\n  breaking_changes: {{policy}}\n"),
            "true",
            "j.xml",
        ),
    ];
    for (name, yaml, value, junit) in families {
        for (policy, status) in [
            (value.to_owned(), "fail"),
            (
                format!("{{value: {value}, when_unavailable: pass}}"),
                "pass",
            ),
            (
                format!("{{value: {value}, informational: true}}"),
                "informational",
            ),
        ] {
            write(d, "c.yml", &yaml.replace("{policy}", &policy));
            let o = bin(d)
                .args([
                    "report", "--junit", junit, "--config", "c.yml", "--format", "json",
                ])
                .output()
                .unwrap();
            let report = json(&o);
            let g = gate(&report, name);
            assert_eq!(g["result"], "not_evaluated", "{name} {policy}: {g}");
            assert_eq!(g["status"], status, "{name} {policy}: {g}");
            assert!(
                g["detail"].as_str().unwrap().starts_with("not evaluated: "),
                "{g}"
            );
            let fails = report["gates"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["status"] == "fail");
            exits(&o, i32::from(fails));
            if status == "fail" {
                exits(&o, 1);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The base run's evidence (defects 5, 6) and unusable stores (defect 9)

/// A base run retained on `main` (80 % coverage), then a PR branch at 60 %.
fn base_and_pr(config: &str) -> tempfile::TempDir {
    let dir = repo();
    let r = dir.path();
    write(r, "c.yml", config);
    commit(r, 10, 8, "base");
    let o = bin(r)
        .args([
            "report",
            "--junit",
            "junit.xml",
            "--coverage",
            "lcov.info",
            "--base",
            "main",
        ])
        .args(["--config", "c.yml", "--evidence", "ev"])
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    git(r, &["checkout", "-qb", "feature"]);
    commit(r, 10, 6, "pr");
    dir
}

fn pr_report(r: &Path) -> Output {
    bin(r)
        .args([
            "report",
            "--junit",
            "junit.xml",
            "--coverage",
            "lcov.info",
            "--base",
            "main",
        ])
        .args(["--config", "c.yml", "--evidence", "ev", "--format", "json"])
        .output()
        .unwrap()
}

#[test]
fn a_ledger_that_is_not_intact_fails_max_drop_whatever_when_unavailable_says() {
    let config = "coverage:\n  project:\n    max_drop: {value: 50, when_unavailable: pass}\n";
    let dir = base_and_pr(config);
    let r = dir.path();
    // Intact: the base is used (80 → 60, within the allowed 50 points).
    let o = pr_report(r);
    exits(&o, 0);
    assert_eq!(
        gate(&json(&o), "coverage.project.max_drop")["result"],
        "pass"
    );
    // One edited byte in the ledger: the base cannot be trusted, and the gate fails even
    // though a *missing* base would pass.
    let entry = r.join("ev/ledger/0000000001.json");
    let text = std::fs::read_to_string(&entry)
        .unwrap()
        .replace("\"pass\"", "\"fail\"");
    std::fs::write(&entry, text).unwrap();
    let o = pr_report(r);
    exits(&o, 1);
    let report = json(&o);
    let g = gate(&report, "coverage.project.max_drop");
    assert_eq!(
        (g["status"].as_str(), g["result"].as_str()),
        (Some("fail"), Some("not_evaluated"))
    );
    let detail = g["detail"].as_str().unwrap();
    assert!(
        detail.contains("not intact") && detail.contains("never used"),
        "{detail}"
    );
    assert_eq!(report["coverage"]["base_unavailable"]["untrusted"], true);
}

#[test]
fn an_edited_base_coverage_report_is_not_used() {
    let config = "coverage:\n  project:\n    max_drop: 5\n";
    let dir = base_and_pr(config);
    let r = dir.path();
    // 80 → 60 drops 20 points: fails on the real base.
    let o = pr_report(r);
    exits(&o, 1);
    assert_eq!(
        gate(&json(&o), "coverage.project.max_drop")["result"],
        "fail"
    );
    // Someone lowers the base run's kept lcov.info to 0 % so the drop vanishes. The chain of
    // entries is intact; the bundle's file no longer matches its manifest.
    let bundle = entry_bundle(&r.join("ev"), 1);
    let lcov = bundle.join("inputs/lcov.info");
    let text = std::fs::read_to_string(&lcov)
        .unwrap()
        .replace(",1\n", ",0\n");
    std::fs::write(&lcov, text).unwrap();
    let o = pr_report(r);
    exits(&o, 1);
    let report = json(&o);
    let g = gate(&report, "coverage.project.max_drop");
    assert_eq!(g["result"], "not_evaluated", "{g}");
    let detail = g["detail"].as_str().unwrap();
    assert!(
        detail.contains("failed verification") && detail.contains("lcov.info was edited"),
        "{detail}"
    );
    assert!(
        report["coverage"]["base"].is_null(),
        "{}",
        report["coverage"]
    );
}

#[test]
fn a_store_that_cannot_be_read_is_an_error_never_no_base() {
    let dir =
        base_and_pr("coverage:\n  project:\n    max_drop: {value: 5, when_unavailable: pass}\n");
    let r = dir.path();
    // The ledger directory is unreadable as a directory (a file in its place).
    std::fs::remove_dir_all(r.join("ev/ledger")).unwrap();
    std::fs::write(r.join("ev/ledger"), "not a directory").unwrap();
    let o = pr_report(r);
    exits(&o, 2);
    assert!(stderr(&o).contains("ledger"), "{}", stderr(&o));
    // verify says the same: unusable input, not "tampered".
    let o = bin(r).args(["verify", "--store", "ev"]).output().unwrap();
    exits(&o, 2);
    assert!(!stdout(&o).contains("TAMPERED"), "{}", stdout(&o));
}

#[test]
fn verify_refuses_a_malformed_expected_tip_as_usage() {
    let dir = repo();
    let r = dir.path();
    commit(r, 4, 4, "base");
    let o = bin(r)
        .args(["report", "--junit", "junit.xml", "--evidence", "ev"])
        .output()
        .unwrap();
    exits(&o, 0);
    for bad in [
        "2:ffff",
        "x:abc",
        "1",
        "0:".to_owned().as_str(),
        &format!("1:{}", "G".repeat(64)),
    ] {
        let o = bin(r)
            .args(["verify", "--store", "ev", "--expect-tip", bad])
            .output()
            .unwrap();
        exits(&o, 2);
        assert!(
            stderr(&o).contains("expected SEQ:DIGEST"),
            "{bad}: {}",
            stderr(&o)
        );
    }
    // A well-formed tip that is not in the ledger: that is truncation, exit 1.
    let o = bin(r)
        .args([
            "verify",
            "--store",
            "ev",
            "--expect-tip",
            &format!("9:{}", "a".repeat(64)),
        ])
        .output()
        .unwrap();
    exits(&o, 1);
}

// ---------------------------------------------------------------------------------------------
// Secrets (defects 1-3)

const GH: &str = "ghs_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
const SECRET_LINE: &str = "s3cr3t-Value_123";
const PASSWORD: &str = "p@ss w/rd:é!x+y";
const JIRA: &str = "jiraTOKEN0123456789abcdef";
const EMAIL: &str = "bot@acme.example";
/// A secret with the characters XML and JSON writers escape.
const MARKUP: &str = "mk&<up>\"q'9Z";

/// Every form a secret travels in: raw, URL-encoded, JSON-escaped, base64 alone and after a
/// `user:` prefix (Basic auth, git's extraheader), standard and URL-safe.
fn forms(secret: &str) -> Vec<String> {
    let url: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let xml = secret.replace('&', "&amp;").replace('<', "&lt;");
    let go = serde_json::to_string(secret).unwrap();
    let go = go[1..go.len() - 1]
        .replace('&', "\\u0026")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e");
    let mut out = vec![
        secret.to_owned(),
        url,
        xml.replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&apos;"),
        xml,
        go,
        secret.bytes().map(|b| format!("{b:02x}")).collect(),
    ];
    for prefix in ["", "x-access-token:", "bot@acme.example:", "u:"] {
        let raw = format!("{prefix}{secret}");
        out.push(STANDARD.encode(&raw));
        out.push(URL_SAFE_NO_PAD.encode(&raw));
    }
    out
}

/// The part of an encoded form that only the secret determines (what must never appear).
fn fingerprints(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_owned()];
    for f in forms(secret).into_iter().skip(1) {
        // The middle of an encoded form (its ends mix with neighbouring bytes or padding).
        let f = f.trim_end_matches('=');
        if f.len() > 12 {
            out.push(f[4..f.len() - 4].to_owned());
        }
    }
    out
}

fn secret_env(c: &mut Command) {
    c.env("GITHUB_TOKEN", GH)
        .env(
            "CONTROLGATE_SECRETS",
            format!("{SECRET_LINE}\n{PASSWORD}\n{MARKUP}\n"),
        )
        .env("INPUT_JIRA-API-TOKEN", JIRA)
        .env("INPUT_JIRA-EMAIL", EMAIL);
}

/// Every file under `dir`, as text.
fn all_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
                out.push((p.display().to_string(), text));
            }
        }
    }
    out
}

fn assert_no_secret(surfaces: &[(String, String)]) {
    let mut checked = 0;
    for secret in [GH, SECRET_LINE, PASSWORD, JIRA, MARKUP] {
        for fp in fingerprints(secret) {
            for (name, text) in surfaces {
                assert!(
                    !text.contains(&fp),
                    "`{fp}` (a form of {secret}) reached {name}:\n{}",
                    &text[text.find(&fp).unwrap().saturating_sub(200)..]
                        .chars()
                        .take(400)
                        .collect::<String>()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100);
}

/// Secrets × encodings × surrounding characters × every output surface of `report`.
#[test]
fn no_secret_in_any_encoding_reaches_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Every form of every secret, glued to word characters, after `%3D`, after a literal
    // `\n`, in a header, and as the built-in shapes glued the same way.
    let mut texts = Vec::new();
    for secret in [GH, SECRET_LINE, PASSWORD, JIRA, MARKUP] {
        for f in forms(secret) {
            texts.push(format!("x{f}x"));
            texts.push(format!("token%3D{f}&y=1"));
            texts.push(format!("line\\n{f}"));
            texts.push(format!("Authorization: Basic {f}"));
        }
    }
    texts.push("token%3Dghp_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2\\nAKIAIOSFODNN7EXAMPLE".into());
    let body = texts.join("  ");
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('"', "&quot;")
    };
    let mut junit = String::from("<testsuites><testsuite name=\"suite\">");
    for (i, t) in texts.iter().enumerate() {
        junit.push_str(&format!(
            "<testcase classname=\"pkg.{i}\" name=\"t [cc6-1] {n}\" file=\"src/{n}.py\">\
             <properties><property name=\"service\" value=\"{n}\"/></properties>\
             <failure message=\"{n}\">{b}</failure><system-out>{n}</system-out></testcase>",
            n = esc(t),
            b = esc(&body),
        ));
    }
    junit.push_str("</testsuite></testsuites>");
    write(d, "junit.xml", &junit);
    // Coverage: one file that matches, one path that does not (listed as unmatched).
    write(d, "app.py", "a = 1\nb = 2\n");
    write(
        d,
        "lcov.info",
        &format!(
            "SF:app.py\nDA:1,1\nDA:2,0\nend_of_record\nSF:/ci/{SECRET_LINE}/{PASSWORD}/x.py\nDA:1,1\nend_of_record\n"
        ),
    );
    write(
        d,
        "change.diff",
        "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -0,0 +1,2 @@\n+a = 1\n+b = 2\n",
    );
    let mut surfaces = Vec::new();
    for format in ["markdown", "json"] {
        let mut c = bin(d);
        secret_env(&mut c);
        let o = c
            .args(["report", "--junit", "junit.xml", "--coverage", "lcov.info"])
            .args(["--diff", "change.diff", "--format", format, "--out", "out"])
            .args(["--evidence", "ev"])
            .output()
            .unwrap();
        exits(&o, 1);
        surfaces.push((format!("stdout ({format})"), stdout(&o)));
        surfaces.push((format!("stderr ({format})"), stderr(&o)));
    }
    surfaces.extend(all_files(&d.join("out")));
    surfaces.extend(all_files(&d.join("ev")));
    // A failing run's error message quotes an input path holding a secret.
    write(
        d,
        "bad.info",
        &format!("SF:/{PASSWORD}/{SECRET_LINE}.py\nDA:1,1\nend_of_record\n"),
    );
    let mut c = bin(d);
    secret_env(&mut c);
    let o = c
        .args([
            "report",
            "--junit",
            "junit.xml",
            "--coverage",
            "bad.info",
            "--diff",
            "change.diff",
        ])
        .output()
        .unwrap();
    exits(&o, 2);
    surfaces.push(("stderr (error)".into(), stderr(&o)));
    assert_no_secret(&surfaces);
    // It was redacted, not dropped: the report counts and names the kinds.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/report.json")).unwrap()).unwrap();
    let kinds = &report["redactions"]["by_kind"];
    for k in ["secret", "github_token", "aws_access_key", "authorization"] {
        assert!(kinds[k].as_u64().unwrap_or(0) > 0, "{k}: {kinds}");
    }
    // The evidence bundle kept the raw JUnit as a redacted copy tied to the original.
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(entry_bundle(&d.join("ev"), 1).join("manifest.json")).unwrap(),
    )
    .unwrap();
    let junit_entry = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "inputs/junit.xml")
        .unwrap();
    assert!(
        junit_entry["redacted"]["count"].as_u64().unwrap() > 0,
        "{junit_entry}"
    );
}

/// A result file under directories named like a token and like the run's secret: the report
/// and the bundle show the path redacted, the evidence still reads the file from where it is
/// (the run was failing for its tests, not unusable), the store verifies, and neither name
/// is anywhere in it.
#[test]
fn inputs_under_secret_looking_paths_are_retained_under_their_redacted_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let failing = "<testsuite name=\"s\"><testcase classname=\"c\" name=\"t\"><failure>x</failure></testcase></testsuite>";
    let passing = "<testsuite name=\"s\"><testcase classname=\"c\" name=\"u\"/></testsuite>";
    write(
        d,
        &format!("AKIAIOSFODNN7EXAMPLE/{SECRET_LINE}/r.xml"),
        failing,
    );
    // Two paths that redact alike are two inputs of the bundle.
    write(d, &format!("AKIAIOSFODNN7EXAMPLE/{MARKUP}/r.xml"), passing);
    let mut c = bin(d);
    secret_env(&mut c);
    let o = c
        .args([
            "report",
            "--junit",
            "AKIAIOSFODNN7EXAMPLE/*/r.xml",
            "--format",
            "json",
        ])
        .args(["--evidence", "ev"])
        .output()
        .unwrap();
    exits(&o, 1);
    let report = json(&o);
    let paths: Vec<&str> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "[REDACTED:aws_access_key]/[REDACTED:secret]/r.xml",
            "[REDACTED:aws_access_key]/[REDACTED:secret]/r.xml"
        ]
    );
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(entry_bundle(&d.join("ev"), 1).join("manifest.json")).unwrap(),
    )
    .unwrap();
    let mut inputs: Vec<(String, String)> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().starts_with("inputs/"))
        .map(|f| {
            (
                f["source"].as_str().unwrap_or("").to_owned(),
                f["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    inputs.sort();
    let digests: Vec<&str> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sha256"].as_str().unwrap())
        .collect();
    assert_eq!(inputs.len(), 2, "{manifest}");
    let mut names: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .filter(|p| p.starts_with("inputs/"))
        .collect();
    names.sort();
    assert!(
        names[0].ends_with("]/r.xml") && names[1] == format!("{}~2", names[0]),
        "{names:?}"
    );
    assert!(
        inputs
            .iter()
            .all(|(_, sha)| digests.contains(&sha.as_str())),
        "{manifest}"
    );
    assert_ne!(inputs[0].1, inputs[1].1);
    let o = bin(d).args(["verify", "--store", "ev"]).output().unwrap();
    exits(&o, 0);
    let mut names = Vec::new();
    for (path, text) in all_files(&d.join("ev")) {
        names.push((format!("the name {path}"), path.clone()));
        names.push((path, text));
    }
    for (name, text) in &names {
        assert!(
            !text.contains("AKIAIOSFODNN7EXAMPLE") && !text.contains(SECRET_LINE),
            "{name}"
        );
    }
    assert_no_secret(&names);
}

#[test]
fn a_secret_the_message_cut_goes_through_is_redacted_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let token = "ghp_Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8";
    for start in [4080usize, 4090, 4093, 4095] {
        let pad = "y ".repeat(start / 2);
        write(
            d,
            "j.xml",
            &format!(
                "<testsuite name=\"s\"><testcase classname=\"c\" name=\"t\"><failure>{pad}{token} and more</failure></testcase></testsuite>"
            ),
        );
        let o = bin(d)
            .args(["report", "--junit", "j.xml", "--format", "json"])
            .output()
            .unwrap();
        exits(&o, 1);
        let report = json(&o);
        let message = report["cases"][0]["message"].as_str().unwrap();
        assert!(message.len() <= 4096, "{start}: {}", message.len());
        assert!(
            !message.contains("ghp_"),
            "{start}: a token prefix survived the cut"
        );
        // What the cut left of the token is the start of its redaction marker.
        let tail = message.rsplit(' ').next().unwrap();
        assert!(
            "[REDACTED:github_token]".starts_with(tail),
            "{start}: {}",
            &message[message.len() - 40..]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Printed input is inert and bounded (defect 8)

#[test]
fn printed_input_cannot_issue_workflow_commands_and_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "j.xml", PASSING);
    write(d, "app.py", "a = 1\n");
    write(
        d,
        "change.diff",
        "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -0,0 +1 @@\n+a = 1\n",
    );
    // A Cobertura filename that breaks the line and issues commands in both syntaxes.
    write(
        d,
        "cov.xml",
        "<?xml version=\"1.0\"?><coverage><packages><package name=\"p\"><classes>\
         <class name=\"c\" filename=\"x&#10;::error title=pwned::y&#13;##[set-output name=verdict;]pass\">\
         <lines><line number=\"1\" hits=\"1\"/></lines></class></classes></package></packages></coverage>",
    );
    let mut outputs = Vec::new();
    for actions in ["true", "false"] {
        let o = bin(d)
            .env("GITHUB_ACTIONS", actions)
            .args([
                "report",
                "--junit",
                "j.xml",
                "--coverage",
                "cov.xml",
                "--diff",
                "change.diff",
            ])
            .output()
            .unwrap();
        exits(&o, 2);
        outputs.push(o);
    }
    // A NUL byte in a path.
    write(d, "nul.info", "SF:/a/b\u{0}c.py\nDA:1,1\nend_of_record\n");
    let o = bin(d)
        .args([
            "report",
            "--junit",
            "j.xml",
            "--coverage",
            "nul.info",
            "--diff",
            "change.diff",
        ])
        .output()
        .unwrap();
    exits(&o, 2);
    assert!(stderr(&o).contains("b<U+0000>c.py"), "{}", stderr(&o));
    outputs.push(o);
    // A 5 MB config key, quoted in the "unknown field" error.
    write(
        d,
        "big.yml",
        &format!("tests:\n  {}: 1\n", "k".repeat(5 << 20)),
    );
    let o = bin(d)
        .args(["report", "--junit", "j.xml", "--config", "big.yml"])
        .output()
        .unwrap();
    exits(&o, 2);
    assert!(o.stderr.len() < 8192, "{} bytes on stderr", o.stderr.len());
    outputs.push(o);
    for o in &outputs {
        for stream in [stdout(o), stderr(o)] {
            assert!(!stream.contains("##["), "{stream}");
            assert!(!stream.contains('\0'), "a NUL byte was printed");
            for line in stream.lines() {
                assert!(
                    !line.trim_start().starts_with("::"),
                    "a command line: {line}"
                );
                assert!(line.len() <= 16 * 1024 + 64, "a {} byte line", line.len());
            }
        }
    }
    assert!(
        stderr(&outputs[0]).contains("<U+000A>::error"),
        "{}",
        stderr(&outputs[0])
    );
}

// ---------------------------------------------------------------------------------------------
// YAML nesting (defect 10)

#[test]
fn deeply_nested_yaml_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "j.xml", PASSING);
    let deep = "[".repeat(40_000);
    write(
        d,
        "c.yml",
        &format!("# controlgate\ntags:\n  properties: {deep}\n"),
    );
    let o = bin(d)
        .args(["report", "--junit", "j.xml", "--config", "c.yml"])
        .output()
        .unwrap();
    exits(&o, 2);
    assert!(
        stderr(&o).contains("c.yml:3: flow collections"),
        "{}",
        stderr(&o)
    );
    write(d, "spec.yaml", &format!("openapi: 3.0.0\ninfo: {deep}\n"));
    write(d, "api.yml", "api:\n  specs: [spec.yaml]\n");
    let o = bin(d)
        .args(["report", "--junit", "j.xml", "--config", "api.yml"])
        .output()
        .unwrap();
    exits(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("spec.yaml:2") && err.contains("nested deeper than 128"),
        "{err}"
    );
}
