//! Agreement with diff-cover 10.5.0 (the tool users trust for patch coverage), run as a peer on
//! the same repositories and reports. Needs `./scripts/test` (diff-cover in `.venv`).

use std::fmt::Write as _;
use std::path::Path;

use crate::coverage_util::{Answer, answer_of, diff_cover, generate, git, ours};

fn agree(repo: &Path, base: &str, report: &Path, scratch: &Path) -> Answer {
    let theirs = diff_cover(repo, base, &[report], scratch);
    let mine = answer_of(&ours(repo, base, &[report]));
    assert_eq!(
        mine,
        theirs,
        "controlgate vs diff-cover on {}",
        report.display()
    );
    mine
}

#[test]
fn small_preset_matches_diff_cover_and_known_answer() {
    let t = tempfile::tempdir().unwrap();
    let (repo, reports) = generate(t.path(), "small", &[]);
    for r in ["lcov.info", "coverage.xml"] {
        let a = agree(&repo, "main", &reports.join(r), t.path());
        assert_eq!((a.measured, a.uncovered), (609, 272), "{r}: preset answer");
    }
}

#[test]
fn generated_repos_with_other_seeds_and_moving_base() {
    for (seed, extra) in [
        ("7", vec!["--main-ahead", "3"]),
        ("5", vec!["--lcov-fn-end"]),
        ("23", vec!["--lcov-abs"]),
        ("3", vec![]),
    ] {
        let t = tempfile::tempdir().unwrap();
        let mut args = vec!["--seed", seed, "--no-base-coverage"];
        args.extend(extra);
        let (repo, reports) = generate(t.path(), "tiny", &args);
        for r in ["lcov.info", "coverage.xml"] {
            let a = agree(&repo, "main", &reports.join(r), t.path());
            assert!(a.measured > 0, "seed {seed} {r}: something measured");
        }
    }
}

/// Known divergence: in `mod_08.py` of this repo an inserted block can slide by three lines
/// (identical `return None`/blank lines at both ends). git 2.47's xdiff places it at 64-84,
/// libgit2 1.9's at 67-87, so one changed line differs. Open: see the coverage report.
#[test]
fn generated_repo_seed_11_slider() {
    let t = tempfile::tempdir().unwrap();
    let (repo, reports) = generate(t.path(), "tiny", &["--seed", "11", "--no-base-coverage"]);
    agree(&repo, "main", &reports.join("lcov.info"), t.path());
}

fn write(repo: &Path, rel: &str, text: &str) {
    let p = repo.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn body(tag: &str, n: usize) -> String {
    (1..=n)
        .map(|i| {
            if i % 9 == 0 {
                "\n".to_string()
            } else {
                format!("{tag}_{i} = {i}\n")
            }
        })
        .collect()
}

/// Hits for a synthetic report: blank lines unmeasured, about a third uncovered.
fn hits(path: &str, line: usize) -> u64 {
    ((line * 7 + path.len()) % 3) as u64
}

/// LCOV and Cobertura reports for every `.py` file of the head tree (+ one unknown file).
fn synthetic_reports(repo: &Path, out: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let files = git(repo, &["-c", "core.quotePath=false", "ls-files", "*.py"]);
    let mut lcov = String::from("TN:\n");
    let mut xml = format!(
        "<?xml version=\"1.0\" ?>\n<coverage version=\"7\">\n<sources><source>{}</source></sources>\n<packages><package name=\"p\"><classes>\n",
        repo.display()
    );
    for f in files.lines().chain(["not/in/repo.py"]) {
        let text = std::fs::read_to_string(repo.join(f)).unwrap_or_else(|_| "x\n".repeat(5));
        let _ = writeln!(lcov, "SF:{}", repo.join(f).display());
        let _ = writeln!(xml, "<class name=\"c\" filename=\"{f}\"><methods/><lines>");
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let h = hits(f, i + 1);
            let _ = writeln!(lcov, "DA:{},{h}", i + 1);
            let _ = writeln!(xml, "<line number=\"{}\" hits=\"{h}\"/>", i + 1);
        }
        lcov.push_str("end_of_record\n");
        xml.push_str("</lines></class>\n");
    }
    xml.push_str("</classes></package></packages></coverage>\n");
    let (l, x) = (out.join("lcov.info"), out.join("coverage.xml"));
    std::fs::write(&l, lcov).unwrap();
    std::fs::write(&x, xml).unwrap();
    (l, x)
}

#[test]
fn hand_built_repo_renames_adds_deletes_hunks_binary() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    write(&repo, "a.py", &body("a", 60));
    write(&repo, "b.py", &body("b", 40));
    write(&repo, "gone.py", &body("g", 20));
    write(&repo, "same.py", &body("s", 30));
    write(&repo, "edit_me.py", &body("e", 50));
    std::fs::write(repo.join("blob.bin"), [0u8, 1, 2, 3, 0, 255]).unwrap();
    write(&repo, "README.md", "# r\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "base"]);
    git(&repo, &["checkout", "-qb", "feature"]);
    // several hunks in a.py: insert, replace, delete, append
    let mut a: Vec<String> = body("a", 60).lines().map(String::from).collect();
    a.insert(3, "inserted_1 = 1".into());
    a.insert(4, "inserted_2 = 2".into());
    a[20] = "replaced = 20".into();
    a.drain(30..33);
    a.push("appended = 1".into());
    a.push("".into());
    a.push("    if appended:".into());
    write(&repo, "a.py", &(a.join("\n") + "\n"));
    std::fs::remove_file(repo.join("gone.py")).unwrap();
    std::fs::create_dir_all(repo.join("pkg")).unwrap();
    std::fs::rename(repo.join("same.py"), repo.join("pkg/same.py")).unwrap();
    let mut e: Vec<String> = body("e", 50).lines().map(String::from).collect();
    e[10] = "edited_after_move = 1".into();
    e.insert(40, "added_after_move = 2".into());
    std::fs::remove_file(repo.join("edit_me.py")).unwrap();
    write(&repo, "pkg/edited.py", &(e.join("\n") + "\n"));
    write(&repo, "new_file.py", &body("n", 25));
    write(&repo, "sp ace/new file.py", &body("u", 12));
    std::fs::write(repo.join("blob.bin"), [0u8, 9, 9, 9, 0, 1]).unwrap();
    write(&repo, "README.md", "# r\n\nmore\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "feature"]);
    // main moves on after the branch point: must not count
    git(&repo, &["checkout", "-q", "main"]);
    write(&repo, "b.py", &(body("b", 40) + "on_main = 1\n"));
    git(&repo, &["commit", "-qam", "main moves"]);
    git(&repo, &["checkout", "-q", "feature"]);

    let (l, x) = synthetic_reports(&repo, t.path());
    for r in [&l, &x] {
        let a = agree(&repo, "main", r, t.path());
        assert!(
            a.files.contains_key("pkg/edited.py"),
            "rename + edit counts: {a:?}"
        );
        assert!(
            !a.files.contains_key("pkg/same.py"),
            "pure rename contributes nothing"
        );
        assert!(
            a.files.contains_key("sp ace/new file.py"),
            "unicode/space path: {a:?}"
        );
        assert!(
            !a.files.contains_key("b.py"),
            "changes on main after the merge-base do not count"
        );
    }
    let s = ours(&repo, "main", &[&l]);
    assert_eq!(s.unmatched_paths, vec!["not/in/repo.py".to_string()]);
    assert_eq!(s.refs.base_ref.as_deref(), Some("main"));
    assert_ne!(
        s.refs.base_sha, s.refs.merge_base_sha,
        "merge-base is not the base tip"
    );
}
