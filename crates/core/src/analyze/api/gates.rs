//! The `api.*` gates (coverage, new operations, breaking changes, negative auth,
//! confidential fields) and the API controls they decide.

use crate::analyze::gates::fmt_num;
use crate::config::ApiConfig;
use crate::model::api::{ApiControl, ApiSection};
use crate::model::gate::{Check, Gate};

/// The `api.*` gates, in a stable order; also fills `section.controls`.
/// `drift_unavailable`: why the base description could not be read, when it could not (the
/// drift gates are then not evaluated).
pub fn gates(
    config: &ApiConfig,
    section: &mut ApiSection,
    drift_unavailable: Option<&str>,
) -> Vec<Gate> {
    let mut out = Vec::new();
    let c = &section.coverage;
    let mut coverage_gate = None;
    let no_drift = || {
        Check::missing(
            drift_unavailable
                .unwrap_or("no base description to compare with")
                .to_owned(),
        )
    };
    if let Some(min) = &config.min_coverage {
        let check = if c.described == 0 {
            Check::missing("the API description has no operations")
        } else {
            let ok = crate::model::coverage::at_least(c.exercised, c.described, min.value);
            // Below the minimum, never shown rounded up to it.
            let shown = if ok {
                format!("{:.1}", c.percent)
            } else {
                crate::model::coverage::percent_below(c.exercised, c.described, min.value)
            };
            Check::from_bool(
                ok,
                format!(
                    "{shown}% of operations exercised ({} of {}); minimum {}%",
                    c.exercised,
                    c.described,
                    fmt_num(min.value)
                ),
            )
        };
        out.push(Gate::decide("api.min_coverage", min.policy(), check));
        coverage_gate = Some(out.len() - 1);
    }
    if let Some(g) = &config.new_operations_require_tests
        && g.value
    {
        let check = match &section.drift {
            None => no_drift(),
            Some(d) if d.new_untested.is_empty() => Check::Held(format!(
                "all {} new operation(s) exercised",
                d.drift.added.len()
            )),
            Some(d) => Check::Broken(format!(
                "{} new operation(s) without a test: {}",
                d.new_untested.len(),
                first(&d.new_untested)
            )),
        };
        out.push(Gate::decide(
            "api.new_operations_require_tests",
            g.policy(),
            check,
        ));
    }
    let bc = config.breaking_changes();
    if bc.value {
        let check = match &section.drift {
            None => no_drift(),
            Some(d) => {
                let n = d.drift.breaking.len();
                if let (0, Some(why)) = (n, &d.drift.incomplete) {
                    // Nothing found in part of the description is not "no breaking changes".
                    Check::missing(format!(
                        "the descriptions were not compared in full ({why})"
                    ))
                } else if n == 0 {
                    Check::Held("no breaking changes against the base description".to_owned())
                } else {
                    let shown: Vec<String> = d
                        .drift
                        .breaking
                        .iter()
                        .take(3)
                        .map(|b| format!("{} ({})", b.operation, b.kind.as_str()))
                        .collect();
                    Check::Broken(format!("{n} breaking change(s): {}", shown.join("; ")))
                }
            }
        };
        out.push(Gate::decide("api.breaking_changes", bc.policy(), check));
    }
    let mut neg_gate = None;
    if let Some(g) = &config.secured_operations_require_negative_test
        && g.value
    {
        let m = &section.missing_negative_auth;
        let detail = if m.is_empty() {
            format!(
                "all {} secured operation(s) have a 401/403 exercised",
                section.secured_operations
            )
        } else {
            format!(
                "{} of {} secured operation(s) without a 401/403 exercised: {}",
                m.len(),
                section.secured_operations,
                first(m)
            )
        };
        out.push(Gate::decide(
            "api.secured_operations_require_negative_test",
            g.policy(),
            Check::from_bool(m.is_empty(), detail),
        ));
        neg_gate = Some(out.len() - 1);
    }
    let mut conf_gate = None;
    if let Some(g) = &config.confidential_fields_in_errors
        && g.value
    {
        let f = &section.findings;
        let declared = section.confidential_fields.len();
        // Nothing looked for, or nothing looked into: no finding proves nothing.
        let vacuous = if declared == 0 {
            Some("the description declares no field `x-confidential: true`: nothing to look for")
        } else if section.responses_inspected == 0 {
            Some(
                "no error or unauthenticated response with a JSON body was recorded (HAR files, \
                 exchange logs): nothing was looked into",
            )
        } else {
            None
        };
        let detail = if let Some(why) = vacuous {
            why.to_owned()
        } else if f.is_empty() {
            format!(
                "no confidential field ({declared} declared) in the {} error or unauthenticated \
                 response(s) inspected",
                section.responses_inspected
            )
        } else {
            let shown: Vec<String> = f
                .iter()
                .take(3)
                .map(|x| format!("`{}` in {} {}", x.field, x.operation, x.status))
                .collect();
            format!("{} finding(s): {}", f.len(), shown.join("; "))
        };
        let check = if vacuous.is_some() && f.is_empty() {
            Check::missing(detail)
        } else {
            Check::from_bool(f.is_empty(), detail)
        };
        out.push(Gate::decide(
            "api.confidential_fields_in_errors",
            g.policy(),
            check,
        ));
        conf_gate = Some(out.len() - 1);
    }
    let checks: [(&'static str, &Vec<String>, Option<usize>, bool); 3] = [
        (
            "coverage",
            &config.controls.coverage,
            coverage_gate,
            section.coverage.exercised == section.coverage.described,
        ),
        (
            "negative_auth",
            &config.controls.negative_auth,
            neg_gate,
            section.missing_negative_auth.is_empty(),
        ),
        (
            "confidential_fields",
            &config.controls.confidential_fields,
            conf_gate,
            // Evidenced only where something was looked for and looked into.
            section.findings.is_empty()
                && !section.confidential_fields.is_empty()
                && section.responses_inspected > 0,
        ),
    ];
    for (check, ids, g, natural) in checks {
        for id in ids {
            let canonical = crate::model::controls::ControlId::parse_shape(id)
                .map(|c| c.to_string())
                .unwrap_or_else(|| id.clone());
            section.controls.push(ApiControl {
                id: canonical,
                check: check.into(),
                gate: g.map(|i| out[i].name.clone()),
                passed: g.map(|i| out[i].passed).unwrap_or(natural),
            });
        }
    }
    out
}

fn first(list: &[String]) -> String {
    let mut s: Vec<&str> = list.iter().take(5).map(String::as_str).collect();
    if list.len() > 5 {
        s.push("…");
    }
    s.join(", ")
}
