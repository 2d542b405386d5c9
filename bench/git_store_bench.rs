//! The `git` store on a long ledger: the first append (empty remote) against the N-th
//! (N-1 entries on the remote, default 10,000), a PR run's base lookup, and, for comparison, the
//! full fetch of the tip that every append and base lookup did before (and `verify` does). Prints time,
//! objects and bytes fetched into the store's fresh repository for each. Run through
//! `bench/git-store.sh` (release build).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use controlgate::retain::git_store::GitStore;
use controlgate::retain::store::Created;
use controlgate::retain::verify::{BundleFiles, verified_files};
use controlgate::retain::{
    BundleInput, ControlSummary, CoverageSummary, Entry, EvidenceStore, LedgerPercent, LedgerWalk,
    RunIdentity, Tip, WriteOptions, write_evidence_with,
};

const BRANCH: &str = "controlgate-evidence";

fn head_sha(i: u64) -> String {
    format!("{:040x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Incompressible bytes, different for every `i`.
fn noise(i: u64, len: usize) -> Vec<u8> {
    let mut x = i.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A store in memory: the generated ledger goes from here into one `git fast-import`.
#[derive(Default)]
struct MemStore(Mutex<BTreeMap<String, Vec<u8>>>, Mutex<Option<Tip>>);

impl EvidenceStore for MemStore {
    fn location(&self, key: &str) -> String {
        format!("mem:{key}")
    }
    fn put_create(&self, key: &str, bytes: &[u8]) -> controlgate::retain::Result<Created> {
        let mut map = self.0.lock().expect("lock");
        if map.contains_key(key) {
            return Ok(Created::AlreadyExists);
        }
        map.insert(key.to_string(), bytes.to_vec());
        Ok(Created::Created)
    }
    fn get(&self, key: &str) -> controlgate::retain::Result<Option<Vec<u8>>> {
        Ok(self.0.lock().expect("lock").get(key).cloned())
    }
    fn list(&self, prefix: &str) -> controlgate::retain::Result<Vec<String>> {
        let map = self.0.lock().expect("lock");
        Ok(map
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
    fn tip_hint(&self) -> Option<Tip> {
        self.1.lock().expect("lock").clone()
    }
    fn set_tip_hint(&self, tip: Tip) {
        *self.1.lock().expect("lock") = Some(tip);
    }
}

/// Run `i`: a PR run but every tenth (a push run on main); 6 files, ≈ 7 KiB.
fn input(i: u64) -> BundleInput {
    let pr = (i % 10 != 0).then_some(i / 3 + 1);
    BundleInput {
        report_json: format!(
            "{{\"schema\":1,\"run\":{i},\"tests\":[{}]}}",
            "1,".repeat(200) + "1"
        )
        .into_bytes()
        .into(),
        summary_md: format!("## controlgate\nrun {i}\n"),
        redacted: Default::default(),
        inputs: vec![
            (
                "target/junit.xml".into(),
                "<testsuite>".repeat(100).into_bytes().into(),
            ),
            (
                "coverage/lcov.info".into(),
                "DA:1,1\n".repeat(200).into_bytes().into(),
            ),
            ("target/trace.bin".into(), noise(i, 4 * 1024).into()),
        ],
        identity: RunIdentity {
            repository: Some("acme/app".into()),
            head_sha: Some(head_sha(i)),
            pr_number: pr,
            ..RunIdentity::new()
        },
        verdict: "pass".into(),
        controls: vec![ControlSummary {
            id: "CC8.1".into(),
            status: "pass".into(),
            tests: 4,
        }],
        coverage: Some(CoverageSummary {
            percent: Some(LedgerPercent::from_f64(81.5)),
            delta_pp: Some(LedgerPercent::from_f64(-0.25)),
            patch_percent: Some(LedgerPercent::from_f64(90.0)),
        }),
        api: None,
        tickets: Vec::new(),
        tests: None,
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn bare(path: &Path) -> String {
    std::fs::create_dir_all(path).expect("mkdir");
    git(path, &["init", "-q", "--bare"]);
    path.to_string_lossy().into_owned()
}

/// Objects and bytes of the packs fetched into the repository at `dir` (promisor packs), and
/// the number of objects the store wrote itself (loose).
fn fetched(dir: &Path) -> (u64, u64, u64) {
    let (mut objects, mut bytes) = (0, 0);
    let pack_dir = dir.join(".git/objects/pack");
    for item in std::fs::read_dir(&pack_dir).expect("pack dir") {
        let path = item.expect("entry").path();
        if path.extension().is_some_and(|e| e == "pack") && path.with_extension("promisor").exists()
        {
            bytes += std::fs::metadata(&path).expect("pack").len();
            // Version 2 index: the last fan-out entry is the object count.
            let idx = std::fs::read(path.with_extension("idx")).expect("idx");
            let at = 8 + 255 * 4;
            objects += u64::from(u32::from_be_bytes(idx[at..at + 4].try_into().expect("idx")));
        }
    }
    let mut loose = 0;
    for item in std::fs::read_dir(dir.join(".git/objects")).expect("objects") {
        let path = item.expect("entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.len() == 2 && path.is_dir() {
            loose += std::fs::read_dir(&path).expect("loose").count() as u64;
        }
    }
    (objects, bytes, loose)
}

fn report(label: &str, secs: f64, work: &Path) {
    let (objects, bytes, loose) = fetched(work);
    println!(
        "{label}: {secs:.3} s, fetched {objects} objects / {:.1} KiB, wrote {loose} objects",
        bytes as f64 / 1024.0
    );
}

fn open(remote: &str, work: &Path) -> GitStore {
    GitStore::open(remote, BRANCH, Some(work.to_path_buf()), None, work).expect("open")
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path();
    let start: DateTime<Utc> = "2025-01-01T00:00:00Z".parse().expect("date");
    let options = |i: u64| WriteOptions {
        fallback_dir: root.join("fallback"),
        now: Some(start + Duration::seconds(3_000 * i as i64)),
    };

    // A ledger of n-1 entries on a bare remote: written into memory, imported as one commit.
    let t = Instant::now();
    let generated = MemStore::default();
    for i in 1..n {
        write_evidence_with(&generated, &input(i), &options(i)).expect("write");
    }
    let long = bare(&root.join("long.git"));
    let mut import = Command::new("git")
        .current_dir(&long)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("fast-import");
    {
        let mut w = std::io::BufWriter::new(import.stdin.take().expect("stdin"));
        let msg = "generated";
        write!(
            w,
            "commit refs/heads/{BRANCH}\ncommitter b <b@b> 1735689600 +0000\ndata {}\n{msg}\n",
            msg.len()
        )
        .expect("write");
        for (key, bytes) in generated.0.lock().expect("lock").iter() {
            write!(w, "M 100644 inline {key}\ndata {}\n", bytes.len()).expect("write");
            w.write_all(bytes).expect("write");
            w.write_all(b"\n").expect("write");
        }
    }
    assert!(import.wait().expect("fast-import").success());
    drop(generated);
    git(Path::new(&long), &["gc", "-q"]);
    println!(
        "setup: {} entries generated and imported in {:.1} s",
        n - 1,
        t.elapsed().as_secs_f64()
    );

    let work = |name: &str| -> PathBuf { root.join("work").join(name) };

    // The first append: an empty remote.
    let empty = bare(&root.join("empty.git"));
    let w = work("first");
    let t = Instant::now();
    let store = open(&empty, &w);
    let written = write_evidence_with(&store, &input(n), &options(n)).expect("append");
    assert_eq!(written.entry_seq, 1);
    report("append #1 (empty ledger)", t.elapsed().as_secs_f64(), &w);

    // The n-th append, three times (each from a fresh store, as a run starts).
    for k in 0..3 {
        let w = work(&format!("nth{k}"));
        let t = Instant::now();
        let store = open(&long, &w);
        let written = write_evidence_with(&store, &input(n + k), &options(n + k)).expect("append");
        assert_eq!(written.entry_seq, n + k);
        report(
            &format!("append #{} ({} entries before it)", n + k, n + k - 1),
            t.elapsed().as_secs_f64(),
            &w,
        );
    }

    // A PR run's base lookup: the merge-base's entry `back` entries before the tip (its last
    // push run; 10 ≈ an hour on a busy repository at 10,000 runs a year, 200 ≈ a week).
    let tip = n + 2;
    for back in [10u64, 200] {
        let target = (tip - back) / 10 * 10;
        let w = work(&format!("base{back}"));
        let t = Instant::now();
        let store = open(&long, &w);
        store.refresh_tip().expect("refresh");
        let mut walk = LedgerWalk::open(&store).expect("list").expect("entries");
        let candidates = vec![head_sha(target), head_sha(target - 1)];
        let base = walk
            .find_base(&store, &candidates, Entry::has_coverage)
            .expect("read")
            .expect("intact")
            .expect("found");
        assert_eq!(base.distance, 0);
        let files = verified_files(
            &store,
            &base.entry.bundle,
            &["report.json".into(), "inputs/coverage/lcov.info".into()],
        )
        .expect("read");
        assert!(matches!(files, BundleFiles::Verified(f) if f.len() == 2));
        report(
            &format!(
                "base lookup, merge-base entry #{} ({} entries read back from the tip #{tip}) + its report and lcov",
                base.entry.seq,
                walk.entries().len()
            ),
            t.elapsed().as_secs_f64(),
            &w,
        );
    }

    // For comparison: the whole tip, as every append and base lookup fetched it before (a
    // `--depth=1` fetch; they then checked it all out). `verify` fetches the same.
    let w = work("full");
    std::fs::create_dir_all(&w).expect("mkdir");
    git(&w, &["init", "-q", "--bare"]);
    let t = Instant::now();
    git(
        &w,
        &[
            "fetch",
            "-q",
            "--depth=1",
            &long,
            &format!("+refs/heads/{BRANCH}:refs/heads/{BRANCH}"),
        ],
    );
    let secs = t.elapsed().as_secs_f64();
    let (mut objects, mut bytes) = (0u64, 0u64);
    for item in std::fs::read_dir(w.join("objects/pack")).expect("pack dir") {
        let path = item.expect("entry").path();
        if path.extension().is_some_and(|e| e == "pack") {
            bytes += std::fs::metadata(&path).expect("pack").len();
            let idx = std::fs::read(path.with_extension("idx")).expect("idx");
            let at = 8 + 255 * 4;
            objects += u64::from(u32::from_be_bytes(idx[at..at + 4].try_into().expect("idx")));
        }
    }
    println!(
        "before: full --depth=1 fetch of the tip (every run, then a checkout of it all): {secs:.3} s, fetched {objects} objects / {:.1} KiB",
        bytes as f64 / 1024.0
    );
}
