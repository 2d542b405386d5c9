//! GATHER: the outside world (config, files, git, the evidence ledger) read into plain data for
//! the pure decision ([`crate::decide`]). Each submodule serves one stage.

pub mod config;
pub mod coverage;
pub mod history;
pub mod ledger;
pub mod openapi;
pub mod results;

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::analyze::aggregate::{Aggregate, Aggregator};
use crate::analyze::api::Analyzer;
use crate::analyze::mapping::Mapper;
use crate::config::Config;
use crate::error::Error;
use crate::inputs;
use crate::model::InputFile;
use crate::model::api::ApiInput;
use crate::model::controls::ControlId;
use crate::model::coverage::CoverageSection;
use crate::request::ReportRequest;

/// What a suite left of its declared results: how many files of this run, and its `junit`
/// globs that matched none.
#[derive(Debug, Clone, Default)]
pub struct SuiteFound {
    pub files: usize,
    pub missing: Vec<String>,
}

/// Everything one run read from the outside world, as plain data: what the decision is a
/// function of (with the request and the config).
pub struct Gathered<'s> {
    pub started_at: DateTime<Utc>,
    /// Every JUnit case, mapped to controls and aggregated as it was read.
    pub aggregate: Aggregate,
    /// The JUnit files as read: path, SHA-256, size.
    pub inputs: Vec<InputFile>,
    /// Per `req.suites` entry: the result files of this run it left.
    pub suite_results: Vec<SuiteFound>,
    pub api: Option<GatheredApi<'s>>,
    pub coverage: Option<CoverageSection>,
    /// The checked-out commit, from git, when nothing else names it and the run is retained
    /// (the ledger entry needs its commit).
    pub head_sha: Option<String>,
    /// The ledger's base run and recent default-branch runs, when the run is retained and
    /// git can place it (`None`: no ledger to compare with).
    pub history: Option<crate::model::history::History>,
    /// Every input file read, with the path the report shows it under (lossy UTF-8) and the
    /// path it was read from: the evidence reads the files again from the latter.
    pub read_paths: Vec<(String, PathBuf)>,
}

/// The API descriptions, the requests and tagged tests streamed into the analyzer, and the
/// base run's API coverage from the ledger.
pub struct GatheredApi<'s> {
    pub analyzer: Analyzer<'s>,
    pub specs: &'s openapi::ApiSpecs,
    /// The HAR files and exchange logs read.
    pub exchanges: Vec<ApiInput>,
    /// `None`: no ledger to compare with.
    pub base: Option<ledger::ApiBase>,
}

/// The result files named on the command line (suites' files are found by [`gather`]).
pub fn junit_paths(req: &ReportRequest) -> Result<Vec<PathBuf>, Error> {
    if req.junit.is_empty() && req.suites.is_empty() {
        return Err(Error::Usage("no test results: pass --results <GLOB> (JUnit, TRX, NUnit, xUnit.net, go test -json, Dart or Mocha JSON)".into()));
    }
    if req.junit.is_empty() {
        return Ok(Vec::new());
    }
    Ok(inputs::expand(&req.junit, &req.workdir, "results")?)
}

/// Reads every input of the run. JUnit cases stream from the parser thread into the core's
/// aggregator (and the API analyzer) so a huge report is never held whole.
pub fn gather<'s>(
    req: &ReportRequest,
    config: &Config,
    mapper: &Mapper,
    junit_paths: Vec<PathBuf>,
    specs: Option<&'s openapi::ApiSpecs>,
    started_at: DateTime<Utc>,
    early_git: Option<(&coverage::CoverageRequest, coverage::PendingChanges<'_>)>,
) -> Result<Gathered<'s>, Error> {
    let mut analyzer = match specs {
        Some(s) => Some(Analyzer::new(&s.spec, &config.api)?),
        None => None,
    };
    let retained = req.evidence(config).is_some();
    let mut agg = Aggregator::new(mapper);
    if retained {
        // The ledger entry records every test by identity; later runs compare with it.
        agg = agg.with_index();
    }
    // Every result file with the controls its suite gives all its tests; suites first.
    let mut files: Vec<(PathBuf, Vec<(ControlId, String)>)> = Vec::new();
    let mut suite_results = Vec::new();
    for suite in &req.suites {
        // Each glob expanded once: its files of this run, or it is one that matched none.
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        for glob in &suite.junit {
            let fresh: Vec<PathBuf> =
                results::expand_lenient(std::slice::from_ref(glob), &suite.workdir)
                    .into_iter()
                    .filter(|p| !suite.stale.contains(p))
                    .collect();
            if fresh.is_empty() {
                missing.push(glob.clone());
            }
            for p in fresh {
                if !found.contains(&p) {
                    found.push(p);
                }
            }
        }
        suite_results.push(SuiteFound {
            files: found.len(),
            missing,
        });
        let defaults: Vec<(ControlId, String)> = suite
            .controls
            .iter()
            .map(|c| (*c, suite.record.name.clone()))
            .collect();
        files.extend(found.into_iter().map(|p| (p, defaults.clone())));
    }
    files.extend(junit_paths.into_iter().map(|p| (p, Vec::new())));
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    let displays: Vec<String> = paths
        .iter()
        .map(|p| inputs::display_path(p, &req.workdir))
        .collect();
    for ((_, defaults), d) in files.into_iter().zip(&displays) {
        agg.add_input(d.clone(), defaults);
    }
    let mut read_paths: Vec<(String, PathBuf)> = displays
        .iter()
        .cloned()
        .zip(paths.iter().cloned())
        .collect();
    // Small result files: the run's memory stays small whether freed pages are kept or not.
    let result_bytes = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    crate::allocator::before_results(result_bytes);
    let read = results::parse_result_files(&paths, &displays, &mut |case| {
        if let Some(a) = &mut analyzer {
            a.test_case(case);
        }
        agg.push_mut(case)
    })?;
    let input_files = read.files;
    let mut aggregate = agg.finish(&config.required_controls());
    // The test results are counted: what follows reuses the pages it frees.
    crate::allocator::reuse_freed_pages();
    // What was not read is said: a test's controls come from the properties read.
    use controlgate_core::ingest::junit::{
        MAX_CASE_PROPERTIES, MAX_SUITE_PROPERTIES, MAX_SUITE_PROPERTY_VALUE,
    };
    for (file, case, suite) in read.properties_dropped {
        if case > 0 {
            aggregate.warnings.push(format!(
                "{file}: {case} test properties not read (a test's first {MAX_CASE_PROPERTIES} \
                 properties and `[[PROPERTY|…]]` lines are read; its controls come from those)"
            ));
        }
        if suite > 0 {
            aggregate.warnings.push(format!(
                "{file}: {suite} suite properties not applied to their tests (the first \
                 {MAX_SUITE_PROPERTIES} of the enclosing suites, values up to \
                 {MAX_SUITE_PROPERTY_VALUE} bytes, are; the tests' controls come from those)"
            ));
        }
    }
    // A retained run compares its tests with the ledger's; without a store configured there
    // is no ledger (`None`). A store that cannot be read fails the run when a gate needs the
    // ledger (a delta, a gate on change); when only the summary's comparison would, the
    // comparison says why it is missing and the verdict stands (retaining fails visibly later).
    use crate::config::{FailOn, FlakyPolicy};
    let gates_need_ledger = specs.is_some()
        || (!req.coverage.is_empty() && req.base_coverage.is_empty())
        || config
            .controls
            .no_evidence_loss
            .as_ref()
            .is_some_and(|g| g.value)
        || config.tests.fail_on == FailOn::Regressions
        || config.tests.flaky == FlakyPolicy::Quarantine;
    let unreadable = |e: Error| crate::model::coverage::BaseUnavailable {
        reason: format!("the evidence store could not be read: {e}"),
        untrusted: false,
    };
    let ledger = match ledger::open_ledger(config, req) {
        Err(e) if !gates_need_ledger => Some(ledger::LedgerState::Unavailable(unreadable(e))),
        other => other?,
    };
    let history = match (&ledger, &aggregate.index) {
        (Some(l), Some(index)) => match l.history(config, index) {
            Err(e) if !gates_need_ledger => Some(crate::model::history::History {
                base: Err(unreadable(e)),
                recent: Vec::new(),
            }),
            other => Some(other?),
        },
        _ => None,
    };
    let api = match (analyzer, specs) {
        (Some(mut analyzer), Some(specs)) => {
            for doc in std::iter::once(&specs.spec)
                .chain(&specs.base)
                .flat_map(|s| &s.docs)
            {
                read_paths.push((
                    inputs::display_path(&doc.path, &req.workdir),
                    doc.path.clone(),
                ));
            }
            let exchanges = openapi::read_exchanges(&mut analyzer, req, &mut read_paths)?;
            Some(GatheredApi {
                analyzer,
                specs,
                exchanges,
                base: ledger.as_ref().map(ledger::api_base).transpose()?,
            })
        }
        _ => None,
    };
    let coverage = coverage::section(config, req, ledger.as_ref(), early_git, &mut read_paths)?;
    let known_head = req
        .identity
        .as_ref()
        .and_then(|i| i.head_sha.as_ref())
        .is_some()
        || coverage
            .as_ref()
            .and_then(|c| c.refs.head_sha.as_ref())
            .is_some();
    let head_sha = if !known_head && retained {
        crate::git::head_sha(req.repo.as_deref().unwrap_or(&req.workdir))
    } else {
        None
    };
    Ok(Gathered {
        started_at,
        aggregate,
        inputs: input_files,
        suite_results,
        api,
        coverage,
        head_sha,
        history,
        read_paths,
    })
}
