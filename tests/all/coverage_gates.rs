//! Coverage gates: each passing, failing and informational; the "decreased 0.0 %" trap; config.

use controlgate::analyze::coverage::{CoverageConfig, evaluate_gates};
use controlgate::model::coverage::{CoverageSection, CoverageTotals, PatchCoverage, Percent};
use controlgate::model::gate::{Gate, GateResult, GateStatus};

/// head covered/measured, base covered/measured (None: no base), patch covered/measured.
pub fn section(head: (u64, u64), base: Option<(u64, u64)>, patch: (u64, u64)) -> CoverageSection {
    let tot = |(c, m): (u64, u64)| CoverageTotals {
        lines_covered: c,
        lines_measured: m,
        percent: Percent::ratio(c, m),
        ..Default::default()
    };
    CoverageSection {
        head: tot(head),
        base: base.map(tot),
        delta_pp: base.and_then(|(bc, bm)| Percent::delta(head.0, head.1, bc, bm)),
        patch: PatchCoverage {
            covered: patch.0,
            measured: patch.1,
            changed: patch.1 + 3,
            percent: Percent::ratio(patch.0, patch.1),
            files: Vec::new(),
        },
        ..Default::default()
    }
}

fn cfg(yaml: &str) -> CoverageConfig {
    serde_yaml_ng::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

fn one(s: &CoverageSection, yaml: &str) -> Gate {
    let g = evaluate_gates(Some(s), &cfg(yaml));
    assert_eq!(g.len(), 1, "{g:?}");
    g.into_iter().next().unwrap()
}

#[test]
fn project_min() {
    let s = section((8000, 10000), None, (1, 1));
    assert!(one(&s, "project: {min: 80}").passed);
    let g = one(&s, "project: {min: 80.01}");
    assert!(!g.passed && g.status == GateStatus::Fail, "{g:?}");
    assert!(
        g.detail.contains("80.00%") && g.detail.contains("80.01%"),
        "{}",
        g.detail
    );
    let g = one(&s, "project: {min: {value: 90, informational: true}}");
    assert!(!g.passed);
    assert_eq!(g.status, GateStatus::Informational);
}

#[test]
fn project_max_drop() {
    // 80.00 → 79.00: a 1.00 point drop
    let s = section((7900, 10000), Some((8000, 10000)), (1, 1));
    assert!(
        one(&s, "project: {max_drop: 1}").passed,
        "equal to threshold passes"
    );
    assert!(
        !one(&s, "project: {max_drop: 0.99}").passed,
        "strictly larger fails"
    );
    let g = one(&s, "project: {max_drop: {value: 0.5, informational: true}}");
    assert!(!g.passed && g.status == GateStatus::Informational);
    assert!(
        one(&s, "project: {max_drop: 0}")
            .detail
            .contains("-1.00 pp")
    );
    // gains always pass
    let up = section((8100, 10000), Some((8000, 10000)), (1, 1));
    assert!(one(&up, "project: {max_drop: 0}").passed);
    // no base report: not evaluated, says so, and fails closed unless told otherwise
    let nobase = section((7900, 10000), None, (1, 1));
    let g = one(&nobase, "project: {max_drop: 0}");
    assert_eq!(
        (g.status, g.result),
        (GateStatus::Fail, GateResult::NotEvaluated)
    );
    assert!(
        g.detail.contains("not evaluated: no base coverage"),
        "{g:?}"
    );
    let g = one(
        &nobase,
        "project: {max_drop: {value: 0, when_unavailable: pass}}",
    );
    assert_eq!(
        (g.status, g.result),
        (GateStatus::Pass, GateResult::NotEvaluated)
    );
    // a base that failed verification fails whatever `when_unavailable` says
    let mut tampered = nobase.clone();
    tampered.base_unavailable = Some(controlgate::model::coverage::BaseUnavailable {
        reason: "the evidence ledger is not intact".into(),
        untrusted: true,
    });
    let g = one(
        &tampered,
        "project: {max_drop: {value: 0, when_unavailable: pass}}",
    );
    assert_eq!(
        (g.status, g.result),
        (GateStatus::Fail, GateResult::NotEvaluated)
    );
    assert!(g.detail.contains("ledger is not intact"), "{g:?}");
}

/// Coverage gates configured, no coverage report read: each is not evaluated.
#[test]
fn gates_without_a_report_are_not_evaluated() {
    let gates = evaluate_gates(
        None,
        &cfg("project: {min: 80, max_drop: {value: 1, when_unavailable: pass}}\npatch: {min: 70}"),
    );
    let got: Vec<(&str, GateStatus, GateResult)> = gates
        .iter()
        .map(|g| (g.name.as_str(), g.status, g.result))
        .collect();
    assert_eq!(
        got,
        [
            (
                "coverage.project.min",
                GateStatus::Fail,
                GateResult::NotEvaluated
            ),
            (
                "coverage.project.max_drop",
                GateStatus::Pass,
                GateResult::NotEvaluated
            ),
            (
                "coverage.patch.min",
                GateStatus::Fail,
                GateResult::NotEvaluated
            ),
        ]
    );
    assert!(gates[0].detail.contains("no coverage report was given"));
    // nothing configured: nothing to evaluate
    assert!(evaluate_gates(None, &CoverageConfig::default()).is_empty());
}

/// "decreased 0.0 %": a drop that rounds to 0.00 points never fails, even with max_drop 0.
#[test]
fn rounding_trap_decreased_zero() {
    // 80.000 % → 79.996 %: exact drop 0.004 points, shown as 0.00
    let s = section((199_990, 250_000), Some((200_000, 250_000)), (1, 1));
    assert_eq!(s.delta_pp, Some(Percent(0)));
    let g = one(&s, "project: {max_drop: 0}");
    assert!(g.passed, "{g:?}");
    // 0.005 points rounds half away from zero to 0.01: that is a real (shown) drop
    let s = section((79_995, 100_000), Some((80_000, 100_000)), (1, 1));
    assert_eq!(s.delta_pp, Some(Percent(-1)));
    assert!(!one(&s, "project: {max_drop: 0}").passed);
    assert!(one(&s, "project: {max_drop: 0.01}").passed);
}

/// The minimums compare the exact ratio: a ratio that rounds up to the minimum is below it
/// (99,999 of 100,000 lines passed `min: 100` as "100.00%"), and the detail says so without
/// showing the minimum itself.
#[test]
fn a_minimum_is_not_met_by_rounding_up_to_it() {
    let s = section((99_999, 100_000), None, (199_999, 200_000));
    let g = one(&s, "project: {min: 100}");
    assert!(!g.passed, "{g:?}");
    assert_eq!(
        g.detail,
        "project coverage 99.999% (99999/100000 lines) is below minimum 100.00%"
    );
    let g = one(&s, "patch: {min: 100}");
    assert!(!g.passed, "{g:?}");
    assert!(
        g.detail
            .starts_with("patch coverage 99.999% (199999/200000"),
        "{}",
        g.detail
    );
    // A minimum with more decimals is shown with them: never "66.67% is below 66.67%".
    let g = one(&section((2, 3), None, (1, 1)), "project: {min: 66.674}");
    assert!(
        !g.passed && g.detail.ends_with("is below minimum 66.674%"),
        "{}",
        g.detail
    );
    let s = section((2, 3), None, (2, 3));
    assert!(!one(&s, "project: {min: 66.67}").passed);
    assert!(one(&s, "project: {min: 66.66}").passed);
    assert!(!one(&s, "patch: {min: 66.67}").passed);
    let s = section((100_000, 100_000), None, (3, 3));
    assert!(one(&s, "project: {min: 100}").passed && one(&s, "patch: {min: 100}").passed);
}

#[test]
fn patch_min_and_no_lines() {
    let s = section((1, 1), None, (7, 10));
    assert!(one(&s, "patch: {min: 70}").passed);
    assert!(!one(&s, "patch: {min: 70.01}").passed);
    assert_eq!(
        one(&s, "patch: {min: {value: 99, informational: true}}").status,
        GateStatus::Informational
    );
    let none = section((1, 1), None, (0, 0));
    let g = one(&none, "patch: {min: 90}");
    assert_eq!(g.name, "coverage.patch.when_no_lines");
    assert!(
        g.passed && g.detail.contains("no measurable changed lines"),
        "{g:?}"
    );
    assert!(!one(&none, "patch: {min: 90, when_no_lines: fail}").passed);
    let g = one(
        &none,
        "patch: {when_no_lines: {result: fail, informational: true}}",
    );
    assert!(!g.passed && g.status == GateStatus::Informational);
    // no gates configured: nothing evaluated
    assert!(evaluate_gates(Some(&none), &CoverageConfig::default()).is_empty());
}

#[test]
fn config_rejects_unknown_keys() {
    assert!(serde_yaml_ng::from_str::<CoverageConfig>("project: {minimum: 80}").is_err());
    assert!(serde_yaml_ng::from_str::<CoverageConfig>("pach: {min: 80}").is_err());
    assert!(serde_yaml_ng::from_str::<CoverageConfig>("patch: {when_no_lines: maybe}").is_err());
    let c = cfg("path_fixes: ['/app/::']\nsource_roots: [app/src]\nindirect_changes: 5\n");
    assert_eq!(c.path_fixes, vec!["/app/::"]);
    assert_eq!(c.indirect_changes, Some(5));
}

/// Reports that measure no line at all are no coverage: the patch gates are not evaluated
/// (and fail unless `when_unavailable: pass`), not passed by `when_no_lines` as if the change
/// had touched no measured line.
#[test]
fn patch_gates_on_reports_measuring_nothing_are_not_evaluated() {
    let nothing = section((0, 0), None, (0, 0));
    for yaml in ["patch: {min: 80}", "patch: {min: 80, when_no_lines: pass}"] {
        let g = one(&nothing, yaml);
        assert_eq!(
            (g.name.as_str(), g.status, g.result),
            (
                "coverage.patch.min",
                GateStatus::Fail,
                GateResult::NotEvaluated
            ),
            "{yaml}: {g:?}"
        );
        assert!(g.detail.contains("measure no line at all"), "{g:?}");
    }
    let g = one(
        &nothing,
        "patch: {min: {value: 80, when_unavailable: pass}}",
    );
    assert_eq!(
        (g.status, g.result),
        (GateStatus::Pass, GateResult::NotEvaluated)
    );
    let g = one(&nothing, "patch: {when_no_lines: pass}");
    assert_eq!(
        (g.name.as_str(), g.status, g.result),
        (
            "coverage.patch.when_no_lines",
            GateStatus::Fail,
            GateResult::NotEvaluated
        ),
    );
    // Lines measured elsewhere, none changed: `when_no_lines` still decides.
    let elsewhere = section((5, 10), None, (0, 0));
    let g = one(&elsewhere, "patch: {min: 80}");
    assert_eq!(g.name, "coverage.patch.when_no_lines");
    assert!(g.passed, "{g:?}");
}

/// The reviewer's repro end to end: a changed `src/m.py`, an LCOV record for it with no `DA`
/// line, `patch.min: 80` → exit 1, the patch gate not evaluated.
#[test]
fn an_empty_lcov_record_fails_patch_min_end_to_end() {
    use crate::coverage_util::git;
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("src/m.py"), "a = 1\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "base"]);
    git(&repo, &["checkout", "-qb", "feature"]);
    std::fs::write(repo.join("src/m.py"), "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\n").unwrap();
    git(&repo, &["commit", "-qam", "feature"]);
    let results = t.path().join("pass.xml");
    std::fs::write(
        &results,
        "<testsuite name=\"s\"><testcase classname=\"m\" name=\"t\"/></testsuite>",
    )
    .unwrap();
    let lcov = t.path().join("lcov_empty.info");
    std::fs::write(&lcov, "SF:src/m.py\nend_of_record\n").unwrap();
    let config = t.path().join("c.yml");
    std::fs::write(&config, "coverage:\n  patch: {min: 80}\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_controlgate"))
        .current_dir(&repo)
        .args(["report", "--format", "json", "--results"])
        .arg(&results)
        .arg("--coverage")
        .arg(&lcov)
        .arg("--config")
        .arg(&config)
        .args(["--base", "main"])
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report.json");
    assert_eq!(report["coverage"]["head"]["lines_measured"], 0);
    assert_eq!(report["coverage"]["patch"]["changed"], 4);
    let gates = report["gates"].as_array().unwrap();
    let patch: Vec<_> = gates
        .iter()
        .filter(|g| g["name"].as_str().unwrap().starts_with("coverage.patch"))
        .collect();
    assert_eq!(patch.len(), 1, "{gates:?}");
    assert_eq!(patch[0]["name"], "coverage.patch.min");
    assert_eq!(patch[0]["status"], "fail");
    assert_eq!(patch[0]["result"], "not_evaluated", "{:?}", patch[0]);
}
