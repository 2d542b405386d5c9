//! The test and control gates (the checks whose failure fails the run unless informational),
//! through the one gate model of [`crate::model::gate`].

use crate::analyze::aggregate::Aggregate;
use crate::analyze::changes::Comparison;
use crate::config::{Config, FailOn, FlakyPolicy, PassRateScope};
use crate::model::gate::{Check, Gate, GatePolicy, GateStatus};
use crate::model::report::{ControlStatus, Totals, Verdict};

/// Pass rate in percent over tests that ran (skipped tests excluded), `None` when none ran.
pub fn pass_rate(t: &Totals) -> Option<f64> {
    let ran = t.passed + t.failed + t.errored;
    (ran > 0).then(|| t.passed as f64 * 100.0 / ran as f64)
}

/// The test and control gates, in a stable order. `comparison`: this run against the ledger's
/// base and recent runs (`None`: no ledger to compare with).
pub fn evaluate(config: &Config, agg: &Aggregate, comparison: Option<&Comparison>) -> Vec<Gate> {
    let mut gates = Vec::new();

    let min = config.min_pass_rate();
    let (totals, scope) = match config.tests.scope {
        PassRateScope::Tagged => (&agg.tagged, "control-tagged tests"),
        PassRateScope::All => (&agg.totals, "all tests"),
    };
    let check = match pass_rate(totals) {
        // Exact: passed/ran >= min/100, without float rounding on the rate.
        Some(rate) => {
            let ran = totals.passed + totals.failed + totals.errored;
            let ok = crate::model::coverage::at_least(totals.passed, ran, min.value);
            // Below the minimum, never shown rounded up to it.
            let shown = if ok {
                format!("{rate:.2}")
            } else {
                crate::model::coverage::percent_below(totals.passed, ran, min.value)
            };
            let detail = format!(
                "{shown}% of {scope} passed ({} of {ran}); minimum {}%",
                totals.passed,
                fmt_num(min.value)
            );
            if ok {
                Check::Held(detail)
            } else {
                excused_check(config, totals, comparison, detail)
            }
        }
        None => Check::missing(no_tests_ran(&agg.totals, totals, scope)),
    };
    gates.push(Gate::decide("tests.min_pass_rate", min.policy(), check));

    if let Some(req) = &config.controls.required {
        let required = config.required_controls();
        let problems: Vec<String> = agg
            .controls
            .iter()
            .filter(|c| required.contains(&c.id) && c.status != ControlStatus::Pass)
            .map(|c| match c.status {
                ControlStatus::Fail => {
                    format!("{} has {} failing test(s)", c.id, c.failed + c.errored)
                }
                _ if c.tests == 0 => format!("{} has no tests", c.id),
                _ => format!("{} has no passing tests ({} skipped)", c.id, c.skipped),
            })
            .collect();
        let detail = if problems.is_empty() {
            format!(
                "all {} required controls have passing tests",
                required.len()
            )
        } else {
            problems.join("; ")
        };
        gates.push(Gate::decide(
            "controls.required",
            req.policy(),
            Check::from_bool(problems.is_empty(), detail),
        ));
    }

    if let Some(g) = &config.controls.no_evidence_loss
        && g.value
    {
        gates.push(Gate::decide(
            "controls.no_evidence_loss",
            g.policy(),
            evidence_loss(config, comparison),
        ));
    }

    if let Some(g) = &config.controls.fail_on_unknown
        && g.value
    {
        let n = agg.unknown_tags.len();
        let detail = if n == 0 {
            "every control tag names a SOC 2 criterion".to_owned()
        } else {
            let mut tags: Vec<&str> = agg.unknown_tags.iter().map(|u| u.tag.as_str()).collect();
            tags.sort_unstable();
            tags.dedup();
            let shown: Vec<&str> = tags.iter().take(5).copied().collect();
            format!("{n} unknown control tag(s): {}", shown.join(", "))
        };
        gates.push(Gate::decide(
            "controls.fail_on_unknown",
            g.policy(),
            Check::from_bool(n == 0, detail),
        ));
    }
    gates
}

/// One matrix leg a merge combined: its name, how many result files and tests it brought,
/// and its `suite:*` gates as the leg decided them (a merge cannot decide them again: the
/// suites ran on the leg's runner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegSeen {
    pub name: String,
    pub results: usize,
    pub tests: u64,
    pub suites: Vec<LegSuite>,
}

/// A leg's `suite:<name>` gate: whether it held, and the leg's detail (as `leg.json` keeps it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegSuite {
    pub gate: String,
    pub passed: bool,
    pub detail: String,
}

/// `legs` (every merge): each leg brought tests, and each of its suites held there. A leg's
/// verdict is not carried whole — its coverage or pass-rate gates are decided again over the
/// merged inputs — but what only the leg saw (its suites: a crash, a timeout, a forged step
/// output) and a leg whose results hold no test fail the merge by name.
pub fn legs_gate(legs: &[LegSeen]) -> Gate {
    let mut problems = Vec::new();
    for leg in legs {
        if leg.tests == 0 {
            problems.push(format!("leg `{}` brought no tests", leg.name));
        } else if leg.results == 0 {
            // Tests claimed, no file holding them: its results were never read here.
            problems.push(format!(
                "leg `{}` claims {} test(s) but brought no result file",
                leg.name, leg.tests
            ));
        }
        for s in leg.suites.iter().filter(|s| !s.passed) {
            problems.push(format!(
                "leg `{}`: {} failed: {}",
                leg.name, s.gate, s.detail
            ));
        }
    }
    let suites: usize = legs.iter().map(|l| l.suites.len()).sum();
    let detail = if problems.is_empty() {
        let tests: u64 = legs.iter().map(|l| l.tests).sum();
        let mut d = format!(
            "{} leg(s) merged, each with tests ({tests} runs)",
            legs.len()
        );
        if suites > 0 {
            d.push_str(&format!("; their {suites} suite(s) held"));
        }
        d
    } else {
        problems.join("; ")
    };
    Gate::decide(
        "legs",
        GatePolicy::STRICT,
        Check::from_bool(problems.is_empty(), detail),
    )
}

/// `expect.legs`: every expected leg is there with results (a merge only).
pub fn expect_gate(expect: &crate::config::ExpectConfig, legs: &[LegSeen]) -> Gate {
    // Results that hold no test are no results.
    let brought = |l: &&LegSeen| l.results > 0 && l.tests > 0;
    let with_results: Vec<&str> = legs
        .iter()
        .filter(brought)
        .map(|l| l.name.as_str())
        .collect();
    let empty: Vec<&str> = legs
        .iter()
        .filter(|l| !brought(l))
        .map(|l| l.name.as_str())
        .collect();
    let mut problems = Vec::new();
    let missing: Vec<&str> = expect
        .legs
        .iter()
        .map(String::as_str)
        .filter(|n| !with_results.contains(n))
        .collect();
    if !missing.is_empty() {
        problems.push(format!("missing leg(s): {}", missing.join(", ")));
    }
    if let Some(n) = expect.runs
        && with_results.len() < n
        && missing.is_empty()
    {
        problems.push(format!(
            "{} of {n} expected legs brought results",
            with_results.len()
        ));
    }
    if !empty.is_empty() {
        problems.push(format!("no results from: {}", empty.join(", ")));
    }
    let detail = if problems.is_empty() {
        format!(
            "all {} expected legs merged: {}",
            with_results.len(),
            with_results.join(", ")
        )
    } else {
        format!(
            "{} (merged: {})",
            problems.join("; "),
            if with_results.is_empty() {
                "none".to_owned()
            } else {
                with_results.join(", ")
            }
        )
    };
    Gate::decide(
        "expect.legs",
        GatePolicy::STRICT,
        Check::from_bool(problems.is_empty(), detail),
    )
}

/// The pass rate missed its minimum: with `tests.fail_on: regressions` pre-existing failures,
/// with `tests.flaky: quarantine` known flaky ones are not counted (and are named).
fn excused_check(
    config: &Config,
    totals: &Totals,
    comparison: Option<&Comparison>,
    detail: String,
) -> Check {
    let regressions = config.tests.fail_on == FailOn::Regressions;
    let quarantine = config.tests.flaky == FlakyPolicy::Quarantine;
    if !regressions && !quarantine {
        return Check::Broken(detail);
    }
    if regressions {
        let why = match comparison {
            None => Some((false, "no evidence ledger to compare with".to_owned())),
            Some(c) => c
                .base_unavailable
                .as_ref()
                .map(|u| (u.untrusted, u.reason.clone())),
        };
        if let Some((untrusted, why)) = why {
            let reason = format!(
                "{detail}; `fail_on: regressions` needs the base run to tell new failures from \
                 pre-existing ones: {why}"
            );
            return if untrusted {
                Check::untrusted(reason)
            } else {
                Check::missing(reason)
            };
        }
    }
    // Without recent default-branch runs no failure is known to be flaky: nothing is excused,
    // and the detail says why.
    const NO_HISTORY: &str = "`flaky: quarantine` found no recent default-branch run in the \
                              ledger, so no failure is known to be flaky";
    let Some(c) = comparison else {
        return Check::Broken(format!("{detail}; {NO_HISTORY}"));
    };
    let detail = if quarantine && c.section.recent_runs == 0 {
        format!("{detail}; {NO_HISTORY}")
    } else {
        detail
    };
    let tagged = config.tests.scope == PassRateScope::Tagged;
    let in_scope = c.failing.iter().filter(|f| f.mapped || !tagged);
    let (mut pre, mut flaky) = (Vec::new(), Vec::new());
    for f in in_scope {
        if regressions && f.pre_existing == Some(true) {
            pre.push(f.test.as_str());
        } else if quarantine && f.flaky {
            flaky.push(f.test.as_str());
        }
    }
    let (named_pre, named_flaky) = (names(&pre), names(&flaky));
    let (pre, flaky) = (pre.len() as u64, flaky.len() as u64);
    // Each excused failure is one of the failures counted in `totals`.
    let ran = (totals.passed + totals.failed + totals.errored).saturating_sub(pre + flaky);
    let min = config.min_pass_rate().value;
    let ok = crate::model::coverage::at_least(totals.passed, ran, min);
    let mut not_counted = Vec::new();
    if regressions {
        not_counted.push(format!("{pre} pre-existing failure(s)"));
    }
    if quarantine {
        not_counted.push(format!("{flaky} quarantined flaky failure(s)"));
    }
    let rest = if ran == 0 {
        "no other test ran".to_owned()
    } else {
        // Below the minimum, never shown rounded up to it.
        let shown = if ok {
            format!("{:.2}", totals.passed as f64 * 100.0 / ran as f64)
        } else {
            crate::model::coverage::percent_below(totals.passed, ran, min)
        };
        format!("{shown}% of the rest passed ({} of {ran})", totals.passed)
    };
    let mut listed = String::new();
    if !named_pre.is_empty() {
        listed.push_str(&format!("; pre-existing: {named_pre}"));
    }
    if !named_flaky.is_empty() {
        listed.push_str(&format!("; quarantined: {named_flaky}"));
    }
    if ran == 0 {
        // Every failure excused and nothing else ran: no test is left to pass, so the gate
        // has nothing to evaluate (a run that only failed must not read green).
        return Check::missing(format!(
            "{detail}; not counted: {}; {rest}{listed}: no test is left to evaluate",
            not_counted.join(", ")
        ));
    }
    Check::from_bool(
        ok,
        format!(
            "{detail}; not counted: {}; {rest}{listed}",
            not_counted.join(", ")
        ),
    )
}

/// `a, b, c and 4 more`: the first three names of a list for a gate's detail.
fn names(list: &[&str]) -> String {
    let shown = list.iter().take(3).copied().collect::<Vec<_>>().join(", ");
    match list.len().saturating_sub(3) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

/// `controls.no_evidence_loss`: no control in scope (the required ones, else all) lost a test
/// or a passing test against the base run.
fn evidence_loss(config: &Config, comparison: Option<&Comparison>) -> Check {
    let Some(c) = comparison else {
        return Check::missing("no evidence ledger to compare with (configure `evidence:`)");
    };
    if let Some(u) = &c.base_unavailable {
        let reason = format!("no base run to compare with: {}", u.reason);
        return if u.untrusted {
            Check::untrusted(reason)
        } else {
            Check::missing(reason)
        };
    }
    let required = config.required_controls();
    let problems: Vec<String> = c
        .lost
        .iter()
        .filter(|(id, _)| required.is_empty() || required.contains(id))
        .map(|(id, tests)| {
            let tests: Vec<&str> = tests.iter().map(String::as_str).collect();
            format!("{id} lost {} test(s): {}", tests.len(), names(&tests))
        })
        .collect();
    let base = c.section.base.as_deref().unwrap_or("the base run");
    if problems.is_empty() {
        let scope = if required.is_empty() {
            "no control"
        } else {
            "no required control"
        };
        Check::Held(format!("{scope} lost evidence against {base}"))
    } else {
        Check::Broken(format!("{} (against {base})", problems.join("; ")))
    }
}

/// Why no test in scope ran: nothing was read at all, everything was skipped, or (for the
/// tagged scope) no test that ran evidences a control.
fn no_tests_ran(all: &Totals, scoped: &Totals, scope: &str) -> String {
    // "no all tests ran" is not English: the scope's singular.
    let none = if scope == "all tests" {
        "no test"
    } else {
        "no control-tagged test"
    };
    if all.total == 0 {
        "the results hold no tests".to_owned()
    } else if scoped.total == 0 {
        format!(
            "{none} ran ({} test(s) read, none mapped to a control)",
            all.total
        )
    } else {
        format!("{none} ran ({} skipped)", scoped.skipped)
    }
}

/// The verdict: fail when any gate counts as failed.
pub fn verdict(gates: &[Gate]) -> Verdict {
    if gates.iter().any(|g| g.status == GateStatus::Fail) {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}

/// `95` rather than `95.0`, `99.5` as is.
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::model::controls::ControlId;
    use crate::model::report::ControlResult;
    use std::path::Path;

    fn config(yaml: &str) -> Config {
        crate::config::parse(yaml, Path::new("t")).unwrap()
    }

    #[test]
    fn quarantine_without_history_excuses_nothing_and_says_so() {
        use crate::analyze::changes::{Comparison, FailingTest};
        let a = agg(9, 1, &[]);
        let flaky_elsewhere = FailingTest {
            id: 1,
            test: "net::retry".into(),
            mapped: false,
            pre_existing: None,
            flaky: false,
        };
        let mut c = Comparison::default();
        c.failing.push(flaky_elsewhere.clone());
        let cfg = config("tests: {flaky: quarantine}");
        for comparison in [None, Some(&c)] {
            let g = &evaluate(&cfg, &a, comparison)[0];
            assert_eq!(g.status, GateStatus::Fail);
            assert!(
                g.detail.contains("found no recent default-branch run"),
                "{}",
                g.detail
            );
        }
        // With a history that knows it flaky, it is not counted, and named.
        c.section.recent_runs = 10;
        c.failing[0].flaky = true;
        let g = &evaluate(&cfg, &a, Some(&c))[0];
        assert_eq!(g.status, GateStatus::Pass, "{}", g.detail);
        assert!(
            g.detail.ends_with("; quarantined: net::retry"),
            "{}",
            g.detail
        );
    }

    fn agg(passed: u64, failed: u64, controls: &[(&str, ControlStatus, u64)]) -> Aggregate {
        let tagged = Totals {
            total: passed + failed,
            passed,
            failed,
            ..Totals::default()
        };
        Aggregate {
            index: None,
            tagged: tagged.clone(),
            totals: tagged,
            controls: controls
                .iter()
                .map(|(id, status, tests)| ControlResult {
                    id: ControlId::parse_shape(id).unwrap(),
                    category: crate::model::Category::Security,
                    summary: "".into(),
                    required: false,
                    tests: *tests,
                    passed: if *status == ControlStatus::Pass {
                        *tests
                    } else {
                        0
                    },
                    failed: if *status == ControlStatus::Fail {
                        *tests
                    } else {
                        0
                    },
                    errored: 0,
                    skipped: 0,
                    status: *status,
                })
                .collect(),
            ..Aggregate::default()
        }
    }

    fn statuses(gates: &[Gate]) -> Vec<(String, GateStatus)> {
        gates.iter().map(|g| (g.name.clone(), g.status)).collect()
    }

    #[test]
    fn pass_rate_gate_passes_fails_and_can_be_informational() {
        let a = agg(19, 1, &[]);
        assert_eq!(evaluate(&config(""), &a, None)[0].status, GateStatus::Fail);
        let g = &evaluate(&config("tests: {min_pass_rate: 95}"), &a, None)[0];
        assert_eq!(
            (g.status, g.detail.as_str()),
            (
                GateStatus::Pass,
                "95.00% of all tests passed (19 of 20); minimum 95%"
            )
        );
        assert_eq!(
            evaluate(&config("tests: {min_pass_rate: 95.1}"), &a, None)[0].status,
            GateStatus::Fail
        );
        let g = &evaluate(
            &config("tests: {min_pass_rate: {value: 100, informational: true}}"),
            &a,
            None,
        )[0];
        assert_eq!((g.status, g.passed), (GateStatus::Informational, false));
        assert_eq!(verdict(std::slice::from_ref(g)), Verdict::Pass);
        // Below the minimum is never shown rounded up to it.
        let g = &evaluate(
            &config("tests: {min_pass_rate: 100}"),
            &agg(99_999, 1, &[]),
            None,
        )[0];
        assert_eq!(
            (g.status, g.detail.as_str()),
            (
                GateStatus::Fail,
                "99.999% of all tests passed (99999 of 100000); minimum 100%"
            )
        );
    }

    #[test]
    fn no_tests_in_scope_is_not_evaluated_and_fails_closed() {
        let skipped = Totals {
            total: 1,
            skipped: 1,
            ..Totals::default()
        };
        assert_eq!(
            no_tests_ran(&skipped, &skipped, "all tests"),
            "no test ran (1 skipped)"
        );
        assert_eq!(
            no_tests_ran(&skipped, &skipped, "control-tagged tests"),
            "no control-tagged test ran (1 skipped)"
        );
        use crate::model::gate::GateResult;
        // Nothing ran at all (an empty `<testsuites/>`).
        let g = &evaluate(&config(""), &agg(0, 0, &[]), None)[0];
        assert_eq!(
            (g.status, g.result),
            (GateStatus::Fail, GateResult::NotEvaluated)
        );
        assert!(
            g.detail.contains("the results hold no tests"),
            "{}",
            g.detail
        );
        // Failing tests, none tagged, tagged scope: not "nothing to check".
        let mut a = agg(0, 0, &[]);
        a.totals = Totals {
            total: 500,
            failed: 500,
            ..Totals::default()
        };
        let g = &evaluate(&config("tests: {scope: tagged}"), &a, None)[0];
        assert_eq!(
            (g.status, g.result),
            (GateStatus::Fail, GateResult::NotEvaluated)
        );
        assert!(
            g.detail.contains("500 test(s) read, none mapped"),
            "{}",
            g.detail
        );
        // The default scope counts them, and fails on them.
        let g = &evaluate(&config(""), &a, None)[0];
        assert_eq!((g.status, g.result), (GateStatus::Fail, GateResult::Fail));
        // Said otherwise on purpose.
        let g = &evaluate(
            &config("tests: {scope: tagged, min_pass_rate: {value: 100, when_unavailable: pass}}"),
            &a,
            None,
        )[0];
        assert_eq!(
            (g.status, g.result),
            (GateStatus::Pass, GateResult::NotEvaluated)
        );
    }

    #[test]
    fn required_controls_need_passing_tests() {
        let yaml = "controls: {required: [CC6.1, CC7.2, CC8.1]}";
        let a = agg(
            3,
            0,
            &[
                ("CC6.1", ControlStatus::Pass, 2),
                ("CC7.2", ControlStatus::Untested, 0),
                ("CC8.1", ControlStatus::Fail, 1),
            ],
        );
        let gates = evaluate(&config(yaml), &a, None);
        assert_eq!(gates[1].status, GateStatus::Fail);
        assert_eq!(
            gates[1].detail,
            "CC7.2 has no tests; CC8.1 has 1 failing test(s)"
        );
        let a = agg(
            3,
            0,
            &[
                ("CC6.1", ControlStatus::Pass, 2),
                ("CC7.2", ControlStatus::Pass, 1),
                ("CC8.1", ControlStatus::Pass, 1),
            ],
        );
        assert_eq!(
            statuses(&evaluate(&config(yaml), &a, None))[1],
            ("controls.required".into(), GateStatus::Pass)
        );
        let inf = "controls: {required: {value: [CC7.2], informational: true}}";
        let a = agg(1, 0, &[("CC7.2", ControlStatus::Untested, 0)]);
        assert_eq!(
            evaluate(&config(inf), &a, None)[1].status,
            GateStatus::Informational
        );
    }

    #[test]
    fn unknown_tags_fail_only_when_configured() {
        let mut a = agg(1, 0, &[]);
        a.unknown_tags.push(crate::model::report::UnknownTag {
            tag: "cc9-5".into(),
            test: "t".into(),
            carrier: crate::model::Carrier::NameMarker,
            input: "a.xml".into(),
        });
        assert_eq!(evaluate(&config(""), &a, None).len(), 1);
        let g = &evaluate(&config("controls: {fail_on_unknown: true}"), &a, None)[1];
        assert_eq!(
            (g.status, g.detail.as_str()),
            (GateStatus::Fail, "1 unknown control tag(s): cc9-5")
        );
        a.unknown_tags.clear();
        assert_eq!(
            evaluate(&config("controls: {fail_on_unknown: true}"), &a, None)[1].status,
            GateStatus::Pass
        );
    }
}
