//! The analyzer: exchanges and tagged tests streamed into per-operation state, then the
//! report section (coverage by operation and tag, negative auth, findings, drift).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use globset::{GlobSet, GlobSetBuilder};

use crate::config::ApiConfig;
use crate::ingest::har::Exchange;
use crate::ingest::openapi::{self, Spec, template_shape};
use crate::model::api::{
    ApiInput, ApiSection, ConfidentialFinding, CoverageCount, DriftSection, ExchangeRef, Exercise,
    OperationReport, TagCoverage, UnknownOperationTag, UnmatchedRequest,
};
use crate::model::{CaseStatus, TestCase};

use super::confidential::Confidential;
use super::drift::drift;
use super::matching::{Matcher, TagIndex};

#[derive(Default, Clone)]
struct OpState {
    requests: u64,
    statuses: BTreeSet<u16>,
    tests: Vec<String>,
    test_count: u64,
}

/// Findings and undocumented-request groups kept (the rest are counted in a warning).
const MAX_FINDINGS: usize = 1000;
const MAX_UNMATCHED: usize = 1000;

/// Streams exchanges and test cases into per-operation state.
pub struct Analyzer<'a> {
    spec: &'a Spec,
    matcher: Matcher,
    ignore: GlobSet,
    confidential: Confidential,
    tag_properties: Vec<String>,
    tags: TagIndex<'a>,
    has_options: bool,
    ops: Vec<OpState>,
    unmatched: Vec<UnmatchedRequest>,
    unmatched_index: HashMap<(String, String), usize>,
    unmatched_dropped: u64,
    findings: Vec<ConfidentialFinding>,
    findings_dropped: u64,
    /// Error and unauthenticated responses with a JSON body: what the confidential-field
    /// check looked into.
    inspected: u64,
    unknown_tags: Vec<UnknownOperationTag>,
    exchanges: u64,
    matched: u64,
    ignored: u64,
}

impl<'a> Analyzer<'a> {
    pub fn new(spec: &'a Spec, config: &ApiConfig) -> Result<Self, crate::Error> {
        let mut ignore = GlobSetBuilder::new();
        for g in &config.ignore_paths {
            ignore.add(
                crate::glob::parse(g, crate::glob::Subject::Path).map_err(|e| {
                    crate::Error::setting("api.ignore_paths", format!("`{g}`: {e}"))
                })?,
            );
        }
        let ignore = ignore
            .build()
            .map_err(|e| crate::Error::setting("api.ignore_paths", e))?;
        Ok(Analyzer {
            spec,
            matcher: Matcher::new(spec, &config.base_paths),
            ignore,
            confidential: Confidential::new(spec, config),
            tag_properties: config
                .tag_properties
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect(),
            tags: TagIndex::new(spec),
            has_options: spec.operations.iter().any(|o| o.method == "OPTIONS"),
            ops: vec![OpState::default(); spec.operations.len()],
            unmatched: Vec::new(),
            unmatched_index: HashMap::new(),
            unmatched_dropped: 0,
            findings: Vec::new(),
            findings_dropped: 0,
            inspected: 0,
            unknown_tags: Vec::new(),
            exchanges: 0,
            matched: 0,
            ignored: 0,
        })
    }

    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// One recorded exchange from `file` (display path).
    pub fn exchange(&mut self, ex: &Exchange, file: &str, har: bool) {
        self.exchanges += 1;
        let path = openapi::url_path(&ex.url);
        let preflight = ex.method == "OPTIONS"
            && !self.has_options
            && ex
                .request_headers
                .iter()
                .any(|(n, _)| n == "access-control-request-method");
        if ex.status == 0 || preflight || (!self.ignore.is_empty() && self.ignore.is_match(path)) {
            self.ignored += 1;
            return;
        }
        let at = || ExchangeRef {
            file: file.to_owned(),
            entry: har.then_some(ex.position),
            line: (!har).then_some(ex.position),
        };
        let op = self.matcher.match_path(&ex.method, path);
        match op {
            Some(i) => {
                self.matched += 1;
                let s = &mut self.ops[i];
                s.requests += 1;
                s.statuses.insert(ex.status);
            }
            None => {
                let key = (ex.method.clone(), path.to_owned());
                match self.unmatched_index.get(&key) {
                    Some(&k) => {
                        let u = &mut self.unmatched[k];
                        u.count += 1;
                        if !u.statuses.contains(&ex.status) {
                            u.statuses.push(ex.status);
                            u.statuses.sort_unstable();
                        }
                    }
                    None if self.unmatched.len() < MAX_UNMATCHED => {
                        self.unmatched_index.insert(key, self.unmatched.len());
                        self.unmatched.push(UnmatchedRequest {
                            method: ex.method.clone(),
                            path: path.to_owned(),
                            count: 1,
                            statuses: vec![ex.status],
                            first: at(),
                        });
                    }
                    None => self.unmatched_dropped += 1,
                }
            }
        }
        if self.confidential.is_empty() {
            return;
        }
        let Some(body) = &ex.response_body else {
            return;
        };
        let Some(reason) = self.confidential.reason(ex) else {
            return;
        };
        let Some(json) = body.json() else { return };
        self.inspected += 1;
        let hits = self.confidential.scan(&json);
        if hits.is_empty() {
            return;
        }
        let operation = match op {
            Some(i) => self.spec.operations[i].key(),
            None => format!("{} {} (undocumented)", ex.method, path),
        };
        for (field, at_path) in hits {
            if self.findings.len() >= MAX_FINDINGS {
                self.findings_dropped += 1;
                continue;
            }
            self.findings.push(ConfidentialFinding {
                field,
                at: at_path,
                operation: operation.clone(),
                status: ex.status,
                reason,
                exchange: at(),
            });
        }
    }

    /// Reads operation tags from a test's properties (`api.tag_properties`). Skipped tests
    /// are ignored; a status named in a tag (`getPetById 404`) counts only when the test
    /// passed.
    pub fn test_case(&mut self, case: &TestCase) {
        if case.status == CaseStatus::Skipped {
            return;
        }
        let mut values = Vec::new();
        for p in &case.properties {
            if self.tag_properties.contains(&p.name.to_ascii_lowercase()) {
                values.push(p.value.clone());
            }
        }
        if values.is_empty() {
            return;
        }
        let id = case.id();
        for v in values {
            for item in v.split([',', ';', '\n']) {
                self.tag(&id, item, case.status == CaseStatus::Passed);
            }
        }
    }

    /// One operation tag of test `test`: `operationId`, `METHOD /path/{template}` or
    /// `METHOD /concrete/path`, optionally followed by a status code.
    pub fn tag(&mut self, test: &str, item: &str, passed: bool) {
        let Some((op, status)) = self.tags.resolve(&self.matcher, item) else {
            return;
        };
        match op {
            Some(i) => {
                let s = &mut self.ops[i];
                s.test_count += 1;
                if s.tests.len() < 20 && !s.tests.iter().any(|t| t == test) {
                    s.tests.push(test.to_owned());
                }
                if let (Some(st), true) = (status, passed) {
                    s.statuses.insert(st);
                }
            }
            None => {
                if self.unknown_tags.len() < MAX_UNMATCHED {
                    self.unknown_tags.push(UnknownOperationTag {
                        tag: item.trim().to_owned(),
                        test: test.to_owned(),
                    });
                }
            }
        }
    }

    /// The section, with drift against `base` when given (gates are added by
    /// [`gates`](super::gates::gates)).
    pub fn finish(self, base: Option<&Spec>, inputs: Vec<ApiInput>) -> ApiSection {
        let spec = self.spec;
        let base_shapes: Option<HashSet<(String, String)>> = base.map(|b| {
            b.operations
                .iter()
                .map(|o| (o.method.clone(), template_shape(&o.path)))
                .collect()
        });
        let mut operations = Vec::with_capacity(spec.operations.len());
        let mut tags: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (op, st) in spec.operations.iter().zip(self.ops) {
            let exercised = st.requests > 0 || st.test_count > 0;
            let names: Vec<String> = if op.tags.is_empty() {
                vec!["(untagged)".into()]
            } else {
                op.tags.clone()
            };
            for t in names {
                let e = tags.entry(t).or_default();
                e.0 += 1;
                e.1 += exercised as u64;
            }
            let negative_auth = op
                .secured
                .then(|| st.statuses.contains(&401) || st.statuses.contains(&403));
            operations.push(OperationReport {
                key: op.key(),
                method: op.method.clone(),
                path: op.path.clone(),
                operation_id: op.operation_id.clone(),
                tags: op.tags.clone(),
                exercised,
                exercise: Exercise {
                    requests: st.requests,
                    tests: st.tests,
                    test_count: st.test_count,
                },
                statuses: st.statuses.into_iter().collect(),
                secured: op.secured,
                negative_auth,
                new: base_shapes
                    .as_ref()
                    .is_some_and(|b| !b.contains(&(op.method.clone(), template_shape(&op.path)))),
            });
        }
        let exercised = operations.iter().filter(|o| o.exercised).count() as u64;
        let drift = base.map(|b| {
            let d = drift(b, spec);
            let new_untested = operations
                .iter()
                .filter(|o| o.new && !o.exercised)
                .map(|o| o.key.clone())
                .collect();
            DriftSection {
                drift: d,
                new_untested,
            }
        });
        let confidential_fields = self.confidential.declared();
        let mut warnings = spec.warnings.clone();
        if self.unmatched_dropped > 0 {
            warnings.push(format!(
                "{} undocumented requests not itemised (more than {MAX_UNMATCHED} distinct paths)",
                self.unmatched_dropped
            ));
        }
        if self.findings_dropped > 0 {
            warnings.push(format!(
                "{} confidential-field findings not itemised (more than {MAX_FINDINGS})",
                self.findings_dropped
            ));
        }
        ApiSection {
            inputs,
            coverage: CoverageCount::new(operations.len() as u64, exercised),
            // Set by the pipeline from the evidence ledger.
            delta_pp: None,
            delta_base: None,
            by_tag: tags
                .into_iter()
                .map(|(tag, (d, e))| TagCoverage {
                    tag,
                    count: CoverageCount::new(d, e),
                })
                .collect(),
            secured_operations: operations.iter().filter(|o| o.secured).count() as u64,
            missing_negative_auth: operations
                .iter()
                .filter(|o| o.negative_auth == Some(false))
                .map(|o| o.key.clone())
                .collect(),
            operations,
            exchanges: self.exchanges,
            matched: self.matched,
            ignored: self.ignored,
            unmatched: self.unmatched,
            base: None,
            drift,
            confidential_fields,
            responses_inspected: self.inspected,
            findings: self.findings,
            unknown_operation_tags: self.unknown_tags,
            controls: Vec::new(),
            warnings,
        }
    }
}
