//! `controlgate run` / `publish` as the Action runs them: the binary as a subprocess with
//! `INPUT_*`, `GITHUB_*` and an event file, publishing to the GitHub stand-in
//! ([`crate::github_fake`]: a stateful fake behind Prism's validating proxy).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::github_fake::{Fault, IDENTITY, stand, write};

const HEAD: &str = "1111111111111111111111111111111111111111";
const MERGE: &str = "9999999999999999999999999999999999999999";

/// A JUnit file: `(name, failed, control)` cases, each with a file and line.
fn junit(cases: &[(String, bool, &str)]) -> String {
    let mut s = String::from("<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"s\">\n");
    for (i, (name, failed, control)) in cases.iter().enumerate() {
        let _ = write!(
            s,
            "<testcase classname=\"pkg.mod\" name=\"{name}\" file=\"src/mod{}.rs\" line=\"{}\" time=\"0.1\">",
            i % 3,
            i + 10
        );
        if !control.is_empty() {
            let _ = write!(
                s,
                "<properties><property name=\"control\" value=\"{control}\"/></properties>"
            );
        }
        if *failed {
            let _ = write!(
                s,
                "<failure message=\"assertion failed: {name}\">trace</failure>"
            );
        }
        s.push_str("</testcase>\n");
    }
    s.push_str("</testsuite></testsuites>\n");
    s
}

/// A workspace whose `junit.xml` holds one passing test of CC8.1, read through `INPUT_JUNIT`.
fn passing(repo: &str, config: &str) -> Workspace {
    let mut ws = Workspace::new(repo, config);
    write(
        &ws.path().join("junit.xml"),
        &junit(&[("ok".into(), false, "CC8.1")]),
    );
    ws.extra_env
        .push(("INPUT_JUNIT".into(), "junit.xml".into()));
    ws
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    summary: String,
    outputs: String,
}

struct Workspace {
    dir: tempfile::TempDir,
    repo: String,
    extra_env: Vec<(String, String)>,
}

impl Workspace {
    fn new(repo: &str, config: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join(".github/controlgate.yml"), config);
        let event = serde_json::json!({
            "action": "synchronize",
            "number": 7,
            "pull_request": {"number": 7, "head": {"sha": HEAD, "ref": "feature"},
                             "base": {"sha": "2222222222222222222222222222222222222222", "ref": "main"}}
        });
        write(&dir.path().join("event.json"), &event.to_string());
        Workspace {
            dir,
            repo: repo.to_owned(),
            extra_env: vec![],
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_controlgate"));
        c.args(args)
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", self.path())
            .env("GITHUB_API_URL", &stand().prism_url)
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", &self.repo)
            .env("GITHUB_RUN_ID", "42")
            .env("GITHUB_RUN_ATTEMPT", "1")
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", self.path().join("event.json"))
            .env("GITHUB_SHA", MERGE)
            .env("GITHUB_STEP_SUMMARY", self.path().join("step-summary.md"))
            .env("GITHUB_OUTPUT", self.path().join("output.txt"))
            .env("INPUT_GITHUB-TOKEN", "ghs_secrettoken123")
            .env("INPUT_CHECK-NAME", "controlgate")
            .env("INPUT_COMMENT", "true")
            .env("CONTROLGATE_TEST_TIME_SCALE", "0.001");
        for (k, v) in &self.extra_env {
            c.env(k, v);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Outcome {
        let _ = std::fs::remove_file(self.path().join("output.txt"));
        let _ = std::fs::remove_file(self.path().join("step-summary.md"));
        let out = self.cmd(args).output().unwrap();
        let read = |n: &str| std::fs::read_to_string(self.path().join(n)).unwrap_or_default();
        let o = Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            summary: read("step-summary.md"),
            outputs: read("output.txt"),
        };
        assert!(
            !o.stdout.contains("secrettoken") && !o.stderr.contains("secrettoken"),
            "the token leaked"
        );
        o
    }

    fn assert_clean(&self) {
        let s = stand();
        assert_eq!(
            s.violations(&self.repo),
            Vec::<String>::new(),
            "Prism found schema violations"
        );
        let unexpected = s.with(&self.repo, |st| st.unexpected.clone());
        assert_eq!(
            unexpected,
            Vec::<String>::new(),
            "requests the fake did not expect"
        );
    }
}

fn output<'a>(outputs: &'a str, name: &str) -> Option<&'a str> {
    outputs
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
}

const REQUIRE_CC61: &str = "controls:\n  required: [CC6.1]\n";

/// A GitHub App's installation token cannot read `GET /user`: the comment it wrote (by
/// `<app>[bot]`) was looked for under `github-actions[bot]`, never found, and every run added
/// one more. Without the login, a bot's marker comment is ours; a person's never is.
#[test]
fn an_app_token_updates_its_own_comment_instead_of_adding_one_per_run() {
    let s = stand();
    let repo = s.repo("app-token", |st| {
        st.comments.push(crate::github_fake::Comment {
            id: 10,
            login: "mallory".into(),
            body: "<!-- controlgate:controlgate --> spoof".into(),
        });
    });
    let mut ws = passing(&repo, "");
    ws.extra_env
        .push(("INPUT_GITHUB-TOKEN".into(), "ghs_app_acme-gate".into()));
    for _ in 0..2 {
        let o = ws.run(&["run"]);
        assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    }
    s.with(&repo, |st| {
        let ours: Vec<_> = st
            .comments
            .iter()
            .filter(|c| c.login == "acme-gate[bot]")
            .collect();
        assert_eq!(
            ours.len(),
            1,
            "one comment after two runs: {:?}",
            st.comments
        );
        assert_eq!(
            st.comments[0].body,
            "<!-- controlgate:controlgate --> spoof"
        );
    });
    // The Actions token's login cannot be read either: its own comment is taken before an
    // older one of another App that quotes the marker.
    let repo = s.repo("actions-token", |st| {
        for (id, login) in [(20, "echo-app[bot]"), (21, "github-actions[bot]")] {
            st.comments.push(crate::github_fake::Comment {
                id,
                login: login.into(),
                body: "<!-- controlgate:controlgate -->\nold".into(),
            });
        }
    });
    let mut ws = passing(&repo, "");
    ws.extra_env
        .push(("INPUT_GITHUB-TOKEN".into(), "ghs_app_github-actions".into()));
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    s.with(&repo, |st| {
        assert_eq!(st.comments.len(), 2, "{:?}", st.comments);
        assert!(
            st.comments[0].body.ends_with("\nold"),
            "the other App's is untouched"
        );
        assert!(!st.comments[1].body.ends_with("\nold"), "ours was updated");
    });
}

#[test]
fn rerun_updates_one_sticky_comment_and_a_failing_control_fails_the_check() {
    let s = stand();
    let repo = s.repo("sticky", |st| {
        st.page_size = 2;
        // Someone else's comments, one of them quoting our marker: never touched.
        for (i, body) in [
            "hello",
            "<!-- controlgate:controlgate --> spoof",
            "lgtm",
            "nit",
        ]
        .iter()
        .enumerate()
        {
            st.comments.push(crate::github_fake::Comment {
                id: 10 + i as u64,
                login: "someone".into(),
                body: body.to_string(),
            });
        }
    });
    let ws = Workspace::new(&repo, REQUIRE_CC61);
    write(
        &ws.path().join("results/junit.xml"),
        &junit(&[
            ("login_ok".into(), false, "CC6.1"),
            ("login_rejects_bad_password".into(), true, "CC6.1"),
        ]),
    );
    let mut ws = ws;
    ws.extra_env
        .push(("INPUT_JUNIT".into(), "results/*.xml".into()));

    let first = ws.run(&["run"]);
    assert_eq!(first.code, 1, "{}\n{}", first.stdout, first.stderr);
    let second = ws.run(&["run"]);
    assert_eq!(second.code, 1, "{}\n{}", second.stdout, second.stderr);
    ws.assert_clean();

    s.with(&repo, |st| {
        let ours: Vec<_> = st.comments.iter().filter(|c| c.login == IDENTITY).collect();
        assert_eq!(ours.len(), 1, "exactly one comment after two runs");
        assert!(
            ours[0]
                .body
                .starts_with("<!-- controlgate:controlgate -->\n")
        );
        assert!(ours[0].body.contains("CC6.1"));
        assert_eq!(
            st.comments[1].body,
            "<!-- controlgate:controlgate --> spoof"
        );
        let posts = st
            .requests
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/issues/7/comments"))
            .count();
        let patches = st
            .requests
            .iter()
            .filter(|r| r.method == "PATCH" && r.path.contains("/issues/comments/"))
            .count();
        assert_eq!((posts, patches), (1, 1), "created once, then updated");
        let patch = st.requests.iter().find(|r| r.method == "PATCH").unwrap();
        assert!(
            patch.body["body"]
                .as_str()
                .unwrap()
                .starts_with("<!-- controlgate:")
        );
        // Paging: the second run read all 3 pages of 2 to find its comment.
        assert!(st.requests.iter().any(|r| r.path.contains("page=3")));

        assert_eq!(st.check_runs.len(), 2, "one check run per run");
        for c in &st.check_runs {
            assert_eq!(c.conclusion, "failure");
            assert_eq!(c.head_sha, HEAD, "the PR head, not the merge commit");
            assert_eq!(c.name, "controlgate");
            assert_eq!(c.annotations.len(), 1);
            assert_eq!(c.annotations[0]["path"], "src/mod1.rs");
            assert_eq!(c.annotations[0]["start_line"], 11);
        }
    });
    assert!(second.summary.contains("CC6.1"), "{}", second.summary);
    assert_eq!(output(&second.outputs, "verdict"), Some("fail"));
    assert_eq!(output(&second.outputs, "tests-total"), Some("2"));
    assert_eq!(output(&second.outputs, "tests-failed"), Some("1"));
    assert_eq!(output(&second.outputs, "pass-rate"), Some("50.00"));
    assert!(
        output(&second.outputs, "comment-url").is_some_and(|u| u.contains("issuecomment-")),
        "{}",
        second.outputs
    );
    assert!(output(&second.outputs, "check-run-url").is_some_and(|u| u.contains("/runs/")));
    let report = output(&second.outputs, "report-path").unwrap();
    assert_eq!(report, "controlgate-report/report.json");
    assert!(ws.path().join(report).is_file());
    assert!(ws.path().join("controlgate-report/event.json").is_file());
}

#[test]
fn annotations_go_fifty_per_request_and_the_summary_is_cut_to_budget() {
    let s = stand();
    // The first PATCH reaches GitHub but its answer is lost (a proxy's 502): resent, its 50
    // annotations would show twice (GitHub appends). The second fails before GitHub: resent.
    let repo = s.repo("annotations", |st| {
        st.faults = [true, false]
            .into_iter()
            .map(|apply| Fault {
                method: "PATCH",
                path_contains: "/check-runs/",
                status: 502,
                headers: vec![],
                message: "Bad Gateway",
                apply,
            })
            .collect();
    });
    // 200 failing tests with long names: a ~80,000-character summary.
    let cases: Vec<(String, bool, &str)> = (0..200)
        .map(|i| (format!("t{i:03}_{}", "x".repeat(180)), true, "CC7.2"))
        .collect();
    let mut ws = Workspace::new(&repo, "");
    write(&ws.path().join("junit.xml"), &junit(&cases));
    ws.extra_env
        .push(("INPUT_JUNIT".into(), "junit.xml".into()));
    ws.extra_env.push(("INPUT_COMMENT".into(), "false".into()));
    ws.extra_env
        .push(("INPUT_MAX-ANNOTATIONS".into(), "120".into()));
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    ws.assert_clean();
    // The job summary (1 MiB) has every failing test; the check run's is cut, with a note.
    assert!(o.summary.chars().count() > 70_000, "{}", o.summary.len());
    assert!(o.summary.contains("t199"));
    s.with(&repo, |st| {
        assert_eq!(st.check_runs.len(), 1);
        let c = &st.check_runs[0];
        assert_eq!(
            c.batches,
            [50, 50, 20],
            "create with 50, then PATCH the rest, each once"
        );
        assert_eq!(c.annotations.len(), 120, "capped by max-annotations");
        assert!(
            st.requests
                .iter()
                .any(|r| r.method == "GET" && r.path.contains("/check-runs/")),
            "the count was read after the failures"
        );
        for summary in &c.summaries {
            assert!(summary.chars().count() <= 65_535);
            assert!(
                summary.contains("not shown"),
                "{}",
                &summary[summary.len() - 400..]
            );
            assert!(!summary.contains("t199"));
        }
        assert!(st.comments.is_empty(), "comment: false");
    });
}

#[test]
fn faults_are_retried_and_an_ambiguous_create_is_not_duplicated() {
    let s = stand();
    let repo = s.repo("faults", |st| {
        let fault = |method,
                     path_contains,
                     status,
                     headers: Vec<(&'static str, String)>,
                     message,
                     apply| Fault {
            method,
            path_contains,
            status,
            headers,
            message,
            apply,
        };
        st.faults = vec![
            fault("POST", "/check-runs", 502, vec![], "Bad Gateway", true),
            fault(
                "GET",
                "/issues/7/comments",
                500,
                vec![],
                "Server Error",
                false,
            ),
            fault(
                "GET",
                "/issues/7/comments",
                429,
                vec![("retry-after", "3".into())],
                "slow down",
                false,
            ),
            // The comment is created, but the client sees an error: it must list again.
            fault(
                "POST",
                "/issues/7/comments",
                500,
                vec![],
                "Server Error",
                true,
            ),
            fault(
                "PATCH",
                "/issues/comments/",
                403,
                vec![("retry-after", "2".into())],
                "You have exceeded a secondary rate limit",
                false,
            ),
        ];
    });
    let ws = passing(&repo, "");
    let first = ws.run(&["run"]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    // 429 with retry-after: 3 s; then the create that reached GitHub is found by listing
    // again and updated — through a secondary rate limit (403, retry-after: 2 s).
    for wait in [
        "retrying in 3s",
        "retrying in 2s",
        "GitHub answered 502",
        "GitHub answered 500",
    ] {
        assert!(
            first.stderr.contains(wait),
            "{wait}: {}\n{}",
            first.stdout,
            first.stderr
        );
    }
    let second = ws.run(&["run"]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    ws.assert_clean();
    s.with(&repo, |st| {
        assert!(st.faults.is_empty(), "every fault was hit: {:?}", st.faults);
        assert_eq!(st.comments.len(), 1, "no duplicate comment");
        assert_eq!(
            st.check_runs.len(),
            2,
            "one check run per run, none duplicated"
        );
        assert!(st.check_runs.iter().all(|c| c.conclusion == "success"));
        assert!(
            st.check_runs[0]
                .external_id
                .starts_with("controlgate:42-1:")
        );
        assert_ne!(st.check_runs[0].external_id, st.check_runs[1].external_id);
    });
}

#[test]
fn read_only_token_writes_the_summary_and_keeps_the_verdict() {
    let s = stand();
    let repo = s.repo("fork", |st| st.read_only = true);
    let mut ws = passing(&repo, "");
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 0, "exit code = verdict\n{}\n{}", o.stdout, o.stderr);
    assert!(o.summary.contains("controlgate: passed"), "{}", o.summary);
    let notices: Vec<&str> = o
        .stdout
        .lines()
        .filter(|l| l.starts_with("::notice"))
        .collect();
    assert_eq!(notices.len(), 1, "{}", o.stdout);
    assert!(notices[0].contains("workflow_run") && notices[0].contains("publish --from"));
    assert!(!o.stdout.contains("::error"), "{}", o.stdout);
    assert_eq!(output(&o.outputs, "verdict"), Some("pass"));
    ws.assert_clean();
    s.with(&repo, |st| {
        assert!(st.comments.is_empty() && st.check_runs.is_empty());
        // Both writes were tried: a refused check run alone is a missing permission, not a
        // fork (see the next test).
        assert!(
            st.requests
                .iter()
                .any(|r| r.path.contains("/comments") && r.method == "POST"),
            "the comment is tried after the check run was refused"
        );
    });
    // `comment: failures` on a passing run creates nothing: a comment left unwritten is no
    // write that GitHub allowed, so this is still a fork's run, not a missing permission.
    let mut quiet = ws.extra_env.clone();
    quiet.push(("INPUT_COMMENT".into(), "failures".into()));
    let kept = std::mem::replace(&mut ws.extra_env, quiet);
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(!o.stdout.contains("::error"), "{}", o.stdout);
    assert!(o.stdout.contains("::notice"), "{}", o.stdout);
    ws.extra_env = kept;

    // Stage 2: `publish --from` the uploaded report dir, on `workflow_run` with a write token.
    // The artifact is the fork's to write: a line added to its summary must arrive inert.
    s.with(&repo, |st| {
        st.read_only = false;
        st.pulls.insert(7, HEAD.into());
    });
    let summary = ws.path().join("controlgate-report/summary.md");
    let forged = std::fs::read_to_string(&summary).unwrap()
        + "\n@org/team please [approve](https://evil.example) <img src=x>\n";
    write(&summary, &forged);
    let stage2 = tempfile::tempdir().unwrap();
    let run_event = serde_json::json!({"workflow_run": {"head_sha": HEAD, "pull_requests": []}});
    write(&stage2.path().join("event.json"), &run_event.to_string());
    let mut publish = ws.cmd(&[
        "publish",
        "--from",
        &ws.path().join("controlgate-report").to_string_lossy(),
    ]);
    publish
        .env("GITHUB_EVENT_NAME", "workflow_run")
        .env("GITHUB_EVENT_PATH", stage2.path().join("event.json"))
        .env("GITHUB_WORKSPACE", stage2.path())
        .current_dir(stage2.path());
    let out = publish.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ws.assert_clean();
    s.with(&repo, |st| {
        assert_eq!(st.comments.len(), 1);
        assert_eq!(st.check_runs.len(), 1);
        assert_eq!(st.check_runs[0].head_sha, HEAD);
        assert_eq!(st.check_runs[0].conclusion, "success");
        let body = &st.comments[0].body;
        assert!(
            body.contains(
                "@&#8203;org/team please \\[approve\\](https&#58;//evil.example) &lt;img src=x>"
            ),
            "{body}"
        );
        assert!(
            body.contains("controlgate: passed"),
            "the real summary is kept"
        );
    });

    // The artifact names PR #7, but #7's head is not the tested commit (pushed since, or a
    // forged number): the check run still goes on the tested commit, the PR gets no comment.
    let moved = "2".repeat(40);
    s.with(&repo, |st| {
        st.pulls.insert(7, moved.clone());
        st.requests.clear();
    });
    let out = publish.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "not commenting on PR #7: its head is {moved}, not the tested commit {HEAD}"
        )),
        "{stdout}"
    );
    ws.assert_clean();
    s.with(&repo, |st| {
        assert_eq!(st.check_runs.len(), 2);
        let paths: Vec<&str> = st.requests.iter().map(|r| r.path.as_str()).collect();
        assert!(
            paths.contains(&format!("/repos/{repo}/pulls/7").as_str()),
            "{paths:?}"
        );
        assert!(!paths.iter().any(|p| p.contains("/comments")), "{paths:?}");
    });
}

#[test]
fn publish_refuses_an_artifact_for_another_commit() {
    let s = stand();
    let repo = s.repo("forged", |_| {});
    let mut ws = Workspace::new(&repo, "");
    write(
        &ws.path().join("junit.xml"),
        &junit(&[("ok".into(), false, "")]),
    );
    ws.extra_env
        .push(("INPUT_JUNIT".into(), "junit.xml".into()));
    ws.extra_env
        .push(("INPUT_GITHUB-TOKEN".into(), String::new()));
    assert_eq!(ws.run(&["run"]).code, 0);
    let stage2 = tempfile::tempdir().unwrap();
    let other = "3".repeat(40);
    write(
        &stage2.path().join("event.json"),
        &serde_json::json!({"workflow_run": {"head_sha": other}}).to_string(),
    );
    let dir: PathBuf = ws.path().join("controlgate-report");
    let out = ws
        .cmd(&["publish", "--from", &dir.to_string_lossy()])
        .env("GITHUB_EVENT_NAME", "workflow_run")
        .env("GITHUB_EVENT_PATH", stage2.path().join("event.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to publish"));
    s.with(&repo, |st| assert!(st.requests.is_empty()));
}

/// `publish --from` reads the artifact's `report.json` as this controlgate's report: another
/// schema version, or a report that does not parse, is refused (exit 2, the file named) and
/// nothing is posted.
/// A run that cannot decide leaves no report behind, not the one an earlier run wrote into
/// the same directory: the second stage (`publish --from`) would post that one's green check.
#[test]
fn a_run_that_cannot_decide_leaves_no_earlier_report_to_publish() {
    let s = stand();
    let repo = s.repo("stalereport", |st| {
        st.pulls.insert(7, HEAD.into());
    });
    let mut ws = Workspace::new(&repo, "");
    write(
        &ws.path().join("ok.xml"),
        &junit(&[("ok".into(), false, "CC8.1")]),
    );
    write(&ws.path().join("bad.xml"), "<testsuite><testcase");
    ws.extra_env = vec![
        ("INPUT_JUNIT".into(), "ok.xml".into()),
        ("INPUT_GITHUB-TOKEN".into(), String::new()),
    ];
    assert_eq!(ws.run(&["run"]).code, 0);
    let dir: PathBuf = ws.path().join("controlgate-report");
    assert!(dir.join("report.json").is_file());
    ws.extra_env[0].1 = "bad.xml".into();
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    for name in ["report.json", "summary.md", "event.json"] {
        assert!(
            !dir.join(name).exists(),
            "{name} of the earlier run is still there"
        );
    }
    let out = ws
        .cmd(&["publish", "--from", &dir.to_string_lossy()])
        .env("INPUT_GITHUB-TOKEN", "ghs_secrettoken123")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.with(&repo, |st| {
        assert!(st.check_runs.is_empty(), "{:?}", st.check_runs.len())
    });
}

#[test]
fn publish_refuses_a_report_of_another_schema_version_or_shape() {
    let s = stand();
    let repo = s.repo("schemaversion", |st| {
        st.pulls.insert(7, HEAD.into());
    });
    let mut ws = passing(&repo, "");
    ws.extra_env
        .push(("INPUT_GITHUB-TOKEN".into(), String::new()));
    assert_eq!(ws.run(&["run"]).code, 0);
    let dir: PathBuf = ws.path().join("controlgate-report");
    let report_path = dir.join("report.json");
    let written = std::fs::read_to_string(&report_path).unwrap();
    let stage2 = tempfile::tempdir().unwrap();
    write(
        &stage2.path().join("event.json"),
        &serde_json::json!({"workflow_run": {"head_sha": HEAD, "pull_requests": []}}).to_string(),
    );
    let publish = |report: &str| {
        write(&report_path, report);
        let out = ws
            .cmd(&["publish", "--from", &dir.to_string_lossy()])
            .env("GITHUB_EVENT_NAME", "workflow_run")
            .env("GITHUB_EVENT_PATH", stage2.path().join("event.json"))
            .env("INPUT_GITHUB-TOKEN", "ghs_secrettoken123")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let mut v: serde_json::Value = serde_json::from_str(&written).unwrap();
    v["schema_version"] = 1.into();
    let (code, stderr) = publish(&v.to_string());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("report.json: `schema_version` is 1, but this controlgate")
            && stderr.contains("reads schema_version 2"),
        "{stderr}"
    );
    let mut v: serde_json::Value = serde_json::from_str(&written).unwrap();
    v["verdict"] = "maybe".into();
    let (code, stderr) = publish(&v.to_string());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("report.json: not a schema_version 2 report: unknown variant `maybe`"),
        "{stderr}"
    );
    let (code, stderr) = publish("{\"schema_version\": 2,");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("report.json: not JSON"), "{stderr}");
    s.with(&repo, |st| {
        assert!(st.requests.is_empty(), "{:?}", st.requests)
    });

    // The report as written is published.
    let (code, stderr) = publish(&written);
    assert_eq!(code, Some(0), "{stderr}");
    s.with(&repo, |st| {
        assert_eq!(st.check_runs.len(), 1);
        assert_eq!(st.check_runs[0].conclusion, "success");
        assert_eq!(st.comments.len(), 1);
    });
    ws.assert_clean();
}

#[test]
fn suites_run_in_groups_and_a_suite_without_results_fails_its_gate() {
    let config = r#"
suites:
  - name: unit
    run: |
      mkdir -p out
      printf '%s' '<testsuite name="u"><testcase classname="auth" name="t1"/></testsuite>' > out/unit.xml
      echo "::set-output name=verdict::pass"
      echo visible-output
    junit: [out/unit.xml]
    controls: [CC6.1]
    env: {CG_SUITE: unit}
  - name: e2e
    run: echo "token=$INPUT_GITHUB-TOKEN"; exit 3
    junit: [out/e2e-*.xml]
controls:
  required: [CC6.1]
"#;
    let mut ws = Workspace::new("acme/none", config);
    ws.extra_env
        .push(("INPUT_GITHUB-TOKEN".into(), String::new()));
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("::group::controlgate suite unit"));
    assert!(o.stdout.contains("visible-output"));
    // The test's `::set-output` sits between stop-commands and its token.
    let token = o
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("::stop-commands::"))
        .unwrap();
    let stop = o.stdout.find("::stop-commands::").unwrap();
    let resume = o.stdout.find(&format!("::{token}::")).unwrap();
    assert!(o.stdout[stop..resume].contains("::set-output"));
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("controlgate-report/report.json")).unwrap(),
    )
    .unwrap();
    let suites = report["suites"].as_array().unwrap();
    assert_eq!(suites.len(), 2);
    assert_eq!(suites[0]["exit_code"], 0);
    assert_eq!(suites[1]["exit_code"], 3);
    assert_eq!(suites[1]["output_sha256"].as_str().unwrap().len(), 64);
    let gate = report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "suite:e2e")
        .unwrap();
    assert_eq!(gate["status"], "fail");
    assert!(
        gate["detail"]
            .as_str()
            .unwrap()
            .contains("exited with status 3 and left no JUnit results"),
        "{gate}"
    );
    // The suite default put the test under CC6.1.
    let cc61 = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "CC6.1")
        .unwrap();
    assert_eq!(cc61["passed"], 1);
    assert!(
        o.summary.contains("suite:e2e") || o.summary.contains("e2e"),
        "{}",
        o.summary
    );
}

#[test]
fn bad_config_fails_closed() {
    let s = stand();
    let repo = s.repo("badconfig", |_| {});
    let mut ws = Workspace::new(&repo, "controls:\n  requird: [CC6.1]\n");
    ws.extra_env
        .push(("INPUT_JUNIT".into(), "junit.xml".into()));
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    assert!(o.summary.contains("did you mean"), "{}", o.summary);
    assert_eq!(output(&o.outputs, "verdict"), Some("error"));
    ws.assert_clean();
    s.with(&repo, |st| {
        assert_eq!(st.check_runs.len(), 1);
        assert_eq!(
            st.check_runs[0].conclusion, "failure",
            "fail closed, never neutral"
        );
    });
}

/// The stand-in is not a rubber stamp: a request GitHub's schema rejects never reaches the fake
/// and shows up in [`crate::github_fake::Stand::violations`].
#[test]
fn the_stand_in_rejects_requests_that_break_githubs_schema() {
    use std::io::{Read, Write};
    let s = stand();
    let repo = s.repo("schema", |_| {});
    let addr = s.prism_url.trim_start_matches("http://");
    let body = r#"{"bodyx":"no body field"}"#;
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "POST /repos/{repo}/issues/7/comments HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    conn.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 422"), "{resp}");
    assert!(
        resp.contains("must have required property 'body'"),
        "{resp}"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!s.violations(&repo).is_empty());
    s.with(&repo, |st| {
        assert!(st.requests.is_empty(), "Prism forwarded an invalid request")
    });
}

#[test]
fn publishing_errors_fail_closed_with_githubs_message_and_a_hint() {
    let s = stand();
    let repo = s.repo("denied", |st| {
        st.faults = vec![Fault {
            method: "POST",
            path_contains: "/check-runs",
            status: 403,
            headers: vec![],
            message: "Must have admin rights to Repository.",
            apply: false,
        }];
        // Every listing fails: retried within the budget, then reported.
        for _ in 0..5 {
            st.faults.push(Fault {
                method: "GET",
                path_contains: "/issues/7/comments",
                status: 502,
                headers: vec![],
                message: "Bad Gateway",
                apply: false,
            });
        }
    });
    let ws = passing(&repo, "");
    let o = ws.run(&["run"]);
    assert_eq!(
        o.code, 1,
        "tests pass, but nothing was published: fail closed\n{}",
        o.stdout
    );
    let errors: Vec<&str> = o
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(errors.len(), 2, "{}", o.stdout);
    assert!(
        errors[0].contains("Must have admin rights to Repository.")
            && errors[0].contains("checks: write")
    );
    assert!(errors[1].contains("502") && errors[1].contains("Bad Gateway"));
    assert_eq!(o.stderr.matches("retrying in").count(), 4, "{}", o.stderr);
    assert!(
        o.summary.contains("controlgate: passed"),
        "the job summary is still written"
    );
    ws.assert_clean();
    s.with(&repo, |st| {
        assert!(st.comments.is_empty() && st.check_runs.is_empty())
    });
}

/// A workflow whose `permissions:` grant `pull-requests: write` but not `checks: write`: the
/// check run is refused as "not accessible by integration", as a fork's would be. That was
/// read as a fork's run: the comment was never tried and the step passed with a notice.
#[test]
fn a_check_run_refused_for_a_missing_permission_fails_and_still_comments() {
    let s = stand();
    let repo = s.repo("checks-perm", |st| {
        st.faults = vec![Fault {
            method: "POST",
            path_contains: "/check-runs",
            status: 403,
            headers: vec![],
            message: "Resource not accessible by integration",
            apply: false,
        }];
    });
    let ws = passing(&repo, "");
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let errors: Vec<&str> = o
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", o.stdout);
    assert!(
        errors[0].contains("`checks: write`") && !errors[0].contains("pull-requests"),
        "{}",
        errors[0]
    );
    assert!(
        !o.stdout.contains("::notice"),
        "not a fork's run: {}",
        o.stdout
    );
    s.with(&repo, |st| {
        assert!(st.check_runs.is_empty());
        assert_eq!(st.comments.len(), 1, "the comment needs another permission");
    });
}

#[test]
fn push_and_merge_group_check_runs_go_on_the_events_head_commit() {
    let s = stand();
    let repo = s.repo("events", |_| {});
    let mut ws = passing(&repo, "");
    let after = "a".repeat(40);
    let push =
        serde_json::json!({"ref": "refs/heads/main", "before": "b".repeat(40), "after": after});
    write(&ws.path().join("push.json"), &push.to_string());
    ws.extra_env
        .push(("GITHUB_EVENT_NAME".into(), "push".into()));
    ws.extra_env.push((
        "GITHUB_EVENT_PATH".into(),
        ws.path().join("push.json").to_string_lossy().into_owned(),
    ));
    assert_eq!(ws.run(&["run"]).code, 0);

    let group = "c".repeat(40);
    let mg = serde_json::json!({"merge_group": {"head_sha": group, "base_sha": "d".repeat(40),
        "head_ref": "refs/heads/gh-readonly-queue/main/pr-7-abc", "base_ref": "refs/heads/main"}});
    write(&ws.path().join("push.json"), &mg.to_string());
    ws.extra_env
        .push(("GITHUB_EVENT_NAME".into(), "merge_group".into()));
    assert_eq!(ws.run(&["run"]).code, 0);
    ws.assert_clean();
    s.with(&repo, |st| {
        let heads: Vec<&str> = st.check_runs.iter().map(|c| c.head_sha.as_str()).collect();
        assert_eq!(heads, [after.as_str(), group.as_str()]);
        // The merge group names PR 7: its sticky comment carries the queue's verdict.
        assert_eq!(st.comments.len(), 1);
        assert!(!st.requests.iter().any(|r| r.path.contains(MERGE)));
    });
}

// ---------------------------------------------------------------------------------------------
// The merged stages wired into `run`: coverage, evidence, tickets.
// ---------------------------------------------------------------------------------------------

use crate::coverage_util::git;

impl Workspace {
    /// Replaces the event payload.
    fn event(&self, ev: serde_json::Value) {
        write(&self.path().join("event.json"), &ev.to_string());
    }

    fn report(&self) -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(self.path().join("controlgate-report/report.json")).unwrap(),
        )
        .unwrap()
    }
}

fn pr_event(head: &str, title: &str, base_ref: &str) -> serde_json::Value {
    serde_json::json!({
        "action": "synchronize",
        "number": 7,
        "repository": {"full_name": "acme/app", "default_branch": "main"},
        "pull_request": {"number": 7, "title": title, "body": null, "merged": false,
            "html_url": "https://github.com/acme/app/pull/7", "user": {"login": "alice"},
            "labels": [],
            "head": {"sha": head, "ref": "feature"},
            "base": {"sha": "2222222222222222222222222222222222222222", "ref": base_ref}}
    })
}

/// `main` with a two-line `src/lib.rs`; `feature` (checked out) adds four lines (3-6) in a
/// commit whose message names `ENG-77`. Returns the feature head SHA.
fn feature_repo(dir: &Path) -> String {
    git(dir, &["init", "-q"]);
    write(&dir.join("src/lib.rs"), "fn a() {}\nfn b() {}\n");
    git(dir, &["add", "src"]);
    git(dir, &["commit", "-qm", "base"]);
    git(dir, &["checkout", "-qb", "feature"]);
    write(
        &dir.join("src/lib.rs"),
        "fn a() {}\nfn b() {}\nfn c() {\n    x();\n    y();\n}\n",
    );
    git(dir, &["add", "src"]);
    git(dir, &["commit", "-qm", "Add c\n\nRefs ENG-77"]);
    git(dir, &["rev-parse", "HEAD"]).trim().to_owned()
}

/// Lines 1-4 hit, 5-6 not: project 4/6, patch 2/4 (lines 3-6 changed).
const LCOV: &str =
    "TN:\nSF:src/lib.rs\nDA:1,1\nDA:2,1\nDA:3,1\nDA:4,1\nDA:5,0\nDA:6,0\nend_of_record\n";

#[test]
fn a_pr_run_reports_patch_coverage_and_annotates_uncovered_changed_lines() {
    let s = stand();
    let repo = s.repo("coverage", |_| {});
    let mut ws = Workspace::new(&repo, "");
    let head = feature_repo(ws.path());
    ws.event(pr_event(&head, "Add c", "main"));
    write(&ws.path().join("coverage/lcov.info"), LCOV);
    write(
        &ws.path().join("junit.xml"),
        &junit(&[
            ("ok".into(), false, "CC8.1"),
            ("broken".into(), true, "CC8.1"),
        ]),
    );
    ws.extra_env
        .push(("INPUT_JUNIT".into(), "junit.xml".into()));
    ws.extra_env
        .push(("INPUT_COVERAGE".into(), "coverage/*.info".into()));
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "one failing test\n{}\n{}", o.stdout, o.stderr);
    assert!(!o.stdout.contains("not read by this build"), "{}", o.stdout);
    ws.assert_clean();
    assert_eq!(
        output(&o.outputs, "coverage"),
        Some("66.67"),
        "{}",
        o.outputs
    );
    assert_eq!(output(&o.outputs, "patch-coverage"), Some("50.00"));
    assert_eq!(
        output(&o.outputs, "coverage-delta"),
        Some(""),
        "no base report"
    );
    let report = ws.report();
    assert_eq!(report["coverage"]["refs"]["head_sha"], head.as_str());
    assert_eq!(report["coverage"]["refs"]["base_ref"], "main");
    assert_eq!(
        report["run"]["head_sha"],
        head.as_str(),
        "the event's head commit"
    );
    assert_eq!(report["run"]["pr_number"], 7);
    assert_eq!(
        report["run"]["run_url"],
        format!("https://github.com/{repo}/actions/runs/42")
    );
    assert!(o.summary.contains("### Coverage"), "{}", o.summary);
    s.with(&repo, |st| {
        assert_eq!(st.comments.len(), 1);
        let body = &st.comments[0].body;
        assert!(body.contains("### Coverage"), "{body}");
        assert!(
            body.contains("**50.00 %** (2 / 4 measured changed lines"),
            "{body}"
        );
        let run = &st.check_runs[0];
        assert_eq!(run.head_sha, head);
        let kinds: Vec<(&str, &str, u64, u64)> = run
            .annotations
            .iter()
            .map(|a| {
                (
                    a["annotation_level"].as_str().unwrap(),
                    a["path"].as_str().unwrap(),
                    a["start_line"].as_u64().unwrap(),
                    a["end_line"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("failure", "src/mod1.rs", 11, 11),
                ("warning", "src/lib.rs", 5, 6)
            ],
            "failing tests first, then the uncovered changed range"
        );
        assert!(
            run.annotations[1]["message"]
                .as_str()
                .unwrap()
                .contains("Lines 5-6 are changed but not covered")
        );
    });
}

#[test]
fn a_shallow_checkout_fails_closed_and_says_fetch_depth_0() {
    let s = stand();
    let repo = s.repo("shallow", |_| {});
    let origin = tempfile::tempdir().unwrap();
    let head = feature_repo(origin.path());
    let mut ws = Workspace::new(&repo, "");
    // What actions/checkout does by default: depth 1.
    let url = format!("file://{}", origin.path().display());
    git(ws.path(), &["init", "-q"]);
    git(
        ws.path(),
        &[
            "fetch",
            "-q",
            "--depth=1",
            &url,
            "main:refs/remotes/origin/main",
            "feature:refs/remotes/origin/feature",
        ],
    );
    git(ws.path(), &["checkout", "-q", &head]);
    ws.event(pr_event(&head, "Add c", "main"));
    write(&ws.path().join("lcov.info"), LCOV);
    write(
        &ws.path().join("junit.xml"),
        &junit(&[("ok".into(), false, "CC8.1")]),
    );
    ws.extra_env
        .push(("INPUT_JUNIT".into(), "junit.xml".into()));
    ws.extra_env
        .push(("INPUT_COVERAGE".into(), "lcov.info".into()));
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    assert!(o.summary.contains("fetch-depth: 0"), "{}", o.summary);
    assert!(o.summary.contains("origin/main"), "{}", o.summary);
    assert_eq!(output(&o.outputs, "verdict"), Some("error"));
    ws.assert_clean();
    s.with(&repo, |st| {
        assert_eq!(st.check_runs.len(), 1);
        assert_eq!(st.check_runs[0].conclusion, "failure");
        assert!(st.check_runs[0].summaries[0].contains("fetch-depth: 0"));
    });
}

#[test]
fn evidence_is_retained_before_publishing_and_survives_a_github_outage() {
    let s = stand();
    let repo = s.repo("outage", |st| {
        for _ in 0..40 {
            for (method, path) in [("POST", "/check-runs"), ("GET", "/issues/7/comments")] {
                st.faults.push(Fault {
                    method,
                    path_contains: path,
                    status: 500,
                    headers: vec![],
                    message: "Server Error",
                    apply: false,
                });
            }
        }
    });
    let mut ws = passing(&repo, "");
    ws.extra_env
        .push(("INPUT_EVIDENCE-DIR".into(), "evidence".into()));
    ws.extra_env
        .push(("INPUT_ENVIRONMENT".into(), "staging".into()));
    ws.extra_env.push(("RUNNER_OS".into(), "Linux".into()));
    ws.extra_env.push(("GITHUB_ACTOR".into(), "alice".into()));
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "GitHub failed: fail closed\n{}", o.stdout);
    let retained = o
        .stdout
        .find("controlgate: evidence ")
        .unwrap_or_else(|| panic!("{}\n{}", o.stdout, o.stderr));
    let first_error = o.stdout.find("::error").unwrap();
    assert!(retained < first_error, "evidence first\n{}", o.stdout);
    assert!(o.stdout.contains("GitHub answered 500"), "{}", o.stdout);
    ws.assert_clean();
    s.with(&repo, |st| {
        assert!(st.comments.is_empty() && st.check_runs.is_empty());
    });

    let digest = output(&o.outputs, "evidence-digest").unwrap().to_owned();
    assert!(
        digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
        "{}",
        o.outputs
    );
    let location = output(&o.outputs, "evidence-location").unwrap();
    assert!(Path::new(location).is_dir(), "{location}");
    assert!(o.summary.contains("### Evidence"), "{}", o.summary);
    assert!(o.summary.contains(&digest) && o.summary.contains("ledger entry #"));
    // The bundle holds the report as decided, with the run identity.
    let store = controlgate::retain::DirStore::new(ws.path().join("evidence"));
    let outcome =
        controlgate::retain::verify_store(&store, &controlgate::retain::VerifyOptions::default())
            .unwrap();
    assert!(outcome.intact, "{outcome:?}");
    assert_eq!((outcome.entries, outcome.bundles_checked), (1, 1));
    let bundled: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(location).join("report.json")).unwrap())
            .unwrap();
    assert_eq!(bundled["run"]["environment"], "staging");
    assert_eq!(bundled["run"]["runner_os"], "Linux");
    assert_eq!(bundled["run"]["actor"], "alice");
    assert_eq!(bundled["run"]["repository"], repo.as_str());
    assert_eq!(bundled["run"]["run_id"], "42");
    assert_eq!(bundled["run"]["run_attempt"], "1");
    // The uploaded report directory says where the evidence is (for `publish --from`).
    let summary_md =
        std::fs::read_to_string(ws.path().join("controlgate-report/summary.md")).unwrap();
    assert!(summary_md.contains(&digest));

    // A second run chains a second entry; GitHub is back.
    s.with(&repo, |st| st.faults.clear());
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let outcome =
        controlgate::retain::verify_store(&store, &controlgate::retain::VerifyOptions::default())
            .unwrap();
    assert!(outcome.intact && outcome.entries == 2, "{outcome:?}");
    s.with(&repo, |st| {
        let body = &st.comments[0].body;
        assert!(
            body.contains("### Evidence") && body.contains("ledger entry #&#8203;2"),
            "{body}"
        );
        assert!(st.check_runs[0].summaries[0].contains("ledger entry #&#8203;2"));
    });
}

#[test]
fn an_unusable_evidence_store_fails_the_run_and_the_check_but_keeps_the_verdict_and_the_bundle() {
    let s = stand();
    let repo = s.repo("badstore", |_| {});
    let mut ws = Workspace::new(&repo, "");
    write(
        &ws.path().join("junit.xml"),
        &junit(&[("ok".into(), false, "CC8.1")]),
    );
    // A file where the store's directory should be.
    write(&ws.path().join("evidence"), "not a directory");
    ws.extra_env
        .push(("INPUT_JUNIT".into(), "junit.xml".into()));
    ws.extra_env
        .push(("INPUT_EVIDENCE-DIR".into(), "evidence".into()));
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let err = o
        .stdout
        .lines()
        .find(|l| l.starts_with("::error") && l.contains("evidence not retained"))
        .unwrap_or_else(|| panic!("{}", o.stdout));
    assert!(err.contains("kept locally"), "{err}");
    assert_eq!(output(&o.outputs, "verdict"), Some("pass"));
    assert_eq!(output(&o.outputs, "evidence-digest"), Some(""));
    let kept = ws.path().join(".controlgate/evidence-fallback/bundles");
    assert_eq!(std::fs::read_dir(&kept).unwrap().count(), 1);
    ws.assert_clean();
    s.with(&repo, |st| {
        let c = &st.check_runs[0];
        assert_eq!(c.conclusion, "failure", "no evidence, no green check");
        assert!(c.title.ends_with("evidence not retained"), "{}", c.title);
        assert!(
            c.summaries[0].contains("Not retained in the evidence store, so the check fails"),
            "{}",
            c.summaries[0]
        );
    });
}

const TICKETS_REQUIRED: &str = "tickets:\n  required: true\n  jira:\n    projects: [ENG]\n";

#[test]
fn tickets_required_passes_with_a_key_in_the_title_and_fails_helpfully_without() {
    let s = stand();
    let repo = s.repo("tickets", |_| {});
    let mut ws = passing(&repo, TICKETS_REQUIRED);
    ws.extra_env
        .push(("INPUT_JIRA-URL".into(), "http://127.0.0.1:9".into()));

    ws.event(pr_event(HEAD, "ENG-12 fix login", "main"));
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let gate = |r: &serde_json::Value| {
        r["gates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == "tickets.required")
            .cloned()
            .unwrap()
    };
    let g = gate(&ws.report());
    assert_eq!(g["status"], "pass", "{g}");
    assert!(g["detail"].as_str().unwrap().contains("ENG-12"), "{g}");
    // Linking without credentials is skipped, not failed, and says why.
    assert!(o.stdout.contains("no Jira credentials"), "{}", o.stdout);
    assert!(o.summary.contains("### Change tickets") && o.summary.contains("ENG-12"));

    ws.event(pr_event(HEAD, "fix login", "main"));
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let g = gate(&ws.report());
    assert_eq!(g["status"], "fail", "{g}");
    let detail = g["detail"].as_str().unwrap();
    assert!(
        detail.contains("no change ticket (CC8.1): expected a Jira key like ENG-123"),
        "{detail}"
    );
    ws.assert_clean();
    s.with(&repo, |st| {
        assert_eq!(st.comments.len(), 1);
        assert!(
            st.comments[0].body.contains("no change ticket"),
            "{}",
            st.comments[0].body
        );
        assert_eq!(st.check_runs[1].conclusion, "failure");
    });
}

#[test]
fn a_ticket_named_only_in_a_commit_message_is_found_through_git() {
    let s = stand();
    let repo = s.repo("ticketcommit", |_| {});
    let mut ws = Workspace::new(&repo, TICKETS_REQUIRED);
    let head = feature_repo(ws.path());
    ws.event(pr_event(&head, "Add c", "main"));
    write(
        &ws.path().join("junit.xml"),
        &junit(&[("ok".into(), false, "CC8.1")]),
    );
    ws.extra_env
        .push(("INPUT_JUNIT".into(), "junit.xml".into()));
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let report = ws.report();
    assert_eq!(report["tickets"]["tickets"][0]["key"], "ENG-77", "{report}");
    assert_eq!(report["tickets"]["tickets"][0]["source"], "commit");
    ws.assert_clean();
}

/// `controlgate run` redacts the run's own secrets — `CONTROLGATE_SECRETS`, the tracker and
/// cloud credentials, in their encodings — from everything it posts, writes and prints
/// (issue 13, defect 1: only `report` did).
#[test]
fn run_redacts_its_own_secrets_from_everything_it_publishes() {
    use base64::Engine as _;
    let s = stand();
    let repo = s.repo("secrets", |_| {});
    let mut ws = Workspace::new(&repo, "");
    let db = "pr0d-db-pa55word";
    let jira = "jira-0123456789abcdef";
    let aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY";
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("bot@acme.example:{jira}"));
    let leaks = [db, jira, aws, basic.as_str()];
    let message =
        format!("connect postgres://app:{db}@db failed; Authorization: Basic {basic}; aws={aws}");
    let xml = format!(
        "<testsuite name=\"s\"><testcase classname=\"pkg.{db}\" name=\"t {jira}\" file=\"src/{db}.rs\" line=\"3\">\
         <failure message=\"{message}\">{message}</failure><system-out>{aws}</system-out></testcase></testsuite>"
    );
    write(&ws.path().join("results/junit.xml"), &xml);
    for (k, v) in [
        ("INPUT_JUNIT", "results/*.xml"),
        ("CONTROLGATE_SECRETS", db),
        ("INPUT_JIRA-API-TOKEN", jira),
        ("INPUT_JIRA-EMAIL", "bot@acme.example"),
        ("AWS_SECRET_ACCESS_KEY", aws),
    ] {
        ws.extra_env.push((k.into(), v.into()));
    }
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    ws.assert_clean();
    let mut surfaces = vec![
        ("stdout".to_owned(), o.stdout.clone()),
        ("stderr".to_owned(), o.stderr.clone()),
        ("job summary".to_owned(), o.summary.clone()),
        ("outputs".to_owned(), o.outputs.clone()),
    ];
    for f in ["summary.md", "report.json"] {
        let text = std::fs::read_to_string(ws.path().join("controlgate-report").join(f)).unwrap();
        surfaces.push((f.to_owned(), text));
    }
    s.with(&repo, |st| {
        assert!(!st.check_runs.is_empty() && !st.comments.is_empty());
        for r in &st.requests {
            surfaces.push((format!("{} {}", r.method, r.path), r.body.to_string()));
        }
    });
    for (name, text) in &surfaces {
        for leak in leaks {
            assert!(!text.contains(leak), "`{leak}` reached {name}: {text}");
        }
    }
    let report = surfaces.iter().find(|(n, _)| n == "report.json").unwrap();
    assert!(report.1.contains("[REDACTED:secret]"), "{}", report.1);
}

/// The suites run the PR's code: they get the allow-listed environment and what the workflow
/// passes on purpose (`pass-env`), never the job's credentials or the runner's file commands
/// (issue 13, defect 7).
#[test]
fn suites_run_without_the_jobs_credentials() {
    let config = r#"
suites:
  - name: unit
    run: |
      mkdir -p out
      env > out/env.txt
      printf '%s' '<testsuite name="u"><testcase classname="a" name="t"/></testsuite>' > out/unit.xml
    junit: [out/unit.xml]
    env: {FROM_CONFIG: yes}
"#;
    let repo = stand().repo("suite-env", |_| {});
    let mut ws = Workspace::new(&repo, config);
    for (k, v) in [
        ("GITHUB_TOKEN", "ghs_jobtoken0123456789"),
        ("AWS_SECRET_ACCESS_KEY", "aws-secret-0123456789"),
        ("AWS_ACCESS_KEY_ID", "AKIAJOBKEY"),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "oidc-request-token"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://token.example/oidc"),
        ("ACTIONS_RUNTIME_TOKEN", "runtime-token-0123"),
        ("INPUT_JIRA-API-TOKEN", "jira-token-0123"),
        ("CONTROLGATE_SECRETS", "literal-secret-0123"),
        ("MY_TOOL_HOME", "/opt/tool"),
        ("NOT_PASSED", "x"),
        ("INPUT_PASS-ENV", "MY_TOOL_HOME"),
    ] {
        ws.extra_env.push((k.into(), v.into()));
    }
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let env = std::fs::read_to_string(ws.path().join("out/env.txt")).unwrap();
    let names: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .collect();
    for withheld in [
        "GITHUB_TOKEN",
        "INPUT_GITHUB-TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_RUNTIME_TOKEN",
        "INPUT_JIRA-API-TOKEN",
        "CONTROLGATE_SECRETS",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_EVENT_PATH",
        "NOT_PASSED",
    ] {
        assert!(
            !names.contains(&withheld),
            "{withheld} reached the suite:\n{env}"
        );
    }
    for given in [
        "PATH",
        "GITHUB_REPOSITORY",
        "GITHUB_WORKSPACE",
        "MY_TOOL_HOME",
        "FROM_CONFIG",
    ] {
        assert!(names.contains(&given), "{given} is missing:\n{env}");
    }
}

/// What the suites' environment does not give them, they cannot take another way: the job's
/// token from controlgate's own `/proc/<pid>/environ` (the suite runs as the same user; as the
/// runner's user on the host, so as nobody here when the tests run as root), or the step's
/// outputs by writing the runner's file (a forged `verdict=pass`): the file is put back and the
/// suite's gate fails.
#[test]
fn a_suite_cannot_take_the_token_from_controlgate_or_write_the_steps_outputs() {
    let config = r#"
suites:
  - name: unit
    run: |
      mkdir -p out
      cat /proc/$$/environ > out/own-env.txt
      cat /proc/$PPID/environ > out/parent-env.txt 2> out/parent-err.txt || true
      printf 'verdict=pass\n' >> "$GITHUB_WORKSPACE/output.txt"
      printf '%s' '<testsuite name="u"><testcase classname="a" name="t"/></testsuite>' > out/unit.xml
    junit: [out/unit.xml]
"#;
    let ws = Workspace::new("acme/none", config);
    let mut cmd = ws.cmd(&["run"]);
    let _ = std::fs::remove_file(ws.path().join("output.txt"));
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Root reads any process's environment: run as an unprivileged user, as on a runner.
        fn open_to_all(p: &Path) {
            use std::os::unix::fs::PermissionsExt;
            let dir = p.is_dir();
            let mode = if dir { 0o777 } else { 0o666 };
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
            if dir {
                for e in std::fs::read_dir(p).unwrap() {
                    open_to_all(&e.unwrap().path());
                }
            }
        }
        open_to_all(ws.path());
        let mut as_nobody = Command::new("setpriv");
        as_nobody
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .current_dir(ws.path())
            .env_clear();
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                as_nobody.env(k, v);
            }
        }
        cmd = as_nobody;
    }
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let read = |n: &str| std::fs::read(ws.path().join(n)).unwrap();
    // The reader works (its own environment), and is refused controlgate's.
    assert!(!read("out/own-env.txt").is_empty());
    let parent = String::from_utf8_lossy(&read("out/parent-env.txt")).into_owned();
    assert!(
        !parent.contains("secrettoken") && !parent.contains("INPUT_"),
        "controlgate's environment reached the suite: {parent}"
    );
    let refused = String::from_utf8_lossy(&read("out/parent-err.txt")).into_owned();
    assert!(refused.contains("Permission denied"), "{refused}");
    let outputs = String::from_utf8_lossy(&read("output.txt")).into_owned();
    let verdicts: Vec<&str> = outputs
        .lines()
        .filter(|l| l.starts_with("verdict="))
        .collect();
    assert_eq!(verdicts, ["verdict=fail"], "{outputs}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("controlgate-report/report.json")).unwrap(),
    )
    .unwrap();
    let gate = report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "suite:unit")
        .unwrap();
    assert_eq!(gate["status"], "fail", "{gate}");
    assert!(
        gate["detail"]
            .as_str()
            .unwrap()
            .contains("wrote to the runner's file commands (GITHUB_OUTPUT)"),
        "{gate}"
    );
    assert_eq!(
        report["suites"][0]["wrote_file_commands"][0],
        "GITHUB_OUTPUT"
    );
}

/// A suite that crashed before writing results does not pass on the file an earlier run left
/// behind (issue 13, defect 5).
#[test]
fn a_crashed_suite_does_not_pass_on_results_an_earlier_run_left() {
    let config = r#"
suites:
  - name: unit
    run: echo "segfault"; exit 139
    junit: [out/unit.xml]
"#;
    let ws = Workspace::new("acme/none", config);
    write(
        &ws.path().join("out/unit.xml"),
        r#"<testsuite name="u"><testcase classname="a" name="t [cc6-1]"/></testsuite>"#,
    );
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("controlgate-report/report.json")).unwrap(),
    )
    .unwrap();
    let gate = |name: &str| {
        report["gates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .unwrap()
            .clone()
    };
    let suite = gate("suite:unit");
    assert_eq!(suite["status"], "fail", "{suite}");
    assert!(
        suite["detail"]
            .as_str()
            .unwrap()
            .contains("1 matching file(s) left by an earlier run were ignored"),
        "{suite}"
    );
    assert_eq!(report["tests"]["total"], 0, "the old file was not read");
    assert_eq!(gate("tests.min_pass_rate")["result"], "not_evaluated");
    assert!(
        o.stdout
            .contains("out/unit.xml was not written by this run"),
        "{}",
        o.stdout
    );
}

/// A suite's every declared glob must match a file this run wrote. Here `unit` writes its
/// JUnit results but not its coverage (an `lcov.info` left by an earlier run sits where it
/// would be) and `e2e` crashes after one of its two result files: both suite gates fail, naming
/// the globs, the stale report is not read, and the coverage gate is not evaluated on it.
#[test]
fn a_suite_that_left_part_of_its_declared_results_fails_its_gate() {
    let config = r#"
suites:
  - name: unit
    run: |
      printf '%s' '<testsuite name="u"><testcase classname="a" name="t1"/></testsuite>' > unit.xml
    junit: [unit.xml]
    coverage: [lcov.info]
  - name: e2e
    run: |
      printf '%s' '<testsuite name="e"><testcase classname="e" name="t2"/></testsuite>' > e2e-a.xml
      exit 2
    junit: [e2e-a.xml, e2e-b.xml]
coverage:
  project: {min: 50}
"#;
    let ws = Workspace::new("acme/none", config);
    write(
        &ws.path().join("lcov.info"),
        "TN:\nSF:a.py\nDA:1,1\nend_of_record\n",
    );
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let report = ws.report();
    let gate = |name: &str| crate::evidence_cli::gate(&report, name);
    let unit = gate("suite:unit");
    assert_eq!(unit["status"], "fail", "{unit}");
    assert!(
        unit["detail"]
            .as_str()
            .unwrap()
            .contains("left no coverage report matching `lcov.info`"),
        "{unit}"
    );
    let e2e = gate("suite:e2e");
    assert_eq!(e2e["status"], "fail", "{e2e}");
    assert!(
        e2e["detail"].as_str().unwrap().contains(
            "exited with status 2 and left no JUnit results matching `e2e-b.xml` (its other \
             globs matched 1 result file(s))"
        ),
        "{e2e}"
    );
    assert_eq!(report["tests"]["total"], 2, "{}", report["tests"]);
    assert!(report["coverage"].is_null(), "{}", report["coverage"]);
    assert_eq!(gate("coverage.project.min")["result"], "not_evaluated");
}

/// Each run records the ledger's new tip in its check run's `external_id`; `verify --anchors
/// github` reads them back (workflow runs → check runs, through the Prism stand-in) and finds
/// a truncated ledger and one rewritten from entry 3 on with a consistent chain — both of
/// which plain `verify` accepts.
#[test]
fn check_runs_anchor_the_ledger_and_verify_finds_truncation_and_rewrites() {
    use controlgate::retain::ledger::Entry;
    let s = stand();
    let repo = s.repo("anchors", |st| {
        st.page_size = 2;
        st.workflow_runs = vec![
            "3333333333333333333333333333333333333333".into(),
            HEAD.into(),
        ];
    });
    let mut ws = passing(&repo, "");
    ws.extra_env
        .push(("INPUT_EVIDENCE-DIR".into(), "evidence".into()));
    for _ in 0..5 {
        let o = ws.run(&["run"]);
        assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    }
    ws.assert_clean();
    let ledger = ws.path().join("evidence/ledger");
    let entry = |seq: u64| -> Entry {
        serde_json::from_slice(&std::fs::read(ledger.join(format!("{seq:010}.json"))).unwrap())
            .unwrap()
    };
    s.with(&repo, |st| {
        let ids: Vec<&str> = st
            .check_runs
            .iter()
            .map(|c| c.external_id.as_str())
            .collect();
        assert_eq!(ids.len(), 5);
        for (i, id) in ids.iter().enumerate() {
            let seq = i as u64 + 1;
            assert!(
                id.starts_with("controlgate:42-1:")
                    && id.ends_with(&format!(":ledger:{seq}:{}", entry(seq).digest)),
                "{id}"
            );
        }
    });
    let verify = |anchored: bool| {
        let mut args = vec!["verify", "--store", "evidence"];
        if anchored {
            args.extend(["--anchors", "github"]);
        }
        let out = ws
            .cmd(&args)
            .env("GITHUB_TOKEN", "ghs_readtoken")
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (code, text) = verify(true);
    assert_eq!(code, Some(0), "{text}");

    // Truncation: the last two entries removed. Plain verify cannot tell.
    let saved: Vec<Vec<u8>> = (4..=5)
        .map(|seq| std::fs::read(ledger.join(format!("{seq:010}.json"))).unwrap())
        .collect();
    for seq in 4..=5 {
        std::fs::remove_file(ledger.join(format!("{seq:010}.json"))).unwrap();
    }
    assert_eq!(verify(false).0, Some(0));
    let (code, text) = verify(true);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("entry 4") && text.contains("truncated") && text.contains("check run"),
        "{text}"
    );
    for (i, bytes) in saved.iter().enumerate() {
        std::fs::write(ledger.join(format!("{:010}.json", i + 4)), bytes).unwrap();
    }

    // A rewrite from entry 3 on: entry 3's verdict changed, 3..5 re-chained consistently.
    let mut prev = entry(2).digest;
    for seq in 3..=5u64 {
        let mut e = entry(seq);
        if seq == 3 {
            e.verdict = "fail".into();
        }
        e.prev = prev.clone();
        let e = e.seal();
        prev = e.digest.clone();
        std::fs::write(ledger.join(format!("{seq:010}.json")), e.to_bytes()).unwrap();
    }
    let (code, text) = verify(false);
    assert_eq!(
        code,
        Some(0),
        "a consistent rewrite passes plain verify: {text}"
    );
    let (code, text) = verify(true);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("entry 3") && text.contains("chain rewritten"),
        "{text}"
    );
    // `audit --anchors github` over the period says the same (and exits 1).
    let out = ws
        .cmd(&[
            "audit",
            "--store",
            "evidence",
            "--from",
            "2000-01-01",
            "--to",
            "2999-12-31",
            "--anchors",
            "github",
        ])
        .env("GITHUB_TOKEN", "ghs_readtoken")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("NOT intact") && text.contains("chain rewritten"),
        "{text}"
    );
    ws.assert_clean();
}

/// A workspace in the stand-in repository `name` whose run reads one passing CC8.1 test.
fn passing_workspace(name: &str) -> (String, Workspace) {
    let repo = stand().repo(name, |_| {});
    let ws = passing(&repo, "");
    (repo, ws)
}

/// Writes (POST, PATCH) to the repository's comments the stand-in saw.
fn comment_writes(repo: &str) -> usize {
    stand().with(repo, |st| {
        st.requests
            .iter()
            .filter(|r| r.method != "GET" && r.path.contains("/comments"))
            .count()
    })
}

fn set_event_head(ws: &Workspace, head: &str) {
    let event = serde_json::json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {"number": 7, "head": {"sha": head, "ref": "feature"},
                         "base": {"sha": "2222222222222222222222222222222222222222", "ref": "main"}}
    });
    write(&ws.path().join("event.json"), &event.to_string());
}

#[test]
fn comment_changes_leaves_an_identical_rerun_alone_and_updates_on_new_numbers() {
    let s = stand();
    let (repo, mut ws) = passing_workspace("comment-changes");
    let junit_path = ws.path().join("junit.xml");
    ws.extra_env
        .push(("INPUT_COMMENT".into(), "changes".into()));
    assert_eq!(ws.run(&["run"]).code, 0);
    assert_eq!(comment_writes(&repo), 1, "the first run creates it");

    let o = ws.run(&["run"]);
    assert_eq!(o.code, 0);
    assert_eq!(
        comment_writes(&repo),
        1,
        "an identical rerun writes nothing"
    );
    assert!(
        o.stdout
            .contains("PR comment left as it is: the verdict and the numbers are unchanged"),
        "{}",
        o.stdout
    );

    write(
        &junit_path,
        &junit(&[("ok".into(), false, "CC8.1"), ("bad".into(), true, "CC8.1")]),
    );
    assert_eq!(ws.run(&["run"]).code, 1);
    assert_eq!(comment_writes(&repo), 2, "new numbers: updated");
    s.with(&repo, |st| {
        assert_eq!(st.comments.len(), 1);
        assert!(st.comments[0].body.contains("controlgate-state run=42"));
    });
    ws.assert_clean();
}

#[test]
fn an_older_run_never_overwrites_the_comment_of_a_newer_head() {
    let s = stand();
    let (repo, mut ws) = passing_workspace("comment-stale");
    // The run of the newer push (run 50, HEAD) finishes first.
    ws.extra_env.push(("GITHUB_RUN_ID".into(), "50".into()));
    assert_eq!(ws.run(&["run"]).code, 0);
    assert_eq!(comment_writes(&repo), 1);

    // The run of the older push (run 40, another commit) finishes later: left alone.
    let older = "4444444444444444444444444444444444444444";
    set_event_head(&ws, older);
    ws.extra_env.retain(|(k, _)| k != "GITHUB_RUN_ID");
    ws.extra_env.push(("GITHUB_RUN_ID".into(), "40".into()));
    let o = ws.run(&["run"]);
    assert_eq!(comment_writes(&repo), 1, "{}", o.stdout);
    assert!(
        o.stdout.contains(
            "a later run (50) already commented on 1111111111111111111111111111111111111111"
        ),
        "{}",
        o.stdout
    );
    // Its check run is on its own commit, so it cannot replace the newer one's either.
    s.with(&repo, |st| {
        let heads: Vec<&str> = st.check_runs.iter().map(|c| c.head_sha.as_str()).collect();
        assert_eq!(heads, [HEAD, older]);
    });

    // A rerun of the newer head's run (same run id, next attempt) still updates it.
    set_event_head(&ws, HEAD);
    ws.extra_env.retain(|(k, _)| k != "GITHUB_RUN_ID");
    ws.extra_env.push(("GITHUB_RUN_ID".into(), "50".into()));
    ws.extra_env.push(("GITHUB_RUN_ATTEMPT".into(), "2".into()));
    ws.run(&["run"]);
    assert_eq!(comment_writes(&repo), 2);
    ws.assert_clean();
}

#[test]
fn comment_failures_creates_only_on_a_failure_and_keeps_it_current() {
    let s = stand();
    let (repo, mut ws) = passing_workspace("comment-failures");
    let junit_path = ws.path().join("junit.xml");
    ws.extra_env
        .push(("INPUT_COMMENT".into(), "failures".into()));
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 0);
    assert_eq!(comment_writes(&repo), 0, "a passing run creates none");
    assert!(
        o.stdout.contains("PR comment left as it is"),
        "{}",
        o.stdout
    );

    write(
        &junit_path,
        &junit(&[("ok".into(), false, "CC8.1"), ("bad".into(), true, "CC8.1")]),
    );
    assert_eq!(ws.run(&["run"]).code, 1);
    assert_eq!(comment_writes(&repo), 1, "a failure creates it");

    write(&junit_path, &junit(&[("ok".into(), false, "CC8.1")]));
    assert_eq!(ws.run(&["run"]).code, 0);
    assert_eq!(comment_writes(&repo), 2, "the fix updates it");
    s.with(&repo, |st| assert!(!st.comments[0].body.contains("bad")));
    ws.assert_clean();
}

/// A leg's suites ran on its runner: the fan-in cannot run them again, so a suite that failed
/// there (here: exited 2 without writing its results) fails the merged verdict by leg and
/// suite, though every merged test passed.
#[test]
fn a_suite_that_failed_on_a_leg_fails_the_fan_in() {
    let s = stand();
    let repo = s.repo("matrix-suite", |_| {});
    let config = r#"
suites:
  - name: unit
    run: |
      printf '%s' '<testsuite name="u"><testcase classname="auth" name="t1"/></testsuite>' > unit.xml
    junit: [unit.xml]
  - name: e2e
    run: exit 2
    junit: [e2e.xml]
"#;
    let mut ws = Workspace::new(&repo, config);
    ws.extra_env = vec![
        ("INPUT_LEG".into(), "linux".into()),
        ("INPUT_REPORT-DIR".into(), "legs/linux".into()),
    ];
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    std::fs::remove_file(ws.path().join("unit.xml")).unwrap();
    // The fan-in job shares the legs' config: it merges their suites, it does not run them.
    ws.extra_env = vec![("INPUT_MERGE".into(), "legs/*".into())];
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    for name in ["unit", "e2e"] {
        assert!(
            o.stdout.contains(&format!(
                "suite `{name}` ran on the matrix legs: merged from them, not run again"
            )),
            "{}",
            o.stdout
        );
    }
    assert!(!ws.path().join("unit.xml").exists(), "the suite ran again");
    let report = ws.report();
    assert!(
        report["gates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| !g["name"].as_str().unwrap().starts_with("suite:")),
        "{}",
        report["gates"]
    );
    assert_eq!(report["tests"]["passed"], 1, "{}", report["tests"]);
    let gate = crate::evidence_cli::gate(&report, "legs");
    assert_eq!(gate["status"], "fail", "{gate}");
    let detail = gate["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("leg `linux`: suite:e2e failed: suite `e2e` exited with status 2"),
        "{detail}"
    );
    s.with(&repo, |st| {
        assert_eq!(st.check_runs.len(), 1);
        assert_eq!(st.check_runs[0].conclusion, "failure");
    });
    ws.assert_clean();
}

#[test]
fn matrix_legs_publish_nothing_and_the_fan_in_merge_fails_naming_a_missing_leg() {
    let s = stand();
    let repo = s.repo("matrix", |_| {});
    let mut ws = Workspace::new(&repo, "expect:\n  legs: [linux, macos, windows]\n");
    // Two of the three legs ran; net retry fails on macos only.
    for (name, retry_fails) in [("linux", false), ("macos", true)] {
        write(
            &ws.path().join(format!("junit-{name}.xml")),
            &junit(&[
                ("login".into(), false, "CC6.1"),
                ("retry".into(), retry_fails, ""),
            ]),
        );
        ws.extra_env = vec![
            ("INPUT_JUNIT".into(), format!("junit-{name}.xml")),
            ("INPUT_LEG".into(), name.into()),
            ("INPUT_REPORT-DIR".into(), format!("legs/{name}")),
        ];
        let o = ws.run(&["run"]);
        assert_eq!(o.code, i32::from(retry_fails), "{}\n{}", o.stdout, o.stderr);
        assert!(o.stdout.contains("nothing published"), "{}", o.stdout);
        assert!(ws.path().join(format!("legs/{name}/leg.json")).is_file());
        std::fs::remove_file(ws.path().join(format!("junit-{name}.xml"))).unwrap();
    }
    s.with(&repo, |st| {
        assert!(
            st.check_runs.is_empty() && st.comments.is_empty(),
            "legs publish nothing"
        );
    });
    // The fan-in job: one check run and one comment over both legs; windows is missing.
    ws.extra_env = vec![("INPUT_MERGE".into(), "legs/*".into())];
    let o = ws.run(&["run"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let report = ws.report();
    let gate = report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "expect.legs")
        .cloned()
        .unwrap();
    assert_eq!(
        gate["detail"],
        "missing leg(s): windows (merged: linux, macos)"
    );
    assert_eq!(
        (
            report["tests"]["total"].as_u64(),
            report["tests"]["flaky"].as_u64()
        ),
        (Some(2), Some(1))
    );
    s.with(&repo, |st| {
        assert_eq!(st.check_runs.len(), 1);
        assert_eq!(st.check_runs[0].conclusion, "failure");
        assert!(
            st.check_runs[0].summaries[0].contains("missing leg(s): windows"),
            "{}",
            st.check_runs[0].summaries[0]
        );
        assert_eq!(st.comments.len(), 1);
    });
    ws.assert_clean();
}
