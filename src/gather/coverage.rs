//! GATHER: everything the coverage stage needs from the outside world — the changed lines
//! (git, or a unified diff file), the repository's file lists, the roots report paths may start
//! with — as plain data for the pure [`crate::analyze::coverage`]. git starts first, on a
//! second thread; the reports are read and parsed while it computes the diff.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::analyze::coverage::ReportBytes;
pub use crate::analyze::coverage::ReportInput;
use crate::analyze::coverage::{self as cov, Changes, CoverageOptions, RepoFiles};
use crate::config::Config;
use crate::error::Error;
use crate::gather::ledger::{LEDGER_INPUT_PREFIX, LedgerState};
use crate::git;
use crate::ingest::diff;
use crate::inputs;
use crate::model::coverage::{ChangeKind, CoverageRefs, CoverageSection};
use crate::request::ReportRequest;

/// Where the changed lines come from.
#[derive(Debug, Clone)]
pub enum ChangeSource {
    /// merge-base(`base_ref`, HEAD) → HEAD in the repository at `repo_root`. Pick the default
    /// with [`crate::git::default_base_ref`].
    Git { base_ref: String },
    /// A unified diff (`--diff FILE`), for machines without history.
    Diff { path: PathBuf, text: Vec<u8> },
}

/// Everything the coverage stage needs, as plain data.
#[derive(Debug, Clone)]
pub struct CoverageRequest {
    pub repo_root: PathBuf,
    /// Head coverage reports (LCOV, Cobertura, JaCoCo or Clover; detected by content).
    pub reports: Vec<ReportInput>,
    /// Coverage reports of the base commit (`--base-coverage`); empty for none.
    pub base_reports: Vec<ReportInput>,
    pub changes: ChangeSource,
    /// `before::after` rewrites applied to report paths (like Codecov's `fixes`).
    pub path_fixes: Vec<String>,
    /// JaCoCo source roots; empty means `src/main/java`, `src/main/kotlin`.
    pub source_roots: Vec<String>,
    /// The value of `$GITHUB_WORKSPACE`, stripped from report paths.
    pub workspace: Option<String>,
    /// How many indirect changes to list.
    pub indirect_limit: usize,
    /// Rename similarity threshold in percent, as git's `-M<n>%` (default 50).
    pub rename_threshold: u8,
}

impl CoverageRequest {
    pub fn new(repo_root: impl Into<PathBuf>, changes: ChangeSource) -> Self {
        CoverageRequest {
            repo_root: repo_root.into(),
            reports: Vec::new(),
            base_reports: Vec::new(),
            changes,
            path_fixes: Vec::new(),
            source_roots: Vec::new(),
            workspace: None,
            indirect_limit: 10,
            rename_threshold: git::DEFAULT_RENAME_THRESHOLD,
        }
    }
}

/// Files under `root` (for `--diff` runs outside a git checkout), skipping `.git`.
fn walk_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            let p = e.path();
            if ft.is_dir() {
                if e.file_name() != ".git" {
                    stack.push(p);
                }
            } else if ft.is_file() {
                if let Ok(rel) = p.strip_prefix(root) {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
    }
    out
}

/// The changes and repository file lists, from git or from a unified diff, and the roots
/// report paths may start with. The repository's files are also sent to `early` as soon as
/// they are known (git walks the trees while it diffs).
pub fn changes(
    req: &CoverageRequest,
    want_base: bool,
    early: Option<&std::sync::mpsc::Sender<RepoFiles>>,
) -> Result<Changes, Error> {
    let send = |repo: &RepoFiles| {
        if let Some(tx) = early {
            // The receiver may have stopped waiting (its own error came first).
            let _ = tx.send(repo.clone());
        }
    };
    let (refs, files, repo) = match &req.changes {
        ChangeSource::Git { base_ref } => {
            let mut repo = None;
            let g = git::changes_with(
                &req.repo_root,
                base_ref,
                want_base,
                req.rename_threshold,
                |t| {
                    let found = repo_files(
                        req,
                        t.head_files.to_vec(),
                        t.base_files.to_vec(),
                        t.workdir.map(Path::to_path_buf),
                    );
                    send(&found);
                    repo = Some(found);
                },
            )?;
            let refs = CoverageRefs {
                source: "git".into(),
                base_ref: Some(g.base_ref),
                base_sha: Some(g.base_sha),
                merge_base_sha: Some(g.merge_base_sha),
                head_sha: Some(g.head_sha),
            };
            let repo =
                repo.unwrap_or_else(|| repo_files(req, g.head_files, g.base_files, g.workdir));
            (refs, g.files, repo)
        }
        ChangeSource::Diff { path, text } => {
            let files = diff::parse(text.as_slice()).map_err(|e| e.in_file(path))?;
            let (mut tree, workdir) = match git::head_tree_files(&req.repo_root) {
                Ok((t, w)) => (t, w),
                Err(_) => (walk_files(&req.repo_root), None),
            };
            let mut base_extra = Vec::new();
            for f in &files {
                if f.kind != ChangeKind::Deleted {
                    tree.push(f.path.clone());
                }
                base_extra.extend(f.old_path.clone());
                if f.kind == ChangeKind::Deleted {
                    base_extra.push(f.path.clone());
                }
            }
            let refs = CoverageRefs {
                source: "diff".into(),
                ..Default::default()
            };
            let repo = repo_files(req, tree, base_extra, workdir);
            send(&repo);
            (refs, files, repo)
        }
    };
    Ok(Changes { refs, files, repo })
}

/// The repository's file lists with the roots report paths may start with: the root as given,
/// canonical, from the current directory, and git's work tree.
fn repo_files(
    req: &CoverageRequest,
    head_files: Vec<String>,
    base_files: Vec<String>,
    workdir: Option<PathBuf>,
) -> RepoFiles {
    let mut roots = vec![req.repo_root.clone()];
    if let Ok(c) = req.repo_root.canonicalize() {
        roots.push(c);
    }
    if req.repo_root.is_relative()
        && let Ok(cwd) = std::env::current_dir()
    {
        roots.push(cwd.join(&req.repo_root));
    }
    roots.extend(workdir);
    RepoFiles {
        head_files,
        base_files,
        roots,
    }
}

/// The changes of a coverage request, being computed on their own thread: the repository's
/// files come first, on `repo`.
pub struct PendingChanges<'scope> {
    thread: std::thread::ScopedJoinHandle<'scope, Result<Changes, Error>>,
    repo: std::sync::mpsc::Receiver<RepoFiles>,
}

impl PendingChanges<'_> {
    fn join(self) -> Result<Changes, Error> {
        self.thread
            .join()
            .unwrap_or_else(|_| Err(Error::Usage("the git thread failed".into())))
    }
}

/// The changes of `req`, computed on their own thread of `scope` from now on (git runs while
/// the caller reads and parses). A panic there is an error of the run when joined, never a
/// panic of the scope.
pub fn start_changes<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    req: &'scope CoverageRequest,
    want_base: bool,
) -> PendingChanges<'scope> {
    let (tx, repo) = std::sync::mpsc::channel();
    let thread = scope.spawn(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            changes(req, want_base, Some(&tx))
        }))
        .unwrap_or_else(|_| Err(Error::Usage("the git thread failed".into())))
    });
    PendingChanges { thread, repo }
}

/// Parses the reports on this thread, maps them to the repository's files as soon as those are
/// known (git walks the trees while it diffs), then takes the diff from the changes' thread.
/// A git error comes before a report's.
fn finish(
    req: &CoverageRequest,
    reports: &[ReportInput],
    base_reports: &[ReportInput],
    changes: PendingChanges<'_>,
) -> Result<CoverageSection, Error> {
    let source_roots = cov::source_roots(&req.source_roots);
    let opts = CoverageOptions {
        path_fixes: req.path_fixes.clone(),
        workspace: req.workspace.clone(),
        indirect_limit: req.indirect_limit,
    };
    let parsed = cov::parse_reports(reports, &source_roots)
        .and_then(|head| Ok((head, cov::parse_reports(base_reports, &source_roots)?)));
    // No files when the changes' thread failed first: its error is taken below.
    let mapped = match (parsed, changes.repo.recv()) {
        (Ok((head, base)), Ok(repo)) => Ok(Some(cov::map_reports(
            reports,
            head,
            base_reports,
            base,
            repo,
            &opts,
        ))),
        (Ok(_), Err(_)) => Ok(None),
        (Err(e), _) => Err(e),
    };
    let changes = changes.join()?;
    let mapped = match mapped? {
        Some(mapped) => mapped?,
        // The thread ended well without telling its files (it always tells them): an error,
        // never a guess.
        None => {
            return Err(Error::Usage(
                "the git thread ended without the repository's files".into(),
            ));
        }
    };
    Ok(cov::with_changes(
        mapped,
        changes.refs,
        &changes.files,
        &opts,
    ))
}

/// Runs the coverage stage: gathers the changes (git runs on a second thread while this one
/// parses the reports), then the pure analysis.
pub fn analyze(req: &CoverageRequest) -> Result<CoverageSection, Error> {
    if req.reports.is_empty() {
        return Err(Error::Usage(
            "no coverage report given (--coverage <GLOB>)".into(),
        ));
    }
    let want_base = !req.base_reports.is_empty();
    std::thread::scope(|scope| {
        let changes = start_changes(scope, req, want_base);
        finish(req, &req.reports, &req.base_reports, changes)
    })
}

/// The coverage request of a run whose changes come from git, built before anything else is
/// read so that git starts first (the JUnit files, the ledger and the reports are read while
/// it runs), with whether base file lists are wanted: `None` without coverage or with `--diff`.
pub fn early_git(config: &Config, req: &ReportRequest) -> Option<(CoverageRequest, bool)> {
    if req.coverage.is_empty() || req.diff.is_some() {
        return None;
    }
    let (repo, base_ref) = req.git_base();
    // Base file lists are walked whenever a base may come: from `--base-coverage`, or from
    // the ledger, which a run with an evidence store opens (see `ledger::open_ledger`).
    let want_base = !req.base_coverage.is_empty() || req.evidence(config).is_some();
    Some((
        request(config, req, repo, ChangeSource::Git { base_ref }),
        want_base,
    ))
}

/// The coverage stage's request for `req`, with its changes from `changes`.
fn request(
    config: &Config,
    req: &ReportRequest,
    repo: PathBuf,
    changes: ChangeSource,
) -> CoverageRequest {
    let mut creq = CoverageRequest::new(repo, changes);
    creq.path_fixes = config.coverage.path_fixes.clone();
    creq.source_roots = config.coverage.source_roots.clone();
    creq.workspace = req.workspace.clone();
    if let Some(n) = config.coverage.indirect_changes {
        creq.indirect_limit = n;
    }
    creq.rename_threshold = config.coverage.renames.threshold;
    creq
}

/// Reads the coverage reports and computes patch and project coverage, when any were given.
/// `early` is the request of [`early_git`] with git already running for it; without it (a
/// `--diff` run) the changes are read here.
pub fn section(
    config: &Config,
    req: &ReportRequest,
    ledger: Option<&LedgerState>,
    early: Option<(&CoverageRequest, PendingChanges<'_>)>,
    read_paths: &mut Vec<(String, PathBuf)>,
) -> Result<Option<CoverageSection>, Error> {
    if let Some((creq, changes)) = early {
        return read_and_finish(req, creq, ledger, changes, read_paths).map(Some);
    }
    if req.coverage.is_empty() {
        if req.diff.is_some() || !req.base_coverage.is_empty() {
            return Err(Error::Usage(
                "--diff and --base-coverage need --coverage <GLOB>".into(),
            ));
        }
        return Ok(None);
    }
    let (repo, base_ref) = req.git_base();
    let changes = match &req.diff {
        Some(path) => {
            let full = req.workdir.join(path);
            // A file or a pipe (`--diff <(git diff …)`), never a device; bounded.
            let text = crate::inputs::read_limited(&full, 1 << 30, crate::inputs::Special::Pipes)
                .map_err(|e| Error::io(&full, e))?;
            ChangeSource::Diff {
                path: path.clone(),
                text,
            }
        }
        None => ChangeSource::Git { base_ref },
    };
    let creq = request(config, req, repo, changes);
    let want_base = !req.base_coverage.is_empty() || ledger.is_some();
    std::thread::scope(|scope| {
        let changes = start_changes(scope, &creq, want_base);
        read_and_finish(req, &creq, ledger, changes, read_paths).map(Some)
    })
}

/// Reads the reports (and the ledger's base) while the changes are computed, then finishes.
fn read_and_finish(
    req: &ReportRequest,
    creq: &CoverageRequest,
    ledger: Option<&LedgerState>,
    changes: PendingChanges<'_>,
    read_paths: &mut Vec<(String, PathBuf)>,
) -> Result<CoverageSection, Error> {
    // Every report as read (a large one is mapped from its file), to check afterwards that
    // none was written meanwhile.
    let held: std::cell::RefCell<Vec<(PathBuf, Arc<inputs::WholeFile>)>> = Default::default();
    let read = |globs: &[String], what: &str| -> Result<Vec<ReportInput>, Error> {
        inputs::expand(globs, &req.workdir, what)?
            .into_iter()
            .map(|path| {
                let whole = Arc::new(inputs::read_whole(&path).map_err(|e| Error::io(&path, e))?);
                let bytes = ReportBytes::shared(whole.clone());
                held.borrow_mut().push((path.clone(), whole));
                let path = PathBuf::from(inputs::display_path(&path, &req.workdir));
                Ok(ReportInput { path, bytes })
            })
            .collect()
    };
    let read_all = || {
        let reports = read(&req.coverage, "coverage")?;
        let mut base_reports = if req.base_coverage.is_empty() {
            Vec::new()
        } else {
            read(&req.base_coverage, "base-coverage")?
        };
        // Without a base report, the evidence ledger supplies the base commit's coverage.
        let mut ledger_note = None;
        let mut unavailable = None;
        if let (true, Some(ledger)) = (base_reports.is_empty(), ledger) {
            match ledger.coverage_base()? {
                Ok((found, note)) => {
                    base_reports = found;
                    ledger_note = Some(note);
                }
                Err(u) => {
                    ledger_note = Some(format!("no base: {}", u.reason));
                    unavailable = Some(u);
                }
            }
        }
        Ok::<_, Error>((reports, base_reports, ledger_note, unavailable))
    };
    let (reports, base_reports, ledger_note, unavailable) = match read_all() {
        Ok(read) => read,
        Err(e) => {
            // Joined here: git is done before the run ends.
            let _ = changes.join();
            return Err(e);
        }
    };
    // Every report read from a file is hashed beside the parse: the evidence bundle keeps the
    // report, and must keep the bytes the numbers came from (`deliver` checks its copy against
    // this digest). A base report from the ledger is in its entry's bundle already.
    let to_hash: Vec<(String, ReportBytes)> = reports
        .iter()
        .chain(&base_reports)
        .map(|r| (r.path.to_string_lossy().into_owned(), r.bytes.clone()))
        .filter(|(path, _)| !path.starts_with(LEDGER_INPUT_PREFIX))
        .collect();
    let (section, digests) = std::thread::scope(|scope| {
        let hasher = std::thread::Builder::new()
            .name("coverage-hasher".into())
            .spawn_scoped(scope, move || {
                to_hash
                    .into_iter()
                    .map(|(path, bytes)| (path, controlgate_core::hashing::sha256_hex(&bytes)))
                    .collect::<Vec<_>>()
            });
        let section = finish(creq, &reports, &base_reports, changes);
        let digests = match hasher {
            Ok(hasher) => hasher.join().map_err(|_| "it stopped".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        (section, digests)
    });
    let mut section = section?;
    let digests =
        digests.map_err(|e| Error::Usage(format!("cannot hash the coverage reports: {e}")))?;
    for input in &mut section.inputs {
        input.sha256 = digests
            .iter()
            .find(|(path, _)| *path == input.path)
            .map(|(_, sha256)| sha256.clone());
    }
    // Shown by their display path, read again for the evidence from the path as read.
    read_paths.extend(
        held.borrow()
            .iter()
            .map(|(path, _)| (inputs::display_path(path, &req.workdir), path.clone())),
    );
    for (path, whole) in held.take() {
        if !whole.unchanged().map_err(|e| Error::io(&path, e))? {
            return Err(inputs::changed_while_read(&path).into());
        }
    }
    section.notes.extend(ledger_note);
    section.base_unavailable = unavailable;
    Ok(section)
}
