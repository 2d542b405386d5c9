//! Generated git histories for the differential test of changed lines against the git CLI
//! (`tests/all/git_differential.rs` runs 120 of them, `bench/git_differential.rs` any number).
//!
//! Each case is a repository with `main` and a `feature` branch made of random operations on a
//! few files: edits (inserts, deletes, replacements), moved and duplicated blocks and runs of
//! repeated or blank lines (slider cases), renames with edits at a chosen similarity from 20 %
//! to 100 % (and renames that grow the file), copies, mode changes, CRLF files and line-ending
//! flips, binary files, odd paths (spaces, non-ASCII, quotes, backslashes, tabs), added and
//! deleted files, and a `main` that moves on after the branch point.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A small deterministic generator (SplitMix64), so a seed names a case forever.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Runs git in `dir` with a fixed identity and dates; panics with git's message on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.autocrlf=false",
            "-c",
            "core.fileMode=true",
        ])
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_AUTHOR_DATE", "2024-06-01T10:00:00+00:00")
        .env("GIT_COMMITTER_DATE", "2024-06-01T10:00:00+00:00")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One file of a tree: its lines (without endings), line ending, and whether it is binary.
#[derive(Clone)]
struct File {
    path: String,
    lines: Vec<String>,
    crlf: bool,
    binary: bool,
    exec: bool,
}

impl File {
    fn bytes(&self) -> Vec<u8> {
        if self.binary {
            let mut b = b"\x00BIN\x00".to_vec();
            for l in &self.lines {
                b.extend_from_slice(l.as_bytes());
                b.push(0);
            }
            return b;
        }
        let nl = if self.crlf { "\r\n" } else { "\n" };
        let mut s = String::new();
        for l in &self.lines {
            s.push_str(l);
            s.push_str(nl);
        }
        s.into_bytes()
    }
}

const NAMES: &[&str] = &[
    "src/app.py",
    "src/auth.py",
    "src/billing/invoice.py",
    "lib/util.js",
    "lib/deep/nested/mod.rs",
    "README.md",
    "docs/read me.md",
    "ünïcødé/файл.txt",
    "js/café menu.js",
    "quote\"d.txt",
    "back\\slash.txt",
    "tab\tname.txt",
    "x.c",
    "include/x.h",
];

/// A line from a small vocabulary: repeats and blanks make the alignment ambiguous.
fn line(rng: &mut Rng, serial: &mut u64) -> String {
    *serial += 1;
    match rng.below(10) {
        0 | 1 => String::new(),
        2 => "}".to_owned(),
        3 => "    return x".to_owned(),
        4 => "        pass".to_owned(),
        5 => format!("    value = {}", rng.below(4)),
        _ => format!("line {} of {}", *serial, rng.below(1000)),
    }
}

fn lines(rng: &mut Rng, serial: &mut u64, n: usize) -> Vec<String> {
    (0..n).map(|_| line(rng, serial)).collect()
}

/// Random edits to `lines`: inserts, deletes, replacements, a duplicated or moved block.
fn edit(rng: &mut Rng, serial: &mut u64, lines: &mut Vec<String>) {
    for _ in 0..1 + rng.below(4) {
        let len = lines.len();
        match rng.below(6) {
            0 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(6);
                let new = self::lines(rng, serial, n);
                lines.splice(at..at, new);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                let n = (1 + rng.below(5)).min(len - at);
                lines.drain(at..at + n);
            }
            2 if len > 0 => {
                let at = rng.below(len);
                let n = (1 + rng.below(4)).min(len - at);
                let k = 1 + rng.below(4);
                let new = self::lines(rng, serial, k);
                lines.splice(at..at + n, new);
            }
            3 if len > 1 => {
                // Duplicate a block right after itself (a slider: which copy is "added"?).
                let at = rng.below(len);
                let n = (1 + rng.below(4)).min(len - at);
                let block: Vec<String> = lines[at..at + n].to_vec();
                lines.splice(at + n..at + n, block);
            }
            4 if len > 2 => {
                // Move a block elsewhere.
                let at = rng.below(len);
                let n = (1 + rng.below(5)).min(len - at);
                let block: Vec<String> = lines.drain(at..at + n).collect();
                let to = rng.below(lines.len() + 1);
                lines.splice(to..to, block);
            }
            _ => {
                // Blank lines and repeats at the end (tail trimming territory).
                let n = 1 + rng.below(3);
                for _ in 0..n {
                    lines.push(if rng.chance(50) {
                        String::new()
                    } else {
                        "}".to_owned()
                    });
                }
            }
        }
    }
}

/// Keeps about `similarity` % of `lines` (the rest replaced), optionally growing the file.
fn reshape(
    rng: &mut Rng,
    serial: &mut u64,
    lines: &[String],
    similarity: usize,
    grow: bool,
) -> Vec<String> {
    let mut out: Vec<String> = lines
        .iter()
        .map(|l| {
            if rng.below(100) < similarity {
                l.clone()
            } else {
                format!("changed {} {}", *serial, rng.below(1000))
            }
        })
        .collect();
    *serial += 1;
    if grow {
        let extra = lines.len() * (1 + rng.below(3)) + 2;
        let at = rng.below(out.len() + 1);
        let new = self::lines(rng, serial, extra);
        out.splice(at..at, new);
    }
    out
}

fn write_tree(dir: &Path, files: &[File]) {
    for f in files {
        let p = dir.join(&f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, f.bytes()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if f.exec { 0o755 } else { 0o644 };
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
}

fn remove(dir: &Path, f: &File) {
    let _ = std::fs::remove_file(dir.join(&f.path));
}

/// Creates case `seed` under `root` (`root/case-<seed>`) and returns the repository: `main`
/// holds the base, `feature` (checked out) the change. What was done is in `ops`.
pub fn generate(root: &Path, seed: u64) -> (PathBuf, Vec<String>) {
    let mut rng = Rng::new(seed);
    let mut serial = seed * 1_000_000;
    let dir = root.join(format!("case-{seed}"));
    std::fs::create_dir_all(&dir).unwrap();
    git(&dir, &["init", "-q", "-b", "main"]);
    let mut files: Vec<File> = Vec::new();
    let n_files = 2 + rng.below(5);
    let mut names: Vec<&str> = NAMES.to_vec();
    for _ in 0..n_files {
        let name = names.remove(rng.below(names.len()));
        let n = rng.below(60);
        files.push(File {
            path: name.to_owned(),
            lines: lines(&mut rng, &mut serial, n),
            crlf: rng.chance(20),
            binary: rng.chance(5),
            exec: false,
        });
    }
    write_tree(&dir, &files);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-qm", "base"]);
    git(&dir, &["checkout", "-qb", "feature"]);

    let mut ops = Vec::new();
    for _ in 0..1 + rng.below(4) {
        if files.is_empty() {
            break;
        }
        let i = rng.below(files.len());
        match rng.below(10) {
            0..=2 => {
                edit(&mut rng, &mut serial, &mut files[i].lines);
                ops.push(format!("edit {:?}", files[i].path));
            }
            3..=4 => {
                // Rename with edits at a chosen similarity (20-100 %), sometimes grown.
                let similarity = 20 + rng.below(81);
                let grow = rng.chance(25);
                let Some(to) = names.pop() else { continue };
                let old = files[i].clone();
                remove(&dir, &old);
                files[i].path = to.to_owned();
                files[i].lines = reshape(&mut rng, &mut serial, &old.lines, similarity, grow);
                ops.push(format!(
                    "rename {:?} -> {to:?} at {similarity}% (grown: {grow})",
                    old.path
                ));
            }
            5 => {
                let Some(to) = names.pop() else { continue };
                let mut copy = files[i].clone();
                copy.path = to.to_owned();
                if rng.chance(50) {
                    edit(&mut rng, &mut serial, &mut copy.lines);
                }
                ops.push(format!("copy {:?} -> {to:?}", files[i].path));
                files.push(copy);
            }
            6 => {
                files[i].exec = !files[i].exec;
                if rng.chance(50) {
                    edit(&mut rng, &mut serial, &mut files[i].lines);
                }
                ops.push(format!("mode {:?}", files[i].path));
            }
            7 => {
                files[i].crlf = !files[i].crlf;
                if rng.chance(50) {
                    edit(&mut rng, &mut serial, &mut files[i].lines);
                }
                ops.push(format!("line endings {:?}", files[i].path));
            }
            8 => {
                let f = files.remove(i);
                remove(&dir, &f);
                ops.push(format!("delete {:?}", f.path));
            }
            _ => {
                let Some(to) = names.pop() else { continue };
                let n = 1 + rng.below(40);
                files.push(File {
                    path: to.to_owned(),
                    lines: lines(&mut rng, &mut serial, n),
                    crlf: rng.chance(20),
                    binary: rng.chance(10),
                    exec: false,
                });
                ops.push(format!("add {to:?}"));
            }
        }
    }
    write_tree(&dir, &files);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "--allow-empty", "-m", "feature"]);
    if rng.chance(30) {
        // main moves on after the branch point: the merge-base is not main's tip.
        git(&dir, &["checkout", "-q", "main"]);
        std::fs::write(dir.join("later-on-main.txt"), format!("later {seed}\n")).unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "main moves on"]);
        git(&dir, &["checkout", "-q", "feature"]);
        ops.push("main moved on".into());
    }
    (dir, ops)
}

/// The oracle: `git diff -M -U0 main...HEAD` read by an independent parser (Python, with
/// git's C-style path unquoting), for each repository; JSON `{repo: {path: [lines]}}`.
pub const ORACLE_PY: &str = r#"
import json, re, subprocess, sys

ESC = {'a': 7, 'b': 8, 't': 9, 'n': 10, 'v': 11, 'f': 12, 'r': 13, '"': 34, '\\': 92}

def unquote(s):
    if not (s.startswith('"') and s.endswith('"')):
        return s
    b, out, i = s[1:-1], bytearray(), 0
    while i < len(b):
        c = b[i]
        if c == '\\':
            n = b[i + 1]
            if n in '01234567':
                out.append(int(b[i + 1:i + 4], 8)); i += 4
            else:
                out.append(ESC[n]); i += 2
        else:
            out += c.encode('utf-8', 'surrogateescape'); i += 1
    return out.decode('utf-8', 'surrogateescape')

result = {}
for repo in json.load(sys.stdin):
    raw = subprocess.run(['git', '-C', repo, 'diff', '--no-color', '--no-ext-diff', '-M', '-U0',
                          'main...HEAD'], capture_output=True, check=True).stdout
    files, path, new_left, old_left, n = {}, None, 0, 0, 0
    for line in raw.decode('utf-8', 'surrogateescape').split('\n'):
        if new_left or old_left:
            if line.startswith('+'):
                files.setdefault(path, []).append(n); n += 1; new_left -= 1
            elif line.startswith('-'):
                old_left -= 1
            continue
        if line.startswith('+++ '):
            p = line[4:].rstrip('\t')
            path = None if p == '/dev/null' else unquote(p)[2:]
        elif line.startswith('@@ '):
            m = re.match(r'@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@', line)
            old_left = int(m.group(1)) if m.group(1) is not None else 1
            n = int(m.group(2))
            new_left = int(m.group(3)) if m.group(3) is not None else 1
    result[repo] = {p: sorted(set(v)) for p, v in files.items() if p is not None and v}
json.dump(result, sys.stdout)
"#;
