//! The config document's root, [`Config`], and its small sections: tags, rules, controls, tests
//! and redact (the larger sections have their own modules).

use serde::Deserialize;

use super::api::ApiConfig;
use super::coverage::CoverageConfig;
use super::evidence::EvidenceConfig;
use super::gated::Gated;
use super::suites::Suite;
use super::tickets::TicketsConfig;
use crate::model::controls::ControlId;

/// Where control tags are read from (issue carriers a–d; rules are carrier e).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TagSources {
    /// Property names (testcase, suite and `[[PROPERTY|..]]`) whose values name controls.
    pub properties: Vec<String>,
    /// Of those, the names whose every value must be a control ID (others, like `tags`, also
    /// carry ordinary labels such as `smoke`, which are ignored).
    pub strict_properties: Vec<String>,
    /// Look for markers (`[cc6-1]`, `@cc6-1`, `cc6_1` as a token) in names and classnames.
    pub markers: bool,
    /// A regex replacing the default marker matcher; capture group 1 is the tag.
    pub marker_pattern: Option<String>,
}

impl Default for TagSources {
    fn default() -> Self {
        TagSources {
            // `category`/`categories`: NUnit `[Category("cc6-1")]`, MSTest `[TestCategory]`
            // and xUnit.net `Category` traits, read as `category` (see `ingest::cases`).
            properties: [
                "control",
                "controls",
                "soc2",
                "tag",
                "tags",
                "category",
                "categories",
            ]
            .map(String::from)
            .into(),
            strict_properties: ["control", "controls", "soc2"].map(String::from).into(),
            markers: true,
            marker_pattern: None,
        }
    }
}

/// What a mapping rule's glob is matched against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleTarget {
    /// `classname::name`
    #[default]
    Id,
    Classname,
    Name,
    File,
    Suite,
}

impl RuleTarget {
    /// Only `file` is a path: there `*` stays within a directory.
    pub fn glob_subject(self) -> crate::glob::Subject {
        match self {
            RuleTarget::File => crate::glob::Subject::Path,
            _ => crate::glob::Subject::Name,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A glob (`tests/auth/**`, `com.acme.auth.*`).
    #[serde(rename = "match")]
    pub pattern: String,
    #[serde(default)]
    pub on: RuleTarget,
    pub controls: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlsConfig {
    /// Each must have at least one test, and all its tests must pass.
    pub required: Option<Gated<Vec<String>>>,
    /// Fail when a control tag names no criterion (`cc9-5`).
    pub fail_on_unknown: Option<Gated<bool>>,
    /// Fail when a control (the required ones; every control when none is required) loses
    /// evidence against the base run: a test removed or untagged, or a test that passed there
    /// and does not pass now. Not evaluated (→ `when_unavailable`) without a base run.
    pub no_evidence_loss: Option<Gated<bool>>,
}

/// Which tests `tests.min_pass_rate` counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PassRateScope {
    /// Only tests mapped to at least one control.
    Tagged,
    /// Every test (the default: a failing test fails the run, tagged or not).
    #[default]
    All,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TestsConfig {
    /// Minimum pass rate in percent (passed / (passed + failed + errored)); default 100.
    /// Not evaluated (→ `when_unavailable`, default fail) when no test in scope ran.
    pub min_pass_rate: Option<Gated<f64>>,
    pub scope: PassRateScope,
    /// Which failures `min_pass_rate` counts: all (`any`, the default) or only `regressions`
    /// (failures of tests that passed or did not exist on the base run).
    pub fail_on: FailOn,
    /// Whether a known flaky failure (it failed and passed within the recent default-branch
    /// runs) counts: `fail` (the default) or `quarantine` (listed, not counted).
    pub flaky: FlakyPolicy,
    /// How many recent default-branch runs of the ledger make a test's history (default 30).
    pub history: Option<usize>,
}

/// `expect:` which matrix legs a `controlgate merge` must combine: a count (`runs: 3`) or
/// names (`legs: [linux, macos]`). A merge that misses one fails the `expect.legs` gate
/// instead of publishing a partial verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExpectConfig {
    pub runs: Option<usize>,
    pub legs: Vec<String>,
}

/// `tests.fail_on`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    #[default]
    Any,
    Regressions,
}

/// `tests.flaky`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlakyPolicy {
    #[default]
    Fail,
    Quarantine,
}

/// Default of `tests.history`.
pub const DEFAULT_HISTORY_RUNS: usize = 30;

/// The `redact:` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedactConfig {
    /// Regexes whose matches are replaced with `[REDACTED:pattern]` in messages and names.
    pub patterns: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// SHA-256 of the file's bytes as parsed (set by the loader; `None` for built-in defaults),
    /// recorded in the run identity.
    #[serde(skip)]
    pub digest: Option<String>,
    pub version: Option<u32>,
    pub tags: TagSources,
    pub rules: Vec<Rule>,
    pub controls: ControlsConfig,
    pub tests: TestsConfig,
    /// The matrix legs a merge expects (`controlgate merge`).
    pub expect: Option<ExpectConfig>,
    /// Test suites `controlgate run` executes, in order.
    pub suites: Vec<Suite>,
    /// Where evidence bundles and the ledger go (`docs/evidence.md`); absent: not retained
    /// unless `--evidence DIR` is given.
    pub evidence: Option<EvidenceConfig>,
    /// Coverage gates, path fixes and source roots (see `docs/report.md#coverage`).
    pub coverage: CoverageConfig,
    /// API coverage against OpenAPI descriptions (`docs/api-coverage.md`).
    pub api: ApiConfig,
    /// Change tickets: Jira, Linear, GitHub issues and `tickets.required` (`docs/tickets.md`).
    pub tickets: TicketsConfig,
    /// Secret redaction beyond the built-in kinds (`src/redact.rs`).
    pub redact: RedactConfig,
}

impl Config {
    /// `tests.history`, or its default.
    pub fn history_runs(&self) -> usize {
        self.tests.history.unwrap_or(DEFAULT_HISTORY_RUNS)
    }

    pub fn min_pass_rate(&self) -> Gated<f64> {
        self.tests
            .min_pass_rate
            .clone()
            .unwrap_or(Gated::new(100.0))
    }

    /// The required controls, canonicalised (validated at load).
    pub fn required_controls(&self) -> Vec<ControlId> {
        self.controls
            .required
            .as_ref()
            .map(|g| {
                g.value
                    .iter()
                    .filter_map(|t| ControlId::parse_shape(t))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::config::parsing::parse_str;

    #[test]
    fn empty_config_has_defaults() {
        let c = parse_str("").unwrap();
        assert_eq!(c.min_pass_rate(), Gated::new(100.0));
        assert!(c.tags.properties.contains(&"soc2".to_string()));
        // .NET categories are tags out of the box, but not strict: most name no control.
        assert!(c.tags.properties.contains(&"category".to_string()));
        assert!(!c.tags.strict_properties.contains(&"category".to_string()));
        assert!(c.required_controls().is_empty());
    }
}
