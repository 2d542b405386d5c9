//! The stage's entry point, [`analyze`]: maps and merges the head (and base) reports, then
//! computes project coverage, its delta, patch coverage and the indirect changes.

use super::merge::merge;
use super::patch::patch;
use super::paths::PathMapper;
use super::project::{indirect, totals};
use super::request::{Changes, CoverageOptions, ReportInput};
use super::resolve::resolve_reports;
use crate::error::Error;
use crate::model::coverage::{CoverageSection, Percent, RawReport};

/// Computes project and patch coverage (pure): `head`/`base` are the parsed `reports`/
/// `base_reports` (same order), `changes` what changed. A head report that matches no
/// repository file is an error (never 0 %).
pub fn analyze(
    reports: &[ReportInput],
    head_parsed: Vec<RawReport>,
    base_reports: &[ReportInput],
    base_parsed: Vec<RawReport>,
    changes: Changes,
    opts: &CoverageOptions,
) -> Result<CoverageSection, Error> {
    if reports.is_empty() {
        return Err(Error::Usage(
            "no coverage report given (--coverage <GLOB>)".into(),
        ));
    }
    let want_base = !base_reports.is_empty();
    let Changes {
        refs,
        files: changed,
        head_files,
        base_files,
        roots,
    } = changes;
    let ws = opts.workspace.as_deref();
    let head_mapper = PathMapper::new(&roots, ws, &opts.path_fixes, head_files.iter().cloned())?;
    let head = resolve_reports(reports, head_parsed, "head", &head_mapper)?;
    let mut notes = head.notes;
    let mut inputs = head.inputs;
    let mut unmatched = head.unmatched;
    unmatched.sort();
    unmatched.dedup();
    let head_cov = merge(head.per_report);
    let head_totals = totals(&head_cov);
    let patch = patch(&changed, &head_cov);
    if patch.measured == 0 {
        notes.push(if patch.changed == 0 {
            "no changed lines in the diff".to_string()
        } else {
            format!(
                "no measurable changed lines: none of the {} changed lines is in a coverage report",
                patch.changed
            )
        });
    }
    let (base, delta_pp, indirect_changes, indirect_total) = if want_base {
        let base_mapper = PathMapper::new(
            &roots,
            ws,
            &opts.path_fixes,
            base_files.into_iter().chain(head_files.iter().cloned()),
        )?;
        let b = resolve_reports(base_reports, base_parsed, "base", &base_mapper)?;
        if !b.unmatched.is_empty() {
            notes.push(format!(
                "{} base report paths match no repository file",
                b.unmatched.len()
            ));
        }
        inputs.extend(b.inputs);
        notes.extend(b.notes);
        let base_cov = merge(b.per_report);
        let bt = totals(&base_cov);
        let delta = Percent::delta(
            head_totals.lines_covered,
            head_totals.lines_measured,
            bt.lines_covered,
            bt.lines_measured,
        );
        let (ind, total) = indirect(&head_cov, &base_cov, &changed, opts.indirect_limit);
        (Some(bt), delta, ind, total)
    } else {
        (None, None, Vec::new(), 0)
    };
    Ok(CoverageSection {
        head: head_totals,
        base,
        delta_pp,
        patch,
        refs,
        unmatched_paths: unmatched,
        indirect_changes,
        indirect_changes_total: indirect_total,
        inputs,
        notes,
        base_unavailable: None,
    })
}
