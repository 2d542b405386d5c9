//! controlgate-evidence: what an auditor samples months later. It owns the evidence bundles,
//! the hash-chained ledger, the stores (a directory, a git branch, S3 with Object Lock), and
//! `verify` and `audit`; it takes bytes and never looks inside the report (`docs/evidence.md`),
//! but for `export`, which reads a verified bundle's report through the core's model.

pub mod audit;
pub mod audit_html;
pub mod audit_report;
pub mod badge;
pub mod base;
pub mod bundle;
pub mod canonical;
pub mod export;
pub mod git_store;
pub mod ledger;
pub mod open;
pub mod population;
pub mod prng;
pub mod run_ref;
pub mod s3_store;
pub mod store;
pub mod tests_record;
pub mod verify;
pub mod walk;

use std::path::{Path, PathBuf};

pub use crate::model::run::RunIdentity;
pub use audit::{
    AuditFormat, AuditOutcome, AuditQuery, AuditReport, AuditRequest, audit, audit_store,
};
pub use base::{BaseEntry, find_base_entry};
pub use bundle::{
    ApiSummary, Blob, BundleInput, ControlSummary, CoverageSummary, LedgerPercent, Manifest,
    build_bundle,
};
/// Where the run identity used to live; it is plain data of the model now.
pub mod identity {
    pub use crate::model::run::RunIdentity;
}
pub use ledger::{Entry, GENESIS, Tip};
pub use open::{OpenContext, open_store, store_repository};
pub use store::{DirStore, EvidenceConfig, EvidenceStore, StoreConfig};
pub use verify::{
    Anchor, Problem, ProblemKind, VerifyOptions, VerifyOutcome, VerifyRequest, verify, verify_store,
};
pub use walk::LedgerWalk;

pub mod error;

pub(crate) use controlgate_core::{config, hashing, model, redact};
pub use error::{Error, Result};

/// The ledger's entries after checking the whole hash chain (bundles are not re-hashed). A
/// broken chain is returned as its outcome, with no entries, so nothing is read from a ledger
/// that was tampered with. A PR run's base lookup reads less: [`LedgerWalk`] checks the chain
/// from the tip back to the base.
pub fn chained_entries(store: &dyn EvidenceStore) -> Result<(VerifyOutcome, Vec<Entry>)> {
    let options = VerifyOptions {
        bundles: false,
        ..VerifyOptions::default()
    };
    let (outcome, entries) = verify::load_verified(store, &options)?;
    Ok(if outcome.intact {
        (outcome, entries)
    } else {
        (outcome, Vec::new())
    })
}

/// What [`write_evidence`] stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// SHA-256 of the canonical manifest.
    pub bundle_digest: String,
    pub entry_seq: u64,
    pub entry_digest: String,
    /// Where the bundle is (path or URL of its directory/prefix).
    pub location: String,
    pub entry: Entry,
}

/// Options of [`write_evidence_with`].
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// Where the bundle is kept when the store fails.
    pub fallback_dir: PathBuf,
    /// The entry's time (default: now). For backfills and generated ledgers.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            fallback_dir: PathBuf::from(".controlgate/evidence-fallback"),
            now: None,
        }
    }
}

/// Stores the run's bundle, then appends its ledger entry. On a store failure the bundle is
/// kept under `.controlgate/evidence-fallback/` and the error says where.
pub fn write_evidence(store: &dyn EvidenceStore, input: &BundleInput) -> Result<Written> {
    write_evidence_with(store, input, &WriteOptions::default())
}

/// [`write_evidence`] with explicit options.
pub fn write_evidence_with(
    store: &dyn EvidenceStore,
    input: &BundleInput,
    options: &WriteOptions,
) -> Result<Written> {
    let bundle = build_bundle(input)?;
    let now = options.now.unwrap_or_else(chrono::Utc::now);
    let draft = ledger::EntryDraft {
        time: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        repository: input.identity.repository.clone().unwrap_or_default(),
        run: input.identity.clone(),
        bundle: bundle.digest.clone(),
        verdict: input.verdict.clone(),
        controls: input.controls.clone(),
        coverage: input.coverage.clone(),
        api: input.api.clone(),
        tickets: input.tickets.clone(),
        tests: input.tests.clone(),
    };
    draft.check()?;
    match store.append(&bundle, &draft) {
        Ok(entry) => Ok(Written {
            bundle_digest: bundle.digest.clone(),
            entry_seq: entry.seq,
            entry_digest: entry.digest.clone(),
            location: store.location(&format!("bundles/{}/", bundle.digest)),
            entry,
        }),
        // A file that changed after it was hashed is bad input, not a store failure: there
        // is no consistent bundle to keep.
        Err(err @ Error::Input { .. }) => Err(err),
        Err(err) => Err(keep_locally(
            &options.fallback_dir,
            &bundle,
            &draft,
            &store.location(""),
            err,
        )),
    }
}

/// When the store cannot even be opened (unreachable, misconfigured): the run's bundle is
/// still kept under `options.fallback_dir`, and the error says where — nothing is lost
/// silently.
pub fn keep_without_store(input: &BundleInput, options: &WriteOptions, err: Error) -> Error {
    let bundle = match build_bundle(input) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let now = options.now.unwrap_or_else(chrono::Utc::now);
    let draft = ledger::EntryDraft {
        time: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        repository: input.identity.repository.clone().unwrap_or_default(),
        run: input.identity.clone(),
        bundle: bundle.digest.clone(),
        verdict: input.verdict.clone(),
        controls: input.controls.clone(),
        coverage: input.coverage.clone(),
        api: input.api.clone(),
        tickets: input.tickets.clone(),
        tests: input.tests.clone(),
    };
    keep_locally(
        &options.fallback_dir,
        &bundle,
        &draft,
        "(could not be opened)",
        err,
    )
}

/// Writes the bundle (and the unchained entry draft) under `dir/bundles/<digest>/` and turns
/// the store error into one that says what was kept where.
fn keep_locally(
    dir: &Path,
    bundle: &bundle::Bundle,
    draft: &ledger::EntryDraft,
    where_: &str,
    err: Error,
) -> Error {
    let fallback = DirStore::new(dir);
    let mut kept = bundle
        .files
        .iter()
        .try_for_each(|(path, blob)| {
            store::put_blob(&fallback, &bundle::bundle_key(&bundle.digest, path), blob)
        })
        .map(|()| fallback.location(&format!("bundles/{}/", bundle.digest)));
    if kept.is_ok() {
        // The entry cannot be chained without the store: keep what it would say, unsealed.
        let pending = draft.chain(None);
        let key = format!("pending/{}.json", bundle.digest);
        if let Err(e) = fallback.put_create(&key, &pending.to_bytes()) {
            kept = Err(e);
        }
    }
    match kept {
        Ok(path) => Error::NotRetained(format!(
            "evidence store {where_} failed: {err}; the bundle {} was kept locally at {path} (not in the ledger yet)",
            bundle.digest
        )),
        Err(e2) => Error::NotRetained(format!(
            "evidence store {where_} failed: {err}; keeping the bundle {} locally in {} failed too: {e2}",
            bundle.digest,
            dir.display()
        )),
    }
}
