//! `evidence:`: where evidence bundles and the ledger are stored (a directory, a git branch or
//! S3) and how a base entry is found.

use std::path::PathBuf;

use serde::Deserialize;

/// The `evidence:` section of the config file.
///
/// ```yaml
/// evidence:
///   store: { type: dir, path: .controlgate/evidence }
///   base_max_distance: 50
///   fallback_dir: .controlgate/evidence-fallback
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceConfig {
    pub store: StoreConfig,
    /// How many first-parent ancestors of the merge-base to search for a base entry.
    pub base_max_distance: usize,
    /// Where a bundle is kept when the store fails.
    pub fallback_dir: PathBuf,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        EvidenceConfig {
            store: StoreConfig::default(),
            base_max_distance: 50,
            fallback_dir: PathBuf::from(".controlgate/evidence-fallback"),
        }
    }
}

/// `evidence.store` in the config file.
///
/// ```yaml
/// evidence:
///   store: { type: dir, path: .controlgate/evidence }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum StoreConfig {
    /// A local directory (the default).
    Dir {
        #[serde(default = "default_dir")]
        path: PathBuf,
    },
    /// An orphan branch of a git repository, committed and pushed.
    Git {
        /// Remote name or URL to fetch from and push to.
        #[serde(default = "default_remote")]
        remote: String,
        #[serde(default = "default_branch")]
        branch: String,
        /// Local working directory for the branch (default: a directory under the system temp).
        #[serde(default)]
        workdir: Option<PathBuf>,
        /// Environment variable holding the token for HTTPS pushes (never printed).
        #[serde(default = "default_token_env")]
        token_env: String,
    },
    /// An S3 bucket (Object Lock recommended, COMPLIANCE mode, default retention).
    S3 {
        bucket: String,
        /// Key prefix; default: the repository (`owner/name`), so one bucket holds many.
        #[serde(default)]
        prefix: Option<String>,
        #[serde(default)]
        region: Option<String>,
        /// Custom endpoint (S3-compatible stores, tests).
        #[serde(default)]
        endpoint: Option<String>,
        #[serde(default)]
        allow_http: bool,
    },
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig::Dir {
            path: default_dir(),
        }
    }
}

fn default_dir() -> PathBuf {
    PathBuf::from(".controlgate/evidence")
}
fn default_remote() -> String {
    "origin".to_string()
}
pub fn default_branch() -> String {
    "controlgate-evidence".to_string()
}
fn default_token_env() -> String {
    "GITHUB_TOKEN".to_string()
}
