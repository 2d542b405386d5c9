//! Merging the reports into one line map per repository file ([`FileCov`]), by diff-cover's
//! rule.

use std::collections::HashMap;

use crate::model::coverage::{LineHits, LineTotals, normalize_lines};

/// One repository file's merged line data, sorted by line: a line is covered when its `hits`
/// is not 0 (after merging several reports, 1 or 0).
#[derive(Debug)]
pub(super) struct FileCov {
    lines: Vec<LineHits>,
    /// The parser's count of `lines` (see `RawFile::totals`), kept while they are unchanged.
    counted: Option<LineTotals>,
}

impl FileCov {
    /// A file's lines with the parser's count of them, if it counted them as they are.
    pub(super) fn new(lines: Vec<LineHits>, counted: Option<LineTotals>) -> Self {
        FileCov { lines, counted }
    }

    /// Another report file's lines for the same repository file: the two merged, sorted and
    /// unique (counted again when asked).
    pub(super) fn add(&mut self, lines: Vec<LineHits>) {
        self.lines.extend(lines);
        normalize_lines(&mut self.lines);
        self.counted = None;
    }

    /// What the file's lines add up to.
    pub(super) fn totals(&self) -> LineTotals {
        debug_assert!(
            self.counted
                .is_none_or(|c| c == LineTotals::of(&self.lines)),
            "a count that is not the lines'"
        );
        self.counted.unwrap_or_else(|| LineTotals::of(&self.lines))
    }
}

impl std::ops::Deref for FileCov {
    type Target = [LineHits];
    fn deref(&self) -> &[LineHits] {
        &self.lines
    }
}

/// diff-cover's rule across reports: measured = union; uncovered only if every report that
/// mentions the file lists the line with 0 hits. Branch counts: the largest per line.
pub(super) fn merge(per_report: Vec<HashMap<String, FileCov>>) -> HashMap<String, FileCov> {
    let n = per_report.len();
    let mut iter = per_report.into_iter();
    let Some(first) = iter.next() else {
        return HashMap::new();
    };
    if n == 1 {
        // One report: its lines are the answer as they are (no copy).
        return first;
    }
    // (reports mentioning, per line: (zero-hit votes, lines seen))
    let mut acc: HashMap<String, (u32, Vec<LineHits>)> = HashMap::new();
    for rep in std::iter::once(first).chain(iter) {
        for (p, file) in rep {
            let e = acc.entry(p).or_default();
            e.0 += 1;
            e.1.extend(file.lines);
        }
    }
    acc.into_iter()
        .map(|(p, (mentions, mut lines))| {
            lines.sort_by_key(|l| l.line);
            let mut merged = Vec::new();
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
                merged.push(LineHits {
                    line: ln,
                    hits: u32::from(!uncovered),
                    branches_covered: bc,
                    branches_total: bt,
                });
            }
            (p, FileCov::new(merged, None))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lh(line: u32, hits: u32) -> LineHits {
        LineHits {
            line,
            hits,
            ..Default::default()
        }
    }

    #[test]
    fn merge_follows_diff_cover() {
        let mut a = HashMap::new();
        let file = |lines| FileCov::new(lines, None);
        a.insert("f".to_string(), file(vec![lh(1, 0), lh(2, 0), lh(3, 1)]));
        a.insert("only_a".to_string(), file(vec![lh(1, 0)]));
        let mut b = HashMap::new();
        b.insert("f".to_string(), file(vec![lh(1, 0), lh(2, 5), lh(4, 0)]));
        let m = merge(vec![a, b]);
        // line 1 uncovered in both; 2 covered in b; 3 covered; 4 only in b → a does not call it
        // uncovered, so it is covered under diff-cover's rule.
        assert_eq!(
            m["f"]
                .iter()
                .map(|l| (l.line, l.hits > 0))
                .collect::<Vec<_>>(),
            vec![(1, false), (2, true), (3, true), (4, true)]
        );
        assert_eq!(m["only_a"][0].hits, 0);
    }
}
