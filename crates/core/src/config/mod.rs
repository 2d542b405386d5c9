//! `.github/controlgate.yml`: tag sources, mapping rules and gates. This module only declares
//! its parts and re-exports them, so every item keeps its `config::Name` path.

mod api;
mod coverage;
mod document;
mod evidence;
mod gated;
mod parsing;
mod suites;
mod tickets;
mod validation;

pub use self::api::{ApiConfig, ApiControls};
pub use self::coverage::{CoverageConfig, NoLinesResult, PatchGates, ProjectGates, Renames};
pub use self::document::{
    Config, ControlsConfig, DEFAULT_HISTORY_RUNS, ExpectConfig, FailOn, FlakyPolicy, PassRateScope,
    RedactConfig, Rule, RuleTarget, TagSources, TestsConfig,
};
pub use self::evidence::{EvidenceConfig, StoreConfig, default_branch};
pub use self::gated::Gated;
pub use self::parsing::parse;
pub use self::suites::Suite;
pub use self::tickets::{Exemptions, GithubIssuesConfig, JiraConfig, LinearConfig, TicketsConfig};
