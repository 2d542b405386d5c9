//! Loopback stand-ins for Jira Cloud, Linear and GitHub issues. Each validates every request
//! against the vendor's description (committed under `tests/fixtures/tickets/`) and keeps
//! enough state to show that a rerun updates rather than duplicates.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tickets")
        .join(rel)
}

/// One HTTP request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Lower-cased names.
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

pub struct Response {
    pub status: u16,
    pub body: String,
    /// Beyond `Content-Type`, `Content-Length` and `Connection`.
    pub headers: Vec<(String, String)>,
}

impl Response {
    pub fn json(status: u16, v: Value) -> Self {
        Response {
            status,
            body: v.to_string(),
            headers: Vec::new(),
        }
    }
}

type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// A tiny HTTP/1.1 server on 127.0.0.1 (one request per connection).
pub struct Server {
    pub url: String,
    pub log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl Server {
    pub fn start(handler: Handler) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log2, stop2) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (handler, log) = (handler.clone(), log2.clone());
                std::thread::spawn(move || serve(stream, &handler, &log));
            }
        });
        Server {
            url: format!("http://{addr}"),
            log,
            stop,
            addr,
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q),
        None => (target.clone(), ""),
    };
    let query = query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (kv.to_owned(), String::new()),
        })
        .collect();
    let req = Request {
        method,
        path,
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let resp = handler(&req);
    log.lock().unwrap().push(req);
    let mut stream = stream;
    let headers: String = resp
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let _ = write!(
        stream,
        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{}",
        resp.status,
        resp.body.len(),
        resp.body
    );
}

fn basic(user: &str, token: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"));
    format!("Basic {b64}")
}

// ---------------------------------------------------------------------------------------------
// Jira
// ---------------------------------------------------------------------------------------------

/// The committed OpenAPI subset, parsed once.
fn jira_spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(fixture("jira/jira-v3-subset.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

/// `(path template, method)` of the operation `req` names, with the path parameters.
fn jira_route(req: &Request) -> Option<(String, Value, BTreeMap<String, String>)> {
    let spec = jira_spec();
    for (template, item) in spec["paths"].as_object()? {
        let t: Vec<&str> = template.split('/').collect();
        let p: Vec<&str> = req.path.split('/').collect();
        if t.len() != p.len() {
            continue;
        }
        let mut params = BTreeMap::new();
        let ok = t.iter().zip(&p).all(|(a, b)| {
            if a.starts_with('{') {
                params.insert(a.trim_matches(['{', '}']).to_owned(), (*b).to_owned());
                !b.is_empty()
            } else {
                a == b
            }
        });
        if let (true, Some(op)) = (ok, item.get(req.method.to_ascii_lowercase())) {
            return Some((template.clone(), op.clone(), params));
        }
    }
    None
}

/// Validates the request against its operation: declared query parameters, and the JSON body
/// against the operation's schema (with `$ref`s into `components.schemas`), with no
/// `readOnly` property sent.
fn jira_validate(req: &Request, op: &Value) -> Result<(), String> {
    let declared: Vec<&str> = op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    for (k, _) in &req.query {
        if !declared.contains(&k.as_str()) {
            return Err(format!("query parameter `{k}` is not declared"));
        }
    }
    let Some(schema_ref) = op["requestBody"]["content"]["application/json"]["schema"].get("$ref")
    else {
        return if req.body.is_empty() {
            Ok(())
        } else {
            Err("this operation takes no body".into())
        };
    };
    if req.header("content-type") != Some("application/json") {
        return Err("Content-Type must be application/json".into());
    }
    let body: Value = serde_json::from_str(&req.body).map_err(|e| format!("body: {e}"))?;
    let spec = jira_spec();
    let root = json!({ "$ref": schema_ref, "components": spec["components"] });
    let validator = jsonschema::validator_for(&root).map_err(|e| e.to_string())?;
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    let name = schema_ref.as_str().unwrap().rsplit('/').next().unwrap();
    let props = &spec["components"]["schemas"][name]["properties"];
    for k in body.as_object().into_iter().flat_map(|o| o.keys()) {
        if props[k]["readOnly"] == true {
            return Err(format!("`{k}` is read-only"));
        }
    }
    Ok(())
}

/// ADF as Jira accepts it: a `doc` of version 1, known node types, non-empty text nodes.
fn adf_validate(doc: &Value) -> Result<(), String> {
    if doc["type"] != "doc" || doc["version"] != 1 {
        return Err("body is not an ADF doc of version 1".into());
    }
    fn walk(n: &Value) -> Result<(), String> {
        let ty = n["type"].as_str().ok_or("node without type")?;
        const KNOWN: &[&str] = &[
            "doc",
            "paragraph",
            "text",
            "heading",
            "bulletList",
            "orderedList",
            "listItem",
            "codeBlock",
            "rule",
            "hardBreak",
            "table",
            "tableRow",
            "tableCell",
            "tableHeader",
        ];
        if !KNOWN.contains(&ty) {
            return Err(format!("unknown ADF node `{ty}`"));
        }
        if ty == "text" && n["text"].as_str().is_none_or(str::is_empty) {
            return Err("ADF text nodes must not be empty".into());
        }
        for c in n["content"].as_array().into_iter().flatten() {
            walk(c)?;
        }
        Ok(())
    }
    walk(doc)
}

#[derive(Default)]
pub struct JiraState {
    pub issues: Vec<String>,
    /// key → remote links (the request bodies, with an `id`).
    pub remote_links: BTreeMap<String, Vec<Value>>,
    /// key → comments (`id`, `body`).
    pub comments: BTreeMap<String, Vec<Value>>,
    next_id: u64,
    /// Every validation failure (the test asserts there were none).
    pub violations: Vec<String>,
}

pub struct JiraFake {
    pub server: Server,
    pub state: Arc<Mutex<JiraState>>,
}

fn jira_error(status: u16, msg: &str) -> Response {
    Response::json(status, json!({ "errorMessages": [msg], "errors": {} }))
}

impl JiraFake {
    pub fn start(email: &str, token: &str, issues: &[&str]) -> JiraFake {
        let state = Arc::new(Mutex::new(JiraState {
            issues: issues.iter().map(|s| s.to_string()).collect(),
            next_id: 10000,
            ..Default::default()
        }));
        let st = state.clone();
        let auth = basic(email, token);
        let server = Server::start(Arc::new(move |req: &Request| {
            let mut s = st.lock().unwrap();
            if req.header("authorization") != Some(auth.as_str()) {
                return Response {
                    status: 401,
                    body: String::new(),
                    headers: Vec::new(),
                };
            }
            let Some((template, op, params)) = jira_route(req) else {
                s.violations.push(format!(
                    "{} {}: not in the description",
                    req.method, req.path
                ));
                return jira_error(404, "Null for uri: not found");
            };
            if let Err(e) = jira_validate(req, &op) {
                s.violations.push(format!("{} {template}: {e}", req.method));
                return Response::json(400, json!({ "errorMessages": [e], "errors": {} }));
            }
            let key = params["issueIdOrKey"].clone();
            if !s.issues.contains(&key) {
                return jira_error(
                    404,
                    "Issue does not exist or you do not have permission to see it.",
                );
            }
            let body = req.json().unwrap_or(Value::Null);
            match (req.method.as_str(), template.as_str()) {
                ("POST", "/rest/api/3/issue/{issueIdOrKey}/remotelink") => {
                    s.next_id += 1;
                    let id = s.next_id;
                    let links = s.remote_links.entry(key.clone()).or_default();
                    let gid = body["globalId"].clone();
                    let mut stored = body.clone();
                    if let Some(existing) = links
                        .iter_mut()
                        .find(|l| !gid.is_null() && l["globalId"] == gid)
                    {
                        stored["id"] = existing["id"].clone();
                        let id = existing["id"].clone();
                        *existing = stored;
                        return Response::json(200, json!({ "id": id, "self": "x" }));
                    }
                    stored["id"] = json!(id);
                    links.push(stored);
                    Response::json(201, json!({ "id": id, "self": "x" }))
                }
                ("GET", "/rest/api/3/issue/{issueIdOrKey}/remotelink") => Response::json(
                    200,
                    json!(s.remote_links.get(&key).cloned().unwrap_or_default()),
                ),
                ("GET", "/rest/api/3/issue/{issueIdOrKey}/comment") => {
                    let all = s.comments.get(&key).cloned().unwrap_or_default();
                    let start: usize = req
                        .query("startAt")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let max: usize = req
                        .query("maxResults")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(100)
                        .min(100);
                    let page: Vec<Value> = all.iter().skip(start).take(max).cloned().collect();
                    Response::json(
                        200,
                        json!({ "comments": page, "startAt": start, "maxResults": max, "total": all.len() }),
                    )
                }
                ("POST", "/rest/api/3/issue/{issueIdOrKey}/comment") => {
                    if let Err(e) = adf_validate(&body["body"]) {
                        s.violations.push(e.clone());
                        return jira_error(400, &e);
                    }
                    s.next_id += 1;
                    let c = json!({ "id": s.next_id.to_string(), "body": body["body"] });
                    s.comments.entry(key).or_default().push(c.clone());
                    Response::json(201, c)
                }
                ("PUT", "/rest/api/3/issue/{issueIdOrKey}/comment/{id}") => {
                    if let Err(e) = adf_validate(&body["body"]) {
                        s.violations.push(e.clone());
                        return jira_error(400, &e);
                    }
                    let id = params["id"].clone();
                    let Some(c) = s
                        .comments
                        .entry(key)
                        .or_default()
                        .iter_mut()
                        .find(|c| c["id"] == id.as_str())
                    else {
                        return jira_error(404, "Can not find a comment for the id");
                    };
                    c["body"] = body["body"].clone();
                    Response::json(200, c.clone())
                }
                _ => jira_error(405, "method not implemented by the stand-in"),
            }
        }));
        JiraFake { server, state }
    }
}

/// All text of an ADF document, joined by spaces.
pub fn adf_text(doc: &Value) -> String {
    fn walk(n: &Value, out: &mut Vec<String>) {
        if let Some(t) = n["text"].as_str() {
            out.push(t.to_owned());
        }
        for c in n["content"].as_array().into_iter().flatten() {
            walk(c, out);
        }
    }
    let mut out = Vec::new();
    walk(doc, &mut out);
    out.join(" ")
}

// ---------------------------------------------------------------------------------------------
// Linear
// ---------------------------------------------------------------------------------------------

fn linear_schema() -> &'static apollo_compiler::validation::Valid<apollo_compiler::Schema> {
    static SCHEMA: OnceLock<apollo_compiler::validation::Valid<apollo_compiler::Schema>> =
        OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = fixture("linear/linear-subset.graphql");
        let sdl = std::fs::read_to_string(&path).unwrap();
        apollo_compiler::Schema::parse_and_validate(sdl, &path).unwrap()
    })
}

/// Parses and validates the operation against the SDL, then coerces the variables to the
/// operation's types (unknown input fields, missing required ones and wrong types fail).
pub fn linear_validate(body: &Value) -> Result<(String, Value), String> {
    let schema = linear_schema();
    let query = body["query"].as_str().ok_or("no `query`")?;
    let doc = apollo_compiler::ExecutableDocument::parse_and_validate(schema, query, "op.graphql")
        .map_err(|e| e.errors.to_string())?;
    let op = doc
        .operations
        .get(body["operationName"].as_str())
        .map_err(|e| format!("{e:?}"))?;
    let vars: apollo_compiler::response::JsonMap =
        serde_json::from_value(body["variables"].clone()).map_err(|e| e.to_string())?;
    apollo_compiler::request::coerce_variable_values(schema, op, &vars)
        .map_err(|e| format!("{e:?}"))?;
    let field = op
        .selection_set
        .fields()
        .next()
        .map(|f| f.name.to_string())
        .unwrap_or_default();
    Ok((field, body["variables"].clone()))
}

#[derive(Default)]
pub struct LinearState {
    /// identifier → issue UUID.
    pub issues: BTreeMap<String, String>,
    /// (issue UUID, url) → attachment input.
    pub attachments: BTreeMap<(String, String), Value>,
    pub violations: Vec<String>,
}

pub struct LinearFake {
    pub server: Server,
    pub state: Arc<Mutex<LinearState>>,
}

impl LinearFake {
    pub fn start(api_key: &str, issues: &[&str]) -> LinearFake {
        let state = Arc::new(Mutex::new(LinearState {
            issues: issues
                .iter()
                .enumerate()
                .map(|(i, k)| (k.to_string(), format!("9a1b2c3d-0000-4000-8000-{i:012}")))
                .collect(),
            ..Default::default()
        }));
        let st = state.clone();
        let key = api_key.to_owned();
        let server = Server::start(Arc::new(move |req: &Request| {
            let mut s = st.lock().unwrap();
            if req.method != "POST" || req.path != "/graphql" {
                s.violations.push(format!("{} {}", req.method, req.path));
                return Response::json(404, json!({ "errors": [{ "message": "Not found" }] }));
            }
            if req.header("authorization") != Some(key.as_str()) {
                return Response::json(
                    400,
                    json!({ "errors": [{
                    "message": "Authentication required, not authenticated",
                    "extensions": { "type": "authentication error", "userPresentableMessage": "You need to authenticate to access this operation." }
                }] }),
                );
            }
            let body = req.json().unwrap_or(Value::Null);
            let (field, vars) = match linear_validate(&body) {
                Ok(v) => v,
                Err(e) => {
                    s.violations.push(e.clone());
                    return Response::json(400, json!({ "errors": [{ "message": e }] }));
                }
            };
            if field != "attachmentCreate" {
                return Response::json(400, json!({ "errors": [{ "message": "unsupported" }] }));
            }
            let input = vars["input"].clone();
            let issue = input["issueId"].as_str().unwrap_or_default().to_owned();
            let uuid = s
                .issues
                .get(&issue)
                .cloned()
                .or_else(|| s.issues.values().find(|u| **u == issue).cloned());
            let Some(uuid) = uuid else {
                return Response::json(
                    200,
                    json!({ "data": null, "errors": [{
                    "message": "Entity not found: Issue",
                    "extensions": { "type": "invalid input", "userPresentableMessage": format!("Could not find referenced Issue.") }
                }] }),
                );
            };
            let url = input["url"].as_str().unwrap_or_default().to_owned();
            s.attachments.insert((uuid, url.clone()), input.clone());
            Response::json(
                200,
                json!({ "data": { "attachmentCreate": {
                "success": true,
                "attachment": { "id": "att-1", "url": url, "subtitle": input["subtitle"] }
            } } }),
            )
        }));
        LinearFake { server, state }
    }
}

// ---------------------------------------------------------------------------------------------
// GitHub issues
// ---------------------------------------------------------------------------------------------

/// The operations `github_issues` may call, as `@octokit/openapi` describes them.
const GITHUB_OPERATIONS: &[(&str, &str)] = &[
    (
        "GET",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    ),
    (
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    ),
    (
        "PATCH",
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    ),
];

#[derive(Default)]
pub struct GithubState {
    /// `owner/repo#n` that exist.
    pub issues: Vec<String>,
    /// `owner/repo#n` → comments (`id`, `body`; answered in GitHub's full `issue-comment`
    /// shape, see [`gh_comment`]).
    pub comments: BTreeMap<String, Vec<Value>>,
    next_id: u64,
    pub violations: Vec<String>,
    pub faults: Vec<GhFault>,
}

/// An injected failure: the next request with `method` is answered `status` in GitHub's error
/// shape, with `headers`; with `apply`, after it was carried out (a create that succeeded but
/// whose answer was lost).
pub struct GhFault {
    pub method: &'static str,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub message: &'static str,
    pub apply: bool,
}

impl GhFault {
    fn response(&self) -> Response {
        let mut r = gh_error(self.status, self.message);
        r.headers = self.headers.clone();
        r
    }
}

pub struct GithubFake {
    pub server: Server,
    pub state: Arc<Mutex<GithubState>>,
}

/// A stored comment as GitHub answers it (`issue-comment`: every property its schema requires).
fn gh_comment(repo: &str, number: &str, c: &Value) -> Value {
    let id = c["id"].as_u64().unwrap_or(0);
    let api = "https://api.github.com";
    // A comment seeded with a `login` is someone else's.
    let login = c["login"].as_str().unwrap_or("controlgate-bot");
    let user = |path: &str| format!("{api}/users/{login}{path}");
    json!({
        "id": id,
        "node_id": format!("IC_kwDO{id}"),
        "url": format!("{api}/repos/{repo}/issues/comments/{id}"),
        "html_url": format!("https://github.com/{repo}/issues/{number}#issuecomment-{id}"),
        "issue_url": format!("{api}/repos/{repo}/issues/{number}"),
        "body": c["body"],
        "user": {
            "login": login, "id": 41898282, "node_id": "MDM6Qm90NDE4OTgyODI=",
            "avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4",
            "gravatar_id": "", "url": user(""), "html_url": "https://github.com/apps/controlgate-bot",
            "followers_url": user("/followers"), "following_url": user("/following{/other_user}"),
            "gists_url": user("/gists{/gist_id}"), "starred_url": user("/starred{/owner}{/repo}"),
            "subscriptions_url": user("/subscriptions"), "organizations_url": user("/orgs"),
            "repos_url": user("/repos"), "events_url": user("/events{/privacy}"),
            "received_events_url": user("/received_events"), "type": "Bot", "site_admin": false
        },
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
        "author_association": "NONE"
    })
}

fn gh_error(status: u16, msg: &str) -> Response {
    Response::json(
        status,
        json!({ "message": msg, "documentation_url": "https://docs.github.com/rest", "status": status.to_string() }),
    )
}

impl GithubFake {
    pub fn start(token: &str, issues: &[&str]) -> GithubFake {
        let state = Arc::new(Mutex::new(GithubState {
            issues: issues.iter().map(|s| s.to_string()).collect(),
            next_id: 500,
            ..Default::default()
        }));
        let st = state.clone();
        let auth = format!("Bearer {token}");
        let server = Server::start(Arc::new(move |req: &Request| {
            let mut s = st.lock().unwrap();
            if req.header("authorization") != Some(auth.as_str()) {
                return gh_error(401, "Bad credentials");
            }
            if req.header("accept") != Some("application/vnd.github+json") {
                s.violations
                    .push("Accept is not application/vnd.github+json".into());
            }
            let p: Vec<&str> = req.path.split('/').collect();
            let op = GITHUB_OPERATIONS.iter().find(|(m, t)| {
                let t: Vec<&str> = t.split('/').collect();
                *m == req.method
                    && t.len() == p.len()
                    && t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b)
            });
            let Some((_, template)) = op else {
                s.violations.push(format!(
                    "{} {}: not an allowed operation",
                    req.method, req.path
                ));
                return gh_error(404, "Not Found");
            };
            if req.method != "GET" {
                let body = req.json().unwrap_or(Value::Null);
                let ok = body
                    .as_object()
                    .is_some_and(|o| o.len() == 1 && o.get("body").is_some_and(Value::is_string));
                if !ok {
                    s.violations
                        .push(format!("{template}: body must be {{\"body\": string}}"));
                    return gh_error(422, "Invalid request.");
                }
                let len = body["body"].as_str().unwrap().chars().count();
                if len > 65_536 {
                    return gh_error(422, "Body is too long (maximum is 65536 characters)");
                }
            }
            for (k, _) in &req.query {
                if !["per_page", "page", "since"].contains(&k.as_str()) {
                    s.violations.push(format!("query parameter `{k}`"));
                }
            }
            let fault = s
                .faults
                .iter()
                .position(|f| f.method == req.method)
                .map(|i| s.faults.remove(i));
            match fault {
                Some(f) if !f.apply => f.response(),
                Some(f) => {
                    gh_answer(&mut s, req, &p);
                    f.response()
                }
                None => gh_answer(&mut s, req, &p),
            }
        }));
        GithubFake { server, state }
    }
}

/// The stand-in's answer to an allowed, valid request.
fn gh_answer(s: &mut GithubState, req: &Request, p: &[&str]) -> Response {
    let repo = format!("{}/{}", p[2], p[3]);
    match req.method.as_str() {
        "GET" | "POST" => {
            let key = format!("{repo}#{}", p[5]);
            if !s.issues.contains(&key) {
                return gh_error(404, "Not Found");
            }
            if req.method == "GET" {
                let per: usize = req
                    .query("per_page")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(30);
                let page: usize = req.query("page").and_then(|v| v.parse().ok()).unwrap_or(1);
                let all = s.comments.get(&key).cloned().unwrap_or_default();
                let list: Vec<Value> = all
                    .iter()
                    .skip((page - 1) * per)
                    .take(per)
                    .map(|c| gh_comment(&repo, p[5], c))
                    .collect();
                let mut resp = Response::json(200, json!(list));
                // Like GitHub: absolute links on its own host, whatever the client's
                // base URL.
                if page * per < all.len() {
                    resp.headers.push((
                        "Link".into(),
                        format!(
                            "<https://api.github.com{}?per_page={per}&page={}>; rel=\"next\"",
                            req.path,
                            page + 1
                        ),
                    ));
                }
                return resp;
            }
            s.next_id += 1;
            let c = json!({ "id": s.next_id, "body": req.json().unwrap()["body"] });
            s.comments.entry(key).or_default().push(c.clone());
            Response::json(201, gh_comment(&repo, p[5], &c))
        }
        _ => {
            let id: u64 = p[6].parse().unwrap_or(0);
            let body = req.json().unwrap()["body"].clone();
            for (k, list) in s.comments.iter_mut() {
                if !k.starts_with(&format!("{repo}#")) {
                    continue;
                }
                if let Some(c) = list.iter_mut().find(|c| c["id"] == id) {
                    c["body"] = body;
                    let number = k.rsplit_once('#').map_or("0", |(_, n)| n);
                    return Response::json(200, gh_comment(&repo, number, c));
                }
            }
            gh_error(404, "Not Found")
        }
    }
}
