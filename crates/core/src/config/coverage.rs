//! `coverage:`: the project and patch gates, path fixes, source roots and rename detection.

use serde::Deserialize;

use super::gated::Gated;

/// What "no measurable changed lines" means for the patch gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoLinesResult {
    #[default]
    Pass,
    Fail,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectGates {
    /// Head line coverage must be ≥ this percentage.
    pub min: Option<Gated<f64>>,
    /// Fails when coverage drops by strictly more than this many percentage points.
    pub max_drop: Option<Gated<f64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchGates {
    /// Patch coverage must be ≥ this percentage.
    pub min: Option<Gated<f64>>,
    /// Outcome when no changed line is measured (default: pass, with a note):
    /// `when_no_lines: fail` or `{result: fail, informational: true}`.
    pub when_no_lines: Option<Gated<NoLinesResult>>,
}

/// The `coverage:` block of the config file.
///
/// ```yaml
/// coverage:
///   project: { min: 80, max_drop: {value: 0.5, when_unavailable: pass} }
///   patch: { min: 70, when_no_lines: pass }
///   path_fixes: ["/app/::"]
///   source_roots: [src/main/java]
///   indirect_changes: 10
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageConfig {
    #[serde(default)]
    pub project: ProjectGates,
    #[serde(default)]
    pub patch: PatchGates,
    #[serde(default)]
    pub path_fixes: Vec<String>,
    #[serde(default)]
    pub source_roots: Vec<String>,
    /// How many indirect changes to list (default 10).
    pub indirect_changes: Option<usize>,
    /// Rename detection of the diff (`git diff -M<threshold>%`).
    #[serde(default)]
    pub renames: Renames,
}

/// `coverage.renames`: how changed files are paired as renames, as git's `-M<n>%`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Renames {
    /// Minimum similarity in percent for a deleted and an added file to count as a rename
    /// (git's default, 50). A file renamed below it counts as deleted + added: every line of
    /// the new file is changed, as diff-cover says.
    pub threshold: u8,
}

impl Default for Renames {
    fn default() -> Self {
        Renames { threshold: 50 }
    }
}

impl CoverageConfig {
    /// Whether any coverage gate is configured (they need coverage reports to be evaluated).
    pub fn has_gates(&self) -> bool {
        self.project.min.is_some()
            || self.project.max_drop.is_some()
            || self.patch.min.is_some()
            || self.patch.when_no_lines.is_some()
    }
}
