//! RETAIN: bundles, the hash-chained ledger in a `dir` store, tamper detection, fallback,
//! config, base-entry lookup.

use std::path::{Path, PathBuf};

use controlgate::ExitCode;
use controlgate::retain::ledger::Entry;
use controlgate::retain::ledger::Tip;
use controlgate::retain::store::Created;
use controlgate::retain::verify::ProblemKind;
use controlgate::retain::{
    Blob, BundleInput, ControlSummary, CoverageSummary, DirStore, EvidenceStore, LedgerPercent,
    RunIdentity, StoreConfig, VerifyOptions, WriteOptions, find_base_entry, verify_store,
    write_evidence, write_evidence_with,
};

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/evidence")
        .join(name)
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

pub fn sha(i: u64) -> String {
    format!("{:040x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// A run of `repository` numbered `i`.
pub fn sample_input(repository: &str, i: u64) -> BundleInput {
    let pr = (i % 10 != 0).then_some(i / 3 + 1);
    BundleInput {
        report_json: format!("{{\"schema\":1,\"run\":{i}}}\n")
            .into_bytes()
            .into(),
        summary_md: format!("## controlgate\nrun {i}\n"),
        redacted: Default::default(),
        inputs: vec![
            // One input in memory, one streamed from its file, like the pipeline's.
            ("target/junit.xml".to_string(), fixture("junit.xml").into()),
            (
                "/abs/coverage/lcov.info".to_string(),
                Blob::file(&fixture_path("lcov.info")).unwrap(),
            ),
        ],
        identity: RunIdentity {
            repository: Some(repository.to_string()),
            event: Some(if pr.is_some() { "pull_request" } else { "push" }.to_string()),
            git_ref: Some("refs/heads/main".to_string()),
            head_sha: Some(sha(i)),
            pr_number: pr,
            actor: Some("alice".to_string()),
            run_id: Some(format!("{}", 1000 + i)),
            run_url: Some(format!(
                "https://github.com/{repository}/actions/runs/{}",
                1000 + i
            )),
            ..RunIdentity::new()
        },
        verdict: if i % 50 == 0 { "fail" } else { "pass" }.to_string(),
        controls: {
            let mut c = vec![ControlSummary {
                id: "CC8.1".into(),
                status: if i % 50 == 0 { "fail" } else { "pass" }.into(),
                tests: 3 + i % 5,
            }];
            if i % 2 == 0 {
                c.push(ControlSummary {
                    id: "CC6.1".into(),
                    status: "pass".into(),
                    tests: 2,
                });
            }
            if i % 3 == 0 {
                c.push(ControlSummary {
                    id: "CC7.2".into(),
                    status: if i % 97 == 0 { "fail" } else { "untested" }.into(),
                    tests: u64::from(i % 97 == 0),
                });
            }
            c
        },
        coverage: Some(CoverageSummary {
            percent: Some(LedgerPercent::from_f64(80.0 + (i % 7) as f64 * 0.5)),
            delta_pp: Some(LedgerPercent::from_f64((i % 5) as f64 * 0.25 - 0.5)),
            patch_percent: Some(LedgerPercent::from_f64(90.0)),
        }),
        api: None,
        tickets: pr.map(|p| vec![format!("PROJ-{p}")]).unwrap_or_default(),
        tests: None,
    }
}

fn three_runs(dir: &Path) -> (DirStore, Vec<controlgate::retain::Written>) {
    let store = DirStore::new(dir);
    let written = (1..=3)
        .map(|i| write_evidence(&store, &sample_input("acme/app", i)).unwrap())
        .collect();
    (store, written)
}

fn entry_path(root: &Path, seq: u64) -> PathBuf {
    root.join(format!("ledger/{seq:010}.json"))
}

fn flip(path: &Path, needle: &str) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap_or_else(|| panic!("{needle} not in {}", path.display()));
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

fn problem(store: &DirStore) -> (ProblemKind, u64, String) {
    let out = verify_store(store, &VerifyOptions::default()).unwrap();
    assert!(!out.intact, "tampering not detected");
    assert_eq!(out.exit_code(), ExitCode::Fail);
    let p = out.problem.unwrap();
    (p.kind, p.seq, p.message)
}

#[test]
fn three_runs_verify_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, written) = three_runs(tmp.path());
    assert_eq!(
        written.iter().map(|w| w.entry_seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(written[1].entry.prev, written[0].entry_digest);
    assert_eq!(written[0].entry.prev, controlgate::retain::GENESIS);
    let out = verify_store(&store, &VerifyOptions::default()).unwrap();
    assert!(out.intact, "{:?}", out.problem);
    assert_eq!(
        (out.entries, out.bundles_checked, out.tip_seq),
        (3, 3, Some(3))
    );
    assert_eq!(out.exit_code(), ExitCode::Pass);
    assert!(
        out.summary()
            .starts_with("evidence intact: 3 entries, 3 bundles"),
        "{}",
        out.summary()
    );

    // The bundle: report.json unchanged, inputs as read, manifest lists every file.
    let b = tmp.path().join("bundles").join(&written[0].bundle_digest);
    assert_eq!(
        std::fs::read(b.join("report.json")).unwrap(),
        *sample_input("acme/app", 1).report_json.read().unwrap()
    );
    assert_eq!(
        std::fs::read(b.join("inputs/target/junit.xml")).unwrap(),
        fixture("junit.xml")
    );
    assert_eq!(
        std::fs::read(b.join("inputs/abs/coverage/lcov.info")).unwrap(),
        fixture("lcov.info")
    );
    let manifest_bytes = std::fs::read(b.join("manifest.json")).unwrap();
    assert_eq!(
        controlgate::retain::canonical::sha256_hex(&manifest_bytes),
        written[0].bundle_digest
    );
    let manifest: serde_json::Value = serde_json::from_slice(&manifest_bytes).unwrap();
    let paths: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "inputs/abs/coverage/lcov.info",
            "inputs/target/junit.xml",
            "report.json",
            "summary.md"
        ]
    );
    assert_eq!(manifest["files"][0]["source"], "/abs/coverage/lcov.info");
    assert_eq!(manifest["run"]["repository"], "acme/app");
    assert!(
        written[0]
            .location
            .ends_with(&format!("bundles/{}/", written[0].bundle_digest))
    );
    // Atomic writes leave no temp files behind.
    assert_eq!(
        std::fs::read_dir(tmp.path().join(".tmp")).unwrap().count(),
        0
    );
}

#[test]
fn dir_store_is_create_only() {
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStore::new(tmp.path());
    assert_eq!(
        store.put_create("a/b.txt", b"one").unwrap(),
        Created::Created
    );
    assert_eq!(
        store.put_create("a/b.txt", b"two").unwrap(),
        Created::AlreadyExists
    );
    assert_eq!(store.get("a/b.txt").unwrap().unwrap(), b"one");
    assert!(store.put_create("../escape", b"x").is_err());
}

#[test]
fn edited_bundle_file_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, w) = three_runs(tmp.path());
    flip(
        &tmp.path()
            .join("bundles")
            .join(&w[1].bundle_digest)
            .join("inputs/target/junit.xml"),
        "testcase",
    );
    let (kind, seq, msg) = problem(&store);
    assert_eq!((kind, seq), (ProblemKind::BundleEdited, 2));
    assert!(
        msg.starts_with(&format!(
            "entry 2: bundle {}: inputs/target/junit.xml was edited",
            &w[1].bundle_digest[..12]
        )),
        "{msg}"
    );
}

#[test]
fn edited_manifest_and_added_file_are_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, w) = three_runs(tmp.path());
    let b = tmp.path().join("bundles").join(&w[2].bundle_digest);
    std::fs::write(b.join("extra.txt"), "x").unwrap();
    let (kind, seq, msg) = problem(&store);
    assert_eq!((kind, seq), (ProblemKind::BundleEdited, 3));
    assert!(
        msg.contains("extra.txt is not in the manifest (file added)"),
        "{msg}"
    );
    std::fs::remove_file(b.join("extra.txt")).unwrap();
    flip(&b.join("manifest.json"), "alice");
    let (_, seq, msg) = problem(&store);
    assert_eq!(seq, 3);
    assert!(msg.contains("manifest.json was edited"), "{msg}");
    std::fs::remove_dir_all(&b).unwrap();
    let (kind, _, msg) = problem(&store);
    assert_eq!(kind, ProblemKind::BundleMissing);
    assert!(msg.starts_with("entry 3: bundle"), "{msg}");
}

#[test]
fn edited_entry_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _) = three_runs(tmp.path());
    flip(&entry_path(tmp.path(), 2), "alice");
    let (kind, seq, msg) = problem(&store);
    assert_eq!((kind, seq), (ProblemKind::EntryEdited, 2));
    assert!(
        msg.starts_with("entry 2 (") && msg.contains("was edited: its content hashes to"),
        "{msg}"
    );
}

/// An entry naming a key twice hashes as its last value reads (serde's reading, and the
/// digest's); a reader taking the first would see another entry under the same digest. Refused,
/// naming the key; the same entry with the key once verifies.
#[test]
fn an_entry_with_a_key_written_twice_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _) = three_runs(tmp.path());
    let path = entry_path(tmp.path(), 2);
    let text = std::fs::read_to_string(&path).unwrap();
    let entry: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (key, value) = entry
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_str() != "digest")
        .unwrap();
    let forged = text.replacen('{', &format!("{{{key:?}:\"forged\","), 1);
    assert_ne!(value, "forged");
    std::fs::write(&path, &forged).unwrap();
    let (kind, seq, msg) = problem(&store);
    assert_eq!((kind, seq), (ProblemKind::EntryUnreadable, 2));
    assert!(
        msg.contains(&format!("the key {key:?} is written twice")),
        "{msg}"
    );
    std::fs::write(&path, &text).unwrap();
    assert!(
        verify_store(&store, &VerifyOptions::default())
            .unwrap()
            .problem
            .is_none()
    );
}

#[test]
fn deleted_entry_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _) = three_runs(tmp.path());
    std::fs::remove_file(entry_path(tmp.path(), 2)).unwrap();
    let (kind, seq, msg) = problem(&store);
    assert_eq!((kind, seq), (ProblemKind::EntryMissing, 2));
    assert_eq!(msg, "entry 2 is missing: entry 3 follows entry 1");
}

#[test]
fn truncated_ledger_is_detected_against_an_expected_tip() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, w) = three_runs(tmp.path());
    std::fs::remove_file(entry_path(tmp.path(), 3)).unwrap();
    let opts = VerifyOptions {
        expect_tip: Some(Tip {
            seq: 3,
            digest: w[2].entry_digest.clone(),
            of: None,
        }),
        ..Default::default()
    };
    let out = verify_store(&store, &opts).unwrap();
    let p = out.problem.unwrap();
    assert_eq!((p.kind, p.seq), (ProblemKind::Truncated, 3));
    assert!(
        p.message
            .ends_with("the ledger ends at entry 2 (truncated)"),
        "{}",
        p.message
    );
    // Every entry gone: still the truncation the recorded tip finds, not an absent ledger.
    for seq in 1..=2 {
        std::fs::remove_file(entry_path(tmp.path(), seq)).unwrap();
    }
    let out = verify_store(&store, &opts).unwrap();
    assert_eq!(out.exit_code(), ExitCode::Fail);
    let p = out.problem.unwrap();
    assert_eq!(
        (p.kind, p.seq),
        (ProblemKind::Truncated, 3),
        "{}",
        p.message
    );
}

#[test]
fn swapped_entries_are_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _) = three_runs(tmp.path());
    let (a, b) = (entry_path(tmp.path(), 2), entry_path(tmp.path(), 3));
    let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    std::fs::write(&a, y).unwrap();
    std::fs::write(&b, x).unwrap();
    let (kind, seq, msg) = problem(&store);
    assert_eq!((kind, seq), (ProblemKind::Reordered, 2));
    assert!(
        msg.starts_with("entry 2: ")
            && msg.ends_with("0000000002.json holds entry 3 (entries reordered)"),
        "{msg}"
    );
}

/// Inserts entry 2 of another ledger at position 2, shifting 2 and 3 up.
fn insert_foreign(root: &Path, other_repo: &str) {
    let other = tempfile::tempdir().unwrap();
    let (_s, _) = {
        let s = DirStore::new(other.path());
        let w: Vec<_> = (10..12)
            .map(|i| write_evidence(&s, &sample_input(other_repo, i)).unwrap())
            .collect();
        (s, w)
    };
    std::fs::rename(entry_path(root, 3), entry_path(root, 4)).unwrap();
    std::fs::rename(entry_path(root, 2), entry_path(root, 3)).unwrap();
    std::fs::copy(entry_path(other.path(), 2), entry_path(root, 2)).unwrap();
}

#[test]
fn foreign_entry_from_another_repository_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _) = three_runs(tmp.path());
    insert_foreign(tmp.path(), "evil/other");
    let (kind, seq, msg) = problem(&store);
    assert_eq!((kind, seq), (ProblemKind::Foreign, 2));
    assert_eq!(
        msg,
        "entry 2 belongs to repository \"evil/other\", not \"acme/app\" (foreign entry inserted)"
    );
    // Asked for another repository than the ledger's: said as such at entry 1 (still not
    // intact: the ledger is not the one asked for).
    let fresh = tempfile::tempdir().unwrap();
    let (store, _) = three_runs(fresh.path());
    let out = verify_store(
        &store,
        &VerifyOptions {
            repository: Some("acme/ap".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let p = out.problem.expect("not intact");
    assert_eq!((p.kind, p.seq), (ProblemKind::Foreign, 1));
    assert!(p.message.contains("a wrong --repository?"), "{}", p.message);
}

#[test]
fn foreign_entry_of_the_same_repository_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, w) = three_runs(tmp.path());
    insert_foreign(tmp.path(), "acme/app");
    let (kind, seq, msg) = problem(&store);
    assert_eq!((kind, seq), (ProblemKind::Foreign, 2));
    assert!(msg.starts_with("entry 2: prev "), "{msg}");
    assert!(
        msg.ends_with(&format!(
            "does not match the digest of entry 1 ({}) (foreign entry inserted or chain rewritten)",
            &w[0].entry_digest[..12]
        )),
        "{msg}"
    );
}

#[test]
fn verify_of_an_empty_store_is_unusable_input() {
    let tmp = tempfile::tempdir().unwrap();
    let err = verify_store(
        &DirStore::new(tmp.path().join("nothing")),
        &VerifyOptions::default(),
    )
    .unwrap_err();
    assert_eq!(controlgate::error::exit_code_of(&err), ExitCode::BadInput);
    assert!(
        err.to_string().starts_with("no evidence ledger at"),
        "{err}"
    );
}

/// A store whose every write fails.
struct FailingStore;

impl EvidenceStore for FailingStore {
    fn location(&self, key: &str) -> String {
        format!("failing://{key}")
    }
    fn put_create(&self, _key: &str, _bytes: &[u8]) -> controlgate::retain::Result<Created> {
        Err(controlgate::retain::Error::Store("disk on fire".into()))
    }
    fn get(&self, _key: &str) -> controlgate::retain::Result<Option<Vec<u8>>> {
        Ok(None)
    }
    fn list(&self, _prefix: &str) -> controlgate::retain::Result<Vec<String>> {
        Ok(Vec::new())
    }
}

#[test]
fn store_failure_keeps_the_bundle_locally() {
    let tmp = tempfile::tempdir().unwrap();
    let fallback = tmp.path().join("fallback");
    let opts = WriteOptions {
        fallback_dir: fallback.clone(),
        now: None,
    };
    let input = sample_input("acme/app", 1);
    let err = write_evidence_with(&FailingStore, &input, &opts).unwrap_err();
    let digest = controlgate::retain::build_bundle(&input).unwrap().digest;
    let kept = fallback.join("bundles").join(&digest);
    let msg = err.to_string();
    assert!(
        msg.starts_with("evidence store failing:// failed: disk on fire;"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "the bundle {digest} was kept locally at {}",
            kept.display()
        )),
        "{msg}"
    );
    assert_eq!(controlgate::error::exit_code_of(&err), ExitCode::Fail);
    assert_eq!(
        std::fs::read(kept.join("report.json")).unwrap(),
        *input.report_json.read().unwrap()
    );
    let manifest = std::fs::read(kept.join("manifest.json")).unwrap();
    assert_eq!(
        controlgate::retain::canonical::sha256_hex(&manifest),
        digest
    );
    assert!(
        fallback
            .join("pending")
            .join(format!("{digest}.json"))
            .exists()
    );
}

#[test]
fn an_input_file_changed_after_hashing_is_refused_with_nothing_linked() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("junit.xml");
    std::fs::write(&report, fixture("junit.xml")).unwrap();
    let mut input = sample_input("acme/app", 1);
    input.inputs = vec![("junit.xml".into(), Blob::file(&report).unwrap())];
    // Same size, other bytes: only the hash taken while streaming can tell.
    let mut changed = fixture("junit.xml");
    changed[0] ^= 0x20;
    std::fs::write(&report, &changed).unwrap();

    let store = DirStore::new(tmp.path().join("store"));
    let opts = WriteOptions {
        fallback_dir: tmp.path().join("fallback"),
        now: None,
    };
    let err = write_evidence_with(&store, &input, &opts).unwrap_err();
    assert_eq!(
        controlgate::error::exit_code_of(&err),
        ExitCode::BadInput,
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("junit.xml") && msg.contains("changed while controlgate was running"),
        "{msg}"
    );
    let digest = controlgate::retain::build_bundle(&input).unwrap().digest;
    let key = format!("bundles/{digest}/inputs/junit.xml");
    assert_eq!(store.get(&key).unwrap(), None);
    assert_eq!(store.list("ledger/").unwrap(), Vec::<String>::new());
    assert_eq!(
        store.list(".tmp/").unwrap(),
        Vec::<String>::new(),
        "temp copy left behind"
    );
    assert!(
        !tmp.path().join("fallback").exists(),
        "no fallback for bad input"
    );
}

#[test]
fn a_bundle_stored_again_is_reused_but_other_content_under_its_key_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStore::new(tmp.path().join("store"));
    let opts = WriteOptions {
        fallback_dir: tmp.path().join("fallback"),
        now: None,
    };
    // The same run retained twice (a re-run job): one bundle, two entries.
    let first = write_evidence_with(&store, &sample_input("acme/app", 1), &opts).unwrap();
    let again = write_evidence_with(&store, &sample_input("acme/app", 1), &opts).unwrap();
    assert_eq!(first.bundle_digest, again.bundle_digest);
    assert_eq!((first.entry_seq, again.entry_seq), (1, 2));

    // Someone planted a file where the next bundle's streamed input goes.
    let input = sample_input("acme/app", 2);
    let digest = controlgate::retain::build_bundle(&input).unwrap().digest;
    let key = format!("bundles/{digest}/inputs/abs/coverage/lcov.info");
    assert_eq!(
        store.put_create(&key, b"DA:1,1\n").unwrap(),
        Created::Created
    );
    let msg = write_evidence_with(&store, &input, &opts)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&format!("{key} exists with other content")),
        "{msg}"
    );
    assert_eq!(store.list("ledger/").unwrap().len(), 2, "no entry for it");
}

#[test]
fn store_config_deserializes_strictly() {
    let dir: StoreConfig = serde_yaml_ng::from_str("type: dir\npath: ev\n").unwrap();
    assert_eq!(dir, StoreConfig::Dir { path: "ev".into() });
    let git: StoreConfig = serde_yaml_ng::from_str("type: git\n").unwrap();
    assert_eq!(
        git,
        StoreConfig::Git {
            remote: "origin".into(),
            branch: "controlgate-evidence".into(),
            workdir: None,
            token_env: "GITHUB_TOKEN".into()
        }
    );
    let s3: StoreConfig =
        serde_yaml_ng::from_str("type: s3\nbucket: b\nallow_http: true\n").unwrap();
    assert!(
        matches!(s3, StoreConfig::S3 { ref bucket, allow_http: true, prefix: None, .. } if bucket == "b")
    );
    let err = serde_yaml_ng::from_str::<StoreConfig>("type: dir\npaht: ev\n").unwrap_err();
    assert!(err.to_string().contains("unknown field `paht`"), "{err}");
    assert!(serde_yaml_ng::from_str::<StoreConfig>("type: ftp\n").is_err());
    assert_eq!(
        StoreConfig::default(),
        StoreConfig::Dir {
            path: ".controlgate/evidence".into()
        }
    );
    let section: controlgate::retain::EvidenceConfig =
        serde_yaml_ng::from_str("store: {type: s3, bucket: b}\nbase_max_distance: 5\n").unwrap();
    assert_eq!(section.base_max_distance, 5);
    assert!(matches!(section.store, StoreConfig::S3 { .. }));
    assert_eq!(
        controlgate::retain::EvidenceConfig::default().base_max_distance,
        50
    );
    assert!(serde_yaml_ng::from_str::<controlgate::retain::EvidenceConfig>("stroe: {}\n").is_err());
}

#[test]
fn base_entry_lookup() {
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStore::new(tmp.path());
    // Runs 10 and 20 are pushes (no PR): main-branch commits with coverage.
    let entries: Vec<_> = [10, 20, 21]
        .iter()
        .map(|&i| {
            write_evidence(&store, &sample_input("acme/app", i))
                .unwrap()
                .entry
        })
        .collect();
    let cands = |shas: &[String]| shas.to_vec();

    // Exact merge-base hit.
    let hit = find_base_entry(&entries, &cands(&[sha(20), sha(10)]), Entry::has_coverage).unwrap();
    assert_eq!(
        (hit.entry.seq, hit.distance, hit.sha.clone()),
        (2, 0, sha(20))
    );
    // Merge-base has no entry: the nearest first-parent ancestor, with its distance.
    let hit = find_base_entry(
        &entries,
        &cands(&[sha(99), sha(98), sha(10)]),
        Entry::has_coverage,
    )
    .unwrap();
    assert_eq!((hit.entry.seq, hit.distance), (1, 2));
    // Nothing within reach.
    assert!(find_base_entry(&entries, &cands(&[sha(99), sha(98)]), Entry::has_coverage).is_none());
    assert!(find_base_entry(&[], &cands(&[sha(10)]), Entry::has_coverage).is_none());
    // An entry without coverage is not a base.
    let mut no_cov = sample_input("acme/app", 30);
    no_cov.coverage = None;
    let e = write_evidence(&store, &no_cov).unwrap().entry;
    assert!(
        find_base_entry(
            std::slice::from_ref(&e),
            &cands(&[sha(30)]),
            Entry::has_coverage
        )
        .is_none()
    );
    // Nor is it an API coverage base: that needs a run that measured API coverage.
    assert!(find_base_entry(&[e], &cands(&[sha(30)]), Entry::has_api_coverage).is_none());
    let mut api = sample_input("acme/app", 31);
    api.coverage = None;
    api.api = Some(controlgate::retain::ApiSummary {
        percent: LedgerPercent::from_f64(42.5),
        delta_pp: None,
    });
    let e = write_evidence(&store, &api).unwrap().entry;
    let hit = find_base_entry(
        std::slice::from_ref(&e),
        &cands(&[sha(31)]),
        Entry::has_api_coverage,
    )
    .unwrap();
    assert_eq!(
        hit.entry.api.as_ref().map(|a| a.percent.as_f64()),
        Some(42.5)
    );
    assert!(find_base_entry(&[e], &cands(&[sha(31)]), Entry::has_coverage).is_none());
}

#[test]
fn lib_entry_points_open_the_configured_store() {
    use controlgate::retain::audit::{AuditFormat, AuditQuery};
    use controlgate::retain::{AuditRequest, OpenContext, VerifyRequest, audit, verify};
    let tmp = tempfile::tempdir().unwrap();
    let (_store, _) = three_runs(&tmp.path().join("ev"));
    let context = OpenContext {
        base_dir: tmp.path().to_path_buf(),
        repository: "acme/app".into(),
        ..OpenContext::default()
    };
    let store = StoreConfig::Dir { path: "ev".into() };
    let out = verify(&VerifyRequest {
        store: store.clone(),
        context: context.clone(),
        options: VerifyOptions::default(),
    })
    .unwrap();
    assert!(out.intact && out.entries == 3);
    let today = chrono::Utc::now().date_naive();
    let request = AuditRequest {
        store,
        context,
        query: AuditQuery {
            from: today,
            to: today,
            control: Some("cc8_1".into()),
            sample: Some((2, 1)),
            population: None,
        },
        format: "csv".parse().unwrap(),
        verify: VerifyOptions::default(),
    };
    let out = audit(&request).unwrap();
    assert_eq!(out.exit_code(), ExitCode::Pass);
    assert_eq!(out.report.runs, 3);
    assert_eq!(out.report.sample.as_ref().unwrap().runs.len(), 2);
    assert!(out.text.contains("\r\nCC8.1,3,3,0,0,"), "{}", out.text);
    assert!("yaml".parse::<AuditFormat>().is_err());
    let backwards = AuditRequest {
        query: AuditQuery {
            from: today,
            to: today.pred_opt().unwrap(),
            control: None,
            sample: None,
            population: None,
        },
        ..request
    };
    assert_eq!(
        controlgate::error::exit_code_of(&audit(&backwards).unwrap_err()),
        ExitCode::BadInput
    );
}

// ---------------------------------------------------------------------------------------------
// What is written verifies (issue 13, defect 4): no float in hashed records.

use controlgate::model::coverage::Percent;
use controlgate::retain::ApiSummary;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any coverage and API ratio, recorded in an entry, verifies intact and reads back as
    /// written (about 8 % of ratios e/d with d ≤ 200 did not survive format 1's floats).
    #[test]
    fn any_ratio_recorded_in_the_ledger_verifies(
        e in 0u64..=200, d in 1u64..=200, c in 0u64..=100_000, m in 1u64..=100_000,
        (bc, bm) in (0u64..=1000, 1u64..=1000),
    ) {
        let e = e.min(d);
        let c = c.min(m);
        let bc = bc.min(bm);
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path());
        let mut input = sample_input("acme/app", 1);
        let api = ApiSummary {
            percent: LedgerPercent(Percent::ratio(e, d).unwrap()),
            delta_pp: Percent::delta(e, d, bc, bm).map(LedgerPercent),
        };
        let coverage = CoverageSummary {
            percent: Percent::ratio(c, m).map(LedgerPercent),
            delta_pp: Percent::delta(c, m, bc, bm).map(LedgerPercent),
            patch_percent: Percent::ratio(bc, bm).map(LedgerPercent),
        };
        input.api = Some(api.clone());
        input.coverage = Some(coverage.clone());
        let written = write_evidence(&store, &input).unwrap();
        let out = verify_store(&store, &VerifyOptions::default()).unwrap();
        prop_assert!(out.intact, "{:?}", out.problem);
        let (_, entries) = controlgate::retain::chained_entries(&store).unwrap();
        prop_assert_eq!(entries[0].api.as_ref(), Some(&api));
        prop_assert_eq!(entries[0].coverage.as_ref(), Some(&coverage));
        prop_assert_eq!(&entries[0].digest, &written.entry_digest);
    }
}

/// Entries of format 1 (written up to 0.1.0) hold floats such as 91.66666666666667 (11 of 12
/// operations); parsed with the default float parser that re-canonicalises as
/// 91.66666666666669 and the intact entry looked edited. They verify, and read as hundredths.
#[test]
fn format_1_entries_with_floats_still_verify() {
    use controlgate::retain::canonical::{legacy_value_to_canonical, sha256_hex};
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path());
    let mut prev = controlgate::retain::GENESIS.to_string();
    let floats = [
        (11.0 * 100.0 / 12.0, 80.1_f64),
        (100.0 / 3.0, 66.67),
        (200.0 / 7.0, -0.05),
        (91.66666666666667, 0.1 + 0.2),
    ];
    for (i, (api, cov)) in floats.iter().enumerate() {
        let seq = i as u64 + 1;
        let sealed = Entry {
            format: "controlgate-ledger/2".into(),
            seq,
            time: "2026-01-01T00:00:00Z".into(),
            repository: "acme/app".into(),
            run: RunIdentity::default(),
            bundle: "b".repeat(64),
            verdict: "pass".into(),
            controls: vec![],
            coverage: None,
            api: None,
            tickets: vec![],
            tests: None,
            prev: prev.clone(),
            digest: String::new(),
        };
        // The bytes 0.1.0 wrote: format 1, floats, digest over the canonical form.
        let mut v = serde_json::to_value(&sealed).unwrap();
        v["format"] = "controlgate-ledger/1".into();
        v["api"] = serde_json::json!({"percent": api, "delta_pp": api - 50.0});
        v["coverage"] = serde_json::json!({"percent": cov, "delta_pp": null, "patch_percent": cov});
        v.as_object_mut().unwrap().remove("digest");
        let digest = sha256_hex(&legacy_value_to_canonical(&v));
        v["digest"] = digest.clone().into();
        let mut bytes = legacy_value_to_canonical(&v);
        bytes.push(b'\n');
        assert!(
            String::from_utf8_lossy(&bytes).contains(&format!("{api}")),
            "the float is written as is"
        );
        assert_eq!(
            store
                .put_create(&format!("ledger/{seq:010}.json"), &bytes)
                .unwrap(),
            Created::Created
        );
        prev = digest;
    }
    let options = VerifyOptions {
        bundles: false,
        ..VerifyOptions::default()
    };
    let out = verify_store(&store, &options).unwrap();
    assert!(out.intact, "{:?}", out.problem);
    assert_eq!(out.entries, 4);
    let (_, entries) = controlgate::retain::chained_entries(&store).unwrap();
    assert_eq!(
        entries[0].api.as_ref().map(|a| a.percent.to_string()),
        Some("91.67".into())
    );
    // A new entry chains onto them in format 3.
    let written = write_evidence(&store, &sample_input("acme/app", 5)).unwrap();
    assert_eq!(written.entry.format, "controlgate-ledger/3");
    assert!(verify_store(&store, &options).unwrap().intact);
}

/// A writer re-chains its entry unchanged when another took its place, so an entry may be a
/// little older than the one before it; more than an hour older is time going backwards.
#[test]
fn entry_time_may_not_go_backwards_beyond_the_skew() {
    use chrono::TimeZone;
    let at = |h: i64, m: i64| {
        chrono::Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
            + chrono::Duration::hours(h)
            + chrono::Duration::minutes(m)
    };
    let write = |store: &DirStore, i: u64, now| {
        let options = WriteOptions {
            now: Some(now),
            ..WriteOptions::default()
        };
        write_evidence_with(store, &sample_input("acme/app", i), &options).unwrap();
    };
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path());
    write(&store, 1, at(10, 0));
    write(&store, 2, at(9, 5)); // 55 minutes older: a re-chained entry
    write(&store, 3, at(12, 0));
    assert!(
        verify_store(&store, &VerifyOptions::default())
            .unwrap()
            .intact
    );

    // 90 minutes before entry 3 (this runner's clock behind the last writer's): refused
    // before anything is appended, since the entry would not verify; the ledger stays intact.
    let options = WriteOptions {
        now: Some(at(10, 30)),
        ..WriteOptions::default()
    };
    let e = write_evidence_with(&store, &sample_input("acme/app", 4), &options).unwrap_err();
    assert!(e.to_string().contains("Check this runner's clock"), "{e}");
    assert!(!entry_path(dir.path(), 4).exists());
    let out = verify_store(&store, &VerifyOptions::default()).unwrap();
    assert!(out.intact && out.entries == 3, "{out:?}");

    // Written so anyway (by hand: a rewrite, or another writer), verify finds it.
    let third: Entry =
        serde_json::from_slice(&std::fs::read(entry_path(dir.path(), 3)).unwrap()).unwrap();
    let mut fourth = third.clone();
    (fourth.seq, fourth.prev) = (4, third.digest.clone());
    fourth.time = "2026-03-01T10:30:00Z".into();
    std::fs::write(entry_path(dir.path(), 4), fourth.seal().to_bytes()).unwrap();
    let out = verify_store(&store, &VerifyOptions::default()).unwrap();
    let p = out.problem.unwrap();
    assert_eq!((p.seq, p.kind), (4, ProblemKind::TimeReversed));
    assert!(p.message.contains("time goes backwards"), "{}", p.message);
}

/// A write that was stored though its answer was lost (a retried request, a dropped
/// connection) is tried again at the same place: finding its own entry there, the append
/// returns it rather than recording the run a second time after it.
#[test]
fn an_entry_found_already_written_is_not_appended_twice() {
    use chrono::TimeZone;
    let dir = tempfile::tempdir().unwrap();
    let (_store, written) = three_runs(dir.path());
    let options = WriteOptions {
        now: Some(chrono::Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()),
        ..WriteOptions::default()
    };
    let first = write_evidence_with(
        &DirStore::new(dir.path()),
        &sample_input("acme/app", 4),
        &options,
    )
    .unwrap();
    assert_eq!(first.entry_seq, 4);
    // The same run again, by a writer that still knows entry 3 as the tip.
    let retry = DirStore::new(dir.path());
    retry.set_tip_hint(Tip {
        seq: 3,
        digest: written[2].entry_digest.clone(),
        of: None,
    });
    let again = write_evidence_with(&retry, &sample_input("acme/app", 4), &options).unwrap();
    assert_eq!(
        (again.entry_seq, &again.entry_digest),
        (4, &first.entry_digest)
    );
    assert!(
        !entry_path(dir.path(), 5).exists(),
        "the run was recorded twice"
    );
    // Another run meeting a taken place chains after it, as before.
    let other = DirStore::new(dir.path());
    other.set_tip_hint(Tip {
        seq: 3,
        digest: written[2].entry_digest.clone(),
        of: None,
    });
    assert_eq!(
        write_evidence_with(&other, &sample_input("acme/app", 5), &options)
            .unwrap()
            .entry_seq,
        5
    );
    let out = verify_store(&retry, &VerifyOptions::default()).unwrap();
    assert!(out.intact && out.entries == 5, "{out:?}");
}

/// A link (to `/dev/zero`: it never ends) or a pipe (it blocks) put in a bundle file's place is
/// named as an edit of the bundle, not followed: verify answers (tampered, exit 1) and reads
/// nothing through it.
#[test]
fn a_link_or_pipe_in_place_of_a_bundle_file_is_named_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, written) = three_runs(dir.path());
    let report = dir
        .path()
        .join(format!("bundles/{}/report.json", written[1].bundle_digest));
    for make in ["link", "pipe"] {
        std::fs::remove_file(&report).unwrap();
        if make == "link" {
            std::os::unix::fs::symlink("/dev/zero", &report).unwrap();
        } else {
            let made = std::process::Command::new("mkfifo")
                .arg(&report)
                .status()
                .unwrap();
            assert!(made.success());
        }
        let root = dir.path().to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(verify_store(
                &DirStore::new(&root),
                &VerifyOptions::default(),
            ));
        });
        let out = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("verify hangs on a {make} in the store"))
            .unwrap();
        assert_eq!(out.exit_code(), ExitCode::Fail, "{make}: {out:?}");
        let p = out.problem.unwrap();
        assert_eq!((p.kind, p.seq), (ProblemKind::BundleEdited, 2), "{make}");
        assert!(
            p.message.contains("report.json is not a regular file"),
            "{make}: {}",
            p.message
        );
    }
}

/// An entry sealed with a bundle that is not a digest (`..`: a place in the store, not a
/// bundle) is tampering, named at that entry, not a store that cannot be read.
#[test]
fn an_entry_whose_bundle_is_not_a_digest_is_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = three_runs(dir.path());
    let path = entry_path(dir.path(), 3);
    let mut third: Entry = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    third.bundle = "..".into();
    std::fs::write(&path, third.seal().to_bytes()).unwrap();
    let (kind, seq, message) = problem(&store);
    assert_eq!((kind, seq), (ProblemKind::EntryUnreadable, 3), "{message}");
    assert!(message.contains("is not a SHA-256 digest"), "{message}");
}

/// A store holding another repository's ledger refuses this run's entry before writing it:
/// verify would read it as a foreign entry inserted, for good.
#[test]
fn an_entry_of_another_repository_is_refused_before_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = three_runs(dir.path());
    let e = write_evidence(&store, &sample_input("acme/other", 4)).unwrap_err();
    assert!(
        e.to_string().contains(
            "the ledger's last entry (3) is of repository \"acme/app\", this run's is \"acme/other\""
        ),
        "{e}"
    );
    assert!(!entry_path(dir.path(), 4).exists());
    let out = verify_store(&store, &VerifyOptions::default()).unwrap();
    assert!(out.intact && out.entries == 3, "{out:?}");
    // A local run (no repository) says so, and where to keep it instead.
    let e = write_evidence(&store, &sample_input("", 4)).unwrap_err();
    assert!(
        e.to_string().contains(
            "This run names no repository (a `controlgate report` outside GitHub Actions)"
        ),
        "{e}"
    );
    // A ledger started by a local run: not "give each repository a store", which it has.
    let local = tempfile::tempdir().unwrap();
    let store = DirStore::new(local.path());
    write_evidence(&store, &sample_input("", 1)).unwrap();
    let e = write_evidence(&store, &sample_input("acme/app", 2)).unwrap_err();
    assert!(
        e.to_string()
            .contains("That entry was written by a run that names no repository"),
        "{e}"
    );
}

/// Entries of format 2 (written before RFC 8785) keep verifying in their own canonical form,
/// and a format-3 entry chains onto them.
#[test]
fn format_2_entries_still_verify_and_format_3_chains_onto_them() {
    use controlgate::retain::canonical::{legacy_value_to_canonical, sha256_hex};
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path());
    let mut prev = controlgate::retain::GENESIS.to_string();
    for seq in 1..=3u64 {
        let mut v = serde_json::to_value(Entry {
            format: "controlgate-ledger/2".into(),
            seq,
            time: format!("2026-01-0{seq}T00:00:00Z"),
            repository: "acme/app".into(),
            run: RunIdentity::default(),
            bundle: "b".repeat(64),
            verdict: "pass".into(),
            controls: vec![],
            coverage: None,
            api: None,
            tickets: vec!["PROJ-\u{1f600}".into()],
            tests: None,
            prev: prev.clone(),
            digest: String::new(),
        })
        .unwrap();
        v.as_object_mut().unwrap().remove("digest");
        let digest = sha256_hex(&legacy_value_to_canonical(&v));
        v["digest"] = digest.clone().into();
        let mut bytes = legacy_value_to_canonical(&v);
        bytes.push(b'\n');
        store
            .put_create(&format!("ledger/{seq:010}.json"), &bytes)
            .unwrap();
        prev = digest;
    }
    let chain_only = VerifyOptions {
        bundles: false,
        ..VerifyOptions::default()
    };
    assert!(verify_store(&store, &chain_only).unwrap().intact);
    let written = write_evidence(&store, &sample_input("acme/app", 4)).unwrap();
    assert_eq!(written.entry.format, "controlgate-ledger/3");
    assert_eq!(written.entry.prev, prev);
    let out = verify_store(&store, &chain_only).unwrap();
    assert!(out.intact, "{:?}", out.problem);
    assert_eq!(out.entries, 4);
}

/// Files in `ledger/` under names the writer never gives: each is a stray file (tampered,
/// named), never an entry that shares its seq with the real one. Before, `1.json` and
/// `00000000002.json` were read as entries 1 and 2 a second time, and the seq arithmetic
/// between the two copies underflowed (a panic, exit 101).
#[test]
fn ledger_files_not_named_as_the_writer_names_them_are_stray_files() {
    for (name, copy_of) in [
        ("1.json", 1),
        ("00000000002.json", 2),
        ("0000000000.json", 1),
        ("03.json", 3),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let (store, _) = three_runs(tmp.path());
        std::fs::copy(
            entry_path(tmp.path(), copy_of),
            tmp.path().join("ledger").join(name),
        )
        .unwrap();
        let (kind, seq, msg) = problem(&store);
        assert_eq!((kind, seq), (ProblemKind::Foreign, 0), "{name}: {msg}");
        assert!(
            msg.ends_with(&format!(
                "ledger/{name} is not a ledger entry name (foreign file in the ledger)"
            )),
            "{name}: {msg}"
        );
        // A PR run's walk back from the tip says the same, without reading a wrong entry.
        let mut walk = controlgate::retain::LedgerWalk::open(&store)
            .unwrap()
            .unwrap();
        let found = walk.find_base(&store, &[sha(1)], |_| true).unwrap();
        let outcome = found.expect_err("a stray file is not intact");
        assert_eq!(
            outcome.problem.map(|p| p.kind),
            Some(ProblemKind::Foreign),
            "{name}"
        );
    }
}

/// A directory where the last entry was, or an empty one anywhere in the store: no writer
/// leaves one. The last entry's place taken by a directory read as a ledger of two, intact.
#[test]
fn an_empty_directory_in_the_store_is_named_not_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _) = three_runs(tmp.path());
    let last = entry_path(tmp.path(), 3);
    std::fs::remove_file(&last).unwrap();
    std::fs::create_dir(&last).unwrap();
    let (kind, _, msg) = problem(&store);
    assert_eq!(kind, ProblemKind::Foreign, "{msg}");
    assert!(msg.contains("ledger/0000000003.json/"), "{msg}");
    std::fs::remove_dir(&last).unwrap();
    let junk = tmp.path().join("ledger/junk");
    std::fs::create_dir(&junk).unwrap();
    let (kind, _, msg) = problem(&store);
    assert_eq!(kind, ProblemKind::Foreign, "{msg}");
    assert!(msg.contains("ledger/junk/"), "{msg}");
}

/// An entry named for the last u64 seq: what follows it and what is missing before it are
/// counted without wrapping (before: `file_seq + 1` overflowed, a panic in `verify`).
#[test]
fn an_entry_named_for_the_largest_seq_is_reported_not_overflowed() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _) = three_runs(tmp.path());
    let last = tmp.path().join(format!("ledger/{}.json", u64::MAX));
    std::fs::write(&last, "x\n").unwrap();
    let (kind, seq, msg) = problem(&store);
    assert_eq!(
        (kind, seq),
        (ProblemKind::EntryUnreadable, u64::MAX),
        "{msg}"
    );
    assert!(msg.starts_with(&format!("entry {} (", u64::MAX)), "{msg}");
    // A readable entry there is counted as the gap it leaves, again without wrapping.
    std::fs::copy(entry_path(tmp.path(), 3), &last).unwrap();
    let (kind, _, msg) = problem(&store);
    assert_eq!(kind, ProblemKind::Reordered, "{msg}");
    // Nothing can be appended after it: a writer reading the tip refuses (no wrapped seq), and
    // the run's bundle is kept in the fallback directory. (A fresh store: `store` remembers
    // the tip it appended.)
    let opts = WriteOptions {
        fallback_dir: tmp.path().join("fallback"),
        now: None,
    };
    let writer = DirStore::new(tmp.path());
    let err = write_evidence_with(&writer, &sample_input("acme/app", 4), &opts).unwrap_err();
    assert!(
        err.to_string().contains("beyond the last entry number"),
        "{err}"
    );
    assert_eq!(
        controlgate::error::exit_code_of(&err),
        ExitCode::Fail,
        "{err}"
    );
    // The walk of a PR run reads it without overflowing either.
    let mut walk = controlgate::retain::LedgerWalk::open(&store)
        .unwrap()
        .unwrap();
    assert!(
        walk.find_base(&store, &[sha(1)], |_| true)
            .unwrap()
            .is_err()
    );
}
