//! What GitHub records about the repository's history, gathered for `audit` and `verify`: the
//! period's merged pull requests and direct pushes (`--population github`, joined with the
//! ledger by `retain::population`) and the ledger tips the check runs recorded
//! (`--anchors github`, checked by `retain::verify`). Plain data out.

use chrono::NaiveDate;

use crate::error::Error;
use crate::model::population::MergedChange;
use crate::publish::github::{GitHub, Repo, RetryPolicy};
use crate::retain::Tip;
use crate::retain::verify::Anchor;

/// Where GitHub is and who may read it: `GITHUB_API_URL` (default `https://api.github.com`) and
/// `GITHUB_TOKEN` from the environment the binary was given.
pub struct GitHubAccess {
    pub api_url: String,
    pub token: String,
}

impl GitHubAccess {
    pub fn from_vars(vars: &[(String, String)]) -> Result<GitHubAccess, Error> {
        let var = |k: &str| {
            vars.iter()
                .find(|(n, v)| n == k && !v.trim().is_empty())
                .map(|(_, v)| v.clone())
        };
        let token = var("GITHUB_TOKEN").ok_or_else(|| {
            Error::Usage(
                "reading GitHub needs GITHUB_TOKEN (a token that may read the repository's pull \
                 requests, commits, workflow runs and checks)"
                    .into(),
            )
        })?;
        Ok(GitHubAccess {
            api_url: var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            token,
        })
    }
}

/// `owner/name` split, or a usage error naming `what`.
fn repo_of<'a>(repository: &'a str, what: &str) -> Result<Repo<'a>, Error> {
    repository
        .split_once('/')
        .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
        .map(|(owner, name)| Repo { owner, name })
        .ok_or_else(|| {
            Error::Usage(format!(
                "{what}: `{repository}` is not owner/name (give --repository)"
            ))
        })
}

/// Runs `f` with a GitHub client on a current-thread runtime.
fn with_github<T>(
    access: &GitHubAccess,
    log: Box<dyn Fn(&str)>,
    f: impl AsyncFnOnce(&GitHub) -> Result<T, Error>,
) -> Result<T, Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?;
    // octocrab's client (a tower buffer) must be built inside the runtime.
    let _guard = rt.enter();
    let gh = GitHub::new(&access.api_url, &access.token, RetryPolicy::default(), log)
        .map_err(|e| Error::Usage(e.to_string()))?;
    rt.block_on(f(&gh))
}

/// Lists the changes that reached `branch` of `repository` (`owner/name`) from `from` to `to`
/// (UTC days, inclusive). Fails rather than return a partial population.
pub fn github_population(
    access: &GitHubAccess,
    repository: &str,
    branch: &str,
    from: NaiveDate,
    to: NaiveDate,
    log: Box<dyn Fn(&str)>,
) -> Result<Vec<MergedChange>, Error> {
    let repo = repo_of(repository, "--population github")?;
    let since = format!("{from}T00:00:00Z");
    let until = format!("{to}T23:59:59Z");
    with_github(access, log, async |gh| {
        gh.population(repo, branch, &since, &until)
            .await
            .map_err(|e| Error::Usage(format!("listing the population from GitHub: {e}")))
    })
}

/// The ledger tips recorded by the `check_name` check runs of `repository`'s workflow runs
/// created from `from` to `to` (UTC days, inclusive).
pub fn github_anchors(
    access: &GitHubAccess,
    repository: &str,
    check_name: &str,
    from: NaiveDate,
    to: NaiveDate,
    log: Box<dyn Fn(&str)>,
) -> Result<Vec<Anchor>, Error> {
    let repo = repo_of(repository, "--anchors github")?;
    let tips = with_github(access, log, async |gh| {
        gh.recorded_tips(repo, check_name, &from.to_string(), &to.to_string())
            .await
            .map_err(|e| Error::Usage(format!("reading the ledger anchors from GitHub: {e}")))
    })?;
    Ok(tips
        .into_iter()
        .map(|t| Anchor {
            tip: Tip {
                seq: t.seq,
                digest: t.digest,
                of: None,
            },
            source: format!("the check run {} on {}", t.url, t.head_sha),
        })
        .collect())
}
