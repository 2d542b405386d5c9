//! DECIDE: the run's verdict as a pure function of the request, the config and what was
//! gathered — redaction, every gate, the sections and the report. No I/O, no clock.

use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::analyze::{api, coverage, gates};
use crate::config::Config;
use crate::error::Error;
use crate::gather::ledger::ApiBase;
use crate::gather::{Gathered, SuiteFound};
use crate::model::api::ApiSection;
use crate::model::coverage::CoverageRefs;
use crate::model::report::{Report, SCHEMA_VERSION, Tool};
use crate::model::run::RunIdentity;
use crate::request::{ReportRequest, SuiteInput};
use crate::tickets;

/// The decided run: the report (redacted) and the redaction that made it, which the evidence
/// bundle's copies of raw inputs go through too.
pub struct Decided {
    pub report: Report,
    pub redactor: crate::redact::Redactor,
    /// Every test by identity, for the ledger entry (`None`: the run is not retained).
    pub tests: Option<crate::model::history::RecordedTests>,
    /// The paths of the report's inputs as read, before redaction (a directory may be named
    /// like a token): see [`InputSources`].
    pub sources: InputSources,
}

/// The paths every input of a report was read from, in the report's order (its results
/// inputs, then coverage's, then the API's): the report shows them redacted, the evidence
/// reads the files again from these.
///
/// They are the paths as read (`OsString`s), not the report's text: a name that is not UTF-8
/// shows with `U+FFFD` in the report, and no file has that name.
#[derive(Debug, Clone, Default)]
pub struct InputSources(pub Vec<PathBuf>);

impl InputSources {
    /// Each input's display path (before redaction) matched to the file it was read from
    /// (`read`: every file gathered, with its display path, in reading order). Inputs that
    /// were not read from a file here (a base report from the ledger, `ledger#N/...`) keep
    /// their display path.
    fn of(report: &Report, read: &[(String, PathBuf)]) -> Self {
        let mut shown: Vec<&str> = report.inputs.iter().map(|i| i.path.as_str()).collect();
        if let Some(c) = &report.coverage {
            shown.extend(c.inputs.iter().map(|i| i.path.as_str()));
        }
        if let Some(a) = &report.api {
            shown.extend(a.inputs.iter().map(|i| i.path.as_str()));
        }
        // Two files whose names differ only in bytes that are not UTF-8 show alike: each
        // display takes the next file read under it, so each input keeps its own file.
        let mut taken = vec![false; read.len()];
        let paths = shown
            .into_iter()
            .map(|display| {
                let found = read
                    .iter()
                    .zip(taken.iter_mut())
                    .find(|((d, _), taken)| !**taken && d == display);
                match found {
                    Some(((_, path), taken)) => {
                        *taken = true;
                        path.clone()
                    }
                    None => PathBuf::from(display),
                }
            })
            .collect();
        InputSources(paths)
    }
}

/// Decides the run. `finished_at` is when the decision was taken (the identity's end time).
pub fn decide(
    req: &ReportRequest,
    config: &Config,
    gathered: Gathered<'_>,
    finished_at: DateTime<Utc>,
) -> Result<Decided, Error> {
    let Gathered {
        started_at,
        mut aggregate,
        inputs,
        suite_results,
        api: gathered_api,
        coverage: coverage_section,
        head_sha,
        history,
        read_paths,
    } = gathered;
    // Compared by identity before names are redacted (identities are of the names as read).
    let comparison = history
        .as_ref()
        .and_then(|h| crate::analyze::changes::compare(&aggregate, h));
    let tests = aggregate
        .index
        .take()
        .map(|index| index.record((&aggregate.totals).into()));
    // Redact before anything is rendered, posted or stored.
    let redactor = crate::redact::Redactor::new(req.secrets.values(), &config.redact.patterns)?;
    let mut redactions = redact_aggregate(&redactor, &mut aggregate);
    let mut gate_list = gates::evaluate(config, &aggregate, comparison.as_ref());
    for (suite, found) in req.suites.iter().zip(&suite_results) {
        gate_list.push(suite_gate(suite, found));
    }
    let api_section = gathered_api.map(|g| {
        let specs = g.specs;
        let mut api_inputs = specs.inputs.clone();
        api_inputs.extend(g.exchanges);
        let mut section = g.analyzer.finish(specs.base.as_ref(), api_inputs);
        section.base = specs.base_label.clone();
        section.warnings.extend(specs.notes.iter().cloned());
        if let Some(base) = g.base {
            api_delta(&mut section, base);
        }
        let drift_note = specs.notes.first().map(String::as_str);
        gate_list.extend(api::gates(&config.api, &mut section, drift_note));
        section
    });
    if let Some(legs) = &req.legs {
        gate_list.push(gates::legs_gate(legs));
        // A merge: the legs it expects must all be there (no gate without `expect:`).
        if let Some(expect) = &config.expect {
            gate_list.push(gates::expect_gate(expect, legs));
        }
    }
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
    let (this_coverage, totals) = (
        section_coverage(coverage_section.as_ref()),
        aggregate.totals.clone(),
    );
    let run = run_identity(
        req,
        config,
        [started_at, finished_at],
        coverage_section.as_ref().map(|c| &c.refs),
        head_sha,
    );
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool::default(),
        generated_at: req.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        verdict,
        inputs,
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
        changes: comparison.map(|c| {
            let mut section = c.section;
            if let Some(h) = &history {
                section.trend = crate::analyze::changes::trend(&h.recent, this_coverage, &totals);
            }
            section
        }),
        redactions: None,
    };
    let sources = InputSources::of(&report, &read_paths);
    // Everything else that came from input (coverage and HAR paths, suite commands, ticket
    // texts, gate details quoting them) before anything is rendered, posted or stored.
    report.redact_sections(&redactor, &mut redactions);
    report.redactions = Some(redactions);
    Ok(Decided {
        report,
        redactor,
        tests,
        sources,
    })
}

/// This run's project line coverage in percent, when measured.
fn section_coverage(c: Option<&crate::model::coverage::CoverageSection>) -> Option<f64> {
    c.and_then(|c| c.head.percent).map(|p| p.as_f64())
}

/// The identity recorded in the report: what the caller knows (env, event) plus the times,
/// the controlgate version and the SHA-256 of the config file that decided the gates.
fn run_identity(
    req: &ReportRequest,
    config: &Config,
    [started_at, finished_at]: [DateTime<Utc>; 2],
    coverage_refs: Option<&CoverageRefs>,
    head_sha: Option<String>,
) -> RunIdentity {
    let mut id = req.identity.clone().unwrap_or_default();
    let rfc3339 = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    id.started_at.get_or_insert_with(|| rfc3339(started_at));
    id.finished_at = Some(rfc3339(finished_at));
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
    if id.head_sha.is_none() {
        // Retained without coverage (JUnit, API): the entry still needs its commit.
        id.head_sha = head_sha;
    }
    id.config_digest.clone_from(&config.digest);
    id
}

/// API coverage against the base run's in the ledger: sets `delta_pp` and `delta_base`, or
/// says in a warning why there is no delta.
fn api_delta(section: &mut ApiSection, base: ApiBase) {
    match base {
        ApiBase::Found { percent, label } => {
            // Both at two decimals (the ledger keeps the base so): in hundredths, so an
            // unchanged coverage is 0, not a float's remainder.
            let hundredths = |p: f64| (p * 100.0).round();
            section.delta_pp =
                Some((hundredths(section.coverage.percent) - hundredths(percent)) / 100.0);
            section.delta_base = Some(label);
        }
        ApiBase::Missing(note) => section
            .warnings
            .push(format!("API coverage delta: no base: {note}")),
    }
}

/// Redacts every text of the aggregate that came from a test run: messages, names, suites,
/// file paths, unknown tags and warnings.
pub fn redact_aggregate(
    redactor: &crate::redact::Redactor,
    aggregate: &mut crate::analyze::aggregate::Aggregate,
) -> crate::redact::Redactions {
    // The kept cases of a large run are thousands of messages; the parser's thread is done by
    // now, so the two halves are redacted side by side.
    let redact_cases = |cases: &mut [crate::model::report::CaseReport]| {
        let mut counts = crate::redact::Redactions::default();
        for c in cases {
            let names = [
                c.id.as_str(),
                &c.suite,
                &c.classname,
                &c.name,
                c.file.as_deref().unwrap_or(""),
                c.location.as_ref().map_or("", |l| l.file.as_str()),
            ];
            if redactor.may_change_any(&names) {
                for s in [&mut c.id, &mut c.suite, &mut c.classname, &mut c.name] {
                    redactor.apply(s, &mut counts);
                }
                if let Some(f) = &mut c.file {
                    redactor.apply(f, &mut counts);
                }
                if let Some(l) = &mut c.location {
                    redactor.apply(&mut l.file, &mut counts);
                }
            }
            if let Some(m) = &mut c.message {
                // Redacted whole (the parser kept twice the limit), then cut: a secret that the
                // cut goes through is never left half shown.
                redactor.apply(m, &mut counts);
                crate::model::Message::cut(m);
            }
        }
        counts
    };
    let half = aggregate.cases.len() / 2;
    let mut counts = if half < 256 {
        redact_cases(&mut aggregate.cases)
    } else {
        let (first, second) = aggregate.cases.split_at_mut(half);
        std::thread::scope(|scope| {
            let other = scope.spawn(|| redact_cases(second));
            let mut counts = redact_cases(first);
            // A panic in the other half is a bug; it is raised here rather than lost.
            let other = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            counts.merge(&other);
            counts
        })
    };
    // The input of every unknown tag from one file is the same path: redacted once.
    let mut inputs: std::collections::HashMap<String, (String, crate::redact::Redactions)> =
        std::collections::HashMap::new();
    for t in &mut aggregate.unknown_tags {
        redactor.apply(&mut t.tag, &mut counts);
        redactor.apply(&mut t.test, &mut counts);
        if !inputs.contains_key(&t.input) {
            let mut found = crate::redact::Redactions::default();
            let redacted = redactor.redact(&t.input, &mut found).into_owned();
            inputs.insert(t.input.clone(), (redacted, found));
        }
        let (redacted, found) = &inputs[&t.input];
        counts.merge(found);
        if *redacted != t.input {
            t.input.clone_from(redacted);
        }
    }
    for w in &mut aggregate.warnings {
        redactor.apply(w, &mut counts);
    }
    counts
}

/// `suite:<name>`: fails when the suite left no results of this run (whatever its exit
/// status; files an earlier run left are not its results), left none for one of its `junit`
/// or `coverage` globs (part of its evidence is missing: a crashed half, a report not
/// written) or timed out; a non-zero exit with all its results is left to the test gates
/// (test runners exit non-zero when a test fails).
fn suite_gate(suite: &SuiteInput, found: &SuiteFound) -> crate::model::report::Gate {
    use crate::model::gate::{Check, Gate, GatePolicy};
    let (r, junit, files, stale) = (&suite.record, &suite.junit, found.files, suite.stale.len());
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
    let check = if !r.wrote_file_commands.is_empty() {
        // The step's outputs, environment or summary are controlgate's to write: a suite that
        // wrote them (a forged `verdict=pass`) fails, whatever its results say.
        Check::Broken(format!(
            "suite `{}` {how} and wrote to the runner's file commands ({}), which only \
             controlgate writes in its step; they were put back as they were{ignored}",
            r.name,
            r.wrote_file_commands.join(", ")
        ))
    } else if r.timed_out {
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
    } else if !found.missing.is_empty() || !suite.missing_coverage.is_empty() {
        let quoted = |globs: &[String]| {
            globs
                .iter()
                .map(|g| format!("`{g}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut left = Vec::new();
        if !found.missing.is_empty() {
            left.push(format!(
                "no JUnit results matching {}",
                quoted(&found.missing)
            ));
        }
        if !suite.missing_coverage.is_empty() {
            left.push(format!(
                "no coverage report matching {}",
                quoted(&suite.missing_coverage)
            ));
        }
        Check::Broken(format!(
            "suite `{}` {how} and left {} (its other globs matched {files} result file(s)): \
             part of its evidence is missing{ignored}",
            r.name,
            left.join(" and ")
        ))
    } else {
        Check::Held(format!(
            "suite `{}` {how} in {:.1}s; {files} result file(s){ignored}",
            r.name, r.duration_s
        ))
    };
    Gate::decide(format!("suite:{}", r.name), GatePolicy::STRICT, check)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::aggregate::Aggregator;
    use crate::analyze::mapping::Mapper;
    use crate::model::report::Verdict;

    const JUNIT: &str = r#"<testsuite name="s">
  <testcase classname="auth" name="login [cc6-1]"/>
  <testcase classname="auth" name="logout [cc6-1]">
    <failure message="token=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB leaked"/>
  </testcase>
</testsuite>"#;

    /// An unchanged API coverage of 1 in 3 operations is no change: the ledger keeps the base
    /// at two decimals (33.33), and the exact head ratio gave -0.0033 pp.
    #[test]
    fn an_unchanged_api_coverage_has_no_delta() {
        let mut section = crate::model::api::ApiSection {
            coverage: crate::model::api::CoverageCount::new(3, 1),
            ..Default::default()
        };
        api_delta(
            &mut section,
            ApiBase::Found {
                percent: 33.33,
                label: "ledger entry #1".into(),
            },
        );
        assert_eq!(section.coverage.percent, 33.33);
        assert_eq!(section.delta_pp, Some(0.0));
        let mut up = crate::model::api::ApiSection {
            coverage: crate::model::api::CoverageCount::new(3, 2),
            ..Default::default()
        };
        api_delta(
            &mut up,
            ApiBase::Found {
                percent: 33.33,
                label: "ledger entry #1".into(),
            },
        );
        assert_eq!(up.delta_pp, Some(33.34));
    }

    /// What gather would have produced for `JUNIT`, built from bytes in memory.
    fn gathered(config: &Config) -> Gathered<'static> {
        let mapper = Mapper::new(config).unwrap();
        let mut agg = Aggregator::new(&mapper);
        agg.add_input("junit.xml".into(), Vec::new());
        crate::ingest::junit::parse(&mut JUNIT.as_bytes(), 0, &mut |c| agg.push(c)).unwrap();
        Gathered {
            started_at: DateTime::UNIX_EPOCH,
            aggregate: agg.finish(&config.required_controls()),
            inputs: Vec::new(),
            suite_results: Vec::new(),
            api: None,
            coverage: None,
            head_sha: Some("0123abcd".into()),
            history: None,
            read_paths: Vec::new(),
        }
    }

    #[test]
    fn every_kept_case_is_redacted_when_the_halves_run_side_by_side() {
        // Enough failing cases for the two-thread path, a token in each: every one redacted,
        // every one counted, the order kept.
        let config = Config::default();
        let mapper = Mapper::new(&config).unwrap();
        let mut agg = Aggregator::new(&mapper);
        agg.add_input("junit.xml".into(), Vec::new());
        let n = 1001;
        let mut junit = String::from("<testsuite name=\"s\">");
        for i in 0..n {
            junit.push_str(&format!(
                "<testcase classname=\"c\" name=\"t{i}\"><failure message=\"token=\
                 ghp_0123456789abcdefghijklmnopqrstuvwxyzAB at {i}\"/></testcase>"
            ));
        }
        junit.push_str("</testsuite>");
        crate::ingest::junit::parse(&mut junit.as_bytes(), 0, &mut |c| agg.push(c)).unwrap();
        let mut aggregate = agg.finish(&[]);
        let redactor = crate::redact::Redactor::new(&[], &[]).unwrap();
        let counts = redact_aggregate(&redactor, &mut aggregate);
        assert_eq!(counts.total, n);
        assert_eq!(aggregate.cases.len(), n as usize);
        for (i, c) in aggregate.cases.iter().enumerate() {
            let m = c.message.as_deref().unwrap();
            assert!(!m.contains("ghp_0123"), "{m}");
            assert!(m.ends_with(&format!(" at {i}")), "{m}");
        }
    }

    #[test]
    fn the_decision_is_a_function_of_the_gathered_data() {
        let config = Config::default();
        let req = ReportRequest::new(vec!["junit.xml".into()], "/nonexistent".into());
        let at = DateTime::UNIX_EPOCH;
        let one = decide(&req, &config, gathered(&config), at).unwrap();
        let two = decide(&req, &config, gathered(&config), at).unwrap();
        // Nothing read from the machine: the same data decides the same report, byte for byte.
        assert_eq!(
            crate::render::json(&one.report),
            crate::render::json(&two.report)
        );
        assert_eq!(
            one.report.verdict,
            Verdict::Fail,
            "a failing test fails the run"
        );
        assert_eq!(one.report.tests.failed, 1);
        let run = one.report.run.as_ref().unwrap();
        assert_eq!(run.head_sha.as_deref(), Some("0123abcd"));
        assert_eq!(run.finished_at.as_deref(), Some("1970-01-01T00:00:00Z"));
        // Redaction is part of the decision: the token in the failure message never reaches
        // the report.
        let json = crate::render::json(&one.report);
        assert!(!json.contains("ghp_0123456789"), "{json}");
    }
}
