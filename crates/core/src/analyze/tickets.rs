//! Finding a change's tickets and the `tickets.required` gate: pure functions of the change
//! context and the config (see `docs/tickets.md`).

use std::fmt::Write as _;

use crate::config::TicketsConfig;
use crate::model::gate::{Check, Gate};
use crate::model::tickets::{
    ChangeContext, ControlLine, CoverageDelta, Exemption, GithubIssue, RunSummary, Source,
    TicketRef, TicketsSection, Tracker,
};

/// The trackers' summary is derived from the report here, not in the model, so that the model's
/// report and ticket types do not depend on each other.
impl RunSummary {
    /// The summary of a decided report; the caller adds `evidence` and `run_url`.
    pub fn from_report(report: &crate::model::report::Report) -> Self {
        use crate::model::report::{ControlStatus, GateStatus};
        RunSummary {
            verdict: report.verdict,
            controls: report
                .controls
                .iter()
                .map(|c| ControlLine {
                    id: c.id.to_string(),
                    status: match c.status {
                        ControlStatus::Pass => "pass",
                        ControlStatus::Fail => "fail",
                        ControlStatus::Untested => "untested",
                    }
                    .to_owned(),
                    passed: c.passed,
                    tests: c.tests,
                })
                .collect(),
            failed_gates: report
                .gates
                .iter()
                .filter(|g| g.status == GateStatus::Fail)
                .map(|g| g.name.clone())
                .collect(),
            coverage: report.coverage.as_ref().map(|c| CoverageDelta {
                project: c.head.percent.map(|p| p.as_f64()),
                base_project: c.base.as_ref().and_then(|b| b.percent).map(|p| p.as_f64()),
                delta_pp: c.delta_pp.map(|p| p.as_f64()),
                patch: c.patch.percent.map(|p| p.as_f64()),
            }),
            evidence: None,
            run_url: None,
        }
    }
}

/// Finds the change's tickets: the PR title, head branch, body and commit messages (in that
/// order), then GitHub's linked issues. Each ticket is listed once, with its first source.
///
/// Jira/Linear keys count only for the configured project/team keys, bounded by characters
/// that are not ASCII letters or digits (`feature/ENG-123-login`, `(ENG-123)`, `.../browse/ENG-123`,
/// `ENG-123_fix`). Branch names match case-insensitively (`feature/eng-123-login`; Linear's
/// generated branch names are lower-case); elsewhere only upper-case keys count, so prose such as
/// `eng-1` does not. GitHub references (`#12`, `owner/repo#12`, issue URLs on github.com) are
/// read from the title, body and commits, never from branch names.
pub fn find(ctx: &ChangeContext, cfg: &TicketsConfig) -> Vec<TicketRef> {
    let mut out: Vec<TicketRef> = Vec::new();
    let keys = KeyMatcher::new(cfg);
    let refs = cfg.github.as_ref().is_some_and(|g| g.references);
    let push = |out: &mut Vec<TicketRef>, t: TicketRef| {
        if !out
            .iter()
            .any(|o| o.tracker == t.tracker && o.key.eq_ignore_ascii_case(&t.key))
        {
            out.push(t);
        }
    };
    let commits: Vec<String> = ctx
        .commit_messages
        .iter()
        .map(|m| strip_merge_lines(m))
        .collect();
    let mut texts: Vec<(Source, &str)> = vec![
        (Source::Title, ctx.pr_title.as_str()),
        (Source::Branch, ctx.head_branch.as_str()),
        (Source::Body, ctx.pr_body.as_str()),
    ];
    texts.extend(commits.iter().map(|m| (Source::Commit, m.as_str())));
    for (source, text) in texts {
        if let Some(k) = &keys {
            for (tracker, key) in k.find(text, source == Source::Branch) {
                push(
                    &mut out,
                    TicketRef {
                        tracker,
                        key,
                        source,
                    },
                );
            }
        }
        if refs && source != Source::Branch {
            for issue in github_refs(text, &ctx.repository) {
                if issue.repository.eq_ignore_ascii_case(&ctx.repository)
                    && Some(issue.number) == ctx.pr_number
                {
                    continue; // the PR itself
                }
                push(
                    &mut out,
                    TicketRef {
                        tracker: Tracker::Github,
                        key: format!("{}#{}", issue.repository, issue.number),
                        source,
                    },
                );
            }
        }
    }
    if cfg.github.is_some() {
        for issue in &ctx.linked_issues {
            push(
                &mut out,
                TicketRef {
                    tracker: Tracker::Github,
                    key: format!("{}#{}", issue.repository, issue.number),
                    source: Source::LinkedIssue,
                },
            );
        }
    }
    out
}

/// GitHub's merge commits say "Merge pull request #45 from owner/branch": that names a PR,
/// not a ticket.
fn strip_merge_lines(message: &str) -> String {
    message
        .lines()
        .filter(|l| !l.trim_start().starts_with("Merge pull request #"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Matches configured project/team keys.
struct KeyMatcher {
    re: regex::Regex,
    re_ci: regex::Regex,
    jira: Vec<String>,
    linear: Vec<String>,
}

impl KeyMatcher {
    fn new(cfg: &TicketsConfig) -> Option<Self> {
        let jira: Vec<String> = cfg
            .jira
            .as_ref()
            .map(|j| j.projects.iter().map(|k| k.to_ascii_uppercase()).collect())
            .unwrap_or_default();
        let linear: Vec<String> = cfg
            .linear
            .as_ref()
            .map(|l| l.teams.iter().map(|k| k.to_ascii_uppercase()).collect())
            .unwrap_or_default();
        let mut all: Vec<&String> = jira.iter().chain(&linear).collect();
        if all.is_empty() {
            return None;
        }
        // Longest first, so `ENGX` is tried before `ENG`.
        all.sort_by_key(|k| std::cmp::Reverse(k.len()));
        all.dedup();
        let alt: Vec<String> = all.iter().map(|k| regex::escape(k)).collect();
        let pat = format!("({})-([1-9][0-9]*)", alt.join("|"));
        Some(KeyMatcher {
            re: regex::Regex::new(&pat).ok()?,
            re_ci: regex::Regex::new(&format!("(?i){pat}")).ok()?,
            jira,
            linear,
        })
    }

    /// `(tracker, KEY-123)` for each bounded key in `text` (a key configured for both
    /// trackers yields both).
    fn find(&self, text: &str, case_insensitive: bool) -> Vec<(Tracker, String)> {
        let re = if case_insensitive {
            &self.re_ci
        } else {
            &self.re
        };
        let mut out = Vec::new();
        for caps in re.captures_iter(text) {
            let (Some(m), Some(prefix), Some(num)) = (caps.get(0), caps.get(1), caps.get(2)) else {
                continue;
            };
            let before = text[..m.start()].chars().next_back();
            let after = text[m.end()..].chars().next();
            if before.is_some_and(|c| c.is_ascii_alphanumeric())
                || after.is_some_and(|c| c.is_ascii_alphanumeric())
            {
                continue;
            }
            let prefix = prefix.as_str().to_ascii_uppercase();
            let key = format!("{prefix}-{}", num.as_str());
            if self.jira.contains(&prefix) {
                out.push((Tracker::Jira, key.clone()));
            }
            if self.linear.contains(&prefix) {
                out.push((Tracker::Linear, key));
            }
        }
        out
    }
}

/// `#12` (in `repository`), `owner/repo#12` and `https://github.com/owner/repo/issues/12`.
fn github_refs(text: &str, repository: &str) -> Vec<GithubIssue> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let Some(re) = RE
        .get_or_init(|| {
            regex::Regex::new(
                r"https?://github\.com/([A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+)/issues/([1-9][0-9]*)|(?:([A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+))?#([1-9][0-9]*)",
            )
            .ok()
        })
        .as_ref()
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for caps in re.captures_iter(text) {
        let Some(m) = caps.get(0) else { continue };
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        // `&#35;` (an entity), `abc#1`, `#12a` and `#1.5` are not references.
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || "&/_-.#".contains(c))
            || after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        let (repo, num) = match (caps.get(1), caps.get(2), caps.get(3), caps.get(4)) {
            (Some(r), Some(n), _, _) => (r.as_str().to_owned(), n.as_str()),
            (_, _, r, Some(n)) => (
                r.map_or_else(|| repository.to_owned(), |r| r.as_str().to_owned()),
                n.as_str(),
            ),
            _ => continue,
        };
        if repo.is_empty() {
            continue;
        }
        let Ok(number) = num.parse::<u64>() else {
            continue;
        };
        out.push(GithubIssue {
            repository: repo,
            number,
        });
    }
    out
}

/// The exemption that applies to the change, if any (labels first).
pub fn exemption(ctx: &ChangeContext, cfg: &TicketsConfig) -> Option<Exemption> {
    let label = ctx.labels.iter().find(|l| {
        cfg.exempt
            .labels
            .iter()
            .any(|e| e.trim().eq_ignore_ascii_case(l.trim()))
    });
    if let Some(l) = label {
        return Some(Exemption {
            by: "label".into(),
            value: l.clone(),
        });
    }
    cfg.exempt
        .authors
        .iter()
        .any(|a| !ctx.author.is_empty() && a.trim().eq_ignore_ascii_case(ctx.author.trim()))
        .then(|| Exemption {
            by: "author".into(),
            value: ctx.author.clone(),
        })
}

/// What a change is expected to carry, for the gate's message.
pub fn accepted_patterns(cfg: &TicketsConfig) -> String {
    fn examples(keys: &[String]) -> String {
        let ex: Vec<String> = keys.iter().map(|k| format!("{k}-123")).collect();
        match ex.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
        }
    }
    let mut keyed = Vec::new();
    if let Some(j) = &cfg.jira {
        keyed.push(format!("a Jira key like {}", examples(&j.projects)));
    }
    if let Some(l) = &cfg.linear {
        keyed.push(format!("a Linear issue like {}", examples(&l.teams)));
    }
    let mut parts = Vec::new();
    if !keyed.is_empty() {
        parts.push(format!(
            "{} in the PR title, branch name, body or a commit message",
            keyed.join(" or ")
        ));
    }
    match &cfg.github {
        Some(g) if g.references => {
            parts.push("a GitHub issue linked to the PR or referenced as #123 / owner/repo#123 in the title, body or a commit message".into())
        }
        Some(_) => parts.push("a GitHub issue linked to the PR".into()),
        None => {}
    }
    format!("expected {}", parts.join(", or "))
}

/// The `tickets.required` gate (CC8.1); `None` when not configured. Without a change context
/// (the offline `report` command) it is not evaluated, and `when_unavailable` decides.
pub fn gate(
    cfg: &TicketsConfig,
    ctx: Option<&ChangeContext>,
    section: Option<&TicketsSection>,
) -> Option<Gate> {
    let req = cfg.required.as_ref().filter(|r| r.value)?;
    const NAME: &str = "tickets.required";
    let (Some(_), Some(section)) = (ctx, section) else {
        return Some(Gate::decide(
            NAME,
            req.policy(),
            Check::missing("no change context (not a pull request or push run)"),
        ));
    };
    if !section.tickets.is_empty() {
        let shown: Vec<String> = section
            .tickets
            .iter()
            .take(5)
            .map(|t| format!("{} ({})", t.key, t.source.describe()))
            .collect();
        let more = section.tickets.len().saturating_sub(shown.len());
        let mut detail = format!("CC8.1 change ticket: {}", shown.join(", "));
        if more > 0 {
            let _ = write!(detail, " and {more} more");
        }
        return Some(Gate::decide(NAME, req.policy(), Check::Held(detail)));
    }
    if let Some(e) = &section.exemption {
        return Some(Gate::decide(
            NAME,
            req.policy(),
            Check::Held(format!(
                "no ticket needed: {} `{}` is exempt (tickets.exempt.{}s)",
                e.by, e.value, e.by
            )),
        ));
    }
    Some(Gate::decide(
        NAME,
        req.policy(),
        Check::Broken(format!(
            "no change ticket (CC8.1): {}",
            accepted_patterns(cfg)
        )),
    ))
}

/// The pure part: tickets found and the exemption.
pub fn section(ctx: &ChangeContext, cfg: &TicketsConfig) -> TicketsSection {
    TicketsSection {
        tickets: find(ctx, cfg),
        exemption: exemption(ctx, cfg),
        links: Vec::new(),
        release: ctx.is_release(),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn merge_lines_are_not_references() {
        assert_eq!(
            strip_merge_lines("Merge pull request #45 from a/b\n\nENG-1 fix #3"),
            "\nENG-1 fix #3"
        );
    }
}
