//! The `git` evidence store against a real bare repository: 20 concurrent writers.

use std::path::Path;
use std::process::Command;

use controlgate::retain::git_store::GitStore;
use controlgate::retain::{EvidenceStore, VerifyOptions, verify_store, write_evidence};

use crate::evidence::sample_input;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn twenty_concurrent_writers_lose_no_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote.git");
    std::fs::create_dir(&remote).unwrap();
    git(&remote, &["init", "-q", "--bare"]);
    let remote_s = remote.to_string_lossy().into_owned();

    let handles: Vec<_> = (0..20u64)
        .map(|i| {
            let remote_s = remote_s.clone();
            let work = tmp.path().join(format!("writer{i}"));
            std::thread::spawn(move || {
                let store = GitStore::open(
                    &remote_s,
                    "controlgate-evidence",
                    Some(work.clone()),
                    None,
                    &work,
                )
                .unwrap();
                write_evidence(&store, &sample_input("acme/app", i + 1)).unwrap()
            })
        })
        .collect();
    let mut seqs: Vec<u64> = handles
        .into_iter()
        .map(|h| h.join().unwrap().entry_seq)
        .collect();
    seqs.sort();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());

    // A fresh reader sees 20 entries, chain and bundles intact.
    let reader = GitStore::open(&remote_s, "controlgate-evidence", None, None, tmp.path()).unwrap();
    let out = verify_store(&reader, &VerifyOptions::default()).unwrap();
    assert!(out.intact, "{:?}", out.problem);
    assert_eq!((out.entries, out.bundles_checked), (20, 20));
    assert_eq!(reader.list("ledger/").unwrap().len(), 20);
    assert!(
        reader
            .location("ledger/")
            .ends_with("#controlgate-evidence:ledger/")
    );

    // One linear, orphan history: 20 commits, one root, no merges.
    let log = git(&remote, &["rev-list", "--parents", "controlgate-evidence"]);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 20);
    assert_eq!(
        lines.iter().filter(|l| l.split(' ').count() == 1).count(),
        1
    );
    assert!(lines.iter().all(|l| l.split(' ').count() <= 2));
}

#[test]
fn missing_branch_is_unusable_input_and_tokens_stay_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote.git");
    std::fs::create_dir(&remote).unwrap();
    git(&remote, &["init", "-q", "--bare"]);
    let store = GitStore::open(
        &remote.to_string_lossy(),
        "controlgate-evidence",
        None,
        Some("s3cr3t-token".into()),
        tmp.path(),
    )
    .unwrap();
    let err = verify_store(&store, &VerifyOptions::default()).unwrap_err();
    assert_eq!(
        controlgate::error::exit_code_of(&err),
        controlgate::ExitCode::BadInput
    );
    // No branch yet: an empty ledger, nothing to verify (exit 2), not tampering.
    assert!(
        err.to_string().starts_with("no evidence ledger at")
            && err.to_string().contains("controlgate-evidence"),
        "{err}"
    );
    assert!(!format!("{store:?}").contains("s3cr3t"));

    let bad = GitStore::open(
        "https://user:s3cr3t@127.0.0.1:9/x.git",
        "controlgate-evidence",
        None,
        None,
        tmp.path(),
    )
    .unwrap();
    let opts = controlgate::retain::WriteOptions {
        fallback_dir: tmp.path().join("fallback"),
        now: None,
    };
    let err = controlgate::retain::write_evidence_with(&bad, &sample_input("acme/app", 1), &opts)
        .unwrap_err()
        .to_string();
    assert!(!err.contains("s3cr3t"), "{err}");
    assert!(err.contains("was kept locally at"), "{err}");
    assert!(err.contains("***@127.0.0.1"), "{err}");
}

#[test]
fn configured_git_store_resolves_a_remote_name() {
    use controlgate::retain::{OpenContext, StoreConfig, VerifyRequest, verify};
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote.git");
    std::fs::create_dir(&remote).unwrap();
    git(&remote, &["init", "-q", "--bare"]);
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    git(
        &repo,
        &["remote", "add", "evidence", &remote.to_string_lossy()],
    );
    let config: StoreConfig = serde_yaml_ng::from_str("type: git\nremote: evidence\n").unwrap();
    let context = OpenContext {
        base_dir: repo.clone(),
        repository: "acme/app".into(),
        ..OpenContext::default()
    };
    let store = controlgate::retain::open_store(&config, &context).unwrap();
    let w = write_evidence(store.as_ref(), &sample_input("acme/app", 1)).unwrap();
    let w2 = write_evidence(store.as_ref(), &sample_input("acme/app", 2)).unwrap();
    assert_eq!((w.entry_seq, w2.entry_seq), (1, 2));
    assert_eq!(w2.entry.prev, w.entry_digest);
    let out = verify(&VerifyRequest {
        store: config,
        context,
        options: VerifyOptions::default(),
    })
    .unwrap();
    assert!(out.intact && out.entries == 2, "{:?}", out.problem);
}
