//! The `report` entry point: inputs → model → analysis → rendered outputs.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::analyze::aggregate::Aggregator;
use crate::analyze::mapping::Mapper;
use crate::analyze::{api, coverage, gates};
use crate::config::{self, Config};
use crate::error::{Error, ExitCode, Location};
use crate::ingest::{har, junit, openapi};
use crate::inputs;
use crate::model::api::ApiInput;
use crate::model::coverage::CoverageSection;
use crate::model::report::{Report, SCHEMA_VERSION, Tool, Verdict};
use crate::render;

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
    /// Exact secret values of this run (the action's token, `CONTROLGATE_SECRETS`), redacted
    /// from every kept message and name besides the built-in secret shapes.
    pub secrets: Vec<String>,
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
            secrets: Vec::new(),
        }
    }
}

/// The decided run and its renderings.
#[derive(Debug)]
pub struct ReportOutput {
    pub report: Report,
    pub markdown: String,
    pub json: String,
}

impl ReportOutput {
    pub fn exit_code(&self) -> ExitCode {
        match self.report.verdict {
            Verdict::Pass => ExitCode::Pass,
            Verdict::Fail => ExitCode::Fail,
        }
    }

    /// Writes `summary.md` and `report.json` into `dir`, all or nothing.
    pub fn write_to(&self, dir: &Path) -> Result<(), Error> {
        inputs::write_all_or_nothing(
            dir,
            &[
                ("summary.md", self.markdown.as_str()),
                ("report.json", self.json.as_str()),
            ],
        )
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
    Ok((config::parse(&text, &path)?, Some(path)))
}

/// Reads the coverage reports and computes patch and project coverage, when any were given.
fn coverage_section(
    config: &Config,
    req: &ReportRequest,
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
    let repo = req.repo.clone().unwrap_or_else(|| req.workdir.clone());
    let changes = match &req.diff {
        Some(path) => {
            let full = req.workdir.join(path);
            let text = std::fs::read(&full).map_err(|e| Error::io(&full, e))?;
            coverage::ChangeSource::Diff {
                path: path.clone(),
                text,
            }
        }
        None => coverage::ChangeSource::Git {
            base_ref: match &req.base_ref {
                Some(r) => r.clone(),
                None => crate::git::default_base_ref(&repo, req.event_base_ref.as_deref()),
            },
        },
    };
    let mut creq = coverage::CoverageRequest::new(repo, changes);
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
    coverage::analyze(&creq).map(Some)
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
                    .map_err(|e| e.in_file(display))
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
    let (config, _) = load_config(req.config.as_deref(), &req.workdir)?;
    let mapper = Mapper::new(&config).map_err(Error::Usage)?;
    if req.junit.is_empty() {
        return Err(Error::Usage("no JUnit input: pass --junit <GLOB>".into()));
    }
    let paths = inputs::expand(&req.junit, &req.workdir, "junit")?;
    let api_specs = load_api_specs(&config, req)?;
    let mut api_analyzer = match &api_specs {
        Some((spec, _, _)) => Some(api::Analyzer::new(spec, &config.api).map_err(Error::Usage)?),
        None => None,
    };

    let mut agg = Aggregator::new(&mapper);
    let displays: Vec<String> = paths
        .iter()
        .map(|p| inputs::display_path(p, &req.workdir))
        .collect();
    for d in &displays {
        agg.add_input(d.clone(), Vec::new());
    }
    let input_files = parse_junit_files(&paths, &displays, &mut |case| {
        if let Some(a) = &mut api_analyzer {
            a.test_case(&case);
        }
        agg.push(case)
    })?;
    let mut aggregate = agg.finish(&config.required_controls());
    // Redact before anything is rendered, posted or stored.
    let redactor = crate::redact::Redactor::new(&req.secrets, &config.redact.patterns)
        .map_err(Error::Usage)?;
    let redactions = redact_aggregate(&redactor, &mut aggregate);
    let mut gate_list = gates::evaluate(&config, &aggregate);
    let api_section = match (api_analyzer, &api_specs) {
        (Some(mut a), Some((_, base, spec_inputs))) => {
            let mut api_inputs = spec_inputs.clone();
            api_inputs.extend(read_exchanges(&mut a, req)?);
            let mut section = a.finish(base.as_ref(), api_inputs);
            gate_list.extend(api::gates(&config.api, &mut section));
            Some(section)
        }
        _ => None,
    };
    let coverage_section = coverage_section(&config, req)?;
    if let Some(section) = &coverage_section {
        gate_list.extend(
            coverage::evaluate_gates(section, &config.coverage)
                .into_iter()
                .map(Into::into),
        );
    }
    let verdict = gates::verdict(&gate_list);

    let report = Report {
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
        warnings: aggregate.warnings,
        redactions: Some(redactions),
    };
    let opts = render::markdown::MarkdownOptions {
        budget: req.markdown_budget,
        ..Default::default()
    };
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
    let markdown = render::markdown::render(&report, &opts, &extra);
    let json = render::json(&report);
    Ok(ReportOutput {
        report,
        markdown,
        json,
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
        if let Some(m) = &mut c.message {
            redactor.apply(m, &mut counts);
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
type ApiSpecs = (openapi::Spec, Option<openapi::Spec>, Vec<ApiInput>);

/// The head description (`api.specs`), the base one (`--api-base-spec`) and their files as
/// inputs; `None` when the config describes no API.
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
    let spec = openapi::load(&heads, &mut openapi::Files)?;
    let mut inputs = Vec::new();
    let mut record = |spec: &openapi::Spec, kind: &'static str| {
        for d in &spec.docs {
            inputs.push(ApiInput {
                kind,
                path: inputs::display_path(&d.path, &req.workdir),
                sha256: d.sha256.clone(),
                bytes: d.bytes,
            });
        }
    };
    record(&spec, "spec");
    let base = if req.api_base_spec.is_empty() {
        None
    } else {
        let paths: Vec<PathBuf> = req.api_base_spec.iter().map(|p| abs(p)).collect();
        let b = openapi::load(&paths, &mut openapi::Files)?;
        record(&b, "base_spec");
        Some(b)
    };
    Ok(Some((spec, base, inputs)))
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
                .map_err(|e| e.in_file(&path))
            })?;
            out.push(ApiInput {
                kind: if is_har { "har" } else { "log" },
                path: file.path,
                sha256: file.sha256,
                bytes: file.bytes,
            });
        }
    }
    Ok(out)
}
