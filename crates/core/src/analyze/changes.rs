//! This run against the base run and the recent default-branch runs of the ledger: per control,
//! the tests added, removed, untagged, newly failing, fixed and newly skipped; which failures
//! are new and which were failing on the base already; how often each failing test failed
//! recently and whether it is flaky. Pure: the ledger's records come in as [`History`].

use std::collections::HashMap;

use crate::analyze::aggregate::Aggregate;
use crate::model::controls::ControlId;
use crate::model::coverage::BaseUnavailable;
use crate::model::history::{
    BaseRun, ChangesSection, ControlChanges, FailureHistory, History, RecentRun, Recorded,
    RecordedTests, RecordedTotals, TestIndex, TrendPoint, test_identity,
};
use crate::model::report::Totals;

/// A failing test of this run, classified against the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingTest {
    pub id: u64,
    /// Its test id, as the report names it.
    pub test: String,
    /// Mapped to at least one control.
    pub mapped: bool,
    /// Failing on the base run too (`None`: no base run).
    pub pre_existing: Option<bool>,
    /// Failed and passed within the recent runs.
    pub flaky: bool,
}

/// The comparison, for the report and the gates.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    pub section: ChangesSection,
    pub failing: Vec<FailingTest>,
    /// Why there is no base run (`None`: there is one).
    pub base_unavailable: Option<BaseUnavailable>,
    /// Per control: the tests that evidenced it on the base and no longer do (removed,
    /// untagged, or passing there and not passing now).
    pub lost: Vec<(ControlId, Vec<String>)>,
}

/// Compares the run (`agg`, with its index) with the history. `None` when the run has no index.
pub fn compare(agg: &Aggregate, history: &History) -> Option<Comparison> {
    let index = agg.index.as_ref()?;
    // Names of this run's tests that can be reported (mapped or failing: the retained ones).
    let mut names: HashMap<u64, &str> = HashMap::with_capacity(agg.cases.len());
    let mut mapped: HashMap<u64, bool> = HashMap::new();
    for c in &agg.cases {
        let id = test_identity(&c.classname, &c.name, c.file.as_deref());
        names.insert(id, c.id.as_str());
        mapped.insert(id, !c.controls.is_empty());
    }
    let name = |id: u64| -> String {
        names
            .get(&id)
            .map_or_else(|| format!("test {id:016x}"), |n| (*n).to_owned())
    };
    let mut out = Comparison::default();
    match &history.base {
        Ok(base) => {
            out.section.base = Some(base.label.clone());
            compare_controls(index, base, &name, &mut out);
        }
        Err(u) => {
            out.section.base_unavailable = Some(u.reason.clone());
            out.base_unavailable = Some(u.clone());
        }
    }
    let base = history.base.as_ref().ok();
    out.section.recent_runs = history.recent.len();
    for &id in &index.failing {
        let pre_existing = base.map(|b| b.tests.outcome(id) == Recorded::Failing);
        let (failed, passed) =
            history
                .recent
                .iter()
                .fold((0, 0), |(f, p), r| match r.tests.outcome(id) {
                    Recorded::Failing => (f + 1, p),
                    Recorded::Passed => (f, p + 1),
                    _ => (f, p),
                });
        let flaky = failed > 0 && passed > 0;
        match pre_existing {
            Some(true) => out.section.pre_existing.push(name(id)),
            Some(false) => out.section.newly_failing.push(name(id)),
            None => {}
        }
        if !history.recent.is_empty() {
            out.section.failure_history.push(FailureHistory {
                test: name(id),
                failed,
                passed,
                flaky,
            });
        }
        out.failing.push(FailingTest {
            id,
            test: name(id),
            mapped: mapped.get(&id).copied().unwrap_or(false),
            pre_existing,
            flaky,
        });
    }
    for list in [
        &mut out.section.newly_failing,
        &mut out.section.pre_existing,
    ] {
        list.sort();
    }
    out.section
        .failure_history
        .sort_by(|a, b| a.test.cmp(&b.test));
    Some(out)
}

/// The trend: each recent run that ran tests (oldest first), then this run (`coverage`,
/// `totals`). Empty when there is no recent run to draw against.
pub fn trend(recent: &[RecentRun], coverage: Option<f64>, totals: &Totals) -> Vec<TrendPoint> {
    let mut points: Vec<TrendPoint> = recent
        .iter()
        .rev()
        .filter_map(|r| {
            Some(TrendPoint {
                run: r
                    .sha
                    .chars()
                    .filter(char::is_ascii_hexdigit)
                    .take(7)
                    .collect(),
                coverage: r.coverage,
                pass_rate: r.tests.totals.pass_rate()?,
            })
        })
        .collect();
    let Some(pass_rate) = RecordedTotals::from(totals).pass_rate() else {
        return Vec::new();
    };
    if points.is_empty() {
        return Vec::new();
    }
    points.push(TrendPoint {
        run: "this run".into(),
        coverage,
        pass_rate,
    });
    points
}

/// Per control: this run's tests (full identities) against the base run's (recorded values).
fn compare_controls(
    index: &TestIndex,
    base: &BaseRun,
    name: &dyn Fn(u64) -> String,
    out: &mut Comparison,
) {
    let rec: &RecordedTests = &base.tests;
    // This run's tests in the base run's range: is a base test still run at all?
    let mut present: Vec<u64> = index.tests.iter().map(|&h| rec.value(h)).collect();
    present.sort_unstable();
    let base_names: HashMap<u64, &str> = base.names.iter().map(|(v, n)| (*v, n.as_str())).collect();
    let base_name = |v: u64| -> String {
        base_names.get(&v).map_or_else(
            || {
                format!(
                    "a test of ledger entry #{} (name not in its report)",
                    base.seq
                )
            },
            |n| (*n).to_owned(),
        )
    };
    let mut ids: Vec<ControlId> = index.controls.iter().map(|(c, _)| *c).collect();
    ids.extend(
        rec.controls
            .iter()
            .filter_map(|(c, _)| ControlId::parse_shape(c)),
    );
    ids.sort();
    ids.dedup();
    for cid in ids {
        let head = index.control(cid);
        let was = rec.control(&cid.to_string());
        let mut ch = ControlChanges::new(cid);
        let mut lost = Vec::new();
        let mut head_values: Vec<u64> = Vec::with_capacity(head.len());
        for &h in head {
            let v = rec.value(h);
            head_values.push(v);
            if was.binary_search(&v).is_err() {
                ch.added.push(name(h));
                continue;
            }
            let before = rec.outcome_of_value(v);
            let now = if index.is_failing(h) {
                Recorded::Failing
            } else if index.is_skipped(h) {
                Recorded::Skipped
            } else {
                Recorded::Passed
            };
            match (before, now) {
                (Recorded::Passed | Recorded::Skipped, Recorded::Failing) => {
                    ch.newly_failing.push(name(h));
                }
                (Recorded::Failing, Recorded::Passed) => ch.fixed.push(name(h)),
                (Recorded::Passed | Recorded::Failing, Recorded::Skipped) => {
                    ch.newly_skipped.push(name(h));
                }
                _ => {}
            }
            if before == Recorded::Passed && now != Recorded::Passed {
                lost.push(name(h));
            }
        }
        head_values.sort_unstable();
        for &v in was {
            if head_values.binary_search(&v).is_ok() {
                continue;
            }
            if present.binary_search(&v).is_ok() {
                ch.untagged.push(base_name(v));
            } else {
                ch.removed.push(base_name(v));
            }
        }
        lost.extend(ch.removed.iter().chain(&ch.untagged).cloned());
        for list in [
            &mut ch.added,
            &mut ch.removed,
            &mut ch.untagged,
            &mut ch.newly_failing,
            &mut ch.fixed,
            &mut ch.newly_skipped,
            &mut lost,
        ] {
            list.sort();
        }
        if !lost.is_empty() {
            out.lost.push((cid, lost));
        }
        if !ch.is_empty() {
            out.section.controls.push(ch);
        }
    }
}

/// The recorded values of base control tests that this run no longer has under that control:
/// the ones whose names the base run's report must supply.
pub fn gone_from_controls(index: &TestIndex, base: &RecordedTests) -> Vec<u64> {
    let mut gone = Vec::new();
    for (cid, was) in &base.controls {
        let mut head: Vec<u64> = ControlId::parse_shape(cid)
            .map(|c| index.control(c).iter().map(|&h| base.value(h)).collect())
            .unwrap_or_default();
        head.sort_unstable();
        gone.extend(was.iter().filter(|v| head.binary_search(v).is_err()));
    }
    gone.sort_unstable();
    gone.dedup();
    gone
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::model::report::{CaseControl, CaseReport};
    use crate::model::{Carrier, CaseStatus};

    fn cid(s: &str) -> ControlId {
        ControlId::parse_shape(s).unwrap()
    }

    struct Run {
        tests: Vec<(&'static str, CaseStatus, &'static [&'static str])>,
    }

    impl Run {
        fn index(&self) -> TestIndex {
            let mut ix = TestIndex::default();
            for (name, status, controls) in &self.tests {
                let id = test_identity("c", name, None);
                ix.tests.push(id);
                if status.is_failure() {
                    ix.failing.push(id);
                }
                if *status == CaseStatus::Skipped {
                    ix.skipped.push(id);
                }
                for c in *controls {
                    match ix.controls.iter_mut().find(|(x, _)| *x == cid(c)) {
                        Some((_, l)) => l.push(id),
                        None => ix.controls.push((cid(c), vec![id])),
                    }
                }
            }
            ix.tests.sort_unstable();
            ix.failing.sort_unstable();
            ix.skipped.sort_unstable();
            ix.controls.sort_by_key(|(c, _)| *c);
            for (_, l) in &mut ix.controls {
                l.sort_unstable();
            }
            ix
        }

        fn aggregate(&self) -> Aggregate {
            let cases = self
                .tests
                .iter()
                .filter(|(_, s, c)| s.is_failure() || !c.is_empty())
                .map(|(name, status, controls)| CaseReport {
                    id: format!("c::{name}"),
                    suite: "s".into(),
                    classname: "c".into(),
                    name: (*name).into(),
                    file: None,
                    line: None,
                    location: None,
                    status: *status,
                    flaky: false,
                    duration_s: 0.0,
                    runs: 1,
                    input: 0,
                    message: None,
                    message_bytes: None,
                    controls: controls
                        .iter()
                        .map(|c| CaseControl {
                            id: cid(c),
                            carrier: Carrier::NameMarker,
                        })
                        .collect(),
                })
                .collect();
            Aggregate {
                totals: Totals::default(),
                controls: Vec::new(),
                cases,
                unknown_tags: Vec::new(),
                warnings: Vec::new(),
                tagged: Totals::default(),
                index: Some(self.index()),
            }
        }

        fn recorded(&self) -> RecordedTests {
            self.index().record(RecordedTotals::default())
        }
    }

    const P: CaseStatus = CaseStatus::Passed;
    const F: CaseStatus = CaseStatus::Failed;
    const S: CaseStatus = CaseStatus::Skipped;

    fn base_run(run: &Run) -> BaseRun {
        let tests = run.recorded();
        let names = run
            .tests
            .iter()
            .map(|(n, _, _)| (tests.value(test_identity("c", n, None)), format!("c::{n}")))
            .collect();
        BaseRun {
            label: "ledger entry #5".into(),
            seq: 5,
            sha: "abc".into(),
            tests,
            names,
        }
    }

    #[test]
    fn per_control_changes_against_the_base() {
        let base = Run {
            tests: vec![
                ("keep", P, &["CC6.1"]),
                ("deleted", P, &["CC6.1"]),
                ("untagged", P, &["CC6.1"]),
                ("breaks", P, &["CC6.1"]),
                ("heals", F, &["CC6.1"]),
                ("skips", P, &["CC6.1"]),
                ("old_failure", F, &[]),
            ],
        };
        let head = Run {
            tests: vec![
                ("keep", P, &["CC6.1"]),
                ("untagged", P, &[]),
                ("breaks", F, &["CC6.1"]),
                ("heals", P, &["CC6.1"]),
                ("skips", S, &["CC6.1"]),
                ("new", P, &["CC6.1", "CC8.1"]),
                ("old_failure", F, &[]),
            ],
        };
        let history = History {
            base: Ok(base_run(&base)),
            recent: Vec::new(),
        };
        let c = compare(&head.aggregate(), &history).unwrap();
        let cc61 = c
            .section
            .controls
            .iter()
            .find(|x| x.id == cid("CC6.1"))
            .unwrap();
        assert_eq!(cc61.added, ["c::new"]);
        assert_eq!(cc61.removed, ["c::deleted"]);
        assert_eq!(cc61.untagged, ["c::untagged"]);
        assert_eq!(cc61.newly_failing, ["c::breaks"]);
        assert_eq!(cc61.fixed, ["c::heals"]);
        assert_eq!(cc61.newly_skipped, ["c::skips"]);
        let cc81 = &c.section.controls[1];
        assert_eq!(
            (cc81.id, cc81.added.as_slice()),
            (cid("CC8.1"), &["c::new".to_owned()][..])
        );
        assert_eq!(c.section.newly_failing, ["c::breaks"]);
        assert_eq!(c.section.pre_existing, ["c::old_failure"]);
        let lost = &c.lost[0];
        assert_eq!(lost.0, cid("CC6.1"));
        assert_eq!(
            lost.1,
            ["c::breaks", "c::deleted", "c::skips", "c::untagged"]
        );
        assert_eq!(c.lost.len(), 1, "CC8.1 only gained");
        assert_eq!(
            gone_from_controls(&head.index(), &history.base.unwrap().tests).len(),
            2
        );
    }

    #[test]
    fn flaky_from_recent_runs() {
        let head = Run {
            tests: vec![("flip", F, &[]), ("always", F, &[]), ("new", F, &[])],
        };
        let recent = (0..10)
            .map(|i| {
                let flip = if i % 3 == 0 { F } else { P };
                RecentRun {
                    seq: i,
                    sha: format!("{i}"),
                    date: "2026-01-01".into(),
                    tests: Run {
                        tests: vec![("flip", flip, &[]), ("always", F, &[])],
                    }
                    .recorded(),
                    coverage: None,
                }
            })
            .collect();
        let history = History {
            base: Err(BaseUnavailable {
                reason: "none".into(),
                untrusted: false,
            }),
            recent,
        };
        let c = compare(&head.aggregate(), &history).unwrap();
        let h: Vec<(&str, usize, usize, bool)> = c
            .section
            .failure_history
            .iter()
            .map(|f| (f.test.as_str(), f.failed, f.passed, f.flaky))
            .collect();
        assert_eq!(
            h,
            [
                ("c::always", 10, 0, false),
                ("c::flip", 4, 6, true),
                ("c::new", 0, 0, false)
            ]
        );
        assert!(c.failing.iter().all(|f| f.pre_existing.is_none()));
        assert_eq!(c.section.base_unavailable.as_deref(), Some("none"));
    }
}
