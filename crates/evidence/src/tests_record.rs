//! The ledger entry's `tests` record: a run's tests by identity, compact enough that a
//! 200,000-test run adds well under a megabyte to its entry (see `docs/evidence.md`).
//!
//! ```json
//! "tests": {
//!   "counts": {"total": 7, "passed": 5, "failed": 1, "errored": 0, "skipped": 1},
//!   "ids": {"n": 7, "p": 20, "rice": "<base64>"},
//!   "failing": {"n": 1, "p": 2, "rice": "<base64>"},
//!   "skipped": {"n": 1, "p": 2, "rice": "<base64>"},
//!   "controls": [{"id": "CC6.1", "n": 3, "p": 1, "rice": "<base64>"}]
//! }
//! ```
//!
//! `ids` holds the run's test identities reduced to `[0, n·2^p)` (see
//! `controlgate_core::model::history`), sorted; `failing`, `skipped` and each control hold
//! positions in `ids`. Every list is stored as the gaps between its sorted values (the first
//! from 0), each gap Rice-coded with parameter `p` (the quotient `gap >> p` in unary — that
//! many 1 bits, then a 0 — followed by the low `p` bits), most significant bit first, the last
//! byte padded with zeros, in standard base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bitstream_io::{BigEndian, BitRead, BitReader, BitWrite, BitWriter};
use serde::{Deserialize, Serialize};

use crate::model::history::{REDUCED_BITS, RecordedTests, RecordedTotals};

/// The `tests` field of a ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestsRecord {
    pub counts: Counts,
    pub ids: RiceList,
    pub failing: RiceList,
    pub skipped: RiceList,
    pub controls: Vec<ControlList>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub total: u64,
    pub passed: u64,
    pub failed: u64,
    pub errored: u64,
    pub skipped: u64,
}

/// A sorted list of `n` values, Rice-coded with parameter `p`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiceList {
    pub n: u64,
    pub p: u32,
    pub rice: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlList {
    pub id: String,
    #[serde(flatten)]
    pub list: RiceList,
}

impl RiceList {
    /// Codes `values` (sorted ascending) with parameter `p`.
    pub fn encode(values: &[u64], p: u32) -> RiceList {
        let mut w = BitWriter::endian(Vec::new(), BigEndian);
        let mut prev = 0u64;
        for &v in values {
            let gap = v - prev;
            prev = v;
            // Writing into a Vec cannot fail. With `p` chosen for the list (the ids' fixed
            // width over their range n·2^p, ⌊log2(universe/k)⌋ for positions) the quotients of
            // all gaps add up to at most about 2k; a quotient beyond u32 would be a caller's bug.
            let q = u32::try_from(gap >> p).unwrap_or(u32::MAX);
            debug_assert!(q < u32::MAX, "Rice parameter {p} too small for gap {gap}");
            let _ = w.write_unary::<0>(q);
            if p > 0 {
                let _ = w.write_var(p, gap & ((1u64 << p) - 1));
            }
        }
        let _ = w.byte_align();
        RiceList {
            n: values.len() as u64,
            p,
            rice: STANDARD.encode(w.into_writer()),
        }
    }

    /// The values, or what is wrong with the list.
    pub fn decode(&self) -> Result<Vec<u64>, String> {
        if self.p > 48 {
            return Err(format!("Rice parameter {} is out of range", self.p));
        }
        let bytes = STANDARD
            .decode(&self.rice)
            .map_err(|e| format!("not base64: {e}"))?;
        // Each value takes at least p+1 bits: a count beyond that is not this list's.
        if self.n.saturating_mul(u64::from(self.p) + 1) > bytes.len() as u64 * 8 {
            return Err(format!(
                "{} values do not fit in {} bytes",
                self.n,
                bytes.len()
            ));
        }
        let mut r = BitReader::endian(bytes.as_slice(), BigEndian);
        let mut out = Vec::with_capacity(self.n as usize);
        let mut prev = 0u64;
        for _ in 0..self.n {
            let q = r.read_unary::<0>().map_err(|_| "the list ends early")?;
            let low: u64 = if self.p > 0 {
                r.read_var(self.p).map_err(|_| "the list ends early")?
            } else {
                0
            };
            let gap = (u64::from(q) << self.p) | low;
            prev = prev.checked_add(gap).ok_or("a value overflows")?;
            out.push(prev);
        }
        Ok(out)
    }
}

/// Rice parameter for `k` sorted values spread over `[0, universe)`: ⌊log2(universe/k)⌋.
fn parameter(k: usize, universe: u64) -> u32 {
    if k == 0 {
        return 0;
    }
    (universe / k as u64).max(1).ilog2()
}

/// Positions in `ids` (sorted) of `values` (sorted, each in `ids`).
fn positions(ids: &[u64], values: &[u64]) -> Vec<u64> {
    let mut out: Vec<u64> = values
        .iter()
        .filter_map(|v| ids.binary_search(v).ok())
        .map(|i| i as u64)
        .collect();
    out.dedup();
    out
}

fn position_list(ids: &[u64], values: &[u64]) -> RiceList {
    let pos = positions(ids, values);
    RiceList::encode(&pos, parameter(pos.len(), ids.len() as u64))
}

impl TestsRecord {
    /// The stored form of a run's recorded tests.
    pub fn encode(rec: &RecordedTests) -> TestsRecord {
        let t = rec.totals;
        TestsRecord {
            counts: Counts {
                total: t.total,
                passed: t.passed,
                failed: t.failed,
                errored: t.errored,
                skipped: t.skipped,
            },
            ids: RiceList::encode(&rec.tests, REDUCED_BITS),
            failing: position_list(&rec.tests, &rec.failing),
            skipped: position_list(&rec.tests, &rec.skipped),
            controls: rec
                .controls
                .iter()
                .map(|(id, values)| ControlList {
                    id: id.clone(),
                    list: position_list(&rec.tests, values),
                })
                .collect(),
        }
    }

    /// The recorded tests, or what is wrong with the record.
    pub fn decode(&self) -> Result<RecordedTests, String> {
        let tests = self.ids.decode().map_err(|e| format!("ids: {e}"))?;
        if self.ids.p != REDUCED_BITS && self.ids.p > 40 {
            return Err(format!("ids: reduced width {} is out of range", self.ids.p));
        }
        let range = self.ids.n.max(1) << self.ids.p;
        if tests.last().is_some_and(|&v| v >= range) {
            return Err("ids: a value is beyond the range".into());
        }
        let at = |list: &RiceList, what: &str| -> Result<Vec<u64>, String> {
            list.decode()
                .map_err(|e| format!("{what}: {e}"))?
                .into_iter()
                .map(|i| {
                    tests
                        .get(i as usize)
                        .copied()
                        .ok_or_else(|| format!("{what}: position {i} is beyond the ids"))
                })
                .collect()
        };
        let c = self.counts;
        Ok(RecordedTests {
            totals: RecordedTotals {
                total: c.total,
                passed: c.passed,
                failed: c.failed,
                errored: c.errored,
                skipped: c.skipped,
            },
            range,
            failing: at(&self.failing, "failing")?,
            skipped: at(&self.skipped, "skipped")?,
            controls: self
                .controls
                .iter()
                .map(|c| Ok((c.id.clone(), at(&c.list, &c.id)?)))
                .collect::<Result<_, String>>()?,
            tests,
        })
    }
}

#[cfg(test)]
mod unit {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn rice_lists_round_trip(mut values in proptest::collection::vec(0u64..(1u64 << 40), 0..300)) {
            values.sort_unstable();
            // The parameter the record uses for a list spread over the range.
            let list = RiceList::encode(&values, parameter(values.len(), 1 << 40));
            prop_assert!(list.rice.len() < 16 * (values.len() + 1), "bounded: {}", list.rice.len());
            prop_assert_eq!(list.decode().unwrap(), values);
        }
    }

    #[test]
    fn a_record_round_trips_and_stays_small() {
        // 200,000 tests, a tenth of them under one control, 1% failing.
        let n = 200_000u64;
        let ids: Vec<u64> = (0..n)
            .map(|i| crate::model::history::test_identity("c", &i.to_string(), None))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        let range = n << REDUCED_BITS;
        let tests: Vec<u64> = sorted
            .iter()
            .map(|&h| crate::model::history::reduce(h, range))
            .collect();
        let pick = |every: usize| -> Vec<u64> { tests.iter().step_by(every).copied().collect() };
        let rec = RecordedTests {
            totals: RecordedTotals {
                total: n,
                passed: n - 2000,
                failed: 2000,
                ..RecordedTotals::default()
            },
            range,
            failing: pick(100),
            skipped: Vec::new(),
            controls: vec![("CC6.1".into(), pick(10))],
            tests: tests.clone(),
        };
        let stored = TestsRecord::encode(&rec);
        let json = serde_json::to_string(&stored).unwrap();
        assert!(json.len() < 800_000, "{} bytes", json.len());
        assert_eq!(stored.decode().unwrap(), rec);
    }

    #[test]
    fn damaged_lists_are_errors_not_panics() {
        let list = RiceList::encode(&[1, 5, 9], 2);
        let short = RiceList {
            n: 40,
            ..list.clone()
        };
        assert!(short.decode().is_err());
        let bad = RiceList {
            rice: "***".into(),
            ..list
        };
        assert!(bad.decode().is_err());
    }
}
