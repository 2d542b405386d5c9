//! The `git` store: an orphan branch (default `controlgate-evidence`) holding the same layout as
//! the `dir` store, one commit per run, pushed without force. All git calls of the retain stage
//! live here; they run the `git` CLI.
//!
//! Concurrency: on a rejected push (another run pushed first) the writer fetches the new tip,
//! re-chains its entry on top (new seq and prev; the bundle is unchanged) and pushes again,
//! at most [`MAX_PUSH_TRIES`] times.
//!
//! Auth: a token (for HTTPS remotes) is passed as an `http.extraheader` through git's
//! `GIT_CONFIG_*` environment, never on the command line, and is redacted from every message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::Duration;

use super::bundle::{Bundle, bundle_key};
use super::ledger::{Entry, EntryDraft, entry_key};
use super::prng::SplitMix64;
use super::store::{Created, DirStore, EvidenceStore, read_tip};
use crate::error::{Error, Result};

pub const MAX_PUSH_TRIES: usize = 60;

/// A local remote (a path) owned by another user — the runner's uid, seen from a Docker
/// action's root — is refused by upload-pack/receive-pack as "dubious ownership", and git
/// clears `GIT_CONFIG_*` for them, so the exception is given on their command line.
const LOCAL_UPLOAD_PACK: &str = "--upload-pack=git -c safe.directory=* upload-pack";
const LOCAL_RECEIVE_PACK: &str = "--receive-pack=git -c safe.directory=* receive-pack";
const TRACKING: &str = "refs/controlgate/evidence-tip";

pub struct GitStore {
    remote: String,
    /// The remote is a path on this machine (git runs its upload-pack and receive-pack here).
    local: bool,
    branch: String,
    workdir: PathBuf,
    token: Option<String>,
    lock: Mutex<()>,
    _tmp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for GitStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitStore")
            .field("remote", &redact_url(&self.remote))
            .field("branch", &self.branch)
            .field("workdir", &self.workdir)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl GitStore {
    /// `remote`: a URL or path, or a remote name of the repository at `repo_dir` (resolved to
    /// its URL). `workdir`: where the branch is checked out (default: a temp dir).
    pub fn open(
        remote: &str,
        branch: &str,
        workdir: Option<PathBuf>,
        token: Option<String>,
        repo_dir: &Path,
    ) -> Result<GitStore> {
        if branch.is_empty()
            || branch.starts_with('-')
            || branch.contains("..")
            || branch.contains(' ')
        {
            return Err(Error::Usage(format!(
                "evidence.store.branch {branch:?} is not a valid branch name"
            )));
        }
        let is_url = remote.contains("://")
            || remote
                .split_once(':')
                .is_some_and(|(host, _)| host.contains('@') || host.contains('.'));
        let is_name = !remote.is_empty()
            && remote
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !repo_dir.join(remote).exists();
        let remote = if is_url {
            remote.to_string()
        } else if is_name {
            let out = git_in(repo_dir, &["remote", "get-url", remote], None)?;
            if !out.status.success() {
                return Err(Error::Git(format!(
                    "evidence store: remote {remote:?} not found in {}: {}",
                    repo_dir.display(),
                    redact_url(String::from_utf8_lossy(&out.stderr).trim())
                )));
            }
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        } else {
            // A path to a repository, relative to the repository root.
            repo_dir.join(remote).to_string_lossy().into_owned()
        };
        let (workdir, tmp) = match workdir {
            Some(w) => (w, None),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("controlgate-evidence-")
                    .tempdir()
                    .map_err(|e| Error::io(std::env::temp_dir(), e))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let store = GitStore {
            local: !is_url,
            remote,
            branch: branch.to_string(),
            workdir,
            token,
            lock: Mutex::new(()),
            _tmp: tmp,
        };
        store.init()?;
        Ok(store)
    }

    /// The checked-out branch (the files verify and audit read).
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    fn init(&self) -> Result<()> {
        std::fs::create_dir_all(&self.workdir).map_err(|e| Error::io(&self.workdir, e))?;
        if !self.workdir.join(".git").exists() {
            self.git_ok(&["init", "-q"])?;
        }
        self.git_ok(&["config", "user.name", "controlgate"])?;
        self.git_ok(&[
            "config",
            "user.email",
            "controlgate@users.noreply.github.com",
        ])?;
        self.git_ok(&["config", "commit.gpgsign", "false"])?;
        self.git_ok(&["config", "core.autocrlf", "false"])?;
        Ok(())
    }

    fn run(&self, args: &[&str]) -> Result<Output> {
        git_in(&self.workdir, args, self.token.as_deref())
    }

    fn git_ok(&self, args: &[&str]) -> Result<String> {
        let out = self.run(args)?;
        if !out.status.success() {
            return Err(Error::Git(format!(
                "evidence store: git {} failed: {}",
                args.first().copied().unwrap_or(""),
                self.redact(String::from_utf8_lossy(&out.stderr).trim())
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn redact(&self, s: &str) -> String {
        let mut s = redact_url(s);
        if let Some(t) = &self.token {
            s = s.replace(t.as_str(), "***").replace(&basic_auth(t), "***");
        }
        s
    }

    /// Fetches the branch; the remote tip commit, `None` if the branch does not exist yet.
    fn fetch(&self) -> Result<Option<String>> {
        let refspec = format!("+refs/heads/{}:{TRACKING}", self.branch);
        let mut args = vec![
            "fetch",
            "-q",
            "--depth=1",
            "--no-tags",
            "--no-write-fetch-head",
        ];
        if self.local {
            args.push(LOCAL_UPLOAD_PACK);
        }
        args.extend([self.remote.as_str(), refspec.as_str()]);
        let out = self.run(&args)?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            if err.contains("couldn't find remote ref") {
                let _ = self.run(&["update-ref", "-d", TRACKING]);
                return Ok(None);
            }
            return Err(Error::Git(format!(
                "evidence store: fetch failed: {}",
                self.redact(err.trim())
            )));
        }
        Ok(Some(self.git_ok(&["rev-parse", TRACKING])?))
    }

    /// Makes the work tree exactly `tip` (or an empty orphan branch).
    fn reset_to(&self, tip: Option<&str>) -> Result<()> {
        let head = format!("refs/heads/{}", self.branch);
        self.git_ok(&["symbolic-ref", "HEAD", &head])?;
        match tip {
            Some(t) => {
                self.git_ok(&["update-ref", &head, t])?;
                self.git_ok(&["reset", "-q", "--hard", t])?;
            }
            None => {
                let _ = self.run(&["update-ref", "-d", &head]);
                self.git_ok(&["read-tree", "--empty"])?;
            }
        }
        self.git_ok(&["clean", "-qfdx"])?;
        Ok(())
    }

    fn files(&self) -> DirStore {
        DirStore::new(&self.workdir).without_fsync()
    }
}

fn git_in(dir: &Path, args: &[&str], token: Option<&str>) -> Result<Output> {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        // In a Docker action the workspace and a local remote belong to the runner's uid, not
        // the container's root: git's "dubious ownership" check would refuse them.
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "safe.directory")
        .env("GIT_CONFIG_VALUE_0", "*");
    if let Some(t) = token {
        cmd.env("GIT_CONFIG_COUNT", "2")
            .env("GIT_CONFIG_KEY_1", "http.extraheader")
            .env(
                "GIT_CONFIG_VALUE_1",
                format!("AUTHORIZATION: basic {}", basic_auth(t)),
            );
    }
    cmd.output()
        .map_err(|e| Error::Git(format!("cannot run git: {e}")))
}

fn basic_auth(token: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"))
}

/// Removes `user:password@` from URLs in `s`.
fn redact_url(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = rest
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            out.push_str("***@");
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

impl EvidenceStore for GitStore {
    fn location(&self, key: &str) -> String {
        format!("{}#{}:{key}", redact_url(&self.remote), self.branch)
    }

    fn put_create(&self, key: &str, _bytes: &[u8]) -> Result<Created> {
        Err(Error::Store(format!(
            "evidence store: the git store writes whole runs only (not {})",
            self.location(key)
        )))
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.files().get(key)
    }

    fn hash(&self, key: &str) -> Result<Option<(String, u64)>> {
        self.files().hash(key)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        self.files().list(prefix)
    }

    fn refresh(&self) -> Result<()> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| Error::Store("evidence store: lock poisoned".into()))?;
        // No branch yet is an empty ledger (a PR run then has no base; `verify` says there is
        // nothing to verify), not an error.
        let tip = self.fetch()?;
        self.reset_to(tip.as_deref())
    }

    fn append(&self, bundle: &Bundle, draft: &EntryDraft) -> Result<Entry> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| Error::Store("evidence store: lock poisoned".into()))?;
        let files = self.files();
        let mut rng = SplitMix64::new(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
                ^ u64::from(std::process::id()).rotate_left(32)
                ^ (self as *const Self as u64),
        );
        let mut tip_commit = self.fetch()?;
        for attempt in 0..MAX_PUSH_TRIES {
            self.reset_to(tip_commit.as_deref())?;
            let tip = read_tip(&files)?;
            let entry = draft.chain(tip.as_ref());
            for (path, blob) in &bundle.files {
                super::store::put_blob(&files, &bundle_key(&bundle.digest, path), blob)?;
            }
            if files.put_create(&entry_key(entry.seq), &entry.to_bytes())? == Created::AlreadyExists
            {
                return Err(Error::Store(format!(
                    "evidence store: {} exists beyond the ledger tip; run `controlgate verify`",
                    self.location(&entry_key(entry.seq))
                )));
            }
            self.git_ok(&["add", "-A", "--", "bundles", "ledger"])?;
            let msg = format!(
                "controlgate evidence: entry {} (bundle {})",
                entry.seq,
                bundle.digest.get(..12).unwrap_or(&bundle.digest)
            );
            self.git_ok(&["commit", "-q", "--no-verify", "-m", &msg])?;
            let dest = format!("HEAD:refs/heads/{}", self.branch);
            let mut args = vec!["push", "-q", "--no-verify"];
            if self.local {
                args.push(LOCAL_RECEIVE_PACK);
            }
            args.extend([self.remote.as_str(), dest.as_str()]);
            let push = self.run(&args)?;
            if push.status.success() {
                let _ = self.git_ok(&["update-ref", TRACKING, "HEAD"]);
                return Ok(entry);
            }
            let err = self.redact(String::from_utf8_lossy(&push.stderr).trim());
            let new_tip = self.fetch()?;
            if new_tip == tip_commit {
                return Err(Error::Store(format!(
                    "evidence store: push to {} failed: {err}",
                    self.location("")
                )));
            }
            // Someone else pushed first: re-chain on the new tip after a short random pause.
            tip_commit = new_tip;
            let pause = 5 + rng.below(20 + 10 * attempt.min(10) as u64);
            std::thread::sleep(Duration::from_millis(pause));
        }
        Err(Error::Store(format!(
            "evidence store: gave up pushing to {} after {MAX_PUSH_TRIES} rejected pushes (concurrent writers)",
            self.location("")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_and_redaction() {
        assert_eq!(basic_auth("abc"), "eC1hY2Nlc3MtdG9rZW46YWJj");
        assert_eq!(basic_auth("ab"), "eC1hY2Nlc3MtdG9rZW46YWI=");
        assert_eq!(
            redact_url("fatal: https://u:secret@github.com/o/r failed"),
            "fatal: https://***@github.com/o/r failed"
        );
    }
}
