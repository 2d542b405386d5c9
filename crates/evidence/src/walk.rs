//! A PR run's base lookup reads the ledger backwards from its tip, only as far as the answer
//! needs: each entry read is checked (its digest against its content, its place, its
//! repository) and linked to the entry after it (that entry's `prev` must be its digest), so the
//! entries read are exactly those the tip commits to. `verify` checks the whole chain; this
//! checks the part from the tip back to the base.

use super::base::{BaseEntry, find_base_entry};
use super::ledger::{Entry, GENESIS, entry_key, seq_of_key};
use super::store::EvidenceStore;
use super::verify::{Problem, ProblemKind, VerifyOutcome, check_entry, check_link};
use crate::error::{Error, Result};

/// Entries read per round trip: the first few, then doubling up to this.
const MAX_BATCH: usize = 512;
const FIRST_BATCH: usize = 8;

/// The ledger read back from its tip (see the module doc).
#[derive(Debug)]
pub struct LedgerWalk {
    /// Every ledger key by seq, ascending.
    keys: Vec<(u64, String)>,
    /// The entries read, tip first (each checked, and linked to the one before it in this list).
    entries: Vec<Entry>,
    repository: Option<String>,
    problem: Option<Problem>,
    /// Entry 1 was read and links to the genesis value: there is nothing further back.
    complete: bool,
    batch: usize,
    location: String,
}

impl LedgerWalk {
    /// Lists the ledger of `store` (refreshed by the caller: [`EvidenceStore::refresh_tip`]);
    /// `None`: no entries. `Err`: the store could not be read.
    pub fn open(store: &dyn EvidenceStore) -> Result<Option<LedgerWalk>> {
        let listed = store.list("ledger/")?;
        if listed.is_empty() {
            return Ok(None);
        }
        let mut keys = Vec::with_capacity(listed.len());
        let mut problem = None;
        for key in listed {
            match seq_of_key(&key) {
                Some(seq) => keys.push((seq, key)),
                None => {
                    problem.get_or_insert_with(|| Problem {
                        seq: 0,
                        kind: ProblemKind::Foreign,
                        message: format!(
                            "{} is not a ledger entry name (foreign file in the ledger)",
                            store.location(&key)
                        ),
                    });
                }
            }
        }
        keys.sort();
        Ok(Some(LedgerWalk {
            keys,
            entries: Vec::new(),
            repository: None,
            problem,
            complete: false,
            batch: 1,
            location: store.location(""),
        }))
    }

    /// The entries read so far, tip first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The first problem found, as `verify` would report it (not intact).
    pub fn problem(&self) -> Option<VerifyOutcome> {
        let problem = self.problem.clone()?;
        Some(VerifyOutcome {
            intact: false,
            location: self.location.clone(),
            entries: self.entries.len() as u64,
            bundles_checked: 0,
            tip_seq: self.entries.first().map(|e| e.seq),
            tip_digest: self.entries.first().map(|e| e.digest.clone()),
            problem: Some(problem),
        })
    }

    /// Reads the next entries further back (one round trip). `Ok(false)`: nothing was read —
    /// the start of the ledger was reached before, or a problem was found.
    pub fn step(&mut self, store: &dyn EvidenceStore) -> Result<bool> {
        if self.problem.is_some() || self.complete {
            return Ok(false);
        }
        let remaining = self.keys.len() - self.entries.len();
        let n = self.batch.min(remaining);
        let slice: Vec<(u64, String)> = self.keys[remaining - n..remaining]
            .iter()
            .rev()
            .cloned()
            .collect();
        let wanted: Vec<String> = slice.iter().map(|(_, k)| k.clone()).collect();
        let got = store.get_many(&wanted)?;
        for ((file_seq, key), bytes) in slice.into_iter().zip(got) {
            let loc = store.location(&key);
            let bytes =
                bytes.ok_or_else(|| Error::Usage(format!("{loc} vanished while verifying")))?;
            let entry = match check_entry(&bytes, file_seq, &loc) {
                Ok(e) => e,
                Err(p) => return Ok(self.fail(p)),
            };
            // Its own place and repository.
            if let Some(p) = check_link(
                &entry,
                file_seq,
                &loc,
                file_seq,
                &entry.prev,
                &mut self.repository,
            ) {
                return Ok(self.fail(p));
            }
            // The entry after it names it as `prev`, with nothing between them.
            if let Some(later) = self.entries.last()
                && let Some(p) = check_link(
                    later,
                    later.seq,
                    &store.location(&entry_key(later.seq)),
                    super::verify::next_seq(file_seq),
                    &entry.digest,
                    &mut self.repository,
                )
            {
                return Ok(self.fail(p));
            }
            self.entries.push(entry);
        }
        if self.entries.len() == self.keys.len()
            && let Some(first) = self.entries.last()
        {
            if let Some(p) = check_link(
                first,
                first.seq,
                &store.location(&entry_key(first.seq)),
                1,
                GENESIS,
                &mut self.repository,
            ) {
                return Ok(self.fail(p));
            }
            self.complete = true;
        }
        self.batch = if self.batch == 1 {
            FIRST_BATCH
        } else {
            (self.batch * 2).min(MAX_BATCH)
        };
        Ok(true)
    }

    fn fail(&mut self, problem: Problem) -> bool {
        self.problem = Some(problem);
        false
    }

    /// The newest `n` entries that `wanted` accepts, newest first, reading back from the tip
    /// until there are `n` of them or the ledger's start. `Ok(Err(outcome))`: an entry on the
    /// way is broken. `Err`: the store could not be read.
    pub fn recent(
        &mut self,
        store: &dyn EvidenceStore,
        n: usize,
        wanted: impl Fn(&Entry) -> bool,
    ) -> Result<Result<Vec<Entry>, VerifyOutcome>> {
        let wanted_read = |w: &LedgerWalk| w.entries.iter().filter(|e| wanted(e)).take(n).count();
        // `step` reads nothing more once the start is reached or a problem is found.
        while wanted_read(self) < n && self.step(store)? {}
        if let Some(outcome) = self.problem() {
            return Ok(Err(outcome));
        }
        Ok(Ok(self
            .entries
            .iter()
            .filter(|e| wanted(e))
            .take(n)
            .cloned()
            .collect()))
    }

    /// [`find_base_entry`] over the whole ledger, reading back from the tip only until the
    /// answer cannot change: the merge-base's own entry from a run that was not a PR run is
    /// final (entries further back are older runs for it or for farther commits); otherwise the
    /// walk goes on, at worst to the start of the ledger. `Ok(Err(outcome))`: an entry on the
    /// way is broken (not intact): no base can be trusted. `Err`: the store could not be read.
    pub fn find_base(
        &mut self,
        store: &dyn EvidenceStore,
        candidate_shas: &[String],
        measured: impl Fn(&Entry) -> bool,
    ) -> Result<Result<Option<BaseEntry>, VerifyOutcome>> {
        if candidate_shas.is_empty() {
            return Ok(Ok(None));
        }
        loop {
            if let Some(outcome) = self.problem() {
                return Ok(Err(outcome));
            }
            let found = find_base_entry(&self.entries, candidate_shas, &measured);
            let certain = self.complete
                || found
                    .as_ref()
                    .is_some_and(|b| b.distance == 0 && b.entry.run.pr_number.is_none());
            if certain {
                return Ok(Ok(found));
            }
            if !self.step(store)? && self.problem.is_none() && !self.complete {
                // Nothing read and nothing wrong: no keys left (cannot happen; be safe).
                return Ok(Ok(found));
            }
        }
    }
}
