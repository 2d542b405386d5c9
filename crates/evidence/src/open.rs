//! Opening the store a config names: the only module that knows every store type, so the
//! stores themselves depend on `store` alone.

use std::path::PathBuf;

use crate::config::StoreConfig;
use crate::error::Result;
use crate::store::{DirStore, EvidenceStore};

/// What opening a store needs besides its config, gathered by the caller (the store never
/// reads the environment itself).
#[derive(Debug, Clone, Default)]
pub struct OpenContext {
    /// Relative `dir` paths and the git workdir resolve against this (the repository root).
    pub base_dir: PathBuf,
    /// `owner/name`: the default S3 prefix.
    pub repository: String,
    /// The environment the store may take credentials from: the git store's `token_env`
    /// variable, `AWS_*` for S3.
    pub env: crate::model::env::EnvVars,
}

/// The repository a run's evidence is stored under when the store does not name one (an S3
/// store's default prefix): the run's own (`GITHUB_REPOSITORY` under the Action), else
/// `local` (`controlgate report` outside the Action). The one place this default is made:
/// the runs that write and `verify`, `audit`, `export` and `badge`, which read, must agree,
/// or the readers look under another prefix than the writers used.
pub fn store_repository(run_repository: Option<&str>) -> String {
    run_repository
        .filter(|r| !r.is_empty())
        .unwrap_or("local")
        .to_owned()
}

/// Opens the store `cfg` names. The git store's token comes from `ctx.env[token_env]`, S3's
/// credentials and region from its `AWS_*` entries.
pub fn open_store(cfg: &StoreConfig, ctx: &OpenContext) -> Result<Box<dyn EvidenceStore>> {
    match cfg {
        StoreConfig::Dir { path } => Ok(Box::new(DirStore::new(ctx.base_dir.join(path)))),
        StoreConfig::Git {
            remote,
            branch,
            workdir,
            token_env,
        } => {
            let token = ctx
                .env
                .get(token_env)
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            let workdir = workdir.as_ref().map(|w| ctx.base_dir.join(w));
            // Under GitHub Actions the config is the checkout's: the pull request under review
            // can change where the store is and which variable its token comes from.
            let confine = (ctx.env.get("GITHUB_ACTIONS") == Some("true")).then(|| {
                crate::git_store::Confinement {
                    server: ctx
                        .env
                        .get("GITHUB_SERVER_URL")
                        .filter(|s| !s.is_empty())
                        .unwrap_or("https://github.com")
                        .trim_end_matches('/')
                        .to_owned(),
                    workspace: ctx
                        .env
                        .get("GITHUB_WORKSPACE")
                        .filter(|s| !s.is_empty())
                        .map_or_else(|| ctx.base_dir.clone(), PathBuf::from),
                }
            });
            let store = match &confine {
                Some(c) => crate::git_store::GitStore::open_confined(
                    remote,
                    branch,
                    workdir,
                    token,
                    &ctx.base_dir,
                    c,
                )?,
                None => {
                    crate::git_store::GitStore::open(remote, branch, workdir, token, &ctx.base_dir)?
                }
            };
            Ok(Box::new(store))
        }
        StoreConfig::S3 {
            bucket,
            prefix,
            region,
            endpoint,
            allow_http,
        } => {
            if ctx.env.get("GITHUB_ACTIONS") == Some("true")
                && let Some(e) = endpoint
            {
                s3_endpoint_may_be_sent_credentials(e, &ctx.env)?;
            }
            let prefix = prefix.clone().unwrap_or_else(|| ctx.repository.clone());
            let aws: Vec<(String, String)> = ctx
                .env
                .0
                .iter()
                .filter(|(k, _)| k.starts_with("AWS_"))
                .cloned()
                .collect();
            Ok(Box::new(crate::s3_store::S3Store::open(
                &crate::s3_store::S3Options {
                    bucket: bucket.clone(),
                    prefix,
                    region: region.clone(),
                    endpoint: endpoint.clone(),
                    allow_http: *allow_http,
                    credentials: None,
                    extra_headers: Vec::new(),
                    aws_env: aws,
                },
            )?))
        }
    }
}

/// Under GitHub Actions the config is the checkout's, which the pull request under review can
/// change: an `endpoint` there would receive the job's AWS credentials (signed requests, the
/// session token). It may be AWS itself (`https://…amazonaws.com`), or the endpoint the
/// workflow names in the environment (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`), which the
/// pull request's config cannot set.
fn s3_endpoint_may_be_sent_credentials(
    endpoint: &str,
    env: &crate::model::env::EnvVars,
) -> Result<()> {
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    let named = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
        .iter()
        .filter_map(|k| env.get(k))
        .any(|e| same(e, endpoint));
    let aws = crate::git_store::origin_parts(endpoint).is_some_and(|(scheme, host, _)| {
        scheme == "https"
            && [".amazonaws.com", ".amazonaws.com.cn"]
                .iter()
                .any(|d| host.ends_with(d))
    });
    if named || aws {
        return Ok(());
    }
    Err(crate::Error::Usage(format!(
        "evidence.store.endpoint {endpoint:?} is the checkout's config, which the pull request \
         can change, and the job's AWS credentials would go there: under GitHub Actions an S3 \
         endpoint is AWS's (https://…amazonaws.com) or the one the workflow sets in \
         AWS_ENDPOINT_URL_S3"
    )))
}

#[cfg(test)]
mod tests {
    use super::store_repository;

    /// Under Actions, the config's S3 endpoint gets the credentials only if it is AWS's or the
    /// workflow's own.
    #[test]
    fn an_s3_endpoint_from_the_config_is_confined_under_actions() {
        use crate::config::StoreConfig;
        let s3 = |endpoint: &str| StoreConfig::S3 {
            bucket: "b".into(),
            prefix: None,
            region: Some("us-east-1".into()),
            endpoint: Some(endpoint.into()),
            allow_http: true,
        };
        let ctx = |vars: &[(&str, &str)]| super::OpenContext {
            env: crate::model::env::EnvVars(
                vars.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        };
        let actions = ctx(&[("GITHUB_ACTIONS", "true")]);
        for refused in [
            "http://127.0.0.1:18766",
            "https://evil.example",
            "https://s3.amazonaws.com.evil.example",
            "http://s3.us-east-1.amazonaws.com",
        ] {
            let e = super::open_store(&s3(refused), &actions)
                .err()
                .map(|e| e.to_string());
            assert!(
                e.as_deref()
                    .is_some_and(|e| e.contains("AWS_ENDPOINT_URL_S3")),
                "{refused}: {e:?}"
            );
        }
        for allowed in [
            "https://s3.us-east-1.amazonaws.com",
            "https://b.s3.amazonaws.com/",
        ] {
            assert!(
                super::open_store(&s3(allowed), &actions).is_ok(),
                "{allowed}"
            );
        }
        // The workflow's own endpoint (a MinIO, a moto), and any outside Actions.
        let named = ctx(&[
            ("GITHUB_ACTIONS", "true"),
            ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000/"),
        ]);
        assert!(super::open_store(&s3("http://127.0.0.1:9000"), &named).is_ok());
        assert!(super::open_store(&s3("http://127.0.0.1:18766"), &ctx(&[])).is_ok());
    }

    #[test]
    fn the_store_repository_is_the_runs_own_else_local() {
        assert_eq!(store_repository(Some("acme/app")), "acme/app");
        assert_eq!(store_repository(None), "local");
        // An empty name is no repository: it would put the evidence at the bucket's root.
        assert_eq!(store_repository(Some("")), "local");
    }
}
