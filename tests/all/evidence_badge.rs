//! `controlgate badge`: shields-style SVG badges of the branch's last run from the verified
//! ledger; each is well-formed XML (quick-xml) and rendered in headless Chromium to a PNG.

use std::path::Path;

use controlgate::retain::{
    ControlSummary, CoverageSummary, DirStore, LedgerPercent, write_evidence,
};

use crate::cli::run_in;
use crate::evidence::sample_input;
use crate::evidence_audit_html::browse_with;
use crate::evidence_cli::exits;

/// A PR run, a push to main (coverage 81.5 %, CC8.1 passing, CC6.1 untested), a later PR run.
fn ledger(dir: &Path) {
    let store = DirStore::new(dir);
    for (i, pr) in [(1, Some(3)), (2, None), (3, Some(4))] {
        let mut input = sample_input("acme/app", i);
        input.identity.pr_number = pr;
        input.identity.git_ref = Some(match pr {
            Some(n) => format!("refs/pull/{n}/merge"),
            None => "refs/heads/main".into(),
        });
        input.verdict = if pr.is_some() { "fail" } else { "pass" }.into();
        input.controls = vec![
            ControlSummary {
                id: "CC8.1".into(),
                status: "pass".into(),
                tests: 4,
            },
            ControlSummary {
                id: "CC6.1".into(),
                status: "untested".into(),
                tests: 0,
            },
        ];
        input.coverage = Some(CoverageSummary {
            percent: Some(LedgerPercent::from_f64(if pr.is_some() {
                20.0
            } else {
                81.5
            })),
            delta_pp: None,
            patch_percent: None,
        });
        write_evidence(&store, &input).unwrap();
    }
}

/// Every event of `svg` parses and the root element is `<svg>`.
fn well_formed(svg: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut roots = Vec::new();
    let mut depth = 0;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("{e}: {svg}")) {
            quick_xml::events::Event::Start(e) => {
                if depth == 0 {
                    roots.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                }
                depth += 1;
            }
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0);
    roots
}

#[test]
fn badges_show_the_branchs_last_run_and_render_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ledger(&d.join("ev"));
    let o = run_in(d, &["badge", "--store", "ev", "--out", "badges"]);
    exits(&o, 0);
    assert!(String::from_utf8_lossy(&o.stderr).contains("ledger entry 2"));
    for (file, label, message) in [
        ("verdict.svg", "controlgate", "passing"),
        ("coverage.svg", "coverage", "81.50%"),
        ("controls.svg", "SOC 2 controls", "1 of 2 evidenced"),
    ] {
        let path = d.join("badges").join(file);
        let svg = std::fs::read_to_string(&path).unwrap();
        assert_eq!(well_formed(&svg), ["svg"]);
        let page = browse_with(
            &path,
            &format!("badge-{file}"),
            "JSON.stringify({tag: document.documentElement.tagName, \
             texts: [...document.querySelectorAll('text')].map(t => t.textContent), \
             width: document.documentElement.getBBox().width})",
        );
        assert_eq!(page["tag"], "svg");
        let texts = page["texts"].as_array().unwrap();
        assert_eq!(texts[1], label);
        assert_eq!(texts[3], message);
        assert!(page["width"].as_f64().unwrap() > 40.0, "{page}");
    }
}

#[test]
fn no_badge_from_a_ledger_that_does_not_verify_or_without_a_branch_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ledger(&d.join("ev"));
    exits(
        &run_in(
            d,
            &[
                "badge", "--store", "ev", "--out", "b", "--branch", "release",
            ],
        ),
        2,
    );
    let entry = d.join("ev/ledger/0000000002.json");
    let text = std::fs::read_to_string(&entry).unwrap();
    std::fs::write(&entry, text.replace("\"pass\"", "\"fail\"")).unwrap();
    let o = run_in(d, &["badge", "--store", "ev", "--out", "b"]);
    exits(&o, 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("no badge was drawn"));
    assert!(!d.join("b").exists());
}
