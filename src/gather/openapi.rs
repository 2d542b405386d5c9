//! GATHER: the API descriptions (head, and base from `--api-base-spec` or git's merge-base) for
//! the pure loader in [`crate::ingest::openapi`], and the HAR files and exchange logs.

use std::path::{Path, PathBuf};

use crate::analyze::api;
use crate::config::Config;
use crate::error::{Error, Location};
use crate::gather::ledger::short_sha;
use crate::ingest::har;
use crate::ingest::openapi::{self, Source};
use crate::inputs;
use crate::model::api::ApiInput;
use crate::request::ReportRequest;
use controlgate_core::error::ParseError;

/// The largest description file read (a `$ref` to `/dev/zero` or a huge file is refused).
const MAX_DOC_BYTES: u64 = 64 << 20;

/// The file system. `root`: the descriptions the config names, and every file they `$ref`,
/// must lie inside it (the repository): the config comes from the pull request under review,
/// and what is read is kept in the evidence — `$ref: ../../.docker/config.json` would copy a
/// runner's file there. `None` for the files given on the command line (`--api-base-spec`).
pub struct Files {
    pub root: Option<PathBuf>,
}

impl Source for Files {
    fn read(&mut self, path: &Path) -> Result<(String, String, u64), controlgate_core::Error> {
        let refuse = |why: String| ParseError::at(None, None, why).in_file(path);
        let meta = std::fs::metadata(path).map_err(|e| controlgate_core::Error::io(path, e))?;
        if !meta.is_file() {
            return Err(refuse(
                "not a regular file (an API description must be one)".into(),
            ));
        }
        if meta.len() > MAX_DOC_BYTES {
            return Err(refuse(format!(
                "{} bytes: larger than an API description may be ({MAX_DOC_BYTES})",
                meta.len()
            )));
        }
        if let Some(root) = &self.root {
            let inside = match (path.canonicalize(), root.canonicalize()) {
                (Ok(p), Ok(r)) => p.starts_with(r),
                _ => false,
            };
            if !inside {
                return Err(refuse(format!(
                    "outside the repository ({}): the config comes from the pull request under \
                     review, and what it names is kept in the evidence",
                    root.display()
                )));
            }
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        std::io::Read::read_to_end(
            &mut std::io::Read::take(
                std::fs::File::open(path).map_err(|e| controlgate_core::Error::io(path, e))?,
                MAX_DOC_BYTES + 1,
            ),
            &mut bytes,
        )
        .map_err(|e| controlgate_core::Error::io(path, e))?;
        if bytes.len() as u64 > MAX_DOC_BYTES {
            return Err(refuse("grew past the size limit while it was read".into()));
        }
        let sha = controlgate_core::hashing::sha256_hex(&bytes);
        let n = bytes.len() as u64;
        let text = String::from_utf8(bytes).map_err(|e| {
            ParseError::at(
                None,
                Some(e.utf8_error().valid_up_to() as u64),
                "not UTF-8 text",
            )
            .in_file(path)
        })?;
        Ok((text, sha, n))
    }
}

/// Head description, base description, and their files.
pub struct ApiSpecs {
    pub spec: openapi::Spec,
    pub base: Option<openapi::Spec>,
    pub inputs: Vec<ApiInput>,
    /// Which base was used: the merge-base SHA, or the `--api-base-spec` files.
    pub base_label: Option<String>,
    /// Why drift was not computed, when it was not.
    pub notes: Vec<String>,
}

/// The head description (`api.specs`), the base one (`--api-base-spec`, else the same files at
/// merge-base(base ref, HEAD) when changes come from git) and their files as inputs; `None`
/// when the config describes no API.
pub fn load_api_specs(config: &Config, req: &ReportRequest) -> Result<Option<ApiSpecs>, Error> {
    if config.api.specs.is_empty() {
        if !req.har.is_empty() || !req.api_log.is_empty() || !req.api_base_spec.is_empty() {
            return Err(Error::Usage(
                "--har, --api-log and --api-base-spec need `api.specs` in the config".into(),
            ));
        }
        return Ok(None);
    }
    let abs = |p: &Path| {
        if p.is_absolute() {
            p.to_owned()
        } else {
            req.workdir.join(p)
        }
    };
    let heads: Vec<PathBuf> = config.api.specs.iter().map(|s| abs(Path::new(s))).collect();
    let repo_root = req.repo.clone().unwrap_or_else(|| req.workdir.clone());
    let spec = openapi::load(
        &heads,
        &mut Files {
            root: Some(repo_root),
        },
    )?;
    let mut inputs = Vec::new();
    let mut record = |spec: &openapi::Spec, kind: &'static str| {
        for d in &spec.docs {
            inputs.push(ApiInput {
                kind: kind.into(),
                path: inputs::display_path(&d.path, &req.workdir),
                sha256: d.sha256.clone(),
                bytes: d.bytes,
            });
        }
    };
    record(&spec, "spec");
    let mut notes = Vec::new();
    let (base, base_label) = if !req.api_base_spec.is_empty() {
        let paths: Vec<PathBuf> = req.api_base_spec.iter().map(|p| abs(p)).collect();
        let b = openapi::load(&paths, &mut Files { root: None })?;
        record(&b, "base_spec");
        let label = paths
            .iter()
            .map(|p| inputs::display_path(p, &req.workdir))
            .collect::<Vec<_>>()
            .join(", ");
        (Some(b), Some(label))
    } else if req.diff.is_some() {
        notes.push(
            "API drift not computed: changes come from --diff, not git; pass --api-base-spec FILE"
                .to_owned(),
        );
        (None, None)
    } else {
        match base_spec_from_git(req, &heads) {
            Ok((b, sha)) => {
                record(&b, "base_spec");
                (Some(b), Some(sha))
            }
            Err(why) => {
                notes.push(format!(
                    "API drift not computed: {why}; pass --api-base-spec FILE"
                ));
                (None, None)
            }
        }
    };
    Ok(Some(ApiSpecs {
        spec,
        base,
        inputs,
        base_label,
        notes,
    }))
}

/// The description `heads` (and the files they `$ref`) as they were at merge-base(base ref,
/// HEAD), and that SHA. Roots absent there are skipped: a description added by the change has
/// an empty base (every operation added).
fn base_spec_from_git(
    req: &ReportRequest,
    heads: &[PathBuf],
) -> Result<(openapi::Spec, String), String> {
    let (repo, base_ref) = req.git_base();
    let tree = crate::git::MergeBaseTree::open(&repo, &base_ref).map_err(|e| e.to_string())?;
    let top = tree
        .workdir
        .as_deref()
        .and_then(|w| w.canonicalize().ok())
        .ok_or("the repository has no working directory")?;
    let workdir = req
        .workdir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", req.workdir.display()))?;
    let prefix = workdir
        .strip_prefix(&top)
        .map_err(|_| format!("{} is outside the repository", req.workdir.display()))?
        .to_owned();
    let mut source = GitSource {
        tree: &tree,
        workdir: openapi::normalize(&req.workdir),
        prefix,
        top,
    };
    let mut roots = Vec::new();
    for h in heads {
        let h = openapi::normalize(h);
        let rel = source
            .repo_path(&h)
            .ok_or_else(|| format!("{} is outside the repository", h.display()))?;
        if tree.read(&rel).map_err(|e| e.to_string())?.is_some() {
            roots.push(h);
        }
    }
    let spec = if roots.is_empty() {
        openapi::Spec::default()
    } else {
        openapi::load(&roots, &mut source).map_err(|e| {
            format!(
                "the description at merge-base {}: {e}",
                short_sha(&tree.sha)
            )
        })?
    };
    Ok((spec, tree.sha.clone()))
}

/// Reads documents at the merge-base: paths as `openapi::load` sees them (under `workdir`)
/// mapped to repository-relative ones.
struct GitSource<'a> {
    tree: &'a crate::git::MergeBaseTree,
    /// `req.workdir`, normalised (the prefix of the paths asked for).
    workdir: PathBuf,
    /// `workdir` relative to the top of the checkout.
    prefix: PathBuf,
    /// The top of the checkout, canonical.
    top: PathBuf,
}

impl GitSource<'_> {
    fn repo_path(&self, path: &Path) -> Option<PathBuf> {
        let rel = match path.strip_prefix(&self.workdir) {
            Ok(rest) => openapi::normalize(&self.prefix.join(rest)),
            Err(_) => path.strip_prefix(&self.top).ok()?.to_owned(),
        };
        (!rel.starts_with("..") && !rel.as_os_str().is_empty()).then_some(rel)
    }
}

impl openapi::Source for GitSource<'_> {
    fn read(&mut self, path: &Path) -> Result<(String, String, u64), controlgate_core::Error> {
        use controlgate_core::Error as CoreError;
        let missing = |why: String| CoreError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, why),
        };
        let rel = self
            .repo_path(path)
            .ok_or_else(|| missing("outside the repository".into()))?;
        let bytes = self
            .tree
            .read(&rel)
            .map_err(|e| missing(e.to_string()))?
            .ok_or_else(|| missing("not in the merge-base commit".into()))?;
        let sha = controlgate_core::hashing::sha256_hex(&bytes);
        let n = bytes.len() as u64;
        let text = String::from_utf8(bytes).map_err(|_| CoreError::Input {
            path: path.to_owned(),
            location: Location::default(),
            message: "not UTF-8 text".into(),
        })?;
        Ok((text, sha, n))
    }
}

/// Streams every HAR file and exchange log into the analyzer.
/// Each file read is added to `read_paths` with its display path.
pub fn read_exchanges(
    a: &mut api::Analyzer<'_>,
    req: &ReportRequest,
    read_paths: &mut Vec<(String, PathBuf)>,
) -> Result<Vec<ApiInput>, Error> {
    let mut out = Vec::new();
    for (globs, what, is_har) in [(&req.har, "har", true), (&req.api_log, "api-log", false)] {
        if globs.is_empty() {
            continue;
        }
        for path in inputs::expand(globs, &req.workdir, what)? {
            let display = inputs::display_path(&path, &req.workdir);
            let (_, file) = inputs::read_hashed(&path, &display, |reader| {
                let mut on = |ex: har::Exchange| a.exchange(&ex, &display, is_har);
                if is_har {
                    har::read_har(reader, &mut on)
                } else {
                    har::read_log(reader, &mut on)
                }
                .map_err(|e| controlgate_forge::Error::from(e.in_file(&path)))
            })?;
            read_paths.push((file.path.clone(), path.clone()));
            out.push(ApiInput {
                kind: (if is_har { "har" } else { "log" }).into(),
                path: file.path,
                sha256: file.sha256,
                bytes: file.bytes,
            });
        }
    }
    Ok(out)
}
