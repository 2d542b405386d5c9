//! The `s3` store, through the `object_store` crate: every object is written create-only
//! (`PutMode::Create`, i.e. `If-None-Match: *`) and carries an `x-amz-checksum-sha256` header,
//! which S3 requires for PUTs into Object Lock buckets. Keys live under a per-repository
//! prefix, so one bucket holds many repositories and reading one lists only its prefix.
//! The async client runs on a private current-thread tokio runtime: callers stay synchronous
//! (do not call from inside another tokio runtime).

use std::sync::Mutex;

use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload};

use super::ledger::Tip;
use super::store::{Created, EvidenceStore};
use crate::error::{Error, Result};

/// How to reach the bucket. Credentials come from `credentials`, else from the `AWS_*`
/// variables in `aws_env` (gathered by the caller; the store never reads the environment).
/// `Debug` names the variables and whether credentials were given, never their values.
#[derive(Clone, Default)]
pub struct S3Options {
    pub bucket: String,
    /// Key prefix (`owner/name`); empty for the bucket root.
    pub prefix: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub allow_http: bool,
    /// (access key id, secret access key); `None`: from the environment.
    pub credentials: Option<(String, String)>,
    /// Extra headers on every request, unsigned. Not for production: S3 accepts the
    /// `x-amz-checksum-sha256` header for Object Lock buckets, but moto (the test stand-in)
    /// insists on `x-amz-sdk-checksum-algorithm` as well.
    pub extra_headers: Vec<(String, String)>,
    /// `AWS_*` environment variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`, `AWS_REGION`, …), as object_store's `from_env` would read them.
    pub aws_env: Vec<(String, String)>,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.aws_env.iter().map(|(k, _)| k.as_str()).collect();
        let headers: Vec<&str> = self.extra_headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("S3Options")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("allow_http", &self.allow_http)
            .field("credentials", &self.credentials.as_ref().map(|_| "***"))
            .field("extra_headers", &headers)
            .field("aws_env", &names)
            .finish()
    }
}

pub struct S3Store {
    client: AmazonS3,
    runtime: tokio::runtime::Runtime,
    bucket: String,
    prefix: String,
    tip: Mutex<Option<Tip>>,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish()
    }
}

fn s3_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Store(format!("evidence store: {what}: {e}"))
}

impl S3Store {
    pub fn open(options: &S3Options) -> Result<S3Store> {
        if options.bucket.is_empty() {
            return Err(Error::Usage("evidence.store.bucket is empty".into()));
        }
        let mut builder = AmazonS3Builder::new();
        for (name, value) in &options.aws_env {
            // The names object_store's `from_env` understands, given as plain data.
            if let Ok(key) = name
                .to_ascii_lowercase()
                .parse::<object_store::aws::AmazonS3ConfigKey>()
            {
                builder = builder.with_config(key, value);
            }
        }
        let mut builder = builder
            .with_bucket_name(&options.bucket)
            .with_checksum_algorithm(object_store::aws::Checksum::SHA256);
        if let Some(r) = &options.region {
            builder = builder.with_region(r);
        }
        if let Some(e) = &options.endpoint {
            builder = builder.with_endpoint(e);
        }
        if let Some((id, secret)) = &options.credentials {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        if !options.extra_headers.is_empty() {
            let mut headers = http::header::HeaderMap::new();
            for (k, v) in &options.extra_headers {
                let name = http::header::HeaderName::from_bytes(k.as_bytes())
                    .map_err(|e| Error::Usage(format!("header {k:?}: {e}")))?;
                let value = http::header::HeaderValue::from_str(v)
                    .map_err(|e| Error::Usage(format!("header {k:?}: {e}")))?;
                headers.insert(name, value);
            }
            builder = builder.with_client_options(
                object_store::ClientOptions::new().with_default_headers(headers),
            );
        }
        // Last: `with_client_options` resets it, so it must come after.
        builder = builder.with_allow_http(options.allow_http);
        // A few retries, not the default 10 over 3 minutes: an unreachable store fails the run
        // (exit 2) within seconds instead of hanging the job.
        builder = builder.with_retry(object_store::RetryConfig {
            max_retries: 3,
            retry_timeout: std::time::Duration::from_secs(20),
            backoff: object_store::BackoffConfig::default(),
        });
        let client = builder
            .build()
            .map_err(|e| Error::Usage(format!("evidence.store (s3): {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| s3_err("cannot start the async runtime", e))?;
        let prefix = options.prefix.trim_matches('/').to_string();
        Ok(S3Store {
            client,
            runtime,
            bucket: options.bucket.clone(),
            prefix,
            tip: Mutex::new(None),
        })
    }

    fn path(&self, key: &str) -> Result<ObjPath> {
        let full = if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        };
        ObjPath::parse(full.trim_end_matches('/'))
            .map_err(|e| Error::Store(format!("evidence store: invalid key {key:?}: {e}")))
    }
}

impl EvidenceStore for S3Store {
    fn location(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}/{key}", self.bucket)
        } else {
            format!("s3://{}/{}/{key}", self.bucket, self.prefix)
        }
    }

    fn put_create(&self, key: &str, bytes: &[u8]) -> Result<Created> {
        let path = self.path(key)?;
        let opts = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        let payload = PutPayload::from(bytes.to_vec());
        match self
            .runtime
            .block_on(self.client.put_opts(&path, payload, opts))
        {
            Ok(_) => Ok(Created::Created),
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => Ok(Created::AlreadyExists),
            Err(e) => Err(s3_err(&format!("writing {}", self.location(key)), e)),
        }
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(key)?;
        let result = self.runtime.block_on(async {
            match self.client.get(&path).await {
                Ok(r) => r.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        });
        result
            .map(|b| b.map(|b| b.to_vec()))
            .map_err(|e| s3_err(&format!("reading {}", self.location(key)), e))
    }

    /// Hashes the object as its body streams in: `verify` never holds a whole input.
    fn hash(&self, key: &str) -> Result<Option<(String, u64)>> {
        use sha2::Digest;
        let path = self.path(key)?;
        let result = self.runtime.block_on(async {
            let mut body = match self.client.get(&path).await {
                Ok(r) => r.into_stream(),
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            let mut hasher = sha2::Sha256::new();
            let mut size = 0u64;
            while let Some(chunk) = body.try_next().await? {
                hasher.update(&chunk);
                size += chunk.len() as u64;
            }
            Ok(Some((format!("{:x}", hasher.finalize()), size)))
        });
        result.map_err(|e| s3_err(&format!("reading {}", self.location(key)), e))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let path = self.path(prefix)?;
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let metas: Vec<object_store::ObjectMeta> = self
            .runtime
            .block_on(self.client.list(Some(&path)).try_collect())
            .map_err(|e| s3_err(&format!("listing {}", self.location(prefix)), e))?;
        let mut keys: Vec<String> = metas
            .into_iter()
            .filter_map(|m| {
                m.location
                    .as_ref()
                    .strip_prefix(strip.as_str())
                    .map(str::to_string)
            })
            .collect();
        keys.sort();
        Ok(keys)
    }

    fn tip_hint(&self) -> Option<Tip> {
        self.tip.lock().ok().and_then(|t| t.clone())
    }

    fn set_tip_hint(&self, tip: Tip) {
        if let Ok(mut t) = self.tip.lock() {
            *t = Some(tip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::S3Options;

    #[test]
    fn debug_shows_no_credential() {
        let o = S3Options {
            bucket: "b".into(),
            credentials: Some(("AKIAEXAMPLEKEY1".into(), "s3cr3t-access".into())),
            aws_env: vec![("AWS_SESSION_TOKEN".into(), "sess-t0ken".into())],
            ..Default::default()
        };
        let shown = format!("{o:?}");
        for secret in ["AKIAEXAMPLEKEY1", "s3cr3t-access", "sess-t0ken"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("AWS_SESSION_TOKEN") && shown.contains("***"),
            "{shown}"
        );
    }
}
