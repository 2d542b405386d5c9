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
            Ok(Box::new(crate::git_store::GitStore::open(
                remote,
                branch,
                workdir,
                token,
                &ctx.base_dir,
            )?))
        }
        StoreConfig::S3 {
            bucket,
            prefix,
            region,
            endpoint,
            allow_http,
        } => {
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
