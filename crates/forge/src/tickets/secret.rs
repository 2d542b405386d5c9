//! Credentials for the trackers: plain data from the Action's inputs, never printed.

use std::fmt;

/// A token that never shows in `Debug`, `Display` or serialised output. Read it only where
/// a request header is built ([`Secret::expose`]).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The token itself, for the `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

/// Jira Cloud: Basic auth with the account's email and an API token.
#[derive(Debug, Clone, Default)]
pub struct JiraCredentials {
    /// `https://your-domain.atlassian.net`; empty uses `tickets.jira.url` from the config.
    pub base_url: String,
    pub email: String,
    pub api_token: Secret,
}

/// Linear: a personal API key (sent without "Bearer") or an OAuth token (sent with it).
#[derive(Debug, Clone)]
pub struct LinearCredentials {
    /// The GraphQL endpoint; [`LinearCredentials::DEFAULT_URL`] unless testing.
    pub api_url: String,
    pub api_key: Secret,
}

impl LinearCredentials {
    pub const DEFAULT_URL: &'static str = "https://api.linear.app/graphql";

    pub fn new(api_key: impl Into<Secret>) -> Self {
        LinearCredentials {
            api_url: Self::DEFAULT_URL.to_owned(),
            api_key: api_key.into(),
        }
    }
}

/// GitHub REST for issue comments: `GITHUB_API_URL` (differs on Enterprise Server), a token
/// with `issues: write`, and how hard the GitHub client retries (as when publishing).
#[derive(Debug, Clone)]
pub struct GithubCredentials {
    pub api_url: String,
    pub token: Secret,
    pub retry: crate::publish::github::RetryPolicy,
    /// The login whose comments on an issue are controlgate's (the `comment-author` input);
    /// `None`: the token's identity, as for the PR comment.
    pub comment_author: Option<String>,
}

impl GithubCredentials {
    pub const DEFAULT_URL: &'static str = "https://api.github.com";

    pub fn new(token: impl Into<Secret>) -> Self {
        GithubCredentials {
            api_url: Self::DEFAULT_URL.to_owned(),
            token: token.into(),
            retry: Default::default(),
            comment_author: None,
        }
    }
}

/// Whatever credentials the run has; a tracker without them is skipped (fork PRs have no
/// secrets), never an error.
#[derive(Debug, Clone, Default)]
pub struct TicketCredentials {
    pub jira: Option<JiraCredentials>,
    pub linear: Option<LinearCredentials>,
    pub github: Option<GithubCredentials>,
}

impl TicketCredentials {
    /// Every token value, for scrubbing messages that travel into the report.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(j) = &self.jira {
            out.push(j.api_token.expose());
        }
        if let Some(l) = &self.linear {
            out.push(l.api_key.expose());
        }
        if let Some(g) = &self.github {
            out.push(g.token.expose());
        }
        out.retain(|s| s.trim().len() >= 4);
        out
    }
}

/// Replaces every occurrence of a secret in `text` (trackers sometimes echo what they got).
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if out.contains(s) {
            out = out.replace(s, "***");
        }
    }
    out
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn secrets_never_format() {
        let s = Secret::new("tok-123456");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        let creds = TicketCredentials {
            linear: Some(LinearCredentials::new("lin_api_zzzz")),
            ..Default::default()
        };
        assert!(!format!("{creds:?}").contains("lin_api_zzzz"));
        assert_eq!(
            scrub("bad key lin_api_zzzz!", &creds.secrets()),
            "bad key ***!"
        );
    }
}
