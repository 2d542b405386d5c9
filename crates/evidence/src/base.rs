//! A PR run's base in the ledger: the entry of the merge-base commit, or of the nearest
//! first-parent ancestor that has one. Pure: the git module supplies the candidate commits.

use std::collections::HashMap;

use super::ledger::Entry;

/// The ledger entry a PR run's coverage (or API coverage) delta is taken against.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseEntry {
    pub entry: Entry,
    /// The commit the entry was found for.
    pub sha: String,
    /// 0: the merge-base itself; n: the n-th first-parent ancestor of the merge-base.
    pub distance: usize,
}

/// `candidate_shas`: the merge-base first, then its first-parent ancestors, nearest first,
/// already cut to the configured maximum distance. Only entries that `measured` the thing being
/// compared count ([`Entry::has_coverage`], [`Entry::has_api_coverage`]). Among several entries
/// for one commit, runs that are not PR runs win (they measured that commit itself), then the
/// latest.
pub fn find_base_entry(
    entries: &[Entry],
    candidate_shas: &[String],
    measured: impl Fn(&Entry) -> bool,
) -> Option<BaseEntry> {
    let mut best: HashMap<&str, &Entry> = HashMap::new();
    for e in entries {
        let Some(sha) = e.run.head_sha.as_deref() else {
            continue;
        };
        if !measured(e) {
            continue;
        }
        let rank = |x: &Entry| (x.run.pr_number.is_none(), x.seq);
        best.entry(sha)
            .and_modify(|cur| {
                if rank(e) > rank(cur) {
                    *cur = e
                }
            })
            .or_insert(e);
    }
    candidate_shas
        .iter()
        .enumerate()
        .find_map(|(distance, sha)| {
            best.get(sha.as_str()).map(|e| BaseEntry {
                entry: (*e).clone(),
                sha: sha.clone(),
                distance,
            })
        })
}
