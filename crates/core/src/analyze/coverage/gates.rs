//! The coverage gates: `coverage.project.min`, `coverage.project.max_drop`,
//! `coverage.patch.min` and `coverage.patch.when_no_lines` over a [`CoverageSection`].

use crate::config::{CoverageConfig, NoLinesResult};
use crate::model::coverage::{CoverageSection, Percent, at_least, percent_below};
use crate::model::gate::{Check, Gate, GatePolicy};

/// The configured minimum as a percentage: two decimals (`80.00`), more when it has them
/// (`66.674`), so a ratio shown below it never reads as equal to it.
fn shown_min(v: f64) -> String {
    let two = Percent::from_f64(v);
    if (two.as_f64() - v).abs() < 1e-9 {
        two.to_string()
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').to_owned()
    }
}

fn pct(p: Option<Percent>) -> String {
    p.map_or_else(|| "n/a".to_string(), |p| format!("{p}%"))
}

/// Evaluates the configured coverage gates (pure). The minimums compare the exact ratio (99,999
/// of 100,000 lines is below 100 %); `max_drop` compares at two decimals: a change that rounds
/// to 0.00 points never fails it. `section` is `None` when the run read no
/// coverage report: every configured gate is then not evaluated. Reports that measure no line
/// at all leave the patch gates not evaluated too (and `project.min`, which has no percentage).
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
        let check = match section.head.percent {
            Some(p) => {
                let (c, m) = (section.head.lines_covered, section.head.lines_measured);
                let ok = at_least(c, m, g.value);
                let shown = if ok {
                    p.to_string()
                } else {
                    percent_below(c, m, g.value)
                };
                Check::from_bool(
                    ok,
                    format!(
                        "project coverage {shown}% ({c}/{m} lines) {} minimum {}%",
                        if ok { "meets" } else { "is below" },
                        shown_min(g.value)
                    ),
                )
            }
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
    if section.head.lines_measured == 0 {
        // The reports measure no line anywhere: that is no coverage at all, not a change that
        // touched no measured line. `when_no_lines` would pass any change whose coverage run
        // wrote a report without a measured line, so the patch gate is not evaluated and
        // `when_unavailable` decides, as for `project.min` and for no report.
        let why = "the coverage reports measure no line at all, so no changed line could be \
                   measured";
        if let Some(g) = &cfg.patch.min {
            out.push(Gate::decide(
                "coverage.patch.min",
                g.policy(),
                Check::missing(why),
            ));
        } else if let Some(g) = &cfg.patch.when_no_lines {
            out.push(Gate::decide(
                "coverage.patch.when_no_lines",
                g.policy(),
                Check::missing(why),
            ));
        }
        return out;
    }
    match p.percent {
        Some(pp) => {
            if let Some(g) = &cfg.patch.min {
                let ok = at_least(p.covered, p.measured, g.value);
                let shown = if ok {
                    pp.to_string()
                } else {
                    percent_below(p.covered, p.measured, g.value)
                };
                let check = Check::from_bool(
                    ok,
                    format!(
                        "patch coverage {shown}% ({}/{} measured changed lines) {} minimum {}%",
                        p.covered,
                        p.measured,
                        if ok { "meets" } else { "is below" },
                        shown_min(g.value)
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
