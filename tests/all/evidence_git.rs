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

/// Objects in the store's repository at `dir`, by type, and the bytes of the packs fetched
/// into it (packs from the promisor remote; what the store writes itself is loose).
fn objects(dir: &Path) -> (std::collections::BTreeMap<String, usize>, u64) {
    let listing = git(
        dir,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objecttype)",
        ],
    );
    let mut by_type = std::collections::BTreeMap::new();
    for kind in listing.lines() {
        *by_type.entry(kind.to_string()).or_insert(0) += 1;
    }
    let mut fetched = 0;
    for item in std::fs::read_dir(dir.join(".git/objects/pack")).unwrap() {
        let path = item.unwrap().path();
        if path.extension().is_some_and(|e| e == "pack") && path.with_extension("promisor").exists()
        {
            fetched += std::fs::metadata(&path).unwrap().len();
        }
    }
    (by_type, fetched)
}

/// Incompressible bytes, different for every `i`.
fn noise(i: u64, len: usize) -> Vec<u8> {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

const BIG: usize = 64 * 1024;

/// Run `i` of `sample_input`, with one more input of 64 KiB of noise.
fn big_input(i: u64) -> controlgate::retain::BundleInput {
    let mut input = sample_input("acme/app", i);
    input
        .inputs
        .push(("target/big.bin".to_string(), noise(i, BIG).into()));
    input
}

/// A bare remote whose `controlgate-evidence` branch holds `n` runs of [`big_input`] (written
/// into a `dir` store and committed at once).
fn long_ledger(tmp: &Path, n: u64) -> String {
    let generated = tmp.join("gen");
    {
        let store = controlgate::retain::DirStore::new(&generated).without_fsync();
        for i in 1..=n {
            write_evidence(&store, &big_input(i)).unwrap();
        }
    }
    git(&generated, &["init", "-q", "-b", "controlgate-evidence"]);
    git(&generated, &["add", "bundles", "ledger"]);
    git(
        &generated,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "generated",
        ],
    );
    let remote = tmp.join("remote.git");
    std::fs::create_dir(&remote).unwrap();
    git(&remote, &["init", "-q", "--bare"]);
    git(
        &generated,
        &[
            "push",
            "-q",
            &remote.to_string_lossy(),
            "controlgate-evidence",
        ],
    );
    remote.to_string_lossy().into_owned()
}

/// The acceptance: an append to a long ledger fetches the tip's top trees and entry,
/// never the old bundles, and checks nothing out.
#[test]
fn an_append_to_a_long_ledger_fetches_no_old_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 120;
    let remote = long_ledger(tmp.path(), n);
    let work = tmp.path().join("writer");
    let store = GitStore::open(
        &remote,
        "controlgate-evidence",
        Some(work.clone()),
        None,
        tmp.path(),
    )
    .unwrap();
    let w = write_evidence(&store, &big_input(n + 1)).unwrap();
    assert_eq!(w.entry_seq, n + 1);

    let (by_type, fetched) = objects(&work);
    // Blobs: the new bundle's 6 files and its entry, and the tip entry it chains to.
    assert_eq!(by_type.get("blob"), Some(&8), "{by_type:?}");
    // Trees: the tip's root, bundles/ and ledger/, and the new ones (root, bundles/, ledger/,
    // the bundle's directory and its inputs/ subdirectories).
    assert!(by_type.get("tree").is_some_and(|&t| t <= 12), "{by_type:?}");
    assert_eq!(by_type.get("commit"), Some(&2), "{by_type:?}");
    // Less than one old bundle's worth of bytes (each holds 64 KiB of noise).
    assert!(fetched < BIG as u64 / 2, "fetched {fetched} bytes");
    // Nothing checked out.
    let names: Vec<String> = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec![".git".to_string()]);

    // The chain and every bundle verify from a fresh clone.
    let reader = GitStore::open(&remote, "controlgate-evidence", None, None, tmp.path()).unwrap();
    let out = verify_store(&reader, &VerifyOptions::default()).unwrap();
    assert!(out.intact, "{:?}", out.problem);
    assert_eq!((out.entries, out.bundles_checked), (n + 1, n + 1));
    assert_eq!(out.tip_digest.as_deref(), Some(w.entry_digest.as_str()));
}

/// A PR run's base lookup reads the ledger back from the tip to its base entry and that
/// entry's bundle files only.
#[test]
fn a_base_lookup_reads_back_to_the_base_and_no_further() {
    use controlgate::retain::verify::{BundleFiles, verified_files};
    use controlgate::retain::{Entry, LedgerWalk};
    let tmp = tempfile::tempdir().unwrap();
    let n = 120;
    let remote = long_ledger(tmp.path(), n);
    let work = tmp.path().join("reader");
    let store = GitStore::open(
        &remote,
        "controlgate-evidence",
        Some(work.clone()),
        None,
        tmp.path(),
    )
    .unwrap();
    store.refresh_tip().unwrap();
    let mut walk = LedgerWalk::open(&store).unwrap().unwrap();
    // Run 110 is the last push run (not a PR run) before the tip: the merge-base's entry.
    let candidates = vec![crate::evidence::sha(110), crate::evidence::sha(100)];
    let base = walk
        .find_base(&store, &candidates, Entry::has_coverage)
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((base.entry.seq, base.distance), (110, 0));
    // Read back to entry 110 (in batches of 1, 8, 16: the tip and 24 more), not to entry 1.
    let read = walk.entries().len();
    assert!((11..=25).contains(&read), "{read} entries read");
    let files = match verified_files(
        &store,
        &base.entry.bundle,
        &["inputs/abs/coverage/lcov.info".to_string()],
    )
    .unwrap()
    {
        BundleFiles::Verified(f) => f,
        BundleFiles::Failed(why) => panic!("{why}"),
    };
    assert_eq!(files.len(), 1);
    let (by_type, fetched) = objects(&work);
    // The entries read, the base's manifest and its coverage report.
    assert_eq!(by_type.get("blob"), Some(&(read + 2)), "{by_type:?}");
    assert!(fetched < BIG as u64 / 2, "fetched {fetched} bytes");

    // An ancestor's entry is final only once the walk has reached the start.
    let mut walk = LedgerWalk::open(&store).unwrap().unwrap();
    let far = vec![crate::evidence::sha(9999), crate::evidence::sha(50)];
    let base = walk
        .find_base(&store, &far, Entry::has_coverage)
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((base.entry.seq, base.distance), (50, 1));
    assert_eq!(walk.entries().len() as u64, n);
}

/// An edited entry between the tip and the base makes the lookup "not intact", never "no base".
#[test]
fn a_base_lookup_reports_a_broken_link_on_its_way() {
    use controlgate::retain::{DirStore, Entry, LedgerWalk, ProblemKind};
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStore::new(tmp.path()).without_fsync();
    for i in 1..=30 {
        write_evidence(&store, &sample_input("acme/app", i)).unwrap();
    }
    let key = tmp.path().join("ledger/0000000025.json");
    let text = std::fs::read_to_string(&key)
        .unwrap()
        .replace("\"pass\"", "\"fail\"");
    std::fs::write(&key, text).unwrap();
    // The base (run 30, the tip) is before the edit: found, and nothing further read.
    let mut walk = LedgerWalk::open(&store).unwrap().unwrap();
    let base = walk
        .find_base(&store, &[crate::evidence::sha(30)], Entry::has_coverage)
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(base.entry.seq, 30);
    // The base (run 20) is behind the edit: not intact.
    let mut walk = LedgerWalk::open(&store).unwrap().unwrap();
    let outcome = walk
        .find_base(&store, &[crate::evidence::sha(20)], Entry::has_coverage)
        .unwrap()
        .unwrap_err();
    let problem = outcome.problem.clone().unwrap();
    assert_eq!((problem.seq, problem.kind), (25, ProblemKind::EntryEdited));
    assert!(outcome.summary().starts_with("evidence TAMPERED at "));
    // A deleted entry: the same message as `verify`'s.
    std::fs::remove_file(tmp.path().join("ledger/0000000022.json")).unwrap();
    std::fs::remove_file(&key).unwrap();
    let mut walk = LedgerWalk::open(&store).unwrap().unwrap();
    let outcome = walk
        .find_base(&store, &[crate::evidence::sha(20)], Entry::has_coverage)
        .unwrap()
        .unwrap_err();
    assert_eq!(
        outcome.problem.unwrap().message,
        "entry 25 is missing: entry 26 follows entry 24"
    );
}

/// A PR run through the binary takes its base coverage from a `git` store.
#[test]
fn a_pr_run_takes_its_base_from_a_git_store() {
    use crate::evidence_cli::{commit, json, repo};
    let dir = repo();
    let r = dir.path();
    let remote = git_store_config(r);
    let report = |r: &Path| {
        crate::cli::run_in(
            r,
            &[
                "report",
                "--junit",
                "junit.xml",
                "--coverage",
                "lcov.info",
                "--base",
                "main",
                "--config",
                "c.yml",
                "--format",
                "json",
            ],
        )
    };
    commit(r, 10, 8, "base"); // 80 % on main
    let o = report(r);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    git(r, &["checkout", "-qb", "feature"]);
    commit(r, 12, 12, "feature"); // 100 % on the branch
    let j = json(&report(r));
    assert_eq!(j["coverage"]["base"]["percent"], 80.0, "{}", j["coverage"]);
    let notes = j["coverage"]["notes"].to_string();
    assert!(
        notes.contains("base coverage from ledger entry #1") && notes.contains("the merge-base"),
        "{notes}"
    );
    // Both runs are in the store.
    let reader = GitStore::open(
        &remote.to_string_lossy(),
        "controlgate-evidence",
        None,
        None,
        r,
    )
    .unwrap();
    let out = verify_store(&reader, &VerifyOptions::default()).unwrap();
    assert!(out.intact && out.entries == 2, "{out:?}");
}

/// `verify` hashes the files of a checkout of the evidence branch: the auditor's own git
/// settings (a `* text eol=crlf` in `~/.config/git/attributes`, `core.autocrlf`) and a
/// `.gitattributes` pushed to the branch change nothing it reads.
#[test]
fn an_auditors_git_attributes_do_not_change_what_verify_reads() {
    use crate::evidence_cli::{commit, repo};
    let dir = repo();
    let r = dir.path();
    let remote = git_store_config(r);
    commit(r, 10, 8, "base");
    for _ in 0..2 {
        let o = crate::cli::run_in(r, &["report", "--junit", "junit.xml", "--config", "c.yml"]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // A `.gitattributes` pushed to the evidence branch by someone with write access.
    let side = tempfile::tempdir().unwrap();
    let side = side.path().join("side");
    git(
        r,
        &[
            "clone",
            "-q",
            "--branch",
            "controlgate-evidence",
            &remote.to_string_lossy(),
            &side.to_string_lossy(),
        ],
    );
    std::fs::write(side.join(".gitattributes"), "* text eol=crlf\n").unwrap();
    git(&side, &["add", ".gitattributes"]);
    git(&side, &["commit", "-qm", "attributes"]);
    git(&side, &["push", "-q", "origin", "controlgate-evidence"]);
    let xdg = tempfile::tempdir().unwrap();
    let xdg = xdg.path();
    std::fs::create_dir_all(xdg.join("git")).unwrap();
    std::fs::write(xdg.join("git/attributes"), "* text eol=crlf\n").unwrap();
    std::fs::write(
        xdg.join("git/config"),
        "[core]\n\tautocrlf = true\n\teol = crlf\n",
    )
    .unwrap();
    let o = crate::cli::bin()
        .current_dir(r)
        .env("XDG_CONFIG_HOME", xdg)
        .args(["verify", "--config", "c.yml"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("intact"), "{text}");
}

/// A bare remote `remote.git` in the repository `r` and `c.yml` naming it as the git
/// evidence store (both ignored by the repository's own git).
fn git_store_config(r: &Path) -> std::path::PathBuf {
    let remote = r.join("remote.git");
    std::fs::create_dir(&remote).unwrap();
    git(&remote, &["init", "-q", "--bare"]);
    std::fs::write(r.join(".gitignore"), "remote.git/\nc.yml\n.controlgate/\n").unwrap();
    std::fs::write(
        r.join("c.yml"),
        format!(
            "evidence:\n  store: {{type: git, remote: '{}'}}\n",
            remote.display()
        ),
    )
    .unwrap();
    remote
}
