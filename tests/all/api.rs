//! API coverage: real descriptions, the recorded HAR, matching, drift, negative auth,
//! confidential fields, gates and the Markdown section.

use std::path::{Path, PathBuf};

use controlgate::analyze::api::{Analyzer, Matcher, drift, gates};
use controlgate::config::{ApiConfig, parse};
use controlgate::ingest::har;
use controlgate::ingest::openapi::{self, Memory, Spec, normalize};
use controlgate::model::api::{ApiSection, BreakingKind, FindingReason};
use controlgate::model::report::GateStatus;
use controlgate::render::api::markdown;

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/api")
        .join(p)
}

fn load(paths: &[&str]) -> Spec {
    let p: Vec<PathBuf> = paths.iter().map(|p| fixture(p)).collect();
    openapi::load(&p, &mut controlgate::gather::openapi::Files { root: None }).unwrap()
}

fn mem_spec(yaml: &str) -> Spec {
    let mut m = Memory::default();
    m.0.insert(normalize(Path::new("s.yaml")), yaml.to_owned());
    openapi::load(&[PathBuf::from("s.yaml")], &mut m).unwrap()
}

fn api_config(yaml: &str) -> ApiConfig {
    parse(yaml, Path::new("c.yml")).unwrap().api
}

#[test]
fn real_descriptions_3_0_yaml_3_1_json_and_split_files() {
    let v30 = load(&["petstore-3.0.yaml"]);
    assert_eq!(v30.operations.len(), 20);
    assert_eq!(v30.title(), Some("Swagger Petstore"));
    let get = v30
        .operations
        .iter()
        .find(|o| o.operation_id.as_deref() == Some("getPetById"))
        .unwrap();
    assert_eq!(get.key(), "GET /pet/{petId}");
    assert_eq!(get.base_paths, ["/v2"]);
    assert!(get.secured);
    let login = v30
        .operations
        .iter()
        .find(|o| o.operation_id.as_deref() == Some("loginUser"))
        .unwrap();
    assert!(!login.secured);

    let v31 = load(&["petstore-3.1.json"]);
    assert_eq!(v31.operations.len(), 20);
    assert_eq!(
        v31.operations.iter().filter(|o| o.secured).count(),
        v30.operations.iter().filter(|o| o.secured).count()
    );

    let split = load(&["split/openapi.yaml"]);
    assert_eq!(
        split.docs.len(),
        3,
        "root, schemas.yaml, paths/user-by-name.yaml"
    );
    assert_eq!(split.operations.len(), 21);
    let by_name = split
        .operations
        .iter()
        .find(|o| o.operation_id.as_deref() == Some("getUserByName"))
        .unwrap();
    assert!(
        split.docs[by_name.doc]
            .path
            .ends_with("paths/user-by-name.yaml")
    );
    assert!(by_name.secured, "global security applies");
    let health = split
        .operations
        .iter()
        .find(|o| o.operation_id.as_deref() == Some("health"))
        .unwrap();
    assert!(
        !health.secured,
        "`security: []` overrides the global requirement"
    );
    let mut conf: Vec<&str> = split.confidential.iter().map(|(n, _)| n.as_str()).collect();
    conf.sort();
    assert_eq!(conf, ["password", "phone"]);
    assert!(
        split.confidential[0]
            .1
            .starts_with("schemas.yaml#/User/properties/")
    );
    // The response schema of the moved path item resolves across two files.
    let node = split.operation_node(by_name);
    let (d, s) = split
        .media_schema(by_name.doc, &node["responses"]["200"])
        .unwrap();
    let (_, user) = split.deref(d, s);
    assert!(user["properties"]["password"].is_object());
}

fn recorded() -> (Spec, Vec<har::Exchange>) {
    let spec = load(&["split/openapi.yaml"]);
    let bytes = std::fs::read(fixture("record/petstore.har")).unwrap();
    (spec, har::har_exchanges(&bytes).unwrap())
}

fn analyse(spec: &Spec, ex: &[har::Exchange], config: &ApiConfig) -> ApiSection {
    let mut a = Analyzer::new(spec, config).unwrap();
    for e in ex {
        a.exchange(e, "petstore.har", true);
    }
    a.finish(None, vec![])
}

#[test]
fn recorded_har_coverage_negative_auth_and_confidential_fields() {
    let (spec, ex) = recorded();
    assert_eq!(ex.len(), 12);
    let s = analyse(&spec, &ex, &api_config("api: {ignore_paths: ['/']}"));
    assert_eq!((s.exchanges, s.matched, s.ignored), (12, 10, 1));
    let exercised: Vec<&str> = s
        .operations
        .iter()
        .filter(|o| o.exercised)
        .filter_map(|o| o.operation_id.as_deref())
        .collect();
    assert_eq!(
        exercised,
        [
            "addPet",
            "findPetsByStatus",
            "getPetById",
            "getInventory",
            "loginUser",
            "getUserByName"
        ]
    );
    assert_eq!((s.coverage.exercised, s.coverage.described), (6, 21));
    let get = s
        .operations
        .iter()
        .find(|o| o.key == "GET /pet/{petId}")
        .unwrap();
    assert_eq!(get.statuses, [200, 401]);
    assert_eq!(
        get.exercise.requests, 3,
        "percent-encoded id and trailing slash match"
    );
    assert_eq!(get.negative_auth, Some(true));
    let by_status = s
        .operations
        .iter()
        .find(|o| o.key == "GET /pet/findByStatus")
        .unwrap();
    assert_eq!(by_status.negative_auth, Some(true), "403 counts");
    assert!(
        s.missing_negative_auth
            .contains(&"GET /store/inventory".to_string())
    );
    assert!(s.missing_negative_auth.contains(&"POST /pet".to_string()));
    assert!(
        !s.missing_negative_auth
            .contains(&"GET /internal/health".to_string())
    );
    assert_eq!(s.unmatched.len(), 1);
    assert_eq!(
        (s.unmatched[0].method.as_str(), s.unmatched[0].path.as_str()),
        ("GET", "/v2/internal/debug")
    );
    assert_eq!(s.unmatched[0].first.to_string(), "petstore.har entries[11]");

    let f: Vec<(&str, &str, u16, FindingReason, Option<u64>)> = s
        .findings
        .iter()
        .map(|f| {
            (
                f.field.as_str(),
                f.at.as_str(),
                f.status,
                f.reason,
                f.exchange.entry,
            )
        })
        .collect();
    assert_eq!(
        f,
        [
            (
                "password",
                ".password",
                200,
                FindingReason::Unauthenticated,
                Some(9)
            ),
            (
                "phone",
                ".phone",
                200,
                FindingReason::Unauthenticated,
                Some(9)
            ),
            (
                "phone",
                ".debug.phone",
                404,
                FindingReason::ErrorResponse,
                Some(10)
            ),
        ]
    );
    assert!(
        s.findings
            .iter()
            .all(|f| f.operation == "GET /user/{username}")
    );
    let json = serde_json::to_string(&s).unwrap();
    for secret in [
        "fake-password",
        "000-0000",
        "000-0001",
        "alice@example.test",
    ] {
        assert!(
            !json.contains(secret),
            "body value {secret} copied into the report"
        );
    }
    let tags: Vec<(String, u64, u64)> = s
        .by_tag
        .iter()
        .map(|t| (t.tag.clone(), t.count.exercised, t.count.described))
        .collect();
    assert_eq!(
        tags,
        [
            ("internal".into(), 0, 1),
            ("pet".into(), 3, 8),
            ("store".into(), 1, 4),
            ("user".into(), 2, 8)
        ]
    );
}

#[test]
fn authenticated_success_bodies_are_not_findings_and_config_fields_count() {
    let spec = mem_spec(
        "openapi: 3.1.0\ncomponents:\n  securitySchemes:\n    q: {type: apiKey, in: query, name: token}\npaths:\n  /me:\n    get: {security: [{q: []}], responses: {}}\n",
    );
    let log = br#"{"method":"GET","url":"/me","status":200,"request_headers":{"Authorization":"Bearer x"},"response_body":{"ssn":"1"}}
{"method":"GET","url":"/me?token=abc","status":200,"response_body":{"ssn":"1"}}
{"method":"GET","url":"/me","status":200,"request_headers":{"Authorization":""},"response_body":"{\"ssn\":\"1\"}"}
{"method":"GET","url":"/me","status":500,"request_headers":{"Authorization":"Bearer x"},"response_body":[{"ssn":"1"}]}
"#;
    let ex = har::log_exchanges(log).unwrap();
    let mut a = Analyzer::new(&spec, &api_config("api: {confidential_fields: [ssn]}")).unwrap();
    for e in &ex {
        a.exchange(e, "x.jsonl", false);
    }
    let s = a.finish(None, vec![]);
    let f: Vec<(String, Option<u64>, FindingReason)> = s
        .findings
        .iter()
        .map(|f| (f.at.clone(), f.exchange.line, f.reason))
        .collect();
    assert_eq!(
        f,
        [
            (".ssn".into(), Some(3), FindingReason::Unauthenticated),
            ("[].ssn".into(), Some(4), FindingReason::ErrorResponse)
        ]
    );
    assert_eq!(s.confidential_fields[0].declared, "config");
}

const MATCH_SPEC: &str = r#"openapi: 3.0.3
servers: [{url: 'https://api.example.com/base/v1'}]
paths:
  /users/{id}: {get: {operationId: getUser, responses: {}}}
  /users/me: {get: {operationId: me, responses: {}}}
  /users/{id}/posts/{postId}: {get: {operationId: post, responses: {}}}
  /users/me/posts/latest: {get: {operationId: latest, responses: {}}}
  /files/{name}.json: {get: {operationId: fileJson, responses: {}}}
  /files/{name}: {get: {operationId: file, responses: {}}}
  /a b/{x}: {get: {operationId: spaced, responses: {}}}
  /: {get: {operationId: root, responses: {}}}
"#;

#[test]
fn matching_table() {
    let spec = mem_spec(MATCH_SPEC);
    let m = Matcher::new(&spec, &["/gateway".into()]);
    let id = |method: &str, url: &str| {
        m.match_url(method, url)
            .map(|i| spec.operations[i].operation_id.clone().unwrap())
    };
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("GET", "/users/42", Some("getUser")),
        (
            "GET",
            "http://h:8080/base/v1/users/42?x=1#f",
            Some("getUser"),
        ),
        ("GET", "/base/v1/users/42/", Some("getUser")),
        ("GET", "/users/me", Some("me")),
        ("GET", "/users/m%65", Some("me")),
        ("GET", "/users/me/posts/7", Some("post")),
        ("GET", "/users/me/posts/latest", Some("latest")),
        ("GET", "/users/9/posts/latest", Some("post")),
        ("GET", "/files/a.json", Some("fileJson")),
        ("GET", "/files/a.txt", Some("file")),
        ("GET", "/files/.json", Some("file")),
        ("GET", "/a%20b/1", Some("spaced")),
        ("GET", "/gateway/users/1", Some("getUser")),
        ("GET", "/", Some("root")),
        ("GET", "", Some("root")),
        ("GET", "/base/v1", Some("root")),
        ("GET", "/users", None),
        ("GET", "/users/1/posts", None),
        ("GET", "/base/v2/users/1", None),
        ("POST", "/users/1", None),
        ("get", "/users/1", None),
        ("GET", "/users//", None),
        ("GET", "/users/1/extra/deep", None),
    ];
    for (method, url, want) in cases {
        assert_eq!(id(method, url).as_deref(), *want, "{method} {url}");
    }
}

#[test]
fn operation_tags_on_tests() {
    let spec = load(&["petstore-3.0.yaml"]);
    let mut a = Analyzer::new(&spec, &ApiConfig::default()).unwrap();
    a.tag("t1", "getPetById", true);
    a.tag("t2", "DELETE /pet/{id} 401", true);
    a.tag("t3", "get /user/alice", true);
    a.tag("t4", "addPet 401", false);
    a.tag("t5", "nope", true);
    a.tag("t6", "GET /nowhere", true);
    let s = a.finish(None, vec![]);
    let op = |k: &str| s.operations.iter().find(|o| o.key == k).unwrap();
    assert_eq!(op("GET /pet/{petId}").exercise.tests, ["t1"]);
    assert_eq!(op("DELETE /pet/{petId}").negative_auth, Some(true));
    assert!(op("GET /user/{username}").exercised);
    let add = op("POST /pet");
    assert!(add.exercised);
    assert_eq!(
        add.negative_auth,
        Some(false),
        "a failed test proves no 401"
    );
    let unknown: Vec<&str> = s
        .unknown_operation_tags
        .iter()
        .map(|u| u.tag.as_str())
        .collect();
    assert_eq!(unknown, ["nope", "GET /nowhere"]);
}

fn spec_of(paths: &str, schemas: &str) -> Spec {
    mem_spec(&format!(
        "openapi: 3.1.0\npaths:\n{paths}\ncomponents:\n  schemas:\n{schemas}\n"
    ))
}

const BASE_PATHS: &str = r#"  /pets/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
        - {name: verbose, in: query, schema: {type: boolean}}
      responses:
        '200': {content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}
    put:
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}
      responses: {'204': {description: ok}}
  /pets:
    get: {responses: {}}"#;

const BASE_SCHEMAS: &str = r#"    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        kind: {type: string, enum: [dog, cat, bird]}
        age: {type: integer}
        owner: {$ref: '#/components/schemas/Owner'}
    Owner:
      type: object
      properties:
        email: {type: string}
        pets: {type: array, items: {$ref: '#/components/schemas/Pet'}}"#;

fn kinds(paths: &str, schemas: &str) -> Vec<(BreakingKind, String, String)> {
    let d = drift(&spec_of(BASE_PATHS, BASE_SCHEMAS), &spec_of(paths, schemas));
    d.breaking
        .into_iter()
        .map(|b| (b.kind, b.operation, b.location))
        .collect()
}

#[test]
fn drift_table_breaking_changes_are_detected() {
    use BreakingKind::*;
    let same = kinds(BASE_PATHS, BASE_SCHEMAS);
    assert!(same.is_empty(), "{same:?}");
    let cases: Vec<(String, String, (BreakingKind, &str, &str))> = vec![
        (
            BASE_PATHS.replace("  /pets:\n    get: {responses: {}}", ""),
            BASE_SCHEMAS.into(),
            (RemovedOperation, "GET /pets", "operation"),
        ),
        (
            BASE_PATHS.into(),
            BASE_SCHEMAS.replace("        age: {type: integer}\n", ""),
            (
                RemovedResponseProperty,
                "GET /pets/{id}",
                "response 200 .age",
            ),
        ),
        (
            BASE_PATHS.into(),
            BASE_SCHEMAS.replace(
                "        email: {type: string}\n",
                "        other: {type: string}\n",
            ),
            (
                RemovedResponseProperty,
                "GET /pets/{id}",
                "response 200 .owner.email",
            ),
        ),
        (
            BASE_PATHS.replace(
                "{name: verbose, in: query,",
                "{name: verbose, in: query, required: true,",
            ),
            BASE_SCHEMAS.into(),
            (
                NewRequiredParameter,
                "GET /pets/{id}",
                "parameter query verbose",
            ),
        ),
        (
            BASE_PATHS.replace(
                "        - {name: verbose",
                "        - {name: X-Tenant, in: header, required: true}\n        - {name: verbose",
            ),
            BASE_SCHEMAS.into(),
            (
                NewRequiredParameter,
                "GET /pets/{id}",
                "parameter header X-Tenant",
            ),
        ),
        (
            BASE_PATHS.into(),
            BASE_SCHEMAS.replace("required: [name]", "required: [name, age]"),
            (
                NewRequiredRequestProperty,
                "PUT /pets/{id}",
                "request body .age",
            ),
        ),
        (
            BASE_PATHS.replace(
                "    put:\n      requestBody: {",
                "    put:\n      requestBody: {required: true, ",
            ),
            BASE_SCHEMAS.into(),
            (NewRequiredRequestProperty, "PUT /pets/{id}", "request body"),
        ),
        (
            BASE_PATHS.replace("schema: {type: integer}", "schema: {type: string}"),
            BASE_SCHEMAS.into(),
            (ChangedType, "GET /pets/{id}", "parameter path id"),
        ),
        (
            BASE_PATHS.into(),
            BASE_SCHEMAS.replace("age: {type: integer}", "age: {type: [string, 'null']}"),
            (ChangedType, "GET /pets/{id}", "response 200 .age"),
        ),
        (
            BASE_PATHS.into(),
            BASE_SCHEMAS.replace("enum: [dog, cat, bird]", "enum: [dog, cat]"),
            (NarrowedEnum, "GET /pets/{id}", "response 200 .kind"),
        ),
        (
            BASE_PATHS.replace("{type: boolean}", "{type: boolean, enum: [true]}"),
            BASE_SCHEMAS.into(),
            (NarrowedEnum, "GET /pets/{id}", "parameter query verbose"),
        ),
    ];
    for (paths, schemas, (kind, op, loc)) in cases {
        let got = kinds(&paths, &schemas);
        assert!(
            got.iter()
                .any(|(k, o, l)| *k == kind && o == op && l == loc),
            "{kind:?} {op} {loc} not in {got:?}"
        );
    }
}

#[test]
fn drift_table_non_breaking_changes_are_not_flagged() {
    let cases: Vec<(String, String)> = vec![
        // Added optional property.
        (
            BASE_PATHS.into(),
            BASE_SCHEMAS.replace(
                "        age: {type: integer}\n",
                "        age: {type: integer}\n        nick: {type: string}\n",
            ),
        ),
        // Added operation.
        (
            format!("{BASE_PATHS}\n  /owners:\n    get: {{responses: {{}}}}"),
            BASE_SCHEMAS.into(),
        ),
        // Widened enum.
        (
            BASE_PATHS.into(),
            BASE_SCHEMAS.replace("enum: [dog, cat, bird]", "enum: [dog, cat, bird, fish]"),
        ),
        // Required parameter became optional; parameter renamed in the template only.
        (
            BASE_PATHS
                .replace("/pets/{id}:", "/pets/{petId}:")
                .replace("{name: id, in: path", "{name: petId, in: path"),
            BASE_SCHEMAS.into(),
        ),
        // Nullable added (3.1 type array with null).
        (
            BASE_PATHS.into(),
            BASE_SCHEMAS.replace("age: {type: integer}", "age: {type: [integer, 'null']}"),
        ),
    ];
    for (paths, schemas) in cases {
        let got = kinds(&paths, &schemas);
        assert!(got.is_empty(), "{got:?}\n{paths}\n{schemas}");
    }
    let d = drift(
        &spec_of(BASE_PATHS, BASE_SCHEMAS),
        &spec_of(
            &format!("{BASE_PATHS}\n  /owners:\n    get: {{responses: {{}}}}"),
            BASE_SCHEMAS,
        ),
    );
    assert_eq!(d.added, ["GET /owners"]);
    assert!(d.removed.is_empty());
}

#[test]
fn drift_between_real_3_0_and_3_1_petstores_is_empty_and_new_ops_are_untested() {
    let a = load(&["petstore-3.0.yaml"]);
    let b = load(&["petstore-3.1.json"]);
    let d = drift(&a, &b);
    assert!(d.added.is_empty() && d.removed.is_empty(), "{d:?}");
    let split = load(&["split/openapi.yaml"]);
    let an = Analyzer::new(&split, &ApiConfig::default()).unwrap();
    let s = an.finish(Some(&a), vec![]);
    let dr = s.drift.as_ref().unwrap();
    assert_eq!(dr.drift.added, ["GET /internal/health"]);
    assert_eq!(dr.new_untested, ["GET /internal/health"]);
    assert!(
        s.operations
            .iter()
            .any(|o| o.new && o.key == "GET /internal/health")
    );
}

fn gate_status(yaml: &str, s: &mut ApiSection) -> Vec<(String, GateStatus, bool)> {
    gates(&api_config(yaml), s, None)
        .into_iter()
        .map(|g| (g.name, g.status, g.passed))
        .collect()
}

/// No finding proves nothing when nothing was looked into: without a recorded error or
/// unauthenticated response (no HAR file, no exchange log) the confidential-field gate is not
/// evaluated and fails closed, and its controls are not evidenced.
#[test]
fn the_confidential_field_gate_is_not_evaluated_when_nothing_was_inspected() {
    use controlgate::model::gate::GateResult;
    let (spec, ex) = recorded();
    let cfg = api_config("api: {ignore_paths: ['/']}");
    let yaml = "api: {confidential_fields_in_errors: true}";
    let mut none = analyse(&spec, &[], &cfg);
    assert!(!none.confidential_fields.is_empty());
    assert_eq!(none.responses_inspected, 0);
    let g = gates(&api_config(yaml), &mut none, None);
    let conf = g
        .iter()
        .find(|g| g.name == "api.confidential_fields_in_errors")
        .unwrap();
    assert_eq!(
        (conf.result, conf.status, conf.passed),
        (GateResult::NotEvaluated, GateStatus::Fail, false),
        "{conf:?}"
    );
    assert!(
        conf.detail.contains("nothing was looked into"),
        "{}",
        conf.detail
    );
    assert!(
        none.controls
            .iter()
            .filter(|c| c.check == "confidential_fields")
            .all(|c| !c.passed),
        "{:?}",
        none.controls
    );
    // Recorded, the responses are looked into (and the gate decides on what they hold).
    let mut recorded = analyse(&spec, &ex, &cfg);
    assert!(recorded.responses_inspected > 0);
    let g = gates(&api_config(yaml), &mut recorded, None);
    let conf = g
        .iter()
        .find(|g| g.name == "api.confidential_fields_in_errors")
        .unwrap();
    assert_ne!(conf.result, GateResult::NotEvaluated, "{conf:?}");
}

#[test]
fn gates_pass_fail_and_informational() {
    let (spec, ex) = recorded();
    let base = load(&["petstore-3.0.yaml"]);
    let cfg = api_config("api: {ignore_paths: ['/']}");
    let mut a = Analyzer::new(&spec, &cfg).unwrap();
    for e in &ex {
        a.exchange(e, "petstore.har", true);
    }
    let section = a.finish(Some(&base), vec![]);

    let mut s = section.clone();
    assert!(
        gate_status("", &mut s)
            .iter()
            .all(|(n, _, _)| n == "api.breaking_changes")
    );
    let g = gate_status("", &mut section.clone());
    assert_eq!(
        g[0].1,
        GateStatus::Informational,
        "breaking changes informational by default"
    );

    let all = "api:\n  min_coverage: 25\n  new_operations_require_tests: true\n  breaking_changes: {value: true, informational: false}\n  secured_operations_require_negative_test: true\n  confidential_fields_in_errors: true\n";
    let mut s = section.clone();
    let g = gate_status(all, &mut s);
    assert_eq!(
        g,
        [
            ("api.min_coverage".into(), GateStatus::Pass, true),
            (
                "api.new_operations_require_tests".into(),
                GateStatus::Fail,
                false
            ),
            ("api.breaking_changes".into(), GateStatus::Pass, true),
            (
                "api.secured_operations_require_negative_test".into(),
                GateStatus::Fail,
                false
            ),
            (
                "api.confidential_fields_in_errors".into(),
                GateStatus::Fail,
                false
            ),
        ]
    );
    let ctl: Vec<(String, bool)> = s
        .controls
        .iter()
        .map(|c| (c.id.clone(), c.passed))
        .collect();
    assert_eq!(
        ctl,
        [
            ("CC7.1".into(), true),
            ("CC6.1".into(), false),
            ("C1.1".into(), false),
            ("CC6.7".into(), false)
        ]
    );
    let g = gate_status(
        "api: {min_coverage: {value: 50, informational: true}}",
        &mut section.clone(),
    );
    assert_eq!(
        g[0],
        ("api.min_coverage".into(), GateStatus::Informational, false)
    );
    let g = gate_status("api: {min_coverage: 50}", &mut section.clone());
    assert_eq!(g[0].1, GateStatus::Fail);
}

#[test]
fn markdown_section_lists_untested_findings_and_escapes() {
    let (spec, mut ex) = recorded();
    ex[11].url = "http://h/v2/<img src=x>|@team".into();
    let s = analyse(&spec, &ex, &api_config("api: {ignore_paths: ['/']}"));
    let md = markdown(&s, 60_000);
    assert!(
        md.starts_with("### API coverage\n\n**6 of 21 operations exercised (28.6%)**"),
        "{md}"
    );
    for h in [
        "#### Confidential fields in error or unauthenticated responses",
        "#### Secured operations without a rejected-call test (401/403)",
        "#### Untested operations",
        "#### Undocumented requests",
        "#### Coverage by tag",
        "| DELETE /pet/{petId} | deletePet | pet |",
        "| `phone` | .debug.phone | GET /user/{username} | 404 | error response | petstore.har entries\\[10\\] |",
    ] {
        assert!(md.contains(h), "missing {h}\n{md}");
    }
    assert!(
        md.contains("&lt;img src=x&gt;&#124;&#64;&#8203;team"),
        "{md}"
    );
    assert!(!md.contains("<img"));
    // Whole rows only, with a note, when the budget is tight.
    let small = markdown(&s, 1500);
    assert!(small.len() <= 1500, "{}", small.len());
    assert!(small.contains("not shown (comment size limit)"), "{small}");
    assert!(
        small
            .lines()
            .all(|l| !l.starts_with('|') || l.ends_with('|'))
    );
}

#[test]
fn quickstart_report_end_to_end() {
    use controlgate::{ReportRequest, report};
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut req = ReportRequest::new(vec!["examples/api/junit.xml".into()], root.clone());
    req.config = Some("examples/api/controlgate.yml".into());
    req.har = vec!["examples/api/*.har".into()];
    req.api_base_spec = vec!["examples/api/base-petstore.yaml".into()];
    let out = report(&req).unwrap();
    let api = out.report.api.as_ref().unwrap();
    assert_eq!((api.coverage.exercised, api.coverage.described), (9, 21));
    let del = api
        .operations
        .iter()
        .find(|o| o.key == "DELETE /pet/{petId}")
        .unwrap();
    assert_eq!(
        del.negative_auth,
        Some(true),
        "status named by a passing test's tag"
    );
    assert_eq!(
        del.exercise.tests,
        ["api.pets::deleting a pet without a token is rejected"]
    );
    assert!(out.markdown.contains("#### Untested operations"));
    assert!(out.markdown.contains("#### New operations without tests"));
    assert!(out.json().contains("\"api\": {"));
    assert_eq!(out.exit_code(), controlgate::ExitCode::Fail);

    // Inputs without a description are a usage error.
    let mut req = ReportRequest::new(vec!["examples/api/junit.xml".into()], root);
    req.har = vec!["examples/api/*.har".into()];
    let e = report(&req).unwrap_err().to_string();
    assert!(e.contains("need `api.specs`"), "{e}");
}

/// The evidence bundle keeps the API inputs as read (descriptions with their `$ref`d files,
/// the HAR, the `--api-base-spec` file) next to the JUnit, and `verify` re-hashes them.
#[test]
fn api_inputs_are_retained_in_the_evidence_bundle() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let ev = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_controlgate"))
            .current_dir(&root)
            .args(args)
            .output()
            .unwrap()
    };
    let store = ev.path().to_str().unwrap();
    let o = run(&[
        "report",
        "--junit",
        "examples/api/junit.xml",
        "--config",
        "examples/api/controlgate.yml",
        "--har",
        "examples/api/*.har",
        "--api-base-spec",
        "examples/api/base-petstore.yaml",
        "--evidence",
        store,
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let bundle = std::fs::read_dir(ev.path().join("bundles"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    let listed = manifest.to_string();
    for input in [
        "examples/api/junit.xml",
        "examples/api/petstore.har",
        "examples/api/base-petstore.yaml",
        "examples/api/openapi/openapi.yaml",
    ] {
        let kept = std::fs::read_to_string(bundle.join("inputs").join(input))
            .unwrap_or_else(|e| panic!("{input} not in the bundle: {e}"));
        let original = std::fs::read_to_string(root.join(input)).unwrap();
        // The recorded Authorization headers are secrets: the HAR is kept redacted.
        let expected = original.replace(
            r#""value": "Bearer test-token""#,
            r#""value": "[REDACTED:authorization]""#,
        );
        assert_eq!(kept, expected, "{input}");
        assert!(listed.contains(&format!("inputs/{input}")), "{listed}");
    }
    let har = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "inputs/examples/api/petstore.har")
        .unwrap();
    assert_eq!(har["redacted"]["count"], 2, "{har}");
    let o = run(&["verify", "--store", store]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // A retained description edited afterwards is named by verify.
    let spec = bundle.join("inputs/examples/api/openapi/openapi.yaml");
    let mut bytes = std::fs::read(&spec).unwrap();
    bytes.push(b'\n');
    std::fs::write(&spec, bytes).unwrap();
    let o = run(&["verify", "--store", store]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("inputs/examples/api/openapi/openapi.yaml"),
        "{out}"
    );
}

/// `GET /x` answering with schema `S0`; `level(i)` writes `S{i}`, `bottom` the last one.
fn graph_spec(levels: usize, level: impl Fn(usize) -> String, bottom: &str) -> Spec {
    let paths = "  /x:\n    get:\n      responses:\n        '200': {content: {application/json: {schema: {$ref: '#/components/schemas/S0'}}}}";
    let mut schemas: Vec<String> = (0..levels)
        .map(|i| format!("    S{i}: {}", level(i)))
        .collect();
    schemas.push(format!("    S{levels}: {bottom}"));
    spec_of(paths, &schemas.join("\n"))
}

fn breaking_of(base: &Spec, head: &Spec) -> (Vec<(BreakingKind, String)>, Option<String>) {
    let d = drift(base, head);
    let found = d
        .breaking
        .into_iter()
        .map(|b| (b.kind, b.location))
        .collect();
    (found, d.incomplete)
}

#[test]
fn drift_follows_shared_schemas_to_any_depth_once_each() {
    // Each level is an `allOf` of the next one four times (4^20 paths through 21 schemas):
    // the type changed at the bottom is found, and found quickly.
    let all_of = |i: usize| {
        format!(
            "{{allOf: [{}]}}",
            vec![format!("{{$ref: '#/components/schemas/S{}'}}", i + 1); 4].join(", ")
        )
    };
    let base = graph_spec(
        20,
        all_of,
        "{type: object, properties: {id: {type: string}}}",
    );
    let head = graph_spec(
        20,
        all_of,
        "{type: object, properties: {id: {type: integer}}}",
    );
    assert_eq!(
        breaking_of(&base, &head),
        (
            vec![(BreakingKind::ChangedType, "response 200 .id".to_owned())],
            None
        )
    );
    assert_eq!(breaking_of(&base, &base), (vec![], None));

    // Each level has four properties that are the next level (4^20 property paths): the
    // shared schema is compared once, where it is first used.
    let props = |i: usize| {
        let r = format!("{{$ref: '#/components/schemas/S{}'}}", i + 1);
        format!("{{type: object, properties: {{a: {r}, b: {r}, c: {r}, d: {r}}}}}")
    };
    let base = graph_spec(20, props, "{type: string}");
    let head = graph_spec(20, props, "{type: integer}");
    let (found, incomplete) = breaking_of(&base, &head);
    assert_eq!(incomplete, None);
    assert_eq!(
        found,
        vec![(
            BreakingKind::ChangedType,
            format!("response 200 {}", ".a".repeat(20))
        )]
    );
}

/// The `api.breaking_changes` gate (failing, not informational) of `head` against `base`.
fn breaking_gate(base: &Spec, head: &Spec) -> controlgate::model::gate::Gate {
    let cfg = api_config("api:\n  breaking_changes: {value: true, informational: false}\n");
    let mut section = Analyzer::new(head, &cfg)
        .unwrap()
        .finish(Some(base), vec![]);
    gates(&cfg, &mut section, None)
        .into_iter()
        .find(|g| g.name == "api.breaking_changes")
        .unwrap()
}

#[test]
fn drift_too_deep_to_compare_is_not_a_passing_breaking_changes_gate() {
    // 80 nested levels, each its own schema: past the depth drift follows. What it could not
    // compare may hide a breaking change, so the gate is not evaluated and fails.
    let nest = |i: usize| {
        format!(
            "{{type: object, properties: {{next: {{$ref: '#/components/schemas/S{}'}}}}}}",
            i + 1
        )
    };
    let base = graph_spec(80, nest, "{type: string}");
    let head = graph_spec(80, nest, "{type: string}");
    let (found, incomplete) = breaking_of(&base, &head);
    assert!(found.is_empty(), "{found:?}");
    let why = incomplete.expect("the comparison says it stopped");
    assert!(
        why.contains("GET /x") && why.contains("deeper than 64"),
        "{why}"
    );

    let gate = breaking_gate(&base, &head);
    assert!(!gate.passed, "{gate:?}");
    assert!(
        gate.detail.contains("not compared in full"),
        "{}",
        gate.detail
    );

    // A schema whose `allOf` includes itself (through another) has nothing to compare.
    let part_of = |i: usize| format!("{{allOf: [{{$ref: '#/components/schemas/S{}'}}]}}", i + 1);
    let cyclic = graph_spec(
        1,
        part_of,
        "{allOf: [{$ref: '#/components/schemas/S0'}, {type: object}]}",
    );
    let (found, incomplete) = breaking_of(&cyclic, &cyclic);
    assert!(found.is_empty(), "{found:?}");
    assert!(incomplete.is_some_and(|w| w.contains("includes itself")));

    // Within the depth, the same shape compares in full and the gate holds.
    let base = graph_spec(40, nest, "{type: string}");
    let gate = breaking_gate(&base, &base);
    assert!(gate.passed && gate.status == GateStatus::Pass, "{gate:?}");
}
