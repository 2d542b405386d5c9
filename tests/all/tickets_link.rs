//! Linking runs to tickets against the loopback stand-ins (`tickets_fakes`): idempotent reruns,
//! the merge-time post, tracker failures, and tokens never leaking.

use std::path::Path;
use std::sync::Arc;

use controlgate::model::report::Verdict;
use controlgate::tickets::{
    self, ChangeContext, ControlLine, CoverageDelta, EvidenceLink, GithubCredentials, GithubIssue,
    JiraCredentials, LinearCredentials, LinkStatus, RunSummary, TicketCredentials, TicketsConfig,
    TicketsSection, Tracker,
};
use serde_json::{Value, json};

use crate::tickets_fakes::{GhFault, GithubFake, JiraFake, LinearFake, Response, Server, adf_text};

const JIRA_EMAIL: &str = "ci@acme.example";
const JIRA_TOKEN: &str = "ATATT3xJIRAtok-7f3e9d";
const LINEAR_KEY: &str = "lin_api_Q7LINEARkey42";
const GITHUB_TOKEN: &str = "ghs_GITHUBtoken9Zx81";

fn cfg(yaml: &str) -> TicketsConfig {
    controlgate::config::parse(yaml, Path::new("t.yml"))
        .unwrap()
        .tickets
}

const ALL: &str = "tickets:\n  required: true\n  jira: {projects: [ENG]}\n  linear: {teams: [DES]}\n  github: {}\n";

fn ctx() -> ChangeContext {
    ChangeContext {
        repository: "acme/pay".into(),
        pr_number: Some(42),
        pr_title: "ENG-1 DES-2: login <script> @team".into(),
        pr_body: "Fixes #5".into(),
        head_branch: "feature/eng-1-login".into(),
        pr_url: "https://github.com/acme/pay/pull/42".into(),
        author: "alice".into(),
        linked_issues: vec![GithubIssue {
            repository: "acme/pay".into(),
            number: 6,
        }],
        ..Default::default()
    }
}

fn summary(verdict: Verdict) -> RunSummary {
    RunSummary {
        verdict,
        controls: vec![
            ControlLine {
                id: "CC6.1".into(),
                status: "pass".into(),
                passed: 4,
                tests: 4,
            },
            ControlLine {
                id: "CC8.1".into(),
                status: if verdict == Verdict::Pass {
                    "pass"
                } else {
                    "fail"
                }
                .into(),
                passed: 1,
                tests: 2,
            },
        ],
        failed_gates: if verdict == Verdict::Fail {
            vec!["controls.required".into()]
        } else {
            vec![]
        },
        coverage: Some(CoverageDelta {
            project: Some(81.2),
            base_project: Some(80.1),
            delta_pp: Some(1.1),
            patch: Some(90.0),
        }),
        evidence: Some(EvidenceLink {
            location: "s3://acme-evidence/acme/pay/2026/run-77.tar".into(),
            bundle_digest: "sha256:ab12cd".into(),
        }),
        run_url: Some("https://github.com/acme/pay/actions/runs/77".into()),
    }
}

struct Fakes {
    jira: JiraFake,
    linear: LinearFake,
    github: GithubFake,
}

impl Fakes {
    fn start() -> Fakes {
        Fakes {
            jira: JiraFake::start(JIRA_EMAIL, JIRA_TOKEN, &["ENG-1", "ENG-2"]),
            linear: LinearFake::start(LINEAR_KEY, &["DES-2"]),
            github: GithubFake::start(GITHUB_TOKEN, &["acme/pay#5", "acme/pay#6"]),
        }
    }

    fn creds(&self) -> TicketCredentials {
        TicketCredentials {
            jira: Some(JiraCredentials {
                base_url: self.jira.server.url.clone(),
                email: JIRA_EMAIL.into(),
                api_token: JIRA_TOKEN.into(),
            }),
            linear: Some(LinearCredentials {
                api_url: format!("{}/graphql", self.linear.server.url),
                api_key: LINEAR_KEY.into(),
            }),
            github: Some(GithubCredentials {
                api_url: self.github.server.url.clone(),
                comment_author: Some("controlgate-bot".into()),
                ..GithubCredentials::new(GITHUB_TOKEN)
            }),
        }
    }

    fn assert_no_violations(&self) {
        assert_eq!(
            self.jira.state.lock().unwrap().violations,
            Vec::<String>::new()
        );
        assert_eq!(
            self.linear.state.lock().unwrap().violations,
            Vec::<String>::new()
        );
        assert_eq!(
            self.github.state.lock().unwrap().violations,
            Vec::<String>::new()
        );
    }
}

fn statuses(s: &TicketsSection) -> Vec<(Tracker, String, String, LinkStatus)> {
    s.links
        .iter()
        .map(|l| (l.tracker, l.ticket.clone(), l.action.clone(), l.status))
        .collect()
}

#[test]
fn two_runs_leave_one_link_one_attachment_one_comment_each() {
    let f = Fakes::start();
    let (c, cfg, creds) = (ctx(), cfg(ALL), f.creds());
    let first = tickets::link(&c, &cfg, &creds, &summary(Verdict::Fail));
    let s = |t, k: &str, a: &str, st| (t, k.to_owned(), a.to_owned(), st);
    assert_eq!(
        statuses(&first),
        [
            s(Tracker::Jira, "ENG-1", "remote_link", LinkStatus::Created),
            s(Tracker::Jira, "ENG-1", "comment", LinkStatus::Created),
            s(Tracker::Linear, "DES-2", "attachment", LinkStatus::Upserted),
            s(
                Tracker::Github,
                "acme/pay#5",
                "comment",
                LinkStatus::Created
            ),
            s(
                Tracker::Github,
                "acme/pay#6",
                "comment",
                LinkStatus::Created
            ),
        ],
        "{first:#?}"
    );
    let second = tickets::link(&c, &cfg, &creds, &summary(Verdict::Pass));
    assert_eq!(
        statuses(&second),
        [
            s(Tracker::Jira, "ENG-1", "remote_link", LinkStatus::Updated),
            s(Tracker::Jira, "ENG-1", "comment", LinkStatus::Updated),
            s(Tracker::Linear, "DES-2", "attachment", LinkStatus::Upserted),
            s(
                Tracker::Github,
                "acme/pay#5",
                "comment",
                LinkStatus::Updated
            ),
            s(
                Tracker::Github,
                "acme/pay#6",
                "comment",
                LinkStatus::Updated
            ),
        ]
    );
    f.assert_no_violations();

    let jira = f.jira.state.lock().unwrap();
    let links = &jira.remote_links["ENG-1"];
    assert_eq!(links.len(), 1, "{links:#?}");
    assert_eq!(links[0]["globalId"], "controlgate:acme/pay#42");
    assert_eq!(
        links[0]["object"]["url"],
        "https://github.com/acme/pay/pull/42"
    );
    assert_eq!(
        links[0]["object"]["title"],
        "acme/pay#42 · controlgate PASS"
    );
    assert!(
        links[0]["object"]["summary"]
            .as_str()
            .unwrap()
            .contains("evidence: s3://acme-evidence/acme/pay/2026/run-77.tar (sha256:ab12cd)")
    );
    let comments = &jira.comments["ENG-1"];
    assert_eq!(comments.len(), 1);
    let text = adf_text(&comments[0]["body"]);
    assert!(
        text.contains("controlgate PASS") && !text.contains("FAIL"),
        "{text}"
    );
    assert!(text.contains("CC8.1  pass (1 of 2 tests passed)"), "{text}");
    assert!(
        text.contains("Coverage:  project coverage 81.20% (+1.10 pp vs base 80.10%)"),
        "{text}"
    );
    assert!(!jira.comments.contains_key("ENG-2"));

    let linear = f.linear.state.lock().unwrap();
    assert_eq!(linear.attachments.len(), 1);
    let (_, att) = linear.attachments.iter().next().unwrap();
    assert_eq!(
        att["url"],
        "https://github.com/acme/pay/pull/42#controlgate"
    );
    assert_eq!(att["issueId"], "DES-2");
    assert!(
        att["subtitle"].as_str().unwrap().starts_with("PASS · open"),
        "{att}"
    );

    let gh = f.github.state.lock().unwrap();
    for issue in ["acme/pay#5", "acme/pay#6"] {
        let list = &gh.comments[issue];
        assert_eq!(list.len(), 1, "{issue}");
        let body = list[0]["body"].as_str().unwrap();
        assert!(
            body.starts_with("<!-- controlgate:ticket:acme/pay#42 -->\n"),
            "{body}"
        );
        assert!(body.contains("controlgate PASS"), "{body}");
        // The PR title is untrusted: inert in the Markdown.
        assert!(body.contains("&lt;script&gt; &#64;&#8203;team"), "{body}");
    }
}

/// Anyone can write a comment holding the marker: only controlgate's own login's comment is
/// edited, and someone else's (written first, so the oldest) is left as it was.
#[test]
fn a_comment_someone_else_wrote_with_the_marker_is_not_taken_over() {
    let f = Fakes::start();
    let planted = "<!-- controlgate:ticket:acme/pay#42 -->\n### ✅ controlgate PASS (forged)";
    f.github.state.lock().unwrap().comments.insert(
        "acme/pay#5".into(),
        vec![json!({ "id": 500, "body": planted, "login": "mallory" })],
    );
    let out = tickets::link(&ctx(), &cfg(ALL), &f.creds(), &summary(Verdict::Fail));
    f.assert_no_violations();
    let on_5 = out
        .links
        .iter()
        .find(|l| l.ticket == "acme/pay#5")
        .unwrap_or_else(|| panic!("{:?}", out.links));
    assert_eq!(on_5.status, LinkStatus::Created, "{on_5:?}");
    let gh = f.github.state.lock().unwrap();
    let list = &gh.comments["acme/pay#5"];
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["body"], planted);
    assert!(
        list[1]["body"]
            .as_str()
            .unwrap()
            .contains("controlgate FAIL"),
        "{}",
        list[1]
    );
}

/// A push's change name holds its branch, which git lets hold `-->`: the marker stays one
/// HTML comment whatever the name.
#[test]
fn a_branch_name_cannot_end_the_markers_comment() {
    let c = ChangeContext {
        pr_number: None,
        head_branch: "x--><h1>FAKE: approved</h1><!--!>%".into(),
        ..ctx()
    };
    let m = controlgate::tickets::github_issues::marker(&c);
    assert_eq!(
        m,
        "<!-- controlgate:ticket:acme/pay@x--%3E%3Ch1%3EFAKE: approved%3C/h1%3E%3C%21--%21%3E%25 -->"
    );
    assert_eq!(m.matches("-->").count(), 1);
    assert!(!m.contains("--!>"));
}

#[test]
fn merge_time_post_carries_the_release_coverage_delta() {
    let f = Fakes::start();
    let (cfg, creds) = (cfg(ALL), f.creds());
    tickets::link(&ctx(), &cfg, &creds, &summary(Verdict::Pass));
    let merged = ChangeContext {
        merged: true,
        base_is_default: true,
        ..ctx()
    };
    let mut sum = summary(Verdict::Pass);
    sum.coverage = Some(CoverageDelta {
        project: Some(82.5),
        base_project: Some(80.0),
        delta_pp: Some(2.5),
        patch: Some(95.0),
    });
    let out = tickets::link(&merged, &cfg, &creds, &sum);
    assert!(out.release);
    assert!(
        out.links.iter().all(|l| l.status != LinkStatus::Failed),
        "{out:#?}"
    );
    f.assert_no_violations();

    let jira = f.jira.state.lock().unwrap();
    let text = adf_text(&jira.comments["ENG-1"][0]["body"]);
    assert_eq!(jira.comments["ENG-1"].len(), 1);
    assert!(
        text.contains("controlgate PASS: merged into the default branch"),
        "{text}"
    );
    assert!(
        text.contains("Release coverage delta:  project coverage 82.50% (+2.50 pp vs base 80.00%); patch coverage 95.00%"),
        "{text}"
    );
    let link = &jira.remote_links["ENG-1"][0];
    assert_eq!(
        link["object"]["title"],
        "acme/pay#42 merged · controlgate PASS"
    );
    assert_eq!(link["object"]["status"]["resolved"], true);

    let linear = f.linear.state.lock().unwrap();
    let (_, att) = linear.attachments.iter().next().unwrap();
    assert_eq!(linear.attachments.len(), 1);
    assert!(
        att["subtitle"]
            .as_str()
            .unwrap()
            .contains("PASS · merged · project coverage 82.50% (+2.50 pp"),
        "{att}"
    );
    assert_eq!(att["metadata"]["coverageDeltaPp"], 2.5);

    let gh = f.github.state.lock().unwrap();
    let body = gh.comments["acme/pay#5"][0]["body"].as_str().unwrap();
    assert_eq!(gh.comments["acme/pay#5"].len(), 1);
    assert!(body.contains("merged into the default branch"), "{body}");
    assert!(
        body.contains(
            "**Release coverage delta:** project coverage 82.50% (+2.50 pp vs base 80.00%)"
        ),
        "{body}"
    );
}

/// Two releases (pushes to the default branch) naming the same tickets leave two records on
/// each, every one naming its two commits; rerunning a release's push changes neither.
#[test]
fn each_release_keeps_its_own_record_and_a_rerun_changes_nothing() {
    let f = Fakes::start();
    let (cfg, creds) = (cfg(ALL), f.creds());
    let release = |before: &str, after: &str| ChangeContext {
        repository: "acme/pay".into(),
        pr_number: None,
        head_branch: "main".into(),
        commit_messages: vec!["ENG-1 DES-2 ship the login (fixes #5)".into()],
        author: "alice".into(),
        pr_url: format!("https://github.com/acme/pay/compare/{before}...{after}"),
        merged: true,
        base_is_default: true,
        pushed: Some(tickets::CommitRange {
            before: before.repeat(40),
            after: after.repeat(40),
        }),
        ..Default::default()
    };
    let (first, second) = (release("a", "b"), release("b", "c"));
    for c in [&first, &second] {
        let out = tickets::link(c, &cfg, &creds, &summary(Verdict::Pass));
        assert!(out.release);
        assert!(
            out.links.iter().all(|l| l.status != LinkStatus::Failed),
            "{out:#?}"
        );
    }
    f.assert_no_violations();
    let snapshot = |f: &Fakes| {
        let jira = f.jira.state.lock().unwrap();
        let linear = f.linear.state.lock().unwrap();
        let gh = f.github.state.lock().unwrap();
        format!(
            "{:?}{:?}{:?}{:?}",
            jira.remote_links, jira.comments, linear.attachments, gh.comments
        )
    };
    {
        let jira = f.jira.state.lock().unwrap();
        let links = &jira.remote_links["ENG-1"];
        assert_eq!(links.len(), 2, "{links:#?}");
        assert_eq!(
            links[0]["globalId"],
            "controlgate:acme/pay@main:aaaaaaa..bbbbbbb"
        );
        assert_eq!(
            links[1]["object"]["title"],
            "acme/pay@main bbbbbbb..ccccccc merged · controlgate PASS"
        );
        assert!(
            links
                .iter()
                .all(|l| l["object"]["status"]["resolved"] == true)
        );
        let comments = &jira.comments["ENG-1"];
        assert_eq!(comments.len(), 2);
        let texts: Vec<String> = comments.iter().map(|c| adf_text(&c["body"])).collect();
        assert!(texts[0].contains("aaaaaaa..bbbbbbb") && texts[1].contains("bbbbbbb..ccccccc"));
        let linear = f.linear.state.lock().unwrap();
        assert_eq!(linear.attachments.len(), 2);
        let gh = f.github.state.lock().unwrap();
        let on_issue = &gh.comments["acme/pay#5"];
        assert_eq!(on_issue.len(), 2);
        assert!(
            on_issue[1]["body"]
                .as_str()
                .unwrap()
                .contains("bbbbbbb..ccccccc")
        );
    }
    let before = snapshot(&f);
    tickets::link(&second, &cfg, &creds, &summary(Verdict::Pass));
    assert_eq!(
        snapshot(&f),
        before,
        "a rerun of the second release changes nothing"
    );
}

#[test]
fn tracker_failures_carry_the_trackers_message_and_never_abort() {
    let f = Fakes::start();
    let c = ChangeContext {
        pr_title: "ENG-404 DES-404".into(),
        pr_body: "#404".into(),
        head_branch: "fix".into(),
        linked_issues: vec![],
        ..ctx()
    };
    let out = tickets::link(&c, &cfg(ALL), &f.creds(), &summary(Verdict::Pass));
    let msg = |t: Tracker, a: &str| {
        out.links
            .iter()
            .find(|l| l.tracker == t && l.action == a)
            .map(|l| (l.status, l.message.clone().unwrap_or_default()))
            .unwrap()
    };
    assert_eq!(
        msg(Tracker::Jira, "remote_link"),
        (
            LinkStatus::Failed,
            "Jira answered 404 Not Found: Issue does not exist or you do not have permission to see it."
                .into()
        )
    );
    assert_eq!(msg(Tracker::Jira, "comment").0, LinkStatus::Failed);
    assert_eq!(
        msg(Tracker::Linear, "attachment"),
        (
            LinkStatus::Failed,
            "Linear answered 200 OK: Entity not found: Issue (Could not find referenced Issue.)"
                .into()
        )
    );
    assert_eq!(
        msg(Tracker::Github, "comment"),
        (
            LinkStatus::Failed,
            "GitHub answered 404 Not Found: Not Found".into()
        )
    );

    // Wrong credentials and an unreachable tracker.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let mut creds = f.creds();
    creds.jira.as_mut().unwrap().api_token = "wrong-token".into();
    creds.linear.as_mut().unwrap().api_url = dead_url;
    creds.github.as_mut().unwrap().token = "wrong-gh".into();
    let out = tickets::link(&ctx(), &cfg(ALL), &creds, &summary(Verdict::Pass));
    let by = |t: Tracker| {
        out.links
            .iter()
            .find(|l| l.tracker == t)
            .unwrap()
            .message
            .clone()
            .unwrap()
    };
    assert_eq!(
        by(Tracker::Jira),
        "Jira answered 401 Unauthorized (check the Jira email and API token)"
    );
    assert!(
        by(Tracker::Linear).starts_with("Linear unreachable: "),
        "{}",
        by(Tracker::Linear)
    );
    // An unreachable tracker is not tried again for the next ticket.
    let c = ChangeContext {
        pr_title: "DES-2 DES-3".into(),
        ..ctx()
    };
    let again = tickets::link(&c, &cfg(ALL), &creds, &summary(Verdict::Pass));
    let lin: Vec<(LinkStatus, String)> = again
        .links
        .iter()
        .filter(|l| l.tracker == Tracker::Linear)
        .map(|l| (l.status, l.message.clone().unwrap_or_default()))
        .collect();
    assert_eq!(lin.len(), 2);
    assert_eq!(lin[0].0, LinkStatus::Failed);
    assert_eq!(
        lin[1],
        (LinkStatus::Skipped, "not tried: Linear unreachable".into())
    );
    assert_eq!(
        by(Tracker::Github),
        "GitHub answered 401 Unauthorized: Bad credentials"
    );
    assert!(out.links.iter().all(|l| l.status == LinkStatus::Failed));
    // The rendered section shows the failures, escaped.
    let md = tickets::render_tickets(&out);
    assert!(
        md.contains("⚠️ remote link failed: Jira answered 401"),
        "{md}"
    );
}

#[test]
fn missing_credentials_skip_without_error() {
    let c = ctx();
    let out = tickets::link(
        &c,
        &cfg(ALL),
        &TicketCredentials::default(),
        &summary(Verdict::Pass),
    );
    let got: Vec<(Tracker, LinkStatus, String)> = out
        .links
        .iter()
        .map(|l| (l.tracker, l.status, l.message.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        got,
        [
            (
                Tracker::Jira,
                LinkStatus::Skipped,
                "no Jira credentials".into()
            ),
            (
                Tracker::Linear,
                LinkStatus::Skipped,
                "no Linear API key".into()
            ),
            (
                Tracker::Github,
                LinkStatus::Skipped,
                "no GitHub token".into()
            ),
            (
                Tracker::Github,
                LinkStatus::Skipped,
                "no GitHub token".into()
            ),
        ]
    );
    assert_eq!(out.tickets.len(), 4);
}

#[test]
fn comments_are_found_past_the_first_page() {
    let f = Fakes::start();
    {
        let mut j = f.jira.state.lock().unwrap();
        let list = j.comments.entry("ENG-1".into()).or_default();
        for i in 0..150 {
            list.push(json!({ "id": (1000 + i).to_string(), "body": {
                "type": "doc", "version": 1,
                "content": [{ "type": "paragraph", "content": [{ "type": "text", "text": format!("note {i}") }] }]
            } }));
        }
        let mut g = f.github.state.lock().unwrap();
        let list = g.comments.entry("acme/pay#5".into()).or_default();
        for i in 0..130 {
            list.push(json!({ "id": 100_000 + i, "body": format!("note {i}") }));
        }
    }
    let (c, cfg, creds) = (ctx(), cfg(ALL), f.creds());
    tickets::link(&c, &cfg, &creds, &summary(Verdict::Fail));
    let out = tickets::link(&c, &cfg, &creds, &summary(Verdict::Pass));
    assert!(
        out.links.iter().all(|l| l.status != LinkStatus::Failed),
        "{out:#?}"
    );
    f.assert_no_violations();
    assert_eq!(f.jira.state.lock().unwrap().comments["ENG-1"].len(), 151);
    assert_eq!(
        f.github.state.lock().unwrap().comments["acme/pay#5"].len(),
        131
    );
    // A different PR's marker is not ours: PR #4 gets its own comment.
    let pr4 = ChangeContext {
        pr_number: Some(4),
        pr_url: "https://github.com/acme/pay/pull/4".into(),
        ..ctx()
    };
    tickets::link(&pr4, &cfg, &creds, &summary(Verdict::Pass));
    assert_eq!(f.jira.state.lock().unwrap().comments["ENG-1"].len(), 152);
    assert_eq!(f.jira.state.lock().unwrap().remote_links["ENG-1"].len(), 2);
}

#[test]
fn at_most_max_linked_tickets_are_written() {
    let keys: Vec<String> = (1..=25).map(|i| format!("ENG-{i}")).collect();
    let issues: Vec<&str> = keys.iter().map(String::as_str).collect();
    let jira = JiraFake::start(JIRA_EMAIL, JIRA_TOKEN, &issues);
    let c = ChangeContext {
        pr_title: String::new(),
        pr_body: keys.join(" "),
        linked_issues: vec![],
        head_branch: "x".into(),
        ..ctx()
    };
    let creds = TicketCredentials {
        jira: Some(JiraCredentials {
            base_url: jira.server.url.clone(),
            email: JIRA_EMAIL.into(),
            api_token: JIRA_TOKEN.into(),
        }),
        ..Default::default()
    };
    let cfg = cfg("tickets:\n  jira: {projects: [ENG], comment: false}\n");
    let out = tickets::link(&c, &cfg, &creds, &summary(Verdict::Pass));
    let created = out
        .links
        .iter()
        .filter(|l| l.status == LinkStatus::Created)
        .count();
    let skipped = out
        .links
        .iter()
        .filter(|l| l.status == LinkStatus::Skipped)
        .count();
    assert_eq!((created, skipped), (tickets::MAX_LINKED, 5));
    assert_eq!(jira.server.requests().len(), tickets::MAX_LINKED);
}

/// The config is the pull request's: a `tickets.jira.url` of its choosing must not receive the
/// Jira credentials. Without the workflow's `jira-url` input, only a Jira Cloud address is
/// taken from it; the fake Jira behind the config's URL sees no request, and the same fake
/// named by the input is linked to.
#[test]
fn the_configs_jira_url_gets_the_credentials_only_on_jira_cloud() {
    let jira = JiraFake::start(JIRA_EMAIL, JIRA_TOKEN, &["ENG-1"]);
    let c = ChangeContext {
        pr_body: "ENG-1".into(),
        ..ctx()
    };
    let from_input = TicketCredentials {
        jira: Some(JiraCredentials {
            base_url: String::new(),
            email: JIRA_EMAIL.into(),
            api_token: JIRA_TOKEN.into(),
        }),
        ..Default::default()
    };
    let config = cfg(&format!(
        "tickets:\n  jira: {{projects: [ENG], url: '{}', comment: false}}\n",
        jira.server.url
    ));
    let out = tickets::link(&c, &config, &from_input, &summary(Verdict::Pass));
    assert!(jira.server.requests().is_empty(), "{:?}", out.links);
    let skip = out
        .links
        .iter()
        .find(|l| l.status == LinkStatus::Skipped)
        .and_then(|l| l.message.as_deref())
        .unwrap_or_else(|| panic!("{:?}", out.links));
    assert!(
        skip.contains("not a Jira Cloud address") && skip.contains("jira-url input"),
        "{skip}"
    );
    // Named by the workflow's input, the same server is used.
    let mut named = from_input.clone();
    named.jira.as_mut().unwrap().base_url = jira.server.url.clone();
    let out = tickets::link(&c, &config, &named, &summary(Verdict::Pass));
    assert_eq!(
        out.links
            .iter()
            .filter(|l| l.status == LinkStatus::Created)
            .count(),
        1,
        "{:?}",
        out.links
    );
    assert!(!jira.server.requests().is_empty());
}

/// Runs every path with distinctive tokens — success, failure, a tracker that echoes the
/// credentials back — and looks for them in everything the run produces.
#[test]
fn no_token_appears_in_any_output_report_error_or_debug() {
    let f = Fakes::start();
    // A Linear stand-in that echoes the Authorization header in its error message.
    let echo = Server::start(Arc::new(|req: &crate::tickets_fakes::Request| {
        Response::json(
            400,
            json!({ "errors": [{ "message": format!("bad key {}", req.header("authorization").unwrap_or("")) }] }),
        )
    }));
    let mut outputs: Vec<String> = Vec::new();
    let good = f.creds();
    let mut echoing = f.creds();
    echoing.linear.as_mut().unwrap().api_url = format!("{}/graphql", echo.url);
    let mut wrong_email = f.creds();
    wrong_email.jira.as_mut().unwrap().email = "nobody@acme.example".into();
    for creds in [&good, &echoing, &wrong_email] {
        for c in [
            ctx(),
            ChangeContext {
                merged: true,
                base_is_default: true,
                ..ctx()
            },
        ] {
            let out = tickets::link(&c, &cfg(ALL), creds, &summary(Verdict::Pass));
            outputs.push(serde_json::to_string(&out).unwrap());
            outputs.push(format!("{out:?}"));
            outputs.push(tickets::render_tickets(&out));
        }
        outputs.push(format!("{creds:?}"));
    }
    let echoed = tickets::link(&ctx(), &cfg(ALL), &echoing, &summary(Verdict::Pass));
    let linear = echoed
        .links
        .iter()
        .find(|l| l.tracker == Tracker::Linear)
        .unwrap();
    assert_eq!(
        linear.message.as_deref(),
        Some("Linear answered 400 Bad Request: bad key ***")
    );
    // The report and summary of a full run with the change context.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("junit.xml"),
        r#"<testsuite name="s"><testcase classname="a" name="t [cc8-1]"/></testsuite>"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("c.yml"), ALL).unwrap();
    let mut req = controlgate::ReportRequest::new(vec!["junit.xml".into()], dir.path().into());
    req.config = Some("c.yml".into());
    req.change = Some(ctx());
    let report = controlgate::report(&req).unwrap();
    let section = tickets::link(
        &ctx(),
        &cfg(ALL),
        &good,
        &RunSummary::from_report(&report.report),
    );
    outputs.push(report.json());
    outputs.push(report.markdown.clone());
    outputs.push(format!("{:?}", report.report));
    outputs.push(serde_json::to_string(&section).unwrap());
    // What the trackers stored is visible to their users: no token there either.
    outputs.push(format!("{:?}", f.jira.state.lock().unwrap().comments));
    outputs.push(format!("{:?}", f.jira.state.lock().unwrap().remote_links));
    outputs.push(format!("{:?}", f.linear.state.lock().unwrap().attachments));
    outputs.push(format!("{:?}", f.github.state.lock().unwrap().comments));
    for out in &outputs {
        for token in [JIRA_TOKEN, LINEAR_KEY, GITHUB_TOKEN] {
            assert!(!out.contains(token), "token {token} leaked into: {out}");
        }
    }
    let v: Value = serde_json::from_str(&report.json()).unwrap();
    assert_eq!(v["tickets"]["tickets"][0]["key"], "ENG-1");
}

/// The stand-ins are only worth their acceptance if they reject what the vendors would.
#[test]
fn stand_ins_reject_requests_outside_the_descriptions() {
    let f = Fakes::start();
    let http = reqwest::blocking::Client::new();
    let jira = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut r = http
            .request(method, format!("{}{path}", f.jira.server.url))
            .basic_auth(JIRA_EMAIL, Some(JIRA_TOKEN));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().unwrap();
        (
            resp.status().as_u16(),
            resp.json::<Value>().unwrap_or(Value::Null),
        )
    };
    // A remote link without `object.url` (required by RemoteObject).
    let (status, body) = jira(
        reqwest::Method::POST,
        "/rest/api/3/issue/ENG-1/remotelink",
        Some(json!({ "globalId": "g", "object": { "title": "t" } })),
    );
    assert_eq!(status, 400);
    assert!(
        body["errorMessages"][0].as_str().unwrap().contains("url"),
        "{body}"
    );
    // A wrong type deep inside: `status.resolved` must be a boolean.
    let (status, _) = jira(
        reqwest::Method::POST,
        "/rest/api/3/issue/ENG-1/remotelink",
        Some(json!({ "object": { "title": "t", "url": "u", "status": { "resolved": "yes" } } })),
    );
    assert_eq!(status, 400);
    // A read-only field, an undeclared query parameter, an unknown path, an empty ADF text node.
    let adf = json!({ "type": "doc", "version": 1, "content": [] });
    let (status, _) = jira(
        reqwest::Method::POST,
        "/rest/api/3/issue/ENG-1/comment",
        Some(json!({ "body": adf, "id": "1" })),
    );
    assert_eq!(status, 400);
    let (status, _) = jira(
        reqwest::Method::GET,
        "/rest/api/3/issue/ENG-1/comment?limit=5",
        None,
    );
    assert_eq!(status, 400);
    let (status, body) = jira(
        reqwest::Method::DELETE,
        "/rest/api/3/issue/ENG-1/remotelink",
        None,
    );
    assert_eq!(status, 404);
    assert!(
        body["errorMessages"].is_array() && body["errors"].is_object(),
        "{body}"
    );
    let bad_adf = json!({ "type": "doc", "version": 1, "content": [
        { "type": "paragraph", "content": [{ "type": "text", "text": "" }] }
    ] });
    let (status, _) = jira(
        reqwest::Method::POST,
        "/rest/api/3/issue/ENG-1/comment",
        Some(json!({ "body": bad_adf })),
    );
    assert_eq!(status, 400);
    assert_eq!(f.jira.state.lock().unwrap().violations.len(), 6);

    // Linear: a misspelled input field, a missing required one, a field not in the SDL.
    let linear = |query: &str, input: Value| {
        let resp = http
            .post(format!("{}/graphql", f.linear.server.url))
            .header("Authorization", LINEAR_KEY)
            .json(&json!({ "query": query, "variables": { "input": input } }))
            .send()
            .unwrap();
        resp.status().as_u16()
    };
    let q = tickets::linear::ATTACHMENT_MUTATION;
    assert_eq!(
        linear(
            q,
            json!({ "issueId": "DES-2", "url": "u", "title": "t", "subtitel": "s" })
        ),
        400
    );
    assert_eq!(linear(q, json!({ "issueId": "DES-2", "url": "u" })), 400);
    let q2 = "mutation($input: AttachmentCreateInput!) { attachmentCreate(input: $input) { success nope } }";
    assert_eq!(
        linear(q2, json!({ "issueId": "DES-2", "url": "u", "title": "t" })),
        400
    );
    assert_eq!(
        linear(q, json!({ "issueId": "DES-2", "url": "u", "title": "t" })),
        200
    );
    assert_eq!(f.linear.state.lock().unwrap().violations.len(), 3);

    // GitHub: an operation outside the list, a body with extra fields.
    let gh = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{}{path}", f.github.server.url))
            .bearer_auth(GITHUB_TOKEN)
            .header("Accept", "application/vnd.github+json")
            .json(&body)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        gh(
            reqwest::Method::POST,
            "/repos/acme/pay/issues/comments/1",
            json!({ "body": "x" })
        ),
        404
    );
    assert_eq!(
        gh(
            reqwest::Method::POST,
            "/repos/acme/pay/issues/5/comments",
            json!({ "body": "x", "labels": [] })
        ),
        422
    );
    assert_eq!(f.github.state.lock().unwrap().violations.len(), 2);
}

/// A Jira that answers 403 repeating the request's `Authorization: Basic base64(email:token)`
/// header: the token is in no message, in no encoding (issue 13, defect 2).
#[test]
fn a_tracker_echoing_the_basic_auth_header_leaks_no_credential() {
    use base64::Engine as _;
    let f = Fakes::start();
    let echo = Server::start(Arc::new(|req: &crate::tickets_fakes::Request| {
        Response::json(
            403,
            json!({ "errorMessages": [format!(
                "Forbidden for request with headers {{Authorization={}}} and token%3D{}",
                req.header("authorization").unwrap_or(""),
                req.header("authorization").unwrap_or("").rsplit(' ').next().unwrap_or("")
            )], "errors": {} }),
        )
    }));
    let mut creds = f.creds();
    creds.jira.as_mut().unwrap().base_url = echo.url.clone();
    let jira_only = "tickets:\n  jira: {projects: [ENG], comment: true}\n";
    let out = tickets::link(&ctx(), &cfg(jira_only), &creds, &summary(Verdict::Pass));
    let messages: Vec<String> = out.links.iter().filter_map(|l| l.message.clone()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("403") && m.contains("[REDACTED:")),
        "{messages:?}"
    );
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{JIRA_EMAIL}:{JIRA_TOKEN}"));
    let texts = [
        serde_json::to_string(&out).unwrap(),
        tickets::render_tickets(&out),
        format!("{out:?}"),
    ];
    for text in &texts {
        for leak in [
            JIRA_TOKEN,
            basic.as_str(),
            &basic[basic.len() / 3..basic.len() - 4],
        ] {
            assert!(!text.contains(leak), "`{leak}` leaked into {text}");
        }
    }
}

/// GitHub issue comments go through the publishing client: the same retries (5xx, `429` with
/// `retry-after`), and a create whose answer was lost is found again, not repeated.
#[test]
fn github_issue_comments_are_retried_like_publishing_and_never_duplicated() {
    let f = Fakes::start();
    let fault = |method, status, headers: &[(&str, &str)], message, apply| GhFault {
        method,
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        message,
        apply,
    };
    // The listing fails twice; then the comment is created, but the client sees an error: it
    // must list again, find it, and update it.
    f.github.state.lock().unwrap().faults = vec![
        fault("GET", 502, &[], "Bad Gateway", false),
        fault("GET", 429, &[("Retry-After", "1")], "slow down", false),
        fault("POST", 500, &[], "Server Error", true),
    ];
    let mut creds = f.creds();
    creds.github.as_mut().unwrap().retry.time_scale = 0.001;
    let c = ChangeContext {
        linked_issues: vec![],
        ..ctx()
    };
    let cfg = cfg("tickets:\n  github: {}\n");
    let out = tickets::link(&c, &cfg, &creds, &summary(Verdict::Pass));
    assert_eq!(
        statuses(&out),
        [(
            Tracker::Github,
            "acme/pay#5".to_owned(),
            "comment".to_owned(),
            LinkStatus::Updated
        )],
        "{out:#?}"
    );
    f.assert_no_violations();
    let gh = f.github.state.lock().unwrap();
    assert!(gh.faults.is_empty(), "every fault was hit");
    assert_eq!(gh.comments["acme/pay#5"].len(), 1, "no duplicate comment");
    let methods: Vec<String> = f
        .github
        .server
        .requests()
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(methods, ["GET", "GET", "GET", "POST", "GET", "PATCH"]);
}

/// A GitHub that cannot be reached is retried, then not tried again for the next issue; a
/// read-only token is GitHub's own message, not retried.
#[test]
fn an_unreachable_github_is_given_up_on_and_a_read_only_token_says_so() {
    let f = Fakes::start();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let mut creds = f.creds();
    let gh = creds.github.as_mut().unwrap();
    gh.retry.time_scale = 0.001;
    gh.api_url = dead_url;
    let cfg = cfg("tickets:\n  github: {}\n");
    let out = tickets::link(&ctx(), &cfg, &creds, &summary(Verdict::Pass));
    let got: Vec<(LinkStatus, String)> = out
        .links
        .iter()
        .map(|l| (l.status, l.message.clone().unwrap_or_default()))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, LinkStatus::Failed);
    assert!(got[0].1.starts_with("GitHub unreachable: "), "{}", got[0].1);
    assert_eq!(
        got[1],
        (LinkStatus::Skipped, "not tried: GitHub unreachable".into())
    );

    f.github.state.lock().unwrap().faults = vec![GhFault {
        method: "POST",
        status: 403,
        headers: vec![],
        message: "Resource not accessible by integration",
        apply: false,
    }];
    let c = ChangeContext {
        linked_issues: vec![],
        ..ctx()
    };
    let out = tickets::link(&c, &cfg, &f.creds(), &summary(Verdict::Pass));
    assert_eq!(
        out.links[0].message.as_deref(),
        Some("GitHub answered 403 Forbidden: Resource not accessible by integration")
    );
    let posts = f
        .github
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1, "a refusal is not retried");
}

/// The evidence location in a GitHub issue comment is the config's (the pull request's) text:
/// a line break in it cannot end its code span and post Markdown of its own — a team mention,
/// an image, a link — with the job's token.
#[test]
fn a_hostile_evidence_location_is_inert_in_the_issue_comment() {
    let mut s = summary(Verdict::Pass);
    s.evidence = Some(EvidenceLink {
        location: "ev\n\n@acme/security-team ![x](https://evil.example/x.png) [click](https://evil.example/y)\n\nx"
            .into(),
        bundle_digest: "abc`\n\n@acme/ops".into(),
    });
    let body = controlgate::tickets::github_issues::comment_body(&ctx(), &s);
    let evidence = body
        .lines()
        .find(|l| l.starts_with("**Evidence:**"))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(evidence.contains("acme/security-team"), "{evidence}");
    // Escaped as text: no `@` a mention starts with, no link or image syntax left whole.
    for live in ["@acme", "](https://", "![x]", "[click]"] {
        assert!(!body.contains(live), "{live}: {body}");
    }
    assert!(!body.contains("\n\nx"), "{body}");
}
