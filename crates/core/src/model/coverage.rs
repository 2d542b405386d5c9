//! Coverage data (owned by the coverage stage; see issue 3 and `docs/report.md#coverage`).
//!
//! Two layers: what a parser read from one report ([`RawReport`], paths as written in the
//! report), and the `coverage` section of `report.json` ([`CoverageSection`]).

use serde::{Deserialize, Serialize, Serializer};

/// The format a coverage report was detected as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CoverageFormat {
    Lcov,
    Cobertura,
    Jacoco,
    Clover,
}

impl std::fmt::Display for CoverageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CoverageFormat::Lcov => "LCOV",
            CoverageFormat::Cobertura => "Cobertura",
            CoverageFormat::Jacoco => "JaCoCo",
            CoverageFormat::Clover => "Clover",
        })
    }
}

/// One line of one file as a report states it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineHits {
    pub line: u32,
    /// Executions, saturated at `u32::MAX` ([`hits`]): every rule reads only whether a line ran.
    pub hits: u32,
    /// Branches on this line that were taken (0 when the line has no branch data).
    pub branches_covered: u32,
    /// Branches on this line (0 when the line has no branch data).
    pub branches_total: u32,
}

/// An execution count as a [`LineHits`] keeps it: saturated at `u32::MAX`. Whether a line ran
/// is all any rule reads (diff-cover's and ours), and four bytes keep a line at 16: a large
/// report's lines are most of the coverage stage's memory.
pub fn hits(count: u64) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// One file record of a report. `name` is the path exactly as the report gives it; how it
/// resolves to a repository path depends on the report's `roots` (Cobertura `<source>`,
/// JaCoCo source roots) and format (Clover paths also match by suffix).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawFile {
    pub name: String,
    /// Sorted by line, one entry per line (duplicates summed by the parser).
    pub lines: Vec<LineHits>,
    /// `lines`' totals when the parser counted them as it made them (while they were in the
    /// cache: counted later, a large report's lines are read from memory again); `None` when
    /// not counted, or once anything changed `lines` after.
    pub totals: Option<LineTotals>,
}

/// What one file's lines add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineTotals {
    pub covered: u64,
    pub measured: u64,
    pub branches_covered: u64,
    pub branches_measured: u64,
}

impl LineTotals {
    /// The totals of `lines` (sorted and unique, as [`normalize_lines`] leaves them).
    pub fn of(lines: &[LineHits]) -> LineTotals {
        let mut t = LineTotals {
            measured: lines.len() as u64,
            ..LineTotals::default()
        };
        for l in lines {
            t.covered += u64::from(l.hits > 0);
            t.branches_covered += u64::from(l.branches_covered);
            t.branches_measured += u64::from(l.branches_total);
        }
        t
    }
}

/// What a parser read from one coverage report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawReport {
    pub format: CoverageFormat,
    /// Directories the report's file names are relative to, in order of preference
    /// (Cobertura `<sources>`; for JaCoCo the caller's source roots joined with the package).
    pub roots: Vec<String>,
    /// One record per file name (several records for one name are merged by the parser).
    pub files: Vec<RawFile>,
    /// What the parser tolerated and how (e.g. lines without a hit count), for the coverage
    /// section's `notes`.
    pub warnings: Vec<String>,
}

/// Sorts `lines` and merges entries for the same line: hits summed, branch counts taken as
/// the maximum (two records of one line describe the same branches).
pub fn normalize_lines(lines: &mut Vec<LineHits>) {
    if lines.windows(2).all(|w| w[0].line < w[1].line) {
        return;
    }
    lines.sort_by_key(|l| l.line);
    lines.dedup_by(|next, kept| {
        if next.line == kept.line {
            kept.hits = kept.hits.saturating_add(next.hits);
            kept.branches_covered = kept.branches_covered.max(next.branches_covered);
            kept.branches_total = kept.branches_total.max(next.branches_total);
            true
        } else {
            false
        }
    });
}

/// How a file changed between the merge-base and head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Modified,
    Renamed,
    Copied,
    Deleted,
    Binary,
}

/// One file of a diff, with its added lines (new-side numbers, ascending, unique).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Repository-relative path on the new side (the old path for a deleted file).
    pub path: String,
    pub old_path: Option<String>,
    pub kind: ChangeKind,
    pub added_lines: Vec<u32>,
}

/// A percentage held exactly as hundredths of a percent (`6030` = 60.30 %), rounded half away
/// from zero from the exact ratio. Serializes as a JSON number with at most two decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(pub i64);

impl Percent {
    /// `num / den` as a percentage; `None` when `den` is 0.
    pub fn ratio(num: u64, den: u64) -> Option<Percent> {
        if den == 0 {
            return None;
        }
        Some(Percent(round_div(
            i128::from(num) * 10_000,
            i128::from(den),
        )))
    }

    /// `a_num/a_den − b_num/b_den` in percentage points, computed exactly and then rounded.
    pub fn delta(a_num: u64, a_den: u64, b_num: u64, b_den: u64) -> Option<Percent> {
        if a_den == 0 || b_den == 0 {
            return None;
        }
        let (an, ad, bn, bd) = (
            i128::from(a_num),
            i128::from(a_den),
            i128::from(b_num),
            i128::from(b_den),
        );
        Some(Percent(round_div((an * bd - bn * ad) * 10_000, ad * bd)))
    }

    /// From a config value such as `80` or `0.5`, rounded to hundredths.
    pub fn from_f64(v: f64) -> Percent {
        // `as` saturates (NaN → 0): config values cannot panic here.
        Percent((v * 100.0).round() as i64)
    }

    pub fn hundredths(self) -> i64 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

/// `num/den` as a percentage for a detail that says it is below `min`: two decimals as
/// everywhere, or as many more (rounded down) as it takes not to show the minimum itself —
/// 99,999 of 100,000 is `99.999`, never a `100.00` that is "below 100".
pub fn percent_below(num: u64, den: u64, min: f64) -> String {
    let two = Percent::ratio(num, den).unwrap_or_default();
    if two.as_f64() < min || den == 0 {
        return two.to_string();
    }
    let mut scale: i128 = 1000;
    for decimals in 3..=12 {
        let v = i128::from(num) * 100 * scale / i128::from(den);
        if (v as f64) < min * scale as f64 {
            let digits = decimals as usize;
            return format!("{}.{:0digits$}", v / scale, v % scale, digits = digits);
        }
        scale *= 10;
    }
    two.to_string()
}

/// Whether `num/den` is at least `min` percent as configured, exactly: no rounding of the
/// ratio first (99,999 of 100,000 is not 100 %), and in integers (a float `min × den` is off by
/// more than any fixed slack on large counts: 184,851 of 273,125 is exactly 67.68 %). `min` is
/// taken to the millionth of a percent.
pub fn at_least(num: u64, den: u64, min: f64) -> bool {
    // `as` saturates (NaN → 0; config values are checked to be 0–100).
    let min_micro = (min * 1_000_000.0).round() as i128;
    i128::from(num) * 100_000_000 >= min_micro * i128::from(den)
}

impl std::fmt::Display for Percent {
    /// `60.30`, `-0.05` (no `%` sign).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

/// The number [`Serialize`] writes, back to hundredths (a `report.json` read back).
impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if !v.is_finite() {
            return Err(serde::de::Error::custom(format!("{v} is not a percentage")));
        }
        Ok(Percent::from_f64(v))
    }
}

/// Integer division rounding half away from zero. `den` must be positive.
fn round_div(num: i128, den: i128) -> i64 {
    let q = if num >= 0 {
        (2 * num + den) / (2 * den)
    } else {
        -((-2 * num + den) / (2 * den))
    };
    i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
}

/// Line (and branch) totals of one coverage run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageTotals {
    pub lines_covered: u64,
    pub lines_measured: u64,
    /// `null` when no line is measured.
    pub percent: Option<Percent>,
    /// `null` when no report carried branch data.
    pub branches_covered: Option<u64>,
    pub branches_measured: Option<u64>,
    pub branches_percent: Option<Percent>,
    /// Repository files with coverage data.
    pub files: u64,
}

/// Patch coverage of one changed file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchFile {
    /// Repository-relative path on the head side.
    pub path: String,
    /// Added or modified lines (new side).
    pub changed: u64,
    pub covered: u64,
    pub measured: u64,
    /// `null` when no changed line is measured.
    pub percent: Option<Percent>,
    /// Uncovered changed lines grouped into ranges: `["12-15", "20"]`.
    pub uncovered_ranges: Vec<String>,
}

/// Patch coverage: covered ∩ changed / measured ∩ changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchCoverage {
    pub covered: u64,
    pub measured: u64,
    /// Every added or modified line of the diff, measured or not.
    pub changed: u64,
    /// `null` when no changed line is measured ("no measurable changed lines"), never 100.
    pub percent: Option<Percent>,
    /// Changed files, sorted by path (files with no added lines are left out).
    pub files: Vec<PatchFile>,
}

/// What was compared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageRefs {
    /// `git` or `diff` (a unified diff given with `--diff`).
    pub source: String,
    pub base_ref: Option<String>,
    pub base_sha: Option<String>,
    pub merge_base_sha: Option<String>,
    pub head_sha: Option<String>,
}

/// A file outside the diff whose coverage moved between the base and head reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndirectChange {
    pub path: String,
    pub base_covered: u64,
    pub base_measured: u64,
    pub head_covered: u64,
    pub head_measured: u64,
    pub base_percent: Option<Percent>,
    pub head_percent: Option<Percent>,
    /// `null` when either side measured nothing.
    pub delta_pp: Option<Percent>,
}

/// One coverage report that was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageInput {
    pub path: String,
    /// `lcov`, `cobertura`, `jacoco` or `clover`.
    pub format: String,
    /// `head` or `base`.
    pub role: String,
    /// File records in the report.
    pub files: u64,
    /// Records that resolved to a repository file.
    pub matched_files: u64,
    /// SHA-256 of the report's exact bytes as read (absent for a base report taken from the
    /// ledger: its entry's bundle holds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// The `coverage` section of `report.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageSection {
    pub head: CoverageTotals,
    /// Totals of the base report (`--base-coverage`), `null` without one.
    pub base: Option<CoverageTotals>,
    /// head − base line coverage in percentage points, `null` without a base report.
    pub delta_pp: Option<Percent>,
    pub patch: PatchCoverage,
    pub refs: CoverageRefs,
    /// Report paths (after normalisation) that match no repository file, sorted, unique.
    pub unmatched_paths: Vec<String>,
    /// Top files outside the diff whose coverage changed, largest move first.
    pub indirect_changes: Vec<IndirectChange>,
    /// Indirect changes found in total (the list above may be cut to the top N).
    pub indirect_changes_total: u64,
    pub inputs: Vec<CoverageInput>,
    /// Human-readable remarks (for example "no measurable changed lines").
    pub notes: Vec<String>,
    /// Why there is no base to compare with, when a base was looked for and not usable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_unavailable: Option<BaseUnavailable>,
}

/// Why the base coverage could not be used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseUnavailable {
    pub reason: String,
    /// The base record failed verification (a tampered ledger or bundle): gates that need it
    /// fail whatever `when_unavailable` says.
    pub untrusted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_half_away() {
        assert_eq!(percent_below(99_999, 100_000, 100.0), "99.999");
        assert_eq!(percent_below(2, 3, 66.67), "66.666");
        assert_eq!(percent_below(1, 2, 80.0), "50.00");
        assert_eq!(percent_below(999_999_999, 1_000_000_000, 100.0), "99.999");
        assert_eq!(percent_below(999_985, 1_000_000, 99.9986), "99.998");
        assert!(!at_least(99_999, 100_000, 100.0));
        assert!(at_least(100_000, 100_000, 100.0));
        assert!(!at_least(2, 3, 66.67) && at_least(2, 3, 66.66) && at_least(2, 3, 66.666));
        // Equality on large counts, where `min × den` in floats is a hair above.
        for (num, den, min) in [
            (184_851, 273_125, 67.68),
            (3_402_000, 10_000_000, 34.02),
            (2_554_500, 5_000_000, 51.09),
        ] {
            assert!(at_least(num, den, min), "{num}/{den} vs {min}");
            assert!(!at_least(num - 1, den, min), "{num}/{den} vs {min}");
        }
        assert_eq!(Percent::ratio(1, 3), Some(Percent(3333)));
        assert_eq!(Percent::ratio(2, 3), Some(Percent(6667)));
        assert_eq!(Percent::ratio(1, 8), Some(Percent(1250)));
        // 1/16 = 6.25 % exactly; 1/1600 = 0.0625 % → 0.06; 1/800 = 0.125 % → 0.13 (half away)
        assert_eq!(Percent::ratio(1, 800), Some(Percent(13)));
        assert_eq!(Percent::ratio(0, 0), None);
        assert_eq!(
            Percent::ratio(4949, 8207).map(|p| p.to_string()),
            Some("60.30".into())
        );
        assert_eq!(Percent::delta(1, 800, 1, 400), Some(Percent(-13)));
        assert_eq!(Percent::delta(5, 10, 5, 10), Some(Percent(0)));
        assert_eq!(Percent(-5).to_string(), "-0.05");
        assert_eq!(Percent(-120).to_string(), "-1.20");
    }

    #[test]
    fn normalize_merges_duplicates() {
        let mut v = vec![
            LineHits {
                line: 3,
                hits: 0,
                ..Default::default()
            },
            LineHits {
                line: 1,
                hits: 2,
                ..Default::default()
            },
            LineHits {
                line: 3,
                hits: 4,
                branches_covered: 1,
                branches_total: 2,
            },
        ];
        normalize_lines(&mut v);
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[1],
            LineHits {
                line: 3,
                hits: 4,
                branches_covered: 1,
                branches_total: 2
            }
        );
    }
}

crate::redact_fields!(ChangedFile: path, old_path);
crate::redact_fields!(PatchFile: path, uncovered_ranges);
crate::redact_fields!(PatchCoverage: files);
crate::redact_fields!(CoverageRefs: source, base_ref, base_sha, merge_base_sha, head_sha);
crate::redact_fields!(IndirectChange: path);
crate::redact_fields!(CoverageInput: path, format, role);
crate::redact_fields!(BaseUnavailable: reason);
crate::redact_fields!(
    CoverageSection: patch,
    refs,
    unmatched_paths,
    indirect_changes,
    inputs,
    notes,
    base_unavailable
);
