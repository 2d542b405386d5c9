//! API coverage: requests and tagged tests matched to described operations, negative-auth
//! evidence, confidential fields in responses, drift against a base description, and the
//! `api.*` gates.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use globset::{GlobSet, GlobSetBuilder};
use serde_json::Value;

use crate::analyze::gates::fmt_num;
use crate::config::ApiConfig;
use crate::ingest::har::Exchange;
use crate::ingest::openapi::{self, Operation, Spec, percent_decode, template_shape};
use crate::model::api::*;
use crate::model::gate::{Check, Gate};
use crate::model::{CaseStatus, TestCase};

// ---------------------------------------------------------------------------------------------
// Matching

#[derive(Default)]
struct Node {
    literal: HashMap<String, Node>,
    /// Templated segments: literal prefix, literal suffix (`{id}.json` → ("", ".json")),
    /// most specific (longest literal part) first.
    params: Vec<(String, String, Node)>,
    op: Option<usize>,
}

/// Request → operation, by method and path template. One segment trie per method; at each
/// segment a literal child is tried before templated ones (`/pets/mine` beats
/// `/pets/{id}`), backtracking when the literal branch dead-ends.
pub struct Matcher {
    methods: HashMap<String, Node>,
    /// Base paths as segments, longest first, ending with the empty base.
    bases: Vec<Vec<String>>,
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    let p = path.strip_prefix('/').unwrap_or(path);
    let p = p.strip_suffix('/').unwrap_or(p);
    p.split('/').filter(move |_| !p.is_empty())
}

impl Matcher {
    /// `extra_bases`: prefixes to strip besides the servers' base paths.
    pub fn new(spec: &Spec, extra_bases: &[String]) -> Matcher {
        let mut methods: HashMap<String, Node> = HashMap::new();
        let mut bases: Vec<Vec<String>> = Vec::new();
        let mut add_base = |b: &str| {
            let segs: Vec<String> = segments(b).map(percent_decode).collect();
            if !segs.is_empty() && !bases.contains(&segs) {
                bases.push(segs);
            }
        };
        for b in extra_bases {
            add_base(b);
        }
        for (i, op) in spec.operations.iter().enumerate() {
            for b in &op.base_paths {
                add_base(b);
            }
            let mut node = methods.entry(op.method.clone()).or_default();
            for seg in segments(&op.path) {
                node = match (seg.find('{'), seg.rfind('}')) {
                    (Some(a), Some(b)) if a < b => {
                        let (pre, suf) = (percent_decode(&seg[..a]), percent_decode(&seg[b + 1..]));
                        let pos = node
                            .params
                            .iter()
                            .position(|(p, s, _)| *p == pre && *s == suf);
                        let pos = match pos {
                            Some(p) => p,
                            None => {
                                node.params.push((pre, suf, Node::default()));
                                node.params
                                    .sort_by_key(|(p, s, _)| std::cmp::Reverse(p.len() + s.len()));
                                node.params
                                    .iter()
                                    .position(|(p, s, _)| {
                                        *p == percent_decode(&seg[..a])
                                            && *s == percent_decode(&seg[b + 1..])
                                    })
                                    .unwrap_or(0)
                            }
                        };
                        &mut node.params[pos].2
                    }
                    _ => node.literal.entry(percent_decode(seg)).or_default(),
                };
            }
            if node.op.is_none() {
                node.op = Some(i);
            }
        }
        bases.sort_by_key(|b| std::cmp::Reverse(b.len()));
        bases.push(Vec::new());
        Matcher { methods, bases }
    }

    /// The operation a request path (no query) matches, trying each base path then none.
    pub fn match_path(&self, method: &str, path: &str) -> Option<usize> {
        let root = self.methods.get(method)?;
        let segs: Vec<Cow<'_, str>> = segments(path)
            .map(|s| {
                if s.contains('%') {
                    Cow::Owned(percent_decode(s))
                } else {
                    Cow::Borrowed(s)
                }
            })
            .collect();
        for base in &self.bases {
            if base.len() <= segs.len() && base.iter().zip(&segs).all(|(b, s)| b == s) {
                if let Some(op) = walk(root, &segs[base.len()..]) {
                    return Some(op);
                }
            }
        }
        None
    }

    /// Matches a full or relative URL.
    pub fn match_url(&self, method: &str, url: &str) -> Option<usize> {
        self.match_path(method, openapi::url_path(url))
    }
}

fn walk(node: &Node, segs: &[Cow<'_, str>]) -> Option<usize> {
    let Some((first, rest)) = segs.split_first() else {
        return node.op;
    };
    if let Some(child) = node.literal.get(first.as_ref())
        && let Some(op) = walk(child, rest)
    {
        return Some(op);
    }
    for (pre, suf, child) in &node.params {
        let s = first.as_ref();
        if s.len() > pre.len() + suf.len()
            && s.starts_with(pre.as_str())
            && s.ends_with(suf.as_str())
            && let Some(op) = walk(child, rest)
        {
            return Some(op);
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Analysis

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
    confidential: HashMap<String, String>,
    cred_headers: HashSet<String>,
    cred_query: Vec<String>,
    tag_properties: Vec<String>,
    by_id: HashMap<&'a str, usize>,
    by_shape: HashMap<(String, String), usize>,
    has_options: bool,
    ops: Vec<OpState>,
    unmatched: Vec<UnmatchedRequest>,
    unmatched_index: HashMap<(String, String), usize>,
    unmatched_dropped: u64,
    findings: Vec<ConfidentialFinding>,
    findings_dropped: u64,
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
        let mut by_id = HashMap::new();
        let mut by_shape = HashMap::new();
        for (i, op) in spec.operations.iter().enumerate() {
            if let Some(id) = &op.operation_id {
                by_id.entry(id.as_str()).or_insert(i);
            }
            by_shape
                .entry((op.method.clone(), template_shape(&op.path)))
                .or_insert(i);
        }
        Ok(Analyzer {
            spec,
            matcher: Matcher::new(spec, &config.base_paths),
            ignore,
            confidential,
            cred_headers,
            cred_query: spec.credentials.query.iter().cloned().collect(),
            tag_properties: config
                .tag_properties
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect(),
            by_id,
            by_shape,
            has_options: spec.operations.iter().any(|o| o.method == "OPTIONS"),
            ops: vec![OpState::default(); spec.operations.len()],
            unmatched: Vec::new(),
            unmatched_index: HashMap::new(),
            unmatched_dropped: 0,
            findings: Vec::new(),
            findings_dropped: 0,
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
        let reason = if ex.status >= 400 {
            FindingReason::ErrorResponse
        } else if !self.authenticated(ex) {
            FindingReason::Unauthenticated
        } else {
            return;
        };
        let Some(json) = body.json() else { return };
        let mut hits = Vec::new();
        scan_fields(&json, &mut String::new(), &self.confidential, &mut hits, 0);
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
        let mut tokens: Vec<&str> = item.split_whitespace().collect();
        if tokens.is_empty() {
            return;
        }
        let status = match tokens.last() {
            Some(t) if tokens.len() > 1 && t.len() == 3 => t.parse::<u16>().ok(),
            _ => None,
        };
        if status.is_some() {
            tokens.pop();
        }
        let op = match tokens.as_slice() {
            [id] => self.by_id.get(id).copied(),
            [m, path] => {
                let m = m.to_ascii_uppercase();
                self.by_shape
                    .get(&(m.clone(), template_shape(path)))
                    .copied()
                    .or_else(|| self.matcher.match_url(&m, path))
            }
            _ => None,
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

    /// The section, with drift against `base` when given (gates are added by [`gates`]).
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
        let mut confidential_fields: Vec<ConfidentialField> = self
            .confidential
            .iter()
            .map(|(n, d)| ConfidentialField {
                name: n.clone(),
                declared: d.clone(),
            })
            .collect();
        confidential_fields.sort_by(|a, b| a.name.cmp(&b.name));
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
            findings: self.findings,
            unknown_operation_tags: self.unknown_tags,
            controls: Vec::new(),
            warnings,
        }
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

// ---------------------------------------------------------------------------------------------
// Drift

/// A schema with `allOf` merged and references followed.
#[derive(Default)]
struct Flat<'a> {
    types: Option<BTreeSet<String>>,
    enum_: Option<Vec<&'a Value>>,
    properties: Vec<(&'a str, usize, &'a Value)>,
    required: BTreeSet<&'a str>,
    items: Option<(usize, &'a Value)>,
}

fn flatten<'a>(spec: &'a Spec, doc: usize, v: &'a Value, flat: &mut Flat<'a>, depth: usize) {
    if depth > 16 {
        return;
    }
    let (doc, v) = spec.deref(doc, v);
    let mut types: Option<BTreeSet<String>> = match v.get("type") {
        Some(Value::String(t)) => Some([t.clone()].into()),
        Some(Value::Array(ts)) => Some(
            ts.iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    };
    if let Some(t) = &mut types {
        t.remove("null");
    }
    if types.is_some() {
        flat.types = types;
    }
    if let Some(Value::Array(e)) = v.get("enum") {
        flat.enum_ = Some(e.iter().filter(|x| !x.is_null()).collect());
    }
    if let Some(Value::Object(props)) = v.get("properties") {
        for (k, p) in props {
            if !flat.properties.iter().any(|(n, _, _)| *n == k) {
                flat.properties.push((k, doc, p));
            }
        }
    }
    if let Some(Value::Array(req)) = v.get("required") {
        flat.required.extend(req.iter().filter_map(Value::as_str));
    }
    if let Some(items) = v.get("items") {
        flat.items = Some((doc, items));
    }
    if let Some(Value::Array(all)) = v.get("allOf") {
        for s in all {
            flatten(spec, doc, s, flat, depth + 1);
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Request,
    Response,
}

struct DriftCx<'a> {
    base: &'a Spec,
    head: &'a Spec,
    op: String,
    seen: HashSet<(String, String)>,
    out: Vec<BreakingChange>,
}

impl DriftCx<'_> {
    fn push(&mut self, kind: BreakingKind, location: String, detail: String) {
        self.out.push(BreakingChange {
            kind,
            operation: self.op.clone(),
            location,
            detail,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn schema(
        &mut self,
        side: Side,
        (bd, b): (usize, &Value),
        (hd, h): (usize, &Value),
        place: &str,
        path: &str,
        depth: usize,
    ) {
        if depth > 24 {
            return;
        }
        if let (Some(rb), Some(rh)) = (self.base.ref_id(bd, b), self.head.ref_id(hd, h))
            && !self.seen.insert((format!("{rb}@{path}"), rh))
        {
            return;
        }
        let (base, head) = (self.base, self.head);
        let mut fb = Flat::default();
        flatten(base, bd, b, &mut fb, 0);
        let mut fh = Flat::default();
        flatten(head, hd, h, &mut fh, 0);
        let loc = if path.is_empty() {
            place.to_owned()
        } else {
            format!("{place} {path}")
        };
        if let (Some(tb), Some(th)) = (&fb.types, &fh.types)
            && tb != th
        {
            let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join("|");
            self.push(
                BreakingKind::ChangedType,
                loc.clone(),
                format!("type {} → {}", join(tb), join(th)),
            );
            return;
        }
        match (&fb.enum_, &fh.enum_) {
            (Some(eb), Some(eh)) => {
                let removed: Vec<String> = eb
                    .iter()
                    .filter(|x| !eh.contains(x))
                    .map(|x| x.to_string())
                    .collect();
                if !removed.is_empty() {
                    self.push(
                        BreakingKind::NarrowedEnum,
                        loc.clone(),
                        format!("enum no longer allows {}", removed.join(", ")),
                    );
                }
            }
            (None, Some(eh)) => {
                let vals: Vec<String> = eh.iter().take(5).map(|x| x.to_string()).collect();
                self.push(
                    BreakingKind::NarrowedEnum,
                    loc.clone(),
                    format!("now restricted to enum {}", vals.join(", ")),
                );
            }
            _ => {}
        }
        match side {
            Side::Request => {
                for r in &fh.required {
                    if !fb.required.contains(r) {
                        let detail = if fb.properties.iter().any(|(n, _, _)| n == r) {
                            format!("`{r}` became required")
                        } else {
                            format!("new required property `{r}`")
                        };
                        self.push(
                            BreakingKind::NewRequiredRequestProperty,
                            format!("{place} {path}.{r}"),
                            detail,
                        );
                    }
                }
            }
            Side::Response => {
                if !fh.properties.is_empty()
                    || fh.types.as_ref().is_some_and(|t| t.contains("object"))
                {
                    for (name, _, _) in &fb.properties {
                        if !fh.properties.iter().any(|(n, _, _)| n == name) {
                            self.push(
                                BreakingKind::RemovedResponseProperty,
                                format!("{place} {path}.{name}"),
                                format!("property `{name}` removed"),
                            );
                        }
                    }
                }
            }
        }
        for (name, pbd, pb) in &fb.properties {
            if let Some((_, phd, ph)) = fh.properties.iter().find(|(n, _, _)| n == name) {
                self.schema(
                    side,
                    (*pbd, pb),
                    (*phd, ph),
                    place,
                    &format!("{path}.{name}"),
                    depth + 1,
                );
            }
        }
        if let (Some(ib), Some(ih)) = (fb.items, fh.items) {
            self.schema(side, ib, ih, place, &format!("{path}[]"), depth + 1);
        }
    }
}

fn op_index(spec: &Spec) -> BTreeMap<(String, String), &Operation> {
    spec.operations
        .iter()
        .map(|o| ((template_shape(&o.path), o.method.clone()), o))
        .collect()
}

/// Head against base: operations added and removed, and breaking changes to operations
/// in both (removed operation, removed response property, newly required parameter or
/// request property, changed type, narrowed enum).
pub fn drift(base: &Spec, head: &Spec) -> Drift {
    let bi = op_index(base);
    let hi = op_index(head);
    let mut d = Drift::default();
    let mut cx = DriftCx {
        base,
        head,
        op: String::new(),
        seen: HashSet::new(),
        out: Vec::new(),
    };
    for (k, hop) in &hi {
        if !bi.contains_key(k) {
            d.added.push(hop.key());
        }
    }
    for (k, bop) in &bi {
        let Some(hop) = hi.get(k) else {
            d.removed.push(bop.key());
            cx.op = bop.key();
            cx.push(
                BreakingKind::RemovedOperation,
                "operation".into(),
                "operation removed".into(),
            );
            continue;
        };
        cx.op = hop.key();
        cx.seen.clear();
        // Parameters (path-template names may differ; path parameters matched by position
        // are part of the template, so only their schemas are compared by name).
        let bp = base.params(bop);
        let hp = head.params(hop);
        for p in &hp {
            let old = bp
                .iter()
                .find(|q| q.name == p.name && q.location == p.location);
            if p.required && p.location != "path" && !old.is_some_and(|q| q.required) {
                let detail = if old.is_some() {
                    format!("{} parameter `{}` became required", p.location, p.name)
                } else {
                    format!("new required {} parameter `{}`", p.location, p.name)
                };
                cx.push(
                    BreakingKind::NewRequiredParameter,
                    format!("parameter {} {}", p.location, p.name),
                    detail,
                );
            }
            if let (Some(q), Some((hd, hs))) = (old, &p.schema)
                && let Some((bd, bs)) = &q.schema
            {
                cx.schema(
                    Side::Request,
                    (*bd, bs),
                    (*hd, hs),
                    &format!("parameter {} {}", p.location, p.name),
                    "",
                    0,
                );
            }
        }
        let bn = base.operation_node(bop);
        let hn = head.operation_node(hop);
        let body = |spec: &Spec, doc: usize, n: &Value| -> (bool, Option<(usize, Value)>) {
            match n.get("requestBody") {
                Some(rb) => {
                    let (d, rb) = spec.deref(doc, rb);
                    let req = rb.get("required").and_then(Value::as_bool).unwrap_or(false);
                    (req, spec.media_schema(d, rb).map(|(d, s)| (d, s.clone())))
                }
                None => (false, None),
            }
        };
        let (breq, bschema) = body(base, bop.doc, bn);
        let (hreq, hschema) = body(head, hop.doc, hn);
        if hreq && !breq {
            cx.push(
                BreakingKind::NewRequiredRequestProperty,
                "request body".into(),
                "request body became required".into(),
            );
        }
        if let (Some((bd, bs)), Some((hd, hs))) = (&bschema, &hschema) {
            cx.schema(Side::Request, (*bd, bs), (*hd, hs), "request body", "", 0);
        }
        if let (Some(Value::Object(br)), Some(Value::Object(hr))) =
            (bn.get("responses"), hn.get("responses"))
        {
            for (code, bresp) in br {
                let Some(hresp) = hr.get(code) else { continue };
                let bs = base.media_schema(bop.doc, bresp);
                let hs = head.media_schema(hop.doc, hresp);
                if let (Some(bs), Some(hs)) = (bs, hs) {
                    cx.schema(Side::Response, bs, hs, &format!("response {code}"), "", 0);
                }
            }
        }
    }
    d.breaking = cx.out;
    d
}

// ---------------------------------------------------------------------------------------------
// Gates

/// The `api.*` gates, in a stable order; also fills `section.controls`.
/// `drift_unavailable`: why the base description could not be read, when it could not (the
/// drift gates are then not evaluated).
pub fn gates(
    config: &ApiConfig,
    section: &mut ApiSection,
    drift_unavailable: Option<&str>,
) -> Vec<Gate> {
    let mut out = Vec::new();
    let c = &section.coverage;
    let mut coverage_gate = None;
    let no_drift = || {
        Check::missing(
            drift_unavailable
                .unwrap_or("no base description to compare with")
                .to_owned(),
        )
    };
    if let Some(min) = &config.min_coverage {
        let check = if c.described == 0 {
            Check::missing("the API description has no operations")
        } else {
            let ok = c.exercised as f64 * 100.0 >= min.value * c.described as f64 - 1e-9;
            Check::from_bool(
                ok,
                format!(
                    "{:.1}% of operations exercised ({} of {}); minimum {}%",
                    c.percent,
                    c.exercised,
                    c.described,
                    fmt_num(min.value)
                ),
            )
        };
        out.push(Gate::decide("api.min_coverage", min.policy(), check));
        coverage_gate = Some(out.len() - 1);
    }
    if let Some(g) = &config.new_operations_require_tests
        && g.value
    {
        let check = match &section.drift {
            None => no_drift(),
            Some(d) if d.new_untested.is_empty() => Check::Held(format!(
                "all {} new operation(s) exercised",
                d.drift.added.len()
            )),
            Some(d) => Check::Broken(format!(
                "{} new operation(s) without a test: {}",
                d.new_untested.len(),
                first(&d.new_untested)
            )),
        };
        out.push(Gate::decide(
            "api.new_operations_require_tests",
            g.policy(),
            check,
        ));
    }
    let bc = config.breaking_changes();
    if bc.value {
        let check = match &section.drift {
            None => no_drift(),
            Some(d) => {
                let n = d.drift.breaking.len();
                if n == 0 {
                    Check::Held("no breaking changes against the base description".to_owned())
                } else {
                    let shown: Vec<String> = d
                        .drift
                        .breaking
                        .iter()
                        .take(3)
                        .map(|b| format!("{} ({})", b.operation, b.kind.as_str()))
                        .collect();
                    Check::Broken(format!("{n} breaking change(s): {}", shown.join("; ")))
                }
            }
        };
        out.push(Gate::decide("api.breaking_changes", bc.policy(), check));
    }
    let mut neg_gate = None;
    if let Some(g) = &config.secured_operations_require_negative_test
        && g.value
    {
        let m = &section.missing_negative_auth;
        let detail = if m.is_empty() {
            format!(
                "all {} secured operation(s) have a 401/403 exercised",
                section.secured_operations
            )
        } else {
            format!(
                "{} of {} secured operation(s) without a 401/403 exercised: {}",
                m.len(),
                section.secured_operations,
                first(m)
            )
        };
        out.push(Gate::decide(
            "api.secured_operations_require_negative_test",
            g.policy(),
            Check::from_bool(m.is_empty(), detail),
        ));
        neg_gate = Some(out.len() - 1);
    }
    let mut conf_gate = None;
    if let Some(g) = &config.confidential_fields_in_errors
        && g.value
    {
        let f = &section.findings;
        let detail = if f.is_empty() {
            format!(
                "no confidential field ({} declared) in an error or unauthenticated response",
                section.confidential_fields.len()
            )
        } else {
            let shown: Vec<String> = f
                .iter()
                .take(3)
                .map(|x| format!("`{}` in {} {}", x.field, x.operation, x.status))
                .collect();
            format!("{} finding(s): {}", f.len(), shown.join("; "))
        };
        out.push(Gate::decide(
            "api.confidential_fields_in_errors",
            g.policy(),
            Check::from_bool(f.is_empty(), detail),
        ));
        conf_gate = Some(out.len() - 1);
    }
    let checks: [(&'static str, &Vec<String>, Option<usize>, bool); 3] = [
        (
            "coverage",
            &config.controls.coverage,
            coverage_gate,
            section.coverage.exercised == section.coverage.described,
        ),
        (
            "negative_auth",
            &config.controls.negative_auth,
            neg_gate,
            section.missing_negative_auth.is_empty(),
        ),
        (
            "confidential_fields",
            &config.controls.confidential_fields,
            conf_gate,
            section.findings.is_empty(),
        ),
    ];
    for (check, ids, g, natural) in checks {
        for id in ids {
            let canonical = crate::model::controls::ControlId::parse_shape(id)
                .map(|c| c.to_string())
                .unwrap_or_else(|| id.clone());
            section.controls.push(ApiControl {
                id: canonical,
                check: check.into(),
                gate: g.map(|i| out[i].name.clone()),
                passed: g.map(|i| out[i].passed).unwrap_or(natural),
            });
        }
    }
    out
}

fn first(list: &[String]) -> String {
    let mut s: Vec<&str> = list.iter().take(5).map(String::as_str).collect();
    if list.len() > 5 {
        s.push("…");
    }
    s.join(", ")
}
