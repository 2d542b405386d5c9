//! Container smoke test (opt-in: `CONTROLGATE_CONTAINER_TEST=1`; needs podman and a
//! `x86_64-unknown-linux-musl` release build, which this test runs).
//!
//! Builds the scratch image from the host-built static binary (`tests/container/Containerfile`,
//! the Dockerfile's final stage), then runs `controlgate run` in it the way GitHub runs a Docker
//! action: workspace mounted at `/github/workspace`, owned by another uid than the container's,
//! publishing to the loopback GitHub stand-in. Prints image size and start-up time.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::github_fake::{stand, write};

fn podman(args: &[&str]) -> std::process::Output {
    Command::new("podman")
        .args([
            "--storage-driver",
            "vfs",
            "--runtime",
            "runc",
            "--cgroup-manager",
            "cgroupfs",
        ])
        .args(args)
        .output()
        .expect("podman")
}

#[test]
fn container_image_runs_the_action() {
    if std::env::var_os("CONTROLGATE_CONTAINER_TEST").is_none() {
        eprintln!("container smoke test skipped: set CONTROLGATE_CONTAINER_TEST=1 to run it");
        return;
    }
    if Command::new("podman").arg("--version").output().is_err() {
        eprintln!("container smoke test SKIPPED: podman is not installed");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut cargo = Command::new(env!("CARGO"));
    // ring compiles C: Debian's musl-tools provides `musl-gcc`, not `x86_64-linux-musl-gcc`.
    if std::env::var_os("CC_x86_64_unknown_linux_musl").is_none()
        && Command::new("musl-gcc").arg("--version").output().is_ok()
    {
        cargo.env("CC_x86_64_unknown_linux_musl", "musl-gcc");
    }
    let build = cargo
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "x86_64-unknown-linux-musl",
            "--bin",
            "controlgate",
        ])
        .current_dir(&root)
        .status()
        .unwrap();
    assert!(
        build.success(),
        "musl build failed (on Debian: apt-get install musl-tools)"
    );
    let ctx = tempfile::tempdir().unwrap();
    // The Dockerfile builds with CARGO_PROFILE_RELEASE_STRIP=symbols; here the shared release
    // profile keeps line tables, so strip the copy instead.
    let built = root.join("target/x86_64-unknown-linux-musl/release/controlgate");
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(ctx.path().join("controlgate"))
        .arg(&built)
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        std::fs::copy(&built, ctx.path().join("controlgate")).unwrap();
    }
    std::fs::copy(
        "/etc/ssl/certs/ca-certificates.crt",
        ctx.path().join("ca-certificates.crt"),
    )
    .unwrap();
    std::fs::copy(
        root.join("tests/container/Containerfile"),
        ctx.path().join("Containerfile"),
    )
    .unwrap();
    let tag = "localhost/controlgate-smoke:test";
    let b = podman(&[
        "build",
        "-t",
        tag,
        "-f",
        "Containerfile",
        &ctx.path().to_string_lossy(),
    ]);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let size = podman(&["image", "inspect", tag, "--format", "{{.Size}}"]);
    let bytes: u64 = String::from_utf8_lossy(&size.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    eprintln!("image size: {bytes} bytes ({:.1} MB)", bytes as f64 / 1e6);
    assert!(bytes > 0 && bytes <= 15_000_000, "image must be ≤ 15 MB");

    let s = stand();
    let repo = s.repo("container", |_| {});
    let ws = tempfile::tempdir().unwrap();
    write(
        &ws.path().join("junit.xml"),
        "<testsuite name=\"s\"><testcase classname=\"a\" name=\"t [cc8-1]\"/></testsuite>",
    );
    let event = serde_json::json!({"pull_request": {"number": 3, "head": {"sha": "4".repeat(40)},
        "base": {"ref": "main", "sha": "5".repeat(40)}}});
    write(&ws.path().join("event.json"), &event.to_string());
    // The runner's uid owns the workspace, not the container's root.
    let chown = Command::new("chown")
        .args(["-R", "1001:1001", &ws.path().to_string_lossy()])
        .status()
        .unwrap();
    assert!(chown.success());
    let mount = format!("{}:/github/workspace", ws.path().display());
    let t = Instant::now();
    let run = podman(&[
        "run",
        "--rm",
        "--network",
        "host",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
        "-v",
        &mount,
        "-w",
        "/github/workspace",
        "-e",
        "GITHUB_WORKSPACE=/github/workspace",
        "-e",
        &format!("GITHUB_API_URL={}", s.prism_url),
        "-e",
        &format!("GITHUB_REPOSITORY={repo}"),
        "-e",
        "GITHUB_EVENT_NAME=pull_request",
        "-e",
        "GITHUB_EVENT_PATH=/github/workspace/event.json",
        "-e",
        "GITHUB_STEP_SUMMARY=/github/workspace/summary.md",
        "-e",
        "GITHUB_OUTPUT=/github/workspace/output.txt",
        "-e",
        "INPUT_GITHUB-TOKEN=ghs_x",
        "-e",
        "INPUT_JUNIT=junit.xml",
        tag,
    ]);
    let elapsed = t.elapsed();
    let stdout = String::from_utf8_lossy(&run.stdout);
    eprintln!(
        "container run: {:.2}s (start-up + run + publish)",
        elapsed.as_secs_f64()
    );
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let outputs = std::fs::read_to_string(ws.path().join("output.txt")).unwrap();
    assert!(outputs.contains("verdict=pass"), "{outputs}");
    s.with(&repo, |st| {
        assert_eq!(st.comments.len(), 1);
        assert_eq!(st.check_runs.len(), 1);
    });
    let t = Instant::now();
    let v = podman(&[
        "run",
        "--rm",
        "--network",
        "host",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
        tag,
        "--version",
    ]);
    eprintln!(
        "container start-up (`--version`): {:.2}s",
        t.elapsed().as_secs_f64()
    );
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}
