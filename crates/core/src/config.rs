//! `.github/controlgate.yml`: tag sources, mapping rules and gates.
//!
//! Parsed with `serde_yaml_ng`, a maintained fork of the archived `serde_yaml` with the same
//! API and YAML 1.2 behaviour via `unsafe-libyaml`. Unknown keys are errors with a did-you-mean
//! suggestion.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Location};
use crate::model::controls::{self, ControlId};
use crate::model::gate::{GatePolicy, WhenUnavailable};

/// A gate setting: either the bare value (`min_pass_rate: 95`) or the long form
/// `{ value: 95, informational: true, when_unavailable: pass }`. An informational gate is
/// reported but never fails the run; `when_unavailable` (default `fail`) is the outcome when
/// the gate cannot be evaluated (see [`crate::model::gate`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Gated<T> {
    pub value: T,
    pub informational: bool,
    pub when_unavailable: WhenUnavailable,
}

impl<T> Gated<T> {
    pub fn new(value: T) -> Self {
        Gated {
            value,
            informational: false,
            when_unavailable: WhenUnavailable::Fail,
        }
    }

    /// How the gate's outcome counts.
    pub fn policy(&self) -> GatePolicy {
        GatePolicy {
            informational: self.informational,
            when_unavailable: self.when_unavailable,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GatedFull<T> {
    /// `result` is the name `coverage.patch.when_no_lines` has always used.
    #[serde(alias = "result")]
    value: T,
    #[serde(default)]
    informational: bool,
    #[serde(default)]
    when_unavailable: WhenUnavailable,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Gated<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml_ng::Value::deserialize(d)?;
        let full = matches!(&v, serde_yaml_ng::Value::Mapping(m)
        if m.keys().any(|k| k.as_str().is_some_and(|k| {
            matches!(k, "value" | "result" | "informational" | "when_unavailable")
        })));
        if full {
            let f: GatedFull<T> = serde_yaml_ng::from_value(v).map_err(D::Error::custom)?;
            Ok(Gated {
                value: f.value,
                informational: f.informational,
                when_unavailable: f.when_unavailable,
            })
        } else {
            serde_yaml_ng::from_value(v)
                .map(Gated::new)
                .map_err(D::Error::custom)
        }
    }
}

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
            properties: ["control", "controls", "soc2", "tag", "tags"]
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
}

/// A test suite `controlgate run` executes (issue 4): a shell command and the result files it
/// leaves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Suite {
    pub name: String,
    /// Run with `sh -c`.
    pub run: String,
    /// Relative to the workspace.
    #[serde(default)]
    pub working_directory: Option<PathBuf>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// JUnit globs, relative to the suite's working directory.
    #[serde(default)]
    pub junit: Vec<String>,
    #[serde(default)]
    pub coverage: Vec<String>,
    /// Controls every test of the suite evidences.
    #[serde(default)]
    pub controls: Vec<String>,
    /// `90`, `90s`, `15m`, `1h`.
    #[serde(default, deserialize_with = "de_timeout")]
    pub timeout: Option<Duration>,
}

fn de_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let v = serde_yaml_ng::Value::deserialize(d)?;
    let text = match &v {
        serde_yaml_ng::Value::Number(n) => n.to_string(),
        serde_yaml_ng::Value::String(s) => s.trim().to_owned(),
        serde_yaml_ng::Value::Null => return Ok(None),
        _ => return Err(D::Error::custom("timeout: expected seconds or e.g. `15m`")),
    };
    let (num, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text.as_str(), "s"),
    };
    let mult = match unit.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        u => {
            return Err(D::Error::custom(format!(
                "timeout: unknown unit `{u}` (s, m or h)"
            )));
        }
    };
    match num.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && (n * mult).is_finite() => Ok(Some(Duration::from_secs_f64(n * mult))),
        _ => Err(D::Error::custom(format!(
            "timeout: `{text}` is not a positive duration"
        ))),
    }
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

// ---------------------------------------------------------------------------------------------
// Tickets

/// `tickets:` in `.github/controlgate.yml`. A tracker is enabled by its section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TicketsConfig {
    /// Fail a change without a ticket (CC8.1).
    pub required: Option<Gated<bool>>,
    pub jira: Option<JiraConfig>,
    pub linear: Option<LinearConfig>,
    pub github: Option<GithubIssuesConfig>,
    pub exempt: Exemptions,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JiraConfig {
    /// Project keys (`ENG`, `OPS`); only these are recognised as Jira keys.
    pub projects: Vec<String>,
    /// `https://your-domain.atlassian.net` (credentials may override it).
    pub url: Option<String>,
    /// Upsert a remote link to the PR (default true).
    pub remote_link: bool,
    /// Post (then edit) one comment with the verdict, controls and coverage (default true).
    pub comment: bool,
}

impl Default for JiraConfig {
    fn default() -> Self {
        JiraConfig {
            projects: Vec::new(),
            url: None,
            remote_link: true,
            comment: true,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinearConfig {
    /// Team keys (`ENG`); only these are recognised as Linear identifiers.
    #[serde(alias = "projects")]
    pub teams: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GithubIssuesConfig {
    /// Count `#123` / `owner/repo#123` in the title, body and commit messages (default true);
    /// issues linked to the PR always count.
    pub references: bool,
    /// Keep one sticky comment on each linked issue (default true).
    pub comment: bool,
}

impl Default for GithubIssuesConfig {
    fn default() -> Self {
        GithubIssuesConfig {
            references: true,
            comment: true,
        }
    }
}

/// Changes that need no ticket: matched exactly, case-insensitively.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Exemptions {
    pub labels: Vec<String>,
    /// Logins such as `dependabot[bot]`, `renovate[bot]`.
    pub authors: Vec<String>,
}

impl TicketsConfig {
    /// Whether any tracker is configured.
    pub fn any_tracker(&self) -> bool {
        self.jira.is_some() || self.linear.is_some() || self.github.is_some()
    }

    /// Checks project/team keys and that a required gate has something to accept.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let key_ok = |k: &str| {
            let mut chars = k.chars();
            chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        };
        for (what, keys) in [
            (
                "tickets.jira.projects",
                self.jira.as_ref().map(|j| &j.projects),
            ),
            (
                "tickets.linear.teams",
                self.linear.as_ref().map(|l| &l.teams),
            ),
        ] {
            let Some(keys) = keys else { continue };
            if keys.is_empty() {
                return Err(format!(
                    "{what}: list the keys to recognise (e.g. [ENG, OPS]); without them every `ABC-123` (SHA-256, UTF-8) would match"
                ));
            }
            for k in keys {
                if !key_ok(k) {
                    return Err(format!(
                        "{what}: `{k}` is not a key (upper-case letters, digits and `_`, starting with a letter, e.g. ENG)"
                    ));
                }
            }
        }
        if let Some(url) = self.jira.as_ref().and_then(|j| j.url.as_deref())
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(format!(
                "tickets.jira.url: `{url}` is not an http(s) URL (e.g. https://acme.atlassian.net)"
            ));
        }
        if self.required.as_ref().is_some_and(|r| r.value) && !self.any_tracker() {
            return Err(
                "tickets.required: configure at least one of tickets.jira, tickets.linear or tickets.github"
                    .into(),
            );
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Evidence

/// The `evidence:` section of the config file.
///
/// ```yaml
/// evidence:
///   store: { type: dir, path: .controlgate/evidence }
///   base_max_distance: 50
///   fallback_dir: .controlgate/evidence-fallback
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceConfig {
    pub store: StoreConfig,
    /// How many first-parent ancestors of the merge-base to search for a base entry.
    pub base_max_distance: usize,
    /// Where a bundle is kept when the store fails.
    pub fallback_dir: PathBuf,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        EvidenceConfig {
            store: StoreConfig::default(),
            base_max_distance: 50,
            fallback_dir: PathBuf::from(".controlgate/evidence-fallback"),
        }
    }
}

/// `evidence.store` in the config file.
///
/// ```yaml
/// evidence:
///   store: { type: dir, path: .controlgate/evidence }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum StoreConfig {
    /// A local directory (the default).
    Dir {
        #[serde(default = "default_dir")]
        path: PathBuf,
    },
    /// An orphan branch of a git repository, committed and pushed.
    Git {
        /// Remote name or URL to fetch from and push to.
        #[serde(default = "default_remote")]
        remote: String,
        #[serde(default = "default_branch")]
        branch: String,
        /// Local working directory for the branch (default: a directory under the system temp).
        #[serde(default)]
        workdir: Option<PathBuf>,
        /// Environment variable holding the token for HTTPS pushes (never printed).
        #[serde(default = "default_token_env")]
        token_env: String,
    },
    /// An S3 bucket (Object Lock recommended, COMPLIANCE mode, default retention).
    S3 {
        bucket: String,
        /// Key prefix; default: the repository (`owner/name`), so one bucket holds many.
        #[serde(default)]
        prefix: Option<String>,
        #[serde(default)]
        region: Option<String>,
        /// Custom endpoint (S3-compatible stores, tests).
        #[serde(default)]
        endpoint: Option<String>,
        #[serde(default)]
        allow_http: bool,
    },
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig::Dir {
            path: default_dir(),
        }
    }
}

fn default_dir() -> PathBuf {
    PathBuf::from(".controlgate/evidence")
}
fn default_remote() -> String {
    "origin".to_string()
}
pub fn default_branch() -> String {
    "controlgate-evidence".to_string()
}
fn default_token_env() -> String {
    "GITHUB_TOKEN".to_string()
}

/// The `redact:` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedactConfig {
    /// Regexes whose matches are replaced with `[REDACTED:pattern]` in messages and names.
    pub patterns: Vec<String>,
}

/// Which controls each API check evidences.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiControls {
    pub coverage: Vec<String>,
    pub negative_auth: Vec<String>,
    pub confidential_fields: Vec<String>,
}

impl Default for ApiControls {
    fn default() -> Self {
        ApiControls {
            coverage: vec!["CC7.1".into()],
            negative_auth: vec!["CC6.1".into()],
            confidential_fields: vec!["C1.1".into(), "CC6.7".into()],
        }
    }
}

/// The `api:` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// OpenAPI 3.0/3.1 root documents (YAML or JSON), relative to the working directory.
    pub specs: Vec<String>,
    /// Extra path prefixes removed from request paths before matching (besides the servers'
    /// base paths).
    pub base_paths: Vec<String>,
    /// Request paths (globs, e.g. `/favicon.ico`, `/static/**`) neither matched nor listed as
    /// undocumented.
    pub ignore_paths: Vec<String>,
    /// Test property names whose values name operations (`operationId` or `GET /pets/{id}`).
    pub tag_properties: Vec<String>,
    /// Property names treated as confidential besides those marked `x-confidential: true`.
    pub confidential_fields: Vec<String>,
    /// Request headers that carry credentials besides `Authorization`, `Cookie`, `X-API-Key`,
    /// `API-Key` and the description's `apiKey` schemes.
    pub credential_headers: Vec<String>,
    pub min_coverage: Option<Gated<f64>>,
    pub new_operations_require_tests: Option<Gated<bool>>,
    /// Default: `{value: true, informational: true}` (reported, never fails the run).
    pub breaking_changes: Option<Gated<bool>>,
    pub secured_operations_require_negative_test: Option<Gated<bool>>,
    pub confidential_fields_in_errors: Option<Gated<bool>>,
    pub controls: ApiControls,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            specs: Vec::new(),
            base_paths: Vec::new(),
            ignore_paths: Vec::new(),
            tag_properties: ["operation", "operations", "api"].map(String::from).into(),
            confidential_fields: Vec::new(),
            credential_headers: Vec::new(),
            min_coverage: None,
            new_operations_require_tests: None,
            breaking_changes: None,
            secured_operations_require_negative_test: None,
            confidential_fields_in_errors: None,
            controls: ApiControls::default(),
        }
    }
}

impl ApiConfig {
    pub fn breaking_changes(&self) -> Gated<bool> {
        self.breaking_changes.clone().unwrap_or(Gated {
            informational: true,
            ..Gated::new(true)
        })
    }
}

impl Config {
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

/// Parses and validates a config document. `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
    let err = |location: Location, message: String| Error::Config {
        path: path.to_owned(),
        location,
        message,
    };
    crate::ingest::yaml::check_depth(text).map_err(|e| err(e.location, e.message))?;
    let config: Config = if text.trim().is_empty() {
        Config::default()
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| {
            let location = Location {
                line: e.location().map(|l| l.line() as u64),
                byte: None,
            };
            err(location, with_suggestion(&e.to_string()))
        })?
    };
    validate(&config).map_err(|m| {
        let line = m.split(':').next().and_then(|key| key_line(text, key));
        err(Location { line, byte: None }, m)
    })?;
    Ok(config)
}

/// The line of a dotted key path (`controls.required`, `rules[1].match`) in the document: each
/// segment is looked up after the previous one (a `[n]` index is skipped). Best effort, for
/// messages only; `None` when not found.
fn key_line(text: &str, path: &str) -> Option<u64> {
    let mut from = 0usize;
    for seg in path.split('.') {
        let name = seg.split('[').next().unwrap_or(seg).trim();
        if name.is_empty() || name.contains(' ') {
            return None;
        }
        let found = text.lines().enumerate().skip(from).find(|(_, l)| {
            let l = l
                .trim_start()
                .trim_start_matches("- ")
                .trim_start_matches(['{', ' ']);
            l.strip_prefix(name)
                .is_some_and(|r| r.trim_start().starts_with(':'))
                || l.contains(&format!("{{{name}:"))
                || l.contains(&format!(", {name}:"))
        })?;
        from = found.0;
    }
    Some(from as u64 + 1)
}

fn validate(config: &Config) -> Result<(), String> {
    let check = |tag: &str, what: &str| match controls::lookup(tag) {
        Ok(_) => Ok(()),
        Err(Some(id)) => Err(format!("{what}: `{tag}` ({id}) is not a SOC 2 criterion")),
        Err(None) => Err(format!(
            "{what}: `{tag}` is not a control ID (expected e.g. CC6.1)"
        )),
    };
    if let Some(req) = &config.controls.required {
        for t in &req.value {
            check(t, "controls.required")?;
        }
    }
    for (i, rule) in config.rules.iter().enumerate() {
        crate::glob::parse(&rule.pattern, rule.on.glob_subject())
            .map_err(|e| format!("rules[{i}].match: bad glob `{}`: {e}", rule.pattern))?;
        if rule.controls.is_empty() {
            return Err(format!("rules[{i}]: `controls` is empty"));
        }
        for t in &rule.controls {
            check(t, &format!("rules[{i}].controls"))?;
        }
    }
    for (i, suite) in config.suites.iter().enumerate() {
        let what = format!("suites[{i}]");
        if suite.name.trim().is_empty() {
            return Err(format!("{what}.name is empty"));
        }
        if config.suites[..i].iter().any(|s| s.name == suite.name) {
            return Err(format!("{what}.name: `{}` is used twice", suite.name));
        }
        if suite.run.trim().is_empty() {
            return Err(format!("{what}.run is empty"));
        }
        if suite.junit.is_empty() {
            return Err(format!(
                "{what} (`{}`): `junit` is empty: name the result files the command writes",
                suite.name
            ));
        }
        for g in suite.junit.iter().chain(&suite.coverage) {
            crate::glob::parse(g, crate::glob::Subject::Path)
                .map_err(|e| format!("{what}: bad glob `{g}`: {e}"))?;
        }
        for t in &suite.controls {
            check(t, &format!("{what}.controls"))?;
        }
    }
    if let Some(p) = &config.tags.marker_pattern {
        let re = regex::Regex::new(p).map_err(|e| format!("tags.marker_pattern: {e}"))?;
        if re.captures_len() < 2 {
            return Err("tags.marker_pattern: needs a capture group for the tag".into());
        }
    }
    let api = &config.api;
    for (what, ids) in [
        ("api.controls.coverage", &api.controls.coverage),
        ("api.controls.negative_auth", &api.controls.negative_auth),
        (
            "api.controls.confidential_fields",
            &api.controls.confidential_fields,
        ),
    ] {
        for t in ids {
            check(t, what)?;
        }
    }
    for (i, g) in api.ignore_paths.iter().enumerate() {
        crate::glob::parse(g, crate::glob::Subject::Path)
            .map_err(|e| format!("api.ignore_paths[{i}]: bad glob `{g}`: {e}"))?;
    }
    config.tickets.validate()?;
    crate::redact::Redactor::new(&[], &config.redact.patterns).map_err(|e| e.to_string())?;
    // Every threshold is a finite percentage (YAML's `.nan` and `.inf` are numbers): a NaN
    // compares false both ways and would make a gate pass or fail by accident.
    let cov = &config.coverage;
    for (what, gate) in [
        ("tests.min_pass_rate", &config.tests.min_pass_rate),
        ("api.min_coverage", &api.min_coverage),
        ("coverage.project.min", &cov.project.min),
        ("coverage.project.max_drop", &cov.project.max_drop),
        ("coverage.patch.min", &cov.patch.min),
    ] {
        if let Some(g) = gate
            && !(g.value.is_finite() && (0.0..=100.0).contains(&g.value))
        {
            return Err(format!(
                "{what}: {} is not a percentage (a number from 0 to 100)",
                g.value
            ));
        }
    }
    if cov.renames.threshold > 100 {
        return Err(format!(
            "coverage.renames.threshold: {} is not a percentage (0-100)",
            cov.renames.threshold
        ));
    }
    Ok(())
}

/// serde says "unknown field `requird`, expected one of `required`, ..."; add the closest
/// expected name when it is close enough to be a typo.
fn with_suggestion(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `").or_else(|| {
        message
            .find("unknown field `")
            .map(|i| &message[i + "unknown field `".len()..])
    }) else {
        return message.to_owned();
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message.to_owned();
    };
    let best = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|cand| (strsim::jaro_winkler(unknown, cand), cand))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((score, cand)) if score >= 0.8 => format!("{message} (did you mean `{cand}`?)"),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    fn parse_str(s: &str) -> Result<Config, String> {
        parse(s, Path::new("c.yml")).map_err(|e| e.to_string())
    }

    #[test]
    fn empty_config_has_defaults() {
        let c = parse_str("").unwrap();
        assert_eq!(c.min_pass_rate(), Gated::new(100.0));
        assert!(c.tags.properties.contains(&"soc2".to_string()));
        assert!(c.required_controls().is_empty());
    }

    #[test]
    fn gates_take_bare_or_informational_form() {
        let c = parse_str(
            "tests:\n  min_pass_rate: {value: 95, informational: true}\ncontrols:\n  required: [cc6-1, CC8.1]\n",
        )
        .unwrap();
        assert_eq!(
            c.min_pass_rate(),
            Gated {
                informational: true,
                ..Gated::new(95.0)
            }
        );
        let req: Vec<String> = c
            .required_controls()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(req, ["CC6.1", "CC8.1"]);
        assert!(!c.controls.required.unwrap().informational);
    }

    #[test]
    fn unknown_keys_get_a_did_you_mean() {
        let e = parse_str("controls:\n  requird: [CC6.1]\n").unwrap_err();
        assert!(e.contains("did you mean `required`?"), "{e}");
        assert!(e.starts_with("config c.yml:2"), "{e}");
        let e =
            parse_str("controls:\n  required: {value: [CC6.1], informatonal: true}\n").unwrap_err();
        assert!(e.contains("did you mean `informational`?"), "{e}");
        let e = parse_str("zzz: 1\n").unwrap_err();
        assert!(
            e.contains("unknown field `zzz`") && !e.contains("did you mean"),
            "{e}"
        );
    }

    #[test]
    fn api_section_defaults_and_validation() {
        let c = parse_str("").unwrap();
        assert!(c.api.specs.is_empty());
        assert_eq!(c.api.controls.coverage, ["CC7.1"]);
        assert_eq!(
            c.api.breaking_changes(),
            Gated {
                informational: true,
                ..Gated::new(true)
            }
        );
        let c = parse_str("api:\n  specs: [a.yaml]\n  min_coverage: {value: 80, informational: true}\n  confidential_fields_in_errors: true\n  controls: {coverage: [cc7-2]}\n").unwrap();
        assert_eq!(c.api.min_coverage.unwrap().value, 80.0);
        assert!(c.api.confidential_fields_in_errors.unwrap().value);
        let e = parse_str("api:\n  min_coverge: 80\n").unwrap_err();
        assert!(e.contains("did you mean `min_coverage`?"), "{e}");
        let e = parse_str("api:\n  min_coverage: 180\n").unwrap_err();
        assert!(e.contains("api.min_coverage"), "{e}");
        let e = parse_str("api:\n  controls: {negative_auth: [CC9.9]}\n").unwrap_err();
        assert!(e.contains("api.controls.negative_auth"), "{e}");
    }

    #[test]
    fn suites_parse_with_kebab_keys_and_durations() {
        let c = parse_str(
            "suites:\n  - name: unit\n    run: cargo test\n    working-directory: core\n    env: {RUST_LOG: debug}\n    junit: [target/junit.xml]\n    controls: [cc8-1]\n    timeout: 15m\n  - name: e2e\n    run: make e2e\n    junit: [out/*.xml]\n    timeout: 90\n",
        )
        .unwrap();
        assert_eq!(c.suites.len(), 2);
        assert_eq!(c.suites[0].timeout, Some(Duration::from_secs(900)));
        assert_eq!(c.suites[1].timeout, Some(Duration::from_secs(90)));
        assert_eq!(
            c.suites[0].working_directory.as_deref(),
            Some(Path::new("core"))
        );
        let e = parse_str("suites:\n  - name: a\n    run: x\n    junit: [a]\n    timout: 3\n")
            .unwrap_err();
        assert!(e.contains("did you mean `timeout`?"), "{e}");
        let e = parse_str("suites:\n  - name: a\n    run: x\n").unwrap_err();
        assert!(e.contains("`junit` is empty"), "{e}");
        let e =
            parse_str("suites:\n  - name: a\n    run: x\n    junit: [a]\n    controls: [cc9-5]\n")
                .unwrap_err();
        assert!(e.contains("suites[0].controls"), "{e}");
        let e = parse_str("suites:\n  - name: a\n    run: x\n    junit: [a]\n    timeout: 5d\n")
            .unwrap_err();
        assert!(e.contains("unknown unit"), "{e}");
    }

    #[test]
    fn invalid_values_are_rejected_with_the_key() {
        let e = parse_str("controls:\n  required: [CC9.5]\n").unwrap_err();
        assert!(
            e.contains("controls.required: `CC9.5` (CC9.5) is not a SOC 2 criterion"),
            "{e}"
        );
        let e = parse_str("rules:\n  - match: 'a['\n    controls: [CC6.1]\n").unwrap_err();
        assert!(e.contains("rules[0].match: bad glob"), "{e}");
        let e = parse_str("tests:\n  min_pass_rate: 140\n").unwrap_err();
        assert!(e.contains("not a percentage"), "{e}");
        let e = parse_str("tags:\n  marker_pattern: 'cc\\d'\n").unwrap_err();
        assert!(e.contains("capture group"), "{e}");
    }
}
