//! Patch coverage: the changed (added) lines measured against the merged coverage, and the
//! uncovered lines as ranges.

use std::collections::HashMap;

use super::merge::FileCov;
use crate::model::coverage::{ChangeKind, ChangedFile, PatchCoverage, PatchFile, Percent};

/// `[12, 13, 14, 15, 20]` → `["12-15", "20"]`.
pub fn line_ranges(lines: &[u32]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = lines[i];
        let mut end = start;
        while i + 1 < lines.len() && lines[i + 1] == end.saturating_add(1) {
            i += 1;
            end = lines[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out
}

pub(super) fn patch(changed: &[ChangedFile], cov: &HashMap<String, FileCov>) -> PatchCoverage {
    let mut files = Vec::new();
    let (mut tc, mut tm, mut tch) = (0u64, 0u64, 0u64);
    for f in changed {
        if f.added_lines.is_empty() || matches!(f.kind, ChangeKind::Deleted | ChangeKind::Binary) {
            continue;
        }
        let (mut covered, mut measured) = (0u64, 0u64);
        let mut uncovered = Vec::new();
        if let Some(fc) = cov.get(&f.path) {
            let mut j = 0;
            for &ln in &f.added_lines {
                while j < fc.len() && fc[j].line < ln {
                    j += 1;
                }
                if j < fc.len() && fc[j].line == ln {
                    measured += 1;
                    if fc[j].hits > 0 {
                        covered += 1;
                    } else {
                        uncovered.push(ln);
                    }
                }
            }
        }
        let ch = f.added_lines.len() as u64;
        tc += covered;
        tm += measured;
        tch += ch;
        files.push(PatchFile {
            path: f.path.clone(),
            changed: ch,
            covered,
            measured,
            percent: Percent::ratio(covered, measured),
            uncovered_ranges: line_ranges(&uncovered),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    PatchCoverage {
        covered: tc,
        measured: tm,
        changed: tch,
        percent: Percent::ratio(tc, tm),
        files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(line_ranges(&[12, 13, 14, 15, 20]), vec!["12-15", "20"]);
        assert!(line_ranges(&[]).is_empty());
        assert_eq!(line_ranges(&[1, 3, 4]), vec!["1", "3-4"]);
    }
}
