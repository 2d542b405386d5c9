//! Coverage stage: reports + changed lines → project and patch coverage, and the coverage gates.
//!
//! Entry point: [`analyze`] with a [`CoverageRequest`] (plain data; the caller reads the files).
//! Gates: [`evaluate_gates`] over a [`CoverageConfig`] (embeddable under `coverage:` in the
//! config file).
//!
//! Rules (diff-cover's, see `docs/report.md#coverage`): a changed line is an added line on the
//! new side of merge-base → HEAD; it is measured when any report lists it, and uncovered only
//! when every report that mentions its file lists it with 0 hits.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

pub use crate::config::{CoverageConfig, NoLinesResult, PatchGates, ProjectGates};
use crate::error::{Error, Location, ParseError};
use crate::ingest::{cobertura, jacoco, lcov};
use crate::model::coverage::{
    ChangeKind, ChangedFile, CoverageFormat, CoverageInput, CoverageRefs, CoverageSection,
    CoverageTotals, IndirectChange, LineHits, PatchCoverage, PatchFile, Percent, RawReport,
    normalize_lines,
};
use crate::model::gate::{Check, Gate, GatePolicy};

/// One coverage report, already read by the caller.
#[derive(Debug, Clone)]
pub struct ReportInput {
    /// Shown in messages and in `coverage.inputs`.
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// The change measured: where it came from, the changed files with their added lines, and the
/// repository's file lists (head, and base when a base report is matched). Gathered by the
/// caller from git or a unified diff; plain data here.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub refs: CoverageRefs,
    pub files: Vec<ChangedFile>,
    /// Every file path of the head tree (repository-relative).
    pub head_files: Vec<String>,
    /// Every file path of the base tree (empty unless a base report is to be matched).
    pub base_files: Vec<String>,
    /// The absolute forms of the repository root that report paths may start with (as given,
    /// canonical, git's work tree).
    pub roots: Vec<PathBuf>,
}

/// What the coverage stage is asked, besides the parsed reports and the changes.
#[derive(Debug, Clone)]
pub struct CoverageOptions {
    /// `before::after` rewrites applied to report paths (like Codecov's `fixes`).
    pub path_fixes: Vec<String>,
    /// The value of `$GITHUB_WORKSPACE`, stripped from report paths.
    pub workspace: Option<String>,
    /// How many indirect changes to list.
    pub indirect_limit: usize,
}

impl Default for CoverageOptions {
    fn default() -> Self {
        CoverageOptions {
            path_fixes: Vec::new(),
            workspace: None,
            indirect_limit: 10,
        }
    }
}

/// The JaCoCo source roots in force: the configured ones, else `src/main/java`,
/// `src/main/kotlin`.
pub fn source_roots(configured: &[String]) -> Vec<String> {
    if configured.is_empty() {
        jacoco::DEFAULT_SOURCE_ROOTS
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        configured.to_vec()
    }
}

/// Parses each report (format detected by content).
pub fn parse_reports(
    reports: &[ReportInput],
    source_roots: &[String],
) -> Result<Vec<RawReport>, Error> {
    reports
        .iter()
        .map(|r| parse_report(r, source_roots))
        .collect()
}

/// Detects a report's format from its first bytes.
pub fn detect_format(bytes: &[u8]) -> CoverageFormat {
    let mut b = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .trim_ascii_start();
    if b.first() != Some(&b'<') {
        return CoverageFormat::Lcov;
    }
    // Skip the prolog: declarations, comments, DOCTYPE (with an internal subset).
    for _ in 0..64 {
        b = b.trim_ascii_start();
        if b.starts_with(b"<?") {
            b = after(b, b"?>");
        } else if b.starts_with(b"<!--") {
            b = after(b, b"-->");
        } else if b.starts_with(b"<!") {
            let gt = b.iter().position(|&c| c == b'>').unwrap_or(b.len());
            let br = b.iter().position(|&c| c == b'[').unwrap_or(b.len());
            b = if br < gt {
                after(b, b"]>")
            } else {
                after(b, b">")
            };
        } else {
            break;
        }
    }
    let name: Vec<u8> = b
        .iter()
        .skip(1)
        .take_while(|c| !c.is_ascii_whitespace() && **c != b'>' && **c != b'/')
        .copied()
        .collect();
    let local = name.rsplit(|&c| c == b':').next().unwrap_or(&name);
    if local == b"report" {
        CoverageFormat::Jacoco
    } else {
        CoverageFormat::Cobertura
    }
}

fn after<'a>(b: &'a [u8], pat: &[u8]) -> &'a [u8] {
    b.windows(pat.len())
        .position(|w| w == pat)
        .map_or(&[], |i| &b[i + pat.len()..])
}

/// Parses one report (format detected by content). Errors name the file and line.
pub fn parse_report(input: &ReportInput, source_roots: &[String]) -> Result<RawReport, Error> {
    let bytes = input.bytes.as_slice();
    let res = match detect_format(bytes) {
        CoverageFormat::Lcov => lcov::parse(bytes),
        CoverageFormat::Cobertura => cobertura::parse(bytes),
        CoverageFormat::Jacoco => jacoco::parse(bytes, source_roots),
    };
    res.map_err(|e| locate(e, bytes).in_file(&input.path))
}

/// Adds a line number to a byte-located error.
fn locate(mut e: ParseError, bytes: &[u8]) -> ParseError {
    if e.location.line.is_none() {
        if let Some(b) = e.location.byte {
            let end = usize::try_from(b).unwrap_or(usize::MAX).min(bytes.len());
            let line = bytes[..end].iter().filter(|&&c| c == b'\n').count() as u64 + 1;
            e.location = Location {
                line: Some(line),
                byte: Some(b),
            };
        }
    }
    if !e.message.contains("coverage") {
        e.message = format!(
            "{} (is this an LCOV, Cobertura or JaCoCo coverage report?)",
            e.message
        );
    }
    e
}

// ---------------------------------------------------------------------------------------------
// Paths

/// Maps report paths to repository-relative paths.
pub struct PathMapper {
    fixes: Vec<(String, String)>,
    prefixes: Vec<String>,
    files: HashSet<String>,
}

impl PathMapper {
    /// `roots`: absolute paths of the repository (as given, canonical, git's workdir);
    /// `workspace`: `$GITHUB_WORKSPACE`; `files`: repository-relative paths.
    pub fn new(
        roots: &[PathBuf],
        workspace: Option<&str>,
        path_fixes: &[String],
        files: impl IntoIterator<Item = String>,
    ) -> Result<Self, Error> {
        let mut fixes = Vec::new();
        for f in path_fixes {
            let Some((before, after)) = f.split_once("::") else {
                return Err(Error::Usage(format!(
                    "path_fixes entry `{f}` has no `::`; write `before::after` (e.g. `/app/::` to \
                     strip /app/, `::src/` to prepend src/)"
                )));
            };
            fixes.push((slashes(before), slashes(after)));
        }
        let mut prefixes: Vec<String> = Vec::new();
        let mut add = |p: &str| {
            let mut p = slashes(p);
            while p.len() > 1 && p.ends_with('/') {
                p.pop();
            }
            if !p.is_empty() && p != "/" && !prefixes.contains(&format!("{p}/")) {
                prefixes.push(format!("{p}/"));
            }
        };
        for r in roots {
            add(&r.to_string_lossy());
        }
        if let Some(w) = workspace {
            add(w);
        }
        add("/github/workspace");
        // longest first, so a nested root wins
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
        Ok(PathMapper {
            fixes,
            prefixes,
            files: files.into_iter().collect(),
        })
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains(path)
    }

    fn apply_fixes(&self, p: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for (before, after) in &self.fixes {
            let cur = out.as_deref().unwrap_or(p);
            if let Some(rest) = cur.strip_prefix(before.as_str()) {
                out = Some(format!("{after}{rest}"));
            }
        }
        out
    }

    /// Normalises one report path: `\` → `/`, path fixes, repository root and CI prefixes
    /// stripped, `.`/`..` segments resolved.
    pub fn normalize(&self, raw: &str) -> String {
        let p = slashes(raw);
        let fixed = self.apply_fixes(&p);
        let mut p = strip_ci(&self.prefixes, fixed.as_deref().unwrap_or(&p)).to_string();
        if fixed.is_none() {
            if let Some(f) = self.apply_fixes(&p) {
                p = strip_ci(&self.prefixes, &f).to_string();
            }
        }
        clean(&p)
    }

    /// The first candidate that names a repository file, else `Err(first candidate)`.
    pub(crate) fn resolve(&self, name: &str, roots: &[String]) -> Result<String, String> {
        let mut first: Option<String> = None;
        let absolute =
            name.starts_with('/') || name.starts_with('\\') || name.get(1..2) == Some(":");
        if !absolute {
            for r in roots {
                let joined = if r.is_empty() {
                    name.to_string()
                } else {
                    format!("{}/{name}", r.trim_end_matches(['/', '\\']))
                };
                let n = self.normalize(&joined);
                if self.files.contains(&n) {
                    return Ok(n);
                }
                first.get_or_insert(n);
            }
        }
        let n = self.normalize(name);
        if self.files.contains(&n) {
            return Ok(n);
        }
        Err(if absolute || roots.is_empty() {
            n
        } else {
            first.unwrap_or(n)
        })
    }
}

fn slashes(p: &str) -> String {
    p.replace('\\', "/")
}

fn strip_ci<'a>(prefixes: &[String], p: &'a str) -> &'a str {
    for pre in prefixes {
        if let Some(rest) = p.strip_prefix(pre.as_str()) {
            return rest;
        }
    }
    // Runner checkouts: /home/runner/work/<repo>/<repo>/, /Users/runner/work/<repo>/<repo>/,
    // D:/a/<repo>/<repo>/, and container jobs' /__w/<repo>/<repo>/.
    let segs: Vec<&str> = p.splitn(8, '/').collect();
    let skip = match segs.as_slice() {
        ["", "home" | "Users", _, "work", _, _, ..] => 6,
        ["", "__w", _, _, ..] => 4,
        [drive, "a", _, _, ..] if drive.len() == 2 && drive.ends_with(':') => 4,
        _ => 0,
    };
    if skip > 0 && segs.len() > skip {
        let n: usize = segs[..skip].iter().map(|s| s.len() + 1).sum();
        return &p[n.min(p.len())..];
    }
    p
}

fn clean(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let abs = p.starts_with('/');
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.pop().is_none() && abs {
                    // stays at root
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if abs { format!("/{joined}") } else { joined }
}

// ---------------------------------------------------------------------------------------------
// Merging

/// One repository file's merged line data: (line, covered, branches covered, branches total).
#[derive(Debug, Clone, Default)]
struct FileCov {
    lines: Vec<(u32, bool, u32, u32)>,
}

impl FileCov {
    fn totals(&self) -> (u64, u64, u64, u64) {
        let mut t = (0u64, self.lines.len() as u64, 0u64, 0u64);
        for &(_, c, bc, bt) in &self.lines {
            t.0 += u64::from(c);
            t.2 += u64::from(bc);
            t.3 += u64::from(bt);
        }
        t
    }
}

struct Resolved {
    per_report: Vec<HashMap<String, Vec<LineHits>>>,
    unmatched: Vec<String>,
    inputs: Vec<CoverageInput>,
    /// What the parsers tolerated, each prefixed with its report's path.
    notes: Vec<String>,
}

fn resolve_reports(
    inputs: &[ReportInput],
    parsed: Vec<RawReport>,
    role: &str,
    mapper: &PathMapper,
) -> Result<Resolved, Error> {
    let mut out = Resolved {
        per_report: Vec::new(),
        unmatched: Vec::new(),
        inputs: Vec::new(),
        notes: Vec::new(),
    };
    for (input, raw) in inputs.iter().zip(parsed) {
        out.notes.extend(
            raw.warnings
                .iter()
                .map(|w| format!("{}: {w}", input.path.display())),
        );
        let mut files: HashMap<String, Vec<LineHits>> = HashMap::with_capacity(raw.files.len());
        let mut unmatched = Vec::new();
        let total = raw.files.len();
        for f in raw.files {
            match mapper.resolve(&f.name, &raw.roots) {
                Ok(p) => match files.get_mut(&p) {
                    Some(existing) => {
                        existing.extend(f.lines);
                        normalize_lines(existing);
                    }
                    None => {
                        files.insert(p, f.lines);
                    }
                },
                Err(p) => unmatched.push(p),
            }
        }
        if files.is_empty() {
            let example = unmatched
                .first()
                .map(|u| format!(" (first report path, normalised: `{u}`)"))
                .unwrap_or_default();
            return Err(Error::Input {
                path: input.path.clone(),
                location: Location::default(),
                message: format!(
                    "{} coverage report matched 0 of its {total} files to files in the repository{example}. \
                     Run controlgate from the repository the report was produced for, or map the \
                     paths with `path_fixes` (`before::after`) in the coverage config{}",
                    raw.format,
                    if raw.format == CoverageFormat::Jacoco {
                        " or set `source_roots`"
                    } else {
                        ""
                    }
                ),
            });
        }
        out.inputs.push(CoverageInput {
            path: input.path.to_string_lossy().into_owned(),
            format: format!("{:?}", raw.format).to_lowercase(),
            role: role.to_string(),
            files: total as u64,
            matched_files: files.len() as u64,
        });
        out.unmatched.extend(unmatched);
        out.per_report.push(files);
    }
    Ok(out)
}

/// diff-cover's rule across reports: measured = union; uncovered only if every report that
/// mentions the file lists the line with 0 hits. Branch counts: the largest per line.
fn merge(per_report: Vec<HashMap<String, Vec<LineHits>>>) -> HashMap<String, FileCov> {
    let n = per_report.len();
    let mut iter = per_report.into_iter();
    let Some(first) = iter.next() else {
        return HashMap::new();
    };
    if n == 1 {
        return first
            .into_iter()
            .map(|(p, lines)| {
                let lines = lines
                    .into_iter()
                    .map(|l| (l.line, l.hits > 0, l.branches_covered, l.branches_total))
                    .collect();
                (p, FileCov { lines })
            })
            .collect();
    }
    // (reports mentioning, per line: (zero-hit votes, lines seen))
    let mut acc: HashMap<String, (u32, Vec<LineHits>)> = HashMap::new();
    for rep in std::iter::once(first).chain(iter) {
        for (p, lines) in rep {
            let e = acc.entry(p).or_default();
            e.0 += 1;
            e.1.extend(lines);
        }
    }
    acc.into_iter()
        .map(|(p, (mentions, mut lines))| {
            lines.sort_by_key(|l| l.line);
            let mut merged: Vec<(u32, bool, u32, u32)> = Vec::new();
            let mut i = 0;
            while i < lines.len() {
                let ln = lines[i].line;
                let (mut zero_votes, mut bc, mut bt) = (0u32, 0u32, 0u32);
                let mut any_hit = false;
                while i < lines.len() && lines[i].line == ln {
                    if lines[i].hits == 0 {
                        zero_votes += 1;
                    } else {
                        any_hit = true;
                    }
                    bc = bc.max(lines[i].branches_covered);
                    bt = bt.max(lines[i].branches_total);
                    i += 1;
                }
                let uncovered = !any_hit && zero_votes >= mentions;
                merged.push((ln, !uncovered, bc, bt));
            }
            (p, FileCov { lines: merged })
        })
        .collect()
}

fn totals(files: &HashMap<String, FileCov>) -> CoverageTotals {
    let (mut c, mut m, mut bc, mut bt) = (0u64, 0u64, 0u64, 0u64);
    for f in files.values() {
        let t = f.totals();
        c += t.0;
        m += t.1;
        bc += t.2;
        bt += t.3;
    }
    let has_br = bt > 0;
    CoverageTotals {
        lines_covered: c,
        lines_measured: m,
        percent: Percent::ratio(c, m),
        branches_covered: has_br.then_some(bc),
        branches_measured: has_br.then_some(bt),
        branches_percent: if has_br { Percent::ratio(bc, bt) } else { None },
        files: files.len() as u64,
    }
}

/// `[12, 13, 14, 15, 20]` → `["12-15", "20"]`.
pub fn line_ranges(lines: &[u32]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = lines[i];
        let mut end = start;
        while i + 1 < lines.len() && lines[i + 1] == end.saturating_add(1) {
            i += 1;
            end = lines[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out
}

fn patch(changed: &[ChangedFile], cov: &HashMap<String, FileCov>) -> PatchCoverage {
    let mut files = Vec::new();
    let (mut tc, mut tm, mut tch) = (0u64, 0u64, 0u64);
    for f in changed {
        if f.added_lines.is_empty() || matches!(f.kind, ChangeKind::Deleted | ChangeKind::Binary) {
            continue;
        }
        let (mut covered, mut measured) = (0u64, 0u64);
        let mut uncovered = Vec::new();
        if let Some(fc) = cov.get(&f.path) {
            let mut j = 0;
            for &ln in &f.added_lines {
                while j < fc.lines.len() && fc.lines[j].0 < ln {
                    j += 1;
                }
                if j < fc.lines.len() && fc.lines[j].0 == ln {
                    measured += 1;
                    if fc.lines[j].1 {
                        covered += 1;
                    } else {
                        uncovered.push(ln);
                    }
                }
            }
        }
        let ch = f.added_lines.len() as u64;
        tc += covered;
        tm += measured;
        tch += ch;
        files.push(PatchFile {
            path: f.path.clone(),
            changed: ch,
            covered,
            measured,
            percent: Percent::ratio(covered, measured),
            uncovered_ranges: line_ranges(&uncovered),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    PatchCoverage {
        covered: tc,
        measured: tm,
        changed: tch,
        percent: Percent::ratio(tc, tm),
        files,
    }
}

fn indirect(
    head: &HashMap<String, FileCov>,
    base: &HashMap<String, FileCov>,
    changed: &[ChangedFile],
    limit: usize,
) -> (Vec<IndirectChange>, u64) {
    let in_diff: HashSet<&str> = changed
        .iter()
        .flat_map(|f| std::iter::once(f.path.as_str()).chain(f.old_path.as_deref()))
        .collect();
    let mut out: Vec<IndirectChange> = Vec::new();
    for (path, h) in head {
        if in_diff.contains(path.as_str()) {
            continue;
        }
        let Some(b) = base.get(path) else { continue };
        let (hc, hm, ..) = h.totals();
        let (bc, bm, ..) = b.totals();
        if hc == bc && hm == bm {
            continue;
        }
        out.push(IndirectChange {
            path: path.clone(),
            base_covered: bc,
            base_measured: bm,
            head_covered: hc,
            head_measured: hm,
            base_percent: Percent::ratio(bc, bm),
            head_percent: Percent::ratio(hc, hm),
            delta_pp: Percent::delta(hc, hm, bc, bm),
        });
    }
    let total = out.len() as u64;
    out.sort_by(|a, b| {
        let ka = a.delta_pp.map_or(i64::MAX, |d| d.0.saturating_abs());
        let kb = b.delta_pp.map_or(i64::MAX, |d| d.0.saturating_abs());
        kb.cmp(&ka).then_with(|| a.path.cmp(&b.path))
    });
    out.truncate(limit);
    (out, total)
}

/// Computes project and patch coverage (pure): `head`/`base` are the parsed `reports`/
/// `base_reports` (same order), `changes` what changed. A head report that matches no
/// repository file is an error (never 0 %).
pub fn analyze(
    reports: &[ReportInput],
    head_parsed: Vec<RawReport>,
    base_reports: &[ReportInput],
    base_parsed: Vec<RawReport>,
    changes: Changes,
    opts: &CoverageOptions,
) -> Result<CoverageSection, Error> {
    if reports.is_empty() {
        return Err(Error::Usage(
            "no coverage report given (--coverage <GLOB>)".into(),
        ));
    }
    let want_base = !base_reports.is_empty();
    let Changes {
        refs,
        files: changed,
        head_files,
        base_files,
        roots,
    } = changes;
    let ws = opts.workspace.as_deref();
    let head_mapper = PathMapper::new(&roots, ws, &opts.path_fixes, head_files.iter().cloned())?;
    let head = resolve_reports(reports, head_parsed, "head", &head_mapper)?;
    let mut notes = head.notes;
    let mut inputs = head.inputs;
    let mut unmatched = head.unmatched;
    unmatched.sort();
    unmatched.dedup();
    let head_cov = merge(head.per_report);
    let head_totals = totals(&head_cov);
    let patch = patch(&changed, &head_cov);
    if patch.measured == 0 {
        notes.push(if patch.changed == 0 {
            "no changed lines in the diff".to_string()
        } else {
            format!(
                "no measurable changed lines: none of the {} changed lines is in a coverage report",
                patch.changed
            )
        });
    }
    let (base, delta_pp, indirect_changes, indirect_total) = if want_base {
        let base_mapper = PathMapper::new(
            &roots,
            ws,
            &opts.path_fixes,
            base_files.into_iter().chain(head_files.iter().cloned()),
        )?;
        let b = resolve_reports(base_reports, base_parsed, "base", &base_mapper)?;
        if !b.unmatched.is_empty() {
            notes.push(format!(
                "{} base report paths match no repository file",
                b.unmatched.len()
            ));
        }
        inputs.extend(b.inputs);
        notes.extend(b.notes);
        let base_cov = merge(b.per_report);
        let bt = totals(&base_cov);
        let delta = Percent::delta(
            head_totals.lines_covered,
            head_totals.lines_measured,
            bt.lines_covered,
            bt.lines_measured,
        );
        let (ind, total) = indirect(&head_cov, &base_cov, &changed, opts.indirect_limit);
        (Some(bt), delta, ind, total)
    } else {
        (None, None, Vec::new(), 0)
    };
    Ok(CoverageSection {
        head: head_totals,
        base,
        delta_pp,
        patch,
        refs,
        unmatched_paths: unmatched,
        indirect_changes,
        indirect_changes_total: indirect_total,
        inputs,
        notes,
        base_unavailable: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Gates

fn pct(p: Option<Percent>) -> String {
    p.map_or_else(|| "n/a".to_string(), |p| format!("{p}%"))
}

/// Evaluates the configured coverage gates (pure). Values compare at two decimals: a change
/// that rounds to 0.00 points never fails `max_drop`. `section` is `None` when the run read no
/// coverage report: every configured gate is then not evaluated.
pub fn evaluate_gates(section: Option<&CoverageSection>, cfg: &CoverageConfig) -> Vec<Gate> {
    let mut out = Vec::new();
    let Some(section) = section else {
        let why = "no coverage report was given (`--coverage` or the `coverage` input)";
        for (name, policy) in [
            (
                "coverage.project.min",
                cfg.project.min.as_ref().map(|g| g.policy()),
            ),
            (
                "coverage.project.max_drop",
                cfg.project.max_drop.as_ref().map(|g| g.policy()),
            ),
            (
                "coverage.patch.min",
                cfg.patch.min.as_ref().map(|g| g.policy()),
            ),
            (
                "coverage.patch.when_no_lines",
                cfg.patch
                    .when_no_lines
                    .as_ref()
                    .filter(|_| cfg.patch.min.is_none())
                    .map(|g| g.policy()),
            ),
        ] {
            if let Some(policy) = policy {
                out.push(Gate::decide(name, policy, Check::missing(why)));
            }
        }
        return out;
    };
    if let Some(g) = &cfg.project.min {
        let min = Percent::from_f64(g.value);
        let check = match section.head.percent {
            Some(p) => Check::from_bool(
                p >= min,
                format!(
                    "project coverage {p}% ({}/{} lines) {} minimum {min}%",
                    section.head.lines_covered,
                    section.head.lines_measured,
                    if p >= min { "meets" } else { "is below" }
                ),
            ),
            None => Check::missing("no measured lines in the coverage reports"),
        };
        out.push(Gate::decide("coverage.project.min", g.policy(), check));
    }
    if let Some(g) = &cfg.project.max_drop {
        let max = Percent::from_f64(g.value);
        let check = match (section.delta_pp, &section.base) {
            (Some(d), Some(b)) => {
                let drop = -d.0;
                Check::from_bool(
                    d.0 == 0 || drop <= max.0,
                    format!(
                        "project coverage {} → {} ({}{} pp; allowed drop {max} pp)",
                        pct(b.percent),
                        pct(section.head.percent),
                        if d.0 > 0 { "+" } else { "" },
                        d
                    ),
                )
            }
            _ => match &section.base_unavailable {
                Some(u) if u.untrusted => Check::untrusted(u.reason.clone()),
                Some(u) => Check::missing(u.reason.clone()),
                None if section.base.is_some() => {
                    Check::missing("the base coverage report has no measured lines")
                }
                None => Check::missing(
                    "no base coverage to compare with (`--base-coverage`, or an evidence store \
                     holding the base commit's run)",
                ),
            },
        };
        out.push(Gate::decide("coverage.project.max_drop", g.policy(), check));
    }
    let p = &section.patch;
    match p.percent {
        Some(pp) => {
            if let Some(g) = &cfg.patch.min {
                let min = Percent::from_f64(g.value);
                let check = Check::from_bool(
                    pp >= min,
                    format!(
                        "patch coverage {pp}% ({}/{} measured changed lines) {} minimum {min}%",
                        p.covered,
                        p.measured,
                        if pp >= min { "meets" } else { "is below" }
                    ),
                );
                out.push(Gate::decide("coverage.patch.min", g.policy(), check));
            }
        }
        // "Nothing to measure" is a state of its own, decided by `when_no_lines`, not a gate
        // that could not be evaluated: the change touches no measured line.
        None if cfg.patch.min.is_some() || cfg.patch.when_no_lines.is_some() => {
            let setting = cfg.patch.when_no_lines.clone();
            let passed = setting
                .as_ref()
                .is_none_or(|s| s.value == NoLinesResult::Pass);
            let policy = match (&setting, &cfg.patch.min) {
                (Some(s), _) => s.policy(),
                (None, Some(min)) => min.policy(),
                (None, None) => GatePolicy::STRICT,
            };
            let check = Check::from_bool(
                passed,
                format!(
                    "no measurable changed lines ({} changed lines, none in a coverage report); \
                     `when_no_lines: {}`",
                    p.changed,
                    if passed { "pass" } else { "fail" }
                ),
            );
            out.push(Gate::decide("coverage.patch.when_no_lines", policy, check));
        }
        None => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(line_ranges(&[12, 13, 14, 15, 20]), vec!["12-15", "20"]);
        assert!(line_ranges(&[]).is_empty());
        assert_eq!(line_ranges(&[1, 3, 4]), vec!["1", "3-4"]);
    }

    #[test]
    fn detects_formats() {
        assert_eq!(detect_format(b"TN:\nSF:a\n"), CoverageFormat::Lcov);
        assert_eq!(
            detect_format(b"\xEF\xBB\xBF<?xml version='1.0'?>\n<!-- x --><coverage/>"),
            CoverageFormat::Cobertura
        );
        assert_eq!(
            detect_format(b"<?xml version='1.0'?><!DOCTYPE report PUBLIC \"-//JACOCO//DTD Report 1.1//EN\" \"report.dtd\"><report name='x'/>"),
            CoverageFormat::Jacoco
        );
    }

    #[test]
    fn paths_normalise() {
        let files = [
            "src/a.py".to_string(),
            "pkg/b.ts".to_string(),
            "src/main/java/com/x/A.java".to_string(),
        ];
        let m = PathMapper::new(
            &[PathBuf::from("/repo/root/")],
            Some("/ws/r"),
            &["/app/::".to_string(), "lib/::pkg/".to_string()],
            files,
        )
        .unwrap();
        for raw in [
            "/repo/root/src/a.py",
            "/github/workspace/src/a.py",
            "/ws/r/src/a.py",
            "/home/runner/work/r/r/src/a.py",
            "D:\\a\\r\\r\\src\\a.py",
            "/__w/r/r/src/a.py",
            "./src/./x/../a.py",
            "/app/src/a.py",
        ] {
            assert_eq!(m.resolve(raw, &[]), Ok("src/a.py".to_string()), "{raw}");
        }
        assert_eq!(m.resolve("lib/b.ts", &[]), Ok("pkg/b.ts".into()));
        assert_eq!(
            m.resolve("b.ts", &["/repo/root/pkg".into()]),
            Ok("pkg/b.ts".into())
        );
        assert_eq!(
            m.resolve(
                "com/x/A.java",
                &["src/main/kotlin".into(), "src/main/java".into()]
            ),
            Ok("src/main/java/com/x/A.java".into())
        );
        assert_eq!(
            m.resolve("/elsewhere/z.py", &[]),
            Err("/elsewhere/z.py".into())
        );
        assert!(PathMapper::new(&[], None, &["nocolons".into()], Vec::new()).is_err());
    }

    fn lh(line: u32, hits: u64) -> LineHits {
        LineHits {
            line,
            hits,
            ..Default::default()
        }
    }

    #[test]
    fn merge_follows_diff_cover() {
        let mut a = HashMap::new();
        a.insert("f".to_string(), vec![lh(1, 0), lh(2, 0), lh(3, 1)]);
        a.insert("only_a".to_string(), vec![lh(1, 0)]);
        let mut b = HashMap::new();
        b.insert("f".to_string(), vec![lh(1, 0), lh(2, 5), lh(4, 0)]);
        let m = merge(vec![a, b]);
        // line 1 uncovered in both; 2 covered in b; 3 covered; 4 only in b → a does not call it
        // uncovered, so it is covered under diff-cover's rule.
        assert_eq!(
            m["f"].lines.iter().map(|l| (l.0, l.1)).collect::<Vec<_>>(),
            vec![(1, false), (2, true), (3, true), (4, true)]
        );
        assert!(!m["only_a"].lines[0].1);
    }
}
