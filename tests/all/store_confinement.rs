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
fn a_local_remotes_hooks_do_not_run_and_git_gets_no_credential() {
    let dir = repo();
    let r = dir.path();
    std::fs::write(r.join("r.xml"), JUNIT).unwrap();
    git(r, &["init", "-q", "--bare", "evil"]);
    let marks = tempfile::tempdir().unwrap();
    let mark = marks.path().join("hook-ran");
    let hook = r.join("evil/hooks/pre-receive");
    std::fs::write(&hook, format!("#!/bin/sh\nenv > '{}'\n", mark.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        r.join("c.yml"),
        "evidence:\n  store: {type: git, remote: evil}\n",
    )
    .unwrap();
    let o = report(
        r,
        true,
        &[("INPUT_GITHUB-TOKEN", TOKEN), ("GITHUB_TOKEN", TOKEN)],
    );
    exits(&o, 0);
    assert!(!mark.exists(), "the remote's hook ran");
    let tip = git(
        &r.join("evil"),
        &["rev-parse", "--verify", "controlgate-evidence"],
    );
    assert_eq!(tip.trim().len(), 40, "the evidence was pushed: {tip}");
    // The hook is live: a plain push runs it.
    git(r, &["commit", "-q", "--allow-empty", "-m", "x"]);
    git(r, &["push", "-q", "evil", "HEAD:refs/heads/other"]);
    assert!(mark.exists(), "the hook did not run on a plain push");
}

#[test]
fn a_store_workdir_the_checkout_provides_is_refused_under_actions() {
    let dir = repo();
    let r = dir.path();
    std::fs::write(r.join("r.xml"), JUNIT).unwrap();
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare"]);
    git(r, &["init", "-q", "planted"]);
    std::fs::write(
        r.join("c.yml"),
        format!(
            "evidence:\n  store: {{type: git, remote: '{}', workdir: planted}}\n",
            remote.path().display()
        ),
    )
    .unwrap();
    let o = report(r, true, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("evidence.store.workdir") && err.contains("inside the workspace"),
        "{err}"
    );
    // Outside Actions the user's own workdir is used.
    exits(&report(r, false, &[]), 0);
    // Nor a directory laid out as a bare repository (git takes it for one).
    std::fs::remove_dir_all(r.join("planted")).unwrap();
    git(r, &["init", "-q", "--bare", "planted"]);
    let o = report(r, true, &[]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("inside the workspace"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
