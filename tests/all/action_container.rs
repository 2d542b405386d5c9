//! The shipped image, run the way the GitHub runner runs a Docker action — always: podman, the
//! musl target and musl-gcc are installed by `scripts/test`, and a missing tool fails the test.
//!
//! The image is built exactly as the release builds it: the static musl release binary and
//! git staged by `scripts/image-rootfs.sh`, packaged by the repository's `Dockerfile`. It then
//! runs `controlgate run` with the workspace at `/github/workspace` owned by another uid than
//! the container's root, `GITHUB_OUTPUT`/`GITHUB_STEP_SUMMARY` under `/github/file_commands`,
//! `INPUT_*` for every input of action.yml with its default, against the GitHub stand-in:
//! coverage from git, a `dir` store and a `git` store pushed to a bare remote (each verified on
//! the host), a store made to fail (the fallback bundle), and nothing left root-owned.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use crate::github_fake::{stand, write};

const RUNNER_UID: u32 = 1001;

/// Podman with settings that work inside a CI sandbox: vfs storage, cgroupfs, and runc
/// (crun refuses the sandbox's hybrid cgroups; scripts/test installs runc).
fn podman(args: &[&str]) -> Output {
    let runtime = "runc";
    let mut cmd = Command::new("podman");
    cmd.args(["--storage-driver", "vfs", "--runtime", runtime])
        .args(["--cgroup-manager", "cgroupfs"]);
    if args.first() == Some(&"run") {
        // The sandbox refuses raising limits; ask for what it has.
        cmd.arg("run")
            .args([
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=1024:1024",
            ])
            .args(&args[1..]);
    } else {
        cmd.args(args);
    }
    cmd.output()
        .expect("podman is not installed: run ./scripts/test (it installs podman)")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn git(dir: &Path, args: &[&str]) -> String {
    crate::coverage_util::git(dir, args)
}

/// Builds the release image once per test run; returns its tag.
fn image() -> &'static str {
    static TAG: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        // ring compiles C: Debian's musl-tools provides `musl-gcc`, not `x86_64-linux-musl-gcc`.
        if std::env::var_os("CC_x86_64_unknown_linux_musl").is_none() {
            cargo.env("CC_x86_64_unknown_linux_musl", "musl-gcc");
        }
        let build = cargo
            .args(["build", "--release", "--locked", "--target"])
            .args(["x86_64-unknown-linux-musl", "--bin", "controlgate"])
            .current_dir(root())
            .status()
            .unwrap();
        assert!(
            build.success(),
            "musl build failed (scripts/test installs the target and musl-tools)"
        );
        let ctx = tempfile::tempdir().unwrap().keep();
        let built = target_dir().join("x86_64-unknown-linux-musl/release/controlgate");
        let stripped = ctx.join("controlgate");
        sh(Command::new("strip").arg("-o").arg(&stripped).arg(&built));
        sh(Command::new(root().join("scripts/image-rootfs.sh"))
            .arg(ctx.join("rootfs/amd64"))
            .arg(&stripped));
        std::fs::copy(root().join("Dockerfile"), ctx.join("Dockerfile")).unwrap();
        let tag = "localhost/controlgate-image:test";
        let b = podman(&[
            "build",
            "--build-arg",
            "TARGETARCH=amd64",
            "-t",
            tag,
            &ctx.to_string_lossy(),
        ]);
        assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
        let _ = std::fs::remove_dir_all(&ctx);
        tag
    })
}

/// `INPUT_<NAME>` for every input of action.yml, with its default (as the runner passes them).
fn input_defaults() -> Vec<(String, String)> {
    let y: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap())
            .unwrap();
    let mut out = Vec::new();
    for (name, spec) in y["inputs"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        let default = match &spec["default"] {
            serde_yaml_ng::Value::String(s) if s.contains("${{") => "ghs_stand_in_token".into(),
            serde_yaml_ng::Value::String(s) => s.clone(),
            serde_yaml_ng::Value::Null => String::new(),
            other => serde_yaml_ng::to_string(other).unwrap().trim().to_owned(),
        };
        out.push((format!("INPUT_{}", name.to_uppercase()), default));
    }
    out
}

/// A PR workspace: a git repository (main, then a feature commit), JUnit, head coverage, the
/// event, the config; all owned by the runner's uid like a checkout.
struct Job {
    dir: tempfile::TempDir,
    repo: String,
}

impl Job {
    fn new(name: &str, config: &str) -> Job {
        let s = stand();
        let repo = s.repo(name, |_| {});
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("workspace");
        std::fs::create_dir_all(&ws).unwrap();
        git(&ws, &["init", "-q", "-b", "main"]);
        write(&ws.join("app.py"), "a = 1\nb = 2\n");
        write(
            &ws.join(".gitignore"),
            "controlgate-report/\n.controlgate/\nev/\n",
        );
        git(&ws, &["add", "-A"]);
        git(&ws, &["commit", "-qm", "base"]);
        git(&ws, &["checkout", "-qb", "feature"]);
        write(&ws.join("app.py"), "a = 1\nb = 2\nc = 3\nd = 4\n");
        write(&ws.join(".github/controlgate.yml"), config);
        git(&ws, &["add", "-A"]);
        git(&ws, &["commit", "-qm", "feature"]);
        write(
            &ws.join("junit.xml"),
            "<testsuite name=\"s\"><testcase classname=\"a\" name=\"t [cc8-1]\"/></testsuite>",
        );
        write(
            &ws.join("lcov.info"),
            "SF:app.py\nDA:1,1\nDA:2,1\nDA:3,1\nDA:4,0\nend_of_record\n",
        );
        let head = git(&ws, &["rev-parse", "HEAD"]).trim().to_owned();
        let event = serde_json::json!({"pull_request": {"number": 3, "head": {"sha": head, "ref": "feature"},
            "base": {"ref": "main", "sha": "5".repeat(40)}}});
        write(&dir.path().join("workflow/event.json"), &event.to_string());
        std::fs::create_dir_all(dir.path().join("file_commands")).unwrap();
        Job { dir, repo }
    }

    fn ws(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    /// Runs the image as the runner runs a Docker action; `extra` adds `-v`/`-e` arguments.
    fn run(&self, extra: &[String]) -> (Output, std::time::Duration) {
        sh(Command::new("chown").args([
            "-R",
            &format!("{RUNNER_UID}:{RUNNER_UID}"),
            &self.dir.path().to_string_lossy(),
        ]));
        let d = self.dir.path().display();
        let mut args: Vec<String> = vec![
            "run".into(),
            "--rm".into(),
            "--network".into(),
            "host".into(),
            "--workdir".into(),
            "/github/workspace".into(),
            "-v".into(),
            format!("{d}/workspace:/github/workspace"),
            "-v".into(),
            format!("{d}/workflow:/github/workflow"),
            "-v".into(),
            format!("{d}/file_commands:/github/file_commands"),
        ];
        let mut env: Vec<(String, String)> = input_defaults();
        env.extend(
            [
                ("INPUT_JUNIT", "junit.xml"),
                ("INPUT_COVERAGE", "lcov.info"),
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_WORKSPACE", "/github/workspace"),
                ("GITHUB_EVENT_NAME", "pull_request"),
                ("GITHUB_EVENT_PATH", "/github/workflow/event.json"),
                ("GITHUB_OUTPUT", "/github/file_commands/set_output_1"),
                (
                    "GITHUB_STEP_SUMMARY",
                    "/github/file_commands/step_summary_1",
                ),
                ("GITHUB_SERVER_URL", "https://github.com"),
                ("GITHUB_RUN_ID", "7"),
                ("GITHUB_RUN_ATTEMPT", "1"),
                ("HOME", "/github/home"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        env.push(("GITHUB_API_URL".into(), stand().prism_url.clone()));
        env.push(("GITHUB_REPOSITORY".into(), self.repo.clone()));
        for (k, v) in env {
            args.push("-e".into());
            args.push(format!("{k}={v}"));
        }
        args.extend(extra.iter().cloned());
        args.push(image().to_owned());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let t = Instant::now();
        let out = podman(&refs);
        (out, t.elapsed())
    }

    fn outputs(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("file_commands/set_output_1"))
            .unwrap_or_default()
    }

    /// Every path in the workspace that the runner's user does not own.
    fn not_runners(&self) -> Vec<String> {
        use std::os::unix::fs::MetadataExt;
        let mut bad = Vec::new();
        let mut stack = vec![self.ws()];
        while let Some(p) = stack.pop() {
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.uid() != RUNNER_UID {
                bad.push(format!("{} (uid {})", p.display(), meta.uid()));
            }
            if meta.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            }
        }
        bad
    }
}

fn verify_on_host(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_controlgate"))
        .current_dir(dir)
        .arg("verify")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_image_runs_the_action_with_coverage_and_a_dir_store() {
    let job = Job::new("container-dir", "controls:\n  required: [CC8.1]\n");
    let (out, elapsed) = job.run(&["-e".into(), "INPUT_EVIDENCE-DIR=ev".into()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "container run: {:.2}s (start-up + run + publish)",
        elapsed.as_secs_f64()
    );
    let outputs = job.outputs();
    assert!(outputs.contains("verdict=pass"), "{outputs}");
    // Changed lines from git in the image: 2 changed lines, 1 covered.
    assert!(outputs.contains("patch-coverage=50.00"), "{outputs}");
    assert!(
        outputs
            .lines()
            .any(|l| l.starts_with("evidence-digest=") && l.len() > 20)
    );
    stand().with(&job.repo, |st| {
        assert_eq!(st.comments.len(), 1);
        assert_eq!(st.check_runs.len(), 1);
    });
    let v = verify_on_host(&job.ws(), &["--store", "ev"]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    assert_eq!(
        job.not_runners(),
        Vec::<String>::new(),
        "root-owned files left"
    );
}

#[test]
fn the_image_pushes_a_git_store_to_a_bare_remote() {
    let job = Job::new(
        "container-git",
        "evidence:\n  store: {type: git, remote: /remote.git, branch: controlgate-evidence}\n",
    );
    let remote = job.dir.path().join("remote.git");
    git(job.dir.path(), &["init", "-q", "--bare", "remote.git"]);
    let (out, _) = job.run(&["-v".into(), format!("{}:/remote.git", remote.display())]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        job.outputs().contains("evidence-location="),
        "{}",
        job.outputs()
    );
    // Verified on the host, from the remote the container pushed to.
    std::fs::write(
        job.dir.path().join("verify.yml"),
        format!(
            "evidence:\n  store: {{type: git, remote: '{}', branch: controlgate-evidence}}\n",
            remote.display()
        ),
    )
    .unwrap();
    let v = verify_on_host(job.dir.path(), &["--config", "verify.yml"]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    assert_eq!(
        job.not_runners(),
        Vec::<String>::new(),
        "root-owned files left"
    );
}

#[test]
fn a_failing_store_in_the_image_leaves_the_fallback_bundle() {
    let job = Job::new(
        "container-fallback",
        "evidence:\n  store: {type: git, remote: /nowhere.git, branch: controlgate-evidence}\n",
    );
    // No coverage: a PR run with coverage reads the base from the store first, and a store that
    // cannot be read stops it (exit 2) before anything is retained.
    let (out, _) = job.run(&["-e".into(), "INPUT_COVERAGE=".into()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The verdict stands, but a run whose evidence did not reach the store fails the job.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("kept locally"), "{stdout}");
    let bundles = job.ws().join(".controlgate/evidence-fallback/bundles");
    let kept: Vec<_> = std::fs::read_dir(&bundles)
        .unwrap_or_else(|e| panic!("{}: {e}\n{stdout}", bundles.display()))
        .collect();
    assert_eq!(kept.len(), 1, "{stdout}");
    assert_eq!(
        job.not_runners(),
        Vec::<String>::new(),
        "root-owned files left"
    );
}

/// Size and cold start of the image, printed for the closing notes (no timed assertion).
#[test]
fn image_size_and_start_up() {
    let tag = image();
    let size = podman(&["image", "inspect", tag, "--format", "{{.Size}}"]);
    let bytes: u64 = String::from_utf8_lossy(&size.stdout)
        .trim()
        .parse()
        .unwrap();
    let save = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "podman --storage-driver vfs --cgroup-manager cgroupfs save {tag} | gzip -6 | wc -c"
        ))
        .output()
        .unwrap();
    let compressed: u64 = String::from_utf8_lossy(&save.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    eprintln!(
        "image: {:.1} MB, {:.1} MB compressed (gzip -6 of `podman save`)",
        bytes as f64 / 1e6,
        compressed as f64 / 1e6
    );
    assert!(bytes > 0 && compressed > 0);
    for _ in 0..3 {
        let t = Instant::now();
        let v = podman(&["run", "--rm", "--network", "host", tag, "--version"]);
        eprintln!(
            "`--version` in the container: {:.3}s",
            t.elapsed().as_secs_f64()
        );
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
        assert!(String::from_utf8_lossy(&v.stdout).starts_with("controlgate "));
    }
}
