//! The stage's entry point, [`analyze`]: maps and merges the head (and base) reports, then
//! computes project coverage, its delta, patch coverage and the indirect changes.

use std::collections::HashMap;

use super::merge::{FileCov, merge};
use super::patch::patch;
use super::paths::PathMapper;
use super::project::{indirect, totals};
use super::request::{Changes, CoverageOptions, RepoFiles, ReportInput};
use super::resolve::resolve_reports;
use crate::error::Error;
use crate::model::coverage::{
    ChangedFile, CoverageInput, CoverageRefs, CoverageSection, CoverageTotals, Percent, RawReport,
};

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
    let Changes { refs, files, repo } = changes;
    let mapped = map_reports(reports, head_parsed, base_reports, base_parsed, repo, opts)?;
    Ok(with_changes(mapped, refs, &files, opts))
}

/// The reports mapped to the repository's files, merged and totalled: the part of
/// [`analyze`] that does not depend on the diff (a caller may run it while git diffs).
pub struct Mapped {
    head_cov: HashMap<String, FileCov>,
    head_totals: CoverageTotals,
    head_notes: Vec<String>,
    inputs: Vec<CoverageInput>,
    unmatched: Vec<String>,
    /// The base's lines, totals and notes, when base reports were given.
    base: Option<(HashMap<String, FileCov>, CoverageTotals, Vec<String>)>,
}

/// [`analyze`]'s first half: maps, merges and totals the head (and base) reports.
pub fn map_reports(
    reports: &[ReportInput],
    head_parsed: Vec<RawReport>,
    base_reports: &[ReportInput],
    base_parsed: Vec<RawReport>,
    repo: RepoFiles,
    opts: &CoverageOptions,
) -> Result<Mapped, Error> {
    if reports.is_empty() {
        return Err(Error::Usage(
            "no coverage report given (--coverage <GLOB>)".into(),
        ));
    }
    let RepoFiles {
        head_files,
        base_files,
        roots,
    } = repo;
    let ws = opts.workspace.as_deref();
    let head_mapper = PathMapper::new(&roots, ws, &opts.path_fixes, head_files.iter().cloned())?;
    let head = resolve_reports(reports, head_parsed, "head", &head_mapper)?;
    let mut inputs = head.inputs;
    let mut unmatched = head.unmatched;
    unmatched.sort();
    unmatched.dedup();
    let head_cov = merge(head.per_report);
    let head_totals = totals(&head_cov);
    let base = if base_reports.is_empty() {
        None
    } else {
        let base_mapper = PathMapper::new(
            &roots,
            ws,
            &opts.path_fixes,
            base_files.into_iter().chain(head_files.iter().cloned()),
        )?;
        let b = resolve_reports(base_reports, base_parsed, "base", &base_mapper)?;
        let mut notes = Vec::new();
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
        Some((base_cov, bt, notes))
    };
    Ok(Mapped {
        head_cov,
        head_totals,
        head_notes: head.notes,
        inputs,
        unmatched,
        base,
    })
}

/// [`analyze`]'s second half: patch coverage, the delta and the indirect changes of `changed`.
pub fn with_changes(
    mapped: Mapped,
    refs: CoverageRefs,
    changed: &[ChangedFile],
    opts: &CoverageOptions,
) -> CoverageSection {
    let Mapped {
        head_cov,
        head_totals,
        head_notes: mut notes,
        inputs,
        unmatched,
        base,
    } = mapped;
    let patch = patch(changed, &head_cov);
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
    let (base, delta_pp, indirect_changes, indirect_total) = match base {
        Some((base_cov, bt, base_notes)) => {
            notes.extend(base_notes);
            let delta = Percent::delta(
                head_totals.lines_covered,
                head_totals.lines_measured,
                bt.lines_covered,
                bt.lines_measured,
            );
            let (ind, total) = indirect(&head_cov, &base_cov, changed, opts.indirect_limit);
            (Some(bt), delta, ind, total)
        }
        None => (None, None, Vec::new(), 0),
    };
    CoverageSection {
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
    }
}
