//! Project coverage: the totals over the merged files, and the indirect changes (files outside
//! the diff whose coverage moved between base and head).

use std::collections::{HashMap, HashSet};

use super::merge::FileCov;
use crate::model::coverage::{ChangedFile, CoverageTotals, IndirectChange, Percent};

pub(super) fn totals(files: &HashMap<String, FileCov>) -> CoverageTotals {
    let (mut c, mut m, mut bc, mut bt) = (0u64, 0u64, 0u64, 0u64);
    for f in files.values() {
        let t = f.totals();
        c += t.covered;
        m += t.measured;
        bc += t.branches_covered;
        bt += t.branches_measured;
    }
    let has_br = bt > 0;
    CoverageTotals {
        lines_covered: c,
        lines_measured: m,
        percent: Percent::ratio(c, m),
        branches_covered: has_br.then_some(bc),
        branches_measured: has_br.then_some(bt),
        branches_percent: if has_br { Percent::ratio(bc, bt) } else { None },
        files: files.len() as u64,
    }
}

pub(super) fn indirect(
    head: &HashMap<String, FileCov>,
    base: &HashMap<String, FileCov>,
    changed: &[ChangedFile],
    limit: usize,
) -> (Vec<IndirectChange>, u64) {
    let in_diff: HashSet<&str> = changed
        .iter()
        .flat_map(|f| std::iter::once(f.path.as_str()).chain(f.old_path.as_deref()))
        .collect();
    let mut out: Vec<IndirectChange> = Vec::new();
    for (path, h) in head {
        if in_diff.contains(path.as_str()) {
            continue;
        }
        let Some(b) = base.get(path) else { continue };
        let (h, b) = (h.totals(), b.totals());
        let (hc, hm, bc, bm) = (h.covered, h.measured, b.covered, b.measured);
        if hc == bc && hm == bm {
            continue;
        }
        out.push(IndirectChange {
            path: path.clone(),
            base_covered: bc,
            base_measured: bm,
            head_covered: hc,
            head_measured: hm,
            base_percent: Percent::ratio(bc, bm),
            head_percent: Percent::ratio(hc, hm),
            delta_pp: Percent::delta(hc, hm, bc, bm),
        });
    }
    let total = out.len() as u64;
    out.sort_by(|a, b| {
        let ka = a.delta_pp.map_or(i64::MAX, |d| d.0.saturating_abs());
        let kb = b.delta_pp.map_or(i64::MAX, |d| d.0.saturating_abs());
        kb.cmp(&ka).then_with(|| a.path.cmp(&b.path))
    });
    out.truncate(limit);
    (out, total)
}
