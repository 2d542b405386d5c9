//! The audit's data and its text renderings: the period's runs per control and per change,
//! the sample, the population's exceptions (`build_audit`, pure), and Markdown, CSV and JSON
//! (pure functions returning `String`). `audit` gathers and renders; `audit_html` is the HTML.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::bundle::ControlSummary;
use super::ledger::Entry;
use super::population::{self, Population, PopulationReport};
use super::prng::sample_indices;
pub use super::run_ref::{RunRef, run_ref};
use super::verify::Problem;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditFormat {
    #[default]
    Markdown,
    Csv,
    Json,
    /// One self-contained HTML file (`audit_html`).
    Html,
}

impl std::str::FromStr for AuditFormat {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "markdown" | "md" => Ok(AuditFormat::Markdown),
            "csv" => Ok(AuditFormat::Csv),
            "json" => Ok(AuditFormat::Json),
            "html" => Ok(AuditFormat::Html),
            other => Err(crate::error::Error::Usage(format!(
                "unknown audit format {other:?} (expected markdown, csv, json or html)"
            ))),
        }
    }
}

/// The period and filters of an audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// First day (UTC), inclusive.
    pub from: NaiveDate,
    /// Last day (UTC), inclusive.
    pub to: NaiveDate,
    /// Only this control (matched case- and punctuation-insensitively: `cc8-1` ≡ `CC8.1`).
    pub control: Option<String>,
    /// A reproducible random sample of `n` runs drawn with `seed`.
    pub sample: Option<(usize, u64)>,
    /// The period's changes as the forge lists them (`--population github`): joined with the
    /// ledger, every change it cannot account for is reported as an exception.
    pub population: Option<Population>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerState {
    pub location: String,
    pub intact: bool,
    pub entries: u64,
    pub bundles_checked: u64,
    pub tip_seq: Option<u64>,
    pub tip_digest: Option<String>,
    pub problem: Option<Problem>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlRow {
    pub id: String,
    /// Runs in the period that reported the control.
    pub runs: u64,
    pub passing_runs: u64,
    pub failing_runs: u64,
    pub untested_runs: u64,
    /// Most tests evidencing the control in one run.
    pub tests_max: u64,
    /// Tests evidencing it in the last run of the period.
    pub tests_last: u64,
    pub last_failure: Option<RunRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeRow {
    /// `PR #12`, or the commit for runs outside a PR.
    pub change: String,
    pub pr: Option<u64>,
    pub runs: u64,
    pub tickets: Vec<String>,
    /// The last run of the change.
    pub last: RunRef,
    pub coverage_delta_pp: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSection {
    pub n: usize,
    pub seed: u64,
    pub population: usize,
    pub runs: Vec<RunRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    pub from: String,
    pub to: String,
    pub control: Option<String>,
    pub ledger: LedgerState,
    pub runs: u64,
    pub passing_runs: u64,
    pub failing_runs: u64,
    pub controls: Vec<ControlRow>,
    pub changes: Vec<ChangeRow>,
    pub sample: Option<SampleSection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub population: Option<PopulationReport>,
}

/// `CC8.1`, `cc8-1`, `cc8_1` → `CC81`.
pub fn normalize_control(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The entries of the period (by `time`, UTC days inclusive) that are in scope: with
/// `--control`, only runs that reported it. In ledger order.
pub fn in_scope<'a>(entries: &'a [Entry], query: &AuditQuery) -> Vec<&'a Entry> {
    let want = query.control.as_deref().map(normalize_control);
    entries
        .iter()
        .filter(|e| e.date().is_some_and(|d| d >= query.from && d <= query.to))
        .filter(|e| want.is_none() || scoped_controls(e, want.as_deref()).next().is_some())
        .collect()
}

/// The controls `e` reported that are in scope (`want`: one normalised id, or every control),
/// each with its normalised id.
pub fn scoped_controls<'e>(
    e: &'e Entry,
    want: Option<&'e str>,
) -> impl Iterator<Item = (String, &'e ControlSummary)> + 'e {
    e.controls
        .iter()
        .map(|c| (normalize_control(&c.id), c))
        .filter(move |(key, _)| want.is_none_or(|w| w == key))
}

/// The audit of `entries` (in ledger order) for `query`. Pure.
pub fn build_audit(
    entries: &[Entry],
    ledger: LedgerState,
    query: &AuditQuery,
    locate: &dyn Fn(&str) -> String,
) -> AuditReport {
    let want = query.control.as_deref().map(normalize_control);
    let in_period = in_scope(entries, query);

    let mut controls: Vec<ControlRow> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut changes: Vec<ChangeRow> = Vec::new();
    let mut change_index: HashMap<String, usize> = HashMap::new();
    let (mut passing, mut failing) = (0, 0);
    for e in &in_period {
        match e.verdict.as_str() {
            "pass" => passing += 1,
            "fail" => failing += 1,
            _ => {}
        }
        for (key, c) in scoped_controls(e, want.as_deref()) {
            let i = *index.entry(key).or_insert_with(|| {
                controls.push(ControlRow {
                    id: c.id.clone(),
                    runs: 0,
                    passing_runs: 0,
                    failing_runs: 0,
                    untested_runs: 0,
                    tests_max: 0,
                    tests_last: 0,
                    last_failure: None,
                });
                controls.len() - 1
            });
            let row = &mut controls[i];
            row.runs += 1;
            match c.status.as_str() {
                "pass" => row.passing_runs += 1,
                "fail" => {
                    row.failing_runs += 1;
                    row.last_failure = Some(run_ref(e, locate));
                }
                _ => row.untested_runs += 1,
            }
            row.tests_max = row.tests_max.max(c.tests);
            row.tests_last = c.tests;
        }
        let (key, label) = match (e.run.pr_number, &e.run.head_sha) {
            (Some(pr), _) => (format!("PR #{pr}"), format!("PR #{pr}")),
            (None, Some(sha)) => (
                format!("commit {sha}"),
                format!("commit {}", sha.get(..12).unwrap_or(sha)),
            ),
            (None, None) => (format!("run {}", e.seq), format!("run {}", e.seq)),
        };
        let i = *change_index.entry(key).or_insert_with(|| {
            changes.push(ChangeRow {
                change: label,
                pr: e.run.pr_number,
                runs: 0,
                tickets: Vec::new(),
                last: run_ref(e, locate),
                coverage_delta_pp: None,
            });
            changes.len() - 1
        });
        let row = &mut changes[i];
        row.runs += 1;
        for t in &e.tickets {
            if !row.tickets.contains(t) {
                row.tickets.push(t.clone());
            }
        }
        row.last = run_ref(e, locate);
        row.coverage_delta_pp = e
            .coverage
            .as_ref()
            .and_then(|c| c.delta_pp)
            .map(|d| d.as_f64());
    }
    controls.sort_by(|a, b| a.id.cmp(&b.id));

    let sample = query.sample.map(|(n, seed)| SampleSection {
        n,
        seed,
        population: in_period.len(),
        runs: sample_indices(in_period.len(), n, seed)
            .into_iter()
            .map(|i| run_ref(in_period[i], locate))
            .collect(),
    });

    AuditReport {
        from: query.from.to_string(),
        to: query.to.to_string(),
        control: query.control.clone(),
        ledger,
        runs: in_period.len() as u64,
        passing_runs: passing,
        failing_runs: failing,
        controls,
        changes,
        sample,
        population: query
            .population
            .as_ref()
            .map(|p| population::join(&p.changes, &p.repository, entries, &p.source, locate)),
    }
}

/// Escapes text for a Markdown table cell.
pub fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '`' => out.push_str("\\`"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Quotes a CSV field (RFC 4180), and defuses spreadsheet formulas in text fields.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(String::new, ToString::to_string)
}

fn pp(v: Option<f64>) -> String {
    v.map_or_else(String::new, |d| format!("{d:+.2}"))
}

pub fn render_markdown(r: &AuditReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Evidence audit {} to {}",
        md_cell(&r.from),
        md_cell(&r.to)
    );
    if let Some(c) = &r.control {
        let _ = writeln!(s, "\nControl: {}", md_cell(c));
    }
    let l = &r.ledger;
    let _ = writeln!(s);
    if l.intact {
        let bundles = if l.bundles_checked > 0 {
            format!("{} bundles", l.bundles_checked)
        } else {
            "no bundles (not re-hashed)".to_string()
        };
        let _ = writeln!(
            s,
            "Ledger **intact**: {} entries (hash chain) and {bundles} verified at {} (tip {} `{}`).",
            l.entries,
            md_cell(&l.location),
            opt(&l.tip_seq),
            opt(&l.tip_digest)
        );
    } else {
        let msg = l.problem.as_ref().map_or("", |p| p.message.as_str());
        let _ = writeln!(
            s,
            "Ledger **NOT intact** at {}: {}",
            md_cell(&l.location),
            md_cell(msg)
        );
    }
    let _ = writeln!(
        s,
        "\n{} runs in the period: {} passing, {} failing.",
        r.runs, r.passing_runs, r.failing_runs
    );
    let _ = writeln!(s, "\n## Controls\n");
    let _ = writeln!(
        s,
        "| Control | Runs | Passing | Failing | Untested | Tests (max) | Tests (last) | Last failure |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---|");
    for c in &r.controls {
        let last = c.last_failure.as_ref().map_or_else(
            || "none".to_string(),
            |f| {
                format!(
                    "#{} {} {}",
                    f.seq,
                    md_cell(&f.time),
                    md_cell(&opt(&f.head_sha))
                )
            },
        );
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            md_cell(&c.id),
            c.runs,
            c.passing_runs,
            c.failing_runs,
            c.untested_runs,
            c.tests_max,
            c.tests_last,
            last
        );
    }
    let _ = writeln!(s, "\n## Changes\n");
    let _ = writeln!(
        s,
        "| Change | Runs | Tickets | Verdict | Coverage Δ (pp) | Entry | Bundle | Location |"
    );
    let _ = writeln!(s, "|---|---:|---|---|---:|---:|---|---|");
    for c in &r.changes {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            md_cell(&c.change),
            c.runs,
            md_cell(&c.tickets.join(", ")),
            md_cell(&c.last.verdict),
            pp(c.coverage_delta_pp),
            c.last.seq,
            md_cell(&c.last.bundle),
            md_cell(&c.last.location)
        );
    }
    if let Some(sample) = &r.sample {
        let _ = writeln!(
            s,
            "\n## Sample\n\n{} of {} runs, seed {}. Open `manifest.json` in each bundle location; every file's SHA-256 is listed there, and the bundle digest is the SHA-256 of the manifest.\n",
            sample.runs.len(),
            sample.population,
            sample.seed
        );
        let _ = writeln!(
            s,
            "| Entry | Time | Verdict | PR | Commit | Run | Bundle | Location |"
        );
        let _ = writeln!(s, "|---:|---|---|---:|---|---|---|---|");
        for run in &sample.runs {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                run.seq,
                md_cell(&run.time),
                md_cell(&run.verdict),
                opt(&run.pr),
                md_cell(&opt(&run.head_sha)),
                md_cell(&opt(&run.run_url)),
                md_cell(&run.bundle),
                md_cell(&run.location)
            );
        }
    }
    if let Some(p) = &r.population {
        let _ = writeln!(
            s,
            "\n## Population ({})\n\n{} changes reached the branch in the period ({} pull requests, {} direct pushes); {} have ledger evidence. {} exception(s).\n",
            md_cell(&p.source),
            p.changes,
            p.pull_requests,
            p.direct_pushes,
            p.with_evidence,
            p.exceptions.len()
        );
        if !p.exceptions.is_empty() {
            let _ = writeln!(s, "| Exception | Change | Merged | Title | Detail |");
            let _ = writeln!(s, "|---|---|---|---|---|");
            for e in &p.exceptions {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} |",
                    e.kind.as_str(),
                    md_cell(&population::change_label(&e.change)),
                    md_cell(&e.change.merged_at),
                    md_cell(&e.change.title),
                    md_cell(&e.detail)
                );
            }
        }
    }
    s
}

/// CSV: blank-line separated tables (`ledger`, `controls`, `changes`, `sample`,
/// `population_exception`), each with a
/// header row whose first cell names the table.
pub fn render_csv(r: &AuditReport) -> String {
    let mut s = String::new();
    let mut row = |cells: &[String]| {
        let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        s.push_str(&line.join(","));
        s.push_str("\r\n");
    };
    let l = &r.ledger;
    row(&[
        "ledger".into(),
        "from".into(),
        "to".into(),
        "control".into(),
        "intact".into(),
        "entries".into(),
        "tip_seq".into(),
        "tip_digest".into(),
        "problem".into(),
        "runs".into(),
        "passing_runs".into(),
        "failing_runs".into(),
    ]);
    row(&[
        l.location.clone(),
        r.from.clone(),
        r.to.clone(),
        opt(&r.control),
        l.intact.to_string(),
        l.entries.to_string(),
        opt(&l.tip_seq),
        opt(&l.tip_digest),
        l.problem
            .as_ref()
            .map_or_else(String::new, |p| p.message.clone()),
        r.runs.to_string(),
        r.passing_runs.to_string(),
        r.failing_runs.to_string(),
    ]);
    row(&[]);
    row(&[
        "control".into(),
        "runs".into(),
        "passing_runs".into(),
        "failing_runs".into(),
        "untested_runs".into(),
        "tests_max".into(),
        "tests_last".into(),
        "last_failure_seq".into(),
        "last_failure_time".into(),
        "last_failure_commit".into(),
        "last_failure_bundle".into(),
    ]);
    for c in &r.controls {
        let f = c.last_failure.as_ref();
        row(&[
            c.id.clone(),
            c.runs.to_string(),
            c.passing_runs.to_string(),
            c.failing_runs.to_string(),
            c.untested_runs.to_string(),
            c.tests_max.to_string(),
            c.tests_last.to_string(),
            f.map_or_else(String::new, |f| f.seq.to_string()),
            f.map_or_else(String::new, |f| f.time.clone()),
            f.map_or_else(String::new, |f| opt(&f.head_sha)),
            f.map_or_else(String::new, |f| f.bundle.clone()),
        ]);
    }
    row(&[]);
    row(&[
        "change".into(),
        "pr".into(),
        "runs".into(),
        "tickets".into(),
        "verdict".into(),
        "coverage_delta_pp".into(),
        "seq".into(),
        "time".into(),
        "commit".into(),
        "bundle".into(),
        "location".into(),
    ]);
    for c in &r.changes {
        row(&[
            c.change.clone(),
            opt(&c.pr),
            c.runs.to_string(),
            c.tickets.join(" "),
            c.last.verdict.clone(),
            c.coverage_delta_pp
                .map_or_else(String::new, |d| d.to_string()),
            c.last.seq.to_string(),
            c.last.time.clone(),
            opt(&c.last.head_sha),
            c.last.bundle.clone(),
            c.last.location.clone(),
        ]);
    }
    if let Some(sample) = &r.sample {
        row(&[]);
        row(&[
            "sample_seq".into(),
            "seed".into(),
            "population".into(),
            "time".into(),
            "verdict".into(),
            "pr".into(),
            "commit".into(),
            "run_url".into(),
            "entry_digest".into(),
            "bundle".into(),
            "location".into(),
        ]);
        for run in &sample.runs {
            row(&[
                run.seq.to_string(),
                sample.seed.to_string(),
                sample.population.to_string(),
                run.time.clone(),
                run.verdict.clone(),
                opt(&run.pr),
                opt(&run.head_sha),
                opt(&run.run_url),
                run.entry_digest.clone(),
                run.bundle.clone(),
                run.location.clone(),
            ]);
        }
    }
    if let Some(p) = &r.population {
        row(&[]);
        row(&[
            "population_exception".into(),
            "change".into(),
            "pr".into(),
            "head_sha".into(),
            "merged_at".into(),
            "title".into(),
            "detail".into(),
            "entry_seq".into(),
        ]);
        for e in &p.exceptions {
            row(&[
                e.kind.as_str().into(),
                population::change_label(&e.change),
                opt(&e.change.pr),
                e.change.head_sha.clone(),
                e.change.merged_at.clone(),
                e.change.title.clone(),
                e.detail.clone(),
                e.run
                    .as_ref()
                    .map(|r| r.seq.to_string())
                    .unwrap_or_default(),
            ]);
        }
    }
    s
}

pub fn render_json(r: &AuditReport) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(md_cell("a|b`c<d>\ne"), "a\\|b\\`c&lt;d&gt;<br>e");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("l1\nl2"), "\"l1\nl2\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("-1.5"), "-1.5");
    }
}
