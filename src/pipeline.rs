//! The `report` entry point: inputs → model → analysis → rendered outputs.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::analyze::aggregate::Aggregator;
use crate::analyze::mapping::Mapper;
use crate::analyze::{api, coverage, gates};
use crate::config::{self, Config};
use crate::error::{Error, ExitCode, Location};
use crate::gather::coverage as gcov;
use crate::ingest::{har, junit, openapi};
use crate::inputs;
use crate::model::api::ApiInput;
use crate::model::controls::ControlId;
use crate::model::coverage::CoverageSection;
use crate::model::report::{Report, SCHEMA_VERSION, SuiteRecord, Tool, Verdict};
use crate::model::run::RunIdentity;
use crate::render;
use crate::tickets;

/// Default config location, relative to the working directory.
pub const DEFAULT_CONFIG: &str = ".github/controlgate.yml";

/// Everything `controlgate report` needs, as plain data (no env, no CLI types).
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// JUnit XML globs, relative to `workdir` unless absolute.
    pub junit: Vec<String>,
    /// Explicit config file; `None` uses `.github/controlgate.yml` when it exists.
    pub config: Option<PathBuf>,
    pub workdir: PathBuf,
    pub generated_at: DateTime<Utc>,
    /// Character budget of the Markdown summary.
    pub markdown_budget: usize,
    /// HAR files or globs (API coverage; needs `api.specs` in the config).
    pub har: Vec<String>,
    /// Exchange logs (JSON Lines) or globs (API coverage).
    pub api_log: Vec<String>,
    /// The base (merge-base) API description's root documents, for drift.
    pub api_base_spec: Vec<PathBuf>,
    /// Coverage report globs (LCOV, Cobertura, JaCoCo; detected by content).
    pub coverage: Vec<String>,
    /// Base coverage report globs (`--base-coverage`), for the project delta.
    pub base_coverage: Vec<String>,
    /// `--base REF`; `None` picks the event's PR base, else `origin/HEAD`'s branch, else `main`.
    pub base_ref: Option<String>,
    /// The PR base branch from the GitHub event, when known.
    pub event_base_ref: Option<String>,
    /// `--diff FILE`: changed lines from a unified diff instead of git.
    pub diff: Option<PathBuf>,
    /// Repository root for coverage paths and git (default: `workdir`).
    pub repo: Option<PathBuf>,
    /// `$GITHUB_WORKSPACE`, stripped from report paths.
    pub workspace: Option<String>,
    /// Exact secret values of this run (gathered at the edge: tokens, `CONTROLGATE_SECRETS`,
    /// store credentials), redacted with their encodings from everything the run outputs,
    /// besides the built-in secret shapes.
    pub secrets: crate::redact::SecretValues,
    /// The environment, gathered at the edge: an evidence store's credentials come from it.
    pub env: crate::model::env::EnvVars,
    /// The change (PR or push) being reported on: finds its tickets for `tickets.required`.
    /// `None` (the offline `report` command) leaves that gate informational, "not evaluated".
    pub change: Option<crate::tickets::ChangeContext>,
    /// The run's identity (repository, event, SHAs, workflow run...); `report` adds the
    /// times, the controlgate version and the config digest.
    pub identity: Option<RunIdentity>,
    /// `--evidence DIR`: a `dir` evidence store replacing the config's `evidence.store`.
    pub evidence_dir: Option<PathBuf>,
    /// Suites `controlgate run` executed: their result globs, default controls and record.
    pub suites: Vec<SuiteInput>,
    /// Heading of the Markdown summary (the check name).
    pub title: Option<String>,
}

/// One executed suite's results, for [`report`].
#[derive(Debug, Clone)]
pub struct SuiteInput {
    pub record: SuiteRecord,
    /// Absolute directory the `junit` globs are relative to.
    pub workdir: PathBuf,
    pub junit: Vec<String>,
    /// Controls every test of the suite evidences.
    pub controls: Vec<ControlId>,
    /// Files matching the globs that the run did not write (left by an earlier run): ignored.
    pub stale: Vec<PathBuf>,
}

impl ReportRequest {
    pub fn new(junit: Vec<String>, workdir: PathBuf) -> Self {
        ReportRequest {
            junit,
            config: None,
            workdir,
            generated_at: Utc::now(),
            markdown_budget: render::markdown::DEFAULT_BUDGET,
            har: Vec::new(),
            api_log: Vec::new(),
            api_base_spec: Vec::new(),
            coverage: Vec::new(),
            base_coverage: Vec::new(),
            base_ref: None,
            event_base_ref: None,
            diff: None,
            repo: None,
            workspace: None,
            suites: Vec::new(),
            title: None,
            change: None,
            identity: None,
            evidence_dir: None,
            secrets: Default::default(),
            env: Default::default(),
        }
    }
}

/// The decided run and its renderings.
#[derive(Debug)]
pub struct ReportOutput {
    pub report: Report,
    pub markdown: String,
    /// Where to retain this run (`--evidence DIR`, else the config's `evidence:`), decided from
    /// the same config as the gates; `None`: not retained.
    pub evidence: Option<crate::retain::EvidenceConfig>,
    /// The run's redaction (built-in rules, its secret values, `redact.patterns`): raw inputs
    /// copied into the evidence bundle are redacted with the same rules as the report.
    pub redactor: crate::redact::Redactor,
}

impl ReportOutput {
    /// `report.json`, rendered on demand: on huge runs it is the largest thing in memory, and
    /// many runs (a Markdown summary on stdout) never need it.
    pub fn json(&self) -> String {
        render::json(&self.report)
    }

    pub fn exit_code(&self) -> ExitCode {
        match self.report.verdict {
            Verdict::Pass => ExitCode::Pass,
            Verdict::Fail => ExitCode::Fail,
        }
    }

    /// Writes `summary.md` and `report.json` into `dir`, all or nothing.
    pub fn write_to(&self, dir: &Path) -> Result<(), Error> {
        let summary = |w: &mut dyn std::io::Write| w.write_all(self.markdown.as_bytes());
        let json = |w: &mut dyn std::io::Write| render::write_json(&self.report, w);
        Ok(inputs::write_all_or_nothing_with(
            dir,
            &[("summary.md", &summary), ("report.json", &json)],
        )?)
    }
}

/// Loads the config: the explicit path (which must exist), else the default when present,
/// else built-in defaults. Returns the config and the path it came from.
pub fn load_config(
    explicit: Option<&Path>,
    workdir: &Path,
) -> Result<(Config, Option<PathBuf>), Error> {
    let path = match explicit {
        Some(p) => Some(if p.is_absolute() {
            p.to_owned()
        } else {
            workdir.join(p)
        }),
        None => Some(workdir.join(DEFAULT_CONFIG)).filter(|p| p.is_file()),
    };
    let Some(path) = path else {
        return Ok((Config::default(), None));
    };
    let bytes = std::fs::read(&path).map_err(|e| Error::Config {
        path: path.clone(),
        location: Location::default(),
        message: format!("cannot read: {e}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        Error::Config {
            path: path.clone(),
            location: Location {
                line: Some(line),
                byte: Some(at as u64),
            },
            message: "not UTF-8 text".into(),
        }
    })?;
    let mut config = config::parse(&text, &path)?;
    config.digest = Some(crate::retain::canonical::sha256_hex(text.as_bytes()));
    Ok((config, Some(path)))
}

/// The identity recorded in the report: what the caller knows (env, event) plus the times,
/// the controlgate version and the SHA-256 of the config file that decided the gates.
fn run_identity(
    req: &ReportRequest,
    config: &Config,
    started_at: DateTime<Utc>,
    coverage_refs: Option<&crate::model::coverage::CoverageRefs>,
) -> RunIdentity {
    let mut id = req.identity.clone().unwrap_or_default();
    let rfc3339 = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    id.started_at.get_or_insert_with(|| rfc3339(started_at));
    id.finished_at = Some(rfc3339(Utc::now()));
    id.controlgate_version = Some(env!("CARGO_PKG_VERSION").to_owned());
    if let Some(refs) = coverage_refs {
        // A local run knows its commit from git: that is what a later PR run's base lookup
        // matches on.
        if id.head_sha.is_none() {
            id.head_sha.clone_from(&refs.head_sha);
        }
        if id.base_sha.is_none() {
            id.base_sha.clone_from(&refs.merge_base_sha);
        }
    }
    if id.head_sha.is_none() && effective_evidence(config, req).is_some() {
        // Retained without coverage (JUnit, API): the entry still needs its commit.
        let repo = req.repo.as_deref().unwrap_or(&req.workdir);
        id.head_sha = crate::git::head_sha(repo);
    }
    id.config_digest.clone_from(&config.digest);
    id
}

/// Names a base coverage report read from ledger entry N's bundle: `ledger#N/<path>`.
const LEDGER_INPUT_PREFIX: &str = "ledger#";

/// What [`retain_evidence`] needs besides the decided report.
#[derive(Debug, Clone)]
pub struct EvidenceRequest {
    pub evidence: crate::retain::EvidenceConfig,
    /// Base for relative store paths (the repository root).
    pub base_dir: PathBuf,
}

/// The evidence configuration in force: `--evidence DIR` (a `dir` store) wins over the
/// config file's `evidence:` section; neither means nothing is retained.
fn effective_evidence(
    config: &Config,
    req: &ReportRequest,
) -> Option<crate::retain::EvidenceConfig> {
    match &req.evidence_dir {
        Some(dir) => Some(crate::retain::EvidenceConfig {
            store: crate::retain::StoreConfig::Dir { path: dir.clone() },
            ..config.evidence.clone().unwrap_or_default()
        }),
        None => config.evidence.clone(),
    }
}

/// Writes the run's evidence bundle (report, summary, every input exactly as read: JUnit,
/// coverage, API descriptions and exchange logs) and its ledger entry. Inputs are hashed
/// again and must still match what the report recorded, and the store re-hashes them as it
/// copies them, so a file changed mid-run cannot slip into the evidence.
pub fn retain_evidence(
    out: &ReportOutput,
    req: &ReportRequest,
    ev: &EvidenceRequest,
) -> Result<crate::retain::Written, Error> {
    use crate::retain::bundle::LedgerPercent;
    let report = &out.report;
    let mut files: Vec<(String, crate::retain::Blob)> = Vec::new();
    let mut redacted = std::collections::BTreeMap::new();
    // Redacted copies of inputs that held secrets; they must outlive the bundle's write.
    let mut copies: Vec<tempfile::NamedTempFile> = Vec::new();
    // Hashes an input again for the bundle (it is streamed into the store later, not read
    // into memory); with a recorded digest it must still match it. An input holding secrets
    // goes in as a redacted copy.
    let mut keep = |given: &str, sha256: Option<&str>| -> Result<(), Error> {
        if files.iter().any(|(p, _)| p == given) {
            return Ok(());
        }
        let path = req.workdir.join(given);
        let copy = crate::retain::bundle::redacted_input(&path, &out.redactor)?;
        if sha256.is_some_and(|want| copy.original.sha256() != want) {
            return Err(crate::retain::bundle::changed(&path).into());
        }
        match copy.redacted {
            None => files.push((given.to_owned(), copy.original)),
            Some((temp, count)) => {
                redacted.insert(
                    given.to_owned(),
                    crate::retain::bundle::Redacted {
                        sha256: copy.original.sha256(),
                        count,
                    },
                );
                files.push((given.to_owned(), crate::retain::Blob::file(temp.path())?));
                copies.push(temp);
            }
        }
        Ok(())
    };
    for input in &report.inputs {
        keep(&input.path, Some(&input.sha256))?;
    }
    if let Some(cov) = &report.coverage {
        // Base reports taken from the ledger (`ledger#N/...`) are already in entry N's bundle.
        for input in cov
            .inputs
            .iter()
            .filter(|i| !i.path.starts_with(LEDGER_INPUT_PREFIX))
        {
            keep(&input.path, None)?;
        }
    }
    if let Some(api) = &report.api {
        // A base description read from git (no --api-base-spec) is not a file in the working
        // tree; its digest in report.json and the merge-base SHA identify it.
        let base_from_git = req.api_base_spec.is_empty();
        for input in &api.inputs {
            if !(input.kind == "base_spec" && base_from_git) {
                keep(&input.path, Some(&input.sha256))?;
            }
        }
    }
    // report.json goes through a temp file: on huge runs it is tens of MB.
    let report_file = tempfile::NamedTempFile::new().map_err(|e| Error::io("report.json", e))?;
    {
        let mut w = std::io::BufWriter::new(report_file.as_file());
        render::write_json(report, &mut w)
            .and_then(|()| std::io::Write::flush(&mut w))
            .map_err(|e| Error::io(report_file.path(), e))?;
    }
    let identity = report.run.clone().unwrap_or_default();
    let bundle = crate::retain::BundleInput {
        report_json: crate::retain::Blob::file(report_file.path())?,
        summary_md: out.markdown.clone(),
        inputs: files,
        redacted,
        verdict: match report.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }
        .to_owned(),
        controls: report
            .controls
            .iter()
            .map(|c| crate::retain::ControlSummary {
                id: c.id.to_string(),
                status: match c.status {
                    crate::model::report::ControlStatus::Pass => "pass",
                    crate::model::report::ControlStatus::Fail => "fail",
                    crate::model::report::ControlStatus::Untested => "untested",
                }
                .to_owned(),
                tests: c.tests,
            })
            .collect(),
        coverage: report
            .coverage
            .as_ref()
            .map(|c| crate::retain::CoverageSummary {
                percent: c.head.percent.map(LedgerPercent),
                delta_pp: c.delta_pp.map(LedgerPercent),
                patch_percent: c.patch.percent.map(LedgerPercent),
            }),
        api: report.api.as_ref().and_then(|a| {
            let percent =
                crate::model::coverage::Percent::ratio(a.coverage.exercised, a.coverage.described)?;
            Some(crate::retain::ApiSummary {
                percent: LedgerPercent(percent),
                delta_pp: a
                    .delta_pp
                    .filter(|d| d.is_finite())
                    .map(LedgerPercent::from_f64),
            })
        }),
        tickets: report
            .tickets
            .as_ref()
            .map(|t| t.tickets.iter().map(|f| f.key.clone()).collect())
            .unwrap_or_default(),
        identity,
    };
    let ctx = crate::retain::OpenContext {
        base_dir: ev.base_dir.clone(),
        repository: bundle
            .identity
            .repository
            .clone()
            .unwrap_or_else(|| "local".into()),
        env: req.env.clone(),
    };
    let options = crate::retain::WriteOptions {
        fallback_dir: ev.base_dir.join(&ev.evidence.fallback_dir),
        now: None,
    };
    use crate::retain::Error as Ev;
    match crate::retain::open_store(&ev.evidence.store, &ctx) {
        Ok(store) => Ok(crate::retain::write_evidence_with(
            store.as_ref(),
            &bundle,
            &options,
        )?),
        // A store that cannot be opened still leaves the bundle in the fallback directory.
        Err(e @ (Ev::Store(_) | Ev::Git(_) | Ev::Io { .. })) => {
            Err(crate::retain::keep_without_store(&bundle, &options, e).into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Reads the coverage reports and computes patch and project coverage, when any were given.
fn coverage_section(
    config: &Config,
    req: &ReportRequest,
    ledger: Option<&LedgerState>,
) -> Result<Option<CoverageSection>, Error> {
    if req.coverage.is_empty() {
        if req.diff.is_some() || !req.base_coverage.is_empty() {
            return Err(Error::Usage(
                "--diff and --base-coverage need --coverage <GLOB>".into(),
            ));
        }
        return Ok(None);
    }
    let read = |globs: &[String], what: &str| -> Result<Vec<coverage::ReportInput>, Error> {
        inputs::expand(globs, &req.workdir, what)?
            .into_iter()
            .map(|path| {
                let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
                let path = PathBuf::from(inputs::display_path(&path, &req.workdir));
                Ok(coverage::ReportInput { path, bytes })
            })
            .collect()
    };
    let (repo, base_ref) = git_base(req);
    let changes = match &req.diff {
        Some(path) => {
            let full = req.workdir.join(path);
            let text = std::fs::read(&full).map_err(|e| Error::io(&full, e))?;
            gcov::ChangeSource::Diff {
                path: path.clone(),
                text,
            }
        }
        None => gcov::ChangeSource::Git { base_ref },
    };
    let mut creq = gcov::CoverageRequest::new(repo, changes);
    creq.reports = read(&req.coverage, "coverage")?;
    if !req.base_coverage.is_empty() {
        creq.base_reports = read(&req.base_coverage, "base-coverage")?;
    }
    creq.path_fixes = config.coverage.path_fixes.clone();
    creq.source_roots = config.coverage.source_roots.clone();
    creq.workspace = req.workspace.clone();
    if let Some(n) = config.coverage.indirect_changes {
        creq.indirect_limit = n;
    }
    creq.rename_threshold = config.coverage.renames.threshold;
    // Without a base report, the evidence ledger supplies the base commit's coverage.
    let mut ledger_note = None;
    let mut unavailable = None;
    if let (true, Some(ledger)) = (creq.base_reports.is_empty(), ledger) {
        match ledger.coverage_base()? {
            Ok((reports, note)) => {
                creq.base_reports = reports;
                ledger_note = Some(note);
            }
            Err(u) => {
                ledger_note = Some(format!("no base: {}", u.reason));
                unavailable = Some(u);
            }
        }
    }
    let mut section = gcov::analyze(&creq)?;
    section.notes.extend(ledger_note);
    section.base_unavailable = unavailable;
    Ok(Some(section))
}

/// The evidence ledger as a PR run reads it for its bases: usable (its entries' chain verified,
/// the merge-base and its first-parent ancestors known), or why not.
enum LedgerState {
    Usable(LedgerView),
    /// No base can come from it: empty, or not intact (then `untrusted`).
    Unavailable(crate::model::coverage::BaseUnavailable),
}

struct LedgerView {
    store: Box<dyn crate::retain::EvidenceStore>,
    entries: Vec<crate::retain::ledger::Entry>,
    /// The merge-base first, then its first-parent ancestors (≤ `base_max_distance`).
    chain: Vec<String>,
}

/// `Ok(None)`: no delta can come from a ledger (no evidence store configured, or changes come
/// from `--diff`, not git). A store that cannot be opened or read is an error (exit 2), never
/// "no base": a run must not pass a delta gate because its evidence was unreachable.
fn open_ledger(config: &Config, req: &ReportRequest) -> Result<Option<LedgerState>, Error> {
    let Some(ev) = effective_evidence(config, req) else {
        return Ok(None);
    };
    if req.diff.is_some() {
        return Ok(None);
    }
    let (repo, base_ref) = git_base(req);
    let ctx = crate::retain::OpenContext {
        base_dir: repo.clone(),
        repository: req
            .identity
            .as_ref()
            .and_then(|i| i.repository.clone())
            .unwrap_or_else(|| "local".into()),
        env: req.env.clone(),
    };
    let unavailable = |reason: String, untrusted: bool| {
        Ok(Some(LedgerState::Unavailable(
            crate::model::coverage::BaseUnavailable { reason, untrusted },
        )))
    };
    let store = crate::retain::open_store(&ev.store, &ctx)?;
    store.refresh()?;
    if store.list("ledger/")?.is_empty() {
        return unavailable("the evidence ledger has no entries yet".into(), false);
    }
    let (outcome, entries) = crate::retain::chained_entries(store.as_ref())?;
    if !outcome.intact {
        return unavailable(
            format!("the evidence ledger is not intact ({})", outcome.summary()),
            true,
        );
    }
    // Without the history the base run cannot be located (the coverage diff, which needs the
    // same history, says how to fetch it); the store itself was readable.
    let chain = match crate::git::merge_base_chain(&repo, &base_ref, ev.base_max_distance) {
        Ok(chain) => chain,
        Err(e) => {
            return unavailable(
                format!(
                    "the merge-base with `{base_ref}` is unknown, so no base run can be looked up ({e})"
                ),
                false,
            );
        }
    };
    Ok(Some(LedgerState::Usable(LedgerView {
        store,
        entries,
        chain,
    })))
}

impl LedgerState {
    /// The head coverage reports kept in the base entry's bundle (verified against its
    /// manifest and the ledger entry first), with a note saying which commit was used — or why
    /// there is no usable base. `Err`: the store could not be read.
    fn coverage_base(
        &self,
    ) -> Result<
        Result<(Vec<coverage::ReportInput>, String), crate::model::coverage::BaseUnavailable>,
        Error,
    > {
        use crate::model::coverage::BaseUnavailable;
        use crate::retain::bundle;
        let view = match self {
            LedgerState::Usable(v) => v,
            LedgerState::Unavailable(u) => return Ok(Err(u.clone())),
        };
        let missing = |reason: String| {
            Ok(Err(BaseUnavailable {
                reason,
                untrusted: false,
            }))
        };
        let untrusted = |why: String, seq: u64| {
            Ok(Err(BaseUnavailable {
                reason: format!(
                    "the base run's evidence (ledger entry #{seq}) failed verification: {why}"
                ),
                untrusted: true,
            }))
        };
        let base = match view.base(crate::retain::ledger::Entry::has_coverage, "coverage") {
            Ok(b) => b,
            Err(note) => return missing(note),
        };
        let digest = &base.entry.bundle;
        let seq = base.entry.seq;
        use crate::retain::verify::BundleFiles;
        let report = match crate::retain::verify::verified_files(
            view.store.as_ref(),
            digest,
            &[bundle::REPORT.to_owned()],
        )? {
            BundleFiles::Verified(mut files) => files.remove(bundle::REPORT),
            BundleFiles::Failed(why) => return untrusted(why, seq),
        };
        // Only `coverage.inputs` is read: the rest (tens of MB of cases on huge runs) is
        // skipped by the parser, not built.
        #[derive(serde::Deserialize)]
        struct BaseReport {
            coverage: Option<BaseCoverage>,
        }
        #[derive(serde::Deserialize)]
        struct BaseCoverage {
            #[serde(default)]
            inputs: Vec<BaseInput>,
        }
        #[derive(serde::Deserialize)]
        struct BaseInput {
            role: Option<String>,
            path: Option<String>,
        }
        let Some(report) = report.and_then(|b| serde_json::from_slice::<BaseReport>(&b).ok())
        else {
            return untrusted("its report.json is missing or unreadable".into(), seq);
        };
        let heads: Vec<String> = report
            .coverage
            .map(|c| c.inputs)
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i.role.as_deref() == Some("head"))
            .filter_map(|i| i.path)
            .collect();
        let wanted: Vec<String> = heads.iter().map(|p| bundle::input_path(p)).collect();
        let mut files =
            match crate::retain::verify::verified_files(view.store.as_ref(), digest, &wanted)? {
                BundleFiles::Verified(files) => files,
                BundleFiles::Failed(why) => return untrusted(why, seq),
            };
        let mut reports = Vec::new();
        for (path, key) in heads.iter().zip(&wanted) {
            if let Some(bytes) = files.remove(key) {
                let path = PathBuf::from(format!("{LEDGER_INPUT_PREFIX}{seq}/{path}"));
                reports.push(coverage::ReportInput { path, bytes });
            }
        }
        if reports.is_empty() {
            return missing(format!(
                "ledger entry #{seq} ({}) kept no coverage report",
                short_sha(&base.sha)
            ));
        }
        Ok(Ok((
            reports,
            format!("base coverage from {}", describe_base(&base)),
        )))
    }
}

impl LedgerView {
    /// The entry of the merge-base, or of its nearest first-parent ancestor, that `measured`
    /// what is compared (`what`, for the note when there is none).
    fn base(
        &self,
        measured: impl Fn(&crate::retain::ledger::Entry) -> bool,
        what: &str,
    ) -> Result<crate::retain::BaseEntry, String> {
        crate::retain::find_base_entry(&self.entries, &self.chain, measured).ok_or_else(|| {
            format!(
                "no ledger entry with {what} for the merge-base {} or its {} first-parent ancestors",
                self.chain.first().map_or("", |s| short_sha(s)),
                self.chain.len().saturating_sub(1)
            )
        })
    }
}

/// "ledger entry #N for commit abc1234, the merge-base".
fn describe_base(base: &crate::retain::BaseEntry) -> String {
    let whence = match base.distance {
        0 => "the merge-base".to_owned(),
        n => format!("{n} first-parent commit(s) before the merge-base"),
    };
    format!(
        "ledger entry #{} for commit {}, {whence}",
        base.entry.seq,
        short_sha(&base.sha)
    )
}

/// API coverage against the base run's in the ledger: sets `delta_pp` and `delta_base`, or
/// says in a warning why there is no delta.
fn api_delta(section: &mut crate::model::api::ApiSection, ledger: &LedgerState) {
    let base = match ledger {
        LedgerState::Usable(view) => view.base(
            crate::retain::ledger::Entry::has_api_coverage,
            "API coverage",
        ),
        LedgerState::Unavailable(u) => Err(u.reason.clone()),
    };
    match base {
        Ok(base) => {
            if let Some(api) = &base.entry.api {
                section.delta_pp = Some(section.coverage.percent - api.percent.as_f64());
                section.delta_base = Some(describe_base(&base));
            }
        }
        Err(note) => section
            .warnings
            .push(format!("API coverage delta: no base: {note}")),
    }
}

/// The repository and the base ref changes are measured against: `--base`, else the event's
/// base branch, else the remote's default branch.
fn git_base(req: &ReportRequest) -> (PathBuf, String) {
    let repo = req.repo.clone().unwrap_or_else(|| req.workdir.clone());
    let base_ref = match &req.base_ref {
        Some(r) => r.clone(),
        None => crate::git::default_base_ref(&repo, req.event_base_ref.as_deref()),
    };
    (repo, base_ref)
}

/// Test cases travel from the parser thread to the aggregating one in batches of this size.
const BATCH: usize = 1024;

/// Parses the files on a second thread (reading, hashing and XML) while the caller's thread
/// maps and aggregates: the two halves cost about the same, so this nearly halves wall time.
fn parse_junit_files(
    paths: &[PathBuf],
    displays: &[String],
    on_case: &mut dyn FnMut(crate::model::TestCase),
) -> Result<Vec<crate::model::InputFile>, Error> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<crate::model::TestCase>>(16);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let mut files = Vec::with_capacity(paths.len());
            for (index, (path, display)) in paths.iter().zip(displays).enumerate() {
                let mut batch = Vec::with_capacity(BATCH);
                let (_, file) = inputs::read_hashed(path, display, |reader| {
                    junit::parse(reader, index, &mut |case| {
                        batch.push(case);
                        if batch.len() == BATCH {
                            // The receiver lives until this thread is joined.
                            let _ =
                                tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                        }
                    })
                    .map_err(|e| controlgate_forge::Error::from(e.in_file(display)))
                })?;
                let _ = tx.send(batch);
                files.push(file);
            }
            Ok(files)
        });
        for batch in rx {
            batch.into_iter().for_each(&mut *on_case);
        }
        producer
            .join()
            .unwrap_or_else(|_| Err(Error::Usage("JUnit reader thread failed".into())))
    })
}

/// Reads the JUnit files, maps tests to controls, evaluates the gates and renders.
pub fn report(req: &ReportRequest) -> Result<ReportOutput, Error> {
    let started_at = Utc::now();
    let (config, _) = load_config(req.config.as_deref(), &req.workdir)?;
    let mapper = Mapper::new(&config)?;
    if req.junit.is_empty() && req.suites.is_empty() {
        return Err(Error::Usage("no JUnit input: pass --junit <GLOB>".into()));
    }
    let paths = if req.junit.is_empty() {
        Vec::new()
    } else {
        inputs::expand(&req.junit, &req.workdir, "junit")?
    };
    let api_specs = load_api_specs(&config, req)?;
    let mut api_analyzer = match &api_specs {
        Some(s) => Some(api::Analyzer::new(&s.spec, &config.api)?),
        None => None,
    };

    let mut agg = Aggregator::new(&mapper);
    // Every result file with the controls its suite gives all its tests; suites first.
    let mut files: Vec<(PathBuf, Vec<(ControlId, String)>)> = Vec::new();
    let mut suite_gates = Vec::new();
    for suite in &req.suites {
        let mut found = expand_lenient(&suite.junit, &suite.workdir);
        found.retain(|p| !suite.stale.contains(p));
        suite_gates.push(suite_gate(
            &suite.record,
            &suite.junit,
            found.len(),
            suite.stale.len(),
        ));
        let defaults: Vec<(ControlId, String)> = suite
            .controls
            .iter()
            .map(|c| (*c, suite.record.name.clone()))
            .collect();
        files.extend(found.into_iter().map(|p| (p, defaults.clone())));
    }
    files.extend(paths.into_iter().map(|p| (p, Vec::new())));
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    let displays: Vec<String> = paths
        .iter()
        .map(|p| inputs::display_path(p, &req.workdir))
        .collect();
    for ((_, defaults), d) in files.into_iter().zip(&displays) {
        agg.add_input(d.clone(), defaults);
    }
    let input_files = parse_junit_files(&paths, &displays, &mut |case| {
        if let Some(a) = &mut api_analyzer {
            a.test_case(&case);
        }
        agg.push(case)
    })?;
    let mut aggregate = agg.finish(&config.required_controls());
    // Redact before anything is rendered, posted or stored.
    let redactor = crate::redact::Redactor::new(req.secrets.values(), &config.redact.patterns)?;
    let redactions = redact_aggregate(&redactor, &mut aggregate);
    let mut gate_list = gates::evaluate(&config, &aggregate);
    gate_list.extend(suite_gates);
    // Opened only when a delta needs the ledger (a git fetch for a git store).
    let ledger =
        if api_specs.is_some() || (!req.coverage.is_empty() && req.base_coverage.is_empty()) {
            open_ledger(&config, req)?
        } else {
            None
        };
    let api_section = match (api_analyzer, &api_specs) {
        (Some(mut a), Some(specs)) => {
            let mut api_inputs = specs.inputs.clone();
            api_inputs.extend(read_exchanges(&mut a, req)?);
            let mut section = a.finish(specs.base.as_ref(), api_inputs);
            section.base = specs.base_label.clone();
            section.warnings.extend(specs.notes.iter().cloned());
            if let Some(ledger) = &ledger {
                api_delta(&mut section, ledger);
            }
            let drift_note = specs.notes.first().map(String::as_str);
            gate_list.extend(api::gates(&config.api, &mut section, drift_note));
            Some(section)
        }
        _ => None,
    };
    let coverage_section = coverage_section(&config, req, ledger.as_ref())?;
    gate_list.extend(coverage::evaluate_gates(
        coverage_section.as_ref(),
        &config.coverage,
    ));
    let tickets_section = req
        .change
        .as_ref()
        .filter(|_| config.tickets.any_tracker() || config.tickets.required.is_some())
        .map(|ctx| tickets::section(ctx, &config.tickets));
    gate_list.extend(tickets::gate(
        &config.tickets,
        req.change.as_ref(),
        tickets_section.as_ref(),
    ));
    let verdict = gates::verdict(&gate_list);

    let run = run_identity(
        req,
        &config,
        started_at,
        coverage_section.as_ref().map(|c| &c.refs),
    );
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool::default(),
        generated_at: req.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        verdict,
        inputs: input_files,
        tests: aggregate.totals,
        controls: aggregate.controls,
        gates: gate_list,
        cases: aggregate.cases,
        unknown_tags: aggregate.unknown_tags,
        coverage: coverage_section,
        api: api_section,
        tickets: tickets_section,
        warnings: aggregate.warnings,
        suites: (!req.suites.is_empty())
            .then(|| req.suites.iter().map(|s| s.record.clone()).collect()),
        run: Some(run),
        redactions: None,
    };
    // Everything else that came from input (coverage and HAR paths, suite commands, ticket
    // texts, gate details quoting them) before anything is rendered, posted or stored.
    let mut redactions = redactions;
    report.redact_sections(&redactor, &mut redactions);
    report.redactions = Some(redactions);
    let mut opts = render::markdown::MarkdownOptions {
        budget: req.markdown_budget,
        ..Default::default()
    };
    if let Some(t) = &req.title {
        opts.title = t.clone();
    }
    let mut extra = Vec::new();
    if let Some(cov) = &report.coverage {
        extra.push(render::coverage::render_coverage(
            cov,
            req.markdown_budget * 3 / 10,
        ));
    }
    if let Some(api) = &report.api {
        extra.push(render::api::markdown(api, req.markdown_budget * 2 / 5));
    }
    if let Some(t) = &report.tickets {
        extra.push(tickets::render_tickets(t));
    }
    let markdown = render::markdown::render(&report, &opts, &extra);
    let evidence = effective_evidence(&config, req);
    Ok(ReportOutput {
        report,
        markdown,
        evidence,
        redactor,
    })
}

/// Redacts every text of the aggregate that came from a test run: messages, names, suites,
/// file paths, unknown tags and warnings.
pub fn redact_aggregate(
    redactor: &crate::redact::Redactor,
    aggregate: &mut crate::analyze::aggregate::Aggregate,
) -> crate::redact::Redactions {
    let mut counts = crate::redact::Redactions::default();
    for c in &mut aggregate.cases {
        for s in [&mut c.id, &mut c.suite, &mut c.classname, &mut c.name] {
            redactor.apply(s, &mut counts);
        }
        if let Some(f) = &mut c.file {
            redactor.apply(f, &mut counts);
        }
        if let Some(l) = &mut c.location {
            redactor.apply(&mut l.file, &mut counts);
        }
        if let Some(m) = &mut c.message {
            // Redacted whole (the parser kept twice the limit), then cut: a secret that the
            // cut goes through is never left half shown.
            redactor.apply(m, &mut counts);
            crate::model::Message::cut(m);
        }
    }
    for t in &mut aggregate.unknown_tags {
        redactor.apply(&mut t.tag, &mut counts);
        redactor.apply(&mut t.test, &mut counts);
    }
    for w in &mut aggregate.warnings {
        redactor.apply(w, &mut counts);
    }
    counts
}

/// Head description, base description, and their files.
struct ApiSpecs {
    spec: openapi::Spec,
    base: Option<openapi::Spec>,
    inputs: Vec<ApiInput>,
    /// Which base was used: the merge-base SHA, or the `--api-base-spec` files.
    base_label: Option<String>,
    /// Why drift was not computed, when it was not.
    notes: Vec<String>,
}

/// The head description (`api.specs`), the base one (`--api-base-spec`, else the same files at
/// merge-base(base ref, HEAD) when changes come from git) and their files as inputs; `None`
/// when the config describes no API.
fn load_api_specs(config: &Config, req: &ReportRequest) -> Result<Option<ApiSpecs>, Error> {
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
    let spec = openapi::load(&heads, &mut crate::gather::openapi::Files)?;
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
        let b = openapi::load(&paths, &mut crate::gather::openapi::Files)?;
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
    let (repo, base_ref) = git_base(req);
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

fn short_sha(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
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
fn read_exchanges(a: &mut api::Analyzer<'_>, req: &ReportRequest) -> Result<Vec<ApiInput>, Error> {
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

/// Expands a suite's result globs; matching nothing is not an error here (the suite gate says
/// so instead).
fn expand_lenient(patterns: &[String], base: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in patterns {
        if let Ok(found) = inputs::expand(std::slice::from_ref(p), base, "junit") {
            for f in found {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
    }
    out
}

/// `suite:<name>`: fails when the suite left no results of this run (whatever its exit
/// status; files an earlier run left are not its results) or timed out; a non-zero exit with
/// results is left to the test gates (test runners exit non-zero when a test fails).
fn suite_gate(
    r: &SuiteRecord,
    junit: &[String],
    files: usize,
    stale: usize,
) -> crate::model::report::Gate {
    use crate::model::gate::{Check, Gate, GatePolicy};
    let globs = junit
        .iter()
        .map(|g| format!("`{g}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let how = match (&r.error, r.timed_out, r.exit_code) {
        (Some(e), _, _) => format!("could not start: {e}"),
        (None, true, _) => format!("timed out after {:.0}s", r.duration_s),
        (None, false, Some(c)) => format!("exited with status {c}"),
        (None, false, None) => "was killed by a signal".to_owned(),
    };
    let ignored = if stale > 0 {
        format!("; {stale} matching file(s) left by an earlier run were ignored")
    } else {
        String::new()
    };
    let check = if r.timed_out {
        Check::Broken(format!(
            "suite `{}` {how}; its results are incomplete{ignored}",
            r.name
        ))
    } else if files == 0 {
        let why = if r.exit_code == Some(0) {
            "check the suite's `junit` globs"
        } else {
            "the command failed before writing results; see its log group"
        };
        Check::Broken(format!(
            "suite `{}` {how} and left no JUnit results matching {globs} ({why}){ignored}",
            r.name
        ))
    } else {
        Check::Held(format!(
            "suite `{}` {how} in {:.1}s; {files} result file(s){ignored}",
            r.name, r.duration_s
        ))
    };
    Gate::decide(format!("suite:{}", r.name), GatePolicy::STRICT, check)
}
