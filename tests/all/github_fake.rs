//! A stateful fake of the GitHub REST operations controlgate uses, behind Prism's validating
//! proxy (`prism proxy --errors`, GitHub's own OpenAPI description, trimmed to those operations
//! in `tests/fixtures/github/openapi-subset.json`).
//!
//! Prism rejects a request that breaks GitHub's schema with 422 before it reaches the fake, and
//! turns a fake response that breaks it into a 500; both are logged with the request path, and
//! [`Stand::violations`] returns them for the repository a test used. The fake answers with the
//! spec's own examples, adjusted (ids, bodies, users). Anything it does not expect gets GitHub's
//! 404 shape and is recorded as unexpected.
//!
//! One Prism and one fake serve every test; each test uses its own `owner/repo`, which keys the
//! fake's state and fault injection.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: Value,
}

/// An injected failure: the first request matching `method` and `path_contains` gets `status`.
/// With `apply`, the request is carried out first (a create that succeeded, but whose response
/// was lost).
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: &'static str,
    pub path_contains: &'static str,
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub message: &'static str,
    pub apply: bool,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: u64,
    pub login: String,
    pub body: String,
}

#[derive(Debug, Clone, Default)]
pub struct CheckRunState {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub conclusion: String,
    pub external_id: String,
    /// The output's title, as last sent.
    pub title: String,
    pub summaries: Vec<String>,
    pub annotations: Vec<Value>,
    /// Annotations per request (POST, then each PATCH).
    pub batches: Vec<usize>,
}

#[derive(Debug, Default)]
pub struct RepoState {
    pub comments: Vec<Comment>,
    pub check_runs: Vec<CheckRunState>,
    pub requests: Vec<Recorded>,
    pub unexpected: Vec<String>,
    pub faults: Vec<Fault>,
    /// Comments per page (GitHub's `per_page` is honoured up to this).
    pub page_size: usize,
    /// Writes answer 403 "Resource not accessible by integration".
    pub read_only: bool,
    /// Open pull requests: number → head commit SHA.
    pub pulls: HashMap<u64, String>,
    /// Merged pull requests (`GET /pulls?state=closed`, `GET /commits/{sha}/pulls`).
    pub merged_pulls: Vec<FakePull>,
    /// Commits on the default branch (`GET /commits?sha=&since=&until=`).
    pub branch_commits: Vec<FakeCommit>,
    /// The head commits of the repository's workflow runs (`GET /actions/runs`).
    pub workflow_runs: Vec<String>,
}

/// A merged pull request: its head when it merged, the commit it left on the branch, the
/// branch commits it brought (a merge commit's second parent line), times (RFC 3339).
#[derive(Debug, Clone, Default)]
pub struct FakePull {
    pub number: u64,
    pub title: String,
    pub head_sha: String,
    pub merge_sha: String,
    pub commits: Vec<String>,
    pub merged_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default)]
pub struct FakeCommit {
    pub sha: String,
    pub date: String,
    pub message: String,
}

#[derive(Default)]
struct World {
    repos: HashMap<String, RepoState>,
    next_id: u64,
}

pub struct Stand {
    pub prism_url: String,
    world: Arc<Mutex<World>>,
    log: PathBuf,
    _prism: Mutex<Child>,
    _dir: tempfile::TempDir,
}

pub const IDENTITY: &str = "controlgate-bot";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn examples() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text =
            std::fs::read_to_string(root().join("tests/fixtures/github/openapi-subset.json"))
                .expect("spec subset");
        serde_json::from_str(&text).expect("spec json")
    })
}

fn example(path: &str, method: &str, code: &str) -> Value {
    let ex = &examples()["paths"][path][method]["responses"][code]["content"]["application/json"]["examples"];
    let first = ex
        .as_object()
        .and_then(|o| o.values().next())
        .expect("example");
    first["value"].clone()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The shared stand-in, started on first use.
pub fn stand() -> &'static Stand {
    static STAND: OnceLock<Stand> = OnceLock::new();
    STAND.get_or_init(start)
}

fn start() -> Stand {
    let prism = root().join("node_modules/.bin/prism");
    assert!(
        prism.exists(),
        "Prism is missing at {}: run ./scripts/test (it installs the npm test tools)",
        prism.display()
    );
    let world = Arc::new(Mutex::new(World {
        next_id: 1000,
        ..Default::default()
    }));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let fake_port = listener.local_addr().unwrap().port();
    let w = Arc::clone(&world);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let w = Arc::clone(&w);
            std::thread::spawn(move || serve(stream, &w));
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("prism.log");
    let prism_port = free_port();
    // Prism dies with the test process: the wrapper kills it when its stdin (our pipe) closes.
    let script = format!(
        "'{}' proxy '{}' http://127.0.0.1:{fake_port} --errors -h 127.0.0.1 -p {prism_port} \
         >'{}' 2>&1 & p=$!; cat >/dev/null; kill $p",
        prism.display(),
        root()
            .join("tests/fixtures/github/openapi-subset.json")
            .display(),
        log.display()
    );
    let child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .spawn()
        .expect("start prism");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("Prism is listening") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prism did not start within 120 s:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Stand {
        prism_url: format!("http://127.0.0.1:{prism_port}"),
        world,
        log,
        _prism: Mutex::new(child),
        _dir: dir,
    }
}

impl Stand {
    /// A fresh repository (`owner/name`) with its own state.
    pub fn repo(&self, name: &str, setup: impl FnOnce(&mut RepoState)) -> String {
        let mut w = self.world.lock().unwrap();
        let mut st = RepoState {
            page_size: 100,
            ..Default::default()
        };
        setup(&mut st);
        let key = format!("acme/{name}");
        w.repos.insert(key.clone(), st);
        key
    }

    pub fn with<T>(&self, repo: &str, f: impl FnOnce(&mut RepoState) -> T) -> T {
        let mut w = self.world.lock().unwrap();
        f(w.repos.get_mut(repo).expect("repo"))
    }

    /// Prism's errors (schema violations in either direction) for this repository's requests.
    pub fn violations(&self, repo: &str) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let needle = format!("/repos/{repo}/");
        text.lines()
            .filter(|l| l.contains(&needle) && (l.contains("error") || l.contains("Violation")))
            .map(String::from)
            .collect()
    }
}

struct Request {
    method: String,
    target: String,
    body: Vec<u8>,
    /// The token of `Authorization: token …` / `Bearer …`.
    token: String,
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut len = 0usize;
    let mut chunked = false;
    let mut token = String::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
            if k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked") {
                chunked = true;
            }
            if k.eq_ignore_ascii_case("authorization") {
                token = v.split_whitespace().last().unwrap_or("").to_owned();
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        body.resize(len, 0);
        r.read_exact(&mut body).ok()?;
    }
    Some(Request {
        method,
        target,
        body,
        token,
    })
}

fn serve(stream: TcpStream, world: &Mutex<World>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        let (status, headers, body) = handle(world, &req);
        let text = body.to_string();
        let mut resp = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\n",
            text.len()
        );
        for (k, v) in headers {
            resp.push_str(&format!("{k}: {v}\r\n"));
        }
        resp.push_str("\r\n");
        resp.push_str(&text);
        if writer.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

fn not_found() -> (u16, Vec<(String, String)>, Value) {
    (
        404,
        vec![],
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
    )
}

fn comment_json(repo: &str, pr: u64, c: &Comment) -> Value {
    let mut v = example(
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
        "patch",
        "200",
    );
    v["id"] = json!(c.id);
    v["body"] = json!(c.body);
    v["user"]["login"] = json!(c.login);
    v["user"]["type"] = json!(if c.login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    });
    v["html_url"] = json!(format!(
        "https://github.com/{repo}/pull/{pr}#issuecomment-{}",
        c.id
    ));
    v["url"] = json!(format!(
        "https://api.github.com/repos/{repo}/issues/comments/{}",
        c.id
    ));
    v
}

fn check_json(repo: &str, c: &CheckRunState) -> Value {
    let mut v = example("/repos/{owner}/{repo}/check-runs", "post", "201");
    v["id"] = json!(c.id);
    v["name"] = json!(c.name);
    v["head_sha"] = json!(c.head_sha);
    v["conclusion"] = json!(c.conclusion);
    v["external_id"] = json!(c.external_id);
    v["html_url"] = json!(format!("https://github.com/{repo}/runs/{}", c.id));
    v["output"]["annotations_count"] = json!(c.annotations.len());
    v
}

fn pull_json(repo: &str, p: &FakePull) -> Value {
    let mut v = example("/repos/{owner}/{repo}/pulls", "get", "200")[0].clone();
    v["number"] = json!(p.number);
    v["title"] = json!(p.title);
    v["state"] = json!("closed");
    v["head"]["sha"] = json!(p.head_sha);
    v["base"]["ref"] = json!("main");
    v["merge_commit_sha"] = json!(p.merge_sha);
    v["merged_at"] = json!(p.merged_at);
    v["closed_at"] = json!(p.merged_at);
    v["updated_at"] = json!(p.updated_at);
    v["requested_teams"] = json!([]);
    v["html_url"] = json!(format!("https://github.com/{repo}/pull/{}", p.number));
    v
}

fn commit_json(repo: &str, c: &FakeCommit) -> Value {
    let mut v = example("/repos/{owner}/{repo}/commits", "get", "200")[0].clone();
    v["sha"] = json!(c.sha);
    v["commit"]["message"] = json!(c.message);
    v["commit"]["committer"]["date"] = json!(c.date);
    v["html_url"] = json!(format!("https://github.com/{repo}/commit/{}", c.sha));
    v
}

/// A query value as sent (`%3A` → `:`).
fn decoded(v: &str) -> String {
    percent_encoding::percent_decode_str(v)
        .decode_utf8_lossy()
        .into_owned()
}

/// `per_page` and `page` of a listing (GitHub's defaults 30 and 1).
fn paging(q: &HashMap<&str, &str>) -> (usize, usize) {
    let per = q
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30usize);
    let page = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1usize);
    (per, page.max(1))
}

/// GitHub's `Link: rel="next"` header for `target` when items remain after `page`.
fn next_link(target: &str, page: usize, more: bool) -> Vec<(String, String)> {
    if !more {
        return vec![];
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut kept: Vec<String> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("page="))
        .map(String::from)
        .collect();
    kept.push(format!("page={}", page + 1));
    vec![(
        "link".to_string(),
        format!(
            "<https://api.github.com{path}?{}>; rel=\"next\"",
            kept.join("&")
        ),
    )]
}

fn handle(world: &Mutex<World>, req: &Request) -> (u16, Vec<(String, String)>, Value) {
    let mut w = world.lock().unwrap();
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let q: HashMap<&str, &str> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    // A GitHub App's installation token (`ghs_app_<slug>` here): it cannot read `/user`, and
    // what it writes is by `<slug>[bot]`.
    let app = req
        .token
        .strip_prefix("ghs_app_")
        .map(|slug| format!("{slug}[bot]"));
    if seg == ["user"] && req.method == "GET" && app.is_some() {
        return (
            403,
            vec![],
            json!({"message": "Resource not accessible by integration",
                   "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user"}),
        );
    }
    if seg == ["user"] && req.method == "GET" {
        let mut u = example("/user", "get", "200");
        u["login"] = json!(IDENTITY);
        return (200, vec![], u);
    }
    if seg.len() < 3 || seg[0] != "repos" {
        return not_found();
    }
    let repo = format!("{}/{}", seg[1], seg[2]);
    let next_id = {
        w.next_id += 1;
        w.next_id
    };
    let Some(st) = w.repos.get_mut(&repo) else {
        return not_found();
    };
    st.requests.push(Recorded {
        method: req.method.clone(),
        path: req.target.clone(),
        body: body.clone(),
    });
    let mut apply_then: Option<Fault> = None;
    if let Some(i) = st
        .faults
        .iter()
        .position(|f| f.method == req.method && req.target.contains(f.path_contains))
    {
        let f = st.faults.remove(i);
        if f.apply {
            apply_then = Some(f);
        } else {
            let headers = f
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            return (
                f.status,
                headers,
                json!({"message": f.message, "documentation_url": "https://docs.github.com/rest"}),
            );
        }
    }
    let write = req.method != "GET";
    if write && st.read_only {
        return (
            403,
            vec![],
            json!({"message": "Resource not accessible by integration",
                   "documentation_url": "https://docs.github.com/rest"}),
        );
    }
    let rest: Vec<&str> = seg[3..].to_vec();
    let result = match (req.method.as_str(), rest.as_slice()) {
        ("GET", ["issues", n, "comments"]) => {
            let pr: u64 = n.parse().unwrap_or(0);
            let per = q
                .get("per_page")
                .and_then(|p| p.parse::<usize>().ok())
                .unwrap_or(30)
                .min(st.page_size);
            let page = q
                .get("page")
                .and_then(|p| p.parse::<usize>().ok())
                .unwrap_or(1);
            let all = &st.comments;
            let items: Vec<Value> = all
                .iter()
                .skip((page - 1) * per)
                .take(per)
                .map(|c| comment_json(&repo, pr, c))
                .collect();
            let mut headers = vec![];
            if page * per < all.len() {
                headers.push((
                    "link".to_string(),
                    format!(
                        "<https://api.github.com/repos/{repo}/issues/{pr}/comments?per_page={per}&page={}>; rel=\"next\"",
                        page + 1
                    ),
                ));
            }
            (200, headers, Value::Array(items))
        }
        ("POST", ["issues", n, "comments"]) => {
            let c = Comment {
                id: next_id,
                login: app.clone().unwrap_or_else(|| IDENTITY.into()),
                body: body["body"].as_str().unwrap_or("").to_owned(),
            };
            st.comments.push(c.clone());
            (201, vec![], comment_json(&repo, n.parse().unwrap_or(0), &c))
        }
        ("PATCH", ["issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            match st.comments.iter_mut().find(|c| c.id == id) {
                Some(c) => {
                    c.body = body["body"].as_str().unwrap_or("").to_owned();
                    let c = c.clone();
                    (200, vec![], comment_json(&repo, 1, &c))
                }
                None => not_found(),
            }
        }
        ("POST", ["check-runs"]) => {
            let anns = body["output"]["annotations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let c = CheckRunState {
                id: next_id,
                name: body["name"].as_str().unwrap_or("").into(),
                head_sha: body["head_sha"].as_str().unwrap_or("").into(),
                conclusion: body["conclusion"].as_str().unwrap_or("").into(),
                external_id: body["external_id"].as_str().unwrap_or("").into(),
                title: body["output"]["title"].as_str().unwrap_or("").into(),
                summaries: vec![body["output"]["summary"].as_str().unwrap_or("").into()],
                batches: vec![anns.len()],
                annotations: anns,
            };
            st.check_runs.push(c.clone());
            (201, vec![], check_json(&repo, &c))
        }
        ("GET", ["check-runs", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            match st.check_runs.iter().find(|c| c.id == id) {
                Some(c) => (200, vec![], check_json(&repo, c)),
                None => not_found(),
            }
        }
        ("PATCH", ["check-runs", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            match st.check_runs.iter_mut().find(|c| c.id == id) {
                Some(c) => {
                    let anns = body["output"]["annotations"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    c.batches.push(anns.len());
                    c.annotations.extend(anns);
                    if let Some(t) = body["output"]["title"].as_str() {
                        c.title = t.into();
                    }
                    c.summaries
                        .push(body["output"]["summary"].as_str().unwrap_or("").into());
                    let c = c.clone();
                    (200, vec![], check_json(&repo, &c))
                }
                None => not_found(),
            }
        }
        ("GET", ["pulls", n]) => match n
            .parse()
            .ok()
            .and_then(|n: u64| st.pulls.get(&n).map(|sha| (n, sha)))
        {
            Some((n, sha)) => {
                let mut v = example("/repos/{owner}/{repo}/pulls/{pull_number}", "get", "200");
                v["number"] = json!(n);
                // GitHub's example team lacks the `type` its own schema requires.
                v["requested_teams"] = json!([]);
                v["head"]["sha"] = json!(sha);
                v["url"] = json!(format!("https://api.github.com/repos/{repo}/pulls/{n}"));
                (200, vec![], v)
            }
            None => not_found(),
        },
        ("GET", ["pulls"]) if q.get("state") == Some(&"closed") => {
            let (per, page) = paging(&q);
            let mut pulls = st.merged_pulls.clone();
            pulls.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
            let per = per.min(st.page_size);
            let items: Vec<Value> = pulls
                .iter()
                .skip((page - 1) * per)
                .take(per)
                .map(|p| pull_json(&repo, p))
                .collect();
            let more = page * per < pulls.len();
            (200, next_link(&req.target, page, more), Value::Array(items))
        }
        ("GET", ["commits"]) => {
            let (per, page) = paging(&q);
            let since = q.get("since").map(|v| decoded(v)).unwrap_or_default();
            let until = q
                .get("until")
                .map(|v| decoded(v))
                .unwrap_or_else(|| "9999".into());
            let per = per.min(st.page_size);
            let mut listed: Vec<&FakeCommit> = st
                .branch_commits
                .iter()
                .filter(|c| c.date >= since && c.date <= until)
                .collect();
            // Newest first, as GitHub lists them.
            listed.sort_by(|a, b| b.date.cmp(&a.date));
            let items: Vec<Value> = listed
                .iter()
                .skip((page - 1) * per)
                .take(per)
                .map(|c| commit_json(&repo, c))
                .collect();
            let more = page * per < listed.len();
            (200, next_link(&req.target, page, more), Value::Array(items))
        }
        ("GET", ["actions", "runs"]) => {
            let (per, page) = paging(&q);
            let per = per.min(st.page_size);
            let example = example("/repos/{owner}/{repo}/actions/runs", "get", "200");
            let runs: Vec<Value> = st
                .workflow_runs
                .iter()
                .enumerate()
                .skip((page - 1) * per)
                .take(per)
                .map(|(i, sha)| {
                    let mut r = example["workflow_runs"][0].clone();
                    r["id"] = json!(5000 + i);
                    r["head_sha"] = json!(sha);
                    // Listed newest first, all of them today.
                    r["created_at"] = json!(
                        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    );
                    r
                })
                .collect();
            let more = page * per < st.workflow_runs.len();
            (
                200,
                next_link(&req.target, page, more),
                json!({"total_count": st.workflow_runs.len(), "workflow_runs": runs}),
            )
        }
        ("GET", ["commits", sha, "pulls"]) => {
            let items: Vec<Value> = st
                .merged_pulls
                .iter()
                .filter(|p| p.merge_sha == *sha || p.commits.iter().any(|c| c == sha))
                .map(|p| pull_json(&repo, p))
                .collect();
            (200, vec![], Value::Array(items))
        }
        ("GET", ["commits", sha, "check-runs"]) => {
            let name = q.get("check_name").copied().unwrap_or("");
            let (per, page) = paging(&q);
            let per = per.min(st.page_size);
            let all: Vec<&CheckRunState> = st
                .check_runs
                .iter()
                .filter(|c| c.head_sha == *sha && (name.is_empty() || enc(&c.name) == name))
                .collect();
            let runs: Vec<Value> = all
                .iter()
                .skip((page - 1) * per)
                .take(per)
                .map(|c| check_json(&repo, c))
                .collect();
            (
                200,
                vec![],
                json!({"total_count": all.len(), "check_runs": runs}),
            )
        }
        _ => {
            st.unexpected.push(format!("{} {}", req.method, req.target));
            not_found()
        }
    };
    if let Some(f) = apply_then {
        let headers = f
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        return (
            f.status,
            headers,
            json!({"message": f.message, "documentation_url": "https://docs.github.com/rest"}),
        );
    }
    result
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Writes a file, creating parents.
pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}
