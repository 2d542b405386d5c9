//! Unified diff reader (`--diff FILE`): `git diff` output (any context size, with or without
//! `a/`/`b/` prefixes) or a plain `diff -u`. Yields the new-side line number of every `+` line,
//! per file, as diff-cover does. Deleted and binary files carry no lines; a pure rename carries
//! none either. Hunks are read by their `@@ -k,l +n,m @@` counts, so content lines that look
//! like headers (`+++`, `diff --git`) are read correctly.

use std::io::BufRead;

use crate::error::ParseError;
use crate::model::coverage::{ChangeKind, ChangedFile};

struct Hunk {
    old_left: u64,
    new_left: u64,
    next_new: u32,
    /// Whether any of its lines were read.
    read_any: bool,
}

/// Parses a unified diff.
pub fn parse(mut reader: impl BufRead) -> Result<Vec<ChangedFile>, ParseError> {
    let mut out: Vec<ChangedFile> = Vec::new();
    let mut cur: Option<ChangedFile> = None;
    let mut git_header = false;
    let mut hunk: Option<Hunk> = None;
    let mut buf = Vec::with_capacity(256);
    let mut line_no = 0u64;
    // The first line that is not blank (its number, whether it reads as another report, and
    // whether it opens one of the texts without a file a diff tool writes): what a text with
    // no file in it is judged by.
    let mut first_text: Option<(u64, bool, bool)> = None;
    // The line of a `---` file header, until the `+++` that must follow it.
    let mut old_header: Option<u64> = None;
    // The first diffstat total line (` 3 files changed, …`) outside a hunk.
    let mut diffstat: Option<u64> = None;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| ParseError::at_line(line_no + 1, format!("read error: {e}")))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let mut line: &[u8] = &buf;
        if let Some(l) = line.strip_suffix(b"\n") {
            line = l;
        }
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        if line_no == 1
            && let Some(l) = line.strip_prefix(b"\xEF\xBB\xBF")
        {
            line = l;
        }
        if first_text.is_none() && !line.iter().all(u8::is_ascii_whitespace) {
            first_text = Some((line_no, another_report(line), fileless_diff(line)));
        }
        // `git show --stat`, `git log --stat`: a change summarised, its lines not given.
        if diffstat.is_none() && hunk.is_none() && is_diffstat_total(line) {
            diffstat = Some(line_no);
        }
        if let Some(minus) = old_header.take()
            && !line.starts_with(b"+++ ")
        {
            return Err(ParseError::at_line(
                line_no,
                format!("the `---` file header of line {minus} is not followed by `+++`"),
            ));
        }
        let mut in_header = false;
        if let Some(h) = hunk.as_mut() {
            match line.first() {
                Some(b'+') => {
                    if h.new_left == 0 {
                        return Err(ParseError::at_line(
                            line_no,
                            "hunk has more `+` lines than its header says",
                        ));
                    }
                    if let Some(f) = cur.as_mut() {
                        f.added_lines.push(h.next_new);
                    }
                    h.next_new = h.next_new.saturating_add(1);
                    h.new_left -= 1;
                }
                Some(b'-') => {
                    if h.old_left == 0 {
                        return Err(ParseError::at_line(
                            line_no,
                            "hunk has more `-` lines than its header says",
                        ));
                    }
                    h.old_left -= 1;
                }
                Some(b'\\') => {}
                Some(b' ') | None => {
                    if h.old_left == 0 || h.new_left == 0 {
                        return Err(ParseError::at_line(
                            line_no,
                            "hunk is longer than its header says",
                        ));
                    }
                    h.old_left -= 1;
                    h.new_left -= 1;
                    h.next_new = h.next_new.saturating_add(1);
                }
                Some(_) if line.starts_with(b"diff ") || line.starts_with(b"@@") => {
                    // A hunk header overstating its length (diff-cover's own test diffs have
                    // them): the lines read are kept, this line read as a header. A header
                    // with no lines at all under it is a diff cut short.
                    if !h.read_any {
                        return Err(unfinished(line_no, h));
                    }
                    h.old_left = 0;
                    h.new_left = 0;
                    in_header = true;
                }
                Some(_) => {
                    return Err(ParseError::at_line(
                        line_no,
                        "line inside a hunk does not start with ' ', '+', '-' or '\\' (diff truncated or edited by hand?)",
                    ));
                }
            }
            h.read_any = true;
            if h.old_left == 0 && h.new_left == 0 {
                hunk = None;
            }
            if !in_header {
                continue;
            }
        }
        if let Some(rest) = line.strip_prefix(b"diff --git ") {
            out.extend(cur.take());
            git_header = true;
            let path = git_header_path(rest).ok_or_else(|| {
                ParseError::at_line(line_no, "cannot read the paths of a `diff --git` line")
            })?;
            cur = Some(ChangedFile {
                path,
                old_path: None,
                kind: ChangeKind::Modified,
                added_lines: Vec::new(),
            });
        } else if line.starts_with(b"diff --cc ") || line.starts_with(b"diff --combined ") {
            return Err(ParseError::at_line(
                line_no,
                "combined (merge) diffs are not supported; diff against the merge-base",
            ));
        } else if let Some(rest) = line.strip_prefix(b"--- ") {
            old_header = Some(line_no);
            if !git_header || cur.is_none() {
                // plain unified diff: `---` starts a file
                out.extend(cur.take());
                let old = header_path(rest, false);
                cur = Some(ChangedFile {
                    path: old.clone().unwrap_or_default(),
                    old_path: old,
                    kind: ChangeKind::Modified,
                    added_lines: Vec::new(),
                });
            }
            if let Some(f) = cur.as_mut() {
                if header_path(rest, git_header).is_none() {
                    f.kind = ChangeKind::Added;
                }
            }
        } else if let Some(rest) = line.strip_prefix(b"+++ ") {
            let Some(f) = cur.as_mut() else {
                return Err(ParseError::at_line(
                    line_no,
                    "`+++` line without a preceding `---` line",
                ));
            };
            match header_path(rest, git_header) {
                Some(p) => f.path = p,
                None => f.kind = ChangeKind::Deleted,
            }
        } else if line.starts_with(b"@@") {
            let Some(f) = cur.as_ref() else {
                return Err(ParseError::at_line(line_no, "hunk has no source file"));
            };
            let _ = f;
            hunk = Some(parse_hunk_header(line).ok_or_else(|| {
                ParseError::at_line(line_no, "malformed hunk header, expected `@@ -k,l +n,m @@`")
            })?);
            if let Some(h) = &hunk {
                if h.old_left == 0 && h.new_left == 0 {
                    hunk = None;
                }
            }
        } else if let Some(f) = cur.as_mut() {
            if line.starts_with(b"new file mode") {
                f.kind = ChangeKind::Added;
            } else if line.starts_with(b"deleted file mode") {
                f.kind = ChangeKind::Deleted;
            } else if let Some(p) = line.strip_prefix(b"rename from ") {
                f.old_path = Some(unquote(p));
                f.kind = ChangeKind::Renamed;
            } else if let Some(p) = line.strip_prefix(b"rename to ") {
                f.path = unquote(p);
                f.kind = ChangeKind::Renamed;
            } else if let Some(p) = line.strip_prefix(b"copy to ") {
                f.path = unquote(p);
                f.kind = ChangeKind::Copied;
            } else if line.starts_with(b"Binary files ") || line.starts_with(b"GIT binary patch") {
                f.kind = ChangeKind::Binary;
            } else if line.contains(&0) {
                // Hardening: text diffs never hold NUL bytes (git prints "Binary files
                // differ" instead); this is binary data, not a unified diff.
                return Err(ParseError::at_line(
                    line_no,
                    "NUL byte outside a hunk: binary data, not a unified diff",
                ));
            } else if matches!(line.first(), Some(b'+' | b'-'))
                // A mail's signature; `git format-patch`'s line between a commit's message and
                // its diffstat (each patch of a series has one).
                && line != b"-- "
                && line != b"---"
            {
                // Hardening: a `+`/`-` line after the hunk's counted lines (or before any hunk)
                // means the header understates the hunk; silently skipping it would drop
                // changed lines from the patch coverage.
                return Err(ParseError::at_line(
                    line_no,
                    "`+`/`-` line outside any hunk: the hunk has more lines than its `@@` header says",
                ));
            }
        }
    }
    // So at the end: the lines read are kept (diff-cover's test diffs end so too).
    if let Some(h) = &hunk
        && !h.read_any
    {
        return Err(unfinished(line_no + 1, h));
    }
    if let Some(minus) = old_header {
        return Err(ParseError::at_line(
            line_no + 1,
            format!("the `---` file header of line {minus} is not followed by `+++`"),
        ));
    }
    out.extend(cur.take());
    // Another report passed by mistake (LCOV, XML, JSON) has no file in it: read as a diff it
    // would be a change of nothing, and a patch gate on it would pass. Git's own texts without
    // a file (an empty or merge commit's header, a submodule's log) are a change of nothing.
    if let (true, Some((line, true, _))) = (out.is_empty(), first_text) {
        return Err(ParseError::at_line(
            line,
            "not a unified diff: no `diff --git` or `---`/`+++` file header in it, and it reads \
             as another report (coverage, XML or JSON) or as a diff in colour",
        ));
    }
    // A diffstat with no file in the text is a change whose lines were left out.
    if let (true, Some(line)) = (out.is_empty(), diffstat) {
        return Err(ParseError::at_line(
            line,
            "not a unified diff: a diffstat (`git show --stat`, `git log --stat`) with no \
             `diff --git` file in it: the changed lines are not in it (use `git diff` or `-p`)",
        ));
    }
    // Any other text without a file (git's `fatal: …` captured with `2>&1`, a diffstat, an
    // error page) is not a change of nothing either: the patch gate would pass on it.
    if let (true, Some((line, _, false))) = (out.is_empty(), first_text) {
        return Err(ParseError::at_line(
            line,
            "not a unified diff: no `diff --git` or `---`/`+++` file header in it, and it does \
             not start as a diff without files does (`commit`, `From`, `Submodule`, `diff`, \
             `Binary files`, `Only in`): was the command that wrote it an error?",
        ));
    }
    for f in &mut out {
        if matches!(f.kind, ChangeKind::Deleted | ChangeKind::Binary) {
            f.added_lines.clear();
        }
        f.added_lines.sort_unstable();
        f.added_lines.dedup();
    }
    Ok(out)
}

/// Whether the first line of a text with no diff in it is another report's — XML (JUnit,
/// Cobertura, JaCoCo), JSON, an LCOV record — or a diff in colour (`color.ui=always`), which
/// no reader takes for one.
fn another_report(line: &[u8]) -> bool {
    let line = line.trim_ascii_start();
    matches!(line.first(), Some(b'<' | b'{' | b'[' | b'\x1b'))
        || [&b"TN:"[..], b"SF:", b"DA:", b"end_of_record"]
            .iter()
            .any(|p| line.starts_with(p))
}

/// ` 3 files changed, 10 insertions(+)`, ` 1 file changed`: a diffstat's total line.
fn is_diffstat_total(line: &[u8]) -> bool {
    // Exactly one space first, as git writes it (a commit message's lines are indented by
    // four and may say anything).
    let Some(t) = line.strip_prefix(b" ") else {
        return false;
    };
    let digits = t.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0
        && (t[digits..].starts_with(b" file changed") || t[digits..].starts_with(b" files changed"))
}

/// Whether a text's first line opens one of the texts without a file in them that git and
/// `diff` write for a change of nothing: `git show` of a merge or an empty commit, a
/// `format-patch` of one, a submodule's log, `diff -r` of binary files or one-sided trees.
fn fileless_diff(line: &[u8]) -> bool {
    [
        &b"commit "[..],
        b"From ",
        b"Submodule ",
        b"diff ",
        b"Binary files ",
        b"Only in ",
        b"Common subdirectories: ",
    ]
    .iter()
    .any(|p| line.starts_with(p))
        // `diff -rs` of identical trees.
        || (line.starts_with(b"Files ") && line.ends_with(b" are identical"))
}

/// The error for a hunk header with none of its lines under it (at `line_no`: the next
/// header, or the end of the diff): a patch gate would be decided on nothing of the change.
fn unfinished(line_no: u64, h: &Hunk) -> ParseError {
    ParseError::at_line(
        line_no,
        format!(
            "the hunk above has none of the {} line(s) its `@@` header counts (diff truncated?)",
            h.old_left.max(h.new_left)
        ),
    )
}

/// `@@ -k[,l] +n[,m] @@ ...`
fn parse_hunk_header(line: &[u8]) -> Option<Hunk> {
    let s = std::str::from_utf8(line).ok()?;
    let inner = s.strip_prefix("@@ ")?;
    let end = inner.find(" @@")?;
    let mut parts = inner[..end].split(' ');
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let count = |r: &str| -> Option<(u64, u64)> {
        match r.split_once(',') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (_, old_len) = count(old)?;
    let (new_start, new_len) = count(new)?;
    Some(Hunk {
        old_left: old_len,
        new_left: new_len,
        next_new: u32::try_from(new_start).ok()?,
        read_any: false,
    })
}

/// The new-side path of `diff --git a/X b/Y` (quoted or not).
fn git_header_path(rest: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(rest);
    if let Some(body) = s.strip_suffix('"') {
        let start = body.rfind(" \"")?;
        let p = unquote(s[start + 1..].as_bytes());
        return Some(strip_ab(&p).to_string());
    }
    // Same path on both sides (the common case): split in the middle.
    let n = s.len();
    // Fuzz finding (fuzz/README.md, diff #1): the middle of a lossily decoded path can fall
    // inside a multi-byte character, so slice with `get`, never `[..]`.
    if n % 2 == 1
        && let (Some(a), Some(b)) = (s.get(..n / 2), s.get(n / 2 + 1..))
        && s.as_bytes().get(n / 2) == Some(&b' ')
        && strip_ab(a) == strip_ab(b)
    {
        return Some(strip_ab(b).to_string());
    }
    let idx = s.rfind(" b/").or_else(|| s.rfind(' '))?;
    Some(strip_ab(&s[idx + 1..]).to_string())
}

fn strip_ab(p: &str) -> &str {
    p.strip_prefix("b/")
        .or_else(|| p.strip_prefix("a/"))
        .unwrap_or(p)
}

/// Path of a `---`/`+++` line; `None` for `/dev/null`.
fn header_path(rest: &[u8], strip_prefix: bool) -> Option<String> {
    let raw = if rest.first() == Some(&b'"') {
        // git appends a tab after a name holding a space (quoted or not), for `patch`.
        unquote(rest.strip_suffix(b"\t").unwrap_or(rest))
    } else {
        // plain diffs append a tab and a timestamp
        let end = rest.iter().position(|&b| b == b'\t').unwrap_or(rest.len());
        String::from_utf8_lossy(&rest[..end]).into_owned()
    };
    if raw == "/dev/null" {
        return None;
    }
    if strip_prefix || raw.starts_with("a/") || raw.starts_with("b/") {
        return Some(strip_ab(&raw).to_string());
    }
    Some(raw)
}

/// Git's C-style quoting (`"a\tb\303\251"`); unquoted input is returned as is.
fn unquote(b: &[u8]) -> String {
    let Some(inner) = b.strip_prefix(b"\"").and_then(|x| x.strip_suffix(b"\"")) else {
        return String::from_utf8_lossy(b).into_owned();
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        if c == b'\\' && i + 1 < inner.len() {
            let d = inner[i + 1];
            let oct = inner
                .get(i + 1..i + 4)
                .filter(|o| o.iter().all(|x| (b'0'..=b'7').contains(x)));
            if let Some(o) = oct {
                out.push(((o[0] - b'0') << 6) | ((o[1] - b'0') << 3) | (o[2] - b'0'));
                i += 4;
                continue;
            }
            out.push(match d {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                b'a' => 7,
                b'b' => 8,
                b'f' => 12,
                b'v' => 11,
                other => other,
            });
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_names_with_a_space_carry_a_tab() {
        // What git writes for a renamed `café menu.js` (quoted: non-ASCII; a tab: the space).
        let d = "diff --git a/js/menu.js \"b/js/caf\\303\\251 menu.js\"\nsimilarity index 76%\nrename from js/menu.js\nrename to \"js/caf\\303\\251 menu.js\"\nindex 1..2 100644\n--- a/js/menu.js\n+++ \"b/js/caf\\303\\251 menu.js\"\t\n@@ -3,0 +4 @@\n+x\n";
        let files = parse(d.as_bytes()).unwrap();
        assert_eq!(files[0].path, "js/caf\u{e9} menu.js");
        assert_eq!(files[0].added_lines, [4]);
    }

    #[test]
    fn git_diff_with_renames_binary_delete() {
        let d = "diff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\n+++ b/x.py\n@@ -1,0 +2,2 @@ def f():\n+a\n+b\n@@ -10 +12 @@\n-old\n+new\n\\ No newline at end of file\n\
diff --git a/old.py b/new.py\nsimilarity index 90%\nrename from old.py\nrename to new.py\n--- a/old.py\n+++ b/new.py\n@@ -3 +3 @@\n-x\n+y\n\
diff --git a/gone.py b/gone.py\ndeleted file mode 100644\n--- a/gone.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n\
diff --git a/img.png b/img.png\nnew file mode 100644\nBinary files /dev/null and b/img.png differ\n\
diff --git a/pure.py b/moved/pure.py\nsimilarity index 100%\nrename from pure.py\nrename to moved/pure.py\n\
diff --git \"a/sp ace\\303\\251.py\" \"b/sp ace\\303\\251.py\"\nnew file mode 100644\n--- /dev/null\n+++ \"b/sp ace\\303\\251.py\"\n@@ -0,0 +1 @@\n++++ not a header\n";
        let f = parse(d.as_bytes()).unwrap();
        let v: Vec<(&str, ChangeKind, Vec<u32>)> = f
            .iter()
            .map(|f| (f.path.as_str(), f.kind, f.added_lines.clone()))
            .collect();
        assert_eq!(
            v,
            vec![
                ("x.py", ChangeKind::Modified, vec![2, 3, 12]),
                ("new.py", ChangeKind::Renamed, vec![3]),
                ("gone.py", ChangeKind::Deleted, vec![]),
                ("img.png", ChangeKind::Binary, vec![]),
                ("moved/pure.py", ChangeKind::Renamed, vec![]),
                ("sp aceé.py", ChangeKind::Added, vec![1]),
            ]
        );
    }

    #[test]
    fn context_and_plain_diff() {
        let d =
            "--- a.txt\t2024-01-01\n+++ a.txt\t2024-01-02\n@@ -1,3 +1,4 @@\n one\n+two\n three\n\n";
        let f = parse(d.as_bytes()).unwrap();
        assert_eq!(f[0].path, "a.txt");
        assert_eq!(f[0].added_lines, vec![2]);
    }

    #[test]
    fn malformed() {
        assert!(parse(&b"@@ -1 +1 @@\n+x\n"[..]).is_err());
        assert!(
            parse(&b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1,3 @@\n+x\nzzz\n"[..]).is_err()
        );
        // A hunk header overstating its length, before the next file or at the end: the lines
        // read are kept (as diff-cover does; its own test diffs have such headers).
        let two = |first: u32, second: u32| {
            format!(
                "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -0,0 +1,{first} @@\n+x\ndiff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -0,0 +1,{second} @@\n+y\n+y\n"
            )
        };
        for (first, second) in [(1, 2), (3, 2), (1, 5), (9, 9)] {
            let f = parse(two(first, second).as_bytes()).unwrap();
            assert_eq!(
                (f[0].added_lines.clone(), f[1].added_lines.clone()),
                (vec![1], vec![1, 2])
            );
        }
        // A header with none of its lines, before the next header or at the end: cut short.
        let cut = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -0,0 +1,3 @@\n";
        for (text, line) in [
            (format!("{cut}@@ -0,0 +4 @@\n+x\n"), 5),
            (format!("{cut}diff --git a/y b/y\n"), 5),
            (cut.to_owned(), 5),
        ] {
            let e = parse(text.as_bytes()).unwrap_err();
            assert_eq!(e.location.line, Some(line), "{text}");
            assert!(e.message.contains("none of the 3 line(s)"), "{e}");
        }
        // Headers and a hunk with no lines at all.
        assert!(parse(&b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -6,0 +6,3 @@\n"[..]).is_err());
        // Not a diff at all (another report by mistake); an empty one is a change of nothing.
        for text in [
            "SF:a.py\nDA:1,0\nend_of_record\n",
            "\nTN:\nSF:a.py\n",
            "<testsuites/>",
            "\u{feff}<?xml version=\"1.0\"?><coverage/>",
            "{\"stats\": {}}",
            "\x1b[1mdiff --git a/x b/x\x1b[m\n\x1b[1m--- a/x\x1b[m\n",
            // A failed `git diff … > change.diff 2>&1`, a diffstat, anything else.
            "fatal: ambiguous argument 'origin/main...HEAD': unknown revision\n",
            " calc/ops.py | 8 ++++++++\n 1 file changed, 8 insertions(+)\n",
            "garbage",
            // `git show --stat`: a commit header, then only its diffstat.
            "commit 1a2b\nAuthor: A <a@x>\n\n    change\n\n calc/ops.py | 8 ++++++++\n 1 file changed, 8 insertions(+)\n",
            // `diff -rq`: files differ, lines not given.
            "Files a/x and b/x differ\n",
        ] {
            let e = parse(text.as_bytes()).unwrap_err().to_string();
            assert!(e.contains("not a unified diff"), "{text}: {e}");
        }
        for text in [
            "",
            "\n",
            " \r\n\n",
            // `diff -ru` of binary files only, and of trees with files on one side.
            "diff -ru a/x.png b/x.png\nBinary files a/x.png and b/x.png differ\nOnly in b: y\n",
            // `git show` of a merge or an empty commit; a submodule moved (`--submodule=log`).
            "commit 1a2b\nMerge: 3c 4d\nAuthor: A <a@x>\nDate:   now\n\n    Merge branch 'b'\n",
            // An empty commit whose message quotes a diffstat; identical trees.
            "commit 1a2b\nAuthor: A <a@x>\n\n    3 files changed, 10 insertions(+)\n",
            "Files a/x and b/x are identical\n",
            "Submodule sub 45519e7..2b78eff:\n  > t\n",
            "From 1a2b Mon Sep 17 00:00:00 2001\nSubject: [PATCH] empty\n\n---\n-- \n2.47.3\n",
        ] {
            assert!(parse(text.as_bytes()).unwrap().is_empty(), "{text:?}");
        }
        // `git format-patch --stdout` of two commits: each has its `---` line before its
        // diffstat; and a plain `diff -u` written with a BOM.
        let patch = |n: u32| {
            format!(
                "From {n} Mon Sep 17 00:00:00 2001\nSubject: [PATCH {n}/2] c\n\n---\n x{n}.py | 1 +\n 1 file changed\n\ndiff --git a/x{n}.py b/x{n}.py\n--- a/x{n}.py\n+++ b/x{n}.py\n@@ -0,0 +1 @@\n+x\n-- \n2.47.3\n\n"
            )
        };
        let f = parse((patch(1) + &patch(2)).as_bytes()).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].added_lines.clone(), f[1].path.as_str()),
            (vec![1], "x2.py")
        );
        let f = parse("\u{feff}--- a.txt\n+++ a.txt\n@@ -1 +1,2 @@\n a\n+b\n".as_bytes()).unwrap();
        assert_eq!(
            (f[0].path.as_str(), f[0].added_lines.clone()),
            ("a.txt", vec![2])
        );
        // A preamble (a mail's, `git format-patch`) before the files is fine.
        let f = parse(&b"From: a\nSubject: x\n\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+x\n"[..]).unwrap();
        assert_eq!(f[0].added_lines, vec![1]);
        assert!(parse(&b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ garbage @@\n"[..]).is_err());
    }
}
