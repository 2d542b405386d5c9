//! `api:`: API coverage against OpenAPI descriptions, its gates, and the controls each API check
//! evidences.

use serde::Deserialize;

use super::gated::Gated;

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

#[cfg(test)]
mod unit {
    use super::*;
    use crate::config::parsing::parse_str;

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
}
