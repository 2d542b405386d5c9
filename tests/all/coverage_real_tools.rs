//! Reports produced by real tools (coverage.py, c8) and a JaCoCo-shaped report, read against the
//! sample projects under `examples/coverage/` (see the READMEs there for how each was made).

use controlgate::gather::coverage::{ChangeSource, CoverageRequest, analyze};

use crate::coverage_util::{input, manifest_dir};

fn run(
    project: &str,
    diff: &str,
    reports: &[&str],
) -> controlgate::model::coverage::CoverageSection {
    let root = manifest_dir().join("examples/coverage").join(project);
    let mut req = CoverageRequest::new(
        &root,
        ChangeSource::Diff {
            path: "change.diff".into(),
            text: diff.as_bytes().to_vec(),
        },
    );
    req.reports = reports.iter().map(|r| input(&root.join(r))).collect();
    analyze(&req).unwrap_or_else(|e| panic!("{project}: {e}"))
}

#[test]
fn coverage_py_lcov_and_xml_agree() {
    let diff = std::fs::read_to_string(manifest_dir().join("examples/coverage/python/change.diff"))
        .unwrap();
    let l = run("python", &diff, &["lcov.info"]);
    let x = run("python", &diff, &["coverage.xml"]);
    assert!(
        l.unmatched_paths.is_empty() && x.unmatched_paths.is_empty(),
        "{:?} {:?}",
        l.unmatched_paths,
        x.unmatched_paths
    );
    assert_eq!(
        (l.patch.covered, l.patch.measured),
        (x.patch.covered, x.patch.measured)
    );
    assert_eq!(l.patch.files[0].uncovered_ranges, vec!["20", "25-28"]);
    assert_eq!(
        (l.head.lines_covered, l.head.lines_measured),
        (x.head.lines_covered, x.head.lines_measured)
    );
    assert!(x.head.branches_measured.is_some());
}

#[test]
fn c8_lcov_and_cobertura_agree() {
    let diff = "diff --git a/src/calc.js b/src/calc.js\n--- a/src/calc.js\n+++ b/src/calc.js\n@@ -13,0 +14,7 @@\n+function unused(n) {\n+  let total = 0;\n+  for (let i = 0; i < n; i++) {\n+    total += i;\n+  }\n+  return total;\n+}\n";
    let l = run("js", diff, &["lcov.info"]);
    let x = run("js", diff, &["cobertura-coverage.xml"]);
    assert_eq!(
        (l.patch.covered, l.patch.measured),
        (x.patch.covered, x.patch.measured)
    );
    assert!(
        l.patch.measured > 0 && l.patch.covered < l.patch.measured,
        "{:?}",
        l.patch
    );
    assert_eq!(
        l.head.branches_measured.is_some(),
        x.head.branches_measured.is_some()
    );
}

#[test]
fn jacoco_with_default_source_roots() {
    let diff = "diff --git a/src/main/java/com/example/Calc.java b/src/main/java/com/example/Calc.java\n--- a/src/main/java/com/example/Calc.java\n+++ b/src/main/java/com/example/Calc.java\n@@ -8,0 +9,3 @@\n+        if (b == 0) {\n+            throw new IllegalArgumentException(\"b must not be 0\");\n+        }\n";
    let s = run("jacoco", diff, &["jacoco.xml"]);
    assert_eq!((s.patch.covered, s.patch.measured), (1, 2));
    assert_eq!(s.patch.files[0].uncovered_ranges, vec!["10"]);
    assert_eq!(
        (s.head.branches_covered, s.head.branches_measured),
        (Some(1), Some(2))
    );
}
