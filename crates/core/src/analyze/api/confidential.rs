//! Confidential fields: the names declared (description and config), whether a request
//! carried credentials, and where those names appear as keys in a JSON response.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::config::ApiConfig;
use crate::ingest::har::Exchange;
use crate::ingest::openapi::{self, Spec, percent_decode};
use crate::model::api::{ConfidentialField, FindingReason};

/// The confidential field names and the credentials that make a request authenticated.
pub(super) struct Confidential {
    /// Field name → where it was declared (the description, or `config`).
    fields: HashMap<String, String>,
    cred_headers: HashSet<String>,
    cred_query: Vec<String>,
}

impl Confidential {
    pub(super) fn new(spec: &Spec, config: &ApiConfig) -> Self {
        let mut confidential: HashMap<String, String> = HashMap::new();
        for (name, at) in &spec.confidential {
            confidential
                .entry(name.clone())
                .or_insert_with(|| at.clone());
        }
        for name in &config.confidential_fields {
            confidential
                .entry(name.clone())
                .or_insert_with(|| "config".into());
        }
        let mut cred_headers: HashSet<String> = [
            "authorization",
            "proxy-authorization",
            "cookie",
            "x-api-key",
            "api-key",
        ]
        .map(String::from)
        .into();
        cred_headers.extend(spec.credentials.headers.iter().cloned());
        cred_headers.extend(
            config
                .credential_headers
                .iter()
                .map(|h| h.to_ascii_lowercase()),
        );
        Confidential {
            fields: confidential,
            cred_headers,
            cred_query: spec.credentials.query.iter().cloned().collect(),
        }
    }

    /// No field is confidential (responses need not be scanned).
    pub(super) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Why confidential fields in the response of `ex` would be findings: an error status, or
    /// a request without credentials; None when they would not.
    pub(super) fn reason(&self, ex: &Exchange) -> Option<FindingReason> {
        if ex.status >= 400 {
            Some(FindingReason::ErrorResponse)
        } else if !self.authenticated(ex) {
            Some(FindingReason::Unauthenticated)
        } else {
            None
        }
    }

    fn authenticated(&self, ex: &Exchange) -> bool {
        if ex
            .request_headers
            .iter()
            .any(|(n, v)| self.cred_headers.contains(n) && !v.trim().is_empty())
        {
            return true;
        }
        let q = openapi::url_query(&ex.url);
        !q.is_empty()
            && q.split('&').any(|kv| {
                let k = kv.split('=').next().unwrap_or("");
                self.cred_query.iter().any(|c| *c == percent_decode(k))
            })
    }

    /// Confidential field names among the object keys of `json`, with their path.
    pub(super) fn scan(&self, json: &Value) -> Vec<(String, String)> {
        let mut hits = Vec::new();
        scan_fields(json, &mut String::new(), &self.fields, &mut hits, 0);
        hits
    }

    /// The confidential fields and where each was declared, by name.
    pub(super) fn declared(&self) -> Vec<ConfidentialField> {
        let mut confidential_fields: Vec<ConfidentialField> = self
            .fields
            .iter()
            .map(|(n, d)| ConfidentialField {
                name: n.clone(),
                declared: d.clone(),
            })
            .collect();
        confidential_fields.sort_by(|a, b| a.name.cmp(&b.name));
        confidential_fields
    }
}

/// Object keys of `v` that are confidential field names, with their path (values never
/// copied).
fn scan_fields(
    v: &Value,
    at: &mut String,
    names: &HashMap<String, String>,
    out: &mut Vec<(String, String)>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let len = at.len();
                at.push('.');
                at.push_str(k);
                if names.contains_key(k) && !out.iter().any(|(_, p)| p == at) {
                    out.push((k.clone(), at.clone()));
                }
                scan_fields(child, at, names, out, depth + 1);
                at.truncate(len);
            }
        }
        Value::Array(a) => {
            let len = at.len();
            at.push_str("[]");
            for child in a {
                scan_fields(child, at, names, out, depth + 1);
            }
            at.truncate(len);
        }
        _ => {}
    }
}
