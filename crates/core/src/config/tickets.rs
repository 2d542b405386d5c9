//! `tickets:`: the Jira, Linear and GitHub issue trackers, exemptions, and the checks on their
//! keys and on `tickets.required`.

use serde::Deserialize;

use super::gated::Gated;

/// `tickets:` in `.github/controlgate.yml`. A tracker is enabled by its section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TicketsConfig {
    /// Fail a change without a ticket (CC8.1).
    pub required: Option<Gated<bool>>,
    pub jira: Option<JiraConfig>,
    pub linear: Option<LinearConfig>,
    pub github: Option<GithubIssuesConfig>,
    pub exempt: Exemptions,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JiraConfig {
    /// Project keys (`ENG`, `OPS`); only these are recognised as Jira keys.
    pub projects: Vec<String>,
    /// `https://your-domain.atlassian.net` (credentials may override it).
    pub url: Option<String>,
    /// Upsert a remote link to the PR (default true).
    pub remote_link: bool,
    /// Post (then edit) one comment with the verdict, controls and coverage (default true).
    pub comment: bool,
}

impl Default for JiraConfig {
    fn default() -> Self {
        JiraConfig {
            projects: Vec::new(),
            url: None,
            remote_link: true,
            comment: true,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinearConfig {
    /// Team keys (`ENG`); only these are recognised as Linear identifiers.
    #[serde(alias = "projects")]
    pub teams: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GithubIssuesConfig {
    /// Count `#123` / `owner/repo#123` in the title, body and commit messages (default true);
    /// issues linked to the PR always count.
    pub references: bool,
    /// Keep one sticky comment on each linked issue (default true).
    pub comment: bool,
}

impl Default for GithubIssuesConfig {
    fn default() -> Self {
        GithubIssuesConfig {
            references: true,
            comment: true,
        }
    }
}

/// Changes that need no ticket: matched exactly, case-insensitively.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Exemptions {
    pub labels: Vec<String>,
    /// Logins such as `dependabot[bot]`, `renovate[bot]`.
    pub authors: Vec<String>,
}

impl TicketsConfig {
    /// Whether any tracker is configured.
    pub fn any_tracker(&self) -> bool {
        self.jira.is_some() || self.linear.is_some() || self.github.is_some()
    }

    /// Checks project/team keys and that a required gate has something to accept.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let key_ok = |k: &str| {
            let mut chars = k.chars();
            chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        };
        for (what, keys) in [
            (
                "tickets.jira.projects",
                self.jira.as_ref().map(|j| &j.projects),
            ),
            (
                "tickets.linear.teams",
                self.linear.as_ref().map(|l| &l.teams),
            ),
        ] {
            let Some(keys) = keys else { continue };
            if keys.is_empty() {
                return Err(format!(
                    "{what}: list the keys to recognise (e.g. [ENG, OPS]); without them every `ABC-123` (SHA-256, UTF-8) would match"
                ));
            }
            for k in keys {
                if !key_ok(k) {
                    return Err(format!(
                        "{what}: `{k}` is not a key (upper-case letters, digits and `_`, starting with a letter, e.g. ENG)"
                    ));
                }
            }
        }
        if let Some(url) = self.jira.as_ref().and_then(|j| j.url.as_deref())
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(format!(
                "tickets.jira.url: `{url}` is not an http(s) URL (e.g. https://acme.atlassian.net)"
            ));
        }
        if self.required.as_ref().is_some_and(|r| r.value) && !self.any_tracker() {
            return Err(
                "tickets.required: configure at least one of tickets.jira, tickets.linear or tickets.github"
                    .into(),
            );
        }
        Ok(())
    }
}
