//! The evidence bundle of one run: `report.json` (unchanged bytes), `summary.md`, the raw
//! inputs as read under `inputs/` (a redacted copy when one held secrets), and `manifest.json`
//! listing every other file with its SHA-256 and size. The bundle digest is the SHA-256 of the
//! canonical manifest.
//!
//! Large files (inputs, `report.json`) are [`Blob::File`]s: hashed once when the bundle is
//! built and streamed into the store, never held in memory (a 340 MB JUnit report stays on
//! disk).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::canonical::{sha256_hex, to_canonical};
use crate::error::{Error, Result};
use crate::model::run::RunIdentity;

/// Format 2: the manifest is RFC 8785 canonical JSON (format 1 used the legacy sorted form of
/// `canonical`; its digest is over the stored bytes either way).
pub const MANIFEST_FORMAT: &str = "controlgate-bundle/2";
pub const MANIFEST: &str = "manifest.json";
pub const REPORT: &str = "report.json";
pub const SUMMARY: &str = "summary.md";

/// The run's result for one control, as recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlSummary {
    pub id: String,
    /// `pass`, `fail` or `untested`.
    pub status: String,
    /// Tests evidencing the control in this run.
    pub tests: u64,
}

/// A percentage as the ledger records it: exact hundredths written as a decimal string
/// (`"91.67"`), so that no float is ever hashed (ledger format 2: a float that does not survive
/// a parse → re-serialise round trip made intact entries look edited). Format-1 entries hold a
/// JSON number, read here rounded to hundredths; their digests are verified over the stored
/// JSON, not over this value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct LedgerPercent(pub crate::model::coverage::Percent);

impl LedgerPercent {
    /// From a value such as `81.5`, rounded to hundredths.
    pub fn from_f64(v: f64) -> LedgerPercent {
        LedgerPercent(crate::model::coverage::Percent::from_f64(v))
    }

    pub fn as_f64(self) -> f64 {
        self.0.as_f64()
    }

    /// `"91.67"`, `"-0.05"`, `"80"`, `"80.5"` → hundredths; anything else is `None`.
    fn parse(s: &str) -> Option<LedgerPercent> {
        let (neg, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty()
            || int.len() > 15
            || frac.len() > 2
            || !all_digits(int)
            || !all_digits(frac)
        {
            return None;
        }
        let frac_value: i64 = format!("{frac:0<2}").parse().ok()?;
        let value = int.parse::<i64>().ok()? * 100 + frac_value;
        Some(LedgerPercent(crate::model::coverage::Percent(if neg {
            -value
        } else {
            value
        })))
    }
}

impl std::fmt::Display for LedgerPercent {
    /// `91.67`, `-0.05`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for LedgerPercent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for LedgerPercent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Number(f64),
        }
        match Repr::deserialize(d)? {
            Repr::Text(t) => LedgerPercent::parse(&t).ok_or_else(|| {
                serde::de::Error::custom(format!("`{t}` is not a percentage with 2 decimals"))
            }),
            Repr::Number(n) if n.is_finite() => Ok(LedgerPercent::from_f64(n)),
            Repr::Number(n) => Err(serde::de::Error::custom(format!("{n} is not a percentage"))),
        }
    }
}

/// The run's coverage, as recorded in the ledger (the base for later PR runs' deltas).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageSummary {
    /// Line coverage of the whole report, percent.
    #[serde(default)]
    pub percent: Option<LedgerPercent>,
    /// Change against the base, percentage points.
    #[serde(default)]
    pub delta_pp: Option<LedgerPercent>,
    /// Coverage of changed lines, percent.
    #[serde(default)]
    pub patch_percent: Option<LedgerPercent>,
}

/// The run's API operation coverage, as recorded in the ledger (the base for later PR runs'
/// API coverage deltas).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSummary {
    /// Described operations exercised, percent.
    pub percent: LedgerPercent,
    /// Change against the base run, percentage points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_pp: Option<LedgerPercent>,
}

/// The content of one bundle file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blob {
    Bytes(Vec<u8>),
    /// A file on disk with the SHA-256 and size it had when the bundle was built. Stores copy
    /// it re-hashing as they go and refuse it if it changed since.
    File {
        path: PathBuf,
        sha256: String,
        size: u64,
    },
}

impl Default for Blob {
    fn default() -> Self {
        Blob::Bytes(Vec::new())
    }
}

impl From<Vec<u8>> for Blob {
    fn from(bytes: Vec<u8>) -> Self {
        Blob::Bytes(bytes)
    }
}

impl Blob {
    /// The file at `path`, hashed in one streaming pass.
    pub fn file(path: &Path) -> Result<Blob> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let (sha256, size) = crate::hashing::HashingReader::new(file)
            .finish()
            .map_err(|e| Error::io(path, e))?;
        Ok(Blob::File {
            path: path.to_owned(),
            sha256,
            size,
        })
    }

    pub fn sha256(&self) -> String {
        match self {
            Blob::Bytes(b) => sha256_hex(b),
            Blob::File { sha256, .. } => sha256.clone(),
        }
    }

    pub fn size(&self) -> u64 {
        match self {
            Blob::Bytes(b) => b.len() as u64,
            Blob::File { size, .. } => *size,
        }
    }

    /// The whole content, for stores that cannot stream; a file must still hash to its
    /// recorded digest.
    pub fn read(&self) -> Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            Blob::Bytes(b) => Ok(std::borrow::Cow::Borrowed(b)),
            Blob::File { path, sha256, .. } => {
                Ok(std::borrow::Cow::Owned(read_checked(path, sha256)?))
            }
        }
    }
}

/// The whole file at `path`, which must still hash to `sha256`.
pub(crate) fn read_checked(path: &Path, sha256: &str) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if sha256_hex(&bytes) != sha256 {
        return Err(changed(path));
    }
    Ok(bytes)
}

/// The error for a bundle file that no longer hashes to what the bundle recorded.
pub fn changed(path: &Path) -> Error {
    Error::Input {
        path: path.to_owned(),
        location: Default::default(),
        message: "changed while controlgate was running; evidence not written".into(),
    }
}

/// Everything the retain stage needs from a run. It takes bytes or files: report internals
/// stay out.
#[derive(Debug, Clone, Default)]
pub struct BundleInput {
    /// `report.json` exactly as written.
    pub report_json: Blob,
    pub summary_md: String,
    /// Raw input files exactly as read: (path as given or repository-relative, content).
    pub inputs: Vec<(String, Blob)>,
    /// Inputs stored as a redacted copy because they held secrets, by path as given.
    pub redacted: BTreeMap<String, Redacted>,
    pub identity: RunIdentity,
    /// `pass` or `fail`.
    pub verdict: String,
    pub controls: Vec<ControlSummary>,
    pub coverage: Option<CoverageSummary>,
    pub api: Option<ApiSummary>,
    /// Ticket keys linked to the change (e.g. `PROJ-12`).
    pub tickets: Vec<String>,
    /// The run's tests by identity, for the entry.
    pub tests: Option<crate::tests_record::TestsRecord>,
}

/// One file of a bundle, as listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Path inside the bundle (`report.json`, `inputs/...`).
    pub path: String,
    pub sha256: String,
    pub size: u64,
    /// For inputs: the path the file was read from, when it differs from `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// For inputs that held secrets: the file is a redacted copy of the one read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted: Option<Redacted>,
}

/// How an input stored in a bundle differs from the file that was read: secrets replaced by
/// `[REDACTED:<kind>]`, so they are not kept for years in an append-only store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redacted {
    /// SHA-256 of the file as read (what `report.json`'s `inputs` record).
    pub sha256: String,
    /// Secrets replaced.
    pub count: u64,
}

/// An input prepared for a bundle by [`redacted_input`].
#[derive(Debug)]
pub struct InputCopy {
    /// The file as read, hashed.
    pub original: Blob,
    /// A redacted copy and the number of secrets replaced, when it held any.
    pub redacted: Option<(tempfile::NamedTempFile, u64)>,
}

/// Reads the input at `path` once through `redactor`, hashing it; only when it holds secrets is
/// it read again into a redacted temp copy (which must come from the same bytes). Memory stays
/// bounded: both passes stream.
pub fn redacted_input(path: &Path, redactor: &crate::redact::Redactor) -> Result<InputCopy> {
    let pass = |out: &mut dyn std::io::Write| -> Result<(String, u64, u64)> {
        let mut counts = crate::redact::Redactions::default();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut hashing = crate::hashing::HashingReader::new(file);
        redactor
            .redact_stream(
                std::io::BufReader::with_capacity(256 * 1024, &mut hashing),
                out,
                &mut counts,
            )
            .map_err(|e| Error::io(path, e))?;
        let (sha256, bytes) = hashing.finish().map_err(|e| Error::io(path, e))?;
        Ok((sha256, bytes, counts.total))
    };
    let (sha256, size, count) = pass(&mut std::io::sink())?;
    let original = Blob::File {
        path: path.to_owned(),
        sha256,
        size,
    };
    if count == 0 {
        return Ok(InputCopy {
            original,
            redacted: None,
        });
    }
    let temp = tempfile::NamedTempFile::new().map_err(|e| Error::io(path, e))?;
    let mut w = std::io::BufWriter::new(temp.as_file());
    let (again, _, count) = pass(&mut w)?;
    std::io::Write::flush(&mut w).map_err(|e| Error::io(temp.path(), e))?;
    drop(w);
    if again != original.sha256() {
        return Err(changed(path));
    }
    Ok(InputCopy {
        original,
        redacted: Some((temp, count)),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub run: RunIdentity,
    /// Sorted by `path`; never lists `manifest.json` itself.
    pub files: Vec<ManifestFile>,
}

/// A bundle ready to store: its files (manifest included) and digest.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub digest: String,
    pub manifest: Manifest,
    /// (path inside the bundle, content), `manifest.json` last.
    pub files: Vec<(String, Blob)>,
}

/// Maps a given input path to a safe path under `inputs/`: only normal components survive
/// (`/abs/x` → `inputs/abs/x`, `../x` → `inputs/_up/x`, `C:\x` → `inputs/C_/x`).
pub fn input_path(given: &str) -> String {
    let mut parts = Vec::new();
    for part in given.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => parts.push("_up".to_string()),
            p => parts.push(
                p.chars()
                    .map(|c| if c.is_control() || c == ':' { '_' } else { c })
                    .collect::<String>(),
            ),
        }
    }
    if parts.is_empty() {
        parts.push("input".to_string());
    }
    format!("inputs/{}", parts.join("/"))
}

/// Builds the bundle for `input`.
pub fn build_bundle(input: &BundleInput) -> Result<Bundle> {
    type File = (String, Blob, Option<String>, Option<Redacted>);
    let mut files: Vec<File> = vec![
        (REPORT.to_string(), input.report_json.clone(), None, None),
        (
            SUMMARY.to_string(),
            Blob::Bytes(input.summary_md.as_bytes().to_vec()),
            None,
            None,
        ),
    ];
    for (given, blob) in &input.inputs {
        let mut path = input_path(given);
        let base = path.clone();
        let mut n = 2;
        while files.iter().any(|(p, ..)| *p == path) {
            path = format!("{base}~{n}");
            n += 1;
        }
        let source = (path != format!("inputs/{given}")).then(|| given.clone());
        files.push((
            path,
            blob.clone(),
            source,
            input.redacted.get(given).cloned(),
        ));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_string(),
        run: input.identity.clone(),
        files: files
            .iter()
            .map(|(path, blob, source, redacted)| ManifestFile {
                path: path.clone(),
                sha256: blob.sha256(),
                size: blob.size(),
                source: source.clone(),
                redacted: redacted.clone(),
            })
            .collect(),
    };
    let manifest_bytes =
        to_canonical(&manifest).map_err(|e| Error::Store(format!("evidence manifest: {e}")))?;
    let digest = sha256_hex(&manifest_bytes);
    let mut out: Vec<(String, Blob)> = files.into_iter().map(|(p, b, ..)| (p, b)).collect();
    out.push((MANIFEST.to_string(), Blob::Bytes(manifest_bytes)));
    Ok(Bundle {
        digest,
        manifest,
        files: out,
    })
}

/// The store key of a file of the bundle `digest`.
pub fn bundle_key(digest: &str, path: &str) -> String {
    format!("bundles/{digest}/{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_paths_stay_inside_inputs() {
        assert_eq!(input_path("target/junit.xml"), "inputs/target/junit.xml");
        assert_eq!(input_path("/abs/x.xml"), "inputs/abs/x.xml");
        assert_eq!(input_path("../../x"), "inputs/_up/_up/x");
        assert_eq!(input_path("C:\\r\\x"), "inputs/C_/r/x");
        assert_eq!(input_path(""), "inputs/input");
    }
}
