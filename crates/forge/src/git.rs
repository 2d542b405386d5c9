//! Everything controlgate asks of git (the only module that uses `git2` or runs `git`).
//!
//! Refs, merge-bases, trees and commit messages come from libgit2. The changed lines come from
//! the git command itself, as diff-cover gets them: `git diff -M<n>% -U0 <merge-base> <head>`
//! read as a unified diff (new-side line numbers of added lines; nothing from deleted or
//! binary files). libgit2's diff is not git's: its rename similarity scores differently (and
//! ignores leading whitespace), and git trims the common tail of both files before a zero-
//! context diff, which moves some blank or repeated lines between "changed" and not. Only git
//! gives git's answer, so the host's git config is overridden where it could change it
//! (algorithm, renames, prefixes, textconv, external diff drivers).

use std::path::{Path, PathBuf};
use std::sync::Once;

use git2::{Commit, ErrorCode, ObjectType, Repository, TreeWalkMode, TreeWalkResult};

use crate::error::Error;
use crate::model::coverage::ChangedFile;

/// What was compared, and what changed.
#[derive(Debug, Clone)]
pub struct GitChanges {
    pub base_ref: String,
    pub base_sha: String,
    pub merge_base_sha: String,
    pub head_sha: String,
    /// Changed files (deleted and binary files included, with no lines), in diff order.
    pub files: Vec<ChangedFile>,
    /// Every file path in HEAD's tree.
    pub head_files: Vec<String>,
    /// Every file path in the merge-base's tree (empty unless asked for).
    pub base_files: Vec<String>,
    /// The repository's working directory.
    pub workdir: Option<PathBuf>,
}

const SHALLOW_FIX: &str = "the clone is shallow, so the base commit or the merge-base is missing. \
Fetch the history: in GitHub Actions set `fetch-depth: 0` on actions/checkout, or run \
`git fetch --deepen=200 origin <base>` (repeat until the merge-base is found), or \
`git fetch --unshallow`";

static OWNER_CHECK_OFF: Once = Once::new();

/// Opens the repository at (or above) `root`, with libgit2's owner check off: in Docker
/// container actions the workspace belongs to another uid than the container's user.
pub fn open(root: &Path) -> Result<Repository, Error> {
    owner_check_off();
    Repository::discover(root).map_err(|e| {
        Error::Git(format!(
            "cannot open a git repository at {}: {}. Run controlgate inside the checkout, or give \
             what git would have: --diff FILE (a unified diff) for coverage, --api-base-spec \
             FILE (the base API description) for API drift",
            root.display(),
            e.message()
        ))
    })
}

fn owner_check_off() {
    OWNER_CHECK_OFF.call_once(|| {
        // SAFETY: sets a process-global libgit2 option; `Once` ensures it runs once, before
        // any repository is opened by this module. Nothing else in controlgate uses libgit2.
        let _ = unsafe { git2::opts::set_verify_owner_validation(false) };
        // Like the git CLI, trust the checkout's object store instead of re-hashing every blob
        // read: a third of the diff's time on a 5,000-file change.
        git2::opts::strict_hash_verification(false);
    });
}

/// The base ref to compare against when the user gave none: the PR base from the GitHub event
/// (`event_base`), else the branch `origin/HEAD` points at (as `origin/<branch>`), else `main`.
pub fn default_base_ref(repo_root: &Path, event_base: Option<&str>) -> String {
    if let Some(b) = event_base.map(str::trim).filter(|b| !b.is_empty()) {
        return b.to_string();
    }
    if let Ok(repo) = open(repo_root) {
        if let Ok(r) = repo.find_reference("refs/remotes/origin/HEAD") {
            if let Some(target) = r.symbolic_target() {
                if let Some(branch) = target.strip_prefix("refs/remotes/") {
                    return branch.to_string();
                }
            }
        }
    }
    "main".to_string()
}

fn resolve<'r>(repo: &'r Repository, name: &str) -> Option<Commit<'r>> {
    let mut candidates = vec![name.to_string()];
    if !name.starts_with("origin/") && !name.starts_with("refs/") {
        candidates.push(format!("refs/remotes/origin/{name}"));
    }
    candidates.iter().find_map(|c| {
        repo.revparse_single(c)
            .ok()
            .and_then(|o| o.peel_to_commit().ok())
    })
}

fn git_err(what: &str, e: git2::Error) -> Error {
    Error::Git(format!("{what}: {}", e.message()))
}

/// Resolves `base_ref` and finds merge-base(base, `head`): (base commit, merge-base commit),
/// with the shallow-clone hint when history is missing.
fn find_merge_base<'r>(
    repo: &'r Repository,
    base_ref: &str,
    head: &Commit<'r>,
) -> Result<(Commit<'r>, Commit<'r>), Error> {
    let shallow = repo.is_shallow();
    let Some(base) = resolve(repo, base_ref) else {
        return Err(Error::Git(if shallow {
            format!("base ref `{base_ref}` not found: {SHALLOW_FIX}")
        } else {
            format!(
                "unknown base ref `{base_ref}`: no branch, tag or commit of that name (also tried \
                 origin/{base_ref}). Fetch it (`git fetch origin {base_ref}`) or pass --base with \
                 an existing branch or SHA"
            )
        }));
    };
    let merge_base = match repo.merge_base(base.id(), head.id()) {
        Ok(m) => m,
        Err(e) if shallow => {
            return Err(Error::Git(format!(
                "no merge-base of `{base_ref}` ({}) and HEAD ({}) ({}): {SHALLOW_FIX}",
                short(base.id()),
                short(head.id()),
                e.message()
            )));
        }
        Err(e) if e.code() == ErrorCode::NotFound => {
            return Err(Error::Git(format!(
                "`{base_ref}` and HEAD share no history (no merge-base); pass --base with the \
                 branch this change will merge into"
            )));
        }
        Err(e) => return Err(git_err("merge-base", e)),
    };
    let mb_commit = repo.find_commit(merge_base).map_err(|e| {
        if shallow {
            Error::Git(format!(
                "merge-base {} is not in the clone: {SHALLOW_FIX}",
                short(merge_base)
            ))
        } else {
            git_err("merge-base commit", e)
        }
    })?;
    Ok((base, mb_commit))
}

/// The merge-base(`base_ref`, HEAD) tree, to read files as they were there (the base API
/// description and the files it `$ref`s, discovered while loading).
pub struct MergeBaseTree {
    repo: Repository,
    tree: git2::Oid,
    /// The merge-base commit.
    pub sha: String,
    /// The repository's working directory (`None` for a bare repository).
    pub workdir: Option<PathBuf>,
}

impl MergeBaseTree {
    /// Opens the repository at (or above) `repo_root` and finds merge-base(`base_ref`, HEAD);
    /// errors are worded as for [`changes`] (shallow clone → how to fetch the history).
    pub fn open(repo_root: &Path, base_ref: &str) -> Result<MergeBaseTree, Error> {
        let repo = open(repo_root)?;
        let (sha, tree) = {
            let head = repo
                .head()
                .and_then(|h| h.peel_to_commit())
                .map_err(|e| git_err("cannot read HEAD (empty repository?)", e))?;
            let (_, mb) = find_merge_base(&repo, base_ref, &head)?;
            let tree = mb.tree().map_err(|e| git_err("merge-base tree", e))?;
            (mb.id().to_string(), tree.id())
        };
        let workdir = repo.workdir().map(Path::to_path_buf);
        Ok(MergeBaseTree {
            repo,
            tree,
            sha,
            workdir,
        })
    }

    /// The bytes of the repository-relative file `path` at the merge-base; `None` when no file
    /// is there (added since).
    pub fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, Error> {
        let tree = self
            .repo
            .find_tree(self.tree)
            .map_err(|e| git_err("merge-base tree", e))?;
        let entry = match tree.get_path(path) {
            Ok(e) => e,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(git_err(&format!("{} at the merge-base", path.display()), e)),
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return Ok(None);
        }
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(|e| git_err(&format!("{} at the merge-base", path.display()), e))?;
        Ok(Some(blob.content().to_vec()))
    }
}

/// Resolves `base_ref`, finds merge-base(base, HEAD), and diffs merge-base → HEAD.
/// `want_base_files` also lists the merge-base's tree (to match a base coverage report).
pub fn changes(
    repo_root: &Path,
    base_ref: &str,
    want_base_files: bool,
    rename_threshold: u8,
) -> Result<GitChanges, Error> {
    changes_with(
        repo_root,
        base_ref,
        want_base_files,
        rename_threshold,
        |_| {},
    )
}

/// The trees' file lists as soon as they are walked, while `git diff` may still run.
pub struct TreeFiles<'a> {
    pub head_files: &'a [String],
    /// Empty unless asked for.
    pub base_files: &'a [String],
    pub workdir: Option<&'a Path>,
}

/// [`changes`], telling `walked` the trees' file lists as soon as they are walked (not when
/// the trees cannot be read: the error comes back instead).
pub fn changes_with(
    repo_root: &Path,
    base_ref: &str,
    want_base_files: bool,
    rename_threshold: u8,
    walked: impl FnOnce(TreeFiles<'_>),
) -> Result<GitChanges, Error> {
    let repo = open(repo_root)?;
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(|e| git_err("cannot read HEAD (empty repository?)", e))?;
    let (base, mb_commit) = find_merge_base(&repo, base_ref, &head)?;
    let merge_base = mb_commit.id();
    let old_tree = mb_commit
        .tree()
        .map_err(|e| git_err("merge-base tree", e))?;
    let new_tree = head.tree().map_err(|e| git_err("HEAD tree", e))?;
    // The trees are walked while git diffs; git's errors come first.
    let (files, (head_files, base_files)) = git_diff(
        repo.path(),
        &merge_base.to_string(),
        &head.id().to_string(),
        rename_threshold,
        || {
            let base_files = if want_base_files {
                tree_paths(&old_tree)
            } else {
                Ok(Vec::new())
            };
            let head_files = tree_paths(&new_tree);
            if let (Ok(head_files), Ok(base_files)) = (&head_files, &base_files) {
                walked(TreeFiles {
                    head_files,
                    base_files,
                    workdir: repo.workdir(),
                });
            }
            (head_files, base_files)
        },
    )?;
    let (head_files, base_files) = (head_files?, base_files?);
    Ok(GitChanges {
        base_ref: base_ref.to_string(),
        base_sha: base.id().to_string(),
        merge_base_sha: merge_base.to_string(),
        head_sha: head.id().to_string(),
        files,
        head_files,
        base_files,
        workdir: repo.workdir().map(Path::to_path_buf),
    })
}

/// Every file path in HEAD's tree when `repo_root` is the top of a checkout (for `--diff`
/// runs); no search upwards, so a sample project inside another repository is not mistaken
/// for that repository.
pub fn head_tree_files(repo_root: &Path) -> Result<(Vec<String>, Option<PathBuf>), Error> {
    owner_check_off();
    let repo = Repository::open_ext(
        repo_root,
        git2::RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&std::ffi::OsStr>(),
    )
    .map_err(|e| git_err("open", e))?;
    let same = match (
        repo.workdir().map(Path::canonicalize),
        repo_root.canonicalize(),
    ) {
        (Some(Ok(w)), Ok(r)) => w == r,
        _ => false,
    };
    if !same {
        return Err(Error::Git(format!(
            "{} is not the top of a git checkout",
            repo_root.display()
        )));
    }
    let tree = repo
        .head()
        .and_then(|h| h.peel_to_tree())
        .map_err(|e| git_err("cannot read HEAD (empty repository?)", e))?;
    Ok((tree_paths(&tree)?, repo.workdir().map(Path::to_path_buf)))
}

fn short(id: git2::Oid) -> String {
    id.to_string().chars().take(12).collect()
}

fn tree_paths(tree: &git2::Tree<'_>) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(ObjectType::Blob) {
            out.push(format!(
                "{dir}{}",
                String::from_utf8_lossy(entry.name_bytes())
            ));
        }
        TreeWalkResult::Ok
    })
    .map_err(|e| git_err("reading tree", e))?;
    Ok(out)
}

/// Default rename threshold, as git's `-M` (50 % similarity).
pub const DEFAULT_RENAME_THRESHOLD: u8 = 50;

/// The changed files of `old..new` from `git diff -M<threshold>% -U0`, parsed as diff-cover
/// parses it, and what `meanwhile` returns: it runs on this thread while git runs (its
/// output is read on another). `git_dir` is the repository's `.git` directory (works for
/// bare repositories and for any working directory).
pub fn git_diff<T>(
    git_dir: &Path,
    old: &str,
    new: &str,
    rename_threshold: u8,
    meanwhile: impl FnOnce() -> T,
) -> Result<(Vec<ChangedFile>, T), Error> {
    use std::process::{Command, Stdio};
    let mut cmd = Command::new("git");
    // git runs after the suites, on the repository they ran in: its `.git/config` is theirs
    // to write (a promisor remote whose upload-pack is any command, run when a blob is
    // missing). So git gets no credential from this process's environment, and may reach
    // no remote: a missing object fails the diff, which fails the run.
    cmd.env_clear();
    for (k, v) in std::env::vars_os() {
        if k.to_str()
            .is_some_and(controlgate_core::model::env::is_git_env)
        {
            cmd.env(k, v);
        }
    }
    cmd.arg("--git-dir")
        .arg(git_dir)
        .args([
            // The workspace of a Docker action belongs to another uid: git's "dubious
            // ownership" check would refuse it (only reading happens here).
            "-c",
            "safe.directory=*",
            "-c",
            "protocol.allow=never",
            // diff-cover's own overrides: `a/` and `b/` prefixes whatever the config says.
            "-c",
            "diff.mnemonicprefix=no",
            "-c",
            "diff.noprefix=no",
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--no-relative",
            "--diff-algorithm=myers",
            "--indent-heuristic",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            "-U0",
        ])
        .arg(format!("-M{rename_threshold}%"))
        .arg(old)
        .arg(new)
        .arg("--")
        // (git 2.44 on: no lazy fetch at all, whatever the config says.)
        .env("GIT_NO_LAZY_FETCH", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        Error::Git(if e.kind() == std::io::ErrorKind::NotFound {
            "the `git` command is not installed: changed lines are read from `git diff`, as \
             diff-cover reads them. Install git, or pass --diff FILE with a unified diff"
                .to_owned()
        } else {
            format!("cannot run `git diff`: {e}")
        })
    })?;
    // stderr is drained on its own thread so a chatty git never blocks on a full pipe.
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            use std::io::Read;
            let (mut kept, mut chunk) = (Vec::new(), [0u8; 8192]);
            while let Ok(n) = e.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                if kept.len() < 64 * 1024 {
                    kept.extend_from_slice(&chunk[..n]);
                }
            }
            kept
        })
    });
    let stdout = child.stdout.take().map(|out| {
        std::thread::spawn(move || {
            crate::ingest::diff::parse(std::io::BufReader::with_capacity(256 * 1024, out))
        })
    });
    let also = meanwhile();
    let parsed = match stdout.map(std::thread::JoinHandle::join) {
        Some(Ok(parsed)) => parsed,
        Some(Err(_)) => Err(crate::error::ParseError::new(
            "the thread reading it failed",
        )),
        None => Ok(Vec::new()),
    };
    let status = child
        .wait()
        .map_err(|e| Error::Git(format!("`git diff`: {e}")))?;
    let err_text = stderr
        .and_then(|h| h.join().ok())
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    // A parse error first: it closed the pipe, which is why git would have failed then.
    let mut files = parsed.map_err(|e| {
        Error::Git(format!(
            "cannot read the output of `git diff {old}..{new}`: line {}: {}",
            e.location.line.unwrap_or(0),
            e.message
        ))
    })?;
    if !status.success() {
        // The blobs of a partial (blobless) clone are not fetched on demand here (see above).
        let hint = if err_text.contains("lazy fetch") || err_text.contains("not allowed") {
            " (objects are missing and controlgate's git fetches none: check out with every \
             blob, e.g. actions/checkout without `filter`)"
        } else {
            ""
        };
        return Err(Error::Git(format!(
            "`git diff {old}..{new}` failed ({status}){hint}: {}",
            crate::console::log_text(&err_text, 1024)
        )));
    }
    for f in &mut files {
        f.added_lines.sort_unstable();
        f.added_lines.dedup();
    }
    Ok((files, also))
}

/// The SHA of HEAD; `None` outside a repository or before the first commit.
pub fn head_sha(repo_root: &Path) -> Option<String> {
    let repo = open(repo_root).ok()?;
    let head = repo.head().ok()?.peel_to_commit().ok()?;
    Some(head.id().to_string())
}

/// merge-base(`base_ref`, HEAD) followed by its first-parent ancestors, nearest first: at most
/// `max_distance + 1` SHAs. The candidates for the base entry of the evidence ledger.
pub fn merge_base_chain(
    repo_root: &Path,
    base_ref: &str,
    max_distance: usize,
) -> Result<Vec<String>, Error> {
    let repo = open(repo_root)?;
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(|e| git_err("cannot read HEAD (empty repository?)", e))?;
    let base = resolve(&repo, base_ref)
        .ok_or_else(|| Error::Git(format!("unknown base ref `{base_ref}`")))?;
    let merge_base = repo
        .merge_base(base.id(), head.id())
        .map_err(|e| git_err("no merge-base", e))?;
    let mut chain = Vec::with_capacity(max_distance + 1);
    let mut commit = repo
        .find_commit(merge_base)
        .map_err(|e| git_err("merge-base", e))?;
    loop {
        chain.push(commit.id().to_string());
        if chain.len() > max_distance {
            break;
        }
        match commit.parent(0) {
            Ok(parent) => commit = parent,
            // The root commit, or history cut by a shallow clone: fewer candidates.
            Err(_) => break,
        }
    }
    Ok(chain)
}

/// Switches libgit2's repository-owner check off for the whole process (once). The Action's
/// entry points call it first: a Docker action's workspace belongs to the runner's uid.
pub fn disable_owner_check() {
    owner_check_off();
}

/// The name to compare against for a PR base branch from the event: `origin/<base>` when the
/// checkout has that remote-tracking branch (what actions/checkout with `fetch-depth: 0`
/// creates; a local branch of the same name may be stale), else `base` as given.
pub fn prefer_remote_base(repo_root: &Path, base: &str) -> String {
    let base = base.trim();
    if base.starts_with("origin/") || base.starts_with("refs/") {
        return base.to_owned();
    }
    let remote = format!("refs/remotes/origin/{base}");
    match open(repo_root) {
        Ok(repo) if repo.find_reference(&remote).is_ok() => format!("origin/{base}"),
        _ => base.to_owned(),
    }
}

/// Full messages of the commits in `base...head` that are not in `base` (what `git log
/// base..head` lists), oldest first, at most `limit` (the newest are kept). `head` defaults to
/// HEAD; a SHA the clone lacks falls back to HEAD.
pub fn commit_messages(
    repo_root: &Path,
    base_ref: &str,
    head: Option<&str>,
    limit: usize,
) -> Result<Vec<String>, Error> {
    let repo = open(repo_root)?;
    let shallow = repo.is_shallow();
    let head = head
        .and_then(|h| resolve(&repo, h))
        .map(Ok)
        .unwrap_or_else(|| {
            repo.head()
                .and_then(|h| h.peel_to_commit())
                .map_err(|e| git_err("cannot read HEAD (empty repository?)", e))
        })?;
    let Some(base) = resolve(&repo, base_ref) else {
        return Err(Error::Git(if shallow {
            format!("base ref `{base_ref}` not found: {SHALLOW_FIX}")
        } else {
            format!("unknown base ref `{base_ref}`")
        }));
    };
    let mut walk = repo.revwalk().map_err(|e| git_err("revwalk", e))?;
    walk.push(head.id()).map_err(|e| git_err("revwalk", e))?;
    walk.hide(base.id()).map_err(|e| git_err("revwalk", e))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
        .map_err(|e| git_err("revwalk", e))?;
    let mut out = Vec::new();
    for oid in walk {
        let oid = oid.map_err(|e| {
            if shallow {
                Error::Git(format!("reading commits: {}: {SHALLOW_FIX}", e.message()))
            } else {
                git_err("reading commits", e)
            }
        })?;
        let c = repo.find_commit(oid).map_err(|e| git_err("commit", e))?;
        out.push(String::from_utf8_lossy(c.message_bytes()).into_owned());
        if out.len() >= limit {
            break;
        }
    }
    out.reverse();
    Ok(out)
}
