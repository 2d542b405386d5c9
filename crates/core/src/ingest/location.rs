//! `file:line` extraction from failure/error text, for testcases without `file`/`line`
//! attributes.
//!
//! Recognised shapes, in order of preference:
//! 1. Rust panics (cargo test / nextest): `panicked at src/x.rs:12:5`.
//! 2. The first `path:line` whose path ends in a source-file extension and is not in a
//!    dependency folder (`node_modules`, `site-packages`, `/rustc/`, `.cargo/registry`) or a
//!    runtime's own frames (Node's `internal/...`), e.g.
//!    pytest `tests/test_x.py:42: AssertionError`, jest `at Object.<anonymous> (src/a.test.js:3:9)`,
//!    Python tracebacks `File "tests/x.py", line 7`, .NET stack frames
//!    `at A.B.Test() in C:\src\Tests\BTests.cs:line 16` (a Windows drive letter is kept).
//! 3. Else the first such path even inside a dependency folder.
//!
//! A bare file name without directory (Java's `(FooTest.java:123)`) is taken only when it starts
//! a line (pytest/Go `test_x.py:42: ...`): inside a stack frame it names a class's source file,
//! not a path in the repository.

/// Returns the first source location named in `text`.
pub fn find_location(text: &str) -> Option<(String, u32)> {
    // Every failure's text is searched, on the reader's thread: memchr's vectorised search
    // (with the walk below, 3 % of a 200,000-test run's time against `str::find`).
    if let Some(at) = memchr::memmem::find(text.as_bytes(), b"panicked at ") {
        let rest = &text[at + "panicked at ".len()..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == ',' || c == '\'')
            .unwrap_or(rest.len());
        if let Some(loc) = split_path_line(rest[..end].trim_end_matches(':')) {
            return Some(loc);
        }
    }
    let mut fallback = None;
    for cand in candidates(text) {
        if !is_dependency(&cand.0) {
            return Some(cand);
        }
        fallback.get_or_insert(cand);
    }
    fallback
}

/// `src/x.rs:12:5` / `src/x.rs:12` → (`src/x.rs`, 12).
fn split_path_line(s: &str) -> Option<(String, u32)> {
    let mut parts = s.splitn(3, ':');
    let path = parts.next()?;
    let line = parts.next()?.parse::<u32>().ok().filter(|&l| l > 0)?;
    has_source_ext(path).then(|| (normalize(path), line))
}

fn candidates(text: &str) -> impl Iterator<Item = (String, u32)> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        // Only a `:` or a `"` can start a candidate: the bytes between are skipped at once.
        while let Some(off) = memchr::memchr2(b':', b'"', &bytes[i.min(bytes.len())..]) {
            let pos = i + off;
            i = pos + 1;
            match bytes[pos] {
                b':' => {
                    if let Some(found) = colon_candidate(text, pos) {
                        return Some(found);
                    }
                }
                b'"' if text[pos + 1..].starts_with(|c: char| c != '"') => {
                    if let Some(found) = python_frame(text, pos) {
                        return Some(found);
                    }
                }
                _ => {}
            }
        }
        None
    })
}

fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'\\' | b'@' | b'+' | b'~')
}

/// `path:123` (or .NET's `path:line 123`) ending at the colon `colon`.
fn colon_candidate(text: &str, colon: usize) -> Option<(String, u32)> {
    let bytes = text.as_bytes();
    let after = &text[colon + 1..];
    let line = leading_number(after.strip_prefix("line ").unwrap_or(after))?;
    let mut start = colon;
    while start > 0 && is_path_byte(bytes[start - 1]) {
        start -= 1;
    }
    // A Windows drive letter: `C:\src\x.cs` (a letter and a colon before a `\` or `/`, not
    // part of a longer word).
    if start >= 2
        && bytes[start - 1] == b':'
        && bytes[start - 2].is_ascii_alphabetic()
        && matches!(bytes.get(start), Some(b'\\' | b'/'))
        && (start == 2 || !is_path_byte(bytes[start - 3]))
    {
        start -= 2;
    }
    let path = &text[start..colon];
    if !has_source_ext(path) {
        return None;
    }
    if !path.contains(['/', '\\']) {
        // Bare file name: only at the start of a line (pytest, Go), not inside a stack frame.
        let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
        if !text[line_start..start].trim().is_empty() {
            return None;
        }
    }
    Some((normalize(path), line))
}

/// Python traceback frame: `File "path", line 12`, with the opening quote at `quote`.
fn python_frame(text: &str, quote: usize) -> Option<(String, u32)> {
    if !text[..quote].ends_with("File ") {
        return None;
    }
    let rest = &text[quote + 1..];
    let close = rest.find('"')?;
    let path = &rest[..close];
    let after = rest[close + 1..].strip_prefix(", line ")?;
    let line = leading_number(after)?;
    (has_source_ext(path) && !path.contains('\n')).then(|| (normalize(path), line))
}

fn leading_number(s: &str) -> Option<u32> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    s[..digits].parse::<u32>().ok().filter(|&l| l > 0)
}

fn normalize(path: &str) -> String {
    path.strip_prefix("./").unwrap_or(path).to_owned()
}

fn is_dependency(path: &str) -> bool {
    path.contains("node_modules")
        || path.contains("site-packages")
        || path.contains("dist-packages")
        || path.starts_with("/rustc/")
        || path.contains(".cargo/registry")
        || path.contains("/usr/lib/")
        // Node's own frames (`internal/process/task_queues.js`, `node:internal/...`).
        || path.starts_with("internal/")
        || path.starts_with("node:")
}

const SOURCE_EXTENSIONS: &[&str] = &[
    "rs", "py", "pyx", "js", "jsx", "mjs", "cjs", "ts", "tsx", "mts", "cts", "vue", "svelte", "go",
    "java", "kt", "kts", "scala", "groovy", "clj", "rb", "php", "cs", "fs", "vb", "c", "cc", "cpp",
    "cxx", "h", "hh", "hpp", "m", "mm", "swift", "dart", "ex", "exs", "erl", "lua", "pl", "pm",
    "r", "jl", "hs", "ml", "elm", "zig", "nim", "cr", "sh", "bash", "feature", "robot", "sql",
];

/// `true` when the last path segment has a known source-file extension.
pub fn has_source_ext(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => SOURCE_EXTENSIONS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(ext)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::find_location;

    fn loc(text: &str) -> Option<(String, u32)> {
        find_location(text)
    }

    #[test]
    fn shapes() {
        assert_eq!(
            loc("x\n\ntests/test_x.py:42: AssertionError"),
            Some(("tests/test_x.py".into(), 42))
        );
        assert_eq!(
            loc("thread 'a' panicked at src/x.rs:12:5:\nboom"),
            Some(("src/x.rs".into(), 12))
        );
        assert_eq!(
            loc(
                "Error: expect(x)\n    at Object.<anonymous> (/w/node_modules/a/b.js:1:2)\n    at Object.<anonymous> (src/a.test.js:3:9)"
            ),
            Some(("src/a.test.js".into(), 3))
        );
        assert_eq!(
            loc("java.lang.AssertionError\n\tat a.b.FooTest.t(FooTest.java:123)"),
            None
        );
        assert_eq!(
            loc("File \"tests/x.py\", line 7, in test"),
            Some(("tests/x.py".into(), 7))
        );
        assert_eq!(loc("test_x.py:9: in test"), Some(("test_x.py".into(), 9)));
        assert_eq!(loc("see http://host:8080/x at 12:30:45"), None);
        assert_eq!(
            loc("   at A.SampleFact.FailedTest() in c:\\ci\\A.Tests\\SampleFact.cs:line 16"),
            Some(("c:\\ci\\A.Tests\\SampleFact.cs".into(), 16))
        );
        assert_eq!(
            loc("  at A.B.Test () [0x00000] in /home/ci/src/B.cs:121 \n"),
            Some(("/home/ci/src/B.cs".into(), 121))
        );
        assert_eq!(loc("   at A.B.T() in [fileLocation]:line #"), None);
    }
}
