//! `audit --format html`: the auditor's report as one self-contained HTML file. No script, no
//! external resource (a Content-Security-Policy forbids any), inline CSS and SVG, print CSS;
//! it opens from a `file://` URL or as a ticket attachment. Every text that came from a run
//! (refs, actors, tickets, environments, gate details, store locations) is escaped.
//!
//! Pure: [`render_html`] turns an [`HtmlAudit`] into a `String`; [`control_timelines`] and
//! [`SampledRun`] are built from the ledger entries and the sampled runs' verified bundles.

use std::collections::HashMap;
use std::fmt::Write;

use chrono::NaiveDate;

use super::audit_report::{AuditQuery, AuditReport, normalize_control, scoped_controls};
use super::ledger::Entry;
use super::run_ref::{RunRef, run_ref};
use controlgate_core::render::escape::html;

/// Longest text shown from a run (refs, actors, details): the rest is cut with an ellipsis.
const TEXT_MAX: usize = 300;
/// Exceptions listed per control; the count says how many there are.
const EXCEPTIONS_SHOWN: usize = 50;
/// Bars per chart at most: longer periods are bucketed by several days.
const CHART_BARS: i64 = 366;

/// One day (or bucket of days) of a control's chart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bucket {
    pub first_day: Option<NaiveDate>,
    pub passing: u32,
    pub failing: u32,
    pub untested: u32,
}

/// A control over the period: first and last evidence, exceptions, the chart's buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlTimeline {
    pub id: String,
    /// The first and last run in which tests evidenced the control.
    pub first_evidence: Option<RunRef>,
    pub last_evidence: Option<RunRef>,
    /// Runs in which the control failed or was untested (the first [`EXCEPTIONS_SHOWN`]).
    pub exceptions: Vec<(RunRef, String)>,
    pub exceptions_total: u64,
    pub buckets: Vec<Bucket>,
    /// Days per bucket.
    pub bucket_days: i64,
}

/// A sampled run with what only its bundle holds.
#[derive(Debug, Clone, PartialEq)]
pub struct SampledRun {
    pub run: RunRef,
    pub actor: Option<String>,
    pub environment: Option<String>,
    pub event: Option<String>,
    pub tickets: Vec<String>,
    /// Why the bundle failed verification (`None`: the manifest matches the entry's digest
    /// and `report.json` its manifest).
    pub bundle_problem: Option<String>,
    /// The gates of the verified bundle's `report.json` (name, status, result, detail), or
    /// why there are none to show.
    pub gates: Result<Vec<GateLine>, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GateLine {
    pub name: String,
    pub status: String,
    pub result: String,
    pub detail: String,
}

/// Everything the HTML report shows.
#[derive(Debug, Clone)]
pub struct HtmlAudit<'a> {
    pub report: &'a AuditReport,
    pub timelines: Vec<ControlTimeline>,
    pub sample: Vec<SampledRun>,
    /// When the report was made (RFC 3339).
    pub generated_at: String,
}

/// Per control (sorted by id, as the report's rows), over the in-scope entries of the period.
pub fn control_timelines(
    in_scope: &[&Entry],
    query: &AuditQuery,
    locate: &dyn Fn(&str) -> String,
) -> Vec<ControlTimeline> {
    let want = query.control.as_deref().map(normalize_control);
    let days = (query.to - query.from).num_days() + 1;
    let bucket_days = ((days + CHART_BARS - 1) / CHART_BARS).max(1);
    let n_buckets = ((days + bucket_days - 1) / bucket_days).max(1) as usize;
    let mut out: Vec<ControlTimeline> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for e in in_scope {
        let Some(day) = e.date() else { continue };
        let b = ((day - query.from).num_days() / bucket_days) as usize;
        for (key, c) in scoped_controls(e, want.as_deref()) {
            let i = *index.entry(key).or_insert_with(|| {
                out.push(ControlTimeline {
                    id: c.id.clone(),
                    first_evidence: None,
                    last_evidence: None,
                    exceptions: Vec::new(),
                    exceptions_total: 0,
                    buckets: (0..n_buckets)
                        .map(|k| Bucket {
                            first_day: query.from.checked_add_days(chrono::Days::new(
                                (k as i64 * bucket_days) as u64,
                            )),
                            ..Bucket::default()
                        })
                        .collect(),
                    bucket_days,
                });
                out.len() - 1
            });
            let t = &mut out[i];
            if c.tests > 0 {
                if t.first_evidence.is_none() {
                    t.first_evidence = Some(run_ref(e, locate));
                }
                t.last_evidence = Some(run_ref(e, locate));
            }
            if let Some(bucket) = t.buckets.get_mut(b.min(n_buckets - 1)) {
                match c.status.as_str() {
                    "pass" => bucket.passing += 1,
                    "fail" => bucket.failing += 1,
                    _ => bucket.untested += 1,
                }
            }
            if c.status != "pass" {
                t.exceptions_total += 1;
                if t.exceptions.len() < EXCEPTIONS_SHOWN {
                    t.exceptions.push((run_ref(e, locate), c.status.clone()));
                }
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn esc(s: &str) -> String {
    html(s, TEXT_MAX)
}

/// A link when `url` is http(s), else the text alone (a ledger may hold anything).
fn link(url: Option<&str>, text: &str) -> String {
    match url {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
            format!("<a href=\"{}\">{}</a>", html(u, 2000), esc(text))
        }
        _ => esc(text),
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn run_cell(r: &RunRef) -> String {
    format!(
        "<a href=\"#run-{seq}\">#{seq}</a> {}",
        esc(r.time.get(..10).unwrap_or(&r.time)),
        seq = r.seq
    )
}

fn opt_run(r: &Option<RunRef>) -> String {
    r.as_ref().map_or_else(|| "—".into(), run_cell)
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

const STYLE: &str = r#"
:root { --pass: #1a7f37; --fail: #cf222e; --untested: #8c959f; --ink: #1f2328; --muted: #59636e; --rule: #d1d9e0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid var(--rule); padding-bottom: .2rem; margin-top: 2rem; }
.meta { color: var(--muted); }
.banner { padding: .6rem .9rem; border-radius: 6px; margin: 1rem 0; font-weight: 600; }
.banner.ok { background: #dafbe1; border: 1px solid var(--pass); }
.banner.bad { background: #ffebe9; border: 1px solid var(--fail); }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; }
th, td { border: 1px solid var(--rule); padding: .3rem .5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .digest { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; word-break: break-all; }
.pass { color: var(--pass); font-weight: 600; }
.fail { color: var(--fail); font-weight: 600; }
.untested, .not_evaluated, .informational { color: var(--untested); font-weight: 600; }
.chart { display: block; width: 100%; height: 56px; }
.run { border: 1px solid var(--rule); border-radius: 6px; padding: .6rem .9rem; margin: .8rem 0; break-inside: avoid; }
.run dl { display: grid; grid-template-columns: 10rem minmax(0, 1fr); gap: .15rem .8rem; margin: 0; }
.run dt { color: var(--muted); }
.run dd { margin: 0; overflow-wrap: anywhere; }
details > summary { cursor: pointer; }
figure { margin: 1rem 0; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  a { color: inherit; text-decoration: none; }
  details { display: block; }
  details > summary { list-style: none; }
  tr, .run, figure { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"#;

/// The chart of one control: a stacked bar per bucket (passing, failing, untested runs).
fn chart(t: &ControlTimeline) -> String {
    let max = t
        .buckets
        .iter()
        .map(|b| b.passing + b.failing + b.untested)
        .max()
        .unwrap_or(0)
        .max(1);
    let n = t.buckets.len().max(1);
    let (w, h) = (n as f64 * 3.0, 50.0);
    let mut s = format!(
        "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 {w} {h}\" preserveAspectRatio=\"none\" \
         aria-label=\"runs of {} per {} day(s): passing, failing, untested\">",
        esc(&t.id),
        t.bucket_days
    );
    for (i, b) in t.buckets.iter().enumerate() {
        let x = i as f64 * 3.0;
        let mut y = h;
        for (count, color) in [
            (b.passing, "var(--pass)"),
            (b.failing, "var(--fail)"),
            (b.untested, "var(--untested)"),
        ] {
            if count == 0 {
                continue;
            }
            let bar = f64::from(count) * h / f64::from(max);
            y -= bar;
            let _ = write!(
                s,
                "<rect x=\"{x}\" y=\"{y:.2}\" width=\"2.4\" height=\"{bar:.2}\" fill=\"{color}\"/>"
            );
        }
        if b.passing + b.failing + b.untested > 0 {
            let _ = write!(
                s,
                "<rect x=\"{x}\" y=\"0\" width=\"3\" height=\"{h}\" fill=\"transparent\"><title>{}: {} passing, {} failing, {} untested</title></rect>",
                b.first_day.map(|d| d.to_string()).unwrap_or_default(),
                b.passing,
                b.failing,
                b.untested
            );
        }
    }
    s.push_str("</svg>");
    s
}

fn ledger_banner(s: &mut String, r: &AuditReport) {
    let l = &r.ledger;
    if l.intact {
        let bundles = if l.bundles_checked > 0 {
            format!("and {} bundles", l.bundles_checked)
        } else {
            "(bundles not re-hashed)".into()
        };
        let _ = write!(
            s,
            "<p class=\"banner ok\" id=\"ledger\">Ledger intact: {} entries (hash chain) {bundles} \
             verified at <code>{}</code>; tip #{} <span class=\"digest\">{}</span>.</p>",
            l.entries,
            esc(&l.location),
            l.tip_seq.map(|s| s.to_string()).unwrap_or_default(),
            esc(l.tip_digest.as_deref().unwrap_or("-"))
        );
    } else {
        let _ = write!(
            s,
            "<p class=\"banner bad\" id=\"ledger\">Ledger NOT intact at <code>{}</code>: {}. \
             Nothing below can be relied on.</p>",
            esc(&l.location),
            esc(l.problem.as_ref().map_or("", |p| p.message.as_str()))
        );
    }
}

fn controls_section(s: &mut String, a: &HtmlAudit) {
    let r = a.report;
    s.push_str("<h2 id=\"controls\">Controls</h2>\n");
    if r.controls.is_empty() {
        s.push_str("<p>No run in the period reported a control.</p>\n");
        return;
    }
    s.push_str(
        "<table><thead><tr><th>Control</th><th>Runs</th><th>Passing</th><th>Failing</th>\
         <th>Untested</th><th>Pass rate</th><th>Tests (max / last)</th><th>First evidence</th>\
         <th>Last evidence</th><th>Exceptions</th></tr></thead><tbody>\n",
    );
    let timeline = |id: &str| a.timelines.iter().find(|t| t.id == id);
    for c in &r.controls {
        let t = timeline(&c.id);
        let _ = writeln!(
            s,
            "<tr data-control=\"{id}\"><th scope=\"row\"><a href=\"#control-{id}\">{id}</a></th>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} / {}</td>\
             <td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            c.runs,
            c.passing_runs,
            c.failing_runs,
            c.untested_runs,
            percent(c.passing_runs, c.runs),
            c.tests_max,
            c.tests_last,
            t.map_or_else(|| "—".into(), |t| opt_run(&t.first_evidence)),
            t.map_or_else(|| "—".into(), |t| opt_run(&t.last_evidence)),
            c.failing_runs + c.untested_runs,
            id = esc(&c.id),
        );
    }
    s.push_str("</tbody></table>\n<p class=\"meta\">Pass rate: runs in which the control passed, of the runs that reported it (untested runs count as not passing). Exceptions: runs in which it failed or no test evidenced it.</p>\n");
    for t in &a.timelines {
        let _ = writeln!(
            s,
            "<figure id=\"control-{id}\"><figcaption><strong>{id}</strong> over the period \
             (runs per {} day(s); <span class=\"pass\">passing</span>, \
             <span class=\"fail\">failing</span>, <span class=\"untested\">untested</span>)\
             </figcaption>{}",
            t.bucket_days,
            chart(t),
            id = esc(&t.id),
        );
        if t.exceptions_total > 0 {
            let _ = write!(
                s,
                "<details><summary>{} exception(s)</summary><ul>",
                t.exceptions_total
            );
            for (run, status) in &t.exceptions {
                let _ = write!(
                    s,
                    "<li>{} <span class=\"{st}\">{st}</span> {} <code>{}</code></li>",
                    run_cell(run),
                    esc(&change_of(run)),
                    esc(short(&run.bundle)),
                    st = if status == "fail" { "fail" } else { "untested" },
                );
            }
            if t.exceptions_total as usize > t.exceptions.len() {
                let _ = write!(
                    s,
                    "<li>… and {} more (CSV/JSON output lists every run)</li>",
                    t.exceptions_total as usize - t.exceptions.len()
                );
            }
            s.push_str("</ul></details>");
        }
        s.push_str("</figure>\n");
    }
}

fn change_of(r: &RunRef) -> String {
    match (r.pr, &r.head_sha) {
        (Some(pr), _) => format!("PR #{pr}"),
        (None, Some(sha)) => format!("commit {}", short(sha)),
        (None, None) => format!("run {}", r.seq),
    }
}

fn sample_section(s: &mut String, a: &HtmlAudit) {
    s.push_str("<h2 id=\"sample\">Sample</h2>\n");
    let Some(sample) = &a.report.sample else {
        s.push_str(
            "<p>No sample drawn: <code>--sample N --seed S</code> draws a reproducible one.</p>\n",
        );
        return;
    };
    let _ = writeln!(
        s,
        "<p id=\"sample-method\">{} of the period's {} runs, drawn without replacement by a partial \
         Fisher–Yates shuffle driven by SplitMix64 seeded with <strong>{}</strong>: \
         <code>controlgate audit --from {} --to {}{} --sample {} --seed {}</code> draws the same \
         runs on any machine.</p>",
        sample.runs.len(),
        sample.population,
        sample.seed,
        esc(&a.report.from),
        esc(&a.report.to),
        a.report
            .control
            .as_deref()
            .map(|c| format!(" --control {}", esc(c)))
            .unwrap_or_default(),
        sample.n,
        sample.seed
    );
    for run in &a.sample {
        let r = &run.run;
        let verdict_class = if r.verdict == "pass" { "pass" } else { "fail" };
        let _ = write!(
            s,
            "<section class=\"run\" id=\"run-{seq}\" data-seq=\"{seq}\"><h3>Run #{seq} — \
             <span class=\"{verdict_class}\">{}</span></h3><dl>",
            esc(&r.verdict),
            seq = r.seq
        );
        let mut row = |k: &str, v: String| {
            let _ = write!(s, "<dt>{k}</dt><dd>{v}</dd>");
        };
        row("Time", esc(&r.time));
        row(
            "Commit",
            r.head_sha.as_deref().map_or_else(
                || "—".into(),
                |sha| format!("<code title=\"{}\">{}</code>", esc(sha), esc(short(sha))),
            ),
        );
        row("Ref", esc(r.git_ref.as_deref().unwrap_or("—")));
        row(
            "Pull request",
            r.pr.map_or_else(|| "—".into(), |p| format!("#{p}")),
        );
        row(
            "Tickets",
            if run.tickets.is_empty() {
                "none recorded".into()
            } else {
                run.tickets
                    .iter()
                    .map(|t| esc(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
        row("Actor", esc(run.actor.as_deref().unwrap_or("—")));
        row("Event", esc(run.event.as_deref().unwrap_or("—")));
        row(
            "Environment",
            esc(run.environment.as_deref().unwrap_or("—")),
        );
        row(
            "Workflow run",
            link(r.run_url.as_deref(), r.run_url.as_deref().unwrap_or("—")),
        );
        row(
            "Ledger entry",
            format!(
                "#{} <span class=\"digest\">{}</span>",
                r.seq,
                esc(&r.entry_digest)
            ),
        );
        row(
            "Bundle digest",
            format!("<span class=\"digest\">{}</span>", esc(&r.bundle)),
        );
        row("Fetch from", format!("<code>{}</code>", esc(&r.location)));
        row(
            "Verify",
            match &run.bundle_problem {
                None => "<span class=\"pass\">bundle verified</span> (manifest against the \
                         entry's digest, report.json against the manifest)"
                    .into(),
                Some(why) => format!("<span class=\"fail\">FAILED</span>: {}", esc(why)),
            },
        );
        match &run.gates {
            Ok(gates) => {
                let mut g = String::from(
                    "<table class=\"gates\"><thead><tr><th>Gate</th><th>Status</th>\
                     <th>Result</th><th>Detail</th></tr></thead><tbody>",
                );
                for gate in gates {
                    let _ = write!(
                        g,
                        "<tr><td>{}</td><td class=\"{st}\">{st}</td><td class=\"{res}\">{res}</td><td>{}</td></tr>",
                        esc(&gate.name),
                        esc(&gate.detail),
                        st = esc(&gate.status),
                        res = esc(&gate.result),
                    );
                }
                g.push_str("</tbody></table>");
                row("Gates", g);
            }
            Err(why) => row("Gates", format!("not shown: {}", esc(why))),
        }
        s.push_str("</dl></section>\n");
    }
}

fn population_section(s: &mut String, r: &AuditReport) {
    let Some(p) = &r.population else { return };
    let _ = writeln!(
        s,
        "<h2 id=\"population\">Population ({})</h2>\n<p>{} changes reached the branch in the \
         period ({} pull requests, {} direct pushes); {} have ledger evidence. \
         <strong class=\"{}\">{} exception(s)</strong>.</p>",
        esc(&p.source),
        p.changes,
        p.pull_requests,
        p.direct_pushes,
        p.with_evidence,
        if p.exceptions.is_empty() {
            "pass"
        } else {
            "fail"
        },
        p.exceptions.len()
    );
    if p.exceptions.is_empty() {
        return;
    }
    s.push_str(
        "<table id=\"exceptions\"><thead><tr><th>Exception</th><th>Change</th><th>Merged</th>\
         <th>Title</th><th>Detail</th></tr></thead><tbody>\n",
    );
    for e in &p.exceptions {
        let label = super::population::change_label(&e.change);
        let _ = writeln!(
            s,
            "<tr data-kind=\"{kind}\"><td class=\"fail\">{kind}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            link(e.change.url.as_deref(), &label),
            esc(&e.change.merged_at),
            esc(&e.change.title),
            esc(&e.detail),
            kind = e.kind.as_str(),
        );
    }
    s.push_str("</tbody></table>\n");
}

fn changes_section(s: &mut String, r: &AuditReport) {
    let _ = writeln!(
        s,
        "<h2 id=\"changes\">Changes</h2>\n<details><summary>{} change(s) in the period</summary>\
         <table><thead><tr><th>Change</th><th>Runs</th><th>Tickets</th><th>Last verdict</th>\
         <th>Coverage Δ (pp)</th><th>Last run</th><th>Bundle</th></tr></thead><tbody>",
        r.changes.len()
    );
    for c in &r.changes {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"{v}\">{v}</td>\
             <td class=\"num\">{}</td><td>{}</td><td class=\"digest\">{}</td></tr>",
            esc(&c.change),
            c.runs,
            c.tickets
                .iter()
                .map(|t| esc(t))
                .collect::<Vec<_>>()
                .join(", "),
            c.coverage_delta_pp
                .map_or_else(String::new, |d| format!("{d:+.2}")),
            run_cell(&c.last),
            esc(short(&c.last.bundle)),
            v = esc(&c.last.verdict),
        );
    }
    s.push_str("</tbody></table></details>\n");
}

/// The report as one self-contained HTML document.
pub fn render_html(a: &HtmlAudit) -> String {
    let r = a.report;
    let mut s = String::with_capacity(64 * 1024);
    let title = format!("Evidence audit {} to {}", esc(&r.from), esc(&r.to));
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\n\
         <h1>{title}</h1>\n<p class=\"meta\">Scope: {}; {} runs ({} passing, {} failing). \
         Generated {} by controlgate {}.</p>\n",
        r.control
            .as_deref()
            .map_or_else(|| "every control".into(), |c| format!("control {}", esc(c))),
        r.runs,
        r.passing_runs,
        r.failing_runs,
        esc(&a.generated_at),
        env!("CARGO_PKG_VERSION"),
    );
    ledger_banner(&mut s, r);
    controls_section(&mut s, a);
    population_section(&mut s, r);
    sample_section(&mut s, a);
    changes_section(&mut s, r);
    s.push_str("</body></html>\n");
    s
}
