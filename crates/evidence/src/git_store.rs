//! The `git` store: an orphan branch (default `controlgate-evidence`) holding the same layout as
//! the `dir` store, one commit per run, pushed without force. All git calls of the retain stage
//! live here; they run the `git` CLI.
//!
//! Cost: a run touches O(1) objects whatever the length of the ledger. The store's repository is
//! a shallow partial clone (`--depth=1 --filter=tree:0`, the remote a promisor remote): a fetch
//! brings the tip commit, then its root, `bundles/` and `ledger/` trees are fetched by id
//! (one round trip each level); entries and bundle files are fetched as they are read. An append
//! writes its blobs and trees with `hash-object`, `write-tree` (a temporary index holding only the
//! new bundle) and `mktree` (the old trees' listings plus the new names), commits with
//! `commit-tree -p <tip>` and pushes: nothing is checked out. Only [`EvidenceStore::refresh`]
//! (`verify`, `audit`, which read every bundle) fetches the whole tip in one go and checks it
//! out.
//!
//! Concurrency: on a rejected push (another run pushed first) the writer fetches the new tip,
//! re-chains its entry on top (new seq and prev; the bundle is unchanged) and pushes again,
//! at most [`MAX_PUSH_TRIES`] times.
//!
//! Auth: a token (for HTTPS remotes) is passed as an `http.extraheader` through git's
//! `GIT_CONFIG_*` environment, never on the command line, and is redacted from every message.
//! The git processes that fetch missing objects on demand inherit that environment.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use super::bundle::{Blob, Bundle, bundle_key, changed};
use super::ledger::{Entry, EntryDraft, entry_key};
use super::prng::SplitMix64;
use super::store::{Created, DirStore, EvidenceStore, read_tip};
use crate::error::{Error, Result};
use crate::hashing::HashingReader;

pub const MAX_PUSH_TRIES: usize = 60;

/// A local remote (a path) owned by another user — the runner's uid, seen from a Docker
/// action's root — is refused by upload-pack/receive-pack as "dubious ownership", and git
/// clears `GIT_CONFIG_*` for them, so the exception is given on their command line (the
/// remote's `uploadpack`/`receivepack`, which the on-demand fetches use too). A local
/// upload-pack also needs filters and wants of any object (trees and blobs by id) allowed.
const LOCAL_UPLOAD_PACK: &str = "git -c safe.directory=* -c uploadpack.allowFilter=true -c uploadpack.allowAnySHA1InWant=true upload-pack";
const LOCAL_RECEIVE_PACK: &str = "git -c safe.directory=* receive-pack";
/// Confined (see [`Confinement`]): the remote's own config runs nothing — no hook, no
/// alternate-refs command; a suite could have planted the repository.
const CONFINED_RECEIVE_PACK: &str = "git -c safe.directory=* -c core.hooksPath=/dev/null \
                                     -c core.alternateRefsCommand=true receive-pack";
const TRACKING: &str = "refs/controlgate/evidence-tip";
/// The remote's name in the store's repository (a partial clone needs a named promisor remote).
const REMOTE: &str = "controlgate-evidence-store";
/// The temporary index an append builds its bundle's tree in.
const BUNDLE_INDEX: &str = "controlgate-bundle.index";

pub struct GitStore {
    remote: String,
    /// The remote is a path on this machine (git runs its upload-pack and receive-pack here).
    local: bool,
    branch: String,
    workdir: PathBuf,
    token: Option<String>,
    /// The token's header, scoped to the remote's origin (`http.https://github.com/.extraheader`):
    /// git sends it nowhere else, a redirect or a rewritten URL included.
    auth: Option<(String, String)>,
    /// Opened under a [`Confinement`]: git reads no global or system config, runs no hook and
    /// follows no redirect.
    confined: bool,
    lock: Mutex<()>,
    view: Mutex<View>,
    _tmp: Option<tempfile::TempDir>,
}

/// What reads see.
#[derive(Debug, Clone)]
enum View {
    /// The work tree: empty until [`EvidenceStore::refresh`] checks the tip out (`verify`,
    /// `audit`).
    WorkTree,
    /// The tip's top trees, fetched by [`EvidenceStore::refresh_tip`] or written by an append;
    /// files are read from git objects, fetched as they are read. `None`: no branch yet.
    Tip(Option<TipTrees>),
}

/// The tip commit and the trees every read and append starts from (present locally).
#[derive(Debug, Clone)]
struct TipTrees {
    commit: String,
    root: Vec<TreeEntry>,
    bundles: Option<String>,
    ledger: Option<String>,
}

impl TipTrees {
    fn new(commit: String, root: Vec<TreeEntry>) -> TipTrees {
        let tree = |name: &str| {
            root.iter()
                .find(|e| e.name == name && e.kind == "tree")
                .map(|e| e.oid.clone())
        };
        TipTrees {
            bundles: tree("bundles"),
            ledger: tree("ledger"),
            commit,
            root,
        }
    }
}

/// One line of `git ls-tree`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TreeEntry {
    mode: String,
    kind: String,
    oid: String,
    name: String,
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

/// What a store named by a config the pull request under review can change may not do (under
/// GitHub Actions the config is read from the checkout, and the suites ran its code as this
/// user): send the token anywhere but the GitHub server; run git with config the pull request
/// could have written (`~/.gitconfig` from a suite, a planted `workdir`, a local remote's hooks
/// and `core.alternateRefsCommand`), which could rewrite the URL, proxy the request or run code.
#[derive(Debug, Clone)]
pub struct Confinement {
    /// The GitHub server the workflow runs on (`GITHUB_SERVER_URL`): the token's only host.
    pub server: String,
    /// The checkout (`GITHUB_WORKSPACE`): no existing repository under it is the store's.
    pub workspace: PathBuf,
}

impl Confinement {
    /// `Err` says why `remote` may not have the token.
    fn token_may_go_to(&self, remote: &str) -> std::result::Result<(), String> {
        // Compared with the scheme's default port written out: `https://h` is `https://h:443`.
        let origin = |url: &str| {
            let (scheme, host, port) = origin_parts(url)?;
            let default = if scheme == "https" { 443 } else { 80 };
            Some((scheme, host, port.unwrap_or(default)))
        };
        match (origin(remote), origin(&self.server)) {
            (Some(r), Some(s)) if r == s => Ok(()),
            (_, None) => Err(format!(
                "the GitHub server URL {:?} cannot be read",
                self.server
            )),
            _ => Err(format!(
                "the store's token is sent only to the GitHub server the workflow runs on ({}), \
                 and the remote {} is elsewhere: under GitHub Actions the config comes from the \
                 pull request under review, which must not send the job's credentials to a host \
                 of its choosing",
                self.server,
                redact_url(remote)
            )),
        }
    }

    /// `Err` when `workdir` was there before this process made it: a suite (the pull request's
    /// code, as this user) could have planted a repository whose config runs commands or
    /// proxies the token, anywhere it can write, inside the workspace or not.
    fn check_workdir(&self, workdir: &Path) -> Result<()> {
        if !workdir.exists() {
            return Ok(());
        }
        let made = workdir
            .canonicalize()
            .is_ok_and(|w| MADE_HERE.lock().is_ok_and(|m| m.contains(&w)));
        if made {
            return Ok(());
        }
        Err(Error::Store(format!(
            "evidence.store.workdir {} exists already: under GitHub Actions the config comes \
             from the pull request under review, whose code could have planted a repository \
             there (its git config would run with the store's credentials); name a directory \
             that does not exist yet, or none (a temp dir)",
            workdir.display()
        )))
    }

    /// `Err` when the local remote `path` lies in the workspace (the pull request's files).
    fn check_local_remote(&self, path: &Path) -> Result<()> {
        let (Ok(p), Ok(ws)) = (path.canonicalize(), self.workspace.canonicalize()) else {
            return Ok(());
        };
        if p.starts_with(&ws) {
            return Err(Error::Store(format!(
                "evidence store: the remote {} is a directory of the workspace, which the pull \
                 request under review provides: its evidence would be the pull request's own",
                path.display()
            )));
        }
        Ok(())
    }
}

/// The store working directories this process made (canonical paths): a confined store opened
/// twice in a run (the base lookup, then the append) takes its own directory back.
static MADE_HERE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// `scheme://host[:port]/` of `url`, lower-cased: what an `http.<url>.*` key matches.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, host, port) = origin_parts(url)?;
    Some(match port {
        Some(p) => format!("{scheme}://{host}:{p}/"),
        None => format!("{scheme}://{host}/"),
    })
}

/// Scheme and host of `url`, lower-cased, and its port as written (no user info, no path).
pub(crate) fn origin_parts(url: &str) -> Option<(String, String, Option<u16>)> {
    let uri = url.parse::<http::Uri>().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let host = uri.host()?.to_ascii_lowercase();
    Some((scheme, host, uri.port_u16()))
}

impl GitStore {
    /// `remote`: a URL or path, or a remote name of the repository at `repo_dir` (resolved to
    /// its URL). `workdir`: the store's repository (default: a temp dir). For a config the
    /// user wrote; [`GitStore::open_confined`] for one the pull request under review can change.
    pub fn open(
        remote: &str,
        branch: &str,
        workdir: Option<PathBuf>,
        token: Option<String>,
        repo_dir: &Path,
    ) -> Result<GitStore> {
        Self::open_with(remote, branch, workdir, token, repo_dir, None)
    }

    /// As [`GitStore::open`], within `confine`'s limits.
    pub fn open_confined(
        remote: &str,
        branch: &str,
        workdir: Option<PathBuf>,
        token: Option<String>,
        repo_dir: &Path,
        confine: &Confinement,
    ) -> Result<GitStore> {
        Self::open_with(remote, branch, workdir, token, repo_dir, Some(confine))
    }

    fn open_with(
        remote: &str,
        branch: &str,
        workdir: Option<PathBuf>,
        token: Option<String>,
        repo_dir: &Path,
        confine: Option<&Confinement>,
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
        let looks_url = |r: &str| {
            r.contains("://")
                || r.split_once(':')
                    .is_some_and(|(host, _)| host.contains('@') || host.contains('.'))
        };
        let plain_name = !remote.is_empty()
            && remote
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        let resolved = if looks_url(remote) {
            remote.to_string()
        } else if plain_name {
            // A remote of that name first: a directory named `origin` in the checkout must not
            // stand in for the repository's `origin`.
            let out = git_in(
                repo_dir,
                &["remote", "get-url", remote],
                &GitAuth::none(confine),
            )?;
            if out.status.success() {
                String::from_utf8_lossy(&out.stdout).trim().to_string()
            } else if repo_dir.join(remote).exists() {
                repo_dir.join(remote).to_string_lossy().into_owned()
            } else {
                return Err(Error::Git(format!(
                    "evidence store: remote {remote:?} not found in {}: {}",
                    repo_dir.display(),
                    redact_url(String::from_utf8_lossy(&out.stderr).trim())
                )));
            }
        } else {
            // A path to a repository, relative to the repository root.
            repo_dir.join(remote).to_string_lossy().into_owned()
        };
        // A `file://` URL is a local remote as much as a path is (git runs its receive-pack
        // here); so is a remote name that resolves to a path.
        let local = resolved.starts_with("file://") || !looks_url(&resolved);
        // The token is an HTTP header: no other transport gets it (a local remote's
        // receive-pack, an ssh command, would see it in their environment).
        let http = resolved.starts_with("https://") || resolved.starts_with("http://");
        let token = token.filter(|_| http);
        if let Some(c) = confine {
            if token.is_some() {
                c.token_may_go_to(&resolved)
                    .map_err(|why| Error::Store(format!("evidence store: {why}")))?;
            }
            if local {
                let path = resolved.strip_prefix("file://").unwrap_or(&resolved);
                c.check_local_remote(Path::new(path))?;
            }
            if let Some(w) = &workdir {
                c.check_workdir(w)?;
            }
        }
        let auth = token.as_deref().map(|t| {
            let key = match origin_of(&resolved) {
                Some(origin) => format!("http.{origin}.extraheader"),
                None => "http.extraheader".to_owned(),
            };
            (key, format!("AUTHORIZATION: basic {}", basic_auth(t)))
        });
        let remote = resolved;
        let (workdir, tmp) = match workdir {
            Some(w) => {
                if confine.is_some() && !w.exists() {
                    std::fs::create_dir_all(&w).map_err(|e| Error::io(&w, e))?;
                    if let (Ok(c), Ok(mut made)) = (w.canonicalize(), MADE_HERE.lock()) {
                        made.push(c);
                    }
                }
                (w, None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("controlgate-evidence-")
                    .tempdir()
                    .map_err(|e| Error::io(std::env::temp_dir(), e))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let store = GitStore {
            local,
            remote,
            branch: branch.to_string(),
            workdir,
            token,
            auth,
            confined: confine.is_some(),
            lock: Mutex::new(()),
            view: Mutex::new(View::WorkTree),
            _tmp: tmp,
        };
        store.init()?;
        Ok(store)
    }

    /// The store's repository; after [`EvidenceStore::refresh`], its work tree is the branch
    /// checked out (the files verify and audit read).
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    fn init(&self) -> Result<()> {
        std::fs::create_dir_all(&self.workdir).map_err(|e| Error::io(&self.workdir, e))?;
        if !self.workdir.join(".git").exists() {
            self.git_ok(&["init", "-q"])?;
        }
        let remote = |key: &str| format!("remote.{REMOTE}.{key}");
        let mut settings: Vec<(String, &str)> = vec![
            ("user.name".into(), "controlgate"),
            ("user.email".into(), "controlgate@users.noreply.github.com"),
            ("commit.gpgsign".into(), "false"),
            ("core.autocrlf".into(), "false"),
            // No background gc or maintenance (a detached process outliving the run).
            ("gc.auto".into(), "0"),
            ("maintenance.auto".into(), "false"),
            // A partial clone: objects missing locally are fetched from the promisor remote.
            ("core.repositoryformatversion".into(), "1"),
            ("extensions.partialClone".into(), REMOTE),
            (remote("promisor"), "true"),
            (remote("url"), self.remote.as_str()),
        ];
        if self.local {
            settings.push((remote("uploadpack"), LOCAL_UPLOAD_PACK));
            let receive = if self.confined {
                CONFINED_RECEIVE_PACK
            } else {
                LOCAL_RECEIVE_PACK
            };
            settings.push((remote("receivepack"), receive));
        } else {
            for key in ["uploadpack", "receivepack"] {
                let _ = self.run(&["config", "--unset-all", &remote(key)]);
            }
        }
        for (key, value) in &settings {
            self.git_ok(&["config", key, value])?;
        }
        Ok(())
    }

    fn command(&self) -> Command {
        git_command(&self.workdir, &self.git_auth())
    }

    fn run(&self, args: &[&str]) -> Result<Output> {
        git_in(&self.workdir, args, &self.git_auth())
    }

    fn failed(&self, args: &[&str], out: &Output) -> Error {
        Error::Git(format!(
            "evidence store: git {} failed: {}",
            args.iter()
                .find(|a| !a.starts_with('-') && !a.contains('='))
                .copied()
                .unwrap_or(""),
            self.redact(String::from_utf8_lossy(&out.stderr).trim())
        ))
    }

    fn git_ok(&self, args: &[&str]) -> Result<String> {
        let out = self.run(args)?;
        if !out.status.success() {
            return Err(self.failed(args, &out));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Runs git with `input` on its stdin; its stdout, raw.
    fn git_input(&self, args: &[&str], input: &[u8], env: &[(&str, &Path)]) -> Result<Vec<u8>> {
        let mut cmd = self.command();
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = with_input(cmd, |w| w.write_all(input))?;
        if !out.status.success() {
            return Err(self.failed(args, &out));
        }
        Ok(out.stdout)
    }

    /// Runs git without input; its stdout, raw.
    fn git_raw(&self, args: &[&str]) -> Result<Vec<u8>> {
        let out = self.run(args)?;
        if !out.status.success() {
            return Err(self.failed(args, &out));
        }
        Ok(out.stdout)
    }

    fn git_auth(&self) -> GitAuth<'_> {
        GitAuth {
            header: self.auth.as_ref().map(|(k, v)| (k.as_str(), v.as_str())),
            confined: self.confined,
        }
    }

    fn redact(&self, s: &str) -> String {
        let mut s = redact_url(s);
        if let Some(t) = &self.token {
            s = s.replace(t.as_str(), "***").replace(&basic_auth(t), "***");
        }
        s
    }

    fn set_view(&self, view: View) {
        if let Ok(mut v) = self.view.lock() {
            *v = view;
        }
    }

    fn view(&self) -> View {
        self.view
            .lock()
            .map(|v| v.clone())
            .unwrap_or(View::WorkTree)
    }

    fn refspec(&self) -> String {
        format!("+refs/heads/{}:{TRACKING}", self.branch)
    }

    /// Fetches the branch's tip commit with `extra` options; the tip, `None` if the branch does
    /// not exist yet.
    fn fetch_branch(&self, extra: &[&str]) -> Result<Option<String>> {
        let refspec = self.refspec();
        let mut args = vec![
            "fetch",
            "-q",
            "--depth=1",
            "--no-tags",
            "--no-write-fetch-head",
            "--recurse-submodules=no",
        ];
        args.extend(extra);
        args.extend([REMOTE, refspec.as_str()]);
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

    /// Fetches the tip commit alone, then its root tree, then its `bundles/` and `ledger/`
    /// trees (each level in one round trip; nothing below them).
    fn fetch_tip(&self) -> Result<Option<TipTrees>> {
        let Some(commit) = self.fetch_branch(&["--filter=tree:0"])? else {
            return Ok(None);
        };
        self.tip_trees(commit).map(Some)
    }

    fn tip_trees(&self, commit: String) -> Result<TipTrees> {
        // The tree id from the commit itself: peeling `<commit>^{tree}` would load the tree,
        // and a missing tree is fetched on demand with all its subtrees.
        let text = self.git_ok(&["cat-file", "commit", &commit])?;
        let root = text
            .lines()
            .find_map(|l| l.strip_prefix("tree "))
            .ok_or_else(|| Error::Git(format!("evidence store: commit {commit} has no tree")))?
            .to_string();
        self.fetch_objects(std::slice::from_ref(&root), "tree:0", false)?;
        let tip = TipTrees::new(commit, self.ls_tree(&root)?);
        let below: Vec<String> = tip.bundles.iter().chain(&tip.ledger).cloned().collect();
        if !below.is_empty() {
            self.fetch_objects(&below, "tree:0", false)?;
        }
        Ok(tip)
    }

    /// Fetches objects by id in one round trip. `filter`: `tree:0` fetches exactly the trees
    /// named, `blob:none` trees with all their subtrees. `again`: also objects present (a tree
    /// present without its subtrees).
    fn fetch_objects(&self, oids: &[String], filter: &str, again: bool) -> Result<()> {
        if oids.is_empty() {
            return Ok(());
        }
        let filter = format!("--filter={filter}");
        let mut args = vec![
            // No "have" lines: the server would leave out whatever the tip commit reaches.
            "-c",
            "fetch.negotiationAlgorithm=noop",
            "fetch",
            "-q",
            "--no-tags",
            "--no-write-fetch-head",
            "--recurse-submodules=no",
            &filter,
            "--stdin",
        ];
        if again {
            args.push("--refetch");
        }
        args.push(REMOTE);
        let mut input = oids.join("\n");
        input.push('\n');
        let mut cmd = self.command();
        cmd.args(&args);
        let out = with_input(cmd, |w| w.write_all(input.as_bytes()))?;
        if !out.status.success() {
            return Err(Error::Git(format!(
                "evidence store: fetch failed: {}",
                self.redact(String::from_utf8_lossy(&out.stderr).trim())
            )));
        }
        Ok(())
    }

    fn ls_tree(&self, tree: &str) -> Result<Vec<TreeEntry>> {
        Ok(parse_tree(&self.git_raw(&["ls-tree", "-z", tree])?))
    }

    /// The entry at `path` of the tip (`None` if absent). Fetches the subtrees on the way that
    /// are missing (a bundle's), never a sibling's.
    fn tip_entry(&self, tip: &TipTrees, path: &str) -> Result<Option<TreeEntry>> {
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (Some(d), n),
            None => (None, path),
        };
        let tree = match dir {
            None => return Ok(tip.root.iter().find(|e| e.name == name).cloned()),
            Some("bundles") => tip.bundles.clone(),
            Some("ledger") => tip.ledger.clone(),
            Some(_) => {
                let out = self.git_raw(&[
                    "--literal-pathspecs",
                    "ls-tree",
                    "-z",
                    "--full-tree",
                    &tip.commit,
                    "--",
                    path,
                ])?;
                return Ok(parse_tree(&out).into_iter().next().map(|e| TreeEntry {
                    name: name.into(),
                    ..e
                }));
            }
        };
        let Some(tree) = tree else { return Ok(None) };
        let out = self.git_raw(&["--literal-pathspecs", "ls-tree", "-z", &tree, "--", name])?;
        Ok(parse_tree(&out).into_iter().find(|e| e.name == name))
    }

    /// Blobs by id, fetched in one round trip if missing, read by one `cat-file --batch`.
    fn read_blobs(&self, oids: &[String]) -> Result<HashMap<String, Vec<u8>>> {
        let mut unique: Vec<String> = oids.to_vec();
        unique.sort();
        unique.dedup();
        if unique.is_empty() {
            return Ok(HashMap::new());
        }
        if unique.len() > 1 {
            self.fetch_objects(&unique, "blob:none", false)?;
        }
        let mut input = unique.join("\n");
        input.push('\n');
        let out = self.git_input(&["cat-file", "--batch"], input.as_bytes(), &[])?;
        let mut blobs = HashMap::new();
        let mut rest = out.as_slice();
        for oid in &unique {
            let nl = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let header = String::from_utf8_lossy(&rest[..nl]).into_owned();
            let mut parts = header.split(' ');
            let (Some(got), Some(kind), Some(size)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(Error::Git(format!(
                    "evidence store: object {oid} could not be read ({header})"
                )));
            };
            let size: usize = size.parse().map_err(|_| {
                Error::Git(format!("evidence store: cat-file: bad header {header:?}"))
            })?;
            let body = rest.get(nl + 1..nl + 1 + size).ok_or_else(|| {
                Error::Git(format!("evidence store: cat-file: object {oid} cut short"))
            })?;
            if got != oid || kind != "blob" {
                return Err(Error::Git(format!(
                    "evidence store: object {oid} is a {kind}, not a blob"
                )));
            }
            blobs.insert(oid.clone(), body.to_vec());
            rest = rest.get(nl + 2 + size..).unwrap_or_default();
        }
        Ok(blobs)
    }

    fn tip_get(&self, tip: &TipTrees, key: &str) -> Result<Option<Vec<u8>>> {
        check_key(key)?;
        match self.tip_entry(tip, key)? {
            Some(e) if e.kind == "blob" => Ok(Some(self.git_raw(&["cat-file", "blob", &e.oid])?)),
            _ => Ok(None),
        }
    }

    fn tip_list(&self, tip: &TipTrees, prefix: &str) -> Result<Vec<String>> {
        let dir = prefix.trim_end_matches('/');
        let tree = if dir.is_empty() {
            tip.commit.clone()
        } else {
            match self.tip_entry(tip, dir)? {
                Some(e) if e.kind == "tree" => e.oid,
                _ => return Ok(Vec::new()),
            }
        };
        if dir != "ledger" {
            // Every subtree below in one round trip, not one fetch per subtree as `ls-tree -r`
            // would do on demand.
            self.fetch_objects(std::slice::from_ref(&tree), "blob:none", true)?;
        }
        let out = self.git_raw(&["ls-tree", "-r", "-z", "--name-only", &tree])?;
        let mut keys: Vec<String> = out
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .map(|n| {
                let n = String::from_utf8_lossy(n);
                if dir.is_empty() {
                    n.into_owned()
                } else {
                    format!("{dir}/{n}")
                }
            })
            .collect();
        keys.sort();
        Ok(keys)
    }

    fn tip_get_many(&self, tip: &TipTrees, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        let mut ledger: Option<HashMap<String, TreeEntry>> = None;
        let mut oids: Vec<Option<String>> = Vec::with_capacity(keys.len());
        for key in keys {
            check_key(key)?;
            let entry = match (key.strip_prefix("ledger/"), &tip.ledger) {
                (Some(name), Some(tree)) if !name.contains('/') => {
                    if ledger.is_none() {
                        ledger = Some(
                            self.ls_tree(tree)?
                                .into_iter()
                                .map(|e| (e.name.clone(), e))
                                .collect(),
                        );
                    }
                    ledger.as_ref().and_then(|l| l.get(name)).cloned()
                }
                _ => self.tip_entry(tip, key)?,
            };
            oids.push(entry.filter(|e| e.kind == "blob").map(|e| e.oid));
        }
        let wanted: Vec<String> = oids.iter().flatten().cloned().collect();
        let blobs = self.read_blobs(&wanted)?;
        Ok(oids
            .into_iter()
            .map(|o| o.and_then(|o| blobs.get(&o).cloned()))
            .collect())
    }

    /// Fetches the whole tip (every object, whatever was fetched before) and checks it out
    /// (or an empty orphan branch).
    fn checkout_tip(&self) -> Result<()> {
        let tip = self.fetch_branch(&["--refetch", "--no-filter"])?;
        let head = format!("refs/heads/{}", self.branch);
        self.git_ok(&["symbolic-ref", "HEAD", &head])?;
        match tip.as_deref() {
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

    /// Writes a blob into the store's repository; its id. A file is streamed through the hash
    /// and refused if it changed since the bundle was built.
    fn write_blob(&self, blob: &Blob) -> Result<String> {
        let args = ["hash-object", "-w", "--stdin"];
        let out = match blob {
            Blob::Bytes(bytes) => self.git_input(&args, bytes, &[])?,
            Blob::File { path, sha256, .. } => {
                let src = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
                let mut hashing = HashingReader::new(src);
                let mut cmd = self.command();
                cmd.args(args);
                let out = with_input(cmd, |w| std::io::copy(&mut hashing, w).map(|_| ()))?;
                let (copied, _) = hashing.finish().map_err(|e| Error::io(path, e))?;
                if copied != *sha256 {
                    return Err(changed(path));
                }
                if !out.status.success() {
                    return Err(self.failed(&args, &out));
                }
                out.stdout
            }
        };
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// The tree of `files` (path → blob id), built in a temporary index holding only them.
    fn write_files_tree(&self, files: &[(String, String)]) -> Result<String> {
        let index = self.workdir.join(".git").join(BUNDLE_INDEX);
        let _ = std::fs::remove_file(&index);
        let mut input = Vec::new();
        for (path, oid) in files {
            input.extend_from_slice(format!("100644 blob {oid}\t{path}\0").as_bytes());
        }
        let env = [("GIT_INDEX_FILE", index.as_path())];
        self.git_input(
            &["update-index", "-z", "--add", "--index-info"],
            &input,
            &env,
        )?;
        let tree = self.git_input(&["write-tree"], b"", &env);
        let _ = std::fs::remove_file(&index);
        Ok(String::from_utf8_lossy(&tree?).trim().to_string())
    }

    /// A tree of `entries`; `--missing`: the subtrees it names need not be present (checking
    /// them would fetch each).
    fn mktree(&self, entries: &[TreeEntry]) -> Result<String> {
        let mut input = Vec::new();
        for e in entries {
            input.extend_from_slice(
                format!("{} {} {}\t{}\0", e.mode, e.kind, e.oid, e.name).as_bytes(),
            );
        }
        let out = self.git_input(&["mktree", "-z", "--missing"], &input, &[])?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// The bundle's tree where the tip already holds a bundle of that name: the union of both,
    /// if every file they share has the same content (the same bundle stored before).
    fn merge_bundle(
        &self,
        existing: &str,
        digest: &str,
        files: &[(String, String)],
    ) -> Result<String> {
        let out = self.git_raw(&["ls-tree", "-r", "-z", existing])?;
        let mut union: Vec<(String, String)> = parse_tree(&out)
            .into_iter()
            .map(|e| (e.name, e.oid))
            .collect();
        for (path, oid) in files {
            match union.iter().find(|(p, _)| p == path) {
                Some((_, o)) if o == oid => {}
                Some(_) => {
                    return Err(Error::Store(format!(
                        "evidence store: {} exists with other content",
                        self.location(&bundle_key(digest, path))
                    )));
                }
                None => union.push((path.clone(), oid.clone())),
            }
        }
        self.write_files_tree(&union)
    }

    /// The commit that adds the bundle (tree `bundle_tree`, files `files`) and `entry` on top
    /// of `tip`, and the trees it leaves at the tip.
    fn commit_on(
        &self,
        tip: Option<&TipTrees>,
        digest: &str,
        bundle_tree: &str,
        files: &[(String, String)],
        entry: &Entry,
    ) -> Result<TipTrees> {
        let listing = |tree: Option<&String>| match tree {
            Some(t) => self.ls_tree(t),
            None => Ok(Vec::new()),
        };
        let mut bundles = listing(tip.and_then(|t| t.bundles.as_ref()))?;
        let mut ledger = listing(tip.and_then(|t| t.ledger.as_ref()))?;
        let mut root = tip.map(|t| t.root.clone()).unwrap_or_default();

        let key = entry_key(entry.seq);
        let name = key.trim_start_matches("ledger/");
        if ledger.iter().any(|e| e.name == name) {
            return Err(Error::Store(format!(
                "evidence store: {} exists beyond the ledger tip; run `controlgate verify`",
                self.location(&key)
            )));
        }
        let subtree = match bundles.iter().find(|e| e.name == digest) {
            Some(e) if e.oid != bundle_tree => self.merge_bundle(&e.oid, digest, files)?,
            _ => bundle_tree.to_string(),
        };
        upsert(&mut bundles, tree_entry(digest, &subtree));
        let entry_blob = self.write_blob(&Blob::Bytes(entry.to_bytes()))?;
        ledger.push(TreeEntry {
            mode: "100644".into(),
            kind: "blob".into(),
            oid: entry_blob,
            name: name.into(),
        });
        upsert(&mut root, tree_entry("bundles", &self.mktree(&bundles)?));
        upsert(&mut root, tree_entry("ledger", &self.mktree(&ledger)?));
        let root_tree = self.mktree(&root)?;
        let msg = format!(
            "controlgate evidence: entry {} (bundle {})",
            entry.seq,
            digest.get(..12).unwrap_or(digest)
        );
        let mut args = vec!["commit-tree", root_tree.as_str(), "-m", msg.as_str()];
        if let Some(t) = tip {
            args.extend(["-p", t.commit.as_str()]);
        }
        let commit = self.git_ok(&args)?;
        Ok(TipTrees::new(commit, root))
    }
}

fn tree_entry(name: &str, oid: &str) -> TreeEntry {
    TreeEntry {
        mode: "040000".into(),
        kind: "tree".into(),
        oid: oid.into(),
        name: name.into(),
    }
}

fn upsert(entries: &mut Vec<TreeEntry>, entry: TreeEntry) {
    match entries.iter_mut().find(|e| e.name == entry.name) {
        Some(e) => *e = entry,
        None => entries.push(entry),
    }
}

/// `git ls-tree -z` output: `<mode> <type> <oid>\t<name>\0`…
fn parse_tree(out: &[u8]) -> Vec<TreeEntry> {
    out.split(|&b| b == 0)
        .filter_map(|rec| {
            let tab = rec.iter().position(|&b| b == b'\t')?;
            let meta = String::from_utf8_lossy(&rec[..tab]);
            let mut parts = meta.split(' ');
            Some(TreeEntry {
                mode: parts.next()?.to_string(),
                kind: parts.next()?.to_string(),
                oid: parts.next()?.to_string(),
                name: String::from_utf8_lossy(&rec[tab + 1..]).into_owned(),
            })
        })
        .collect()
}

/// The keys the `dir` store accepts (no empty, `.` or `..` component, no backslash).
fn check_key(key: &str) -> Result<()> {
    if key
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
        || key.contains('\\')
    {
        return Err(Error::Store(format!("evidence store: invalid key {key:?}")));
    }
    Ok(())
}

/// How git is run for a store: the token's header (config key, value) and whether confined.
struct GitAuth<'a> {
    header: Option<(&'a str, &'a str)>,
    confined: bool,
}

impl GitAuth<'_> {
    fn none(confine: Option<&Confinement>) -> GitAuth<'static> {
        GitAuth {
            header: None,
            confined: confine.is_some(),
        }
    }
}

fn git_command(dir: &Path, auth: &GitAuth<'_>) -> Command {
    let mut cmd = Command::new("git");
    cmd.env_clear();
    for (k, v) in std::env::vars_os() {
        if k.to_str()
            .is_some_and(controlgate_core::model::env::is_git_env)
        {
            cmd.env(k, v);
        }
    }
    // In a Docker action the workspace and a local remote belong to the runner's uid, not the
    // container's root: git's "dubious ownership" check would refuse them.
    let mut config = vec![("safe.directory", "*")];
    // Bytes in, the same bytes out: the files checked out are hashed by `verify`, and no
    // attributes file (the user's `~/.config/git/attributes`, the system's, one in the branch)
    // or line-ending setting may convert them on the way (a false "edited").
    config.extend([
        ("core.attributesFile", "/dev/null"),
        ("core.autocrlf", "false"),
        ("core.eol", "lf"),
    ]);
    cmd.env("GIT_ATTR_NOSYSTEM", "1")
        // Attributes read from the empty tree (git 2.40 on), not from the branch's own files.
        .env(
            "GIT_ATTR_SOURCE",
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        );
    if auth.confined {
        // No config but the store repository's own (which this process wrote): a suite could
        // have written `~/.gitconfig` (`url.*.pushInsteadOf`, `core.hooksPath`, `http.proxy`).
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null");
        config.push(("core.hooksPath", "/dev/null"));
        config.push(("http.followRedirects", "false"));
    }
    if let Some(header) = auth.header {
        config.push(header);
    }
    cmd.current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .env("GIT_CONFIG_COUNT", config.len().to_string());
    for (i, (k, v)) in config.iter().enumerate() {
        cmd.env(format!("GIT_CONFIG_KEY_{i}"), k)
            .env(format!("GIT_CONFIG_VALUE_{i}"), v);
    }
    cmd
}

fn git_in(dir: &Path, args: &[&str], auth: &GitAuth<'_>) -> Result<Output> {
    git_command(dir, auth)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Git(format!("cannot run git: {e}")))
}

/// Runs `cmd`, `feed` writing its stdin (on this thread; stdout and stderr are drained on
/// others, so neither side blocks).
fn with_input(
    mut cmd: Command,
    feed: impl FnOnce(&mut std::process::ChildStdin) -> std::io::Result<()>,
) -> Result<Output> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Git(format!("cannot run git: {e}")))?;
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let fed = match child.stdin.take() {
        Some(mut stdin) => feed(&mut stdin),
        None => Ok(()),
    };
    let status = child
        .wait()
        .map_err(|e| Error::Git(format!("cannot run git: {e}")))?;
    let out = Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    // A write error with git failing is git's error (it stopped reading); with git succeeding,
    // it is ours.
    if let Err(e) = fed
        && out.status.success()
    {
        return Err(Error::Git(format!("cannot write to git: {e}")));
    }
    Ok(out)
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
        match self.view() {
            View::WorkTree => self.files().get(key),
            View::Tip(None) => check_key(key).map(|()| None),
            View::Tip(Some(tip)) => self.tip_get(&tip, key),
        }
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        match self.view() {
            View::Tip(Some(tip)) => self.tip_get_many(&tip, keys),
            _ => keys.iter().map(|k| self.get(k)).collect(),
        }
    }

    fn hash(&self, key: &str) -> Result<Option<(String, u64)>> {
        match self.view() {
            View::WorkTree => self.files().hash(key),
            _ => Ok(self
                .get(key)?
                .map(|b| (super::canonical::sha256_hex(&b), b.len() as u64))),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        match self.view() {
            View::WorkTree => self.files().list(prefix),
            View::Tip(None) => Ok(Vec::new()),
            View::Tip(Some(tip)) => self.tip_list(&tip, prefix),
        }
    }

    /// Fetches the whole tip and checks it out (`verify`, `audit`: they read every file).
    fn refresh(&self) -> Result<()> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| Error::Store("evidence store: lock poisoned".into()))?;
        // No branch yet is an empty ledger (a PR run then has no base; `verify` says there is
        // nothing to verify), not an error.
        self.checkout_tip()?;
        self.set_view(View::WorkTree);
        Ok(())
    }

    /// Fetches the tip commit and its top trees; entries and bundle files are fetched as they
    /// are read.
    fn refresh_tip(&self) -> Result<()> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| Error::Store("evidence store: lock poisoned".into()))?;
        let tip = self.fetch_tip()?;
        self.set_view(View::Tip(tip));
        Ok(())
    }

    fn append(&self, bundle: &Bundle, draft: &EntryDraft) -> Result<Entry> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| Error::Store("evidence store: lock poisoned".into()))?;
        let mut rng = SplitMix64::new(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
                ^ u64::from(std::process::id()).rotate_left(32)
                ^ (self as *const Self as u64),
        );
        // The bundle's blobs and tree do not depend on the tip: written once.
        let mut files = Vec::with_capacity(bundle.files.len());
        for (path, blob) in &bundle.files {
            check_key(&bundle_key(&bundle.digest, path))?;
            files.push((path.clone(), self.write_blob(blob)?));
        }
        let bundle_tree = self.write_files_tree(&files)?;
        let mut tip = self.fetch_tip()?;
        for attempt in 0..MAX_PUSH_TRIES {
            self.set_view(View::Tip(tip.clone()));
            let entry = draft.follow(read_tip(self)?.as_ref())?;
            let next =
                self.commit_on(tip.as_ref(), &bundle.digest, &bundle_tree, &files, &entry)?;
            let dest = format!("{}:refs/heads/{}", next.commit, self.branch);
            // Sparse reachability: the push walks only the trees on the changed paths (the
            // others are missing here, and walking them would fetch each).
            let args = [
                "-c",
                "pack.useSparse=true",
                "push",
                "-q",
                "--no-verify",
                REMOTE,
                dest.as_str(),
            ];
            let push = self.run(&args)?;
            if push.status.success() {
                let _ = self.git_ok(&["update-ref", TRACKING, &next.commit]);
                self.set_view(View::Tip(Some(next)));
                return Ok(entry);
            }
            let err = self.redact(String::from_utf8_lossy(&push.stderr).trim());
            let new_tip = self.fetch_tip()?;
            if new_tip.as_ref().map(|t| &t.commit) == tip.as_ref().map(|t| &t.commit) {
                return Err(Error::Store(format!(
                    "evidence store: push to {} failed: {err}",
                    self.location("")
                )));
            }
            // Someone else pushed first: re-chain on the new tip after a short random pause.
            tip = new_tip;
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
    fn the_token_goes_to_the_github_server_alone() {
        let c = Confinement {
            server: "https://github.com".into(),
            workspace: PathBuf::from("/nonexistent"),
        };
        for ok in [
            "https://github.com/acme/pay.git",
            "https://x-access-token:abc@github.com/acme/pay",
            "https://GitHub.com:443/acme/pay",
        ] {
            assert_eq!(c.token_may_go_to(ok), Ok(()), "{ok}");
        }
        for no in [
            "http://github.com/acme/pay",
            "https://github.com.evil.example/acme/pay",
            "https://evil.example/github.com/acme/pay",
            "https://github.com@evil.example/acme/pay",
            "https://github.com:8443/acme/pay",
            "https://127.0.0.1/x.git",
        ] {
            let why = c.token_may_go_to(no).unwrap_err();
            assert!(
                why.contains("sent only to the GitHub server"),
                "{no}: {why}"
            );
        }
    }

    #[test]
    fn basic_auth_and_redaction() {
        assert_eq!(basic_auth("abc"), "eC1hY2Nlc3MtdG9rZW46YWJj");
        assert_eq!(basic_auth("ab"), "eC1hY2Nlc3MtdG9rZW46YWI=");
        assert_eq!(
            redact_url("fatal: https://u:secret@github.com/o/r failed"),
            "fatal: https://***@github.com/o/r failed"
        );
    }

    #[test]
    fn tree_listings_parse() {
        let out = b"040000 tree 479f463b071e3995e0ad2a78ccb063146b2681f5\tbundles\x00100644 blob 188cf66826637209f7bd40069b90d0b81b64d376\ta b.json\0";
        let entries = parse_tree(out);
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0],
            tree_entry("bundles", "479f463b071e3995e0ad2a78ccb063146b2681f5")
        );
        assert_eq!(
            (entries[1].kind.as_str(), entries[1].name.as_str()),
            ("blob", "a b.json")
        );
    }
}
