//! GATHER: the evidence ledger as a PR run reads it for its bases — opened, read back from its
//! tip (each entry's digest and its link to the entry after it checked) until the base run on the
//! merge-base's first-parent chain is certain, the base run's bundle's files verified.

use std::cell::RefCell;
use std::path::PathBuf;

use crate::analyze::coverage;
use crate::config::Config;
use crate::error::Error;
use crate::model::coverage::BaseUnavailable;
use crate::model::history::{BaseRun, History, RecentRun, TestIndex, test_identity};
use crate::request::ReportRequest;
use crate::retain::ledger::Entry;
use crate::retain::{BaseEntry, LedgerWalk};

/// Names a base coverage report read from ledger entry N's bundle: `ledger#N/<path>`.
pub const LEDGER_INPUT_PREFIX: &str = "ledger#";

/// The evidence ledger as a PR run reads it for its bases: usable (its tip read and checked,
/// the merge-base and its first-parent ancestors known), or why not.
pub enum LedgerState {
    Usable(LedgerView),
    /// No base can come from it: empty, or not intact (then `untrusted`).
    Unavailable(BaseUnavailable),
}

pub struct LedgerView {
    store: Box<dyn crate::retain::EvidenceStore>,
    /// The ledger read back from its tip, as far as the bases looked up so far needed.
    walk: RefCell<LedgerWalk>,
    /// The merge-base first, then its first-parent ancestors (≤ `base_max_distance`).
    chain: Vec<String>,
}

fn not_intact(outcome: &crate::retain::VerifyOutcome) -> BaseUnavailable {
    BaseUnavailable {
        reason: format!("the evidence ledger is not intact ({})", outcome.summary()),
        untrusted: true,
    }
}

/// `Ok(None)`: no delta can come from a ledger (no evidence store configured, or changes come
/// from `--diff`, not git). A store that cannot be opened or read is an error (exit 2), never
/// "no base": a run must not pass a delta gate because its evidence was unreachable.
pub fn open_ledger(config: &Config, req: &ReportRequest) -> Result<Option<LedgerState>, Error> {
    let Some(ev) = req.evidence(config) else {
        return Ok(None);
    };
    if req.diff.is_some() {
        return Ok(None);
    }
    let (repo, base_ref) = req.git_base();
    let ctx = crate::retain::OpenContext {
        base_dir: repo.clone(),
        repository: crate::retain::store_repository(
            req.identity.as_ref().and_then(|i| i.repository.as_deref()),
        ),
        env: req.env.clone(),
    };
    let unavailable = |reason: String, untrusted: bool| {
        Ok(Some(LedgerState::Unavailable(BaseUnavailable {
            reason,
            untrusted,
        })))
    };
    let store = crate::retain::open_store(&ev.store, &ctx)?;
    // The tip only (a git store fetches its top trees); entries are read as the lookup needs.
    store.refresh_tip()?;
    let Some(mut walk) = LedgerWalk::open(store.as_ref())? else {
        return unavailable("the evidence ledger has no entries yet".into(), false);
    };
    walk.step(store.as_ref())?;
    if let Some(outcome) = walk.problem() {
        return Ok(Some(LedgerState::Unavailable(not_intact(&outcome))));
    }
    // Without the history the base run cannot be located (the coverage diff, which needs the
    // same history, says how to fetch it); the store itself was readable.
    let chain = match crate::git::merge_base_chain(&repo, &base_ref, ev.base_max_distance) {
        Ok(chain) => chain,
        Err(e) => {
            return unavailable(
                format!(
                    "the merge-base with `{base_ref}` is unknown, so no base run can be looked up ({e})"
                ),
                false,
            );
        }
    };
    Ok(Some(LedgerState::Usable(LedgerView {
        store,
        walk: RefCell::new(walk),
        chain,
    })))
}

impl LedgerState {
    /// The head coverage reports kept in the base entry's bundle (verified against its
    /// manifest and the ledger entry first), with a note saying which commit was used — or why
    /// there is no usable base. `Err`: the store could not be read.
    pub fn coverage_base(
        &self,
    ) -> Result<Result<(Vec<coverage::ReportInput>, String), BaseUnavailable>, Error> {
        use crate::retain::bundle;
        let view = match self {
            LedgerState::Usable(v) => v,
            LedgerState::Unavailable(u) => return Ok(Err(u.clone())),
        };
        let missing = |reason: String| {
            Ok(Err(BaseUnavailable {
                reason,
                untrusted: false,
            }))
        };
        let untrusted = |why: String, seq: u64| {
            Ok(Err(BaseUnavailable {
                reason: format!(
                    "the base run's evidence (ledger entry #{seq}) failed verification: {why}"
                ),
                untrusted: true,
            }))
        };
        let base = match view.base(Entry::has_coverage, "coverage")? {
            Ok(b) => b,
            Err(u) => return Ok(Err(u)),
        };
        let digest = &base.entry.bundle;
        let seq = base.entry.seq;
        use crate::retain::verify::BundleFiles;
        let report = match crate::retain::verify::verified_files(
            view.store.as_ref(),
            digest,
            &[bundle::REPORT.to_owned()],
        )? {
            BundleFiles::Verified(mut files) => files.remove(bundle::REPORT),
            BundleFiles::Failed(why) => return untrusted(why, seq),
        };
        // Only `coverage.inputs` is read: the rest (tens of MB of cases on huge runs) is
        // skipped by the parser, not built.
        #[derive(serde::Deserialize)]
        struct BaseReport {
            coverage: Option<BaseCoverage>,
        }
        #[derive(serde::Deserialize)]
        struct BaseCoverage {
            #[serde(default)]
            inputs: Vec<BaseInput>,
        }
        #[derive(serde::Deserialize)]
        struct BaseInput {
            role: Option<String>,
            path: Option<String>,
        }
        let Some(report) = report.and_then(|b| serde_json::from_slice::<BaseReport>(&b).ok())
        else {
            return untrusted("its report.json is missing or unreadable".into(), seq);
        };
        let heads: Vec<String> = report
            .coverage
            .map(|c| c.inputs)
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i.role.as_deref() == Some("head"))
            .filter_map(|i| i.path)
            .collect();
        let wanted: Vec<String> = heads.iter().map(|p| bundle::input_path(p)).collect();
        let mut files =
            match crate::retain::verify::verified_files(view.store.as_ref(), digest, &wanted)? {
                BundleFiles::Verified(files) => files,
                BundleFiles::Failed(why) => return untrusted(why, seq),
            };
        let mut reports = Vec::new();
        for (path, key) in heads.iter().zip(&wanted) {
            if let Some(bytes) = files.remove(key) {
                let path = PathBuf::from(format!("{LEDGER_INPUT_PREFIX}{seq}/{path}"));
                reports.push(coverage::ReportInput {
                    path,
                    bytes: bytes.into(),
                });
            }
        }
        if reports.is_empty() {
            return missing(format!(
                "ledger entry #{seq} ({}) kept no coverage report",
                short_sha(&base.sha)
            ));
        }
        Ok(Ok((
            reports,
            format!("base coverage from {}", describe_base(&base)),
        )))
    }
}

impl LedgerState {
    /// What the comparison with earlier runs needs: the base run's test record (with the names
    /// of the tests it may report as gone, from the base run's verified report) and the recent
    /// default-branch runs' records. `Err`: the store could not be read.
    pub fn history(&self, config: &Config, index: &TestIndex) -> Result<History, Error> {
        let view = match self {
            LedgerState::Usable(v) => v,
            LedgerState::Unavailable(u) => {
                return Ok(History {
                    base: Err(u.clone()),
                    recent: Vec::new(),
                });
            }
        };
        let base = match view.base(Entry::has_tests, "a test record")? {
            Ok(b) => view.base_tests(b, index)?,
            Err(u) => Err(u),
        };
        // Default-branch runs: not PR runs, on the merge-base's first-parent history.
        let on_branch: std::collections::HashSet<&str> =
            view.chain.iter().map(String::as_str).collect();
        let found =
            view.walk
                .borrow_mut()
                .recent(view.store.as_ref(), config.history_runs(), |e| {
                    e.run.pr_number.is_none()
                        && e.has_tests()
                        && e.run
                            .head_sha
                            .as_deref()
                            .is_some_and(|s| on_branch.contains(s))
                })?;
        let recent = match found {
            Ok(entries) => entries
                .into_iter()
                .filter_map(|e| {
                    let tests = e.tests.as_ref()?.decode().ok()?;
                    Some(RecentRun {
                        seq: e.seq,
                        sha: e.run.head_sha.clone().unwrap_or_default(),
                        date: e.date().map(|d| d.to_string()).unwrap_or_default(),
                        coverage: e
                            .coverage
                            .as_ref()
                            .and_then(|c| c.percent)
                            .map(|p| p.as_f64()),
                        tests,
                    })
                })
                .collect(),
            // The base lookup reports a broken ledger; the history is simply not used.
            Err(_) => Vec::new(),
        };
        Ok(History { base, recent })
    }
}

impl LedgerView {
    /// The base entry's test record decoded, with the names of the tests gone from its
    /// controls read from its verified `report.json`.
    fn base_tests(
        &self,
        base: BaseEntry,
        index: &TestIndex,
    ) -> Result<Result<BaseRun, BaseUnavailable>, Error> {
        use crate::retain::bundle;
        use crate::retain::verify::BundleFiles;
        let seq = base.entry.seq;
        let untrusted = |why: String| BaseUnavailable {
            reason: format!("the base run's evidence (ledger entry #{seq}) is unusable: {why}"),
            untrusted: true,
        };
        let tests = match base.entry.tests.as_ref().map(|t| t.decode()) {
            Some(Ok(t)) => t,
            Some(Err(e)) => return Ok(Err(untrusted(format!("its test record: {e}")))),
            None => return Ok(Err(untrusted("it has no test record".into()))),
        };
        // The base run's bundle is verified before its record is used, as for the coverage
        // base: a store whose base evidence was edited or removed is untrusted, whatever the
        // entry (intact in the chain) says.
        let report = match crate::retain::verify::verified_files(
            self.store.as_ref(),
            &base.entry.bundle,
            &[bundle::REPORT.to_owned()],
        )? {
            BundleFiles::Verified(mut files) => files.remove(bundle::REPORT),
            BundleFiles::Failed(why) => return Ok(Err(untrusted(why))),
        };
        let Some(report) = report else {
            return Ok(Err(untrusted("its bundle holds no report.json".into())));
        };
        let gone = crate::analyze::changes::gone_from_controls(index, &tests);
        let mut names = Vec::new();
        if !gone.is_empty() {
            // Only the cases' names are read.
            #[derive(serde::Deserialize)]
            struct NamesReport {
                #[serde(default)]
                cases: Vec<NamedCase>,
            }
            #[derive(serde::Deserialize)]
            struct NamedCase {
                id: String,
                classname: String,
                name: String,
                file: Option<String>,
            }
            if let Ok(r) = serde_json::from_slice::<NamesReport>(&report) {
                for c in r.cases {
                    let v = tests.value(test_identity(&c.classname, &c.name, c.file.as_deref()));
                    if gone.binary_search(&v).is_ok() {
                        names.push((v, c.id));
                    }
                }
            }
        }
        Ok(Ok(BaseRun {
            label: describe_base(&base),
            seq,
            sha: base.sha.clone(),
            tests,
            names,
        }))
    }

    /// The entry of the merge-base, or of its nearest first-parent ancestor, that `measured`
    /// what is compared (`what`, for the note when there is none), or why there is none (a
    /// broken entry on the way back from the tip: untrusted). `Err`: the store could not be
    /// read.
    fn base(
        &self,
        measured: impl Fn(&Entry) -> bool,
        what: &str,
    ) -> Result<Result<BaseEntry, BaseUnavailable>, Error> {
        let mut walk = self.walk.borrow_mut();
        Ok(
            match walk.find_base(self.store.as_ref(), &self.chain, measured)? {
                Ok(Some(base)) => Ok(base),
                Ok(None) => Err(BaseUnavailable {
                    reason: format!(
                        "no ledger entry with {what} for the merge-base {} or its {} first-parent ancestors",
                        self.chain.first().map_or("", |s| short_sha(s)),
                        self.chain.len().saturating_sub(1)
                    ),
                    untrusted: false,
                }),
                Err(outcome) => Err(not_intact(&outcome)),
            },
        )
    }
}

/// "ledger entry #N for commit abc1234, the merge-base".
fn describe_base(base: &BaseEntry) -> String {
    let whence = match base.distance {
        0 => "the merge-base".to_owned(),
        n => format!("{n} first-parent commit(s) before the merge-base"),
    };
    format!(
        "ledger entry #{} for commit {}, {whence}",
        base.entry.seq,
        short_sha(&base.sha)
    )
}

/// The base run's API coverage, for the delta.
pub enum ApiBase {
    /// Its percentage and which ledger entry it is.
    Found { percent: f64, label: String },
    /// Why there is none.
    Missing(String),
}

/// The API coverage of the base run in the ledger, or why there is none. `Err`: the store
/// could not be read.
pub fn api_base(ledger: &LedgerState) -> Result<ApiBase, Error> {
    let found = match ledger {
        LedgerState::Usable(view) => view
            .base(Entry::has_api_coverage, "API coverage")?
            .map_err(|u| u.reason),
        LedgerState::Unavailable(u) => Err(u.reason.clone()),
    };
    Ok(match found {
        Ok(base) => match &base.entry.api {
            Some(api) => ApiBase::Found {
                percent: api.percent.as_f64(),
                label: describe_base(&base),
            },
            None => ApiBase::Missing(format!("{} kept no API coverage", describe_base(&base))),
        },
        Err(note) => ApiBase::Missing(note),
    })
}

pub fn short_sha(sha: &str) -> &str {
    controlgate_core::model::short_sha(sha, 12)
}
