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
use crate::model::report::SuiteRecord;
use controlgate_core::hashing::sha256_hex;

/// A suite as run, with where its results are expected.
#[derive(Debug, Clone)]
pub struct SuiteRun {
    pub record: SuiteRecord,
    /// Absolute working directory (globs are relative to it).
    pub workdir: PathBuf,
    /// Result and coverage files matching the suite's globs that the run did not write (they
    /// were there before it started, unchanged): left by an earlier run, never read as this
    /// run's results.
    pub stale: Vec<PathBuf>,
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
    hex::encode(h.finalize())[..32].to_owned()
}

/// Runs every suite in order. Never fails: a suite that cannot start is recorded as such.
/// `env` is the whole environment the suites see (besides each suite's own `env:`): the
/// job's environment is never inherited, so the code under test runs without the job's
/// credentials (see `actions_env::suite_env`).
///
/// `file_commands` are the runner's files of this step (`GITHUB_OUTPUT`, `GITHUB_ENV`...:
/// name and path). The suites do not get their variables, but a test can still find and write
/// the files (their directory is the runner's temp dir): whatever a suite wrote into one is put
/// back as it was, and its record says which (its gate fails).
pub fn run_all(
    suites: &[Suite],
    workspace: &Path,
    env: &[(String, String)],
    file_commands: &[(String, PathBuf)],
    out: &mut dyn Write,
) -> Vec<SuiteRun> {
    suites
        .iter()
        .map(|s| {
            let before: Vec<Option<Vec<u8>>> = file_commands
                .iter()
                .map(|(_, p)| std::fs::read(p).ok())
                .collect();
            let mut run = run_one(s, workspace, env, out);
            for ((name, path), before) in file_commands.iter().zip(before) {
                // Read only a regular file: one the suite replaced with a FIFO (or a link to
                // one) would block the read; it is put back like any change.
                let meta = std::fs::symlink_metadata(path);
                let regular = meta.as_ref().is_ok_and(|m| m.is_file());
                let unchanged = if regular {
                    std::fs::read(path).ok() == before
                } else {
                    meta.is_err() && before.is_none()
                };
                if unchanged {
                    continue;
                }
                if !regular {
                    let _ = std::fs::remove_file(path);
                }
                let restored = match &before {
                    Some(bytes) => std::fs::write(path, bytes),
                    None => std::fs::remove_file(path),
                };
                let how = match restored {
                    Ok(()) => "put back as it was".to_owned(),
                    Err(e) => format!("could not be put back: {e}"),
                };
                let _ = writeln!(
                    out,
                    "controlgate: suite `{}` wrote to the runner's {name}: {how}",
                    crate::console::log_text(&s.name, 200)
                );
                run.record.wrote_file_commands.push(name.clone());
            }
            run
        })
        .collect()
}

/// What identifies a file's content without reading it: a rewrite changes at least one.
type Fingerprint = (u64, Option<std::time::SystemTime>, u64);

fn fingerprint(meta: &std::fs::Metadata) -> Fingerprint {
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let ino = 0;
    (meta.len(), meta.modified().ok(), ino)
}

/// The files the suite's result and coverage globs match now, with their fingerprints.
fn snapshot(suite: &Suite, workdir: &Path) -> Vec<(PathBuf, Fingerprint)> {
    let mut out = Vec::new();
    for pattern in suite.junit.iter().chain(&suite.coverage) {
        let Ok(found) = crate::files::expand(std::slice::from_ref(pattern), workdir, "junit")
        else {
            continue;
        };
        for p in found {
            if let Ok(meta) = std::fs::metadata(&p) {
                out.push((p, fingerprint(&meta)));
            }
        }
    }
    out
}

fn run_one(
    suite: &Suite,
    workspace: &Path,
    env: &[(String, String)],
    out: &mut dyn Write,
) -> SuiteRun {
    use crate::console::log_text;
    let workdir = match &suite.working_directory {
        Some(d) => workspace.join(d),
        None => workspace.to_owned(),
    };
    let before = snapshot(suite, &workdir);
    let token = random_token();
    let name = log_text(&suite.name, 200);
    let _ = writeln!(out, "::group::controlgate suite {name}");
    // The command comes from the (PR's) config: echoed inside the stop-commands block, so
    // nothing in it (`##[stop-commands]…`, `::set-output`) can act.
    let _ = writeln!(out, "::stop-commands::{token}");
    let _ = writeln!(out, "$ {}", log_text(&suite.run, crate::console::VALUE_MAX));
    let _ = out.flush();
    let start = Instant::now();
    let result = execute(suite, &workdir, env, out);
    let duration_s = start.elapsed().as_secs_f64();
    let _ = writeln!(out);
    let _ = writeln!(out, "::{token}::");
    let after = snapshot(suite, &workdir);
    let stale: Vec<PathBuf> = after
        .into_iter()
        .filter(|f| before.contains(f))
        .map(|(p, _)| p)
        .collect();
    let record = match result {
        Ok(r) => {
            let status = match (r.timed_out, r.exit_code) {
                (true, _) => format!("timed out after {duration_s:.1}s (killed)"),
                (false, Some(c)) => format!("exit status {c}"),
                (false, None) => "killed by a signal".to_owned(),
            };
            let _ = writeln!(
                out,
                "controlgate: suite `{name}`: {status}, {duration_s:.1}s"
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
                wrote_file_commands: Vec::new(),
            }
        }
        Err(e) => {
            let msg = format!(
                "cannot start `sh` in {}: {e} (a container image without a shell cannot run \
                 suites: run the tests in an earlier step and pass `junit`)",
                workdir.display()
            );
            let _ = writeln!(out, "controlgate: suite `{name}`: {}", log_text(&msg, 1024));
            SuiteRecord {
                name: suite.name.clone(),
                command: suite.run.clone(),
                working_directory: display(&workdir, workspace),
                exit_code: None,
                timed_out: false,
                duration_s,
                output_sha256: sha256_hex(b""),
                output_bytes: 0,
                error: Some(msg),
                wrote_file_commands: Vec::new(),
            }
        }
    };
    for p in &stale {
        let _ = writeln!(
            out,
            "controlgate: suite `{name}`: {} was not written by this run: ignored",
            log_text(&display(p, workspace), 1024)
        );
    }
    let _ = writeln!(out, "::endgroup::");
    let _ = out.flush();
    SuiteRun {
        record,
        workdir,
        stale,
    }
}

fn display(dir: &Path, workspace: &Path) -> String {
    match dir.strip_prefix(workspace) {
        Ok(p) if p.as_os_str().is_empty() => ".".into(),
        Ok(p) => p.to_string_lossy().into_owned(),
        Err(_) => dir.to_string_lossy().into_owned(),
    }
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

fn execute(
    suite: &Suite,
    workdir: &Path,
    env: &[(String, String)],
    out: &mut dyn Write,
) -> std::io::Result<Outcome> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&suite.run)
        .current_dir(workdir)
        // Nothing of the job's environment but what `env` allows: the code under test never
        // sees the job's tokens, the runner's file commands or cloud credentials.
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .envs(&suite.env)
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
    // Whatever the suite left running in its group ends with it: a process left behind could
    // write the runner's file commands after they were checked, or watch the store's git.
    // (One that left the group, `setsid`, is not reached: docs/action.md.)
    kill_group(&mut child);
    for r in readers {
        let _ = r.join();
    }
    flush(out);
    let s = shared.lock().unwrap_or_else(|e| e.into_inner());
    Ok(Outcome {
        exit_code: status.code(),
        timed_out,
        sha256: hex::encode(s.hasher.clone().finalize()),
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

    fn path_env() -> Vec<(String, String)> {
        vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())]
    }

    #[test]
    fn the_job_environment_is_not_inherited() {
        // The test process has variables of its own (CARGO_*, HOME...): none reaches the
        // suite but what `env` and the suite's own `env:` give it.
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        let mut env = path_env();
        env.push(("CI".into(), "true".into()));
        run_all(
            &[suite("env | sort > seen.txt", None)],
            dir.path(),
            &env,
            &[],
            &mut out,
        );
        let seen = std::fs::read_to_string(dir.path().join("seen.txt")).unwrap();
        let names: Vec<&str> = seen
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .filter(|k| !matches!(*k, "PWD" | "SHLVL" | "_" | "OLDPWD"))
            .collect();
        assert_eq!(names, ["CG_X", "CI", "PATH"], "{seen}");
    }

    #[test]
    fn results_left_by_an_earlier_run_are_stale() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.xml"), "<testsuite/>").unwrap();
        std::fs::write(dir.path().join("y.xml"), "<testsuite/>").unwrap();
        let mut s = suite("echo '<testsuite/>' > y.xml; exit 2", None);
        s.junit = vec!["*.xml".into()];
        let mut out = Vec::new();
        let runs = run_all(&[s], dir.path(), &path_env(), &[], &mut out);
        let stale: Vec<_> = runs[0]
            .stale
            .iter()
            .map(|p| p.file_name().unwrap())
            .collect();
        assert_eq!(stale, ["x.xml"], "y.xml was rewritten by the run");
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("x.xml was not written by this run: ignored"),
            "{text}"
        );
    }

    #[test]
    fn the_command_echo_cannot_issue_commands() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        let s = suite(
            "true # ##[set-output name=verdict;]pass\n::add-mask::x # ##[stop-commands]abc",
            None,
        );
        run_all(&[s], dir.path(), &path_env(), &[], &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("##["), "{text}");
        let echo = text.lines().position(|l| l.starts_with("$ ")).unwrap();
        let stop = text
            .lines()
            .position(|l| l.starts_with("::stop-commands::"))
            .unwrap();
        assert!(
            stop < echo,
            "the echo is inside the stop-commands block: {text}"
        );
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
            &path_env(),
            &[],
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

    /// A suite that writes the step's file commands (found without their variables) has them
    /// put back — appended lines dropped, a file it created removed — and its record says so;
    /// one that leaves them alone is not named.
    #[test]
    fn file_commands_a_suite_wrote_are_put_back_and_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("set_output_1");
        std::fs::write(&output, "earlier=1\n").unwrap();
        let env_file = dir.path().join("set_env_1");
        let summary = dir.path().join("step_summary_1");
        std::fs::write(&summary, "# kept\n").unwrap();
        let files = vec![
            ("GITHUB_OUTPUT".to_owned(), output.clone()),
            ("GITHUB_ENV".to_owned(), env_file.clone()),
            ("GITHUB_STEP_SUMMARY".to_owned(), summary.clone()),
        ];
        let mut out = Vec::new();
        let runs = run_all(
            &[
                suite(
                    "printf 'verdict=pass\\nx<<verdict=fail\\n' >> set_output_1; \
                     echo NODE_OPTIONS=--require=/tmp/x.js > set_env_1",
                    None,
                ),
                suite("cat step_summary_1 > /dev/null", None),
                // Replaced with a FIFO: reading it would block.
                suite("rm step_summary_1 && mkfifo step_summary_1", None),
            ],
            dir.path(),
            &path_env(),
            &files,
            &mut out,
        );
        assert_eq!(
            runs[0].record.wrote_file_commands,
            ["GITHUB_OUTPUT", "GITHUB_ENV"]
        );
        assert!(runs[1].record.wrote_file_commands.is_empty());
        assert_eq!(runs[2].record.wrote_file_commands, ["GITHUB_STEP_SUMMARY"]);
        assert_eq!(std::fs::read_to_string(&output).unwrap(), "earlier=1\n");
        assert!(!env_file.exists());
        assert!(std::fs::symlink_metadata(&summary).unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&summary).unwrap(), "# kept\n");
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("suite `s` wrote to the runner's GITHUB_OUTPUT: put back as it was"),
            "{text}"
        );
    }

    /// A process the suite left running (its output closed, so nothing waits for it) ends
    /// with the suite: it could write the file commands after they were checked.
    #[test]
    fn what_a_suite_leaves_running_ends_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        run_all(
            &[suite(
                "(sleep 1; echo late > late.txt) > /dev/null 2>&1 < /dev/null &",
                None,
            )],
            dir.path(),
            &path_env(),
            &[],
            &mut out,
        );
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!dir.path().join("late.txt").exists());
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
            &path_env(),
            &[],
            &mut out,
        );
        assert!(runs[0].record.timed_out);
        assert!(t.elapsed() < Duration::from_secs(10));
    }
}
