//! The `report` entry point: inputs → model → analysis → rendered outputs.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::analyze::aggregate::Aggregator;
use crate::analyze::gates;
use crate::analyze::mapping::Mapper;
use crate::config::{self, Config};
use crate::error::{Error, ExitCode, Location};
use crate::ingest::junit;
use crate::inputs;
use crate::model::controls::ControlId;
use crate::model::report::{Report, SCHEMA_VERSION, SuiteRecord, Tool, Verdict};
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
}

impl ReportRequest {
    pub fn new(junit: Vec<String>, workdir: PathBuf) -> Self {
        ReportRequest {
            junit,
            config: None,
            workdir,
            generated_at: Utc::now(),
            markdown_budget: render::markdown::DEFAULT_BUDGET,
            suites: Vec::new(),
            title: None,
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
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Config {
        path: path.clone(),
        location: Location::default(),
        message: format!("cannot read: {e}"),
    })?;
    Ok((config::parse(&text, &path)?, Some(path)))
}

/// Reads the JUnit files, maps tests to controls, evaluates the gates and renders.
pub fn report(req: &ReportRequest) -> Result<ReportOutput, Error> {
    let (config, _) = load_config(req.config.as_deref(), &req.workdir)?;
    let mapper = Mapper::new(&config).map_err(Error::Usage)?;
    if req.junit.is_empty() && req.suites.is_empty() {
        return Err(Error::Usage("no JUnit input: pass --junit <GLOB>".into()));
    }
    let paths = if req.junit.is_empty() {
        Vec::new()
    } else {
        inputs::expand(&req.junit, &req.workdir, "junit")?
    };

    let mut agg = Aggregator::new(&mapper);
    let mut input_files = Vec::with_capacity(paths.len());
    // (path, defaults) for every result file, suites first.
    let mut files: Vec<(PathBuf, Vec<(ControlId, String)>)> = Vec::new();
    let mut suite_gates = Vec::new();
    for suite in &req.suites {
        let found = expand_lenient(&suite.junit, &suite.workdir);
        suite_gates.push(suite_gate(&suite.record, &suite.junit, found.len()));
        let defaults: Vec<(ControlId, String)> = suite
            .controls
            .iter()
            .map(|c| (*c, suite.record.name.clone()))
            .collect();
        files.extend(found.into_iter().map(|p| (p, defaults.clone())));
    }
    files.extend(paths.into_iter().map(|p| (p, Vec::new())));
    for (path, defaults) in &files {
        let display = inputs::display_path(path, &req.workdir);
        let index = agg.add_input(display.clone(), defaults.clone());
        let (_, file) = inputs::read_hashed(path, &display, |reader| {
            junit::parse(reader, index, &mut |case| agg.push(case)).map_err(|e| e.in_file(path))
        })?;
        input_files.push(file);
    }
    let aggregate = agg.finish(&config.required_controls());
    let mut gate_list = gates::evaluate(&config, &aggregate);
    gate_list.extend(suite_gates);
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
        coverage: None,
        warnings: aggregate.warnings,
        suites: (!req.suites.is_empty())
            .then(|| req.suites.iter().map(|s| s.record.clone()).collect()),
    };
    let mut opts = render::markdown::MarkdownOptions {
        budget: req.markdown_budget,
        ..Default::default()
    };
    if let Some(t) = &req.title {
        opts.title = t.clone();
    }
    let markdown = render::markdown::render(&report, &opts, &[]);
    let json = render::json(&report);
    Ok(ReportOutput {
        report,
        markdown,
        json,
    })
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

/// `suite:<name>`: fails when the suite left no results (whatever its exit status) or timed
/// out; a non-zero exit with results is left to the test gates (test runners exit non-zero when
/// a test fails).
fn suite_gate(r: &SuiteRecord, junit: &[String], files: usize) -> crate::model::report::Gate {
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
    let (passed, detail) = if r.timed_out {
        (
            false,
            format!("suite `{}` {how}; its results are incomplete", r.name),
        )
    } else if files == 0 {
        let why = if r.exit_code == Some(0) {
            "check the suite's `junit` globs"
        } else {
            "the command failed before writing results; see its log group"
        };
        (
            false,
            format!(
                "suite `{}` {how} and left no JUnit results matching {globs} ({why})",
                r.name
            ),
        )
    } else {
        (
            true,
            format!(
                "suite `{}` {how} in {:.1}s; {files} result file(s)",
                r.name, r.duration_s
            ),
        )
    };
    gates::gate(&format!("suite:{}", r.name), passed, false, detail)
}
