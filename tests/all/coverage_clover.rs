//! Clover XML coverage against diff-cover 10.5.0 (which reads Clover) as the oracle: for each
//! sample under `examples/coverage/clover/` (see its README for where each report came from), a
//! git repository whose `main` holds `base/` and whose feature branch holds the sample's `src/`,
//! the sample's `clover.xml`, and diff-cover run on the same repository and report. Patch
//! coverage must be equal: percent, covered and measured lines, and the uncovered line numbers,
//! file by file. Needs `./scripts/test` (diff-cover in `.venv`).

use std::path::{Path, PathBuf};

use controlgate::model::coverage::CoverageSection;

use crate::coverage_util::{
    Answer, answer_from_json, answer_of, diff_cover_json, git, manifest_dir, ours,
};

fn sample(name: &str) -> PathBuf {
    manifest_dir().join("examples/coverage/clover").join(name)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// `main`: the sample's `base/`; checked out `feature`: its `src/` instead.
fn sample_repo(dir: &Path, name: &str) -> PathBuf {
    let s = sample(name);
    let repo = dir.join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    copy_tree(&s.join("base"), &repo);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "base"]);
    git(&repo, &["checkout", "-qb", "feature"]);
    std::fs::remove_dir_all(repo.join("src")).unwrap();
    copy_tree(&s.join("src"), &repo.join("src"));
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "change"]);
    repo
}

/// Runs both tools on `report` in `repo`; asserts they agree (lines and percentages) and
/// returns our section and the shared answer.
fn agree(repo: &Path, report: &Path, scratch: &Path) -> (CoverageSection, Answer) {
    let v = diff_cover_json(repo, "main", &[report], scratch, &["--total-percent-float"]);
    let theirs = answer_from_json(&v);
    let s = ours(repo, "main", &[report]);
    let mine = answer_of(&s);
    assert_eq!(
        mine,
        theirs,
        "controlgate vs diff-cover on {}",
        report.display()
    );
    // Percentages: the total as diff-cover rounds it (two decimals), each file's unrounded.
    let total = v["total_percent_covered"].as_f64().expect("total percent");
    assert_eq!(
        s.patch.percent.map(|p| p.to_string()),
        Some(format!("{total:.2}")),
        "total patch percent"
    );
    for f in s.patch.files.iter().filter(|f| f.measured > 0) {
        let theirs = v["src_stats"][&f.path]["percent_covered"]
            .as_f64()
            .unwrap_or_else(|| panic!("diff-cover has no percent for {}", f.path));
        let mine = f.percent.expect("measured file has a percent").as_f64();
        assert!(
            (mine - theirs).abs() <= 0.005,
            "{}: {mine} vs diff-cover {theirs}",
            f.path
        );
    }
    assert_eq!(s.inputs[0].format, "clover", "detected as Clover");
    (s, mine)
}

fn files(a: &Answer) -> Vec<(&str, u64, u64, Vec<&str>)> {
    a.files
        .iter()
        .map(|(p, (c, m, r))| (p.as_str(), *c, *m, r.iter().map(String::as_str).collect()))
        .collect()
}

/// A real Istanbul report: nyc 17.1.0 (istanbul-reports 3.2.0's clover reporter, the one Jest
/// uses). Its paths are absolute paths of the machine that made it, matched by suffix.
#[test]
fn nyc_report_agrees_with_diff_cover() {
    let t = tempfile::tempdir().unwrap();
    let repo = sample_repo(t.path(), "js");
    let (s, a) = agree(&repo, &sample("js").join("clover.xml"), t.path());
    assert_eq!(
        files(&a),
        vec![
            ("src/calc.js", 3, 8, vec!["16", "22-24", "26"]),
            ("src/format.js", 3, 4, vec!["10"]),
        ]
    );
    assert_eq!((a.measured, a.uncovered), (12, 6));
    assert!(s.unmatched_paths.is_empty(), "{:?}", s.unmatched_paths);
    // Project totals: the report's own project <metrics statements="18" coveredstatements="11"
    // conditionals="12" coveredconditionals="7">.
    assert_eq!((s.head.lines_covered, s.head.lines_measured), (11, 18));
    assert_eq!(
        (s.head.branches_covered, s.head.branches_measured),
        (Some(7), Some(12))
    );
}

/// A real gcovr 8.8 report (`--clover`): statements only, paths relative to the root, and a
/// placeholder `dummy` file under `<testproject>` that must not show up as unmatched.
#[test]
fn gcovr_report_agrees_with_diff_cover() {
    let t = tempfile::tempdir().unwrap();
    let repo = sample_repo(t.path(), "c");
    let (s, a) = agree(&repo, &sample("c").join("clover.xml"), t.path());
    assert_eq!(
        files(&a),
        vec![("src/calc.c", 4, 11, vec!["16", "21", "24-27", "29"])]
    );
    assert!(s.unmatched_paths.is_empty(), "{:?}", s.unmatched_paths);
    assert_eq!(s.inputs[0].files, 1, "the empty dummy file is left out");
    // <metrics statements="17" coveredstatements="9"> of the report's project.
    assert_eq!((s.head.lines_covered, s.head.lines_measured), (9, 17));
    assert_eq!(s.head.branches_measured, None);
}

/// PHPUnit's layout (hand-written, see the README): no `clover` attribute (detected by its
/// `<project>` child), `name` is the absolute path, `method` lines count.
#[test]
fn phpunit_layout_agrees_with_diff_cover() {
    let t = tempfile::tempdir().unwrap();
    let repo = sample_repo(t.path(), "php");
    let (s, a) = agree(&repo, &sample("php").join("clover.xml"), t.path());
    assert_eq!(
        files(&a),
        vec![("src/Calc.php", 3, 9, vec!["25", "30", "32-34", "36"])]
    );
    assert_eq!((s.head.lines_covered, s.head.lines_measured), (8, 15));
}

/// OpenClover's layout (hand-written): one element per statement, branch and method start,
/// `cond` elements without `count`, test sources under `<testproject>`. diff-cover reads a
/// missing count as 0, so every line with a branch is a violation for it however often it ran;
/// we read the truecount/falsecount the element carries. That is the one difference: diff-cover
/// agrees with us once those elements carry the count we read (truecount + falsecount).
#[test]
fn openclover_layout_differs_only_on_cond_lines_without_count() {
    let t = tempfile::tempdir().unwrap();
    let repo = sample_repo(t.path(), "java");
    let report = sample("java").join("clover.xml");
    let s = ours(&repo, "main", &[&report]);
    let mine = answer_of(&s);
    assert_eq!(
        files(&mine),
        vec![
            (
                "src/main/java/com/example/Calc.java",
                4,
                9,
                vec!["22-25", "27"]
            ),
            ("src/test/java/com/example/CalcTest.java", 8, 8, vec![]),
        ]
    );
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("4 cond <line> element(s)")),
        "{:?}",
        s.notes
    );
    // diff-cover on the report as written: lines 16 and 19 (executed, with a branch) too.
    let v = diff_cover_json(&repo, "main", &[&report], t.path(), &[]);
    let theirs = answer_from_json(&v);
    assert_eq!(
        files(&theirs)[0],
        (
            "src/main/java/com/example/Calc.java",
            2,
            9,
            vec!["16", "19", "22-25", "27"]
        )
    );
    assert_eq!(theirs.uncovered, mine.uncovered + 2);
    // ... and the same answer as ours once the cond elements carry a count.
    let counted = t.path().join("clover-counted.xml");
    std::fs::write(
        &counted,
        with_cond_counts(&std::fs::read_to_string(&report).unwrap()),
    )
    .unwrap();
    let (_, a) = agree(&repo, &counted, t.path());
    assert_eq!(a, mine);
    // Branches: four decisions of two branches, 4 of the 8 taken (the file's <metrics
    // conditionals="8" coveredconditionals="4">).
    assert_eq!(
        (s.head.branches_covered, s.head.branches_measured),
        (Some(4), Some(8))
    );
}

/// Gives each `type="cond"` element without a `count` the count `truecount + falsecount`.
fn with_cond_counts(xml: &str) -> String {
    let attr = |line: &str, name: &str| -> u64 {
        let at = line.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        line[at..].split('"').next().unwrap().parse().unwrap()
    };
    xml.lines()
        .map(|l| {
            if l.contains("type=\"cond\"") && !l.contains(" count=") {
                let n = attr(l, "truecount") + attr(l, "falsecount");
                l.replacen("<line ", &format!("<line count=\"{n}\" "), 1)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
