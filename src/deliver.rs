//! DELIVER: the decided run rendered (Markdown summary, report.json) and retained (the evidence
//! bundle and its ledger entry). Publishing to GitHub and the trackers is the Action's.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::decide::Decided;
use crate::error::{Error, ExitCode};
use crate::gather::ledger::LEDGER_INPUT_PREFIX;
use crate::inputs;
use crate::model::report::{Report, Verdict};
use crate::render;
use crate::request::ReportRequest;
use crate::tickets;

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
    /// Every test by identity, for the ledger entry (`None`: not retained).
    pub tests: Option<crate::model::history::RecordedTests>,
    /// Where the report's inputs were read from, unredacted.
    pub sources: crate::decide::InputSources,
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

/// Renders the decided run: the Markdown summary within the request's budget, its coverage,
/// API and ticket sections, and the evidence configuration it will be retained under.
pub fn render(req: &ReportRequest, config: &Config, decided: Decided) -> ReportOutput {
    let Decided {
        report,
        redactor,
        tests,
        sources,
    } = decided;
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
    if let Some(c) = &report.changes {
        let section = render::changes::render_changes(c, req.markdown_budget / 5);
        if !section.is_empty() {
            extra.push(section);
        }
    }
    let markdown = render::markdown::render(&report, &opts, &extra);
    ReportOutput {
        report,
        markdown,
        evidence: req.evidence(config),
        redactor,
        tests,
        sources,
    }
}

/// What [`retain_evidence`] needs besides the decided report.
#[derive(Debug, Clone)]
pub struct EvidenceRequest {
    pub evidence: crate::retain::EvidenceConfig,
    /// Base for relative store paths (the repository root).
    pub base_dir: PathBuf,
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
    let mut kept: Vec<PathBuf> = Vec::new();
    // Redacted copies of inputs that held secrets; they must outlive the bundle's write.
    let mut copies: Vec<tempfile::NamedTempFile> = Vec::new();
    // Hashes an input again for the bundle (it is streamed into the store later, not read
    // into memory); with a recorded digest it must still match it. An input holding secrets
    // goes in as a redacted copy.
    // `given` is the path as the report shows it (redacted), the name inside the bundle;
    // `source` where it was read from. Two sources whose names redact alike are kept apart.
    let mut keep = |given: &str, source: &Path, sha256: Option<&str>| -> Result<(), Error> {
        if kept.iter().any(|s| s == source) {
            return Ok(());
        }
        kept.push(source.to_owned());
        let mut name = given.to_owned();
        let mut n = 1;
        while files.iter().any(|(p, _)| *p == name) {
            n += 1;
            name = format!("{given}~{n}");
        }
        let given = name.as_str();
        let path = req.workdir.join(source);
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
    // Taken in the order `InputSources` lists them.
    let mut sources = out.sources.0.iter();
    let mut source = |given: &str| -> PathBuf {
        sources
            .next()
            .cloned()
            .unwrap_or_else(|| PathBuf::from(given))
    };
    for input in &report.inputs {
        let from = source(&input.path);
        keep(&input.path, &from, Some(&input.sha256))?;
    }
    if let Some(cov) = &report.coverage {
        for input in &cov.inputs {
            let from = source(&input.path);
            // Base reports taken from the ledger (`ledger#N/...`) are already in entry N's
            // bundle.
            // Compared as bytes: `Path::starts_with` compares whole components.
            let from_ledger = from
                .as_os_str()
                .as_encoded_bytes()
                .starts_with(LEDGER_INPUT_PREFIX.as_bytes());
            if !from_ledger {
                keep(&input.path, &from, input.sha256.as_deref())?;
            }
        }
    }
    if let Some(api) = &report.api {
        // A base description read from git (no --api-base-spec) is not a file in the working
        // tree; its digest in report.json and the merge-base SHA identify it.
        let base_from_git = req.api_base_spec.is_empty();
        for input in &api.inputs {
            let from = source(&input.path);
            if !(input.kind == "base_spec" && base_from_git) {
                keep(&input.path, &from, Some(&input.sha256))?;
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
        tests: out
            .tests
            .as_ref()
            .map(crate::retain::tests_record::TestsRecord::encode),
        identity,
    };
    let ctx = crate::retain::OpenContext {
        base_dir: ev.base_dir.clone(),
        repository: crate::retain::store_repository(bundle.identity.repository.as_deref()),
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
