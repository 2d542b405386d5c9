//! Streams test cases into totals, per-control results and the cases worth keeping.
//!
//! Memory stays bounded by the number of interesting tests: a passing test that evidences no
//! control is remembered only as the low 64 bits of its identity hash (8 bytes).
//!
//! **Duplicates.** The same test (classname + name + the file the report gives, never a location
//! found in failure text) seen several times — in several
//! result files, matrix shards or rerun reports — counts as one test with several runs. Its
//! status is the worst of its runs (errored > failed > passed > skipped: a test that fails on
//! one shard fails the change even if it passes on another, and a skip elsewhere does not hide
//! a pass). It is flagged flaky when one run passed and another failed.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::analyze::mapping::{Mapper, Mapping};
use crate::model::controls::ControlId;
use crate::model::history::TestIndex;
use crate::model::report::{
    CaseControl, CaseReport, ControlResult, ControlStatus, Totals, UnknownTag,
};
use crate::model::{CaseStatus, TestCase};

/// Rank of a status when merging runs of the same test.
fn run_rank(s: CaseStatus) -> u8 {
    match s {
        CaseStatus::Skipped => 0,
        CaseStatus::Passed => 1,
        CaseStatus::Failed => 2,
        CaseStatus::Errored => 3,
    }
}

const NOT_RETAINED: u32 = u32::MAX;

/// Length of the runs of `plain_passed` sorted as they fill.
const SORTED_RUN: usize = 1 << 14;

#[derive(Clone, Copy)]
struct Slot {
    status: CaseStatus,
    flaky: bool,
    ever_passed: bool,
    ever_failed: bool,
    runs: u32,
    retained: u32,
}

/// A test kept for `report.json`. Boxed: the vector of them grows by doubling, and slack slots
/// of 8 bytes cost less than slots of a whole case.
struct Retained {
    case: Box<TestCase>,
    mapping: Mapping,
}

/// What is kept of a case: its properties were only needed for the mapping, already done.
/// Its strings are copied, each to its length, rather than moved out: the caller's are the
/// buffers a batch's cases are decoded into one after another, and taken, the next case would
/// grow new ones from nothing (a reallocation or two per string, fresh pages).
fn kept(case: &mut TestCase) -> Box<TestCase> {
    Box::new(TestCase {
        suite: case.suite.as_str().into(),
        classname: case.classname.as_str().into(),
        name: case.name.as_str().into(),
        file: case.file.as_deref().map(String::from),
        line: case.line,
        location: case.location.take(),
        status: case.status,
        flaky: case.flaky,
        duration_s: case.duration_s,
        message: case.message.take(),
        properties: Vec::new(),
        input: case.input,
        runs: case.runs,
    })
}

/// Result of aggregation, ready for gates and rendering.
#[derive(Debug, Default)]
pub struct Aggregate {
    pub totals: Totals,
    /// Catalog-ordered; every control with at least one test, plus the required ones.
    pub controls: Vec<ControlResult>,
    pub cases: Vec<CaseReport>,
    pub unknown_tags: Vec<UnknownTag>,
    pub warnings: Vec<String>,
    /// Totals over the tests mapped to at least one control.
    pub tagged: Totals,
    /// Every test by identity (when asked for with [`Aggregator::with_index`]).
    pub index: Option<TestIndex>,
}

pub struct Aggregator<'a> {
    mapper: &'a Mapper,
    /// Per input file: controls every test of it evidences (a suite's `controls`), with the
    /// suite name for the carrier.
    defaults: Vec<Vec<(ControlId, String)>>,
    input_names: Vec<String>,
    seen: HashMap<u128, Slot, BuildHasherDefault<KeyHasher>>,
    /// Bounded memory (issue 8): a passing test that evidences nothing, seen for the first
    /// time, costs only the low 64 bits of its identity hash here (8 bytes, no hash-map slot);
    /// duplicates and later runs of the same test in `seen` are merged in `finish`.
    plain_passed: Vec<u64>,
    /// `plain_passed` as sorted runs, their lengths in order; see [`SortedRuns`].
    runs: SortedRuns,
    retained: Vec<Retained>,
    totals: Totals,
    /// `Some` when the run's [`TestIndex`] is wanted (the run is retained): the identities of
    /// the passing tests that evidence nothing, collected as `plain_passed` is merged.
    index: Option<Vec<u64>>,
}

impl<'a> Aggregator<'a> {
    pub fn new(mapper: &'a Mapper) -> Self {
        Aggregator {
            mapper,
            defaults: Vec::new(),
            input_names: Vec::new(),
            seen: HashMap::default(),
            plain_passed: Vec::new(),
            runs: SortedRuns::default(),
            retained: Vec::new(),
            totals: Totals::default(),
            index: None,
        }
    }

    /// Also builds the run's [`TestIndex`] (every test by identity, for the ledger).
    pub fn with_index(mut self) -> Self {
        self.index = Some(Vec::new());
        self
    }

    /// Registers an input file; returns its index for [`TestCase::input`].
    pub fn add_input(&mut self, name: String, defaults: Vec<(ControlId, String)>) -> usize {
        self.input_names.push(name);
        self.defaults.push(defaults);
        self.input_names.len() - 1
    }

    /// 128-bit XXH3 of the test identity: collisions are negligible (about 2^-64 even for
    /// billions of tests), so passing tests need not keep their names.
    fn key(c: &TestCase) -> u128 {
        crate::model::history::test_key(&c.classname, &c.name, c.file.as_deref())
    }

    fn map(&self, c: &TestCase) -> Mapping {
        let defaults = self.defaults.get(c.input).map(Vec::as_slice).unwrap_or(&[]);
        self.mapper.map(c, defaults)
    }

    pub fn push(&mut self, mut case: TestCase) {
        self.push_mut(&mut case);
    }

    /// [`Aggregator::push`] without moving the case: a test case is a few hundred bytes, and
    /// most are only looked at. Its message and location are taken out of `case` when kept.
    pub fn push_mut(&mut self, case: &mut TestCase) {
        self.totals.runs += 1;
        let key = Self::key(case);
        let passed = case.status == CaseStatus::Passed;
        let failed = case.status.is_failure();
        match self.seen.get(&key).copied() {
            None => {
                let mapping = self.map(case);
                if passed
                    && !case.flaky
                    && mapping.controls.is_empty()
                    && mapping.unknown.is_empty()
                {
                    self.plain_passed.push(key as u64);
                    // Sorted and merged a run at a time while the parser is still reading
                    // (this thread waits on it), so `finish` has about one merge left.
                    if self.plain_passed.len() % SORTED_RUN == 0 {
                        self.runs.close(&mut self.plain_passed);
                    }
                    return;
                }
                let (status, flaky) = (case.status, case.flaky);
                let retained =
                    if !mapping.controls.is_empty() || !mapping.unknown.is_empty() || failed {
                        self.retained.push(Retained {
                            case: kept(case),
                            mapping,
                        });
                        (self.retained.len() - 1) as u32
                    } else {
                        NOT_RETAINED
                    };
                self.totals.add(status);
                if flaky {
                    self.totals.flaky += 1;
                }
                self.seen.insert(
                    key,
                    Slot {
                        status,
                        flaky,
                        ever_passed: passed,
                        ever_failed: failed,
                        runs: 1,
                        retained,
                    },
                );
            }
            Some(mut slot) => {
                slot.runs += 1;
                slot.ever_passed |= passed;
                slot.ever_failed |= failed;
                let flaky = slot.flaky || case.flaky || (slot.ever_passed && slot.ever_failed);
                if flaky && !slot.flaky {
                    self.totals.flaky += 1;
                }
                slot.flaky = flaky;
                let worse = run_rank(case.status) > run_rank(slot.status);
                if worse {
                    self.totals.remove(slot.status);
                    self.totals.add(case.status);
                    slot.status = case.status;
                    // The worst run is the one reported: its message, file and line.
                    if slot.retained == NOT_RETAINED {
                        let mapping = self.map(case);
                        self.retained.push(Retained {
                            case: kept(case),
                            mapping,
                        });
                        slot.retained = (self.retained.len() - 1) as u32;
                    } else {
                        self.retained[slot.retained as usize].case = kept(case);
                    }
                }
                if slot.retained != NOT_RETAINED {
                    let r = &mut self.retained[slot.retained as usize].case;
                    (r.status, r.flaky, r.runs) = (slot.status, slot.flaky, slot.runs);
                }
                self.seen.insert(key, slot);
            }
        }
    }

    /// Folds `plain_passed` into the totals: each distinct key counts once as passed, unless
    /// the same test is also in `seen` (it failed, was skipped or flaky elsewhere), where the
    /// passing runs are merged into that entry as in [`Aggregator::push`].
    ///
    /// Returns the kept tests it changed, as (index in `retained`, status, flaky, runs): the
    /// kept cases may be turned into reports meanwhile ([`Aggregator::finish`]).
    fn merge_plain_passed(&mut self) -> Vec<(u32, CaseStatus, bool, u32)> {
        let mut updates = Vec::new();
        let mut keys = std::mem::take(&mut self.plain_passed);
        std::mem::take(&mut self.runs).finish(&mut keys);
        // `seen`'s keys by their low 64 bits, sorted: walked in step with `keys` (a sorted
        // vector is a third of a hash map's size at the peak of a huge run).
        let mut in_seen: Vec<(u64, u128)> = self.seen.keys().map(|k| (*k as u64, *k)).collect();
        in_seen.sort_unstable();
        let mut next_seen = in_seen.iter().peekable();
        let mut i = 0;
        while i < keys.len() {
            let key = keys[i];
            let mut n = 1usize;
            while i + n < keys.len() && keys[i + n] == key {
                n += 1;
            }
            i += n;
            while next_seen.next_if(|(low, _)| *low < key).is_some() {}
            let full = next_seen
                .peek()
                .filter(|(low, _)| *low == key)
                .map(|(_, k)| *k);
            let Some(slot) = full.and_then(|k| self.seen.get_mut(&k)) else {
                self.totals.add(CaseStatus::Passed);
                if let Some(index) = &mut self.index {
                    index.push(key);
                }
                continue;
            };
            slot.runs = slot.runs.saturating_add(n as u32);
            slot.ever_passed = true;
            let flaky = slot.flaky || slot.ever_failed;
            if flaky && !slot.flaky {
                self.totals.flaky += 1;
            }
            slot.flaky = flaky;
            if run_rank(CaseStatus::Passed) > run_rank(slot.status) {
                self.totals.remove(slot.status);
                self.totals.add(CaseStatus::Passed);
                slot.status = CaseStatus::Passed;
            }
            if slot.retained != NOT_RETAINED {
                updates.push((slot.retained, slot.status, slot.flaky, slot.runs));
            }
        }
        updates
    }

    pub fn finish(mut self, required: &[ControlId]) -> Aggregate {
        let retained = std::mem::take(&mut self.retained);
        let input_names = std::mem::take(&mut self.input_names);
        let with_keys = self.index.is_some();
        // The kept cases become their reports while the passing tests' keys are merged (the
        // two largest steps here, about as long as each other on a large run, when the
        // parser's thread is done): the merge's changes to kept tests are applied after.
        let size = retained.len() + self.plain_passed.len();
        let (built, updates) = if !(PARALLEL_FINISH..SEQUENTIAL_FINISH).contains(&size) {
            let updates = self.merge_plain_passed();
            (reports_of(retained, &input_names, with_keys), updates)
        } else {
            std::thread::scope(|scope| {
                let built = scope.spawn(|| reports_of(retained, &input_names, with_keys));
                let updates = self.merge_plain_passed();
                // A panic there is a bug, and is one here.
                let built = built
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (built, updates)
            })
        };
        let Built {
            mut cases,
            unknown_tags,
            control_ids,
            keys,
        } = built;
        for (i, status, flaky, runs) in updates {
            let c = &mut cases[i as usize];
            (c.status, c.flaky, c.runs) = (status, flaky, runs);
        }
        let mut index = self.index.take().map(|plain| self.index_of_seen(plain));
        let mut per_control: HashMap<ControlId, ControlResult> = HashMap::new();
        let mut tagged = Totals::default();
        let mut organisational: HashMap<ControlId, (u64, String)> = HashMap::new();
        for (k, (case, ids)) in cases.iter().zip(&control_ids).enumerate() {
            if !ids.is_empty() {
                tagged.add(case.status);
                if case.flaky {
                    tagged.flaky += 1;
                }
                tagged.runs += u64::from(case.runs);
            }
            if let Some(index) = &mut index {
                let key = keys[k];
                for cid in ids {
                    match index.controls.iter_mut().find(|(c, _)| c == cid) {
                        Some((_, list)) => list.push(key),
                        None => index.controls.push((*cid, vec![key])),
                    }
                }
            }
            for &cid in ids {
                let Some(control) = cid.control() else {
                    continue;
                };
                if control.organisational {
                    let e = organisational.entry(cid).or_insert((0, case.id.clone()));
                    e.0 += 1;
                }
                let r = per_control
                    .entry(cid)
                    .or_insert_with(|| empty_result(cid, false));
                r.tests += 1;
                match case.status {
                    CaseStatus::Passed => r.passed += 1,
                    CaseStatus::Failed => r.failed += 1,
                    CaseStatus::Errored => r.errored += 1,
                    CaseStatus::Skipped => r.skipped += 1,
                }
            }
        }
        for cid in required {
            per_control
                .entry(*cid)
                .or_insert_with(|| empty_result(*cid, true))
                .required = true;
        }
        let mut controls: Vec<ControlResult> = per_control.into_values().collect();
        controls.sort_by_key(|c| c.id);
        for c in &mut controls {
            c.status = if c.failed + c.errored > 0 {
                ControlStatus::Fail
            } else if c.passed > 0 {
                ControlStatus::Pass
            } else {
                ControlStatus::Untested
            };
        }
        let mut organisational: Vec<_> = organisational.into_iter().collect();
        organisational.sort_by_key(|(id, _)| *id);
        let warnings = organisational
            .into_iter()
            .map(|(id, (n, first))| {
                format!(
                    "{id} is organisational (CC1-CC5): tests rarely evidence it; {n} test(s) tagged, first: {first}"
                )
            })
            .collect();
        if let Some(index) = &mut index {
            index.controls.sort_by_key(|(c, _)| *c);
            for (_, list) in &mut index.controls {
                list.sort_unstable();
                list.dedup();
            }
        }
        Aggregate {
            totals: self.totals,
            controls,
            cases,
            unknown_tags,
            warnings,
            tagged,
            index,
        }
    }

    /// The index of every test: `plain` (passing, evidencing nothing, seen once per key) and
    /// every test in `seen` with its final status.
    fn index_of_seen(&self, mut tests: Vec<u64>) -> TestIndex {
        let (mut failing, mut skipped) = (Vec::new(), Vec::new());
        for (key, slot) in &self.seen {
            let id = *key as u64;
            tests.push(id);
            match slot.status {
                s if s.is_failure() => failing.push(id),
                CaseStatus::Skipped => skipped.push(id),
                _ => {}
            }
        }
        for list in [&mut tests, &mut failing, &mut skipped] {
            list.sort_unstable();
            list.dedup();
        }
        TestIndex {
            tests,
            failing,
            skipped,
            controls: Vec::new(),
        }
    }
}

/// Kept cases and passing tests' keys from which [`Aggregator::finish`] turns the cases into
/// reports on a thread of its own, beside the keys' merge.
const PARALLEL_FINISH: usize = 1 << 14;

/// From this many on, one after the other again: a huge run's memory peaks here (its last
/// merges), and the reports built beside the merge added to that peak (a 2,000,000-test run:
/// 106–108 → 112–113 MB shipped, 120 → 132 MB with glibc's allocator, whose threads each get
/// an arena).
const SEQUENTIAL_FINISH: usize = 1 << 20;

/// The kept cases as reports, in the same order, with the unknown tags they carry, each
/// one's distinct controls and (when asked for) each one's key.
struct Built {
    cases: Vec<CaseReport>,
    unknown_tags: Vec<UnknownTag>,
    control_ids: Vec<Vec<ControlId>>,
    keys: Vec<u64>,
}

fn reports_of(retained: Vec<Retained>, input_names: &[String], with_keys: bool) -> Built {
    let mut built = Built {
        cases: Vec::with_capacity(retained.len()),
        unknown_tags: Vec::new(),
        control_ids: Vec::with_capacity(retained.len()),
        keys: Vec::with_capacity(if with_keys { retained.len() } else { 0 }),
    };
    for Retained { case, mapping } in retained {
        let id = case.id();
        for u in &mapping.unknown {
            built.unknown_tags.push(UnknownTag {
                tag: u.tag.clone(),
                test: id.clone(),
                carrier: u.carrier.clone(),
                input: input_names.get(case.input).cloned().unwrap_or_default(),
            });
        }
        built.control_ids.push(mapping.control_ids());
        if with_keys {
            built.keys.push(Aggregator::key(&case) as u64);
        }
        built.cases.push(CaseReport {
            id,
            suite: case.suite,
            classname: case.classname,
            name: case.name,
            file: case.file,
            line: case.line,
            location: case.location,
            status: case.status,
            flaky: case.flaky,
            duration_s: case.duration_s,
            runs: case.runs,
            input: case.input,
            message_bytes: case.message.as_ref().map(|m| m.original_len),
            message: case.message.map(|m| m.text),
            controls: mapping
                .controls
                .into_iter()
                .map(|(id, carrier)| CaseControl { id, carrier })
                .collect(),
        });
    }
    built
}

/// A vector's sorted runs, merged as they come like the digits of a binary counter: when a
/// run closes, it and the run before are merged while they are the same length. The runs left
/// are a handful, each at least twice the next, so the merge a finished vector still needs is
/// about one pass over it: the rest was done while the parser was reading (this thread waits on
/// it), where sorting the whole at the end was the largest step after the parse.
#[derive(Default)]
struct SortedRuns {
    /// The runs' lengths, first to last (they cover the vector up to its last closed run).
    lengths: Vec<usize>,
    /// A run's copy while it is merged.
    scratch: Vec<u64>,
}

impl SortedRuns {
    /// Sorts the keys after the last run as a run of their own and merges as a counter carries.
    fn close(&mut self, keys: &mut [u64]) {
        let covered: usize = self.lengths.iter().sum();
        if covered == keys.len() {
            return;
        }
        keys[covered..].sort_unstable();
        self.lengths.push(keys.len() - covered);
        while let [.., a, b] = self.lengths[..]
            && a <= b
        {
            self.merge_last(keys);
        }
        // Not kept between merges: it grows to half the keys, memory the parse can use.
        self.scratch = Vec::new();
    }

    /// Sorts `keys` whole: the open run closed, every run merged into one.
    fn finish(mut self, keys: &mut [u64]) {
        self.close(keys);
        while self.lengths.len() > 1 {
            self.merge_last(keys);
        }
    }

    /// Merges the last two runs, which end the vector, into one.
    fn merge_last(&mut self, keys: &mut [u64]) {
        let (Some(b), Some(a)) = (self.lengths.pop(), self.lengths.pop()) else {
            return;
        };
        let start = keys.len() - a - b;
        let v = &mut keys[start..];
        // The right run is copied out and the two merged from the back: the left run's
        // elements still to place are always before the place written.
        self.scratch.clear();
        self.scratch.extend_from_slice(&v[a..]);
        let (mut i, mut j, mut k) = (a, b, a + b);
        // Without a branch on the comparison (a coin toss on hashes): a select and two
        // counts.
        while i > 0 && j > 0 {
            k -= 1;
            let (left, right) = (v[i - 1], self.scratch[j - 1]);
            let from_left = left > right;
            v[k] = if from_left { left } else { right };
            i -= usize::from(from_left);
            j -= usize::from(!from_left);
        }
        v[..j].copy_from_slice(&self.scratch[..j]);
        self.lengths.push(a + b);
    }
}

/// The map's keys are already uniform hashes: use their low bits as they are.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

fn empty_result(id: ControlId, required: bool) -> ControlResult {
    let control = id.control();
    ControlResult {
        id,
        category: control
            .map(|c| c.category)
            .unwrap_or(crate::model::Category::Security),
        summary: control.map(|c| c.summary).unwrap_or("").into(),
        required,
        tests: 0,
        passed: 0,
        failed: 0,
        errored: 0,
        skipped: 0,
        status: ControlStatus::Untested,
    }
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::model::{PropertyScope, RawProperty};
    use std::path::Path;

    /// total, runs, passed, failed, skipped, flaky.
    fn counts(t: &Totals) -> [u64; 6] {
        [t.total, t.runs, t.passed, t.failed, t.skipped, t.flaky]
    }

    fn case(name: &str, status: CaseStatus, control: Option<&str>) -> TestCase {
        TestCase {
            suite: "s".into(),
            classname: "c".into(),
            name: name.into(),
            file: None,
            line: None,
            location: None,
            status,
            flaky: false,
            duration_s: 0.5,
            message: None,
            properties: control
                .map(|v| RawProperty {
                    name: "control".into(),
                    value: v.into(),
                    scope: PropertyScope::Case,
                })
                .into_iter()
                .collect(),
            input: 0,
            runs: 1,
        }
    }

    fn run(cases: Vec<TestCase>, required: &[&str]) -> Aggregate {
        let config = crate::config::parse("", Path::new("t")).unwrap();
        let mapper = Mapper::new(&config).unwrap();
        let mut agg = Aggregator::new(&mapper);
        agg.add_input("a.xml".into(), vec![]);
        for c in cases {
            agg.push(c);
        }
        let req: Vec<ControlId> = required
            .iter()
            .filter_map(|t| ControlId::parse_shape(t))
            .collect();
        agg.finish(&req)
    }

    /// Runs closed one by one (as `push` closes them, and of other lengths), then finished,
    /// sort the vector as a sort does: any number of runs, duplicates within and across runs.
    #[test]
    fn sorted_runs_merged_as_they_close_sort_the_whole() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for runs in 0..12usize {
            for run in [1usize, 3, 64] {
                for partial in [0usize, 1, 17] {
                    let mut keys = Vec::new();
                    let mut sorted = SortedRuns::default();
                    for _ in 0..runs {
                        // Few distinct values: equal keys meet inside runs and across them.
                        keys.extend((0..run).map(|_| next() % 50));
                        sorted.close(&mut keys);
                        assert!(
                            sorted.lengths.windows(2).all(|w| w[0] > w[1]),
                            "{runs} {run}"
                        );
                    }
                    keys.extend((0..partial).map(|_| next()));
                    let mut expected = keys.clone();
                    expected.sort_unstable();
                    sorted.finish(&mut keys);
                    assert_eq!(keys, expected, "{runs} runs of {run}, {partial} more");
                }
            }
        }
    }

    #[test]
    fn passing_tests_beyond_several_sorted_runs_merge_exactly() {
        // More plain passing runs than three of `push`'s sorted runs, every test twice (the
        // second pass in reverse order), and a few that also fail or are skipped elsewhere.
        let n = 2 * SORTED_RUN + 1000;
        let mut cases: Vec<TestCase> = (0..n)
            .map(|i| case(&format!("t{i}"), CaseStatus::Passed, None))
            .collect();
        cases.extend(
            (0..n)
                .rev()
                .map(|i| case(&format!("t{i}"), CaseStatus::Passed, None)),
        );
        cases.push(case("t7", CaseStatus::Failed, None));
        cases.push(case(&format!("t{}", n - 1), CaseStatus::Skipped, None));
        let a = run(cases, &[]);
        assert_eq!(
            (
                a.totals.total,
                a.totals.passed,
                a.totals.failed,
                a.totals.flaky
            ),
            (n as u64, n as u64 - 1, 1, 1)
        );
        assert_eq!(a.totals.runs, 2 * n as u64 + 2);
    }

    #[test]
    fn totals_and_per_control_results() {
        let a = run(
            vec![
                case("a", CaseStatus::Passed, Some("CC6.1")),
                case("b", CaseStatus::Failed, Some("CC6.1 CC8.1")),
                case("c", CaseStatus::Skipped, Some("A1.2")),
                case("d", CaseStatus::Passed, None),
                case("e", CaseStatus::Errored, None),
            ],
            &["CC7.2"],
        );
        assert_eq!(
            (
                a.totals.total,
                a.totals.passed,
                a.totals.failed,
                a.totals.errored,
                a.totals.skipped
            ),
            (5, 2, 1, 1, 1)
        );
        let summary: Vec<String> = a
            .controls
            .iter()
            .map(|c| {
                format!(
                    "{} {}/{}/{}/{} {:?} req={}",
                    c.id, c.tests, c.passed, c.failed, c.skipped, c.status, c.required
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                "CC6.1 2/1/1/0 Fail req=false",
                "CC7.2 0/0/0/0 Untested req=true",
                "CC8.1 1/0/1/0 Fail req=false",
                "A1.2 1/0/0/1 Untested req=false",
            ]
        );
        // The passing untagged test is counted, not kept.
        let kept: Vec<&str> = a.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(kept, ["a", "b", "c", "e"]);
        assert_eq!(a.tagged.total, 3);
    }

    #[test]
    fn duplicates_are_runs_of_one_test_and_the_worst_run_wins() {
        let a = run(
            vec![
                case("a", CaseStatus::Passed, None),
                case("a", CaseStatus::Failed, None),
                case("b", CaseStatus::Skipped, Some("CC6.1")),
                case("b", CaseStatus::Passed, Some("CC6.1")),
                case("c", CaseStatus::Passed, Some("CC6.1")),
                case("c", CaseStatus::Passed, Some("CC6.1")),
            ],
            &[],
        );
        assert_eq!(counts(&a.totals), [3, 6, 2, 1, 0, 1]);
        let a_case = a.cases.iter().find(|c| c.name == "a").unwrap();
        assert_eq!(
            (a_case.status, a_case.flaky, a_case.runs),
            (CaseStatus::Failed, true, 2)
        );
        let b_case = a.cases.iter().find(|c| c.name == "b").unwrap();
        assert_eq!(
            (b_case.status, b_case.flaky, b_case.runs),
            (CaseStatus::Passed, false, 2)
        );
        assert_eq!(a.controls[0].passed, 2);
    }

    #[test]
    fn passing_runs_merge_into_the_tests_that_failed_or_skipped_elsewhere() {
        // Untagged passes are kept as bare hashes and merged at the end: their sorted order
        // interleaves with the failing and skipped tests' keys.
        let mut cases: Vec<TestCase> = (0..60)
            .map(|i| case(&format!("t{i}"), CaseStatus::Passed, None))
            .collect();
        cases.push(case("t7", CaseStatus::Passed, None));
        for i in [3, 17, 29, 41, 58] {
            cases.push(case(&format!("t{i}"), CaseStatus::Failed, None));
        }
        cases.push(case("t44", CaseStatus::Skipped, None));
        cases.push(case("s", CaseStatus::Skipped, None));
        let a = run(cases, &[]);
        assert_eq!(counts(&a.totals), [61, 68, 55, 5, 1, 5]);
        let mut failed: Vec<(&str, bool, u32)> = a
            .cases
            .iter()
            .map(|c| (c.name.as_str(), c.flaky, c.runs))
            .collect();
        failed.sort();
        assert_eq!(
            failed,
            [
                ("t17", true, 2),
                ("t29", true, 2),
                ("t3", true, 2),
                ("t41", true, 2),
                ("t58", true, 2)
            ]
        );
    }

    /// Kept tests that a passing run merged at the end changes: their reports, their controls'
    /// counts and the totals over tagged tests see the merged status, whether the reports
    /// were built beside the merge (many tests) or after it (few).
    #[test]
    fn merged_runs_reach_the_reports_built_beside_the_merge() {
        for plain in [40, PARALLEL_FINISH + 100] {
            let mut cases: Vec<TestCase> = (0..plain)
                .map(|i| case(&format!("t{i}"), CaseStatus::Passed, None))
                .collect();
            // Skipped and tagged after a plain pass: passed in the end, one control's test.
            cases.push(case("t5", CaseStatus::Skipped, Some("CC6.1")));
            // Failed after a plain pass: flaky, and failed (the worst run is reported).
            cases.push(case("t9", CaseStatus::Failed, Some("CC7.2")));
            cases.push(case("t30", CaseStatus::Failed, None));
            let config = crate::config::parse("", Path::new("t")).unwrap();
            let mapper = Mapper::new(&config).unwrap();
            let mut agg = Aggregator::new(&mapper).with_index();
            agg.add_input("a.xml".into(), vec![]);
            for c in cases {
                agg.push(c);
            }
            let a = agg.finish(&[]);
            let n = plain as u64;
            assert_eq!(counts(&a.totals), [n, n + 3, n - 2, 2, 0, 2], "{plain}");
            let mut reported: Vec<(&str, CaseStatus, bool, u32)> = a
                .cases
                .iter()
                .map(|c| (c.name.as_str(), c.status, c.flaky, c.runs))
                .collect();
            reported.sort_by_key(|r| r.0);
            assert_eq!(
                reported,
                [
                    ("t30", CaseStatus::Failed, true, 2),
                    ("t5", CaseStatus::Passed, false, 2),
                    ("t9", CaseStatus::Failed, true, 2),
                ],
                "{plain}"
            );
            let control = |tag: &str| {
                let id = ControlId::parse_shape(tag).unwrap();
                let c = a.controls.iter().find(|c| c.id == id).unwrap();
                (c.tests, c.passed, c.failed, c.skipped, c.status)
            };
            assert_eq!(
                control("CC6.1"),
                (1, 1, 0, 0, ControlStatus::Pass),
                "{plain}"
            );
            assert_eq!(
                control("CC7.2"),
                (1, 0, 1, 0, ControlStatus::Fail),
                "{plain}"
            );
            assert_eq!(counts(&a.tagged), [2, 4, 1, 1, 0, 1], "{plain}");
            let index = a.index.as_ref().unwrap();
            let t5 = Aggregator::key(&case("t5", CaseStatus::Passed, None)) as u64;
            let cc61 = ControlId::parse_shape("CC6.1").unwrap();
            assert_eq!(
                index
                    .controls
                    .iter()
                    .find(|(c, _)| *c == cc61)
                    .map(|(_, k)| k.as_slice()),
                Some(&[t5][..]),
                "{plain}"
            );
            assert_eq!(index.tests.len(), plain, "{plain}");
        }
    }

    #[test]
    fn organisational_tags_warn() {
        let a = run(vec![case("a", CaseStatus::Passed, Some("CC1.1"))], &[]);
        assert_eq!(a.warnings.len(), 1);
        assert!(
            a.warnings[0].starts_with("CC1.1 is organisational"),
            "{}",
            a.warnings[0]
        );
    }
}
