//! Each parsed report's files matched to repository files (per report, not yet merged), with
//! the unmatched paths, the `coverage.inputs` records and the parsers' notes.

use std::collections::HashMap;

use super::merge::FileCov;
use super::paths::PathMapper;
use super::request::ReportInput;
use crate::error::{Error, Location};
use crate::model::coverage::{CoverageFormat, CoverageInput, RawReport};

pub(super) struct Resolved {
    pub(super) per_report: Vec<HashMap<String, FileCov>>,
    pub(super) unmatched: Vec<String>,
    pub(super) inputs: Vec<CoverageInput>,
    /// What the parsers tolerated, each prefixed with its report's path.
    pub(super) notes: Vec<String>,
}

pub(super) fn resolve_reports(
    inputs: &[ReportInput],
    parsed: Vec<RawReport>,
    role: &str,
    mapper: &PathMapper,
) -> Result<Resolved, Error> {
    let mut out = Resolved {
        per_report: Vec::new(),
        unmatched: Vec::new(),
        inputs: Vec::new(),
        notes: Vec::new(),
    };
    for (input, raw) in inputs.iter().zip(parsed) {
        out.notes.extend(
            raw.warnings
                .iter()
                .map(|w| format!("{}: {w}", input.path.display())),
        );
        let mut files: HashMap<String, FileCov> = HashMap::with_capacity(raw.files.len());
        let mut unmatched = Vec::new();
        let total = raw.files.len();
        for f in raw.files {
            let resolved = if raw.format == CoverageFormat::Clover {
                mapper.resolve_by_suffix(&f.name)
            } else {
                mapper.resolve(&f.name, &raw.roots)
            };
            match resolved {
                Ok(p) => match files.get_mut(&p) {
                    Some(existing) => existing.add(f.lines),
                    None => {
                        files.insert(p, FileCov::new(f.lines, f.totals));
                    }
                },
                Err(p) => unmatched.push(p),
            }
        }
        if files.is_empty() {
            let example = unmatched
                .first()
                .map(|u| format!(" (first report path, normalised: `{u}`)"))
                .unwrap_or_default();
            return Err(Error::Input {
                path: input.path.clone(),
                location: Location::default(),
                message: format!(
                    "{} coverage report matched 0 of its {total} files to files in the repository{example}. \
                     Run controlgate from the repository the report was produced for, or map the \
                     paths with `path_fixes` (`before::after`) in the coverage config{}",
                    raw.format,
                    if raw.format == CoverageFormat::Jacoco {
                        " or set `source_roots`"
                    } else {
                        ""
                    }
                ),
            });
        }
        out.inputs.push(CoverageInput {
            path: input.path.to_string_lossy().into_owned(),
            format: format!("{:?}", raw.format).to_lowercase(),
            role: role.to_string(),
            files: total as u64,
            matched_files: files.len() as u64,
            // Hashed by the caller, which holds the file.
            sha256: None,
        });
        out.unmatched.extend(unmatched);
        out.per_report.push(files);
    }
    Ok(out)
}
