//! OpenAPI 3.0 / 3.1 descriptions, YAML or JSON, read into `serde_json::Value` and walked.
//!
//! A [`Spec`] is one or more root documents plus every file they reference through relative
//! `$ref`s (loaded transitively, each once, so reference cycles between files terminate).
//! Every `$ref` is checked at load time, so a dangling reference is an error naming the file
//! and the JSON pointer where it occurs; later walks resolve references lazily with a hop
//! limit. Remote (`http:`) references are not fetched: they are reported as warnings and
//! treated as opaque schemas.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Location, ParseError};

pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A loaded document.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Display path (as given, or joined relative to the referring document).
    pub path: PathBuf,
    pub value: Value,
    pub sha256: String,
    pub bytes: u64,
}

/// A parameter of an operation (path-item and operation parameters merged).
/// How many references [`Spec::deref`] follows from one node; a chain longer than this (or a
/// cycle) ends on a node that is still a `$ref`.
pub const MAX_REF_HOPS: usize = 64;

#[derive(Debug, Clone)]
pub struct Param<'a> {
    pub name: String,
    pub location: String,
    pub required: bool,
    /// Document index and schema node (may be a `$ref`).
    pub schema: Option<(usize, &'a Value)>,
}

#[derive(Debug, Clone)]
pub struct Operation {
    /// Uppercase.
    pub method: String,
    /// Path template as described, e.g. `/pets/{petId}`.
    pub path: String,
    pub operation_id: Option<String>,
    pub tags: Vec<String>,
    pub secured: bool,
    /// Base paths of the servers that apply (operation, path item or root), without trailing
    /// slash; `""` for root.
    pub base_paths: Vec<String>,
    /// Index of the document holding the operation.
    pub doc: usize,
    /// JSON pointer of the operation object in its document.
    pub pointer: String,
}

impl Operation {
    /// `GET /pets/{petId}`
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Security schemes whose credentials travel as named headers, query parameters or cookies.
#[derive(Debug, Clone, Default)]
pub struct CredentialCarriers {
    pub headers: BTreeSet<String>,
    pub query: BTreeSet<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub docs: Vec<Doc>,
    /// Index of each root document in `docs` (one per `api.specs` entry).
    pub roots: Vec<usize>,
    pub operations: Vec<Operation>,
    pub credentials: CredentialCarriers,
    /// Property names marked `x-confidential: true`, with the pointer where each was seen.
    pub confidential: Vec<(String, String)>,
    pub warnings: Vec<String>,
    /// Document index by normalised path.
    index: HashMap<PathBuf, usize>,
}

/// Parses one document: JSON when the text starts with `{`, else YAML (YAML anchors and
/// merge keys supported; non-string keys such as `200:` become strings).
pub fn parse_document(text: &str) -> Result<Value, ParseError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        // Lines are counted from the start of the text, not of the trimmed JSON.
        let skipped = text[..text.len() - trimmed.len()].matches('\n').count() as u64;
        return serde_json::from_str(trimmed).map_err(|e| {
            ParseError::at(
                Some(e.line() as u64 + skipped),
                None,
                format!("invalid JSON: {e}"),
            )
        });
    }
    super::yaml::check_depth(text)
        .map_err(|e| ParseError::at(e.location.line, None, format!("invalid YAML: {e}")))?;
    let mut y: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| {
        // Hardening: some errors (alias "repetition limit exceeded", i.e. a YAML bomb) carry
        // no location; name the first alias line then, else the start of the document.
        let line = e.location().map(|l| l.line() as u64).unwrap_or_else(|| {
            text.lines()
                .position(|l| l.contains(" *") || l.contains("[*") || l.contains(",*"))
                .map_or(1, |i| i as u64 + 1)
        });
        ParseError::at(Some(line), None, format!("invalid YAML: {e}"))
    })?;
    y.apply_merge()
        .map_err(|e| ParseError::new(format!("invalid YAML merge key: {e}")))?;
    Ok(yaml_to_json(y))
}

fn yaml_to_json(y: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match y {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (yaml_key(k), yaml_to_json(v)))
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

fn yaml_key(k: serde_yaml_ng::Value) -> String {
    use serde_yaml_ng::Value as Y;
    match k {
        Y::String(s) => s,
        Y::Number(n) => n.to_string(),
        Y::Bool(b) => b.to_string(),
        Y::Null => "null".into(),
        other => serde_yaml_ng::to_string(&other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// Reads files through this seam (tests can load from memory).
pub trait Source {
    /// Returns the text and (sha256, bytes) of `path`.
    fn read(&mut self, path: &Path) -> Result<(String, String, u64), Error>;
}

/// In-memory documents keyed by path (for tests and for a base description read from git).
#[derive(Default)]
pub struct Memory(pub HashMap<PathBuf, String>);

impl Source for Memory {
    fn read(&mut self, path: &Path) -> Result<(String, String, u64), Error> {
        let text = self.0.get(&normalize(path)).cloned().ok_or_else(|| {
            Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such document"),
            )
        })?;
        use sha2::Digest;
        let sha = crate::hashing::hex(&sha2::Sha256::digest(text.as_bytes()));
        let n = text.len() as u64;
        Ok((text, sha, n))
    }
}

/// `a/./b/../c` → `a/c`, lexically (no file-system access).
pub fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Loads the root documents `paths` and everything they reference.
pub fn load(paths: &[PathBuf], source: &mut dyn Source) -> Result<Spec, Error> {
    let mut spec = Spec::default();
    let mut index: HashMap<PathBuf, usize> = HashMap::new();
    let mut queue: Vec<usize> = Vec::new();
    for p in paths {
        let i = load_doc(&mut spec, &mut index, &normalize(p), source)?;
        spec.roots.push(i);
        queue.push(i);
    }
    // Every referenced file, each loaded once; the references of each document are kept
    // for the check below.
    let mut all_refs: Vec<(usize, Vec<(String, String)>)> = Vec::new();
    while let Some(i) = queue.pop() {
        let mut refs = Vec::new();
        collect_refs(&spec.docs[i].value, &mut String::new(), &mut refs);
        let base_dir = spec.docs[i]
            .path
            .parent()
            .map(Path::to_owned)
            .unwrap_or_default();
        for (r, at) in &refs {
            let (file, _) = split_ref(r);
            if file.is_empty() {
                continue;
            }
            if is_remote(file) {
                spec.warnings.push(format!(
                    "{}: remote $ref `{r}` at #{at} not fetched",
                    spec.docs[i].path.display()
                ));
                continue;
            }
            let target = normalize(&base_dir.join(percent_decode(file)));
            if !index.contains_key(&target) {
                let j = load_doc(&mut spec, &mut index, &target, source).map_err(|e| match e {
                    Error::Io { source: err, .. } => Error::Input {
                        path: spec.docs[i].path.clone(),
                        location: Location::default(),
                        message: format!(
                            "$ref `{r}` at #{at}: cannot read {}: {err}",
                            target.display()
                        ),
                    },
                    other => other,
                })?;
                queue.push(j);
            }
        }
        all_refs.push((i, refs));
    }
    // Every local and file reference must resolve.
    for (i, refs) in all_refs {
        for (r, at) in refs {
            if is_remote(split_ref(&r).0) {
                continue;
            }
            if spec.target(i, &r, &index).is_none() {
                return Err(Error::Input {
                    path: spec.docs[i].path.clone(),
                    location: Location::default(),
                    message: format!("$ref `{r}` at #{at} does not resolve"),
                });
            }
        }
    }
    spec.index = index;
    for k in 0..spec.roots.len() {
        let root = spec.roots[k];
        read_operations(&mut spec, root)?;
    }
    collect_confidential(&mut spec);
    Ok(spec)
}

fn is_remote(file: &str) -> bool {
    file.contains("://")
}

fn load_doc(
    spec: &mut Spec,
    index: &mut HashMap<PathBuf, usize>,
    path: &Path,
    source: &mut dyn Source,
) -> Result<usize, Error> {
    let (text, sha256, bytes) = source.read(path)?;
    let value = parse_document(&text).map_err(|e| e.in_file(path))?;
    if !value.is_object() {
        return Err(
            ParseError::new("not an OpenAPI document (top level is not a mapping)").in_file(path),
        );
    }
    let i = spec.docs.len();
    spec.docs.push(Doc {
        path: path.to_owned(),
        value,
        sha256,
        bytes,
    });
    index.insert(path.to_owned(), i);
    Ok(i)
}

/// `other.yaml#/components/x` → (`other.yaml`, `/components/x`).
fn split_ref(r: &str) -> (&str, &str) {
    match r.split_once('#') {
        Some((f, p)) => (f, p),
        None => (r, ""),
    }
}

fn collect_refs(v: &Value, at: &mut String, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push((r.clone(), at.clone()));
            }
            for (k, child) in m {
                if !child.is_object() && !child.is_array() {
                    continue;
                }
                let len = at.len();
                at.push('/');
                push_escaped(at, k);
                collect_refs(child, at, out);
                at.truncate(len);
            }
        }
        Value::Array(a) => {
            for (k, child) in a.iter().enumerate() {
                if !child.is_object() && !child.is_array() {
                    continue;
                }
                let len = at.len();
                at.push('/');
                at.push_str(&k.to_string());
                collect_refs(child, at, out);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// JSON pointer escaping of one reference token.
pub fn push_escaped(out: &mut String, token: &str) {
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// `%XX` decoded (a `%` not followed by two hex digits is kept); invalid UTF-8 is replaced.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

impl Spec {
    /// The document and node a reference from document `from` points at.
    fn target(
        &self,
        from: usize,
        r: &str,
        index: &HashMap<PathBuf, usize>,
    ) -> Option<(usize, &Value)> {
        let (file, pointer) = split_ref(r);
        let doc = if file.is_empty() {
            from
        } else {
            let dir = self.docs[from].path.parent().unwrap_or(Path::new(""));
            *index.get(&normalize(&dir.join(percent_decode(file))))?
        };
        let pointer = percent_decode(pointer);
        let node = if pointer.is_empty() {
            &self.docs[doc].value
        } else {
            self.docs[doc].value.pointer(&pointer)?
        };
        Some((doc, node))
    }

    /// Follows `$ref` chains from `v` (in document `doc`); stops after 64 hops (a reference
    /// cycle) or at a remote reference, returning the last node reached.
    pub fn deref<'a>(&'a self, doc: usize, v: &'a Value) -> (usize, &'a Value) {
        let (mut doc, mut v) = (doc, v);
        for _ in 0..MAX_REF_HOPS {
            let Some(Value::String(r)) = v.get("$ref") else {
                return (doc, v);
            };
            match self.target(doc, r, &self.index) {
                Some((d, n)) => (doc, v) = (d, n),
                None => return (doc, v),
            }
        }
        (doc, v)
    }

    /// The `$ref` string of `v`, if it is a reference (for cycle detection in walks).
    pub fn ref_id(&self, doc: usize, v: &Value) -> Option<String> {
        v.get("$ref")
            .and_then(Value::as_str)
            .map(|r| format!("{doc}:{r}"))
    }

    /// The first root document's `info.title`.
    pub fn title(&self) -> Option<&str> {
        let root = *self.roots.first()?;
        self.docs[root].value.pointer("/info/title")?.as_str()
    }

    /// Parameters of an operation: path-item ones overridden by operation ones (by name and
    /// location).
    pub fn params(&self, op: &Operation) -> Vec<Param<'_>> {
        let doc = &self.docs[op.doc].value;
        let item_ptr = op.pointer.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        let mut out: Vec<Param> = Vec::new();
        for ptr in [
            format!("{item_ptr}/parameters"),
            format!("{}/parameters", op.pointer),
        ] {
            let Some(Value::Array(list)) = doc.pointer(&ptr) else {
                continue;
            };
            for p in list {
                let (d, p) = self.deref(op.doc, p);
                let name = p.get("name").and_then(Value::as_str).unwrap_or("");
                let location = p.get("in").and_then(Value::as_str).unwrap_or("");
                let param = Param {
                    name: name.to_owned(),
                    location: location.to_owned(),
                    required: location == "path"
                        || p.get("required").and_then(Value::as_bool).unwrap_or(false),
                    schema: p.get("schema").map(|s| (d, s)),
                };
                out.retain(|q| !(q.name == param.name && q.location == param.location));
                out.push(param);
            }
        }
        out
    }

    /// The operation object.
    pub fn operation_node(&self, op: &Operation) -> &Value {
        self.docs[op.doc]
            .value
            .pointer(&op.pointer)
            .unwrap_or(&Value::Null)
    }

    /// The JSON (or first) media type schema of a request body or response object `v`.
    pub fn media_schema<'a>(&'a self, doc: usize, v: &'a Value) -> Option<(usize, &'a Value)> {
        let (doc, v) = self.deref(doc, v);
        let content = v.get("content")?.as_object()?;
        let pick = content
            .iter()
            .find(|(k, _)| k.contains("json"))
            .or_else(|| content.iter().next())?;
        pick.1.get("schema").map(|s| (doc, s))
    }
}

fn read_operations(spec: &mut Spec, root: usize) -> Result<(), Error> {
    let doc = &spec.docs[root].value;
    let global_security = doc.get("security").cloned();
    let root_bases = server_bases(doc.get("servers"));
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        if doc.get("openapi").is_none() && doc.get("swagger").is_some() {
            return Err(ParseError::new(
                "Swagger 2.0 is not supported: convert to OpenAPI 3 first",
            )
            .in_file(&spec.docs[root].path));
        }
        return Ok(());
    };
    // Credentials carriers from securitySchemes (components of every loaded document).
    let mut ops = Vec::new();
    let mut warnings = Vec::new();
    for (path, item) in paths {
        if !path.starts_with('/') {
            warnings.push(format!(
                "{}: path `{path}` does not start with `/`; skipped",
                spec.docs[root].path.display()
            ));
            continue;
        }
        let mut item_ptr = String::from("/paths/");
        push_escaped(&mut item_ptr, path);
        let (item_doc, item) = spec.deref(root, item);
        // A path item from another file keeps its pointer in that file.
        let item_ptr = if item_doc != root || item.get("$ref").is_some() {
            match paths
                .get(path)
                .and_then(|v| v.get("$ref"))
                .and_then(Value::as_str)
            {
                Some(r) => split_ref(r).1.to_owned(),
                None => item_ptr,
            }
        } else {
            item_ptr
        };
        let item_bases = server_bases(item.get("servers"));
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            if !op.is_object() {
                continue;
            }
            let security = op.get("security").or(global_security.as_ref());
            let secured = match security {
                Some(Value::Array(reqs)) => {
                    !reqs.is_empty()
                        && !reqs
                            .iter()
                            .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
                }
                _ => false,
            };
            let op_bases = server_bases(op.get("servers"));
            let base_paths = if !op_bases.is_empty() {
                op_bases
            } else if !item_bases.is_empty() {
                item_bases.clone()
            } else if !root_bases.is_empty() {
                root_bases.clone()
            } else {
                vec![String::new()]
            };
            ops.push(Operation {
                method: m.to_ascii_uppercase(),
                path: path.clone(),
                operation_id: op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                tags: op
                    .get("tags")
                    .and_then(Value::as_array)
                    .map(|t| {
                        t.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                secured,
                base_paths,
                doc: item_doc,
                pointer: format!("{item_ptr}/{m}"),
            });
        }
    }
    spec.warnings.extend(warnings);
    for op in ops {
        if let Some(prev) = spec
            .operations
            .iter()
            .find(|o| o.method == op.method && same_template(&o.path, &op.path))
        {
            spec.warnings.push(format!(
                "{} is described twice (`{}` kept)",
                op.key(),
                prev.path
            ));
            continue;
        }
        spec.operations.push(op);
    }
    Ok(())
}

/// `/a/{id}` and `/a/{x}` describe the same operation path.
pub fn same_template(a: &str, b: &str) -> bool {
    template_shape(a) == template_shape(b)
}

/// The path with parameter names erased: `/a/{}`; one trailing slash dropped.
pub fn template_shape(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut depth = 0;
    for c in p.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push('{');
                }
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push('}');
                }
            }
            _ if depth > 0 => {}
            c => out.push(c),
        }
    }
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    out
}

/// `url` with each `{name}` replaced by its variable's default, in one pass over the URL as
/// written: a default is never scanned again (a default holding `{other}` many times, replaced
/// variable after variable, grew a 2 KB description to gigabytes). An unknown name is kept.
fn substitute(url: &str, vars: Option<&Value>) -> String {
    let default = |name: &str| match vars {
        Some(Value::Object(v)) => v
            .get(name)
            .map(|v| v.get("default").and_then(Value::as_str).unwrap_or("")),
        _ => None,
    };
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .map(|close| (close, default(&after[..close])))
        {
            Some((close, Some(d))) => {
                out.push_str(d);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Base paths of a `servers` list: the URL's path with variables replaced by their defaults,
/// without trailing slash.
fn server_bases(servers: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(list)) = servers else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in list {
        let Some(url) = s.get("url").and_then(Value::as_str) else {
            continue;
        };
        let url = substitute(url, s.get("variables"));
        let path = url_path(&url);
        let mut path = path.trim_end_matches('/').to_owned();
        if !path.is_empty() && !path.starts_with('/') {
            path.insert(0, '/');
        }
        if !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// The path of an absolute or relative URL, without query or fragment.
pub fn url_path(url: &str) -> &str {
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            match after.find('/') {
                Some(j) => &after[j..],
                None => "",
            }
        }
        None => url,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

/// The query string of a URL (without `?` and fragment).
pub fn url_query(url: &str) -> &str {
    match url.split_once('?') {
        Some((_, q)) => q.split('#').next().unwrap_or(""),
        None => "",
    }
}

fn collect_confidential(spec: &mut Spec) {
    let mut found = Vec::new();
    for (i, d) in spec.docs.iter().enumerate() {
        let name = d
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        walk_confidential(&d.value, &mut String::new(), &name, &mut found);
        if let Some(Value::Object(schemes)) = d.value.pointer("/components/securitySchemes") {
            for s in schemes.values() {
                let (_, s) = spec.deref(i, s);
                let kind = s.get("type").and_then(Value::as_str).unwrap_or("");
                let name = s.get("name").and_then(Value::as_str).unwrap_or("");
                match (kind, s.get("in").and_then(Value::as_str)) {
                    ("apiKey", Some("header")) if !name.is_empty() => {
                        spec.credentials.headers.insert(name.to_ascii_lowercase());
                    }
                    ("apiKey", Some("query")) if !name.is_empty() => {
                        spec.credentials.query.insert(name.to_owned());
                    }
                    _ => {}
                }
            }
        }
    }
    let mut names: Vec<(String, String)> = Vec::new();
    for (name, at) in found {
        if !names.iter().any(|(n, _)| *n == name) {
            names.push((name, at));
        }
    }
    spec.confidential = names;
}

fn walk_confidential(v: &Value, at: &mut String, doc: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Object(props)) = m.get("properties") {
                for (name, p) in props {
                    if p.get("x-confidential").and_then(Value::as_bool) == Some(true) {
                        let mut ptr = format!("{at}/properties/");
                        push_escaped(&mut ptr, name);
                        out.push((name.clone(), format!("{doc}#{ptr}")));
                    }
                }
            }
            for (k, child) in m {
                if !child.is_object() && !child.is_array() {
                    continue;
                }
                let len = at.len();
                at.push('/');
                push_escaped(at, k);
                walk_confidential(child, at, doc, out);
                at.truncate(len);
            }
        }
        Value::Array(a) => {
            for (k, child) in a.iter().enumerate() {
                let len = at.len();
                at.push('/');
                at.push_str(&k.to_string());
                walk_confidential(child, at, doc, out);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod unit {

    /// Variables are replaced once, in the URL as written: a default naming other variables
    /// is kept as it is (replacing variable after variable over the growing text made a 2 KB
    /// description allocate gigabytes).
    #[test]
    fn server_variables_are_replaced_in_one_pass() {
        let vars = serde_json::json!({
            "a": {"default": "{b}{b}{b}"},
            "b": {"default": "v1"},
            "c": {}
        });
        assert_eq!(
            super::substitute("https://h/{a}/{b}/{c}/{zz}/{", Some(&vars)),
            "https://h/{b}{b}{b}/v1//{zz}/{"
        );
    }

    use super::*;

    fn mem(files: &[(&str, &str)]) -> Memory {
        Memory(
            files
                .iter()
                .map(|(p, t)| (normalize(Path::new(p)), (*t).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn yaml_integer_keys_become_strings_and_merge_keys_apply() {
        let v = parse_document("a: &x {k: 1}\nb:\n  <<: *x\n  200: ok\n").unwrap();
        assert_eq!(v["b"]["k"], 1);
        assert_eq!(v["b"]["200"], "ok");
        let e = parse_document("a: [\n").unwrap_err();
        assert!(e.location.line.is_some(), "{e:?}");
        let e = parse_document("{\"a\":\n 1,,}").unwrap_err();
        assert_eq!(e.location.line, Some(2));
    }

    #[test]
    fn refs_across_files_resolve_and_cycles_terminate() {
        let mut m = mem(&[
            (
                "api/root.yaml",
                "openapi: 3.1.0\npaths:\n  /a:\n    $ref: 'paths/a.yaml'\ncomponents:\n  schemas:\n    Loop: {$ref: '#/components/schemas/Loop2'}\n    Loop2: {$ref: '#/components/schemas/Loop'}\n",
            ),
            (
                "api/paths/a.yaml",
                "get:\n  responses:\n    '200':\n      content:\n        application/json:\n          schema: {$ref: '../schemas.yaml#/Thing'}\n",
            ),
            (
                "api/schemas.yaml",
                "Thing:\n  type: object\n  properties:\n    secret: {type: string, x-confidential: true}\n    back: {$ref: 'paths/../root.yaml#/components/schemas/Loop'}\n",
            ),
        ]);
        let spec = load(&[PathBuf::from("api/root.yaml")], &mut m).unwrap();
        assert_eq!(spec.docs.len(), 3);
        assert_eq!(spec.operations.len(), 1);
        let op = &spec.operations[0];
        assert_eq!(op.key(), "GET /a");
        let node = spec.operation_node(op);
        let resp = &node["responses"]["200"];
        let (d, schema) = spec.media_schema(op.doc, resp).unwrap();
        let (d, schema) = spec.deref(d, schema);
        assert_eq!(schema["type"], "object");
        let back = &schema["properties"]["back"];
        let (_, end) = spec.deref(d, back);
        assert!(end.get("$ref").is_some(), "cycle stops on a ref node");
        assert_eq!(spec.confidential[0].0, "secret");
    }

    #[test]
    fn dangling_refs_and_missing_files_are_errors_with_the_pointer() {
        let mut m = mem(&[(
            "r.yaml",
            "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: '#/components/responses/Nope'}\n",
        )]);
        let e = load(&[PathBuf::from("r.yaml")], &mut m)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("r.yaml: $ref `#/components/responses/Nope` at #/paths/~1a/get/responses/200 does not resolve"),
            "{e}"
        );
        let mut m = mem(&[(
            "r.yaml",
            "openapi: 3.0.0\npaths:\n  /a: {$ref: 'gone.yaml'}\n",
        )]);
        let e = load(&[PathBuf::from("r.yaml")], &mut m)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read gone.yaml"), "{e}");
    }

    #[test]
    fn security_servers_and_parameters() {
        let mut m = mem(&[(
            "s.yaml",
            r#"openapi: 3.0.3
servers: [{url: 'https://{host}/api/{v}/', variables: {host: {default: x.io}, v: {default: v2}}}]
security: [{key: []}]
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-API-Key}
    q: {type: apiKey, in: query, name: token}
  parameters:
    Id: {name: id, in: path, required: true, schema: {type: integer}}
paths:
  /u/{id}:
    parameters: [{$ref: '#/components/parameters/Id'}, {name: v, in: query}]
    get: {responses: {}, parameters: [{name: v, in: query, required: true}]}
    delete: {security: [], responses: {}}
    put: {security: [{}, {key: []}], responses: {}, servers: [{url: /other}]}
"#,
        )]);
        let spec = load(&[PathBuf::from("s.yaml")], &mut m).unwrap();
        let ops: Vec<(String, bool, Vec<String>)> = spec
            .operations
            .iter()
            .map(|o| (o.key(), o.secured, o.base_paths.clone()))
            .collect();
        assert_eq!(
            ops,
            [
                ("GET /u/{id}".into(), true, vec!["/api/v2".into()]),
                ("PUT /u/{id}".into(), false, vec!["/other".into()]),
                ("DELETE /u/{id}".into(), false, vec!["/api/v2".into()]),
            ]
        );
        let params = spec.params(&spec.operations[0]);
        assert_eq!(params.len(), 2);
        assert!(params.iter().all(|p| p.required));
        assert!(spec.credentials.headers.contains("x-api-key"));
        assert!(spec.credentials.query.contains("token"));
    }

    #[test]
    fn url_parts_and_template_shapes() {
        assert_eq!(url_path("http://h:1/a/b?x=1#f"), "/a/b");
        assert_eq!(url_path("http://h"), "");
        assert_eq!(url_query("/a?x=1&y#z"), "x=1&y");
        assert_eq!(template_shape("/a/{id}/b/"), "/a/{}/b");
        assert!(same_template("/a/{x}", "/a/{y}/"));
        assert_eq!(percent_decode("a%20b%2Fc%zz"), "a b/c%zz");
    }
}
