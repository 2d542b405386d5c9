//! Coverage data (owned by the coverage stage; see issue 3).

use serde::Serialize;

/// The `coverage` section of `report.json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CoverageSection {}
