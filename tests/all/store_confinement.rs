//! A `git` evidence store named by the config, which under GitHub Actions is the pull request's
//! own (the checkout's `.github/controlgate.yml`): it must not send the job's credentials to a
//! host of its choosing, run the hooks of a repository it provides, or run git in a repository
//! whose config it wrote. Through the binary, with real git, a bare remote and a listening
//! socket that records what reaches it.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use crate::coverage_util::git;
use crate::evidence_cli::{exits, repo};

const JUNIT: &str = r#"<testsuite name="s"><testcase classname="a" name="t [cc6-1]"/></testsuite>"#;
const TOKEN: &str = "tok_deploy_0123456789_secret";

/// `report` of `r.xml` with `c.yml`; `actions`: as a step of a GitHub Actions job would run it.
fn report(dir: &Path, actions: bool, extra_env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_controlgate"));
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["report", "--results", "r.xml", "--config", "c.yml"]);
    if actions {
        c.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", dir)
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "acme/pay");
    }
    for (k, v) in extra_env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// A TCP listener on loopback recording the head of every request and answering 404.
fn recorder() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x.git", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).into_owned());
            let _ = conn.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (url, seen)
}

#[test]
fn a_pull_requests_config_cannot_send_the_store_token_to_another_host() {
    let dir = repo();
    let r = dir.path();
    std::fs::write(r.join("r.xml"), JUNIT).unwrap();
    let (url, seen) = recorder();
    std::fs::write(
        r.join("c.yml"),
        format!("evidence:\n  store: {{type: git, remote: '{url}', token_env: DEPLOY_TOKEN}}\n"),
    )
    .unwrap();
    let env = [("DEPLOY_TOKEN", TOKEN)];
    let o = report(r, true, &env);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("sent only to the GitHub server the workflow runs on (https://github.com)"),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "{err}");
    assert_eq!(*seen.lock().unwrap(), Vec::<String>::new());
    // The user's own config outside Actions is trusted: the same store gets the token (what
    // the listener would have seen from a pull request).
    let o = report(r, false, &env);
    assert_ne!(o.status.code(), Some(0));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{TOKEN}"));
    let heads = seen.lock().unwrap().clone();
    assert!(
        heads
            .iter()
            .any(|h| h.to_ascii_lowercase().contains(&basic.to_ascii_lowercase())),
        "{heads:?}"
    );
}

#[test]
fn a_local_remotes_hooks_do_not_run_and_one_in_the_workspace_is_refused() {
    let dir = repo();
    let r = dir.path();
    std::fs::write(r.join("r.xml"), JUNIT).unwrap();
    // A bare remote outside the workspace, with a hook and an alternate-refs command that
    // leave a mark (a suite could have planted it: it runs as this user).
    let outside = tempfile::tempdir().unwrap();
    let evil = outside.path().join("evil.git");
    git(outside.path(), &["init", "-q", "--bare", "evil.git"]);
    let mark = outside.path().join("hook-ran");
    let script = |name: &str| {
        let p = evil.join(name);
        std::fs::write(&p, format!("#!/bin/sh\nenv >> '{}'\n", mark.display())).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    };
    script("hooks/pre-receive");
    let alt = script("alt-refs");
    git(
        &evil,
        &["config", "core.alternateRefsCommand", alt.to_str().unwrap()],
    );
    let other = outside.path().join("other.git");
    git(outside.path(), &["init", "-q", "--bare", "other.git"]);
    std::fs::write(
        evil.join("objects/info/alternates"),
        format!("{}\n", other.join("objects").display()),
    )
    .unwrap();
    std::fs::write(
        r.join("c.yml"),
        format!(
            "evidence:\n  store: {{type: git, remote: '{}'}}\n",
            evil.display()
        ),
    )
    .unwrap();
    let o = report(
        r,
        true,
        &[("INPUT_GITHUB-TOKEN", TOKEN), ("GITHUB_TOKEN", TOKEN)],
    );
    exits(&o, 0);
    assert!(
        !mark.exists(),
        "the remote's hook or alternate-refs command ran"
    );
    let tip = git(&evil, &["rev-parse", "--verify", "controlgate-evidence"]);
    assert_eq!(tip.trim().len(), 40, "the evidence was pushed: {tip}");
    // Both are live: a plain push runs them.
    git(r, &["commit", "-q", "--allow-empty", "-m", "x"]);
    git(
        r,
        &[
            "push",
            "-q",
            evil.to_str().unwrap(),
            "HEAD:refs/heads/other",
        ],
    );
    assert!(mark.exists(), "the hook did not run on a plain push");

    // A remote among the pull request's own files is no evidence store, as a path or a
    // `file://` URL; the bundle is kept in the fallback directory.
    git(r, &["init", "-q", "--bare", "planted.git"]);
    for remote in [
        "planted.git",
        &format!("file://{}/planted.git", r.display()),
    ] {
        std::fs::write(
            r.join("c.yml"),
            format!("evidence:\n  store: {{type: git, remote: '{remote}'}}\n"),
        )
        .unwrap();
        let o = report(r, true, &[]);
        exits(&o, 1);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("is a directory of the workspace"),
            "{remote}: {err}"
        );
        assert!(err.contains("kept locally"), "{remote}: {err}");
    }
}

#[test]
fn a_store_workdir_that_was_there_before_the_run_is_refused_under_actions() {
    let dir = repo();
    let r = dir.path();
    std::fs::write(r.join("r.xml"), JUNIT).unwrap();
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare"]);
    let outside = tempfile::tempdir().unwrap();
    let planted_outside = outside.path().join("wd");
    for (name, workdir) in [
        ("in the workspace", "planted".to_owned()),
        ("outside it", planted_outside.display().to_string()),
    ] {
        git(r, &["init", "-q", &workdir]);
        std::fs::write(
            r.join("c.yml"),
            format!(
                "evidence:\n  store: {{type: git, remote: '{}', workdir: '{workdir}'}}\n",
                remote.path().display()
            ),
        )
        .unwrap();
        let o = report(r, true, &[]);
        exits(&o, 1);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("evidence.store.workdir") && err.contains("exists already"),
            "{name}: {err}"
        );
        assert!(err.contains("kept locally"), "{name}: {err}");
        // Outside Actions the user's own workdir is used.
        exits(&report(r, false, &[]), 0);
    }
    // One that does not exist yet is made, and taken back by the same run's second open (the
    // base lookup, then the append).
    std::fs::write(
        r.join("c.yml"),
        format!(
            "evidence:\n  store: {{type: git, remote: '{}', workdir: fresh}}\n",
            remote.path().display()
        ),
    )
    .unwrap();
    exits(&report(r, true, &[]), 0);
    assert!(r.join("fresh/.git").is_dir());
}

/// git's global config is the user's, which a suite (the pull request's code, as this user)
/// can write: under Actions the store's git reads none, and the token's header is scoped to the
/// GitHub server, so a rewritten URL would not carry it either.
#[test]
fn a_global_git_config_a_suite_could_write_does_not_redirect_the_store() {
    let dir = repo();
    let r = dir.path();
    std::fs::write(r.join("r.xml"), JUNIT).unwrap();
    let (url, seen) = recorder();
    let home = tempfile::tempdir().unwrap();
    let base = url.trim_end_matches("x.git");
    std::fs::write(
        home.path().join(".gitconfig"),
        format!("[url \"{base}\"]\n\tinsteadOf = https://github.com/\n"),
    )
    .unwrap();
    std::fs::write(
        r.join("c.yml"),
        "evidence:\n  store: {type: git, remote: 'https://github.com/x.git', token_env: DEPLOY_TOKEN}\n",
    )
    .unwrap();
    let home_s = home.path().to_str().unwrap();
    let env = [("DEPLOY_TOKEN", TOKEN), ("HOME", home_s)];
    let o = report(r, true, &env);
    assert_ne!(o.status.code(), Some(0));
    assert_eq!(*seen.lock().unwrap(), Vec::<String>::new());
    // The user's own global config outside Actions is read (the request reaches the
    // listener), and still carries no token: the header is for github.com alone.
    let o = report(r, false, &env);
    assert_ne!(o.status.code(), Some(0));
    let heads = seen.lock().unwrap().clone();
    assert!(!heads.is_empty(), "the global config was not read");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{TOKEN}"));
    assert!(heads.iter().all(|h| !h.contains(&basic)), "{heads:?}");
}

/// The default `remote: origin` is the repository's remote even when the checkout holds a
/// directory named `origin` laid out as a bare repository.
#[test]
fn a_directory_named_like_the_remote_does_not_stand_in_for_it() {
    let dir = repo();
    let r = dir.path();
    std::fs::write(r.join("r.xml"), JUNIT).unwrap();
    let real = tempfile::tempdir().unwrap();
    git(real.path(), &["init", "-q", "--bare"]);
    git(
        r,
        &["remote", "add", "origin", real.path().to_str().unwrap()],
    );
    git(r, &["init", "-q", "--bare", "origin"]);
    std::fs::write(r.join("c.yml"), "evidence:\n  store: {type: git}\n").unwrap();
    exits(&report(r, true, &[]), 0);
    let tip = git(
        real.path(),
        &["rev-parse", "--verify", "controlgate-evidence"],
    );
    assert_eq!(tip.trim().len(), 40, "{tip}");
    let planted = std::process::Command::new("git")
        .args(["rev-parse", "--verify", "-q", "controlgate-evidence"])
        .current_dir(r.join("origin"))
        .output()
        .unwrap();
    assert!(!planted.status.success(), "the evidence went to ./origin");
}

/// The config's API descriptions, and every file they `$ref`, are read from the repository
/// only: what is read is kept in the evidence (for years, perhaps in a public branch), and a
/// `$ref` out of the checkout copied a runner's file there. A device or FIFO is no description.
#[test]
fn the_configs_api_descriptions_are_read_from_the_repository_only() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("config.json");
    std::fs::write(&secret, r#"{"auths": {"pw": "hunter2-db-password-prod"}}"#).unwrap();
    let dir = repo();
    let r = dir.path();
    std::fs::write(r.join("r.xml"), JUNIT).unwrap();
    std::fs::write(r.join("c.yml"), "api:\n  specs: [api.yaml]\n").unwrap();
    let spec = |target: &str| {
        format!(
            "openapi: 3.0.0\ninfo: {{title: t, version: '1'}}\npaths:\n  /a:\n    get:\n      \
             responses:\n        '200':\n          description: ok\n          content:\n            \
             application/json:\n              schema: {{$ref: '{target}#/auths'}}\n"
        )
    };
    git(r, &["add", "-A"]);
    git(r, &["commit", "-qm", "base"]);
    for (target, why) in [
        (secret.display().to_string(), "outside the repository"),
        (
            format!(
                "../{}/config.json",
                outside.path().file_name().unwrap().to_str().unwrap()
            ),
            "outside the repository",
        ),
        ("/dev/zero".to_owned(), "not a regular file"),
    ] {
        std::fs::write(r.join("api.yaml"), spec(&target)).unwrap();
        let mut c = Command::new(env!("CARGO_BIN_EXE_controlgate"));
        let o = c
            .current_dir(r)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(["report", "--results", "r.xml", "--config", "c.yml"])
            .args(["--evidence", "ev", "--format", "json"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{target}: {err}");
        assert!(err.contains(why), "{target}: {err}");
        assert!(!String::from_utf8_lossy(&o.stdout).contains("hunter2"));
        assert!(!r.join("ev").exists(), "{target}: something was retained");
    }
    // Inside the repository it is read.
    std::fs::write(r.join("schemas.json"), r#"{"auths": {"type": "object"}}"#).unwrap();
    std::fs::write(r.join("api.yaml"), spec("schemas.json")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_controlgate"))
        .current_dir(r)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["report", "--results", "r.xml", "--config", "c.yml"])
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
