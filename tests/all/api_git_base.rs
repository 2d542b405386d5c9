//! Drift against the description at the merge-base, read with git (no `--api-base-spec`).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::coverage_util::git;

const JUNIT: &str =
    r#"<testsuite name="s" tests="1"><testcase classname="api" name="ok"/></testsuite>"#;
const CONFIG: &str = "version: 1\napi:\n  specs: [api/openapi.yaml]\n";

/// `openapi.yaml` (the `Pet` schema `$ref`d from `schemas.yaml`): `GET /pets` and
/// `DELETE /pets/{id}` unless `delete` is false; `Pet` has `name` and, if `tag`, `tag`.
fn write_spec(dir: &Path, delete: bool, tag: bool) {
    std::fs::create_dir_all(dir.join("api")).unwrap();
    let mut spec = String::from(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /pets:\n    get:\n      \
         operationId: listPets\n      responses:\n        '200':\n          description: ok\n          \
         content:\n            application/json:\n              schema: {$ref: 'schemas.yaml#/Pet'}\n",
    );
    if delete {
        spec.push_str(
            "  /pets/{id}:\n    delete:\n      operationId: deletePet\n      parameters:\n        \
             - {name: id, in: path, required: true, schema: {type: string}}\n      responses:\n        \
             '204': {description: gone}\n",
        );
    }
    std::fs::write(dir.join("api/openapi.yaml"), spec).unwrap();
    let mut schemas =
        String::from("Pet:\n  type: object\n  properties:\n    name: {type: string}\n");
    if tag {
        schemas.push_str("    tag: {type: string}\n");
    }
    std::fs::write(dir.join("api/schemas.yaml"), schemas).unwrap();
}

fn repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git(d, &["init", "-q"]);
    std::fs::write(d.join("c.yml"), CONFIG).unwrap();
    std::fs::write(d.join("j.xml"), JUNIT).unwrap();
    git(d, &["add", "c.yml", "j.xml"]);
    git(d, &["commit", "-q", "-m", "init"]);
    tmp
}

/// `controlgate report` on the repository at `dir` against `main`, with `extra` arguments.
fn run_report(dir: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_controlgate"))
        .current_dir(dir)
        .args([
            "report", "--junit", "j.xml", "--config", "c.yml", "--base", "main",
        ])
        .args(extra)
        .output()
        .unwrap()
}

fn report_json(dir: &Path) -> Value {
    let out = run_report(dir, &["--format", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn breaking_changes_against_the_merge_base_description() {
    let tmp = repo();
    let d = tmp.path();
    write_spec(d, true, true);
    git(d, &["add", "api"]);
    git(d, &["commit", "-q", "-m", "api"]);
    let merge_base = git(d, &["rev-parse", "HEAD"]).trim().to_owned();
    git(d, &["checkout", "-q", "-b", "feature"]);
    write_spec(d, false, false);
    git(d, &["commit", "-q", "-am", "drop delete and Pet.tag"]);
    // main moves on: the base is the merge-base, not main's tip.
    git(d, &["checkout", "-q", "main"]);
    std::fs::write(d.join("api/openapi.yaml"), "not: [an openapi").unwrap();
    git(d, &["commit", "-q", "-am", "main moves on"]);
    git(d, &["checkout", "-q", "feature"]);

    let v = report_json(d);
    let api = &v["api"];
    assert_eq!(api["base"], merge_base.as_str(), "{api:#}");
    let drift = &api["drift"];
    assert_eq!(drift["removed"], serde_json::json!(["DELETE /pets/{id}"]));
    assert_eq!(drift["added"], serde_json::json!([]));
    let breaking: Vec<(String, String, String)> = drift["breaking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let s = |k: &str| b[k].as_str().unwrap().to_owned();
            (s("kind"), s("operation"), s("location"))
        })
        .collect();
    assert!(
        breaking
            .iter()
            .any(|b| b.0 == "removed_operation" && b.1 == "DELETE /pets/{id}"),
        "{breaking:?}"
    );
    assert!(
        breaking.iter().any(|b| b.0 == "removed_response_property"
            && b.1 == "GET /pets"
            && b.2.contains(".tag")),
        "{breaking:?}"
    );
    let base_inputs: Vec<&str> = api["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "base_spec")
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        base_inputs.len(),
        2,
        "root and $ref'd file: {base_inputs:?}"
    );
    let gate = v["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "api.breaking_changes" || g["name"] == "api.breaking_changes");
    assert!(gate.is_some(), "{:#}", v["gates"]);
}

#[test]
fn spec_added_on_the_branch_has_an_empty_base() {
    let tmp = repo();
    let d = tmp.path();
    git(d, &["checkout", "-q", "-b", "feature"]);
    write_spec(d, true, true);
    git(d, &["add", "api"]);
    git(d, &["commit", "-q", "-m", "new api"]);

    let v = report_json(d);
    let drift = &v["api"]["drift"];
    assert_eq!(
        drift["added"],
        serde_json::json!(["GET /pets", "DELETE /pets/{id}"]),
        "{drift:#}"
    );
    assert_eq!(drift["removed"], serde_json::json!([]));
    assert_eq!(drift["breaking"], serde_json::json!([]));
}

#[test]
fn outside_git_drift_is_skipped_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("c.yml"), CONFIG).unwrap();
    std::fs::write(d.join("j.xml"), JUNIT).unwrap();
    write_spec(d, true, true);
    let v = report_json(d);
    let api = &v["api"];
    assert!(api.get("drift").is_none(), "{api:#}");
    assert!(api.get("base").is_none(), "{api:#}");
    let warnings = api["warnings"].to_string();
    assert!(warnings.contains("API drift not computed"), "{warnings}");
}

/// A base description read from git is identified by its digest and the merge-base SHA, not
/// copied from the working tree: a `$ref`d file the branch deleted must not stop the evidence.
#[test]
fn evidence_keeps_the_head_description_when_the_branch_deleted_a_base_file() {
    let tmp = repo();
    let d = tmp.path();
    write_spec(d, true, true);
    git(d, &["add", "api"]);
    git(d, &["commit", "-q", "-m", "api"]);
    git(d, &["checkout", "-q", "-b", "feature"]);
    let inline = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /pets:\n    get:\n      \
                  responses:\n        '200': {description: ok}\n";
    std::fs::write(d.join("api/openapi.yaml"), inline).unwrap();
    git(d, &["rm", "-q", "api/schemas.yaml"]);
    git(d, &["commit", "-q", "-am", "inline the schema"]);

    let out = Command::new(env!("CARGO_BIN_EXE_controlgate"))
        .current_dir(d)
        .args([
            "report", "--junit", "j.xml", "--config", "c.yml", "--base", "main",
        ])
        .args(["--evidence", "ev"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("ledger entry #1"));
    let bundle = std::fs::read_dir(d.join("ev/bundles"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(
        std::fs::read_to_string(bundle.join("inputs/api/openapi.yaml")).unwrap(),
        inline
    );
    assert!(!bundle.join("inputs/api/schemas.yaml").exists());
    let report: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("report.json")).unwrap()).unwrap();
    let base_paths: Vec<&str> = report["api"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "base_spec")
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert!(base_paths.contains(&"api/schemas.yaml"), "{base_paths:?}");
}

/// A PR run's API coverage is compared with the run recorded in the evidence ledger for the
/// merge-base, as line coverage is.
#[test]
fn api_coverage_delta_against_the_merge_base_run_in_the_ledger() {
    let tmp = repo();
    let d = tmp.path();
    write_spec(d, true, true);
    std::fs::write(d.join(".gitignore"), "ev/\ncalls.jsonl\n").unwrap();
    git(d, &["add", "api", ".gitignore"]);
    git(d, &["commit", "-q", "-m", "api"]);
    let calls = |lines: &[&str]| std::fs::write(d.join("calls.jsonl"), lines.join("\n")).unwrap();
    let get = r#"{"method": "GET", "url": "/pets", "status": 200}"#;
    let delete = r#"{"method": "DELETE", "url": "/pets/7", "status": 204}"#;
    let json_of = |o: &std::process::Output| -> Value {
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
    };
    let run = || {
        run_report(
            d,
            &[
                "--api-log",
                "calls.jsonl",
                "--evidence",
                "ev",
                "--format",
                "json",
            ],
        )
    };

    // The main-branch run: 1 of 2 operations, and nothing in the ledger to compare with.
    calls(&[get]);
    let first = json_of(&run());
    assert_eq!(first["api"]["coverage"]["percent"], 50.0);
    assert!(first["api"].get("delta_pp").is_none(), "{:#}", first["api"]);
    let warnings = first["api"]["warnings"].to_string();
    assert!(
        warnings.contains("API coverage delta: no base: the evidence ledger has no entries yet"),
        "{warnings}"
    );

    // The branch exercises both operations: +50 pp against entry #1 (the merge-base's run).
    git(d, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(
        d.join("j.xml"),
        JUNIT.replace("name=\"ok\"", "name=\"ok2\""),
    )
    .unwrap();
    git(d, &["commit", "-q", "-am", "more tests"]);
    calls(&[get, delete]);
    let second = json_of(&run());
    let api = &second["api"];
    assert_eq!(api["delta_pp"], 50.0, "{api:#}");
    let base = api["delta_base"].as_str().unwrap();
    assert!(
        base.starts_with("ledger entry #1 for commit ") && base.ends_with("the merge-base"),
        "{base}"
    );
    let bundles: Vec<_> = std::fs::read_dir(d.join("ev/bundles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let summaries: Vec<String> = bundles
        .iter()
        .map(|b| std::fs::read_to_string(b.join("summary.md")).unwrap())
        .collect();
    assert!(
        summaries.iter().any(
            |s| s.contains("(100.0%)") && s.contains("(+50.0 pp vs ledger entry &#35;&#8203;1")
        ),
        "{summaries:#?}"
    );
    // The ledger records API coverage and the delta for later runs and the auditor.
    let mut entries: Vec<_> = std::fs::read_dir(d.join("ev/ledger"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert_eq!(entries.len(), 2);
    let entry = std::fs::read_to_string(&entries[1]).unwrap();
    assert!(
        entry.contains(r#""api":{"delta_pp":"50.00","percent":"100.00"}"#),
        "{entry}"
    );
}
