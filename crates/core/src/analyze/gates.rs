//! The test and control gates (the checks whose failure fails the run unless informational),
//! through the one gate model of [`crate::model::gate`].

use crate::analyze::aggregate::Aggregate;
use crate::config::{Config, PassRateScope};
use crate::model::gate::{Check, Gate, GateStatus};
use crate::model::report::{ControlStatus, Totals, Verdict};

/// Pass rate in percent over tests that ran (skipped tests excluded), `None` when none ran.
pub fn pass_rate(t: &Totals) -> Option<f64> {
    let ran = t.passed + t.failed + t.errored;
    (ran > 0).then(|| t.passed as f64 * 100.0 / ran as f64)
}

/// The test and control gates, in a stable order.
pub fn evaluate(config: &Config, agg: &Aggregate) -> Vec<Gate> {
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
            let ok = totals.passed as f64 * 100.0 >= min.value * ran as f64 - 1e-9;
            Check::from_bool(
                ok,
                format!(
                    "{rate:.2}% of {scope} passed ({} of {ran}); minimum {}%",
                    totals.passed,
                    fmt_num(min.value)
                ),
            )
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

/// Why no test in scope ran: nothing was read at all, everything was skipped, or (for the
/// tagged scope) no test that ran evidences a control.
fn no_tests_ran(all: &Totals, scoped: &Totals, scope: &str) -> String {
    if all.total == 0 {
        "the results hold no tests".to_owned()
    } else if scoped.total == 0 {
        format!(
            "no {scope} ran ({} test(s) read, none mapped to a control)",
            all.total
        )
    } else {
        format!("no {scope} ran ({} skipped)", scoped.skipped)
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

    fn agg(passed: u64, failed: u64, controls: &[(&str, ControlStatus, u64)]) -> Aggregate {
        let tagged = Totals {
            total: passed + failed,
            passed,
            failed,
            ..Totals::default()
        };
        Aggregate {
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
        assert_eq!(evaluate(&config(""), &a)[0].status, GateStatus::Fail);
        let g = &evaluate(&config("tests: {min_pass_rate: 95}"), &a)[0];
        assert_eq!(
            (g.status, g.detail.as_str()),
            (
                GateStatus::Pass,
                "95.00% of all tests passed (19 of 20); minimum 95%"
            )
        );
        assert_eq!(
            evaluate(&config("tests: {min_pass_rate: 95.1}"), &a)[0].status,
            GateStatus::Fail
        );
        let g = &evaluate(
            &config("tests: {min_pass_rate: {value: 100, informational: true}}"),
            &a,
        )[0];
        assert_eq!((g.status, g.passed), (GateStatus::Informational, false));
        assert_eq!(verdict(std::slice::from_ref(g)), Verdict::Pass);
    }

    #[test]
    fn no_tests_in_scope_is_not_evaluated_and_fails_closed() {
        use crate::model::gate::GateResult;
        // Nothing ran at all (an empty `<testsuites/>`).
        let g = &evaluate(&config(""), &agg(0, 0, &[]))[0];
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
        let g = &evaluate(&config("tests: {scope: tagged}"), &a)[0];
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
        let g = &evaluate(&config(""), &a)[0];
        assert_eq!((g.status, g.result), (GateStatus::Fail, GateResult::Fail));
        // Said otherwise on purpose.
        let g = &evaluate(
            &config("tests: {scope: tagged, min_pass_rate: {value: 100, when_unavailable: pass}}"),
            &a,
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
        let gates = evaluate(&config(yaml), &a);
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
            statuses(&evaluate(&config(yaml), &a))[1],
            ("controls.required".into(), GateStatus::Pass)
        );
        let inf = "controls: {required: {value: [CC7.2], informational: true}}";
        let a = agg(1, 0, &[("CC7.2", ControlStatus::Untested, 0)]);
        assert_eq!(
            evaluate(&config(inf), &a)[1].status,
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
        assert_eq!(evaluate(&config(""), &a).len(), 1);
        let g = &evaluate(&config("controls: {fail_on_unknown: true}"), &a)[1];
        assert_eq!(
            (g.status, g.detail.as_str()),
            (GateStatus::Fail, "1 unknown control tag(s): cc9-5")
        );
        a.unknown_tags.clear();
        assert_eq!(
            evaluate(&config("controls: {fail_on_unknown: true}"), &a)[1].status,
            GateStatus::Pass
        );
    }
}
