//! Ticket extraction, exemptions, the `tickets.required` gate, config, rendering and the
//! pipeline wiring (all pure: no trackers).

use std::path::Path;

use controlgate::config;
use controlgate::model::report::GateStatus;
use controlgate::tickets::{
    self, ChangeContext, GithubIssue, Source, TicketsConfig, TicketsSection, Tracker,
};

fn cfg(yaml: &str) -> TicketsConfig {
    config::parse(yaml, Path::new("t.yml")).unwrap().tickets
}

const JIRA: &str = "tickets:\n  jira: {projects: [ENG, OPS]}\n";

fn ctx() -> ChangeContext {
    ChangeContext {
        repository: "acme/pay".into(),
        pr_number: Some(42),
        pr_url: "https://github.com/acme/pay/pull/42".into(),
        author: "alice".into(),
        ..Default::default()
    }
}

fn keys_in(field: &str, text: &str, yaml: &str) -> Vec<String> {
    let mut c = ctx();
    match field {
        "title" => c.pr_title = text.into(),
        "branch" => c.head_branch = text.into(),
        "body" => c.pr_body = text.into(),
        _ => c.commit_messages = vec![text.into()],
    }
    tickets::find(&c, &cfg(yaml))
        .into_iter()
        .map(|t| t.key)
        .collect()
}

#[test]
fn key_extraction_table() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("title", "ENG-123: add login", &["ENG-123"]),
        ("title", "[ENG-1] fix, (OPS-22).", &["ENG-1", "OPS-22"]),
        (
            "title",
            "ENG-123/OPS-4;ENG-5!",
            &["ENG-123", "OPS-4", "ENG-5"],
        ),
        // False positives: unconfigured prefixes never match.
        ("title", "Use SHA-256 and UTF-8 per ISO-27001", &[]),
        ("body", "Fixes CVE-2024-1 and tags CC6-1", &[]),
        // Bounded on both sides by non-alphanumerics.
        ("title", "XENG-12 ENG-12a ENG-12_fix", &["ENG-12"]),
        ("title", "ENG-0 ENG-007 ENG-", &[]),
        (
            "body",
            "see https://acme.atlassian.net/browse/ENG-77?focus=1",
            &["ENG-77"],
        ),
        (
            "body",
            "<ENG-8> `OPS-9` \"ENG-10\"",
            &["ENG-8", "OPS-9", "ENG-10"],
        ),
        // Prose keys must be upper-case; branch names match case-insensitively.
        ("title", "eng-123 lower case in a title", &[]),
        ("branch", "feature/ENG-123-login", &["ENG-123"]),
        ("branch", "feature/eng-123-login", &["ENG-123"]),
        ("branch", "alice/ops-7_hotfix", &["OPS-7"]),
        ("branch", "release-2024-1", &[]),
        (
            "commit",
            "ENG-5 first\n\nalso ENG-5 and OPS-6",
            &["ENG-5", "OPS-6"],
        ),
    ];
    for (field, text, want) in cases {
        assert_eq!(&keys_in(field, text, JIRA), want, "{field}: {text:?}");
    }
}

#[test]
fn sources_in_order_first_wins() {
    let c = ChangeContext {
        pr_title: "OPS-2 tidy".into(),
        head_branch: "eng-1-login".into(),
        pr_body: "Relates to OPS-2 and ENG-3".into(),
        commit_messages: vec!["ENG-4 wip".into(), "ENG-1 again".into()],
        ..ctx()
    };
    let found = tickets::find(&c, &cfg(JIRA));
    let got: Vec<(&str, Source)> = found.iter().map(|t| (t.key.as_str(), t.source)).collect();
    assert_eq!(
        got,
        [
            ("OPS-2", Source::Title),
            ("ENG-1", Source::Branch),
            ("ENG-3", Source::Body),
            ("ENG-4", Source::Commit),
        ]
    );
    assert!(found.iter().all(|t| t.tracker == Tracker::Jira));
}

#[test]
fn linear_team_keys_and_shared_prefixes() {
    let yaml = "tickets:\n  jira: {projects: [ENG]}\n  linear: {teams: [DES, ENG]}\n";
    let c = ChangeContext {
        pr_title: "DES-12 and ENG-3".into(),
        ..ctx()
    };
    let found = tickets::find(&c, &cfg(yaml));
    let got: Vec<(Tracker, &str)> = found.iter().map(|t| (t.tracker, t.key.as_str())).collect();
    assert_eq!(
        got,
        [
            (Tracker::Linear, "DES-12"),
            (Tracker::Jira, "ENG-3"),
            (Tracker::Linear, "ENG-3"),
        ]
    );
    // `projects` is accepted as an alias of `teams`.
    assert_eq!(
        cfg("tickets:\n  linear: {projects: [DES]}\n")
            .linear
            .unwrap()
            .teams,
        ["DES"]
    );
}

#[test]
fn github_references_and_linked_issues() {
    let yaml = "tickets:\n  github: {}\n";
    let c = ChangeContext {
        pr_title: "Fix #12 (see other/lib#7)".into(),
        head_branch: "fix/13-thing".into(),
        pr_body: "Closes https://github.com/acme/pay/issues/14, not #42 (this PR), not &#35;15 or a#16 or #17a. Also #12.".into(),
        commit_messages: vec![
            "Merge pull request #99 from acme/x".into(),
            "refs #18".into(),
        ],
        linked_issues: vec![
            GithubIssue { repository: "acme/pay".into(), number: 12 },
            GithubIssue { repository: "acme/pay".into(), number: 20 },
        ],
        ..ctx()
    };
    let found = tickets::find(&c, &cfg(yaml));
    let got: Vec<(&str, Source)> = found.iter().map(|t| (t.key.as_str(), t.source)).collect();
    assert_eq!(
        got,
        [
            ("acme/pay#12", Source::Title),
            ("other/lib#7", Source::Title),
            ("acme/pay#14", Source::Body),
            ("acme/pay#18", Source::Commit),
            ("acme/pay#20", Source::LinkedIssue),
        ]
    );
    // With references off, only linked issues count.
    let found = tickets::find(&c, &cfg("tickets:\n  github: {references: false}\n"));
    let got: Vec<&str> = found.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(got, ["acme/pay#12", "acme/pay#20"]);
    // Without a github section, `#12` is not a ticket.
    assert!(tickets::find(&c, &cfg(JIRA)).is_empty());
}

fn gate_for(c: &ChangeContext, yaml: &str) -> (controlgate::model::report::Gate, TicketsSection) {
    let cfg = cfg(yaml);
    let section = tickets::section(c, &cfg);
    (
        tickets::gate(&cfg, Some(c), Some(&section)).unwrap(),
        section,
    )
}

#[test]
fn no_ticket_fails_with_the_accepted_patterns() {
    let yaml = "tickets:\n  required: true\n  jira: {projects: [ENG, OPS]}\n  github: {}\n";
    let c = ChangeContext {
        pr_title: "Bump SHA-256 lib".into(),
        ..ctx()
    };
    let (g, _) = gate_for(&c, yaml);
    assert_eq!(g.name, "tickets.required");
    assert_eq!(g.status, GateStatus::Fail);
    assert_eq!(
        g.detail,
        "no change ticket (CC8.1): expected a Jira key like ENG-123 or OPS-123 in the PR title, \
         branch name, body or a commit message, or a GitHub issue linked to the PR or referenced \
         as #123 / owner/repo#123 in the title, body or a commit message"
    );
    let yaml = "tickets:\n  required: true\n  jira: {projects: [ENG]}\n  linear: {teams: [DES, UX, WEB]}\n";
    let (g, _) = gate_for(&c, yaml);
    assert_eq!(
        g.detail,
        "no change ticket (CC8.1): expected a Jira key like ENG-123 or a Linear issue like \
         DES-123, UX-123 or WEB-123 in the PR title, branch name, body or a commit message"
    );
}

#[test]
fn a_ticket_passes_and_says_where_it_was_found() {
    let yaml = "tickets:\n  required: true\n  jira: {projects: [ENG]}\n";
    let c = ChangeContext {
        head_branch: "feature/eng-9-x".into(),
        ..ctx()
    };
    let (g, s) = gate_for(&c, yaml);
    assert_eq!(g.status, GateStatus::Pass);
    assert_eq!(g.detail, "CC8.1 change ticket: ENG-9 (branch name)");
    assert_eq!(s.tickets.len(), 1);
}

#[test]
fn exemptions_by_label_or_author_pass_and_are_recorded() {
    let yaml = "tickets:\n  required: true\n  jira: {projects: [ENG]}\n  exempt:\n    labels: [no-ticket]\n    authors: ['dependabot[bot]']\n";
    let bot = ChangeContext {
        author: "Dependabot[bot]".into(),
        pr_title: "Bump serde".into(),
        ..ctx()
    };
    let (g, s) = gate_for(&bot, yaml);
    assert_eq!(g.status, GateStatus::Pass);
    assert_eq!(
        g.detail,
        "no ticket needed: author `Dependabot[bot]` is exempt (tickets.exempt.authors)"
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(
        json["exemption"],
        serde_json::json!({"by": "author", "value": "Dependabot[bot]"})
    );
    let labelled = ChangeContext {
        labels: vec!["docs".into(), "No-Ticket".into()],
        ..ctx()
    };
    let (g, s) = gate_for(&labelled, yaml);
    assert_eq!(g.status, GateStatus::Pass);
    assert_eq!(s.exemption.unwrap().by, "label");
    // A look-alike author is not exempt (exact match, no globbing of `[bot]`).
    let other = ChangeContext {
        author: "dependabotb".into(),
        ..ctx()
    };
    assert_eq!(gate_for(&other, yaml).0.status, GateStatus::Fail);
}

#[test]
fn informational_and_no_context() {
    let yaml =
        "tickets:\n  required: {value: true, informational: true}\n  jira: {projects: [ENG]}\n";
    let (g, _) = gate_for(&ctx(), yaml);
    assert_eq!((g.status, g.passed), (GateStatus::Informational, false));
    // No change context: not evaluated, and that fails closed unless told otherwise.
    let c = cfg("tickets:\n  required: true\n  jira: {projects: [ENG]}\n");
    let g = tickets::gate(&c, None, None).unwrap();
    assert_eq!(
        (g.status, g.result),
        (
            GateStatus::Fail,
            controlgate::model::gate::GateResult::NotEvaluated
        )
    );
    assert!(
        g.detail.contains("not evaluated: no change context"),
        "{}",
        g.detail
    );
    let c = cfg(
        "tickets:\n  required: {value: true, when_unavailable: pass}\n  jira: {projects: [ENG]}\n",
    );
    let g = tickets::gate(&c, None, None).unwrap();
    assert_eq!((g.status, g.passed), (GateStatus::Pass, false));
    assert!(tickets::gate(&cfg(JIRA), Some(&ctx()), None).is_none());
    let off = cfg("tickets:\n  required: false\n  jira: {projects: [ENG]}\n");
    assert!(tickets::gate(&off, Some(&ctx()), None).is_none());
}

#[test]
fn config_is_validated() {
    let err = |y: &str| {
        config::parse(y, Path::new("c.yml"))
            .unwrap_err()
            .to_string()
    };
    assert!(err("tickets:\n  required: true\n").contains("configure at least one"));
    assert!(err("tickets:\n  jira: {projects: []}\n").contains("SHA-256"));
    assert!(err("tickets:\n  jira: {projects: [eng]}\n").contains("`eng` is not a key"));
    assert!(err("tickets:\n  jira: {projects: [ENG], url: acme}\n").contains("tickets.jira.url"));
    let e = err("tickets:\n  jira: {projets: [ENG]}\n");
    assert!(e.contains("did you mean `projects`?"), "{e}");
    let e = err("tickets:\n  exempt: {author: [x]}\n");
    assert!(e.contains("did you mean `authors`?"), "{e}");
    let c = cfg(
        "tickets:\n  jira: {projects: [ENG], url: 'https://acme.atlassian.net', comment: false}\n",
    );
    let j = c.jira.unwrap();
    assert!(j.remote_link && !j.comment);
}

#[test]
fn rendered_section_escapes_untrusted_text() {
    let section = TicketsSection {
        tickets: vec![tickets::TicketRef {
            tracker: Tracker::Github,
            key: "acme/pay#12".into(),
            source: Source::Body,
        }],
        exemption: None,
        links: vec![tickets::LinkResult {
            tracker: Tracker::Github,
            ticket: "acme/pay#12".into(),
            action: "comment".into(),
            status: tickets::LinkStatus::Failed,
            message: Some("GitHub answered 403: <img src=x> @org/team | boom".into()),
        }],
        release: false,
    };
    let md = tickets::render_tickets(&section);
    assert!(md.contains("| acme/pay&#35;&#8203;12 | GitHub | PR body | ⚠️ comment failed: GitHub answered 403&#58; &lt;img src=x&gt; &#64;&#8203;org/team &#124; boom |")
        || md.contains("⚠️ comment failed: GitHub answered 403: &lt;img src=x&gt; &#64;&#8203;org/team &#124; boom"), "{md}");
    assert!(!md.contains("<img") && !md.contains("@org"), "{md}");
    let empty = TicketsSection {
        exemption: Some(tickets::Exemption {
            by: "author".into(),
            value: "renovate[bot]".into(),
        }),
        ..Default::default()
    };
    assert_eq!(
        tickets::render_tickets(&empty),
        "### Change tickets\n\nNo change ticket found; exempt by author renovate\\[bot\\].\n\n"
    );
}

#[test]
fn pipeline_reports_tickets_and_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("junit.xml"),
        r#"<testsuite name="s"><testcase classname="a" name="t [cc8-1]"/></testsuite>"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("c.yml"),
        "tickets:\n  required: true\n  jira: {projects: [ENG]}\n  exempt: {authors: ['dependabot[bot]']}\n",
    )
    .unwrap();
    let mut req = controlgate::ReportRequest::new(vec!["junit.xml".into()], dir.path().into());
    req.config = Some("c.yml".into());
    // Offline: no change context, so the gate cannot be evaluated and fails closed.
    let out = controlgate::report(&req).unwrap();
    let g = out
        .report
        .gates
        .iter()
        .find(|g| g.name == "tickets.required")
        .unwrap();
    assert_eq!(g.status, GateStatus::Fail);
    assert!(out.report.tickets.is_none());
    assert_eq!(out.exit_code(), controlgate::ExitCode::Fail);
    // A PR without a ticket fails the run.
    req.change = Some(ChangeContext {
        pr_title: "Refactor".into(),
        ..ctx()
    });
    let out = controlgate::report(&req).unwrap();
    assert_eq!(out.exit_code(), controlgate::ExitCode::Fail);
    assert!(
        out.markdown.contains("### Change tickets"),
        "{}",
        out.markdown
    );
    assert!(
        out.markdown.contains("expected a Jira key like ENG-123"),
        "{}",
        out.markdown
    );
    // An exempt author passes, and report.json records why.
    req.change = Some(ChangeContext {
        author: "dependabot[bot]".into(),
        ..ctx()
    });
    let out = controlgate::report(&req).unwrap();
    assert_eq!(out.exit_code(), controlgate::ExitCode::Pass);
    let json: serde_json::Value = serde_json::from_str(&out.json()).unwrap();
    assert_eq!(json["tickets"]["exemption"]["by"], "author");
    assert_eq!(json["tickets"]["tickets"], serde_json::json!([]));
    // A ticket in the branch name passes and is listed with its source.
    req.change = Some(ChangeContext {
        head_branch: "feature/ENG-123-login".into(),
        ..ctx()
    });
    let out = controlgate::report(&req).unwrap();
    let json: serde_json::Value = serde_json::from_str(&out.json()).unwrap();
    assert_eq!(
        json["tickets"]["tickets"],
        serde_json::json!([{"tracker": "jira", "key": "ENG-123", "source": "branch"}])
    );
    assert_eq!(out.exit_code(), controlgate::ExitCode::Pass);
}
