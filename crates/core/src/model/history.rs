//! Which tests a run had, by identity, as the ledger keeps them for later runs to compare with:
//! the tests present, the failing and skipped ones, and each control's tests.
//!
//! A test's identity is the low 64 bits of the XXH3-128 hash of its classname, name and file
//! (the aggregator's duplicate key, [`test_key`]). The ledger keeps each run's identities
//! *reduced* to the range `[0, n·2^P)` (`n` the run's tests, [`REDUCED_BITS`] = `P`), which is
//! what makes 200,000 tests fit in well under a megabyte: a sorted set of reduced values costs
//! about `P + 2` bits per test once its gaps are Rice-coded. A test of another run is looked up
//! by reducing its own identity into this run's range; a test that was not in the run matches
//! by accident with probability about 2^-P per lookup, and only tests that changed are ever
//! looked up that way, so the comparison is exact in practice.

use serde::{Deserialize, Serialize};

use crate::model::controls::ControlId;
use crate::model::coverage::BaseUnavailable;

/// `P`: bits of the reduced range per test (a false match about once per 2^20 lookups).
pub const REDUCED_BITS: u32 = 20;

/// The identity key of a test: XXH3-128 of classname, name and the file the report gives.
pub fn test_key(classname: &str, name: &str, file: Option<&str>) -> u128 {
    let parts = [
        classname.as_bytes(),
        name.as_bytes(),
        file.unwrap_or("").as_bytes(),
    ];
    // XXH3 of the same bytes, streamed or in one call, is the same hash; the one-call form
    // skips the streaming state's set-up (a fifth of the aggregation's time per test). The
    // bytes are put together in a buffer kept for the thread: a fresh one on the stack was
    // zeroed whole for every test.
    thread_local! {
        static IDENTITY: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    IDENTITY.with_borrow_mut(|buf| {
        buf.clear();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                buf.push(0xff);
            }
            buf.extend_from_slice(part);
        }
        let key = xxhash_rust::xxh3::xxh3_128(buf);
        // A huge identity once does not keep its memory for the rest of the run.
        if buf.capacity() > 4096 {
            *buf = Vec::new();
        }
        key
    })
}

/// The 64-bit identity a run's index is made of.
pub fn test_identity(classname: &str, name: &str, file: Option<&str>) -> u64 {
    test_key(classname, name, file) as u64
}

/// Every distinct test of this run by full 64-bit identity (each list sorted, no duplicates).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestIndex {
    pub tests: Vec<u64>,
    /// Failed or errored.
    pub failing: Vec<u64>,
    pub skipped: Vec<u64>,
    /// Per control (catalog order): the tests mapped to it.
    pub controls: Vec<(ControlId, Vec<u64>)>,
}

impl TestIndex {
    pub fn contains(&self, id: u64) -> bool {
        self.tests.binary_search(&id).is_ok()
    }
    pub fn is_failing(&self, id: u64) -> bool {
        self.failing.binary_search(&id).is_ok()
    }
    pub fn is_skipped(&self, id: u64) -> bool {
        self.skipped.binary_search(&id).is_ok()
    }
    pub fn control(&self, id: ControlId) -> &[u64] {
        self.controls
            .iter()
            .find(|(c, _)| *c == id)
            .map_or(&[], |(_, t)| t.as_slice())
    }

    /// The form the ledger keeps, with this run's totals.
    pub fn record(&self, totals: RecordedTotals) -> RecordedTests {
        let range = (self.tests.len() as u64).max(1) << REDUCED_BITS;
        let reduce_all = |ids: &[u64]| -> Vec<u64> {
            // Reduction keeps order: sorted identities give sorted values.
            ids.iter().map(|&h| reduce(h, range)).collect()
        };
        RecordedTests {
            totals,
            range,
            tests: reduce_all(&self.tests),
            failing: reduce_all(&self.failing),
            skipped: reduce_all(&self.skipped),
            controls: self
                .controls
                .iter()
                .map(|(c, ids)| (c.to_string(), reduce_all(ids)))
                .collect(),
        }
    }
}

/// `h` scaled into `[0, range)`: the high bits of `h · range` (order-preserving).
pub fn reduce(h: u64, range: u64) -> u64 {
    ((u128::from(h) * u128::from(range)) >> 64) as u64
}

/// A run's test counts as the ledger keeps them (for trends and pass rates).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordedTotals {
    pub total: u64,
    pub passed: u64,
    pub failed: u64,
    pub errored: u64,
    pub skipped: u64,
}

impl RecordedTotals {
    /// Passed of the tests that ran, in percent (`None`: none ran).
    pub fn pass_rate(&self) -> Option<f64> {
        let ran = self.passed + self.failed + self.errored;
        (ran > 0).then(|| self.passed as f64 * 100.0 / ran as f64)
    }
}

/// A run's tests as the ledger keeps them: identities reduced to `[0, range)`, each list
/// sorted (equal values possible: two tests may reduce to one value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedTests {
    pub totals: RecordedTotals,
    /// `n·2^P`, `n` the number of tests (at least 1).
    pub range: u64,
    pub tests: Vec<u64>,
    pub failing: Vec<u64>,
    pub skipped: Vec<u64>,
    /// Per control id (as written, e.g. `CC6.1`): its tests.
    pub controls: Vec<(String, Vec<u64>)>,
}

/// How a test ended in a recorded run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Absent,
    Passed,
    Failing,
    Skipped,
}

impl RecordedTests {
    /// This run's value for a test of another run (its 64-bit identity).
    pub fn value(&self, id: u64) -> u64 {
        reduce(id, self.range)
    }

    /// How the test with identity `id` ended in this run.
    pub fn outcome(&self, id: u64) -> Recorded {
        self.outcome_of_value(self.value(id))
    }

    pub fn outcome_of_value(&self, v: u64) -> Recorded {
        if self.failing.binary_search(&v).is_ok() {
            Recorded::Failing
        } else if self.skipped.binary_search(&v).is_ok() {
            Recorded::Skipped
        } else if self.tests.binary_search(&v).is_ok() {
            Recorded::Passed
        } else {
            Recorded::Absent
        }
    }

    /// The recorded tests of control `id` (empty when it had none).
    pub fn control(&self, id: &str) -> &[u64] {
        self.controls
            .iter()
            .find(|(c, _)| c == id)
            .map_or(&[], |(_, t)| t.as_slice())
    }
}

/// What the decision knows of earlier runs, gathered from the ledger.
#[derive(Debug, Clone)]
pub struct History {
    /// The base run (the merge-base's entry, or its nearest first-parent ancestor's, with a
    /// test record), or why there is none.
    pub base: Result<BaseRun, BaseUnavailable>,
    /// The recent default-branch runs with a test record, newest first (at most
    /// `tests.history`); empty when there are none.
    pub recent: Vec<RecentRun>,
}

/// The base run's tests, with the names of those a comparison may report as gone.
#[derive(Debug, Clone)]
pub struct BaseRun {
    /// "ledger entry #12 for commit abc1234, the merge-base".
    pub label: String,
    pub seq: u64,
    pub sha: String,
    pub tests: RecordedTests,
    /// Names (test ids as the base run's report gave them) by recorded value, for the tests
    /// of a base control that this run no longer has under it.
    pub names: Vec<(u64, String)>,
}

/// One recent default-branch run.
#[derive(Debug, Clone)]
pub struct RecentRun {
    pub seq: u64,
    pub sha: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub tests: RecordedTests,
    /// Project line coverage, when it was measured.
    pub coverage: Option<f64>,
}

/// `report.json`'s `changes`: this run against the base run and the recent history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangesSection {
    /// Which run was compared with (`None`: see `base_unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_unavailable: Option<String>,
    /// Per control with any change, in catalog order.
    pub controls: Vec<ControlChanges>,
    /// Failing now, passing, skipped or absent on the base (every test, mapped or not).
    pub newly_failing: Vec<String>,
    /// Failing now and on the base.
    pub pre_existing: Vec<String>,
    /// How many recent default-branch runs the failure history covers.
    pub recent_runs: usize,
    /// Per failing test: how often it failed recently, and whether it is flaky.
    pub failure_history: Vec<FailureHistory>,
    /// Project coverage and pass rate of the recent default-branch runs, oldest first, then
    /// this run (the summary's chart).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trend: Vec<TrendPoint>,
}

/// One run of the trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// The commit's first 7 hex digits, or `this run`.
    pub run: String,
    /// Project line coverage in percent, when measured.
    pub coverage: Option<f64>,
    /// Passed of the tests that ran, in percent.
    pub pass_rate: f64,
}

/// What changed under one control against the base run (test ids).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlChanges {
    pub id: ControlId,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Still run, no longer mapped to the control.
    pub untagged: Vec<String>,
    pub newly_failing: Vec<String>,
    pub fixed: Vec<String>,
    pub newly_skipped: Vec<String>,
}

impl ControlChanges {
    pub fn new(id: ControlId) -> Self {
        ControlChanges {
            id,
            added: Vec::new(),
            removed: Vec::new(),
            untagged: Vec::new(),
            newly_failing: Vec::new(),
            fixed: Vec::new(),
            newly_skipped: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.untagged.is_empty()
            && self.newly_failing.is_empty()
            && self.fixed.is_empty()
            && self.newly_skipped.is_empty()
    }
}

/// A failing test's recent history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureHistory {
    pub test: String,
    /// Failed in this many of the `recent_runs`.
    pub failed: usize,
    /// Passed in this many of them.
    pub passed: usize,
    /// Failed and passed within the window (or flipped between reruns of this run).
    pub flaky: bool,
}

crate::redact_fields!(ChangesSection: base, base_unavailable, controls, newly_failing, pre_existing, failure_history, trend);
crate::redact_fields!(ControlChanges: added, removed, untagged, newly_failing, fixed, newly_skipped);
crate::redact_fields!(FailureHistory: test);
crate::redact_fields!(TrendPoint: run);

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn a_test_key_is_the_hash_of_its_identity_at_any_length() {
        // Ledger entries hold these keys: the one-call form must give what the streamed one
        // gave, at any length, and from the thread's buffer after a long identity let it go.
        for len in [
            0usize, 1, 100, 250, 253, 254, 255, 300, 509, 510, 511, 600, 5000, 3, 4200, 4097,
        ] {
            let classname = "c".repeat(len / 2);
            let name = "n".repeat(len - len / 2);
            for file in [None, Some("tests/x.py")] {
                let mut h = xxhash_rust::xxh3::Xxh3Default::new();
                h.update(classname.as_bytes());
                h.update(&[0xff]);
                h.update(name.as_bytes());
                h.update(&[0xff]);
                h.update(file.unwrap_or("").as_bytes());
                assert_eq!(
                    test_key(&classname, &name, file),
                    h.digest128(),
                    "{len} {file:?}"
                );
            }
        }
        assert_ne!(test_key("a", "b", None), test_key("a", "", Some("b")));
    }

    #[test]
    fn reduction_keeps_order_and_range() {
        let range = 3u64 << REDUCED_BITS;
        let mut ids = [0u64, 1, u64::MAX / 3, u64::MAX / 2, u64::MAX - 1, u64::MAX];
        ids.sort_unstable();
        let values: Vec<u64> = ids.iter().map(|&h| reduce(h, range)).collect();
        assert!(values.windows(2).all(|w| w[0] <= w[1]));
        assert!(values.iter().all(|&v| v < range));
        assert_eq!(values[0], 0);
        assert_eq!(values[5], range - 1);
    }

    #[test]
    fn outcomes_by_identity_of_another_run() {
        let a = test_identity("c", "a", None);
        let b = test_identity("c", "b", None);
        let gone = test_identity("c", "gone", None);
        let mut tests = vec![a, b];
        tests.sort_unstable();
        let index = TestIndex {
            tests,
            failing: vec![b],
            skipped: vec![],
            controls: vec![(ControlId::parse_shape("CC6.1").unwrap(), vec![a])],
        };
        let rec = index.record(RecordedTotals::default());
        assert_eq!(rec.range, 2 << REDUCED_BITS);
        assert_eq!(rec.outcome(a), Recorded::Passed);
        assert_eq!(rec.outcome(b), Recorded::Failing);
        assert_eq!(rec.outcome(gone), Recorded::Absent);
        assert_eq!(rec.control("CC6.1"), &[rec.value(a)]);
        assert!(rec.control("CC7.2").is_empty());
    }
}
