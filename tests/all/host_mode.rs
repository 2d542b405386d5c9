//! Host mode (`host/action.yml`, every runner OS): the same inputs and outputs as the Docker
//! action, the installer against a loopback server serving a release (download, SHA-256 check
//! against SHA256SUMS, tool cache), and the composite's steps run as the runner runs them.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_yaml_ng::Value;

use crate::github_fake::{stand, write};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &str) -> Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

#[test]
fn host_action_has_the_docker_actions_inputs_and_outputs() {
    let docker = yaml("action.yml");
    let host = yaml("host/action.yml");
    assert_eq!(docker["inputs"], host["inputs"], "inputs differ");
    let (d_out, h_out) = (
        docker["outputs"].as_mapping().unwrap(),
        host["outputs"].as_mapping().unwrap(),
    );
    assert_eq!(
        d_out.keys().collect::<Vec<_>>(),
        h_out.keys().collect::<Vec<_>>()
    );
    for (name, spec) in d_out {
        let name = name.as_str().unwrap();
        assert_eq!(spec["description"], h_out[name]["description"], "{name}");
        assert_eq!(
            h_out[name]["value"].as_str(),
            Some(format!("${{{{ steps.run.outputs.{name} }}}}").as_str()),
            "{name}"
        );
    }
    // Every input reaches the binary as the Docker runner passes it: INPUT_<NAME>.
    let steps = host["runs"]["steps"].as_sequence().unwrap();
    let run = steps.iter().find(|s| s["id"] == "run").unwrap();
    for name in docker["inputs"].as_mapping().unwrap().keys() {
        let name = name.as_str().unwrap();
        assert_eq!(
            run["env"][format!("INPUT_{}", name.to_uppercase()).as_str()].as_str(),
            Some(format!("${{{{ inputs.{name} }}}}").as_str()),
            "{name}"
        );
    }
    // The step's shell holds every input (tokens included) in its environment: it must not
    // stay alive as controlgate's parent, where a suite running as the same user could read
    // `/proc/<ppid>/environ` (controlgate itself is not dumpable).
    let script = run["run"].as_str().unwrap();
    assert!(
        script.trim_start().starts_with("exec "),
        "the run step must exec controlgate: {script}"
    );
}

/// A loopback HTTP server serving fixed files, counting the requests it answered.
struct Release {
    url: String,
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Release {
    fn start() -> Release {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let files: Arc<Mutex<BTreeMap<String, Vec<u8>>>> = Arc::default();
        let hits: Arc<Mutex<Vec<String>>> = Arc::default();
        let (f, h) = (files.clone(), hits.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut buf = [0u8; 4096];
                let n = conn.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                let path = req.split_whitespace().nth(1).unwrap_or("").to_owned();
                h.lock().unwrap().push(path.clone());
                let body = f.lock().unwrap().get(&path).cloned();
                let (status, body) = match body {
                    Some(b) => ("200 OK", b),
                    None => ("404 Not Found", b"not found".to_vec()),
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(&body);
            }
        });
        Release { url, files, hits }
    }

    /// Publishes release `version` holding `binary` for `target` (and its SHA256SUMS).
    fn publish(&self, version: &str, target: &str, binary: &Path, tmp: &Path) -> Vec<u8> {
        let stage = tmp.join(format!("stage-{version}"));
        std::fs::create_dir_all(&stage).unwrap();
        std::fs::copy(binary, stage.join("controlgate")).unwrap();
        let asset = format!("controlgate-{version}-{target}.tar.gz");
        let out = Command::new("tar")
            .arg("-czf")
            .arg(tmp.join(&asset))
            .arg("-C")
            .arg(&stage)
            .arg("controlgate")
            .status()
            .unwrap();
        assert!(out.success());
        let bytes = std::fs::read(tmp.join(&asset)).unwrap();
        let sum = controlgate::retain::canonical::sha256_hex(&bytes);
        let mut f = self.files.lock().unwrap();
        f.insert(format!("/v{version}/{asset}"), bytes.clone());
        f.insert(
            format!("/v{version}/SHA256SUMS"),
            format!("{sum}  {asset}\n").into_bytes(),
        );
        bytes
    }
}

struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Runner {
        Runner {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs a step's script with bash, as the runner does for `shell: bash`.
    fn step(&self, script: &str, env: &[(String, String)]) -> std::process::Output {
        let _ = std::fs::remove_file(self.path("step-output"));
        Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(self.path("workspace"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GITHUB_ACTION_PATH", root().join("host"))
            .env("GITHUB_PATH", self.path("github-path"))
            .env("GITHUB_OUTPUT", self.path("step-output"))
            .env("RUNNER_TOOL_CACHE", self.path("toolcache"))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap()
    }

    fn output(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.path("step-output"))
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }
}

fn install_env(release: &Release, version: &str) -> Vec<(String, String)> {
    vec![
        ("CONTROLGATE_VERSION".into(), version.into()),
        (
            "CONTROLGATE_RELEASE_URL".into(),
            format!("{}/v{version}", release.url),
        ),
    ]
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn the_installer_checks_the_release_binary_and_caches_it() {
    let release = Release::start();
    let runner = Runner::new();
    std::fs::create_dir_all(runner.path("workspace")).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_controlgate"));
    release.publish(
        "9.9.9",
        "x86_64-unknown-linux-musl",
        &bin,
        runner.dir.path(),
    );
    let install = "bash \"$GITHUB_ACTION_PATH/install.sh\"";

    let o = runner.step(install, &install_env(&release, "9.9.9"));
    assert!(o.status.success(), "{}", text(&o));
    let installed = runner.output("path").unwrap();
    let cache = runner.path("toolcache/controlgate/9.9.9/x86_64-unknown-linux-musl");
    assert_eq!(PathBuf::from(&installed), cache.join("controlgate"));
    let v = Command::new(&installed).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("controlgate "));
    let path = std::fs::read_to_string(runner.path("github-path")).unwrap();
    assert_eq!(path.trim(), cache.display().to_string());
    assert_eq!(
        release.hits.lock().unwrap().len(),
        2,
        "the asset and SHA256SUMS"
    );

    // Again: from the tool cache, nothing downloaded.
    let o = runner.step(install, &install_env(&release, "9.9.9"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("from the tool cache"), "{}", text(&o));
    assert_eq!(release.hits.lock().unwrap().len(), 2);

    // An asset that does not match SHA256SUMS is refused and not installed.
    release.publish(
        "9.9.8",
        "x86_64-unknown-linux-musl",
        &bin,
        runner.dir.path(),
    );
    release.files.lock().unwrap().insert(
        "/v9.9.8/controlgate-9.9.8-x86_64-unknown-linux-musl.tar.gz".into(),
        b"tampered".to_vec(),
    );
    let o = runner.step(install, &install_env(&release, "9.9.8"));
    assert!(!o.status.success());
    assert!(text(&o).contains("refusing it"), "{}", text(&o));
    assert!(
        !runner
            .path("toolcache/controlgate/9.9.8/x86_64-unknown-linux-musl/controlgate")
            .exists()
    );

    // Each runner OS and architecture names its own asset; others are refused.
    for (os, arch, target) in [
        ("macOS", "ARM64", "aarch64-apple-darwin"),
        ("Windows", "X64", "x86_64-pc-windows-msvc"),
    ] {
        let mut env = install_env(&release, "9.9.7");
        env.push(("RUNNER_OS".into(), os.into()));
        env.push(("RUNNER_ARCH".into(), arch.into()));
        let o = runner.step(install, &env);
        assert!(!o.status.success());
        assert!(
            text(&o).contains(&format!("controlgate-9.9.7-{target}.tar.gz")),
            "{}",
            text(&o)
        );
    }
    let mut env = install_env(&release, "9.9.9");
    env.push(("RUNNER_ARCH".into(), "ARM".into()));
    let o = runner.step(install, &env);
    assert!(!o.status.success());
    assert!(text(&o).contains("no controlgate release binary for Linux/ARM"));
}

/// `${{ inputs.x }}`, `${{ steps.install.outputs.path }}`, `${{ github.action_repository }}`.
fn resolve(value: &str, inputs: &BTreeMap<String, String>, exe: &str) -> String {
    let Some(expr) = value
        .strip_prefix("${{ ")
        .and_then(|v| v.strip_suffix(" }}"))
    else {
        return value.to_owned();
    };
    if let Some(name) = expr.strip_prefix("inputs.") {
        return inputs.get(name).cloned().unwrap_or_default();
    }
    match expr {
        "steps.install.outputs.path" => exe.to_owned(),
        "github.action_repository" => "controlgate/controlgate".to_owned(),
        other => panic!("unexpected expression {other}"),
    }
}

#[test]
fn the_host_composite_runs_its_steps_like_the_runner() {
    let host = yaml("host/action.yml");
    let version = host["runs"]["steps"][0]["env"]["CONTROLGATE_VERSION"]
        .as_str()
        .unwrap()
        .to_owned();
    let release = Release::start();
    let runner = Runner::new();
    let ws = runner.path("workspace");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_controlgate"));
    release.publish(
        &version,
        "x86_64-unknown-linux-musl",
        &bin,
        runner.dir.path(),
    );
    let s = stand();
    let repo = s.repo("host-mode", |_| {});
    write(
        &ws.join("junit.xml"),
        "<testsuite name=\"s\"><testcase classname=\"a\" name=\"t [cc8-1]\"/></testsuite>",
    );
    let event = serde_json::json!({"pull_request": {"number": 5, "head": {"sha": "6".repeat(40)},
        "base": {"ref": "main", "sha": "7".repeat(40)}}});
    write(&runner.path("event.json"), &event.to_string());

    // The workflow's `with:`, over the inputs' defaults.
    let mut inputs: BTreeMap<String, String> = BTreeMap::new();
    for (name, spec) in host["inputs"].as_mapping().unwrap() {
        let default = spec["default"].as_str().unwrap_or("").to_owned();
        inputs.insert(name.as_str().unwrap().to_owned(), default);
    }
    inputs.insert("github-token".into(), "ghs_host_mode_token".into());
    inputs.insert("junit".into(), "junit.xml".into());

    let context: Vec<(String, String)> = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_RUN_ID", "11"),
        ("GITHUB_RUN_ATTEMPT", "1"),
        ("GITHUB_SERVER_URL", "https://github.com"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([
        ("GITHUB_WORKSPACE".into(), ws.display().to_string()),
        (
            "GITHUB_EVENT_PATH".into(),
            runner.path("event.json").display().to_string(),
        ),
        ("GITHUB_API_URL".into(), s.prism_url.clone()),
        ("GITHUB_REPOSITORY".into(), repo.clone()),
        (
            "GITHUB_STEP_SUMMARY".into(),
            runner.path("summary.md").display().to_string(),
        ),
        (
            "CONTROLGATE_RELEASE_URL".into(),
            format!("{}/v{version}", release.url),
        ),
    ])
    .collect();

    let mut exe = String::new();
    for step in host["runs"]["steps"].as_sequence().unwrap() {
        assert_eq!(step["shell"], "bash");
        let mut env = context.clone();
        for (k, v) in step["env"].as_mapping().unwrap() {
            env.push((
                k.as_str().unwrap().to_owned(),
                resolve(v.as_str().unwrap(), &inputs, &exe),
            ));
        }
        let o = runner.step(step["run"].as_str().unwrap(), &env);
        assert!(o.status.success(), "step {:?}: {}", step["id"], text(&o));
        if step["id"] == "install" {
            exe = runner.output("path").unwrap();
        } else {
            assert_eq!(runner.output("verdict").as_deref(), Some("pass"));
        }
    }
    s.with(&repo, |st| {
        assert_eq!(st.comments.len(), 1, "one PR comment");
        assert_eq!(st.check_runs.len(), 1, "one check run");
    });
    assert!(
        std::fs::read_to_string(runner.path("summary.md"))
            .unwrap()
            .contains("controlgate")
    );
}
