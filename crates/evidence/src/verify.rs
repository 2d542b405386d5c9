//! `verify`: recomputes every bundle digest (files against the manifest, the manifest against
//! the entry) and the hash chain, and reports the first broken entry and what is wrong.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::bundle::{MANIFEST, Manifest, REPORT};
use super::canonical::sha256_hex;
use super::ledger::{ENTRY_FORMATS, Entry, GENESIS, Tip, canonical_entry_bytes, seq_of_key};
use super::open::{OpenContext, open_store};
use super::store::{EvidenceStore, StoreConfig};
use crate::error::{Error, ExitCode, Result};
use crate::model::report::Report;

/// What is wrong with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A file of the bundle differs from the manifest, is missing, or was added.
    BundleEdited,
    /// The bundle the entry names is not in the store.
    BundleMissing,
    /// The entry's content does not hash to its recorded digest.
    EntryEdited,
    /// The entry is not a readable ledger entry.
    EntryUnreadable,
    /// A sequence number has no entry.
    EntryMissing,
    /// An entry sits at another entry's place.
    Reordered,
    /// The entry does not belong to this chain (other repository, or `prev` does not link).
    Foreign,
    /// The ledger ends before the tip the caller expected.
    Truncated,
    /// The entry is dated well before the entry it follows.
    TimeReversed,
}

/// The first broken entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub seq: u64,
    pub kind: ProblemKind,
    pub message: String,
}

/// Result of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyOutcome {
    pub intact: bool,
    /// Where the ledger was read (path or URL).
    pub location: String,
    pub entries: u64,
    pub bundles_checked: u64,
    /// The last entry read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tip_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tip_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

impl VerifyOutcome {
    /// 0 intact, 1 tampered (errors reading the store map to 2 through [`Error::exit_code`]).
    pub fn exit_code(&self) -> ExitCode {
        if self.intact {
            ExitCode::Pass
        } else {
            ExitCode::Fail
        }
    }

    /// One line for the terminal.
    pub fn summary(&self) -> String {
        match &self.problem {
            None => format!(
                "evidence intact: {} entries, {} bundles verified at {} (tip {} {})",
                self.entries,
                self.bundles_checked,
                self.location,
                self.tip_seq.unwrap_or(0),
                self.tip_digest.as_deref().unwrap_or("-"),
            ),
            Some(p) => format!("evidence TAMPERED at {}: {}", self.location, p.message),
        }
    }
}

/// Options of [`verify_store`].
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Also re-hash every bundle (default). `false` checks the chain only.
    pub bundles: bool,
    /// The tip recorded elsewhere (a PR summary, a check run): detects a truncated ledger.
    pub expect_tip: Option<Tip>,
    /// The repository every entry must name (default: the first entry's).
    pub repository: Option<String>,
    /// Tips recorded outside the store (check runs on GitHub): the chain must hold each, with
    /// its digest. Catches a truncated ledger and one rewritten from a point on.
    pub anchors: Vec<Anchor>,
}

/// A ledger tip recorded where the store's writer cannot change it, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub tip: Tip,
    /// Where it was recorded (`check run <url> on <commit>`).
    pub source: String,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            bundles: true,
            expect_tip: None,
            repository: None,
            anchors: Vec::new(),
        }
    }
}

/// How much older than the entry before it an entry may be: writers stamp an entry when they
/// draft it and re-chain it unchanged when another writer took its place (bounded retries),
/// so a later entry can be a little older. Anything more is time going backwards.
pub const TIME_SKEW: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// `controlgate verify`: which store to open and how to verify it.
#[derive(Debug, Clone, Default)]
pub struct VerifyRequest {
    pub store: StoreConfig,
    pub context: OpenContext,
    pub options: VerifyOptions,
}

/// Opens the store and verifies it. `Err` means unusable input (exit 2).
pub fn verify(request: &VerifyRequest) -> Result<VerifyOutcome> {
    let store = open_store(&request.store, &request.context)?;
    verify_store(store.as_ref(), &request.options)
}

/// Verifies the ledger and bundles in `store`.
pub fn verify_store(store: &dyn EvidenceStore, options: &VerifyOptions) -> Result<VerifyOutcome> {
    Ok(load_verified(store, options)?.0)
}

fn short(d: &str) -> &str {
    d.get(..12).unwrap_or(d)
}

/// Reads and verifies every entry; returns the outcome and the entries that could be read
/// (in ledger order, including those after a problem).
pub(crate) fn load_verified(
    store: &dyn EvidenceStore,
    options: &VerifyOptions,
) -> Result<(VerifyOutcome, Vec<Entry>)> {
    store.refresh()?;
    let mut keyed: Vec<(u64, String)> = Vec::new();
    let mut stray: Option<String> = None;
    for key in store.list("ledger/")? {
        match seq_of_key(&key) {
            Some(seq) => keyed.push((seq, key)),
            None => {
                if stray.is_none() {
                    stray = Some(key)
                }
            }
        }
    }
    keyed.sort();
    // An empty ledger that a recorded tip says held entries is a truncated one (tampered, exit
    // 1), not a missing one.
    if keyed.is_empty() && options.expect_tip.is_none() && options.anchors.is_empty() {
        return Err(Error::Usage(format!(
            "no evidence ledger at {} (nothing to verify)",
            store.location("ledger/")
        )));
    }
    let bundle_files = if options.bundles {
        group_bundles(store.list("bundles/")?)
    } else {
        HashMap::new()
    };

    let mut outcome = VerifyOutcome {
        intact: true,
        location: store.location(""),
        entries: 0,
        bundles_checked: 0,
        tip_seq: None,
        tip_digest: None,
        problem: None,
    };
    let mut problem: Option<Problem> = stray.map(|key| Problem {
        seq: 0,
        kind: ProblemKind::Foreign,
        message: format!(
            "{} is not a ledger entry name (foreign file in the ledger)",
            store.location(&key)
        ),
    });
    let mut entries = Vec::with_capacity(keyed.len());
    let mut prev = GENESIS.to_string();
    let mut expected = 1u64;
    let mut repository = options.repository.clone();

    for (file_seq, key) in &keyed {
        let file_seq = *file_seq;
        let loc = store.location(key);
        let parsed = match store.get(key) {
            Ok(Some(bytes)) => check_entry(&bytes, file_seq, &loc),
            Ok(None) => return Err(Error::Usage(format!("{loc} vanished while verifying"))),
            Err(Error::Altered(message)) => Err(Problem {
                seq: file_seq,
                kind: ProblemKind::EntryUnreadable,
                message,
            }),
            Err(e) => return Err(e),
        };
        let entry = match parsed {
            // The test record (up to about a megabyte on huge suites) is covered by the digest
            // just checked and is read only by later runs' comparisons: a year of entries is
            // not held with it.
            Ok(mut entry) => {
                entry.tests = None;
                entry
            }
            Err(p) => {
                problem.get_or_insert(p);
                expected = next_seq(file_seq);
                continue;
            }
        };
        if problem.is_none() {
            problem = check_link(&entry, file_seq, &loc, expected, &prev, &mut repository);
        }
        if problem.is_none() {
            problem = check_time(&entry, entries.last(), &loc);
        }
        if problem.is_none() && options.bundles {
            problem = check_bundle(store, &entry, bundle_files.get(entry.bundle.as_str()))?;
            outcome.bundles_checked += 1;
        }
        prev = entry.digest.clone();
        expected = next_seq(file_seq);
        outcome.entries += 1;
        outcome.tip_seq = Some(entry.seq);
        outcome.tip_digest = Some(entry.digest.clone());
        entries.push(entry);
    }
    if problem.is_none() {
        let mut wanted: Vec<(&Tip, Option<&str>)> = options
            .expect_tip
            .iter()
            .map(|t| (t, None))
            .chain(
                options
                    .anchors
                    .iter()
                    .map(|a| (&a.tip, Some(a.source.as_str()))),
            )
            .collect();
        wanted.sort_by_key(|(t, _)| t.seq);
        problem = wanted
            .into_iter()
            .find_map(|(want, source)| check_tip(&entries, want, source, outcome.tip_seq));
    }
    outcome.intact = problem.is_none();
    outcome.problem = problem;
    Ok((outcome, entries))
}

/// Whether the chain holds `want` (recorded at `source`, or given by the caller).
fn check_tip(
    entries: &[Entry],
    want: &Tip,
    source: Option<&str>,
    tip_seq: Option<u64>,
) -> Option<Problem> {
    let by = source.map_or_else(String::new, |s| format!("; {s} recorded it"));
    match entries.iter().find(|e| e.seq == want.seq) {
        Some(e) if e.digest == want.digest => None,
        Some(e) => Some(Problem {
            seq: want.seq,
            kind: ProblemKind::Foreign,
            message: format!(
                "entry {}: digest {} differs from the expected {} (chain rewritten){by}",
                want.seq,
                short(&e.digest),
                short(&want.digest)
            ),
        }),
        None => Some(Problem {
            seq: want.seq,
            kind: ProblemKind::Truncated,
            message: format!(
                "entry {} ({}) is missing: the ledger ends at entry {} (truncated){by}",
                want.seq,
                short(&want.digest),
                tip_seq.unwrap_or(0)
            ),
        }),
    }
}

/// An entry stamped more than [`TIME_SKEW`] before the entry it follows.
fn check_time(entry: &Entry, before: Option<&Entry>, loc: &str) -> Option<Problem> {
    let before = before?;
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    let (Some(t), Some(b)) = (parse(&entry.time), parse(&before.time)) else {
        return Some(Problem {
            seq: entry.seq,
            kind: ProblemKind::EntryUnreadable,
            message: format!(
                "entry {} ({loc}): time `{}` is not an RFC 3339 time",
                entry.seq, entry.time
            ),
        });
    };
    (t + TIME_SKEW < b).then(|| Problem {
        seq: entry.seq,
        kind: ProblemKind::TimeReversed,
        message: format!(
            "entry {} ({loc}) is dated {}, before entry {} ({}): time goes backwards by more than an hour (entries rewritten, or a writer's clock is wrong)",
            entry.seq, entry.time, before.seq, before.time
        ),
    })
}

/// A JSON document whose objects each name a key once (the check only: nothing is kept).
struct OnceEach;

impl<'de> serde::Deserialize<'de> for OnceEach {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OnceEachVisitor)
    }
}

struct OnceEachVisitor;

impl<'de> serde::de::Visitor<'de> for OnceEachVisitor {
    type Value = OnceEach;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<OnceEach, E> {
        Ok(OnceEach)
    }
    fn visit_i64<E>(self, _: i64) -> Result<OnceEach, E> {
        Ok(OnceEach)
    }
    fn visit_u64<E>(self, _: u64) -> Result<OnceEach, E> {
        Ok(OnceEach)
    }
    fn visit_f64<E>(self, _: f64) -> Result<OnceEach, E> {
        Ok(OnceEach)
    }
    fn visit_str<E>(self, _: &str) -> Result<OnceEach, E> {
        Ok(OnceEach)
    }
    fn visit_unit<E>(self) -> Result<OnceEach, E> {
        Ok(OnceEach)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<OnceEach, A::Error> {
        while seq.next_element::<OnceEach>()?.is_some() {}
        Ok(OnceEach)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<OnceEach, A::Error> {
        let mut keys = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !keys.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "the key {key:?} is written twice in one object (readers disagree on which \
                     value it has)"
                )));
            }
            map.next_value::<OnceEach>()?;
        }
        Ok(OnceEach)
    }
}

/// Parses an entry and checks its digest against its content.
pub(crate) fn check_entry(bytes: &[u8], file_seq: u64, loc: &str) -> Result<Entry, Problem> {
    let unreadable = |why: String| Problem {
        seq: file_seq,
        kind: ProblemKind::EntryUnreadable,
        message: format!(
            "entry {file_seq} ({loc}) is not a readable ledger entry (edited?): {why}"
        ),
    };
    // serde reads a key written twice as its last value, and so does the digest; a reader
    // taking the first would see another entry with the same digest.
    if let Err(e) = serde_json::from_slice::<OnceEach>(bytes) {
        return Err(unreadable(e.to_string()));
    }
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| unreadable(e.to_string()))?;
    let map = value
        .as_object_mut()
        .ok_or_else(|| unreadable("not a JSON object".into()))?;
    let recorded = match map.remove("digest") {
        Some(Value::String(s)) => s,
        _ => return Err(unreadable("no digest".into())),
    };
    let computed =
        sha256_hex(&canonical_entry_bytes(&value).map_err(|e| unreadable(e.to_string()))?);
    if computed != recorded {
        return Err(Problem {
            seq: file_seq,
            kind: ProblemKind::EntryEdited,
            message: format!(
                "entry {file_seq} ({loc}) was edited: its content hashes to {}, its recorded digest is {}",
                short(&computed),
                short(&recorded)
            ),
        });
    }
    if let Some(map) = value.as_object_mut() {
        map.insert("digest".into(), Value::String(recorded));
    }
    let entry: Entry = serde_json::from_value(value).map_err(|e| unreadable(e.to_string()))?;
    if !ENTRY_FORMATS.contains(&entry.format.as_str()) {
        return Err(unreadable(format!("unknown format {:?}", entry.format)));
    }
    // The bundle is named by its digest and nothing else: `..` or a path there (sealed by
    // whoever rewrote the chain) would name a place in the store, not a bundle.
    let digest = entry.bundle.len() == 64
        && entry
            .bundle
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !digest {
        return Err(unreadable(format!(
            "its bundle {:?} is not a SHA-256 digest",
            entry.bundle.chars().take(80).collect::<String>()
        )));
    }
    Ok(entry)
}

/// The seq that follows `seq`. Keys are sorted and unique, so nothing follows a (planted)
/// `u64::MAX`: saturating keeps a hostile file name from wrapping the count.
pub(crate) fn next_seq(seq: u64) -> u64 {
    seq.saturating_add(1)
}

/// Checks where the entry sits in the chain.
pub(crate) fn check_link(
    entry: &Entry,
    file_seq: u64,
    loc: &str,
    expected: u64,
    prev: &str,
    repository: &mut Option<String>,
) -> Option<Problem> {
    let problem = |seq, kind, message| Some(Problem { seq, kind, message });
    if entry.seq != file_seq {
        return problem(
            file_seq,
            ProblemKind::Reordered,
            format!(
                "entry {file_seq}: {loc} holds entry {} (entries reordered)",
                entry.seq
            ),
        );
    }
    // Every difference of seqs is checked: seqs come from file names and entry contents,
    // which anyone with write access to the store can choose.
    if file_seq < expected {
        // Two files for one place (callers pass ascending, distinct seqs; kept safe anyway).
        return problem(
            file_seq,
            ProblemKind::Reordered,
            format!(
                "entry {file_seq} ({loc}) comes after entry {expected} or later (entries reordered)"
            ),
        );
    }
    if file_seq != expected {
        let before = match expected.checked_sub(1) {
            None | Some(0) => "the start of the ledger".to_string(),
            Some(b) => format!("entry {b}"),
        };
        // `file_seq > expected` here, so `file_seq - 1 >= expected`.
        let last_missing = file_seq - 1;
        let missing = if last_missing == expected {
            format!("entry {expected} is missing")
        } else {
            format!("entries {expected}-{last_missing} are missing")
        };
        return problem(
            expected,
            ProblemKind::EntryMissing,
            format!("{missing}: entry {file_seq} follows {before}"),
        );
    }
    match repository {
        Some(r) if *r != entry.repository => {
            // The first entry of another repository: the whole ledger is someone else's, or
            // the repository asked for (`--repository`) is not this ledger's.
            let why = if file_seq == 1 {
                "this ledger is of another repository than the one asked for (a wrong \
                 --repository?), or another repository's ledger was put in its place"
            } else {
                "foreign entry inserted"
            };
            return problem(
                file_seq,
                ProblemKind::Foreign,
                format!(
                    "entry {file_seq} belongs to repository {:?}, not {r:?} ({why})",
                    entry.repository
                ),
            );
        }
        Some(_) => {}
        None => *repository = Some(entry.repository.clone()),
    }
    if entry.prev != prev {
        let after = match file_seq.checked_sub(1) {
            None | Some(0) => "the genesis value".to_string(),
            Some(before) => format!("the digest of entry {before} ({})", short(prev)),
        };
        return problem(
            file_seq,
            ProblemKind::Foreign,
            format!(
                "entry {file_seq}: prev {} does not match {after} (foreign entry inserted or chain rewritten)",
                short(&entry.prev)
            ),
        );
    }
    None
}

/// `bundles/<digest>/<path>` keys grouped by digest.
pub(crate) fn group_bundles(keys: Vec<String>) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for key in keys {
        if let Some(rest) = key.strip_prefix("bundles/")
            && let Some((digest, path)) = rest.split_once('/')
        {
            map.entry(digest.to_string())
                .or_default()
                .push(path.to_string());
        }
    }
    map
}

/// The first problem of the entry's bundle; `Err` when the store cannot be read (a store that
/// cannot be read is unusable input, never "tampered").
pub(crate) fn check_bundle(
    store: &dyn EvidenceStore,
    entry: &Entry,
    listed: Option<&Vec<String>>,
) -> Result<Option<Problem>> {
    let seq = entry.seq;
    let d = &entry.bundle;
    let edited = |message: String| {
        Ok(Some(Problem {
            seq,
            kind: ProblemKind::BundleEdited,
            message,
        }))
    };
    let key = |path: &str| format!("bundles/{d}/{path}");
    // What no writer puts in a store, where a file of the bundle should be, is an edit.
    let altered = |r: Result<Option<Vec<u8>>>| match r {
        Err(Error::Altered(m)) => Ok(Err(m)),
        r => r.map(Ok),
    };
    let manifest_bytes = match altered(store.get(&key(MANIFEST)))? {
        Err(m) => return edited(format!("entry {seq}: bundle {}: {m}", short(d))),
        Ok(found) => found,
    };
    let manifest_bytes = match manifest_bytes {
        Some(b) => b,
        None => {
            return Ok(Some(Problem {
                seq,
                kind: ProblemKind::BundleMissing,
                message: format!(
                    "entry {seq}: bundle {} is missing ({} not found)",
                    short(d),
                    store.location(&key(MANIFEST))
                ),
            }));
        }
    };
    let actual = sha256_hex(&manifest_bytes);
    if actual != *d {
        return edited(format!(
            "entry {seq}: bundle {}: manifest.json was edited (it hashes to {})",
            short(d),
            short(&actual)
        ));
    }
    let manifest: Manifest = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            return edited(format!(
                "entry {seq}: bundle {}: manifest.json unreadable: {e}",
                short(d)
            ));
        }
    };
    for file in &manifest.files {
        let hashed = match store.hash(&key(&file.path)) {
            Err(Error::Altered(m)) => {
                return edited(format!("entry {seq}: bundle {}: {m}", short(d)));
            }
            r => r?,
        };
        match hashed {
            Some((sha, size)) => {
                if sha != file.sha256 || size != file.size {
                    return edited(format!(
                        "entry {seq}: bundle {}: {} was edited (sha256 {}, {} bytes; the manifest says {}, {} bytes)",
                        short(d),
                        file.path,
                        short(&sha),
                        size,
                        short(&file.sha256),
                        file.size
                    ));
                }
            }
            None => {
                return edited(format!(
                    "entry {seq}: bundle {}: {} was removed",
                    short(d),
                    file.path
                ));
            }
        }
    }
    if let Some(listed) = listed {
        for path in listed {
            if path != MANIFEST && !manifest.files.iter().any(|f| f.path == *path) {
                return edited(format!(
                    "entry {seq}: bundle {}: {path} is not in the manifest (file added)",
                    short(d)
                ));
            }
        }
    }
    Ok(None)
}

/// What [`verified_report`] found.
#[derive(Debug)]
pub enum VerifiedReport {
    /// The bundle verified. `report`: its `report.json` read with the core's model (`None`:
    /// the manifest lists none; `Some(Err)`: not UTF-8 or not a report this release reads);
    /// `files`: the other files asked for.
    Verified {
        report: Option<std::result::Result<Box<Report>, String>>,
        files: std::collections::BTreeMap<String, Vec<u8>>,
    },
    /// The bundle failed verification: why.
    Failed(String),
}

/// A bundle's `report.json` (and the files of `also`), read only once the bundle verified
/// ([`verified_files`]). `Err`: the store could not be read.
pub fn verified_report(
    store: &dyn EvidenceStore,
    digest: &str,
    also: &[&str],
) -> Result<VerifiedReport> {
    let mut paths: Vec<String> = also.iter().map(|p| p.to_string()).collect();
    paths.push(REPORT.to_string());
    Ok(match verified_files(store, digest, &paths)? {
        BundleFiles::Failed(why) => VerifiedReport::Failed(why),
        BundleFiles::Verified(mut files) => VerifiedReport::Verified {
            report: files.remove(REPORT).map(|bytes| {
                String::from_utf8(bytes)
                    .map_err(|e| e.to_string())
                    .and_then(|text| Report::from_json(&text).map_err(|e| e.to_string()))
                    .map(Box::new)
            }),
            files,
        },
    })
}

/// What [`verified_files`] found.
#[derive(Debug)]
pub enum BundleFiles {
    /// Every file checked out against the manifest, which hashes to the entry's digest.
    Verified(std::collections::BTreeMap<String, Vec<u8>>),
    /// The bundle failed verification: why.
    Failed(String),
}

/// Files of one bundle, each checked before it is used: the manifest must hash to `digest`
/// (what the ledger entry names) and each file to the manifest's SHA-256 and size. Returns the
/// files of `paths` the manifest lists (others are absent from the map; `manifest.json` itself
/// is returned when asked for), or why the bundle failed verification (edited, missing);
/// `Err`: the store could not be read.
pub fn verified_files(
    store: &dyn EvidenceStore,
    digest: &str,
    paths: &[String],
) -> Result<BundleFiles> {
    let key = |path: &str| format!("bundles/{digest}/{path}");
    let Some(manifest_bytes) = store.get(&key(MANIFEST))? else {
        return Ok(BundleFiles::Failed(format!(
            "bundle {} is missing ({} not found)",
            short(digest),
            store.location(&key(MANIFEST))
        )));
    };
    let actual = sha256_hex(&manifest_bytes);
    if actual != digest {
        return Ok(BundleFiles::Failed(format!(
            "bundle {}: manifest.json was edited (it hashes to {})",
            short(digest),
            short(&actual)
        )));
    }
    let manifest: Manifest = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            return Ok(BundleFiles::Failed(format!(
                "bundle {}: manifest.json unreadable: {e}",
                short(digest)
            )));
        }
    };
    let mut out = std::collections::BTreeMap::new();
    if paths.iter().any(|p| p == MANIFEST) {
        out.insert(MANIFEST.to_string(), manifest_bytes.clone());
    }
    for path in paths {
        let Some(file) = manifest.files.iter().find(|f| f.path == *path) else {
            continue;
        };
        let Some(bytes) = store.get(&key(path))? else {
            return Ok(BundleFiles::Failed(format!(
                "bundle {}: {path} was removed",
                short(digest)
            )));
        };
        let sha = sha256_hex(&bytes);
        if sha != file.sha256 || bytes.len() as u64 != file.size {
            return Ok(BundleFiles::Failed(format!(
                "bundle {}: {path} was edited (sha256 {}; the manifest says {})",
                short(digest),
                short(&sha),
                short(&file.sha256)
            )));
        }
        out.insert(path.clone(), bytes);
    }
    Ok(BundleFiles::Verified(out))
}
