//! The Markdown coverage section: snapshot, escaping of untrusted paths, character budget.

use controlgate::model::coverage::{CoverageRefs, IndirectChange, PatchFile, Percent};
use controlgate::render::coverage::render_coverage;

use crate::coverage_gates::section;

fn sample() -> controlgate::model::coverage::CoverageSection {
    let mut s = section((24_992, 36_569), Some((25_034, 36_380)), (337, 609));
    s.head.branches_covered = Some(6958);
    s.head.branches_measured = Some(11554);
    s.head.branches_percent = Percent::ratio(6958, 11554);
    s.refs = CoverageRefs {
        source: "git".into(),
        base_ref: Some("main".into()),
        base_sha: Some("f90b6f2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into()),
        merge_base_sha: Some("f90b6f2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into()),
        head_sha: Some("2e70d5dbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".into()),
    };
    s.patch.files = vec![
        PatchFile {
            path: "src/ok.py".into(),
            changed: 10,
            covered: 8,
            measured: 8,
            percent: Percent::ratio(8, 8),
            uncovered_ranges: vec![],
        },
        PatchFile {
            path: "src/evil|`<img src=x>`@team\n.py".into(),
            changed: 12,
            covered: 2,
            measured: 9,
            percent: Percent::ratio(2, 9),
            uncovered_ranges: vec!["12-15".into(), "20".into(), "31-33".into()],
        },
        PatchFile {
            path: "docs/x.md".into(),
            changed: 4,
            ..Default::default()
        },
    ];
    s.indirect_changes = vec![IndirectChange {
        path: "src/caller.py".into(),
        base_covered: 10,
        base_measured: 20,
        head_covered: 5,
        head_measured: 20,
        base_percent: Percent::ratio(10, 20),
        head_percent: Percent::ratio(5, 20),
        delta_pp: Percent::delta(5, 20, 10, 20),
    }];
    s.indirect_changes_total = 1;
    s.unmatched_paths = vec!["/elsewhere/gen.py".into()];
    s
}

#[test]
fn snapshot() {
    insta::assert_snapshot!("coverage_section", render_coverage(&sample(), 65_000));
}

#[test]
fn escapes_untrusted_paths() {
    let md = render_coverage(&sample(), 65_000);
    assert!(!md.contains("<img"), "{md}");
    assert!(!md.contains("@team"), "{md}");
    assert!(
        md.contains("src/evil&#124;&#96;&lt;img src=x&gt;&#96;&#64;&#8203;team .py"),
        "{md}"
    );
}

#[test]
fn respects_budget() {
    let mut s = sample();
    let f = s.patch.files[1].clone();
    s.patch.files = (0..5000)
        .map(|i| PatchFile {
            path: format!("src/f{i}.py"),
            ..f.clone()
        })
        .collect();
    for budget in [300usize, 2_000, 65_000] {
        let md = render_coverage(&s, budget);
        assert!(
            md.chars().count() <= budget,
            "{budget}: {}",
            md.chars().count()
        );
    }
    let md = render_coverage(&s, 65_000);
    assert!(md.contains("more changed files (see report.json)"));
    assert!(md.contains("**Patch**"));
}

#[test]
fn no_measurable_lines_is_not_100() {
    let s = section((1, 2), None, (0, 0));
    let md = render_coverage(&s, 65_000);
    assert!(md.contains("no measurable changed lines"), "{md}");
    assert!(!md.contains("100.00"), "{md}");
}
