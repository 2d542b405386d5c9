//! The ledger: an append-only, hash-chained sequence of entries, one file per entry
//! (`ledger/<seq, 10 digits>.json`), each the canonical JSON of [`Entry`] plus a newline.

use serde::{Deserialize, Serialize};

use super::bundle::{ApiSummary, ControlSummary, CoverageSummary};

use super::canonical::{legacy_value_to_canonical, sha256_hex, value_to_canonical};
use crate::model::run::RunIdentity;

/// The format this release writes: RFC 8785 canonical JSON, percentages as decimal strings.
pub const ENTRY_FORMAT: &str = "controlgate-ledger/3";
/// Formats that verify: format 1 (percentages as JSON numbers) was written up to release 0.1,
/// format 2 (decimal strings, the pre-JCS canonical form) after it.
pub const ENTRY_FORMATS: [&str; 3] = ["controlgate-ledger/1", "controlgate-ledger/2", ENTRY_FORMAT];

/// The canonical bytes of an entry's JSON (with or without `digest`) in the form its `format`
/// names: RFC 8785 from format 3 on, the legacy sorted form before. Errors only on a value
/// JCS cannot represent exactly (an integer beyond 2^53).
pub fn canonical_entry_bytes(value: &serde_json::Value) -> Result<Vec<u8>, serde_json::Error> {
    match value.get("format").and_then(|f| f.as_str()) {
        Some("controlgate-ledger/1" | "controlgate-ledger/2") => {
            Ok(legacy_value_to_canonical(value))
        }
        _ => value_to_canonical(value),
    }
}
/// The largest entry number: entries are canonical JSON, whose readers parse numbers as
/// doubles (exact up to 2^53).
pub const MAX_SEQ: u64 = 1 << 53;
/// `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One ledger entry. `digest` = SHA-256 of the canonical JSON of the entry without `digest`
/// (so it covers `prev`, which chains the entries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub format: String,
    /// 1-based, contiguous.
    pub seq: u64,
    /// When the entry was appended, RFC 3339 UTC.
    pub time: String,
    pub repository: String,
    pub run: RunIdentity,
    /// Digest of the run's bundle (SHA-256 of its canonical manifest).
    pub bundle: String,
    pub verdict: String,
    pub controls: Vec<ControlSummary>,
    #[serde(default)]
    pub coverage: Option<CoverageSummary>,
    /// Absent (not `null`) when the run measured no API coverage, so entries written before
    /// the field existed keep their digests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiSummary>,
    #[serde(default)]
    pub tickets: Vec<String>,
    /// The run's tests by identity (format 3 on; absent in entries written before it, which
    /// keep their digests): what later runs compare with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<crate::tests_record::TestsRecord>,
    /// Digest of the previous entry; [`GENESIS`] for seq 1.
    pub prev: String,
    pub digest: String,
}

impl Entry {
    /// The run recorded a line coverage percentage (a base for coverage deltas).
    pub fn has_coverage(&self) -> bool {
        self.coverage.as_ref().and_then(|c| c.percent).is_some()
    }

    /// The run recorded API operation coverage (a base for API coverage deltas).
    pub fn has_api_coverage(&self) -> bool {
        self.api.is_some()
    }

    /// The run recorded its tests by identity (a base for test comparisons).
    pub fn has_tests(&self) -> bool {
        self.tests.is_some()
    }

    /// The digest this entry's content hashes to (empty when it cannot be canonicalised: such
    /// an entry never verifies, and [`EntryDraft::chain`] refuses it first).
    pub fn compute_digest(&self) -> String {
        let mut value = match serde_json::to_value(self) {
            Ok(v) => v,
            Err(_) => return String::new(),
        };
        if let Some(map) = value.as_object_mut() {
            map.remove("digest");
        }
        canonical_entry_bytes(&value).map_or_else(|_| String::new(), |b| sha256_hex(&b))
    }

    /// Sets `digest` from the content.
    pub fn seal(mut self) -> Entry {
        self.digest = self.compute_digest();
        self
    }

    /// The stored form: canonical JSON and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = serde_json::to_value(self)
            .and_then(|v| canonical_entry_bytes(&v))
            .unwrap_or_default();
        b.push(b'\n');
        b
    }

    /// The date part (`YYYY-MM-DD`) of `time`, in UTC.
    pub fn date(&self) -> Option<chrono::NaiveDate> {
        chrono::DateTime::parse_from_rfc3339(&self.time)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc).date_naive())
    }
}

/// The fields of an entry that the writer fixes; `seq` and `prev` come from the tip at append.
#[derive(Debug, Clone)]
pub struct EntryDraft {
    pub time: String,
    pub repository: String,
    pub run: RunIdentity,
    pub bundle: String,
    pub verdict: String,
    pub controls: Vec<ControlSummary>,
    pub coverage: Option<CoverageSummary>,
    pub api: Option<ApiSummary>,
    pub tickets: Vec<String>,
    pub tests: Option<crate::tests_record::TestsRecord>,
}

/// The last entry of a ledger: what the next entry chains to, and (when read from the entry
/// itself, not from an anchor) its repository and time, which the next entry must agree with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tip {
    pub seq: u64,
    pub digest: String,
    pub of: Option<TipOf>,
}

/// What a tip entry says that the next entry is checked against before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipOf {
    pub repository: String,
    pub time: String,
}

impl Tip {
    /// The tip `entry` is.
    pub fn of_entry(entry: &Entry) -> Tip {
        Tip {
            seq: entry.seq,
            digest: entry.digest.clone(),
            of: Some(TipOf {
                repository: entry.repository.clone(),
                time: entry.time.clone(),
            }),
        }
    }
}

impl EntryDraft {
    /// Whether the entry can be written in canonical form (RFC 8785 refuses integers beyond
    /// 2^53): checked before anything is stored, so that every entry written verifies.
    pub fn check(&self) -> crate::Result<()> {
        serde_json::to_value(self.chain(None))
            .and_then(|v| canonical_entry_bytes(&v))
            .map(drop)
            .map_err(|e| crate::Error::Store(format!("ledger entry: {e}")))
    }

    /// The entry chained to `tip`, refused when `verify` would refuse it after the tip: a
    /// record that is written must verify. An entry of another repository reads as a foreign
    /// entry inserted; one dated more than [`crate::verify::TIME_SKEW`] before the tip (this
    /// runner's clock behind the last writer's) as time going backwards.
    pub fn follow(&self, tip: Option<&Tip>) -> crate::Result<Entry> {
        if let Some(TipOf { repository, time }) = tip.and_then(|t| t.of.as_ref()) {
            let at = tip.map_or(0, |t| t.seq);
            if *repository != self.repository {
                // A run that names no repository is a `controlgate report` outside GitHub
                // Actions: the advice differs from two repositories sharing one store.
                let advice = if repository.is_empty() {
                    "That entry was written by a run that names no repository (a `controlgate \
                     report` outside GitHub Actions, retained into this store); a ledger holds \
                     one repository's runs, and its entries cannot be removed. Start this \
                     repository's ledger under a store or prefix of its own (the old one stays \
                     verifiable), and retain local runs in a `dir` store (`--evidence DIR`)"
                        .to_owned()
                } else if self.repository.is_empty() {
                    format!(
                        "This run names no repository (a `controlgate report` outside GitHub \
                         Actions): retain it in a `dir` store of its own (`--evidence DIR`); \
                         this store holds {repository}'s ledger"
                    )
                } else {
                    "Give each repository a store or prefix of its own".to_owned()
                };
                return Err(crate::Error::Store(format!(
                    "evidence store: the ledger's last entry ({at}) is of repository \
                     {repository:?}, this run's is {:?}: an entry of another repository would \
                     fail verification (foreign entry). {advice}",
                    self.repository
                )));
            }
            let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
            if let (Some(mine), Some(last)) = (parse(&self.time), parse(time))
                && mine + crate::verify::TIME_SKEW < last
            {
                return Err(crate::Error::Store(format!(
                    "evidence store: this run is dated {}, more than an hour before the \
                     ledger's last entry ({at}, {time}): the entry would fail verification \
                     (time going backwards). Check this runner's clock",
                    self.time
                )));
            }
        }
        Ok(self.chain(tip))
    }

    /// The sealed entry that follows `tip` (`None`: the first entry).
    pub fn chain(&self, tip: Option<&Tip>) -> Entry {
        Entry {
            format: ENTRY_FORMAT.to_string(),
            // Saturating: a tip at u64::MAX (planted, never written) must not wrap to 0; the
            // entry then collides with the tip's key and is refused by the create-only write.
            seq: tip.map_or(1, |t| t.seq.saturating_add(1)),
            time: self.time.clone(),
            repository: self.repository.clone(),
            run: self.run.clone(),
            bundle: self.bundle.clone(),
            verdict: self.verdict.clone(),
            controls: self.controls.clone(),
            coverage: self.coverage.clone(),
            api: self.api.clone(),
            tickets: self.tickets.clone(),
            tests: self.tests.clone(),
            prev: tip.map_or_else(|| GENESIS.to_string(), |t| t.digest.clone()),
            digest: String::new(),
        }
        .seal()
    }
}

/// The store key of entry `seq`.
pub fn entry_key(seq: u64) -> String {
    format!("ledger/{seq:010}.json")
}

/// The seq a ledger key names (`ledger/0000000012.json` → 12). Only the name the writer gives
/// entry `seq` ([`entry_key`], seq from 1) is an entry: `ledger/12.json` or
/// `ledger/00000000012.json` would name the same seq as another file, and two files holding
/// one place in the chain are not a chain. Any other name is a stray file in the ledger.
pub fn seq_of_key(key: &str) -> Option<u64> {
    let name = key.strip_prefix("ledger/")?.strip_suffix(".json")?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seq: u64 = name.parse().ok()?;
    (seq >= 1 && entry_key(seq) == key).then_some(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_writers_own_key_names_an_entry() {
        assert_eq!(seq_of_key("ledger/0000000001.json"), Some(1));
        assert_eq!(seq_of_key("ledger/0000000012.json"), Some(12));
        // Beyond ten digits the writer's name has no leading zero.
        assert_eq!(seq_of_key("ledger/12345678901.json"), Some(12_345_678_901));
        assert_eq!(
            seq_of_key("ledger/18446744073709551615.json"),
            Some(u64::MAX)
        );
        for stray in [
            "ledger/1.json",
            "ledger/00000000002.json",
            "ledger/012345678901.json",
            "ledger/0000000000.json",
            "ledger/18446744073709551616.json",
            "ledger/+000000001.json",
            "ledger/.json",
            "ledger/0000000001.json.bak",
        ] {
            assert_eq!(seq_of_key(stray), None, "{stray}");
        }
        for seq in [1, 9_999_999_999, 10_000_000_000, u64::MAX] {
            assert_eq!(seq_of_key(&entry_key(seq)), Some(seq));
        }
    }
}
