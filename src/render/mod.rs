//! Report → text. Every renderer is a pure function returning `String`; untrusted text goes
//! through [`escape`].

pub mod api;
pub mod coverage;
pub mod escape;
pub mod markdown;

use crate::model::report::Report;

/// `report.json`: the contract documented in `docs/report.md`.
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        // Serialising plain data cannot fail; keep the output valid JSON regardless.
        format!("{{\"error\": {:?}}}", e.to_string())
    });
    s.push('\n');
    s
}
