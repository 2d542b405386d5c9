//! Merging the reports into one line map per repository file ([`FileCov`]), by diff-cover's
//! rule.

use std::collections::HashMap;

use crate::model::coverage::LineHits;

/// One repository file's merged line data: (line, covered, branches covered, branches total).
#[derive(Debug, Clone, Default)]
pub(super) struct FileCov {
    pub(super) lines: Vec<(u32, bool, u32, u32)>,
}

impl FileCov {
    pub(super) fn totals(&self) -> (u64, u64, u64, u64) {
        let mut t = (0u64, self.lines.len() as u64, 0u64, 0u64);
        for &(_, c, bc, bt) in &self.lines {
            t.0 += u64::from(c);
            t.2 += u64::from(bc);
            t.3 += u64::from(bt);
        }
        t
    }
}

/// diff-cover's rule across reports: measured = union; uncovered only if every report that
/// mentions the file lists the line with 0 hits. Branch counts: the largest per line.
pub(super) fn merge(per_report: Vec<HashMap<String, Vec<LineHits>>>) -> HashMap<String, FileCov> {
    let n = per_report.len();
    let mut iter = per_report.into_iter();
    let Some(first) = iter.next() else {
        return HashMap::new();
    };
    if n == 1 {
        return first
            .into_iter()
            .map(|(p, lines)| {
                let lines = lines
                    .into_iter()
                    .map(|l| (l.line, l.hits > 0, l.branches_covered, l.branches_total))
                    .collect();
                (p, FileCov { lines })
            })
            .collect();
    }
    // (reports mentioning, per line: (zero-hit votes, lines seen))
    let mut acc: HashMap<String, (u32, Vec<LineHits>)> = HashMap::new();
    for rep in std::iter::once(first).chain(iter) {
        for (p, lines) in rep {
            let e = acc.entry(p).or_default();
            e.0 += 1;
            e.1.extend(lines);
        }
    }
    acc.into_iter()
        .map(|(p, (mentions, mut lines))| {
            lines.sort_by_key(|l| l.line);
            let mut merged: Vec<(u32, bool, u32, u32)> = Vec::new();
            let mut i = 0;
            while i < lines.len() {
                let ln = lines[i].line;
                let (mut zero_votes, mut bc, mut bt) = (0u32, 0u32, 0u32);
                let mut any_hit = false;
                while i < lines.len() && lines[i].line == ln {
                    if lines[i].hits == 0 {
                        zero_votes += 1;
                    } else {
                        any_hit = true;
                    }
                    bc = bc.max(lines[i].branches_covered);
                    bt = bt.max(lines[i].branches_total);
                    i += 1;
                }
                let uncovered = !any_hit && zero_votes >= mentions;
                merged.push((ln, !uncovered, bc, bt));
            }
            (p, FileCov { lines: merged })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lh(line: u32, hits: u64) -> LineHits {
        LineHits {
            line,
            hits,
            ..Default::default()
        }
    }

    #[test]
    fn merge_follows_diff_cover() {
        let mut a = HashMap::new();
        a.insert("f".to_string(), vec![lh(1, 0), lh(2, 0), lh(3, 1)]);
        a.insert("only_a".to_string(), vec![lh(1, 0)]);
        let mut b = HashMap::new();
        b.insert("f".to_string(), vec![lh(1, 0), lh(2, 5), lh(4, 0)]);
        let m = merge(vec![a, b]);
        // line 1 uncovered in both; 2 covered in b; 3 covered; 4 only in b → a does not call it
        // uncovered, so it is covered under diff-cover's rule.
        assert_eq!(
            m["f"].lines.iter().map(|l| (l.0, l.1)).collect::<Vec<_>>(),
            vec![(1, false), (2, true), (3, true), (4, true)]
        );
        assert!(!m["only_a"].lines[0].1);
    }
}
