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
}

impl ReportRequest {
    pub fn new(junit: Vec<String>, workdir: PathBuf) -> Self {
        ReportRequest {
            junit,
            config: None,
            workdir,
            generated_at: Utc::now(),
            markdown_budget: render::markdown::DEFAULT_BUDGET,
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

    let mut agg = Aggregator::new(&mapper);
    let displays: Vec<String> = paths
        .iter()
        .map(|p| inputs::display_path(p, &req.workdir))
        .collect();
    for d in &displays {
        agg.add_input(d.clone(), Vec::new());
    }
    let input_files = parse_junit_files(&paths, &displays, &mut |case| agg.push(case))?;
    let aggregate = agg.finish(&config.required_controls());
    let gate_list = gates::evaluate(&config, &aggregate);
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
    };
    let opts = render::markdown::MarkdownOptions {
        budget: req.markdown_budget,
        ..Default::default()
    };
    let markdown = render::markdown::render(&report, &opts, &[]);
    let json = render::json(&report);
    Ok(ReportOutput {
        report,
        markdown,
        json,
    })
}
