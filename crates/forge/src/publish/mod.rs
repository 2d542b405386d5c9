//! Publishing a decided run: pure builders (annotations, size limits, step outputs) and the
//! GitHub client ([`github`]). File writes to `$GITHUB_STEP_SUMMARY` / `$GITHUB_OUTPUT` live here.

pub mod github;

use std::io::Write;
use std::path::Path;

use crate::error::Error;
use crate::model::report::{Report, Verdict};
use crate::render::escape;
use github::{Annotation, Level};

/// GitHub's limits.
pub const COMMENT_LIMIT: usize = 65_536;
pub const CHECK_SUMMARY_LIMIT: usize = 65_535;
pub const STEP_SUMMARY_LIMIT_BYTES: usize = 1024 * 1024;
const ANNOTATION_MESSAGE_LIMIT: usize = 60_000;

/// The hidden marker identifying the sticky comment.
pub fn marker(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.:/ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("<!-- controlgate:{safe} -->")
}

/// What a sticky comment records about the run that wrote it (a hidden line after the
/// marker): the workflow run, the tested commit, and a fingerprint of the verdict and the
/// numbers. Comment modes and the stale-run guard compare against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentState {
    /// The workflow run id (`GITHUB_RUN_ID`, without the attempt); runs of later pushes have
    /// larger ids.
    pub run: u64,
    pub head: String,
    pub fingerprint: String,
}

impl CommentState {
    /// The hidden line. Only alphanumerics of the head and fingerprint are written: the head
    /// of a `publish --from` artifact is whatever the artifact claims, and must not close
    /// the comment.
    pub fn line(&self) -> String {
        let safe = |s: &str| -> String { s.chars().filter(char::is_ascii_alphanumeric).collect() };
        format!(
            "<!-- controlgate-state run={} head={} fingerprint={} -->",
            self.run,
            safe(&self.head),
            safe(&self.fingerprint)
        )
    }

    /// The state recorded in a comment body, if any.
    pub fn find(body: &str) -> Option<CommentState> {
        let line = body
            .lines()
            .find_map(|l| l.trim().strip_prefix("<!-- controlgate-state "))?;
        let mut state = CommentState {
            run: 0,
            head: String::new(),
            fingerprint: String::new(),
        };
        for part in line.trim_end_matches("-->").split_whitespace() {
            match part.split_once('=') {
                Some(("run", v)) => state.run = v.parse().ok()?,
                Some(("head", v)) => state.head = v.to_owned(),
                Some(("fingerprint", v)) => state.fingerprint = v.to_owned(),
                _ => {}
            }
        }
        Some(state)
    }

    /// Why a comment holding `previous` must be left as it is by the run `self`, or `None`
    /// to write it: a later run already commented on another (newer) commit — an older run
    /// never overwrites it; or, with `unchanged_only`, the verdict and numbers are the same.
    pub fn keep_reason(&self, previous: &CommentState, unchanged_only: bool) -> Option<String> {
        if previous.run > self.run && previous.head != self.head {
            return Some(format!(
                "a later run ({}) already commented on {}: this run tested the older {}",
                previous.run, previous.head, self.head
            ));
        }
        (unchanged_only && previous.fingerprint == self.fingerprint)
            .then(|| "the verdict and the numbers are unchanged".to_string())
    }
}

#[cfg(test)]
mod comment_state {
    use super::CommentState;

    #[test]
    fn the_state_line_round_trips_and_cannot_close_the_comment() {
        let s = CommentState {
            run: 42,
            head: "abc123 --> <img src=x>".into(),
            fingerprint: "f00d".into(),
        };
        let line = s.line();
        assert_eq!(line.matches("-->").count(), 1, "{line}");
        let back = CommentState::find(&format!("<!-- m -->\n{line}\nbody")).unwrap();
        assert_eq!((back.run, back.head.as_str()), (42, "abc123imgsrcx"));
        let newer = CommentState {
            run: 50,
            head: "b".into(),
            fingerprint: "f".into(),
        };
        let older = CommentState {
            run: 40,
            head: "a".into(),
            fingerprint: "f".into(),
        };
        assert!(
            older.keep_reason(&newer, false).is_some(),
            "an older run keeps off"
        );
        assert!(newer.keep_reason(&older, false).is_none());
        assert!(newer.keep_reason(&newer, true).is_some(), "unchanged");
        assert!(newer.keep_reason(&newer, false).is_none());
    }
}

/// Keeps `text` within `max_chars` characters: cut at a line boundary, with a note saying how
/// much was left out. A cut inside a fenced block or a `<details>` closes them first: the note
/// would be hidden in them, and what GitHub shows after the text left inside.
pub fn fit(text: &str, max_chars: usize, where_full: &str) -> String {
    let total = text.chars().count();
    if total <= max_chars {
        return text.to_owned();
    }
    let note_for = |omitted: usize| {
        format!(
            "\n\n> **Note:** truncated to fit GitHub's size limit ({omitted} characters \
             omitted); the full summary is in {where_full}.\n"
        )
    };
    let reserve = note_for(total).chars().count() + 8;
    let mut keep = max_chars.saturating_sub(reserve);
    loop {
        let mut end = text
            .char_indices()
            .nth(keep)
            .map(|(i, _)| i)
            .unwrap_or(text.len());
        if let Some(nl) = text[..end].rfind('\n') {
            end = nl + 1;
        }
        let kept = &text[..end];
        let mut out = kept.to_owned();
        out.push_str(&closers(kept));
        out.push_str(&note_for(total - kept.chars().count()));
        let over = out.chars().count().saturating_sub(max_chars);
        // The closers can be long (a fence as long as the text's longest backtick run): cut
        // that much more and close again.
        if over == 0 || keep == 0 {
            return out;
        }
        keep = keep.saturating_sub(over);
    }
}

/// What closes the fenced block and the `<details>` left open at the end of `kept`.
/// controlgate writes these literally and escapes them in any text it shows, so the literal
/// ones are its own. A fence (``` or ~~~, three or more) is closed by a line of the same
/// character at least as long; tags inside a fence are text.
fn closers(kept: &str) -> String {
    let mut fence: Option<(char, usize)> = None;
    let mut open = 0usize;
    for line in kept.lines() {
        let t = line.trim_start();
        let run = |c: char| t.chars().take_while(|&x| x == c).count();
        match fence {
            Some((c, n)) => {
                if run(c) >= n && t.trim_start_matches(c).trim().is_empty() {
                    fence = None;
                }
            }
            None => {
                if let Some(c) = ['`', '~'].into_iter().find(|&c| run(c) >= 3) {
                    fence = Some((c, run(c)));
                } else {
                    open += line.matches("<details>").count();
                    open = open.saturating_sub(line.matches("</details>").count());
                }
            }
        }
    }
    let mut out = String::new();
    if let Some((c, n)) = fence {
        out.push_str(&c.to_string().repeat(n));
        out.push('\n');
    }
    for _ in 0..open.min(4) {
        out.push_str("</details>\n");
    }
    out
}

/// Same, in bytes (the job summary's limit is 1 MiB).
pub fn fit_bytes(text: &str, max_bytes: usize, where_full: &str) -> String {
    if text.len() <= max_bytes {
        return text.to_owned();
    }
    // Characters are at most 4 bytes: cut by characters at a quarter, then re-check.
    let mut limit = max_bytes;
    loop {
        let s = fit(text, limit, where_full);
        if s.len() <= max_bytes || limit < 1024 {
            return s;
        }
        limit = limit * 3 / 4;
    }
}

/// A range of changed lines no test covers (from the coverage stage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncoveredRange {
    pub path: String,
    pub start: u32,
    pub end: u32,
}

/// A test's file as GitHub places an annotation: relative to the repository root, with `/`.
/// Reporters write absolute paths (jest, pytest's xunit1: `/home/runner/work/r/r/tests/a.py`)
/// and Windows ones (`tests\\a.py`); GitHub shows an annotation on a changed file's line only
/// under the path the repository has.
pub fn annotation_path(path: &str, workspace: Option<&str>) -> String {
    let path = path.replace('\\', "/");
    let mut rel = path.as_str();
    if let Some(ws) = workspace.map(|w| w.replace('\\', "/")) {
        let ws = ws.trim_end_matches('/');
        if !ws.is_empty()
            && let Some(r) = rel.strip_prefix(ws).and_then(|r| r.strip_prefix('/'))
        {
            rel = r;
        }
    }
    while let Some(r) = rel.strip_prefix("./") {
        rel = r;
    }
    rel.to_owned()
}

/// Check-run annotations: failing tests first (where the file is known, relative to
/// `workspace`), then uncovered changed lines, capped at `cap`.
pub fn annotations(
    report: &Report,
    uncovered: &[UncoveredRange],
    cap: usize,
    workspace: Option<&str>,
) -> Vec<Annotation> {
    let mut out = Vec::new();
    for c in report.cases.iter().filter(|c| c.status.is_failure()) {
        let Some((path, line)) = c.annotation_location() else {
            continue;
        };
        let line = line.unwrap_or(1).max(1);
        let mut message = known_failure(report, &c.id);
        message.push_str(&escape::plain(
            &c.message
                .clone()
                .unwrap_or_else(|| format!("{} ({})", c.id, c.status.as_str())),
            true,
        ));
        if message.len() > ANNOTATION_MESSAGE_LIMIT {
            let mut end = ANNOTATION_MESSAGE_LIMIT;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        if message.trim().is_empty() {
            message = c.status.as_str().to_owned();
        }
        let controls: Vec<String> = c.controls.iter().map(|cc| cc.id.to_string()).collect();
        let mut title = format!("{} {}", escape::plain(&c.id, false), c.status.as_str());
        if !controls.is_empty() {
            title.push_str(&format!(" [{}]", controls.join(", ")));
        }
        out.push(Annotation {
            path: annotation_path(path, workspace),
            start_line: line,
            end_line: line,
            annotation_level: Level::Failure,
            message,
            title: Some(title.chars().take(250).collect()),
        });
    }
    for u in uncovered {
        out.push(Annotation {
            path: u.path.clone(),
            start_line: u.start,
            end_line: u.end.max(u.start),
            annotation_level: Level::Warning,
            message: if u.end > u.start {
                format!(
                    "Lines {}-{} are changed but not covered by tests",
                    u.start, u.end
                )
            } else {
                format!("Line {} is changed but not covered by tests", u.start)
            },
            title: Some("Uncovered change".into()),
        });
    }
    out.truncate(cap);
    out
}

/// What the ledger's history says of a failing test, as the annotation's first line: flaky
/// (failed and passed within the recent default-branch runs) and/or failing on the base too.
fn known_failure(report: &Report, test: &str) -> String {
    let Some(ch) = &report.changes else {
        return String::new();
    };
    let mut out = String::new();
    if let Some(f) = ch
        .failure_history
        .iter()
        .find(|f| f.test == test && f.flaky)
    {
        out.push_str(&format!(
            "Flaky: failed {} of the last {} default-branch runs. ",
            f.failed, ch.recent_runs
        ));
    }
    if ch.pre_existing.iter().any(|t| t == test) {
        out.push_str("Pre-existing: failing on the base run too. ");
    }
    if !out.is_empty() {
        out.pop();
        out.push('\n');
    }
    out
}

/// Step outputs, in `action.yml`'s order.
pub fn outputs(
    report: &Report,
    report_path: &str,
    comment_url: Option<&str>,
    check_run_url: Option<&str>,
) -> Vec<(&'static str, String)> {
    let t = &report.tests;
    let rate = crate::analyze::gates::pass_rate(t)
        .map(|r| format!("{r:.2}"))
        .unwrap_or_default();
    vec![
        (
            "verdict",
            match report.verdict {
                Verdict::Pass => "pass",
                Verdict::Fail => "fail",
            }
            .to_owned(),
        ),
        ("tests-total", t.total.to_string()),
        ("tests-failed", (t.failed + t.errored).to_string()),
        ("pass-rate", rate),
        // Filled by the coverage stage; empty when no coverage was read.
        ("coverage", String::new()),
        ("coverage-delta", String::new()),
        ("patch-coverage", String::new()),
        ("report-path", report_path.to_owned()),
        ("comment-url", comment_url.unwrap_or("").to_owned()),
        ("check-run-url", check_run_url.unwrap_or("").to_owned()),
    ]
}

/// Appends `name=value` lines (a heredoc with a delimiter absent from the value when the value
/// spans lines) to the `$GITHUB_OUTPUT` file.
pub fn write_outputs(path: &Path, pairs: &[(&str, String)]) -> Result<(), Error> {
    let mut s = String::new();
    for (name, value) in pairs {
        if value.contains('\n') || value.contains('\r') {
            let mut delim = format!("CONTROLGATE_EOF_{}", crate::suites::random_token());
            while value.contains(&delim) {
                delim.push('_');
            }
            s.push_str(&format!("{name}<<{delim}\n{value}\n{delim}\n"));
        } else {
            s.push_str(&format!("{name}={value}\n"));
        }
    }
    append(path, &s)
}

/// Appends the summary to `$GITHUB_STEP_SUMMARY`, within GitHub's 1 MiB.
pub fn write_step_summary(path: &Path, markdown: &str) -> Result<(), Error> {
    let existing = std::fs::metadata(path)
        .map(|m| m.len() as usize)
        .unwrap_or(0);
    let room = STEP_SUMMARY_LIMIT_BYTES.saturating_sub(existing + 1);
    append(path, &fit_bytes(markdown, room, "`report.json`"))
}

fn append(path: &Path, s: &str) -> Result<(), Error> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.write_all(s.as_bytes()).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod unit {
    #[test]
    fn annotation_paths_are_relative_to_the_repository() {
        let ws = Some("/home/runner/work/r/r");
        for (given, shown) in [
            ("/home/runner/work/r/r/tests/a.py", "tests/a.py"),
            ("tests\\win\\b.py", "tests/win/b.py"),
            ("./src/c.rs", "src/c.rs"),
            ("/elsewhere/d.py", "/elsewhere/d.py"),
            ("/home/runner/work/r/rx/e.py", "/home/runner/work/r/rx/e.py"),
        ] {
            assert_eq!(annotation_path(given, ws), shown, "{given}");
        }
        assert_eq!(
            annotation_path("C:\\a\\r\\t\\x.cs", Some("C:\\a\\r")),
            "t/x.cs"
        );
    }

    use super::*;

    #[test]
    fn fit_cuts_at_a_line_and_says_so() {
        let line = format!("{}\n", "é".repeat(99));
        let text = line.repeat(700); // 70,000 characters
        assert_eq!(text.chars().count(), 70_000);
        let s = fit(&text, CHECK_SUMMARY_LIMIT, "the job summary");
        assert!(s.chars().count() <= CHECK_SUMMARY_LIMIT);
        assert!(s.contains("characters omitted"), "{}", &s[s.len() - 300..]);
        let body = s.split("\n\n> **Note:**").next().unwrap();
        assert!(body.ends_with('\n') && body.lines().all(|l| l.chars().count() == 99));
        assert_eq!(fit("short", 10, "x"), "short");
        // A fence as long as the budget's slack is closed within the limit all the same.
        let wide = format!("{}\n{}", "`".repeat(200), "y\n".repeat(5_000));
        let s = fit(&wide, 1_000, "x");
        assert!(s.chars().count() <= 1_000, "{}", s.chars().count());
        assert!(s.contains(&format!("y\n{}\n", "`".repeat(200))), "{s}");
        // A fence of four backticks holding a three-backtick line is closed with four.
        let fenced = format!("## no verdict\n````text\n```\n{}", "x\n".repeat(2_000));
        let s = fit(&fenced, 1_000, "x");
        assert!(
            s.split_once("\n\n> **Note:**")
                .unwrap()
                .0
                .ends_with("x\n````\n"),
            "{s}"
        );
        // Cut inside a `<details>` and a fence: both closed before the note.
        for open in ["<details><summary>Warnings</summary>\n\n", "```mermaid\n"] {
            let long = format!("## head\n{open}{}", "- a warning\n".repeat(10_000));
            let s = fit(&long, 1_000, "x");
            assert!(s.chars().count() <= 1_000, "{}", s.chars().count());
            let (body, note) = s.split_once("\n\n> **Note:**").unwrap();
            assert!(
                body.ends_with("</details>\n") || body.ends_with("```\n"),
                "{open}: {}",
                &body[body.len() - 40..]
            );
            assert!(note.contains("GitHub's size limit"), "{note}");
        }
        let b = fit_bytes(&text, 10_000, "x");
        assert!(b.len() <= 10_000 && b.contains("omitted"));
    }

    #[test]
    fn outputs_use_a_heredoc_for_multiline_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out");
        write_outputs(&p, &[("a", "1".into()), ("b", "x\ny".into())]).unwrap();
        let s = std::fs::read_to_string(&p).unwrap();
        let mut lines = s.lines();
        assert_eq!(lines.next(), Some("a=1"));
        let open = lines.next().unwrap();
        let delim = open.strip_prefix("b<<").unwrap();
        assert_eq!(
            (lines.next(), lines.next(), lines.next()),
            (Some("x"), Some("y"), Some(delim))
        );
    }

    #[test]
    fn marker_is_inert() {
        assert_eq!(marker("controlgate"), "<!-- controlgate:controlgate -->");
        assert_eq!(marker("a-->b"), "<!-- controlgate:a--_b -->");
    }
}
