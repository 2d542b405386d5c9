//! The binary as a user runs it: exit codes, bad input, output files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_controlgate"))
}

pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("spawn controlgate")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub const GOOD: &str = r#"<?xml version="1.0"?>
<testsuites>
  <testsuite name="auth" tests="2">
    <testcase classname="tests.auth" name="test_login [cc6-1]" time="0.1"/>
    <testcase classname="tests.auth" name="test_deploy @cc8-1" time="0.2"/>
  </testsuite>
</testsuites>
"#;

fn workdir(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    dir
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs `report` on a good file plus `bad`, asserting exit 2, a message naming the bad file
/// (and `line` when given) and that `--out` was left untouched.
fn assert_rejected(bad: &[u8], expect_in_message: &str, line: Option<u64>) {
    let dir = workdir(&[("good.xml", GOOD.as_bytes()), ("bad.xml", bad)]);
    let out_dir = dir.path().join("out");
    let o = run_in(dir.path(), &["report", "--junit", "*.xml", "--out", "out"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let expected_prefix = match line {
        Some(l) => format!("bad.xml:{l}"),
        None => "bad.xml".to_owned(),
    };
    assert!(
        err.contains(&expected_prefix),
        "no `{expected_prefix}` in: {err}"
    );
    assert!(
        err.contains(expect_in_message),
        "no `{expect_in_message}` in: {err}"
    );
    assert!(o.stdout.is_empty(), "printed a report despite the error");
    assert!(
        listing(&out_dir).is_empty(),
        "partial output left: {:?}",
        listing(&out_dir)
    );
}

#[test]
fn good_input_passes_and_writes_both_files() {
    let dir = workdir(&[("r/junit.xml", GOOD.as_bytes())]);
    let o = run_in(
        dir.path(),
        &["report", "--junit", "r/*.xml", "--out", "out"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(
        md.contains("| **CC6.1** |") && md.contains("| **CC8.1** |"),
        "{md}"
    );
    let names: Vec<String> = listing(&dir.path().join("out"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["report.json", "summary.md"]);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["inputs"][0]["path"], "r/junit.xml");
    assert_eq!(json["inputs"][0]["bytes"], GOOD.len());
}

#[test]
fn a_failing_gate_exits_1() {
    let xml = GOOD.replace(
        r#"time="0.2"/>"#,
        r#"time="0.2"><failure message="boom">trace</failure></testcase>"#,
    );
    let dir = workdir(&[("j.xml", xml.as_bytes())]);
    let o = run_in(
        dir.path(),
        &["report", "--junit", "j.xml", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["tests"]["failed"], 1);
}

#[test]
fn empty_file_is_rejected() {
    assert_rejected(b"", "empty", None);
}

#[test]
fn non_xml_is_rejected() {
    assert_rejected(b"this is not xml at all\n", "JUnit", None);
}

#[test]
fn truncated_xml_is_rejected() {
    let cut = &GOOD.as_bytes()[..GOOD.len() - 30];
    assert_rejected(cut, "", None);
}

#[test]
fn entity_expansion_is_rejected() {
    let lol = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<testsuites><testsuite name="&lol3;"><testcase name="x"/></testsuite></testsuites>
"#;
    // The declaration ends on line 6, where the reader sees it whole.
    assert_rejected(lol, "DOCTYPE", Some(6));
}

#[test]
fn ten_megabyte_attribute_is_handled_without_blowing_up() {
    // Accepted or rejected, but never a crash; the kept message stays bounded.
    let big = "x".repeat(10 * 1024 * 1024);
    let xml = format!(
        r#"<testsuite name="s"><testcase classname="c" name="n"><failure message="{big}"/></testcase></testsuite>"#
    );
    let dir = workdir(&[("big.xml", xml.as_bytes())]);
    let o = run_in(
        dir.path(),
        &["report", "--junit", "big.xml", "--format", "json"],
    );
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    match o.status.code() {
        Some(0 | 1) => {
            let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let msg = json["cases"][0]["message"].as_str().unwrap();
            assert!(msg.len() <= 4096);
            assert_eq!(json["cases"][0]["message_bytes"], 10 * 1024 * 1024);
        }
        Some(2) => assert!(err.contains("big.xml"), "{err}"),
        other => panic!("unexpected exit {other:?}: {err}"),
    }
}

#[test]
fn a_glob_that_matches_nothing_is_rejected() {
    let dir = workdir(&[("good.xml", GOOD.as_bytes())]);
    let o = run_in(
        dir.path(),
        &[
            "report",
            "--junit",
            "good.xml",
            "reports/*.xml",
            "--out",
            "out",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("`reports/*.xml` matches no file"), "{err}");
    assert!(!dir.path().join("out").exists());
}

/// A file that cannot be read is named with the system's reason, said once.
#[test]
fn an_unreadable_file_is_named_with_its_reason_once() {
    let dir = workdir(&[
        ("good.xml", GOOD.as_bytes()),
        ("lcov.info", b"SF:a\nDA:1,1\nend_of_record\n"),
    ]);
    let o = run_in(
        dir.path(),
        &[
            "report",
            "--junit",
            "good.xml",
            "--coverage",
            "lcov.info",
            "--diff",
            "missing.diff",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("missing.diff"), "{err}");
    assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
}

#[test]
fn wrong_root_is_rejected() {
    assert_rejected(
        b"<?xml version=\"1.0\"?>\n<coverage line-rate=\"1\"></coverage>\n",
        "testsuite",
        None,
    );
}

#[test]
fn config_errors_exit_2_with_the_key() {
    let dir = workdir(&[
        ("good.xml", GOOD.as_bytes()),
        (
            ".github/controlgate.yml",
            b"controls:\n  requird: [CC6.1]\n",
        ),
    ]);
    let o = run_in(dir.path(), &["report", "--junit", "good.xml"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(".github/controlgate.yml:2") && err.contains("did you mean `required`?"),
        "{err}"
    );
    let o = run_in(dir.path(), &["controls", "--check"]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::write(
        dir.path().join(".github/controlgate.yml"),
        "controls:\n  required: [CC6.1]\n",
    )
    .unwrap();
    let o = run_in(dir.path(), &["controls", "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("ok (0 mapping rule(s), 1 required control(s))")
    );
}

#[test]
fn usage_errors_exit_2() {
    let o = bin().args(["report"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = bin()
        .args(["report", "--junit", "x", "--format", "yaml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn controls_prints_the_catalog() {
    let o = bin().arg("controls").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.lines().count(), 62, "header + 61 criteria");
    assert!(text.contains("CC8.1   Security"));
    assert!(text.contains("PI1.3   Processing Integrity"));
}

#[test]
fn the_run_records_the_digest_of_the_config_that_decided_it() {
    let config = b"controls:\n  required: [CC6.1]\n";
    let dir = workdir(&[
        ("good.xml", GOOD.as_bytes()),
        (".github/controlgate.yml", config),
    ]);
    let o = run_in(
        dir.path(),
        &["report", "--junit", "good.xml", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let expected = controlgate::retain::canonical::sha256_hex(config);
    assert_eq!(json["run"]["config_digest"], expected.as_str());
    let o = run_in(
        dir.path(),
        &[
            "report",
            "--junit",
            "good.xml",
            "--format",
            "json",
            "--config",
            "/dev/null",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        json["run"]["config_digest"],
        controlgate::retain::canonical::sha256_hex(b"").as_str()
    );
}

/// One run over every test-result format at once, through the binary as users call it: each
/// file detected by content, all tests in one verdict, each format's tag carrier mapped.
#[test]
fn results_in_every_format_merge_into_one_run() {
    let nunit = r#"<?xml version="1.0" encoding="utf-8"?>
<test-run id="2" testcasecount="2" result="Failed">
  <test-suite type="TestFixture" name="LoginTests" fullname="App.LoginTests">
    <test-case id="1" name="RejectsExpired" fullname="App.LoginTests.RejectsExpired" classname="App.LoginTests" methodname="RejectsExpired" result="Passed">
      <properties><property name="Category" value="cc6-1"/></properties>
    </test-case>
    <test-case id="2" name="Locks" fullname="App.LoginTests.Locks" classname="App.LoginTests" methodname="Locks" result="Failed">
      <failure><message>expected locked</message></failure>
    </test-case>
  </test-suite>
</test-run>
"#;
    let xunit = r#"<assemblies><assembly name="a.dll"><collection name="c">
  <test name="App.Deploy.Approved" type="App.Deploy" method="Approved" result="Pass" time="0.1">
    <traits><trait name="control" value="CC8.1"/></traits>
  </test>
</collection></assembly></assemblies>
"#;
    let go = r#"{"Action":"start","Package":"example.com/auth"}
{"Action":"run","Package":"example.com/auth","Test":"TestLogin"}
{"Action":"run","Package":"example.com/auth","Test":"TestLogin/a1_2"}
{"Action":"pass","Package":"example.com/auth","Test":"TestLogin/a1_2","Elapsed":0.01}
{"Action":"pass","Package":"example.com/auth","Test":"TestLogin","Elapsed":0.02}
{"Action":"pass","Package":"example.com/auth","Elapsed":0.03}
"#;
    let mocha = r#"{"stats":{"suites":1,"tests":1,"passes":0,"pending":1,"failures":0},
 "tests":[{"title":"rotates keys [cc6-7]","fullTitle":"keys rotates keys [cc6-7]","file":"/t/keys.spec.js","duration":0,"currentRetry":0,"err":{}}],
 "pending":[{"title":"rotates keys [cc6-7]","fullTitle":"keys rotates keys [cc6-7]","file":"/t/keys.spec.js","currentRetry":0,"err":{}}],
 "failures":[],"passes":[]}
"#;
    let dir = workdir(&[
        ("r/a.xml", GOOD.as_bytes()),
        ("r/b.xml", nunit.as_bytes()),
        ("r/c.xml", xunit.as_bytes()),
        ("r/go.json", go.as_bytes()),
        ("r/mocha.json", mocha.as_bytes()),
    ]);
    for flag in ["--results", "--junit"] {
        let o = run_in(dir.path(), &["report", flag, "r/*", "--format", "json"]);
        assert_eq!(o.status.code(), Some(1), "{flag}: {}", stderr(&o));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        // 2 JUnit + 2 NUnit + 1 xUnit.net + 2 Go (the test and its subtest) + 1 Mocha.
        assert_eq!(json["tests"]["total"], 8, "{flag}: {}", json["tests"]);
        assert_eq!(json["tests"]["failed"], 1, "{}", json["tests"]);
        assert_eq!(json["tests"]["skipped"], 1, "{}", json["tests"]);
        let evidenced: Vec<&str> = json["controls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["tests"].as_u64().unwrap_or(0) > 0)
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        for id in ["CC6.1", "CC8.1", "A1.2", "CC6.7"] {
            assert!(evidenced.contains(&id), "{flag}: {id} not in {evidenced:?}");
        }
        assert_eq!(json["inputs"].as_array().unwrap().len(), 5);
    }
}

/// A config, a diff or a leg's file where something other than a file stands: a default
/// config that is there but cannot be read is never the built-in defaults (the run passed on
/// them), and a device is never read (`/dev/zero` took gigabytes, then the time limit).
#[test]
fn what_is_not_a_file_where_a_file_is_read_is_bad_input() {
    use std::os::unix::fs::symlink;
    let dir = workdir(&[("good.xml", GOOD.as_bytes())]);
    let d = dir.path();
    std::fs::create_dir(d.join(".github")).unwrap();
    let config = d.join(".github/controlgate.yml");
    for what in ["dangling link", "directory", "device"] {
        match what {
            "dangling link" => symlink("missing.yml", &config).unwrap(),
            "directory" => std::fs::create_dir(&config).unwrap(),
            _ => symlink("/dev/zero", &config).unwrap(),
        }
        let o = run_in(d, &["report", "--junit", "good.xml"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(".github/controlgate.yml"), "{what}: {err}");
        let o = run_in(
            d,
            &[
                "report",
                "--junit",
                "good.xml",
                "--config",
                ".github/controlgate.yml",
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{what}: {}", stderr(&o));
        let _ = std::fs::remove_file(&config).or_else(|_| std::fs::remove_dir(&config));
    }
    // With no config there at all: the defaults.
    assert_eq!(
        run_in(d, &["report", "--junit", "good.xml"]).status.code(),
        Some(0)
    );
    std::fs::write(d.join("lcov.info"), "SF:a\nDA:1,1\nend_of_record\n").unwrap();
    symlink("/dev/zero", d.join("zero.diff")).unwrap();
    let o = run_in(
        d,
        &[
            "report",
            "--junit",
            "good.xml",
            "--coverage",
            "lcov.info",
            "--diff",
            "zero.diff",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("zero.diff") && err.contains("not a regular file"),
        "{err}"
    );
    // A leg whose manifest or copied results are a device.
    let o = run_in(
        d,
        &[
            "report", "--junit", "good.xml", "--leg", "linux", "--out", "leg",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let copies = d.join("leg/inputs/results");
    let copy = std::fs::read_dir(&copies)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(&copy).unwrap();
    symlink("/dev/zero", &copy).unwrap();
    let o = run_in(d, &["merge", "leg"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    std::fs::remove_file(d.join("leg/leg.json")).unwrap();
    symlink("/dev/zero", d.join("leg/leg.json")).unwrap();
    let o = run_in(d, &["merge", "leg"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}
