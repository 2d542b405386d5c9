//! RFC 8785: an auditor recomputes every ledger and bundle digest with an independent JCS
//! implementation (Python's `rfc8785` + `hashlib`, `tests/fixtures/evidence/recompute.py`, the
//! recipe of docs/evidence.md) and agrees with `verify`, on intact and on edited ledgers.

use std::path::Path;
use std::process::Command;

use controlgate::retain::{DirStore, VerifyOptions, verify_store, write_evidence};

use crate::coverage_util::{manifest_dir, venv_bin};
use crate::evidence::sample_input;

/// What recompute.py reports.
struct Recomputed {
    digests: Vec<String>,
    all_canonical: bool,
    problem: Option<(u64, String)>,
    tip: Option<(u64, String)>,
    bundles: u64,
}

fn recompute(store: &Path) -> Recomputed {
    let out = Command::new(venv_bin("python"))
        .arg(manifest_dir().join("tests/fixtures/evidence/recompute.py"))
        .arg(store)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "recompute.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = v["entries"].as_array().unwrap();
    Recomputed {
        digests: entries
            .iter()
            .map(|e| e["digest"].as_str().unwrap().to_string())
            .collect(),
        all_canonical: entries.iter().all(|e| e["canonical"] == true),
        problem: v["problem"].as_object().map(|p| {
            (
                p["seq"].as_u64().unwrap(),
                p["why"].as_str().unwrap().to_string(),
            )
        }),
        tip: v["tip"].as_object().map(|t| {
            (
                t["seq"].as_u64().unwrap(),
                t["digest"].as_str().unwrap().to_string(),
            )
        }),
        bundles: v["bundles"].as_u64().unwrap(),
    }
}

/// 100 runs, some with text where JSON escaping and UTF-16 ordering matter (control
/// characters, U+2028, characters beyond the BMP, quotes and backslashes).
fn hundred_runs(dir: &Path) -> DirStore {
    let store = DirStore::new(dir);
    for i in 1..=100u64 {
        let mut input = sample_input("acme/app", i);
        if i % 4 == 0 {
            input.identity.actor = Some(format!("d\u{e9}v-{i} \u{1f600}\u{1f}\u{7f}\u{2028}"));
            input.identity.environment = Some("\"prod\"\\</script>\t\u{ff21}".into());
            input.tickets.push("\u{416}-7".into());
        }
        write_evidence(&store, &input).unwrap();
    }
    store
}

#[test]
fn python_rfc8785_recomputes_every_digest_of_a_100_entry_ledger_and_agrees_with_verify() {
    let dir = tempfile::tempdir().unwrap();
    let store = hundred_runs(dir.path());
    let ours = verify_store(&store, &VerifyOptions::default()).unwrap();
    assert!(ours.intact, "{:?}", ours.problem);
    assert_eq!((ours.entries, ours.bundles_checked), (100, 100));
    let (_, entries) = controlgate::retain::chained_entries(&store).unwrap();

    let theirs = recompute(dir.path());
    assert_eq!(theirs.problem, None);
    assert_eq!(theirs.bundles, 100);
    let recorded: Vec<String> = entries.iter().map(|e| e.digest.clone()).collect();
    assert_eq!(theirs.digests, recorded);
    assert_eq!(
        theirs.tip,
        Some((100, ours.tip_digest.clone().unwrap())),
        "the same tip"
    );
    assert!(
        theirs.all_canonical,
        "every stored entry is byte for byte its RFC 8785 form plus a newline"
    );
}

#[test]
fn an_edited_entry_is_caught_by_both_at_the_same_entry_and_a_reformatted_one_by_neither() {
    let dir = tempfile::tempdir().unwrap();
    hundred_runs(dir.path());
    let path = dir.path().join("ledger/0000000040.json");
    let original = std::fs::read_to_string(&path).unwrap();
    let mut entry: serde_json::Value = serde_json::from_str(&original).unwrap();

    // Pretty-printed: other bytes, same content. Both recompute from the parsed JSON.
    std::fs::write(&path, serde_json::to_string_pretty(&entry).unwrap()).unwrap();
    let ours = verify_store(&DirStore::new(dir.path()), &VerifyOptions::default()).unwrap();
    let theirs = recompute(dir.path());
    assert!(ours.intact, "{:?}", ours.problem);
    assert_eq!(theirs.problem, None);
    assert!(
        !theirs.all_canonical,
        "the file is no longer in canonical form"
    );

    // A verdict turned green: both name entry 40.
    entry["verdict"] = "pass".into();
    entry["controls"][0]["status"] = "pass".into();
    entry["run"]["actor"] = "mallory".into();
    std::fs::write(&path, serde_json::to_vec(&entry).unwrap()).unwrap();
    let ours = verify_store(&DirStore::new(dir.path()), &VerifyOptions::default()).unwrap();
    let theirs = recompute(dir.path());
    assert_eq!(ours.problem.map(|p| p.seq), Some(40));
    assert_eq!(theirs.problem, Some((40, "entry edited".to_string())));
}
