//! Runs the configured test suites: the ONLY module that starts processes.
//!
//! Each suite runs with `sh -c` in its working directory, inside a `::group::` block, its output
//! streamed live to `out`. The output is wrapped in `::stop-commands::<token>` … `::<token>::`
//! with a fresh random token, so a test cannot issue workflow commands (`::set-output`,
//! `::add-mask`, `::error`) on the action's behalf. stdout and stderr are hashed together in
//! arrival order.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::config::Suite;
use crate::inputs::hex;
use crate::model::report::SuiteRecord;

/// A suite as run, with where its results are expected.
#[derive(Debug, Clone)]
pub struct SuiteRun {
    pub record: SuiteRecord,
    /// Absolute working directory (globs are relative to it).
    pub workdir: PathBuf,
}

/// A token no test output can predict.
pub fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = Sha256::new();
    for _ in 0..4 {
        // RandomState is seeded from the OS's randomness per process, and varies per instance.
        let mut x = std::collections::hash_map::RandomState::new().build_hasher();
        x.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.update(x.finish().to_le_bytes());
    }
    h.update(std::process::id().to_le_bytes());
    hex(&h.finalize())[..32].to_owned()
}

/// Runs every suite in order. Never fails: a suite that cannot start is recorded as such.
pub fn run_all(suites: &[Suite], workspace: &Path, out: &mut dyn Write) -> Vec<SuiteRun> {
    suites.iter().map(|s| run_one(s, workspace, out)).collect()
}

fn run_one(suite: &Suite, workspace: &Path, out: &mut dyn Write) -> SuiteRun {
    let workdir = match &suite.working_directory {
        Some(d) => workspace.join(d),
        None => workspace.to_owned(),
    };
    let token = random_token();
    let _ = writeln!(out, "::group::controlgate suite {}", one_line(&suite.name));
    let _ = writeln!(out, "$ {}", one_line(&suite.run));
    let _ = writeln!(out, "::stop-commands::{token}");
    let _ = out.flush();
    let start = Instant::now();
    let result = execute(suite, &workdir, out);
    let duration_s = start.elapsed().as_secs_f64();
    let _ = writeln!(out);
    let _ = writeln!(out, "::{token}::");
    let record = match result {
        Ok(r) => {
            let status = match (r.timed_out, r.exit_code) {
                (true, _) => format!("timed out after {duration_s:.1}s (killed)"),
                (false, Some(c)) => format!("exit status {c}"),
                (false, None) => "killed by a signal".to_owned(),
            };
            let _ = writeln!(
                out,
                "controlgate: suite `{}`: {status}, {duration_s:.1}s",
                one_line(&suite.name)
            );
            SuiteRecord {
                name: suite.name.clone(),
                command: suite.run.clone(),
                working_directory: display(&workdir, workspace),
                exit_code: r.exit_code,
                timed_out: r.timed_out,
                duration_s,
                output_sha256: r.sha256,
                output_bytes: r.bytes,
                error: None,
            }
        }
        Err(e) => {
            let msg = format!(
                "cannot start `sh` in {}: {e} (a container image without a shell cannot run \
                 suites: run the tests in an earlier step and pass `junit`)",
                workdir.display()
            );
            let _ = writeln!(out, "controlgate: suite `{}`: {msg}", one_line(&suite.name));
            SuiteRecord {
                name: suite.name.clone(),
                command: suite.run.clone(),
                working_directory: display(&workdir, workspace),
                exit_code: None,
                timed_out: false,
                duration_s,
                output_sha256: hex(&Sha256::digest(b"")),
                output_bytes: 0,
                error: Some(msg),
            }
        }
    };
    let _ = writeln!(out, "::endgroup::");
    let _ = out.flush();
    SuiteRun { record, workdir }
}

fn display(dir: &Path, workspace: &Path) -> String {
    match dir.strip_prefix(workspace) {
        Ok(p) if p.as_os_str().is_empty() => ".".into(),
        Ok(p) => p.to_string_lossy().into_owned(),
        Err(_) => dir.to_string_lossy().into_owned(),
    }
}

/// Workflow-command parameters are one line.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

struct Outcome {
    exit_code: Option<i32>,
    timed_out: bool,
    sha256: String,
    bytes: u64,
}

struct Shared {
    hasher: Sha256,
    bytes: u64,
    /// Output waiting to be written to `out` by the calling thread.
    pending: Vec<u8>,
}

fn execute(suite: &Suite, workdir: &Path, out: &mut dyn Write) -> std::io::Result<Outcome> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&suite.run)
        .current_dir(workdir)
        .envs(&suite.env)
        // The test code never sees the action's token.
        .env_remove("INPUT_GITHUB-TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Own process group, so a timeout kills the test runner's children too.
        cmd.process_group(0);
    }
    let mut child = cmd.spawn()?;
    let shared = Arc::new(Mutex::new(Shared {
        hasher: Sha256::new(),
        bytes: 0,
        pending: Vec::new(),
    }));
    let mut readers = Vec::new();
    let pipes: Vec<Box<dyn Read + Send>> = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .collect();
    for mut pipe in pipes {
        let shared = Arc::clone(&shared);
        readers.push(std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                        s.hasher.update(&buf[..n]);
                        s.bytes += n as u64;
                        s.pending.extend_from_slice(&buf[..n]);
                    }
                }
            }
        }));
    }
    let deadline = suite.timeout.map(|t| Instant::now() + t);
    let mut timed_out = false;
    let flush = |out: &mut dyn Write| {
        let chunk = std::mem::take(&mut shared.lock().unwrap_or_else(|e| e.into_inner()).pending);
        if !chunk.is_empty() {
            let _ = out.write_all(&chunk);
            let _ = out.flush();
        }
    };
    let status = loop {
        flush(out);
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            timed_out = true;
            kill_group(&mut child);
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Grandchildren may still hold the pipes; after the suite ends, give them a moment and
    // then end the group so the readers finish.
    let grace = Instant::now() + Duration::from_secs(2);
    while readers.iter().any(|r| !r.is_finished()) && Instant::now() < grace {
        flush(out);
        std::thread::sleep(Duration::from_millis(20));
    }
    if readers.iter().any(|r| !r.is_finished()) {
        kill_group(&mut child);
    }
    for r in readers {
        let _ = r.join();
    }
    flush(out);
    let s = shared.lock().unwrap_or_else(|e| e.into_inner());
    Ok(Outcome {
        exit_code: status.code(),
        timed_out,
        sha256: hex(&s.hasher.clone().finalize()),
        bytes: s.bytes,
    })
}

fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the process group we created with
        // `process_group(0)`; it touches no memory.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
}

#[cfg(test)]
mod unit {
    use super::*;

    fn suite(run: &str, timeout: Option<Duration>) -> Suite {
        Suite {
            name: "s".into(),
            run: run.into(),
            working_directory: None,
            env: [("CG_X".to_string(), "42".to_string())].into(),
            junit: vec!["x.xml".into()],
            coverage: vec![],
            controls: vec![],
            timeout,
        }
    }

    #[test]
    fn streams_wraps_and_hashes_output() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        let runs = run_all(
            &[suite(
                "echo hi $CG_X; echo '::set-output name=x::y' >&2; exit 3",
                None,
            )],
            dir.path(),
            &mut out,
        );
        let text = String::from_utf8(out).unwrap();
        let r = &runs[0].record;
        assert_eq!(r.exit_code, Some(3));
        assert!(!r.timed_out);
        assert_eq!(r.working_directory, ".");
        assert!(text.starts_with("::group::controlgate suite s\n"), "{text}");
        let token = text
            .lines()
            .find_map(|l| l.strip_prefix("::stop-commands::"))
            .unwrap();
        assert_eq!(token.len(), 32);
        let stop = text.find("::stop-commands::").unwrap();
        let resume = text.find(&format!("::{token}::")).unwrap();
        let inner = &text[stop..resume];
        assert!(
            inner.contains("hi 42") && inner.contains("::set-output"),
            "{text}"
        );
        assert!(text.trim_end().ends_with("::endgroup::"));
        assert_eq!(
            r.output_bytes,
            "hi 42\n::set-output name=x::y\n".len() as u64
        );
        assert_ne!(random_token(), random_token());
    }

    #[test]
    fn timeout_kills_the_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        let t = Instant::now();
        let runs = run_all(
            &[suite(
                "sleep 30 & sleep 30",
                Some(Duration::from_millis(300)),
            )],
            dir.path(),
            &mut out,
        );
        assert!(runs[0].record.timed_out);
        assert!(t.elapsed() < Duration::from_secs(10));
    }
}
